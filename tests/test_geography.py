"""Real geography (``city.geometry``): rasterising, the layout contract, validation, outputs."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import pytest
from matplotlib.path import Path as MplPath

from sim.cli import main
from sim.config.params import ScenarioError
from sim.config.scenario import load_scenario
from sim.engine.city import build_layout
from sim.engine.geography import hilbert_index, polygons, rasterise

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "mycity" / "mycity.toml"


def _layout(scenario, **over):
    sc = load_scenario(scenario, over or None)
    return build_layout(sc.data["city"], np.random.default_rng(0)), sc


def _square(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]], dtype=float)


def test_rasterise_matches_point_in_polygon_with_hole():
    outer = np.array([[0, 0], [10, 1], [9, 9], [4, 7], [1, 10], [0, 0]], dtype=float)
    hole = _square(3.013, 3.017, 6.011, 5.019)  # no lattice point on an edge
    xs, ys = np.linspace(0.05, 9.95, 97), np.linspace(9.95, 0.05, 83)  # y north to south
    got = rasterise([outer, hole], xs, ys)
    xx, yy = np.meshgrid(xs, ys)
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    want = (MplPath(outer).contains_points(pts) & ~MplPath(hole).contains_points(pts))
    assert got.shape == (83, 97)
    assert np.array_equal(got.ravel(), want)


def test_hilbert_index_is_a_bijection_and_local():
    r, c = np.divmod(np.arange(64), 8)
    h = hilbert_index(r, c, 3)
    assert sorted(h.tolist()) == list(range(64))
    order = np.argsort(h)
    steps = np.abs(np.diff(r[order])) + np.abs(np.diff(c[order]))
    assert np.all(steps == 1)  # consecutive cells along the curve are neighbours


def test_example_layout_contract():
    lay, sc = _layout(EXAMPLE)
    geo = lay.geo
    assert geo.names == ["老城区", "河西区", "东山县"]  # the GeoJSON's order
    assert geo.names_en == ["Old Town", "Hexi", "Dongshan"]
    assert lay.n_residents == 80_000
    assert np.bincount(lay.district_of).tolist() == [40, 25, 15]
    assert np.all(np.diff(lay.district_of) >= 0)  # contiguous blocks of grid ids
    for ids in (lay.street_of, lay.community_of):
        assert np.all(np.diff(ids) >= 0) and np.all(np.diff(ids) <= 1)
    # streets from the CSV (4, 3, 2), none spanning two districts
    assert lay.n_streets == 9
    assert all(len(set(lay.district_of[lay.street_of == s])) == 1 for s in range(lay.n_streets))
    assert all(len(set(lay.street_of[lay.community_of == c])) == 1
               for c in range(lay.n_communities))
    # one grid per cell, and the map's two indexes agree
    assert len(set(lay.cell_of_grid.tolist())) == lay.n_grids
    assert np.array_equal(lay.grid_of_cell[lay.cell_of_grid], np.arange(lay.n_grids))
    assert (lay.grid_of_cell >= 0).sum() == lay.n_grids
    # every grid lies inside its own district's polygon
    lonlat = geo.lonlat_of_cells(lay.cell_of_grid)
    for d, f in enumerate(geo.geojson["features"]):
        inside = np.zeros(lay.n_grids, dtype=bool)
        for part in polygons(f["geometry"]):
            ring_in = [MplPath(r).contains_points(lonlat) for r in part]
            inside |= ring_in[0] & ~np.any(ring_in[1:], axis=0) if len(ring_in) > 1 else ring_in[0]
        assert np.all(inside[lay.district_of == d]), d
        assert not np.any(inside[lay.district_of != d]), d


def test_layout_is_reproducible_and_scales_with_residents():
    a, _ = _layout(EXAMPLE)
    b, _ = _layout(EXAMPLE)
    assert np.array_equal(a.cell_of_grid, b.cell_of_grid)
    assert np.array_equal(a.residents_per_grid, b.residents_per_grid)
    c, _ = _layout(EXAMPLE, **{"city.residents": 160_000})
    assert np.bincount(c.district_of).tolist() == [80, 50, 30]


def _write(tmp: Path, geo: object, csv: str = "name,residents\nA,5000\n") -> Path:
    (tmp / "g.geojson").write_text(geo if isinstance(geo, str) else json.dumps(geo))
    (tmp / "r.csv").write_text(csv)
    (tmp / "s.toml").write_text('[city]\nresidents = 5000\ngeometry = "g.geojson"\n'
                                'districts = "r.csv"\n')
    return tmp / "s.toml"


def _fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def _feat(name, coords, kind="Polygon"):
    return {"type": "Feature", "properties": {"name": name},
            "geometry": {"type": kind, "coordinates": coords}}


SQUARE = [_square(0, 0, 0.1, 0.1).tolist()]


@pytest.mark.parametrize("geo, csv, message", [
    ("{not json", None, "not valid GeoJSON"),
    ({"type": "Feature"}, None, "FeatureCollection"),
    (_fc(_feat("A", [[[0, 0], [1, 0], [1, 1]]])), None, "at least 4"),
    (_fc(_feat("A", [[[0, 0], [1, 0], [1, 1], [0, 1]]])), None, "closed"),
    (_fc(_feat("A", [[[0, 0], [1, 0], [1, "x"], [0, 0]]])), None, "numbers"),
    (_fc(_feat("A", [[[0, 0], [500, 0], [1, 1], [0, 0]]])), None, "longitude/latitude"),
    (_fc(_feat("A", [0, 0], "Point")), None, "Polygon or MultiPolygon"),
    (_fc(_feat("", SQUARE)), None, "'name'"),
    (_fc(_feat("A", SQUARE), _feat("A", SQUARE)), None, "appears twice"),
    (_fc(_feat("A", SQUARE)), "name,residents\nB,5000\n", "do not match"),
    (_fc(_feat("A", SQUARE)), "name,people\nA,5000\n", "'residents'"),
    (_fc(_feat("A", SQUARE)), "name,residents\nA,-3\n", "whole number"),
    (_fc(_feat("A", SQUARE)), "name,residents\nA,0\n", "sum to 0"),
])
def test_bad_geometry_or_table_is_a_scenario_error(tmp_path, geo, csv, message, capsys):
    path = _write(tmp_path, geo, csv or "name,residents\nA,5000\n")
    with pytest.raises(ScenarioError, match=message):
        _layout(path)
    assert main(["run", str(path), "--days", "1", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message.strip("'") in err and len(err.strip().splitlines()) == 1


def test_missing_csv_and_missing_key(tmp_path):
    path = _write(tmp_path, _fc(_feat("A", SQUARE)))
    (tmp_path / "r.csv").unlink()
    with pytest.raises(ScenarioError, match="no such file"):
        _layout(path)
    path.write_text('[city]\nresidents = 5000\ngeometry = "g.geojson"\n')
    with pytest.raises(ScenarioError, match="city.districts"):
        _layout(path)


def test_paths_resolve_relative_to_the_scenario_file():
    sc = load_scenario(EXAMPLE)
    assert Path(sc.data["city"]["geometry"]) == EXAMPLE.parent / "districts.geojson"
    assert load_scenario("xian").data["city"]["geometry"].startswith("sim:geo/")
    assert load_scenario("baseline").data["city"]["geometry"] == ""


def test_run_writes_districts_and_redraws(tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(EXAMPLE), "--days", "3", "--out", str(out)]) == 0
    d = json.loads((out / "districts.json").read_text(encoding="utf-8"))
    assert d["names_en"] == ["Old Town", "Hexi", "Dongshan"] and len(d["outlines"]) == 3
    from sim.io.outputs import redraw

    assert any(p.name == "escalation_map.png" for p in redraw(out))
    # the folder holds only cityrisk outputs (districts.json among them): --force replaces it
    assert main(["run", str(EXAMPLE), "--days", "2", "--out", str(out), "--force"]) == 0
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["days"] == 2


def test_app_options_name_the_districts():
    from sim.app.geomap import district_summary, district_table_html, geo_map_option
    from sim.model import CityModel

    m = CityModel(str(EXAMPLE), rng=0)
    m.step()
    opt = geo_map_option(m, "open_cases", "en", selected=2)
    assert opt["geo"]["nameMap"]["东山县"] == "东山县\nDongshan"
    assert len(opt["series"][0]["data"]) == m.layout.n_grids
    rows = district_summary(m)
    assert [r["residents"] for r in rows] == [40_000, 25_000, 15_000]
    assert "老城区 Old Town" in district_table_html(rows, "en", 0)


@pytest.mark.slow
def test_xian_grids_follow_the_table_and_build_fast():
    t0 = time.perf_counter()
    lay, sc = _layout("xian")
    seconds = time.perf_counter() - t0
    from sim.config.geometry_io import data_path

    text = data_path(sc.data["city"]["districts"]).read_text(encoding="utf-8")
    rows = csv.DictReader(ln for ln in text.splitlines() if ln and not ln.startswith("#"))
    table = {r["name"]: int(r["residents"]) for r in rows}
    geo = lay.geo
    assert len(geo.names) == 13 and set(geo.names) == set(table)
    total = sum(table.values())
    want = [round(table[n] / total * sc.data["city"]["residents"] / 1000) for n in geo.names]
    got = np.bincount(lay.district_of, minlength=13)
    assert np.all(np.abs(got - np.array(want)) <= 1), (got, want)
    assert lay.n_residents == sc.data["city"]["residents"]
    assert lay.rows * lay.cols < 8 * lay.n_grids  # the map stays small (few cells per grid)
    assert seconds < 5, seconds
