"""How long a playing session rests between frames: its chosen speed, and its share of the
server's processors when many sessions play at once.

Without the share, ten sessions playing on a 2-core server ask for several times the processor
time there is; the server then answers websocket pings late, browsers reconnect, and a Pause
click sent just before a reconnect is lost (seen on CI, 2 Dec 2026). With it, every playing
session rests long enough that all of them together use at most ``BUSY_SHARE`` of the
processors: each plays slower, and clicks are still answered.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FRAME_SECONDS = 0.2  # "fastest": simulate this long between redraws
BUSY_SHARE = 0.75  # of the processors, at most, for all playing sessions together


def play_pause(speed: int, took: float, days: int) -> float:
    """Seconds to rest after ``days`` days that took ``took`` s, for ``speed`` days per second
    (0: fastest, no rest beyond a short yield so other sessions get the processor)."""
    if speed <= 0:
        return 0.01
    return max(0.0, days / speed - took)


def processors() -> int:
    """Processors this process may run on (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Players:
    """The sessions playing now, process-wide, and the rest each owes the others."""

    def __init__(self, cpus: int | None = None) -> None:
        self.cpus = cpus if cpus is not None else processors()
        self._lock = threading.Lock()
        self.count = 0

    @contextmanager
    def playing(self) -> Iterator[None]:
        """Count this session as playing for the duration of the block."""
        with self._lock:
            self.count += 1
        try:
            yield
        finally:
            with self._lock:
                self.count -= 1

    def rest(self, speed: int, took: float, days: int) -> float:
        """Seconds to rest after a frame of ``days`` days that kept the server busy ``took`` s:
        the speed's pause, or longer when the playing sessions together would use more than
        ``BUSY_SHARE`` of the processors (then each gets an equal part of that share)."""
        budget = BUSY_SHARE * self.cpus / max(1, self.count)  # this session's busy fraction
        fair = took / budget - took if budget < 1.0 else 0.0
        return max(play_pause(speed, took, days), fair)


PLAYERS = Players()
