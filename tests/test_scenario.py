"""Scenario files: loading, inheritance, overrides, and clear errors on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sim
from sim.config.scenario import load_scenario, parse_override, scenario_names, to_toml

ROOT = Path(__file__).resolve().parent.parent


def test_every_shipped_scenario_loads_and_says_what_it_shows():
    names = scenario_names()
    assert {"baseline", "town", "xian"} <= set(names)
    assert len(names) >= 8  # baseline, town, xian and at least five policy scenarios
    for name in names:
        s = load_scenario(name)
        assert s.data["meta"]["description"], name
        text = (ROOT / "scenarios" / f"{name}.toml").read_text(encoding="utf-8")
        assert text.lstrip().startswith("#"), f"{name}.toml must open with a comment saying what it shows"


def test_policy_scenarios_differ_from_baseline_only_in_what_they_test():
    base = load_scenario("baseline")
    merged = load_scenario("merged_grids")
    assert merged.get("levers.resource_integration") == 0.9
    assert merged.get("levers.grid_workers_per_grid") == base.get("levers.grid_workers_per_grid")
    assert merged.hash != base.hash


def test_overrides_apply_and_change_the_hash():
    base = load_scenario("baseline")
    s = load_scenario("baseline", ["levers.grid_workers_per_grid=6"])
    assert s.get("levers.grid_workers_per_grid") == 6
    assert s.hash != base.hash
    s2 = load_scenario("baseline", {"world.categories.cyber.rate_per_1000_per_year": 5})
    assert s2.get("world.categories.cyber.rate_per_1000_per_year") == 5.0


def test_toml_round_trip(tmp_path):
    s = load_scenario("spring_festival_arrears", ["levers.mediators_per_street=9"])
    path = tmp_path / "fitted.toml"
    path.write_text(to_toml(s.data), encoding="utf-8")
    again = load_scenario(path)
    assert again.hash == s.hash


def test_parse_override_types():
    assert parse_override("a.b=6") == ("a.b", 6)
    assert parse_override("a.b = 0.5") == ("a.b", 0.5)
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a.b=[1, 2]") == ("a.b", [1, 2])
    assert parse_override("meta.name=hello") == ("meta.name", "hello")


BAD_FILES = {
    "unknown_key": ("[levers]\nstaff_magic = 3\n", "levers.staff_magic"),
    "unknown_section": ("[policy]\nx = 1\n", "policy"),
    "wrong_type_string": ("[levers]\nvideo_coverage = \"lots\"\n", "levers.video_coverage"),
    "out_of_range_high": ("[levers]\nresource_integration = 1.5\n", "[0, 1]"),
    "out_of_range_negative": ("[levers]\ngrid_workers_per_grid = -1\n", "[0, 20]"),
    "not_whole": ("[levers]\nmediators_per_street = 2.5\n", "levers.mediators_per_street"),
    "bool_for_number": ("[city]\nresidents = true\n", "city.residents"),
    "list_length": ("[world]\nweekday_multipliers = [1, 1, 1]\n", "7 numbers"),
    "table_expected": ("levers = 3\n", "levers"),
    "bad_toml": ("[levers\n", "not valid TOML"),
    "category_unknown_field": ("[world.categories.x]\nspeed = 2\n", "world.categories.x.speed"),
    "severity_probs_sum": ("[world.categories.x]\nseverity_probs = [0.5, 0.1, 0.1, 0.1]\n", "sum to 1"),
    "shock_bad_category": ("[[world.shocks]]\ncategory = \"aliens\"\n", "world.shocks[0].category"),
    "extends_missing": ("[meta]\nextends = \"nowhere\"\n", "nowhere"),
    "nan_value": ("[levers]\nvideo_coverage = nan\n", "levers.video_coverage"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_scenario_files_raise_named_errors(tmp_path, kind):
    body, expected = BAD_FILES[kind]
    path = tmp_path / f"{kind}.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as err:
        load_scenario(path)
    assert expected in str(err.value)


BAD_OVERRIDES = [
    ("levers.nope=1", "levers.nope"),
    ("levers.video_coverage=2", "[0, 1]"),
    ("city.residents=10", "[1000, 3e+07]"),
    ("world.categories.nope.rate_per_1000_per_year=1", "nope"),
    ("levers.grid_workers_per_grid", "KEY=VALUE"),
]


@pytest.mark.parametrize(("override", "expected"), BAD_OVERRIDES)
def test_bad_overrides_raise_named_errors(override, expected):
    with pytest.raises(sim.ScenarioError) as err:
        load_scenario("town", [override])
    assert expected in str(err.value)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [
    ("run", "town", "--set", "levers.resource_integration=7"),
    ("run", "town", "--set", "levers.unknown=1"),
    ("run", "no_such_scenario"),
    ("run", "town", "--days", "0"),
    ("run", "town", "--seed", "-3"),
    ("run", "town", "--days", "many"),
])
def test_cli_bad_input_exits_2_without_traceback(args):
    proc = _cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "error" in proc.stderr.lower()


def test_cli_error_names_key_value_and_range():
    proc = _cli("run", "town", "--set", "levers.resource_integration=7")
    assert "levers.resource_integration = 7" in proc.stderr
    assert "[0, 1]" in proc.stderr
