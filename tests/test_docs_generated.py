"""The module reference and the published schema are generated, and kept current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from titan_ops.commands.docs import index_page, module_page
from titan_ops.modules import MODULES
from titan_ops.playbook import playbook_schema

DOCS = Path(__file__).parent.parent / "docs"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_page_is_current(name):
    page = DOCS / "modules" / f"{name}.md"
    assert page.exists(), f"run `titan-ops docs`: {page} is missing"
    assert page.read_text() == module_page(MODULES[name]), f"run `titan-ops docs`: {page} is stale"


def test_every_argument_is_described():
    for name, module in MODULES.items():
        for argument, spec in module.schema.get("properties", {}).items():
            assert spec.get("description"), f"{name}.{argument} has no description"


def test_index_and_schema_are_current():
    assert (DOCS / "modules" / "README.md").read_text() == index_page()
    assert json.loads((DOCS / "playbook.schema.json").read_text()) == playbook_schema()
