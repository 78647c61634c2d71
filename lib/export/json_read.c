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
 * Recursion is bounded by SC__DOC_MAX_DEPTH.
 *
 * The result is an arena document (value.h): nodes, strings and member
 * arrays in one arena, object keys shared through per-depth shapes
 * (doc.h), and nothing to unwind on failure but the arena. */
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
  sc__vdoc *doc;   /* every node, string and member array goes here */
  sc__buf scratch; /* strings with escapes are decoded here */
  /* Members of the containers being parsed, innermost last: a container
   * gets arrays of exactly its size once it is complete, instead of
   * growing them member by member. */
  sc__value **items;
  char **keys;
  size_t sp, cap;
  sc__shape shapes[SC__DOC_MAX_DEPTH + 1]; /* per depth (doc.h) */
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

static inline sc__value *node(jr *r, sc__vtype t) { return sc__vdoc_node(r->doc, t); }

static int mk_int(jr *r, int64_t i, sc__value **out) {
  *out = sc__vdoc_int(r->doc, i);
  return *out ? 0 : SC_ENOMEM;
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
    if (!neg && v <= (uint64_t)INT64_MAX) return mk_int(r, (int64_t)v, out);
    if (neg && v <= (uint64_t)INT64_MAX + 1)
      return mk_int(r, v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v, out);
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
  sc__value *v = node(r, SC__V_DOUBLE);
  if (!v) return SC_ENOMEM;
  v->u.d = d;
  *out = v;
  return 0;
}

static int lit(jr *r, const char *w, size_t n) {
  FAIL_IF((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0);
  r->p += n;
  return 0;
}

static int parse_value(jr *r, sc__value **out);

/* Push a member (key NULL for arrays). */
static int push(jr *r, char *key, sc__value *item) {
  if (SC_UNLIKELY(r->sp == r->cap)) {
    size_t cap = r->cap * 2;
    sc__value **ni = sc__realloc(r->items, cap * sizeof *ni);
    if (!ni) return SC_ENOMEM;
    r->items = ni;
    char **nk = sc__realloc(r->keys, cap * sizeof *nk);
    if (!nk) return SC_ENOMEM;
    r->keys = nk;
    r->cap = cap;
  }
  r->keys[r->sp] = key;
  r->items[r->sp++] = item;
  return 0;
}

/* A container node of type t holding the members pushed since `base`
 * (popped), with `keys` as its keys array (objects). */
static int collect(jr *r, size_t base, sc__vtype t, char **keys, sc__value **out) {
  size_t n = r->sp - base;
  if (n == 0) {
    *out = sc__vdoc_empty(r->doc, t);
    return *out ? 0 : SC_ENOMEM;
  }
  sc__value *c = node(r, t);
  sc__value **items = sc__arena_alloc(&r->doc->arena, n * sizeof *items);
  if (!c || !items) return SC_ENOMEM;
  memcpy(items, r->items + base, n * sizeof *items);
  c->u.c.items = items;
  c->u.c.keys = keys;
  c->u.c.len = c->u.c.cap = (uint32_t)n;
  r->sp = base;
  *out = c;
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
  if (rc == 0) rc = collect(r, base, SC__V_ARRAY, NULL, out);
  r->sp = base; /* what a failure left in the arena goes with the document */
  return rc;
}

static int parse_object(jr *r, sc__value **out) {
  size_t base = r->sp;
  sc__shape *shape = &r->shapes[r->depth];
  sc__objkeys ok;
  sc__objkeys_begin(&ok, shape);
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
      if (++r->nvalues > SC__DOC_MAX_VALUES) {
        rc = SC_EFORMAT;
        break;
      }
      char *key = sc__objkeys_match(&ok, ktext, klen);
      if (!key) {
        if (memchr(ktext, '\0', klen)) {
          rc = SC_EFORMAT; /* NUL in a key */
          break;
        }
        /* SC_EFORMAT: a duplicate key */
        if ((rc = sc__objkeys_other(&ok, &r->doc->arena, r->keys + base, ktext, klen, &key)) < 0)
          break;
      }
      skip_ws(r);
      if (r->p >= r->end || *r->p != ':') {
        rc = SC_EFORMAT;
        break;
      }
      r->p++;
      sc__value *item = NULL;
      if ((rc = parse_value(r, &item)) < 0) break;
      if ((rc = push(r, key, item)) < 0 || (rc = sc__objkeys_commit(&ok, r->keys + base, klen)) < 0)
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
  char **keys = NULL;
  if (rc == 0) rc = sc__objkeys_end(&ok, &r->doc->arena, r->keys + base, shape, &keys);
  sc__objkeys_free(&ok);
  if (rc == 0) rc = collect(r, base, SC__V_OBJECT, keys, out);
  r->sp = base;
  return rc;
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
      if (n == 0) {
        *out = sc__vdoc_empty(r->doc, SC__V_STRING);
        return *out ? 0 : SC_ENOMEM;
      }
      sc__value *v = node(r, SC__V_STRING);
      char *copy = v ? sc__arena_strndup(&r->doc->arena, s, n) : NULL;
      if (!copy) return SC_ENOMEM;
      v->u.str.s = copy;
      v->u.str.len = n;
      *out = v;
      return 0;
    }
    case 't':
    case 'f': {
      int t = c == 't';
      SC_FORWARD_IF_ERROR(t ? lit(r, "true", 4) : lit(r, "false", 5));
      *out = sc__vdoc_bool(r->doc, t);
      return *out ? 0 : SC_ENOMEM;
    }
    case 'n':
      SC_FORWARD_IF_ERROR(lit(r, "null", 4));
      *out = sc__vdoc_null(r->doc);
      return *out ? 0 : SC_ENOMEM;
    default:
      FAIL_IF(c != '-' && (c < '0' || c > '9'));
      return parse_number(r, out);
  }
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
  r.doc = sc__vdoc_create();
  sc__value *v = NULL;
  int rc = r.items && r.keys && r.doc ? parse_value(&r, &v) : SC_ENOMEM;
  if (rc == 0) {
    skip_ws(&r);
    if (r.p != r.end) rc = SC_EFORMAT;
  }
  sc__buf_free(&r.scratch);
  sc__free(r.items);
  sc__free(r.keys);
  if (rc < 0) {
    sc__vdoc_abandon(r.doc);
    return rc;
  }
  *out = sc__vdoc_finish(r.doc, v);
  return 0;
}
