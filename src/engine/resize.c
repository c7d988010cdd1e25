/* pzarr_array_resize: flushes what is pending, then changes the shape in
 * memory; the next flush commits it (reshape.c). */
#include "engine.h"

#include <string.h>

int pzarr_array_resize(pzarr_array *a, const uint64_t *new_shape)
{
    if (!a)
        return PZARR_EINVAL;
    if (!pz_live_has(a))
        return PZARR_EINVAL;
    int rc = pzarr_array_flush(a);
    if (rc)
        return rc;
    pz_err e;
    pz_err_clear(&e);
    int nd = a->m.ndim;
    if (!(a->s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", a->s->root);
    else if (nd > 0 && !new_shape)
        pz_err_set(&e, PZARR_EINVAL, "resize: new shape is NULL");
    for (int d = 0; e.code == 0 && pz_dtype_is_vlen(a->m.dtype) && d < nd; d++)
        if (new_shape[d] < a->m.shape[d])
            pz_err_set(&e, PZARR_EUNSUPPORTED,
                       "resize: a %s array grows, it is not cut (dimension %d: %llu < %llu)",
                       pzarr_dtype_name(a->m.dtype), d, (unsigned long long)new_shape[d],
                       (unsigned long long)a->m.shape[d]);
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
    uint64_t old[PZ_MAX_NDIM];
    memcpy(old, a->m.shape, sizeof old);
    if (e.code == 0) {
        memcpy(a->m.shape, nm.shape, sizeof nm.shape);
        pz_array_derive(a, &e);
    }
    pz_meta_free(&nm);
    if (pz_collective_end(a->s->comm, PZ_ANY_RANK, &e) != 0) {
        memcpy(a->m.shape, old, sizeof old);
        pz_err de;
        pz_array_derive(a, &de);
    } else {
        a->resized = true;
        for (int d = 0; d < nd; d++)
            if (new_shape[d] < a->kshape[d])
                a->kshape[d] = new_shape[d];
    }
    a->err = e;
    return e.code;
}
