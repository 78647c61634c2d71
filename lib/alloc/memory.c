/* memory.c - the core's side of memory profiling: attaching to the
 * sampling allocator (alloc/preload.c, found at run time), receiving its
 * events on the allocating thread, and folding them into per-line memory
 * figures, the live-block table, footprint series and leak scores.
 *
 * On the allocating thread (inside malloc) the sink only captures frames
 * through the resolver and pushes an entry: into the thread's own ring when
 * the thread is registered, else into a bounded lock-free multi-producer
 * queue.  Everything else happens in the drain, under agg_lock, in the
 * order the events happened (entries carry CLOCK_MONOTONIC stamps). */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sampling/session.h"
#include "../symbolize/symbolize.h"
#include "preload_abi.h"

static _Atomic(sc_session_t *) g_mem_session;
static __thread sc_thread_t *tls_self;

/* ---- the preload ------------------------------------------------------- */

const void *sc__preload_find(void) {
  sc__preload_get_fn get = (sc__preload_get_fn)dlsym(RTLD_DEFAULT, SC_PRELOAD_SYMBOL);
  if (!get) return NULL;
  const sc__preload_api *api = get();
  return api && api->abi == SC_PRELOAD_ABI ? api : NULL;
}

void sc__mem_set_self(sc_thread_t *t) { tls_self = t; }

void sc__mem_exclude_self(sc_session_t *s) {
  const sc__preload_api *api = s->preload ? s->preload : sc__preload_find();
  if (api) api->thread_exclude(1);
}

/* ---- the orphan queue (Vyukov's bounded queue, one consumer) ------------ */

static int mpsc_init(sc__mpsc *q, size_t cap, size_t entry_size) {
  q->buf = sc__calloc(cap, entry_size);
  q->seq = sc__calloc(cap, sizeof *q->seq);
  if (!q->buf || !q->seq) return SC_ENOMEM;
  q->cap = cap;
  q->entry_size = entry_size;
  for (size_t i = 0; i < cap; i++) atomic_store_explicit(&q->seq[i], i, memory_order_relaxed);
  atomic_store(&q->head, 0);
  q->tail = 0;
  return 0;
}

static void mpsc_free(sc__mpsc *q) {
  sc__free(q->buf);
  sc__free((void *)q->seq);
  memset(q, 0, sizeof *q);
}

/* Reserve a slot; NULL when full.  Publish with mpsc_publish(q, pos). */
static sc__entry *mpsc_reserve(sc__mpsc *q, uint64_t *pos_out) {
  if (!q->cap) return NULL;
  uint64_t pos = atomic_load_explicit(&q->head, memory_order_relaxed);
  for (;;) {
    uint64_t seq = atomic_load_explicit(&q->seq[pos % q->cap], memory_order_acquire);
    int64_t dif = (int64_t)(seq - pos);
    if (dif == 0) {
      if (atomic_compare_exchange_weak_explicit(&q->head, &pos, pos + 1, memory_order_relaxed,
                                                memory_order_relaxed)) {
        *pos_out = pos;
        return (sc__entry *)(q->buf + (pos % q->cap) * q->entry_size);
      }
    } else if (dif < 0) {
      return NULL;
    } else {
      pos = atomic_load_explicit(&q->head, memory_order_relaxed);
    }
  }
}

static void mpsc_publish(sc__mpsc *q, uint64_t pos) {
  atomic_store_explicit(&q->seq[pos % q->cap], pos + 1, memory_order_release);
}

int sc__mpsc_pop(sc__mpsc *q, void *dst) {
  if (!q->cap) return 0;
  uint64_t pos = q->tail;
  uint64_t seq = atomic_load_explicit(&q->seq[pos % q->cap], memory_order_acquire);
  if (seq != pos + 1) return 0;
  memcpy(dst, q->buf + (pos % q->cap) * q->entry_size, q->entry_size);
  atomic_store_explicit(&q->seq[pos % q->cap], pos + q->cap, memory_order_release);
  q->tail = pos + 1;
  return 1;
}

/* ---- the sink: on the allocating thread, inside the allocator ----------- */

static void fill(sc__entry *e, const sc__alloc_ev *ev, pid_t tid) {
  e->cpu_ns = e->sys_ns = e->blocked_ns = e->wall_ns = e->proc_cpu_ns = 0;
  e->pc = ev->caller;
  e->nframes = 0;
  e->flags = 0;
  e->kind = (uint32_t)ev->kind;
  e->domain = (uint32_t)ev->domain;
  e->tid = tid;
  e->bytes = ev->bytes;
  e->weight = ev->weight;
  e->t_ns = ev->t_ns;
  e->addr = ev->addr;
  e->old_addr = ev->old_addr;
}

static int needs_frames(const sc__alloc_ev *ev) {
  return ev->kind == SC__EV_MALLOC || ev->kind == SC__EV_COPY ||
         (ev->kind == SC__EV_REALLOC && ev->weight);
}

/* The calling thread's id, asked once per thread (and again in a forked
 * child, whose only thread inherits the forking thread's cache). */
static __thread pid_t tls_tid;
static pid_t my_tid(void) {
  if (!tls_tid) tls_tid = gettid();
  return tls_tid;
}

static void mem_sink(const sc__alloc_ev *ev) {
  sc_session_t *s = atomic_load(&g_mem_session);
  if (!s || atomic_load_explicit(&s->state, memory_order_relaxed) != SC__RUNNING) return;
  /* A native session's event needs no registration context (its one frame
   * is the caller), so it goes to the orphan queue, whose entries are 128
   * bytes: in a thread's ring (--max-frames entries of 624 bytes, 8192 of
   * them) the first lap faulted in 5 MB on the allocating thread. */
  sc_thread_t *t = s->native ? NULL : tls_self;
  if (t && (t->session != s || !atomic_load_explicit(&t->alive, memory_order_relaxed))) t = NULL;
  if (t) {
    sc__entry *e = sc__push_begin(t);
    if (!e) return;
    fill(e, ev, t->tid);
    if (needs_frames(ev) && sc__capture(s, t, e) < 0) e->nframes = 0;
    sc__push_end(t, 1);
    uint64_t used = atomic_load_explicit(&t->ring.head, memory_order_relaxed) -
                    atomic_load_explicit(&t->ring.tail, memory_order_relaxed);
    if (used * 4 > t->ring.cap) atomic_store_explicit(&s->drain_soon, 1, memory_order_relaxed);
    return;
  }
  /* A child made by fork() never gets here: mem_atfork_child detached the
   * sink before the child runs any code of its own (a child cloned
   * without fork's handlers writes into its private copy of the queue,
   * which nobody reads).  Two system calls per event were too many. */
  uint64_t pos;
  sc__entry *e = mpsc_reserve(&s->orphans, &pos);
  if (!e) {
    atomic_fetch_add_explicit(&s->dropped_other, 1, memory_order_relaxed);
    return;
  }
  fill(e, ev, my_tid());
  if (needs_frames(ev) && s->native) (void)sc__capture_native(s, e);
  mpsc_publish(&s->orphans, pos);
  if (pos % (s->orphans.cap / 4) == 0) /* every quarter of the queue */
    atomic_store_explicit(&s->drain_soon, 1, memory_order_relaxed);
}

int sc__capture_native(const sc_session_t *s, sc__entry *e) {
  e->nframes = 0;
  e->flags = 0;
  if (!e->pc) return 0;
  e->frames[0].code = e->pc;
  e->frames[0].pos = e->kind ? SC__POS_RETURN : SC__POS_PC;
  e->nframes = 1;
  (void)s;
  return 0;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void mem_atfork_child(void) {
  /* The child's allocator must not keep feeding the parent's session. */
  tls_tid = 0;
  sc_session_t *s = atomic_exchange(&g_mem_session, NULL);
  if (s && s->preload) ((const sc__preload_api *)s->preload)->detach();
}
static pthread_once_t g_fork_once = PTHREAD_ONCE_INIT;
static void register_fork(void) { pthread_atfork(NULL, NULL, mem_atfork_child); }

int sc__mem_start(sc_session_t *s) {
  s->leak_detector = sc__opt_bool(s->opts, SC_OPT_MEMORY_LEAK_DETECTOR);
  if (sc__opt_bool(s->opts, SC_OPT_CPU_ONLY) && !sc__opt_bool(s->opts, SC_OPT_MEMORY)) {
    s->mem_reason = "memory profiling is off (--cpu-only)";
    return 0;
  }
  const sc__preload_api *api = sc__preload_find();
  if (!api) {
    s->mem_reason = "memory profiling needs the sampling allocator in the process: run the "
                    "program with `scalene run`, or with LD_PRELOAD=libscalenecore_preload.so";
    return 0;
  }
  pthread_once(&g_fork_once, register_fork);
  /* Orphan events carry one frame at most (sc__capture_native), so their
   * entries have room for one, not for --max-frames: 16384 entries of 128
   * bytes take less memory than 4096 of 624 did, and two busy threads the
   * session does not know no longer fill the queue between drains. */
  size_t orphan_size = (sizeof(sc__entry) + sizeof(sc_raw_frame_t) + 15) & ~(size_t)15;
  SC_FORWARD_IF_ERROR(mpsc_init(&s->orphans, 16384, orphan_size));
  uint64_t window = (uint64_t)sc__opt_int(s->opts, SC_OPT_ALLOCATION_SAMPLING_WINDOW);
  sc_session_t *none = NULL;
  if (!atomic_compare_exchange_strong(&g_mem_session, &none, s)) {
    s->mem_reason = "another session holds the sampling allocator";
    return 0;
  }
  if (api->attach(mem_sink, window, window) < 0) {
    atomic_store(&g_mem_session, NULL);
    s->mem_reason = "another copy of the profiler holds the sampling allocator";
    return 0;
  }
  s->preload = api;
  /* While the binding's resolve() waits for the runtime's lock (a long C
   * call holding the GIL, or 16 threads queueing for it), the rings must
   * hold several gigabytes' worth of allocation events: a lost free would
   * look like a leak.  Ring pages are only touched as they are used, so a
   * thread that allocates little costs little (a thread that fills one
   * faults in 10 MiB).  8,192 entries held a third of a second of a
   * thread allocating as fast as CPython can once the allocator wrappers
   * and the frame reader got cheaper (mem_sighandler.py: 12,000 samples
   * and as many frees a second), and one run of the suite lost 8,825
   * events to a drain that fell behind; 16,384 hold twice that.  (Frees,
   * which need no stack, were tried in the orphan queue instead: its
   * 16,384 entries, shared by every thread, then overflowed under 16
   * threads queueing for the GIL.)  A native session's events all go to
   * the orphan queue (mem_sink): its rings keep their size. */
  if (!s->native && s->ring_cap < 16384) s->ring_cap = 16384;
  (void)api->python_install(); /* SC_ENOENT without CPython: fine */
  s->mem_on = 1;
  return 0;
}

void sc__mem_stop(sc_session_t *s) {
  if (!s->mem_on) return;
  if (!sc__forked_child(s)) {
    sc_session_t *me = s;
    if (atomic_compare_exchange_strong(&g_mem_session, &me, NULL))
      ((const sc__preload_api *)s->preload)->detach();
  }
}

void sc__mem_free(sc_session_t *s) {
  sc__mem_stop(s);
  mpsc_free(&s->orphans);
  if (s->sym) sc__sym_close(s->sym);
  s->sym = NULL;
}

SC_API int sc_alloc_hook(sc_session_t *s, sc_alloc_hook_fn fn, void *user) {
  if (!s) return SC_EINVAL;
  if (sc__forked_child(s)) return SC_EFORKED;
  pthread_mutex_lock(&s->drain_lock);
  s->hook = fn;
  s->hook_user = user;
  pthread_mutex_unlock(&s->drain_lock);
  return 0;
}

/* ---- native frames ------------------------------------------------------- */

void sc__mem_resolve_native(sc_session_t *s, const sc_raw_frame_t *f, size_t n,
                            sc_frame_info_t *out) {
  if (!s->sym) s->sym = sc__sym_open();
  for (size_t i = 0; i < n; i++) {
    const char *file = NULL, *func = NULL;
    int32_t line = 0, fline = 0;
    int rc = s->sym ? sc__sym_lookup(s->sym, f[i].code, f[i].pos == SC__POS_RETURN, &file, &func,
                                     &line, &fline)
                    : SC_ENOENT;
    if (rc < 0 || !file) {
      /* cached as known but not profiled: such samples are unattributed */
      out[i].file = "[unknown]";
      out[i].function = "[unknown]";
      out[i].line = 0;
      out[i].function_line = 0;
      out[i].flags = 0;
    } else {
      out[i].file = file;
      out[i].function = func ? func : "[unknown]";
      out[i].line = line;
      out[i].function_line = fline;
      out[i].flags = SC_FRAME_PROFILED;
    }
  }
}

/* ---- the live-block table: open addressing, backward-shift deletion ------ */

typedef struct sc__live {
  uintptr_t addr; /* 0: empty */
  uint32_t file, func;
  int32_t line, func_line;
  double w;
  uint64_t t;
  int python;
  int attributed;
} sc__live;

static size_t live_slot(uintptr_t addr, size_t cap) {
  return (size_t)(((uint64_t)addr >> 4) * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
}

static int live_grow(sc__live **tab, size_t *cap, size_t n) {
  if ((n + 1) * 2 <= *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : 1024;
  sc__live *nt = sc__calloc(ncap, sizeof *nt);
  if (!nt) return SC_ENOMEM;
  for (size_t i = 0; i < *cap; i++) {
    if (!(*tab)[i].addr) continue;
    size_t j = live_slot((*tab)[i].addr, ncap);
    while (nt[j].addr) j = (j + 1) & (ncap - 1);
    nt[j] = (*tab)[i];
  }
  sc__free(*tab);
  *tab = nt;
  *cap = ncap;
  return 0;
}

static int live_put(sc__live **tab, size_t *cap, size_t *n, const sc__live *v) {
  SC_FORWARD_IF_ERROR(live_grow(tab, cap, *n));
  size_t j = live_slot(v->addr, *cap);
  while ((*tab)[j].addr && (*tab)[j].addr != v->addr) j = (j + 1) & (*cap - 1);
  if (!(*tab)[j].addr) (*n)++;
  (*tab)[j] = *v;
  return 0;
}

static int live_take(sc__live *tab, size_t cap, size_t *n, uintptr_t addr, sc__live *out) {
  if (!cap) return 0;
  size_t j = live_slot(addr, cap);
  while (tab[j].addr && tab[j].addr != addr) j = (j + 1) & (cap - 1);
  if (!tab[j].addr) return 0;
  *out = tab[j];
  /* backward shift: pull later members of the cluster into the hole */
  size_t hole = j;
  for (size_t k = (j + 1) & (cap - 1); tab[k].addr; k = (k + 1) & (cap - 1)) {
    size_t home = live_slot(tab[k].addr, cap);
    int movable = hole <= k ? (home <= hole || home > k) : (home <= hole && home > k);
    if (movable) {
      tab[hole] = tab[k];
      hole = k;
    }
  }
  memset(&tab[hole], 0, sizeof tab[hole]);
  (*n)--;
  return 1;
}

/* ---- series -------------------------------------------------------------- */

#define SC__LINE_POINTS 64
#define SC__GLOBAL_POINTS 512

static int series_new(sc__aggregate *a, uint32_t cap, uint32_t *idx) {
  SC_FORWARD_IF_ERROR(SC__GROW(a->series, a->cap_series, a->nseries, 64));
  sc__series *sr = &a->series[a->nseries];
  memset(sr, 0, sizeof *sr);
  sr->t = sc__malloc(cap * sizeof *sr->t);
  sr->v = sc__malloc(cap * sizeof *sr->v);
  if (!sr->t || !sr->v) {
    sc__free(sr->t);
    sc__free(sr->v);
    return SC_ENOMEM;
  }
  sr->cap = cap;
  sr->stride = 1;
  *idx = (uint32_t)a->nseries++;
  return 0;
}

void sc__series_add(sc__series *sr, double t, double v) {
  if (++sr->skip < sr->stride) {
    /* a point stands for its stride of updates: keep their peak */
    if (sr->n && (float)v > sr->v[sr->n - 1]) sr->v[sr->n - 1] = (float)v;
    return;
  }
  sr->skip = 0;
  if (sr->n == sr->cap) {
    /* halve: each pair becomes one point holding the pair's peak */
    uint32_t k = 0;
    for (uint32_t i = 0; i < sr->n; i += 2, k++) {
      sr->t[k] = sr->t[i];
      sr->v[k] = i + 1 < sr->n && sr->v[i + 1] > sr->v[i] ? sr->v[i + 1] : sr->v[i];
    }
    sr->n = k;
    sr->stride *= 2;
  }
  sr->t[sr->n] = (float)t;
  sr->v[sr->n] = (float)v;
  sr->n++;
}

void sc__mem_agg_free(sc__aggregate *a) {
  sc__free(a->live);
  sc__free(a->early_free);
  for (size_t i = 0; i < a->nseries; i++) {
    sc__free(a->series[i].t);
    sc__free(a->series[i].v);
  }
  sc__free(a->series);
}

/* ---- folding ------------------------------------------------------------- */

#define MB (1024.0 * 1024.0)

static double seconds(const sc_session_t *s, uint64_t t_ns) {
  return t_ns > s->start_ns ? (double)(t_ns - s->start_ns) / 1e9 : 0.0;
}

static sc__cost *line_cost(sc__aggregate *a, uint32_t file, int32_t line) {
  sc__line_key lk = {file, line, 0};
  return sc__map_upsert(&a->lines, &lk, NULL);
}

static sc__cost *func_cost(sc__aggregate *a, uint32_t file, uint32_t func, int32_t fline) {
  sc__func_key fk = {file, func, fline, 0};
  return sc__map_upsert(&a->funcs, &fk, NULL);
}

/* After a change of c->m_live: its peak and average; a line (`series`)
 * also records it in its footprint series. */
static void live_changed(sc__aggregate *a, sc__cost *c, double t, int series) {
  if (c->m_live < 0) c->m_live = 0;
  if (c->m_live > c->m_peak) c->m_peak = c->m_live;
  c->m_avg_sum += c->m_live;
  c->m_avg_n++;
  if (!series) return;
  if (!c->m_series) {
    uint32_t idx;
    if (series_new(a, SC__LINE_POINTS, &idx) == 0) c->m_series = idx + 1;
  }
  if (c->m_series) sc__series_add(&a->series[c->m_series - 1], t, c->m_live / MB);
}

static void global_changed(sc_session_t *s, double t, const sc__live *where) {
  sc__aggregate *a = &s->agg;
  if (a->mem_live < 0) a->mem_live = 0;
  if (a->mem_live_python < 0) a->mem_live_python = 0;
  if (a->mem_live > a->mem_peak) {
    a->mem_peak = a->mem_live;
    a->mem_peak_python = a->mem_live_python;
    if (where && where->attributed) {
      a->mem_peak_file = where->file + 1;
      a->mem_peak_line = where->line;
    }
  }
  if (a->nseries) sc__series_add(&a->series[0], t, a->mem_live / MB);
}

static void add_alloc(sc__cost *c, double w, int python) {
  if (!c) return;
  if (python) c->m_python += w;
  else c->m_native += w;
  c->m_mallocs++;
}

/* The line's and the function's costs of an allocation site (both NULL
 * for a site no profiled frame claims).  Each stays valid until the next
 * insertion into its own map, so one event looks them up once. */
typedef struct sc__site {
  sc__cost *line, *func;
} sc__site;

static sc__site site_of(sc__aggregate *a, const sc__live *v) {
  sc__site c = {NULL, NULL};
  if (!v->attributed) return c;
  c.line = line_cost(a, v->file, v->line);
  c.func = func_cost(a, v->file, v->func, v->func_line);
  return c;
}

/* `w` bytes allocated (sampled) at the site `v`. */
static void charge_alloc(sc_session_t *s, const sc__live *v, sc__site c, double w) {
  sc__aggregate *a = &s->agg;
  if (v->python) a->mem_python += w;
  else a->mem_native += w;
  add_alloc(c.line, w, v->python);
  add_alloc(c.func, w, v->python);
}

static void add_live(sc__aggregate *a, sc__cost *c, double dw, int freed, double t, int series) {
  if (!c) return;
  c->m_live += dw;
  c->m_frees += (uint64_t)freed;
  live_changed(a, c, t, series);
}

/* Change the live bytes of an allocation site by `dw`. */
static void site_live(sc_session_t *s, sc__site c, double dw, int freed, double t) {
  add_live(&s->agg, c.line, dw, freed, t, 1);
  add_live(&s->agg, c.func, dw, freed, t, 0);
}

static int early_take(sc__aggregate *a, uintptr_t addr, uint64_t t_alloc) {
  sc__live v;
  if (!live_take(a->early_free, a->early_cap, &a->early_n, addr, &v)) return 0;
  return v.t >= t_alloc;
}

static void early_put(sc__aggregate *a, uintptr_t addr, uint64_t t) {
  if (a->early_n > 65536) { /* stale: frees of blocks allocated before attach */
    memset(a->early_free, 0, a->early_cap * sizeof *a->early_free);
    a->early_n = 0;
  }
  sc__live v;
  memset(&v, 0, sizeof v);
  v.addr = addr;
  v.t = t;
  (void)live_put(&a->early_free, &a->early_cap, &a->early_n, &v);
}

const sc__loc *sc__mem_add(sc_session_t *s, const sc__entry *e) {
  sc__aggregate *a = &s->agg;
  if (!a->nseries) { /* series 0 is the program's footprint */
    uint32_t idx;
    if (series_new(a, SC__GLOBAL_POINTS, &idx) < 0) return NULL;
  }
  double t = seconds(s, e->t_ns), w = (double)e->weight;
  sc__live v;
  memset(&v, 0, sizeof v);
  const sc__loc *loc = e->kind == SC__EV_FREE ? NULL : sc__agg_locate(a, e);
  if (loc) {
    v.file = loc->file;
    v.func = loc->func;
    v.line = loc->line;
    v.func_line = loc->func_line;
    v.attributed = 1;
  }
  v.python = e->domain == SC__DOM_PYTHON;
  v.addr = e->addr;
  v.w = w;
  v.t = e->t_ns;
  switch (e->kind) {
  case SC__EV_MALLOC: {
    sc__site c = site_of(a, &v);
    a->alloc_samples++;
    charge_alloc(s, &v, c, w);
    if (e->addr && early_take(a, e->addr, e->t_ns)) { /* freed before we saw it */
      site_live(s, c, 0, 1, t);
      break;
    }
    a->mem_live += w;
    if (v.python) a->mem_live_python += w;
    site_live(s, c, w, 0, t);
    if (e->addr) (void)live_put(&a->live, &a->live_cap, &a->live_n, &v);
    global_changed(s, t, &v);
    break;
  }
  case SC__EV_FREE: {
    sc__live old;
    if (!live_take(a->live, a->live_cap, &a->live_n, e->addr, &old)) {
      early_put(a, e->addr, e->t_ns);
      break;
    }
    a->mem_live -= old.w;
    if (old.python) a->mem_live_python -= old.w;
    site_live(s, site_of(a, &old), -old.w, 1, t);
    global_changed(s, t, NULL);
    break;
  }
  case SC__EV_REALLOC: {
    sc__live old;
    int found = live_take(a->live, a->live_cap, &a->live_n, e->old_addr, &old);
    sc__site c = {NULL, NULL};
    if (w > 0) {
      c = site_of(a, &v);
      a->alloc_samples++;
      charge_alloc(s, &v, c, w);
    }
    if (found) {
      old.addr = e->addr;
      old.w += w;
      (void)live_put(&a->live, &a->live_cap, &a->live_n, &old);
      if (w > 0) {
        a->mem_live += w;
        if (old.python) a->mem_live_python += w;
        site_live(s, site_of(a, &old), w, 0, t);
        global_changed(s, t, &old);
      }
    } else if (w > 0) {
      a->mem_live += w;
      if (v.python) a->mem_live_python += w;
      site_live(s, c, w, 0, t);
      (void)live_put(&a->live, &a->live_cap, &a->live_n, &v);
      global_changed(s, t, &v);
    }
    break;
  }
  case SC__EV_COPY: {
    a->mem_copy += w;
    if (v.attributed) {
      sc__cost *lc = line_cost(a, v.file, v.line);
      if (lc) lc->m_copy += w;
      sc__cost *fc = func_cost(a, v.file, v.func, v.func_line);
      if (fc) fc->m_copy += w;
    }
    break;
  }
  default:
    break;
  }
  return loc;
}

static int cmp_time(const void *x, const void *y) {
  const sc__entry *a = *(const sc__entry *const *)x, *b = *(const sc__entry *const *)y;
  return a->t_ns < b->t_ns ? -1 : a->t_ns > b->t_ns;
}

/* Caller holds drain_lock, not agg_lock. */
void sc__mem_fold_batch(sc_session_t *s, size_t n) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) m += SC__BATCH_ENTRY(s, i)->kind != 0;
  if (!m) return;
  const sc__entry **ev = sc__malloc(m * sizeof *ev);
  sc_alloc_event_t *out = s->hook ? sc__calloc(m, sizeof *out) : NULL;
  if (!ev) {
    atomic_fetch_add(&s->dropped_other, m);
    sc__free(out);
    return;
  }
  m = 0;
  for (size_t i = 0; i < n; i++)
    if (SC__BATCH_ENTRY(s, i)->kind != 0) ev[m++] = SC__BATCH_ENTRY(s, i);
  /* One thread's events arrive in order: most batches need no sort. */
  size_t sorted = 1;
  while (sorted < m && ev[sorted - 1]->t_ns <= ev[sorted]->t_ns) sorted++;
  if (sorted < m) qsort(ev, m, sizeof *ev, cmp_time);
  pthread_mutex_lock(&s->agg_lock);
  for (size_t i = 0; i < m; i++) {
    const sc__loc *l = sc__mem_add(s, ev[i]);
    if (!out) continue;
    sc_alloc_event_t *o = &out[i];
    o->size = sizeof *o;
    o->kind = (sc_alloc_kind_t)ev[i]->kind;
    o->python = ev[i]->domain == SC__DOM_PYTHON;
    o->bytes = ev[i]->bytes;
    o->weight = ev[i]->weight;
    o->address = ev[i]->addr;
    o->old_address = ev[i]->old_addr;
    o->tid = ev[i]->tid;
    o->time_ns = ev[i]->t_ns > s->start_ns ? ev[i]->t_ns - s->start_ns : 0;
    if (l) { /* interned strings live as long as the session */
      o->file = sc__strtab_str(&s->agg.strings, l->file);
      o->function = sc__strtab_str(&s->agg.strings, l->func);
      o->line = l->line;
    }
  }
  pthread_mutex_unlock(&s->agg_lock);
  if (out)
    for (size_t i = 0; i < m; i++) s->hook(s->hook_user, &out[i]);
  sc__free(out);
  sc__free(ev);
}
