# The two commands a user needs: make demo and make test. Each installs what it needs.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed
export CDK_DISABLE_CLI_TELEMETRY := true
# jsii warns on every start that Node.js 20 is past its end of life; Node.js 22 or newer is quiet.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: install test demo bench lint clean

install: $(INSTALLED) $(NODE_INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

test: install
	$(PY) -m pytest

demo: install
	cdk synth --quiet
	@echo "Template: cdk.out/$$($(PY) -c 'import json;print(next(a["properties"]["templateFile"] for a in json.load(open("cdk.out/manifest.json"))["artifacts"].values() if a["type"]=="aws:cloudformation:stack"))')"

clean:
	rm -rf $(VENV) node_modules cdk.out .local-deploy
