"""bench_spiking_sizes measures what the diehl-cook rule trains, and reports its spikes right.

The reference is the rule itself (``DiehlCook.fit``, its own start, seeds and training loop):
the benchmark's measuring function, started by ``rule_start`` from the same random_state, must
end with the rule's weights and thresholds and report, sample by sample, the spike counts and
presentations that the rule's training curves record (with 2 samples, one window a sample).
No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from neurocode.models.diehl_cook import DiehlCook

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_spiking_sizes.py"
_spec = importlib.util.spec_from_file_location("bench_spiking_sizes_under_test", BENCH)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # (its dataclass looks its module up there)
_spec.loader.exec_module(bench)

N_E, N = 10, 2


def digits(n=N, seed=1):
    """MNIST-like stimuli in [0, 1]: sparse, bright strokes on a black ground."""
    rng = np.random.default_rng(seed)
    return np.round(rng.random((n, 784)) * (rng.random((n, 784)) < 0.2) * 255) / 255


@pytest.fixture(scope="module")
def measured():
    X = digits()
    start = bench.rule_start(N_E, N, random_state=0)
    r = bench.measure_training(start, 255.0 * X, block=1)
    rule = DiehlCook(n_e=N_E, random_state=0).fit(X, progress=False)
    return r, rule


def test_fields_promised(measured):
    r, _ = measured
    assert set(bench.TRAINING_FIELDS) <= set(r)
    assert r["n_e"] == N_E and r["n_samples"] == N and r["n_blocks"] == N and r["threads"] == 1
    for name in ("spikes", "presentations", "intensity"):
        assert len(r[name]) == N
    assert r["counts"].shape == (N, N_E)
    assert r["spikes"] == r["counts"].sum(axis=1).tolist()
    assert r["spikes_per_sample_max"] == max(r["spikes"])
    assert r["spikes_per_sample_mean"] == pytest.approx(np.mean(r["spikes"]))
    assert r["presentations_max"] == max(r["presentations"])
    assert r["ms_per_sample_mean"] > 0 and r["cpu_s"] >= 0


def test_same_training_as_the_rule(measured):
    r, rule = measured
    # one window per sample: the rule's curves are its per-sample spike counts and intensity
    assert rule.curves_["step"].tolist() == list(range(1, N + 1))
    assert r["spikes"] == rule.curves_["spikes_per_sample"].astype(np.int64).tolist()
    assert np.array_equal(r["intensity"], rule.curves_["intensity"])
    assert sum(r["presentations"]) == rule.n_seen_
    eng = r["engine"]
    assert np.array_equal(eng.get_weights(), rule.W_)
    assert np.array_equal(eng.get_theta(), rule.theta_)
    assert sum(r["spikes"]) > 0  # else the comparison of counts says little


def test_blocks_do_not_change_the_training(measured):
    r, _ = measured
    start = bench.rule_start(N_E, N, random_state=0)
    whole = bench.measure_training(start, 255.0 * digits(), block=N)
    assert whole["n_blocks"] == 1
    assert np.array_equal(whole["counts"], r["counts"])
    assert np.array_equal(whole["engine"].get_weights(), r["engine"].get_weights())


def test_bad_input_says_what_is_wrong():
    start = bench.rule_start(N_E, N, random_state=0)
    with pytest.raises(bench.BenchInputError, match="784"):
        bench.measure_training(start, np.zeros((N, 100)))
    with pytest.raises(bench.BenchInputError, match="ask for 1 to 2"):
        bench.measure_training(start, np.zeros((5, 784)), 3)
    with pytest.raises(bench.BenchInputError, match=">= 0"):
        bench.measure_training(start, -np.ones((N, 784)))
    with pytest.raises(ValueError, match="block"):
        bench.measure_training(start, np.zeros((N, 784)), block=0)


@pytest.mark.parametrize("argv", [["--sizes", "0"], ["--n-train", "5", "6"],
                                  ["--sizes", "100", "--brian2-n-e", "400"],
                                  ["--breakdown", "123"],
                                  ["--json", "/no/such/folder/out.json"]])
def test_cli_refuses_bad_options(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_training_parallel_is_read_from_the_engine():
    from neurocode.models.diehl_cook import fast_engine

    parallel, why = bench.training_is_parallel()
    assert parallel == bool(fast_engine.train_samples.targetoptions.get("parallel", False)
                            or fast_engine.simulate.targetoptions.get("parallel", False))
    assert why


@pytest.mark.slow
def test_brian2_sees_the_same_samples(measured):
    """Brian2 (numpy target), a second implementation, from the benchmark's start."""
    r, _ = measured
    start = bench.rule_start(N_E, N, random_state=0)
    b = bench.measure_brian2(start, 255.0 * digits(), 1, target="numpy")
    assert b["target"] == "numpy" and not b["fallback"]
    assert np.array_equal(b["counts"], r["counts"])
    assert b["spikes"] == r["spikes"]


@pytest.mark.slow
def test_breakdown_prototypes_give_the_engines_result(measured):
    r, _ = measured
    d = bench.breakdown(r["engine"], 255.0 * digits()[0], 7, repeats=1)
    assert d["forkjoin_identical"] and d["count_first_identical"]
    assert d["n_e"] == N_E and d["steps"] == 1000
