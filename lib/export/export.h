/* export.h - the export layer's internal entry points. */
#ifndef SC_EXPORT_H
#define SC_EXPORT_H
#include "../common/value.h"

/* Build the profile document of a session (drains it first). */
int sc__profile_build(sc_session_t *s, sc__value **out);
/* Serialise a document in a format. */
int sc__render(const sc__value *doc, sc_format_t format, sc__buf *out);
#endif
