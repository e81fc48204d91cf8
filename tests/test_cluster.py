"""Sweeps on a real cluster, not a stand-in: a single-node SLURM started by .ci/start_slurm.sh
(an sbatch array of ``--shard I/N`` tasks, and dask-jobqueue's ``SLURMCluster``), and separately
started ``dask scheduler`` / ``dask worker`` processes. Every store must hold rows bit-identical
to a serial sweep of the same spec.

Marked ``cluster`` (and ``slow``): ``pytest -m cluster``. On a site's own SLURM, name its
partition in ``CITYRISK_SLURM_PARTITION`` and put the temporary stores on a shared file system
(``--basetemp``). The SLURM tests skip, with the reason, where SLURM is not installed or cannot
start within about a minute (not root, no munge, ...).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sim.sweep import Store, load_spec, run_sweep

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
CI = REPO / ".ci"
SHARDS = 3

# 6 runs of the real model: a 5,000-resident town for 10 days. The [cluster] section is the same
# for every test (it is part of the spec's hash); the SLURM jobs run this Python with this checkout
# on PYTHONPATH.
SPEC = """
name = "town-cluster"
scenario = "town"
days = 10
replications = 2
seed = 7
[fixed]
"city.residents" = 5000
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 4, 8]
[execution]
chunk_size = 2
[cluster]
kind = "slurm"
jobs = 2
array_shards = {shards}
queue = "{queue}"
cores = 1
memory = "900MB"
walltime = "00:10:00"
python = "{python}"
job_script_prologue = ["export PYTHONPATH={repo}", "cd {repo}"]
log_directory = "{logs}"
scheduler_options = {{ dashboard_address = ":0" }}
"""


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}


def rows(out: Path) -> pd.DataFrame:
    """The store's rows by run id; wall time is the only column allowed to differ."""
    df = Store(out).read_runs().drop(columns=["wall_seconds"])
    return df.sort_values("run_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("cluster")
    (tmp / "logs").mkdir()
    p = tmp / "town.toml"
    p.write_text(SPEC.format(shards=SHARDS, python=sys.executable, repo=REPO, logs=tmp / "logs",
                         queue=os.environ.get("CITYRISK_SLURM_PARTITION", "debug")))
    return p


@pytest.fixture(scope="module")
def reference(spec_path) -> pd.DataFrame:
    """The same sweep serially, in this process."""
    out = spec_path.parent / "serial"
    rep = run_sweep(load_spec(spec_path), out, executor="serial", progress=False)
    assert rep.complete and rep.done == 6
    df = rows(out)
    assert df["cases_total"].nunique() > 1  # a real model, not constants
    return df


def _slurm_up() -> bool:
    try:
        r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(s.startswith(("idle", "mixed", "allocated")) for s in r.stdout.split())


@pytest.fixture(scope="session")
def slurm() -> Iterator[None]:
    """A running single-node SLURM: found, or started by .ci/start_slurm.sh (and stopped after
    the session); skips the test if it cannot be had within about a minute."""
    if _slurm_up():
        yield
        return
    if shutil.which("slurmctld") is None or shutil.which("munged") is None:
        pytest.skip("SLURM is not installed (slurm-wlm, munge: .ci/install_slurm.sh)")
    if os.geteuid() != 0:
        pytest.skip("SLURM is not running and starting it needs root (.ci/start_slurm.sh)")
    try:
        r = subprocess.run(["bash", str(CI / "start_slurm.sh")], capture_output=True, text=True,
                           timeout=60)
    except subprocess.TimeoutExpired:
        subprocess.run(["bash", str(CI / "stop_slurm.sh")], capture_output=True, timeout=60)
        pytest.skip("SLURM did not start within 60 s (.ci/start_slurm.sh)")
    if r.returncode != 0:
        subprocess.run(["bash", str(CI / "stop_slurm.sh")], capture_output=True, timeout=60)
        pytest.skip(f"SLURM could not start here: {(r.stderr or r.stdout).strip()[-400:]}")
    try:
        yield
    finally:
        subprocess.run(["bash", str(CI / "stop_slurm.sh")], capture_output=True, timeout=60)


def _wait_job(job: str, timeout: float) -> None:
    """Poll squeue until job ``job`` (all its array tasks) has left the queue."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(["squeue", "-h", "-j", job, "-o", "%i %T"], capture_output=True,
                           text=True, timeout=10)
        if r.returncode == 0 and not r.stdout.strip():
            return
        time.sleep(0.5)
    subprocess.run(["scancel", job], capture_output=True, timeout=10)
    pytest.fail(f"SLURM job {job} still queued or running after {timeout:.0f} s")


@pytest.mark.timeout(300)
def test_slurm_array_shards_equal_serial(slurm, spec_path, reference, capsys):
    from sim.cli import main

    tmp = spec_path.parent
    out = tmp / "array"
    assert main(["sweep", str(spec_path), "--out", str(out), "--print-job-script", "array"]) == 0
    script = tmp / "array.sh"
    script.write_text(capsys.readouterr().out)
    assert f"--shard ${{SLURM_ARRAY_TASK_ID}}/{SHARDS}" in script.read_text()
    r = subprocess.run(["sbatch", "--parsable", "-D", str(tmp), "-o", str(tmp / "logs/a_%A_%a.out"),
                        str(script)], capture_output=True, text=True, timeout=30, env=env())
    assert r.returncode == 0, r.stderr
    job = r.stdout.strip().split(";")[0]
    _wait_job(job, 240)
    logs = "\n".join(p.read_text() for p in sorted((tmp / "logs").glob(f"a_{job}_*.out")))
    assert len(list((tmp / "logs").glob(f"a_{job}_*.out"))) == SHARDS, logs
    df = rows(out)
    assert len(df) == 6, logs
    pd.testing.assert_frame_equal(df, reference)


@pytest.mark.timeout(300)
def test_slurm_jobqueue_cluster_equals_serial(slurm, spec_path, reference):
    out = spec_path.parent / "jobqueue"
    r = subprocess.run([sys.executable, "-m", "sim.sweep", "sweep", str(spec_path), "--out",
                        str(out), "--executor", "dask", "--no-progress"],
                       cwd=spec_path.parent, env=env(), capture_output=True, text=True,
                       timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    pd.testing.assert_frame_equal(rows(out), reference)
    # the runs really went through SLURM worker jobs (dask-jobqueue logs one file per job)
    worker_logs = list((spec_path.parent / "logs").glob("dask-worker-*.err"))
    assert worker_logs, "no SLURM worker job ran"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in reversed(procs):
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)


@pytest.mark.timeout(300)
def test_separate_dask_scheduler_and_workers_equal_serial(spec_path, reference, tmp_path):
    """``dask scheduler`` and two ``dask worker`` processes started on their own (no SLURM)."""
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    cli = [sys.executable, "-m"]
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            [*cli, "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0"],
            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for i in range(2):
            procs.append(subprocess.Popen(
                [*cli, "distributed.cli.dask_worker", addr, "--nworkers", "1", "--nthreads", "1",
                 "--host", "127.0.0.1", "--name", f"w{i}", "--local-directory", str(tmp_path),
                 "--no-dashboard"],
                cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_workers(addr, 2, 60)
        out = tmp_path / "remote"
        r = subprocess.run([*cli, "sim.sweep", "sweep", str(spec_path), "--out", str(out),
                            "--executor", "dask", "--scheduler", addr, "--no-progress"],
                           cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=240)
        assert r.returncode == 0, r.stderr[-2000:]
        pd.testing.assert_frame_equal(rows(out), reference)
    finally:
        _stop(procs)


def _wait_workers(addr: str, n: int, timeout: float) -> None:
    from dask.distributed import Client

    with Client(addr, timeout=f"{timeout}s") as c:
        c.wait_for_workers(n, timeout=timeout)
