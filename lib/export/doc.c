/* doc.c - see doc.h. */
#include "doc.h"

#include <string.h>

size_t sc__utf8_valid_prefix(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    /* ASCII runs, eight bytes at a time where aligned data allows */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t need;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
      need = 2;
      cp = c & 0x1F;
      min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 3;
      cp = c & 0x0F;
      min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 4;
      cp = c & 0x07;
      min = 0x10000;
    } else {
      return i;
    }
    if (n - i < need) return i;
    for (size_t k = 1; k < need; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += need;
  }
  return n;
}

/* A multiply-xorshift hash over 8-byte words, seeded by where the library
 * was loaded (ASLR) so that colliding keys cannot be prepared offline. */
static const char seed_anchor;

static inline uint64_t mix(uint64_t h) {
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

uint32_t sc__key_hash(const char *s, size_t n) {
  uint64_t h = ((uint64_t)(uintptr_t)&seed_anchor >> 4) ^ (n * 0x9E3779B97F4A7C15ull);
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, s, 8);
    h = mix(h ^ w) + 0x9E3779B97F4A7C15ull;
    s += 8;
    n -= 8;
  }
  if (n) {
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = mix(h ^ w);
  }
  return (uint32_t)mix(h);
}

/* A cheap fingerprint of a key, compared before the bytes while the set
 * is small: its length and two of its bytes. */
static inline uint32_t tag_of(const char *key, size_t klen) {
  if (!klen) return 0;
  return (uint32_t)klen ^ ((uint32_t)(unsigned char)key[klen - 1] << 16) ^
         ((uint32_t)(unsigned char)key[klen / 2] << 24);
}

void sc__keyset_init(sc__keyset *ks) {
  ks->hashes = NULL;
  ks->n = 0;
  ks->cap = 0;
  ks->slots = NULL;
  ks->nslots = 0;
}

void sc__keyset_free(sc__keyset *ks) {
  sc__free(ks->hashes);
  sc__free(ks->slots);
  sc__keyset_init(ks);
}

static int key_eq(const char *stored, const char *key, size_t klen) {
  return memcmp(stored, key, klen) == 0 && stored[klen] == '\0';
}

/* (Re)build the slot table for `nslots` slots from the stored hashes. */
static int keyset_rehash(sc__keyset *ks, size_t nslots) {
  uint32_t *slots = sc__calloc(nslots, sizeof *slots);
  if (!slots) return SC_ENOMEM;
  size_t mask = nslots - 1;
  for (size_t i = 0; i < ks->n; i++) {
    size_t j = ks->hashes[i] & mask;
    while (slots[j]) j = (j + 1) & mask;
    slots[j] = (uint32_t)(i + 1);
  }
  sc__free(ks->slots);
  ks->slots = slots;
  ks->nslots = nslots;
  return 0;
}

ptrdiff_t sc__keyset_find(const sc__keyset *ks, const char *const *keys, const char *key,
                          size_t klen) {
  if (!ks->slots) {
    uint32_t t = tag_of(key, klen);
    for (size_t i = 0; i < ks->n; i++)
      if (ks->inline_tags[i] == t && key_eq(keys[i], key, klen)) return (ptrdiff_t)i;
    return -1;
  }
  uint32_t h = sc__key_hash(key, klen);
  size_t mask = ks->nslots - 1;
  for (size_t j = h & mask; ks->slots[j]; j = (j + 1) & mask) {
    size_t i = ks->slots[j] - 1;
    if (ks->hashes[i] == h && key_eq(keys[i], key, klen)) return (ptrdiff_t)i;
  }
  return -1;
}

int sc__keyset_insert(sc__keyset *ks, const char *const *keys, size_t klen) {
  const char *key = keys[ks->n];
  if (ks->n < SC__KEYSET_INLINE) {
    ks->inline_tags[ks->n++] = tag_of(key, klen);
    return 0;
  }
  if (!ks->slots) {
    /* the set outgrew linear search: hash every key so far */
    size_t cap = 2 * SC__KEYSET_INLINE;
    ks->hashes = sc__malloc(cap * sizeof *ks->hashes);
    if (!ks->hashes) return SC_ENOMEM;
    ks->cap = cap;
    for (size_t i = 0; i < ks->n; i++) ks->hashes[i] = sc__key_hash(keys[i], strlen(keys[i]));
    if (keyset_rehash(ks, 4 * SC__KEYSET_INLINE) < 0) return SC_ENOMEM;
  }
  if (ks->n == ks->cap) {
    size_t cap = ks->cap * 2;
    uint32_t *hs = sc__realloc(ks->hashes, cap * sizeof *hs);
    if (!hs) return SC_ENOMEM;
    ks->hashes = hs;
    ks->cap = cap;
  }
  uint32_t h = sc__key_hash(key, klen);
  ks->hashes[ks->n++] = h;
  if (ks->n * 2 > ks->nslots) return keyset_rehash(ks, ks->nslots * 2);
  size_t mask = ks->nslots - 1, j = h & mask;
  while (ks->slots[j]) j = (j + 1) & mask;
  ks->slots[j] = (uint32_t)ks->n;
  return 0;
}

void sc__objkeys_begin(sc__objkeys *ok, const sc__shape *shape) {
  ok->shape = *shape;
  ok->n = 0;
  ok->on_shape = shape->n > 0;
  sc__keyset_init(&ok->ks);
}

void sc__objkeys_free(sc__objkeys *ok) { sc__keyset_free(&ok->ks); }

int sc__objkeys_other(sc__objkeys *ok, sc__arena *a, char *const *keys, const char *k, size_t klen,
                      char **out) {
  const char *const *ks = (const char *const *)keys;
  if (ok->on_shape) {
    /* leaving the shape: its keys so far go into the key set */
    ok->on_shape = false;
    for (size_t i = 0; i < ok->n; i++) SC_FORWARD_IF_ERROR(sc__keyset_insert(&ok->ks, ks, ok->shape.lens[i]));
  }
  SC_RETURN_IF(sc__keyset_find(&ok->ks, ks, k, klen) >= 0, SC_EFORMAT);
  *out = sc__arena_strndup(a, k, klen);
  return *out ? 0 : SC_ENOMEM;
}

int sc__objkeys_end(sc__objkeys *ok, sc__arena *a, char *const *keys, sc__shape *shape,
                    char ***out) {
  size_t n = ok->n;
  if (n == 0) {
    *out = NULL;
    return 0;
  }
  if (ok->on_shape) {
    *out = ok->shape.keys;
    return 0;
  }
  char **copy = sc__arena_alloc(a, n * sizeof *copy);
  uint32_t *lens = sc__arena_alloc(a, n * sizeof *lens);
  if (!copy || !lens) return SC_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    copy[i] = keys[i];
    lens[i] = (uint32_t)strlen(keys[i]);
  }
  shape->keys = copy;
  shape->lens = lens;
  shape->n = n;
  *out = copy;
  return 0;
}

static int grow(sc__value *c) {
  if (c->u.c.len < c->u.c.cap) return 0;
  return sc__v_reserve(c, c->u.c.cap ? c->u.c.cap : 4);
}

int sc__doc_push(sc__value *arr, sc__value *item) {
  if (!item) return SC_ENOMEM;
  if (grow(arr) < 0) {
    sc__v_free(item);
    return SC_ENOMEM;
  }
  arr->u.c.items[arr->u.c.len++] = item;
  return 0;
}

int sc__doc_add(sc__value *obj, sc__keyset *ks, char *key, size_t klen, sc__value *item) {
  int rc = SC_ENOMEM;
  if (!key || !item) goto fail;
  if (sc__keyset_find(ks, (const char *const *)obj->u.c.keys, key, klen) >= 0) {
    rc = SC_EFORMAT;
    goto fail;
  }
  if (grow(obj) < 0) goto fail;
  obj->u.c.keys[obj->u.c.len] = key;
  obj->u.c.items[obj->u.c.len++] = item;
  /* On failure the member stays in the object (freed with it); only its
   * index is lost, so report it and let the caller drop the tree. */
  return sc__keyset_insert(ks, (const char *const *)obj->u.c.keys, klen);
fail:
  sc__free(key);
  sc__v_free(item);
  return rc;
}
