/* error.c - the error table: messages and names generated from
 * SC_ERRNO_MAP, so the enum, the names and the messages cannot disagree. */
#include "internal.h"

SC_API const char *sc_strerror(int err) {
  switch (err) {
    case SC_OK:
      return "success";
#define SC__ERR_MSG(name, val, msg) \
  case SC_E##name:                  \
    return msg;
      SC_ERRNO_MAP(SC__ERR_MSG)
#undef SC__ERR_MSG
    default:
      return "unknown error";
  }
}

SC_API const char *sc_err_name(int err) {
  switch (err) {
    case SC_OK:
      return "SC_OK";
#define SC__ERR_NAME(name, val, msg) \
  case SC_E##name:                   \
    return "SC_E" #name;
      SC_ERRNO_MAP(SC__ERR_NAME)
#undef SC__ERR_NAME
    default:
      return "SC_UNKNOWN";
  }
}

SC_API unsigned sc_version_number(void) { return SC_VERSION_NUMBER; }

SC_API const char *sc_version_string(void) { return SC_VERSION_STRING; }
