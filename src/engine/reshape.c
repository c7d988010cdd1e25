/*
 * A pending resize (resize.c changes the shape in memory) reaches storage
 * with the next flush, in the same commit as the writes made in between, so
 * that a killed append leaves the previous shape and data. What that flush
 * does for it (pz_resize_stage and the cut units, called by flush.c):
 * - units of the committed shape that lie wholly outside the new shape are
 *   removed (their file, or their shard when the whole shard is outside;
 *   inner chunks outside a shard that stays are dropped by its leader);
 * - units cut by a shrink keep only their part inside the smallest shape
 *   since the last commit ("kept"), the rest becoming fill, so that growing
 *   again never brings back old values; their owners merge them like
 *   written units;
 * - rank 0 puts the new metadata document into the commit record.
 */
#include "engine.h"

#include <string.h>

/* Whether unit ucc (of the committed unit grid) reaches past the kept
 * shape in a dimension that shrank: its old values there must go. */
bool pz_resize_cuts(const pzarr_array *a, const uint64_t *ucc)
{
    if (!a->resized)
        return false;
    for (int d = 0; d < a->m.ndim; d++)
        if (a->kshape[d] < a->cshape[d] && (ucc[d] + 1) * a->unit[d] > a->kshape[d])
            return true;
    return false;
}

/* Fills the part of a unit (at ucc, decoded) beyond the kept shape. */
void pz_resize_trim_unit(const pzarr_array *a, const uint64_t *ucc, unsigned char *chunk)
{
    int nd = a->m.ndim;
    for (int d = 0; d < nd; d++) {
        uint64_t u0 = ucc[d] * a->unit[d];
        if (!(a->kshape[d] < a->cshape[d]) || u0 + a->unit[d] <= a->kshape[d])
            continue;
        uint64_t start[PZ_MAX_NDIM] = {0}, count[PZ_MAX_NDIM];
        memcpy(count, a->unit, sizeof(uint64_t) * (size_t)nd);
        start[d] = a->kshape[d] > u0 ? a->kshape[d] - u0 : 0;
        count[d] = a->unit[d] - start[d];
        pz_fill_box(nd, a->m.itemsize, count, chunk, a->unit, start, a->m.fill);
    }
}

void pz_resize_mask(const pzarr_array *a, const uint64_t *start, const uint64_t *count,
                    void *buf)
{
    int nd = a->m.ndim;
    for (int d = 0; a->resized && d < nd; d++) {
        uint64_t end = start[d] + count[d];
        if (!(a->kshape[d] < a->cshape[d]) || end <= a->kshape[d])
            continue;
        uint64_t s0[PZ_MAX_NDIM] = {0}, n[PZ_MAX_NDIM];
        memcpy(n, count, sizeof(uint64_t) * (size_t)nd);
        s0[d] = a->kshape[d] > start[d] ? a->kshape[d] - start[d] : 0;
        n[d] = count[d] - s0[d];
        pz_fill_box(nd, a->m.itemsize, n, buf, count, s0, a->m.fill);
    }
}

/* Calls fn for every cell of `grid` outside the box [0, keep), each once:
 * the difference of the two boxes cut into at most ndim boxes, so that a
 * resize costs what it removes or trims, not the size of the array. */
static int for_each_outside(int nd, const uint64_t *grid, const uint64_t *keep,
                            int (*fn)(void *, const uint64_t *), void *ctx)
{
    for (int d = 0; d < nd; d++) {
        if (keep[d] >= grid[d])
            continue;
        uint64_t start[PZ_MAX_NDIM], count[PZ_MAX_NDIM], one[PZ_MAX_NDIM];
        for (int k = 0; k < nd; k++) {
            start[k] = k == d ? keep[d] : 0;
            count[k] = k < d ? (keep[k] < grid[k] ? keep[k] : grid[k]) : grid[k] - start[k];
            one[k] = 1;
        }
        pz_chunk_iter it;
        if (!pz_chunk_iter_init(&it, nd, one, start, count))
            continue;
        do
            PZ_TRY(fn(ctx, it.cc));
        while (pz_chunk_iter_next(&it));
    }
    return 0;
}

/* The unit grid and owner map of the committed shape. */
static int committed_grid(const pzarr_array *a, uint64_t *cgrid, pz_owner_map *om, pz_err *e)
{
    int nd = a->m.ndim, pdims[PZ_MAX_NDIM] = {0}, pref[PZ_MAX_NDIM] = {0};
    for (int d = 0; d < nd; d++)
        cgrid[d] = a->cshape[d] / a->unit[d] + (a->cshape[d] % a->unit[d] != 0);
    if (!a->pdims_set) {
        pz_process_grid(a->s->size, nd, pref);
        pz_owner_fit_dims(a->s->size, nd, cgrid, pref, pdims);
    }
    return pz_owner_init(om, a->policy, a->s->size, nd, cgrid,
                         a->pdims_set ? a->pdims : pdims, e);
}

static bool outside_shape(const pzarr_array *a, const uint64_t *lo)
{
    for (int d = 0; d < a->m.ndim; d++)
        if (lo[d] >= a->m.shape[d])
            return true;
    return false;
}

typedef struct rm_ctx {
    pzarr_array *a;
    pz_commit *c;
    pz_owner_map om;
    pz_err *e;
} rm_ctx;

static int remove_file(void *p, const uint64_t *fcc)
{
    rm_ctx *x = p;
    pzarr_array *a = x->a;
    uint64_t first[PZ_MAX_NDIM];
    for (int d = 0; d < a->m.ndim; d++)
        first[d] = fcc[d] * a->per[d];
    if (pz_owner_of(&x->om, first) != a->s->rank)
        return 0;
    char key[PZ_KEY_MAX], *path = NULL;
    PZ_TRY(pz_array_chunk_path(a, fcc, key, sizeof key, &path, x->e));
    int rc = pz_commit_stage_remove(a, x->c, path, x->e);
    pz_free(path);
    return rc;
}

/* Stages the removal of every file wholly outside the new shape: chunk
 * files, or shards, each by the owner of its first unit in the committed
 * grid. */
static int stage_removals(pzarr_array *a, pz_commit *c, pz_err *e)
{
    int nd = a->m.ndim;
    uint64_t cgrid[PZ_MAX_NDIM], files[PZ_MAX_NDIM], keep[PZ_MAX_NDIM];
    rm_ctx x = {a, c, {0}, e};
    PZ_TRY(committed_grid(a, cgrid, &x.om, e));
    for (int d = 0; d < nd; d++) {
        files[d] = a->cshape[d] / a->m.chunks[d] + (a->cshape[d] % a->m.chunks[d] != 0);
        keep[d] = a->m.shape[d] / a->m.chunks[d] + (a->m.shape[d] % a->m.chunks[d] != 0);
    }
    return for_each_outside(nd, files, keep, remove_file, &x);
}

typedef struct cut_ctx {
    pzarr_array *a;
    uint64_t *units;
    size_t n, cap;
    pz_err *e;
} cut_ctx;

static int add_cut(void *p, const uint64_t *ucc)
{
    cut_ctx *x = p;
    pzarr_array *a = x->a;
    uint64_t lo[PZ_MAX_NDIM];
    for (int d = 0; d < a->m.ndim; d++)
        lo[d] = ucc[d] * a->unit[d];
    if (outside_shape(a, lo) || pz_owner_of(&a->om, ucc) != a->s->rank)
        return 0;
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        uint64_t *v = pz_realloc(x->units, cap * sizeof *v);
        if (!v)
            return pz_err_set(x->e, PZARR_ENOMEM, "out of memory in resize");
        x->units = v;
        x->cap = cap;
    }
    x->units[x->n++] = pz_linear(a->m.ndim, a->grid, ucc);
    return 0;
}

int pz_resize_cut_units(pzarr_array *a, uint64_t **units, size_t *n, pz_err *e)
{
    *units = NULL;
    *n = 0;
    if (!a->resized)
        return 0;
    int nd = a->m.ndim;
    uint64_t cgrid[PZ_MAX_NDIM], keep[PZ_MAX_NDIM];
    pz_owner_map om;
    PZ_TRY(committed_grid(a, cgrid, &om, e));
    /* Units reaching past the kept shape in a dimension that shrank. */
    for (int d = 0; d < nd; d++)
        keep[d] = a->kshape[d] < a->cshape[d] ? a->kshape[d] / a->unit[d] : cgrid[d];
    cut_ctx x = {a, NULL, 0, 0, e};
    int rc = for_each_outside(nd, cgrid, keep, add_cut, &x);
    if (rc) {
        pz_free(x.units);
        return rc;
    }
    *units = x.units;
    *n = x.n;
    return 0;
}

/* Rank 0: attributes may have changed on disk since the array was opened
 * (pzarr_attrs_set); the new document keeps the stored ones. */
static int refresh_attrs(pzarr_array *a, pz_err *e)
{
    pz_node_docs nd = {0};
    pz_meta cur;
    memset(&cur, 0, sizeof cur);
    int rc = pz_node_probe(a->s, a->dir, &nd);
    if (rc)
        *e = a->s->err;
    else if (nd.kind != PZARR_NODE_ARRAY)
        rc = pz_err_set(e, PZARR_ENOENT, "array \"%s\" vanished during resize", a->name);
    else
        rc = pz_meta_parse_format(nd.format, (const char *)nd.doc.data, nd.doc.size,
                                  nd.attrs.size ? (const char *)nd.attrs.data : NULL,
                                  nd.attrs.size, &cur, e);
    if (rc == 0) {
        cJSON_Delete(a->m.attributes);
        a->m.attributes = cur.attributes;
        cur.attributes = NULL;
    }
    pz_meta_free(&cur);
    pz_node_docs_free(&nd);
    return rc;
}

int pz_resize_stage(pzarr_array *a, pz_commit *c, pz_err *e)
{
    if (!a->resized)
        return 0;
    PZ_TRY(stage_removals(a, c, e));
    if (a->s->rank != 0)
        return 0;
    PZ_TRY(refresh_attrs(a, e));
    char *doc = pz_meta_emit(&a->m);
    const char *name = a->m.zarr_format == 3 ? "zarr.json" : ".zarray";
    int rc = doc ? pz_commit_set_documents(c, &name, (const char *const *)&doc, 1, e)
                 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_free(doc);
    return rc;
}

void pz_resize_committed(pzarr_array *a)
{
    a->resized = false;
    memcpy(a->cshape, a->m.shape, sizeof a->cshape);
    memcpy(a->kshape, a->m.shape, sizeof a->kshape);
}
