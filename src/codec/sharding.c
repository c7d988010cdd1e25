/*
 * sharding_indexed: its configuration (inner chunk shape, inner codecs, index
 * codecs and location), the outer "codecs" array that holds it, and the
 * shard index as pure code.
 */
#include "codec_impl.h"

#include <stdlib.h>
#include <string.h>

uint64_t pz_shard_index_bytes(const pz_shard_spec *sh)
{
    return sh->ninner * 16 + (sh->index_crc ? 4 : 0);
}

static const cJSON *cfg_item(const cJSON *cfg, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(cfg, k);
}

static const char *codec_name(const cJSON *c)
{
    const cJSON *n = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "name") : c;
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

/* index_codecs: "bytes" (uint64 entries), optionally then "crc32c". */
static int parse_index_codecs(const cJSON *v, pz_shard_spec *sh, pz_err *e)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1)
        return pz_err_set(e, PZARR_EMETA,
                          "sharding_indexed: \"index_codecs\" must be a non-empty array");
    int n = cJSON_GetArraySize(v);
    const cJSON *b = cJSON_GetArrayItem(v, 0);
    const char *bn = codec_name(b);
    if (!bn || strcmp(bn, "bytes") != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "sharding_indexed: index codec \"%.64s\" is not supported "
                          "(only bytes, then optionally crc32c)",
                          bn ? bn : "?");
    const cJSON *cfg = cJSON_IsObject(b) ? cfg_item(b, "configuration") : NULL;
    const cJSON *en = cfg ? cfg_item(cfg, "endian") : NULL;
    if (en && (!cJSON_IsString(en) || (strcmp(en->valuestring, "little") != 0 &&
                                       strcmp(en->valuestring, "big") != 0)))
        return pz_err_set(e, PZARR_EMETA,
                          "sharding_indexed: index codec \"bytes\": \"endian\" must be "
                          "\"little\" or \"big\"");
    sh->index_has_endian = en != NULL;
    sh->index_big = en && strcmp(en->valuestring, "big") == 0;
    if (n == 1)
        return 0;
    const char *cn = codec_name(cJSON_GetArrayItem(v, 1));
    if (n > 2 || !cn || strcmp(cn, "crc32c") != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "sharding_indexed: index codec \"%.64s\" is not supported "
                          "(only bytes, then optionally crc32c)",
                          cn ? cn : "?");
    sh->index_crc = true;
    return 0;
}

static int parse_inner_shape(const cJSON *cs, int ndim, const uint64_t *chunks,
                             pz_shard_spec *sh, pz_err *e)
{
    if (!cJSON_IsArray(cs) || cJSON_GetArraySize(cs) != ndim)
        return pz_err_set(e, PZARR_EMETA,
                          "sharding_indexed: \"chunk_shape\" must be an array of %d "
                          "positive integers",
                          ndim);
    for (int d = 0; d < ndim; d++) {
        const cJSON *x = cJSON_GetArrayItem(cs, d);
        double v = cJSON_IsNumber(x) ? x->valuedouble : -1;
        if (v < 1 || v > 9007199254740992.0 || v != (double)(uint64_t)v)
            return pz_err_set(e, PZARR_EMETA,
                              "sharding_indexed: \"chunk_shape\"[%d] must be a positive "
                              "integer",
                              d);
        sh->inner[d] = (uint64_t)v;
        if (chunks[d] % sh->inner[d] != 0)
            return pz_err_set(e, PZARR_EMETA,
                              "sharding_indexed: inner \"chunk_shape\"[%d] = %llu does "
                              "not divide the shard shape %llu",
                              d, (unsigned long long)sh->inner[d],
                              (unsigned long long)chunks[d]);
    }
    return 0;
}

static int parse_sharding(const cJSON *codec, int ndim, pzarr_dtype t, const uint64_t *chunks,
                          pz_pipeline *p, pz_shard_spec *sh, pz_err *e)
{
    const cJSON *cfg = cJSON_IsObject(codec) ? cfg_item(codec, "configuration") : NULL;
    if (!cJSON_IsObject(cfg))
        return pz_err_set(e, PZARR_EMETA,
                          "sharding_indexed: \"configuration\" must be an object");
    const cJSON *it;
    cJSON_ArrayForEach(it, cfg)
    {
        const char *k = it->string;
        if (strcmp(k, "chunk_shape") && strcmp(k, "codecs") && strcmp(k, "index_codecs") &&
            strcmp(k, "index_location"))
            return pz_err_set(e, PZARR_EMETA,
                              "sharding_indexed: unknown configuration field \"%.64s\"", k);
    }
    memset(sh, 0, sizeof *sh);
    PZ_TRY(parse_inner_shape(cfg_item(cfg, "chunk_shape"), ndim, chunks, sh, e));
    const cJSON *codecs = cfg_item(cfg, "codecs");
    if (!cJSON_IsArray(codecs))
        return pz_err_set(e, PZARR_EMETA, "sharding_indexed: \"codecs\" must be an array");
    PZ_TRY(pz_pipeline_parse_v3(codecs, ndim, t, p, e));
    const cJSON *ic = cfg_item(cfg, "index_codecs");
    if (!ic)
        return pz_err_set(e, PZARR_EMETA, "sharding_indexed: missing \"index_codecs\"");
    PZ_TRY(parse_index_codecs(ic, sh, e));
    const cJSON *loc = cfg_item(cfg, "index_location");
    if (loc && (!cJSON_IsString(loc) || (strcmp(loc->valuestring, "start") != 0 &&
                                         strcmp(loc->valuestring, "end") != 0)))
        return pz_err_set(e, PZARR_EMETA,
                          "sharding_indexed: \"index_location\" must be \"start\" or \"end\"");
    sh->index_at_start = loc && strcmp(loc->valuestring, "start") == 0;
    sh->on = true;
    uint64_t n = 1;
    for (int d = 0; d < ndim; d++)
        if (!pz_mul_u64(n, chunks[d] / sh->inner[d], &n) || n > (1ull << 40))
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "sharding_indexed: too many inner chunks per shard");
    sh->ninner = n;
    return 0;
}

static cJSON *emit_sharding(const pz_pipeline *p, const pz_shard_spec *sh, int ndim)
{
    cJSON *o = cJSON_CreateObject(), *cfg = cJSON_CreateObject(), *cs = cJSON_CreateArray();
    cJSON *ic = cJSON_CreateArray(), *bytes = cJSON_CreateObject();
    cJSON *inner = pz_pipeline_emit_v3(p);
    if (!o || !cfg || !cs || !ic || !bytes || !inner) {
        cJSON_Delete(o);
        cJSON_Delete(cfg);
        cJSON_Delete(cs);
        cJSON_Delete(ic);
        cJSON_Delete(bytes);
        cJSON_Delete(inner);
        return NULL;
    }
    for (int d = 0; d < ndim; d++)
        cJSON_AddItemToArray(cs, cJSON_CreateNumber((double)sh->inner[d]));
    cJSON_AddStringToObject(bytes, "name", "bytes");
    if (sh->index_has_endian) {
        cJSON *bc = cJSON_AddObjectToObject(bytes, "configuration");
        cJSON_AddStringToObject(bc, "endian", sh->index_big ? "big" : "little");
    }
    cJSON_AddItemToArray(ic, bytes);
    if (sh->index_crc) {
        cJSON *crc = cJSON_CreateObject();
        cJSON_AddStringToObject(crc, "name", "crc32c");
        cJSON_AddItemToArray(ic, crc);
    }
    cJSON_AddStringToObject(o, "name", "sharding_indexed");
    cJSON_AddItemToObject(cfg, "chunk_shape", cs);
    cJSON_AddItemToObject(cfg, "codecs", inner);
    cJSON_AddItemToObject(cfg, "index_codecs", ic);
    cJSON_AddStringToObject(cfg, "index_location", sh->index_at_start ? "start" : "end");
    cJSON_AddItemToObject(o, "configuration", cfg);
    return o;
}

/* ------------------------------------------------------------ index */

static uint64_t get_u64(const unsigned char *p, bool big)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[big ? 7 - i : i] << (8 * i);
    return v;
}

static void put_u64(unsigned char *p, uint64_t v, bool big)
{
    for (int i = 0; i < 8; i++)
        p[big ? 7 - i : i] = (unsigned char)(v >> (8 * i));
}

typedef struct span {
    uint64_t off, len;
} span;

static int cmp_span(const void *x, const void *y)
{
    const span *a = x, *b = y;
    return a->off < b->off ? -1 : a->off > b->off;
}

int pz_shard_index_decode(const pz_shard_spec *sh, const unsigned char *raw,
                          uint64_t file_size, const char *key, uint64_t *entries, pz_err *e)
{
    uint64_t n = sh->ninner, ib = pz_shard_index_bytes(sh);
    if (sh->index_crc) {
        uint32_t stored = (uint32_t)raw[16 * n] | (uint32_t)raw[16 * n + 1] << 8 |
                          (uint32_t)raw[16 * n + 2] << 16 | (uint32_t)raw[16 * n + 3] << 24;
        uint32_t got = pz_crc32c(raw, (size_t)(16 * n));
        if (stored != got)
            return pz_err_set(e, PZARR_ECORRUPT,
                              "shard %s: index crc32c mismatch (stored 0x%08x, computed "
                              "0x%08x)",
                              key, stored, got);
    }
    uint64_t lo = sh->index_at_start ? ib : 0;
    uint64_t hi = sh->index_at_start ? file_size : file_size - ib;
    span *sp = pz_malloc((size_t)n * sizeof *sp);
    if (!sp)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for a shard index");
    size_t used = 0;
    int rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        uint64_t off = get_u64(raw + 16 * i, sh->index_big);
        uint64_t len = get_u64(raw + 16 * i + 8, sh->index_big);
        entries[2 * i] = off;
        entries[2 * i + 1] = len;
        if (off == PZ_SHARD_EMPTY && len == PZ_SHARD_EMPTY)
            continue;
        if (off < lo || off > hi || len > hi - off)
            rc = pz_err_set(e, PZARR_ECORRUPT,
                            "shard %s: index entry %llu (offset %llu, %llu bytes) lies "
                            "outside the %llu bytes of data",
                            key, (unsigned long long)i, (unsigned long long)off,
                            (unsigned long long)len, (unsigned long long)(hi - lo));
        sp[used++] = (span){off, len};
    }
    if (rc == 0 && used > 1) {
        qsort(sp, used, sizeof *sp, cmp_span);
        for (size_t i = 1; i < used && rc == 0; i++)
            if (sp[i - 1].off + sp[i - 1].len > sp[i].off)
                rc = pz_err_set(e, PZARR_ECORRUPT,
                                "shard %s: index entries overlap at offset %llu", key,
                                (unsigned long long)sp[i].off);
    }
    pz_free(sp);
    return rc;
}

void pz_shard_index_encode(const pz_shard_spec *sh, const uint64_t *entries,
                           unsigned char *out)
{
    uint64_t n = sh->ninner;
    for (uint64_t i = 0; i < 2 * n; i++)
        put_u64(out + 8 * i, entries[i], sh->index_big);
    if (sh->index_crc) {
        uint32_t c = pz_crc32c(out, (size_t)(16 * n));
        for (int k = 0; k < 4; k++)
            out[16 * n + (uint64_t)k] = (unsigned char)(c >> (8 * k));
    }
}

static bool is_sharding(const cJSON *c)
{
    const cJSON *n = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "name") : c;
    return cJSON_IsString(n) && strcmp(n->valuestring, "sharding_indexed") == 0;
}

int pz_codecs_parse_v3(const cJSON *codecs, int ndim, pzarr_dtype t, const uint64_t *chunks,
                       pz_pipeline *p, pz_shard_spec *sh, pz_err *e)
{
    memset(sh, 0, sizeof *sh);
    if (!cJSON_IsArray(codecs))
        return pz_err_set(e, PZARR_EMETA, "\"codecs\" must be an array");
    const cJSON *c;
    int n = cJSON_GetArraySize(codecs), nshard = 0;
    cJSON_ArrayForEach(c, codecs) nshard += is_sharding(c);
    if (nshard == 1 && n == 1)
        return parse_sharding(cJSON_GetArrayItem(codecs, 0), ndim, t, chunks, p, sh, e);
    if (nshard > 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "codec \"sharding_indexed\" combined with other codecs in the "
                          "outer chain is not supported");
    return pz_pipeline_parse_v3(codecs, ndim, t, p, e);
}

cJSON *pz_codecs_emit_v3(const pz_pipeline *p, const pz_shard_spec *sh, int ndim)
{
    if (!sh->on)
        return pz_pipeline_emit_v3(p);
    cJSON *item = emit_sharding(p, sh, ndim);
    cJSON *a = item ? cJSON_CreateArray() : NULL;
    if (!a) {
        cJSON_Delete(item);
        return NULL;
    }
    cJSON_AddItemToArray(a, item);
    return a;
}
