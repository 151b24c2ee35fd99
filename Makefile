# One entry point for the course. Each target does its own set-up (a virtual environment in
# .venv with everything from requirements.txt, and course_utils installed editable).
#   make book              build the HTML book into _build/html (executes the chapters)
#   make test              every test: course_utils units, chapter notebooks (smoke), exercises
#   make check EX=beta_vae check your answers to one exercise (EX=all for every exercise)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Extra flags for `jupyter-book build`; CI passes "-W --keep-going" (warnings are errors).
BOOK_FLAGS ?=
# pytest-xdist workers; with --dist loadscope one notebook's cells stay on one worker.
WORKERS ?= 2
# Tests run offline, in the tiny `smoke` profile, with one torch thread per worker and no
# tqdm bars in compared output.
TEST_ENV := COURSE_PROFILE=smoke COURSE_DOWNLOAD=0 COURSE_THREADS=1 TQDM_DISABLE=1 \
            PYTHONHASHSEED=0

.PHONY: venv book test check exercises strip clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements.txt
	$(PY) -m pip install --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . $(BOOK_FLAGS)
	@echo "Open _build/html/index.html"

test: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -n $(WORKERS) --dist loadscope --nbval-lax tests chapters solutions

# The learner's command: `make check EX=beta_vae` runs that exercise notebook under nbval
# (offline, smoke profile); it fails, naming what to implement, until the answers are right.
# EX=all, or no EX, checks every exercise.
check: $(STAMP)
	@if [ -n "$(filter-out all,$(EX))" ] && [ ! -f "exercises/$(EX).ipynb" ]; then \
	  echo "No exercise '$(EX)'. Choose one of: $(basename $(notdir $(wildcard exercises/*.ipynb))) (or EX=all)."; \
	  exit 2; fi
	$(TEST_ENV) $(PY) -m pytest --nbval-lax $(if $(filter-out all,$(EX)),exercises/$(EX).ipynb,exercises)

# Regenerate exercises/ from the solution masters (solutions/ is the single source of truth).
exercises: $(STAMP)
	$(PY) tools/make_exercises.py

strip: $(STAMP)
	$(PY) tools/strip_outputs.py chapters/*.ipynb

clean:
	rm -rf _build
