# Two commands matter: `make demo` (bake a project, install it, train it) and `make test`.
# Needs only Python 3.10+, git and make: uv is bootstrapped into .tools/ when it is not on PATH.
SHELL := /bin/bash
.PHONY: help demo test test-fast test-all-options lint bench catalog clean
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
# pytest-xdist processes for `make test`; --dist loadfile keeps each test file on one worker (its installed bakes are made once)
WORKERS ?= 2
# extra pytest arguments for the test targets, e.g. make test PYTEST_ARGS="-k render --durations=20"
PYTEST_ARGS ?=
DEMO_DIR ?= $(CURDIR)/.scratch/demo
DEMO_ARGS ?=

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-17s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock registry/pyproject.toml | $(UV)
	$(UV) sync --quiet
	touch $@

demo: .venv/.synced  ## bake a project with default answers, install it, train it on CPU (W&B offline)
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	$(UV) run cookiecutter --no-input --output-dir $(DEMO_DIR) . labblocks_source=path labblocks_path=$(CURDIR)/registry
	cd $(DEMO_DIR)/digits-lab && git init --quiet && git add -A && git -c user.name=demo -c user.email=demo@example.org commit --quiet -m "baked"
	cd $(DEMO_DIR)/digits-lab && $(UV) sync --quiet
	cd $(DEMO_DIR)/digits-lab && WANDB_MODE=offline $(UV) run digits-lab train $(DEMO_ARGS)
	@echo "The baked project is in $(DEMO_DIR)/digits-lab (its README.md is the first hour)."

test: .venv/.synced  ## every test: labblocks, template renders, hooks, property tests, full bakes
	WANDB_MODE=disabled $(UV) run --no-sync pytest -q -n $(WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast: .venv/.synced  ## quick: no full bake-install-run tests
	WANDB_MODE=disabled $(UV) run --no-sync pytest -q -n $(WORKERS) --dist loadfile -m "not slow" $(PYTEST_ARGS)

test-all-options: .venv/.synced  ## the render tests over all 576 option combinations, not only every pair (minutes)
	RENDER_FULL_PRODUCT=1 WANDB_MODE=disabled $(UV) run --no-sync pytest -q -n $(WORKERS) tests/test_render.py

lint: .venv/.synced  ## ruff over labblocks, hooks, tests and benchmarks
	$(UV) run ruff check registry hooks tests benchmarks local_extensions.py

bench: .venv/.synced  ## benchmarks (minutes; numbers are ratios against baselines measured in the same run)
	$(UV) run python benchmarks/bench_labblocks.py
	$(UV) run python benchmarks/bench_archs.py
	$(UV) run python benchmarks/bench_versions.py
	$(UV) run python benchmarks/bench_template.py
	$(UV) run python benchmarks/bench_feedback.py

catalog: .venv/.synced  ## regenerate labblocks' manifest and registry/CATALOG.md after changing blocks
	$(UV) run labblocks manifest --write && $(UV) run labblocks catalog

clean:  ## remove scratch bakes and caches (keeps .venv and .tools)
	rm -rf .scratch .pytest_cache .ruff_cache .hypothesis
