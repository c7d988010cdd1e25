/* "crc32c": a 4-byte little-endian CRC-32C trailer, computed by ISA-L. */
#include "codec_impl.h"

#include <isa-l/crc.h>

#include <string.h>

uint32_t pz_crc32c(const void *p, size_t n)
{
    /* ISA-L's crc32_iscsi takes an int length and applies neither the
     * initial nor the final inversion of CRC-32C: we do both. */
    const unsigned char *b = p;
    unsigned int crc = 0xFFFFFFFFu;
    while (n > 0) {
        size_t part = n > (1u << 30) ? (1u << 30) : n;
        crc = crc32_iscsi((unsigned char *)b, (int)part, crc);
        b += part;
        n -= part;
    }
    return (uint32_t)~crc;
}

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    (void)ndim;
    (void)t;
    (void)out;
    return pz_cfg_fields(c, NULL, 0);
}

static bool emit_v3(const pz_codec *c, cJSON *obj)
{
    (void)c;
    (void)obj;
    return true;
}

static int encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e)
{
    (void)c;
    uint32_t crc = pz_crc32c(in, n);
    unsigned char t[4] = {(unsigned char)crc, (unsigned char)(crc >> 8),
                          (unsigned char)(crc >> 16), (unsigned char)(crc >> 24)};
    if (n > SIZE_MAX - 4)
        return pz_err_set(e, PZARR_ENOMEM, "crc32c: chunk too large");
    PZ_TRY(pz_codec_reserve(out, n + 4, "crc32c", e));
    if (n)
        memcpy(out->data, in, n);
    memcpy(out->data + n, t, 4);
    out->size = n + 4;
    return 0;
}

static int check(const pz_codec *c, const unsigned char *in, size_t *n, pz_err *e)
{
    (void)c;
    if (*n < 4)
        return pz_err_set(e, PZARR_ECORRUPT,
                          "crc32c: %zu bytes, fewer than the 4-byte checksum", *n);
    const unsigned char *t = in + *n - 4;
    uint32_t stored = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
                      (uint32_t)t[3] << 24;
    uint32_t computed = pz_crc32c(in, *n - 4);
    if (stored != computed)
        return pz_err_set(e, PZARR_ECORRUPT, "crc32c: stored 0x%08x, computed 0x%08x", stored,
                          computed);
    *n -= 4;
    return 0;
}

const pz_codec_ops pz_codec_crc32c = {
    .id = PZ_CODEC_CRC32C,
    .name = "crc32c",
    .kind = PZ_KIND_B2B,
    .in_v3 = true,
    .parse = parse,
    .emit_v3 = emit_v3,
    .encode = encode,
    .trailer = 4,
    .check = check,
};
