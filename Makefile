# fetchq — the two commands a new user needs are `make serve` and `make test`.
SWIFT ?= swift
SOURCES := Sources Tests Plugins Package.swift

.PHONY: help deps build release serve test soak contract sanitize lint format bench clean

help:
	@echo "make serve   build (release) and run fetchq on 127.0.0.1:8080 with ./fetchq.db"
	@echo "make test    lint, build and run every test"
	@echo "make bench   run the benchmark and write BENCHMARKS.md"
	@echo "make soak    the chaos soak: 50,000 tasks while workers and the service are killed (SOAK_TASKS, SOAK_SEED)"
	@echo "make format  format the sources with swift format"
	@echo "make contract  validate openapi.yaml and run schemathesis against the live service"
	@echo "make sanitize  run every test under ASan, then TSan (part of make test)"

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product fetchq

serve: release
	.build/release/fetchq serve $(ARGS)

lint:
	$(SWIFT) format lint --strict --recursive $(SOURCES)

format:
	$(SWIFT) format format --in-place --recursive $(SOURCES)

# The short chaos soak and the slow-client attack (DeadlineTests: hundreds of trickling
# connections) run on their own after the other tests: their load would weigh on the others' timing.
test: deps lint
	scripts/install-deps.sh postgresql chromium chromium-driver sqlite3 openssl nginx
	scripts/test-venv.sh
	$(SWIFT) build --build-tests
	scripts/run-tests.sh --skip SoakTests --skip DeadlineTests
	scripts/run-tests.sh --filter DeadlineTests
	scripts/run-tests.sh --filter SoakTests
	FETCHQ_BINARY=$$($(SWIFT) build --show-bin-path)/fetchq scripts/contract-test.sh
	scripts/sanitize.sh

# openapi.yaml validated, and schemathesis against the live service in a loopback-only namespace.
contract: deps build
	scripts/contract-test.sh

# Every test under AddressSanitizer, then ThreadSanitizer (fetchq's own modules instrumented).
sanitize: deps
	scripts/install-deps.sh postgresql chromium chromium-driver sqlite3 openssl nginx
	scripts/test-venv.sh
	scripts/sanitize.sh

# The chaos soak of issue #16 at full size (make test runs a short one). SOAK_SEED=n replays a run.
SOAK_TASKS ?= 50000
soak: deps
	scripts/install-deps.sh sqlite3
	scripts/test-venv.sh
	$(SWIFT) build --build-tests
	FETCHQ_SOAK_TASKS=$(SOAK_TASKS) $(if $(SOAK_SEED),FETCHQ_SOAK_SEED=$(SOAK_SEED)) \
		scripts/run-tests.sh --filter SoakTests

bench: deps
	bench/run.sh

clean:
	rm -rf .build
