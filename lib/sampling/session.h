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

/* One sample in a ring; followed in memory by `max_frames` raw frames. */
typedef struct sc__entry {
  uint64_t cpu_ns, sys_ns, blocked_ns, wall_ns, proc_cpu_ns;
  uintptr_t pc;
  uint32_t nframes;
  uint32_t flags; /* SC_CAPTURE_* */
  sc_raw_frame_t frames[];
} sc__entry;

/* Single-producer single-consumer ring of fixed-size entries. */
typedef struct sc__ring {
  unsigned char *buf;
  size_t cap;
  _Atomic uint64_t head, tail;
} sc__ring;

/* Reserve the next slot (NULL when full), then publish it. */
sc__entry *sc__ring_slot(sc__ring *r, size_t entry_size);
void sc__ring_publish(sc__ring *r);

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
} sc__cost;

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
int sc__is_native(const sc_session_t *s, uintptr_t pc, uint32_t flags);

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
