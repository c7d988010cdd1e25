/*
 * Chunk codec pipelines: the v3 "codecs" array and the v2 compressor mapped
 * to one form (pz_pipeline), their JSON, and whole-chunk encode/decode.
 */
#include "pz_internal.h"

#include <blosc.h>
#include <isa-l/crc.h>
#include <libdeflate.h>
#include <zstd.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define UNKNOWN_SIZE SIZE_MAX

typedef enum codec_kind { KIND_A2A, KIND_A2B, KIND_B2B } codec_kind;

static const struct {
    pz_codec_id id;
    const char *name;
    codec_kind kind;
} codec_table[] = {
    {PZ_CODEC_BYTES, "bytes", KIND_A2B},   {PZ_CODEC_TRANSPOSE, "transpose", KIND_A2A},
    {PZ_CODEC_BLOSC, "blosc", KIND_B2B},   {PZ_CODEC_GZIP, "gzip", KIND_B2B},
    {PZ_CODEC_ZLIB, "zlib", KIND_B2B},     {PZ_CODEC_ZSTD, "zstd", KIND_B2B},
    {PZ_CODEC_CRC32C, "crc32c", KIND_B2B},
};

#define NCODECS (sizeof codec_table / sizeof codec_table[0])

static const char *codec_name(pz_codec_id id)
{
    for (size_t i = 0; i < NCODECS; i++)
        if (codec_table[i].id == id)
            return codec_table[i].name;
    return "?";
}

static codec_kind codec_kind_of(pz_codec_id id)
{
    for (size_t i = 0; i < NCODECS; i++)
        if (codec_table[i].id == id)
            return codec_table[i].kind;
    return KIND_B2B;
}

static const char *const shuffle_names[] = {"noshuffle", "shuffle", "bitshuffle"};
static const char *const blosc_cnames[] = {"blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"};

/* ------------------------------------------------------------ crc32c */

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

/* ------------------------------------------------------------ parsing */

/* One configuration object being read, for error messages. */
typedef struct cfg {
    const cJSON *obj; /* NULL: every field absent */
    const char *what; /* "codec" or "compressor" */
    const char *name;
    pz_err *e;
} cfg;

static int cfg_check_fields(const cfg *c, const char *const *allowed, size_t n)
{
    const cJSON *it = c->obj ? c->obj->child : NULL;
    for (; it; it = it->next) {
        size_t i = 0;
        while (i < n && strcmp(it->string, allowed[i]) != 0)
            i++;
        if (i == n)
            return pz_err_set(c->e, PZARR_EMETA, "%s \"%s\": unknown field \"%s\"",
                              c->what, c->name, it->string);
    }
    return 0;
}

static const cJSON *cfg_get(const cfg *c, const char *field)
{
    return c->obj ? cJSON_GetObjectItemCaseSensitive(c->obj, field) : NULL;
}

static int cfg_int(const cfg *c, const char *field, int lo, int hi, int dflt, int *out)
{
    const cJSON *v = cfg_get(c, field);
    if (!v) {
        *out = dflt;
        return 0;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
    if (!(d >= lo && d <= hi) || (double)(int)d != d)
        return pz_err_set(c->e, PZARR_EMETA,
                          "%s \"%s\": field \"%s\" must be an integer in %d..%d",
                          c->what, c->name, field, lo, hi);
    *out = (int)d;
    return 0;
}

static int cfg_bool(const cfg *c, const char *field, bool dflt, bool *out)
{
    const cJSON *v = cfg_get(c, field);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!cJSON_IsBool(v))
        return pz_err_set(c->e, PZARR_EMETA, "%s \"%s\": field \"%s\" must be true or false",
                          c->what, c->name, field);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* Index of the string field's value in names[], or dflt when absent. */
static int cfg_enum(const cfg *c, const char *field, const char *const *names, size_t n,
                    int dflt, int *out)
{
    const cJSON *v = cfg_get(c, field);
    if (!v) {
        *out = dflt;
        return 0;
    }
    for (size_t i = 0; cJSON_IsString(v) && i < n; i++) {
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    char list[128] = "";
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    return pz_err_set(c->e, PZARR_EMETA, "%s \"%s\": field \"%s\" must be one of %s",
                      c->what, c->name, field, list);
}

static int parse_bytes(const cfg *c, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"endian"};
    static const char *const endians[] = {"little", "big"};
    PZ_TRY(cfg_check_fields(c, fields, 1));
    int endian = -1;
    PZ_TRY(cfg_enum(c, "endian", endians, 2, -1, &endian));
    if (endian < 0 && pzarr_dtype_size(t) > 1)
        return pz_err_set(c->e, PZARR_EMETA,
                          "codec \"bytes\": field \"endian\" is required for data type %s",
                          pzarr_dtype_name(t) ? pzarr_dtype_name(t) : "?");
    out->id = PZ_CODEC_BYTES;
    out->u.bytes.has_endian = endian >= 0;
    out->u.bytes.big_endian = endian == 1;
    return 0;
}

/* Fills the unused tail with -1 so that the rank can be recovered. */
static void order_tail(pz_codec *c, int ndim)
{
    for (int i = ndim; i < PZ_MAX_NDIM; i++)
        c->u.transpose.order[i] = -1;
}

static int parse_order_array(const cfg *c, const cJSON *v, int ndim, pz_codec *out)
{
    bool seen[PZ_MAX_NDIM] = {false};
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != ndim)
        return pz_err_set(c->e, PZARR_EMETA,
                          "codec \"transpose\": field \"order\" must be an array of %d "
                          "axis indices",
                          ndim);
    int i = 0;
    for (const cJSON *a = v->child; a; a = a->next, i++) {
        double d = cJSON_IsNumber(a) ? a->valuedouble : -1;
        int ax = (d >= 0 && d < ndim) ? (int)d : -1;
        if (ax < 0 || (double)ax != d || seen[ax])
            return pz_err_set(c->e, PZARR_EMETA,
                              "codec \"transpose\": field \"order\" is not a permutation "
                              "of 0..%d (entry %d)",
                              ndim - 1, i);
        seen[ax] = true;
        out->u.transpose.order[i] = ax;
    }
    return 0;
}

static int parse_transpose(const cfg *c, int ndim, pz_codec *out)
{
    static const char *const fields[] = {"order"};
    PZ_TRY(cfg_check_fields(c, fields, 1));
    const cJSON *v = cfg_get(c, "order");
    if (!v)
        return pz_err_set(c->e, PZARR_EMETA, "codec \"transpose\": field \"order\" is missing");
    out->id = PZ_CODEC_TRANSPOSE;
    order_tail(out, ndim);
    /* Early v3 drafts allowed "C" (identity) and "F" (reversed axes). */
    if (cJSON_IsString(v) && (!strcmp(v->valuestring, "C") || !strcmp(v->valuestring, "F"))) {
        bool rev = v->valuestring[0] == 'F';
        for (int i = 0; i < ndim; i++)
            out->u.transpose.order[i] = rev ? ndim - 1 - i : i;
        return 0;
    }
    return parse_order_array(c, v, ndim, out);
}

static int blosc_cname(const cfg *c, const char *dflt, char out[16])
{
    int i = -1;
    PZ_TRY(cfg_enum(c, "cname", blosc_cnames, sizeof blosc_cnames / sizeof *blosc_cnames,
                    -1, &i));
    const char *name = i < 0 ? dflt : blosc_cnames[i];
    if (blosc_compname_to_compcode(name) < 0)
        return pz_err_set(c->e, PZARR_EUNSUPPORTED,
                          "%s \"%s\": compressor \"%s\" is not available in this c-blosc",
                          c->what, c->name, name);
    snprintf(out, 16, "%s", name);
    return 0;
}

static int parse_blosc_v3(const cfg *c, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"cname", "clevel", "shuffle", "typesize", "blocksize"};
    int isz = (int)pzarr_dtype_size(t);
    PZ_TRY(cfg_check_fields(c, fields, 5));
    out->id = PZ_CODEC_BLOSC;
    PZ_TRY(blosc_cname(c, "zstd", out->u.blosc.cname));
    PZ_TRY(cfg_int(c, "clevel", 0, 9, 5, &out->u.blosc.clevel));
    /* Absent shuffle: zarr-python's default for the data type. */
    PZ_TRY(cfg_enum(c, "shuffle", shuffle_names, 3, isz == 1 ? 2 : 1, &out->u.blosc.shuffle));
    PZ_TRY(cfg_int(c, "typesize", 1, BLOSC_MAX_TYPESIZE, isz, &out->u.blosc.typesize));
    return cfg_int(c, "blocksize", 0, INT_MAX, 0, &out->u.blosc.blocksize);
}

static int parse_gzip(const cfg *c, int dflt, pz_codec *out)
{
    static const char *const fields[] = {"id", "level"};
    /* v3 configurations have no "id": skip it there. */
    bool v2 = strcmp(c->what, "compressor") == 0;
    PZ_TRY(cfg_check_fields(c, fields + (v2 ? 0 : 1), v2 ? 2 : 1));
    return cfg_int(c, "level", 0, 9, dflt, &out->u.gzip.level);
}

static int parse_zstd(const cfg *c, int dflt, pz_codec *out)
{
    static const char *const fields[] = {"id", "level", "checksum"};
    bool v2 = strcmp(c->what, "compressor") == 0;
    PZ_TRY(cfg_check_fields(c, fields + (v2 ? 0 : 1), v2 ? 3 : 2));
    out->id = PZ_CODEC_ZSTD;
    PZ_TRY(cfg_int(c, "level", ZSTD_minCLevel(), ZSTD_maxCLevel(), dflt, &out->u.zstd.level));
    return cfg_bool(c, "checksum", false, &out->u.zstd.checksum);
}

static int parse_crc32c(const cfg *c, pz_codec *out)
{
    PZ_TRY(cfg_check_fields(c, NULL, 0));
    out->id = PZ_CODEC_CRC32C;
    return 0;
}

static int parse_v3_named(const cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    const char *n = c->name;
    if (!strcmp(n, "bytes"))
        return parse_bytes(c, t, out);
    if (!strcmp(n, "transpose"))
        return parse_transpose(c, ndim, out);
    if (!strcmp(n, "blosc"))
        return parse_blosc_v3(c, t, out);
    if (!strcmp(n, "gzip")) {
        out->id = PZ_CODEC_GZIP;
        return parse_gzip(c, 5, out);
    }
    if (!strcmp(n, "zstd"))
        return parse_zstd(c, 0, out);
    if (!strcmp(n, "crc32c"))
        return parse_crc32c(c, out);
    return pz_err_set(c->e, PZARR_EUNSUPPORTED, "unsupported codec \"%s\"", n);
}

static int parse_v3_item(const cJSON *item, int ndim, pzarr_dtype t, pz_codec *out, pz_err *e)
{
    cfg c = {NULL, "codec", NULL, e};
    if (cJSON_IsString(item)) {
        c.name = item->valuestring;
        return parse_v3_named(&c, ndim, t, out);
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
    if (!cJSON_IsObject(item) || !cJSON_IsString(name))
        return pz_err_set(e, PZARR_EMETA,
                          "codecs: each entry must be a codec name or an object with a "
                          "\"name\" string");
    c.name = name->valuestring;
    c.obj = cJSON_GetObjectItemCaseSensitive(item, "configuration");
    if (c.obj && !cJSON_IsObject(c.obj))
        return pz_err_set(e, PZARR_EMETA, "codec \"%s\": \"configuration\" must be an object",
                          c.name);
    const cJSON *mu = cJSON_GetObjectItemCaseSensitive(item, "must_understand");
    if (mu && !cJSON_IsBool(mu))
        return pz_err_set(e, PZARR_EMETA,
                          "codec \"%s\": \"must_understand\" must be true or false", c.name);
    return parse_v3_named(&c, ndim, t, out);
}

/* Array->array codecs, then one array->bytes codec, then bytes->bytes. */
static int check_order(const pz_pipeline *p, pz_err *e)
{
    int seen_a2b = -1;
    for (int i = 0; i < p->n; i++) {
        codec_kind k = codec_kind_of(p->c[i].id);
        const char *nm = codec_name(p->c[i].id);
        if (k == KIND_A2A && seen_a2b >= 0)
            return pz_err_set(e, PZARR_EMETA,
                              "codecs: array->array codec \"%s\" (entry %d) follows the "
                              "array->bytes codec",
                              nm, i);
        if (k == KIND_A2B && seen_a2b >= 0)
            return pz_err_set(e, PZARR_EMETA,
                              "codecs: more than one array->bytes codec (\"%s\" at entries "
                              "%d and %d)",
                              nm, seen_a2b, i);
        if (k == KIND_B2B && seen_a2b < 0)
            return pz_err_set(e, PZARR_EMETA,
                              "codecs: bytes->bytes codec \"%s\" (entry %d) comes before "
                              "the array->bytes codec",
                              nm, i);
        if (k == KIND_A2B)
            seen_a2b = i;
    }
    if (seen_a2b < 0)
        return pz_err_set(e, PZARR_EMETA, "codecs: no array->bytes codec (such as \"bytes\")");
    return 0;
}

static int check_args(int ndim, pzarr_dtype t, pz_pipeline *p, pz_err *e)
{
    if (!p || ndim < 0 || ndim > PZ_MAX_NDIM)
        return pz_err_set(e, PZARR_EINVAL, "codecs: invalid rank %d", ndim);
    if (pzarr_dtype_size(t) == 0)
        return pz_err_set(e, PZARR_EINVAL, "codecs: invalid data type %d", (int)t);
    memset(p, 0, sizeof *p);
    return 0;
}

int pz_pipeline_parse_v3(const cJSON *codecs, int ndim, pzarr_dtype t, pz_pipeline *p,
                         pz_err *e)
{
    PZ_TRY(check_args(ndim, t, p, e));
    if (!cJSON_IsArray(codecs))
        return pz_err_set(e, PZARR_EMETA, "codecs: must be an array");
    int n = cJSON_GetArraySize(codecs);
    if (n > PZ_MAX_CODECS)
        return pz_err_set(e, PZARR_EUNSUPPORTED, "codecs: %d codecs, at most %d are supported",
                          n, PZ_MAX_CODECS);
    for (const cJSON *it = codecs->child; it; it = it->next)
        PZ_TRY(parse_v3_item(it, ndim, t, &p->c[p->n++], e));
    return check_order(p, e);
}

/* ------------------------------------------------------------ v2 */

static int parse_v2_blosc(const cfg *c, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"id", "cname", "clevel", "shuffle", "blocksize"};
    int isz = (int)pzarr_dtype_size(t);
    PZ_TRY(cfg_check_fields(c, fields, 5));
    out->id = PZ_CODEC_BLOSC;
    PZ_TRY(blosc_cname(c, "lz4", out->u.blosc.cname));
    PZ_TRY(cfg_int(c, "clevel", 0, 9, 5, &out->u.blosc.clevel));
    PZ_TRY(cfg_int(c, "shuffle", -1, 2, 1, &out->u.blosc.shuffle));
    /* numcodecs AUTOSHUFFLE: bit shuffle for 1-byte items, else byte. */
    if (out->u.blosc.shuffle == -1)
        out->u.blosc.shuffle = isz == 1 ? 2 : 1;
    out->u.blosc.typesize = isz;
    return cfg_int(c, "blocksize", 0, INT_MAX, 0, &out->u.blosc.blocksize);
}

static int parse_v2_compressor(const cJSON *comp, pzarr_dtype t, pz_codec *out, pz_err *e)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(comp, "id");
    if (!cJSON_IsObject(comp) || !cJSON_IsString(id))
        return pz_err_set(e, PZARR_EMETA,
                          "compressor: must be null or an object with an \"id\" string");
    cfg c = {comp, "compressor", id->valuestring, e};
    if (!strcmp(c.name, "blosc"))
        return parse_v2_blosc(&c, t, out);
    if (!strcmp(c.name, "zstd"))
        return parse_zstd(&c, 1, out);
    if (!strcmp(c.name, "gzip") || !strcmp(c.name, "zlib")) {
        out->id = c.name[0] == 'g' ? PZ_CODEC_GZIP : PZ_CODEC_ZLIB;
        return parse_gzip(&c, 1, out);
    }
    return pz_err_set(e, PZARR_EUNSUPPORTED, "unsupported compressor \"%s\"", c.name);
}

static int check_v2_filters(const cJSON *filters, pz_err *e)
{
    if (!filters || cJSON_IsNull(filters))
        return 0;
    if (!cJSON_IsArray(filters))
        return pz_err_set(e, PZARR_EMETA, "filters: must be null or an array");
    const cJSON *f = filters->child;
    if (!f)
        return 0;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");
    if (!cJSON_IsString(id))
        return pz_err_set(e, PZARR_EMETA, "filters: each filter must have an \"id\" string");
    return pz_err_set(e, PZARR_EUNSUPPORTED, "unsupported filter \"%s\"", id->valuestring);
}

int pz_pipeline_from_v2(const cJSON *compressor, const cJSON *filters, bool order_f,
                        bool big_endian, int ndim, pzarr_dtype t, pz_pipeline *p, pz_err *e)
{
    PZ_TRY(check_args(ndim, t, p, e));
    PZ_TRY(check_v2_filters(filters, e));
    bool multi = pzarr_dtype_size(t) > 1;
    if (order_f && ndim > 1) {
        pz_codec *c = &p->c[p->n++];
        c->id = PZ_CODEC_TRANSPOSE;
        order_tail(c, ndim);
        for (int i = 0; i < ndim; i++)
            c->u.transpose.order[i] = ndim - 1 - i;
    }
    pz_codec *b = &p->c[p->n++];
    b->id = PZ_CODEC_BYTES;
    b->u.bytes.has_endian = multi;
    b->u.bytes.big_endian = multi && big_endian;
    if (compressor && !cJSON_IsNull(compressor))
        PZ_TRY(parse_v2_compressor(compressor, t, &p->c[p->n++], e));
    return 0;
}

/* ------------------------------------------------------------ emitting */

static cJSON *emit_named(cJSON *arr, const char *name, cJSON **conf)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o) || !cJSON_AddStringToObject(o, "name", name))
        return NULL; /* o, once added, is freed with arr */
    if (conf && !(*conf = cJSON_AddObjectToObject(o, "configuration")))
        return NULL;
    return o;
}

static bool emit_order(cJSON *conf, const pz_codec *c, int ndim)
{
    cJSON *a = cJSON_AddArrayToObject(conf, "order");
    for (int i = 0; a && i < ndim; i++) {
        cJSON *v = cJSON_CreateNumber(c->u.transpose.order[i]);
        if (!v || !cJSON_AddItemToArray(a, v))
            return false;
    }
    return a != NULL;
}

/* The rank of a transpose: its order is followed by -1 entries (see
 * order_tail), or, for a pipeline built elsewhere, by zeros. */
static int transpose_rank(const pz_codec *c)
{
    int n = 0, max = -1;
    while (n < PZ_MAX_NDIM && c->u.transpose.order[n] >= 0) {
        if (c->u.transpose.order[n] > max)
            max = c->u.transpose.order[n];
        n++;
    }
    return n < PZ_MAX_NDIM ? n : max + 1;
}

static bool emit_v3_codec(cJSON *arr, const pz_codec *c, int ndim)
{
    cJSON *conf = NULL;
    const char *nm = codec_name(c->id);
    bool has_conf = !(c->id == PZ_CODEC_CRC32C ||
                      (c->id == PZ_CODEC_BYTES && !c->u.bytes.has_endian));
    if (!emit_named(arr, nm, has_conf ? &conf : NULL))
        return false;
    switch (c->id) {
    case PZ_CODEC_BYTES:
        return !has_conf || cJSON_AddStringToObject(conf, "endian",
                                                    c->u.bytes.big_endian ? "big" : "little");
    case PZ_CODEC_TRANSPOSE:
        return emit_order(conf, c, ndim);
    case PZ_CODEC_BLOSC:
        return cJSON_AddNumberToObject(conf, "typesize", c->u.blosc.typesize) &&
               cJSON_AddStringToObject(conf, "cname", c->u.blosc.cname) &&
               cJSON_AddNumberToObject(conf, "clevel", c->u.blosc.clevel) &&
               cJSON_AddStringToObject(conf, "shuffle", shuffle_names[c->u.blosc.shuffle]) &&
               cJSON_AddNumberToObject(conf, "blocksize", c->u.blosc.blocksize);
    case PZ_CODEC_GZIP:
    case PZ_CODEC_ZLIB:
        return cJSON_AddNumberToObject(conf, "level", c->u.gzip.level) != NULL;
    case PZ_CODEC_ZSTD:
        return cJSON_AddNumberToObject(conf, "level", c->u.zstd.level) &&
               cJSON_AddBoolToObject(conf, "checksum", c->u.zstd.checksum);
    case PZ_CODEC_CRC32C:
        return true;
    }
    return false;
}

cJSON *pz_pipeline_emit_v3(const pz_pipeline *p)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < p->n; i++) {
        if (!emit_v3_codec(arr, &p->c[i], transpose_rank(&p->c[i]))) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

/* Keys in sorted order: zarr-python writes .zarray with sort_keys=True. */
static bool emit_v2_fields(cJSON *o, const pz_codec *c)
{
    switch (c->id) {
    case PZ_CODEC_BLOSC:
        return cJSON_AddNumberToObject(o, "blocksize", c->u.blosc.blocksize) &&
               cJSON_AddNumberToObject(o, "clevel", c->u.blosc.clevel) &&
               cJSON_AddStringToObject(o, "cname", c->u.blosc.cname) &&
               cJSON_AddStringToObject(o, "id", "blosc") &&
               cJSON_AddNumberToObject(o, "shuffle", c->u.blosc.shuffle);
    case PZ_CODEC_ZSTD:
        return (!c->u.zstd.checksum || cJSON_AddTrueToObject(o, "checksum")) &&
               cJSON_AddStringToObject(o, "id", "zstd") &&
               cJSON_AddNumberToObject(o, "level", c->u.zstd.level);
    case PZ_CODEC_GZIP:
    case PZ_CODEC_ZLIB:
        return cJSON_AddStringToObject(o, "id", codec_name(c->id)) &&
               cJSON_AddNumberToObject(o, "level", c->u.gzip.level);
    default:
        return false;
    }
}

cJSON *pz_pipeline_emit_v2_compressor(const pz_pipeline *p)
{
    const pz_codec *comp = NULL;
    for (int i = 0; i < p->n; i++) {
        if (codec_kind_of(p->c[i].id) != KIND_B2B)
            continue;
        if (comp || p->c[i].id == PZ_CODEC_CRC32C)
            return NULL; /* not expressible as one v2 compressor */
        comp = &p->c[i];
    }
    if (!comp)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (o && !emit_v2_fields(o, comp)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

static void describe_codec(const pz_codec *c, char *s, size_t cap)
{
    switch (c->id) {
    case PZ_CODEC_BYTES:
        if (c->u.bytes.has_endian)
            snprintf(s, cap, "bytes(%s)", c->u.bytes.big_endian ? "big" : "little");
        else
            snprintf(s, cap, "bytes");
        return;
    case PZ_CODEC_TRANSPOSE: {
        int n = transpose_rank(c);
        size_t len = (size_t)snprintf(s, cap, "transpose(");
        for (int i = 0; i < n && len < cap; i++)
            len += (size_t)snprintf(s + len, cap - len, "%s%d", i ? "," : "",
                                    c->u.transpose.order[i]);
        if (len < cap)
            snprintf(s + len, cap - len, ")");
        return;
    }
    case PZ_CODEC_BLOSC:
        snprintf(s, cap, "blosc(%s:%d:%s)", c->u.blosc.cname, c->u.blosc.clevel,
                 shuffle_names[c->u.blosc.shuffle]);
        return;
    case PZ_CODEC_ZSTD:
        snprintf(s, cap, "zstd(%d%s)", c->u.zstd.level, c->u.zstd.checksum ? ",checksum" : "");
        return;
    case PZ_CODEC_GZIP:
    case PZ_CODEC_ZLIB:
        snprintf(s, cap, "%s(%d)", codec_name(c->id), c->u.gzip.level);
        return;
    case PZ_CODEC_CRC32C:
        snprintf(s, cap, "crc32c");
        return;
    }
    snprintf(s, cap, "?");
}

void pz_pipeline_describe(const pz_pipeline *p, char *out, size_t cap)
{
    if (!cap)
        return;
    out[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < p->n && len + 1 < cap; i++) {
        char one[256];
        describe_codec(&p->c[i], one, sizeof one);
        int w = snprintf(out + len, cap - len, "%s%s", i ? " " : "", one);
        len += w > 0 ? (size_t)w : 0;
    }
}

/* ------------------------------------------------------------ helpers */

static int reserve(pz_buf *b, size_t n, const char *what, pz_err *e)
{
    if (pz_buf_reserve(b, n) != 0)
        return pz_err_set(e, PZARR_ENOMEM, "%s: out of memory (%zu bytes)", what, n);
    return 0;
}

static bool host_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 0;
}

static int chunk_nbytes(int ndim, const uint64_t *shape, size_t isz, size_t *out, pz_err *e)
{
    uint64_t n;
    if (ndim < 0 || ndim > PZ_MAX_NDIM || isz == 0)
        return pz_err_set(e, PZARR_EINVAL, "chunk: invalid rank %d or data type", ndim);
    if (!pz_prod(ndim, shape, &n) || !pz_mul_u64(n, isz, &n) || n > SIZE_MAX)
        return pz_err_set(e, PZARR_EINVAL, "chunk: size overflows");
    *out = (size_t)n;
    return 0;
}

/* Index of the array->bytes codec, or -1. */
static int a2b_index(const pz_pipeline *p)
{
    for (int i = 0; i < p->n; i++)
        if (codec_kind_of(p->c[i].id) == KIND_A2B)
            return i;
    return -1;
}

static void c_strides(int ndim, const uint64_t *shape, size_t isz, uint64_t *st)
{
    uint64_t s = isz;
    for (int d = ndim - 1; d >= 0; d--) {
        st[d] = s;
        s *= shape[d];
    }
}

/* ------------------------------------------------------------ transpose */

#define COPY_ROW(W)                                     \
    for (uint64_t k = 0; k < n; k++)                    \
        memcpy(dst + k * dstep, src + k * sstep, W);    \
    return

static void copy_row(unsigned char *dst, uint64_t dstep, const unsigned char *src,
                     uint64_t sstep, uint64_t n, size_t isz)
{
    switch (isz) {
    case 1: COPY_ROW(1);
    case 2: COPY_ROW(2);
    case 4: COPY_ROW(4);
    case 8: COPY_ROW(8);
    case 16: COPY_ROW(16);
    default: COPY_ROW(isz);
    }
}

/*
 * Walks the encoded shape in C order; element j is read at sum j[i]*ss[i]
 * and written at sum j[i]*ds[i] (byte strides).
 */
static void permute_copy(int ndim, const uint64_t *eshape, size_t isz,
                         const unsigned char *src, const uint64_t *ss, unsigned char *dst,
                         const uint64_t *ds)
{
    uint64_t idx[PZ_MAX_NDIM] = {0}, so = 0, dof = 0;
    if (ndim == 0) {
        memcpy(dst, src, isz);
        return;
    }
    for (int d = 0; d < ndim; d++)
        if (eshape[d] == 0)
            return;
    int last = ndim - 1, d;
    do {
        copy_row(dst + dof, ds[last], src + so, ss[last], eshape[last], isz);
        for (d = last - 1; d >= 0; d--) {
            so += ss[d];
            dof += ds[d];
            if (++idx[d] < eshape[d])
                break;
            so -= ss[d] * eshape[d];
            dof -= ds[d] * eshape[d];
            idx[d] = 0;
        }
    } while (d >= 0);
}

/* The encoded array's axis i is the decoded array's axis order[i]. */
static void transpose_apply(const pz_codec *c, int ndim, const uint64_t *dshape, size_t isz,
                            const unsigned char *src, unsigned char *dst, bool encode)
{
    uint64_t dec_st[PZ_MAX_NDIM], est[PZ_MAX_NDIM], eshape[PZ_MAX_NDIM], perm[PZ_MAX_NDIM];
    const int *order = c->u.transpose.order;
    c_strides(ndim, dshape, isz, dec_st);
    for (int i = 0; i < ndim; i++) {
        eshape[i] = dshape[order[i]];
        perm[i] = dec_st[order[i]];
    }
    c_strides(ndim, eshape, isz, est);
    if (encode)
        permute_copy(ndim, eshape, isz, src, perm, dst, est);
    else
        permute_copy(ndim, eshape, isz, src, est, dst, perm);
}

/* shapes[k] is the decoded shape seen by array->array codec k. */
static void a2a_shapes(const pz_pipeline *p, int na2a, int ndim, const uint64_t *shape,
                       uint64_t shapes[][PZ_MAX_NDIM])
{
    if (ndim > 0)
        memcpy(shapes[0], shape, (size_t)ndim * sizeof *shape);
    for (int k = 0; k < na2a; k++)
        for (int i = 0; i < ndim; i++)
            shapes[k + 1][i] = shapes[k][p->c[k].u.transpose.order[i]];
}

/* ------------------------------------------------------------ bytes->bytes encode */

static int blosc_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                        pz_err *e)
{
    if (n > (size_t)BLOSC_MAX_BUFFERSIZE)
        return pz_err_set(e, PZARR_ECODEC,
                          "blosc: chunk of %zu bytes exceeds the c-blosc limit of %d bytes", n,
                          BLOSC_MAX_BUFFERSIZE);
    size_t cap = n + BLOSC_MAX_OVERHEAD;
    PZ_TRY(reserve(out, cap, "blosc", e));
    int r = blosc_compress_ctx(c->u.blosc.clevel, c->u.blosc.shuffle,
                               (size_t)c->u.blosc.typesize, n, in, out->data, cap,
                               c->u.blosc.cname, (size_t)c->u.blosc.blocksize, 1);
    if (r <= 0)
        return pz_err_set(e, PZARR_ECODEC, "blosc: compression with %s failed (code %d)",
                          c->u.blosc.cname, r);
    out->size = (size_t)r;
    return 0;
}

static int zstd_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                       pz_err *e)
{
    size_t cap = ZSTD_compressBound(n);
    if (ZSTD_isError(cap))
        return pz_err_set(e, PZARR_ECODEC, "zstd: chunk of %zu bytes is too large", n);
    PZ_TRY(reserve(out, cap, "zstd", e));
    ZSTD_CCtx *z = ZSTD_createCCtx();
    if (!z)
        return pz_err_set(e, PZARR_ENOMEM, "zstd: out of memory creating a context");
    size_t r = ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, c->u.zstd.level);
    if (!ZSTD_isError(r))
        r = ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, c->u.zstd.checksum ? 1 : 0);
    if (!ZSTD_isError(r))
        r = ZSTD_compress2(z, out->data, cap, in, n);
    ZSTD_freeCCtx(z);
    if (ZSTD_isError(r))
        return pz_err_set(e, PZARR_ECODEC, "zstd: compression failed: %s",
                          ZSTD_getErrorName(r));
    out->size = r;
    return 0;
}

static int deflate_encode(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                          pz_err *e)
{
    bool gz = c->id == PZ_CODEC_GZIP;
    const char *nm = codec_name(c->id);
    struct libdeflate_compressor *z = libdeflate_alloc_compressor(c->u.gzip.level);
    if (!z)
        return pz_err_set(e, PZARR_ENOMEM, "%s: out of memory creating a compressor", nm);
    size_t cap = gz ? libdeflate_gzip_compress_bound(z, n) : libdeflate_zlib_compress_bound(z, n);
    int rc = reserve(out, cap, nm, e);
    size_t r = 0;
    if (rc == 0)
        r = gz ? libdeflate_gzip_compress(z, in, n, out->data, cap)
               : libdeflate_zlib_compress(z, in, n, out->data, cap);
    libdeflate_free_compressor(z);
    if (rc == 0 && r == 0)
        rc = pz_err_set(e, PZARR_ECODEC, "%s: compression failed", nm);
    out->size = rc == 0 ? r : 0;
    return rc;
}

static int crc32c_encode(const unsigned char *in, size_t n, pz_buf *out, pz_err *e)
{
    uint32_t crc = pz_crc32c(in, n);
    unsigned char t[4] = {(unsigned char)crc, (unsigned char)(crc >> 8),
                          (unsigned char)(crc >> 16), (unsigned char)(crc >> 24)};
    if (n > SIZE_MAX - 4)
        return pz_err_set(e, PZARR_ENOMEM, "crc32c: chunk too large");
    PZ_TRY(reserve(out, n + 4, "crc32c", e));
    if (n)
        memcpy(out->data, in, n);
    memcpy(out->data + n, t, 4);
    out->size = n + 4;
    return 0;
}

static int encode_b2b(const pz_codec *c, const unsigned char *in, size_t n, pz_buf *out,
                      pz_err *e)
{
    out->size = 0;
    switch (c->id) {
    case PZ_CODEC_BLOSC:
        return blosc_encode(c, in, n, out, e);
    case PZ_CODEC_ZSTD:
        return zstd_encode(c, in, n, out, e);
    case PZ_CODEC_GZIP:
    case PZ_CODEC_ZLIB:
        return deflate_encode(c, in, n, out, e);
    case PZ_CODEC_CRC32C:
        return crc32c_encode(in, n, out, e);
    default:
        return pz_err_set(e, PZARR_EINVAL, "codecs: \"%s\" is not a bytes->bytes codec",
                          codec_name(c->id));
    }
}

/* ------------------------------------------------------------ encode / decode state */

/* Two scratch buffers used in turn; cur is the data between stages. */
typedef struct stages {
    pz_buf buf[2];
    const unsigned char *cur;
    size_t n;
    int cur_buf; /* which buf holds cur, or -1 (caller memory) */
} stages;

static pz_buf *spare(stages *s) { return &s->buf[s->cur_buf == 0 ? 1 : 0]; }

static void took(stages *s, pz_buf *b)
{
    s->cur = b->data;
    s->n = b->size;
    s->cur_buf = b == &s->buf[0] ? 0 : b == &s->buf[1] ? 1 : -1;
}

/* Makes cur writable (a scratch buffer) and returns it, or NULL. */
static unsigned char *writable(stages *s, pz_err *e)
{
    if (s->cur_buf >= 0)
        return s->buf[s->cur_buf].data;
    pz_buf *b = spare(s);
    b->size = 0;
    if (pz_buf_append(b, s->cur, s->n) != 0) {
        pz_err_set(e, PZARR_ENOMEM, "bytes: out of memory (%zu bytes)", s->n);
        return NULL;
    }
    took(s, b);
    return b->data;
}

static bool bytes_swaps(const pz_codec *c, size_t isz)
{
    return isz > 1 && c->u.bytes.big_endian != host_big_endian();
}

static void stages_free(stages *s)
{
    pz_buf_free(&s->buf[0]);
    pz_buf_free(&s->buf[1]);
}

static int encode_array(const pz_pipeline *p, int ab, int ndim, const uint64_t *shape,
                        pzarr_dtype t, stages *s, pz_err *e)
{
    uint64_t shapes[PZ_MAX_CODECS + 1][PZ_MAX_NDIM];
    size_t isz = pzarr_dtype_size(t);
    a2a_shapes(p, ab, ndim, shape, shapes);
    for (int k = 0; k < ab; k++) {
        pz_buf *b = spare(s);
        PZ_TRY(reserve(b, s->n, "transpose", e));
        transpose_apply(&p->c[k], ndim, shapes[k], isz, s->cur, b->data, true);
        b->size = s->n;
        took(s, b);
    }
    if (bytes_swaps(&p->c[ab], isz)) {
        unsigned char *w = writable(s, e);
        if (!w)
            return PZARR_ENOMEM;
        pz_byteswap(w, s->n / isz, isz, t);
    }
    return 0;
}

int pz_chunk_encode(const pz_pipeline *p, int ndim, const uint64_t *chunk_shape,
                    pzarr_dtype t, const void *chunk, pz_buf *out, pz_err *e)
{
    stages s = {{{0}}, chunk, 0, -1};
    int ab = a2b_index(p), rc;
    out->size = 0;
    if (ab < 0)
        return pz_err_set(e, PZARR_EINVAL, "codecs: no array->bytes codec");
    PZ_TRY(chunk_nbytes(ndim, chunk_shape, pzarr_dtype_size(t), &s.n, e));
    rc = encode_array(p, ab, ndim, chunk_shape, t, &s, e);
    for (int i = ab + 1; rc == 0 && i < p->n; i++) {
        pz_buf *dst = i == p->n - 1 ? out : spare(&s);
        rc = encode_b2b(&p->c[i], s.cur, s.n, dst, e);
        took(&s, dst);
    }
    if (rc == 0 && ab == p->n - 1 && pz_buf_append(out, s.cur, s.n) != 0)
        rc = pz_err_set(e, PZARR_ENOMEM, "bytes: out of memory (%zu bytes)", s.n);
    stages_free(&s);
    if (rc != 0)
        out->size = 0;
    return rc;
}

/* ------------------------------------------------------------ bytes->bytes decode */

/* What a decoder may produce: exactly `exact` bytes, or at most `cap`. */
typedef struct want {
    size_t exact; /* UNKNOWN_SIZE when only the cap is known */
    size_t cap;
} want;

static size_t want_limit(want w) { return w.exact != UNKNOWN_SIZE ? w.exact : w.cap; }

static int too_big(const char *nm, want w, pz_err *e)
{
    if (w.exact != UNKNOWN_SIZE)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: decodes to more than the expected %zu bytes",
                          nm, w.exact);
    return pz_err_set(e, PZARR_ECORRUPT, "%s: decodes to more than the limit of %zu bytes", nm,
                      w.cap);
}

static int check_exact(const char *nm, size_t got, want w, pz_err *e)
{
    if (w.exact != UNKNOWN_SIZE && got != w.exact)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: decodes to %zu bytes, expected %zu", nm, got,
                          w.exact);
    return 0;
}

static int blosc_decode(const unsigned char *in, size_t n, want w, pz_buf *out, pz_err *e)
{
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
    if (w.exact != UNKNOWN_SIZE && nbytes != w.exact)
        return pz_err_set(e, PZARR_ECORRUPT, "blosc: header says %zu bytes, expected %zu",
                          nbytes, w.exact);
    if (nbytes > w.cap)
        return too_big("blosc", w, e);
    PZ_TRY(reserve(out, nbytes, "blosc", e));
    int r = nbytes ? blosc_decompress_ctx(in, out->data, nbytes, 1) : 0;
    if (r < 0 || (size_t)r != nbytes)
        return pz_err_set(e, PZARR_ECORRUPT, "blosc: decompression failed (code %d)", r);
    out->size = nbytes;
    return 0;
}

static int zstd_precheck(const unsigned char *in, size_t n, want w, pz_err *e)
{
    unsigned long long fcs = ZSTD_getFrameContentSize(in, n);
    if (fcs == ZSTD_CONTENTSIZE_ERROR)
        return pz_err_set(e, PZARR_ECORRUPT,
                          "zstd: not a zstd frame (bad magic number or truncated header, %zu "
                          "bytes)",
                          n);
    size_t fsz = ZSTD_findFrameCompressedSize(in, n);
    if (ZSTD_isError(fsz))
        return pz_err_set(e, PZARR_ECORRUPT, "zstd: truncated or invalid frame (%s)",
                          ZSTD_getErrorName(fsz));
    if (fsz != n || fcs == ZSTD_CONTENTSIZE_UNKNOWN)
        return 0; /* several frames or no size: the stream decoder checks */
    if (w.exact != UNKNOWN_SIZE && fcs != w.exact)
        return pz_err_set(e, PZARR_ECORRUPT, "zstd: frame says %llu bytes, expected %zu", fcs,
                          w.exact);
    if (fcs > w.cap)
        return pz_err_set(e, PZARR_ECORRUPT, "zstd: frame says %llu bytes, more than the limit "
                          "of %zu", fcs, w.cap);
    return 0;
}

static int zstd_grow(pz_buf *out, ZSTD_outBuffer *ob, want w, pz_err *e)
{
    size_t limit = want_limit(w);
    if (ob->size >= limit)
        return too_big("zstd", w, e);
    size_t next = ob->size < (limit - ob->size) ? ob->size * 2 : limit;
    if (next < 65536)
        next = limit < 65536 ? limit : 65536;
    PZ_TRY(reserve(out, next, "zstd", e));
    ob->dst = out->data;
    ob->size = next;
    return 0;
}

static int zstd_stream(ZSTD_DCtx *d, const unsigned char *in, size_t n, want w, pz_buf *out,
                       pz_err *e)
{
    ZSTD_inBuffer ib = {in, n, 0};
    size_t first = w.exact != UNKNOWN_SIZE ? w.exact : (n < w.cap / 4 ? n * 4 : w.cap);
    PZ_TRY(reserve(out, first, "zstd", e));
    ZSTD_outBuffer ob = {out->data, first, 0};
    for (;;) {
        size_t ip = ib.pos, op = ob.pos;
        size_t r = ZSTD_decompressStream(d, &ob, &ib);
        out->size = ob.pos;
        if (ZSTD_isError(r))
            return pz_err_set(e, PZARR_ECORRUPT, "zstd: %s", ZSTD_getErrorName(r));
        if (r == 0 && ib.pos == ib.size)
            return check_exact("zstd", ob.pos, w, e);
        if (ib.pos != ip || ob.pos != op)
            continue;
        if (ob.pos < ob.size)
            return pz_err_set(e, PZARR_ECORRUPT, "zstd: truncated frame (%zu bytes)", n);
        PZ_TRY(zstd_grow(out, &ob, w, e));
    }
}

static int zstd_decode(const unsigned char *in, size_t n, want w, pz_buf *out, pz_err *e)
{
    PZ_TRY(zstd_precheck(in, n, w, e));
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!d)
        return pz_err_set(e, PZARR_ENOMEM, "zstd: out of memory creating a context");
    int rc = zstd_stream(d, in, n, w, out, e);
    ZSTD_freeDCtx(d);
    return rc;
}

/* One gzip member or zlib stream appended to out; *used is its length. */
static int deflate_one(struct libdeflate_decompressor *d, bool gz, const unsigned char *in,
                       size_t n, want w, pz_buf *out, size_t *used, pz_err *e)
{
    const char *nm = gz ? "gzip" : "zlib";
    size_t base = out->size, room = want_limit(w) - base, avail = room;
    if (w.exact == UNKNOWN_SIZE) { /* guess, then grow up to the cap */
        avail = n < room / 4 ? n * 4 : room;
        if (avail < 65536)
            avail = room < 65536 ? room : 65536;
    }
    for (;;) {
        PZ_TRY(reserve(out, base + avail, nm, e));
        size_t got = 0;
        enum libdeflate_result r =
            gz ? libdeflate_gzip_decompress_ex(d, in, n, out->data + base, avail, used, &got)
               : libdeflate_zlib_decompress_ex(d, in, n, out->data + base, avail, used, &got);
        if (r == LIBDEFLATE_SUCCESS) {
            out->size = base + got;
            return 0;
        }
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE)
            return pz_err_set(e, PZARR_ECORRUPT, "%s: invalid or truncated data", nm);
        if (avail >= room)
            return too_big(nm, w, e);
        avail = avail < room / 2 ? avail * 2 : room;
    }
}

static int deflate_decode(bool gz, const unsigned char *in, size_t n, want w, pz_buf *out,
                          pz_err *e)
{
    const char *nm = gz ? "gzip" : "zlib";
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!d)
        return pz_err_set(e, PZARR_ENOMEM, "%s: out of memory creating a decompressor", nm);
    size_t pos = 0;
    int rc = 0;
    out->size = 0;
    do { /* gzip allows concatenated members */
        size_t used = 0;
        rc = deflate_one(d, gz, in + pos, n - pos, w, out, &used, e);
        pos += used;
    } while (rc == 0 && gz && pos < n);
    libdeflate_free_decompressor(d);
    if (rc == 0 && pos != n)
        rc = pz_err_set(e, PZARR_ECORRUPT, "%s: %zu trailing bytes after the stream", nm,
                        n - pos);
    return rc ? rc : check_exact(nm, out->size, w, e);
}

static int crc32c_check(const unsigned char *in, size_t *n, pz_err *e)
{
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

static int decode_b2b(const pz_codec *c, const unsigned char *in, size_t n, want w,
                      pz_buf *out, pz_err *e)
{
    out->size = 0;
    switch (c->id) {
    case PZ_CODEC_BLOSC:
        return blosc_decode(in, n, w, out, e);
    case PZ_CODEC_ZSTD:
        return zstd_decode(in, n, w, out, e);
    case PZ_CODEC_GZIP:
    case PZ_CODEC_ZLIB:
        return deflate_decode(c->id == PZ_CODEC_GZIP, in, n, w, out, e);
    default:
        return pz_err_set(e, PZARR_EINVAL, "codecs: \"%s\" is not a bytes->bytes codec",
                          codec_name(c->id));
    }
}

/*
 * What decoding bytes->bytes codec i must yield: known exactly when only
 * crc32c codecs lie between it and the array->bytes codec.
 */
static want stage_want(const pz_pipeline *p, int ab, int i, size_t nbytes)
{
    want w = {nbytes, SIZE_MAX};
    for (int k = ab + 1; k < i && w.exact != UNKNOWN_SIZE; k++)
        w.exact = p->c[k].id == PZ_CODEC_CRC32C && w.exact < SIZE_MAX - 5 ? w.exact + 4
                                                                           : UNKNOWN_SIZE;
    if (w.exact != UNKNOWN_SIZE) {
        w.cap = w.exact;
        return w;
    }
    /* A decompression bomb must not exhaust memory. */
    w.cap = nbytes < (SIZE_MAX - (1u << 20)) / 2 ? nbytes * 2 + (1u << 20) : SIZE_MAX - 1;
    return w;
}

static int decode_bytes_stages(const pz_pipeline *p, int ab, size_t nbytes, void *chunk,
                               stages *s, pz_err *e)
{
    for (int i = p->n - 1; i > ab; i--) {
        const pz_codec *c = &p->c[i];
        if (c->id == PZ_CODEC_CRC32C) {
            PZ_TRY(crc32c_check(s->cur, &s->n, e));
            continue;
        }
        /* The last decoder of a pipeline without transpose fills chunk itself. */
        pz_buf direct = {chunk, 0, nbytes};
        pz_buf *dst = (i == ab + 1 && ab == 0) ? &direct : spare(s);
        PZ_TRY(decode_b2b(c, s->cur, s->n, stage_want(p, ab, i, nbytes), dst, e));
        took(s, dst);
    }
    if (s->n != nbytes)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: chunk holds %zu bytes, expected %zu",
                          codec_name(p->c[ab].id), s->n, nbytes);
    return 0;
}

static int decode_array(const pz_pipeline *p, int ab, int ndim, const uint64_t *shape,
                        pzarr_dtype t, void *chunk, stages *s, pz_err *e)
{
    size_t isz = pzarr_dtype_size(t);
    uint64_t shapes[PZ_MAX_CODECS + 1][PZ_MAX_NDIM];
    bool swap = bytes_swaps(&p->c[ab], isz);
    if (ab == 0) {
        if (s->cur != chunk && s->n)
            memcpy(chunk, s->cur, s->n);
        if (swap)
            pz_byteswap(chunk, s->n / isz, isz, t);
        return 0;
    }
    if (swap) {
        unsigned char *w = writable(s, e);
        if (!w)
            return PZARR_ENOMEM;
        pz_byteswap(w, s->n / isz, isz, t);
    }
    a2a_shapes(p, ab, ndim, shape, shapes);
    for (int k = ab - 1; k > 0; k--) {
        pz_buf *b = spare(s);
        PZ_TRY(reserve(b, s->n, "transpose", e));
        transpose_apply(&p->c[k], ndim, shapes[k], isz, s->cur, b->data, false);
        b->size = s->n;
        took(s, b);
    }
    transpose_apply(&p->c[0], ndim, shapes[0], isz, s->cur, chunk, false);
    return 0;
}

int pz_chunk_decode(const pz_pipeline *p, int ndim, const uint64_t *chunk_shape,
                    pzarr_dtype t, const void *in, size_t n, void *chunk, pz_err *e)
{
    size_t nbytes = 0;
    int ab = a2b_index(p);
    if (ab < 0)
        return pz_err_set(e, PZARR_EINVAL, "codecs: no array->bytes codec");
    PZ_TRY(chunk_nbytes(ndim, chunk_shape, pzarr_dtype_size(t), &nbytes, e));
    if (!in && n)
        return pz_err_set(e, PZARR_EINVAL, "chunk: NULL input");
    stages s = {{{0}}, in, n, -1};
    int rc = decode_bytes_stages(p, ab, nbytes, chunk, &s, e);
    if (rc == 0)
        rc = decode_array(p, ab, ndim, chunk_shape, t, chunk, &s, e);
    stages_free(&s);
    return rc;
}
