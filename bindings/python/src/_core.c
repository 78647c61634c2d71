/* _core.c - the scalene package's bridge to libscalenecore.
 *
 * Owns one sc_session_t per Profiler object.  Supplies the frame resolver:
 * capture() (frames.c, async-signal-safe) and resolve(), which runs on the
 * core's ticker thread, takes the GIL, validates the raw code pointer,
 * keeps the code object alive for the session's lifetime (so the core's
 * cache keyed by its address stays right), and answers file, function,
 * line and whether the user asked for that file. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "frames.h"
#include "scalenecore.h"

static PyObject *ForkedError;

typedef struct {
  PyObject_HEAD
  sc_options_t *opts;
  sc_session_t *session;
  sc_thread_t *main_thread;
  PyObject *should_profile; /* callable(filename) -> bool */
  PyObject *keep;           /* address -> code object, alive for the session */
  PyObject *file_cache;     /* filename -> bool */
  PyObject *threads;        /* thread ident -> address of its sc_thread_t */
} Profiler;

static PyObject *raise_sc(int rc, const char *what) {
  if (rc == SC_EFORKED) {
    PyErr_Format(ForkedError, "%s: %s", what, sc_strerror(rc));
  } else if (rc == SC_EIO || rc == SC_ENOENT) {
    PyErr_Format(PyExc_OSError, "%s: %s", what, sc_strerror(rc));
  } else if (rc == SC_ENOMEM) {
    PyErr_NoMemory();
  } else {
    PyErr_Format(PyExc_RuntimeError, "%s: %s", what, sc_strerror(rc));
  }
  return NULL;
}

/* ---- resolve(): ticker thread, takes the GIL ---------------------------- */

static int interpreter_finalizing(void) {
#if PY_VERSION_HEX >= 0x030d0000
  return Py_IsFinalizing();
#else
  return _Py_IsFinalizing();
#endif
}

/* A code object at `addr`, or NULL.  A live object has a small positive
 * reference count and PyCode_Type as its type; a freed one has its first
 * word overwritten with an allocator free-list link (0 or a heap address)
 * or its type word clobbered, so both checks together reject it. */
static PyObject *live_code(Profiler *self, uintptr_t addr) {
  PyObject *key = PyLong_FromVoidPtr((void *)addr);
  if (!key) return NULL;
  PyObject *code = PyDict_GetItemWithError(self->keep, key);
  if (code || PyErr_Occurred()) {
    Py_DECREF(key);
    PyErr_Clear();
    return code;
  }
  struct {
    Py_ssize_t refcnt;
    PyTypeObject *type;
  } head;
  if (scpy_safe_read((void *)addr, &head, sizeof head) != 0 || head.type != &PyCode_Type ||
      head.refcnt < 1 || head.refcnt > (Py_ssize_t)0xffffffff) {
    Py_DECREF(key);
    return NULL;
  }
  code = (PyObject *)addr;
  if (PyDict_SetItem(self->keep, key, code) < 0) { /* takes a reference */
    PyErr_Clear();
    code = NULL;
  }
  Py_DECREF(key);
  return code;
}

static int file_profiled(Profiler *self, PyObject *filename) {
  PyObject *cached = PyDict_GetItemWithError(self->file_cache, filename);
  if (cached) return cached == Py_True;
  PyErr_Clear();
  int yes = 0;
  if (self->should_profile && self->should_profile != Py_None) {
    PyObject *r = PyObject_CallOneArg(self->should_profile, filename);
    if (r) {
      yes = PyObject_IsTrue(r) == 1;
      Py_DECREF(r);
    }
    PyErr_Clear();
  }
  if (PyDict_SetItem(self->file_cache, filename, yes ? Py_True : Py_False) < 0) PyErr_Clear();
  return yes;
}

static int py_resolve(void *user, const sc_raw_frame_t *frames, size_t n, sc_frame_info_t *out) {
  Profiler *self = user;
  if (interpreter_finalizing()) return SC_ESTATE;
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *et, *ev, *tb;
  PyErr_Fetch(&et, &ev, &tb);
  for (size_t i = 0; i < n; i++) {
    out[i].flags = SC_FRAME_INVALID;
    PyCodeObject *co = (PyCodeObject *)live_code(self, frames[i].code);
    if (!co) continue;
    /* another code object than the one sampled (see frames.h) */
    if (SCPY_POS_CHECK(frames[i].pos) !=
        scpy_code_check((uintptr_t)co->co_filename, co->co_firstlineno))
      continue;
    int64_t byte = SCPY_POS_INDEX(frames[i].pos) * 2;
    if (frames[i].pos < 0 || (size_t)byte >= scpy_code_bytes(co)) continue;
#if PY_VERSION_HEX >= 0x030b0000
    PyObject *name = co->co_qualname;
#else
    PyObject *name = co->co_name;
#endif
    const char *file = PyUnicode_AsUTF8(co->co_filename);
    const char *func = PyUnicode_AsUTF8(name);
    if (!file || !func) {
      PyErr_Clear();
      continue;
    }
    out[i].file = file; /* cached in the str objects, which `keep` keeps alive */
    out[i].function = func;
    out[i].line = PyCode_Addr2Line(co, (int)byte);
    out[i].function_line = co->co_firstlineno;
    out[i].flags = file_profiled(self, co->co_filename) ? SC_FRAME_PROFILED : 0;
  }
  PyErr_Restore(et, ev, tb);
  PyGILState_Release(g);
  return 0;
}

/* ---- Profiler ----------------------------------------------------------- */

static int apply_option(sc_options_t *opts, PyObject *key, PyObject *value) {
  const char *name = PyUnicode_AsUTF8(key);
  if (!name) return -1;
  sc_option_t id;
  sc_option_info_t info;
  info.size = sizeof info;
  int rc = sc_option_find(name, &id);
  if (rc == 0) rc = sc_option_info(id, &info);
  if (rc < 0) {
    PyErr_Format(PyExc_ValueError, "option '%s': unknown option", name);
    return -1;
  }
  switch (info.type) {
    case SC_OPTTYPE_BOOL: {
      int b = PyObject_IsTrue(value);
      if (b < 0) return -1;
      rc = sc_options_set_bool(opts, id, b != 0);
      break;
    }
    case SC_OPTTYPE_INT: {
      if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_ValueError, "option '%s': expected an integer", name);
        return -1;
      }
      long long v = PyLong_AsLongLong(value);
      if (v == -1 && PyErr_Occurred()) return -1;
      rc = sc_options_set_int(opts, id, v);
      break;
    }
    case SC_OPTTYPE_DOUBLE: {
      double v = PyFloat_AsDouble(value);
      if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "option '%s': expected a number", name);
        return -1;
      }
      rc = sc_options_set_double(opts, id, v);
      break;
    }
    case SC_OPTTYPE_STRING: {
      const char *s = PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
      if (!s) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "option '%s': expected a string", name);
        return -1;
      }
      rc = sc_options_set_string(opts, id, s);
      break;
    }
  }
  if (rc == SC_ERANGE) {
    PyErr_Format(PyExc_ValueError, "option '%s': value out of range [%g, %g]", name,
                 info.min_value, info.max_value);
    return -1;
  }
  if (rc < 0) {
    PyErr_Format(PyExc_ValueError, "option '%s': %s", name, sc_strerror(rc));
    return -1;
  }
  return 0;
}

static int Profiler_init(Profiler *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"options", "should_profile", NULL};
  PyObject *options = NULL, *should = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO", kwlist, &options, &should)) return -1;
  if (self->opts) {
    PyErr_SetString(PyExc_RuntimeError, "Profiler already initialised");
    return -1;
  }
  int rc = sc_options_create(&self->opts);
  if (rc < 0) {
    raise_sc(rc, "options");
    return -1;
  }
  if (options && options != Py_None) {
    if (!PyDict_Check(options)) {
      PyErr_SetString(PyExc_TypeError, "options must be a dict");
      return -1;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(options, &pos, &k, &v))
      if (apply_option(self->opts, k, v) < 0) return -1;
  }
  Py_INCREF(should);
  self->should_profile = should;
  self->keep = PyDict_New();
  self->file_cache = PyDict_New();
  self->threads = PyDict_New();
  return (self->keep && self->file_cache && self->threads) ? 0 : -1;
}

static void add_range(void *arg, uintptr_t lo, uintptr_t hi) {
  sc_session_add_runtime_range((sc_session_t *)arg, lo, hi);
}

/* ---- keeping executed code alive --------------------------------------- */

/* A module's top-level code object dies as soon as the module finished
 * executing (a script run by runpy, any import).  Samples taken in it that
 * the ticker has not resolved yet (a program shorter than one drain, an
 * import that allocates much at once) would find a dead address.  Every
 * code object executed with exec() raises the audit event "exec": those of
 * profiled files are kept alive for the session, in the same table the
 * resolver fills. */
static Profiler *g_audited;

static int audit_hook(const char *event, PyObject *args, void *unused) {
  (void)unused;
  Profiler *self = g_audited;
  if (!self || !self->session || event[0] != 'e' || strcmp(event, "exec") != 0) return 0;
  if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 1) return 0;
  PyObject *code = PyTuple_GET_ITEM(args, 0);
  if (!PyCode_Check(code) || !file_profiled(self, ((PyCodeObject *)code)->co_filename)) return 0;
  PyObject *key = PyLong_FromVoidPtr(code);
  if (!key || PyDict_SetItem(self->keep, key, code) < 0) PyErr_Clear();
  Py_XDECREF(key);
  return 0;
}

static void audit_install(Profiler *self) {
  static int installed;
  g_audited = self;
  if (installed) return;
  if (PySys_AddAuditHook(audit_hook, NULL) == 0) installed = 1;
  else PyErr_Clear();
}

static PyObject *Profiler_start(Profiler *self, PyObject *unused) {
  if (!self->opts) return raise_sc(SC_ESTATE, "start");
  if (self->session) return raise_sc(SC_ESTATE, "start");
  PyObject *mod = PyImport_ImportModule("scalene._opcodes");
  PyObject *table = mod ? PyObject_CallMethod(mod, "call_opcode_table", NULL) : NULL;
  Py_XDECREF(mod);
  if (!table) return NULL;
  if (!PyBytes_Check(table) || PyBytes_GET_SIZE(table) != 256) {
    Py_DECREF(table);
    PyErr_SetString(PyExc_RuntimeError, "bad opcode table");
    return NULL;
  }
  memcpy(scpy_call_ops, PyBytes_AS_STRING(table), 256);
  Py_DECREF(table);
  scpy_frames_init();
  sc_frame_resolver_t r;
  r.size = sizeof r;
  r.user = self;
  r.capture = scpy_capture;
  r.resolve = py_resolve;
  int rc = sc_session_start(&self->session, self->opts, &r);
  if (rc < 0) {
    self->session = NULL;
    return raise_sc(rc, "cannot start the profiler");
  }
  scpy_runtime_ranges(add_range, self->session);
  audit_install(self);
  rc = sc_thread_register(self->session, PyThreadState_Get(), SC_THREAD_MAIN, "MainThread",
                          &self->main_thread);
  if (rc < 0) return raise_sc(rc, "cannot sample the main thread");
  Py_RETURN_NONE;
}

static PyObject *Profiler_register_thread(Profiler *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"name", NULL};
  const char *name = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|z", kwlist, &name)) return NULL;
  if (!self->session) return raise_sc(SC_ESTATE, "register_thread");
  sc_thread_t *t;
  int rc = sc_thread_register(self->session, PyThreadState_Get(), 0, name, &t);
  if (rc == SC_ESTATE || rc == SC_EFORKED) Py_RETURN_NONE; /* stopped: nothing to do */
  if (rc < 0) return raise_sc(rc, "register_thread");
  PyObject *key = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
  PyObject *val = PyLong_FromVoidPtr(t);
  int ok = key && val && PyDict_SetItem(self->threads, key, val) == 0;
  Py_XDECREF(key);
  Py_XDECREF(val);
  if (!ok) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Profiler_unregister_thread(Profiler *self, PyObject *unused) {
  PyObject *key = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
  if (!key) return NULL;
  PyObject *val = PyDict_GetItemWithError(self->threads, key);
  if (val) {
    sc_thread_t *t = PyLong_AsVoidPtr(val);
    sc_thread_unregister(t);
    PyDict_DelItem(self->threads, key);
  }
  Py_DECREF(key);
  if (PyErr_Occurred()) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Profiler_pause(Profiler *self, PyObject *unused) {
  if (self->session) sc_session_pause(self->session);
  Py_RETURN_NONE;
}

static PyObject *Profiler_resume(Profiler *self, PyObject *unused) {
  if (self->session) sc_session_resume(self->session);
  Py_RETURN_NONE;
}

static PyObject *Profiler_is_sampling(Profiler *self, PyObject *unused) {
  return PyBool_FromLong(self->session && sc_session_is_sampling(self->session));
}

static PyObject *Profiler_set_meta(Profiler *self, PyObject *args) {
  const char *key;
  PyObject *value;
  if (!PyArg_ParseTuple(args, "sO", &key, &value)) return NULL;
  if (!self->session) return raise_sc(SC_ESTATE, "set_meta");
  int rc;
  if (PyUnicode_Check(value)) {
    const char *s = PyUnicode_AsUTF8(value);
    if (!s) return NULL;
    rc = sc_session_set_meta(self->session, key, s);
  } else {
    PyObject *seq = PySequence_Fast(value, "set_meta: value must be a str or a list of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    const char **v = PyMem_Calloc((size_t)n + 1, sizeof *v);
    if (!v) {
      Py_DECREF(seq);
      return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
      PyObject *it = PySequence_Fast_GET_ITEM(seq, i);
      v[i] = PyUnicode_Check(it) ? PyUnicode_AsUTF8(it) : NULL;
      if (!v[i]) {
        PyMem_Free(v);
        Py_DECREF(seq);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "set_meta: list items must be str");
        return NULL;
      }
    }
    rc = sc_session_set_meta_list(self->session, key, v, (size_t)n);
    PyMem_Free(v);
    Py_DECREF(seq);
  }
  if (rc < 0) return raise_sc(rc, "set_meta");
  Py_RETURN_NONE;
}

static PyObject *Profiler_stop(Profiler *self, PyObject *unused) {
  if (!self->session) Py_RETURN_NONE;
  int rc;
  /* The final drain resolves frames on the ticker thread, which needs the
   * GIL: let go of it while waiting. */
  Py_BEGIN_ALLOW_THREADS rc = sc_session_stop(self->session);
  Py_END_ALLOW_THREADS if (rc < 0) return raise_sc(rc, "stop");
  Py_RETURN_NONE;
}

static int parse_format(const char *format, const char *path, sc_format_t *out) {
  if (!format || !*format) {
    *out = sc_format_from_path(path);
    return 0;
  }
  if (strcmp(format, "json") == 0) *out = SC_FORMAT_JSON;
  else if (strcmp(format, "msgpack.zst") == 0 || strcmp(format, "msgpack") == 0) *out = SC_FORMAT_MSGPACK_ZSTD;
  else if (strcmp(format, "html") == 0) *out = SC_FORMAT_HTML;
  else {
    PyErr_Format(PyExc_ValueError, "unknown profile format '%s' (json, msgpack.zst, html)", format);
    return -1;
  }
  return 0;
}

static PyObject *Profiler_export(Profiler *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"path", "format", NULL};
  PyObject *path_obj;
  const char *format = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|z", kwlist, PyUnicode_FSConverter, &path_obj,
                                   &format))
    return NULL;
  const char *path = PyBytes_AS_STRING(path_obj);
  sc_format_t f;
  if (!self->session || parse_format(format, path, &f) < 0) {
    Py_DECREF(path_obj);
    return self->session ? NULL : raise_sc(SC_ESTATE, "export");
  }
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = sc_export(self->session, f, path);
  Py_END_ALLOW_THREADS if (rc < 0) {
    PyObject *r = raise_sc(rc, path);
    Py_DECREF(path_obj);
    return r;
  }
  Py_DECREF(path_obj);
  Py_RETURN_NONE;
}

static PyObject *Profiler_stats(Profiler *self, PyObject *unused) {
  if (!self->session) return raise_sc(SC_ESTATE, "stats");
  sc_session_stats_t st;
  st.size = sizeof st;
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = sc_session_stats(self->session, &st);
  Py_END_ALLOW_THREADS if (rc < 0) return raise_sc(rc, "stats");
  return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "samples", st.samples, "dropped",
                       st.dropped, "unattributed", st.unattributed, "resolved_frames",
                       st.resolved_frames, "threads", st.threads, "total_ns", st.total_ns,
                       "elapsed_ns", st.elapsed_ns);
}

static void Profiler_dealloc(Profiler *self) {
  if (g_audited == self) g_audited = NULL;
  if (self->session) {
    sc_session_t *s = self->session;
    self->session = NULL;
    Py_BEGIN_ALLOW_THREADS sc_session_stop(s);
    sc_session_free(s);
    Py_END_ALLOW_THREADS
  }
  sc_options_destroy(self->opts);
  Py_XDECREF(self->should_profile);
  Py_XDECREF(self->keep);
  Py_XDECREF(self->file_cache);
  Py_XDECREF(self->threads);
  Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Profiler_methods[] = {
    {"start", (PyCFunction)Profiler_start, METH_NOARGS,
     "Start sampling; the calling thread is registered as the main thread."},
    {"register_thread", (PyCFunction)(void (*)(void))Profiler_register_thread,
     METH_VARARGS | METH_KEYWORDS, "Sample the calling thread."},
    {"unregister_thread", (PyCFunction)Profiler_unregister_thread, METH_NOARGS,
     "Stop sampling the calling thread."},
    {"pause", (PyCFunction)Profiler_pause, METH_NOARGS, "Pause sampling."},
    {"resume", (PyCFunction)Profiler_resume, METH_NOARGS, "Resume sampling."},
    {"is_sampling", (PyCFunction)Profiler_is_sampling, METH_NOARGS, "Whether sampling is on."},
    {"set_meta", (PyCFunction)Profiler_set_meta, METH_VARARGS,
     "Set a top-level profile field to a str or a list of str."},
    {"stop", (PyCFunction)Profiler_stop, METH_NOARGS, "Stop sampling (idempotent)."},
    {"export", (PyCFunction)(void (*)(void))Profiler_export, METH_VARARGS | METH_KEYWORDS,
     "Write the profile to path atomically."},
    {"stats", (PyCFunction)Profiler_stats, METH_NOARGS, "Counters of the sampler."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject ProfilerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "scalene._core.Profiler",
    .tp_basicsize = sizeof(Profiler),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A libscalenecore profiling session.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Profiler_init,
    .tp_dealloc = (destructor)Profiler_dealloc,
    .tp_methods = Profiler_methods,
};

/* ---- module functions --------------------------------------------------- */

static PyObject *core_version(PyObject *m, PyObject *unused) {
  return PyUnicode_FromString(sc_version_string());
}

static PyObject *default_value(const sc_option_info_t *info) {
  const char *t = info->default_text;
  switch (info->type) {
    case SC_OPTTYPE_BOOL:
      return PyBool_FromLong(strcmp(t, "true") == 0);
    case SC_OPTTYPE_INT:
      return PyLong_FromString(t, NULL, 10);
    case SC_OPTTYPE_DOUBLE:
      return PyFloat_FromDouble(atof(t));
    default:
      return PyUnicode_FromString(t);
  }
}

static PyObject *core_options(PyObject *m, PyObject *unused) {
  static const char *const type_names[] = {"", "bool", "int", "double", "string"};
  PyObject *list = PyList_New(0);
  if (!list) return NULL;
  for (int id = 1; id < SC__OPT_END; id++) {
    sc_option_info_t info;
    info.size = sizeof info;
    if (sc_option_info((sc_option_t)id, &info) < 0) continue;
    PyObject *def = default_value(&info);
    PyObject *d = def ? Py_BuildValue("{s:s,s:s,s:O,s:d,s:d,s:s,s:O,s:s}", "name", info.name,
                                      "type", type_names[info.type], "default", def, "min",
                                      info.min_value, "max", info.max_value, "help", info.help,
                                      "advanced",
                                      (info.flags & SC_OPTFLAG_ADVANCED) ? Py_True : Py_False,
                                      "default_text", info.default_text)
                      : NULL;
    Py_XDECREF(def);
    if (!d || PyList_Append(list, d) < 0) {
      Py_XDECREF(d);
      Py_DECREF(list);
      return NULL;
    }
    Py_DECREF(d);
  }
  return list;
}

/* Errors of profile files: one readable line each. */
static PyObject *raise_file(int rc, const char *path) {
  if (rc == SC_ENOENT) return PyErr_Format(PyExc_FileNotFoundError, "%s: no such file", path);
  if (rc == SC_EFORMAT) return PyErr_Format(PyExc_ValueError, "%s: not a valid profile (%s)", path, sc_strerror(rc));
  if (rc == SC_EIO) return PyErr_Format(PyExc_OSError, "%s: %s", path, sc_strerror(rc));
  return raise_sc(rc, path);
}

static PyObject *core_load_profile(PyObject *m, PyObject *args) {
  PyObject *path_obj;
  if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path_obj)) return NULL;
  const char *path = PyBytes_AS_STRING(path_obj);
  sc_profile_t *p = NULL;
  char *buf = NULL;
  size_t len = 0;
  int rc;
  Py_BEGIN_ALLOW_THREADS rc = sc_profile_load(path, &p);
  if (rc == 0) rc = sc_profile_export_buffer(p, SC_FORMAT_JSON, &buf, &len);
  sc_profile_free(p);
  Py_END_ALLOW_THREADS
  PyObject *r = rc < 0 ? raise_file(rc, path) : PyUnicode_DecodeUTF8(buf, (Py_ssize_t)len, "replace");
  sc_buffer_free(buf);
  Py_DECREF(path_obj);
  return r;
}

static PyObject *core_convert_profile(PyObject *m, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"src", "dst", "format", NULL};
  PyObject *src_obj, *dst_obj;
  const char *format = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O&|z", kwlist, PyUnicode_FSConverter, &src_obj,
                                   PyUnicode_FSConverter, &dst_obj, &format))
    return NULL;
  const char *src = PyBytes_AS_STRING(src_obj), *dst = PyBytes_AS_STRING(dst_obj);
  PyObject *r = NULL;
  sc_format_t f;
  if (parse_format(format, dst, &f) == 0) {
    sc_profile_t *p = NULL;
    int rc, stage = 0;
    Py_BEGIN_ALLOW_THREADS rc = sc_profile_load(src, &p);
    if (rc == 0) {
      stage = 1;
      rc = sc_profile_export(p, f, dst);
    }
    sc_profile_free(p);
    Py_END_ALLOW_THREADS
    if (rc < 0) r = raise_file(rc, stage ? dst : src);
    else r = Py_NewRef(Py_None);
  }
  Py_DECREF(src_obj);
  Py_DECREF(dst_obj);
  return r;
}

static PyObject *core_merge_profiles(PyObject *m, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"paths", "dst", "format", NULL};
  PyObject *paths, *dst_obj;
  const char *format = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "OO&|z", kwlist, &paths, PyUnicode_FSConverter, &dst_obj,
                                   &format))
    return NULL;
  PyObject *seq = PySequence_Fast(paths, "paths must be a list");
  if (!seq) {
    Py_DECREF(dst_obj);
    return NULL;
  }
  const char *dst = PyBytes_AS_STRING(dst_obj);
  Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
  sc_profile_t **profs = PyMem_Calloc((size_t)n + 1, sizeof *profs);
  PyObject *r = NULL;
  sc_format_t f;
  if (!profs) {
    PyErr_NoMemory();
    goto done;
  }
  if (parse_format(format, dst, &f) < 0) goto done;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *pb;
    if (!PyUnicode_FSConverter(PySequence_Fast_GET_ITEM(seq, i), &pb)) goto done;
    int rc;
    const char *path = PyBytes_AS_STRING(pb);
    Py_BEGIN_ALLOW_THREADS rc = sc_profile_load(path, &profs[i]);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
      raise_file(rc, path);
      Py_DECREF(pb);
      goto done;
    }
    Py_DECREF(pb);
  }
  sc_profile_t *merged = NULL;
  int rc, merge_rc;
  Py_BEGIN_ALLOW_THREADS rc = sc_profile_merge((const sc_profile_t *const *)profs, (size_t)n, &merged);
  merge_rc = rc;
  if (rc == 0) rc = sc_profile_export(merged, f, dst);
  sc_profile_free(merged);
  Py_END_ALLOW_THREADS
  if (merge_rc == SC_EFORMAT)
    PyErr_SetString(PyExc_ValueError,
                    "cannot merge: a profile lacks the fields merging needs (total_time_sec, "
                    "files); profiles written by libscalenecore 1.0 or later merge");
  else if (rc < 0) raise_file(rc, dst);
  else r = Py_NewRef(Py_None);
done:
  if (profs)
    for (Py_ssize_t i = 0; i < n; i++) sc_profile_free(profs[i]);
  PyMem_Free(profs);
  Py_DECREF(seq);
  Py_DECREF(dst_obj);
  return r;
}

static PyObject *option_value(const sc_options_t *opts, const sc_option_info_t *info) {
  switch (info->type) {
    case SC_OPTTYPE_BOOL: {
      bool b = false;
      sc_options_get_bool(opts, info->id, &b);
      return PyBool_FromLong(b);
    }
    case SC_OPTTYPE_INT: {
      int64_t v = 0;
      sc_options_get_int(opts, info->id, &v);
      return PyLong_FromLongLong(v);
    }
    case SC_OPTTYPE_DOUBLE: {
      double v = 0;
      sc_options_get_double(opts, info->id, &v);
      return PyFloat_FromDouble(v);
    }
    default: {
      const char *v = "";
      sc_options_get_string(opts, info->id, &v);
      return PyUnicode_FromString(v);
    }
  }
}

/* The options a YAML file sets, as {name: value}; ValueError naming the
 * file, line, column and key otherwise. */
static PyObject *core_load_config(PyObject *m, PyObject *args) {
  PyObject *path_obj;
  if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path_obj)) return NULL;
  const char *path = PyBytes_AS_STRING(path_obj);
  sc_options_t *opts = NULL;
  sc_config_error_t err;
  memset(&err, 0, sizeof err);
  err.size = sizeof err;
  int rc = sc_options_create(&opts);
  if (rc == 0) rc = sc_config_load(opts, path, &err);
  PyObject *r = NULL;
  if (rc < 0) {
    if (err.message[0]) {
      if (err.line)
        PyErr_Format(PyExc_ValueError, "%s:%d:%d: %s%s%s", path, err.line, err.column, err.key,
                     err.key[0] ? ": " : "", err.message);
      else
        PyErr_Format(PyExc_ValueError, "%s: %s%s%s", path, err.key, err.key[0] ? ": " : "", err.message);
    } else {
      raise_file(rc, path);
    }
    goto done;
  }
  r = PyDict_New();
  for (int id = 1; r && id < SC__OPT_END; id++) {
    sc_option_info_t info;
    info.size = sizeof info;
    bool set = false;
    if (sc_option_info((sc_option_t)id, &info) < 0 || sc_options_is_set(opts, (sc_option_t)id, &set) < 0 || !set)
      continue;
    PyObject *v = option_value(opts, &info);
    if (!v || PyDict_SetItemString(r, info.name, v) < 0) Py_CLEAR(r);
    Py_XDECREF(v);
  }
done:
  sc_options_destroy(opts);
  Py_DECREF(path_obj);
  return r;
}

static PyMethodDef core_methods[] = {
    {"load_profile", core_load_profile, METH_VARARGS,
     "Load a profile file of any format and return it as JSON text."},
    {"convert_profile", (PyCFunction)(void (*)(void))core_convert_profile, METH_VARARGS | METH_KEYWORDS,
     "Load src and write it to dst (format from dst's name unless given)."},
    {"merge_profiles", (PyCFunction)(void (*)(void))core_merge_profiles, METH_VARARGS | METH_KEYWORDS,
     "Merge profile files into dst."},
    {"load_config", core_load_config, METH_VARARGS,
     "Options set by a YAML config file, as a dict."},
    {"version", core_version, METH_NOARGS, "libscalenecore's version."},
    {"options", core_options, METH_NOARGS, "The core's option table."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef core_module = {PyModuleDef_HEAD_INIT, "scalene._core",
                                         "Bridge to libscalenecore.", -1, core_methods,
                                         NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__core(void) {
  if (PyType_Ready(&ProfilerType) < 0) return NULL;
  PyObject *m = PyModule_Create(&core_module);
  if (!m) return NULL;
  ForkedError = PyErr_NewException("scalene._core.ForkedError", PyExc_RuntimeError, NULL);
  Py_INCREF(&ProfilerType);
  if (!ForkedError || PyModule_AddObject(m, "Profiler", (PyObject *)&ProfilerType) < 0 ||
      PyModule_AddObject(m, "ForkedError", ForkedError) < 0) {
    Py_DECREF(m);
    return NULL;
  }
  Py_INCREF(ForkedError);
  return m;
}
