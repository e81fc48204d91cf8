"""A CJK-capable font for matplotlib, so exported PNGs show Chinese titles (not empty boxes)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

CANDIDATES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei",
              "WenQuanYi Micro Hei", "SimHei", "Microsoft YaHei", "PingFang SC",
              "Noto Serif CJK SC")
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


@functools.cache
def cjk_font() -> str | None:
    """Name of an installed CJK font matplotlib can use (registering it if needed), or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    found = next((n for n in CANDIDATES if n in names), None)
    if found is None:  # font installed after matplotlib built its cache
        for d in FONT_DIRS:
            for path in sorted(Path(d).glob("**/*CJK*")) if Path(d).exists() else []:
                try:
                    font_manager.fontManager.addfont(str(path))
                except (OSError, RuntimeError, ValueError):
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
        found = next((n for n in CANDIDATES if n in names), None)
    return found


def font_rc() -> dict[RcKeyType, list[str]]:
    """rc settings for ``matplotlib.rc_context``: DejaVu Sans, falling back to the CJK font."""
    found = cjk_font()
    return {"font.family": ["DejaVu Sans", found] if found else ["DejaVu Sans"]}
