"""Renderers: event subscribers that print or write results."""
