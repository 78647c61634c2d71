/* mkgolden.c - (re)generates the golden files of tests/golden/.
 *
 *   make golden-regen        (tests/fuzz.mk)
 *
 * For every tests/golden/NAME.json given on the command line: checks that
 * loading it and exporting it as JSON gives back the same bytes (a golden
 * JSON must be in the writer's canonical form), then writes
 * NAME.msgpack.zst from it.  Then writes the hostile files of
 * tests/golden/malformed/, each of which the loader must refuse with
 * SC_EFORMAT (tests/unit/test-formats.c).
 *
 * Regenerating the .msgpack.zst goldens is a format change: the unit test
 * compares the committed ones with what the library writes today.  The
 * files of tests/golden/v1/, written by format_version 1, are never
 * regenerated: they must keep loading. */
#include <msgpack.h>
#include <scalenecore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *d = malloc((size_t)n + 1);
  if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) exit(1);
  fclose(f);
  d[n] = '\0';
  *len = (size_t)n;
  return d;
}

static void spit(const char *dir, const char *name, const void *data, size_t len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static void spits(const char *dir, const char *name, const char *text) {
  spit(dir, name, text, strlen(text));
}

/* ---- MessagePack payloads, compressed like the library does ------------ */

static int sb_write(void *data, const char *buf, size_t len) {
  return msgpack_sbuffer_write((msgpack_sbuffer *)data, buf, len);
}

static void zspit(const char *dir, const char *name, const void *raw, size_t len) {
  size_t bound = ZSTD_compressBound(len);
  char *z = malloc(bound);
  size_t n = ZSTD_compress(z, bound, raw, len, 3);
  if (ZSTD_isError(n)) exit(1);
  spit(dir, name, z, n);
  free(z);
}

typedef struct mp {
  msgpack_sbuffer sb;
  msgpack_packer pk;
} mp;

static void mp_init(mp *m) {
  msgpack_sbuffer_init(&m->sb);
  msgpack_packer_init(&m->pk, &m->sb, sb_write);
}

static void mp_str(mp *m, const char *s) { msgpack_pack_str_with_body(&m->pk, s, strlen(s)); }

/* The header and `extra` more pairs follow: map of 2 + extra entries. */
static void mp_header(mp *m, size_t extra, const char *name, int version) {
  msgpack_pack_map(&m->pk, 2 + extra);
  mp_str(m, "format");
  mp_str(m, name);
  mp_str(m, "format_version");
  msgpack_pack_int(&m->pk, version);
}

static void mp_done(mp *m, const char *dir, const char *name) {
  zspit(dir, name, m->sb.data, m->sb.size);
  msgpack_sbuffer_destroy(&m->sb);
}

/* A minimal valid document: the header and "files": {} then `extra`
 * pairs the caller appends. */
static void mp_min(mp *m, size_t extra) {
  mp_init(m);
  mp_header(m, 1 + extra, "scalenecore-profile", 1);
  mp_str(m, "files");
  msgpack_pack_map(&m->pk, 0);
}

static void raw_doc(const char *dir, const char *name, const unsigned char *tail, size_t tlen,
                    size_t extra) {
  mp m;
  mp_min(&m, extra);
  msgpack_sbuffer_write(&m.sb, (const char *)tail, tlen);
  mp_done(&m, dir, name);
}

/* The format version after the one this library writes (3). */
#define NEWER_VERSION 4

/* Malformed version 2 tables: a table of one run of objects with keys
 * "line" and "lineno" (the first a constant), broken as named. */
enum {
  T_PLAIN_ARRAY,     /* the objects as a plain array: runs must be maps */
  T_UNKNOWN_KEY,     /* a run with a key that is not one of the format's */
  T_NO_COUNT,        /* a run without "count" */
  T_COUNT_ZERO,      /* "count": 0 */
  T_COLUMN_LENGTH,   /* a column shorter than "count" */
  T_COLUMNS_MISSING, /* fewer columns than the schema leaves to them */
  T_SCHEMA_INDEX,    /* a schema index not given before */
  T_SAME_AS_LATER,   /* "same_as" naming a later key */
  T_CONST_UNKNOWN,   /* a constant for a key the schema does not have */
  T_DUP_SCHEMA_KEY,  /* a key twice in a schema */
  T_EMPTY_VALUES,    /* a run of "values" with none */
  T_MIXED_RUN,       /* "values" beside "schema" */
  TABLE_CASES
};
static const char *const table_case_names[TABLE_CASES] = {
    "plain-array",   "unknown-run-key",   "no-count",       "count-zero",
    "column-length", "columns-missing",   "schema-index",   "same-as-later",
    "const-unknown", "duplicate-schema-key", "empty-values", "mixed-run"};

static void bad_table(mp *m, int t) {
  msgpack_packer *pk = &m->pk;
  if (t == T_PLAIN_ARRAY) {
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, 1);
    mp_str(m, "lineno");
    msgpack_pack_int(pk, 1);
    return;
  }
  msgpack_pack_array(pk, 1);
  if (t == T_EMPTY_VALUES || t == T_MIXED_RUN) {
    msgpack_pack_map(pk, t == T_MIXED_RUN ? 2 : 1);
    mp_str(m, "values");
    msgpack_pack_array(pk, t == T_MIXED_RUN ? 1 : 0);
    if (t == T_MIXED_RUN) {
      msgpack_pack_int(pk, 1);
      mp_str(m, "schema");
      msgpack_pack_int(pk, 0);
    }
    return;
  }
  msgpack_pack_map(pk, 3 - (t == T_NO_COUNT) + (t == T_UNKNOWN_KEY));
  mp_str(m, "schema");
  if (t == T_SCHEMA_INDEX) {
    msgpack_pack_int(pk, 0);
  } else {
    msgpack_pack_map(pk, 2);
    mp_str(m, "keys");
    msgpack_pack_array(pk, 2);
    mp_str(m, "line");
    mp_str(m, t == T_DUP_SCHEMA_KEY ? "line" : "lineno");
    if (t == T_SAME_AS_LATER) {
      mp_str(m, "same_as");
      msgpack_pack_map(pk, 1);
      mp_str(m, "line");
      mp_str(m, "lineno");
    } else {
      mp_str(m, "constants");
      msgpack_pack_map(pk, 1);
      mp_str(m, t == T_CONST_UNKNOWN ? "lines" : "line");
      mp_str(m, "");
    }
  }
  if (t != T_NO_COUNT) {
    mp_str(m, "count");
    msgpack_pack_int(pk, t == T_COUNT_ZERO ? 0 : 2);
  }
  mp_str(m, "columns");
  if (t == T_COLUMNS_MISSING) {
    msgpack_pack_array(pk, 0);
  } else {
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, t == T_COLUMN_LENGTH ? 1 : 2);
    msgpack_pack_int(pk, 1);
    if (t != T_COLUMN_LENGTH) msgpack_pack_int(pk, 2);
  }
  if (t == T_UNKNOWN_KEY) {
    mp_str(m, "rows");
    msgpack_pack_nil(pk);
  }
}

/* Malformed version 3 tables: one run of two objects with keys "a" and
 * "m", "a" a sparse column (default 0) and "m" a column of pairs,
 * broken as named. */
enum {
  V3_MASK_COUNT,      /* a mask with two bits and one value after it */
  V3_MASK_PAST_END,   /* a bit for a third object of two */
  V3_MASK_MISSING,    /* a sparse column without its mask word */
  V3_DEFAULT_SAME_AS, /* a default for a key that repeats another */
  V3_WIDTH_ZERO,      /* tuples of 0 numbers */
  V3_TUPLE_LENGTH,    /* three numbers for tuples of two */
  V3_TUPLE_STRING,    /* a str among a tuple's numbers */
  V3_TUPLE_HUGE,      /* a flat array declaring 2^32 - 1 numbers */
  V3_IN_VERSION_2,    /* a sparse column in a version 2 file */
  V3_CASES
};
static const char *const v3_case_names[V3_CASES] = {
    "sparse-mask-count", "sparse-mask-past-end", "sparse-mask-missing",
    "default-same-as",   "tuples-width-zero",    "tuple-length",
    "tuple-string",      "tuple-huge-length",    "sparse-in-version-2"};

static void bad_v3_table(mp *m, int t) {
  msgpack_packer *pk = &m->pk;
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 3);
  mp_str(m, "schema");
  msgpack_pack_map(pk, 3 + (t == V3_DEFAULT_SAME_AS));
  mp_str(m, "keys");
  msgpack_pack_array(pk, 2 + (t == V3_DEFAULT_SAME_AS));
  mp_str(m, "a");
  mp_str(m, "m");
  if (t == V3_DEFAULT_SAME_AS) {
    mp_str(m, "b");
    mp_str(m, "same_as");
    msgpack_pack_map(pk, 1);
    mp_str(m, "b");
    mp_str(m, "a");
  }
  mp_str(m, "defaults");
  msgpack_pack_map(pk, 1 + (t == V3_DEFAULT_SAME_AS));
  mp_str(m, "a");
  msgpack_pack_int(pk, 0);
  if (t == V3_DEFAULT_SAME_AS) {
    mp_str(m, "b");
    msgpack_pack_int(pk, 0);
  }
  mp_str(m, "tuples");
  msgpack_pack_map(pk, 1);
  mp_str(m, "m");
  msgpack_pack_int(pk, t == V3_WIDTH_ZERO ? 0 : 2);
  mp_str(m, "count");
  msgpack_pack_int(pk, 2);
  mp_str(m, "columns");
  msgpack_pack_array(pk, 2);
  /* "a": the second object listed (5) */
  if (t == V3_MASK_MISSING) {
    msgpack_pack_array(pk, 0);
  } else {
    msgpack_pack_array(pk, 2);
    msgpack_pack_uint64(pk, t == V3_MASK_COUNT ? 3 : t == V3_MASK_PAST_END ? 6 : 2);
    msgpack_pack_int(pk, 5);
  }
  /* "m": [[1.5, 2]] and [] */
  msgpack_pack_array(pk, 2);
  if (t == V3_TUPLE_HUGE) {
    static const char huge[] = {(char)0xdd, (char)0xff, (char)0xff, (char)0xff, (char)0xff};
    msgpack_sbuffer_write(&m->sb, huge, sizeof huge);
    return;
  }
  msgpack_pack_array(pk, t == V3_TUPLE_LENGTH ? 3 : 2);
  msgpack_pack_double(pk, 1.5);
  if (t == V3_TUPLE_STRING) mp_str(m, "2");
  else msgpack_pack_int(pk, 2);
  if (t == V3_TUPLE_LENGTH) msgpack_pack_int(pk, 3);
  msgpack_pack_array(pk, 0);
}


/* A file whose one source file's "lines" is table `t` of `bad`, broken on
 * purpose, in a document of format `version`: <prefix><name>.msgpack.zst. */
static void broken_table_file(const char *dir, int version, const char *prefix, const char *name,
                              void (*bad)(mp *, int), int t) {
  mp m;
  mp_init(&m);
  mp_header(&m, 1, "scalenecore-profile", version);
  mp_str(&m, "files");
  msgpack_pack_map(&m.pk, 1);
  mp_str(&m, "/app/a.py");
  msgpack_pack_map(&m.pk, 1);
  mp_str(&m, "lines");
  bad(&m, t);
  char file[96];
  snprintf(file, sizeof file, "%s%s.msgpack.zst", prefix, name);
  mp_done(&m, dir, file);
}

static void malformed(const char *dir, const char *golden_json, const char *golden_mp) {
  size_t jl, ml;
  char *j = slurp(golden_json, &jl);
  char *z = slurp(golden_mp, &ml);

  /* ---- JSON */
  spit(dir, "truncated.json", j, jl / 2);
  {
    char *t = malloc(jl + 2);
    memcpy(t, j, jl);
    memcpy(t + jl, "x", 1);
    spit(dir, "trailing-garbage.json", t, jl + 1);
    free(t);
  }
  {
    size_t depth = 1000, n = 0;
    char *t = malloc(2 * depth + 64);
    n += (size_t)sprintf(t, "{\"files\": {}, \"x\": ");
    for (size_t i = 0; i < depth; i++) t[n++] = '[';
    for (size_t i = 0; i < depth; i++) t[n++] = ']';
    t[n++] = '}';
    spit(dir, "deep-nesting.json", t, n);
    free(t);
  }
  spits(dir, "invalid-utf8.json", "{\"files\": {}, \"program\": \"caf\xc3\x28\"}");
  spits(dir, "overlong-utf8.json", "{\"files\": {}, \"program\": \"\xc0\xaf\"}");
  spits(dir, "surrogate-utf8.json", "{\"files\": {}, \"program\": \"\xed\xa0\x80\"}");
  spits(dir, "lone-surrogate-escape.json", "{\"files\": {}, \"program\": \"\\ud800x\"}");
  spits(dir, "not-a-profile.json", "{\"a\": 1}");
  spits(dir, "duplicate-key.json", "{\"files\": {}, \"files\": {}}");
  spits(dir, "number-overflow.json", "{\"files\": {}, \"x\": 1e999}");
  spits(dir, "nan.json", "{\"files\": {}, \"x\": NaN}");
  spits(dir, "control-character.json", "{\"files\": {}, \"x\": \"a\x01\"}");
  spits(dir, "nul-in-key.json", "{\"a\\u0000b\": 1, \"files\": {}}");
  spits(dir, "trailing-comma.json", "{\"files\": {},}");
  spits(dir, "leading-zero.json", "{\"files\": {}, \"x\": 012}");
  spits(dir, "single-quotes.json", "{'files': {}}");
  spits(dir, "comment.json", "{\"files\": {} /* no */}");
  spits(dir, "bom.json", "\xef\xbb\xbf{\"files\": {}}");
  spits(dir, "empty.json", "");
  spits(dir, "array.json", "[{\"files\": {}}]");
  spit(dir, "nul-after.json", "{\"files\": {}}\0", 14);

  /* ---- zstd frames */
  spit(dir, "truncated.msgpack.zst", z, ml / 2);
  spit(dir, "truncated-one-byte.msgpack.zst", z, ml - 1);
  {
    char *t = malloc(ml);
    memcpy(t, z, ml);
    t[ml - 1] ^= 0x55; /* the content checksum */
    spit(dir, "bad-checksum.msgpack.zst", t, ml);
    memcpy(t, z, ml);
    t[ml / 2] ^= 0xff;
    spit(dir, "corrupt-block.msgpack.zst", t, ml);
    memcpy(t, z, ml);
    t[3] = (char)0xfe; /* not zstd's magic: not JSON either */
    spit(dir, "wrong-magic.msgpack.zst", t, ml);
    free(t);
  }
  {
    char *t = malloc(2 * ml);
    memcpy(t, z, ml);
    memcpy(t + ml, z, ml);
    spit(dir, "two-frames.msgpack.zst", t, 2 * ml);
    memcpy(t + ml, "\0\0\0", 3);
    spit(dir, "bytes-after-frame.msgpack.zst", t, ml + 3);
    free(t);
  }
  {
    /* a frame whose header claims 4 GiB of content: magic, descriptor
     * (8-byte content size, window descriptor present), window, size,
     * then one last raw block of one byte */
    const unsigned char t[] = {0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x58, 0, 0, 0, 0,
                               1,    0,    0,    0,    0x09, 0,    0, 0x90};
    spit(dir, "huge-content-size.msgpack.zst", t, sizeof t);
  }
  zspit(dir, "empty-content.msgpack.zst", "", 0);

  /* ---- MessagePack inside valid frames */
  mp m;
  mp_init(&m);
  mp_header(&m, 1, "another-format", 1);
  mp_str(&m, "files");
  msgpack_pack_map(&m.pk, 0);
  mp_done(&m, dir, "wrong-format-name.msgpack.zst");

  mp_init(&m);
  mp_header(&m, 1, "scalenecore-profile", NEWER_VERSION);
  mp_str(&m, "files");
  msgpack_pack_map(&m.pk, 0);
  mp_done(&m, dir, "newer-version.msgpack.zst");

  mp_init(&m);
  msgpack_pack_map(&m.pk, 1);
  mp_str(&m, "files");
  msgpack_pack_map(&m.pk, 0);
  mp_done(&m, dir, "missing-header.msgpack.zst");

  mp_init(&m);
  mp_header(&m, 1, "scalenecore-profile", 1);
  mp_str(&m, "program");
  mp_str(&m, "x");
  mp_done(&m, dir, "not-a-profile.msgpack.zst");

  mp_init(&m);
  msgpack_pack_array(&m.pk, 1);
  mp_str(&m, "files");
  mp_done(&m, dir, "not-a-map.msgpack.zst");

  /* declared lengths that the bytes cannot back */
  static const unsigned char huge_array[] = {0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0};
  raw_doc(dir, "huge-array-length.msgpack.zst", huge_array, sizeof huge_array, 1);
  static const unsigned char huge_map[] = {0xa1, 'x', 0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0};
  raw_doc(dir, "huge-map-length.msgpack.zst", huge_map, sizeof huge_map, 1);
  static const unsigned char huge_str[] = {0xa1, 'x', 0xdb, 0xff, 0xff, 0xff, 0xff, 'a', 'b'};
  raw_doc(dir, "huge-string-length.msgpack.zst", huge_str, sizeof huge_str, 1);
  static const unsigned char short_str[] = {0xa1, 'x', 0xa5, 'a', 'b'};
  raw_doc(dir, "short-string.msgpack.zst", short_str, sizeof short_str, 1);
  {
    unsigned char deep[2 + 40 + 1];
    size_t n = 0;
    deep[n++] = 0xa1;
    deep[n++] = 'x';
    for (int i = 0; i < 40; i++) deep[n++] = 0x91; /* [[[[...nil...]]]] */
    deep[n++] = 0xc0;
    raw_doc(dir, "deep-nesting.msgpack.zst", deep, n, 1);
  }
  static const unsigned char bad_utf8[] = {0xa1, 'x', 0xa2, 0xc3, 0x28};
  raw_doc(dir, "invalid-utf8.msgpack.zst", bad_utf8, sizeof bad_utf8, 1);
  static const unsigned char bad_utf8_key[] = {0xa2, 0xff, 0xfe, 0xc0};
  raw_doc(dir, "invalid-utf8-key.msgpack.zst", bad_utf8_key, sizeof bad_utf8_key, 1);
  static const unsigned char int_key[] = {0x01, 0xc0};
  raw_doc(dir, "non-string-key.msgpack.zst", int_key, sizeof int_key, 1);
  static const unsigned char nul_key[] = {0xa3, 'a', 0, 'b', 0xc0};
  raw_doc(dir, "nul-in-key.msgpack.zst", nul_key, sizeof nul_key, 1);
  static const unsigned char dup_key[] = {0xa5, 'f', 'i', 'l', 'e', 's', 0x80};
  raw_doc(dir, "duplicate-key.msgpack.zst", dup_key, sizeof dup_key, 1);
  static const unsigned char ext[] = {0xa1, 'x', 0xd4, 0x01, 0x00};
  raw_doc(dir, "ext-type.msgpack.zst", ext, sizeof ext, 1);
  static const unsigned char bin[] = {0xa1, 'x', 0xc4, 0x01, 0x00};
  raw_doc(dir, "bin-type.msgpack.zst", bin, sizeof bin, 1);
  static const unsigned char c1[] = {0xa1, 'x', 0xc1};
  raw_doc(dir, "reserved-c1.msgpack.zst", c1, sizeof c1, 1);
  static const unsigned char nan[] = {0xa1, 'x', 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0};
  raw_doc(dir, "nan-float.msgpack.zst", nan, sizeof nan, 1);
  static const unsigned char inf32[] = {0xa1, 'x', 0xca, 0x7f, 0x80, 0, 0};
  raw_doc(dir, "inf-float32.msgpack.zst", inf32, sizeof inf32, 1);
  /* one pair declared, two present: bytes after the document */
  static const unsigned char extra[] = {0xa1, 'x', 0xc0, 0xa1, 'y', 0xc0};
  raw_doc(dir, "trailing-bytes.msgpack.zst", extra, sizeof extra, 1);
  /* two pairs declared, one present */
  static const unsigned char missing[] = {0xa1, 'x', 0xc0};
  raw_doc(dir, "missing-value.msgpack.zst", missing, sizeof missing, 2);

  /* ---- version 2 tables (a file's "lines"), each broken one way */
  for (int t = 0; t < TABLE_CASES; t++)
    broken_table_file(dir, 2, "table-", table_case_names[t], bad_table, t);

  /* ---- version 3 sparse columns and columns of tuples, each broken */
  for (int t = 0; t < V3_CASES; t++)
    broken_table_file(dir, t == V3_IN_VERSION_2 ? 2 : 3, "table-v3-", v3_case_names[t],
                      bad_v3_table, t);

  free(j);
  free(z);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: mkgolden GOLDEN_DIR NAME.json...\n");
    return 2;
  }
  const char *dir = argv[1];
  for (int i = 2; i < argc; i++) {
    size_t len;
    char *text = slurp(argv[i], &len);
    sc_profile_t *p = NULL;
    int rc = sc_profile_load_buffer(text, len, &p);
    if (rc < 0) {
      fprintf(stderr, "%s: %s\n", argv[i], sc_strerror(rc));
      return 1;
    }
    char *out = NULL;
    size_t olen = 0;
    if (sc_profile_export_buffer(p, SC_FORMAT_JSON, &out, &olen) < 0) return 1;
    if (olen != len || memcmp(out, text, len) != 0) {
      fprintf(stderr, "%s is not in canonical form: rewrite it with the library's JSON writer\n",
              argv[i]);
      return 1;
    }
    sc_buffer_free(out);
    char path[4096];
    snprintf(path, sizeof path, "%.*s.msgpack.zst", (int)(strlen(argv[i]) - 5), argv[i]);
    rc = sc_profile_export(p, SC_FORMAT_MSGPACK_ZSTD, path);
    if (rc < 0) {
      fprintf(stderr, "%s: %s\n", path, sc_strerror(rc));
      return 1;
    }
    printf("wrote %s\n", path);
    sc_profile_free(p);
    free(text);
  }
  char mdir[4096], gj[4096], gm[4096];
  snprintf(mdir, sizeof mdir, "%s/malformed", dir);
  snprintf(gj, sizeof gj, "%s/demo.json", dir);
  snprintf(gm, sizeof gm, "%s/demo.msgpack.zst", dir);
  malformed(mdir, gj, gm);
  printf("wrote %s/\n", mdir);
  return 0;
}
