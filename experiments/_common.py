"""What the experiment scripts share: their options, the sweep behind them, curves and saving.

Each script ``experiments/<name>.py`` answers one question from the sweep ``<name>.toml``:
:func:`start` gives it ``--store``, ``--no-run``, ``--out`` and the executor options of
``cityrisk sweep``, runs (or finishes) the sweep and summarises its rows.
Importing this module first puts this checkout's ``sim`` ahead of any installed one.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from sim.executors.options import add_executor_options, executor_options  # noqa: E402
from sim.sweep import Results, load_results, load_spec, run_sweep, summarize  # noqa: E402


def parse_args(name: str, doc: str, argv: list[str] | None = None,
               extra: Callable[[argparse.ArgumentParser], None] | None = None
               ) -> argparse.Namespace:
    """Options of the script ``name`` (described by the first line of ``doc``); ``extra`` adds
    the script's own."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--store", type=Path, default=ROOT / "runs" / name)
    add_executor_options(ap, default="local")
    ap.add_argument("--no-run", action="store_true", help="only redraw from the store")
    ap.add_argument("--out", type=Path, default=HERE / "figures" / f"{name}.png")
    if extra is not None:
        extra(ap)
    return ap.parse_args(argv)


def start(name: str, doc: str, argv: list[str] | None, kpis: list[str],
          extra: Callable[[argparse.ArgumentParser], None] | None = None, header: bool = True
          ) -> tuple[argparse.Namespace, Results, pd.DataFrame]:
    """Parse the options, run (or finish) the sweep ``name`` unless ``--no-run``, load it and
    summarise ``kpis`` per point: ``(args, results, summary)``. Exits with status 1 (and a
    message) if the store holds no finished run. ``header`` prints how many runs there are."""
    args = parse_args(name, doc, argv, extra)
    if not args.no_run:
        run_on = executor_options(args)
        run_sweep(load_spec(HERE / f"{name}.toml"), args.store, executor=run_on.kind or "local",
                  workers=run_on.workers, scheduler=run_on.address,
                  resume=(args.store / "manifest.json").exists())
    res = load_results(args.store)
    if res.runs.empty:
        sys.exit(f"{args.store}: no finished runs")
    if header:
        print(f"{name}: {len(res.runs)} runs ({res.missing} missing)")
    return args, res, summarize(res.runs, res.params, kpis)


def groups(s: pd.DataFrame, kpi: str, hue: str, x: str
           ) -> Iterator[tuple[Any, pd.DataFrame, np.ndarray, np.ndarray]]:
    """Per value of ``hue``: the summary rows of ``kpi`` sorted by ``x``, x and mean as arrays."""
    for h, g in s[s.kpi == kpi].groupby(hue):
        g = g.sort_values(x)
        yield h, g, g[x].to_numpy(float), g["mean"].to_numpy()


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the file-only Agg backend (scripts run without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def two_panels(ratios: tuple[int, int] | None = None) -> Any:
    """``(fig, (left, right))``: the two panels side by side of a 10.5 x 4 inch figure."""
    kw = {"gridspec_kw": {"width_ratios": list(ratios)}} if ratios else {}
    return pyplot().subplots(1, 2, figsize=(10.5, 4), **kw)


def curve(ax: Any, x: Any, g: Any, label: str) -> Any:
    """Plot the mean of a summary group ``g`` in % against ``x`` with its 95% CI as a band;
    returns the line's colour."""
    (line,) = ax.plot(x, 100 * g["mean"].to_numpy(), marker="o", ms=4, label=label)
    ax.fill_between(x, 100 * g["ci_lo"].clip(lower=0), 100 * g["ci_hi"],
                    color=line.get_color(), alpha=0.2, lw=0)
    return line.get_color()


#: The y label of every escalated-share panel.
ESCALATED = "escalated share of cases, %  (mean, 95% CI)"
#: The y label of every caused-escalation panel (the headline metric since issue 10).
CAUSED = "caused escalations, % of cases  (mean, 95% CI)"
#: The headline KPI (severity rose after emergence) and the secondary ones shown beside it.
HEADLINE, SECONDARY = "caused_escalation_share", ("escalated_share", "lapsed_share")


def value(s: Any, kpi: str, **at: Any) -> float:
    """Mean of ``kpi`` in the summary ``s`` at the point where the parameters equal ``at``."""
    m = s.kpi == kpi
    for k, v in at.items():
        m &= np.isclose(s[k], v)
    return float(s.loc[m, "mean"].iloc[0])


def dashed(ax: Any, s: pd.DataFrame, kpi: str, hue: str, h: Any, x: str, color: str) -> None:
    """The mean of a secondary ``kpi`` in % against ``x`` at ``hue == h``, as a thin dashed line."""
    g = s[(s.kpi == kpi) & (s[hue] == h)].sort_values(x)
    ax.plot(g[x], 100 * g["mean"], ls="--", lw=1, color=color)


def label(ax: Any, xlabel: str, ylabel: str, title: str, legend: bool = True) -> None:
    """Labels, title and grid of a panel, and its legend unless told not to."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(fontsize=8)


def save(fig: Any, out: Path) -> int:
    """Lay out, write ``out`` (130 dpi) and say where; 0 (the scripts' exit code)."""
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    print(f"figure: {out}")
    return 0


def run_arms(args: argparse.Namespace, arms: list[str], one: Callable[[tuple[str, int]], dict],
             reps: int) -> pd.DataFrame:
    """Every arm × replication (replication *r* of every arm with the same seed: common random
    numbers) in a local process pool, unless ``--no-run``; the rows are stored in
    ``args.store/runs.parquet`` and read back from there."""
    store = args.store / "runs.parquet"
    if not args.no_run:
        tasks = [(a, r) for r in range(reps) for a in arms]
        t0 = time.time()
        with ProcessPoolExecutor(max_workers=args.workers or 2) as pool:
            rows = list(pool.map(one, tasks))
        args.store.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_parquet(store)
        print(f"{len(rows)} runs in {time.time() - t0:.0f} s with {args.workers or 2} processes")
    elif not store.exists():
        sys.exit(_missing(store))
    return pd.read_parquet(store)


def _missing(store: Path) -> int:
    print(f"error: --no-run, but there is no store {store}: run the script once without --no-run",
          file=sys.stderr)
    return 2


def run_with_records(scenario: str, seed: int, days: int, overrides: dict | None = None
                     ) -> tuple[Any, dict[str, np.ndarray]]:
    """Run ``scenario`` and return the model and every case's record: the closed cases the run
    handed to its sink, then the cases still open at the end."""
    import sim
    from sim.io.sinks import MemorySink

    sink = MemorySink()
    m = sim.CityModel(scenario, rng=seed, case_sink=sink, overrides=overrides or {}).run(days)
    rec, opened = sink.table(), m.cases.take(np.ones(len(m.cases), dtype=bool))
    return m, {k: np.concatenate([rec[k], opened[k]]) for k in rec}


def small_parser(doc: str | None, scenario: str, days: int = 365) -> argparse.ArgumentParser:
    """``--scenario``, ``--seed``, ``--days`` for a one-run measurement script."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=scenario, help=f"scenario name or TOML path (default {scenario})")
    ap.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    ap.add_argument("--days", type=int, default=days, help=f"days to simulate (default {days})")
    return ap

