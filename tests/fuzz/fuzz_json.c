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
  if (rc == 0) {
    size_t len = 0;
    char *text = fuzz_json(v, &len);
    if (text) {
      fuzz_round_trips(v, text, len);
      sc__free(text);
    }
    sc__v_free(v);
  } else {
    FUZZ_CHECK(rc == SC_EFORMAT || rc == SC_ENOMEM);
  }
  sc_profile_t *p = NULL;
  rc = sc_profile_load_buffer(data, size, &p);
  FUZZ_CHECK(rc == 0 || rc == SC_EFORMAT || rc == SC_ENOMEM);
  if (rc == 0) {
    /* a loaded profile merges with itself */
    const sc_profile_t *two[2] = {p, p};
    sc_profile_t *m = NULL;
    rc = sc_profile_merge(two, 2, &m);
    FUZZ_CHECK(rc == 0 || rc == SC_EFORMAT || rc == SC_ENOMEM);
    sc_profile_free(m);
  }
  sc_profile_free(p);
  return 0;
}
