/* test-options.c - the option table, typed access, text parsing and the
 * environment. */
#include <math.h>
#include <stddef.h>

#include "sc-test.h"

TestSuite(options, .timeout = 10);

/* Every option as the header documents it. */
typedef struct expect {
  sc_option_t id;
  const char *name;
  sc_option_type_t type;
  bool b;
  int64_t i;
  double d;
  const char *s;
} expect;

#define EB(id, name, v) {id, name, SC_OPTTYPE_BOOL, v, 0, 0, NULL}
#define EI(id, name, v) {id, name, SC_OPTTYPE_INT, false, v, 0, NULL}
#define ED(id, name, v) {id, name, SC_OPTTYPE_DOUBLE, false, 0, v, NULL}
#define ES(id, name, v) {id, name, SC_OPTTYPE_STRING, false, 0, 0, v}

static const expect expected[] = {
    ES(SC_OPT_OUTFILE, "outfile", "scalene-profile.json"),
    EB(SC_OPT_CPU_ONLY, "cpu-only", false),
    EB(SC_OPT_GPU, "gpu", false),
    EB(SC_OPT_MEMORY, "memory", false),
    EB(SC_OPT_STACKS, "stacks", false),
    EB(SC_OPT_PROFILE_ALL, "profile-all", false),
    ES(SC_OPT_PROFILE_ONLY, "profile-only", ""),
    ES(SC_OPT_PROFILE_EXCLUDE, "profile-exclude", ""),
    EB(SC_OPT_PROFILE_SYSTEM_LIBRARIES, "profile-system-libraries", false),
    ES(SC_OPT_PROGRAM_PATH, "program-path", ""),
    ED(SC_OPT_CPU_PERCENT_THRESHOLD, "cpu-percent-threshold", 1.0),
    ED(SC_OPT_CPU_SAMPLING_RATE, "cpu-sampling-rate", 0.01),
    EI(SC_OPT_ALLOCATION_SAMPLING_WINDOW, "allocation-sampling-window", 1048576),
    EI(SC_OPT_MALLOC_THRESHOLD, "malloc-threshold", 100),
    EB(SC_OPT_USE_VIRTUAL_TIME, "use-virtual-time", false),
    EB(SC_OPT_MEMORY_LEAK_DETECTOR, "memory-leak-detector", false),
    EB(SC_OPT_REDUCED_PROFILE, "reduced-profile", false),
    EB(SC_OPT_OFF, "off", false),
    ED(SC_OPT_PROFILE_INTERVAL, "profile-interval", 0.0),
    EI(SC_OPT_SAMPLE_SIGNAL, "sample-signal", 0),
    EI(SC_OPT_MAX_FRAMES, "max-frames", 32),
    EI(SC_OPT_RING_CAPACITY, "ring-capacity", 256),
    ED(SC_OPT_DRAIN_INTERVAL, "drain-interval", 0.05),
};
#define NEXPECTED (sizeof expected / sizeof expected[0])

static sc_options_t *fresh(void) {
  sc_options_t *o = NULL;
  cr_assert_eq(sc_options_create(&o), 0);
  cr_assert_not_null(o);
  return o;
}

static sc_option_info_t info_of(sc_option_t id) {
  sc_option_info_t in;
  memset(&in, 0, sizeof in);
  in.size = sizeof in;
  int rc = sc_option_info(id, &in);
  cr_assert_eq(rc, 0, "sc_option_info(%d): %s", (int)id, sc_strerror(rc));
  return in;
}

SC_TEST(options, table_matches_the_header) {
  /* Every id the header names is described, with its documented name and
   * type; the ids 1..SC__OPT_END-1 are exactly the documented ones. */
  cr_assert_eq(NEXPECTED, (size_t)SC__OPT_END - 1, "a new option needs a line in this test");
  for (size_t i = 0; i < NEXPECTED; i++) {
    sc_option_info_t in = info_of(expected[i].id);
    cr_assert_eq(in.size, sizeof in);
    cr_assert_eq(in.id, expected[i].id);
    cr_assert_str_eq(in.name, expected[i].name);
    cr_assert_eq(in.type, expected[i].type, "%s", in.name);
    cr_assert(in.help && *in.help, "%s has help", in.name);
    cr_assert_not_null(in.default_text);
    cr_assert_eq(in.flags & ~(uint32_t)(SC_OPTFLAG_ADVANCED | SC_OPTFLAG_CORE), 0u);
    for (const char *p = in.name; *p; p++)
      cr_assert((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-',
                "option names are lower-case-with-dashes: %s", in.name);
    for (size_t k = 0; k < i; k++) cr_assert_str_neq(in.name, expected[k].name);
  }
}

SC_TEST(options, defaults_through_getters_and_default_text) {
  sc_options_t *o = fresh();
  for (size_t i = 0; i < NEXPECTED; i++) {
    const expect *e = &expected[i];
    sc_option_info_t in = info_of(e->id);
    /* The default text parses to the default value, in a set of its own. */
    sc_options_t *p = fresh();
    cr_assert_eq(sc_options_parse(p, e->id, in.default_text), 0, "%s default_text '%s'", e->name,
                 in.default_text);
    switch (e->type) {
      case SC_OPTTYPE_BOOL: {
        bool v = !e->b, w = !e->b;
        cr_assert_eq(sc_options_get_bool(o, e->id, &v), 0);
        cr_assert_eq(v, e->b, "%s", e->name);
        cr_assert_eq(sc_options_get_bool(p, e->id, &w), 0);
        cr_assert_eq(w, e->b, "%s", e->name);
        break;
      }
      case SC_OPTTYPE_INT: {
        int64_t v = -12345, w = -12345;
        cr_assert_eq(sc_options_get_int(o, e->id, &v), 0);
        cr_assert_eq(v, e->i, "%s", e->name);
        cr_assert_eq(sc_options_get_int(p, e->id, &w), 0);
        cr_assert_eq(w, e->i, "%s", e->name);
        cr_assert(in.min_value <= (double)v && (double)v <= in.max_value, "%s default in bounds",
                  e->name);
        break;
      }
      case SC_OPTTYPE_DOUBLE: {
        double v = -1, w = -1;
        cr_assert_eq(sc_options_get_double(o, e->id, &v), 0);
        cr_assert_eq(v, e->d, "%s: %g", e->name, v);
        cr_assert_eq(sc_options_get_double(p, e->id, &w), 0);
        cr_assert_eq(w, e->d, "%s", e->name);
        cr_assert(in.min_value <= v && v <= in.max_value, "%s default in bounds", e->name);
        cr_assert_leq(in.min_value, in.max_value);
        break;
      }
      case SC_OPTTYPE_STRING: {
        const char *v = NULL, *w = NULL;
        cr_assert_eq(sc_options_get_string(o, e->id, &v), 0);
        cr_assert_str_eq(v, e->s, "%s", e->name);
        cr_assert_str_eq(in.default_text, e->s);
        cr_assert_eq(sc_options_get_string(p, e->id, &w), 0);
        cr_assert_str_eq(w, e->s);
        break;
      }
    }
    sc_options_destroy(p);
  }
  sc_options_destroy(o);
}

SC_TEST(options, info_errors_and_partial_size) {
  sc_option_info_t in;
  memset(&in, 0x5a, sizeof in);
  in.size = sizeof in;
  cr_assert_eq(sc_option_info((sc_option_t)0, &in), SC_ENOENT);
  cr_assert_eq(sc_option_info(SC__OPT_END, &in), SC_ENOENT);
  cr_assert_eq(sc_option_info((sc_option_t)-3, &in), SC_ENOENT);
  cr_assert_eq(sc_option_info((sc_option_t)100000, &in), SC_ENOENT);
  cr_assert_eq(in.size, sizeof in);
  cr_assert_eq(in.flags, 0x5a5a5a5au, "untouched on failure");
  cr_assert_eq(sc_option_info(SC_OPT_OUTFILE, NULL), SC_EINVAL);
  in.size = 0;
  cr_assert_eq(sc_option_info(SC_OPT_OUTFILE, &in), SC_EINVAL);

  /* An older caller's smaller struct: only what its size covers is written. */
  memset(&in, 0x5a, sizeof in);
  in.size = offsetof(sc_option_info_t, type);
  cr_assert_eq(sc_option_info(SC_OPT_MAX_FRAMES, &in), 0);
  cr_assert_eq(in.id, SC_OPT_MAX_FRAMES);
  cr_assert_str_eq(in.name, "max-frames");
  cr_assert_eq(in.flags, 0x5a5a5a5au, "beyond size: untouched");
  cr_assert_eq((unsigned)in.type, 0x5a5a5a5au, "beyond size: untouched");
}

SC_TEST(options, find_by_name) {
  for (size_t i = 0; i < NEXPECTED; i++) {
    sc_option_t id = (sc_option_t)0;
    cr_assert_eq(sc_option_find(expected[i].name, &id), 0, "%s", expected[i].name);
    cr_assert_eq(id, expected[i].id);
    /* '_' matches '-' */
    char under[64];
    snprintf(under, sizeof under, "%s", expected[i].name);
    for (char *p = under; *p; p++)
      if (*p == '-') *p = '_';
    id = (sc_option_t)0;
    cr_assert_eq(sc_option_find(under, &id), 0, "%s", under);
    cr_assert_eq(id, expected[i].id);
  }
  sc_option_t id = SC_OPT_GPU;
  cr_assert_eq(sc_option_find("cpu_sampling-rate", &id), 0, "mixed separators");
  cr_assert_eq(id, SC_OPT_CPU_SAMPLING_RATE);
  id = SC_OPT_GPU;
  cr_assert_eq(sc_option_find("cpu-sampling", &id), SC_ENOENT, "a prefix is not a name");
  cr_assert_eq(sc_option_find("cpu-sampling-rates", &id), SC_ENOENT);
  cr_assert_eq(sc_option_find("", &id), SC_ENOENT);
  cr_assert_eq(sc_option_find("no-such-option", &id), SC_ENOENT);
  cr_assert_eq(id, SC_OPT_GPU, "untouched on failure");
  cr_assert_eq(sc_option_find(NULL, &id), SC_EINVAL);
  cr_assert_eq(sc_option_find("gpu", NULL), SC_EINVAL);
}

SC_TEST(options, set_get_round_trip) {
  sc_options_t *o = fresh();
  bool b = false;
  cr_assert_eq(sc_options_set_bool(o, SC_OPT_REDUCED_PROFILE, true), 0);
  cr_assert_eq(sc_options_get_bool(o, SC_OPT_REDUCED_PROFILE, &b), 0);
  cr_assert(b);
  cr_assert_eq(sc_options_set_bool(o, SC_OPT_REDUCED_PROFILE, false), 0);
  cr_assert_eq(sc_options_get_bool(o, SC_OPT_REDUCED_PROFILE, &b), 0);
  cr_assert_not(b);

  int64_t i = 0;
  cr_assert_eq(sc_options_set_int(o, SC_OPT_MAX_FRAMES, 200), 0);
  cr_assert_eq(sc_options_get_int(o, SC_OPT_MAX_FRAMES, &i), 0);
  cr_assert_eq(i, 200);
  cr_assert_eq(sc_options_set_int(o, SC_OPT_ALLOCATION_SAMPLING_WINDOW, 1000000000000LL), 0,
               "the whole 64-bit range up to the bound");
  cr_assert_eq(sc_options_get_int(o, SC_OPT_ALLOCATION_SAMPLING_WINDOW, &i), 0);
  cr_assert_eq(i, 1000000000000LL);

  double d = 0;
  cr_assert_eq(sc_options_set_double(o, SC_OPT_CPU_SAMPLING_RATE, 0.0025), 0);
  cr_assert_eq(sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d), 0);
  cr_assert_eq(d, 0.0025);

  /* Strings are copied in; the result is borrowed until the next set. */
  char src[32] = "out/profile.json";
  const char *s = NULL;
  cr_assert_eq(sc_options_set_string(o, SC_OPT_OUTFILE, src), 0);
  memset(src, 'X', sizeof src - 1);
  cr_assert_eq(sc_options_get_string(o, SC_OPT_OUTFILE, &s), 0);
  cr_assert_str_eq(s, "out/profile.json");
  cr_assert_eq(sc_options_set_string(o, SC_OPT_OUTFILE, ""), 0);
  cr_assert_eq(sc_options_get_string(o, SC_OPT_OUTFILE, &s), 0);
  cr_assert_str_eq(s, "");
  cr_assert_eq(sc_options_set_string(o, SC_OPT_OUTFILE, NULL), SC_EINVAL);

  /* Bounds are inclusive. */
  cr_assert_eq(sc_options_set_int(o, SC_OPT_MAX_FRAMES, 1), 0);
  cr_assert_eq(sc_options_set_int(o, SC_OPT_MAX_FRAMES, 256), 0);
  cr_assert_eq(sc_options_set_int(o, SC_OPT_MAX_FRAMES, 0), SC_ERANGE);
  cr_assert_eq(sc_options_set_int(o, SC_OPT_MAX_FRAMES, 257), SC_ERANGE);
  cr_assert_eq(sc_options_set_int(o, SC_OPT_MAX_FRAMES, INT64_MIN), SC_ERANGE);
  cr_assert_eq(sc_options_get_int(o, SC_OPT_MAX_FRAMES, &i), 0);
  cr_assert_eq(i, 256, "a rejected value changes nothing");
  cr_assert_eq(sc_options_set_double(o, SC_OPT_CPU_PERCENT_THRESHOLD, 100.0), 0);
  cr_assert_eq(sc_options_set_double(o, SC_OPT_CPU_PERCENT_THRESHOLD, 0.0), 0);
  cr_assert_eq(sc_options_set_double(o, SC_OPT_CPU_PERCENT_THRESHOLD, 100.5), SC_ERANGE);
  cr_assert_eq(sc_options_set_double(o, SC_OPT_CPU_PERCENT_THRESHOLD, -0.5), SC_ERANGE);
  cr_assert_eq(sc_options_set_double(o, SC_OPT_CPU_PERCENT_THRESHOLD, NAN), SC_ERANGE);
  cr_assert_eq(sc_options_set_double(o, SC_OPT_CPU_PERCENT_THRESHOLD, INFINITY), SC_ERANGE);
  cr_assert_eq(sc_options_get_double(o, SC_OPT_CPU_PERCENT_THRESHOLD, &d), 0);
  cr_assert_eq(d, 0.0);
  sc_options_destroy(o);
}

SC_TEST(options, wrong_type_and_unknown_id) {
  sc_options_t *o = fresh();
  bool b = true;
  int64_t i = 7;
  double d = 7;
  const char *s = "untouched";
  cr_assert_eq(sc_options_set_int(o, SC_OPT_CPU_SAMPLING_RATE, 1), SC_ETYPE);
  cr_assert_eq(sc_options_set_double(o, SC_OPT_MAX_FRAMES, 1.0), SC_ETYPE);
  cr_assert_eq(sc_options_set_bool(o, SC_OPT_OUTFILE, true), SC_ETYPE);
  cr_assert_eq(sc_options_set_string(o, SC_OPT_OFF, "true"), SC_ETYPE);
  cr_assert_eq(sc_options_get_bool(o, SC_OPT_MAX_FRAMES, &b), SC_ETYPE);
  cr_assert_eq(sc_options_get_int(o, SC_OPT_CPU_SAMPLING_RATE, &i), SC_ETYPE);
  cr_assert_eq(sc_options_get_double(o, SC_OPT_OUTFILE, &d), SC_ETYPE);
  cr_assert_eq(sc_options_get_string(o, SC_OPT_MAX_FRAMES, &s), SC_ETYPE);
  cr_assert(b);
  cr_assert_eq(i, 7);
  cr_assert_eq(d, 7.0);
  cr_assert_str_eq(s, "untouched", "out-parameters untouched on failure");

  const sc_option_t bad[] = {(sc_option_t)0, SC__OPT_END, (sc_option_t)-1, (sc_option_t)999};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    cr_assert_eq(sc_options_set_bool(o, bad[k], true), SC_ENOENT);
    cr_assert_eq(sc_options_set_int(o, bad[k], 1), SC_ENOENT);
    cr_assert_eq(sc_options_set_double(o, bad[k], 1.0), SC_ENOENT);
    cr_assert_eq(sc_options_set_string(o, bad[k], "x"), SC_ENOENT);
    cr_assert_eq(sc_options_get_bool(o, bad[k], &b), SC_ENOENT);
    cr_assert_eq(sc_options_get_int(o, bad[k], &i), SC_ENOENT);
    cr_assert_eq(sc_options_get_double(o, bad[k], &d), SC_ENOENT);
    cr_assert_eq(sc_options_get_string(o, bad[k], &s), SC_ENOENT);
    cr_assert_eq(sc_options_parse(o, bad[k], "1"), SC_ENOENT);
  }
  cr_assert_eq(sc_options_set_bool(NULL, SC_OPT_OFF, true), SC_EINVAL);
  cr_assert_eq(sc_options_get_bool(o, SC_OPT_OFF, NULL), SC_EINVAL);
  cr_assert_eq(sc_options_get_bool(NULL, SC_OPT_OFF, &b), SC_EINVAL);
  cr_assert_eq(sc_options_parse(NULL, SC_OPT_OFF, "1"), SC_EINVAL);
  cr_assert_eq(sc_options_parse(o, SC_OPT_OFF, NULL), SC_EINVAL);
  sc_options_destroy(o);
}

static bool parsed_bool(sc_options_t *o, const char *text, int *rc) {
  bool v = false;
  cr_assert_eq(sc_options_set_bool(o, SC_OPT_CPU_ONLY, false), 0);
  *rc = sc_options_parse(o, SC_OPT_CPU_ONLY, text);
  cr_assert_eq(sc_options_get_bool(o, SC_OPT_CPU_ONLY, &v), 0);
  return v;
}

SC_TEST(options, parse_bool_spellings) {
  sc_options_t *o = fresh();
  const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
  int rc;
  for (size_t k = 0; k < 4; k++) {
    cr_assert(parsed_bool(o, yes[k], &rc), "%s", yes[k]);
    cr_assert_eq(rc, 0);
    cr_assert_eq(sc_options_set_bool(o, SC_OPT_CPU_ONLY, true), 0);
    cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_ONLY, no[k]), 0, "%s", no[k]);
    bool v = true;
    cr_assert_eq(sc_options_get_bool(o, SC_OPT_CPU_ONLY, &v), 0);
    cr_assert_not(v, "%s", no[k]);
  }
  const char *bad[] = {"", "2", "-1", "truee", "y", "n", "maybe", "1.0", "on "};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    cr_assert_not(parsed_bool(o, bad[k], &rc));
    cr_assert_eq(rc, SC_EFORMAT, "'%s' -> %s", bad[k], sc_err_name(rc));
  }
  sc_options_destroy(o);
}

SC_TEST(options, parse_numbers_whole_and_in_bounds) {
  sc_options_t *o = fresh();
  double d = 0;
  int64_t i = 0;
  cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_SAMPLING_RATE, "0.005"), 0);
  cr_assert_eq(sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d), 0);
  cr_assert_eq(d, 0.005);
  cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_SAMPLING_RATE, "2e-3"), 0);
  cr_assert_eq(sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d), 0);
  cr_assert_eq(d, 0.002);
  cr_assert_eq(sc_options_parse(o, SC_OPT_MAX_FRAMES, "64"), 0);
  cr_assert_eq(sc_options_get_int(o, SC_OPT_MAX_FRAMES, &i), 0);
  cr_assert_eq(i, 64);

  /* Not the whole text, not a number, not finite: SC_EFORMAT. */
  const char *bad_double[] = {"", "0.5x", "x0.5", "0.5 s", "1,5", "nan", "inf", "-inf", "1e999", "."};
  for (size_t k = 0; k < sizeof bad_double / sizeof bad_double[0]; k++)
    cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_SAMPLING_RATE, bad_double[k]), SC_EFORMAT, "'%s'",
                 bad_double[k]);
  const char *bad_int[] = {"", "12.5", "1e2", "0x10", "64k", "abc", "99999999999999999999", "- 1"};
  for (size_t k = 0; k < sizeof bad_int / sizeof bad_int[0]; k++)
    cr_assert_eq(sc_options_parse(o, SC_OPT_MAX_FRAMES, bad_int[k]), SC_EFORMAT, "'%s'", bad_int[k]);

  /* Parses, but outside the bounds: SC_ERANGE. */
  cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_SAMPLING_RATE, "20"), SC_ERANGE);
  cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_SAMPLING_RATE, "0.00001"), SC_ERANGE);
  cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_SAMPLING_RATE, "-0.01"), SC_ERANGE);
  cr_assert_eq(sc_options_parse(o, SC_OPT_MAX_FRAMES, "0"), SC_ERANGE);
  cr_assert_eq(sc_options_parse(o, SC_OPT_MAX_FRAMES, "257"), SC_ERANGE);
  cr_assert_eq(sc_options_parse(o, SC_OPT_RING_CAPACITY, "7"), SC_ERANGE);
  cr_assert_eq(sc_options_parse(o, SC_OPT_RING_CAPACITY, "65537"), SC_ERANGE);
  cr_assert_eq(sc_options_parse(o, SC_OPT_SAMPLE_SIGNAL, "-1"), SC_ERANGE);
  cr_assert_eq(sc_options_parse(o, SC_OPT_RING_CAPACITY, "8"), 0, "the bound itself is allowed");

  /* Failures left the previous values alone. */
  cr_assert_eq(sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d), 0);
  cr_assert_eq(d, 0.002);
  cr_assert_eq(sc_options_get_int(o, SC_OPT_MAX_FRAMES, &i), 0);
  cr_assert_eq(i, 64);

  /* Strings take any text. */
  const char *s;
  cr_assert_eq(sc_options_parse(o, SC_OPT_PROFILE_ONLY, "a.py,b.py"), 0);
  cr_assert_eq(sc_options_get_string(o, SC_OPT_PROFILE_ONLY, &s), 0);
  cr_assert_str_eq(s, "a.py,b.py");
  cr_assert_eq(sc_options_parse(o, SC_OPT_PROFILE_ONLY, "1e999"), 0);
  cr_assert_eq(sc_options_get_string(o, SC_OPT_PROFILE_ONLY, &s), 0);
  cr_assert_str_eq(s, "1e999");
  sc_options_destroy(o);
}

SC_TEST(options, environment) {
  sc_options_t *o = fresh();
  const char *bad = "untouched";
  cr_assert_eq(setenv("SCALENE_CPU_SAMPLING_RATE", "0.005", 1), 0);
  cr_assert_eq(setenv("SCALENE_REDUCED_PROFILE", "yes", 1), 0);
  cr_assert_eq(setenv("SCALENE_OUTFILE", "env.json", 1), 0);
  cr_assert_eq(setenv("SCALENE_MAX_FRAMES", "48", 1), 0);
  cr_assert_eq(sc_options_load_env(o, &bad), 0);
  cr_assert_str_eq(bad, "untouched", "bad_name only set on failure");
  double d = 0;
  bool b = false;
  int64_t i = 0;
  const char *s = NULL;
  cr_assert_eq(sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d), 0);
  cr_assert_eq(d, 0.005);
  cr_assert_eq(sc_options_get_bool(o, SC_OPT_REDUCED_PROFILE, &b), 0);
  cr_assert(b);
  cr_assert_eq(sc_options_get_string(o, SC_OPT_OUTFILE, &s), 0);
  cr_assert_str_eq(s, "env.json");
  cr_assert_eq(sc_options_get_int(o, SC_OPT_MAX_FRAMES, &i), 0);
  cr_assert_eq(i, 48);
  /* Options without a variable keep their values. */
  cr_assert_eq(sc_options_get_int(o, SC_OPT_RING_CAPACITY, &i), 0);
  cr_assert_eq(i, 256);
  sc_options_destroy(o);
}

SC_TEST(options, environment_bad_value_names_the_option) {
  sc_options_t *o = fresh();
  const char *bad = NULL;
  cr_assert_eq(setenv("SCALENE_CPU_SAMPLING_RATE", "fast", 1), 0);
  cr_assert_eq(sc_options_load_env(o, &bad), SC_EFORMAT);
  cr_assert_not_null(bad);
  cr_assert_str_eq(bad, "cpu-sampling-rate");
  double d = 0;
  cr_assert_eq(sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d), 0);
  cr_assert_eq(d, 0.01, "the bad value was not applied");

  cr_assert_eq(setenv("SCALENE_CPU_SAMPLING_RATE", "100", 1), 0);
  bad = NULL;
  cr_assert_eq(sc_options_load_env(o, &bad), SC_ERANGE);
  cr_assert_str_eq(bad, "cpu-sampling-rate");
  cr_assert_eq(sc_options_load_env(o, NULL), SC_ERANGE, "bad_name may be NULL");

  cr_assert_eq(unsetenv("SCALENE_CPU_SAMPLING_RATE"), 0);
  cr_assert_eq(setenv("SCALENE_RING_CAPACITY", "lots", 1), 0);
  bad = NULL;
  cr_assert_eq(sc_options_load_env(o, &bad), SC_EFORMAT);
  cr_assert_str_eq(bad, "ring-capacity");
  cr_assert_eq(sc_options_load_env(NULL, &bad), SC_EINVAL);
  sc_options_destroy(o);
}

SC_TEST(options, create_destroy) {
  cr_assert_eq(sc_options_create(NULL), SC_EINVAL);
  sc_options_destroy(NULL); /* no-op */
  sc_options_t *a = fresh(), *b = fresh();
  cr_assert_neq(a, b);
  cr_assert_eq(sc_options_set_string(a, SC_OPT_OUTFILE, "a.json"), 0);
  const char *s;
  cr_assert_eq(sc_options_get_string(b, SC_OPT_OUTFILE, &s), 0);
  cr_assert_str_eq(s, "scalene-profile.json", "sets are independent");
  sc_options_destroy(a);
  sc_options_destroy(b);
}

SC_TEST(options, is_set_tracks_explicit_values) {
  sc_options_t *o = fresh();
  bool set = true;
  for (size_t i = 0; i < NEXPECTED; i++) {
    cr_assert_eq(sc_options_is_set(o, expected[i].id, &set), 0);
    cr_assert_not(set, "%s starts at its default", expected[i].name);
  }
  cr_assert_eq(sc_options_set_int(o, SC_OPT_MAX_FRAMES, 32), 0);
  cr_assert_eq(sc_options_is_set(o, SC_OPT_MAX_FRAMES, &set), 0);
  cr_assert(set, "set explicitly, even to the default value");
  cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_SAMPLING_RATE, "bogus"), SC_EFORMAT);
  cr_assert_eq(sc_options_is_set(o, SC_OPT_CPU_SAMPLING_RATE, &set), 0);
  cr_assert_not(set, "a failed parse sets nothing");
  cr_assert_eq(sc_options_parse(o, SC_OPT_CPU_SAMPLING_RATE, "0.02"), 0);
  cr_assert_eq(sc_options_is_set(o, SC_OPT_CPU_SAMPLING_RATE, &set), 0);
  cr_assert(set);
  cr_assert_eq(setenv("SCALENE_OUTFILE", "e.json", 1), 0);
  cr_assert_eq(sc_options_load_env(o, NULL), 0);
  cr_assert_eq(sc_options_is_set(o, SC_OPT_OUTFILE, &set), 0);
  cr_assert(set, "from the environment");
  cr_assert_eq(sc_options_is_set(o, SC__OPT_END, &set), SC_ENOENT);
  cr_assert_eq(sc_options_is_set(o, SC_OPT_OFF, NULL), SC_EINVAL);
  cr_assert_eq(sc_options_is_set(NULL, SC_OPT_OFF, &set), SC_EINVAL);
  sc_options_destroy(o);
}
