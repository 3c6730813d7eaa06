"""glibc allocator tuning (:mod:`neurocode._malloc`): what it sets, what it leaves alone, that
glibc's own bookkeeping (``mallinfo2``) shows the change, and that training gives the same
bits with and without it."""

from __future__ import annotations

import ctypes
import json
import os
import platform
import subprocess
import sys
import textwrap

import pytest

from neurocode._malloc import OPT_OUT, SETTINGS, tune_allocator

GLIBC = platform.libc_ver()[0] == "glibc"


class FakeLibc:
    def __init__(self, ok: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.ok = ok

    def mallopt(self, param, value) -> int:
        self.calls.append((param.value, value.value))
        return self.ok


def test_sets_the_three_glibc_parameters_to_the_documented_values():
    lib = FakeLibc()
    assert tune_allocator(env={}, libc=lib) == {"mmap_threshold": 33554432,
                                                "trim_threshold": 2**31 - 1,
                                                "top_pad": 268435456}
    # glibc's malloc.h: M_TRIM_THRESHOLD -1, M_TOP_PAD -2, M_MMAP_THRESHOLD -3
    assert sorted(lib.calls) == [(-3, 32 << 20), (-2, 256 << 20), (-1, 2**31 - 1)]
    assert {name: v[1] for name, v in SETTINGS.items()} == tune_allocator(env={}, libc=FakeLibc())


def test_leaves_what_the_user_set_and_can_be_turned_off():
    lib = FakeLibc()
    done = tune_allocator(env={"MALLOC_TOP_PAD_": "0",
                               "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}, libc=lib)
    assert done == {"trim_threshold": 2**31 - 1} and lib.calls == [(-1, 2**31 - 1)]
    lib = FakeLibc()
    assert tune_allocator(env={OPT_OUT: "default"}, libc=lib) == {} and lib.calls == []
    assert tune_allocator(env={"MALLOC_MMAP_THRESHOLD_": "1", "MALLOC_TRIM_THRESHOLD_": "1",
                               "MALLOC_TOP_PAD_": "1"}, libc=FakeLibc()) == {}


def test_no_mallopt_or_a_refusing_one_is_silently_nothing():
    assert tune_allocator(env={}, libc=object()) == {}          # musl, macOS: no mallopt
    assert tune_allocator(env={}, libc=FakeLibc(ok=0)) == {}     # refused: not reported


def _python(code: str, env: dict[str, str] | None = None) -> str:
    full = {k: v for k, v in os.environ.items()
            if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES", OPT_OUT)}
    full.update(env or {}, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip().splitlines()[-1]


_MALLINFO = """
import ctypes, json
from neurocode._malloc import tune_allocator

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                               "usmblks", "fsmblks", "uordblks", "fordblks",
                                               "keepcost")]
libc = ctypes.CDLL(None)
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]

def mmapped(size):
    before = libc.mallinfo2().hblks
    p = libc.malloc(size)
    n = libc.mallinfo2().hblks - before
    libc.free(p)
    return n

first = mmapped(4 << 20)
done = tune_allocator()
# 16 MiB: above the threshold glibc has raised itself to after freeing the 4 MiB block
print(json.dumps({"before": first, "after": mmapped(16 << 20), "done": done}))
"""


@pytest.mark.skipif(not GLIBC or not hasattr(ctypes.CDLL(None), "mallinfo2"),
                    reason="glibc >= 2.33 only (mallinfo2)")
def test_glibc_serves_a_4_mib_block_from_the_heap_once_tuned():
    # glibc's own count of mmapped blocks: 4 MiB is above the default threshold (128 KiB),
    # which freeing it raises to 4 MiB; 16 MiB is above that and below the tuned one (32 MiB)
    out = json.loads(_python(_MALLINFO))
    assert out["before"] == 1 and out["after"] == 0 and len(out["done"]) == 3
    off = json.loads(_python(_MALLINFO, {OPT_OUT: "default"}))
    assert off == {"before": 1, "after": 1, "done": {}}
    user = json.loads(_python(_MALLINFO, {"MALLOC_MMAP_THRESHOLD_": "131072"}))
    assert user["after"] == 1 and "mmap_threshold" not in user["done"]


_TRAIN = """
import hashlib, json
import torch
from neurocode._malloc import tune_allocator
from neurocode.models.relu_l1 import build_model
from neurocode.models.relu_l1.training import ModuleSteps

done = tune_allocator()
torch.set_num_threads(1)
torch.manual_seed(0)
g = torch.Generator().manual_seed(1)
x, y = torch.rand(400, 784, generator=g), torch.randint(0, 10, (400,), generator=g)
out = {"done": done}
for kind, steps_n in (("fc", 30), ("cnn", 4)):
    steps = ModuleSteps(build_model(kind, seed=0), 1e-4, 1e-3)
    losses = []
    for it in range(steps_n):
        xb, yb = x[(it % 4) * 100:(it % 4 + 1) * 100], y[(it % 4) * 100:(it % 4 + 1) * 100]
        _, terms = steps.forward(xb, yb)
        losses.append(terms["total"].item().hex())
        steps.step(terms["total"])
    h = hashlib.sha256()
    for name, p in sorted(steps.model.state_dict().items()):
        h.update(name.encode()); h.update(p.detach().numpy().tobytes())
    out[kind] = {"losses": losses, "weights": h.hexdigest()}
print(json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.skipif(not GLIBC, reason="the tuning is glibc's")
def test_training_gives_the_same_bits_with_and_without_the_tuning():
    tuned = json.loads(_python(_TRAIN))
    plain = json.loads(_python(_TRAIN, {OPT_OUT: "default"}))
    assert len(tuned.pop("done")) == 3 and plain.pop("done") == {}
    assert tuned == plain                           # every loss and every weight, bit for bit
    assert len(tuned["fc"]["losses"]) == 30 and len(set(tuned["fc"]["losses"])) > 1
