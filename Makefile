# The verbs of the project. `make run` and `make test` are the whole set-up:
# each creates .venv if it is missing and installs the pinned set first.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
# The tests also need the optional Ray engine (`make run` does not): a second stamp.
TEST_STAMP := $(VENV)/.installed-test

# Stage commands in dvc.yaml call `stance`; put the venv first on PATH for them.
export PATH := $(BIN):$(PATH)
# Nothing here may reach a model hub or phone home.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export DVC_NO_ANALYTICS := 1

.PHONY: install browser run compare learning-curve dev-curve test lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,onnx]"
	$(BIN)/python -m pip check
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,onnx,ray]"
	$(BIN)/python -m pip check
	@touch $@

install: $(STAMP)

run: $(STAMP)
	dvc repro

# Every model of `compare.models` trained and evaluated like the default, side by side in
# reports/models.md (cached DVC stages in compare/dvc.yaml; the fine-tuned ones are slow).
compare: $(STAMP)
	dvc repro compare/dvc.yaml

# Grouped-CV macro-F1 of the default model against the number of gold labels, after an
# up-to-date `dvc repro`: reports/learning_curve.{json,csv,png} (`annotate.curve_*` in params).
learning-curve: $(STAMP)
	dvc repro && stance annotate curve

# Development-set macro-F1 of the default model against the number of examples written
# from the press it trains on: reports/dev_learning_curve.{json,csv,png}.
dev-curve: $(STAMP)
	dvc repro && stance dev-curve

# Every benchmark in benchmarks/, then benchmarks/RESULTS.md from their JSON (about 35 minutes
# on 2 cores). `make bench BENCH_ARGS=--quick` is a fast check; see run_all.py --help.
bench: $(STAMP)
	python benchmarks/run_all.py $(BENCH_ARGS)

# The report's page test renders it in Debian's Chromium; install it if missing.
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

test: lint browser $(TEST_STAMP)
	pytest

lint: $(STAMP)
	ruff check . && ruff format --check .

format: $(STAMP)
	ruff check --fix . && ruff format .

clean:
	rm -rf .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +
