/*
 * alloc_hook.c - reading the sampling allocator's events from C.
 *
 * A C program (or a language runtime embedding libscalenecore) can watch
 * its own memory without writing a profile: start a native session
 * (sc_session_start with no frame resolver), install an allocation hook
 * (sc_alloc_hook), and receive one sc_alloc_event_t per sampled malloc,
 * realloc, free or memcpy, with the allocating source line already found
 * in the program's DWARF information.
 *
 * The events come from the sampling allocator, which must be preloaded:
 * without it the session runs but no event ever arrives (this program
 * then says so and exits with status 2).
 *
 *   make examples
 *   LD_PRELOAD=$PWD/build/lib/libscalenecore_preload.so ./build/examples/alloc_hook
 *
 * Against an installed library:
 *   cc -std=c11 -g -pthread alloc_hook.c $(pkg-config --cflags --libs scalenecore)
 *
 * Options come from SCALENE_* variables, as for every session; the one
 * that matters here is the sampling window, the mean number of bytes
 * between two samples (1 MiB by default):
 *   SCALENE_ALLOCATION_SAMPLING_WINDOW=16384 LD_PRELOAD=... ./alloc_hook
 *
 * What it does, with the session running:
 *   1. allocates BLOCKS blocks of BLOCK_SIZE bytes at one line (the
 *      "allocation site" below) and writes to them;
 *   2. copies a 1 MiB buffer COPIES times with memcpy;
 *   3. grows every 16th block to twice its size with realloc;
 *   4. frees everything.
 * Then it stops the session (the last events are delivered then) and
 * prints, per kind of event, how many samples arrived and how many bytes
 * they stand for ("weight": each sample is an unbiased estimate, so the
 * weights of the site's malloc samples add up to about BLOCKS *
 * BLOCK_SIZE), the busiest allocation sites, and the bytes still live by
 * the hook's own bookkeeping (0: every sampled block was freed).
 *
 * The hook runs on the core's ticker thread, never inside malloc: it may
 * allocate and lock, as it does here.  The events arrive in the order
 * they happened.
 */
#define _POSIX_C_SOURCE 200809L

#include <scalenecore.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCKS 8192
#define BLOCK_SIZE 16384
#define COPIES 64
#define COPY_SIZE (1u << 20)

#define CHECK(call)                                                          \
  do {                                                                       \
    int rc_ = (call);                                                        \
    if (rc_ < 0) {                                                           \
      fprintf(stderr, "alloc_hook: %s: %s (%s)\n", #call, sc_strerror(rc_), \
              sc_err_name(rc_));                                            \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

/* ======================================================================== */
/* What the hook collects                                                   */
/* ======================================================================== */

struct kind_total {
  uint64_t events, bytes, weight;
};

struct site {
  char *file, *function;
  int line;
  uint64_t samples, weight;
};

#define MAX_SITES 64
#define LIVE_CAP (1u << 16) /* a power of two, well above the live samples */

struct totals {
  pthread_mutex_t lock;
  struct kind_total kind[5]; /* indexed by sc_alloc_kind_t */
  uint64_t python;           /* events through CPython's allocator */
  uint64_t no_line;          /* malloc/realloc/copy samples with no line */
  struct site sites[MAX_SITES];
  int nsites;
  /* Live sampled blocks, address -> weight: a free takes out what the
   * malloc (and any realloc growth) put in. */
  uintptr_t live_addr[LIVE_CAP];
  uint64_t live_weight[LIVE_CAP];
  uint64_t live_total, unmatched_frees;
};

static struct totals g_totals = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t live_find(struct totals *t, uintptr_t addr) {
  size_t i = (size_t)((addr >> 4) * 0x9e3779b97f4a7c15ull >> 40) & (LIVE_CAP - 1);
  while (t->live_addr[i] && t->live_addr[i] != addr) i = (i + 1) & (LIVE_CAP - 1);
  return i;
}

static void live_add(struct totals *t, uintptr_t addr, uint64_t w) {
  size_t i = live_find(t, addr);
  t->live_addr[i] = addr;
  t->live_weight[i] += w;
  t->live_total += w;
}

static uint64_t live_take(struct totals *t, uintptr_t addr, int *found) {
  size_t i = live_find(t, addr);
  *found = t->live_addr[i] != 0;
  if (!*found) return 0;
  uint64_t w = t->live_weight[i];
  t->live_total -= w;
  /* delete, then re-insert the rest of the cluster (linear probing) */
  t->live_addr[i] = 0;
  t->live_weight[i] = 0;
  for (size_t j = (i + 1) & (LIVE_CAP - 1); t->live_addr[j]; j = (j + 1) & (LIVE_CAP - 1)) {
    uintptr_t a = t->live_addr[j];
    uint64_t wj = t->live_weight[j];
    t->live_addr[j] = 0;
    t->live_weight[j] = 0;
    size_t k = live_find(t, a);
    t->live_addr[k] = a;
    t->live_weight[k] = wj;
  }
  return w;
}

static void count_site(struct totals *t, const sc_alloc_event_t *ev) {
  for (int i = 0; i < t->nsites; i++) {
    struct site *s = &t->sites[i];
    if (s->line == ev->line && strcmp(s->file, ev->file) == 0) {
      s->samples++;
      s->weight += ev->weight;
      return;
    }
  }
  if (t->nsites == MAX_SITES) return;
  struct site *s = &t->sites[t->nsites++];
  s->file = strdup(ev->file); /* the event's strings are only borrowed */
  s->function = strdup(ev->function ? ev->function : "?");
  s->line = ev->line;
  s->samples = 1;
  s->weight = ev->weight;
}

/* The hook: on the ticker thread (or in sc_session_stop's final drain). */
static void on_event(void *user, const sc_alloc_event_t *ev) {
  struct totals *t = user;
  pthread_mutex_lock(&t->lock);
  if (ev->kind >= SC_ALLOC_MALLOC && ev->kind <= SC_ALLOC_COPY) {
    struct kind_total *k = &t->kind[ev->kind];
    k->events++;
    k->bytes += ev->bytes;
    k->weight += ev->weight;
  }
  if (ev->python) t->python++;
  int found;
  switch (ev->kind) {
  case SC_ALLOC_MALLOC:
    live_add(t, ev->address, ev->weight);
    break;
  case SC_ALLOC_REALLOC: /* the block moved (or grew where it was) */
    live_add(t, ev->address, live_take(t, ev->old_address, &found) + ev->weight);
    break;
  case SC_ALLOC_FREE:
    live_take(t, ev->address, &found);
    if (!found) t->unmatched_frees++; /* sampled before the hook was in */
    break;
  default:
    break;
  }
  if (ev->kind == SC_ALLOC_MALLOC || (ev->kind == SC_ALLOC_REALLOC && ev->weight)) {
    if (ev->file && ev->line > 0) count_site(t, ev);
    else t->no_line++;
  } else if (ev->kind == SC_ALLOC_COPY && !(ev->file && ev->line > 0)) {
    t->no_line++;
  }
  pthread_mutex_unlock(&t->lock);
}

/* ======================================================================== */
/* The workload                                                             */
/* ======================================================================== */

static int g_site_line; /* the line of the allocation site, for the report */

static __attribute__((noinline)) void allocate_blocks(char **blocks) {
  for (int i = 0; i < BLOCKS; i++) {
    g_site_line = __LINE__ + 1;
    blocks[i] = malloc(BLOCK_SIZE); /* [alloc_hook: site] */
    if (!blocks[i]) {
      fputs("alloc_hook: out of memory\n", stderr);
      exit(1);
    }
    memset(blocks[i], i & 0xff, BLOCK_SIZE);
  }
}

static __attribute__((noinline)) void copy_buffers(void) {
  char *a = malloc(COPY_SIZE), *b = malloc(COPY_SIZE);
  if (!a || !b) {
    fputs("alloc_hook: out of memory\n", stderr);
    exit(1);
  }
  memset(a, 1, COPY_SIZE);
  for (int i = 0; i < COPIES; i++) {
    a[i] = (char)i;
    memcpy(b, a, COPY_SIZE); /* [alloc_hook: copy] */
  }
  free(a);
  free(b);
}

static __attribute__((noinline)) void grow_some(char **blocks) {
  for (int i = 0; i < BLOCKS; i += 16) {
    char *p = realloc(blocks[i], 2 * BLOCK_SIZE); /* [alloc_hook: grow] */
    if (!p) {
      fputs("alloc_hook: out of memory\n", stderr);
      exit(1);
    }
    memset(p + BLOCK_SIZE, 2, BLOCK_SIZE);
    blocks[i] = p;
  }
}

static const char *kind_name(int k) {
  static const char *names[] = {"?", "malloc", "free", "realloc", "copy"};
  return k >= 1 && k <= 4 ? names[k] : "?";
}

int main(void) {
  /* Options: the defaults, then SCALENE_* from the environment.  Every
   * allocation event of a registered thread waits in that thread's ring
   * until the ticker drains it (every drain-interval seconds): a bigger
   * ring than the default keeps a fast allocation loop from losing
   * events, unless the environment chose a size. */
  sc_options_t *opts;
  const char *bad = NULL;
  CHECK(sc_options_create(&opts));
  int rc = sc_options_load_env(opts, &bad);
  if (rc < 0) {
    fprintf(stderr, "alloc_hook: %s: %s\n", bad ? bad : "environment", sc_strerror(rc));
    return 1;
  }
  bool ring_set = false;
  CHECK(sc_options_is_set(opts, SC_OPT_RING_CAPACITY, &ring_set));
  if (!ring_set) CHECK(sc_options_set_int(opts, SC_OPT_RING_CAPACITY, 65536));
  int64_t window = 0;
  CHECK(sc_options_get_int(opts, SC_OPT_ALLOCATION_SAMPLING_WINDOW, &window));

  /* A native session: no frame resolver.  Memory is sampled for every
   * thread; CPU time only for registered ones. */
  sc_session_t *s;
  CHECK(sc_session_start(&s, opts, NULL));
  sc_options_destroy(opts);
  CHECK(sc_alloc_hook(s, on_event, &g_totals));
  static int main_ctx; /* any non-NULL pointer: native sessions ignore it */
  sc_thread_t *me;
  CHECK(sc_thread_register(s, &main_ctx, SC_THREAD_MAIN, "main", &me));

  /* No printing while the session runs: stdio's own buffers would be
   * allocation events too. */
  char **blocks = calloc(BLOCKS, sizeof *blocks);
  if (!blocks) return 1;
  allocate_blocks(blocks);
  copy_buffers();
  grow_some(blocks);
  for (int i = 0; i < BLOCKS; i++) free(blocks[i]);
  free(blocks);

  CHECK(sc_thread_unregister(me));
  CHECK(sc_session_stop(s)); /* delivers the events still queued */
  sc_session_stats_t st = {.size = sizeof st};
  CHECK(sc_session_stats(s, &st));

  struct totals *t = &g_totals;
  pthread_mutex_lock(&t->lock);
  printf("alloc_hook: %d blocks of %d bytes allocated at %s:%d, %d copies of %u bytes, "
         "sampling window %lld bytes\n",
         BLOCKS, BLOCK_SIZE, __FILE__, g_site_line, COPIES, COPY_SIZE, (long long)window);
  printf("%-8s %10s %14s %14s\n", "kind", "events", "bytes", "weight");
  for (int k = SC_ALLOC_MALLOC; k <= SC_ALLOC_COPY; k++)
    printf("%-8s %10llu %14llu %14llu\n", kind_name(k), (unsigned long long)t->kind[k].events,
           (unsigned long long)t->kind[k].bytes, (unsigned long long)t->kind[k].weight);
  printf("python events: %llu\n", (unsigned long long)t->python);
  printf("samples without a source line: %llu\n", (unsigned long long)t->no_line);
  printf("allocation sites (samples, bytes they stand for):\n");
  for (int i = 0; i < t->nsites; i++) {
    const struct site *si = &t->sites[i];
    printf("  site %s:%d %s samples=%llu weight=%llu\n", si->file, si->line, si->function,
           (unsigned long long)si->samples, (unsigned long long)si->weight);
  }
  printf("live sampled bytes at the end: %llu (unmatched frees: %llu)\n",
         (unsigned long long)t->live_total, (unsigned long long)t->unmatched_frees);
  printf("dropped samples: %llu\n", (unsigned long long)st.dropped);
  uint64_t events = t->kind[SC_ALLOC_MALLOC].events + t->kind[SC_ALLOC_FREE].events;
  pthread_mutex_unlock(&t->lock);

  sc_session_free(s);
  if (events == 0) {
    fputs("alloc_hook: no allocation event arrived: run me with "
          "LD_PRELOAD=/path/to/libscalenecore_preload.so\n",
          stderr);
    return 2;
  }
  return 0;
}
