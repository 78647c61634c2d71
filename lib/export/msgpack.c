/* msgpack.c - the compact profile format: the document as one MessagePack
 * map (msgpack-c's packer and unpacker) in one zstd frame (libzstd).
 * docs/profile-format.md specifies it; in short (format_version 3):
 *
 *   zstd frame (content size in the header, XXH64 content checksum)
 *   └ MessagePack map
 *       "format":         "scalenecore-profile"   (always the first key)
 *       "format_version": 3                       (always the second key)
 *       ...the document's own keys, in its order...
 *
 * Every value is written as itself (types below) but for the arrays
 * "lines" and "functions" of each file (the members of the root's
 * "files" object), which are written as tables: an array of runs, each a
 * map of either
 *   "schema":  a schema map, or the index of one given earlier in the file
 *              (numbered in the order they appear),
 *   "count":   N (at least 1),
 *   "columns": one column per key of the schema that is neither
 *              constant nor repeated, in the schema's key order: an array
 *              of N cells or, for a key with a default (a sparse column),
 *              ceil(N / 64) mask words then a cell for each bit set;
 * standing for N consecutive objects, or of
 *   "values":  [v, ...]  consecutive elements as they are (not objects).
 * A schema map: "keys" (the objects' keys, in order), optionally
 * "constants" (key -> the value it has in every object), "same_as"
 * (key -> an earlier key whose value it repeats in every object) and,
 * from version 3 on, "defaults" (key -> the value of the objects its
 * sparse column leaves out) and "tuples" (key -> T: each of its values,
 * an array of arrays of T numbers, is a cell of its numbers as one flat
 * array; a cell is otherwise the value itself).
 * Version 1 (no tables) and 2 (no defaults or tuples) files still load.
 *
 * Types: null -> nil, bool -> true/false, integers -> the smallest
 * MessagePack int/uint, other numbers -> float64 (a NaN or infinity is
 * written as nil, as the JSON writer writes null), strings -> str (UTF-8;
 * invalid bytes become U+FFFD as in JSON), arrays -> array, objects -> map
 * with str keys.
 *
 * The reader accepts exactly one zstd frame (a known content size, or an
 * unknown one as streamed by `zstd` from a pipe, up to SC__DOC_MAX_BYTES)
 * holding exactly one MessagePack value.  SC_EFORMAT for anything else:
 * truncated or corrupt frames (checksums are verified when present),
 * trailing bytes, another format name, a format_version newer than this
 * library's, bin / ext / the reserved 0xc1, non-str map keys, keys holding
 * NUL, duplicate keys, invalid UTF-8, non-finite floats, declared lengths
 * larger than the bytes that follow, a malformed table, nesting deeper
 * than SC__DOC_MAX_DEPTH or more than SC__DOC_MAX_VALUES values in the
 * document it stands for (a table's objects counted one by one, each with
 * its constants, before anything is built for them).
 *
 * A first pass over the decompressed bytes checks their structure and
 * bounds before msgpack-c unpacks them, so the unpacker never allocates
 * for lengths that the input cannot back; msgpack-c then unpacks the
 * document in pieces (see "pieces" below), converted into an arena
 * document (value.h) as they come. */
#include <math.h>
#include <msgpack.h>
#include <stdbool.h>
#include <string.h>
/* for ZSTD_c_literalCompressionMode, an experimental parameter: a
 * libzstd that does not know it refuses it, and the frame is then only
 * larger and slower to decompress (see sc__msgpack_zstd_write) */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "doc.h"

#define ZSTD_LEVEL 7

/* Where a value sits in the document: only the arrays of R_TABLE places
 * are written as tables. */
typedef enum role {
  R_ANY,
  R_ROOT,  /* the root object (version 2 on) */
  R_FILES, /* the root's "files" */
  R_FILE,  /* a member of "files" */
  R_TABLE  /* a file's "lines" or "functions" */
} role;

static bool name_is(const char *k, size_t n, const char *lit, size_t litn) {
  return n == litn && memcmp(k, lit, n) == 0;
}

/* The place of member `key` (klen bytes) of an object in place r. */
static role member_role(role r, const char *key, size_t klen) {
  switch (r) {
    case R_ROOT: return name_is(key, klen, "files", 5) ? R_FILES : R_ANY;
    case R_FILES: return R_FILE;
    case R_FILE:
      return name_is(key, klen, "lines", 5) || name_is(key, klen, "functions", 9) ? R_TABLE : R_ANY;
    default: return R_ANY;
  }
}

/* MessagePack nests tables two levels deeper than the document (a run
 * map and its columns array between the array and its objects). */
#define TABLE_NESTING 2

/* ---- writing ------------------------------------------------------------ */

static int buf_write(void *data, const char *buf, size_t len) {
  sc__buf *b = data;
  sc__buf_put(b, buf, len);
  return b->failed ? -1 : 0;
}

/* A str with invalid UTF-8 replaced by U+FFFD, byte by byte, as the JSON
 * writer does, so both formats carry the same text. */
static int pack_text(msgpack_packer *pk, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t ok = sc__utf8_valid_prefix(u, n);
  if (ok == n) {
    if (msgpack_pack_str(pk, n) < 0 || msgpack_pack_str_body(pk, s, n) < 0) return SC_ENOMEM;
    return 0;
  }
  sc__buf clean;
  sc__buf_init(&clean);
  size_t i = 0;
  while (i < n) {
    size_t k = sc__utf8_valid_prefix(u + i, n - i);
    sc__buf_put(&clean, u + i, k);
    i += k;
    if (i < n) {
      sc__buf_put(&clean, "\xEF\xBF\xBD", 3);
      i++;
    }
  }
  int rc = clean.failed ? SC_ENOMEM : 0;
  if (rc == 0 && (msgpack_pack_str(pk, clean.len) < 0 ||
                  msgpack_pack_str_body(pk, clean.data, clean.len) < 0))
    rc = SC_ENOMEM;
  sc__buf_free(&clean);
  return rc;
}

static int pack_lit(msgpack_packer *pk, const char *s) {
  return msgpack_pack_str_with_body(pk, s, strlen(s)) < 0 ? SC_ENOMEM : 0;
}

/* `depth`: that of the container holding v (the root's members: 1). */
static int pack_value(msgpack_packer *pk, const sc__value *v, int depth) {
  int r = 0;
  switch (v->type) {
    case SC__V_NULL: r = msgpack_pack_nil(pk); break;
    case SC__V_BOOL: r = v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case SC__V_INT: r = msgpack_pack_int64(pk, v->u.i); break;
    case SC__V_DOUBLE:
      r = isfinite(v->u.d) ? msgpack_pack_double(pk, v->u.d) : msgpack_pack_nil(pk);
      break;
    case SC__V_STRING: return pack_text(pk, v->u.str.s, v->u.str.len);
    case SC__V_ARRAY:
    case SC__V_OBJECT: {
      /* what the reader would refuse, the writer refuses */
      if (depth >= SC__DOC_MAX_DEPTH) return SC_EINVAL;
      int obj = v->type == SC__V_OBJECT;
      r = obj ? msgpack_pack_map(pk, v->u.c.len) : msgpack_pack_array(pk, v->u.c.len);
      for (size_t i = 0; r == 0 && i < v->u.c.len; i++) {
        if (obj) SC_FORWARD_IF_ERROR(pack_text(pk, v->u.c.keys[i], strlen(v->u.c.keys[i])));
        SC_FORWARD_IF_ERROR(pack_value(pk, v->u.c.items[i], depth + 1));
      }
      break;
    }
  }
  return r < 0 ? SC_ENOMEM : 0;
}

/* ---- tables */

static bool same_keys(const sc__value *a, const sc__value *b) {
  if (a->u.c.len != b->u.c.len) return false;
  if (a->u.c.keys == b->u.c.keys) return true;
  for (size_t i = 0; i < a->u.c.len; i++)
    if (strcmp(a->u.c.keys[i], b->u.c.keys[i]) != 0) return false;
  return true;
}

/* Whether a and b are written as the same MessagePack. */
static bool same_value(const sc__value *a, const sc__value *b) {
  if (a == b) return true;
  if (a->type != b->type) return false;
  switch (a->type) {
    case SC__V_NULL: return true;
    case SC__V_BOOL: return a->u.b == b->u.b;
    case SC__V_INT: return a->u.i == b->u.i;
    case SC__V_DOUBLE: return memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
    case SC__V_STRING:
      return a->u.str.len == b->u.str.len && memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case SC__V_ARRAY:
    case SC__V_OBJECT:
      if (a->type == SC__V_OBJECT ? !same_keys(a, b) : a->u.c.len != b->u.c.len) return false;
      for (size_t i = 0; i < a->u.c.len; i++)
        if (!same_value(a->u.c.items[i], b->u.c.items[i])) return false;
      return true;
  }
  return false;
}

/* The end of the run that starts at element i: objects with the same
 * keys in the same order, or elements that are not objects. */
static size_t run_end(const sc__value *arr, size_t i) {
  sc__value *const *it = arr->u.c.items;
  size_t n = arr->u.c.len, j = i + 1;
  if (it[i]->type == SC__V_OBJECT) {
    while (j < n && it[j]->type == SC__V_OBJECT && same_keys(it[j], it[i])) j++;
  } else {
    while (j < n && it[j]->type != SC__V_OBJECT) j++;
  }
  return j;
}

/* A run's schema: its keys and, per key, where the objects' values are:
 * in a column of the run (COL_FULL), the same value in every object
 * (COL_CONST), or the value of an earlier key of the same object
 * (COL_SAME).  A column may also be sparse (version 3: the objects whose
 * value is the key's default are left out of it) and hold tuples
 * (version 3: every value, an array of arrays of `width` numbers, is
 * written as one flat array of numbers). */
enum { COL_FULL, COL_CONST, COL_SAME };

/* The widest tuple a column of tuples may hold. */
#define TUPLE_MAX 255

typedef struct schema {
  const sc__value *obj; /* an object with the schema's keys */
  size_t k;
  size_t cap; /* keys the arrays below have room for */
  uint8_t *kind;
  uint32_t *same;          /* COL_SAME: the earlier key's index */
  uint32_t *width;         /* COL_FULL: the tuples' width, 0 if none */
  const sc__value **value; /* COL_CONST: every object's value */
  const sc__value **dflt;  /* COL_FULL: the default of a sparse column, or NULL */
} schema;

static int schema_alloc(schema *s, size_t k) {
  /* one block: values, defaults, earlier keys, widths, kinds */
  size_t per = 2 * sizeof *s->value + 2 * sizeof *s->same + 1;
  char *m = sc__malloc(k ? k * per : 1);
  if (!m) return SC_ENOMEM;
  s->value = (const sc__value **)(void *)m;
  s->dflt = (const sc__value **)(void *)(m + k * sizeof *s->value);
  s->same = (uint32_t *)(void *)(m + 2 * k * sizeof *s->value);
  s->width = (uint32_t *)(void *)(m + 2 * k * sizeof *s->value + k * sizeof *s->same);
  s->kind = (uint8_t *)(m + 2 * k * (sizeof *s->value + sizeof *s->same));
  s->k = s->cap = k;
  return 0;
}

static void schema_free(schema *s) { sc__free((void *)s->value); }

static void schema_copy(schema *to, const schema *from) {
  size_t k = from->k;
  to->obj = from->obj;
  memcpy(to->kind, from->kind, k);
  memcpy(to->same, from->same, k * sizeof *from->same);
  memcpy(to->width, from->width, k * sizeof *from->width);
  memcpy((void *)to->value, from->value, k * sizeof *from->value);
  memcpy((void *)to->dflt, from->dflt, k * sizeof *from->dflt);
}

/* Schemas written earlier that later runs may name by index (the first
 * SCHEMAS of them; every schema written still takes its index), and
 * columns a schema may repeat (the first REF_COLUMNS kept in full). */
#define SCHEMAS 64
#define REF_COLUMNS 64

typedef struct writer {
  msgpack_packer pk;
  schema schemas[SCHEMAS];
  size_t nschemas;  /* kept */
  uint64_t written; /* schemas written */
  schema run;       /* the run's own, being written */
  uint64_t *mask;   /* a sparse column's row mask, being written */
  size_t mask_cap;  /* words */
} writer;

static bool is_number(const sc__value *v) {
  return v->type == SC__V_INT || (v->type == SC__V_DOUBLE && isfinite(v->u.d));
}

/* Whether v is an array of tuples of `width` numbers (width 0: of any one
 * width, then stored in *width when v has a tuple). */
static bool tuples_of(const sc__value *v, uint32_t *width) {
  if (v->type != SC__V_ARRAY) return false;
  for (size_t i = 0; i < v->u.c.len; i++) {
    const sc__value *t = v->u.c.items[i];
    if (t->type != SC__V_ARRAY || t->u.c.len == 0 || t->u.c.len > TUPLE_MAX) return false;
    if (*width == 0) *width = t->u.c.len;
    if (t->u.c.len != *width) return false;
    for (size_t j = 0; j < t->u.c.len; j++)
      if (!is_number(t->u.c.items[j])) return false;
  }
  return true;
}

/* The width of the tuples that member c of every object it[0..n) holds
 * (see tuples_of), other than the values equal to dflt; 0 if none. */
static uint32_t column_width(sc__value *const *it, size_t n, size_t c, const sc__value *dflt) {
  uint32_t w = 0;
  for (size_t i = 0; i < n; i++) {
    const sc__value *v = it[i]->u.c.items[c];
    if (dflt && same_value(v, dflt)) continue;
    if (!tuples_of(v, &w)) return 0;
  }
  return w;
}

/* The commonest value of member c of the objects it[0..n) when it holds
 * most of them (a majority vote), and how many hold it. */
static const sc__value *column_mode(sc__value *const *it, size_t n, size_t c, size_t *count) {
  const sc__value *cand = NULL;
  size_t votes = 0;
  for (size_t i = 0; i < n; i++) {
    const sc__value *v = it[i]->u.c.items[c];
    if (votes == 0) {
      cand = v;
      votes = 1;
    } else {
      votes += same_value(v, cand) ? 1 : (size_t)-1;
    }
  }
  *count = 0;
  for (size_t i = 0; i < n; i++) *count += same_value(it[i]->u.c.items[c], cand);
  return cand;
}

static size_t mask_words(size_t n) { return n / 64 + (n % 64 != 0); }

/* The MessagePack values the columns of the objects it[0..n) take under
 * schema s (a column: its values, or its mask words and the values other
 * than the default), or SIZE_MAX when they do not fit s (other keys, a
 * constant or repeat not true of every object, a value that is not
 * tuples where s has tuples). */
static size_t run_cost(const schema *s, sc__value *const *it, size_t n) {
  if (!same_keys(s->obj, it[0])) return SIZE_MAX;
  size_t cost = 0;
  for (size_t c = 0; c < s->k; c++) {
    if (s->kind[c] == COL_CONST) {
      for (size_t i = 0; i < n; i++)
        if (!same_value(it[i]->u.c.items[c], s->value[c])) return SIZE_MAX;
    } else if (s->kind[c] == COL_SAME) {
      for (size_t i = 0; i < n; i++)
        if (!same_value(it[i]->u.c.items[c], it[i]->u.c.items[s->same[c]])) return SIZE_MAX;
    } else {
      size_t listed = n;
      if (s->dflt[c]) {
        for (size_t i = 0; i < n; i++) listed -= same_value(it[i]->u.c.items[c], s->dflt[c]);
        cost += mask_words(n);
      }
      cost += listed;
      if (s->width[c]) {
        uint32_t w = s->width[c];
        for (size_t i = 0; i < n; i++) {
          const sc__value *v = it[i]->u.c.items[c];
          if ((!s->dflt[c] || !same_value(v, s->dflt[c])) && !tuples_of(v, &w)) return SIZE_MAX;
        }
      }
    }
  }
  return cost;
}

/* The schema that the objects it[0..n) suggest: a key whose value is the
 * same in all of them (n > 1) a constant; one whose values are those of
 * an earlier key kept in full, repeating it (a few candidates tried,
 * those that start with the same value); the others columns, sparse when
 * a value holds more rows than the mask takes words, of tuples when
 * their values are (`depth`: as pack_object_run's; it must leave room for
 * the tuples' two levels). */
static int derive_schema(writer *w, sc__value *const *it, size_t n, int depth) {
  schema *d = &w->run;
  const sc__value *first = it[0];
  size_t k = first->u.c.len;
  if (!d->value || d->cap < k) {
    schema_free(d);
    d->value = NULL;
    SC_FORWARD_IF_ERROR(schema_alloc(d, k));
  }
  d->obj = first;
  d->k = k;
  size_t full[REF_COLUMNS], nref = 0;
  for (size_t c = 0; c < k; c++) {
    const sc__value *v0 = first->u.c.items[c];
    size_t i = 1;
    d->dflt[c] = NULL;
    d->width[c] = 0;
    while (i < n && same_value(it[i]->u.c.items[c], v0)) i++;
    if (n > 1 && i == n) {
      d->kind[c] = COL_CONST;
      d->value[c] = v0;
      continue;
    }
    d->kind[c] = COL_FULL;
    for (size_t f = 0, tries = 0; n > 1 && f < nref && tries < 4; f++) {
      size_t e = full[f];
      if (!same_value(first->u.c.items[e], v0)) continue;
      tries++;
      for (i = 1; i < n && same_value(it[i]->u.c.items[c], it[i]->u.c.items[e]); i++) {
      }
      if (i == n) {
        d->kind[c] = COL_SAME;
        d->same[c] = (uint32_t)e;
        break;
      }
    }
    if (d->kind[c] != COL_FULL) continue;
    if (nref < REF_COLUMNS) full[nref++] = c;
    if (n > 1) {
      size_t count;
      const sc__value *mode = column_mode(it, n, c, &count);
      if (count > mask_words(n)) d->dflt[c] = mode;
    }
    if (depth + 3 < SC__DOC_MAX_DEPTH) d->width[c] = column_width(it, n, c, d->dflt[c]);
  }
  return 0;
}

/* The schema's sub-maps after "keys", in the order they are written: each
 * maps the keys of the columns it concerns to what it says of them. */
enum { SUB_CONSTANTS, SUB_SAME_AS, SUB_DEFAULTS, SUB_TUPLES, SUB_COUNT };
static const char *const sub_name[SUB_COUNT] = {"constants", "same_as", "defaults", "tuples"};

static int in_sub(const schema *s, size_t c, int sub) {
  switch (sub) {
  case SUB_CONSTANTS: return s->kind[c] == COL_CONST;
  case SUB_SAME_AS: return s->kind[c] == COL_SAME;
  case SUB_DEFAULTS: return s->kind[c] == COL_FULL && s->dflt[c];
  default: return s->kind[c] == COL_FULL && s->width[c];
  }
}

static int pack_sub_value(msgpack_packer *pk, const schema *s, size_t c, int sub, int depth) {
  switch (sub) {
  case SUB_CONSTANTS: return pack_value(pk, s->value[c], depth + 2);
  case SUB_SAME_AS: {
    const char *t = s->obj->u.c.keys[s->same[c]];
    return pack_text(pk, t, strlen(t));
  }
  case SUB_DEFAULTS: return pack_value(pk, s->dflt[c], depth + 2);
  default: return msgpack_pack_uint32(pk, s->width[c]) < 0 ? SC_ENOMEM : 0;
  }
}

static int pack_schema(writer *w, const schema *s, int depth) {
  msgpack_packer *pk = &w->pk;
  size_t count[SUB_COUNT] = {0}, maps = 1;
  for (int sub = 0; sub < SUB_COUNT; sub++) {
    for (size_t c = 0; c < s->k; c++) count[sub] += (size_t)in_sub(s, c, sub);
    maps += count[sub] > 0;
  }
  char *const *keys = s->obj->u.c.keys;
  if (msgpack_pack_map(pk, maps) < 0) return SC_ENOMEM;
  SC_FORWARD_IF_ERROR(pack_lit(pk, "keys"));
  if (msgpack_pack_array(pk, s->k) < 0) return SC_ENOMEM;
  for (size_t c = 0; c < s->k; c++) SC_FORWARD_IF_ERROR(pack_text(pk, keys[c], strlen(keys[c])));
  for (int sub = 0; sub < SUB_COUNT; sub++) {
    if (!count[sub]) continue;
    SC_FORWARD_IF_ERROR(pack_lit(pk, sub_name[sub]));
    if (msgpack_pack_map(pk, count[sub]) < 0) return SC_ENOMEM;
    for (size_t c = 0; c < s->k; c++) {
      if (!in_sub(s, c, sub)) continue;
      SC_FORWARD_IF_ERROR(pack_text(pk, keys[c], strlen(keys[c])));
      SC_FORWARD_IF_ERROR(pack_sub_value(pk, s, c, sub, depth));
    }
  }
  return 0;
}

/* One value of a column: as itself, or (width > 0) its tuples' numbers
 * as one flat array. */
static int pack_cell(writer *w, const sc__value *v, uint32_t width, int depth) {
  if (!width) return pack_value(&w->pk, v, depth);
  if (msgpack_pack_array(&w->pk, (size_t)v->u.c.len * width) < 0) return SC_ENOMEM;
  for (size_t i = 0; i < v->u.c.len; i++)
    for (size_t j = 0; j < width; j++)
      SC_FORWARD_IF_ERROR(pack_value(&w->pk, v->u.c.items[i]->u.c.items[j], depth + 2));
  return 0;
}

/* Member c of the objects it[0..n) as a column of schema s: its n values,
 * or, sparse, the mask words (bit i % 64 of word i / 64 set for each
 * object i whose value is not the default) then the values of those
 * objects. */
static int pack_column(writer *w, const schema *s, size_t c, sc__value *const *it, size_t n,
                       int depth) {
  msgpack_packer *pk = &w->pk;
  const sc__value *dflt = s->dflt[c];
  if (!dflt) {
    if (msgpack_pack_array(pk, n) < 0) return SC_ENOMEM;
    for (size_t i = 0; i < n; i++)
      SC_FORWARD_IF_ERROR(pack_cell(w, it[i]->u.c.items[c], s->width[c], depth + 2));
    return 0;
  }
  size_t words = mask_words(n), listed = 0;
  if (w->mask_cap < words) {
    uint64_t *m = sc__realloc(w->mask, words * sizeof *m);
    if (!m) return SC_ENOMEM;
    w->mask = m;
    w->mask_cap = words;
  }
  memset(w->mask, 0, words * sizeof *w->mask);
  for (size_t i = 0; i < n; i++) {
    if (same_value(it[i]->u.c.items[c], dflt)) continue;
    w->mask[i / 64] |= (uint64_t)1 << (i % 64);
    listed++;
  }
  if (msgpack_pack_array(pk, words + listed) < 0) return SC_ENOMEM;
  for (size_t j = 0; j < words; j++)
    if (msgpack_pack_uint64(pk, w->mask[j]) < 0) return SC_ENOMEM;
  for (size_t i = 0; i < n; i++)
    if (w->mask[i / 64] >> (i % 64) & 1)
      SC_FORWARD_IF_ERROR(pack_cell(w, it[i]->u.c.items[c], s->width[c], depth + 2));
  return 0;
}

/* The objects it[0..n) (one run): schema, count, columns.  The schema is
 * the earlier one that fits them with the fewest values in its columns,
 * or their own when that has fewer still. */
static int pack_object_run(writer *w, sc__value *const *it, size_t n, int depth) {
  msgpack_packer *pk = &w->pk;
  SC_FORWARD_IF_ERROR(derive_schema(w, it, n, depth));
  const schema *use = &w->run, *best = NULL;
  size_t idx = 0, own = run_cost(use, it, n), best_cost = SIZE_MAX;
  for (size_t i = 0; i < w->nschemas; i++) {
    size_t cost = run_cost(&w->schemas[i], it, n);
    if (cost < best_cost) {
      best = &w->schemas[i];
      best_cost = cost;
      idx = i;
    }
  }
  /* an earlier schema unless the run's own saves more values than
   * writing it costs (its keys and a few more) */
  if (best && (best_cost <= own || best_cost - own <= 2 * use->k + 4)) use = best;
  if (msgpack_pack_map(pk, 3) < 0) return SC_ENOMEM;
  SC_FORWARD_IF_ERROR(pack_lit(pk, "schema"));
  if (use != &w->run) {
    if (msgpack_pack_uint64(pk, idx) < 0) return SC_ENOMEM;
  } else {
    SC_FORWARD_IF_ERROR(pack_schema(w, use, depth));
    if (w->nschemas < SCHEMAS && w->written == w->nschemas) {
      /* kept for the runs to come: a copy */
      schema *keep = &w->schemas[w->nschemas];
      SC_FORWARD_IF_ERROR(schema_alloc(keep, use->k));
      schema_copy(keep, use);
      w->nschemas++;
      use = keep;
    }
    w->written++;
  }
  size_t nfull = 0;
  for (size_t c = 0; c < use->k; c++) nfull += use->kind[c] == COL_FULL;
  SC_FORWARD_IF_ERROR(pack_lit(pk, "count"));
  if (msgpack_pack_uint64(pk, n) < 0) return SC_ENOMEM;
  SC_FORWARD_IF_ERROR(pack_lit(pk, "columns"));
  if (msgpack_pack_array(pk, nfull) < 0) return SC_ENOMEM;
  for (size_t c = 0; c < use->k; c++)
    if (use->kind[c] == COL_FULL) SC_FORWARD_IF_ERROR(pack_column(w, use, c, it, n, depth));
  return 0;
}

/* An array in a table's place; `depth` as pack_value's. */
static int pack_table(writer *w, const sc__value *arr, int depth) {
  if (depth >= SC__DOC_MAX_DEPTH) return SC_EINVAL;
  sc__value *const *it = arr->u.c.items;
  size_t n = arr->u.c.len, nruns = 0;
  for (size_t i = 0; i < n; i = run_end(arr, i)) {
    /* the objects are one level deeper than the array */
    if (it[i]->type == SC__V_OBJECT && depth + 1 >= SC__DOC_MAX_DEPTH) return SC_EINVAL;
    nruns++;
  }
  if (msgpack_pack_array(&w->pk, nruns) < 0) return SC_ENOMEM;
  for (size_t i = 0; i < n;) {
    size_t j = run_end(arr, i);
    if (it[i]->type == SC__V_OBJECT) {
      SC_FORWARD_IF_ERROR(pack_object_run(w, it + i, j - i, depth));
    } else {
      if (msgpack_pack_map(&w->pk, 1) < 0) return SC_ENOMEM;
      SC_FORWARD_IF_ERROR(pack_lit(&w->pk, "values"));
      if (msgpack_pack_array(&w->pk, j - i) < 0) return SC_ENOMEM;
      for (size_t k = i; k < j; k++) SC_FORWARD_IF_ERROR(pack_value(&w->pk, it[k], depth + 1));
    }
    i = j;
  }
  return 0;
}

/* v in place r; `depth` as pack_value's. */
static int pack_in(writer *w, const sc__value *v, role r, int depth) {
  if (r == R_TABLE && v->type == SC__V_ARRAY) return pack_table(w, v, depth);
  if ((r == R_FILES || r == R_FILE) && v->type == SC__V_OBJECT) {
    if (depth >= SC__DOC_MAX_DEPTH) return SC_EINVAL;
    if (msgpack_pack_map(&w->pk, v->u.c.len) < 0) return SC_ENOMEM;
    for (size_t i = 0; i < v->u.c.len; i++) {
      const char *k = v->u.c.keys[i];
      size_t klen = strlen(k);
      SC_FORWARD_IF_ERROR(pack_text(&w->pk, k, klen));
      SC_FORWARD_IF_ERROR(pack_in(w, v->u.c.items[i], member_role(r, k, klen), depth + 1));
    }
    return 0;
  }
  return pack_value(&w->pk, v, depth);
}

static int pack_root(writer *w, const sc__value *doc, sc__buf *raw) {
  msgpack_packer *pk = &w->pk;
  msgpack_packer_init(pk, raw, buf_write);
  static const char name_key[] = "format", ver_key[] = "format_version";
  static const char name[] = SC__PROFILE_FORMAT_NAME;
  if (msgpack_pack_map(pk, doc->u.c.len + 2) < 0 ||
      msgpack_pack_str_with_body(pk, name_key, sizeof name_key - 1) < 0 ||
      msgpack_pack_str_with_body(pk, name, sizeof name - 1) < 0 ||
      msgpack_pack_str_with_body(pk, ver_key, sizeof ver_key - 1) < 0 ||
      msgpack_pack_int(pk, SC__PROFILE_FORMAT_VERSION) < 0)
    return SC_ENOMEM;
  for (size_t i = 0; i < doc->u.c.len; i++) {
    const char *k = doc->u.c.keys[i];
    size_t klen = strlen(k);
    SC_FORWARD_IF_ERROR(pack_text(pk, k, klen));
    SC_FORWARD_IF_ERROR(pack_in(w, doc->u.c.items[i], member_role(R_ROOT, k, klen), 1));
  }
  return raw->failed ? SC_ENOMEM : 0;
}

static int pack_doc(const sc__value *doc, sc__buf *raw) {
  writer w;
  w.nschemas = 0;
  w.written = 0;
  w.run.k = w.run.cap = 0;
  w.run.value = NULL;
  w.mask = NULL;
  w.mask_cap = 0;
  int rc = pack_root(&w, doc, raw);
  for (size_t i = 0; i < w.nschemas; i++) schema_free(&w.schemas[i]);
  schema_free(&w.run);
  sc__free(w.mask);
  return rc;
}

int sc__msgpack_zstd_write(const sc__value *doc, sc__buf *out) {
  if (!doc || !out || doc->type != SC__V_OBJECT) return SC_EINVAL;
  sc__buf raw;
  sc__buf_init(&raw);
  int rc = pack_doc(doc, &raw);
  ZSTD_CCtx *cctx = NULL;
  if (rc == 0) {
    cctx = ZSTD_createCCtx();
    size_t bound = ZSTD_compressBound(raw.len);
    if (!cctx || ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)) ||
        sc__buf_reserve(out, bound) < 0) {
      rc = SC_ENOMEM;
    } else {
      /* Literals stored as they are, not Huffman-coded: most of a
       * profile's literals are the low bytes of float64s, which entropy
       * coding shrinks little (about 8% of the file) and slows down a lot
       * (decompression about 3.5 times slower).  Not an error where the
       * parameter is unknown: the frame is still valid. */
      (void)ZSTD_CCtx_setParameter(cctx, ZSTD_c_literalCompressionMode, ZSTD_ps_disable);
      size_t n = ZSTD_compress2(cctx, out->data + out->len, bound, raw.data, raw.len);
      if (ZSTD_isError(n)) {
        rc = SC_ENOMEM; /* with a bound-sized buffer only allocation can fail */
      } else {
        out->len += n;
        out->data[out->len] = '\0';
      }
    }
  }
  ZSTD_freeCCtx(cctx);
  sc__buf_free(&raw);
  return rc;
}

/* ---- decompression ------------------------------------------------------ */

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define WINDOW_LOG_MAX 24
#else
#define WINDOW_LOG_MAX 27 /* zstd's default limit: 128 MiB windows */
#endif

/* A frame without a content size (written by a streaming compressor):
 * decompress it into a buffer that doubles up to the size limit. */
static int decompress_stream(ZSTD_DCtx *dctx, const void *data, size_t len, char **out,
                             size_t *outlen) {
  size_t cap = len < (SC__DOC_MAX_BYTES >> 3) ? len * 8 : SC__DOC_MAX_BYTES;
  if (cap < 65536) cap = 65536;
  if (cap > SC__DOC_MAX_BYTES) cap = SC__DOC_MAX_BYTES;
  char *buf = sc__malloc(cap);
  if (!buf) return SC_ENOMEM;
  ZSTD_inBuffer in = {data, len, 0};
  ZSTD_outBuffer ob = {buf, cap, 0};
  for (;;) {
    size_t r = ZSTD_decompressStream(dctx, &ob, &in);
    if (ZSTD_isError(r)) {
      sc__free(buf);
      return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? SC_ENOMEM : SC_EFORMAT;
    }
    if (r == 0) break; /* frame complete (and its checksum verified) */
    if (ob.pos == ob.size) {
      if (cap >= SC__DOC_MAX_BYTES) {
        sc__free(buf);
        return SC_EFORMAT; /* larger than any profile this library loads */
      }
      cap = cap > SC__DOC_MAX_BYTES / 2 ? SC__DOC_MAX_BYTES : cap * 2;
      char *nb = sc__realloc(buf, cap);
      if (!nb) {
        sc__free(buf);
        return SC_ENOMEM;
      }
      buf = nb;
      ob.dst = buf;
      ob.size = cap;
    } else if (in.pos == in.size) {
      sc__free(buf);
      return SC_EFORMAT; /* input ended inside the frame */
    }
  }
  if (in.pos != in.size || ob.pos == 0) {
    sc__free(buf);
    return SC_EFORMAT;
  }
  *out = buf;
  *outlen = ob.pos;
  return 0;
}

/* The payload of the one frame in data[0..len) in *out (*outlen bytes),
 * from sc__pages_alloc(*mapped) when *mapped is not 0, else from
 * sc__malloc. */
static int decompress(const void *data, size_t len, char **out, size_t *outlen, size_t *mapped) {
  SC_RETURN_IF(len > SC__DOC_MAX_BYTES, SC_EFORMAT);
  /* exactly one frame, nothing after it */
  size_t fsz = ZSTD_findFrameCompressedSize(data, len);
  SC_RETURN_IF(ZSTD_isError(fsz) || fsz != len, SC_EFORMAT);
  unsigned long long cs = ZSTD_getFrameContentSize(data, len);
  SC_RETURN_IF(cs == ZSTD_CONTENTSIZE_ERROR || cs == 0, SC_EFORMAT);
  SC_RETURN_IF(cs != ZSTD_CONTENTSIZE_UNKNOWN && cs > SC__DOC_MAX_BYTES, SC_EFORMAT);
  ZSTD_DCtx *dctx = ZSTD_createDCtx();
  if (!dctx) return SC_ENOMEM;
  int rc;
  if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, WINDOW_LOG_MAX))) {
    rc = SC_ENOMEM;
  } else if (cs == ZSTD_CONTENTSIZE_UNKNOWN) {
    *mapped = 0;
    rc = decompress_stream(dctx, data, len, out, outlen);
  } else {
    /* written once, read twice, freed: huge pages save most page faults */
    char *buf = sc__pages_alloc((size_t)cs);
    if (!buf) {
      rc = SC_ENOMEM;
    } else {
      size_t n = ZSTD_decompressDCtx(dctx, buf, (size_t)cs, data, len);
      if (ZSTD_isError(n) || n != cs) {
        sc__pages_free(buf, (size_t)cs);
        rc = ZSTD_isError(n) && ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation ? SC_ENOMEM
                                                                                     : SC_EFORMAT;
      } else {
        *out = buf;
        *outlen = n;
        *mapped = n;
        rc = 0;
      }
    }
  }
  ZSTD_freeDCtx(dctx);
  return rc;
}

/* ---- structural check of the MessagePack bytes ------------------------- */

/* msgpack-c unpacks the document in pieces of at most this many encoded
 * bytes (see "pieces" below).  Fuzzing builds use tiny pieces, so that
 * short inputs go through both paths: pieces and large containers. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define PIECE_BYTES ((size_t)48)
#else
#define PIECE_BYTES ((size_t)64 << 10)
#endif

/* A container larger than PIECE_BYTES: where its encoding starts and
 * ends in the MessagePack bytes. */
typedef struct span {
  size_t start, end;
} span;

typedef struct spans {
  span *v;
  size_t n, cap;
} spans;

static int spans_add(spans *s, size_t start, size_t end) {
  SC_FORWARD_IF_ERROR(SC__GROW(s->v, s->cap, s->n, 64));
  s->v[s->n].start = start;
  s->v[s->n++].end = end;
  return 0;
}

static int span_cmp(const void *a, const void *b) {
  size_t x = ((const span *)a)->start, y = ((const span *)b)->start;
  return x < y ? -1 : x > y;
}

static uint64_t be(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

/* Limits of the encoding, looser than the document's (which the
 * conversion enforces on the document itself): tables nest deeper than
 * what they stand for, and a table of many short runs takes more
 * MessagePack values than its objects (a run of one empty object: seven
 * values for one, and more with its schema); + 4: the format header's two
 * keys and two values. */
#define MAX_NESTING (SC__DOC_MAX_DEPTH + TABLE_NESTING)
#define MAX_ENCODED_VALUES (8 * SC__DOC_MAX_VALUES + 4)

/* Bytes after the type byte of the values whose size the type byte
 * gives (numbers, nil, booleans, strs of up to 31 bytes); NOT_FIXED for
 * the others (longer strs, containers) and for the refused ones (0xc1,
 * bin, ext). */
#define NOT_FIXED 0xff
#define X NOT_FIXED
static const unsigned char scalar_bytes[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 00: positive fixint */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, /* 80: fixmap, fixarray */
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, /* a0: fixstr */
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
    0, X, 0, 0, X, X, X, X, X, X, 4, 8, 1, 2, 4, 8, /* c0: nil, -, false, true, bin, ext, float 32/64, uint 8-64 */
    1, 2, 4, 8, X, X, X, X, X, X, X, X, X, X, X, X, /* d0: int 8-64, fixext, ext, str 8-32, array, map */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* e0: negative fixint */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
#undef X

/* Walk the encoding once without allocating (but for `big`): every type
 * byte known and allowed, every length backed by the bytes that follow,
 * one top-level value and nothing after it, nesting and value count within
 * the limits.  The containers whose encoding is larger than PIECE_BYTES
 * go to `big`, in the order in which they start. */
static int prescan(const unsigned char *p, size_t len, spans *big) {
  const unsigned char *begin = p, *end = p + len;
  uint64_t pending[MAX_NESTING + 1]; /* items left per open container */
  size_t start[MAX_NESTING + 1];     /* where each open container starts */
  int top = 0;
  uint64_t left = 1; /* items left in the innermost open container: the root */
  uint64_t nvalues = 1;
  for (;;) {
    while (left) {
      left--;
      SC_RETURN_IF(p >= end, SC_EFORMAT);
      const unsigned char *at = p;
      unsigned c = *p++;
      /* the commonest first, as branches: the next address is then known
       * before the byte is read (no table lookup in the dependency chain) */
      if (c <= 0x7f) continue; /* positive fixint */
      size_t avail = (size_t)(end - p);
      if (c == 0xcb) { /* float 64 */
        SC_RETURN_IF(avail < 8, SC_EFORMAT);
        p += 8;
        continue;
      }
      unsigned fixed = scalar_bytes[c];
      if (SC_LIKELY(fixed != NOT_FIXED)) { /* a number, nil, bool, short str */
        SC_RETURN_IF(fixed > avail, SC_EFORMAT);
        p += fixed;
        continue;
      }
      uint64_t skip = 0, children;
      if (c <= 0x8f) {
        children = 2 * (uint64_t)(c & 0x0f);
      } else if (c <= 0x9f) {
        children = c & 0x0f;
      } else {
        int lenbytes;
        switch (c) {
          case 0xd9: lenbytes = 1; break;
          case 0xda: case 0xdc: case 0xde: lenbytes = 2; break;
          case 0xdb: case 0xdd: case 0xdf: lenbytes = 4; break;
          default: return SC_EFORMAT; /* 0xc1, bin, ext, fixext */
        }
        SC_RETURN_IF(avail < (size_t)lenbytes, SC_EFORMAT);
        uint64_t n = be(p, lenbytes);
        p += lenbytes;
        avail -= (size_t)lenbytes;
        if (c <= 0xdb) { /* str 8/16/32 */
          skip = n;
          SC_RETURN_IF(skip > avail, SC_EFORMAT);
          p += skip;
          continue;
        }
        children = c >= 0xde ? 2 * n : n;
      }
      /* a container: each of its items takes at least one byte */
      SC_RETURN_IF(top + 1 > MAX_NESTING, SC_EFORMAT);
      if (!children) continue;
      SC_RETURN_IF(children > (uint64_t)(end - p), SC_EFORMAT);
      nvalues += children;
      SC_RETURN_IF(nvalues > MAX_ENCODED_VALUES, SC_EFORMAT);
      pending[top++] = left;
      start[top] = (size_t)(at - begin);
      left = children;
    }
    if (top == 0) break;
    if ((size_t)(p - begin) - start[top] > PIECE_BYTES)
      SC_FORWARD_IF_ERROR(spans_add(big, start[top], (size_t)(p - begin)));
    left = pending[--top];
  }
  SC_RETURN_IF(p != end, SC_EFORMAT);
  /* found as they ended, inner before outer */
  if (big->n > 1) qsort(big->v, big->n, sizeof *big->v, span_cmp);
  return 0;
}

/* ---- msgpack objects to documents -------------------------------------- */

/* A schema that a run of a table gave (later runs may give its index
 * instead): the keys of the run's objects and, per key, where their values
 * are (the writer's COL_* kinds), with the nodes of the constants and of
 * the sparse columns' defaults (converted once, shared by every object of
 * every run of the schema that holds them) and the number of values each
 * stands for, itself included, and the width of a column's tuples. */
typedef struct schema_info {
  char **keys;
  uint32_t k, nfull;
  int depth;          /* of the objects */
  size_t const_values; /* in the constants of one object */
  uint8_t *kind;
  uint32_t *same;
  uint32_t *width;   /* COL_FULL: of the tuples, 0 for none */
  sc__value **value; /* COL_CONST: the constant; COL_FULL: the default, or NULL */
  size_t *count;
} schema_info;

/* The conversion's state: the document being built and the number of its
 * values so far, the keys of the maps being converted (innermost last;
 * see sc__objkeys), a shape per depth; the format version; the
 * MessagePack bytes, their large containers and the next of those to
 * come, and the unpacked piece; the elements so far of the table being
 * converted, the schemas of the tables' runs so far, and per key of the
 * run being converted the values its column counted. */
typedef struct conv {
  sc__vdoc *doc;
  size_t nvalues;
  char **keys;
  size_t sp, cap;
  int depth;
  sc__shape shapes[SC__DOC_MAX_DEPTH + 1];
  int version;
  const char *raw;
  size_t rawlen;
  spans big;
  size_t next_big;
  msgpack_unpacked up;
  sc__value **rows;
  size_t nrows, rows_cap;
  schema_info *schemas;
  size_t nschemas, schemas_cap;
  size_t *colvals;
  size_t colvals_cap;
} conv;

/* n more values in the document (SC__DOC_MAX_VALUES in all). */
static inline int add_values(conv *cv, size_t n) {
  SC_RETURN_IF(n > SC__DOC_MAX_VALUES - cv->nvalues, SC_EFORMAT);
  cv->nvalues += n;
  return 0;
}

static int text_ok(const char *s, size_t n) {
  if (n >= 8) {
    /* all ASCII (most text of a profile): eight bytes at a time, the last
     * word overlapping the one before */
    uint64_t any = 0, w;
    for (size_t i = 0; i + 8 <= n; i += 8) {
      memcpy(&w, s + i, 8);
      any |= w;
    }
    memcpy(&w, s + n - 8, 8);
    if (!((any | w) & 0x8080808080808080ull)) return 1;
  }
  return sc__utf8_valid_prefix((const unsigned char *)s, n) == n;
}

/* Room for `more` items in the array *v (of *cap, `used` in use). */
static int grow_to(void **v, size_t *cap, size_t used, size_t more, size_t size) {
  if (*cap - used >= more) return 0;
  size_t c = *cap ? *cap : 256;
  while (c - used < more) c *= 2;
  void *p = sc__realloc(*v, c * size);
  if (!p) return SC_ENOMEM;
  *v = p;
  *cap = c;
  return 0;
}

/* Room on the key stack for n more keys. */
static int keys_reserve(conv *cv, size_t n) {
  return grow_to((void **)&cv->keys, &cv->cap, cv->sp, n, sizeof *cv->keys);
}

/* The key of member i of a map being converted (base: where its keys
 * start on the key stack): checked, and its stored string in *key. */
static int map_key(conv *cv, sc__objkeys *ok, size_t base, const msgpack_object *k, char **key) {
  SC_RETURN_IF(k->type != MSGPACK_OBJECT_STR, SC_EFORMAT);
  size_t klen = k->via.str.size;
  const char *ktext = klen ? k->via.str.ptr : ""; /* msgpack-c: NULL when empty */
  *key = sc__objkeys_match(ok, ktext, klen);
  if (*key) return 0;
  SC_RETURN_IF(!text_ok(ktext, klen) || memchr(ktext, '\0', klen), SC_EFORMAT);
  /* SC_EFORMAT: a duplicate key */
  return sc__objkeys_other(ok, &cv->doc->arena, cv->keys + base, ktext, klen, key);
}

/* A map's members (n of them, in place r), from an unpacked map (kv) or,
 * for a large map, read one by one from the bytes at *off. */
static int map_members(conv *cv, const msgpack_object_kv *kv, size_t *off, size_t n, role r,
                       sc__value **out);
/* A table's runs (n of them), from an unpacked array or from the bytes. */
static int table_runs(conv *cv, const msgpack_object *runs, size_t *off, size_t n,
                      sc__value **out);

/* The value o, in place r, as a node of the document (the container
 * being filled is at depth cv->depth).  The values in o count towards
 * SC__DOC_MAX_VALUES here; o itself, where its container counts it. */
static int convert(conv *cv, const msgpack_object *o, role r, sc__value **out) {
  sc__value *v;
  switch (o->type) {
    case MSGPACK_OBJECT_NIL:
      v = sc__vdoc_null(cv->doc);
      break;
    case MSGPACK_OBJECT_BOOLEAN:
      v = sc__vdoc_bool(cv->doc, o->via.boolean);
      break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      /* above int64: a double, as the JSON reader does */
      if (o->via.u64 <= (uint64_t)INT64_MAX) {
        v = sc__vdoc_int(cv->doc, (int64_t)o->via.u64);
      } else {
        if ((v = sc__vdoc_node(cv->doc, SC__V_DOUBLE))) v->u.d = (double)o->via.u64;
      }
      break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      v = sc__vdoc_int(cv->doc, o->via.i64);
      break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      SC_RETURN_IF(!isfinite(o->via.f64), SC_EFORMAT);
      if ((v = sc__vdoc_node(cv->doc, SC__V_DOUBLE))) v->u.d = o->via.f64;
      break;
    case MSGPACK_OBJECT_STR: {
      size_t n = o->via.str.size;
      if (n == 0) {
        v = sc__vdoc_empty(cv->doc, SC__V_STRING);
        break;
      }
      SC_RETURN_IF(!text_ok(o->via.str.ptr, n), SC_EFORMAT);
      v = sc__vdoc_node(cv->doc, SC__V_STRING);
      char *copy = v ? sc__arena_strndup(&cv->doc->arena, o->via.str.ptr, n) : NULL;
      if (!copy) return SC_ENOMEM;
      v->u.str.s = copy;
      v->u.str.len = n;
      break;
    }
    case MSGPACK_OBJECT_ARRAY: {
      SC_RETURN_IF(cv->depth >= SC__DOC_MAX_DEPTH, SC_EFORMAT);
      size_t n = o->via.array.size;
      int rc = 0;
      cv->depth++;
      if (r == R_TABLE) {
        rc = table_runs(cv, o->via.array.ptr, NULL, n, &v);
      } else if (n == 0) {
        v = sc__vdoc_empty(cv->doc, SC__V_ARRAY);
      } else {
        v = sc__vdoc_node(cv->doc, SC__V_ARRAY);
        sc__value **items = sc__arena_alloc(&cv->doc->arena, n * sizeof *items);
        if (!v || !items) rc = SC_ENOMEM;
        if (rc == 0) rc = add_values(cv, n);
        for (size_t i = 0; rc == 0 && i < n; i++)
          rc = convert(cv, &o->via.array.ptr[i], R_ANY, &items[i]);
        if (rc == 0) {
          v->u.c.items = items;
          v->u.c.keys = NULL;
          v->u.c.len = v->u.c.cap = (uint32_t)n;
        }
      }
      cv->depth--;
      if (rc < 0) return rc;
      break;
    }
    case MSGPACK_OBJECT_MAP: {
      SC_RETURN_IF(cv->depth >= SC__DOC_MAX_DEPTH, SC_EFORMAT);
      cv->depth++;
      int rc = map_members(cv, o->via.map.ptr, NULL, o->via.map.size, r, out);
      cv->depth--;
      return rc;
    }
    default:
      return SC_EFORMAT; /* bin, ext (the pre-scan already refused them) */
  }
  if (!v) return SC_ENOMEM;
  *out = v;
  return 0;
}

static int str_is(const msgpack_object *o, const char *s) {
  size_t n = strlen(s);
  return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

/* ---- tables -------------------------------------------------------------
 *
 * A table's elements are gathered on cv->rows while its runs are
 * converted, then copied into one array.  The objects of a run are built
 * together: one allocation for the N nodes, one for their N x K members
 * (object i's are items[i*K .. i*K+K)), one keys array shared by all of
 * them (and, through the depth's shape, by the runs of other tables with
 * the same keys); a column given once is one node shared by the N
 * objects, as the document model allows (value.h).  The document's value
 * count is that of the objects one by one. */

static int rows_reserve(conv *cv, size_t n) {
  return grow_to((void **)&cv->rows, &cv->rows_cap, cv->nrows, n, sizeof *cv->rows);
}

/* The keys of a run's objects, as listed (an array of str), checked as an
 * object's keys are, into *out (NULL for none); the objects are at depth
 * `depth`. */
static int run_keys(conv *cv, const msgpack_object *list, size_t k, int depth, char ***out) {
  SC_FORWARD_IF_ERROR(keys_reserve(cv, k));
  size_t base = cv->sp;
  cv->sp += k;
  sc__shape *shape = &cv->shapes[depth];
  sc__objkeys ok;
  sc__objkeys_begin(&ok, shape);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < k; i++) {
    char *key;
    if ((rc = map_key(cv, &ok, base, &list[i], &key)) < 0) break;
    cv->keys[base + i] = key;
    rc = sc__objkeys_commit(&ok, cv->keys + base, list[i].via.str.size);
  }
  if (rc == 0) rc = sc__objkeys_end(&ok, &cv->doc->arena, cv->keys + base, shape, out);
  sc__objkeys_free(&ok);
  cv->sp = base;
  return rc;
}

/* The key of a schema's "constants" or "same_as" (k, an unpacked str):
 * its index among the schema's keys (ks). */
static int schema_key(const sc__keyset *ks, char *const *keys, const msgpack_object *k,
                      size_t *idx) {
  SC_RETURN_IF(k->type != MSGPACK_OBJECT_STR, SC_EFORMAT);
  ptrdiff_t i = sc__keyset_find(ks, (const char *const *)keys, k->via.str.size ? k->via.str.ptr : "",
                                k->via.str.size);
  SC_RETURN_IF(i < 0, SC_EFORMAT);
  *idx = (size_t)i;
  return 0;
}

/* A value of a schema (a constant or a default) as a node of the
 * document: the values it holds are counted where the schema is used,
 * once per object that has it. */
static int schema_value(conv *cv, const msgpack_object *o, sc__value **out, size_t *count) {
  size_t before = cv->nvalues;
  int rc = convert(cv, o, R_ANY, out);
  *count = 1 + cv->nvalues - before;
  cv->nvalues = before;
  return rc;
}

/* The "constants", "same_as", "defaults" and "tuples" of a schema whose
 * keys are in si. */
static int schema_kinds(conv *cv, schema_info *si, const msgpack_object *consts,
                        const msgpack_object *same, const msgpack_object *dflts,
                        const msgpack_object *widths) {
  sc__keyset ks;
  sc__keyset_init(&ks);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < si->k; i++)
    rc = sc__keyset_insert(&ks, (const char *const *)si->keys, strlen(si->keys[i]));
  for (size_t i = 0; rc == 0 && consts && i < consts->via.map.size; i++) {
    const msgpack_object_kv *kv = &consts->via.map.ptr[i];
    size_t c;
    if ((rc = schema_key(&ks, si->keys, &kv->key, &c)) < 0) break;
    if (si->kind[c] != COL_FULL) {
      rc = SC_EFORMAT; /* given twice */
      break;
    }
    si->kind[c] = COL_CONST;
    rc = schema_value(cv, &kv->val, &si->value[c], &si->count[c]);
  }
  for (size_t i = 0; rc == 0 && same && i < same->via.map.size; i++) {
    const msgpack_object_kv *kv = &same->via.map.ptr[i];
    size_t c, t;
    if ((rc = schema_key(&ks, si->keys, &kv->key, &c)) < 0 ||
        (rc = schema_key(&ks, si->keys, &kv->val, &t)) < 0)
      break;
    if (si->kind[c] != COL_FULL || t >= c) {
      rc = SC_EFORMAT; /* given twice, or not an earlier key */
      break;
    }
    si->kind[c] = COL_SAME;
    si->same[c] = (uint32_t)t;
  }
  /* columns only: sparse (a default) and of tuples (a width) */
  for (size_t i = 0; rc == 0 && dflts && i < dflts->via.map.size; i++) {
    const msgpack_object_kv *kv = &dflts->via.map.ptr[i];
    size_t c;
    if ((rc = schema_key(&ks, si->keys, &kv->key, &c)) < 0) break;
    if (si->kind[c] != COL_FULL || si->value[c]) {
      rc = SC_EFORMAT; /* not a column, or given twice */
      break;
    }
    rc = schema_value(cv, &kv->val, &si->value[c], &si->count[c]);
  }
  for (size_t i = 0; rc == 0 && widths && i < widths->via.map.size; i++) {
    const msgpack_object_kv *kv = &widths->via.map.ptr[i];
    size_t c;
    if ((rc = schema_key(&ks, si->keys, &kv->key, &c)) < 0) break;
    if (si->kind[c] != COL_FULL || si->width[c] || kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        kv->val.via.u64 < 1 || kv->val.via.u64 > TUPLE_MAX) {
      rc = SC_EFORMAT; /* not a column, given twice, or not a width */
      break;
    }
    si->width[c] = (uint32_t)kv->val.via.u64;
  }
  sc__keyset_free(&ks);
  return rc;
}

/* A schema given in full (m), for the objects at depth cv->depth. */
static int parse_schema(conv *cv, const msgpack_object *m, schema_info *si) {
  SC_RETURN_IF(m->type != MSGPACK_OBJECT_MAP, SC_EFORMAT);
  const msgpack_object *keys = NULL, *consts = NULL, *same = NULL, *dflts = NULL, *widths = NULL;
  for (size_t i = 0; i < m->via.map.size; i++) {
    const msgpack_object *k = &m->via.map.ptr[i].key;
    SC_RETURN_IF(k->type != MSGPACK_OBJECT_STR, SC_EFORMAT);
    const char *t = k->via.str.ptr;
    size_t n = k->via.str.size;
    bool v3 = cv->version >= 3;
    const msgpack_object **slot = name_is(t, n, "keys", 4)              ? &keys
                                  : name_is(t, n, "constants", 9)       ? &consts
                                  : name_is(t, n, "same_as", 7)         ? &same
                                  : v3 && name_is(t, n, "defaults", 8)  ? &dflts
                                  : v3 && name_is(t, n, "tuples", 6)    ? &widths
                                                                        : NULL;
    SC_RETURN_IF(!slot || *slot, SC_EFORMAT); /* unknown or repeated */
    *slot = &m->via.map.ptr[i].val;
  }
  SC_RETURN_IF(!keys || keys->type != MSGPACK_OBJECT_ARRAY, SC_EFORMAT);
  SC_RETURN_IF(consts && consts->type != MSGPACK_OBJECT_MAP, SC_EFORMAT);
  SC_RETURN_IF(same && same->type != MSGPACK_OBJECT_MAP, SC_EFORMAT);
  SC_RETURN_IF(dflts && dflts->type != MSGPACK_OBJECT_MAP, SC_EFORMAT);
  SC_RETURN_IF(widths && widths->type != MSGPACK_OBJECT_MAP, SC_EFORMAT);
  size_t k = keys->via.array.size;
  memset(si, 0, sizeof *si);
  si->depth = cv->depth;
  si->k = (uint32_t)k;
  SC_FORWARD_IF_ERROR(run_keys(cv, keys->via.array.ptr, k, cv->depth, &si->keys));
  /* one block: values, counts, earlier keys, widths, kinds */
  size_t per = sizeof *si->value + sizeof *si->count + sizeof *si->same + sizeof *si->width + 1;
  char *mem = sc__malloc(k ? k * per : 1);
  if (!mem) return SC_ENOMEM;
  si->value = (sc__value **)(void *)mem;
  si->count = (size_t *)(void *)(mem + k * sizeof *si->value);
  si->same = (uint32_t *)(void *)(mem + k * (sizeof *si->value + sizeof *si->count));
  si->width = si->same + k;
  si->kind = (uint8_t *)(mem + k * (per - 1));
  memset(si->kind, COL_FULL, k);
  memset(si->value, 0, k * sizeof *si->value);
  memset(si->width, 0, k * sizeof *si->width);
  int rc = consts || same || dflts || widths ? schema_kinds(cv, si, consts, same, dflts, widths) : 0;
  if (rc < 0) {
    sc__free(mem);
    return rc;
  }
  for (size_t c = 0; c < k; c++) {
    si->nfull += si->kind[c] == COL_FULL;
    if (si->kind[c] == COL_CONST) si->const_values += si->count[c];
  }
  /* (a schema whose objects could never fit the limit is refused here) */
  if (si->const_values > SC__DOC_MAX_VALUES) {
    sc__free(mem);
    return SC_EFORMAT;
  }
  return 0;
}

/* A number of a tuple, as a node. */
static int tuple_number(conv *cv, const msgpack_object *o, sc__value *spare, sc__value **out) {
  switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      SC_RETURN_IF(!isfinite(o->via.f64), SC_EFORMAT);
      spare->type = SC__V_DOUBLE;
      spare->u.d = o->via.f64;
      break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      if (o->via.u64 < SC__VDOC_SMALL_INTS) {
        *out = sc__vdoc_int(cv->doc, (int64_t)o->via.u64);
        return *out ? 0 : SC_ENOMEM;
      }
      /* above int64: a double, as the JSON reader does */
      if (o->via.u64 > (uint64_t)INT64_MAX) {
        spare->type = SC__V_DOUBLE;
        spare->u.d = (double)o->via.u64;
      } else {
        spare->type = SC__V_INT;
        spare->u.i = (int64_t)o->via.u64;
      }
      break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      spare->type = SC__V_INT;
      spare->u.i = o->via.i64;
      break;
    default:
      return SC_EFORMAT; /* tuples hold numbers only */
  }
  spare->flags = SC__VF_ARENA;
  *out = spare;
  return 0;
}

/* A value of a column of tuples of `width` numbers, given as one flat
 * array of numbers (o), as the array of arrays it stands for (in an object
 * at depth cv->depth - 1: the array and its tuples are two levels below
 * it); every value counted before anything is allocated for them. */
static int tuple_cell(conv *cv, const msgpack_object *o, uint32_t width, sc__value **out) {
  SC_RETURN_IF(o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size % width, SC_EFORMAT);
  size_t len = o->via.array.size, m = len / width;
  SC_RETURN_IF(cv->depth >= SC__DOC_MAX_DEPTH || (m && cv->depth + 1 >= SC__DOC_MAX_DEPTH),
               SC_EFORMAT);
  if (m == 0) {
    *out = sc__vdoc_empty(cv->doc, SC__V_ARRAY);
    return *out ? 0 : SC_ENOMEM;
  }
  SC_FORWARD_IF_ERROR(add_values(cv, m + len));
  /* one block of nodes (the array, its tuples, room for every number)
   * and one of members (the array's, then the tuples') */
  sc__arena *a = &cv->doc->arena;
  sc__value *nodes = sc__arena_alloc(a, (1 + m + len) * sizeof *nodes);
  sc__value **ptrs = sc__arena_alloc(a, (m + len) * sizeof *ptrs);
  if (!nodes || !ptrs) return SC_ENOMEM;
  const msgpack_object *e = o->via.array.ptr;
  sc__value *spare = nodes + 1 + m, **num = ptrs + m;
  for (size_t i = 0; i < len; i++) {
    SC_FORWARD_IF_ERROR(tuple_number(cv, &e[i], spare, &num[i]));
    spare += num[i] == spare;
  }
  for (size_t t = 0; t < m; t++) {
    sc__value *tu = &nodes[1 + t];
    tu->type = SC__V_ARRAY;
    tu->flags = SC__VF_ARENA;
    tu->u.c.items = num + t * width;
    tu->u.c.keys = NULL;
    tu->u.c.len = tu->u.c.cap = width;
    ptrs[t] = tu;
  }
  nodes->type = SC__V_ARRAY;
  nodes->flags = SC__VF_ARENA;
  nodes->u.c.items = ptrs;
  nodes->u.c.keys = NULL;
  nodes->u.c.len = nodes->u.c.cap = (uint32_t)m;
  *out = nodes;
  return 0;
}

/* A value of a column (o; width: of its tuples, 0 for none) as a node. */
static int cell(conv *cv, const msgpack_object *o, uint32_t width, sc__value **out) {
  if (width) return tuple_cell(cv, o, width, out);
  /* most numbers of a profile are small integers: shared nodes */
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 < SC__VDOC_SMALL_INTS) {
    *out = sc__vdoc_int(cv->doc, (int64_t)o->via.u64);
    return *out ? 0 : SC_ENOMEM;
  }
  return convert(cv, o, R_ANY, out);
}

/* One run (an unpacked map) of the table at depth cv->depth: its elements
 * onto cv->rows. */
static int table_run(conv *cv, const msgpack_object *run) {
  SC_RETURN_IF(run->type != MSGPACK_OBJECT_MAP, SC_EFORMAT);
  const msgpack_object *sch = NULL, *count = NULL, *cols = NULL, *vals = NULL;
  for (size_t i = 0; i < run->via.map.size; i++) {
    const msgpack_object *k = &run->via.map.ptr[i].key;
    SC_RETURN_IF(k->type != MSGPACK_OBJECT_STR, SC_EFORMAT);
    const char *t = k->via.str.ptr;
    size_t n = k->via.str.size;
    const msgpack_object **slot = name_is(t, n, "schema", 6)    ? &sch
                                  : name_is(t, n, "count", 5)   ? &count
                                  : name_is(t, n, "columns", 7) ? &cols
                                  : name_is(t, n, "values", 6)  ? &vals
                                                                : NULL;
    SC_RETURN_IF(!slot || *slot, SC_EFORMAT); /* unknown or repeated */
    *slot = &run->via.map.ptr[i].val;
  }
  if (vals) {
    /* elements that are not objects, as in any array */
    SC_RETURN_IF(sch || count || cols, SC_EFORMAT);
    SC_RETURN_IF(vals->type != MSGPACK_OBJECT_ARRAY || vals->via.array.size == 0, SC_EFORMAT);
    size_t n = vals->via.array.size;
    SC_FORWARD_IF_ERROR(add_values(cv, n));
    SC_FORWARD_IF_ERROR(rows_reserve(cv, n));
    for (size_t i = 0; i < n; i++)
      SC_FORWARD_IF_ERROR(convert(cv, &vals->via.array.ptr[i], R_ANY, &cv->rows[cv->nrows++]));
    return 0;
  }
  SC_RETURN_IF(!sch || !count || !cols, SC_EFORMAT);
  SC_RETURN_IF(count->type != MSGPACK_OBJECT_POSITIVE_INTEGER || count->via.u64 == 0 ||
                   count->via.u64 > SC__DOC_MAX_VALUES,
               SC_EFORMAT);
  size_t n = (size_t)count->via.u64;
  SC_RETURN_IF(cv->depth >= SC__DOC_MAX_DEPTH, SC_EFORMAT); /* the objects' depth */
  const schema_info *si;
  if (sch->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
    /* a schema given earlier in the document, for objects at this depth */
    SC_RETURN_IF(sch->via.u64 >= cv->nschemas, SC_EFORMAT);
    si = &cv->schemas[sch->via.u64];
    SC_RETURN_IF(si->depth != cv->depth + 1, SC_EFORMAT);
  } else {
    SC_FORWARD_IF_ERROR(
        grow_to((void **)&cv->schemas, &cv->schemas_cap, cv->nschemas, 1, sizeof *cv->schemas));
    cv->depth++;
    int rc = parse_schema(cv, sch, &cv->schemas[cv->nschemas]);
    cv->depth--;
    SC_FORWARD_IF_ERROR(rc);
    si = &cv->schemas[cv->nschemas++];
  }
  size_t k = si->k;
  SC_RETURN_IF(cols->type != MSGPACK_OBJECT_ARRAY || cols->via.array.size != si->nfull, SC_EFORMAT);
  const msgpack_object *col = cols->via.array.ptr;
  /* every column's length, and a sparse one's mask, before anything is
   * allocated: its values other than the default, in the rows whose bit
   * is set, then counted with the defaults that fill the others */
  size_t words = mask_words(n), dflt_values = 0;
  for (size_t j = 0, f = 0; j < k; j++) {
    if (si->kind[j] != COL_FULL) continue;
    const msgpack_object *c = &col[f++];
    SC_RETURN_IF(c->type != MSGPACK_OBJECT_ARRAY, SC_EFORMAT);
    if (!si->value[j]) {
      SC_RETURN_IF(c->via.array.size != n, SC_EFORMAT);
      continue;
    }
    size_t len = c->via.array.size, listed = 0;
    SC_RETURN_IF(len < words, SC_EFORMAT);
    for (size_t w = 0; w < words; w++) {
      const msgpack_object *m = &c->via.array.ptr[w];
      SC_RETURN_IF(m->type != MSGPACK_OBJECT_POSITIVE_INTEGER, SC_EFORMAT);
      /* no bit past the last row */
      SC_RETURN_IF(w == words - 1 && n % 64 && m->via.u64 >> (n % 64), SC_EFORMAT);
      listed += (size_t)__builtin_popcountll(m->via.u64);
    }
    SC_RETURN_IF(len - words != listed, SC_EFORMAT);
    /* what the default holds, once per row left out (< 2^50: no overflow) */
    size_t per = si->count[j] - 1;
    SC_RETURN_IF(per && n - listed > SC__DOC_MAX_VALUES / per, SC_EFORMAT);
    dflt_values += per * (n - listed);
    SC_RETURN_IF(dflt_values > SC__DOC_MAX_VALUES, SC_EFORMAT);
  }
  /* each object, each of its keys and what its constants hold, before
   * anything is allocated for them (k + 1 + const_values < 2^33, and n is
   * at most SC__DOC_MAX_VALUES: no overflow) */
  SC_RETURN_IF((uint64_t)k + 1 + si->const_values > SC__DOC_MAX_VALUES / n, SC_EFORMAT);
  SC_FORWARD_IF_ERROR(add_values(cv, n * (k + 1 + si->const_values)));
  SC_FORWARD_IF_ERROR(rows_reserve(cv, n));
  sc__value **rows = cv->rows + cv->nrows;
  if (k == 0) {
    sc__value *e = sc__vdoc_empty(cv->doc, SC__V_OBJECT);
    if (!e) return SC_ENOMEM;
    for (size_t i = 0; i < n; i++) rows[i] = e;
    cv->nrows += n;
    return 0;
  }
  sc__value *objs = sc__arena_alloc(&cv->doc->arena, n * sizeof *objs);
  sc__value **items = sc__arena_alloc(&cv->doc->arena, n * k * sizeof *items);
  if (!objs || !items ||
      grow_to((void **)&cv->colvals, &cv->colvals_cap, 0, k, sizeof *cv->colvals) < 0)
    return SC_ENOMEM;
  cv->depth++; /* the objects': containers in them are one deeper */
  int rc = 0;
  for (size_t j = 0, f = 0; rc == 0 && j < k; j++) {
    sc__value **dst = items + j;
    size_t before = cv->nvalues;
    if (si->kind[j] == COL_SAME) {
      size_t t = si->same[j];
      if ((rc = add_values(cv, cv->colvals[t])) < 0) break;
      for (size_t r = 0; r < n; r++) dst[r * k] = items[r * k + t];
    } else if (si->kind[j] == COL_CONST) {
      /* one node for all n objects (counted above) */
      sc__value *v = si->value[j];
      for (size_t r = 0; r < n; r++) dst[r * k] = v;
      cv->colvals[j] = si->count[j] * n;
      continue;
    } else if (!si->value[j]) {
      const msgpack_object *c = col[f++].via.array.ptr;
      uint32_t width = si->width[j];
      if ((rc = add_values(cv, n)) < 0) break;
      for (size_t r = 0; rc == 0 && r < n; r++) rc = cell(cv, &c[r], width, &dst[r * k]);
    } else {
      /* sparse: the default node where the mask has no bit (counted
       * above with the rest of the default) */
      const msgpack_object *c = col[f].via.array.ptr, *v = c + words;
      size_t listed = col[f++].via.array.size - words;
      uint32_t width = si->width[j];
      sc__value *dflt = si->value[j];
      if ((rc = add_values(cv, n + (si->count[j] - 1) * (n - listed))) < 0) break;
      for (size_t r = 0; rc == 0 && r < n; r++) {
        if (c[r / 64].via.u64 >> (r % 64) & 1) {
          rc = cell(cv, v++, width, &dst[r * k]);
        } else {
          dst[r * k] = dflt;
        }
      }
    }
    cv->colvals[j] = cv->nvalues - before;
  }
  cv->depth--;
  if (rc < 0) return rc; /* what is in the arena goes with the document */
  for (size_t i = 0; i < n; i++) {
    objs[i].type = SC__V_OBJECT;
    objs[i].flags = SC__VF_ARENA;
    objs[i].u.c.items = items + i * k;
    objs[i].u.c.keys = si->keys;
    objs[i].u.c.len = objs[i].u.c.cap = (uint32_t)k;
    rows[i] = &objs[i];
  }
  cv->nrows += n;
  return 0;
}

/* ---- pieces -------------------------------------------------------------
 *
 * Unpacked in one go, a large profile becomes tens of MiB of
 * msgpack_object that are written once, read once and thrown away: most
 * of the time would go to faulting that memory in and to cache misses.
 * Instead, msgpack-c unpacks the document value by value where values are
 * small: every value whose encoding is at most PIECE_BYTES is one call to
 * msgpack_unpack_next, converted at once while its objects are in cache
 * (the next call reuses the same memory).  Only the containers larger
 * than that, which the pre-scan listed, the root and its members are
 * opened here: their header (a type byte and a count, already checked by
 * the pre-scan) is read here, and their members are pieces in turn; a
 * table's runs are pieces whatever their size.  Every key, string and
 * number is still decoded by msgpack-c.
 *
 * Pieces start at least two levels below the root, so that no piece
 * nests deeper than msgpack-c's own limit (32 containers; the pre-scan
 * allows SC__DOC_MAX_DEPTH + TABLE_NESTING in all). */

static bool is_container(unsigned c) { return (c >= 0x80 && c <= 0x9f) || (c >= 0xdc && c <= 0xdf); }

/* Unpack the one value at raw[*off] into cv->up, advancing *off past it.
 * Unless `whole`, it must not be a large container or hold one. */
static int unpack_piece(conv *cv, size_t *off, bool whole) {
  size_t start = *off;
  msgpack_unpack_return ur = msgpack_unpack_next(&cv->up, cv->raw, cv->rawlen, off);
  if (ur == MSGPACK_UNPACK_NOMEM_ERROR) return SC_ENOMEM;
  SC_RETURN_IF(ur != MSGPACK_UNPACK_SUCCESS || *off <= start, SC_EFORMAT);
  if (whole) {
    /* the large containers in it were unpacked with it */
    while (cv->next_big < cv->big.n && cv->big.v[cv->next_big].start < *off) cv->next_big++;
  } else {
    SC_RETURN_IF(cv->next_big < cv->big.n && cv->big.v[cv->next_big].start < *off, SC_EFORMAT);
  }
  return 0;
}

/* A piece that must not be a container (a map key, the header's values):
 * refused before msgpack-c sees it. */
static int unpack_scalar(conv *cv, size_t *off) {
  SC_RETURN_IF(*off >= cv->rawlen || is_container((unsigned char)cv->raw[*off]), SC_EFORMAT);
  return unpack_piece(cv, off, false);
}

/* The header of the container at raw[*off]: its member count (a map's
 * pairs) and whether it is a map; *off moves past the header. */
static int big_header(conv *cv, size_t *off, size_t *n, int *is_map) {
  const unsigned char *p = (const unsigned char *)cv->raw + *off;
  size_t avail = cv->rawlen - *off;
  SC_RETURN_IF(avail < 1, SC_EFORMAT);
  unsigned c = p[0];
  int lenbytes = 0;
  if (c >= 0x80 && c <= 0x8f) {
    *n = c & 0x0f;
    *is_map = 1;
  } else if (c >= 0x90 && c <= 0x9f) {
    *n = c & 0x0f;
    *is_map = 0;
  } else if (c == 0xdc || c == 0xdd) {
    lenbytes = c == 0xdc ? 2 : 4;
    *is_map = 0;
  } else if (c == 0xde || c == 0xdf) {
    lenbytes = c == 0xde ? 2 : 4;
    *is_map = 1;
  } else {
    return SC_EFORMAT;
  }
  SC_RETURN_IF(avail < 1 + (size_t)lenbytes, SC_EFORMAT);
  if (lenbytes) *n = (size_t)be(p + 1, lenbytes);
  *off += 1 + (size_t)lenbytes;
  return 0;
}

/* Convert the value at raw[*off] (in place r), advancing *off past it. */
static int convert_at(conv *cv, size_t *off, role r, sc__value **out) {
  bool listed = cv->next_big < cv->big.n && cv->big.v[cv->next_big].start == *off;
  bool open = listed || (cv->depth <= 1 && *off < cv->rawlen &&
                         is_container((unsigned char)cv->raw[*off]));
  if (!open) {
    SC_FORWARD_IF_ERROR(unpack_piece(cv, off, false));
    return convert(cv, &cv->up.data, r, out);
  }
  size_t end = listed ? cv->big.v[cv->next_big++].end : 0, n;
  int is_map, rc;
  SC_FORWARD_IF_ERROR(big_header(cv, off, &n, &is_map));
  SC_RETURN_IF(cv->depth >= SC__DOC_MAX_DEPTH, SC_EFORMAT);
  cv->depth++;
  if (is_map) {
    rc = map_members(cv, NULL, off, n, r, out);
  } else if (r == R_TABLE) {
    rc = table_runs(cv, NULL, off, n, out);
  } else {
    /* the pre-scan checked that n items fit in the bytes */
    sc__value *v = n ? sc__vdoc_node(cv->doc, SC__V_ARRAY) : sc__vdoc_empty(cv->doc, SC__V_ARRAY);
    sc__value **items = n ? sc__arena_alloc(&cv->doc->arena, n * sizeof *items) : NULL;
    rc = v && (items || !n) ? add_values(cv, n) : SC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) rc = convert_at(cv, off, R_ANY, &items[i]);
    if (rc == 0 && n) {
      v->u.c.items = items;
      v->u.c.keys = NULL;
      v->u.c.len = v->u.c.cap = (uint32_t)n;
    }
    if (rc == 0) *out = v;
  }
  cv->depth--;
  SC_RETURN_IF(rc == 0 && listed && *off != end, SC_EFORMAT);
  return rc;
}

static int map_members(conv *cv, const msgpack_object_kv *kv, size_t *off, size_t n, role r,
                       sc__value **out) {
  if (n == 0) {
    *out = sc__vdoc_empty(cv->doc, SC__V_OBJECT);
    return *out ? 0 : SC_ENOMEM;
  }
  sc__arena *a = &cv->doc->arena;
  sc__value *obj = sc__vdoc_node(cv->doc, SC__V_OBJECT);
  sc__value **items = sc__arena_alloc(a, n * sizeof *items);
  if (!obj || !items || keys_reserve(cv, n) < 0) return SC_ENOMEM;
  size_t base = cv->sp;
  cv->sp += n; /* the key stack holds this map's keys at [base, base + n) */
  sc__shape *shape = &cv->shapes[cv->depth];
  sc__objkeys ok;
  sc__objkeys_begin(&ok, shape);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char *key;
    const msgpack_object *k = kv ? &kv[i].key : NULL;
    if (!k) {
      if ((rc = unpack_scalar(cv, off)) < 0) break;
      k = &cv->up.data; /* until the next piece */
    }
    if ((rc = map_key(cv, &ok, base, k, &key)) < 0 || (rc = add_values(cv, 2)) < 0) break;
    size_t klen = k->via.str.size;
    role mr = r == R_ANY ? R_ANY : member_role(r, key, klen);
    rc = kv ? convert(cv, &kv[i].val, mr, &items[i]) : convert_at(cv, off, mr, &items[i]);
    if (rc == 0) {
      cv->keys[base + i] = key;
      rc = sc__objkeys_commit(&ok, cv->keys + base, klen);
    }
  }
  char **keys = NULL;
  if (rc == 0) rc = sc__objkeys_end(&ok, a, cv->keys + base, shape, &keys);
  sc__objkeys_free(&ok);
  cv->sp = base;
  if (rc < 0) return rc; /* what is in the arena goes with the document */
  obj->u.c.items = items;
  obj->u.c.keys = keys;
  obj->u.c.len = obj->u.c.cap = (uint32_t)n;
  *out = obj;
  return 0;
}

static int table_runs(conv *cv, const msgpack_object *runs, size_t *off, size_t n,
                      sc__value **out) {
  cv->nrows = 0;
  for (size_t i = 0; i < n; i++) {
    if (runs) {
      SC_FORWARD_IF_ERROR(table_run(cv, &runs[i]));
    } else {
      SC_RETURN_IF(*off >= cv->rawlen || !is_container((unsigned char)cv->raw[*off]), SC_EFORMAT);
      SC_FORWARD_IF_ERROR(unpack_piece(cv, off, true));
      SC_FORWARD_IF_ERROR(table_run(cv, &cv->up.data));
    }
  }
  if (cv->nrows == 0) {
    *out = sc__vdoc_empty(cv->doc, SC__V_ARRAY);
    return *out ? 0 : SC_ENOMEM;
  }
  sc__value *v = sc__vdoc_node(cv->doc, SC__V_ARRAY);
  sc__value **items = sc__arena_alloc(&cv->doc->arena, cv->nrows * sizeof *items);
  if (!v || !items) return SC_ENOMEM;
  memcpy(items, cv->rows, cv->nrows * sizeof *items);
  v->u.c.items = items;
  v->u.c.keys = NULL;
  v->u.c.len = v->u.c.cap = (uint32_t)cv->nrows;
  *out = v;
  return 0;
}

/* ---- the document -------------------------------------------------------- */


/* The top-level map: the format header ("format", "format_version"), then
 * the document's own members. */
static int convert_root(conv *cv, sc__value **out) {
  size_t off = 0, n;
  int is_map;
  cv->depth = 1; /* the root, as in the JSON reader */
  if (cv->big.n && cv->big.v[0].start == 0) cv->next_big = 1;
  SC_FORWARD_IF_ERROR(big_header(cv, &off, &n, &is_map));
  SC_RETURN_IF(!is_map || n < 2, SC_EFORMAT);
  SC_FORWARD_IF_ERROR(unpack_scalar(cv, &off));
  SC_RETURN_IF(!str_is(&cv->up.data, "format"), SC_EFORMAT);
  SC_FORWARD_IF_ERROR(unpack_scalar(cv, &off));
  SC_RETURN_IF(!str_is(&cv->up.data, SC__PROFILE_FORMAT_NAME), SC_EFORMAT);
  SC_FORWARD_IF_ERROR(unpack_scalar(cv, &off));
  SC_RETURN_IF(!str_is(&cv->up.data, "format_version"), SC_EFORMAT);
  SC_FORWARD_IF_ERROR(unpack_scalar(cv, &off));
  const msgpack_object *ver = &cv->up.data;
  SC_RETURN_IF(ver->type != MSGPACK_OBJECT_POSITIVE_INTEGER || ver->via.u64 < 1 ||
                   ver->via.u64 > SC__PROFILE_FORMAT_VERSION,
               SC_EFORMAT);
  cv->version = (int)ver->via.u64;
  SC_FORWARD_IF_ERROR(add_values(cv, 1));
  /* version 1 has no tables */
  SC_FORWARD_IF_ERROR(map_members(cv, NULL, &off, n - 2, cv->version >= 2 ? R_ROOT : R_ANY, out));
  SC_RETURN_IF(off != cv->rawlen, SC_EFORMAT);
  return 0;
}

int sc__msgpack_zstd_read(const void *data, size_t len, sc__value **out) {
  if (!out || (!data && len)) return SC_EINVAL;
  char *raw = NULL;
  size_t rawlen = 0, mapped = 0;
  SC_FORWARD_IF_ERROR(decompress(data, len, &raw, &rawlen, &mapped));
  conv cv;
  memset(&cv, 0, sizeof cv);
  cv.raw = raw;
  cv.rawlen = rawlen;
  msgpack_unpacked_init(&cv.up);
  int rc = prescan((const unsigned char *)raw, rawlen, &cv.big);
  sc__value *v = NULL;
  if (rc == 0) rc = (cv.doc = sc__vdoc_create()) ? convert_root(&cv, &v) : SC_ENOMEM;
  msgpack_unpacked_destroy(&cv.up);
  sc__free(cv.keys);
  sc__free(cv.rows);
  for (size_t i = 0; i < cv.nschemas; i++) sc__free(cv.schemas[i].value);
  sc__free(cv.schemas);
  sc__free(cv.colvals);
  sc__free(cv.big.v);
  if (mapped) sc__pages_free(raw, mapped);
  else sc__free(raw);
  if (rc < 0) {
    sc__vdoc_abandon(cv.doc);
    return rc;
  }
  *out = sc__vdoc_finish(cv.doc, v);
  return 0;
}
