"""The ``config`` lookup: ansible-core's settings that titan-ops has, by their ansible-core names.

A setting's value is what ``ansible.cfg`` and the ``ANSIBLE_*`` environment variables say (read as
``titan-ops run`` reads them, see :mod:`titan_ops.config`), else ansible-core's default; as in
ansible-core, a command-line option does not change it. ``ALLOW_BROKEN_CONDITIONALS`` is false:
titan-ops never takes a conditional that is not a boolean. Any other setting is refused by name
(``on_missing='skip'`` or ``'warn'`` leaves it out instead).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from titan_ops.config import Config, ConfigError, load_config
from titan_ops.lookups.context import LookupContext, LookupFailed


def _home_paths(*parts: str) -> list[str]:
    return [os.path.expanduser(part) for part in parts]


_FROM_CONFIG: dict[str, tuple[str, Callable[[], Any]]] = {
    "DEFAULT_FORKS": ("forks", lambda: 5),
    "DEFAULT_HOST_LIST": ("inventory", lambda: ["/etc/ansible/hosts"]),
    "DEFAULT_ROLES_PATH": ("roles_path", lambda: _home_paths("~/.ansible/roles", "/usr/share/ansible/roles",
                                                             "/etc/ansible/roles")),
    "DEFAULT_MODULE_PATH": ("library", lambda: _home_paths("~/.ansible/plugins/modules",
                                                           "/usr/share/ansible/plugins/modules")),
    "HOST_KEY_CHECKING": ("host_key_checking", lambda: True),
    "DEFAULT_REMOTE_USER": ("remote_user", lambda: None),
    "DEFAULT_REMOTE_PORT": ("remote_port", lambda: None),
    "DEFAULT_PRIVATE_KEY_FILE": ("private_key_file", lambda: None),
    "DEFAULT_TIMEOUT": ("timeout", lambda: 10),
    "DEFAULT_TRANSPORT": ("transport", lambda: "ssh"),
    "DEFAULT_GATHERING": ("gathering", lambda: "implicit"),
    "DEFAULT_FORCE_HANDLERS": ("force_handlers", lambda: False),
    "ERROR_ON_MISSING_HANDLER": ("error_on_missing_handler", lambda: True),
    "DEFAULT_VAULT_PASSWORD_FILE": ("vault_password_file", lambda: None),
    "DEFAULT_VAULT_IDENTITY_LIST": ("vault_identity_list", lambda: []),
    "DEFAULT_BECOME": ("become", lambda: False),
    "DEFAULT_BECOME_USER": ("become_user", lambda: "root"),
    "DEFAULT_BECOME_METHOD": ("become_method", lambda: "sudo"),
    "SHOW_CUSTOM_STATS": ("show_custom_stats", lambda: False),
}
"""ansible-core's name of each setting titan-ops reads, its field of :class:`Config`, and its default."""

_FIXED = {"ALLOW_BROKEN_CONDITIONALS": False}
"""Settings whose value is titan-ops's own behaviour, whatever the configuration says."""

SETTING_NAMES = (*_FROM_CONFIG, *_FIXED)


def _value(config: Config, name: str) -> Any:
    if name in _FIXED:
        return _FIXED[name]
    field, default = _FROM_CONFIG[name]
    if field not in config.sources:
        return default()
    value = getattr(config, field)
    if isinstance(value, tuple):
        return list(value)
    return int(value) if isinstance(value, float) and value.is_integer() else value


def config(terms: list[Any], context: LookupContext, on_missing: str = "error", plugin_type: str | None = None,
           plugin_name: str | None = None) -> list[Any]:
    """The value of each setting named by a term."""
    if on_missing not in ("error", "warn", "skip"):
        raise LookupFailed(f'"on_missing" must be a string and one of "error", "warn" or "skip", not {on_missing}')
    if plugin_type is not None or plugin_name is not None:
        raise LookupFailed("the settings of plugins (plugin_type, plugin_name) are not supported by titan-ops")
    try:
        settings = load_config()
    except ConfigError as error:
        raise LookupFailed(str(error)) from None
    values = []
    for term in terms:
        name = str(term)
        if name in SETTING_NAMES:
            values.append(_value(settings, name))
        elif on_missing == "error":
            raise LookupFailed(f"the setting '{name}' is not supported by titan-ops (it has: "
                               f"{', '.join(SETTING_NAMES)})")
    return values


FUNCTIONS: dict[str, Callable[..., list[Any]]] = {"config": config}
