"""The whole battery on every registered rule, and `neurocode measure` end to end."""

import math

import numpy as np
import pytest
import yaml

from neurocode import store
from neurocode.cli import main
from neurocode.data.prepare import Dataset
from neurocode.metrics import MEASURES, run_battery
from neurocode.models.memory import Hopfield, Willshaw
from neurocode.rules import available_rules, get_rule
from neurocode.store import read_battery, write_battery

from conftest import needs_mnist

RULES = available_rules()


def _image_data(n_train=300, n_test=200, seed=0):
    """Ten classes of 28x28 'images': a class prototype plus noise, in [0, 1]."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((10, 784)) < 0.2).astype(np.float32)

    def draw(n):
        y = rng.integers(0, 10, n)
        X = np.clip(protos[y] + 0.3 * rng.random((n, 784), dtype=np.float32), 0, 1)
        return X.astype(np.float32), y

    Xtr, ytr = draw(n_train)
    Xte, yte = draw(n_test)
    return Dataset(Xtr, ytr, Xte, yte, image_shape=(28, 28))


def _fitted(name, data):
    cls = RULES[name]
    rule = get_rule(name, **cls.test_params)
    if issubclass(cls, (Willshaw, Hopfield)):  # memories store binary patterns
        X = (data.X_train > 0.5).astype(np.float32)[:60]
        return rule.fit(X), Dataset(X, data.y_train[:60], (data.X_test > 0.5).astype(np.float32),
                                    data.y_test, (28, 28))
    return rule.fit(data.X_train, data.y_train), data


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RULES))
def test_battery_runs_on_every_registered_rule(name, tmp_path):
    rule, data = _fitted(name, _image_data())
    res = run_battery(rule, data, max_stimuli=150, random_state=0)
    assert set(MEASURES) <= set(res) and res["_meta"]["n_stimuli"] == 150
    codes = rule.encode(data.X_test[:1])
    # the activity numbers are the codes' own: recompute AVR from a fresh encode
    sub = np.sort(np.random.default_rng(0).choice(len(data.X_test), 150, replace=False))
    direct = (np.abs(rule.encode(data.X_test[sub])) > 0).sum(axis=1).mean()
    assert res["activity"]["avr"] == pytest.approx(direct)
    assert res["activity"]["n_units"] == rule.n_units == codes.shape[1]
    fault = res["fault"]
    assert fault["accuracy_random"].shape == fault["fractions"].shape
    assert fault["fractions"][0] == 0 and fault["fractions"][-1] == 1
    # every unit silenced: the readout sees a constant code, so it names at most one class
    assert fault["accuracy_random"][-1] <= np.bincount(data.y_test[sub]).max() / 150 + 1e-12
    # what run_battery returns is what the run file stores
    path = tmp_path / "run.h5"
    store.write_run(path, config={"name": "x"}, experiment="x", run_name=name, seed=0,
                    curves={}, final={})
    write_battery(path, res)
    back = read_battery(path)
    for measure, values in res.items():
        for key, value in values.items():
            if isinstance(value, str):
                assert back[measure][key] == value
            else:
                np.testing.assert_array_equal(back[measure][key], value)


@pytest.mark.slow
def test_battery_of_a_kofn_code_meets_its_closed_forms():
    """A k-of-N code has AVR exactly k, log2 C(N, k) bits, Treves-Rolls sparseness k/N."""
    data = _image_data()
    N, k = 64, 5
    rule = get_rule("kofn", n_units=N, k=k, random_state=0).fit(data.X_train)
    res = run_battery(rule, data, max_stimuli=200)
    act = res["activity"]
    assert act["avr"] == k and act["activity_ratio"] == k / N
    assert act["code_type"] == "sparse"
    assert res["representation"]["bits"] == pytest.approx(math.log2(math.comb(N, k)))


def test_unlabelled_data_skips_the_measures_that_need_labels():
    data = _image_data()
    data = Dataset(data.X_train, None, data.X_test, None, None)
    rule = get_rule("kofn", n_units=32, k=4, random_state=0).fit(data.X_train)
    res = run_battery(rule, data, max_stimuli=100)
    assert {"activity", "representation", "willshaw", "hopfield", "unions"} <= set(res)
    assert not {"fault", "superposition", "overlap", "decoding"} & set(res)
    assert res["_meta"]["readout"] == "none"


def test_nan_codes_are_refused():
    class NaNCode:
        name, n_units = "nan-code", 4

        def encode(self, X, unit_mask=None):
            out = np.ones((len(X), 4))
            out[0, 0] = np.nan
            return out

    with pytest.raises(ValueError, match="NaN"):
        run_battery(NaNCode(), _image_data(50, 50), max_stimuli=50)


# -- neurocode measure ------------------------------------------------------------------------
def _config(tmp_path):
    raw = {"name": "tiny", "seed": 0, "model": {"rule": "relu-l1-fc", "hidden": 32},
           "train": {"iterations": 6, "eval_every": 3}, "data": {"n_train": 2000, "n_test": 300},
           "sweep": {"model.l1": [0.0, 1e-3]}}
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump(raw))
    return p


@pytest.mark.slow
@needs_mnist
def test_measure_runs_configs_then_stores_the_battery(tmp_path, capsys):
    cfg, out = _config(tmp_path), tmp_path / "out"
    assert main(["measure", str(cfg), "--out", str(out), "--max-stimuli", "200"]) == 0
    files = sorted((out / "tiny").glob("*.h5"))
    assert len(files) == 2
    for f in files:
        b = read_battery(f)
        assert set(MEASURES) <= set(b)
        assert b["_meta"]["n_stimuli"] == 200 and b["_meta"]["readout"] == "own classifier"
        assert 0 <= b["activity"]["activity_ratio"] <= 1
    text = capsys.readouterr().out
    assert text.count("battery/") == 2 and "AVR" in text
    # measured runs are skipped; --force measures again
    mtimes = [f.stat().st_mtime_ns for f in files]
    assert main(["measure", str(out)]) == 0
    assert "already measured" in capsys.readouterr().out
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    assert main(["measure", str(files[0]), "--force", "--max-stimuli", "100"]) == 0
    assert read_battery(files[0])["_meta"]["n_stimuli"] == 100
    # a corrupted file beside a good one: reported, exit 1, the good one still measured
    bad = out / "tiny" / "broken.h5"
    bad.write_bytes(b"not an hdf5 file")
    assert main(["measure", str(bad), str(files[1]), "--force", "--max-stimuli", "120"]) == 1
    err = capsys.readouterr().err
    assert "broken.h5" in err and "corrupt" in err
    assert read_battery(files[1])["_meta"]["n_stimuli"] == 120
    # the battery's figures beside the article's, and the theory figure on request
    figs = tmp_path / "figs"
    assert main(["figures", str(out), "--out", str(figs), "--theory", "--theory-units", "128",
                 "--fields", "--svg"]) == 0
    for stem in ("tiny_battery", "tiny_curves", "theory_codes", "tiny_l1=0_fields",
                 "tiny_l1=0.001_fields"):
        assert (figs / f"{stem}.png").stat().st_size > 0 and (figs / f"{stem}.svg").exists()
    svg = (figs / "tiny_battery.svg").read_text()
    assert all(name in svg for name in ("l1=0", "l1=0.001", "fault tolerance"))


@pytest.mark.parametrize("args, message", [
    (["--threshold", "-1"], "--threshold"),
    (["--threshold", "nan"], "--threshold"),
    (["--max-stimuli", "0"], "--max-stimuli"),
])
def test_measure_refuses_bad_options(tmp_path, capsys, args, message):
    assert main(["measure", str(tmp_path)] + args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_figures_of_an_empty_folder_say_what_to_run(tmp_path, capsys):
    assert main(["figures", str(tmp_path), "--out", str(tmp_path / "f")]) == 1
    assert "neurocode measure" in capsys.readouterr().err


def test_measure_refuses_a_missing_target(tmp_path, capsys):
    assert main(["measure", str(tmp_path / "nope.h5")]) == 2
    assert "nope.h5" in capsys.readouterr().err


def test_readout_from_given_codes_equals_one_that_encodes():
    from neurocode.metrics.readout import fit_readout

    data = _image_data(200, 100)
    rule = get_rule("kwta", n_units=32, k=4, epochs=1, random_state=0).fit(data.X_train)
    a = fit_readout(rule, data.X_train, data.y_train)
    b = fit_readout(rule, data.X_train, data.y_train, codes=rule.encode(data.X_train))
    np.testing.assert_array_equal(b.predict(data.X_test), a.predict(data.X_test))
    with pytest.raises(ValueError, match="rows"):
        fit_readout(rule, data.X_train, data.y_train, codes=rule.encode(data.X_train[:5]))


@pytest.mark.slow
def test_a_subset_of_measures_draws_the_same_stimuli_as_the_whole_battery():
    data = _image_data(200, 150)
    rule = get_rule("kofn", n_units=64, k=6, random_state=0).fit(data.X_train)
    whole = run_battery(rule, data, max_stimuli=120, random_state=3)
    part = run_battery(rule, data, max_stimuli=120, random_state=3, measures=["unions", "overlap"])
    assert set(part) == {"unions", "overlap", "_meta"}
    for m in ("unions", "overlap"):
        for k, v in whole[m].items():
            np.testing.assert_array_equal(np.asarray(part[m][k]), np.asarray(v), err_msg=k)
    with pytest.raises(ValueError, match="unknown measure.*nope"):
        run_battery(rule, data, measures=["nope"])


@pytest.mark.slow
@needs_mnist
def test_measure_adds_the_measures_an_older_battery_lacks_and_keeps_the_rest(tmp_path, capsys):
    """A battery written before a measure existed gets just that measure, on the same stimuli
    and settings; what it held is kept bit for bit, and a second pass does nothing."""
    from neurocode.metrics.battery import missing_measures

    assert main(["run", str(_config(tmp_path)), "--out", str(tmp_path / "out")]) == 0
    f = sorted((tmp_path / "out" / "tiny").glob("*.h5"))[0]
    assert main(["measure", str(f), "--max-stimuli", "110", "--seed", "7"]) == 0
    full = read_battery(f)
    assert missing_measures(full) == []
    old = {k: v for k, v in full.items() if k not in ("compute", "sync_async")}
    write_battery(f, old)                     # as a battery from before those two existed
    assert missing_measures(read_battery(f)) == ["sync_async", "compute"]
    capsys.readouterr()
    assert main(["measure", str(f)]) == 0
    assert "adding sync_async, compute" in capsys.readouterr().out
    new = read_battery(f)
    assert set(new) == set(full)
    for m in old:
        if m == "_meta":
            continue
        for k, v in old[m].items():
            np.testing.assert_array_equal(np.asarray(new[m][k]), np.asarray(v), err_msg=f"{m}.{k}")
    assert new["_meta"]["n_stimuli"] == 110 and new["_meta"]["random_state"] == 7
    # the same stimuli and seed as the first battery: the recall measure is reproduced exactly
    for k, v in full["sync_async"].items():
        np.testing.assert_array_equal(np.asarray(new["sync_async"][k]), np.asarray(v), err_msg=k)
    assert main(["measure", str(f)]) == 0
    assert "already measured" in capsys.readouterr().out


def test_own_classifier_readout_names_classes_not_columns():
    """A rule's own classifier scores column j for its classes_[j]: with labels 3, 7, 9 the
    readout must predict 3, 7, 9 (reading column indices 0, 1, 2 gave accuracy 0)."""
    from neurocode.metrics.readout import fit_readout

    rng = np.random.default_rng(0)
    y = rng.choice([3, 7, 9], 300)
    X = rng.normal(size=(300, 20)) + 3.0 * (y[:, None] == np.array([3, 7, 9])[None, :]).repeat(
        7, axis=1)[:, :20]
    rule = get_rule("local-class", random_state=0).fit(X, y)
    readout = fit_readout(rule, X, y)
    assert readout.kind == "own classifier"
    assert set(np.unique(readout.predict(X))) <= {3, 7, 9}
    assert readout.accuracy(X, y) == pytest.approx(float((rule.predict(X) == y).mean()))
    assert readout.accuracy(X, y) > 0.9
