"""Redaction and rendering walk values by exact type first; subclasses and tuples behave as before."""

from __future__ import annotations

from collections import OrderedDict, UserDict

from titan_ops.redaction import MASK, Redactor, is_secret_name
from titan_ops.templating import Templar
from titan_ops.trust import Authored as A


class Text(str):
    pass


def test_scrub_masks_alike_in_dicts_lists_tuples_and_subclasses():
    redactor = Redactor(["hunter22"])
    value = {
        "stdout": "pw hunter22", "rc": 0, "changed": False, "ratio": 1.5, "nothing": None,
        "lines": ["a", Text("x hunter22")], "pair": ("hunter22", 1),
        "nested": OrderedDict(api_key="abc", ok="https://u:p@h/"), "view": UserDict(password="pw1"),
        "password": "visible?", "token": True, "secret": {"kept": "as a mapping"},
    }
    assert redactor.scrub(value) == {
        "stdout": f"pw {MASK}", "rc": 0, "changed": False, "ratio": 1.5, "nothing": None,
        "lines": ["a", f"x {MASK}"], "pair": [MASK, 1],
        "nested": {"api_key": MASK, "ok": f"https://u:{MASK}@h/"}, "view": {"password": MASK},
        "password": MASK, "token": True, "secret": {"kept": MASK},  # under a secret name, everything is
    }


def test_secret_names_are_remembered_alike():
    assert is_secret_name("db_password") and is_secret_name("db_password")
    assert not is_secret_name("stdout") and not is_secret_name("stdout")


def test_render_walks_dicts_lists_tuples_and_subclasses():
    templar = Templar()
    variables = {"name": "web1", "port": 80}
    value = {"a": A("{{ name }}"), "b": ["x", A("{{ port }}"), Text("{{ port }}")], "c": (A("{{ name }}-1"), 2),
             "d": OrderedDict(e=A("{{ port }}")), "f": None, "g": True, "h": 1.5, "i": A("plain"),
             "j": "{{ name }}"}
    assert templar.render(value, variables) == {
        "a": "web1", "b": ["x", 80, "{{ port }}"], "c": ["web1-1", 2], "d": {"e": 80}, "f": None, "g": True,
        "h": 1.5, "i": "plain", "j": "{{ name }}",  # only authored text is a template
    }
