# Entry points: `make run` (set up, build, run the daemon on its defaults) and
# `make test` (set up, build, run every test). See README.md.
SWIFT ?= swift
RELEASE_BIN = .build/release/sensorhub

.PHONY: setup build release run test bench clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

run: release
	$(RELEASE_BIN) serve

# Integration tests start the debug binary, so build it before running the tests.
test: build
	$(SWIFT) test

clean:
	rm -rf .build
