"""``titan-ops inventory``: what ansible-inventory shows, plus ``--list-hosts``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from titan_ops.errors import InventoryError

if TYPE_CHECKING:
    from titan_ops.inventory import Inventory

EXIT_ERROR = 5


def register(subparsers: Any) -> None:
    """Add the ``inventory`` subcommand to an argparse subparsers object."""
    parser = subparsers.add_parser(
        "inventory", help="show an inventory as ansible-inventory does",
        description="Show the hosts, groups and variables of an inventory, as ansible-inventory shows them.")
    parser.add_argument("-i", "--inventory", action="append", metavar="SOURCE",
                        help="inventory file, directory or 'host1,host2,' list (repeatable)")
    actions = parser.add_mutually_exclusive_group()
    actions.add_argument("--list", action="store_true", help="every group, host and host variable (JSON)")
    actions.add_argument("--host", metavar="NAME", help="the variables of one host")
    actions.add_argument("--graph", nargs="?", const="all", metavar="GROUP", help="the group tree (from GROUP)")
    actions.add_argument("--list-hosts", action="store_true",
                         help="the names of the hosts --limit selects, one a line, in Ansible's order")
    parser.add_argument("--vars", action="store_true", help="with --graph: show variables too")
    parser.add_argument("-l", "--limit", metavar="PATTERN", help="only hosts matching PATTERN (@file: one a line)")
    parser.add_argument("-y", "--yaml", action="store_true", help="YAML instead of JSON (--list, --host)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the view the options ask for; ``ERROR! ...`` and exit code 5 on a bad inventory or option."""
    from titan_ops.inventory import load_inventory

    try:
        if not (args.list or args.host or args.graph or args.list_hosts):
            raise InventoryError("no action selected: use one of --list, --host, --graph or --list-hosts")
        inventory = load_inventory(args.inventory)
        for warning in inventory.warnings:
            print(f"[WARNING]: {warning}", file=sys.stderr)
        text = _render(inventory, args)
        if text:
            print(text)
    except InventoryError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return EXIT_ERROR
    return 0


def _render(inventory: Inventory, args: argparse.Namespace) -> str:
    from titan_ops.inventory.values import to_json, to_yaml

    if args.graph:
        return inventory.graph(args.graph, with_vars=args.vars)
    if args.list_hosts:
        return "\n".join(inventory.list_hosts("all", args.limit))
    if args.host:
        variables = inventory.host_vars(args.host)
        return _dump(to_yaml(variables) if args.yaml else to_json(variables, mark_unsafe=False), args.yaml)
    if args.yaml:
        return _dump(inventory.to_list_yaml(args.limit), True)
    return _dump(inventory.to_list_json(args.limit), False)


def _dump(data: Any, as_yaml: bool) -> str:
    if as_yaml:
        import yaml

        return yaml.safe_dump(data, default_flow_style=False, sort_keys=True, allow_unicode=True).rstrip("\n")
    return json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False)
