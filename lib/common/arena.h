/* arena.h - a bump allocator: memory handed out in order from large
 * blocks and given back all at once.  Used for documents that are built
 * once and then only read (a loaded profile): a value costs a pointer bump
 * instead of a malloc, and freeing the document is one free per block.
 *
 * Allocations are 8-byte aligned and cannot be freed or resized one by
 * one.  Not thread-safe: one arena belongs to one builder.  Blocks come
 * from sc__pages_alloc (huge pages for the large ones); in
 * AddressSanitizer builds they come from malloc, so ASan and LeakSanitizer
 * see them, and each allocation is followed by a poisoned gap, so an
 * overflow from one allocation into the next is caught. */
#ifndef SC_ARENA_H
#define SC_ARENA_H

#include "internal.h"

typedef struct sc__arena_block sc__arena_block;

typedef struct sc__arena {
  sc__arena_block *blocks; /* newest first */
  char *cur, *end;         /* free part of the newest block */
  size_t next_size;        /* size of the next block */
} sc__arena;

void sc__arena_init(sc__arena *a);
/* Give back every block; the arena is empty (and usable) afterwards. */
void sc__arena_free(sc__arena *a);
/* The slow path of sc__arena_alloc: a new block. */
void *sc__arena_alloc_block(sc__arena *a, size_t n);

/* `n` bytes, 8-byte aligned, uninitialised; NULL when out of memory. */
static inline void *sc__arena_alloc(sc__arena *a, size_t n) {
#ifdef SC__ASAN
  return sc__arena_alloc_block(a, n);
#else
  n = (n + 7) & ~(size_t)7;
  if (SC_LIKELY(n && (size_t)(a->end - a->cur) >= n)) {
    void *p = a->cur;
    a->cur += n;
    return p;
  }
  return sc__arena_alloc_block(a, n);
#endif
}

/* A NUL-terminated copy of s[0..n). */
char *sc__arena_strndup(sc__arena *a, const char *s, size_t n);

#endif
