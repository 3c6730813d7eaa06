"""``neurocode report`` on a folder of user codes gives each code's card, each property beside
the random k-of-N closed form of the same N and k; the cards are written atomically."""

from __future__ import annotations

import errno

import numpy as np
import pytest

from neurocode.cli import main
from neurocode.codes import write_card


def _kofn_file(path, n=300, width=40, k=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    codes = np.zeros((n, width), dtype=np.float32)
    for i, c in enumerate(y):
        codes[i, c * (width // 3) + rng.integers(width // 3)] = 1.0
        while codes[i].sum() < k:
            codes[i, rng.integers(width)] = 1.0
    np.savez(path, codes=codes, labels=y)


@pytest.mark.slow
def test_the_report_shows_each_user_codes_card_beside_its_random_null(tmp_path):
    out = tmp_path / "out"
    _kofn_file(tmp_path / "fourof40.npz")
    _kofn_file(tmp_path / "eightof40.npz", k=8, seed=1)
    for name in ("fourof40", "eightof40"):
        assert main(["measure", "--codes", str(tmp_path / f"{name}.npz"), "--out", str(out),
                     "--max-stimuli", "80"]) == 0
    (tmp_path / "figs").mkdir()
    assert main(["report", str(out), "--out", str(tmp_path / "rep"),
                 "--figures", str(tmp_path / "figs")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "Your codes: their cards" in md
    rows = {line.split("|")[1].strip(): line for line in md.splitlines()
            if line.startswith("| fourof40") or line.startswith("| eightof40")}
    assert set(rows) == {"fourof40", "eightof40"}
    # binary k-of-N: Treves-Rolls = k/N measured, and the random null is k/N too
    assert "0.1 (0.1)" in rows["fourof40"] and "0.2 (0.2)" in rows["eightof40"]


def test_a_card_that_cannot_be_written_leaves_nothing_half_written(tmp_path, monkeypatch):
    import os

    real = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="no space left|No space left"):
        write_card({"name": "x", "n_units": 4}, tmp_path / "x")
    monkeypatch.setattr(os, "write", real)
    assert list(tmp_path.iterdir()) == []
