# Two commands do everything: `make demo` and `make test`. `make docs` builds the documentation site
# into site/; `make results` reruns the documented studies into docs/results/ first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs
CONSTRAINTS := constraints.txt

.PHONY: install demo test lint bench docs results wheel clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "python3.11 not found; set PY=..."; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install whenever the project metadata or the pins change.
$(STAMP): $(BIN)/python pyproject.toml setup.py src/pairspace/neighbors/_kernels.c $(CONSTRAINTS)
	@echo "Installing pairspace with every extra into $(VENV) (torch, faiss, dask, sentence-transformers,"
	@echo "CTranslate2 with Whisper tiny.en, GloVe 6B 50d, ...): about 2.5 GB on disk, a few minutes;"
	@echo "nothing is downloaded after this step. Later runs reuse $(VENV)."
	# setup.py builds the C kernels of the exact search (optional: numpy twins without a compiler).
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e ".[all,dev]"
	# tinysoundfont renders the offline instrument benchmark; its declared deps are not needed.
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) --no-deps tinysoundfont
	touch $(STAMP)

$(DOCS_STAMP): $(STAMP)
	@echo "Installing the documentation tools (Sphinx, pydata-sphinx-theme, numpydoc, myst-parser,"
	@echo "a local MathJax) into $(VENV): about 60 MB."
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e ".[docs]"
	touch $(DOCS_STAMP)

install: $(STAMP)

demo: $(STAMP)
	@echo "pairspace demo: the word-analogy study on the embedded GloVe 6B 50d vectors (a few seconds)."
	$(BIN)/pairspace demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_nngs.py

# The documentation site: generated tables from docs/results/, then Sphinx, strict (a warning fails).
docs: $(DOCS_STAMP)
	$(BIN)/python docs/gen_results.py
	$(BIN)/python docs/gen_cli.py
	$(BIN)/python -m sphinx -W --keep-going -n -q -b html docs site
	@echo "open site/index.html"

# The audit's route-L1 study needs musicnn (TensorFlow, about 600 MB): only `make results` installs it.
RESULTS_STAMP := $(VENV)/.installed-results
$(RESULTS_STAMP): $(STAMP)
	@echo "Installing the musicnn extra (tensorflow-cpu, tf-keras, librosa, musicnn) for the audit"
	@echo "study into $(VENV): about 600 MB."
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e ".[musicnn]"
	# musicnn declares a second TensorFlow; the code pairspace uses needs none of its declared deps.
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) --no-deps musicnn
	touch $(RESULTS_STAMP)

# Rerun every docs/results/<name>/command.txt (recording commit, machine, CPU, load), then regenerate.
results: $(RESULTS_STAMP)
	$(BIN)/python docs/gen_results.py --run

wheel: $(STAMP)
	$(BIN)/python -m pip wheel -q --no-deps --no-build-isolation -w dist .

clean:
	rm -rf $(VENV) build dist site docs/_cli docs/api/generated docs/_static/mathjax *.egg-info src/*.egg-info .pytest_cache
