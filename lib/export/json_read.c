/* json_read.c - a strict RFC 8259 JSON reader into the document model.
 *
 * Accepted: exactly one JSON value, surrounded by optional whitespace
 * (space, tab, LF, CR).  Rejected with SC_EFORMAT:
 *  - anything outside the grammar: trailing commas, comments, single
 *    quotes, leading zeros, "+1", ".5", "1.", NaN/Infinity, a byte order
 *    mark, trailing garbage (a NUL byte included);
 *  - text that is not UTF-8 (overlong forms, surrogates, > U+10FFFF), raw
 *    control characters in strings, bad escapes, lone or reversed UTF-16
 *    surrogates in \u escapes (pairs are joined into one code point);
 *  - an object key that holds U+0000 (the document model's keys are C
 *    strings) or appears twice in the same object;
 *  - numbers whose magnitude overflows a double;
 *  - nesting deeper than SC__DOC_MAX_DEPTH, more than SC__DOC_MAX_VALUES
 *    values, or more than SC__DOC_MAX_BYTES of text.
 * Invalid UTF-8 is rejected rather than replaced: the library's writers
 * never produce it (they write U+FFFD for bad bytes), so it only appears
 * in files that something else corrupted.
 *
 * Numbers: an integer (no fraction, no exponent) that fits int64 becomes
 * SC__V_INT; every other number becomes SC__V_DOUBLE, parsed in the "C"
 * locale whatever the program's locale is.  "-0" is the integer 0.
 *
 * Recursion is bounded by SC__DOC_MAX_DEPTH. */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"

typedef struct jr {
  const unsigned char *p, *end;
  int depth;
  size_t nvalues;
  sc__buf scratch; /* strings with escapes are decoded here */
  /* Members of the containers being parsed, innermost last: a container
   * gets arrays of exactly its size once it is complete, instead of
   * growing them member by member. */
  sc__value **items;
  char **keys;
  size_t sp, cap;
} jr;

#define FAIL_IF(cond) SC_RETURN_IF(cond, SC_EFORMAT)

/* ---- the "C" locale for strtod ----------------------------------------- */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static double strtod_c(const char *s, char **end) {
  pthread_once(&c_locale_once, c_locale_init);
  if (c_locale) return strtod_l(s, end, c_locale);
  return strtod(s, end);
}

/* ---- lexical pieces ---------------------------------------------------- */

static inline void skip_ws(jr *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')) r->p++;
}

static int hexval(unsigned c) {
  if (c >= '0' && c <= '9') return (int)(c - '0');
  if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
  return -1;
}

static int hex4(jr *r, uint32_t *out) {
  FAIL_IF(r->end - r->p < 4);
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(r->p[i]);
    FAIL_IF(h < 0);
    v = (v << 4) | (uint32_t)h;
  }
  r->p += 4;
  *out = v;
  return 0;
}

static void put_utf8(sc__buf *b, uint32_t cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  sc__buf_put(b, u, n);
}

/* Decode the rest of a string containing escapes into r->scratch; r->p is
 * at the first backslash, the plain prefix [start, r->p) is copied first. */
static int string_slow(jr *r, const unsigned char *start) {
  sc__buf *b = &r->scratch;
  b->len = 0;
  sc__buf_put(b, start, (size_t)(r->p - start));
  for (;;) {
    const unsigned char *run = r->p;
    while (r->p < r->end && *r->p != '"' && *r->p != '\\' && *r->p >= 0x20) r->p++;
    size_t n = (size_t)(r->p - run);
    FAIL_IF(sc__utf8_valid_prefix(run, n) != n);
    sc__buf_put(b, run, n);
    FAIL_IF(r->p >= r->end || *r->p < 0x20);
    if (*r->p == '"') {
      r->p++;
      return b->failed ? SC_ENOMEM : 0;
    }
    r->p++; /* backslash */
    FAIL_IF(r->p >= r->end);
    unsigned e = *r->p++;
    char c;
    switch (e) {
      case '"': c = '"'; break;
      case '\\': c = '\\'; break;
      case '/': c = '/'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      case 'u': {
        uint32_t cp, lo;
        SC_FORWARD_IF_ERROR(hex4(r, &cp));
        FAIL_IF(cp >= 0xDC00 && cp <= 0xDFFF); /* lone low surrogate */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          FAIL_IF(r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u');
          r->p += 2;
          SC_FORWARD_IF_ERROR(hex4(r, &lo));
          FAIL_IF(lo < 0xDC00 || lo > 0xDFFF);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        put_utf8(b, cp);
        continue;
      }
      default:
        return SC_EFORMAT;
    }
    sc__buf_putc(b, c);
  }
}

/* Parse a string (r->p at the opening quote).  The decoded bytes are
 * either a span of the input (no escapes) or r->scratch. */
static int string_span(jr *r, const char **s, size_t *n) {
  r->p++;
  const unsigned char *start = r->p;
  for (;;) {
    while (r->p < r->end && *r->p >= 0x20 && *r->p < 0x80 && *r->p != '"' && *r->p != '\\') r->p++;
    FAIL_IF(r->p >= r->end);
    unsigned c = *r->p;
    if (c == '"') {
      *s = (const char *)start;
      *n = (size_t)(r->p - start);
      r->p++;
      return 0;
    }
    if (c == '\\') {
      SC_FORWARD_IF_ERROR(string_slow(r, start));
      *s = r->scratch.data;
      *n = r->scratch.len;
      return 0;
    }
    FAIL_IF(c < 0x20);
    /* non-ASCII: validate one sequence */
    size_t avail = (size_t)(r->end - r->p), k = avail < 4 ? avail : 4;
    size_t ok = sc__utf8_valid_prefix(r->p, k);
    FAIL_IF(ok == 0);
    /* ok covers at least the first sequence; step over exactly it */
    r->p += c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
  }
}

static int parse_number(jr *r, sc__value **out) {
  const unsigned char *s = r->p;
  int neg = 0, integral = 1;
  if (*r->p == '-') {
    neg = 1;
    r->p++;
  }
  FAIL_IF(r->p >= r->end);
  const unsigned char *digits = r->p;
  if (*r->p == '0') {
    r->p++;
  } else {
    FAIL_IF(*r->p < '1' || *r->p > '9');
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  }
  size_t ndigits = (size_t)(r->p - digits);
  if (r->p < r->end && *r->p == '.') {
    integral = 0;
    r->p++;
    FAIL_IF(r->p >= r->end || *r->p < '0' || *r->p > '9');
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
    integral = 0;
    r->p++;
    if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
    FAIL_IF(r->p >= r->end || *r->p < '0' || *r->p > '9');
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  }
  if (integral && ndigits <= 19) {
    uint64_t v = 0;
    for (size_t i = 0; i < ndigits; i++) v = v * 10 + (uint64_t)(digits[i] - '0');
    /* 19 digits cannot overflow uint64; check the int64 range */
    if (!neg && v <= (uint64_t)INT64_MAX) {
      *out = sc__v_int((int64_t)v);
      return *out ? 0 : SC_ENOMEM;
    }
    if (neg && v <= (uint64_t)INT64_MAX + 1) {
      *out = sc__v_int(v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v);
      return *out ? 0 : SC_ENOMEM;
    }
  }
  size_t len = (size_t)(r->p - s);
  char small[64], *text = small;
  if (len >= sizeof small) {
    text = sc__malloc(len + 1);
    if (!text) return SC_ENOMEM;
  }
  memcpy(text, s, len);
  text[len] = '\0';
  char *end;
  double d = strtod_c(text, &end);
  int whole = end == text + len;
  if (text != small) sc__free(text);
  FAIL_IF(!whole || !isfinite(d));
  *out = sc__v_double(d);
  return *out ? 0 : SC_ENOMEM;
}

static int lit(jr *r, const char *w, size_t n) {
  FAIL_IF((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0);
  r->p += n;
  return 0;
}

static int parse_value(jr *r, sc__value **out);

/* Push a member (key NULL for arrays); both are freed on failure. */
static int push(jr *r, char *key, sc__value *item) {
  if (r->sp == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 256;
    sc__value **ni = sc__realloc(r->items, cap * sizeof *ni);
    if (ni) r->items = ni;
    char **nk = ni ? sc__realloc(r->keys, cap * sizeof *nk) : NULL;
    if (nk) r->keys = nk;
    if (!ni || !nk) {
      sc__free(key);
      sc__v_free(item);
      return SC_ENOMEM;
    }
    r->cap = cap;
  }
  r->keys[r->sp] = key;
  r->items[r->sp++] = item;
  return 0;
}

/* Drop the members pushed since `base`. */
static void unwind(jr *r, size_t base) {
  while (r->sp > base) {
    r->sp--;
    sc__free(r->keys[r->sp]);
    sc__v_free(r->items[r->sp]);
  }
}

/* Move the members pushed since `base` into container `c`. */
static int collect(jr *r, size_t base, sc__value *c) {
  size_t n = r->sp - base;
  if (n == 0) return 0;
  sc__value **items = sc__malloc(n * sizeof *items);
  char **keys = c->type == SC__V_OBJECT ? sc__malloc(n * sizeof *keys) : NULL;
  if (!items || (c->type == SC__V_OBJECT && !keys)) {
    sc__free(items);
    sc__free(keys);
    return SC_ENOMEM;
  }
  memcpy(items, r->items + base, n * sizeof *items);
  if (keys) memcpy(keys, r->keys + base, n * sizeof *keys);
  c->u.c.items = items;
  c->u.c.keys = keys;
  c->u.c.len = c->u.c.cap = n;
  r->sp = base;
  return 0;
}

static int parse_array(jr *r, sc__value **out) {
  size_t base = r->sp;
  int rc = 0;
  r->p++;
  skip_ws(r);
  if (r->p < r->end && *r->p == ']') {
    r->p++;
  } else {
    for (;;) {
      sc__value *item = NULL;
      if ((rc = parse_value(r, &item)) < 0) break;
      if ((rc = push(r, NULL, item)) < 0) break;
      skip_ws(r);
      if (r->p < r->end && *r->p == ',') {
        r->p++;
        continue;
      }
      if (r->p < r->end && *r->p == ']') {
        r->p++;
        break;
      }
      rc = SC_EFORMAT;
      break;
    }
  }
  sc__value *arr = rc == 0 ? sc__v_array() : NULL;
  if (rc == 0 && (!arr || collect(r, base, arr) < 0)) rc = SC_ENOMEM;
  if (rc < 0) {
    unwind(r, base);
    sc__v_free(arr);
    return rc;
  }
  *out = arr;
  return 0;
}

static int parse_object(jr *r, sc__value **out) {
  size_t base = r->sp;
  sc__keyset ks;
  sc__keyset_init(&ks);
  int rc = 0;
  r->p++;
  skip_ws(r);
  if (r->p < r->end && *r->p == '}') {
    r->p++;
  } else {
    for (;;) {
      skip_ws(r);
      if (r->p >= r->end || *r->p != '"') {
        rc = SC_EFORMAT;
        break;
      }
      const char *ktext;
      size_t klen;
      if ((rc = string_span(r, &ktext, &klen)) < 0) break;
      if (memchr(ktext, '\0', klen) || ++r->nvalues > SC__DOC_MAX_VALUES ||
          sc__keyset_find(&ks, (const char *const *)r->keys + base, ktext, klen) >= 0) {
        rc = SC_EFORMAT; /* NUL in a key, too many values, duplicate key */
        break;
      }
      char *key = sc__strndup(ktext, klen);
      if (!key) {
        rc = SC_ENOMEM;
        break;
      }
      skip_ws(r);
      if (r->p >= r->end || *r->p != ':') {
        sc__free(key);
        rc = SC_EFORMAT;
        break;
      }
      r->p++;
      sc__value *item = NULL;
      if ((rc = parse_value(r, &item)) < 0) {
        sc__free(key);
        break;
      }
      if ((rc = push(r, key, item)) < 0 ||
          (rc = sc__keyset_insert(&ks, (const char *const *)r->keys + base, klen)) < 0)
        break;
      skip_ws(r);
      if (r->p < r->end && *r->p == ',') {
        r->p++;
        continue;
      }
      if (r->p < r->end && *r->p == '}') {
        r->p++;
        break;
      }
      rc = SC_EFORMAT;
      break;
    }
  }
  sc__keyset_free(&ks);
  sc__value *obj = rc == 0 ? sc__v_object() : NULL;
  if (rc == 0 && (!obj || collect(r, base, obj) < 0)) rc = SC_ENOMEM;
  if (rc < 0) {
    unwind(r, base);
    sc__v_free(obj);
    return rc;
  }
  *out = obj;
  return 0;
}

static int parse_value(jr *r, sc__value **out) {
  skip_ws(r);
  FAIL_IF(r->p >= r->end);
  FAIL_IF(++r->nvalues > SC__DOC_MAX_VALUES);
  unsigned c = *r->p;
  int rc;
  switch (c) {
    case '{':
    case '[':
      FAIL_IF(r->depth >= SC__DOC_MAX_DEPTH);
      r->depth++;
      rc = c == '{' ? parse_object(r, out) : parse_array(r, out);
      r->depth--;
      return rc;
    case '"': {
      const char *s;
      size_t n;
      SC_FORWARD_IF_ERROR(string_span(r, &s, &n));
      *out = sc__v_strn(s, n);
      return *out ? 0 : SC_ENOMEM;
    }
    case 't':
      SC_FORWARD_IF_ERROR(lit(r, "true", 4));
      *out = sc__v_bool(true);
      break;
    case 'f':
      SC_FORWARD_IF_ERROR(lit(r, "false", 5));
      *out = sc__v_bool(false);
      break;
    case 'n':
      SC_FORWARD_IF_ERROR(lit(r, "null", 4));
      *out = sc__v_null();
      break;
    default:
      FAIL_IF(c != '-' && (c < '0' || c > '9'));
      return parse_number(r, out);
  }
  return *out ? 0 : SC_ENOMEM;
}

int sc__json_read(const char *data, size_t len, sc__value **out) {
  if (!out || (!data && len)) return SC_EINVAL;
  FAIL_IF(len > SC__DOC_MAX_BYTES);
  jr r;
  memset(&r, 0, sizeof r);
  r.p = (const unsigned char *)data;
  r.end = r.p + len;
  sc__buf_init(&r.scratch);
  r.cap = 256;
  r.items = sc__malloc(r.cap * sizeof *r.items);
  r.keys = sc__malloc(r.cap * sizeof *r.keys);
  sc__value *v = NULL;
  int rc = r.items && r.keys ? parse_value(&r, &v) : SC_ENOMEM;
  if (rc == 0) {
    skip_ws(&r);
    if (r.p != r.end) {
      sc__v_free(v);
      rc = SC_EFORMAT;
    }
  }
  sc__buf_free(&r.scratch);
  unwind(&r, 0);
  sc__free(r.items);
  sc__free(r.keys);
  if (rc == 0) *out = v;
  return rc;
}
