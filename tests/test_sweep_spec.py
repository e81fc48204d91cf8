"""Sweep specs: parsing, designs, validation errors (exit code 2, key path, value, range)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.sweep.designs import build_design
from sim.sweep.spec import SpecError, load_spec, parse_spec

REPO = Path(__file__).resolve().parents[1]


@dataclass
class FakeField:
    lo: float
    hi: float
    default: float
    doc: str = ""
    kind: str = "float"


FIELDS = {
    "levers.grid_workers_per_grid": FakeField(0, 20, 5, kind="int"),
    "levers.latency_hours_per_hop": FakeField(0, 720, 4.0),
    "levers.resource_integration": FakeField(0, 1, 0.5),
}


def lookup(key: str) -> FakeField:
    if key not in FIELDS:
        raise KeyError(f"unknown parameter {key}")
    return FIELDS[key]


BASE = """
scenario = "town"
days = 30
replications = 2
seed = 11
run_function = "sim.sweep.testing.fake_run"
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 2, 4]
"levers.latency_hours_per_hop" = { lo = 0, hi = 48, num = 3 }
"""


def spec_of(text: str, lookup_fn=lookup):
    return parse_spec(tomllib.loads(text), "x.toml", field_lookup=lookup_fn)


def test_grid_spec_and_design():
    spec = spec_of(BASE)
    d = build_design(spec.design)
    assert d.n_points == 9
    assert d.names == ("levers.grid_workers_per_grid", "levers.latency_hours_per_hop")
    assert d.point(0) == {"levers.grid_workers_per_grid": 0, "levers.latency_hours_per_hop": 0.0}
    assert d.point(8) == {"levers.grid_workers_per_grid": 4, "levers.latency_hours_per_hop": 48.0}
    assert isinstance(d.point(3)["levers.grid_workers_per_grid"], int)
    assert list(d.frame().columns) == ["point_id", *d.names]


def test_list_design():
    text = BASE.split("[design]")[0] + """
[design]
kind = "list"
[[design.points]]
"levers.grid_workers_per_grid" = 3
"levers.resource_integration" = 0.2
[[design.points]]
"levers.grid_workers_per_grid" = 7
"levers.resource_integration" = 0.9
"""
    d = build_design(spec_of(text).design)
    assert d.n_points == 2
    assert d.point(1) == {"levers.grid_workers_per_grid": 7, "levers.resource_integration": 0.9}


@pytest.mark.parametrize("kind,samples,n", [("lhs", 20, 20), ("sobol", 16, 16 * 5),
                                             ("morris", 5, 5 * 4)])
def test_sampled_designs_are_deterministic_and_in_range(kind, samples, n):
    text = BASE.split("[design]")[0] + f"""
[design]
kind = "{kind}"
samples = {samples}
[design.parameters]
"levers.grid_workers_per_grid" = {{ lo = 0, hi = 10 }}
"levers.latency_hours_per_hop" = {{ lo = 1, hi = 72 }}
"levers.resource_integration" = {{ lo = 0, hi = 1 }}
"""
    a, b = build_design(spec_of(text).design), build_design(spec_of(text).design)
    assert a.n_points == n
    np.testing.assert_array_equal(a.values, b.values)
    assert (a.values[:, 0] == np.rint(a.values[:, 0])).all()  # int field rounded
    assert a.values[:, 0].min() >= 0 and a.values[:, 0].max() <= 10
    assert a.values[:, 1].min() >= 1 and a.values[:, 1].max() <= 72
    other = text.replace("seed = 11", "seed = 12")
    assert not np.array_equal(build_design(spec_of(other).design).raw, a.raw)


def test_spec_hash_tracks_results_not_execution():
    a = spec_of(BASE)
    assert a.hash == spec_of(BASE + "\n[execution]\nchunk_size = 5\n").hash
    assert a.hash != spec_of(BASE.replace("days = 30", "days = 31")).hash
    assert a.hash != spec_of(BASE.replace("[0, 2, 4]", "[0, 2, 5]")).hash


@pytest.mark.parametrize("edit,needle", [
    (("days = 30", "days = 0"), "days = 0: must be an integer >= 1"),
    (("replications = 2", "replications = 1.5"), "replications = 1.5"),
    (('kind = "grid"', 'kind = "random"'), 'design.kind = "random": must be one of grid'),
    (("[0, 2, 4]", "[0, 2, 40]"), 'design.parameters."levers.grid_workers_per_grid"[2] = 40: '
                                  "outside the allowed range [0, 20]"),
    (("[0, 2, 4]", "[0, 2.5]"), "takes integers"),
    (("hi = 48", "hi = 800"), "hi = 800: outside the allowed range [0, 720]"),
    (("lo = 0, hi = 48", "lo = 50, hi = 48"), "lo must be < hi"),
    (('"levers.grid_workers_per_grid"', '"levers.grid_wrokers"'),
     "unknown parameter 'levers.grid_wrokers'"),
    (("days = 30", "days = 30\nrepetitions = 3"), "repetitions: unknown key"),
    (("num = 3", "num = 1"), "num = 1: must be an integer >= 2"),
])
def test_bad_specs_name_key_value_and_range(edit, needle):
    with pytest.raises(SpecError) as err:
        spec_of(BASE.replace(*edit))
    assert needle in str(err.value)
    assert str(err.value).startswith("x.toml: ")


def test_sampled_design_errors():
    head = BASE.split("[design]")[0]
    with pytest.raises(SpecError, match="power of two"):
        spec_of(head + '[design]\nkind = "sobol"\nsamples = 20\n[design.parameters]\n'
                       '"levers.resource_integration" = { lo = 0, hi = 1 }\n')
    with pytest.raises(SpecError, match="needs a range"):
        spec_of(head + '[design]\nkind = "lhs"\nsamples = 20\n[design.parameters]\n'
                       '"levers.resource_integration" = [0, 1]\n')
    with pytest.raises(SpecError, match="samples: required"):
        spec_of(head + '[design]\nkind = "lhs"\n[design.parameters]\n'
                       '"levers.resource_integration" = { lo = 0, hi = 1 }\n')


def test_without_schema_any_key_is_accepted():
    spec = spec_of(BASE.replace("levers.grid_workers_per_grid", "x.anything"), None)
    assert spec.design.keys[0] == "x.anything"


def test_load_spec_reports_bad_toml(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("days = = 3\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(p)


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "sim.sweep", *args], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=120)


def test_cli_bad_spec_exits_2_without_traceback(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text(BASE.replace('kind = "grid"', 'kind = "grdi"'))
    r = _cli("sweep", str(p), "--out", str(tmp_path / "out"), "--executor", "serial")
    assert r.returncode == 2
    assert 'design.kind = "grdi"' in r.stderr and "grid, list, lhs, sobol, morris" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_usage_errors_exit_2(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "cannot read (file does not exist)" in capsys.readouterr().err
    p = tmp_path / "ok.toml"
    p.write_text(BASE)
    assert main(["sweep", str(p), "--out", str(tmp_path / "o"), "--shard", "4/3"]) == 2
    assert "1 <= I <= N" in capsys.readouterr().err
    assert main(["sweep", str(p)]) == 2
    assert "--out DIR is required" in capsys.readouterr().err
    assert main(["sweep", str(p), "--out", str(tmp_path / "o"), "--executor", "dask"]) == 2
    assert "--scheduler ADDRESS or a [cluster] section" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["analyze", str(tmp_path / "nothing")]) == 2
    assert "no sweep here" in capsys.readouterr().err


# -- against the real parameter schema (sim.config.params.field_for) -----------------------------------

REAL = """
scenario = "town"
days = 10
[fixed]
"city.residents" = 20000
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 5, 10]
"""


@pytest.mark.parametrize("edit,needles", [
    (("[0, 5, 10]", "[0, 5, 25]"),
     ['design.parameters."levers.grid_workers_per_grid"[2] = 25', "[0, 20]"]),
    (('"levers.grid_workers_per_grid"', '"levers.grid_worker"'),
     ["unknown parameter 'levers.grid_worker'", "levers.grid_workers_per_grid"]),
    (('"levers.grid_workers_per_grid" = [0, 5, 10]',
      '"levers.latency_hours_per_hop" = { lo = 0, hi = 1000 }'),
     ["hi = 1000: outside the allowed range [0, 720]"]),
    (('"levers.grid_workers_per_grid" = [0, 5, 10]',
      '"world.categories.cyber.department" = [1, 2]'),
     ["only numbers can be varied"]),
    (("20000", "10"), ["city.residents = 10", "1000"]),
    (('"town"', '"no_such_town"'), ["no_such_town"]),
])
def test_real_schema_validation(tmp_path, capsys, edit, needles):
    p = tmp_path / "real.toml"
    p.write_text(REAL.replace(*edit))
    with pytest.raises(SpecError) as err:
        load_spec(p)
    for n in needles:
        assert n in str(err.value)
    assert main(["sweep", str(p), "--out", str(tmp_path / "o"), "--executor", "serial"]) == 2
    assert needles[0] in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_real_schema_cli_exit_2_without_traceback(tmp_path):
    p = tmp_path / "real.toml"
    p.write_text(REAL.replace("[0, 5, 10]", "[0, 5, 25]"))
    r = _cli("sweep", str(p), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.strip().endswith("outside the allowed range [0, 20] of "
                                     "levers.grid_workers_per_grid")
    assert "Traceback" not in r.stderr


def test_real_schema_infers_integer_levers(tmp_path):
    p = tmp_path / "lhs.toml"
    p.write_text(REAL.replace('kind = "grid"', 'kind = "lhs"\nsamples = 10').replace(
        "[0, 5, 10]", "{ lo = 0, hi = 10 }"))
    spec = load_spec(p)
    assert spec.design.parameters[0].integer
    vals = build_design(spec.design).frame()["levers.grid_workers_per_grid"]
    assert vals.dtype == np.int64
