/* map.h - open-addressing hash map with fixed-size keys and values stored
 * inline in one array (insertion order preserved, entries never move
 * between calls except on growth).  Used by the aggregator and the
 * string interner; never used on the signal path. */
#ifndef SC_MAP_H
#define SC_MAP_H

#include "internal.h"

typedef struct sc__map {
  size_t key_size, val_size, stride;
  size_t val_off; /* values start 8-aligned after the key */
  unsigned char *entries; /* n entries of [key | value], insertion order */
  size_t n, cap;
  uint32_t *index; /* slots: entry index + 1, 0 = empty */
  size_t nslots;
} sc__map;

void sc__map_init(sc__map *m, size_t key_size, size_t val_size);
void sc__map_free(sc__map *m);
/* Find the value of `key`; NULL if absent. */
void *sc__map_get(const sc__map *m, const void *key);
/* Find or insert (value zero-filled); *created tells which.  NULL on OOM.
 * The pointer is valid until the next insertion. */
void *sc__map_upsert(sc__map *m, const void *key, int *created);
size_t sc__map_len(const sc__map *m);
const void *sc__map_key_at(const sc__map *m, size_t i);
void *sc__map_val_at(const sc__map *m, size_t i);
uint64_t sc__hash_bytes(const void *p, size_t n);

/* The splitmix64 finaliser: every bit of x affects every bit of the
 * result. */
static inline uint64_t sc__mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

/* String interner: strings get dense ids 0..n-1. */
typedef struct sc__strtab {
  sc__map map; /* key: uint64 hash, value: uint32 chain head + 1 */
  char **strs;
  uint32_t *next; /* collision chain per id */
  size_t n, cap;
} sc__strtab;

void sc__strtab_init(sc__strtab *t);
void sc__strtab_free(sc__strtab *t);
/* Intern `s`; returns its id or a negative error. */
int64_t sc__strtab_intern(sc__strtab *t, const char *s);
const char *sc__strtab_str(const sc__strtab *t, uint32_t id);

#endif
