"""A sparse autoencoder or a dictionary as a code: :class:`DictionaryCode`,
:func:`reconstruction_measures` and :func:`measure_dictionary`.

:class:`DictionaryCode` wraps an object that is already learned (nothing is trained here):

* anything with ``encode(x) -> features`` and ``decode(features) -> x_hat`` (SAELens'
  convention: ``sae.encode``, ``sae.decode``). A ``torch.nn.Module`` is given tensors (on the
  device and in the dtype of its parameters, under ``torch.no_grad()``, in eval mode) and its
  tensors are read back; any other object is given NumPy arrays;
* scikit-learn's ``DictionaryLearning``, ``MiniBatchDictionaryLearning`` (fitted) and
  ``SparseCoder``: ``encode`` is ``transform`` and ``decode`` its ``inverse_transform``,
  which for these is ``codes @ D`` with ``D`` the atoms (``components_``, or a
  ``SparseCoder``'s ``dictionary``); ``codes @ D`` itself where there is no
  ``inverse_transform``. Other fitted decompositions with atoms (``PCA``, ``NMF``) are read
  the same way, their ``inverse_transform`` adding back what ``transform`` removed (PCA's
  mean).

The code of a stimulus is its feature vector; silencing a feature zeroes it in the code, and
so in the reconstruction (``decode`` of the silenced code): a dictionary code is feed-forward,
its alive features keep their values (``tags.silencing = "dropped"``).

From Python::

    from neurocode.adapters import DictionaryCode, measure_dictionary, reconstruction_measures
    rec = reconstruction_measures(sae, X)            # MSE, explained variance, L0, dead, dense
    battery = measure_dictionary(sae, X_train, y_train, X_test, y_test)
    battery["reconstruction"]["explained_variance"]

:func:`reconstruction_measures` also takes any fitted generative rule (one with ``decode``,
e.g. LCA), so a dictionary from elsewhere and a built-in rule are measured alike.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from neurocode.adapters import AdapterError, NonFiniteOutputError, _dataset
from neurocode.params import Param, ParamError
from neurocode.rules import CodingRule

__all__ = ["DictionaryCode", "reconstruction_measures", "measure_dictionary",
           "DENSE_THRESHOLD"]

#: A feature is *dense* when it fires on more than this fraction of the inputs measured (the
#: threshold :func:`neurocode.codes.code_card`'s ``dense_feature_fraction`` uses).
DENSE_THRESHOLD = 0.1


def _torch_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _atoms(obj: Any) -> np.ndarray | None:
    """A scikit-learn dictionary's atoms ``(n_atoms, n_features)``, or None."""
    for name in ("components_", "dictionary"):
        D = getattr(obj, name, None)
        if D is not None and hasattr(D, "shape") and len(np.shape(D)) == 2:
            return np.asarray(D, dtype=np.float64)
    return None


def _fitted_atoms(obj: Any) -> np.ndarray:
    """The atoms of a scikit-learn dictionary the rule was fitted with (it had them then); an
    :class:`~neurocode.adapters.AdapterError` when they are gone since."""
    D = _atoms(obj)
    if D is None:
        raise AdapterError(f"the {type(obj).__name__} no longer has its atoms (a 2-D "
                           f"components_ or dictionary), which it had when the rule was "
                           f"fitted: fit the dictionary again, then the rule")
    return D


def dictionary_kind(obj: Any) -> str:
    """How :class:`DictionaryCode` reads ``obj``: ``"encode-decode"`` (callable ``encode`` and
    ``decode``: SAELens' convention, any torch module or object) or ``"sklearn"``
    (``transform`` and atoms in ``components_`` or ``dictionary``; decoded by its
    ``inverse_transform`` where it has one); an :class:`~neurocode.adapters.AdapterError`
    saying what is missing otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import SparseCoder
    >>> dictionary_kind(SparseCoder(np.eye(3)))
    'sklearn'
    """
    owner = "rule 'dictionary-code' parameter 'dictionary'"
    if callable(getattr(obj, "encode", None)) and callable(getattr(obj, "decode", None)):
        return "encode-decode"
    if callable(getattr(obj, "transform", None)):
        if _atoms(obj) is not None:
            return "sklearn"
        raise AdapterError(f"{owner}: the {type(obj).__name__} has transform but no atoms "
                           f"(components_): fit it first (e.g. dl.fit(X_train))")
    raise AdapterError(f"{owner}: a {type(obj).__name__} is not a dictionary: give an object "
                       f"with encode(x) and decode(features) (a sparse autoencoder, SAELens' "
                       f"convention) or a fitted scikit-learn DictionaryLearning, "
                       f"MiniBatchDictionaryLearning or SparseCoder")


@contextmanager
def _eval_mode(module: Any) -> Iterator[None]:
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


class DictionaryCode(CodingRule):
    """A sparse autoencoder or a learned dictionary as a code (see the module notes).

    ``fit`` learns nothing: it checks the object, encodes the first ``batch_size`` stimuli
    and decodes them, and records the number of features (``n_units``) and how the object is
    read (``kind_``: ``"encode-decode"`` or ``"sklearn"``). The rule wraps a live object, so
    it is built in Python, not by name, and ``save_rule`` cannot store it (save the object
    as its library does).

    Parameters
    ----------
    dictionary : object
        An object with ``encode``/``decode`` (a sparse autoencoder; torch modules included)
        or a fitted scikit-learn ``DictionaryLearning``, ``MiniBatchDictionaryLearning`` or
        a ``SparseCoder``.

    Other Parameters
    ----------------
    batch_size : int, default 1024
        Stimuli per call of ``encode``/``decode``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import SparseCoder
    >>> coder = SparseCoder(np.eye(4), transform_algorithm="threshold", transform_alpha=0.5)
    >>> rule = DictionaryCode(coder, random_state=0).fit(np.zeros((1, 4)))
    >>> X = np.array([[2.0, 0.2, -1.0, 0.0]])
    >>> rule.encode(X), rule.decode(rule.encode(X))
    (array([[ 1.5,  0. , -0.5,  0. ]]), array([[ 1.5,  0. , -0.5,  0. ]]))
    """

    name = "dictionary-code"
    description = ("a sparse autoencoder or learned dictionary (encode/decode, or "
                   "scikit-learn's transform), built in Python around the object")
    tags = replace(CodingRule.tags, silencing="dropped")
    params: ClassVar[dict[str, Param]] = {
        "dictionary": Param(object, None, doc="an object with encode/decode (a sparse "
                                              "autoencoder) or a fitted scikit-learn "
                                              "dictionary (transform, components_)"),
        "batch_size": Param(int, 1024, low=1, doc="stimuli per call of encode/decode"),
    }
    test_params: ClassVar[dict[str, Any]] = {"random_state": 0}

    def __init__(self, dictionary: Any = None, **params: Any) -> None:
        for k, p in self.params.items():
            setattr(self, k, p.default)
        self.set_params(dictionary=dictionary, **params)

    def __repr__(self) -> str:
        rest = "".join(f", {k}={v!r}" for k, v in self.get_params().items()
                       if k != "dictionary" and v != self.params[k].default)
        return f"DictionaryCode({type(self.dictionary).__name__}{rest})"

    @property
    def n_units(self) -> int:
        """The number of features (dictionary atoms, SAE latents)."""
        self._check_fitted()
        return int(self.n_units_)

    def _validate_together(self) -> None:
        try:
            dictionary_kind(self.dictionary)
        except AdapterError as exc:
            raise ParamError(str(exc)) from None

    # -- calling the object ---------------------------------------------------------------
    def _call(self, fn: Callable[[Any], Any], A: np.ndarray) -> np.ndarray:
        """``fn`` applied to ``A`` in batches, as the object takes it (tensors for a torch
        module), the results as one float64 array."""
        obj = self.dictionary
        out = []
        if _torch_module(obj):
            import torch

            first = next((p for p in list(obj.parameters()) + list(obj.buffers())
                          if p.is_floating_point()), None)
            dtype = first.dtype if first is not None else torch.float32
            device = first.device if first is not None else torch.device("cpu")
            context: Any = _eval_mode(obj)
            grad: Any = torch.no_grad()
            convert = (lambda a: torch.as_tensor(a, dtype=dtype, device=device))
        else:
            context, grad, convert = nullcontext(), nullcontext(), (lambda a: a)
        with context, grad:
            for i in range(0, len(A), self.batch_size):
                r = fn(convert(A[i:i + self.batch_size]))
                if callable(getattr(r, "detach", None)):   # a tensor (any dtype, any device)
                    r = r.detach().cpu().double().numpy()
                elif hasattr(r, "toarray") and callable(r.toarray):  # scipy.sparse
                    r = r.toarray()
                out.append(np.asarray(r, dtype=np.float64))
        return np.concatenate(out) if out else np.zeros((0, 0))

    def _features(self, X: np.ndarray) -> np.ndarray:
        obj = self.dictionary
        fn = obj.transform if self._kind() == "sklearn" else obj.encode
        F = self._call(fn, X)
        if F.ndim != 2 or F.shape[0] != len(X):
            raise AdapterError(f"the {type(obj).__name__}'s "
                               f"{'transform' if self._kind() == 'sklearn' else 'encode'} "
                               f"gave an array of shape {F.shape} for {len(X)} stimuli; "
                               f"features must be (n_stimuli, n_features)")
        bad = ~np.isfinite(F).all(axis=1)
        if bad.any():
            raise NonFiniteOutputError(f"the {type(obj).__name__} gave NaN or infinite "
                                       f"features for {int(bad.sum())} of {len(F)} stimuli")
        return F

    def _kind(self) -> str:
        kind = getattr(self, "kind_", None)
        return str(kind) if kind is not None else dictionary_kind(self.dictionary)

    # -- the contract ---------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None, **fit_params: Any) -> None:
        self.kind_ = dictionary_kind(self.dictionary)
        probe = X[:self.batch_size]
        F = self._features(probe)
        if F.shape[1] < 1:
            raise AdapterError(f"the {type(self.dictionary).__name__} gives no features")
        self.n_units_ = int(F.shape[1])
        recon = self._decode(F)
        if recon.shape != probe.shape:
            raise AdapterError(f"decode of the {type(self.dictionary).__name__} gave shape "
                               f"{recon.shape} for stimuli of shape {probe.shape}: a "
                               f"reconstruction has one row per stimulus and its features")

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        F = self._features(X)
        if F.shape[1] != self.n_units_:
            raise AdapterError(f"the {type(self.dictionary).__name__} gave {F.shape[1]} "
                               f"features; at fit it gave {self.n_units_}")
        F[:, ~mask] = 0.0
        return F

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        obj = self.dictionary
        if self._kind() == "sklearn":
            inverse = getattr(obj, "inverse_transform", None)
            if not callable(inverse):
                return codes @ _fitted_atoms(obj)
            R = self._call(inverse, codes)
        else:
            R = self._call(obj.decode, codes)
        if R.ndim != 2 or R.shape[0] != len(codes):
            raise AdapterError(f"decode of the {type(self.dictionary).__name__} gave shape "
                               f"{R.shape} for {len(codes)} codes")
        if not np.isfinite(R).all():
            raise NonFiniteOutputError(f"decode of the {type(self.dictionary).__name__} gave "
                                       f"NaN or infinite values")
        return R

    def receptive_fields(self) -> np.ndarray:
        """The dictionary's atoms ``(n_units, n_features)``: ``components_`` (scikit-learn),
        else ``decode(e_i) - decode(0)`` for each feature ``i`` (the decoder's rows, for an
        affine decoder)."""
        self._check_fitted()
        if self._kind() == "sklearn":
            return _fitted_atoms(self.dictionary)
        eye = np.eye(self.n_units_)
        return self._decode(eye) - self._decode(np.zeros((1, self.n_units_)))


def _subsample(n: int, limit: int | None, random_state: int) -> np.ndarray:
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=limit, replace=False))


def reconstruction_measures(obj_or_rule: Any, X: Any, *, threshold: float = 0.0,
                            dead_window: int | None = None,
                            dense_threshold: float = DENSE_THRESHOLD,
                            unit_mask: Any = None) -> dict[str, Any]:
    r"""What a sparse-autoencoder user measures: reconstruction error, explained variance, L0,
    dead and dense features, beside neurocode's activity measures.

    With inputs :math:`x_s` (``S`` rows of ``X``, ``d`` features), their features
    :math:`f_s = \mathrm{encode}(x_s)` (``N`` features) and reconstructions
    :math:`\hat x_s = \mathrm{decode}(f_s)`; a feature is *active* when :math:`|f_{si}| >`
    ``threshold`` (neurocode's convention: signed features count by magnitude; SAELens counts
    :math:`f > 0`, the same for the non-negative features of a ReLU SAE):

    * ``mse``: :math:`\frac{1}{S d} \sum_s \|x_s - \hat x_s\|^2` (per entry, scikit-learn's
      ``mean_squared_error``); ``sse_per_input``: :math:`\frac1S \sum_s \|x_s - \hat x_s\|^2`;
    * ``explained_variance``:
      :math:`1 - \sum_s \|x_s - \hat x_s\|^2 / \sum_s \|x_s - \bar x\|^2` with :math:`\bar x`
      the mean input: one minus the residual over the total variance, pooled over the
      features (the definition SAELens' ``run_evals`` intends for its
      ``explained_variance``: residual sum of squares over total variance, not averaged per
      input as its ``explained_variance_legacy`` is); 1 for a perfect reconstruction, 0 for
      the mean input, negative when worse. NaN when every input is the same. ``fvu`` (the
      fraction of variance unexplained) is one minus it;
    * ``cosine_similarity``: the mean of :math:`\cos(x_s, \hat x_s)` over the inputs where
      both are nonzero;
    * ``l0``: the mean number of active features per input, ``l0_std`` its standard
      deviation; ``l1``: the mean :math:`\sum_i |f_{si}|`;
    * ``feature_density`` (array ``(N,)``): the fraction of the window's inputs on which each
      feature is active; the *window* is the first ``dead_window`` inputs (all of ``X`` by
      default; ``window`` says how many). ``n_dead_features``, ``dead_feature_fraction``:
      features never active in the window (SAELens counts a feature dead after
      ``dead_feature_window`` forward passes without firing); ``n_dense_features``,
      ``dense_feature_fraction``: features active on more than ``dense_threshold`` of the
      window (default 0.1, :data:`DENSE_THRESHOLD`);
    * beside them, from :func:`neurocode.metrics.activity.activity` on the same features:
      ``activity_ratio`` (``l0 / N``), ``avr`` (equal to ``l0``), ``treves_rolls``,
      ``hoyer``, ``lifetime_sparseness_mean``, ``activity_dead_fraction`` (over all of ``X``);
    * ``n_inputs``, ``n_features`` (``N``), ``n_input_features`` (``d``), ``threshold``.

    Parameters
    ----------
    obj_or_rule : object or CodingRule
        A dictionary or autoencoder (wrapped in :class:`DictionaryCode` and fitted on ``X``),
        or a fitted generative rule (one with ``decode``).
    X : array (n_inputs, n_input_features)
        The inputs.
    threshold : float, default 0.0
        A feature is active when its magnitude exceeds it.
    dead_window : int, optional
        Inputs (the first of ``X``) over which dead and dense features are counted.
    dense_threshold : float, default 0.1
        Firing frequency above which a feature is dense, in [0, 1).
    unit_mask : array of bool (N,), optional
        Features silenced (False) before decoding: the measures of the damaged code.

    Returns
    -------
    dict
        Scalars as floats, ``feature_density`` as an array.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import SparseCoder
    >>> coder = SparseCoder(np.eye(3), transform_algorithm="threshold", transform_alpha=0.0)
    >>> X = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]])
    >>> rec = reconstruction_measures(coder, X)
    >>> rec["explained_variance"], rec["l0"], rec["n_dead_features"]
    (1.0, 1.5, 0.0)
    """
    from neurocode.metrics._validate import check_stimuli, check_threshold
    from neurocode.metrics.activity import activity

    X = check_stimuli(X).astype(np.float64, copy=False)
    t = check_threshold(threshold)
    if isinstance(obj_or_rule, CodingRule):
        rule = obj_or_rule
        rule._check_fitted()
        if not rule.generative:
            raise AdapterError(f"rule '{rule.name}' is not generative (it has no decode): "
                               f"reconstruction measures need one")
    else:
        rule = DictionaryCode(obj_or_rule).fit(X)
    if dead_window is not None:
        if (isinstance(dead_window, bool) or not isinstance(dead_window, (int, np.integer))
                or not 1 <= dead_window <= len(X)):
            raise AdapterError(f"dead_window must be an integer in [1, {len(X)}] (the inputs "
                               f"of X it counts over), got {dead_window!r}")
    try:
        dense = float(dense_threshold)
    except (TypeError, ValueError):
        dense = float("nan")
    if not 0.0 <= dense < 1.0:
        raise AdapterError(f"dense_threshold must be a fraction in [0, 1), got "
                           f"{dense_threshold!r}")
    F = np.asarray(rule.encode(X, unit_mask=unit_mask), dtype=np.float64)
    R = np.asarray(rule.decode(F), dtype=np.float64)
    S, d = X.shape
    N = F.shape[1]
    resid = ((X - R) ** 2).sum(axis=1)
    total = float(((X - X.mean(axis=0)) ** 2).sum())
    ev = 1.0 - float(resid.sum()) / total if total > 0 else float("nan")
    nx, nr = np.linalg.norm(X, axis=1), np.linalg.norm(R, axis=1)
    both = (nx > 0) & (nr > 0)
    cos = (float(np.mean((X[both] * R[both]).sum(axis=1) / (nx[both] * nr[both])))
           if both.any() else float("nan"))
    active = np.abs(F) > t
    per_input = active.sum(axis=1)
    window = len(X) if dead_window is None else int(dead_window)
    density = active[:window].mean(axis=0)
    act = activity(F, threshold=t)
    return {
        "mse": float(resid.sum() / (S * d)), "sse_per_input": float(resid.mean()),
        "explained_variance": ev, "fvu": 1.0 - ev, "cosine_similarity": cos,
        "l0": float(per_input.mean()), "l0_std": float(per_input.std()),
        "l1": float(np.abs(F).sum(axis=1).mean()),
        "feature_density": density, "window": float(window),
        "n_dead_features": float((density == 0).sum()),
        "dead_feature_fraction": float((density == 0).mean()),
        "n_dense_features": float((density > dense).sum()),
        "dense_feature_fraction": float((density > dense).mean()),
        "dense_threshold": dense,
        "activity_ratio": float(act["activity_ratio"]), "avr": float(act["avr"]),
        "treves_rolls": float(act["treves_rolls"]), "hoyer": float(act["hoyer"]),
        "lifetime_sparseness_mean": float(act["lifetime_sparseness_mean"]),
        "activity_dead_fraction": float(act["dead_fraction"]),
        "n_inputs": float(S), "n_features": float(N), "n_input_features": float(d),
        "threshold": t,
    }


def measure_dictionary(obj: Any, X_train: Any, y_train: Any = None, X_test: Any = None,
                       y_test: Any = None, *, image_shape: Any = None,
                       test_fraction: float = 0.25, threshold: float = 0.0,
                       max_stimuli: int = 10_000, random_state: int = 0,
                       dead_window: int | None = None,
                       dense_threshold: float = DENSE_THRESHOLD, batch_size: int = 1024,
                       progress: Callable[[str], None] | None = None,
                       measures: Sequence[str] | None = None,
                       ) -> dict[str, dict[str, Any]]:
    """The battery on a dictionary or sparse autoencoder, with its reconstruction measures.

    As :func:`neurocode.codes.measure_codes` for stored codes: :class:`DictionaryCode` of
    ``obj`` is fitted on ``X_train`` and :func:`neurocode.metrics.run_battery` measures it on
    the test stimuli (without ``X_test``, ``test_fraction`` of ``X_train`` is held out,
    stratified by label; without labels, the labelled measures are skipped). The result
    gains ``"reconstruction"``: :func:`reconstruction_measures` on at most ``max_stimuli``
    test stimuli (a uniform draw with ``random_state`` when there are more).
    ``image_shape`` ``(height, width)`` lets the battery superpose stimuli; ``measures``:
    run only these of the battery (default: all of
    :data:`neurocode.metrics.battery.MEASURES`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.decomposition import SparseCoder
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 300)
    >>> X = np.eye(3)[y] + 0.05 * rng.standard_normal((300, 3))
    >>> coder = SparseCoder(np.eye(3), transform_algorithm="threshold", transform_alpha=0.2)
    >>> out = measure_dictionary(coder, X, y, max_stimuli=100, measures=("activity", "fault"))
    >>> print(out["reconstruction"]["l0"] == out["activity"]["avr"], out["_meta"]["readout"])
    True linear probe
    """
    from neurocode.metrics.battery import run_battery

    data = _dataset(X_train, y_train, X_test, y_test, test_fraction=test_fraction,
                    random_state=random_state, image_shape=image_shape)
    rule = DictionaryCode(obj, batch_size=batch_size, random_state=random_state)
    rule.fit(data.X_train)
    out = run_battery(rule, data, threshold=threshold, max_stimuli=max_stimuli,
                      random_state=random_state, progress=progress, measures=measures)
    keep = _subsample(len(data.X_test), max_stimuli, random_state)
    out["reconstruction"] = reconstruction_measures(
        rule, data.X_test[keep], threshold=threshold, dead_window=dead_window,
        dense_threshold=dense_threshold)
    return out
