"""Just enough SQL lexing to run one statement through psql safely.

The lexer tells code from string literals, quoted identifiers, dollar-quoted
bodies and comments. With it: the statement's first keyword (what kind of
statement it is), whether it has ``RETURNING``, that there is one statement,
that no psql meta-command (a backslash outside quotes) is hidden in it, and
the translation of psycopg-style placeholders (``%s``, ``%(name)s``, ``%%``)
into psql variables (``:'titan_arg_1'``), whose values psql quotes itself.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import partial
from typing import Any
from collections.abc import Mapping, Sequence

CODE, QUOTED, COMMENT = "code", "quoted", "comment"
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
_PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^()]*)\))?(?P<kind>.?)", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_]+")
_BIGINT = (-(2 ** 63), 2 ** 63 - 1)
VARIABLE_PREFIX = "titan_arg_"


class SqlError(ValueError):
    """The query cannot be run as given."""


@dataclass(frozen=True)
class Segment:
    kind: str
    text: str


def segments(sql: str) -> list[Segment]:
    """``sql`` cut into code, quoted text (literals, identifiers, dollar quotes) and comments."""
    found: list[Segment] = []
    code_start = index = 0
    length = len(sql)

    def close_code(end: int) -> None:
        if end > code_start:
            found.append(Segment(CODE, sql[code_start:end]))

    while index < length:
        char = sql[index]
        end = None
        kind = QUOTED
        if char == "-" and sql.startswith("--", index):
            newline = sql.find("\n", index)
            end, kind = (length if newline < 0 else newline + 1), COMMENT
        elif char == "/" and sql.startswith("/*", index):
            end, kind = _block_comment_end(sql, index), COMMENT
        elif char == "'":
            escapes = index > 0 and sql[index - 1] in "eE" and (index < 2 or not _is_word_char(sql[index - 2]))
            end = _quoted_end(sql, index, "'", escapes)
        elif char == '"':
            end = _quoted_end(sql, index, '"', False)
        elif char == "$" and (index == 0 or not _is_word_char(sql[index - 1])):
            tag = _DOLLAR_TAG.match(sql, index)
            if tag:
                closing = sql.find(tag.group(0), tag.end())
                if closing < 0:
                    raise SqlError(f"unterminated dollar-quoted string {tag.group(0)}")
                end = closing + len(tag.group(0))
        if end is None:
            index += 1
            continue
        close_code(index)
        found.append(Segment(kind, sql[index:end]))
        index = code_start = end
    close_code(length)
    return found


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _quoted_end(sql: str, start: int, quote: str, backslash_escapes: bool) -> int:
    index = start + 1
    while index < len(sql):
        char = sql[index]
        if backslash_escapes and char == "\\":
            index += 2
            continue
        if char == quote:
            if sql.startswith(quote * 2, index):
                index += 2
                continue
            return index + 1
        index += 1
    raise SqlError(f"unterminated quoted string starting with {sql[start:start + 20]!r}")


def _block_comment_end(sql: str, start: int) -> int:
    depth, index = 0, start
    while index < len(sql):
        if sql.startswith("/*", index):
            depth, index = depth + 1, index + 2
        elif sql.startswith("*/", index):
            depth, index = depth - 1, index + 2
            if depth == 0:
                return index
        else:
            index += 1
    raise SqlError("unterminated /* comment")


@dataclass(frozen=True)
class Statement:
    """One SQL statement, ready for psql: its text (without the final ``;``) and what kind it is."""

    text: str
    keyword: str
    """The first keyword, upper case (``SELECT``, ``INSERT``, ``VACUUM`` ...)."""
    returning: bool
    """Whether the code (not a literal or comment) says ``RETURNING``."""
    variables: dict[str, str]
    """psql variables to set (name -> value) before the statement."""


def prepare(sql: str, positional: Sequence[Any] | None = None, named: Mapping[str, Any] | None = None) -> Statement:
    """Check ``sql`` and turn its placeholders into psql variables.

    Raises SqlError for more than one statement, a psql meta-command, a
    placeholder without a value (or inside quotes), or a value that is not a
    scalar.
    """
    parts = segments(sql)
    if positional is not None or named is not None:
        parts, variables = _bind(parts, positional, named)
    else:
        variables = {}
    code = "".join(part.text for part in parts if part.kind == CODE)
    if "\\" in code:
        raise SqlError("a backslash outside quotes would be a psql meta-command; it is not allowed in the query")
    pieces = _split_statements(parts)
    if len(pieces) != 1:
        raise SqlError("the query must hold exactly one SQL statement" if pieces else "the query is empty")
    words = _WORD.findall(pieces[0][1])
    return Statement(text=pieces[0][0], keyword=words[0].upper() if words else "",
                     returning="RETURNING" in (word.upper() for word in words), variables=variables)


def _split_statements(parts: list[Segment]) -> list[tuple[str, str]]:
    """(text, code only) of each statement with some code, split at ``;`` outside quotes."""
    statements: list[tuple[str, str]] = []
    text, code = "", ""
    for part in parts:
        if part.kind != CODE:
            text += part.text
            continue
        pieces = part.text.split(";")
        for piece in pieces[:-1]:
            text, code = text + piece, code + piece
            if code.strip():
                statements.append((text, code))
            text, code = "", ""
        text, code = text + pieces[-1], code + pieces[-1]
    if code.strip():
        statements.append((text, code))
    return [(body.strip(), code) for body, code in statements]


def _bind(parts: list[Segment], positional: Sequence[Any] | None,
          named: Mapping[str, Any] | None) -> tuple[list[Segment], dict[str, str]]:
    """Replace placeholders in code; ``%%`` becomes ``%`` everywhere, as psycopg does."""
    variables: dict[str, str] = {}
    names: dict[str, str] = {}
    position = 0
    bound: list[Segment] = []

    def replace(match: re.Match[str], kind: str) -> str:
        nonlocal position
        if match.group(0) == "%%":
            return "%"
        if match.group("kind") != "s":
            raise SqlError(f"bad placeholder {match.group(0)!r}: use %s, %(name)s, or %% for a literal %")
        if kind != CODE:
            raise SqlError(f"placeholder {match.group(0)} inside a quoted string or comment: "
                           "put it where a value goes, without quotes")
        key = match.group("name")
        if key is None:
            if positional is None:
                raise SqlError("%s placeholder but no positional_args")
            if position >= len(positional):
                raise SqlError(f"more %s placeholders than positional_args ({len(positional)})")
            value, position = positional[position], position + 1
            return _reference(value, variables, f"{VARIABLE_PREFIX}{len(variables) + 1}")
        if named is None:
            raise SqlError(f"%({key})s placeholder but no named_args")
        if key not in named:
            raise SqlError(f"named_args has no {key!r}")
        if key not in names:
            names[key] = _reference(named[key], variables, f"{VARIABLE_PREFIX}{len(variables) + 1}")
        return names[key]

    for part in parts:
        text = _PLACEHOLDER.sub(partial(replace, kind=part.kind), part.text)
        bound.append(Segment(part.kind, text))
    if positional is not None and position != len(positional):
        raise SqlError(f"{len(positional)} positional_args but {position} %s placeholders")
    return bound, variables


def _reference(value: Any, variables: dict[str, str], name: str) -> str:
    """The SQL that stands for ``value``: a psql variable, quoted by psql, with a cast for non-strings."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        variables[name] = "true" if value else "false"
        return f"(:'{name}'::boolean)"
    if isinstance(value, int):
        variables[name] = str(value)
        return f"(:'{name}'::{'bigint' if _BIGINT[0] <= value <= _BIGINT[1] else 'numeric'})"
    if isinstance(value, float):
        variables[name] = _float_text(value)
        return f"(:'{name}'::numeric)"
    if isinstance(value, str):
        if "\x00" in value:
            raise SqlError("a parameter holds a NUL character, which PostgreSQL text cannot hold")
        variables[name] = value
        return f":'{name}'"
    raise SqlError(f"a parameter must be a string, number, boolean or null, not {type(value).__name__}")


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def set_variable(name: str, value: str) -> str:
    """The psql line ``\\set name 'value'``, with psql's escapes: any text stays one argument."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    return f"\\set {name} '{escaped}'"

