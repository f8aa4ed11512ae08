"""Host patterns, as a play's ``hosts:`` and ``--limit`` take them.

A pattern is a list of terms separated by ``,`` (or, when there is no comma,
by ``:`` outside ``[...]``). A term is a host or group name, a glob (``*``,
``?``, ``[abc]``), or ``~regex`` (matched at the start of names); a group
term may take a subscript ``[i]``, ``[i:j]`` (inclusive) or ``[i:]``.
``&term`` keeps only hosts that also match it, ``!term`` drops those that
match it; plain terms are added first, then ``&`` terms applied, then ``!``
terms, whatever their order in the pattern. A pattern of only ``&`` and
``!`` terms starts from ``all``. A limit may name ``@file``: one pattern a line.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence

from titan_ops.errors import InventoryError
from titan_ops.inventory.addresses import split_port
from titan_ops.inventory.model import LOCALHOST_NAMES, Host, InventoryData
from titan_ops.source_text import read_source

_TERM = re.compile(r"(?:\[[^\]]*\]|[^\s:\[\]])+")
_SUBSCRIPT = re.compile(
    r"^(?P<expr>.+)\[(?:(?P<index>-?\d+)|(?P<start>\d+)(?::(?P<end>\d*)|-(?P<last>\d+)))\]$")
_GLOB_CHARS = "*?["
_NAME_SPECIALS = ".?*["


def split_pattern(pattern: str | Sequence[str]) -> list[str]:
    """The terms of ``pattern``, in order; a ``[`` without its ``]`` (or the reverse) is an error."""
    if not isinstance(pattern, str):
        return [term for part in pattern for term in split_pattern(part)]
    _check_brackets(pattern)
    if "," in pattern:
        parts = pattern.split(",")
    elif ":" in pattern and split_port(pattern) is not None:
        parts = [pattern]
    else:
        parts = _TERM.findall(pattern)
    return [part.strip() for part in parts if part.strip()]


def _check_brackets(pattern: str) -> None:
    depth = 0
    for char in pattern:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if depth not in (0, 1):
            break
    if depth:
        raise InventoryError(f"malformed host pattern '{pattern}': unbalanced '[' or ']'")


def limit_terms(limit: str) -> list[str]:
    """The terms of a ``--limit``, each ``@file`` replaced by the file's non-empty lines."""
    terms: list[str] = []
    for term in split_pattern(limit):
        if not term.startswith("@"):
            terms.append(term)
            continue
        lines = read_source(term[1:], InventoryError, "limit file").splitlines()
        terms.extend(line.strip() for line in lines if line.strip())
    return terms


class HostMatcher:
    """Resolves patterns to hosts of one inventory."""

    def __init__(self, data: InventoryData) -> None:
        self.data = data

    def hosts(self, pattern: str | Sequence[str], limit: str | None = None) -> list[Host]:
        """The hosts ``pattern`` selects, in Ansible's order, kept only if ``limit`` selects them too."""
        selected = self.evaluate(split_pattern(pattern))
        if limit is not None:
            allowed = {host.name for host in self.evaluate(limit_terms(limit))}
            selected = [host for host in selected if host.name in allowed]
        return selected

    def evaluate(self, terms: list[str]) -> list[Host]:
        """Union the plain terms, then intersect with ``&`` terms, then remove ``!`` terms."""
        plain = [term for term in terms if term[0] not in "&!"] or ["all"]
        result: list[Host] = []
        names: set[str] = set()
        for term in plain:
            found = [self.data.hosts[term]] if term in self.data.hosts else self.match(term)
            for host in found:
                if host.name not in names:
                    names.add(host.name)
                    result.append(host)
        for term in (term for term in terms if term[0] == "&"):
            keep = {host.name for host in self.match(self._operand(term))}
            result = [host for host in result if host.name in keep]
        for term in (term for term in terms if term[0] == "!"):
            drop = {host.name for host in self.match(self._operand(term))}
            result = [host for host in result if host.name not in drop]
        return result

    @staticmethod
    def _operand(term: str) -> str:
        if len(term) == 1:
            raise InventoryError(f"host pattern term '{term}' names nothing after '{term}'")
        return term[1:]

    def match(self, term: str) -> list[Host]:
        """The hosts one term (without ``&``/``!``) selects, subscript applied."""
        subscript = None if term.startswith("~") else _SUBSCRIPT.match(term)
        if not subscript:
            return self._enumerate(term)
        hosts = self._enumerate(subscript.group("expr"))
        if subscript.group("index") is not None:
            index = int(subscript.group("index"))
            return [hosts[index]] if -len(hosts) <= index < len(hosts) else []
        start = int(subscript.group("start"))
        end = subscript.group("last") or subscript.group("end")
        return hosts[start:int(end) + 1] if end else hosts[start:]

    def _enumerate(self, expression: str) -> list[Host]:
        """Hosts of the groups ``expression`` matches, then hosts it matches by name.

        Host names are tried when no group matched or when the expression is a
        regex, a glob or holds a dot; a local machine name nothing else
        matched means the local host.
        """
        matches = _matcher(expression)
        groups = [group for group in self.data.groups.values() if matches(group.name)]
        found = [host for group in groups for host in self.data.group_hosts(group)]
        if not groups or expression.startswith("~") or any(char in expression for char in _NAME_SPECIALS):
            found.extend(host for host in self.data.hosts.values() if matches(host.name))
        if not found and expression in LOCALHOST_NAMES:
            found.append(self.data.localhost(expression))
        return found


def _matcher(expression: str) -> Callable[[str], bool]:
    """A predicate on names: regex (``~``), glob, or plain equality."""
    if expression.startswith("~"):
        try:
            regex = re.compile(expression[1:])
        except re.error as error:
            raise InventoryError(f"invalid regular expression in host pattern '{expression}': {error}") from None
        return lambda name: regex.match(name) is not None
    if any(char in expression for char in _GLOB_CHARS):
        return lambda name: fnmatch.fnmatchcase(name, expression)
    return lambda name: name == expression
