/* Resizing: chunks wholly outside the new shape are removed, chunks cut by
 * it are trimmed to the fill value, and the new document is written last. */
#include "engine.h"

#include <string.h>

/* Owner: the chunk at cc keeps its in-bounds part; the rest becomes fill, so
 * that growing again later never brings back old values. */
static int trim_chunk(pzarr_array *a, const uint64_t *cc, unsigned char *chunk, pz_buf *enc,
                      pz_err *e)
{
    char key[256], *path = NULL;
    PZ_TRY(pz_array_chunk_path(a, cc, key, sizeof key, &path, e));
    pz_buf raw = {0};
    bool present = false;
    const char *p = path;
    int rc = pz_io_read_batch(1, &p, a->s->chunk_info, &raw, &present, &a->s->stats, e);
    if (rc == 0 && present)
        rc = pz_array_decode(a, key, &raw, chunk, e);
    if (rc == 0 && present) {
        uint64_t ext[PZ_MAX_NDIM], zero[PZ_MAX_NDIM] = {0};
        pz_array_chunk_extent(a, cc, ext);
        /* Keep the in-bounds box, fill everything else. */
        unsigned char *keep = pz_malloc(a->chunk_bytes);
        if (!keep)
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
        else {
            pz_copy_box(a->m.ndim, a->m.itemsize, ext, chunk, a->unit, zero, keep, ext,
                        zero);
            pz_fill_box(a->m.ndim, a->m.itemsize, a->unit, chunk, a->unit, zero,
                        a->m.fill);
            pz_copy_box(a->m.ndim, a->m.itemsize, ext, keep, ext, zero, chunk, a->unit,
                        zero);
            pz_free(keep);
            rc = pz_array_store_chunk(a, cc, chunk, enc, e);
        }
    }
    pz_buf_free(&raw);
    pz_free(path);
    return rc;
}

/* Owner work of a resize, under the old owner map and the new shape. */
static int resize_chunks(pzarr_array *a, const uint64_t *old_shape, const uint64_t *old_grid,
                         pz_err *e)
{
    int nd = a->m.ndim;
    uint64_t total;
    if (!pz_prod(nd, old_grid, &total))
        return pz_err_set(e, PZARR_EINVAL, "chunk grid too large");
    unsigned char *chunk = pz_malloc(a->chunk_bytes);
    pz_buf enc = {0};
    int rc = chunk ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_owner_map old_om = a->om;
    for (uint64_t i = 0; rc == 0 && i < total; i++) {
        uint64_t cc[PZ_MAX_NDIM], first[PZ_MAX_NDIM];
        pz_unlinear(nd, old_grid, i, cc);
        for (int d = 0; d < nd; d++)
            first[d] = cc[d] * a->per[d];
        if (pz_owner_of(&old_om, first) != a->s->rank)
            continue;
        bool outside = false, trimmed = false;
        for (int d = 0; d < nd; d++) {
            uint64_t c0 = cc[d] * a->m.chunks[d];
            outside |= c0 >= a->m.shape[d];
            trimmed |= a->m.shape[d] < old_shape[d] && c0 + a->m.chunks[d] > a->m.shape[d];
        }
        if (outside) {
            char key[256], *path = NULL;
            bool removed;
            rc = pz_array_chunk_path(a, cc, key, sizeof key, &path, e);
            if (rc == 0)
                rc = pz_io_remove(path, &removed, e);
            a->s->stats.chunk_deletes += rc == 0 && removed;
            pz_free(path);
        } else if (trimmed && !a->m.shard.on) {
            rc = trim_chunk(a, cc, chunk, &enc, e);
        }
    }
    pz_free(chunk);
    pz_buf_free(&enc);
    return rc;
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

int pzarr_array_resize(pzarr_array *a, const uint64_t *new_shape)
{
    if (!a)
        return PZARR_EINVAL;
    int rc = pzarr_array_flush(a);
    if (rc)
        return rc;
    pz_err e;
    pz_err_clear(&e);
    int nd = a->m.ndim;
    uint64_t old_shape[PZ_MAX_NDIM], old_grid[PZ_MAX_NDIM];
    memcpy(old_shape, a->m.shape, sizeof old_shape);
    memcpy(old_grid, a->sgrid, sizeof old_grid);
    if (!(a->s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", a->s->root);
    else if (nd > 0 && !new_shape)
        pz_err_set(&e, PZARR_EINVAL, "resize: new shape is NULL");
    pz_meta nm;
    memset(&nm, 0, sizeof nm);
    if (e.code == 0 && pz_meta_copy(&a->m, &nm) != 0)
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    if (e.code == 0) {
        for (int d = 0; d < nd; d++)
            nm.shape[d] = new_shape[d];
        /* Validate the new shape the way a stored document would be. */
        char *doc = pz_meta_emit(&nm);
        pz_meta check;
        memset(&check, 0, sizeof check);
        if (!doc)
            pz_err_set(&e, PZARR_ENOMEM, "out of memory");
        else if (pz_meta_parse_format(nm.zarr_format, doc, strlen(doc), NULL, 0, &check, &e))
            e.code = e.code ? e.code : PZARR_EINVAL;
        pz_meta_free(&check);
        pz_free(doc);
    }
    if (e.code == 0) {
        memcpy(a->m.shape, nm.shape, sizeof nm.shape);
        resize_chunks(a, old_shape, old_grid, &e);
    }
    pz_meta_free(&nm);
    /* Data first; the document that describes it last, by rank 0. */
    pz_agree(a->s->comm, &e);
    if (e.code == 0 && a->s->rank == 0 && refresh_attrs(a, &e) == 0)
        pz_node_write_array(a->s, a->dir, &a->m, &e);
    pz_collective_end(a->s->comm, PZ_ROOT_IO, &e);
    if (e.code)
        memcpy(a->m.shape, old_shape, sizeof old_shape);
    pz_err de;
    pz_err_clear(&de);
    pz_array_derive(a, &de);
    if (e.code == 0 && de.code)
        e = de;
    a->err = e;
    return e.code;
}
