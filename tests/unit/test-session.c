/* test-session.c - session lifecycle, the manual sampling path
 * (SC_THREAD_NO_TIMER + sc_sample, so every number is chosen by the test),
 * attribution, filtering and export.
 *
 * The ticker drains every drain-interval; most tests set it to 10 s so
 * that only sc_export / sc_session_stop drain, and nothing else moves. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "sc-test.h"

TestSuite(session, .timeout = 30);

static const char *const QUIET[] = {"drain-interval=10", NULL};

/* Code objects of the fake runtime. */
static const fake_code c_main = {"/toy/main.toy", "main", 1, SC_FRAME_PROFILED};
static const fake_code c_work = {"/toy/app.toy", "work", 10, SC_FRAME_PROFILED};
static const fake_code c_lib = {"/usr/lib/toy/lib.toy", "helper", 1, 0};
static const fake_code c_dead = {"/toy/dead.toy", "gone", 1, SC_FRAME_INVALID};

/* ------------------------------------------------------------------------ */
/* lifecycle and arguments                                                  */
/* ------------------------------------------------------------------------ */

SC_TEST(session, start_stop_free) {
  fake_runtime rt = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  cr_assert(sc_session_is_sampling(s));
  cr_assert_eq(sc_session_stop(s), 0);
  cr_assert_not(sc_session_is_sampling(s));
  cr_assert_eq(sc_session_stop(s), 0, "stopping a stopped session returns 0");
  sc_session_free(s);
  sc_session_free(NULL); /* no-op */
}

SC_TEST(session, free_without_stop) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  fake_stack(&ft, 0, &c_work, 11, NULL);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  sample(t, 1 * MS, 0, 0, 0);
  sc_session_free(s); /* stops, frees the thread handle too */
}

SC_TEST(session, one_session_at_a_time) {
  fake_runtime rt = {0};
  sc_session_t *a = fake_session(&rt, QUIET), *b = (sc_session_t *)&rt;
  sc_frame_resolver_t r = fake_resolver(&rt);
  cr_assert_eq(sc_session_start(&b, NULL, &r), SC_ESTATE);
  cr_assert_eq(b, (sc_session_t *)&rt, "out untouched on failure");
  cr_assert_eq(sc_session_stop(a), 0);
  cr_assert_eq(sc_session_start(&b, NULL, &r), SC_ESTATE, "a stopped session counts until freed");
  sc_session_free(a);
  b = NULL;
  cr_assert_eq(sc_session_start(&b, NULL, &r), 0, "free releases the slot");
  cr_assert_not_null(b);
  sc_session_free(b);
}

SC_TEST(session, start_rejects_bad_arguments) {
  fake_runtime rt = {0};
  sc_frame_resolver_t r = fake_resolver(&rt);
  sc_session_t *s = (sc_session_t *)&rt;
  cr_assert_eq(sc_session_start(NULL, NULL, &r), SC_EINVAL);
  sc_frame_resolver_t bad = r;
  bad.size = 0;
  cr_assert_eq(sc_session_start(&s, NULL, &bad), SC_EINVAL);
  bad = r;
  bad.capture = NULL;
  cr_assert_eq(sc_session_start(&s, NULL, &bad), SC_EINVAL);
  bad = r;
  bad.resolve = NULL;
  cr_assert_eq(sc_session_start(&s, NULL, &bad), SC_EINVAL);
  /* A signal that cannot be caught. */
  sc_options_t *o = opts_from((const char *[]){"sample-signal=9", NULL});
  cr_assert_eq(sc_session_start(&s, o, &r), SC_EINVAL);
  sc_options_set_int(o, SC_OPT_SAMPLE_SIGNAL, SIGSTOP);
  cr_assert_eq(sc_session_start(&s, o, &r), SC_EINVAL);
  sc_options_destroy(o);
  cr_assert_eq(s, (sc_session_t *)&rt, "out untouched on failure");
  /* Failed starts leave no session behind. */
  s = NULL;
  cr_assert_eq(sc_session_start(&s, NULL, &r), 0);
  sc_session_free(s);
}

SC_TEST(session, null_handles) {
  sc_session_stats_t st = {.size = sizeof st};
  sc_sample_info_t si = {.size = sizeof si};
  sc_thread_t *t = NULL;
  char *buf = NULL;
  size_t len = 0;
  cr_assert_eq(sc_session_stop(NULL), SC_EINVAL);
  cr_assert_eq(sc_session_pause(NULL), SC_EINVAL);
  cr_assert_eq(sc_session_resume(NULL), SC_EINVAL);
  cr_assert_not(sc_session_is_sampling(NULL));
  cr_assert_eq(sc_session_add_runtime_range(NULL, 1, 2), SC_EINVAL);
  cr_assert_eq(sc_session_set_meta(NULL, "k", "v"), SC_EINVAL);
  cr_assert_eq(sc_session_set_meta_list(NULL, "k", NULL, 0), SC_EINVAL);
  cr_assert_eq(sc_thread_register(NULL, NULL, 0, "x", &t), SC_EINVAL);
  cr_assert_eq(sc_thread_unregister(NULL), SC_EINVAL);
  cr_assert_eq(sc_sample(NULL, &si), SC_EINVAL);
  cr_assert_eq(sc_session_stats(NULL, &st), SC_EINVAL);
  cr_assert_eq(sc_export(NULL, SC_FORMAT_JSON, "/tmp/never-written.json"), SC_EINVAL);
  cr_assert_eq(sc_export_buffer(NULL, SC_FORMAT_JSON, &buf, &len), SC_EINVAL);
  cr_assert_null(buf);
  sc_buffer_free(NULL);
  sc_session_free(NULL);
  cr_assert_eq(access("/tmp/never-written.json", F_OK), -1);

  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  cr_assert_eq(sc_thread_register(s, &ft, SC_THREAD_NO_TIMER, "x", NULL), SC_EINVAL);
  cr_assert_eq(sc_thread_register(s, NULL, SC_THREAD_NO_TIMER, "x", &t), SC_EINVAL, "NULL thread_ctx");
  t = fake_register(s, &ft, SC_THREAD_NO_TIMER, NULL); /* name may be NULL */
  cr_assert_eq(sc_sample(t, NULL), SC_EINVAL);
  si.size = offsetof(sc_sample_info_t, pc) - 1;
  cr_assert_eq(sc_sample(t, &si), SC_EINVAL, "size below the 1.0 fields");
  st.size = 0;
  cr_assert_eq(sc_session_stats(s, &st), SC_EINVAL);
  cr_assert_eq(sc_session_stats(s, NULL), SC_EINVAL);
  cr_assert_eq(sc_export(s, SC_FORMAT_JSON, NULL), SC_EINVAL);
  cr_assert_eq(sc_export_buffer(s, SC_FORMAT_JSON, NULL, &len), SC_EINVAL);
  cr_assert_eq(sc_session_set_meta(s, NULL, "v"), SC_EINVAL);
  cr_assert_eq(sc_session_set_meta(s, "k", NULL), SC_EINVAL);
  cr_assert_eq(sc_session_set_meta_list(s, "k", NULL, 1), SC_EINVAL);
  const char *with_null[] = {"a", NULL};
  cr_assert_eq(sc_session_set_meta_list(s, "k", with_null, 2), SC_EINVAL);
  cr_assert_eq(sc_session_add_runtime_range(s, 10, 10), SC_EINVAL, "empty range");
  cr_assert_eq(sc_session_add_runtime_range(s, 20, 10), SC_EINVAL, "reversed range");
  sc_session_free(s);
}

SC_TEST(session, unknown_format) {
  fake_runtime rt = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  char *buf = (char *)&rt;
  size_t len = 4242;
  cr_assert_eq(sc_export_buffer(s, (sc_format_t)99, &buf, &len), SC_ENOTSUP);
  cr_assert_eq(buf, (char *)&rt, "out-parameters untouched on failure");
  cr_assert_eq(len, 4242);
  char path[] = "/tmp/sc-unknown-format-XXXXXX";
  cr_assert_not_null(mkdtemp(path));
  char file[64];
  snprintf(file, sizeof file, "%s/p.json", path);
  cr_assert_eq(sc_export(s, (sc_format_t)99, file), SC_ENOTSUP);
  cr_assert_eq(access(file, F_OK), -1, "nothing written");
  cr_assert_eq(rmdir(path), 0, "and no temporary left behind");
  sc_session_free(s);
}

SC_TEST(session, pause_and_resume) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  fake_stack(&ft, 0, &c_work, 11, NULL);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  sample(t, 10 * MS, 0, 0, 0);
  cr_assert_eq(sc_session_pause(s), 0);
  cr_assert_not(sc_session_is_sampling(s));
  cr_assert_eq(sc_session_pause(s), 0, "pausing twice is fine");
  sc_sample_info_t si = {.size = sizeof si, .cpu_ns = 1000 * MS};
  cr_assert_eq(sc_sample(t, &si), SC_ESTATE, "paused: nothing recorded");
  cr_assert_eq(sc_session_resume(s), 0);
  cr_assert(sc_session_is_sampling(s));
  cr_assert_eq(sc_session_resume(s), 0, "resuming twice is fine");
  sample(t, 30 * MS, 0, 0, 0);
  cr_assert_eq(sc_session_stop(s), 0);
  cr_assert_eq(sc_session_pause(s), SC_ESTATE);
  cr_assert_eq(sc_session_resume(s), SC_ESTATE);
  cr_assert_not(sc_session_is_sampling(s));
  cr_assert_eq(sc_sample(t, &si), SC_ESTATE, "stopped: nothing recorded");

  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.samples, 2);
  cr_assert_eq(st.dropped, 0, "a paused sample is discarded, not dropped");
  cr_assert_eq(st.total_ns, 40 * MS, "the paused sample's time does not count");
  sc_session_free(s);
}

SC_TEST(session, off_option_starts_paused) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, (const char *[]){"off=true", "drain-interval=10", NULL});
  cr_assert_not(sc_session_is_sampling(s));
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  sc_sample_info_t si = {.size = sizeof si, .cpu_ns = MS};
  cr_assert_eq(sc_sample(t, &si), SC_ESTATE);
  cr_assert_eq(sc_session_resume(s), 0);
  cr_assert_eq(sc_sample(t, &si), 0);
  sc_session_free(s);
}

SC_TEST(session, thread_registration) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  fake_stack(&ft, 0, &c_work, 11, NULL);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main"), *u = (sc_thread_t *)&ft;
  cr_assert_eq(sc_thread_register(s, &ft, SC_THREAD_NO_TIMER, "again", &u), SC_EEXISTS);
  cr_assert_eq(u, (sc_thread_t *)&ft, "out untouched on failure");
  sample(t, 5 * MS, 0, 0, 0);
  sample(t, 5 * MS, 0, 0, 0);
  sample(t, 5 * MS, 0, 0, 0);
  cr_assert_eq(sc_thread_unregister(t), 0);
  /* Registered again after unregistering: a new handle. */
  t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main-2");
  sample(t, 5 * MS, 0, 0, 0);
  cr_assert_eq(sc_thread_unregister(t), 0);

  mj *doc = export_doc(s);
  cr_assert_eq(mj_num(doc, "cpu_samples"), 4, "samples pending at unregister are kept");
  const mj *th = mj_get(doc, "threads");
  cr_assert_eq(th->n, 2, "one entry per registration");
  cr_assert_str_eq(mj_str(mj_at(th, 0), "name"), "main");
  cr_assert_str_eq(mj_str(mj_at(th, 1), "name"), "main-2");
  cr_assert_eq(mj_num(mj_at(th, 0), "tid"), (double)gettid_());
  cr_assert_eq(mj_num(mj_at(th, 0), "samples"), 3);
  cr_assert_eq(mj_num(mj_at(th, 1), "samples"), 1);
  mj_free(doc);

  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.threads, 2);
  cr_assert_eq(sc_session_stop(s), 0);
  cr_assert_eq(sc_thread_register(s, &ft, SC_THREAD_NO_TIMER, "late", &u), SC_ESTATE);
  sc_session_free(s);
}

SC_TEST(session, stats) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 11, &c_main, 2, NULL);
  sample(t, 7 * MS, 0, 0, 0);
  sample(t, 3 * MS, 0, 2 * MS, 0);
  fake_stack(&ft, 0, &c_lib, 4, NULL);
  sample(t, 1 * MS, 0, 0, 0);

  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.size, sizeof st);
  cr_assert_eq(st.samples, 0, "stats do not drain: the ticker has not run yet");
  cr_assert_eq(st.threads, 1);
  cr_assert_eq(sc_session_stop(s), 0); /* final drain */
  memset(&st, 0xff, sizeof st);
  st.size = sizeof st;
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.samples, 3);
  cr_assert_eq(st.dropped, 0);
  cr_assert_eq(st.unattributed, 1, "the sample in unprofiled code only");
  cr_assert_eq(st.resolved_frames, 3, "work:11, main:2 and lib:4");
  cr_assert_eq(st.threads, 1);
  cr_assert_eq(st.total_ns, 13 * MS, "cpu plus blocked time");
  cr_assert_gt(st.elapsed_ns, 0);
  uint64_t elapsed = st.elapsed_ns;
  usleep(20000);
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.elapsed_ns, elapsed, "elapsed time stops at stop");

  /* A caller built against a smaller struct: only its fields are written. */
  sc_session_stats_t old;
  memset(&old, 0x5a, sizeof old);
  old.size = offsetof(sc_session_stats_t, dropped);
  cr_assert_eq(sc_session_stats(s, &old), 0);
  cr_assert_eq(old.samples, 3);
  cr_assert_eq(old.dropped, 0x5a5a5a5a5a5a5a5aull, "beyond size: untouched");
  cr_assert_eq(old.elapsed_ns, 0x5a5a5a5a5a5a5a5aull);
  cr_assert_eq(rt.bad_size, 0, "resolve() got sized sc_frame_info_t");
  sc_session_free(s);
}

/* ------------------------------------------------------------------------ */
/* exact numbers                                                            */
/* ------------------------------------------------------------------------ */

SC_TEST(session, exact_profile_numbers) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  /* 600 ms on CPU at work:12 (100 of them in the kernel), 300 ms in a
   * native call at work:13, 100 ms blocked at main:3: 1000 ms in all. */
  fake_stack(&ft, 0, &c_work, 12, &c_main, 3, NULL);
  sample(t, 600 * MS, 100 * MS, 0, 0);
  fake_stack(&ft, SC_CAPTURE_IN_NATIVE_CALL, &c_work, 13, &c_main, 3, NULL);
  sample(t, 300 * MS, 0, 0, 0);
  fake_stack(&ft, 0, &c_main, 3, NULL);
  sample(t, 0, 0, 100 * MS, 0);
  cr_assert_eq(sc_session_set_meta(s, "program", "toy"), 0);

  mj *doc = export_doc(s);
  cr_assert_eq(mj_num(doc, "cpu_samples"), 2, "timer samples only");
  cr_assert_eq(mj_num(doc, "blocked_samples"), 1, "the off-CPU sample");
  cr_assert_eq(mj_num(doc, "unattributed_samples"), 0);
  cr_assert_eq(mj_num(doc, "unattributed_percent"), 0);
  cr_assert_eq(mj_num(doc, "dropped_samples"), 0);
  cr_assert_eq(mj_num(doc, "total_cpu_time_sec"), 0.9, "user + kernel time, not blocked");
  cr_assert_eq(mj_num(doc, "cpu_sampling_rate"), 0.01);
  cr_assert_str_eq(mj_str(doc, "no_samples_reason"), "");
  cr_assert_str_eq(mj_str(doc, "program"), "toy");
  cr_assert_str_eq(mj_str(doc, "scalenecore_version"), SC_VERSION_STRING);
  const mj *vt = mj_get(doc, "use_virtual_time");
  cr_assert(vt && vt->type == MJ_BOOL && !vt->b);
  cr_assert_geq(mj_num(doc, "elapsed_time_sec"), 0);

  const mj *app = prof_file(doc, "/toy/app.toy"), *mainf = prof_file(doc, "/toy/main.toy");
  cr_assert_not_null(app);
  cr_assert_not_null(mainf);
  cr_assert_eq(mj_get(doc, "files")->n, 2);
  cr_assert_eq(mj_num(app, "percent_cpu_time"), 90);
  cr_assert_eq(mj_num(mainf, "percent_cpu_time"), 10);
  /* No source on disk: only the active lines are listed, with empty text. */
  cr_assert_eq(mj_get(app, "lines")->n, 2);

  const mj *l12 = prof_line(doc, "/toy/app.toy", 12);
  cr_assert_not_null(l12);
  cr_assert_eq(mj_num(l12, "n_cpu_percent_python"), 50);
  cr_assert_eq(mj_num(l12, "n_cpu_percent_c"), 0);
  cr_assert_eq(mj_num(l12, "n_sys_percent"), 10);
  cr_assert_eq(mj_num(l12, "n_cpu_samples"), 1);
  double util = mj_num(l12, "n_core_utilization"); /* wall_ns 0: the ticker's figure */
  cr_assert(util >= 0 && util <= 1, "n_core_utilization %g", util);
  cr_assert_str_eq(mj_str(l12, "line"), "");

  const mj *l13 = prof_line(doc, "/toy/app.toy", 13);
  cr_assert_not_null(l13);
  cr_assert_eq(mj_num(l13, "n_cpu_percent_python"), 0);
  cr_assert_eq(mj_num(l13, "n_cpu_percent_c"), 30);
  cr_assert_eq(mj_num(l13, "n_sys_percent"), 0);

  const mj *l3 = prof_line(doc, "/toy/main.toy", 3);
  cr_assert_not_null(l3);
  cr_assert_eq(mj_num(l3, "n_cpu_percent_python"), 0);
  cr_assert_eq(mj_num(l3, "n_sys_percent"), 10, "blocked time counts as system time");
  cr_assert_eq(mj_num(l3, "n_cpu_samples"), 0, "the outer frame main:3 of work's samples is not charged");
  cr_assert_eq(mj_num(l3, "n_blocked_samples"), 1);

  const mj *work = prof_func(doc, "/toy/app.toy", "work");
  cr_assert_not_null(work);
  cr_assert_eq(mj_num(work, "lineno"), 10);
  cr_assert_eq(mj_num(work, "n_cpu_percent_python"), 50);
  cr_assert_eq(mj_num(work, "n_cpu_percent_c"), 30);
  cr_assert_eq(mj_num(work, "n_sys_percent"), 10);
  cr_assert_eq(mj_num(work, "n_cpu_samples"), 2);
  cr_assert_not_null(prof_func(doc, "/toy/main.toy", "main"));
  cr_assert_null(prof_func(doc, "/toy/app.toy", "main"));

  const mj *th = prof_thread(doc, gettid_());
  cr_assert_not_null(th);
  cr_assert_str_eq(mj_str(th, "name"), "main");
  cr_assert_eq(mj_num(th, "cpu_sec"), 0.9);
  cr_assert_eq(mj_num(th, "blocked_sec"), 0.1);
  cr_assert_eq(mj_num(th, "samples"), 2);
  cr_assert_eq(mj_num(th, "blocked_samples"), 1);
  mj_free(doc);
  sc_session_free(s);
}

SC_TEST(session, wall_time_gives_core_utilization) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 12, NULL);
  sc_sample_info_t si = {.size = sizeof si, .cpu_ns = 100 * MS, .wall_ns = 100 * MS,
                         .proc_cpu_ns = 100 * MS};
  cr_assert_eq(sc_sample(t, &si), 0);
  mj *doc = export_doc(s);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  cr_assert_eq(mj_num(prof_line(doc, "/toy/app.toy", 12), "n_core_utilization"),
               (double)(100 * MS) / ((double)(100 * MS) * (double)ncpu),
               "one busy core out of %ld", ncpu);
  mj_free(doc);
  sc_session_free(s);
}

/* ------------------------------------------------------------------------ */
/* attribution                                                              */
/* ------------------------------------------------------------------------ */

SC_TEST(session, runtime_ranges_classify_samples) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  cr_assert_eq(sc_session_add_runtime_range(s, 0x1000, 0x2000), 0);
  cr_assert_eq(sc_session_add_runtime_range(s, 0x8000, 0x9000), 0);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 21, NULL);
  sample(t, 100 * MS, 0, 0, 0x1800); /* inside: language time */
  fake_stack(&ft, 0, &c_work, 22, NULL);
  sample(t, 100 * MS, 0, 0, 0x3000); /* outside every range: native */
  fake_stack(&ft, SC_CAPTURE_IN_NATIVE_CALL, &c_work, 23, NULL);
  sample(t, 100 * MS, 0, 0, 0x1800); /* inside, but in a native call */
  fake_stack(&ft, 0, &c_work, 24, NULL);
  sample(t, 100 * MS, 0, 0, 0x1000); /* lo is inside */
  fake_stack(&ft, 0, &c_work, 25, NULL);
  sample(t, 100 * MS, 0, 0, 0x2000); /* hi is not */
  fake_stack(&ft, 0, &c_work, 26, NULL);
  sample(t, 100 * MS, 0, 0, 0x8fff); /* inside the second range */
  /* An older sc_sample_info_t without `pc`: the pc beyond its size is
   * not read (it would be native). */
  fake_stack(&ft, 0, &c_work, 27, NULL);
  sc_sample_info_t si = {.size = offsetof(sc_sample_info_t, pc), .cpu_ns = 100 * MS, .pc = 0x3000};
  cr_assert_eq(sc_sample(t, &si), 0);

  mj *doc = export_doc(s);
  const double all = 100.0 / 7;
  const struct {
    int line;
    double py, c;
  } want[] = {{21, all, 0}, {22, 0, all}, {23, 0, all}, {24, all, 0},
              {25, 0, all}, {26, all, 0}, {27, all, 0}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const mj *l = prof_line(doc, "/toy/app.toy", want[i].line);
    cr_assert_not_null(l, "line %d", want[i].line);
    cr_assert_eq(mj_num(l, "n_cpu_percent_python"), want[i].py == 0 ? 0 : pct_of(100 * MS, 700 * MS),
                 "line %d", want[i].line);
    cr_assert_eq(mj_num(l, "n_cpu_percent_c"), want[i].c == 0 ? 0 : pct_of(100 * MS, 700 * MS),
                 "line %d", want[i].line);
  }
  mj_free(doc);
  sc_session_free(s);
}

SC_TEST(session, without_ranges_only_the_capture_flag_decides) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 31, NULL);
  sample(t, 100 * MS, 0, 0, 0xdeadbeef);
  fake_stack(&ft, SC_CAPTURE_IN_NATIVE_CALL, &c_work, 32, NULL);
  sample(t, 100 * MS, 0, 0, 0xdeadbeef);
  mj *doc = export_doc(s);
  cr_assert_eq(mj_num(prof_line(doc, "/toy/app.toy", 31), "n_cpu_percent_python"), 50);
  cr_assert_eq(mj_num(prof_line(doc, "/toy/app.toy", 31), "n_cpu_percent_c"), 0);
  cr_assert_eq(mj_num(prof_line(doc, "/toy/app.toy", 32), "n_cpu_percent_c"), 50);
  mj_free(doc);
  sc_session_free(s);
}

SC_TEST(session, too_many_ranges) {
  fake_runtime rt = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  for (uintptr_t i = 0; i < 64; i++)
    cr_assert_eq(sc_session_add_runtime_range(s, 0x10000 * (i + 1), 0x10000 * (i + 1) + 0x100), 0);
  cr_assert_eq(sc_session_add_runtime_range(s, 0x1000, 0x2000), SC_ERANGE, "65th range");
  sc_session_free(s);
}

SC_TEST(session, unprofiled_frames_skip_to_innermost_profiled) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  /* library code called from work:40 called from main:5 */
  fake_stack(&ft, 0, &c_lib, 7, &c_lib, 3, &c_work, 40, &c_main, 5, NULL);
  sample(t, 100 * MS, 0, 0, 0);
  /* only library code on the stack, and an empty stack: unattributed */
  fake_stack(&ft, 0, &c_lib, 7, NULL);
  sample(t, 50 * MS, 0, 0, 0);
  fake_stack(&ft, 0, NULL);
  sample(t, 50 * MS, 0, 0, 0);

  mj *doc = export_doc(s);
  const mj *l40 = prof_line(doc, "/toy/app.toy", 40);
  cr_assert_not_null(l40);
  cr_assert_eq(mj_num(l40, "n_cpu_percent_python"), 50);
  cr_assert_null(prof_file(doc, "/usr/lib/toy/lib.toy"), "unprofiled code is never reported");
  cr_assert_null(prof_file(doc, "/toy/main.toy"), "only the innermost profiled frame is charged");
  cr_assert_eq(mj_num(doc, "cpu_samples"), 3);
  cr_assert_eq(mj_num(doc, "unattributed_samples"), 2);
  cr_assert_eq(mj_num(doc, "unattributed_percent"), 50);
  cr_assert_eq(mj_num(prof_thread(doc, gettid_()), "cpu_sec"), 0.2,
               "the thread is charged everything, profiled or not");
  mj_free(doc);
  sc_session_free(s);
}

SC_TEST(session, invalid_frames_are_dropped) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_dead, 7, &c_work, 50, NULL);
  sample(t, 100 * MS, 0, 0, 0);
  fake_stack(&ft, 0, &c_dead, 8, NULL);
  sample(t, 100 * MS, 0, 0, 0);
  mj *doc = export_doc(s);
  cr_assert_null(prof_file(doc, "/toy/dead.toy"));
  cr_assert_eq(mj_num(prof_line(doc, "/toy/app.toy", 50), "n_cpu_percent_python"), 50);
  cr_assert_eq(mj_num(doc, "unattributed_samples"), 1);
  mj_free(doc);
  sc_session_free(s);
}

/* A frame that is both PROFILED and INVALID is dropped like any invalid
 * one, in later drains too (the cache must not stop the walk at it). */
static const fake_code c_dead_profiled = {"/toy/dead.toy", "gone", 1,
                                          SC_FRAME_INVALID | SC_FRAME_PROFILED};

SC_TEST(session, invalid_profiled_frame_in_later_drains) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_dead_profiled, 7, &c_work, 60, NULL);
  sample(t, 100 * MS, 0, 0, 0);
  mj *doc = export_doc(s); /* drain 1: both frames resolved */
  cr_assert_not_null(prof_line(doc, "/toy/app.toy", 60));
  mj_free(doc);
  fake_stack(&ft, 0, &c_dead_profiled, 7, &c_work, 61, NULL);
  sample(t, 100 * MS, 0, 0, 0);
  doc = export_doc(s); /* drain 2: dead:7 is cached, work:61 is new */
  cr_assert_eq(fake_resolved_count(&rt, &c_work, 61), 1, "work:61 was resolved");
  cr_assert_not_null(prof_line(doc, "/toy/app.toy", 61));
  cr_assert_eq(mj_num(doc, "unattributed_samples"), 0);
  mj_free(doc);
  sc_session_free(s);
}

SC_TEST(session, each_raw_frame_is_resolved_once) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 5; i++) {
      fake_stack(&ft, 0, &c_work, 70 + i % 2, &c_main, 9, NULL);
      sample(t, MS, 0, 0, 0);
    }
    mj *doc = export_doc(s); /* a drain per round */
    cr_assert_eq(mj_num(doc, "cpu_samples"), 5 * (round + 1));
    mj_free(doc);
  }
  cr_assert_eq(fake_resolved_count(&rt, &c_work, 70), 1);
  cr_assert_eq(fake_resolved_count(&rt, &c_work, 71), 1);
  cr_assert_leq(fake_resolved_count(&rt, &c_main, 9), 1,
                "main:9 is never needed (work is profiled) or resolved once");
  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.resolved_frames, rt.nseen);
  cr_assert_eq(st.samples, 15);
  sc_session_free(s);
}

/* capture(): "Return 0, or a negative code to drop the sample"; sc_sample
 * counts it as dropped. */
SC_TEST(session, capture_error_drops_the_sample) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 80, NULL);
  atomic_store(&ft.capture_rc, SC_EINVAL);
  sample(t, 100 * MS, 0, 0, 0);
  atomic_store(&ft.capture_rc, 0);
  sample(t, 100 * MS, 0, 0, 0);
  mj *doc = export_doc(s);
  cr_assert_eq(mj_num(doc, "cpu_samples"), 1);
  cr_assert_eq(mj_num(doc, "unattributed_samples"), 0);
  cr_assert_eq(mj_num(doc, "dropped_samples"), 1);
  cr_assert_eq(mj_num(prof_line(doc, "/toy/app.toy", 80), "n_cpu_percent_python"), 100,
               "the refused sample's time is not charged anywhere");
  mj_free(doc);
  sc_session_free(s);
}

/* resolve(): "Return 0 or a negative code (the batch's samples are then
 * dropped and counted as dropped)." */
SC_TEST(session, resolve_error_drops_the_batch) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 81, NULL);
  sample(t, 100 * MS, 0, 0, 0);
  sample(t, 100 * MS, 0, 0, 0);
  atomic_store(&rt.resolve_rc, SC_EIO);
  mj *doc = export_doc(s);
  cr_assert_eq(mj_num(doc, "cpu_samples"), 0);
  cr_assert_eq(mj_num(doc, "dropped_samples"), 2);
  mj_free(doc);
  /* The resolver recovers: later samples are resolved and kept. */
  atomic_store(&rt.resolve_rc, 0);
  sample(t, 100 * MS, 0, 0, 0);
  doc = export_doc(s);
  cr_assert_eq(mj_num(doc, "cpu_samples"), 1);
  cr_assert_eq(mj_num(prof_line(doc, "/toy/app.toy", 81), "n_cpu_samples"), 1);
  mj_free(doc);
  sc_session_free(s);
}

/* An embedder's sc_sample_info_t with sys_ns > cpu_ns must not wrap the
 * unsigned user time (cpu_ns - sys_ns) into ~1.8e19 ns. */
SC_TEST(session, sys_above_cpu_does_not_wrap,
        .description = "library bug: sc_sample accepts sys_ns > cpu_ns; user time wraps") {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 82, NULL);
  sc_sample_info_t si = {.size = sizeof si, .cpu_ns = 10 * MS, .sys_ns = 20 * MS};
  int rc = sc_sample(t, &si);
  if (rc == 0) {
    mj *doc = export_doc(s);
    const mj *l = prof_line(doc, "/toy/app.toy", 82);
    cr_assert_not_null(l);
    cr_assert_leq(mj_num(l, "n_cpu_percent_python"), 100);
    cr_assert_leq(mj_num(prof_thread(doc, gettid_()), "cpu_sec"), 0.02);
    mj_free(doc);
  } else {
    cr_assert_eq(rc, SC_EINVAL);
  }
  sc_session_free(s);
}

/* ------------------------------------------------------------------------ */
/* drops                                                                    */
/* ------------------------------------------------------------------------ */

SC_TEST(session, full_ring_counts_dropped_samples) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s =
      fake_session(&rt, (const char *[]){"ring-capacity=8", "drain-interval=10", NULL});
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 90, NULL);
  for (int i = 0; i < 20; i++) sample(t, MS, 0, 0, 0); /* a full ring is not an error */
  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.dropped, 12);
  cr_assert_eq(st.samples, 0);
  mj *doc = export_doc(s);
  cr_assert_eq(mj_num(doc, "cpu_samples"), 8);
  cr_assert_eq(mj_num(doc, "dropped_samples"), 12);
  mj_free(doc);
  /* drained: room again */
  for (int i = 0; i < 8; i++) sample(t, MS, 0, 0, 0);
  cr_assert_eq(sc_session_stop(s), 0);
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.samples, 16);
  cr_assert_eq(st.dropped, 12);
  sc_session_free(s);
}

/* A sample that interrupts a sample of the same thread (a signal landing
 * inside sc_sample) is dropped and counted, never nested. */
static sc_thread_t *g_nested_thread;
static atomic_int g_nested_rc = 1;

static int nesting_capture(void *user, void *ctx, sc_raw_frame_t *frames, size_t max, size_t *n,
                           uint32_t *flags) {
  if (g_nested_thread) {
    sc_thread_t *t = g_nested_thread;
    g_nested_thread = NULL;
    sc_sample_info_t si = {.size = sizeof si, .cpu_ns = 999 * MS};
    atomic_store(&g_nested_rc, sc_sample(t, &si));
  }
  return fake_capture(user, ctx, frames, max, n, flags);
}

SC_TEST(session, nested_sample_is_dropped) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_options_t *o = opts_from(QUIET);
  sc_frame_resolver_t r = fake_resolver(&rt);
  r.capture = nesting_capture;
  sc_session_t *s = NULL;
  cr_assert_eq(sc_session_start(&s, o, &r), 0);
  sc_options_destroy(o);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 95, NULL);
  g_nested_thread = t;
  sample(t, 10 * MS, 0, 0, 0);
  cr_assert_eq(atomic_load(&g_nested_rc), 0, "the nested call returns 0");
  cr_assert_eq(sc_session_stop(s), 0);
  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_eq(st.samples, 1);
  cr_assert_eq(st.dropped, 1);
  cr_assert_eq(st.total_ns, 10 * MS);
  sc_session_free(s);
}

/* ------------------------------------------------------------------------ */
/* thresholds and the reduced profile                                       */
/* ------------------------------------------------------------------------ */

static const fake_code c_f = {"/toy/a.toy", "f", 1, SC_FRAME_PROFILED};
static const fake_code c_g = {"/toy/a.toy", "g", 3, SC_FRAME_PROFILED};
static const fake_code c_k = {"/toy/a.toy", "k", 4, SC_FRAME_PROFILED};
static const fake_code c_h = {"/toy/b.toy", "h", 1, SC_FRAME_PROFILED};

/* a.toy: f (lines 1, 2) 80 %, g (line 3) 15 %, k (line 4) 3 %;
 * b.toy: h (line 1) 2 %. */
static mj *threshold_profile(const char *const *kv) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, kv);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_f, 1, NULL);
  sample(t, 500 * MS, 0, 0, 0);
  fake_stack(&ft, 0, &c_f, 2, NULL);
  sample(t, 300 * MS, 0, 0, 0);
  fake_stack(&ft, 0, &c_g, 3, NULL);
  sample(t, 150 * MS, 0, 0, 0);
  fake_stack(&ft, 0, &c_k, 4, NULL);
  sample(t, 30 * MS, 0, 0, 0);
  fake_stack(&ft, 0, &c_h, 1, NULL);
  sample(t, 20 * MS, 0, 0, 0);
  mj *doc = export_doc(s);
  sc_session_free(s);
  return doc;
}

SC_TEST(session, cpu_percent_threshold_filters_files) {
  mj *doc = threshold_profile((const char *[]){"cpu-percent-threshold=10", "drain-interval=10", NULL});
  cr_assert_not_null(prof_file(doc, "/toy/a.toy"));
  cr_assert_eq(mj_num(prof_file(doc, "/toy/a.toy"), "percent_cpu_time"), 98);
  cr_assert_null(prof_file(doc, "/toy/b.toy"), "2 %% < 10 %%");
  /* Not reduced: every active line and function of a reported file. */
  for (int ln = 1; ln <= 4; ln++) cr_assert_not_null(prof_line(doc, "/toy/a.toy", ln), "line %d", ln);
  cr_assert_eq(mj_num(prof_line(doc, "/toy/a.toy", 4), "n_cpu_percent_python"), 3);
  cr_assert_not_null(prof_func(doc, "/toy/a.toy", "f"));
  cr_assert_not_null(prof_func(doc, "/toy/a.toy", "k"));
  cr_assert_eq(mj_num(prof_func(doc, "/toy/a.toy", "f"), "n_cpu_percent_python"), 80);
  cr_assert_str_eq(mj_str(doc, "no_samples_reason"), "");
  mj_free(doc);

  /* The default threshold (1 %) keeps both. */
  doc = threshold_profile(QUIET);
  cr_assert_not_null(prof_file(doc, "/toy/b.toy"));
  mj_free(doc);

  /* A malloc threshold of 0 admits every file, as in Scalene. */
  doc = threshold_profile(
      (const char *[]){"cpu-percent-threshold=10", "malloc-threshold=0", "drain-interval=10", NULL});
  cr_assert_not_null(prof_file(doc, "/toy/b.toy"));
  mj_free(doc);

  /* Everything below the threshold: no files, and a reason that says so. */
  doc = threshold_profile((const char *[]){"cpu-percent-threshold=99", "drain-interval=10", NULL});
  cr_assert_eq(mj_get(doc, "files")->n, 0);
  cr_assert_not_null(strstr(mj_str(doc, "no_samples_reason"), "cpu-percent-threshold"), "%s",
                     mj_str(doc, "no_samples_reason"));
  cr_assert_eq(mj_num(doc, "cpu_samples"), 5);
  mj_free(doc);
}

SC_TEST(session, reduced_profile_filters_lines_and_functions) {
  mj *doc = threshold_profile((const char *[]){"cpu-percent-threshold=10", "reduced-profile=true",
                                               "drain-interval=10", NULL});
  cr_assert_not_null(prof_line(doc, "/toy/a.toy", 1));
  cr_assert_not_null(prof_line(doc, "/toy/a.toy", 2));
  cr_assert_not_null(prof_line(doc, "/toy/a.toy", 3));
  cr_assert_null(prof_line(doc, "/toy/a.toy", 4), "3 %% < 10 %%");
  cr_assert_eq(mj_get(prof_file(doc, "/toy/a.toy"), "lines")->n, 3);
  cr_assert_not_null(prof_func(doc, "/toy/a.toy", "f"));
  cr_assert_not_null(prof_func(doc, "/toy/a.toy", "g"));
  cr_assert_null(prof_func(doc, "/toy/a.toy", "k"));
  mj_free(doc);
}

SC_TEST(session, no_samples_reasons) {
  fake_runtime rt = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  mj *doc = export_doc(s);
  cr_assert_eq(mj_num(doc, "cpu_samples"), 0);
  cr_assert_eq(mj_get(doc, "files")->n, 0);
  cr_assert_not_null(strstr(mj_str(doc, "no_samples_reason"), "no samples"));
  mj_free(doc);
  sc_session_free(s);

  fake_thread ft = {0};
  s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_lib, 1, NULL);
  sample(t, 100 * MS, 0, 0, 0);
  doc = export_doc(s);
  cr_assert_not_null(strstr(mj_str(doc, "no_samples_reason"), "no sample landed in profiled code"));
  mj_free(doc);
  sc_session_free(s);
}

/* ------------------------------------------------------------------------ */
/* source text, threads, metadata                                           */
/* ------------------------------------------------------------------------ */

static char g_src_path[64];
static fake_code c_src = {g_src_path, "body", 1, SC_FRAME_PROFILED};

SC_TEST(session, source_lines_are_included) {
  snprintf(g_src_path, sizeof g_src_path, "/tmp/sc-src-%ld.toy", (long)getpid());
  FILE *f = fopen(g_src_path, "w");
  cr_assert_not_null(f);
  fputs("fn body():\n  x = 1\n  y = \"q\"\n\n  return x\n", f);
  fclose(f);
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_src, 2, NULL);
  sample(t, 60 * MS, 0, 0, 0);
  fake_stack(&ft, 0, &c_src, 7, NULL); /* past the end of the file */
  sample(t, 40 * MS, 0, 0, 0);
  mj *doc = export_doc(s);
  unlink(g_src_path);
  const mj *lines = mj_get(prof_file(doc, g_src_path), "lines");
  cr_assert_not_null(lines);
  cr_assert_eq(lines->n, 6, "the 5 source lines, then active line 7 (not 6)");
  const char *text[] = {"fn body():\n", "  x = 1\n", "  y = \"q\"\n", "\n", "  return x\n"};
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(mj_num(mj_at(lines, (size_t)i), "lineno"), i + 1);
    cr_assert_str_eq(mj_str(mj_at(lines, (size_t)i), "line"), text[i]);
  }
  cr_assert_eq(mj_num(mj_at(lines, 5), "lineno"), 7);
  cr_assert_str_eq(mj_str(mj_at(lines, 5), "line"), "");
  cr_assert_eq(mj_num(mj_at(lines, 0), "n_cpu_percent_python"), 0);
  cr_assert_eq(mj_num(mj_at(lines, 1), "n_cpu_percent_python"), 60);
  cr_assert_eq(mj_num(mj_at(lines, 5), "n_cpu_percent_python"), 40);
  mj_free(doc);
  sc_session_free(s);
}

typedef struct worker_arg {
  sc_session_t *s;
  long tid;
} worker_arg;

static void *worker(void *p) {
  worker_arg *a = p;
  fake_thread ft = {0};
  sc_thread_t *t = NULL;
  a->tid = gettid_();
  if (sc_thread_register(a->s, &ft, SC_THREAD_NO_TIMER, "worker", &t) != 0) return NULL;
  fake_stack(&ft, 0, &c_work, 12, NULL);
  sc_sample_info_t si = {.size = sizeof si, .cpu_ns = 300 * MS};
  sc_sample(t, &si);
  sc_thread_unregister(t);
  return p;
}

SC_TEST(session, threads_are_accounted_separately) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_MAIN | SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 12, NULL);
  sample(t, 100 * MS, 0, 0, 0);
  worker_arg a = {s, 0};
  pthread_t th;
  void *ret = NULL;
  cr_assert_eq(pthread_create(&th, NULL, worker, &a), 0);
  cr_assert_eq(pthread_join(th, &ret), 0);
  cr_assert_eq(ret, &a, "the worker registered and sampled");
  cr_assert_eq(sc_thread_unregister(t), 0);
  cr_assert_eq(sc_session_stop(s), 0);

  mj *doc = export_doc(s);
  const mj *l = prof_line(doc, "/toy/app.toy", 12);
  cr_assert_not_null(l);
  cr_assert_eq(mj_num(l, "n_cpu_percent_python"), 100);
  const mj *per = mj_get(l, "threads");
  cr_assert(per && per->type == MJ_ARR && per->n == 2, "a line run by two threads is broken down");
  double sum = 0;
  for (size_t i = 0; i < 2; i++) {
    const mj *e = mj_at(per, i);
    double tid = mj_num(e, "tid");
    const char *name = mj_str(e, "name");
    if (tid == (double)gettid_()) {
      cr_assert_str_eq(name, "main");
      cr_assert_eq(mj_num(e, "n_cpu_percent_python"), 25);
    } else {
      cr_assert_eq(tid, (double)a.tid);
      cr_assert_str_eq(name, "worker");
      cr_assert_eq(mj_num(e, "n_cpu_percent_python"), 75);
    }
    sum += mj_num(e, "n_cpu_percent_python");
  }
  cr_assert_eq(sum, 100);
  cr_assert_eq(mj_num(prof_thread(doc, gettid_()), "cpu_sec"), 0.1);
  cr_assert_eq(mj_num(prof_thread(doc, a.tid), "cpu_sec"), 0.3);
  cr_assert_str_eq(mj_str(prof_thread(doc, a.tid), "name"), "worker");
  mj_free(doc);
  sc_session_free(s);
}

SC_TEST(session, metadata) {
  fake_runtime rt = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  char prog[16] = "first";
  cr_assert_eq(sc_session_set_meta(s, "program", prog), 0);
  strcpy(prog, "XXXXX"); /* copied during the call */
  const char *args[] = {"--n", "3", "caf\xc3\xa9 \"quoted\"\n"};
  cr_assert_eq(sc_session_set_meta_list(s, "args", args, 3), 0);
  cr_assert_eq(sc_session_set_meta_list(s, "empty", NULL, 0), 0);
  cr_assert_eq(sc_session_set_meta(s, "entrypoint_dir", "/toy"), 0);
  cr_assert_eq(sc_session_set_meta(s, "entrypoint_dir", "/toy2"), 0, "set again to replace");
  mj *doc = export_doc(s);
  cr_assert_str_eq(mj_str(doc, "program"), "first");
  cr_assert_str_eq(mj_str(doc, "entrypoint_dir"), "/toy2");
  const mj *a = mj_get(doc, "args");
  cr_assert(a && a->type == MJ_ARR && a->n == 3);
  for (size_t i = 0; i < 3; i++) cr_assert_str_eq(mj_at(a, i)->str, args[i]);
  const mj *e = mj_get(doc, "empty");
  cr_assert(e && e->type == MJ_ARR && e->n == 0);
  mj_free(doc);
  sc_session_free(s);
}

/* ------------------------------------------------------------------------ */
/* sc_export: atomic files                                                  */
/* ------------------------------------------------------------------------ */

static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  cr_assert_not_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static mj *read_doc(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return mj_parse(buf, n, NULL);
}

SC_TEST(session, export_writes_atomically) {
  char dir[] = "/tmp/sc-export-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[128], missing[128];
  snprintf(path, sizeof path, "%s/profile.json", dir);
  snprintf(missing, sizeof missing, "%s/no/such/folder/profile.json", dir);
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 12, NULL);
  sample(t, 10 * MS, 0, 0, 0);

  /* A folder that does not exist: SC_EIO, nothing created anywhere. */
  cr_assert_eq(sc_export(s, SC_FORMAT_JSON, missing), SC_EIO);
  cr_assert_eq(count_entries(dir), 0);

  /* An existing file is replaced whole; no temporary remains. */
  FILE *f = fopen(path, "w");
  fputs("old contents, not JSON", f);
  fclose(f);
  mode_t old = umask(022);
  cr_assert_eq(sc_export(s, SC_FORMAT_JSON, path), 0);
  umask(old);
  cr_assert_eq(count_entries(dir), 1, "only the profile itself");
  mj *doc = read_doc(path);
  cr_assert_not_null(doc, "the file is one complete JSON document");
  cr_assert_eq(mj_num(doc, "cpu_samples"), 1);
  mj_free(doc);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0644, "an ordinary file under umask 022, not mkstemp's 0600");

  /* The target is a folder: the rename fails, SC_EIO, nothing left over. */
  char sub[160];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  cr_assert_eq(mkdir(sub, 0755), 0);
  char inner[200];
  snprintf(inner, sizeof inner, "%s/keep", sub);
  f = fopen(inner, "w");
  fclose(f);
  cr_assert_eq(sc_export(s, SC_FORMAT_JSON, sub), SC_EIO);
  cr_assert_eq(count_entries(dir), 2, "profile.json and sub/");
  cr_assert_eq(count_entries(sub), 1);

  unlink(inner);
  rmdir(sub);
  unlink(path);
  cr_assert_eq(rmdir(dir), 0);
  sc_session_free(s);
}

typedef struct reader_arg {
  const char *path;
  atomic_int stop;
  int reads, bad;
} reader_arg;

static void *reader(void *p) {
  reader_arg *a = p;
  while (!atomic_load(&a->stop)) {
    mj *doc = read_doc(a->path);
    a->reads++;
    if (!doc || !mj_get(doc, "files")) a->bad++;
    mj_free(doc);
  }
  return NULL;
}

SC_TEST(session, readers_never_see_a_partial_profile) {
  char dir[] = "/tmp/sc-export-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[128];
  snprintf(path, sizeof path, "%s/profile.json", dir);
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, QUIET);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 12, NULL);
  sample(t, 10 * MS, 0, 0, 0);
  cr_assert_eq(sc_export(s, SC_FORMAT_JSON, path), 0);
  reader_arg a = {.path = path};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, reader, &a), 0);
  for (int i = 0; i < 25; i++) {
    fake_stack(&ft, 0, &c_work, 100 + i, NULL); /* every profile is a bit larger */
    sample(t, 10 * MS, 0, 0, 0);
    cr_assert_eq(sc_export(s, SC_FORMAT_JSON, path), 0);
  }
  atomic_store(&a.stop, 1);
  pthread_join(th, NULL);
  cr_assert_gt(a.reads, 0);
  cr_assert_eq(a.bad, 0, "%d of %d reads saw an incomplete profile", a.bad, a.reads);
  cr_assert_eq(count_entries(dir), 1);
  unlink(path);
  rmdir(dir);
  sc_session_free(s);
}

/* ------------------------------------------------------------------------ */
/* fork                                                                     */
/* ------------------------------------------------------------------------ */

SC_TEST(session, forked_child_cannot_export_the_parents_session) {
  char dir[] = "/tmp/sc-fork-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char child_path[128], parent_path[128];
  snprintf(child_path, sizeof child_path, "%s/child.json", dir);
  snprintf(parent_path, sizeof parent_path, "%s/parent.json", dir);
  fake_runtime rt = {0};
  fake_thread ft = {0};
  /* the ticker really runs here: it may hold a lock at fork time */
  sc_session_t *s = fake_session(&rt, (const char *[]){"drain-interval=0.001", NULL});
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_NO_TIMER, "main");
  fake_stack(&ft, 0, &c_work, 12, NULL);
  sample(t, 10 * MS, 0, 0, 0);

  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    /* Child: no assertion library here, an exit code per failure. */
    char *buf = NULL;
    size_t len;
    if (sc_export(s, SC_FORMAT_JSON, child_path) != SC_EFORKED) _exit(10);
    if (access(child_path, F_OK) == 0) _exit(11);
    if (sc_export_buffer(s, SC_FORMAT_JSON, &buf, &len) != SC_EFORKED) _exit(12);
    fake_thread cft = {0};
    sc_thread_t *ct = NULL;
    if (sc_thread_register(s, &cft, SC_THREAD_NO_TIMER, "child", &ct) != SC_EFORKED) _exit(13);
    sc_session_stats_t cst = {.size = sizeof cst};
    if (sc_session_stats(s, &cst) != SC_EFORKED) _exit(20);
    if (sc_session_set_meta(s, "k", "v") != SC_EFORKED) _exit(21);
    if (sc_session_is_sampling(s)) _exit(22);
    if (sc_thread_unregister(t) != 0) _exit(23); /* takes none of the parent's locks */
    /* The child may profile itself with a session of its own. */
    fake_runtime crt = {0};
    sc_frame_resolver_t r = fake_resolver(&crt);
    sc_session_t *cs = NULL;
    if (sc_session_start(&cs, NULL, &r) != 0) _exit(14);
    if (sc_thread_register(cs, &cft, SC_THREAD_NO_TIMER, "child", &ct) != 0) _exit(15);
    fake_stack(&cft, 0, &c_main, 2, NULL);
    sc_sample_info_t si = {.size = sizeof si, .cpu_ns = MS};
    if (sc_sample(ct, &si) != 0) _exit(16);
    if (sc_export(cs, SC_FORMAT_JSON, child_path) != 0) _exit(17);
    sc_session_free(cs);
    sc_session_free(s); /* the parent's copy: must not touch its threads */
    _exit(0);
  }
  int status = 0;
  cr_assert_eq(waitpid(pid, &status, 0), pid);
  cr_assert(WIFEXITED(status), "child died (signal %d)", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  cr_assert_eq(WEXITSTATUS(status), 0, "child check %d failed", WEXITSTATUS(status));

  mj *doc = read_doc(child_path);
  cr_assert_not_null(doc, "the child's own session exported");
  cr_assert_not_null(prof_line(doc, "/toy/main.toy", 2));
  mj_free(doc);

  sample(t, 10 * MS, 0, 0, 0); /* the parent goes on */
  cr_assert_eq(sc_export(s, SC_FORMAT_JSON, parent_path), 0);
  doc = read_doc(parent_path);
  cr_assert_not_null(doc);
  cr_assert_eq(mj_num(doc, "cpu_samples"), 2);
  cr_assert_eq(mj_num(prof_line(doc, "/toy/app.toy", 12), "n_cpu_samples"), 2);
  mj_free(doc);
  unlink(child_path);
  unlink(parent_path);
  rmdir(dir);
  sc_session_free(s);
}
