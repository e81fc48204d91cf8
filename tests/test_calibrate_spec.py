"""Calibration specs: valid ones parse, bad ones fail with the key, value and allowed range;
the CLI turns that into exit code 2 without a traceback."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from sim.calibrate.spec import SpecError, load_spec, parse_spec
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TOY = "sim.calibrate.testing:toy_run"


def toy_spec(**cal: Any) -> dict[str, Any]:
    return {
        "calibrate": {"scenario": "toy", "simulator": TOY, "trials": 10, **cal},
        "parameters": {"toy.a": {"lo": 0.0, "hi": 2.0},
                       "toy.b": {"lo": 0.1, "hi": 10.0, "log": True}},
        "targets": {"y.0": {"value": 1.0, "sd": 0.1}, "share": {"value": 0.4}},
    }


def core_spec(**cal: Any) -> dict[str, Any]:
    return {"calibrate": {"scenario": "baseline", **cal},
            "parameters": {"world.overdispersion": {"lo": 0.0, "hi": 2.0}},
            "targets": {"resolved_share": {"value": 0.9, "sd": 0.01}}}


def test_valid_spec_defaults() -> None:
    spec = parse_spec(toy_spec())
    assert spec.method == "tpe" and spec.executor == "serial" and spec.trials == 10
    assert [p.key for p in spec.parameters] == ["toy.a", "toy.b"]
    assert spec.parameters[1].log
    share = next(t for t in spec.targets if t.key == "share")
    assert share.sd == pytest.approx(0.02)  # default: 5% of the value
    assert len(spec.hash) == 64


def test_stats_and_executors() -> None:
    spec = parse_spec(core_spec(stats=["arrivals", "proactive_share"], executor="dask"))
    assert spec.stats == ("arrivals", "proactive_share")
    assert spec.executor == "local"  # no dask_address: a LocalCluster, as before
    spec = parse_spec(core_spec(executor="dask", dask_address="tcp://10.0.0.5:8786"))
    assert spec.executor == "dask"
    with pytest.raises(SpecError, match=r"calibrate\.stats = 'arrival': must be one of"):
        parse_spec(core_spec(stats=["arrival"]))
    assert parse_spec(toy_spec(stats=["own"])).stats == ("own",)  # a custom simulator's business


@pytest.mark.parametrize("path, value, match", [
    (("calibrate", "trials"), -3, r"calibrate\.trials = -3: must be an integer in \[1, 1e\+06\]"),
    (("calibrate", "trials"), 2.5, r"calibrate\.trials = 2\.5: must be an integer"),
    (("calibrate", "replications"), 0, r"calibrate\.replications = 0: must be an integer in"),
    (("calibrate", "method"), "cmaes", r"calibrate\.method = 'cmaes': must be one of"),
    (("calibrate", "executor"), "mpi", r"calibrate\.executor = 'mpi': must be one of"),
    (("calibrate", "level"), 1.5, r"calibrate\.level = 1\.5: must be a number in \[0\.5, 0\.999\]"),
    (("calibrate", "simulator"), "nocolon", r"calibrate\.simulator = 'nocolon': must be"),
    (("calibrate", "colour"), "red", r"calibrate\.colour: unknown key \(allowed:"),
    (("parameters", "toy.a", "hi"), -1.0, r"parameters\.toy\.a\.hi = -1: must be greater than lo = 0"),
    (("parameters", "toy.b", "lo"), 0.0, r"parameters\.toy\.b\.lo = 0: must be > 0 when log = true"),
    (("parameters", "toy.a", "lo"), "x", r"parameters\.toy\.a\.lo = 'x': must be a number"),
    (("parameters", "toy.a", "step"), 1, r"parameters\.toy\.a\.step: unknown key"),
    (("targets", "y.0", "sd"), 0.0, r"targets\.y\.0\.sd = 0\.0: must be a number > 0"),
    (("targets", "y.0", "weight"), -1, r"targets\.y\.0\.weight = -1: must be a number in \[0"),
    (("targets", "y.0", "value"), float("nan"), r"targets\.y\.0\.value = nan: must be a number \(finite\)"),
])
def test_bad_values_name_key_value_and_range(path: tuple[str, ...], value: Any, match: str) -> None:
    raw = copy.deepcopy(toy_spec())
    node = raw
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    with pytest.raises(SpecError, match=match):
        parse_spec(raw)


def test_structural_errors() -> None:
    raw = toy_spec()
    raw["parameters"] = {}
    with pytest.raises(SpecError, match="parameters: empty"):
        parse_spec(raw)
    raw = toy_spec()
    del raw["targets"]
    with pytest.raises(SpecError, match="targets: missing"):
        parse_spec(raw)
    raw = toy_spec()
    for t in raw["targets"].values():
        t["weight"] = 0
    with pytest.raises(SpecError, match="no target with weight > 0"):
        parse_spec(raw)
    raw = toy_spec()
    raw["calibrate"].pop("scenario")
    with pytest.raises(SpecError, match="calibrate.scenario = None: must name a scenario"):
        parse_spec(raw)
    raw = toy_spec()
    raw["extra"] = {}
    with pytest.raises(SpecError, match="extra: unknown key"):
        parse_spec(raw)
    raw = toy_spec()
    raw["targets"] = {"file": "nowhere.toml"}
    with pytest.raises(SpecError, match="targets.file = .*nowhere.toml.*does not exist"):
        parse_spec(raw)
    raw = toy_spec()
    raw["holdout"] = {"days": 5}
    with pytest.raises(SpecError, match="holdout: no targets"):
        parse_spec(raw)


def test_core_keys_checked_against_schema() -> None:
    parse_spec(core_spec())
    raw = core_spec()
    raw["parameters"] = {"world.no_such_thing": {"lo": 0, "hi": 1}}
    with pytest.raises(SpecError, match=r"world\.no_such_thing: unknown key"):
        parse_spec(raw)
    raw = core_spec()
    raw["parameters"] = {"world.overdispersion": {"lo": 0, "hi": 99}}
    with pytest.raises(SpecError, match=r"overdispersion\.hi = 99: must be a number in \[0, 50\]"):
        parse_spec(raw)
    raw = core_spec()
    raw["parameters"] = {"handling.success[7]": {"lo": 0, "hi": 1}}
    with pytest.raises(SpecError, match=r"index 7 out of range"):
        parse_spec(raw)
    raw = core_spec()
    raw["parameters"] = {"meta.name": {"lo": 0, "hi": 1}}
    with pytest.raises(SpecError, match="a str parameter cannot be fitted"):
        parse_spec(raw)
    raw = core_spec(overrides={"levers.grid_workers_per_grid": 99})
    with pytest.raises(SpecError, match=r"grid_workers_per_grid = 99: must be an integer in \[0, 20\]"):
        parse_spec(raw)
    spec = parse_spec(core_spec() | {"parameters": {"handling.success[3]": {"lo": 0.2, "hi": 1}}})
    assert spec.parameters[0].key == "handling.success[3]"


def test_shipped_specs_validate() -> None:
    for name in ("boston", "china"):
        spec = load_spec(ROOT / "calibration" / f"{name}.toml")
        assert spec.fitted_targets
    boston = load_spec(ROOT / "calibration" / "boston.toml")
    assert boston.holdout is not None and boston.holdout.scenario.endswith("boston_jul_aug.toml")
    assert any(t.key == "weekly_var_mean" for t in boston.holdout.targets)


def test_cli_bad_spec_exits_2_without_traceback(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "bad.toml"
    spec.write_text('[calibrate]\nscenario = "toy"\nsimulator = "sim.calibrate.testing:toy_run"\n'
                    'trials = 0\n[parameters."toy.a"]\nlo = 0\nhi = 1\n'
                    '[targets."y.0"]\nvalue = 1\n', encoding="utf-8")
    assert main(["calibrate", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "calibrate.trials = 0: must be an integer in [1, 1e+06]" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cli_unparsable_and_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[calibrate\n", encoding="utf-8")
    assert main(["calibrate", str(bad), "--out", str(tmp_path)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["calibrate", str(tmp_path / "none.toml"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_flag_override_is_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", str(ROOT / "calibration" / "china.toml"), "--out", str(tmp_path),
                 "--replications", "0"]) == 2
    assert "calibrate.replications = 0" in capsys.readouterr().err
    assert main(["calibrate", str(ROOT / "calibration" / "china.toml"), "--out", str(tmp_path),
                 "--check"]) == 0
    assert "ok (4 parameters" in capsys.readouterr().out


def test_unimportable_simulator_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('[calibrate]\nscenario = "toy"\nsimulator = "no.such.module:run"\ntrials = 1\n'
                    '[parameters."toy.a"]\nlo = 0\nhi = 1\n[targets."y.0"]\nvalue = 1\n',
                    encoding="utf-8")
    assert main(["calibrate", str(spec), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "no.such.module:run" in capsys.readouterr().err


def test_core_cli_dispatches_calibrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main as cityrisk

    spec = tmp_path / "bad.toml"
    spec.write_text('[calibrate]\nscenario = "baseline"\n[parameters."levers.video_coverage"]\n'
                    'lo = 0\nhi = 2\n[targets."resolved_share"]\nvalue = 0.9\n', encoding="utf-8")
    assert cityrisk(["calibrate", str(spec), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "parameters.levers.video_coverage.hi = 2: must be a number in [0, 1]" in err
    assert "Traceback" not in err
