/* signal.c - the sampling signal: its handler, the global slot table that
 * maps a timer's payload to its thread, and sc_sample().
 *
 * The handler only reads clocks, copies frames through the resolver and
 * pushes into the thread's preallocated ring: no malloc, no locks, no
 * stdio; errno is saved and restored. */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "session.h"

static _Atomic(sc_thread_t *) g_slots[SC_MAX_THREADS];
static atomic_int g_in_flight; /* handlers running right now */
static pthread_mutex_t g_slot_lock = PTHREAD_MUTEX_INITIALIZER;

/* In a forked child only the forking thread exists: whatever another
 * parent thread held at fork time must start out free, and no slot of the
 * parent's threads may be sampled (their timers were not inherited). */
static void atfork_child(void) {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  g_slot_lock = fresh;
  for (int i = 0; i < SC_MAX_THREADS; i++) atomic_store(&g_slots[i], NULL);
  atomic_store(&g_in_flight, 0);
  sc__session_atfork_child();
}

static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { pthread_atfork(NULL, NULL, atfork_child); }

int sc__slot_acquire(sc_thread_t *t) {
  pthread_mutex_lock(&g_slot_lock);
  int found = -1;
  for (int i = 0; i < SC_MAX_THREADS; i++) {
    if (atomic_load(&g_slots[i]) == NULL) {
      atomic_store(&g_slots[i], t);
      found = i;
      break;
    }
  }
  pthread_mutex_unlock(&g_slot_lock);
  t->slot = found;
  return found < 0 ? SC_ERANGE : 0;
}

void sc__slot_release(sc_thread_t *t) {
  if (t->slot < 0) return;
  pthread_mutex_lock(&g_slot_lock);
  atomic_store(&g_slots[t->slot], NULL);
  pthread_mutex_unlock(&g_slot_lock);
  t->slot = -1;
}

/* Wait until no handler is still using a slot it looked up. */
void sc__signal_quiesce(void) {
  while (atomic_load(&g_in_flight) != 0) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
}

static uintptr_t context_pc(void *uc) {
  ucontext_t *u = uc;
  if (!u) return 0;
#if defined(__x86_64__)
  return (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
  return (uintptr_t)u->uc_mcontext.pc;
#else
  return 0;
#endif
}

static void on_sample_signal(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  int saved_errno = errno;
  atomic_fetch_add(&g_in_flight, 1);
  if (si && si->si_code == SI_TIMER) {
    int idx = si->si_value.sival_int;
    sc_thread_t *t = (idx >= 0 && idx < SC_MAX_THREADS) ? atomic_load(&g_slots[idx]) : NULL;
    /* A slot may have been reused by another thread while this signal was
     * pending: only ever sample the thread the handler runs on. */
    sc_session_t *s = t ? t->session : NULL;
    /* Paused or stopped: return before any system call. */
    if (s && atomic_load_explicit(&s->state, memory_order_relaxed) != SC__RUNNING) t = NULL;
    /* Interrupting our own sample (the allocator's sink on this thread):
     * leave the clocks alone so the next tick charges this one's time. */
    if (t && t->tid == (pid_t)syscall(SYS_gettid) && !t->in_sample) {
      uint64_t cpu = sc__thread_cpu_ns(), sys = sc__thread_sys_ns();
      /* The first tick after a resume spans the pause: restart the
       * thread's clocks from here instead of charging it. */
      unsigned epoch = atomic_load_explicit(&s->epoch, memory_order_relaxed);
      int fresh = epoch != t->last_epoch;
      t->last_epoch = epoch;
      sc_sample_info_t info;
      info.size = sizeof info;
      info.cpu_ns = cpu > t->last_cpu ? cpu - t->last_cpu : 0;
      info.sys_ns = sys > t->last_sys ? sys - t->last_sys : 0;
      if (info.sys_ns > info.cpu_ns) info.sys_ns = info.cpu_ns;
      if (t->first_tick) {
        /* The first expiry came after a random part of an interval
         * (sc_thread_register): it stands for a whole one, split between
         * user and system time as measured. */
        t->first_tick = 0;
        uint64_t iv = s->interval_ns;
        info.sys_ns = info.cpu_ns ? (uint64_t)((double)iv * (double)info.sys_ns / (double)info.cpu_ns) : 0;
        info.cpu_ns = iv;
      }
      info.blocked_ns = 0;
      /* Utilization over this thread's own interval would include the
       * time it spent blocked; sc_sample stamps the ticker's figure. */
      info.wall_ns = 0;
      info.proc_cpu_ns = 0;
      info.pc = context_pc(uc);
      t->last_cpu = cpu;
      t->last_sys = sys;
      if (!fresh) (void)sc_sample(t, &info);
    }
  }
  atomic_fetch_sub(&g_in_flight, 1);
  errno = saved_errno;
}

int sc__signal_install(sc_session_t *s) {
  pthread_once(&g_atfork_once, register_atfork);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sample_signal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(s->signo, &sa, &s->old_action) != 0) return SC_ESYS;
  s->handler_installed = 1;
  return 0;
}

void sc__signal_restore(sc_session_t *s) {
  if (!s->handler_installed) return;
  /* A queued timer signal may still arrive: never leave the default
   * action (terminate) behind for it. */
  struct sigaction old = s->old_action;
  if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) {
    memset(&old, 0, sizeof old);
    old.sa_handler = SIG_IGN;
  }
  sigaction(s->signo, &old, NULL);
  s->handler_installed = 0;
}

int sc__capture(sc_session_t *s, sc_thread_t *t, sc__entry *e) {
  if (s->native) return sc__capture_native(s, e);
  size_t n = 0;
  uint32_t flags = 0;
  void *ctx = atomic_load(&t->ctx);
  if (!ctx) return SC_ESTATE;
  int rc = s->resolver.capture(s->resolver.user, ctx, e->frames, s->max_frames, &n, &flags);
  if (rc < 0) return rc;
  if (n > s->max_frames) n = s->max_frames;
  e->nframes = (uint32_t)n;
  e->flags = flags;
  return 0;
}

void sc__stamp_util(const sc_session_t *s, sc__entry *e, uint64_t ns) {
  uint64_t ppm = atomic_load_explicit(&((sc_session_t *)s)->util_ppm, memory_order_relaxed);
  e->wall_ns = ns;
  /* proc / (wall x cores) == ppm / 1e6 */
  e->proc_cpu_ns = (uint64_t)((double)ns * (double)s->ncpu * (double)ppm / 1e6);
}

SC_API int sc_sample(sc_thread_t *t, const sc_sample_info_t *info) {
  if (!t || !info || info->size < offsetof(sc_sample_info_t, pc)) return SC_EINVAL;
  sc_session_t *s = t->session;
  if (atomic_load_explicit(&s->state, memory_order_relaxed) != SC__RUNNING) return SC_ESTATE;
  sc__entry *e = sc__push_begin(t);
  if (e) {
    e->kind = 0; /* the slot may have held a memory event */
    e->cpu_ns = info->cpu_ns;
    e->sys_ns = info->sys_ns < info->cpu_ns ? info->sys_ns : info->cpu_ns; /* part of cpu_ns */
    e->blocked_ns = info->blocked_ns;
    if (info->wall_ns) {
      e->wall_ns = info->wall_ns;
      e->proc_cpu_ns = info->proc_cpu_ns;
    } else {
      sc__stamp_util(s, e, info->cpu_ns + info->blocked_ns);
    }
    e->pc = info->size > offsetof(sc_sample_info_t, pc) ? info->pc : 0;
    sc__push_end(t, sc__capture(s, t, e) == 0);
  }
  return 0;
}

sc__entry *sc__push_begin(sc_thread_t *t) {
  if (t->in_sample) {
    atomic_fetch_add_explicit(&t->dropped, 1, memory_order_relaxed);
    return NULL;
  }
  t->in_sample = 1;
  atomic_signal_fence(memory_order_seq_cst);
  sc__entry *e = sc__ring_slot(&t->ring, t->session->entry_size);
  if (!e) {
    atomic_fetch_add_explicit(&t->dropped, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    t->in_sample = 0;
  }
  return e;
}

void sc__push_end(sc_thread_t *t, int keep) {
  if (keep) sc__ring_publish(&t->ring);
  else atomic_fetch_add_explicit(&t->dropped, 1, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);
  t->in_sample = 0;
}

sc__entry *sc__ring_slot(sc__ring *r, size_t entry_size) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
  if (head - tail >= r->cap) return NULL;
  return (sc__entry *)(r->buf + (head % r->cap) * entry_size);
}

void sc__ring_publish(sc__ring *r) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  atomic_store_explicit(&r->head, head + 1, memory_order_release);
}
