# sluice — plain make, no autotools.
#
#   make            build ./sluice (installs missing Debian packages first)
#   make test       layout check, unit suites (Check), integration tests on
#                   loopback
#                   + cluster tests when root (else skipped, with the reason)
#   make test-cluster  cluster tests: hosts in network namespaces (root)
#   make test-browser  the web UI in headless chromium (tests/browser)
#   make demo       scheduler + 2 workers on loopback, runs the AI pipeline
#   make asan       ASan+UBSan build in build/asan, runs the unit suites
#                   and the integration tests with it
#   make fuzz       libFuzzer targets (clang) for FUZZ_SECONDS each
#   make bench      throughput and latency against the machine's spawn limit
#   make bench-scale  the scheduler alone with 100-2,000 simulated workers
#                   (tests/tools/simfleet): tasks/s, latency, CPU, memory,
#                   growth with DAG and store size; JSON + SVG chart
#   make install    installs sluice into $(PREFIX)/bin

PREFIX  ?= /usr/local
BUILD   ?= build/release
OPT     ?= -O2 -g
SANITIZE ?=

PKGS    := libczmq libzmq libsodium sqlite3 yaml-0.1 libprotobuf-c libcurl \
           libmicrohttpd libgvc jansson check
DEB_PKGS := libzmq3-dev libczmq-dev libsodium-dev libsqlite3-dev check \
            libcurl4-openssl-dev libmicrohttpd-dev libgraphviz-dev \
            libjansson-dev \
            libyaml-dev libprotobuf-c-dev protobuf-c-compiler pkg-config \
            sqlite3 gawk iproute2 procps nftables faketime curl openssl \
            slurm-wlm munge util-linux tzdata

# Only some tests drive these (a real browser for the web UI, a real
# Prometheus for /metrics); `make test` skips those tests, saying why, when
# they are missing, and CI (.ci/run) installs them.
TEST_PKGS := chromium prometheus

WARN    := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2
# Recursive (=) so pkg-config runs only in recipes, after `deps` has run.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs libczmq libzmq libsodium sqlite3 yaml-0.1 libprotobuf-c libcurl \
                                    libmicrohttpd libgvc jansson)
CHECK_LIBS = $(shell pkg-config --libs check)
CPPFLAGS := -I. -I$(BUILD)/gen -D_GNU_SOURCE
CFLAGS_ALL = $(WARN) $(OPT) $(SANITIZE) $(PKG_CFLAGS) $(CPPFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm

GEN_C   := $(BUILD)/gen/proto/sluice.pb-c.c
GEN_H   := $(BUILD)/gen/proto/sluice.pb-c.h
LIB_SRC := $(wildcard common/*.c proto/*.c scheduler/*.c scheduler/store/*.c \
                    scheduler/autoscale/*.c worker/*.c cli/*.c)
# The web UI's files, compiled in (mk/embed.sh; scheduler/webui.h).
WEB_SRC := $(sort $(wildcard web/*.* web/*/*.*))
WEB_GEN := $(BUILD)/gen/web_assets.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/proto/sluice.pb-c.o \
           $(BUILD)/gen/web_assets.o
MAIN_OBJ := $(BUILD)/sluice.o
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
TOOL_SRC := $(wildcard examples/ai-pipeline/*.c)
TOOL_BIN := $(TOOL_SRC:%.c=$(BUILD)/%)
# Test helpers (forged-message sender, spawn benchmark): link the library.
TEST_TOOL_SRC := $(wildcard tests/tools/*.c)
TEST_TOOL_BIN := $(TEST_TOOL_SRC:%.c=$(BUILD)/%)

.PHONY: all deps test unit integration demo asan bench bench-scale install clean \
        format format-check fuzz

all: sluice tools

deps:
	@sh mk/deps.sh $(DEB_PKGS)

# cp then rename: replacing a running ./sluice in place fails (text busy).
sluice: $(BUILD)/sluice
	@cp $< $@.tmp && mv -f $@.tmp $@

tools: $(TOOL_BIN) $(TEST_TOOL_BIN)

$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(LIB_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(BUILD)/sluice: $(MAIN_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL)

$(GEN_C) $(GEN_H): proto/sluice.proto | deps
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen proto/sluice.proto

# Generated code is not ours: compile it without -Werror's strictest bits.
$(BUILD)/gen/proto/sluice.pb-c.o: $(GEN_C)
	$(CC) -std=gnu11 $(OPT) $(SANITIZE) $(PKG_CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(WEB_GEN): $(WEB_SRC) mk/embed.sh
	@mkdir -p $(dir $@)
	sh mk/embed.sh $(WEB_SRC) >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/web_assets.o: $(WEB_GEN) scheduler/webui.h
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/%.o: %.c $(GEN_H) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

$(BUILD)/examples/ai-pipeline/%: examples/ai-pipeline/%.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) $(SANITIZE) -o $@ $< -lm

$(BUILD)/tests/unit_tests: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LDLIBS_ALL) $(CHECK_LIBS)

unit: $(BUILD)/tests/unit_tests sluice
	$(BUILD)/tests/unit_tests

# Integration tests at once: most of a test's time is waiting on clocks.
IT_JOBS ?= 3

integration: sluice tools
	@IT_JOBS=$(IT_JOBS) BUILD=$(BUILD) bash tests/integration/run.sh

test: check-layout unit integration cluster-or-skip test-browser

# The web UI in headless chromium (tests/browser/run.sh); skipped, with the
# reason, when chromium, node or playwright-core (npm ci) is missing.
.PHONY: test-browser
test-browser: sluice tools
	@BUILD=$(BUILD) bash tests/browser/run.sh

# The include rules and module loops of docs/architecture.md, checked.
.PHONY: check-layout
check-layout: $(LIB_OBJ)
	@sh mk/check-layout.sh $(LIB_OBJ)

# Cluster tests need root (network namespaces); `make test` skips them with
# the reason when they cannot run, `make test-cluster` fails instead.
.PHONY: test-cluster cluster-or-skip
test-cluster: sluice tools
	@BUILD=$(BUILD) bash tests/cluster/run.sh

cluster-or-skip: sluice tools
	@BUILD=$(BUILD) bash tests/cluster/run.sh --or-skip

# ASan+UBSan: the unit suites and the integration tests (daemons, CLI and
# test tools all from build/asan); a leak at exit or any report fails it.
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
# Reports go to files in ASAN_LOGS, so that a daemon's leak at exit fails
# the test that ran it (tests/integration/run.sh looks there).
ASAN_LOGS  := $(CURDIR)/build/asan/reports
ASAN_ENV   := ASAN_OPTIONS=detect_leaks=1:log_path=$(ASAN_LOGS)/asan \
              UBSAN_OPTIONS=print_stacktrace=1:log_path=$(ASAN_LOGS)/ubsan \
              SANITIZER_LOG_DIR=$(ASAN_LOGS)
asan:
	$(MAKE) BUILD=build/asan OPT="-O0 -g" SANITIZE="$(ASAN_FLAGS)" \
	    build/asan/tests/unit_tests build/asan/sluice \
	    $(TEST_TOOL_SRC:%.c=build/asan/%) $(TOOL_SRC:%.c=build/asan/%)
	@rm -rf $(ASAN_LOGS) && mkdir -p $(ASAN_LOGS)
	$(ASAN_ENV) build/asan/tests/unit_tests || { cat $(ASAN_LOGS)/*.* 2>/dev/null; exit 1; }
	@if ls $(ASAN_LOGS)/*.* >/dev/null 2>&1; then cat $(ASAN_LOGS)/*.*; \
	    echo "asan: the unit suites left sanitizer reports"; exit 1; fi
	$(ASAN_ENV) BUILD=build/asan SLUICE=$(CURDIR)/build/asan/sluice \
	    IT_JOBS=2 bash tests/integration/run.sh

# libFuzzer targets, built with clang into build/fuzz (a library build of
# their own), each run for FUZZ_SECONDS after replaying its regressions.
FUZZ_PKGS    := clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := envelope dag values peertext
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_RUN     := -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=16384 \
                -print_final_stats=1
fuzz:
	@sh mk/deps.sh $(DEB_PKGS) $(FUZZ_PKGS)
	$(MAKE) BUILD=build/fuzz CC=clang OPT="-O1 -g" SANITIZE="$(FUZZ_FLAGS)" \
	    $(FUZZ_TARGETS:%=build/fuzz/tests/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	    bin=build/fuzz/tests/fuzz/fuzz_$$t; \
	    regs=$$(ls tests/fuzz/regressions/$$t-* 2>/dev/null); \
	    if [ -n "$$regs" ]; then \
	        echo "fuzz: $$t: replaying $$(echo $$regs | wc -w) regressions"; \
	        $$bin $$regs 2>&1 | tail -n 3 || exit 1; \
	    fi; \
	    mkdir -p build/fuzz/corpus/$$t build/fuzz/crashes; \
	    echo "fuzz: $$t: $(FUZZ_SECONDS) s"; \
	    $$bin $(FUZZ_RUN) -artifact_prefix=build/fuzz/crashes/$$t- \
	        build/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	        >build/fuzz/$$t.log 2>&1 || { tail -n 60 build/fuzz/$$t.log; \
	        echo "fuzz: $$t failed; the input is in build/fuzz/crashes/"; \
	        exit 1; }; \
	    grep -E '^(stat::number_of_executed_units|Done)' build/fuzz/$$t.log; \
	done

$(BUILD)/tests/fuzz/%: $(BUILD)/tests/fuzz/%.o $(LIB_OBJ)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_ALL)

demo: sluice tools
	@BUILD=$(BUILD) sh examples/demo.sh

bench: sluice tools
	@BUILD=$(BUILD) sh tests/bench/bench.sh

# gnuplot draws its chart: a bench-only dependency, installed when missing.
bench-scale: sluice tools
	@sh mk/deps.sh $(DEB_PKGS) gnuplot-nox
	@BUILD=$(BUILD) bash tests/bench/bench_scale.sh

install: sluice
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 sluice $(DESTDIR)$(PREFIX)/bin/sluice

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && \
	    echo "format-check: every C file matches .clang-format"

clean:
	rm -rf build sluice

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) \
         $(TEST_TOOL_SRC:%.c=$(BUILD)/%.d)
# Keep intermediate objects (test tools) so a second make does nothing.
.SECONDARY:
