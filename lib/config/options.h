/* options.h - internal access to option sets. */
#ifndef SC_OPTIONS_H
#define SC_OPTIONS_H
#include "../common/internal.h"

int sc__options_copy(const sc_options_t *src, sc_options_t **out);
bool sc__opt_bool(const sc_options_t *o, sc_option_t id);
int64_t sc__opt_int(const sc_options_t *o, sc_option_t id);
double sc__opt_double(const sc_options_t *o, sc_option_t id);
const char *sc__opt_string(const sc_options_t *o, sc_option_t id);
#endif
