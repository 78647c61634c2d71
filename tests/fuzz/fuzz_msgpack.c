/* fuzz_msgpack.c - libFuzzer target for the MessagePack+zstd profile
 * reader (lib/export/msgpack.c) and sc_profile_load_buffer.
 *
 * The first byte picks what the rest is:
 *   bit 0 clear: a whole file, read as it is (zstd frame handling);
 *   bit 0 set:   raw MessagePack, compressed here first, so mutations
 *                reach the MessagePack decoder instead of failing zstd's
 *                checksum; bit 1 then leaves the content size out of the
 *                frame header (the streaming path of the reader).
 * A rejected input fails with SC_EFORMAT only; an accepted one survives
 * the round trips of fuzz_round_trips().
 *
 * The committed seeds (corpus/msgpack/) hold files of every format
 * version: version 1 (file-demo, raw-edge, ...), version 2, whose files'
 * lines and functions are tables of runs and schemas (*-v2, and
 * badraw-table-* for broken ones), and version 3, whose tables may have
 * sparse columns and columns of tuples (*-v3, and badraw-table-v3-* for
 * broken ones); msgpack.dict gives the format's own keys as MessagePack
 * strs. */
#include <zstd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t *in = data + 1;
  size_t n = size - 1;
  void *owned = NULL;
  if (data[0] & 1) {
    size_t bound = ZSTD_compressBound(n);
    owned = malloc(bound);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    FUZZ_CHECK(owned && c);
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, (data[0] & 2) ? 0 : 1);
    size_t z = ZSTD_compress2(c, owned, bound, in, n);
    ZSTD_freeCCtx(c);
    FUZZ_CHECK(!ZSTD_isError(z));
    in = owned;
    n = z;
  }
  sc__value *v = NULL;
  int rc = sc__msgpack_zstd_read(in, n, &v);
  if (rc == 0) FUZZ_CHECK(v->type == SC__V_OBJECT); /* the format holds objects only */
  fuzz_check_read(rc, v);
  fuzz_check_load(in, n);
  free(owned);
  return 0;
}
