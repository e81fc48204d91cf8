"""Logging for long jobs (``cityrisk sweep``, ``cityrisk calibrate``): timestamps on stderr.

Modules log to ``logging.getLogger(__name__)`` (all under ``sim``); the command line calls
:func:`configure` once with the ``-v/-q`` count. Default level INFO (start, chunks written,
phases, end); ``-v`` DEBUG; ``-q`` WARNING and no progress bars. Library users who never call
:func:`configure` see nothing beyond Python's own ``lastResort`` handling of warnings.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import Any

__all__ = ["add_verbosity_options", "configure", "level_for"]

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
DATEFMT = "%Y-%m-%dT%H:%M:%SZ"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (tests and tqdm replace it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def add_verbosity_options(parser: argparse.ArgumentParser) -> None:
    """Add ``-v/--verbose`` (repeatable) and ``-q/--quiet`` to a subcommand's parser."""
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log lines (debug detail); timestamps in UTC on stderr")
    parser.add_argument("-q", "--quiet", action="count", default=0,
                        help="warnings and errors only, no progress bar")


def level_for(verbose: int = 0, quiet: int = 0) -> int:
    """The logging level of a ``-v``/``-q`` count: INFO by default, DEBUG with -v, WARNING with -q."""
    step = int(verbose) - int(quiet)
    if step > 0:
        return logging.DEBUG
    if step < 0:
        return logging.WARNING
    return logging.INFO


def configure(verbose: int = 0, quiet: int = 0) -> logging.Logger:
    """Send the ``sim`` loggers to stderr with UTC timestamps at the level of the counts."""
    logger = logging.getLogger("sim")
    for h in list(logger.handlers):
        if getattr(h, "_cityrisk", False):
            logger.removeHandler(h)
    handler = _StderrHandler()
    fmt = logging.Formatter(FORMAT, DATEFMT)
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    handler._cityrisk = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level_for(verbose, quiet))
    logger.propagate = False
    return logger
