"""One jinja2 environment for the whole run: rendering, expressions, lazy variables.

Semantics follow Ansible's: a template whose output is one piece (exactly one
``{{ expression }}``, or one left by its blocks) keeps that value's native type
(a list stays a list); more pieces render to text (see
:func:`sandbox.bounded_concat`). Variables whose values are themselves templates are rendered
lazily, when a template uses them. An undefined variable raises
:class:`~titan_ops.errors.TemplateError` naming it.

Only authored text is a template (see :mod:`titan_ops.trust`): any other
string, however it looks, is returned as it is, and evaluating it as an
expression is an error. Every template renders in the bounded sandbox of
:mod:`titan_ops.sandbox`.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import CodeType
from typing import Any, TypeVar

import jinja2
import yaml
from jinja2 import nodes
from jinja2.lexer import TOKEN_STRING, TOKEN_VARIABLE_BEGIN, TOKEN_VARIABLE_END, Lexer, TokenStream, get_lexer
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.visitor import NodeTransformer

from titan_ops import filters, sandbox
from titan_ops.errors import TemplateError, UndefinedVariableError
from titan_ops.lookups import jinja as lookup_functions
from titan_ops.redaction import is_secret_name, secret_values
from titan_ops.trust import Authored, derived
from titan_ops.vault import Encrypted

_SINGLE_EXPRESSION = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}$", re.DOTALL)
_MAX_DEPTH = 40
# The value of ``omit``: a module argument rendered to it is left out, as if not given (see without_omitted).
OMIT = "__omit_place_holder__titan_ops"
_SCALARS = frozenset({int, float, bool, type(None)})
_RUNTIME_ERRORS = (TypeError, ValueError, LookupError, AttributeError, ArithmeticError, RecursionError, MemoryError,
                   yaml.YAMLError)
"""What a filter or an operation may raise on the values it is given (a host's text that ``from_yaml``
cannot parse, say): the task fails with it, never the run."""
CACHED_ITEMS = 8192
"""How many compiled codes and syntax trees of template and expression texts the process keeps."""
_T = TypeVar("_T")


def is_template(value: Any) -> bool:
    """True when ``value`` is authored text holding jinja2 syntax (the only text ever rendered)."""
    return type(value) is Authored and ("{{" in value or "{%" in value or "{#" in value)


def bare_expression(text: str) -> str:
    """``text`` without surrounding white space and ``{{ }}`` (a condition may be written either way),
    as trusted as ``text``."""
    stripped = text.strip()
    if stripped.startswith("{{") and stripped.endswith("}}"):
        stripped = stripped[2:-2]
    return derived(text, stripped)


def _untrusted(expression: str) -> TemplateError:
    shown = expression if len(expression) <= 80 else expression[:77] + "..."
    return TemplateError(f"'{shown}' is not evaluated (an untrusted template or expression): only text from "
                         "playbooks, inventories, vars files and extra vars is a template (text from a host or a "
                         "rendered value is data)")


def is_single_expression(value: Any) -> bool:
    """True when ``value`` is a string that is one ``{{ expression }}`` and nothing else."""
    return isinstance(value, str) and _SINGLE_EXPRESSION.match(value.strip()) is not None


class _PythonSyntaxError(TemplateError):
    """Valid jinja2 that Python cannot compile (``dict(a=1, a=2)``): an error of the task, not of the playbook."""


class _Undefined(jinja2.ChainableUndefined, jinja2.StrictUndefined):
    """Fails when used, as jinja2's StrictUndefined, with Ansible's words: no Python class names.

    Its attributes and items are itself, as in Ansible (``missing.rc | default(0)`` is 0, ``missing.rc is
    defined`` is false); a use fails with the message of the first missing link.
    """

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        if self._undefined_obj is jinja2.utils.missing:
            return f"{self._undefined_name!r} is undefined"
        kind = _type_name(self._undefined_obj)
        if not isinstance(self._undefined_name, str):
            return f"{kind} object has no element {self._undefined_name!r}"  # (ansible's words, less its class)
        return f"object of type {kind!r} has no attribute {self._undefined_name!r}"


def _type_name(value: Any) -> str:
    for kind, name in ((Mapping, "dict"), (str, "str"), (list, "list"), (tuple, "list")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


class _LazyContext(Context):
    """A jinja2 context that renders template-valued variables when looked up."""

    def resolve_or_missing(self, key: str) -> Any:
        value = super().resolve_or_missing(key)
        if value is jinja2.utils.missing:
            return value
        templar: Templar = self.environment.templar  # type: ignore[attr-defined]
        try:
            resolved = templar.resolve_nested(value, self.parent)
        except UndefinedVariableError as error:
            # As Ansible: a variable whose template uses an undefined one is undefined itself (``default`` works).
            return self.environment.undefined(hint=error.detail, name=key)
        if resolved is not value and templar.on_secret is not None and is_secret_name(key):
            templar.note_secrets(secret_values(resolved, secret=True))  # api_token: "{{ raw }}": what it renders to
        return resolved


_EMBEDDED = "__titan_ops_embedded_template"
"""The global a conditional's string constant that holds a template is rendered by."""


class _EmbeddedTemplates(NodeTransformer):
    """Turns every string constant of an expression that is a valid template into its render (a call of
    :func:`_render_embedded`); other constants stay as written."""

    def __init__(self, environment: jinja2.Environment):
        self._environment = environment

    def visit_Const(self, node: nodes.Const) -> nodes.Node:
        value = node.value
        if not (isinstance(value, str) and ("{{" in value or "{%" in value)):
            return node
        try:
            self._environment.parse(value)
        except jinja2.TemplateSyntaxError:
            return node
        return nodes.Call(nodes.Name(_EMBEDDED, "load", lineno=node.lineno), [node], [], None, None,
                          lineno=node.lineno)


@jinja2.pass_context
def _render_embedded(context: Context, source: str) -> Any:
    """A conditional's string constant ``source`` (authored: it is written in the expression) rendered with
    the conditional's variables."""
    templar: Templar = context.environment.templar  # type: ignore[attr-defined]
    return templar.render(Authored(source), context.parent)


class _Compiling(threading.local):
    """Whether the template being compiled on this thread keeps the backslashes of its ``{{ }}`` strings."""

    literal_backslashes = False


_compiling = _Compiling()


def _as_compiled(literal_backslashes: bool, make: Callable[[], _T]) -> _T:
    """``make()`` (a parse or a compile) with the ``{{ }}`` strings' backslashes kept or read as escapes."""
    outer, _compiling.literal_backslashes = _compiling.literal_backslashes, literal_backslashes
    try:
        return make()
    finally:
        _compiling.literal_backslashes = outer  # (a compile inside another: the outer one's reading again)


class _BackslashKeepingLexer:
    """jinja2's lexer, with the backslashes of string constants inside ``{{ }}`` kept as written (as
    ansible-core's lexer keeps them in templates written in YAML, whose own escapes were already read):
    ``'\\1'`` is a backslash and a 1, not jinja2's escape of a control character."""

    def __init__(self, lexer: Lexer):
        self._lexer = lexer

    def tokenize(self, source: str, name: str | None = None, filename: str | None = None,
                 state: str | None = None) -> TokenStream:
        return TokenStream(self._lexer.wrap(self._tokens(source, name, filename, state), name, filename),
                           name, filename)

    def _tokens(self, source: str, name: str | None, filename: str | None,
                state: str | None) -> Iterator[tuple[int, str, str]]:
        inside = state == "variable"
        for line, kind, value in self._lexer.tokeniter(source, name, filename, state):
            if kind in (TOKEN_VARIABLE_BEGIN, TOKEN_VARIABLE_END):
                inside = kind == TOKEN_VARIABLE_BEGIN
            elif inside and kind == TOKEN_STRING:
                value = value.replace("\\", "\\\\")
            yield line, kind, value


class _Environment(sandbox.BoundedSandbox):
    context_class = _LazyContext
    templar: Templar

    @property
    def lexer(self) -> Any:
        lexer = get_lexer(self)
        return _BackslashKeepingLexer(lexer) if _compiling.literal_backslashes else lexer


class _SourceCache:
    """What is made from a template's text alone (its compiled code, its syntax tree), kept for every Templar
    of the process: their environments are configured alike, so what one made serves all. Each item is made
    once, however many threads (hosts) ask for it at the same moment. Bounded: past ``size`` items, the least
    recently used is dropped."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[tuple[str, str], threading.RLock] = {}

    def get(self, kind: str, source: str, make: Callable[[], _T]) -> _T:
        """The ``kind`` of ``source`` made earlier, else ``make()`` (kept; its errors are not)."""
        key = (kind, source)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            making = self._making.setdefault(key, threading.RLock())
        with making:  # (another thread making the same item: wait for it, then take what it made)
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    return self._items[key]
            try:
                made = make()
            except BaseException:
                with self._lock:
                    self._making.pop(key, None)
                raise
            with self._lock:
                self._items[key] = made
                self._making.pop(key, None)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return made


_SOURCES = _SourceCache(CACHED_ITEMS)


class Templar:
    """Renders strings and structures against a variables mapping.

    A template's text is parsed and compiled once per process (for every Templar), and made a template of
    this Templar's environment once, so a task run on many hosts is compiled once. A render (with the
    renders of the variables it uses) has ``seconds`` to finish (default: :func:`sandbox.template_seconds`).
    """

    def __init__(self, seconds: float | None = None) -> None:
        self.environment = _Environment(
            undefined=_Undefined,
            trim_blocks=True,
            keep_trailing_newline=False,
            autoescape=False,
        )
        self.environment.templar = self
        self.environment.filters.update(filters.FILTERS)
        self.environment.tests.update(filters.TESTS)
        self.environment.globals.update(lookup_functions.GLOBALS)
        self.environment.globals["omit"] = OMIT
        self.environment.globals[_EMBEDDED] = _render_embedded
        self.on_secret: Callable[[Iterable[str]], None] | None = None
        """Where values found to be secret while rendering are reported (the run's Redactor.add_secrets):
        what a secret-named variable renders to, a generated password."""
        self.seconds = sandbox.template_seconds() if seconds is None else seconds
        self._templates: dict[tuple[str, bool], jinja2.Template] = {}
        self._expressions: dict[tuple[str, str, bool], jinja2.Template] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def note_secrets(self, values: Iterable[str]) -> None:
        """Report ``values`` as secrets to :attr:`on_secret` (nothing when no one listens)."""
        if self.on_secret is not None:
            found = list(values)
            if found:
                self.on_secret(found)

    # -- compilation -------------------------------------------------------
    def check_syntax(self, source: str) -> None:
        """Raise TemplateError when ``source`` (a template :meth:`render` renders) is not valid jinja2, or its
        constants reach a limit."""
        try:
            self._compile(source, literal_backslashes=True)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"template syntax error: {error.message}") from None
        except _PythonSyntaxError:
            return  # as in Ansible, the task that renders it fails (ignore_errors can ignore it)
        sandbox.check_constants(self.syntax_tree(source))

    def check_expression(self, expression: str) -> None:
        """Raise TemplateError when ``expression`` (bare or in ``{{ }}``) is not a valid jinja2 expression,
        or its constants reach a limit."""
        bare = bare_expression(expression)
        try:
            self._compile_expression(bare)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"expression syntax error in '{expression}': {error.message}") from None
        except _PythonSyntaxError:
            return  # as in Ansible, the task that evaluates it fails
        sandbox.check_constants(self.expression_tree(bare))

    def syntax_tree(self, source: str) -> nodes.Template:
        """The parsed template ``source``, its ``{{ }}`` strings' backslashes kept as its render keeps them
        (shared: read it, never change it); TemplateSyntaxError if none."""
        return _SOURCES.get("tree", source, lambda: _as_compiled(True, lambda: self.environment.parse(source)))

    def expression_tree(self, expression: str) -> nodes.Template:
        """The parsed bare ``expression``, as a template that outputs it (shared: read it, never change it);
        TemplateSyntaxError if none."""
        return _SOURCES.get("expression tree", expression,
                            lambda: nodes.Template([nodes.Output([self._parse_expression(expression)])]))

    def _parse_expression(self, expression: str) -> nodes.Expr:
        """``expression`` parsed as jinja2's compile_expression parses it: one expression, nothing after."""
        parser = Parser(self.environment, expression, state="variable")
        tree = parser.parse_expression()
        if not parser.stream.eos:
            raise jinja2.TemplateSyntaxError("chunk after expression", parser.stream.current.lineno, None, None)
        return tree

    def _compile(self, source: str, literal_backslashes: bool = False) -> jinja2.Template:
        """``source`` compiled; with ``literal_backslashes``, the backslashes of its ``{{ }}`` strings kept."""
        key = (source, literal_backslashes)
        template = self._templates.get(key)
        if template is None:
            code = self._code("template", source, lambda: self.environment.compile(source), literal_backslashes)
            template = self._template(code)
            with self._lock:
                self._templates[key] = template
        return template

    def _compile_expression(self, expression: str, embedded: bool = False,
                            literal_backslashes: bool = False) -> jinja2.Template:
        """A template that stores the value of ``expression`` in ``result`` (as jinja2's compile_expression);
        with ``embedded``, its string constants that are templates render (see :meth:`evaluate`); with
        ``literal_backslashes``, the backslashes of its strings are kept."""
        kind = "conditional" if embedded else "expression"
        key = (kind, expression, literal_backslashes)
        compiled = self._expressions.get(key)
        if compiled is None:
            def compile_() -> CodeType:
                tree = self._parse_expression(expression)  # (the code generator changes the tree it is given)
                if embedded:
                    tree = _EmbeddedTemplates(self.environment).visit(tree)
                tree.set_environment(self.environment)
                return self.environment.compile(nodes.Template([nodes.Assign(nodes.Name("result", "store"), tree,
                                                                             lineno=1)], lineno=1))

            compiled = self._template(self._code(kind, expression, compile_, literal_backslashes))
            with self._lock:
                self._expressions[key] = compiled
        return compiled

    def _code(self, kind: str, source: str, compile_: Callable[[], CodeType],
              literal_backslashes: bool = False) -> CodeType:
        try:
            return _SOURCES.get(f"{kind}, backslashes kept" if literal_backslashes else kind, source,
                                lambda: _as_compiled(literal_backslashes, compile_))
        except SyntaxError as error:  # jinja2 passes what Python refuses to compile: dict(a=1, a=2)
            raise _PythonSyntaxError(f"{kind} error in '{source}': {error.msg}") from None

    def _template(self, code: CodeType) -> jinja2.Template:
        return self.environment.template_class.from_code(self.environment, code, self.environment.make_globals(None))

    # -- evaluation ----------------------------------------------------------
    def evaluate(self, expression: str, variables: Mapping[str, Any], *, conditional: bool = False) -> Any:
        """Evaluate an authored jinja2 expression (bare or in ``{{ }}``) to its native value. In a
        ``conditional`` (``when:``, ``that:``...), a string constant that holds a template is that template
        rendered, as ansible-core 2.19 still does (``when: "'{{ x }}' == 'hi'"``; deprecated there).

        Text that is not authored (a host's output, a rendered value) is never evaluated: TemplateError.
        """
        if type(expression) is not Authored:
            raise _untrusted(expression)
        return self._evaluate(bare_expression(expression), variables, embedded=conditional)

    def _evaluate(self, expression: str, variables: Mapping[str, Any], embedded: bool = False,
                  literal_backslashes: bool = False) -> Any:
        try:
            compiled = self._compile_expression(expression, embedded, literal_backslashes)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"expression syntax error in '{expression}': {error.message}") from None
        return self._run(lambda: self._call_expression(compiled, variables), expression)

    def render(self, value: Any, variables: Mapping[str, Any], from_file: bool = False) -> Any:
        """Render every authored template string inside ``value`` (str, list, dict); other text is data,
        returned as it is. As in ansible-core, a backslash in a string constant inside ``{{ }}`` is kept as
        written (YAML read the escapes already), unless ``from_file`` (the text of a template file)."""
        kind = type(value)  # exact types first: this runs for every argument of every host-task
        if kind is Authored:
            return self._render_string(value, variables, not from_file) if is_template(value) else value
        if kind is str or kind in _SCALARS:
            return value
        if kind is dict or isinstance(value, Mapping) and not renders_on_read(value):
            return {key: self.render(item, variables, from_file) for key, item in value.items()}
        if kind is list or isinstance(value, (list, tuple)):
            return [self.render(item, variables, from_file) for item in value]
        return value

    def resolve_nested(self, value: Any, variables: Mapping[str, Any]) -> Any:
        """Render a variable's value when it holds templates (used by lazy lookup); a vault value no
        password opened fails here, where it is used."""
        if isinstance(value, Encrypted):
            value.unopened()
        if not holds_template(value):
            return value
        return self.render(value, variables)

    def render_file(self, template: jinja2.Template, variables: Mapping[str, Any], path: str) -> str:
        """A template file (compiled by the caller, e.g. the ``template`` module) rendered to text with
        the limits of every render; errors name ``path``."""
        def render() -> str:
            context = template.new_context(_with_globals(variables, template.environment), shared=True)
            return sandbox.bounded_text(template.root_render_func(context))

        return self._run(render, path, file=path)

    def _render_string(self, source: str, variables: Mapping[str, Any], literal_backslashes: bool) -> Any:
        # As Ansible: jinja2 drops one final newline of the source, and text results get it back.
        newline = "\n" if source.endswith("\n") else ""
        expression = self._one_expression(source[:-1] if newline else source)
        if expression is not None:
            value = self._evaluate(expression, variables, literal_backslashes=literal_backslashes)
            return _with_newline(value, newline)
        try:
            template = self._compile(source, literal_backslashes)
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(f"template syntax error in '{source}': {error.message}") from None

        def render() -> Any:
            context = template.new_context(_with_globals(variables, self.environment), shared=True)
            return _with_newline(sandbox.bounded_concat(template.root_render_func(context)), newline)

        return self._run(render, source)

    def _one_expression(self, source: str) -> str | None:
        """The expression of ``source`` when it is one ``{{ expression }}`` and nothing else (``}}`` inside
        it too: ``{{ {'a': {'b': 1}} }}``), else None."""
        single = _SINGLE_EXPRESSION.match(source)
        if single:
            return single.group("expr")
        if not (source.startswith("{{") and source.endswith("}}")):
            return None
        return _SOURCES.get("one expression", source, lambda: self._expression_inside(source[2:-2]))

    def _expression_inside(self, text: str) -> str | None:
        try:
            self.expression_tree(text)
        except jinja2.TemplateSyntaxError:
            return None
        return text

    def _call_expression(self, template: jinja2.Template, variables: Mapping[str, Any]) -> Any:
        # the expression's template stores the value in "result"; run it against our mapping without copying
        # the variables
        context = template.new_context(_with_globals(variables, self.environment), shared=True)
        for _ in template.root_render_func(context):
            pass
        result = context.vars.get("result")
        _fail_when_undefined(result)
        return result

    def _run(self, call: Any, source: str, file: str | None = None) -> Any:
        """``call()`` (a render of ``source``, or of the template ``file``) with the deadline, its errors
        as TemplateError."""
        where = file or f"'{source}'"
        depth = getattr(self._local, "depth", 0)
        if depth > _MAX_DEPTH:
            raise TemplateError(f"recursive loop detected in template {where}")
        self._local.depth = depth + 1
        if not depth:
            sandbox.start_deadline(self.seconds)
        try:
            return call()
        except jinja2.UndefinedError as error:
            if file:
                raise TemplateError(f"undefined variable in {file}: {error.message}") from None
            raise UndefinedVariableError(str(error.message)) from None
        except TemplateError:
            raise
        except jinja2.TemplateError as error:
            raise TemplateError(f"template error in {where}: {error}") from None
        except _RUNTIME_ERRORS as error:
            raise TemplateError(f"template error in {where}: {_describe(error)}") from None
        finally:
            self._local.depth = depth
            if not depth:
                sandbox.stop_deadline()


def _with_newline(value: Any, newline: str) -> Any:
    """A single expression's ``value`` with the source's final ``newline`` back (text only), as trusted as
    ``value`` (as in ansible-core: ``"{{ name }}\\n"`` of an authored name is authored; a host's text stays data)."""
    if not newline or not isinstance(value, str):
        return value
    return Authored(value + newline) if type(value) is Authored else value + newline


def _fail_when_undefined(value: Any) -> None:
    """Raise the UndefinedError of an undefined ``value``, or of one inside its lists and dicts
    (``{'key': undefined_thing}`` fails as ``undefined_thing`` does, as in Ansible)."""
    kind = type(value)
    if kind is dict:
        for item in value.values():
            _fail_when_undefined(item)
    elif kind is list or kind is tuple:
        for item in value:
            _fail_when_undefined(item)
    elif isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()


def _describe(error: BaseException) -> str:
    if isinstance(error, MemoryError):
        return "out of memory"
    if isinstance(error, RecursionError):
        return "too deeply nested (recursion)"
    return str(error) or type(error).__name__


def without_omitted(value: Any) -> Any:
    """``value`` without the mapping entries and list items that rendered to ``omit``."""
    if isinstance(value, dict):
        return {key: without_omitted(item) for key, item in value.items() if item != OMIT}
    if isinstance(value, list):
        return [without_omitted(item) for item in value if item != OMIT]
    return value


def renders_on_read(value: Any) -> bool:
    """Whether ``value`` is a mapping that renders its own templates when read, in its own context
    (``hostvars`` and its entries): a templar never renders it with the variables of the task."""
    return getattr(value, "renders_on_read", False) is True


def holds_template(value: Any) -> bool:
    """Whether rendering ``value`` renders anything (an authored template inside it): else it is ``value``."""
    kind = type(value)  # exact types first: this runs for every variable a template looks up
    if kind is Authored:
        return is_template(value)
    if kind is str or kind in _SCALARS or isinstance(value, str) or renders_on_read(value):
        return False
    if kind is dict or isinstance(value, Mapping):
        return any(holds_template(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_template(item) for item in value)
    return False


class RenderedOnRead(Mapping):
    """Variables rendered one by one when read, with ``context`` (default: themselves): a template of an
    undefined variable fails only what reads it (Ansible renders lazily too). ``hidden`` names are left out
    (a view of every variable that is itself one of them leaves itself out)."""

    renders_on_read = True
    """A templar leaves it as it is (see :func:`renders_on_read`)."""

    def __init__(self, templar: Templar, variables: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 hidden: frozenset[str] = frozenset()):
        self.templar = templar
        self.variables = variables
        self.context = variables if context is None else context
        self.hidden = hidden

    def __getitem__(self, key: str) -> Any:
        if key in self.hidden:
            raise KeyError(key)
        return self.templar.render(self.variables[key], self.context)

    def __iter__(self) -> Iterator[str]:
        return (key for key in self.variables if key not in self.hidden)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _GlobalsOverlay(Mapping):
    """Variables first, then jinja2's globals (range, dict, lipsum, ...)."""

    __slots__ = ("variables", "globals")

    def __init__(self, variables: Mapping[str, Any], globals_: Mapping[str, Any]):
        self.variables = variables
        self.globals = globals_

    def __getitem__(self, key: str) -> Any:
        if key in self.variables:
            return self.variables[key]
        return self.globals[key]

    def __contains__(self, key: object) -> bool:
        return key in self.variables or key in self.globals

    def __iter__(self):
        yield from self.variables
        yield from (key for key in self.globals if key not in self.variables)

    def __len__(self) -> int:
        return len(set(self.variables) | set(self.globals))


def _with_globals(variables: Mapping[str, Any], environment: jinja2.Environment) -> Mapping[str, Any]:
    return _GlobalsOverlay(variables, environment.globals)
