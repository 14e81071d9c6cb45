# caigen - Constitutional-AI training data generator.
#
#   make            build ./caigen (developer build: -Werror)
#   make demo       run the demo against the bundled fake model server
#   make test       build and run every test; last line "N passed, N failed"
#   make check      tests under ASan+UBSan, pipeline and batch tests under TSan
#   make SANITIZE=address,undefined test    (or thread)
#   make deps       install the Debian -dev packages we build against
#   make fuzz       libFuzzer targets, FUZZ_SECONDS (60) each, one by one
#   make soak       200 kill -9 of a faulty run, then exactly-once checks
#   make bench      benchmark against nginx and wrk (minutes; not in test)
#   make bench-cluster  task starts of a 1,000-task array, split or not
#   make test-matrix    every combination of backends, executors, panels and
#                       modes (pairwise and 3-wise) against the fake server
#   make test-browser   the review page in headless Chromium
#   make bench-dedup    prompts dedup: recall/precision, 1M prompts, Python
#   make man        caigen.1's CONFIGURATION section again from the key table

CC      ?= cc
PKGS    := libcurl jansson yaml-0.1 zlib libmicrohttpd
DEBPKGS := libc6-dev libcurl4-openssl-dev libjansson-dev libyaml-dev \
	zlib1g-dev libmicrohttpd-dev pkg-config
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
PREFIX  ?= /usr/local

comma := ,
V       := $(if $(SANITIZE),$(subst $(comma),-,$(SANITIZE)),default)
O       ?= obj/$(V)

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -O2 -g -pthread \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-DCAIGEN_VERSION='"$(VERSION)"'
ifneq ($(RELEASE),1)
CFLAGS_BASE += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS_BASE += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -O1
LDFLAGS_SAN := -fsanitize=$(SANITIZE)
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS)
LIBS    = $(PKG_LIBS) -lm -pthread $(LDFLAGS_SAN)

LIB_SRC := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ := $(patsubst src/%.c,$(O)/%.o,$(LIB_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))
BIN     := $(O)/caigen
FAKE    := $(O)/fakeserver
RUNBATCH := $(O)/runbatch
BATCHCTL := $(O)/batchctl
ALLPAIRS := $(O)/allpairs


.PHONY: all deps deps-check test-deps demo test test-unit test-e2e check clean install bench soak \
	fuzz fuzz-deps test-slurm test-real bench-cluster test-fresh bench-dedup \
	bench-limiter test-matrix test-browser man
all: deps-check $(BIN) caigen

caigen: $(BIN)
	@if [ "$(O)" = obj/default ]; then cp $(BIN) caigen; fi

# deps: install the -dev packages when missing (as root), else say how.
deps:
	@sh tests/deps.sh $(DEBPKGS)

test-deps:
	@sh tests/deps.sh $(DEBPKGS) jq cmark-gfm curl groff-base man-db

deps-check:
	@pkg-config --exists $(PKGS) 2>/dev/null || sh tests/deps.sh $(DEBPKGS)

# The objects that hold caigen's version are rebuilt when it changes (a
# commit, or the tree becoming dirty): an incremental build never mixes two.
VERSIONED := $(patsubst src/%.c,$(O)/%.o,$(shell grep -l CAIGEN_VERSION src/*.c))
$(VERSIONED): $(O)/version
$(O)/version: FORCE | $(O)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
FORCE:

$(O)/%.o: src/%.c $(wildcard src/*.h) | $(O)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN): $(LIB_OBJ) $(O)/main.o
	@echo "  LINK    $@"
	@$(CC) -o $@ $^ $(LIBS)

$(FAKE): tests/fakeserver.c | $(O)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBS)

$(RUNBATCH): tests/runbatch.c | $(O)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBS)

$(ALLPAIRS): tests/matrix/allpairs.c | $(O)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $<

$(BATCHCTL): tests/batchctl.c $(LIB_OBJ) | $(O)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB_OBJ) $(LIBS)

$(O)/tests/%: tests/unit/%.c tests/unit/harness.h $(LIB_OBJ) | $(O)
	@mkdir -p $(O)/tests
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB_OBJ) $(LIBS)

$(O):
	@mkdir -p $(O)

# The test runner counts every PASS/FAIL line and ends with
# "N passed, N failed". TESTS=pattern runs a subset.
test: test-deps $(BIN) $(FAKE) $(RUNBATCH) $(BATCHCTL) $(ALLPAIRS) $(UNIT_BIN) caigen
	@CAIGEN=$(abspath $(BIN)) FAKESERVER=$(abspath $(FAKE)) \
	 RUNBATCH=$(abspath $(RUNBATCH)) BATCHCTL=$(abspath $(BATCHCTL)) \
	 ALLPAIRS=$(abspath $(ALLPAIRS)) \
	 UNIT_BINS="$(abspath $(UNIT_BIN))" SANITIZE=$(SANITIZE) \
	 sh tests/run.sh $(TESTS)

# test-matrix: the combination matrix (tests/matrix): the pairwise set with
# every check, then the 3-wise set; checks that fail for a defect listed in
# tests/matrix/known print XFAIL with the defect (minutes; `make test` runs
# the pairwise set with fewer checks, tests/e2e/matrix_pairwise.sh).
test-matrix: test-deps $(BIN) $(FAKE) $(ALLPAIRS) caigen
	@CAIGEN=$(abspath $(BIN)) FAKESERVER=$(abspath $(FAKE)) \
	 ALLPAIRS=$(abspath $(ALLPAIRS)) sh tests/matrix/test.sh

check:
	$(MAKE) test SANITIZE=address,undefined
	$(MAKE) test SANITIZE=thread TESTS=pipeline
	$(MAKE) test SANITIZE=thread TESTS=batch_resume

# fuzz: clang libFuzzer targets in tests/fuzz/, each run FUZZ_SECONDS in
# turn (ASan+UBSan); working corpora and crashes under $(O)/fuzz/.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRC))
FUZZ_OBJ := $(patsubst src/%.c,$(O)/fuzz/%.o,$(LIB_SRC))
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -pthread \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-DCAIGEN_VERSION='"fuzz"' $(PKG_CFLAGS)

.PRECIOUS: $(O)/fuzz/%.o
fuzz-deps:
	@sh tests/deps.sh $(DEBPKGS) clang

$(O)/fuzz/%.o: src/%.c $(wildcard src/*.h)
	@mkdir -p $(O)/fuzz
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJ)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Isrc -o $@ $< \
		$(FUZZ_OBJ) $(PKG_LIBS) -lm -pthread

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(abspath $(FUZZ_BIN))

# soak: a long job against the faulty fake server, kill -9 at random
# instants (SOAK_KILLS times), then exactly-once checks. `make test` runs a
# short one (tests/e2e/pipeline_soak.sh).
SOAK_KILLS ?= 200
soak: test-deps $(BIN) $(FAKE)
	@CAIGEN=$(abspath $(BIN)) FAKESERVER=$(abspath $(FAKE)) \
	 sh tests/soak.sh $(SOAK_KILLS)

demo: deps-check $(BIN) $(FAKE) caigen
	@sh tests/demo.sh $(abspath $(BIN)) $(abspath $(FAKE))

# test-slurm: a real one-node Slurm (installed and started as root, stopped
# at the end) runs a 4-task caigen array; one task is interrupted and
# requeued; the merged shards must equal one process's output.
test-slurm: test-deps $(BIN) $(FAKE) $(RUNBATCH)
	@CAIGEN=$(abspath $(BIN)) FAKESERVER=$(abspath $(FAKE)) \
	 RUNBATCH=$(abspath $(RUNBATCH)) \
	 sh tests/slurm/run.sh

# test-fresh: the README's build and test commands on a minimal Debian 12
# (debootstrap: git, make and gcc only) made under $(O)/fresh, in a chroot,
# on a clone of the current commit: every program `make test` needs must be
# installed by it. Root; about 10 minutes.
test-fresh:
	@sh tests/fresh.sh $(abspath $(O)/fresh)

# test-browser: caigen review's page in a real headless Chromium
# (Debian's chromium; puppeteer-core from npm into tests/browser/
# node_modules, which git ignores): review by keyboard, reload mid-way, a
# second reviewer, then reviews.jsonl and caigen eval on it. Screenshot in
# $(O)/browser/review.png.
test-browser: test-deps $(BIN) $(FAKE) caigen
	@sh tests/deps.sh chromium
	@command -v npm >/dev/null 2>&1 || sh tests/deps.sh npm
	@[ -d tests/browser/node_modules/puppeteer-core ] || \
		(cd tests/browser && npm ci --no-audit --no-fund --silent)
	@CAIGEN=$(abspath $(BIN)) FAKESERVER=$(abspath $(FAKE)) \
	 SHOT=$(abspath $(O)/browser/review.png) sh tests/browser/run.sh

# test-real: caigen against a real llama.cpp llama-server and GGUF model
# ($LLAMA_SERVER, $LLAMA_MODEL; unset or missing is a failure, not a
# skip): every mode, CoT, completions, n=2, --api-key, a restart mid-run,
# temperature 0, max_tokens 8. Structure and accounting, never bytes.
test-real: test-deps $(BIN) caigen
	@CAIGEN=$(abspath $(BIN)) sh tests/real/run.sh

# bench: caigen against nginx on loopback next to wrk and a Python aiohttp
# script: rate, CPU a request, 100 ms with 1,024 and 1 s with 10,000
# requests in flight, peak RSS and time for 10k/100k/1M prompts (minutes;
# BENCH_QUICK=1 for a smoke run). Not part of `make test`. CAIGEN=path tests
# another binary than this tree's; CAIGEN_BEFORE=path adds a "before"
# column measured in the same run. Table in obj/bench/results.md.
bench: deps-check $(BIN)
	@CAIGEN="$(abspath $(or $(CAIGEN),$(BIN)))" \
	 CAIGEN_BEFORE="$(if $(CAIGEN_BEFORE),$(abspath $(CAIGEN_BEFORE)))" \
	 BENCH_RESULTS="$(abspath $(or $(BENCH_RESULTS),obj/bench/results.md))" \
	 sh scripts/bench/run.sh
	@$(MAKE) --no-print-directory bench-limiter

# bench-limiter: adaptive concurrency (the default) against fixed --jobs 8 to
# 2048 on nginx at 0 ms, 100 ms, 1 s and behind limit_req / limit_conn, 10,000
# in flight at 1 s; the limiter's traces as SVGs. Table in
# obj/bench/limiter.md (BENCH_QUICK=1: short runs). Part of `make bench`.
bench-limiter: deps-check $(BIN)
	@CAIGEN="$(abspath $(or $(CAIGEN),$(BIN)))" \
	 BENCH_RESULTS_LIMITER="$(abspath $(or $(BENCH_RESULTS_LIMITER),obj/bench/limiter.md))" \
	 sh scripts/bench/limiter.sh

# bench-cluster: 1M prompts over 1,000 tasks, split and unsplit: bytes read,
# peak RSS and wall time per task start (minutes; BASE=path/to/old/caigen
# measures an older binary too). Not part of `make test`.
bench-cluster: deps-check $(BIN)
	@CAIGEN=$(abspath $(BIN)) sh scripts/bench/cluster.sh

# bench-dedup: `caigen prompts dedup` on 20,000 prompts with planted near
# duplicates (recall and precision against exact Jaccard, and the Python
# MinHash script's time) and on 1M prompts (time, peak RSS). A minute or
# two; not part of `make test`. Table in obj/bench/dedup.md.
$(O)/dedup_planted: scripts/bench/dedup_planted.c tests/unit/planted.h $(LIB_OBJ)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB_OBJ) $(LIBS)

bench-dedup: deps-check $(BIN) $(O)/dedup_planted
	@CAIGEN=$(abspath $(BIN)) PLANTED=$(abspath $(O)/dedup_planted) \
	 sh scripts/bench/dedup.sh

# install: PREFIX/bin/caigen, the man page, the constitutions, the JSON
# Schemas and the Slurm, Kubernetes and AWS Batch templates under
# PREFIX/share/caigen. The installed program is linked here with PREFIX
# compiled into datadir.o, so `--constitution harmless` finds
# PREFIX/share/caigen/constitution/harmless.yaml from any folder.
SHARE   = $(DESTDIR)$(PREFIX)/share
IDIR    = $(O)/install
install: $(BIN)
	@mkdir -p $(IDIR)
	@$(CC) $(ALL_CFLAGS) -DCAIGEN_SHARE_DIR='"$(PREFIX)/share/caigen"' \
		-c -o $(IDIR)/datadir.o src/datadir.c
	@$(CC) -o $(IDIR)/caigen $(filter-out $(O)/datadir.o,$(LIB_OBJ)) \
		$(O)/main.o $(IDIR)/datadir.o $(LIBS)
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/man/man1 \
		$(SHARE)/caigen/constitution $(SHARE)/caigen/schemas \
		$(SHARE)/caigen/slurm $(SHARE)/caigen/k8s $(SHARE)/caigen/aws \
		$(SHARE)/caigen/prompts
	install -m 755 $(IDIR)/caigen $(DESTDIR)$(PREFIX)/bin/caigen
	install -m 644 caigen.1 $(SHARE)/man/man1/caigen.1
	install -m 644 constitution/*.yaml constitution/refusals.txt \
		$(SHARE)/caigen/constitution/
	install -m 644 schemas/*.schema.json $(SHARE)/caigen/schemas/
	install -m 755 scripts/slurm/caigen-array.sbatch \
		scripts/slurm/vllm-run-batch.sbatch $(SHARE)/caigen/slurm/
	install -m 644 scripts/k8s/*.yaml $(SHARE)/caigen/k8s/
	install -m 644 scripts/aws/README.md $(SHARE)/caigen/aws/
	install -m 644 prompts/*.yaml $(SHARE)/caigen/prompts/

# man: caigen.1's CONFIGURATION section, the lines from caigen-keys-begin
# to caigen-keys-end, made again by `caigen config --man` from the key
# table (src/configdoc.c); tests/e2e/cli_config_example.sh fails until then.
man: $(BIN)
	@grep -q 'caigen-keys-begin' caigen.1 && grep -q 'caigen-keys-end' caigen.1 \
		|| { echo "man: caigen.1 lacks the caigen-keys lines"; exit 1; }
	@$(BIN) config --man >$(O)/keys.roff
	@awk -v gen=$(O)/keys.roff '/caigen-keys-begin/ { \
		while ((getline l < gen) > 0) print l; skip = 1; next } \
		/caigen-keys-end/ { skip = 0; next } !skip' caigen.1 \
		>$(O)/caigen.1.new
	@mv $(O)/caigen.1.new caigen.1
	@echo "  MAN     caigen.1"

clean:
	rm -rf obj caigen
