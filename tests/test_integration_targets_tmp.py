"""A corpus run listed in runs.yml's ``private_tmp`` sees a /tmp of its own: what other processes do in the
machine's /tmp meanwhile (the parallel tests create and delete files there) cannot change its outcome
(changed_when's ``ls -al /tmp`` failed on a file deleted under it), and what it leaves there is gone with it."""

from __future__ import annotations

import dataclasses
import subprocess
import tempfile
from pathlib import Path

from tests.integration_targets import corpus


def test_a_private_tmp_run_sees_only_its_own_folder_in_tmp(tmp_path):
    base = tmp_path / "run"
    base.mkdir()
    (base / "inventory").write_text("testhost\n")
    with tempfile.NamedTemporaryFile(dir="/tmp", prefix="titan-ops-churn-") as other:
        script = ("ls -A /tmp > \"$1/seen\"; cat \"$1/inventory\" > \"$1/read\"; "
                  "echo left > /tmp/titan-ops-left-behind; ls -A /tmp > \"$1/seen-after\"")
        done = subprocess.run(corpus.in_private_tmp(["/bin/sh", "-c", script, "sh", str(base)], base),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        seen = (base / "seen").read_text().split()
        assert Path(other.name).name not in seen
    tmp = Path("/tmp").resolve()
    kept = {part.relative_to(tmp).parts[0] for part in (base.resolve(), corpus.REPOSITORY.resolve())
            if part.is_relative_to(tmp)}
    assert set(seen) <= kept  # only the way to the run's folder (and to this checkout, if it lies in /tmp)
    assert (base / "read").read_text() == "testhost\n"  # the run's folder is the real one, read and written
    assert "titan-ops-left-behind" in (base / "seen-after").read_text().split()
    assert not Path("/tmp/titan-ops-left-behind").exists()


def test_runs_with_a_private_tmp_have_their_own_oracle_record():
    run = next(run for run in corpus.load_runs(["changed_when"]) if run.name == "changed_when#0")
    assert run.private_tmp
    shared = dataclasses.replace(run, private_tmp=False)
    assert corpus.run_key(run, "digest") != corpus.run_key(shared, "digest")
