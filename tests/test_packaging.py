"""Packaging and self-describing outputs: provenance, scenario search path, TOML round trip,
Parquet labels and metadata, extras, --version, logging (issue #13)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.config.scenario import load_scenario, scenario_names, scenario_path
from sim.engine.cases import CHANNELS, RECORD_COLUMNS, Stage
from sim.engine.levels import LEVELS
from sim.io import provenance as prov
from sim.io.sinks import CODEBOOK_KEY, ParquetSink, codebook, read_codebook
from sim.resources import calibration_spec, scenario_dirs, shipped

REPO = Path(__file__).resolve().parents[1]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=cwd,
                   check=True, capture_output=True)


# -- provenance ---------------------------------------------------------------------------------
def test_commit_only_in_cityrisks_own_checkout(tmp_path):
    own = tmp_path / "own"
    (own / "sim").mkdir(parents=True)
    (own / "pyproject.toml").write_text('[project]\nname = "cityrisk"\n')
    other = tmp_path / "other"  # someone else's repository with cityrisk copied inside
    (other / "vendor" / "sim").mkdir(parents=True)
    (other / "pyproject.toml").write_text('[project]\nname = "someone-else"\n')
    for repo in (own, other):
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "x")
    assert prov.git_commit(own) is not None and len(prov.git_commit(own)) >= 40
    assert prov.git_commit(other) is None  # not cityrisk's pyproject
    assert prov.git_commit(other / "vendor") is None  # no pyproject at all
    plain = tmp_path / "plain"  # cityrisk's pyproject but not a git checkout (an sdist)
    plain.mkdir()
    (plain / "pyproject.toml").write_text('[project]\nname = "cityrisk"\n')
    assert prov.git_commit(plain) is None


def test_provenance_records_versions():
    block = prov.provenance(load_scenario("town"), 3)
    assert block["version"] == prov.version()
    assert set(block["libraries"]) == {"python", *prov.LIBRARIES}
    assert all(isinstance(v, str) and v for v in block["libraries"].values())
    assert block["seed"] == 3 and len(block["scenario_hash"]) == 64


# -- scenario search path -----------------------------------------------------------------------
def test_scenario_search_path(tmp_path, monkeypatch):
    extra = tmp_path / "mine"
    extra.mkdir()
    (extra / "mycity.toml").write_text('[meta]\nextends = "town"\ndescription = "mine"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITYRISK_SCENARIOS", str(extra))
    assert "mycity" in scenario_names() and "baseline" in scenario_names()
    assert scenario_path("mycity") == extra / "mycity.toml"
    assert load_scenario("mycity").data["city"]["residents"] == 100_000  # extends a shipped one
    local = tmp_path / "scenarios"  # ./scenarios comes first
    local.mkdir()
    (local / "mycity.toml").write_text('[meta]\nextends = "town"\n[city]\nresidents = 20000\n')
    assert scenario_dirs()[0] == local
    assert load_scenario("mycity").data["city"]["residents"] == 20_000
    assert shipped("scenarios") in scenario_dirs()


def test_unknown_scenario_names_the_search_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "nowhere", "--days", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "baseline" in err and "searched" in err


def test_shipped_calibration_spec_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert calibration_spec("boston").name == "boston.toml"
    assert calibration_spec("calibration/china.toml").is_file()
    assert calibration_spec("nope") == Path("nope")


# -- TOML written with a real writer ------------------------------------------------------------
@pytest.mark.parametrize("name", ["劳动争议", "wage arrears", "a.b"])
def test_scenario_toml_round_trip(tmp_path, name):
    src = tmp_path / "cats.toml"
    src.write_text(textwrap.dedent(f"""
        [meta]
        extends = "town"
        [world.categories."{name}"]
        rate_per_1000_per_year = 5.0
        department = "labour"
    """), encoding="utf-8")
    s = load_scenario(src)
    assert name in s.data["world"]["categories"]
    out = tmp_path / "scenario.toml"
    out.write_text(s.to_toml(), encoding="utf-8")
    back = load_scenario(out)
    assert back.hash == s.hash and back.data["world"]["categories"] == s.data["world"]["categories"]


def test_run_out_writes_a_readable_scenario_toml(tmp_path):
    src = tmp_path / "zh.toml"
    src.write_text('[meta]\nextends = "town"\n[city]\nresidents = 20000\n'
                   '[world.categories."劳动争议"]\nrate_per_1000_per_year = 5.0\n'
                   'department = "labour"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(src), "--days", "3", "--out", str(out), "--json", "--quiet"]) == 0
    assert load_scenario(out / "scenario.toml").hash == load_scenario(src).hash
    table = pq.read_table(out / "cases.parquet")
    assert "劳动争议" in read_codebook(str(out / "cases.parquet"))["category"]
    meta = prov.read_parquet_provenance(out / "cases.parquet")
    assert meta["scenario_hash"] == load_scenario(src).hash and meta["seed"] == 0
    assert meta["libraries"]["numpy"] == np.__version__
    df = table.to_pandas()
    names = list(load_scenario(src).data["world"]["categories"])
    assert (df["category_label"].astype(str) == [names[c] for c in df["category"]]).all()


# -- Parquet labels -----------------------------------------------------------------------------
def _records(n: int) -> dict[str, np.ndarray]:
    from sim.engine.cases import COLUMNS

    rng = np.random.default_rng(0)
    rec = {k: np.zeros(n, dtype=COLUMNS[k][0]) for k in RECORD_COLUMNS}
    rec["case_id"] = np.arange(n, dtype=np.int64)
    rec["category"] = rng.integers(0, 2, n).astype(rec["category"].dtype)
    rec["stage"] = np.full(n, int(Stage.RESOLVED), dtype=rec["stage"].dtype)
    rec["level"] = rng.integers(-1, len(LEVELS), n).astype(rec["level"].dtype)
    rec["channel"] = rng.integers(-1, len(CHANNELS), n).astype(rec["channel"].dtype)
    return rec


def test_parquet_labels_codes_and_metadata(tmp_path):
    path = tmp_path / "cases.parquet"
    sink = ParquetSink(str(path), rows_per_group=50, categories=["劳动争议", "wage arrears"],
                       metadata=prov.parquet_metadata({"version": "x"}))
    rec = _records(120)
    sink.write(rec)
    sink.close()
    t = pq.read_table(path)
    for col in RECORD_COLUMNS:  # codes unchanged
        assert t[col].to_numpy().tolist() == rec[col].tolist()
    df = t.to_pandas()
    book = read_codebook(str(path))
    assert book == codebook(["劳动争议", "wage arrears"])
    assert book["stage"][int(Stage.RESOLVED)] == "resolved" and book["level"] == list(LEVELS)
    for col in ("category", "stage", "level", "channel"):
        assert str(df[col + "_label"].dtype) == "category"
        labels = df[col + "_label"].astype(object)
        for code, label in zip(df[col], labels, strict=True):
            assert (label is None or label != label) if code < 0 else label == book[col][code]
    assert json.loads(t.schema.metadata[prov.PARQUET_KEY]) == {"version": "x"}
    assert CODEBOOK_KEY in t.schema.metadata


def test_empty_parquet_is_labelled(tmp_path):
    path = tmp_path / "cases.parquet"
    sink = ParquetSink(str(path), categories=["a"])
    sink.close()
    t = pq.read_table(path)
    assert t.num_rows == 0 and "category_label" in t.column_names
    assert prov.read_parquet_provenance(path)["version"] == prov.version()


def test_codebook_doc_lists_every_label():
    text = (REPO / "docs" / "codebook.md").read_text(encoding="utf-8")
    for col, labels in codebook().items():
        assert f"`{col}`" in text
        for label in labels:
            assert f"`{label}`" in text, (col, label)


# -- command line -------------------------------------------------------------------------------
def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            **(env or {})}
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          env=full, timeout=300)


def test_version_and_help_import_nothing_heavy():
    code = ("import sys; from sim.cli import main\n"
            "try: main(['--version'])\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('mesa', 'numba', 'pandas', 'pyarrow', 'solara', 'dask', 'optuna') "
            "if m in sys.modules]\nprint('HEAVY', heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert "cityrisk " + prov.version() in r.stdout and "HEAVY []" in r.stdout, r.stdout + r.stderr


def test_a_run_does_not_import_scipy_stats():
    """``scipy.stats`` (with the integrate and optimize modules it pulls in) costs every process
    that runs a model about 0.45 s to import; the model and its outputs use scipy.special only."""
    code = ("import sys, sim\nfrom sim.model import CityModel\n"
            "CityModel(sim.load_scenario('town'), rng=0).run(10)\n"
            "print('LOADED', [m for m in ('scipy.stats', 'scipy.integrate', 'scipy.optimize') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert "LOADED []" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize(("argv", "extra", "blocked"), [
    (["app"], "app", "solara"),
    (["sweep", "experiments/staffing_knee.toml", "--out", "x"], "sweep", "dask"),
    (["calibrate", "china", "--out", "x"], "calibrate", "optuna"),
    (["run", "town", "--days", "1", "--out", "x"], "viz", "matplotlib"),
])
def test_missing_extra_names_it(argv, extra, blocked, tmp_path):
    code = (f"import sys; sys.modules[{blocked!r}] = None\n"
            "from sim.cli import main\n"
            f"sys.exit(main({argv!r}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and f"pip install 'cityrisk[{extra}]'" in r.stderr, r.stderr
    assert not (tmp_path / "x").exists()


def test_logging_has_timestamps(capsys):
    from sim.logs import configure, level_for

    assert level_for(1, 0) == logging.DEBUG and level_for(0, 1) == logging.WARNING
    configure(0, 0)
    logging.getLogger("sim.sweep.runner").info("hello %d", 5)
    err = capsys.readouterr().err
    assert "hello 5" in err and err[:4].isdigit() and "Z INFO" in err
    configure(0, 1)
    logging.getLogger("sim.sweep.runner").info("hidden")
    assert "hidden" not in capsys.readouterr().err


# -- sweep results as xarray --------------------------------------------------------------------
SWEEP = """
name = "fake"
scenario = "town"
days = 20
replications = 2
seed = 5
run_function = "sim.sweep.testing.fake_run"
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [0, 2, 4]
"""


def test_sweep_store_parquet_has_provenance_and_xarray_view(tmp_path):
    from sim.sweep import Store, load_results, load_spec, run_sweep

    spec = tmp_path / "fake.toml"
    spec.write_text(SWEEP)
    out = tmp_path / "store"
    assert run_sweep(load_spec(spec), out, executor="serial", progress=False).complete
    for part in [out / "points.parquet", *Store(out).part_files()]:
        assert prov.read_parquet_provenance(part)["version"] == prov.version()
    pytest.importorskip("xarray")
    res = load_results(out)
    ds = res.to_xarray()
    assert dict(ds.sizes) == {"point_id": 3, "replication": 2}
    assert ds["levers.grid_workers_per_grid"].values.tolist() == [0, 2, 4]
    assert ds.attrs["spec_hash"] == res.manifest["spec_hash"]
    runs = res.runs.set_index(["point_id", "replication"])
    kpi = res.kpis[0]
    assert float(ds[kpi].sel(point_id=1, replication=1)) == pytest.approx(runs.loc[(1, 1), kpi])
