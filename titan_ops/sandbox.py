"""The jinja2 environment every template renders in: sandboxed, and bounded in time and size.

jinja2's sandbox refuses what would reach Python's internals
(``''.__class__.__mro__``, ``cycler.__init__.__globals__``,
``lipsum.__globals__``, unsafe callables). On top of it:

- a render has a deadline (:func:`start_deadline`; ``$TITAN_OPS_TEMPLATE_TIMEOUT``
  seconds, 30 by default), checked at every call, intercepted operator and
  batch of loop iterations, and given to regular expressions as their
  timeout, so that a catastrophic regex or a runaway loop fails the task;
- a value that would take unbounded memory is refused before it is built: an
  integer power of more than :data:`MAX_BITS` bits, a repetition
  (``'x' * n``, ``[0] * n``), a ``%``/``format`` width or a filter width of
  more than :data:`MAX_SIZE`, a ``range`` of more than 100000 items (the
  sandbox's own bound), a rendered text of more than :data:`MAX_SIZE`
  characters.

A limit reached is a :class:`LimitReached` naming it; one that constants
already reach is found when the playbook is validated (:func:`check_constants`
evaluates constant operators and filters, within a deadline of its own; jinja2's
compile-time folding, which would run filters without one, is off).
"""

from __future__ import annotations

import functools
import os
import re
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator
from jinja2.environment import TemplateModule
from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment

from titan_ops.errors import TemplateError

MAX_SIZE = 10_000_000
"""Characters or items one operation may build, and characters one render may output."""
MAX_BITS = 100_000
"""Bits of an integer built by ``**`` (about 30000 decimal digits)."""
DEFAULT_SECONDS = 30.0
_CHECK_EVERY = 1024
"""Loop iterations between two looks at the clock."""
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_BOUNDED_ITERATION = "titan_ops_bounded_iteration"
_OPERATORS: dict[type[nodes.Node], str] = {nodes.Pow: "**", nodes.Mul: "*", nodes.Mod: "%"}
"""The operators whose results are checked (intercepted at run time, evaluated here when constant)."""
_UNKNOWN = object()



class LimitReached(TemplateError):
    """A template reached a limit of the sandbox: its deadline, or a size."""


class _Deadline(threading.local):
    """The running render's deadline on this thread (``at`` is None outside a render)."""

    at: float | None = None
    seconds: float = DEFAULT_SECONDS


_deadline = _Deadline()


def template_seconds() -> float:
    """The deadline of one render: ``$TITAN_OPS_TEMPLATE_TIMEOUT`` seconds, 30 when unset or invalid."""
    try:
        seconds = float(os.environ.get("TITAN_OPS_TEMPLATE_TIMEOUT", DEFAULT_SECONDS))
    except ValueError:
        return DEFAULT_SECONDS
    return seconds if seconds > 0 else DEFAULT_SECONDS


def start_deadline(seconds: float) -> None:
    """The render starting on this thread has ``seconds`` (see :func:`stop_deadline`)."""
    _deadline.at, _deadline.seconds = time.monotonic() + seconds, seconds


def stop_deadline() -> None:
    """The render on this thread is over."""
    _deadline.at = None


def check_deadline() -> None:
    """Raise LimitReached when the running render is past its deadline."""
    limit = _deadline.at
    if limit is not None and time.monotonic() > limit:
        raise LimitReached(f"the template took longer than its deadline ({_deadline.seconds:g} s): stopped")


def remaining() -> float | None:
    """Seconds left to the running render (None outside a render)."""
    limit = _deadline.at
    return None if limit is None else max(0.001, limit - time.monotonic())


def _refuse(what: str) -> LimitReached:
    return LimitReached(f"{what}: refused (a template may not build values that large)")


def check_size(count: int, what: str) -> None:
    """LimitReached when ``count`` characters or items (of ``what``) would exceed MAX_SIZE."""
    if count > MAX_SIZE:
        raise _refuse(f"{what} of {count} would exceed {MAX_SIZE}")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = (abs(base).bit_length() - 1) * exponent
        if bits > MAX_BITS:
            raise _refuse(f"{base} ** {exponent} (an integer of about {bits} bits, more than {MAX_BITS})")


def _check_repeat(left: Any, right: Any) -> None:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(count, int) and isinstance(sequence, (str, bytes, list, tuple)):
            check_size(len(sequence) * count, "a repetition")


def _check_operation(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left operator right`` (an intercepted operator) when its result would be too large."""
    if operator == "**":
        _check_power(left, right)
    elif operator == "*":
        _check_repeat(left, right)
    elif isinstance(left, str):
        _check_printf(left, right)


def check_constants(tree: nodes.Node) -> None:
    """Refuse, before any render, what constant operands already put beyond a limit
    (``{{ 10 ** 100000000 }}``, ``{{ range(10 ** 12) | list }}``, ``{{ 'x' * 10 ** 10 }}``, a catastrophic
    regular expression over constant text), within the deadline of a render."""
    outside_render = _deadline.at is None
    if outside_render:
        start_deadline(template_seconds())
    try:
        _check_constants(tree)
    finally:
        if outside_render:
            stop_deadline()


def _check_constants(tree: nodes.Node) -> None:
    for node in tree.find_all(tuple(_OPERATORS)):
        _constant(node)
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        _as_const(node)
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "range" and call.args and not call.kwargs:
            bounds = [_constant(argument) for argument in call.args]
            if all(type(bound) is int for bound in bounds) and len(bounds) <= 3:
                try:
                    count = len(range(*bounds))
                except (ValueError, OverflowError):
                    continue  # range() reports it when the template runs
                if count > MAX_RANGE:
                    raise _refuse(f"a range of {count} items (more than {MAX_RANGE})")


def _constant(node: nodes.Node) -> Any:
    """The value of a constant expression (checking the limits of its intercepted operators), or _UNKNOWN."""
    operator = _OPERATORS.get(type(node))
    if operator is None:
        return _as_const(node)
    left, right = _constant(node.left), _constant(node.right)
    if left is _UNKNOWN or right is _UNKNOWN:
        return _UNKNOWN
    _check_operation(operator, left, right)
    try:
        return SandboxedEnvironment.default_binop_table[operator](left, right)
    except Exception:
        return _UNKNOWN


def _as_const(node: nodes.Node) -> Any:
    """jinja2's constant value of ``node`` (it runs the filters of constant operands), or _UNKNOWN; a limit
    reached on the way is raised."""
    try:
        return node.as_const()
    except nodes.Impossible as error:
        if isinstance(error.__cause__, LimitReached):
            raise error.__cause__ from None
        return _UNKNOWN
    except LimitReached:
        raise
    except Exception:  # an error the render will report
        return _UNKNOWN


def _check_printf(text: str, values: Any) -> None:
    """``text % values`` must not ask for a width or precision beyond MAX_SIZE."""
    arguments = values if isinstance(values, tuple) else (values,)
    for spec in _PRINTF_SPEC.finditer(text):
        for number in spec.groups():
            if number == "*":
                _check_widths(arguments)
            elif number:
                check_size(int(number), "a format width")


def _check_format(text: str, args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    """``text.format(...)`` must not ask for a width beyond MAX_SIZE."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # str.format reports the error itself
    for _, _, spec, _ in fields:
        if not spec:
            continue
        if "{" in spec:
            _check_widths([*args, *kwargs.values()])
        for number in re.findall(r"\d+", spec):
            check_size(int(number), "a format width")


def _check_widths(arguments: Iterable[Any]) -> None:
    for argument in arguments:
        if isinstance(argument, int):
            check_size(argument, "a format width")


class _BoundedIteration:
    """A ``{% for %}`` loop's sequence that looks at the deadline every _CHECK_EVERY items."""

    __slots__ = ("sequence",)

    def __init__(self, sequence: Any):
        self.sequence = sequence

    def __len__(self) -> int:
        return len(self.sequence)

    def __iter__(self) -> Iterator[Any]:
        for index, item in enumerate(self.sequence):
            if not index % _CHECK_EVERY:
                check_deadline()
            yield item


class _CodeGenerator(CodeGenerator):
    """jinja2's code generator, with the sequence of every ``{% for %}`` passed through _BoundedIteration; an
    output keeps its value (``{{ x }}`` is not made text: see :func:`bounded_concat`), and no output but
    literal text is folded at compile time (folding runs filters without a deadline)."""

    def _output_child_to_const(self, node: nodes.Expr, frame: Any, finalize: Any) -> str:
        if not isinstance(node, nodes.TemplateData):
            raise nodes.Impossible()
        return super()._output_child_to_const(node, frame, finalize)

    def _output_child_pre(self, node: nodes.Expr, frame: Any, finalize: Any) -> None:
        if finalize.src is not None:
            self.write(finalize.src)

    def _output_child_post(self, node: nodes.Expr, frame: Any, finalize: Any) -> None:
        if finalize.src is not None:
            self.write(")")

    def visit_Template(self, node: nodes.Template, frame: Any = None) -> None:
        for loop in node.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _BOUNDED_ITERATION, [], [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)


def _bounded_filter(name: str, filter_: Callable[..., Any], position: int) -> Callable[..., Any]:
    """``filter_`` refusing a width or count (its argument at ``position``) beyond MAX_SIZE."""
    @functools.wraps(filter_)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        if len(args) > position and isinstance(args[position], int):
            check_size(args[position], f"the width or count given to '{name}'")
        return filter_(*args, **kwargs)
    return bounded


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    """jinja2's ``format`` filter (printf-style), bounded."""
    values = kwargs or args
    _check_printf(str(value), values)
    return str(value) % values


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """jinja2's ``lipsum``, bounded."""
    check_size(n * max, "lorem ipsum words")
    return jinja2.utils.generate_lorem_ipsum(n=n, html=html, min=min, max=max)


class BoundedSandbox(SandboxedEnvironment):
    """jinja2's sandbox with a deadline and size limits (see the module's docstring)."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset(_OPERATORS.values())

    def __init__(self, **options: Any):
        super().__init__(**{"optimized": False, **options})  # no folding: it would run filters without a deadline
        self.concat = bounded_concat  # (of a macro's, a call block's, a set block's, a filter block's output)
        self.finalize = _output
        self.globals["lipsum"] = _lipsum
        self.filters[_BOUNDED_ITERATION] = _BoundedIteration
        self.filters["format"] = _format
        # (filter, position of its width or count: 0 is the value)
        for name, position in (("center", 1), ("indent", 1), ("wordwrap", 2), ("truncate", 2), ("batch", 1),
                               ("slice", 1)):
            self.filters[name] = _bounded_filter(name, self.filters[name], position)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        check_deadline()
        _check_operation(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_deadline()
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        def bounded(*args: Any, **kwargs: Any) -> str:
            _check_format(text, args, args[0] if value.__name__ == "format_map" and args else kwargs)
            return wrapped(*args, **kwargs)
        return bounded


def bounded_concat(chunks: Iterable[Any]) -> Any:
    """A render's output, as ansible-core 2.19 makes it of the output's pieces (a template's, a macro's, a
    ``{% set %}`` block's...): one piece is its value as it is (``{% if x %}{{ [1] }}{% endif %}`` is a
    list), more are joined as text (None as nothing). No piece is empty text (ansible-core: None; the
    runbooks split what a loop that may output nothing renders). Its size is checked as the pieces come
    (many come from loops, which look at the deadline themselves)."""
    parts: list[Any] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk) if isinstance(chunk, str) else 1
        if size > MAX_SIZE:
            raise _refuse(f"a rendered text of more than {MAX_SIZE} characters")
    if len(parts) < 2:
        return parts[0] if parts else ""
    text = "".join(_text(part) for part in parts)
    if len(text) > MAX_SIZE:
        raise _refuse(f"a rendered text of more than {MAX_SIZE} characters")
    return text


def bounded_text(chunks: Iterable[Any]) -> str:
    """A render's output as text (a template file's): :func:`bounded_concat`'s, None as nothing."""
    return _text(bounded_concat(chunks))


def _text(value: Any) -> str:
    if isinstance(value, TemplateModule):  # ({% import %}'s: its output, made of pieces as ours)
        return "".join(_text(piece) for piece in value._body_stream)
    return "" if value is None else value if isinstance(value, str) else str(value)


def _output(value: Any) -> Any:
    """What a ``{{ }}`` outputs: its value, as it is; an undefined one fails here (as when it was made text)."""
    if isinstance(value, jinja2.Undefined):
        str(value)
    return value
