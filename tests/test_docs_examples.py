"""The Python blocks of docs/api.md run as written against the Titan lab (the lab README's first command starts)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import titan_ops.lab

API_DOC = Path(__file__).parent.parent / "docs" / "api.md"
BLOCKS = re.findall(r"```python\n(.*?)```", API_DOC.read_text(), re.DOTALL)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_api_doc_example_runs(fleet, index, tmp_path):
    home = tmp_path / "home"
    lab_dir = home / ".local" / "state" / "titan-ops" / "lab"
    lab_dir.parent.mkdir(parents=True)
    lab_dir.symlink_to(Path(fleet.inventory_path).parent)
    # An example that calls titan_ops.lab.up() gets a lab of its own, stopped afterwards.
    own_lab = tmp_path / "own-lab"
    env = {**os.environ, "HOME": str(home), "TITAN_OPS_LAB_DIR": str(own_lab)}
    try:
        done = subprocess.run([sys.executable, "-c", BLOCKS[index]], cwd=API_DOC.parent.parent, env=env,
                              capture_output=True, text=True, timeout=120)
    finally:
        if own_lab.exists():
            titan_ops.lab.down(own_lab)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
