/* aggregate.c - draining the rings and folding samples into per-line,
 * per-function and per-thread costs.  Memory grows with the number of
 * distinct (line, thread) and raw frames, never with the number of
 * samples. */
#include <string.h>

#include "session.h"

int sc__agg_init(sc__aggregate *a) {
  memset(a, 0, sizeof *a);
  sc__strtab_init(&a->strings);
  sc__map_init(&a->frames, sizeof(sc_raw_frame_t), sizeof(sc__loc));
  sc__map_init(&a->lines, sizeof(sc__line_key), sizeof(sc__cost));
  sc__map_init(&a->funcs, sizeof(sc__func_key), sizeof(sc__cost));
  return 0;
}

void sc__agg_free(sc__aggregate *a) {
  sc__strtab_free(&a->strings);
  sc__map_free(&a->frames);
  sc__map_free(&a->lines);
  sc__map_free(&a->funcs);
  sc__mem_agg_free(a);
  for (size_t i = 0; i < a->nthreads; i++) sc__free(a->threads[i].name);
  sc__free(a->threads);
  memset(a, 0, sizeof *a);
}

int sc__agg_thread(sc__aggregate *a, pid_t tid, const char *name, uint32_t *index) {
  SC_FORWARD_IF_ERROR(SC__GROW(a->threads, a->cap_threads, a->nthreads, 8));
  sc__thread_info *ti = &a->threads[a->nthreads];
  memset(ti, 0, sizeof *ti);
  ti->tid = tid;
  ti->name = sc__strdup(name ? name : "");
  if (!ti->name) return SC_ENOMEM;
  *index = (uint32_t)a->nthreads++;
  return 0;
}

static void charge(sc__cost *c, const sc__entry *e, int native) {
  uint64_t user = e->cpu_ns - e->sys_ns;
  if (native) c->native_ns += user;
  else c->python_ns += user;
  c->sys_ns += e->sys_ns;
  c->blocked_ns += e->blocked_ns;
  if (e->cpu_ns) c->samples++;
  else c->blocked_samples++;
  c->proc_cpu_ns += e->proc_cpu_ns;
  c->wall_ns += e->wall_ns;
}

const sc__loc *sc__agg_locate(const sc__aggregate *a, const sc__entry *e) {
  for (uint32_t i = 0; i < e->nframes; i++) {
    const sc__loc *l = sc__map_get(&a->frames, &e->frames[i]);
    if (l && (l->flags & SC_FRAME_PROFILED) && !(l->flags & SC_FRAME_INVALID)) return l;
  }
  return NULL;
}

/* Caller holds agg_lock; every frame of `e` that matters is resolved. */
void sc__agg_add(sc_session_t *s, sc_thread_t *t, const sc__entry *e) {
  sc__aggregate *a = &s->agg;
  int native = s->native || sc__is_native(s, e->pc, e->flags);
  a->samples++;
  if (e->cpu_ns) a->cpu_samples++;
  a->total_ns += e->cpu_ns + e->blocked_ns;
  if (t->index < a->nthreads) charge(&a->threads[t->index].cost, e, native);
  const sc__loc *loc = sc__agg_locate(a, e);
  if (!loc) {
    a->unattributed++;
    a->unattributed_ns += e->cpu_ns + e->blocked_ns;
    return;
  }
  sc__line_key lk = {loc->file, loc->line, t->index};
  sc__func_key fk = {loc->file, loc->func, loc->func_line, t->index};
  sc__cost *lc = sc__map_upsert(&a->lines, &lk, NULL);
  if (lc) charge(lc, e, native);
  sc__cost *fc = sc__map_upsert(&a->funcs, &fk, NULL);
  if (fc) charge(fc, e, native);
}

/* Grow the batch to hold `n` entries. */
static int batch_reserve(sc_session_t *s, size_t n) {
  if (n <= s->batch_cap) return 0;
  size_t cap = s->batch_cap ? s->batch_cap : 256;
  while (cap < n) cap *= 2;
  unsigned char *b = sc__realloc(s->batch, cap * (s->entry_size + sizeof(sc_thread_t *)));
  if (!b) return SC_ENOMEM;
  s->batch = b;
  s->batch_cap = cap;
  return 0;
}

static int add_miss(sc_session_t *s, size_t *n, const sc_raw_frame_t *f) {
  for (size_t i = 0; i < *n; i++) /* batches of misses are small */
    if (s->misses[i].code == f->code && s->misses[i].pos == f->pos) return 0;
  if (*n == s->miss_cap) {
    size_t cap = s->miss_cap ? s->miss_cap * 2 : 64;
    sc_raw_frame_t *m = sc__realloc(s->misses, cap * sizeof *m);
    if (!m) return SC_ENOMEM;
    s->misses = m;
    sc__loc *l = sc__realloc(s->miss_locs, cap * sizeof *l);
    if (!l) return SC_ENOMEM;
    s->miss_locs = l;
    s->miss_cap = cap;
  }
  s->misses[(*n)++] = *f;
  return 0;
}

#define BATCH_ENTRY SC__BATCH_ENTRY
#define BATCH_THREAD SC__BATCH_THREAD

void sc__drain(sc_session_t *s) {
  pthread_mutex_lock(&s->drain_lock);
  /* 1. copy the rings out */
  size_t n = 0;
  pthread_mutex_lock(&s->lock);
  for (sc_thread_t *t = s->threads; t; t = t->next) {
    sc__ring *rings[2] = {&t->ring, &t->blocked};
    for (int r = 0; r < 2; r++) {
      sc__ring *q = rings[r];
      uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
      uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);
      if (head == tail) continue;
      if (batch_reserve(s, n + (size_t)(head - tail)) < 0) break;
      for (; tail != head; tail++, n++) {
        memcpy(BATCH_ENTRY(s, n), q->buf + (tail % q->cap) * s->entry_size, s->entry_size);
        BATCH_THREAD(s, n) = t;
      }
      atomic_store_explicit(&q->tail, tail, memory_order_release);
    }
  }
  pthread_mutex_unlock(&s->lock);
  /* memory events of threads that are not registered */
  while (s->orphans.cap && batch_reserve(s, n + 1) == 0 &&
         sc__mpsc_pop(&s->orphans, BATCH_ENTRY(s, n))) {
    BATCH_THREAD(s, n) = NULL;
    n++;
  }
  if (n == 0) {
    pthread_mutex_unlock(&s->drain_lock);
    return;
  }
  /* 2. find raw frames never seen: walk each sample from its innermost
   * frame until a known profiled one */
  size_t nmiss = 0;
  pthread_mutex_lock(&s->agg_lock);
  for (size_t i = 0; i < n; i++) {
    sc__entry *e = BATCH_ENTRY(s, i);
    for (uint32_t k = 0; k < e->nframes; k++) {
      const sc__loc *l = sc__map_get(&s->agg.frames, &e->frames[k]);
      if (l && (l->flags & SC_FRAME_PROFILED)) break;
      if (!l && add_miss(s, &nmiss, &e->frames[k]) < 0) break;
    }
  }
  pthread_mutex_unlock(&s->agg_lock);
  /* 3. resolve them with no lock of ours held but the drain lock: the
   * binding may take its runtime's lock here */
  int ok = 1;
  if (nmiss) {
    for (size_t i = 0; i < nmiss; i++) memset(&s->miss_locs[i], 0, sizeof(sc__loc));
    sc_frame_info_t *info = sc__calloc(nmiss, sizeof *info);
    if (!info) ok = 0;
    if (ok) {
      for (size_t i = 0; i < nmiss; i++) info[i].size = sizeof *info;
      /* native frames (program counters) go to the symbolizer, the rest
       * to the binding */
      size_t nat = 0;
      for (size_t i = 0; i < nmiss; i++) {
        if (s->misses[i].pos == SC__POS_PC || s->misses[i].pos == SC__POS_RETURN) {
          sc_raw_frame_t tmp = s->misses[nat];
          s->misses[nat++] = s->misses[i];
          s->misses[i] = tmp;
        }
      }
      if (nat) sc__mem_resolve_native(s, s->misses, nat, info);
      if (nmiss > nat) {
        if (s->resolver.resolve)
          ok = s->resolver.resolve(s->resolver.user, s->misses + nat, nmiss - nat, info + nat) == 0;
        else
          for (size_t i = nat; i < nmiss; i++) info[i].flags = SC_FRAME_INVALID;
      }
    }
    pthread_mutex_lock(&s->agg_lock);
    for (size_t i = 0; ok && i < nmiss; i++) {
      sc__loc loc;
      memset(&loc, 0, sizeof loc);
      loc.flags = info[i].flags;
      /* A dead address is not cached: live code may be allocated there
       * later.  Samples holding it simply skip that frame this time. */
      if (loc.flags & SC_FRAME_INVALID) continue;
      {
        int64_t f = sc__strtab_intern(&s->agg.strings, info[i].file);
        int64_t g = sc__strtab_intern(&s->agg.strings, info[i].function);
        if (f < 0 || g < 0) {
          ok = 0;
          break;
        }
        loc.file = (uint32_t)f;
        loc.func = (uint32_t)g;
        loc.line = info[i].line;
        loc.func_line = info[i].function_line;
      }
      sc__loc *slot = sc__map_upsert(&s->agg.frames, &s->misses[i], NULL);
      if (slot) *slot = loc;
    }
    pthread_mutex_unlock(&s->agg_lock);
    sc__free(info);
  }
  /* 4. fold; a batch whose frames could not be resolved is dropped as
   * the resolver contract says */
  if (!ok) {
    atomic_fetch_add(&s->dropped_other, n);
  } else {
    pthread_mutex_lock(&s->agg_lock);
    for (size_t i = 0; i < n; i++)
      if (BATCH_ENTRY(s, i)->kind == 0) sc__agg_add(s, BATCH_THREAD(s, i), BATCH_ENTRY(s, i));
    pthread_mutex_unlock(&s->agg_lock);
    sc__mem_fold_batch(s, n);
  }
  pthread_mutex_unlock(&s->drain_lock);
}
