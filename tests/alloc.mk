# tests/alloc.mk - the programs of the memory / native profiling tests,
# included by the Makefile.  tests/python/test_native.py runs them (so
# `make test-python`, and with it `make test`, builds them first):
#
#   build/examples/native_alloc   examples/native_alloc.c: a plain C program
#                                 profiled with `scalene run`
#   build/examples/alloc_hook     examples/alloc_hook.c: a C embedder reading
#                                 sc_alloc_hook events (run it with the
#                                 preload in LD_PRELOAD)
#   build/tests/alloc/torture     tests/alloc/torture.c: the preloaded
#                                 allocator under stress (LD_PRELOAD only;
#                                 it links nothing of ours)
#
#   make alloc-programs           builds the three

.PHONY: alloc-programs

ALLOC_CFLAGS := -std=c11 -Wall -Wextra -Werror -O1 -g -pthread
ALLOC_EXAMPLES := $(BUILD)/examples/native_alloc $(BUILD)/examples/alloc_hook
ALLOC_TORTURE := $(BUILD)/tests/alloc/torture
ALLOC_PROGRAMS := $(ALLOC_EXAMPLES) $(ALLOC_TORTURE)

alloc-programs: $(ALLOC_PROGRAMS) $(PRELOAD)

# Nothing of the library: the preload brings the profiler at run time.
$(BUILD)/examples/native_alloc: examples/native_alloc.c
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_CFLAGS) $< -o $@

$(BUILD)/examples/alloc_hook: examples/alloc_hook.c include/scalenecore.h $(SHARED) \
                              $(BUILD)/lib/libscalenecore.so
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_CFLAGS) -Iinclude $< -o $@ \
	  -L$(BUILD)/lib -lscalenecore -Wl,-rpath,$(abspath $(BUILD)/lib)

# lib/alloc/preload_abi.h only, to attach a sink of its own (-ldl for
# dlsym on glibc older than 2.34).  -fno-builtin: the compiler would
# otherwise delete malloc/free pairs whose memory is never read and inline
# small memcpys, and the allocator would not see what the test does.
$(ALLOC_TORTURE): tests/alloc/torture.c lib/alloc/preload_abi.h include/scalenecore.h
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_CFLAGS) -fno-builtin -D_GNU_SOURCE -Iinclude -Ilib $< -o $@ -ldl

# `make examples` builds these two examples as well.
examples: $(ALLOC_EXAMPLES)
