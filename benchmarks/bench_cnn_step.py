"""The CNN and autoencoder training steps against their compute and memory-traffic bounds.

For the CNN and the two convolutional autoencoders (sub-pixel and transposed decoders), one
training step at batch 100 (forward, loss, backward, Adam: the project's
:class:`~neurocode.models.relu_l1.training.ModuleSteps`), measured in one process:

(a) the median ms per step after warm-up;
(b) the compute bound: the FLOPs the step executes (torch's
    :class:`~torch.utils.flop_counter.FlopCounterMode` count, ``bench_train.torch_flops``)
    over a float32 matmul peak measured in the same process (``bench_train.matmul_peak``);
(c) the memory-traffic bound: for every operator the step dispatches, the bytes it must at
    least read and write (its input and output tensors, each distinct element once: a
    broadcast operand counts its stored elements, a view moves nothing, an ``out=`` or
    ``copy_`` destination is written, not read), summed, over a copy bandwidth measured in
    the same process (a 256 MB ``copy_``, best of several; printed beside it, the rate of a
    16 MB copy, the size of the code, which fits this machine's last-level cache);
(d) the per-operator breakdown, grouped as matmul/conv forward, matmul/conv backward,
    elementwise (the loss, the ReLU and its backward, the gradient sums: forward and
    backward), optimizer (zero_grad and Adam) and other (views, scalars and the time spent
    outside the operators: Python, the autograd engine); each with its measured time, its
    FLOP-bound time, its byte-bound time and its roofline bound (per operator the larger of
    the two, summed).

The operators, their tensors and their times come from a
:class:`~torch.utils._python_dispatch.TorchDispatchMode` (the hook ``FlopCounterMode`` uses),
because ``torch.profiler`` (even with ``record_shapes=True``) records the shapes of the
inputs only, not of the outputs, so it cannot say what an operator writes; the profiler's
own self-CPU time per group is printed beside as a cross-check. Each operator's time is the
median over a few steps of the wall time of its call (the mode's own Python work is outside
that interval).

Then the cheap ways to get closer, each timed side by side with the reference in the same
process (interleaved rounds, so a change in the machine's load falls on all of them alike),
and each checked after one step from the same weights on the same batch: its loss and
gradients against the reference's (``torch.testing.assert_close`` at float32 tolerances)
and both against the same step in float64, so that a change of summation order (rounding)
is told from a change of result. The variants: torch's fused Adam (``train.fused_adam``);
``zero_grad(set_to_none=False)`` (the reference already sets them to None); the channels-last
memory format; oneDNN (mkldnn) off for the whole step; an in-place ReLU; the convolution and
its ReLU fused in one oneDNN call; the encoder's convolution (and, for the transposed
decoder, the decoder's) forward and backward on ATen's native kernels, oneDNN off for that
operator only; the L1 term folded into the readout (a row of ones appended to the readout
weights: the code's sum comes out of the readout's matmul, and its gradient, a constant,
joins the readout's input gradient in the same matmul, so neither the separate sum over the
code nor the addition of the two gradients runs); that readout as one autograd function
whose matmuls take the operand order and blocking MKL runs fastest; and the changes that
help, combined. None of these is in ``models/``: they are prototyped here. The L1 term is
already the plain sum of the ReLU's output (``loss_terms``: no ``abs``, no ``sgn``).

    python benchmarks/bench_cnn_step.py [--threads T] [--iterations 20] [--json out.json]

On a shared machine the absolute times move with the load (printed at the start): read the
ratios, measured within the one process.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import conv_flop_count, flop_registry

from neurocode._malloc import tune_allocator
from neurocode.models.relu_l1 import build_model, loss_terms
from neurocode.models.relu_l1.nets import _same_pad_stride2, clip_by_norm
from neurocode.models.relu_l1.training import ModuleSteps

try:  # run as a script: benchmarks/ is on the path
    import bench_train
except ImportError:  # imported from elsewhere (the tests): load the module beside this one
    _spec = importlib.util.spec_from_file_location(
        "bench_train", Path(__file__).resolve().with_name("bench_train.py"))
    assert _spec is not None and _spec.loader is not None
    bench_train = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(bench_train)

BATCH, L1, LR = 100, 1e-4, 1e-3
MODELS = (("cnn", None), ("conv-ae", "subpixel"), ("conv-ae", "transposed"))
GROUPS = ("matmul/conv forward", "matmul/conv backward", "elementwise", "optimizer", "other")

#: operators that allocate or look at metadata only: no data moves
NO_DATA = frozenset({"empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided",
                     "resize_", "set_", "lift_fresh", "_record_function_enter_new",
                     "_record_function_exit"})
#: in-place operators that write ``self`` without reading it
WRITE_ONLY_SELF = frozenset({"copy_", "fill_", "zero_", "normal_", "uniform_", "random_",
                             "bernoulli_", "exponential_", "_foreach_copy_", "_foreach_zero_"})
#: (operator, argument) that the schema marks as written but that the kernel only reads
#: (the fused Adam writes its gradients only when it unscales them by a ``grad_scale``)
READ_ONLY_ARGS = frozenset({("_fused_adam_", "grads"), ("_fused_adamw_", "grads")})
#: matmul-like operators (besides every name with "conv" in it: the convolutions)
MATMULS = frozenset({"mm", "addmm", "bmm", "baddbmm", "addbmm", "matmul", "linear", "mv",
                     "addmv", "dot", "einsum", "_convolution_pointwise"})


# -- the machine ---------------------------------------------------------------------------
def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def copy_bandwidth(nbytes: int = 256 * 2**20, repeats: int = 5) -> float:
    """Best-of GB/s of a float32 ``copy_`` of ``nbytes`` (read once plus written once)."""
    src = torch.rand(nbytes // 4)
    dst = torch.empty_like(src)
    dst.copy_(src)  # warm-up: the pages are touched
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        dst.copy_(src)
        best = min(best, time.perf_counter() - t)
    return 2 * src.numel() * 4 / best / 1e9


# -- what an operator reads and writes -------------------------------------------------------
def tensor_bytes(t: torch.Tensor) -> int:
    """Bytes of the distinct elements a tensor covers: its shape, less the broadcast
    (stride-0) dimensions, times the element size (a strided view of non-overlapping
    elements)."""
    if t.numel() == 0:
        return 0
    if t.layout != torch.strided:
        return t.numel() * t.element_size()
    n = 1
    for size, stride in zip(t.shape, t.stride(), strict=True):
        if stride != 0:
            n *= size
    return n * t.element_size()


def _key(t: torch.Tensor) -> tuple:
    return (t.data_ptr(), tuple(t.shape), tuple(t.stride()), t.dtype)


def _tensors(value: Any) -> list[torch.Tensor]:
    return [v for v in tree_flatten(value)[0] if isinstance(v, torch.Tensor)]


def op_name(func: Any) -> str:
    """An operator's bare name: ``aten.add_.Tensor`` -> ``add_``."""
    return func._schema.name.split("::", 1)[-1]


def op_traffic(func: Any, args: tuple, kwargs: dict, out: Any) -> tuple[int, int]:
    """Bytes an ATen operator must at least read and write: ``(read, written)``.

    Every tensor argument is read and every output written, each distinct tensor once and at
    :func:`tensor_bytes` (a broadcast operand counts its stored elements); a view or an
    allocation moves nothing; an argument the schema marks as written is written, and is also
    read unless it is an ``out=`` argument or the ``self`` of an operator that overwrites it
    (``copy_``, ``fill_``, ``zero_``, the random fills).

    Parameters
    ----------
    func : torch._ops.OpOverload
        The operator, as a dispatch mode sees it.
    args, kwargs : tuple, dict
        Its arguments.
    out : object
        What it returned.

    Returns
    -------
    tuple of int
        Bytes read, bytes written.

    Examples
    --------
    >>> a, b = torch.ones(10, 10), torch.ones(10, 10)
    >>> op_traffic(torch.ops.aten.add.Tensor, (a, b), {}, a + b)
    (800, 400)
    """
    name = op_name(func)
    if func.is_view or name in NO_DATA:
        return 0, 0
    schema = func._schema
    values: list[tuple[Any, Any]] = []
    for i, arg in enumerate(schema.arguments):
        if i < len(args):
            values.append((arg, args[i]))
        elif arg.name in kwargs:
            values.append((arg, kwargs[arg.name]))
    reads: dict[tuple, int] = {}
    writes: dict[tuple, int] = {}
    for arg, value in values:
        written = (arg.alias_info is not None and arg.alias_info.is_write
                   and (name, arg.name) not in READ_ONLY_ARGS)
        overwritten = written and (arg.name == "out" or arg.kwarg_only
                                   or (arg.name == "self" and name in WRITE_ONLY_SELF))
        for t in _tensors(value):
            if written:
                writes[_key(t)] = tensor_bytes(t)
            if not overwritten:
                reads[_key(t)] = tensor_bytes(t)
    for t in _tensors(out):
        writes.setdefault(_key(t), tensor_bytes(t))
    return sum(reads.values()), sum(writes.values())


def op_flops(func: Any, args: tuple, kwargs: dict, out: Any) -> int:
    """FLOPs of an operator as :class:`~torch.utils.flop_counter.FlopCounterMode` counts them
    (matmuls and convolutions; 0 for the rest), oneDNN's fused convolution counted as the
    convolution it computes."""
    if op_name(func) == "_convolution_pointwise":  # oneDNN's fused convolution: a forward
        return int(conv_flop_count(list(args[0].shape), list(args[1].shape), list(out.shape)))
    count = flop_registry.get(func._overloadpacket)
    return int(count(*args, **kwargs, out_val=out)) if count is not None else 0


def is_matmul(name: str) -> bool:
    """A matmul or a convolution (forward or backward), by its operator name."""
    name = name.split("::", 1)[-1]
    return name in MATMULS or "conv" in name


def group(name: str, phase: str, no_data: bool) -> str:
    """The breakdown's group of an operator run in ``phase`` (forward, backward, optimizer)."""
    if phase == "optimizer":
        return "optimizer"
    if is_matmul(name):
        return f"matmul/conv {phase}"
    if no_data:
        return "other"
    return "elementwise"


@dataclass
class OpRecord:
    """One dispatched operator: its name, the phase it ran in, its traffic, FLOPs and time."""

    name: str
    phase: str
    read: int
    written: int
    flops: int
    seconds: float
    no_data: bool


class OpLog(TorchDispatchMode):
    """Records every ATen operator dispatched under it (:class:`OpRecord`); ``phase`` is the
    caller's label for what runs now."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[OpRecord] = []
        self.phase = "forward"

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        """Run the operator, timing the call, and record it."""
        kwargs = kwargs or {}
        t = time.perf_counter()
        out = func(*args, **kwargs)
        seconds = time.perf_counter() - t
        read, written = op_traffic(func, args, kwargs, out)
        name = op_name(func)
        self.records.append(OpRecord(
            name, self.phase, read, written, op_flops(func, args, kwargs, out), seconds,
            func.is_view or name in NO_DATA or func.namespace == "profiler"))
        return out


# -- the variants: the reference step and the cheap changes, prototyped ---------------------
class _ConvReLU(torch.autograd.Function):
    """``ReLU(conv_{3x3/2}(x))`` in one oneDNN call (its ReLU post-op); the backward is torch's
    ReLU and convolution backward."""

    @staticmethod
    def forward(ctx, x, w, b):
        h = torch.ops.mkldnn._convolution_pointwise(x, w, b, [0, 0], [2, 2], [1, 1], 1, "relu",
                                                    [], "")
        ctx.save_for_backward(x, w, h)
        return h

    @staticmethod
    def backward(ctx, gh):
        x, w, h = ctx.saved_tensors
        gz = torch.ops.aten.threshold_backward(gh, h, 0)
        gx, gw, gb = torch.ops.aten.convolution_backward(
            gz, x, w, [w.shape[0]], [2, 2], [0, 0], [1, 1], False, [0, 0], 1,
            [ctx.needs_input_grad[0], True, True])
        return gx, gw, gb


@contextlib.contextmanager
def onednn_off() -> Iterator[None]:
    """oneDNN (mkldnn) off for a block, its other flags untouched: the convolutions run on
    ATen's native CPU kernels."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


class _NativeConv(torch.autograd.Function):
    """A convolution (``transposed``: a transposed one) whose forward and backward both run
    with oneDNN off, on ATen's native kernels; padding 0, dilation 1, one group."""

    @staticmethod
    def forward(ctx, x, w, b, stride, transposed):
        ctx.stride, ctx.transposed = stride, transposed
        ctx.save_for_backward(x, w)
        with onednn_off():
            conv = F.conv_transpose2d if transposed else F.conv2d
            return conv(x, w, b, stride=stride)

    @staticmethod
    def backward(ctx, gy):
        x, w = ctx.saved_tensors
        n_bias = w.shape[1] if ctx.transposed else w.shape[0]
        with onednn_off():
            gx, gw, gb = torch.ops.aten.convolution_backward(
                gy, x, w, [n_bias], [ctx.stride] * 2, [0, 0], [1, 1], ctx.transposed, [0, 0],
                1, [ctx.needs_input_grad[0], True, True])
        return gx, gw, gb, None, None


#: rows of the code's gradient per matmul in :class:`_Readout`'s backward: MKL writes the
#: (100, 39,200) product of a (100, 11) and an (11, 39,200) matrix 3-5x faster in blocks of
#: 20 rows than in one call (the same bits: each element is the same 11-term dot product)
READOUT_ROWS = 20


class _Readout(torch.autograd.Function):
    """``(h W^T + b, sum(h))`` from one matmul with a row of ones appended to ``W``, in the
    operand order MKL runs fastest (``W1 h^T``; the weight gradient ``g^T h``; the code's
    gradient ``g1 W1`` by blocks of :data:`READOUT_ROWS` rows); the code's gradient takes the
    sum's constant in the same matmul."""

    @staticmethod
    def forward(ctx, h, w, b):
        w1 = torch.cat([w, w.new_ones(1, w.shape[1])])
        z = torch.mm(w1, h.t())  # (11, batch)
        ctx.save_for_backward(h, w1)
        return z[:-1].t() + b, z[-1].sum()

    @staticmethod
    def backward(ctx, g, gs):
        h, w1 = ctx.saved_tensors
        g = torch.zeros(h.shape[0], w1.shape[0] - 1, dtype=h.dtype) if g is None else g
        gs = torch.zeros((), dtype=h.dtype) if gs is None else gs
        g1 = torch.cat([g, gs.expand(g.shape[0], 1)], dim=1)
        gh = h.new_empty(h.shape)
        for i in range(0, h.shape[0], READOUT_ROWS):
            torch.mm(g1[i:i + READOUT_ROWS], w1, out=gh[i:i + READOUT_ROWS])
        return gh, torch.mm(g.t(), h), g.sum(0)


def _has_conv_pointwise() -> bool:
    try:
        torch.ops.mkldnn._convolution_pointwise.default  # noqa: B018
    except (AttributeError, RuntimeError):
        return False
    return torch.backends.mkldnn.is_available()


@dataclass(frozen=True)
class Variant:
    """A way of taking the step: the reference (all defaults) or one or more cheap changes."""

    name: str
    fused_adam: bool = False
    set_to_none: bool = True
    channels_last: bool = False
    mkldnn: bool = True
    inplace_relu: bool = False
    conv_relu: bool = False
    l1_fold: bool = False
    readout: bool = False
    native_encoder: bool = False
    native_decoder: bool = False

    @property
    def prototype(self) -> bool:
        """Whether the forward is prototyped here rather than the model's own."""
        return (self.inplace_relu or self.conv_relu or self.l1_fold or self.readout
                or self.native_encoder or self.native_decoder)


REFERENCE = Variant("reference (ModuleSteps)")


def variants(decoder: str | None = None) -> list[Variant]:
    """The reference and the changes tried on a network with ``decoder`` (None: the CNN):
    the fused convolution where oneDNN offers it, the decoder on the native kernels for the
    transposed one (the sub-pixel decoder's convolution runs ~5x slower there). The last
    two are the combination of the changes that help, with torch's Adam and the fused one."""
    out = [REFERENCE, Variant("fused Adam", fused_adam=True),
           Variant("zero_grad(set_to_none=False)", set_to_none=False),
           Variant("channels_last", channels_last=True),
           Variant("oneDNN off (all)", mkldnn=False),
           Variant("in-place ReLU", inplace_relu=True)]
    if _has_conv_pointwise():
        out.append(Variant("conv+ReLU fused (oneDNN)", conv_relu=True))
    out += [Variant("encoder conv, native kernels", native_encoder=True)]
    best = {"readout": True, "native_encoder": True}
    if decoder == "transposed":
        out.append(Variant("decoder conv, native kernels", native_decoder=True))
        best["native_decoder"] = True
    out += [Variant("L1 folded into readout", l1_fold=True),
            Variant("readout function (+L1 fold)", readout=True),
            Variant("combined, plain Adam", **best),
            Variant("combined + fused Adam", fused_adam=True, **best)]
    return out


class Stepper:
    """One network (seed 0) stepped as ``variant`` says: :meth:`forward` gives the loss,
    then ``zero_grad``, ``backward`` and the Adam ``step`` (:meth:`step` runs all four)."""

    def __init__(self, kind: str, decoder: str | None, variant: Variant,
                 dtype: torch.dtype = torch.float32) -> None:
        self.variant = variant
        model = build_model(kind, decoder=decoder, seed=0).to(dtype)
        if variant.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.steps = ModuleSteps(model, L1, LR, fused_adam=variant.fused_adam)
        self.model, self.opt = model, self.steps.opt

    @contextlib.contextmanager
    def flags(self) -> Iterator[None]:
        """The backend flags of the variant (oneDNN on or off) around a phase."""
        if self.variant.mkldnn:
            yield
        else:
            with onednn_off():
                yield

    def _prototype_forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        v, m = self.variant, self.model
        conv = m.encoder.conv
        xpad = _same_pad_stride2(x.reshape(x.shape[0], 1, 28, 28))
        if v.conv_relu:
            maps = _ConvReLU.apply(xpad, conv.weight, conv.bias)
        else:
            z = (_NativeConv.apply(xpad, conv.weight, conv.bias, 2, False) if v.native_encoder
                 else conv(xpad))
            maps = z.relu_() if v.inplace_relu else F.relu(z)
        h = maps.reshape(maps.shape[0], -1)
        if v.readout:
            logits, code_sum = _Readout.apply(h, m.out.weight, m.out.bias)
        elif v.l1_fold:
            w1 = torch.cat([m.out.weight, m.out.weight.new_ones(1, h.shape[1])])
            b1 = torch.cat([m.out.bias, m.out.bias.new_zeros(1)])
            z1 = F.linear(h, w1, b1)
            logits, code_sum = z1[:, :-1], z1[:, -1].sum()
        else:
            logits, code_sum = m.out(h), h.sum()
        total = F.cross_entropy(logits, y) + L1 * code_sum
        if hasattr(m, "decode"):
            if v.native_decoder and m.decoder_kind == "transposed":
                w = clip_by_norm(m.dec.weight, 1.0, dim=0)
                y = _NativeConv.apply(maps, w, m.dec.bias, 2, True)[:, :, :28, :28]
                recon = y.reshape(y.shape[0], -1)
            else:
                recon = m.decode(maps)
            total = total + (recon - x.reshape(x.shape[0], -1)).pow(2).sum(dim=1).mean()
        return total

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The step's loss on a batch (the model's own forward and :func:`loss_terms` unless
        the variant prototypes its own)."""
        with self.flags():
            if self.variant.prototype:
                return self._prototype_forward(x, y)
            out = self.model(x)
            return loss_terms(self.model, out, x, y, L1)["total"]

    def zero_grad(self) -> None:
        """Clear the gradients (to None unless the variant keeps them)."""
        self.opt.zero_grad(set_to_none=self.variant.set_to_none)

    def backward(self, total: torch.Tensor) -> None:
        """Backpropagate the loss."""
        with self.flags():
            total.backward()

    def step(self, x: torch.Tensor, y: torch.Tensor, log: OpLog | None = None) -> None:
        """One training step, the phases labelled in ``log`` if given."""
        if log is not None:
            log.phase = "forward"
        total = self.forward(x, y)
        if log is not None:
            log.phase = "optimizer"
        self.zero_grad()
        if log is not None:
            log.phase = "backward"
        self.backward(total)
        if log is not None:
            log.phase = "optimizer"
        self.opt.step()


def batch(n: int = BATCH, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random batch: images in [0, 1) and labels."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 784, generator=g), torch.randint(0, 10, (n,), generator=g)


# -- (a) the timing, interleaved --------------------------------------------------------------
def time_interleaved(steppers: dict[str, Stepper], iterations: int, per_round: int = 2,
                     warmup: int = 3) -> dict[str, list[float]]:
    """ms of each timed step of each stepper: ``per_round`` steps of each in turn, until each
    has ``iterations``, after ``warmup`` untimed steps of each."""
    x, y = batch()
    for st in steppers.values():
        for _ in range(warmup):
            st.step(x, y)
    times: dict[str, list[float]] = {name: [] for name in steppers}
    while any(len(t) < iterations for t in times.values()):
        for name, st in steppers.items():
            for _ in range(min(per_round, iterations - len(times[name]))):
                t = time.perf_counter()
                st.step(x, y)
                times[name].append(1000 * (time.perf_counter() - t))
    return times


# -- (b)-(d) the bounds and the breakdown -------------------------------------------------------
def op_steps(st: Stepper, repeats: int = 7) -> tuple[list[OpRecord], float]:
    """The operators of one step, each with the median time of ``repeats`` logged steps, and
    the median ms of as many plain steps, each taken just before a logged one."""
    x, y = batch()
    runs, plain = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        st.step(x, y)
        plain.append(1000 * (time.perf_counter() - t))
        with OpLog() as log:
            st.step(x, y, log)
        runs.append(log.records)
    names = [r.name for r in runs[0]]
    if any([r.name for r in run] != names for run in runs[1:]):
        raise RuntimeError("the step dispatched different operators from one run to the next")
    return [OpRecord(r.name, r.phase, r.read, r.written, r.flops,
                     statistics.median(run[i].seconds for run in runs), r.no_data)
            for i, r in enumerate(runs[0])], statistics.median(plain)


@dataclass
class Bounds:
    """Measured time and bounds (ms) of a set of operators, with their FLOPs and bytes."""

    calls: int = 0
    measured: float = 0.0
    flops: int = 0
    nbytes: int = 0
    flop_ms: float = 0.0
    byte_ms: float = 0.0
    roofline_ms: float = 0.0
    ops: dict[str, Bounds] = field(default_factory=dict)

    def add(self, r: OpRecord, peak: float, bandwidth: float) -> None:
        """Add one operator (``peak`` in GFLOP/s, ``bandwidth`` in GB/s)."""
        f_ms, b_ms = r.flops / peak / 1e6, (r.read + r.written) / bandwidth / 1e6
        self.calls += 1
        self.measured += 1000 * r.seconds
        self.flops += r.flops
        self.nbytes += r.read + r.written
        self.flop_ms += f_ms
        self.byte_ms += b_ms
        self.roofline_ms += max(f_ms, b_ms)

    def as_dict(self) -> dict[str, Any]:
        """Plain numbers, the operators' (if any) under ``"ops"``."""
        d = {k: getattr(self, k) for k in ("calls", "measured", "flops", "nbytes", "flop_ms",
                                           "byte_ms", "roofline_ms")}
        if self.ops:
            d["ops"] = {k: v.as_dict() for k, v in self.ops.items()}
        return d


def breakdown(records: list[OpRecord], peak: float, bandwidth: float) -> dict[str, Bounds]:
    """Bounds per group (:data:`GROUPS`), each with its operators under ``ops`` (by name
    and phase), and ``"total"``."""
    out = {g: Bounds() for g in (*GROUPS, "total")}
    for r in records:
        g = group(r.name, r.phase, r.no_data)
        key = f"{r.name} ({r.phase})"
        out[g].add(r, peak, bandwidth)
        out[g].ops.setdefault(key, Bounds()).add(r, peak, bandwidth)
        out["total"].add(r, peak, bandwidth)
    return out


def profiler_groups(st: Stepper, repeats: int = 3) -> dict[str, float]:
    """``torch.profiler``'s self-CPU ms per group (median over ``repeats`` steps): the
    cross-check of the dispatch mode's times. Each event is placed in the phase whose range
    it starts in; events outside ATen (autograd nodes, the phases' own ranges) go to other."""
    from torch.profiler import ProfilerActivity, profile, record_function

    x, y = batch()
    per_step: list[dict[str, float]] = []
    for _ in range(repeats):
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            with record_function("phase:forward"):
                total = st.forward(x, y)
            with record_function("phase:optimizer"):
                st.zero_grad()
            with record_function("phase:backward"):
                st.backward(total)
            with record_function("phase:optimizer"):
                st.opt.step()
        events = list(prof.events())
        ranges = [(e.time_range.start, e.time_range.end, e.name.split(":", 1)[1])
                  for e in events if e.name.startswith("phase:")]
        sums = dict.fromkeys(GROUPS, 0.0)
        for e in events:
            start = e.time_range.start
            phase = next((p for a, b, p in ranges if a <= start <= b), "forward")
            aten = e.name.startswith("aten::")
            name = e.name.split("::", 1)[-1]
            g = group(name, phase, not aten or name in NO_DATA or name in _VIEW_NAMES)
            sums[g] += e.self_cpu_time_total / 1000
        per_step.append(sums)
    return {g: statistics.median(s[g] for s in per_step) for g in GROUPS}


#: view and metadata operators by name, for the profiler's events (which carry no schema)
_VIEW_NAMES = frozenset({"view", "reshape", "t", "transpose", "permute", "expand", "as_strided",
                         "detach", "alias", "select", "slice", "narrow", "unsqueeze", "squeeze",
                         "_unsafe_view", "unflatten", "flatten", "split", "chunk", "unbind",
                         "_reshape_alias", "expand_as", "view_as", "_local_scalar_dense",
                         "item", "to", "numpy_T", "contiguous", "resolve_conj", "resolve_neg"})


# -- the checks: one step of a variant against the reference and against float64 ------------
def one_step(kind: str, decoder: str | None, variant: Variant,
             dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """Loss, gradients and weights after one Adam step, from seed 0 on the fixed batch."""
    st = Stepper(kind, decoder, variant, dtype)
    x, y = batch()
    x = x.to(dtype)
    total = st.forward(x, y)
    st.zero_grad()
    st.backward(total)
    out = {"loss": total.detach().clone()}
    for name, p in st.model.named_parameters():
        assert p.grad is not None
        out[f"grad {name}"] = p.grad.detach().clone()
    st.opt.step()
    for name, p in st.model.named_parameters():
        out[f"weight {name}"] = p.detach().clone()
    return out


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """Normwise relative difference ``max|a - b| / max|b|`` (in float64)."""
    a, b = a.double(), b.double()
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def check(result: dict[str, torch.Tensor], reference: dict[str, torch.Tensor],
          exact: dict[str, torch.Tensor]) -> dict[str, Any]:
    """How one step of a variant compares with the reference's and with float64's.

    ``same_bits``: loss and gradients equal bit for bit; ``within_float32_tol``:
    ``torch.testing.assert_close`` of each (float32 tolerances) passes; ``err`` and
    ``err_reference``: the largest normwise relative distance of the variant's and the
    reference's loss and gradients from float64's; ``rounding``: the variant is no farther
    from float64 than twice the reference's distance (plus 1e-6), a change of summation
    order, not of result; ``weights_max_abs_diff``: after the Adam step.
    """
    keys = [k for k in reference if not k.startswith("weight ")]
    same = all(torch.equal(result[k], reference[k]) for k in keys)
    try:
        for k in keys:
            torch.testing.assert_close(result[k], reference[k], msg=lambda m, k=k: f"{k}: {m}")
        close, why = True, ""
    except AssertionError as exc:
        close, why = False, str(exc).splitlines()[0]
    err = max(_rel(result[k], exact[k]) for k in keys)
    err_ref = max(_rel(reference[k], exact[k]) for k in keys)
    weights = max((result[k] - reference[k]).abs().max().item()
                  for k in reference if k.startswith("weight "))
    return {"same_bits": same, "within_float32_tol": close, "first_mismatch": why,
            "err": err, "err_reference": err_ref, "rounding": err <= 2 * err_ref + 1e-6,
            "weights_max_abs_diff": weights}


# -- the readout's matmuls on their own ----------------------------------------------------
def _rows_mm(a: torch.Tensor, b: torch.Tensor, rows: int) -> torch.Tensor:
    out = a.new_empty(a.shape[0], b.shape[1])
    for i in range(0, a.shape[0], rows):
        torch.mm(a[i:i + rows], b, out=out[i:i + rows])
    return out


def _rows_addmm(at: torch.Tensor, b: torch.Tensor, rows: int) -> torch.Tensor:
    out = torch.mm(at[:, :rows], b[:rows])
    for i in range(rows, b.shape[0], rows):
        out.addmm_(at[:, i:i + rows], b[i:i + rows])
    return out


def readout_forms(peak: float, bandwidth: float, repeats: int = 15) -> list[dict[str, Any]]:
    """The three matmuls of the 39,200 x 10 readout, each in torch's operand order and in
    others, median ms against the product's byte bound (the traffic of its leanest form:
    their FLOPs are far below it). ``mbytes``: the traffic of the form itself, every
    operator it runs."""
    x = torch.rand(BATCH, 39200)
    w = torch.randn(10, 39200)
    b = torch.randn(10)
    g = torch.randn(BATCH, 10)
    forms: list[tuple[str, str, Callable[[], torch.Tensor]]] = [
        ("forward h W^T + b", "addmm(b, h, W.t()) (torch's linear)",
         lambda: torch.addmm(b, x, w.t())),
        ("forward h W^T + b", "mm(W, h.t()).t() + b", lambda: torch.mm(w, x.t()).t() + b),
        ("weight grad g^T h", "mm(g.t(), h) (torch's)", lambda: torch.mm(g.t(), x)),
        ("weight grad g^T h", "mm(h.t(), g).t()", lambda: torch.mm(x.t(), g).t()),
        ("weight grad g^T h", f"addmm_ over blocks of {READOUT_ROWS} rows",
         lambda: _rows_addmm(g.t(), x, READOUT_ROWS)),
        ("input grad g W", "mm(g, W) (torch's)", lambda: torch.mm(g, w)),
        ("input grad g W", "mm(W.t(), g.t()).t().contiguous()",
         lambda: torch.mm(w.t(), g.t()).t().contiguous()),
        ("input grad g W", f"mm by blocks of {READOUT_ROWS} rows, out=",
         lambda: _rows_mm(g, w, READOUT_ROWS)),
    ]
    rows = []
    for what, form, fn in forms:
        with OpLog() as log:
            fn()
        flops = sum(r.flops for r in log.records)
        nbytes = sum(r.read + r.written for r in log.records)
        fn()
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append(1000 * (time.perf_counter() - t))
        rows.append({"product": what, "form": form, "ms": statistics.median(ts),
                     "best_ms": min(ts), "flop_ms": flops / peak / 1e6,
                     "byte_ms": nbytes / bandwidth / 1e6, "mbytes": nbytes / 1e6})
    for row in rows:  # the product's bound: its leanest form's traffic
        row["product_byte_ms"] = min(r["byte_ms"] for r in rows
                                     if r["product"] == row["product"])
    return rows


# -- the report ----------------------------------------------------------------------------
def _label(kind: str, decoder: str | None) -> str:
    return kind if decoder is None else f"{kind} ({decoder})"


def run_model(kind: str, decoder: str | None, iterations: int, peak: float, bandwidth: float,
              bandwidth_small: float) -> dict[str, Any]:
    """Everything measured for one network: the variants' times and checks, the bounds and
    the breakdowns of the reference and of the combined variant."""
    vs = variants(decoder)
    steppers = {v.name: Stepper(kind, decoder, v) for v in vs}
    times = time_interleaved(steppers, iterations)
    ref_ms = statistics.median(times[REFERENCE.name])
    reference = one_step(kind, decoder, REFERENCE)
    exact = one_step(kind, decoder, REFERENCE, torch.float64)
    rows = []
    for v in vs:
        ms = statistics.median(times[v.name])
        rows.append({"variant": v.name, "ms": ms, "best_ms": min(times[v.name]),
                     "speedup": ref_ms / ms,
                     **check(one_step(kind, decoder, v), reference, exact)})
    flops = bench_train.torch_flops(build_model(kind, decoder=decoder, seed=0), BATCH)["total"]
    result: dict[str, Any] = {"model": _label(kind, decoder), "flops_torch": flops,
                              "ms": ref_ms, "variants": rows, "breakdowns": {}}
    for name in (REFERENCE.name, vs[-2].name):
        records, ms = op_steps(steppers[name])
        bd = breakdown(records, peak, bandwidth)
        outside = ms - bd["total"].measured
        bd["other"].measured += outside
        result["breakdowns"][name] = {
            "ms": ms, "outside_ops_ms": outside,
            "groups": {g: b.as_dict() for g, b in bd.items()},
            "profiler_ms": profiler_groups(steppers[name]),
            "flops": bd["total"].flops, "bytes": bd["total"].nbytes,
            "compute_bound_ms": bd["total"].flops / peak / 1e6,
            "memory_bound_ms": bd["total"].nbytes / bandwidth / 1e6,
            "memory_bound_small_copy_ms": bd["total"].nbytes / bandwidth_small / 1e6,
            "roofline_ms": bd["total"].roofline_ms}
    return result


def print_model(r: dict[str, Any], top: int = 8) -> None:
    """The tables of one network."""
    print(f"\n=== {r['model']}: one step at batch {BATCH} (forward + loss + backward + Adam)")
    for name, b in r["breakdowns"].items():
        counted = (f" (FlopCounterMode over the step: {r['flops_torch'] / 1e6:.0f})"
                   if name == REFERENCE.name else "")
        print(f"\n{name}: {b['ms']:.2f} ms/step (median); executed {b['flops'] / 1e6:.0f} MFLOP"
              f"{counted}, {b['bytes'] / 1e6:.0f} MB at least moved")
        print(f"  compute bound {b['compute_bound_ms']:.2f} ms ({b['ms'] / b['compute_bound_ms']:.1f}x"
              f" off), memory bound {b['memory_bound_ms']:.2f} ms "
              f"({b['ms'] / b['memory_bound_ms']:.1f}x off; at the 16 MB copy's rate "
              f"{b['memory_bound_small_copy_ms']:.2f} ms), roofline (per op max) "
              f"{b['roofline_ms']:.2f} ms ({b['ms'] / b['roofline_ms']:.1f}x off)")
        print(f"  {'group':<22}{'ms':>8}{'profiler':>10}{'MFLOP':>8}{'MB':>7}{'FLOP-bd':>9}"
              f"{'byte-bd':>9}{'roofline':>9}{'x off':>7}")
        for g in GROUPS:
            d = b["groups"][g]
            off = d["measured"] / d["roofline_ms"] if d["roofline_ms"] > 0 else float("nan")
            print(f"  {g:<22}{d['measured']:>8.2f}{b['profiler_ms'][g]:>10.2f}"
                  f"{d['flops'] / 1e6:>8.0f}{d['nbytes'] / 1e6:>7.0f}{d['flop_ms']:>9.2f}"
                  f"{d['byte_ms']:>9.2f}{d['roofline_ms']:>9.2f}{off:>7.1f}")
        print(f"  (other includes {b['outside_ops_ms']:.2f} ms outside the operators)")
        ops = [(g, k, d) for g in GROUPS for k, d in b["groups"][g].get("ops", {}).items()]
        ops.sort(key=lambda t: -t[2]["measured"])
        print(f"  top operators: {'':<28}{'calls':>6}{'ms':>8}{'MB':>7}{'FLOP-bd':>9}"
              f"{'byte-bd':>9}{'x off':>7}")
        for _, k, d in ops[:top]:
            off = d["measured"] / d["roofline_ms"] if d["roofline_ms"] > 0 else float("nan")
            print(f"    {k:<39}{d['calls']:>6}{d['measured']:>8.2f}{d['nbytes'] / 1e6:>7.1f}"
                  f"{d['flop_ms']:>9.2f}{d['byte_ms']:>9.2f}{off:>7.1f}")
    print(f"\n  {'variant':<32}{'ms':>8}{'best':>8}{'speedup':>9}{'bits':>6}{'f32 tol':>8}"
          f"{'err':>10}{'err ref':>10}{'rounding':>9}{'w diff':>9}")
    for v in r["variants"]:
        print(f"  {v['variant']:<32}{v['ms']:>8.2f}{v['best_ms']:>8.2f}{v['speedup']:>9.2f}"
              f"{'=' if v['same_bits'] else '~':>6}{'ok' if v['within_float32_tol'] else 'NO':>8}"
              f"{v['err']:>10.1e}{v['err_reference']:>10.1e}"
              f"{'yes' if v['rounding'] else 'NO':>9}{v['weights_max_abs_diff']:>9.1e}")


def _json_path(path: str | None) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"--json {path!r} is a directory: give a file name, e.g. "
                         f"{path.rstrip('/')}/cnn_step.json")
    if not p.parent.is_dir():
        raise ValueError(f"--json {path!r}: the folder {str(p.parent)!r} does not exist; "
                         "create it or give another path")
    return p


def _write_json(path: Path, info: dict[str, Any]) -> None:
    """Write atomically: a temporary file beside ``path``, then renamed over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(info, f, indent=2)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's file is private: the usual mode instead
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> None:
    """Measure and print; ``--json`` also writes the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=20,
                    help="timed steps of each variant (interleaved in rounds of 2)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: torch's own, the machine's cores); on a "
                         "shared machine 1 avoids threads spinning against other jobs")
    ap.add_argument("--models", default="cnn,conv-ae-subpixel,conv-ae-transposed",
                    help="comma-separated subset of cnn, conv-ae-subpixel, conv-ae-transposed")
    ap.add_argument("--json", default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    if args.iterations < 1 or (args.threads is not None and args.threads < 1):
        ap.error(f"--iterations and --threads must be >= 1, got {args.iterations} and "
                 f"{args.threads}")
    names = {"cnn": MODELS[0], "conv-ae-subpixel": MODELS[1], "conv-ae-transposed": MODELS[2]}
    chosen = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in names]
    if unknown or not chosen:
        ap.error(f"--models: unknown {', '.join(unknown) or '(none given)'}; choose from "
                 f"{', '.join(names)}")
    try:
        json_path = _json_path(args.json)
    except ValueError as exc:
        ap.error(str(exc))
    malloc = tune_allocator()  # as neurocode's commands do
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    peak = bench_train.matmul_peak()
    bw = copy_bandwidth()
    bw_small = copy_bandwidth(16 * 2**20, repeats=20)
    info: dict[str, Any] = {
        "cpu": cpu_model(), "cpus": os.cpu_count(), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "load_average_at_start": list(load),
        "allocator_tuning": malloc, "matmul_peak_gflops": peak, "copy_256mb_gbs": bw,
        "copy_16mb_gbs": bw_small, "iterations": args.iterations}
    print(f"{info['cpu']}, {info['cpus']} CPUs; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; load average at start "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; allocator tuned: {bool(malloc)}")
    print(f"float32 matmul peak {peak:.1f} GFLOP/s; copy bandwidth {bw:.1f} GB/s (256 MB), "
          f"{bw_small:.1f} GB/s (16 MB)")
    print("\nThe readout's matmuls alone (h: 100 x 39,200, W: 10 x 39,200, g: 100 x 10):")
    rows = readout_forms(peak, bw)
    info["readout_forms"] = rows
    print(f"  {'product':<20}{'form':<38}{'ms':>7}{'best':>7}{'MB':>6}{'byte-bd':>9}{'x off':>7}")
    for row in rows:
        print(f"  {row['product']:<20}{row['form']:<38}{row['ms']:>7.2f}{row['best_ms']:>7.2f}"
              f"{row['mbytes']:>6.1f}{row['product_byte_ms']:>9.2f}"
              f"{row['ms'] / row['product_byte_ms']:>7.1f}")
    info["models"] = []
    for m in chosen:
        kind, decoder = names[m]
        r = run_model(kind, decoder, args.iterations, peak, bw, bw_small)
        info["models"].append(r)
        print_model(r)
    info["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else []
    print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in info['load_average_at_end'])}"
          "\nms: median of the timed steps, interleaved with the other variants; bits: = same "
          "bits as the reference, ~ not; f32 tol: assert_close to the reference's loss and "
          "gradients;\nerr / err ref: largest relative distance of the variant's / the "
          "reference's loss and gradients from the same step in float64; rounding: err <= "
          "2 err ref + 1e-6;\nw diff: largest weight difference from the reference after the "
          "Adam step")
    if json_path is not None:
        _write_json(json_path, info)


if __name__ == "__main__":
    main()
