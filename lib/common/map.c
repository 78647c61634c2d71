/* map.c - see map.h. */
#include "map.h"

#include <string.h>

static inline uint64_t load64(const unsigned char *s) {
  uint64_t w;
  memcpy(&w, s, sizeof w);
  return w;
}

uint64_t sc__hash_bytes(const void *p, size_t n) {
  /* Eight bytes at a step, each folded in with a multiply and a shift
   * (the keys are 8 to 24 bytes: a byte at a time, FNV-1a's chain of
   * dependent multiplies was most of a lookup), then the splitmix64
   * finaliser to spread the result over the low bits the map uses. */
  const unsigned char *s = p;
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
  for (; n >= 8; s += 8, n -= 8) {
    h = (h ^ load64(s)) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  if (n) {
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
  }
  return sc__mix64(h);
}

void sc__map_init(sc__map *m, size_t key_size, size_t val_size) {
  memset(m, 0, sizeof *m);
  m->key_size = key_size;
  m->val_size = val_size;
  m->val_off = (key_size + 7) & ~(size_t)7;
  m->stride = (m->val_off + val_size + 7) & ~(size_t)7;
}

void sc__map_free(sc__map *m) {
  sc__free(m->entries);
  sc__free(m->index);
  size_t k = m->key_size, v = m->val_size;
  sc__map_init(m, k, v);
}

/* The aggregator's keys are 8, 12 or 16 bytes: compared inline, not
 * through a call to memcmp. */
static inline int key_eq(const unsigned char *a, const void *key, size_t n) {
  const unsigned char *b = key;
  uint32_t x, y;
  switch (n) {
  case 8:
    return load64(a) == load64(b);
  case 12:
    memcpy(&x, a + 8, 4);
    memcpy(&y, b + 8, 4);
    return load64(a) == load64(b) && x == y;
  case 16:
    return load64(a) == load64(b) && load64(a + 8) == load64(b + 8);
  default:
    return memcmp(a, b, n) == 0;
  }
}

static size_t find_slot(const sc__map *m, const void *key, int *found) {
  size_t mask = m->nslots - 1;
  size_t i = (size_t)sc__hash_bytes(key, m->key_size) & mask;
  for (;;) {
    uint32_t e = m->index[i];
    if (e == 0) {
      *found = 0;
      return i;
    }
    if (key_eq(m->entries + (size_t)(e - 1) * m->stride, key, m->key_size)) {
      *found = 1;
      return i;
    }
    i = (i + 1) & mask;
  }
}

void *sc__map_get(const sc__map *m, const void *key) {
  if (!m->nslots) return NULL;
  int found;
  size_t s = find_slot(m, key, &found);
  if (!found) return NULL;
  return m->entries + (size_t)(m->index[s] - 1) * m->stride + m->val_off;
}

static int rehash(sc__map *m, size_t nslots) {
  uint32_t *idx = sc__calloc(nslots, sizeof *idx);
  if (!idx) return SC_ENOMEM;
  sc__free(m->index);
  m->index = idx;
  m->nslots = nslots;
  for (size_t e = 0; e < m->n; e++) {
    int found;
    size_t s = find_slot(m, m->entries + e * m->stride, &found);
    m->index[s] = (uint32_t)(e + 1);
  }
  return 0;
}

void *sc__map_upsert(sc__map *m, const void *key, int *created) {
  if (created) *created = 0;
  if ((m->n + 1) * 2 > m->nslots) {
    if (rehash(m, m->nslots ? m->nslots * 2 : 64) < 0) return NULL;
  }
  int found;
  size_t s = find_slot(m, key, &found);
  if (found) return m->entries + (size_t)(m->index[s] - 1) * m->stride + m->val_off;
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 32;
    unsigned char *e = sc__realloc(m->entries, cap * m->stride);
    if (!e) return NULL;
    m->entries = e;
    m->cap = cap;
  }
  unsigned char *ent = m->entries + m->n * m->stride;
  memset(ent, 0, m->stride);
  memcpy(ent, key, m->key_size);
  m->index[s] = (uint32_t)(++m->n);
  if (created) *created = 1;
  return ent + m->val_off;
}

size_t sc__map_len(const sc__map *m) { return m->n; }
const void *sc__map_key_at(const sc__map *m, size_t i) { return m->entries + i * m->stride; }
void *sc__map_val_at(const sc__map *m, size_t i) { return m->entries + i * m->stride + m->val_off; }

void sc__strtab_init(sc__strtab *t) {
  memset(t, 0, sizeof *t);
  sc__map_init(&t->map, sizeof(uint64_t), sizeof(uint32_t));
}

void sc__strtab_free(sc__strtab *t) {
  for (size_t i = 0; i < t->n; i++) sc__free(t->strs[i]);
  sc__free(t->strs);
  sc__free(t->next);
  sc__map_free(&t->map);
  sc__strtab_init(t);
}

int64_t sc__strtab_intern(sc__strtab *t, const char *s) {
  if (!s) s = "";
  uint64_t h = sc__hash_bytes(s, strlen(s));
  int created;
  uint32_t *head = sc__map_upsert(&t->map, &h, &created);
  if (!head) return SC_ENOMEM;
  for (uint32_t id = *head; id; id = t->next[id - 1])
    if (strcmp(t->strs[id - 1], s) == 0) return id - 1;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    char **strs = sc__realloc(t->strs, cap * sizeof *strs);
    if (!strs) return SC_ENOMEM;
    t->strs = strs;
    uint32_t *next = sc__realloc(t->next, cap * sizeof *next);
    if (!next) return SC_ENOMEM;
    t->next = next;
    t->cap = cap;
  }
  char *copy = sc__strdup(s);
  if (!copy) return SC_ENOMEM;
  t->strs[t->n] = copy;
  t->next[t->n] = *head;
  *head = (uint32_t)(t->n + 1);
  return (int64_t)t->n++;
}

const char *sc__strtab_str(const sc__strtab *t, uint32_t id) {
  return id < t->n ? t->strs[id] : "";
}
