"""Store, seeds, shards and resume, with the in-process executor and a fake model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.sweep import Store, StoreError, load_spec, plan_runs, run_seed, run_sweep
from sim.sweep.runner import execute_run

SPEC = """
name = "fake"
scenario = "town"
days = 20
replications = 3
seed = 5
run_function = "sim.sweep.testing.fake_run"
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 1, 2, 4, 8]
"levers.latency_hours_per_hop" = [0.0, 24.0]
[execution]
chunk_size = 4
"""


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    p = tmp_path / "fake.toml"
    p.write_text(SPEC)
    return p


def rows(out: Path) -> pd.DataFrame:
    return Store(out).read_runs().drop(columns="wall_seconds")


def test_seed_depends_only_on_coordinates():
    a = run_seed(5, 3, 1).generate_state(4)
    assert (a == run_seed(5, 3, 1).generate_state(4)).all()
    assert not (a == run_seed(5, 1, 3).generate_state(4)).all()
    assert not (a == run_seed(6, 3, 1).generate_state(4)).all()


def test_rows_have_ids_seed_params_and_numeric_kpis(spec_path, tmp_path):
    out = tmp_path / "out"
    rep = run_sweep(load_spec(spec_path), out, executor="serial", progress=False)
    assert rep.complete and rep.done == 30 and not rep.failed
    df = Store(out).read_runs()
    assert list(df.columns[:6]) == ["run_id", "point_id", "replication", "seed",
                                    "levers.grid_workers_per_grid", "levers.latency_hours_per_hop"]
    assert "escalated_share" in df and "by_department.police.closed_within_24h" in df
    assert "label" not in df  # non-numeric outputs are dropped
    assert df["run_id"].tolist() == list(range(30))
    assert (df["run_id"] == df["point_id"] * 3 + df["replication"]).all()
    assert df["seed"].is_unique
    assert df["levers.grid_workers_per_grid"].dtype == np.int64
    assert len(Store(out).part_files()) == 8  # chunks of 4 rows
    m = json.loads((out / "manifest.json").read_text())
    for key in ("spec", "spec_hash", "version", "git_commit", "total_runs", "spec_text"):
        assert key in m
    assert m["total_runs"] == 30 and m["spec"]["seed"] == 5


def test_execute_run_is_reproducible(spec_path):
    tasks = plan_runs(load_spec(spec_path))
    a = execute_run(tasks[7])
    b = execute_run(tasks[7])
    a.pop("wall_seconds"), b.pop("wall_seconds")
    assert a == b


def test_shards_together_equal_full_sweep(spec_path, tmp_path):
    spec = load_spec(spec_path)
    run_sweep(spec, tmp_path / "full", executor="serial", progress=False)
    for i in range(3):
        rep = run_sweep(spec, tmp_path / "sharded", executor="serial", progress=False,
                        shard=(i, 3))
        assert rep.total == 10 and rep.done == 10
    full, sharded = rows(tmp_path / "full"), rows(tmp_path / "sharded")
    assert sharded["run_id"].is_unique
    pd.testing.assert_frame_equal(full, sharded)


def test_process_pool_equals_serial(spec_path, tmp_path):
    """``--executor processes`` (the executor calibration also uses) gives the serial rows."""
    spec = load_spec(spec_path)
    run_sweep(spec, tmp_path / "serial", executor="serial", progress=False)
    rep = run_sweep(spec, tmp_path / "pool", executor="processes", workers=2, progress=False)
    assert rep.complete and not rep.failed
    pd.testing.assert_frame_equal(rows(tmp_path / "serial"), rows(tmp_path / "pool"))


def test_run_ordered_keeps_order_and_raises_the_first_failure():
    from sim.executors import SerialExecutor, run_ordered

    done: list[int] = []
    out = run_ordered(SerialExecutor(), [(pow, (2, i)) for i in range(5)], "t",
                      lambda i, _r: done.append(i))
    assert out == [1, 2, 4, 8, 16] and done == [0, 1, 2, 3, 4]
    with pytest.raises(ZeroDivisionError):
        run_ordered(SerialExecutor(), [(divmod, (1, 1)), (divmod, (1, 0))], "t")


def test_resume_skips_done_runs_and_fills_gaps(spec_path, tmp_path):
    spec = load_spec(spec_path)
    run_sweep(spec, tmp_path / "ref", executor="serial", progress=False)
    out = tmp_path / "out"
    run_sweep(spec, out, executor="serial", progress=False, shard=(0, 2))  # half the runs
    (out / "runs" / ".part-all-x.parquet.tmp").write_bytes(b"half a chunk")  # crash debris
    with pytest.raises(StoreError, match="--resume"):
        run_sweep(spec, out, executor="serial", progress=False)
    rep = run_sweep(spec, out, executor="serial", progress=False, resume=True)
    assert rep.skipped == 15 and rep.done == 15
    pd.testing.assert_frame_equal(rows(tmp_path / "ref"), rows(out))
    rep = run_sweep(spec, out, executor="serial", progress=False, resume=True)
    assert rep.done == 0 and rep.skipped == 30


def test_resume_refuses_changed_spec(spec_path, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(spec_path), "--out", str(out), "--executor", "serial",
                 "--no-progress"]) == 0
    spec_path.write_text(SPEC.replace("days = 20", "days = 21"))
    assert main(["sweep", str(spec_path), "--out", str(out), "--executor", "serial",
                 "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "spec changed since this store began" in err
    # execution knobs are not part of the spec hash
    spec_path.write_text(SPEC.replace("chunk_size = 4", "chunk_size = 50"))
    assert main(["sweep", str(spec_path), "--out", str(out), "--executor", "serial",
                 "--resume", "--no-progress"]) == 0


def test_failed_runs_are_reported_not_stored(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(SPEC.replace("sim.sweep.testing.fake_run", "sim.sweep.testing.kill_once_run"))
    assert main(["sweep", str(p), "--out", str(tmp_path / "o"), "--executor", "serial",
                 "--no-progress"]) == 1  # kill_once_run needs test.kill_dir -> KeyError
    out, err = capsys.readouterr()
    assert "20 failed" in out  # stopped early: the first 20 runs all failed
    assert "stopped: the first 20 runs all failed" in err and "KeyError" in err
    assert Store(tmp_path / "o").count_done() == 0


def test_store_chunks_are_atomic_and_deduplicated(tmp_path):
    s = Store(tmp_path)
    s.write_chunk([{"run_id": 1, "x": 1.0}, {"run_id": 2, "x": 2.0}])
    s.write_chunk([{"run_id": 2, "x": 2.0}, {"run_id": 3, "x": 3.0}])
    (tmp_path / "runs" / ".part-z.parquet.abc.tmp").write_bytes(b"garbage")
    assert s.done_run_ids() == {1, 2, 3}
    assert s.read_runs()["run_id"].tolist() == [1, 2, 3]
    assert s.clean_temp() == 1
    assert not list((tmp_path / "runs").glob(".*"))


def test_sigterm_saves_buffered_rows(tmp_path, capsys):
    """A driver stopped by SIGTERM (batch walltime) writes what it has before exiting."""
    import signal

    kill_dir = tmp_path / "k"
    kill_dir.mkdir()
    p = tmp_path / "term.toml"
    p.write_text(SPEC.replace("sim.sweep.testing.fake_run", "sim.sweep.testing.kill_once_run")
                 .replace("chunk_size = 4", "chunk_size = 1000\nflush_seconds = 1000")
                 + f'[fixed]\n"test.kill_dir" = "{kill_dir}"\n"test.kill_after" = 8\n'
                   '"test.kill_signal" = "SIGTERM"\n')
    old = signal.getsignal(signal.SIGTERM)
    try:
        rc = main(["sweep", str(p), "--out", str(tmp_path / "o"), "--executor", "serial",
                   "--no-progress"])
    finally:
        signal.signal(signal.SIGTERM, old)
    assert rc == 130 and "continue with --resume" in capsys.readouterr().err
    assert Store(tmp_path / "o").done_run_ids() == set(range(7))  # the 8th call was stopped
    assert main(["sweep", str(p), "--out", str(tmp_path / "o"), "--executor", "serial",
                 "--no-progress", "--resume"]) == 0
    assert Store(tmp_path / "o").count_done() == 30
