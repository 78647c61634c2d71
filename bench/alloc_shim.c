/* bench/alloc_shim.c - the floor of any preload built on a shared mimalloc.
 *
 * Every entry point forwards to mimalloc and does nothing else: no
 * countdown, no header check, no routing of foreign pointers (so it is
 * only fit for the benchmark's own program, whose every block comes from
 * it).  bench/alloc_bench.c runs it beside plain mimalloc to show what the
 * extra call into libmimalloc.so costs by itself: Debian ships mimalloc
 * only as a shared library, so the sampling allocator's own work comes on
 * top of this. */
#include <mimalloc.h>
#include <stddef.h>

#define SHIM_API __attribute__((visibility("default")))

SHIM_API int alloc_bench_shim = 1; /* how alloc_bench recognises it */

SHIM_API void *malloc(size_t n) { return mi_malloc(n); }
SHIM_API void *calloc(size_t c, size_t s) { return mi_calloc(c, s); }
SHIM_API void *realloc(void *p, size_t n) { return mi_realloc(p, n); }
SHIM_API void free(void *p) { mi_free(p); }
SHIM_API size_t malloc_usable_size(void *p) { return mi_usable_size(p); }
SHIM_API int posix_memalign(void **out, size_t align, size_t n) {
  return mi_posix_memalign(out, align, n);
}
SHIM_API void *aligned_alloc(size_t align, size_t n) { return mi_aligned_alloc(align, n); }
SHIM_API void *memalign(size_t align, size_t n) { return mi_memalign(align, n); }
