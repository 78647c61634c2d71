/* test-value-json.c - the internal document model and its JSON writer:
 * escaping, invalid UTF-8, number round trips, layout.  Internal sc__
 * functions are hidden in the shared library but linkable from the
 * static archive. */
#include <float.h>
#include <math.h>

#include "../../lib/common/value.h"
#include "sc-test.h"

TestSuite(value_json, .timeout = 20);

/* Serialise `v` (taking ownership) and return the text; free with free(). */
static char *to_json(sc__value *v, int indent) {
  cr_assert_not_null(v);
  sc__buf b;
  sc__buf_init(&b);
  cr_assert_eq(sc__json_write(v, &b, indent), 0);
  size_t len = 0;
  char *d = sc__buf_take(&b, &len);
  cr_assert_not_null(d);
  cr_assert_eq(strlen(d), len);
  char *copy = strdup(d);
  sc__free(d);
  sc__v_free(v);
  return copy;
}

/* JSON text of one string value, compact. */
static char *str_json(const char *s, size_t n) { return to_json(sc__v_strn(s, n), -1); }

/* Parse `text` strictly; the test fails if it is not valid JSON. */
static mj *parse_ok(const char *text) {
  const char *err = NULL;
  mj *v = mj_parse(text, strlen(text), &err);
  cr_assert_not_null(v, "not valid JSON (%s): %s", err, text);
  return v;
}

SC_TEST(value_json, escapes_quotes_backslashes_and_control_characters) {
  char *j = str_json("a\"b\\c/d", 7);
  cr_assert_str_eq(j, "\"a\\\"b\\\\c/d\"\n");
  free(j);
  j = str_json("\n\t\r\b\f", 5);
  cr_assert_str_eq(j, "\"\\n\\t\\r\\b\\f\"\n");
  free(j);
  j = str_json("\x01\x1f\x7f", 3);
  cr_assert_str_eq(j, "\"\\u0001\\u001f\x7f\"\n", "DEL needs no escape");
  free(j);
  j = str_json("a\0b", 3);
  cr_assert_str_eq(j, "\"a\\u0000b\"\n", "embedded NUL");
  free(j);

  /* Every byte 0x00..0x7f survives the round trip through a strict parser. */
  char all[128];
  for (int i = 0; i < 128; i++) all[i] = (char)i;
  j = str_json(all, sizeof all);
  for (const char *p = j; *p; p++)
    cr_assert((unsigned char)*p >= 0x20 || *p == '\n', "raw control byte 0x%02x in output", *p);
  mj *v = parse_ok(j);
  cr_assert_eq(v->type, MJ_STR);
  cr_assert_eq(v->len, sizeof all);
  cr_assert_eq(memcmp(v->str, all, sizeof all), 0);
  mj_free(v);
  free(j);
}

SC_TEST(value_json, keys_are_escaped_too) {
  sc__value *o = sc__v_object();
  cr_assert_eq(sc__v_set_int(o, "we\"ird\nkey\x01", 1), 0);
  char *j = to_json(o, -1);
  cr_assert_str_eq(j, "{\"we\\\"ird\\nkey\\u0001\":1}\n");
  mj *v = parse_ok(j);
  cr_assert_eq(mj_num(v, "we\"ird\nkey\x01"), 1);
  mj_free(v);
  free(j);
}

SC_TEST(value_json, valid_utf8_passes_through) {
  const char *ok[] = {
      "caf\xc3\xa9",           /* U+00E9 */
      "\xc2\x80",              /* U+0080, smallest 2-byte */
      "\xdf\xbf",              /* U+07FF */
      "\xe0\xa0\x80",          /* U+0800, smallest 3-byte */
      "\xe2\x82\xac",          /* U+20AC */
      "\xed\x9f\xbf",          /* U+D7FF, just below the surrogates */
      "\xee\x80\x80",          /* U+E000, just above */
      "\xef\xbf\xbf",          /* U+FFFF */
      "\xf0\x90\x80\x80",      /* U+10000, smallest 4-byte */
      "\xf0\x9f\x98\x80",      /* U+1F600 */
      "\xf4\x8f\xbf\xbf",      /* U+10FFFF, the last code point */
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    char *j = str_json(ok[i], strlen(ok[i]));
    char want[64];
    snprintf(want, sizeof want, "\"%s\"\n", ok[i]);
    cr_assert_str_eq(j, want, "case %zu copied byte for byte", i);
    mj *v = parse_ok(j);
    cr_assert_str_eq(v->str, ok[i]);
    mj_free(v);
    free(j);
  }
}

SC_TEST(value_json, invalid_utf8_becomes_replacement_characters) {
  const char *bad[] = {
      "\x80",             /* lone continuation byte */
      "\xbf\xbf",         /* two of them */
      "\xc3",             /* truncated 2-byte sequence at the end */
      "\xe2\x82",         /* truncated 3-byte */
      "\xf0\x9f\x98",     /* truncated 4-byte */
      "\xc0\xaf",         /* overlong '/' */
      "\xc1\xbf",         /* overlong */
      "\xe0\x80\xaf",     /* overlong 3-byte */
      "\xf0\x80\x80\xaf", /* overlong 4-byte */
      "\xed\xa0\x80",     /* UTF-16 surrogate D800 */
      "\xed\xbf\xbf",     /* surrogate DFFF */
      "\xf4\x90\x80\x80", /* above U+10FFFF */
      "\xf5\x80\x80\x80", /* impossible lead byte */
      "\xfe",
      "\xff",
      "\xc3\x28",         /* lead byte then ASCII */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    /* "<" bad ">": whatever policy for how many U+FFFD per bad sequence,
     * the output parses, the ASCII around it survives, and only U+FFFD
     * (and, for "\xc3\x28", the '(') stands in between. */
    char in[32];
    int n = snprintf(in, sizeof in, "<%s>", bad[i]);
    char *j = str_json(in, (size_t)n);
    cr_assert_not_null(strstr(j, "\\ufffd"), "case %zu: %s", i, j);
    for (const char *p = j; *p; p++)
      cr_assert((unsigned char)*p < 0x80, "case %zu: raw invalid byte copied to the output", i);
    mj *v = parse_ok(j);
    cr_assert_eq(v->str[0], '<');
    cr_assert_eq(v->str[v->len - 1], '>');
    size_t k = 1, repl = 0;
    while (k + 3 <= v->len - 1 && memcmp(v->str + k, "\xef\xbf\xbd", 3) == 0) k += 3, repl++;
    cr_assert_geq(repl, 1, "case %zu", i);
    if (i == sizeof bad / sizeof bad[0] - 1) {
      cr_assert_eq(v->str[k], '(', "the ASCII after a bad lead byte is kept");
      k++;
    }
    cr_assert_eq(k, v->len - 1, "case %zu: only replacement characters in between", i);
    mj_free(v);
    free(j);
  }
  /* One bad byte between good text replaces exactly that byte. */
  char *j = str_json("caf\xc3\xa9\x80" "ok", 8);
  cr_assert_str_eq(j, "\"caf\xc3\xa9\\ufffdok\"\n");
  free(j);
}

SC_TEST(value_json, integers) {
  const struct {
    int64_t v;
    const char *text;
  } cases[] = {{0, "0"}, {-1, "-1"}, {42, "42"}, {INT64_MAX, "9223372036854775807"},
               {INT64_MIN, "-9223372036854775808"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *j = to_json(sc__v_int(cases[i].v), -1);
    char want[32];
    snprintf(want, sizeof want, "%s\n", cases[i].text);
    cr_assert_str_eq(j, want);
    free(j);
  }
}

static void double_round_trip(double d) {
  char *j = to_json(sc__v_double(d), -1);
  mj *v = parse_ok(j); /* also checks the JSON number grammar */
  cr_assert_eq(v->type, MJ_NUM, "%s", j);
  double back = strtod(j, NULL);
  if (d == 0) {
    cr_assert_eq(back, 0.0, "%s", j);
  } else {
    cr_assert_eq(memcmp(&back, &d, sizeof d), 0, "%.17g written as %s reads back as %.17g", d, j,
                 back);
  }
  mj_free(v);
  free(j);
}

SC_TEST(value_json, doubles_round_trip_exactly) {
  const double cases[] = {0.1, 1.0 / 3, 2.0 / 3, 100.0 / 7, 0.30000000000000004, 3.141592653589793,
                          1e-300, 4.9406564584124654e-324, DBL_MIN, DBL_MAX, -DBL_MAX, -2.5,
                          123456789.123456789, 1e21, 1e22, 9007199254740993.0, 5e-5, -1e-7,
                          1234567890123456789.0, 50, 0.5, 1, -0.0, 0.0};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) double_round_trip(cases[i]);
  /* and many arbitrary finite bit patterns */
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double d;
    memcpy(&d, &x, sizeof d);
    if (isfinite(d)) double_round_trip(d);
  }
}

SC_TEST(value_json, non_finite_doubles_are_null) {
  const double cases[] = {NAN, INFINITY, -INFINITY};
  for (size_t i = 0; i < 3; i++) {
    char *j = to_json(sc__v_double(cases[i]), -1);
    cr_assert_str_eq(j, "null\n");
    free(j);
  }
}

static sc__value *sample_doc(void) {
  sc__value *o = sc__v_object(), *a = sc__v_array();
  cr_assert_eq(sc__v_push(a, sc__v_int(1)), 0);
  cr_assert_eq(sc__v_push(a, sc__v_double(2.5)), 0);
  cr_assert_eq(sc__v_push(a, sc__v_str("x")), 0);
  cr_assert_eq(sc__v_set(o, "a", a), 0);
  cr_assert_eq(sc__v_set(o, "b", sc__v_object()), 0);
  cr_assert_eq(sc__v_set(o, "c", sc__v_array()), 0);
  cr_assert_eq(sc__v_set(o, "d", sc__v_null()), 0);
  cr_assert_eq(sc__v_set_bool(o, "e", true), 0);
  cr_assert_eq(sc__v_set_bool(o, "f", false), 0);
  return o;
}

SC_TEST(value_json, layout) {
  char *j = to_json(sample_doc(), -1);
  cr_assert_str_eq(j, "{\"a\":[1,2.5,\"x\"],\"b\":{},\"c\":[],\"d\":null,\"e\":true,\"f\":false}\n");
  free(j);
  j = to_json(sample_doc(), 2);
  cr_assert_str_eq(j,
                   "{\n"
                   "  \"a\": [\n"
                   "    1,\n"
                   "    2.5,\n"
                   "    \"x\"\n"
                   "  ],\n"
                   "  \"b\": {},\n"
                   "  \"c\": [],\n"
                   "  \"d\": null,\n"
                   "  \"e\": true,\n"
                   "  \"f\": false\n"
                   "}\n");
  mj *v = parse_ok(j);
  cr_assert_eq(v->n, 6);
  mj_free(v);
  free(j);
}

SC_TEST(value_json, object_keys_keep_order_and_replace_in_place) {
  sc__value *o = sc__v_object();
  cr_assert_eq(sc__v_set_int(o, "z", 1), 0);
  cr_assert_eq(sc__v_set_int(o, "a", 2), 0);
  cr_assert_eq(sc__v_set_str(o, "m", "three"), 0);
  cr_assert_eq(sc__v_set_double(o, "z", 4.5), 0, "replacing keeps the position");
  cr_assert_eq(sc__v_len(o), 3);
  cr_assert_eq(sc__v_get(o, "z")->type, SC__V_DOUBLE);
  cr_assert_null(sc__v_get(o, "nope"));
  cr_assert_null(sc__v_get(sc__v_get(o, "a"), "x"), "lookup in a non-object");
  char *j = to_json(o, -1);
  cr_assert_str_eq(j, "{\"z\":4.5,\"a\":2,\"m\":\"three\"}\n");
  free(j);
}

SC_TEST(value_json, containers_take_ownership_even_on_failure) {
  /* Each failing call must free the item it was handed: the leak check
   * of the sanitizer build catches it otherwise. */
  sc__value *arr = sc__v_array(), *obj = sc__v_object(), *num = sc__v_int(1);
  cr_assert_eq(sc__v_push(obj, sc__v_str("not an array")), SC_EINVAL);
  cr_assert_eq(sc__v_push(num, sc__v_str("not an array")), SC_EINVAL);
  cr_assert_eq(sc__v_push(NULL, sc__v_str("no container")), SC_EINVAL);
  cr_assert_eq(sc__v_set(arr, "k", sc__v_str("not an object")), SC_EINVAL);
  cr_assert_eq(sc__v_set(obj, NULL, sc__v_str("no key")), SC_EINVAL);
  cr_assert_eq(sc__v_push(arr, NULL), SC_ENOMEM, "a failed constructor propagates");
  cr_assert_eq(sc__v_set(obj, "k", NULL), SC_ENOMEM);
  cr_assert_eq(sc__v_len(arr), 0);
  cr_assert_eq(sc__v_len(obj), 0);
  sc__v_free(arr);
  sc__v_free(obj);
  sc__v_free(num);
  sc__v_free(NULL);
  sc__buf b;
  sc__buf_init(&b);
  cr_assert_eq(sc__json_write(NULL, &b, 2), SC_EINVAL);
  sc__buf_free(&b);
}

SC_TEST(value_json, large_documents) {
  /* Growth of arrays and buffers; deep nesting. */
  sc__value *arr = sc__v_array();
  for (int i = 0; i < 10000; i++) cr_assert_eq(sc__v_push(arr, sc__v_int(i)), 0);
  char *big = malloc(1 << 20);
  for (int i = 0; i < (1 << 20); i++) big[i] = (char)(i % 31 == 0 ? '\n' : 'a' + i % 26);
  cr_assert_eq(sc__v_push(arr, sc__v_strn(big, 1 << 20)), 0);
  sc__value *deep = sc__v_array(), *cur = deep;
  for (int i = 0; i < 150; i++) {
    sc__value *next = sc__v_array();
    cr_assert_eq(sc__v_push(cur, next), 0);
    cur = next;
  }
  cr_assert_eq(sc__v_push(arr, deep), 0);
  char *j = to_json(arr, 1);
  mj *v = parse_ok(j);
  cr_assert_eq(v->n, 10002);
  cr_assert_eq(v->items[9999]->num, 9999);
  cr_assert_eq(v->items[10000]->len, (size_t)(1 << 20));
  cr_assert_eq(memcmp(v->items[10000]->str, big, 1 << 20), 0);
  mj_free(v);
  free(j);
  free(big);
}

SC_TEST(value_json, buffer_helpers) {
  sc__buf b;
  sc__buf_init(&b);
  size_t len = 99;
  char *d = sc__buf_take(&b, &len);
  cr_assert_not_null(d, "an empty buffer yields an empty string");
  cr_assert_str_eq(d, "");
  cr_assert_eq(len, 0);
  sc__free(d);

  /* sc__buf_printf: short output, then longer than its 128-byte stack copy */
  char longs[600];
  memset(longs, 'q', sizeof longs - 1);
  longs[sizeof longs - 1] = '\0';
  sc__buf_printf(&b, "[%d]", 7);
  sc__buf_printf(&b, "%s|%s", longs, "end");
  sc__buf_putc(&b, '!');
  d = sc__buf_take(&b, &len);
  cr_assert_eq(len, 3 + 599 + 4 + 1);
  cr_assert_eq(strncmp(d, "[7]qqq", 6), 0);
  cr_assert_str_eq(d + 3 + 599, "|end!");
  sc__free(d);
  cr_assert_null(b.data, "take detaches the storage");
}

/* The arena behind loaded documents: aligned, every size (large ones in
 * blocks of their own), writable up to the size asked for, all given back
 * by sc__arena_free (the sanitizer build checks the leaks and bounds). */
SC_TEST(value_json, arena) {
  sc__arena a;
  sc__arena_init(&a);
  char *prev = NULL;
  for (size_t i = 0; i < 5000; i++) {
    size_t n = i % 97 == 0 ? (size_t)1 << (10 + i % 13) : i % 41;
    char *p = sc__arena_alloc(&a, n);
    cr_assert_not_null(p);
    cr_assert_eq((uintptr_t)p % 8, 0);
    memset(p, 0xAB, n);
    cr_assert_neq(p, prev);
    prev = p;
  }
  char *s = sc__arena_strndup(&a, "hello, world", 5);
  cr_assert_str_eq(s, "hello");
  sc__arena_free(&a);
  cr_assert_null(a.blocks);
  cr_assert_not_null(sc__arena_alloc(&a, 1), "usable again after sc__arena_free");
  sc__arena_free(&a);
}

/* An arena document: shared nodes are made once, the root owns the arena,
 * an abandoned document frees everything. */
SC_TEST(value_json, arena_documents) {
  sc__vdoc *d = sc__vdoc_create();
  cr_assert_not_null(d);
  sc__value *arr = sc__vdoc_node(d, SC__V_ARRAY);
  sc__value **items = sc__arena_alloc(&d->arena, 6 * sizeof *items);
  items[0] = sc__vdoc_int(d, 7);
  items[1] = sc__vdoc_int(d, 7);
  items[2] = sc__vdoc_int(d, 1 << 20);
  items[3] = sc__vdoc_empty(d, SC__V_STRING);
  items[4] = sc__vdoc_bool(d, true);
  items[5] = sc__vdoc_empty(d, SC__V_OBJECT);
  cr_assert_eq(items[0], items[1]);
  cr_assert_eq(items[2]->u.i, 1 << 20);
  cr_assert_eq(items[4], sc__vdoc_bool(d, true));
  cr_assert_neq(items[4], sc__vdoc_bool(d, false));
  arr->u.c.items = items;
  arr->u.c.keys = NULL;
  arr->u.c.len = arr->u.c.cap = 6;
  sc__value *doc = sc__vdoc_finish(d, arr);
  cr_assert_eq(doc->flags, SC__VF_ARENA | SC__VF_ROOT);
  cr_assert_eq(sc__v_len(doc), 6);
  char *j = to_json(doc, -1); /* frees doc */
  cr_assert_str_eq(j, "[7,7,1048576,\"\",true,{}]\n");
  free(j);
  d = sc__vdoc_create();
  cr_assert_not_null(sc__vdoc_null(d));
  sc__vdoc_abandon(d);
  sc__vdoc_abandon(NULL);
}

/* Large buffers (internal.h): any size, writable throughout, freed with
 * the size they were asked for. */
SC_TEST(value_json, large_buffers) {
  static const size_t sizes[] = {1, 4096, SC__PAGES_MIN - 1, SC__PAGES_MIN, SC__PAGES_MIN + 1,
                                 3 * SC__PAGES_MIN + 12345};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char *p = sc__pages_alloc(sizes[i]);
    cr_assert_not_null(p);
    memset(p, 0x5A, sizes[i]);
    cr_assert_eq(p[sizes[i] - 1], 0x5A);
    sc__pages_free(p, sizes[i]);
  }
  sc__pages_free(NULL, 1);
}
