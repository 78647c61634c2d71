/* profile_api.c - profile handles: snapshot, load (format detected from
 * content), export, free. */
#include <string.h>
#include <strings.h>

#include "../sampling/session.h"
#include "export.h"

SC_API sc_format_t sc_format_from_path(const char *path) {
  if (!path) return SC_FORMAT_JSON;
  size_t n = strlen(path);
  static const struct {
    const char *ext;
    sc_format_t f;
  } map[] = {{".msgpack.zst", SC_FORMAT_MSGPACK_ZSTD}, {".html", SC_FORMAT_HTML}, {".htm", SC_FORMAT_HTML}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    size_t k = strlen(map[i].ext);
    if (n >= k && strcasecmp(path + n - k, map[i].ext) == 0) return map[i].f;
  }
  return SC_FORMAT_JSON;
}

int sc__profile_wrap(sc__value *doc, sc_profile_t **out) {
  sc_profile_t *p = sc__calloc(1, sizeof *p);
  if (!p) {
    sc__v_free(doc);
    return SC_ENOMEM;
  }
  p->doc = doc;
  *out = p;
  return 0;
}

SC_API int sc_session_snapshot(sc_session_t *s, sc_profile_t **out) {
  if (!s || !out) return SC_EINVAL;
  if (sc__forked_child(s)) return SC_EFORKED;
  sc__value *doc;
  SC_FORWARD_IF_ERROR(sc__profile_build(s, &doc));
  return sc__profile_wrap(doc, out);
}

SC_API int sc_profile_load_buffer(const void *data, size_t len, sc_profile_t **out) {
  if (!out || (!data && len)) return SC_EINVAL;
  const unsigned char *b = data;
  sc__value *doc = NULL;
  int rc;
  if (len >= 4 && b[0] == 0x28 && b[1] == 0xB5 && b[2] == 0x2F && b[3] == 0xFD) {
    rc = sc__msgpack_zstd_read(data, len, &doc);
  } else {
    size_t i = 0;
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) i++;
    if (i == len || b[i] != '{') return SC_EFORMAT;
    rc = sc__json_read(data, len, &doc);
  }
  if (rc < 0) return rc;
  if (!doc || doc->type != SC__V_OBJECT || !sc__v_get(doc, "files")) {
    sc__v_free(doc);
    return SC_EFORMAT; /* valid JSON, but not a profile */
  }
  return sc__profile_wrap(doc, out);
}

SC_API int sc_profile_load(const char *path, sc_profile_t **out) {
  if (!path || !out) return SC_EINVAL;
  char *data;
  size_t len;
  SC_FORWARD_IF_ERROR(sc__read_file(path, &data, &len));
  int rc = sc_profile_load_buffer(data, len, out);
  sc__free(data);
  return rc;
}

SC_API int sc_profile_export_buffer(const sc_profile_t *p, sc_format_t format, char **buf,
                                    size_t *len) {
  if (!p || !buf) return SC_EINVAL;
  sc__buf b;
  sc__buf_init(&b);
  int rc = sc__render(p->doc, format, &b);
  if (rc < 0) {
    sc__buf_free(&b);
    return rc;
  }
  *buf = sc__buf_take(&b, len);
  return *buf ? 0 : SC_ENOMEM;
}

SC_API int sc_profile_export(const sc_profile_t *p, sc_format_t format, const char *path) {
  if (!p || !path) return SC_EINVAL;
  sc__buf b;
  sc__buf_init(&b);
  int rc = sc__render(p->doc, format, &b);
  if (rc == 0) rc = sc__write_file_atomic(path, b.data, b.len);
  sc__buf_free(&b);
  return rc;
}

SC_API void sc_profile_free(sc_profile_t *p) {
  if (!p) return;
  sc__v_free(p->doc);
  sc__free(p);
}

sc__value *sc__v_clone(const sc__value *v) {
  if (!v) return NULL;
  switch (v->type) {
    case SC__V_NULL: return sc__v_null();
    case SC__V_BOOL: return sc__v_bool(v->u.b);
    case SC__V_INT: return sc__v_int(v->u.i);
    case SC__V_DOUBLE: return sc__v_double(v->u.d);
    case SC__V_STRING: return sc__v_strn(v->u.str.s, v->u.str.len);
    case SC__V_ARRAY:
    case SC__V_OBJECT: {
      sc__value *c = v->type == SC__V_ARRAY ? sc__v_array() : sc__v_object();
      for (size_t i = 0; c && i < v->u.c.len; i++) {
        sc__value *item = sc__v_clone(v->u.c.items[i]);
        int rc = v->type == SC__V_ARRAY ? sc__v_push(c, item) : sc__v_set(c, v->u.c.keys[i], item);
        if (rc < 0) {
          sc__v_free(c);
          return NULL;
        }
      }
      return c;
    }
  }
  return NULL;
}
