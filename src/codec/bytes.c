/* "bytes": the array->bytes codec; elements in little- or big-endian order. */
#include "codec_impl.h"

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"endian"};
    static const char *const endians[] = {"little", "big"};
    (void)ndim;
    PZ_TRY(pz_cfg_fields(c, fields, 1));
    int endian = -1;
    PZ_TRY(pz_cfg_enum(c, "endian", endians, 2, -1, &endian));
    if (endian < 0 && pzarr_dtype_size(t) > 1)
        return pz_err_set(c->e, PZARR_EMETA,
                          "codec \"bytes\": field \"endian\" is required for data type %s",
                          pzarr_dtype_name(t) ? pzarr_dtype_name(t) : "?");
    out->u.bytes.has_endian = endian >= 0;
    out->u.bytes.big_endian = endian == 1;
    return 0;
}

/* One-byte types carry no "endian" (zarrita would otherwise swap bools). */
static bool emit_v3(const pz_codec *c, cJSON *obj)
{
    if (!c->u.bytes.has_endian)
        return true;
    cJSON *conf = cJSON_AddObjectToObject(obj, "configuration");
    return conf &&
           cJSON_AddStringToObject(conf, "endian", c->u.bytes.big_endian ? "big" : "little");
}

static bool swaps(const pz_codec *c, size_t isz)
{
    return isz > 1 && c->u.bytes.big_endian != pz_host_big_endian();
}

const pz_codec_ops pz_codec_bytes = {
    .id = PZ_CODEC_BYTES,
    .name = "bytes",
    .kind = PZ_KIND_A2B,
    .in_v3 = true,
    .parse = parse,
    .emit_v3 = emit_v3,
    .a2b_swaps = swaps,
};
