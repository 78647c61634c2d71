/* symbolize.c - see symbolize.h.
 *
 * One Dwfl session per handle, fed from /proc/self/maps.  A lookup finds
 * the module by address, then asks, in this order:
 *   1. the CU DIE containing pc and its scopes (dwarf_getscopes): the
 *      innermost subprogram or inlined_subroutine gives the function name
 *      and DW_AT_decl_line (both through DW_AT_abstract_origin /
 *      DW_AT_specification, which libdw follows);
 *   2. the ELF symbol table (dwfl_module_addrinfo) when DWARF names no
 *      function (stripped module, assembly without subprogram DIEs);
 *   3. the line table (dwfl_module_getsrc): file and line, kept only as an
 *      absolute path; else the module's path.
 * DWARF is read only from the module's own file: a module whose debug
 * information lives in a separate file (a distribution's -dbg/-dbgsym
 * package) is named by the symbol table of that file alone, with the
 * module's path and no lines (see module_has_dwarf).
 * Answers, failures included, are cached per looked-up address; names are
 * interned so each distinct string is stored once. */
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/map.h"

/* What the cache keeps for one looked-up address. */
typedef struct sym_entry {
  int32_t rc; /* 0, or the cached negative code */
  uint32_t file, function; /* string ids in sc__sym.strs */
  int32_t line, function_line;
} sym_entry;

/* The dynamic linker's load and unload counters. */
typedef struct link_gen {
  unsigned long long adds, subs;
  int known; /* 0: this libc does not report them */
} link_gen;

struct sc__sym {
  Dwfl *dwfl;
  sc__strtab strs;
  sc__map cache;     /* uintptr_t address -> sym_entry */
  link_gen reported; /* the counters as of the last report */
};

/* Separate debug files are looked up by build-id only (the tree under
 * /usr/lib/debug/.build-id that Debian's -dbg and -dbgsym packages fill),
 * never through libdwfl's standard search: after the build-id tree and
 * .gnu_debuglink it calls debuginfod, whose client library elfutils
 * dlopens on first use whether DEBUGINFOD_URLS is set or not (0.188:
 * libdebuginfod, libcurl and GnuTLS, 7 ms of CPU in the middle of the
 * profiled run), and with the variable set fetches over the network.
 * Only the symbol table of such a file is read (see module_has_dwarf), so
 * a module that has a debug file only through .gnu_debuglink is named by
 * its dynamic symbols alone. */
static int find_debuginfo_build_id_only(Dwfl_Module *mod, void **userdata, const char *modname,
                                        Dwarf_Addr base, const char *file_name,
                                        const char *debuglink_file, GElf_Word debuglink_crc,
                                        char **debuginfo_file_name) {
  return dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                      debuglink_crc, debuginfo_file_name);
}

/* NULL: libdwfl's default path (":.debug:/usr/lib/debug").  The
 * callbacks are read for the whole life of a Dwfl, hence static. */
static char *debuginfo_path = NULL;

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = find_debuginfo_build_id_only,
    .debuginfo_path = &debuginfo_path,
};

/* ---- module reporting ---------------------------------------------------- */

static int count_module(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
                        void *arg) {
  ++*(size_t *)arg;
  return DWARF_CB_OK;
}

static size_t module_count(Dwfl *dwfl) {
  size_t n = 0;
  dwfl_getmodules(dwfl, count_module, &n, 0);
  return n;
}

/* Modules the last report no longer listed (libdwfl frees them). */
static int note_removed(Dwfl_Module *mod, void *userdata, const char *name, Dwarf_Addr start,
                        void *arg) {
  ++*(size_t *)arg;
  return DWARF_CB_OK;
}

static int read_link_gen(struct dl_phdr_info *info, size_t size, void *arg) {
  link_gen *g = arg;
  if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
    g->adds = info->dlpi_adds;
    g->subs = info->dlpi_subs;
    g->known = 1;
  }
  return 1; /* the counters are the same in every entry: stop at the first */
}

static link_gen link_gen_now(void) {
  link_gen g = {0, 0, 0};
  dl_iterate_phdr(read_link_gen, &g);
  return g;
}

/* Whether the dynamic linker may have loaded or unloaded an object since
 * the last report (always, when it does not say). */
static int link_map_moved(const sc__sym *s) {
  link_gen g = link_gen_now();
  return !g.known || !s->reported.known || g.adds != s->reported.adds ||
         g.subs != s->reported.subs;
}

/* (Re)read /proc/self/maps.  Modules listed again under the same name and
 * range keep their loaded ELF and DWARF; the others are dropped.  *changed
 * says whether the module set differs from before. */
static int report_modules(sc__sym *s, int *changed) {
  size_t before = module_count(s->dwfl), removed = 0;
  /* Read before the maps: a dlopen racing with the report moves the
   * counters past what is recorded, so the next miss reports again. */
  s->reported = link_gen_now();
  dwfl_report_begin(s->dwfl);
  int rc = dwfl_linux_proc_report(s->dwfl, getpid());
  /* Always end the report, even a failed one: the Dwfl stays usable. */
  if (dwfl_report_end(s->dwfl, note_removed, &removed) != 0 && rc == 0) rc = -1;
  if (changed) *changed = removed != 0 || module_count(s->dwfl) != before;
  if (rc != 0) s->reported.known = 0; /* try again on the next miss */
  if (rc > 0) return SC_ESYS; /* an errno value: /proc not readable */
  if (rc < 0) return SC_ESYS; /* libdwfl failed (its codes are private) */
  return 0;
}

/* ---- strings -------------------------------------------------------------- */

static int intern(sc__sym *s, const char *str, uint32_t *id) {
  int64_t rc = sc__strtab_intern(&s->strs, str);
  if (rc < 0) return (int)rc;
  *id = (uint32_t)rc;
  return 0;
}

/* Intern `name` as an absolute path: as it is when it starts with '/',
 * else joined to `dir` when that is absolute ("./" prefixes of name are
 * dropped).  SC_ENOENT when neither is absolute: distributions build with
 * -fdebug-prefix-map, which leaves paths such as "./malloc" that name no
 * file on this machine. */
static int intern_abs_path(sc__sym *s, const char *dir, const char *name, uint32_t *id) {
  if (!name || !name[0]) return SC_ENOENT;
  if (name[0] == '/') return intern(s, name, id);
  if (!dir || dir[0] != '/') return SC_ENOENT;
  while (name[0] == '.' && name[1] == '/') name += 2;
  sc__buf b;
  sc__buf_init(&b);
  sc__buf_puts(&b, dir);
  if (b.len && b.data[b.len - 1] != '/') sc__buf_putc(&b, '/');
  sc__buf_puts(&b, name);
  char *path = sc__buf_take(&b, NULL);
  if (!path) return SC_ENOMEM;
  int rc = intern(s, path, id);
  sc__free(path);
  return rc;
}

/* ---- one lookup ------------------------------------------------------------ */

/* Whether the module's own ELF file carries DWARF (.debug_info, plain or
 * compressed).  Without it, libdw would look for a separate debug file
 * and read its DWARF: for glibc's (libc6-dbg) that means inflating 3.8 MB
 * of compressed sections into 10 MB, 36 ms of CPU and 12 MiB of heap in the middle
 * of the profiled run, for nothing: distributions build with
 * -fdebug-prefix-map, so those files name relative paths (./malloc) that
 * intern_abs_path refuses, and the answer was the module's path with no
 * line anyway.  The separate file's symbol table is still used
 * (dwfl_module_addrinfo opens it without touching its DWARF), so internal
 * functions keep their names. */
static int module_has_dwarf(Dwfl_Module *mod) {
  GElf_Addr bias;
  Elf *elf = dwfl_module_getelf(mod, &bias);
  size_t shstrndx;
  if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0) return 0;
  for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
    GElf_Shdr shdr;
    if (!gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS) continue;
    const char *name = elf_strptr(elf, shstrndx, shdr.sh_name);
    if (name && (!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info"))) return 1;
  }
  return 0;
}

/* The CU's compilation directory, NULL if it has none. */
static const char *comp_dir(Dwarf_Die *cu) {
  Dwarf_Attribute attr;
  return dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
}

/* Resolve `addr` (already adjusted for return addresses) in `mod`. */
static int resolve(sc__sym *s, Dwfl_Module *mod, Dwarf_Addr addr, sym_entry *out) {
  const char *function = NULL, *decl_file = NULL, *cu_dir = NULL;
  int function_line = 0;

  int dwarf = module_has_dwarf(mod);

  /* 1. DWARF: the innermost function scope containing addr. */
  Dwarf_Addr bias = 0;
  Dwarf_Die *cu = dwarf ? dwfl_module_addrdie(mod, addr, &bias) : NULL;
  Dwarf_Die *scopes = NULL; /* malloc'd by libdw */
  if (cu) {
    cu_dir = comp_dir(cu);
    int n = dwarf_getscopes(cu, addr - bias, &scopes);
    for (int i = 0; i < n; i++) {
      int tag = dwarf_tag(&scopes[i]);
      if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
      function = dwarf_diename(&scopes[i]);
      if (dwarf_decl_line(&scopes[i], &function_line) != 0) function_line = 0;
      decl_file = dwarf_decl_file(&scopes[i]);
      break;
    }
  }

  /* 2. ELF symbol table when DWARF named no function. */
  if (!function) {
    GElf_Off offset;
    GElf_Sym sym;
    function = dwfl_module_addrinfo(mod, addr, &offset, &sym, NULL, NULL, NULL);
    function_line = 0;
  }
  int rc = 0;
  if (!function || !function[0]) {
    rc = SC_ENOENT;
    goto done;
  }
  rc = intern(s, function, &out->function);
  if (rc < 0) goto done;
  out->function_line = function_line > 0 ? function_line : 0;

  /* 3. File and line: the line table's file, else the function's
   * declaring file (line unknown), as absolute paths; else the module's
   * path, and then neither line refers to it. */
  Dwfl_Line *ln = dwarf ? dwfl_module_getsrc(mod, addr) : NULL;
  int lineno = 0;
  const char *src = ln ? dwfl_lineinfo(ln, NULL, &lineno, NULL, NULL, NULL) : NULL;
  rc = src ? intern_abs_path(s, dwfl_line_comp_dir(ln), src, &out->file) : SC_ENOENT;
  if (rc == 0) {
    out->line = lineno > 0 ? lineno : 0;
    goto done;
  }
  out->line = 0;
  if (rc == SC_ENOENT) rc = intern_abs_path(s, cu_dir, decl_file, &out->file);
  if (rc == SC_ENOENT) {
    const char *modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    out->function_line = 0;
    rc = intern(s, modname ? modname : "", &out->file);
  }

done:
  free(scopes); /* libdw's allocation: plain free, never sc__free */
  return rc;
}

/* ---- API ------------------------------------------------------------------- */

sc__sym *sc__sym_open(void) {
  sc__sym *s = sc__calloc(1, sizeof *s);
  if (!s) return NULL;
  sc__strtab_init(&s->strs);
  sc__map_init(&s->cache, sizeof(uintptr_t), sizeof(sym_entry));
  s->dwfl = dwfl_begin(&callbacks);
  if (!s->dwfl || report_modules(s, NULL) < 0) {
    sc__sym_close(s);
    return NULL;
  }
  return s;
}

void sc__sym_close(sc__sym *s) {
  if (!s) return;
  if (s->dwfl) dwfl_end(s->dwfl);
  sc__strtab_free(&s->strs);
  sc__map_free(&s->cache);
  sc__free(s);
}

int sc__sym_lookup(sc__sym *s, uintptr_t pc, int is_return_address, const char **file,
                   const char **function, int32_t *line, int32_t *function_line) {
  SC_RETURN_IF(!s || !file || !function || !line || !function_line, SC_EINVAL);
  uintptr_t addr = is_return_address ? pc - 1 : pc;

  const sym_entry *hit = sc__map_get(&s->cache, &addr);
  if (!hit) {
    sym_entry e = {0, 0, 0, 0, 0};
    /* A miss is the moment to notice a dlopen or dlclose: re-read the
     * modules when the dynamic linker's counters moved (a few tens of ns
     * to ask, against a few hundred us for a report). */
    if (link_map_moved(s)) {
      int changed = 0;
      SC_FORWARD_IF_ERROR(report_modules(s, &changed));
      /* A changed set may have moved or freed what cached answers name. */
      if (changed) {
        sc__map_free(&s->cache);
        sc__map_init(&s->cache, sizeof(uintptr_t), sizeof(sym_entry));
      }
    }
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
    e.rc = mod ? resolve(s, mod, addr, &e) : SC_ENOENT;
    if (e.rc == SC_ENOMEM) return e.rc;
    sym_entry *slot = sc__map_upsert(&s->cache, &addr, NULL);
    if (!slot) return SC_ENOMEM;
    *slot = e;
    hit = slot;
  }
  if (hit->rc < 0) return hit->rc;
  *file = sc__strtab_str(&s->strs, hit->file);
  *function = sc__strtab_str(&s->strs, hit->function);
  *line = hit->line;
  *function_line = hit->function_line;
  return 0;
}
