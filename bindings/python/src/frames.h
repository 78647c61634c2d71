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

/* The resolver's capture(): walks the PyThreadState `ctx`'s frames by
 * copying them, innermost first.  Async-signal-safe and reentrant. */
int scpy_capture(void *user, void *ctx, sc_raw_frame_t *frames, size_t max, size_t *n,
                 uint32_t *flags);

/* The size in bytes of a code object's instructions (0 when `code` is not
 * readable).  Async-signal-safe. */
size_t scpy_code_bytes(void *code);

/* Call add(lo, hi) for every executable segment of the interpreter (the
 * object holding PyEval_EvalCode) and of the C library it uses. */
void scpy_runtime_ranges(void (*add)(void *arg, uintptr_t lo, uintptr_t hi), void *arg);

#endif
