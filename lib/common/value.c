/* value.c - the document model and its JSON serialisation. */
#include "value.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sc__value *mk(sc__vtype t) {
  sc__value *v = sc__calloc(1, sizeof *v);
  if (v) v->type = t;
  return v;
}

sc__value *sc__v_null(void) { return mk(SC__V_NULL); }

sc__value *sc__v_bool(bool b) {
  sc__value *v = mk(SC__V_BOOL);
  if (v) v->u.b = b;
  return v;
}

sc__value *sc__v_int(int64_t i) {
  sc__value *v = mk(SC__V_INT);
  if (v) v->u.i = i;
  return v;
}

sc__value *sc__v_double(double d) {
  sc__value *v = mk(SC__V_DOUBLE);
  if (v) v->u.d = d;
  return v;
}

sc__value *sc__v_strn(const char *s, size_t n) {
  sc__value *v = mk(SC__V_STRING);
  if (!v) return NULL;
  v->u.str.s = sc__strndup(s ? s : "", s ? n : 0);
  if (!v->u.str.s) {
    sc__free(v);
    return NULL;
  }
  v->u.str.len = s ? n : 0;
  return v;
}

sc__value *sc__v_str(const char *s) { return sc__v_strn(s, s ? strlen(s) : 0); }
sc__value *sc__v_array(void) { return mk(SC__V_ARRAY); }
sc__value *sc__v_object(void) { return mk(SC__V_OBJECT); }

sc__vdoc *sc__vdoc_create(void) {
  sc__vdoc *d = sc__calloc(1, sizeof *d);
  if (d) sc__arena_init(&d->arena);
  return d;
}

sc__value *sc__vdoc_shared_slow(sc__vdoc *d, sc__value **slot, sc__vtype t) {
  sc__value *v = sc__vdoc_node(d, t);
  if (!v) return NULL;
  /* the payload of "", [] and {} (the caller sets a number's or bool's) */
  memset(&v->u, 0, sizeof v->u);
  if (t == SC__V_STRING) {
    if (!(v->u.str.s = sc__arena_strndup(&d->arena, "", 0))) return NULL;
  }
  *slot = v;
  return v;
}

sc__value *sc__vdoc_finish(sc__vdoc *d, const sc__value *root) {
  d->root = *root;
  d->root.flags = SC__VF_ARENA | SC__VF_ROOT;
  return &d->root;
}

void sc__vdoc_abandon(sc__vdoc *d) {
  if (!d) return;
  sc__arena_free(&d->arena);
  sc__free(d);
}

void sc__v_free(sc__value *v) {
  if (!v) return;
  if (v->flags & SC__VF_ARENA) {
    /* the root gives back the whole document; its other nodes go with it */
    if (v->flags & SC__VF_ROOT)
      sc__vdoc_abandon((sc__vdoc *)(void *)((char *)v - offsetof(sc__vdoc, root)));
    return;
  }
  if (v->type == SC__V_STRING) sc__free(v->u.str.s);
  if (v->type == SC__V_ARRAY || v->type == SC__V_OBJECT) {
    for (size_t i = 0; i < v->u.c.len; i++) {
      sc__v_free(v->u.c.items[i]);
      if (v->u.c.keys) sc__free(v->u.c.keys[i]);
    }
    sc__free(v->u.c.items);
    sc__free(v->u.c.keys);
  }
  sc__free(v);
}

int sc__v_reserve(sc__value *c, size_t n) {
  if (c->flags & SC__VF_ARENA) return SC_EINVAL;
  if ((size_t)(c->u.c.cap - c->u.c.len) >= n) return 0;
  if (n > UINT32_MAX - (size_t)c->u.c.len) return SC_ENOMEM;
  size_t cap = c->u.c.len + n;
  sc__value **items = sc__realloc(c->u.c.items, cap * sizeof *items);
  if (!items) return SC_ENOMEM;
  c->u.c.items = items;
  if (c->type == SC__V_OBJECT) {
    char **keys = sc__realloc(c->u.c.keys, cap * sizeof *keys);
    if (!keys) return SC_ENOMEM;
    c->u.c.keys = keys;
  }
  c->u.c.cap = (uint32_t)cap;
  return 0;
}

/* Room for one more member, doubling. */
static int grow(sc__value *c) {
  if (c->u.c.len < c->u.c.cap) return 0;
  size_t more = c->u.c.cap ? c->u.c.cap : 8;
  if (more > UINT32_MAX - (size_t)c->u.c.cap) more = UINT32_MAX - (size_t)c->u.c.cap;
  return sc__v_reserve(c, more ? more : 1);
}

int sc__v_push(sc__value *arr, sc__value *item) {
  if (!item) return SC_ENOMEM;
  if (!arr || arr->type != SC__V_ARRAY || (arr->flags & SC__VF_ARENA)) {
    sc__v_free(item);
    return SC_EINVAL;
  }
  if (grow(arr) < 0) {
    sc__v_free(item);
    return SC_ENOMEM;
  }
  arr->u.c.items[arr->u.c.len++] = item;
  return 0;
}

int sc__v_set(sc__value *obj, const char *key, sc__value *item) {
  if (!item) return SC_ENOMEM;
  if (!obj || obj->type != SC__V_OBJECT || !key || (obj->flags & SC__VF_ARENA)) {
    sc__v_free(item);
    return SC_EINVAL;
  }
  for (size_t i = 0; i < obj->u.c.len; i++) {
    if (strcmp(obj->u.c.keys[i], key) == 0) {
      sc__v_free(obj->u.c.items[i]);
      obj->u.c.items[i] = item;
      return 0;
    }
  }
  char *k = sc__strdup(key);
  if (!k || grow(obj) < 0) {
    sc__free(k);
    sc__v_free(item);
    return SC_ENOMEM;
  }
  obj->u.c.keys[obj->u.c.len] = k;
  obj->u.c.items[obj->u.c.len++] = item;
  return 0;
}

int sc__v_set_int(sc__value *o, const char *k, int64_t i) { return sc__v_set(o, k, sc__v_int(i)); }
int sc__v_set_double(sc__value *o, const char *k, double d) { return sc__v_set(o, k, sc__v_double(d)); }
int sc__v_set_str(sc__value *o, const char *k, const char *s) { return sc__v_set(o, k, sc__v_str(s)); }
int sc__v_set_bool(sc__value *o, const char *k, bool b) { return sc__v_set(o, k, sc__v_bool(b)); }

sc__value *sc__v_get(const sc__value *obj, const char *key) {
  if (!obj || obj->type != SC__V_OBJECT) return NULL;
  for (size_t i = 0; i < obj->u.c.len; i++)
    if (strcmp(obj->u.c.keys[i], key) == 0) return obj->u.c.items[i];
  return NULL;
}

size_t sc__v_len(const sc__value *v) {
  if (!v) return 0;
  if (v->type == SC__V_ARRAY || v->type == SC__V_OBJECT) return v->u.c.len;
  if (v->type == SC__V_STRING) return v->u.str.len;
  return 0;
}

/* Length of a valid UTF-8 sequence starting at s (max n bytes), 0 if the
 * bytes there are not valid UTF-8. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t need;
  unsigned min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { need = 2; min = 0x80; c &= 0x1F; }
  else if ((c & 0xF0) == 0xE0) { need = 3; min = 0x800; c &= 0x0F; }
  else if ((c & 0xF8) == 0xF0) { need = 4; min = 0x10000; c &= 0x07; }
  else return 0;
  if (n < need) return 0;
  for (size_t i = 1; i < need; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  return need;
}

static void json_string(sc__buf *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  sc__buf_putc(b, '"');
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      sc__buf_putc(b, '\\');
      sc__buf_putc(b, (char)c);
      i++;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': sc__buf_puts(b, "\\n"); break;
        case '\t': sc__buf_puts(b, "\\t"); break;
        case '\r': sc__buf_puts(b, "\\r"); break;
        case '\b': sc__buf_puts(b, "\\b"); break;
        case '\f': sc__buf_puts(b, "\\f"); break;
        default: sc__buf_printf(b, "\\u%04x", c);
      }
      i++;
    } else if (c < 0x80) {
      sc__buf_putc(b, (char)c);
      i++;
    } else {
      size_t k = utf8_len(p + i, n - i);
      if (k == 0) {
        sc__buf_puts(b, "\\ufffd");
        i++;
      } else {
        sc__buf_put(b, p + i, k);
        i += k;
      }
    }
  }
  sc__buf_putc(b, '"');
}

static void newline(sc__buf *b, int indent, int depth) {
  if (indent < 0) return;
  sc__buf_putc(b, '\n');
  for (int i = 0; i < indent * depth; i++) sc__buf_putc(b, ' ');
}

static void json_value(const sc__value *v, sc__buf *b, int indent, int depth) {
  switch (v->type) {
    case SC__V_NULL: sc__buf_puts(b, "null"); break;
    case SC__V_BOOL: sc__buf_puts(b, v->u.b ? "true" : "false"); break;
    case SC__V_INT: sc__buf_printf(b, "%lld", (long long)v->u.i); break;
    case SC__V_DOUBLE:
      if (!isfinite(v->u.d)) sc__buf_puts(b, "null");
      else if (v->u.d == 0) sc__buf_puts(b, "0");
      else {
        /* Shortest of %.15g / %.17g that reads back exactly. */
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.15g", v->u.d);
        if (strtod(tmp, NULL) != v->u.d) snprintf(tmp, sizeof tmp, "%.17g", v->u.d);
        sc__buf_puts(b, tmp);
      }
      break;
    case SC__V_STRING: json_string(b, v->u.str.s, v->u.str.len); break;
    case SC__V_ARRAY:
    case SC__V_OBJECT: {
      int obj = v->type == SC__V_OBJECT;
      sc__buf_putc(b, obj ? '{' : '[');
      for (size_t i = 0; i < v->u.c.len; i++) {
        if (i) sc__buf_putc(b, ',');
        newline(b, indent, depth + 1);
        if (obj) {
          json_string(b, v->u.c.keys[i], strlen(v->u.c.keys[i]));
          sc__buf_puts(b, indent < 0 ? ":" : ": ");
        }
        json_value(v->u.c.items[i], b, indent, depth + 1);
      }
      if (v->u.c.len) newline(b, indent, depth);
      sc__buf_putc(b, obj ? '}' : ']');
      break;
    }
  }
}

int sc__json_write(const sc__value *v, sc__buf *out, int indent) {
  if (!v || !out) return SC_EINVAL;
  /* Numbers are written with '.', whatever locale the program set. */
  locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  locale_t old = c ? uselocale(c) : (locale_t)0;
  json_value(v, out, indent, 0);
  if (c) {
    uselocale(old);
    freelocale(c);
  }
  sc__buf_putc(out, '\n');
  return out->failed ? SC_ENOMEM : 0;
}
