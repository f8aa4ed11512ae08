"""``systemd_service`` (also ``systemd``): ansible-core's systemd module, on titan-ops's ``service``.

The systemctl logic is :class:`titan_ops.modules.service.Service`'s; this module gives it ansible-core's
arguments: ``masked``, ``daemon_reload``, ``daemon_reexec``, ``scope``, ``no_block``, ``force`` and the
aliases of ``name``. ``name`` may be left out when only the daemon is reloaded or re-executed; a task
that asks nothing of the unit reads its status (ansible-core accepts it too: its daemon flags default).
"""

from __future__ import annotations

from typing import Any

from titan_ops.modules.service import Service

_NAMES = ("name", "service", "unit")


def _one_of(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Schemas that refuse two of ``names`` given together."""
    return [{"not": {"required": [first, second]}} for index, first in enumerate(names) for second in names[index + 1:]]


def _alias(name: str) -> dict[str, Any]:
    return {"description": f"Alias of `{name}`."}


class SystemdService(Service):
    """Manage a systemd unit and the systemd manager with systemctl, as ansible-core's ``systemd_service``."""

    name = "systemd_service"
    description = "Start, stop, restart, reload, enable, disable, mask or unmask a systemd unit; reload systemd."
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1,
                     "description": "The unit, e.g. `postgresql` or `titan-feed.timer` (without a suffix systemctl "
                                    "reads `.service`); no glob patterns. Needed by `state`, `enabled` and "
                                    "`masked`; given alone, the task reads the unit's `status`."},
            "service": {"type": "string", "minLength": 1, **_alias("name")},
            "unit": {"type": "string", "minLength": 1, **_alias("name")},
            "state": Service.schema["properties"]["state"],
            "enabled": {"type": "boolean",
                        "description": "Whether the unit starts at boot (`systemctl enable`/`disable`). A static "
                                       "unit counts as enabled; one enabled for this boot only, an indirect one "
                                       "and an alias are enabled again."},
            "masked": {"type": "boolean",
                       "description": "Whether the unit is masked (`systemctl mask`/`unmask`): a masked unit cannot "
                                      "start. A unit that does not exist can be masked. Done before `enabled`."},
            "daemon_reload": {"type": "boolean", "default": False,
                              "description": "Run `systemctl daemon-reload` before anything else (not in check "
                                             "mode), whether or not the unit changes. Not reported as a change."},
            "daemon-reload": {"type": "boolean", **_alias("daemon_reload")},
            "daemon_reexec": {"type": "boolean", "default": False,
                              "description": "Run `systemctl daemon-reexec` before anything else (after "
                                             "`daemon_reload`; not in check mode). Not reported as a change."},
            "daemon-reexec": {"type": "boolean", **_alias("daemon_reexec")},
            "scope": {"enum": ["system", "user", "global"], "default": "system",
                      "description": "The service manager: the system's, the remote user's (`--user`: it needs "
                                     "the user's bus; `XDG_RUNTIME_DIR` is `/run/user/UID` unless the task's "
                                     "`environment` sets it) or every user's (`--global`: unit files only)."},
            "no_block": {"type": "boolean", "default": False,
                         "description": "Do not wait for the started, stopped, ... job to finish (`--no-block`)."},
            "force": {"type": "boolean", "description": "Override existing symlinks (`--force`)."},
        },
        "allOf": [*_one_of(_NAMES), *_one_of(("daemon_reload", "daemon-reload")),
                  *_one_of(("daemon_reexec", "daemon-reexec"))],
        "dependentSchemas": {want: {"anyOf": [{"required": [name]} for name in _NAMES]}
                             for want in ("state", "enabled", "masked")},
        "additionalProperties": False,
    }
