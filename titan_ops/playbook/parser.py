"""Playbook YAML -> validated model. Nothing here connects to a host.

Checks, in order: YAML syntax, the shipped JSON Schema (keyword types),
unknown or unsupported keywords, unknown modules, module arguments against
each module's schema, and template syntax. Every error names
``file:line:column`` and the key.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from titan_ops import modules
from titan_ops.errors import Location, ModuleError, PlaybookError, TemplateError
from titan_ops.playbook import keywords
from titan_ops.playbook.arguments import check_arguments, parse_free_form
from titan_ops.playbook.model import Block, Play, Playbook, Task, TaskItem
from titan_ops.playbook.yaml_loader import LocatedDict, load_yaml_file, location_of
from titan_ops.templating import Templar, is_template

_SCHEMA = json.loads(resources.files("titan_ops").joinpath("schemas/playbook.json").read_text())
_SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)


def playbook_schema() -> dict[str, Any]:
    """The playbook JSON Schema shipped with the package."""
    return _SCHEMA


def load_playbook(path: str | Path, templar: Templar | None = None) -> Playbook:
    """Load and fully validate a playbook file; raise PlaybookError on any problem."""
    path = str(path)
    document = load_yaml_file(path)
    file_location = Location(path, 1, 1)
    if document is None:
        raise PlaybookError("the playbook is empty", file_location)
    _check_schema(document, file_location)
    parser = _Parser(path, templar or Templar())
    return Playbook(path=path, plays=[parser.play(play) for play in document])


def _check_schema(document: Any, file_location: Location) -> None:
    errors = sorted(_SCHEMA_VALIDATOR.iter_errors(document), key=lambda e: len(list(e.absolute_path)))
    if not errors:
        return
    error = max(errors, key=lambda e: len(list(e.absolute_path)))
    container, key = _locate(document, list(error.absolute_path))
    location = container.where(key) if isinstance(container, LocatedDict) else location_of(container, file_location)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        raise PlaybookError(error.message, location_of(error.instance, location), missing[0] if missing else None)
    elif error.validator == "type":
        message = f"must be of type {error.validator_value}, got {type(error.instance).__name__}"
    elif error.validator == "pattern" and key == "register":
        message = f"'{error.instance}' is not a valid variable name"
    else:
        message = f"invalid value {error.instance!r}"
    raise PlaybookError(message, location, str(key) if key is not None else None)


def _locate(document: Any, path: list[Any]) -> tuple[Any, Any]:
    """The innermost container on ``path`` and the key within it."""
    container, key = document, None
    for index, step in enumerate(path):
        if index == len(path) - 1:
            return container, step
        container = container[step]
    return container, key


class _Parser:
    def __init__(self, path: str, templar: Templar):
        self.path = path
        self.templar = templar

    def play(self, data: LocatedDict) -> Play:
        for key in data:
            self._check_keyword(data, key, keywords.PLAY_KEYWORDS, keywords.ANSIBLE_PLAY_KEYWORDS, "play")
        hosts = data["hosts"]
        if isinstance(hosts, list):
            hosts = ",".join(hosts)
        self._check_templates(data, ("name", "vars"))
        gather = data.get("gather_facts", False)
        if gather not in (False, None):
            raise PlaybookError("fact gathering is not supported yet; set gather_facts: false",
                                data.where("gather_facts"), "gather_facts")
        return Play(
            hosts=hosts,
            location=data.location,
            name=data.get("name") or hosts,
            vars=dict(data.get("vars") or {}),
            tasks=self.task_list(data.get("tasks") or []),
            gather_facts=False,
            keywords=dict(data),
        )

    def task_list(self, items: list[LocatedDict]) -> list[TaskItem]:
        return [self.task_or_block(item) for item in items]

    def task_or_block(self, data: LocatedDict) -> TaskItem:
        if "block" in data:
            return self.block(data)
        return self.task(data)

    def block(self, data: LocatedDict) -> Block:
        for key in data:
            self._check_keyword(data, key, keywords.BLOCK_KEYWORDS, keywords.ANSIBLE_TASK_KEYWORDS, "block")
        self._check_templates(data, ("name", "vars"))
        self._check_conditions(data)
        return Block(
            block=self.task_list(data.get("block") or []),
            rescue=self.task_list(data.get("rescue") or []),
            always=self.task_list(data.get("always") or []),
            location=data.location,
            name=data.get("name"),
            when=_as_list(data.get("when")),
            vars=dict(data.get("vars") or {}),
            tags=[str(tag) for tag in _as_list(data.get("tags"))],
            keywords=dict(data),
        )

    def task(self, data: LocatedDict) -> Task:
        module_keys = [key for key in data if key not in keywords.TASK_KEYWORDS]
        candidates = [key for key in module_keys if modules.is_module(str(key))]
        for key in module_keys:
            if key not in candidates:
                self._check_keyword(data, key, keywords.TASK_KEYWORDS, keywords.ANSIBLE_TASK_KEYWORDS, "task",
                                    could_be_module=True)
        if not candidates:
            raise PlaybookError("the task names no module", data.location)
        if len(candidates) > 1:
            raise PlaybookError(f"the task names more than one module: {', '.join(map(str, candidates))}",
                                data.where(candidates[1]), str(candidates[1]))
        module_key = candidates[0]
        module = modules.lookup(module_key)
        assert module is not None
        location = data.where(module_key)
        args = self._module_args(module, data.get(module_key), location)
        if "args" in data:
            args = {**data["args"], **args}
        try:
            check_arguments(module, args, location, rendered=False)
        except ModuleError as error:
            raw = data.get(module_key)
            where = raw.where(error.key) if isinstance(raw, LocatedDict) and error.key in raw else error.location
            raise PlaybookError(error.message, where, error.key) from None
        self._check_templates(data, tuple(key for key in data if key != module_key))
        self._check_value_templates(args, location, module_key)
        self._check_conditions(data)
        return Task(
            module=module.name,
            args=args,
            location=location,
            name=data.get("name"),
            when=_as_list(data.get("when")),
            register=data.get("register"),
            ignore_errors=data.get("ignore_errors", False),
            vars=dict(data.get("vars") or {}),
            tags=[str(tag) for tag in _as_list(data.get("tags"))],
            keywords=dict(data),
        )

    def _module_args(self, module: modules.Module, value: Any, location: Location) -> dict[str, Any]:
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            try:
                return parse_free_form(module, value)
            except ModuleError as error:
                raise PlaybookError(error.message, location, module.name) from None
        raise PlaybookError(f"arguments of '{module.name}' must be a mapping or a string, got {type(value).__name__}",
                            location, module.name)

    def _check_keyword(self, data: LocatedDict, key: Any, supported: frozenset[str], ansible: frozenset[str],
                       kind: str, could_be_module: bool = False) -> None:
        if key in supported:
            return
        location = data.where(key)
        if key in ansible or (kind != "play" and keywords.is_ansible_task_keyword(str(key))):
            raise PlaybookError(f"the {kind} keyword '{key}' is not supported by titan-ops", location, str(key))
        what = "module or keyword" if could_be_module else f"{kind} keyword"
        raise PlaybookError(f"unknown {what} '{key}'", location, str(key))

    def _check_templates(self, data: LocatedDict, keys: tuple[Any, ...]) -> None:
        for key in keys:
            if key in data and key != "when":
                self._check_value_templates(data[key], data.where(key), str(key))

    def _check_value_templates(self, value: Any, location: Location, key: str) -> None:
        if isinstance(value, str):
            if is_template(value):
                try:
                    self.templar.check_syntax(value)
                except TemplateError as error:
                    raise PlaybookError(error.message, location_of(value, location), key) from None
        elif isinstance(value, dict):
            for item_key, item in value.items():
                where = value.where(item_key) if isinstance(value, LocatedDict) else location
                self._check_value_templates(item, where, str(item_key))
        elif isinstance(value, list):
            for item in value:
                self._check_value_templates(item, location_of(value, location), key)

    def _check_conditions(self, data: LocatedDict) -> None:
        for condition in _as_list(data.get("when")):
            if isinstance(condition, str):
                try:
                    self.templar.check_expression(_strip_braces(condition))
                except TemplateError as error:
                    raise PlaybookError(error.message, data.where("when"), "when") from None


def _strip_braces(condition: str) -> str:
    text = condition.strip()
    if text.startswith("{{") and text.endswith("}}"):
        return text[2:-2]
    return text


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
