/*
 * Units: the chunk, or for a sharded array the inner chunk, that ownership,
 * merging and encoding work on. Geometry, names for messages, decoding, and
 * storing a plain chunk file.
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

int pz_array_derive(pzarr_array *a, pz_err *e)
{
    const pz_meta *m = &a->m;
    a->chunk_elems = 1;
    for (int d = 0; d < m->ndim; d++) {
        a->unit[d] = m->shard.on ? m->shard.inner[d] : m->chunks[d];
        a->per[d] = m->chunks[d] / a->unit[d];
        a->sgrid[d] = pz_meta_grid_dim(m, d);
        a->grid[d] = m->shape[d] / a->unit[d] + (m->shape[d] % a->unit[d] != 0);
        a->chunk_elems *= a->unit[d];
    }
    a->chunk_bytes = (size_t)(a->chunk_elems * m->itemsize);
    if (!pz_prod(m->ndim, a->grid, &a->nunits))
        return pz_err_set(e, PZARR_EUNSUPPORTED, "too many chunks");
    int pdims[PZ_MAX_NDIM] = {0}, pref[PZ_MAX_NDIM] = {0};
    if (!a->pdims_set) {
        pz_process_grid(a->s->size, m->ndim, pref);
        pz_owner_fit_dims(a->s->size, m->ndim, a->grid, pref, pdims);
    }
    return pz_owner_init(&a->om, a->policy, a->s->size, m->ndim, a->grid,
                         a->pdims_set ? a->pdims : pdims, e);
}


int pz_array_check_box(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                       const char *what, pz_err *e)
{
    int nd = a->m.ndim;
    if (nd > 0 && (!start || !count))
        return pz_err_set(e, PZARR_EINVAL, "%s: start and count are required", what);
    uint64_t elems, bytes;
    if (pz_box_inside(nd, a->m.shape, start, count)) {
        if (pz_prod(nd, count, &elems) && pz_mul_u64(elems, a->m.itemsize, &bytes) &&
            bytes <= SIZE_MAX)
            return 0;
        return pz_err_set(e, PZARR_EBOUNDS,
                          "%s: the size of the region of \"%s\" overflows (more bytes than memory can address)",
                          what, a->name);
    }
    char box[512] = "", shape[512] = "";
    size_t bo = 0, so = 0;
    for (int d = 0; d < nd && bo < 400 && so < 400; d++) {
        bo += (size_t)snprintf(box + bo, sizeof box - bo, "%s%llu:%llu", d ? "," : "",
                               (unsigned long long)start[d],
                               (unsigned long long)(start[d] + count[d]));
        so += (size_t)snprintf(shape + so, sizeof shape - so, "%s%llu", d ? "," : "",
                               (unsigned long long)a->m.shape[d]);
    }
    return pz_err_set(e, PZARR_EBOUNDS, "%s: region [%s] lies outside shape [%s] of \"%s\"",
                      what, box, shape, a->name);
}

int pz_array_chunk_path(pzarr_array *a, const uint64_t *cc, char *key,
                        size_t keycap, char **path, pz_err *e)
{
    if (pz_meta_chunk_key(&a->m, cc, key, keycap) != 0)
        return pz_err_set(e, PZARR_EINVAL, "chunk key too long");
    *path = pz_path_join(a->dir, key);
    return *path ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
}

void pz_array_chunk_extent(const pzarr_array *a, const uint64_t *cc, uint64_t *ext)
{
    for (int d = 0; d < a->m.ndim; d++) {
        uint64_t c0 = cc[d] * a->unit[d];
        uint64_t rest = a->m.shape[d] - c0;
        ext[d] = rest < a->unit[d] ? rest : a->unit[d];
    }
}

int pz_array_decode(pzarr_array *a, const char *key, const pz_buf *enc, void *out,
                    pz_err *e)
{
    pz_err inner;
    pz_err_clear(&inner);
    int rc = pz_chunk_decode(&a->m.pipeline, a->m.ndim, a->unit, a->m.dtype,
                             enc->data, enc->size, out, &inner);
    if (rc)
        return pz_err_set(e, rc, "\"%s\" chunk %s: %.900s", a->name, key, inner.msg);
    return 0;
}

void pz_array_unit_name(const pzarr_array *a, const uint64_t *ucc, char *out, size_t cap)
{
    uint64_t scc[PZ_MAX_NDIM];
    for (int d = 0; d < a->m.ndim; d++)
        scc[d] = ucc[d] / a->per[d];
    if (pz_meta_chunk_key(&a->m, scc, out, cap) != 0)
        snprintf(out, cap, "?");
    if (!a->m.shard.on)
        return;
    size_t o = strlen(out);
    o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " inner chunk (");
    for (int d = 0; d < a->m.ndim && o < cap; d++)
        o += (size_t)snprintf(out + o, cap - o, "%s%llu", d ? "," : "",
                              (unsigned long long)(ucc[d] % a->per[d]));
    if (o < cap)
        snprintf(out + o, cap - o, ")");
}


bool pz_array_identity(const pzarr_array *a)
{
    return pz_pipeline_is_identity(&a->m.pipeline, a->m.itemsize);
}

int pz_array_chunk_parent(pzarr_array *a, const char *path, pz_err *e)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    if (len == 0 || (a->mkdir_cache && strlen(a->mkdir_cache) == len &&
                     memcmp(a->mkdir_cache, path, len) == 0))
        return 0;
    char *dir = pz_malloc(len + 1);
    if (!dir)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    memcpy(dir, path, len);
    dir[len] = '\0';
    int rc = pz_io_mkdirs(dir, e);
    pz_free(a->mkdir_cache);
    a->mkdir_cache = rc == 0 ? dir : NULL;
    if (rc)
        pz_free(dir);
    return rc;
}

/* Any NaN matches a NaN fill, as in zarr-python. */
bool pz_array_unit_is_fill(const pzarr_array *a, const unsigned char *chunk)
{
    const pz_meta *m = &a->m;
    if (m->fill_null)
        return false;
    size_t w = pz_dtype_component(m->dtype), ncomp = m->itemsize / w;
    bool nanfill = false;
    for (size_t k = 0; pz_dtype_is_float(m->dtype) && k < ncomp; k++)
        nanfill |= pz_float_is_nan(m->fill + k * w, w);
    if (!nanfill)
        return pz_all_equal(chunk, a->chunk_elems, m->itemsize, m->fill);
    for (uint64_t i = 0; i < a->chunk_elems * ncomp; i++) {
        const unsigned char *v = chunk + i * w, *f = m->fill + (i % ncomp) * w;
        if (memcmp(v, f, w) != 0 && !(pz_float_is_nan(f, w) && pz_float_is_nan(v, w)))
            return false;
    }
    return true;
}

bool pz_shard_fixed(const pzarr_array *a)
{
    return a->m.shard.on && pz_array_identity(a);
}

uint64_t pz_shard_slot(const pzarr_array *a, uint64_t inner)
{
    const pz_shard_spec *sh = &a->m.shard;
    return (sh->index_at_start ? pz_shard_index_bytes(sh) : 0) + inner * a->chunk_bytes;
}

void pz_shard_place(const pzarr_array *a, uint64_t unit, uint64_t *shard, uint64_t *inner)
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
