"""Closure profile of a 311 request type: a fast and a slow track, fitted to its closure shares.

A request type's requests are closed either soon (a quick fix, a duplicate, an internal work
order logged when done) or after weeks, and some never. One exponential per type cannot put
26% under a day and keep a long tail, so each type is modelled as a mixture measured on the fit
window — inputs, like its volume:

    P(closed within t) = p_fast (1 − e^(−t/m_fast)) + p_slow (1 − e^(−t/m_slow)),

with ``p_never`` = the type's share still open at extraction (never worked) and
``p_fast + p_slow = 1 − p_never``. The three unknowns (``p_fast``, ``m_fast``, ``m_slow``) are
fitted by least squares to the type's shares closed within 1, 7 and 30 days (three numbers:
usually an exact fit). In the scenario each type becomes two categories of its department —
``<type>`` (fast track, carrying the never-closed share) and ``<type>__slow`` — whose service
multipliers are ``m / mean_hours[3]``.

Three shares do not always pin three unknowns: where a type's slow track is small, its share and
mean trade off along a flat valley, and where in it the optimiser stops depends on the last bits
of its linear algebra — on the CPU kernels OpenBLAS picks (its AVX-512 ``SkylakeX`` kernels and
its AVX2 ``Haswell`` ones end in different places; the fitted closure shares agree to three
decimals either way). The committed Boston files were written with the ``Haswell`` kernels, which
every x86-64 machine with AVX2 runs: ``python -m sim.calibrate.boston_scenario`` restarts itself
with :func:`pinned_blas_environment` so that it writes the same files on any such machine.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

#: OpenBLAS kernels the committed Boston files were fitted with (see the module's docstring)
BLAS_CORETYPE = "Haswell"

#: bounds of a track's mean hours: the scenario's service multiplier range x mean_hours[3] (48 h)
MEAN_BOUNDS_H = (0.5, 4800.0)


@dataclass(frozen=True)
class Profile:
    """Fast/slow mixture of one request type (shares of all its requests; means in hours)."""

    p_fast: float
    p_slow: float
    p_never: float
    m_fast: float
    m_slow: float

    def closed_within(self, hours: float) -> float:
        """Modelled share closed within ``hours`` of opening."""
        return (self.p_fast * (1 - math.exp(-hours / self.m_fast))
                + self.p_slow * (1 - math.exp(-hours / self.m_slow)))


def fit_profile(shares: Sequence[float], horizons_h: Sequence[float], p_never: float) -> Profile:
    """The mixture closest (least squares) to ``shares`` closed within ``horizons_h``."""
    y = np.asarray(shares, dtype=float)
    t = np.asarray(horizons_h, dtype=float)
    closable = max(0.0, 1.0 - p_never)
    if closable <= 1e-9:
        return Profile(0.0, 0.0, 1.0, 24.0, 720.0)
    lo, hi = (math.log(b) for b in MEAN_BOUNDS_H)

    def cdf(x: np.ndarray) -> np.ndarray:
        f, mf, ms = x[0] * closable, math.exp(x[1]), math.exp(x[2])
        return f * (1 - np.exp(-t / mf)) + (closable - f) * (1 - np.exp(-t / ms))

    starts = [np.array([min(0.99, y[0] / closable + 0.05), math.log(6.0), math.log(400.0)]),
              np.array([0.5, math.log(48.0), math.log(1500.0)])]
    best = None
    for x0 in starts:
        x0 = np.clip(x0, [0.0, lo, lo], [1.0, hi, hi])
        r = least_squares(lambda x: cdf(x) - y, x0, bounds=([0.0, lo, lo], [1.0, hi, hi]))
        if best is None or r.cost < best.cost:
            best = r
    assert best is not None
    f, mf, ms = best.x[0] * closable, math.exp(best.x[1]), math.exp(best.x[2])
    if mf > ms:  # name the tracks by speed
        f, mf, ms = closable - f, ms, mf
    return Profile(float(f), float(closable - f), float(p_never), float(mf), float(ms))


def pinned_blas_environment() -> dict[str, str] | None:
    """This process's environment with ``OPENBLAS_CORETYPE`` set to :data:`BLAS_CORETYPE`, for a
    child process that fits profiles reproducibly; None where those kernels cannot run (not
    x86-64, or no AVX2). OpenBLAS reads the variable when it loads, so it takes a new process."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            if " avx2" not in f.read():
                return None
    except OSError:
        return None
    return {**os.environ, "OPENBLAS_CORETYPE": BLAS_CORETYPE}
