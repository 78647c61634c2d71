/* autostart.c - profiling a program that is not Python: when the preload
 * finds SCALENE_NATIVE_OUTFILE in the environment it starts a native
 * session (CPU samples of the main thread and sampled allocations of every
 * thread, symbolized with DWARF) before main() and writes the profile when
 * the program exits.  Options come from SCALENE_* variables as for any
 * session.  SCALENE_NATIVE_PID ties the variable to the first process that
 * saw it, so the program's own children are not profiled into the same
 * file while programs it execs in its place are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scalenecore.h"

static sc_session_t *g_session;
static sc_thread_t *g_main;
static char *g_outfile;
static int g_marker; /* the main thread's registration context */

static pid_t g_pid;

static void finish(void) {
  if (!g_session || getpid() != g_pid) return; /* a forked child: the parent writes */
  sc_session_t *s = g_session;
  g_session = NULL;
  if (sc_session_stop(s) == 0) {
    int rc = sc_export(s, sc_format_from_path(g_outfile), g_outfile);
    if (rc < 0)
      fprintf(stderr, "scalene: could not write %s: %s\n", g_outfile, sc_strerror(rc));
  }
  /* The session is not freed: other threads may still run until exit. */
}

/* "program" and "args" from /proc/self/cmdline, as a Python run has them. */
static void set_program_meta(sc_session_t *s) {
  char buf[8192];
  FILE *f = fopen("/proc/self/cmdline", "r");
  if (!f) return;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  if (n == 0) return;
  const char *args[256];
  size_t na = 0;
  for (size_t i = strlen(buf) + 1; i < n && na < 256; i += strlen(buf + i) + 1) args[na++] = buf + i;
  char exe[4096];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len > 0) exe[len] = '\0';
  sc_session_set_meta(s, "program", len > 0 ? exe : buf);
  sc_session_set_meta(s, "filename", len > 0 ? exe : buf);
  sc_session_set_meta_list(s, "args", args, na);
}

__attribute__((constructor(102))) static void autostart(void) {
  const char *out = getenv("SCALENE_NATIVE_OUTFILE");
  if (!out || !*out) return;
  /* The profiled process is the first one to see the variable, and the
   * images it execs (same pid: `env prog`, shell `exec`); the processes it
   * forks are not, they find another pid here. */
  g_pid = getpid();
  const char *owner = getenv("SCALENE_NATIVE_PID");
  if (owner && *owner && strtol(owner, NULL, 10) != (long)g_pid) return;
  char pid[24];
  snprintf(pid, sizeof pid, "%ld", (long)g_pid);
  setenv("SCALENE_NATIVE_PID", pid, 1);
  g_outfile = strdup(out);
  if (!g_outfile) return;
  sc_options_t *opts = NULL;
  const char *bad = NULL;
  int rc = sc_options_create(&opts);
  if (rc == 0) rc = sc_options_load_env(opts, &bad);
  if (rc < 0) {
    fprintf(stderr, "scalene: %s%s%s\n", sc_strerror(rc), bad ? ": " : "", bad ? bad : "");
    sc_options_destroy(opts);
    return;
  }
  rc = sc_session_start(&g_session, opts, NULL);
  sc_options_destroy(opts);
  if (rc < 0) {
    fprintf(stderr, "scalene: could not start profiling: %s\n", sc_strerror(rc));
    g_session = NULL;
    return;
  }
  if (sc_thread_register(g_session, &g_marker, SC_THREAD_MAIN, "main", &g_main) < 0) g_main = NULL;
  set_program_meta(g_session);
  atexit(finish);
}
