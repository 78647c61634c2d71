/* linux.c - the narrow primitives layer: clocks and files on Linux.
 * Everything OS-specific that the upper layers need goes through here. */
#define _GNU_SOURCE 1
#include "../common/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t ts_ns(clockid_t id) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t sc__now_ns(void) { return ts_ns(CLOCK_MONOTONIC); }
uint64_t sc__thread_cpu_ns(void) { return ts_ns(CLOCK_THREAD_CPUTIME_ID); }
uint64_t sc__process_cpu_ns(void) { return ts_ns(CLOCK_PROCESS_CPUTIME_ID); }

uint64_t sc__thread_sys_ns(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
  return (uint64_t)ru.ru_stime.tv_sec * 1000000000ull +
         (uint64_t)ru.ru_stime.tv_usec * 1000ull;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int sc__write_file_atomic(const char *path, const void *data, size_t len) {
  if (!path || !*path) return SC_EINVAL;
  size_t plen = strlen(path);
  char *tmp = sc__malloc(plen + 32);
  if (!tmp) return SC_ENOMEM;
  /* The temporary lives in the same folder so rename() is atomic; it is
   * created 0666 so the process umask applies as for any file. */
  static _Atomic unsigned counter;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
    snprintf(tmp, plen + 32, "%s.tmp.%ld.%u", path, (long)getpid(),
             (unsigned)atomic_fetch_add(&counter, 1) ^ (unsigned)(sc__now_ns() & 0xffff));
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    sc__free(tmp);
    return SC_EIO;
  }
  int rc = 0;
  if (write_all(fd, data, len) != 0 || fsync(fd) != 0) rc = SC_EIO;
  if (close(fd) != 0 && rc == 0) rc = SC_EIO;
  if (rc == 0 && rename(tmp, path) != 0) rc = SC_EIO;
  if (rc != 0) unlink(tmp);
  sc__free(tmp);
  return rc;
}

/* ---- large buffers ----------------------------------------------------- */

#define HUGE_PAGE ((size_t)2 << 20)

#ifndef SC__ASAN
static size_t pages_len(size_t n) { return (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1); }
#endif

void *sc__pages_alloc(size_t n) {
#ifndef SC__ASAN
  if (n >= SC__PAGES_MIN && n <= SIZE_MAX / 2) {
    /* a 2 MiB-aligned mapping, whole huge pages long: map one huge page
     * more than needed and unmap what sticks out on either side */
    size_t len = pages_len(n);
    char *m = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    char *p = (char *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    size_t head = (size_t)(p - m), tail = HUGE_PAGE - head;
    if (head) munmap(m, head);
    if (tail) munmap(p + len, tail);
    /* advice only: without it (or without THP) these are ordinary pages */
    (void)madvise(p, len, MADV_HUGEPAGE);
    return p;
  }
#endif
  return sc__malloc(n);
}

void sc__pages_free(void *p, size_t n) {
  if (!p) return;
#ifndef SC__ASAN
  if (n >= SC__PAGES_MIN && n <= SIZE_MAX / 2) {
    munmap(p, pages_len(n));
    return;
  }
#endif
  sc__free(p);
}

int sc__read_file_max(const char *path, size_t max, char **data, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return (errno == ENOENT || errno == ENOTDIR) ? SC_ENOENT : SC_EIO;
  struct stat st;
  int rc = 0;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) rc = SC_ERANGE;
  sc__buf b;
  sc__buf_init(&b);
  while (rc == 0) {
    if (sc__buf_reserve(&b, 65536) < 0) {
      rc = SC_ENOMEM;
      break;
    }
    ssize_t r = read(fd, b.data + b.len, 65536);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) rc = SC_EIO;
    if (r <= 0) break;
    b.len += (size_t)r;
    if (b.len > max) rc = SC_ERANGE; /* not a regular file, or it grew */
  }
  int saved = errno;
  close(fd);
  errno = saved;
  if (rc < 0) {
    sc__buf_free(&b);
    return rc;
  }
  *data = sc__buf_take(&b, len);
  return *data ? 0 : SC_ENOMEM;
}

int sc__read_file(const char *path, char **data, size_t *len) {
  return sc__read_file_max(path, SIZE_MAX, data, len);
}

int sc__schedstat_open(pid_t tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%ld/schedstat", (long)tid);
  return open(path, O_RDONLY | O_CLOEXEC);
}

uint64_t sc__schedstat_runq_ns(int fd) {
  /* "<on-cpu ns> <run-queue wait ns> <timeslices>\n" */
  if (fd < 0) return 0;
  char buf[96];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *p = strchr(buf, ' ');
  return p ? strtoull(p + 1, NULL, 10) : 0;
}
