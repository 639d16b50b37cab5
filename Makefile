# FaceStudio — build, test and run targets. Every target first installs the Debian packages it
# needs (scripts/install-deps.sh does nothing when they are present).
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
SWIFT ?= swift
# One set of flags for the binary and the tests, so `make test` and `make run` share one build
# (-enable-testing only exports internal symbols; the code is optimised the same).
# Vector code (softmax, GELU, norms, AdamW) is compiled for AVX2 + FMA when this CPU has them,
# and FACESTUDIO_FMA lets exp8 use fused multiply-adds (VectorMath.swift); other CPUs get the
# portable build, which multiplies and adds separately.
CPU_FLAGS := $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo -Xswiftc -target-cpu -Xswiftc haswell -Xswiftc -DFACESTUDIO_FMA)
RELEASE := -c release -Xswiftc -enable-testing $(CPU_FLAGS)
BIN := .build/release/facestudio

.PHONY: deps build run test bench model install clean

deps:
	@./scripts/install-deps.sh

# `swift build` and `swift test` compile with different testability, so alternating them
# recompiled every module (swiftlang/swift-package-manager#8031): `make run` after `make test`
# took 5 minutes. So the one build also builds the tests, and `test` runs them without building.
# SwiftPM also adds -color-diagnostics when its output is a terminal, which changes every compile
# command: piping through cat keeps a terminal build and a piped one (CI, scripts) the same.
build: deps
	$(SWIFT) build $(RELEASE) --build-tests 2>&1 | cat

# The studio on the shipped default model (until it ships: the most useful thing that exists).
run: build
	$(BIN) $(ARGS)

# The whole test suite, compiled optimised (numeric tests are 10-50x slower in debug).
test: build
	$(SWIFT) test $(RELEASE) --skip-build 2>&1 | tee .build-test.log
	@./scripts/test-summary.sh .build-test.log

bench: build
	$(BIN) bench $(ARGS)

# Reproduce the shipped model in Models/ (data set, tokenizer, encoders, unified model, eval,
# model card); resumable, hours on a 2-core machine. Variables: see scripts/make-model.sh.
model: build
	./scripts/make-model.sh

# Installs the binary, the shipped model and the themes under PREFIX, where the binary finds
# them from any folder (<prefix>/share/facestudio, see docs/DESIGN.md "Finding the model and the
# themes"). DESTDIR stages the tree for a package.
PREFIX ?= /usr/local
SHARE := $(DESTDIR)$(PREFIX)/share/facestudio
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/Models $(SHARE)/Themes
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/facestudio
	install -m 644 $(filter-out Models/next,$(wildcard Models/*)) $(SHARE)/Models/
	install -m 644 Themes/*.theme $(SHARE)/Themes/

clean:
	rm -rf .build .build-test.log
