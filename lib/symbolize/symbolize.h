/* symbolize.h - TEMPORARY placeholder until the libdw symbolizer lands. */
#ifndef SC_SYMBOLIZE_H
#define SC_SYMBOLIZE_H
#include <stdint.h>
typedef struct sc__sym sc__sym;
sc__sym *sc__sym_open(void);
void sc__sym_close(sc__sym *s);
int sc__sym_lookup(sc__sym *s, uintptr_t pc, int is_return_address,
                   const char **file, const char **function,
                   int32_t *line, int32_t *function_line);
#endif
