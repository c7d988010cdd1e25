/*
 * Array documents: zarr.json (v3) and .zarray (v2) <-> pz_meta; group
 * documents; the chunk grid and chunk keys of an array.
 *
 * cJSON keeps every number as a double, so sizes and integer fill values are
 * read exactly only up to 2^53; larger ones are refused (PZARR_EUNSUPPORTED)
 * rather than silently rounded. Integral doubles such as 4.0 or 1e3 are taken
 * as integers, since the parsed value cannot tell them apart.
 *
 * Numbers are emitted as raw JSON text: integers exactly, floats the way
 * Python's repr writes them (0.0, 1.5, 1e+16), as zarr-python does.
 */
#include "format.h"

#include <float.h>
#include <inttypes.h>
#include <errno.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_INT_MAX 9007199254740992.0 /* 2^53 */
#define CHUNK_BYTES_MAX 2147483647u     /* 2 GiB - 1 */

/* ------------------------------------------------------------ JSON input */

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses a whole document; `what` names it in messages ("" or " in .zattrs"). */
static int json_parse(const char *doc, size_t len, const char *what,
                      cJSON **out, pz_err *e)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(doc, len, &end, false);
    if (!root) {
        size_t off = end && end >= doc ? (size_t)(end - doc) : 0;
        return pz_err_set(e, PZARR_EMETA, "malformed JSON%s near offset %zu",
                          what, off);
    }
    size_t pos = (size_t)(end - doc);
    while (pos < len && is_json_space(doc[pos]))
        pos++;
    if (pos < len && doc[pos] != '\0') {
        cJSON_Delete(root);
        return pz_err_set(e, PZARR_EMETA,
                          "malformed JSON%s near offset %zu: text after the "
                          "document",
                          what, pos);
    }
    *out = root;
    return 0;
}

enum { U64_OK, U64_BAD, U64_BIG };

/* A JSON number that is an exact non-negative integer of at most 2^53. */
static int json_u64(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return U64_BAD;
    double d = v->valuedouble;
    if (!(d >= 0))
        return U64_BAD;
    if (d > JSON_INT_MAX)
        return U64_BIG;
    uint64_t u = (uint64_t)d;
    if ((double)u != d)
        return U64_BAD;
    *out = u;
    return U64_OK;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int need(const cJSON *obj, const char *key, const cJSON **out,
                pz_err *e)
{
    *out = member(obj, key);
    if (!*out)
        return pz_err_set(e, PZARR_EMETA, "missing \"%s\"", key);
    return 0;
}

/* Reads "shape" / "chunks" / "chunk_shape"; chunk sizes must be >= 1. */
static int parse_dims(const cJSON *arr, const char *field, bool chunk,
                      uint64_t *out, int *ndim, pz_err *e)
{
    if (!cJSON_IsArray(arr))
        return pz_err_set(e, PZARR_EMETA,
                          "\"%s\" must be an array of non-negative integers",
                          field);
    int n = cJSON_GetArraySize(arr);
    if (n > PZ_MAX_NDIM)
        return pz_err_set(e, PZARR_EMETA,
                          "\"%s\" has %d entries: ndim %d exceeds %d", field, n,
                          n, PZ_MAX_NDIM);
    int i = 0;
    for (const cJSON *v = arr->child; v; v = v->next, i++) {
        int rc = json_u64(v, &out[i]);
        if (rc == U64_BIG)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "\"%s\"[%d] exceeds 2^53, the largest size "
                              "pzarr reads exactly",
                              field, i);
        if (rc != U64_OK)
            return pz_err_set(e, PZARR_EMETA,
                              "\"%s\" must be an array of non-negative "
                              "integers (entry %d is not)",
                              field, i);
        if (chunk && out[i] == 0)
            return pz_err_set(e, PZARR_EMETA,
                              "\"%s\"[%d] is 0: chunk sizes must be at least 1",
                              field, i);
    }
    *ndim = n;
    return 0;
}

static bool key_known(const char *key, const char *const *known, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, known[i]) == 0)
            return true;
    return false;
}

/* An extension member the reader may skip: {"must_understand": false, ...}. */
static bool ignorable_extension(const cJSON *v)
{
    return cJSON_IsObject(v) && cJSON_IsFalse(member(v, "must_understand"));
}

/*
 * Refuses duplicated known keys (cJSON would silently take the first) and,
 * when strict (v3), unknown keys that are not skippable extensions.
 */
static int check_keys(const cJSON *root, const char *const *known, size_t n,
                      bool strict, pz_err *e)
{
    for (const cJSON *c = root->child; c; c = c->next) {
        if (!key_known(c->string, known, n)) {
            if (strict && !ignorable_extension(c))
                return pz_err_set(
                    e, PZARR_EUNSUPPORTED,
                    "unknown metadata field \"%.64s\" (an extension must "
                    "carry \"must_understand\": false to be ignored)",
                    c->string);
            continue;
        }
        for (const cJSON *d = c->next; d; d = d->next)
            if (strcmp(c->string, d->string) == 0)
                return pz_err_set(e, PZARR_EMETA, "duplicate key \"%s\"",
                                  c->string);
    }
    return 0;
}

/* ------------------------------------------------------------ shared checks */

/* prod(chunks) * itemsize must fit the 2 GiB a codec can handle. */
static int check_chunk_bytes(const pz_meta *m, const char *field, pz_err *e)
{
    uint64_t n = m->itemsize;
    for (int d = 0; d < m->ndim; d++) {
        if (!pz_mul_u64(n, m->chunks[d], &n))
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "\"%s\": chunk of more than 2^64 bytes "
                              "exceeds the 2 GiB limit",
                              field);
    }
    if (n > CHUNK_BYTES_MAX)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "\"%s\": chunk of %" PRIu64
                          " bytes exceeds the 2 GiB limit",
                          field, n);
    return 0;
}

/* The number of chunks in the grid must fit in uint64. */
static int check_grid(const pz_meta *m, pz_err *e)
{
    uint64_t total = 1;
    for (int d = 0; d < m->ndim; d++)
        if (!pz_mul_u64(total, pz_meta_grid_dim(m, d), &total))
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "\"shape\" and the chunk shape give more than "
                              "2^64-1 chunks");
    return 0;
}

/* Moves the "attributes" object out of the document (or makes {}). */
static int take_attributes(cJSON *root, pz_meta *m, pz_err *e)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "attributes");
    if (a && !cJSON_IsObject(a))
        return pz_err_set(e, PZARR_EMETA,
                          "\"attributes\" must be a JSON object");
    m->attributes = a ? cJSON_DetachItemViaPointer(root, a) : cJSON_CreateObject();
    if (!m->attributes)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for attributes");
    return 0;
}

/* ------------------------------------------------------------ v3 parse */

static const char *const v3_keys[] = {
    "zarr_format", "node_type",   "shape",           "data_type",
    "chunk_grid",  "chunk_key_encoding", "fill_value", "codecs",
    "attributes",  "dimension_names",    "storage_transformers"};

static int v3_node_type(const cJSON *root, pz_err *e)
{
    const cJSON *nt;
    PZ_TRY(need(root, "node_type", &nt, e));
    if (!cJSON_IsString(nt))
        return pz_err_set(e, PZARR_EMETA, "\"node_type\" must be a string");
    if (strcmp(nt->valuestring, "group") == 0)
        return pz_err_set(e, PZARR_ENOTARRAY,
                          "the document describes a group (\"node_type\": "
                          "\"group\"), not an array");
    if (strcmp(nt->valuestring, "array") != 0)
        return pz_err_set(e, PZARR_EMETA,
                          "\"node_type\" must be \"array\" or \"group\", not "
                          "\"%.64s\"",
                          nt->valuestring);
    return 0;
}

/* {"name": "fixed_length_utf32", "configuration": {"length_bytes": 4n}}:
 * strings of n UTF-32 code units (numpy's "<Un"), as zarr-python 3 writes. */
static int v3_utf32(const cJSON *v, pz_meta *m, pz_err *e)
{
    const cJSON *c = member(v, "configuration");
    const cJSON *lb = cJSON_IsObject(c) ? member(c, "length_bytes") : NULL;
    double b = cJSON_IsNumber(lb) ? lb->valuedouble : -1;
    if (b < 4 || b > PZARR_STRING_MAX || b != (double)(4 * (size_t)(b / 4)))
        return pz_err_set(e, PZARR_EMETA,
                          "\"data_type\" fixed_length_utf32: \"length_bytes\" must be a "
                          "multiple of 4 from 4 to %d",
                          PZARR_STRING_MAX);
    m->dtype = PZARR_STRING_UTF32((size_t)b / 4);
    m->itemsize = pzarr_dtype_size(m->dtype);
    return 0;
}

/* {"name": "numpy.datetime64" | "numpy.timedelta64", "configuration":
 * {"unit": "ns", "scale_factor": 1}} (zarr-extensions). */
static int v3_time(const cJSON *v, bool delta, pz_meta *m, pz_err *e)
{
    const char *nm = delta ? "numpy.timedelta64" : "numpy.datetime64";
    const cJSON *c = member(v, "configuration");
    const cJSON *unit = cJSON_IsObject(c) ? member(c, "unit") : NULL;
    const cJSON *sf = cJSON_IsObject(c) ? member(c, "scale_factor") : NULL;
    int u = cJSON_IsString(unit) ? pz_time_unit_from(unit->valuestring,
                                                     strlen(unit->valuestring))
                                 : -1;
    if (u < 0)
        return pz_err_set(e, PZARR_EMETA,
                          "\"data_type\" %s: \"unit\" must be one of Y, M, W, D, h, m, s, ms, "
                          "us, ns, ps, fs, as",
                          nm);
    double d = cJSON_IsNumber(sf) ? sf->valuedouble : -1;
    if (d < 1 || d > 2147483647.0 || d != (double)(uint64_t)d)
        return pz_err_set(e, PZARR_EMETA,
                          "\"data_type\" %s: \"scale_factor\" must be an integer from 1 to "
                          "2^31-1",
                          nm);
    if (d > PZARR_TIME_SCALE_MAX)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "\"data_type\" %s: a scale factor of %.0f (pzarr takes up to %d)", nm,
                          d, PZARR_TIME_SCALE_MAX);
    for (const cJSON *k = c->child; k; k = k->next)
        if (strcmp(k->string, "unit") && strcmp(k->string, "scale_factor"))
            return pz_err_set(e, PZARR_EMETA, "\"data_type\" %s: unknown field \"%.40s\"", nm,
                              k->string);
    m->dtype = delta ? PZARR_TIMEDELTA64(u, (unsigned)d) : PZARR_DATETIME64(u, (unsigned)d);
    m->itemsize = 8;
    return 0;
}

static int v3_data_type(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (cJSON_IsObject(v)) {
        const cJSON *n = member(v, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, "fixed_length_utf32") == 0)
            return v3_utf32(v, m, e);
        if (cJSON_IsString(n) && (strcmp(n->valuestring, "numpy.datetime64") == 0 ||
                                  strcmp(n->valuestring, "numpy.timedelta64") == 0))
            return v3_time(v, n->valuestring[6] == 't', m, e);
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"data_type\" \"%.64s\": of the data types "
                          "in object form fixed_length_utf32, numpy.datetime64 and "
                          "numpy.timedelta64 are supported",
                          cJSON_IsString(n) ? n->valuestring : "?");
    }
    if (!cJSON_IsString(v))
        return pz_err_set(e, PZARR_EMETA, "\"data_type\" must be a string");
    if (pz_dtype_from_v3(v->valuestring, &m->dtype) != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"data_type\" \"%.64s\"",
                          v->valuestring);
    m->itemsize = pz_dtype_slot(m->dtype);
    return 0;
}

/* The "name" of a {"name": ..., "configuration": {...}} member. */
static int named_config(const cJSON *v, const char *field, const char **name,
                        const cJSON **cfg, pz_err *e)
{
    if (!cJSON_IsObject(v))
        return pz_err_set(e, PZARR_EMETA, "\"%s\" must be an object", field);
    const cJSON *n = member(v, "name");
    if (!cJSON_IsString(n))
        return pz_err_set(e, PZARR_EMETA, "\"%s\" needs a string \"name\"",
                          field);
    *name = n->valuestring;
    *cfg = member(v, "configuration");
    if (*cfg && !cJSON_IsObject(*cfg))
        return pz_err_set(e, PZARR_EMETA,
                          "\"configuration\" of \"%s\" must be an object",
                          field);
    return 0;
}

static int v3_chunk_grid(const cJSON *v, pz_meta *m, pz_err *e)
{
    const char *name = NULL;
    const cJSON *cfg = NULL;
    PZ_TRY(named_config(v, "chunk_grid", &name, &cfg, e));
    if (strcmp(name, "regular") != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"chunk_grid\" \"%.64s\" (only "
                          "\"regular\")",
                          name);
    const cJSON *cs = cfg ? member(cfg, "chunk_shape") : NULL;
    if (!cs)
        return pz_err_set(e, PZARR_EMETA,
                          "missing \"chunk_shape\" in \"chunk_grid\"");
    int n;
    PZ_TRY(parse_dims(cs, "chunk_shape", true, m->chunks, &n, e));
    if (n != m->ndim)
        return pz_err_set(e, PZARR_EMETA,
                          "\"chunk_shape\" has %d entries but \"shape\" has %d",
                          n, m->ndim);
    return 0;
}

static int parse_separator(const cJSON *v, const char *field, char *sep,
                           pz_err *e)
{
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || (strcmp(v->valuestring, "/") != 0 &&
                               strcmp(v->valuestring, ".") != 0))
        return pz_err_set(e, PZARR_EMETA, "%s must be \"/\" or \".\"", field);
    *sep = v->valuestring[0];
    return 0;
}

static int v3_key_encoding(const cJSON *v, pz_meta *m, pz_err *e)
{
    const char *name = NULL;
    const cJSON *cfg = NULL;
    PZ_TRY(named_config(v, "chunk_key_encoding", &name, &cfg, e));
    if (strcmp(name, "default") == 0) {
        m->key_v2_style = false;
        m->key_sep = '/';
    } else if (strcmp(name, "v2") == 0) {
        m->key_v2_style = true;
        m->key_sep = '.';
    } else {
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"chunk_key_encoding\" \"%.64s\"", name);
    }
    return parse_separator(cfg ? member(cfg, "separator") : NULL,
                           "\"separator\" of \"chunk_key_encoding\"",
                           &m->key_sep, e);
}

static int v3_storage_transformers(const cJSON *v, pz_err *e)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsArray(v))
        return pz_err_set(e, PZARR_EMETA,
                          "\"storage_transformers\" must be an array");
    if (!v->child)
        return 0;
    const cJSON *n = member(v->child, "name");
    return pz_err_set(e, PZARR_EUNSUPPORTED,
                      "\"storage_transformers\" are not supported (found "
                      "\"%.64s\")",
                      cJSON_IsString(n) ? n->valuestring : "?");
}

static int v3_dimension_names(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsArray(v))
        return pz_err_set(e, PZARR_EMETA,
                          "\"dimension_names\" must be an array of strings "
                          "or nulls");
    int n = cJSON_GetArraySize(v);
    if (n != m->ndim)
        return pz_err_set(e, PZARR_EMETA,
                          "\"dimension_names\" has %d entries but \"shape\" "
                          "has %d",
                          n, m->ndim);
    m->dimension_names = pz_calloc((size_t)n, sizeof(char *));
    if (!m->dimension_names)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        if (cJSON_IsNull(c))
            continue;
        if (!cJSON_IsString(c))
            return pz_err_set(e, PZARR_EMETA,
                              "\"dimension_names\"[%d] must be a string or "
                              "null",
                              i);
        m->dimension_names[i] = pz_strdup(c->valuestring);
        if (!m->dimension_names[i])
            return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    }
    return 0;
}

/* The unit a codec chain handles (the chunk, or the inner chunk of a
 * shard) must fit the 2 GiB limit; a shard may be larger. */
static int check_unit_bytes(pz_meta *m, pz_err *e)
{
    if (!m->shard.on)
        return check_chunk_bytes(m, "chunk_shape", e);
    pz_meta inner = *m;
    for (int d = 0; d < m->ndim; d++)
        inner.chunks[d] = m->shard.inner[d];
    PZ_TRY(check_chunk_bytes(&inner, "sharding_indexed\" \"chunk_shape", e));
    uint64_t elems, bytes;
    if (!pz_prod(m->ndim, m->chunks, &elems) || !pz_mul_u64(elems, m->itemsize, &bytes))
        return pz_err_set(e, PZARR_EUNSUPPORTED, "\"chunk_shape\": shard size overflows");
    return 0;
}

static int v3_codecs(const cJSON *v, pz_meta *m, pz_err *e)
{
    return pz_codecs_parse_v3(v, m->ndim, m->dtype, m->chunks, &m->pipeline, &m->shard, e);
}

/* Codecs pzarr does not know, kept as their JSON (v3: the codecs array;
 * v2: {"compressor": ..., "filters": ...}), the reason in the pipeline. */
static int keep_opaque(pz_meta *m, const cJSON *codecs, const cJSON *comp,
                       const cJSON *filters, pz_err *e)
{
    char why[96];
    snprintf(why, sizeof why, "%.95s", e->msg);
    pz_err_clear(e);
    memset(&m->pipeline, 0, sizeof m->pipeline);
    memset(&m->shard, 0, sizeof m->shard);
    snprintf(m->pipeline.unsupported, sizeof m->pipeline.unsupported, "%s", why);
    if (codecs) {
        m->opaque_codecs = pz_json_print(codecs, false);
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON *c = comp ? cJSON_Duplicate(comp, true) : cJSON_CreateNull();
        cJSON *f = filters ? cJSON_Duplicate(filters, true) : cJSON_CreateNull();
        if (o && c && f && cJSON_AddItemToObject(o, "compressor", c) &&
            cJSON_AddItemToObject(o, "filters", f)) {
            c = f = NULL;
            m->opaque_codecs = pz_json_print(o, false);
        }
        cJSON_Delete(c);
        cJSON_Delete(f);
        cJSON_Delete(o);
    }
    if (!m->opaque_codecs)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    return 0;
}

static int parse_v3(cJSON *root, pz_meta *m, pz_err *e)
{
    const cJSON *shape, *dtype, *grid, *keys, *fill, *codecs;
    PZ_TRY(v3_node_type(root, e));
    PZ_TRY(check_keys(root, v3_keys, sizeof v3_keys / sizeof v3_keys[0], true,
                      e));
    PZ_TRY(need(root, "shape", &shape, e));
    PZ_TRY(parse_dims(shape, "shape", false, m->shape, &m->ndim, e));
    PZ_TRY(need(root, "data_type", &dtype, e));
    PZ_TRY(v3_data_type(dtype, m, e));
    PZ_TRY(need(root, "chunk_grid", &grid, e));
    PZ_TRY(v3_chunk_grid(grid, m, e));
    PZ_TRY(check_grid(m, e));
    PZ_TRY(need(root, "chunk_key_encoding", &keys, e));
    PZ_TRY(v3_key_encoding(keys, m, e));
    PZ_TRY(v3_storage_transformers(member(root, "storage_transformers"), e));
    PZ_TRY(need(root, "codecs", &codecs, e));
    int rc = v3_codecs(codecs, m, e);
    if (rc == PZARR_EUNSUPPORTED && m->opaque_ok)
        rc = keep_opaque(m, codecs, NULL, NULL, e);
    PZ_TRY(rc);
    PZ_TRY(check_unit_bytes(m, e));
    PZ_TRY(need(root, "fill_value", &fill, e));
    PZ_TRY(pz_fill_parse(fill, m->dtype, 3, m->fill, &m->fill_null, e));
    PZ_TRY(v3_dimension_names(member(root, "dimension_names"), m, e));
    return take_attributes(root, m, e);
}

/* ------------------------------------------------------------ v2 parse */

static const char *const v2_keys[] = {
    "zarr_format", "shape",   "chunks",  "dtype",
    "compressor",  "fill_value", "order", "filters",
    "dimension_separator", "attributes"};

static int v2_dtype(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (cJSON_IsArray(v))
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "structured \"dtype\" (a list of fields) is not "
                          "supported");
    if (!cJSON_IsString(v))
        return pz_err_set(e, PZARR_EMETA, "\"dtype\" must be a string");
    int rc = pz_dtype_from_v2(v->valuestring, &m->dtype, &m->v2_big_endian);
    if (rc == PZARR_EUNSUPPORTED)
        return pz_err_set(e, rc, "unsupported \"dtype\" \"%.64s\"",
                          v->valuestring);
    if (rc != 0)
        return pz_err_set(e, PZARR_EMETA,
                          "\"dtype\" \"%.64s\" is not a valid dtype string",
                          v->valuestring);
    m->itemsize = pz_dtype_slot(m->dtype);
    return 0;
}

/* "|O": the first filter says what the objects are. */
static int v2_object_kind(const cJSON *filters, pz_meta *m, pz_err *e)
{
    const cJSON *f = cJSON_IsArray(filters) ? filters->child : NULL;
    const cJSON *id = cJSON_IsObject(f) ? member(f, "id") : NULL;
    const char *nm = cJSON_IsString(id) ? id->valuestring : NULL;
    if (nm && strcmp(nm, "vlen-utf8") == 0)
        m->dtype = PZARR_VLEN_STRING;
    else if (nm && strcmp(nm, "vlen-bytes") == 0)
        m->dtype = PZARR_VLEN_BYTES;
    else if (nm)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported object array (\"dtype\": \"|O\") with filter \"%.40s\": "
                          "pzarr reads object arrays of vlen-utf8 and vlen-bytes",
                          nm);
    else
        return pz_err_set(e, PZARR_EMETA,
                          "object array (\"dtype\": \"|O\") without an object codec as its "
                          "first filter");
    m->itemsize = pz_dtype_slot(m->dtype);
    return 0;
}

static int v2_chunks(const cJSON *root, pz_meta *m, pz_err *e)
{
    const cJSON *v;
    int n;
    PZ_TRY(need(root, "chunks", &v, e));
    PZ_TRY(parse_dims(v, "chunks", true, m->chunks, &n, e));
    if (n != m->ndim)
        return pz_err_set(e, PZARR_EMETA,
                          "\"chunks\" has %d entries but \"shape\" has %d", n,
                          m->ndim);
    return 0;
}

static int v2_order(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || (strcmp(v->valuestring, "C") != 0 &&
                               strcmp(v->valuestring, "F") != 0))
        return pz_err_set(e, PZARR_EMETA, "\"order\" must be \"C\" or \"F\"");
    m->v2_order_f = v->valuestring[0] == 'F';
    return 0;
}

static int v2_attributes(cJSON *root, const char *attrs_doc, size_t attrs_len,
                         pz_meta *m, pz_err *e)
{
    if (!attrs_doc)
        return take_attributes(root, m, e);
    cJSON *a = NULL;
    PZ_TRY(json_parse(attrs_doc, attrs_len, " in .zattrs", &a, e));
    if (!cJSON_IsObject(a)) {
        cJSON_Delete(a);
        return pz_err_set(e, PZARR_EMETA, ".zattrs must hold a JSON object");
    }
    m->attributes = a;
    return 0;
}

/* Zarr v2 has no dimension names; xarray's convention, which netCDF and
 * GDAL follow, keeps them in the attribute "_ARRAY_DIMENSIONS" (a list of
 * ndim strings). One of another form is left as a plain attribute. */
static int v2_dimension_names(pz_meta *m, pz_err *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m->attributes, PZ_V2_DIMS_ATTR);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != m->ndim || m->ndim == 0)
        return 0;
    for (const cJSON *c = v->child; c; c = c->next)
        if (!cJSON_IsString(c))
            return 0;
    return v3_dimension_names(v, m, e);
}

static int parse_v2(cJSON *root, const char *attrs_doc, size_t attrs_len,
                    pz_meta *m, pz_err *e)
{
    const cJSON *shape, *dtype, *sep;
    PZ_TRY(check_keys(root, v2_keys, sizeof v2_keys / sizeof v2_keys[0], false,
                      e));
    PZ_TRY(need(root, "shape", &shape, e));
    PZ_TRY(parse_dims(shape, "shape", false, m->shape, &m->ndim, e));
    PZ_TRY(v2_chunks(root, m, e));
    PZ_TRY(need(root, "dtype", &dtype, e));
    PZ_TRY(v2_dtype(dtype, m, e));
    if (pz_dtype_is_vlen(m->dtype))
        PZ_TRY(v2_object_kind(member(root, "filters"), m, e));
    PZ_TRY(check_chunk_bytes(m, "chunks", e));
    PZ_TRY(check_grid(m, e));
    PZ_TRY(v2_order(member(root, "order"), m, e));
    m->key_v2_style = true;
    m->key_sep = '.';
    sep = member(root, "dimension_separator");
    if (sep && !cJSON_IsNull(sep))
        PZ_TRY(parse_separator(sep, "\"dimension_separator\"", &m->key_sep, e));
    PZ_TRY(pz_fill_parse(member(root, "fill_value"), m->dtype, 2, m->fill,
                         &m->fill_null, e));
    int rc = pz_pipeline_from_v2(member(root, "compressor"), member(root, "filters"),
                                 m->v2_order_f, m->v2_big_endian, m->ndim, m->dtype,
                                 &m->pipeline, e);
    if (rc == PZARR_EUNSUPPORTED && m->opaque_ok)
        rc = keep_opaque(m, NULL, member(root, "compressor"), member(root, "filters"), e);
    PZ_TRY(rc);
    PZ_TRY(v2_attributes(root, attrs_doc, attrs_len, m, e));
    return v2_dimension_names(m, e);
}

/* ------------------------------------------------------------ entry points */

static int zarr_format_of(const cJSON *root, int *fmt, pz_err *e)
{
    const cJSON *v;
    uint64_t u;
    PZ_TRY(need(root, "zarr_format", &v, e));
    if (json_u64(v, &u) != U64_OK)
        return pz_err_set(e, PZARR_EMETA, "\"zarr_format\" must be 2 or 3");
    if (u != 2 && u != 3)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"zarr_format\" %" PRIu64, u);
    *fmt = (int)u;
    return 0;
}

static int parse_root(int want, cJSON *root, const char *attrs_doc,
                      size_t attrs_len, pz_meta *m, pz_err *e)
{
    int fmt = 0;
    if (!cJSON_IsObject(root))
        return pz_err_set(e, PZARR_EMETA,
                          "the metadata document must be a JSON object");
    PZ_TRY(zarr_format_of(root, &fmt, e));
    if (want && fmt != want)
        return pz_err_set(e, PZARR_EMETA,
                          "\"zarr_format\" is %d in a Zarr v%d document "
                          "(%s)",
                          fmt, want, want == 3 ? "zarr.json" : ".zarray");
    m->zarr_format = fmt;
    if (fmt == 3)
        return parse_v3(root, m, e);
    return parse_v2(root, attrs_doc, attrs_len, m, e);
}

/*
 * The text of the number that is the value of the top-level member `key`
 * (cJSON keeps numbers only as doubles, which lose int64 digits).
 */
static bool raw_top_number(const char *doc, size_t len, const char *key, char *out,
                           size_t cap)
{
    size_t klen = strlen(key);
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = doc[i];
        if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            depth--;
        } else if (ch == '"') {
            size_t j = i + 1;
            while (j < len && doc[j] != '"')
                j += doc[j] == '\\' ? 2 : 1;
            if (j >= len)
                return false;
            bool hit = depth == 1 && j - i - 1 == klen && memcmp(doc + i + 1, key, klen) == 0;
            i = j;
            size_t k = j + 1;
            while (hit && k < len && is_json_space(doc[k]))
                k++;
            if (!hit || k >= len || doc[k] != ':')
                continue;
            k++;
            while (k < len && is_json_space(doc[k]))
                k++;
            size_t s0 = k;
            while (k < len && (isdigit((unsigned char)doc[k]) || strchr("+-.eE", doc[k])))
                k++;
            if (k == s0 || k - s0 >= cap)
                return false;
            memcpy(out, doc + s0, k - s0);
            out[k - s0] = '\0';
            return true;
        }
    }
    return false;
}

/* A 64-bit integer fill value past 2^53 is kept as its exact text. */
static void keep_exact_fill(cJSON *root, const char *doc, size_t len)
{
    cJSON *f = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "fill_value")
                                    : NULL;
    char text[64];
    if (!cJSON_IsNumber(f) || fabs(f->valuedouble) <= JSON_INT_MAX ||
        !raw_top_number(doc, len, "fill_value", text, sizeof text) ||
        text[strspn(text, "-0123456789")] != '\0')
        return;
    cJSON *raw = cJSON_CreateRaw(text);
    if (raw)
        cJSON_ReplaceItemInObjectCaseSensitive(root, "fill_value", raw);
}

static int parse_any(int want, const char *doc, size_t len,
                     const char *attrs_doc, size_t attrs_len, bool opaque_ok, pz_meta *m,
                     pz_err *e)
{
    cJSON *root = NULL;
    if (!m)
        return pz_err_set(e, PZARR_EINVAL, "no metadata to fill");
    memset(m, 0, sizeof *m);
    m->opaque_ok = opaque_ok;
    if (!doc)
        return pz_err_set(e, PZARR_EINVAL, "no metadata document");
    PZ_TRY(json_parse(doc, len, "", &root, e));
    keep_exact_fill(root, doc, len);
    int rc = parse_root(want, root, attrs_doc, attrs_len, m, e);
    cJSON_Delete(root);
    if (rc != 0)
        pz_meta_free(m);
    return rc;
}

int pz_meta_parse(const char *doc, size_t len, const char *attrs_doc,
                  size_t attrs_len, pz_meta *m, pz_err *e)
{
    return parse_any(0, doc, len, attrs_doc, attrs_len, false, m, e);
}

int pz_meta_parse_opts(int zarr_format, const char *doc, size_t len, const char *attrs_doc,
                       size_t attrs_len, bool opaque_ok, pz_meta *m, pz_err *e)
{
    if (zarr_format != 0 && zarr_format != 2 && zarr_format != 3)
        return pz_err_set(e, PZARR_EINVAL, "zarr_format %d is not 2 or 3", zarr_format);
    return parse_any(zarr_format, doc, len, attrs_doc, attrs_len, opaque_ok, m, e);
}

int pz_meta_parse_format(int zarr_format, const char *doc, size_t len,
                         const char *attrs_doc, size_t attrs_len, pz_meta *m,
                         pz_err *e)
{
    if (zarr_format != 2 && zarr_format != 3)
        return pz_err_set(e, PZARR_EINVAL, "zarr_format %d is not 2 or 3",
                          zarr_format);
    return parse_any(zarr_format, doc, len, attrs_doc, attrs_len, false, m, e);
}

/* ------------------------------------------------------------ emit */

/* Adds v to o under k; false (and v released) on failure or when v is NULL. */
static bool add(cJSON *o, const char *k, cJSON *v)
{
    if (!v)
        return false;
    if (!cJSON_AddItemToObject(o, k, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

static bool push(cJSON *a, cJSON *v)
{
    if (!v)
        return false;
    if (!cJSON_AddItemToArray(a, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

static cJSON *json_u64_raw(uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return cJSON_CreateRaw(buf);
}

static cJSON *dims_json(int ndim, const uint64_t *dims)
{
    cJSON *a = cJSON_CreateArray();
    for (int d = 0; a && d < ndim; d++) {
        if (!push(a, json_u64_raw(dims[d]))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* {"name": name, "configuration": {key: value}} */
static cJSON *named_json(const char *name, const char *key, cJSON *value)
{
    cJSON *cfg = cJSON_CreateObject();
    if (!cfg) {
        cJSON_Delete(value);
        return NULL;
    }
    if (!add(cfg, key, value)) {
        cJSON_Delete(cfg);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o || !add(o, "name", cJSON_CreateString(name))) {
        cJSON_Delete(cfg);
        cJSON_Delete(o);
        return NULL;
    }
    if (!add(o, "configuration", cfg)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static char sep_of(const pz_meta *m)
{
    if (m->key_sep == '/' || m->key_sep == '.')
        return m->key_sep;
    return m->key_v2_style ? '.' : '/';
}

static cJSON *key_encoding_json(const pz_meta *m)
{
    char sep[2] = {sep_of(m), '\0'};
    return named_json(m->key_v2_style ? "v2" : "default", "separator",
                      cJSON_CreateString(sep));
}

static cJSON *dimension_names_json(const pz_meta *m)
{
    cJSON *a = cJSON_CreateArray();
    for (int d = 0; a && d < m->ndim; d++) {
        const char *n = m->dimension_names[d];
        if (!push(a, n ? cJSON_CreateString(n) : cJSON_CreateNull())) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *attributes_json(const cJSON *attributes)
{
    return attributes ? cJSON_Duplicate(attributes, true) : cJSON_CreateObject();
}

cJSON *pz_meta_v3_data_type(pzarr_dtype t)
{
    if (pz_dtype_time_kind(t)) {
        cJSON *o = cJSON_CreateObject(), *c = cJSON_CreateObject();
        bool ok = o && c && add(o, "name", cJSON_CreateString(pzarr_dtype_name(t))) &&
                  add(c, "unit", cJSON_CreateString(pz_time_unit_name(pz_dtype_time_unit(t)))) &&
                  add(c, "scale_factor", cJSON_CreateNumber(pz_dtype_time_scale(t)));
        if (ok && add(o, "configuration", c))
            return o;
        cJSON_Delete(o);
        return NULL;
    }
    if (pz_dtype_string_kind(t) != 'U')
        return cJSON_CreateString(pzarr_dtype_name(t));
    return named_json("fixed_length_utf32", "length_bytes",
                      json_u64_raw(pzarr_dtype_size(t)));
}

static cJSON *emit_v3(const pz_meta *m)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add(o, "zarr_format", cJSON_CreateNumber(3)) &&
              add(o, "node_type", cJSON_CreateString("array")) &&
              add(o, "shape", dims_json(m->ndim, m->shape)) &&
              add(o, "data_type", pz_meta_v3_data_type(m->dtype)) &&
              add(o, "chunk_grid", named_json("regular", "chunk_shape",
                                              dims_json(m->ndim, m->chunks))) &&
              add(o, "chunk_key_encoding", key_encoding_json(m)) &&
              add(o, "fill_value",
                  pz_fill_emit(m->dtype, 3, m->fill, m->fill_null)) &&
              add(o, "codecs", m->opaque_codecs ? cJSON_Parse(m->opaque_codecs)
                                                : pz_codecs_emit_v3(&m->pipeline, &m->shard,
                                                                    m->ndim)) &&
              add(o, "attributes", attributes_json(m->attributes)) &&
              (!m->dimension_names ||
               add(o, "dimension_names", dimension_names_json(m))) &&
              add(o, "storage_transformers", cJSON_CreateArray());
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Keys sorted, as zarr-python 2 writes them. */
static cJSON *emit_v2(const pz_meta *m)
{
    char dtype[32], sep[2] = {sep_of(m), '\0'};
    pz_dtype_to_v2(m->dtype, m->v2_big_endian, dtype);
    cJSON *op = m->opaque_codecs ? cJSON_Parse(m->opaque_codecs) : NULL;
    cJSON *comp = op ? cJSON_DetachItemFromObjectCaseSensitive(op, "compressor")
                     : pz_pipeline_emit_v2_compressor(&m->pipeline);
    cJSON *filt = op ? cJSON_DetachItemFromObjectCaseSensitive(op, "filters")
                     : pz_pipeline_emit_v2_filters(&m->pipeline);
    cJSON_Delete(op);
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add(o, "chunks", dims_json(m->ndim, m->chunks)) &&
              add(o, "compressor", comp) &&
              add(o, "dimension_separator", cJSON_CreateString(sep)) &&
              add(o, "dtype", cJSON_CreateString(dtype)) &&
              add(o, "fill_value",
                  pz_fill_emit(m->dtype, 2, m->fill, m->fill_null)) &&
              add(o, "filters", filt) &&
              add(o, "order", cJSON_CreateString(m->v2_order_f ? "F" : "C")) &&
              add(o, "shape", dims_json(m->ndim, m->shape)) &&
              add(o, "zarr_format", cJSON_CreateNumber(2));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static char *print_json(cJSON *o)
{
    return pz_json_print_take(o, true);
}

char *pz_meta_emit(const pz_meta *m)
{
    if (!m || pz_dtype_slot(m->dtype) == 0)
        return NULL;
    return print_json(m->zarr_format == 2 ? emit_v2(m) : emit_v3(m));
}

char *pz_meta_emit_attrs(const pz_meta *m)
{
    return m ? print_json(attributes_json(m->attributes)) : NULL;
}

char *pz_group_emit(int zarr_format, const cJSON *attributes)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add(o, "zarr_format", cJSON_CreateNumber(zarr_format));
    if (ok && zarr_format == 3)
        ok = add(o, "node_type", cJSON_CreateString("group")) &&
             add(o, "attributes", attributes_json(attributes));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return print_json(o);
}

/* ------------------------------------------------------------ lifetime */

void pz_meta_free(pz_meta *m)
{
    if (!m)
        return;
    if (m->dimension_names) {
        for (int d = 0; d < m->ndim; d++)
            pz_free(m->dimension_names[d]);
        pz_free(m->dimension_names);
        m->dimension_names = NULL;
    }
    cJSON_Delete(m->attributes);
    m->attributes = NULL;
    pz_free(m->opaque_codecs);
    m->opaque_codecs = NULL;
}

int pz_meta_copy(const pz_meta *src, pz_meta *dst)
{
    *dst = *src;
    dst->dimension_names = NULL;
    dst->attributes = NULL;
    dst->opaque_codecs = NULL;
    if (src->opaque_codecs && !(dst->opaque_codecs = pz_strdup(src->opaque_codecs)))
        goto nomem;
    if (src->attributes &&
        !(dst->attributes = cJSON_Duplicate(src->attributes, true)))
        goto nomem;
    if (src->dimension_names) {
        dst->dimension_names = pz_calloc((size_t)src->ndim, sizeof(char *));
        if (!dst->dimension_names)
            goto nomem;
        for (int d = 0; d < src->ndim; d++) {
            const char *n = src->dimension_names[d];
            if (n && !(dst->dimension_names[d] = pz_strdup(n)))
                goto nomem;
        }
    }
    return 0;
nomem:
    pz_meta_free(dst);
    return PZARR_ENOMEM;
}

/* ------------------------------------------------------------ grid */

uint64_t pz_meta_grid_dim(const pz_meta *m, int d)
{
    if (m->shape[d] == 0 || m->chunks[d] == 0)
        return 0;
    return (m->shape[d] - 1) / m->chunks[d] + 1;
}

uint64_t pz_meta_nchunks(const pz_meta *m)
{
    uint64_t n = 1;
    for (int d = 0; d < m->ndim; d++)
        if (!pz_mul_u64(n, pz_meta_grid_dim(m, d), &n))
            return UINT64_MAX;
    return n;
}

int pz_meta_chunk_key(const pz_meta *m, const uint64_t *cc, char *out, size_t cap)
{
    if (!m)
        return PZARR_EINVAL;
    return pz_chunk_key(m->zarr_format == 3 && !m->key_v2_style, sep_of(m), m->ndim, cc, out,
                        cap);
}
