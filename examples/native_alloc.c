/*
 * native_alloc.c - a plain C program (no Python anywhere) to profile with
 * Scalene's native mode: CPU time and memory per source line, from the
 * DWARF line tables of the program itself.
 *
 * It does three clearly separated things, one per function:
 *
 *   keep_blocks()  allocates about 50 MB in many small blocks and keeps
 *                  them until the program exits: the profile shows the
 *                  malloc line with ~50 MB allocated and ~50 MB of growth;
 *   churn()        allocates and frees a block on every iteration of a
 *                  loop: a lot of memory allocated, ~0 growth;
 *   burn_cpu()     computes for about one second of CPU time and allocates
 *                  nothing: most of the program's CPU time lands here.
 *
 * It prints what it did, ending with one "TRUTH {...}" line of JSON (the
 * bytes it allocated in each function) that tests compare with the
 * profile, and exits with the status given as its first argument (0 by
 * default).
 *
 * Build it with debug information (-g), or the profile cannot name lines:
 *   make examples                       (build/examples/native_alloc)
 *   cc -std=c11 -O1 -g native_alloc.c -o native_alloc
 *
 * Profile it with the CLI, which runs it with the sampling allocator
 * preloaded and writes scalene-profile.json:
 *   scalene run ./native_alloc
 *   scalene run -o profile.json --allocation-sampling-window 65536 ./native_alloc --- 3
 *   scalene view --cli profile.json
 *
 * or without the CLI: the preload starts a native session on its own when
 * SCALENE_NATIVE_OUTFILE names the profile to write at exit, and reads
 * the other options from SCALENE_* variables:
 *   SCALENE_NATIVE_OUTFILE=profile.json \
 *   SCALENE_ALLOCATION_SAMPLING_WINDOW=65536 \
 *   LD_PRELOAD=/path/to/libscalenecore_preload.so ./native_alloc
 *
 * Allocations are sampled by bytes (one sample every
 * allocation-sampling-window bytes on average, 1 MiB by default): each
 * sample stands for about that many bytes, so a line's figure is an
 * estimate whose relative error is about sqrt(window / bytes).  A smaller
 * window gives sharper figures for small programs at some cost in speed.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

/* keep_blocks: 12800 blocks of 1-7 KiB (4 KiB on average), ~50 MB. */
#define KEEP_BLOCKS 12800
static char *kept[KEEP_BLOCKS];

/* churn: CHURN_ROUNDS blocks of 8 KiB, each freed before the next. */
#define CHURN_ROUNDS 8192
#define CHURN_SIZE 8192

/* burn_cpu: this much CPU time of the calling thread. */
#define BURN_SECONDS 1.0

static double thread_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Returns the bytes requested.  The blocks stay allocated until exit. */
static NOINLINE uint64_t keep_blocks(void) {
  uint64_t total = 0;
  for (int i = 0; i < KEEP_BLOCKS; i++) {
    size_t n = 1024 + (size_t)(i % 7) * 1024; /* 1..7 KiB, mean 4 KiB */
    char *p = malloc(n); /* [native_alloc: keep] */
    if (!p) {
      fprintf(stderr, "native_alloc: out of memory\n");
      exit(1);
    }
    memset(p, i & 0xff, n); /* touch it: it is really in use */
    kept[i] = p;
    total += n;
  }
  return total;
}

/* Returns the bytes requested in total; frees everything it allocates.
 * Each round does some work on its block, as real code would (a loop that
 * does nothing but malloc and free produces allocation events faster than
 * the profiler's per-thread buffer drains them, and loses some). */
static NOINLINE uint64_t churn(void) {
  uint64_t total = 0, sum = 0;
  for (int i = 0; i < CHURN_ROUNDS; i++) {
    unsigned char *p = malloc(CHURN_SIZE); /* [native_alloc: churn] */
    if (!p) {
      fprintf(stderr, "native_alloc: out of memory\n");
      exit(1);
    }
    uint32_t h = (uint32_t)i;
    for (size_t j = 0; j < CHURN_SIZE; j++) {
      h = h * 2654435761u + (uint32_t)j;
      p[j] = (unsigned char)(h >> 24);
    }
    for (size_t j = 0; j < CHURN_SIZE; j += 64) sum += p[j];
    free(p);
    total += CHURN_SIZE;
  }
  if (sum == 42) puts("(unlikely)"); /* keeps the loops from being optimised away */
  return total;
}

/* An integer hash in a loop: pure CPU, no memory traffic, no calls. */
static NOINLINE uint64_t burn_cpu(double seconds) {
  uint64_t x = 0x243f6a8885a308d3ull;
  double until = thread_cpu_seconds() + seconds;
  do {
    for (int i = 0; i < 1000000; i++) { /* [native_alloc: burn] */
      x ^= x >> 33;
      x *= 0xff51afd7ed558ccdull;
      x ^= x >> 29;
      x += (uint64_t)i;
    }
  } while (thread_cpu_seconds() < until);
  return x;
}

int main(int argc, char **argv) {
  int status = argc > 1 ? atoi(argv[1]) : 0;
  uint64_t kept_bytes = keep_blocks();
  uint64_t churn_bytes = churn();
  uint64_t h = burn_cpu(BURN_SECONDS);
  printf("native_alloc: kept %llu bytes in %d blocks, churned %llu bytes, hash %016llx\n",
         (unsigned long long)kept_bytes, KEEP_BLOCKS, (unsigned long long)churn_bytes,
         (unsigned long long)h);
  printf("TRUTH {\"keep_bytes\": %llu, \"keep_blocks\": %d, \"churn_bytes\": %llu, "
         "\"churn_rounds\": %d, \"burn_seconds\": %.2f, \"status\": %d}\n",
         (unsigned long long)kept_bytes, KEEP_BLOCKS, (unsigned long long)churn_bytes,
         CHURN_ROUNDS, BURN_SECONDS, status);
  /* kept[] is still allocated here on purpose: that is the growth. */
  return status;
}
