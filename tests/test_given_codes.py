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


@pytest.mark.slow
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
    assert main(["figures", str(out), "--out", str(figs), "--no-theory", "--no-fields",
                 "--svg"]) == 0
    assert (figs / "summary_properties.png").exists()
    assert "mycodes" in (figs / "summary_properties.svg").read_text()
    rep = tmp_path / "rep"
    assert main(["report", str(out), "--out", str(rep), "--figures", str(figs)]) == 0
    assert "mycodes" in (rep / "report.md").read_text()


# --- NWB recordings (neurocode measure --codes rec.nwb) --------------------------------------


def _nwb_recording(path, n_units=30, n_trials=80, seed=0, ms=False):
    """A real NWB file written with pynwb: Poisson spikes of ``n_units`` units whose rates
    depend on the trial's stimulus (two classes), trials of 0.2 s every 0.5 s with a
    'stimulus' column. Returns the path and the counts planned per trial and unit."""
    from datetime import UTC, datetime

    pytest.importorskip("pynwb")
    from pynwb import NWBHDF5IO, NWBFile

    rng = np.random.default_rng(seed)
    nwb = NWBFile(session_description="synthetic", identifier=f"rec-{seed}",
                  session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.add_trial_column(name="stimulus", description="the stimulus class")
    stim = np.array(["left", "right"])[np.arange(n_trials) % 2]
    rate = np.where(np.arange(n_units)[None, :] % 2 == (stim == "right")[:, None], 25.0, 2.0)
    counts = rng.poisson(rate * 0.2)
    spikes: list[list[float]] = [[] for _ in range(n_units)]
    for i in range(n_trials):
        nwb.add_trial(start_time=0.5 * i, stop_time=0.5 * i + 0.2, stimulus=str(stim[i]))
        for j in range(n_units):
            spikes[j] += list(0.5 * i + rng.uniform(0.0, 0.2, counts[i, j]))
    for j in range(n_units):
        t = np.sort(np.array(spikes[j] + [0.5 * n_trials + 1.0]))   # one spike after the trials
        nwb.add_unit(spike_times=t * (1000 if ms else 1))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path, counts, stim


def test_load_codes_reads_an_nwb_recording_as_counts_per_trial(tmp_path):
    p, counts, stim = _nwb_recording(tmp_path / "rec.nwb")
    cs = load_codes(p, labels_key="stimulus")
    assert cs.n_units == 30 and len(cs.codes_train) + len(cs.codes_test) == 80
    # every stored row is one planned trial's counts, with its label
    rows = {tuple(r): s for r, s in zip(counts.astype(np.float32), stim, strict=True)}
    for C, y in ((cs.codes_train, cs.labels_train), (cs.codes_test, cs.labels_test)):
        for r, s in zip(C, y, strict=True):
            assert rows[tuple(r)] == s
    assert any("30 of " in n and "not counted" in n for n in cs.notes)
    bare = load_codes(p)                                      # no --labels-key: no labels
    assert bare.labels_train is None and bare.labels_test is None
    with pytest.raises(ValueError, match="rec.nwb: no intervals table 'epochs'; the file "
                                         "has trials"):
        load_codes(p, codes_key="epochs")
    with pytest.raises(ValueError, match="rec.nwb: the 'trials' table has no column 'odour'; "
                                         "its columns are start_time, stop_time, stimulus"):
        load_codes(p, labels_key="odour")


@pytest.mark.slow
def test_measure_codes_nwb_through_the_cli_stores_a_run_measured_from_the_counts(tmp_path):
    p, counts, _ = _nwb_recording(tmp_path / "rec.nwb")
    out = tmp_path / "out"
    assert main(["measure", "--codes", str(p), "--labels-key", "stimulus", "--out", str(out),
                 "--max-stimuli", "100"]) == 0
    files = sorted((out / "rec").glob("*.h5"))
    assert len(files) == 1
    rec = read_run(files[0])
    assert rec.status == "complete" and rec.config["data"]["labels_key"] == "stimulus"
    b = read_battery(files[0])
    cs = load_codes(p, labels_key="stimulus")               # the same split (seed 0)
    assert b["activity"]["activity_ratio"] == pytest.approx(np.mean(cs.codes_test > 0))
    assert b["activity"]["n_units"] == 30
    # two classes of units, each driven by one stimulus: the readout tells them apart
    assert b["fault"]["accuracy_intact"] > 0.9
    assert {"fault", "decoding", "willshaw"} <= set(b)
    # the run file's config reads the recording again (how `neurocode measure DIR` re-measures)
    from neurocode.data.prepare import load_data

    ds = load_data(rec.config["data"], seed=rec.config["seed"])
    np.testing.assert_array_equal(ds.X_test, cs.codes_test)
    np.testing.assert_array_equal(ds.y_test, cs.labels_test)


@pytest.mark.parametrize("args, message", [
    (["--codes-key", "blocks"], "no intervals table 'blocks'"),
    (["--labels-key", "odour"], "no column 'odour'"),
])
def test_bad_nwb_requests_exit_2_and_store_nothing(tmp_path, capsys, args, message):
    p, _, _ = _nwb_recording(tmp_path / "rec.nwb", n_units=4, n_trials=8)
    out = tmp_path / "out"
    assert main(["measure", "--codes", str(p), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "rec.nwb" in err
    assert not out.exists() or not any(out.rglob("*"))


def test_nwb_with_spikes_in_ms_or_without_units_exit_2(tmp_path, capsys):
    from datetime import UTC, datetime

    p, _, _ = _nwb_recording(tmp_path / "ms.nwb", n_units=4, n_trials=20, ms=True)
    assert main(["measure", "--codes", str(p), "--out", str(tmp_path / "o")]) == 2
    assert "look like milliseconds" in capsys.readouterr().err
    from pynwb import NWBHDF5IO, NWBFile

    nwb = NWBFile(session_description="no spikes", identifier="x",
                  session_start_time=datetime(2024, 1, 1, tzinfo=UTC))
    nwb.add_trial(start_time=0.0, stop_time=1.0)
    bare = tmp_path / "bare.nwb"
    with NWBHDF5IO(str(bare), "w") as io:
        io.write(nwb)
    assert main(["measure", "--codes", str(bare), "--out", str(tmp_path / "o")]) == 2
    assert "bare.nwb: no Units table" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*"))


def test_measure_codes_runs_only_the_measures_asked_for():
    C, y = _kofn(400)
    out = measure_codes(C, y, max_stimuli=100, measures=["activity", "overlap"])
    assert set(out) == {"_meta", "activity", "overlap"}
    assert out["activity"]["treves_rolls"] == pytest.approx(K / N)
    with pytest.raises(ValueError, match="nonsense"):
        measure_codes(C, y, max_stimuli=100, measures=["nonsense"])
