"""The FLOPs behind bench_train's share of the matmul peak, against torch's own count.

torch's FlopCounterMode counts the matmuls and convolutions one forward + loss + backward
actually dispatches; neurocode.models.relu_l1.flops_per_iteration, bench_train's closed form,
must equal it for every network (no input-gradient pass for the first layer, which reads the
data: autograd skips it).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from neurocode.models.relu_l1 import build_model, flops_per_iteration, loss_terms

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_train.py"
_spec = importlib.util.spec_from_file_location("bench_train_under_test", BENCH)
bench_train = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_train)

@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small matmuls: on a shared 2-core machine torch's threads spin against each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


MODELS = [("fc", None), ("cnn", None), ("conv-ae", "subpixel"), ("conv-ae", "transposed")]
BATCH = 4


def counted_by_torch(kind, decoder, batch=BATCH):
    """FlopCounterMode over a step written here (not bench_train's), and the model."""
    torch.manual_seed(0)
    model = build_model(kind, decoder=decoder, seed=0, feature_maps=8)
    x, y = torch.rand(batch, 784), torch.randint(0, 10, (batch,))
    with FlopCounterMode(display=False) as counter:
        out = model(x)
        loss_terms(model, out, x, y, 1e-4)["total"].backward()
    return counter.get_total_flops(), model


@pytest.mark.parametrize(("kind", "decoder"), MODELS)
def test_closed_form_is_what_torch_executes(kind, decoder):
    flops, model = counted_by_torch(kind, decoder)
    assert flops > 0
    assert flops_per_iteration(model, BATCH) == flops


@pytest.mark.parametrize(("kind", "decoder"), MODELS)
def test_bench_trains_torch_count_is_torchs(kind, decoder):
    flops, model = counted_by_torch(kind, decoder)
    got = bench_train.torch_flops(model, BATCH)
    assert got["total"] == flops
    assert all(p.grad is None for p in model.parameters())  # leaves no gradients behind


def test_the_first_layers_input_gradient_never_runs():
    # FC, batch B: forward 2 B (784*784 + 784*10), weight gradients as much, the input gradient
    # of the readout 2 B 784*10 -- and none for fc1, whose input is the data
    flops, _ = counted_by_torch("fc", None, batch=5)
    fwd = 2 * 5 * (784 * 784 + 784 * 10)
    assert flops == 2 * fwd + 2 * 5 * 784 * 10
