# The two commands of the README are `make demo` and `make test`; both build the environment first when needed.
VENV   ?= .venv
PYTHON := $(VENV)/bin/python
# Where `make demo` writes its data set, work dirs, tables and pictures.
DEMO_DIR ?= work_dirs/demo

.PHONY: env test demo bench lint clean-env

env:  ## create/refresh .venv with the pinned stack (seconds when already built)
	@bash tools/build_env.sh

test: env  ## the whole test suite
	$(PYTHON) -m pytest tests

demo: env  ## generate a synthetic video set, train baseline + FAMI-Pose with the stock tools, evaluate, draw
	$(PYTHON) tools/run_demo.py --work-dir $(DEMO_DIR)

bench: env  ## the demo with a larger budget and several seeds: mean +- std of the FAMI gain
	$(PYTHON) tools/run_demo.py --work-dir work_dirs/bench --preset bench

lint: env  ## flake8 and isort (120 columns, setup.cfg) over the whole tree
	$(PYTHON) -m flake8 famipose_mmpose tools tests configs
	$(PYTHON) -m isort --check-only --diff famipose_mmpose tools tests configs

clean-env:
	rm -rf $(VENV)
