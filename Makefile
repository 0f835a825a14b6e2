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

.PHONY: install test demo synth lint package-check bench reliability clean

# make test runs pytest in PYTEST_WORKERS pytest-xdist workers (0: in this process). The tests
# often wait (on servers, polls, subprocesses), so six workers beat four on two cores. Each
# test file runs whole on one worker (--dist loadfile): module fixtures are made once and each
# reliability figure comes from one worker. Files go out longest first, by the durations the
# last run kept in .pytest_cache (tests/conftest.py), instead of xdist's most-tests-first order.
PYTEST_WORKERS ?= 6
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The hypothesis profile of tests/reliability/test_reliability_properties.py: everyday (30 random
# CloudFormation requests) for make test; make reliability and CI (.ci/run) give reliability (200).
RELIABILITY_PROFILE ?= everyday
export RELIABILITY_PROFILE

# checkov pins boto3 and packaging older than this project's, so it gets an environment of its own
# (used by tests/review/test_templates_checkov.py) at the version constraints.txt names.
CHECKOV_VERSION := $(shell sed -n 's/^checkov==//p' constraints.txt)
CHECKOV_INSTALLED := $(VENV)/checkov/.installed-$(CHECKOV_VERSION)

# graph-notebook (AWS's notebook client, which tests/local_api runs against the local API)
# gets an environment of its own too, .venv/graph-notebook, pinned whole by the file it depends on.
GRAPH_NOTEBOOK_PINS := tests/local_api/graph-notebook-constraints.txt
GRAPH_NOTEBOOK_INSTALLED := $(VENV)/graph-notebook/.make-installed

install: $(INSTALLED) $(NODE_INSTALLED) $(CHECKOV_INSTALLED) $(GRAPH_NOTEBOOK_INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	@echo "Installing Python packages into $(VENV) (on first use, about a minute)..."
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,local]'
	touch $@

$(CHECKOV_INSTALLED): constraints.txt | $(INSTALLED)
	@echo "Installing checkov $(CHECKOV_VERSION) into $(VENV)/checkov for the template review (on first use)..."
	python3 -m venv --clear $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)
	touch $@

$(GRAPH_NOTEBOOK_INSTALLED): constraints.txt $(GRAPH_NOTEBOOK_PINS) tests/local_api/graph_notebook_env.py | $(INSTALLED)
	@echo "Installing graph-notebook into $(VENV)/graph-notebook for the notebook-client tests (on first use, about two minutes)..."
	$(PY) tests/local_api/graph_notebook_env.py
	touch $@

$(NODE_INSTALLED): package.json package-lock.json
	@echo "Installing the AWS CDK CLI pinned in package.json into node_modules (npm ci, on first use)..."
	npm ci --no-audit --no-fund --silent
	touch $@

test: lint
	$(PY) -m pytest $(PYTEST_PARALLEL)

# One mypy run checks the package, app.py and the handler's modules (what, and how: [tool.mypy] in
# pyproject.toml); its cache, .mypy_cache, makes a run after a small change take about a second.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The example app's CloudFormation template, synthesized offline with the pinned CDK CLI.
synth: install
	cdk synth --quiet
	@ls cdk.out/*.template.json

# The wheel installed alone in a new virtual environment; the README's example synthesizes.
package-check: install
	$(PY) scripts/package_check.py

# The example app deployed locally: the endpoints' stack is deployed and updated in place; the
# workflow's stack goes from the export to an endpoint, retrains with a new data version and rolls
# back a failing one; then both are destroyed. Played through the bundled handler against the
# local Neptune ML API; each command synthesizes the app once, for every stack it acts on.
LOCAL := $(PY) -m neptune_ml_endpoint.local
DEMO_STATE := .local-deploy/demo
DEMO_NEW_JOB := example-training-job-v2
DEMO_ENDPOINTS := NeptuneMlEndpointExample
DEMO_WORKFLOW := NeptuneMlWorkflowExample
DEMO_OR_CLEAN_UP = || { $(LOCAL) destroy --state-dir $(DEMO_STATE); exit 1; }

demo: install
	@test ! -f $(DEMO_STATE)/state.json || $(LOCAL) destroy --state-dir $(DEMO_STATE) >/dev/null 2>&1 || true
	@echo "== deploy: $(DEMO_ENDPOINTS), two endpoints serving models trained elsewhere; and $(DEMO_WORKFLOW):"
	@echo "   data processing of the S3 export, then model training, then the endpoint. The Neptune clusters are"
	@echo "   simulated by the local Neptune ML API"
	@$(LOCAL) deploy --state-dir $(DEMO_STATE) $(DEMO_OR_CLEAN_UP)
	@echo "== update: $(DEMO_ENDPOINTS)'s training endpoint serves training job $(DEMO_NEW_JOB) (same endpoint id);"
	@echo "   $(DEMO_WORKFLOW) retrains on data version 2: new processing and training jobs, the endpoint"
	@echo "   updated in place, the old job resources removed in the cleanup phase"
	@$(LOCAL) update --state-dir $(DEMO_STATE) -c neptune-ml-endpoint:trainingJobId=$(DEMO_NEW_JOB) \
		-c neptune-ml-endpoint:dataVersion=2 $(DEMO_OR_CLEAN_UP)
	@echo "== a failing retrain: data version 3 of an export the local API fails (its S3 path has 'failing-');"
	@echo "   $(DEMO_WORKFLOW) rolls back with the job's Reason and its endpoint keeps serving version 2's model"
	@! $(LOCAL) update $(DEMO_WORKFLOW) --state-dir $(DEMO_STATE) -c neptune-ml-endpoint:dataVersion=3 \
		-c neptune-ml-endpoint:exportS3Location=s3://my-neptune-ml-bucket/failing-export/ $(DEMO_OR_CLEAN_UP)
	@echo "== destroy: both stacks; no endpoint and no running job is left in the local API"
	@$(LOCAL) destroy --state-dir $(DEMO_STATE)

# Benchmarks (a few minutes; not part of make test): prints the table, writes benchmarks/results.md.
bench: install
	$(PY) -m benchmarks --output benchmarks/results.md

# Reliability tests (about four and a half minutes, serially; make test runs them too, with the everyday
# hypothesis profile), then their figures (tests/reliability/figures.json) into README.md between
# its reliability markers. They run in one process with the full profile, so the timings in the
# figures are not measured beside other tests.
RELIABILITY_FIGURES := tests/reliability/figures.json

reliability: install
	rm -f $(RELIABILITY_FIGURES)
	RELIABILITY_PROFILE=reliability $(PY) -m pytest tests/reliability -q --durations=5
	$(PY) tests/reliability/reliability_report.py --figures $(RELIABILITY_FIGURES) --readme README.md

clean:
	rm -rf $(VENV) node_modules cdk.out .local-deploy build *.egg-info .mypy_cache .ruff_cache .pytest_cache \
		.hypothesis tests/reliability/figures.json tests/reliability/figures.json.lock
