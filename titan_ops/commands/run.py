"""``titan-ops run``: ansible-playbook's options, over the library API.

Settings come from the command line, else from ``ANSIBLE_*`` environment variables, else from the
ansible.cfg ansible-playbook would read (see :mod:`titan_ops.config`), else the defaults. The
engine is imported when the command runs, not when the parser is built, and the report writers
only when asked for.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from titan_ops.commands.vault_options import add_vault_arguments, vault_from
from titan_ops.errors import ClusterError, TitanOpsError

CLUSTER_ENV = "TITAN_OPS_CLUSTER"
SESSION_ENV = "TITAN_OPS_SESSION"
_CONNECTIONS = ("ssh", "paramiko", "smart", "local")
_DEFAULT_INVENTORY = "/etc/ansible/hosts"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run a playbook (ansible-playbook's options)",
                                   description="Run a playbook against an inventory.")
    parser.add_argument("playbook", nargs="+", help="the playbook file (several: run one after the other)")
    parser.add_argument("-i", "--inventory", action="append", default=[], metavar="INVENTORY",
                        help="inventory file or directory (repeatable; default: ansible.cfg's, else "
                             f"{_DEFAULT_INVENTORY} when it exists)")
    parser.add_argument("-l", "--limit", metavar="PATTERN", help="further limit the hosts to a pattern")
    parser.add_argument("-f", "--forks", type=int, default=None, help="hosts worked on at once (default 5)")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], metavar="VARS",
                        help="key=value pairs, a JSON object, or @file.yml (repeatable)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="show results (-vv: more)")
    parser.add_argument("-C", "--check", action="store_true", help="dry run: change nothing")
    parser.add_argument("-D", "--diff", action="store_true", help="show the differences a change makes")
    parser.add_argument("-t", "--tags", action="append", default=[], help="run only tasks with these tags")
    parser.add_argument("--skip-tags", action="append", default=[], help="skip tasks with these tags")
    parser.add_argument("-u", "--user", metavar="REMOTE_USER", help="log in as this user (when a host sets none)")
    parser.add_argument("-c", "--connection", choices=_CONNECTIONS,
                        help="connection type for hosts that set none (ssh, or local)")
    parser.add_argument("--private-key", "--key-file", dest="private_key", metavar="FILE",
                        help="SSH key file for hosts that set none")
    parser.add_argument("-k", "--ask-pass", action="store_true", help="ask for the SSH password (needs a terminal)")
    parser.add_argument("-K", "--ask-become-pass", action="store_true",
                        help="not supported: become runs sudo non-interactively")
    parser.add_argument("-b", "--become", action="store_true", default=None, help="become (sudo) in every play")
    parser.add_argument("--become-user", help="the user to become (default root)")
    parser.add_argument("--become-method", choices=("sudo", "su"), help="how to become (default sudo)")
    parser.add_argument("--force-handlers", action="store_true", default=None,
                        help="run notified handlers even on hosts that failed")
    parser.add_argument("--flush-cache", action="store_true",
                        help="accepted: titan-ops keeps no facts between runs, so there is no cache to flush")
    parser.add_argument("--start-at-task", metavar="NAME", help="start the run at the first task named NAME")
    parser.add_argument("--list-hosts", action="store_true", help="list the hosts each play targets; run nothing")
    parser.add_argument("--list-tasks", action="store_true", help="list the tasks each play runs; run nothing")
    parser.add_argument("--list-tags", action="store_true", help="list the tags of each play; run nothing")
    parser.add_argument("--syntax-check", action="store_true", help="check the playbook; run nothing")
    add_vault_arguments(parser)
    parser.add_argument("--no-host-key-checking", action="store_true",
                        help="accept unknown or changed host keys (off by default)")
    parser.add_argument("-T", "--timeout", type=float, default=None, help="SSH connect timeout in seconds (10)")
    parser.add_argument("--command-timeout", type=float, default=None,
                        help="deadline for every remote command, in seconds")
    parser.add_argument("--session", action=argparse.BooleanOptionalAction, default=None,
                        help="run each host's commands through one shell session (--no-session: a channel "
                             "per command) where the inventory does not set ansible_titan_session "
                             f"(default ${SESSION_ENV}: true or false)")
    parser.add_argument("--cluster", metavar="ADDRESS", default=os.environ.get(CLUSTER_ENV) or None,
                        help="keep the hosts' connections on a Dask cluster: a scheduler address "
                             "(tcp://HOST:8786), or local[:N] for a LocalCluster of N workers "
                             f"(default ${CLUSTER_ENV}; needs titan-ops[cluster])")
    parser.add_argument("--output-json", metavar="FILE", help="write the whole run result as JSON to FILE")
    parser.add_argument("--junit", metavar="FILE",
                        help="write a JUnit XML report (a testcase per host and task) to FILE")
    parser.add_argument("--incident", metavar="ID",
                        help="append this run to incident ID's timeline (evidence goes under its folder)")
    parser.add_argument("--incident-dir", metavar="DIR",
                        help="the incidents folder (default $TITAN_OPS_INCIDENT_DIR, else ./incidents)")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from titan_ops.config import load_config

    try:
        config = load_config()
        return _run_with(args, config)
    except ClusterError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return 1
    except TitanOpsError as error:
        print(f"ERROR! {error}", file=sys.stderr)
        return error.exit_code


def _run_with(args: argparse.Namespace, config: Any) -> int:
    from titan_ops.api import run
    from titan_ops.extra_vars import parse_extra_vars
    from titan_ops.inventory import load_inventory
    from titan_ops.playbook import load_playbooks

    if args.ask_become_pass:
        raise TitanOpsError("-K/--ask-become-pass is not supported: become runs sudo non-interactively "
                            "(sudo -n), so the remote user needs passwordless sudo")
    connection = args.connection or config.transport
    if connection is not None and connection not in _CONNECTIONS:
        raise TitanOpsError(f"connection '{connection}' is not supported (use ssh or local)",
                            key="transport")
    vault = vault_from(args, config)
    playbook = load_playbooks(args.playbook, roles_path=config.roles_path, vault=vault,
                              library_path=config.library)
    for warning in playbook.warnings:
        print(f"[WARNING]: {warning}", file=sys.stderr)
    inventory = load_inventory(args.inventory or list(config.inventory) or _default_inventory(), vault=vault)
    if args.syntax_check:
        print("".join(f"\nplaybook: {path}" for path in args.playbook))
        return 0
    if args.list_hosts or args.list_tasks or args.list_tags:
        from titan_ops.engine.tags import TagFilter
        from titan_ops.output.listing import listing

        print(listing(playbook, inventory, args.limit, TagFilter.from_options(args.tags, args.skip_tags),
                      hosts=args.list_hosts, tasks=args.list_tasks, tags=args.list_tags), end="")
        return 0
    secrets: list[str] = []
    extra_vars = parse_extra_vars(args.extra_vars, secrets)
    result = run(playbook, inventory, limit=args.limit, forks=_first(args.forks, config.forks, 5), secrets=secrets,
                 extra_vars=extra_vars, check=args.check, diff=args.diff, verbosity=args.verbose, tags=args.tags,
                 skip_tags=args.skip_tags,
                 host_key_checking=not args.no_host_key_checking and config.host_key_checking is not False,
                 connect_timeout=_first(args.timeout, config.timeout, 10.0), command_timeout=args.command_timeout,
                 remote_user=args.user or config.remote_user, connection=connection,
                 private_key_file=args.private_key or config.private_key_file, remote_port=config.remote_port,
                 password=_ask_password() if args.ask_pass else None, ssh_args=config.ssh_args,
                 session=_first(args.session, _session_from_environment()),
                 become=_first(args.become, config.become), become_user=args.become_user or config.become_user,
                 become_method=args.become_method or config.become_method,
                 force_handlers=bool(_first(args.force_handlers, config.force_handlers, False)),
                 error_on_missing_handler=config.error_on_missing_handler is not False,
                 start_at_task=args.start_at_task, gather_facts=config.gathering != "explicit", vault=vault,
                 ask=_ask if sys.stdin.isatty() else None,
                 subscribers=_subscribers(args, show_custom_stats=bool(config.show_custom_stats)),
                 incident=args.incident, incident_dir=args.incident_dir,
                 cluster=args.cluster)
    return result.exit_code



def _first(*values: Any) -> Any:
    """The first value that is set (not None)."""
    return next((value for value in values if value is not None), None)


def _session_from_environment() -> bool | None:
    from titan_ops.config import boolean

    value = os.environ.get(SESSION_ENV)
    if not value:
        return None
    try:
        return boolean(value)
    except ValueError:
        raise TitanOpsError(f"{SESSION_ENV}: '{value}' is not a boolean (true or false)") from None


def _default_inventory() -> list[str] | None:
    return [_DEFAULT_INVENTORY] if os.path.exists(_DEFAULT_INVENTORY) else None


def _ask_password() -> str:
    import getpass

    if not sys.stdin.isatty():
        raise TitanOpsError("-k/--ask-pass needs a terminal to ask on (set ansible_password for the hosts instead)")
    return getpass.getpass("SSH password: ")


def _ask(prompt: Any) -> Any:
    """Ask a ``vars_prompt`` on the terminal (hidden when private), again until a confirmation matches."""
    import getpass

    read = getpass.getpass if prompt.private else input
    default = f" [{prompt.default}]" if prompt.default is not None else ""
    while True:
        answer = read(f"{prompt.prompt}{default}: ")
        if prompt.confirm and read(f"confirm {prompt.prompt}: ") != answer:
            print("***** VALUES ENTERED DO NOT MATCH ****", file=sys.stderr)
            continue
        return answer if answer or prompt.default is None else prompt.default


def _subscribers(args: argparse.Namespace, show_custom_stats: bool) -> list[Any]:
    from titan_ops.output.console import ConsoleRenderer
    from titan_ops.output.triage_table import TriageRenderer

    subscribers: list[Any] = [ConsoleRenderer(sys.stdout, verbosity=args.verbose,
                                                    show_custom_stats=show_custom_stats), TriageRenderer(sys.stdout)]
    if args.output_json:
        from titan_ops.output.json_output import JsonWriter

        subscribers.append(JsonWriter(args.output_json))
    if args.junit:
        from titan_ops.output.junit import JUnitWriter

        subscribers.append(JUnitWriter(args.junit))
    return subscribers
