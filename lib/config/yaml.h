/* yaml.h - the configuration loader's internal entry point. */
#ifndef SC_YAML_H
#define SC_YAML_H
#include "../common/internal.h"

/* Largest configuration file sc_config_load reads. */
#define SC__CONFIG_MAX_BYTES ((size_t)1 << 20)

/* sc_config_load on YAML text already in memory (`len` bytes, need not be
 * NUL-terminated).  Same contract, except that it never returns SC_ENOENT
 * or SC_EIO. */
int sc__config_load_buffer(sc_options_t *opts, const char *data, size_t len,
                           sc_config_error_t *err);
#endif
