"""What is made from a template's text (compiled code, syntax trees) is made once per process, for every Templar,
within a bound; and reading a template's variables evaluates nothing of it."""

from __future__ import annotations

import textwrap
import threading
import time
import warnings

from concurrent.futures import ThreadPoolExecutor

import jinja2
import pytest

import titan_ops

from titan_ops import templating
from titan_ops.engine.plan import inventory_needs
from titan_ops.errors import PlaybookError
from titan_ops.playbook.parser import load_playbook, load_task_file
from titan_ops.templating import Templar, _SourceCache
from titan_ops.trust import Authored


@pytest.fixture
def compiled(monkeypatch) -> list[object]:
    """What jinja2 compiles from now on (each source, or syntax tree), in order."""
    sources: list[object] = []
    real = jinja2.Environment.compile

    def counting(self, source, *args, **kwargs):
        sources.append(source)
        return real(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return sources


def test_a_second_templar_compiles_nothing_the_first_compiled(compiled):
    text, condition = Authored("{{ 'a' ~ unique_7f3a }} and {{ 2 }}"), Authored("unique_7f3a == 'x'")
    first, second = Templar(), Templar()
    assert first.render(text, {"unique_7f3a": "b"}) == "ab and 2"
    assert first.evaluate(condition, {"unique_7f3a": "x"}) is True
    assert len(compiled) == 2
    assert second.render(text, {"unique_7f3a": "c"}) == "ac and 2"  # its own environment: its own variables
    assert second.evaluate(condition, {"unique_7f3a": "y"}) is False
    second.check_syntax(text)
    second.check_expression(condition)
    assert len(compiled) == 2


def test_the_cache_keeps_the_most_recently_used_within_its_bound():
    cache = _SourceCache(2)
    made: list[str] = []

    def make(text: str):
        return lambda: made.append(text) or text.upper()

    assert [cache.get("code", text, make(text)) for text in ("a", "b", "a", "c", "a", "b")] == list("ABACAB")
    assert made == ["a", "b", "c", "b"]  # "b", least recently used, was dropped for "c"
    assert templating.CACHED_ITEMS >= 1000  # every template of a big playbook


def test_finding_the_inventory_variables_a_playbook_needs_runs_none_of_its_filters(tmp_path):
    """jinja2's name tracking folds constant operands: it ran their filters (outside any deadline)."""
    calls: list[object] = []
    templar = Templar()
    templar.environment.filters["recorded_4b1e"] = lambda value: calls.append(value) or value
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(textwrap.dedent("""\
        - hosts: all
          tasks:
            - debug: {msg: "{{ titan_site | default('lab' | recorded_4b1e) }} {{ titan_port }}"}
              when: titan_port | int > ('0' | recorded_4b1e) | int
        """))
    loaded = load_playbook(playbook, templar)
    calls.clear()  # validation checks constant operands against the sandbox's limits, within a deadline
    [needs] = inventory_needs(loaded.plays, templar, lambda path, *_: load_task_file(path, templar))
    assert [need.name for need in needs] == ["titan_port"]
    assert calls == []


def test_a_condition_that_is_one_unsupported_lookup_or_one_huge_constant_is_refused(tmp_path):
    """The checks read a bare condition's shared tree from its root (the lookup, the operation is the root)."""
    playbook = tmp_path / "playbook.yml"
    for condition, refusal in (("lookup('community.general.nope', 'x')", "the lookup 'community.general.nope'"),
                               ("10 ** 100000000", "an integer of about")):
        playbook.write_text(f"- hosts: all\n  tasks:\n    - debug: {{msg: x}}\n      when: {condition}\n")
        with pytest.raises(PlaybookError, match=refusal):
            load_playbook(playbook)


def test_threads_asking_for_the_same_item_at_once_make_it_once():
    """Hosts run in threads: all of them may ask for a template nobody has compiled yet at the same moment."""
    cache = _SourceCache(10)
    made: list[str] = []
    start = threading.Barrier(8)

    def make() -> str:
        made.append("code")
        time.sleep(0.05)  # (a compile long enough for every other thread to ask meanwhile)
        return "CODE"

    def ask() -> str:
        start.wait()
        return cache.get("code", "{{ x }}", make)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: ask(), range(8)))
    assert answers == ["CODE"] * 8 and made == ["code"]
    with pytest.raises(ZeroDivisionError):  # an error is not kept, and does not keep the next from making it
        cache.get("code", "broken", lambda: 1 / 0)
    assert cache.get("code", "broken", lambda: "fixed") == "fixed"


def test_a_template_lookup_that_includes_another_is_compiled_once_for_every_host(tmp_path, compiled):
    main = "{% include 'part_5c2d.j2' %} on {{ inventory_hostname }}"
    (tmp_path / "main_5c2d.j2").write_text(main)
    (tmp_path / "part_5c2d.j2").write_text("part")
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(textwrap.dedent("""\
        - hosts: all
          gather_facts: false
          tasks:
            - debug: {msg: "{{ lookup('template', 'main_5c2d.j2') }}"}
        """))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all: {hosts: {h1: {ansible_connection: local}, h2: {ansible_connection: local}, "
                         "h3: {ansible_connection: local}}}\n")
    result = titan_ops.run(playbook, inventory)
    assert sorted(r.result["msg"] for r in result.host_results("h1") + result.host_results("h2")
                  + result.host_results("h3")) == ["part on h1", "part on h2", "part on h3"]
    assert compiled.count(main) == 1


def test_a_template_is_parsed_for_validation_as_it_is_rendered():
    """A ``{{ }}`` string's backslashes are kept when the template renders (ansible-core's lexer): its syntax
    tree, read by validation, holds the same constant, not jinja2's escape of it (nor its warning)."""
    source = "{{ text | regex_replace('(a)', '\\g<1>\\t') }}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tree = Templar().syntax_tree(source)
    constants = [node.value for node in tree.find_all(jinja2.nodes.Const) if isinstance(node.value, str)]
    assert constants == ["(a)", "\\g<1>\\t"]
