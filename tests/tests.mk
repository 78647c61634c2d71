# tests/tests.mk - the C side of `make test`, included by the Makefile.
#
#   make test-c         unit tests (tests/unit/test-*.c, Criterion) against
#                       the static library
#   make test-sanitize  the same tests, library and tests rebuilt with
#                       AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-abi       exported symbols, header hygiene (C99 and C++11),
#                       ABI dump comparison (abidiff), install + pkg-config
#                       + the embedding example against the installed copy
#   make examples       build examples/ against the build tree
#   make abi-dump       regenerate tests/abi/symbols.txt and
#                       tests/abi/libscalenecore.abi (a deliberate act: see
#                       test-abi-dump below)
#
# Criterion runs every test in its own child process; each suite sets a
# .timeout and the runner gets --timeout as a fallback for tests without
# one.  Criterion prints its own "[====] Synthesis:" line per binary.

.PHONY: test test-c test-sanitize test-abi test-abi-symbols test-abi-header \
        test-abi-dump test-abi-install examples abi-dump

# Fuzzing (each parser 60 s under ASan+UBSan) runs before the Python
# suites so the run ends with pytest's own summary lines.
test: test-c test-sanitize test-abi fuzz-ci test-python test-browser

UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_HDR := $(wildcard tests/unit/*.h)
UNIT_NAMES := $(UNIT_SRC:tests/unit/%.c=%)
UNIT_TIMEOUT ?= 60
CRITERION_LIBS := -lcriterion
# Tests may include the library's internal headers ("common/value.h") and
# link its hidden sc__ functions, which the static archive still carries.
TEST_CFLAGS := -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -g -O1 \
               -D_GNU_SOURCE -pthread -Iinclude -Ilib

# Run every binary in $(1) (label $(2)) with the environment $(3); fail at
# the end if any suite failed, so every summary gets printed.
define sc_run_unit
	@fail=""; for t in $(1); do \
	  echo "== $(2): $$t"; \
	  $(3) $$t --timeout $(UNIT_TIMEOUT) -S || fail="$$fail $$(basename $$t)"; \
	done; \
	if [ -n "$$fail" ]; then echo "$(2): FAILED:$$fail"; exit 1; fi; \
	echo "$(2): every suite passed"
endef

# ---- plain unit tests ----------------------------------------------------

UNIT_BIN := $(UNIT_NAMES:%=$(BUILD)/tests/%)

$(UNIT_BIN): $(BUILD)/tests/%: tests/unit/%.c $(UNIT_HDR) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< -o $@ $(STATIC) $(CRITERION_LIBS) $(DEP_LIBS)

test-c: $(UNIT_BIN)
	$(call sc_run_unit,$(UNIT_BIN),test-c,)

# ---- sanitizers ----------------------------------------------------------

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# The library takes its memory from glibc's __libc_malloc & co. so that a
# preloaded sampling allocator never sees it (lib/common/mem.c).  ASan does
# not intercept those names: the library's whole heap would be invisible to
# it (no overflow, use-after-free or leak reports).  The sanitizer build
# maps them back to the intercepted names; nothing else changes.
SAN_ALLOC := -D__libc_malloc=malloc -D__libc_calloc=calloc -D__libc_realloc=realloc \
             -D__libc_free=free
# The library's own object list, mirrored under $(BUILD)/asan/obj (sources
# generated into $(BUILD), such as the HTML template, included).
SAN_OBJ := $(patsubst $(BUILD)/obj/%,$(BUILD)/asan/obj/%,$(OBJ))
SAN_STATIC := $(BUILD)/asan/lib/libscalenecore.a
SAN_BIN := $(UNIT_NAMES:%=$(BUILD)/asan/tests/%)
# Leaks fail a test through SC_TEST's explicit check after each test body
# (tests/unit/sc-test.h).  LeakSanitizer's at-exit check is off: it runs
# after Criterion has recorded the test as passed (so it would fail
# nothing), and in the runner it only sees Criterion's own allocations.
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:strict_string_checks=1 \
           LSAN_OPTIONS=leak_check_at_exit=0 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(BUILD)/asan/obj/%.o: %.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(SAN_ALLOC) -c $< -o $@

$(BUILD)/asan/obj/%.o: $(BUILD)/%.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(SAN_ALLOC) -c $< -o $@

$(SAN_STATIC): $(SAN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(SAN_OBJ)

$(SAN_BIN): $(BUILD)/asan/tests/%: tests/unit/%.c $(UNIT_HDR) $(SAN_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) $< -o $@ $(SAN_STATIC) $(CRITERION_LIBS) $(DEP_LIBS)

test-sanitize: $(SAN_BIN)
	$(call sc_run_unit,$(SAN_BIN),test-sanitize,$(SAN_ENV))

# ---- ABI -----------------------------------------------------------------

ABI_TMP := $(BUILD)/abi
# Public types only (those of include/), no paths or source locations, so
# the dump changes only when the ABI does.
ABIDW_FLAGS := --no-corpus-path --no-comp-dir-path --no-show-locs --drop-undefined-syms \
               --drop-private-types --headers-dir include --type-id-style hash

test-abi: test-abi-symbols test-abi-header test-abi-dump test-abi-install

# (a) the exported set is exactly tests/abi/symbols.txt; (b) everything
# exported is sc_<name>@@SCALENECORE_<node> (the node symbols aside) and
# no internal sc__ name leaks; the SC_API prototypes of the header and the
# exported functions are the same set.
test-abi-symbols: $(SHARED)
	@mkdir -p $(ABI_TMP)
	@nm -D --defined-only $(SHARED) | awk '{print $$3}' | LC_ALL=C sort > $(ABI_TMP)/symbols.txt
	@if ! diff -u tests/abi/symbols.txt $(ABI_TMP)/symbols.txt; then \
	  echo "test-abi: exported symbols differ from tests/abi/symbols.txt (- committed, + built)."; \
	  echo "  Removing or renaming one breaks the ABI.  An addition goes in a new version node"; \
	  echo "  of lib/scalenecore.map; then run 'make abi-dump' and commit both files."; \
	  exit 1; fi
	@bad=$$(grep -v -e '^SCALENECORE_[0-9][0-9.]*$$' \
	                -e '^sc_[a-z0-9][a-z0-9_]*@@*SCALENECORE_[0-9][0-9.]*$$' $(ABI_TMP)/symbols.txt || true); \
	 if [ -n "$$bad" ]; then \
	  echo "test-abi: exported outside sc_*, internal (sc__*) or unversioned:"; echo "$$bad"; exit 1; fi
	@grep '^SC_API' include/scalenecore.h | grep -o 'sc_[a-z0-9_]*(' | tr -d '(' \
	  | LC_ALL=C sort -u > $(ABI_TMP)/declared.txt
	@sed -n 's/^\(sc_[a-z0-9_]*\)@.*/\1/p' $(ABI_TMP)/symbols.txt | LC_ALL=C sort -u > $(ABI_TMP)/exported.txt
	@if ! diff -u $(ABI_TMP)/declared.txt $(ABI_TMP)/exported.txt; then \
	  echo "test-abi: SC_API prototypes in include/scalenecore.h (-) and exported functions (+) differ"; \
	  exit 1; fi
	@echo "test-abi: symbols OK ($$(wc -l < $(ABI_TMP)/exported.txt) functions, all versioned)"

# (c) the public header alone compiles as strict C99 and C++11 (gcc and,
# when installed, clang), included twice to exercise the include guard.
test-abi-header:
	@mkdir -p $(ABI_TMP)
	@printf '#include <scalenecore.h>\n#include <scalenecore.h>\n' > $(ABI_TMP)/header-only.c
	@cp $(ABI_TMP)/header-only.c $(ABI_TMP)/header-only.cpp
	$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -Wstrict-prototypes -Iinclude \
	  -c $(ABI_TMP)/header-only.c -o $(ABI_TMP)/header-c99.o
	$(CXX) -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude \
	  -c $(ABI_TMP)/header-only.cpp -o $(ABI_TMP)/header-cxx11.o
	@if command -v clang >/dev/null && command -v clang++ >/dev/null; then \
	  set -e; \
	  echo "clang -std=c99 / clang++ -std=c++11 (header only)"; \
	  clang -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -c $(ABI_TMP)/header-only.c -o $(ABI_TMP)/header-clang.o; \
	  clang++ -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -c $(ABI_TMP)/header-only.cpp -o $(ABI_TMP)/header-clangxx.o; \
	fi
	@echo "test-abi: header compiles alone as C99 and C++11"

# (d) abidiff of the built library against the committed dump.  Both
# sides are abidw dumps made with the same flags: comparing the XML with
# the binary itself (abidiff --headers-dir2 include) filtered a reordering
# of two members of sc_sample_info_t out as harmless, dump-to-dump does not.
#
# Policy: fail on ANY ABI change, not only on what abidiff calls
# incompatible.  abidiff sets exit bit 8 (ABIDIFF_ABI_INCOMPATIBLE_CHANGE)
# only when a function or variable symbol disappears.  Reordering members
# of a struct that callers allocate (sc_sample_info_t), narrowing a
# parameter from uintptr_t to uint32_t, or appending a member only set
# bit 4 (ABIDIFF_ABI_CHANGE) - all checked with abidiff 2.2 on this
# library - and the first two break every compiled caller.  So every
# change fails here, with abidiff's report.  A reviewed compatible change
# (a new function in a new version node, a member appended to a struct
# that starts with `size`, a new enumerator) is accepted by running
# `make abi-dump` and committing the new dump with the change; anything
# else needs a new SONAME.  Bits 1 and 2 mean abidiff itself failed.
test-abi-dump: $(SHARED)
	@mkdir -p $(ABI_TMP)
	@if ! readelf -S $(SHARED) | grep -q '\.debug_info'; then \
	  echo "test-abi: $(SHARED) has no DWARF; build with -g (the default CFLAGS have it)"; exit 1; fi
	@abidw $(ABIDW_FLAGS) --out-file $(ABI_TMP)/current.abi $(SHARED)
	@rc=0; abidiff tests/abi/libscalenecore.abi $(ABI_TMP)/current.abi \
	    > $(ABI_TMP)/abidiff.txt 2>&1 || rc=$$?; \
	 if [ $$((rc & 3)) -ne 0 ]; then \
	  cat $(ABI_TMP)/abidiff.txt; echo "test-abi: abidiff could not compare (exit $$rc)"; exit 1; fi; \
	 if [ $$((rc & 8)) -ne 0 ]; then \
	  cat $(ABI_TMP)/abidiff.txt; echo "test-abi: INCOMPATIBLE ABI change against tests/abi/libscalenecore.abi"; exit 1; fi; \
	 if [ $$((rc & 4)) -ne 0 ]; then \
	  cat $(ABI_TMP)/abidiff.txt; \
	  echo "test-abi: the ABI changed against tests/abi/libscalenecore.abi."; \
	  echo "  If every change above is compatible and intended, run 'make abi-dump' and commit it."; \
	  exit 1; fi
	@echo "test-abi: abidiff finds no change against tests/abi/libscalenecore.abi"

# (e) install into a temporary prefix, then build and run the embedding
# example (and a C++ and a static consumer) against the installed copy
# through pkg-config only.
test-abi-install:
	@MAKE="$(MAKE)" CC="$(CC)" CXX="$(CXX)" PYTHON="$(PYTHON)" VERSION="$(VERSION)" \
	  sh tests/abi/install-test.sh

abi-dump: $(SHARED)
	nm -D --defined-only $(SHARED) | awk '{print $$3}' | LC_ALL=C sort > tests/abi/symbols.txt
	abidw $(ABIDW_FLAGS) --out-file tests/abi/libscalenecore.abi $(SHARED)

# ---- examples --------------------------------------------------------------

EXAMPLE_BIN := $(BUILD)/examples/embed_toy

examples: $(EXAMPLE_BIN)

$(BUILD)/examples/%: examples/%.c include/scalenecore.h $(SHARED) $(BUILD)/lib/libscalenecore.so
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -g -pthread -Iinclude $< -o $@ \
	  -L$(BUILD)/lib -lscalenecore -Wl,-rpath,$(abspath $(BUILD)/lib)
