# Concord — every target installs what it needs (Python venv in .venv, Node tools in node_modules).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
# checkov has pins of its own that conflict with the dev tools: it gets its own venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat infra/checkov-requirements.txt | cksum | cut -d' ' -f1)

# CDK (jsii) runs on Node offline: no notices, telemetry or version checks; Node 20's
# end-of-life banner silenced.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1

.PHONY: demo test install up status down synth diff deploy schemas bench chaos clean

demo: install  ## Run Concord's main job on the local stack (starts it if needed); SYSTEMS=crm=salesforce,psa=certinia picks vendors
	$(BIN)/concord demo $(if $(SYSTEMS),--systems $(SYSTEMS))

test: install $(CHECKOV_STAMP)  ## Run the whole test suite
	$(BIN)/python -m pytest

install: $(STAMP) $(NODE_STAMP)

$(CHECKOV_STAMP): infra/checkov-requirements.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/checkov-requirements.txt
	rm -f $(CHECKOV_VENV)/.installed-* && touch $@

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[cli,local,infra,dev,bench]"
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
	$(BIN)/python -m benchmarks.erp_billing --lines $(or $(BILLING_LINES),1000)
	$(BIN)/python -m benchmarks.record_cpu --iterations $(or $(ITERATIONS),1000)
	$(BIN)/python -m benchmarks.cold_start --runs $(or $(RUNS),3)
	$(BIN)/python -m benchmarks.memory
	$(BIN)/python -m benchmarks.cost_model
	$(BIN)/python -m benchmarks.report

chaos: install  ## Fault campaign on a dedicated local stack (not part of make test); exit 1 if anything is lost or duplicated
	$(BIN)/python -m benchmarks.chaos --facts $(or $(FACTS),100) --deals $(or $(DEALS),40)

schemas: install  ## Regenerate the checked-in JSON Schemas of the canonical events
	$(BIN)/python -m concord.events.schemas

clean: down
	rm -rf .local-stack cdk.out
