"""Real geography: districts from a GeoJSON file, residents per district from a CSV, grids laid
inside the district polygons.

Contract (the same :class:`~sim.engine.city.CityLayout` as the synthetic layout):

* districts are numbered in the GeoJSON's feature order; every district, street and community is
  a contiguous block of grid ids; one grid per map cell;
* the map is a *rectilinear* raster over the city's bounding box: column and row edges are placed
  so that dense parts of the city get narrow columns and rows (a density-equalising, separable
  cartogram), so that even the densest district holds one cell per grid while the raster stays
  small (a few cells per grid). Each cell is a lon/lat rectangle, so every grid has a real
  position (:attr:`Geography.grid_lonlat`) and lies inside its district's polygon;
* grids of a district take an evenly spaced subset of the district's cells along a Hilbert
  curve, so streets and communities (consecutive grids) are compact groups of cells.

Rasterising is a vectorised even-odd scanline fill (no per-point polygon tests): each polygon
edge yields its crossings with the raster rows, crossings are paired per row and the spans are
filled through a difference array. Bad input raises :class:`~sim.config.params.ScenarioError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config.geometry_io import DistrictTable, read_districts, read_geojson

FINE = 1600  # fine sampling raster (long side), from which the map's rows and columns are chosen
UNIFORM_SHARE = 0.2  # share of the row/column budget spread evenly (the rest follows density)


@dataclass
class Geography:
    """Where the districts are: names, outlines and the lon/lat of every map row and column."""

    names: list[str]  # district names as in the GeoJSON (e.g. Chinese)
    names_en: list[str]  # English names from the CSV ('' when not given)
    geojson: dict[str, Any]  # the features as read (for the app's registerMap and the figures)
    col_edges: np.ndarray  # float64 [cols + 1]: longitude of each column edge, west to east
    row_edges: np.ndarray  # float64 [rows + 1]: latitude of each row edge, north to south
    source: str  # file the geometry came from

    def lonlat_of_cells(self, cells: np.ndarray) -> np.ndarray:
        """Longitude and latitude of the centres of flat map cells ``cells`` (shape [n, 2])."""
        cols = len(self.col_edges) - 1
        r, c = np.divmod(np.asarray(cells, dtype=np.int64), cols)
        lon = (self.col_edges[c] + self.col_edges[c + 1]) / 2
        lat = (self.row_edges[r] + self.row_edges[r + 1]) / 2
        return np.column_stack([lon, lat])

    def to_map(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map coordinates (fractional column, row; cell centres at integers) of lon/lat points."""
        x = np.interp(lon, self.col_edges, np.arange(len(self.col_edges))) - 0.5
        y = np.interp(-np.asarray(lat), -self.row_edges, np.arange(len(self.row_edges))) - 0.5
        return x, y

    def label(self, d: int, lang: str = "en") -> str:
        """Display name of district ``d``: ``中文 English`` (``lang='both'``), or one of them."""
        zh, en = self.names[d], self.names_en[d]
        if lang == "both":
            return f"{zh} {en}".strip()
        return (en or zh) if lang == "en" else zh


def polygons(feature_geometry: dict[str, Any]) -> list[list[np.ndarray]]:
    """The rings of a Polygon or MultiPolygon as arrays of [lon, lat] (one list per polygon)."""
    coords = feature_geometry["coordinates"]
    parts = [coords] if feature_geometry["type"] == "Polygon" else coords
    return [[np.asarray(ring, dtype=np.float64)[:, :2] for ring in part] for part in parts]


def rasterise(rings: list[np.ndarray], x_centres: np.ndarray, y_centres: np.ndarray) -> np.ndarray:
    """Even-odd fill of ``rings`` (arrays of [x, y]) sampled at cell centres: bool [ny, nx].

    ``x_centres`` increase; ``y_centres`` may run either way. A centre is inside when a ray from it
    crosses the rings an odd number of times (holes and multi-part shapes come out right).
    """
    ny, nx = len(y_centres), len(x_centres)
    a = np.concatenate([r[:-1] for r in rings]) if rings else np.zeros((0, 2))
    b = np.concatenate([r[1:] for r in rings]) if rings else np.zeros((0, 2))
    order = np.argsort(y_centres)
    ys = y_centres[order]
    lo, hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    # rows whose centre y is in [lo, hi): half-open, so a vertex is counted once
    first = np.searchsorted(ys, lo, side="left")
    last = np.searchsorted(ys, hi, side="left")
    n = np.maximum(last - first, 0)
    edge = np.repeat(np.arange(len(a)), n)
    pos = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + np.repeat(first, n)
    y = ys[pos]
    t = (y - a[edge, 1]) / (b[edge, 1] - a[edge, 1])
    x = a[edge, 0] + t * (b[edge, 0] - a[edge, 0])
    key = np.lexsort((x, pos))
    pos, x = pos[key], x[key]
    # consecutive crossings within one row pair up (even-odd); rows have an even count
    starts = np.ones(len(pos), dtype=bool)
    starts[1:] = pos[1:] != pos[:-1]
    rank = np.arange(len(pos)) - np.maximum.accumulate(np.where(starts, np.arange(len(pos)), 0))
    enter, leave = rank % 2 == 0, rank % 2 == 1
    # the running sum along the rows that some edge crosses (the others are outside throughout)
    rows = pos[starts]
    at = np.cumsum(starts) - 1  # each crossing's index among those rows
    diff = np.zeros((len(rows), nx + 1), dtype=np.int32)
    np.add.at(diff, (at[enter], np.searchsorted(x_centres, x[enter])), 1)
    np.add.at(diff, (at[leave], np.searchsorted(x_centres, x[leave])), -1)
    inside_sorted = np.zeros((ny, nx), dtype=bool)
    inside_sorted[rows] = np.cumsum(diff, axis=1)[:, :nx] > 0
    out = np.empty_like(inside_sorted)
    out[order] = inside_sorted
    return out


def hilbert_index(r: np.ndarray, c: np.ndarray, order: int) -> np.ndarray:
    """Position of cells (row ``r``, column ``c``) along a Hilbert curve over 2**order squares."""
    x, y = np.asarray(c, dtype=np.int64).copy(), np.asarray(r, dtype=np.int64).copy()
    d = np.zeros_like(x)
    s = 1 << (order - 1)
    while s > 0:
        rx = ((x & s) > 0).astype(np.int64)
        ry = ((y & s) > 0).astype(np.int64)
        d += s * s * ((3 * rx) ^ ry)
        flip = ry == 0
        swap_x = np.where(flip & (rx == 1), s - 1 - x, x)
        swap_y = np.where(flip & (rx == 1), s - 1 - y, y)
        x, y = np.where(flip, swap_y, swap_x), np.where(flip, swap_x, swap_y)
        s >>= 1
    return d


def _edges(weight: np.ndarray, n: int) -> np.ndarray:
    """Indices (into fine pixels, 0..len(weight)) of ``n`` bins with equal blended weight."""
    m = len(weight)
    w = weight / max(weight.sum(), 1e-300)
    w = (1 - UNIFORM_SHARE) * w + UNIFORM_SHARE / m
    cum = np.concatenate([[0.0], np.cumsum(w)])
    idx = np.searchsorted(cum, np.linspace(0, 1, n + 1)[1:-1])
    idx = np.unique(np.clip(idx, 1, m - 1))
    return np.concatenate([[0], idx, [m]])


def choose_raster(fine_label: np.ndarray, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column edges (in fine pixels) and the district label of each map cell.

    Grows the raster until every district holds at least as many cells as it has grids; raises
    ScenarioError when even the fine sampling cannot (a district too small for its residents).
    """
    from ..config.params import ScenarioError

    counts = np.bincount(fine_label[fine_label >= 0], minlength=len(grids))
    dens = np.where(fine_label >= 0, grids[np.maximum(fine_label, 0)] / np.maximum(counts, 1)[
        np.maximum(fine_label, 0)], 0.0)
    wy, wx = dens.sum(axis=1), dens.sum(axis=0)
    ny, nx = fine_label.shape
    aspect = nx / ny
    total = max(int(grids.sum()), 1)
    cells = max(2.0 * total, 600.0)
    for _ in range(40):
        rows = max(1, min(ny, round(np.sqrt(cells / aspect))))
        cols = max(1, min(nx, round(rows * aspect)))
        re, ce = _edges(wy, rows), _edges(wx, cols)
        rc, cc = (re[:-1] + re[1:]) // 2, (ce[:-1] + ce[1:]) // 2
        label = fine_label[np.ix_(rc, cc)]
        have = np.bincount(label[label >= 0], minlength=len(grids))
        if np.all(have >= grids):
            return re, ce, label
        if rows == ny and cols == nx:
            break
        cells *= 1.3
    short = [int(d) for d in np.nonzero(have < grids)[0]]
    raise ScenarioError(f"city.geometry: district(s) {short} are too small on the map for their "
                        f"residents ({grids[short].tolist()} grids); raise city.residents_per_grid "
                        "or check the polygons")


def build_geo_layout(city: dict[str, Any], rng: np.random.Generator) -> Any:
    """A :class:`~sim.engine.city.CityLayout` whose districts are the polygons of
    ``city['geometry']`` and whose grids per district follow ``city['districts']`` (CSV)."""
    from .city import CityLayout

    gj_path = Path(city["geometry"])
    features = read_geojson(gj_path)
    names = [f["properties"]["name"] for f in features]
    table: DistrictTable = read_districts(Path(city["districts"]), names)
    per_grid = int(city["residents_per_grid"])
    residents = _shares(table.residents, int(city["residents"]))
    grids = np.where(residents > 0, np.maximum(1, np.round(residents / per_grid)), 0).astype(np.int64)

    # fine sampling raster over the bounding box (x scaled by cos(latitude): square-ish pixels)
    rings = [polygons(f["geometry"]) for f in features]
    allpts = np.concatenate([ring for parts in rings for part in parts for ring in part])
    (lon0, lat0), (lon1, lat1) = allpts.min(axis=0), allpts.max(axis=0)
    kx = np.cos(np.radians((lat0 + lat1) / 2))
    w, h = (lon1 - lon0) * kx, lat1 - lat0
    nx, ny = (FINE, max(8, round(FINE * h / w))) if w >= h else (max(8, round(FINE * w / h)), FINE)
    fx = np.linspace(lon0, lon1, nx + 1)
    fy = np.linspace(lat1, lat0, ny + 1)  # north to south: row 0 at the top
    xc, yc = (fx[:-1] + fx[1:]) / 2, (fy[:-1] + fy[1:]) / 2
    fine_label = np.full((ny, nx), -1, dtype=np.int64)
    for d, parts in enumerate(rings):
        inside = rasterise([ring for part in parts for ring in part], xc, yc)
        fine_label[inside & (fine_label < 0)] = d
    re, ce, label = choose_raster(fine_label, grids)
    rows, cols = len(re) - 1, len(ce) - 1

    # grids of each district: an evenly spaced subset of its cells along a Hilbert curve
    flat = label.ravel()
    rr, cc = np.divmod(np.arange(rows * cols), cols)
    order = max(1, int(np.ceil(np.log2(max(rows, cols, 2)))))
    hil = hilbert_index(rr, cc, order)
    cell_parts = []
    for d in range(len(names)):
        mine = np.nonzero(flat == d)[0]
        mine = mine[np.argsort(hil[mine], kind="stable")]
        pick = ((np.arange(grids[d]) + 0.5) * len(mine) / max(grids[d], 1)).astype(np.int64)
        cell_parts.append(mine[pick])
    cell = np.concatenate(cell_parts).astype(np.int64)
    n_grids = len(cell)
    district = np.repeat(np.arange(len(names)), grids).astype(np.int32)

    # residents of each grid: ±20% around the district's mean, scaled to the district's total
    weights = rng.uniform(0.8, 1.2, n_grids)
    sizes = np.zeros(n_grids, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(grids)])
    for d in range(len(names)):
        a, b = starts[d], starts[d + 1]
        if b > a:
            sizes[a:b] = _shares(weights[a:b], int(residents[d]))
    start = np.zeros(n_grids + 1, dtype=np.int64)
    np.cumsum(sizes, out=start[1:])

    street, community = _hierarchy(grids, table.streets, city)
    grid_of_cell = np.full(rows * cols, -1, dtype=np.int64)
    grid_of_cell[cell] = np.arange(n_grids)
    geo = Geography(names, table.names_en, {"type": "FeatureCollection", "features": features},
                    np.concatenate([fx[ce]]), np.concatenate([fy[re]]), str(gj_path))
    return CityLayout(n_grids, int(community.max()) + 1, int(street.max()) + 1, len(names), sizes,
                      start, community, street, district, rows, cols, cell, grid_of_cell, geo)


def _shares(weights: np.ndarray, total: int) -> np.ndarray:
    """``total`` split in proportion to ``weights`` (largest remainders; sums exactly)."""
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    exact = w / w.sum() * total
    out = np.floor(exact).astype(np.int64)
    out[np.argsort(-(exact - out), kind="stable")[: total - int(out.sum())]] += 1
    return out


def _hierarchy(grids: np.ndarray, streets: np.ndarray | None,
               city: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Street and community of every grid; no street or community spans two districts."""
    gpc, gps = int(city["grids_per_community"]), int(city["grids_per_community"] * city["communities_per_street"])
    street_parts, comm_parts = [], []
    s0 = c0 = 0
    for d, n in enumerate(grids):
        n = int(n)
        if n == 0:
            continue
        k = int(streets[d]) if streets is not None and streets[d] > 0 else -(-n // gps)
        k = max(1, min(k, n))
        st = (np.arange(n) * k // n).astype(np.int64)  # k near-equal contiguous streets
        first = np.searchsorted(st, np.arange(k))
        local = np.arange(n) - first[st]
        per_street_comms = -(-np.bincount(st, minlength=k) // gpc)
        comm_start = np.concatenate([[0], np.cumsum(per_street_comms)])[:-1]
        street_parts.append(s0 + st)
        comm_parts.append(c0 + comm_start[st] + local // gpc)
        s0 += k
        c0 += int(per_street_comms.sum())
    return (np.concatenate(street_parts).astype(np.int32), np.concatenate(comm_parts).astype(np.int32))


def geojson_text(geo: Geography) -> str:
    """The features as compact GeoJSON text (for the browser)."""
    return json.dumps(geo.geojson, ensure_ascii=False, separators=(",", ":"))


def map_districts(geo: Geography) -> dict[str, Any]:
    """Names and outlines in map coordinates (column, row; cell centres at integers), one list of
    rings per district: what a results folder keeps (``districts.json``) to redraw its map."""
    outlines = []
    for f in geo.geojson["features"]:
        rings = []
        for part in polygons(f["geometry"]):
            for ring in part:
                x, y = geo.to_map(ring[:, 0], ring[:, 1])
                rings.append(np.round(np.column_stack([x, y]), 2).tolist())
        outlines.append(rings)
    return {"names": list(geo.names), "names_en": list(geo.names_en), "outlines": outlines}
