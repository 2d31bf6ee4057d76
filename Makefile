# k8rs — `make run` starts a single-node cluster; `make test` runs the whole suite.
DATA_DIR ?= /var/lib/k8rs
CARGO ?= cargo
STATIC_TARGET := x86_64-unknown-linux-gnu
STATIC_DIR := target/static
DEMO_BIN := $(STATIC_DIR)/$(STATIC_TARGET)/release/demo
IMAGES_DIR := target/images
K8RS_ARGS ?=

export PATH := $(PATH):/usr/lib/google-cloud-sdk/bin

.PHONY: run deps build images test unit e2e compat lint fmt clean bench-store bench-engines bench-startup

run: deps build images
	mkdir -p $(DATA_DIR)/agent/images
	cp $(IMAGES_DIR)/*.tar $(DATA_DIR)/agent/images/
	exec ./target/release/k8rs server --data-dir $(DATA_DIR) $(K8RS_ARGS)

deps:
	./scripts/install-deps.sh

build:
	$(CARGO) build --release -p k8rs -p testkit --bins

# The demo app is linked statically so its image needs no libc; the same binary is the
# sandbox's pause process.
$(DEMO_BIN): $(wildcard crates/demo/src/*.rs) crates/demo/Cargo.toml
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build -p demo --release --target $(STATIC_TARGET) --target-dir $(STATIC_DIR)

images: $(DEMO_BIN)
	$(CARGO) run -q --release -p testkit --bin k8rs-images -- --demo-bin $(DEMO_BIN) --out $(IMAGES_DIR)

test: deps lint unit e2e compat

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --features store/testing -- -D warnings

unit:
	$(CARGO) test --workspace --exclude testkit --features store/testing
	$(CARGO) test -p testkit --lib

e2e: $(DEMO_BIN)
	$(CARGO) build -p k8rs
	K8RS_DEMO_BIN=$(abspath $(DEMO_BIN)) $(CARGO) test -p testkit --test e2e

# API compatibility suite: a control-plane-only server driven by kubectl 1.33 and 1.27,
# the Python client (installed from PyPI into a venv by scripts/compat-python-setup.sh)
# and kube-rs. Scenarios listed in crates/testkit/tests/compat/known_failures.txt are
# expected to fail until their issue lands; one that passes must be removed from the list.
compat:
	./scripts/compat-python-setup.sh
	$(CARGO) build -p k8rs
	K8RS_BIN=$(abspath target/debug/k8rs) $(CARGO) test -p testkit --test compat

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean

# Embedded store vs a local etcd, same workloads in one run (see docs/performance.md):
# basic operations, write latency while compacting, disk use under churn, start-up with
# 100k objects. CHURN_SECONDS sets the churn run's length.
CHURN_SECONDS ?= 300
bench-store: deps
	$(CARGO) build --release -p store --features testing --bin store-bench
	./target/release/store-bench throughput
	./target/release/store-bench compaction
	./target/release/store-bench startup
	./target/release/store-bench churn $(CHURN_SECONDS)

# The candidate engines for the embedded store on the same MVCC-shaped workload
# (docs/decisions/0002-store-engine.md). A separate project, so SQLite and fjall never
# enter the k8rs build.
bench-engines:
	cd bench/engines && $(CARGO) run --release

# Start-up time to node Ready and idle memory of `k8rs server`.
bench-startup: deps build images
	./scripts/bench-startup.sh 3
