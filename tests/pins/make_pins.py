"""Hash the outputs of a set of runs (temporary pin while the engine is reorganised; no output change).

python tests/pins/make_pins.py [--write]  → prints/compares tests/pins/pins.json
"""
from __future__ import annotations

import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
RUNS = [(s, seed, None) for s in ("baseline", "town", "boston", "clear_responsibility", "fengqiao",
                                  "merged_grids", "shared_platform", "smart_video",
                                  "spring_festival_arrears", "understaffed") for seed in (0, 1)]
RUNS += [("xian", 0, 30)]


def digest(scenario: str, seed: int, days: int | None) -> dict[str, str]:
    import pyarrow.parquet as pq

    import sim
    from sim.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        args = ["run", scenario, "--seed", str(seed), "--out", tmp]
        if days:
            args += ["--days", str(days)]
        old = sys.stdout
        sys.stdout = io.StringIO()
        try:
            main(args)
        finally:
            sys.stdout = old
        out = {}
        summary = json.loads((Path(tmp) / "summary.json").read_text())
        summary.pop("provenance", None)
        out["summary"] = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()[:16]
        for name in ("timeseries.csv", "grids.csv"):
            out[name] = hashlib.sha256((Path(tmp) / name).read_bytes()).hexdigest()[:16]
        t = pq.read_table(Path(tmp) / "cases.parquet")
        h = hashlib.sha256()
        # the numeric content: codes, not the *_label columns derived from them (docs/codebook.md)
        for col in sorted(c for c in t.column_names if not c.endswith("_label")):
            h.update(col.encode())
            h.update(t[col].combine_chunks().to_numpy(zero_copy_only=False).tobytes())
        out["cases"] = h.hexdigest()[:16]
        del sim
    return out


def main() -> int:
    pins = {f"{s}:{seed}:{d}": digest(s, seed, d) for s, seed, d in RUNS}
    path = HERE / "pins.json"
    if "--write" in sys.argv:
        path.write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n")
        print("wrote", path)
        return 0
    old = json.loads(path.read_text())
    bad = [k for k in old if old[k] != pins.get(k)]
    for k in bad:
        print("DIFF", k, old[k], pins.get(k))
    print("identical" if not bad else f"{len(bad)} runs differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
