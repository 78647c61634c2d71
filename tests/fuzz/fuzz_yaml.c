/* fuzz_yaml.c - libFuzzer target for configuration files
 * (lib/config/yaml.c), through its in-memory entry point.
 *
 * Checked beyond "no crash, no leak, no UB": the result is 0, SC_EFORMAT,
 * SC_ERANGE or SC_ENOMEM; on failure no option was changed and the error
 * is one non-empty line with a 1-based position or none; on success the
 * error is empty. */
#include <string.h>

#include "config/yaml.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc_options_t *o = NULL;
  if (sc_options_create(&o) < 0) return 0;
  sc_config_error_t e;
  memset(&e, 0x7f, sizeof e); /* every byte must be rewritten */
  e.size = sizeof e;
  int rc = sc__config_load_buffer(o, (const char *)data, size, &e);
  FUZZ_CHECK(rc == 0 || rc == SC_EFORMAT || rc == SC_ERANGE || rc == SC_ENOMEM);
  FUZZ_CHECK(e.size == sizeof e);
  FUZZ_CHECK(memchr(e.message, '\0', sizeof e.message) && memchr(e.key, '\0', sizeof e.key));
  FUZZ_CHECK(!strchr(e.message, '\n') && !strchr(e.key, '\n'));
  FUZZ_CHECK(e.line >= 0 && e.column >= 0 && (e.line == 0) == (e.column == 0));
  if (rc < 0) {
    FUZZ_CHECK(e.message[0] != '\0');
    for (int id = 1; id < SC__OPT_END; id++) {
      bool set = true;
      FUZZ_CHECK(sc_options_is_set(o, (sc_option_t)id, &set) == 0);
      FUZZ_CHECK(!set);
    }
  } else {
    FUZZ_CHECK(e.message[0] == '\0' && e.key[0] == '\0' && e.line == 0);
  }
  sc_options_destroy(o);
  return 0;
}
