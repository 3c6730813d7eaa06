"""Codes given as arrays or files: measured by the battery like any rule's, stored as runs.

Random k-of-N arrays have closed forms the battery's numbers must meet whatever made them
(Treves-Rolls sparseness k/N, Willshaw's fraction of set synapses, hypergeometric survival
of an item's units under unit loss); bad files are refused with exit 2 and nothing stored.
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from scipy.stats import hypergeom

from neurocode.cli import main
from neurocode.codes import GivenCodes, measure_codes
from neurocode.data.codes import load_codes, split_codes
from neurocode.store import read_battery, read_run, write_battery

N, K = 200, 10


def _kofn(n_rows: int, seed: int = 0):
    """Random k-of-N codes, and labels tied to them (class c prefers units of block c)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n_rows)
    C = np.zeros((n_rows, N), dtype=np.float32)
    for i in range(n_rows):
        C[i, rng.choice(N, K, replace=False)] = 1.0
    return C, y


@pytest.fixture
def npz(tmp_path):
    C, y = _kofn(1200)
    p = tmp_path / "mycodes.npz"
    np.savez(p, codes=C, labels=y)
    return p


@pytest.mark.slow
def test_measure_codes_file_meets_the_kofn_closed_forms_and_stores_a_run(npz, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["measure", "--codes", str(npz), "--out", str(out), "--max-stimuli", "300"]) == 0
    files = sorted((out / "mycodes").glob("*.h5"))
    assert len(files) == 1
    rec = read_run(files[0])
    assert rec.status == "complete" and rec.config["model"]["rule"] == "given-codes"
    b = read_battery(files[0])
    a = b["activity"]
    assert a["avr"] == pytest.approx(K) and a["activity_ratio"] == pytest.approx(K / N)
    assert a["treves_rolls"] == pytest.approx(K / N, rel=1e-9)      # binary k-of-N: a = k/N
    w = b["willshaw"]   # fraction of set synapses against p1 = 1 - (1 - k(k-1)/(N(N-1)))^M
    ok = w["loads"] >= 20
    np.testing.assert_allclose(w["fraction_set"][ok], w["theory_fraction_set"][ok], rtol=0.05)
    assert "superposition" not in b and "superposition" in b["_meta"]["skipped"]
    assert {"fault", "decoding", "unions", "sync_async", "compute"} <= set(b)
    card = json.loads(files[0].with_suffix(".card.json").read_text())
    assert card["name"] == "mycodes" and card["avr"] == pytest.approx(K)
    assert card["treves_rolls_random_kofn"] == pytest.approx(K / N)
    csv_rows = files[0].with_suffix(".card.csv").read_text().splitlines()
    assert len(csv_rows) == 2 and csv_rows[0].startswith("name,source")
    # measured again from the run file alone: the same numbers (the file is the data)
    kept = {m: v for m, v in b.items() if m not in ("compute", "_meta")}
    write_battery(files[0], {"activity": b["activity"], "_meta": b["_meta"]})
    assert main(["measure", str(out), "--max-stimuli", "300"]) == 0
    again = read_battery(files[0])
    for m in ("willshaw", "fault", "overlap", "unions"):
        for key, v in kept[m].items():
            np.testing.assert_array_equal(np.asarray(again[m][key]), np.asarray(v),
                                          err_msg=f"{m}.{key}")


def test_silencing_given_codes_drops_units_with_hypergeometric_survival():
    """Silencing m of N units removes them from every code: an item keeps at least theta of
    its k units with probability hypergeom.sf(theta - 1, N, N - m, k)."""
    C, _ = _kofn(3000, seed=1)
    rule = GivenCodes(random_state=0).fit(C)
    rng = np.random.default_rng(2)
    for m, theta in ((50, 8), (100, 5), (150, 3)):
        kept = []
        for _ in range(20):
            mask = np.ones(N, bool)
            mask[rng.choice(N, m, replace=False)] = False
            codes = rule.encode(C, unit_mask=mask)
            assert not codes[:, ~mask].any()
            np.testing.assert_array_equal(codes[:, mask], C[:, mask])
            kept.append(np.mean((codes > 0).sum(axis=1) >= theta))
        expected = hypergeom.sf(theta - 1, N, N - m, K)
        assert np.mean(kept) == pytest.approx(expected, abs=0.01), (m, theta)


def test_measure_codes_from_python_with_a_test_split_and_without_labels():
    C, y = _kofn(800)
    out = measure_codes(C[:600], y[:600], codes_test=C[600:], labels_test=y[600:],
                        max_stimuli=200)
    assert out["_meta"]["n_stimuli"] == 200 and out["fault"]["n_units"] == N
    bare = measure_codes(C, max_stimuli=200)
    assert not {"fault", "decoding", "overlap", "compute"} & set(bare)
    assert set(bare["_meta"]["skipped"].split(",")) >= {"fault", "decoding", "superposition"}


def test_hdf5_codes_with_named_datasets_and_sparse_arrays(tmp_path):
    from scipy import sparse

    C, y = _kofn(400)
    p = tmp_path / "rec.h5"
    with h5py.File(p, "w") as f:
        f["layer3/acts"] = C
        f["meta/y"] = y
    cs = load_codes(p, codes_key="layer3/acts", labels_key="meta/y")
    assert cs.n_units == N and len(cs.codes_train) + len(cs.codes_test) == 400
    with pytest.raises(ValueError, match="no dataset 'codes'.*layer3/acts"):
        load_codes(p)
    sp = split_codes(sparse.csr_matrix(C), y)
    assert sp.codes_train.dtype == np.float32 and sp.codes_train.sum() == K * len(sp.codes_train)


@pytest.mark.parametrize("make, message", [
    (lambda C, y: {"codes": C, "labels": y[:-5]}, "labels for"),
    (lambda C, y: {"codes": np.where(C > 0, np.nan, C), "labels": y}, "NaN"),
    (lambda C, y: {"codes": np.zeros_like(C), "labels": y}, "all zero"),
    (lambda C, y: {"acts": C}, "no array 'codes'; the file holds acts"),
    (lambda C, y: {"codes_train": C}, "codes_train without codes_test"),
    (lambda C, y: {"codes": C, "labels": np.zeros(len(C))}, "single class"),
])
def test_bad_codes_files_exit_2_and_store_nothing(tmp_path, capsys, make, message):
    C, y = _kofn(100)
    p = tmp_path / "bad.npz"
    np.savez(p, **make(C, y))
    out = tmp_path / "out"
    assert main(["measure", "--codes", str(p), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "bad.npz" in err
    assert not out.exists() or not any(out.rglob("*"))


def test_missing_and_corrupted_codes_files_are_named(tmp_path, capsys):
    assert main(["measure", "--codes", str(tmp_path / "nope.npz")]) == 2
    assert "nope.npz: no such codes file" in capsys.readouterr().err
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"not a zip file")
    assert main(["measure", "--codes", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "broken.npz" in capsys.readouterr().err
    txt = tmp_path / "codes.txt"
    txt.write_text("1 0 1\n")
    assert main(["measure", "--codes", str(txt)]) == 2
    assert "unknown codes file type" in capsys.readouterr().err


@pytest.mark.slow
def test_given_codes_appear_in_figures_and_report_beside_rules(npz, tmp_path):
    out = tmp_path / "out"
    assert main(["measure", "--codes", str(npz), "--out", str(out), "--max-stimuli", "200"]) == 0
    figs = tmp_path / "figs"
    assert main(["figures", str(out), "--out", str(figs), "--no-theory", "--no-fields"]) == 0
    assert (figs / "summary_properties.png").exists()
    assert "mycodes" in (figs / "summary_properties.svg").read_text()
    rep = tmp_path / "rep"
    assert main(["report", str(out), "--out", str(rep), "--figures", str(figs)]) == 0
    assert "mycodes" in (rep / "report.md").read_text()
