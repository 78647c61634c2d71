/* mem_sighandler.c - a C-level SIGALRM handler that calls malloc, calloc,
 * realloc and free (test helper for mem_sighandler.py; the test compiles
 * it with `cc -shared -fPIC`).
 *
 * Allocating in a signal handler is not async-signal-safe by POSIX, yet
 * real programs do it; what the profiler must not add is a crash or a
 * deadlock of its own (its sampler and sink running inside the handler,
 * re-entered from the handler while the main thread is in them).  The
 * handler keeps up to 32 blocks in a ring, so its frees come later, from
 * another handler call. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define RING 32
static void *ring[RING];
static volatile unsigned long long n_calls, n_bytes, n_failed;
static unsigned long long rng = 88172645463325252ull;

static unsigned long long next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void on_alarm(int sig) {
  (void)sig;
  int saved = errno;
  unsigned long long r = next();
  size_t n = 64 + (size_t)(r % (1u << 20)); /* 64 B .. 1 MiB */
  unsigned slot = (unsigned)((r >> 32) % RING);
  free(ring[slot]);
  void *p = (r & 1) ? malloc(n) : calloc(1, n);
  if (p) memset(p, 0x5a, n < 4096 ? n : 4096);
  else n_failed++;
  /* grow it: realloc of a (possibly sampled) block, inside the handler */
  void *q = p ? realloc(p, n + 65536) : NULL;
  if (q) p = q;
  ring[slot] = p;
  n_bytes += p ? n + 65536 : 0;
  n_calls++;
  errno = saved;
}

int msh_start(long interval_us) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGALRM, &sa, NULL) != 0) return -1;
  struct itimerval it;
  it.it_interval.tv_sec = interval_us / 1000000;
  it.it_interval.tv_usec = interval_us % 1000000;
  it.it_value = it.it_interval;
  return setitimer(ITIMER_REAL, &it, NULL);
}

void msh_stop(void) {
  struct itimerval it;
  memset(&it, 0, sizeof it);
  setitimer(ITIMER_REAL, &it, NULL);
  signal(SIGALRM, SIG_IGN);
  for (int i = 0; i < RING; i++) {
    free(ring[i]);
    ring[i] = NULL;
  }
}

unsigned long long msh_calls(void) { return n_calls; }
unsigned long long msh_bytes(void) { return n_bytes; }
unsigned long long msh_failed(void) { return n_failed; }
