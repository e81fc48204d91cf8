"""Build step: ship the top-level ``scenarios/`` and calibration inputs inside the wheel.

They stay at the top of the repository (one copy in git); a wheel build copies them to
``sim/data/scenarios`` and ``sim/data/calibration`` (see :mod:`sim.resources`). An editable
install reads them in place. Everything else is configured in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: (folder in the repository, file pattern, folder inside the package)
SHIPPED = (
    ("scenarios", "*.toml", "data/scenarios"),
    ("calibration", "*.toml", "data/calibration"),
    ("calibration/targets", "*.toml", "data/calibration/targets"),
    ("calibration/data", "*.csv.gz", "data/calibration/data"),
)


class BuildPyWithData(build_py):
    """``build_py`` that also copies :data:`SHIPPED` into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the repository's folders in place
        for src, pattern, dest in SHIPPED:
            files = sorted((HERE / src).glob(pattern))
            if src == "scenarios" and not files:
                raise SystemExit(f"build: no scenario files in {HERE / src}")
            target = Path(self.build_lib) / "sim" / dest
            self.mkpath(str(target))
            for f in files:
                self.copy_file(str(f), str(target / f.name))


setup(cmdclass={"build_py": BuildPyWithData})
