/*
 * torture.c - the preloaded sampling allocator (libscalenecore_preload.so,
 * lib/alloc/preload.c) under stress.  It links nothing of ours: run it
 * with the preload in LD_PRELOAD, in any of three ways
 *
 *   LD_PRELOAD=build/lib/libscalenecore_preload.so build/tests/alloc/torture
 *       no sink attached: nothing is sampled, every block is mimalloc's;
 *   ... SCALENE_NATIVE_OUTFILE=p.json SCALENE_ALLOCATION_SAMPLING_WINDOW=64 torture
 *       the preload's own core samples (a native session, as `scalene run`
 *       starts one): with a 64-byte window nearly every block is sampled
 *       and carries the 16-byte tagged header;
 *   ... SCALENE_ALLOCATION_SAMPLING_WINDOW=64 torture --own-sink
 *       this program attaches a sink of its own through the preload's
 *       table (lib/alloc/preload_abi.h): headers without the core, and
 *       the events are checked against the ABI's promises.
 *
 *   torture [--own-sink] [--list] [TEST...]     (default: every test)
 *
 * The last tests ("errno", "huge", "overaligned") cover requests that
 * fail or that mimalloc serves from memory outside its segment map;
 * "huge" and "overaligned" can abort the whole process when the preload
 * hands such a block to glibc, so they run late.  "window" (--own-sink
 * only) must run alone, as the first thing after attaching.
 *
 * Exits 0 when every check passed; otherwise prints "torture: FAIL ..."
 * lines on stderr and exits 1 (2: not preloaded, 3: a test hung and the
 * watchdog stopped the run).  Each test is bounded in time.
 *
 * Malloc inside a signal handler is not async-signal-safe in general;
 * the "signal" test only checks that the preload's layer adds no deadlock
 * or crash of its own.
 */
#define _GNU_SOURCE 1

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc/preload_abi.h"

/* glibc's own allocator, under the names the preload forwards foreign
 * pointers to. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t c, size_t s);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

/* ======================================================================== */
/* Reporting                                                                */
/* ======================================================================== */

static atomic_int g_failures;
static const char *volatile g_test = "startup";

#define FAIL(...)                                                        \
  do {                                                                   \
    flockfile(stderr);                                                   \
    fprintf(stderr, "torture: FAIL [%s] %s:%d: ", g_test, __func__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                                        \
    fputc('\n', stderr);                                                 \
    funlockfile(stderr);                                                 \
    atomic_fetch_add(&g_failures, 1);                                    \
  } while (0)

/* Each check reports its first three failures; later ones only count. */
#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (!(cond)) {                                              \
      static atomic_int seen_;                                  \
      if (atomic_fetch_add(&seen_, 1) < 3) FAIL(__VA_ARGS__);   \
      else atomic_fetch_add(&g_failures, 1);                    \
    }                                                           \
  } while (0)

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: a per-caller generator (no shared state, no locks). */
static uint64_t rnd(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545f4914f6cdd1dull;
}

static unsigned char pat(uint64_t seed, size_t i) {
  return (unsigned char)((seed * 131u + i * 7u + (i >> 8)) & 0xff);
}

static void fill(void *p, size_t n, uint64_t seed) {
  unsigned char *c = p;
  for (size_t i = 0; i < n; i++) c[i] = pat(seed, i);
}

/* Index of the first byte that differs from the pattern, or n. */
static size_t verify(const void *p, size_t n, uint64_t seed) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    if (c[i] != pat(seed, i)) return i;
  return n;
}

/* Requests that cannot succeed, and realloc through a pointer: hidden
 * from the compiler, which would otherwise reject the sizes or warn that a
 * block is used after a realloc (one that failed, here). */
static volatile size_t g_size_max = SIZE_MAX;
static void *(*volatile vrealloc)(void *, size_t) = realloc;
static void *(*volatile vreallocarray)(void *, size_t, size_t) = reallocarray;

static int aligned_to(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* ======================================================================== */
/* Watchdog: a test that makes no progress is a deadlock                     */
/* ======================================================================== */

static atomic_ulong g_progress;
static atomic_int g_watch_limit_s = 60;

static void progress(void) { atomic_fetch_add_explicit(&g_progress, 1, memory_order_relaxed); }

static void say(const char *s) {
  ssize_t r = write(2, s, strlen(s));
  (void)r;
}

/* Only write() and _exit(): it must work while the allocator is stuck. */
static void *watchdog(void *arg) {
  (void)arg;
  unsigned long last = 0;
  double since = now_s();
  for (;;) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    unsigned long p = atomic_load(&g_progress);
    if (p != last) {
      last = p;
      since = now_s();
    } else if (now_s() - since > atomic_load(&g_watch_limit_s)) {
      say("torture: FAIL [");
      say(g_test);
      say("] no progress for too long: deadlock or livelock\n");
      _exit(3);
    }
  }
  return NULL;
}

/* ======================================================================== */
/* An optional sink of our own (--own-sink)                                  */
/* ======================================================================== */

static const sc__preload_api *g_api;
static atomic_int g_own_attached;
static atomic_ullong g_ev[5], g_ev_bad;
static atomic_ullong g_ev_first_bad_kind;

/* The weight of the malloc and copy samples the sink saw on this thread. */
static __thread uint64_t tl_malloc_weight, tl_copy_weight;

/* Inside the allocator: no allocation, no lock, no stdio. */
static void own_sink(const sc__alloc_ev *ev) {
  int k = ev->kind;
  int bad = 0;
  if (k == SC__EV_MALLOC) tl_malloc_weight += ev->weight;
  if (k == SC__EV_COPY) tl_copy_weight += ev->weight;
  if (k < SC__EV_MALLOC || k > SC__EV_COPY) {
    bad = 1;
  } else {
    atomic_fetch_add_explicit(&g_ev[k], 1, memory_order_relaxed);
    if (ev->domain != SC__DOM_NATIVE) bad = 1;
    if (k == SC__EV_MALLOC && (!ev->addr || (ev->addr & 15) || ev->weight < ev->bytes)) bad = 1;
    if (k == SC__EV_FREE && (!ev->addr || (ev->addr & 15) || !ev->weight)) bad = 1;
    if (k == SC__EV_REALLOC && (!ev->addr || !ev->old_addr || (ev->addr & 15))) bad = 1;
    if ((k == SC__EV_MALLOC || k == SC__EV_COPY) && !ev->caller) bad = 1;
  }
  if (bad) {
    atomic_fetch_add(&g_ev_bad, 1);
    unsigned long long z = 0;
    atomic_compare_exchange_strong(&g_ev_first_bad_kind, &z, (unsigned long long)k);
  }
}

/* ======================================================================== */
/* The tests                                                                 */
/* ======================================================================== */

static const size_t k_sizes[] = {0,    1,     7,     8,     15,     16,      17,      24,
                                 100,  255,   512,   1000,  4095,   4096,    4097,    10000,
                                 65535, 65536, 100000, 262144, 1 << 20, 3 << 20, 9 << 20};
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])

static void test_calloc(void) {
  for (int round = 0; round < 20; round++) {
    for (size_t i = 0; i < NSIZES; i++) {
      size_t n = k_sizes[i];
      /* dirty memory of this size class first, so the allocator would
       * hand out garbage if it did not zero */
      void *d[4];
      for (int j = 0; j < 4; j++) {
        d[j] = malloc(n);
        CHECK(d[j] || n == 0, "malloc(%zu) failed", n);
        if (d[j]) memset(d[j], 0xA5, n);
      }
      for (int j = 0; j < 4; j++) free(d[j]);
      size_t elems = n >= 8 ? 8 : 1, each = n >= 8 ? n / 8 : n;
      unsigned char *p = calloc(elems, each);
      CHECK(p != NULL, "calloc(%zu, %zu) returned NULL", elems, each);
      if (!p) continue;
      size_t bad = elems * each;
      for (size_t k = 0; k < elems * each; k++)
        if (p[k]) {
          bad = k;
          break;
        }
      CHECK(bad == elems * each, "calloc(%zu, %zu): byte %zu is 0x%02x, not 0", elems, each, bad,
            p[bad]);
      memset(p, 0x5A, elems * each);
      free(p);
      progress();
    }
  }
  /* overflow of count * size */
  errno = 0;
  void *p = calloc(g_size_max / 2 + 2, 2);
  CHECK(p == NULL && errno == ENOMEM, "calloc overflow: %p, errno %d", p, errno);
  free(p);
}

/* Growth and shrink chains: the prefix survives every step. */
static void test_realloc(void) {
  enum { CHAINS = 64 };
  void *p[CHAINS];
  size_t n[CHAINS];
  uint64_t seed = 12345;
  for (int c = 0; c < CHAINS; c++) {
    n[c] = 1 + (size_t)(rnd(&seed) % 32);
    p[c] = malloc(n[c]);
    CHECK(p[c] != NULL, "malloc(%zu)", n[c]);
    fill(p[c], n[c], (uint64_t)c);
  }
  /* grow all the chains, interleaved, to 1-2 MiB, then shrink them back */
  for (int phase = 0; phase < 2; phase++) {
    for (int step = 0; step < 40; step++) {
      for (int c = 0; c < CHAINS; c++) {
        size_t want;
        if (phase == 0) {
          want = n[c] + n[c] / 2 + 1 + (size_t)(rnd(&seed) % 64);
          if (want > (2u << 20)) want = n[c];
        } else {
          want = n[c] - n[c] / 3;
          if (want == 0) want = 1;
        }
        void *q = realloc(p[c], want);
        CHECK(q != NULL, "realloc(%p, %zu) returned NULL", p[c], want);
        if (!q) continue;
        size_t keep = want < n[c] ? want : n[c];
        size_t bad = verify(q, keep, (uint64_t)c);
        CHECK(bad == keep, "chain %d: realloc %zu -> %zu lost byte %zu", c, n[c], want, bad);
        CHECK(malloc_usable_size(q) >= want, "usable %zu < %zu after realloc",
              malloc_usable_size(q), want);
        fill(q, want, (uint64_t)c);
        p[c] = q;
        n[c] = want;
      }
      progress();
    }
  }
  for (int c = 0; c < CHAINS; c++) free(p[c]);

  /* same size, and many small reallocs of one block (in-place growth) */
  char *s = malloc(1);
  size_t len = 0;
  for (int i = 0; i < 20000; i++) {
    char *t = realloc(s, len + 2);
    CHECK(t != NULL, "realloc(%zu)", len + 2);
    if (!t) break;
    s = t;
    s[len++] = (char)('a' + i % 26);
    s[len] = 0;
  }
  for (size_t i = 0; i < len; i++)
    if (s[i] != (char)('a' + i % 26)) {
      FAIL("byte-by-byte string: byte %zu is %d", i, s[i]);
      break;
    }
  char *t = realloc(s, len + 1);
  CHECK(t == s || t != NULL, "realloc to the same size failed");
  free(t ? t : s);

  /* aligned and zeroed blocks grow like any other */
  for (int i = 0; i < 200; i++) {
    void *a = NULL;
    size_t align = (size_t)1 << (4 + i % 13); /* 16 .. 64 KiB */
    CHECK(posix_memalign(&a, align, 100) == 0, "posix_memalign(%zu)", align);
    if (!a) continue;
    fill(a, 100, (uint64_t)i);
    void *b = realloc(a, 100000 + (size_t)i);
    CHECK(b != NULL && verify(b, 100, (uint64_t)i) == 100, "realloc of an aligned block");
    if (b) a = b;
    free(a);
    unsigned char *z = calloc(1, 300);
    if (z) z[0] = 1;
    unsigned char *y = realloc(z, 7000);
    CHECK(y && y[0] == 1 && y[1] == 0 && y[299] == 0, "realloc of a calloc'd block");
    free(y ? y : z);
  }
  progress();
}

static void test_realloc_edges(void) {
  for (int i = 0; i < 2000; i++) {
    size_t n = 1 + (size_t)(i * 37) % 5000;
    unsigned char *p = realloc(NULL, n); /* == malloc(n) */
    CHECK(p != NULL, "realloc(NULL, %zu) returned NULL", n);
    if (!p) continue;
    CHECK(malloc_usable_size(p) >= n, "realloc(NULL, %zu): usable %zu", n, malloc_usable_size(p));
    memset(p, 0x11, n);
    /* realloc(p, 0): glibc frees p and returns NULL; a non-NULL result
     * must be a block of its own that free() accepts */
    void *q = realloc(p, 0);
    free(q);
    progress();
  }
  void *z = realloc(NULL, 0);
  free(z);

  /* a request that cannot succeed leaves the block alone */
  for (int i = 0; i < 200; i++) {
    size_t n = 16 + (size_t)i * 11;
    void *p = malloc(n);
    CHECK(p != NULL, "malloc(%zu)", n);
    if (!p) continue;
    fill(p, n, 99);
    void *q = vrealloc(p, g_size_max - 4096 * (size_t)i);
    CHECK(q == NULL, "realloc(p, huge) = %p", q);
    CHECK(verify(p, n, 99) == n, "realloc(p, huge) damaged the block");
    free(q ? q : p);
  }
}

static void test_aligned(void) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t sizes[] = {0, 1, 8, 100, 1000, 4096, 5000, 65536, 200000};
  enum { NS = sizeof sizes / sizeof sizes[0] };
  for (int round = 0; round < 6; round++) {
    for (size_t align = 1; align <= 65536; align <<= 1) {
      for (int si = 0; si < NS; si++) {
        size_t n = sizes[si];
        void *p = NULL;
        if (align >= sizeof(void *)) {
          int rc = posix_memalign(&p, align, n);
          CHECK(rc == 0 && p, "posix_memalign(%zu, %zu) = %d", align, n, rc);
          if (p) {
            CHECK(aligned_to(p, align), "posix_memalign(%zu, %zu) = %p", align, n, p);
            CHECK(malloc_usable_size(p) >= n, "posix_memalign usable %zu < %zu",
                  malloc_usable_size(p), n);
            memset(p, 0x3C, n);
            free(p);
          }
        }
        p = aligned_alloc(align, n);
        CHECK(p || n == 0, "aligned_alloc(%zu, %zu) = NULL", align, n);
        if (p) {
          CHECK(aligned_to(p, align), "aligned_alloc(%zu, %zu) = %p", align, n, p);
          CHECK(malloc_usable_size(p) >= n, "aligned_alloc usable");
          memset(p, 0x3D, n);
          free(p);
        }
        /* memalign rounds an alignment that is no power of two up */
        size_t odd = align + align / 2 + 1, pow2 = 1;
        while (pow2 < odd) pow2 <<= 1;
        p = memalign(odd, n);
        CHECK(p || n == 0, "memalign(%zu, %zu) = NULL", odd, n);
        if (p) {
          CHECK(aligned_to(p, pow2 > 16 ? pow2 : 16), "memalign(%zu, %zu) = %p", odd, n, p);
          memset(p, 0x3E, n);
          free(p);
        }
      }
      progress();
    }
    for (int si = 0; si < NS; si++) {
      size_t n = sizes[si];
      void *p = valloc(n);
      CHECK(p != NULL, "valloc(%zu) = NULL", n);
      if (p) {
        CHECK(aligned_to(p, page), "valloc(%zu) = %p", n, p);
        memset(p, 0x41, n);
        free(p);
      }
      p = pvalloc(n);
      size_t rounded = n ? (n + page - 1) / page * page : page;
      CHECK(p != NULL, "pvalloc(%zu) = NULL", n);
      if (p) {
        CHECK(aligned_to(p, page), "pvalloc(%zu) = %p", n, p);
        CHECK(malloc_usable_size(p) >= rounded, "pvalloc(%zu): usable %zu < %zu", n,
              malloc_usable_size(p), rounded);
        memset(p, 0x42, rounded); /* pvalloc gives whole pages */
        free(p);
      }
    }
  }

  /* many big-alignment blocks live at once must not overlap */
  enum { LIVE = 48 };
  void *live[LIVE];
  for (int i = 0; i < LIVE; i++) {
    live[i] = NULL;
    size_t align = (size_t)1 << (10 + i % 7); /* 1 KiB .. 64 KiB */
    CHECK(posix_memalign(&live[i], align, 3000 + (size_t)i) == 0, "posix_memalign");
    if (live[i]) fill(live[i], 3000 + (size_t)i, (uint64_t)i + 7);
  }
  for (int i = 0; i < LIVE; i++) {
    if (!live[i]) continue;
    CHECK(verify(live[i], 3000 + (size_t)i, (uint64_t)i + 7) == 3000 + (size_t)i,
          "aligned block %d was overwritten", i);
    free(live[i]);
  }

  /* invalid requests */
  void *sentinel = (void *)0x1234, *p = sentinel;
  CHECK(posix_memalign(&p, 3, 8) == EINVAL && p == sentinel, "posix_memalign(3) not EINVAL");
  CHECK(posix_memalign(&p, 4, 8) == EINVAL && p == sentinel, "posix_memalign(4) not EINVAL");
  CHECK(posix_memalign(&p, 0, 8) == EINVAL && p == sentinel, "posix_memalign(0) not EINVAL");
  CHECK(posix_memalign(&p, 24, 8) == EINVAL && p == sentinel, "posix_memalign(24) not EINVAL");
  errno = 1234;
  int rc = posix_memalign(&p, 64, g_size_max - 100);
  CHECK(rc == ENOMEM && p == sentinel, "posix_memalign(huge) = %d", rc);
  CHECK(errno == 1234, "posix_memalign changed errno to %d", errno);
  errno = 0;
  p = aligned_alloc(3, 8);
  CHECK(p == NULL && errno == EINVAL, "aligned_alloc(3, 8) = %p, errno %d", p, errno);
  free(p);
}

static void test_usable(void) {
  CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL)");
  for (int round = 0; round < 4; round++) {
    for (size_t n = 0; n < 20000; n += 1 + n / 8) {
      unsigned char *p = malloc(n);
      CHECK(p != NULL, "malloc(%zu)", n);
      if (!p) continue;
      size_t u = malloc_usable_size(p);
      CHECK(u >= n, "malloc(%zu): usable %zu", n, u);
      memset(p, 0x77, u); /* every usable byte is the program's */
      free(p);
      p = calloc(1, n);
      u = p ? malloc_usable_size(p) : 0;
      CHECK(p && u >= n, "calloc(1, %zu): usable %zu", n, u);
      if (p) memset(p, 0x78, u);
      free(p);
    }
    progress();
  }
  for (size_t i = 0; i < NSIZES; i++) {
    void *p = malloc(k_sizes[i]);
    size_t u = p ? malloc_usable_size(p) : 0;
    CHECK(p && u >= k_sizes[i], "malloc(%zu): usable %zu", k_sizes[i], u);
    if (p) memset(p, 0x79, u);
    free(p);
  }
}

static void test_reallocarray(void) {
  for (int i = 0; i < 500; i++) {
    unsigned char *p = malloc(64);
    CHECK(p != NULL, "malloc(64)");
    if (!p) continue;
    fill(p, 64, 5);
    errno = 0;
    void *q = vreallocarray(p, g_size_max / 4 + 1, 8);
    CHECK(q == NULL && errno == ENOMEM, "reallocarray overflow: %p errno %d", q, errno);
    CHECK(verify(p, 64, 5) == 64, "reallocarray overflow damaged the block");
    q = reallocarray(p, 100, 40 + (size_t)i);
    CHECK(q != NULL, "reallocarray(p, 100, %d)", 40 + i);
    if (!q) {
      free(p);
      continue;
    }
    CHECK(verify(q, 64, 5) == 64, "reallocarray lost the contents");
    memset(q, 0, 100 * (40 + (size_t)i));
    free(q);
  }
  void *a = reallocarray(NULL, 3, 5);
  CHECK(a != NULL && malloc_usable_size(a) >= 15, "reallocarray(NULL, 3, 5)");
  free(a);
  errno = 0;
  a = vreallocarray(NULL, g_size_max / 2, 3);
  CHECK(a == NULL && errno == ENOMEM, "reallocarray(NULL, overflow): errno %d", errno);
  progress();
}

/* Pointers from glibc's own malloc, freed and resized through ours. */
static void test_foreign(void) {
  for (int i = 0; i < 3000; i++) {
    size_t n = 1 + (size_t)(i * 53) % 3000;
    void *p = __libc_malloc(n);
    CHECK(p != NULL, "__libc_malloc(%zu)", n);
    if (!p) continue;
    CHECK(malloc_usable_size(p) >= n, "usable size of a glibc block: %zu < %zu",
          malloc_usable_size(p), n);
    fill(p, n, (uint64_t)i);
    if (i % 3 == 0) {
      free(p);
    } else if (i % 3 == 1) {
      size_t m = n * 3 + 100;
      void *q = realloc(p, m);
      CHECK(q != NULL, "realloc of a glibc block to %zu", m);
      if (!q) {
        __libc_free(p);
        continue;
      }
      CHECK(verify(q, n, (uint64_t)i) == n, "realloc of a glibc block lost its contents");
      CHECK(malloc_usable_size(q) >= m, "usable after realloc of a glibc block");
      memset(q, 1, m);
      q = realloc(q, n / 2 + 1); /* and shrink it */
      CHECK(q != NULL, "shrinking a glibc block");
      free(q);
    } else {
      void *q = realloc(p, 0); /* frees it */
      free(q);
    }
    if (i % 50 == 0) progress();
  }
  /* big (mmapped by glibc), zeroed and aligned glibc blocks */
  for (int i = 0; i < 50; i++) {
    void *big = __libc_malloc((size_t)(1 << 20) + (size_t)i * 4096);
    CHECK(big != NULL, "__libc_malloc(1 MiB)");
    if (big) memset(big, 2, 1 << 20);
    free(big);
    unsigned char *z = __libc_calloc(10, 10);
    CHECK(z != NULL, "__libc_calloc");
    if (z) {
      unsigned char *y = realloc(z, 5);
      CHECK(y != NULL && y[0] == 0 && y[4] == 0, "shrinking a glibc calloc block");
      free(y ? y : z);
    }
    void *a = __libc_memalign(64, 200);
    CHECK(a != NULL, "__libc_memalign");
    free(a);
  }
  progress();
}

/* ---- threads ----------------------------------------------------------- */

#define NTHREADS 8
#define SLOTS 256
static _Atomic(uintptr_t) g_slots[SLOTS];

/* A block carries its size and a magic word, checked by whoever frees it. */
struct stamp {
  uint64_t magic;
  uint64_t size;
};
#define MAGIC 0x5ca1e5ca1ec0feeull

static void *stamped(size_t n, int how, uint64_t *seed) {
  if (n < sizeof(struct stamp) + 1) n = sizeof(struct stamp) + 1;
  void *p = NULL;
  switch (how) {
  case 0:
    p = malloc(n);
    break;
  case 1:
    p = calloc(1, n);
    break;
  case 2:
    if (posix_memalign(&p, (size_t)64 << (rnd(seed) % 6), n) != 0) p = NULL;
    break;
  default:
    p = realloc(NULL, n);
    break;
  }
  if (!p) return NULL;
  struct stamp st = {MAGIC ^ n, n};
  memcpy(p, &st, sizeof st);
  ((unsigned char *)p)[n - 1] = (unsigned char)(n ^ 0x5a);
  return p;
}

static int stamp_ok(const void *p) {
  struct stamp st;
  memcpy(&st, p, sizeof st);
  if (st.magic != (MAGIC ^ st.size) || st.size > (64u << 20)) return 0;
  return ((const unsigned char *)p)[st.size - 1] == (unsigned char)(st.size ^ 0x5a);
}

static size_t pick_size(uint64_t *seed) {
  uint64_t r = rnd(seed) % 1000;
  if (r < 800) return 1 + (size_t)(rnd(seed) % 512);
  if (r < 990) return 512 + (size_t)(rnd(seed) % 65536);
  return 65536 + (size_t)(rnd(seed) % (1 << 20));
}

static atomic_int g_thread_ops_failed;

static void *hammer(void *arg) {
  uintptr_t id = (uintptr_t)arg;
  uint64_t seed = 0x9e3779b97f4a7c15ull * (id + 1);
  void *local[32] = {0};
  for (int i = 0; i < 60000; i++) {
    uint64_t r = rnd(&seed);
    if (r % 4 == 0) {
      /* local alloc / free */
      int k = (int)(rnd(&seed) % 32);
      if (local[k]) {
        if (!stamp_ok(local[k])) atomic_fetch_add(&g_thread_ops_failed, 1);
        free(local[k]);
      }
      local[k] = stamped(pick_size(&seed), (int)(rnd(&seed) % 4), &seed);
    } else {
      /* hand a block to whichever thread comes next to this slot */
      void *p = stamped(pick_size(&seed), (int)(rnd(&seed) % 4), &seed);
      if (!p) {
        atomic_fetch_add(&g_thread_ops_failed, 1);
        continue;
      }
      uintptr_t old = atomic_exchange(&g_slots[rnd(&seed) % SLOTS], (uintptr_t)p);
      if (old) {
        void *q = (void *)old;
        if (!stamp_ok(q)) atomic_fetch_add(&g_thread_ops_failed, 1);
        if (r % 7 == 0) { /* resize another thread's block, then free it */
          struct stamp st;
          memcpy(&st, q, sizeof st);
          void *g = realloc(q, (size_t)st.size * 2);
          if (!g) {
            atomic_fetch_add(&g_thread_ops_failed, 1);
            free(q);
          } else {
            if (!stamp_ok(g)) atomic_fetch_add(&g_thread_ops_failed, 1);
            free(g);
          }
        } else {
          free(q);
        }
      }
    }
    if (i % 1000 == 0) progress();
  }
  for (int k = 0; k < 32; k++) {
    if (local[k] && !stamp_ok(local[k])) atomic_fetch_add(&g_thread_ops_failed, 1);
    free(local[k]);
  }
  return NULL;
}

static void test_threads(void) {
  pthread_t th[NTHREADS];
  for (uintptr_t i = 0; i < NTHREADS; i++)
    CHECK(pthread_create(&th[i], NULL, hammer, (void *)i) == 0, "pthread_create");
  for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < SLOTS; i++) {
    void *p = (void *)atomic_exchange(&g_slots[i], 0);
    if (p) {
      CHECK(stamp_ok(p), "slot %d: damaged block", i);
      free(p);
    }
  }
  CHECK(atomic_load(&g_thread_ops_failed) == 0, "%d damaged blocks or failed allocations",
        atomic_load(&g_thread_ops_failed));
}

/* ---- fork ---------------------------------------------------------------- */

static atomic_int g_stop_hammer;

static void *busy_hammer(void *arg) {
  uint64_t seed = (uintptr_t)arg * 7919 + 1;
  while (!atomic_load_explicit(&g_stop_hammer, memory_order_relaxed)) {
    void *p = stamped(pick_size(&seed), (int)(rnd(&seed) % 4), &seed);
    if (p) {
      void *q = realloc(p, 100 + (size_t)(rnd(&seed) % 5000));
      free(q ? q : p);
    }
  }
  return NULL;
}

static void *child_thread(void *arg) {
  (void)arg;
  for (int i = 0; i < 2000; i++) free(malloc((size_t)i + 1));
  return NULL;
}

/* In the child: the allocator must work, for blocks of before the fork
 * too.  Returns the exit status. */
static int child_work(void **pre, int npre) {
  int bad = 0;
  for (int i = 0; i < npre; i++)
    if (verify(pre[i], 1000 + (size_t)i, (uint64_t)i) != 1000 + (size_t)i) bad = 10;
  for (int i = 0; i < npre; i += 2) free(pre[i]);
  for (int i = 1; i < npre; i += 2) {
    void *q = realloc(pre[i], 50000);
    if (!q || verify(q, 1000 + (size_t)i, (uint64_t)i) != 1000 + (size_t)i) bad = 11;
    free(q);
  }
  uint64_t seed = (uint64_t)getpid();
  for (int i = 0; i < 5000; i++) {
    void *p = stamped(pick_size(&seed), (int)(rnd(&seed) % 4), &seed);
    if (!p || !stamp_ok(p)) bad = 12;
    free(p);
  }
  pthread_t t;
  if (pthread_create(&t, NULL, child_thread, NULL) != 0) return 13;
  pthread_join(t, NULL);
  return bad;
}

static void test_fork(void) {
  enum { HAMMERS = 4, ROUNDS = 30, NPRE = 16 };
  atomic_store(&g_stop_hammer, 0);
  pthread_t th[HAMMERS];
  for (uintptr_t i = 0; i < HAMMERS; i++)
    CHECK(pthread_create(&th[i], NULL, busy_hammer, (void *)i) == 0, "pthread_create");
  int hung = 0;
  for (int round = 0; round < ROUNDS && !hung; round++) {
    void *pre[NPRE];
    for (int i = 0; i < NPRE; i++) {
      pre[i] = malloc(1000 + (size_t)i);
      if (pre[i]) fill(pre[i], 1000 + (size_t)i, (uint64_t)i);
    }
    struct timespec pause = {0, 2 * 1000 * 1000}; /* let the threads get going */
    nanosleep(&pause, NULL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
      FAIL("fork: %s", strerror(errno));
      break;
    }
    if (pid == 0) {
      int st = child_work(pre, NPRE);
      if (round % 5 == 4) exit(st); /* atexit handlers and stdio, too */
      _exit(st);
    }
    for (int i = 0; i < NPRE; i++) free(pre[i]);
    /* wait, bounded: a child stuck in the allocator is the bug we look for */
    double until = now_s() + 10.0;
    int status = 0;
    pid_t w = 0;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_s() < until) {
      struct timespec ts = {0, 1000 * 1000};
      nanosleep(&ts, NULL);
      progress();
    }
    if (w == 0) {
      FAIL("round %d: the child forked from a multi-threaded parent hung for 10 s "
           "(deadlock after fork); killed it", round);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      hung = 1;
    } else if (w < 0) {
      FAIL("waitpid: %s", strerror(errno));
    } else if (WIFSIGNALED(status)) {
      FAIL("round %d: the child died of signal %d", round, WTERMSIG(status));
    } else {
      CHECK(WEXITSTATUS(status) == 0, "round %d: the child's checks failed (status %d)", round,
            WEXITSTATUS(status));
    }
    progress();
  }
  atomic_store(&g_stop_hammer, 1);
  for (int i = 0; i < HAMMERS; i++) pthread_join(th[i], NULL);
}

/* ---- malloc in a signal handler ----------------------------------------- */

static atomic_ulong g_handler_runs, g_handler_bad;

static void on_alarm(int sig) {
  (void)sig;
  int saved = errno;
  static __thread uint64_t seed = 77;
  /* sizes of other size classes than the main loop's (see below) */
  size_t n = 2048 + (size_t)(rnd(&seed) % 2048);
  unsigned char *p = malloc(n);
  if (p) {
    p[0] = 1;
    p[n - 1] = 2;
    unsigned char *q = realloc(p, n + 3000);
    if (q) {
      if (q[0] != 1 || q[n - 1] != 2) atomic_fetch_add(&g_handler_bad, 1);
      p = q;
    }
    free(p);
  } else {
    atomic_fetch_add(&g_handler_bad, 1);
  }
  void *z = calloc(1, 3000);
  free(z);
  atomic_fetch_add(&g_handler_runs, 1);
  errno = saved;
}

static void test_signal(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");
  struct itimerval it = {{0, 1000}, {0, 1000}}; /* every 1 ms */
  CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
  /* The main loop keeps blocks of 1..256 bytes live while it allocates
   * and frees more of them: it stays on mimalloc's fast paths, whose
   * thread-local free lists a handler allocating the same sizes could
   * corrupt (that is mimalloc's own limit, not the preload's). */
  enum { KEEP = 64 };
  void *keep[KEEP];
  uint64_t seed = 4242;
  for (int i = 0; i < KEEP; i++) keep[i] = malloc(1 + (size_t)(rnd(&seed) % 256));
  double until = now_s() + 1.5;
  unsigned long iters = 0;
  while (now_s() < until) {
    for (int i = 0; i < 256; i++) {
      int k = (int)(rnd(&seed) % KEEP);
      size_t n = 1 + (size_t)(rnd(&seed) % 256);
      void *p = malloc(n);
      if (!p) {
        FAIL("malloc(%zu) in the main loop", n);
        continue;
      }
      memset(p, 0x66, n);
      free(keep[k]);
      keep[k] = p;
      iters++;
    }
    progress();
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  signal(SIGALRM, SIG_IGN);
  for (int i = 0; i < KEEP; i++) free(keep[i]);
  unsigned long runs = atomic_load(&g_handler_runs);
  printf("torture: signal: %lu handler runs, %lu main-loop allocations\n", runs, iters);
  CHECK(runs >= 100, "the SIGALRM handler ran only %lu times in 1.5 s", runs);
  CHECK(atomic_load(&g_handler_bad) == 0, "%lu bad blocks in the handler",
        atomic_load(&g_handler_bad));
}

/* ---- memcpy / memmove ------------------------------------------------------ */

/* Called through volatile pointers so that the compiler cannot expand
 * them inline: the interposed symbols must do the work. */
static void *(*volatile vmemcpy)(void *, const void *, size_t) = memcpy;
static void *(*volatile vmemmove)(void *, const void *, size_t) = memmove;

static void ref_move(unsigned char *d, const unsigned char *s, size_t n, unsigned char *tmp) {
  for (size_t i = 0; i < n; i++) tmp[i] = s[i];
  for (size_t i = 0; i < n; i++) d[i] = tmp[i];
}

static void test_memcpy(void) {
  const size_t big = (2u << 20) + 64;
  unsigned char *a = malloc(3 * big), *b = malloc(3 * big), *tmp = malloc(big);
  CHECK(a && b && tmp, "malloc");
  if (!a || !b || !tmp) return;
  size_t sizes[200];
  int ns = 0;
  for (size_t n = 0; n <= 130; n++) sizes[ns++] = n;
  const size_t more[] = {255, 256, 257, 511, 1023, 4095, 4096, 4097, 65535, 65536 + 3,
                         (1u << 20) + 5, 2u << 20};
  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) sizes[ns++] = more[i];
  for (int si = 0; si < ns; si++) {
    size_t n = sizes[si];
    int deltas_small = n <= 130;
    for (int so = 0; so < (deltas_small ? 9 : 3); so++) {
      /* memcpy: disjoint */
      fill(a, 3 * big > 2 * n + 64 ? 2 * n + 64 : 3 * big, (uint64_t)n);
      memset(b, 0, n + 64);
      void *r = vmemcpy(b + so, a + 3 * so, n);
      CHECK(r == b + so, "memcpy returned %p, not dest", r);
      CHECK(memcmp(b + so, a + 3 * so, n) == 0, "memcpy of %zu bytes (offset %d) differs", n, so);
      CHECK(b[so + n] == 0 && (so == 0 || b[so - 1] == 0), "memcpy wrote outside [d, d+%zu)", n);
      /* memmove: overlapping, both directions */
      const int deltas[] = {-33, -17, -8, -3, -1, 0, 1, 2, 7, 16, 31, 64};
      for (size_t di = 0; di < sizeof deltas / sizeof deltas[0]; di++) {
        size_t base = 128 + (size_t)so;
        size_t src = base, dst = (size_t)((ptrdiff_t)base + deltas[di]);
        fill(a, n + 256, (uint64_t)(n + di));
        memcpy(b, a, n + 256);
        ref_move(b + dst, b + src, n, tmp);
        r = vmemmove(a + dst, a + src, n);
        CHECK(r == a + dst, "memmove returned %p, not dest", r);
        CHECK(memcmp(a, b, n + 256) == 0, "memmove of %zu bytes by %d (offset %d) differs", n,
              deltas[di], so);
      }
    }
    progress();
  }
  free(a);
  free(b);
  free(tmp);
}

/* ---- errno and odd requests -------------------------------------------------- */

/* POSIX: a failed malloc, calloc, realloc, aligned_alloc, memalign,
 * valloc or pvalloc sets errno to ENOMEM (glibc does). */
static void test_errno(void) {
  const size_t huge = g_size_max - 8192;
  for (int i = 0; i < 20; i++) {
    errno = 0;
    void *p = malloc(huge - (size_t)i * 4096);
    CHECK(p == NULL && errno == ENOMEM, "malloc(SIZE_MAX - %d pages): %p, errno %d (%s)", i + 2,
          p, errno, strerror(errno));
    free(p);
    errno = 0;
    p = malloc(g_size_max / 2 + 1);
    CHECK(p == NULL && errno == ENOMEM, "malloc(PTRDIFF_MAX + 1): %p, errno %d (%s)", p, errno,
          strerror(errno));
    free(p);
    errno = 0;
    p = calloc(1, huge);
    CHECK(p == NULL && errno == ENOMEM, "calloc(1, huge): %p, errno %d (%s)", p, errno,
          strerror(errno));
    free(p);
    void *b = malloc(100);
    errno = 0;
    p = vrealloc(b, huge);
    CHECK(p == NULL && errno == ENOMEM, "realloc(p, huge): %p, errno %d (%s)", p, errno,
          strerror(errno));
    free(p ? p : b);
    errno = 0;
    p = aligned_alloc(64, huge);
    CHECK(p == NULL && errno == ENOMEM, "aligned_alloc(64, huge): %p, errno %d (%s)", p, errno,
          strerror(errno));
    free(p);
    errno = 0;
    p = memalign(64, huge);
    CHECK(p == NULL && errno == ENOMEM, "memalign(64, huge): %p, errno %d (%s)", p, errno,
          strerror(errno));
    free(p);
    errno = 0;
    p = valloc(huge);
    CHECK(p == NULL && errno == ENOMEM, "valloc(huge): %p, errno %d (%s)", p, errno,
          strerror(errno));
    free(p);
    progress();
  }
}

/* Odd but valid requests. */
static void test_odd(void) {
  /* malloc(0) is a block of its own */
  void *z[64];
  for (int i = 0; i < 64; i++) {
    z[i] = malloc(0);
    CHECK(z[i] != NULL, "malloc(0) = NULL");
    for (int j = 0; j < i; j++) CHECK(z[j] != z[i], "malloc(0) returned %p twice", z[i]);
  }
  for (int i = 0; i < 64; i++) free(z[i]);
  free(NULL);
  /* cfree is gone from glibc's headers, but the preload exports it */
  void (*cf)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "cfree");
  if (cf)
    for (int i = 0; i < 100; i++) cf(malloc((size_t)i * 10));
  progress();
}

/* ---- the window of a sink attached late --------------------------------- */

/* Run first, right after --own-sink attached with a small window: the
 * countdown each thread drew before (with the default 1 MiB window) must
 * not keep the first allocations after attaching from being sampled. */
static void test_window(void) {
  if (!g_api || !atomic_load(&g_own_attached)) {
    printf("torture: window: needs --own-sink (skipped)\n");
    return;
  }
  unsigned long long before = atomic_load(&g_ev[SC__EV_MALLOC]);
  void *p[64];
  for (int i = 0; i < 64; i++) p[i] = malloc(16);
  unsigned long long seen = atomic_load(&g_ev[SC__EV_MALLOC]) - before;
  for (int i = 0; i < 64; i++) free(p[i]);
  /* each 16-byte block is sampled with probability 1 - exp(-16/64) = 0.22
   * when the window applies: 14 samples expected of 64 */
  CHECK(seen >= 3, "only %llu of 64 allocations of 16 bytes sampled right after attaching "
        "with a 64-byte window (14 expected)", seen);
}

/* ---- the weights of samples ------------------------------------------------ */

/* The weight tests need the test's own sink, attached with a window of 64
 * bytes (test_native.py's own-sink mode); they say so and skip otherwise. */
static int own_sink_at_64(const char *test) {
  const char *w = getenv("SCALENE_ALLOCATION_SAMPLING_WINDOW");
  if (!g_api || !atomic_load(&g_own_attached) || !w || strcmp(w, "64") != 0) {
    printf("torture: %s: needs --own-sink and a window of 64 (skipped)\n", test);
    return 0;
  }
  return 1;
}

/* The first request of a new thread. */

#define FRESH_THREADS 400
#define FRESH_BYTES 16
static atomic_ullong g_fresh_malloc_w, g_fresh_copy_w;

static void *fresh_thread(void *arg) {
  (void)arg;
  static void *(*volatile copy)(void *, const void *, size_t) = memcpy;
  char src[FRESH_BYTES] = {1}, dst[FRESH_BYTES];
  char *p = malloc(FRESH_BYTES);
  if (p) p[0] = 1;
  free(p);
  copy(dst, src, FRESH_BYTES);
  atomic_fetch_add(&g_fresh_malloc_w, tl_malloc_weight);
  atomic_fetch_add(&g_fresh_copy_w, tl_copy_weight);
  return NULL;
}

/* Threads that allocate and copy 16 bytes each, one after the other: the
 * weights sampled on them must add up to about what they asked for.  A
 * countdown that starts at 0 made each thread's first request a sample
 * worth a whole window (before the fix, 72 bytes each at this window of
 * 64: 28,800 in all for 6,400 asked).  Correctly sampled, each thread
 * reports 72 with probability 1 - exp(-16/64) = 0.22 and 0 otherwise:
 * 6,400 expected, standard deviation 600, so 12,800 is 10 of them away. */
static void test_fresh_threads(void) {
  if (!own_sink_at_64("fresh-threads")) return;
  for (int i = 0; i < FRESH_THREADS; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, fresh_thread, NULL) != 0) {
      CHECK(0, "pthread_create");
      return;
    }
    pthread_join(t, NULL);
    progress();
  }
  unsigned long long asked = (unsigned long long)FRESH_THREADS * FRESH_BYTES;
  unsigned long long mw = atomic_load(&g_fresh_malloc_w), cw = atomic_load(&g_fresh_copy_w);
  CHECK(mw < 2 * asked, "%d threads allocated %llu bytes; the samples on them weigh %llu",
        FRESH_THREADS, asked, mw);
  CHECK(cw < 2 * asked, "%d threads copied %llu bytes; the samples on them weigh %llu",
        FRESH_THREADS, asked, cw);
  printf("torture: fresh-threads: %llu bytes asked, sampled malloc weight %llu, copy %llu\n",
         asked, mw, cw);
}

/* ---- strongly aligned requests -------------------------------------------- */

/* Alignments above 1 MiB take the allocator's slow path whether or not
 * the countdown crossed zero; they used to be sampled every time, each
 * charged a window's weight (72 bytes for 16 at this window of 64).
 * 1,000 requests of 16 bytes: 16,000 bytes expected, standard deviation
 * 1,500 (each is sampled with probability 0.22 and then weighs 72), so
 * 32,000 is 10 deviations away; always sampled, they weigh 72,000. */
#define ALIGNED_REQUESTS 1000
static void test_aligned_weights(void) {
  if (!own_sink_at_64("aligned-weights")) return;
  static void *p[ALIGNED_REQUESTS];
  uint64_t before = tl_malloc_weight;
  for (int i = 0; i < ALIGNED_REQUESTS; i++) {
    int rc = posix_memalign(&p[i], (size_t)2 << 20, 16);
    CHECK(rc == 0 && p[i] && aligned_to(p[i], (size_t)2 << 20), "posix_memalign(2 MiB, 16)");
    if (rc != 0) p[i] = NULL;
  }
  uint64_t weight = tl_malloc_weight - before;
  for (int i = 0; i < ALIGNED_REQUESTS; i++) free(p[i]);
  CHECK(weight < 2 * 16 * ALIGNED_REQUESTS,
        "%d requests of 16 bytes aligned to 2 MiB: the samples weigh %llu", ALIGNED_REQUESTS,
        (unsigned long long)weight);
  printf("torture: aligned-weights: %d bytes asked, sampled weight %llu\n",
         16 * ALIGNED_REQUESTS, (unsigned long long)weight);
}

/* ---- blocks mimalloc places outside its segment map ------------------------- */

/* mimalloc 2.0 maps blocks of about 1 GiB and more, and blocks aligned to
 * 64 MiB or more, at addresses its mi_is_in_heap_region() does not cover:
 * the preload must still recognise them as its own (free, realloc,
 * malloc_usable_size), not hand them to glibc.  Only address space is
 * used: the blocks are touched in a few places. */
static void test_huge(void) {
  const size_t n = ((size_t)1 << 30) + 4096;
  for (int i = 0; i < 3; i++) {
    unsigned char *p = malloc(n);
    CHECK(p != NULL, "malloc(1 GiB + 4 KiB) = NULL");
    if (!p) return;
    p[0] = 1;
    p[n / 2] = 2;
    p[n - 1] = 3;
    CHECK(malloc_usable_size(p) >= n, "malloc(1 GiB + 4 KiB) = %p: usable size %zu", (void *)p,
          malloc_usable_size(p));
    progress();
    unsigned char *q = realloc(p, n / 2 + 1); /* shrinking keeps it in place or copies half */
    CHECK(q && q[0] == 1 && q[n / 2] == 2, "shrinking a 1 GiB block");
    free(q ? q : p);
    progress();
    unsigned char *z = calloc(1, n);
    CHECK(z && z[0] == 0 && z[n - 1] == 0, "calloc(1, 1 GiB + 4 KiB)");
    free(z);
    progress();
    unsigned char *g = malloc(100); /* a small block grown into a huge one */
    if (g) fill(g, 100, 3);
    unsigned char *h = g ? realloc(g, n) : NULL;
    CHECK(h && verify(h, 100, 3) == 100, "realloc(small, 1 GiB + 4 KiB)");
    free(h ? h : g);
    progress();
  }
}

static void test_overaligned(void) {
  for (size_t align = (size_t)64 << 20; align <= ((size_t)256 << 20); align <<= 2) {
    for (int i = 0; i < 8; i++) {
      void *p = NULL;
      int rc = posix_memalign(&p, align, 100);
      CHECK(rc == 0 && p && aligned_to(p, align), "posix_memalign(%zu MiB, 100) = %d, %p",
            align >> 20, rc, p);
      if (p) {
        CHECK(malloc_usable_size(p) >= 100, "posix_memalign(%zu MiB): usable size %zu",
              align >> 20, malloc_usable_size(p));
        memset(p, 1, 100);
        free(p);
      }
      errno = 0;
      p = aligned_alloc(align, 4096);
      CHECK(p && aligned_to(p, align), "aligned_alloc(%zu MiB, 4096) = %p, errno %d",
            align >> 20, p, errno);
      if (p) {
        memset(p, 2, 4096);
        free(p);
      }
      progress();
    }
  }
}

/* ======================================================================== */

struct test {
  const char *name;
  void (*fn)(void);
};

static const struct test k_tests[] = {
    {"calloc", test_calloc},   {"realloc", test_realloc}, {"realloc-edges", test_realloc_edges},
    {"aligned", test_aligned}, {"usable", test_usable},   {"reallocarray", test_reallocarray},
    {"foreign", test_foreign}, {"memcpy", test_memcpy},
    {"odd", test_odd},         {"threads", test_threads}, {"fork", test_fork},
    {"signal", test_signal},   {"errno", test_errno},     {"huge", test_huge},
    {"overaligned", test_overaligned}, {"window", test_window},
    {"fresh-threads", test_fresh_threads}, {"aligned-weights", test_aligned_weights},
};
#define NTESTS (sizeof k_tests / sizeof k_tests[0])

int main(int argc, char **argv) {
  int use_own_sink = 0, nsel = 0;
  const char *sel[64];
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--own-sink") == 0) {
      use_own_sink = 1;
    } else if (strcmp(argv[i], "--list") == 0) {
      for (size_t t = 0; t < NTESTS; t++) puts(k_tests[t].name);
      return 0;
    } else if (argv[i][0] == '-' || nsel == 64) {
      fprintf(stderr, "usage: torture [--own-sink] [--list] [TEST...]\n");
      return 2;
    } else {
      sel[nsel++] = argv[i];
    }
  }
  for (int i = 0; i < nsel; i++) {
    size_t t = 0;
    while (t < NTESTS && strcmp(k_tests[t].name, sel[i]) != 0) t++;
    if (t == NTESTS) {
      fprintf(stderr, "torture: no test '%s' (--list)\n", sel[i]);
      return 2;
    }
  }

  sc__preload_get_fn get = (sc__preload_get_fn)dlsym(RTLD_DEFAULT, SC_PRELOAD_SYMBOL);
  g_api = get ? get() : NULL;
  if (!g_api || g_api->abi != SC_PRELOAD_ABI) {
    fprintf(stderr, "torture: the sampling allocator is not preloaded: run me with "
                    "LD_PRELOAD=.../libscalenecore_preload.so\n");
    return 2;
  }
  if (use_own_sink) {
    /* Like any program the profiler attaches to, this one has allocated
     * before: its countdown to the next sample is already drawn. */
    free(malloc(64));
    const char *w = getenv("SCALENE_ALLOCATION_SAMPLING_WINDOW");
    uint64_t window = w && *w ? strtoull(w, NULL, 10) : 64;
    int rc = g_api->attach(own_sink, window ? window : 64, window ? window : 64);
    if (rc != 0) {
      fprintf(stderr, "torture: could not attach a sink (%d): is a session running?\n", rc);
      return 2;
    }
    atomic_store(&g_own_attached, 1);
  }

  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_t wd;
  if (pthread_create(&wd, NULL, watchdog, NULL) != 0) {
    fprintf(stderr, "torture: cannot start the watchdog\n");
    return 2;
  }
  pthread_detach(wd);

  double t_all = now_s();
  for (size_t t = 0; t < NTESTS; t++) {
    int wanted = nsel == 0;
    for (int i = 0; i < nsel; i++) wanted |= strcmp(sel[i], k_tests[t].name) == 0;
    if (!wanted) continue;
    g_test = k_tests[t].name;
    int before = atomic_load(&g_failures);
    double t0 = now_s();
    k_tests[t].fn();
    progress();
    printf("torture: %-14s %s (%.0f ms)\n", k_tests[t].name,
           atomic_load(&g_failures) == before ? "ok" : "FAILED", (now_s() - t0) * 1e3);
  }
  g_test = "finish";
  if (use_own_sink) {
    g_api->detach();
    unsigned long long m = atomic_load(&g_ev[SC__EV_MALLOC]), f = atomic_load(&g_ev[SC__EV_FREE]),
                       r = atomic_load(&g_ev[SC__EV_REALLOC]), c = atomic_load(&g_ev[SC__EV_COPY]);
    printf("torture: own sink: %llu malloc, %llu free, %llu realloc, %llu copy events\n", m, f, r,
           c);
    CHECK(m > 0 && f > 0, "the sink saw no malloc or no free event");
    CHECK(atomic_load(&g_ev_bad) == 0, "%llu events broke the ABI's promises (first: kind %llu)",
          atomic_load(&g_ev_bad), atomic_load(&g_ev_first_bad_kind));
  }
  int failures = atomic_load(&g_failures);
  if (failures) {
    printf("torture: %d checks FAILED (%.1f s)\n", failures, now_s() - t_all);
    return 1;
  }
  printf("torture: all tests passed (%.1f s)\n", now_s() - t_all);
  return 0;
}
