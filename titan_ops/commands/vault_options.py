"""The vault options of ``run`` and ``validate``: ansible-playbook's ``--vault-password-file``,
``--ask-vault-pass`` and ``--vault-id``, and ansible.cfg's ``vault_password_file`` and
``vault_identity_list``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from titan_ops.errors import TitanOpsError


def add_vault_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vault-password-file", "--vault-pass-file", action="append", default=[], metavar="FILE",
                        help="a file holding the vault password, or a script printing it (repeatable)")
    parser.add_argument("-J", "--ask-vault-pass", "--ask-vault-password", action="store_true",
                        help="ask for the vault password (needs a terminal)")
    parser.add_argument("--vault-id", action="append", default=[], metavar="[LABEL@]SOURCE",
                        help="a vault password with its id: SOURCE is a file, a script or 'prompt' (repeatable)")


def vault_from(args: argparse.Namespace, config: Any) -> Any:
    """The vault of the passwords given (None when none is), asking on the terminal if told to."""
    from titan_ops.vault import DEFAULT_ID, Vault, parse_vault_id, read_secret

    sources = [parse_vault_id(text) for text in args.vault_id or config.vault_identity_list]
    sources += [(DEFAULT_ID, path) for path in args.vault_password_file]
    if not sources and config.vault_password_file and not args.ask_vault_pass:
        sources.append((DEFAULT_ID, config.vault_password_file))
    if args.ask_vault_pass:
        sources.append((DEFAULT_ID, "prompt"))
    if not sources:
        return None
    return Vault([read_secret(source, vault_id, _prompt) for vault_id, source in sources])


def _prompt(question: str) -> str:
    import getpass

    if not sys.stdin.isatty():
        raise TitanOpsError("asking for a vault password needs a terminal (use --vault-password-file)")
    return getpass.getpass(question)
