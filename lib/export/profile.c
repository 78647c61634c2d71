/* profile.c - builds the profile document (Scalene's JSON layout) from a
 * session's aggregate.  Every exporter serialises this one document. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sampling/session.h"
#include "export.h"
#include "../common/value.h"

typedef struct line_rec {
  sc__line_key key;
  sc__cost cost;
} line_rec;

typedef struct func_rec {
  sc__func_key key;
  sc__cost cost;
} func_rec;

static int cmp_line(const void *a, const void *b) {
  const sc__line_key *x = &((const line_rec *)a)->key, *y = &((const line_rec *)b)->key;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  if (x->line != y->line) return x->line < y->line ? -1 : 1;
  return x->thread < y->thread ? -1 : x->thread > y->thread;
}

static int cmp_func(const void *a, const void *b) {
  const sc__func_key *x = &((const func_rec *)a)->key, *y = &((const func_rec *)b)->key;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  if (x->func_line != y->func_line) return x->func_line < y->func_line ? -1 : 1;
  if (x->func != y->func) return x->func < y->func ? -1 : 1;
  return x->thread < y->thread ? -1 : x->thread > y->thread;
}

static void cost_add(sc__cost *a, const sc__cost *b) {
  a->python_ns += b->python_ns;
  a->native_ns += b->native_ns;
  a->sys_ns += b->sys_ns;
  a->blocked_ns += b->blocked_ns;
  a->samples += b->samples;
  a->blocked_samples += b->blocked_samples;
  a->proc_cpu_ns += b->proc_cpu_ns;
  a->wall_ns += b->wall_ns;
  /* memory lives in one record per line (thread index 0) */
  a->m_python += b->m_python;
  a->m_native += b->m_native;
  a->m_live += b->m_live;
  a->m_peak += b->m_peak;
  a->m_copy += b->m_copy;
  a->m_avg_sum += b->m_avg_sum;
  a->m_mallocs += b->m_mallocs;
  a->m_frees += b->m_frees;
  a->m_avg_n += b->m_avg_n;
  if (!a->m_series) a->m_series = b->m_series;
}

static int has_memory(const sc__cost *c) { return c->m_mallocs || c->m_copy > 0; }

static uint64_t cost_total(const sc__cost *c) {
  return c->python_ns + c->native_ns + c->sys_ns + c->blocked_ns;
}

/* What the exporter needs of the aggregate, copied under agg_lock so that
 * source files are read and the document built without holding it.  The
 * strings themselves are never freed before the session, so copying the
 * pointers is enough. */
typedef struct agg_snapshot {
  line_rec *lr;
  func_rec *fr;
  size_t nl, nf;
  const char **strs;
  size_t nstrs;
  sc__thread_info *threads;
  size_t nthreads;
  uint64_t total_ns, unattributed_ns, samples, unattributed, cpu_samples;
  sc__series *series; /* deep copies */
  size_t nseries;
  double mem_python, mem_native, mem_copy, mem_peak, mem_peak_python, mem_live;
  uint32_t mem_peak_file;
  int32_t mem_peak_line;
  uint64_t alloc_samples;
} agg_snapshot;

typedef struct build_ctx {
  const sc_session_t *s;
  const agg_snapshot *snap;
  double total_ns;
  long ncpu;
  double threshold;
  int64_t malloc_threshold;
  int reduced;
  int leaks;
  double elapsed; /* seconds */
} build_ctx;

#define MB (1024.0 * 1024.0)

/* [[t, MB], ...] of series `idx` (1-based), or an empty array. */
static sc__value *series_value(const build_ctx *b, uint32_t idx) {
  sc__value *arr = sc__v_array();
  if (!arr || !idx || idx > b->snap->nseries) return arr;
  const sc__series *sr = &b->snap->series[idx - 1];
  for (uint32_t i = 0; i < sr->n; i++) {
    sc__value *pt = sc__v_array();
    if (!pt || sc__v_push(pt, sc__v_double(sr->t[i])) < 0 || sc__v_push(pt, sc__v_double(sr->v[i])) < 0 ||
        sc__v_push(arr, pt) < 0) {
      sc__v_free(pt);
      break;
    }
  }
  return arr;
}

static double pct(const build_ctx *b, uint64_t ns) {
  return b->total_ns > 0 ? 100.0 * (double)ns / b->total_ns : 0.0;
}

/* The numeric fields shared by lines and functions. */
static int put_cost_fields(const build_ctx *b, sc__value *o, const sc__cost *c) {
  double util = 0;
  if (c->wall_ns && b->ncpu > 0) {
    util = (double)c->proc_cpu_ns / ((double)c->wall_ns * (double)b->ncpu);
    if (util > 1) util = 1;
  }
  int rc = 0;
  rc |= sc__v_set_double(o, "n_cpu_percent_python", pct(b, c->python_ns));
  rc |= sc__v_set_double(o, "n_cpu_percent_c", pct(b, c->native_ns));
  rc |= sc__v_set_double(o, "n_sys_percent", pct(b, c->sys_ns + c->blocked_ns));
  rc |= sc__v_set_double(o, "n_core_utilization", util);
  rc |= sc__v_set_int(o, "n_cpu_samples", (int64_t)c->samples);
  rc |= sc__v_set_int(o, "n_blocked_samples", (int64_t)c->blocked_samples);
  double malloc_b = c->m_python + c->m_native;
  double total_b = b->snap->mem_python + b->snap->mem_native;
  rc |= sc__v_set_double(o, "n_malloc_mb", malloc_b / MB);
  rc |= sc__v_set_double(o, "n_peak_mb", c->m_peak / MB);
  rc |= sc__v_set_double(o, "n_avg_mb", c->m_avg_n ? c->m_avg_sum / (double)c->m_avg_n / MB : 0);
  rc |= sc__v_set_int(o, "n_mallocs", (int64_t)c->m_mallocs);
  rc |= sc__v_set_int(o, "n_frees", (int64_t)c->m_frees);
  rc |= sc__v_set_double(o, "n_growth_mb", c->m_live / MB);
  rc |= sc__v_set_double(o, "n_usage_fraction", total_b > 0 ? malloc_b / total_b : 0);
  rc |= sc__v_set_double(o, "n_python_fraction", malloc_b > 0 ? c->m_python / malloc_b : 0);
  rc |= sc__v_set_double(o, "n_copy_mb_s", b->elapsed > 0 ? c->m_copy / MB / b->elapsed : 0);
  static const char *const zeros[] = {"n_gpu_percent", "n_gpu_peak_memory_mb", "n_gpu_avg_memory_mb"};
  for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++) rc |= sc__v_set_int(o, zeros[i], 0);
  rc |= sc__v_set(o, "memory_samples", series_value(b, c->m_series));
  return rc ? SC_ENOMEM : 0;
}

static int keep_entry(const build_ctx *b, const sc__cost *c) {
  uint64_t t = cost_total(c);
  if (!t && !has_memory(c)) return 0;
  if (!b->reduced) return 1;
  return pct(b, t) >= b->threshold ||
         (has_memory(c) && (int64_t)c->m_mallocs >= b->malloc_threshold);
}

/* Lines whose sampled allocations keep being held: Laplace's rule of
 * succession on "a sampled allocation of this line is never freed", over
 * at least 20 samples, and still growing (live bytes at the end). */
#define SC__LEAK_MIN_SAMPLES 20
#define SC__LEAK_LIKELIHOOD 0.95

static double leak_likelihood(const sc__cost *c) {
  if (c->m_mallocs < SC__LEAK_MIN_SAMPLES) return 0;
  double kept = (double)(c->m_mallocs > c->m_frees ? c->m_mallocs - c->m_frees : 0);
  return (kept + 1) / ((double)c->m_mallocs + 2);
}

/* Per-thread breakdown of one line, when more than one thread ran it. */
static sc__value *thread_breakdown(const build_ctx *b, const line_rec *r, size_t n) {
  sc__value *arr = sc__v_array();
  for (size_t i = 0; arr && i < n; i++) {
    const sc__thread_info *ti = &b->snap->threads[r[i].key.thread];
    sc__value *o = sc__v_object();
    if (!o) break;
    sc__v_set_int(o, "tid", ti->tid);
    sc__v_set_str(o, "name", ti->name);
    sc__v_set_double(o, "n_cpu_percent_python", pct(b, r[i].cost.python_ns));
    sc__v_set_double(o, "n_cpu_percent_c", pct(b, r[i].cost.native_ns));
    sc__v_set_double(o, "n_sys_percent", pct(b, r[i].cost.sys_ns + r[i].cost.blocked_ns));
    if (sc__v_push(arr, o) < 0) break;
  }
  return arr;
}

static sc__value *line_object(const build_ctx *b, int32_t lineno, const char *text,
                              size_t textlen, const sc__cost *c) {
  sc__value *o = sc__v_object();
  if (!o) return NULL;
  if (sc__v_set(o, "line", sc__v_strn(text, textlen)) < 0 || sc__v_set_int(o, "lineno", lineno) < 0 ||
      put_cost_fields(b, o, c) < 0 || sc__v_set_int(o, "start_region_line", lineno) < 0 ||
      sc__v_set_int(o, "end_region_line", lineno) < 0 ||
      sc__v_set_int(o, "start_outermost_loop", lineno) < 0 ||
      sc__v_set_int(o, "end_outermost_loop", lineno) < 0) {
    sc__v_free(o);
    return NULL;
  }
  return o;
}

/* Source text of a file split in lines (pointers into `data`). */
typedef struct source {
  char *data;
  const char **start;
  size_t *len;
  size_t n;
} source;

static void source_load(const char *path, source *src) {
  memset(src, 0, sizeof *src);
  size_t len;
  if (sc__read_file(path, &src->data, &len) < 0) return;
  /* A native module without line information is named by its path: a
   * binary is no source text. */
  if (memchr(src->data, '\0', len < 4096 ? len : 4096)) {
    sc__free(src->data);
    src->data = NULL;
    return;
  }
  size_t lines = 1;
  for (size_t i = 0; i < len; i++) lines += src->data[i] == '\n';
  src->start = sc__calloc(lines, sizeof *src->start);
  src->len = sc__calloc(lines, sizeof *src->len);
  if (!src->start || !src->len) return;
  const char *p = src->data, *end = src->data + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl + 1 : end;
    src->start[src->n] = p;
    src->len[src->n] = (size_t)(stop - p);
    src->n++;
    p = stop;
  }
}

static void source_free(source *src) {
  sc__free(src->data);
  sc__free(src->start);
  sc__free(src->len);
}

/* Build one file's object from its sorted line and function records. */
static sc__value *file_object(const build_ctx *b, const char *path, const line_rec *lr, size_t nl,
                              const func_rec *fr, size_t nf, const sc__cost *file_cost) {
  sc__value *fo = sc__v_object(), *lines = sc__v_array(), *funcs = sc__v_array();
  sc__value *leaks = sc__v_object();
  if (!fo || !lines || !funcs || !leaks) goto oom;
  source src;
  source_load(path, &src);
  /* Walk source lines and active lines together. */
  size_t i = 0;
  int32_t max_line = (int32_t)src.n;
  if (nl && lr[nl - 1].key.line > max_line) max_line = lr[nl - 1].key.line;
  for (int32_t ln = 1; ln <= max_line; ln++) {
    sc__cost c;
    memset(&c, 0, sizeof c);
    size_t first = i;
    while (i < nl && lr[i].key.line < ln) first = ++i; /* line 0 or below */
    while (i < nl && lr[i].key.line == ln) cost_add(&c, &lr[i++].cost);
    size_t nthreads = i - first;
    int active = cost_total(&c) != 0 || has_memory(&c);
    if (b->reduced ? !keep_entry(b, &c) : (!active && ln > (int32_t)src.n)) continue;
    const char *text = ln <= (int32_t)src.n ? src.start[ln - 1] : "";
    size_t tl = ln <= (int32_t)src.n ? src.len[ln - 1] : 0;
    sc__value *lo = line_object(b, ln, text, tl, &c);
    if (lo && nthreads > 1) sc__v_set(lo, "threads", thread_breakdown(b, lr + first, nthreads));
    double lk = b->leaks ? leak_likelihood(&c) : 0;
    if (lk >= SC__LEAK_LIKELIHOOD && c.m_live > 0 && leaks) {
      char key[16];
      snprintf(key, sizeof key, "%d", (int)ln);
      sc__value *L = sc__v_object();
      if (L) {
        sc__v_set_double(L, "likelihood", lk);
        sc__v_set_double(L, "velocity_mb_s", b->elapsed > 0 ? c.m_live / MB / b->elapsed : 0);
        sc__v_set_int(L, "mallocs", (int64_t)c.m_mallocs);
        sc__v_set_int(L, "frees", (int64_t)c.m_frees);
        sc__v_set(leaks, key, L);
      }
    }
    if (sc__v_push(lines, lo) < 0) {
      source_free(&src);
      goto oom;
    }
  }
  source_free(&src);
  for (size_t k = 0; k < nf;) {
    sc__cost c;
    memset(&c, 0, sizeof c);
    size_t j = k;
    while (j < nf && fr[j].key.func == fr[k].key.func && fr[j].key.func_line == fr[k].key.func_line)
      cost_add(&c, &fr[j++].cost);
    if (keep_entry(b, &c)) {
      const char *name = fr[k].key.func < b->snap->nstrs ? b->snap->strs[fr[k].key.func] : "";
      sc__value *o = line_object(b, fr[k].key.func_line, name, strlen(name), &c);
      if (o) sc__v_set_str(o, "fn_name", name);
      if (sc__v_push(funcs, o) < 0) goto oom;
    }
    k = j;
  }
  if (sc__v_set_double(fo, "percent_cpu_time", pct(b, cost_total(file_cost))) < 0 ||
      sc__v_set(fo, "lines", lines) < 0 || sc__v_set(fo, "functions", funcs) < 0 ||
      sc__v_set(fo, "leaks", leaks) < 0 || sc__v_set(fo, "imports", sc__v_array()) < 0) {
    lines = funcs = leaks = NULL;
    goto oom;
  }
  return fo;
oom:
  sc__v_free(leaks);
  sc__v_free(fo);
  sc__v_free(lines);
  sc__v_free(funcs);
  return NULL;
}

typedef struct file_sum {
  uint32_t file;
  size_t l0, l1, f0, f1; /* ranges in the sorted record arrays */
  sc__cost cost;
} file_sum;

static int cmp_file_sum(const void *a, const void *b) {
  uint64_t x = cost_total(&((const file_sum *)a)->cost), y = cost_total(&((const file_sum *)b)->cost);
  return x > y ? -1 : x < y;
}

static int build_files(const build_ctx *b, sc__value *files, const char **reason) {
  const agg_snapshot *a = b->snap;
  size_t nl = a->nl, nf = a->nf;
  line_rec *lr = a->lr;
  func_rec *fr = a->fr;
  file_sum *fs = sc__calloc(nl + 1, sizeof *fs);
  int rc = SC_ENOMEM;
  if (!fs) goto done;
  qsort(lr, nl, sizeof *lr, cmp_line);
  qsort(fr, nf, sizeof *fr, cmp_func);
  size_t nfiles = 0, j = 0;
  for (size_t i = 0; i < nl;) {
    file_sum *f = &fs[nfiles++];
    f->file = lr[i].key.file;
    f->l0 = i;
    while (i < nl && lr[i].key.file == f->file) cost_add(&f->cost, &lr[i++].cost);
    f->l1 = i;
    while (j < nf && fr[j].key.file < f->file) j++;
    f->f0 = j;
    while (j < nf && fr[j].key.file == f->file) j++;
    f->f1 = j;
  }
  qsort(fs, nfiles, sizeof *fs, cmp_file_sum);
  size_t reported = 0;
  for (size_t i = 0; i < nfiles; i++) {
    /* Files: at least the CPU threshold, or enough sampled allocations
     * (--malloc-threshold), or at least the threshold's share of all
     * memory allocated. */
    double fmem = fs[i].cost.m_python + fs[i].cost.m_native;
    double tmem = a->mem_python + a->mem_native;
    int mem_keep = has_memory(&fs[i].cost) &&
                   ((int64_t)fs[i].cost.m_mallocs >= b->malloc_threshold ||
                    (tmem > 0 && 100.0 * fmem / tmem >= b->threshold));
    if (pct(b, cost_total(&fs[i].cost)) < b->threshold && b->malloc_threshold > 0 && !mem_keep)
      continue;
    const char *path = fs[i].file < a->nstrs ? a->strs[fs[i].file] : "";
    sc__value *fo = file_object(b, path, lr + fs[i].l0, fs[i].l1 - fs[i].l0, fr + fs[i].f0,
                                fs[i].f1 - fs[i].f0, &fs[i].cost);
    if (!fo || sc__v_set(files, path, fo) < 0) goto done;
    reported++;
  }
  if (a->samples == 0 && a->alloc_samples == 0) *reason = "none";
  else if (nl == 0) *reason = "filtered";
  else if (reported == 0) *reason = "threshold";
  rc = 0;
done:
  sc__free(fs);
  return rc;
}

static void snapshot_free(agg_snapshot *a) {
  for (size_t i = 0; i < a->nseries; i++) {
    sc__free(a->series[i].t);
    sc__free(a->series[i].v);
  }
  sc__free(a->series);
  sc__free(a->lr);
  sc__free(a->fr);
  sc__free(a->strs);
  sc__free(a->threads);
}

/* Caller holds agg_lock. */
static int snapshot_take(const sc__aggregate *g, agg_snapshot *a) {
  memset(a, 0, sizeof *a);
  a->nl = sc__map_len(&g->lines);
  a->nf = sc__map_len(&g->funcs);
  a->nstrs = g->strings.n;
  a->nthreads = g->nthreads;
  a->lr = sc__malloc((a->nl + 1) * sizeof *a->lr);
  a->fr = sc__malloc((a->nf + 1) * sizeof *a->fr);
  a->strs = sc__malloc((a->nstrs + 1) * sizeof *a->strs);
  a->threads = sc__malloc((a->nthreads + 1) * sizeof *a->threads);
  if (!a->lr || !a->fr || !a->strs || !a->threads) {
    snapshot_free(a);
    return SC_ENOMEM;
  }
  for (size_t i = 0; i < a->nl; i++) {
    memcpy(&a->lr[i].key, sc__map_key_at(&g->lines, i), sizeof a->lr[i].key);
    memcpy(&a->lr[i].cost, sc__map_val_at(&g->lines, i), sizeof a->lr[i].cost);
  }
  for (size_t i = 0; i < a->nf; i++) {
    memcpy(&a->fr[i].key, sc__map_key_at(&g->funcs, i), sizeof a->fr[i].key);
    memcpy(&a->fr[i].cost, sc__map_val_at(&g->funcs, i), sizeof a->fr[i].cost);
  }
  for (size_t i = 0; i < a->nstrs; i++) a->strs[i] = g->strings.strs[i];
  if (a->nthreads) memcpy(a->threads, g->threads, a->nthreads * sizeof *a->threads);
  a->total_ns = g->total_ns;
  a->unattributed_ns = g->unattributed_ns;
  a->samples = g->samples;
  a->cpu_samples = g->cpu_samples;
  a->unattributed = g->unattributed;
  a->mem_python = g->mem_python;
  a->mem_native = g->mem_native;
  a->mem_copy = g->mem_copy;
  a->mem_peak = g->mem_peak;
  a->mem_peak_python = g->mem_peak_python;
  a->mem_live = g->mem_live;
  a->mem_peak_file = g->mem_peak_file;
  a->mem_peak_line = g->mem_peak_line;
  a->alloc_samples = g->alloc_samples;
  if (g->nseries) {
    a->series = sc__calloc(g->nseries, sizeof *a->series);
    if (!a->series) {
      snapshot_free(a);
      return SC_ENOMEM;
    }
    a->nseries = g->nseries;
    for (size_t i = 0; i < g->nseries; i++) {
      const sc__series *from = &g->series[i];
      sc__series *to = &a->series[i];
      to->n = from->n;
      to->t = sc__malloc((from->n + 1) * sizeof *to->t);
      to->v = sc__malloc((from->n + 1) * sizeof *to->v);
      if (!to->t || !to->v) {
        snapshot_free(a);
        return SC_ENOMEM;
      }
      memcpy(to->t, from->t, from->n * sizeof *to->t);
      memcpy(to->v, from->v, from->n * sizeof *to->v);
    }
  }
  return 0;
}

int sc__profile_build(sc_session_t *s, sc__value **out) {
  sc__drain(s);
  build_ctx b;
  memset(&b, 0, sizeof b);
  b.s = s;
  b.ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  b.threshold = sc__opt_double(s->opts, SC_OPT_CPU_PERCENT_THRESHOLD);
  b.malloc_threshold = sc__opt_int(s->opts, SC_OPT_MALLOC_THRESHOLD);
  b.reduced = sc__opt_bool(s->opts, SC_OPT_REDUCED_PROFILE);
  b.leaks = s->leak_detector;
  sc__value *root = sc__v_object(), *files = sc__v_object(), *threads = sc__v_array();
  if (!root || !files || !threads) goto oom;
  /* metadata first, as the embedder set it */
  pthread_mutex_lock(&s->meta_lock);
  int mrc = 0;
  for (size_t i = 0; i < s->meta->u.c.len && mrc == 0; i++)
    mrc = sc__v_set(root, s->meta->u.c.keys[i], sc__v_clone(s->meta->u.c.items[i]));
  pthread_mutex_unlock(&s->meta_lock);
  if (mrc < 0) goto oom;
  uint64_t end = s->stop_ns ? s->stop_ns : sc__now_ns();
  agg_snapshot snap;
  pthread_mutex_lock(&s->agg_lock);
  int rc = snapshot_take(&s->agg, &snap);
  pthread_mutex_unlock(&s->agg_lock);
  if (rc < 0) goto oom;
  b.snap = &snap;
  b.elapsed = (double)(end - s->start_ns) / 1e9;
  b.total_ns = (double)snap.total_ns;
  const char *reason = "";
  rc = build_files(&b, files, &reason);
  uint64_t cpu_ns = 0;
  for (size_t i = 0; rc == 0 && i < snap.nthreads; i++) {
    const sc__thread_info *ti = &snap.threads[i];
    if (ti->cost.samples + ti->cost.blocked_samples == 0) continue; /* never sampled */
    cpu_ns += ti->cost.python_ns + ti->cost.native_ns + ti->cost.sys_ns;
    sc__value *o = sc__v_object();
    if (!o) rc = SC_ENOMEM;
    else {
      sc__v_set_int(o, "tid", ti->tid);
      sc__v_set_str(o, "name", ti->name);
      sc__v_set_double(o, "cpu_sec", (double)(ti->cost.python_ns + ti->cost.native_ns + ti->cost.sys_ns) / 1e9);
      sc__v_set_double(o, "blocked_sec", (double)ti->cost.blocked_ns / 1e9);
      sc__v_set_int(o, "samples", (int64_t)ti->cost.samples);
      sc__v_set_int(o, "blocked_samples", (int64_t)ti->cost.blocked_samples);
      rc = sc__v_push(threads, o);
    }
  }
  uint64_t samples = snap.samples, unattributed = snap.unattributed, cpu_samples = snap.cpu_samples;
  sc__value *footprint = series_value(&b, snap.nseries ? 1 : 0);
  double peak_mb = snap.mem_peak / MB;
  double peak_py = snap.mem_peak > 0 ? snap.mem_peak_python / snap.mem_peak : 0;
  double growth = snap.mem_peak > 0 ? 100.0 * snap.mem_live / snap.mem_peak : 0;
  uint64_t alloc_samples = snap.alloc_samples;
  double mem_total_mb = (snap.mem_python + snap.mem_native) / MB;
  double copy_mb = snap.mem_copy / MB;
  const char *peak_file = snap.mem_peak_file && snap.mem_peak_file - 1 < snap.nstrs
                              ? snap.strs[snap.mem_peak_file - 1] : NULL;
  char *peak_fname = peak_file ? sc__strdup(peak_file) : NULL;
  int32_t peak_line = snap.mem_peak_line;
  double unattr_pct = snap.total_ns ? 100.0 * (double)snap.unattributed_ns / (double)snap.total_ns : 0;
  snapshot_free(&snap);
  if (rc < 0) goto oom;
  uint64_t dropped = 0;
  pthread_mutex_lock(&s->lock);
  for (sc_thread_t *t = s->threads; t; t = t->next) dropped += atomic_load(&t->dropped);
  pthread_mutex_unlock(&s->lock);
  dropped += atomic_load(&s->dropped_other);
  double elapsed = (double)(end - s->start_ns) / 1e9;
  double rate = sc__opt_double(s->opts, SC_OPT_CPU_SAMPLING_RATE);
  char why[320] = "";
  if (strcmp(reason, "none") == 0 && !s->ever_running) {
    snprintf(why, sizeof why,
             "no samples: profiling was off for the whole run (started with --off and never turned on)");
  } else if (strcmp(reason, "none") == 0) {
    snprintf(why, sizeof why,
             "no samples: the program ran %.3f s and burned less CPU than one sampling interval (%g s)",
             elapsed, rate);
  } else if (strcmp(reason, "filtered") == 0) {
    snprintf(why, sizeof why,
             "no sample landed in profiled code: the file filters (--profile-only, --profile-exclude, "
             "--program-path) excluded every file that ran");
  } else if (strcmp(reason, "threshold") == 0) {
    snprintf(why, sizeof why, "every profiled file was below --cpu-percent-threshold (%g%%)",
             b.threshold);
  }
  int r = 0;
  r |= sc__v_set_str(root, "scalenecore_version", SC_VERSION_STRING);
  r |= sc__v_set_double(root, "elapsed_time_sec", elapsed);
  r |= sc__v_set_double(root, "start_time_absolute", s->start_epoch);
  r |= sc__v_set_double(root, "total_cpu_time_sec", (double)cpu_ns / 1e9);
  /* the denominator of every percentage: lets readers and merges recover
   * absolute times */
  r |= sc__v_set_double(root, "total_time_sec", b.total_ns / 1e9);
  r |= sc__v_set_int(root, "pid", (int64_t)s->pid);
  r |= sc__v_set_double(root, "cpu_sampling_rate", rate);
  r |= sc__v_set_bool(root, "use_virtual_time", s->virtual_time != 0);
  r |= sc__v_set_int(root, "cpu_samples", (int64_t)cpu_samples);
  r |= sc__v_set_int(root, "blocked_samples", (int64_t)(samples - cpu_samples));
  r |= sc__v_set_int(root, "unattributed_samples", (int64_t)unattributed);
  r |= sc__v_set_double(root, "unattributed_percent", unattr_pct);
  r |= sc__v_set_int(root, "dropped_samples", (int64_t)dropped);
  r |= sc__v_set_str(root, "no_samples_reason", why);
  r |= sc__v_set_bool(root, "gpu", false);
  r |= sc__v_set_str(root, "gpu_device", "");
  r |= sc__v_set_bool(root, "memory", s->mem_on != 0);
  r |= sc__v_set_str(root, "memory_reason", s->mem_reason ? s->mem_reason : "");
  r |= sc__v_set_int(root, "alloc_samples", (int64_t)alloc_samples);
  r |= sc__v_set_int(root, "allocation_sampling_window",
                     sc__opt_int(s->opts, SC_OPT_ALLOCATION_SAMPLING_WINDOW));
  r |= sc__v_set_double(root, "total_malloc_mb", mem_total_mb);
  r |= sc__v_set_double(root, "total_copy_mb", copy_mb);
  r |= sc__v_set_double(root, "max_footprint_mb", peak_mb);
  r |= sc__v_set(root, "max_footprint_fname", peak_fname ? sc__v_str(peak_fname) : sc__v_null());
  r |= sc__v_set(root, "max_footprint_lineno", peak_fname ? sc__v_int(peak_line) : sc__v_null());
  sc__free(peak_fname);
  r |= sc__v_set_double(root, "max_footprint_python_fraction", peak_py);
  r |= sc__v_set_double(root, "growth_rate", growth);
  r |= sc__v_set(root, "samples", footprint);
  r |= sc__v_set(root, "stacks", sc__v_array());
  r |= sc__v_set(root, "threads", threads);
  threads = NULL;
  r |= sc__v_set(root, "files", files);
  files = NULL;
  if (r) goto oom;
  *out = root;
  return 0;
oom:
  sc__v_free(root);
  sc__v_free(files);
  sc__v_free(threads);
  return SC_ENOMEM;
}
