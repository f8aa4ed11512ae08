"""A JSON file an operator hands over (a saved run for ``triage --from-json``), checked against its JSON Schema:
any fault is one error naming the file, line and column."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from titan_ops.errors import Location, TitanOpsError
from titan_ops.source_text import read_source
from titan_ops.yaml_bounds import MAX_DEPTH, too_deep


def load_json_document(path: str | Path, schema: dict[str, Any]) -> Any:
    """The data of the JSON file ``path``; TitanOpsError located at the fault when it is not JSON or does not
    have the shape ``schema`` describes."""
    import jsonschema

    file = str(path)
    text = read_source(path, TitanOpsError, "JSON file")
    try:
        document = load_json_text(text, file, TitanOpsError)
    except json.JSONDecodeError as error:
        raise TitanOpsError(f"malformed JSON: {error.msg}", Location(file, error.lineno, error.colno)) from None
    problem = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if problem is not None:
        where = "".join(f"[{step!r}]" for step in problem.absolute_path) or "the document"
        raise TitanOpsError(f"{where}: {problem.message}", locate_json(text, file, list(problem.absolute_path)))
    return document


def load_json_text(text: str, file: str, error: type[TitanOpsError]) -> Any:
    """The data of the JSON ``text`` (JSONDecodeError when it is not JSON); ``error`` located where it nests
    deeper than :data:`~titan_ops.yaml_bounds.MAX_DEPTH`, as YAML may not."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise error(f"nested more than {MAX_DEPTH} levels deep (objects and arrays): refused",
                    Location(file, 1, 1)) from None
    path = too_deep(document)
    if path is not None:
        raise error(f"nested more than {MAX_DEPTH} levels deep (objects and arrays): refused",
                    locate_json(text, file, path))
    return document


def locate_json(text: str, file: str, path: Sequence[str | int]) -> Location:
    """Where the value at ``path`` (keys and indexes from the root) is written in the JSON ``text``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return Location(file, 1, 1)
    for step in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == str(step)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
        if child is None:
            break
        node = child
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
