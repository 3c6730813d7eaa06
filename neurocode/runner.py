"""Config -> runs -> store: fit each point's rule, measure its code, store the run.

Every run: load the data (:mod:`neurocode.data.prepare`), build the rule by name with the
config's hyper-parameters and ``random_state = seed``, fit it (rules whose tags say
``uses_labels`` get the labels; each of the rule's ``tags.fit_options`` is passed: the test
split as ``validation_data``, ``device``, ``progress``, the evaluation ``callback``), then
encode the test split in chunks and store (:func:`summary_metrics`):

``avr``            mean number of active units (code != 0) per test stimulus
``activity_ratio`` ``avr / n_units``
``dead_fraction``  fraction of units never active on the whole test split
``accuracy``       (rules with their own classifier, ``tags.own_readout``) test accuracy
``recon_mse``      (generative rules) mean squared error per feature of decode(encode(X))
``fit_seconds``, ``encode_ms_per_sample``

plus the last value of every learning curve the rule recorded (``curves_``).

A run whose rule raises (in ``fit``, ``encode``, ``decode`` or ``predict``), or whose codes
are not of shape ``(n_samples, n_units)`` or hold NaN or infinite values, is a failed
outcome with the reason (:class:`BadCodes` for the codes): it is never stored as complete.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurocode.config import RunSpec
from neurocode.rules import CodingRule, TrainingFailed, get_rule


class BadCodes(ValueError):
    """A rule's ``encode`` returned codes of the wrong shape, or NaN or infinite values."""


def check_codes(codes: Any, n_samples: int, rule: CodingRule) -> np.ndarray:
    """``codes`` as an array, or :class:`BadCodes` naming the rule when they are not of shape
    ``(n_samples, rule.n_units)`` or hold NaN or infinite values.

    Examples
    --------
    >>> from neurocode import get_rule
    >>> rule = get_rule("kofn", n_units=4, k=1, random_state=0).fit(np.eye(4))
    >>> check_codes(np.full((2, 4), np.nan), 2, rule)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    neurocode.runner.BadCodes: rule 'kofn' encoded NaN or infinite values (8 of 8 code ...
    """
    arr = np.asarray(codes)
    want = (n_samples, rule.n_units)
    if arr.shape != want:
        raise BadCodes(f"rule '{rule.name}' encoded {n_samples} stimuli as codes of shape "
                       f"{arr.shape}, expected {want} (n_samples, n_units)")
    if arr.dtype.kind not in "biuf":
        raise BadCodes(f"rule '{rule.name}' encoded codes of dtype {arr.dtype}, expected "
                       f"numbers")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            raise BadCodes(f"rule '{rule.name}' encoded NaN or infinite values "
                           f"({int(bad.sum())} of {arr.size} code entries); the run cannot be "
                           f"stored as complete")
    return arr


@dataclass
class RunOutcome:
    """What fitting one run gave: the fitted rule (None when fitting failed), its learning curves,
    the final metrics (:func:`summary_metrics` and the curves' last values), ``status``
    (``"complete"`` or ``"failed"``) and, for a failed run, the reason."""

    rule: CodingRule | None
    curves: dict[str, np.ndarray]
    final: dict[str, float]
    status: str = "complete"
    reason: str = ""


def run_path(out_dir: str | Path, spec: RunSpec) -> Path:
    """Where a run's file lives: ``OUT/<experiment>/<label>-<config hash>.h5``."""
    return Path(out_dir) / spec.experiment / spec.filename


def summary_metrics(rule: CodingRule, X: np.ndarray, y: np.ndarray | None,
                    chunk: int = 1000) -> dict[str, float]:
    """The metrics of the module docstring, computed chunk by chunk (codes are not kept);
    :class:`BadCodes` when the rule's codes are of the wrong shape or not finite."""
    n_units = rule.n_units
    active_total = 0
    ever = np.zeros(n_units, dtype=bool)
    correct = 0
    sq_err = 0.0
    t = time.perf_counter()
    predict = rule.predict if rule.has_own_readout() else None
    for i in range(0, len(X), chunk):
        xb = X[i:i + chunk]
        codes = check_codes(rule.encode(xb), len(xb), rule)
        on = codes != 0
        active_total += int(on.sum())
        ever |= on.any(axis=0)
        if rule.generative:
            sq_err += float(((rule.decode(codes) - xb) ** 2).sum())
        if predict is not None and y is not None:
            correct += int((predict(xb) == y[i:i + chunk]).sum())
    elapsed = time.perf_counter() - t
    out = {"avr": active_total / len(X), "activity_ratio": active_total / len(X) / n_units,
           "dead_fraction": float(1 - ever.mean()), "n_units": float(n_units),
           "encode_ms_per_sample": 1000 * elapsed / len(X)}
    if predict is not None and y is not None:
        out["accuracy"] = correct / len(X)
    if rule.generative:
        out["recon_mse"] = sq_err / X.size
    return out


def execute(spec: RunSpec, *, device: str = "cpu", progress: bool | None = None,
            on_eval: Callable[[int, dict], None] | None = None) -> RunOutcome:
    """Fit and measure one run. A rule that fails (its own ``TrainingFailed``, any exception
    raised inside ``fit`` or while its codes are measured, codes of the wrong shape or not
    finite) gives a failed outcome with the reason; it never raises for the rule's faults."""
    from neurocode.data.prepare import load_data

    data = load_data(spec.config["data"], seed=spec.config["seed"])
    name = spec.get("model.rule")
    try:
        rule = get_rule(name, **spec.rule_params)
    except Exception as exc:  # noqa: BLE001 - a rule whose constructor raises fails its run
        return RunOutcome(None, {}, {}, "failed", f"{type(exc).__name__} building {name}: {exc}")
    tags = type(rule).tags
    offered = {"validation_data": (data.X_test, data.y_test), "device": device,
               "progress": progress, "callback": on_eval}
    extra: dict[str, Any] = {k: offered[k] for k in tags.fit_options}
    t = time.perf_counter()
    try:
        rule.fit(data.X_train, data.y_train if tags.uses_labels else None, **extra)
    except TrainingFailed as exc:
        curves = getattr(rule, "curves_", {}) or {}
        return RunOutcome(None, curves, _last(curves), "failed", str(exc))
    except Exception as exc:  # a rule (a plugin's, say) that raises fails its own run only
        return RunOutcome(None, {}, {}, "failed", f"{type(exc).__name__} in {spec.get('model.rule')}.fit: {exc}")
    fit_seconds = time.perf_counter() - t
    curves = getattr(rule, "curves_", {}) or {}
    final = _last(curves)
    try:
        final.update(summary_metrics(rule, data.X_test, data.y_test))
    except Exception as exc:  # noqa: BLE001 - the rule's codes fail its own run only
        return RunOutcome(None, curves, final, "failed", _measure_failure(name, exc))
    final["fit_seconds"] = fit_seconds
    return RunOutcome(rule, curves, final)


def _measure_failure(name: str, exc: BaseException) -> str:
    if isinstance(exc, BadCodes):
        return str(exc)
    return f"{type(exc).__name__} while measuring the codes of {name}: {exc}"


def vector_key(spec: RunSpec) -> str | None:
    """Runs with the same key can be trained as one vectorised model (None: this one cannot):
    a rule with ``fit_many`` and a ``tags.sparsity_param``, and configs that differ only in
    that parameter (``model.l1`` for the article's networks)."""
    from neurocode.rules import get_rule_class

    cls = get_rule_class(spec.get("model.rule"))
    key = cls.tags.sparsity_param
    if key is None or not callable(getattr(cls, "fit_many", None)):
        return None
    section = cls.params[key].section
    if key not in spec.config.get(section, {}):
        return None
    import json

    rest = {**spec.config,
            section: {k: v for k, v in spec.config[section].items() if k != key}}
    return json.dumps(rest, sort_keys=True)


def execute_many(specs: list[RunSpec], *, device: str = "cpu",
                 progress: bool | None = None) -> list[RunOutcome]:
    """Fit and measure runs that share a :func:`vector_key` as one vectorised model
    (``fit_many``); one outcome per spec, in order. Never raises for a failing rule."""
    from neurocode.data.prepare import load_data

    data = load_data(specs[0].config["data"], seed=specs[0].config["seed"])
    rules = [get_rule(s.get("model.rule"), **s.rule_params) for s in specs]
    t = time.perf_counter()
    try:
        rule_cls: Any = type(rules[0])  # a rule with fit_many (vector_key checked it)
        failed = rule_cls.fit_many(rules, data.X_train, data.y_train,
                                   validation_data=(data.X_test, data.y_test),
                                   device=device, progress=progress)
    except Exception as exc:  # noqa: BLE001 - a rule that raises fails its own runs only
        why = f"{type(exc).__name__} in {specs[0].get('model.rule')}.fit_many: {exc}"
        return [RunOutcome(None, {}, {}, "failed", why) for _ in specs]
    fit_seconds = (time.perf_counter() - t) / len(specs)
    out = []
    for rule, error in zip(rules, failed, strict=True):
        curves = getattr(rule, "curves_", {}) or {}
        if error is not None:
            out.append(RunOutcome(None, curves, _last(curves), "failed", str(error)))
            continue
        final = _last(curves)
        try:
            final.update(summary_metrics(rule, data.X_test, data.y_test))
        except Exception as exc:  # noqa: BLE001 - the rule's codes fail its own run only
            out.append(RunOutcome(None, curves, final, "failed",
                                  _measure_failure(specs[0].get("model.rule"), exc)))
            continue
        final["fit_seconds"] = fit_seconds
        final["vectorised_over"] = float(len(specs))
        out.append(RunOutcome(rule, curves, final))
    return out


def _last(curves: dict[str, np.ndarray]) -> dict[str, float]:
    return {k: float(v[-1]) for k, v in curves.items() if k != "step" and len(v)}


def tensorboard_writer(tb_dir: str | Path | None, spec: RunSpec):
    """A TensorBoard writer for one run under ``tb_dir/<experiment>/<label>`` (None: none)."""
    if tb_dir is None:
        return None
    from torch.utils.tensorboard import SummaryWriter  # needs the 'tensorboard' extra

    return SummaryWriter(str(Path(tb_dir) / spec.experiment / spec.label))


def tensorboard_available() -> bool:
    """Whether the ``tensorboard`` package (the ``tensorboard`` extra) can be imported, which
    ``--tensorboard`` needs."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def describe(final: dict[str, float]) -> str:
    """One line of a finished run's headline numbers."""
    parts = [f"{k}={final[k]:.4f}" for k in ("accuracy",) if k in final]
    parts.append(f"AVR={final['avr']:.2f} of {int(final['n_units'])}")
    parts += [f"{k}={final[k]:.3f}" for k in ("recon_error", "recon_mse") if k in final]
    return " ".join(parts)

