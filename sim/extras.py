"""Optional extras: which parts of cityrisk need which installable extra.

``pip install cityrisk`` gives the simulator (``run``, ``validate``, ``scenarios``, ``plan``,
the Python API). The rest comes with extras: ``viz`` (figures of ``run --out``), ``app`` (the
browser app), ``sweep`` (Dask, SALib, xarray), ``calibrate`` (Optuna), ``warning`` (scikit-learn,
the learned early-warning forecaster), ``all`` (everything).
A command whose extra is missing stops with one line naming it (:class:`MissingExtra`, exit 2).
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "MissingExtra", "extra_for", "message", "require"]

#: extra -> the top-level modules it provides (what is checked before a command starts).
EXTRAS: dict[str, tuple[str, ...]] = {
    "viz": ("matplotlib",),
    "app": ("solara", "ipyvue", "ipyvuetify", "matplotlib"),
    "sweep": ("dask", "distributed", "SALib", "matplotlib"),
    "calibrate": ("optuna", "matplotlib"),
    "warning": ("sklearn",),
}
#: Modules of an extra that a command only needs on some paths (checked when imported).
_ALSO = {"dask_jobqueue": "sweep", "xarray": "sweep"}


class MissingExtra(Exception):
    """A command needs an optional extra that is not installed (exit code 2)."""

    def __init__(self, extra: str, module: str, what: str = "") -> None:
        self.extra, self.module = extra, module
        super().__init__(message(extra, module, what))


def message(extra: str, module: str, what: str = "") -> str:
    """One line naming the missing module and the extra that provides it."""
    who = what or "this command"
    return (f"{who} needs the '{extra}' extra ({module} is not installed): "
            f"pip install 'cityrisk[{extra}]'")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent missing, or blocked with sys.modules[m] = None
        return False


def require(extra: str, what: str = "") -> None:
    """Raise :class:`MissingExtra` unless every module of ``extra`` is importable."""
    for module in EXTRAS[extra]:
        if not _installed(module):
            raise MissingExtra(extra, module, what)


def extra_for(module: str | None) -> str | None:
    """The extra that provides a (possibly dotted) module name, or None if it is not optional."""
    top = (module or "").split(".")[0]
    if top in _ALSO:
        return _ALSO[top]
    for extra, modules in EXTRAS.items():
        if top in modules and top != "matplotlib":
            return extra
    return "viz" if top == "matplotlib" else None
