/* msgpack.c - the compact profile format: the document as one MessagePack
 * map (msgpack-c's packer and unpacker) in one zstd frame (libzstd).
 * docs/profile-format.md specifies it; in short:
 *
 *   zstd frame (content size in the header, XXH64 content checksum)
 *   └ MessagePack map
 *       "format":         "scalenecore-profile"   (always the first key)
 *       "format_version": 1                       (always the second key)
 *       ...the document's own keys, in its order...
 *
 * Types: null -> nil, bool -> true/false, integers -> the smallest
 * MessagePack int/uint, other numbers -> float64 (a NaN or infinity is
 * written as nil, as the JSON writer writes null), strings -> str (UTF-8;
 * invalid bytes become U+FFFD as in JSON), arrays -> array, objects -> map
 * with str keys.
 *
 * The reader accepts exactly one zstd frame (a known content size, or an
 * unknown one as streamed by `zstd` from a pipe, up to SC__DOC_MAX_BYTES)
 * holding exactly one MessagePack value.  SC_EFORMAT for anything else:
 * truncated or corrupt frames (checksums are verified when present),
 * trailing bytes, another format name, a format_version newer than this
 * library's, bin / ext / the reserved 0xc1, non-str map keys, keys holding
 * NUL, duplicate keys, invalid UTF-8, non-finite floats, declared lengths
 * larger than the bytes that follow, nesting deeper than
 * SC__DOC_MAX_DEPTH, more than SC__DOC_MAX_VALUES values.
 *
 * A first pass over the decompressed bytes checks their structure and
 * bounds before msgpack-c unpacks them, so the unpacker never allocates
 * for lengths that the input cannot back; msgpack-c then unpacks the
 * document in pieces (see "pieces" below), converted into an arena
 * document (value.h) as they come. */
#include <math.h>
#include <msgpack.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "doc.h"

#define ZSTD_LEVEL 3

/* ---- writing ------------------------------------------------------------ */

static int buf_write(void *data, const char *buf, size_t len) {
  sc__buf *b = data;
  sc__buf_put(b, buf, len);
  return b->failed ? -1 : 0;
}

/* A str with invalid UTF-8 replaced by U+FFFD, byte by byte, as the JSON
 * writer does, so both formats carry the same text. */
static int pack_text(msgpack_packer *pk, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  size_t ok = sc__utf8_valid_prefix(u, n);
  if (ok == n) {
    if (msgpack_pack_str(pk, n) < 0 || msgpack_pack_str_body(pk, s, n) < 0) return SC_ENOMEM;
    return 0;
  }
  sc__buf clean;
  sc__buf_init(&clean);
  size_t i = 0;
  while (i < n) {
    size_t k = sc__utf8_valid_prefix(u + i, n - i);
    sc__buf_put(&clean, u + i, k);
    i += k;
    if (i < n) {
      sc__buf_put(&clean, "\xEF\xBF\xBD", 3);
      i++;
    }
  }
  int rc = clean.failed ? SC_ENOMEM : 0;
  if (rc == 0 && (msgpack_pack_str(pk, clean.len) < 0 ||
                  msgpack_pack_str_body(pk, clean.data, clean.len) < 0))
    rc = SC_ENOMEM;
  sc__buf_free(&clean);
  return rc;
}

static int pack_value(msgpack_packer *pk, const sc__value *v, int depth) {
  int r = 0;
  switch (v->type) {
    case SC__V_NULL: r = msgpack_pack_nil(pk); break;
    case SC__V_BOOL: r = v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk); break;
    case SC__V_INT: r = msgpack_pack_int64(pk, v->u.i); break;
    case SC__V_DOUBLE:
      r = isfinite(v->u.d) ? msgpack_pack_double(pk, v->u.d) : msgpack_pack_nil(pk);
      break;
    case SC__V_STRING: return pack_text(pk, v->u.str.s, v->u.str.len);
    case SC__V_ARRAY:
    case SC__V_OBJECT: {
      /* what the reader would refuse, the writer refuses */
      if (depth >= SC__DOC_MAX_DEPTH) return SC_EINVAL;
      int obj = v->type == SC__V_OBJECT;
      r = obj ? msgpack_pack_map(pk, v->u.c.len) : msgpack_pack_array(pk, v->u.c.len);
      for (size_t i = 0; r == 0 && i < v->u.c.len; i++) {
        if (obj) SC_FORWARD_IF_ERROR(pack_text(pk, v->u.c.keys[i], strlen(v->u.c.keys[i])));
        SC_FORWARD_IF_ERROR(pack_value(pk, v->u.c.items[i], depth + 1));
      }
      break;
    }
  }
  return r < 0 ? SC_ENOMEM : 0;
}

static int pack_doc(const sc__value *doc, sc__buf *raw) {
  msgpack_packer pk;
  msgpack_packer_init(&pk, raw, buf_write);
  static const char name_key[] = "format", ver_key[] = "format_version";
  static const char name[] = SC__PROFILE_FORMAT_NAME;
  if (msgpack_pack_map(&pk, doc->u.c.len + 2) < 0 ||
      msgpack_pack_str_with_body(&pk, name_key, sizeof name_key - 1) < 0 ||
      msgpack_pack_str_with_body(&pk, name, sizeof name - 1) < 0 ||
      msgpack_pack_str_with_body(&pk, ver_key, sizeof ver_key - 1) < 0 ||
      msgpack_pack_int(&pk, SC__PROFILE_FORMAT_VERSION) < 0)
    return SC_ENOMEM;
  for (size_t i = 0; i < doc->u.c.len; i++) {
    SC_FORWARD_IF_ERROR(pack_text(&pk, doc->u.c.keys[i], strlen(doc->u.c.keys[i])));
    SC_FORWARD_IF_ERROR(pack_value(&pk, doc->u.c.items[i], 1));
  }
  return raw->failed ? SC_ENOMEM : 0;
}

int sc__msgpack_zstd_write(const sc__value *doc, sc__buf *out) {
  if (!doc || !out || doc->type != SC__V_OBJECT) return SC_EINVAL;
  sc__buf raw;
  sc__buf_init(&raw);
  int rc = pack_doc(doc, &raw);
  ZSTD_CCtx *cctx = NULL;
  if (rc == 0) {
    cctx = ZSTD_createCCtx();
    size_t bound = ZSTD_compressBound(raw.len);
    if (!cctx || ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)) ||
        sc__buf_reserve(out, bound) < 0) {
      rc = SC_ENOMEM;
    } else {
      size_t n = ZSTD_compress2(cctx, out->data + out->len, bound, raw.data, raw.len);
      if (ZSTD_isError(n)) {
        rc = SC_ENOMEM; /* with a bound-sized buffer only allocation can fail */
      } else {
        out->len += n;
        out->data[out->len] = '\0';
      }
    }
  }
  ZSTD_freeCCtx(cctx);
  sc__buf_free(&raw);
  return rc;
}

/* ---- decompression ------------------------------------------------------ */

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define WINDOW_LOG_MAX 24
#else
#define WINDOW_LOG_MAX 27 /* zstd's default limit: 128 MiB windows */
#endif

/* A frame without a content size (written by a streaming compressor):
 * decompress it into a buffer that doubles up to the size limit. */
static int decompress_stream(ZSTD_DCtx *dctx, const void *data, size_t len, char **out,
                             size_t *outlen) {
  size_t cap = len < (SC__DOC_MAX_BYTES >> 3) ? len * 8 : SC__DOC_MAX_BYTES;
  if (cap < 65536) cap = 65536;
  if (cap > SC__DOC_MAX_BYTES) cap = SC__DOC_MAX_BYTES;
  char *buf = sc__malloc(cap);
  if (!buf) return SC_ENOMEM;
  ZSTD_inBuffer in = {data, len, 0};
  ZSTD_outBuffer ob = {buf, cap, 0};
  for (;;) {
    size_t r = ZSTD_decompressStream(dctx, &ob, &in);
    if (ZSTD_isError(r)) {
      sc__free(buf);
      return ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? SC_ENOMEM : SC_EFORMAT;
    }
    if (r == 0) break; /* frame complete (and its checksum verified) */
    if (ob.pos == ob.size) {
      if (cap >= SC__DOC_MAX_BYTES) {
        sc__free(buf);
        return SC_EFORMAT; /* larger than any profile this library loads */
      }
      cap = cap > SC__DOC_MAX_BYTES / 2 ? SC__DOC_MAX_BYTES : cap * 2;
      char *nb = sc__realloc(buf, cap);
      if (!nb) {
        sc__free(buf);
        return SC_ENOMEM;
      }
      buf = nb;
      ob.dst = buf;
      ob.size = cap;
    } else if (in.pos == in.size) {
      sc__free(buf);
      return SC_EFORMAT; /* input ended inside the frame */
    }
  }
  if (in.pos != in.size || ob.pos == 0) {
    sc__free(buf);
    return SC_EFORMAT;
  }
  *out = buf;
  *outlen = ob.pos;
  return 0;
}

/* The payload of the one frame in data[0..len) in *out (*outlen bytes),
 * from sc__pages_alloc(*mapped) when *mapped is not 0, else from
 * sc__malloc. */
static int decompress(const void *data, size_t len, char **out, size_t *outlen, size_t *mapped) {
  SC_RETURN_IF(len > SC__DOC_MAX_BYTES, SC_EFORMAT);
  /* exactly one frame, nothing after it */
  size_t fsz = ZSTD_findFrameCompressedSize(data, len);
  SC_RETURN_IF(ZSTD_isError(fsz) || fsz != len, SC_EFORMAT);
  unsigned long long cs = ZSTD_getFrameContentSize(data, len);
  SC_RETURN_IF(cs == ZSTD_CONTENTSIZE_ERROR || cs == 0, SC_EFORMAT);
  SC_RETURN_IF(cs != ZSTD_CONTENTSIZE_UNKNOWN && cs > SC__DOC_MAX_BYTES, SC_EFORMAT);
  ZSTD_DCtx *dctx = ZSTD_createDCtx();
  if (!dctx) return SC_ENOMEM;
  int rc;
  if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, WINDOW_LOG_MAX))) {
    rc = SC_ENOMEM;
  } else if (cs == ZSTD_CONTENTSIZE_UNKNOWN) {
    *mapped = 0;
    rc = decompress_stream(dctx, data, len, out, outlen);
  } else {
    /* written once, read twice, freed: huge pages save most page faults */
    char *buf = sc__pages_alloc((size_t)cs);
    if (!buf) {
      rc = SC_ENOMEM;
    } else {
      size_t n = ZSTD_decompressDCtx(dctx, buf, (size_t)cs, data, len);
      if (ZSTD_isError(n) || n != cs) {
        sc__pages_free(buf, (size_t)cs);
        rc = ZSTD_isError(n) && ZSTD_getErrorCode(n) == ZSTD_error_memory_allocation ? SC_ENOMEM
                                                                                     : SC_EFORMAT;
      } else {
        *out = buf;
        *outlen = n;
        *mapped = n;
        rc = 0;
      }
    }
  }
  ZSTD_freeDCtx(dctx);
  return rc;
}

/* ---- structural check of the MessagePack bytes ------------------------- */

/* msgpack-c unpacks the document in pieces of at most this many encoded
 * bytes (see "pieces" below).  Fuzzing builds use tiny pieces, so that
 * short inputs go through both paths: pieces and large containers. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define PIECE_BYTES ((size_t)48)
#else
#define PIECE_BYTES ((size_t)64 << 10)
#endif

/* A container larger than PIECE_BYTES: where its encoding starts and
 * ends in the MessagePack bytes. */
typedef struct span {
  size_t start, end;
} span;

typedef struct spans {
  span *v;
  size_t n, cap;
} spans;

static int spans_add(spans *s, size_t start, size_t end) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    span *v = sc__realloc(s->v, cap * sizeof *v);
    if (!v) return SC_ENOMEM;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n].start = start;
  s->v[s->n++].end = end;
  return 0;
}

static int span_cmp(const void *a, const void *b) {
  size_t x = ((const span *)a)->start, y = ((const span *)b)->start;
  return x < y ? -1 : x > y;
}

static uint64_t be(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

/* Walk the encoding once without allocating (but for `big`): every type
 * byte known and allowed, every length backed by the bytes that follow,
 * one top-level value and nothing after it, nesting and value count within
 * the limits.  The containers whose encoding is larger than PIECE_BYTES
 * go to `big`, in the order in which they start. */
static int prescan(const unsigned char *p, size_t len, spans *big) {
  const unsigned char *begin = p, *end = p + len;
  uint64_t pending[SC__DOC_MAX_DEPTH + 1]; /* items left per open container */
  size_t start[SC__DOC_MAX_DEPTH + 1];     /* where each open container starts */
  int top = 0;
  pending[0] = 1; /* the root value */
  size_t nvalues = 0;
  while (top >= 0) {
    if (pending[top] == 0) {
      if (top > 0 && (size_t)(p - begin) - start[top] > PIECE_BYTES)
        SC_FORWARD_IF_ERROR(spans_add(big, start[top], (size_t)(p - begin)));
      top--;
      continue;
    }
    pending[top]--;
    SC_RETURN_IF(p >= end, SC_EFORMAT);
    /* + 4: the format header's two keys and two values */
    SC_RETURN_IF(++nvalues > SC__DOC_MAX_VALUES + 4, SC_EFORMAT);
    size_t at = (size_t)(p - begin);
    unsigned c = *p++;
    size_t avail = (size_t)(end - p);
    uint64_t skip = 0, children = 0;
    int container = 0;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
      /* fixint, nil, bool */
    } else if (c <= 0x8f) {
      children = 2 * (uint64_t)(c & 0x0f);
      container = 1;
    } else if (c <= 0x9f) {
      children = c & 0x0f;
      container = 1;
    } else if (c <= 0xbf) {
      skip = c & 0x1f;
    } else {
      int lenbytes = 0;
      switch (c) {
        case 0xca: skip = 4; break;
        case 0xcb: skip = 8; break;
        case 0xcc: case 0xd0: skip = 1; break;
        case 0xcd: case 0xd1: skip = 2; break;
        case 0xce: case 0xd2: skip = 4; break;
        case 0xcf: case 0xd3: skip = 8; break;
        case 0xd9: lenbytes = 1; break;
        case 0xda: case 0xdc: case 0xde: lenbytes = 2; break;
        case 0xdb: case 0xdd: case 0xdf: lenbytes = 4; break;
        default: return SC_EFORMAT; /* 0xc1, bin, ext, fixext */
      }
      if (lenbytes) {
        SC_RETURN_IF(avail < (size_t)lenbytes, SC_EFORMAT);
        uint64_t n = be(p, lenbytes);
        p += lenbytes;
        avail -= (size_t)lenbytes;
        if (c == 0xd9 || c == 0xda || c == 0xdb) skip = n;
        else {
          container = 1;
          children = c >= 0xde ? 2 * n : n;
        }
      }
    }
    SC_RETURN_IF(skip > avail, SC_EFORMAT);
    p += skip;
    if (container && children) {
      /* each item takes at least one byte */
      SC_RETURN_IF(children > (uint64_t)(end - p), SC_EFORMAT);
      SC_RETURN_IF(top + 1 > SC__DOC_MAX_DEPTH, SC_EFORMAT);
      pending[++top] = children;
      start[top] = at;
    } else if (container) {
      SC_RETURN_IF(top + 1 > SC__DOC_MAX_DEPTH, SC_EFORMAT);
    }
  }
  SC_RETURN_IF(p != end, SC_EFORMAT);
  /* found as they ended, inner before outer */
  if (big->n > 1) qsort(big->v, big->n, sizeof *big->v, span_cmp);
  return 0;
}

/* ---- msgpack objects to documents -------------------------------------- */

/* The conversion's state: the document being built, the keys of the maps
 * being converted (innermost last; see sc__objkeys), a shape per depth;
 * the MessagePack bytes, their large containers and the next of those to
 * come, and the unpacked piece. */
typedef struct conv {
  sc__vdoc *doc;
  char **keys;
  size_t sp, cap;
  int depth;
  sc__shape shapes[SC__DOC_MAX_DEPTH + 1];
  const char *raw;
  size_t rawlen;
  spans big;
  size_t next_big;
  msgpack_unpacked up;
} conv;

static int text_ok(const char *s, size_t n) {
  return sc__utf8_valid_prefix((const unsigned char *)s, n) == n;
}

static int convert(conv *cv, const msgpack_object *o, sc__value **out);

/* Room on the key stack for n more keys. */
static int keys_reserve(conv *cv, size_t n) {
  if (cv->cap - cv->sp >= n) return 0;
  size_t cap = cv->cap ? cv->cap : 256;
  while (cap - cv->sp < n) cap *= 2;
  char **k = sc__realloc(cv->keys, cap * sizeof *k);
  if (!k) return SC_ENOMEM;
  cv->keys = k;
  cv->cap = cap;
  return 0;
}

/* The key of member i of a map being converted (base: where its keys
 * start on the key stack): checked, and its stored string in *key. */
static int map_key(conv *cv, sc__objkeys *ok, size_t base, const msgpack_object *k, char **key) {
  SC_RETURN_IF(k->type != MSGPACK_OBJECT_STR, SC_EFORMAT);
  size_t klen = k->via.str.size;
  const char *ktext = klen ? k->via.str.ptr : ""; /* msgpack-c: NULL when empty */
  *key = sc__objkeys_match(ok, ktext, klen);
  if (*key) return 0;
  SC_RETURN_IF(!text_ok(ktext, klen) || memchr(ktext, '\0', klen), SC_EFORMAT);
  /* SC_EFORMAT: a duplicate key */
  return sc__objkeys_other(ok, &cv->doc->arena, cv->keys + base, ktext, klen, key);
}

/* A map's members (n of them), from an unpacked map (kv) or, for a large
 * map, read one by one from the bytes at *off. */
static int map_members(conv *cv, const msgpack_object_kv *kv, size_t *off, size_t n,
                       sc__value **out);

static int convert_map(conv *cv, const msgpack_object_kv *kv, size_t n, sc__value **out) {
  return map_members(cv, kv, NULL, n, out);
}

static int convert(conv *cv, const msgpack_object *o, sc__value **out) {
  sc__value *v;
  switch (o->type) {
    case MSGPACK_OBJECT_NIL:
      v = sc__vdoc_null(cv->doc);
      break;
    case MSGPACK_OBJECT_BOOLEAN:
      v = sc__vdoc_bool(cv->doc, o->via.boolean);
      break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
      /* above int64: a double, as the JSON reader does */
      if (o->via.u64 <= (uint64_t)INT64_MAX) {
        v = sc__vdoc_int(cv->doc, (int64_t)o->via.u64);
      } else {
        if ((v = sc__vdoc_node(cv->doc, SC__V_DOUBLE))) v->u.d = (double)o->via.u64;
      }
      break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
      v = sc__vdoc_int(cv->doc, o->via.i64);
      break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
      SC_RETURN_IF(!isfinite(o->via.f64), SC_EFORMAT);
      if ((v = sc__vdoc_node(cv->doc, SC__V_DOUBLE))) v->u.d = o->via.f64;
      break;
    case MSGPACK_OBJECT_STR: {
      size_t n = o->via.str.size;
      SC_RETURN_IF(!text_ok(o->via.str.ptr, n), SC_EFORMAT);
      if (n == 0) {
        v = sc__vdoc_empty(cv->doc, SC__V_STRING);
        break;
      }
      v = sc__vdoc_node(cv->doc, SC__V_STRING);
      char *copy = v ? sc__arena_strndup(&cv->doc->arena, o->via.str.ptr, n) : NULL;
      if (!copy) return SC_ENOMEM;
      v->u.str.s = copy;
      v->u.str.len = n;
      break;
    }
    case MSGPACK_OBJECT_ARRAY: {
      size_t n = o->via.array.size;
      if (n == 0) {
        v = sc__vdoc_empty(cv->doc, SC__V_ARRAY);
        break;
      }
      v = sc__vdoc_node(cv->doc, SC__V_ARRAY);
      sc__value **items = sc__arena_alloc(&cv->doc->arena, n * sizeof *items);
      if (!v || !items) return SC_ENOMEM;
      cv->depth++;
      for (size_t i = 0; i < n; i++) SC_FORWARD_IF_ERROR(convert(cv, &o->via.array.ptr[i], &items[i]));
      cv->depth--;
      v->u.c.items = items;
      v->u.c.keys = NULL;
      v->u.c.len = v->u.c.cap = (uint32_t)n;
      break;
    }
    case MSGPACK_OBJECT_MAP: {
      cv->depth++;
      int rc = convert_map(cv, o->via.map.ptr, o->via.map.size, out);
      cv->depth--;
      return rc;
    }
    default:
      return SC_EFORMAT; /* bin, ext (the pre-scan already refused them) */
  }
  if (!v) return SC_ENOMEM;
  *out = v;
  return 0;
}

/* ---- pieces -------------------------------------------------------------
 *
 * Unpacked in one go, a profile of 50,000 lines becomes some 60 MiB of
 * msgpack_object that are written once, read once and thrown away: most
 * of the time would go to faulting that memory in and to cache misses.
 * Instead, msgpack-c unpacks the document value by value where values are
 * small: every value whose encoding is at most PIECE_BYTES is one call to
 * msgpack_unpack_next, converted at once while its objects are in cache
 * (the next call reuses the same memory).  Only the containers larger
 * than that, which the pre-scan listed, are opened here: their header (a
 * type byte and a count, already checked by the pre-scan) is read here,
 * and their members are pieces in turn.  Every key, string and number is
 * still decoded by msgpack-c. */

/* Unpack the one value at raw[*off] (not a large container) into cv->up,
 * advancing *off past it. */
static int unpack_piece(conv *cv, size_t *off) {
  size_t start = *off;
  msgpack_unpack_return ur = msgpack_unpack_next(&cv->up, cv->raw, cv->rawlen, off);
  if (ur == MSGPACK_UNPACK_NOMEM_ERROR) return SC_ENOMEM;
  SC_RETURN_IF(ur != MSGPACK_UNPACK_SUCCESS || *off <= start, SC_EFORMAT);
  /* a piece never holds a large container (the pre-scan says where) */
  SC_RETURN_IF(cv->next_big < cv->big.n && cv->big.v[cv->next_big].start < *off, SC_EFORMAT);
  return 0;
}

/* The header of the large container at raw[*off]: its member count (a
 * map's pairs) and whether it is a map; *off moves past the header. */
static int big_header(conv *cv, size_t *off, size_t *n, int *is_map) {
  const unsigned char *p = (const unsigned char *)cv->raw + *off;
  size_t avail = cv->rawlen - *off;
  SC_RETURN_IF(avail < 1, SC_EFORMAT);
  unsigned c = p[0];
  int lenbytes = 0;
  if (c >= 0x80 && c <= 0x8f) {
    *n = c & 0x0f;
    *is_map = 1;
  } else if (c >= 0x90 && c <= 0x9f) {
    *n = c & 0x0f;
    *is_map = 0;
  } else if (c == 0xdc || c == 0xdd) {
    lenbytes = c == 0xdc ? 2 : 4;
    *is_map = 0;
  } else if (c == 0xde || c == 0xdf) {
    lenbytes = c == 0xde ? 2 : 4;
    *is_map = 1;
  } else {
    return SC_EFORMAT;
  }
  SC_RETURN_IF(avail < 1 + (size_t)lenbytes, SC_EFORMAT);
  if (lenbytes) *n = (size_t)be(p + 1, lenbytes);
  *off += 1 + (size_t)lenbytes;
  return 0;
}

/* Convert the value at raw[*off], advancing *off past it. */
static int convert_at(conv *cv, size_t *off, sc__value **out) {
  if (!(cv->next_big < cv->big.n && cv->big.v[cv->next_big].start == *off)) {
    SC_FORWARD_IF_ERROR(unpack_piece(cv, off));
    return convert(cv, &cv->up.data, out);
  }
  size_t end = cv->big.v[cv->next_big++].end, n;
  int is_map, rc;
  SC_FORWARD_IF_ERROR(big_header(cv, off, &n, &is_map));
  cv->depth++;
  if (is_map) {
    rc = map_members(cv, NULL, off, n, out);
  } else {
    /* the pre-scan checked that n items fit in the bytes */
    sc__value *v = sc__vdoc_node(cv->doc, SC__V_ARRAY);
    sc__value **items = n ? sc__arena_alloc(&cv->doc->arena, n * sizeof *items) : NULL;
    rc = v && (items || !n) ? 0 : SC_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) rc = convert_at(cv, off, &items[i]);
    if (rc == 0) {
      v->u.c.items = items;
      v->u.c.keys = NULL;
      v->u.c.len = v->u.c.cap = (uint32_t)n;
      *out = v;
    }
  }
  cv->depth--;
  SC_RETURN_IF(rc == 0 && *off != end, SC_EFORMAT);
  return rc;
}

static int map_members(conv *cv, const msgpack_object_kv *kv, size_t *off, size_t n,
                       sc__value **out) {
  if (n == 0) {
    *out = sc__vdoc_empty(cv->doc, SC__V_OBJECT);
    return *out ? 0 : SC_ENOMEM;
  }
  sc__arena *a = &cv->doc->arena;
  sc__value *obj = sc__vdoc_node(cv->doc, SC__V_OBJECT);
  sc__value **items = sc__arena_alloc(a, n * sizeof *items);
  if (!obj || !items || keys_reserve(cv, n) < 0) return SC_ENOMEM;
  size_t base = cv->sp;
  cv->sp += n; /* the key stack holds this map's keys at [base, base + n) */
  sc__shape *shape = &cv->shapes[cv->depth];
  sc__objkeys ok;
  sc__objkeys_begin(&ok, shape);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char *key;
    size_t klen;
    if (kv) {
      if ((rc = map_key(cv, &ok, base, &kv[i].key, &key)) < 0) break;
      klen = kv[i].key.via.str.size;
      rc = convert(cv, &kv[i].val, &items[i]);
    } else {
      if ((rc = unpack_piece(cv, off)) < 0 || (rc = map_key(cv, &ok, base, &cv->up.data, &key)) < 0)
        break;
      klen = cv->up.data.via.str.size;
      rc = convert_at(cv, off, &items[i]);
    }
    if (rc == 0) {
      cv->keys[base + i] = key;
      rc = sc__objkeys_commit(&ok, cv->keys + base, klen);
    }
  }
  char **keys = NULL;
  if (rc == 0) rc = sc__objkeys_end(&ok, a, cv->keys + base, shape, &keys);
  sc__objkeys_free(&ok);
  cv->sp = base;
  if (rc < 0) return rc; /* what is in the arena goes with the document */
  obj->u.c.items = items;
  obj->u.c.keys = keys;
  obj->u.c.len = obj->u.c.cap = (uint32_t)n;
  *out = obj;
  return 0;
}

/* ---- the document -------------------------------------------------------- */

static int str_is(const msgpack_object *o, const char *s) {
  size_t n = strlen(s);
  return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

static int header_value_ok(int which, const msgpack_object *v) {
  if (which == 0) return str_is(v, SC__PROFILE_FORMAT_NAME);
  return v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 >= 1 &&
         v->via.u64 <= SC__PROFILE_FORMAT_VERSION;
}

/* The top-level map: the format header ("format", "format_version"), then
 * the document's own members. */
static int convert_root(conv *cv, sc__value **out) {
  static const char *const header_keys[2] = {"format", "format_version"};
  size_t off = 0, n;
  cv->depth = 1; /* the root, as in the JSON reader */
  if (!(cv->big.n && cv->big.v[0].start == 0)) {
    /* a small document: one piece */
    SC_FORWARD_IF_ERROR(unpack_piece(cv, &off));
    SC_RETURN_IF(off != cv->rawlen, SC_EFORMAT);
    const msgpack_object *root = &cv->up.data;
    SC_RETURN_IF(root->type != MSGPACK_OBJECT_MAP || root->via.map.size < 2, SC_EFORMAT);
    const msgpack_object_kv *kv = root->via.map.ptr;
    for (int i = 0; i < 2; i++)
      SC_RETURN_IF(!str_is(&kv[i].key, header_keys[i]) || !header_value_ok(i, &kv[i].val),
                   SC_EFORMAT);
    return convert_map(cv, kv + 2, root->via.map.size - 2, out);
  }
  cv->next_big = 1;
  int is_map;
  SC_FORWARD_IF_ERROR(big_header(cv, &off, &n, &is_map));
  SC_RETURN_IF(!is_map || n < 2, SC_EFORMAT);
  for (int i = 0; i < 2; i++) {
    /* the header's values are scalars: never large containers */
    SC_FORWARD_IF_ERROR(unpack_piece(cv, &off));
    SC_RETURN_IF(!str_is(&cv->up.data, header_keys[i]), SC_EFORMAT);
    SC_FORWARD_IF_ERROR(unpack_piece(cv, &off));
    SC_RETURN_IF(!header_value_ok(i, &cv->up.data), SC_EFORMAT);
  }
  SC_FORWARD_IF_ERROR(map_members(cv, NULL, &off, n - 2, out));
  SC_RETURN_IF(off != cv->rawlen, SC_EFORMAT);
  return 0;
}

int sc__msgpack_zstd_read(const void *data, size_t len, sc__value **out) {
  if (!out || (!data && len)) return SC_EINVAL;
  char *raw = NULL;
  size_t rawlen = 0, mapped = 0;
  SC_FORWARD_IF_ERROR(decompress(data, len, &raw, &rawlen, &mapped));
  conv cv;
  memset(&cv, 0, sizeof cv);
  cv.raw = raw;
  cv.rawlen = rawlen;
  msgpack_unpacked_init(&cv.up);
  int rc = prescan((const unsigned char *)raw, rawlen, &cv.big);
  sc__value *v = NULL;
  if (rc == 0) rc = (cv.doc = sc__vdoc_create()) ? convert_root(&cv, &v) : SC_ENOMEM;
  msgpack_unpacked_destroy(&cv.up);
  sc__free(cv.keys);
  sc__free(cv.big.v);
  if (mapped) sc__pages_free(raw, mapped);
  else sc__free(raw);
  if (rc < 0) {
    sc__vdoc_abandon(cv.doc);
    return rc;
  }
  *out = sc__vdoc_finish(cv.doc, v);
  return 0;
}
