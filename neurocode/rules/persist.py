"""Saving a fitted rule to HDF5 and loading it back through the registry, never by pickling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from neurocode.rules.base import CodingRule
from neurocode.rules.registry import get_rule

__all__ = ["load_rule", "save_rule"]


def save_rule(rule: CodingRule, target: Any, group: str = "rule") -> None:
    """Write a fitted rule into an HDF5 file (path) or open h5py group, under ``group``.

    Stored: attribute ``name``, attribute ``params`` (JSON), attribute ``code_kind``, and the
    learned arrays under ``state/``. Nothing is pickled.
    """
    import h5py

    rule._check_fitted()
    if isinstance(target, (str, Path)):
        with h5py.File(target, "a") as f:
            save_rule(rule, f, group)
        return
    if group in target:
        del target[group]
    g = target.create_group(group)
    g.attrs["name"] = rule.name
    g.attrs["params"] = json.dumps(rule.get_params(), sort_keys=True)
    g.attrs["code_kind"] = rule.code_kind
    s = g.create_group("state")
    for k, v in rule.get_state().items():
        kw: dict[str, Any] = {}
        if v.ndim and v.size:  # checksummed, so damaged bytes raise on read
            kw = {"fletcher32": True, "chunks": True}
            if v.size > 1024:
                kw.update(compression="gzip", compression_opts=4)
        s.create_dataset(k, data=v, **kw)


def load_rule(source: Any, group: str = "rule") -> CodingRule:
    """Rebuild a fitted rule saved by :func:`save_rule` through the registry."""
    import h5py

    if isinstance(source, (str, Path)):
        try:
            with h5py.File(source, "r") as f:
                return load_rule(f, group)
        except OSError as exc:
            raise ValueError(f"{source}: not a readable HDF5 file ({exc})") from None
    if group not in source:
        raise ValueError(f"no saved rule (group '{group}') in "
                         f"{getattr(source, 'filename', source)}")
    g = source[group]
    rule = get_rule(str(g.attrs["name"]), **json.loads(g.attrs["params"]))
    state: dict[str, np.ndarray] = {}
    g["state"].visititems(
        lambda k, obj: state.__setitem__(k, obj[()]) if hasattr(obj, "shape") else None)
    rule.set_state(state)
    return rule

