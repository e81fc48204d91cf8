"""District borders and names on a matplotlib map of grids (the escalation-map figure).

Two sources of borders: the raster (edges between cells of different districts, for the synthetic
city) or the real outlines of ``districts.json`` (a city with ``city.geometry``), drawn in map
coordinates, with each district's name in Chinese and English.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.patheffects as path_effects
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection


def border_segments(districts: np.ndarray) -> list[list[tuple[float, float]]]:
    """Line segments between map cells of different districts (and around the city edge)."""
    d = np.pad(districts, 1, constant_values=-1)
    segs: list[list[tuple[float, float]]] = []
    r, c = np.nonzero(d[:, 1:] != d[:, :-1])  # vertical edges between (r, c) and (r, c + 1)
    segs += [[(cc - 0.5, rr - 1.5), (cc - 0.5, rr - 0.5)] for rr, cc in zip(r, c, strict=True)]
    r, c = np.nonzero(d[1:, :] != d[:-1, :])  # horizontal edges between (r, c) and (r + 1, c)
    segs += [[(cc - 1.5, rr - 0.5), (cc - 0.5, rr - 0.5)] for rr, cc in zip(r, c, strict=True)]
    return segs


def district_label(d: int, districts: Mapping[str, Any] | None, sep: str = " ") -> str:
    """``D3`` on a synthetic map; ``中文 English`` on a real one."""
    if not districts:
        return f"D{d}"
    zh, en = districts["names"][d], (districts.get("names_en") or [""] * (d + 1))[d]
    return f"{zh}{sep}{en}".strip() if en else zh


def draw_districts(ax: Any, dist: np.ndarray, grids: pd.DataFrame,
                   districts: Mapping[str, Any] | None, lw: float) -> None:
    """Borders and names of the districts on ``ax`` (an imshow of the map, cell = 1 unit)."""
    if districts:
        rings = [ring for d in districts["outlines"] for ring in d]
        ax.add_collection(LineCollection(rings, colors="black", linewidths=max(lw, 0.7)))
    else:
        ax.add_collection(LineCollection(border_segments(dist), colors="black", linewidths=lw))
    ids = np.unique(grids["district"])
    if len(ids) > 40:
        return
    mean = grids.groupby("district")[["col", "row"]].median()
    family = font_families() if districts else None
    for d in ids:
        ax.text(mean.loc[d, "col"], mean.loc[d, "row"], district_label(int(d), districts, "\n"),
                ha="center", va="center", fontsize=8 if districts else 9, fontweight="bold",
                color="#08306b", linespacing=0.95, fontfamily=family,
                path_effects=[path_effects.withStroke(linewidth=2.5, foreground="white")])


def font_families() -> list[str]:
    """DejaVu Sans with a CJK fallback, so Chinese names are not drawn as empty boxes."""
    from ..app.fonts import cjk_font  # matplotlib only; no Solara

    found = cjk_font()
    return ["DejaVu Sans", found] if found else ["DejaVu Sans"]
