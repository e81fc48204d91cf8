"""Issue #14, "Run outputs" and the ``--out`` cases: a results folder holds one complete run or
nothing, an earlier run is never mixed with a new one, and write failures end in one line."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import sim.io.outputs as outputs
from sim.cli import main

RUN = ["run", "town", "--days", "2", "--quiet", "--set", "city.residents=1000"]
EXPECTED = {"summary.json", "timeseries.csv", "grids.csv", "scenario.toml", "cases.parquet",
            "dashboard.png", "resolution_levels.png", "time_to_resolution.png",
            "escalation_map.png"}


def one_error(capsys, needle: str) -> None:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("cityrisk: error:")]
    assert len(lines) == 1 and needle in lines[0], err


def siblings(path: Path) -> list[str]:
    """Hidden staging leftovers next to ``path``."""
    return [p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.")]


def test_out_is_complete_and_nothing_is_left_beside_it(tmp_path) -> None:
    out = tmp_path / "new" / "run"
    assert main([*RUN, "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == EXPECTED
    assert siblings(out) == []


def test_out_that_is_a_file(tmp_path, capsys) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    assert main([*RUN, "--out", str(f)]) == 2
    one_error(capsys, "is a file")
    assert main([*RUN, "--out", str(f / "sub")]) == 2
    one_error(capsys, "a parent path is a file")


def test_out_not_writable(tmp_path, capsys, monkeypatch) -> None:
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **kw):  # a read-only parent (root ignores chmod, so simulate it)
        if ".partial-" in self.name:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *a, **kw)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    assert main([*RUN, "--out", str(tmp_path / "o")]) == 2
    one_error(capsys, "cannot write there (Permission denied)")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_read_only_for_real(tmp_path, capsys) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    assert main([*RUN, "--out", str(ro / "o")]) == 2
    one_error(capsys, "cannot write there")


def test_reuse_refused_without_force_then_replaced_whole(tmp_path, capsys) -> None:
    out = tmp_path / "o"
    assert main([*RUN, "--out", str(out)]) == 0
    first = (out / "summary.json").read_bytes()
    (out / "dashboard.png").write_bytes(b"stale figure of an older run")
    assert main([*RUN, "--out", str(out)]) == 2
    one_error(capsys, "add --force")
    assert main([*RUN, "--seed", "3", "--out", str(out), "--force"]) == 0
    assert (out / "dashboard.png").read_bytes() != b"stale figure of an older run"
    assert (out / "summary.json").read_bytes() != first
    assert siblings(out) == []


def test_foreign_files_are_never_replaced(tmp_path, capsys) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main([*RUN, "--out", str(out), "--force"]) == 2
    one_error(capsys, "not cityrisk outputs")
    assert (out / "notes.txt").read_text() == "mine"


def test_killed_run_leaves_the_earlier_run_intact(tmp_path, monkeypatch) -> None:
    out = tmp_path / "o"
    assert main([*RUN, "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(*a, **kw):
        raise KeyboardInterrupt  # SIGINT/SIGTERM while the figures are drawn

    monkeypatch.setattr(outputs, "write_outputs", killed)
    assert main([*RUN, "--seed", "7", "--out", str(out), "--force"]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert siblings(out) == []


def test_disk_full_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    def full(model, out_dir, kpis):
        raise OSError(errno.ENOSPC, "No space left on device", str(out_dir / "grids.csv"))

    monkeypatch.setattr(outputs, "write_outputs", full)
    out = tmp_path / "o"
    assert main([*RUN, "--out", str(out)]) == 2
    one_error(capsys, "disk full")
    assert not out.exists() and siblings(out) == []
