/* test-merge.c - sc_profile_merge: two known profiles merged, every sum
 * checked (tolerance 1e-9); per-process totals; merging merges; real
 * profiles; inputs that cannot be merged. */
#include <math.h>

#include "sc-test.h"

TestSuite(merge, .timeout = 60);

#define TOL 1e-9

/* Profile A: total 2 s, pid 100. */
static const char *const PROFILE_A =
    "{\"program\": \"a.py\", \"args\": [\"x\"], \"scalenecore_version\": \"0.9.0\","
    " \"elapsed_time_sec\": 1.0, \"start_time_absolute\": 1000.5,"
    " \"total_cpu_time_sec\": 1.5, \"total_time_sec\": 2.0, \"pid\": 100,"
    " \"cpu_sampling_rate\": 0.01, \"use_virtual_time\": false, \"cpu_samples\": 20,"
    " \"unattributed_samples\": 10, \"unattributed_percent\": 40, \"dropped_samples\": 1,"
    " \"no_samples_reason\": \"\", \"gpu\": false, \"gpu_device\": \"\", \"memory\": false,"
    " \"alloc_samples\": 0, \"max_footprint_mb\": 10, \"max_footprint_fname\": \"common.py\","
    " \"max_footprint_lineno\": 2, \"samples\": [[0.5, 1]], \"stacks\": [],"
    " \"threads\": [{\"tid\": 11, \"name\": \"MainThread\", \"cpu_sec\": 1, \"blocked_sec\": 0.5, \"samples\": 15},"
    "               {\"tid\": 12, \"name\": \"w\", \"cpu_sec\": 0.5, \"blocked_sec\": 0, \"samples\": 5}],"
    " \"files\": {"
    "  \"common.py\": {\"percent_cpu_time\": 50, \"lines\": ["
    "   {\"line\": \"def f():\\n\", \"lineno\": 1, \"n_cpu_percent_python\": 0, \"n_cpu_percent_c\": 0,"
    "    \"n_sys_percent\": 0, \"n_core_utilization\": 0, \"n_cpu_samples\": 0},"
    "   {\"line\": \"  work()\\n\", \"lineno\": 2, \"n_cpu_percent_python\": 25, \"n_cpu_percent_c\": 10,"
    "    \"n_sys_percent\": 5, \"n_core_utilization\": 0.5, \"n_cpu_samples\": 8,"
    "    \"n_malloc_mb\": 2, \"n_peak_mb\": 4, \"n_avg_mb\": 1, \"n_mallocs\": 3, \"n_growth_mb\": 1,"
    "    \"n_usage_fraction\": 0.25, \"n_python_fraction\": 0.5, \"n_copy_mb_s\": 2,"
    "    \"n_gpu_percent\": 10, \"n_gpu_peak_memory_mb\": 7, \"n_gpu_avg_memory_mb\": 1,"
    "    \"memory_samples\": [[1, 2]], \"start_region_line\": 2,"
    "    \"threads\": [{\"tid\": 11, \"name\": \"MainThread\", \"n_cpu_percent_python\": 15,"
    "                  \"n_cpu_percent_c\": 10, \"n_sys_percent\": 5},"
    "                 {\"tid\": 12, \"name\": \"w\", \"n_cpu_percent_python\": 10,"
    "                  \"n_cpu_percent_c\": 0, \"n_sys_percent\": 0}]}],"
    "   \"functions\": [{\"line\": \"f\", \"lineno\": 1, \"n_cpu_percent_python\": 25,"
    "    \"n_cpu_percent_c\": 10, \"n_sys_percent\": 5, \"n_core_utilization\": 0.5,"
    "    \"n_cpu_samples\": 8, \"fn_name\": \"f\"}],"
    "   \"leaks\": {\"2\": {\"likelihood\": 0.9}}, \"imports\": [\"os\"]},"
    "  \"only_a.py\": {\"percent_cpu_time\": 10, \"lines\": ["
    "   {\"line\": \"g()\\n\", \"lineno\": 5, \"n_cpu_percent_python\": 10, \"n_cpu_percent_c\": 0,"
    "    \"n_sys_percent\": 0, \"n_core_utilization\": 0.25, \"n_cpu_samples\": 2}],"
    "   \"functions\": [{\"line\": \"g\", \"lineno\": 5, \"n_cpu_percent_python\": 10, \"fn_name\": \"g\"}],"
    "   \"leaks\": {}, \"imports\": []}}}";

/* Profile B: total 3 s, pid 200. */
static const char *const PROFILE_B =
    "{\"program\": \"b.py\", \"args\": [], \"scalenecore_version\": \"0.9.0\","
    " \"elapsed_time_sec\": 2.5, \"start_time_absolute\": 999.25,"
    " \"total_cpu_time_sec\": 2.0, \"total_time_sec\": 3.0, \"pid\": 200,"
    " \"cpu_sampling_rate\": 0.01, \"use_virtual_time\": false, \"cpu_samples\": 30,"
    " \"unattributed_samples\": 3, \"unattributed_percent\": 10, \"dropped_samples\": 2,"
    " \"no_samples_reason\": \"\", \"gpu\": true, \"gpu_device\": \"H100\", \"memory\": false,"
    " \"alloc_samples\": 4, \"max_footprint_mb\": 20, \"max_footprint_fname\": \"only_b.py\","
    " \"max_footprint_lineno\": 1, \"samples\": [[0.25, 3]], \"stacks\": [],"
    " \"threads\": [{\"tid\": 21, \"name\": \"MainThread\", \"cpu_sec\": 2, \"blocked_sec\": 1, \"samples\": 30}],"
    " \"files\": {"
    "  \"only_b.py\": {\"percent_cpu_time\": 30, \"lines\": ["
    "   {\"line\": \"h()\\n\", \"lineno\": 1, \"n_cpu_percent_python\": 30, \"n_cpu_percent_c\": 0,"
    "    \"n_sys_percent\": 0, \"n_core_utilization\": 1, \"n_cpu_samples\": 9}],"
    "   \"functions\": [], \"leaks\": {}, \"imports\": []},"
    "  \"common.py\": {\"percent_cpu_time\": 40, \"lines\": ["
    "   {\"line\": \"\", \"lineno\": 2, \"n_cpu_percent_python\": 10, \"n_cpu_percent_c\": 20,"
    "    \"n_sys_percent\": 0, \"n_core_utilization\": 0.9, \"n_cpu_samples\": 12,"
    "    \"n_malloc_mb\": 6, \"n_peak_mb\": 3, \"n_avg_mb\": 4, \"n_mallocs\": 1, \"n_growth_mb\": 2,"
    "    \"n_usage_fraction\": 0.5, \"n_python_fraction\": 1.0, \"n_copy_mb_s\": 1,"
    "    \"n_gpu_percent\": 20, \"n_gpu_peak_memory_mb\": 9, \"n_gpu_avg_memory_mb\": 3,"
    "    \"memory_samples\": [[3, 4]], \"start_region_line\": 99},"
    "   {\"line\": \"  more()\\n\", \"lineno\": 3, \"n_cpu_percent_python\": 10, \"n_cpu_percent_c\": 0,"
    "    \"n_sys_percent\": 0, \"n_core_utilization\": 0.5, \"n_cpu_samples\": 4}],"
    "   \"functions\": [{\"line\": \"f\", \"lineno\": 1, \"n_cpu_percent_python\": 20,"
    "    \"n_cpu_percent_c\": 20, \"n_sys_percent\": 0, \"n_core_utilization\": 0.9,"
    "    \"n_cpu_samples\": 12, \"fn_name\": \"f\"},"
    "    {\"line\": \"f\", \"lineno\": 9, \"n_cpu_percent_python\": 0, \"n_cpu_percent_c\": 0,"
    "     \"n_sys_percent\": 1, \"n_core_utilization\": 0, \"n_cpu_samples\": 1, \"fn_name\": \"f\"}],"
    "   \"leaks\": {\"2\": {\"likelihood\": 0.1}, \"3\": {\"likelihood\": 0.5}},"
    "   \"imports\": [\"os\", \"sys\"]}}}";

static sc_profile_t *load_text(const char *text) {
  sc_profile_t *p = NULL;
  int rc = sc_profile_load_buffer(text, strlen(text), &p);
  cr_assert_eq(rc, 0, "load: %s", sc_strerror(rc));
  return p;
}

static sc_profile_t *merge_n(sc_profile_t **ps, size_t n) {
  sc_profile_t *m = NULL;
  int rc = sc_profile_merge((const sc_profile_t *const *)ps, n, &m);
  cr_assert_eq(rc, 0, "merge: %s", sc_strerror(rc));
  cr_assert_not_null(m);
  return m;
}

/* The merged profile as JSON, parsed by the tests' own reader. */
static mj *doc_of(const sc_profile_t *p) {
  char *buf = NULL;
  size_t len = 0;
  cr_assert_eq(sc_profile_export_buffer(p, SC_FORMAT_JSON, &buf, &len), 0);
  const char *err = NULL;
  mj *d = mj_parse(buf, len, &err);
  cr_assert_not_null(d, "merged profile is not JSON: %s", err);
  sc_buffer_free(buf);
  return d;
}

static void near(double got, double want, const char *what) {
  cr_assert(fabs(got - want) <= TOL, "%s: %.17g, expected %.17g", what, got, want);
}

/* Seconds back to a percentage of the merged 5 s total. */
static double pct5(double secs) { return 100.0 * secs / 5.0; }

SC_TEST(merge, two_known_profiles_add_up) {
  sc_profile_t *ps[2] = {load_text(PROFILE_A), load_text(PROFILE_B)};
  sc_profile_t *m = merge_n(ps, 2);
  mj *d = doc_of(m);

  /* top level */
  near(mj_num(d, "total_time_sec"), 5.0, "total_time_sec");
  near(mj_num(d, "elapsed_time_sec"), 2.5, "elapsed_time_sec (max)");
  near(mj_num(d, "start_time_absolute"), 999.25, "start_time_absolute (min)");
  near(mj_num(d, "total_cpu_time_sec"), 3.5, "total_cpu_time_sec");
  near(mj_num(d, "cpu_samples"), 50, "cpu_samples");
  near(mj_num(d, "unattributed_samples"), 13, "unattributed_samples");
  near(mj_num(d, "dropped_samples"), 3, "dropped_samples");
  near(mj_num(d, "alloc_samples"), 4, "alloc_samples");
  near(mj_num(d, "unattributed_percent"), pct5(0.40 * 2 + 0.10 * 3), "unattributed_percent");
  near(mj_num(d, "max_footprint_mb"), 20, "max_footprint_mb");
  cr_assert_str_eq(mj_str(d, "max_footprint_fname"), "only_b.py");
  near(mj_num(d, "max_footprint_lineno"), 1, "max_footprint_lineno");
  cr_assert_str_eq(mj_str(d, "program"), "a.py", "other keys: the first input's");
  cr_assert_str_eq(mj_str(d, "scalenecore_version"), SC_VERSION_STRING);
  cr_assert_str_eq(mj_str(d, "gpu_device"), "H100");
  cr_assert(mj_get(d, "gpu")->b, "gpu: any");
  cr_assert(!mj_get(d, "use_virtual_time")->b);
  cr_assert_str_eq(mj_str(d, "no_samples_reason"), "");
  cr_assert_eq(mj_get(d, "samples")->n, 2);

  /* processes: one per input, with its own totals */
  const mj *procs = mj_get(d, "processes");
  cr_assert(procs && procs->type == MJ_ARR && procs->n == 2);
  const mj *pa = mj_at(procs, 0), *pb = mj_at(procs, 1);
  cr_assert_str_eq(mj_str(pa, "program"), "a.py");
  near(mj_num(pa, "pid"), 100, "pid a");
  near(mj_num(pa, "total_time_sec"), 2, "a total");
  near(mj_num(pa, "total_cpu_time_sec"), 1.5, "a cpu");
  near(mj_num(pa, "elapsed_time_sec"), 1, "a elapsed");
  near(mj_num(pa, "cpu_samples"), 20, "a samples");
  cr_assert_eq(mj_get(pa, "args")->n, 1);
  cr_assert_str_eq(mj_str(pb, "program"), "b.py");
  near(mj_num(pb, "pid"), 200, "pid b");
  near(mj_num(pb, "total_time_sec"), 3, "b total");

  /* threads: every input's, each with its process id */
  const mj *th = mj_get(d, "threads");
  cr_assert_eq(th->n, 3);
  near(mj_num(mj_at(th, 0), "pid"), 100, "thread pid");
  near(mj_num(mj_at(th, 2), "tid"), 21, "thread tid");
  near(mj_num(mj_at(th, 2), "pid"), 200, "thread pid");

  /* files: by descending time */
  const mj *files = mj_get(d, "files");
  cr_assert_eq(files->n, 3);
  cr_assert_str_eq(files->keys[0], "common.py");
  cr_assert_str_eq(files->keys[1], "only_b.py");
  cr_assert_str_eq(files->keys[2], "only_a.py");
  near(mj_num(prof_file(d, "common.py"), "percent_cpu_time"), pct5(0.5 * 2 + 0.4 * 3), "common %");
  near(mj_num(prof_file(d, "only_a.py"), "percent_cpu_time"), pct5(0.1 * 2), "only_a %");
  near(mj_num(prof_file(d, "only_b.py"), "percent_cpu_time"), pct5(0.3 * 3), "only_b %");

  /* lines of common.py: 1 (A only), 2 (both), 3 (B only), in order */
  const mj *lines = mj_get(prof_file(d, "common.py"), "lines");
  cr_assert_eq(lines->n, 3);
  for (size_t i = 0; i < 3; i++) near(mj_num(mj_at(lines, i), "lineno"), (double)i + 1, "line order");
  const mj *l2 = prof_line(d, "common.py", 2);
  near(mj_num(l2, "n_cpu_percent_python"), pct5(0.25 * 2 + 0.10 * 3), "L2 python");
  near(mj_num(l2, "n_cpu_percent_python"), 16, "L2 python = 16");
  near(mj_num(l2, "n_cpu_percent_c"), pct5(0.10 * 2 + 0.20 * 3), "L2 c");
  near(mj_num(l2, "n_sys_percent"), pct5(0.05 * 2), "L2 sys");
  near(mj_num(l2, "n_gpu_percent"), pct5(0.10 * 2 + 0.20 * 3), "L2 gpu %");
  double wa = (25 + 10 + 5) / 100.0 * 2, wb = (10 + 20 + 0) / 100.0 * 3;
  near(mj_num(l2, "n_core_utilization"), (0.5 * wa + 0.9 * wb) / (wa + wb), "L2 utilization");
  near(mj_num(l2, "n_cpu_samples"), 20, "L2 samples");
  near(mj_num(l2, "n_malloc_mb"), 8, "L2 malloc mb");
  near(mj_num(l2, "n_mallocs"), 4, "L2 mallocs");
  near(mj_num(l2, "n_growth_mb"), 3, "L2 growth");
  near(mj_num(l2, "n_peak_mb"), 4, "L2 peak (max)");
  near(mj_num(l2, "n_gpu_peak_memory_mb"), 9, "L2 gpu peak (max)");
  near(mj_num(l2, "n_avg_mb"), (1 * 3 + 4 * 1) / 4.0, "L2 avg mb (by mallocs)");
  near(mj_num(l2, "n_python_fraction"), (0.5 * 2 + 1.0 * 6) / 8.0, "L2 python fraction");
  near(mj_num(l2, "n_usage_fraction"), (0.25 * 2 + 0.5 * 6) / 8.0, "L2 usage fraction");
  near(mj_num(l2, "n_copy_mb_s"), (2 * 1.0 + 1 * 2.5) / 2.5, "L2 copy rate");
  near(mj_num(l2, "n_gpu_avg_memory_mb"), (1 * 2 + 3 * 3) / 5.0, "L2 gpu avg");
  cr_assert_str_eq(mj_str(l2, "line"), "  work()\n", "the first non-empty text");
  near(mj_num(l2, "start_region_line"), 2, "other fields: the first input's");
  cr_assert_eq(mj_get(l2, "memory_samples")->n, 2);
  const mj *lth = mj_get(l2, "threads");
  cr_assert(lth && lth->n == 2);
  near(mj_num(mj_at(lth, 0), "n_cpu_percent_python"), pct5(0.15 * 2), "thread share rescaled");
  near(mj_num(mj_at(lth, 0), "n_cpu_percent_c"), pct5(0.10 * 2), "thread share rescaled");
  near(mj_num(mj_at(lth, 1), "n_cpu_percent_python"), pct5(0.10 * 2), "thread share rescaled");
  near(mj_num(mj_at(lth, 1), "pid"), 100, "thread share pid");
  const mj *l1 = prof_line(d, "common.py", 1), *l3 = prof_line(d, "common.py", 3);
  near(mj_num(l1, "n_cpu_percent_python"), 0, "L1");
  cr_assert_str_eq(mj_str(l1, "line"), "def f():\n");
  near(mj_num(l3, "n_cpu_percent_python"), pct5(0.10 * 3), "L3");
  near(mj_num(l3, "n_cpu_samples"), 4, "L3 samples");
  near(mj_num(prof_line(d, "only_a.py", 5), "n_cpu_percent_python"), pct5(0.1 * 2), "only_a L5");
  near(mj_num(prof_line(d, "only_b.py", 1), "n_cpu_percent_python"), pct5(0.3 * 3), "only_b L1");

  /* functions: by name and first line */
  const mj *funcs = mj_get(prof_file(d, "common.py"), "functions");
  cr_assert_eq(funcs->n, 2);
  const mj *f1 = mj_at(funcs, 0), *f9 = mj_at(funcs, 1);
  near(mj_num(f1, "lineno"), 1, "f@1");
  near(mj_num(f9, "lineno"), 9, "f@9");
  near(mj_num(f1, "n_cpu_percent_python"), pct5(0.25 * 2 + 0.20 * 3), "f@1 python");
  near(mj_num(f1, "n_cpu_percent_c"), pct5(0.10 * 2 + 0.20 * 3), "f@1 c");
  near(mj_num(f1, "n_sys_percent"), pct5(0.05 * 2), "f@1 sys");
  near(mj_num(f1, "n_cpu_samples"), 20, "f@1 samples");
  near(mj_num(f9, "n_sys_percent"), pct5(0.01 * 3), "f@9 sys");
  cr_assert_str_eq(mj_str(f1, "fn_name"), "f");

  /* leaks: union, first wins; imports: union */
  const mj *leaks = mj_get(prof_file(d, "common.py"), "leaks");
  cr_assert_eq(leaks->n, 2);
  near(mj_num(mj_get(leaks, "2"), "likelihood"), 0.9, "leak 2 from A");
  const mj *imports = mj_get(prof_file(d, "common.py"), "imports");
  cr_assert_eq(imports->n, 2);

  /* the merged profile is a profile: both formats, loaded again */
  char *buf = NULL;
  size_t len = 0;
  cr_assert_eq(sc_profile_export_buffer(m, SC_FORMAT_MSGPACK_ZSTD, &buf, &len), 0);
  sc_profile_t *again = NULL;
  cr_assert_eq(sc_profile_load_buffer(buf, len, &again), 0);
  sc_buffer_free(buf);
  sc_profile_free(again);

  mj_free(d);
  sc_profile_free(m);
  sc_profile_free(ps[0]);
  sc_profile_free(ps[1]);
}

/* Every time in the merge is the sum of the inputs' times: for each
 * line, merged% * T == sum of input% * T_k. */
static double num0(const mj *o, const char *key) {
  const mj *v = mj_get(o, key);
  return v && v->type == MJ_NUM ? v->num : 0;
}

static double line_secs(const mj *doc, const char *file, int lineno) {
  const mj *l = prof_line(doc, file, lineno);
  if (!l) return 0;
  double T = mj_num(doc, "total_time_sec");
  return (num0(l, "n_cpu_percent_python") + num0(l, "n_cpu_percent_c") + num0(l, "n_sys_percent")) /
         100.0 * T;
}

SC_TEST(merge, merging_merges_flattens_processes_and_is_associative) {
  static const char *const C =
      "{\"program\": \"c.py\", \"total_time_sec\": 0.5, \"elapsed_time_sec\": 0.5, \"pid\": 300,"
      " \"cpu_samples\": 5, \"files\": {\"common.py\": {\"percent_cpu_time\": 100, \"lines\": ["
      "  {\"line\": \"x\\n\", \"lineno\": 2, \"n_cpu_percent_python\": 100, \"n_cpu_samples\": 5}]}}}";
  sc_profile_t *a = load_text(PROFILE_A), *b = load_text(PROFILE_B), *c = load_text(C);
  sc_profile_t *ab_in[2] = {a, b};
  sc_profile_t *ab = merge_n(ab_in, 2);
  sc_profile_t *abc_in[2] = {ab, c};
  sc_profile_t *abc = merge_n(abc_in, 2);
  sc_profile_t *flat_in[3] = {a, b, c};
  sc_profile_t *flat = merge_n(flat_in, 3);
  mj *d1 = doc_of(abc), *d2 = doc_of(flat), *da = doc_of(a), *db = doc_of(b), *dc = doc_of(c);
  const mj *procs = mj_get(d1, "processes");
  cr_assert_eq(procs->n, 3, "a merged input contributes its processes");
  cr_assert_str_eq(mj_str(mj_at(procs, 0), "program"), "a.py");
  cr_assert_str_eq(mj_str(mj_at(procs, 2), "program"), "c.py");
  near(mj_num(d1, "total_time_sec"), 5.5, "total");
  near(mj_num(d2, "total_time_sec"), 5.5, "total");
  static const struct {
    const char *file;
    int line;
  } where[] = {{"common.py", 1}, {"common.py", 2}, {"common.py", 3}, {"only_a.py", 5}, {"only_b.py", 1}};
  for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
    double want = line_secs(da, where[i].file, where[i].line) + line_secs(db, where[i].file, where[i].line) +
                  line_secs(dc, where[i].file, where[i].line);
    near(line_secs(d1, where[i].file, where[i].line), want, "nested merge: line seconds");
    near(line_secs(d2, where[i].file, where[i].line), want, "flat merge: line seconds");
    const mj *l1 = prof_line(d1, where[i].file, where[i].line), *l2 = prof_line(d2, where[i].file, where[i].line);
    near(mj_num(l1, "n_cpu_samples"), mj_num(l2, "n_cpu_samples"), "samples");
    near(mj_num(l1, "n_core_utilization"), mj_num(l2, "n_core_utilization"), "utilization");
  }
  near(mj_num(prof_line(d1, "common.py", 2), "n_cpu_samples"), 25, "samples of three");
  mj_free(d1), mj_free(d2), mj_free(da), mj_free(db), mj_free(dc);
  sc_profile_free(a), sc_profile_free(b), sc_profile_free(c);
  sc_profile_free(ab), sc_profile_free(abc), sc_profile_free(flat);
}

SC_TEST(merge, one_input_keeps_its_numbers) {
  sc_profile_t *a = load_text(PROFILE_A);
  sc_profile_t *m = merge_n(&a, 1);
  mj *d = doc_of(m), *da = doc_of(a);
  near(mj_num(d, "total_time_sec"), 2, "total");
  near(mj_num(prof_line(d, "common.py", 2), "n_cpu_percent_python"),
       mj_num(prof_line(da, "common.py", 2), "n_cpu_percent_python"), "L2");
  near(mj_num(prof_line(d, "common.py", 2), "n_core_utilization"), 0.5, "utilization");
  cr_assert_eq(mj_get(d, "processes")->n, 1);
  mj_free(d), mj_free(da);
  sc_profile_free(m), sc_profile_free(a);
}

/* Two real profiles of different programs (tests/golden/). */
SC_TEST(merge, real_profiles) {
  char *t1 = sc_test_golden("demo.json", NULL, 1);
  char *t2 = sc_test_golden("thread_join.json", NULL, 1);
  sc_profile_t *ps[2] = {load_text(t1), load_text(t2)};
  sc_profile_t *m = merge_n(ps, 2);
  mj *d = doc_of(m), *d1 = doc_of(ps[0]), *d2 = doc_of(ps[1]);
  near(mj_num(d, "total_time_sec"), mj_num(d1, "total_time_sec") + mj_num(d2, "total_time_sec"), "total");
  near(mj_num(d, "cpu_samples"), mj_num(d1, "cpu_samples") + mj_num(d2, "cpu_samples"), "samples");
  cr_assert_eq(mj_get(d, "files")->n, mj_get(d1, "files")->n + mj_get(d2, "files")->n);
  cr_assert_eq(mj_get(d, "threads")->n, mj_get(d1, "threads")->n + mj_get(d2, "threads")->n);
  /* every line keeps its seconds */
  const mj *srcs[2] = {d1, d2};
  size_t checked = 0;
  for (int s = 0; s < 2; s++) {
    const mj *files = mj_get(srcs[s], "files");
    for (size_t f = 0; f < files->n; f++) {
      const mj *lines = mj_get(files->items[f], "lines");
      for (size_t i = 0; i < lines->n; i++) {
        int ln = (int)mj_num(lines->items[i], "lineno");
        near(line_secs(d, files->keys[f], ln), line_secs(srcs[s], files->keys[f], ln), "line seconds");
        checked++;
      }
      near(mj_num(prof_file(d, files->keys[f]), "percent_cpu_time") * mj_num(d, "total_time_sec"),
           mj_num(files->items[f], "percent_cpu_time") * mj_num(srcs[s], "total_time_sec"), "file seconds");
    }
  }
  cr_assert_gt(checked, 50);
  mj_free(d), mj_free(d1), mj_free(d2);
  sc_profile_free(m), sc_profile_free(ps[0]), sc_profile_free(ps[1]);
  free(t1), free(t2);
}

SC_TEST(merge, empty_profiles_give_zero_not_nan) {
  static const char *const E = "{\"total_time_sec\": 0, \"files\": {\"x.py\": {\"percent_cpu_time\": 0,"
                               " \"lines\": [{\"lineno\": 1, \"n_cpu_percent_python\": 0,"
                               " \"n_core_utilization\": 0}]}}, \"no_samples_reason\": \"none\"}";
  static const char *const F = "{\"total_time_sec\": 0, \"files\": {}, \"no_samples_reason\": \"empty\"}";
  sc_profile_t *ps[2] = {load_text(E), load_text(E)};
  sc_profile_t *m = merge_n(ps, 2);
  mj *d = doc_of(m);
  near(mj_num(prof_line(d, "x.py", 1), "n_cpu_percent_python"), 0, "0%");
  near(mj_num(prof_line(d, "x.py", 1), "n_core_utilization"), 0, "0 utilization");
  near(mj_num(prof_file(d, "x.py"), "percent_cpu_time"), 0, "file 0%");
  mj_free(d);
  sc_profile_free(m), sc_profile_free(ps[0]), sc_profile_free(ps[1]);
  sc_profile_t *qs[2] = {load_text(F), load_text(F)};
  m = merge_n(qs, 2);
  d = doc_of(m);
  cr_assert_str_eq(mj_str(d, "no_samples_reason"), "empty", "no file: the first reason");
  mj_free(d);
  sc_profile_free(m), sc_profile_free(qs[0]), sc_profile_free(qs[1]);
}

SC_TEST(merge, refuses_what_it_cannot_merge) {
  sc_profile_t *a = load_text(PROFILE_A), *m = NULL;
  const sc_profile_t *one[1] = {a};
  const sc_profile_t *with_null[2] = {a, NULL};
  cr_assert_eq(sc_profile_merge(one, 0, &m), SC_EINVAL);
  cr_assert_eq(sc_profile_merge(NULL, 1, &m), SC_EINVAL);
  cr_assert_eq(sc_profile_merge(one, 1, NULL), SC_EINVAL);
  cr_assert_eq(sc_profile_merge(with_null, 2, &m), SC_EINVAL);
  cr_assert_null(m);
  static const char *const bad[] = {
      "{\"files\": {}}",                                               /* no total_time_sec */
      "{\"total_time_sec\": \"1\", \"files\": {}}",                    /* not a number */
      "{\"total_time_sec\": -1, \"files\": {}}",                       /* negative */
      "{\"total_time_sec\": 1, \"files\": {\"a\": []}}",               /* file not an object */
      "{\"total_time_sec\": 1, \"files\": {\"a\": {\"lines\": {}}}}",  /* lines not an array */
      "{\"total_time_sec\": 1, \"files\": {\"a\": {\"lines\": [1]}}}", /* line not an object */
      "{\"total_time_sec\": 1, \"files\": {\"a\": {\"lines\": [{}]}}}", /* no lineno */
      "{\"total_time_sec\": 1, \"files\": {\"a\": {\"lines\": [{\"lineno\": \"1\"}]}}}",
      "{\"total_time_sec\": 1, \"files\": {\"a\": {\"lines\": [{\"lineno\": 1.5}]}}}",
      ("{\"total_time_sec\": 1, \"files\": {\"a\": {\"lines\": [{\"lineno\": 1,"
       " \"n_cpu_percent_python\": \"9\"}]}}}"),
      "{\"total_time_sec\": 1, \"files\": {\"a\": {\"functions\": [{\"lineno\": 1}]}}}", /* no name */
      "{\"total_time_sec\": 1, \"files\": {\"a\": {\"percent_cpu_time\": true}}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sc_profile_t *b = load_text(bad[i]);
    const sc_profile_t *two[2] = {a, b};
    m = NULL;
    cr_assert_eq(sc_profile_merge(two, 2, &m), SC_EFORMAT, "merged: %s", bad[i]);
    cr_assert_null(m);
    sc_profile_free(b);
  }
  sc_profile_free(a);
}
