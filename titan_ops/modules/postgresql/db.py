"""``postgresql_db``: make sure a database exists or not, dump it, or restore it from a dump.

- ``present``/``absent``: inspect looks the database up in ``pg_database``
  (read-only); act runs ``CREATE DATABASE``/``DROP DATABASE`` with the name
  quoted by psql (``:"name"``).
- ``dump``: always a change (as community.postgresql reports it). act runs
  ``pg_dump`` into a temporary file beside ``target``, verifies it as a
  restore would (below), and only then renames it onto ``target``: a failed
  or short dump (pg_dump exits 0 with a truncated custom-format file on a
  full disk) fails the task, is removed, and never replaces a good one.
- ``restore``: inspect checks the dump before the database is touched: it
  must exist, be a readable non-empty regular file, and be either an
  archive (custom or tar) that pg_restore reads to its end (into
  ``/dev/null``: ``pg_restore --list`` alone accepts a truncated or
  corrupted archive) or a plain SQL dump with pg_dump's header and its
  closing ``-- PostgreSQL database dump complete`` line (so a truncated
  plain dump is refused). A refused dump
  fails the task in decide, with the database untouched (in check mode
  too). act restores in one transaction: ``pg_restore --clean --if-exists
  --single-transaction`` for an archive, ``psql -v ON_ERROR_STOP=1
  --single-transaction -f`` for a plain dump (which replaces existing
  objects only if it was made with ``--clean``).

The format of a dump follows ``format``, else ``target``'s extension:
``.pgc`` and ``.dump`` custom, ``.tar`` tar, anything else plain.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.postgresql.client import (CONNECTION_PROPERTIES, PasswordError, connection_options,
                                                 error_text, run_tool)
from titan_ops.modules.postgresql.query import JSON, PLAIN, run_statement
from titan_ops.modules.postgresql.sql import Statement, prepare

FORMAT_FLAGS = {"plain": "--format=plain", "custom": "--format=custom", "tar": "--format=tar"}

# verify_dump FILE: prints "ok FORMAT SIZE" or "refused: REASON". An archive
# (custom or tar) must read to its end (pg_restore into /dev/null: `--list`
# alone passes a truncated or corrupted one); a plain dump needs pg_dump's
# header and its closing "dump complete" line.
_VERIFY_FUNCTION = """
verify_dump() {
  dump=$1
  [ -e "$dump" ] || { echo "refused: $dump does not exist"; return; }
  [ -f "$dump" ] || { echo "refused: $dump is not a regular file"; return; }
  [ -r "$dump" ] && head -c 1 "$dump" >/dev/null 2>&1 || { echo "refused: $dump is not readable"; return; }
  [ -s "$dump" ] || { echo "refused: $dump is empty"; return; }
  size=$(wc -c < "$dump")
  if [ "$(head -c 5 "$dump")" = PGDMP ]; then format=custom
  elif [ "$(dd if="$dump" bs=1 skip=257 count=5 2>/dev/null)" = ustar ]; then format=tar
  else format=plain; fi
  if [ "$format" = plain ]; then
    head -c 8192 "$dump" | grep -q '^-- PostgreSQL database dump$' ||
      { echo "refused: $dump is neither a pg_dump archive nor a plain pg_dump file (no pg_dump header)"; return; }
    tail -c 8192 "$dump" | grep -q '^-- PostgreSQL database dump complete$' ||
      { echo "refused: $dump is an incomplete plain dump (no closing 'dump complete' line)"; return; }
  elif ! problem=$(pg_restore --list "$dump" 2>&1 >/dev/null); then
    echo "refused: pg_restore cannot read $dump: $(echo "$problem" | tr '\\n' ' ')"; return
  elif ! problem=$(pg_restore -f /dev/null "$dump" 2>&1 >/dev/null); then
    echo "refused: $dump cannot be read to its end (truncated or corrupted): $(echo "$problem" | tr '\\n' ' ')"
    return
  fi
  echo "ok $format $size"
}
"""

# $1 target, then pg_dump's command line (without -f). The dump is verified
# like a backup before it replaces anything: pg_dump can exit 0 having written
# a short file (a custom-format dump onto a full disk does).
_DUMP = _VERIFY_FUNCTION + """
target=$1; shift
partial="$target.titan-ops-partial.$$"
trap 'rm -f "$partial"' EXIT
"$@" -f "$partial" || { echo "pg_dump failed (exit status $?)" >&2; exit 1; }
verdict=$(verify_dump "$partial")
case "$verdict" in ok*) ;; *) echo "pg_dump wrote a dump that does not verify: ${verdict#refused: }" >&2; exit 1 ;; esac
mv -f "$partial" "$target" && wc -c < "$target"
"""

# $1 the dump.
_VERIFY = _VERIFY_FUNCTION + 'verify_dump "$1"\n'


def format_of(target: str, given: str | None = None) -> str:
    """The dump format: ``given``, else by ``target``'s extension."""
    if given:
        return given
    extension = posixpath.splitext(target)[1].lower()
    return {".pgc": "custom", ".dump": "custom", ".tar": "tar"}.get(extension, "plain")


class PostgresqlDb(Module):
    """Create, drop, dump or restore a database with PostgreSQL's client tools."""

    name = "postgresql_db"
    collection = "community.postgresql"
    description = "Create or drop a database, dump it (atomically) or restore it from a verified dump."
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "The database."},
            "state": {"enum": ["present", "absent", "dump", "restore"], "default": "present",
                      "description": "`present`/`absent`: create or drop it when needed. `dump`: write it to "
                                     "`target` (a temporary file renamed into place). `restore`: load `target` "
                                     "into it, after checking the dump is there and readable."},
            "target": {"type": "string", "minLength": 1,
                       "description": "The dump file on the host (`dump` and `restore`)."},
            "target_opts": {"type": "string",
                            "description": "More options for pg_dump (`dump`) or pg_restore/psql (`restore`), "
                                           "split like a shell command line, e.g. `--schema-only` or "
                                           "`--clean --if-exists`."},
            "format": {"enum": ["plain", "custom", "tar"],
                       "description": "The dump's format; default: by `target`'s extension (`.pgc` and "
                                      "`.dump` custom, `.tar` tar, else plain). On restore the file's content "
                                      "decides, and a `format` that disagrees with it is refused."},
            "maintenance_db": {"type": "string", "default": "postgres", "minLength": 1,
                               "description": "The database to connect to for `present` and `absent`."},
            **CONNECTION_PROPERTIES,
        },
        "required": ["name"],
        "allOf": [{"if": {"properties": {"state": {"enum": ["dump", "restore"]}}, "required": ["state"]},
                   "then": {"required": ["target"]}}],
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> Any:
        state = args.get("state", "present")
        try:
            if state in ("present", "absent"):
                query = prepare("select count(*) as found from pg_database where datname = %s", [args["name"]])
                found = run_statement(host, {**args, "db": args.get("maintenance_db", "postgres")}, query, JSON,
                                      "BEGIN READ ONLY")
                return found.result["query_result"][0]["found"] > 0 if found.result is not None else found.error
            if state == "restore":
                checked = run_tool(host, ["/bin/sh", "-c", _VERIFY, "sh", args["target"]], args)
                return checked.stdout.strip() or f"cannot check {args['target']}: {error_text(checked.stderr)}"
        except PasswordError as error:
            return str(error)
        return None

    def decide(self, args: dict[str, Any], state: Any, host: HostContext) -> Decision:
        name, wanted = args["name"], args.get("state", "present")
        result: dict[str, Any] = {"db": name, "state": wanted}
        if isinstance(state, str) and not state.startswith("ok "):
            return Decision(False, {**result, "msg": state.removeprefix("refused: ")}, failed=True)
        if wanted == "present":
            return Decision(not state, result, plan="create")
        if wanted == "absent":
            return Decision(bool(state), result, plan="drop")
        target = args["target"]
        if wanted == "dump":
            dump_format = format_of(target, args.get("format"))
            return Decision(True, {**result, "target": target, "format": dump_format}, plan=dump_format)
        _, found_format, size = state.split()
        if args.get("format") and args["format"] != found_format:
            return Decision(False, {**result, "msg": f"{target} is a {found_format} dump, not {args['format']}"},
                            failed=True)
        return Decision(True, {**result, "target": target, "format": found_format, "size": int(size)},
                        plan=found_format)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        result = dict(decision.result)
        wanted = args.get("state", "present")
        try:
            if wanted in ("present", "absent"):
                verb = "create" if wanted == "present" else "drop"
                statement = Statement(f'{verb} database :"titan_db_name"', verb.upper(), False,
                                      {"titan_db_name": args["name"]})
                outcome = run_statement(host, {**args, "db": args.get("maintenance_db", "postgres")}, statement,
                                        PLAIN, None)
                return result if outcome.result is not None else {**result, "failed": True, "msg": outcome.error}
            command = self._command(args, wanted, decision.plan)
            if wanted == "dump":
                done = run_tool(host, ["/bin/sh", "-c", _DUMP, "sh", args["target"], *command], args)
            else:
                done = run_tool(host, command, args)
        except PasswordError as error:
            return {**result, "failed": True, "changed": False, "msg": str(error)}
        result["command"] = shlex.join(command)
        if done.rc != 0:
            result.update(failed=True, rc=done.rc, msg=f"{wanted} of {args['name']} failed: "
                                                       f"{error_text(done.stderr) or f'exit status {done.rc}'}")
        elif wanted == "dump":
            result["size"] = int(done.stdout.split()[-1])
        return result

    @staticmethod
    def _command(args: dict[str, Any], wanted: str, dump_format: str) -> list[str]:
        """The pg_dump, pg_restore or psql command line (no password in it)."""
        extra = shlex.split(args.get("target_opts") or "")
        connection = connection_options(args)
        if wanted == "dump":
            return ["pg_dump", *connection, FORMAT_FLAGS[dump_format], *extra, "-d", args["name"]]
        if dump_format == "plain":
            return ["psql", "-X", "-q", *connection, "-v", "ON_ERROR_STOP=1", "--single-transaction", *extra,
                    "-d", args["name"], "-f", args["target"]]
        return ["pg_restore", *connection, "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
                *extra, "-d", args["name"], args["target"]]
