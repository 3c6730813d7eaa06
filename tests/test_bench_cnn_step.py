"""bench_cnn_step's byte and FLOP counting on operators whose traffic is known in closed form.

An operator must at least read each distinct input element once and write each output
element once: an elementwise add of two n x m float32 tensors moves 3 * n * m * 4 bytes, a
matmul (a, b) @ (b, c) its inputs and output, (ab + bc + ac) * 4; a broadcast operand counts
its stored elements, a view nothing, an ``out=`` or ``copy_`` destination is written but not
read. The FLOPs must be torch's own FlopCounterMode count; the prototyped autograd functions
must give the gradients of the plain operators (``torch.autograd.gradcheck`` in float64, or
the eager operators). Nothing here times anything.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from neurocode.models.relu_l1 import build_model, loss_terms

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cnn_step.py"
_spec = importlib.util.spec_from_file_location("bench_cnn_step_under_test", BENCH)
bench = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench  # its dataclasses look their module up there
_spec.loader.exec_module(bench)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small tensors: on a shared 2-core machine torch's threads spin against each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _log(fn):
    with bench.OpLog() as log:
        fn()
    return log.records


def _only(records, name):
    hits = [r for r in records if r.name == name]
    assert len(hits) == 1, [r.name for r in records]
    return hits[0]


def test_elementwise_add_moves_three_tensors():
    n, m = 37, 53
    a, b = torch.rand(n, m), torch.rand(n, m)
    r = _only(_log(lambda: a + b), "add")
    assert (r.read, r.written) == (2 * n * m * 4, n * m * 4)
    assert r.flops == 0 and not r.no_data


def test_matmul_moves_inputs_and_output():
    a, b, c = 7, 11, 13
    x, w = torch.rand(a, b), torch.rand(b, c)
    r = _only(_log(lambda: torch.mm(x, w)), "mm")
    assert (r.read, r.written) == ((a * b + b * c) * 4, a * c * 4)
    assert r.flops == 2 * a * b * c


def test_linear_counts_the_transposed_weight_once_and_the_bias():
    x, w, bias = torch.rand(5, 8), torch.rand(3, 8), torch.rand(3)
    records = _log(lambda: F.linear(x, w, bias))
    r = _only(records, "addmm")
    assert (r.read, r.written) == ((5 * 8 + 3 * 8 + 3) * 4, 5 * 3 * 4)
    assert bench.group(r.name, "forward", r.no_data) == "matmul/conv forward"
    t = _only(records, "t")  # the transpose is a view: no traffic
    assert (t.read, t.written, t.no_data) == (0, 0, True)


def test_broadcast_operand_counts_its_stored_elements():
    n, m = 6, 9
    a, row = torch.rand(n, m), torch.rand(m)
    r = _only(_log(lambda: a * row), "mul")
    assert (r.read, r.written) == ((n * m + m) * 4, n * m * 4)
    assert bench.tensor_bytes(row.expand(n, m)) == m * 4
    assert bench.tensor_bytes(torch.zeros(()).expand(4, 5)) == 4


def test_same_tensor_twice_is_read_once():
    x = torch.rand(10, 10)
    r = _only(_log(lambda: x * x), "mul")
    assert (r.read, r.written) == (400, 400)


def test_in_place_out_and_copy():
    a, b, c = torch.rand(4, 5), torch.rand(4, 5), torch.empty(4, 5)
    add_ = _only(_log(lambda: a.add_(b)), "add_")  # reads a and b, writes a
    assert (add_.read, add_.written) == (160, 80)
    out = _only(_log(lambda: torch.add(a, b, out=c)), "add")  # c is written, not read
    assert (out.read, out.written) == (160, 80)
    copy = _only(_log(lambda: c.copy_(a)), "copy_")
    assert (copy.read, copy.written) == (80, 80)
    fill = _only(_log(lambda: c.fill_(1.0)), "fill_")
    assert (fill.read, fill.written) == (0, 80)


def test_views_and_allocations_move_nothing():
    x = torch.rand(3, 4, 5)
    for r in _log(lambda: (x.view(12, 5), x.permute(2, 0, 1), x[1], torch.empty(100))):
        assert (r.read, r.written) == (0, 0) and r.no_data, r.name


def test_dtype_sets_the_element_size():
    a = torch.rand(8, 8, dtype=torch.float64)
    r = _only(_log(lambda: a + a), "add")
    assert (r.read, r.written) == (8 * 64, 8 * 64)
    assert bench.tensor_bytes(torch.zeros(3, dtype=torch.bool)) == 3


def test_convolution_forward_and_backward():
    x = torch.rand(2, 1, 29, 29)
    w = torch.rand(5, 1, 3, 3, requires_grad=True)
    b = torch.rand(5, requires_grad=True)
    with bench.OpLog() as log:
        y = F.conv2d(x, w, b, stride=2)
        log.phase = "backward"
        y.sum().backward()
    fwd = _only(log.records, "convolution")
    n_x, n_w, n_y = 2 * 29 * 29, 5 * 9, 2 * 5 * 14 * 14
    assert (fwd.read, fwd.written) == ((n_x + n_w + 5) * 4, n_y * 4)
    assert fwd.flops == 2 * n_y * 9  # one multiply-add per output and kernel tap
    bwd = _only(log.records, "convolution_backward")
    # reads the output gradient (an expanded scalar: one element), the input and the weight;
    # writes the weight and bias gradients (no input gradient: x needs none)
    assert (bwd.read, bwd.written) == ((1 + n_x + n_w) * 4, (n_w + 5) * 4)
    assert bench.group(bwd.name, bwd.phase, bwd.no_data) == "matmul/conv backward"


def test_step_flops_match_flopcountermode():
    model = build_model("conv-ae", feature_maps=4, decoder="transposed", seed=0)
    x, y = torch.rand(10, 784), torch.randint(0, 10, (10,))
    with bench.OpLog() as log:
        loss_terms(model, model(x), x, y, 1e-4)["total"].backward()
    model.zero_grad(set_to_none=True)
    counted = bench.bench_train.torch_flops(model, 10)["total"]
    assert counted > 0 and sum(r.flops for r in log.records) == counted


def test_groups():
    assert bench.group("mkldnn_convolution", "forward", False) == "matmul/conv forward"
    assert bench.group("mm", "backward", False) == "matmul/conv backward"
    assert bench.group("threshold_backward", "backward", False) == "elementwise"
    assert bench.group("addcdiv_", "optimizer", False) == "optimizer"
    assert bench.group("view", "forward", True) == "other"


def test_readout_function_gradients(monkeypatch):
    monkeypatch.setattr(bench, "READOUT_ROWS", 2)  # blocks of rows, the last one short
    g = torch.Generator().manual_seed(0)
    h = torch.rand(5, 7, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 7, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(bench._Readout.apply, (h, w, b))
    logits, s = bench._Readout.apply(h, w, b)
    torch.testing.assert_close(logits, F.linear(h, w, b))
    torch.testing.assert_close(s, h.sum())


@pytest.mark.skipif(not bench._has_conv_pointwise(), reason="no oneDNN fused convolution")
def test_fused_conv_relu_matches_eager():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 1, 29, 29, generator=g)
    w = torch.randn(6, 1, 3, 3, generator=g)
    b = torch.randn(6, generator=g)
    (w1, b1), (w2, b2) = [(w.clone().requires_grad_(), b.clone().requires_grad_())
                          for _ in range(2)]
    out1 = bench._ConvReLU.apply(x, w1, b1)
    out2 = F.relu(F.conv2d(x, w2, b2, stride=2))
    torch.testing.assert_close(out1, out2)
    gy = torch.randn(out2.shape, generator=g)
    (out1 * gy).sum().backward()
    (out2 * gy).sum().backward()
    torch.testing.assert_close(w1.grad, w2.grad)
    torch.testing.assert_close(b1.grad, b2.grad)


@pytest.mark.parametrize("argv, message", [
    (["--iterations", "0"], "must be >= 1"),
    (["--models", "fc"], "unknown fc"),
    (["--json", "/nonexistent-folder/x.json"], "does not exist"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("transposed", [False, True])
def test_native_conv_gradients(transposed):
    # the encoder's shape (1 -> 4 maps) and the transposed decoder's (3 maps -> 1 image)
    g = torch.Generator().manual_seed(1)
    channels, w_shape, n_bias = (3, (3, 1, 3, 3), 1) if transposed else (1, (4, 1, 3, 3), 4)
    x, w, b = (torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_()
               for shape in ((2, channels, 7, 7), w_shape, (n_bias,)))
    assert torch.autograd.gradcheck(lambda *a: bench._NativeConv.apply(*a, 2, transposed),
                                    (x, w, b))
    conv = F.conv_transpose2d if transposed else F.conv2d
    torch.testing.assert_close(bench._NativeConv.apply(x, w, b, 2, transposed),
                               conv(x, w, b, stride=2))
    assert torch.backends.mkldnn.enabled  # the flag is restored


def test_json_is_written_whole_or_not_at_all(tmp_path):
    path = tmp_path / "out.json"
    bench._write_json(path, {"a": [1.5, 2]})
    assert path.read_text().startswith("{") and list(tmp_path.iterdir()) == [path]
    with pytest.raises(TypeError):
        bench._write_json(tmp_path / "bad.json", {"a": object()})  # not JSON: nothing left
    assert list(tmp_path.iterdir()) == [path]
