/*
 * numcodecs' 32-bit checksums, bytes->bytes: "crc32" and "adler32" (zlib's,
 * through libdeflate; 4 little-endian bytes before the data, or after with
 * "location": "end"), and "fletcher32" (HDF5's Fletcher-32 over big-endian
 * 16-bit words, 4 little-endian bytes after the data). Zarr v2 ids; v3
 * "numcodecs.crc32", "numcodecs.adler32", "numcodecs.fletcher32".
 */
#include "codec_impl.h"

#include <libdeflate.h>
#include <string.h>

static uint32_t fletcher32(const unsigned char *p, size_t n)
{
    uint32_t s1 = 0, s2 = 0;
    size_t words = n / 2;
    while (words) {
        size_t block = words > 360 ? 360 : words; /* no 32-bit overflow before folding */
        words -= block;
        for (size_t i = 0; i < block; i++, p += 2) {
            s1 += (uint32_t)p[0] << 8 | p[1];
            s2 += s1;
        }
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    if (n % 2) { /* the odd byte, as the high half of a last word */
        s1 += (uint32_t)p[0] << 8;
        s2 += s1;
        s1 = (s1 & 0xffff) + (s1 >> 16);
        s2 = (s2 & 0xffff) + (s2 >> 16);
    }
    s1 = (s1 & 0xffff) + (s1 >> 16);
    s2 = (s2 & 0xffff) + (s2 >> 16);
    return s2 << 16 | s1;
}

static uint32_t sum_of(pz_codec_id id, const unsigned char *p, size_t n)
{
    if (id == PZ_CODEC_CRC32)
        return libdeflate_crc32(0, p, n);
    if (id == PZ_CODEC_ADLER32)
        return libdeflate_adler32(1, p, n);
    return fletcher32(p, n);
}

static const char *name_of(const pz_codec *c)
{
    return c->id == PZ_CODEC_CRC32 ? "crc32" : c->id == PZ_CODEC_ADLER32 ? "adler32"
                                                                         : "fletcher32";
}

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "location"};
    static const char *const where[] = {"start", "end"};
    (void)ndim;
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields, out->id == PZ_CODEC_FLETCHER32 ? 1 : 2));
    int at = 1;
    if (out->id != PZ_CODEC_FLETCHER32)
        PZ_TRY(pz_cfg_enum(c, "location", where, 2, 0, &at));
    out->u.sum.at_end = at == 1;
    out->u.sum.location_given = pz_cfg_get(c, "location") != NULL;
    return 0;
}

static bool emit_v2(const pz_codec *c, cJSON *o)
{
    if (!cJSON_AddStringToObject(o, "id", name_of(c)))
        return false;
    /* numcodecs before 0.13 knows no "location": written only when given */
    if (c->u.sum.location_given &&
        !cJSON_AddStringToObject(o, "location", c->u.sum.at_end ? "end" : "start"))
        return false;
    return true;
}

static int encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e)
{
    const char *nm = name_of(c);
    if (n > SIZE_MAX - 4)
        return pz_err_set(e, PZARR_ENOMEM, "%s: chunk too large", nm);
    PZ_TRY(pz_codec_reserve(out, n + 4, nm, e));
    uint32_t s = sum_of(c->id, in, n);
    unsigned char t[4] = {(unsigned char)s, (unsigned char)(s >> 8), (unsigned char)(s >> 16),
                          (unsigned char)(s >> 24)};
    bool end = c->u.sum.at_end;
    if (n)
        memcpy(out->data + (end ? 0 : 4), in, n);
    memcpy(out->data + (end ? n : 0), t, 4);
    out->size = n + 4;
    return 0;
}

static int decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                  pz_buf *out, pz_err *e)
{
    const char *nm = name_of(c);
    if (n < 4)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: %zu bytes, fewer than the 4-byte checksum",
                          nm, n);
    bool end = c->u.sum.at_end;
    const unsigned char *t = in + (end ? n - 4 : 0), *data = in + (end ? 0 : 4);
    uint32_t stored = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
                      (uint32_t)t[3] << 24;
    uint32_t computed = sum_of(c->id, data, n - 4);
    if (stored != computed)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: stored 0x%08x, computed 0x%08x", nm, stored,
                          computed);
    if (n - 4 > pz_want_limit(w))
        return pz_want_too_big(nm, w, e);
    if (n > 4)
        PZ_TRY(pz_codec_reserve(out, n - 4, nm, e));
    if (n > 4)
        memcpy(out->data, data, n - 4);
    out->size = n - 4;
    return pz_want_check(nm, out->size, w, e);
}

#define CHECKSUM(ID, NAME, P)                                                              \
    const pz_codec_ops pz_codec_##P = {                                                    \
        .id = ID, .name = NAME, .v3_name = "numcodecs." NAME, .kind = PZ_KIND_B2B,          \
        .in_v2 = true, .v2_filter = true, .parse = parse, .emit_v2 = emit_v2, .encode = encode,                \
        .decode = decode}

CHECKSUM(PZ_CODEC_CRC32, "crc32", crc32);
CHECKSUM(PZ_CODEC_ADLER32, "adler32", adler32);
CHECKSUM(PZ_CODEC_FLETCHER32, "fletcher32", fletcher32);
