"""Issue #14, "Sweep store": a truncated chunk, a lost manifest and two writers at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.sweep import Store, StoreError, load_spec, run_sweep

ROOT = Path(__file__).resolve().parents[1]
SPEC = """
name = "fake"
scenario = "town"
days = 20
replications = 2
seed = 5
run_function = "sim.sweep.testing.fake_run"
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 1, 2, 4]
[execution]
chunk_size = 3
"""


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    p = tmp_path / "fake.toml"
    p.write_text(SPEC)
    return p


def rows(out: Path) -> pd.DataFrame:
    return Store(out).read_runs().drop(columns="wall_seconds")


def test_spec_hash_in_every_row_and_chunk(spec_path, tmp_path) -> None:
    spec = load_spec(spec_path)
    out = tmp_path / "o"
    run_sweep(spec, out, executor="serial", progress=False)
    parts = Store(out).part_files()
    assert parts
    for p in parts:
        assert pq.read_schema(p).metadata[b"cityrisk.spec_hash"].decode() == spec.hash
    assert set(rows(out)["spec_hash"]) == {spec.hash}


def test_truncated_chunk_is_quarantined_and_redone(spec_path, tmp_path, capsys) -> None:
    spec = load_spec(spec_path)
    ref, out = tmp_path / "ref", tmp_path / "o"
    run_sweep(spec, ref, executor="serial", progress=False)
    run_sweep(spec, out, executor="serial", progress=False)
    victim = Store(out).part_files()[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # a full disk or a killed copy
    code = main(["sweep", str(spec_path), "--out", str(out), "--executor", "serial",
                 "--resume", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    assert "unreadable" in err and "quarantine" in err
    assert (out / "quarantine" / victim.name).exists()
    pd.testing.assert_frame_equal(rows(ref), rows(out))


def test_lost_manifest_refuses_another_spec(spec_path, tmp_path, capsys) -> None:
    out = tmp_path / "o"
    argv = ["sweep", str(spec_path), "--out", str(out), "--executor", "serial", "--no-progress"]
    assert main(argv) == 0
    (out / "manifest.json").unlink()
    spec_path.write_text(SPEC.replace("days = 20", "days = 21"))
    assert main([*argv, "--resume"]) == 2
    assert "manifest.json is missing" in capsys.readouterr().err
    # the same spec may rebuild its manifest: its rows carry its hash
    spec_path.write_text(SPEC)
    assert main([*argv, "--resume"]) == 0
    assert json.loads((out / "manifest.json").read_text())["spec_hash"] == load_spec(
        spec_path).hash


def test_second_writer_is_refused_while_one_runs(spec_path, tmp_path, capsys) -> None:
    out = tmp_path / "o"
    spec = load_spec(spec_path)
    run_sweep(spec, out, executor="serial", progress=False)
    # another process holds the writer lock, as a running `cityrisk sweep --resume` does
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'a+'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
         str(out / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["sweep", str(spec_path), "--out", str(out), "--executor", "serial",
                     "--resume", "--no-progress"]) == 2
        assert "another cityrisk sweep is writing" in capsys.readouterr().err
        with pytest.raises(StoreError):  # shards wait too while a whole-sweep writer runs
            run_sweep(spec, out, executor="serial", progress=False, shard=(0, 2))
    finally:
        holder.kill()
        holder.wait()
    assert run_sweep(spec, out, executor="serial", progress=False, resume=True).done == 0


def test_shards_share_the_lock(spec_path, tmp_path) -> None:
    spec = load_spec(spec_path)
    out = tmp_path / "o"
    a = Store(out)
    a.lock(shared=True)
    try:  # a second shard of the same store may write at the same time
        run_sweep(spec, out, executor="serial", progress=False, shard=(1, 2))
    finally:
        a.close()
