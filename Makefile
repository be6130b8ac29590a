# Two commands a newcomer needs, each doing its own set-up on a fresh machine:
#   make serve   build (if needed) and serve kll-graph on http://127.0.0.1:8000/
#   make test    lint and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED_DATA := $(abspath ../shared/data)
# The real data: $KLL_DATA_DIR if set, else ../shared/data when present, else ./data.
export KLL_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)/jobtech),$(SHARED_DATA),data)

.PHONY: install serve build test lint browser haproxy cluster cluster-stop bench sample

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

serve: install
	$(BIN)/kll-graph serve $(ARGS)

build: install
	$(BIN)/kll-graph build $(ARGS)

# Debian's chromium for the browser tests (Playwright drives it through executable_path).
browser:
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/mypy src

# Debian's HAProxy for the cluster tests and `make cluster`, and keepalived, whose check of
# deploy/keepalived.conf is tested.
haproxy:
	@command -v haproxy >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q haproxy; }
	@command -v keepalived >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q keepalived; }

# Two engine replicas, two app processes and HAProxy on http://127.0.0.1:8080/ (Ctrl-C stops).
cluster: install haproxy
	$(BIN)/python deploy/cluster.py start $(ARGS)

cluster-stop:
	$(BIN)/python deploy/cluster.py stop $(ARGS)

test: install browser haproxy lint
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

sample: install
	$(BIN)/python tools/make_sample.py --data-dir $(KLL_DATA_DIR)
