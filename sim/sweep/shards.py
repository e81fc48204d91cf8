"""Sharding a sweep over independent jobs: ``--shard I/N`` and the SLURM array that runs them.

Shards need no scheduler: shard ``I`` of ``N`` runs the runs with ``run_id % N == I - 1`` into
the shared store, which keeps them disjoint.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from .spec import ClusterSpec, SpecError

__all__ = ["array_job_script", "parse_shard"]


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` (1-based) -> ``(I-1, N)``; SpecError if malformed."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise SpecError(f"--shard {text!r}: must be I/N with integers, e.g. 2/8") from None
    if n < 1 or not 1 <= i <= n:
        raise SpecError(f"--shard {text!r}: need 1 <= I <= N")
    return i - 1, n


def array_job_script(spec: ClusterSpec, spec_path: Path, out_dir: Path, shards: int) -> str:
    """A SLURM array script running ``cityrisk sweep --shard I/N`` (no Dask scheduler needed)."""
    o = spec.options
    lines = ["#!/usr/bin/env bash", "#SBATCH -J cityrisk-sweep", f"#SBATCH --array=1-{shards}"]
    if o.get("queue"):
        lines.append(f"#SBATCH -p {o['queue']}")
    if o.get("account"):
        lines.append(f"#SBATCH -A {o['account']}")
    cores = int(o.get("cores", 1))
    lines += ["#SBATCH -n 1", f"#SBATCH --cpus-per-task={cores}"]
    if o.get("memory"):
        lines.append(f"#SBATCH --mem={str(o['memory']).replace('GB', 'G')}")
    if o.get("walltime"):
        lines.append(f"#SBATCH -t {o['walltime']}")
    lines += [f"#SBATCH {d}" for d in o.get("job_extra_directives", [])]
    lines.append("")
    lines += list(o.get("job_script_prologue", []))
    py = shlex.quote(str(o.get("python", sys.executable)))
    cmd = (f"{py} -m sim.sweep sweep {shlex.quote(str(spec_path))} "
           f"--out {shlex.quote(str(out_dir))} --shard ${{SLURM_ARRAY_TASK_ID}}/{shards} "
           f"--workers ${{SLURM_CPUS_PER_TASK:-{cores}}} --no-progress")
    lines += ["export PYTHONUNBUFFERED=1", cmd, ""]
    return "\n".join(lines)
