"""Every lever acts through a mechanism: walking ``cityrisk levers --json``, each lever moves its
documented outcome in its documented direction by more than two paired standard errors between
its two probe values on ``town`` (common random numbers: the same seeds in both arms), in the
lever's probe context where it has one (``LeverInfo.context``)."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

import sim
from sim.cli import main
from sim.config.levers import LEVER_INFO
from sim.executors import run_ordered

SEEDS = range(5)
DAYS = 180


def lever_table() -> list[dict]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["levers", "town", "--json"]) == 0
    return json.loads(buf.getvalue())


def test_the_table_lists_every_lever_with_its_mechanism():
    rows = lever_table()
    assert {r["key"] for r in rows} == set(sim.LEVERS)
    for r in rows:
        assert r["acts_on"] and r["unit"] and r["group"] and "value" in r
        assert r["effect"]["direction"] in ("up", "down")
        assert r["min"] <= r["value"] <= r["max"]


@pytest.mark.slow
@pytest.mark.parametrize("row", lever_table(), ids=lambda r: r["key"])
def test_lever_moves_its_outcome_in_the_documented_direction(row, run_pool):
    name = row["key"].split(".", 1)[1]
    low, high = LEVER_INFO[name].probe
    context = dict(LEVER_INFO[name].context)  # the regime in which the mechanism acts, if any
    outcome, sign = row["effect"]["outcome"], 1 if row["effect"]["direction"] == "up" else -1
    # the 2 x 5 seeded runs are independent: made on the session's process pool, in this order
    k = run_ordered(run_pool, [(sim.run, ("town", {**context, row["key"]: v}, s, DAYS))
                               for s in SEEDS for v in (high, low)], "levers")
    d = np.array([k[2 * i][outcome] - k[2 * i + 1][outcome] for i in range(len(SEEDS))])
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert sign * d.mean() > 2 * se, (name, outcome, d)
