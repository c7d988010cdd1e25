/*
 * The numcodecs filters of Zarr v2 ("filters": [...]): delta,
 * fixedscaleoffset, quantize, bitround and shuffle. Each runs between the
 * chunk's stored bytes and the compressor, on elements of its own "dtype"
 * ("<f8", "|u1", ...; bitround: the array's), with numpy's arithmetic:
 * round half to even, the dtype's own precision, integers wrapping. One
 * file for the five: they share the element access.
 */
#include "codec_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ elements */

static bool parse_np(const char *s, pz_np_type *t)
{
    /* v3 configurations may name the type ("int32": native, little endian here). */
    static const struct {
        const char *name, *np;
    } names[] = {{"int8", "|i1"},    {"int16", "<i2"},   {"int32", "<i4"},  {"int64", "<i8"},
                 {"uint8", "|u1"},   {"uint16", "<u2"},  {"uint32", "<u4"}, {"uint64", "<u8"},
                 {"float32", "<f4"}, {"float64", "<f8"}};
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0)
            s = names[i].np;
    if (!s || strlen(s) < 3 || (s[0] != '<' && s[0] != '>' && s[0] != '|' && s[0] != '='))
        return false;
    char *end;
    long n = strtol(s + 2, &end, 10);
    if (*end || (s[1] != 'f' && s[1] != 'i' && s[1] != 'u'))
        return false;
    if (s[1] == 'f' ? (n != 4 && n != 8) : (n != 1 && n != 2 && n != 4 && n != 8))
        return false;
    t->kind = s[1];
    t->size = (int)n;
    t->big = s[0] == '>';
    return true;
}

static void np_text(const pz_np_type *t, char out[8])
{
    snprintf(out, 8, "%c%c%d", t->size == 1 ? '|' : t->big ? '>' : '<', t->kind, t->size);
}

static uint64_t load_bits(const unsigned char *p, const pz_np_type *t)
{
    uint64_t v = 0;
    for (int b = 0; b < t->size; b++)
        v |= (uint64_t)p[t->big ? t->size - 1 - b : b] << (8 * b);
    return v;
}

static void store_bits(unsigned char *p, const pz_np_type *t, uint64_t v)
{
    for (int b = 0; b < t->size; b++)
        p[t->big ? t->size - 1 - b : b] = (unsigned char)(v >> (8 * b));
}

static double load_f(const unsigned char *p, const pz_np_type *t)
{
    uint64_t v = load_bits(p, t);
    if (t->kind == 'f' && t->size == 4) {
        float f;
        uint32_t u = (uint32_t)v;
        memcpy(&f, &u, 4);
        return f;
    }
    if (t->kind == 'f') {
        double d;
        memcpy(&d, &v, 8);
        return d;
    }
    if (t->kind == 'u')
        return (double)v;
    int sh = 64 - 8 * t->size; /* sign-extend */
    return (double)((int64_t)(v << sh) >> sh);
}

/* Stores x as numpy's astype would: floats rounded to the type, integers
 * truncated toward zero and wrapped to the type's width. */
static void store_f(unsigned char *p, const pz_np_type *t, double x)
{
    if (t->kind == 'f' && t->size == 4) {
        float f = (float)x;
        uint32_t u;
        memcpy(&u, &f, 4);
        store_bits(p, t, u);
    } else if (t->kind == 'f') {
        uint64_t u;
        memcpy(&u, &x, 8);
        store_bits(p, t, u);
    } else {
        double tr = trunc(x);
        uint64_t u = tr < 0 ? (uint64_t)(int64_t)tr
                            : tr < 18446744073709551616.0 ? (uint64_t)tr : 0;
        store_bits(p, t, u);
    }
}

static int np_field(const pz_cfg *c, const char *field, const char *dflt, pz_np_type *t)
{
    const cJSON *v = pz_cfg_get(c, field);
    const char *s = v ? (cJSON_IsString(v) ? v->valuestring : NULL) : dflt;
    if (!s && !v)
        return pz_err_set(c->e, PZARR_EMETA, "filter \"%s\": \"%s\" is missing", c->name, field);
    if (!parse_np(s, t))
        return pz_err_set(c->e, PZARR_EUNSUPPORTED,
                          "filter \"%s\": %s \"%.20s\" is not supported (ints, uints, "
                          "float32, float64)",
                          c->name, field, s ? s : "?");
    return 0;
}

/* "dtype", and "astype" (absent or null: the same). */
static int dtype_astype(const pz_cfg *c, pz_codec *out)
{
    PZ_TRY(np_field(c, "dtype", NULL, &out->u.filt.dtype));
    const cJSON *as = pz_cfg_get(c, "astype");
    out->u.filt.astype = out->u.filt.dtype;
    if (as && !cJSON_IsNull(as))
        PZ_TRY(np_field(c, "astype", NULL, &out->u.filt.astype));
    return 0;
}

/* The numpy type of the array's own elements, as stored (for bitround). */
static bool np_of_array(pzarr_dtype t, pz_np_type *out)
{
    out->big = false;
    out->kind = 'f';
    out->size = t == PZARR_FLOAT32 ? 4 : t == PZARR_FLOAT64 ? 8 : 0;
    return out->size != 0;
}

static double cfg_num(const pz_cfg *c, const char *field, bool *ok)
{
    const cJSON *v = pz_cfg_get(c, field);
    *ok = cJSON_IsNumber(v);
    if (!*ok)
        pz_err_set(c->e, PZARR_EMETA, "filter \"%s\": \"%s\" must be a number", c->name, field);
    return *ok ? v->valuedouble : 0;
}

/* The element count of n bytes of type t, or an error naming the filter. */
static int count_of(const char *nm, size_t n, const pz_np_type *t, size_t *count, pz_err *e)
{
    if (n % (size_t)t->size)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: %zu bytes are not whole %d-byte elements", nm,
                          n, t->size);
    *count = n / (size_t)t->size;
    return 0;
}

/* ------------------------------------------------------------ delta */

static int delta_parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "dtype", "astype"};
    (void)ndim;
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields, 3));
    PZ_TRY(dtype_astype(c, out));
    if (memcmp(&out->u.filt.astype, &out->u.filt.dtype, sizeof(pz_np_type)) != 0)
        return pz_err_set(c->e, PZARR_EUNSUPPORTED,
                          "filter \"delta\": an \"astype\" other than \"dtype\" is not supported");
    return 0;
}

static bool delta_emit(const pz_codec *c, cJSON *o)
{
    char d[8], a[8];
    np_text(&c->u.filt.dtype, d);
    np_text(&c->u.filt.astype, a);
    return cJSON_AddStringToObject(o, "astype", a) && cJSON_AddStringToObject(o, "dtype", d) &&
           cJSON_AddStringToObject(o, "id", "delta");
}

static int delta_run(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                     bool enc, pz_err *e)
{
    const pz_np_type *t = &c->u.filt.dtype;
    size_t count = 0;
    PZ_TRY(count_of("delta", n, t, &count, e));
    if (n)
        PZ_TRY(pz_codec_reserve(out, n, "delta", e));
    size_t s = (size_t)t->size;
    if (t->kind != 'f') { /* integers: differences and sums wrap */
        uint64_t mask = s == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * s)) - 1, prev = 0;
        for (size_t i = 0; i < count; i++) {
            uint64_t v = load_bits(in + i * s, t);
            uint64_t r = enc ? (v - prev) & mask : (v + prev) & mask;
            store_bits(out->data + i * s, t, r);
            prev = enc ? v : r;
        }
    } else if (s == 4) { /* float32: numpy computes in float32 */
        float prev = 0;
        for (size_t i = 0; i < count; i++) {
            float v = (float)load_f(in + i * s, t);
            float r = enc ? (i ? v - prev : v) : (i ? v + prev : v);
            store_f(out->data + i * s, t, r);
            prev = enc ? v : r;
        }
    } else {
        double prev = 0;
        for (size_t i = 0; i < count; i++) {
            double v = load_f(in + i * s, t);
            double r = enc ? (i ? v - prev : v) : (i ? v + prev : v);
            store_f(out->data + i * s, t, r);
            prev = enc ? v : r;
        }
    }
    out->size = n;
    return 0;
}

static int delta_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                        pz_err *e)
{
    return delta_run(c, in, n, out, true, e);
}

static int delta_decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                        pz_buf *out, pz_err *e)
{
    if (n > pz_want_limit(w))
        return pz_want_too_big("delta", w, e);
    return delta_run(c, in, n, out, false, e);
}

/* ------------------------------------------------------------ fixedscaleoffset */

static int fso_parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "scale", "offset", "dtype", "astype"};
    (void)ndim;
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields, 5));
    bool ok;
    out->u.filt.scale = cfg_num(c, "scale", &ok);
    if (!ok)
        return c->e->code;
    out->u.filt.offset = cfg_num(c, "offset", &ok);
    if (!ok)
        return c->e->code;
    if (out->u.filt.scale == 0 || !isfinite(out->u.filt.scale))
        return pz_err_set(c->e, PZARR_EMETA, "filter \"fixedscaleoffset\": scale must be finite "
                          "and not 0");
    PZ_TRY(dtype_astype(c, out));
    return 0;
}

static bool fso_emit(const pz_codec *c, cJSON *o)
{
    char d[8], a[8];
    np_text(&c->u.filt.dtype, d);
    np_text(&c->u.filt.astype, a);
    return cJSON_AddStringToObject(o, "astype", a) && cJSON_AddStringToObject(o, "dtype", d) &&
           cJSON_AddStringToObject(o, "id", "fixedscaleoffset") &&
           cJSON_AddNumberToObject(o, "offset", c->u.filt.offset) &&
           cJSON_AddNumberToObject(o, "scale", c->u.filt.scale);
}

static int fso_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                      pz_err *e)
{
    const pz_np_type *dt = &c->u.filt.dtype, *at = &c->u.filt.astype;
    size_t count = 0;
    PZ_TRY(count_of("fixedscaleoffset", n, dt, &count, e));
    PZ_TRY(pz_codec_reserve(out, count * (size_t)at->size + 1, "fixedscaleoffset", e));
    bool f32 = dt->kind == 'f' && dt->size == 4;
    for (size_t i = 0; i < count; i++) {
        double v = load_f(in + i * (size_t)dt->size, dt), r;
        if (f32) /* (arr - offset) * scale in float32, as numpy does */
            r = rintf(((float)v - (float)c->u.filt.offset) * (float)c->u.filt.scale);
        else
            r = rint((v - c->u.filt.offset) * c->u.filt.scale);
        store_f(out->data + i * (size_t)at->size, at, r);
    }
    out->size = count * (size_t)at->size;
    return 0;
}

static int fso_decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                      pz_buf *out, pz_err *e)
{
    const pz_np_type *dt = &c->u.filt.dtype, *at = &c->u.filt.astype;
    size_t count = 0;
    PZ_TRY(count_of("fixedscaleoffset", n, at, &count, e));
    if (count > pz_want_limit(w) / (size_t)dt->size)
        return pz_want_too_big("fixedscaleoffset", w, e);
    PZ_TRY(pz_codec_reserve(out, count * (size_t)dt->size, "fixedscaleoffset", e));
    for (size_t i = 0; i < count; i++) {
        double v = load_f(in + i * (size_t)at->size, at);
        store_f(out->data + i * (size_t)dt->size, dt, v / c->u.filt.scale + c->u.filt.offset);
    }
    out->size = count * (size_t)dt->size;
    return 0;
}

/* ------------------------------------------------------------ quantize */

static int quantize_parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "digits", "dtype", "astype"};
    (void)ndim;
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields, 4));
    PZ_TRY(pz_cfg_int(c, "digits", -300, 300, 0, &out->u.filt.digits));
    if (!pz_cfg_get(c, "digits"))
        return pz_err_set(c->e, PZARR_EMETA, "filter \"quantize\": \"digits\" is missing");
    PZ_TRY(dtype_astype(c, out));
    if (out->u.filt.dtype.kind != 'f' || out->u.filt.astype.kind != 'f')
        return pz_err_set(c->e, PZARR_EMETA, "filter \"quantize\": dtype and astype must be "
                          "floats");
    return 0;
}

static bool quantize_emit(const pz_codec *c, cJSON *o)
{
    char d[8], a[8];
    np_text(&c->u.filt.dtype, d);
    np_text(&c->u.filt.astype, a);
    return cJSON_AddStringToObject(o, "astype", a) &&
           cJSON_AddNumberToObject(o, "digits", c->u.filt.digits) &&
           cJSON_AddStringToObject(o, "dtype", d) && cJSON_AddStringToObject(o, "id", "quantize");
}

static int quantize_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                           pz_err *e)
{
    const pz_np_type *dt = &c->u.filt.dtype, *at = &c->u.filt.astype;
    size_t count = 0;
    PZ_TRY(count_of("quantize", n, dt, &count, e));
    /* numcodecs: the power of two at or above 10^digits. */
    double ex = log10(pow(10.0, -(double)c->u.filt.digits));
    int exp10 = ex < 0 ? (int)floor(ex) : (int)ceil(ex);
    double bits = ceil(log2(pow(10.0, -(double)exp10)));
    double scale = pow(2.0, bits);
    PZ_TRY(pz_codec_reserve(out, count * (size_t)at->size + 1, "quantize", e));
    bool f32 = dt->size == 4;
    for (size_t i = 0; i < count; i++) {
        double v = load_f(in + i * (size_t)dt->size, dt);
        double r = f32 ? (double)(rintf((float)scale * (float)v) / (float)scale)
                       : rint(scale * v) / scale;
        store_f(out->data + i * (size_t)at->size, at, r);
    }
    out->size = count * (size_t)at->size;
    return 0;
}

static int quantize_decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                           pz_buf *out, pz_err *e)
{
    const pz_np_type *dt = &c->u.filt.dtype, *at = &c->u.filt.astype;
    size_t count = 0;
    PZ_TRY(count_of("quantize", n, at, &count, e));
    if (count > pz_want_limit(w) / (size_t)dt->size)
        return pz_want_too_big("quantize", w, e);
    PZ_TRY(pz_codec_reserve(out, count * (size_t)dt->size, "quantize", e));
    for (size_t i = 0; i < count; i++)
        store_f(out->data + i * (size_t)dt->size, dt, load_f(in + i * (size_t)at->size, at));
    out->size = count * (size_t)dt->size;
    return 0;
}

/* ------------------------------------------------------------ bitround */

static int bitround_parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "keepbits"};
    (void)ndim;
    PZ_TRY(pz_cfg_fields(c, fields, 2));
    if (!np_of_array(t, &out->u.filt.dtype))
        return pz_err_set(c->e, PZARR_EUNSUPPORTED,
                          "filter \"bitround\" needs a float32 or float64 array");
    int max = t == PZARR_FLOAT32 ? 23 : 52;
    if (!pz_cfg_get(c, "keepbits"))
        return pz_err_set(c->e, PZARR_EMETA, "filter \"bitround\": \"keepbits\" is missing");
    return pz_cfg_int(c, "keepbits", 0, max, max, &out->u.filt.keepbits);
}

static bool bitround_emit(const pz_codec *c, cJSON *o)
{
    return cJSON_AddStringToObject(o, "id", "bitround") &&
           cJSON_AddNumberToObject(o, "keepbits", c->u.filt.keepbits);
}

/* numcodecs' rounding of the mantissa to keepbits bits, half to even,
 * on the stored (little-endian) elements. */
static int bitround_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                           pz_err *e)
{
    const pz_np_type *t = &c->u.filt.dtype;
    size_t count = 0;
    PZ_TRY(count_of("bitround", n, t, &count, e));
    if (n)
        PZ_TRY(pz_codec_reserve(out, n, "bitround", e));
    int maxbits = t->size == 4 ? 23 : 52, drop = maxbits - c->u.filt.keepbits;
    uint64_t width = t->size == 8 ? UINT64_MAX : 0xffffffffu;
    for (size_t i = 0; i < count; i++) {
        uint64_t b = load_bits(in + i * (size_t)t->size, t);
        if (drop > 0) {
            uint64_t mask = ((width >> drop) << drop) & width;
            uint64_t half = ((uint64_t)1 << (drop - 1)) - 1;
            b = ((b + ((b >> drop) & 1) + half) & width) & mask;
        }
        store_bits(out->data + i * (size_t)t->size, t, b);
    }
    out->size = n;
    return 0;
}

static int copy_decode(const char *nm, const unsigned char *in, size_t n, pz_want w,
                       pz_buf *out, pz_err *e)
{
    if (n > pz_want_limit(w))
        return pz_want_too_big(nm, w, e);
    if (n)
        PZ_TRY(pz_codec_reserve(out, n, nm, e));
    if (n)
        memcpy(out->data, in, n);
    out->size = n;
    return 0;
}

static int bitround_decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                           pz_buf *out, pz_err *e)
{
    (void)c;
    return copy_decode("bitround", in, n, w, out, e);
}

/* zarr-extensions "bitround" (v3): numcodecs' for floats; it also names
 * integers (rounded from their most significant set bit), which pzarr reads
 * (decoding is a copy) but does not write. */
static int bitround3_parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"keepbits"};
    (void)ndim;
    PZ_TRY(pz_cfg_fields(c, fields, 1));
    if (!pz_cfg_get(c, "keepbits"))
        return pz_err_set(c->e, PZARR_EMETA, "codec \"bitround\": \"keepbits\" is missing");
    if (np_of_array(t, &out->u.filt.dtype))
        return pz_cfg_int(c, "keepbits", 1, t == PZARR_FLOAT32 ? 23 : 52, 1,
                          &out->u.filt.keepbits);
    size_t isz = pzarr_dtype_size(t);
    if (!(pz_dtype_is_int(t) || pz_dtype_time_kind(t)) || isz < 1)
        return pz_err_set(c->e, PZARR_EUNSUPPORTED,
                          "codec \"bitround\": pzarr takes float32, float64 and integers");
    out->u.filt.dtype.kind = 'i';
    out->u.filt.dtype.size = (int)isz;
    out->u.filt.dtype.big = false;
    return pz_cfg_int(c, "keepbits", 1, 64, 1, &out->u.filt.keepbits);
}

static int bitround3_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                            pz_err *e)
{
    if (c->u.filt.dtype.kind != 'f')
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "codec \"bitround\": writing integers is not supported (reading is)");
    return bitround_encode(c, in, n, out, e);
}

/* ------------------------------------------------------------ shuffle */

static int shuffle_parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "elementsize"};
    (void)ndim;
    PZ_TRY(pz_cfg_fields(c, fields, 2));
    return pz_cfg_int(c, "elementsize", 1, 1 << 20,
                      pz_dtype_is_vlen(t) ? 1 : (int)pzarr_dtype_size(t),
                      &out->u.filt.elementsize);
}

static bool shuffle_emit(const pz_codec *c, cJSON *o)
{
    return cJSON_AddNumberToObject(o, "elementsize", c->u.filt.elementsize) &&
           cJSON_AddStringToObject(o, "id", "shuffle");
}

/* Byte k of element i goes to k * count + i (encode), and back. */
static int shuffle_run(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                       bool enc, pz_err *e)
{
    size_t es = (size_t)c->u.filt.elementsize;
    if (n % es)
        return pz_err_set(e, enc ? PZARR_ECODEC : PZARR_ECORRUPT,
                          "shuffle: %zu bytes are not whole %zu-byte elements", n, es);
    size_t count = n / es;
    if (n)
        PZ_TRY(pz_codec_reserve(out, n, "shuffle", e));
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < es; k++) {
            if (enc)
                out->data[k * count + i] = in[i * es + k];
            else
                out->data[i * es + k] = in[k * count + i];
        }
    out->size = n;
    return 0;
}

static int shuffle_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                          pz_err *e)
{
    return shuffle_run(c, in, n, out, true, e);
}

static int shuffle_decode(const pz_codec *c, const unsigned char *in, size_t n, pz_want w,
                          pz_buf *out, pz_err *e)
{
    if (n > pz_want_limit(w))
        return pz_want_too_big("shuffle", w, e);
    return shuffle_run(c, in, n, out, false, e);
}

/* ------------------------------------------------------------ the table rows */

/* A2A: what numcodecs makes an array->array codec in v3 (before "bytes"). */
#define FILTER(ID, NAME, P, A2A)                                                           \
    const pz_codec_ops pz_codec_##P = {                                                    \
        .id = ID, .name = NAME, .kind = PZ_KIND_B2B, .v2_filter = true, .parse = P##_parse, \
        .emit_v2 = P##_emit, .encode = P##_encode, .decode = P##_decode,                    \
        .v3_name = "numcodecs." NAME, .v3_a2a = A2A}

FILTER(PZ_CODEC_DELTA, "delta", delta, true);
FILTER(PZ_CODEC_FIXEDSCALEOFFSET, "fixedscaleoffset", fso, true);
FILTER(PZ_CODEC_QUANTIZE, "quantize", quantize, true);
FILTER(PZ_CODEC_BITROUND, "bitround", bitround, true);
FILTER(PZ_CODEC_SHUFFLE, "shuffle", shuffle, false);

const pz_codec_ops pz_codec_bitround3 = {
    .id = PZ_CODEC_BITROUND3, .name = "bitround", .kind = PZ_KIND_B2B, .parse = bitround3_parse,
    .emit_v2 = bitround_emit, .encode = bitround3_encode, .decode = bitround_decode,
    .v3_name = "bitround", .v3_a2a = true};
