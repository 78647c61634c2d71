/*
 * embed_toy.c - embedding libscalenecore in a language runtime.
 *
 * The "runtime" here is a toy interpreter: its functions are static code
 * objects, its call stack is a chain of frames in memory it owns, one
 * chain per interpreter thread.  That is all the profiler needs: a binding
 * tells the core how to copy an interrupted thread's frames (capture) and
 * how to turn a copied frame into file / function / line (resolve); the
 * core does the timers, signals, buffering, aggregation and export.
 *
 * The toy program (its source files exist only in this comment; the
 * profile still lists the lines that ran, with empty text):
 *
 *   toy/main.toy                         toy/math.toy
 *    1 fn main():                         1 fn crunch():
 *    2   t = spawn(work)                  2   x = (x * 31 + 7) % m
 *    3   work()                           3
 *    4   nap(0.2)                         4 fn digest():
 *    5   join(t)                          5   h = native_hash(buf)
 *    6
 *    7 fn work():                       toy/io.toy
 *    8   repeat 400:                      1 fn nap(s):
 *    9     if roll() < 3: crunch()        2   sleep(s)
 *   10     else: digest()
 *
 * crunch() is interpreted toy code; digest() spends its time inside
 * native_hash(), a builtin written in C; sleep() blocks.  Both threads
 * pick crunch three times out of four, so the profile shows math.toy:2
 * with about three times the (language) CPU time of math.toy:5, which is
 * charged as native time, and io.toy:2 with the main thread's blocked
 * time.  (The core measures a main thread's off-CPU time as wall minus CPU
 * time per tick, so on a busy machine the time it waits for a free core
 * shows up too, as system time on the lines it was running.)
 *
 * Build against an installed library and run:
 *   cc -std=c11 -pthread embed_toy.c $(pkg-config --cflags --libs scalenecore)
 *   ./a.out [profile.json]          (default: toy-profile.json)
 * In the source tree: `make examples` builds build/examples/embed_toy.
 */
#define _POSIX_C_SOURCE 200809L

#include <scalenecore.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every fallible libscalenecore call returns 0 or a negative SC_E* code. */
#define CHECK(call)                                                           \
  do {                                                                        \
    int rc_ = (call);                                                         \
    if (rc_ < 0) {                                                            \
      fprintf(stderr, "embed_toy: %s: %s (%s)\n", #call, sc_strerror(rc_),  \
              sc_err_name(rc_));                                             \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

/* ======================================================================== */
/* 1. The toy runtime                                                       */
/* ======================================================================== */

/* A function of the toy language: its "code object".  Code objects are
 * static and never change, so a pointer to one is a stable identity for
 * the whole run - exactly what the core asks of a raw frame's `code`
 * (it caches each resolved (code, line) pair for the session's life). */
struct toy_code {
  const char *file;
  const char *name;
  int first_line;
  int builtin; /* implemented in C by the runtime, not written in toy */
};

static const struct toy_code code_main = {"toy/main.toy", "main", 1, 0};
static const struct toy_code code_work = {"toy/main.toy", "work", 7, 0};
static const struct toy_code code_crunch = {"toy/math.toy", "crunch", 1, 0};
static const struct toy_code code_digest = {"toy/math.toy", "digest", 4, 0};
static const struct toy_code code_nap = {"toy/io.toy", "nap", 1, 0};
static const struct toy_code code_native_hash = {"<builtin>", "native_hash", 0, 1};
static const struct toy_code code_sleep = {"<builtin>", "sleep", 0, 1};

/* A frame: the code it runs, its current line and its caller.  The fields
 * are atomics because the profiler reads them while the interpreter may
 * change them (see "Why capture is safe" below); relaxed loads and stores
 * of lock-free atomics compile to plain moves. */
struct toy_frame {
  _Atomic(const struct toy_code *) code;
  atomic_int line;
  _Atomic(struct toy_frame *) back;
};

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2,
               "lock-free atomics are what makes them usable in a signal handler");

#define TOY_MAX_DEPTH 64

/* One interpreter thread.  Its frames live in this preallocated array, not
 * on the C stack and never in freed memory: the struct itself outlives the
 * thread's registration with the profiler. */
struct toy_thread {
  struct toy_frame stack[TOY_MAX_DEPTH];
  _Atomic(struct toy_frame *) top; /* innermost frame; NULL when idle */
  int depth;                       /* touched by the owning thread only */
};

/* Call: build the frame completely, then publish it by making it `top`.
 * The release store orders the field stores before it, for the thread's
 * own signal handler (which can only run "between" two instructions of
 * this thread) and for any other thread that reads `top` with acquire. */
static struct toy_frame *toy_enter(struct toy_thread *th, const struct toy_code *code) {
  if (th->depth == TOY_MAX_DEPTH) {
    fprintf(stderr, "embed_toy: toy stack overflow\n");
    exit(1);
  }
  struct toy_frame *f = &th->stack[th->depth++];
  atomic_store_explicit(&f->code, code, memory_order_relaxed);
  atomic_store_explicit(&f->line, code->first_line, memory_order_relaxed);
  atomic_store_explicit(&f->back, atomic_load_explicit(&th->top, memory_order_relaxed),
                        memory_order_relaxed);
  atomic_store_explicit(&th->top, f, memory_order_release);
  return f;
}

/* Return: unlink first, so the slot is unreachable before a later call
 * reuses it. */
static void toy_leave(struct toy_thread *th) {
  struct toy_frame *f = atomic_load_explicit(&th->top, memory_order_relaxed);
  atomic_store_explicit(&th->top, atomic_load_explicit(&f->back, memory_order_relaxed),
                        memory_order_release);
  th->depth--;
}

/* The interpreter moves to another line of the current function. */
static void toy_line(struct toy_frame *f, int line) {
  atomic_store_explicit(&f->line, line, memory_order_relaxed);
}

/* ======================================================================== */
/* 2. The binding: capture and resolve                                      */
/* ======================================================================== */

/*
 * capture() runs
 *  - inside the sampling signal's handler, on the sampled thread itself,
 *    when that thread's CPU timer fires: it interrupts the interpreter
 *    between two instructions;
 *  - on the core's ticker thread, for a thread registered SC_THREAD_MAIN
 *    while that thread is blocked (to charge its off-CPU time to where it
 *    waits): the interpreter may wake up and run concurrently.
 *
 * Why capture is safe here:
 *  - It only loads: no locks, no allocation, no stdio; lock-free atomics
 *    are async-signal-safe.
 *  - Every pointer it can follow stays valid: `top` and `back` only ever
 *    point into the thread's own frame array (or are NULL), and that array
 *    lives as long as the thread is registered; `code` points at a static
 *    code object (or is NULL in a slot never used, where the walk stops).
 *  - A frame is fully written before it becomes reachable (release store
 *    of `top` in toy_enter, acquire load here), so a signal landing in the
 *    middle of a call sees either the caller's stack or the callee's, never
 *    a half-built frame.
 *  - Racing with the running interpreter (the ticker case) can at worst
 *    copy a view mixed from two moments - a line that just changed, a
 *    frame that was just left - which is a slightly wrong sample, not a
 *    crash; the walk is bounded by `max`, so even a chain that changed
 *    under it terminates.
 */
static int toy_capture(void *user, void *thread_ctx, sc_raw_frame_t *frames, size_t max,
                       size_t *n, uint32_t *flags) {
  (void)user;
  struct toy_thread *th = thread_ctx;
  struct toy_frame *f = atomic_load_explicit(&th->top, memory_order_acquire);
  size_t k = 0;
  *flags = 0;
  while (f && k < max) {
    const struct toy_code *code = atomic_load_explicit(&f->code, memory_order_relaxed);
    if (!code) break;
    frames[k].code = (uintptr_t)code;
    frames[k].pos = atomic_load_explicit(&f->line, memory_order_relaxed);
    /* The innermost frame is a builtin: the thread is inside C code the
     * runtime called, so the core charges this sample as native time. */
    if (k == 0 && code->builtin) *flags |= SC_CAPTURE_IN_NATIVE_CALL;
    k++;
    f = atomic_load_explicit(&f->back, memory_order_relaxed);
  }
  *n = k;
  return 0;
}

/* resolve() runs on the core's ticker thread (or in sc_session_stop /
 * sc_export), never in a signal handler, once per distinct raw frame.  A
 * real runtime would take its interpreter lock here and look up line
 * tables; the toy's code objects already hold everything. */
static int toy_resolve(void *user, const sc_raw_frame_t *frames, size_t n, sc_frame_info_t *out) {
  (void)user;
  for (size_t i = 0; i < n; i++) {
    const struct toy_code *code = (const struct toy_code *)frames[i].code;
    out[i].file = code->file;     /* borrowed: static strings */
    out[i].function = code->name;
    out[i].line = (int32_t)frames[i].pos;
    out[i].function_line = code->first_line;
    /* Samples are charged to the innermost PROFILED frame: builtins are
     * not user code, so time inside native_hash() lands on the toy line
     * that called it (math.toy:5), as native time. */
    out[i].flags = code->builtin ? 0 : SC_FRAME_PROFILED;
  }
  return 0;
}

/* ======================================================================== */
/* 3. The toy program                                                       */
/* ======================================================================== */

static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Stand-in for executing toy code: burn `ns` of this thread's CPU, in
 * user mode (the thread CPU clock is a system call: read it rarely). */
static void burn_cpu(uint64_t ns) {
  uint64_t start = thread_cpu_ns();
  volatile uint64_t x = 1;
  while (thread_cpu_ns() - start < ns)
    for (int i = 0; i < 20000; i++) x = x * 31 + 7;
}

#define QUANTUM_NS 1000000u /* each toy call burns 1 ms of CPU */
#define ROUNDS 400

/* fn work(): 400 times, crunch() with probability 3/4, else digest().
 * The choice is random, not alternating, so that sampling at a fixed CPU
 * interval cannot line up with a pattern and skew the ratio. */
static void toy_work(struct toy_thread *th, uint32_t seed) {
  struct toy_frame *f = toy_enter(th, &code_work);
  for (int i = 0; i < ROUNDS; i++) {
    toy_line(f, 8);
    seed = seed * 1664525u + 1013904223u; /* roll() */
    if ((seed >> 16) % 4 < 3) {
      toy_line(f, 9);
      struct toy_frame *c = toy_enter(th, &code_crunch);
      toy_line(c, 2);
      burn_cpu(QUANTUM_NS); /* interpreting toy code */
      toy_leave(th);
    } else {
      toy_line(f, 10);
      struct toy_frame *d = toy_enter(th, &code_digest);
      toy_line(d, 5);
      toy_enter(th, &code_native_hash);
      burn_cpu(QUANTUM_NS); /* inside a C builtin */
      toy_leave(th);
      toy_leave(th);
    }
  }
  toy_leave(th);
}

/* fn nap(s): sleep(s) - blocked, off the CPU. */
static void toy_nap(struct toy_thread *th, double seconds) {
  struct toy_frame *f = toy_enter(th, &code_nap);
  toy_line(f, 2);
  toy_enter(th, &code_sleep);
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  toy_leave(th);
  toy_leave(th);
}

struct worker {
  sc_session_t *session;
  struct toy_thread toy; /* valid until the worker unregisters */
};

/* A second interpreter thread: registers itself (registration must run
 * on the thread being registered), runs work(), unregisters. */
static void *worker_main(void *arg) {
  struct worker *w = arg;
  sc_thread_t *me;
  CHECK(sc_thread_register(w->session, &w->toy, 0, "toy-worker", &me));
  toy_work(&w->toy, 12345u);
  CHECK(sc_thread_unregister(me));
  return NULL;
}

/* ======================================================================== */
/* 4. Profiling it                                                          */
/* ======================================================================== */

int main(int argc, char **argv) {
  const char *out = argc > 1 ? argv[1] : "toy-profile.json";

  if (sc_version_number() / 10000 != SC_VERSION_MAJOR) {
    fprintf(stderr, "embed_toy: built for libscalenecore %s, loaded %s\n", SC_VERSION_STRING,
            sc_version_string());
    return 1;
  }

  /* Options: every option has a default; set what differs, then let the
   * environment (SCALENE_CPU_SAMPLING_RATE=0.005, ...) override. */
  sc_options_t *opts;
  CHECK(sc_options_create(&opts));
  CHECK(sc_options_parse(opts, SC_OPT_CPU_SAMPLING_RATE, "0.002")); /* 2 ms of CPU */
  const char *bad = NULL;
  int rc = sc_options_load_env(opts, &bad);
  if (rc < 0) {
    fprintf(stderr, "embed_toy: environment: option %s: %s\n", bad, sc_strerror(rc));
    return 1;
  }

  /* The binding: both callbacks, no user pointer needed. */
  sc_frame_resolver_t resolver;
  memset(&resolver, 0, sizeof resolver);
  resolver.size = sizeof resolver;
  resolver.capture = toy_capture;
  resolver.resolve = toy_resolve;

  sc_session_t *session;
  CHECK(sc_session_start(&session, opts, &resolver));
  sc_options_destroy(opts); /* the session took a copy */
  CHECK(sc_session_set_meta(session, "program", "embed_toy"));
  CHECK(sc_session_set_meta_list(session, "args", (const char *const *)argv, (size_t)argc));

  /* The main interpreter thread: SC_THREAD_MAIN also charges the time it
   * spends blocked (nap) to where it waits. */
  static struct toy_thread main_toy; /* static: zeroed, lives forever */
  sc_thread_t *main_thread;
  CHECK(sc_thread_register(session, &main_toy, SC_THREAD_MAIN, "main", &main_thread));

  struct toy_frame *f = toy_enter(&main_toy, &code_main);
  toy_line(f, 2); /* t = spawn(work) */
  struct worker w;
  memset(&w, 0, sizeof w);
  w.session = session;
  pthread_t worker;
  if (pthread_create(&worker, NULL, worker_main, &w) != 0) {
    fprintf(stderr, "embed_toy: pthread_create failed\n");
    return 1;
  }
  toy_line(f, 3); /* work() */
  toy_work(&main_toy, 777u);
  toy_line(f, 4); /* nap(0.2) */
  toy_nap(&main_toy, 0.2);
  toy_line(f, 5); /* join(t) */
  pthread_join(worker, NULL);
  toy_leave(&main_toy);

  CHECK(sc_thread_unregister(main_thread));
  /* Stop (final drain: resolve() runs here, in this thread), then export
   * atomically: readers of `out` never see a partial file. */
  CHECK(sc_session_stop(session));
  CHECK(sc_export(session, SC_FORMAT_JSON, out));

  sc_session_stats_t st;
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  CHECK(sc_session_stats(session, &st));
  printf("embed_toy: profile written to %s\n", out);
  printf("  %llu samples (%llu dropped, %llu outside profiled code) from %llu threads\n",
         (unsigned long long)st.samples, (unsigned long long)st.dropped,
         (unsigned long long)st.unattributed, (unsigned long long)st.threads);
  printf("  %.3f s charged (CPU + blocked) over %.3f s; %llu distinct frames resolved\n",
         (double)st.total_ns / 1e9, (double)st.elapsed_ns / 1e9,
         (unsigned long long)st.resolved_frames);
  printf("  expect toy/math.toy:2 ~3x the CPU of toy/math.toy:5 (native), and toy/io.toy:2"
         " blocked ~0.2 s\n");
  sc_session_free(session);
  return 0;
}
