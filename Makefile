# The two commands a new user needs: `make demo` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
STACK := $(PY) -m include.dr.local_stack
UV := $(shell command -v uv || echo .local/tools/bin/uv)

.PHONY: setup demo demo-distributed test test-fast check infra inventory aws-smoke bench-rds bench-validation bench-s3 bench-s3-memory bench-s3-cost bench-git stack-up down status lock

## setup: system packages, uv and the locked Python environment (idempotent)
setup: .venv/.synced
.venv/.synced: pyproject.toml uv.lock scripts/bootstrap.sh
	bash scripts/bootstrap.sh
	touch $@

## demo: start the local stack and Airflow, run the main job, print the UI login
demo: setup
	$(STACK) up
	$(STACK) enforce-iam
	$(STACK) airflow
	$(STACK) run policy_preflight
	@echo "The demo runs outside the policy's backup window, so it asks for the override (recorded as evidence)."
	$(STACK) run rds_backup --conf '{"override_window": true}'
	$(STACK) run s3_backup --conf '{"override_window": true}'
	$(STACK) run git_backup --conf '{"override_window": true}'
	$(STACK) run restore_test
	@$(STACK) report
	$(STACK) run compliance_evaluation
	$(STACK) run compliance_evidence_pack
	@$(STACK) pack
	@echo "Backup compliance page: http://127.0.0.1:8080/backup-compliance/ (also under the UI's navigation)"
	@$(STACK) airflow
	@echo "Evidence records: .local/store/evidence/   Stop everything: make down"

## demo-distributed: the demo on CeleryExecutor (PostgreSQL, Redis, two workers); STORE=s3 keeps the shared store on moto
STORE ?= file
demo-distributed: setup
	$(STACK) up
	$(STACK) distributed up --store $(STORE)
	@echo "The demo runs outside the policy's backup window, so it asks for the override (recorded as evidence)."
	$(STACK) distributed run rds_backup s3_backup git_backup --conf '{"override_window": true}'
	$(STACK) distributed run restore_test
	$(STACK) distributed run compliance_evaluation
	@$(STACK) distributed up --store $(STORE)
	@echo "Backup compliance page: http://127.0.0.1:8082/backup-compliance/ (also under the UI's navigation)"
	@echo "Stop everything: make down"

## test: set everything up and run the whole suite (the suite starts the local stack)
test: setup
	$(PY) -m pytest

## test-fast: the tests that need no server and no Airflow database (seconds to a minute)
test-fast: setup
	$(PY) -m pytest -m "not stack and not dag_run and not ui"

## check: static checks (ruff with the Airflow rules, mypy on include/, cfn-lint and checkov on infra/)
CHECKOV := checkov==3.3.30
check: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/cfn-lint infra/roles-production.json infra/roles-dr.json infra/production.json infra/dr.json
	BC_SKIP_MAPPING=TRUE $(UV) tool run --from $(CHECKOV) checkov --quiet --compact --skip-download --framework cloudformation -f infra/roles-production.json infra/roles-dr.json infra/production.json infra/dr.json

## inventory: after a whole `make test`, record the AWS calls it saw in infra/call-inventory.json
inventory: setup
	$(PY) -m include.dr.infra inventory

## infra: rebuild infra/ (templates and IAM policies) from include/policy.yaml and the inventory
infra: setup
	$(PY) -m include.dr.infra templates

## aws-smoke: check a real AWS account with nothing changed (skips without AWS credentials)
aws-smoke: setup
	$(PY) -m include.dr.infra.smoke

## bench-rds: the dump engine against mysqldump | gzip, 4M rows (needs the local stack: make stack-up)
bench-rds: setup
	$(PY) -m bench.rds_dump

## bench-validation: restore-test validation in the database against pandas, 200k and 2M rows (needs make stack-up)
bench-validation: setup
	$(PY) -m bench.validation

## bench-s3: the S3 copy engine against aws s3 sync, s5cmd and boto3 (needs make stack-up)
bench-s3: setup
	$(PY) -m bench.s3_copy

## bench-s3-memory: the S3 engine's peak memory at 10k and 100k objects (its own moto server)
bench-s3-memory: setup
	$(PY) -m bench.s3_listing_memory

## bench-s3-cost: API requests and KMS calls per copy and per no-op run against aws s3 sync and s5cmd, and a monthly cost (needs make stack-up)
bench-s3-cost: setup
	$(PY) -m bench.s3_cost

## bench-git: git mirroring against a parallel git clone/remote update loop (needs make stack-up)
bench-git: setup
	$(PY) -m bench.git_mirror

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

