/* fuzz_json.c - libFuzzer target for the JSON profile reader
 * (lib/export/json_read.c) and sc_profile_load_buffer's JSON path.
 * Beyond "no crash, no leak, no UB": a rejected input fails with
 * SC_EFORMAT only, and an accepted one survives the round trips of
 * fuzz_round_trips(). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sc__value *v = NULL;
  int rc = sc__json_read((const char *)data, size, &v);
  fuzz_check_read(rc, v);
  fuzz_check_load(data, size);
  return 0;
}
