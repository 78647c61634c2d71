/* internal.h - declarations shared by every layer of libscalenecore.
 * Not installed.  Internal non-static functions carry the sc__ prefix. */
#ifndef SC_INTERNAL_H
#define SC_INTERNAL_H

#define SC_BUILDING_LIBRARY 1
#include "scalenecore.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* RETURN_ERROR_IF / FORWARD_IF_ERROR, zstd style. */
#define SC_RETURN_IF(cond, err) \
  do {                          \
    if (cond) return (err);     \
  } while (0)
#define SC_FORWARD_IF_ERROR(expr) \
  do {                            \
    int sc__rc_ = (expr);         \
    if (sc__rc_ < 0) return sc__rc_; \
  } while (0)

#define SC_UNUSED(x) ((void)(x))
#define SC_LIKELY(x) __builtin_expect(!!(x), 1)
#define SC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- memory: the library's own allocations never go through an
 * interposed malloc (a sampling allocator may be preloaded later), so they
 * go straight to glibc's implementation. */
void *sc__malloc(size_t n);
void *sc__calloc(size_t n, size_t sz);
void *sc__realloc(void *p, size_t n);
void sc__free(void *p);
char *sc__strdup(const char *s);
char *sc__strndup(const char *s, size_t n);

/* AddressSanitizer builds (gcc and clang): the library then takes all its
 * memory from the allocator ASan watches. */
#if defined(__SANITIZE_ADDRESS__)
#define SC__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SC__ASAN 1
#endif
#endif

/* ---- large buffers written once (document arenas, decompressed
 * payloads): from SC__PAGES_MIN bytes on, whole pages mapped from the
 * kernel with transparent huge pages asked for, so that filling them takes
 * one page fault per 2 MiB instead of one per 4 KiB (where the kernel
 * offers huge pages; elsewhere they are ordinary pages).  Smaller sizes,
 * and every size in AddressSanitizer builds, come from sc__malloc.  The
 * contents start undefined.  Free with sc__pages_free and the same n. */
#define SC__PAGES_MIN ((size_t)2 << 20)
void *sc__pages_alloc(size_t n);
void sc__pages_free(void *p, size_t n);

/* ---- growable arrays
 *
 * Make room for element `n` of the array `arr` (of `cap` elements): when
 * it is full, double it (`first` elements when it has none).  `arr` and
 * `cap` are lvalues (a size_t capacity).  0, or SC_ENOMEM with the array
 * unchanged. */
#define SC__GROW(arr, cap, n, first) sc__grow(&(arr), &(cap), (n), sizeof *(arr), (first))
int sc__grow(void *arrp, size_t *cap, size_t n, size_t size, size_t first);

/* ---- growable byte buffer */
typedef struct sc__buf {
  char *data;
  size_t len;
  size_t cap;
  int failed; /* sticky: an allocation failed */
} sc__buf;

void sc__buf_init(sc__buf *b);
void sc__buf_free(sc__buf *b);
int sc__buf_reserve(sc__buf *b, size_t extra);
void sc__buf_put(sc__buf *b, const void *p, size_t n);
void sc__buf_puts(sc__buf *b, const char *s);
void sc__buf_putc(sc__buf *b, char c);
void sc__buf_printf(sc__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Detach the NUL-terminated contents (caller frees with sc__free). */
char *sc__buf_take(sc__buf *b, size_t *len);

/* ---- atomic file replacement: write `len` bytes to a temporary file next
 * to `path`, fsync, rename over `path`. */
int sc__write_file_atomic(const char *path, const void *data, size_t len);
/* Read a whole file (NUL-terminated); SC_ENOENT / SC_EIO, SC_ERANGE when
 * it holds more than `max` bytes.  On failure errno still tells why. */
int sc__read_file(const char *path, char **data, size_t *len);
int sc__read_file_max(const char *path, size_t max, char **data, size_t *len);

/* ---- monotonic and CPU clocks in nanoseconds (async-signal-safe) */
uint64_t sc__now_ns(void);
uint64_t sc__thread_cpu_ns(void);
uint64_t sc__process_cpu_ns(void);
/* kernel-mode CPU time of the calling thread (getrusage RUSAGE_THREAD) */
uint64_t sc__thread_sys_ns(void);

#endif
