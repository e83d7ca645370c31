# Member Center — the two commands the README names:
#   make run    build everything and serve the app with demo data on http://127.0.0.1:8080
#   make test   formatting, lints and every test (core, API on SQLite and Postgres, browser)
# Both install whatever tool is missing first (scripts/install-tools.sh).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

export PATH := $(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR ?= never

BIND ?= 127.0.0.1:8080
# DATABASE_URL when set (e.g. postgres://…), else the embedded default, kept in ./data
# so .gitignore covers it.
RUN_DATABASE_URL ?= $(or $(DATABASE_URL),sqlite://data/member-center.db?mode=rwc)
# Where the API tests find Postgres; the tests make their own database per test.
export TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: help run test tools tools-test web server postgres fmt-check clippy lint nextest e2e bench clean

help:
	@echo "make run    build and serve the app with demo data on http://$(BIND)"
	@echo "make test   fmt + clippy + all tests (core, API on SQLite and Postgres, browser e2e)"
	@echo "make bench  bundle size, time-to-card and write-path load budgets (bench/README.md)"

# --- run -------------------------------------------------------------------------------

run: tools web server
	@mkdir -p data
	@echo "Member Center: http://$(BIND)/  (staff: http://$(BIND)/staff/, cashier / cashier-dev-pass)"
	./target/release/member-server --dev --database-url '$(RUN_DATABASE_URL)' \
	  --bind '$(BIND)' --static-dir dist --data-dir data

tools:
	@scripts/install-tools.sh

tools-test:
	@scripts/install-tools.sh --test

web:
	scripts/build-web.sh

server:
	cargo build --release -p member-server

# --- test ------------------------------------------------------------------------------

# Every step runs even when an earlier one failed, so one run shows every problem; the
# run fails if any step did. Tests come last: nextest's summary closes the output.
TEST_STEPS := fmt-check clippy postgres web nextest
test: tools-test
	@failed=(); \
	for step in $(TEST_STEPS); do \
	  echo "== make $$step"; \
	  $(MAKE) --no-print-directory $$step || failed+=("$$step"); \
	done; \
	if [ $${#failed[@]} -gt 0 ]; then echo "make test: FAILED: $${failed[*]}" >&2; exit 1; fi

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p member-center --target wasm32-unknown-unknown --all-targets -- -D warnings

lint: fmt-check clippy

# Make sure the local Postgres answers; start the Debian cluster when it is down. When it
# still does not answer, this step fails (and so does every Postgres test) unless
# SKIP_POSTGRES=1 says to leave the Postgres tests out.
postgres:
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi; \
	if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null 2>&1; then \
	  for v in $$(ls /etc/postgresql); do \
	    echo "starting Postgres cluster $$v/main"; \
	    pg_ctlcluster --skip-systemctl-redirect $$v main start || true; \
	  done; \
	  for i in $$(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 0.5; done; \
	fi; \
	if [ -n "$${SKIP_POSTGRES:-}" ] && [ "$${SKIP_POSTGRES}" != 0 ]; then \
	  echo "Postgres is not answering on 127.0.0.1:5432: its tests are skipped (SKIP_POSTGRES=1)" >&2; \
	  exit 0; \
	fi; \
	echo "Postgres is not answering on 127.0.0.1:5432. Start it:" >&2; \
	echo "  pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start" >&2; \
	echo "or leave its tests out on purpose: SKIP_POSTGRES=1 make test" >&2; \
	exit 1

# What the person running the tests asked to leave out: SKIP_POSTGRES=1 (the Postgres
# tests), SKIP_BROWSER=1 (the browser tests). nextest counts them as skipped and the last
# line says so.
on = $(filter-out 0 false,$(1))
SKIPPED := $(if $(call on,$(SKIP_POSTGRES)),Postgres) $(if $(call on,$(SKIP_BROWSER)),browser)
NEXTEST_FILTER := $(strip \
  $(if $(call on,$(SKIP_POSTGRES)),not test(/(^|::)(many_)?postgres(_only)?::/)) \
  $(if $(call on,$(SKIP_BROWSER)),$(if $(call on,$(SKIP_POSTGRES)),and )not binary(/^e2e_/)))

nextest:
	cargo nextest run --workspace --no-fail-fast $(if $(NEXTEST_FILTER),-E '$(NEXTEST_FILTER)')
	@if [ -n "$(strip $(SKIPPED))" ]; then \
	  echo "make test: SKIPPED on request: $(strip $(SKIPPED)) tests (nextest counts them as skipped)"; \
	fi

# Only the browser journey (expects `make web` to have run).
e2e:
	cargo nextest run -p member-center --test e2e_journey

# --- bench -----------------------------------------------------------------------------

# Every bench runs even when an earlier one is over budget; the target fails if any is.
# redeem and purchase run on SQLite, and on Postgres too when it answers (make postgres).
bench: tools-test web server postgres
	@rc=0; bench/bundle-size || rc=1; bench/time-to-card || rc=1; \
	bench/redeem || rc=1; bench/purchase || rc=1; bench/checkout-coupons || rc=1; \
	bench/tiers || rc=1; bench/import || rc=1; exit $$rc

clean:
	cargo clean
	rm -rf dist
