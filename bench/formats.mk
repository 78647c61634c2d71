# bench/formats.mk - size and load time of the profile formats
# (bench/formats.c).  Included by the Makefile.
#
#   make bench-formats                    2,000 files x 25 lines, best of 5
#   make bench-formats BENCH_FORMATS_ARGS="200 25 3"

.PHONY: bench-formats

BENCH_FORMATS_ARGS ?=

$(BUILD)/bench/formats: bench/formats.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -g -D_GNU_SOURCE -Iinclude $(DEP_CFLAGS) $< -o $@ $(STATIC) $(DEP_LIBS)

bench-formats: $(BUILD)/bench/formats
	$(BUILD)/bench/formats $(BENCH_FORMATS_ARGS)
