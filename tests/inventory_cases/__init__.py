"""Fixture inventories for the inventory tests, and the ansible-core oracle they are compared with."""
