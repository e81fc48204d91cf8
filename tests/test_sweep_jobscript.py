"""Batch scripts: dask-jobqueue SLURM/PBS worker jobs and SLURM array shards (no scheduler)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

SPEC = """
scenario = "town"
days = 30
run_function = "sim.sweep.testing.fake_run"
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 4, 8]
[cluster]
kind = "{kind}"
jobs = 4
array_shards = 12
queue = "normal"
account = "cityrisk"
cores = 8
memory = "16GB"
walltime = "04:00:00"
job_extra_directives = ["--exclusive"]
"""


def spec(tmp_path: Path, kind: str = "slurm") -> Path:
    p = tmp_path / f"{kind}.toml"
    p.write_text(SPEC.format(kind=kind))
    return p


def test_slurm_jobqueue_script(tmp_path, capsys):
    assert main(["sweep", str(spec(tmp_path)), "--out", str(tmp_path / "store"),
                 "--print-job-script"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/usr/bin/env bash")
    for line in ("#SBATCH -p normal", "#SBATCH -A cityrisk", "#SBATCH --cpus-per-task=8",
                 "#SBATCH --mem=15G", "#SBATCH -t 04:00:00", "#SBATCH --exclusive"):
        assert line in script, line
    assert "distributed.cli.dask_worker tcp://SCHEDULER_ADDRESS:8786" in script
    assert "--nworkers 8" in script and "--nthreads 1" in script
    # workers get a Dask config that unsets MALLOC_TRIM_THRESHOLD_ (PITFALLS.md)
    cfg = tmp_path / "store" / ".dask" / "worker.yaml"
    assert f"export DASK_CONFIG={cfg}" in script
    assert "MALLOC_TRIM_THRESHOLD_: null" in cfg.read_text()
    assert not (tmp_path / "store" / "manifest.json").exists()  # nothing was run


def test_pbs_jobqueue_script(tmp_path, capsys):
    assert main(["sweep", str(spec(tmp_path, "pbs")), "--out", str(tmp_path / "s"),
                 "--print-job-script", "jobqueue", "--scheduler", "tcp://10.0.0.5:8786"]) == 0
    script = capsys.readouterr().out
    assert "#PBS -q normal" in script and "#PBS -l walltime=04:00:00" in script
    assert "tcp://10.0.0.5:8786" in script


def test_slurm_array_script(tmp_path, capsys):
    p = spec(tmp_path)
    assert main(["sweep", str(p), "--out", str(tmp_path / "store"),
                 "--print-job-script", "array"]) == 0
    script = capsys.readouterr().out
    assert "#SBATCH --array=1-12" in script and "#SBATCH -p normal" in script
    assert f"-m sim.sweep sweep {p.resolve()} --out {(tmp_path / 'store').resolve()}" in script
    assert "--shard ${SLURM_ARRAY_TASK_ID}/12" in script
    assert main(["sweep", str(p), "--print-job-script", "array", "--shards", "3"]) == 0
    assert "--shard ${SLURM_ARRAY_TASK_ID}/3" in capsys.readouterr().out


def test_job_script_needs_cluster_section(tmp_path, capsys):
    p = tmp_path / "plain.toml"
    p.write_text(SPEC.format(kind="slurm").split("[cluster]")[0])
    assert main(["sweep", str(p), "--print-job-script"]) == 2
    assert "[cluster]" in capsys.readouterr().err


@pytest.mark.parametrize("bad,needle", [('kind = "slurm"', 'cluster.kind = "sge"'),
                                        ("jobs = 4", "cluster.jobs = 0")])
def test_bad_cluster_section(tmp_path, capsys, bad, needle):
    p = tmp_path / "bad.toml"
    p.write_text(SPEC.format(kind="slurm").replace(bad, bad.replace('"slurm"', '"sge"')
                                                      .replace("4", "0")))
    assert main(["sweep", str(p), "--print-job-script"]) == 2
    assert needle in capsys.readouterr().err
