/* mem.c - the library's private allocation entry points and byte buffers.
 *
 * glibc exports its allocator under __libc_* names as well; calling those
 * keeps the library's own bookkeeping out of any malloc that a sampling
 * allocator preloads in front of glibc, so the core never re-enters it. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *sc__malloc(size_t n) { return __libc_malloc(n ? n : 1); }
void *sc__calloc(size_t n, size_t sz) { return __libc_calloc(n ? n : 1, sz ? sz : 1); }
void *sc__realloc(void *p, size_t n) { return __libc_realloc(p, n ? n : 1); }
void sc__free(void *p) {
  if (p) __libc_free(p);
}

char *sc__strndup(const char *s, size_t n) {
  char *d = sc__malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *sc__strdup(const char *s) { return sc__strndup(s, strlen(s)); }

void sc__buf_init(sc__buf *b) { memset(b, 0, sizeof *b); }

void sc__buf_free(sc__buf *b) {
  sc__free(b->data);
  sc__buf_init(b);
}

/* `arrp` points to any object pointer: it is read and written with memcpy,
 * as SC__GROW's callers hold arrays of many types. */
int sc__grow(void *arrp, size_t *cap, size_t n, size_t size, size_t first) {
  if (n < *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : first;
  if (ncap < *cap || ncap > SIZE_MAX / size) return SC_ENOMEM;
  void *old;
  memcpy(&old, arrp, sizeof old);
  void *arr = sc__realloc(old, ncap * size);
  if (!arr) return SC_ENOMEM;
  memcpy(arrp, &arr, sizeof arr);
  *cap = ncap;
  return 0;
}

int sc__buf_reserve(sc__buf *b, size_t extra) {
  if (b->failed) return SC_ENOMEM;
  if (b->len + extra + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1) cap *= 2;
  char *d = sc__realloc(b->data, cap);
  if (!d) {
    b->failed = 1;
    return SC_ENOMEM;
  }
  b->data = d;
  b->cap = cap;
  return 0;
}

void sc__buf_put(sc__buf *b, const void *p, size_t n) {
  if (sc__buf_reserve(b, n) < 0) return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void sc__buf_puts(sc__buf *b, const char *s) { sc__buf_put(b, s, strlen(s)); }

void sc__buf_putc(sc__buf *b, char c) { sc__buf_put(b, &c, 1); }

void sc__buf_printf(sc__buf *b, const char *fmt, ...) {
  va_list ap;
  char small[128];
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    sc__buf_put(b, small, (size_t)n);
    return;
  }
  if (sc__buf_reserve(b, (size_t)n) < 0) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

char *sc__buf_take(sc__buf *b, size_t *len) {
  if (b->failed) {
    sc__buf_free(b);
    return NULL;
  }
  if (!b->data && sc__buf_reserve(b, 0) < 0) return NULL;
  b->data[b->len] = '\0';
  char *d = b->data;
  if (len) *len = b->len;
  sc__buf_init(b);
  return d;
}
