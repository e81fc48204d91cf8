"""City structure: city → districts → streets → communities → grids, laid out on a 2-D map.

Grids are numbered so that every administrative unit is a contiguous block of grid ids, and the
map places each district as a compact rectangle of cells so its border can be drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class CityLayout:
    """Sizes, parent ids of every grid, and the 2-D map placement."""

    n_grids: int
    n_communities: int
    n_streets: int
    n_districts: int
    residents_per_grid: np.ndarray  # int64 [n_grids]
    resident_start: np.ndarray  # int64 [n_grids + 1]: residents of grid g are start[g]:start[g+1]
    community_of: np.ndarray  # int32 [n_grids]
    street_of: np.ndarray  # int32 [n_grids]
    district_of: np.ndarray  # int32 [n_grids]
    rows: int
    cols: int
    cell_of_grid: np.ndarray  # int64 [n_grids]: flat map cell index (row * cols + col)
    grid_of_cell: np.ndarray  # int64 [rows * cols]: grid id or -1
    geo: Any = None  # engine.geography.Geography for a real map (city.geometry), else None
    # each grid's 3x3 map neighbourhood, built when first needed (escalation.map_neighbours)
    neighbours: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def n_residents(self) -> int:
        """Total residents."""
        return int(self.resident_start[-1])


def build_layout(city: dict, rng: np.random.Generator) -> CityLayout:
    """Build the hierarchy and the map from the ``city`` section of a scenario (real districts
    from ``city.geometry`` when it is set: see :mod:`sim.engine.geography`)."""
    if city.get("geometry"):
        from .geography import build_geo_layout

        return build_geo_layout(city, rng)
    residents = int(city["residents"])
    per_grid = int(city["residents_per_grid"])
    n_grids = max(1, round(residents / per_grid))
    # Grid populations vary ±20% around the mean, then are scaled to the exact total.
    weights = rng.uniform(0.8, 1.2, n_grids) if n_grids > 1 else np.ones(1)
    sizes = np.floor(weights / weights.sum() * residents).astype(np.int64)
    sizes[: residents - int(sizes.sum())] += 1
    start = np.zeros(n_grids + 1, dtype=np.int64)
    np.cumsum(sizes, out=start[1:])

    gpc, cps, spd = city["grids_per_community"], city["communities_per_street"], city["streets_per_district"]
    gid = np.arange(n_grids)
    community = (gid // gpc).astype(np.int32)
    street = (community // cps).astype(np.int32)
    district = (street // spd).astype(np.int32)
    n_districts = int(district[-1]) + 1

    # Map: districts tile a near-square arrangement of equal rectangular blocks.
    grids_per_district = gpc * cps * spd
    bw = max(1, math.ceil(math.sqrt(min(grids_per_district, n_grids))))
    bh = math.ceil(min(grids_per_district, n_grids) / bw)
    dcols = max(1, math.ceil(math.sqrt(n_districts)))
    drows = math.ceil(n_districts / dcols)
    rows, cols = drows * bh, dcols * bw
    local = gid - district.astype(np.int64) * grids_per_district
    r = (district // dcols) * bh + local // bw
    c = (district % dcols) * bw + local % bw
    cell = (r * cols + c).astype(np.int64)
    grid_of_cell = np.full(rows * cols, -1, dtype=np.int64)
    grid_of_cell[cell] = gid
    return CityLayout(n_grids, int(community[-1]) + 1, int(street[-1]) + 1, n_districts, sizes, start,
                      community, street, district, rows, cols, cell, grid_of_cell)
