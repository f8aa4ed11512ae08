"""A leading ``~`` or ``~user`` in a module's remote path arguments, expanded on the host as Ansible
expands its path arguments (the home of the user the task runs as, become included)."""

from __future__ import annotations

import re
from typing import Any

from titan_ops.modules.base import HostContext, Module

_TILDE = re.compile(r"~[A-Za-z0-9_][A-Za-z0-9_.-]*(?=/|$)|~(?=/|$)")


def with_home_expanded(module: Module, args: dict[str, Any], host: HostContext) -> dict[str, Any]:
    """``args`` with the leading tilde of each of ``module.path_args`` replaced by the home it names
    (one remote command, only when there is one); a user the host does not know keeps it, as in Ansible."""
    tildes = {name: match.group() for name in module.path_args
              if isinstance(args.get(name), str) and (match := _TILDE.match(args[name]))}
    if not tildes:
        return args
    words = sorted(set(tildes.values()))
    # a tilde word of the pattern's characters only, unquoted so that the host's shell expands it
    done = host.run("printf '%s\\n' " + " ".join(words))
    homes = dict(zip(words, done.stdout.split("\n"))) if done.rc == 0 else {}
    expanded = dict(args)
    for name, word in tildes.items():
        home = homes.get(word)
        if home:
            expanded[name] = home + args[name][len(word):]
    return expanded
