# Entry points: `make run` (set up, build, run the daemon on its defaults) and
# `make test` (set up, build, run every test). See README.md.
SWIFT ?= swift

.PHONY: setup setup-tests build release run test bench clean

setup:
	@scripts/setup.sh

setup-tests:
	@scripts/setup.sh --tests

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# Starts a local mosquitto with deploy/mosquitto.conf first when none listens on 1883.
run: release
	scripts/run.sh

# Integration tests start the debug binary, so build it before running the tests.
test: setup-tests build
	$(SWIFT) test

# The shared side-by-side harness (../shared/bench: broker ceiling, SensorHub, W1-W3)
# against the release build; pass more flags with BENCH_FLAGS="--workloads w3 --reps 1".
bench: release
	python3 ../shared/bench/run.py $(BENCH_FLAGS) \
	  --server "sensorhub=$(CURDIR)/.build/release/sensorhub serve --db {db} --mqtt-url {mqtt_url} --http-port {http}"

clean:
	rm -rf .build
