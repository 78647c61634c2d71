/* merge.c - sc_profile_merge: several processes' profiles as one.
 *
 * Every percentage of a profile is a share of its top-level
 * "total_time_sec" (docs/profile-format.md, "The denominator"), so a
 * percentage p of input k stands for p / 100 * T_k seconds.  The merge
 * adds those seconds up and re-expresses them as shares of T = sum T_k.
 *
 * Files are matched by path, lines by "lineno", functions by name
 * ("fn_name", else "line") and "lineno".  For each line or function:
 *
 *   n_cpu_percent_python, n_cpu_percent_c,   seconds summed, as % of T
 *   n_sys_percent, n_gpu_percent
 *   n_cpu_samples, n_mallocs, n_frees, n_malloc_mb,   summed (integers stay
 *   n_growth_mb                              integers)
 *   n_peak_mb, n_gpu_peak_memory_mb          maximum
 *   n_core_utilization                       mean weighted by the entry's
 *                                            CPU + sys seconds per input
 *   n_avg_mb                                 mean weighted by n_mallocs
 *   n_python_fraction                        mean weighted by n_malloc_mb
 *   n_usage_fraction                         share of the inputs' summed
 *                                            n_malloc_mb (over all lines)
 *   n_copy_mb_s                              MB copied (rate x the input's
 *                                            elapsed_time_sec) summed, over
 *                                            the merged elapsed_time_sec
 *   n_gpu_avg_memory_mb                      mean weighted by T_k
 *   line (lines)                             first non-empty text
 *   threads (lines)                          concatenated, percentages
 *                                            rescaled, "pid" added
 *   memory_samples                           concatenated
 *   anything else                            from the first input that has
 *                                            the entry
 * A weighted mean whose weights are all zero is the plain mean.
 *
 * Files: "percent_cpu_time" as a percentage above; "leaks" the union of
 * the inputs' (first wins per key); "imports" the union; files in
 * descending order of time, lines by line number, functions by first line.
 *
 * Top level: elapsed_time_sec and max_footprint_mb the maximum (with the
 * max_footprint_* details of that input); start_time_absolute the
 * minimum; total_time_sec, total_cpu_time_sec, cpu_samples,
 * unattributed_samples, dropped_samples, alloc_samples, total_malloc_mb,
 * total_copy_mb summed;
 * unattributed_percent as a percentage; growth_rate weighted by T_k; gpu
 * and memory true if any input's is; use_virtual_time true only if every
 * input's is; gpu_device the first non-empty; samples and stacks
 * concatenated; threads concatenated with each input's "pid" added;
 * no_samples_reason "" when any file remains, else the first non-empty
 * one; scalenecore_version this library's; every other key (program,
 * args, filename, entrypoint_dir, pid, cpu_sampling_rate, ...) from the
 * first input that has it.  "processes" lists one entry per input
 * process: {program, args, pid, elapsed_time_sec, total_time_sec,
 * total_cpu_time_sec, cpu_samples} (null where an input lacks one); an
 * input that is itself a merge contributes its own "processes" entries.
 *
 * Required of every input (SC_EFORMAT otherwise): an object with a finite,
 * non-negative number "total_time_sec" and an object "files" of objects;
 * "lines" and "functions", where present, arrays of objects with an
 * integer "lineno" (and, for functions, a name); the numeric fields above,
 * where present, numbers (or null, read as absent). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/map.h"
#include "doc.h"

/* ---- the per-entry numeric fields and how they merge -------------------- */

typedef enum rule {
  R_PCT,      /* share of T_k seconds: sum p/100*T_k, out 100*sum/T */
  R_SUM,      /* sum */
  R_MAX,      /* maximum */
  R_W_TIME,   /* weighted by the entry's CPU+sys seconds in the input */
  R_W_FIELD,  /* weighted by another field of the same entry */
  R_W_T,      /* weighted by T_k */
  R_SHARE_MEM,/* share of the input's summed n_malloc_mb */
  R_RATE      /* rate per second of the input's elapsed time */
} rule;

enum {
  F_PY, F_C, F_SYS, F_GPU_PCT, F_UTIL, F_SAMPLES, F_MALLOC_MB, F_MALLOCS, F_GROWTH, F_PEAK,
  F_GPU_PEAK, F_AVG_MB, F_PYFRAC, F_USAGE, F_COPY, F_GPU_AVG, F_BLOCKED_SAMPLES, F_FREES, NF
};

static const struct {
  const char *name;
  rule r;
  int weight; /* R_W_FIELD: the field that weighs */
} fields[NF] = {
    [F_PY] = {"n_cpu_percent_python", R_PCT, 0},
    [F_C] = {"n_cpu_percent_c", R_PCT, 0},
    [F_SYS] = {"n_sys_percent", R_PCT, 0},
    [F_GPU_PCT] = {"n_gpu_percent", R_PCT, 0},
    [F_UTIL] = {"n_core_utilization", R_W_TIME, 0},
    [F_SAMPLES] = {"n_cpu_samples", R_SUM, 0},
    [F_MALLOC_MB] = {"n_malloc_mb", R_SUM, 0},
    [F_MALLOCS] = {"n_mallocs", R_SUM, 0},
    [F_GROWTH] = {"n_growth_mb", R_SUM, 0},
    [F_PEAK] = {"n_peak_mb", R_MAX, 0},
    [F_GPU_PEAK] = {"n_gpu_peak_memory_mb", R_MAX, 0},
    [F_AVG_MB] = {"n_avg_mb", R_W_FIELD, F_MALLOCS},
    [F_PYFRAC] = {"n_python_fraction", R_W_FIELD, F_MALLOC_MB},
    [F_USAGE] = {"n_usage_fraction", R_SHARE_MEM, 0},
    [F_COPY] = {"n_copy_mb_s", R_RATE, 0},
    [F_GPU_AVG] = {"n_gpu_avg_memory_mb", R_W_T, 0},
    [F_BLOCKED_SAMPLES] = {"n_blocked_samples", R_SUM, 0},
    [F_FREES] = {"n_frees", R_SUM, 0},
};

static int field_index(const char *key) {
  if (key[0] != 'n' || key[1] != '_') return -1;
  for (int f = 0; f < NF; f++)
    if (strcmp(fields[f].name + 2, key + 2) == 0) return f;
  return -1;
}

typedef struct facc {
  double sum, w, plain, max;
  int64_t isum, imax;
  size_t count;
  uint8_t seen, all_int, max_int;
} facc;

/* ---- inputs ------------------------------------------------------------- */

typedef struct input {
  const sc__value *doc;
  double T;         /* total_time_sec */
  double elapsed;   /* elapsed_time_sec, 0 if absent */
  double mem_total; /* n_malloc_mb summed over every line */
  const sc__value *pid;
} input;

/* A number: 1 and its value, 0 when absent or null, SC_EFORMAT when it is
 * something else. */
static int num_of(const sc__value *v, double *d, int *is_int, int64_t *i) {
  if (!v || v->type == SC__V_NULL) return 0;
  if (v->type == SC__V_INT) {
    *d = (double)v->u.i;
    if (is_int) *is_int = 1;
    if (i) *i = v->u.i;
    return 1;
  }
  if (v->type == SC__V_DOUBLE && isfinite(v->u.d)) {
    *d = v->u.d;
    if (is_int) *is_int = 0;
    if (i) *i = 0;
    return 1;
  }
  return SC_EFORMAT;
}

/* The same for member `key` of object `o`. */
static int get_num(const sc__value *o, const char *key, double *d, int *is_int, int64_t *i) {
  return num_of(sc__v_get(o, key), d, is_int, i);
}

static double num_or0(const sc__value *o, const char *key) {
  double d = 0;
  return get_num(o, key, &d, NULL, NULL) == 1 ? d : 0;
}

/* An integral line number. */
static int get_lineno(const sc__value *o, int64_t *out) {
  const sc__value *v = sc__v_get(o, "lineno");
  if (v && v->type == SC__V_INT) {
    *out = v->u.i;
    return 0;
  }
  if (v && v->type == SC__V_DOUBLE && isfinite(v->u.d) && v->u.d == floor(v->u.d) &&
      fabs(v->u.d) < 9e15) {
    *out = (int64_t)v->u.d;
    return 0;
  }
  return SC_EFORMAT;
}

static int check_entries(const sc__value *arr) {
  if (!arr || arr->type == SC__V_NULL) return 0;
  SC_RETURN_IF(arr->type != SC__V_ARRAY, SC_EFORMAT);
  for (size_t i = 0; i < arr->u.c.len; i++) {
    const sc__value *e = arr->u.c.items[i];
    int64_t ln;
    SC_RETURN_IF(e->type != SC__V_OBJECT, SC_EFORMAT);
    SC_FORWARD_IF_ERROR(get_lineno(e, &ln));
    for (size_t k = 0; k < e->u.c.len; k++) {
      double d;
      if (field_index(e->u.c.keys[k]) >= 0)
        SC_FORWARD_IF_ERROR(num_of(e->u.c.items[k], &d, NULL, NULL));
    }
  }
  return 0;
}

static int input_init(input *in, const sc__value *doc) {
  memset(in, 0, sizeof *in);
  in->doc = doc;
  SC_RETURN_IF(!doc || doc->type != SC__V_OBJECT, SC_EFORMAT);
  double T;
  SC_RETURN_IF(get_num(doc, "total_time_sec", &T, NULL, NULL) != 1 || T < 0, SC_EFORMAT);
  in->T = T;
  SC_RETURN_IF(get_num(doc, "elapsed_time_sec", &in->elapsed, NULL, NULL) < 0, SC_EFORMAT);
  in->pid = sc__v_get(doc, "pid");
  const sc__value *files = sc__v_get(doc, "files");
  SC_RETURN_IF(!files || files->type != SC__V_OBJECT, SC_EFORMAT);
  for (size_t i = 0; i < files->u.c.len; i++) {
    const sc__value *f = files->u.c.items[i];
    SC_RETURN_IF(f->type != SC__V_OBJECT, SC_EFORMAT);
    double d;
    SC_FORWARD_IF_ERROR(get_num(f, "percent_cpu_time", &d, NULL, NULL));
    const sc__value *lines = sc__v_get(f, "lines"), *funcs = sc__v_get(f, "functions");
    SC_FORWARD_IF_ERROR(check_entries(lines));
    SC_FORWARD_IF_ERROR(check_entries(funcs));
    for (size_t k = 0; lines && k < sc__v_len(lines); k++)
      in->mem_total += num_or0(lines->u.c.items[k], "n_malloc_mb");
    if (funcs && funcs->type == SC__V_ARRAY) {
      for (size_t k = 0; k < funcs->u.c.len; k++) {
        const sc__value *nm = sc__v_get(funcs->u.c.items[k], "fn_name");
        if (!nm || nm->type != SC__V_STRING) nm = sc__v_get(funcs->u.c.items[k], "line");
        SC_RETURN_IF(!nm || nm->type != SC__V_STRING, SC_EFORMAT);
      }
    }
  }
  return 0;
}

/* ---- merged entries ------------------------------------------------------ */

typedef struct ptrlist {
  const void **p;
  size_t n, cap;
} ptrlist;

static int ptrlist_add(ptrlist *l, const void *x) {
  SC_FORWARD_IF_ERROR(SC__GROW(l->p, l->cap, l->n, 4));
  l->p[l->n++] = x;
  return 0;
}

typedef struct mentry {
  int64_t lineno;
  size_t order;
  const sc__value *first; /* the object of the first input that has it */
  const sc__value *text;  /* first non-empty "line" */
  facc acc[NF];
  ptrlist mem_samples;   /* const sc__value * */
  ptrlist threads;       /* pairs: const sc__value *thread, const input * */
} mentry;

typedef struct entries {
  mentry *e;
  size_t n, cap;
  sc__map by_line;  /* lines: int64 lineno -> uint32 index */
  char **keys;      /* functions: "lineno:name" */
  sc__keyset ks;
  int funcs;
} entries;

typedef struct mfile {
  const char *path;
  size_t order;
  double secs; /* percent_cpu_time as seconds */
  int has_pct;
  const sc__value *first;
  entries lines, funcs;
  ptrlist leaks, imports; /* each input's "leaks" / "imports" */
} mfile;

typedef struct merger {
  input *in;
  size_t n;
  double T, elapsed, mem_total;
  mfile *files;
  size_t nfiles, capfiles;
  const char **paths;
  sc__keyset fks;
} merger;

static void entries_init(entries *es, int funcs) {
  memset(es, 0, sizeof *es);
  es->funcs = funcs;
  sc__map_init(&es->by_line, sizeof(int64_t), sizeof(uint32_t));
  sc__keyset_init(&es->ks);
}

static void entries_free(entries *es) {
  for (size_t i = 0; i < es->n; i++) {
    sc__free(es->e[i].mem_samples.p);
    sc__free(es->e[i].threads.p);
    if (es->keys) sc__free(es->keys[i]);
  }
  sc__free(es->e);
  sc__free(es->keys);
  sc__map_free(&es->by_line);
  sc__keyset_free(&es->ks);
}

static const char *entry_name(const sc__value *o) {
  const sc__value *nm = sc__v_get(o, "fn_name");
  if (!nm || nm->type != SC__V_STRING) nm = sc__v_get(o, "line");
  return nm->u.str.s; /* checked by input_init */
}

/* Find or create the entry for `o`. */
static int entries_find(entries *es, const sc__value *o, mentry **out) {
  int64_t ln;
  SC_FORWARD_IF_ERROR(get_lineno(o, &ln));
  char *key = NULL;
  size_t klen = 0;
  if (es->funcs) {
    sc__buf b;
    sc__buf_init(&b);
    sc__buf_printf(&b, "%lld:%s", (long long)ln, entry_name(o));
    key = sc__buf_take(&b, &klen);
    if (!key) return SC_ENOMEM;
    ptrdiff_t i = sc__keyset_find(&es->ks, (const char *const *)es->keys, key, klen);
    if (i >= 0) {
      sc__free(key);
      *out = &es->e[i];
      return 0;
    }
  } else {
    int created;
    uint32_t *idx = sc__map_upsert(&es->by_line, &ln, &created);
    if (!idx) return SC_ENOMEM;
    if (!created) {
      *out = &es->e[*idx];
      return 0;
    }
    *idx = (uint32_t)es->n;
  }
  if (es->n == es->cap) {
    size_t cap = es->cap ? es->cap * 2 : 16;
    mentry *ne = sc__realloc(es->e, cap * sizeof *ne);
    char **nk = es->funcs ? sc__realloc(es->keys, cap * sizeof *nk) : NULL;
    if (ne) es->e = ne;
    if (nk) es->keys = nk;
    if (!ne || (es->funcs && !nk)) {
      sc__free(key); /* the merge fails as a whole and is freed */
      return SC_ENOMEM;
    }
    es->cap = cap;
  }
  mentry *e = &es->e[es->n];
  memset(e, 0, sizeof *e);
  e->lineno = ln;
  e->order = es->n;
  e->first = o;
  for (int f = 0; f < NF; f++) e->acc[f].all_int = 1;
  if (es->funcs) {
    es->keys[es->n] = key;
    es->n++;
    SC_FORWARD_IF_ERROR(sc__keyset_insert(&es->ks, (const char *const *)es->keys, klen));
  } else {
    es->n++;
  }
  *out = e;
  return 0;
}

/* Fold one input's object `o` into entry `e`. */
static int entry_add(mentry *e, const sc__value *o, const input *in) {
  double v[NF] = {0};
  int present[NF] = {0}, isint[NF];
  int64_t iv[NF] = {0};
  const sc__value *text = NULL, *ms = NULL, *th = NULL;
  for (int f = 0; f < NF; f++) isint[f] = 1;
  for (size_t k = 0; k < o->u.c.len; k++) {
    const char *key = o->u.c.keys[k];
    int f = field_index(key);
    if (f >= 0) {
      present[f] = num_of(o->u.c.items[k], &v[f], &isint[f], &iv[f]) == 1;
      if (!present[f]) v[f] = 0, isint[f] = 1, iv[f] = 0;
    } else if (strcmp(key, "line") == 0) {
      text = o->u.c.items[k];
    } else if (strcmp(key, "memory_samples") == 0) {
      ms = o->u.c.items[k];
    } else if (strcmp(key, "threads") == 0) {
      th = o->u.c.items[k];
    }
  }
  /* the entry's own time in this input, for R_W_TIME */
  double secs = (v[F_PY] + v[F_C] + v[F_SYS]) / 100.0 * in->T;
  for (int f = 0; f < NF; f++) {
    if (!present[f]) continue;
    facc *a = &e->acc[f];
    double w = 0;
    switch (fields[f].r) {
      case R_PCT: a->sum += v[f] / 100.0 * in->T; break;
      case R_SUM:
        a->sum += v[f];
        if (!isint[f] || __builtin_add_overflow(a->isum, iv[f], &a->isum)) a->all_int = 0;
        break;
      case R_MAX:
        if (!a->seen || v[f] > a->max) {
          a->max = v[f];
          a->imax = iv[f];
          a->max_int = (uint8_t)isint[f];
        }
        break;
      case R_W_TIME: w = secs; goto weighted;
      case R_W_FIELD: w = v[fields[f].weight]; goto weighted;
      case R_W_T:
        w = in->T;
      weighted:
        if (w < 0) w = 0;
        a->sum += v[f] * w;
        a->w += w;
        a->plain += v[f];
        a->count++;
        break;
      case R_SHARE_MEM: a->sum += v[f] * in->mem_total; break;
      case R_RATE: a->sum += v[f] * in->elapsed; break;
    }
    a->seen = 1;
  }
  if (!e->text && text && text->type == SC__V_STRING && text->u.str.len) e->text = text;
  if (ms && ms->type == SC__V_ARRAY)
    for (size_t i = 0; i < ms->u.c.len; i++)
      SC_FORWARD_IF_ERROR(ptrlist_add(&e->mem_samples, ms->u.c.items[i]));
  if (th && th->type == SC__V_ARRAY) {
    for (size_t i = 0; i < th->u.c.len; i++) {
      SC_FORWARD_IF_ERROR(ptrlist_add(&e->threads, th->u.c.items[i]));
      SC_FORWARD_IF_ERROR(ptrlist_add(&e->threads, in));
    }
  }
  return 0;
}

static int entries_add_all(entries *es, const sc__value *arr, const input *in) {
  if (!arr || arr->type != SC__V_ARRAY) return 0;
  for (size_t i = 0; i < arr->u.c.len; i++) {
    mentry *e;
    SC_FORWARD_IF_ERROR(entries_find(es, arr->u.c.items[i], &e));
    SC_FORWARD_IF_ERROR(entry_add(e, arr->u.c.items[i], in));
  }
  return 0;
}

/* ---- files --------------------------------------------------------------- */

static void merger_free(merger *m) {
  for (size_t i = 0; i < m->nfiles; i++) {
    entries_free(&m->files[i].lines);
    entries_free(&m->files[i].funcs);
    sc__free(m->files[i].leaks.p);
    sc__free(m->files[i].imports.p);
  }
  sc__free(m->files);
  sc__free(m->paths);
  sc__keyset_free(&m->fks);
}

static int file_find(merger *m, const char *path, mfile **out) {
  size_t len = strlen(path);
  ptrdiff_t i = sc__keyset_find(&m->fks, m->paths, path, len);
  if (i >= 0) {
    *out = &m->files[i];
    return 0;
  }
  if (m->nfiles == m->capfiles) {
    size_t cap = m->capfiles ? m->capfiles * 2 : 16;
    mfile *nf = sc__realloc(m->files, cap * sizeof *nf);
    if (nf) m->files = nf;
    const char **np = sc__realloc(m->paths, cap * sizeof *np);
    if (np) m->paths = np;
    if (!nf || !np) return SC_ENOMEM;
    m->capfiles = cap;
  }
  mfile *f = &m->files[m->nfiles];
  memset(f, 0, sizeof *f);
  f->path = path;
  f->order = m->nfiles;
  entries_init(&f->lines, 0);
  entries_init(&f->funcs, 1);
  m->paths[m->nfiles] = path;
  SC_FORWARD_IF_ERROR(sc__keyset_insert(&m->fks, m->paths, len));
  m->nfiles++;
  *out = f;
  return 0;
}

static int merge_files(merger *m) {
  for (size_t k = 0; k < m->n; k++) {
    const input *in = &m->in[k];
    const sc__value *files = sc__v_get(in->doc, "files");
    for (size_t i = 0; i < files->u.c.len; i++) {
      mfile *f;
      const sc__value *fo = files->u.c.items[i];
      SC_FORWARD_IF_ERROR(file_find(m, files->u.c.keys[i], &f));
      if (!f->first) f->first = fo;
      double pct;
      if (get_num(fo, "percent_cpu_time", &pct, NULL, NULL) == 1) {
        f->secs += pct / 100.0 * in->T;
        f->has_pct = 1;
      }
      SC_FORWARD_IF_ERROR(entries_add_all(&f->lines, sc__v_get(fo, "lines"), in));
      SC_FORWARD_IF_ERROR(entries_add_all(&f->funcs, sc__v_get(fo, "functions"), in));
      const sc__value *lk = sc__v_get(fo, "leaks"), *im = sc__v_get(fo, "imports");
      if (lk && lk->type == SC__V_OBJECT) SC_FORWARD_IF_ERROR(ptrlist_add(&f->leaks, lk));
      if (im && im->type == SC__V_ARRAY) SC_FORWARD_IF_ERROR(ptrlist_add(&f->imports, im));
    }
  }
  return 0;
}

/* ---- output -------------------------------------------------------------- */

static sc__value *pct_of(const merger *m, double secs) {
  return sc__v_double(m->T > 0 ? 100.0 * secs / m->T : 0.0);
}

static sc__value *wmean(const facc *a) {
  if (a->w > 0) return sc__v_double(a->sum / a->w);
  return sc__v_double(a->count ? a->plain / (double)a->count : 0.0);
}

static sc__value *field_value(const merger *m, int f, const facc *a) {
  switch (fields[f].r) {
    case R_PCT: return pct_of(m, a->sum);
    case R_SUM: return a->all_int ? sc__v_int(a->isum) : sc__v_double(a->sum);
    case R_MAX: return a->max_int ? sc__v_int(a->imax) : sc__v_double(a->max);
    case R_W_TIME:
    case R_W_FIELD:
    case R_W_T: return wmean(a);
    case R_SHARE_MEM: return sc__v_double(m->mem_total > 0 ? a->sum / m->mem_total : 0.0);
    case R_RATE: return sc__v_double(m->elapsed > 0 ? a->sum / m->elapsed : 0.0);
  }
  return NULL;
}

static const char *const pct_keys[] = {"n_cpu_percent_python", "n_cpu_percent_c",
                                       "n_sys_percent", "n_gpu_percent"};

/* A copy of a thread entry from input `in`: percentages rescaled to the
 * merged total, the input's pid added. */
static sc__value *thread_copy(const merger *m, const sc__value *t, const input *in, int rescale) {
  sc__value *c = sc__v_clone(t);
  if (!c || c->type != SC__V_OBJECT) return c;
  if (rescale) {
    for (size_t i = 0; i < sizeof pct_keys / sizeof pct_keys[0]; i++) {
      double p;
      if (get_num(t, pct_keys[i], &p, NULL, NULL) == 1 &&
          sc__v_set(c, pct_keys[i], pct_of(m, p / 100.0 * in->T)) < 0) {
        sc__v_free(c);
        return NULL;
      }
    }
  }
  if (in->pid && !sc__v_get(c, "pid") && sc__v_set(c, "pid", sc__v_clone(in->pid)) < 0) {
    sc__v_free(c);
    return NULL;
  }
  return c;
}

static sc__value *mem_samples_array(const mentry *e) {
  sc__value *ms = sc__v_array();
  if (ms && sc__v_reserve(ms, e->mem_samples.n) < 0) {
    sc__v_free(ms);
    return NULL;
  }
  for (size_t i = 0; ms && i < e->mem_samples.n; i++)
    if (sc__doc_push(ms, sc__v_clone(e->mem_samples.p[i])) < 0) {
      sc__v_free(ms);
      return NULL;
    }
  return ms;
}

static sc__value *threads_array(const merger *m, const mentry *e) {
  sc__value *th = sc__v_array();
  for (size_t i = 0; th && i + 1 < e->threads.n; i += 2)
    if (sc__doc_push(th, thread_copy(m, e->threads.p[i], e->threads.p[i + 1], 1)) < 0) {
      sc__v_free(th);
      return NULL;
    }
  return th;
}

/* Append `key` (copied) and `v` to `o`; keys come from an object of the
 * inputs or the field table, so they are distinct. */
static int add(sc__value *o, sc__keyset *ks, const char *key, sc__value *v) {
  size_t n = strlen(key);
  return sc__doc_add(o, ks, sc__strndup(key, n), n, v);
}

/* The merged object of an entry, in the key order of its first input. */
static sc__value *entry_object(const merger *m, const mentry *e) {
  sc__value *o = sc__v_object();
  int done[NF] = {0}, threads_done = 0, ms_done = 0;
  const sc__value *first = e->first;
  sc__keyset ks;
  sc__keyset_init(&ks);
  if (!o || sc__v_reserve(o, first->u.c.len + 2) < 0) goto fail;
  for (size_t i = 0; i < first->u.c.len; i++) {
    const char *k = first->u.c.keys[i];
    int f = field_index(k);
    sc__value *v;
    if (f >= 0 && e->acc[f].seen) {
      v = field_value(m, f, &e->acc[f]);
      done[f] = 1;
    } else if (strcmp(k, "line") == 0 && e->text) {
      v = sc__v_clone(e->text);
    } else if (strcmp(k, "threads") == 0) {
      v = threads_array(m, e);
      threads_done = 1;
    } else if (strcmp(k, "memory_samples") == 0) {
      v = mem_samples_array(e);
      ms_done = 1;
    } else {
      v = sc__v_clone(first->u.c.items[i]);
    }
    if (add(o, &ks, k, v) < 0) goto fail;
  }
  /* what the first input lacked but another had */
  for (int f = 0; f < NF; f++)
    if (!done[f] && e->acc[f].seen && add(o, &ks, fields[f].name, field_value(m, f, &e->acc[f])) < 0)
      goto fail;
  if (!ms_done && e->mem_samples.n && add(o, &ks, "memory_samples", mem_samples_array(e)) < 0)
    goto fail;
  if (!threads_done && e->threads.n && add(o, &ks, "threads", threads_array(m, e)) < 0) goto fail;
  sc__keyset_free(&ks);
  return o;
fail:
  sc__keyset_free(&ks);
  sc__v_free(o);
  return NULL;
}

static int cmp_entry(const void *a, const void *b) {
  const mentry *x = *(const mentry *const *)a, *y = *(const mentry *const *)b;
  if (x->lineno != y->lineno) return x->lineno < y->lineno ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static sc__value *entries_array(const merger *m, const entries *es) {
  sc__value *arr = sc__v_array();
  const mentry **sorted = sc__malloc((es->n + 1) * sizeof *sorted);
  if (!arr || !sorted || sc__v_reserve(arr, es->n) < 0) goto fail;
  for (size_t i = 0; i < es->n; i++) sorted[i] = &es->e[i];
  qsort(sorted, es->n, sizeof *sorted, cmp_entry);
  for (size_t i = 0; i < es->n; i++)
    if (sc__doc_push(arr, entry_object(m, sorted[i])) < 0) goto fail;
  sc__free(sorted);
  return arr;
fail:
  sc__free(sorted);
  sc__v_free(arr);
  return NULL;
}

static int value_eq(const sc__value *a, const sc__value *b) {
  if (a->type != b->type) return 0;
  switch (a->type) {
    case SC__V_NULL: return 1;
    case SC__V_BOOL: return a->u.b == b->u.b;
    case SC__V_INT: return a->u.i == b->u.i;
    case SC__V_DOUBLE: return a->u.d == b->u.d;
    case SC__V_STRING: return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    default: return 0; /* containers: never deduplicated */
  }
}

static sc__value *file_object(const merger *m, const mfile *f) {
  sc__value *o = sc__v_object();
  const sc__value *first = f->first;
  int rc = 0;
  for (size_t i = 0; o && rc == 0 && i < first->u.c.len; i++) {
    const char *k = first->u.c.keys[i];
    sc__value *v;
    if (strcmp(k, "percent_cpu_time") == 0) {
      v = pct_of(m, f->secs);
    } else if (strcmp(k, "lines") == 0) {
      v = entries_array(m, &f->lines);
    } else if (strcmp(k, "functions") == 0) {
      v = entries_array(m, &f->funcs);
    } else if (strcmp(k, "leaks") == 0) {
      v = sc__v_object();
      for (size_t j = 0; v && j < f->leaks.n; j++) {
        const sc__value *lk = f->leaks.p[j];
        for (size_t q = 0; v && q < lk->u.c.len; q++) {
          if (sc__v_get(v, lk->u.c.keys[q])) continue;
          if (sc__v_set(v, lk->u.c.keys[q], sc__v_clone(lk->u.c.items[q])) < 0) {
            sc__v_free(v);
            v = NULL;
          }
        }
      }
    } else if (strcmp(k, "imports") == 0) {
      v = sc__v_array();
      for (size_t j = 0; v && j < f->imports.n; j++) {
        const sc__value *im = f->imports.p[j];
        for (size_t q = 0; v && q < im->u.c.len; q++) {
          int dup = 0;
          for (size_t r = 0; !dup && r < v->u.c.len; r++) dup = value_eq(v->u.c.items[r], im->u.c.items[q]);
          if (!dup && sc__doc_push(v, sc__v_clone(im->u.c.items[q])) < 0) {
            sc__v_free(v);
            v = NULL;
          }
        }
      }
    } else {
      v = sc__v_clone(first->u.c.items[i]);
    }
    rc = sc__v_set(o, k, v);
  }
  if (!o || rc < 0) goto fail;
  /* what the first input lacked but others had */
  if (!sc__v_get(o, "percent_cpu_time") && f->has_pct && sc__v_set(o, "percent_cpu_time", pct_of(m, f->secs)) < 0)
    goto fail;
  if (!sc__v_get(o, "lines") && f->lines.n && sc__v_set(o, "lines", entries_array(m, &f->lines)) < 0)
    goto fail;
  if (!sc__v_get(o, "functions") && f->funcs.n && sc__v_set(o, "functions", entries_array(m, &f->funcs)) < 0)
    goto fail;
  return o;
fail:
  sc__v_free(o);
  return NULL;
}

static int cmp_file(const void *a, const void *b) {
  const mfile *x = *(const mfile *const *)a, *y = *(const mfile *const *)b;
  if (x->secs != y->secs) return x->secs > y->secs ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static sc__value *files_object(const merger *m) {
  sc__value *o = sc__v_object();
  const mfile **sorted = sc__malloc((m->nfiles + 1) * sizeof *sorted);
  sc__keyset ks;
  sc__keyset_init(&ks);
  if (!o || !sorted || sc__v_reserve(o, m->nfiles) < 0) goto fail;
  for (size_t i = 0; i < m->nfiles; i++) sorted[i] = &m->files[i];
  qsort(sorted, m->nfiles, sizeof *sorted, cmp_file);
  for (size_t i = 0; i < m->nfiles; i++) {
    char *k = sc__strdup(sorted[i]->path);
    sc__value *fo = file_object(m, sorted[i]);
    if (sc__doc_add(o, &ks, k, k ? strlen(k) : 0, fo) < 0) goto fail;
  }
  sc__keyset_free(&ks);
  sc__free(sorted);
  return o;
fail:
  sc__keyset_free(&ks);
  sc__free(sorted);
  sc__v_free(o);
  return NULL;
}

/* ---- top level ----------------------------------------------------------- */

static const char *const process_keys[] = {"program", "args", "pid", "elapsed_time_sec",
                                           "total_time_sec", "total_cpu_time_sec", "cpu_samples"};

static sc__value *processes_array(const merger *m) {
  sc__value *arr = sc__v_array();
  for (size_t k = 0; arr && k < m->n; k++) {
    const sc__value *doc = m->in[k].doc, *procs = sc__v_get(doc, "processes");
    if (procs && procs->type == SC__V_ARRAY) {
      for (size_t i = 0; i < procs->u.c.len; i++)
        if (sc__doc_push(arr, sc__v_clone(procs->u.c.items[i])) < 0) goto fail;
      continue;
    }
    sc__value *p = sc__v_object();
    if (sc__doc_push(arr, p) < 0) goto fail;
    for (size_t i = 0; i < sizeof process_keys / sizeof process_keys[0]; i++) {
      const sc__value *v = sc__v_get(doc, process_keys[i]);
      if (sc__v_set(p, process_keys[i], v ? sc__v_clone(v) : sc__v_null()) < 0) goto fail;
    }
  }
  return arr;
fail:
  sc__v_free(arr);
  return NULL;
}

typedef enum top_rule { T_FIRST, T_SUM, T_MAX, T_MIN, T_PCT, T_W_T, T_OR, T_AND, T_CONCAT } top_rule;

static top_rule top_rule_of(const char *k) {
  static const struct {
    const char *k;
    top_rule r;
  } t[] = {
      {"elapsed_time_sec", T_MAX},     {"max_footprint_mb", T_MAX},
      {"start_time_absolute", T_MIN},  {"total_time_sec", T_SUM},
      {"total_cpu_time_sec", T_SUM},   {"cpu_samples", T_SUM},
      {"blocked_samples", T_SUM},
      {"unattributed_samples", T_SUM}, {"dropped_samples", T_SUM},
      {"alloc_samples", T_SUM},        {"unattributed_percent", T_PCT},
      {"total_malloc_mb", T_SUM},      {"total_copy_mb", T_SUM},
      {"growth_rate", T_W_T},          {"gpu", T_OR},
      {"memory", T_OR},                {"use_virtual_time", T_AND},
      {"samples", T_CONCAT},           {"stacks", T_CONCAT},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(t[i].k, k) == 0) return t[i].r;
  return T_FIRST;
}

/* The merged value of top-level key `k`. */
static sc__value *top_value(const merger *m, const char *k) {
  top_rule r = top_rule_of(k);
  if (strcmp(k, "scalenecore_version") == 0) return sc__v_str(SC_VERSION_STRING);
  if (strcmp(k, "threads") == 0) {
    sc__value *arr = sc__v_array();
    for (size_t j = 0; arr && j < m->n; j++) {
      const sc__value *th = sc__v_get(m->in[j].doc, "threads");
      for (size_t i = 0; th && th->type == SC__V_ARRAY && i < th->u.c.len; i++) {
        if (sc__doc_push(arr, thread_copy(m, th->u.c.items[i], &m->in[j], 0)) < 0) {
          sc__v_free(arr);
          return NULL;
        }
      }
    }
    return arr;
  }
  if (strcmp(k, "no_samples_reason") == 0 || strcmp(k, "gpu_device") == 0) {
    if (strcmp(k, "no_samples_reason") == 0 && m->nfiles) return sc__v_str("");
    for (size_t j = 0; j < m->n; j++) {
      const sc__value *v = sc__v_get(m->in[j].doc, k);
      if (v && v->type == SC__V_STRING && v->u.str.len) return sc__v_clone(v);
    }
    return sc__v_str("");
  }
  if (strncmp(k, "max_footprint_", 14) == 0 && strcmp(k, "max_footprint_mb") != 0) {
    /* the details of the input with the largest footprint */
    size_t best = SIZE_MAX;
    double bv = 0;
    for (size_t j = 0; j < m->n; j++) {
      double d;
      if (get_num(m->in[j].doc, "max_footprint_mb", &d, NULL, NULL) == 1 && (best == SIZE_MAX || d > bv)) {
        best = j;
        bv = d;
      }
    }
    const sc__value *v = best != SIZE_MAX ? sc__v_get(m->in[best].doc, k) : NULL;
    if (v) return sc__v_clone(v);
    r = T_FIRST;
  }
  double sum = 0, w = 0, best = 0;
  int any = 0, all_int = 1, bool_acc = r == T_AND;
  int64_t isum = 0, ibest = 0;
  const sc__value *firstv = NULL;
  sc__value *concat = r == T_CONCAT ? sc__v_array() : NULL;
  if (r == T_CONCAT && !concat) return NULL;
  for (size_t j = 0; j < m->n; j++) {
    const sc__value *v = sc__v_get(m->in[j].doc, k);
    if (!v) continue;
    if (!firstv) firstv = v;
    if (r == T_CONCAT) {
      for (size_t i = 0; v->type == SC__V_ARRAY && i < v->u.c.len; i++)
        if (sc__doc_push(concat, sc__v_clone(v->u.c.items[i])) < 0) {
          sc__v_free(concat);
          return NULL;
        }
      continue;
    }
    if (r == T_OR || r == T_AND) {
      if (v->type != SC__V_BOOL) continue;
      bool_acc = r == T_OR ? (bool_acc || v->u.b) : (bool_acc && v->u.b);
      any = 1;
      continue;
    }
    if (r == T_FIRST) break;
    double d;
    int is_int;
    int64_t iv;
    if (get_num(m->in[j].doc, k, &d, &is_int, &iv) != 1) continue;
    switch (r) {
      case T_SUM:
        sum += d;
        if (!is_int || __builtin_add_overflow(isum, iv, &isum)) all_int = 0;
        break;
      case T_MAX:
      case T_MIN:
        if (!any || (r == T_MAX ? d > best : d < best)) {
          best = d;
          ibest = iv;
          all_int = is_int;
        }
        break;
      case T_PCT: sum += d / 100.0 * m->in[j].T; break;
      case T_W_T:
        sum += d * m->in[j].T;
        w += m->in[j].T;
        best += d; /* plain sum for the fallback mean */
        break;
      default: break;
    }
    any = 1;
  }
  switch (r) {
    case T_CONCAT: return concat;
    case T_OR:
    case T_AND: return any ? sc__v_bool(bool_acc) : sc__v_clone(firstv);
    case T_FIRST: return sc__v_clone(firstv);
    default: break;
  }
  if (!any) return sc__v_clone(firstv);
  switch (r) {
    case T_SUM: return all_int ? sc__v_int(isum) : sc__v_double(sum);
    case T_MAX:
    case T_MIN: return all_int ? sc__v_int(ibest) : sc__v_double(best);
    case T_PCT: return pct_of(m, sum);
    case T_W_T: {
      size_t cnt = 0;
      for (size_t j = 0; j < m->n; j++) cnt += sc__v_get(m->in[j].doc, k) != NULL;
      return sc__v_double(w > 0 ? sum / w : best / (double)(cnt ? cnt : 1));
    }
    default: return sc__v_clone(firstv);
  }
}

static int build(merger *m, sc__value **out) {
  sc__value *root = sc__v_object();
  if (!root) return SC_ENOMEM;
  /* keys in order of first appearance across inputs; "processes" and
   * "files" last */
  for (size_t j = 0; j < m->n; j++) {
    const sc__value *doc = m->in[j].doc;
    for (size_t i = 0; i < doc->u.c.len; i++) {
      const char *k = doc->u.c.keys[i];
      if (strcmp(k, "files") == 0 || strcmp(k, "processes") == 0 || sc__v_get(root, k)) continue;
      if (sc__v_set(root, k, top_value(m, k)) < 0) goto oom;
    }
  }
  if (sc__v_set(root, "processes", processes_array(m)) < 0) goto oom;
  if (sc__v_set(root, "files", files_object(m)) < 0) goto oom;
  *out = root;
  return 0;
oom:
  sc__v_free(root);
  return SC_ENOMEM;
}

SC_API int sc_profile_merge(const sc_profile_t *const *profiles, size_t n, sc_profile_t **out) {
  if (!profiles || !out || n == 0) return SC_EINVAL;
  for (size_t k = 0; k < n; k++)
    if (!profiles[k]) return SC_EINVAL;
  merger m;
  memset(&m, 0, sizeof m);
  sc__keyset_init(&m.fks);
  m.n = n;
  m.in = sc__calloc(n, sizeof *m.in);
  if (!m.in) return SC_ENOMEM;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < n; k++) {
    rc = input_init(&m.in[k], profiles[k]->doc);
    if (rc == 0) {
      m.T += m.in[k].T;
      m.mem_total += m.in[k].mem_total;
      if (m.in[k].elapsed > m.elapsed) m.elapsed = m.in[k].elapsed;
    }
  }
  if (rc == 0) rc = merge_files(&m);
  sc__value *doc = NULL;
  if (rc == 0) rc = build(&m, &doc);
  merger_free(&m);
  sc__free(m.in);
  if (rc < 0) return rc;
  return sc__profile_wrap(doc, out);
}
