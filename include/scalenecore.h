/*
 * scalenecore.h - the one public header of libscalenecore.
 *
 * libscalenecore is the engine of a sampling CPU profiler for language
 * runtimes (CPython first).  An embedder starts a session, registers the
 * threads it wants sampled and a frame resolver that turns an interrupted
 * thread into language-level frames, and exports the aggregated profile.
 *
 * Conventions (see docs/c-api.md for the long form):
 *  - Every fallible call returns int: 0 on success, a negative SC_E* code on
 *    failure.  Results come back through out-parameters, which are left
 *    untouched on failure.  sc_strerror() names every code.
 *  - Handles are opaque.  What the library allocates is released by the
 *    matching sc_*_free / sc_*_destroy / sc_session_free; never free() it.
 *    Destroying NULL is a no-op.
 *  - Structs the caller fills for the library begin with a `size` member the
 *    caller sets to sizeof(the struct); the library reads only what that
 *    size covers, so later versions can append members without breaking the
 *    ABI.
 *  - The library never prints and never calls exit() or abort().
 *  - Each prototype states "Thread-safety:" and "Async-signal-safe:".
 *
 * This header includes only <stddef.h>, <stdint.h> and <stdbool.h> and
 * compiles as C99 and as C++.
 */
#ifndef SCALENECORE_H
#define SCALENECORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SC_BUILDING_LIBRARY) && defined(__GNUC__)
#define SC_API __attribute__((visibility("default")))
#else
#define SC_API
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define SC_VERSION_MAJOR 1
#define SC_VERSION_MINOR 0
#define SC_VERSION_PATCH 0
#define SC_VERSION_NUMBER \
  (SC_VERSION_MAJOR * 10000 + SC_VERSION_MINOR * 100 + SC_VERSION_PATCH)
#define SC__STR2(x) #x
#define SC__STR(x) SC__STR2(x)
#define SC_VERSION_STRING \
  SC__STR(SC_VERSION_MAJOR) "." SC__STR(SC_VERSION_MINOR) "." SC__STR(SC_VERSION_PATCH)

/* The version of the library actually loaded, as SC_VERSION_NUMBER would
 * compute it (major*10000 + minor*100 + patch).
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API unsigned sc_version_number(void);

/* The loaded library's version as a static string, e.g. "1.0.0".
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API const char *sc_version_string(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* X-macro: name, pinned value, message.  Values are never renumbered. */
#define SC_ERRNO_MAP(XX)                                              \
  XX(INVAL, -1, "invalid argument")                                   \
  XX(NOMEM, -2, "out of memory")                                      \
  XX(STATE, -3, "operation not valid in the current state")           \
  XX(IO, -4, "input/output error")                                    \
  XX(RANGE, -5, "value out of range")                                 \
  XX(NOTSUP, -6, "operation not supported")                           \
  XX(NOENT, -7, "no such entry")                                      \
  XX(FORMAT, -8, "malformed input")                                   \
  XX(SYS, -9, "system call failed")                                   \
  XX(TYPE, -10, "value has the wrong type")                           \
  XX(EXISTS, -11, "entry already exists")                             \
  XX(FORKED, -12, "session belongs to the parent of a forked process")

typedef enum sc_error {
  SC_OK = 0,
#define SC__ERR_ENUM(name, val, msg) SC_E##name = (val),
  SC_ERRNO_MAP(SC__ERR_ENUM)
#undef SC__ERR_ENUM
  SC__ERR_LAST = -13
} sc_error_t;

/* A static, never-NULL English message for an error code; unknown codes
 * (and positive values) get "unknown error".
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API const char *sc_strerror(int err);

/* The static symbolic name of an error code ("SC_EINVAL"), or "SC_UNKNOWN".
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API const char *sc_err_name(int err);

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

/* Every option the profiler understands lives in one table in the core:
 * id, name, type, default, bounds and help.  The command line, YAML files
 * and the environment all feed the same table.  Ids are never renumbered;
 * new options get new ids. */
typedef enum sc_option {
  SC_OPT_OUTFILE = 1,                /* string  "scalene-profile.json" */
  SC_OPT_CPU_ONLY = 2,               /* bool    false */
  SC_OPT_GPU = 3,                    /* bool    false */
  SC_OPT_MEMORY = 4,                 /* bool    false */
  SC_OPT_STACKS = 5,                 /* bool    false */
  SC_OPT_PROFILE_ALL = 6,            /* bool    false */
  SC_OPT_PROFILE_ONLY = 7,           /* string  ""  (comma-separated) */
  SC_OPT_PROFILE_EXCLUDE = 8,        /* string  ""  (comma-separated) */
  SC_OPT_PROFILE_SYSTEM_LIBRARIES = 9, /* bool  false */
  SC_OPT_PROGRAM_PATH = 10,          /* string  "" (the program's folder) */
  SC_OPT_CPU_PERCENT_THRESHOLD = 11, /* double  1.0 (percent) */
  SC_OPT_CPU_SAMPLING_RATE = 12,     /* double  0.01 (seconds) */
  SC_OPT_ALLOCATION_SAMPLING_WINDOW = 13, /* int 1048576 (bytes) */
  SC_OPT_MALLOC_THRESHOLD = 14,      /* int     100 */
  SC_OPT_USE_VIRTUAL_TIME = 15,      /* bool    false */
  SC_OPT_MEMORY_LEAK_DETECTOR = 16,  /* bool    false */
  SC_OPT_REDUCED_PROFILE = 17,       /* bool    false */
  SC_OPT_OFF = 18,                   /* bool    false (start paused) */
  SC_OPT_PROFILE_INTERVAL = 19,      /* double  0 = never (seconds) */
  SC_OPT_SAMPLE_SIGNAL = 20,         /* int     0 = SIGRTMAX-3 */
  SC_OPT_MAX_FRAMES = 21,            /* int     32 frames per sample */
  SC_OPT_RING_CAPACITY = 22,         /* int     256 samples per thread */
  SC_OPT_DRAIN_INTERVAL = 23,        /* double  0.05 (seconds) */
  SC__OPT_END = 24                   /* one past the last id; grows */
} sc_option_t;

typedef enum sc_option_type {
  SC_OPTTYPE_BOOL = 1,
  SC_OPTTYPE_INT = 2,
  SC_OPTTYPE_DOUBLE = 3,
  SC_OPTTYPE_STRING = 4
} sc_option_type_t;

/* Flags of sc_option_info_t.flags. */
#define SC_OPTFLAG_ADVANCED 0x1u /* shown by --help-advanced only */
#define SC_OPTFLAG_CORE 0x2u     /* consumed by the core itself */

typedef struct sc_option_info {
  size_t size;               /* caller sets sizeof(sc_option_info_t) */
  sc_option_t id;
  const char *name;          /* "cpu-sampling-rate": static string */
  sc_option_type_t type;
  const char *help;          /* static string */
  const char *default_text;  /* default rendered as text: static string */
  double min_value;          /* bounds for INT and DOUBLE options */
  double max_value;
  uint32_t flags;            /* SC_OPTFLAG_* */
} sc_option_info_t;

/* Describe option `id`.  Unknown id: SC_ENOENT.  info->size must be set.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API int sc_option_info(sc_option_t id, sc_option_info_t *info);

/* Find an option by its name ("cpu-sampling-rate"; '_' matches '-').
 * Unknown name: SC_ENOENT.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API int sc_option_find(const char *name, sc_option_t *id);

/* A set of option values, every option at its default until set. */
typedef struct sc_options sc_options_t;

/* Create an option set holding the defaults.  Free with sc_options_destroy.
 * Errors: SC_EINVAL (out is NULL), SC_ENOMEM.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_options_create(sc_options_t **out);

/* Free an option set; NULL is a no-op.
 * Since: 1.0.  Thread-safety: not with concurrent use of the same set.
 * Async-signal-safe: no. */
SC_API void sc_options_destroy(sc_options_t *opts);

/* Typed setters.  Errors: SC_EINVAL (NULL set or string), SC_ENOENT
 * (unknown id), SC_ETYPE (the option has
 * another type), SC_ERANGE (outside the option's bounds), SC_ENOMEM.
 * Strings are copied.
 * Since: 1.0.  Thread-safety: one writer per set.  Async-signal-safe: no. */
SC_API int sc_options_set_bool(sc_options_t *opts, sc_option_t id, bool v);
SC_API int sc_options_set_int(sc_options_t *opts, sc_option_t id, int64_t v);
SC_API int sc_options_set_double(sc_options_t *opts, sc_option_t id, double v);
SC_API int sc_options_set_string(sc_options_t *opts, sc_option_t id,
                                 const char *v);

/* Set an option from text, as a command line or config file spells it:
 * bools accept true/false/yes/no/on/off/1/0, numbers must parse whole and
 * lie within the bounds.  Errors: SC_EINVAL, SC_ENOENT, SC_EFORMAT (does not parse as
 * the option's type), SC_ERANGE, SC_ENOMEM.
 * Since: 1.0.  Thread-safety: one writer per set.  Async-signal-safe: no. */
SC_API int sc_options_parse(sc_options_t *opts, sc_option_t id,
                            const char *text);

/* Typed getters.  Errors: SC_EINVAL, SC_ENOENT, SC_ETYPE.  A string result is
 * borrowed: valid until the option is set again or the set is destroyed.
 * Since: 1.0.  Thread-safety: safe without concurrent writers.
 * Async-signal-safe: no. */
SC_API int sc_options_get_bool(const sc_options_t *opts, sc_option_t id,
                               bool *v);
SC_API int sc_options_get_int(const sc_options_t *opts, sc_option_t id,
                              int64_t *v);
SC_API int sc_options_get_double(const sc_options_t *opts, sc_option_t id,
                                 double *v);
SC_API int sc_options_get_string(const sc_options_t *opts, sc_option_t id,
                                 const char **v);

/* Whether option `id` was set explicitly (by a setter, sc_options_parse,
 * the environment or a config file) rather than left at its default.
 * Errors: SC_EINVAL, SC_ENOENT.
 * Since: 1.0.  Thread-safety: safe without concurrent writers.
 * Async-signal-safe: no. */
SC_API int sc_options_is_set(const sc_options_t *opts, sc_option_t id,
                             bool *set);

/* Apply SCALENE_<NAME> environment variables (name upper-cased, '-' as
 * '_', e.g. SCALENE_CPU_SAMPLING_RATE=0.005) to the set.  On a bad value
 * returns its error and, when bad_name is not NULL, stores the static name
 * of the offending option there.
 * Since: 1.0.  Thread-safety: one writer per set; reads the environment.
 * Async-signal-safe: no. */
SC_API int sc_options_load_env(sc_options_t *opts, const char **bad_name);

/* ------------------------------------------------------------------------ */
/* Frame resolution: the language binding's side of the contract            */
/* ------------------------------------------------------------------------ */

/* A frame as captured on the sampling path: opaque to the core.  For
 * CPython `code` is a code object's address and `pos` an instruction
 * offset; another runtime may put anything stable in them. */
typedef struct sc_raw_frame {
  uintptr_t code;
  int64_t pos;
} sc_raw_frame_t;

/* capture() flag: the innermost captured frame is executing a call into
 * native code (for CPython: the frame's current instruction is a call). */
#define SC_CAPTURE_IN_NATIVE_CALL 0x1u

/* resolve() flag: report samples landing in this frame (it belongs to code
 * the user asked to profile).  Samples are charged to the innermost frame
 * that has this flag. */
#define SC_FRAME_PROFILED 0x1u
/* resolve() flag: the raw frame no longer names live code; drop it. */
#define SC_FRAME_INVALID 0x2u

typedef struct sc_frame_info {
  size_t size;            /* set by the core before resolve() */
  const char *file;       /* borrowed: valid until the next resolve() */
  const char *function;   /* borrowed: valid until the next resolve() */
  int32_t line;           /* 1-based source line of `pos`, 0 unknown */
  int32_t function_line;  /* first line of the function, 0 unknown */
  uint32_t flags;         /* SC_FRAME_* */
} sc_frame_info_t;

typedef struct sc_frame_resolver {
  size_t size; /* caller sets sizeof(sc_frame_resolver_t) */
  void *user;  /* passed back to both callbacks */

  /* Capture up to `max` frames of the thread whose registration context is
   * `thread_ctx`, innermost first, into `frames`; store the count in *n and
   * SC_CAPTURE_* bits in *flags.  Return 0, or a negative code to drop the
   * sample.  Runs inside a signal handler on the sampled thread, or on the
   * core's ticker thread while the sampled thread is blocked: it must be
   * async-signal-safe and reentrant, and must read the runtime's memory by
   * copying it safely (a frame may be torn down concurrently). */
  int (*capture)(void *user, void *thread_ctx, sc_raw_frame_t *frames,
                 size_t max, size_t *n, uint32_t *flags);

  /* Resolve `n` raw frames the core has not seen before into `out[i]`.
   * Runs on the core's ticker thread, or on the thread calling sc_export,
   * sc_export_buffer or sc_session_snapshot (they drain first), never in a
   * signal handler, at most once per distinct live raw frame (a frame
   * answered SC_FRAME_INVALID is asked about again later): the
   * core caches the answer, so the binding must keep whatever `code` names
   * alive (and at the same address) for as long as the session exists.
   * It may take the runtime's locks (CPython: the GIL), so callers of the
   * functions above must not hold such a lock.  Return 0 or a negative
   * code (the batch's samples are then dropped and counted as dropped). */
  int (*resolve)(void *user, const sc_raw_frame_t *frames, size_t n,
                 sc_frame_info_t *out);
} sc_frame_resolver_t;

/* ------------------------------------------------------------------------ */
/* Sessions                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct sc_session sc_session_t;
typedef struct sc_thread sc_thread_t;

/* Start a profiling session with a copy of `opts` (NULL: defaults) and the
 * frame resolver `resolver` (copied; must have both callbacks).  With
 * `resolver` NULL the session is native: samples are charged to the
 * interrupted or calling machine code, symbolized to function, source file
 * and line with the DWARF information of the process's modules.  Starts the
 * core's ticker thread and installs the sampling signal's handler (the
 * option SC_OPT_SAMPLE_SIGNAL picks the signal; the program's own handlers
 * for every other signal are untouched).  No thread is sampled until it is
 * registered with sc_thread_register.  At most one session runs at a time.
 * Errors: SC_EINVAL, SC_ESTATE (another session exists: stopped sessions
 * count until sc_session_free),
 * SC_ENOMEM, SC_ESYS (signal or thread setup failed).
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_session_start(sc_session_t **out, const sc_options_t *opts,
                            const sc_frame_resolver_t *resolver);

/* Stop sampling: disarm every thread's timer, stop the ticker thread after
 * a final drain (which calls resolve() on the ticker thread: a binding that
 * holds a lock resolve() takes must release it around this call), and
 * freeze the aggregate.  The session can still be exported.  Stopping a
 * stopped session returns 0.  Errors: SC_EINVAL.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_session_stop(sc_session_t *s);

/* Stop if needed and free the session and every sc_thread_t it issued.
 * NULL is a no-op.
 * Since: 1.0.  Thread-safety: no other call on `s` may be in progress.
 * Async-signal-safe: no. */
SC_API void sc_session_free(sc_session_t *s);

/* Pause / resume sampling (the --off/--on switch).  While paused, samples
 * are discarded and time does not count.  Errors: SC_EINVAL, SC_ESTATE
 * (stopped).
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API int sc_session_pause(sc_session_t *s);
SC_API int sc_session_resume(sc_session_t *s);

/* Whether the session is currently sampling (started, not paused, not
 * stopped); false in a forked child for its parent's session.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API bool sc_session_is_sampling(const sc_session_t *s);

/* Declare [lo, hi) as code of the language runtime's interpreter.  A CPU
 * sample whose interrupted program counter lies outside every declared
 * range is charged as native time; inside one, as language time unless
 * capture() reported SC_CAPTURE_IN_NATIVE_CALL.  Without any range, only
 * that capture flag decides.  Errors: SC_EINVAL, SC_ERANGE (more than 64).
 * Since: 1.0.  Thread-safety: call before registering threads.
 * Async-signal-safe: no. */
SC_API int sc_session_add_runtime_range(sc_session_t *s, uintptr_t lo,
                                        uintptr_t hi);

/* Attach a string (or list of strings) of metadata to the exported profile
 * ("program", "args", "entrypoint_dir", ...); set again to replace.  The
 * strings are copied.  Errors: SC_EINVAL, SC_ENOMEM, SC_EFORKED.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_session_set_meta(sc_session_t *s, const char *key,
                               const char *value);
SC_API int sc_session_set_meta_list(sc_session_t *s, const char *key,
                                    const char *const *values, size_t n);

/* Thread registration flags. */
#define SC_THREAD_MAIN 0x1u     /* also charge its off-CPU (blocked) time;
                                   up to 8 such threads are watched */
#define SC_THREAD_NO_TIMER 0x2u /* the embedder calls sc_sample itself */

/* Register the calling thread for sampling.  `thread_ctx` (not NULL) is
 * handed to the resolver's capture() (CPython: the thread's PyThreadState)
 * and must stay valid until sc_thread_unregister returns.  Unless SC_THREAD_NO_TIMER, a timer on
 * the thread's own CPU clock fires every SC_OPT_CPU_SAMPLING_RATE seconds
 * of CPU the thread burns, so a blocked thread costs nothing and is never
 * interrupted.  `name` (may be NULL) is copied and shown in profiles.
 * The handle stays owned by the session.
 * Errors: SC_EINVAL (also for a NULL thread_ctx), SC_ESTATE (stopped),
 * SC_EEXISTS (already registered), SC_ENOMEM, SC_ESYS (timer_create or
 * timer_settime failed), SC_ERANGE (4096 threads registered at once), SC_EFORKED (the
 * session belongs to the parent process).
 * Since: 1.0.  Thread-safety: safe; must run on the thread registered.
 * Async-signal-safe: no. */
SC_API int sc_thread_register(sc_session_t *s, void *thread_ctx,
                              uint32_t flags, const char *name,
                              sc_thread_t **out);

/* Unregister the calling thread: its timer is deleted and its pending
 * samples are kept.  When it returns `thread_ctx` is no longer read (it
 * waits for a capture of it in flight on the ticker thread).  The handle
 * must not be used again.  In a forked child it only marks the thread
 * gone and takes no lock.  Errors: SC_EINVAL.
 * Since: 1.0.  Thread-safety: safe; must run on the registered thread.
 * Async-signal-safe: no. */
SC_API int sc_thread_unregister(sc_thread_t *t);

/* What one sample stands for. */
typedef struct sc_sample_info {
  size_t size;          /* caller sets sizeof(sc_sample_info_t) */
  uint64_t cpu_ns;      /* on-CPU time charged, user plus kernel */
  uint64_t sys_ns;      /* part of cpu_ns spent in the kernel (clamped to it) */
  uint64_t blocked_ns;  /* off-CPU wall time charged (I/O, sleep, waits) */
  uint64_t wall_ns;     /* wall time of the interval, 0: use the ticker's utilization */
  uint64_t proc_cpu_ns; /* process-wide CPU time over that interval */
  uintptr_t pc;         /* interrupted program counter, 0 if unknown */
} sc_sample_info_t;

/* Record one sample of thread `t`: capture its frames through the
 * resolver and push them with `info` into the thread's preallocated ring,
 * which the ticker thread drains.  Never allocates and takes no lock; a
 * full ring, a nested call or a capture() that fails drops the sample and
 * counts it.  With info->wall_ns == 0 the core stamps the sample with the
 * process-wide core utilization its ticker measured last.
 * Returns 0, SC_ESTATE (paused or stopped; nothing recorded) or
 * SC_EINVAL.
 * Since: 1.0.  Thread-safety: only on thread `t` itself (one producer per
 * ring).  Async-signal-safe: yes. */
SC_API int sc_sample(sc_thread_t *t, const sc_sample_info_t *info);

/* ------------------------------------------------------------------------ */
/* Memory: the sampling allocator's events                                   */
/* ------------------------------------------------------------------------ */

/* Memory profiling needs the sampling allocator preloaded into the process
 * (libscalenecore_preload.so through LD_PRELOAD; `scalene run` does it).
 * A session started without SC_OPT_CPU_ONLY attaches to it: allocations
 * are sampled by bytes (SC_OPT_ALLOCATION_SAMPLING_WINDOW is the mean
 * distance between samples), each sample is charged to the line the
 * resolver's capture() finds (native sessions: the allocating call site),
 * and frees of sampled blocks are matched exactly.  Without the preload
 * the profile says why memory is missing ("memory_reason"). */

/* What an event is. */
typedef enum sc_alloc_kind {
  SC_ALLOC_MALLOC = 1,  /* a sampled allocation */
  SC_ALLOC_FREE = 2,    /* a sampled block freed */
  SC_ALLOC_REALLOC = 3, /* a sampled block moved or grew */
  SC_ALLOC_COPY = 4     /* a sampled copy: memcpy/memmove (under the Python
                           binding also numpy's element conversions) */
} sc_alloc_kind_t;

/* One sampled memory event, as the hook receives it. */
typedef struct sc_alloc_event {
  size_t size;           /* sizeof(sc_alloc_event_t) of the library */
  sc_alloc_kind_t kind;
  int python;            /* 1: through CPython's allocator, 0: native */
  uint64_t bytes;        /* requested bytes (growth for a realloc) */
  uint64_t weight;       /* bytes the sample stands for (unbiased) */
  uintptr_t address;     /* the block (0 for copies) */
  uintptr_t old_address; /* SC_ALLOC_REALLOC: where the block was */
  int32_t tid;           /* the thread that allocated, freed or copied */
  uint64_t time_ns;      /* since the session started */
  const char *file;      /* where, as the resolver said; NULL: unknown */
  const char *function;  /* NULL: unknown */
  int32_t line;          /* 0: unknown */
} sc_alloc_event_t;

/* Receives events after the core resolved their location; `ev` and its
 * strings are borrowed for the duration of the call. */
typedef void (*sc_alloc_hook_fn)(void *user, const sc_alloc_event_t *ev);

/* Install (or with `fn` NULL remove) the session's allocation hook.  The
 * hook runs on the core's ticker thread, or on a thread calling sc_export
 * (they drain first), in the order events happened, never inside the
 * allocator: it may allocate and take locks, but must not call back into
 * this session's drain (sc_export, sc_session_snapshot).
 * Errors: SC_EINVAL.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_alloc_hook(sc_session_t *s, sc_alloc_hook_fn fn, void *user);

/* Counters about the sampling machinery itself. */
typedef struct sc_session_stats {
  size_t size;              /* caller sets sizeof(sc_session_stats_t) */
  uint64_t samples;         /* samples aggregated */
  uint64_t dropped;         /* samples lost: a full ring, a nested call, a
                               failed capture(), or a batch whose resolve()
                               failed */
  uint64_t unattributed;    /* samples with no profiled frame */
  uint64_t resolved_frames; /* distinct raw frames resolved */
  uint64_t threads;         /* threads ever registered */
  uint64_t total_ns;        /* all time charged, every thread */
  uint64_t elapsed_ns;      /* wall time since start (or until stop) */
} sc_session_stats_t;

/* Fill `st` (st->size must be set).  Errors: SC_EINVAL, SC_EFORKED.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_session_stats(sc_session_t *s, sc_session_stats_t *st);

/* ------------------------------------------------------------------------ */
/* Export                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum sc_format {
  SC_FORMAT_JSON = 1,         /* Scalene-compatible JSON, docs/profile-format.md */
  SC_FORMAT_MSGPACK_ZSTD = 2, /* one MessagePack document in one zstd frame */
  SC_FORMAT_HTML = 3          /* self-contained HTML report (export only) */
} sc_format_t;

/* Write the session's profile to `path` in `format`: to a temporary file
 * in the same folder, flushed, then renamed over `path`, so readers never
 * see a half-written profile.  Drains pending samples first.  Reads the
 * profiled source files to include their text.  A session that only
 * exists in a forked child (its parent owns it) refuses with SC_EFORKED.
 * Errors: SC_EINVAL, SC_ENOTSUP (format), SC_EIO (write failed; nothing
 * replaced), SC_ENOMEM, SC_EFORKED.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_export(sc_session_t *s, sc_format_t format, const char *path);

/* Render the session's profile into a buffer the library allocates;
 * release it with sc_buffer_free.  Same errors as sc_export but SC_EIO.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_export_buffer(sc_session_t *s, sc_format_t format, char **buf,
                            size_t *len);

/* Free a buffer from sc_export_buffer / sc_profile_export_buffer; NULL is
 * a no-op.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API void sc_buffer_free(char *buf);

/* The format a file name asks for: ".msgpack.zst" -> SC_FORMAT_MSGPACK_ZSTD,
 * ".html"/".htm" -> SC_FORMAT_HTML, anything else -> SC_FORMAT_JSON.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: yes. */
SC_API sc_format_t sc_format_from_path(const char *path);

/* ------------------------------------------------------------------------ */
/* Profiles: loaded, merged, exported again                                 */
/* ------------------------------------------------------------------------ */

/* A profile document detached from any session. */
typedef struct sc_profile sc_profile_t;

/* Snapshot the session's profile as it stands (drains first).  Free with
 * sc_profile_free.  Errors: as sc_export_buffer.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_session_snapshot(sc_session_t *s, sc_profile_t **out);

/* Load a profile file in any format sc_export writes except HTML; the
 * format is detected from the content, not the name.  Errors: SC_EINVAL,
 * SC_ENOENT, SC_EIO, SC_EFORMAT (not a profile, truncated, corrupt, an
 * unsupported format version, nesting or sizes beyond sane limits),
 * SC_ENOMEM.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_profile_load(const char *path, sc_profile_t **out);

/* The same from memory (copied).
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_profile_load_buffer(const void *data, size_t len,
                                  sc_profile_t **out);

/* Export a profile like sc_export does a session (atomic write).
 * Since: 1.0.  Thread-safety: safe for concurrent readers of `p`.
 * Async-signal-safe: no. */
SC_API int sc_profile_export(const sc_profile_t *p, sc_format_t format,
                             const char *path);
SC_API int sc_profile_export_buffer(const sc_profile_t *p, sc_format_t format,
                                    char **buf, size_t *len);

/* Merge `n` profiles (of several processes, ranks or hosts) into a new
 * one: times and counts add up, percentages are recomputed over the
 * combined total, and each input stays visible under "processes".
 * Errors: SC_EINVAL (n == 0 or a NULL entry), SC_EFORMAT (an input lacks
 * the fields merging needs), SC_ENOMEM.
 * Since: 1.0.  Thread-safety: safe.  Async-signal-safe: no. */
SC_API int sc_profile_merge(const sc_profile_t *const *profiles, size_t n,
                            sc_profile_t **out);

/* Free a profile; NULL is a no-op.
 * Since: 1.0.  Thread-safety: no concurrent use of `p`.
 * Async-signal-safe: no. */
SC_API void sc_profile_free(sc_profile_t *p);

/* ------------------------------------------------------------------------ */
/* Configuration files                                                       */
/* ------------------------------------------------------------------------ */

/* Where a configuration file went wrong. */
typedef struct sc_config_error {
  size_t size;         /* caller sets sizeof(sc_config_error_t) */
  int line;            /* 1-based; 0 when not about a position */
  int column;          /* 1-based; 0 when not about a position */
  char key[64];        /* the offending key, "" when none */
  char message[256];   /* one line of English, no trailing newline */
} sc_config_error_t;

/* Apply a YAML configuration file (a mapping of option names, as
 * sc_option_find spells them, to scalars) to `opts`.  Nothing is applied
 * unless the whole file is valid.  On failure `err` (if not NULL) says
 * where and why.  Errors: SC_EINVAL, SC_ENOENT, SC_EIO, SC_EFORMAT (not
 * YAML, not a mapping, an unknown key, a wrong type), SC_ERANGE,
 * SC_ENOMEM.
 * Since: 1.0.  Thread-safety: one writer per option set.
 * Async-signal-safe: no. */
SC_API int sc_config_load(sc_options_t *opts, const char *path,
                          sc_config_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* SCALENECORE_H */
