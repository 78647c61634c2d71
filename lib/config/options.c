/* options.c - the one table of options.  The command line, YAML config
 * files and SCALENE_* environment variables all go through it, so a name,
 * its type, default and bounds are written down exactly once. */
#include "../common/internal.h"

#include <ctype.h>
#include <locale.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"

#define B SC_OPTTYPE_BOOL
#define I SC_OPTTYPE_INT
#define D SC_OPTTYPE_DOUBLE
#define S SC_OPTTYPE_STRING
#define ADV SC_OPTFLAG_ADVANCED
#define CORE SC_OPTFLAG_CORE

/* id, name, type, default (text), min, max, flags, help */
#define SC_OPTION_TABLE(XX)                                                           \
  XX(OUTFILE, "outfile", S, "scalene-profile.json", 0, 0, 0,                          \
     "output file (default: scalene-profile.json)")                                   \
  XX(CPU_ONLY, "cpu-only", B, "false", 0, 1, CORE,                                       \
     "only profile CPU time (no memory/GPU)")                                         \
  XX(GPU, "gpu", B, "false", 0, 1, ADV, "profile GPU time and memory")                \
  XX(MEMORY, "memory", B, "false", 0, 1, ADV | CORE, "profile memory usage")                 \
  XX(STACKS, "stacks", B, "false", 0, 1, ADV, "collect stack traces")                 \
  XX(PROFILE_ALL, "profile-all", B, "false", 0, 1, ADV,                               \
     "profile all code, not just the target program")                                 \
  XX(PROFILE_ONLY, "profile-only", S, "", 0, 0, ADV,                                  \
     "only profile files containing these strings (comma-separated)")                 \
  XX(PROFILE_EXCLUDE, "profile-exclude", S, "", 0, 0, ADV,                            \
     "exclude files containing these strings (comma-separated)")                      \
  XX(PROFILE_SYSTEM_LIBRARIES, "profile-system-libraries", B, "false", 0, 1, ADV,     \
     "profile Python stdlib and installed packages (default: skip)")                  \
  XX(PROGRAM_PATH, "program-path", S, "", 0, 0, ADV,                                  \
     "directory containing code to profile (default: the program's directory)")       \
  XX(CPU_PERCENT_THRESHOLD, "cpu-percent-threshold", D, "1", 0, 100, ADV | CORE,      \
     "only report files with at least N% CPU (with --reduced-profile: lines and functions too)")         \
  XX(CPU_SAMPLING_RATE, "cpu-sampling-rate", D, "0.01", 0.0001, 10, ADV | CORE,       \
     "CPU sampling interval in seconds of CPU time")                                  \
  XX(ALLOCATION_SAMPLING_WINDOW, "allocation-sampling-window", I, "1048576", 1,      \
     1e12, ADV | CORE, "mean bytes between allocation samples (exponentially distributed)")                                \
  XX(MALLOC_THRESHOLD, "malloc-threshold", I, "100", 0, 1e12, ADV | CORE,             \
     "only report files and (reduced) lines with at least N allocations")             \
  XX(USE_VIRTUAL_TIME, "use-virtual-time", B, "false", 0, 1, ADV | CORE,              \
     "measure only CPU time, not I/O or blocking")                                    \
  XX(MEMORY_LEAK_DETECTOR, "memory-leak-detector", B, "false", 0, 1, ADV | CORE,             \
     "EXPERIMENTAL: report likely memory leaks")                                      \
  XX(REDUCED_PROFILE, "reduced-profile", B, "false", 0, 1, CORE,                      \
     "only report lines above the CPU or allocation thresholds")                      \
  XX(OFF, "off", B, "false", 0, 1, ADV | CORE, "start with profiling off")                   \
  XX(PROFILE_INTERVAL, "profile-interval", D, "0", 0, 1e9, ADV,                       \
     "output profiles every N seconds (0: only at exit)")                             \
  XX(SAMPLE_SIGNAL, "sample-signal", I, "0", 0, 64, ADV | CORE,                       \
     "signal number used by the CPU sampler (0: SIGRTMAX-3)")                         \
  XX(MAX_FRAMES, "max-frames", I, "32", 1, 256, ADV | CORE,                           \
     "frames captured per sample")                                                    \
  XX(RING_CAPACITY, "ring-capacity", I, "256", 8, 65536, ADV | CORE,                  \
     "samples buffered per thread between drains")                                    \
  XX(DRAIN_INTERVAL, "drain-interval", D, "0.05", 0.001, 10, ADV | CORE,              \
     "seconds between drains of the sample buffers")

typedef struct opt_def {
  sc_option_t id;
  const char *name;
  sc_option_type_t type;
  const char *def;
  double min, max;
  uint32_t flags;
  const char *help;
} opt_def;

static const opt_def defs[] = {
#define SC__OPT_DEF(ID, NAME, T, DEF, MIN, MAX, FL, HELP) \
  {SC_OPT_##ID, NAME, T, DEF, MIN, MAX, FL, HELP},
    SC_OPTION_TABLE(SC__OPT_DEF)
#undef SC__OPT_DEF
};

#define NDEFS (sizeof defs / sizeof defs[0])

static const opt_def *find_def(sc_option_t id) {
  for (size_t i = 0; i < NDEFS; i++)
    if (defs[i].id == id) return &defs[i];
  return NULL;
}

typedef struct opt_val {
  int set;
  bool b;
  int64_t i;
  double d;
  char *s;
} opt_val;

struct sc_options {
  opt_val v[SC__OPT_END];
};

SC_API int sc_option_info(sc_option_t id, sc_option_info_t *info) {
  if (!info || info->size < sizeof(size_t)) return SC_EINVAL;
  const opt_def *d = find_def(id);
  if (!d) return SC_ENOENT;
  sc_option_info_t full;
  full.size = info->size;
  full.id = d->id;
  full.name = d->name;
  full.type = d->type;
  full.help = d->help;
  full.default_text = d->def;
  full.min_value = d->min;
  full.max_value = d->max;
  full.flags = d->flags;
  size_t n = info->size < sizeof full ? info->size : sizeof full;
  memcpy(info, &full, n);
  return 0;
}

static int name_eq(const char *a, const char *b) {
  for (; *a && *b; a++, b++) {
    char x = *a == '_' ? '-' : (char)tolower((unsigned char)*a);
    char y = *b == '_' ? '-' : (char)tolower((unsigned char)*b);
    if (x != y) return 0;
  }
  return *a == *b;
}

SC_API int sc_option_find(const char *name, sc_option_t *id) {
  if (!name || !id) return SC_EINVAL;
  for (size_t i = 0; i < NDEFS; i++) {
    if (name_eq(name, defs[i].name)) {
      *id = defs[i].id;
      return 0;
    }
  }
  return SC_ENOENT;
}

static int parse_bool(const char *t, bool *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(t, yes[i]) == 0) { *out = true; return 0; }
    if (strcasecmp(t, no[i]) == 0) { *out = false; return 0; }
  }
  return SC_EFORMAT;
}

static int parse_double(const char *t, double *out) {
  char *end;
  errno = 0;
  /* "0.01" means the same under every locale. */
  locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  double d = c ? strtod_l(t, &end, c) : strtod(t, &end);
  if (c) freelocale(c);
  if (end == t || *end != '\0' || errno == ERANGE || !isfinite(d)) return SC_EFORMAT;
  *out = d;
  return 0;
}

static int parse_int(const char *t, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(t, &end, 10);
  if (end == t || *end != '\0' || errno == ERANGE) return SC_EFORMAT;
  *out = v;
  return 0;
}

static int set_from_text(opt_val *v, const opt_def *d, const char *t) {
  switch (d->type) {
    case SC_OPTTYPE_BOOL: {
      bool b;
      SC_FORWARD_IF_ERROR(parse_bool(t, &b));
      v->b = b;
      break;
    }
    case SC_OPTTYPE_INT: {
      int64_t i;
      SC_FORWARD_IF_ERROR(parse_int(t, &i));
      if ((double)i < d->min || (double)i > d->max) return SC_ERANGE;
      v->i = i;
      break;
    }
    case SC_OPTTYPE_DOUBLE: {
      double x;
      SC_FORWARD_IF_ERROR(parse_double(t, &x));
      if (x < d->min || x > d->max) return SC_ERANGE;
      v->d = x;
      break;
    }
    case SC_OPTTYPE_STRING: {
      char *s = sc__strdup(t);
      if (!s) return SC_ENOMEM;
      sc__free(v->s);
      v->s = s;
      break;
    }
  }
  v->set = 1;
  return 0;
}

SC_API int sc_options_create(sc_options_t **out) {
  if (!out) return SC_EINVAL;
  sc_options_t *o = sc__calloc(1, sizeof *o);
  if (!o) return SC_ENOMEM;
  for (size_t i = 0; i < NDEFS; i++) {
    int rc = set_from_text(&o->v[defs[i].id], &defs[i], defs[i].def);
    if (rc < 0) { /* a broken table is a programming error */
      sc_options_destroy(o);
      return rc;
    }
    o->v[defs[i].id].set = 0;
  }
  *out = o;
  return 0;
}

SC_API void sc_options_destroy(sc_options_t *o) {
  if (!o) return;
  for (size_t i = 0; i < SC__OPT_END; i++) sc__free(o->v[i].s);
  sc__free(o);
}

int sc__options_copy(const sc_options_t *src, sc_options_t **out) {
  sc_options_t *o;
  SC_FORWARD_IF_ERROR(sc_options_create(&o));
  if (src) {
    for (size_t i = 0; i < SC__OPT_END; i++) {
      char *s = o->v[i].s;
      o->v[i] = src->v[i];
      o->v[i].s = s;
      if (src->v[i].s) {
        sc__free(s);
        o->v[i].s = sc__strdup(src->v[i].s);
        if (!o->v[i].s) {
          sc_options_destroy(o);
          return SC_ENOMEM;
        }
      }
    }
  }
  *out = o;
  return 0;
}

static int lookup(const sc_options_t *o, sc_option_t id, sc_option_type_t t,
                  const opt_def **d) {
  if (!o) return SC_EINVAL;
  *d = find_def(id);
  if (!*d) return SC_ENOENT;
  if ((*d)->type != t) return SC_ETYPE;
  return 0;
}

SC_API int sc_options_set_bool(sc_options_t *o, sc_option_t id, bool v) {
  const opt_def *d;
  SC_FORWARD_IF_ERROR(lookup(o, id, SC_OPTTYPE_BOOL, &d));
  o->v[id].b = v;
  o->v[id].set = 1;
  return 0;
}

SC_API int sc_options_set_int(sc_options_t *o, sc_option_t id, int64_t v) {
  const opt_def *d;
  SC_FORWARD_IF_ERROR(lookup(o, id, SC_OPTTYPE_INT, &d));
  if ((double)v < d->min || (double)v > d->max) return SC_ERANGE;
  o->v[id].i = v;
  o->v[id].set = 1;
  return 0;
}

SC_API int sc_options_set_double(sc_options_t *o, sc_option_t id, double v) {
  const opt_def *d;
  SC_FORWARD_IF_ERROR(lookup(o, id, SC_OPTTYPE_DOUBLE, &d));
  if (!isfinite(v) || v < d->min || v > d->max) return SC_ERANGE;
  o->v[id].d = v;
  o->v[id].set = 1;
  return 0;
}

SC_API int sc_options_set_string(sc_options_t *o, sc_option_t id, const char *v) {
  const opt_def *d;
  SC_FORWARD_IF_ERROR(lookup(o, id, SC_OPTTYPE_STRING, &d));
  if (!v) return SC_EINVAL;
  return set_from_text(&o->v[id], d, v);
}

SC_API int sc_options_parse(sc_options_t *o, sc_option_t id, const char *text) {
  if (!o || !text) return SC_EINVAL;
  const opt_def *d = find_def(id);
  if (!d) return SC_ENOENT;
  opt_val tmp = o->v[id];
  tmp.s = NULL;
  int rc = set_from_text(&tmp, d, text);
  if (rc < 0) return rc;
  if (d->type == SC_OPTTYPE_STRING) {
    sc__free(o->v[id].s);
  }
  if (d->type != SC_OPTTYPE_STRING) tmp.s = o->v[id].s;
  o->v[id] = tmp;
  return 0;
}

SC_API int sc_options_get_bool(const sc_options_t *o, sc_option_t id, bool *v) {
  const opt_def *d;
  if (!v) return SC_EINVAL;
  SC_FORWARD_IF_ERROR(lookup(o, id, SC_OPTTYPE_BOOL, &d));
  *v = o->v[id].b;
  return 0;
}

SC_API int sc_options_get_int(const sc_options_t *o, sc_option_t id, int64_t *v) {
  const opt_def *d;
  if (!v) return SC_EINVAL;
  SC_FORWARD_IF_ERROR(lookup(o, id, SC_OPTTYPE_INT, &d));
  *v = o->v[id].i;
  return 0;
}

SC_API int sc_options_get_double(const sc_options_t *o, sc_option_t id, double *v) {
  const opt_def *d;
  if (!v) return SC_EINVAL;
  SC_FORWARD_IF_ERROR(lookup(o, id, SC_OPTTYPE_DOUBLE, &d));
  *v = o->v[id].d;
  return 0;
}

SC_API int sc_options_get_string(const sc_options_t *o, sc_option_t id, const char **v) {
  const opt_def *d;
  if (!v) return SC_EINVAL;
  SC_FORWARD_IF_ERROR(lookup(o, id, SC_OPTTYPE_STRING, &d));
  *v = o->v[id].s ? o->v[id].s : "";
  return 0;
}

SC_API int sc_options_is_set(const sc_options_t *o, sc_option_t id, bool *set) {
  if (!o || !set) return SC_EINVAL;
  if (!find_def(id)) return SC_ENOENT;
  *set = o->v[id].set != 0;
  return 0;
}

SC_API int sc_options_load_env(sc_options_t *o, const char **bad_name) {
  if (!o) return SC_EINVAL;
  for (size_t i = 0; i < NDEFS; i++) {
    char var[80] = "SCALENE_";
    size_t k = strlen(var);
    for (const char *p = defs[i].name; *p && k + 1 < sizeof var; p++)
      var[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    var[k] = '\0';
    const char *val = getenv(var);
    if (!val) continue;
    int rc = sc_options_parse(o, defs[i].id, val);
    if (rc < 0) {
      if (bad_name) *bad_name = defs[i].name;
      return rc;
    }
  }
  return 0;
}

/* Internal accessors that cannot fail for a well-typed id. */
bool sc__opt_bool(const sc_options_t *o, sc_option_t id) { return o->v[id].b; }
int64_t sc__opt_int(const sc_options_t *o, sc_option_t id) { return o->v[id].i; }
double sc__opt_double(const sc_options_t *o, sc_option_t id) { return o->v[id].d; }
const char *sc__opt_string(const sc_options_t *o, sc_option_t id) {
  return o->v[id].s ? o->v[id].s : "";
}
