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

#endif
