# rendc — common tasks. `make demo` and `make test` are the two commands a new machine needs.
SWIFT ?= swift
RELEASE_BIN := .build/release/rendc

.PHONY: setup build release demo test bench lint format clean

setup:            ## install Debian packages and Python test helpers (idempotent)
	bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release --product rendc

demo: release     ## render out/demo.mp4 (30 s, golden-frame, built-in assets)
	$(RELEASE_BIN) demo --output out/demo.mp4

test: setup       ## the whole test suite (starts its own PostgreSQL and S3 test servers)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

lint:             ## formatting (swift-format), declared target dependencies, and the shipped templates
	swift-format lint --strict --recursive --parallel Package.swift Sources Tests
	python3 scripts/check-deps.py
	$(SWIFT) build --product rendc
	.build/debug/rendc lint specs

format:           ## rewrite the tree in the project's style (.swift-format)
	swift-format format --in-place --recursive --parallel Package.swift Sources Tests

bench: release    ## render speed and memory against the encode floor
	$(RELEASE_BIN) bench

clean:
	rm -rf .build out assets/generated
