# Two entry points for a newcomer: `make demo` and `make test`.
# Both bootstrap a private .venv from PyPI, so nothing has to be installed by hand first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench matrix yardstick yardstick-reference clean

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
	$(MAKE) yardstick

# Issue 7's yardsticks: pyzmq's and txZMQ's own tests on zmtp's `zmq` package, in a venv that has
# no pyzmq (see tests/yardstick/run.py); about two minutes.
YVENV := .venv-yardstick
YPY := $(YVENV)/bin/python
$(YVENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(YVENV)
	$(YPY) -m pip install --quiet --upgrade pip
	$(YPY) -m pip install --quiet -e '.[yardstick]'
	$(YPY) -m pip install --quiet --no-deps 'txZMQ==1.0.0'
	touch $@

yardstick: $(YVENV)/.installed
	$(YPY) tests/yardstick/run.py $(YARDSTICK_ARGS)

# The same suites on real pyzmq 27.2.0, to record what libzmq gets (tests/yardstick/reference.json).
RVENV := .venv-yardstick-reference
$(RVENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RVENV)
	$(RVENV)/bin/python -m pip install --quiet --upgrade pip
	$(RVENV)/bin/python -m pip install --quiet '.[yardstick]' 'pyzmq==27.2.0' 'txZMQ==1.0.0'
	touch $@

yardstick-reference: $(RVENV)/.installed
	$(RVENV)/bin/python tests/yardstick/run.py --reference --record

# zmtp against pyzmq side by side, ~5 minutes; `make bench BENCH_ARGS=--quick` for ~1 minute.
bench: $(STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

# zmtp against libzmq in a separate process, ~1 minute: prints the table, writes interop/MATRIX.md.
matrix: $(STAMP)
	$(PY) -m interop.report

clean:
	rm -rf $(VENV) $(YVENV) $(RVENV) .yardstick .pytest_cache .mypy_cache .ruff_cache .hypothesis
