/* export.h - the export layer's internal entry points.
 *
 * One document model (common/value.h) and one serialiser per format:
 *   JSON            common/value.c (writer), export/json_read.c (reader)
 *   MessagePack+zstd export/msgpack.c (both directions)
 *   HTML            export/html.c (writer only; template built in)
 */
#ifndef SC_EXPORT_H
#define SC_EXPORT_H
#include "../common/value.h"

struct sc_profile {
  sc__value *doc;
};

/* Build the profile document of a session (drains it first). */
int sc__profile_build(sc_session_t *s, sc__value **out);
/* Serialise a document in a format. */
int sc__render(const sc__value *doc, sc_format_t format, sc__buf *out);

/* JSON reader: strict RFC 8259, depth and size limits; integers that fit
 * int64 stay integers, other numbers become doubles.  SC_EFORMAT on any
 * malformed input. */
int sc__json_read(const char *data, size_t len, sc__value **out);

/* MessagePack document in one zstd frame. */
int sc__msgpack_zstd_write(const sc__value *doc, sc__buf *out);
int sc__msgpack_zstd_read(const void *data, size_t len, sc__value **out);

/* Self-contained HTML report. */
int sc__html_write(const sc__value *doc, sc__buf *out);

/* A profile handle owning `doc` (freed on failure). */
int sc__profile_wrap(sc__value *doc, sc_profile_t **out);

/* Deep copy of a document. */
sc__value *sc__v_clone(const sc__value *v);
#endif
