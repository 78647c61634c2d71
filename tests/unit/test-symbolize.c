/* test-symbolize.c - the native symbolizer (lib/symbolize): functions of
 * this very file resolved to their name, file, line and first line; a
 * return address to its call site; a libc function; an address in no
 * module; a library dlopen'ed after the symbolizer was opened; interned,
 * cached answers.  Built with -g -O1 (TEST_CFLAGS), so DWARF is there. */
#include <dlfcn.h>

#include "../../lib/symbolize/symbolize.h"
#include "sc-test.h"

TestSuite(symbolize, .timeout = 30);

/* What one lookup answered. */
typedef struct sym_result {
  int rc;
  const char *file, *function;
  int32_t line, function_line;
} sym_result;

static sym_result lookup(sc__sym *s, uintptr_t pc, int is_return_address) {
  sym_result r = {0, NULL, NULL, -1, -1};
  r.rc = sc__sym_lookup(s, pc, is_return_address, &r.file, &r.function, &r.line,
                        &r.function_line);
  return r;
}

static sc__sym *open_sym(void) {
  sc__sym *s = sc__sym_open();
  cr_assert_not_null(s, "sc__sym_open failed");
  return s;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The functions the tests resolve; their first lines are recorded with
 * __LINE__ right above them.  noinline and address-taken, so each keeps
 * its own body under its own name. */
enum { TARGET_LINE = __LINE__ + 1 };
__attribute__((noinline)) static int sym_target(int x) {
  return x * 7 + 3;
}

/* The caller's return address: the instruction after the call. */
__attribute__((noinline)) static uintptr_t caller_return_address(void) {
  uintptr_t ra = (uintptr_t)__builtin_return_address(0);
  __asm__ volatile("" : "+r"(ra)); /* no tail call, no folding */
  return ra;
}

/* Keeps sym_target's address taken and the function called. */
static int (*volatile target_ptr)(int) = sym_target;

SC_TEST(symbolize, function_of_this_file) {
  cr_assert_eq(target_ptr(1), 10);
  sc__sym *s = open_sym();
  sym_result r = lookup(s, (uintptr_t)sym_target, 0);
  cr_assert_eq(r.rc, 0, "lookup: %s", sc_strerror(r.rc));
  cr_assert_str_eq(r.function, "sym_target");
  cr_assert(ends_with(r.file, "tests/unit/test-symbolize.c"), "file %s", r.file);
  cr_assert_eq(r.file[0], '/', "file %s is not absolute", r.file);
  cr_assert_eq(r.function_line, TARGET_LINE);
  /* The entry address belongs to the line that opens the function or,
   * when optimisation leaves no prologue, to its first statement. */
  cr_assert(r.line == TARGET_LINE || r.line == TARGET_LINE + 1, "line %d, function on %d", r.line,
            TARGET_LINE);
  sc__sym_close(s);
}

SC_TEST(symbolize, return_address_names_the_call_site) {
  sc__sym *s = open_sym();
  const int call_line = __LINE__ + 1;
  uintptr_t ra = caller_return_address();
  sym_result r = lookup(s, ra, 1);
  cr_assert_eq(r.rc, 0, "lookup: %s", sc_strerror(r.rc));
  cr_assert_eq(r.line, call_line, "line %d, call on line %d", r.line, call_line);
  cr_assert_str_eq(r.function, "symbolize_return_address_names_the_call_site_body");
  cr_assert(ends_with(r.file, "tests/unit/test-symbolize.c"), "file %s", r.file);
  cr_assert_gt(r.function_line, 0);
  cr_assert_lt(r.function_line, call_line);
  sc__sym_close(s);
}

/* libc: DWARF only if libc6-dbg is installed, and then with relative
 * (prefix-mapped) paths, so the file is libc's own path either way. */
SC_TEST(symbolize, libc_function) {
  sc__sym *s = open_sym();
  void *pc = dlsym(RTLD_DEFAULT, "getpid");
  cr_assert_not_null(pc);
  sym_result r = lookup(s, (uintptr_t)pc, 0);
  cr_assert_eq(r.rc, 0, "lookup: %s", sc_strerror(r.rc));
  /* glibc defines __getpid and makes getpid an alias of it */
  cr_assert(strcmp(r.function, "getpid") == 0 || strcmp(r.function, "__getpid") == 0,
            "function %s", r.function);
  cr_assert(strstr(r.file, "libc"), "file %s", r.file);
  cr_assert_eq(r.file[0], '/', "file %s", r.file);
  cr_assert_eq(r.line, 0);
  cr_assert_eq(r.function_line, 0);
  sc__sym_close(s);
}

SC_TEST(symbolize, address_in_no_module_fails) {
  sc__sym *s = open_sym();
  sym_result r = lookup(s, 0x10, 0);
  cr_assert_eq(r.rc, SC_ENOENT, "rc %d", r.rc);
  cr_assert_null(r.file);
  cr_assert_null(r.function);
  /* cached failure: the same answer again */
  cr_assert_eq(lookup(s, 0x10, 0).rc, SC_ENOENT);
  cr_assert_eq(lookup(s, 0x11, 1).rc, SC_ENOENT);
  /* the symbolizer still works afterwards */
  cr_assert_eq(lookup(s, (uintptr_t)sym_target, 0).rc, 0);
  sc__sym_close(s);
}

SC_TEST(symbolize, bad_arguments) {
  sc__sym *s = open_sym();
  const char *f, *fn;
  int32_t l, fl;
  cr_assert_eq(sc__sym_lookup(NULL, (uintptr_t)sym_target, 0, &f, &fn, &l, &fl), SC_EINVAL);
  cr_assert_eq(sc__sym_lookup(s, (uintptr_t)sym_target, 0, NULL, &fn, &l, &fl), SC_EINVAL);
  cr_assert_eq(sc__sym_lookup(s, (uintptr_t)sym_target, 0, &f, NULL, &l, &fl), SC_EINVAL);
  cr_assert_eq(sc__sym_lookup(s, (uintptr_t)sym_target, 0, &f, &fn, NULL, &fl), SC_EINVAL);
  cr_assert_eq(sc__sym_lookup(s, (uintptr_t)sym_target, 0, &f, &fn, &l, NULL), SC_EINVAL);
  sc__sym_close(s);
  sc__sym_close(NULL);
}

/* Libraries the test process may not have loaded yet, each with one of
 * its functions.  The first one not already mapped is dlopen'ed. */
static const struct {
  const char *soname, *stem, *function;
} late_libs[] = {
    {"libzstd.so.1", "libzstd.so", "ZSTD_versionNumber"},
    {"libexpat.so.1", "libexpat.so", "XML_ExpatVersion"},
    {"libuuid.so.1", "libuuid.so", "uuid_generate"},
    {"libffi.so.8", "libffi.so", "ffi_call"},
    {"libz.so.1", "libz.so", "zlibVersion"},
    {"liblzma.so.5", "liblzma.so", "lzma_version_number"},
    {"libbz2.so.1.0", "libbz2.so", "BZ2_bzlibVersion"},
};

SC_TEST(symbolize, library_loaded_after_open) {
  sc__sym *s = open_sym();
  size_t i;
  void *h = NULL;
  for (i = 0; i < sizeof late_libs / sizeof late_libs[0]; i++) {
    void *loaded = dlopen(late_libs[i].soname, RTLD_LAZY | RTLD_NOLOAD);
    if (loaded) {
      dlclose(loaded); /* drops the reference RTLD_NOLOAD took */
      continue;
    }
    if ((h = dlopen(late_libs[i].soname, RTLD_NOW | RTLD_LOCAL))) break;
  }
  cr_assert_not_null(h, "no candidate library could be newly loaded");
  void *pc = dlsym(h, late_libs[i].function);
  cr_assert_not_null(pc, "%s: no %s", late_libs[i].soname, late_libs[i].function);

  /* Unknown at open: found through the re-report. */
  sym_result r = lookup(s, (uintptr_t)pc, 0);
  cr_assert_eq(r.rc, 0, "%s: %s", late_libs[i].soname, sc_strerror(r.rc));
  cr_assert_str_eq(r.function, late_libs[i].function);
  cr_assert_eq(r.file[0], '/', "file %s", r.file);
  if (r.line == 0) cr_assert(strstr(r.file, late_libs[i].stem), "file %s", r.file);
  /* Modules known before the re-report still resolve. */
  sym_result t = lookup(s, (uintptr_t)sym_target, 0);
  cr_assert_eq(t.rc, 0);
  cr_assert_str_eq(t.function, "sym_target");
  sc__sym_close(s);
  dlclose(h);
}

SC_TEST(symbolize, repeated_lookups_return_the_same_strings) {
  sc__sym *s = open_sym();
  uintptr_t pcs[] = {(uintptr_t)sym_target, (uintptr_t)dlsym(RTLD_DEFAULT, "getpid")};
  for (size_t k = 0; k < sizeof pcs / sizeof pcs[0]; k++) {
    sym_result first = lookup(s, pcs[k], 0);
    cr_assert_eq(first.rc, 0);
    for (int i = 0; i < 1000; i++) {
      sym_result again = lookup(s, pcs[k], 0);
      cr_assert_eq(again.rc, 0);
      cr_assert_eq(again.file, first.file, "file not cached");
      cr_assert_eq(again.function, first.function, "function not cached");
      cr_assert_eq(again.line, first.line);
      cr_assert_eq(again.function_line, first.function_line);
    }
  }
  /* Another pc of the same function: the same interned strings. */
  sym_result a = lookup(s, (uintptr_t)sym_target, 0);
  sym_result b = lookup(s, (uintptr_t)sym_target + 1, 0);
  cr_assert_eq(b.rc, 0);
  cr_assert_eq(b.function, a.function);
  cr_assert_eq(b.file, a.file);
  cr_assert_eq(b.function_line, a.function_line);
  sc__sym_close(s);
}
