"""The article's three networks as coding rules: ``relu-l1-fc``, ``relu-l1-cnn`` and
``relu-l1-conv-ae`` (registered through the ``neurocode.rules`` entry points).

The rules hold the hyper-parameters and the learned arrays; the networks are
:mod:`neurocode.models.relu_l1.nets`, and every training run, single or vectorised, goes
through :func:`neurocode.models.relu_l1.training.train`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from neurocode.models.relu_l1 import training
from neurocode.models.relu_l1.nets import DECODERS, ConvAE, ConvNet, FCNet
from neurocode.models.relu_l1.training import TrainData
from neurocode.params import Param
from neurocode.rules import CodingRule, TrainingFailed

__all__ = ["ReluL1FC", "ReluL1CNN", "ReluL1ConvAE", "RULES"]

_TRAIN_PARAMS = {
    "l1": Param(float, 0.0, low=0.0, high=10.0, doc="lambda: weight of the L1 term (a sum)"),
    "iterations": Param(int, 20000, low=1, high=10_000_000, section="train",
                        doc="Adam iterations"),
    "batch_size": Param(int, 100, low=1, high=60000, section="train", doc="mini-batch size"),
    "lr": Param(float, 1e-3, low=0.0, high=10.0, section="train", doc="Adam learning rate"),
    "eval_every": Param(int, 100, low=1, section="train",
                        doc="iterations between evaluations on the validation data"),
    "eval_batch": Param(int, 100, low=1, high=100_000, section="train",
                        doc="images per chunk when evaluating and encoding (100 keeps a "
                            "CNN chunk's 39,200-unit maps under 16 MB: larger chunks were 3x "
                            "slower, see benchmarks/bench_eval.py)"),
    "sparse_backward": Param(bool, False, section="train", omit_if_unset=True,
                             doc="sparse-aware steps: skip the work of inactive hidden units "
                                 "(FC: the weight gradients of units silent on the batch; "
                                 "CNN and autoencoder: readout, decoder and backward over the "
                                 "active units once the code is sparse); same gradients, "
                                 "faster for sparse codes"),
    "fused_adam": Param(bool, False, section="train", omit_if_unset=True,
                        doc="torch's fused Adam kernel: about 1.8x faster FC steps on CPU, "
                            "not the same bits as the default Adam (docs/speed.md)"),
}


class _ReluL1Rule(CodingRule):
    """Shared training and encoding of the article's three networks (package docstring).

    ``fit(X, y, validation_data=(X_test, y_test))`` trains with Adam on mini-batches drawn in
    a fresh random order each epoch (as TensorFlow's ``mnist.train.next_batch``) and, every
    ``eval_every`` iterations, records on the validation data (test set) in ``curves_``:

    ``accuracy``; ``avr`` (mean number of hidden units with activation > 0 per image: the
    article's "AverageDensity"); ``activity_ratio`` (``avr / n_units``); ``loss_ce`` (mean
    cross-entropy); ``loss_l1`` (the L1 term as the objective sees it on a batch of
    ``batch_size`` images: ``lambda * batch_size * mean_image(sum_units h)``); ``loss_recon``
    (autoencoder: mean per-image summed squared error, pixels in [0, 1]); ``loss`` (their sum);
    ``recon_error`` (autoencoder, the article's reading: mean squared error per pixel after
    quantising the reconstruction back to integers 0..255); ``avr_train`` and ``train_loss``
    (AVR and loss of the training batch of the last update, what the article logged), and
    for the autoencoder's ``"original-473bc3f"`` decoder the original's other training-batch
    summaries, ``loss_ae``, ``loss_classifier`` and ``loss_sc``
    (:mod:`neurocode.models.relu_l1.original_473bc3f`; the test-set losses above stay the
    plain readings: one reconstruction ``D(a) + mean(b1)``, the L1 term once).

    A loss that becomes NaN or infinite stops training with :class:`TrainingFailed`; the
    curves recorded so far stay in ``curves_``. The code of a stimulus is the hidden ReLU
    activation; ``unit_mask`` zeroes silenced hidden units before the readout (and decoder),
    so ``predict`` reports the damaged network's answer.
    """

    # the hidden code is zeroed after the forward pass (feed-forward: nothing else changes)
    tags = replace(CodingRule.tags, code_kind="rate", uses_labels=True, own_readout=True,
                   silencing="dropped",
                   fit_options=("validation_data", "device", "progress", "callback"))
    kind: ClassVar[str] = ""

    def _build(self, generator: torch.Generator | None) -> nn.Module:
        raise NotImplementedError

    @classmethod
    def conformance_data(cls, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 10, n_samples)
        X = rng.random((n_samples, 784)).astype(np.float32) * 0.3
        for c in range(10):  # a class-dependent bright block
            X[y == c, c * 70:(c + 1) * 70] += 0.7
        return X, y

    # network state <-> learned arrays
    def _net(self, device: torch.device | str = "cpu") -> nn.Module:
        net = self.__dict__.get("_net_cache")
        if net is None or next(net.parameters()).device != torch.device(device):
            net = self._build(None).to(device)
            net.load_state_dict({k: torch.from_numpy(np.asarray(v))
                                 for k, v in self.weights_.items()})
            net.eval()
            self._net_cache = net
        return net

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        super().set_state(state)
        self.__dict__.pop("_net_cache", None)

    def _setup(self, X: np.ndarray, y: np.ndarray, validation_data: tuple | None,
               device: torch.device) -> tuple[int, TrainData]:
        """What one training run (or a vectorised group) shares: the seed, and the data on the
        device with the batch-order generator and the schedule."""
        if X.shape[1] != 784:
            raise ValueError(f"rule '{self.name}' takes 28x28 images flattened to 784 features, "
                             f"got {X.shape[1]}")
        seed = self.random_state if self.random_state is not None else int(
            np.random.default_rng().integers(2**31))
        x_train = torch.as_tensor(X, dtype=torch.float32, device=device)
        y_train = torch.as_tensor(y, dtype=torch.int64, device=device)
        if validation_data is not None:
            x_val = torch.as_tensor(validation_data[0], dtype=torch.float32, device=device)
            y_val = torch.as_tensor(validation_data[1], dtype=torch.int64, device=device)
        else:
            x_val, y_val = x_train, y_train
        n = len(x_train)
        if self.batch_size > n:
            raise ValueError(f"rule '{self.name}' parameter 'batch_size' ({self.batch_size}) is "
                             f"larger than the {n} training samples")
        gen = torch.Generator().manual_seed(seed + 1)  # batch order: its own stream
        return seed, TrainData(x_train, y_train, x_val, y_val, gen, self.batch_size,
                               self.iterations, self.eval_every, self.eval_batch)

    def _keep(self, rows: list[dict[str, float]], net: nn.Module | None) -> None:
        """Store the recorded rows as ``curves_`` and, given a network, its weights."""
        if rows:
            self.curves_ = {k: np.array([r[k] for r in rows]) for k in rows[0]}
            self.curves_["step"] = self.curves_["step"].astype(np.int64)
        if net is not None:
            self.weights_ = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}

    def _fit(self, X: np.ndarray, y: np.ndarray, validation_data: tuple | None = None,
             device: str | torch.device = "cpu", progress: bool | None = False,
             callback: Callable[[int, dict[str, float]], None] | None = None) -> None:
        device = torch.device(device)
        seed, data = self._setup(X, y, validation_data, device)
        self.__dict__.pop("_net_cache", None)
        model = self._build(torch.Generator().manual_seed(seed)).to(device)
        l1 = float(self.l1)
        rows: list[list[dict[str, float]]] = [[]]
        failed: list[TrainingFailed | None] = [None]
        steps = training.ModuleSteps(model, l1, self.lr, fused_adam=bool(self.fused_adam))
        training.train(steps, data, [l1], self.lr, rows=rows,
                       failed=failed, desc=f"{self.name} l1={l1:g}", progress=progress,
                       callbacks=[callback])
        self._keep(rows[0], model)
        if failed[0] is not None:
            raise failed[0]

    @classmethod
    def fit_many(cls, rules: list[_ReluL1Rule], X: Any, y: Any,
                 validation_data: tuple | None = None, device: str | torch.device = "cpu",
                 progress: bool | None = False) -> list[TrainingFailed | None]:
        """Train rules that differ only in ``l1`` as one batched model: a vectorised sweep.

        The ``L`` networks start from the same initial weights (one seed, as ``L`` separate
        runs with that seed would) and see the same mini-batches, through the same loop as a
        single run (:func:`~neurocode.models.relu_l1.training.train`), stepped as one batched
        model (:class:`~neurocode.models.relu_l1.training.VmapSteps`): each network follows
        the updates a separate run would make, up to floating-point rounding. Each rule gets
        its own ``curves_`` and weights; a network whose loss becomes NaN or infinite stops
        recording (its entry of the returned list is the :class:`TrainingFailed`, otherwise
        None) while the others train on.

        Parameters
        ----------
        rules : list of _ReluL1Rule
            Rules of one class whose parameters differ only in ``l1``.
        X, y : array-like
            Training images (n, 784) and labels (n,).
        validation_data : tuple or None
            ``(X_test, y_test)`` evaluated every ``eval_every`` iterations (None: the
            training data).
        device : str or torch.device
            Where to train.
        progress : bool or None
            Show a progress bar (None: where the output is a terminal).

        Returns
        -------
        list of TrainingFailed or None
            Per rule, why its training failed, or None.
        """
        if not rules:
            return []
        base = rules[0]
        same = {k: v for k, v in base.get_params().items() if k != "l1"}
        for r in rules:
            if type(r) is not type(base):
                raise ValueError("fit_many: every rule must be of one class")
            r._validate_params()
            if {k: v for k, v in r.get_params().items() if k != "l1"} != same:
                raise ValueError("fit_many: the rules must differ only in 'l1'")
        X = base._check_X(X, reset=True)
        for r in rules[1:]:
            r._check_X(X, reset=True)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        device = torch.device(device)
        seed, data = base._setup(X, y, validation_data, device)
        nets = [r._build(torch.Generator().manual_seed(seed)).to(device) for r in rules]
        for r in rules:
            r.__dict__.pop("_net_cache", None)
        l1s = [float(r.l1) for r in rules]
        steps = training.VmapSteps(nets, l1s, base.lr, device,
                                   fused_adam=bool(base.fused_adam))
        rows: list[list[dict[str, float]]] = [[] for _ in rules]
        failed: list[TrainingFailed | None] = [None] * len(rules)
        try:
            training.train(steps, data, l1s, base.lr, rows=rows, failed=failed,
                           desc=f"{base.name} x{len(rules)} lambdas", progress=progress)
        finally:
            for i, r in enumerate(rules):
                r._keep(rows[i], steps.network(i) if failed[i] is None else None)
        return failed

    @torch.no_grad()
    def _forward_masked(self, X: np.ndarray, mask: np.ndarray, want: str) -> np.ndarray:
        net: Any = self._net()  # FCNet, ConvNet or ConvAE: out, decode, maps_shape by kind
        keep = torch.from_numpy(mask.astype(np.float32))
        outs = []
        for i in range(0, len(X), self.eval_batch):
            x = torch.as_tensor(X[i:i + self.eval_batch], dtype=torch.float32)
            out = net(x)
            h = out.hidden * keep
            if want == "codes":
                outs.append(h)
            elif want == "logits":
                outs.append(net.out(h))
            else:  # reconstruction from the damaged code
                outs.append(net.decode(h.reshape(-1, *net.maps_shape)))
        return torch.cat(outs).numpy()

    def _encode(self, X: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self._forward_masked(X, mask, "codes")

    def decision_function(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """Class scores (logits) of the network's own readout, from the (possibly damaged) code."""
        self._check_fitted()
        X = self._check_X(X)
        return self._forward_masked(X, self._check_mask(unit_mask), "logits")

    def predict(self, X: Any, unit_mask: Any = None) -> np.ndarray:
        """Class predicted by the network's own readout, from the (possibly damaged) code."""
        return self.decision_function(X, unit_mask).argmax(1)


class ReluL1FC(_ReluL1Rule):
    """The article's fully connected net: 784 -> ``hidden`` ReLU -> 10, L1 on the hidden layer.

    See :class:`_ReluL1Rule` for training and what is recorded, and the module docstring for
    the objective. Source: "Sparse coding: a simple exploration" (FC experiment).

    Examples
    --------
    >>> from neurocode.models.relu_l1 import ReluL1FC
    >>> X, y = ReluL1FC.conformance_data(200)
    >>> rule = ReluL1FC(hidden=32, l1=1e-4, iterations=50, random_state=0).fit(X, y)
    >>> print(rule.encode(X[:3]).shape)
    (3, 32)
    """

    name = "relu-l1-fc"
    description = "the article's FC net 784 -> 784 ReLU -> 10 with an L1 penalty on the hidden code"
    kind = "fc"
    params = {"hidden": Param(int, 784, low=1, high=100_000, doc="hidden units"),
              **_TRAIN_PARAMS}
    # the article's FC net (old run files stored model.kind "fc"); blue circles, first in legends
    tags = replace(_ReluL1Rule.tags, sparsity_param="l1", legend_params=("l1",),
                   style=("#0072B2", "o"), legend_rank=0, article_network="fc",
                   legacy_kinds=("fc",), cost=(1.0, 7.5e-3, ("train.iterations",)))
    test_params = {"hidden": 16, "iterations": 4, "eval_every": 2, "batch_size": 32,
                   "random_state": 0}

    @property
    def n_units(self) -> int:
        """The code's width: the ``hidden`` units of the hidden layer."""
        return int(self.hidden)

    def _build(self, generator):
        return FCNet(self.hidden, generator=generator, sparse_backward=self.sparse_backward)

    def receptive_fields(self) -> np.ndarray | None:
        """The hidden units' input weights, ``(hidden, 784)``, for drawing."""
        self._check_fitted()
        return np.asarray(self.weights_["fc1.weight"])


class ReluL1CNN(_ReluL1Rule):
    """The article's CNN: conv 3x3 stride 2 SAME, ``feature_maps`` maps of 14x14 -> 10.

    Source: "Sparse coding: a simple exploration" (CNN experiment). The code is the flattened
    feature maps (39,200 units for 200 maps).

    Examples
    --------
    >>> from neurocode.models.relu_l1 import ReluL1CNN
    >>> X, y = ReluL1CNN.conformance_data(100)
    >>> rule = ReluL1CNN(feature_maps=2, iterations=5, random_state=0).fit(X, y)
    >>> print(rule.n_units)
    392
    """

    name = "relu-l1-cnn"
    description = "the article's CNN (3x3/2 conv, 200 maps = 39,200 ReLU units) with L1 on the maps"
    kind = "cnn"
    params = {"feature_maps": Param(int, 200, low=1, high=4096, doc="conv feature maps"),
              **_TRAIN_PARAMS}
    # the article's CNN (old run files: model.kind "cnn"); sky-blue squares
    tags = replace(_ReluL1Rule.tags, sparsity_param="l1", legend_params=("l1",),
                   style=("#56B4E9", "s"), legend_rank=1, article_network="cnn",
                   legacy_kinds=("cnn",), cost=(1.0, 0.04, ("train.iterations",)))
    test_params = {"feature_maps": 2, "iterations": 4, "eval_every": 2, "batch_size": 32,
                   "random_state": 0}

    @property
    def n_units(self) -> int:
        """The code's width: every position of every feature map, ``14 * 14 * feature_maps``."""
        return 14 * 14 * int(self.feature_maps)

    def _build(self, generator):
        return ConvNet(self.feature_maps, generator=generator,
                       sparse_backward=self.sparse_backward)


class ReluL1ConvAE(ReluL1CNN):
    """The article's convolutional sparse autoencoder: the CNN trained jointly with a decoder.

    ``decoder`` is ``"subpixel"`` (the article's final choice) or ``"transposed"`` (its first),
    or ``"original-473bc3f"``: the first exactly as the article's code ran it, bugs included
    (the encoder biases broadcast into 200 offset copies of the reconstruction, all summed in
    the loss; the L1 term counted twice; :mod:`neurocode.models.relu_l1.original_473bc3f`
    says where each sits in the original), to reproduce the article's first table, not to
    use. With it, ``curves_`` also holds the original's training-batch summaries
    ``loss_ae``, ``loss_classifier`` and ``loss_sc`` (``train_loss`` is its ``loss``,
    ``avr_train`` its ``AverageDensity``). Generative: ``decode(codes)`` reconstructs images
    (784 pixels in [0, 1] scale) from hidden codes.

    Examples
    --------
    >>> from neurocode.models.relu_l1 import ReluL1ConvAE
    >>> X, y = ReluL1ConvAE.conformance_data(100)
    >>> rule = ReluL1ConvAE(feature_maps=2, iterations=5, random_state=0).fit(X, y)
    >>> print(rule.decode(rule.encode(X[:2])).shape)
    (2, 784)
    """

    name = "relu-l1-conv-ae"
    description = ("the article's conv sparse autoencoder (CNN + sub-pixel or transposed-conv "
                   "decoder)")
    kind = "conv-ae"
    params = {"decoder": Param(str, "subpixel", choices=DECODERS,
                               doc="decoder: sub-pixel conv (final) or transposed conv (first); "
                                   "original-473bc3f: the first as the article's code ran it, "
                                   "bugs included (a record, not a setting to use)")}
    # the article's conv autoencoder (old run files: model.kind "ae" or "conv-ae"); indigo
    # diamonds
    tags = replace(ReluL1CNN.tags, legend_params=("decoder", "l1"), style=("#332288", "D"),
                   legend_rank=2, article_network="conv-ae", legacy_kinds=("ae", "conv-ae"),
                   cost=(1.0, 0.115, ("train.iterations",)))

    def _build(self, generator):
        return ConvAE(self.feature_maps, decoder=self.decoder, generator=generator,
                      sparse_backward=self.sparse_backward)

    def _decode(self, codes: np.ndarray) -> np.ndarray:
        net: Any = self._net()  # the autoencoder (ConvAE): its decode and maps_shape
        with torch.no_grad():
            h = torch.as_tensor(codes, dtype=torch.float32)
            return net.decode(h.reshape(len(h), *net.maps_shape)).numpy()


RULES = {c.kind: c for c in (ReluL1FC, ReluL1CNN, ReluL1ConvAE)}
