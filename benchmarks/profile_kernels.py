"""Where a run's time goes, compiled kernels by name: ``perf`` attached to one run, numba's kernels
named through a perf map of their entry points.

cProfile sees a compiled kernel only as part of the Python function that calls it, and ``perf``
alone shows numba's code as bare ``[JIT]`` addresses. This runs one scenario, attaches
``perf record`` for the run (after the first ``--skip`` days, whose kernel loading would swamp
the figures), then writes ``/tmp/perf-PID.map``: every compiled overload of every ``sim`` module's
dispatchers, from its entry point to the next one's (at most 64 kB; code a kernel inlined counts
as that kernel's, and a ``[wrap]`` is its Python wrapper or what follows it). Prints the shares
by library and the top symbols. Linux with ``perf`` only; needs permission to attach
(``kernel.perf_event_paranoid`` ≤ 1, or root).

    .venv/bin/python benchmarks/profile_kernels.py xian --days 365 [--set world.emergence_multiplier=5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's sim

_MAX_SIZE = 1 << 16


def kernel_map() -> list[tuple[int, str]]:
    """(entry address, name) of every compiled overload of the loaded ``sim`` modules' numba
    dispatchers and of their Python wrappers, ascending."""
    from numba.core.registry import CPUDispatcher

    starts: dict[int, str] = {}
    for name, mod in list(sys.modules.items()):
        if not name.startswith("sim"):
            continue
        for obj in list(vars(mod).values()):
            if not isinstance(obj, CPUDispatcher):
                continue
            # named where it is defined (a kernel imported or aliased elsewhere is the same code)
            label = f"{obj.py_func.__module__.rsplit('.', 1)[-1]}.{obj.py_func.__name__}"
            for cres in obj.overloads.values():
                for symbol, suffix in ((cres.fndesc.llvm_func_name, ""),
                                       (cres.fndesc.llvm_cpython_wrapper_name, "[wrap]")):
                    try:
                        address = cres.library.get_pointer_to_function(symbol)
                    except Exception:  # noqa: BLE001 - a symbol the library does not export
                        continue
                    if address:
                        starts[address] = label + suffix
    return sorted(starts.items())


def write_perf_map(pid: int, starts: list[tuple[int, str]], directory: Path = Path("/tmp")) -> Path:
    """``/tmp/perf-PID.map`` (perf's format for JIT code: start, size, name; hexadecimal), each
    entry up to the next one's start (at most 64 kB)."""
    path = directory / f"perf-{pid}.map"
    lines = []
    for i, (address, label) in enumerate(starts):
        nxt = starts[i + 1][0] if i + 1 < len(starts) else address + _MAX_SIZE
        lines.append(f"{address:x} {min(nxt - address, _MAX_SIZE):x} {label}")
    path.write_text("\n".join(lines) + "\n")
    return path


def report(data: Path, sort: str, top: int) -> str:
    """``perf report``'s lines with a share, the first ``top`` of them."""
    out = subprocess.run(["perf", "report", "-i", str(data), "--sort", sort, "--stdio"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.rstrip()[:140] for line in out.splitlines() if "%" in line and not line.startswith("#")]
    return "\n".join(rows[:top])


def main(argv: list[str] | None = None) -> int:
    """Run the scenario under ``perf`` and print where the time went."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--skip", type=int, default=2, help="days run before perf attaches (kernel loading)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--freq", type=int, default=2999, help="samples a second")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--out", type=Path, default=Path("/tmp/cityrisk-perf.data"))
    a = p.parse_args(argv)
    if shutil.which("perf") is None:
        print("error: perf is not installed (Debian: linux-perf)", file=sys.stderr)
        return 2
    if not 0 <= a.skip < a.days:
        print(f"error: --skip must be in [0, --days) = [0, {a.days}), got {a.skip}", file=sys.stderr)
        return 2

    import sim
    from sim.model import CityModel

    model = CityModel(sim.load_scenario(a.scenario, a.set or None), rng=a.seed)
    if a.skip:
        model.run(a.skip)
    perf = subprocess.Popen(["perf", "record", "-F", str(a.freq), "-p", str(os.getpid()), "-o", str(a.out)],
                            stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # perf attaches
    cpu = time.process_time()
    model.run(a.days - a.skip)
    cpu = time.process_time() - cpu
    perf.send_signal(signal.SIGINT)
    code = perf.wait()  # perf stopped by SIGINT may exit non-zero with its data written
    if not a.out.exists() or a.out.stat().st_size == 0:
        print(f"error: perf record wrote nothing (exit {code}; permission to attach? see "
              "kernel.perf_event_paranoid)", file=sys.stderr)
        return 1
    starts = kernel_map()
    write_perf_map(os.getpid(), starts)
    print(f"{a.scenario} days {a.skip + 1}-{a.days}: {cpu:.2f} s CPU under perf; {len(starts)} kernel entry points mapped")
    print("\nby library:\n" + report(a.out, "dso", 10))
    print("\nby symbol:\n" + report(a.out, "dso,symbol", a.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
