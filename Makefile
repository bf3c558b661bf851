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
	@# The whole log goes to .build/test.log too; the failures are repeated at the end, where a CI summary shows them.
	@bash -o pipefail -c '$(SWIFT) test --skip-build 2>&1 | tee .build/test.log' || { \
		echo "=== failed tests and their recorded issues (full log: .build/test.log) ==="; \
		awk '/recorded an issue|Caught error|✘ Test run/ { n = 14 } n > 0 { print; n-- }' .build/test.log | tail -200; exit 1; }

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
