/* value.h - a small document model (null, bool, int, double, string,
 * array, object with insertion-ordered keys).  Profiles are built as a
 * value tree once and handed to whichever exporter the caller picked, so
 * every format carries exactly the same document.
 *
 * Two kinds of tree share the one node type:
 *  - heap trees, built with the constructors and writers below (one
 *    allocation per node, string and member array; freely modified);
 *  - arena documents, built by the readers (sc__vdoc): every node, string
 *    and member array of the document lives in one arena owned by the
 *    root, objects that repeat another's keys share its key strings and
 *    keys array, and the whole tree is read-only.  sc__v_free on the root
 *    gives back the arena; on any other node of it, it does nothing. */
#ifndef SC_VALUE_H
#define SC_VALUE_H

#include "arena.h"
#include "internal.h"

#include <stdbool.h>

typedef enum sc__vtype {
  SC__V_NULL,
  SC__V_BOOL,
  SC__V_INT,
  SC__V_DOUBLE,
  SC__V_STRING,
  SC__V_ARRAY,
  SC__V_OBJECT
} sc__vtype;

typedef struct sc__value sc__value;

/* sc__value.flags */
#define SC__VF_ARENA 1u /* part of an arena document: read-only */
#define SC__VF_ROOT 2u  /* the root of an arena document: owns the arena */

struct sc__value {
  sc__vtype type;
  uint8_t flags; /* SC__VF_*; 0 for heap nodes */
  union {
    bool b;
    int64_t i;
    double d;
    struct {
      char *s;
      size_t len;
    } str;
    struct {
      sc__value **items;
      char **keys; /* objects only; NUL-terminated, no NUL inside */
      uint32_t len, cap;
    } c;
  } u;
};

/* Constructors return NULL on allocation failure. */
sc__value *sc__v_null(void);
sc__value *sc__v_bool(bool b);
sc__value *sc__v_int(int64_t i);
sc__value *sc__v_double(double d);
sc__value *sc__v_str(const char *s);
sc__value *sc__v_strn(const char *s, size_t n);
sc__value *sc__v_array(void);
sc__value *sc__v_object(void);
void sc__v_free(sc__value *v);

/* Append to an array / set a key of an object.  Ownership of `item` passes
 * to the container even on failure (it is freed then).  Setting an existing
 * key replaces its value.  SC_EINVAL for a node of an arena document
 * (read-only: sc__v_clone gives a heap copy to modify). */
int sc__v_push(sc__value *arr, sc__value *item);
int sc__v_set(sc__value *obj, const char *key, sc__value *item);
/* Shorthands for object members. */
int sc__v_set_int(sc__value *obj, const char *key, int64_t i);
int sc__v_set_double(sc__value *obj, const char *key, double d);
int sc__v_set_str(sc__value *obj, const char *key, const char *s);
int sc__v_set_bool(sc__value *obj, const char *key, bool b);

/* Reserve room for `n` more members in an array or object (at most
 * UINT32_MAX in all; SC_EINVAL for an arena document's node). */
int sc__v_reserve(sc__value *c, size_t n);

/* Lookup: NULL when absent or not an object. */
sc__value *sc__v_get(const sc__value *obj, const char *key);
size_t sc__v_len(const sc__value *v);

/* ---- arena documents, as the readers build them ------------------------
 *
 *   sc__vdoc *d = sc__vdoc_create();
 *   ... nodes from sc__vdoc_node (or the shared ones below), strings and
 *       member arrays from d->arena, container fields (items, keys,
 *       len, cap = len) filled directly ...
 *   sc__value *doc = sc__vdoc_finish(d, root);   (or sc__vdoc_abandon(d))
 *   ... read doc; sc__v_free(doc) ...
 *
 * Nothing in the document may be modified, so parts of it are shared:
 * member arrays and key strings between containers, one node per
 * document for each of null, false, true, "", [], {} and the integers
 * 0 .. SC__VDOC_SMALL_INTS - 1 (in a profile most numbers are such
 * integers: zeros, line numbers, sample counts), and any node a reader
 * knows to stand for the same value in several places (the compact
 * reader's table constants: one node for every object of a run).  A node
 * may thus have several parents, containers included.  Readers of the
 * tree see no difference; nothing may compare nodes by address. */
#define SC__VDOC_SMALL_INTS 1024

typedef struct sc__vdoc {
  sc__arena arena;
  sc__value root; /* filled by sc__vdoc_finish */
  /* shared nodes, made on first use */
  sc__value *consts[4]; /* null, false, true, "" */
  sc__value *empty[2];  /* [], {} */
  sc__value *ints[SC__VDOC_SMALL_INTS];
} sc__vdoc;

/* NULL when out of memory. */
sc__vdoc *sc__vdoc_create(void);
/* A node of type `t` in the arena (flags SC__VF_ARENA, payload unset);
 * NULL when out of memory. */
static inline sc__value *sc__vdoc_node(sc__vdoc *d, sc__vtype t) {
  sc__value *v = (sc__value *)sc__arena_alloc(&d->arena, sizeof *v);
  if (v) {
    v->type = t;
    v->flags = SC__VF_ARENA;
  }
  return v;
}
/* The node that makes a new one, or NULL when out of memory. */
sc__value *sc__vdoc_shared_slow(sc__vdoc *d, sc__value **slot, sc__vtype t);
/* Shared nodes (see above); NULL when out of memory. */
static inline sc__value *sc__vdoc_int(sc__vdoc *d, int64_t i) {
  if ((uint64_t)i < SC__VDOC_SMALL_INTS) {
    sc__value *v = d->ints[i];
    if (SC_LIKELY(v != NULL)) return v;
    v = sc__vdoc_shared_slow(d, &d->ints[i], SC__V_INT);
    if (v) v->u.i = i;
    return v;
  }
  sc__value *v = sc__vdoc_node(d, SC__V_INT);
  if (v) v->u.i = i;
  return v;
}
static inline sc__value *sc__vdoc_null(sc__vdoc *d) {
  return d->consts[0] ? d->consts[0] : sc__vdoc_shared_slow(d, &d->consts[0], SC__V_NULL);
}
static inline sc__value *sc__vdoc_bool(sc__vdoc *d, bool b) {
  sc__value **slot = &d->consts[1 + b];
  if (*slot) return *slot;
  sc__value *v = sc__vdoc_shared_slow(d, slot, SC__V_BOOL);
  if (v) v->u.b = b;
  return v;
}
/* "" (t SC__V_STRING), [] or {} */
static inline sc__value *sc__vdoc_empty(sc__vdoc *d, sc__vtype t) {
  sc__value **slot = t == SC__V_STRING ? &d->consts[3] : &d->empty[t == SC__V_OBJECT];
  return *slot ? *slot : sc__vdoc_shared_slow(d, slot, t);
}

/* Make `root` (a node of d) the document's root: the returned node (a copy
 * of it, flagged SC__VF_ROOT) owns d, which the caller no longer uses. */
sc__value *sc__vdoc_finish(sc__vdoc *d, const sc__value *root);
/* Drop an unfinished document and everything in it. */
void sc__vdoc_abandon(sc__vdoc *d);

/* Serialise as JSON (UTF-8; invalid UTF-8 in strings is replaced by
 * U+FFFD so the output always parses).  indent < 0: compact. */
int sc__json_write(const sc__value *v, sc__buf *out, int indent);

#endif
