"""The claims' verdict rules on constructed results whose answer is known by construction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurocode import claims as C
from neurocode.claims import CLAIMS, VERDICTS, Verdict, evaluate_all, trend_test, verdict_counts
from neurocode.results import RunResult

BY_ID = {c.id: c for c in CLAIMS}


def _run(rule: str, label: str, *, seed: int = 0, final: dict | None = None,
         battery: dict | None = None, curves: dict | None = None, **model) -> RunResult:
    config = {"model": {"rule": rule, **model}, "seed": seed, "train": {"iterations": 100}}
    return RunResult(path=Path(f"{label}.h5"), experiment=f"exp_{rule}", run_name=label,
                     config=config, final=dict(final or {}), curves=dict(curves or {}),
                     battery=dict(battery or {}), label=label)


def _net(rule: str, l1: float, avr: float, acc: float, n: int = 784, seed: int = 0,
         **kw) -> RunResult:
    final = {"accuracy": acc, "avr": avr, "activity_ratio": avr / n, "n_units": n}
    return _run(rule, f"l1={l1},seed={seed}", seed=seed, final=final, l1=l1, **kw)


def _fc(l1, avr, acc, **kw):
    return _net(C.FC, l1, avr, acc, **kw)


def _measured(label: str, avr: float, n: int = 100, rule: str = "kofn", **measures) -> RunResult:
    battery = {"activity": {"avr": avr, "n_units": n, "activity_ratio": avr / n}}
    for key, value in measures.items():
        m, name = key.split("__")
        battery.setdefault(m, {})[name] = value
    return _run(rule, label, battery=battery)


def _ev(cid: int, runs) -> Verdict:
    return BY_ID[cid].evaluate(runs)


# --- structure --------------------------------------------------------------------------------

def test_twelve_claims_with_wording_measurement_and_figures():
    assert [c.id for c in CLAIMS] == list(range(1, 13))
    for c in CLAIMS:
        assert c.wording and c.measurement and c.figures


def test_no_runs_every_claim_not_tested_and_says_what_would_test_it():
    res = evaluate_all([])
    assert verdict_counts(res) == {"supported": 0, "partly": 0, "not supported": 0,
                                   "not tested": 12}
    for c, v in res:
        assert "neurocode" in v.needs, (c.id, v.needs)
        assert v.rule


def test_verdict_rejects_unknown_word():
    with pytest.raises(ValueError, match="verdict must be one of"):
        Verdict("probably", "rule")


# --- claim 1 ----------------------------------------------------------------------------------

def test_claim1_dense_unconstrained_supported():
    v = _ev(1, [_fc(0.0, 0.2 * 784, 0.98), _fc(1e-3, 3, 0.95)])
    assert v.verdict == "supported"
    assert v.rows[0][5] == pytest.approx(0.2)
    assert v.rows[0][-2] == C.ARTICLE_FC_AVR_DENSE  # the article's number beside ours


def test_claim1_too_dense_or_sparse_not_supported():
    assert _ev(1, [_fc(0.0, 0.9 * 784, 0.98)]).verdict == "not supported"
    assert _ev(1, [_fc(0.0, 0.01 * 784, 0.98)]).verdict == "not supported"


def test_claim1_seeds_disagree_partly_and_missing_not_tested():
    v = _ev(1, [_fc(0.0, 0.2 * 784, 0.98, seed=0), _fc(0.0, 0.9 * 784, 0.98, seed=1)])
    assert v.verdict == "partly"
    v = _ev(1, [_fc(1e-3, 3, 0.95), _measured("k", 5)])
    assert v.verdict == "not tested" and "article_fc" in v.needs


# --- claim 2 ----------------------------------------------------------------------------------

def test_claim2_near_local_at_good_accuracy_supported():
    assert _ev(2, [_fc(0.0, 150, 0.98), _fc(3e-3, 1.8, 0.90)]).verdict == "supported"


def test_claim2_near_local_only_at_poor_accuracy_partly():
    assert _ev(2, [_fc(3e-3, 1.8, 0.5)]).verdict == "partly"


def test_claim2_never_near_local_not_supported():
    assert _ev(2, [_fc(0.0, 150, 0.98), _fc(3e-3, 20.0, 0.97)]).verdict == "not supported"
    assert _ev(2, [_fc(0.0, 150, 0.98)]).verdict == "not tested"


# --- claim 3 ----------------------------------------------------------------------------------

def test_claim3_large_reduction_small_loss_supported():
    v = _ev(3, [_fc(0.0, 200, 0.98), _fc(1e-4, 5, 0.975)])
    assert v.verdict == "supported"
    assert any(r[4] == pytest.approx(40.0) for r in v.rows)  # the AVR reduction it used


def test_claim3_large_loss_or_small_reduction_not_supported():
    assert _ev(3, [_fc(0.0, 200, 0.98), _fc(1e-4, 5, 0.90)]).verdict == "not supported"
    assert _ev(3, [_fc(0.0, 200, 0.98), _fc(1e-4, 100, 0.98)]).verdict == "not supported"


def test_claim3_moderate_loss_partly_and_no_baseline_not_tested():
    assert _ev(3, [_fc(0.0, 200, 0.98), _fc(1e-4, 5, 0.96)]).verdict == "partly"
    assert _ev(3, [_fc(1e-4, 5, 0.96)]).verdict == "not tested"


# --- claim 4 ----------------------------------------------------------------------------------

def _cnn(l1, ratio, acc):
    return _net(C.CNN, l1, ratio * 39200, acc, n=39200)


FC_PAIR = [_fc(0.0, 0.2 * 784, 0.98), _fc(1e-4, 0.007 * 784, 0.975)]


def test_claim4_cnn_sparser_in_proportion_supported():
    v = _ev(4, [_cnn(0.0, 0.5, 0.97), _cnn(1e-4, 0.002, 0.968), *FC_PAIR])
    assert v.verdict == "supported"


def test_claim4_cnn_sparse_but_not_below_fc_partly():
    assert _ev(4, [_cnn(0.0, 0.5, 0.97), _cnn(1e-4, 0.02, 0.968), *FC_PAIR]).verdict == "partly"


def test_claim4_cnn_loses_accuracy_not_supported_and_missing_not_tested():
    assert _ev(4, [_cnn(0.0, 0.5, 0.97), _cnn(1e-4, 0.002, 0.80), *FC_PAIR]).verdict == \
        "not supported"
    assert _ev(4, FC_PAIR).verdict == "not tested"


def test_claim4_without_fc_runs_uses_the_articles_fc_ratio():
    # article's FC: 5.4 / 784 = 0.0069; 0.005 is below it, 0.009 is not
    assert _ev(4, [_cnn(0.0, 0.5, 0.97), _cnn(1e-4, 0.005, 0.968)]).verdict == "supported"
    assert _ev(4, [_cnn(0.0, 0.5, 0.97), _cnn(1e-4, 0.009, 0.968)]).verdict == "partly"


# --- claim 5 ----------------------------------------------------------------------------------

def _ae(decoder, l1, acc, curve_level, recon):
    steps = np.arange(0, 1000, 100)
    curve = np.clip(curve_level * (1 - np.exp(-steps / 200.0)), 0, 1)
    return _run(C.AE, f"{decoder},{l1}", decoder=decoder, l1=l1,
                final={"accuracy": acc, "avr": 100.0, "n_units": 1000.0,
                       "activity_ratio": 0.1, "recon_error": recon},
                curves={"step": steps, "accuracy": curve})


def test_claim5_all_subclaims_hold_supported():
    runs = [_ae("subpixel", 0.0, 0.95, 0.90, 1.0), _ae("subpixel", 1e-4, 0.96, 0.99, 2.0),
            _ae("transposed", 0.0, 0.95, 0.85, 1.5), _ae("transposed", 1e-4, 0.96, 0.95, 3.0)]
    v = _ev(5, runs)
    assert v.verdict == "supported"
    assert sum("holds" in f and "does not" not in f for f in v.findings) == 5


def test_claim5_all_subclaims_reversed_not_supported():
    runs = [_ae("subpixel", 0.0, 0.96, 0.90, 3.0), _ae("subpixel", 1e-4, 0.95, 0.80, 2.0),
            _ae("transposed", 0.0, 0.96, 0.95, 1.5), _ae("transposed", 1e-4, 0.95, 0.90, 1.0)]
    assert _ev(5, runs).verdict == "not supported"


def test_claim5_one_decoder_only_tests_three_subclaims_and_none_not_tested():
    runs = [_ae("subpixel", 0.0, 0.95, 0.90, 1.0), _ae("subpixel", 1e-4, 0.96, 0.99, 2.0)]
    v = _ev(5, runs)
    assert v.verdict == "supported"
    assert sum("not testable" in f for f in v.findings) == 2
    assert _ev(5, [_fc(0.0, 150, 0.98)]).verdict == "not tested"


# --- claim 6 ----------------------------------------------------------------------------------

def test_claim6_dead_units():
    alive = [_measured(f"a{i}", 5, activity__dead_fraction=0.0) for i in range(3)]
    dead = [_measured(f"d{i}", 5, activity__dead_fraction=0.5) for i in range(3)]
    assert _ev(6, alive).verdict == "supported"
    assert _ev(6, dead).verdict == "not supported"
    assert _ev(6, alive + dead).verdict == "partly"
    assert _ev(6, [_fc(0.0, 150, 0.98)]).verdict == "not tested"
    # the run's own summary counts when there is no battery
    assert _ev(6, [_run("diehl-cook", "dc", final={"dead_fraction": 0.0})]).verdict == \
        "supported"


# --- trend claims 7, 8, 11, 12 ----------------------------------------------------------------

AVRS = [1.0, 5.0, 8.0, 30.0, 45.0]  # local, sparse, sparse, dense, dense of N = 100


def _trend_runs(key: str, values, **extra):
    return [_measured(f"r{i}", a, **{key: v}, **extra) for i, (a, v) in enumerate(zip(AVRS, values))]


def test_trend_test_checks_and_numbers():
    rising = [(r, r.activity_ratio * 2) for r in _trend_runs("overlap__x", AVRS)]
    v, finds, nums = trend_test(rising, +1)
    assert v == "supported" and nums["rho"] == pytest.approx(1.0) and nums["n"] == 5
    assert set(nums["means"]) == {"local", "sparse", "dense"}
    assert trend_test(rising, -1)[0] == "not supported"
    assert trend_test(rising[:3], +1)[0] == "not tested"
    # groups as claimed (local low, dense high) but no rank trend inside: partly
    vals = [0.0, 0.9, 0.8, 0.95, 0.7]
    pts = [(r, v) for r, v in zip(_trend_runs("overlap__x", vals), vals)]
    assert trend_test(pts, +1)[0] == "partly"


@pytest.mark.parametrize("cid,key", [(7, "overlap__jaccard_between"),
                                     (11, "decoding__m_fraction_90"),
                                     (12, "decoding__active_synapses_ratio")])
def test_trend_claims_rising_supported_falling_not(cid, key):
    up = [0.01, 0.05, 0.08, 0.3, 0.45]
    assert _ev(cid, _trend_runs(key, up)).verdict == "supported"
    assert _ev(cid, _trend_runs(key, up[::-1])).verdict == "not supported"
    assert _ev(cid, _trend_runs(key, up)[:2]).verdict == "not tested"


def test_claim7_without_local_runs_at_most_partly():
    runs = [_measured(f"r{i}", a, overlap__jaccard_between=a / 100)
            for i, a in enumerate([5.0, 8.0, 30.0, 45.0])]
    assert _ev(7, runs).verdict == "partly"


def test_claim8_needs_the_dynamics_for_supported():
    up = [0.01, 0.05, 0.08, 0.3, 0.45]
    code_only = _trend_runs("overlap__jaccard_between", up)
    assert _ev(8, code_only).verdict == "partly"  # code-level conflict only
    with_dyn = [_measured(f"h{i}", a, rule="hopfield", overlap__jaccard_between=j,
                          parallel__supported=1.0, parallel__fraction_different=d)
                for i, (a, j, d) in enumerate(zip(AVRS, up, [0.0, 0.1, 0.2, 0.6, 0.9]))]
    v = _ev(8, with_dyn)
    assert v.verdict == "supported"
    assert any("dynamics" in f for f in v.findings)
    # shared units 2kJ/(1+J) fall as the codes get denser: k = 1 ... 45, J = 0.9 ... 0.001
    falling = _trend_runs("overlap__jaccard_between", [0.9, 0.05, 0.02, 0.003, 0.001])
    assert _ev(8, falling).verdict == "not supported"


# --- claim 9 ----------------------------------------------------------------------------------

def test_claim9_local_fragile_dense_robust_supported_reversed_not():
    good = [_measured("l", 1.0, fault__auc_random=0.5), _measured("s", 5.0, fault__auc_random=0.7),
            _measured("d", 40.0, fault__auc_random=0.9)]
    assert _ev(9, good).verdict == "supported"
    bad = [_measured("l", 1.0, fault__auc_random=0.9), _measured("d", 40.0, fault__auc_random=0.4)]
    assert _ev(9, bad).verdict == "not supported"
    # local < dense, but sparse is more robust than dense: partly
    mixed = [_measured("l", 1.0, fault__auc_random=0.5), _measured("s", 5.0, fault__auc_random=0.95),
             _measured("d", 40.0, fault__auc_random=0.8)]
    assert _ev(9, mixed).verdict == "partly"


def test_claim9_local_theory_line_when_no_local_run_and_not_tested_without_dense():
    v = _ev(9, [_measured("d", 40.0, fault__auc_random=0.9)])
    assert v.verdict == "supported"
    assert any(r[0] == "local code (theory)" and r[4] == C.LOCAL_THEORY_AUC for r in v.rows)
    assert _ev(9, [_measured("d", 40.0, fault__auc_random=0.3)]).verdict == "not supported"
    assert _ev(9, [_measured("s", 5.0, fault__auc_random=0.7)]).verdict == "not tested"


# --- claim 10 ---------------------------------------------------------------------------------

def test_claim10_counts_and_capacity():
    def r(label, avr, bits, art, bps):
        return _measured(label, avr, representation__bits=bits, representation__bits_article=art,
                         willshaw__bits_per_synapse_at_capacity=bps)
    holds = [r("s1", 5.0, 5.0, 5.0, 0.5), r("s2", 8.0, 8.2, 8.0, 0.4), r("d", 40.0, 40.5, 40.0, 0.1)]
    assert _ev(10, holds).verdict == "supported"
    fails = [r("s1", 5.0, 26.0, 5.0, 0.05), r("s2", 8.0, 38.0, 8.0, 0.04),
             r("d", 40.0, 96.0, 40.0, 0.1)]
    v = _ev(10, fails)
    assert v.verdict == "not supported"
    half = [r("s1", 5.0, 26.0, 5.0, 0.5), r("d", 40.0, 96.0, 40.0, 0.1)]
    assert _ev(10, half).verdict == "partly"
    assert _ev(10, [_fc(0.0, 150, 0.98)]).verdict == "not tested"


def test_claim10_real_count_never_matches_2_to_the_d():
    """log2 C(N, d) from the closed form: much more than d bits for a sparse code."""
    from neurocode.metrics.capacity import log2_binomial

    n, d = 1000, 10
    run = _measured("s", float(d), n=n, representation__bits=float(log2_binomial(n, d)),
                    representation__bits_article=float(d))
    v = _ev(10, [run])
    assert any("0 of 1 sparse runs" in f for f in v.findings)


def test_verdict_words():
    assert VERDICTS == ("supported", "partly", "not supported", "not tested")
