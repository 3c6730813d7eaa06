"""Declared parameters: a type, a default and an allowed range, checked in one place.

Used by experiment configs (:mod:`neurocode.config`) and by coding rules' hyper-parameters
(:mod:`neurocode.rules`), so both refuse bad values with the same kind of message.
"""

from __future__ import annotations

import builtins
import difflib
import math
from dataclasses import dataclass
from typing import Any


class ParamError(ValueError):
    """A value breaks its declaration; the message names it and what is allowed."""


@dataclass(frozen=True)
class Param:
    """One parameter: its type, default, and allowed values or range.

    ``section`` places a rule's hyper-parameter in an experiment config: ``model.<name>``
    (what the rule is) or ``train.<name>`` (how it is fitted). ``omit_if_unset``: a parameter
    added after run files existed stays out of a resolved config that does not set it, so the
    config (and so the run's file name) of earlier configs stays the same; its default applies.
    """

    # builtins.type: in the class body, ``type`` is this field
    type: builtins.type | tuple[builtins.type, ...]
    default: Any
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    doc: str = ""
    section: str = "model"
    omit_if_unset: bool = False

    @property
    def types(self) -> tuple[builtins.type, ...]:
        """The declared type as a tuple (``type`` names one type or a tuple of them)."""
        return self.type if isinstance(self.type, tuple) else (self.type,)

    def check(self, value: Any, name: str, owner: str = "config key") -> Any:
        """Return ``value`` (ints widened to float where a float is declared) or raise."""
        where = f"{owner} '{name}'"
        if value is None:
            if self.nullable:
                return None
            raise ParamError(f"{where}: a value is required ({self.describe()})")
        types = self.types
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in types:
            raise ParamError(f"{where}: expected {self.describe()}, got {value!r}")
        if not isinstance(value, types):
            raise ParamError(
                f"{where}: expected {self.describe()}, got {type(value).__name__} {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{where}: must be a finite number, got {value!r}")
        if self.choices is not None and value not in self.choices:
            close = difflib.get_close_matches(str(value), [str(c) for c in self.choices], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParamError(
                f"{where}: {value!r} is not one of {', '.join(map(repr, self.choices))}{hint}")
        bound: Any = value  # of a declared type: a bounded one is ordered (int, float)
        if ((self.low is not None and bound < self.low)
                or (self.high is not None and bound > self.high)):
            raise ParamError(f"{where}: {value!r} is out of range ({self.describe()})")
        return value

    def describe(self) -> str:
        """The allowed values in words, for error messages and ``neurocode list``: e.g. ``one of
        'a', 'b'``, ``int >= 1``, ``float in [0, 1]``, followed by ``or null`` when None is
        allowed."""
        name = " or ".join(t.__name__ for t in self.types)
        if self.choices is not None:
            out = f"one of {', '.join(map(repr, self.choices))}"
        elif self.low is not None and self.high is not None:
            out = f"{name} in [{self.low:g}, {self.high:g}]"
        elif self.low is not None:
            out = f"{name} >= {self.low:g}"
        elif self.high is not None:
            out = f"{name} <= {self.high:g}"
        else:
            out = name
        return out + (" or null" if self.nullable else "")
