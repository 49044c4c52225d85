# CH09. 가벼운 도커 이미지 만들기 -- an executable book.
# `make html` sets everything up on a fresh machine and builds the book; `make test` tests it.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
OUT    := _build

.DEFAULT_GOAL := help
.PHONY: help html profile alone test checks unit integration book lab notebooks deps test-deps engine venv bases clean clean-docker ci-rehearsal

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

html: ## Build the book into _build/html (set-up included): execute stale pages, then render
	@# The system packages and the virtualenv need nothing of each other: both are made at once (the packages'
	@# output is shown when they are done). Then one command under the checkout's lock: a second make html is
	@# refused before it removes anything, and a failed set-up leaves no older site looking current.
	@# HTML_ARGS passes options (--force PAGE..., --jobs N).
	@log=$$(mktemp /tmp/ch09-install-deps.XXXXXX); scripts/install-deps >"$$log" 2>&1 & deps=$$!; \
	  $(MAKE) --no-print-directory venv || { kill $$deps 2>/dev/null; rm -f "$$log"; exit 1; }; \
	  wait $$deps; code=$$?; cat "$$log" >&2; rm -f "$$log"; exit $$code
	$(PY) -m dockerlab html --out $(OUT) $(HTML_ARGS)

profile: venv ## Per page: where and when it executed, its seconds and its slowest cells (from the artefacts)
	@$(PY) -m dockerlab profile --out $(OUT)

test: venv checks engine bases test-deps ## The tests in tiers (unit, integration, book, clean-slate); reads make html's build when current
	$(PY) -m pytest -m "not alone"

alone: venv engine bases ## Every page executed alone after make clean-docker, as a docker-group reader (slow)
	$(PY) -m pytest -m alone

checks: venv ## Static checks and doctests: ruff (also over the pages' code cells), mypy --strict on src/, doctests
	$(PY) -m ruff check .
	$(PY) -m dockerlab lint-cells
	$(PY) -m mypy
	$(PY) -m pytest -q -rfE --doctest-modules src

unit: checks ## The checks, then the unit tests (no Docker engine needed)
	$(PY) -m pytest -m "not engine and not book"

integration: venv engine bases ## Integration tests against the real engine
	$(PY) -m pytest -m "engine and not book"

book: venv engine bases test-deps ## Build the site in a temp dir and check what a reader sees
	$(PY) -m pytest -m book

lab: venv engine bases ## Open the chapters as notebooks in JupyterLab (jupytext); LAB_ARGS passes options
	CH09_ROOT=$(CURDIR) JUPYTERLAB_SETTINGS_DIR=$(CURDIR)/.jupyter/lab/user-settings \
	  $(VENV)/bin/jupyter lab --notebook-dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

notebooks: venv engine bases ## Execute every chapter as a notebook (nbclient) into _build/notebooks/*.ipynb
	$(PY) -m dockerlab notebooks --out $(OUT)/notebooks $(NOTEBOOKS_ARGS)

deps: ## System packages (docker.io, golang-go, debootstrap, ...) when root on Debian
	scripts/install-deps

test-deps: ## System packages only the tests need (the browser the page tests drive) when root on Debian
	scripts/install-deps --tests

engine: deps ## Make sure a Docker engine answers (installs and starts dockerd if needed)
	scripts/ensure-docker

venv: $(VENV)/.installed ## Virtualenv with the pinned packages and the dockerlab helper

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	@# The helper package is used in place (src/), like an editable install.
	$(PY) -c "import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()['purelib'], 'dockerlab.pth').write_text('$(CURDIR)/src\n')"
	touch $@

bases: venv engine ## Base images: pull, or bootstrap from Debian packages
	$(PY) -m dockerlab bases

clean: ## Remove the built site and build work files (the record of the book's images is kept for clean-docker)
	@# _build/ledger lists the images the book built; without it clean-docker could not find the dangling ones.
	find $(OUT) -mindepth 1 -maxdepth 1 ! -name ledger ! -name run -exec rm -rf {} + 2>/dev/null || true

ci-rehearsal: venv ## Replay the workflow's jobs (plan, each matrix execute job, render) in fresh clones as a sudo user (as root)
	$(PY) -m dockerlab.rehearsal

clean-docker: venv ## Remove only what the book created on the engine (bases kept; CLEAN_ARGS=--all for them too)
	$(PY) -m dockerlab clean $(CLEAN_ARGS)
