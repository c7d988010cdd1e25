/* pzarr_clean: after a killed writer, finish what it committed, then remove
 * what it never committed (recover.c does both). */
#include "engine.h"

int pzarr_clean(pzarr_store *s, const char *name, uint64_t *finished, uint64_t *removed)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    char canon[PZ_NAME_MAX];
    uint64_t counts[2] = {0, 0};
    pz_node_check_name(s, name, canon);
    pz_err e = s->err;
    if (e.code == 0 && !(s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", s->root);
    if (e.code == 0 && s->rank == 0) {
        char *dir = pz_node_dir(s, canon);
        if (!dir)
            pz_err_set(&e, PZARR_ENOMEM, "out of memory");
        else if (pz_recover_tree(s, dir, 0, &counts[0], &e) == 0)
            pz_remove_temps(s, dir, &counts[1], &e);
        pz_free(dir);
    }
    int rc = pz_store_end(s, PZ_ROOT_IO, &e);
    if (rc == 0)
        MPI_Bcast(counts, 2, MPI_UINT64_T, 0, s->comm);
    if (finished)
        *finished = counts[0];
    if (removed)
        *removed = counts[1];
    return rc;
}
