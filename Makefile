# Two commands a newcomer needs: `make run` and `make test`. Both install what they need.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_ARGS ?= --speed 30

.PHONY: install run test lint typecheck services clean bench lock

$(STAMP): pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt pip setuptools wheel
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Resolve the newest versions pyproject.toml allows, in a scratch venv, and pin them.
lock:
	rm -rf $(VENV).lock
	$(PY) -m venv $(VENV).lock
	$(VENV).lock/bin/pip install --quiet --upgrade pip setuptools wheel
	$(VENV).lock/bin/pip install --quiet '.[dev]'
	{ sed -n '1,2p' constraints.txt; $(VENV).lock/bin/pip freeze --all --exclude-editable \
		| grep -v '^trader[= @]'; } > constraints.new
	mv constraints.new constraints.txt
	rm -rf $(VENV).lock

install: $(STAMP)

run: $(STAMP)
	$(BIN)/trader run $(RUN_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

services:
	bash infra/scripts/ensure-services.sh

test: $(STAMP) services lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache var
