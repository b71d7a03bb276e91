# Parley — build, run and test.
#
#   make run    start PostgreSQL + Redis (scripts/services.sh), migrate, seed demo data, serve
#   make test   start services (+ Chromium), go vet, go test -race
#
# Every variable below can be overridden: `make test RACE= PKG=./routing/...`.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO        ?= go
GOFMT     ?= gofmt
BASH      ?= bash
BIN       ?= bin/parley
CMD       ?= ./cmd/parley
PKG       ?= ./...
RACE      ?= -race
TIMEOUT   ?= 20m
TESTFLAGS ?= $(RACE) -count=1 -timeout $(TIMEOUT)
BUILDFLAGS ?=
BENCH     ?= .
BENCHPKG  ?= ./routing/...
BENCHFLAGS ?= -benchmem
SERVICES  ?= $(BASH) scripts/services.sh
ENV_FILE  ?= .data/env

.PHONY: run test build vet fmt bench services services-test stop clean clean-data

## run: start services, build, migrate, seed demo data and serve
run: services build
	. ./$(ENV_FILE) && $(BIN) migrate && $(BIN) seed --demo && exec $(BIN) serve

## test: start services (with Chromium), vet, run all tests with the race detector
test: services-test vet
	. ./$(ENV_FILE) && $(GO) test $(TESTFLAGS) $(PKG)

## build: compile bin/parley
build:
	$(GO) build $(BUILDFLAGS) -o $(BIN) $(CMD)

vet:
	$(GO) vet $(PKG)

## fmt: fail when a Go file is not gofmt-formatted
fmt:
	@files=$$(find . \( -path ./.git -o -path ./.data -o -path ./bin -o -name node_modules -o -name testdata -o -name vendor \) -prune -o -name '*.go' -print); \
	if [ -z "$$files" ]; then exit 0; fi; \
	bad=$$($(GOFMT) -l $$files); \
	if [ -n "$$bad" ]; then echo "gofmt needed for:"; echo "$$bad"; exit 1; fi

## bench: routing benchmarks
bench: services
	. ./$(ENV_FILE) && $(GO) test -run '^$$' -bench '$(BENCH)' $(BENCHFLAGS) $(BENCHPKG)

## services: ensure PostgreSQL and Redis, write .data/env
services:
	$(SERVICES)

services-test:
	$(SERVICES) --browser

## stop: stop the private PostgreSQL/Redis servers started by scripts/services.sh
stop:
	$(SERVICES) stop

clean:
	rm -rf bin

## clean-data: stop the private servers and delete .data (databases, secret key)
clean-data:
	$(SERVICES) clean
