# The two commands a new user needs: `make demo` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
STACK := $(PY) -m include.dr.local_stack
UV := $(shell command -v uv || echo .local/tools/bin/uv)
DEMO_DAGS := policy_preflight

.PHONY: setup demo test check stack-up down status lock

## setup: system packages, uv and the locked Python environment (idempotent)
setup: .venv/.synced
.venv/.synced: pyproject.toml uv.lock scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	touch $@

## demo: start the local stack and Airflow, run the main job, print the UI login
demo: setup
	$(STACK) up
	$(STACK) airflow
	@for dag in $(DEMO_DAGS); do $(STACK) run $$dag || exit 1; done
	@$(STACK) airflow

## test: set everything up and run the whole suite (the suite starts the local stack)
test: setup
	$(PY) -m pytest

## check: static checks (ruff with the Airflow rules, mypy on include/)
check: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

stack-up: setup
	$(STACK) up

## down: stop every server the local stack started (moto, MariaDB, git daemon, Airflow)
down:
	$(STACK) down

status:
	$(STACK) status

## lock: re-resolve the dependencies (then update requirements.txt's pins to match)
lock:
	$(UV) lock

