# Two commands do everything: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints.txt

.PHONY: install demo test lint bench clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "python3.11 not found; set PY=..."; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install whenever the project metadata or the pins change.
$(STAMP): $(BIN)/python pyproject.toml setup.py src/pairspace/neighbors/_kernels.c $(CONSTRAINTS)
	# setup.py builds the C kernels of the exact search (optional: numpy twins without a compiler).
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e ".[all,dev]"
	# tinysoundfont renders the offline instrument benchmark; its declared deps are not needed.
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) --no-deps tinysoundfont
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/pairspace demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_nngs.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
