"""Issue #14, "Tracebacks instead of exit 2" and "Accepted but wrong": every bad input through the
real command line ends with exit 2 and one ``error:`` line naming the field, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SWEEP = """scenario = "town"
days = 2
[fixed]
"city.residents" = 1000
[design]
kind = "grid"
[design.parameters]
"levers.mediators_per_street" = [1, 2]
"""
CAL = """[calibrate]
scenario = "town"
days = 2
trials = 2
[parameters."world.overdispersion"]
lo = 0.0
hi = 2.0
[targets."resolved_share"]
value = 0.5
sd = 0.1
"""


def fails(argv: list[str], capsys, needle: str) -> str:
    """Run the CLI in-process; assert exit 2, one error line containing ``needle``."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if "error" in ln]
    assert len(lines) == 1, err
    assert needle in lines[0], err
    return lines[0]


# -- scenario files -------------------------------------------------------------------------
def test_scenario_directory(tmp_path, capsys) -> None:
    fails(["run", str(tmp_path)], capsys, "is a directory")


def test_scenario_binary(tmp_path, capsys) -> None:
    p = tmp_path / "bin.toml"
    p.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00garbage\xff\xfe")
    fails(["run", str(p)], capsys, "binary file")


def test_scenario_not_utf8(tmp_path, capsys) -> None:
    p = tmp_path / "latin.toml"
    p.write_bytes(b"[meta]\ndescription = \"caf\xe9\"\n")
    fails(["run", str(p)], capsys, "not UTF-8")


def test_scenario_deeply_nested(tmp_path, capsys) -> None:
    p = tmp_path / "deep.toml"
    p.write_text("v = " + "[" * 5000 + "]" * 5000 + "\n")
    fails(["run", str(p)], capsys, "nested too deeply")


def test_scenario_dev_zero_is_refused_without_reading(capsys) -> None:
    fails(["run", "/dev/zero"], capsys, "not a regular file")


def test_scenario_too_large(tmp_path, capsys) -> None:
    p = tmp_path / "big.toml"
    p.write_text("# " + "x" * 1_100_000 + "\n")
    fails(["run", str(p)], capsys, "larger than")


def test_extends_cycle_written_as_paths(tmp_path, capsys) -> None:
    (tmp_path / "sub").mkdir()
    a = tmp_path / "a.toml"
    a.write_text(f'[meta]\nextends = "{tmp_path}/sub/../a.toml"\n')
    fails(["run", str(a)], capsys, "circular inheritance")
    b = tmp_path / "b.toml"
    c = tmp_path / "c.toml"
    b.write_text(f'[meta]\nextends = "{c}"\n')
    c.write_text(f'[meta]\nextends = "{tmp_path}/./b.toml"\n')
    fails(["run", str(b)], capsys, "circular inheritance")


def test_set_gets_the_row_checks_of_files(capsys) -> None:
    fails(["run", "town", "--set", "world.categories.cyber.severity_probs=[0,0,0,0]"], capsys,
          "must sum to 1")
    fails(["run", "town", "--set", "world.categories.cyber.pair_share=0.9",
           "--set", "world.categories.cyber.collective_share=0.9"], capsys,
          "pair_share + collective_share")


def test_set_meta_extends_is_refused(capsys) -> None:
    fails(["run", "town", "--set", "meta.extends=xian"], capsys, "meta.extends")


@pytest.mark.parametrize("hours", ["nan", "inf", "-inf", "1e12", "10"])
def test_validate_hours_out_of_range(hours, capsys) -> None:
    fails(["validate", f"--hours={hours}"], capsys, "--hours")


# -- sweep specs ----------------------------------------------------------------------------
def sweep(tmp_path: Path, text: str) -> list[str]:
    p = tmp_path / "s.toml"
    p.write_text(text)
    return ["sweep", str(p), "--out", str(tmp_path / "o"), "--executor", "serial",
            "--no-progress"]


@pytest.mark.parametrize("change, needle", [
    ([("days = 2", "days = 1000000000")], "days = 1000000000"),
    ([("days = 2", "days = 2\nreplications = 1000000000000")], "runs is more than the limit"),
    ([("[1, 2]", "{ lo = 1, hi = 5, num = 1000000000 }")], "num = 1000000000"),
    ([('kind = "grid"', 'kind = "lhs"\nsamples = 1000000000'),
      ("[1, 2]", "{ lo = 1, hi = 5 }")], "runs is more than the limit"),
    ([("days = 2", 'days = 2\noutputs = ["escalated_shares"]')], "'escalated_shares' is not"),
])
def test_sweep_spec_refused_up_front(tmp_path, capsys, change, needle) -> None:
    text = SWEEP
    for old, new in change:
        text = text.replace(old, new)
    fails(sweep(tmp_path, text), capsys, needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("analysis, needle", [
    ("prim = 5", "analysis.prim = 5"),
    ('kpis = ["nokpi"]', "'nokpi' is not"),
    ("confidence = 2", "analysis.confidence"),
    ('prim = { kpi = "escalated_share" }', "needs kpi and threshold"),
])
def test_sweep_analysis_table_checked_before_the_sweep(tmp_path, capsys, analysis,
                                                      needle) -> None:
    fails(sweep(tmp_path, SWEEP + f"\n[analysis]\n{analysis}\n"), capsys, needle)


def test_sweep_spec_binary(tmp_path, capsys) -> None:
    p = tmp_path / "s.toml"
    p.write_bytes(b"\x00\x01\x02binary")
    fails(["sweep", str(p), "--out", str(tmp_path / "o")], capsys, "binary file")


@pytest.mark.slow
def test_sweep_unreachable_scheduler(tmp_path, capsys) -> None:
    """Dask gives up after its connect timeout (30 s by default; 2 s here, through Dask's
    config, which is what the timeout is read from); then one line, exit 2."""
    import dask

    argv = sweep(tmp_path, SWEEP)
    argv[argv.index("serial")] = "dask"
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        fails([*argv, "--scheduler", "tcp://127.0.0.1:9"], capsys, "connect")


def test_the_scheduler_connect_timeout_defaults_to_30_s(monkeypatch) -> None:
    """The shortened timeout above is a test setting: by default a sweep waits Dask's 30 s."""
    import dask
    import dask.distributed

    from sim.executors.dask_cluster import DaskExecutor

    seen: list[object] = []

    def client(address: str, timeout: object) -> None:
        seen.append(timeout)
        raise OSError("stop here")

    monkeypatch.setattr(dask.distributed, "Client", client)
    with pytest.raises(OSError, match="stop here"):
        DaskExecutor.remote("tcp://127.0.0.1:9")
    assert dask.utils.parse_timedelta(seen[0]) == 30


# -- analyze --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("store")
    assert main(sweep(tmp, SWEEP)) == 0
    return tmp / "o"


def test_analyze_unknown_kpi(store, capsys) -> None:
    fails(["analyze", str(store), "--kpi", "nokpi", "--no-figures"], capsys, "'nokpi' is not")


def test_analyze_deleted_points_file(store, tmp_path, capsys) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(store, copy)
    (copy / "points.parquet").unlink()
    fails(["analyze", str(copy), "--no-figures"], capsys, "points.parquet")


# -- calibration specs ----------------------------------------------------------------------
def test_calibrate_binary_spec(tmp_path, capsys) -> None:
    p = tmp_path / "c.toml"
    p.write_bytes(b"\xff\xfe\x00\x00binary")
    fails(["calibrate", str(p), "--check", "--out", str(tmp_path / "o")], capsys, "binary file")


@pytest.mark.parametrize("change, needle", [
    (('scenario = "town"', 'scenario = "no_such_scenario"'), "no_such_scenario"),
    (('scenario = "town"', 'scenario = "town"\nsimulator = "no_such_module:run"'),
     "cannot import"),
    (('scenario = "town"', 'scenario = "town"\noverrides = { "city.residents" = 0 }'),
     "city.residents"),
])
def test_calibrate_check_checks_what_a_run_needs(tmp_path, capsys, change, needle) -> None:
    p = tmp_path / "c.toml"
    p.write_text(CAL.replace(*change))
    fails(["calibrate", str(p), "--check", "--out", str(tmp_path / "o")], capsys, needle)


def test_calibrate_check_ok(tmp_path, capsys) -> None:
    p = tmp_path / "c.toml"
    p.write_text(CAL)
    assert main(["calibrate", str(p), "--check", "--out", str(tmp_path / "o")]) == 0
    assert "ok" in capsys.readouterr().out


# -- pipes ----------------------------------------------------------------------------------
def test_broken_pipe_is_one_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", "town", "--days", "2",
                             "--quiet", "--json", "--set", "city.residents=1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    proc.stdout.close()  # the reader is gone before anything is written (`| head -0`)
    err = proc.stderr.read().decode()
    assert proc.wait() != 0
    assert "Traceback" not in err and "pipe closed" in err, err
