"""Ansible's jinja2 filters and tests, written for titan-ops."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os.path
import shlex
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
import regex
import yaml

from titan_ops import filters_data, filters_passwords, filters_protomatter, filters_text, sandbox
from titan_ops.errors import TemplateError
from titan_ops.yaml_bounds import BoundedSafeLoader


def to_bool(value: Any) -> bool:
    """Ansible's ``bool`` filter: yes/on/true/1 are true, anything else false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value == 1
    return str(value).strip().lower() in ("yes", "on", "1", "true", "y", "t")


def to_json(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, **kwargs)


def to_nice_json(value: Any, indent: int = 4, sort_keys: bool = True, **kwargs: Any) -> str:
    return json.dumps(value, indent=indent, sort_keys=sort_keys, separators=(",", ": "), **kwargs)


def from_json(value: str) -> Any:
    return json.loads(value)


def to_yaml(value: Any, **kwargs: Any) -> str:
    flow = kwargs.pop("default_flow_style", None)
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=flow, **kwargs)


def to_nice_yaml(value: Any, indent: int = 4, **kwargs: Any) -> str:
    return yaml.safe_dump(value, indent=indent, allow_unicode=True, default_flow_style=False, **kwargs)


def from_yaml(value: Any) -> Any:
    if value is None or not isinstance(value, str):  # as ansible-core: None is None, a non-text value stays
        return value
    try:
        return yaml.load(str(value), Loader=BoundedSafeLoader)  # noqa: S506 - a safe loader, bounded
    except yaml.YAMLError as error:
        raise TemplateError(f"from_yaml: {error}") from None


def _regex_flags(ignorecase: bool, multiline: bool) -> int:
    return (regex.IGNORECASE if ignorecase else 0) | (regex.MULTILINE if multiline else 0)


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str, flags: int) -> regex.Pattern:
    try:
        return regex.compile(pattern, flags)
    except regex.error as error:
        raise TemplateError(f"invalid regular expression '{pattern}': {error}") from None


def _regex(operation: str, pattern: str, flags: int, *args: Any, **kwargs: Any) -> Any:
    """A ``regex`` pattern's ``operation`` within the running template's deadline (a catastrophic pattern is
    a TemplateError, never a hang)."""
    try:
        return getattr(_compiled(pattern, flags), operation)(*args, timeout=sandbox.remaining(), **kwargs)
    except TimeoutError:
        raise sandbox.LimitReached(f"the regular expression '{pattern}' took longer than the template's deadline: "
                            "stopped") from None
    except regex.error as error:
        raise TemplateError(f"regular expression '{pattern}': {error}") from None


def regex_replace(value: Any, pattern: str = "", replacement: str = "", ignorecase: bool = False,
                  multiline: bool = False, count: int = 0, mandatory_count: int = 0) -> str:
    """``re.sub``; with ``mandatory_count``, an error unless the pattern matched that many times."""
    replaced, matches = _regex("subn", pattern, _regex_flags(ignorecase, multiline), replacement, str(value),
                               count=count)
    if mandatory_count and mandatory_count != matches:
        raise TemplateError(f"'{pattern}' should match {mandatory_count} times, but matches {matches} times in "
                            f"'{value}'")
    return replaced


def regex_search(value: Any, pattern: str, *groups: str, ignorecase: bool = False, multiline: bool = False) -> Any:
    match = _regex("search", pattern, _regex_flags(ignorecase, multiline), str(value))
    if match is None:
        return None
    if not groups:
        return match.group(0)
    picked = []
    for group in groups:
        if group.startswith("\\g<") and group.endswith(">"):
            picked.append(match.group(group[3:-1]))
        elif group.startswith("\\"):
            picked.append(match.group(int(group[1:])))
        else:
            raise TemplateError(f"Unknown argument '{group}' (regex_search takes group references: \\1, \\g<name>)")
    return picked


def ternary(value: Any, true_value: Any, false_value: Any, none_value: Any = None) -> Any:
    if value is None and none_value is not None:
        return none_value
    return true_value if value else false_value


def dict2items(value: Mapping, key_name: str = "key", value_name: str = "value") -> list[dict]:
    if not isinstance(value, Mapping):
        raise TemplateError(f"dict2items requires a dictionary, got {type(value).__name__}")
    return [{key_name: key, value_name: item} for key, item in value.items()]


def items2dict(value: list, key_name: str = "key", value_name: str = "value") -> dict:
    if not isinstance(value, (list, tuple)):
        raise TemplateError(f"items2dict requires a list, got {type(value).__name__} instead.")
    if not all(isinstance(item, Mapping) for item in value):
        raise TemplateError(f"items2dict requires a list of dictionaries, got {value} instead.")
    if not all(key_name in item and value_name in item for item in value):
        raise TemplateError(f"items2dict requires each dictionary in the list to contain the keys '{key_name}' and "
                            f"'{value_name}', got {value} instead.")
    return {item[key_name]: item[value_name] for item in value}


_LIST_MERGES = ("replace", "keep", "append", "prepend", "append_rp", "prepend_rp")


def _merged_lists(current: list, value: list, list_merge: str) -> list:
    """Two lists merged as ``list_merge`` says (``_rp``: the first's items that the second has are removed)."""
    if list_merge == "append_rp":
        return [item for item in current if item not in value] + value
    if list_merge == "prepend_rp":
        return value + [item for item in current if item not in value]
    return {"append": current + value, "prepend": value + current, "keep": current}.get(list_merge, value)


def _merge(base: Any, other: Any, recursive: bool, list_merge: str) -> dict:
    if not (isinstance(base, Mapping) and isinstance(other, Mapping)):
        raise TemplateError("failed to combine variables, expected dicts but got a "
                            f"'{type_debug(base)}' and a '{type_debug(other)}'.")
    result = dict(base)
    for key, value in other.items():
        current = result.get(key)
        if recursive and isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = _merge(dict(current), value, recursive, list_merge)
        elif isinstance(current, list) and isinstance(value, list):
            result[key] = _merged_lists(current, value, list_merge)
        else:
            result[key] = value
    return result


def combine(*dicts: Any, **options: Any) -> Any:
    """The dictionaries (or lists of them) merged, the later ones winning; ``recursive`` merges nested
    dictionaries, ``list_merge`` says how two lists merge."""
    recursive = options.pop("recursive", False)
    list_merge = options.pop("list_merge", "replace")
    if options:
        raise TemplateError("'recursive' and 'list_merge' are the only valid keyword arguments")
    if list_merge not in _LIST_MERGES:
        raise TemplateError(f"'list_merge' can only be one of {', '.join(_LIST_MERGES)}, got '{list_merge}'")
    mappings = flatten(dicts, levels=1)
    if len(mappings) <= 1:
        return mappings[0] if mappings else {}
    result = mappings[0]
    for mapping in mappings[1:]:
        result = _merge(result, mapping, recursive, list_merge)
    return result


def b64encode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(str(value).encode(encoding)).decode("ascii")


def b64decode(value: Any, encoding: str = "utf-8", urlsafe: bool = False) -> str:
    decode = base64.urlsafe_b64decode if urlsafe else base64.b64decode
    return decode(str(value)).decode(encoding)


def hash_filter(value: Any, algorithm: str = "sha1") -> str:
    try:
        digest = hashlib.new(algorithm)
    except ValueError:
        raise TemplateError(f"unsupported hash type {algorithm}") from None
    digest.update(str(value).encode("utf-8"))
    return digest.hexdigest()


def quote(value: Any) -> str:
    return shlex.quote("" if value is None else str(value))


def mandatory(value: Any, msg: str | None = None) -> Any:
    if isinstance(value, jinja2.Undefined):
        if msg is not None:
            raise TemplateError(str(msg))
        name = getattr(value, "_undefined_name", None)
        raise TemplateError(f"Mandatory variable {'' if name is None else repr(name) + ' '}not defined.")
    return value


def breaker_kind(breaker: Any) -> str:
    """Titan's circuit breaker report -> ``valid``, ``false_positive`` or ``system_failure`` (the triage's rule)."""
    from titan_ops.triage import breaker_kind as classify

    return classify(breaker if isinstance(breaker, Mapping) else None)


def default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    if isinstance(value, jinja2.Undefined) or (boolean and not value):
        return default_value
    return value


def _result_flag(value: Any, name: str) -> Mapping:
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()  # "'reg' is undefined", as Ansible says
    if not isinstance(value, Mapping):
        raise TemplateError(f"the '{name}' test expects a task result, got {type(value).__name__}")
    return value


def failed(value: Any) -> bool:
    return bool(_result_flag(value, "failed").get("failed", False))


def succeeded(value: Any) -> bool:
    return not failed(value)


def changed(value: Any) -> bool:
    return bool(_result_flag(value, "changed").get("changed", False))


def skipped(value: Any) -> bool:
    return bool(_result_flag(value, "skipped").get("skipped", False))


def unreachable(value: Any) -> bool:
    return bool(_result_flag(value, "unreachable").get("unreachable", False))


def contains(value: Any, item: Any) -> bool:
    """Ansible's ``contains`` test: ``[1, 2] is contains 1`` (``in`` with the operands swapped)."""
    return item in value


def subset(value: Any, other: Any) -> bool:
    return all(item in other for item in value)


def superset(value: Any, other: Any) -> bool:
    return all(item in value for item in other)


def path_join(parts: Any) -> str:
    """Ansible's ``path_join``: a list of path parts joined (a later absolute part starts anew)."""
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, (list, tuple)):
        raise TemplateError(f"|path_join expects string or sequence, got {type_debug(parts)} instead.")
    return os.path.join(*[str(part) for part in parts]) if parts else ""


def commonpath(paths: Any) -> str:
    """Ansible's ``commonpath``: the longest path every one of a list of paths starts with."""
    if not isinstance(paths, (list, tuple)):
        raise TemplateError(f"|commonpath expects sequence, got {type_debug(paths)} instead.")
    return os.path.commonpath([str(path) for path in paths])


def union(value: Any, other: Any) -> list[Any]:
    """The items of both lists, each once, in order of appearance (Ansible's ``union``)."""
    return _unique([*value, *other])


def intersect(value: Any, other: Any) -> list[Any]:
    return _unique([item for item in value if item in other])


def difference(value: Any, other: Any) -> list[Any]:
    return _unique([item for item in value if item not in other])


def symmetric_difference(value: Any, other: Any) -> list[Any]:
    return _unique([item for item in [*value, *other] if (item in value) != (item in other)])


def _unique(items: list[Any]) -> list[Any]:
    found: list[Any] = []
    for item in items:
        if item not in found:
            found.append(item)
    return found


_NULLS = ("None", "null")


def flatten(value: Any, levels: int | None = None, skip_nulls: bool = True) -> list[Any]:
    """Nested lists made flat (``levels``: how deep; None: all the way), without the nulls (None, 'None',
    'null') unless ``skip_nulls`` is false, as Ansible's ``flatten``."""
    flat: list[Any] = []
    for item in value:
        if skip_nulls and (item is None or (isinstance(item, str) and item in _NULLS)):
            continue
        if isinstance(item, (list, tuple)) and (levels is None or levels > 0):
            flat.extend(flatten(item, None if levels is None else int(levels) - 1, skip_nulls))
        else:
            flat.append(item)
    return flat


def type_debug(value: Any) -> str:
    """The Python type name of ``value`` (Ansible's ``type_debug``)."""
    for kind, name in ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (Mapping, "dict"),
                       (list, "list")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def regex_findall(value: Any, pattern: str, ignorecase: bool = False, multiline: bool = False) -> list[Any]:
    return _regex("findall", pattern, _regex_flags(ignorecase, multiline), str(value))


def match(value: Any, pattern: str, ignorecase: bool = False, multiline: bool = False) -> bool:
    return _regex("match", pattern, _regex_flags(ignorecase, multiline), str(value)) is not None


def search(value: Any, pattern: str, ignorecase: bool = False, multiline: bool = False) -> bool:
    return _regex("search", pattern, _regex_flags(ignorecase, multiline), str(value)) is not None


FILTERS: dict[str, Callable[..., Any]] = {
    "bool": to_bool,
    "default": default,
    "d": default,
    "to_json": to_json,
    "to_nice_json": to_nice_json,
    "from_json": from_json,
    "to_yaml": to_yaml,
    "to_nice_yaml": to_nice_yaml,
    "from_yaml": from_yaml,
    "regex_replace": regex_replace,
    "regex_search": regex_search,
    "basename": os.path.basename,
    "dirname": os.path.dirname,
    "ternary": ternary,
    "dict2items": dict2items,
    "items2dict": items2dict,
    "combine": combine,
    "b64encode": b64encode,
    "b64decode": b64decode,
    "hash": hash_filter,
    "quote": quote,
    "mandatory": mandatory,
    "breaker_kind": breaker_kind,
    "path_join": path_join,
    # the controller's paths, as in Ansible (a host's home is not known here)
    "expanduser": lambda path: os.path.expanduser(str(path)),
    "realpath": lambda path: os.path.realpath(str(path)),
    "relpath": lambda path, start=os.curdir: os.path.relpath(str(path), str(start)),
    "splitext": lambda path: os.path.splitext(str(path)),
    "normpath": lambda path: os.path.normpath(str(path)),
    "commonpath": commonpath,
    "union": union,
    "intersect": intersect,
    "difference": difference,
    "symmetric_difference": symmetric_difference,
    "flatten": flatten,
    "type_debug": type_debug,
    "regex_findall": regex_findall,
}

def _listed(filter_: Callable[..., Any]) -> Callable[..., Any]:
    """A jinja2 filter that yields a generator, made to return a list (as in Ansible, where
    ``[{'a': 1}] | map(attribute='a') == [1]`` holds)."""

    @functools.wraps(filter_)  # keeps jinja2's pass_context/pass_environment marks
    def listed(*args: Any, **kwargs: Any) -> Any:
        value = args[1] if _passes_jinja_state(filter_) else args[0]
        if isinstance(value, jinja2.Undefined):  # ``undefined | map('upper') is undefined``, as in Ansible
            return value
        items = list(filter_(*args, **kwargs))
        for item in items:  # map(attribute=...) of an item without it: an error now, as in Ansible
            if isinstance(item, jinja2.Undefined):
                item._fail_with_undefined_error()
        return items

    return listed


def _passes_jinja_state(filter_: Callable[..., Any]) -> bool:
    """Whether jinja2 calls ``filter_`` with its context, eval context or environment first."""
    return getattr(filter_, "jinja_pass_arg", None) is not None


FILTERS.update({name: _listed(jinja2.filters.FILTERS[name])
                for name in ("map", "select", "reject", "selectattr", "rejectattr", "unique", "batch", "slice")})

TESTS: dict[str, Callable[..., bool]] = {
    "failed": failed,
    "failure": failed,
    "succeeded": succeeded,
    "success": succeeded,
    "successful": succeeded,
    "unreachable": unreachable,
    "reachable": lambda value: not unreachable(value),
    "contains": contains,
    "subset": subset,
    "superset": superset,
    "changed": changed,
    "change": changed,
    "skipped": skipped,
    "skip": skipped,
    "match": match,
    "search": search,
    "all": lambda value: all(value),  # every item true (ansible's test)
    "any": lambda value: any(value),
}

FILTERS.update(filters_text.FILTERS)
FILTERS.update(filters_data.FILTERS)
FILTERS.update(filters_passwords.FILTERS)
FILTERS.update(filters_protomatter.FILTERS)
TESTS.update(filters_protomatter.TESTS)
