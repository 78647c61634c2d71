/* fuzz_common.h - what the fuzz targets share: a check that aborts (so
 * libFuzzer records the input) and document round trips. */
#ifndef SC_FUZZ_COMMON_H
#define SC_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"

#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                            \
    }                                                                     \
  } while (0)

/* Compact JSON text of `v`; NULL only when out of memory. */
static inline char *fuzz_json(const sc__value *v, size_t *len) {
  sc__buf b;
  sc__buf_init(&b);
  if (sc__json_write(v, &b, -1) < 0) {
    sc__buf_free(&b);
    return NULL;
  }
  return sc__buf_take(&b, len);
}

/* A document that a reader accepted must survive every writer/reader pair
 * unchanged: its JSON text is a fixed point of JSON read + write, and of
 * MessagePack+zstd write + read (for objects, the only documents that
 * format holds).  `text` is the JSON text of `v`. */
static inline void fuzz_round_trips(const sc__value *v, const char *text, size_t len) {
  sc__value *w = NULL;
  int rc = sc__json_read(text, len, &w);
  if (rc == SC_ENOMEM) return;
  FUZZ_CHECK(rc == 0);
  size_t len2 = 0;
  char *text2 = fuzz_json(w, &len2);
  if (text2) {
    FUZZ_CHECK(len2 == len && memcmp(text, text2, len) == 0);
    sc__free(text2);
  }
  sc__v_free(w);
  if (v->type != SC__V_OBJECT) return;
  sc__buf z;
  sc__buf_init(&z);
  rc = sc__msgpack_zstd_write(v, &z);
  if (rc == 0) {
    sc__value *x = NULL;
    rc = sc__msgpack_zstd_read(z.data, z.len, &x);
    FUZZ_CHECK(rc == 0 || rc == SC_ENOMEM);
    if (rc == 0) {
      size_t len3 = 0;
      char *text3 = fuzz_json(x, &len3);
      if (text3) {
        FUZZ_CHECK(len3 == len && memcmp(text, text3, len) == 0);
        sc__free(text3);
      }
      sc__v_free(x);
    }
  } else {
    FUZZ_CHECK(rc == SC_ENOMEM);
  }
  sc__buf_free(&z);
}

/* What a reader returned: a rejected input fails with SC_EFORMAT (or runs
 * out of memory) only; an accepted document survives the round trips.
 * Takes ownership of `v`. */
static inline void fuzz_check_read(int rc, sc__value *v) {
  if (rc != 0) {
    FUZZ_CHECK(rc == SC_EFORMAT || rc == SC_ENOMEM);
    return;
  }
  size_t len = 0;
  char *text = fuzz_json(v, &len);
  if (text) {
    fuzz_round_trips(v, text, len);
    sc__free(text);
  }
  sc__v_free(v);
}

/* The same bytes through the public loader: it accepts or says
 * SC_EFORMAT, and a loaded profile merges with itself. */
static inline void fuzz_check_load(const void *data, size_t size) {
  sc_profile_t *p = NULL;
  int rc = sc_profile_load_buffer(data, size, &p);
  FUZZ_CHECK(rc == 0 || rc == SC_EFORMAT || rc == SC_ENOMEM);
  if (rc == 0) {
    const sc_profile_t *two[2] = {p, p};
    sc_profile_t *m = NULL;
    rc = sc_profile_merge(two, 2, &m);
    FUZZ_CHECK(rc == 0 || rc == SC_EFORMAT || rc == SC_ENOMEM);
    sc_profile_free(m);
  }
  sc_profile_free(p);
}

#endif
