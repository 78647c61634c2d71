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
#define SC__PROFILE_FORMAT_VERSION 1

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

/* Append `item` (owned; freed on failure) to array `arr`. */
int sc__doc_push(sc__value *arr, sc__value *item);

/* Add `key` (owned: allocated with sc__malloc, NUL-terminated, `klen`
 * bytes, no NUL inside) with `item` (owned) to object `obj`, whose keys so
 * far were all added through `ks`.  A key already present: SC_EFORMAT.  On
 * any failure both key and item are freed. */
int sc__doc_add(sc__value *obj, sc__keyset *ks, char *key, size_t klen, sc__value *item);

#endif
