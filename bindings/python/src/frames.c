/* frames.c - reading CPython frames on the sampling path.
 *
 * Runs inside a signal handler on the sampled thread (or on the core's
 * ticker thread for a blocked main thread), so it never calls the Python
 * C API and never dereferences interpreter memory directly: every read is
 * a bounded copy with process_vm_readv, which fails cleanly (EFAULT) on a
 * torn-down frame instead of crashing.  Struct layouts come from the
 * headers of the very CPython version the extension is compiled for.
 *
 *   3.10: PyThreadState.frame -> PyFrameObject chain, f_lasti = instruction index
 *   3.11, 3.12: tstate->cframe->current_frame -> _PyInterpreterFrame chain,
 *         prev_instr = the instruction being executed
 *   3.13: tstate->current_frame, f_executable, instr_ptr
 */
#define _GNU_SOURCE 1
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#if PY_VERSION_HEX >= 0x030b0000
#include <internal/pycore_frame.h>
#endif

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "frames.h"

unsigned char scpy_call_ops[256];
static pid_t g_pid;
static int g_plain_loads;

int scpy_frames_init(void) {
  g_pid = getpid();
  long probe = 42, out = 0;
  struct iovec l = {&out, sizeof out}, r = {&probe, sizeof probe};
  g_plain_loads = process_vm_readv(g_pid, &l, 1, &r, 1, 0) != (ssize_t)sizeof out || out != 42;
  return g_plain_loads;
}

int scpy_safe_read(const void *src, void *dst, size_t n) {
  if (!src) return -1;
  if (g_plain_loads) {
    memcpy(dst, src, n);
    return 0;
  }
  struct iovec l = {dst, n}, r = {(void *)src, n};
  return process_vm_readv(g_pid, &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -1;
}

#define MAX_WALK 4096 /* bounded, cycle-safe walk */

/* The identity check (frames.h) reads co_firstlineno and co_filename:
 * one span of the code object holds both. */
#define OFF_LINE offsetof(PyCodeObject, co_firstlineno)
#define OFF_FILE offsetof(PyCodeObject, co_filename)
#define SPAN_LO (OFF_LINE < OFF_FILE ? OFF_LINE : OFF_FILE)
#define SPAN_HI                                                                           \
  (OFF_LINE + sizeof(int) > OFF_FILE + sizeof(PyObject *) ? OFF_LINE + sizeof(int)        \
                                                          : OFF_FILE + sizeof(PyObject *))
#define SPAN (SPAN_HI - SPAN_LO)
#define CHUNK 32

/* Replace each frame's pos (an instruction index so far) by the index
 * with its code object's identity check, reading the code objects 32 at a
 * time with one bounded copy each (a partial copy stops at the first
 * unreadable object; the ones after it are read one by one).  A frame
 * whose code object cannot be read is dropped.  Returns the frames kept.
 * When `ip` is not 0, the instruction byte there (the innermost frame's)
 * rides along at the end of the first copy into *op; *op_ok says whether
 * it was read. */
static size_t add_checks(sc_raw_frame_t *frames, size_t k, uintptr_t ip, unsigned char *op,
                         int *op_ok) {
  unsigned char buf[CHUNK][SPAN];
  size_t out = 0;
  *op_ok = 0;
  for (size_t base = 0; base < k; base += CHUNK) {
    size_t m = k - base < CHUNK ? k - base : CHUNK, got = 0;
    if (!g_plain_loads) {
      struct iovec l[CHUNK + 1], r[CHUNK + 1];
      for (size_t i = 0; i < m; i++) {
        l[i] = (struct iovec){buf[i], SPAN};
        r[i] = (struct iovec){(char *)frames[base + i].code + SPAN_LO, SPAN};
      }
      size_t iov = m;
      if (base == 0 && ip) {
        l[iov] = (struct iovec){op, 1};
        r[iov] = (struct iovec){(void *)ip, 1};
        iov++;
      }
      ssize_t n = process_vm_readv(g_pid, l, iov, r, iov, 0);
      got = n > 0 ? (size_t)n / SPAN : 0;
      if (iov > m && n == (ssize_t)(m * SPAN + 1)) *op_ok = 1;
    }
    for (size_t i = 0; i < m; i++) {
      sc_raw_frame_t *f = &frames[base + i];
      if (i >= got && scpy_safe_read((const char *)f->code + SPAN_LO, buf[i], SPAN)) continue;
      PyObject *file;
      int line;
      memcpy(&file, buf[i] + (OFF_FILE - SPAN_LO), sizeof file);
      memcpy(&line, buf[i] + (OFF_LINE - SPAN_LO), sizeof line);
      frames[out].code = f->code;
      frames[out].pos = scpy_pos((uint64_t)f->pos, scpy_code_check((uintptr_t)file, line));
      out++;
    }
  }
  if (ip && !*op_ok) *op_ok = scpy_safe_read((const void *)ip, op, 1) == 0;
  return out;
}

#if PY_VERSION_HEX >= 0x030b0000

/* Since 3.11 a thread's frames live one after the other on its data
 * stack, each caller just below its callee, so one copy of the 2 KiB that
 * end at a frame's header usually brings its callers' headers along: a
 * window of remote memory the walk reads from until it needs a frame
 * outside it (a generator's frame, lives in the generator; a shim on the C
 * stack; an older chunk).  It replaced one process_vm_readv per frame:
 * each sampled allocation walks every frame, about 17 under `scalene run`
 * for a program two calls deep (strace counted 60,390 calls for 2,108
 * allocation and 143 CPU samples of bench/programs/spectral_norm.py). */
#define WIN 2048
#define PAGE 4096
#define FRAME_HDR offsetof(_PyInterpreterFrame, localsplus)

typedef struct frame_win {
  uintptr_t lo, hi; /* the remote bytes [lo, hi) are in buf[0, hi - lo) */
  unsigned char buf[WIN];
} frame_win;

/* Copy the WIN bytes that end at `hi`, in two pieces split at the page
 * boundary below `hi`, the upper piece first: a copy stops at the first
 * piece it cannot read, so an unmapped page below a frame (the start of
 * its chunk) only shortens the window. */
static void win_fill(frame_win *w, uintptr_t hi) {
  uintptr_t lo = hi > WIN ? hi - WIN : 0;
  uintptr_t page = (hi - 1) & ~(uintptr_t)(PAGE - 1);
  uintptr_t mid = page > lo ? page : lo;
  struct iovec l[2] = {{w->buf + (mid - lo), hi - mid}, {w->buf, mid - lo}};
  struct iovec r[2] = {{(void *)mid, hi - mid}, {(void *)lo, mid - lo}};
  ssize_t n = process_vm_readv(g_pid, l, mid > lo ? 2 : 1, r, mid > lo ? 2 : 1, 0);
  w->lo = w->hi = 0;
  if (n == (ssize_t)(hi - lo)) {
    w->lo = lo;
    w->hi = hi;
  } else if (n == (ssize_t)(hi - mid)) { /* keep the upper piece */
    memmove(w->buf, w->buf + (mid - lo), hi - mid);
    w->lo = mid;
    w->hi = hi;
  }
}

/* The header of the frame at `fp`: from the window, refilled to end at
 * the header's end when it does not hold it; a header the window cannot
 * hold whole is copied on its own. */
static int win_frame(frame_win *w, uintptr_t fp, _PyInterpreterFrame *out) {
  if (g_plain_loads) return scpy_safe_read((const void *)fp, out, FRAME_HDR);
  if (fp < w->lo || fp + FRAME_HDR > w->hi) win_fill(w, fp + FRAME_HDR);
  if (fp < w->lo || fp + FRAME_HDR > w->hi)
    return scpy_safe_read((const void *)fp, out, FRAME_HDR);
  memcpy(out, w->buf + (fp - w->lo), FRAME_HDR);
  return 0;
}

#if PY_VERSION_HEX >= 0x030d0000
#define FRAME_CODE(f) ((uintptr_t)(f).f_executable)
#define FRAME_INSTR(f) ((uintptr_t)(f).instr_ptr)
#else
#define FRAME_CODE(f) ((uintptr_t)(f).f_code)
#define FRAME_INSTR(f) ((uintptr_t)(f).prev_instr)
#endif

int scpy_capture(void *user, void *ctx, sc_raw_frame_t *frames, size_t max, size_t *n,
                 uint32_t *flags) {
  (void)user;
  PyThreadState *ts = ctx;
  _PyInterpreterFrame *fp = NULL;
  *n = 0;
  *flags = 0;
#if PY_VERSION_HEX >= 0x030d0000
  if (scpy_safe_read(&ts->current_frame, &fp, sizeof fp)) return -1;
#else
  _PyCFrame *cf = NULL;
  if (scpy_safe_read(&ts->cframe, &cf, sizeof cf) || !cf) return -1;
  if (scpy_safe_read(&cf->current_frame, &fp, sizeof fp)) return -1;
#endif
  size_t k = 0;
  uintptr_t ip0 = 0; /* the innermost frame's instruction */
  frame_win w;
  w.lo = w.hi = 0;
  for (int guard = 0; fp && k < max && guard < MAX_WALK; guard++) {
    _PyInterpreterFrame f;
    if (win_frame(&w, (uintptr_t)fp, &f)) break;
#if PY_VERSION_HEX >= 0x030c0000
    if (f.owner == FRAME_OWNED_BY_CSTACK) { /* a shim, not Python code */
      fp = f.previous;
      continue;
    }
#endif
    uintptr_t code = FRAME_CODE(f);
    uintptr_t start = code + offsetof(PyCodeObject, co_code_adaptive);
    uintptr_t ip = FRAME_INSTR(f);
    if (code && ip >= start) { /* below start: the frame is still being set up */
      if (k == 0) ip0 = ip;
      frames[k].code = code;
      frames[k].pos = (int64_t)((ip - start) / sizeof(_Py_CODEUNIT));
      k++;
    }
    fp = f.previous;
  }
  unsigned char op = 0;
  int op_ok;
  *n = add_checks(frames, k, ip0, &op, &op_ok);
  if (op_ok && scpy_call_ops[op]) *flags |= SC_CAPTURE_IN_NATIVE_CALL;
  return 0;
}

size_t scpy_code_bytes(void *code) {
  PyCodeObject co;
  if (scpy_safe_read(code, &co, sizeof co)) return 0;
  return (size_t)Py_SIZE(&co) * sizeof(_Py_CODEUNIT);
}

#else /* 3.10 */

int scpy_capture(void *user, void *ctx, sc_raw_frame_t *frames, size_t max, size_t *n,
                 uint32_t *flags) {
  (void)user;
  PyThreadState *ts = ctx;
  PyFrameObject *fp = NULL;
  *n = 0;
  *flags = 0;
  if (scpy_safe_read(&ts->frame, &fp, sizeof fp)) return -1;
  size_t k = 0;
  for (int guard = 0; fp && k < max && guard < MAX_WALK; guard++) {
    PyFrameObject f;
    if (scpy_safe_read(fp, &f, sizeof f)) break;
    if (f.f_code && f.f_lasti >= 0) {
      if (k == 0) {
        PyObject *bytes = NULL;
        unsigned char op;
        if (scpy_safe_read(&f.f_code->co_code, &bytes, sizeof bytes) == 0 && bytes &&
            scpy_safe_read(((PyBytesObject *)bytes)->ob_sval + (size_t)f.f_lasti * 2, &op, 1) == 0 &&
            scpy_call_ops[op])
          *flags |= SC_CAPTURE_IN_NATIVE_CALL;
      }
      frames[k].code = (uintptr_t)f.f_code;
      frames[k].pos = f.f_lasti;
      k++;
    }
    fp = f.f_back;
  }
  unsigned char op;
  int op_ok;
  *n = add_checks(frames, k, 0, &op, &op_ok);
  return 0;
}

size_t scpy_code_bytes(void *code) {
  PyCodeObject co;
  PyBytesObject b;
  if (scpy_safe_read(code, &co, sizeof co) || !co.co_code) return 0;
  if (scpy_safe_read(co.co_code, &b, sizeof b)) return 0;
  return (size_t)Py_SIZE(&b);
}

#endif

#define NWANT 5
typedef struct range_ctx {
  uintptr_t want[NWANT];
  void (*add)(void *, uintptr_t, uintptr_t);
  void *arg;
} range_ctx;

static int on_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  range_ctx *rc = data;
  int mine = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    for (int w = 0; w < NWANT; w++)
      if (rc->want[w] >= lo && rc->want[w] < hi) mine = 1;
  }
  if (!mine) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
      rc->add(rc->arg, lo, lo + ph->p_memsz);
    }
  }
  return 0;
}

void scpy_runtime_ranges(void (*add)(void *arg, uintptr_t lo, uintptr_t hi), void *arg) {
  range_ctx rc;
  /* The interpreter (libpython or the python executable); libc, whose
   * memcpy/realloc the interpreter uses for its own work; and the dynamic
   * loader, whose __tls_get_addr a shared libpython (3.12+) calls to reach
   * its thread state on every few instructions.  With memory profiling,
   * the sampling allocator and mimalloc behind it serve the interpreter's
   * own allocations: time there is the interpreter's too. */
  rc.want[0] = (uintptr_t)(void *)&PyEval_EvalCode;
  rc.want[1] = (uintptr_t)(void *)&getpid;
  rc.want[2] = (uintptr_t)dlsym(RTLD_DEFAULT, "__tls_get_addr");
  rc.want[3] = (uintptr_t)dlsym(RTLD_DEFAULT, "scalenecore_preload_api");
  rc.want[4] = (uintptr_t)dlsym(RTLD_DEFAULT, "mi_malloc");
  rc.add = add;
  rc.arg = arg;
  dl_iterate_phdr(on_object, &rc);
}
