"""Atomic writes: complete file or untouched target, umask permissions, no temporaries left."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from foldkit.io.atomic import atomic_write_bytes, atomic_write_text, atomic_writer, is_stale_temporary


def test_text_and_bytes_land_whole(tmp_path):
    atomic_write_text(tmp_path / "a.txt", "héllo\nworld\n")
    atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01" * 1000)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\nworld\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01" * 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_permissions_follow_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "c.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "c.txt").stat().st_mode) == 0o640


def test_failure_keeps_old_content_and_removes_temporary(tmp_path):
    target = tmp_path / "keep.npz"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_writer(target, "wb") as handle:
            np.savez(handle, x=np.arange(10))
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.npz"]


def test_stale_temporary_detection(tmp_path):
    stale = tmp_path / ".ranked_0.pdb.abc123.tmp"
    stale.write_text("half")
    assert is_stale_temporary(stale)
    assert not is_stale_temporary(tmp_path / "ranked_0.pdb")


def test_bad_mode_rejected(tmp_path):
    with pytest.raises(ValueError):
        with atomic_writer(tmp_path / "x", "a"):
            pass
