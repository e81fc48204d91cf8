"""Run outputs for ``cityrisk run --out DIR``: data files and publication-quality figures.

:func:`write_outputs` writes, next to the case table the CLI streams to ``cases.parquet``:

* ``summary.json``   — the KPI dict with its provenance block (NaN written as ``null``);
* ``timeseries.csv`` — one row per simulated day (``model.timeseries()``);
* ``grids.csv``      — one row per map cell holding a grid: row, col, district, map layers;
* ``scenario.toml``  — the full scenario that was run (``sim.load_scenario(path)`` reloads it);
* four PNG figures: ``dashboard.png`` (KPIs over time), ``resolution_levels.png`` (where cases
  were resolved), ``time_to_resolution.png`` (distribution, from the case table) and
  ``escalation_map.png`` (escalations by grid, district borders).

``cityrisk run --out`` writes all of it into a hidden sibling (:func:`stage_out`) and renames it
into place at the end (:func:`commit_out`): a results folder either holds one complete run or
does not exist, and an earlier run's files are never mixed with a new one's.

Every figure is drawn from those files only, so :func:`redraw` (``python -m sim.io.outputs DIR``)
rebuilds them from a results folder without rerunning the model. The figures themselves are drawn by
:mod:`sim.io.figures` (matplotlib object API, no pyplot state: safe in threads and in the app).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .figures import DPI, footer, make_figures

if TYPE_CHECKING:
    from ..model import CityModel

MAP_LAYERS = ("escalations", "residents", "trust", "open_cases")
FIGURES = ("dashboard", "resolution_levels", "time_to_resolution", "escalation_map")
# districts.json: written for a city on a real map (city.geometry), to redraw its figures
OUTPUT_NAMES = frozenset(("summary.json", "timeseries.csv", "grids.csv", "scenario.toml",
                          "cases.parquet", "districts.json", *(f"{f}.png" for f in FIGURES)))


class OutputDirError(ValueError):
    """``--out`` cannot be used as asked (message names the path and what to do)."""


def stage_out(out: Path, force: bool = False) -> Path:
    """Check ``out`` up front and create the hidden sibling a run writes into.

    Refused: ``out`` is a file or lies under one; ``out`` holds files (an earlier run's outputs
    are replaced only with ``force``, anything else never, since replacing moves the whole
    folder); the parent cannot be written. Returns the staging folder.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputDirError(f"--out {str(out)!r}: is a file, expected a directory")
    if out.is_dir():
        present = sorted(p.name for p in out.iterdir())
        foreign = [n for n in present if n not in OUTPUT_NAMES]
        if foreign:
            raise OutputDirError(f"--out {str(out)!r}: holds files that are not cityrisk outputs "
                                 f"({', '.join(foreign[:5])}); choose an empty or new directory")
        if present and not force:
            raise OutputDirError(f"--out {str(out)!r}: holds an earlier run's outputs "
                                 f"({', '.join(present[:3])}, ...); add --force to replace them")
    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = parent / f".{out.absolute().name}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)  # a stale one of a recycled pid
        staging.mkdir()
    except (FileExistsError, NotADirectoryError):
        raise OutputDirError(f"--out {str(out)!r}: a parent path is a file, not a directory") from None
    except OSError as exc:
        raise OutputDirError(f"--out {str(out)!r}: cannot write there ({exc.strerror})") from None
    return staging


def commit_out(staging: Path, out: Path) -> None:
    """Move a finished staging folder to ``out`` (replacing an earlier run's outputs)."""
    out = Path(out)
    old = None
    if out.is_dir():
        if any(out.iterdir()):
            old = staging.with_name(staging.name.replace(".partial-", ".old-"))
            os.replace(out, old)
        else:
            out.rmdir()
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def discard_out(staging: Path) -> None:
    """Remove the staging folder of a run that did not finish."""
    shutil.rmtree(staging, ignore_errors=True)


# ----------------------------------------------------------------------------- data files
def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays as Python values and non-finite floats as ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_summary(path: Path, kpis: Mapping[str, Any]) -> Path:
    """Write the KPI dict as strict JSON (``json.loads`` gives back ``jsonable(kpis)``)."""
    text = json.dumps(jsonable(kpis), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def grid_table(model: CityModel) -> pd.DataFrame:
    """One row per map cell holding a grid: row, col, district and the end-of-run map layers."""
    districts = model.district_of_cell
    rows, cols = np.nonzero(districts >= 0)
    out = pd.DataFrame({"row": rows, "col": cols, "district": districts[rows, cols]})
    for name in MAP_LAYERS:
        out[name] = model.grid_layer(name)[rows, cols]
    return out


def write_outputs(model: CityModel, out_dir: Path, kpis: dict[str, Any]) -> list[Path]:
    """Write summary.json, timeseries.csv, grids.csv, scenario.toml and the four figures.

    ``kpis`` is ``model.kpis()`` (its ``provenance`` block is added from the model if missing).
    The case table is not written here: it is read from ``out_dir/cases.parquet`` if present
    (streamed there by :class:`sim.engine.cases.ParquetSink`); without it the time-to-resolution figure
    falls back to the model's binned resolution times. Returns the paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kpis = dict(kpis)
    if "provenance" not in kpis:
        kpis["provenance"] = model.kpis()["provenance"]
    kpis.setdefault("days", model.day)
    written = [write_summary(out_dir / "summary.json", kpis)]
    ts = model.timeseries()
    ts.to_csv(out_dir / "timeseries.csv", index=False)
    grids = grid_table(model)
    grids.to_csv(out_dir / "grids.csv", index=False)
    (out_dir / "scenario.toml").write_text(model.spec.to_toml(), encoding="utf-8")
    written += [out_dir / "timeseries.csv", out_dir / "grids.csv", out_dir / "scenario.toml"]
    hist = (np.asarray(model.accounts.closed.events.sum(axis=0)), _hist_edges())
    shocks = list(model.spec.data["world"]["shocks"])
    districts = None
    if model.layout.geo is not None:  # a real map: keep names and outlines to redraw it
        from ..engine.geography import map_districts

        districts = map_districts(model.layout.geo)
        path = out_dir / "districts.json"
        path.write_text(json.dumps(districts, ensure_ascii=False), encoding="utf-8")
        written.append(path)
    written += draw_figures(out_dir, jsonable(kpis), ts, grids, shocks, hist, districts)
    return written


def redraw(out_dir: Path) -> list[Path]:
    """Rebuild the figures of a results folder from its files (no model run)."""
    out_dir = Path(out_dir)
    kpis = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    ts = pd.read_csv(out_dir / "timeseries.csv")
    grids = pd.read_csv(out_dir / "grids.csv")
    shocks: list[dict[str, Any]] = []
    if (out_dir / "scenario.toml").exists():
        import tomllib

        text = (out_dir / "scenario.toml").read_text(encoding="utf-8")
        shocks = list(tomllib.loads(text).get("world", {}).get("shocks", []))
    path = out_dir / "districts.json"
    districts = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return draw_figures(out_dir, kpis, ts, grids, shocks, None, districts)


def read_cases(path: Path) -> pd.DataFrame | None:
    """The closed-case table (only the columns the figures use), or None if there is none."""
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    cols = ["stage", "level", "category", "t_detect", "t_close"]
    return pq.read_table(path, columns=cols).to_pandas()



def draw_figures(out_dir: Path, kpis: Mapping[str, Any], ts: pd.DataFrame, grids: pd.DataFrame,
                 shocks: list[dict[str, Any]],
                 hist: tuple[np.ndarray, np.ndarray] | None = None,
                 districts: Mapping[str, Any] | None = None) -> list[Path]:
    """Draw the four figures (case table from ``out_dir/cases.parquet``) and save them as PNG."""
    foot = footer(kpis)
    figs = make_figures(kpis, ts, grids, shocks, read_cases(out_dir / "cases.parquet"), hist,
                        districts)
    paths = []
    for name in FIGURES:
        path = out_dir / f"{name}.png"
        figs[name].savefig(path, dpi=DPI, metadata={"Software": "cityrisk", "Description": foot})
        paths.append(path)
    return paths


def _hist_edges() -> np.ndarray:
    from ..outcomes.accumulate import EDGES

    return EDGES


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.io.outputs DIR``: redraw the figures of a results folder."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sim.io.outputs RESULTS_DIR", file=sys.stderr)
        return 2
    for p in redraw(Path(args[0])):
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
