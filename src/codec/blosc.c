/* "blosc": c-blosc 1.x frames, the format Zarr's blosc codec means. */
#include "codec_impl.h"

#include <blosc.h>

#include <limits.h>
#include <stdio.h>

static const char *const shuffle_names[] = {"noshuffle", "shuffle", "bitshuffle"};
static const char *const cnames[] = {"blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"};

static int parse_cname(const pz_cfg *c, const char *dflt, char out[16])
{
    int i = -1;
    PZ_TRY(pz_cfg_enum(c, "cname", cnames, sizeof cnames / sizeof *cnames, -1, &i));
    const char *name = i < 0 ? dflt : cnames[i];
    if (blosc_compname_to_compcode(name) < 0)
        return pz_err_set(c->e, PZARR_EUNSUPPORTED,
                          "%s \"%s\": compressor \"%s\" is not available in this c-blosc",
                          c->what, c->name, name);
    snprintf(out, 16, "%s", name);
    return 0;
}

/* v3: shuffle by name; absent, zarr-python's default for the data type. */
static int parse_v3(const pz_cfg *c, int isz, pz_codec *out)
{
    static const char *const fields[] = {"cname", "clevel", "shuffle", "typesize", "blocksize"};
    PZ_TRY(pz_cfg_fields(c, fields, 5));
    PZ_TRY(parse_cname(c, "zstd", out->u.blosc.cname));
    PZ_TRY(pz_cfg_int(c, "clevel", 0, 9, 5, &out->u.blosc.clevel));
    PZ_TRY(pz_cfg_enum(c, "shuffle", shuffle_names, 3, isz == 1 ? 2 : 1, &out->u.blosc.shuffle));
    PZ_TRY(pz_cfg_int(c, "typesize", 1, BLOSC_MAX_TYPESIZE, isz, &out->u.blosc.typesize));
    return pz_cfg_int(c, "blocksize", 0, INT_MAX, 0, &out->u.blosc.blocksize);
}

/* v2 (numcodecs): shuffle by number, -1 AUTOSHUFFLE: bit shuffle for 1-byte
 * items, else byte. */
static int parse_v2(const pz_cfg *c, int isz, pz_codec *out)
{
    static const char *const fields[] = {"id", "cname", "clevel", "shuffle", "blocksize"};
    PZ_TRY(pz_cfg_fields(c, fields, 5));
    PZ_TRY(parse_cname(c, "lz4", out->u.blosc.cname));
    PZ_TRY(pz_cfg_int(c, "clevel", 0, 9, 5, &out->u.blosc.clevel));
    PZ_TRY(pz_cfg_int(c, "shuffle", -1, 2, 1, &out->u.blosc.shuffle));
    if (out->u.blosc.shuffle == -1)
        out->u.blosc.shuffle = isz == 1 ? 2 : 1;
    out->u.blosc.typesize = isz;
    return pz_cfg_int(c, "blocksize", 0, INT_MAX, 0, &out->u.blosc.blocksize);
}

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    (void)ndim;
    int isz = pz_dtype_is_vlen(t) ? 1 : (int)pzarr_dtype_size(t); /* vlen: a byte stream */
    return c->v2 ? parse_v2(c, isz, out) : parse_v3(c, isz, out);
}

static bool emit_v3(const pz_codec *c, cJSON *obj)
{
    cJSON *conf = cJSON_AddObjectToObject(obj, "configuration");
    return conf && cJSON_AddNumberToObject(conf, "typesize", c->u.blosc.typesize) &&
           cJSON_AddStringToObject(conf, "cname", c->u.blosc.cname) &&
           cJSON_AddNumberToObject(conf, "clevel", c->u.blosc.clevel) &&
           cJSON_AddStringToObject(conf, "shuffle", shuffle_names[c->u.blosc.shuffle]) &&
           cJSON_AddNumberToObject(conf, "blocksize", c->u.blosc.blocksize);
}

static bool emit_v2(const pz_codec *c, cJSON *o)
{
    return cJSON_AddNumberToObject(o, "blocksize", c->u.blosc.blocksize) &&
           cJSON_AddNumberToObject(o, "clevel", c->u.blosc.clevel) &&
           cJSON_AddStringToObject(o, "cname", c->u.blosc.cname) &&
           cJSON_AddStringToObject(o, "id", "blosc") &&
           cJSON_AddNumberToObject(o, "shuffle", c->u.blosc.shuffle);
}

static int encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e)
{
    if (n > (size_t)BLOSC_MAX_BUFFERSIZE)
        return pz_err_set(e, PZARR_ECODEC,
                          "blosc: chunk of %zu bytes exceeds the c-blosc limit of %d bytes", n,
                          BLOSC_MAX_BUFFERSIZE);
    size_t cap = n + BLOSC_MAX_OVERHEAD;
    PZ_TRY(pz_codec_reserve(out, cap, "blosc", e));
    int r = blosc_compress_ctx(c->u.blosc.clevel, c->u.blosc.shuffle,
                               (size_t)c->u.blosc.typesize, n, in, out->data, cap,
                               c->u.blosc.cname, (size_t)c->u.blosc.blocksize, 1);
    if (r <= 0)
        return pz_err_set(e, PZARR_ECODEC, "blosc: compression with %s failed (code %d)",
                          c->u.blosc.cname, r);
    out->size = (size_t)r;
    return 0;
}

static int decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                  pz_buf *out, pz_err *e)
{
    (void)c;
    size_t nbytes = 0, cbytes = 0, bsize = 0;
    if (n < BLOSC_MIN_HEADER_LENGTH)
        return pz_err_set(e, PZARR_ECORRUPT,
                          "blosc: %zu bytes, shorter than the %d-byte header", n,
                          BLOSC_MIN_HEADER_LENGTH);
    blosc_cbuffer_sizes(in, &nbytes, &cbytes, &bsize);
    if (cbytes != 0 && cbytes != n)
        return pz_err_set(e, PZARR_ECORRUPT,
                          "blosc: header says %zu compressed bytes, chunk holds %zu", cbytes, n);
    if (cbytes == 0 || blosc_cbuffer_validate(in, n, &nbytes) != 0)
        return pz_err_set(e, PZARR_ECORRUPT, "blosc: invalid header");
    if (w.exact != PZ_UNKNOWN_SIZE && nbytes != w.exact)
        return pz_err_set(e, PZARR_ECORRUPT, "blosc: header says %zu bytes, expected %zu",
                          nbytes, w.exact);
    if (nbytes > w.cap)
        return pz_want_too_big("blosc", w, e);
    PZ_TRY(pz_codec_reserve(out, nbytes, "blosc", e));
    int r = nbytes ? blosc_decompress_ctx(in, out->data, nbytes, 1) : 0;
    if (r < 0 || (size_t)r != nbytes)
        return pz_err_set(e, PZARR_ECORRUPT, "blosc: decompression failed (code %d)", r);
    out->size = nbytes;
    return 0;
}

const pz_codec_ops pz_codec_blosc = {
    .id = PZ_CODEC_BLOSC,
    .name = "blosc",
    .kind = PZ_KIND_B2B,
    .in_v3 = true,
    .in_v2 = true,
    .parse = parse,
    .emit_v3 = emit_v3,
    .emit_v2 = emit_v2,
    .encode = encode,
    .decode = decode,
};
