"""Calibration that survives: the study on disk, a killed fit resumed = one run straight through,
SLURM array workers sharing one study, the array job script."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.calibrate import fit as F
from sim.calibrate.study import open_study, trial_rows
from sim.cli import main
from tests.test_calibrate_fit import recovery_spec


def _spec():  # type: ignore[no-untyped-def]
    return recovery_spec(trials=10, batch=2, refine_top=2, refine_replications=2, polish_steps=0)


class Killed(Exception):
    """Stands for SIGKILL: raised inside a batch, after its trials were asked, before tell."""


def test_killed_and_resumed_equals_straight_run(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    spec = _spec()
    straight = F.fit(spec, progress=False, storage=tmp_path / "a.journal")

    calls = {"n": 0}
    real = F._Runner.run

    def dying(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # the third search batch: trials 4 and 5 asked, never told
            raise Killed
        return real(self, *args, **kwargs)

    monkeypatch.setattr(F._Runner, "run", dying)
    with pytest.raises(Killed):
        F.fit(spec, progress=False, storage=tmp_path / "b.journal")
    monkeypatch.setattr(F._Runner, "run", real)
    half = open_study(spec, tmp_path / "b.journal")
    assert len(trial_rows(half, spec)) == 4  # two batches told before the kill

    resumed = F.fit(spec, progress=False, storage=tmp_path / "b.journal")
    assert resumed.best == straight.best
    assert resumed.loss == straight.loss
    assert resumed.intervals == straight.intervals
    cols = [c for c in straight.trials.columns if c.startswith(("param.", "loss", "trial"))]
    assert resumed.trials[cols].equals(straight.trials[cols])
    # and a third start finds the search done: no new trials
    again = F.fit(spec, progress=False, storage=tmp_path / "b.journal")
    assert len(again.trials) == spec.trials and again.best == straight.best


def test_workers_fill_one_study_then_finish(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec_file = tmp_path / "toy.toml"
    spec_file.write_text(TOY_SPEC)
    out = tmp_path / "out"
    for _ in range(2):  # two array tasks, one after the other here
        assert main(["calibrate", str(spec_file), "--out", str(out), "--worker",
                     "--no-progress", "--executor", "serial"]) == 0
    assert "6 of 6 trials" in capsys.readouterr().out
    assert (out / "study.journal").exists()
    assert main(["calibrate", str(spec_file), "--out", str(out), "--no-progress",
                 "--no-figures", "--executor", "serial"]) == 0
    assert (out / "fit.json").exists()


def test_array_job_script(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec_file = tmp_path / "toy.toml"
    spec_file.write_text(TOY_SPEC)
    assert main(["calibrate", str(spec_file), "--out", str(tmp_path / "o"),
                 "--print-job-script", "16", "--partition", "normal", "--walltime", "02:00:00",
                 "--workers", "4"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/usr/bin/env bash")
    for line in ("#SBATCH --array=1-16", "#SBATCH -p normal", "#SBATCH -t 02:00:00",
                 "#SBATCH --cpus-per-task=4", "--worker", "sbatch --dependency=afterany:"):
        assert line in script, line
    assert not (tmp_path / "o").exists()  # nothing was run
    assert main(["calibrate", str(spec_file), "--out", str(tmp_path / "o"),
                 "--print-job-script", "0"]) == 2


TOY_SPEC = """
[calibrate]
scenario = "toy"
simulator = "sim.calibrate.testing:toy_run"
trials = 6
replications = 1
refine_top = 1
refine_replications = 2
polish_steps = 0
method = "random"
seed = 3
[parameters."toy.a"]
lo = 0.0
hi = 2.0
[targets."share"]
value = 0.4
sd = 0.05
"""
