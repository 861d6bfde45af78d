# Two entry points for a fresh machine (see README): `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

PYTEST_WORKERS ?= 2

.PHONY: demo test lint typecheck warm pytest checked-pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@ $(VENV)/.runtime

demo: $(VENV)/.runtime
	$(BIN)/acceldse simulate --workload resnet18 --hardware scalesim-32x32 --dataflow all
	@echo
	@echo "These totals are the zoo's ResNet-18 (torchvision shapes) with DRAM stalls at 10 B/cycle; SCALE-Sim's"
	@echo "published ResNet-18 totals (os 1,718,353 / ws 2,519,815 / is 2,838,997, compute only, its own topology)"
	@echo "come from: acceldse simulate --workload scalesim:Resnet18 --hardware scalesim-32x32 --dataflow all --compat scalesim"
	@echo
	@echo "acceldse is installed in $(VENV): run 'source $(VENV)/bin/activate' to put it on your PATH"
	@echo "(or call $(BIN)/acceldse); then try 'acceldse list' and 'acceldse simulate --help'."

lint: $(VENV)/.test
	$(BIN)/ruff check .

typecheck: $(VENV)/.test
	$(BIN)/mypy acceldse

# numba compiles every kernel into its cache once (tests/warm_kernels.py, two processes) beside ruff and mypy, and
# the suite starts when it is done: the pytest workers, notebook kernels and CLI subprocesses then load every kernel
# instead of each compiling the ones it meets first (the same kernel compiled again by every process that needs it
# before the cache holds it)
warm: $(VENV)/.test
	$(BIN)/python -m tests.warm_kernels

# two workers, a test file at a time (tests/conftest.py); PYTEST_WORKERS=0 runs the suite in one process
PYTEST = $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

pytest: $(VENV)/.test
	$(PYTEST)

checked-pytest: lint typecheck warm
	$(PYTEST)

test: $(VENV)/.test
	$(MAKE) --no-print-directory -j3 --output-sync=line lint typecheck warm checked-pytest

bench: $(VENV)/.test
	$(BIN)/python benchmarks/bench_simulate.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
