/* test-errors.c - the error table and the version functions. */
#include <limits.h>

#include "sc-test.h"

TestSuite(errors, .timeout = 10);

/* The table as the test expects it: values are pinned forever. */
static const struct {
  int code;
  int pinned;
  const char *name;
  const char *msg;
} table[] = {
#define X(name, val, msg) {SC_E##name, val, "SC_E" #name, msg},
    SC_ERRNO_MAP(X)
#undef X
};
#define NCODES (sizeof table / sizeof table[0])

SC_TEST(errors, values_are_pinned) {
  /* Written out by hand: renumbering breaks every compiled caller. */
  cr_assert_eq(SC_OK, 0);
  cr_assert_eq(SC_EINVAL, -1);
  cr_assert_eq(SC_ENOMEM, -2);
  cr_assert_eq(SC_ESTATE, -3);
  cr_assert_eq(SC_EIO, -4);
  cr_assert_eq(SC_ERANGE, -5);
  cr_assert_eq(SC_ENOTSUP, -6);
  cr_assert_eq(SC_ENOENT, -7);
  cr_assert_eq(SC_EFORMAT, -8);
  cr_assert_eq(SC_ESYS, -9);
  cr_assert_eq(SC_ETYPE, -10);
  cr_assert_eq(SC_EEXISTS, -11);
  cr_assert_eq(SC_EFORKED, -12);
  for (size_t i = 0; i < NCODES; i++) {
    cr_assert_eq(table[i].code, table[i].pinned);
    cr_assert_lt(table[i].code, 0, "%s is negative", table[i].name);
    cr_assert_gt(table[i].code, SC__ERR_LAST, "SC__ERR_LAST stays below every code");
  }
}

SC_TEST(errors, every_code_has_its_own_message_and_name) {
  for (size_t i = 0; i < NCODES; i++) {
    const char *m = sc_strerror(table[i].code), *n = sc_err_name(table[i].code);
    cr_assert_not_null(m);
    cr_assert_not_null(n);
    cr_assert_str_eq(m, table[i].msg);
    cr_assert_str_eq(n, table[i].name);
    cr_assert_str_neq(m, "unknown error", "%s", table[i].name);
    cr_assert_str_neq(n, "SC_UNKNOWN");
    cr_assert_str_neq(m, sc_strerror(SC_OK));
    for (size_t k = 0; k < i; k++) {
      cr_assert_str_neq(m, sc_strerror(table[k].code), "%s and %s share a message", table[i].name,
                        table[k].name);
      cr_assert_str_neq(n, sc_err_name(table[k].code));
    }
  }
}

SC_TEST(errors, ok_is_success) {
  cr_assert_str_eq(sc_strerror(SC_OK), "success");
  cr_assert_str_eq(sc_err_name(SC_OK), "SC_OK");
}

SC_TEST(errors, unknown_codes) {
  const int unknown[] = {SC__ERR_LAST, -13, -14, -100, -1000000, 1, 2, 12, INT_MAX, INT_MIN};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    cr_assert_str_eq(sc_strerror(unknown[i]), "unknown error", "code %d", unknown[i]);
    cr_assert_str_eq(sc_err_name(unknown[i]), "SC_UNKNOWN", "code %d", unknown[i]);
  }
}

SC_TEST(errors, strings_are_static) {
  /* The same pointer every call: static storage, nothing to free. */
  for (size_t i = 0; i < NCODES; i++) {
    cr_assert_eq(sc_strerror(table[i].code), sc_strerror(table[i].code));
    cr_assert_eq(sc_err_name(table[i].code), sc_err_name(table[i].code));
  }
}

SC_TEST(errors, version_matches_the_macros) {
  cr_assert_eq(sc_version_number(), SC_VERSION_NUMBER);
  cr_assert_eq(SC_VERSION_NUMBER,
               SC_VERSION_MAJOR * 10000 + SC_VERSION_MINOR * 100 + SC_VERSION_PATCH);
  cr_assert_str_eq(sc_version_string(), SC_VERSION_STRING);
  char expect[32];
  snprintf(expect, sizeof expect, "%d.%d.%d", SC_VERSION_MAJOR, SC_VERSION_MINOR, SC_VERSION_PATCH);
  cr_assert_str_eq(sc_version_string(), expect);
  unsigned a, b, c;
  cr_assert_eq(sscanf(sc_version_string(), "%u.%u.%u", &a, &b, &c), 3);
  cr_assert_eq(a * 10000 + b * 100 + c, sc_version_number());
  cr_assert_eq(SC_VERSION_MAJOR, 1, "the SONAME is libscalenecore.so.1");
}
