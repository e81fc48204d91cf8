"""Sweeps through a real Dask LocalCluster on 127.0.0.1: equality with the serial executor,
a worker killed mid-sweep, and the driver killed mid-sweep then resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.sweep import Store, load_spec, run_sweep

REPO = Path(__file__).resolve().parents[1]

SPEC = """
name = "town-small"
scenario = "town"
days = 30
replications = {reps}
seed = 99
run_function = "{fn}"
[fixed]
"city.residents" = 20000
{extra}
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 1, 2, 3, 4, 6, 8, 10]
"levers.resource_integration" = [0.0, 0.5]
[execution]
chunk_size = {chunk}
"""


def write(tmp: Path, name: str, fn: str = "sim.run", extra: str = "", chunk: int = 8,
          reps: int = 4) -> Path:
    """A spec of 16 x reps runs of the real model (a 20,000-resident town, 30 days)."""
    p = tmp / f"{name}.toml"
    p.write_text(SPEC.format(fn=fn, extra=extra, chunk=chunk, reps=reps))
    return p


def wrapped(tmp: Path, name: str, fn: str, sleep: float, extra: str = "", chunk: int = 8) -> Path:
    """The same sweep through a test wrapper around sim.run (sleeps, or kills its worker)."""
    extra = f'"test.inner" = "sim.run"\n"test.sleep" = {sleep}\n{extra}'
    return write(tmp, name, f"sim.sweep.testing.{fn}", extra, chunk)


def rows(out: Path) -> pd.DataFrame:
    # wall time and spec hash differ between the wrapped specs compared here, by design
    return Store(out).read_runs().drop(columns=["wall_seconds", "spec_hash"], errors="ignore")


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pd.DataFrame:
    """The 64 runs of sim.run, serially in-process."""
    tmp = tmp_path_factory.mktemp("ref")
    out = tmp / "ref"
    run_sweep(load_spec(write(tmp, "ref")), out, executor="serial", progress=False)
    df = rows(out)
    assert df["escalated_share"].nunique() > 10  # a real model, not constants
    return df


@pytest.mark.timeout(300)
def test_local_cluster_sweep_equals_serial(tmp_path):
    spec = load_spec(write(tmp_path, "d", reps=1, chunk=5))
    run_sweep(spec, tmp_path / "serial", executor="serial", progress=False)
    rep = run_sweep(spec, tmp_path / "dask", executor="local", workers=2, progress=False)
    assert rep.complete and rep.done == 16 and not rep.failed
    pd.testing.assert_frame_equal(rows(tmp_path / "dask"), rows(tmp_path / "serial"))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killed_worker_loses_nothing(tmp_path, reference):
    kill_dir = tmp_path / "kill"
    kill_dir.mkdir()
    extra = f'"test.kill_dir" = "{kill_dir}"\n"test.kill_after" = 12'
    spec = load_spec(wrapped(tmp_path, "k", "kill_once_run", 0.05, extra))
    out = tmp_path / "killed"
    rep = run_sweep(spec, out, executor="local", workers=2, progress=False)
    victim = int((kill_dir / "killed").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)  # that worker process really died
    assert rep.complete and rep.done == 64 and not rep.failed
    df = rows(out)
    assert df["run_id"].is_unique
    pd.testing.assert_frame_equal(df, reference)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killed_driver_then_resume(tmp_path, reference):
    spec_path = wrapped(tmp_path, "drv", "sleepy_run", 0.15, chunk=3)
    out = tmp_path / "driver"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.sweep", "sweep", str(spec_path), "--out", str(out),
         "--workers", "2", "--no-progress"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        store = Store(out)
        while time.monotonic() < deadline:
            if store.exists() and store.count_done() >= 12:
                break
            assert proc.poll() is None, "sweep ended before it could be killed"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        time.sleep(0.5)
        try:  # reap the orphaned LocalCluster processes of that session
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    done_at_kill = store.count_done()
    assert 12 <= done_at_kill < 64
    rep = run_sweep(load_spec(spec_path), out, executor="local", workers=2, resume=True,
                    progress=False)
    assert rep.skipped == done_at_kill and rep.done == 64 - done_at_kill
    df = rows(out)
    assert df["run_id"].tolist() == list(range(64))  # no missing, no duplicates
    ids = pd.concat([pd.read_parquet(p, columns=["run_id"]) for p in store.part_files()])
    assert ids["run_id"].is_unique  # not even duplicated across chunks
    pd.testing.assert_frame_equal(df, reference)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_remote_scheduler_address(tmp_path):
    """``--executor dask --scheduler ADDRESS``: the same rows through a separately started
    scheduler (here a LocalCluster on 127.0.0.1 standing in for a cluster's)."""
    from dask.distributed import LocalCluster

    spec = load_spec(write(tmp_path, "r", reps=1, chunk=5))
    run_sweep(spec, tmp_path / "serial", executor="serial", progress=False)
    with LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1,
                      dashboard_address=None) as cluster:
        rep = run_sweep(spec, tmp_path / "remote", executor="dask",
                        scheduler=cluster.scheduler_address, progress=False)
    assert rep.complete and rep.done == 16
    pd.testing.assert_frame_equal(rows(tmp_path / "remote"), rows(tmp_path / "serial"))
