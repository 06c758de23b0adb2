# tightrope — build. Out-of-tree objects in $(BUILD); every src/<layer>/*.c goes into
# libtightrope.a except src/cli/, which makes the `tightrope` binary. New modules, tests and
# benchmarks are picked up by wildcard: no list to edit.

BUILD   ?= build
CC      ?= cc
VERSION := 0.1.0

PKGS    := expat libcjson yaml-0.1 sqlite3 libmicrohttpd nlopt
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

# STYLE.md rule 12: these warnings are the first test.
WARN    := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wconversion -Werror
OPT     ?= -O2 -g
SAN     ?=
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -DTR_VERSION=\"$(VERSION)\" -Iinclude -Isrc
CFLAGS  += $(WARN) $(OPT) $(SAN) -MMD -MP $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lm -lpthread
LDFLAGS += $(SAN)

LIB_SRC   := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
BENCH_SRC := $(sort $(wildcard bench/*.c))

# Web assets embedded into the library (tools/embed.c); uPlot comes from `npm ci` in web/.
WEB_FILES := web/index.html web/app.js web/style.css
UPLOT_DIR := web/node_modules/uplot/dist
UPLOT     := $(UPLOT_DIR)/uPlot.iife.min.js $(UPLOT_DIR)/uPlot.min.css
ASSETS_C  := $(BUILD)/gen/assets.c
# Sector templates embedded for `tightrope init`: every file of models/<sector>/ but tools.
TEMPLATE_FILES := $(sort $(filter-out models/tools/%,$(wildcard models/*/*.xmile models/*/*.yaml \
                    models/*/*.md models/*/*.csv)))
TEMPLATES_C := $(BUILD)/gen/templates.c

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/assets.o $(BUILD)/obj/gen/templates.o
CLI_OBJ   := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libtightrope.a
BIN       := $(BUILD)/tightrope
TESTS     := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOLS     := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCHES   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all test asan bench format conformance clean check-tools fuzz valgrind
all: $(BIN) $(TESTS) $(TOOLS)

# The one-lane interpreter loop (tr_vm_exec1) ran 1.5x slower in 2 of 8 places the linker
# could put it (and always, at 64-byte-aligned starts) on this AMD host; with the function and
# its loops on 64-byte lines its speed no longer depends on the code around it
# (bench/bench_mc's one-lane baselines moved by 2x with an unrelated edit before this).
$(BUILD)/obj/src/engine/vm.o: CFLAGS += -falign-functions=64 -falign-loops=64

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -O2 -std=c11 -Wall -Wextra -o $@ $<

$(ASSETS_C): $(BUILD)/embed $(WEB_FILES) $(UPLOT)
	@mkdir -p $(@D)
	$(BUILD)/embed $@ tr_assets index.html=web/index.html app.js=web/app.js \
	  style.css=web/style.css uplot.js=$(UPLOT_DIR)/uPlot.iife.min.js \
	  uplot.css=$(UPLOT_DIR)/uPlot.min.css

$(TEMPLATES_C): $(BUILD)/embed $(TEMPLATE_FILES)
	@mkdir -p $(@D)
	$(BUILD)/embed $@ tr_templates $(foreach f,$(TEMPLATE_FILES),$(f:models/%=%)=$(f))

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(UPLOT):
	@echo "missing $@: the web assets come from npm; run ./setup (or: cd web && npm ci)" >&2
	@exit 1

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) $(CLI_OBJ) $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TEST_CFLAGS) $< $(LIB) $(LDFLAGS) $(TEST_LIBS) $(LDLIBS) -o $@

$(BUILD)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# Fuzzing (tests/fuzz/). Each tests/fuzz/fuzz_<target>.c is linked with tests/fuzz/replay.c
# into $(BUILD)/fuzz-replay/ (built by `all`, run by tests/suites/fuzz_regress.sh over the
# committed corpora, no clang needed). `make fuzz FUZZ_SECONDS=N` builds the library and every
# target with clang's libFuzzer + ASan + UBSan in build/fuzz/ and runs each N seconds;
# FUZZ_TARGETS="fuzz_http fuzz_csv" picks some.
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_REPLAYS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz-replay/%)
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
all: $(FUZZ_REPLAYS)

$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(WARN) $(OPT) $(SAN) $(PKG_CFLAGS) tests/fuzz/replay.c $< $(LIB) \
	  $(LDFLAGS) $(LDLIBS) -o $@

fuzz:
	$(MAKE) BUILD=build/fuzz CC=$(FUZZ_CC) WARN=-std=c11 OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" build/fuzz/libtightrope.a
	@set -e; for t in $(FUZZ_TARGETS); do src=tests/fuzz/$$t.c; \
	  [ -f $$src ] || { echo "no fuzz target $$t (tests/fuzz/$$t.c)"; exit 2; }; \
	  $(FUZZ_CC) $(CPPFLAGS) -std=c11 -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) $(PKG_CFLAGS) $$src \
	    build/fuzz/libtightrope.a $(LDLIBS) -o build/fuzz/$$t; \
	  mkdir -p build/fuzz/corpus/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus/$$t \
	    tests/fuzz/corpus/$${t#fuzz_}; \
	done

# The CLI under valgrind's memcheck: `tightrope simulate` over every template in models/, then
# a KPI import (with one bad row, so exit 2 is expected), list and export in a scratch
# workspace. Any memcheck error or leak (exit 1) fails the target.
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full
valgrind: $(BIN)
	@set -e; for m in $(sort $(wildcard models/*/model.xmile)); do \
	  echo "== valgrind: tightrope simulate $$m"; $(VALGRIND) $(BIN) simulate $$m >/dev/null; done
	@set -e; ws=$$(mktemp -d /tmp/tr_valgrind.XXXXXX); trap 'rm -rf "$$ws"' EXIT; \
	  printf 'date,kpi,value,source\n2024-01,mrr,100,crm\n2024-02,mrr,110,crm\n2024-02,churn,x,crm\n' \
	    >"$$ws/kpi.csv"; \
	  echo "== valgrind: tightrope kpi import / list / export"; \
	  rc=0; $(VALGRIND) $(BIN) kpi -w "$$ws" import "$$ws/kpi.csv" >/dev/null 2>&1 || rc=$$?; \
	  [ $$rc -eq 2 ] || { echo "kpi import with a bad row: exit $$rc, wanted 2 (1 = memcheck error)"; exit 1; }; \
	  $(VALGRIND) $(BIN) kpi -w "$$ws" list >/dev/null; \
	  $(VALGRIND) $(BIN) kpi -w "$$ws" export >/dev/null

# The whole suite: unit programs, golden files, conformance, CLI checks. Ends with
# "N passed, N failed" and exits non-zero on any failure.
test: all
	@BUILD=$(BUILD) tests/run.sh

conformance: all
	@BUILD=$(BUILD) tests/conformance.sh

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test

bench: $(BIN) $(BENCHES)
	@set -e; for b in $(BENCHES); do echo "== $$b"; $$b; done; \
	for b in bench/*.sh; do echo "== $$b"; BUILD=$(BUILD) $$b; done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
