"""Run many ansible-core CLI commands in one interpreter: the inventory tests' oracle.

Runs under the oracle's own Python (ansible-core's venv), never imported by
titan-ops. Reads ``[[argv...], ...]`` as JSON on stdin; the first word of
each argv is ``ansible`` or ``ansible-inventory``. Ansible is imported and
its plugins loaded once; each command then runs in a forked child (two at a
time) with its own stdout and stderr. Prints ``[{"rc", "out", "err"}, ...]``.
"""

import json
import os
import sys
import tempfile
import warnings

import ansible.cli.adhoc
import ansible.cli.inventory
import ansible.inventory.manager  # noqa: F401 - loaded once, before forking
import ansible.vars.manager  # noqa: F401
from ansible.plugins.loader import init_plugin_loader, inventory_loader

ENTRY_POINTS = {"ansible": ansible.cli.adhoc.main, "ansible-inventory": ansible.cli.inventory.main}
PARALLEL = 2


def warm_up():
    """Load what every command needs, so forked children start warm."""
    init_plugin_loader()
    list(inventory_loader.all(class_only=True))


def child(argv, out, err):
    """In the forked child: run one command with stdout/stderr to files, exit with its code."""
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    warnings.simplefilter("ignore")
    code = 0
    try:
        ENTRY_POINTS[argv[0]](argv)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException as error:  # the oracle crashed: report it as such
        print(f"oracle crashed: {error!r}", file=sys.stderr)
        code = 99
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main():
    commands = json.load(sys.stdin)
    warm_up()
    results = [None] * len(commands)
    running = {}
    pending = list(enumerate(commands))
    while pending or running:
        while pending and len(running) < PARALLEL:
            index, argv = pending.pop(0)
            out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
            pid = os.fork()
            if pid == 0:
                child(argv, out, err)
            running[pid] = (index, out, err)
        pid, status = os.wait()
        index, out, err = running.pop(pid)
        out.seek(0)
        err.seek(0)
        results[index] = {"rc": os.waitstatus_to_exitcode(status),
                          "out": out.read().decode("utf-8", "replace"),
                          "err": err.read().decode("utf-8", "replace")}
        out.close()
        err.close()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
