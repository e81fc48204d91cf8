"""Fingerprints of a run's outputs, to show that a speed-up left the results bit-identical.

For each configuration: SHA-256 of the KPI JSON (provenance removed: it names the commit), of the
daily time series (CSV) and of the closed-case table (every record the case sink receives, in
order, as raw bytes of every column). Run it with one checkout's ``sim`` and then another's, and
compare the lines (``--check FILE`` does it against a saved run):

    PYTHONPATH=/path/to/main  .venv/bin/python benchmarks/fingerprint.py --json before.json
    PYTHONPATH=$PWD           .venv/bin/python benchmarks/fingerprint.py --check before.json

Default configurations: ``town`` (its run.days), ``baseline`` (its run.days), and ``xian-short``
(``xian`` for 30 days at five times the case rates, where the backlog, the queues and the
compaction of closed cases are busiest).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CONFIGS: dict[str, tuple[str, int | None, dict[str, Any]]] = {
    "town": ("town", None, {}),
    "baseline": ("baseline", None, {}),
    "xian-short": ("xian", 30, {"world.emergence_multiplier": 5}),
    # not run by default (about a minute): the whole year at 5x, a backlog of 1.6 million cases
    "xian-year-5x": ("xian", 365, {"world.emergence_multiplier": 5}),
    # not run by default (several seconds): the whole year at the scenario's own case rates
    "xian-year-1x": ("xian", 365, {}),
}
DEFAULT = ("town", "baseline", "xian-short")


class HashSink:
    """A case sink that hashes every record it receives (column names, dtypes and bytes)."""

    def __init__(self) -> None:
        self.h = hashlib.sha256()
        self.rows = 0

    def write(self, records: dict[str, Any]) -> None:
        """Fold one batch of closed-case records into the hash."""
        import numpy as np

        for name in sorted(records):
            a = np.ascontiguousarray(records[name])
            self.h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
            self.h.update(a.tobytes())
        self.rows += len(next(iter(records.values()))) if records else 0

    def close(self) -> None:
        """Nothing to release."""


def fingerprint(scenario: str, days: int | None, overrides: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """Hashes of one run's KPIs, time series and closed-case records."""
    from sim.cli import dumps
    from sim.model import CityModel

    sink = HashSink()
    model = CityModel(scenario, rng=seed, case_sink=sink, overrides=overrides)
    model.run(days)
    kpis = model.kpis()
    kpis.pop("provenance", None)
    ts = model.timeseries().to_csv(index=False)
    return {"kpis": hashlib.sha256(dumps(kpis).encode()).hexdigest(),
            "timeseries": hashlib.sha256(ts.encode()).hexdigest(),
            "cases": sink.h.hexdigest(), "closed_cases": sink.rows, "open_at_end": len(model.cases)}


def main(argv: list[str] | None = None) -> int:
    """Print (and save or check) the fingerprints of the chosen configurations."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("configs", nargs="*", default=list(DEFAULT), help=f"any of {', '.join(CONFIGS)}")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="save the fingerprints")
    p.add_argument("--check", metavar="PATH", help="compare with saved fingerprints; exit 1 on a difference")
    a = p.parse_args(argv)
    import sim

    print(f"sim from {Path(sim.__file__).parent}", file=sys.stderr)
    out = {}
    for name in a.configs:
        scenario, days, overrides = CONFIGS[name]
        out[name] = fingerprint(scenario, days, overrides, a.seed)
        print(name, json.dumps(out[name]), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2) + "\n")
    if a.check:
        saved = json.loads(Path(a.check).read_text())
        bad = [n for n in out if saved.get(n) != out[n]]
        print("IDENTICAL" if not bad else f"DIFFERENT: {', '.join(bad)}")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
