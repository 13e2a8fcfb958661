"""Duration distributions for talk time, patience and IVR time, read from scenario tables.

``{ dist = "lognormal", mean = 240, sd = 120 }``, ``{ dist = "exponential",
mean = 120 }``, ``{ dist = "fixed", value = 30 }`` or ``{ dist = "empirical",
values = [...] }`` (drawn uniformly from the recorded values). Draws are
vectorised on a caller's own :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from acd.config_reader import ConfigError, Table

KINDS = ("lognormal", "exponential", "fixed", "empirical")


@dataclass(frozen=True, slots=True)
class Duration:
    kind: str
    mean: float
    sd: float = 0.0
    values: tuple[float, ...] = ()

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.kind == "exponential":
            return rng.exponential(self.mean, n)
        if self.kind == "lognormal":
            if self.sd == 0:
                return np.full(n, self.mean)
            sigma2 = math.log(1.0 + (self.sd / self.mean) ** 2)
            mu = math.log(self.mean) - sigma2 / 2.0
            return rng.lognormal(mu, math.sqrt(sigma2), n)
        if self.kind == "empirical":
            return rng.choice(np.asarray(self.values, dtype=float), n)
        return np.full(n, self.mean)

    def describe(self) -> str:
        if self.kind == "lognormal":
            return f"lognormal(mean {self.mean:g} s, sd {self.sd:g} s)"
        if self.kind == "empirical":
            return f"empirical({len(self.values)} values, mean {self.mean:.1f} s)"
        return f"{self.kind}(mean {self.mean:g} s)"


def read_duration(t: Table, default_kind: str = "lognormal") -> Duration:
    """Read one distribution table; every bad value names its key."""
    kind = t.choice("dist", KINDS, default_kind)
    if kind == "fixed":
        d = Duration("fixed", t.number("value", None, low=0, high=86400))
    elif kind == "exponential":
        d = Duration("exponential", t.number("mean", None, low=0.001, high=86400))
    elif kind == "lognormal":
        mean = t.number("mean", None, low=0.001, high=86400)
        d = Duration("lognormal", mean, t.number("sd", mean / 2, low=0, high=86400))
    else:
        raw = t.number_list("values", [], low=0, high=86400)
        if not raw:
            raise ConfigError(t.key("values"), "an empirical distribution needs some values")
        d = Duration("empirical", float(np.mean(raw)), values=tuple(raw))
    t.done()
    return d
