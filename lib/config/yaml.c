/* yaml.c - configuration files: a YAML mapping of option names to values,
 * read with libyaml's event parser and applied through the option table
 * (options.c), so a file accepts exactly what the command line does.
 *
 *   # scalene.yaml
 *   outfile: profile.json
 *   cpu-only: true
 *   cpu-sampling-rate: 0.005
 *   profile-only: "mylib,tests"
 *
 * Keys are option names as sc_option_find spells them ('_' for '-' and
 * any case accepted).  Values are single scalars, parsed as
 * sc_options_parse parses command-line text (quoted or not: "0.5" is a
 * number for a number option).  Rejected, with the position and a one-line
 * message in sc_config_error_t:
 *   - a syntax error or text that is not UTF-8 (libyaml's own message);
 *   - a document that is not a mapping, or more than one document;
 *   - a key that is not an option ("unknown option") or is set twice;
 *   - a value that is empty or null, a list, a mapping or an alias;
 *   - a value of the wrong type ('expected a number, not "fast"') or out
 *     of range ("value 5000 out of range [0, 100]").
 * The whole file is parsed first, so a syntax error anywhere is reported
 * before any error about the content; content errors come in file order.
 * An empty file (only comments, or a null document) sets nothing.
 *
 * Options are applied to a copy of `opts` as they are read; `opts` itself
 * changes only once the whole file has proved valid. */
#include "yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "options.h"

typedef struct setting {
  sc_option_t id;
  char *text;
} setting;

/* One "key: value" of the top-level mapping, as read in the first pass. */
typedef struct pair {
  yaml_event_type_t ktype, vtype; /* SCALAR, SEQUENCE_START, ALIAS... */
  char *key, *val;                /* scalars only: copies */
  size_t klen, vlen;
  yaml_mark_t kmark, vmark;
  int vnull; /* the value is a plain null: empty, ~, null */
} pair;

typedef struct loader {
  const char *data;
  size_t len;
  yaml_parser_t parser;
  /* first pass: the file's shape */
  pair *pairs;
  size_t npairs, cappairs;
  yaml_event_type_t root; /* 0: no document */
  int root_null;
  yaml_mark_t root_mark, second_doc_mark;
  int ndocs;
  /* second pass: the options */
  sc_options_t *tmp;
  setting *set;
  size_t nset, capset;
  int first_line[SC__OPT_END]; /* where each option was set, 0 = not yet */
  sc_config_error_t e;
} loader;

static int fail_at(loader *l, int rc, const yaml_mark_t *mark, const char *key, const char *fmt,
                   ...) __attribute__((format(printf, 5, 6)));

static int fail_at(loader *l, int rc, const yaml_mark_t *mark, const char *key, const char *fmt,
                   ...) {
  if (mark) {
    l->e.line = (int)(mark->line + 1);
    l->e.column = (int)(mark->column + 1);
  }
  if (key) snprintf(l->e.key, sizeof l->e.key, "%s", key);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(l->e.message, sizeof l->e.message, fmt, ap);
  va_end(ap);
  /* one line: no control characters from the input or libyaml */
  for (char *p = l->e.message; *p; p++)
    if ((unsigned char)*p < 0x20) *p = ' ';
  for (char *p = l->e.key; *p; p++)
    if ((unsigned char)*p < 0x20) *p = ' ';
  return rc;
}

/* libyaml's error, with the best position it offers. */
static int syntax_error(loader *l) {
  yaml_parser_t *p = &l->parser;
  if (p->error == YAML_MEMORY_ERROR) return fail_at(l, SC_ENOMEM, NULL, NULL, "out of memory");
  const char *problem = p->problem ? p->problem : "invalid YAML";
  if (p->error == YAML_READER_ERROR) {
    /* reader errors carry a byte offset rather than a mark */
    yaml_mark_t m = {0, 0, 0};
    for (size_t i = 0; i < p->problem_offset && i < l->len; i++) {
      if (l->data[i] == '\n') {
        m.line++;
        m.column = 0;
      } else if (((unsigned char)l->data[i] & 0xC0) != 0x80) {
        m.column++;
      }
    }
    return fail_at(l, SC_EFORMAT, &m, NULL, "invalid character: %s (byte %zu)", problem,
                   p->problem_offset);
  }
  if (p->context)
    return fail_at(l, SC_EFORMAT, &p->problem_mark, NULL, "%s %s", p->context, problem);
  return fail_at(l, SC_EFORMAT, &p->problem_mark, NULL, "%s", problem);
}

static int next(loader *l, yaml_event_t *ev) {
  if (!yaml_parser_parse(&l->parser, ev)) return syntax_error(l);
  return 0;
}

static int is_null(const yaml_event_t *ev) {
  if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
  const char *v = (const char *)ev->data.scalar.value;
  return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
         strcmp(v, "NULL") == 0;
}

/* Consume the rest of a node whose first event was `first`. */
static int skip_node(loader *l, yaml_event_type_t first) {
  if (first != YAML_SEQUENCE_START_EVENT && first != YAML_MAPPING_START_EVENT) return 0;
  for (size_t depth = 1; depth;) {
    yaml_event_t ev;
    SC_FORWARD_IF_ERROR(next(l, &ev));
    if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) depth++;
    if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) depth--;
    yaml_event_delete(&ev);
  }
  return 0;
}

static char *scalar_copy(const yaml_event_t *ev, size_t *len) {
  *len = ev->data.scalar.length;
  return sc__strndup((const char *)ev->data.scalar.value, *len);
}

/* The entries of the top-level mapping, after its MAPPING_START. */
static int read_pairs(loader *l) {
  for (;;) {
    yaml_event_t ev;
    SC_FORWARD_IF_ERROR(next(l, &ev));
    if (ev.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&ev);
      return 0;
    }
    if (SC__GROW(l->pairs, l->cappairs, l->npairs, 16) < 0) {
      yaml_event_delete(&ev);
      return fail_at(l, SC_ENOMEM, NULL, NULL, "out of memory");
    }
    pair *pr = &l->pairs[l->npairs++];
    memset(pr, 0, sizeof *pr);
    pr->ktype = ev.type;
    pr->kmark = ev.start_mark;
    int rc = 0;
    if (ev.type == YAML_SCALAR_EVENT && !(pr->key = scalar_copy(&ev, &pr->klen)))
      rc = fail_at(l, SC_ENOMEM, NULL, NULL, "out of memory");
    yaml_event_type_t kt = ev.type;
    yaml_event_delete(&ev);
    SC_FORWARD_IF_ERROR(rc);
    SC_FORWARD_IF_ERROR(skip_node(l, kt));
    SC_FORWARD_IF_ERROR(next(l, &ev));
    pr->vtype = ev.type;
    pr->vmark = ev.start_mark;
    pr->vnull = is_null(&ev);
    if (ev.type == YAML_SCALAR_EVENT && !(pr->val = scalar_copy(&ev, &pr->vlen)))
      rc = fail_at(l, SC_ENOMEM, NULL, NULL, "out of memory");
    yaml_event_type_t vt = ev.type;
    yaml_event_delete(&ev);
    SC_FORWARD_IF_ERROR(rc);
    SC_FORWARD_IF_ERROR(skip_node(l, vt));
  }
}

/* First pass: the whole stream, so that a syntax error anywhere is
 * reported before anything about the content. */
static int read_stream(loader *l) {
  yaml_event_t ev;
  SC_FORWARD_IF_ERROR(next(l, &ev)); /* STREAM_START */
  yaml_event_delete(&ev);
  for (;;) {
    SC_FORWARD_IF_ERROR(next(l, &ev));
    yaml_event_type_t t = ev.type;
    yaml_mark_t mark = ev.start_mark;
    yaml_event_delete(&ev);
    if (t == YAML_STREAM_END_EVENT) return 0;
    /* DOCUMENT_START */
    if (++l->ndocs == 2) l->second_doc_mark = mark;
    SC_FORWARD_IF_ERROR(next(l, &ev)); /* the root node */
    t = ev.type;
    if (l->ndocs == 1) {
      l->root = t;
      l->root_mark = ev.start_mark;
      l->root_null = is_null(&ev);
    }
    yaml_event_delete(&ev);
    if (l->ndocs == 1 && t == YAML_MAPPING_START_EVENT) SC_FORWARD_IF_ERROR(read_pairs(l));
    else SC_FORWARD_IF_ERROR(skip_node(l, t));
    SC_FORWARD_IF_ERROR(next(l, &ev)); /* DOCUMENT_END */
    yaml_event_delete(&ev);
  }
}

static const char *type_message(sc_option_type_t t) {
  switch (t) {
    case SC_OPTTYPE_BOOL: return "expected true or false";
    case SC_OPTTYPE_INT: return "expected an integer";
    case SC_OPTTYPE_DOUBLE: return "expected a number";
    default: return "expected a string";
  }
}

static const char *node_name(yaml_event_type_t t) {
  switch (t) {
    case YAML_SEQUENCE_START_EVENT: return "a list";
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_ALIAS_EVENT: return "an alias";
    default: return "not a scalar";
  }
}

/* Second pass, one "key: value" pair. */
static int apply(loader *l, const pair *pr) {
  if (pr->ktype != YAML_SCALAR_EVENT)
    return fail_at(l, SC_EFORMAT, &pr->kmark, NULL, "expected an option name, not %s",
                   node_name(pr->ktype));
  const char *key = pr->key;
  sc_option_t id;
  if (memchr(key, '\0', pr->klen) || sc_option_find(key, &id) < 0)
    return fail_at(l, SC_EFORMAT, &pr->kmark, key, "unknown option");
  sc_option_info_t info;
  memset(&info, 0, sizeof info);
  info.size = sizeof info;
  sc_option_info(id, &info);
  if (l->first_line[id])
    return fail_at(l, SC_EFORMAT, &pr->kmark, key,
                   "duplicate option: \"%s\" is already set on line %d", info.name,
                   l->first_line[id]);
  l->first_line[id] = (int)pr->kmark.line + 1;
  if (pr->vtype != YAML_SCALAR_EVENT)
    return fail_at(l, SC_EFORMAT, &pr->vmark, key, "expected a single value, not %s",
                   node_name(pr->vtype));
  const char *text = pr->val;
  if (pr->vnull) return fail_at(l, SC_EFORMAT, &pr->vmark, key, "missing value");
  int rc = memchr(text, '\0', pr->vlen) ? SC_EFORMAT : sc_options_parse(l->tmp, id, text);
  if (rc == SC_ERANGE)
    return fail_at(l, rc, &pr->vmark, key, "value %.40s out of range [%g, %g]", text,
                   info.min_value, info.max_value);
  if (rc == SC_ENOMEM) return fail_at(l, rc, NULL, key, "out of memory");
  if (rc < 0)
    return fail_at(l, SC_EFORMAT, &pr->vmark, key, "%s, not \"%.40s\"", type_message(info.type),
                   text);
  if (SC__GROW(l->set, l->capset, l->nset, 16) < 0)
    return fail_at(l, SC_ENOMEM, NULL, key, "out of memory");
  char *copy = sc__strdup(text);
  if (!copy) return fail_at(l, SC_ENOMEM, NULL, key, "out of memory");
  l->set[l->nset].id = id;
  l->set[l->nset++].text = copy;
  return 0;
}

static int document(loader *l) {
  SC_FORWARD_IF_ERROR(read_stream(l));
  if (l->ndocs == 0) return 0; /* empty, or only comments */
  if (l->root != YAML_MAPPING_START_EVENT && !l->root_null)
    return fail_at(l, SC_EFORMAT, &l->root_mark, NULL,
                   "expected a mapping of option names to values");
  for (size_t i = 0; i < l->npairs; i++) SC_FORWARD_IF_ERROR(apply(l, &l->pairs[i]));
  if (l->ndocs > 1)
    return fail_at(l, SC_EFORMAT, &l->second_doc_mark, NULL, "only one YAML document is allowed");
  return 0;
}

static int check_err(const sc_config_error_t *err) {
  return !err || err->size >= sizeof(size_t);
}

static void report(sc_config_error_t *err, const sc_config_error_t *e) {
  if (!err) return;
  size_t size = err->size, n = size < sizeof *e ? size : sizeof *e;
  memcpy(err, e, n);
  err->size = size;
}

int sc__config_load_buffer(sc_options_t *opts, const char *data, size_t len,
                           sc_config_error_t *err) {
  if (!opts || (!data && len) || !check_err(err)) return SC_EINVAL;
  loader *l = sc__calloc(1, sizeof *l);
  if (!l) return SC_ENOMEM;
  l->data = data;
  l->len = len;
  int rc;
  if (len > SC__CONFIG_MAX_BYTES) {
    rc = fail_at(l, SC_EFORMAT, NULL, NULL, "file too large (more than %zu bytes)",
                 SC__CONFIG_MAX_BYTES);
  } else if ((rc = sc__options_copy(opts, &l->tmp)) < 0) {
    fail_at(l, rc, NULL, NULL, "out of memory");
  } else if (!yaml_parser_initialize(&l->parser)) {
    rc = fail_at(l, SC_ENOMEM, NULL, NULL, "out of memory");
  } else {
    yaml_parser_set_input_string(&l->parser, (const unsigned char *)(data ? data : ""), len);
    rc = document(l);
    yaml_parser_delete(&l->parser);
  }
  /* valid: apply to the caller's set (only allocation can fail now) */
  for (size_t i = 0; rc == 0 && i < l->nset; i++) {
    rc = sc_options_parse(opts, l->set[i].id, l->set[i].text);
    if (rc < 0) fail_at(l, rc, NULL, NULL, "out of memory");
  }
  for (size_t i = 0; i < l->nset; i++) sc__free(l->set[i].text);
  sc__free(l->set);
  for (size_t i = 0; i < l->npairs; i++) {
    sc__free(l->pairs[i].key);
    sc__free(l->pairs[i].val);
  }
  sc__free(l->pairs);
  sc_options_destroy(l->tmp);
  report(err, &l->e);
  sc__free(l);
  return rc;
}

/* Read the file, at most SC__CONFIG_MAX_BYTES, with a message for each
 * way it can fail. */
static int read_config(const char *path, char **data, size_t *len, sc_config_error_t *e) {
  char why[128];
  int rc = sc__read_file_max(path, SC__CONFIG_MAX_BYTES, data, len);
  if (rc == SC_ENOENT || rc == SC_EIO) {
    int en = errno;
    snprintf(e->message, sizeof e->message, "cannot read %s: %s", path,
             strerror_r(en, why, sizeof why));
  } else if (rc == SC_ERANGE) {
    snprintf(e->message, sizeof e->message, "%s: file too large (more than %zu bytes)", path,
             (size_t)SC__CONFIG_MAX_BYTES);
    rc = SC_EFORMAT;
  } else if (rc < 0) {
    snprintf(e->message, sizeof e->message, "out of memory");
  }
  return rc;
}

SC_API int sc_config_load(sc_options_t *opts, const char *path, sc_config_error_t *err) {
  if (!opts || !path || !check_err(err)) return SC_EINVAL;
  sc_config_error_t e;
  memset(&e, 0, sizeof e);
  char *data = NULL;
  size_t len = 0;
  int rc = read_config(path, &data, &len, &e);
  if (rc < 0) {
    for (char *p = e.message; *p; p++)
      if ((unsigned char)*p < 0x20) *p = ' ';
    report(err, &e);
    return rc;
  }
  rc = sc__config_load_buffer(opts, data, len, err);
  sc__free(data);
  return rc;
}
