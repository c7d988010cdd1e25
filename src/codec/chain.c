/*
 * The codec chain: the table of codecs, the v3 "codecs" array and the v2
 * compressor mapped to one pz_pipeline, its JSON, and whole-chunk encode and
 * decode through each codec's operations.
 */
#include "codec_impl.h"

#include <string.h>

static const pz_codec_ops *const table[PZ_NCODECS] = {
    [PZ_CODEC_BYTES] = &pz_codec_bytes, [PZ_CODEC_TRANSPOSE] = &pz_codec_transpose,
    [PZ_CODEC_BLOSC] = &pz_codec_blosc, [PZ_CODEC_GZIP] = &pz_codec_gzip,
    [PZ_CODEC_ZLIB] = &pz_codec_zlib,   [PZ_CODEC_ZSTD] = &pz_codec_zstd,
    [PZ_CODEC_CRC32C] = &pz_codec_crc32c, [PZ_CODEC_LZ4] = &pz_codec_lz4,
    [PZ_CODEC_BZ2] = &pz_codec_bz2,       [PZ_CODEC_LZMA] = &pz_codec_lzma,
    [PZ_CODEC_DELTA] = &pz_codec_delta,   [PZ_CODEC_FIXEDSCALEOFFSET] = &pz_codec_fso,
    [PZ_CODEC_QUANTIZE] = &pz_codec_quantize, [PZ_CODEC_BITROUND] = &pz_codec_bitround,
    [PZ_CODEC_SHUFFLE] = &pz_codec_shuffle, [PZ_CODEC_ZFP] = &pz_codec_zfp,
    [PZ_CODEC_ZFPY] = &pz_codec_zfpy, [PZ_CODEC_CRC32] = &pz_codec_crc32,
    [PZ_CODEC_ADLER32] = &pz_codec_adler32, [PZ_CODEC_FLETCHER32] = &pz_codec_fletcher32,
    [PZ_CODEC_BITROUND3] = &pz_codec_bitround3, [PZ_CODEC_VLEN_UTF8] = &pz_codec_vlen_utf8,
    [PZ_CODEC_VLEN_BYTES] = &pz_codec_vlen_bytes,
};

static const pz_codec_ops *ops(const pz_codec *c) { return table[c->id]; }

/* v2: a compressor, or with filter a v2 filter; else a v3 codec (by its
 * v3 name when it has one). */
static const pz_codec_ops *find(const char *name, bool v2, bool filter)
{
    for (int i = 0; i < PZ_NCODECS; i++) {
        const pz_codec_ops *o = table[i];
        if (!v2 && o->v3_name) {
            if (strcmp(o->v3_name, name) == 0)
                return o;
            continue;
        }
        bool kind = filter ? o->v2_filter : v2 ? o->in_v2 : o->in_v3;
        if (kind && strcmp(o->name, name) == 0)
            return o;
    }
    return NULL;
}

/* ------------------------------------------------------------ v3 */

static int parse_one(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    const pz_codec_ops *o = find(c->name, c->v2, strcmp(c->what, "filter") == 0);
    if (!o)
        return pz_err_set(c->e, PZARR_EUNSUPPORTED, "unsupported %s \"%s\"", c->what, c->name);
    memset(out, 0, sizeof *out);
    out->id = o->id;
    /* a v2 filter stays one; a filter-only codec is one in v2 wherever
     * it came from */
    out->v2_filter = strcmp(c->what, "filter") == 0 || (o->v2_filter && !o->in_v2);
    return o->parse(c, ndim, t, out);
}

static int parse_v3_item(const cJSON *item, int ndim, pzarr_dtype t, pz_codec *out, pz_err *e)
{
    pz_cfg c = {NULL, "codec", NULL, false, e};
    if (cJSON_IsString(item)) {
        c.name = item->valuestring;
        return parse_one(&c, ndim, t, out);
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
    return parse_one(&c, ndim, t, out);
}

/* Array->array codecs, then one array->bytes codec, then bytes->bytes. */
static int check_order(const pz_pipeline *p, pz_err *e)
{
    int seen_a2b = -1;
    for (int i = 0; i < p->n; i++) {
        pz_codec_kind k = ops(&p->c[i])->kind;
        const char *nm = ops(&p->c[i])->name;
        if (k == PZ_KIND_A2A && seen_a2b >= 0)
            return pz_err_set(e, PZARR_EMETA,
                              "codecs: array->array codec \"%s\" (entry %d) follows the "
                              "array->bytes codec",
                              nm, i);
        if (k == PZ_KIND_A2B && seen_a2b >= 0)
            return pz_err_set(e, PZARR_EMETA,
                              "codecs: more than one array->bytes codec (\"%s\" at entries "
                              "%d and %d)",
                              nm, seen_a2b, i);
        if (k == PZ_KIND_B2B && seen_a2b < 0)
            return pz_err_set(e, PZARR_EMETA,
                              "codecs: bytes->bytes codec \"%s\" (entry %d) comes before "
                              "the array->bytes codec",
                              nm, i);
        if (k == PZ_KIND_A2B)
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
    if (pz_dtype_slot(t) == 0)
        return pz_err_set(e, PZARR_EINVAL, "codecs: invalid data type %d", (int)t);
    memset(p, 0, sizeof *p);
    return 0;
}

/* numcodecs' array->array codecs of v3 (delta, fixedscaleoffset, quantize,
 * bitround) are bytes->bytes here: each moves from just before "bytes" to
 * just after it, which changes nothing when "bytes" is little endian (or
 * the type one byte) and no other array->array codec lies between. */
static int move_numcodecs_a2a(pz_pipeline *p, pzarr_dtype t, pz_err *e)
{
    int ab = -1;
    for (int i = 0; i < p->n && ab < 0; i++)
        if (ops(&p->c[i])->kind == PZ_KIND_A2B)
            ab = i;
    if (ab < 0)
        return 0; /* check_order says what is wrong */
    int first = ab;
    while (first > 0 && ops(&p->c[first - 1])->v3_a2a)
        first--;
    for (int i = 0; i < first; i++)
        if (ops(&p->c[i])->v3_a2a)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "codecs: \"%s\" before another array->array codec is not "
                              "supported",
                              ops(&p->c[i])->v3_name);
    if (first == ab)
        return 0;
    const pz_codec *b = &p->c[ab];
    if (b->id != PZ_CODEC_BYTES || (pzarr_dtype_size(t) > 1 && b->u.bytes.big_endian))
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "codecs: \"%s\" with a big-endian \"bytes\" is not supported",
                          ops(&p->c[first])->v3_name);
    pz_codec moved[PZ_MAX_CODECS], bytes = *b;
    int nm = ab - first;
    memcpy(moved, &p->c[first], (size_t)nm * sizeof *moved);
    p->c[first] = bytes;
    for (int k = 0; k < nm; k++) {
        p->c[first + 1 + k] = moved[k];
        p->c[first + 1 + k].v3_before_bytes = true;
    }
    return 0;
}

static bool is_vlen_codec(const pz_codec *c)
{
    return c->id == PZ_CODEC_VLEN_UTF8 || c->id == PZ_CODEC_VLEN_BYTES;
}

/* A variable-length type is written by its vlen codec, first and alone
 * before bytes->bytes codecs; a fixed-size type never by one. */
static int check_vlen(const pz_pipeline *p, pzarr_dtype t, pz_err *e)
{
    int ab = -1;
    for (int i = 0; i < p->n && ab < 0; i++)
        if (ops(&p->c[i])->kind == PZ_KIND_A2B)
            ab = i;
    if (ab < 0)
        return 0;
    if (!pz_dtype_is_vlen(t))
        return is_vlen_codec(&p->c[ab])
                   ? pz_err_set(e, PZARR_EMETA, "codec \"%s\" needs a variable-length data type",
                                ops(&p->c[ab])->name)
                   : 0;
    const char *want = t == PZARR_VLEN_STRING ? "vlen-utf8" : "vlen-bytes";
    if (!is_vlen_codec(&p->c[ab]))
        return pz_err_set(e, PZARR_EUNSUPPORTED, "data type \"%s\" needs the \"%s\" codec, not \"%s\"",
                          pzarr_dtype_name(t), want, ops(&p->c[ab])->name);
    if (ab != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "codecs: array->array codecs before \"%s\" are not supported", want);
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
    PZ_TRY(move_numcodecs_a2a(p, t, e));
    PZ_TRY(check_order(p, e));
    return check_vlen(p, t, e);
}

/* ------------------------------------------------------------ v2 */

static int parse_v2_compressor(const cJSON *comp, pzarr_dtype t, pz_codec *out, pz_err *e)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(comp, "id");
    if (!cJSON_IsObject(comp) || !cJSON_IsString(id))
        return pz_err_set(e, PZARR_EMETA,
                          "compressor: must be null or an object with an \"id\" string");
    pz_cfg c = {comp, "compressor", id->valuestring, true, e};
    return parse_one(&c, 0, t, out);
}

/* The v2 filters, in order, each a bytes->bytes stage before the compressor. */
static int parse_v2_filters(const cJSON *filters, pzarr_dtype t, pz_pipeline *p, pz_err *e)
{
    if (!filters || cJSON_IsNull(filters))
        return 0;
    if (!cJSON_IsArray(filters))
        return pz_err_set(e, PZARR_EMETA, "filters: must be null or an array");
    for (const cJSON *f = filters->child; f; f = f->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "id");
        if (!cJSON_IsObject(f) || !cJSON_IsString(id))
            return pz_err_set(e, PZARR_EMETA, "filters: each filter must have an \"id\" string");
        if (p->n >= PZ_MAX_CODECS - 1)
            return pz_err_set(e, PZARR_EMETA, "filters: too many");
        pz_cfg c = {f, "filter", id->valuestring, true, e};
        PZ_TRY(parse_one(&c, 0, t, &p->c[p->n]));
        p->n++;
    }
    return 0;
}

int pz_pipeline_from_v2(const cJSON *compressor, const cJSON *filters, bool order_f,
                        bool big_endian, int ndim, pzarr_dtype t, pz_pipeline *p, pz_err *e)
{
    PZ_TRY(check_args(ndim, t, p, e));
    if (pz_dtype_is_vlen(t)) { /* the object codec, the first filter, is the array->bytes */
        if (order_f && ndim > 1)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "order \"F\" of a multi-dimensional object array is not supported");
        PZ_TRY(parse_v2_filters(filters, t, p, e));
        if (compressor && !cJSON_IsNull(compressor)) {
            if (p->n >= PZ_MAX_CODECS)
                return pz_err_set(e, PZARR_EMETA, "filters: too many");
            PZ_TRY(parse_v2_compressor(compressor, t, &p->c[p->n++], e));
        }
        for (int i = 1; i < p->n; i++)
            if (ops(&p->c[i])->kind != PZ_KIND_B2B)
                return pz_err_set(e, PZARR_EUNSUPPORTED,
                                  "\"%s\" after an object codec is not supported",
                                  ops(&p->c[i])->name);
        return check_vlen(p, t, e);
    }
    bool multi = pzarr_dtype_size(t) > 1;
    if (order_f && ndim > 1)
        pz_transpose_reversed(&p->c[p->n++], ndim);
    pz_codec *b = &p->c[p->n++];
    b->id = PZ_CODEC_BYTES;
    b->u.bytes.has_endian = multi;
    b->u.bytes.big_endian = multi && big_endian;
    PZ_TRY(parse_v2_filters(filters, t, p, e));
    if (compressor && !cJSON_IsNull(compressor))
        PZ_TRY(parse_v2_compressor(compressor, t, &p->c[p->n++], e));
    /* A compressor that takes the array itself (zfpy) is the array->bytes
     * codec: it sees the chunk in native order, C order, unfiltered. */
    pz_codec *last = &p->c[p->n - 1];
    if (p->n > 1 && ops(last)->a2b_encode) {
        if (p->n > 2)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "compressor \"%s\" with filters or order F is not supported",
                              ops(last)->name);
        if (big_endian && multi)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "compressor \"%s\" with a big-endian data type is not supported",
                              ops(last)->name);
        p->c[0] = *last;
        p->n = 1;
    }
    return 0;
}

/* ------------------------------------------------------------ emitting */

/* The v3 order: what ran after "bytes" but belongs before it goes back. */
static int v3_order(const pz_pipeline *p, int *order)
{
    int n = 0, ab = -1;
    for (int i = 0; i < p->n; i++)
        if (ops(&p->c[i])->kind == PZ_KIND_A2B)
            ab = i;
    for (int i = 0; i < p->n; i++) {
        if (i == ab)
            for (int k = 0; k < p->n; k++)
                if (p->c[k].v3_before_bytes)
                    order[n++] = k;
        if (!p->c[i].v3_before_bytes)
            order[n++] = i;
    }
    return n;
}

cJSON *pz_pipeline_emit_v3(const pz_pipeline *p)
{
    cJSON *arr = cJSON_CreateArray();
    int order[PZ_MAX_CODECS];
    int n = v3_order(p, order);
    for (int j = 0; arr && j < n; j++) {
        int i = order[j];
        const pz_codec_ops *o = ops(&p->c[i]);
        cJSON *obj = cJSON_CreateObject();
        if (!obj || !cJSON_AddItemToArray(arr, obj)) {
            cJSON_Delete(obj);
            cJSON_Delete(arr);
            return NULL;
        }
        if (!cJSON_AddStringToObject(obj, "name", o->v3_name ? o->v3_name : o->name) ||
            !(o->emit_v3 ? o->emit_v3(&p->c[i], obj) : pz_emit_v3_numcodecs(o, &p->c[i], obj))) {
            cJSON_Delete(arr); /* obj with it */
            return NULL;
        }
    }
    return arr;
}

cJSON *pz_pipeline_emit_v2_compressor(const pz_pipeline *p)
{
    const pz_codec *comp = NULL;
    for (int i = 0; i < p->n; i++) {
        if (ops(&p->c[i])->kind == PZ_KIND_A2B && ops(&p->c[i])->a2b_encode) {
            if (!ops(&p->c[i])->emit_v2)
                return NULL; /* v3's zfp has no v2 form */
        } else if (ops(&p->c[i])->kind != PZ_KIND_B2B || p->c[i].v2_filter) {
            continue;
        }
        if (comp || !ops(&p->c[i])->emit_v2)
            return NULL; /* not expressible as one v2 compressor */
        comp = &p->c[i];
    }
    if (!comp)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (o && !ops(comp)->emit_v2(comp, o)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

cJSON *pz_pipeline_emit_v2_filters(const pz_pipeline *p)
{
    cJSON *arr = NULL;
    for (int i = 0; i < p->n; i++) {
        if (!p->c[i].v2_filter)
            continue;
        cJSON *o = cJSON_CreateObject();
        if (!arr)
            arr = cJSON_CreateArray();
        if (!o || !arr || !cJSON_AddItemToArray(arr, o) || !ops(&p->c[i])->emit_v2(&p->c[i], o)) {
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr ? arr : cJSON_CreateNull();
}

bool pz_emit_v3_numcodecs(const pz_codec_ops *o, const pz_codec *c, cJSON *obj)
{
    cJSON *conf = cJSON_CreateObject();
    if (!conf || !o->emit_v2(c, conf) || !cJSON_AddItemToObject(obj, "configuration", conf)) {
        cJSON_Delete(conf);
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(conf, "id");
    return true;
}

bool pz_pipeline_is_identity(const pz_pipeline *p, size_t itemsize)
{
    return p->n == 1 && p->c[0].id == PZ_CODEC_BYTES && !ops(&p->c[0])->a2b_swaps(&p->c[0], itemsize);
}

/* ------------------------------------------------------------ stages */

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

static void stages_free(stages *s)
{
    pz_buf_free(&s->buf[0]);
    pz_buf_free(&s->buf[1]);
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
        if (ops(&p->c[i])->kind == PZ_KIND_A2B)
            return i;
    return -1;
}

/* shapes[k] is the decoded shape seen by array->array codec k. */
static void a2a_shapes(const pz_pipeline *p, int na2a, int ndim, const uint64_t *shape,
                       uint64_t shapes[][PZ_MAX_NDIM])
{
    if (ndim > 0)
        memcpy(shapes[0], shape, (size_t)ndim * sizeof *shape);
    for (int k = 0; k < na2a; k++)
        ops(&p->c[k])->a2a_shape(&p->c[k], ndim, shapes[k], shapes[k + 1]);
}

/* ------------------------------------------------------------ encode */

static int encode_array(const pz_pipeline *p, int ab, int ndim, const uint64_t *shape,
                        pzarr_dtype t, stages *s, pz_err *e)
{
    uint64_t shapes[PZ_MAX_CODECS + 1][PZ_MAX_NDIM];
    size_t isz = pzarr_dtype_size(t);
    a2a_shapes(p, ab, ndim, shape, shapes);
    for (int k = 0; k < ab; k++) {
        pz_buf *b = spare(s);
        PZ_TRY(pz_codec_reserve(b, s->n, ops(&p->c[k])->name, e));
        ops(&p->c[k])->a2a_apply(&p->c[k], ndim, shapes[k], isz, s->cur, b->data, true);
        b->size = s->n;
        took(s, b);
    }
    if (ops(&p->c[ab])->a2b_encode) {
        pz_buf *b = spare(s);
        b->size = 0;
        PZ_TRY(ops(&p->c[ab])->a2b_encode(&p->c[ab], ndim, shapes[ab], t, s->cur, s->n, b, e));
        took(s, b);
        return 0;
    }
    if (ops(&p->c[ab])->a2b_swaps(&p->c[ab], isz)) {
        unsigned char *w = writable(s, e);
        if (!w)
            return PZARR_ENOMEM;
        pz_byteswap(w, s->n / isz, isz, t);
    }
    return 0;
}

/* An array opened with codecs pzarr does not know: its chunks move as
 * they are, never through the chain. */
static int opaque(const pz_pipeline *p, pz_err *e)
{
    return pz_err_set(e, PZARR_EUNSUPPORTED, "%s: pzarr can copy these chunks as they are, "
                                             "not decode or encode them",
                      p->unsupported);
}

/* The bytes->bytes codecs after ab, the last into out (rc: the outcome so
 * far; nothing runs after a failure); s freed. */
static int encode_bytes_stages(const pz_pipeline *p, int ab, int rc, stages *s, pz_buf *out,
                               pz_err *e)
{
    for (int i = ab + 1; rc == 0 && i < p->n; i++) {
        pz_buf *dst = i == p->n - 1 ? out : spare(s);
        dst->size = 0;
        rc = ops(&p->c[i])->encode(&p->c[i], s->cur, s->n, dst, e);
        took(s, dst);
    }
    if (rc == 0 && ab == p->n - 1 && pz_buf_append(out, s->cur, s->n) != 0)
        rc = pz_err_set(e, PZARR_ENOMEM, "%s: out of memory (%zu bytes)", ops(&p->c[ab])->name,
                        s->n);
    stages_free(s);
    if (rc != 0)
        out->size = 0;
    return rc;
}

int pz_chunk_encode(const pz_pipeline *p, int ndim, const uint64_t *chunk_shape,
                    pzarr_dtype t, const void *chunk, pz_buf *out, pz_err *e)
{
    stages s = {{{0}}, chunk, 0, -1};
    int ab = a2b_index(p), rc;
    out->size = 0;
    if (p->n == 0 && p->unsupported[0])
        return opaque(p, e);
    if (ab < 0)
        return pz_err_set(e, PZARR_EINVAL, "codecs: no array->bytes codec");
    PZ_TRY(chunk_nbytes(ndim, chunk_shape, pzarr_dtype_size(t), &s.n, e));
    rc = encode_array(p, ab, ndim, chunk_shape, t, &s, e);
    return encode_bytes_stages(p, ab, rc, &s, out, e);
}

/* ------------------------------------------------------------ decode */

/*
 * What decoding bytes->bytes codec i must yield: known exactly when only
 * trailer codecs (crc32c) lie between it and the array->bytes codec.
 */
static pz_want stage_want(const pz_pipeline *p, int ab, int i, size_t nbytes)
{
    pz_want w = {nbytes, SIZE_MAX};
    for (int k = ab + 1; k < i && w.exact != PZ_UNKNOWN_SIZE; k++) {
        size_t t = ops(&p->c[k])->trailer;
        w.exact = t && w.exact < SIZE_MAX - t - 1 ? w.exact + t : PZ_UNKNOWN_SIZE;
    }
    if (w.exact != PZ_UNKNOWN_SIZE) {
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
    bool plain = !ops(&p->c[ab])->a2b_decode; /* the bytes after are the array's */
    for (int i = p->n - 1; i > ab; i--) {
        const pz_codec *c = &p->c[i];
        if (ops(c)->check) {
            PZ_TRY(ops(c)->check(c, s->cur, &s->n, e));
            continue;
        }
        /* The last decoder of a pipeline without transpose fills chunk itself. */
        pz_buf direct = {chunk, 0, nbytes};
        pz_buf *dst = (i == ab + 1 && ab == 0 && plain) ? &direct : spare(s);
        dst->size = 0;
        pz_want w = stage_want(p, ab, i, nbytes);
        if (!plain) { /* a zfp stream: its size is its own */
            w.exact = PZ_UNKNOWN_SIZE;
            w.cap = nbytes < (SIZE_MAX - (1u << 20)) / 2 ? nbytes * 2 + (1u << 20) : SIZE_MAX - 1;
        }
        PZ_TRY(ops(c)->decode(c, s->cur, s->n, w, dst, e));
        took(s, dst);
    }
    if (plain && s->n != nbytes)
        return pz_err_set(e, PZARR_ECORRUPT, "%s: chunk holds %zu bytes, expected %zu",
                          ops(&p->c[ab])->name, s->n, nbytes);
    return 0;
}

/* The array->array codecs before ab undone, the last into chunk. */
static int undo_a2a(const pz_pipeline *p, int ab, int ndim, uint64_t shapes[][PZ_MAX_NDIM],
                    size_t isz, void *chunk, stages *s, pz_err *e)
{
    for (int k = ab - 1; k > 0; k--) {
        pz_buf *b = spare(s);
        PZ_TRY(pz_codec_reserve(b, s->n, ops(&p->c[k])->name, e));
        ops(&p->c[k])->a2a_apply(&p->c[k], ndim, shapes[k], isz, s->cur, b->data, false);
        b->size = s->n;
        took(s, b);
    }
    ops(&p->c[0])->a2a_apply(&p->c[0], ndim, shapes[0], isz, s->cur, chunk, false);
    return 0;
}

static int decode_array(const pz_pipeline *p, int ab, int ndim, const uint64_t *shape,
                        pzarr_dtype t, void *chunk, stages *s, pz_err *e)
{
    size_t isz = pzarr_dtype_size(t);
    uint64_t shapes[PZ_MAX_CODECS + 1][PZ_MAX_NDIM];
    bool swap = ops(&p->c[ab])->a2b_swaps(&p->c[ab], isz);
    if (ops(&p->c[ab])->a2b_decode) {
        a2a_shapes(p, ab, ndim, shape, shapes);
        size_t nbytes = 0;
        PZ_TRY(chunk_nbytes(ndim, shape, isz, &nbytes, e));
        pz_buf *b = ab == 0 ? NULL : spare(s);
        if (b)
            PZ_TRY(pz_codec_reserve(b, nbytes, ops(&p->c[ab])->name, e));
        unsigned char *dst = b ? b->data : chunk;
        PZ_TRY(ops(&p->c[ab])->a2b_decode(&p->c[ab], ndim, shapes[ab], t, s->cur, s->n, dst,
                                          nbytes, e));
        if (!b)
            return 0;
        b->size = nbytes;
        took(s, b);
        return undo_a2a(p, ab, ndim, shapes, isz, chunk, s, e);
    }
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
    return undo_a2a(p, ab, ndim, shapes, isz, chunk, s, e);
}

int pz_chunk_decode(const pz_pipeline *p, int ndim, const uint64_t *chunk_shape,
                    pzarr_dtype t, const void *in, size_t n, void *chunk, pz_err *e)
{
    size_t nbytes = 0;
    int ab = a2b_index(p);
    if (p->n == 0 && p->unsupported[0])
        return opaque(p, e);
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

/* ------------------------------------------------------------ variable length */

int pz_vlen_encode(const pz_pipeline *p, const void *layout, size_t n, pz_buf *out, pz_err *e)
{
    int ab = a2b_index(p), rc = 0;
    out->size = 0;
    if (p->n == 0 && p->unsupported[0])
        return opaque(p, e);
    if (ab < 0 || !is_vlen_codec(&p->c[ab]))
        return pz_err_set(e, PZARR_EINVAL, "codecs: no vlen codec");
    stages s = {{{0}}, layout, n, -1};
    return encode_bytes_stages(p, ab, rc, &s, out, e);
}

int pz_vlen_decode(const pz_pipeline *p, pzarr_dtype t, uint64_t nelem, const void *in,
                   size_t n, pz_buf *out, pz_err *e)
{
    int ab = a2b_index(p), rc = 0;
    out->size = 0;
    if (p->n == 0 && p->unsupported[0])
        return opaque(p, e);
    if (ab < 0 || !is_vlen_codec(&p->c[ab]))
        return pz_err_set(e, PZARR_EINVAL, "codecs: no vlen codec");
    if (!in && n)
        return pz_err_set(e, PZARR_EINVAL, "chunk: NULL input");
    stages s = {{{0}}, in, n, -1};
    /* The decoded size is the data's own; a decompression bomb must not
     * exhaust memory: at most 256 MiB beyond 64 times the stored bytes. */
    pz_want w = {PZ_UNKNOWN_SIZE, n < (SIZE_MAX >> 7) ? 64 * n + ((size_t)256 << 20)
                                                      : SIZE_MAX - 1};
    for (int i = p->n - 1; rc == 0 && i > ab; i--) {
        const pz_codec *c = &p->c[i];
        if (ops(c)->check) {
            rc = ops(c)->check(c, s.cur, &s.n, e);
            continue;
        }
        pz_buf *dst = spare(&s);
        dst->size = 0;
        rc = ops(c)->decode(c, s.cur, s.n, w, dst, e);
        took(&s, dst);
    }
    if (rc == 0)
        rc = pz_vlen_index(t, s.cur, s.n, nelem, NULL, NULL, e);
    if (rc == 0) {
        if (s.cur_buf >= 0) { /* hand the scratch buffer over, no copy */
            pz_buf_free(out);
            *out = s.buf[s.cur_buf];
            memset(&s.buf[s.cur_buf], 0, sizeof s.buf[0]);
        } else if (pz_buf_append(out, s.cur, s.n) != 0) {
            rc = pz_err_set(e, PZARR_ENOMEM, "vlen: out of memory (%zu bytes)", s.n);
        }
    }
    stages_free(&s);
    return rc;
}
