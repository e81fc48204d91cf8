"""The wheel works outside the repository: build it, install it into a fresh venv in an empty
directory, and run what a new user would (issue #13).

Slow (builds a wheel and installs the dependencies from the package index or pip's cache).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "CITYRISK_SCENARIOS", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)} -> {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bin folder of a fresh venv with the wheel installed, an empty working directory)."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
         cwd=tmp, timeout=900)
    wheel = next(dist.glob("cityrisk-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "sim/data/scenarios/baseline.toml" in names and "sim/data/scenarios/town.toml" in names
    assert "sim/data/calibration/boston.toml" in names
    assert any(n.startswith("sim/data/calibration/data/") for n in names)
    assert any(n.startswith("sim/data/geo/xian/") for n in names)
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp)
    # --no-compile: pip's byte-compiling every dependency took most of the install's time, and a
    # module that does not compile still fails below, where it is imported
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile",
          f"{wheel}[app]"], cwd=tmp, timeout=1800)
    empty = tmp / "empty"
    empty.mkdir()
    return venv / "bin", empty


def test_version_scenarios_and_run(installed):
    bin_, empty = installed
    here = _run([str(bin_ / "python"), "-c", "import sim; print(sim.__file__)"], cwd=empty)
    assert str(bin_.parent) in here.stdout  # the installed copy, not the repository
    v = _run([str(bin_ / "cityrisk"), "--version"], cwd=empty)
    assert v.stdout.startswith("cityrisk ")
    s = _run([str(bin_ / "cityrisk"), "scenarios"], cwd=empty)
    names = {line.split()[0] for line in s.stdout.splitlines() if line.strip()}
    assert {"baseline", "town", "xian", "boston"} <= names
    r = _run([str(bin_ / "cityrisk"), "run", "town", "--days", "5", "--json"], cwd=empty)
    kpis = json.loads(r.stdout)
    assert kpis["days"] == 5
    prov = kpis["provenance"]
    assert prov["git_commit"] is None and prov["version"] == v.stdout.split()[1]
    assert prov["libraries"]["mesa"] != "absent"
    assert not any(empty.iterdir())  # wrote nothing where it ran


def test_app_answers_http(installed):
    bin_, empty = installed
    port = _free_port()
    proc = subprocess.Popen([str(bin_ / "cityrisk"), "app", "--port", str(port), "--lang", "en"],
                            cwd=empty, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline, last = time.monotonic() + 120, ""
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"app exited with {proc.returncode}: {proc.stdout.read()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                    assert resp.status == 200
                    body = resp.read().decode("utf-8", "replace")
                    assert "solara" in body.lower()
                    return
            except OSError as exc:
                last = str(exc)
                time.sleep(1)
        pytest.fail(f"no HTTP answer on port {port} within 120 s ({last})")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
