# caigen - Constitutional-AI training data generator.
#
#   make            build ./caigen (developer build: -Werror)
#   make demo       run the demo against the bundled fake model server
#   make test       build and run every test; last line "N passed, N failed"
#   make check      tests under ASan+UBSan, pipeline tests under TSan
#   make SANITIZE=address,undefined test    (or thread)
#   make deps       install the Debian -dev packages we build against

CC      ?= cc
PKGS    := libcurl jansson yaml-0.1
DEBPKGS := libcurl4-openssl-dev libjansson-dev libyaml-dev pkg-config
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


.PHONY: all deps deps-check test-deps demo test test-unit test-e2e check clean install bench soak \
	fuzz test-slurm
all: deps-check $(BIN) caigen

caigen: $(BIN)
	@if [ "$(O)" = obj/default ]; then cp $(BIN) caigen; fi

# deps: install the -dev packages when missing (as root), else say how.
deps:
	@sh tests/deps.sh $(DEBPKGS)

test-deps:
	@sh tests/deps.sh $(DEBPKGS) jq

deps-check:
	@pkg-config --exists $(PKGS) 2>/dev/null || sh tests/deps.sh $(DEBPKGS)

$(O)/%.o: src/%.c $(wildcard src/*.h) | $(O)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN): $(LIB_OBJ) $(O)/main.o
	@echo "  LINK    $@"
	@$(CC) -o $@ $^ $(LIBS)

$(FAKE): tests/fakeserver.c | $(O)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBS)

$(O)/tests/%: tests/unit/%.c tests/unit/harness.h $(LIB_OBJ) | $(O)
	@mkdir -p $(O)/tests
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(LIB_OBJ) $(LIBS)

$(O):
	@mkdir -p $(O)

# The test runner counts every PASS/FAIL line and ends with
# "N passed, N failed". TESTS=pattern runs a subset.
test: test-deps $(BIN) $(FAKE) $(UNIT_BIN) caigen
	@CAIGEN=$(abspath $(BIN)) FAKESERVER=$(abspath $(FAKE)) \
	 UNIT_BINS="$(abspath $(UNIT_BIN))" SANITIZE=$(SANITIZE) \
	 sh tests/run.sh $(TESTS)

check:
	$(MAKE) test SANITIZE=address,undefined
	$(MAKE) test SANITIZE=thread TESTS=pipeline

demo: deps-check $(BIN) $(FAKE) caigen
	@sh tests/demo.sh $(abspath $(BIN)) $(abspath $(FAKE))

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/caigen/constitution
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/caigen
	install -m 644 constitution/*.yaml $(DESTDIR)$(PREFIX)/share/caigen/constitution/

clean:
	rm -rf obj caigen
