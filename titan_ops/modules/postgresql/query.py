"""``postgresql_query``: run one SQL statement with psql on the host; rows back as dicts.

How a statement runs (one psql process reading a script on its stdin):

- Parameters: ``%s`` and ``%(name)s`` placeholders (as with psycopg) become
  psql variables set with ``\\set`` and referenced as ``:'titan_arg_N'``:
  psql quotes the value as a literal itself, so a value is data whatever it
  holds. Numbers and booleans get a cast (``::bigint``, ``::numeric``,
  ``::boolean``); ``None`` is ``NULL``.
- Rows: a row-returning statement (``SELECT``, ``WITH``, ``VALUES``,
  ``TABLE``, and ``INSERT``/``UPDATE``/``DELETE``/``MERGE`` with
  ``RETURNING``) is wrapped as
  ``select coalesce(json_agg(r), '[]') from (STATEMENT) r`` (a data-modifying
  statement as ``with r as (STATEMENT) select ...``), so rows come back with
  JSON types (numbers, booleans, null, nested JSON; timestamps as ISO text).
  Other statements (``SHOW``, ``EXPLAIN``, a ``WITH`` that modifies data)
  return their rows as CSV, read as text.
- psql sends the rows to ``/dev/fd/3`` (``\\g``), which the wrapper makes
  the command's stdout; psql's own output (the command tag, e.g.
  ``UPDATE 3``, and ``:ROW_COUNT``) goes to stderr between markers. This
  separation needs psql 15 or later.

Reads run in inspect, inside ``BEGIN READ ONLY ... ROLLBACK``: they run in
check mode too and cannot change anything. A read-looking statement that
PostgreSQL refuses there (``SELECT nextval(...)``, ``SELECT ... FOR
UPDATE``, a ``WITH`` holding an ``INSERT``) is a modifying one. Modifying
statements run in act only, so check mode reports them as changes without
running them; ``changed`` is then false for an ``INSERT``/``UPDATE``/
``DELETE``/``MERGE`` that touched no row, as community.postgresql reports.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from titan_ops.modules.base import Decision, HostContext, Module
from titan_ops.modules.postgresql.client import (CONNECTION_PROPERTIES, PasswordError, connection_options,
                                                 error_text, run_tool, sqlstate)
from titan_ops.modules.postgresql.sql import SqlError, Statement, prepare, set_variable

READ_KEYWORDS = ("SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN")
DML_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "MERGE")
JSON, JSON_RETURNING, PLAIN = "json", "json_returning", "plain"
READ_ONLY_TRANSACTION = "25006"
FEATURE_NOT_SUPPORTED = "0A000"
_START, _END = "@@titan-ops-statement@@", "@@titan-ops-done@@"
_TAG = re.compile(r"^[A-Z][A-Z ]*[A-Z](?: \d+)*$")
_COUNTED_TAG = re.compile(r"^(?:INSERT \d+|UPDATE|DELETE|MERGE|COPY) (\d+)$")
_SCALAR = {"type": ["string", "number", "boolean", "null"]}


@dataclass(frozen=True)
class Outcome:
    """What one psql run gave: the result fields, or the error and its SQLSTATE."""

    result: dict[str, Any] | None = None
    error: str = ""
    sqlstate: str | None = None


@dataclass(frozen=True)
class Pending:
    """A modifying statement, to be run by act in ``shape``."""

    statement: Statement
    shape: str


def psql_script(statement: Statement, shape: str, transaction: str | None) -> str:
    """The psql script running ``statement``: rows to /dev/fd/3, the tag and row count between markers."""
    if shape == JSON:
        body = f"select coalesce(json_agg(titan_ops_row), '[]'::json) from (\n{statement.text}\n) titan_ops_row"
    elif shape == JSON_RETURNING:
        body = (f"with titan_ops_rows as (\n{statement.text}\n)\n"
                "select coalesce(json_agg(titan_ops_rows), '[]'::json) from titan_ops_rows")
    else:
        body = statement.text
    output = "(format=unaligned tuples_only=on)" if shape != PLAIN else "(format=csv)"
    lines = ["\\set ON_ERROR_STOP on", "\\set VERBOSITY verbose", "\\set SHOW_CONTEXT never", "\\set QUIET on",
             "\\pset pager off", "\\encoding UTF8",
             *(set_variable(name, value) for name, value in statement.variables.items())]
    if transaction:
        lines.append(f"{transaction};")
    lines += [f"\\echo {_START}", "\\set QUIET off", body, f"\\g {output} /dev/fd/3", "\\set QUIET on",
              f"\\echo {_END} :ROW_COUNT"]
    if transaction:
        lines.append("ROLLBACK;" if "READ ONLY" in transaction else "COMMIT;")
    return "\n".join(lines) + "\n"


class PostgresqlQuery(Module):
    """Run one SQL statement; rows as a list of dicts with JSON types."""

    name = "postgresql_query"
    collection = "community.postgresql"
    description = "Run one SQL statement with psql on the host; parameters as data, rows back as dicts."
    schema = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1,
                      "description": "One SQL statement (a final `;` is allowed). With `positional_args` or "
                                     "`named_args`, `%s` and `%(name)s` stand for values (not inside quotes) and "
                                     "`%%` is a literal `%`, as with psycopg. A backslash outside quotes (a psql "
                                     "meta-command) is refused."},
            "positional_args": {"type": "array", "items": _SCALAR,
                                "description": "Values for the `%s` placeholders, in order. Strings, numbers, "
                                               "booleans and null; each is sent as a psql variable, never "
                                               "formatted into the SQL."},
            "named_args": {"type": "object", "additionalProperties": _SCALAR,
                           "description": "Values for the `%(name)s` placeholders, by name."},
            "db": {"type": "string", "minLength": 1,
                   "description": "The database to connect to (default: libpq's, the user's name)."},
            "autocommit": {"type": "boolean", "default": False,
                           "description": "Run the statement outside a transaction, as `VACUUM`, `REINDEX "
                                          "CONCURRENTLY` or `CREATE DATABASE` need. Otherwise a modifying "
                                          "statement runs in `BEGIN ... COMMIT`."},
            "psql": {"type": "string", "default": "psql", "minLength": 1,
                     "description": "The psql command on the host (version 15 or later)."},
            **CONNECTION_PROPERTIES,
        },
        "required": ["query"],
        "not": {"required": ["positional_args", "named_args"]},
        "additionalProperties": False,
    }

    def inspect(self, host: HostContext, args: dict[str, Any]) -> dict[str, Any] | Pending | str:
        try:
            statement = prepare(args["query"], args.get("positional_args"), args.get("named_args"))
        except SqlError as error:
            return f"cannot run this query: {error}"
        if statement.keyword in DML_KEYWORDS and statement.returning:
            return Pending(statement, JSON_RETURNING)
        if statement.keyword not in READ_KEYWORDS:
            return Pending(statement, PLAIN)
        shape = PLAIN if statement.keyword in ("SHOW", "EXPLAIN") else JSON
        try:
            done = run_statement(host, args, statement, shape, "BEGIN READ ONLY")
        except PasswordError as error:
            return str(error)
        if done.result is not None:
            return done.result
        if done.sqlstate == READ_ONLY_TRANSACTION:
            return Pending(statement, shape)
        if done.sqlstate == FEATURE_NOT_SUPPORTED and statement.keyword == "WITH":
            return Pending(statement, PLAIN)
        return done.error

    def decide(self, args: dict[str, Any], state: dict[str, Any] | Pending | str, host: HostContext) -> Decision:
        if isinstance(state, str):
            return Decision(False, {"query": args["query"], "msg": state}, failed=True)
        if isinstance(state, dict):
            return Decision(False, {"query": args["query"], **state})
        return Decision(True, {"query": args["query"], "msg": "the statement would modify the database"},
                        plan=state)

    def act(self, host: HostContext, args: dict[str, Any], decision: Decision) -> dict[str, Any]:
        pending: Pending = decision.plan
        transaction = None if args.get("autocommit") else "BEGIN"
        try:
            done = run_statement(host, args, pending.statement, pending.shape, transaction)
        except PasswordError as error:
            return {"query": args["query"], "failed": True, "changed": False, "msg": str(error)}
        if done.result is None:
            return {"query": args["query"], "failed": True, "changed": False, "msg": done.error}
        result = done.result
        counted = _COUNTED_TAG.match(result["statusmessage"])
        return {"query": args["query"], **result, "changed": int(counted.group(1)) > 0 if counted else True}


def run_statement(host: HostContext, args: dict[str, Any], statement: Statement, shape: str,
                  transaction: str | None) -> Outcome:
    """Run ``statement`` with psql (in ``transaction``: ``BEGIN``, ``BEGIN READ ONLY`` or None).

    Raises PasswordError for a password psql cannot be given.
    """
    argv = [args.get("psql", "psql"), "-X", *connection_options(args)]
    if args.get("db"):
        argv += ["-d", args["db"]]
    done = run_tool(host, argv, args, psql_script(statement, shape, transaction), rows_on_stdout=True)
    if done.rc != 0:
        if done.rc == 127:
            message = f"psql not found on this host ({args.get('psql', 'psql')})"
        else:
            message = error_text(_without_markers(done.stderr)) or f"psql exit status {done.rc}"
        return Outcome(error=message, sqlstate=sqlstate(done.stderr))
    try:
        return Outcome(_read_output(statement, shape, done.stdout, done.stderr))
    except ValueError as error:
        return Outcome(error=f"unreadable psql output: {error}")


def _without_markers(stderr: str) -> str:
    return "\n".join(line for line in stderr.splitlines() if not line.startswith("@@titan-ops-"))


def _read_output(statement: Statement, shape: str, stdout: str, stderr: str) -> dict[str, Any]:
    """query_result, rowcount and statusmessage from psql's streams."""
    lines = stderr.splitlines()
    starts = [index for index, line in enumerate(lines) if line == _START]
    ends = [index for index, line in enumerate(lines) if line.startswith(_END)]
    if not starts or not ends:
        raise ValueError("the statement's markers are missing")
    region = lines[starts[-1] + 1:ends[-1]]
    tags = [line.strip() for line in region if _TAG.match(line.strip())]
    row_count = int(lines[ends[-1]].split()[-1]) if lines[ends[-1]].split()[-1].isdigit() else 0
    if shape == PLAIN:
        rows = _csv_rows(stdout)
        count = len(rows) if rows else row_count
        status = tags[-1] if tags else (f"SELECT {count}" if statement.keyword not in ("SHOW", "EXPLAIN")
                                        else statement.keyword)
    else:
        rows = json.loads(stdout) if stdout.strip() else []
        count = len(rows)
        status = _tag_for(statement, count) if shape == JSON_RETURNING else f"SELECT {count}"
    return {"query_result": rows, "rowcount": count, "statusmessage": status}


def _tag_for(statement: Statement, count: int) -> str:
    """The command tag PostgreSQL gives a data-modifying statement that touched ``count`` rows."""
    return f"INSERT 0 {count}" if statement.keyword == "INSERT" else f"{statement.keyword} {count}"


def _csv_rows(text: str) -> list[dict[str, str]]:
    """Rows of psql's CSV output (with a header); every value is text, NULL an empty string."""
    if not text.strip():
        return []
    table = list(csv.reader(io.StringIO(text)))
    header, body = table[0], table[1:]
    return [{name: value for name, value in zip(header, row)} for row in body]
