# Every target creates .venv on first use and installs what it needs,
# so on a fresh machine `make demo` or `make test` is the only command needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/spibot demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot handlers services sandbox surveys scoring storage

# -rs: show why anything was skipped. -n 4: four workers even on two cores, since most
# end-to-end tests wait on loopback HTTP and subprocesses rather than compute (9 min -> 3).
test: lint
	$(BIN)/pytest -q -rs -n 4 -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
