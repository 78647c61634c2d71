/* test-timer.c - the real sampling path: per-thread CPU timers, the
 * sampling signal, blocked-time accounting by the ticker, and coexistence
 * with the program's own SIGPROF / SIGALRM timers. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include "sc-test.h"

TestSuite(timer, .timeout = 30);

static const fake_code c_spin = {"/toy/timer.toy", "spin", 1, SC_FRAME_PROFILED};
static const fake_code c_wait = {"/toy/timer.toy", "wait", 20, SC_FRAME_PROFILED};

/* Burn `ns` of this thread's CPU time; returns what was burned. */
static uint64_t spin_cpu(uint64_t ns) {
  uint64_t t0 = thread_cpu_ns(), now;
  volatile uint64_t x = 0;
  do {
    for (int i = 0; i < 2000; i++) x += (uint64_t)i * i;
    now = thread_cpu_ns();
  } while (now - t0 < ns);
  return now - t0;
}

static void assert_within(double got, double want, double tolerance, const char *what) {
  cr_assert(got >= want * (1 - tolerance) && got <= want * (1 + tolerance),
            "%s: %.4f, expected %.4f +- %.0f%%", what, got, want, tolerance * 100);
}

SC_TEST(timer, cpu_timer_charges_the_threads_cpu_time) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, NULL);
  fake_stack(&ft, 0, &c_spin, 5, NULL);
  uint64_t c0 = thread_cpu_ns();
  sc_thread_t *t = fake_register(s, &ft, 0, "spinner");
  spin_cpu(300 * MS);
  cr_assert_eq(sc_thread_unregister(t), 0);
  uint64_t burned = thread_cpu_ns() - c0;
  cr_assert_eq(sc_session_stop(s), 0);

  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  /* one sample per 10 ms of CPU: about 30 (CPU timers fire on scheduler
   * ticks, so fewer on a coarse-tick kernel) */
  cr_assert_geq(st.samples, 10, "%llu samples", (unsigned long long)st.samples);
  cr_assert_leq(st.samples, 40, "%llu samples", (unsigned long long)st.samples);
  cr_assert_eq(st.dropped, 0);
  /* The first sample comes after a random part of an interval and stands
   * for a whole one, the last part-interval goes unsampled: the total is
   * within an interval of what the thread burned, either way. */
  cr_assert_leq(st.total_ns, burned + 10 * MS, "at most one interval more than the thread burned");
  assert_within((double)st.total_ns, (double)burned, 0.2, "charged vs CLOCK_THREAD_CPUTIME_ID");

  mj *doc = export_doc(s);
  const mj *l = prof_line(doc, "/toy/timer.toy", 5);
  cr_assert_not_null(l);
  cr_assert_eq(mj_num(l, "n_cpu_samples"), (double)st.samples, "every sample landed on the spin line");
  /* no ranges, no native flag: language time (plus what the kernel took) */
  cr_assert_eq(mj_num(l, "n_cpu_percent_c"), 0);
  cr_assert_gt(mj_num(l, "n_cpu_percent_python"), 50, "python %.2f sys %.2f",
               mj_num(l, "n_cpu_percent_python"), mj_num(l, "n_sys_percent"));
  cr_assert_gt(mj_num(l, "n_cpu_percent_python") + mj_num(l, "n_sys_percent"), 99.99);
  assert_within(mj_num(prof_thread(doc, gettid_()), "cpu_sec"), (double)burned / 1e9, 0.2,
                "thread cpu_sec");
  cr_assert_gt(mj_num(l, "n_core_utilization"), 0, "the signal path fills wall and process CPU");
  mj_free(doc);
  sc_session_free(s);
}

typedef struct spinner {
  sc_session_t *s;
  uint64_t ns, burned;
  long tid;
  int rc;
} spinner;

static void *spinner_main(void *p) {
  spinner *a = p;
  fake_thread ft = {0};
  sc_thread_t *t = NULL;
  a->tid = gettid_();
  fake_stack(&ft, 0, &c_spin, 6, NULL);
  uint64_t c0 = thread_cpu_ns();
  a->rc = sc_thread_register(a->s, &ft, 0, "spinner", &t);
  if (a->rc != 0) return NULL;
  spin_cpu(a->ns);
  sc_thread_unregister(t);
  a->burned = thread_cpu_ns() - c0;
  return NULL;
}

SC_TEST(timer, blocked_main_thread_is_not_interrupted_and_gets_blocked_time) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, NULL);
  fake_stack(&ft, 0, &c_wait, 21, NULL);
  sc_thread_t *t = fake_register(s, &ft, SC_THREAD_MAIN, "main");
  /* Another thread burns CPU (and takes sampling signals) meanwhile. */
  spinner sp = {.s = s, .ns = 300 * MS};
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, spinner_main, &sp), 0);
  errno = 0;
  uint64_t w0 = mono_ns();
  int rc = poll(NULL, 0, 500);
  int err = errno;
  uint64_t waited = mono_ns() - w0;
  cr_assert_eq(sc_thread_unregister(t), 0);
  cr_assert_eq(pthread_join(th, NULL), 0);
  cr_assert_eq(rc, 0, "poll returned %d (errno %d): a blocked thread must not be interrupted", rc, err);
  cr_assert_eq(sp.rc, 0);
  cr_assert_eq(sc_session_stop(s), 0);

  mj *doc = export_doc(s);
  const mj *me = prof_thread(doc, gettid_());
  cr_assert_not_null(me);
  double blocked = mj_num(me, "blocked_sec");
  cr_assert(blocked >= 0.4 && blocked <= (double)waited / 1e9 + 0.1,
            "main thread blocked %.3f s, poll took %.3f s", blocked, (double)waited / 1e9);
  cr_assert_lt(mj_num(me, "cpu_sec"), 0.1, "the waiting thread burned next to no CPU");
  const mj *l = prof_line(doc, "/toy/timer.toy", 21);
  cr_assert_not_null(l, "blocked time lands where the main thread waits");
  cr_assert_gt(mj_num(l, "n_sys_percent"), 0);

  const mj *other = prof_thread(doc, sp.tid);
  cr_assert_not_null(other);
  cr_assert_eq(mj_num(other, "blocked_sec"), 0, "only SC_THREAD_MAIN threads get blocked time");
  assert_within(mj_num(other, "cpu_sec"), (double)sp.burned / 1e9, 0.2, "spinner cpu_sec");
  cr_assert_not_null(prof_line(doc, "/toy/timer.toy", 6));
  mj_free(doc);
  sc_session_free(s);
}

static void blocked_time_of_a_poll(const char *const *kv, uint32_t flags, double *blocked) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, kv);
  fake_stack(&ft, 0, &c_wait, 22, NULL);
  sc_thread_t *t = fake_register(s, &ft, flags, "main");
  errno = 0;
  int rc = poll(NULL, 0, 300);
  cr_assert_eq(rc, 0, "poll: %d (errno %d)", rc, errno);
  cr_assert_eq(sc_thread_unregister(t), 0);
  mj *doc = export_doc(s);
  /* a thread never sampled is not listed: nothing was charged to it */
  const mj *me = prof_thread(doc, gettid_());
  *blocked = me ? mj_num(me, "blocked_sec") : 0;
  mj_free(doc);
  sc_session_free(s);
}

SC_TEST(timer, blocked_time_only_for_main_threads) {
  double b;
  blocked_time_of_a_poll(NULL, 0, &b);
  cr_assert_eq(b, 0, "a thread registered without SC_THREAD_MAIN");
  blocked_time_of_a_poll(NULL, SC_THREAD_MAIN, &b);
  cr_assert_gt(b, 0.2);
  blocked_time_of_a_poll((const char *[]){"use-virtual-time=true", NULL}, SC_THREAD_MAIN, &b);
  cr_assert_eq(b, 0, "use-virtual-time counts CPU time only");
}

SC_TEST(timer, paused_time_is_not_charged) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, NULL);
  fake_stack(&ft, 0, &c_spin, 7, NULL);
  sc_thread_t *t = fake_register(s, &ft, 0, "spinner");
  uint64_t counted = spin_cpu(100 * MS);
  cr_assert_eq(sc_session_pause(s), 0);
  spin_cpu(200 * MS);
  cr_assert_eq(sc_session_resume(s), 0);
  counted += spin_cpu(100 * MS);
  cr_assert_eq(sc_thread_unregister(t), 0);
  cr_assert_eq(sc_session_stop(s), 0);
  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  assert_within((double)st.total_ns, (double)counted, 0.25, "charged vs unpaused CPU time");
  sc_session_free(s);
}

static volatile sig_atomic_t g_prof_hits, g_alrm_hits;
static void on_prof(int sig) { (void)sig; g_prof_hits++; }
static void on_alrm(int sig) { (void)sig; g_alrm_hits++; }

static void install(int sig, void (*fn)(int)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  cr_assert_eq(sigaction(sig, &sa, NULL), 0);
}

static void *current_handler(int sig) {
  struct sigaction sa;
  cr_assert_eq(sigaction(sig, NULL, &sa), 0);
  return (sa.sa_flags & SA_SIGINFO) ? (void *)sa.sa_sigaction : (void *)sa.sa_handler;
}

SC_TEST(timer, programs_own_sigprof_and_sigalrm_keep_working) {
  install(SIGPROF, on_prof);
  install(SIGALRM, on_alrm);
  struct itimerval prof = {{0, 5000}, {0, 5000}}, real = {{0, 10000}, {0, 10000}}, off = {{0, 0}, {0, 0}};
  cr_assert_eq(setitimer(ITIMER_PROF, &prof, NULL), 0);
  cr_assert_eq(setitimer(ITIMER_REAL, &real, NULL), 0);

  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, NULL);
  cr_assert_eq(current_handler(SIGPROF), (void *)on_prof, "the session leaves SIGPROF alone");
  cr_assert_eq(current_handler(SIGALRM), (void *)on_alrm, "the session leaves SIGALRM alone");
  fake_stack(&ft, 0, &c_spin, 8, NULL);
  sc_thread_t *t = fake_register(s, &ft, 0, "spinner");
  g_prof_hits = g_alrm_hits = 0;
  spin_cpu(300 * MS);
  int prof_hits = g_prof_hits, alrm_hits = g_alrm_hits;
  setitimer(ITIMER_PROF, &off, NULL);
  setitimer(ITIMER_REAL, &off, NULL);
  cr_assert_eq(sc_thread_unregister(t), 0);
  cr_assert_eq(sc_session_stop(s), 0);

  cr_assert_geq(prof_hits, 20, "SIGPROF every 5 ms of CPU over 300 ms: %d", prof_hits);
  cr_assert_geq(alrm_hits, 10, "SIGALRM every 10 ms of wall time: %d", alrm_hits);
  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_geq(st.samples, 10, "and the session sampled too: %llu", (unsigned long long)st.samples);
  sc_session_free(s);
  cr_assert_eq(current_handler(SIGPROF), (void *)on_prof);
  cr_assert_eq(current_handler(SIGALRM), (void *)on_alrm);
}

static void on_rt(int sig) { (void)sig; }

SC_TEST(timer, previous_handler_of_the_sample_signal_is_restored) {
  const int sig = SIGRTMAX - 3; /* the default sample-signal */
  install(sig, on_rt);
  fake_runtime rt = {0};
  sc_session_t *s = fake_session(&rt, NULL);
  cr_assert_neq(current_handler(sig), (void *)on_rt, "the session's handler is in place");
  sc_session_free(s);
  cr_assert_eq(current_handler(sig), (void *)on_rt, "and the program's is back after free");
}

SC_TEST(timer, sample_signal_option_moves_the_signal) {
  const int sig = SIGRTMIN + 2;
  char opt[32];
  snprintf(opt, sizeof opt, "sample-signal=%d", sig);
  cr_assert_eq(current_handler(SIGRTMAX - 3), (void *)SIG_DFL);
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, (const char *[]){opt, NULL});
  cr_assert_eq(current_handler(SIGRTMAX - 3), (void *)SIG_DFL, "the default signal is untouched");
  cr_assert_neq(current_handler(sig), (void *)SIG_DFL);
  fake_stack(&ft, 0, &c_spin, 9, NULL);
  sc_thread_t *t = fake_register(s, &ft, 0, "spinner");
  spin_cpu(100 * MS);
  cr_assert_eq(sc_thread_unregister(t), 0);
  cr_assert_eq(sc_session_stop(s), 0);
  sc_session_stats_t st = {.size = sizeof st};
  cr_assert_eq(sc_session_stats(s, &st), 0);
  cr_assert_geq(st.samples, 3, "%llu samples through signal %d", (unsigned long long)st.samples, sig);
  sc_session_free(s);
}

SC_TEST(timer, unregistered_thread_is_no_longer_sampled) {
  fake_runtime rt = {0};
  fake_thread ft = {0};
  sc_session_t *s = fake_session(&rt, NULL);
  fake_stack(&ft, 0, &c_spin, 10, NULL);
  sc_thread_t *t = fake_register(s, &ft, 0, "spinner");
  spin_cpu(100 * MS);
  cr_assert_eq(sc_thread_unregister(t), 0);
  int captures = atomic_load(&rt.capture_calls);
  cr_assert_gt(captures, 0);
  spin_cpu(100 * MS);
  cr_assert_eq(atomic_load(&rt.capture_calls), captures, "no capture after unregister");
  sc_session_free(s);
}
