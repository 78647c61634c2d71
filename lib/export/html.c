/* html.c - the self-contained HTML report.
 *
 * The page itself (markup, CSS, JavaScript) is lib/export/html/report.html,
 * built into the library by tools/embed.c as sc__html_template.  It holds
 * exactly one placeholder, inside
 *     <script type="application/json" id="profile-data">...</script>
 * which is replaced here by the profile document serialised as compact
 * JSON.  The page's script parses that block with JSON.parse and renders
 * everything through textContent / DOM calls, so profile strings are never
 * interpreted as markup.
 *
 * Escaping.  The HTML tokenizer ends a script element at the first
 * "</script" whatever the JSON means, and "<!--" inside a script switches
 * it into its "escaped" states; U+2028 / U+2029 are line terminators to
 * older JavaScript parsers.  Every '<', '>' and '&' of the JSON text and
 * both separators are therefore written as \uXXXX escapes.  None of them
 * can occur in JSON outside a string (the grammar has no such tokens), and
 * inside a string the escape decodes to the same character, so the block
 * is still exactly the document, and no byte sequence of the data can end
 * or re-enter the script element.
 *
 * The document is not validated: a document missing any field still
 * renders (the page treats every field as optional). */
#include <string.h>

#include "export.h"

/* Generated from lib/export/html/report.html (tools/embed.c). */
extern const unsigned char sc__html_template[];
extern const unsigned long sc__html_template_len;

#define SC__HTML_PLACEHOLDER "@@SCALENE_PROFILE_JSON@@"

/* Copy JSON text to `out`, escaping what must not appear raw inside a
 * <script> element (see the header comment). */
static void put_script_safe(sc__buf *out, const char *s, size_t n) {
  size_t run = 0; /* start of the pending unescaped run */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    size_t skip = 1;
    if (c == '<') esc = "\\u003c";
    else if (c == '>') esc = "\\u003e";
    else if (c == '&') esc = "\\u0026";
    else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
             ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
      esc = (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
      skip = 3;
    }
    if (!esc) continue;
    sc__buf_put(out, s + run, i - run);
    sc__buf_puts(out, esc);
    i += skip - 1;
    run = i + 1;
  }
  sc__buf_put(out, s + run, n - run);
}

int sc__html_write(const sc__value *doc, sc__buf *out) {
  if (!doc || !out) return SC_EINVAL;
  const char *tpl = (const char *)sc__html_template;
  size_t tlen = (size_t)sc__html_template_len;
  const size_t plen = sizeof SC__HTML_PLACEHOLDER - 1;
  const char *at = NULL;
  for (size_t i = 0; i + plen <= tlen; i++) {
    if (tpl[i] == '@' && memcmp(tpl + i, SC__HTML_PLACEHOLDER, plen) == 0) {
      at = tpl + i;
      break;
    }
  }
  if (!at) return SC_EFORMAT; /* a template without its placeholder: a build error */

  sc__buf json;
  sc__buf_init(&json);
  int rc = sc__json_write(doc, &json, -1);
  if (rc < 0) {
    sc__buf_free(&json);
    return rc;
  }
  size_t jlen = json.len;
  while (jlen && json.data[jlen - 1] == '\n') jlen--; /* sc__json_write ends with one */

  size_t head = (size_t)(at - tpl);
  /* Escapes grow the text by at most 5 bytes per input byte; reserve the
   * common case (few escapes) up front. */
  sc__buf_reserve(out, tlen + jlen + jlen / 8);
  sc__buf_put(out, tpl, head);
  put_script_safe(out, json.data, jlen);
  sc__buf_put(out, at + plen, tlen - head - plen);
  sc__buf_free(&json);
  return out->failed ? SC_ENOMEM : 0;
}
