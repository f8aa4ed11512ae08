"""A task's keywords (``become``, ``environment``, ``ignore_errors``, ...) as one run of it sees them.

As in ansible-core, every run of a task renders them with its own variables: a loop item can set
``become: "{{ item.root }}"`` or ``ignore_unreachable: "{{ item.optional }}"`` for itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from titan_ops.errors import TemplateError, TitanOpsError, UndefinedVariableError
from titan_ops.modules.base import HostContext
from titan_ops.playbook import play_values
from titan_ops.playbook.keywords import BOOLEAN_KEYWORDS
from titan_ops.redaction import secret_values
from titan_ops.templating import OMIT, Templar


@dataclass(frozen=True)
class RunFlags:
    """How the outcome of one run counts, as its keywords say."""

    ignore_errors: bool = False
    ignore_unreachable: bool = False
    no_log: bool = False
    delegate_facts: bool = False

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> RunFlags:
        """The flags of rendered keywords."""
        return cls(*(bool(settings.get(key)) for key in
                     ("ignore_errors", "ignore_unreachable", "no_log", "delegate_facts")))


@dataclass(frozen=True)
class RunSettings:
    """One run of a task on one host: the context it runs in and how its outcome counts."""

    context: HostContext
    flags: RunFlags


# The keywords ansible-core renders before ``ignore_errors`` (the connection's, then the task's own, in its order):
# a run that fails on one of them goes by ``ignore_errors`` as written (see ignores_errors_as_written).
RENDERED_BEFORE_IGNORE_ERRORS = frozenset({"connection", "port", "remote_user", "become", "become_method",
                                           "become_user", "check_mode", "diff", "environment", "no_log"})


class KeywordError(TitanOpsError):
    """A keyword of a task, or a connection setting of one run of it, that cannot be rendered for that run:
    the run fails, and ``ignore_errors`` still ignores the failure, as in ansible-core: rendered alone when it
    is the keyword that failed, as written when that keyword is one ansible-core renders before it."""

    def __init__(self, cause: TitanOpsError, flags: RunFlags):
        super().__init__(cause.message, cause.location, cause.key)
        self.cause = cause
        self.flags = flags


class KeywordRenderer:
    """Renders a task's keywords with one run's variables."""

    def __init__(self, templar: Templar):
        self.templar = templar

    def render(self, keywords: Mapping[str, Any], variables: Mapping[str, Any]) -> dict[str, Any]:
        """``keywords`` rendered: a keyword given as ``omit`` is left out, yes/no ones are booleans, ``timeout``
        a number of seconds; KeywordError when one cannot be rendered (those ansible renders first, first)."""
        settings: dict[str, Any] = {}
        for key in sorted(keywords, key=lambda name: name not in RENDERED_BEFORE_IGNORE_ERRORS):
            try:
                self._render_into(settings, key, keywords[key], variables)
            except TitanOpsError as error:
                ignored = (ignores_errors_as_written(keywords) if key in RENDERED_BEFORE_IGNORE_ERRORS
                           else self.ignores_errors(keywords, variables))
                raise KeywordError(error, RunFlags(ignore_errors=ignored,
                                                   no_log=self._alone("no_log", keywords, variables))) from None
        return settings

    def _render_into(self, settings: dict[str, Any], key: str, value: Any, variables: Mapping[str, Any]) -> None:
        """``settings[key]``: ``value`` rendered (left out when it is ``omit``)."""
        if key == "environment":
            settings[key] = environment = self._environment(value, variables)
            self.templar.note_secrets(secret_values(environment))  # PGPASSWORD: "{{ x }}": x is a secret
            return
        value = self.templar.render(value, variables)
        if isinstance(value, str) and value == OMIT:
            return  # (a keyword given as omit is not given)
        if key in BOOLEAN_KEYWORDS:
            value = _keyword_boolean(value)
        elif key == "timeout":
            value = float(value) if value else None
        settings[key] = value

    def ignores_errors(self, keywords: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
        """``ignore_errors`` of ``keywords`` rendered alone (False when it cannot be)."""
        return self._alone("ignore_errors", keywords, variables)

    def _alone(self, key: str, keywords: Mapping[str, Any], variables: Mapping[str, Any]) -> bool:
        """The yes/no keyword ``key`` of ``keywords`` rendered alone (False when it cannot be)."""
        settings: dict[str, Any] = {}
        try:
            self._render_into(settings, key, keywords.get(key, False), variables)
        except TitanOpsError:
            return False
        return bool(settings.get(key))

    def _environment(self, value: Any, variables: Mapping[str, Any]) -> dict[str, str]:
        """``environment`` rendered as in ansible: a mapping, or a list of them merged in order (later ones
        win), each variable rendered alone; an item or a value that is ``omit`` is left out, and so is a value
        that needs ``ansible_env`` before the facts that hold it were gathered."""
        environment: dict[str, str] = {}
        for part in value if isinstance(value, list) else [value]:
            if not isinstance(part, Mapping):
                part = self.templar.render(part, variables)  # (a template of a mapping: its values are data)
                if part == OMIT:
                    continue
                if not isinstance(part, Mapping):
                    raise TemplateError("'environment' must be a mapping or a list of them, got "
                                        f"{type(part).__name__}")
                environment.update({str(name): str(item) for name, item in part.items() if item != OMIT})
                continue
            for name, item in part.items():
                try:
                    item = self.templar.render(item, variables)
                except UndefinedVariableError as error:
                    if "ansible_env" in error.message:
                        continue
                    raise
                if item != OMIT:
                    environment[str(name)] = str(item)
        return environment


def ignores_errors_as_written(keywords: Mapping[str, Any]) -> bool:
    """``ignore_errors`` of ``keywords`` as written, not rendered: what ansible-core goes by when a task fails
    before its keywords are rendered (its ``when`` or its loop cannot be evaluated). A template counts as true,
    whatever it would render to, and so does any text but the empty one (``"{{ false }}"``, ``"no"``)."""
    return bool(keywords.get("ignore_errors"))


def _keyword_boolean(value: Any) -> bool:
    """A boolean keyword's rendered value (``become: yes``); one that is no boolean fails the task, as in
    ansible-core."""
    if value is None:
        return False
    try:
        return play_values.boolean(value)
    except ValueError:
        raise TemplateError(f"The value '{value}' could not be converted to 'bool'.") from None


def connection_keywords(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The ``remote_user``, ``port`` and ``connection`` keywords as the connection variables they stand
    for (a host's own variables win over them, as in Ansible)."""
    return {variable: settings[keyword] for keyword, variable in
            (("remote_user", "ansible_user"), ("port", "ansible_port"), ("connection", "ansible_connection"))
            if settings.get(keyword) is not None}
