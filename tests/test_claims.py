"""The claims' verdicts on constructed results whose answer is known by construction.

Each verdict is a statistical statement (design, null, effect with interval, sensitivity):
these tests build families of runs with a known effect (or none), and check that the verdict
finds it, refuses it, or refuses to judge for lack of runs, as it should.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurocode import claims as C
from neurocode.claims import CLAIMS, THRESHOLDS, VERDICTS, Verdict, evaluate_all, verdict_counts
from neurocode.design import exclusion, families
from neurocode.results import RunResult

BY_ID = {c.id: c for c in CLAIMS}
SEEDS = (0, 1, 2)


def _run(rule: str, experiment: str, *, seed: int = 0, final: dict | None = None,
         battery: dict | None = None, curves: dict | None = None, **model) -> RunResult:
    config = {"model": {"rule": rule, **model}, "seed": seed, "train": {"iterations": 100}}
    label = ",".join(f"{k}={v}" for k, v in model.items()) + f",seed={seed}"
    return RunResult(path=Path(f"{experiment}-{label}.h5"), experiment=experiment,
                     run_name=label, config=config, final=dict(final or {}),
                     curves=dict(curves or {}), battery=dict(battery or {}), label=label)


def _net(rule: str, l1: float, avr: float, acc: float, n: int = 784, seed: int = 0,
         **kw) -> RunResult:
    final = {"accuracy": acc, "avr": avr, "activity_ratio": avr / n, "n_units": n}
    return _run(rule, f"exp_{rule}", seed=seed, final=final, l1=l1, **kw)


def _fc(l1, avr, acc, seed=0, **kw):
    return _net(C.FC, l1, avr, acc, seed=seed, **kw)


def _fc_grid(points, seeds=SEEDS, jitter=0.001, **kw):
    """FC runs at each (l1, avr, acc) for every seed, with a small seed-to-seed spread."""
    return [_fc(l1, avr * (1 + jitter * (s - 1)), acc + jitter * (s - 1), seed=s, **kw)
            for l1, avr, acc in points for s in seeds]


def _measured(experiment: str, level: int, avr: float, n: int = 100, seed: int = 0,
              rule: str = "kofn", **measures) -> RunResult:
    battery = {"activity": {"avr": avr, "n_units": n, "activity_ratio": avr / n}}
    for key, value in measures.items():
        m, name = key.split("__")
        battery.setdefault(m, {})[name] = value
    return _run(rule, experiment, seed=seed, battery=battery, k=level)


def _family(measure: str, fn, experiment="exp_kofn", n=100, ks=(1, 2, 5, 10, 20, 50),
            seeds=SEEDS, rule="kofn", noise=0.0, rng=None, **extra):
    """One family: levels k, seeds; the battery ``measure`` = fn(activity) + noise."""
    rng = rng or np.random.default_rng(0)
    m, name = measure.split(".")
    out = []
    for k in ks:
        for s in seeds:
            val = fn(k / n) + noise * rng.normal()
            out.append(_measured(experiment, k, float(k), n=n, seed=s, rule=rule,
                                 **{f"{m}__{name}": val}, **extra))
    return out


def _ev(cid: int, runs, **th) -> Verdict:
    return BY_ID[cid].evaluate(runs, th or None)


# --- structure --------------------------------------------------------------------------------

def test_twelve_claims_with_wording_construct_figures_and_declared_thresholds():
    assert [c.id for c in CLAIMS] == list(range(1, 13))
    for c in CLAIMS:
        assert c.wording and c.measurement and c.figures
        assert all(t in THRESHOLDS for t in c.thresholds)


def test_no_runs_every_claim_not_tested_and_says_what_would_test_it():
    res = evaluate_all([])
    assert verdict_counts(res) == {"supported": 0, "partly": 0, "not supported": 0,
                                   "not tested": 12}
    for _c, v in res:
        assert "neurocode" in v.needs or "not implemented" in v.needs or "not measured" in v.needs
        assert v.rule


def test_verdict_rejects_unknown_word():
    with pytest.raises(ValueError, match="verdict must be one of"):
        Verdict("probably", "rule")


# --- exclusions and families ------------------------------------------------------------------

def test_runs_that_did_not_learn_are_excluded_with_the_reason():
    assert exclusion(_fc(0.0, 100, 0.98)) == ""
    assert "did not learn" in exclusion(_fc(3e-3, 2.0, 0.36))
    assert exclusion(_fc(3e-3, 2.0, 0.36), min_learned=0.2) == ""   # 0.36 > 0.1 + 0.2 * 0.9
    assert "silent" in exclusion(_fc(1e-2, 0.0, 0.11))
    # an unsupervised run has no test accuracy of its own: only silence excludes it
    assert exclusion(_measured("e", 1, 3.0)) == ""
    assert "silent" in exclusion(_measured("e", 1, 0.0))


def test_families_never_pool_widths_or_rules_and_order_levels_by_activity():
    runs = (_family("fault.auc_random", lambda a: a, n=100)
            + _family("fault.auc_random", lambda a: a, n=400, experiment="exp_kofn")
            + _family("fault.auc_random", lambda a: a, rule="kwta", experiment="exp_kofn"))
    fams = families(runs)
    assert sorted((f.rule, f.n_units) for f in fams) == [("kofn", 100), ("kofn", 400),
                                                          ("kwta", 100)]
    for f in fams:
        acts = [lv.activity for lv in f.levels]
        assert acts == sorted(acts) and len(f.levels) == 6 and f.n_seeds == 3
        assert f.varied == ("model.k",)


# --- claims 1-3: the FC net -------------------------------------------------------------------

def test_claim1_dense_unconstrained_supported_with_an_interval():
    v = _ev(1, _fc_grid([(0.0, 0.2 * 784, 0.98), (1e-3, 3, 0.95)]))
    assert v.verdict == "supported"
    assert "activity ratio 0.200 [" in v.effect
    assert "3 seed(s)" in v.design
    assert [r[-1] for r in v.rows][-1] == pytest.approx(C.ARTICLE_FC_AVR_DENSE / 784)


def test_claim1_too_dense_too_sparse_or_straddling_not_supported():
    assert _ev(1, _fc_grid([(0.0, 0.9 * 784, 0.98)])).verdict == "not supported"
    assert _ev(1, _fc_grid([(0.0, 0.01 * 784, 0.98)])).verdict == "not supported"
    # seeds spread across the upper end: the interval is not inside the band
    runs = [_fc(0.0, a * 784, 0.98, seed=s) for s, a in enumerate((0.45, 0.6, 0.5, 0.65))]
    v = _ev(1, runs)
    assert v.verdict == "not supported" and "across an end" in v.findings[0]


def test_claim1_one_seed_is_not_tested_and_says_what_is_missing():
    v = _ev(1, [_fc(0.0, 0.2 * 784, 0.98)])
    assert v.verdict == "not tested"
    assert "at least MIN_SEEDS = 3 seeds (they have 1)" in v.needs
    # the sensitivity table shows that two seeds would have been judged
    row = next(r for r in v.sensitivity if r[0] == "MIN_SEEDS")
    assert row[2] == "not tested / not tested / not tested"


def test_claim2_near_local_at_good_accuracy_supported_and_failed_runs_excluded():
    runs = _fc_grid([(0.0, 150, 0.98), (1e-3, 2.0, 0.90), (3e-3, 0.8, 0.30)])
    v = _ev(2, runs)
    assert v.verdict == "supported"
    assert len(v.excluded) == 3 and all("did not learn" in e for e in v.excluded)
    assert "l1=0.001" in v.effect          # the sparsest level that learned, not l1=0.003


def test_claim2_only_failed_runs_near_local_is_not_supported():
    v = _ev(2, _fc_grid([(0.0, 150, 0.98), (1e-3, 6.0, 0.95), (3e-3, 1.0, 0.25)]))
    assert v.verdict == "not supported"
    assert "AVR 6" in v.effect


def test_claim3_non_inferiority_with_paired_intervals():
    v = _ev(3, _fc_grid([(0.0, 156.0, 0.979), (1e-4, 5.4, 0.976)]))
    assert v.verdict == "supported"
    assert "accuracy drop 0.003" in v.effect and "x fewer active units" in v.effect
    # a loss of 0.03 fails the 0.01 margin
    assert _ev(3, _fc_grid([(0.0, 156.0, 0.98), (1e-4, 5.0, 0.95)])).verdict == "not supported"
    # a small reduction fails MIN_AVR_REDUCTION
    assert _ev(3, _fc_grid([(0.0, 156.0, 0.98), (1e-4, 50.0, 0.979)])).verdict == "not supported"


def test_claim3_interval_not_the_point_decides():
    """Mean drop 0.006 is within the 0.01 margin, but seeds spread so widely that the upper
    end of the interval is above it: not supported (the old point rule said supported)."""
    base = [_fc(0.0, 156.0, 0.98, seed=s) for s in range(5)]
    sparse = [_fc(1e-4, 5.0, 0.98 - d, seed=s)
              for s, d in enumerate((-0.01, 0.0, 0.006, 0.012, 0.022))]
    v = _ev(3, base + sparse)
    assert v.verdict == "not supported"
    assert "accuracy drop 0.006" in v.effect


def test_claim3_sensitivity_shows_a_verdict_that_moves_with_its_margin():
    v = _ev(3, _fc_grid([(0.0, 156.0, 0.98), (1e-4, 5.0, 0.9725)], jitter=0.0005))
    assert v.verdict == "supported"
    row = next(r for r in v.sensitivity if r[0] == "MAX_ACCURACY_DROP")
    assert row[2].split(" / ")[0] == "not supported"     # margin 0.005 < drop 0.0075
    assert row[-1] == "moves"
    assert next(r for r in v.sensitivity if r[0] == "MIN_AVR_REDUCTION")[2].split(" / ")[-1] \
        == "supported"                                   # 31x >= 29


# --- claim 4: the CNN -------------------------------------------------------------------------

def _cnn_grid(points, seeds=SEEDS):
    return [_net(C.CNN, l1, avr * (1 + 0.01 * (s - 1)), acc + 0.001 * (s - 1), n=39_200,
                 seed=s) for l1, avr, acc in points for s in seeds]


def test_claim4_cnn_sparser_in_proportion_supported():
    runs = (_cnn_grid([(0.0, 10_000, 0.99), (1e-4, 146, 0.988)])
            + _fc_grid([(0.0, 150, 0.98), (1e-4, 5.4, 0.976)]))
    v = _ev(4, runs)
    assert v.verdict == "supported"
    assert "CNN / FC activity ratio 0.5" in v.effect


def test_claim4_cnn_not_below_fc_or_one_seed():
    runs = (_cnn_grid([(0.0, 10_000, 0.99), (1e-4, 1000, 0.988)])
            + _fc_grid([(0.0, 150, 0.98), (1e-4, 5.4, 0.976)]))
    assert _ev(4, runs).verdict == "not supported"
    one = _cnn_grid([(0.0, 10_000, 0.99), (1e-4, 146, 0.988)], seeds=(0,))
    v = _ev(4, one + _fc_grid([(0.0, 150, 0.98), (1e-4, 5.4, 0.976)]))
    assert v.verdict == "not tested" and "they have 1" in v.needs


def test_claim4_when_no_cnn_level_keeps_accuracy_the_effect_is_the_smallest_drop():
    runs = (_cnn_grid([(0.0, 10_000, 0.99), (1e-5, 3000, 0.95), (1e-4, 146, 0.90)])
            + _fc_grid([(0.0, 150, 0.98), (1e-4, 5.4, 0.976)]))
    v = _ev(4, runs)
    assert v.verdict == "not supported"
    assert "no lambda > 0 level of the CNN keeps its accuracy" in v.effect
    assert "smallest accuracy drop is 0.04" in v.effect and "(l1=1e-05)" in v.effect



def test_claim4_with_only_the_unpenalised_cnn_is_not_tested_not_a_verdict_against():
    """The full budget's CNN runs arrive lambda by lambda: with only lambda = 0 trained there
    is no level to judge, which is missing data (not tested), never evidence against."""
    runs = (_cnn_grid([(0.0, 10_000, 0.99)])
            + _fc_grid([(0.0, 150, 0.98), (1e-4, 5.4, 0.976)]))
    v = _ev(4, runs)
    assert v.verdict == "not tested"
    assert "the CNN: lambda > 0 levels" in v.needs and "article_cnn.yaml" in v.needs

# --- claim 5: the autoencoder -----------------------------------------------------------------

def _ae(decoder, l1, acc, recon, curve, seed=0):
    return _run(C.AE, "exp_ae", seed=seed,
                final={"accuracy": acc, "avr": 100.0, "n_units": 3136.0, "recon_error": recon},
                curves={"accuracy": np.asarray(curve, dtype=float)}, decoder=decoder, l1=l1)


def _ae_runs(sign=+1):
    runs = []
    for s in SEEDS:
        e = 0.001 * s
        for dec, d_acc, d_rec in (("subpixel", 0.004, -0.02), ("transposed", 0.0, 0.0)):
            runs.append(_ae(dec, 0.0, 0.970 + d_acc + e, 0.20 + d_rec, [0.5, 0.8, 0.9], s))
            for i, lam in enumerate((1e-5, 5e-5, 1e-4)):
                up = sign * (0.005 + 0.001 * i)
                runs.append(_ae(dec, lam, 0.970 + d_acc + up + e, 0.20 + d_rec + sign * 0.1,
                                [0.5 + up + d_acc, 0.8 + up + d_acc, 0.9 + up], s))
    return runs


def test_claim5_all_subclaims_hold_supported():
    v = _ev(5, _ae_runs(+1))
    assert v.verdict == "supported", v.findings
    assert "5 of 5" in v.effect
    assert "transposed decoder is the version the article's table was made with" in v.design


def test_claim5_sparsity_subclaims_reversed_gives_partly():
    v = _ev(5, _ae_runs(-1))      # (a)-(c) reversed; the decoder sub-claims still hold
    assert v.verdict == "partly"
    held = {r[0][:3]: r[-1] for r in v.rows}
    assert held["(a)"] == held["(b)"] == held["(c)"] == "no"
    assert held["(e)"] == "yes"


def test_claim5_one_comparison_per_subclaim_is_not_tested():
    runs = [_ae("subpixel", 0.0, 0.97, 0.2, [0.5, 0.9]), _ae("subpixel", 1e-4, 0.98, 0.3, [0.6, 0.9])]
    v = _ev(5, runs)
    assert v.verdict == "not tested"


# --- claim 6: dead units ----------------------------------------------------------------------

def _fc_measured(l1, avr, dead, seeds=SEEDS):
    out = []
    for s in seeds:
        r = _fc(l1, avr, 0.97, seed=s)
        r.battery = {"activity": {"avr": avr, "n_units": 784.0, "activity_ratio": avr / 784,
                                  "dead_fraction": dead, "n_stimuli": 2000.0}}
        out.append(r)
    return out


def test_claim6_dead_units_per_level_beside_the_random_null():
    alive = _fc_measured(0.0, 150, 0.0) + _fc_measured(1e-4, 5, 0.0)
    assert _ev(6, alive).verdict == "supported"
    some = alive + _fc_measured(1e-3, 2, 0.4)
    v = _ev(6, some)
    assert v.verdict == "partly"
    # the null: a random code with k = 2 of 784 over 2000 stimuli leaves (1 - 2/784)^2000 dead
    null = [r[-1] for r in v.rows if r[0].startswith("l1=0.001")][0]
    assert null == pytest.approx((1 - 2 / 784) ** 2000)
    assert _ev(6, _fc_measured(0.0, 150, 0.3)).verdict == "not supported"


# --- dose-response claims (7, 9, 10) ----------------------------------------------------------

def test_claim9_rising_fault_tolerance_within_a_family_supported():
    runs = _family("fault.auc_random", lambda a: 0.5 + 0.4 * a, noise=0.005)
    v = _ev(9, runs)
    assert v.verdict == "supported"
    assert "Spearman rho" in v.effect and "[" in v.effect


def test_claim9_falling_or_flat_not_supported_and_says_which():
    v = _ev(9, _family("fault.auc_random", lambda a: 0.9 - 0.4 * a, noise=0.005))
    assert v.verdict == "not supported" and "the other way" in v.findings[0]
    v = _ev(9, _family("fault.auc_random", lambda a: 0.7, noise=0.05))
    assert v.verdict == "not supported" and "no trend shown" in v.findings[0]


def test_dose_response_two_families_judged_apart_partly():
    up = _family("fault.auc_random", lambda a: 0.5 + 0.4 * a, noise=0.005, n=100)
    down = _family("fault.auc_random", lambda a: 0.9 - 0.4 * a, noise=0.005, n=400,
                   experiment="exp_wide")
    v = _ev(9, up + down)
    assert v.verdict == "partly"
    assert "N = 100" in v.design and "N = 400" in v.design


def test_dose_response_too_few_levels_or_seeds_not_tested_with_what_is_missing():
    v = _ev(9, _family("fault.auc_random", lambda a: a, ks=(1, 5, 20)))
    assert v.verdict == "not tested"
    assert "has 3 level(s) x 3 seed(s)" in v.needs and "at least 5 levels x 3 seeds" in v.needs
    v = _ev(9, _family("fault.auc_random", lambda a: a, seeds=(0,)))
    assert v.verdict == "not tested"


def test_dose_response_learned_family_compared_with_the_null_family_at_its_width():
    null = _family("fault.auc_random", lambda a: 0.5 + 0.4 * a, noise=0.001)
    learned = _family("fault.auc_random", lambda a: 0.6 + 0.4 * a, noise=0.001, rule="kwta",
                      experiment="exp_kwta")
    v = _ev(9, null + learned)
    diffs = [r[-1] for r in v.rows if r[0].startswith("exp_kwta")]
    assert diffs and all(d == pytest.approx(0.1, abs=0.01) for d in diffs)
    assert all(np.isnan(r[-1]) for r in v.rows if r[0].startswith("exp_kofn"))


def test_claim7_uses_functional_interference_not_raw_overlap():
    """Raw overlap rises with activity for any random sets; the verdict reads the readout of
    two superposed stimuli instead, and reports the overlap against chance."""
    runs = []
    for k in (1, 2, 5, 10, 20, 50):
        for s in SEEDS:
            a = k / 100
            runs.append(_measured("exp_kofn", k, float(k), seed=s,
                                  superposition__top2_accuracy=0.2 + 0.6 * a,   # dense reads best
                                  overlap__jaccard_between=a / 2,
                                  overlap__theory_jaccard_random_between=a / 2))
    runs[0].battery["unions"] = {"loads": np.array([1.0, 10.0, 30.0]),
                                 "false_match": np.array([0.0, 0.25, 0.5]),
                                 "false_match_random": np.array([0.0, 0.05, 0.2])}
    v = _ev(7, runs)
    assert v.verdict == "not supported" and "the other way" in v.findings[0]
    assert any("1x chance" in f for f in v.findings)
    # union false matches beside those of random codes of the same activity, at 10 codes
    assert any("exceed those of random codes of the same activity by 0.2 (median over 1 runs)"
               in f for f in v.findings)


def test_claim10_interior_peak_supported_monotone_not():
    peak = _family("willshaw.bits_per_synapse_at_capacity",
                   lambda a: 0.3 - 10 * (a - 0.08) ** 2, noise=0.002)
    v = _ev(10, peak)
    assert v.verdict == "supported"
    assert "peak at k=10" in v.findings[0]               # activity 0.1, nearest to 0.08
    mono = _family("willshaw.bits_per_synapse_at_capacity", lambda a: a, noise=0.002)
    assert _ev(10, mono).verdict == "not supported"
    # the article's 2^d is corrected, and shown as a correction, not a verdict
    assert any("not 2^d" in d for d in v.definitions)


@pytest.mark.slow
def test_claim8_judges_sync_against_async_recall_of_each_code():
    """Claim 8 reads the code's own sync/async recall difference (not 2kJ/(1+J), a function of
    claim 7's numbers); without it, not tested; a rule's own sync/async dynamics are shown."""
    runs = _family("overlap.jaccard_between", lambda a: a)
    v = _ev(8, runs)
    assert v.verdict == "not tested"
    assert any("2kJ / (1 + J)" in d for d in v.definitions)
    rises = _family("sync_async.fraction_different", lambda a: a, noise=0.01)
    assert _ev(8, rises).verdict == "supported"
    falls = _family("sync_async.fraction_different", lambda a: 0.5 - a, noise=0.01)
    v = _ev(8, falls)
    assert v.verdict == "not supported" and "the other way" in v.findings[0]
    flat = _family("sync_async.fraction_different", lambda a: 0.1, noise=0.05)
    assert _ev(8, flat).verdict == "not supported"
    hop = _family("parallel.fraction_different", lambda a: 0.3, rule="hopfield",
                  experiment="exp_hop", parallel__supported=1.0)
    v = _ev(8, rises + hop)
    assert v.verdict == "supported"
    assert any("own sync and async dynamics): 0.3 of stimuli" in f for f in v.findings)


def test_claim12_judges_measured_time_and_keeps_synapse_count_a_definition():
    runs = _family("decoding.active_synapses_ratio", lambda a: a)
    v = _ev(12, runs)
    assert v.verdict == "not tested"
    assert "differ by at most 0.0e+00" in v.definitions[0]
    assert "is the activity ratio by definition" in v.definitions[0]
    # an encoder whose cost does not depend on the code: no trend, not supported
    flat = _family("compute.relative_cost", lambda a: 3.0, noise=0.1,
                   compute__encoder_fraction=0.9, compute__sparse_readout_speedup=2.0)
    v = _ev(12, flat)
    assert v.verdict == "not supported"
    assert any("the encoder takes 90%" in f and "2x as fast" in f for f in v.findings)
    cheaper = _family("compute.relative_cost", lambda a: 1.0 + 5 * a, noise=0.05)
    assert _ev(12, cheaper).verdict == "supported"


def test_claim11_judges_the_detector_support_and_only_shows_redundancy():
    rng = np.random.default_rng(1)
    runs = []
    for k in (1, 2, 5, 10, 20, 50):
        for s in SEEDS:
            a = k / 100
            runs.append(_measured("exp_kofn", k, float(k), seed=s,
                                  decoding__support_fraction=0.01 + 0.3 * a + 0.002 * rng.normal(),
                                  decoding__m_fraction_90=0.5 - a))
    v = _ev(11, runs)
    assert v.verdict == "supported"
    assert "L1 detector support" in v.effect
    assert "Redundancy" in v.definitions[0] and "the other way" in v.definitions[0]
    for r in runs:
        r.battery["decoding"].pop("support_fraction")
    assert _ev(11, runs).verdict == "not tested"


def test_smoke_every_claim_evaluates_on_mixed_runs():
    runs = (_fc_grid([(0.0, 150, 0.98), (1e-4, 5.0, 0.975)])
            + _family("fault.auc_random", lambda a: a))
    for _, v in evaluate_all(runs):
        assert v.verdict in VERDICTS


# --- the deciding measures are not functions of the activity ratio (real battery runs) -------

def test_claim7_measure_is_not_a_function_of_activity_on_real_runs():
    """Two k-of-N codes of the same N and k on the same images, one driven by the stimulus
    (top-k of a random projection), one a random code per image: the same activity ratio,
    yet the readout of two superposed stimuli differs, so claim 7's deciding measure is no
    function of the activity ratio; nor is it the activity ratio or the shared-unit count
    2kJ/(1+J) of the old construct."""
    from neurocode.metrics import interference
    from neurocode.metrics.readout import fit_readout
    from neurocode.rules import get_rule

    rng = np.random.default_rng(0)
    protos = (rng.random((10, 784)) < 0.2).astype(np.float32)

    def draw(n):
        y = rng.integers(0, 10, n)
        return np.clip(protos[y] + 0.3 * rng.random((n, 784)), 0, 1).astype(np.float32), y

    (Xtr, ytr), (Xte, yte) = draw(400), draw(300)
    rows = []
    for mode in ("projection", "random"):
        for k in (4, 40):
            rule = get_rule("kofn", n_units=200, k=k, mode=mode, random_state=0).fit(Xtr)
            ro = fit_readout(rule, Xtr, ytr, random_state=0)
            sup = interference.superposition(rule, ro, Xte, yte, n_pairs=300, random_state=0)
            ov = interference.class_overlap(rule.encode(Xte), yte)
            j = ov["jaccard_between"]
            rows.append((mode, k / 200, 1 - sup["top2_accuracy"], 2 * k * j / (1 + j)))
    by = {(m, a): (x, s) for m, a, x, s in rows}
    for a in (0.02, 0.2):
        x_proj, x_rand = by[("projection", a)][0], by[("random", a)][0]
        assert abs(x_proj - x_rand) > 0.1, rows       # same activity, different interference
    xs = np.array([x for _, _, x, _ in rows])
    assert np.max(np.abs(xs - np.array([a for _, a, _, _ in rows]))) > 0.1
    assert np.max(np.abs(xs - np.array([s for _, _, _, s in rows]))) > 0.1
