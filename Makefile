# fetchq — the two commands a new user needs are `make serve` and `make test`.
SWIFT ?= swift
SOURCES := Sources Tests Plugins Package.swift

.PHONY: help deps build release serve test lint format bench clean

help:
	@echo "make serve   build (release) and run fetchq on 127.0.0.1:8080 with ./fetchq.db"
	@echo "make test    lint, build and run every test"
	@echo "make bench   run the benchmark and write BENCHMARKS.md"
	@echo "make format  format the sources with swift format"

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

test: deps lint
	scripts/test-venv.sh
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: deps
	bench/run.sh

clean:
	rm -rf .build
