/* sc-test.h - what the unit tests share: a leak-checked test macro, a
 * small strict JSON reader to check exported profiles field by field, and
 * a fake language runtime (frames set by the test, resolved from static
 * "code objects") so sampling can be driven deterministically.
 *
 * Header-only on purpose: each tests/unit/test-*.c is one program. */
#ifndef SC_TEST_H
#define SC_TEST_H

#include <criterion/criterion.h>
#include <scalenecore.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* SC_TEST: a Criterion test whose body is followed by a leak check when    */
/* built with AddressSanitizer.  LeakSanitizer's own at-exit report comes   */
/* after Criterion has already recorded the test as passed, so it would     */
/* never fail anything (test-sanitize turns it off).                        */
/* ------------------------------------------------------------------------ */

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* Leak checking is conservative: a stale copy of a pointer left in a
 * scratch register (vector registers included: struct copies go through
 * them) hides a leak.  Zero the caller-saved registers first. */
static char sc_test_zero_src[65536], sc_test_zero_dst[65536];
__attribute__((noinline)) static void sc_test_clobber_stack(void) {
  volatile char junk[4096];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = 0;
  /* glibc's memcpy/memset keep data in the upper vector registers
   * (ymm16-31 on AVX-512 machines): run them over zeros, every size. */
  for (size_t n = 1; n <= sizeof sc_test_zero_src; n *= 2) {
    memcpy(sc_test_zero_dst, sc_test_zero_src, n);
    memmove(sc_test_zero_dst + 1, sc_test_zero_dst, n - 1);
    memset(sc_test_zero_dst, 0, n);
  }
#if defined(__x86_64__)
  __asm__ volatile(
      "xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
      "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t"
      "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d\n\t"
      "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
      "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
      "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\tpxor %%xmm8, %%xmm8\n\t"
      "pxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
      "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\t"
      "pxor %%xmm15, %%xmm15"
      ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm0", "xmm1", "xmm2",
        "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15", "memory");
#endif
}
static inline void sc_test_leak_check(void) {
  sc_test_clobber_stack();
  if (__lsan_do_recoverable_leak_check() != 0)
    cr_assert_fail("LeakSanitizer found leaks (report above)");
}
#else
static inline void sc_test_leak_check(void) {}
#endif

#define SC_TEST(suite, name, ...)                             \
  __attribute__((noinline)) static void suite##_##name##_body(void); \
  Test(suite, name, ##__VA_ARGS__) {                          \
    suite##_##name##_body();                                  \
    sc_test_leak_check();                                     \
  }                                                           \
  static void suite##_##name##_body(void)

/* ------------------------------------------------------------------------ */
/* Test data in tests/golden/, found from this header's own path, so the    */
/* tests run from any directory.                                            */
/* ------------------------------------------------------------------------ */

static inline void sc_test_golden_path(char *out, size_t n, const char *name) {
  const char *f = __FILE__; /* .../tests/unit/sc-test.h */
  const char *slash = strrchr(f, '/');
  snprintf(out, n, "%.*s%s../golden/%s", slash ? (int)(slash - f) : 0, f,
           slash ? "/" : "tests/unit/", name);
}

/* The whole file in an exactly-sized heap block, so that the sanitizer
 * sees any read past its end; with `nul`, one more byte holding '\0'.
 * `len` may be NULL. */
static inline char *sc_test_slurp(const char *path, size_t *len, int nul) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  cr_assert_eq(fseek(f, 0, SEEK_END), 0);
  long n = ftell(f);
  cr_assert_geq(n, 0);
  rewind(f);
  char *d = malloc((size_t)n + (nul ? 1 : 0) + (n == 0));
  cr_assert_not_null(d);
  cr_assert_eq(fread(d, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  if (nul) d[n] = '\0';
  if (len) *len = (size_t)n;
  return d;
}

static inline char *sc_test_golden(const char *name, size_t *len, int nul) {
  char path[4096];
  sc_test_golden_path(path, sizeof path, name);
  return sc_test_slurp(path, len, nul);
}

/* ------------------------------------------------------------------------ */
/* mj: a strict JSON reader (RFC 8259): no trailing commas, no duplicate    */
/* keys, no raw control characters, valid UTF-8 only, \u escapes decoded    */
/* (surrogate pairs joined, lone surrogates rejected).                      */
/* ------------------------------------------------------------------------ */

typedef enum mj_type { MJ_NULL, MJ_BOOL, MJ_NUM, MJ_STR, MJ_ARR, MJ_OBJ } mj_type;

typedef struct mj {
  mj_type type;
  int b;
  double num;
  char *str; /* decoded UTF-8, NUL-terminated (may hold NULs: see len) */
  size_t len;
  struct mj **items; /* arrays and objects */
  char **keys;       /* objects */
  size_t n;
} mj;

typedef struct mj_parser {
  const unsigned char *p, *end;
  int depth;
  const char *err;
} mj_parser;

static inline void mj_free(mj *v) {
  if (!v) return;
  free(v->str);
  for (size_t i = 0; i < v->n; i++) {
    mj_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v);
}

static inline mj *mj_new(mj_type t) {
  mj *v = calloc(1, sizeof *v);
  if (v) v->type = t;
  return v;
}

static inline void mj_ws(mj_parser *ps) {
  while (ps->p < ps->end &&
         (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

/* Length of the valid UTF-8 sequence at s, 0 if invalid (written
 * independently of the library's own checker on purpose). */
static inline size_t mj_utf8_seq(const unsigned char *s, size_t n) {
  if (s[0] < 0x80) return 1;
  size_t need;
  uint32_t cp;
  if (s[0] >= 0xC2 && s[0] <= 0xDF) { need = 2; cp = s[0] & 0x1F; }
  else if (s[0] >= 0xE0 && s[0] <= 0xEF) { need = 3; cp = s[0] & 0x0F; }
  else if (s[0] >= 0xF0 && s[0] <= 0xF4) { need = 4; cp = s[0] & 0x07; }
  else return 0;
  if (n < need) return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return need;
}

typedef struct mj_sbuf {
  char *d;
  size_t len, cap;
} mj_sbuf;

static inline void mj_sput(mj_sbuf *b, const void *p, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 32;
    while (cap < b->len + n + 1) cap *= 2;
    b->d = realloc(b->d, cap);
    b->cap = cap;
  }
  memcpy(b->d + b->len, p, n);
  b->len += n;
  b->d[b->len] = '\0';
}

static inline void mj_sput_cp(mj_sbuf *b, uint32_t cp) {
  unsigned char u[4];
  size_t n;
  if (cp < 0x80) { u[0] = (unsigned char)cp; n = 1; }
  else if (cp < 0x800) { u[0] = (unsigned char)(0xC0 | (cp >> 6)); u[1] = (unsigned char)(0x80 | (cp & 0x3F)); n = 2; }
  else if (cp < 0x10000) {
    u[0] = (unsigned char)(0xE0 | (cp >> 12)); u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp & 0x3F)); n = 3;
  } else {
    u[0] = (unsigned char)(0xF0 | (cp >> 18)); u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (unsigned char)(0x80 | (cp & 0x3F)); n = 4;
  }
  mj_sput(b, u, n);
}

static inline int mj_hex4(mj_parser *ps, uint32_t *out) {
  if (ps->end - ps->p < 4) return -1;
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    unsigned c = ps->p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  ps->p += 4;
  *out = v;
  return 0;
}

/* Parse a string at ps->p (which is at '"'); NULL on error. */
static inline char *mj_string(mj_parser *ps, size_t *len) {
  mj_sbuf b = {0};
  mj_sput(&b, "", 0);
  ps->p++; /* opening quote */
  for (;;) {
    if (ps->p >= ps->end) { ps->err = "unterminated string"; goto fail; }
    unsigned c = *ps->p;
    if (c == '"') { ps->p++; break; }
    if (c < 0x20) { ps->err = "raw control character in string"; goto fail; }
    if (c == '\\') {
      ps->p++;
      if (ps->p >= ps->end) { ps->err = "bad escape"; goto fail; }
      unsigned e = *ps->p++;
      char ch;
      switch (e) {
        case '"': ch = '"'; break;
        case '\\': ch = '\\'; break;
        case '/': ch = '/'; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'u': {
          uint32_t cp, lo;
          if (mj_hex4(ps, &cp) < 0) { ps->err = "bad \\u escape"; goto fail; }
          if (cp >= 0xDC00 && cp <= 0xDFFF) { ps->err = "lone low surrogate"; goto fail; }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') {
              ps->err = "lone high surrogate";
              goto fail;
            }
            ps->p += 2;
            if (mj_hex4(ps, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
              ps->err = "bad surrogate pair";
              goto fail;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          mj_sput_cp(&b, cp);
          continue;
        }
        default: ps->err = "bad escape"; goto fail;
      }
      mj_sput(&b, &ch, 1);
      continue;
    }
    size_t k = mj_utf8_seq(ps->p, (size_t)(ps->end - ps->p));
    if (!k) { ps->err = "invalid UTF-8 in string"; goto fail; }
    mj_sput(&b, ps->p, k);
    ps->p += k;
  }
  *len = b.len;
  return b.d;
fail:
  free(b.d);
  return NULL;
}

static inline mj *mj_value(mj_parser *ps);

static inline mj *mj_number(mj_parser *ps) {
  const unsigned char *s = ps->p;
  if (ps->p < ps->end && *ps->p == '-') ps->p++;
  if (ps->p >= ps->end) return NULL;
  if (*ps->p == '0') ps->p++;
  else if (*ps->p >= '1' && *ps->p <= '9') while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  else return NULL;
  if (ps->p < ps->end && *ps->p == '.') {
    ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return NULL;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    ps->p++;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return NULL;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
  }
  char tmp[64];
  size_t n = (size_t)(ps->p - s);
  if (n >= sizeof tmp) return NULL;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  mj *v = mj_new(MJ_NUM);
  v->num = strtod(tmp, NULL);
  return v;
}

static inline int mj_lit(mj_parser *ps, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0) return 0;
  ps->p += n;
  return 1;
}

static inline mj *mj_container(mj_parser *ps, int obj) {
  mj *v = mj_new(obj ? MJ_OBJ : MJ_ARR);
  size_t cap = 0;
  ps->p++;
  mj_ws(ps);
  if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
    ps->p++;
    return v;
  }
  for (;;) {
    char *key = NULL;
    size_t klen;
    mj_ws(ps);
    if (obj) {
      if (ps->p >= ps->end || *ps->p != '"') { ps->err = "expected a key"; goto fail; }
      if (!(key = mj_string(ps, &klen))) goto fail;
      for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0) { ps->err = "duplicate key"; free(key); goto fail; }
      mj_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') { ps->err = "expected ':'"; free(key); goto fail; }
      ps->p++;
    }
    mj *item = mj_value(ps);
    if (!item) { free(key); goto fail; }
    if (v->n == cap) {
      cap = cap ? cap * 2 : 8;
      v->items = realloc(v->items, cap * sizeof *v->items);
      if (obj) v->keys = realloc(v->keys, cap * sizeof *v->keys);
    }
    if (obj) v->keys[v->n] = key;
    v->items[v->n++] = item;
    mj_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
    if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
    ps->err = "expected ',' or a closing bracket";
    goto fail;
  }
fail:
  mj_free(v);
  return NULL;
}

static inline mj *mj_value(mj_parser *ps) {
  mj_ws(ps);
  if (ps->p >= ps->end) { ps->err = "unexpected end"; return NULL; }
  if (++ps->depth > 200) { ps->err = "too deep"; return NULL; }
  mj *v = NULL;
  unsigned c = *ps->p;
  if (c == '{' || c == '[') v = mj_container(ps, c == '{');
  else if (c == '"') {
    size_t len;
    char *s = mj_string(ps, &len);
    if (s) { v = mj_new(MJ_STR); v->str = s; v->len = len; }
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    if (!(v = mj_number(ps))) ps->err = "bad number";
  } else if (mj_lit(ps, "true")) { v = mj_new(MJ_BOOL); v->b = 1; }
  else if (mj_lit(ps, "false")) v = mj_new(MJ_BOOL);
  else if (mj_lit(ps, "null")) v = mj_new(MJ_NULL);
  else ps->err = "unexpected character";
  ps->depth--;
  return v;
}

/* Parse a whole document; NULL (and *err set when err is not NULL) if it
 * is not exactly one valid JSON value. */
static inline mj *mj_parse(const char *text, size_t len, const char **err) {
  mj_parser ps = {(const unsigned char *)text, (const unsigned char *)text + len, 0, NULL};
  mj *v = mj_value(&ps);
  if (v) {
    mj_ws(&ps);
    if (ps.p != ps.end) {
      ps.err = "trailing characters";
      mj_free(v);
      v = NULL;
    }
  }
  if (!v && err) *err = ps.err ? ps.err : "parse error";
  return v;
}

static inline const mj *mj_get(const mj *o, const char *key) {
  if (!o || o->type != MJ_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(o->keys[i], key) == 0) return o->items[i];
  return NULL;
}

static inline const mj *mj_at(const mj *a, size_t i) {
  if (!a || a->type != MJ_ARR || i >= a->n) return NULL;
  return a->items[i];
}

/* Number member `key` of `o`; fails the test when absent or not a number. */
static inline double mj_num(const mj *o, const char *key) {
  const mj *v = mj_get(o, key);
  cr_assert(v && v->type == MJ_NUM, "\"%s\" is missing or not a number", key);
  return v->num;
}

static inline const char *mj_str(const mj *o, const char *key) {
  const mj *v = mj_get(o, key);
  cr_assert(v && v->type == MJ_STR, "\"%s\" is missing or not a string", key);
  return v->str;
}

/* files[file] of a profile, or NULL. */
static inline const mj *prof_file(const mj *doc, const char *file) {
  return mj_get(mj_get(doc, "files"), file);
}

/* The line object with "lineno" == lineno in files[file].lines, or NULL. */
static inline const mj *prof_line(const mj *doc, const char *file, int lineno) {
  const mj *lines = mj_get(prof_file(doc, file), "lines");
  for (size_t i = 0; lines && i < lines->n; i++) {
    const mj *l = lines->items[i];
    const mj *ln = mj_get(l, "lineno");
    if (ln && ln->type == MJ_NUM && ln->num == lineno) return l;
  }
  return NULL;
}

/* The function object named fn in files[file].functions, or NULL. */
static inline const mj *prof_func(const mj *doc, const char *file, const char *fn) {
  const mj *funcs = mj_get(prof_file(doc, file), "functions");
  for (size_t i = 0; funcs && i < funcs->n; i++) {
    const mj *name = mj_get(funcs->items[i], "fn_name");
    if (name && name->type == MJ_STR && strcmp(name->str, fn) == 0) return funcs->items[i];
  }
  return NULL;
}

/* The entry of the top-level "threads" array with this tid, or NULL. */
static inline const mj *prof_thread(const mj *doc, long tid) {
  const mj *th = mj_get(doc, "threads");
  for (size_t i = 0; th && i < th->n; i++) {
    const mj *t = mj_get(th->items[i], "tid");
    if (t && t->type == MJ_NUM && t->num == (double)tid) return th->items[i];
  }
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* A fake language runtime                                                  */
/* ------------------------------------------------------------------------ */

/* A "code object": what a raw frame's `code` points at.  Static, so it
 * outlives every session, as the resolver contract requires. */
typedef struct fake_code {
  const char *file;
  const char *func;
  int32_t func_line;
  uint32_t flags; /* SC_FRAME_* that resolve() reports */
} fake_code;

#define FAKE_MAX_FRAMES 16

/* A thread of the fake runtime (the thread_ctx handed to sc_thread_register).
 * The test sets its frames with fake_stack(); capture() copies them. */
typedef struct fake_thread {
  _Atomic size_t n;
  sc_raw_frame_t frames[FAKE_MAX_FRAMES];
  _Atomic uint32_t capture_flags;
  _Atomic int capture_rc; /* what capture() returns */
} fake_thread;

/* Bookkeeping of resolve() calls, per distinct raw frame. */
typedef struct fake_runtime {
  atomic_int capture_calls;
  atomic_int resolve_calls;
  atomic_int resolve_rc; /* what resolve() returns */
  atomic_int bad_size;   /* resolve() saw out[i].size unset (asserted later:
                            resolve() may run on the core's ticker thread,
                            where a Criterion assertion must not fire) */
  /* resolve() runs on one thread at a time (the core's drain lock) */
  size_t nseen;
  sc_raw_frame_t seen[256];
  int seen_count[256];
} fake_runtime;

static inline int fake_capture(void *user, void *thread_ctx, sc_raw_frame_t *frames, size_t max,
                        size_t *n, uint32_t *flags) {
  fake_runtime *rt = user;
  fake_thread *ft = thread_ctx;
  atomic_fetch_add_explicit(&rt->capture_calls, 1, memory_order_relaxed);
  int rc = atomic_load_explicit(&ft->capture_rc, memory_order_relaxed);
  if (rc < 0) return rc;
  size_t k = atomic_load_explicit(&ft->n, memory_order_acquire);
  if (k > max) k = max;
  for (size_t i = 0; i < k; i++) frames[i] = ft->frames[i];
  *n = k;
  *flags = atomic_load_explicit(&ft->capture_flags, memory_order_relaxed);
  return 0;
}

static inline int fake_resolve(void *user, const sc_raw_frame_t *frames, size_t n, sc_frame_info_t *out) {
  fake_runtime *rt = user;
  atomic_fetch_add(&rt->resolve_calls, 1);
  for (size_t i = 0; i < n; i++) {
    size_t k;
    for (k = 0; k < rt->nseen; k++)
      if (rt->seen[k].code == frames[i].code && rt->seen[k].pos == frames[i].pos) break;
    if (k == rt->nseen && k < 256) rt->seen[rt->nseen++] = frames[i];
    if (k < 256) rt->seen_count[k]++;
  }
  int rc = atomic_load(&rt->resolve_rc);
  if (rc < 0) return rc;
  for (size_t i = 0; i < n; i++) {
    const fake_code *c = (const fake_code *)frames[i].code;
    if (out[i].size != sizeof(sc_frame_info_t)) atomic_store(&rt->bad_size, 1);
    out[i].file = c->file;
    out[i].function = c->func;
    out[i].line = (int32_t)frames[i].pos;
    out[i].function_line = c->func_line;
    out[i].flags = c->flags;
  }
  return 0;
}

/* How many times resolve() saw this raw frame. */
static inline int fake_resolved_count(const fake_runtime *rt, const fake_code *c, int line) {
  for (size_t k = 0; k < rt->nseen; k++)
    if (rt->seen[k].code == (uintptr_t)c && rt->seen[k].pos == line) return rt->seen_count[k];
  return 0;
}

/* Set the stack of `ft`, innermost first: fake_stack(ft, flags, &code, line,
 * &code, line, ..., NULL).  Safe against the thread's own signal handler
 * (n is 0 while frames change) and, when the thread is blocked, the
 * ticker. */
static inline void fake_stack(fake_thread *ft, uint32_t capture_flags, ...) {
  va_list ap;
  size_t k = 0;
  atomic_store_explicit(&ft->n, 0, memory_order_release);
  atomic_signal_fence(memory_order_seq_cst);
  va_start(ap, capture_flags);
  for (;;) {
    const fake_code *c = va_arg(ap, const fake_code *);
    if (!c) break;
    int line = va_arg(ap, int);
    cr_assert(k < FAKE_MAX_FRAMES);
    ft->frames[k].code = (uintptr_t)c;
    ft->frames[k].pos = line;
    k++;
  }
  va_end(ap);
  atomic_store_explicit(&ft->capture_flags, capture_flags, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);
  atomic_store_explicit(&ft->n, k, memory_order_release);
}

static inline sc_frame_resolver_t fake_resolver(fake_runtime *rt) {
  sc_frame_resolver_t r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  r.user = rt;
  r.capture = fake_capture;
  r.resolve = fake_resolve;
  return r;
}

/* Options from "name=value" strings (NULL-terminated list), set through
 * sc_option_find + sc_options_parse as a command line would. */
static inline sc_options_t *opts_from(const char *const *kv) {
  sc_options_t *o = NULL;
  cr_assert_eq(sc_options_create(&o), 0);
  for (size_t i = 0; kv && kv[i]; i++) {
    char name[64];
    const char *eq = strchr(kv[i], '=');
    cr_assert(eq && (size_t)(eq - kv[i]) < sizeof name, "bad option spec %s", kv[i]);
    memcpy(name, kv[i], (size_t)(eq - kv[i]));
    name[eq - kv[i]] = '\0';
    sc_option_t id;
    cr_assert_eq(sc_option_find(name, &id), 0, "unknown option %s", name);
    int rc = sc_options_parse(o, id, eq + 1);
    cr_assert_eq(rc, 0, "%s: %s", kv[i], sc_strerror(rc));
  }
  return o;
}

/* Start a session on the fake runtime with options "name=value"... */
static inline sc_session_t *fake_session(fake_runtime *rt, const char *const *kv) {
  sc_options_t *o = opts_from(kv);
  sc_frame_resolver_t r = fake_resolver(rt);
  sc_session_t *s = NULL;
  int rc = sc_session_start(&s, o, &r);
  sc_options_destroy(o);
  cr_assert_eq(rc, 0, "sc_session_start: %s", sc_strerror(rc));
  cr_assert_not_null(s);
  return s;
}

static inline sc_thread_t *fake_register(sc_session_t *s, fake_thread *ft, uint32_t flags, const char *name) {
  sc_thread_t *t = NULL;
  int rc = sc_thread_register(s, ft, flags, name, &t);
  cr_assert_eq(rc, 0, "sc_thread_register: %s", sc_strerror(rc));
  cr_assert_not_null(t);
  return t;
}

/* One manual sample of the calling thread. */
static inline void sample(sc_thread_t *t, uint64_t cpu_ns, uint64_t sys_ns, uint64_t blocked_ns,
                   uintptr_t pc) {
  sc_sample_info_t si;
  memset(&si, 0, sizeof si);
  si.size = sizeof si;
  si.cpu_ns = cpu_ns;
  si.sys_ns = sys_ns;
  si.blocked_ns = blocked_ns;
  si.pc = pc;
  int rc = sc_sample(t, &si);
  cr_assert_eq(rc, 0, "sc_sample: %s", sc_strerror(rc));
}

/* Export to a buffer and parse it; the caller frees with mj_free. */
static inline mj *export_doc(sc_session_t *s) {
  char *buf = NULL;
  size_t len = 0;
  int rc = sc_export_buffer(s, SC_FORMAT_JSON, &buf, &len);
  cr_assert_eq(rc, 0, "sc_export_buffer: %s", sc_strerror(rc));
  cr_assert_not_null(buf);
  cr_assert_eq(strlen(buf), len, "len matches the NUL-terminated text");
  const char *err = NULL;
  mj *doc = mj_parse(buf, len, &err);
  cr_assert_not_null(doc, "profile is not valid JSON (%s):\n%s", err, buf);
  sc_buffer_free(buf);
  return doc;
}

/* The library's percentage of one time: 100 * ns / total. */
static inline double pct_of(uint64_t ns, uint64_t total) {
  return 100.0 * (double)ns / (double)total;
}

static inline uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline long gettid_(void) { return (long)syscall(SYS_gettid); }

#define MS (1000000ull)

#endif
