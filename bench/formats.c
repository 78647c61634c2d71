/* bench/formats.c - size and load time of the two profile formats.
 *
 *   make bench-formats                       (bench/formats.mk)
 *   build/bench/formats [FILES [LINES_PER_FILE [RUNS]]]
 *
 * Builds a synthetic profile of 50,000 lines over 2,000 files (by default)
 * with the layout lib/export/profile.c writes: every line of every file
 * listed, about one line in three with samples (17-digit percentages),
 * half of those with memory figures and a footprint series,
 * three functions per file.  Exports it through the public API as JSON
 * and as MessagePack+zstd, loads each RUNS times (sc_profile_load_buffer,
 * best run reported), and prints the sizes, the ratios and PASS/MISS
 * against the targets: the compact file at least 5x smaller, and
 * loading at least 5x faster.  The MessagePack+zstd load is also broken
 * down into its zstd part and the rest (the structural pre-scan, msgpack-c
 * unpacking the payload piece by piece, building the document), with, for
 * comparison, what msgpack-c alone takes to unpack the whole payload in
 * one call (which the loader does not do: lib/export/msgpack.c). */
#include <msgpack.h>
#include <scalenecore.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

typedef struct text {
  char *d;
  size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->d + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    t->cap = t->cap ? t->cap * 2 : 1 << 20;
    t->d = realloc(t->d, t->cap);
    if (!t->d) abort();
  }
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static double unit(void) { return (double)(next() >> 11) / 9007199254740992.0; }

static const char *const code[] = {
    "    result = compute(values[i], factor=scale)",
    "    for item in items:",
    "        total += item.weight * item.count",
    "    if not cache.get(key):",
    "        cache[key] = load_from_disk(path, mode=\"rb\")",
    "    return sorted(results, key=lambda r: r.score, reverse=True)",
    "def process_batch(batch, *, retries=3, timeout=None):",
    "    \"\"\"Process one batch of records.\"\"\"",
    "    logger.debug(\"processing %d records\", len(batch))",
    "        data = json.loads(response.text)",
    "    except (ValueError, KeyError) as exc:",
    "        raise ProcessingError(f\"bad record {record_id}\") from exc",
    "    matrix = np.dot(weights, inputs) + bias",
    "    with open(output_path, \"w\", encoding=\"utf-8\") as fh:",
    "",
    "class RecordParser(BaseParser):",
    "    def __init__(self, schema, strict=False):",
    "        self.schema = schema",
    "import os, sys, re, json, hashlib",
    "    yield from (transform(x) for x in chunk if x is not None)",
};

/* The fields profile.c writes for a line or a function.  An active line
 * has CPU samples; half of them (a sixth of all lines) also allocated:
 * memory figures and a footprint series of 1-64 points (profile.c keeps
 * at most 64 per line), as `scalene run` records by default. */
static void line_fields(text *t, int lineno, int active, const char *src) {
  double py = 0, c = 0, sys = 0, util = 0;
  int samples = 0, blocked = 0;
  if (active) {
    py = unit() * 2.0;
    c = unit() < 0.5 ? unit() : 0;
    sys = unit() * 0.1;
    util = unit();
    samples = 1 + (int)(next() % 200);
    blocked = next() % 4 == 0 ? (int)(next() % 20) : 0;
  }
  put(t,
      "{\"line\":\"%s\\n\",\"lineno\":%d,\"n_cpu_percent_python\":%.17g,\"n_cpu_percent_c\":%.17g,"
      "\"n_sys_percent\":%.17g,\"n_core_utilization\":%.17g,\"n_cpu_samples\":%d,"
      "\"n_blocked_samples\":%d,",
      src, lineno, py, c, sys, util, samples, blocked);
  if (active && next() % 2 == 0) {
    double mb = unit() * 200, peak = mb * unit(), avg = peak * unit();
    int mallocs = 1 + (int)(next() % 500), frees = (int)(next() % (unsigned)mallocs);
    put(t,
        "\"n_malloc_mb\":%.17g,\"n_peak_mb\":%.17g,\"n_avg_mb\":%.17g,\"n_mallocs\":%d,"
        "\"n_frees\":%d,\"n_growth_mb\":%.17g,\"n_usage_fraction\":%.17g,"
        "\"n_python_fraction\":%.17g,\"n_copy_mb_s\":%.17g,\"n_gpu_percent\":0,"
        "\"n_gpu_peak_memory_mb\":0,\"n_gpu_avg_memory_mb\":0,\"memory_samples\":[",
        mb, peak, avg, mallocs, frees, mb * unit(), unit() * 0.05, unit(),
        unit() < 0.2 ? unit() * 50 : 0);
    int points = 1 + (int)(next() % 64);
    double when = unit() * 10;
    for (int i = 0; i < points; i++) {
      when += unit() * 5;
      put(t, "%s[%.17g,%.17g]", i ? "," : "", when, peak * unit());
    }
    put(t, "],");
  } else {
    put(t,
        "\"n_malloc_mb\":0,\"n_peak_mb\":0,\"n_avg_mb\":0,\"n_mallocs\":0,\"n_frees\":0,"
        "\"n_growth_mb\":0,\"n_usage_fraction\":0,\"n_python_fraction\":0,\"n_copy_mb_s\":0,"
        "\"n_gpu_percent\":0,\"n_gpu_peak_memory_mb\":0,\"n_gpu_avg_memory_mb\":0,"
        "\"memory_samples\":[],");
  }
  put(t,
      "\"start_region_line\":%d,\"end_region_line\":%d,\"start_outermost_loop\":%d,"
      "\"end_outermost_loop\":%d",
      lineno, lineno, lineno, lineno);
}

/* The synthetic profile as compact JSON text. */
static char *synth(int files, int lines, size_t *len) {
  text t = {0};
  put(&t,
      "{\"program\":\"/srv/app/main.py\",\"args\":[\"--workers\",\"8\"],\"filename\":\"/srv/app/main.py\","
      "\"entrypoint_dir\":\"/srv/app\",\"scalenecore_version\":\"1.0.0\",\"elapsed_time_sec\":%.17g,"
      "\"start_time_absolute\":1795533021.569026,\"total_cpu_time_sec\":%.17g,\"total_time_sec\":%.17g,"
      "\"pid\":4242,\"cpu_sampling_rate\":0.01,\"use_virtual_time\":false,\"cpu_samples\":%d,"
      "\"unattributed_samples\":0,\"unattributed_percent\":0,\"dropped_samples\":0,"
      "\"no_samples_reason\":\"\",\"gpu\":false,\"gpu_device\":\"\",\"memory\":true,\"alloc_samples\":52113,"
      "\"max_footprint_mb\":1843.25,\"max_footprint_fname\":\"/srv/app/pkg000/module_0000.py\","
      "\"max_footprint_lineno\":7,\"max_footprint_python_fraction\":0.25,\"growth_rate\":0.5,"
      "\"samples\":[],\"stacks\":[],"
      "\"threads\":[{\"tid\":4242,\"name\":\"MainThread\",\"cpu_sec\":812.5,\"blocked_sec\":10.25,"
      "\"samples\":81250}],\"files\":{",
      900.123456789, 812.987654321, 823.0123456789, 81250);
  for (int f = 0; f < files; f++) {
    put(&t, "%s\"/srv/app/pkg%03d/module_%04d.py\":{\"percent_cpu_time\":%.17g,\"lines\":[", f ? "," : "",
        f % 97, f, unit() * 5);
    for (int l = 1; l <= lines; l++) {
      const char *src = code[next() % (sizeof code / sizeof code[0])];
      char esc[256];
      size_t k = 0;
      for (const char *p = src; *p && k + 2 < sizeof esc; p++) {
        if (*p == '"' || *p == '\\') esc[k++] = '\\';
        esc[k++] = *p;
      }
      esc[k] = '\0';
      put(&t, "%s", l > 1 ? "," : "");
      line_fields(&t, l, next() % 3 == 0, esc);
      put(&t, "}");
    }
    put(&t, "],\"functions\":[");
    for (int fn = 0; fn < 3; fn++) {
      int first = 1 + fn * (lines / 3);
      put(&t, "%s", fn ? "," : "");
      char name[64];
      snprintf(name, sizeof name, "Handler%d.method_%d", f % 13, fn);
      line_fields(&t, first, 1, name);
      put(&t, ",\"fn_name\":\"%s\"}", name);
    }
    put(&t, "],\"leaks\":{},\"imports\":[]}");
  }
  put(&t, "}}");
  *len = t.len;
  return t.d;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best time of `runs` loads of data, one after the other in this process
 * (each profile freed before the next load). */
static double best_load(const char *data, size_t len, int runs) {
  double best = 1e30;
  for (int r = 0; r < runs; r++) {
    sc_profile_t *p = NULL;
    double t0 = now();
    int rc = sc_profile_load_buffer(data, len, &p);
    double dt = now() - t0;
    if (rc != 0) {
      fprintf(stderr, "load failed: %s\n", sc_strerror(rc));
      exit(1);
    }
    sc_profile_free(p);
    if (dt < best) best = dt;
  }
  return best;
}

/* The same, each load in a fresh child process: a heap that has not yet
 * held a profile, as when `scalene view` loads a file. */
static double best_load_fresh(const char *data, size_t len, int runs) {
  double best = 1e30;
  for (int r = 0; r < runs; r++) {
    int fd[2];
    if (pipe(fd) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0) {
      close(fd[0]);
      sc_profile_t *p = NULL;
      double t0 = now();
      int rc = sc_profile_load_buffer(data, len, &p);
      double dt = rc == 0 ? now() - t0 : -1;
      if (write(fd[1], &dt, sizeof dt) != sizeof dt) _exit(1);
      _exit(0);
    }
    close(fd[1]);
    double dt = -1;
    if (read(fd[0], &dt, sizeof dt) != sizeof dt || dt < 0) {
      fprintf(stderr, "load failed in the child\n");
      exit(1);
    }
    close(fd[0]);
    waitpid(pid, NULL, 0);
    if (dt < best) best = dt;
  }
  return best;
}

int main(int argc, char **argv) {
  int files = argc > 1 ? atoi(argv[1]) : 2000;
  int lines = argc > 2 ? atoi(argv[2]) : 25;
  int runs = argc > 3 ? atoi(argv[3]) : 5;
  if (files < 1 || lines < 3 || runs < 1) {
    fprintf(stderr, "usage: formats [FILES [LINES_PER_FILE [RUNS]]]\n");
    return 2;
  }
  size_t srclen;
  char *src = synth(files, lines, &srclen);
  sc_profile_t *p = NULL;
  int rc = sc_profile_load_buffer(src, srclen, &p);
  if (rc) {
    fprintf(stderr, "synthetic profile does not load: %s\n", sc_strerror(rc));
    return 1;
  }
  free(src);
  char *json = NULL, *mp = NULL;
  size_t jlen = 0, mlen = 0;
  double t0 = now();
  if (sc_profile_export_buffer(p, SC_FORMAT_JSON, &json, &jlen)) return 1;
  double tj = now() - t0;
  t0 = now();
  if (sc_profile_export_buffer(p, SC_FORMAT_MSGPACK_ZSTD, &mp, &mlen)) return 1;
  double tm = now() - t0;
  sc_profile_free(p);

  double lj = best_load(json, jlen, runs);
  double lm = best_load(mp, mlen, runs);
  double fj = best_load_fresh(json, jlen, runs);
  double fm = best_load_fresh(mp, mlen, runs);

  /* where the MessagePack+zstd load goes */
  unsigned long long rawlen = ZSTD_getFrameContentSize(mp, mlen);
  char *raw = malloc(rawlen);
  double dz = 1e30, du = 1e30;
  for (int r = 0; r < runs; r++) {
    t0 = now();
    size_t n = ZSTD_decompress(raw, rawlen, mp, mlen);
    double dt = now() - t0;
    if (ZSTD_isError(n)) return 1;
    if (dt < dz) dz = dt;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    t0 = now();
    msgpack_unpack_next(&up, raw, rawlen, &off);
    dt = now() - t0;
    msgpack_unpacked_destroy(&up);
    if (dt < du) du = dt;
  }
  free(raw);

  double size_ratio = (double)jlen / (double)mlen, load_ratio = fj / fm, warm_ratio = lj / lm;
  printf("synthetic profile: %d files x %d lines = %d lines, %d functions\n", files, lines,
         files * lines, files * 3);
  printf("                      size (bytes)   export     load (fresh process)   load (warm heap)\n");
  printf("  JSON               %12zu   %7.1f ms   %7.1f ms              %7.1f ms\n", jlen, tj * 1e3,
         fj * 1e3, lj * 1e3);
  printf("  MessagePack+zstd   %12zu   %7.1f ms   %7.1f ms              %7.1f ms\n", mlen, tm * 1e3,
         fm * 1e3, lm * 1e3);
  printf("  MessagePack+zstd warm load: zstd %.1f ms + pre-scan, msgpack-c unpacking in pieces\n"
         "    and document tree %.1f ms (MessagePack payload: %llu bytes; msgpack-c unpacking it\n"
         "    whole in one call, for comparison: %.1f ms)\n",
         dz * 1e3, (lm - dz) * 1e3, rawlen, du * 1e3);
  printf("  size ratio         %7.1fx  (target >= 5x)  %s\n", size_ratio, size_ratio >= 5 ? "PASS" : "MISS");
  printf("  load-time ratio    %7.1fx  (target >= 5x)  %s   (fresh process; warm heap: %.1fx)\n",
         load_ratio, load_ratio >= 5 ? "PASS" : "MISS", warm_ratio);
  printf("  (loads: sc_profile_load_buffer, best of %d runs each)\n", runs);
  sc_buffer_free(json);
  sc_buffer_free(mp);
  return 0;
}
