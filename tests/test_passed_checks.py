"""The memory of passed checks reads back exactly the digests it wrote, and nothing else from its file."""

from __future__ import annotations

import pytest

from titan_ops.playbook import passed_checks


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TITAN_OPS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(passed_checks, "_passed", None)
    return tmp_path / passed_checks.FILE_NAME


def test_only_whole_lowercase_hex_digest_lines_are_remembered(cache):
    good = ["0123456789abcdef" * 4, "f" * 64]
    bad = ["A" * 64, "f" * 63, "f" * 65, "g" + "f" * 63, " " + "f" * 63, "f" * 64 + "\r", "f" * 64 + " " + "e" * 64]
    cache.write_text("\n".join(bad[:3] + good[:1] + bad[3:] + good[1:]))  # the last line has no newline
    assert passed_checks._load() == set(good)


def test_a_remembered_digest_is_known_to_the_next_run(cache, monkeypatch):
    key = passed_checks.digest({"type": "object"}, {"path": "/tmp"})
    assert key is not None and not passed_checks.passed(key)
    passed_checks.remember(key)
    monkeypatch.setattr(passed_checks, "_passed", None)
    assert passed_checks.passed(key)


def test_past_twice_the_kept_digests_the_oldest_are_dropped(cache, monkeypatch):
    monkeypatch.setattr(passed_checks, "KEEP", 3)
    digests = [f"{n:064x}" for n in range(7)]
    cache.write_text("".join(line + "\n" for line in digests))
    assert passed_checks._load() == set(digests[-3:])
    assert cache.read_text().split() == digests[-3:]
