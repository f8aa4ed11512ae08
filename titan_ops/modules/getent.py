"""``getent``: one entry or a whole database of the host's name service, as the fact ``getent_<database>``.

One read-only command (``getent DATABASE [KEY] [-s SERVICE]``); its exit status says what went wrong, in the
words ansible-core uses. Each output line is split into fields (on ``:`` for the colon databases, else on
``split`` or on whitespace); the first field is the entry's name and the rest its value. A name seen more than
once (``getent hosts`` lists an address per line) holds a list of values.
"""

from __future__ import annotations

from typing import Any

from titan_ops.connection.base import CommandResult
from titan_ops.modules.base import Decision, HostContext, Module

_COLON_DATABASES = frozenset({"passwd", "shadow", "group", "gshadow"})
_MISSING_KEY = "One or more supplied key could not be found in the database."
_FAILURES = {1: "Missing arguments, or database unknown.", 2: _MISSING_KEY,
             3: "Enumeration not supported on this database."}
_NO_GETENT = 127

_COMMAND = 'command -v getent >/dev/null 2>&1 || exit 127\nexec getent "$@"'


def entries(output: str, split: str | None) -> dict[str, Any]:
    """The database's entries from ``getent``'s output: name -> its fields (a list of them per repeated name)."""
    found: dict[str, Any] = {}
    repeated: set[str] = set()
    for line in output.splitlines():
        if not (parts := line.split(split)):
            continue
        name, *fields = parts
        if name not in found:
            found[name] = fields
        else:
            if name not in repeated:
                found[name] = [found[name]]
                repeated.add(name)
            found[name].append(fields)
    return found


class Getent(Module):
    """Query one of the host's name service databases into the fact ``getent_<database>``."""

    name = "getent"
    description = ("Read a name service database of the host (`passwd`, `group`, `hosts`, `services`, ...) with "
                   "`getent`, whole or one key, into the fact `getent_<database>` (name -> its fields). "
                   "`getent_shadow` holds password hashes: give that task `no_log: true`.")
    schema = {
        "type": "object",
        "properties": {
            "database": {"type": "string", "description": "The database to read (`passwd`, `group`, `hosts`, ...)."},
            "key": {"type": ["string", "null"], "default": None,
                    "description": "The entry to read; without it the whole database (where it can be listed)."},
            "split": {"type": ["string", "null"], "minLength": 1, "default": None,
                      "description": "What separates an entry's fields; default `:` for passwd, shadow, group and "
                                     "gshadow, whitespace for the others."},
            "fail_key": {"type": "boolean", "default": True,
                         "description": "Fail when `key` is not in the database; when false the fact holds the key "
                                        "with the value null."},
            "service": {"type": ["string", "null"], "default": None,
                        "description": "Read from this service only (`getent -s`), where the host's getent has it."},
        },
        "required": ["database"],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> CommandResult:
        argv = [str(args["database"])]
        if args.get("key") is not None:
            argv.append(str(args["key"]))
        if args.get("service") is not None:
            argv += ["-s", str(args["service"])]
        return host.run(["/bin/sh", "-c", _COMMAND, "getent", *argv])

    def decide(self, args: dict[str, Any], state: CommandResult, host: HostContext) -> Decision:
        database = str(args["database"])
        fact = f"getent_{database}"
        if state.rc == 0:
            split = args.get("split")
            if split is None and database in _COLON_DATABASES:
                split = ":"
            return Decision(False, {"ansible_facts": {fact: entries(state.stdout, split)}})
        if state.rc == 2 and not args.get("fail_key", True):
            return Decision(False, {"ansible_facts": {fact: {args.get("key"): None}}, "msg": _MISSING_KEY})
        if state.rc == _NO_GETENT:
            return Decision(False, {"msg": "Failed to find required executable \"getent\" on the host"}, failed=True)
        return Decision(False, {"msg": _FAILURES.get(state.rc, "Unexpected failure!")}, failed=True)
