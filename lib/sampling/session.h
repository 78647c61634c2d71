/* session.h - the session's internals, shared by the sampling, aggregation
 * and export layers.
 *
 * Data flow: a per-thread CPU timer fires -> the signal handler (signal.c)
 * captures raw frames through the binding's resolver into the thread's
 * preallocated single-producer ring -> the ticker thread (session.c) copies
 * the rings out, resolves new raw frames once each and folds every sample
 * into the aggregate (aggregate.c) -> exporters (export/) build a document
 * from the aggregate. */
#ifndef SC_SESSION_H
#define SC_SESSION_H

#define _GNU_SOURCE 1
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "../common/internal.h"
#include "../common/map.h"
#include "../config/options.h"
#include "../common/value.h"

#define SC_MAX_THREADS 4096 /* threads registered at the same time */
#define SC_MAX_RANGES 64

enum { SC__RUNNING = 0, SC__PAUSED = 1, SC__STOPPED = 2 };

/* One sample in a ring; followed in memory by `max_frames` raw frames.
 * `kind` 0 is a CPU or blocked-time sample; SC__EV_* (alloc/preload_abi.h)
 * a memory event from the sampling allocator, whose `pc` is the return
 * address into the allocating code. */
typedef struct sc__entry {
  uint64_t cpu_ns, sys_ns, blocked_ns, wall_ns, proc_cpu_ns;
  uintptr_t pc;
  uint32_t nframes;
  uint32_t flags; /* SC_CAPTURE_* */
  uint32_t kind, domain;
  pid_t tid;
  uint64_t bytes, weight, t_ns;
  uintptr_t addr, old_addr;
  sc_raw_frame_t frames[];
} sc__entry;

/* Raw frames of native sessions (no binding resolver): `code` is a program
 * counter, `pos` says which kind. */
#define SC__POS_PC INT64_MIN          /* an interrupted instruction */
#define SC__POS_RETURN (INT64_MIN + 1) /* a return address (call site) */

/* Bounded lock-free multi-producer queue of entries for memory events of
 * threads that are not registered (one consumer: the drain). */
typedef struct sc__mpsc {
  unsigned char *buf;
  _Atomic uint64_t *seq;
  size_t cap;
  size_t entry_size; /* at most the session's: an entry with one frame */
  _Atomic uint64_t head;
  uint64_t tail;
} sc__mpsc;

/* Single-producer single-consumer ring of fixed-size entries. */
typedef struct sc__ring {
  unsigned char *buf;
  size_t cap;
  _Atomic uint64_t head, tail;
} sc__ring;

/* Reserve the next slot (NULL when full), then publish it. */
sc__entry *sc__ring_slot(sc__ring *r, size_t entry_size);
void sc__ring_publish(sc__ring *r);
/* On thread t itself (signal handler or allocator sink): reserve a slot of
 * its ring, or NULL (nested in another push, or full: counted as dropped).
 * A non-NULL slot must be finished with sc__push_end, which publishes it
 * when `keep` (else counts a drop). */
struct sc_thread;
sc__entry *sc__push_begin(struct sc_thread *t);
void sc__push_end(struct sc_thread *t, int keep);

struct sc_thread {
  sc_session_t *session;
  _Atomic(void *) ctx; /* NULL once unregistered */
  atomic_int tk_busy;   /* the ticker is capturing this thread right now */
  uint32_t flags;    /* SC_THREAD_* */
  uint32_t index;    /* into the aggregate's thread table */
  int slot;          /* index in the global slot table, -1 when none */
  pid_t tid;
  pthread_t pthread;
  clockid_t cpu_clock;
  char *name;
  timer_t timer;
  int has_timer;
  atomic_int alive;
  /* CPU samples: written by the thread's signal handler, read by drains */
  sc__ring ring;
  /* blocked-time samples of main threads: written by the ticker */
  sc__ring blocked;
  volatile sig_atomic_t in_sample;
  _Atomic uint64_t dropped;
  /* owned by the sampled thread's signal handler */
  uint64_t last_cpu, last_sys;
  unsigned last_epoch;
  int first_tick; /* the timer's first expiry, at a random point of an interval, is still to come */
  /* owned by the ticker: blocked-time accounting of main threads */
  uint64_t tk_wall, tk_cpu, tk_runq;
  int schedstat_fd; /* /proc/self/task/<tid>/schedstat of main threads, or -1 */
  struct sc_thread *next;
};

/* Where a resolved raw frame lands. */
typedef struct sc__loc {
  uint32_t file, func; /* string ids */
  int32_t line, func_line;
  uint32_t flags;      /* SC_FRAME_* */
} sc__loc;

/* Time charged to one (line or function, thread). */
typedef struct sc__cost {
  uint64_t python_ns, native_ns, sys_ns, blocked_ns;
  uint64_t samples;         /* CPU samples (the thread was on a CPU) */
  uint64_t blocked_samples; /* off-CPU samples from the ticker */
  uint64_t proc_cpu_ns, wall_ns;
  /* memory, charged to the record of thread index 0 whatever the thread */
  double m_python, m_native; /* bytes allocated (sampled estimates) */
  double m_live, m_peak;     /* this line's allocations still held; max */
  double m_copy;             /* bytes copied */
  double m_avg_sum;          /* sum of m_live after each event */
  uint64_t m_mallocs, m_frees, m_avg_n; /* sampled allocations, how many freed */
  uint32_t m_series;         /* 1 + index of its footprint series, 0 none */
} sc__cost;

/* A bounded time series (decimated by halving when full). */
typedef struct sc__series {
  float *t, *v;
  uint32_t n, cap, stride, skip;
} sc__series;

typedef struct sc__line_key {
  uint32_t file;
  int32_t line;
  uint32_t thread;
} sc__line_key;

typedef struct sc__func_key {
  uint32_t file, func;
  int32_t func_line;
  uint32_t thread;
} sc__func_key;

typedef struct sc__thread_info {
  pid_t tid;
  char *name;
  sc__cost cost; /* everything the thread was charged, profiled or not */
} sc__thread_info;

typedef struct sc__aggregate {
  sc__strtab strings;
  sc__map frames; /* sc_raw_frame_t -> sc__loc */
  sc__map lines;  /* sc__line_key -> sc__cost */
  sc__map funcs;  /* sc__func_key -> sc__cost */
  sc__thread_info *threads;
  size_t nthreads, cap_threads;
  uint64_t total_ns, unattributed_ns;
  uint64_t samples, unattributed; /* every sample, CPU and blocked */
  uint64_t cpu_samples;           /* of which CPU samples */
  /* memory */
  struct sc__live *live;          /* live sampled blocks, by address */
  size_t live_n, live_cap;
  struct sc__live *early_free;    /* frees seen before their allocation */
  size_t early_n, early_cap;
  sc__series *series;             /* per-line footprints; [0] is global */
  size_t nseries, cap_series;
  double mem_live, mem_live_python, mem_peak, mem_peak_python;
  uint32_t mem_peak_file;
  int32_t mem_peak_line;
  double mem_python, mem_native, mem_copy;
  uint64_t alloc_samples;
} sc__aggregate;

struct sc_session {
  sc_options_t *opts;
  sc_frame_resolver_t resolver;
  pid_t pid;
  int signo;
  uint64_t interval_ns, drain_ns;
  size_t max_frames, ring_cap, entry_size;
  int virtual_time;
  atomic_int state;
  atomic_uint epoch; /* bumped by every resume */
  struct sigaction old_action;
  int handler_installed;

  uintptr_t range_lo[SC_MAX_RANGES], range_hi[SC_MAX_RANGES];
  atomic_int nranges;

  pthread_mutex_t lock; /* threads list; never taken on the signal path */
  sc_thread_t *threads;
  uint64_t threads_ever;

  /* Lock order: drain_lock, then lock or agg_lock (never both).  No lock
   * of ours is held while resolve() runs except drain_lock. */
  pthread_mutex_t drain_lock; /* one drain at a time; the batch buffers */
  pthread_mutex_t agg_lock;   /* the aggregate */
  sc__aggregate agg;
  unsigned char *batch;
  size_t batch_cap; /* in entries */
  sc_raw_frame_t *misses;
  sc__loc *miss_locs;
  size_t miss_cap;

  pthread_t ticker;
  int ticker_running;
  pthread_mutex_t stop_lock; /* serialises sc_session_stop */
  int ever_running;          /* sampling was on at some point */
  _Atomic uint64_t util_ppm; /* process CPU / (wall x cores), last tick, x1e6 */
  long ncpu;
  _Atomic uint64_t dropped_other; /* lost outside the rings' counters */
  pthread_mutex_t tick_lock;
  pthread_cond_t tick_cond;
  int tick_stop;

  /* memory profiling (alloc/memory.c) */
  int native;                 /* no binding resolver: frames are PCs */
  struct sc__sym *sym;        /* native symbolizer, created on first use */
  int mem_on;                 /* attached to the sampling allocator */
  const char *mem_reason;     /* why memory is not profiled, or NULL */
  const void *preload;        /* the preload's sc__preload_api */
  sc__mpsc orphans;
  sc_alloc_hook_fn hook;
  void *hook_user;
  int leak_detector;
  atomic_int drain_soon;      /* a ring is filling up: drain at the next tick */

  pthread_mutex_t meta_lock;
  struct sc__value *meta; /* object: key -> string or array of strings */
  uint64_t start_ns, stop_ns;
  double start_epoch;
};

/* aggregate.c */
int sc__agg_init(sc__aggregate *a);
void sc__agg_free(sc__aggregate *a);
/* Copy every ring out and fold it into the aggregate.  Calls the
 * resolver's resolve() for raw frames not seen before.  Takes agg_lock. */
void sc__drain(sc_session_t *s);
/* Charge one sample of thread `t` (blocked time from the ticker). */
void sc__agg_add(sc_session_t *s, sc_thread_t *t, const sc__entry *e);
int sc__agg_thread(sc__aggregate *a, pid_t tid, const char *name, uint32_t *index);
/* The innermost profiled frame of `e`, or NULL (caller holds agg_lock). */
const sc__loc *sc__agg_locate(const sc__aggregate *a, const sc__entry *e);
int sc__is_native(const sc_session_t *s, uintptr_t pc, uint32_t flags);

/* alloc/memory.c */
int sc__mem_start(sc_session_t *s);
void sc__mem_stop(sc_session_t *s);
void sc__mem_free(sc_session_t *s);
/* Fold one memory event (caller holds agg_lock; frames resolved); returns
 * where it was charged, or NULL. */
const sc__loc *sc__mem_add(sc_session_t *s, const sc__entry *e);
/* Fold the memory events of a batch in time order; then the hook. */
void sc__mem_fold_batch(sc_session_t *s, size_t n);
void sc__series_add(sc__series *sr, double t, double v);
/* Resolve native raw frames (pos SC__POS_*) with the symbolizer. */
void sc__mem_resolve_native(sc_session_t *s, const sc_raw_frame_t *f, size_t n, sc_frame_info_t *out);
/* Pop the oldest entry into `dst` (the queue's entry_size bytes); 0 when
 * there is none. */
int sc__mpsc_pop(sc__mpsc *q, void *dst);
int sc__capture_native(const sc_session_t *s, sc__entry *e);
void sc__mem_agg_free(sc__aggregate *a);
/* The drain's batch: entries, each followed by its thread (NULL: orphan). */
#define SC__BATCH_STRIDE(s) ((s)->entry_size + sizeof(sc_thread_t *))
#define SC__BATCH_ENTRY(s, i) ((sc__entry *)((s)->batch + (i) * SC__BATCH_STRIDE(s)))
#define SC__BATCH_THREAD(s, i) (*(sc_thread_t **)((s)->batch + (i) * SC__BATCH_STRIDE(s) + (s)->entry_size))
/* Set the calling thread's registration (NULL: none). */
void sc__mem_set_self(sc_thread_t *t);
/* The preload's API when it is in the process, else NULL. */
const void *sc__preload_find(void);
/* Keep the calling thread (one of ours) out of the allocation sampler. */
void sc__mem_exclude_self(sc_session_t *s);

/* session.c: a forked child may start a session of its own */
void sc__session_atfork_child(void);

/* platform/linux.c: nanoseconds the thread `fd` describes has waited on a
 * run queue (runnable, no CPU free), or 0 when unknown. */
uint64_t sc__schedstat_runq_ns(int fd);
int sc__schedstat_open(pid_t tid);

/* signal.c */
int sc__signal_install(sc_session_t *s);
void sc__signal_restore(sc_session_t *s);
int sc__slot_acquire(sc_thread_t *t);
void sc__slot_release(sc_thread_t *t);
void sc__signal_quiesce(void);
/* Capture frames of t into e (ring entry layout).  Returns 0, or a
 * negative code when the resolver refused (the sample is to be dropped). */
int sc__capture(sc_session_t *s, sc_thread_t *t, sc__entry *e);
/* Fill wall_ns / proc_cpu_ns of a sample standing for `ns` of time so that
 * its core utilization is the one the ticker measured last. */
void sc__stamp_util(const sc_session_t *s, sc__entry *e, uint64_t ns);
int sc__forked_child(const sc_session_t *s);

#endif
