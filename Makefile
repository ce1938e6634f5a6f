# natron — every target works on a fresh machine with Python 3.11 and pip.
# Plain commands behind each target are listed in the README for users without make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser demo test lint docs lab sync readme bench clean-venv

# The venv's own pip (22.3 or newer on Python 3.11) does every step: no self-upgrade round-trip to the index.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the package metadata changes (torch is pinned in pyproject.toml). --no-compile: byte-compiling
# every installed file takes as long as installing them (~70 s of ~170 s); Python compiles what it imports, once,
# and keeps it: some images set PYTHONDONTWRITEBYTECODE, which would make every process compile torch again.
unexport PYTHONDONTWRITEBYTECODE
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --no-compile -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The main job: the default market as a SQLite database to explore, then every phase of params/demo.yaml
# (pretrain -> finetune -> rl -> report) into outputs/runs/<id>/; prints the bundle, the report, a sample
# prediction and the commands to serve it.
demo: install
	$(BIN)/natron data synth --db outputs/market.db --bars 20000
	$(BIN)/natron run params/demo.yaml

# README.md is generated from nbs/index.ipynb.
README_MD = $(BIN)/jupyter nbconvert --log-level=WARN --to markdown nbs/index.ipynb --output-dir . --output README

# Notebooks are the source: cleaning and exporting them must leave git untouched. (nbdev-export rewrites pyproject.toml
# with the same content, so the README is made here directly: a sub-make would see a newer pyproject.toml and re-install.)
sync: install
	$(BIN)/nbdev-clean
	$(BIN)/nbdev-export
	$(README_MD)
	@git diff --quiet -- nbs natron README.md && test -z "$$(git ls-files --others --exclude-standard nbs natron)" || \
	  (echo "nbdev-clean/nbdev-export/readme changed these files: commit them"; git --no-pager diff --stat; \
	   git ls-files --others --exclude-standard nbs natron; exit 1)

readme: install
	$(README_MD)

# The report and the docs are tested in a real browser: Debian's chromium (playwright drives it, downloads nothing).
# As root with apt-get (CI, containers) it is installed here; otherwise make stops at once with the command to run.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium (the report and docs tests load pages in it)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make test needs Chromium (the report and docs tests load pages in it). Install it with:"; \
	    echo "    sudo apt-get update && sudo apt-get install -y chromium"; exit 1; \
	  fi; }

# ruff (settings in pyproject.toml) over the source: the notebooks, the tests and the tools.
lint: install
	$(BIN)/ruff check nbs tests tools

# The documentation site in _docs/ (nbdev's own builder needs Quarto): every notebook, the architecture page,
# CONTRIBUTING and CHANGELOG, and an API page per module. Open _docs/index.html.
docs: install
	$(BIN)/python tools/docs.py --out _docs

# Chromium (apt-get) and the venv (pip) install side by side: both wait on the network and the disk more than on a core.
# Notebooks run two at a time on this 2-core budget, and pytest on two workers (the timing-sensitive serving tests
# together on one of them, tests/conftest.py): one thread each. Two OpenMP/BLAS threads per worker on two cores spin
# against each other (a walk-forward test: 23 s against 5 s).
test:
	$(MAKE) --no-print-directory -j2 browser install
	$(MAKE) --no-print-directory sync lint
	$(BIN)/python tools/check_imports.py
	OMP_NUM_THREADS=1 $(BIN)/nbdev-test --n-workers 2 --timing
	OMP_NUM_THREADS=1 $(BIN)/pytest tests/ -n 2 --dist loadgroup --durations=10

lab: install
	$(BIN)/jupyter lab

bench: install
	$(BIN)/natron bench all

clean-venv:
	rm -rf $(VENV)
