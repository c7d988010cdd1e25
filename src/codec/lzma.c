/* "lzma" (v2, numcodecs.LZMA): an .xz stream (format 1, the default) or a
 * legacy .lzma one (format 2) through liblzma. Custom filter chains are
 * refused by name. */
#include "codec_impl.h"

#include <lzma.h>

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "format", "check", "preset", "filters"};
    (void)ndim;
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields, 5));
    PZ_TRY(pz_cfg_int(c, "format", 1, 2, 1, &out->u.lzma.format));
    const cJSON *chk = pz_cfg_get(c, "check"), *pre = pz_cfg_get(c, "preset");
    const cJSON *fl = pz_cfg_get(c, "filters");
    out->u.lzma.check = -1;
    out->u.lzma.preset = -1; /* null: liblzma's default, 6 */
    if (chk && !cJSON_IsNull(chk))
        PZ_TRY(pz_cfg_int(c, "check", -1, 10, -1, &out->u.lzma.check));
    if (pre && !cJSON_IsNull(pre))
        PZ_TRY(pz_cfg_int(c, "preset", 0, 9, 6, &out->u.lzma.preset));
    if (fl && !cJSON_IsNull(fl))
        return pz_err_set(c->e, PZARR_EUNSUPPORTED,
                          "compressor \"lzma\": custom \"filters\" are not supported");
    return 0;
}

static bool emit_v2(const pz_codec *c, cJSON *o)
{
    bool ok = c->u.lzma.check < 0 ? cJSON_AddNumberToObject(o, "check", -1) != NULL
                                  : cJSON_AddNumberToObject(o, "check", c->u.lzma.check) != NULL;
    ok = ok && cJSON_AddNullToObject(o, "filters") &&
         cJSON_AddNumberToObject(o, "format", c->u.lzma.format) &&
         cJSON_AddStringToObject(o, "id", "lzma");
    return ok && (c->u.lzma.preset < 0 ? cJSON_AddNullToObject(o, "preset") != NULL
                                       : cJSON_AddNumberToObject(o, "preset",
                                                                 c->u.lzma.preset) != NULL);
}

static int encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                  pz_err *e)
{
    uint32_t preset = c->u.lzma.preset < 0 ? LZMA_PRESET_DEFAULT : (uint32_t)c->u.lzma.preset;
    size_t cap = lzma_stream_buffer_bound(n);
    PZ_TRY(pz_codec_reserve(out, cap, "lzma", e));
    size_t pos = 0;
    lzma_ret r;
    if (c->u.lzma.format == 1) {
        lzma_check chk = c->u.lzma.check < 0 ? LZMA_CHECK_CRC64 : (lzma_check)c->u.lzma.check;
        r = lzma_easy_buffer_encode(preset, chk, NULL, in, n, out->data, &pos, cap);
    } else {
        lzma_options_lzma opt;
        if (lzma_lzma_preset(&opt, preset))
            return pz_err_set(e, PZARR_ECODEC, "lzma: bad preset %u", preset);
        lzma_stream s = LZMA_STREAM_INIT;
        r = lzma_alone_encoder(&s, &opt);
        if (r == LZMA_OK) {
            s.next_in = in;
            s.avail_in = n;
            s.next_out = out->data;
            s.avail_out = cap;
            r = lzma_code(&s, LZMA_FINISH);
            pos = cap - s.avail_out;
            r = r == LZMA_STREAM_END ? LZMA_OK : r;
        }
        lzma_end(&s);
    }
    if (r != LZMA_OK)
        return pz_err_set(e, PZARR_ECODEC, "lzma: compression failed (%d)", (int)r);
    out->size = pos;
    return 0;
}

/* The output never grows past the limit (the last stage may write straight
 * into the caller's chunk): a stream that does not end there is too big. */
static int decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                  pz_buf *out, pz_err *e)
{
    (void)c;
    size_t limit = pz_want_limit(w);
    if (limit)
        PZ_TRY(pz_codec_reserve(out, limit, "lzma", e));
    lzma_stream s = LZMA_STREAM_INIT;
    /* Either container; 256 MiB of dictionary at most. */
    lzma_ret r = lzma_auto_decoder(&s, (uint64_t)256 << 20, 0);
    if (r != LZMA_OK)
        return pz_err_set(e, PZARR_ENOMEM, "lzma: cannot start a decoder (%d)", (int)r);
    s.next_in = in;
    s.avail_in = n;
    s.next_out = out->data;
    s.avail_out = limit;
    r = lzma_code(&s, LZMA_FINISH);
    size_t got = limit - s.avail_out;
    bool full = s.avail_out == 0;
    lzma_end(&s);
    if (r != LZMA_STREAM_END && full && (r == LZMA_OK || r == LZMA_BUF_ERROR))
        return pz_want_too_big("lzma", w, e);
    if (r != LZMA_STREAM_END)
        return pz_err_set(e, PZARR_ECORRUPT, "lzma: corrupt or truncated stream (%d)", (int)r);
    out->size = got;
    return pz_want_check("lzma", got, w, e);
}

const pz_codec_ops pz_codec_lzma = {
    .id = PZ_CODEC_LZMA,
    .name = "lzma",
    .v3_name = "numcodecs.lzma",
    .kind = PZ_KIND_B2B,
    .in_v2 = true,
    .parse = parse,
    .emit_v2 = emit_v2,
    .encode = encode,
    .decode = decode,
};
