# tests/fuzz.mk - libFuzzer targets, one per parser, and the golden files.
# Included by the Makefile (after its variables: BUILD, LIB_SRC, DEP_LIBS...).
#
#   make fuzz            every target for FUZZ_SECONDS (default 20) each
#   make fuzz-ci         every target for 60 s each (CI)
#   make fuzz-corpus     every target over the committed corpus only (fast)
#   make fuzz-build      build the targets only
#   make golden-regen    rewrite tests/golden/*.msgpack.zst and
#                        tests/golden/malformed/ (a format change: review)
#
# Targets: fuzz_json (JSON reader), fuzz_msgpack (MessagePack+zstd reader),
# fuzz_yaml (configuration files).  They are built with clang and
# -fsanitize=fuzzer,address,undefined against the library sources compiled
# with the same sanitizers into $(BUILD)/fuzz/ (with
# FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which lowers the readers' size
# limits so that one short input cannot make a huge legal document).  Each
# run reads the committed seeds of tests/fuzz/corpus/<target>/ and writes
# what it finds to $(BUILD)/fuzz/corpus/<target>/; a crash, leak, UB or
# timeout stops it and leaves the input in $(BUILD)/fuzz/artifacts/.

.PHONY: fuzz fuzz-ci fuzz-corpus fuzz-build golden-regen

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_CI_SECONDS ?= 60
FUZZ_TARGETS := json msgpack yaml
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# As in the sanitizer unit tests (tests/tests.mk): route the library's
# __libc_* allocations through the names ASan intercepts, so it sees the
# library's heap (overflows, use-after-free, leaks).
FUZZ_ALLOC := -D__libc_malloc=malloc -D__libc_calloc=calloc -D__libc_realloc=realloc \
              -D__libc_free=free
FUZZ_LIB_CFLAGS = $(CSTD) $(WARN) -O1 -g -D_GNU_SOURCE -Iinclude $(DEP_CFLAGS) \
                  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $(FUZZ_SAN) \
                  -fsanitize=fuzzer-no-link $(FUZZ_ALLOC)
FUZZ_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRC)) $(FUZZ_DIR)/obj/gen/html_template.o
FUZZ_LIB := $(FUZZ_DIR)/libscalenecore-fuzz.a
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:allocator_may_return_null=1 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# -timeout: one input may take at most this long; -rss_limit_mb: memory.
FUZZ_FLAGS := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

$(FUZZ_DIR)/obj/%.o: %.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/obj/gen/html_template.o: $(BUILD)/gen/html_template.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_LIB_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_OBJ)

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(CSTD) $(WARN) -O1 -g -D_GNU_SOURCE -Iinclude -Ilib $(DEP_CFLAGS) \
	  -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION $(FUZZ_SAN) -fsanitize=fuzzer \
	  $< -o $@ $(FUZZ_LIB) $(DEP_LIBS)

fuzz-build: $(FUZZ_BIN)

# $(1): seconds per target, $(2): extra libFuzzer flags
define sc_fuzz_run
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts; \
	  dict=""; [ -f tests/fuzz/$$t.dict ] && dict="-dict=tests/fuzz/$$t.dict"; \
	  echo "== fuzz_$$t for $(1) s"; \
	  $(FUZZ_ENV) $(FUZZ_DIR)/fuzz_$$t $(FUZZ_FLAGS) $(2) $$dict -max_total_time=$(1) \
	    -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- \
	    $(FUZZ_DIR)/corpus/$$t tests/fuzz/corpus/$$t; \
	done; echo "fuzz: every target ran $(1) s without a finding"
endef

fuzz: $(FUZZ_BIN)
	$(call sc_fuzz_run,$(FUZZ_SECONDS))

# CI pins the mutation seed: a run explores the same inputs every time, so
# CI turns red only when a change makes one of them fail, never by the luck
# of the draw.  `make fuzz` draws a new seed each run to explore further.
FUZZ_CI_SEED ?= 1
fuzz-ci: $(FUZZ_BIN)
	$(call sc_fuzz_run,$(FUZZ_CI_SECONDS),-seed=$(FUZZ_CI_SEED))

# Every committed seed once, plus the malformed golden files: a quick
# regression check that needs no fuzzing time.
fuzz-corpus: $(FUZZ_BIN)
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz_$$t over tests/fuzz/corpus/$$t"; \
	  $(FUZZ_ENV) $(FUZZ_DIR)/fuzz_$$t -runs=0 tests/fuzz/corpus/$$t 2>&1 | tail -n 2; \
	done

# ---- golden files ---------------------------------------------------------

GOLDEN_JSON := tests/golden/demo.json tests/golden/thread_join.json tests/golden/edge.json \
               tests/golden/memory.json

$(BUILD)/tools/mkgolden: tests/golden/mkgolden.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O1 -g -D_GNU_SOURCE -Iinclude $(DEP_CFLAGS) $< -o $@ $(STATIC) $(DEP_LIBS)

golden-regen: $(BUILD)/tools/mkgolden
	$(BUILD)/tools/mkgolden tests/golden $(GOLDEN_JSON)
