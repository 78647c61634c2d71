/* test-html.c - the HTML report writer (lib/export/html.c): the profile is
 * embedded as JSON inside <script type="application/json"
 * id="profile-data"> with every '<', '>', '&', U+2028 and U+2029 escaped,
 * so no profile string can end the script element or open markup; the
 * template's placeholder is replaced; odd documents never fail.  The
 * browser side (rendering as text, no alert) is tests/browser/. */
#include <math.h>
#include <strings.h>

#include "../../lib/export/export.h"
#include "sc-test.h"

TestSuite(html, .timeout = 20);

#define DATA_OPEN "<script type=\"application/json\" id=\"profile-data\">"

typedef struct page {
  char *html; /* NUL-terminated copy, free() */
  size_t len;
  const char *data; /* the embedded JSON, inside html */
  size_t data_len;
} page;

static void page_from(page *pg, const char *buf, size_t len) {
  pg->html = malloc(len + 1);
  cr_assert_not_null(pg->html);
  memcpy(pg->html, buf, len);
  pg->html[len] = '\0';
  pg->len = len;
  cr_assert_eq(strlen(pg->html), len, "NUL byte inside the report");
  const char *open = strstr(pg->html, DATA_OPEN);
  cr_assert_not_null(open, "no profile-data script element");
  cr_assert_null(strstr(open + 1, DATA_OPEN), "two profile-data elements");
  pg->data = open + strlen(DATA_OPEN);
  const char *close = strstr(pg->data, "</script>");
  cr_assert_not_null(close);
  pg->data_len = (size_t)(close - pg->data);
}

/* Render `doc` (taking ownership) with sc__html_write. */
static void render(sc__value *doc, page *pg) {
  cr_assert_not_null(doc);
  sc__buf b;
  sc__buf_init(&b);
  cr_assert_eq(sc__html_write(doc, &b), 0);
  page_from(pg, b.data, b.len);
  sc__buf_free(&b);
  sc__v_free(doc);
}

static size_t count_ci(const char *hay, const char *needle) {
  size_t n = 0, k = strlen(needle);
  for (const char *p = hay; *p; p++)
    if (strncasecmp(p, needle, k) == 0) n++;
  return n;
}

/* The embedded block: none of the characters that could end the script
 * element, start a comment, or (U+2028/9) break older parsers; and it is
 * exactly one valid JSON value. */
static mj *check_block(const page *pg) {
  for (size_t i = 0; i < pg->data_len; i++) {
    unsigned char c = (unsigned char)pg->data[i];
    cr_assert(c != '<' && c != '>' && c != '&', "raw '%c' at offset %zu of the embedded JSON", c, i);
    if (c == 0xE2 && i + 2 < pg->data_len && (unsigned char)pg->data[i + 1] == 0x80)
      cr_assert((unsigned char)pg->data[i + 2] != 0xA8 && (unsigned char)pg->data[i + 2] != 0xA9,
                "raw U+2028/U+2029 in the embedded JSON");
  }
  const char *err = NULL;
  mj *v = mj_parse(pg->data, pg->data_len, &err);
  cr_assert_not_null(v, "embedded JSON does not parse: %s", err);
  /* the template has exactly two script elements; data never adds one */
  cr_assert_eq(count_ci(pg->html, "<script"), 2);
  cr_assert_eq(count_ci(pg->html, "</script"), 2);
  cr_assert_null(strstr(pg->html, "@@SCALENE_PROFILE_JSON@@"), "placeholder left in the report");
  return v;
}

static const char *const NASTY[] = {
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</SCRIPT ><!--<script>",
    "a&amp;b &lt;c&gt; &#60;",
    "line\xE2\x80\xA8sep\xE2\x80\xA9para",
    "<<>>&&",
    ">",
    "ends with <",
};

SC_TEST(html, profile_strings_are_escaped_in_the_embedded_json) {
  sc__value *doc = sc__v_object(), *files = sc__v_object(), *f = sc__v_object(), *lines = sc__v_array();
  size_t n = sizeof NASTY / sizeof NASTY[0];
  for (size_t i = 0; i < n; i++) {
    sc__value *l = sc__v_object();
    sc__v_set_str(l, "line", NASTY[i]);
    sc__v_set_int(l, "lineno", (int64_t)i + 1);
    sc__v_push(lines, l);
  }
  sc__v_set(f, "lines", lines);
  sc__v_set(files, "/tmp/</script><script>alert(1)</script>.py", f);
  sc__v_set(doc, "files", files);
  sc__v_set_str(doc, "program", "<script>alert('program')</script>");
  sc__v_set_str(doc, "<key>&", "value");
  page pg;
  render(doc, &pg);
  mj *v = check_block(&pg);
  /* escaped, not altered: the strings decode to what went in */
  cr_assert_str_eq(mj_str(v, "program"), "<script>alert('program')</script>");
  cr_assert_str_eq(mj_str(v, "<key>&"), "value");
  const mj *file = prof_file(v, "/tmp/</script><script>alert(1)</script>.py");
  cr_assert_not_null(file);
  const mj *ls = mj_get(file, "lines");
  for (size_t i = 0; i < n; i++) cr_assert_str_eq(mj_str(mj_at(ls, i), "line"), NASTY[i]);
  /* and the escapes are the \u forms */
  cr_assert_not_null(strstr(pg.data, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
  cr_assert_not_null(strstr(pg.data, "\\u0026amp;"));
  cr_assert_not_null(strstr(pg.data, "line\\u2028sep\\u2029para"));
  mj_free(v);
  free(pg.html);
}

SC_TEST(html, every_ascii_character_and_invalid_utf8) {
  char all[256];
  for (int i = 0; i < 255; i++) all[i] = (char)(i + 1);
  all[255] = '\0';
  sc__value *doc = sc__v_object();
  sc__v_set(doc, "files", sc__v_object());
  sc__v_set(doc, "all", sc__v_strn(all, 255));
  sc__v_set(doc, "cut", sc__v_strn("x\xE2\x80", 3)); /* a truncated U+2028 */
  sc__v_set(doc, "bad", sc__v_strn("\xFF<\xC0>", 4));
  page pg;
  render(doc, &pg);
  mj *v = check_block(&pg);
  const mj *a = mj_get(v, "all");
  cr_assert(a && a->type == MJ_STR);
  /* ASCII comes back byte for byte; invalid UTF-8 became U+FFFD */
  cr_assert_eq(memcmp(a->str, all, 127), 0);
  cr_assert_str_eq(mj_str(v, "cut"), "x\xEF\xBF\xBD\xEF\xBF\xBD");
  cr_assert_str_eq(mj_str(v, "bad"), "\xEF\xBF\xBD<\xEF\xBF\xBD>");
  mj_free(v);
  free(pg.html);
}

SC_TEST(html, template_is_filled_whole) {
  sc__value *doc = sc__v_object();
  sc__v_set(doc, "files", sc__v_object());
  sc__v_set_str(doc, "marker", "profile-marker-1234");
  page pg;
  render(doc, &pg);
  mj *v = check_block(&pg);
  cr_assert_str_eq(mj_str(v, "marker"), "profile-marker-1234");
  cr_assert_eq(strncasecmp(pg.html, "<!doctype html>", 15), 0);
  cr_assert(pg.len > 20 && strcmp(pg.html + pg.len - 8, "</html>\n") == 0, "report does not end with </html>");
  /* compact JSON: one line, no trailing newline before </script> */
  cr_assert_null(memchr(pg.data, '\n', pg.data_len));
  /* self-contained: nothing to fetch */
  cr_assert_null(strstr(pg.html, "<link"));
  cr_assert_null(strstr(pg.html, " src="));
  cr_assert_null(strstr(pg.html, "@import"));
  mj_free(v);
  free(pg.html);
}

SC_TEST(html, odd_documents_render) {
  sc__value *odd[8];
  odd[0] = sc__v_object();
  odd[1] = sc__v_array();
  odd[2] = sc__v_str("</script>");
  odd[3] = sc__v_null();
  odd[4] = sc__v_double(INFINITY);
  odd[5] = sc__v_bool(true);
  odd[6] = sc__v_object(); /* files of the wrong type */
  sc__v_set_str(odd[6], "files", "not an object");
  odd[7] = sc__v_array(); /* deep nesting */
  sc__value *cur = odd[7];
  for (int i = 0; i < 200; i++) {
    sc__value *next = sc__v_array();
    sc__v_push(cur, next);
    cur = next;
  }
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    page pg;
    render(odd[i], &pg);
    for (size_t k = 0; k < pg.data_len; k++) cr_assert(pg.data[k] != '<' && pg.data[k] != '>');
    free(pg.html);
  }
  sc__buf b;
  sc__buf_init(&b);
  cr_assert_eq(sc__html_write(NULL, &b), SC_EINVAL);
  sc__value *o = sc__v_object();
  cr_assert_eq(sc__html_write(o, NULL), SC_EINVAL);
  sc__v_free(o);
  sc__buf_free(&b);
}

SC_TEST(html, through_the_public_api) {
  static const char json[] =
      "{\"program\":\"p</script>\",\"files\":{\"a.py\":{\"percent_cpu_time\":50,"
      "\"lines\":[{\"line\":\"x = '</script><script>alert(1)</script>'\\n\",\"lineno\":1,"
      "\"n_cpu_percent_python\":50}],\"functions\":[],\"leaks\":{}}}}";
  sc_profile_t *p = NULL;
  cr_assert_eq(sc_profile_load_buffer(json, sizeof json - 1, &p), 0);
  char *buf = NULL;
  size_t len = 0;
  cr_assert_eq(sc_profile_export_buffer(p, SC_FORMAT_HTML, &buf, &len), 0);
  page pg;
  page_from(&pg, buf, len);
  sc_buffer_free(buf);
  mj *v = check_block(&pg);
  const mj *l = mj_at(mj_get(prof_file(v, "a.py"), "lines"), 0);
  cr_assert_str_eq(mj_str(l, "line"), "x = '</script><script>alert(1)</script>'\n");
  mj_free(v);
  free(pg.html);

  char path[] = "/tmp/sc-html-XXXXXX.html";
  int fd = mkstemps(path, 5);
  cr_assert_geq(fd, 0);
  close(fd);
  cr_assert_eq(sc_format_from_path(path), SC_FORMAT_HTML);
  cr_assert_eq(sc_profile_export(p, SC_FORMAT_HTML, path), 0);
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f);
  char head[16] = {0};
  cr_assert_eq(fread(head, 1, 15, f), 15u);
  fclose(f);
  unlink(path);
  cr_assert_eq(strncasecmp(head, "<!doctype html>", 15), 0);
  sc_profile_free(p);
}
