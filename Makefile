# Two entry points for a newcomer: `make demo` and `make test`.
# Both bootstrap a private .venv from PyPI, so nothing has to be installed by hand first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench matrix clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m zmtp.demo

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: lint
	$(PY) -m pytest

# zmtp against pyzmq side by side, ~5 minutes; `make bench BENCH_ARGS=--quick` for ~1 minute.
bench: $(STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

# zmtp against libzmq in a separate process, ~1 minute: prints the table, writes interop/MATRIX.md.
matrix: $(STAMP)
	$(PY) -m interop.report

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
