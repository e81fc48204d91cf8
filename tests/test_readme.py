"""The README's examples run as written and say what they print (issue 13, item 6).

The ```python block runs in an empty folder and its first line of output must equal the
numbers the README quotes; the cheap command examples run (``cityrisk levers``, ``outcomes``,
``scenarios``, ``plan``, ``--version``, every subcommand's ``--help``) and the quoted error
example gives its line and exit code 2; the generated regions (docs/gen_numbers.py, ``make
docs``) equal what the generator writes now.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _load_gen():
    spec = importlib.util.spec_from_file_location("gen_numbers", ROOT / "docs" / "gen_numbers.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_numbers"] = mod
    spec.loader.exec_module(mod)
    return mod


gen = _load_gen()


def cityrisk(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """``cityrisk ARGS`` as the README writes it, through ``python -m sim``."""
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=gen.env(), text=True,
                          capture_output=True, timeout=timeout)


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, re.S | re.M)


def test_generated_regions_are_marked():
    assert set(gen.regions(README)) == set(gen.GENERATORS)


def test_python_example_prints_what_readme_says(tmp_path):
    """The README's Python block, as written, prints the numbers quoted under it."""
    (block,) = gen.python_blocks(README)
    out = gen.run_python(block, cwd=tmp_path)
    lines = out.splitlines()
    assert gen.regions(README)["python-example"] == gen.python_example_line(out), (
        f"the README's Python example now prints {lines[0]!r}: run `make docs`")
    assert lines[1].startswith("Resident(index=0, grid=0")
    assert lines[2].startswith("['staffing', 'emergence'")
    assert list(tmp_path.iterdir()) == []  # writes nothing where it runs


def test_error_example_gives_its_line_and_exit_2(tmp_path):
    """Every ``$ cityrisk ...`` transcript in a ```text block prints what follows it."""
    transcripts = [b for b in _blocks("text") if b.startswith("$ cityrisk ")]
    assert transcripts
    for block in transcripts:
        command, *expected = block.rstrip("\n").split("\n")
        res = cityrisk(shlex.split(command)[2:], tmp_path)
        assert (res.stdout + res.stderr).rstrip("\n").split("\n") == expected, command
        assert res.returncode == (2 if expected[0].startswith("cityrisk: error:") else 0)


def _command_lines() -> list[list[str]]:
    """The commands of the README's "Command line" block (one per line, comments dropped)."""
    block = next(b for b in _blocks("text") if b.startswith("cityrisk run SCENARIO"))
    cmds = []
    for line in block.splitlines():
        for part in line.split("#")[0].split("  /  "):
            if part.strip().startswith("cityrisk "):
                cmds.append(shlex.split(part)[1:])
    return cmds


def test_every_documented_subcommand_exists(tmp_path):
    subs = sorted({c[0] for c in _command_lines() if not c[0].startswith("-")})
    assert {"run", "validate", "scenarios", "plan", "levers", "outcomes", "app", "sweep",
            "analyze", "calibrate"} <= set(subs)
    for sub in subs:
        res = cityrisk([sub, "--help"], tmp_path)
        assert res.returncode == 0, (sub, res.stderr)
        assert res.stdout.startswith(f"usage: cityrisk {sub}"), sub


@pytest.mark.parametrize("args", [["levers"], ["levers", "town"], ["outcomes"], ["outcomes", "--json"],
                                  ["scenarios"], ["plan"], ["--version"]])
def test_cheap_commands_run(args, tmp_path):
    res = cityrisk(args, tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip()
    if args[0] == "scenarios":  # the table of scenarios in the README lists them all
        listed = {line.split()[0] for line in res.stdout.splitlines()}
        quoted = set(re.findall(r"^\| `(\w+)` \| [\d,]+ \|", README, re.M))
        assert quoted <= listed


def test_json_example_has_the_outcomes_readme_names(tmp_path):
    """``cityrisk run town --set ... --json``, as written: every outcome the README names is in it."""
    cmd = re.search(r"`cityrisk (run town --set levers\.mediators_per_street=\S+ [^`]*--json)`",
                    README)
    assert cmd
    res = cityrisk(shlex.split(cmd[1]), tmp_path, timeout=300)
    assert res.returncode == 0, res.stderr
    kpis = json.loads(res.stdout)
    para = README[README.index("`--json` prints one object"):README.index("byte for byte")]
    named = set(re.findall(r"`([a-z_0-9]+)`", para)) - {"run.warmup_days"}
    assert named and named <= set(kpis), named - set(kpis)
    assert kpis["provenance"]["seed"] is not None


@pytest.mark.slow
def test_validate_table_is_generated_from_a_run():
    """The README's ``cityrisk validate`` table is what the command prints now (~20 s)."""
    assert gen.regions(README)["validate"] == gen.gen_validate(README), (
        "the README's validate table is stale: run `make docs`")
