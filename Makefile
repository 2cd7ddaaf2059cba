# The two commands a newcomer needs: `make run` and `make test`. Each installs its tools into
# .tools/ on first use.
.PHONY: help run token test sam-local load bench lint build deploy account-setup smoke sim sim-app fuzz ci

help: ## This list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 12

run: ## Serve /backup and /backup/fetch on http://127.0.0.1:9000, the client-share API on :9001, with DynamoDB Local
	scripts/run.sh

token: ## A development token for the local client-share API of `make run` (USER=alice)
	@cargo run --quiet -p local-aws --bin dev-token -- $(or $(USER),alice)

test: ## Every test: unit, DynamoDB Local, the real Lambda binaries, and sam local (where Docker runs)
	scripts/test.sh

sam-local: ## The functions in Lambda-like containers behind `sam local start-api` on http://127.0.0.1:3000 (Docker)
	scripts/sam-local.sh

load: ## The load test at full size (LOAD_CLIENTS=5000), printing throughput, p50/p99 and statuses
	scripts/load.sh

bench: ## Release binaries: cold start, warm p50/p99 vs the raw SDK, RSS and zip size (docs/performance.md)
	scripts/bench.sh

lint: ## Formatting, clippy, the SAM template (sam validate --lint) and checkov on it and on what it deploys
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	scripts/tools.sh sam checkov
	.tools/venv/bin/sam validate --lint
	.tools/venv/bin/cfn-lint tools/account-setup/template.yaml
	scripts/checkov.sh

build: ## sam build, then check glibc fits provided.al2023 (ARCH=x86_64 or arm64, the default)
	scripts/build.sh

deploy: ## Checks, sam build, then sam deploy --config-env $(ENV) (dev or prod) with samconfig.toml's parameters
	@test -n "$(ENV)" || { echo "make deploy ENV=dev (or ENV=prod)"; exit 2; }
	scripts/deploy.sh $(ENV)

account-setup: ## Once per AWS account and region: API Gateway's CloudWatch Logs role, which access logs need
	aws cloudformation deploy --template-file tools/account-setup/template.yaml \
	  --stack-name portal-apigateway-account-logging --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset

smoke: ## Invoke a deployed stack's functions directly with events/ files (ENV=dev or prod); writes nothing
	ENV=$(ENV) scripts/smoke.sh

sim: ## The Portal simulator against URL (default: make run's), with PORTAL_WEBHOOK_SECRET
	PORTAL_WEBHOOK_SECRET=$${PORTAL_WEBHOOK_SECRET:-local-dev-secret-change-me} \
	  cargo run --quiet -p portal-sim -- --url $${URL:-http://127.0.0.1:9000}

sim-app: ## The simulator as the app, against URL (default make run's :9001), with TOKEN (default a development token)
	PORTAL_SIM_APP_TOKEN=$${TOKEN:-$$(cargo run --quiet -p local-aws --bin dev-token -- portal-sim-app)} \
	  cargo run --quiet -p portal-sim -- --app --url $${URL:-http://127.0.0.1:9001}

fuzz: ## Each fuzz target for FUZZ_SECONDS (default 60) on stable Rust; prints executions
	scripts/fuzz.sh

ci: lint test
