/* test-config.c - sc_config_load: YAML configuration files applied to an
 * option set through the option table; every error names its line,
 * column and key; nothing is applied unless the whole file is valid. */
#include <stddef.h>
#include <sys/stat.h>

#include "sc-test.h"

TestSuite(config, .timeout = 30);

/* A temporary file holding `text` (len bytes); the caller unlinks it. */
static char *temp_file(const char *text, size_t len) {
  static char path[64];
  snprintf(path, sizeof path, "/tmp/sc-config-XXXXXX.yaml");
  int fd = mkstemps(path, 5);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, len), (ssize_t)len);
  close(fd);
  return path;
}

typedef struct result {
  int rc;
  sc_config_error_t err;
} result;

/* Load `text` into `opts` (fresh defaults when NULL) and return what
 * happened; the options are checked for "nothing applied" on failure. */
static result load_into(sc_options_t *opts, const char *text) {
  sc_options_t *own = NULL;
  if (!opts) cr_assert_eq(sc_options_create(&own), 0);
  sc_options_t *o = opts ? opts : own;
  char *path = temp_file(text, strlen(text));
  result r;
  memset(&r, 0, sizeof r);
  r.err.size = sizeof r.err;
  r.rc = sc_config_load(o, path, &r.err);
  unlink(path);
  cr_assert(!strchr(r.err.message, '\n'), "message has a newline: %s", r.err.message);
  if (r.rc < 0) {
    cr_assert_neq(r.err.message[0], '\0', "an error without a message");
    if (own) {
      for (int id = 1; id < SC__OPT_END; id++) {
        bool set = true;
        cr_assert_eq(sc_options_is_set(own, (sc_option_t)id, &set), 0);
        cr_assert(!set, "option %d was applied from a file that failed", id);
      }
    }
  } else {
    cr_assert_str_eq(r.err.message, "");
  }
  sc_options_destroy(own);
  return r;
}

static result load(const char *text) { return load_into(NULL, text); }

static void expect_error(const char *text, int rc, int line, int column, const char *key,
                         const char *message) {
  result r = load(text);
  cr_assert_eq(r.rc, rc, "%s\n-> %s (%s), expected %s", text, sc_err_name(r.rc), r.err.message,
               sc_err_name(rc));
  cr_assert_eq(r.err.line, line, "%s\n-> line %d, expected %d", text, r.err.line, line);
  cr_assert_eq(r.err.column, column, "%s\n-> column %d, expected %d", text, r.err.column, column);
  cr_assert_str_eq(r.err.key, key, "%s", text);
  cr_assert(strstr(r.err.message, message), "%s\n-> \"%s\", expected \"%s\"", text, r.err.message,
            message);
}

/* Every key of Scalene's README, as a file would set them. */
SC_TEST(config, readme_keys_apply) {
  static const char text[] =
      "# scalene.yaml\n"
      "outfile: profile.json\n"
      "cpu-only: true\n"
      "gpu: false\n"
      "memory: yes\n"
      "profile-only: \"mylib,tests\"\n"
      "profile-exclude: vendor\n"
      "profile-all: off\n"
      "cpu-percent-threshold: 2.5\n"
      "cpu-sampling-rate: 0.005\n"
      "malloc-threshold: 50\n"
      "use-virtual-time: True\n"
      "stacks: on\n"
      "memory-leak-detector: 1\n";
  sc_options_t *o;
  cr_assert_eq(sc_options_create(&o), 0);
  result r = load_into(o, text);
  cr_assert_eq(r.rc, 0, "%s", r.err.message);
  const char *s;
  bool b;
  double d;
  int64_t i;
  sc_options_get_string(o, SC_OPT_OUTFILE, &s);
  cr_assert_str_eq(s, "profile.json");
  sc_options_get_string(o, SC_OPT_PROFILE_ONLY, &s);
  cr_assert_str_eq(s, "mylib,tests");
  sc_options_get_string(o, SC_OPT_PROFILE_EXCLUDE, &s);
  cr_assert_str_eq(s, "vendor");
  static const struct {
    sc_option_t id;
    bool v;
  } bools[] = {{SC_OPT_CPU_ONLY, true}, {SC_OPT_GPU, false}, {SC_OPT_MEMORY, true},
               {SC_OPT_PROFILE_ALL, false}, {SC_OPT_USE_VIRTUAL_TIME, true}, {SC_OPT_STACKS, true},
               {SC_OPT_MEMORY_LEAK_DETECTOR, true}};
  for (size_t k = 0; k < sizeof bools / sizeof bools[0]; k++) {
    cr_assert_eq(sc_options_get_bool(o, bools[k].id, &b), 0);
    cr_assert_eq(b, bools[k].v, "option %d", bools[k].id);
    bool set = false;
    sc_options_is_set(o, bools[k].id, &set);
    cr_assert(set, "option %d is set", bools[k].id);
  }
  sc_options_get_double(o, SC_OPT_CPU_PERCENT_THRESHOLD, &d);
  cr_assert_eq(d, 2.5);
  sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d);
  cr_assert_eq(d, 0.005);
  sc_options_get_int(o, SC_OPT_MALLOC_THRESHOLD, &i);
  cr_assert_eq(i, 50);
  /* untouched options keep their defaults, and stay "not set" */
  bool set = true;
  sc_options_is_set(o, SC_OPT_REDUCED_PROFILE, &set);
  cr_assert(!set);
  /* the command line comes after the file and wins */
  sc_option_t id;
  cr_assert_eq(sc_option_find("cpu-sampling-rate", &id), 0);
  cr_assert_eq(sc_options_parse(o, id, "0.02"), 0);
  sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d);
  cr_assert_eq(d, 0.02);
  sc_options_destroy(o);
}

SC_TEST(config, spellings_and_styles) {
  sc_options_t *o;
  cr_assert_eq(sc_options_create(&o), 0);
  result r = load_into(o,
                       "cpu_only: yes\n"
                       "Reduced_Profile: 'TRUE'\n"
                       "cpu-sampling-rate: \"0.25\"\n"
                       "malloc-threshold: 0\n"
                       "profile-only: 123\n"
                       "outfile: 'with: colon # and hash'\n");
  cr_assert_eq(r.rc, 0, "%s", r.err.message);
  bool b = false;
  double d;
  const char *s;
  sc_options_get_bool(o, SC_OPT_CPU_ONLY, &b);
  cr_assert(b);
  sc_options_get_bool(o, SC_OPT_REDUCED_PROFILE, &b);
  cr_assert(b);
  sc_options_get_double(o, SC_OPT_CPU_SAMPLING_RATE, &d);
  cr_assert_eq(d, 0.25);
  sc_options_get_string(o, SC_OPT_PROFILE_ONLY, &s);
  cr_assert_str_eq(s, "123", "a number is text for a string option");
  sc_options_get_string(o, SC_OPT_OUTFILE, &s);
  cr_assert_str_eq(s, "with: colon # and hash");
  /* flow style and an explicit document work too */
  r = load_into(o, "---\n{gpu: true, memory: false}\n...\n");
  cr_assert_eq(r.rc, 0, "%s", r.err.message);
  sc_options_get_bool(o, SC_OPT_GPU, &b);
  cr_assert(b);
  sc_options_destroy(o);
}

SC_TEST(config, empty_files_set_nothing) {
  static const char *const empties[] = {"", "\n\n", "# only a comment\n", "---\n", "--- # c\n...\n",
                                        "{}\n", "~\n", "null\n"};
  for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
    result r = load(empties[i]);
    cr_assert_eq(r.rc, 0, "\"%s\": %s", empties[i], r.err.message);
  }
}

SC_TEST(config, unknown_key) {
  expect_error("cpu-only: true\nbogus: 1\n", SC_EFORMAT, 2, 1, "bogus", "unknown option");
  expect_error("  cpu-only: true\n  cpu-samplingrate: 1\n", SC_EFORMAT, 2, 3, "cpu-samplingrate",
               "unknown option");
}

SC_TEST(config, wrong_types) {
  expect_error("cpu-sampling-rate: fast\n", SC_EFORMAT, 1, 20, "cpu-sampling-rate",
               "expected a number, not \"fast\"");
  expect_error("cpu-only: maybe\n", SC_EFORMAT, 1, 11, "cpu-only", "expected true or false");
  expect_error("gpu: 2\n", SC_EFORMAT, 1, 6, "gpu", "expected true or false");
  expect_error("malloc-threshold: 1.5\n", SC_EFORMAT, 1, 19, "malloc-threshold", "expected an integer");
  expect_error("malloc-threshold: \"ten\"\n", SC_EFORMAT, 1, 19, "malloc-threshold", "expected an integer");
  expect_error("cpu-percent-threshold: 1e999\n", SC_EFORMAT, 1, 24, "cpu-percent-threshold",
               "expected a number");
}

SC_TEST(config, out_of_range) {
  expect_error("cpu-percent-threshold: 5000\n", SC_ERANGE, 1, 24, "cpu-percent-threshold",
               "value 5000 out of range [0, 100]");
  expect_error("cpu-only: true\ncpu-sampling-rate: -1\n", SC_ERANGE, 2, 20, "cpu-sampling-rate",
               "value -1 out of range [0.0001, 10]");
  expect_error("malloc-threshold: -3\n", SC_ERANGE, 1, 19, "malloc-threshold",
               "value -3 out of range [0, 1e+12]");
}

SC_TEST(config, not_a_mapping) {
  expect_error("- cpu-only\n- gpu\n", SC_EFORMAT, 1, 1, "", "expected a mapping of option names to values");
  expect_error("just text\n", SC_EFORMAT, 1, 1, "", "expected a mapping");
  expect_error("42\n", SC_EFORMAT, 1, 1, "", "expected a mapping");
  expect_error("[1, 2]\n", SC_EFORMAT, 1, 1, "", "expected a mapping");
}

SC_TEST(config, values_must_be_single_scalars) {
  expect_error("profile-only: [a, b]\n", SC_EFORMAT, 1, 15, "profile-only", "expected a single value, not a list");
  expect_error("profile-only:\n  - a\n  - b\n", SC_EFORMAT, 2, 3, "profile-only", "not a list");
  expect_error("outfile: {a: 1}\n", SC_EFORMAT, 1, 10, "outfile", "not a mapping");
  expect_error("cpu-only: &t true\ngpu: *t\n", SC_EFORMAT, 2, 6, "gpu", "not an alias");
  expect_error("outfile:\n", SC_EFORMAT, 1, 9, "outfile", "missing value");
  expect_error("outfile: ~\n", SC_EFORMAT, 1, 10, "outfile", "missing value");
  expect_error("cpu-only: null\n", SC_EFORMAT, 1, 11, "cpu-only", "missing value");
  expect_error("? [a, b]\n: 1\n", SC_EFORMAT, 1, 3, "", "expected an option name");
}

SC_TEST(config, duplicates) {
  expect_error("gpu: true\nmemory: true\ngpu: false\n", SC_EFORMAT, 3, 1, "gpu",
               "duplicate option: \"gpu\" is already set on line 1");
  expect_error("cpu-only: true\ncpu_only: true\n", SC_EFORMAT, 2, 1, "cpu_only", "duplicate option");
}

SC_TEST(config, syntax_errors) {
  expect_error("a: b: c\n", SC_EFORMAT, 1, 5, "", "mapping values are not allowed");
  expect_error("outfile: \"unterminated\n", SC_EFORMAT, 2, 1, "", "unexpected end of stream");
  expect_error("gpu: true\n  memory: true\n", SC_EFORMAT, 2, 9, "", "mapping values are not allowed");
  expect_error("{gpu: true\n", SC_EFORMAT, 2, 1, "", "did not find expected");
  expect_error("gpu: true\n---\nmemory: true\n", SC_EFORMAT, 2, 1, "", "only one YAML document");
  /* libyaml's reader: not UTF-8, control characters */
  expect_error("gpu: true\noutfile: caf\xe9\n", SC_EFORMAT, 2, 13, "", "invalid");
  static const char nul[] = "gpu: true\nout\0file: x\n";
  char *path = temp_file(nul, sizeof nul - 1);
  sc_options_t *o;
  cr_assert_eq(sc_options_create(&o), 0);
  sc_config_error_t e = {.size = sizeof e};
  cr_assert_eq(sc_config_load(o, path, &e), SC_EFORMAT);
  cr_assert_eq(e.line, 2);
  cr_assert(strstr(e.message, "control characters"), "%s", e.message);
  unlink(path);
  sc_options_destroy(o);
}

SC_TEST(config, files_that_cannot_be_read) {
  sc_options_t *o;
  cr_assert_eq(sc_options_create(&o), 0);
  sc_config_error_t e = {.size = sizeof e};
  cr_assert_eq(sc_config_load(o, "/nonexistent/dir/scalene.yaml", &e), SC_ENOENT);
  cr_assert(strstr(e.message, "/nonexistent/dir/scalene.yaml"), "%s", e.message);
  cr_assert(strstr(e.message, "No such file"), "%s", e.message);
  cr_assert_eq(e.line, 0);
  memset(&e, 0, sizeof e);
  e.size = sizeof e;
  cr_assert_eq(sc_config_load(o, "/tmp", &e), SC_EIO, "a directory");
  cr_assert_neq(e.message[0], '\0');
  /* larger than 1 MiB */
  size_t big = (1u << 20) + 10;
  char *text = malloc(big);
  memset(text, '#', big);
  text[big - 1] = '\n';
  char *path = temp_file(text, big);
  memset(&e, 0, sizeof e);
  e.size = sizeof e;
  cr_assert_eq(sc_config_load(o, path, &e), SC_EFORMAT);
  cr_assert(strstr(e.message, "too large"), "%s", e.message);
  unlink(path);
  free(text);
  sc_options_destroy(o);
}

SC_TEST(config, arguments_and_error_struct_sizes) {
  sc_options_t *o;
  cr_assert_eq(sc_options_create(&o), 0);
  char *path = temp_file("bogus-option-with-a-very-long-name-that-does-not-fit-in-the-key-field: 1\n", 73);
  sc_config_error_t e = {.size = sizeof e};
  cr_assert_eq(sc_config_load(NULL, path, &e), SC_EINVAL);
  cr_assert_eq(sc_config_load(o, NULL, &e), SC_EINVAL);
  e.size = 0;
  cr_assert_eq(sc_config_load(o, path, &e), SC_EINVAL, "err->size unset");
  cr_assert_eq(sc_config_load(o, path, NULL), SC_EFORMAT, "no error report wanted");
  /* a long key is cut to fit, NUL-terminated */
  e.size = sizeof e;
  cr_assert_eq(sc_config_load(o, path, &e), SC_EFORMAT);
  cr_assert_eq(strlen(e.key), sizeof e.key - 1);
  cr_assert(strncmp(e.key, "bogus-option-with", 17) == 0);
  /* an older, smaller struct: only what its size covers is written */
  size_t small = offsetof(sc_config_error_t, key);
  sc_config_error_t *s = malloc(small);
  s->size = small;
  cr_assert_eq(sc_config_load(o, path, s), SC_EFORMAT);
  cr_assert_eq(s->line, 1);
  cr_assert_eq(s->column, 1);
  cr_assert_eq(s->size, small);
  free(s);
  unlink(path);
  sc_options_destroy(o);
}

/* A file that fails half way leaves the caller's options as they were,
 * even the ones set before the bad line. */
SC_TEST(config, nothing_applied_unless_all_valid) {
  sc_options_t *o;
  cr_assert_eq(sc_options_create(&o), 0);
  cr_assert_eq(sc_options_set_string(o, SC_OPT_OUTFILE, "mine.json"), 0);
  result r = load_into(o, "outfile: theirs.json\ncpu-only: true\ncpu-sampling-rate: 99\n");
  cr_assert_eq(r.rc, SC_ERANGE);
  const char *s;
  bool b = true, set = true;
  sc_options_get_string(o, SC_OPT_OUTFILE, &s);
  cr_assert_str_eq(s, "mine.json");
  sc_options_get_bool(o, SC_OPT_CPU_ONLY, &b);
  cr_assert(!b);
  sc_options_is_set(o, SC_OPT_CPU_ONLY, &set);
  cr_assert(!set);
  sc_options_destroy(o);
}
