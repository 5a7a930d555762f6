# munigis — see README.md. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
GO ?= go
BIN := bin/munigis
PGDIR := var/pg
PGPORT ?= 55432
ADDR ?= :8080

.DEFAULT_GOAL := help

.PHONY: help deps ui build run test bench db-start db-stop demo vet

help: ## list the targets
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install missing Debian packages (as root), or print the apt-get line
	@scripts/deps.sh

ui: deps ## install the browser assets from npm (web/ui) and build web/ui/dist, which go:embed needs
	@cd web/ui && if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund; fi
	@cd web/ui && if [ ! -f dist/maplibre-gl.js ] || [ build.mjs -nt dist/maplibre-gl.js ] || \
		[ node_modules/.package-lock.json -nt dist/maplibre-gl.js ]; then node build.mjs; fi

build: deps ui ## build bin/munigis
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/munigis

db-start: deps ## start (creating if new) the project PostGIS cluster under var/pg
	@if [ -n "$$DATABASE_URL" ]; then echo "DATABASE_URL is set: using that database, not var/pg"; \
	else scripts/pg.sh start $(PGDIR) $(PGPORT); fi

db-stop: ## stop the project PostGIS cluster (data kept)
	@scripts/pg.sh stop $(PGDIR)

run: build db-start ## set everything up and serve http://localhost:8080
	$(BIN) migrate
	$(BIN) demo --if-empty
	MUNIGIS_ADDR=$(ADDR) $(BIN) serve

demo: build db-start ## reload the demo municipality (PARCELS=N SEED=S)
	$(BIN) migrate
	$(BIN) demo --replace --parcels $${PARCELS:-20000} --seed $${SEED:-1}

test: deps ui ## vet, gofmt check and every test with -race against a throwaway PostGIS
	@scripts/test.sh

bench: deps ui ## benchmarks side by side with their peers (ratios, medians)
	@scripts/bench.sh
