/*
 * Array specs: a pzarr_spec (dtype, shape, chunks, shards, a codec string
 * such as "blosc:lz4:5:shuffle", fill value text, dimension names, format,
 * order, attributes) -> the Zarr v3 zarr.json or v2 .zarray document it
 * describes, so that nobody writes metadata JSON by hand. The CLI's
 * `create` options are a spec too.
 */
#include "format.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODECS 8

typedef enum { K_ZSTD, K_BLOSC, K_GZIP, K_ZLIB, K_CRC32C, K_LZ4, K_BZ2, K_LZMA, K_ZFP } kind;

/* zfp's modes, as the codec strings name them. */
enum { ZFP_REVERSIBLE, ZFP_RATE, ZFP_PRECISION, ZFP_ACCURACY, ZFP_EXPERT };

typedef struct codec {
    kind k;
    int level; /* zstd, gzip, zlib; blosc clevel */
    char cname[16];
    int shuffle; /* 0 noshuffle, 1 shuffle, 2 bitshuffle */
    int zmode;   /* zfp */
    double zval; /* zfp: rate, precision or tolerance */
    int zexp[4]; /* zfp expert: minbits, maxbits, maxprec, minexp */
} codec;

typedef struct plan {
    const pzarr_spec *sp;
    int format;
    size_t itemsize;
    uint64_t chunks[PZARR_MAX_NDIM];
    bool sharded, order_f, big;
    char sep;
    int n;
    codec c[MAX_CODECS];
} plan;

/* ------------------------------------------------------------ numbers */

static bool parse_i64(const char *s, int64_t *v)
{
    char *end;
    if (!s[0])
        return false;
    long long x = strtoll(s, &end, 10);
    if (*end)
        return false;
    *v = x;
    return true;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!s[0] || s[0] == '-')
        return false;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end)
        return false;
    *v = x;
    return true;
}

static bool in_range(const char *s, int lo, int hi, int *out)
{
    int64_t v;
    if (!parse_i64(s, &v) || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

/* ------------------------------------------------------------ codecs */

static int blosc_fields(char *f[], int nf, codec *k, pz_err *e)
{
    static const char *cnames[] = {"blosclz", "lz4", "lz4hc", "zlib", "zstd", "snappy"};
    static const char *shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};
    k->k = K_BLOSC;
    snprintf(k->cname, sizeof k->cname, "lz4");
    k->level = 5;
    k->shuffle = 1;
    if (nf > 4)
        return pz_err_set(e, PZARR_EINVAL,
                          "codec blosc: too many fields (blosc:CNAME:CLEVEL:SHUFFLE)");
    if (nf > 1) {
        bool ok = false;
        for (size_t i = 0; i < sizeof cnames / sizeof cnames[0]; i++)
            ok = ok || strcmp(f[1], cnames[i]) == 0;
        if (!ok)
            return pz_err_set(e, PZARR_EINVAL,
                              "codec blosc: unknown compressor '%.40s' (blosclz, lz4, lz4hc, "
                              "zlib, zstd, snappy)",
                              f[1]);
        snprintf(k->cname, sizeof k->cname, "%s", f[1]);
    }
    if (nf > 2 && !in_range(f[2], 0, 9, &k->level))
        return pz_err_set(e, PZARR_EINVAL, "codec blosc: level '%.40s' is not in 0..9", f[2]);
    if (nf > 3) {
        k->shuffle = -1;
        for (int i = 0; i < 3; i++)
            if (strcmp(f[3], shuffles[i]) == 0)
                k->shuffle = i;
        if (k->shuffle < 0 && !in_range(f[3], 0, 2, &k->shuffle))
            return pz_err_set(e, PZARR_EINVAL,
                              "codec blosc: unknown shuffle '%.40s' (noshuffle, shuffle, "
                              "bitshuffle)",
                              f[3]);
    }
    return 0;
}

/* zfp:reversible, zfp:rate:R, zfp:precision:P, zfp:accuracy:T,
 * zfp:expert:MINBITS:MAXBITS:MAXPREC:MINEXP. */
static int zfp_fields(char *f[], int nf, codec *k, pz_err *e)
{
    static const char *const modes[] = {"reversible", "rate", "precision", "accuracy",
                                        "expert"};
    static const int nfields[] = {2, 3, 3, 3, 6};
    k->k = K_ZFP;
    k->zmode = -1;
    for (int i = 0; nf > 1 && i < 5; i++)
        if (strcmp(f[1], modes[i]) == 0)
            k->zmode = i;
    if (k->zmode < 0)
        return pz_err_set(e, PZARR_EINVAL,
                          "codec zfp needs a mode: zfp:accuracy:TOL, zfp:rate:BITS, "
                          "zfp:precision:BITS, zfp:reversible or "
                          "zfp:expert:MINBITS:MAXBITS:MAXPREC:MINEXP");
    if (nf != nfields[k->zmode])
        return pz_err_set(e, PZARR_EINVAL, "codec zfp:%s takes %d parameter%s", modes[k->zmode],
                          nfields[k->zmode] - 2, nfields[k->zmode] == 3 ? "" : "s");
    if (k->zmode == ZFP_RATE || k->zmode == ZFP_ACCURACY) {
        char *end;
        k->zval = strtod(f[2], &end);
        if (*end || end == f[2] || !isfinite(k->zval) || k->zval < 0 ||
            (k->zmode == ZFP_RATE && k->zval == 0))
            return pz_err_set(e, PZARR_EINVAL, "codec zfp:%s: '%.40s' is not a %s number",
                              modes[k->zmode], f[2],
                              k->zmode == ZFP_RATE ? "positive" : "non-negative");
    } else if (k->zmode == ZFP_PRECISION) {
        int v;
        if (!in_range(f[2], 1, 64, &v))
            return pz_err_set(e, PZARR_EINVAL, "codec zfp:precision: '%.40s' is not in 1..64",
                              f[2]);
        k->zval = v;
    } else if (k->zmode == ZFP_EXPERT) {
        static const int lo[] = {0, 1, 1, -1074}, hi[] = {1 << 20, 1 << 20, 64, 1 << 20};
        for (int i = 0; i < 4; i++)
            if (!in_range(f[2 + i], lo[i], hi[i], &k->zexp[i]))
                return pz_err_set(e, PZARR_EINVAL, "codec zfp:expert: '%.40s' is out of range",
                                  f[2 + i]);
    }
    return 0;
}

/* One '+'-separated item of a codec string (modified); *none for "none". */
static int codec_item(char *item, codec *k, bool *none, pz_err *e)
{
    char *f[8] = {0};
    int nf = 0;
    for (char *p = item; nf < 8;) {
        f[nf++] = p;
        char *colon = strchr(p, ':');
        if (!colon)
            break;
        *colon = '\0';
        p = colon + 1;
    }
    const char *name = f[0];
    *none = false;
    memset(k, 0, sizeof *k);
    if (strcmp(name, "none") == 0 || strcmp(name, "crc32c") == 0) {
        *none = name[0] == 'n';
        k->k = K_CRC32C;
        return nf > 1 ? pz_err_set(e, PZARR_EINVAL, "codec %s takes no parameter", name) : 0;
    }
    if (strcmp(name, "blosc") == 0)
        return blosc_fields(f, nf, k, e);
    if (strcmp(name, "zfp") == 0)
        return zfp_fields(f, nf, k, e);
    int lo = 0, hi = 9, def = 6;
    if (strcmp(name, "zstd") == 0)
        k->k = K_ZSTD, lo = -131072, hi = 22, def = 3;
    else if (strcmp(name, "gzip") == 0)
        k->k = K_GZIP;
    else if (strcmp(name, "zlib") == 0)
        k->k = K_ZLIB;
    else if (strcmp(name, "lz4") == 0)
        k->k = K_LZ4, lo = 1, hi = 65537, def = 1; /* the acceleration */
    else if (strcmp(name, "bz2") == 0)
        k->k = K_BZ2, lo = 1, def = 9;
    else if (strcmp(name, "lzma") == 0)
        k->k = K_LZMA, def = 6; /* the preset */
    else
        return pz_err_set(e, PZARR_EINVAL,
                          "unknown codec '%.40s' (zstd, blosc, gzip, zlib, lz4, bz2, lzma, "
                          "zfp, crc32c, none)",
                          name);
    k->level = def;
    if (nf > 2)
        return pz_err_set(e, PZARR_EINVAL, "codec %s takes one parameter, the level", name);
    if (nf == 2 && !in_range(f[1], lo, hi, &k->level))
        return pz_err_set(e, PZARR_EINVAL, "codec %s: level '%.40s' is not in %d..%d", name,
                          f[1], lo, hi);
    return 0;
}

static int parse_codecs(plan *p, const char *s, pz_err *e)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return pz_err_set(e, PZARR_EINVAL, "codec '%.40s...' is too long", s);
    snprintf(buf, sizeof buf, "%s", s);
    p->n = 0;
    for (char *q = buf;;) {
        char *plus = strchr(q, '+');
        if (plus)
            *plus = '\0';
        bool none;
        if (p->n == MAX_CODECS)
            return pz_err_set(e, PZARR_EINVAL, "codec '%.80s': too many codecs", s);
        PZ_TRY(codec_item(q, &p->c[p->n], &none, e));
        if (!none)
            p->n++;
        if (!plus)
            break;
        q = plus + 1;
    }
    int compressors = 0;
    for (int i = 0; i < p->n; i++) {
        if (p->format == 2 && p->c[i].k == K_CRC32C)
            return pz_err_set(e, PZARR_EINVAL, "codec crc32c needs format 3");
        if (p->format == 3 && p->c[i].k == K_ZLIB)
            return pz_err_set(e, PZARR_EINVAL,
                              "codec zlib exists in Zarr v2 only (use gzip or format 2)");
        if (p->format == 3 && p->c[i].k >= K_LZ4 && p->c[i].k <= K_LZMA)
            return pz_err_set(e, PZARR_EINVAL,
                              "codec %s is a Zarr v2 (numcodecs) compressor here (use format 2)",
                              p->c[i].k == K_LZ4 ? "lz4" : p->c[i].k == K_BZ2 ? "bz2" : "lzma");
        compressors += p->c[i].k != K_CRC32C;
    }
    if (p->format == 2 && compressors > 1)
        return pz_err_set(e, PZARR_EINVAL, "Zarr v2 arrays take a single compressor");
    /* zfp turns the array into bytes itself: first, alone of its kind. */
    for (int i = 0; i < p->n; i++)
        if (p->c[i].k == K_ZFP && i > 0)
            return pz_err_set(e, PZARR_EINVAL, "codec zfp comes first (it replaces \"bytes\")");
    if (p->n && p->c[0].k == K_ZFP && pz_dtype_is_vlen(p->sp->dtype))
        return pz_err_set(e, PZARR_EINVAL, "codec zfp does not take %s",
                          pzarr_dtype_name(p->sp->dtype));
    if (p->n && p->c[0].k == K_ZFP) {
        if (p->format == 2 && p->c[0].zmode == ZFP_EXPERT)
            return pz_err_set(e, PZARR_EINVAL,
                              "zfp's expert mode has no Zarr v2 (numcodecs zfpy) form");
        pzarr_dtype t = p->sp->dtype;
        bool ok = t == PZARR_FLOAT32 || t == PZARR_FLOAT64 || t == PZARR_INT32 ||
                  t == PZARR_INT64 ||
                  (p->format == 3 && (t == PZARR_UINT32 || t == PZARR_UINT64));
        if (!ok)
            return pz_err_set(e, PZARR_EINVAL, "codec zfp does not take %s (%s)",
                              pzarr_dtype_name(t),
                              p->format == 3 ? "float32, float64, int32, uint32, int64, uint64"
                                             : "float32, float64, int32, int64 in Zarr v2");
        if (p->order_f || p->big)
            return pz_err_set(e, PZARR_EINVAL, "codec zfp takes C order and little endian");
        int big = 0;
        for (int d = 0; d < p->sp->ndim; d++)
            big += p->chunks[d] > 1;
        if (big > 4 || (p->format == 2 && p->sp->ndim > 4))
            return pz_err_set(e, PZARR_EINVAL,
                              "codec zfp compresses chunks of at most 4 dimensions (longer "
                              "than 1)");
    }
    return 0;
}

/* ------------------------------------------------------------ fill value */

static cJSON *fill_float(const char *s, pzarr_dtype t, bool *ok)
{
    *ok = true;
    if (strcmp(s, "nan") == 0 || strcmp(s, "NaN") == 0)
        return cJSON_CreateString("NaN");
    if (!strcmp(s, "inf") || !strcmp(s, "+inf") || !strcmp(s, "Infinity") ||
        !strcmp(s, "infinity"))
        return cJSON_CreateString("Infinity");
    if (!strcmp(s, "-inf") || !strcmp(s, "-Infinity") || !strcmp(s, "-infinity"))
        return cJSON_CreateString("-Infinity");
    char *end;
    double v = strtod(s, &end);
    double max = t == PZARR_FLOAT16                                ? 65504.0
                 : (t == PZARR_FLOAT32 || t == PZARR_COMPLEX64) ? (double)FLT_MAX
                                                                 : DBL_MAX;
    if (!s[0] || *end || !isfinite(v) || fabs(v) > max) {
        *ok = false;
        return NULL;
    }
    return cJSON_CreateNumber(v);
}

static cJSON *fill_int(const char *s, pzarr_dtype t, bool *ok)
{
    static const int64_t lo[] = {[PZARR_INT8] = INT8_MIN, [PZARR_INT16] = INT16_MIN,
                                 [PZARR_INT32] = INT32_MIN, [PZARR_INT64] = INT64_MIN};
    static const int64_t hi[] = {[PZARR_INT8] = INT8_MAX, [PZARR_INT16] = INT16_MAX,
                                 [PZARR_INT32] = INT32_MAX, [PZARR_INT64] = INT64_MAX};
    static const uint64_t uhi[] = {[PZARR_UINT8] = UINT8_MAX, [PZARR_UINT16] = UINT16_MAX,
                                   [PZARR_UINT32] = UINT32_MAX, [PZARR_UINT64] = UINT64_MAX};
    char text[32];
    *ok = false;
    if (t >= PZARR_UINT8) {
        uint64_t u;
        if (!parse_u64(s[0] == '+' ? s + 1 : s, &u) || u > uhi[t])
            return NULL;
        snprintf(text, sizeof text, "%" PRIu64, u);
    } else {
        int64_t v;
        if (!parse_i64(s, &v) || v < lo[t] || v > hi[t])
            return NULL;
        snprintf(text, sizeof text, "%" PRId64, v);
    }
    *ok = true;
    return cJSON_CreateRaw(text); /* a double would round integers past 2^53 */
}

static cJSON *fill_complex(const char *s, pzarr_dtype t, bool *ok)
{
    char re[64];
    const char *comma = strchr(s, ',');
    const char *im = comma ? comma + 1 : "0";
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    *ok = false;
    if (len >= sizeof re)
        return NULL;
    memcpy(re, s, len);
    re[len] = '\0';
    cJSON *arr = cJSON_CreateArray();
    cJSON *a = fill_float(re, t, ok);
    if (*ok && a)
        cJSON_AddItemToArray(arr, a);
    cJSON *b = *ok ? fill_float(im, t, ok) : NULL;
    if (*ok && b)
        cJSON_AddItemToArray(arr, b);
    if (!*ok) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

/* The fill of a spec that gives none: 0 (false); but a variable with
 * dimension names is a dataset variable, and gets what xarray writes,
 * whose readers take the fill value for _FillValue (missing data): NaN for
 * floats, and in Zarr v2 null for the rest, so that no real 0 reads as
 * missing. */
static const char *default_fill(const plan *p)
{
    pzarr_dtype t = p->sp->dtype;
    if (pz_dtype_time_kind(t))
        return "NaT"; /* 0 would be a real time, 1970-01-01 */
    bool named = false;
    for (int d = 0; d < p->sp->ndim; d++)
        named = named || (p->sp->dims[d] && p->sp->dims[d][0]);
    if (named && t >= PZARR_FLOAT16 && t <= PZARR_FLOAT64)
        return "nan";
    if (named && (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128))
        return "nan,nan";
    if (pz_dtype_is_vlen(t)) /* "": zarr-python 2's "null" reads as None */
        return t == PZARR_VLEN_BYTES && p->format == 2 ? "null" : "";
    if (named && p->format == 2 && !pz_dtype_string_kind(t))
        return "null";
    return t == PZARR_BOOL ? "false" : "0";
}

static int fill_json(const plan *p, cJSON **out, pz_err *e)
{
    pzarr_dtype t = p->sp->dtype;
    const char *s = p->sp->fill ? p->sp->fill : default_fill(p);
    bool ok = true;
    cJSON *v = NULL;
    if (strcmp(s, "null") == 0) {
        if (p->format != 2)
            return pz_err_set(e, PZARR_EINVAL, "fill value null needs format 2");
        v = cJSON_CreateNull();
    } else if (pz_dtype_is_vlen(t)) {
        /* The text itself; v3 bytes in base64, as zarr-python 3 writes them */
        const char *text = p->sp->fill ? p->sp->fill : "";
        unsigned char raw[PZ_FILL_MAX], check[PZ_FILL_MAX];
        bool isnull;
        pz_err quiet;
        pz_err_clear(&quiet);
        ok = pz_fill_set_vlen(raw, text, strlen(text)) == 0 &&
             (t == PZARR_VLEN_BYTES || pz_utf8_valid((const unsigned char *)text, strlen(text)));
        v = ok ? pz_fill_emit(t, p->format, raw, false) : NULL;
        ok = v && pz_fill_parse(v, t, p->format, check, &isnull, &quiet) == 0;
    } else if (pz_dtype_string_kind(t)) {
        /* The text itself ("0": the empty string); "|S" fills are stored
         * in base64, as zarr-python writes them. */
        const char *text = p->sp->fill ? p->sp->fill : "";
        unsigned char raw[PZ_FILL_MAX];
        size_t n = strlen(text);
        if (pz_dtype_string_kind(t) == 'S' && n <= sizeof raw) {
            memcpy(raw, text, n);
            memset(raw + n, 0, sizeof raw - n);
            v = n <= pz_dtype_string_length(t) ? pz_fill_emit(t, 2, raw, false) : NULL;
        } else if (pz_dtype_string_kind(t) == 'U') {
            v = cJSON_CreateString(text);
        }
        unsigned char check[PZ_FILL_MAX];
        bool isnull;
        pz_err quiet;
        pz_err_clear(&quiet);
        ok = v && pz_fill_parse(v, t, 2, check, &isnull, &quiet) == 0;
    } else if (pz_dtype_time_kind(t)) {
        if (strcmp(s, "NaT") == 0 || strcmp(s, "nat") == 0) {
            v = p->format == 3 ? cJSON_CreateString("NaT") : cJSON_CreateRaw("-9223372036854775808");
        } else {
            char *end;
            errno = 0;
            long long x = strtoll(s, &end, 10);
            ok = *s && !*end && errno == 0 && x != INT64_MIN;
            char txt[32];
            snprintf(txt, sizeof txt, "%lld", x);
            v = ok ? cJSON_CreateRaw(txt) : NULL;
        }
    } else if (t == PZARR_BOOL) {
        ok = !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "false") || !strcmp(s, "0");
        v = ok ? cJSON_CreateBool(s[0] == 't' || s[0] == '1') : NULL;
    } else if (t >= PZARR_FLOAT16 && t <= PZARR_FLOAT64) {
        v = fill_float(s, t, &ok);
    } else if (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128) {
        v = fill_complex(s, t, &ok);
    } else {
        v = fill_int(s, t, &ok);
    }
    if (!ok || !v) {
        cJSON_Delete(v);
        return pz_err_set(e, PZARR_EINVAL, "fill value '%.60s' is not a valid %s value", s,
                          pzarr_dtype_name(t));
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------ documents */

static cJSON *dims_json(int n, const uint64_t *v)
{
    cJSON *arr = cJSON_CreateArray();
    char text[32];
    for (int i = 0; arr && i < n; i++) {
        snprintf(text, sizeof text, "%" PRIu64, v[i]);
        cJSON_AddItemToArray(arr, cJSON_CreateRaw(text));
    }
    return arr;
}

static cJSON *named(const char *name, cJSON *config)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    if (config)
        cJSON_AddItemToObject(o, "configuration", config);
    return o;
}

static cJSON *v3_codec(const codec *k, size_t itemsize)
{
    static const char *shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};
    cJSON *cfg = cJSON_CreateObject();
    switch (k->k) {
    case K_ZSTD:
        cJSON_AddNumberToObject(cfg, "level", k->level);
        cJSON_AddFalseToObject(cfg, "checksum");
        return named("zstd", cfg);
    case K_GZIP:
        cJSON_AddNumberToObject(cfg, "level", k->level);
        return named("gzip", cfg);
    case K_BLOSC:
        cJSON_AddStringToObject(cfg, "cname", k->cname);
        cJSON_AddNumberToObject(cfg, "clevel", k->level);
        cJSON_AddStringToObject(cfg, "shuffle", shuffles[k->shuffle]);
        cJSON_AddNumberToObject(cfg, "typesize", (double)itemsize);
        cJSON_AddNumberToObject(cfg, "blocksize", 0);
        return named("blosc", cfg);
    case K_CRC32C:
    case K_ZLIB:
    case K_LZ4:
    case K_BZ2:
    case K_LZMA:
    case K_ZFP:
        break;
    }
    cJSON_Delete(cfg);
    return named("crc32c", NULL);
}

static cJSON *v3_codecs(const plan *p)
{
    int nd = p->sp->ndim;
    cJSON *arr = cJSON_CreateArray();
    if (p->order_f && nd > 1) {
        int order[PZARR_MAX_NDIM];
        for (int d = 0; d < nd; d++)
            order[d] = nd - 1 - d;
        cJSON *cfg = cJSON_CreateObject();
        cJSON_AddItemToObject(cfg, "order", cJSON_CreateIntArray(order, nd));
        cJSON_AddItemToArray(arr, named("transpose", cfg));
    }
    if (p->n && p->c[0].k == K_ZFP) {
        static const char *const modes[] = {"reversible", "fixed_rate", "fixed_precision",
                                            "fixed_accuracy", "expert"};
        const codec *k = &p->c[0];
        cJSON *z = cJSON_CreateObject();
        cJSON_AddStringToObject(z, "mode", modes[k->zmode]);
        if (k->zmode == ZFP_RATE)
            cJSON_AddNumberToObject(z, "rate", k->zval);
        else if (k->zmode == ZFP_PRECISION)
            cJSON_AddNumberToObject(z, "precision", k->zval);
        else if (k->zmode == ZFP_ACCURACY)
            cJSON_AddNumberToObject(z, "tolerance", k->zval);
        else if (k->zmode == ZFP_EXPERT) {
            static const char *const names[] = {"minbits", "maxbits", "maxprec", "minexp"};
            for (int i = 0; i < 4; i++)
                cJSON_AddNumberToObject(z, names[i], k->zexp[i]);
        }
        cJSON_AddItemToArray(arr, named("zfp", z));
        for (int i = 1; i < p->n; i++)
            cJSON_AddItemToArray(arr, v3_codec(&p->c[i], p->itemsize));
        return arr;
    }
    if (pz_dtype_is_vlen(p->sp->dtype)) { /* the vlen codec turns the array into bytes */
        cJSON_AddItemToArray(arr, named(p->sp->dtype == PZARR_VLEN_STRING ? "vlen-utf8"
                                                                         : "vlen-bytes",
                                        cJSON_CreateObject()));
        for (int i = 0; i < p->n; i++)
            cJSON_AddItemToArray(arr, v3_codec(&p->c[i], 1));
        return arr;
    }
    /* One-byte types have no byte order: zarr-python 3 writes no endian
     * there, and zarrita.js would swap bools if told "big". */
    cJSON *cfg = NULL;
    if (p->itemsize > 1) {
        cfg = cJSON_CreateObject();
        cJSON_AddStringToObject(cfg, "endian", p->big ? "big" : "little");
    }
    cJSON_AddItemToArray(arr, named("bytes", cfg));
    for (int i = 0; i < p->n; i++)
        cJSON_AddItemToArray(arr, v3_codec(&p->c[i], p->itemsize));
    return arr;
}

/* Sharded: the codecs above are the inner chunks' codecs of one
 * sharding_indexed codec, its index little endian with a crc32c, at the end
 * of the shard (as zarr-python writes by default). */
static cJSON *v3_sharding(const plan *p)
{
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddItemToObject(cfg, "chunk_shape", dims_json(p->sp->ndim, p->chunks));
    cJSON_AddItemToObject(cfg, "codecs", v3_codecs(p));
    cJSON *ic = cJSON_CreateArray(), *bcfg = cJSON_CreateObject();
    cJSON_AddStringToObject(bcfg, "endian", "little");
    cJSON_AddItemToArray(ic, named("bytes", bcfg));
    cJSON_AddItemToArray(ic, named("crc32c", NULL));
    cJSON_AddItemToObject(cfg, "index_codecs", ic);
    cJSON_AddStringToObject(cfg, "index_location", "end");
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, named("sharding_indexed", cfg));
    return arr;
}

static cJSON *v3_document(const plan *p, cJSON *fill)
{
    const pzarr_spec *sp = p->sp;
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "zarr_format", 3);
    cJSON_AddStringToObject(doc, "node_type", "array");
    cJSON_AddItemToObject(doc, "shape", dims_json(sp->ndim, sp->shape));
    cJSON_AddItemToObject(doc, "data_type", pz_meta_v3_data_type(sp->dtype));
    cJSON *grid = cJSON_CreateObject();
    cJSON_AddItemToObject(grid, "chunk_shape",
                          dims_json(sp->ndim, p->sharded ? sp->shard : p->chunks));
    cJSON_AddItemToObject(doc, "chunk_grid", named("regular", grid));
    cJSON *keys = cJSON_CreateObject();
    char sep[2] = {p->sep, '\0'};
    cJSON_AddStringToObject(keys, "separator", sep);
    cJSON_AddItemToObject(doc, "chunk_key_encoding", named("default", keys));
    cJSON_AddItemToObject(doc, "fill_value", fill);
    cJSON_AddItemToObject(doc, "codecs", p->sharded ? v3_sharding(p) : v3_codecs(p));
    return doc;
}

static cJSON *v2_compressor(const plan *p)
{
    if (p->n == 0)
        return cJSON_CreateNull();
    const codec *k = &p->c[0];
    cJSON *o = cJSON_CreateObject();
    switch (k->k) {
    case K_ZSTD:
        cJSON_AddStringToObject(o, "id", "zstd");
        cJSON_AddNumberToObject(o, "level", k->level);
        break;
    case K_GZIP:
    case K_ZLIB:
        cJSON_AddStringToObject(o, "id", k->k == K_GZIP ? "gzip" : "zlib");
        cJSON_AddNumberToObject(o, "level", k->level);
        break;
    case K_BLOSC:
        cJSON_AddStringToObject(o, "id", "blosc");
        cJSON_AddStringToObject(o, "cname", k->cname);
        cJSON_AddNumberToObject(o, "clevel", k->level);
        cJSON_AddNumberToObject(o, "shuffle", k->shuffle);
        cJSON_AddNumberToObject(o, "blocksize", 0);
        break;
    case K_LZ4:
        cJSON_AddNumberToObject(o, "acceleration", k->level);
        cJSON_AddStringToObject(o, "id", "lz4");
        break;
    case K_BZ2:
        cJSON_AddStringToObject(o, "id", "bz2");
        cJSON_AddNumberToObject(o, "level", k->level);
        break;
    case K_LZMA:
        cJSON_AddNumberToObject(o, "check", -1);
        cJSON_AddNullToObject(o, "filters");
        cJSON_AddNumberToObject(o, "format", 1);
        cJSON_AddStringToObject(o, "id", "lzma");
        cJSON_AddNumberToObject(o, "preset", k->level);
        break;
    case K_ZFP: /* numcodecs' zfpy: 2 fixed rate, 3 fixed precision, 4 fixed accuracy
                   (a tolerance of -1: reversible) */
        cJSON_AddStringToObject(o, "id", "zfpy");
        cJSON_AddNumberToObject(o, "mode", k->zmode == ZFP_RATE        ? 2
                                           : k->zmode == ZFP_PRECISION ? 3
                                                                       : 4);
        cJSON_AddNumberToObject(o, "precision", k->zmode == ZFP_PRECISION ? k->zval : -1);
        cJSON_AddNumberToObject(o, "rate", k->zmode == ZFP_RATE ? k->zval : -1);
        cJSON_AddNumberToObject(o, "tolerance", k->zmode == ZFP_ACCURACY ? k->zval : -1);
        break;
    case K_CRC32C:
        break;
    }
    return o;
}

static cJSON *v2_document(const plan *p, cJSON *fill)
{
    const pzarr_spec *sp = p->sp;
    char dtype[32];
    pz_dtype_to_v2(sp->dtype, p->big, dtype);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "zarr_format", 2);
    cJSON_AddItemToObject(doc, "shape", dims_json(sp->ndim, sp->shape));
    cJSON_AddItemToObject(doc, "chunks", dims_json(sp->ndim, p->chunks));
    cJSON_AddStringToObject(doc, "dtype", dtype);
    cJSON_AddItemToObject(doc, "compressor", v2_compressor(p));
    cJSON_AddItemToObject(doc, "fill_value", fill);
    cJSON_AddStringToObject(doc, "order", p->order_f ? "F" : "C");
    if (pz_dtype_is_vlen(sp->dtype)) {
        cJSON *f = cJSON_CreateArray(), *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", sp->dtype == PZARR_VLEN_STRING ? "vlen-utf8"
                                                                       : "vlen-bytes");
        cJSON_AddItemToArray(f, o);
        cJSON_AddItemToObject(doc, "filters", f);
    } else {
        cJSON_AddNullToObject(doc, "filters");
    }
    char sep[2] = {p->sep, '\0'};
    cJSON_AddStringToObject(doc, "dimension_separator", sep);
    return doc;
}

/* Attributes and dimension names: v3 "dimension_names", v2 the
 * "_ARRAY_DIMENSIONS" attribute. */
static int extras(const plan *p, cJSON *doc, pz_err *e)
{
    const pzarr_spec *sp = p->sp;
    cJSON *attrs = NULL;
    if (sp->attributes) {
        attrs = cJSON_Parse(sp->attributes);
        if (!cJSON_IsObject(attrs)) {
            cJSON_Delete(attrs);
            return pz_err_set(e, PZARR_EINVAL, "attributes '%.60s' are not a JSON object",
                              sp->attributes);
        }
    } else {
        attrs = cJSON_CreateObject();
    }
    cJSON_AddItemToObject(doc, "attributes", attrs);
    int named_dims = 0;
    for (int d = 0; d < sp->ndim; d++)
        named_dims += sp->dims[d] != NULL;
    for (int d = sp->ndim; d < PZARR_MAX_NDIM; d++)
        if (sp->dims[d])
            return pz_err_set(e, PZARR_EINVAL,
                              "dimension name %d ('%.40s') given, the array has %d dimensions",
                              d, sp->dims[d], sp->ndim);
    if (named_dims == 0)
        return 0;
    cJSON *names = cJSON_CreateArray();
    for (int d = 0; d < sp->ndim; d++) {
        const char *n = sp->dims[d];
        if (p->format == 2 && (!n || !n[0])) {
            cJSON_Delete(names);
            return pz_err_set(e, PZARR_EINVAL,
                              "dimension %d has no name (Zarr v2 names all or none)", d);
        }
        cJSON_AddItemToArray(names, n ? cJSON_CreateString(n) : cJSON_CreateNull());
    }
    if (p->format == 3)
        cJSON_AddItemToObject(doc, "dimension_names", names);
    else {
        cJSON_DeleteItemFromObjectCaseSensitive(attrs, PZ_V2_DIMS_ATTR);
        cJSON_AddItemToObject(attrs, PZ_V2_DIMS_ATTR, names);
    }
    return 0;
}

static int check_layout(plan *p, pz_err *e)
{
    const pzarr_spec *sp = p->sp;
    if (sp->ndim < 0 || sp->ndim > PZARR_MAX_NDIM)
        return pz_err_set(e, PZARR_EINVAL, "ndim %d is not in 0..%d", sp->ndim, PZARR_MAX_NDIM);
    bool any = false;
    int zero = -1;
    for (int d = 0; d < sp->ndim; d++) {
        any = any || sp->chunks[d];
        if (!sp->chunks[d] && zero < 0)
            zero = d;
    }
    if (any && zero >= 0) /* all 0: one chunk for the whole array */
        return pz_err_set(e, PZARR_EINVAL,
                          "chunks: dimension %d is 0 (chunks must be at least 1)", zero);
    uint64_t bytes = p->itemsize;
    for (int d = 0; d < sp->ndim; d++) {
        p->chunks[d] = any ? sp->chunks[d] : sp->shape[d] ? sp->shape[d] : 1;
        if (__builtin_mul_overflow(bytes, p->chunks[d], &bytes) || bytes > (uint64_t)INT64_MAX)
            return pz_err_set(e, PZARR_EINVAL,
                              "chunks: a chunk of %s would exceed 2^63 bytes",
                              pzarr_dtype_name(sp->dtype));
    }
    for (int d = 0; d < sp->ndim; d++)
        p->sharded = p->sharded || sp->shard[d];
    if (!p->sharded)
        return 0;
    if (p->format != 3)
        return pz_err_set(e, PZARR_EINVAL, "sharding needs format 3 (it is a Zarr v3 codec)");
    for (int d = 0; d < sp->ndim; d++)
        if (sp->shard[d] == 0 || sp->shard[d] % p->chunks[d] != 0)
            return pz_err_set(e, PZARR_EINVAL,
                              "shard: dimension %d (%" PRIu64 ") must be a positive multiple of "
                              "the chunk size %" PRIu64,
                              d, sp->shard[d], p->chunks[d]);
    return 0;
}

int pz_spec_document(const pzarr_spec *sp, char **json, pz_err *e)
{
    *json = NULL;
    if (!sp)
        return pz_err_set(e, PZARR_EINVAL, "no spec");
    plan p = {.sp = sp, .format = sp->zarr_format ? sp->zarr_format : 3};
    if (p.format != 2 && p.format != 3)
        return pz_err_set(e, PZARR_EINVAL, "format %d is neither 3 nor 2", sp->zarr_format);
    if (!pzarr_dtype_name(sp->dtype))
        return pz_err_set(e, PZARR_EINVAL, "dtype %d is not a data type", (int)sp->dtype);
    if (pz_dtype_string_kind(sp->dtype) == 'S' && p.format != 2)
        return pz_err_set(e, PZARR_EINVAL, "fixed-length byte strings need format 2 (Zarr v3 "
                                           "has fixed_length_utf32 strings, not bytes)");
    p.itemsize = pz_dtype_slot(sp->dtype);
    if (sp->order && sp->order != 'C' && sp->order != 'F')
        return pz_err_set(e, PZARR_EINVAL, "order '%c' is neither C nor F", sp->order);
    p.order_f = sp->order == 'F';
    if (pz_dtype_is_vlen(sp->dtype)) {
        bool sharded = false;
        for (int d = 0; d < sp->ndim && d < PZARR_MAX_NDIM; d++)
            sharded = sharded || sp->shard[d];
        if (p.order_f || sharded || sp->big_endian)
            return pz_err_set(e, PZARR_EINVAL,
                              "%s arrays are written in C order, unsharded, without a byte "
                              "order",
                              pzarr_dtype_name(sp->dtype));
    }
    if (sp->separator && sp->separator != '/' && sp->separator != '.')
        return pz_err_set(e, PZARR_EINVAL, "separator '%c' is neither / nor .", sp->separator);
    p.sep = sp->separator ? sp->separator : p.format == 2 ? '.' : '/';
    p.big = sp->big_endian != 0;
    PZ_TRY(check_layout(&p, e));
    PZ_TRY(parse_codecs(&p, sp->codec ? sp->codec : "zstd:3", e));
    cJSON *fill = NULL;
    PZ_TRY(fill_json(&p, &fill, e));
    cJSON *doc = p.format == 3 ? v3_document(&p, fill) : v2_document(&p, fill);
    int rc = doc ? extras(&p, doc, e) : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    if (rc == 0 && !(*json = pz_json_print(doc, true)))
        rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
    cJSON_Delete(doc);
    return rc;
}

int pzarr_spec_document(const pzarr_spec *spec, char **json, char *msg, size_t cap)
{
    pz_err e;
    pz_err_clear(&e);
    if (!json)
        return PZARR_EINVAL;
    int rc = pz_spec_document(spec, json, &e);
    if (msg && cap)
        snprintf(msg, cap, "%s", rc ? e.msg : "");
    return rc;
}
