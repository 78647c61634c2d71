/* session.c - session lifecycle, thread registration, per-thread CPU
 * timers and the ticker thread (blocked-time accounting and draining). */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "session.h"

static atomic_int g_session_running;

void sc__session_atfork_child(void) { atomic_store(&g_session_running, 0); }

static void block_all_signals(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, old);
}

static uint64_t clock_ns(clockid_t c) {
  struct timespec ts;
  if (clock_gettime(c, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Off-CPU time of a main thread over the last tick, charged to where the
 * thread stands now.  A tick in which the thread was off the CPU for less
 * than a tenth of the time is scheduling noise and charges nothing; a tick
 * that straddles the end of a wait can misplace at most that one tick. */
static void account_blocked(sc_session_t *s, sc_thread_t *t) {
  uint64_t wall = sc__now_ns(), cpu = clock_ns(t->cpu_clock);
  uint64_t runq = sc__schedstat_runq_ns(t->schedstat_fd);
  uint64_t dwall = wall > t->tk_wall ? wall - t->tk_wall : 0;
  uint64_t dcpu = cpu > t->tk_cpu ? cpu - t->tk_cpu : 0;
  /* Time spent runnable but waiting for a free core is the machine being
   * busy, not the program waiting: it is not charged at all. */
  uint64_t drunq = runq > t->tk_runq ? runq - t->tk_runq : 0;
  t->tk_wall = wall;
  t->tk_cpu = cpu;
  t->tk_runq = runq;
  dcpu += drunq;
  if (atomic_load(&s->state) != SC__RUNNING) return;
  if (dwall <= dcpu || (dwall - dcpu) * 10 < dwall) return;
  sc__entry *e = sc__ring_slot(&t->blocked, s->entry_size);
  if (!e) { /* drains are late: this tick's wait is lost, and counted */
    atomic_fetch_add(&t->dropped, 1);
    return;
  }
  memset(e, 0, sizeof *e);
  e->blocked_ns = dwall - dcpu;
  sc__stamp_util(s, e, e->blocked_ns);
  /* sc_thread_unregister waits for tk_busy to clear, so ctx cannot go
   * away under this capture. */
  atomic_store(&t->tk_busy, 1);
  int rc = atomic_load(&t->alive) ? sc__capture(s, t, e) : SC_ESTATE;
  atomic_store(&t->tk_busy, 0);
  if (rc == 0) sc__ring_publish(&t->blocked);
  else if (rc != SC_ESTATE) atomic_fetch_add(&t->dropped, 1);
}

/* Process-wide core utilization over the last tick. */
static void measure_util(sc_session_t *s, uint64_t *last_wall, uint64_t *last_proc) {
  uint64_t wall = sc__now_ns(), proc = sc__process_cpu_ns();
  uint64_t dw = wall - *last_wall, dp = proc > *last_proc ? proc - *last_proc : 0;
  *last_wall = wall;
  *last_proc = proc;
  if (!dw || s->ncpu <= 0) return;
  double u = (double)dp / ((double)dw * (double)s->ncpu);
  if (u > 1) u = 1;
  atomic_store_explicit(&s->util_ppm, (uint64_t)(u * 1e6), memory_order_relaxed);
}

static void *ticker_main(void *arg) {
  sc_session_t *s = arg;
  sc__mem_exclude_self(s);
  uint64_t next_drain = sc__now_ns() + s->drain_ns;
  uint64_t util_wall = sc__now_ns(), util_proc = sc__process_cpu_ns();
  pthread_mutex_lock(&s->tick_lock);
  while (!s->tick_stop) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t t_ns = (uint64_t)ts.tv_nsec + s->interval_ns;
    ts.tv_sec += (time_t)(t_ns / 1000000000ull);
    ts.tv_nsec = (long)(t_ns % 1000000000ull);
    pthread_cond_timedwait(&s->tick_cond, &s->tick_lock, &ts);
    if (s->tick_stop) break;
    pthread_mutex_unlock(&s->tick_lock);
    measure_util(s, &util_wall, &util_proc);
    if (!s->virtual_time) {
      /* Threads are only freed with the session, so the pointers stay
       * good after the list lock is released. */
      sc_thread_t *mains[8];
      size_t nm = 0;
      pthread_mutex_lock(&s->lock);
      for (sc_thread_t *t = s->threads; t && nm < 8; t = t->next)
        if ((t->flags & SC_THREAD_MAIN) && atomic_load(&t->alive)) mains[nm++] = t;
      pthread_mutex_unlock(&s->lock);
      for (size_t i = 0; i < nm; i++) account_blocked(s, mains[i]);
    }
    if (sc__now_ns() >= next_drain || atomic_exchange(&s->drain_soon, 0)) {
      sc__drain(s);
      next_drain = sc__now_ns() + s->drain_ns;
    }
    pthread_mutex_lock(&s->tick_lock);
  }
  pthread_mutex_unlock(&s->tick_lock);
  sc__drain(s);
  return NULL;
}

SC_API int sc_session_start(sc_session_t **out, const sc_options_t *opts,
                            const sc_frame_resolver_t *resolver) {
  if (!out || (resolver && (resolver->size < sizeof(sc_frame_resolver_t) ||
                            !resolver->capture || !resolver->resolve)))
    return SC_EINVAL;
  int expected = 0;
  if (!atomic_compare_exchange_strong(&g_session_running, &expected, 1)) return SC_ESTATE;
  sc_session_t *s = sc__calloc(1, sizeof *s);
  int rc = SC_ENOMEM;
  if (!s) goto fail;
  if ((rc = sc__options_copy(opts, &s->opts)) < 0) goto fail;
  if (resolver) s->resolver = *resolver;
  else s->native = 1;
  s->pid = getpid();
  s->interval_ns = (uint64_t)(sc__opt_double(s->opts, SC_OPT_CPU_SAMPLING_RATE) * 1e9);
  s->drain_ns = (uint64_t)(sc__opt_double(s->opts, SC_OPT_DRAIN_INTERVAL) * 1e9);
  s->max_frames = (size_t)sc__opt_int(s->opts, SC_OPT_MAX_FRAMES);
  s->ring_cap = (size_t)sc__opt_int(s->opts, SC_OPT_RING_CAPACITY);
  s->entry_size = (sizeof(sc__entry) + s->max_frames * sizeof(sc_raw_frame_t) + 15) & ~(size_t)15;
  s->virtual_time = sc__opt_bool(s->opts, SC_OPT_USE_VIRTUAL_TIME);
  int64_t sig = sc__opt_int(s->opts, SC_OPT_SAMPLE_SIGNAL);
  s->signo = sig ? (int)sig : SIGRTMAX - 3;
  rc = SC_EINVAL;
  if (s->signo == SIGKILL || s->signo == SIGSTOP || s->signo > SIGRTMAX) goto fail;
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->agg_lock, NULL);
  pthread_mutex_init(&s->tick_lock, NULL);
  pthread_mutex_init(&s->meta_lock, NULL);
  pthread_mutex_init(&s->drain_lock, NULL);
  pthread_mutex_init(&s->stop_lock, NULL);
  s->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  atomic_store(&s->util_ppm, (uint64_t)(1e6 / (double)(s->ncpu > 0 ? s->ncpu : 1)));
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&s->tick_cond, &ca);
  pthread_condattr_destroy(&ca);
  rc = SC_ENOMEM;
  if (!(s->meta = sc__v_object())) goto fail;
  if ((rc = sc__agg_init(&s->agg)) < 0) goto fail;
  atomic_store(&s->state, sc__opt_bool(s->opts, SC_OPT_OFF) ? SC__PAUSED : SC__RUNNING);
  s->ever_running = !sc__opt_bool(s->opts, SC_OPT_OFF);
  s->start_ns = sc__now_ns();
  struct timeval tv;
  gettimeofday(&tv, NULL);
  s->start_epoch = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
  if ((rc = sc__mem_start(s)) < 0) goto fail;
  if ((rc = sc__signal_install(s)) < 0) {
    sc__mem_free(s);
    goto fail;
  }
  sigset_t old;
  block_all_signals(&old); /* the ticker inherits a fully blocked mask */
  int prc = pthread_create(&s->ticker, NULL, ticker_main, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (prc != 0) {
    rc = SC_ESYS;
    sc__signal_restore(s);
    sc__mem_free(s);
    goto fail;
  }
  s->ticker_running = 1;
  *out = s;
  return 0;
fail:
  if (s) {
    sc__agg_free(&s->agg);
    sc__v_free(s->meta);
    sc_options_destroy(s->opts);
    sc__free(s);
  }
  atomic_store(&g_session_running, 0);
  return rc;
}

int sc__forked_child(const sc_session_t *s) { return getpid() != s->pid; }
#define forked_child sc__forked_child

static void disarm(sc_thread_t *t) {
  if (t->has_timer) {
    timer_delete(t->timer);
    t->has_timer = 0;
  }
}

SC_API int sc_session_stop(sc_session_t *s) {
  if (!s) return SC_EINVAL;
  atomic_store(&s->state, SC__STOPPED);
  if (forked_child(s)) {
    /* The ticker, the timers and possibly-held locks are the parent's. */
    s->ticker_running = 0;
    return 0;
  }
  pthread_mutex_lock(&s->stop_lock);
  sc__mem_stop(s); /* no more allocation events; the final drain folds the rest */
  if (!s->ticker_running) {
    pthread_mutex_unlock(&s->stop_lock);
    return 0;
  }
  pthread_mutex_lock(&s->lock);
  for (sc_thread_t *t = s->threads; t; t = t->next) disarm(t);
  pthread_mutex_unlock(&s->lock);
  if (s->ticker_running) {
    pthread_mutex_lock(&s->tick_lock);
    s->tick_stop = 1;
    pthread_cond_signal(&s->tick_cond);
    pthread_mutex_unlock(&s->tick_lock);
    pthread_join(s->ticker, NULL);
    s->ticker_running = 0;
  }
  if (!s->stop_ns) s->stop_ns = sc__now_ns();
  pthread_mutex_unlock(&s->stop_lock);
  return 0;
}

SC_API void sc_session_free(sc_session_t *s) {
  if (!s) return;
  int child = forked_child(s);
  sc_session_stop(s);
  if (!child) {
    pthread_mutex_lock(&s->lock);
    for (sc_thread_t *t = s->threads; t; t = t->next) sc__slot_release(t);
    pthread_mutex_unlock(&s->lock);
    sc__signal_restore(s);
    sc__signal_quiesce();
  }
  sc_thread_t *t = s->threads;
  while (t) {
    sc_thread_t *n = t->next;
    if (t->schedstat_fd >= 0) close(t->schedstat_fd);
    sc__free(t->ring.buf);
    sc__free(t->blocked.buf);
    sc__free(t->name);
    sc__free(t);
    t = n;
  }
  sc__mem_free(s);
  sc__agg_free(&s->agg);
  sc__free(s->batch);
  sc__free(s->misses);
  sc__free(s->miss_locs);
  sc__v_free(s->meta);
  sc_options_destroy(s->opts);
  if (!child) {
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->agg_lock);
    pthread_mutex_destroy(&s->tick_lock);
    pthread_mutex_destroy(&s->meta_lock);
    pthread_mutex_destroy(&s->drain_lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->tick_cond);
  }
  sc__free(s);
  if (!child) atomic_store(&g_session_running, 0);
}

SC_API int sc_session_pause(sc_session_t *s) {
  if (!s) return SC_EINVAL;
  int expected = SC__RUNNING;
  if (atomic_compare_exchange_strong(&s->state, &expected, SC__PAUSED)) return 0;
  return expected == SC__PAUSED ? 0 : SC_ESTATE;
}

SC_API int sc_session_resume(sc_session_t *s) {
  if (!s) return SC_EINVAL;
  int now = atomic_load(&s->state);
  if (now != SC__PAUSED) return now == SC__RUNNING ? 0 : SC_ESTATE;
  /* Bump the epoch before RUNNING is visible, so that a handler seeing
   * RUNNING restarts its thread's clocks instead of charging the pause. */
  atomic_fetch_add(&s->epoch, 1);
  int expected = SC__PAUSED;
  if (atomic_compare_exchange_strong(&s->state, &expected, SC__RUNNING)) {
    s->ever_running = 1;
    return 0;
  }
  return expected == SC__RUNNING ? 0 : SC_ESTATE;
}

SC_API bool sc_session_is_sampling(const sc_session_t *s) {
  return s && !forked_child(s) && atomic_load(&((sc_session_t *)s)->state) == SC__RUNNING;
}

SC_API int sc_session_add_runtime_range(sc_session_t *s, uintptr_t lo, uintptr_t hi) {
  if (!s || lo >= hi) return SC_EINVAL;
  int n = atomic_load(&s->nranges);
  if (n >= SC_MAX_RANGES) return SC_ERANGE;
  s->range_lo[n] = lo;
  s->range_hi[n] = hi;
  atomic_store(&s->nranges, n + 1);
  return 0;
}

int sc__is_native(const sc_session_t *s, uintptr_t pc, uint32_t flags) {
  if (flags & SC_CAPTURE_IN_NATIVE_CALL) return 1;
  int n = atomic_load(&((sc_session_t *)s)->nranges);
  if (!pc || n == 0) return 0;
  for (int i = 0; i < n; i++)
    if (pc >= s->range_lo[i] && pc < s->range_hi[i]) return 0;
  return 1;
}

SC_API int sc_session_set_meta(sc_session_t *s, const char *key, const char *value) {
  if (!s || !key || !value) return SC_EINVAL;
  if (forked_child(s)) return SC_EFORKED;
  pthread_mutex_lock(&s->meta_lock);
  int rc = sc__v_set(s->meta, key, sc__v_str(value));
  pthread_mutex_unlock(&s->meta_lock);
  return rc;
}

SC_API int sc_session_set_meta_list(sc_session_t *s, const char *key,
                                    const char *const *values, size_t n) {
  if (!s || !key || (n && !values)) return SC_EINVAL;
  if (forked_child(s)) return SC_EFORKED;
  sc__value *arr = sc__v_array();
  if (!arr) return SC_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (!values[i] || sc__v_push(arr, sc__v_str(values[i])) < 0) {
      sc__v_free(arr);
      return values[i] ? SC_ENOMEM : SC_EINVAL;
    }
  }
  pthread_mutex_lock(&s->meta_lock);
  int rc = sc__v_set(s->meta, key, arr);
  pthread_mutex_unlock(&s->meta_lock);
  return rc;
}

/* A random 64-bit number for a thread's first timer expiry: the clock and
 * the thread id through the splitmix64 finaliser. */
static uint64_t first_expiry_draw(pid_t tid) {
  return sc__mix64(sc__now_ns() ^ ((uint64_t)(uint32_t)tid * 0x9e3779b97f4a7c15ull));
}

SC_API int sc_thread_register(sc_session_t *s, void *ctx, uint32_t flags, const char *name,
                              sc_thread_t **out) {
  if (!s || !out || !ctx) return SC_EINVAL;
  if (atomic_load(&s->state) == SC__STOPPED) return SC_ESTATE;
  if (forked_child(s)) return SC_EFORKED;
  pid_t tid = (pid_t)syscall(SYS_gettid);
  pthread_mutex_lock(&s->lock);
  for (sc_thread_t *o = s->threads; o; o = o->next) {
    if (atomic_load(&o->alive) && o->tid == tid) {
      pthread_mutex_unlock(&s->lock);
      return SC_EEXISTS;
    }
  }
  pthread_mutex_unlock(&s->lock);
  sc_thread_t *t = sc__calloc(1, sizeof *t);
  if (!t) return SC_ENOMEM;
  t->session = s;
  atomic_store(&t->ctx, ctx);
  t->flags = flags;
  t->tid = tid;
  t->pthread = pthread_self();
  t->slot = -1;
  t->schedstat_fd = -1;
  t->ring.cap = s->ring_cap;
  t->ring.buf = sc__calloc(t->ring.cap, s->entry_size);
  t->blocked.cap = (flags & SC_THREAD_MAIN) ? 32 : 0;
  t->blocked.buf = t->blocked.cap ? sc__calloc(t->blocked.cap, s->entry_size) : NULL;
  t->name = sc__strdup(name ? name : "");
  int rc = SC_ENOMEM;
  if (!t->ring.buf || !t->name || (t->blocked.cap && !t->blocked.buf)) goto fail;
  if (pthread_getcpuclockid(t->pthread, &t->cpu_clock) != 0) t->cpu_clock = CLOCK_THREAD_CPUTIME_ID;
  pthread_mutex_lock(&s->agg_lock);
  rc = sc__agg_thread(&s->agg, tid, t->name, &t->index);
  pthread_mutex_unlock(&s->agg_lock);
  if (rc < 0) goto fail;
  t->last_cpu = sc__thread_cpu_ns();
  t->last_sys = sc__thread_sys_ns();
  t->tk_wall = sc__now_ns();
  t->last_epoch = atomic_load(&s->epoch);
  t->tk_cpu = t->last_cpu;
  t->schedstat_fd = (flags & SC_THREAD_MAIN) ? sc__schedstat_open(tid) : -1;
  t->tk_runq = sc__schedstat_runq_ns(t->schedstat_fd);
  atomic_store(&t->alive, 1);
  if ((rc = sc__slot_acquire(t)) < 0) goto fail;
  if (!(flags & SC_THREAD_NO_TIMER)) {
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = s->signo;
    sev.sigev_value.sival_int = t->slot;
    sev._sigev_un._tid = tid;
    rc = SC_ESYS;
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t->timer) != 0) goto fail_slot;
    t->has_timer = 1;
    /* The first expiry comes after a uniformly random part of an interval
     * of the thread's CPU time, and that tick charges a whole interval
     * (on_sample_signal): a thread that runs for c < interval is then
     * sampled with probability c / interval, so its expected charge is c.
     * With the first expiry a whole interval away, a thread that used less
     * than one interval of CPU was never sampled (200 threads of 2 ms
     * each: 0.4 s of CPU and not one sample), and every thread's last
     * part-interval went uncounted. */
    struct itimerspec its;
    its.it_interval.tv_sec = (time_t)(s->interval_ns / 1000000000ull);
    its.it_interval.tv_nsec = (long)(s->interval_ns % 1000000000ull);
    uint64_t first = 1 + first_expiry_draw(tid) % s->interval_ns;
    its.it_value.tv_sec = (time_t)(first / 1000000000ull);
    its.it_value.tv_nsec = (long)(first % 1000000000ull);
    t->first_tick = 1;
    if (timer_settime(t->timer, 0, &its, NULL) != 0) goto fail_slot;
  }
  pthread_mutex_lock(&s->lock);
  t->next = s->threads;
  s->threads = t;
  s->threads_ever++;
  pthread_mutex_unlock(&s->lock);
  sc__mem_set_self(t);
  *out = t;
  return 0;
fail_slot:
  disarm(t);
  sc__slot_release(t);
fail:
  if (t->schedstat_fd >= 0) close(t->schedstat_fd);
  sc__free(t->ring.buf);
  sc__free(t->blocked.buf);
  sc__free(t->name);
  sc__free(t);
  return rc;
}

SC_API int sc_thread_unregister(sc_thread_t *t) {
  if (!t) return SC_EINVAL;
  sc_session_t *s = t->session;
  if (forked_child(s)) {
    /* Only the forking thread lives on; take none of the parent's locks. */
    atomic_store(&t->alive, 0);
    atomic_store(&t->ctx, NULL);
    return 0;
  }
  /* Keep our own sampling signal away while the slot goes. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, s->signo);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  pthread_mutex_lock(&s->lock);
  disarm(t);
  atomic_store(&t->alive, 0);
  while (atomic_load(&t->tk_busy)) { /* a blocked-time capture in flight */
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
  }
  atomic_store(&t->ctx, NULL);
  sc__mem_set_self(NULL);
  sc__slot_release(t);
  pthread_mutex_unlock(&s->lock);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return 0;
}

SC_API int sc_session_stats(sc_session_t *s, sc_session_stats_t *st) {
  if (!s || !st || st->size < sizeof(size_t)) return SC_EINVAL;
  if (forked_child(s)) return SC_EFORKED;
  sc_session_stats_t full;
  memset(&full, 0, sizeof full);
  full.size = st->size;
  pthread_mutex_lock(&s->lock);
  for (sc_thread_t *t = s->threads; t; t = t->next) full.dropped += atomic_load(&t->dropped);
  full.dropped += atomic_load(&s->dropped_other);
  full.threads = s->threads_ever;
  pthread_mutex_unlock(&s->lock);
  pthread_mutex_lock(&s->agg_lock);
  full.samples = s->agg.samples;
  full.unattributed = s->agg.unattributed;
  full.resolved_frames = sc__map_len(&s->agg.frames);
  full.total_ns = s->agg.total_ns;
  pthread_mutex_unlock(&s->agg_lock);
  full.elapsed_ns = (s->stop_ns ? s->stop_ns : sc__now_ns()) - s->start_ns;
  memcpy(st, &full, st->size < sizeof full ? st->size : sizeof full);
  return 0;
}
