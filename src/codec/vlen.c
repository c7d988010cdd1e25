/*
 * vlen-utf8 and vlen-bytes: the array->bytes codecs of variable-length
 * elements (numcodecs' VLenUTF8 / VLenBytes; zarr-extensions for v3). A chunk
 * is a u32le element count, then per element a u32le byte length and the
 * bytes. That layout is also how a decoded chunk lives in memory here, so
 * the codec itself only checks it (pz_vlen_index); the chain runs the
 * bytes->bytes codecs around it (pz_vlen_encode / pz_vlen_decode).
 */
#include "codec_impl.h"

#include <string.h>

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    (void)ndim;
    (void)out;
    static const char *const fields[] = {"id"}; /* v2 filters carry their id */
    PZ_TRY(pz_cfg_fields(c, fields, c->v2 ? 1 : 0));
    pzarr_dtype want = strcmp(c->name, "vlen-utf8") == 0 ? PZARR_VLEN_STRING : PZARR_VLEN_BYTES;
    if (t != want)
        return pz_err_set(c->e, PZARR_EMETA, "codec \"%s\" is for data type %s, not %s",
                          c->name, pzarr_dtype_name(want),
                          pzarr_dtype_name(t) ? pzarr_dtype_name(t) : "?");
    return 0;
}

static bool emit_v3(const pz_codec *c, cJSON *obj)
{
    (void)c;
    return cJSON_AddObjectToObject(obj, "configuration") != NULL;
}

static bool emit_v2(const pz_codec *c, cJSON *o)
{
    return cJSON_AddStringToObject(o, "id", c->id == PZ_CODEC_VLEN_UTF8 ? "vlen-utf8"
                                                                       : "vlen-bytes") != NULL;
}

static bool swaps(const pz_codec *c, size_t isz)
{
    (void)c;
    (void)isz;
    return false;
}

const pz_codec_ops pz_codec_vlen_utf8 = {
    .id = PZ_CODEC_VLEN_UTF8, .name = "vlen-utf8", .kind = PZ_KIND_A2B, .in_v3 = true,
    .v2_filter = true, .parse = parse, .emit_v3 = emit_v3, .emit_v2 = emit_v2,
    .a2b_swaps = swaps,
};

const pz_codec_ops pz_codec_vlen_bytes = {
    .id = PZ_CODEC_VLEN_BYTES, .name = "vlen-bytes", .kind = PZ_KIND_A2B, .in_v3 = true,
    .v2_filter = true, .parse = parse, .emit_v3 = emit_v3, .emit_v2 = emit_v2,
    .a2b_swaps = swaps,
};

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pz_vlen_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

bool pz_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < least[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false; /* overlong, beyond Unicode, or a surrogate */
        i += k + 1;
    }
    return true;
}

int pz_vlen_index(pzarr_dtype t, const unsigned char *buf, size_t n, uint64_t nelem,
                  uint64_t *pos, uint32_t *len, pz_err *e)
{
    const char *nm = t == PZARR_VLEN_STRING ? "vlen-utf8" : "vlen-bytes";
    if (n < 4)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: chunk of %zu bytes has no element count", nm,
                          n);
    uint32_t count = get_u32(buf);
    if (count != nelem)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: chunk holds %u elements, expected %llu", nm,
                          count, (unsigned long long)nelem);
    size_t at = 4;
    for (uint64_t i = 0; i < nelem; i++) {
        if (n - at < 4)
            return pz_err_set(e, PZARR_ECORRUPT, "%s: chunk truncated at element %llu", nm,
                              (unsigned long long)i);
        uint32_t l = get_u32(buf + at);
        at += 4;
        if (n - at < l)
            return pz_err_set(e, PZARR_ECORRUPT,
                              "%s: element %llu of %u bytes runs past the chunk's end", nm,
                              (unsigned long long)i, l);
        if (t == PZARR_VLEN_STRING && !pz_utf8_valid(buf + at, l))
            return pz_err_set(e, PZARR_ECORRUPT, "vlen-utf8: element %llu is not UTF-8",
                              (unsigned long long)i);
        if (pos)
            pos[i] = at;
        if (len)
            len[i] = l;
        at += l;
    }
    if (at != n)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: %zu bytes after the last element", nm,
                          n - at);
    return 0;
}
