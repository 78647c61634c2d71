# bench/memory.mk - what memory profiling costs.  Included by the Makefile.
#
#   make bench-alloc     malloc/free throughput of the sampling allocator
#                        (bench/alloc_bench.c) against glibc and plain
#                        mimalloc, median of 7, interleaved
#   make bench-memory    bench-alloc, then bench/overhead.py --mode full:
#                        full profiling (CPU + memory + copy) of the Python
#                        programs against unprofiled runs
#
#   make bench-alloc BENCH_ALLOC_ARGS="--runs 9 --workloads small,mixed"
#   make bench-memory BENCH_MEMORY_ARGS="--runs 3 --compare-scalene"

.PHONY: bench-alloc bench-memory

BENCH_ALLOC_ARGS ?=
BENCH_MEMORY_ARGS ?=
MIMALLOC_SO ?= /usr/lib/x86_64-linux-gnu/libmimalloc.so.2

$(BUILD)/bench/alloc_bench: bench/alloc_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -D_GNU_SOURCE $< -o $@ -lpthread -lm -ldl

$(BUILD)/bench/liballoc_shim.so: bench/alloc_shim.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -fPIC -shared -fvisibility=hidden -fno-plt $< -o $@ -lmimalloc

bench-alloc: $(BUILD)/bench/alloc_bench $(BUILD)/bench/liballoc_shim.so $(PRELOAD)
	$(BUILD)/bench/alloc_bench --preload $(PRELOAD) --mimalloc $(MIMALLOC_SO) \
	  --shim $(BUILD)/bench/liballoc_shim.so \
	  --json $(BUILD)/bench-alloc-results.json $(BENCH_ALLOC_ARGS)

bench-memory: bench-alloc all
	$(PYTHON) bench/overhead.py --mode full --json $(BUILD)/bench-memory-results.json \
	  $(BENCH_MEMORY_ARGS)
