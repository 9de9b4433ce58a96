# Fieldesk — build, run and test entry points.
#
#   make setup      install/check toolchain pieces (scripts/setup.sh; idempotent, fast when done)
#   make build      scripts/build.sh (no cargo-leptos) -> target/release/fieldesk + target/site
#   make run        build, then run the server (FIELDESK_ADDR, FIELDESK_DATA_DIR, ... overridable)
#   make test       build, then Rust tests (against PostgreSQL) and Playwright end-to-end tests
#   make test-rust  only the Rust tests          make test-e2e   only the Playwright tests
#   make fmt        cargo fmt                    make lint       fmt check + clippy (ssr and hydrate)
#   make clean-data remove the local data dir and test outputs

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := build

# Recursive calls use this same file (also when invoked as `make -f path/Makefile`).
SELF := $(MAKE) --no-print-directory -f $(abspath $(firstword $(MAKEFILE_LIST)))

export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

FIELDESK_DATA_DIR ?= ./data
FIELDESK_ADDR ?= 127.0.0.1:3000
FIELDESK_DEMO_PASSWORD ?= fieldesk-demo

# Same features and profile as the server build of scripts/build.sh, so
# `cargo test` reuses the release dependency artifacts of `make build`.
SSR_FLAGS := --no-default-features --features ssr
HYDRATE_FLAGS := --no-default-features --features hydrate --target wasm32-unknown-unknown

# leptos/leptos_config read LEPTOS_OUTPUT_NAME at compile time (option_env!).
# Every cargo command (scripts/build.sh, test, clippy) sources the same
# environment, the one cargo-leptos would set, or cargo rebuilds the whole
# leptos stack each time we alternate between them.
LEPTOS_ENV := . scripts/leptos-env.sh

.PHONY: setup build run test test-rust test-e2e _test-rust _test-e2e fmt fmt-check lint clean-data

setup:
	bash scripts/setup.sh

build: setup
	bash scripts/build.sh

run: build
	@export LEPTOS_SITE_ROOT=target/site
	export FIELDESK_DATA_DIR='$(FIELDESK_DATA_DIR)'
	export FIELDESK_ADDR='$(FIELDESK_ADDR)'
	export FIELDESK_DEMO_PASSWORD='$(FIELDESK_DEMO_PASSWORD)'
	mkdir -p "$$FIELDESK_DATA_DIR"
	echo "Fieldesk on http://$$FIELDESK_ADDR (data: $$FIELDESK_DATA_DIR)"
	exec target/release/fieldesk

# Full suite: one PostgreSQL for everything, stopped at the end if it was a
# throwaway cluster; the e2e tests run even when Rust tests fail, and the
# target fails if either did.
test: build
	@pg_url="$$(bash scripts/test-postgres.sh)"
	trap 'bash scripts/test-postgres.sh stop' EXIT
	trap 'exit 130' INT TERM
	export FIELDESK_TEST_PG_URL="$$pg_url"
	echo "make test: PostgreSQL at $$pg_url"
	rc=0
	$(SELF) _test-rust || rc=1
	$(SELF) _test-e2e || rc=1
	if [ "$$rc" -ne 0 ]; then echo "make test: FAILED" >&2; fi
	exit "$$rc"

test-rust:
	@pg_url="$$(bash scripts/test-postgres.sh)"
	trap 'bash scripts/test-postgres.sh stop' EXIT
	trap 'exit 130' INT TERM
	export FIELDESK_TEST_PG_URL="$$pg_url"
	echo "make test-rust: PostgreSQL at $$pg_url"
	$(SELF) _test-rust

test-e2e: build
	$(SELF) _test-e2e

_test-rust:
	@: "$${FIELDESK_TEST_PG_URL:?FIELDESK_TEST_PG_URL must be set (use make test or make test-rust)}"
	$(LEPTOS_ENV)
	set -x
	cargo test --release $(SSR_FLAGS)

_test-e2e:
	@set -x
	cd end2end
	npx playwright test

fmt:
	cargo fmt

fmt-check:
	cargo fmt --check

lint: fmt-check
	$(LEPTOS_ENV)
	cargo clippy $(SSR_FLAGS) -- -D warnings
	cargo clippy $(HYDRATE_FLAGS) -- -D warnings

clean-data:
	@d='$(FIELDESK_DATA_DIR)'
	case "$$d" in ''|/|.|..) echo "refusing to remove FIELDESK_DATA_DIR='$$d'" >&2; exit 1 ;; esac
	rm -rf -- "$$d" target/e2e-data end2end/test-results end2end/screenshots end2end/playwright-report
	echo "removed $$d and test outputs"
