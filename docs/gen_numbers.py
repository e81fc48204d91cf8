"""Regenerate the measured numbers in README.md from runs, so they cannot go stale.

Each generated region of README.md sits between ``<!-- generated: NAME -->`` and
``<!-- end generated -->``; this script rewrites the text between them:

- ``python-example``: the line saying what the README's Python example prints (its first line
  of output, the three KPIs, rounded: 4 decimals below 1, else 1), measured by running the
  README's ```python block as written, in an empty temporary folder;
- ``validate``: the ``cityrisk validate`` table (50,000 simulated hours per set, seed 0) and the
  sentence under it (about 20 s).

    python docs/gen_numbers.py            # rewrite README.md (``make docs``)
    python docs/gen_numbers.py --check    # exit 1 and show the diff if README.md is stale
    python docs/gen_numbers.py --only python-example

``tests/test_readme.py`` imports this file and fails when the committed README differs from what
it would write, so a model change that moves a number fails the tests until ``make docs`` is run.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BEGIN = "<!-- generated: {name} -->"
END = "<!-- end generated -->"
VALIDATE_HOURS = 50_000
VALIDATE_SEED = 0

_REGION = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)",
                     re.S)
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def env() -> dict[str, str]:
    """The environment for subprocesses: this checkout first on ``PYTHONPATH``."""
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), e.get("PYTHONPATH", "")) if p)
    return e


def regions(text: str) -> dict[str, str]:
    """The generated regions of ``text``: name -> body (between the markers)."""
    return {m["name"]: m["body"] for m in _REGION.finditer(text)}


def replace_region(text: str, name: str, body: str) -> str:
    """``text`` with the body of region ``name`` replaced by ``body``."""
    if name not in regions(text):
        raise KeyError(f"README.md has no region {BEGIN.format(name=name)} ... {END}")
    if not body.endswith("\n"):
        body += "\n"
    return _REGION.sub(lambda m: m.group(1) + body + m.group(4) if m["name"] == name else m.group(0),
                       text)


def python_blocks(text: str) -> list[str]:
    """The ```python code blocks of a Markdown text, in order."""
    return _PYTHON_BLOCK.findall(text)


def run_python(code: str, cwd: Path | None = None, timeout: float = 300) -> str:
    """Run ``code`` in a fresh interpreter in ``cwd`` (a new temporary folder by default);
    return its standard output. Raises ``CalledProcessError`` if it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", code], cwd=cwd or tmp, env=env(), text=True,
                             capture_output=True, timeout=timeout)
    if out.returncode != 0:
        raise subprocess.CalledProcessError(out.returncode, "README python block", out.stdout,
                                            out.stderr)
    return out.stdout


def fmt_number(v: float) -> str:
    """Rounded as the README quotes it: 4 decimals below 1 in absolute value, else 1."""
    return f"{v:.4f}" if abs(v) < 1 else f"{v:.1f}"


def python_example_line(stdout: str) -> str:
    """The README's sentence about the first line the Python example prints."""
    first = stdout.splitlines()[0].split()
    quoted = " ".join(fmt_number(float(x)) for x in first)
    return f"(On this machine the example prints `{quoted}`, rounded.)\n"


def gen_python_example(text: str) -> str:
    return python_example_line(run_python(python_blocks(text)[0]))


def validate_rows(hours: int = VALIDATE_HOURS, seed: int = VALIDATE_SEED) -> list[dict]:
    """The rows of ``cityrisk validate --json`` (run as a command, as the README says)."""
    out = subprocess.run([sys.executable, "-m", "sim", "validate", "--json", "--quiet",
                          "--hours", str(hours), "--seed", str(seed)],
                         env=env(), text=True, capture_output=True, timeout=600)
    if out.returncode not in (0, 1):  # 1: some |z| > 3, still a table to show
        raise subprocess.CalledProcessError(out.returncode, "cityrisk validate", out.stdout, out.stderr)
    return json.loads(out.stdout)["rows"]


def validate_table(rows: list[dict], hours: int = VALIDATE_HOURS, seed: int = VALIDATE_SEED) -> str:
    """The Markdown table of ``cityrisk validate`` and the sentence under it."""
    lines = ["| parameter set | quantity | analytic | simulated | s.e. | z |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['quantity']} | {r['analytic']:.4f} | {r['simulated']:.4f} "
                     f"| {r['se']:.4f} | {r['z']:.2f} |")
    worst = max(abs(r["z"]) for r in rows if r["z"] == r["z"])
    lines += ["", f"Measured here with `cityrisk validate` ({hours:,} simulated hours per set, seed "
              f"{seed}): largest |z| = {worst:.2f}."]
    return "\n".join(lines) + "\n"


def gen_validate(text: str) -> str:
    return validate_table(validate_rows())


GENERATORS: dict[str, Callable[[str], str]] = {
    "python-example": gen_python_example,
    "validate": gen_validate,
}


def generate(text: str, only: list[str] | None = None) -> str:
    """``text`` with every generated region (or those in ``only``) rewritten from runs."""
    for name in only or list(GENERATORS):
        text = replace_region(text, name, GENERATORS[name](text))
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only compare; exit 1 if README.md is stale")
    p.add_argument("--only", action="append", choices=sorted(GENERATORS), help="one region (repeatable)")
    args = p.parse_args(argv)
    old = README.read_text(encoding="utf-8")
    new = generate(old, args.only)
    if new == old:
        print("README.md: generated regions up to date")
        return 0
    if args.check:
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                   "README.md", "README.md (regenerated)"))
        return 1
    README.write_text(new, encoding="utf-8")
    print("README.md: generated regions rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
