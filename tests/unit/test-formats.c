/* test-formats.c - profile files: the JSON reader, the MessagePack+zstd
 * format (layout, round trips, limits), the golden files of tests/golden/
 * (format stability) and the malformed ones (each refused with
 * SC_EFORMAT, without a crash or a leak under the sanitizer build). */
#include <dirent.h>
#include <locale.h>
#include <math.h>
#include <msgpack.h>
#include <sys/stat.h>
#include <zstd.h>

#include "../../lib/export/doc.h"
#include "sc-test.h"

TestSuite(formats, .timeout = 60);

/* ---- helpers ------------------------------------------------------------ */

static sc_profile_t *load_ok(const void *data, size_t len) {
  sc_profile_t *p = NULL;
  int rc = sc_profile_load_buffer(data, len, &p);
  cr_assert_eq(rc, 0, "sc_profile_load_buffer: %s", sc_strerror(rc));
  cr_assert_not_null(p);
  return p;
}

/* Export to a malloc'ed copy (so that callers free() it). */
static char *export_copy(const sc_profile_t *p, sc_format_t f, size_t *len) {
  char *buf = NULL;
  int rc = sc_profile_export_buffer(p, f, &buf, len);
  cr_assert_eq(rc, 0, "sc_profile_export_buffer: %s", sc_strerror(rc));
  char *c = malloc(*len + 1);
  memcpy(c, buf, *len + 1);
  sc_buffer_free(buf);
  return c;
}

/* Decompress one zstd frame into a malloc'ed buffer. */
static char *unzstd(const void *z, size_t zlen, size_t *len) {
  unsigned long long n = ZSTD_getFrameContentSize(z, zlen);
  cr_assert(n != ZSTD_CONTENTSIZE_ERROR && n != ZSTD_CONTENTSIZE_UNKNOWN);
  char *d = malloc(n ? (size_t)n : 1);
  size_t got = ZSTD_decompress(d, (size_t)n, z, zlen);
  cr_assert(!ZSTD_isError(got) && got == n);
  *len = got;
  return d;
}

static char *zstd_of(const void *raw, size_t len, int content_size, size_t *zlen) {
  size_t bound = ZSTD_compressBound(len);
  char *z = malloc(bound);
  ZSTD_CCtx *c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, content_size);
  *zlen = ZSTD_compress2(c, z, bound, raw, len);
  ZSTD_freeCCtx(c);
  cr_assert(!ZSTD_isError(*zlen));
  return z;
}

/* Parse JSON text with the library's reader. */
static int jread(const char *text, sc__value **v) {
  *v = NULL;
  return sc__json_read(text, strlen(text), v);
}

static int json_text_eq(const sc__value *v, const char *expect) {
  sc__buf b;
  sc__buf_init(&b);
  cr_assert_eq(sc__json_write(v, &b, -1), 0);
  int eq = strcmp(b.data, expect) == 0;
  if (!eq) cr_log_error("got %s, expected %s", b.data, expect);
  sc__buf_free(&b);
  return eq;
}

/* ---- golden files ------------------------------------------------------- */

/* "memory" (a small profile of bench/formats.c's kind: memory figures
 * and footprint series) is new in format_version 3: the files of earlier
 * versions are those of the first OLD_GOLDENS. */
static const char *const goldens[] = {"demo", "thread_join", "edge", "memory"};
#define OLD_GOLDENS 3

/* JSON -> load -> MessagePack+zstd -> load -> JSON gives the golden JSON
 * byte for byte. */
SC_TEST(formats, golden_json_round_trip_through_msgpack) {
  for (size_t g = 0; g < sizeof goldens / sizeof goldens[0]; g++) {
    char name[64];
    snprintf(name, sizeof name, "%s.json", goldens[g]);
    size_t jlen, mlen, olen;
    char *json = sc_test_golden(name, &jlen, 0);
    sc_profile_t *p = load_ok(json, jlen);
    char *mp = export_copy(p, SC_FORMAT_MSGPACK_ZSTD, &mlen);
    sc_profile_t *q = load_ok(mp, mlen);
    char *out = export_copy(q, SC_FORMAT_JSON, &olen);
    cr_assert_eq(olen, jlen, "%s: %zu bytes back, %zu expected", name, olen, jlen);
    cr_assert(memcmp(out, json, jlen) == 0, "%s: differs after the round trip", name);
    /* and JSON -> load -> JSON directly */
    free(out);
    out = export_copy(p, SC_FORMAT_JSON, &olen);
    cr_assert(olen == jlen && memcmp(out, json, jlen) == 0, "%s: JSON round trip", name);
    free(out);
    free(mp);
    free(json);
    sc_profile_free(p);
    sc_profile_free(q);
  }
}

/* The committed .msgpack.zst files still load to the same documents, and
 * the MessagePack the library writes today is byte for byte what it wrote
 * when they were made (compressed bytes may differ across zstd versions;
 * the payload may not). */
SC_TEST(formats, golden_msgpack_files_are_stable) {
  for (size_t g = 0; g < sizeof goldens / sizeof goldens[0]; g++) {
    char jname[64], mname[64];
    snprintf(jname, sizeof jname, "%s.json", goldens[g]);
    snprintf(mname, sizeof mname, "%s.msgpack.zst", goldens[g]);
    size_t jlen, zlen, olen, rawlen, nowlen, nowrawlen;
    char *json = sc_test_golden(jname, &jlen, 0);
    char *z = sc_test_golden(mname, &zlen, 0);
    sc_profile_t *p = load_ok(z, zlen);
    char *out = export_copy(p, SC_FORMAT_JSON, &olen);
    cr_assert(olen == jlen && memcmp(out, json, jlen) == 0,
              "%s does not load to %s any more", mname, jname);
    char *raw = unzstd(z, zlen, &rawlen);
    sc_profile_t *pj = load_ok(json, jlen);
    char *now = export_copy(pj, SC_FORMAT_MSGPACK_ZSTD, &nowlen);
    char *nowraw = unzstd(now, nowlen, &nowrawlen);
    cr_assert(rawlen == nowrawlen && memcmp(raw, nowraw, rawlen) == 0,
              "%s: the MessagePack written today differs from the committed file", mname);
    free(json), free(z), free(out), free(raw), free(now), free(nowraw);
    sc_profile_free(p);
    sc_profile_free(pj);
  }
}

/* Files written by earlier format versions (tests/golden/v1/ and v2/,
 * never regenerated) still load, to the same documents. */
static void old_version_loads(int version) {
  for (size_t g = 0; g < OLD_GOLDENS; g++) {
    char jname[64], mname[64];
    snprintf(jname, sizeof jname, "%s.json", goldens[g]);
    snprintf(mname, sizeof mname, "v%d/%s.msgpack.zst", version, goldens[g]);
    size_t jlen, zlen, rawlen, olen;
    char *json = sc_test_golden(jname, &jlen, 0);
    char *z = sc_test_golden(mname, &zlen, 0);
    /* it is a file of that version */
    char *raw = unzstd(z, zlen, &rawlen);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    cr_assert_eq(msgpack_unpack_next(&up, raw, rawlen, &off), MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(up.data.via.map.ptr[1].val.via.u64, (uint64_t)version, "%s", mname);
    msgpack_unpacked_destroy(&up);
    sc_profile_t *p = load_ok(z, zlen);
    char *out = export_copy(p, SC_FORMAT_JSON, &olen);
    cr_assert(olen == jlen && memcmp(out, json, jlen) == 0, "%s does not load to %s", mname, jname);
    free(json), free(z), free(raw), free(out);
    sc_profile_free(p);
  }
}

SC_TEST(formats, golden_version_1_files_still_load) { old_version_loads(1); }

SC_TEST(formats, golden_version_2_files_still_load) { old_version_loads(2); }

/* Every file of tests/golden/malformed/ is refused with SC_EFORMAT, from a
 * path and from an exactly-sized buffer. */
SC_TEST(formats, malformed_files_are_refused) {
  char dir[4096];
  sc_test_golden_path(dir, sizeof dir, "malformed");
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "cannot open %s", dir);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    sc_profile_t *p = NULL;
    int rc = sc_profile_load(path, &p);
    cr_expect_eq(rc, SC_EFORMAT, "%s: %s (%d), SC_EFORMAT expected", e->d_name, sc_err_name(rc), rc);
    cr_assert_null(p);
    size_t len;
    char *data = sc_test_slurp(path, &len, 0);
    rc = sc_profile_load_buffer(data, len, &p);
    cr_expect_eq(rc, SC_EFORMAT, "%s (buffer): %s", e->d_name, sc_err_name(rc));
    free(data);
    n++;
  }
  closedir(d);
  cr_assert_geq(n, 50, "only %d malformed files", n);
}

/* ---- the MessagePack+zstd layout --------------------------------------- */

SC_TEST(formats, msgpack_layout_is_as_documented) {
  size_t jlen, zlen, rawlen;
  char *json = sc_test_golden("demo.json", &jlen, 0);
  sc_profile_t *p = load_ok(json, jlen);
  char *z = export_copy(p, SC_FORMAT_MSGPACK_ZSTD, &zlen);
  /* one frame, with its content size, that standard zstd decodes */
  cr_assert_eq((unsigned char)z[0], 0x28);
  cr_assert_eq(ZSTD_findFrameCompressedSize(z, zlen), zlen);
  cr_assert_neq(ZSTD_getFrameContentSize(z, zlen), ZSTD_CONTENTSIZE_UNKNOWN);
  char *raw = unzstd(z, zlen, &rawlen);
  msgpack_unpacked up;
  msgpack_unpacked_init(&up);
  size_t off = 0;
  cr_assert_eq(msgpack_unpack_next(&up, raw, rawlen, &off), MSGPACK_UNPACK_SUCCESS);
  cr_assert_eq(off, rawlen, "one MessagePack value, nothing after it");
  const msgpack_object *root = &up.data;
  cr_assert_eq(root->type, MSGPACK_OBJECT_MAP);
  const msgpack_object_kv *kv = root->via.map.ptr;
  cr_assert_eq(kv[0].key.type, MSGPACK_OBJECT_STR);
  cr_assert_eq(kv[0].key.via.str.size, 6);
  cr_assert(memcmp(kv[0].key.via.str.ptr, "format", 6) == 0);
  cr_assert_eq(kv[0].val.via.str.size, strlen("scalenecore-profile"));
  cr_assert(memcmp(kv[0].val.via.str.ptr, "scalenecore-profile", 19) == 0);
  cr_assert(memcmp(kv[1].key.via.str.ptr, "format_version", 14) == 0);
  cr_assert_eq(kv[1].val.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
  cr_assert_eq(kv[1].val.via.u64, SC__PROFILE_FORMAT_VERSION);
  /* then the document's keys, in the JSON's order, with their types */
  const sc__value *doc = ((const struct sc_profile *)p)->doc;
  cr_assert_eq(root->via.map.size, doc->u.c.len + 2);
  for (size_t i = 0; i < doc->u.c.len; i++) {
    const msgpack_object *k = &kv[i + 2].key, *v = &kv[i + 2].val;
    cr_assert_eq(k->via.str.size, strlen(doc->u.c.keys[i]));
    cr_assert(memcmp(k->via.str.ptr, doc->u.c.keys[i], k->via.str.size) == 0);
    const sc__value *dv = doc->u.c.items[i];
    switch (dv->type) {
      case SC__V_INT:
        cr_assert(v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER,
                  "%s", doc->u.c.keys[i]);
        break;
      case SC__V_DOUBLE: cr_assert_eq(v->type, MSGPACK_OBJECT_FLOAT64, "%s", doc->u.c.keys[i]); break;
      case SC__V_STRING: cr_assert_eq(v->type, MSGPACK_OBJECT_STR); break;
      case SC__V_BOOL: cr_assert_eq(v->type, MSGPACK_OBJECT_BOOLEAN); break;
      case SC__V_NULL: cr_assert_eq(v->type, MSGPACK_OBJECT_NIL); break;
      case SC__V_ARRAY: cr_assert_eq(v->type, MSGPACK_OBJECT_ARRAY); break;
      case SC__V_OBJECT: cr_assert_eq(v->type, MSGPACK_OBJECT_MAP); break;
    }
  }
  msgpack_unpacked_destroy(&up);
  /* doubles are float64 (0xcb), never float32 */
  const sc__value *el = sc__v_get(doc, "elapsed_time_sec");
  cr_assert_eq(el->type, SC__V_DOUBLE);
  unsigned char f64[9] = {0xcb};
  uint64_t bits;
  memcpy(&bits, &el->u.d, 8);
  for (int i = 0; i < 8; i++) f64[1 + i] = (unsigned char)(bits >> (56 - 8 * i));
  cr_assert_not_null(memmem(raw, rawlen, f64, 9));
  free(json), free(z), free(raw);
  sc_profile_free(p);
}

SC_TEST(formats, msgpack_frame_without_content_size_loads) {
  size_t jlen, zlen, rawlen, z2len, olen;
  char *json = sc_test_golden("edge.json", &jlen, 0);
  sc_profile_t *p = load_ok(json, jlen);
  char *z = export_copy(p, SC_FORMAT_MSGPACK_ZSTD, &zlen);
  char *raw = unzstd(z, zlen, &rawlen);
  char *z2 = zstd_of(raw, rawlen, 0, &z2len); /* as `zstd < in > out` writes */
  cr_assert_eq(ZSTD_getFrameContentSize(z2, z2len), ZSTD_CONTENTSIZE_UNKNOWN);
  sc_profile_t *q = load_ok(z2, z2len);
  char *out = export_copy(q, SC_FORMAT_JSON, &olen);
  cr_assert(olen == jlen && memcmp(out, json, jlen) == 0);
  free(json), free(z), free(raw), free(z2), free(out);
  sc_profile_free(p);
  sc_profile_free(q);
}

/* A profile the JSON writer would write with U+FFFD (invalid UTF-8 from a
 * source file) gets the same replacement in MessagePack: both files load
 * to the same document. */
SC_TEST(formats, invalid_utf8_is_replaced_like_json) {
  sc__value *doc = sc__v_object();
  sc__v_set(doc, "files", sc__v_object());
  sc__v_set_str(doc, "line", "caf\xe9 \xc3\x28 ok \xf0\x9f\x98\x80");
  sc__v_set_str(doc, "k\xff", "v");
  sc__buf j, z;
  sc__buf_init(&j);
  sc__buf_init(&z);
  cr_assert_eq(sc__json_write(doc, &j, 2), 0);
  cr_assert_eq(sc__msgpack_zstd_write(doc, &z), 0);
  sc__value *from_mp = NULL, *from_json = NULL;
  cr_assert_eq(sc__msgpack_zstd_read(z.data, z.len, &from_mp), 0);
  cr_assert_eq(sc__json_read(j.data, j.len, &from_json), 0);
  sc__buf a, b;
  sc__buf_init(&a);
  sc__buf_init(&b);
  cr_assert_eq(sc__json_write(from_mp, &a, 2), 0);
  cr_assert_eq(sc__json_write(from_json, &b, 2), 0);
  cr_assert_str_eq(a.data, b.data);
  cr_assert_str_eq(sc__v_get(from_mp, "line")->u.str.s,
                   "caf\xef\xbf\xbd \xef\xbf\xbd( ok \xf0\x9f\x98\x80");
  cr_assert_not_null(sc__v_get(from_mp, "k\xef\xbf\xbd"));
  sc__buf_free(&j), sc__buf_free(&z), sc__buf_free(&a), sc__buf_free(&b);
  sc__v_free(doc);
  sc__v_free(from_mp);
  sc__v_free(from_json);
}

SC_TEST(formats, msgpack_types_round_trip) {
  sc__value *doc = sc__v_object();
  sc__value *a = sc__v_array();
  sc__v_push(a, sc__v_int(INT64_MAX));
  sc__v_push(a, sc__v_int(INT64_MIN));
  sc__v_push(a, sc__v_int(-1));
  sc__v_push(a, sc__v_int(0));
  sc__v_push(a, sc__v_double(0.1));
  sc__v_push(a, sc__v_double(-0.0));
  sc__v_push(a, sc__v_double(5e-324));
  sc__v_push(a, sc__v_double(NAN)); /* nil, as JSON's null */
  sc__v_push(a, sc__v_null());
  sc__v_push(a, sc__v_bool(true));
  sc__v_push(a, sc__v_strn("a\0b", 3));
  sc__v_push(a, sc__v_object());
  sc__v_set(doc, "a", a);
  sc__v_set_str(doc, "", "an empty key"); /* msgpack-c gives empty strings no pointer */
  /* the document may have keys named like the header's */
  sc__v_set_str(doc, "format", "mine");
  sc__v_set_int(doc, "format_version", 99);
  sc__buf z;
  sc__buf_init(&z);
  cr_assert_eq(sc__msgpack_zstd_write(doc, &z), 0);
  sc__value *back = NULL;
  cr_assert_eq(sc__msgpack_zstd_read(z.data, z.len, &back), 0);
  const sc__value *b = sc__v_get(back, "a");
  cr_assert_eq(b->u.c.len, 12);
  cr_assert(b->u.c.items[0]->type == SC__V_INT && b->u.c.items[0]->u.i == INT64_MAX);
  cr_assert(b->u.c.items[1]->type == SC__V_INT && b->u.c.items[1]->u.i == INT64_MIN);
  cr_assert(b->u.c.items[2]->type == SC__V_INT && b->u.c.items[2]->u.i == -1);
  cr_assert(b->u.c.items[3]->type == SC__V_INT && b->u.c.items[3]->u.i == 0);
  cr_assert(b->u.c.items[4]->type == SC__V_DOUBLE && b->u.c.items[4]->u.d == 0.1);
  cr_assert(b->u.c.items[5]->type == SC__V_DOUBLE && signbit(b->u.c.items[5]->u.d));
  cr_assert(b->u.c.items[6]->type == SC__V_DOUBLE && b->u.c.items[6]->u.d == 5e-324);
  cr_assert_eq(b->u.c.items[7]->type, SC__V_NULL);
  cr_assert_eq(b->u.c.items[8]->type, SC__V_NULL);
  cr_assert(b->u.c.items[9]->type == SC__V_BOOL && b->u.c.items[9]->u.b);
  cr_assert(b->u.c.items[10]->u.str.len == 3 && memcmp(b->u.c.items[10]->u.str.s, "a\0b", 3) == 0);
  cr_assert_eq(b->u.c.items[11]->type, SC__V_OBJECT);
  cr_assert_str_eq(sc__v_get(back, "format")->u.str.s, "mine");
  cr_assert_eq(sc__v_get(back, "format_version")->u.i, 99);
  cr_assert_str_eq(sc__v_get(back, "")->u.str.s, "an empty key");
  cr_assert_eq(back->u.c.len, 4);
  sc__buf_free(&z);
  sc__v_free(doc);
  sc__v_free(back);
}

/* Hand-made MessagePack documents: what else the reader accepts. */
static int read_raw(const void *raw, size_t len, sc__value **out) {
  size_t zlen;
  char *z = zstd_of(raw, len, 1, &zlen);
  int rc = sc__msgpack_zstd_read(z, zlen, out);
  free(z);
  return rc;
}

SC_TEST(formats, msgpack_reader_accepts_other_encodings) {
  /* header, then "u": uint64 max (a double), "f": float32 1.5 */
  static const unsigned char raw[] = {
      0x84, 0xa6, 'f', 'o', 'r', 'm', 'a', 't', 0xb3, 's', 'c', 'a', 'l', 'e', 'n', 'e', 'c',
      'o', 'r', 'e', '-', 'p', 'r', 'o', 'f', 'i', 'l', 'e', 0xae, 'f', 'o', 'r', 'm', 'a',
      't', '_', 'v', 'e', 'r', 's', 'i', 'o', 'n', 0xcc, 0x01, 0xa1, 'u', 0xcf, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa1, 'f', 0xca, 0x3f, 0xc0, 0x00, 0x00};
  sc__value *v = NULL;
  cr_assert_eq(read_raw(raw, sizeof raw, &v), 0);
  cr_assert_eq(sc__v_get(v, "u")->type, SC__V_DOUBLE);
  cr_assert_eq(sc__v_get(v, "u")->u.d, 18446744073709551615.0);
  cr_assert_eq(sc__v_get(v, "f")->type, SC__V_DOUBLE);
  cr_assert_eq(sc__v_get(v, "f")->u.d, 1.5);
  sc__v_free(v);
  /* format_version 0 is refused */
  unsigned char bad[sizeof raw];
  memcpy(bad, raw, sizeof raw);
  bad[44] = 0x00;
  cr_assert_eq(read_raw(bad, sizeof bad, &v), SC_EFORMAT);
}

/* Depth: 32 nested containers load in both formats, 33 in neither, and
 * the writer refuses what the reader would. */
static sc__value *nested(int arrays) {
  sc__value *root = sc__v_object(), *cur = sc__v_array();
  sc__v_set(root, "files", sc__v_object());
  sc__v_set(root, "x", cur);
  for (int i = 1; i < arrays; i++) {
    sc__value *a = sc__v_array();
    sc__v_push(cur, a);
    cur = a;
  }
  sc__v_push(cur, sc__v_int(7));
  return root;
}

SC_TEST(formats, nesting_limit_is_the_same_for_both_formats) {
  for (int arrays = 30; arrays <= 33; arrays++) {
    sc__value *doc = nested(arrays); /* depth: 1 + arrays */
    int ok = 1 + arrays <= SC__DOC_MAX_DEPTH;
    sc__buf j, z;
    sc__buf_init(&j);
    sc__buf_init(&z);
    cr_assert_eq(sc__json_write(doc, &j, -1), 0);
    sc__value *v = NULL;
    cr_assert_eq(sc__json_read(j.data, j.len, &v), ok ? 0 : SC_EFORMAT, "depth %d", 1 + arrays);
    sc__v_free(v);
    cr_assert_eq(sc__msgpack_zstd_write(doc, &z), ok ? 0 : SC_EINVAL, "depth %d", 1 + arrays);
    if (ok) {
      v = NULL;
      cr_assert_eq(sc__msgpack_zstd_read(z.data, z.len, &v), 0);
      sc__v_free(v);
    }
    sc__buf_free(&j);
    sc__buf_free(&z);
    sc__v_free(doc);
  }
}

/* ---- large documents: the reader's pieces (msgpack.c) ------------------- */

/* A document with containers larger than the reader's piece size (64 KiB)
 * at every level: the root, a map of files, long arrays, a large map of
 * scalars, a long string, nested arrays down to the depth limit; a file
 * whose table of lines (and its first run) is larger than a piece too. */
static sc__value *large_doc(void) {
  sc__value *doc = sc__v_object();
  sc__value *files = sc__v_object();
  for (int f = 0; f < 300; f++) {
    sc__value *fo = sc__v_object(), *lines = sc__v_array();
    int nlines = f == 7 ? 5000 : 40;
    for (int l = 0; l < nlines; l++) {
      sc__value *lo = sc__v_object();
      char text[64];
      snprintf(text, sizeof text, "    total += item.weight * item.count  # %d", f == 7 ? l : 0);
      sc__v_set_str(lo, "line", text);
      sc__v_set_int(lo, "lineno", l + 1);
      sc__v_set_double(lo, "n_cpu_percent_python", (f * 40 + l) / 7.0);
      sc__v_set_int(lo, "n_malloc_mb", 0);
      sc__v_set(lo, "memory_samples", sc__v_array());
      if (l % 9 == 0 && l < 3000) sc__v_set_str(lo, "extra", "only some lines");
      sc__v_push(lines, lo);
    }
    sc__v_set(fo, "lines", lines);
    sc__v_set(fo, "leaks", sc__v_object());
    char path[64];
    snprintf(path, sizeof path, "/srv/app/module_%04d.py", f);
    sc__v_set(files, path, fo);
  }
  sc__v_set(doc, "files", files);
  sc__value *ints = sc__v_array();
  for (int i = 0; i < 40000; i++) sc__v_push(ints, sc__v_int(i * 37 - 5000));
  sc__v_set(doc, "ints", ints);
  sc__value *scalars = sc__v_object();
  for (int i = 0; i < 9000; i++) {
    char k[32];
    snprintf(k, sizeof k, "key %d \xc3\xa9", i);
    sc__v_set_double(scalars, k, i + 0.5);
  }
  sc__v_set(doc, "scalars", scalars);
  char *big = malloc(100000);
  for (int i = 0; i < 100000; i++) big[i] = (char)('a' + i % 26);
  sc__v_set(doc, "text", sc__v_strn(big, 100000));
  free(big);
  sc__value *deep = sc__v_array(), *cur = deep;
  for (int d = 0; d < 29; d++) { /* the root, "deep" and 29 more: depth 31 */
    sc__value *next = sc__v_array();
    sc__v_push(cur, sc__v_str("before"));
    sc__v_push(cur, next);
    sc__v_push(cur, sc__v_str("after"));
    cur = next;
  }
  for (int i = 0; i < 30000; i++) sc__v_push(cur, sc__v_double(i / 3.0));
  sc__v_set(doc, "deep", deep);
  sc__v_set_str(doc, "last", "end");
  return doc;
}

SC_TEST(formats, msgpack_large_documents_round_trip) {
  sc__value *doc = large_doc();
  sc__buf j, z, back;
  sc__buf_init(&j), sc__buf_init(&z), sc__buf_init(&back);
  cr_assert_eq(sc__json_write(doc, &j, -1), 0);
  cr_assert_eq(sc__msgpack_zstd_write(doc, &z), 0);
  sc__value *v = NULL;
  cr_assert_eq(sc__msgpack_zstd_read(z.data, z.len, &v), 0);
  cr_assert_eq(sc__json_write(v, &back, -1), 0);
  cr_assert_eq(back.len, j.len);
  cr_assert(memcmp(back.data, j.data, j.len) == 0, "the document changed");
  /* the JSON reader builds the same */
  sc__value *w = NULL;
  cr_assert_eq(sc__json_read(j.data, j.len, &w), 0);
  sc__buf_free(&back);
  sc__buf_init(&back);
  cr_assert_eq(sc__json_write(w, &back, -1), 0);
  cr_assert(back.len == j.len && memcmp(back.data, j.data, j.len) == 0);
  sc__v_free(v), sc__v_free(w), sc__v_free(doc);
  sc__buf_free(&j), sc__buf_free(&z), sc__buf_free(&back);
}

/* What makes a large container malformed (deep in a large document) is
 * refused as in a small one. */
enum {
  BAD_NONE,
  BAD_DUP_KEY,     /* a key repeated at the end of a large map */
  BAD_INT_KEY,     /* a non-str key in a large map */
  BAD_UTF8_KEY,    /* an invalid UTF-8 key in a large map */
  BAD_NAN,         /* NaN in a large array */
  BAD_UTF8_STR,    /* an invalid UTF-8 string in a large array */
  BAD_BIN,         /* a bin value in a large array */
  BAD_NAME,        /* another format name, large root */
  BAD_VERSION,     /* a newer format_version, large root */
  BAD_HEADER_ARRAY,/* a large array as the format name */
  BAD_DEEP_DUP,    /* a duplicate key in a small map inside large ones */
  BAD_COUNT
};

static char *large_raw(int bad, size_t *zlen) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 4);
  msgpack_pack_str_with_body(&pk, "format", 6);
  if (bad == BAD_HEADER_ARRAY) {
    msgpack_pack_array(&pk, 30000);
    for (int i = 0; i < 30000; i++) msgpack_pack_int(&pk, i);
  } else if (bad == BAD_NAME) {
    msgpack_pack_str_with_body(&pk, "other-profile", 13);
  } else {
    msgpack_pack_str_with_body(&pk, SC__PROFILE_FORMAT_NAME, strlen(SC__PROFILE_FORMAT_NAME));
  }
  msgpack_pack_str_with_body(&pk, "format_version", 14);
  msgpack_pack_int(&pk, bad == BAD_VERSION ? SC__PROFILE_FORMAT_VERSION + 1 : 1);
  /* "files": a large map of large maps */
  msgpack_pack_str_with_body(&pk, "files", 5);
  msgpack_pack_map(&pk, 3);
  for (int f = 0; f < 3; f++) {
    char k[32];
    snprintf(k, sizeof k, "file%d", f);
    msgpack_pack_str_with_body(&pk, k, strlen(k));
    int n = 12000; /* about 100 KB: a large map */
    msgpack_pack_map(&pk, (size_t)n + (f == 2 && bad >= BAD_DUP_KEY && bad <= BAD_UTF8_KEY));
    for (int i = 0; i < n; i++) {
      snprintf(k, sizeof k, "k%d", i);
      msgpack_pack_str_with_body(&pk, k, strlen(k));
      if (f == 1 && i == 4000) { /* a small map with the same keys as its neighbours */
        msgpack_pack_map(&pk, 2);
        msgpack_pack_str_with_body(&pk, "a", 1);
        msgpack_pack_int(&pk, 1);
        msgpack_pack_str_with_body(&pk, bad == BAD_DEEP_DUP ? "a" : "b", 1);
        msgpack_pack_int(&pk, 2);
      } else if (f == 1 && i > 3990) {
        msgpack_pack_map(&pk, 2);
        msgpack_pack_str_with_body(&pk, "a", 1);
        msgpack_pack_int(&pk, 1);
        msgpack_pack_str_with_body(&pk, "b", 1);
        msgpack_pack_int(&pk, 2);
      } else {
        msgpack_pack_int(&pk, i);
      }
    }
    if (f == 2 && bad == BAD_DUP_KEY) msgpack_pack_str_with_body(&pk, "k17", 3), msgpack_pack_nil(&pk);
    if (f == 2 && bad == BAD_INT_KEY) msgpack_pack_int(&pk, 5), msgpack_pack_nil(&pk);
    if (f == 2 && bad == BAD_UTF8_KEY) msgpack_pack_str_with_body(&pk, "k\xff", 2), msgpack_pack_nil(&pk);
  }
  msgpack_pack_str_with_body(&pk, "values", 6);
  msgpack_pack_array(&pk, 30000);
  for (int i = 0; i < 30000; i++) {
    if (i == 29999 && bad == BAD_NAN) msgpack_pack_double(&pk, NAN);
    else if (i == 29999 && bad == BAD_UTF8_STR) msgpack_pack_str_with_body(&pk, "\xc3\x28", 2);
    else if (i == 29999 && bad == BAD_BIN) msgpack_pack_bin_with_body(&pk, "x", 1);
    else msgpack_pack_double(&pk, i / 7.0);
  }
  char *z = zstd_of(sb.data, sb.size, 1, zlen);
  cr_assert_gt(sb.size, 200000);
  msgpack_sbuffer_destroy(&sb);
  return z;
}

SC_TEST(formats, msgpack_large_documents_malformed) {
  for (int bad = 0; bad < BAD_COUNT; bad++) {
    size_t zlen;
    char *z = large_raw(bad, &zlen);
    sc__value *v = NULL;
    int rc = sc__msgpack_zstd_read(z, zlen, &v);
    cr_assert_eq(rc, bad == BAD_NONE ? 0 : SC_EFORMAT, "case %d: %s", bad, sc_strerror(rc));
    if (bad == BAD_NONE) {
      const sc__value *f1 = sc__v_get(sc__v_get(v, "files"), "file1");
      cr_assert_eq(sc__v_len(f1), 12000);
      cr_assert_eq(sc__v_get(sc__v_get(f1, "k4000"), "b")->u.i, 2);
      cr_assert_eq(sc__v_len(sc__v_get(v, "values")), 30000);
    }
    sc__v_free(v);
    sc_profile_t *p = NULL;
    cr_assert_eq(sc_profile_load_buffer(z, zlen, &p), bad == BAD_NONE ? 0 : SC_EFORMAT);
    sc_profile_free(p);
    free(z);
  }
}

/* ---- the JSON reader ----------------------------------------------------- */

SC_TEST(formats, json_numbers) {
  static const struct {
    const char *text;
    sc__vtype type;
    int64_t i;
    double d;
  } ok[] = {
      {"0", SC__V_INT, 0, 0},
      {"-0", SC__V_INT, 0, 0},
      {"42", SC__V_INT, 42, 0},
      {"-17", SC__V_INT, -17, 0},
      {"9223372036854775807", SC__V_INT, INT64_MAX, 0},
      {"-9223372036854775808", SC__V_INT, INT64_MIN, 0},
      {"9223372036854775808", SC__V_DOUBLE, 0, 9223372036854775808.0},
      {"-9223372036854775809", SC__V_DOUBLE, 0, -9223372036854775809.0},
      {"99999999999999999999", SC__V_DOUBLE, 0, 1e20},
      {"1.5", SC__V_DOUBLE, 0, 1.5},
      {"-0.25", SC__V_DOUBLE, 0, -0.25},
      {"1e2", SC__V_DOUBLE, 0, 100},
      {"1E+2", SC__V_DOUBLE, 0, 100},
      {"1e-2", SC__V_DOUBLE, 0, 0.01},
      {"0.1", SC__V_DOUBLE, 0, 0.1},
      {"1.7976931348623157e308", SC__V_DOUBLE, 0, 1.7976931348623157e308},
      {"1e-400", SC__V_DOUBLE, 0, 0}, /* underflow: zero */
      {" \t\r\n7 \n", SC__V_INT, 7, 0},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    sc__value *v;
    cr_assert_eq(jread(ok[i].text, &v), 0, "%s", ok[i].text);
    cr_assert_eq(v->type, ok[i].type, "%s", ok[i].text);
    if (v->type == SC__V_INT) cr_assert_eq(v->u.i, ok[i].i, "%s", ok[i].text);
    else cr_assert_eq(v->u.d, ok[i].d, "%s", ok[i].text);
    sc__v_free(v);
  }
  static const char *const bad[] = {"01", "+1", ".5", "1.", "1e", "1e+", "-", "--1", "0x10",
                                    "1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1 2",
                                    "1,", "1.5.2", "١"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sc__value *v;
    cr_assert_eq(jread(bad[i], &v), SC_EFORMAT, "%s accepted", bad[i]);
    cr_assert_null(v);
  }
}

SC_TEST(formats, json_numbers_ignore_the_locale) {
  const char *names[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE", "C.UTF-8"};
  for (size_t i = 0; i < 4; i++)
    if (setlocale(LC_NUMERIC, names[i])) break;
  sc__value *v;
  cr_assert_eq(jread("1.5", &v), 0);
  cr_assert_eq(v->u.d, 1.5);
  sc__v_free(v);
  setlocale(LC_NUMERIC, "C");
}

SC_TEST(formats, json_strings) {
  static const struct {
    const char *text, *bytes;
    size_t len;
  } ok[] = {
      {"\"\"", "", 0},
      {"\"plain\"", "plain", 5},
      {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
      {"\"\\u00e9\\u4E2D\"", "\xc3\xa9\xe4\xb8\xad", 5},
      {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
      {"\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4},
      {"\"a\\u0000b\"", "a\0b", 3},
      {"\"raw \xc3\xa9 \xf0\x9f\x98\x80 \x7f\"", "raw \xc3\xa9 \xf0\x9f\x98\x80 \x7f", 13},
      {"\"\xef\xbf\xbf\"", "\xef\xbf\xbf", 3},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    sc__value *v;
    cr_assert_eq(jread(ok[i].text, &v), 0, "%s", ok[i].text);
    cr_assert_eq(v->type, SC__V_STRING);
    cr_assert_eq(v->u.str.len, ok[i].len, "%s", ok[i].text);
    cr_assert(memcmp(v->u.str.s, ok[i].bytes, ok[i].len) == 0, "%s", ok[i].text);
    sc__v_free(v);
  }
  static const char *const bad[] = {
      "\"unterminated", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\udc00\"", "\"\\ud800\"",
      "\"\\ud800x\"", "\"\\ud800\\u0041\"", "\"\\ud800\\ud800\"", "\"a\tb\"", "\"a\nb\"",
      "\"\x01\"", "\"\xc3\x28\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"",
      "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"", "\"\xff\"", "\"\x80\"", "\"\xe4\xb8\"",
      "\"\\", "'single'"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    sc__value *v;
    cr_assert_eq(jread(bad[i], &v), SC_EFORMAT, "accepted: %s", bad[i]);
  }
}

SC_TEST(formats, json_structure) {
  sc__value *v;
  cr_assert_eq(jread(" { \"a\" : [ 1 , true , false , null , { } , [ ] ] , \"b\" : \"c\" } ", &v), 0);
  cr_assert(json_text_eq(v, "{\"a\":[1,true,false,null,{},[]],\"b\":\"c\"}\n"));
  sc__v_free(v);
  static const char *const bad[] = {
      "", " ", "[", "{", "]", "}", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}",
      "{\"a\":}", "{1:2}", "{a:1}", "{\"a\":1 \"b\":2}", "[1]]", "{}{}", "tru", "nul", "falsey",
      "\xef\xbb\xbf{}", "{} x", "{\"a\":1,\"a\":2}", "{\"a\\u0000\":1}", "/* c */{}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    v = NULL;
    cr_assert_eq(sc__json_read(bad[i], strlen(bad[i]), &v), SC_EFORMAT, "accepted: %s", bad[i]);
    cr_assert_null(v);
  }
  /* NUL after a document is trailing garbage */
  cr_assert_eq(sc__json_read("[1]\0", 4, &v), SC_EFORMAT);
}

/* Duplicate keys are found in large objects too (the hashed path). */
SC_TEST(formats, json_duplicate_keys_in_large_objects) {
  for (int dup_at = 0; dup_at < 3; dup_at++) {
    sc__buf b;
    sc__buf_init(&b);
    sc__buf_putc(&b, '{');
    for (int i = 0; i < 1000; i++) sc__buf_printf(&b, "%s\"key%d\":%d", i ? "," : "", i, i);
    if (dup_at == 1) sc__buf_puts(&b, ",\"key3\":0");
    if (dup_at == 2) sc__buf_puts(&b, ",\"key999\":0");
    sc__buf_putc(&b, '}');
    sc__value *v = NULL;
    int rc = sc__json_read(b.data, b.len, &v);
    cr_assert_eq(rc, dup_at ? SC_EFORMAT : 0, "dup_at %d", dup_at);
    if (!dup_at) {
      cr_assert_eq(v->u.c.len, 1000);
      cr_assert_eq(sc__v_get(v, "key777")->u.i, 777);
    }
    sc__v_free(v);
    sc__buf_free(&b);
  }
}

/* Raw MessagePack for a document of `n` objects in "a", each given as a
 * list of keys (one string, keys separated by spaces), in a zstd frame. */
static char *mp_objects(const char *const *objs, size_t n, size_t *zlen) {
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  msgpack_packer pk;
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 3);
  msgpack_pack_str_with_body(&pk, "format", 6);
  msgpack_pack_str_with_body(&pk, SC__PROFILE_FORMAT_NAME, strlen(SC__PROFILE_FORMAT_NAME));
  msgpack_pack_str_with_body(&pk, "format_version", 14);
  msgpack_pack_int(&pk, 1);
  msgpack_pack_str_with_body(&pk, "a", 1);
  msgpack_pack_array(&pk, n);
  for (size_t i = 0; i < n; i++) {
    char keys[256];
    snprintf(keys, sizeof keys, "%s", objs[i]);
    size_t nk = 0;
    for (char *t = strtok(keys, " "); t; t = strtok(NULL, " ")) nk++;
    msgpack_pack_map(&pk, nk);
    snprintf(keys, sizeof keys, "%s", objs[i]);
    int v = 0;
    for (char *t = strtok(keys, " "); t; t = strtok(NULL, " ")) {
      msgpack_pack_str_with_body(&pk, t, strlen(t));
      msgpack_pack_int(&pk, v++);
    }
  }
  char *z = zstd_of(sb.data, sb.size, 1, zlen);
  msgpack_sbuffer_destroy(&sb);
  return z;
}

/* Objects that repeat the keys of the one before them share its keys
 * (doc.h, "shapes"); leaving the shape anywhere still finds duplicates. */
SC_TEST(formats, repeated_keys_are_shared_and_still_checked) {
  static const struct {
    const char *objs[3];
    int ok;
  } cases[] = {
      {{"a b c", "a b c", "a b c"}, 1},
      {{"a b c", "a b", "a b c d"}, 1},      /* a prefix, then a longer shape */
      {{"a b c", "b a c", "c"}, 1},          /* same keys, another order */
      {{"a b c", "a a", NULL}, 0},           /* leaves the shape on a duplicate */
      {{"a b c", "a b c a", NULL}, 0},       /* past the shape's end */
      {{"a b c", "a b x b", NULL}, 0},       /* leaves it, then repeats a shape key */
      {{"a b c", "x a b c a", NULL}, 0},     /* off the shape from the first key */
      {{"a b c", "a b c", "a b c c"}, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = cases[i].objs[2] ? 3 : 2;
    /* JSON */
    sc__buf b;
    sc__buf_init(&b);
    sc__buf_puts(&b, "{\"a\":[");
    for (size_t k = 0; k < n; k++) {
      char keys[64];
      snprintf(keys, sizeof keys, "%s", cases[i].objs[k]);
      sc__buf_puts(&b, k ? ",{" : "{");
      int v = 0;
      for (char *t = strtok(keys, " "); t; t = strtok(NULL, " "))
        sc__buf_printf(&b, "%s\"%s\":%d", v ? "," : "", t, v), v++;
      sc__buf_putc(&b, '}');
    }
    sc__buf_puts(&b, "]}");
    sc__value *v = NULL;
    cr_assert_eq(sc__json_read(b.data, b.len, &v), cases[i].ok ? 0 : SC_EFORMAT, "JSON %s", b.data);
    /* MessagePack: the same document */
    size_t zlen;
    char *z = mp_objects(cases[i].objs, n, &zlen);
    sc__value *w = NULL;
    cr_assert_eq(sc__msgpack_zstd_read(z, zlen, &w), cases[i].ok ? 0 : SC_EFORMAT, "MessagePack %s",
                 b.data);
    if (cases[i].ok) {
      sc__buf j1, j2;
      sc__buf_init(&j1);
      sc__buf_init(&j2);
      cr_assert_eq(sc__json_write(v, &j1, -1), 0);
      cr_assert_eq(sc__json_write(w, &j2, -1), 0);
      cr_assert_eq(j1.len, b.len + 1);
      cr_assert(memcmp(j1.data, b.data, b.len) == 0, "JSON back: %s", j1.data);
      cr_assert_str_eq(j1.data, j2.data);
      sc__buf_free(&j1);
      sc__buf_free(&j2);
    }
    free(z);
    sc__v_free(v);
    sc__v_free(w);
    sc__buf_free(&b);
  }
  /* what is shared */
  sc__value *v = NULL;
  cr_assert_eq(jread("[{\"a\":1,\"b\":[]},{\"a\":2,\"b\":[]},{\"a\":1},{\"b\":1,\"a\":1}]", &v), 0);
  sc__value **o = v->u.c.items;
  cr_assert_eq(o[0]->u.c.keys, o[1]->u.c.keys, "same keys: one keys array");
  cr_assert_eq(o[2]->u.c.keys, o[0]->u.c.keys, "a prefix: the same array");
  cr_assert_neq(o[3]->u.c.keys, o[0]->u.c.keys);
  cr_assert_str_eq(o[3]->u.c.keys[1], "a");
  cr_assert_eq(o[0]->u.c.items[0], o[2]->u.c.items[0], "small integers are shared");
  cr_assert_eq(o[0]->u.c.items[1], o[1]->u.c.items[1], "empty arrays are shared");
  cr_assert_eq(o[0]->u.c.items[0]->u.i, 1);
  cr_assert_eq(o[1]->u.c.items[0]->u.i, 2);
  sc__v_free(v);
}

/* A loaded document is read-only: the writers refuse its nodes, freeing
 * one of them does nothing, a clone is an ordinary heap tree. */
SC_TEST(formats, loaded_documents_are_read_only) {
  sc__value *v = NULL;
  cr_assert_eq(jread("{\"a\":[1,2],\"o\":{\"k\":\"v\"}}", &v), 0);
  cr_assert(v->flags & SC__VF_ROOT);
  sc__value *a = sc__v_get(v, "a"), *o = sc__v_get(v, "o");
  cr_assert(a->flags & SC__VF_ARENA);
  cr_assert_eq(sc__v_push(a, sc__v_int(3)), SC_EINVAL);
  cr_assert_eq(sc__v_set(o, "k", sc__v_int(3)), SC_EINVAL);
  cr_assert_eq(sc__v_set(v, "new", sc__v_null()), SC_EINVAL);
  cr_assert_eq(sc__v_reserve(a, 10), SC_EINVAL);
  sc__v_free(o); /* a no-op: the document owns it */
  cr_assert_str_eq(sc__v_get(o, "k")->u.str.s, "v");
  sc__value *c = sc__v_clone(v);
  cr_assert_eq(c->flags, 0);
  cr_assert_eq(sc__v_set(c, "new", sc__v_null()), 0);
  cr_assert_eq(sc__v_push(sc__v_get(c, "a"), sc__v_int(3)), 0);
  cr_assert(json_text_eq(c, "{\"a\":[1,2,3],\"o\":{\"k\":\"v\"},\"new\":null}\n"));
  sc__v_free(c);
  sc__v_free(v);
}

SC_TEST(formats, json_reader_arguments) {
  sc__value *v = NULL;
  cr_assert_eq(sc__json_read(NULL, 1, &v), SC_EINVAL);
  cr_assert_eq(sc__json_read("1", 1, NULL), SC_EINVAL);
  cr_assert_eq(sc__msgpack_zstd_read(NULL, 1, &v), SC_EINVAL);
  cr_assert_eq(sc__msgpack_zstd_read("x", 1, NULL), SC_EINVAL);
  cr_assert_eq(sc__msgpack_zstd_write(NULL, NULL), SC_EINVAL);
  sc__value *arr = sc__v_array();
  sc__buf b;
  sc__buf_init(&b);
  cr_assert_eq(sc__msgpack_zstd_write(arr, &b), SC_EINVAL, "the document must be an object");
  sc__buf_free(&b);
  sc__v_free(arr);
}

/* ---- through the public API ---------------------------------------------- */

SC_TEST(formats, load_detects_the_format_from_content) {
  size_t jlen, zlen;
  char *json = sc_test_golden("demo.json", &jlen, 0);
  sc_profile_t *p = load_ok(json, jlen);
  char *z = export_copy(p, SC_FORMAT_MSGPACK_ZSTD, &zlen);
  char path[] = "/tmp/sc-formats-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, z, zlen), (ssize_t)zlen);
  close(fd);
  sc_profile_t *q = NULL;
  cr_assert_eq(sc_profile_load(path, &q), 0, "a .msgpack.zst file without the extension");
  size_t olen;
  char *out = export_copy(q, SC_FORMAT_JSON, &olen);
  cr_assert(olen == jlen && memcmp(out, json, jlen) == 0);
  unlink(path);
  sc_profile_t *r = NULL;
  cr_assert_eq(sc_profile_load(path, &r), SC_ENOENT);
  free(json), free(z), free(out);
  sc_profile_free(p);
  sc_profile_free(q);
}
