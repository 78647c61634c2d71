/* doc.h - what the document readers (JSON, MessagePack+zstd) and the
 * merger share: the limits every reader enforces, UTF-8 validation, and
 * builders that fill a document's arrays and objects directly, rejecting
 * duplicate object keys in O(1) per key.
 *
 * The limits are the same for both formats, so a document that loads from
 * one format can be saved in the other and load again. */
#ifndef SC_DOC_H
#define SC_DOC_H

#include <stdbool.h>
#include <string.h>

#include "export.h"

/* Containers nested deeper than this are rejected (the root counts as 1).
 * 32 is also msgpack-c's own unpacker limit (MSGPACK_EMBED_STACK_SIZE). */
#define SC__DOC_MAX_DEPTH 32

/* Fuzzing builds use small limits so that a short input cannot make the
 * fuzzer spend its time and memory on one legal but enormous document. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define SC__DOC_MAX_BYTES ((size_t)16 << 20)
#define SC__DOC_MAX_VALUES ((size_t)1 << 20)
#else
/* JSON text, or MessagePack after decompression. */
#define SC__DOC_MAX_BYTES ((size_t)1 << 30)
/* Values of every kind, containers and object keys included: a profile of
 * 50,000 lines holds about 1.4 million. */
#define SC__DOC_MAX_VALUES ((size_t)1 << 25)
#endif

/* The MessagePack document's first two keys. */
#define SC__PROFILE_FORMAT_NAME "scalenecore-profile"
#define SC__PROFILE_FORMAT_VERSION 3

/* Length of the longest valid UTF-8 prefix of s[0..n) (n when all of it is
 * valid).  Valid: shortest forms only, no surrogates, at most U+10FFFF. */
size_t sc__utf8_valid_prefix(const unsigned char *s, size_t n);

/* Hash of a key, as the key set uses it. */
uint32_t sc__key_hash(const char *s, size_t n);

/* Duplicate-key detection for one object under construction.  The set
 * refers to the object's own key strings by index (keys[i]), so it holds
 * no pointers into the object and may be moved.  Up to SC__KEYSET_INLINE
 * keys it compares a cheap fingerprint (length and two bytes) linearly,
 * without hashing; beyond, an open-addressing table of hashes takes over. */
#define SC__KEYSET_INLINE 32
typedef struct sc__keyset {
  uint32_t inline_tags[SC__KEYSET_INLINE];
  uint32_t *hashes; /* once past SC__KEYSET_INLINE keys: one per key */
  size_t n, cap;
  uint32_t *slots; /* index + 1, 0 = empty; NULL while small */
  size_t nslots;
} sc__keyset;

void sc__keyset_init(sc__keyset *ks);
void sc__keyset_free(sc__keyset *ks);
/* Index of `key` (klen bytes) among keys[0..ks->n), or -1. */
ptrdiff_t sc__keyset_find(const sc__keyset *ks, const char *const *keys, const char *key,
                          size_t klen);
/* Record keys[ks->n] (klen bytes, NUL-terminated, absent so far). */
int sc__keyset_insert(sc__keyset *ks, const char *const *keys, size_t klen);

/* ---- keys of the objects a reader builds ---------------------------------
 *
 * Objects in a profile come in long runs with the same keys in the same
 * order: every line and function has the same two dozen.  A reader keeps,
 * per nesting depth, the keys of the last object it completed there (a
 * shape).  While an object's keys repeat the shape's, each costs a length
 * and byte comparison: it takes the shape's (arena) string, needs no
 * duplicate check (the shape was checked when it was made), and once the
 * object is complete it takes the shape's keys array as its own when its
 * keys are the shape's or a prefix of them.  The first key that differs
 * moves the object to the general path: a copy of the key in the arena, a
 * key set (sc__keyset) for duplicates, and a new keys array at the end,
 * which becomes the depth's shape. */
typedef struct sc__shape {
  char **keys;    /* in the document's arena */
  uint32_t *lens; /* strlen of each */
  size_t n;
} sc__shape;

/* The keys of one object being read.  The keys accepted so far sit in a
 * caller's array, keys[0..n); the caller passes that array to each call
 * (it may have moved since the last one). */
typedef struct sc__objkeys {
  sc__shape shape; /* the depth's shape when the object began */
  size_t n;        /* keys accepted */
  bool on_shape;   /* keys[0..n) are shape.keys[0..n) */
  sc__keyset ks;   /* off the shape: the keys, for duplicate detection */
} sc__objkeys;

void sc__objkeys_begin(sc__objkeys *ok, const sc__shape *shape);
void sc__objkeys_free(sc__objkeys *ok);

/* The shape's string when key k (klen bytes) is the next key of the
 * shape and every key so far was too; NULL otherwise (then the caller
 * checks the key's text and calls sc__objkeys_other). */
static inline char *sc__objkeys_match(const sc__objkeys *ok, const char *k, size_t klen) {
  if (ok->on_shape && ok->n < ok->shape.n && ok->shape.lens[ok->n] == klen &&
      memcmp(ok->shape.keys[ok->n], k, klen) == 0)
    return ok->shape.keys[ok->n];
  return NULL;
}

/* A key that sc__objkeys_match did not match (its text already checked
 * by the caller: no NUL inside): SC_EFORMAT if it is among keys[0..n),
 * else its copy in arena `a` in *out. */
int sc__objkeys_other(sc__objkeys *ok, sc__arena *a, char *const *keys, const char *k, size_t klen,
                      char **out);

/* Accept keys[ok->n], the key that sc__objkeys_match or _other returned
 * (klen bytes), which the caller has stored there. */
static inline int sc__objkeys_commit(sc__objkeys *ok, char *const *keys, size_t klen) {
  if (ok->on_shape) {
    ok->n++;
    return 0;
  }
  int rc = sc__keyset_insert(&ok->ks, (const char *const *)keys, klen);
  if (rc == 0) ok->n++;
  return rc;
}

/* The complete object's keys array (NULL for no keys): the shape's, or a
 * copy of keys[0..n) in `a` that becomes the new *shape. */
int sc__objkeys_end(sc__objkeys *ok, sc__arena *a, char *const *keys, sc__shape *shape,
                    char ***out);

/* Append `item` (owned; freed on failure) to array `arr`. */
int sc__doc_push(sc__value *arr, sc__value *item);

/* Add `key` (owned: allocated with sc__malloc, NUL-terminated, `klen`
 * bytes, no NUL inside) with `item` (owned) to object `obj`, whose keys so
 * far were all added through `ks`.  A key already present: SC_EFORMAT.  On
 * any failure both key and item are freed. */
int sc__doc_add(sc__value *obj, sc__keyset *ks, char *key, size_t klen, sc__value *item);

#endif
