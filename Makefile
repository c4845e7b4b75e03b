# The two commands a newcomer needs: `make run` and `make test` (see README.md).
# Everything else here is what those two call. Installation is idempotent: the venv is re-synced
# only when pyproject.toml changes (stamp file), so repeated runs start at once.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: run test lint typecheck pytest install clean

run: $(STAMP)
	$(BIN)/mse-gateway sandbox

test: $(STAMP) lint typecheck pytest

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "mse-gateway needs Python >= 3.11 on PATH" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy gateway adapters

# Most tests wait (gateways in child processes, simulated clocks, sandbox peers over loopback), so
# they run in PYTEST_WORKERS processes even on two cores; worksteal keeps the long end-to-end tests
# from queueing behind one worker. The few `serial` tests measure latency under their own load and
# run alone afterwards. Exit status 5 (nothing selected, e.g. PYTEST_ARGS="-k ...") is not a failure.
PYTEST_WORKERS ?= 4

pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -m "not serial" $(PYTEST_ARGS) || test $$? -eq 5
	$(BIN)/pytest -m serial $(PYTEST_ARGS) || test $$? -eq 5

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .grimp_cache .import_linter_cache
