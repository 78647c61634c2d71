/* preload_abi.h - the contract between the sampling allocator preload
 * (libscalenecore_preload.so, lib/alloc/preload.c) and whichever copy of
 * the core attaches to it (the Python extension's, a C embedder's, or the
 * preload's own for plain C programs).
 *
 * The core finds the preload with dlsym(RTLD_DEFAULT, "scalenecore_preload_api"):
 * without the preload in the process the symbol is absent and memory
 * profiling reports why.  These symbols are exported by the preload but
 * are not part of the public API; their layout is versioned by
 * SC_PRELOAD_ABI and checked at attach time. */
#ifndef SC_PRELOAD_ABI_H
#define SC_PRELOAD_ABI_H

#include <stddef.h>
#include <stdint.h>

#define SC_PRELOAD_ABI 2

enum {
  SC__EV_MALLOC = 1,  /* a sampled allocation of `bytes` at `addr` */
  SC__EV_FREE = 2,    /* a sampled block at `addr` was freed */
  SC__EV_REALLOC = 3, /* a sampled block moved from `old_addr` to `addr`;
                         `weight` is what its growth adds (may be 0) */
  SC__EV_COPY = 4     /* memcpy/memmove sample: `weight` bytes copied */
};

enum { SC__DOM_NATIVE = 0, SC__DOM_PYTHON = 1 };

typedef struct sc__alloc_ev {
  int kind;         /* SC__EV_* */
  int domain;       /* SC__DOM_* */
  uintptr_t addr;
  uintptr_t old_addr;
  uint64_t bytes;   /* requested bytes (allocation or growth) */
  uint64_t weight;  /* bytes this sample stands for (unbiased estimate) */
  uintptr_t caller; /* return address into the allocating code */
  uint64_t t_ns;    /* CLOCK_MONOTONIC */
} sc__alloc_ev;

/* Called on the allocating thread, from inside malloc/free/memcpy, never
 * nested on one thread.  It must not allocate, lock, or call back into the
 * allocator. */
typedef void (*sc__alloc_sink_fn)(const sc__alloc_ev *ev);

typedef struct sc__preload_api {
  int abi; /* SC_PRELOAD_ABI */
  /* Attach `sink` (one at a time: SC_EEXISTS when another is attached) with
   * the mean bytes between allocation samples and between copy samples. */
  int (*attach)(sc__alloc_sink_fn sink, uint64_t alloc_window, uint64_t copy_window);
  /* Detach; returns once no thread is inside the sink any more. */
  void (*detach)(void);
  /* Wrap CPython's MEM and OBJ allocator domains (PyMem_SetAllocator), looked
   * up in the process; returns 0, or SC_ENOENT without CPython.  Caller
   * holds the GIL.  The wrappers stay for the life of the process. */
  int (*python_install)(void);
  /* Exclude (on != 0) or include again the calling thread: the core's own
   * threads are never sampled. */
  void (*thread_exclude)(int on);
  /* Count `n` bytes copied by the calling thread outside memcpy/memmove
   * (numpy's element-wise conversions, bindings/python/src/_npcopy.c)
   * against the same copy countdown; `caller` is the return address into
   * the copying code.  Safe on any thread, with or without a sink attached;
   * never allocates or locks, so it may be called without the GIL. */
  void (*copy_note)(size_t n, uintptr_t caller);
} sc__preload_api;

/* The one exported entry point: the preload's table of functions. */
typedef const sc__preload_api *(*sc__preload_get_fn)(void);
#define SC_PRELOAD_SYMBOL "scalenecore_preload_api"

#endif
