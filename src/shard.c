/*
 * The sharding_indexed codec: metadata, the shard index, and reading inner
 * chunks out of shard files by byte range (the index first, then only the
 * inner chunks asked for).
 */
#include "pz_array.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PZ_EMPTY UINT64_MAX

uint64_t pz_shard_inner_count(const pz_meta *m)
{
    uint64_t n = 1;
    for (int d = 0; d < m->ndim; d++)
        n *= m->chunks[d] / m->shard.inner[d];
    return n;
}

uint64_t pz_shard_index_bytes(const pz_meta *m)
{
    return pz_shard_inner_count(m) * 16 + (m->shard.index_crc ? 4 : 0);
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

static int parse_inner_shape(const cJSON *cs, pz_meta *m, pz_err *e)
{
    if (!cJSON_IsArray(cs) || cJSON_GetArraySize(cs) != m->ndim)
        return pz_err_set(e, PZARR_EMETA,
                          "sharding_indexed: \"chunk_shape\" must be an array of %d "
                          "positive integers",
                          m->ndim);
    for (int d = 0; d < m->ndim; d++) {
        const cJSON *x = cJSON_GetArrayItem(cs, d);
        double v = cJSON_IsNumber(x) ? x->valuedouble : -1;
        if (v < 1 || v > 9007199254740992.0 || v != (double)(uint64_t)v)
            return pz_err_set(e, PZARR_EMETA,
                              "sharding_indexed: \"chunk_shape\"[%d] must be a positive "
                              "integer",
                              d);
        m->shard.inner[d] = (uint64_t)v;
        if (m->chunks[d] % m->shard.inner[d] != 0)
            return pz_err_set(e, PZARR_EMETA,
                              "sharding_indexed: inner \"chunk_shape\"[%d] = %llu does "
                              "not divide the shard shape %llu",
                              d, (unsigned long long)m->shard.inner[d],
                              (unsigned long long)m->chunks[d]);
    }
    return 0;
}

int pz_shard_parse(const cJSON *codec, pz_meta *m, pz_err *e)
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
    memset(&m->shard, 0, sizeof m->shard);
    PZ_TRY(parse_inner_shape(cfg_item(cfg, "chunk_shape"), m, e));
    const cJSON *codecs = cfg_item(cfg, "codecs");
    if (!cJSON_IsArray(codecs))
        return pz_err_set(e, PZARR_EMETA, "sharding_indexed: \"codecs\" must be an array");
    PZ_TRY(pz_pipeline_parse_v3(codecs, m->ndim, m->dtype, &m->pipeline, e));
    const cJSON *ic = cfg_item(cfg, "index_codecs");
    if (!ic)
        return pz_err_set(e, PZARR_EMETA, "sharding_indexed: missing \"index_codecs\"");
    PZ_TRY(parse_index_codecs(ic, &m->shard, e));
    const cJSON *loc = cfg_item(cfg, "index_location");
    if (loc && (!cJSON_IsString(loc) || (strcmp(loc->valuestring, "start") != 0 &&
                                         strcmp(loc->valuestring, "end") != 0)))
        return pz_err_set(e, PZARR_EMETA,
                          "sharding_indexed: \"index_location\" must be \"start\" or \"end\"");
    m->shard.index_at_start = loc && strcmp(loc->valuestring, "start") == 0;
    m->shard.on = true;
    uint64_t n = 1;
    for (int d = 0; d < m->ndim; d++)
        if (!pz_mul_u64(n, m->chunks[d] / m->shard.inner[d], &n) || n > (1ull << 40))
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "sharding_indexed: too many inner chunks per shard");
    return 0;
}

cJSON *pz_shard_emit(const pz_meta *m)
{
    const pz_shard_spec *sh = &m->shard;
    cJSON *o = cJSON_CreateObject(), *cfg = cJSON_CreateObject(), *cs = cJSON_CreateArray();
    cJSON *ic = cJSON_CreateArray(), *bytes = cJSON_CreateObject();
    cJSON *inner = pz_pipeline_emit_v3(&m->pipeline);
    if (!o || !cfg || !cs || !ic || !bytes || !inner) {
        cJSON_Delete(o);
        cJSON_Delete(cfg);
        cJSON_Delete(cs);
        cJSON_Delete(ic);
        cJSON_Delete(bytes);
        cJSON_Delete(inner);
        return NULL;
    }
    for (int d = 0; d < m->ndim; d++)
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

/*
 * Decodes and checks a shard index: the crc32c, every entry inside the data
 * part of the file, no two entries overlapping. entries gets 2*n values.
 */
int pz_shard_index_decode(const pz_meta *m, const unsigned char *raw, uint64_t file_size,
                          const char *key, uint64_t *entries, pz_err *e)
{
    uint64_t n = pz_shard_inner_count(m), ib = pz_shard_index_bytes(m);
    if (m->shard.index_crc) {
        uint32_t stored = (uint32_t)raw[16 * n] | (uint32_t)raw[16 * n + 1] << 8 |
                          (uint32_t)raw[16 * n + 2] << 16 | (uint32_t)raw[16 * n + 3] << 24;
        uint32_t got = pz_crc32c(raw, (size_t)(16 * n));
        if (stored != got)
            return pz_err_set(e, PZARR_ECORRUPT,
                              "shard %s: index crc32c mismatch (stored 0x%08x, computed "
                              "0x%08x)",
                              key, stored, got);
    }
    uint64_t lo = m->shard.index_at_start ? ib : 0;
    uint64_t hi = m->shard.index_at_start ? file_size : file_size - ib;
    span *sp = pz_malloc((size_t)n * sizeof *sp);
    if (!sp)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for a shard index");
    size_t used = 0;
    int rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++) {
        uint64_t off = get_u64(raw + 16 * i, m->shard.index_big);
        uint64_t len = get_u64(raw + 16 * i + 8, m->shard.index_big);
        entries[2 * i] = off;
        entries[2 * i + 1] = len;
        if (off == PZ_EMPTY && len == PZ_EMPTY)
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

void pz_shard_index_encode(const pz_meta *m, const uint64_t *entries, unsigned char *out)
{
    uint64_t n = pz_shard_inner_count(m);
    for (uint64_t i = 0; i < 2 * n; i++)
        put_u64(out + 8 * i, entries[i], m->shard.index_big);
    if (m->shard.index_crc) {
        uint32_t c = pz_crc32c(out, (size_t)(16 * n));
        for (int k = 0; k < 4; k++)
            out[16 * n + (uint64_t)k] = (unsigned char)(c >> (8 * k));
    }
}

/* Opens a shard and reads its index. *fh is MPI_FILE_NULL when absent. */
int pz_shard_open_index(pzarr_array *a, const char *path, const char *key, MPI_File *fh,
                        uint64_t *entries, uint64_t *file_size, pz_err *e)
{
    *fh = MPI_FILE_NULL;
    a->s->stats.chunk_reads++;
    if (MPI_File_open(MPI_COMM_SELF, path, MPI_MODE_RDONLY, a->s->info, fh) != MPI_SUCCESS) {
        *fh = MPI_FILE_NULL;
        return pz_io_exists(path)
                   ? pz_err_set(e, PZARR_EIO, "cannot open shard %s", path)
                   : 0;
    }
    MPI_File_set_errhandler(*fh, MPI_ERRORS_RETURN);
    MPI_Offset size = 0;
    MPI_File_get_size(*fh, &size);
    uint64_t ib = pz_shard_index_bytes(&a->m);
    *file_size = (uint64_t)size;
    if ((uint64_t)size < ib)
        return pz_err_set(e, PZARR_ECORRUPT,
                          "shard %s: %lld bytes cannot hold its %llu-byte index", key,
                          (long long)size, (unsigned long long)ib);
    unsigned char *raw = pz_malloc((size_t)ib);
    if (!raw)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for a shard index");
    MPI_Status st;
    int got = 0;
    MPI_Offset at = a->m.shard.index_at_start ? 0 : size - (MPI_Offset)ib;
    int rc = 0;
    if (ib > INT_MAX || MPI_File_read_at(*fh, at, raw, (int)ib, MPI_BYTE, &st) != MPI_SUCCESS)
        rc = pz_err_set(e, PZARR_EIO, "cannot read the index of shard %s", key);
    else if (MPI_Get_count(&st, MPI_BYTE, &got), (uint64_t)got != ib)
        rc = pz_err_set(e, PZARR_ECORRUPT, "shard %s: short index read", key);
    a->s->stats.bytes_read += ib;
    if (rc == 0)
        rc = pz_shard_index_decode(&a->m, raw, (uint64_t)size, key, entries, e);
    pz_free(raw);
    return rc;
}

/* ------------------------------------------------------------ unit reads */

typedef struct unit_ref {
    uint64_t shard, inner;
    size_t pos;
} unit_ref;

static int cmp_ref(const void *x, const void *y)
{
    const unit_ref *a = x, *b = y;
    if (a->shard != b->shard)
        return a->shard < b->shard ? -1 : 1;
    return a->inner < b->inner ? -1 : a->inner > b->inner;
}

static void unit_place(const pzarr_array *a, uint64_t unit, uint64_t *shard, uint64_t *inner)
{
    uint64_t ucc[PZ_MAX_NDIM], scc[PZ_MAX_NDIM], icc[PZ_MAX_NDIM];
    pz_unlinear(a->m.ndim, a->grid, unit, ucc);
    for (int d = 0; d < a->m.ndim; d++) {
        scc[d] = ucc[d] / a->per[d];
        icc[d] = ucc[d] % a->per[d];
    }
    *shard = pz_linear(a->m.ndim, a->sgrid, scc);
    *inner = pz_linear(a->m.ndim, a->per, icc);
}

/* Reads the inner chunks refs[0..n) of one shard with non-blocking reads. */
static int fetch_from_shard(pzarr_array *a, const unit_ref *refs, size_t n, uint64_t *entries,
                            pz_buf *bufs, bool *present, pz_err *e)
{
    uint64_t scc[PZ_MAX_NDIM];
    char key[256], *path = NULL;
    pz_unlinear(a->m.ndim, a->sgrid, refs[0].shard, scc);
    PZ_TRY(pz_array_chunk_path(a, scc, key, sizeof key, &path, e));
    MPI_File fh;
    uint64_t size = 0;
    int rc = pz_shard_open_index(a, path, key, &fh, entries, &size, e);
    pz_free(path);
    MPI_Request *req = pz_malloc(n * sizeof *req);
    if (!req && rc == 0)
        rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && req; i++)
        req[i] = MPI_REQUEST_NULL;
    for (size_t i = 0; rc == 0 && fh != MPI_FILE_NULL && i < n; i++) {
        uint64_t off = entries[2 * refs[i].inner], len = entries[2 * refs[i].inner + 1];
        if (off == PZ_EMPTY && len == PZ_EMPTY)
            continue;
        pz_buf *b = &bufs[refs[i].pos];
        if (len > INT_MAX || pz_buf_reserve(b, (size_t)len + 1) != 0) {
            rc = pz_err_set(e, PZARR_ENOMEM, "shard %s: cannot hold an inner chunk of %llu "
                            "bytes", key, (unsigned long long)len);
            break;
        }
        b->size = (size_t)len;
        present[refs[i].pos] = true;
        a->s->stats.bytes_read += len;
        if (len && MPI_File_iread_at(fh, (MPI_Offset)off, b->data, (int)len, MPI_BYTE,
                                     &req[i]) != MPI_SUCCESS)
            rc = pz_err_set(e, PZARR_EIO, "shard %s: read failed", key);
    }
    for (size_t i = 0; req && i < n; i++)
        if (MPI_Wait(&req[i], MPI_STATUS_IGNORE) != MPI_SUCCESS && rc == 0)
            rc = pz_err_set(e, PZARR_EIO, "shard %s: read failed", key);
    pz_free(req);
    if (fh != MPI_FILE_NULL)
        MPI_File_close(&fh);
    return rc;
}

int pz_array_fetch_units(pzarr_array *a, size_t n, const uint64_t *units, pz_buf *bufs,
                         bool *present, pz_err *e)
{
    for (size_t i = 0; i < n; i++) {
        present[i] = false;
        bufs[i].size = 0;
    }
    if (!a->m.shard.on) {
        char **paths = pz_calloc(n ? n : 1, sizeof *paths);
        int rc = paths ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
        for (size_t i = 0; rc == 0 && i < n; i++) {
            uint64_t cc[PZ_MAX_NDIM];
            char key[256];
            pz_unlinear(a->m.ndim, a->grid, units[i], cc);
            rc = pz_array_chunk_path(a, cc, key, sizeof key, &paths[i], e);
        }
        if (rc == 0)
            rc = pz_io_read_batch((int)n, (const char *const *)paths, a->s->chunk_info, bufs,
                                  present, &a->s->stats, e);
        for (size_t i = 0; paths && i < n; i++)
            pz_free(paths[i]);
        pz_free(paths);
        return rc;
    }
    unit_ref *refs = pz_malloc((n ? n : 1) * sizeof *refs);
    uint64_t *entries = pz_malloc((size_t)(2 * pz_shard_inner_count(&a->m)) * sizeof *entries);
    int rc = (!refs || !entries) ? pz_err_set(e, PZARR_ENOMEM, "out of memory") : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unit_place(a, units[i], &refs[i].shard, &refs[i].inner);
        refs[i].pos = i;
    }
    if (rc == 0 && n > 1)
        qsort(refs, n, sizeof *refs, cmp_ref);
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t j = i + 1;
        while (j < n && refs[j].shard == refs[i].shard)
            j++;
        rc = fetch_from_shard(a, refs + i, j - i, entries, bufs, present, e);
        i = j;
    }
    pz_free(refs);
    pz_free(entries);
    return rc;
}
