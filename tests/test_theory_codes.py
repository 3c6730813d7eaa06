"""The theory figure's data (neurocode.metrics.theory_codes): computed outside the figures,
stored and read back bit for bit, drawn by the figure from the stored file.

* the measured survival and union curves of random k-of-N codes against closed forms written
  with scipy (hypergeometric survival; Ahmad & Hawkins' C(s, k) / C(N, k));
* a stored file reads back to the same arrays, and the figure drawn from it is byte for byte
  the figure drawn from the computed curves;
* bad arguments, a file that is not theirs, and a full disk are refused with a message that
  names what is wrong, leaving no half-written file.
"""

from __future__ import annotations

import errno
import math

import numpy as np
import pytest
from scipy.special import comb
from scipy.stats import hypergeom

from neurocode.metrics import theory_codes
from neurocode.metrics.theory_codes import (
    CODE_TYPES,
    TheoryCurvesError,
    TheoryCurvesWriteError,
    code_widths,
    load_theory_curves,
    save_theory_curves,
    theory_curves,
    theory_curves_path,
    theory_k_values,
)

N = 64


@pytest.fixture(scope="module")
def curves():
    return theory_curves(N, random_state=3)


def _synthetic(n_units: int = 32, seed: int = 0) -> dict:
    """Curves of the right layout with made-up numbers (nothing measured: fast)."""
    rng = np.random.default_rng(7)
    codes = {}
    for name, k in code_widths(n_units).items():
        codes[name] = {"k": k, "theta": max(1, k // 2),
                       "loads": np.array([1.0, 2.0, 4.0, 8.0]),
                       "false_match": rng.uniform(1e-4, 1, 4),
                       "theory_false_match": np.sort(rng.uniform(1e-4, 1, 4)),
                       "fractions": np.linspace(0, 1, 5), "survival": rng.uniform(0, 1, 5),
                       "theory_survival": rng.uniform(0, 1, 5)}
    ks = np.array(theory_k_values(n_units), dtype=float)
    cap = {key: rng.uniform(1, 100, ks.size) for key in
           ("capacity", "theory_capacity", "bits_per_synapse", "theory_bits_per_synapse")}
    return {"n_units": n_units, "random_state": seed, "tolerance": 1 / n_units,
            "capacity": {"k_values": ks, **cap}, "codes": codes}


@pytest.mark.slow
def test_measured_curves_follow_the_closed_forms(curves):
    assert list(curves["codes"]) == list(CODE_TYPES)
    assert curves["n_units"] == N and curves["tolerance"] == 1 / N
    for name, c in curves["codes"].items():
        k, theta = c["k"], c["theta"]
        assert (k, theta) == (code_widths(N)[name], max(1, k // 2))
        # survival of an item that needs theta of its k units when m = floor(f N + 1/2) of the
        # N units are dead: at most k - theta of its units among the dead (hypergeometric)
        m = np.floor(c["fractions"] * N + 0.5).astype(int)
        want = hypergeom.cdf(k - theta, N, k, m)
        np.testing.assert_allclose(c["theory_survival"], want, rtol=1e-9, atol=1e-12)
        # 500 items x 20 draws: the measured mean within 5 standard errors of the theory
        se = np.sqrt(want * (1 - want) / 500) + 1e-3
        assert np.all(np.abs(c["survival"] - want) <= 5 * se), name
        # full-match false positives against a union of M codes (Ahmad & Hawkins 2016):
        # C(s, k) / C(N, k), s = N (1 - (1 - k/N)^M) the union's expected size (linear
        # between the integers around it)
        s = N * (1 - (1 - k / N) ** c["loads"])
        lo = np.floor(s)
        want = ((1 - (s - lo)) * comb(lo, k) + (s - lo) * comb(lo + 1, k)) / comb(N, k)
        np.testing.assert_allclose(c["theory_false_match"], want, rtol=1e-9, atol=1e-15)
    cap = curves["capacity"]
    assert list(cap["k_values"]) == theory_k_values(N)
    # the capacity of random codes peaks at sparse activity, neither at k = 1 nor at N/2 - 1
    best = int(np.argmax(cap["capacity"]))
    assert 0 < best < len(cap["k_values"]) - 1


@pytest.mark.slow
def test_stored_curves_read_back_bit_for_bit_and_draw_the_same_bytes(curves, tmp_path):
    from neurocode.figures.battery import draw_theory_figure, theory_figure
    from neurocode.figures.style import save_figures

    path = save_theory_curves(curves, theory_curves_path(tmp_path / "results", N, 3))
    assert path == tmp_path / "results" / "theory" / f"theory_codes_N{N}_seed3.npz"
    assert [p.name for p in path.parent.iterdir()] == [path.name]      # no temporary left
    back = load_theory_curves(path)
    assert back.keys() == curves.keys() and back["codes"].keys() == curves["codes"].keys()
    for key, v in curves["capacity"].items():
        assert back["capacity"][key].dtype == v.dtype and np.array_equal(back["capacity"][key], v)
    for name, c in curves["codes"].items():
        for key, v in c.items():
            assert np.array_equal(back["codes"][name][key], v), (name, key)
    computed = save_figures({"theory_codes": theory_figure(N, 3, curves=curves)}, tmp_path / "a")
    drawn = draw_theory_figure(tmp_path / "b", N, 3, curves_file=path)
    for a, b in zip(computed, drawn, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_the_figure_draws_the_stored_numbers(tmp_path):
    from neurocode.figures.battery import draw_theory_figure, theory_figure

    data = _synthetic(32)
    fig = theory_figure(32, 0, curves=data)
    ax1, ax2, ax3 = fig.axes[:3]
    np.testing.assert_array_equal(ax1.lines[1].get_ydata(), data["capacity"]["capacity"])
    for i, name in enumerate(CODE_TYPES):
        c = data["codes"][name]
        np.testing.assert_array_equal(ax2.lines[2 * i + 1].get_ydata(), c["false_match"])
        np.testing.assert_array_equal(ax3.lines[2 * i + 1].get_ydata(), c["survival"])
        assert ax3.lines[2 * i + 1].get_label() == f"{name}: k = {c['k']}, needs {c['theta']}"
    path = save_theory_curves(data, tmp_path / "t.npz")
    with pytest.raises(ValueError, match="N = 32, seed 0, not N = 64"):
        draw_theory_figure(tmp_path / "figs", 64, 0, curves_file=path)
    with pytest.raises(ValueError, match="N = 32"):
        theory_figure(64, 0, curves=data)


def test_draw_all_reads_the_curves_stored_in_the_results_folder(tmp_path, monkeypatch):
    from neurocode.figures import battery, draw_all

    path = save_theory_curves(_synthetic(32), theory_curves_path(tmp_path / "res", 32))
    seen = {}

    def theory_figure(n_units, random_state, *, curves=None):
        seen["curves"] = curves
        raise RuntimeError("stop here")

    monkeypatch.setattr(battery, "theory_figure", theory_figure)
    monkeypatch.setattr("neurocode.figures.article.draw_article_figures",
                        lambda *a: [tmp_path / "x.png"])
    with pytest.raises(RuntimeError, match="stop here"):
        draw_all(tmp_path / "res", tmp_path / "figs", fields=False, theory_units=32)
    assert seen["curves"] is not None and seen["curves"]["n_units"] == 32
    np.testing.assert_array_equal(seen["curves"]["codes"]["sparse"]["survival"],
                                  load_theory_curves(path)["codes"]["sparse"]["survival"])
    path.unlink()                                      # absent: computed, not read
    seen.clear()
    with pytest.raises(RuntimeError, match="stop here"):
        draw_all(tmp_path / "res", tmp_path / "figs", fields=False, theory_units=32)
    assert seen == {"curves": None}
    assert not path.exists()                           # and the figures stored nothing


@pytest.mark.parametrize("kwargs, message", [
    ({"n_units": 4}, "at least 8"),
    ({"n_units": 64.0}, "whole number"),
    ({"n_units": True}, "whole number"),
    ({"random_state": -1}, "seed"),
    ({"random_state": np.random.default_rng(0)}, "seed"),
])
def test_bad_arguments_are_refused(kwargs, message):
    args = {"n_units": 64, "random_state": 0, **kwargs}
    with pytest.raises(TheoryCurvesError, match=message):
        theory_curves(**args)
    with pytest.raises(TheoryCurvesError, match=message):
        theory_curves_path("results", **args)
    assert issubclass(TheoryCurvesError, ValueError)


def test_a_file_that_is_not_theory_curves_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such theory curves file"):
        load_theory_curves(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(TheoryCurvesError, match="junk.npz: not a readable"):
        load_theory_curves(junk)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(TheoryCurvesError, match="other.npz: not a theory curves file"):
        load_theory_curves(other)
    data = _synthetic()
    del data["codes"]["dense"]["survival"]
    with pytest.raises(TheoryCurvesError, match="survival"):
        save_theory_curves(data, tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()


def test_a_full_disk_leaves_no_file_and_names_it(tmp_path, monkeypatch):
    target = tmp_path / "t.npz"
    target.write_bytes(b"old")

    def savez(fh, **arrays):
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(theory_codes.np, "savez", savez)
    with pytest.raises(TheoryCurvesWriteError, match="no space left on device") as info:
        save_theory_curves(_synthetic(), target)
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
    assert str(target) in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["t.npz"] and target.read_bytes() == b"old"


def test_code_widths_and_k_grid():
    assert code_widths(1024) == {"local": 1, "sparse": 20, "dense": 512}
    assert code_widths(1024)["sparse"] == max(2, round(2 * math.log2(1024)))
    ks = theory_k_values(1024)
    assert ks[0] == 1 and ks[-1] == 511 and ks == sorted(set(ks))


def test_the_figures_command_stores_the_curves_once_and_then_only_reads(tmp_path, capsys):
    from neurocode.api import _store_theory_curves

    results = tmp_path / "results"
    results.mkdir()
    _store_theory_curves(results, 64)
    path = theory_codes.theory_curves_path(results, 64)
    stored = theory_codes.load_theory_curves(path)
    fresh = theory_codes.theory_curves(64)   # the same seed (0): the same numbers
    for key, v in fresh["capacity"].items():
        assert np.array_equal(stored["capacity"][key], v), key
    for name, c in fresh["codes"].items():
        for key, v in c.items():
            assert np.array_equal(stored["codes"][name][key], v), (name, key)
    before = path.stat().st_mtime_ns
    _store_theory_curves(results, 64)          # there already: not computed or written again
    assert path.stat().st_mtime_ns == before
    with pytest.raises(ValueError):
        _store_theory_curves(results, 2)       # too few units for the figure


def test_a_results_folder_that_cannot_take_the_curves_is_said_once(tmp_path, monkeypatch,
                                                                  capsys):
    from neurocode.api import _store_theory_curves

    def full(*args, **kwargs):
        raise theory_codes.TheoryCurvesWriteError("x.npz", OSError(errno.ENOSPC, "No space left on device"))

    monkeypatch.setattr(theory_codes, "save_theory_curves", full)
    _store_theory_curves(tmp_path, 64)
    assert "no space left" in capsys.readouterr().err
    assert not theory_codes.theory_curves_path(tmp_path, 64).exists()


def test_a_disk_that_fills_during_the_write_leaves_nothing_and_names_it(tmp_path, monkeypatch):
    import os

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)     # the store's atomic writer writes through it
    with pytest.raises(TheoryCurvesWriteError, match="no space left on device") as info:
        save_theory_curves(_synthetic(), tmp_path / "t.npz")
    assert info.value.errno == errno.ENOSPC and "t.npz" in str(info.value)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
