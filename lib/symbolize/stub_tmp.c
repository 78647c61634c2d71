#include "../common/internal.h"
#include "symbolize.h"
sc__sym *sc__sym_open(void) { return NULL; }
void sc__sym_close(sc__sym *s) { (void)s; }
int sc__sym_lookup(sc__sym *s, uintptr_t pc, int r, const char **f, const char **fn, int32_t *l, int32_t *fl) {
  (void)s; (void)pc; (void)r; (void)f; (void)fn; (void)l; (void)fl; return SC_ENOENT; }
