/* test-msgpack-tables.c - the tables of the compact format (format_version
 * 2): each file's "lines" and "functions" written as runs of objects that
 * share a schema (docs/profile-format.md, "The compact format").
 *
 * What the writer makes of awkward arrays (and that they come back
 * unchanged), what a reader that follows the documentation finds in the
 * files, what a loaded document shares, and what the reader refuses:
 * schemas and runs whose parts are missing, extra, of the wrong type or
 * of the wrong length, references that do not resolve, and small files
 * that would stand for documents beyond the limits. */
#include <math.h>
#include <msgpack.h>
#include <zstd.h>

#include "../../lib/export/doc.h"
#include "sc-test.h"

TestSuite(tables, .timeout = 60);

/* ---- helpers ------------------------------------------------------------ */

static sc__value *jdoc(const char *json) {
  sc__value *v = NULL;
  int rc = sc__json_read(json, strlen(json), &v);
  cr_assert_eq(rc, 0, "not JSON: %s", json);
  return v;
}

/* Compact JSON text of v (without the writer's final newline), to free
 * with sc__free. */
static char *jtext(const sc__value *v) {
  sc__buf b;
  sc__buf_init(&b);
  cr_assert_eq(sc__json_write(v, &b, -1), 0);
  b.data[--b.len] = '\0';
  return b.data;
}

/* The MessagePack inside the compact file z, malloc'ed. */
static char *payload(const sc__buf *z, size_t *len) {
  unsigned long long n = ZSTD_getFrameContentSize(z->data, z->len);
  cr_assert(n != ZSTD_CONTENTSIZE_ERROR && n != ZSTD_CONTENTSIZE_UNKNOWN);
  char *d = malloc((size_t)n);
  cr_assert_eq(ZSTD_decompress(d, (size_t)n, z->data, z->len), n);
  *len = (size_t)n;
  return d;
}

/* doc -> compact file -> document: the same JSON text as doc, which the
 * JSON reader reads back as the same document too. */
static void round_trip(const sc__value *doc, const char *what) {
  sc__buf z;
  sc__buf_init(&z);
  cr_assert_eq(sc__msgpack_zstd_write(doc, &z), 0, "%s: written", what);
  sc__value *back = NULL;
  int rc = sc__msgpack_zstd_read(z.data, z.len, &back);
  cr_assert_eq(rc, 0, "%s: read back: %s", what, sc_strerror(rc));
  char *a = jtext(doc), *b = jtext(back);
  cr_assert_str_eq(b, a, "%s: changed", what);
  /* and what JSON makes of the same text */
  sc__value *viajson = jdoc(a);
  char *c = jtext(viajson);
  cr_assert_str_eq(c, a);
  sc__free(a), sc__free(b), sc__free(c);
  sc__v_free(back);
  sc__v_free(viajson);
  sc__buf_free(&z);
}

/* ---- hand-made documents --------------------------------------------------
 *
 * A version 2 document whose one file's "lines" the test writes:
 *   {"format": ..., "format_version": V, "files": {"/a.py": {"lines": ...}}} */

typedef struct mp {
  msgpack_sbuffer sb;
  msgpack_packer pk;
} mp;

static void str(mp *m, const char *s) { msgpack_pack_str_with_body(&m->pk, s, strlen(s)); }

static void begin(mp *m, int version) {
  msgpack_sbuffer_init(&m->sb);
  msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
  msgpack_pack_map(&m->pk, 3);
  str(m, "format");
  str(m, SC__PROFILE_FORMAT_NAME);
  str(m, "format_version");
  msgpack_pack_int(&m->pk, version);
  str(m, "files");
  msgpack_pack_map(&m->pk, 1);
  str(m, "/a.py");
  msgpack_pack_map(&m->pk, 1);
  str(m, "lines");
}

/* Compress and read what begin() and the caller wrote. */
static int finish(mp *m, sc__value **out) {
  size_t bound = ZSTD_compressBound(m->sb.size);
  char *z = malloc(bound);
  size_t zlen = ZSTD_compress(z, bound, m->sb.data, m->sb.size, 1);
  cr_assert(!ZSTD_isError(zlen));
  msgpack_sbuffer_destroy(&m->sb);
  *out = NULL;
  int rc = sc__msgpack_zstd_read(z, zlen, out);
  free(z);
  if (rc < 0) cr_assert_null(*out);
  return rc;
}

/* Case c of a family of hand-built documents of `version`: begin(), the
 * case's "lines" from build(), finish(). */
static int read_case(int version, void (*build)(mp *, int), int c, sc__value **out) {
  mp m;
  begin(&m, version);
  build(&m, c);
  return finish(&m, out);
}

static const sc__value *lines_of(const sc__value *doc) {
  return sc__v_get(sc__v_get(sc__v_get(doc, "files"), "/a.py"), "lines");
}

/* A schema map of keys "a" "b" "c" with "b" a constant 7 and "c" the same
 * as "a": the columns hold "a" only. */
static void abc_schema(mp *m) {
  msgpack_pack_map(&m->pk, 3);
  str(m, "keys");
  msgpack_pack_array(&m->pk, 3);
  str(m, "a"), str(m, "b"), str(m, "c");
  str(m, "constants");
  msgpack_pack_map(&m->pk, 1);
  str(m, "b");
  msgpack_pack_int(&m->pk, 7);
  str(m, "same_as");
  msgpack_pack_map(&m->pk, 1);
  str(m, "c");
  str(m, "a");
}

/* A run of n objects of the abc schema (or schema index `ref` >= 0),
 * column "a" holding 1..n. */
static void abc_run(mp *m, int ref, int n) {
  msgpack_pack_map(&m->pk, 3);
  str(m, "schema");
  if (ref >= 0) msgpack_pack_int(&m->pk, ref);
  else abc_schema(m);
  str(m, "count");
  msgpack_pack_int(&m->pk, n);
  str(m, "columns");
  msgpack_pack_array(&m->pk, 1);
  msgpack_pack_array(&m->pk, (size_t)n);
  for (int i = 1; i <= n; i++) msgpack_pack_int(&m->pk, i);
}

/* ---- round trips ----------------------------------------------------------- */

/* Arrays in a table's place that are not a plain run of alike objects:
 * each comes back as it was. */
SC_TEST(tables, awkward_arrays_round_trip) {
  static const char *const lines[] = {
      "[]",
      "[{}]",
      "[{},{},{}]",
      "[{},{},1,{}]",
      "[1,\"x\",null,[1,2],{\"a\":1},true,2.5,{}]",
      /* objects whose keys differ from their neighbours' */
      "[{\"a\":1,\"b\":2},{\"a\":1},{\"b\":2,\"a\":1},{\"a\":1,\"b\":2},{\"a\":1,\"b\":2}]",
      "[{\"a\":1},{\"a\":1,\"t\":[1]},{\"a\":2},{\"a\":3,\"t\":[2]},{\"a\":4},{\"a\":5}]",
      /* constants of every type, over three objects */
      "[{\"n\":null,\"b\":true,\"d\":0.5,\"s\":\"x\",\"e\":\"\",\"a\":[1,{\"k\":[]}],\"o\":{\"x\":1},"
      "\"z\":0,\"m\":-3,\"v\":1}, {\"n\":null,\"b\":true,\"d\":0.5,\"s\":\"x\",\"e\":\"\",\"a\":[1,{\"k\":[]}],"
      "\"o\":{\"x\":1},\"z\":0,\"m\":-3,\"v\":2}, {\"n\":null,\"b\":true,\"d\":0.5,\"s\":\"x\",\"e\":\"\","
      "\"a\":[1,{\"k\":[]}],\"o\":{\"x\":1},\"z\":0,\"m\":-3,\"v\":3}]",
      /* members that repeat others, containers included */
      "[{\"x\":5,\"y\":5,\"z\":[1],\"w\":[1],\"u\":5},{\"x\":6,\"y\":6,\"z\":[2],\"w\":[2],\"u\":6}]",
      /* an int and a double of the same value are not the same */
      "[{\"v\":1,\"w\":1.5},{\"v\":1.5,\"w\":1.5},{\"v\":1,\"w\":1.5}]",
      /* keys named like the format's own */
      "[{\"schema\":1,\"count\":2,\"columns\":3,\"values\":4,\"keys\":5,\"constants\":6,"
      "\"same_as\":7},{\"schema\":1,\"count\":2,\"columns\":3,\"values\":4,\"keys\":5,"
      "\"constants\":6,\"same_as\":7}]",
      "[{\"a\":1},{\"a\":1}]",
      "[{\"a\":1}]",
      "[[],[],{\"a\":[]},{\"a\":[]}]",
  };
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    char json[2048];
    snprintf(json, sizeof json,
             "{\"files\":{\"/a.py\":{\"percent_cpu_time\":1,\"lines\":%s,\"functions\":%s,"
             "\"leaks\":{}},\"/b.py\":{\"lines\":%s}}}",
             lines[i], lines[i], lines[i]);
    sc__value *doc = jdoc(json);
    round_trip(doc, json);
    sc__v_free(doc);
  }
  /* what is in a table's place but is not an array; files that are not
   * objects; a "files" that is not an object */
  static const char *const other[] = {
      "{\"files\":{\"/a.py\":{\"lines\":{\"a\":[{\"x\":1},{\"x\":1}]},\"functions\":\"f\"}}}",
      "{\"files\":{\"/a.py\":{\"lines\":null}, \"/b.py\":3, \"/c.py\":[{\"lines\":[{\"a\":1}]}]}}",
      "{\"files\":[{\"lines\":[{\"a\":1},{\"a\":1}]}], \"lines\":[{\"a\":1},{\"a\":1}]}",
      "{\"x\":{\"files\":{\"/a.py\":{\"lines\":[{\"a\":1},{\"a\":1}]}}}, \"files\":{}}",
  };
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
    sc__value *doc = jdoc(other[i]);
    round_trip(doc, other[i]);
    sc__v_free(doc);
  }
}

/* What JSON text cannot carry: -0.0 beside 0.0, invalid UTF-8 in a
 * column (U+FFFD, as the JSON writer writes it), NaN (null). */
SC_TEST(tables, values_json_text_cannot_tell_apart) {
  sc__value *doc = sc__v_object(), *files = sc__v_object(), *file = sc__v_object();
  sc__value *lines = sc__v_array();
  for (int i = 0; i < 3; i++) {
    sc__value *o = sc__v_object();
    sc__v_set_double(o, "z", i == 1 ? -0.0 : 0.0);
    sc__v_set_str(o, "t", i == 2 ? "caf\xe9" : "cafe");
    sc__v_set_double(o, "n", NAN);
    sc__v_push(lines, o);
  }
  sc__v_set(file, "lines", lines);
  sc__v_set(files, "/a.py", file);
  sc__v_set(doc, "files", files);
  /* the same document as through JSON text */
  char *text = jtext(doc);
  sc__value *viajson = jdoc(text);
  sc__buf z;
  sc__buf_init(&z);
  cr_assert_eq(sc__msgpack_zstd_write(doc, &z), 0);
  sc__value *back = NULL;
  cr_assert_eq(sc__msgpack_zstd_read(z.data, z.len, &back), 0);
  const sc__value *l = lines_of(back);
  cr_assert(!signbit(l->u.c.items[0]->u.c.items[0]->u.d));
  cr_assert(signbit(l->u.c.items[1]->u.c.items[0]->u.d), "-0.0 kept");
  cr_assert_str_eq(l->u.c.items[2]->u.c.items[1]->u.str.s, "caf\xef\xbf\xbd");
  cr_assert_eq(l->u.c.items[0]->u.c.items[2]->type, SC__V_NULL);
  char *a = jtext(viajson), *b = jtext(back);
  cr_assert_str_eq(a, b);
  sc__free(a), sc__free(b), sc__free(text);
  sc__v_free(viajson);
  sc__v_free(back);
  sc__v_free(doc);
  sc__buf_free(&z);
}

/* More key lists than the writer keeps schemas for, more columns than it
 * looks back over, rows of one object: still the same document. */
SC_TEST(tables, many_schemas_and_wide_objects) {
  sc__buf b;
  sc__buf_init(&b);
  sc__buf_puts(&b, "{\"files\":{");
  for (int f = 0; f < 150; f++) {
    sc__buf_printf(&b, "%s\"/f%d.py\":{\"lines\":[", f ? "," : "", f);
    for (int r = 0; r < 3; r++) {
      sc__buf_printf(&b, "%s{\"k%d\":%d,\"same\":%d,\"c\":\"x\"}", r ? "," : "", f % 90, r, r);
    }
    sc__buf_puts(&b, "],\"functions\":[");
    /* 100 keys, all with the row's number: one column and 99 repeats */
    for (int r = 0; r < 2; r++) {
      sc__buf_puts(&b, r ? ",{" : "{");
      for (int k = 0; k < 100; k++) sc__buf_printf(&b, "%s\"w%d\":%d", k ? "," : "", k, f + r);
      sc__buf_putc(&b, '}');
    }
    sc__buf_puts(&b, "]}");
  }
  sc__buf_puts(&b, "}}");
  sc__value *doc = jdoc(b.data);
  round_trip(doc, "many schemas");
  sc__v_free(doc);
  sc__buf_free(&b);
}

/* A line's values nested as deep as the document allows load; one more
 * level is refused by both writers, as JSON refuses it. */
SC_TEST(tables, nesting_limit_inside_tables) {
  /* root 1, files 2, file 3, lines 4, a line 5, its member 6 ... */
  for (int extra = 0; extra <= 1; extra++) {
    int arrays = SC__DOC_MAX_DEPTH - 5 + extra;
    sc__buf b;
    sc__buf_init(&b);
    sc__buf_puts(&b, "{\"files\":{\"/a.py\":{\"lines\":[{\"a\":1,\"x\":");
    for (int i = 0; i < arrays; i++) sc__buf_putc(&b, '[');
    for (int i = 0; i < arrays; i++) sc__buf_putc(&b, ']');
    sc__buf_puts(&b, "},{\"a\":2,\"x\":");
    for (int i = 0; i < arrays; i++) sc__buf_putc(&b, '[');
    for (int i = 0; i < arrays; i++) sc__buf_putc(&b, ']');
    sc__buf_puts(&b, "}]}}}");
    sc__value *doc = NULL;
    int rc = sc__json_read(b.data, b.len, &doc);
    if (!extra) {
      cr_assert_eq(rc, 0);
      round_trip(doc, "deepest");
      sc__v_free(doc);
    } else {
      cr_assert_eq(rc, SC_EFORMAT, "JSON refuses depth %d", SC__DOC_MAX_DEPTH + 1);
    }
    sc__buf_free(&b);
  }
  /* the writer refuses a heap document one level deeper */
  sc__value *doc = jdoc("{\"files\":{\"/a.py\":{}}}");
  sc__value *heap = sc__v_clone(doc);
  sc__v_free(doc);
  sc__value *line = sc__v_object(), *cur = sc__v_array();
  sc__v_set(line, "x", cur);
  for (int i = 1; i < SC__DOC_MAX_DEPTH - 4; i++) {
    sc__value *a = sc__v_array();
    sc__v_push(cur, a);
    cur = a;
  }
  sc__value *lines = sc__v_array();
  sc__v_push(lines, line);
  sc__v_set(sc__v_get(sc__v_get(heap, "files"), "/a.py"), "lines", lines);
  sc__buf z;
  sc__buf_init(&z);
  cr_assert_eq(sc__msgpack_zstd_write(heap, &z), SC_EINVAL);
  sc__buf_free(&z);
  sc__v_free(heap);
  /* and the reader: a constant nested as deep as allowed, and deeper */
  for (int extra = 0; extra <= 1; extra++) {
    int arrays = SC__DOC_MAX_DEPTH - 5 + extra;
    mp m;
    begin(&m, 2);
    msgpack_pack_array(&m.pk, 1);
    msgpack_pack_map(&m.pk, 3);
    str(&m, "schema");
    msgpack_pack_map(&m.pk, 2);
    str(&m, "keys");
    msgpack_pack_array(&m.pk, 1);
    str(&m, "x");
    str(&m, "constants");
    msgpack_pack_map(&m.pk, 1);
    str(&m, "x");
    for (int i = 0; i < arrays; i++) msgpack_pack_array(&m.pk, i < arrays - 1);
    str(&m, "count");
    msgpack_pack_int(&m.pk, 2);
    str(&m, "columns");
    msgpack_pack_array(&m.pk, 0);
    sc__value *v;
    cr_assert_eq(finish(&m, &v), extra ? SC_EFORMAT : 0, "%d arrays", arrays);
    sc__v_free(v);
  }
}

/* ---- the layout, as documented ----------------------------------------------
 *
 * A reader written from docs/profile-format.md alone, on msgpack-c's
 * objects: every element of every table found where the documentation
 * says, equal to the document that the JSON file of the same profile
 * holds. */

static const msgpack_object *mo_get(const msgpack_object *map, const char *key) {
  cr_assert_eq(map->type, MSGPACK_OBJECT_MAP);
  for (size_t i = 0; i < map->via.map.size; i++) {
    const msgpack_object *k = &map->via.map.ptr[i].key;
    if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
        (k->via.str.size == 0 || memcmp(k->via.str.ptr, key, k->via.str.size) == 0))
      return &map->via.map.ptr[i].val;
  }
  return NULL;
}

static int mo_str_is(const msgpack_object *o, const char *s, size_t n) {
  return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
         (n == 0 || memcmp(o->via.str.ptr, s, n) == 0);
}

/* Whether o, as a plain MessagePack value, is v. */
static int mo_eq(const msgpack_object *o, const sc__value *v) {
  switch (v->type) {
    case SC__V_NULL: return o->type == MSGPACK_OBJECT_NIL;
    case SC__V_BOOL: return o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean == v->u.b;
    case SC__V_INT:
      return (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->u.i >= 0 &&
              o->via.u64 == (uint64_t)v->u.i) ||
             (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER && o->via.i64 == v->u.i);
    case SC__V_DOUBLE: return o->type == MSGPACK_OBJECT_FLOAT64 && o->via.f64 == v->u.d;
    case SC__V_STRING: return mo_str_is(o, v->u.str.s, v->u.str.len);
    case SC__V_ARRAY:
      if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != v->u.c.len) return 0;
      for (size_t i = 0; i < v->u.c.len; i++)
        if (!mo_eq(&o->via.array.ptr[i], v->u.c.items[i])) return 0;
      return 1;
    case SC__V_OBJECT:
      if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size != v->u.c.len) return 0;
      for (size_t i = 0; i < v->u.c.len; i++)
        if (!mo_str_is(&o->via.map.ptr[i].key, v->u.c.keys[i], strlen(v->u.c.keys[i])) ||
            !mo_eq(&o->via.map.ptr[i].val, v->u.c.items[i]))
          return 0;
      return 1;
  }
  return 0;
}

typedef struct schemas {
  const msgpack_object *v[1024];
  size_t n;
} schemas;

/* A table (t) against the array it stands for (arr). */
static void check_table(const msgpack_object *t, const sc__value *arr, schemas *ss) {
  cr_assert_eq(t->type, MSGPACK_OBJECT_ARRAY);
  cr_assert_eq(arr->type, SC__V_ARRAY);
  size_t at = 0;
  for (size_t r = 0; r < t->via.array.size; r++) {
    const msgpack_object *run = &t->via.array.ptr[r];
    const msgpack_object *values = mo_get(run, "values");
    if (values) {
      for (size_t i = 0; i < values->via.array.size; i++)
        cr_assert(mo_eq(&values->via.array.ptr[i], arr->u.c.items[at++]));
      continue;
    }
    const msgpack_object *schema = mo_get(run, "schema");
    if (schema->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
      cr_assert_lt(schema->via.u64, ss->n);
      schema = ss->v[schema->via.u64];
    } else {
      cr_assert_lt(ss->n, 1024);
      ss->v[ss->n++] = schema;
    }
    const msgpack_object *keys = mo_get(schema, "keys"), *consts = mo_get(schema, "constants");
    const msgpack_object *same = mo_get(schema, "same_as"), *cols = mo_get(run, "columns");
    const msgpack_object *dflts = mo_get(schema, "defaults"), *widths = mo_get(schema, "tuples");
    size_t n = mo_get(run, "count")->via.u64, words = (n + 63) / 64;
    /* per column, the next listed value (sparse columns) */
    size_t next[256] = {0};
    cr_assert_leq(cols->via.array.size, 256);
    for (size_t i = 0; i < n; i++) {
      const sc__value *obj = arr->u.c.items[at++];
      cr_assert_eq(obj->type, SC__V_OBJECT);
      cr_assert_eq(obj->u.c.len, keys->via.array.size);
      size_t col = 0;
      for (size_t j = 0; j < keys->via.array.size; j++) {
        const msgpack_object *k = &keys->via.array.ptr[j];
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)k->via.str.size, k->via.str.ptr);
        cr_assert_str_eq(obj->u.c.keys[j], name);
        const msgpack_object *c = consts ? mo_get(consts, name) : NULL;
        const msgpack_object *s = same ? mo_get(same, name) : NULL;
        if (c) {
          cr_assert(mo_eq(c, obj->u.c.items[j]), "constant %s", name);
        } else if (s) {
          char target[256];
          snprintf(target, sizeof target, "%.*s", (int)s->via.str.size, s->via.str.ptr);
          char *x = jtext(obj->u.c.items[j]), *y = jtext(sc__v_get(obj, target));
          cr_assert_str_eq(x, y, "%s same as %s", name, target);
          sc__free(x), sc__free(y);
        } else {
          size_t cj = col++;
          const msgpack_object *column = &cols->via.array.ptr[cj];
          const msgpack_object *d = dflts ? mo_get(dflts, name) : NULL;
          const msgpack_object *w = widths ? mo_get(widths, name) : NULL;
          const msgpack_object *cell;
          if (d) {
            /* sparse: mask words, then the values of the rows they list */
            cr_assert_geq(column->via.array.size, words);
            if (!(column->via.array.ptr[i / 64].via.u64 >> (i % 64) & 1)) {
              cr_assert(mo_eq(d, obj->u.c.items[j]), "default of %s", name);
              continue;
            }
            cell = &column->via.array.ptr[words + next[cj]++];
          } else {
            cr_assert_eq(column->via.array.size, n);
            cell = &column->via.array.ptr[i];
          }
          if (w) {
            /* tuples: one flat array of their numbers */
            size_t width = w->via.u64;
            const sc__value *v = obj->u.c.items[j];
            cr_assert_eq(v->type, SC__V_ARRAY);
            cr_assert_eq(cell->via.array.size, v->u.c.len * width, "tuples of %s", name);
            for (size_t u = 0; u < v->u.c.len; u++) {
              cr_assert_eq(v->u.c.items[u]->u.c.len, width);
              for (size_t x = 0; x < width; x++)
                cr_assert(mo_eq(&cell->via.array.ptr[u * width + x], v->u.c.items[u]->u.c.items[x]),
                          "tuple %s", name);
            }
          } else {
            cr_assert(mo_eq(cell, obj->u.c.items[j]), "column %s", name);
          }
        }
      }
      cr_assert_eq(col, cols->via.array.size);
    }
  }
  cr_assert_eq(at, arr->u.c.len);
}

/* A profile's compact file (its MessagePack: raw) against its document. */
static void check_layout(const char *raw, size_t rawlen, const sc__value *doc) {
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  size_t off = 0;
  cr_assert_eq(msgpack_unpack_next(&up, raw, rawlen, &off), MSGPACK_UNPACK_SUCCESS);
  const msgpack_object *root = &up.data;
  cr_assert_eq(mo_get(root, "format_version")->via.u64, 3);
  cr_assert_eq(root->via.map.size, doc->u.c.len + 2);
  schemas ss = {.n = 0};
  size_t tables = 0;
  for (size_t i = 0; i < doc->u.c.len; i++) {
    const msgpack_object_kv *kv = &root->via.map.ptr[i + 2];
    cr_assert(mo_str_is(&kv->key, doc->u.c.keys[i], strlen(doc->u.c.keys[i])));
    if (strcmp(doc->u.c.keys[i], "files") != 0) {
      cr_assert(mo_eq(&kv->val, doc->u.c.items[i]), "%s", doc->u.c.keys[i]);
      continue;
    }
    const sc__value *files = doc->u.c.items[i];
    for (size_t f = 0; f < files->u.c.len; f++) {
      const sc__value *file = files->u.c.items[f];
      const msgpack_object *mf = &kv->val.via.map.ptr[f].val;
      for (size_t m = 0; m < file->u.c.len; m++) {
        const char *name = file->u.c.keys[m];
        const msgpack_object *v = &mf->via.map.ptr[m].val;
        if (!strcmp(name, "lines") || !strcmp(name, "functions")) {
          check_table(v, file->u.c.items[m], &ss);
          tables++;
        } else {
          cr_assert(mo_eq(v, file->u.c.items[m]), "%s", name);
        }
      }
    }
  }
  cr_assert_gt(tables, 0);
  msgpack_unpacked_destroy(&up);
}

/* doc written as a compact file into z (initialised here; the caller
 * frees it) and its MessagePack payload (malloc'ed), checked against the
 * documented layout. */
static char *write_checked(const sc__value *doc, sc__buf *z, size_t *rawlen) {
  sc__buf_init(z);
  cr_assert_eq(sc__msgpack_zstd_write(doc, z), 0);
  char *raw = payload(z, rawlen);
  check_layout(raw, *rawlen, doc);
  return raw;
}

SC_TEST(tables, documented_layout) {
  static const char *const names[] = {"demo", "thread_join", "edge", "memory"};
  for (size_t g = 0; g < 4; g++) {
    char jname[64], mname[64];
    snprintf(jname, sizeof jname, "%s.json", names[g]);
    snprintf(mname, sizeof mname, "%s.msgpack.zst", names[g]);
    size_t jlen, zlen, rawlen;
    char *json = sc_test_golden(jname, &jlen, 0);
    char *z = sc_test_golden(mname, &zlen, 0);
    sc__value *doc = NULL;
    cr_assert_eq(sc__json_read(json, jlen, &doc), 0);
    sc__buf zb = {.data = z, .len = zlen};
    char *raw = payload(&zb, &rawlen);
    check_layout(raw, rawlen, doc);
    free(json), free(z), free(raw);
    sc__v_free(doc);
  }
}

/* A profile's lines in the form lib/export/profile.c writes them: every
 * line of every file, most fields zero, four fields equal to "lineno". */
static char *profile_like(int files, int lines) {
  sc__buf b;
  sc__buf_init(&b);
  sc__buf_puts(&b, "{\"program\":\"p.py\",\"files\":{");
  for (int f = 0; f < files; f++) {
    sc__buf_printf(&b, "%s\"/app/m%d.py\":{\"percent_cpu_time\":%d.5,\"lines\":[", f ? "," : "", f,
                   f);
    for (int l = 1; l <= lines; l++) {
      int on = (l * 7 + f) % 3 == 0;
      sc__buf_printf(&b,
                     "%s{\"line\":\"x = %d\\n\",\"lineno\":%d,\"n_cpu_percent_python\":%s,"
                     "\"n_cpu_samples\":%d,\"n_malloc_mb\":0,\"memory_samples\":[],"
                     "\"start_region_line\":%d,\"end_region_line\":%d}",
                     l > 1 ? "," : "", l, l, on ? "1.25" : "0", on ? l : 0, l, l);
    }
    sc__buf_puts(&b, "],\"functions\":[{\"line\":\"f\",\"lineno\":1,\"fn_name\":\"f\"}],"
                     "\"leaks\":{},\"imports\":[]}");
  }
  sc__buf_puts(&b, "}}");
  return b.data;
}

/* Written today, read by the documentation; and what a loaded document
 * shares: one keys array for all lines, one node per constant, a
 * repeated member the same node as the one it repeats. */
SC_TEST(tables, written_layout_and_sharing) {
  char *json = profile_like(30, 40);
  sc__value *doc = jdoc(json);
  sc__buf z;
  size_t rawlen;
  char *raw = write_checked(doc, &z, &rawlen);
  sc__value *back = NULL;
  cr_assert_eq(sc__msgpack_zstd_read(z.data, z.len, &back), 0);
  const sc__value *files = sc__v_get(back, "files");
  const sc__value *l0 = sc__v_get(files->u.c.items[0], "lines")->u.c.items[0];
  for (size_t f = 0; f < files->u.c.len; f++) {
    const sc__value *lines = sc__v_get(files->u.c.items[f], "lines");
    for (size_t i = 0; i < lines->u.c.len; i++) {
      const sc__value *o = lines->u.c.items[i];
      cr_assert_eq(o->u.c.keys, l0->u.c.keys, "one keys array");
      cr_assert_eq(sc__v_get(o, "n_malloc_mb"), sc__v_get(l0, "n_malloc_mb"));
      cr_assert_eq(sc__v_get(o, "start_region_line"), sc__v_get(o, "lineno"));
      cr_assert_eq(sc__v_get(o, "lineno")->u.i, (int64_t)i + 1);
    }
  }
  /* the loaded document is the JSON's */
  char *a = jtext(doc), *b = jtext(back);
  cr_assert_str_eq(a, b);
  /* one schema for the lines of all 30 files: the key "n_malloc_mb"
   * appears twice in the file (keys and constants), not 60 times */
  size_t hits = 0;
  for (const char *p = raw; (p = memmem(p, rawlen - (size_t)(p - raw), "n_malloc_mb", 11)); p++)
    hits++;
  cr_assert_eq(hits, 2);
  sc__free(a), sc__free(b);
  free(raw);
  free(json);
  sc__v_free(back);
  sc__v_free(doc);
  sc__buf_free(&z);
}

/* ---- what the reader refuses ---------------------------------------------- */

/* Hand-made tables: a few good ones, then one broken way each. */
enum {
  G_SCHEMA,      /* a run with its schema */
  G_REF,         /* two runs, the second naming the first's schema */
  G_VALUES,      /* a run of values between runs of objects */
  G_EMPTY,       /* no runs */
  G_NO_KEYS,     /* a schema of no keys: empty objects */
  G_ANY_ORDER,   /* the run's and the schema's keys in another order */
  GOOD_CASES,
  B_RUN_ARRAY = GOOD_CASES, /* a run that is an array */
  B_RUN_EMPTY,    /* a run of no keys */
  B_RUN_UNKNOWN,  /* a run with another key */
  B_RUN_DUP,      /* "count" twice */
  B_SCHEMA_STR,   /* "schema": a str */
  B_SCHEMA_NEG,   /* "schema": -1 */
  B_SCHEMA_FWD,   /* a schema index not given yet */
  B_SCHEMA_OTHER, /* a schema with another key */
  B_KEYS_MISSING, /* a schema without "keys" */
  B_KEYS_MAP,     /* "keys": a map */
  B_KEYS_INT,     /* a key that is an int */
  B_KEYS_DUP,     /* a key twice */
  B_KEYS_NUL,     /* a key holding NUL */
  B_KEYS_UTF8,    /* a key that is not UTF-8 */
  B_CONST_ARRAY,  /* "constants": an array */
  B_CONST_UNKNOWN,/* a constant for another key */
  B_CONST_TWICE,  /* a key twice among the constants */
  B_CONST_BAD,    /* a constant NaN */
  B_SAME_ARRAY,   /* "same_as": an array */
  B_SAME_SELF,    /* a key the same as itself */
  B_SAME_LATER,   /* the same as a later key */
  B_SAME_UNKNOWN, /* the same as another key */
  B_SAME_INT,     /* the same as an int */
  B_SAME_CONST,   /* a key both constant and repeated */
  B_COUNT_MISSING,
  B_COUNT_ZERO,
  B_COUNT_NEG,
  B_COUNT_FLOAT,
  B_COLS_MISSING,
  B_COLS_MAP,     /* "columns": a map */
  B_COLS_MORE,    /* a column too many */
  B_COLS_FEWER,   /* a column too few */
  B_COL_SCALAR,   /* a column that is not an array */
  B_COL_SHORT,    /* a column of fewer values than "count" */
  B_COL_LONG,     /* ... of more */
  B_COL_BAD,      /* a column holding an invalid str */
  B_VALUES_MAP,   /* "values": a map */
  B_VALUES_EMPTY, /* "values": [] */
  B_VALUES_MIXED, /* "values" and "count" in one run */
  CASES
};

static void good_run(mp *m, int n) { abc_run(m, -1, n); }

static void table_case(mp *m, int c) {
  msgpack_packer *pk = &m->pk;
  switch (c) {
    case G_SCHEMA:
      msgpack_pack_array(pk, 1);
      good_run(m, 3);
      return;
    case G_REF:
      msgpack_pack_array(pk, 2);
      good_run(m, 2);
      abc_run(m, 0, 4);
      return;
    case G_VALUES:
      msgpack_pack_array(pk, 3);
      good_run(m, 1);
      msgpack_pack_map(pk, 1);
      str(m, "values");
      msgpack_pack_array(pk, 2);
      msgpack_pack_nil(pk);
      msgpack_pack_array(pk, 0);
      abc_run(m, 0, 2);
      return;
    case G_EMPTY:
      msgpack_pack_array(pk, 0);
      return;
    case G_NO_KEYS:
      msgpack_pack_array(pk, 1);
      msgpack_pack_map(pk, 3);
      str(m, "schema");
      msgpack_pack_map(pk, 1);
      str(m, "keys");
      msgpack_pack_array(pk, 0);
      str(m, "count");
      msgpack_pack_int(pk, 5);
      str(m, "columns");
      msgpack_pack_array(pk, 0);
      return;
    case G_ANY_ORDER:
      msgpack_pack_array(pk, 1);
      msgpack_pack_map(pk, 3);
      str(m, "columns");
      msgpack_pack_array(pk, 1);
      msgpack_pack_array(pk, 1);
      msgpack_pack_int(pk, 1);
      str(m, "count");
      msgpack_pack_int(pk, 1);
      str(m, "schema");
      msgpack_pack_map(pk, 3);
      str(m, "same_as");
      msgpack_pack_map(pk, 1);
      str(m, "c");
      str(m, "a");
      str(m, "constants");
      msgpack_pack_map(pk, 1);
      str(m, "b");
      msgpack_pack_int(pk, 7);
      str(m, "keys");
      msgpack_pack_array(pk, 3);
      str(m, "a"), str(m, "b"), str(m, "c");
      return;
  }
  /* the broken ones: one run (a schema of "a" "b" "c", "b" constant, "c"
   * the same as "a"), with the part named changed */
  msgpack_pack_array(pk, 1);
  if (c == B_RUN_ARRAY) {
    msgpack_pack_array(pk, 0);
    return;
  }
  if (c == B_RUN_EMPTY) {
    msgpack_pack_map(pk, 0);
    return;
  }
  if (c == B_VALUES_MAP || c == B_VALUES_EMPTY || c == B_VALUES_MIXED) {
    msgpack_pack_map(pk, c == B_VALUES_MIXED ? 2 : 1);
    str(m, "values");
    if (c == B_VALUES_MAP) msgpack_pack_map(pk, 0);
    else msgpack_pack_array(pk, c == B_VALUES_EMPTY ? 0 : 1);
    if (c == B_VALUES_MIXED) {
      msgpack_pack_int(pk, 1);
      str(m, "count");
      msgpack_pack_int(pk, 1);
    }
    return;
  }
  int nfields = 3 - (c == B_COUNT_MISSING) - (c == B_COLS_MISSING) + (c == B_RUN_UNKNOWN) +
                (c == B_RUN_DUP);
  msgpack_pack_map(pk, (size_t)nfields);
  str(m, "schema");
  if (c == B_SCHEMA_STR) {
    str(m, "0");
  } else if (c == B_SCHEMA_NEG) {
    msgpack_pack_int(pk, -1);
  } else if (c == B_SCHEMA_FWD) {
    msgpack_pack_int(pk, 0);
  } else {
    int n = 3 - (c == B_KEYS_MISSING) + (c == B_SCHEMA_OTHER);
    msgpack_pack_map(pk, (size_t)n);
    if (c != B_KEYS_MISSING) {
      str(m, "keys");
      if (c == B_KEYS_MAP) {
        msgpack_pack_map(pk, 0);
      } else {
        msgpack_pack_array(pk, 3);
        str(m, "a");
        if (c == B_KEYS_INT) msgpack_pack_int(pk, 2);
        else if (c == B_KEYS_DUP) str(m, "a");
        else if (c == B_KEYS_NUL) msgpack_pack_str_with_body(pk, "b\0", 2);
        else if (c == B_KEYS_UTF8) msgpack_pack_str_with_body(pk, "\xff", 1);
        else str(m, "b");
        str(m, "c");
      }
    }
    str(m, "constants");
    if (c == B_CONST_ARRAY) {
      msgpack_pack_array(pk, 0);
    } else {
      msgpack_pack_map(pk, c == B_CONST_TWICE ? 2 : 1);
      str(m, c == B_CONST_UNKNOWN ? "d" : "b");
      if (c == B_CONST_BAD) msgpack_pack_double(pk, NAN);
      else msgpack_pack_int(pk, 7);
      if (c == B_CONST_TWICE) str(m, "b"), msgpack_pack_int(pk, 8);
    }
    str(m, "same_as");
    if (c == B_SAME_ARRAY) {
      msgpack_pack_array(pk, 0);
    } else {
      msgpack_pack_map(pk, 1);
      str(m, c == B_SAME_CONST ? "b" : c == B_SAME_LATER ? "a" : "c");
      if (c == B_SAME_INT) msgpack_pack_int(pk, 0);
      else str(m, c == B_SAME_SELF ? "c" : c == B_SAME_LATER ? "c" : c == B_SAME_UNKNOWN ? "z" : "a");
    }
    if (c == B_SCHEMA_OTHER) str(m, "rows"), msgpack_pack_nil(pk);
  }
  int n = 2;
  if (c != B_COUNT_MISSING) {
    str(m, "count");
    if (c == B_COUNT_ZERO) msgpack_pack_int(pk, 0);
    else if (c == B_COUNT_NEG) msgpack_pack_int(pk, -2);
    else if (c == B_COUNT_FLOAT) msgpack_pack_double(pk, 2.0);
    else msgpack_pack_int(pk, n);
  }
  if (c != B_COLS_MISSING) {
    str(m, "columns");
    if (c == B_COLS_MAP) {
      msgpack_pack_map(pk, 0);
    } else {
      msgpack_pack_array(pk, c == B_COLS_MORE ? 2 : c == B_COLS_FEWER ? 0 : 1);
      for (int k = 0; k < (c == B_COLS_MORE ? 2 : c == B_COLS_FEWER ? 0 : 1); k++) {
        if (c == B_COL_SCALAR) {
          msgpack_pack_int(pk, 1);
          continue;
        }
        int len = c == B_COL_SHORT ? n - 1 : c == B_COL_LONG ? n + 1 : n;
        msgpack_pack_array(pk, (size_t)len);
        for (int i = 0; i < len; i++) {
          if (c == B_COL_BAD && i == 1) msgpack_pack_str_with_body(pk, "\xc3\x28", 2);
          else msgpack_pack_int(pk, i);
        }
      }
    }
  }
  if (c == B_RUN_UNKNOWN) str(m, "rows"), msgpack_pack_nil(pk);
  if (c == B_RUN_DUP) str(m, "count"), msgpack_pack_int(pk, n);
}

SC_TEST(tables, reader_refuses_malformed_tables) {
  for (int c = 0; c < CASES; c++) {
    sc__value *v;
    int rc = read_case(2, table_case, c, &v);
    cr_assert_eq(rc, c < GOOD_CASES ? 0 : SC_EFORMAT, "case %d: %s", c, sc_strerror(rc));
    if (c < GOOD_CASES) {
      const sc__value *lines = lines_of(v);
      char *t = jtext(lines);
      static const char *const expect[GOOD_CASES] = {
          "[{\"a\":1,\"b\":7,\"c\":1},{\"a\":2,\"b\":7,\"c\":2},{\"a\":3,\"b\":7,\"c\":3}]",
          "[{\"a\":1,\"b\":7,\"c\":1},{\"a\":2,\"b\":7,\"c\":2},{\"a\":1,\"b\":7,\"c\":1},"
          "{\"a\":2,\"b\":7,\"c\":2},{\"a\":3,\"b\":7,\"c\":3},{\"a\":4,\"b\":7,\"c\":4}]",
          "[{\"a\":1,\"b\":7,\"c\":1},null,[],{\"a\":1,\"b\":7,\"c\":1},{\"a\":2,\"b\":7,\"c\":2}]",
          "[]",
          "[{},{},{},{},{}]",
          "[{\"a\":1,\"b\":7,\"c\":1}]",
      };
      cr_assert_str_eq(t, expect[c], "case %d", c);
      sc__free(t);
      sc__v_free(v);
    }
  }
}

/* Version 1 has no tables: the same bytes are plain maps there. */
SC_TEST(tables, version_1_has_no_tables) {
  mp m;
  begin(&m, 1);
  msgpack_pack_array(&m.pk, 1);
  good_run(&m, 2);
  sc__value *v;
  cr_assert_eq(finish(&m, &v), 0);
  const sc__value *run = lines_of(v)->u.c.items[0];
  cr_assert_eq(run->type, SC__V_OBJECT);
  cr_assert_eq(sc__v_get(run, "count")->u.i, 2);
  sc__v_free(v);
}

/* A file of a few bytes cannot stand for a document beyond the limits:
 * refused before anything is built for it. */
SC_TEST(tables, small_files_cannot_stand_for_huge_documents) {
  /* many empty objects; many objects of a constant; objects with a large
   * constant; a large constant repeated by another key */
  for (int c = 0; c < 4; c++) {
    mp m;
    begin(&m, 2);
    msgpack_pack_array(&m.pk, 1);
    msgpack_pack_map(&m.pk, 3);
    str(&m, "schema");
    msgpack_pack_map(&m.pk, c == 0 ? 1 : 2 + (c == 3));
    str(&m, "keys");
    msgpack_pack_array(&m.pk, c == 0 ? 0 : c == 3 ? 2 : 1);
    if (c) str(&m, "a");
    if (c == 3) str(&m, "b");
    if (c) {
      str(&m, "constants");
      msgpack_pack_map(&m.pk, 1);
      str(&m, "a");
      if (c == 1) {
        msgpack_pack_int(&m.pk, 0);
      } else {
        msgpack_pack_array(&m.pk, 1000);
        for (int i = 0; i < 1000; i++) msgpack_pack_int(&m.pk, i);
      }
    }
    if (c == 3) {
      str(&m, "same_as");
      msgpack_pack_map(&m.pk, 1);
      str(&m, "b");
      str(&m, "a");
    }
    str(&m, "count");
    /* over the limit: n; 3n; 1003n; 1004n, then 2005n with the repeat */
    static const uint64_t counts[4] = {SC__DOC_MAX_VALUES, SC__DOC_MAX_VALUES / 2,
                                       SC__DOC_MAX_VALUES / 900, 20000};
    msgpack_pack_uint64(&m.pk, counts[c]);
    str(&m, "columns");
    msgpack_pack_array(&m.pk, 0);
    sc__value *v;
    cr_assert_eq(finish(&m, &v), SC_EFORMAT, "case %d", c);
  }
}

/* ---- version 3: sparse columns and columns of tuples ------------------------
 *
 * One run of three objects with keys "a" "s" "m" "k": "k" a constant 1,
 * "a" a plain column (1, 2, 3), "s" a sparse column (default 0, only the
 * second object listed: 5), "m" a sparse column of pairs (default [],
 * only the third object listed: [[1.5, 2], [3, -4]], written flat); then
 * the same broken one way each. */
enum {
  V_GOOD,
  V_MASK_STR,      /* a mask word that is a str */
  V_MASK_NEG,      /* a mask word of -1 */
  V_MASK_PAST,     /* a bit for a fourth object of three */
  V_FEW_VALUES,    /* one bit, no value */
  V_MORE_VALUES,   /* one bit, two values */
  V_NO_MASK,       /* a sparse column without its mask word */
  V_DFLT_CONST,    /* a default for a constant */
  V_DFLT_UNKNOWN,  /* a default for a key the schema does not have */
  V_DFLT_TWICE,    /* a default given twice */
  V_DFLT_ARRAY,    /* "defaults" an array */
  V_DFLT_NAN,      /* a default that is not a value of a document */
  V_WIDTH_ZERO,    /* tuples of 0 numbers */
  V_WIDTH_WIDE,    /* tuples of 256 numbers */
  V_WIDTH_STR,     /* a width that is a str */
  V_WIDTH_CONST,   /* a width for a constant */
  V_WIDTH_TWICE,   /* a width given twice */
  V_CELL_SCALAR,   /* a value of a column of tuples that is not an array */
  V_CELL_LENGTH,   /* three numbers for tuples of two */
  V_CELL_STR,      /* a str among the numbers */
  V_CELL_NIL,      /* nil among the numbers */
  V_CELL_ARRAY,    /* an array among the numbers */
  V_CELL_NAN,      /* NaN among the numbers */
  V_CELL_HUGE,     /* a flat array declaring 2^32 - 1 numbers */
  V_CASES
};

static void v3_case(mp *m, int c) {
  msgpack_packer *pk = &m->pk;
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 3);
  str(m, "schema");
  msgpack_pack_map(pk, 4);
  str(m, "keys");
  msgpack_pack_array(pk, 4);
  str(m, "a"), str(m, "s"), str(m, "m"), str(m, "k");
  str(m, "constants");
  msgpack_pack_map(pk, 1);
  str(m, "k");
  msgpack_pack_int(pk, 1);
  str(m, "defaults");
  if (c == V_DFLT_ARRAY) {
    msgpack_pack_array(pk, 0);
  } else {
    int extra = c == V_DFLT_CONST || c == V_DFLT_UNKNOWN || c == V_DFLT_TWICE;
    msgpack_pack_map(pk, 2 + (size_t)extra);
    str(m, "s");
    if (c == V_DFLT_NAN) msgpack_pack_double(pk, NAN);
    else msgpack_pack_int(pk, 0);
    str(m, "m");
    msgpack_pack_array(pk, 0);
    if (extra) {
      str(m, c == V_DFLT_CONST ? "k" : c == V_DFLT_UNKNOWN ? "z" : "s");
      msgpack_pack_int(pk, 0);
    }
  }
  str(m, "tuples");
  int wextra = c == V_WIDTH_CONST || c == V_WIDTH_TWICE;
  msgpack_pack_map(pk, 1 + (size_t)wextra);
  str(m, "m");
  if (c == V_WIDTH_ZERO) msgpack_pack_int(pk, 0);
  else if (c == V_WIDTH_WIDE) msgpack_pack_int(pk, 256);
  else if (c == V_WIDTH_STR) str(m, "2");
  else msgpack_pack_int(pk, 2);
  if (wextra) {
    str(m, c == V_WIDTH_CONST ? "k" : "m");
    msgpack_pack_int(pk, 2);
  }
  str(m, "count");
  msgpack_pack_int(pk, 3);
  str(m, "columns");
  msgpack_pack_array(pk, 3);
  msgpack_pack_array(pk, 3);
  for (int i = 1; i <= 3; i++) msgpack_pack_int(pk, i);
  /* "s" */
  if (c == V_NO_MASK) {
    msgpack_pack_array(pk, 0);
  } else {
    int nvals = c == V_FEW_VALUES ? 0 : c == V_MORE_VALUES || c == V_MASK_PAST ? 2 : 1;
    msgpack_pack_array(pk, 1 + (size_t)nvals);
    if (c == V_MASK_STR) str(m, "2");
    else if (c == V_MASK_NEG) msgpack_pack_int(pk, -1);
    else msgpack_pack_uint64(pk, c == V_MASK_PAST ? 2 | 8 : 2);
    for (int i = 0; i < nvals; i++) msgpack_pack_int(pk, 5 + i);
  }
  /* "m" */
  msgpack_pack_array(pk, 2);
  msgpack_pack_uint64(pk, 4);
  if (c == V_CELL_SCALAR) {
    msgpack_pack_int(pk, 5);
  } else if (c == V_CELL_HUGE) {
    /* the array's header only: the bytes that follow cannot back it */
    static const char huge[] = {(char)0xdd, (char)0xff, (char)0xff, (char)0xff, (char)0xff};
    msgpack_sbuffer_write(&m->sb, huge, sizeof huge);
  } else {
    msgpack_pack_array(pk, c == V_CELL_LENGTH ? 3 : 4);
    msgpack_pack_double(pk, 1.5);
    msgpack_pack_int(pk, 2);
    if (c == V_CELL_STR) str(m, "3");
    else if (c == V_CELL_NIL) msgpack_pack_nil(pk);
    else if (c == V_CELL_ARRAY) msgpack_pack_array(pk, 0);
    else if (c == V_CELL_NAN) msgpack_pack_double(pk, NAN);
    else msgpack_pack_int(pk, 3);
    if (c != V_CELL_LENGTH) msgpack_pack_int(pk, -4);
  }
}

SC_TEST(tables, sparse_and_tuple_columns_read) {
  for (int c = 0; c < V_CASES; c++) {
    sc__value *v;
    int rc = read_case(3, v3_case, c, &v);
    cr_assert_eq(rc, c == V_GOOD ? 0 : SC_EFORMAT, "case %d: %s", c, sc_strerror(rc));
    if (c != V_GOOD) continue;
    char *t = jtext(lines_of(v));
    cr_assert_str_eq(t, "[{\"a\":1,\"s\":0,\"m\":[],\"k\":1},{\"a\":2,\"s\":5,\"m\":[],\"k\":1},"
                        "{\"a\":3,\"s\":0,\"m\":[[1.5,2],[3,-4]],\"k\":1}]");
    /* the default is one node, as a constant is */
    const sc__value *l = lines_of(v);
    cr_assert_eq(sc__v_get(l->u.c.items[0], "s"), sc__v_get(l->u.c.items[2], "s"));
    sc__free(t);
    sc__v_free(v);
  }
}

/* "defaults" and "tuples" are version 3's: a version 2 file with them is
 * malformed. */
SC_TEST(tables, version_2_has_no_sparse_or_tuple_columns) {
  sc__value *v;
  cr_assert_eq(read_case(2, v3_case, V_GOOD, &v), SC_EFORMAT);
}

/* Masks of several words, tuples of other widths and of any numbers,
 * columns that look like tuples but are not, non-finite numbers: each
 * comes back as it was (from a document built here, through the writer's
 * choices). */
SC_TEST(tables, sparse_and_tuple_columns_round_trip) {
  sc__buf b;
  sc__buf_init(&b);
  sc__buf_puts(&b, "{\"files\":{\"/a.py\":{\"lines\":[");
  for (int i = 0; i < 150; i++) {
    int on = i % 7 == 3 || i == 64 || i == 149;
    sc__buf_printf(&b, "%s{\"lineno\":%d,\"x\":%s,\"pairs\":[", i ? "," : "", i + 1,
                   on ? "2.5" : "0");
    if (on)
      sc__buf_printf(&b, "[%d,-%d.25],[1e300,%d],[18446744073709551615,-9223372036854775808]", i,
                     i, i * 1000);
    sc__buf_printf(&b, "],\"triples\":[[%d,%d,%d.5]],\"odd\":[%s]}", i, -i, i,
                   i == 77 ? "[1,\"x\"]" : i == 78 ? "[1,2,3]" : i % 2 ? "[1,2]" : "");
  }
  sc__buf_puts(&b, "],\"functions\":[]}}}");
  sc__value *doc = jdoc(b.data);
  round_trip(doc, "sparse and tuples");
  /* what the writer chose: "pairs" sparse tuples of 2, "triples" tuples
   * of 3, "odd" plain; masks of three words */
  sc__buf z;
  size_t rawlen;
  char *raw = write_checked(doc, &z, &rawlen);
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  size_t off = 0;
  cr_assert_eq(msgpack_unpack_next(&up, raw, rawlen, &off), MSGPACK_UNPACK_SUCCESS);
  const msgpack_object *run = &mo_get(mo_get(mo_get(&up.data, "files"), "/a.py"), "lines")->via.array.ptr[0];
  const msgpack_object *schema = mo_get(run, "schema");
  const msgpack_object *widths = mo_get(schema, "tuples"), *dflts = mo_get(schema, "defaults");
  cr_assert_not_null(widths);
  cr_assert_not_null(dflts);
  cr_assert_eq(mo_get(widths, "pairs")->via.u64, 2);
  cr_assert_eq(mo_get(widths, "triples")->via.u64, 3);
  cr_assert_null(mo_get(widths, "odd"));
  cr_assert_not_null(mo_get(dflts, "pairs"));
  cr_assert_not_null(mo_get(dflts, "x"));
  msgpack_unpacked_destroy(&up);
  /* a NaN in a pair (a document built in memory, not read): written as
   * nil like any NaN, so not as a tuple; read back as null */
  sc__value *d = sc__v_object(), *files = sc__v_object(), *file = sc__v_object();
  sc__value *lines = sc__v_array();
  for (int i = 0; i < 3; i++) {
    sc__value *o = sc__v_object(), *ser = sc__v_array(), *pair = sc__v_array();
    sc__v_push(pair, sc__v_double(i == 1 ? NAN : 1.5));
    sc__v_push(pair, sc__v_int(i));
    sc__v_push(ser, pair);
    sc__v_set(o, "memory_samples", ser);
    sc__v_push(lines, o);
  }
  sc__v_set(file, "lines", lines);
  sc__v_set(files, "/a.py", file);
  sc__v_set(d, "files", files);
  sc__buf_free(&z);
  sc__buf_init(&z);
  cr_assert_eq(sc__msgpack_zstd_write(d, &z), 0);
  sc__value *back = NULL;
  cr_assert_eq(sc__msgpack_zstd_read(z.data, z.len, &back), 0);
  char *t = jtext(back);
  cr_assert_str_eq(t, "{\"files\":{\"/a.py\":{\"lines\":[{\"memory_samples\":[[1.5,0]]},"
                      "{\"memory_samples\":[[null,1]]},{\"memory_samples\":[[1.5,2]]}]}}}");
  sc__free(t);
  sc__v_free(back);
  sc__v_free(d);
  sc__buf_free(&z);
  free(raw);
  sc__buf_free(&b);
  sc__v_free(doc);
}

/* The values a sparse column's default and a column of tuples stand for
 * count towards the limit before anything is built for them. */
SC_TEST(tables, sparse_and_tuple_values_count_towards_the_limit) {
  for (int c = 0; c < 3; c++) {
    /* 0: a default of 1000 values left in 40,000 rows (40M values);
     * 1: a constant of 1000 values and a column of pairs just over the
     *    limit; 2: 2^25 rows declared, columns of one mask word or none */
    uint64_t n = c == 0 ? 40000 : c == 1 ? 33300 : (uint64_t)SC__DOC_MAX_VALUES;
    mp m;
    begin(&m, 3);
    msgpack_pack_array(&m.pk, 1);
    msgpack_pack_map(&m.pk, 3);
    str(&m, "schema");
    msgpack_pack_map(&m.pk, c == 1 ? 3 : 2);
    str(&m, "keys");
    msgpack_pack_array(&m.pk, 2);
    str(&m, "a"), str(&m, "t");
    if (c == 1) {
      str(&m, "constants");
      msgpack_pack_map(&m.pk, 1);
      str(&m, "a");
      msgpack_pack_array(&m.pk, 1000);
      for (int i = 0; i < 1000; i++) msgpack_pack_int(&m.pk, i);
      str(&m, "tuples");
      msgpack_pack_map(&m.pk, 1);
      str(&m, "t");
      msgpack_pack_int(&m.pk, 2);
    } else {
      str(&m, "defaults");
      msgpack_pack_map(&m.pk, 1);
      str(&m, "t");
      msgpack_pack_array(&m.pk, 1000);
      for (int i = 0; i < 1000; i++) msgpack_pack_int(&m.pk, i);
    }
    str(&m, "count");
    msgpack_pack_uint64(&m.pk, n);
    str(&m, "columns");
    msgpack_pack_array(&m.pk, c == 1 ? 1 : 2);
    if (c != 1) {
      msgpack_pack_array(&m.pk, c == 2 ? 0 : n);
      for (uint64_t i = 0; c != 2 && i < n; i++) msgpack_pack_int(&m.pk, 0);
    }
    size_t words = c == 2 ? 1 : (n + 63) / 64;
    msgpack_pack_array(&m.pk, c == 1 ? n : words);
    for (uint64_t i = 0; i < (c == 1 ? n : words); i++) {
      if (c == 1) {
        msgpack_pack_array(&m.pk, 2);
        msgpack_pack_int(&m.pk, 1), msgpack_pack_int(&m.pk, 2);
      } else {
        msgpack_pack_int(&m.pk, 0);
      }
    }
    sc__value *v;
    cr_assert_eq(finish(&m, &v), SC_EFORMAT, "case %d", c);
  }
}
