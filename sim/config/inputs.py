"""One gate for every input file: scenario files, sweep specs, calibration specs and targets.

Before a file reaches a parser it must be a regular file (not a directory, device or pipe: a
``/dev/zero`` would be read until memory runs out), at most :data:`MAX_BYTES`, UTF-8 text
without NUL bytes, TOML that parses, and nested at most :data:`MAX_DEPTH` levels (5,000 nested
arrays otherwise end in a RecursionError). Each failure raises the caller's error type
(``error=``) with one line naming the file and what is allowed, so every command keeps its own
exit-2 path.

Also here: checks of output names (``outputs`` of a sweep, ``--kpi`` of analyze) against the
KPI keys a run of the scenario produces (:func:`check_outcome_names`, with the keys from
:func:`sim.runner.outcome_names`): exact per category and department, where the outcomes registry
declares patterns.
"""

from __future__ import annotations

import stat
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .params import ScenarioError

MAX_BYTES = 1_000_000  # scenario and spec files are a few kB; 1 MB leaves room for targets
MAX_DEPTH = 24  # the deepest real structure (targets of a calibration) is 4 levels
MAX_DESIGN_RUNS = 10_000_000  # runs of one sweep (points x replications): ~years of CPU

ErrorType = Callable[[str], Exception]


def read_text(path: str | Path, what: str = "file", error: ErrorType = ScenarioError,
              limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes, or ``error(message)``."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise error(f"{what} = {str(p)!r}: cannot read (file does not exist)") from None
    except OSError as exc:
        raise error(f"{what} = {str(p)!r}: cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise error(f"{what} = {str(p)!r}: is a directory, expected a TOML file")
    if not stat.S_ISREG(mode):
        raise error(f"{what} = {str(p)!r}: not a regular file (device, pipe or socket)")
    try:
        with p.open("rb") as fh:
            data = fh.read(limit + 1)  # never more: the size on disk may change while we read
    except OSError as exc:
        raise error(f"{what} = {str(p)!r}: cannot read ({exc.strerror})") from None
    if len(data) > limit:
        raise error(f"{what} = {str(p)!r}: larger than {limit:,} bytes (the limit for input files)")
    return decode(data, f"{what} = {str(p)!r}", error)


def decode(data: bytes, where: str, error: ErrorType = ScenarioError) -> str:
    """``data`` as text if it is UTF-8 without NUL bytes (i.e. not a binary file)."""
    if b"\0" in data:
        raise error(f"{where}: binary file (NUL byte at offset {data.index(b'\0')}), "
                    "expected UTF-8 TOML text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{where}: not UTF-8 text (bad byte at offset {exc.start})") from None


def depth(obj: Any) -> int:
    """Nesting depth of tables and arrays (a scalar is 0), computed without recursion."""
    best, stack = 0, [(obj, 0)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        best = max(best, d + 1)
        stack.extend((c, d + 1) for c in children)
    return best


def parse_toml(text: str, where: str, error: ErrorType = ScenarioError,
               max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Parse TOML text; syntax errors and too-deep nesting become ``error``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{where}: not valid TOML ({exc})") from None
    except RecursionError:
        raise error(f"{where}: nested too deeply (at most {max_depth} levels)") from None
    if depth(data) > max_depth:
        raise error(f"{where}: nested too deeply ({depth(data)} levels; at most {max_depth})")
    return data


def load_toml(path: str | Path, what: str = "file", error: ErrorType = ScenarioError,
              limit: int = MAX_BYTES) -> dict[str, Any]:
    """Read and parse a TOML input file through every check above."""
    return parse_toml(read_text(path, what, error, limit), f"{what} = {str(path)!r}", error)


def check_design_size(runs: int, where: str, error: ErrorType,
                      limit: int = MAX_DESIGN_RUNS) -> int:
    """``runs`` if a design of that many runs may be built, else ``error`` with the count."""
    if runs > limit:
        raise error(f"{where}: {runs:,} runs is more than the limit of {limit:,}; "
                    "use fewer points or replications")
    return runs


def check_outcome_names(names: Iterable[str], where: str, known: Iterable[str],
                        error: ErrorType = ScenarioError) -> list[str]:
    """``names`` if each is in ``known`` (the KPIs a run produces, :func:`sim.runner.outcome_names`,
    or a store's columns), else ``error`` naming the first unknown one."""
    allowed = frozenset(known)
    names = list(names)
    for name in names:
        if name not in allowed:
            top = sorted(k for k in allowed if "." not in k)
            nested = sorted({k.split(".", 1)[0] + ".*" for k in allowed if "." in k})
            raise error(f"{where}: {name!r} is not an outcome (outcomes: {', '.join(top)}; "
                        f"and entries of {', '.join(nested)})")
    return names
