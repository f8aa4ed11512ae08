"""Type checks and conversions of module options (``check_type_*``), with ansible-core's messages, and the
checks between options (``check_mutually_exclusive``, ``check_required_if``, ...)."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from ..parsing.convert_bool import boolean


def count_terms(terms: Any, parameters: Mapping[str, Any]) -> int:
    """How many of ``terms`` (a name or names) ``parameters`` holds."""
    names = [terms] if isinstance(terms, str) else terms
    return len(set(names) & set(parameters))


def _located(message: str, options_context: Sequence[str] | None) -> str:
    return f"{message} found in {' -> '.join(options_context)}" if options_context else message


def check_mutually_exclusive(terms: Any, parameters: Mapping[str, Any],
                             options_context: Sequence[str] | None = None) -> list:
    """TypeError when more than one name of any group of ``terms`` is given."""
    clashes = [group for group in terms or () if count_terms(group, parameters) > 1]
    if clashes:
        joined = ", ".join("|".join(group) for group in clashes)
        raise TypeError(_located(f"parameters are mutually exclusive: {joined}", options_context))
    return []


def check_required_one_of(terms: Any, parameters: Mapping[str, Any],
                          options_context: Sequence[str] | None = None) -> list:
    """TypeError when none of the names of a group of ``terms`` is given."""
    for group in terms or ():
        if count_terms(group, parameters) == 0:
            raise TypeError(_located(f"one of the following is required: {', '.join(group)}", options_context))
    return []


def check_required_together(terms: Any, parameters: Mapping[str, Any],
                            options_context: Sequence[str] | None = None) -> list:
    """TypeError when some but not all names of a group of ``terms`` are given."""
    for group in terms or ():
        given = count_terms(group, parameters)
        if given and given != len(group):
            raise TypeError(_located(f"parameters are required together: {', '.join(group)}", options_context))
    return []


def check_required_by(requirements: Mapping[str, Any] | None, parameters: Mapping[str, Any],
                      options_context: Sequence[str] | None = None) -> dict:
    """TypeError when an option is given without the options it requires."""
    for key, needed in (requirements or {}).items():
        if parameters.get(key) is None:
            continue
        needed = [needed] if isinstance(needed, str) else needed
        missing = [name for name in needed if parameters.get(name) is None]
        if missing:
            raise TypeError(_located(f"missing parameter(s) required by '{key}': {', '.join(missing)}",
                                     options_context))
    return {}


def check_required_if(requirements: Any, parameters: Mapping[str, Any],
                      options_context: Sequence[str] | None = None) -> list:
    """TypeError when an option has a value that requires others (all of them, or any with a 4th item true)."""
    for requirement in requirements or ():
        key, value, needed = requirement[0], requirement[1], requirement[2]
        any_of = len(requirement) > 3 and requirement[3]
        if key not in parameters or parameters[key] != value:
            continue
        missing = [name for name in needed if parameters.get(name) is None]
        if missing and (not any_of or len(missing) == len(needed)):
            words = "any" if any_of else "all"
            raise TypeError(_located(f"{key} is {value} but {words} of the following are missing: "
                                     f"{', '.join(missing)}", options_context))
    return []


def check_required_arguments(argument_spec: Mapping[str, Any], parameters: Mapping[str, Any],
                             options_context: Sequence[str] | None = None) -> list:
    """TypeError naming the required options ``parameters`` lacks (sorted, as ansible-core names them)."""
    missing = sorted(name for name, spec in argument_spec.items()
                     if spec.get("required") and name not in parameters)
    if missing:
        raise TypeError(_located(f"missing required arguments: {', '.join(missing)}", options_context))
    return []


def check_type_str(value: Any, allow_conversion: bool = True, param: str | None = None, prefix: str = "") -> str:
    """``value`` as text (other values converted when ``allow_conversion``)."""
    if isinstance(value, str):
        return value
    if allow_conversion:
        return str(value)
    raise TypeError(f"'{value!r}' is not a string and conversion is not allowed")


def check_type_list(value: Any) -> list:
    """``value`` as a list: a comma-separated string is split, a number is a list of its text."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    raise TypeError(f"{type(value)} cannot be converted to a list")


def check_type_dict(value: Any) -> dict:
    """``value`` as a dict: a JSON object or ``key=value`` words in a string."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{type(value)} cannot be converted to a dict")
    if value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            raise TypeError("unable to evaluate string as dictionary") from None
    try:
        words = shlex.split(value.replace(",", " ")) if "=" in value else None
    except ValueError:
        words = None
    if not words or any("=" not in word for word in words):
        raise TypeError("dictionary requested, could not parse JSON or key=value")
    return dict(word.split("=", 1) for word in words)


def check_type_bool(value: Any) -> bool:
    """``value`` as a bool (``yes``, ``on``, ``1``, ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, int, float)):
        return boolean(value)
    raise TypeError(f"{type(value)} cannot be converted to a bool")


def check_type_int(value: Any) -> int:
    """``value`` as an int (a float only when whole)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    elif isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f'"{value!r}" cannot be converted to an int')


def check_type_float(value: Any) -> float:
    """``value`` as a float."""
    if isinstance(value, float):
        return value
    if isinstance(value, (int, str, bytes)) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            pass
    raise TypeError(f"{type(value)} cannot be converted to a float")


def check_type_path(value: Any) -> str:
    """``value`` as a path, ``~`` and ``$VARIABLES`` expanded."""
    return os.path.expanduser(os.path.expandvars(check_type_str(value)))


def check_type_raw(value: Any) -> Any:
    """``value`` as given."""
    return value


def check_type_bytes(value: Any) -> int:
    """``10M``, ``1.5K``, ... as a number of bytes."""
    try:
        return human_to_bytes(value)
    except ValueError:
        raise TypeError(f"{type(value)} cannot be converted to a Byte value") from None


def check_type_bits(value: Any) -> int:
    """``10Mb``, ... as a number of bits."""
    try:
        return human_to_bytes(value, isbits=True)
    except ValueError:
        raise TypeError(f"{type(value)} cannot be converted to a Bit value") from None


def check_type_jsonarg(value: Any) -> str:
    """``value`` as JSON text (a list or dict is serialised)."""
    if isinstance(value, (str, bytes)):
        return value.strip()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    raise TypeError(f"{type(value)} cannot be converted to a json string")


_UNITS = "KMGTPEZY"
_SIZE = re.compile(r"^\s*(\d*\.?\d*)\s*([A-Za-z]+)?\s*$")


def human_to_bytes(number: Any, default_unit: str | None = None, isbits: bool = False) -> int:
    """``1K`` -> 1024 (``1Kb`` in bits with ``isbits``); ValueError when it is no size."""
    match = _SIZE.match(str(number))
    if not match or not match.group(1):
        raise ValueError(f"human_to_bytes() can't interpret following string: {number}")
    amount = float(match.group(1))
    unit = match.group(2) or default_unit or ""
    letter = unit[:1].upper()
    suffix = unit[1:]
    if not unit or unit in ("B", "b"):
        return int(round(amount))
    if letter not in _UNITS or suffix not in ("", "b" if isbits else "B"):
        raise ValueError(f"human_to_bytes() failed to convert {number}: unknown unit {unit}")
    return int(round(amount * (1 << (10 * (_UNITS.index(letter) + 1)))))


CHECKERS = {
    "str": check_type_str, "list": check_type_list, "dict": check_type_dict, "bool": check_type_bool,
    "int": check_type_int, "float": check_type_float, "path": check_type_path, "raw": check_type_raw,
    "bytes": check_type_bytes, "bits": check_type_bits, "jsonarg": check_type_jsonarg, "json": check_type_jsonarg,
}
"""The checker of each option type by its name in an argument spec."""
