/* preload.c - the sampling allocator (libscalenecore_preload.so).
 *
 * Loaded with LD_PRELOAD, it defines malloc and its relatives, serves them
 * from mimalloc (Debian's libmimalloc.so.2, through the mi_* API only) and
 * samples allocations by bytes: each thread counts down a distance drawn
 * from an exponential distribution (mean = the sampling window), so the
 * unsampled fast path is one subtraction and one branch, and no allocation
 * pattern can alias with the sampler.
 *
 * Who frees what.  Every pointer goes back to the allocator that made it:
 *  - a sampled block carries a 16-byte header in front of it whose tag is
 *    the block's address xor a per-process secret (from AT_RANDOM); free()
 *    recognises it by reading the 8-byte tag 16 bytes before the pointer,
 *    which always lies in mapped memory (the previous block or the page's
 *    metadata);
 *  - any other pointer mimalloc owns (mi_is_in_heap_region) goes to
 *    mi_free;
 *  - anything else (memory from glibc's malloc: made before the preload's
 *    symbols were bound, by code bound with RTLD_DEEPBIND, or by the core
 *    itself, which allocates with __libc_malloc) goes to __libc_free.
 * CPython's allocator domains are wrapped the same way with a second
 * secret, so the two layers never mistake each other's headers.
 *
 * A sample is reported to the attached sink (the core) on the allocating
 * thread.  A thread-local `busy` flag keeps the sampler from re-entering
 * itself (the sink, a signal handler that allocates, mimalloc's own calls
 * to memcpy); no lock is ever taken here, so fork and signal handlers are
 * safe wherever mimalloc itself is. */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <mimalloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "scalenecore.h"
#include "preload_abi.h"

#define PL_API __attribute__((visibility("default")))
#define PL_LIKELY(x) __builtin_expect(!!(x), 1)
#define PL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PL_CALLER() ((uintptr_t)__builtin_return_address(0))

extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);
extern void *__libc_realloc(void *p, size_t n);

/* ---- per-thread state: initial-exec TLS, zero-initialised ---------------- */

typedef struct pl_tls {
  int64_t left;      /* bytes until the next allocation sample */
  int64_t copy_left; /* bytes until the next copy sample */
  uint64_t rng;
  int busy;     /* inside the slow path: nothing is sampled */
  int domain;   /* SC__DOM_PYTHON while a CPython domain wrapper runs */
  int excluded; /* one of the core's own threads */
  int in_alloc; /* copies made by the allocator itself are not the program's */
  int armed;      /* `left` has had its first distance drawn */
  int copy_armed; /* the same for `copy_left` */
} pl_tls;

static __thread pl_tls tls __attribute__((tls_model("initial-exec")));

/* ---- process-wide state --------------------------------------------------- */

#define PL_DEFAULT_WINDOW (1u << 20)
static _Atomic uint64_t g_window = PL_DEFAULT_WINDOW;
static _Atomic uint64_t g_copy_window = PL_DEFAULT_WINDOW;
static _Atomic(sc__alloc_sink_fn) g_sink;
static atomic_int g_in_sink;
/* Replaced from AT_RANDOM in the constructor, before any block is tagged:
 * tags are only written while a sink is attached, which is later. */
static uint64_t g_secret = 0x9e3779b97f4a7c15ull;
static uint64_t g_secret_py = 0xc2b2ae3d27d4eb4full;

static void *boot_memmove(void *d, const void *s, size_t n);
typedef void *(*pl_copy_fn)(void *, const void *, size_t);
static pl_copy_fn g_memcpy = boot_memmove;
static pl_copy_fn g_memmove = boot_memmove;
static size_t (*g_libc_usable)(void *);

/* Until the constructor has found glibc's memcpy: a plain loop, written
 * with volatile so the compiler cannot turn it back into a memcpy call. */
static void *boot_memmove(void *d, const void *s, size_t n) {
  volatile unsigned char *dd = d;
  const volatile unsigned char *ss = s;
  if ((uintptr_t)dd <= (uintptr_t)ss) {
    for (size_t i = 0; i < n; i++) dd[i] = ss[i];
  } else {
    for (size_t i = n; i-- > 0;) dd[i] = ss[i];
  }
  return d;
}

/* ---- the sampler ----------------------------------------------------------- */

static uint64_t next_random(void) {
  uint64_t x = tls.rng;
  if (PL_UNLIKELY(x == 0)) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    x = ((uint64_t)(uintptr_t)&tls * 0x9e3779b97f4a7c15ull) ^ (uint64_t)ts.tv_nsec ^
        ((uint64_t)getpid() << 32);
    if (x == 0) x = 1;
  }
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  tls.rng = x;
  return x * 0x2545f4914f6cdd1dull;
}

/* An exponentially distributed distance with the given mean, >= 1. */
static int64_t draw(uint64_t mean) {
  double u = (double)(next_random() >> 11) * 0x1.0p-53; /* [0, 1) */
  double d = -log1p(-u) * (double)mean;
  if (d > 4e18) d = 4e18;
  return (int64_t)d + 1;
}

/* Bytes a sampled block of `n` bytes stands for: n / P(sampled), where a
 * block is sampled when one of the Poisson points with mean spacing
 * `window` falls in it.  About `window` for small blocks, `n` for large. */
static uint64_t weight_of(uint64_t n, uint64_t window) {
  double x = (double)n / (double)window;
  if (x > 40) return n;
  if (x <= 0) return window;
  return (uint64_t)((double)n / -expm1(-x));
}

/* A thread's countdowns start at 0, so its first request takes the slow
 * path before any distance was drawn.  Were it sampled there, every thread
 * would report a sample (a whole window's weight, 1 MiB by default) for
 * its first allocation and its first copy: 200 threads allocating 100
 * bytes each showed 200 MB.  The first distance is drawn then instead, and
 * what the thread has counted so far is measured against it: the bytes
 * sampled stay a Poisson process that starts with the thread.  Whether the
 * slow path fires is unchanged, so the fast paths need no flag. */
static int first_draw(int64_t *left, int *armed, uint64_t window) {
  if (PL_LIKELY(*armed)) return 1;
  *armed = 1;
  *left += draw(window);
  return *left < 0;
}

/* The countdown crossed zero: draw the next distance, and say whether
 * this event is to be recorded. */
static int take_sample(void) {
  uint64_t window = atomic_load_explicit(&g_window, memory_order_relaxed);
  if (!first_draw(&tls.left, &tls.armed, window)) return 0;
  tls.left = draw(window);
  if (tls.busy || tls.excluded) return 0;
  return atomic_load_explicit(&g_sink, memory_order_relaxed) != NULL;
}

static int take_copy_sample(void) {
  uint64_t window = atomic_load_explicit(&g_copy_window, memory_order_relaxed);
  if (!first_draw(&tls.copy_left, &tls.copy_armed, window)) return 0;
  tls.copy_left = draw(window);
  if (tls.busy || tls.excluded) return 0;
  return atomic_load_explicit(&g_sink, memory_order_relaxed) != NULL;
}

static void emit(int kind, int domain, void *addr, void *old, uint64_t bytes, uint64_t weight,
                 uintptr_t caller) {
  if (tls.busy || tls.excluded) return;
  tls.busy = 1;
  atomic_fetch_add(&g_in_sink, 1);
  sc__alloc_sink_fn f = atomic_load(&g_sink);
  if (f) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sc__alloc_ev ev;
    ev.kind = kind;
    ev.domain = domain;
    ev.addr = (uintptr_t)addr;
    ev.old_addr = (uintptr_t)old;
    ev.bytes = bytes;
    ev.weight = weight;
    ev.caller = caller;
    ev.t_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    f(&ev);
  }
  atomic_fetch_sub(&g_in_sink, 1);
  tls.busy = 0;
}

/* ---- block headers ---------------------------------------------------------- */

/* 16 bytes right before the pointer.  `word` holds the weight (low 56 bits;
 * 0: tagged, but its bytes were not sampled) and, in its top 8 bits, log2
 * of the distance from the start of the mimalloc block to the pointer for
 * over-aligned blocks (0: the header starts the block). */
typedef struct pl_hdr {
  uint64_t tag;
  uint64_t word;
} pl_hdr;

#define PL_HDR sizeof(pl_hdr)
#define PL_WEIGHT_MASK ((UINT64_C(1) << 56) - 1)
_Static_assert(sizeof(pl_hdr) == 16, "the header keeps 16-byte alignment");

/* Blocks this large, or this strongly aligned, may be mapped by mimalloc
 * outside the address range mi_is_in_heap_region knows (its segment map
 * stops at 20 TiB; the kernel puts large mappings near 128 TiB), where
 * free() would take them for glibc's: they always get a header. */
#define PL_BIG ((size_t)256 << 20)
#define PL_ALIGN_PLAIN ((size_t)1 << 20)

static inline pl_hdr *hdr_of(void *p) { return (pl_hdr *)p - 1; }

/* Where tagged blocks live: a count of the tagged blocks whose pointer
 * falls in each 4 KiB page (modulo 64 MiB).  A free looks here first and
 * reads the bytes before the pointer only when the count is not 0.  Most
 * frees touch a block the program has not used for a while, whose
 * neighbourhood is no longer in the L1 cache, while this table mostly
 * stays there (a byte per page: a 40 MB heap uses 10 KB of it): reading
 * the header on every free cost more than mimalloc's own free.  Sampled
 * blocks are rare (one per sampling window of bytes), so most pages count
 * 0: with 64 KiB regions instead, 2.4 % of the frees of bench-alloc's
 * `mixed` pattern under a session read a header that was not a tag; with
 * 4 KiB pages 0.3 %.  A count is raised before a tagged pointer is handed
 * out and lowered after its tag is cleared, so a thread that frees the
 * block (which the program must have passed to it) sees it raised.  A
 * count that reaches 255 stays there: a count that is not 0 only costs
 * the header read. */
#define PL_REGION_SHIFT 12
#define PL_REGIONS 16384
#define PL_REGION_STUCK 255
static _Atomic uint8_t g_tagged_in[PL_REGIONS];

static inline _Atomic uint8_t *region_of(void *p) {
  return &g_tagged_in[((uintptr_t)p >> PL_REGION_SHIFT) & (PL_REGIONS - 1)];
}
static void region_add(void *p, int d) {
  _Atomic uint8_t *r = region_of(p);
  uint8_t v = atomic_load_explicit(r, memory_order_relaxed);
  while (v != PL_REGION_STUCK &&
         !atomic_compare_exchange_weak_explicit(r, &v, (uint8_t)(v + d), memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}
/* The page of `p` holds tagged blocks (then `p` may be one of them). */
static inline int near_tagged(void *p) {
  return PL_UNLIKELY(atomic_load_explicit(region_of(p), memory_order_relaxed) != 0);
}
/* The header of `p` carries the tag of `secret`: read only near_tagged. */
static inline int tag_matches(void *p, uint64_t secret) {
  return hdr_of(p)->tag == (secret ^ (uintptr_t)p);
}
static inline int is_tagged(void *p, uint64_t secret) {
  return near_tagged(p) && tag_matches(p, secret);
}
/* Clear a tag (the block is being freed or moved) / put it back. */
static inline void untag(void *p) {
  hdr_of(p)->tag = 0;
  region_add(p, -1);
}
static inline void retag(void *p, uint64_t tag) {
  region_add(p, 1);
  hdr_of(p)->tag = tag;
}
static inline uint64_t hdr_weight(void *p) { return hdr_of(p)->word & PL_WEIGHT_MASK; }
static inline void hdr_set_weight(void *p, uint64_t w) {
  pl_hdr *h = hdr_of(p);
  h->word = (h->word & ~PL_WEIGHT_MASK) | (w & PL_WEIGHT_MASK);
}
/* Where the mimalloc block of a tagged pointer starts. */
static inline void *hdr_base(void *p) {
  unsigned shift = (unsigned)(hdr_of(p)->word >> 56);
  return shift ? (void *)((char *)p - ((size_t)1 << shift)) : (void *)hdr_of(p);
}
static inline void *tag_at(void *p, uint64_t secret, uint64_t weight, unsigned shift) {
  pl_hdr *h = hdr_of(p);
  h->word = (weight & PL_WEIGHT_MASK) | ((uint64_t)shift << 56);
  retag(p, secret ^ (uintptr_t)p);
  return p;
}
/* The CPython wrappers' headers always start their block. */
static inline void *tag_block(void *base, uint64_t secret, uint64_t weight) {
  return tag_at((pl_hdr *)base + 1, secret, weight, 0);
}

/* ---- malloc and relatives ----------------------------------------------------- */

static inline int count(size_t n) {
  tls.left -= (int64_t)n;
  return PL_UNLIKELY(tls.left < 0);
}

static inline void *oom(void) {
  errno = ENOMEM;
  return NULL;
}

/* mimalloc asks the kernel for its segments at hinted addresses between
 * 2 TiB and 30 TiB (randomized per process); the kernel hands out other
 * mappings top-down from near 128 TiB, and glibc's heap sits next to the
 * executable.  A pointer in the hinted range is mimalloc's without asking
 * it (a call through the PLT on every free); outside it, mimalloc decides. */
#define PL_HINT_LO_TIB 2
#define PL_HINT_SPAN_TIB 28
static inline int in_hint(void *p) {
  return ((uintptr_t)p >> 40) - PL_HINT_LO_TIB < PL_HINT_SPAN_TIB;
}

static inline int owned(void *p) {
  return PL_LIKELY(in_hint(p)) || mi_is_in_heap_region(p);
}

/* Out of line, so that free() itself needs no stack frame. */
static __attribute__((noinline)) void free_outside_hint(void *p) {
  if (!p) return;
  if (mi_is_in_heap_region(p)) mi_free(p);
  else __libc_free(p);
}

static inline void plain_free(void *p) {
  if (PL_LIKELY(in_hint(p))) mi_free(p);
  else free_outside_hint(p);
}

static unsigned log2_of(size_t pow2) {
  unsigned s = 0;
  while (((size_t)1 << s) < pow2) s++;
  return s;
}

/* A block with a header of weight `w`; `align` a power of two. */
static void *alloc_tagged(size_t n, size_t align, int zero, uint64_t w) {
  if (align < 16) align = 16;
  if (n > PTRDIFF_MAX - 4096 || align > ((size_t)1 << 40)) return oom();
  void *p;
  if (align == 16) {
    char *base = zero ? mi_zalloc(n + PL_HDR) : mi_malloc(n + PL_HDR);
    if (!base) return oom();
    p = tag_at(base + PL_HDR, g_secret, w, 0);
  } else {
    /* the block is aligned, the pointer one alignment further: the header
     * sits just before it, inside the block */
    char *base = zero ? mi_zalloc_aligned(n + align, align) : mi_malloc_aligned(n + align, align);
    if (!base) return oom();
    p = tag_at(base + align, g_secret, w, log2_of(align));
  }
  return p;
}

/* Also reached by requests that must carry a header (PL_FAST) or are
 * strongly aligned while the countdown still runs: those are sampled only
 * when the countdown, already charged with `n`, crossed zero. */
static void *alloc_slow(size_t n, size_t align, int zero, uintptr_t caller) {
  int sampled = tls.left < 0 && take_sample();
  if (!sampled && n < PL_BIG && align <= PL_ALIGN_PLAIN) {
    void *p = align > 16 ? (zero ? mi_zalloc_aligned(n, align) : mi_malloc_aligned(n, align))
                         : (zero ? mi_zalloc(n) : mi_malloc(n));
    return p ? p : oom();
  }
  uint64_t w = sampled ? weight_of(n, atomic_load_explicit(&g_window, memory_order_relaxed)) : 0;
  void *p = alloc_tagged(n, align, zero, w);
  if (p && w) emit(SC__EV_MALLOC, tls.domain, p, NULL, n, w, caller);
  return p;
}

/* The fast path: one subtraction, one comparison that also catches the
 * blocks that must carry a header. */
#define PL_FAST(n) (PL_LIKELY(!count(n) && (n) < PL_BIG))

/* Below PL_BIG a failure is the kernel refusing memory, and mimalloc
 * leaves mmap's ENOMEM in errno: the fast paths are tail calls. */
PL_API void *malloc(size_t n) {
  if (PL_FAST(n)) return mi_malloc(n);
  return alloc_slow(n, 0, 0, PL_CALLER());
}

PL_API void *calloc(size_t c, size_t s) {
  size_t n;
  if (__builtin_mul_overflow(c, s, &n)) return oom();
  if (PL_FAST(n)) return mi_zalloc(n);
  return alloc_slow(n, 0, 1, PL_CALLER());
}

static __attribute__((noinline)) void free_tagged(void *p) {
  uint64_t w = hdr_weight(p);
  void *base = hdr_base(p);
  untag(p);
  if (w) emit(SC__EV_FREE, tls.domain, p, NULL, 0, w, 0);
  mi_free(base);
}

/* free() of a pointer in a region that holds tagged blocks. */
static __attribute__((noinline)) void free_near_tagged(void *p) {
  if (!p) return;
  if (tag_matches(p, g_secret)) free_tagged(p);
  else plain_free(p);
}

/* NULL is not tested on the fast path: it is outside mimalloc's range,
 * and both slow paths return on it. */
PL_API void free(void *p) {
  if (near_tagged(p)) {
    free_near_tagged(p);
    return;
  }
  plain_free(p);
}

PL_API void cfree(void *p) { free(p); }

static size_t tagged_usable(void *p) {
  void *base = hdr_base(p);
  return mi_usable_size(base) - (size_t)((char *)p - (char *)base);
}

static size_t usable(void *p) {
  if (is_tagged(p, g_secret)) return tagged_usable(p);
  if (owned(p)) return mi_usable_size(p);
  return g_libc_usable ? g_libc_usable(p) : 0;
}

PL_API size_t malloc_usable_size(void *p) { return p ? usable(p) : 0; }

/* A block from glibc's malloc stays glibc's. */
static void *realloc_foreign(void *p, size_t n) {
  void *q = __libc_realloc(p, n);
  return q ? q : oom();
}

static void *realloc_quiet(void *p, size_t n) {
  tls.in_alloc++;
  void *q = mi_realloc(p, n);
  tls.in_alloc--;
  return q;
}

/* The weight a growth from `old` to `now` usable bytes adds: counted, and
 * sampled or not.  Growth is counted in usable bytes, so a block's slack
 * (mimalloc's size classes) is counted when the block gets it; growing in
 * place later costs nothing, and a buffer grown step by step adds up to
 * its size. */
static inline uint64_t growth_weight(size_t old, size_t now) {
  if (PL_LIKELY(now <= old || !count(now - old)) || !take_sample()) return 0;
  return weight_of(now - old, atomic_load_explicit(&g_window, memory_order_relaxed));
}

/* After count(counted) crossed 0: the weight of `grown` bytes whose sample
 * was drawn over `counted` of them (0: not sampled after all). */
static uint64_t sampled_growth_weight(size_t counted, size_t grown) {
  if (!take_sample()) return 0;
  uint64_t w = weight_of(counted, atomic_load_explicit(&g_window, memory_order_relaxed));
  /* grown / P(sampled) is never below `grown`: keep rounding from making it so */
  uint64_t r = (uint64_t)((double)w * ((double)grown / (double)counted) + 0.5);
  return r > grown ? r : grown;
}

/* Copy the first `keep` bytes of `p` into a new tagged block of `n` bytes
 * (weight 0 for now) and free `p` with `release`.  NULL on failure, `p`
 * untouched. */
static void *move_tagged(void *p, size_t keep, size_t n, void (*release)(void *)) {
  void *q = alloc_tagged(n, 16, 0, 0);
  if (!q) return NULL;
  tls.in_alloc++;
  g_memcpy(q, p, keep < n ? keep : n);
  tls.in_alloc--;
  release(p);
  return q;
}

static void release_tagged(void *p) {
  void *base = hdr_base(p);
  untag(p);
  mi_free(base);
}

static void *realloc_tagged(void *p, size_t n, uintptr_t caller) {
  size_t old = tagged_usable(p);
  uint64_t w_old = hdr_weight(p);
  void *q;
  if (hdr_of(p)->word >> 56) {
    /* over-aligned: realloc keeps no alignment, the block moves */
    q = move_tagged(p, old, n, release_tagged);
    if (!q) return NULL;
  } else {
    if (n > PTRDIFF_MAX - 4096) return oom();
    pl_hdr *h = hdr_of(p);
    uint64_t tag = h->tag;
    untag(p);
    pl_hdr *nh = realloc_quiet(h, n + PL_HDR);
    if (!nh) {
      retag(p, tag);
      return oom();
    }
    q = tag_at(nh + 1, g_secret, 0, 0);
  }
  size_t now = tagged_usable(q);
  uint64_t w_add = growth_weight(old, now);
  hdr_set_weight(q, w_old + w_add);
  if (q != p || w_add) emit(SC__EV_REALLOC, tls.domain, q, p, now > old ? now - old : 0, w_add, caller);
  return q;
}

static void *realloc_impl(void *p, size_t n, uintptr_t caller) {
  if (!p) {
    if (!PL_FAST(n)) return alloc_slow(n, 0, 0, caller);
    void *q = mi_malloc(n);
    return q ? q : oom();
  }
  if (n == 0) { /* glibc's semantics: free and return NULL */
    free(p);
    return NULL;
  }
  if (PL_UNLIKELY(is_tagged(p, g_secret))) return realloc_tagged(p, n, caller);
  if (PL_UNLIKELY(!owned(p))) return realloc_foreign(p, n);
  size_t old = mi_usable_size(p);
  if (PL_LIKELY(n <= old)) {
    /* mimalloc's own rule: a block that still fits, and would not waste
     * more than half of itself, stays where it is */
    if (n >= old / 2) return p;
    void *q = realloc_quiet(p, n);
    return q ? q : oom();
  }
  void *q;
  if (PL_UNLIKELY(n >= PL_BIG)) {
    q = move_tagged(p, old, n, mi_free);
    if (!q) return oom();
  } else {
    /* The block does not fit: it moves (mimalloc's realloc would do the
     * same, with its copy going through the memcpy above). */
    q = mi_malloc(n);
    if (!q) return oom();
    g_memcpy(q, p, old);
    mi_free(p);
    /* The countdown runs over the growth requested, known without a call;
     * only a sampled growth asks mimalloc for the new block's usable size,
     * and is charged the usable growth over the chance of the sample, so
     * the estimate of usable growth stays unbiased. */
    if (PL_LIKELY(!count(n - old))) return q;
    size_t now = mi_usable_size(q);
    uint64_t w = sampled_growth_weight(n - old, now - old);
    if (!w) return q;
    /* The growth is sampled: the block needs a header, so it moves once. */
    void *r = move_tagged(q, n, n, mi_free);
    if (!r) return q; /* still a valid block, just not sampled */
    hdr_set_weight(r, w);
    emit(SC__EV_MALLOC, tls.domain, r, NULL, now - old, w, caller);
    return r;
  }
  /* a big block: tagged whether its growth is sampled or not */
  size_t now = tagged_usable(q);
  uint64_t w = growth_weight(old, now);
  hdr_set_weight(q, w);
  if (w) emit(SC__EV_MALLOC, tls.domain, q, NULL, now - old, w, caller);
  return q;
}

PL_API void *realloc(void *p, size_t n) { return realloc_impl(p, n, PL_CALLER()); }

PL_API void *reallocarray(void *p, size_t c, size_t s) {
  size_t n;
  if (__builtin_mul_overflow(c, s, &n)) return oom();
  return realloc_impl(p, n, PL_CALLER());
}

static void *aligned_impl(size_t align, size_t n, uintptr_t caller) {
  if (PL_FAST(n) && align <= PL_ALIGN_PLAIN) {
    void *p = mi_malloc_aligned(n, align);
    return PL_LIKELY(p != NULL) ? p : oom();
  }
  return alloc_slow(n, align, 0, caller);
}

static int valid_align(size_t a) { return a && (a & (a - 1)) == 0; }

PL_API int posix_memalign(void **out, size_t align, size_t n) {
  if (!valid_align(align) || align % sizeof(void *) != 0) return EINVAL;
  int saved = errno;
  void *p = aligned_impl(align, n, PL_CALLER());
  errno = saved;
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

PL_API void *aligned_alloc(size_t align, size_t n) {
  if (!valid_align(align)) {
    errno = EINVAL;
    return NULL;
  }
  return aligned_impl(align, n, PL_CALLER());
}

/* glibc's memalign rounds the alignment up to a power of two. */
static size_t round_align(size_t a) {
  size_t r = 16;
  while (r < a && r < ((size_t)1 << 62)) r <<= 1;
  return r;
}

PL_API void *memalign(size_t align, size_t n) {
  return aligned_impl(round_align(align), n, PL_CALLER());
}

PL_API void *valloc(size_t n) {
  return aligned_impl((size_t)sysconf(_SC_PAGESIZE), n, PL_CALLER());
}

PL_API void *pvalloc(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (n > SIZE_MAX - page) return oom();
  size_t r = (n + page - 1) & ~(page - 1);
  return aligned_impl(page, r ? r : page, PL_CALLER());
}

/* ---- copy volume ----------------------------------------------------------------- */

static void copy_slow(size_t n, uintptr_t caller) {
  if (!take_copy_sample() || tls.in_alloc) return;
  emit(SC__EV_COPY, tls.domain, NULL, NULL, n,
       weight_of(n, atomic_load_explicit(&g_copy_window, memory_order_relaxed)), caller);
}

/* Count `n` bytes copied down the thread's copy countdown.  A macro, so that
 * `caller` (PL_CALLER() in the entry points) is only evaluated once the
 * countdown crossed 0, off the fast path. */
#define PL_COPY_COUNT(n, caller)                                                              \
  do {                                                                                        \
    tls.copy_left -= (int64_t)(n);                                                            \
    if (PL_UNLIKELY(tls.copy_left < 0)) copy_slow((n), (caller));                             \
  } while (0)

PL_API void *memcpy(void *restrict d, const void *restrict s, size_t n) {
  PL_COPY_COUNT(n, PL_CALLER());
  return g_memcpy(d, s, n);
}

/* The fortified entry points (_FORTIFY_SOURCE) that compilers call instead
 * of memcpy/memmove when the destination's size is known. */
extern void __chk_fail(void) __attribute__((noreturn));

PL_API void *__memcpy_chk(void *restrict d, const void *restrict s, size_t n, size_t room) {
  if (PL_UNLIKELY(n > room)) __chk_fail();
  PL_COPY_COUNT(n, PL_CALLER());
  return g_memcpy(d, s, n);
}

PL_API void *__memmove_chk(void *d, const void *s, size_t n, size_t room) {
  if (PL_UNLIKELY(n > room)) __chk_fail();
  PL_COPY_COUNT(n, PL_CALLER());
  return g_memmove(d, s, n);
}

PL_API void *memmove(void *d, const void *s, size_t n) {
  PL_COPY_COUNT(n, PL_CALLER());
  return g_memmove(d, s, n);
}

/* ---- CPython's allocator domains ---------------------------------------------------- */

/* PyMemAllocatorEx, whose layout is the same in CPython 3.10-3.13. */
typedef struct pl_pymem {
  void *ctx;
  void *(*malloc)(void *ctx, size_t n);
  void *(*calloc)(void *ctx, size_t c, size_t s);
  void *(*realloc)(void *ctx, void *p, size_t n);
  void (*free)(void *ctx, void *p);
} pl_pymem;

enum { PL_RAW = 0, PL_MEM = 1, PL_OBJ = 2 }; /* PyMemAllocatorDomain */
#define PL_PY_SMALL 512 /* pymalloc serves requests up to this size itself */
static pl_pymem g_py[3];
static int g_py_installed;

/* Small requests of the MEM and OBJ domains are sampled here, because
 * pymalloc serves them from its own arenas; larger ones and the RAW domain
 * reach malloc, which samples them as Python's (tls.domain).  While the
 * wrapper calls pymalloc the countdown is parked so that a nested malloc
 * does not count the same bytes twice. */
#define PL_PARKED (INT64_MAX / 2)

/* The domain's previous allocator: calloc(c, s) or malloc(n), n = c * s. */
static inline void *py_orig(pl_pymem *o, size_t n, int zero, size_t c, size_t s) {
  return zero ? o->calloc(o->ctx, c, s) : o->malloc(o->ctx, n);
}

/* Whether small requests reach malloc (PYTHONMALLOC=malloc or
 * malloc_debug: no pymalloc): only then is the countdown parked around
 * them.  pymalloc serves them from arenas it maps itself. */
static int g_py_park;

static void *py_small_slow(pl_pymem *o, size_t n, int zero, size_t c, size_t s, uintptr_t caller);

static inline void *py_small_alloc(pl_pymem *o, size_t n, int zero, size_t c, size_t s,
                                   uintptr_t caller) {
  int64_t left = tls.left - (int64_t)n;
  if (PL_LIKELY(left >= 0)) {
    if (PL_LIKELY(!g_py_park)) {
      tls.left = left;
      return py_orig(o, n, zero, c, s);
    }
    tls.left = PL_PARKED;
    void *p = py_orig(o, n, zero, c, s);
    tls.left = left;
    return p;
  }
  tls.left = left; /* charged, as malloc's count() does */
  return py_small_slow(o, n, zero, c, s, caller);
}

/* Whether the domains' own free is installed as is (pl_python_install):
 * then a sampled request is served by the sampling allocator as a tagged
 * block of its own, which pymalloc (or CPython's malloc layer) hands to
 * free() when the object dies, and the wrappers need no free at all. */
static int g_py_direct;

/* A block of `n` bytes, with a header of weight `w`, for a sampled request
 * of a wrapped domain: in direct mode a tagged block of the sampling
 * allocator's (its free and realloc come back through CPython's fallback
 * to the RAW domain, i.e. to free() and realloc()); otherwise pymalloc's,
 * 16 bytes larger, with the Python secret's tag, which py_free finds. */
static void *py_sampled_block(pl_pymem *o, size_t n, int zero, uint64_t w) {
  if (g_py_direct) return alloc_tagged(n, 16, zero, w);
  void *base = zero ? o->calloc(o->ctx, 1, n + PL_HDR) : o->malloc(o->ctx, n + PL_HDR);
  return base ? tag_block(base, g_secret_py, w) : NULL;
}

/* The countdown crossed zero: draw the next distance; the slow path always
 * parks it (rare, and a sampled request asks pymalloc for 16 bytes more). */
static void *py_small_slow(pl_pymem *o, size_t n, int zero, size_t c, size_t s, uintptr_t caller) {
  void *p;
  int sampled = take_sample();
  int64_t left = tls.left;
  tls.left = PL_PARKED;
  if (!sampled) {
    p = py_orig(o, n, zero, c, s);
    tls.left = left;
    return p;
  }
  uint64_t w = weight_of(n, atomic_load_explicit(&g_window, memory_order_relaxed));
  p = py_sampled_block(o, n, zero, w);
  tls.left = left;
  if (!p) return NULL;
  emit(SC__EV_MALLOC, SC__DOM_PYTHON, p, NULL, n, w, caller);
  return p;
}

/* Requests that reach malloc are sampled there, as Python's. */
static void *py_pass_malloc(pl_pymem *o, size_t n, int zero, size_t c, size_t s) {
  int saved = tls.domain;
  tls.domain = SC__DOM_PYTHON;
  void *p = py_orig(o, n, zero, c, s);
  tls.domain = saved;
  return p;
}

/* Everything but the common case of py_malloc and py_calloc. */
static __attribute__((noinline)) void *py_alloc_slow(pl_pymem *o, size_t n, int zero, size_t c,
                                                     size_t s, uintptr_t caller) {
  if (n > PL_PY_SMALL) return py_pass_malloc(o, n, zero, c, s);
  return py_small_alloc(o, n, zero, c, s, caller);
}

/* The common case, a small request whose bytes do not reach the next
 * sample, needs no stack frame: the countdown and a tail call into
 * pymalloc (CPython allocates and frees an object for nearly every
 * bytecode that makes a value, so these few instructions are most of
 * what memory profiling costs a CPU-bound program). */
static inline __attribute__((always_inline)) int py_fast(size_t n) {
  int64_t left = tls.left - (int64_t)n;
  if (PL_LIKELY(n <= PL_PY_SMALL && left >= 0 && !g_py_park)) {
    tls.left = left;
    return 1;
  }
  return 0;
}

static inline __attribute__((always_inline)) void *py_malloc_in(pl_pymem *o, size_t n,
                                                               uintptr_t caller) {
  if (py_fast(n)) return o->malloc(o->ctx, n);
  return py_alloc_slow(o, n, 0, 0, 0, caller);
}

static inline __attribute__((always_inline)) void *py_calloc_in(pl_pymem *o, size_t c, size_t s,
                                                               uintptr_t caller) {
  size_t n;
  if (__builtin_mul_overflow(c, s, &n)) return NULL;
  if (py_fast(n)) return o->calloc(o->ctx, c, s);
  return py_alloc_slow(o, n, 1, c, s, caller);
}

static void py_free_tagged(pl_pymem *o, void *p) {
  pl_hdr *h = hdr_of(p);
  uint64_t w = hdr_weight(p);
  untag(p);
  if (w) emit(SC__EV_FREE, SC__DOM_PYTHON, p, NULL, 0, w, 0);
  o->free(o->ctx, h);
}

/* free() of an object in a page that holds tagged blocks (or of NULL,
 * whose page entry is read like any other). */
static __attribute__((noinline)) void py_free_near_tagged(pl_pymem *o, void *p) {
  if (p && tag_matches(p, g_secret_py)) py_free_tagged(o, p);
  else o->free(o->ctx, p);
}

/* A free needs no domain: its event, if any, matches an allocation.  The
 * fast path, like py_malloc_in's, has no stack frame.  Not installed in
 * direct mode. */
static inline __attribute__((always_inline)) void py_free_in(pl_pymem *o, void *p) {
  if (near_tagged(p)) {
    py_free_near_tagged(o, p);
    return;
  }
  o->free(o->ctx, p);
}

static __attribute__((noinline)) void *py_realloc_in(pl_pymem *o, void *p, size_t n,
                                                     uintptr_t caller) {
  if (!p) return py_malloc_in(o, n, caller);
  int saved = tls.domain;
  tls.domain = SC__DOM_PYTHON;
  void *q;
  if (PL_UNLIKELY(is_tagged(p, g_secret_py))) {
    /* A block sampled here keeps its header for life: the old bytes are
     * freed, the new ones counted as a fresh request. */
    pl_hdr *h = hdr_of(p);
    uint64_t w_old = hdr_weight(p), w = 0;
    if (w_old) emit(SC__EV_FREE, SC__DOM_PYTHON, p, NULL, 0, w_old, 0);
    if (count(n) && take_sample()) w = weight_of(n, atomic_load_explicit(&g_window, memory_order_relaxed));
    uint64_t tag = h->tag;
    untag(p);
    int64_t left = tls.left;
    tls.left = PL_PARKED;
    tls.in_alloc++;
    pl_hdr *nh = n > SIZE_MAX - PL_HDR ? NULL : o->realloc(o->ctx, h, n + PL_HDR);
    tls.in_alloc--;
    tls.left = left;
    if (!nh) {
      retag(p, tag);
      h->word = 0; /* its old bytes were reported freed */
      q = NULL;
    } else {
      q = tag_block(nh, g_secret_py, w);
      if (w) emit(SC__EV_MALLOC, SC__DOM_PYTHON, q, NULL, n, w, caller);
    }
  } else if (n > PL_PY_SMALL) {
    tls.in_alloc++;
    q = o->realloc(o->ctx, p, n);
    tls.in_alloc--;
  } else if (PL_LIKELY(!count(n))) {
    int64_t left = tls.left;
    tls.left = PL_PARKED;
    tls.in_alloc++;
    q = o->realloc(o->ctx, p, n);
    tls.in_alloc--;
    tls.left = left;
  } else {
    int sampled = take_sample();
    int64_t left = tls.left;
    tls.left = PL_PARKED;
    tls.in_alloc++;
    q = o->realloc(o->ctx, p, n);
    tls.in_alloc--;
    if (q && sampled) {
      uint64_t w = weight_of(n, atomic_load_explicit(&g_window, memory_order_relaxed));
      void *r = py_sampled_block(o, n, 0, w);
      if (r) {
        g_memcpy(r, q, n);
        o->free(o->ctx, q);
        q = r;
        tls.left = left;
        emit(SC__EV_MALLOC, SC__DOM_PYTHON, q, NULL, n, w, caller);
        left = tls.left;
      }
    }
    tls.left = left;
  }
  tls.domain = saved;
  return q;
}

/* The entry points CPython calls, one set per wrapped domain: each knows
 * its domain's previous allocator, so the ctx CPython passes is that
 * allocator's own, and in direct mode its free can be installed as is. */
#define PL_PY_ENTRY_POINTS(D, name)                                                         \
  static void *py_malloc_##name(void *ctx, size_t n) {                                     \
    (void)ctx;                                                                             \
    return py_malloc_in(&g_py[D], n, PL_CALLER());                                         \
  }                                                                                        \
  static void *py_calloc_##name(void *ctx, size_t c, size_t s) {                          \
    (void)ctx;                                                                             \
    return py_calloc_in(&g_py[D], c, s, PL_CALLER());                                      \
  }                                                                                        \
  static void *py_realloc_##name(void *ctx, void *p, size_t n) {                           \
    (void)ctx;                                                                             \
    return py_realloc_in(&g_py[D], p, n, PL_CALLER());                                     \
  }                                                                                        \
  static void py_free_##name(void *ctx, void *p) {                                         \
    (void)ctx;                                                                             \
    py_free_in(&g_py[D], p);                                                               \
  }
PL_PY_ENTRY_POINTS(PL_MEM, mem)
PL_PY_ENTRY_POINTS(PL_OBJ, obj)

typedef void (*pl_get_fn)(int domain, pl_pymem *out);
typedef void (*pl_set_fn)(int domain, pl_pymem *in);
typedef const char *(*pl_name_fn)(void);

static int pl_python_install(void) {
  if (g_py_installed) return 0;
  pl_get_fn get = (pl_get_fn)dlsym(RTLD_DEFAULT, "PyMem_GetAllocator");
  pl_set_fn set = (pl_set_fn)dlsym(RTLD_DEFAULT, "PyMem_SetAllocator");
  if (!get || !set) return SC_ENOENT;
  const char *pm = getenv("PYTHONMALLOC");
  g_py_park = pm && (strcmp(pm, "malloc") == 0 || strcmp(pm, "malloc_debug") == 0);
  /* MEM and OBJ only: the RAW domain is CPython's thin layer over malloc,
   * which C extensions use for their own buffers too (numpy 2.5 allocates
   * array data with PyMem_RawCalloc): what reaches malloc through it is
   * native, unless a MEM/OBJ request passed it on (pymalloc hands requests
   * over 512 bytes to RAW), which the domain flag marks as Python. */
  /* Direct mode only under CPython's own allocators, "pymalloc" (the
   * default) and "malloc" (PYTHONMALLOC=malloc), whose free hands a
   * pointer it did not make to the RAW domain, that is to free(); and
   * realloc likewise to realloc().  Not under the debug hooks (which
   * check their own guard bytes around every block), tracemalloc or any
   * other allocator installed before this one, nor CPython's mimalloc. */
  pl_name_fn name = (pl_name_fn)dlsym(RTLD_DEFAULT, "_PyMem_GetCurrentAllocatorName");
  const char *current = name ? name() : NULL;
  g_py_direct = current && (strcmp(current, "pymalloc") == 0 || strcmp(current, "malloc") == 0);
  static const pl_pymem entry[3] = {
      [PL_MEM] = {NULL, py_malloc_mem, py_calloc_mem, py_realloc_mem, py_free_mem},
      [PL_OBJ] = {NULL, py_malloc_obj, py_calloc_obj, py_realloc_obj, py_free_obj},
  };
  for (int d = PL_MEM; d <= PL_OBJ; d++) {
    get(d, &g_py[d]);
    pl_pymem w = entry[d];
    w.ctx = g_py[d].ctx;
    if (g_py_direct) w.free = g_py[d].free;
    set(d, &w);
  }
  g_py_installed = 1;
  return 0;
}

/* ---- attaching a core ------------------------------------------------------------- */

/* Countdowns drawn before the attach keep their old mean until they run
 * out: the constructor already takes the window from the environment
 * (SCALENE_ALLOCATION_SAMPLING_WINDOW, which `scalene run` sets), and the
 * attaching thread draws afresh. */
static int pl_attach(sc__alloc_sink_fn sink, uint64_t window, uint64_t copy_window) {
  if (!sink || !window) return SC_EINVAL;
  sc__alloc_sink_fn none = NULL;
  if (!atomic_compare_exchange_strong(&g_sink, &none, sink)) return SC_EEXISTS;
  atomic_store(&g_window, window);
  atomic_store(&g_copy_window, copy_window ? copy_window : window);
  tls.left = draw(window);
  tls.copy_left = draw(copy_window ? copy_window : window);
  tls.armed = tls.copy_armed = 1;
  return 0;
}

static void pl_detach(void) {
  atomic_store(&g_sink, NULL);
  while (atomic_load(&g_in_sink) != 0) {
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
  }
}

static void pl_thread_exclude(int on) { tls.excluded = on != 0; }

static void pl_copy_note(size_t n, uintptr_t caller) { PL_COPY_COUNT(n, caller); }

static const sc__preload_api g_api = {SC_PRELOAD_ABI,    pl_attach,         pl_detach,
                                      pl_python_install, pl_thread_exclude, pl_copy_note};

PL_API const sc__preload_api *scalenecore_preload_api(void) { return &g_api; }

/* Only the forking thread lives on in a child: a sink call another thread
 * was making at fork time will never finish, so it must not be waited for
 * (detach, run by the core's own fork handler, waits for in-flight calls). */
static void pl_atfork_child(void) { atomic_store(&g_in_sink, 0); }

__attribute__((constructor(101))) static void pl_init(void) {
  pthread_atfork(NULL, NULL, pl_atfork_child);
  const uint64_t *r = (const uint64_t *)getauxval(AT_RANDOM);
  if (r) {
    uint64_t a, b;
    boot_memmove(&a, r, sizeof a);
    boot_memmove(&b, r + 1, sizeof b);
    g_secret ^= a;
    g_secret_py ^= b;
  }
  g_libc_usable = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
  const char *w = getenv("SCALENE_ALLOCATION_SAMPLING_WINDOW");
  if (w && *w) {
    char *end = NULL;
    unsigned long long v = strtoull(w, &end, 10);
    if (end && *end == '\0' && v >= 1 && v <= 1000000000000ull) {
      atomic_store(&g_window, v);
      atomic_store(&g_copy_window, v);
    }
  }
  pl_copy_fn mc = (pl_copy_fn)dlsym(RTLD_NEXT, "memcpy");
  pl_copy_fn mm = (pl_copy_fn)dlsym(RTLD_NEXT, "memmove");
  if (mc) g_memcpy = mc;
  if (mm) g_memmove = mm;
}
