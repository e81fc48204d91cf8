"""Reading and checking a city's own geography: a GeoJSON file of districts and a CSV of residents.

``city.geometry`` names a GeoJSON FeatureCollection whose features are the districts (Polygon or
MultiPolygon, longitude/latitude, a ``name`` property, in the order the districts are numbered).
``city.districts`` names a CSV with one row per district::

    name,name_en,residents[,streets]
    新城区,Xincheng,644702,9

``name`` must match the GeoJSON's names exactly (same set; order may differ), ``residents`` is a
whole number >= 0 (the shares; ``city.residents`` is the total they are scaled to), ``name_en``
and ``streets`` (streets/towns in the district) are optional.

Paths in a scenario file are resolved relative to that file; ``sim:geo/...`` names a file shipped
in the package (``sim/data/geo``). Every problem raises :class:`ScenarioError` naming the file, the
key and the value (the CLI turns it into exit status 2).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .params import ScenarioError

PACKAGE_DATA = Path(__file__).resolve().parents[1] / "data"
PATH_KEYS = ("geometry", "districts")


def resolve_path(value: str, base: Path | None) -> str:
    """``sim:...`` → the package's data folder; a relative path → relative to ``base`` (the folder
    of the scenario file that set it); '' stays ''."""
    if not value or value.startswith("sim:"):
        return value
    p = Path(value)
    if not p.is_absolute() and base is not None:
        p = base / p
    return str(p.resolve())


def data_path(value: str) -> Path:
    """The file a (resolved) path value points to."""
    return PACKAGE_DATA / value[4:] if value.startswith("sim:") else Path(value)


def _load_json(path: Path, key: str) -> Any:
    p = data_path(str(path))
    if not p.is_file():
        raise ScenarioError(f"city.{key} = {str(path)!r}: no such file")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"city.{key} = {str(path)!r}: not valid GeoJSON ({exc})") from None


def _check_ring(ring: Any, where: str) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ScenarioError(f"{where}: a ring needs at least 4 [lon, lat] points")
    try:
        a = np.asarray(ring, dtype=np.float64)
    except (TypeError, ValueError):
        raise ScenarioError(f"{where}: coordinates must be [lon, lat] numbers") from None
    if a.ndim != 2 or a.shape[-1] < 2 or not np.all(np.isfinite(a[:, :2])):
        raise ScenarioError(f"{where}: coordinates must be finite [lon, lat] pairs")
    if np.any(np.abs(a[:, 0]) > 180) or np.any(np.abs(a[:, 1]) > 90):
        raise ScenarioError(f"{where}: coordinates must be longitude/latitude in degrees")
    if not np.array_equal(a[0, :2], a[-1, :2]):
        raise ScenarioError(f"{where}: a ring must end at its first point (closed)")


def read_geojson(path: Path) -> list[dict[str, Any]]:
    """The features of a district GeoJSON file, checked (see module docstring)."""
    data = _load_json(path, "geometry")
    where = f"city.geometry = {str(path)!r}"
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list) or not data["features"]:
        raise ScenarioError(f"{where}: must be a GeoJSON FeatureCollection with at least one feature")
    names: list[str] = []
    out = []
    for i, f in enumerate(data["features"]):
        fw = f"{where}: feature {i}"
        geom = f.get("geometry") if isinstance(f, dict) else None
        props = f.get("properties") if isinstance(f, dict) else None
        name = props.get("name") if isinstance(props, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise ScenarioError(f"{fw}: needs a non-empty 'name' property")
        if name in names:
            raise ScenarioError(f"{fw}: district name {name!r} appears twice")
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            raise ScenarioError(f"{fw} ({name}): geometry must be a Polygon or MultiPolygon")
        coords = geom.get("coordinates")
        parts = [coords] if geom["type"] == "Polygon" else coords
        if not isinstance(parts, list) or not parts:
            raise ScenarioError(f"{fw} ({name}): geometry has no coordinates")
        for part in parts:
            if not isinstance(part, list) or not part:
                raise ScenarioError(f"{fw} ({name}): empty polygon")
            for ring in part:
                _check_ring(ring, f"{fw} ({name})")
        names.append(name)
        out.append({"type": "Feature", "properties": {"name": name},
                    "geometry": {"type": geom["type"], "coordinates": coords}})
    return out


@dataclass(frozen=True)
class DistrictTable:
    """The residents CSV, reordered to the GeoJSON's district order."""

    residents: np.ndarray  # float64 [n_districts]
    names_en: list[str]
    streets: np.ndarray | None  # int64 [n_districts], or None when the column is absent


def read_districts(path: Path, names: list[str]) -> DistrictTable:
    """Read the residents CSV and match its rows to the GeoJSON's district ``names``."""
    where = f"city.districts = {str(path)!r}"
    if not str(path):
        raise ScenarioError("city.districts: a CSV of residents per district is needed with "
                            "city.geometry (columns name, residents; optional name_en, streets)")
    p = data_path(str(path))
    if not p.is_file():
        raise ScenarioError(f"{where}: no such file")
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ScenarioError(f"{where}: not a readable UTF-8 CSV ({exc})") from None
    cols = set(rows[0]) if rows else set()
    if not {"name", "residents"} <= cols:
        raise ScenarioError(f"{where}: needs columns 'name' and 'residents' (has {sorted(cols)})")
    by_name: dict[str, dict[str, str]] = {}
    for i, row in enumerate(rows):
        name = (row.get("name") or "").strip()
        if name in by_name:
            raise ScenarioError(f"{where}: row {i + 2}: district {name!r} appears twice")
        by_name[name] = row
    missing = [n for n in names if n not in by_name]
    extra = [n for n in by_name if n not in names]
    if missing or extra:
        raise ScenarioError(f"{where}: district names do not match city.geometry "
                            f"(not in the CSV: {missing}; not in the GeoJSON: {extra})")
    residents = np.array([_number(by_name[n], "residents", where, n) for n in names])
    if residents.sum() <= 0:
        raise ScenarioError(f"{where}: residents sum to 0")
    streets = None
    if "streets" in cols:
        streets = np.array([int(_number(by_name[n], "streets", where, n)) for n in names],
                           dtype=np.int64)
    names_en = [(by_name[n].get("name_en") or "").strip() for n in names]
    return DistrictTable(residents, names_en, streets)


def _number(row: dict[str, str], col: str, where: str, name: str) -> float:
    text = (row.get(col) or "").strip().replace("_", "")
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"{where}: {name}: {col} = {text!r}: must be a whole number >= 0") from None
    if not math.isfinite(value) or value < 0 or not value.is_integer():
        raise ScenarioError(f"{where}: {name}: {col} = {text!r}: must be a whole number >= 0")
    return value
