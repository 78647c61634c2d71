/* symbolize.h - native-code symbolizer: a program counter of the calling
 * process -> (source file, function, line, function's first line).
 *
 * Built on elfutils' libdwfl: the process's modules come from
 * /proc/self/maps (dwfl_linux_proc_report), functions and first lines
 * from DWARF subprogram DIEs, lines from the DWARF line tables, and the
 * ELF symbol tables stand in for modules without DWARF.  Separate debug
 * files are found locally only: by build-id under /usr/lib/debug, and by
 * .gnu_debuglink unless DEBUGINFOD_URLS is set (libdwfl's path search
 * ends by asking a debuginfod server, which a profiler's drain must not
 * wait on).  Results are cached per address, so each distinct pc costs
 * one DWARF lookup.
 *
 * Used by the core to attribute native CPU samples and sampled allocations;
 * only ever from ordinary threads (the drain), never from a signal
 * handler.  Not installed; every function here has hidden visibility. */
#ifndef SC_SYMBOLIZE_H
#define SC_SYMBOLIZE_H

#include "../common/internal.h"

typedef struct sc__sym sc__sym;

/* Open a symbolizer for the calling process: reports its loaded modules
 * from /proc/self/maps through dwfl_linux_proc_report.  ELF and DWARF data
 * are read lazily, on the first lookup that lands in each module.
 * Returns NULL on failure (no memory, /proc not readable).
 * Ownership: the caller releases the handle with sc__sym_close.
 * Memory: the handle's own tables come from sc__malloc; libdw's memory
 * (module list, ELF and DWARF data) comes from plain malloc, so a caller
 * that has an allocator interposed must keep this thread out of its
 * sampling while it calls in here.
 * Thread-safety: any thread; the handle then belongs to one caller at a
 * time.  Async-signal-safe: no. */
sc__sym *sc__sym_open(void);

/* Release everything `s` owns, the strings handed out by sc__sym_lookup
 * included.  sc__sym_close(NULL) is a no-op.
 * Thread-safety: not with a lookup on the same handle in flight.
 * Async-signal-safe: no. */
void sc__sym_close(sc__sym *s);

/* Resolve `pc`.  `is_return_address` != 0 means pc is a return address:
 * pc - 1 is looked up so that the call site's line is reported.
 *
 * On success returns 0 and stores:
 *   *file          the absolute path of the line's source file from DWARF
 *                  (a relative name is joined to the compilation directory;
 *                  no further canonicalisation); else, with *line 0, the
 *                  function's declaring file; else the module's path from
 *                  /proc/self/maps, with *line and *function_line 0.  The
 *                  last case covers modules without DWARF and DWARF whose
 *                  paths are relative to nowhere (distribution packages
 *                  built with -fdebug-prefix-map, e.g. libc6-dbg's "./malloc");
 *   *function      the function's name from DWARF (the innermost function,
 *                  so a pc in inlined code names the inlined function), else
 *                  the ELF symbol containing pc (not demangled);
 *   *line          the line, 0 when there is no line information;
 *   *function_line the function's DW_AT_decl_line, 0 when unknown (always
 *                  for a function known only from its ELF symbol).
 * Every out-parameter must be non-NULL; on failure none is written.
 *
 * Errors: SC_EINVAL (a NULL argument), SC_ENOENT (pc lies in no module, or
 * in a module but in no function or symbol), SC_ESYS (the modules could
 * not be re-read from /proc/self/maps), SC_ENOMEM.
 *
 * Modules loaded or unloaded after sc__sym_open: a lookup that misses the
 * cache first asks the dynamic linker whether it has loaded or unloaded an
 * object since the last report (dl_iterate_phdr's dlpi_adds / dlpi_subs,
 * tens of nanoseconds) and, only then, re-reports the modules from
 * /proc/self/maps (a few hundred microseconds).  So a pc in a library
 * dlopen'ed since the last report is found, and a pc in no module costs no
 * re-report while nothing was loaded.  A re-report that finds the module
 * set changed drops the per-pc cache (a dlclose may have freed an address
 * range that something else now occupies).  Failures other than SC_ENOMEM
 * and SC_ESYS are cached like results.  Executable file mappings made
 * without the dynamic linker (a plain mmap) are only seen at the next
 * re-report.
 *
 * Ownership: the strings are owned by `s` (interned: equal strings are the
 * same pointer) and stay valid until sc__sym_close.
 * Thread-safety: not thread-safe: one caller at a time per handle (the
 * core calls it from its drain, under its lock).
 * Async-signal-safe: no; never call it from a signal handler.  It
 * allocates (see sc__sym_open for which allocator) and may read files. */
int sc__sym_lookup(sc__sym *s, uintptr_t pc, int is_return_address, const char **file,
                   const char **function, int32_t *line, int32_t *function_line);

#endif
