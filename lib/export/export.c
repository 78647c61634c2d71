/* export.c - sc_export and friends: pick the serialiser, write
 * atomically. */
#include <unistd.h>

#include "../sampling/session.h"
#include "export.h"

int sc__render(const sc__value *doc, sc_format_t format, sc__buf *out) {
  switch (format) {
    case SC_FORMAT_JSON:
      return sc__json_write(doc, out, 2);
    case SC_FORMAT_MSGPACK_ZSTD:
      return sc__msgpack_zstd_write(doc, out);
    case SC_FORMAT_HTML:
      return sc__html_write(doc, out);
    default:
      return SC_ENOTSUP;
  }
}

static int render_session(sc_session_t *s, sc_format_t format, sc__buf *out) {
  if (!s) return SC_EINVAL;
  if (getpid() != s->pid) return SC_EFORKED;
  if (format != SC_FORMAT_JSON && format != SC_FORMAT_MSGPACK_ZSTD && format != SC_FORMAT_HTML)
    return SC_ENOTSUP; /* before draining and building anything */
  sc__value *doc;
  SC_FORWARD_IF_ERROR(sc__profile_build(s, &doc));
  int rc = sc__render(doc, format, out);
  sc__v_free(doc);
  return rc;
}

SC_API int sc_export(sc_session_t *s, sc_format_t format, const char *path) {
  if (!path) return SC_EINVAL;
  sc__buf b;
  sc__buf_init(&b);
  int rc = render_session(s, format, &b);
  if (rc == 0) rc = sc__write_file_atomic(path, b.data, b.len);
  sc__buf_free(&b);
  return rc;
}

SC_API int sc_export_buffer(sc_session_t *s, sc_format_t format, char **buf, size_t *len) {
  if (!buf) return SC_EINVAL;
  sc__buf b;
  sc__buf_init(&b);
  int rc = render_session(s, format, &b);
  if (rc < 0) {
    sc__buf_free(&b);
    return rc;
  }
  *buf = sc__buf_take(&b, len);
  return *buf ? 0 : SC_ENOMEM;
}

SC_API void sc_buffer_free(char *buf) { sc__free(buf); }
