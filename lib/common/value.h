/* value.h - a small document model (null, bool, int, double, string,
 * array, object with insertion-ordered keys).  Profiles are built as a
 * value tree once and handed to whichever exporter the caller picked, so
 * every format carries exactly the same document. */
#ifndef SC_VALUE_H
#define SC_VALUE_H

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

struct sc__value {
  sc__vtype type;
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
      char **keys; /* objects only */
      size_t len, cap;
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
 * key replaces its value. */
int sc__v_push(sc__value *arr, sc__value *item);
int sc__v_set(sc__value *obj, const char *key, sc__value *item);
/* Shorthands for object members. */
int sc__v_set_int(sc__value *obj, const char *key, int64_t i);
int sc__v_set_double(sc__value *obj, const char *key, double d);
int sc__v_set_str(sc__value *obj, const char *key, const char *s);
int sc__v_set_bool(sc__value *obj, const char *key, bool b);

/* Reserve room for `n` more members in an array or object. */
int sc__v_reserve(sc__value *c, size_t n);

/* Lookup: NULL when absent or not an object. */
sc__value *sc__v_get(const sc__value *obj, const char *key);
size_t sc__v_len(const sc__value *v);

/* Serialise as JSON (UTF-8; invalid UTF-8 in strings is replaced by
 * U+FFFD so the output always parses).  indent < 0: compact. */
int sc__json_write(const sc__value *v, sc__buf *out, int indent);

#endif
