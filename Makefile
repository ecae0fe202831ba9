# Concord — every target installs what it needs (Python venv in .venv, Node tools in node_modules).
SHELL := /bin/bash
# The Python the functions deploy on, and so the one the venv, the tests and the gates use.
PY_VERSION := $(shell sed -n '/^\[tool\.concord\]/,/^\[/ s/^python = "\(.*\)"/\1/p' pyproject.toml)
# Its interpreter: PYTHON if given, else python3.13 if it runs, else pyenv's 3.13 (pyenv's
# python3.13 shim only runs while that version is selected). Expanded only when a venv is built.
find_python = $(or $(PYTHON),$(shell python$(PY_VERSION) -c pass >/dev/null 2>&1 && echo python$(PY_VERSION) \
	|| { prefix=$$(pyenv prefix $(PY_VERSION) 2>/dev/null) && echo $$prefix/bin/python$(PY_VERSION); }))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
# Python writes the bytecode of what it imports, once: with PYTHONDONTWRITEBYTECODE set (as on some
# CI machines), every process of a test run (each pytest worker, each local Lambda worker's cold
# start) compiled Concord and its libraries again: a handler's cold import took 1.35 s of CPU in a
# fresh clone against 0.89 s with bytecode written. __pycache__ is git-ignored.
unexport PYTHONDONTWRITEBYTECODE
# uv installs the venvs: the same resolution as pip (PyPI, pyproject.toml's ranges), downloaded in
# parallel, and no bytecode compiled ahead for every module of every package (Python compiles what
# is imported): 4 s on a fresh 2-core machine, where pip took 85 s (30 s with uv compiling it all).
UV := uv>=0.13,<0.14
UV_PIP := $(BIN)/uv pip install --quiet
# checkov has pins of its own that conflict with the dev tools: it gets its own venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat infra/checkov-requirements.txt | cksum | cut -d' ' -f1)

# CDK (jsii) runs on Node offline: no notices, telemetry or version checks; Node 20's
# end-of-life banner silenced.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: demo test unit golden lint types install up status down synth diff deploy schemas bench chaos clean

demo: install  ## Run Concord's main job on the local stack (starts it if needed); SYSTEMS=crm=salesforce,psa=certinia picks vendors
	$(BIN)/concord demo $(if $(SYSTEMS),--systems $(SYSTEMS))

# Tests run on up to PYTEST_WORKERS cores (pytest-xdist); tests/conftest.py keeps the ones sharing a
# server on one worker. PYTEST_WORKERS=0 runs them in this process. (A worker more than the cores
# made a fresh 2-core run slower: 1,477 s of CPU against 1,209; so did mypy beside the suite.)
PYTEST_WORKERS ?= 4
PARALLEL = $(if $(filter 0,$(PYTEST_WORKERS)),,-n auto --maxprocesses $(PYTEST_WORKERS))

test: install $(CHECKOV_STAMP) lint types  ## The gates, then the whole test suite
	$(BIN)/python -m pytest $(PARALLEL)

unit: $(STAMP)  ## The unit tests only (the fast loop; no servers, no network)
	$(BIN)/python -m pytest tests/unit -q $(PARALLEL)

golden: $(STAMP)  ## Rewrite the mapping regression corpus's golden files after an intended mapping change (review git diff)
	$(BIN)/python -m tests.regression.replay --update

lint: $(STAMP)  ## ruff: lint rules and the formatter's check (pyproject.toml [tool.ruff])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)  ## mypy over concord, concord_infra and the function handlers (pyproject.toml [tool.mypy])
	$(BIN)/mypy

install: $(STAMP) $(NODE_STAMP)

$(CHECKOV_STAMP): infra/checkov-requirements.txt $(STAMP)
	test -x $(CHECKOV_VENV)/bin/python || $(BIN)/python -m venv $(CHECKOV_VENV)
	$(UV_PIP) --python $(CHECKOV_VENV)/bin/python -r infra/checkov-requirements.txt
	rm -f $(CHECKOV_VENV)/.installed-* && touch $@

# A venv on another Python (e.g. one built before the version changed) is rebuilt.
$(STAMP): pyproject.toml
	@if ! $(BIN)/python -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] != "$(PY_VERSION)")' 2>/dev/null; then \
		python="$(find_python)"; \
		if [ -z "$$python" ]; then \
			echo "No Python $(PY_VERSION) found: Concord deploys on it and is tested on it (tool.concord.python" \
				"in pyproject.toml). Install it (pyenv install $(PY_VERSION), or your OS's python$(PY_VERSION)" \
				"package) or name one: make PYTHON=/path/to/python$(PY_VERSION)" >&2; \
			exit 1; \
		fi; \
		echo "building $(VENV) with $$python"; \
		rm -rf $(VENV) && "$$python" -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --quiet "$(UV)"
	$(UV_PIP) --python $(BIN)/python -e ".[cli,local,infra,dev,bench]"
	rm -f $(VENV)/.installed-* && touch $@

$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

up: install  ## Start the local stack in the background
	$(BIN)/concord local up

status: install
	$(BIN)/concord local status

down: install  ## Stop the local stack
	$(BIN)/concord local down

synth: install  ## Synthesize the CDK app (STAGE=dev|prod), with cdk-nag
	npx cdk synth --quiet -c concord:stage=$(or $(STAGE),dev)

diff: install
	npx cdk diff -c concord:stage=$(or $(STAGE),dev)

deploy: install  ## Deploy to the AWS account of your current credentials
	npx cdk deploy -c concord:stage=$(or $(STAGE),dev)

bench: install  ## Benchmarks (not part of make test); results, summary and chart in benchmarks/results/
	$(BIN)/python -m benchmarks.webhook_latency --events $(or $(EVENTS),200)
	$(BIN)/python -m benchmarks.saga_latency --sagas $(or $(SAGAS),50)
	$(BIN)/python -m benchmarks.flow_throughput --events $(or $(FLOW_EVENTS),200)
	$(BIN)/python -m benchmarks.salesforce_burst --records $(or $(BURST_RECORDS),1000)
	$(BIN)/python -m benchmarks.hubspot_burst --records $(or $(BURST_RECORDS),1000)
	$(BIN)/python -m benchmarks.change_capture_reads --entries $(or $(CAPTURE_ENTRIES),200)
	$(BIN)/python -m benchmarks.erp_billing --lines $(or $(BILLING_LINES),1000)
	$(BIN)/python -m benchmarks.record_cpu --iterations $(or $(ITERATIONS),1000)
	$(BIN)/python -m benchmarks.cold_start --runs $(or $(RUNS),5)
	$(BIN)/python -m benchmarks.memory
	$(BIN)/python -m benchmarks.cost_model
	$(BIN)/python -m benchmarks.report

chaos: install  ## Fault campaign on a dedicated local stack (not part of make test); exit 1 if anything is lost or duplicated
	$(BIN)/python -m benchmarks.chaos --facts $(or $(FACTS),100) --deals $(or $(DEALS),40)

schemas: install  ## Regenerate the checked-in JSON Schemas of the canonical events
	$(BIN)/python -m concord.events.schemas

clean: down
	rm -rf .local-stack cdk.out
