"""Watching codes while they learn: every rule that trains in passes reports the watched code
after each pass through its ``callback``, and a callback changes nothing the rule learns.

The numbers are checked against the battery's own activity measure of the same window,
recomputed here from the fitted rule, and the TensorBoard log is read back with
TensorBoard's event reader.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurocode.metrics.activity import activity
from neurocode.rules import get_rule_class
from neurocode.testing import conformance_data
from neurocode.watch import WATCH_WINDOW, tensorboard_logger, watch_codes

WATCHED = ["kwta", "lca", "foldiak", "oja", "sanger", "sailnet"]


def _data(rule_cls, n=120):
    return conformance_data(rule_cls(**rule_cls.test_params), n)


@pytest.mark.parametrize("name", WATCHED)
def test_each_pass_reports_the_watched_code_and_learning_is_unchanged(name):
    cls = get_rule_class(name)
    assert "callback" in cls.tags.fit_options
    params = {**cls.test_params, "epochs": 3} if "epochs" in cls.params else dict(cls.test_params)
    X, _ = _data(cls)
    rows = []
    with_cb = cls(**params).fit(X, callback=lambda step, row: rows.append((step, row)))
    without = cls(**params).fit(X)
    epochs = params.get("epochs", 1)
    assert [s for s, _ in rows] == list(range(1, epochs + 1))
    # the callback only reads: the learned state is the same, bit for bit
    a, b = with_cb.get_state(), without.get_state()
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    # the last row is the battery's activity measure of the fitted rule on the same window
    last = rows[-1][1]
    ref = activity(without.encode(X[:WATCH_WINDOW]))
    assert last["activity_ratio"] == pytest.approx(ref["activity_ratio"])
    assert last["l0"] == pytest.approx(ref["avr"])
    assert last["dead_fraction"] == pytest.approx(ref["dead_fraction"])
    assert last["window"] == min(len(X), WATCH_WINDOW)


def test_dense_and_dead_units_of_a_known_code():
    codes = np.zeros((10, 4))
    codes[:, 0] = 1.0        # active on every stimulus: dense
    codes[0, 1] = 1.0        # on 1 of 10 = 0.1: not more than 0.1, so not dense
    codes[:2, 2] = 1.0       # on 2 of 10: dense
    row = watch_codes(codes)  # unit 3 never fires: dead
    assert row["dead_fraction"] == 0.25 and row["dense_fraction"] == 0.5
    assert row["l0"] == pytest.approx((10 + 1 + 2) / 10)
    assert row["lifetime_sparseness"].shape == (4,)


def test_the_tensorboard_log_holds_the_watched_numbers(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter

    cls = get_rule_class("kwta")
    X, _ = _data(cls)
    writer = SummaryWriter(str(tmp_path))
    rows = []
    log = tensorboard_logger(writer)

    def both(step, row):
        rows.append(row)
        log(step, row)

    cls(**{**cls.test_params, "epochs": 2}).fit(X, callback=both)
    writer.close()
    acc = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"activity_ratio", "l0", "dead_fraction", "dense_fraction"} <= set(tags["scalars"])
    assert "lifetime_sparseness" in tags["histograms"]
    logged = [e.value for e in acc.Scalars("l0")]
    assert [e.step for e in acc.Scalars("l0")] == [1, 2]
    assert logged == pytest.approx([r["l0"] for r in rows])


def test_diehl_cook_reports_the_code_of_its_training_windows():
    cls = get_rule_class("diehl-cook")
    assert "callback" in cls.tags.fit_options
    X, y = conformance_data(cls(**cls.test_params), 40)
    rows = []
    watched = cls(**cls.test_params).fit(X, y, callback=lambda s, r: rows.append((s, r)))
    plain = cls(**cls.test_params).fit(X, y)
    np.testing.assert_array_equal(watched.W_, plain.W_)      # watching changes nothing
    assert rows and rows[-1][0] == len(X)                    # the last window ends the pass
    for _, row in rows:
        # an active unit spiked at least once: units active <= spikes, per sample
        assert 0 <= row["l0"] <= row["spikes_per_sample"] + 1e-12
        assert 0 <= row["dead_fraction"] <= 1 and "lifetime_sparseness" in row
