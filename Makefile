# One entry point for the course; `make` alone lists the targets. Each target does its own
# set-up: a virtual environment in .venv with everything from requirements.txt (generated from
# pyproject.toml) and course_utils installed editable, plus, where it can, the Debian
# packages it needs (`make debs`).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Extra flags for `jupyter-book build`; CI passes "-W --keep-going" (warnings are errors).
BOOK_FLAGS ?=
# Notebooks `make book` executes at once (each kernel gets cores / BOOK_JOBS threads unless
# COURSE_THREADS is set).
BOOK_JOBS ?= 2
# pytest-xdist workers; with --dist loadscope one notebook's cells stay on one worker, and
# --no-loadscope-reorder keeps tests/conftest.py's order (long scopes first).
WORKERS ?= 2
# How tests run (offline, smoke profile, one thread, no bars): written once, in tests/smoke.env.
TEST_ENV := $(shell grep -v '^\#' tests/smoke.env | xargs)
PYTEST   := $(TEST_ENV) $(PY) -m pytest
DEBIAN_FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.DEFAULT_GOAL := help
.PHONY: help venv debs book lab lab-setup browser-test test unit check grade exercises bench strip clean

help:  ## list the targets
	@echo "make <target>:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  \1\t/' | expand -t 17
	@echo "Variables: COURSE_PROFILE=standard|full|smoke (book), BOOK_JOBS=2 (book), EX=<exercise> (check), WORKERS=2 (test, grade), SUBMISSIONS=<folder> (grade)."

venv: $(STAMP)  ## create .venv and install everything (done by every target below)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	touch $(STAMP)

# Debian packages the course uses, installed when missing and we may (root, or password-less
# sudo): dataset-fashion-mnist (all 70,000 images, for machines that cannot download; others
# get Fashion-MNIST from torchvision on first use), chromium (the browser test; nothing is
# downloaded by playwright) and fonts-noto-cjk (the glossary's Japanese in screenshots).
debs:  ## install the Debian packages above when missing (needs root or sudo; else skipped)
	@need=""; [ -f $(DEBIAN_FASHION) ] || need="$$need dataset-fashion-mnist"; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need="$$need fonts-noto-cjk"; \
	if [ -z "$$need" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "No apt-get: not installing$$need."; exit 0; fi; \
	SUDO=""; if [ "$$(id -u)" != 0 ]; then \
	  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else \
	    echo "Not root: not installing$$need (see README)."; exit 0; fi; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need

# The chapters run BOOK_JOBS kernels at once (tools/execute_book.py); jupyter-book then takes
# each page's outputs from that run (a plain `jupyter-book build .` executes them one by one).
book: $(STAMP) debs  ## execute the chapters (BOOK_JOBS at once) and build the HTML book into _build/html
	$(PY) tools/execute_book.py . --jobs $(BOOK_JOBS)
	$(VENV)/bin/jupyter-book build . --config _build/_config_executed.yml $(BOOK_FLAGS)
	@echo "Open _build/html/index.html"

# JupyterLab is in requirements.txt (extra [lab]) with the ipywidgets extension; the course's
# kernel is registered for the user, so other front ends (VS Code, a system Jupyter) find it.
LAB_KERNEL := vae-course
lab-setup: $(STAMP) debs  ## install JupyterLab + widgets, register the kernel, check both (no server)
	$(PY) -m ipykernel install --user --name $(LAB_KERNEL) --display-name "Python (VAE course)"
	$(PY) tools/check_lab.py --kernel $(LAB_KERNEL)

lab: lab-setup  ## open JupyterLab on the course: run the chapters and exercises yourself
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. $$([ "$$(id -u)" = 0 ] && echo --allow-root) chapters/01_autoencoders.ipynb

browser-test: $(STAMP) debs  ## the browser tests: every page of the built book in headless Chromium (after make book), and the checker's own tests
	BOOK_HTML=_build/html $(PYTEST) tests/browser

# The browser tests (tests/browser) need a built book and run in `make browser-test`.
# The solutions run once, through the grader (tests/test_grade.py), which also checks their
# recorded check lines and every untouched exercise's failures and hints.
test: $(STAMP) debs  ## every test but the browser's: units, slow tests, chapter notebooks, solutions through the grader (smoke)
	$(PYTEST) -n $(WORKERS) --dist loadscope --no-loadscope-reorder --nbval-lax --durations=15 --ignore=tests/browser tests chapters

unit: $(STAMP)  ## the package's unit tests only (no notebooks, no subprocesses): the edit-run loop
	$(PYTEST) -n $(WORKERS) -m "not slow" tests

# The learner's command: `make check EX=beta_vae` runs that exercise notebook under nbval
# (offline, smoke profile); it fails, naming what to implement, until the answers are right.
check: $(STAMP)  ## check your answers: make check EX=beta_vae (EX=all: every exercise)
	@if [ -n "$(filter-out all,$(EX))" ] && [ ! -f "exercises/$(EX).ipynb" ]; then \
	  echo "No exercise '$(EX)'. Choose one of: $(basename $(notdir $(wildcard exercises/*.ipynb))) (or EX=all)."; \
	  exit 2; fi
	$(PYTEST) --nbval-lax $(if $(filter-out all,$(EX)),exercises/$(EX).ipynb,exercises)

# The instructor's command: every learner's exercise notebooks through the same checks, each
# in its own kernel process (offline, time-limited, solutions not on its path); see tools/grade.py.
GRADES ?= grades
grade: $(STAMP)  ## grade a class: make grade SUBMISSIONS=<folder> [GRADES=grades TIMEOUT=s REGRADE=1]
	@if [ -z "$(SUBMISSIONS)" ]; then echo "Give the folder: make grade SUBMISSIONS=<folder> (see tools/grade.py)"; exit 2; fi
	$(PY) tools/grade.py "$(SUBMISSIONS)" --out "$(GRADES)" --workers $(WORKERS) \
	  $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(REGRADE),--regrade) $(if $(COURSE_PROFILE),--profile $(COURSE_PROFILE))

exercises: $(STAMP)  ## regenerate exercises/ from the solution masters in solutions/
	$(PY) tools/make_exercises.py

bench: $(STAMP) debs  ## measure the course's data path against a DataLoader loop -> BENCHMARKS.md
	$(PY) tools/bench.py --dataset both --epochs 10 --update BENCHMARKS.md

bench-gpu: $(STAMP) debs  ## the GPU benchmark (CUDA only; stops on a CPU) -> its section of BENCHMARKS.md
	$(PY) tools/bench_gpu.py --update BENCHMARKS.md

strip: $(STAMP)  ## remove outputs from the chapter notebooks before committing
	$(PY) tools/strip_outputs.py chapters/*.ipynb

clean:  ## remove the built book
	rm -rf _build
