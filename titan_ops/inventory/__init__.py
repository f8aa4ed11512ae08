"""Ansible-format inventories: YAML and INI sources, host ranges, group_vars/host_vars, host patterns.

    from titan_ops.inventory import load_inventory
    inventory = load_inventory("inventory/production")
    inventory.list_hosts("web:&prod", limit="web[0:2]")
    inventory.host_vars("web01.example.com")
"""

from titan_ops.inventory.inventory import Inventory, load_inventory

__all__ = ["Inventory", "load_inventory"]
