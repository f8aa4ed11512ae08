"""``titan-ops validate``: every check that runs before a host is touched."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from titan_ops.commands.vault_options import add_vault_arguments, vault_from
from titan_ops.errors import TitanOpsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("validate", help="validate playbooks without connecting",
                                   description="Validate playbooks: YAML, schema, keywords, modules, "
                                               "arguments and templates. Connects to nothing.")
    parser.add_argument("playbooks", nargs="+", help="playbook files")
    add_vault_arguments(parser)
    parser.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    from titan_ops.config import load_config
    from titan_ops.playbook import load_playbook

    try:
        config = load_config()
        vault = vault_from(args, config)
    except TitanOpsError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 5
    status = 0
    for path in args.playbooks:
        try:
            playbook = load_playbook(path, roles_path=config.roles_path, vault=vault,
                                     library_path=config.library)
        except TitanOpsError as error:
            print(f"ERROR! {error}", file=sys.stderr)
            status = 5
            continue
        for warning in playbook.warnings:
            print(f"[WARNING]: {warning}", file=sys.stderr)
        tasks = sum(len(play.tasks) for play in playbook.plays)
        print(f"{path}: ok ({len(playbook.plays)} plays, {tasks} top-level tasks)")
    return status
