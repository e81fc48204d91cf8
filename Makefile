# cityrisk — common tasks. Every target installs what it needs first (.ci/setup.sh is idempotent).
PY := .venv/bin/python

.PHONY: run test test-fast test-cluster lint bench validate docs setup setup-browser setup-cluster clean

setup:
	bash .ci/setup.sh

setup-browser:
	bash .ci/setup.sh --browser

## setup-cluster: Debian's slurm-wlm and munge for the cluster tests (needs root; else they skip)
setup-cluster:
	bash .ci/install_slurm.sh

## run: install, then run the baseline scenario (summary printed, figures in out/baseline/)
run: setup
	$(PY) -m sim run baseline --out out/baseline --force

## test: install (with chromium, offline Solara assets and SLURM), then run every test, slow and
## cluster ones included (the SLURM tests skip where SLURM cannot start)
test: setup-browser setup-cluster
	$(PY) -m pytest -q -p no:cacheprovider --timeout=900

## test-fast: the quick suite (no slow tests)
test-fast: setup
	$(PY) -m pytest -q -m "not slow" --timeout=600

## test-cluster: only the cluster tests (a single-node SLURM started by .ci/start_slurm.sh, Dask processes)
test-cluster: setup setup-cluster
	$(PY) -m pytest -q -m cluster --timeout=600

lint: setup
	$(PY) -m ruff check sim tests docs benchmarks experiments calibration

validate: setup
	$(PY) -m sim validate

## docs: regenerate the measured numbers in README.md from runs (docs/gen_numbers.py; ~1 min)
docs: setup
	$(PY) docs/gen_numbers.py

## bench: performance figures and ratios (printed, never asserted)
bench: setup
	$(PY) benchmarks/bench_scale.py --multipliers 1,5,10 --repeat 3
	$(PY) benchmarks/bench_limit.py
	$(PY) benchmarks/bench_epstein.py
	$(PY) benchmarks/bench_scaling.py
	$(PY) benchmarks/bench_sweep.py --runs 200
	$(PY) benchmarks/bench_cli.py

clean:
	rm -rf out .pytest_cache .hypothesis
