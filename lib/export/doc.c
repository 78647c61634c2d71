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

/* FNV-1a, seeded by where the library was loaded (ASLR) so that keys
 * colliding on purpose cannot be prepared offline. */
static const char seed_anchor;

uint32_t sc__key_hash(const char *s, size_t n) {
  uint32_t h = 2166136261u ^ (uint32_t)((uintptr_t)&seed_anchor >> 4);
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 16777619u;
  }
  return h;
}

#define HASHES(ks) ((ks)->heap ? (ks)->heap : (ks)->inline_hashes)

void sc__keyset_init(sc__keyset *ks) {
  ks->heap = NULL;
  ks->n = 0;
  ks->cap = SC__KEYSET_INLINE;
  ks->slots = NULL;
  ks->nslots = 0;
}

void sc__keyset_free(sc__keyset *ks) {
  sc__free(ks->heap);
  sc__free(ks->slots);
  sc__keyset_init(ks);
}

static int key_eq(const char *stored, const char *key, size_t klen) {
  return strncmp(stored, key, klen) == 0 && stored[klen] == '\0';
}

/* (Re)build the slot table for `nslots` slots from the stored hashes. */
static int keyset_rehash(sc__keyset *ks, size_t nslots) {
  uint32_t *slots = sc__calloc(nslots, sizeof *slots);
  if (!slots) return SC_ENOMEM;
  size_t mask = nslots - 1;
  const uint32_t *hs = HASHES(ks);
  for (size_t i = 0; i < ks->n; i++) {
    size_t j = hs[i] & mask;
    while (slots[j]) j = (j + 1) & mask;
    slots[j] = (uint32_t)(i + 1);
  }
  sc__free(ks->slots);
  ks->slots = slots;
  ks->nslots = nslots;
  return 0;
}

ptrdiff_t sc__keyset_find(const sc__keyset *ks, const char *const *keys, const char *key,
                          size_t klen, uint32_t h) {
  const uint32_t *hs = HASHES(ks);
  if (!ks->slots) {
    for (size_t i = 0; i < ks->n; i++)
      if (hs[i] == h && key_eq(keys[i], key, klen)) return (ptrdiff_t)i;
    return -1;
  }
  size_t mask = ks->nslots - 1;
  for (size_t j = h & mask; ks->slots[j]; j = (j + 1) & mask) {
    size_t i = ks->slots[j] - 1;
    if (hs[i] == h && key_eq(keys[i], key, klen)) return (ptrdiff_t)i;
  }
  return -1;
}

int sc__keyset_insert(sc__keyset *ks, uint32_t h) {
  if (ks->n == ks->cap) {
    size_t cap = ks->cap * 2;
    uint32_t *hs;
    if (!ks->heap) {
      hs = sc__malloc(cap * sizeof *hs);
      if (hs) memcpy(hs, ks->inline_hashes, ks->n * sizeof *hs);
    } else {
      hs = sc__realloc(ks->heap, cap * sizeof *hs);
    }
    if (!hs) return SC_ENOMEM;
    ks->heap = hs;
    ks->cap = cap;
  }
  HASHES(ks)[ks->n++] = h;
  if (ks->slots && ks->n * 2 > ks->nslots) return keyset_rehash(ks, ks->nslots * 2);
  if (ks->slots) {
    size_t mask = ks->nslots - 1, j = h & mask;
    while (ks->slots[j]) j = (j + 1) & mask;
    ks->slots[j] = (uint32_t)ks->n;
    return 0;
  }
  if (ks->n > SC__KEYSET_INLINE) return keyset_rehash(ks, 64);
  return 0;
}

int sc__doc_reserve(sc__value *c, size_t n) {
  if (c->u.c.cap - c->u.c.len >= n) return 0;
  if (n > SIZE_MAX / 2 / sizeof(void *) - c->u.c.len) return SC_ENOMEM;
  size_t cap = c->u.c.len + n;
  sc__value **items = sc__realloc(c->u.c.items, cap * sizeof *items);
  if (!items) return SC_ENOMEM;
  c->u.c.items = items;
  if (c->type == SC__V_OBJECT) {
    char **keys = sc__realloc(c->u.c.keys, cap * sizeof *keys);
    if (!keys) return SC_ENOMEM;
    c->u.c.keys = keys;
  }
  c->u.c.cap = cap;
  return 0;
}

static int grow(sc__value *c) {
  if (c->u.c.len < c->u.c.cap) return 0;
  return sc__doc_reserve(c, c->u.c.cap ? c->u.c.cap : 4);
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
  uint32_t h = sc__key_hash(key, klen);
  if (sc__keyset_find(ks, (const char *const *)obj->u.c.keys, key, klen, h) >= 0) {
    rc = SC_EFORMAT;
    goto fail;
  }
  if (grow(obj) < 0) goto fail;
  obj->u.c.keys[obj->u.c.len] = key;
  obj->u.c.items[obj->u.c.len++] = item;
  if (sc__keyset_insert(ks, h) < 0) {
    /* The member is in the object (freed with it); only the index of it
     * is lost, so report the failure and let the caller drop the tree. */
    return SC_ENOMEM;
  }
  return 0;
fail:
  sc__free(key);
  sc__v_free(item);
  return rc;
}
