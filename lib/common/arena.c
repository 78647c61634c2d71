/* arena.c - see arena.h. */
#include "arena.h"

#include <string.h>

#ifdef SC__ASAN
#include <sanitizer/asan_interface.h>
/* poisoned bytes after every allocation */
#define REDZONE 16
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define REDZONE 0
#endif

/* The first block is small (a tiny document stays tiny); each new one is
 * twice the last, up to MAX_BLOCK, so a large document needs few blocks
 * and wastes at most one block's tail.  Sizes count the header, so that
 * the large blocks are whole huge pages (sc__pages_alloc). */
#define FIRST_BLOCK ((size_t)16 << 10)
#define MAX_BLOCK ((size_t)4 << 20)

struct sc__arena_block {
  sc__arena_block *next;
  size_t size; /* bytes of data[] */
  /* 8-byte aligned: the header is two words */
  char data[];
};

void sc__arena_init(sc__arena *a) {
  a->blocks = NULL;
  a->cur = a->end = NULL;
  a->next_size = FIRST_BLOCK;
}

void sc__arena_free(sc__arena *a) {
  sc__arena_block *b = a->blocks;
  while (b) {
    sc__arena_block *next = b->next;
    ASAN_UNPOISON_MEMORY_REGION(b->data, b->size);
    sc__pages_free(b, sizeof *b + b->size);
    b = next;
  }
  sc__arena_init(a);
}

/* A block of `total` bytes, header included. */
static sc__arena_block *new_block(size_t total) {
  sc__arena_block *b = sc__pages_alloc(total);
  if (!b) return NULL;
  b->size = total - sizeof *b;
  ASAN_POISON_MEMORY_REGION(b->data, b->size);
  return b;
}

void *sc__arena_alloc_block(sc__arena *a, size_t n) {
  if (n > SIZE_MAX / 2) return NULL;
  n = n ? (n + 7) & ~(size_t)7 : 8;
  size_t need = n + REDZONE;
  if ((size_t)(a->end - a->cur) >= need) { /* only in sanitizer builds */
    char *p = a->cur;
    a->cur += need;
    ASAN_UNPOISON_MEMORY_REGION(p, n);
    return p;
  }
  if (need > a->next_size / 4) {
    /* large: a block of its own, behind the current one, whose free tail
     * stays in use */
    if (need > SIZE_MAX - sizeof(sc__arena_block)) return NULL;
    sc__arena_block *b = new_block(sizeof(sc__arena_block) + need);
    if (!b) return NULL;
    if (a->blocks) {
      b->next = a->blocks->next;
      a->blocks->next = b;
    } else {
      b->next = NULL;
      a->blocks = b; /* cur == end: the next allocation opens a new block */
    }
    ASAN_UNPOISON_MEMORY_REGION(b->data, n);
    return b->data;
  }
  sc__arena_block *b = new_block(a->next_size);
  if (!b) return NULL;
  if (a->next_size < MAX_BLOCK) a->next_size *= 2;
  b->next = a->blocks;
  a->blocks = b;
  a->cur = b->data + need;
  a->end = b->data + b->size;
  ASAN_UNPOISON_MEMORY_REGION(b->data, n);
  return b->data;
}

char *sc__arena_strndup(sc__arena *a, const char *s, size_t n) {
  if (n > SIZE_MAX / 2) return NULL;
  char *d = sc__arena_alloc(a, n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}
