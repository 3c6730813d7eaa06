"""glibc's allocator, tuned for training: keep freed memory instead of returning it at once.

By default glibc serves every block over 128 KiB (a threshold that grows as blocks are freed, up
to 32 MiB) with its own ``mmap`` and gives it back to the kernel when it is freed, and trims the
top of the heap once 128 KiB of it are free. A training step allocates and frees the same large
activations and gradients every iteration, so each step pays page faults and zeroing for
memory it had a moment before: the CNN's step runs about 1.2-1.6x slower than with the memory
kept (300 CNN iterations on one thread: 15.6 s against 13.6 s). :func:`tune_allocator` sets,
through ``mallopt``:

* ``M_MMAP_THRESHOLD`` to 32 MiB (blocks below it come from the heap and are reused);
* ``M_TRIM_THRESHOLD`` to 2 GiB - 1 (the heap's free top is kept, not trimmed);
* ``M_TOP_PAD`` to 256 MiB (the heap grows in large steps).

The same as ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296
MALLOC_TOP_PAD_=268435456`` in the environment, except that ``mallopt`` takes an ``int`` (the
trim threshold is at most 2 GiB - 1 this way). Only where the memory is placed changes: every
result is the same, bit for bit. The cost is memory the process keeps after a peak (at most
its peak, no more).

``neurocode`` commands call it first, and every pool worker in its initializer
(:func:`neurocode.executor.worker_init`). A parameter set in the environment (``MALLOC_*_`` or
``GLIBC_TUNABLES=glibc.malloc.*``) is left as the user set it; ``NEUROCODE_MALLOC=default``
leaves glibc's defaults alone. Where the C library has no ``mallopt`` (musl, macOS, Windows),
nothing is done.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Mapping

__all__ = ["tune_allocator", "SETTINGS", "OPT_OUT"]

#: The environment variable that turns the tuning off: ``NEUROCODE_MALLOC=default``.
OPT_OUT = "NEUROCODE_MALLOC"

#: ``name: (mallopt parameter, value, environment variable, GLIBC_TUNABLES name)``.
SETTINGS: dict[str, tuple[int, int, str, str]] = {
    "mmap_threshold": (-3, 32 * 1024 * 1024, "MALLOC_MMAP_THRESHOLD_",
                       "glibc.malloc.mmap_threshold"),
    "trim_threshold": (-1, 2**31 - 1, "MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold"),
    "top_pad": (-2, 256 * 1024 * 1024, "MALLOC_TOP_PAD_", "glibc.malloc.top_pad"),
}

_DONE: dict[str, int] | None = None


def _libc():
    """The process's C library (``None`` where it cannot be opened)."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def _user_set(env: Mapping[str, str]) -> set[str]:
    """The settings the environment fixes: by their ``MALLOC_*_`` variable or in
    ``GLIBC_TUNABLES``."""
    tunables = {part.split("=", 1)[0].strip()
                for part in env.get("GLIBC_TUNABLES", "").split(":") if part.strip()}
    return {name for name, (_, _, var, tunable) in SETTINGS.items()
            if env.get(var, "") != "" or tunable in tunables}


def tune_allocator(*, env: Mapping[str, str] | None = None, libc=None,
                   force: bool = False) -> dict[str, int]:
    """Tune glibc's ``malloc`` for training (the module docstring says how and why); what was set.

    Safe to call more than once (a second call of the process's own allocator does nothing
    unless ``force``) and anywhere: it never raises.

    Parameters
    ----------
    env : mapping, optional
        The environment to read (default :data:`os.environ`): ``NEUROCODE_MALLOC=default``
        turns the tuning off, a ``MALLOC_*_`` variable or a ``GLIBC_TUNABLES`` entry keeps its
        parameter as it is.
    libc : object, optional
        The C library (default: this process's); one without ``mallopt`` means no tuning.
    force : bool
        Tune again even though an earlier call did.

    Returns
    -------
    dict of str to int
        ``{setting: value}`` of each parameter set (:data:`SETTINGS`); empty when nothing was
        (turned off, not glibc, every parameter set by the user).

    Examples
    --------
    >>> tune_allocator(env={"NEUROCODE_MALLOC": "default"}, force=True)
    {}
    """
    global _DONE
    own = env is None and libc is None  # this process's allocator as its environment says
    if own and _DONE is not None and not force:
        return dict(_DONE)
    env = os.environ if env is None else env
    done: dict[str, int] = {}
    if env.get(OPT_OUT, "").strip().lower() not in ("default", "off", "0", "no"):
        lib = _libc() if libc is None else libc
        mallopt = getattr(lib, "mallopt", None) if lib is not None else None
        if mallopt is not None:
            keep = _user_set(env)
            for name, (param, value, _, _) in SETTINGS.items():
                if name in keep:
                    continue
                try:
                    ok = mallopt(ctypes.c_int(param), ctypes.c_int(value))
                except (OSError, TypeError, ValueError, ctypes.ArgumentError):
                    ok = 0
                if ok:  # mallopt returns 1 on success, 0 on error
                    done[name] = value
    if own:
        _DONE = done
    return dict(done)
