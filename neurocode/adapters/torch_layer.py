"""A layer of any torch model as a code: :class:`TorchLayerCode` and :func:`measure_layer`.

:class:`TorchLayerCode` wraps a live ``torch.nn.Module`` (already trained: nothing is
learned here) and one of its submodules, named as ``model.get_submodule`` names it
(``"features.2"``, ``"encoder.fc1"``; ``""`` is the model itself)::

    from neurocode.adapters import TorchLayerCode, measure_layer
    rule = TorchLayerCode(model, layer="features.2", input_shape=(1, 28, 28)).fit(X, y)
    codes = rule.encode(X)                            # (n_stimuli, n_units)
    battery = measure_layer(model, "features.2", X_train, y_train, X_test, y_test,
                            input_shape=(1, 28, 28))

**The code.** ``encode(X)`` reshapes each row of ``X`` to ``input_shape`` (default: left
flat), runs the model forward in batches of ``batch_size`` under ``torch.no_grad()`` with
every module in eval mode (their training flags are restored afterwards), and captures the
layer's output with a forward hook, flattened per stimulus in the layer's own order (for a
convolution ``(channels, height, width)``): unit ``j`` of the code is entry ``j`` of that
flattening. A layer whose output is a tuple or list (a recurrent or spiking cell returning
``(spikes, state)``) gives its first tensor as the code. The layer must be called once per
forward pass (``time_steps`` for more).

**Silencing.** The battery's ``unit_mask`` is a second job of the same hook: the silenced
entries of the layer's output are replaced by 0 *before the output goes on*, so every later
layer computes with them lost (a later layer may compensate, or the loss may cascade). This
is what "fault tolerance" means for a network; zeroing the columns of stored codes
(:func:`neurocode.codes.measure_codes`) only asks what a readout trained on the intact codes
makes of them. For a feed-forward network the two agree exactly when the stored codes are
read by the rest of the network itself; they part when the stored codes are read by a
linear probe (what a stored array can have). In a recurrent or spiking layer the silenced
units' zeros are also fed back, so the alive units change too
(:meth:`TorchLayerCode.silencing_kind` says ``"resettles"`` when ``time_steps`` is set;
``"dropped"``, the alive units untouched, otherwise).

**The readout.** When the model is a classifier (``classifier=True``; or, by default, when
``fit`` is given labels ``0..C-1`` and the model's output has ``C`` columns) the rule has its
own readout: ``decision_function(X, unit_mask)`` is the model's output with the silencing
hook active and ``predict`` its ``argmax`` (column ``j`` is class ``j``), which the battery
uses (``tags.own_readout``; :meth:`TorchLayerCode.has_own_readout`). Otherwise the battery
reads the codes with its linear probe. The model's output is the tensor it returns; of a
tuple or list, its first tensor; of an object with ``logits``, those. ``forward=`` (a
callable ``forward(model, x) -> output``) runs the model another way.

**Time steps** (recurrent and spiking models, snnTorch or Norse style): ``time_steps=T``
makes the code the layer's output *summed over T steps* (spike counts for a spiking layer).
Two layouts are recognised from what the layer does in one forward pass:

* the layer is called ``T`` times, each call giving ``(batch, ...)`` (an snnTorch-style
  ``for step in range(T)`` loop inside ``forward``);
* the layer is called once and gives ``(T, batch, ...)`` (a Norse-style time-first module).

The silencing hook zeroes the silenced units at every step: in the loop layout each step's
output is zeroed before the model feeds it on (to later layers, and back into the layer
itself when the model's loop does so, as a recurrent layer's does); a time-first module
computes its whole sequence before the hook sees it, so its own dynamics are left intact and
only the later layers lose the units. The model's output, for the readout, is ``(batch, C)``
or ``(T, batch, C)``, then summed over the steps. A stateful
model must reset its state at the start of each ``forward`` (each batch is a new set of
stimuli); the input is the batch of stimuli as it is (a model that wants a time axis on its
input, e.g. Poisson spikes, builds it in ``forward``, or the user passes ``forward=``).

**Device.** ``device=None`` (default) runs where the model's parameters are (the CPU for a
new model); ``"cuda"`` (or ``"cuda:1"``) moves the model there, and is refused with a clear
message when ``torch.cuda.is_available()`` is False.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar, cast

import numpy as np
import torch
from torch import nn

from neurocode.adapters import AdapterError, NonFiniteOutputError, _dataset
from neurocode.params import Param, ParamError
from neurocode.rules import CodingRule

__all__ = ["TorchLayerCode", "measure_layer", "layer_names"]

#: how many layer names an unknown-layer message lists before it counts the rest
_NAMES_SHOWN = 40


def layer_names(model: nn.Module) -> list[str]:
    """The dotted names of ``model``'s submodules, as ``model.get_submodule`` takes them, in
    the order the model holds them (``""``, the model itself, left out).

    Examples
    --------
    >>> from torch import nn
    >>> layer_names(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
    ['0', '1', '2']
    """
    return [name for name, _ in model.named_modules() if name]


def _unknown_layer(model: nn.Module, layer: str) -> AdapterError:
    names = layer_names(model)
    close = difflib.get_close_matches(layer, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(map(repr, names[:_NAMES_SHOWN]))
    if len(names) > _NAMES_SHOWN:
        shown += f", ... ({len(names) - _NAMES_SHOWN} more: see layer_names(model))"
    return AdapterError(f"rule 'torch-layer' parameter 'layer': the model "
                        f"({type(model).__name__}) has no layer {layer!r}{hint} (its layers: "
                        f"{shown or 'none'}; '' is the model itself)")


def _main_tensor(output: Any) -> tuple[int | None, torch.Tensor | None]:
    """The tensor of a module's output the code is read from: the output itself, or the first
    tensor of a tuple or list (its index); (None, None) when there is none."""
    if isinstance(output, torch.Tensor):
        return None, output
    if isinstance(output, (tuple, list)):
        for i, item in enumerate(output):
            if isinstance(item, torch.Tensor):
                return i, item
    return None, None


def _replace_item(output: Any, index: int | None, tensor: torch.Tensor) -> Any:
    """``output`` with its code tensor (see :func:`_main_tensor`) replaced by ``tensor``."""
    if index is None:
        return tensor
    items = list(output)
    items[index] = tensor
    if isinstance(output, tuple):
        return type(output)(*items) if hasattr(output, "_fields") else tuple(items)
    return items


def _scores_tensor(output: Any) -> torch.Tensor | None:
    """The class scores in a model's output: the tensor itself, the first tensor of a tuple or
    list, a ``logits`` attribute or key; None when there is none."""
    _, t = _main_tensor(output)
    if t is not None:
        return t
    logits = output.get("logits") if isinstance(output, dict) else getattr(output, "logits", None)
    return logits if isinstance(logits, torch.Tensor) else None


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Every module of ``model`` in eval mode for the block, each training flag restored."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, flag in flags:
            m.training = flag


class _Tap:
    """The forward hook on the code layer: it silences the masked units of the layer's output
    (returning the changed output, so later layers see it) and sums what it captures over
    the steps of one forward pass."""

    def __init__(self, n_units: int | None, steps: int, mask: torch.Tensor | None) -> None:
        self.n, self.T, self.mask = n_units, steps, mask
        self.kept: list[torch.Tensor] = []   # while probing (n_units unknown): the outputs
        self.start(0)

    def start(self, batch: int) -> None:
        """Reset for a forward pass of ``batch`` stimuli."""
        self.B, self.calls, self.steps = batch, 0, 0
        self.total: torch.Tensor | None = None
        self.kept = []

    def __call__(self, module: nn.Module, args: Any, output: Any) -> Any:
        index, t = _main_tensor(output)
        if t is None:
            raise AdapterError(f"the code layer returned {type(output).__name__}, not a tensor "
                               f"(nor a tuple or list holding one): choose another layer")
        self.calls += 1
        if self.n is None:
            self.kept.append(t.detach().clone())
            return None
        rows = t.numel() // self.n if self.n else 0
        if rows * self.n != t.numel() or rows not in (self.B, self.T * self.B):
            raise AdapterError(f"the code layer gave an output of shape {tuple(t.shape)} for a "
                               f"batch of {self.B} stimuli; at fit it gave {self.n} units per "
                               f"stimulus per step (its output shape must not change)")
        changed = None
        if self.mask is not None:
            flat = torch.where(self.mask, t.reshape(rows, self.n), torch.zeros((), dtype=t.dtype,
                                                                              device=t.device))
            changed = flat.reshape(t.shape)
            t = changed
        flat = t.detach().reshape(rows, self.n).to(torch.float64, copy=True)
        if rows != self.B:   # time-first: (T, B, ...)
            flat = flat.reshape(self.T, self.B, self.n).sum(0)
            self.steps += self.T
        else:
            self.steps += 1
        self.total = flat if self.total is None else self.total + flat
        return None if changed is None else _replace_item(output, index, changed)


class TorchLayerCode(CodingRule):
    """A layer of a live torch model as a code; silencing zeroes units inside the network.

    See the module notes (:mod:`neurocode.adapters.torch_layer`) for what the code is, how
    silencing and the readout work, and the time-step layouts. The model is not trained or
    copied: ``fit`` checks the layer, runs one forward pass on the first ``batch_size``
    stimuli and records the code's width (``n_units``), the layer's output shape per
    stimulus (``unit_shape_``) and whether the model is read as a classifier
    (``classifier_``). The rule is built in Python around the model (it is not registered by
    name, and ``save_rule`` cannot store a live model: save the model with ``torch.save``).

    Parameters
    ----------
    model : torch.nn.Module
        The model (trained, or as it is).
    layer : str
        The dotted name of the code layer (``model.get_submodule(layer)``; :func:`layer_names`
        lists them); ``""`` is the model itself.

    Other Parameters
    ----------------
    input_shape : tuple of int, optional
        The shape of one stimulus as the model takes it, without the batch axis (e.g.
        ``(1, 28, 28)``); each row of ``X`` is reshaped to it. None: rows as they are.
    batch_size : int, default 256
        Stimuli per forward pass.
    classifier : bool, optional
        Whether the model's output is class scores the battery should read (its own
        readout). None: yes when ``fit`` gets labels ``0..C-1`` and the output has ``C``
        columns.
    time_steps : int, optional
        Sum the layer's output over this many steps per forward pass (recurrent and spiking
        models; see the module notes). None: one call, one output.
    forward : callable, optional
        ``forward(model, x) -> output`` instead of ``model(x)``.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ...: move the model there; None: where it is.
    progress : bool, default False
        Show a progress bar over the stimuli while encoding.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> X = np.random.default_rng(0).random((10, 4))
    >>> rule = TorchLayerCode(net, layer="1", random_state=0).fit(X)
    >>> rule.encode(X).shape, rule.has_own_readout()
    ((10, 8), False)
    >>> mask = np.arange(8) >= 4                      # silence units 0..3 inside the net
    >>> bool((rule.encode(X, unit_mask=mask)[:, :4] == 0).all())
    True
    """

    name = "torch-layer"
    description = ("a layer of a live torch model (built in Python around the model): "
                   "silencing zeroes units inside the network")
    # silencing replaces the layer's output after it is computed: the alive units of a
    # feed-forward layer keep their values; silencing_kind() says "resettles" with time steps
    tags = replace(CodingRule.tags, own_readout=True, silencing="dropped")
    params: ClassVar[dict[str, Param]] = {
        "model": Param(nn.Module, None, doc="the torch model (not trained or copied here)"),
        "layer": Param(str, None, doc="dotted name of the code layer (model.get_submodule); "
                                      "'' is the model itself"),
        "input_shape": Param((tuple, list), None, nullable=True,
                             doc="shape of one stimulus as the model takes it, without the "
                                 "batch axis (None: rows of X as they are)"),
        "batch_size": Param(int, 256, low=1, doc="stimuli per forward pass"),
        "classifier": Param(bool, None, nullable=True,
                            doc="the model's output is class scores (None: when fit's labels "
                                "0..C-1 match its C output columns)"),
        "time_steps": Param(int, None, low=1, nullable=True,
                            doc="sum the layer's output over this many steps (spiking and "
                                "recurrent models)"),
        # collections.abc.Callable is an ABC at runtime (isinstance works, __name__ is
        # 'Callable'); mypy sees the typing special form, hence the cast
        "forward": Param(cast(type, Callable), None, nullable=True,
                         doc="forward(model, x) -> output, instead of model(x)"),
        "device": Param(str, None, nullable=True,
                        doc="move the model to this device ('cpu', 'cuda'); None: where it is"),
        "progress": Param(bool, False, doc="show a progress bar while encoding"),
    }
    test_params: ClassVar[dict[str, Any]] = {"random_state": 0}

    def __init__(self, model: nn.Module | None = None, layer: str | None = None,
                 **params: Any) -> None:
        for k, p in self.params.items():
            setattr(self, k, p.default)
        self.set_params(model=model, layer=layer, **params)

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.get_params().items()
                 if k not in ("model", "layer") and v != self.params[k].default}
        model = type(self.model).__name__ if self.model is not None else None
        rest = "".join(f", {k}={v!r}" for k, v in shown.items())
        return f"TorchLayerCode({model}, layer={self.layer!r}{rest})"

    @property
    def n_units(self) -> int:
        """The code's width: the entries of the layer's output per stimulus (per step)."""
        self._check_fitted()
        return int(self.n_units_)

    # -- checks ---------------------------------------------------------------------------
    def _validate_together(self) -> None:
        owner = "rule 'torch-layer' parameter"
        if self.input_shape is not None:
            shape = tuple(self.input_shape)
            if not shape or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                                    for s in shape):
                raise ParamError(f"{owner} 'input_shape': the shape of one stimulus must be "
                                 f"positive integers (e.g. (1, 28, 28)), got "
                                 f"{self.input_shape!r}")
        if self.device is not None:
            try:
                dev = torch.device(self.device)
            except (RuntimeError, ValueError) as exc:
                raise ParamError(f"{owner} 'device': {self.device!r} is not a torch device "
                                 f"({exc}); use 'cpu' or 'cuda'") from None
            if dev.type == "cuda" and not torch.cuda.is_available():
                raise ParamError(f"{owner} 'device': {self.device!r} was asked for, but "
                                 f"torch.cuda.is_available() is False on this machine: use "
                                 f"device='cpu' (or None)")
        try:
            self.model.get_submodule(self.layer)
        except AttributeError:
            raise _unknown_layer(self.model, self.layer) from None

    def _device(self) -> torch.device:
        if self.device is not None:
            return torch.device(self.device)
        for t in list(self.model.parameters()) + list(self.model.buffers()):
            return t.device
        return torch.device("cpu")

    def _dtype(self) -> torch.dtype:
        for p in list(self.model.parameters()) + list(self.model.buffers()):
            if p.is_floating_point():
                return p.dtype
        return torch.float32

    def _shape(self, n_features: int) -> tuple[int, ...]:
        return (tuple(self.input_shape) if self.input_shape is not None else (n_features,))

    # -- running the model ----------------------------------------------------------------
    def _run(self, X: np.ndarray, tap: _Tap, scores: bool, probe: bool = False,
             ) -> tuple[list[torch.Tensor], list[torch.Tensor], Any]:
        """Run the model on ``X`` in batches with ``tap`` on the code layer: the captured codes
        and (with ``scores``) the model's outputs, per batch, and the last raw output."""
        from tqdm.auto import tqdm

        model = self.model
        device, dtype = self._device(), self._dtype()
        if self.device is not None:
            model.to(device)
        shape = self._shape(X.shape[1])
        layer = model.get_submodule(self.layer)
        codes: list[torch.Tensor] = []
        outs: list[torch.Tensor] = []
        last: Any = None
        handle = layer.register_forward_hook(tap)
        bar = (tqdm(total=len(X), desc=f"encode {self.layer or type(model).__name__}",
                    unit="stim", leave=False, dynamic_ncols=True) if self.progress else None)
        try:
            with torch.no_grad(), _eval_mode(model):
                for i in range(0, len(X), self.batch_size):
                    xb = torch.as_tensor(X[i:i + self.batch_size], dtype=dtype, device=device)
                    xb = xb.reshape(len(xb), *shape)
                    tap.start(len(xb))
                    try:
                        out = (self.forward(model, xb) if self.forward is not None
                               else model(xb))
                    except RuntimeError as exc:
                        raise AdapterError(
                            f"the model's forward pass failed on a batch of shape "
                            f"{tuple(xb.shape)}: {exc}. If the model takes stimuli of another "
                            f"shape, set input_shape= to the shape of one stimulus without the "
                            f"batch axis (X has {X.shape[1]} features per stimulus"
                            + (f", reshaped to {shape}" if self.input_shape is not None else "")
                            + ")") from exc
                    last = out
                    if probe:
                        return codes, outs, out
                    codes.append(self._finish(tap))
                    if scores:
                        outs.append(self._scores(out, len(xb)))
                    if bar is not None:
                        bar.update(len(xb))
        finally:
            handle.remove()
            if bar is not None:
                bar.close()
        return codes, outs, last

    def _finish(self, tap: _Tap) -> torch.Tensor:
        """The batch's code from the tap, after checking the layer ran the expected steps."""
        T = self.time_steps or 1
        if tap.calls == 0 or tap.total is None:
            raise AdapterError(f"the layer {self.layer!r} was not called in the model's forward "
                               f"pass: choose a layer the forward pass uses")
        if tap.steps != T:
            raise AdapterError(
                f"the layer {self.layer!r} ran {tap.steps} step(s) in one forward pass (called "
                f"{tap.calls} time(s)), but time_steps is {self.time_steps}: "
                + ("set time_steps to the number of steps the model runs" if T > 1 or
                   tap.steps > 1 else "the layer must be called once per forward pass"))
        return tap.total

    def _scores(self, out: Any, batch: int) -> torch.Tensor:
        s = _scores_tensor(out)
        if s is None:
            raise AdapterError(f"the model's output is a {type(out).__name__}, not class "
                               f"scores: pass forward=lambda model, x: ... returning a tensor "
                               f"(batch, classes)")
        T = self.time_steps or 1
        if T > 1 and s.ndim == 3 and s.shape[:2] == (T, batch):
            s = s.sum(0)
        if s.ndim != 2 or s.shape[0] != batch:
            raise AdapterError(f"the model's output has shape {tuple(s.shape)} for a batch of "
                               f"{batch}; class scores are (batch, classes)"
                               + (f" or ({T}, batch, classes)" if T > 1 else ""))
        return s.detach().to(torch.float64)

    def _check_finite(self, arr: np.ndarray, what: str) -> None:
        bad = ~np.isfinite(arr).all(axis=1)
        if bad.any():
            raise NonFiniteOutputError(
                f"{what} NaN or infinite values for {int(bad.sum())} of {len(arr)} stimuli "
                f"(the first: row {int(np.flatnonzero(bad)[0])}): check the model and its "
                f"input (scale, preprocessing), or choose another layer")

    # -- the contract ---------------------------------------------------------------------
    def _fit(self, X: np.ndarray, y: np.ndarray | None, **fit_params: Any) -> None:
        shape = self._shape(X.shape[1])
        if math.prod(shape) != X.shape[1]:
            raise AdapterError(f"rule 'torch-layer' parameter 'input_shape': {shape} holds "
                               f"{math.prod(shape)} values per stimulus, but X has "
                               f"{X.shape[1]} features: give the shape of one stimulus "
                               f"(without the batch axis) whose product is {X.shape[1]}")
        T = self.time_steps or 1
        probe = X[:self.batch_size]
        B = len(probe)
        tap = _Tap(None, T, None)
        _, _, out = self._run(probe, tap, scores=False, probe=True)
        shapes = [tuple(t.shape) for t in tap.kept]
        if not shapes:
            raise AdapterError(f"the layer {self.layer!r} was not called in the model's forward "
                               f"pass: choose a layer the forward pass uses")
        if len(shapes) == T and all(s == shapes[0] and s[:1] == (B,) for s in shapes):
            unit_shape, layout = shapes[0][1:], "steps"
            steps = [t.to(torch.float64) for t in tap.kept]
            total = sum(steps[1:], steps[0])  # shapes is not empty: at least one call
        elif len(shapes) == 1 and T > 1 and shapes[0][:2] == (T, B):
            unit_shape, layout = shapes[0][2:], "time-first"
            total = tap.kept[0].to(torch.float64).sum(0)
        else:
            seen = ", ".join(map(str, shapes[:4])) + (" ..." if len(shapes) > 4 else "")
            raise AdapterError(
                f"the layer {self.layer!r} was called {len(shapes)} time(s) in one forward pass "
                f"of {B} stimuli, with outputs of shape {seen}; expected "
                + (f"{T} calls of (batch, ...) or one call of ({T}, batch, ...) "
                   f"(time_steps={T})" if T > 1 else
                   "one call of (batch, ...) (set time_steps= for a layer that runs several "
                   "steps)"))
        n = math.prod(unit_shape)
        if n < 1:
            raise AdapterError(f"the layer {self.layer!r} gives an empty output per stimulus "
                               f"(shape {unit_shape}): choose another layer")
        self._check_finite(total.reshape(B, n).cpu().numpy(), f"the layer {self.layer!r} gave")
        self.n_units_ = int(n)
        self.unit_shape_ = np.asarray(unit_shape, dtype=np.int64)
        self.layout_ = layout
        self._fit_readout(out, y, B)

    def _fit_readout(self, out: Any, y: np.ndarray | None, batch: int) -> None:
        s = _scores_tensor(out)
        T = self.time_steps or 1
        if s is not None and T > 1 and s.ndim == 3 and s.shape[:2] == (T, batch):
            s = s.sum(0)
        width = int(s.shape[1]) if s is not None and s.ndim == 2 and s.shape[0] == batch else 0
        labels_fit = None if y is None else False
        if y is not None and np.issubdtype(np.asarray(y).dtype, np.integer):
            classes = np.unique(y)
            labels_fit = bool(width and classes.min() >= 0 and classes.max() < width)
            if self.classifier is None:
                labels_fit = labels_fit and len(classes) == width
        if self.classifier is None:
            is_classifier = bool(labels_fit)
        elif self.classifier:
            if not width:
                raise AdapterError(
                    f"classifier=True, but the model's output "
                    f"({type(out).__name__}{'' if s is None else ' ' + str(tuple(s.shape))}) "
                    f"is not class scores (batch, classes): pass forward= returning them, or "
                    f"classifier=False to read the layer by a linear probe")
            if y is not None and labels_fit is False:
                raise AdapterError(f"classifier=True: the labels must be the class indices "
                                   f"0..{width - 1} of the model's {width} output columns, got "
                                   f"{np.unique(y)[:10].tolist()}")
            is_classifier = True
        else:
            is_classifier = False
        self.classifier_ = is_classifier
        self.n_outputs_ = width
        self.classes_ = np.arange(width) if is_classifier else None

    def _mask_tensor(self, mask: np.ndarray) -> torch.Tensor | None:
        return None if mask.all() else torch.as_tensor(mask, device=self._device())

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        tap = _Tap(self.n_units_, self.time_steps or 1, self._mask_tensor(mask))
        codes, _, _ = self._run(X, tap, scores=False)
        out = torch.cat(codes).cpu().numpy()
        self._check_finite(out, f"the layer {self.layer!r} gave")
        dtype = np.float64 if self._dtype() == torch.float64 else np.float32
        return out.astype(dtype)

    def silencing_kind(self) -> str | None:
        """``"dropped"`` (the alive units keep their values: the layer's output is changed
        after it is computed), or ``"resettles"`` with ``time_steps``: a recurrent or spiking
        layer is fed its silenced units' zeros, so the alive units may change too."""
        return "resettles" if self.time_steps is not None else "dropped"

    # -- the readout ----------------------------------------------------------------------
    def has_own_readout(self) -> bool:
        """Whether the battery reads the model's own output (fitted as a classifier)."""
        return bool(getattr(self, "classifier_", False))

    def decision_function(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """The model's class scores ``(n_samples, n_classes)`` for ``X``, with the units
        ``unit_mask`` marks False silenced inside the network (summed over the steps with
        ``time_steps``). Only for a rule fitted as a classifier."""
        self._check_fitted()
        if not self.classifier_:
            raise AdapterError("this TorchLayerCode was not fitted as a classifier "
                               "(classifier=True, or labels 0..C-1 for C output columns): it "
                               "has no decision_function; the battery reads it by a probe")
        X = self._check_X(X)
        mask = self._check_mask(unit_mask)
        tap = _Tap(self.n_units_, self.time_steps or 1, self._mask_tensor(mask))
        _, outs, _ = self._run(X, tap, scores=True)
        scores = torch.cat(outs).cpu().numpy()
        self._check_finite(scores, "the model's output has")
        return scores

    def predict(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """The class of the largest score of :meth:`decision_function` (column ``j`` is class
        ``j``)."""
        scores = self.decision_function(X, unit_mask)
        if self.classes_ is None:
            raise AdapterError("this TorchLayerCode was not fitted as a classifier: it has no "
                               "classes to predict; the battery reads it by a probe")
        return self.classes_[scores.argmax(axis=1)]


def measure_layer(model: nn.Module, layer: str, X_train: Any, y_train: Any = None,
                  X_test: Any = None, y_test: Any = None, *, image_shape: Any = None,
                  test_fraction: float = 0.25, threshold: float = 0.0,
                  max_stimuli: int = 10_000, random_state: int = 0,
                  progress: Callable[[str], None] | None = None,
                  measures: Sequence[str] | None = None,
                  **rule_params: Any) -> dict[str, dict[str, Any]]:
    """The battery (:func:`neurocode.metrics.run_battery`) on a layer of a torch model.

    Builds ``TorchLayerCode(model, layer, **rule_params)``, fits it on ``X_train`` (and the
    labels, which decide whether the model's output is its readout) and measures it on the
    test stimuli, as :func:`neurocode.codes.measure_codes` does for stored codes (without
    ``X_test``, ``test_fraction`` of ``X_train`` is held out, stratified by label).
    ``image_shape`` ``(height, width)`` lets the battery superpose stimuli (pixel-wise
    maximum of two images); without it superposition is skipped. ``measures``: run only
    these (default: all of :data:`neurocode.metrics.battery.MEASURES`). Returns ``{measure:
    results}``; ``_meta["readout"]`` says whether the model's own output or a linear probe
    read the code.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from torch import nn
    >>> _ = torch.manual_seed(0)
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 300)
    >>> X = (np.eye(3)[y] + 0.1 * rng.standard_normal((300, 3))).astype(np.float32)
    >>> net = nn.Sequential(nn.Linear(3, 12), nn.ReLU(), nn.Linear(12, 3))
    >>> out = measure_layer(net, "1", X, y, max_stimuli=100, classifier=False,
    ...                     measures=("activity", "fault"))
    >>> out["_meta"]["readout"], out["activity"]["n_units"]
    ('linear probe', 12.0)
    """
    from neurocode.metrics.battery import run_battery

    data = _dataset(X_train, y_train, X_test, y_test, test_fraction=test_fraction,
                    random_state=random_state, image_shape=image_shape)
    rule = TorchLayerCode(model, layer, **{"random_state": random_state, **rule_params})
    rule.fit(data.X_train, data.y_train)
    return run_battery(rule, data, threshold=threshold, max_stimuli=max_stimuli,
                       random_state=random_state, progress=progress, measures=measures)
