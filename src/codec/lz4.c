/* "lz4" (v2, numcodecs.LZ4): a little-endian 32-bit count of the original
 * bytes, then one LZ4 block, through liblz4. */
#include "codec_impl.h"

#include <lz4.h>
#include <string.h>

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "acceleration"};
    (void)ndim;
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields, 2));
    return pz_cfg_int(c, "acceleration", 1, 65537, 1, &out->u.lz4.acceleration);
}

static bool emit_v2(const pz_codec *c, cJSON *o)
{
    return cJSON_AddNumberToObject(o, "acceleration", c->u.lz4.acceleration) &&
           cJSON_AddStringToObject(o, "id", "lz4");
}

static int encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e)
{
    if (n > (size_t)LZ4_MAX_INPUT_SIZE)
        return pz_err_set(e, PZARR_ECODEC, "lz4: chunk of %zu bytes is too large", n);
    int bound = LZ4_compressBound((int)n);
    PZ_TRY(pz_codec_reserve(out, (size_t)bound + 4, "lz4", e));
    for (int i = 0; i < 4; i++)
        out->data[i] = (unsigned char)(n >> (8 * i));
    int r = LZ4_compress_fast((const char *)in, (char *)out->data + 4, (int)n, bound,
                              c->u.lz4.acceleration);
    if (r <= 0 && n > 0)
        return pz_err_set(e, PZARR_ECODEC, "lz4: compression failed");
    out->size = (size_t)r + 4;
    return 0;
}

static int decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                  pz_buf *out, pz_err *e)
{
    (void)c;
    if (n < 4)
        return pz_err_set(e, PZARR_ECORRUPT, "lz4: %zu bytes, too short for its header", n);
    size_t size = (size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16 |
                  (size_t)in[3] << 24;
    if (w.exact != PZ_UNKNOWN_SIZE && size != w.exact)
        return pz_err_set(e, PZARR_ECORRUPT, "lz4: header says %zu bytes, expected %zu", size,
                          w.exact);
    if (size > w.cap || size > (size_t)LZ4_MAX_INPUT_SIZE || n - 4 > (size_t)INT32_MAX)
        return pz_err_set(e, PZARR_ECORRUPT, "lz4: header says %zu bytes, more than the limit",
                          size);
    if (size)
        PZ_TRY(pz_codec_reserve(out, size, "lz4", e));
    int r = LZ4_decompress_safe((const char *)in + 4, (char *)out->data, (int)(n - 4),
                                (int)size);
    if (r < 0 || (size_t)r != size)
        return pz_err_set(e, PZARR_ECORRUPT, "lz4: corrupt or truncated block (%zu bytes)", n);
    out->size = size;
    return 0;
}

const pz_codec_ops pz_codec_lz4 = {
    .id = PZ_CODEC_LZ4,
    .name = "lz4",
    .v3_name = "numcodecs.lz4",
    .kind = PZ_KIND_B2B,
    .in_v2 = true,
    .parse = parse,
    .emit_v2 = emit_v2,
    .encode = encode,
    .decode = decode,
};
