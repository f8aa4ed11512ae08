"""``ansible.cfg`` and the ``ANSIBLE_*`` environment variables, as ansible-playbook finds and reads them.

The file is the first of ``$ANSIBLE_CONFIG`` (a file, or a folder holding ansible.cfg),
``./ansible.cfg`` (unless the current folder is world-writable, which Ansible ignores for safety),
``~/.ansible.cfg`` and ``/etc/ansible/ansible.cfg``; only that one is read. An environment variable
wins over the file, and a command-line option over both. Relative paths in the file are relative to
its folder. The settings titan-ops honours are :data:`SETTINGS`; those that change nothing here
(display, callbacks, ssh tuning that paramiko does not need) are :data:`IGNORED`; any other is
refused by name, with its line, so that a configuration never silently means something else.

Only the command line reads this: the library API takes every setting as an argument.
"""

from __future__ import annotations

import configparser
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from titan_ops.errors import Location, TitanOpsError


class ConfigError(TitanOpsError):
    """ansible.cfg cannot be read, or sets something titan-ops does not do."""


def boolean(value: str) -> bool:
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on", "y", "t"):
        return True
    if text in ("0", "false", "no", "off", "n", "f", ""):
        return False
    raise ValueError(f"'{value}' is not a boolean")


def _paths(value: str, base: str) -> tuple[str, ...]:
    return tuple(os.path.join(base, os.path.expanduser(part)) for part in value.split(os.pathsep) if part)


def _path_list(value: str, base: str) -> tuple[str, ...]:
    return tuple(os.path.join(base, os.path.expanduser(part.strip())) for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class _Setting:
    field: str
    section: str
    key: str
    env: str
    parse: Callable[[str, str], Any]


SETTINGS = (
    _Setting("forks", "defaults", "forks", "ANSIBLE_FORKS", lambda value, base: int(value)),
    _Setting("inventory", "defaults", "inventory", "ANSIBLE_INVENTORY", _path_list),
    _Setting("roles_path", "defaults", "roles_path", "ANSIBLE_ROLES_PATH", _paths),
    _Setting("library", "defaults", "library", "ANSIBLE_LIBRARY", _paths),
    _Setting("host_key_checking", "defaults", "host_key_checking", "ANSIBLE_HOST_KEY_CHECKING",
             lambda value, base: boolean(value)),
    _Setting("remote_user", "defaults", "remote_user", "ANSIBLE_REMOTE_USER", lambda value, base: value),
    _Setting("remote_port", "defaults", "remote_port", "ANSIBLE_REMOTE_PORT", lambda value, base: int(value)),
    _Setting("private_key_file", "defaults", "private_key_file", "ANSIBLE_PRIVATE_KEY_FILE",
             lambda value, base: os.path.join(base, os.path.expanduser(value))),
    _Setting("timeout", "defaults", "timeout", "ANSIBLE_TIMEOUT", lambda value, base: float(value)),
    _Setting("transport", "defaults", "transport", "ANSIBLE_TRANSPORT", lambda value, base: value),
    _Setting("gathering", "defaults", "gathering", "ANSIBLE_GATHERING", lambda value, base: _gathering(value)),
    _Setting("force_handlers", "defaults", "force_handlers", "ANSIBLE_FORCE_HANDLERS",
             lambda value, base: boolean(value)),
    _Setting("error_on_missing_handler", "defaults", "error_on_missing_handler", "ANSIBLE_ERROR_ON_MISSING_HANDLER",
             lambda value, base: boolean(value)),
    _Setting("vault_password_file", "defaults", "vault_password_file", "ANSIBLE_VAULT_PASSWORD_FILE",
             lambda value, base: os.path.join(base, os.path.expanduser(value))),
    _Setting("vault_identity_list", "defaults", "vault_identity_list", "ANSIBLE_VAULT_IDENTITY_LIST",
             lambda value, base: tuple(part.strip() for part in value.split(",") if part.strip())),
    _Setting("show_custom_stats", "defaults", "show_custom_stats", "ANSIBLE_SHOW_CUSTOM_STATS",
             lambda value, base: boolean(value)),
    _Setting("ssh_args", "ssh_connection", "ssh_args", "ANSIBLE_SSH_ARGS", lambda value, base: value),
    _Setting("become", "privilege_escalation", "become", "ANSIBLE_BECOME", lambda value, base: boolean(value)),
    _Setting("become_user", "privilege_escalation", "become_user", "ANSIBLE_BECOME_USER", lambda value, base: value),
    _Setting("become_method", "privilege_escalation", "become_method", "ANSIBLE_BECOME_METHOD",
             lambda value, base: value),
)
"""The settings titan-ops honours: where they are in the file, their environment variable, their type."""

IGNORED: Mapping[str, frozenset[str]] = {
    "defaults": frozenset({
        "nocows", "nocolor", "retry_files_enabled", "retry_files_save_path", "deprecation_warnings",
        "command_warnings", "system_warnings", "localhost_warning", "interpreter_python", "stdout_callback",
        "callbacks_enabled", "callback_whitelist", "bin_ansible_callbacks", "display_skipped_hosts",
        "display_ok_hosts", "display_args_to_stdout", "collections_path",
        "collections_paths", "ansible_managed", "inventory_ignore_extensions", "host_pattern_mismatch",
    }),
    "ssh_connection": frozenset({"pipelining", "control_path", "control_path_dir", "scp_if_ssh", "transfer_method",
                                 "retries"}),
    "inventory": frozenset({"enable_plugins", "ignore_extensions", "unparsed_is_failed"}),
    "colors": frozenset(),
    "persistent_connection": frozenset(),
    "galaxy": frozenset(),
}
"""Settings that change nothing in titan-ops (an empty set: the whole section)."""

_GATHERING = ("implicit", "explicit", "smart")


def _gathering(value: str) -> str:
    if value not in _GATHERING:
        raise ValueError(f"must be one of {', '.join(_GATHERING)}")
    return value


@dataclass(frozen=True)
class Config:
    """The settings found (None: not set anywhere, the command's default applies)."""

    path: str | None = None
    forks: int | None = None
    inventory: tuple[str, ...] = ()
    roles_path: tuple[str, ...] = ()
    library: tuple[str, ...] = ()
    """Folders of custom modules (searched after a role's own ``library/``)."""
    host_key_checking: bool | None = None
    remote_user: str | None = None
    remote_port: int | None = None
    private_key_file: str | None = None
    timeout: float | None = None
    transport: str | None = None
    gathering: str | None = None
    force_handlers: bool | None = None
    error_on_missing_handler: bool | None = None
    vault_password_file: str | None = None
    vault_identity_list: tuple[str, ...] = ()
    show_custom_stats: bool | None = None
    """``set_stats``'s stats are printed after the PLAY RECAP."""
    ssh_args: str | None = None
    become: bool | None = None
    become_user: str | None = None
    become_method: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    """Where each set field came from (``file:line`` or the environment variable)."""


def find_config(environ: Mapping[str, str] | None = None, cwd: str | None = None) -> str | None:
    """The ansible.cfg ansible-playbook would read, or None."""
    environ = os.environ if environ is None else environ
    cwd = cwd or os.getcwd()
    candidates = []
    if environ.get("ANSIBLE_CONFIG"):
        named = os.path.expanduser(environ["ANSIBLE_CONFIG"])
        candidates.append(os.path.join(named, "ansible.cfg") if os.path.isdir(named) else named)
    if not _world_writable(cwd):
        candidates.append(os.path.join(cwd, "ansible.cfg"))
    candidates += [os.path.expanduser("~/.ansible.cfg"), "/etc/ansible/ansible.cfg"]
    return next((path for path in candidates if os.path.isfile(path)), None)


def _world_writable(folder: str) -> bool:
    try:
        return bool(os.stat(folder).st_mode & stat.S_IWOTH)
    except OSError:
        return False


def load_config(path: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """The settings of ``path`` (default: the file :func:`find_config` finds) with the environment's
    over them; ConfigError naming the file, line and key for a bad or unsupported setting."""
    environ = os.environ if environ is None else environ
    path = path if path is not None else find_config(environ)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if path is not None:
        _read_file(path, values, sources)
    for setting in SETTINGS:
        if setting.env in environ:
            try:
                values[setting.field] = setting.parse(environ[setting.env], os.getcwd())
            except ValueError as error:
                raise ConfigError(f"{setting.env}={environ[setting.env]!r}: {error}") from None
            sources[setting.field] = setting.env
    return Config(path=path, sources=sources, **values)


def _read_file(path: str, values: dict[str, Any], sources: dict[str, str]) -> None:
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",), strict=False)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        parser.read_string(text, source=path)
    except (OSError, configparser.Error) as error:
        raise ConfigError(f"cannot read the configuration: {error}", Location(path)) from None
    lines = _key_lines(text)
    base = os.path.dirname(os.path.abspath(path))
    known = {(setting.section, setting.key): setting for setting in SETTINGS}
    for section in parser.sections():
        for key, raw in parser.items(section, raw=True):
            where = Location(path, lines.get((section, key)))
            setting = known.get((section, key))
            if setting is None:
                ignored = IGNORED.get(section)
                if ignored is not None and (not ignored or key in ignored):
                    continue
                raise ConfigError(f"[{section}] {key}: this setting is not supported by titan-ops", where, key)
            try:
                values[setting.field] = setting.parse(_unquote(raw), base)
            except ValueError as error:
                raise ConfigError(f"[{section}] {key}: {error}", where, key) from None
            sources[setting.field] = str(where)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _key_lines(text: str) -> dict[tuple[str, str], int]:
    """Where each ``[section] key`` is set in the file (1-based lines)."""
    found: dict[tuple[str, str], int] = {}
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip()
        elif stripped and stripped[0] not in "#;" and ("=" in stripped or ":" in stripped):
            key = stripped.split("=", 1)[0].split(":", 1)[0].strip().lower()
            found.setdefault((section, key), number)
    return found
