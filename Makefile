# Every target runs on the project's own Node.js (node_modules/.bin/node, from the
# registry's `node` package), never on the machine's: the system Node may be too old.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN := $(CURDIR)/node_modules/.bin
NODE := $(BIN)/node
export PATH := $(BIN):$(PATH)

SERVICES := test/infra/services.sh
STAMP := node_modules/.install-stamp

.PHONY: help install build lint typecheck test test-unit test-integration test-secured test-faults test-cluster test-compat services-up services-down \
        services-status demo bench tools clean image test-image manifests bench-scale bench-storm bench-ab bench-hot-path bench-hold

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@$(NODE) -e 'const [maj]=process.versions.node.split(".").map(Number); if (maj < 22) { console.error("node_modules/.bin/node is " + process.version + ": need 22 or newer"); process.exit(1) }'
	@touch $@

install: $(STAMP) ## install dependencies and the project's Node.js (npm ci)

tools: ## install the system tools the tests use (promtool, kcat, kubectl, the Kubernetes API schemas) when missing
	@bash test/infra/ensure-tools.sh promtool kcat kubectl
	@bash test/infra/k8s-schemas.sh >/dev/null

build: $(STAMP) ## compile TypeScript to dist/
	npm run --silent build

typecheck: $(STAMP)
	$(BIN)/tsc -p test/tsconfig.json

lint: $(STAMP) ## eslint (type-aware) and the type checker
	$(BIN)/eslint --config .config/eslint.config.js .
	$(BIN)/tsc -p test/tsconfig.json

test-unit: $(STAMP) ## unit tests (no servers)
	$(NODE) --test --test-reporter=spec 'test/unit/**/*.test.ts'

test-integration: $(STAMP) tools ## integration tests against real Kafka and Elasticsearch
	bash test/infra/with-services.sh $(NODE) --test --test-concurrency=1 --test-timeout=900000 --test-reporter=spec 'test/integration/**/*.test.ts'

test: $(STAMP) tools ## lint, build, unit and integration tests (starts the servers if needed, stops what it started)
	$(MAKE) --no-print-directory lint build
	bash test/infra/with-services.sh $(NODE) --test --test-concurrency=1 --test-timeout=900000 --test-reporter=spec 'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts'

test-secured: $(STAMP) ## security tests on a secured Kafka (SASL_SSL, mTLS, ACLs) and Elasticsearch (TLS, users, API keys, PKI)
	KES_SERVICES_SCRIPT=$(CURDIR)/test/infra/secured.sh bash test/infra/with-services.sh $(NODE) --test --test-concurrency=1 --test-timeout=900000 --test-reporter=spec 'test/secured/**/*.test.ts'

test-faults: $(STAMP) tools ## fault suite on the real servers: broker and Elasticsearch outages, frozen processes, churn, memory bounds, held partitions (about 11 min)
	bash test/infra/with-services.sh $(NODE) --test --test-concurrency=1 --test-timeout=300000 --test-reporter=spec 'test/faults/**/*.test.ts'

# the cluster's own ports (59090-59095, Elasticsearch 59200) and run dir: it can run beside the single pair
test-cluster: $(STAMP) tools ## fault scenarios on a three-broker Kafka cluster (test/infra/cluster.sh): leaders killed, rolling restart, frozen broker, controller killed, RF-1 topic down; memory: a 2,000,000-record backlog, binary records through a 429 storm
	KES_SERVICES_SCRIPT=$(CURDIR)/test/infra/cluster.sh \
	KAFKA_BROKERS="$$(bash test/infra/cluster.sh env | sed -n 's/^KAFKA_BROKERS=//p')" \
	ES_NODE="$$(bash test/infra/cluster.sh env | sed -n 's/^ES_URL=//p')" \
	  bash test/infra/with-services.sh $(NODE) --test --test-concurrency=1 --test-timeout=300000 --test-reporter=spec 'test/cluster/**/*.test.ts'

test-compat: $(STAMP) tools ## the integration suite once against Kafka 4.1 and Elasticsearch 9 (own ports and run dir)
	bash test/infra/compat.sh

services-up: ## start Kafka (127.0.0.1:9092), Elasticsearch (127.0.0.1:9200) and the schema registry (127.0.0.1:8081); KAFKA_VERSION=4.1.0 for Kafka 4
	bash $(SERVICES) up

services-down: ## stop the servers and delete their data
	bash $(SERVICES) down

services-status:
	bash $(SERVICES) status

demo: $(STAMP) ## start the servers, produce sample traffic into three topics, run the worker, show progress
	bash $(SERVICES) up
	$(NODE) test/demo/demo.ts

bench: $(STAMP) build ## benchmark: ES ceiling, Kafka ceiling, worker, naive baseline (BENCH_RECORDS=1000000)
	bash test/infra/ensure-tools.sh kcat rsvg-convert
	bash $(SERVICES) up
	KES_WORKER_ENTRY=dist/main.js flock -s /tmp/kes-servers.lock $(NODE) test/bench/run.ts

IMAGE ?= localhost/kafka-es-transfer:local
CONTAINER_TOOLS := podman buildah runc mmdebstrap

image: ## build the container image $(IMAGE): docker where it is the only engine, else podman (on local stand-in bases)
	@if command -v docker >/dev/null 2>&1 && ! command -v podman >/dev/null 2>&1; then \
	  docker build -f docker/Dockerfile -t $(IMAGE) . ; \
	else \
	  bash test/infra/ensure-tools.sh $(CONTAINER_TOOLS) && \
	  bash test/infra/podman.sh bases && \
	  bash test/infra/podman.sh build $(IMAGE) && \
	  echo "image $(IMAGE): $$(bash test/infra/podman.sh podman image inspect --format '{{.Size}}' $(IMAGE) | awk '{printf "%.1f MB", $$1/1e6}')"; \
	fi

test-image: $(STAMP) tools ## build the image with podman and smoke-test the container against the real servers
	bash test/infra/test-image.sh $(IMAGE) $(NODE)

manifests: $(STAMP) ## regenerate docker/kubernetes/base/prometheus-rule.yaml from docker/prometheus/alerts.yml
	$(NODE) test/deploy/prometheus-rule.ts

bench-scale: $(STAMP) build ## the worker alone as 1, 2, 3 replicas of one group (BENCH_SCALE_REPLICAS, BENCH_SCALE_TOPICS, BENCH_PARTITIONS)
	bash test/infra/ensure-tools.sh kcat
	bash $(SERVICES) up
	KES_WORKER_ENTRY=dist/main.js flock -s /tmp/kes-servers.lock $(NODE) test/bench/scale.ts

bench-ab: $(STAMP) build ## two or more worker builds alternated on one backlog (BENCH_AB=label=path/dist/main.js,label=current;NAME=value)
	bash test/infra/ensure-tools.sh kcat
	bash $(SERVICES) up
	KES_WORKER_ENTRY=dist/main.js flock -s /tmp/kes-servers.lock $(NODE) test/bench/ab.ts

bench-hold: $(STAMP) build ## healthy topics' rate before, during and after another topic's index is closed (BENCH_HOLD_RECORDS=20000)
	bash $(SERVICES) up
	KES_WORKER_ENTRY=dist/main.js flock -s /tmp/kes-servers.lock $(NODE) test/bench/hold.ts

bench-hot-path: $(STAMP) ## the worker's own CPU µs per record and stage (decode, batch, body, acks), no servers
	$(NODE) test/bench/hot-path.ts

bench-storm: $(STAMP) build ## adaptive vs fixed bulk concurrency through a 429 storm (es-fault-proxy on ES_PORT+50)
	bash test/infra/ensure-tools.sh kcat
	bash $(SERVICES) up
	KES_WORKER_ENTRY=dist/main.js flock -s /tmp/kes-servers.lock $(NODE) test/bench/storm.ts

clean: ## remove build output (keeps the cached servers)
	rm -rf dist
