"""Stand-in run functions for tests and benchmarks of the sweep machinery (not the model).

They have the signature of ``sim.run`` and depend only on their parameters and seed, so any
executor, order or worker count must reproduce their rows exactly.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["busy_run", "fake_run", "ishigami_run", "kill_once_run", "sleepy_run", "slow_fake_run"]


def fake_run(scenario: Any, params: Mapping[str, Any] | None = None,
             seed: int | np.random.SeedSequence = 0, days: int | None = None) -> dict[str, float]:
    """A toy 'model': escalations fall with staff, rise with latency, plus seeded noise."""
    p = dict(params or {})
    rng = np.random.default_rng(seed)
    staff = float(p.get("levers.grid_workers_per_grid", 5))
    latency = float(p.get("levers.latency_hours_per_hop", 4.0))
    integ = float(p.get("levers.resource_integration", 0.5))
    d = float(days or 30)
    base = 0.25 / (1.0 + 0.6 * staff) + 0.002 * latency * (1.0 - 0.5 * integ)
    cases = rng.poisson(40.0 * d)
    escalated = rng.binomial(cases, min(base, 1.0))
    return {
        "cases_total": float(cases),
        "escalated_share": escalated / max(cases, 1),
        "median_hours_to_resolution": 24.0 / (1.0 + staff) + latency + rng.normal(0, 0.5),
        "staff_cost": 12.0 * staff + 30.0 * integ,
        "by_department.police.closed_within_24h": float(rng.uniform()),
        "label": "not a number",  # type: ignore[dict-item]
    }


def slow_fake_run(scenario: Any, params: Mapping[str, Any] | None = None,
                  seed: int | np.random.SeedSequence = 0, days: int | None = None
                  ) -> dict[str, float]:
    """:func:`fake_run` that sleeps ``params["test.sleep"]`` seconds (default 0.05)."""
    time.sleep(float((params or {}).get("test.sleep", 0.05)))
    return fake_run(scenario, params, seed, days)


def busy_run(scenario: Any, params: Mapping[str, Any] | None = None,
             seed: int | np.random.SeedSequence = 0, days: int | None = None) -> dict[str, float]:
    """:func:`fake_run` plus CPU work (``params["test.work"]`` matrix products of 200x200)."""
    work = int((params or {}).get("test.work", 20))
    m = np.random.default_rng(1).random((200, 200))
    for _ in range(work):
        m = np.tanh(m @ m / 200.0)
    out = fake_run(scenario, params, seed, days)
    out["work_checksum"] = float(m.sum())
    return out


def _inner(params: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The wrapped run function (``test.inner``, default fake_run) and params without test.*."""
    from sim.executors.base import resolve

    inner = resolve(str(params.get("test.inner", "sim.sweep.testing.fake_run")))
    return inner, {k: v for k, v in params.items() if not k.startswith("test.")}


def kill_once_run(scenario: Any, params: Mapping[str, Any] | None = None,
                  seed: int | np.random.SeedSequence = 0, days: int | None = None
                  ) -> dict[str, float]:
    """Run ``test.inner`` (default :func:`fake_run`, e.g. ``"sim.run"``), but SIGKILL the worker
    process once, on the Nth call sweep-wide, before running.

    ``params["test.kill_dir"]`` is a folder shared by the workers; each call leaves a file in it
    and the call that makes the count reach ``params["test.kill_after"]`` (default 5) kills its
    own process, once (a ``killed`` marker holding its pid records it); ``test.kill_signal``
    names another signal (e.g. ``"SIGTERM"``). ``test.sleep`` seconds
    (default 0) are slept before the run. ``test.*`` keys are not passed on.
    """
    p = dict(params or {})
    folder = Path(p["test.kill_dir"])
    marker = folder / "killed"
    if not marker.exists():
        (folder / f"call-{os.getpid()}-{time.time_ns()}").touch()
        calls = sum(1 for f in folder.iterdir() if f.name.startswith("call-"))
        if calls >= int(p.get("test.kill_after", 5)):
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                fd = -1
            if fd >= 0:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                os.kill(os.getpid(), getattr(signal, str(p.get("test.kill_signal", "SIGKILL"))))
    return sleepy_run(scenario, p, seed, days)


def sleepy_run(scenario: Any, params: Mapping[str, Any] | None = None,
               seed: int | np.random.SeedSequence = 0, days: int | None = None
               ) -> dict[str, float]:
    """Sleep ``test.sleep`` seconds, then run ``test.inner`` (default :func:`fake_run`)."""
    p = dict(params or {})
    time.sleep(float(p.get("test.sleep", 0.0)))
    inner, rest = _inner(p)
    return inner(scenario, rest, seed=seed, days=days)


def ishigami_run(scenario: Any, params: Mapping[str, Any] | None = None,
                 seed: int | np.random.SeedSequence = 0, days: int | None = None
                 ) -> dict[str, float]:
    """The Ishigami function of ``x1, x2, x3`` in [-pi, pi] (first-order Sobol indices
    0.314, 0.442, 0) and a linear ``lin = 3 x1 + x2`` (Morris mu* 3:1:0 per unit)."""
    p = dict(params or {})
    x1, x2, x3 = (float(p[k]) for k in ("x1", "x2", "x3"))
    y = np.sin(x1) + 7.0 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)
    return {"ishigami": float(y), "lin": 3.0 * x1 + x2}
