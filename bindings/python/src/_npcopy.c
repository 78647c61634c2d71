/* _npcopy.c - copy volume of numpy's element-wise conversions.
 *
 * list(ndarray), ndarray.tolist(), `for x in ndarray` and (numpy before
 * 2.4) np.array(list) move every element between the array's buffer and a
 * Python object one at a time, through the dtype's getitem, setitem and
 * copyswap functions; none of them calls memcpy for the data, so the
 * preload's memcpy/memmove interposition cannot see them.  This module
 * puts a counting wrapper in front of those three functions of every
 * fixed-size built-in dtype, in the public PyArray_ArrFuncs table that
 * PyDataType_GetArrFuncs() returns, and charges each element's size to the
 * calling thread's copy countdown in the preload (sc__preload_api's
 * copy_note): the same sampler, window and profile field (n_copy_mb_s) as
 * memcpy.  A nested call (setitem and getitem of an unaligned or byte-
 * swapped array go through copyswap) is counted once.  The common case,
 * an aligned native-order ndarray, costs a call into the preload and a
 * type and flags test per element; the thread-local mark is only set on
 * the nested path.
 *
 * numpy 2.4 and later store elements for np.array(list) and element
 * assignment (PyArray_Pack) through the setitem in the DType's private
 * slots, not through the public table: a counting setitem there sees no
 * call, so np.array(list) shows no copy volume under numpy >= 2.4
 * (docs/architecture.md).
 *
 * Built only where numpy's headers are present at build time (setup.py);
 * install() runs under the GIL once numpy is imported (scalene/npcopy.py).
 * The wrappers stay for the life of the process; with no session attached
 * the preload counts and drops. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <dlfcn.h>
#include <stdint.h>

#include "preload_abi.h"

/* The fixed-size built-in dtypes: not object (its "elements" are
 * references), nor the flexible string, unicode and void types. */
#define NC_TYPES(X)                                                                            \
  X(NPY_BOOL) X(NPY_BYTE) X(NPY_UBYTE) X(NPY_SHORT) X(NPY_USHORT) X(NPY_INT) X(NPY_UINT)       \
  X(NPY_LONG) X(NPY_ULONG) X(NPY_LONGLONG) X(NPY_ULONGLONG) X(NPY_FLOAT) X(NPY_DOUBLE)         \
  X(NPY_LONGDOUBLE) X(NPY_CFLOAT) X(NPY_CDOUBLE) X(NPY_CLONGDOUBLE) X(NPY_DATETIME)            \
  X(NPY_TIMEDELTA) X(NPY_HALF)

#define NC_MAX 32

static PyArray_GetItemFunc *nc_get[NC_MAX];
static PyArray_SetItemFunc *nc_set[NC_MAX];
static PyArray_CopySwapFunc *nc_swap[NC_MAX];
static size_t nc_size[NC_MAX];
static void (*nc_note)(size_t n, uintptr_t caller);
static _Thread_local int nc_depth;
static int nc_installed;

#define NC_CALLER() ((uintptr_t)__builtin_return_address(0))

/* Whether `arr` is a plain ndarray that numpy's own getitem/setitem read
 * or write directly (aligned, native byte order, and for setitem writable),
 * not through copyswap.  Anything else (NULL aside: numpy reads NULL's
 * element directly) takes the slow path, which marks the thread so that
 * the copyswap numpy may call inside is not counted a second time. */
static int nc_direct(void *arr, int flags) {
  if (!arr) return 1;
  if (Py_TYPE((PyObject *)arr) != &PyArray_Type) return 0;
  return (PyArray_FLAGS((PyArrayObject *)arr) & flags) == flags;
}
#define NC_RO (NPY_ARRAY_ALIGNED | NPY_ARRAY_NOTSWAPPED)
#define NC_RW (NPY_ARRAY_ALIGNED | NPY_ARRAY_NOTSWAPPED | NPY_ARRAY_WRITEABLE)

#define NC_WRAP(T)                                                                             \
  static PyObject *nc_get_##T(void *data, void *arr) {                                         \
    nc_note(nc_size[T], NC_CALLER());                                                          \
    if (nc_direct(arr, NC_RO)) return nc_get[T](data, arr);                                    \
    nc_depth++;                                                                                \
    PyObject *r = nc_get[T](data, arr);                                                        \
    nc_depth--;                                                                                \
    return r;                                                                                  \
  }                                                                                            \
  static int nc_set_##T(PyObject *value, void *data, void *arr) {                              \
    nc_note(nc_size[T], NC_CALLER());                                                          \
    if (nc_direct(arr, NC_RW)) return nc_set[T](value, data, arr);                             \
    nc_depth++;                                                                                \
    int r = nc_set[T](value, data, arr);                                                       \
    nc_depth--;                                                                                \
    return r;                                                                                  \
  }                                                                                            \
  static void nc_swap_##T(void *dst, void *src, int swap, void *arr) {                         \
    /* src == NULL: byte-swap dst in place, nothing copied.  Inside a slow-path                \
     * getitem/setitem (arr not a direct one) the element is already counted. */              \
    if (src && (nc_direct(arr, NC_RO) || nc_depth == 0)) nc_note(nc_size[T], NC_CALLER());     \
    nc_swap[T](dst, src, swap, arr);                                                           \
  }
NC_TYPES(NC_WRAP)

typedef struct {
  int type;
  PyArray_GetItemFunc *get;
  PyArray_SetItemFunc *set;
  PyArray_CopySwapFunc *swap;
} nc_entry;

#define NC_ENTRY(T) {T, nc_get_##T, nc_set_##T, nc_swap_##T},
static const nc_entry nc_table[] = {NC_TYPES(NC_ENTRY)};

static int nc_ours(const PyArray_ArrFuncs *f) {
  for (size_t i = 0; i < sizeof nc_table / sizeof nc_table[0]; i++)
    if (f->getitem == nc_table[i].get) return 1;
  return 0;
}

/* install() -> number of dtypes wrapped: 0 without the preload in the
 * process; idempotent.  Raises ImportError when numpy's C API cannot be
 * loaded. */
static PyObject *nc_install(PyObject *self, PyObject *unused) {
  if (nc_installed) return PyLong_FromLong(nc_installed);
  sc__preload_get_fn get = (sc__preload_get_fn)dlsym(RTLD_DEFAULT, SC_PRELOAD_SYMBOL);
  const sc__preload_api *api = get ? get() : NULL;
  if (!api || api->abi != SC_PRELOAD_ABI || !api->copy_note) return PyLong_FromLong(0);
  if (_import_array() < 0) return NULL;
  nc_note = api->copy_note;
  int n = 0;
  for (size_t i = 0; i < sizeof nc_table / sizeof nc_table[0]; i++) {
    const nc_entry *e = &nc_table[i];
    PyArray_Descr *d = PyArray_DescrFromType(e->type);
    if (!d) {
      PyErr_Clear();
      continue;
    }
    PyArray_ArrFuncs *f = PyDataType_GetArrFuncs(d);
    size_t size = (size_t)PyDataType_ELSIZE(d);
    Py_DECREF(d);
    if (!f || !f->getitem || !f->setitem || !f->copyswap || e->type >= NC_MAX) continue;
    if (nc_ours(f)) continue; /* a table two type numbers share: wrapped once */
    nc_size[e->type] = size;
    nc_get[e->type] = f->getitem;
    nc_set[e->type] = f->setitem;
    nc_swap[e->type] = f->copyswap;
    f->getitem = e->get;
    f->setitem = e->set;
    f->copyswap = e->swap;
    n++;
  }
  nc_installed = n;
  return PyLong_FromLong(n);
}

static PyMethodDef nc_methods[] = {
    {"install", nc_install, METH_NOARGS,
     "install() -> int\n\nWrap numpy's element conversions so their bytes count as copy "
     "volume; returns how many dtypes were wrapped (0 without the sampling allocator)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef nc_module = {PyModuleDef_HEAD_INIT, "scalene._npcopy",
                                       "Copy volume of numpy's element-wise conversions.", -1,
                                       nc_methods};

PyMODINIT_FUNC PyInit__npcopy(void) { return PyModule_Create(&nc_module); }
