/* `pzarr create`: builds a Zarr v2 or v3 array document from the options
 * and creates the array at the root of the store at PATH. */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_CODECS 8

typedef enum { SPEC_ZSTD, SPEC_BLOSC, SPEC_GZIP, SPEC_ZLIB, SPEC_CRC32C } spec_kind;

typedef struct codec_spec {
    spec_kind kind;
    int level;     /* zstd, gzip, zlib; blosc clevel */
    char cname[16];
    int shuffle;   /* 0 noshuffle, 1 shuffle, 2 bitshuffle */
} codec_spec;

typedef struct create_args {
    const char *path;
    int format;
    pzarr_dtype dtype;
    size_t itemsize;
    int ndim;
    uint64_t shape[PZARR_MAX_NDIM], chunks[PZARR_MAX_NDIM];
    int ncodecs;
    codec_spec codecs[CLI_MAX_CODECS];
    const char *fill;
    bool order_f;
    char separator;
    bool big_endian;
    const char *attrs;
    const char *dim_names;
    bool sharded;
    uint64_t shard[PZARR_MAX_NDIM]; /* with --shard: the chunk grid's shape */
} create_args;

/* ------------------------------------------------------------ codecs */

static bool spec_int(const char *s, int lo, int hi, int *out)
{
    int64_t v;
    if (!cli_parse_i64(s, &v) || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static int spec_blosc(cli *c, char *fields[], int nf, codec_spec *k)
{
    static const char *cnames[] = {"blosclz", "lz4", "lz4hc", "zlib", "zstd",
                                   "snappy"};
    static const char *shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};
    k->kind = SPEC_BLOSC;
    snprintf(k->cname, sizeof k->cname, "lz4");
    k->level = 5;
    k->shuffle = 1;
    if (nf > 4)
        return cli_usage(c, "codec blosc: too many fields (blosc:CNAME:"
                         "CLEVEL:SHUFFLE)");
    if (nf > 1) {
        bool ok = false;
        for (size_t i = 0; i < sizeof cnames / sizeof cnames[0]; i++)
            ok = ok || strcmp(fields[1], cnames[i]) == 0;
        if (!ok)
            return cli_usage(c, "codec blosc: unknown compressor '%s' (blosclz, "
                             "lz4, lz4hc, zlib, zstd, snappy)", fields[1]);
        snprintf(k->cname, sizeof k->cname, "%s", fields[1]);
    }
    if (nf > 2 && !spec_int(fields[2], 0, 9, &k->level))
        return cli_usage(c, "codec blosc: level '%s' is not in 0..9",
                         fields[2]);
    if (nf > 3) {
        k->shuffle = -1;
        for (int i = 0; i < 3; i++)
            if (strcmp(fields[3], shuffles[i]) == 0)
                k->shuffle = i;
        if (k->shuffle < 0 && !spec_int(fields[3], 0, 2, &k->shuffle))
            return cli_usage(c, "codec blosc: unknown shuffle '%s' (noshuffle, "
                             "shuffle, bitshuffle)", fields[3]);
    }
    return CLI_OK;
}

/* One '+'-separated item of --codec; `item` is modified. */
static int spec_parse_one(cli *c, char *item, codec_spec *k, bool *none)
{
    char *fields[8] = {0};
    int nf = 0;
    for (char *p = item; nf < 8;) {
        fields[nf++] = p;
        char *colon = strchr(p, ':');
        if (!colon)
            break;
        *colon = '\0';
        p = colon + 1;
    }
    const char *name = fields[0];
    *none = false;
    memset(k, 0, sizeof *k);
    if (strcmp(name, "none") == 0 || strcmp(name, "crc32c") == 0) {
        *none = name[0] == 'n';
        k->kind = SPEC_CRC32C;
        if (nf > 1)
            return cli_usage(c, "codec %s takes no parameter", name);
        return CLI_OK;
    }
    if (strcmp(name, "blosc") == 0)
        return spec_blosc(c, fields, nf, k);
    int lo = 0, hi = 9, def = 6;
    if (strcmp(name, "zstd") == 0) {
        k->kind = SPEC_ZSTD, lo = -131072, hi = 22, def = 3;
    } else if (strcmp(name, "gzip") == 0) {
        k->kind = SPEC_GZIP;
    } else if (strcmp(name, "zlib") == 0) {
        k->kind = SPEC_ZLIB;
    } else {
        return cli_usage(c, "unknown codec '%s' (zstd, blosc, gzip, zlib, "
                         "crc32c, none)", name);
    }
    k->level = def;
    if (nf > 2)
        return cli_usage(c, "codec %s takes one parameter, the level", name);
    if (nf == 2 && !spec_int(fields[1], lo, hi, &k->level))
        return cli_usage(c, "codec %s: level '%s' is not in %d..%d", name,
                         fields[1], lo, hi);
    return CLI_OK;
}

static int spec_parse(cli *c, const char *s, create_args *a)
{
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return cli_usage(c, "--codec '%.40s...' is too long", s);
    snprintf(buf, sizeof buf, "%s", s);
    a->ncodecs = 0;
    for (char *p = buf;;) {
        char *plus = strchr(p, '+');
        if (plus)
            *plus = '\0';
        bool none;
        if (a->ncodecs == CLI_MAX_CODECS)
            return cli_usage(c, "--codec '%s': too many codecs", s);
        int rc = spec_parse_one(c, p, &a->codecs[a->ncodecs], &none);
        if (rc)
            return rc;
        if (!none)
            a->ncodecs++;
        if (!plus)
            return CLI_OK;
        p = plus + 1;
    }
}

static int spec_check_format(cli *c, const create_args *a)
{
    int compressors = 0;
    for (int i = 0; i < a->ncodecs; i++) {
        spec_kind k = a->codecs[i].kind;
        if (a->format == 2 && k == SPEC_CRC32C)
            return cli_usage(c, "codec crc32c needs --format 3");
        if (a->format == 3 && k == SPEC_ZLIB)
            return cli_usage(c, "codec zlib exists in Zarr v2 only (use gzip "
                             "or --format 2)");
        compressors += k != SPEC_CRC32C;
    }
    if (a->format == 2 && compressors > 1)
        return cli_usage(c, "Zarr v2 arrays take a single compressor");
    return CLI_OK;
}

/* ------------------------------------------------------------ fill value */

static cJSON *fill_float_json(const char *s, pzarr_dtype t, bool *ok)
{
    *ok = true;
    if (strcmp(s, "nan") == 0 || strcmp(s, "NaN") == 0)
        return cJSON_CreateString("NaN");
    if (!strcmp(s, "inf") || !strcmp(s, "+inf") || !strcmp(s, "Infinity") ||
        !strcmp(s, "infinity"))
        return cJSON_CreateString("Infinity");
    if (!strcmp(s, "-inf") || !strcmp(s, "-Infinity") ||
        !strcmp(s, "-infinity"))
        return cJSON_CreateString("-Infinity");
    char *end;
    double v = strtod(s, &end);
    double max = t == PZARR_FLOAT16 ? 65504.0
                 : (t == PZARR_FLOAT32 || t == PZARR_COMPLEX64) ? (double)FLT_MAX
                                                                 : DBL_MAX;
    if (!s[0] || *end || !isfinite(v) || fabs(v) > max) {
        *ok = false;
        return NULL;
    }
    return cJSON_CreateNumber(v);
}

static cJSON *fill_int_json(const char *s, pzarr_dtype t, bool *ok)
{
    static const int64_t lo[] = {[PZARR_INT8] = INT8_MIN, [PZARR_INT16] = INT16_MIN,
                                 [PZARR_INT32] = INT32_MIN, [PZARR_INT64] = INT64_MIN};
    static const int64_t hi[] = {[PZARR_INT8] = INT8_MAX, [PZARR_INT16] = INT16_MAX,
                                 [PZARR_INT32] = INT32_MAX, [PZARR_INT64] = INT64_MAX};
    static const uint64_t uhi[] = {[PZARR_UINT8] = UINT8_MAX,
                                   [PZARR_UINT16] = UINT16_MAX,
                                   [PZARR_UINT32] = UINT32_MAX,
                                   [PZARR_UINT64] = UINT64_MAX};
    char text[32];
    *ok = false;
    if (t >= PZARR_UINT8) {
        uint64_t u;
        if (!cli_parse_u64(s[0] == '+' ? s + 1 : s, &u) || u > uhi[t])
            return NULL;
        snprintf(text, sizeof text, "%" PRIu64, u);
    } else {
        int64_t v;
        if (!cli_parse_i64(s, &v) || v < lo[t] || v > hi[t])
            return NULL;
        snprintf(text, sizeof text, "%" PRId64, v);
    }
    *ok = true;
    /* Raw: a double would round integers past 2^53. */
    return cJSON_CreateRaw(text);
}

static cJSON *fill_complex_json(const char *s, pzarr_dtype t, bool *ok)
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
    cJSON *a = fill_float_json(re, t, ok);
    if (*ok && a)
        cJSON_AddItemToArray(arr, a);
    cJSON *b = *ok ? fill_float_json(im, t, ok) : NULL;
    if (*ok && b)
        cJSON_AddItemToArray(arr, b);
    if (!*ok) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

/* The fill value as JSON; NULL with *ok false if s does not fit the type. */
static cJSON *fill_json(const create_args *a, const char *s, bool *ok)
{
    pzarr_dtype t = a->dtype;
    *ok = true;
    if (strcmp(s, "null") == 0) {
        *ok = a->format == 2;
        return *ok ? cJSON_CreateNull() : NULL;
    }
    if (t == PZARR_BOOL) {
        if (!strcmp(s, "true") || !strcmp(s, "1"))
            return cJSON_CreateTrue();
        if (!strcmp(s, "false") || !strcmp(s, "0"))
            return cJSON_CreateFalse();
        *ok = false;
        return NULL;
    }
    if (t >= PZARR_FLOAT16 && t <= PZARR_FLOAT64)
        return fill_float_json(s, t, ok);
    if (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128)
        return fill_complex_json(s, t, ok);
    return fill_int_json(s, t, ok);
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

static cJSON *v3_codec(const char *name, cJSON *config)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    if (config)
        cJSON_AddItemToObject(o, "configuration", config);
    return o;
}

static cJSON *v3_bytes_codec(const codec_spec *k, size_t itemsize)
{
    static const char *shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};
    cJSON *cfg = cJSON_CreateObject();
    switch (k->kind) {
    case SPEC_ZSTD:
        cJSON_AddNumberToObject(cfg, "level", k->level);
        cJSON_AddFalseToObject(cfg, "checksum");
        return v3_codec("zstd", cfg);
    case SPEC_GZIP:
        cJSON_AddNumberToObject(cfg, "level", k->level);
        return v3_codec("gzip", cfg);
    case SPEC_BLOSC:
        cJSON_AddStringToObject(cfg, "cname", k->cname);
        cJSON_AddNumberToObject(cfg, "clevel", k->level);
        cJSON_AddStringToObject(cfg, "shuffle", shuffles[k->shuffle]);
        cJSON_AddNumberToObject(cfg, "typesize", (double)itemsize);
        cJSON_AddNumberToObject(cfg, "blocksize", 0);
        return v3_codec("blosc", cfg);
    case SPEC_CRC32C:
    case SPEC_ZLIB:
        break;
    }
    cJSON_Delete(cfg);
    return v3_codec("crc32c", NULL);
}

static cJSON *v3_codecs(const create_args *a)
{
    cJSON *arr = cJSON_CreateArray();
    if (a->order_f && a->ndim > 1) {
        int order[PZARR_MAX_NDIM];
        for (int d = 0; d < a->ndim; d++)
            order[d] = a->ndim - 1 - d;
        cJSON *cfg = cJSON_CreateObject();
        cJSON_AddItemToObject(cfg, "order", cJSON_CreateIntArray(order, a->ndim));
        cJSON_AddItemToArray(arr, v3_codec("transpose", cfg));
    }
    /* One-byte types have no byte order: zarr-python 3 writes no endian
     * there, and zarrita.js would swap bools if told "big". */
    cJSON *cfg = NULL;
    if (a->itemsize > 1) {
        cfg = cJSON_CreateObject();
        cJSON_AddStringToObject(cfg, "endian", a->big_endian ? "big" : "little");
    }
    cJSON_AddItemToArray(arr, v3_codec("bytes", cfg));
    for (int i = 0; i < a->ncodecs; i++)
        cJSON_AddItemToArray(arr, v3_bytes_codec(&a->codecs[i], a->itemsize));
    return arr;
}

/* With --shard, the codecs above become the inner chunks' codecs of one
 * sharding_indexed codec; its index is little endian with a crc32c, at the
 * end of the shard (as zarr-python writes by default). */
static cJSON *v3_sharding(const create_args *a)
{
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddItemToObject(cfg, "chunk_shape", dims_json(a->ndim, a->chunks));
    cJSON_AddItemToObject(cfg, "codecs", v3_codecs(a));
    cJSON *ic = cJSON_CreateArray(), *bcfg = cJSON_CreateObject();
    cJSON_AddStringToObject(bcfg, "endian", "little");
    cJSON_AddItemToArray(ic, v3_codec("bytes", bcfg));
    cJSON_AddItemToArray(ic, v3_codec("crc32c", NULL));
    cJSON_AddItemToObject(cfg, "index_codecs", ic);
    cJSON_AddStringToObject(cfg, "index_location", "end");
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, v3_codec("sharding_indexed", cfg));
    return arr;
}

static cJSON *v3_document(const create_args *a, cJSON *fill)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "zarr_format", 3);
    cJSON_AddStringToObject(doc, "node_type", "array");
    cJSON_AddItemToObject(doc, "shape", dims_json(a->ndim, a->shape));
    cJSON_AddStringToObject(doc, "data_type", cli_dtype_name(a->dtype));
    cJSON *grid_cfg = cJSON_CreateObject();
    cJSON_AddItemToObject(grid_cfg, "chunk_shape",
                          dims_json(a->ndim, a->sharded ? a->shard : a->chunks));
    cJSON *grid = v3_codec("regular", grid_cfg);
    cJSON_AddItemToObject(doc, "chunk_grid", grid);
    cJSON *key_cfg = cJSON_CreateObject();
    char sep[2] = {a->separator, '\0'};
    cJSON_AddStringToObject(key_cfg, "separator", sep);
    cJSON_AddItemToObject(doc, "chunk_key_encoding", v3_codec("default", key_cfg));
    cJSON_AddItemToObject(doc, "fill_value", fill);
    cJSON_AddItemToObject(doc, "codecs", a->sharded ? v3_sharding(a) : v3_codecs(a));
    return doc;
}

static cJSON *v2_compressor(const create_args *a)
{
    if (a->ncodecs == 0)
        return cJSON_CreateNull();
    const codec_spec *k = &a->codecs[0];
    cJSON *o = cJSON_CreateObject();
    switch (k->kind) {
    case SPEC_ZSTD:
        cJSON_AddStringToObject(o, "id", "zstd");
        cJSON_AddNumberToObject(o, "level", k->level);
        break;
    case SPEC_GZIP:
    case SPEC_ZLIB:
        cJSON_AddStringToObject(o, "id", k->kind == SPEC_GZIP ? "gzip" : "zlib");
        cJSON_AddNumberToObject(o, "level", k->level);
        break;
    case SPEC_BLOSC:
        cJSON_AddStringToObject(o, "id", "blosc");
        cJSON_AddStringToObject(o, "cname", k->cname);
        cJSON_AddNumberToObject(o, "clevel", k->level);
        cJSON_AddNumberToObject(o, "shuffle", k->shuffle);
        cJSON_AddNumberToObject(o, "blocksize", 0);
        break;
    case SPEC_CRC32C:
        break;
    }
    return o;
}

static void v2_dtype(const create_args *a, char out[8])
{
    static const char kinds[] = {
        [PZARR_BOOL] = 'b',    [PZARR_INT8] = 'i',      [PZARR_INT16] = 'i',
        [PZARR_INT32] = 'i',   [PZARR_INT64] = 'i',     [PZARR_UINT8] = 'u',
        [PZARR_UINT16] = 'u',  [PZARR_UINT32] = 'u',    [PZARR_UINT64] = 'u',
        [PZARR_FLOAT16] = 'f', [PZARR_FLOAT32] = 'f',   [PZARR_FLOAT64] = 'f',
        [PZARR_COMPLEX64] = 'c', [PZARR_COMPLEX128] = 'c'};
    char order = a->itemsize == 1 ? '|' : a->big_endian ? '>' : '<';
    snprintf(out, 8, "%c%c%zu", order, kinds[a->dtype], a->itemsize);
}

static cJSON *v2_document(const create_args *a, cJSON *fill)
{
    char dtype[8];
    v2_dtype(a, dtype);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "zarr_format", 2);
    cJSON_AddItemToObject(doc, "shape", dims_json(a->ndim, a->shape));
    cJSON_AddItemToObject(doc, "chunks", dims_json(a->ndim, a->chunks));
    cJSON_AddStringToObject(doc, "dtype", dtype);
    cJSON_AddItemToObject(doc, "compressor", v2_compressor(a));
    cJSON_AddItemToObject(doc, "fill_value", fill);
    cJSON_AddStringToObject(doc, "order", a->order_f ? "F" : "C");
    cJSON_AddNullToObject(doc, "filters");
    char sep[2] = {a->separator, '\0'};
    cJSON_AddStringToObject(doc, "dimension_separator", sep);
    return doc;
}

/* Adds --attrs and --dims (--dimension-names) to the document: v3
 * "dimension_names"; v2 the "_ARRAY_DIMENSIONS" attribute that xarray,
 * netCDF and GDAL read. */
static int doc_extras(cli *c, const create_args *a, cJSON *doc)
{
    cJSON *attrs = NULL;
    if (a->attrs) {
        attrs = cJSON_Parse(a->attrs);
        if (!cJSON_IsObject(attrs)) {
            cJSON_Delete(attrs);
            return cli_usage(c, "--attrs '%s' is not a JSON object", a->attrs);
        }
    } else if (a->format == 3 || a->dim_names) {
        attrs = cJSON_CreateObject();
    }
    if (attrs)
        cJSON_AddItemToObject(doc, "attributes", attrs);
    if (!a->dim_names)
        return CLI_OK;
    cJSON *names = cJSON_CreateArray();
    if (a->format == 3)
        cJSON_AddItemToObject(doc, "dimension_names", names);
    else {
        cJSON_DeleteItemFromObjectCaseSensitive(attrs, "_ARRAY_DIMENSIONS");
        cJSON_AddItemToObject(attrs, "_ARRAY_DIMENSIONS", names);
    }
    int n = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", a->dim_names);
    for (char *p = buf; a->ndim > 0;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p)
            return cli_usage(c, "--dims '%s': dimension %d has no name", a->dim_names, n);
        cJSON_AddItemToArray(names, cJSON_CreateString(p));
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (n != a->ndim)
        return cli_usage(c, "--dims '%s' has %d names, the array "
                         "has %d dimensions", a->dim_names, n, a->ndim);
    return CLI_OK;
}

/* ------------------------------------------------------------ arguments */

static int parse_shapes(cli *c, cli_opt *opts, int nopts, create_args *a)
{
    const char *shape = cli_opt_get(opts, nopts, "shape")->value;
    const char *chunks = cli_opt_get(opts, nopts, "chunks")->value;
    if (!shape)
        return cli_usage(c, "missing --shape");
    if (!cli_parse_u64_list(shape, a->shape, &a->ndim))
        return cli_usage(c, "--shape '%s' is not a comma-separated list of at "
                         "most %d non-negative integers", shape, PZARR_MAX_NDIM);
    if (!chunks) {
        for (int d = 0; d < a->ndim; d++)
            a->chunks[d] = a->shape[d] ? a->shape[d] : 1;
    } else {
        int n;
        if (!cli_parse_u64_list(chunks, a->chunks, &n))
            return cli_usage(c, "--chunks '%s' is not a comma-separated list "
                             "of integers", chunks);
        if (n != a->ndim)
            return cli_usage(c, "--chunks '%s' has %d dimensions, --shape '%s' "
                             "has %d", chunks, n, shape, a->ndim);
    }
    uint64_t elems;
    for (int d = 0; d < a->ndim; d++)
        if (a->chunks[d] == 0)
            return cli_usage(c, "--chunks: dimension %d is 0 (chunks must be "
                             "at least 1)", d);
    if (!cli_prod(a->ndim, a->chunks, a->itemsize, &elems) ||
        elems > (uint64_t)INT64_MAX)
        return cli_usage(c, "--chunks '%s': a chunk of %s would exceed 2^63 "
                         "bytes", chunks ? chunks : shape,
                         cli_dtype_name(a->dtype));
    return CLI_OK;
}

static int parse_shard(cli *c, const char *v, create_args *a)
{
    if (!v)
        return CLI_OK;
    int n;
    if (a->format != 3)
        return cli_usage(c, "--shard needs --format 3 (sharding is a Zarr v3 codec)");
    if (!cli_parse_u64_list(v, a->shard, &n) || n != a->ndim)
        return cli_usage(c, "--shard '%s' must list %d integers, like --shape", v, a->ndim);
    for (int d = 0; d < a->ndim; d++)
        if (a->shard[d] == 0 || a->shard[d] % a->chunks[d] != 0)
            return cli_usage(c, "--shard '%s': dimension %d (%llu) must be a positive "
                             "multiple of the chunk size %llu", v, d,
                             (unsigned long long)a->shard[d],
                             (unsigned long long)a->chunks[d]);
    a->sharded = true;
    return CLI_OK;
}

static int parse_choice(cli *c, const char *opt, const char *v,
                        const char *one, const char *two, bool *is_two)
{
    if (!v)
        return CLI_OK;
    if (strcmp(v, one) == 0 || strcmp(v, two) == 0) {
        *is_two = strcmp(v, two) == 0;
        return CLI_OK;
    }
    return cli_usage(c, "--%s '%s' is neither %s nor %s", opt, v, one, two);
}

static int parse_create(cli *c, cli_opt *o, int n, create_args *a)
{
    const char *dtype = cli_opt_get(o, n, "dtype")->value;
    if (!dtype)
        return cli_usage(c, "missing --dtype");
    if (!cli_dtype_parse(dtype, &a->dtype))
        return cli_usage(c, "--dtype '%s' is not a data type (bool, int8, "
                         "int16, int32, int64, uint8, uint16, uint32, uint64, "
                         "float16, float32, float64, complex64, complex128)",
                         dtype);
    a->itemsize = cli_dtype_size(a->dtype);
    const char *format = cli_opt_get(o, n, "format")->value;
    bool v2 = false;
    int rc = parse_choice(c, "format", format, "3", "2", &v2);
    a->format = v2 ? 2 : 3;
    if (!rc)
        rc = parse_shapes(c, o, n, a);
    if (!rc)
        rc = spec_parse(c, cli_opt_get(o, n, "codec")->value
                               ? cli_opt_get(o, n, "codec")->value : "zstd:3", a);
    if (!rc)
        rc = spec_check_format(c, a);
    if (!rc)
        rc = parse_shard(c, cli_opt_get(o, n, "shard")->value, a);
    bool dot = a->format == 2;
    const char *sep = cli_opt_get(o, n, "separator")->value;
    if (!rc)
        rc = parse_choice(c, "order", cli_opt_get(o, n, "order")->value, "C",
                          "F", &a->order_f);
    if (!rc)
        rc = parse_choice(c, "separator", sep, "/", ".", &dot);
    a->separator = dot ? '.' : '/';
    if (!rc)
        rc = parse_choice(c, "endian", cli_opt_get(o, n, "endian")->value,
                          "little", "big", &a->big_endian);
    a->fill = cli_opt_get(o, n, "fill")->value;
    if (!a->fill)
        a->fill = a->dtype == PZARR_BOOL ? "false" : "0";
    a->attrs = cli_opt_get(o, n, "attrs")->value;
    a->dim_names = cli_opt_get(o, n, "dims")->value;
    if (!a->dim_names)
        a->dim_names = cli_opt_get(o, n, "dimension-names")->value;
    return rc;
}

/* The metadata document text (malloc'd) or a usage error. */
static int build_document(cli *c, const create_args *a, char **text)
{
    bool ok;
    cJSON *fill = fill_json(a, a->fill, &ok);
    if (!ok)
        return cli_usage(c, "--fill '%s' is not a valid %s value%s", a->fill,
                         cli_dtype_name(a->dtype),
                         strcmp(a->fill, "null") == 0 ? " (null needs "
                                                         "--format 2)" : "");
    cJSON *doc = a->format == 3 ? v3_document(a, fill) : v2_document(a, fill);
    int rc = doc_extras(c, a, doc);
    *text = rc ? NULL : cJSON_Print(doc);
    cJSON_Delete(doc);
    if (!rc && !*text)
        return cli_fail(c, "out of memory building the metadata");
    return rc;
}

static int create_array(cli *c, const char *path, const char *doc, int format)
{
    pzarr_store *s = NULL;
    pzarr_array *arr = NULL;
    int rc = CLI_OK;
    char root[4096];
    const char *name = cli_split_store(c, path, root, sizeof root);
    /* A store made here (PATH nested in a new directory) starts as a group
     * of the array's format, with consolidated metadata. */
    int flags = PZARR_RDWR | (name[0] ? PZARR_CREATE : 0) | (format == 2 ? PZARR_FORMAT_V2 : 0);
    int e = pzarr_open(c->comm, root, flags, &s);
    if (e) {
        rc = cli_lib_fail(c, e, s ? pzarr_errmsg(s) : NULL, "cannot open %s",
                          root);
        goto done;
    }
    e = pzarr_array_create(s, name, doc, &arr);
    if (e) {
        rc = cli_lib_fail(c, e, pzarr_errmsg(s), "%s: cannot create the array",
                          path);
        goto done;
    }
    e = pzarr_array_close(arr);
    if (e)
        rc = cli_lib_fail(c, e, NULL, "%s: closing the new array", path);
done:
    e = pzarr_close(s);
    if (e && !rc)
        rc = cli_lib_fail(c, e, NULL, "%s: closing the store", path);
    return rc;
}

int cli_cmd_create(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {
        {"dtype", 0, true, NULL, false},     {"shape", 0, true, NULL, false},
        {"chunks", 0, true, NULL, false},    {"codec", 0, true, NULL, false},
        {"fill", 0, true, NULL, false},      {"format", 0, true, NULL, false},
        {"order", 0, true, NULL, false},     {"separator", 0, true, NULL, false},
        {"endian", 0, true, NULL, false},    {"attrs", 0, true, NULL, false},
        {"dimension-names", 0, true, NULL, false}, {"dims", 0, true, NULL, false},
        {"print", 0, false, NULL, false},    {"shard", 0, true, NULL, false},
    };
    int n = (int)(sizeof opts / sizeof opts[0]);
    create_args a;
    memset(&a, 0, sizeof a);
    int rc = cli_parse_args(c, argc, argv, opts, n, &a.path);
    if (!rc)
        rc = parse_create(c, opts, n, &a);
    char *doc = NULL;
    if (!rc)
        rc = build_document(c, &a, &doc);
    if (rc)
        return rc;
    if (cli_opt_get(opts, n, "print")->seen && c->rank == 0)
        printf("%s\n", doc);
    rc = create_array(c, a.path, doc, a.format);
    cJSON_free(doc);
    return rc;
}

/* ------------------------------------------------------------ resize */

int cli_cmd_resize(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {{"shape", 0, true, NULL, false}};
    const char *path = NULL;
    int rc = cli_parse_args(c, argc, argv, opts, 1, &path);
    if (rc)
        return rc;
    const char *shape = cli_opt_get(opts, 1, "shape")->value;
    uint64_t ns[PZARR_MAX_NDIM];
    int nd = 0;
    if (!shape)
        return cli_usage(c, "missing --shape");
    if (!cli_parse_u64_list(shape, ns, &nd))
        return cli_usage(c, "--shape '%s' is not a comma-separated list of sizes", shape);
    cli_array ca;
    rc = cli_array_open(c, path, PZARR_RDWR, &ca);
    if (rc)
        return rc;
    if (nd != ca.info.ndim)
        rc = cli_usage(c, "--shape '%s' has %d dimensions, the array has %d", shape, nd,
                       ca.info.ndim);
    int e = rc ? 0 : pzarr_array_resize(ca.array, ns);
    if (e)
        rc = cli_lib_fail(c, e, pzarr_array_errmsg(ca.array), "%s: cannot resize", path);
    return cli_array_close(c, path, &ca, rc);
}
