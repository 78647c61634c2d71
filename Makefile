# libscalenecore - plain Makefile (zstd style): PREFIX / DESTDIR / LIBDIR.
#
#   make              library (.so + .a) and the Python extension in-tree
#   make test         every test: C unit tests (also under ASan+UBSan),
#                     ABI checks, Python tests
#   make install PREFIX=/usr/local DESTDIR=
#   make bench        overhead benchmark against unprofiled runs
#   make test-all-pythons   Python tests on CPython 3.10-3.13 (pyenv)

VERSION_MAJOR := $(shell sed -n 's/^\#define SC_VERSION_MAJOR \([0-9]*\)/\1/p' include/scalenecore.h)
VERSION_MINOR := $(shell sed -n 's/^\#define SC_VERSION_MINOR \([0-9]*\)/\1/p' include/scalenecore.h)
VERSION_PATCH := $(shell sed -n 's/^\#define SC_VERSION_PATCH \([0-9]*\)/\1/p' include/scalenecore.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

CC ?= cc
PYTHON ?= $(if $(wildcard .venv/bin/python),$(CURDIR)/.venv/bin/python,python3)
BUILD ?= build
CSTD := -std=c11
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden -D_GNU_SOURCE -Iinclude $(DEP_CFLAGS)
# Dependencies come from Debian's packages, never vendored: libzstd-dev,
# libmsgpack-dev, libyaml-dev and libdw-dev through pkg-config; the preload
# also links libmimalloc-dev, which ships no .pc (-lmimalloc).
DEP_PKGS := libzstd msgpack yaml-0.1 libdw
DEP_CFLAGS := $(shell pkg-config --cflags $(DEP_PKGS))
DEP_LIBS := $(shell pkg-config --libs $(DEP_PKGS)) -lpthread -lrt -lm
REQUIRES_PRIVATE := $(DEP_PKGS)

LIB_SRC := $(wildcard lib/common/*.c lib/config/*.c lib/platform/*.c lib/sampling/*.c lib/export/*.c \
             lib/symbolize/*.c) lib/alloc/memory.c
LIB_HDR := $(wildcard include/*.h lib/*/*.h)
OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/html_template.o

# ---- the HTML report template, built into the library -------------------
HTML_TEMPLATE := $(wildcard lib/export/html/*)
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -o $@ $<

$(BUILD)/gen/html_template.c: lib/export/html/report.html $(BUILD)/tools/embed
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed sc__html_template < $< > $@

$(BUILD)/obj/gen/html_template.o: $(BUILD)/gen/html_template.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

SONAME := libscalenecore.so.$(VERSION_MAJOR)
PRELOAD := $(BUILD)/lib/libscalenecore_preload.so
PRELOAD_OBJ := $(BUILD)/obj/lib/alloc/preload.o $(BUILD)/obj/lib/alloc/autostart.o
SHARED := $(BUILD)/lib/libscalenecore.so.$(VERSION)
STATIC := $(BUILD)/lib/libscalenecore.a

.PHONY: all lib python install uninstall test test-c test-abi test-python test-sanitize \
        test-all-pythons bench bench-compare clean examples abi-dump

all: lib python

lib: $(SHARED) $(STATIC) $(BUILD)/lib/libscalenecore.so $(BUILD)/pkgconfig/scalenecore.pc $(PRELOAD)

$(BUILD)/obj/%.o: %.c $(LIB_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(SHARED): $(OBJ) lib/scalenecore.map
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $(OBJ) -Wl,-soname,$(SONAME) -Wl,--version-script=lib/scalenecore.map \
	  -Wl,--no-undefined $(DEP_LIBS)
	ln -sf libscalenecore.so.$(VERSION) $(BUILD)/lib/$(SONAME)

# The sampling allocator, loaded with LD_PRELOAD: malloc and friends from
# Debian's mimalloc (libmimalloc-dev ships no .pc: -lmimalloc), plus a copy
# of the core for programs that are not Python (alloc/autostart.c).  Only
# the allocator's symbols and its attach table are exported.
# The allocator's own entry points call mimalloc through the GOT, not the
# PLT: one jump fewer on every malloc and free.
$(BUILD)/obj/lib/alloc/preload.o: ALL_CFLAGS += -fno-plt

$(PRELOAD): $(PRELOAD_OBJ) $(OBJ) lib/alloc/preload.map
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $(PRELOAD_OBJ) $(OBJ) -Wl,--version-script=lib/alloc/preload.map \
	  -Wl,--no-undefined -lmimalloc $(DEP_LIBS) -ldl

$(BUILD)/lib/libscalenecore.so: $(SHARED)
	ln -sf $(SONAME) $@

$(STATIC): $(OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $(OBJ)

# The .pc bakes in the install paths: regenerate it whenever they change.
PC_STAMP := $(BUILD)/pkgconfig/paths-$(shell echo '$(PREFIX)|$(LIBDIR)|$(INCLUDEDIR)' | cksum | cut -d' ' -f1)
$(PC_STAMP):
	@mkdir -p $(dir $@)
	@rm -f $(BUILD)/pkgconfig/paths-*
	@touch $@

$(BUILD)/pkgconfig/scalenecore.pc: pkgconfig/scalenecore.pc.in include/scalenecore.h $(PC_STAMP)
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES_PRIVATE@|$(REQUIRES_PRIVATE)|' \
	    -e 's|@LIBS_PRIVATE@|-lpthread -lrt -lm|' $< > $@

# The Python extension, built in-tree against the static (PIC) library.
python: $(STATIC) $(PRELOAD)
	cd bindings/python && SCALENECORE_BUILD=$(abspath $(BUILD)) $(PYTHON) setup.py -q build_ext --inplace

install: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/scalenecore.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libscalenecore.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libscalenecore.so
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(PRELOAD) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(BUILD)/pkgconfig/scalenecore.pc $(DESTDIR)$(PKGCONFIGDIR)/

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/scalenecore.h $(DESTDIR)$(LIBDIR)/libscalenecore.* \
	      $(DESTDIR)$(LIBDIR)/libscalenecore_preload.so \
	      $(DESTDIR)$(PKGCONFIGDIR)/scalenecore.pc

# ---- tests ---------------------------------------------------------------
include tests/tests.mk
include tests/python.mk
include tests/fuzz.mk
include tests/alloc.mk
include bench/formats.mk
include bench/memory.mk

# ---- benchmarks ----------------------------------------------------------
bench: all
	$(PYTHON) bench/overhead.py

bench-compare: all
	$(PYTHON) bench/overhead.py --compare-scalene

clean:
	rm -rf $(BUILD) bindings/python/build bindings/python/scalene/*.so bindings/python/*.egg-info
