"""Round 8b (closing): the day's closed rows listed once for the last stages of the day
(``CaseTable.closed_rows``), and the kernels that read that list, against the code they replaced."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.cases import BURIED, CLOSED_STAGES, CaseTable, Stage, stage_rows
from sim.engine.collective import _remember
from sim.engine.stories import _closed_rows

_CODES = np.array([*range(len(Stage)), BURIED], dtype=np.int8)


def _table(rng: np.random.Generator, n: int) -> CaseTable:
    """A table of ``n`` rows in random stages (buried ones included), some of them buried by
    :meth:`CaseTable.bury` itself."""
    tab = CaseTable(16)
    tab.append(n)
    tab["stage"][:] = rng.choice(_CODES[:-1], n)
    tab["collective"][:] = rng.choice(np.array([0, 0, 0, 1, 2], dtype=np.int8), n)
    tab["grid"][:] = rng.integers(0, 50, n)
    tab["category"][:] = rng.integers(0, 4, n)
    tab["n_involved"][:] = rng.integers(1, 40, n)
    gone = np.flatnonzero(rng.random(n) < 0.02)
    if gone.size:
        tab.bury(gone)
    return tab


def _old_remember(stage, collective, grid, category, n_involved, community_of, memory) -> None:
    """grievance_memory's pass before the shared list: np.add.at over the rows that left
    unresolved and were not mobilised, in row order."""
    mask = np.isin(stage, (Stage.FADED, Stage.LAPSED, Stage.UNRESOLVED)) & (collective == 0)
    np.add.at(memory, (community_of[grid[mask]], category[mask]), n_involved[mask].astype(np.float64))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3_000))
def test_closed_rows_are_the_closed_stages_and_the_stories_list(seed, n):
    tab = _table(np.random.default_rng(seed), n)
    rows = tab.closed_rows(24.0)
    np.testing.assert_array_equal(rows, stage_rows(tab["stage"], CLOSED_STAGES))
    # the stories stage's own pass (stage >= RESOLVED; buried is -1) lists the same rows
    np.testing.assert_array_equal(rows, _closed_rows(tab["stage"], int(Stage.RESOLVED)))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 3_000))
def test_remember_over_the_list_matches_the_full_pass(seed, n):
    rng = np.random.default_rng(seed)
    tab = _table(rng, n)
    community_of = rng.integers(0, 7, 50).astype(np.int32)
    old = rng.random((7, 4))
    new = old.copy()
    _old_remember(tab["stage"], tab["collective"], tab["grid"], tab["category"], tab["n_involved"], community_of, old)
    _remember(tab.closed_rows(24.0), tab["stage"], tab["collective"], tab["grid"], tab["category"],
              tab["n_involved"], community_of, new, int(Stage.FADED), int(Stage.LAPSED), int(Stage.UNRESOLVED))
    np.testing.assert_array_equal(old, new)  # the same additions in the same order


def test_closed_rows_list_is_made_again_when_the_table_or_the_day_moves():
    rng = np.random.default_rng(5)
    tab = _table(rng, 2_000)
    first = tab.closed_rows(24.0)
    assert tab.closed_rows(24.0) is first  # shared within the day
    assert tab.closed_rows(48.0) is not first  # a new day
    tab.closed_rows(24.0)
    tab.append(3)
    tab["stage"][-1] = Stage.RESOLVED
    again = tab.closed_rows(24.0)
    assert again[-1] == tab.n - 1  # appended to: listed again
    tab.bury(again)
    assert tab.closed_rows(24.0).size == 0  # buried: listed again
    tab = _table(rng, 2_000)
    assert tab.buried
    first = tab.closed_rows(24.0)
    tab.compact()
    again = tab.closed_rows(24.0)
    assert again is not first and again.size == first.size  # compacted: listed again
    np.testing.assert_array_equal(again, stage_rows(tab["stage"], CLOSED_STAGES))


def test_pickled_table_forgets_the_list():
    import pickle

    tab = _table(np.random.default_rng(9), 500)
    tab.closed_rows(24.0)
    assert pickle.loads(pickle.dumps(tab))._closed is None


def test_last_stages_of_the_day_follow_each_other_in_the_plan():
    """grievance_memory, stories and close share one list of the day's closed rows
    (CaseTable.closed_rows), valid only while no stage is written between them: a stage put
    between them must not write a stage — this test fails until whoever inserts one has looked."""
    import sim

    names = sim.CityModel(sim.load_scenario("town", {"city.residents": 5_000}), rng=0).plan_names
    i = names.index("grievance_memory")
    assert names[i: i + 3] == ["grievance_memory", "stories", "close"]
