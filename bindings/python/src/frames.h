/* frames.h - CPython frame capture for the sampling path (frames.c is the
 * only file compiled against CPython's internal headers). */
#ifndef SCPY_FRAMES_H
#define SCPY_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "scalenecore.h"

/* 1 where an opcode calls out of the interpreter (see scalene/_opcodes.py). */
extern unsigned char scpy_call_ops[256];

/* Prepare the safe-copy primitive; call once at import and in forked
 * children.  Returns 0 when process_vm_readv works, 1 when it is not
 * permitted here and plain loads are used instead. */
int scpy_frames_init(void);

/* Copy n bytes from src; 0 on success, -1 when the memory is unreadable.
 * Async-signal-safe. */
int scpy_safe_read(const void *src, void *dst, size_t n);

/* sc_raw_frame_t.pos as capture() fills it: the instruction index in the
 * low 32 bits and, in bits 32-62, a check of the code object's identity
 * (a hash of its co_filename pointer and co_firstlineno, read when the
 * frame was captured).  The resolver runs later, on the ticker thread:
 * by then the code object a sample saw may have died and another taken
 * its address (a temporary code object of the runner or of importlib,
 * then the program's module code, kept alive from its exec on).  Without
 * the check that sample was charged to whatever line of the newcomer its
 * instruction index fell on; the resolver recomputes the check from the
 * code object it finds and drops the frame when the two differ. */
#define SCPY_POS_INDEX(pos) ((int64_t)((uint64_t)(pos)&0xffffffffu))
#define SCPY_POS_CHECK(pos) ((uint32_t)((uint64_t)(pos) >> 32))

static inline uint32_t scpy_code_check(uintptr_t filename, int firstlineno) {
  uint64_t x = (uint64_t)filename ^ ((uint64_t)(uint32_t)firstlineno * 0x9e3779b97f4a7c15ull);
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  return (uint32_t)(x & 0x7fffffffu);
}

static inline int64_t scpy_pos(uint64_t index, uint32_t check) {
  return (int64_t)(((uint64_t)check << 32) | (index & 0xffffffffu));
}

/* The resolver's capture(): walks the PyThreadState `ctx`'s frames by
 * copying them, innermost first (and their code objects, 32 to a copy,
 * for the check above).  Async-signal-safe and reentrant. */
int scpy_capture(void *user, void *ctx, sc_raw_frame_t *frames, size_t max, size_t *n,
                 uint32_t *flags);

/* The size in bytes of a code object's instructions (0 when `code` is not
 * readable).  Async-signal-safe. */
size_t scpy_code_bytes(void *code);

/* Call add(lo, hi) for every executable segment of the interpreter (the
 * object holding PyEval_EvalCode) and of the C library it uses. */
void scpy_runtime_ranges(void (*add)(void *arg, uintptr_t lo, uintptr_t hi), void *arg);

#endif
