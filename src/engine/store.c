/* Stores: open (rank 0 looks at the root, everyone learns), close, the
 * store's message and its I/O counters. */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

int pz_store_fail(pzarr_store *s, const pz_err *e)
{
    s->err = *e;
    return e->code;
}

int pz_store_end(pzarr_store *s, pz_outcome from, pz_err *e)
{
    pz_collective_end(s->comm, from, e);
    return pz_store_fail(s, e);
}

const char *pzarr_errmsg(const pzarr_store *s)
{
    return s ? s->err.msg : "no store handle";
}

MPI_Comm pzarr_comm(const pzarr_store *s) { return s->comm; }

static int make_info(MPI_Info user, MPI_Info *out)
{
    if (user == MPI_INFO_NULL)
        MPI_Info_create(out);
    else
        MPI_Info_dup(user, out);
    /* Chunk writes are contiguous; data sieving would read-modify-write
     * under an fcntl lock. pzarr takes no file locks. */
    MPI_Info_set(*out, "romio_ds_write", "disable");
    return 0;
}

/* Rank 0 part of pzarr_open. */
static int open_root(pzarr_store *s, pz_err *e)
{
    bool create = (s->flags & PZARR_CREATE) != 0;
    int fmt = (s->flags & PZARR_FORMAT_V2) ? 2 : 3;
    if (!pz_io_exists(s->root)) {
        s->stats.meta_reads++;
        if (!(s->flags & (PZARR_CREATE | PZARR_RDWR)))
            return pz_err_set(e, PZARR_ENOENT, "store %s does not exist", s->root);
        if (!create)
            return 0;
        PZ_TRY(pz_io_mkdirs(s->root, e));
    } else if (!pz_io_is_dir(s->root)) {
        return pz_err_set(e, PZARR_EIO, "store %s is not a directory", s->root);
    }
    pz_node_docs nd = {0};
    int rc = pz_node_probe(s, s->root, &nd);
    if (rc)
        *e = s->err;
    s->root_format = nd.format;
    if (rc == 0 && nd.kind == PZARR_NODE_NONE && create) {
        rc = pz_node_write_group(s, s->root, fmt, NULL, e);
        s->root_format = fmt;
    }
    pz_node_docs_free(&nd);
    return rc;
}

int pzarr_open_info(MPI_Comm comm, const char *path, int flags, MPI_Info info,
                    pzarr_store **out)
{
    if (!out)
        return PZARR_EINVAL;
    *out = NULL;
    pzarr_store *s = pz_calloc(1, sizeof *s);
    if (!s)
        return PZARR_ENOMEM;
    *out = s;
    s->comm = MPI_COMM_NULL;
    s->info = MPI_INFO_NULL;
    if (MPI_Comm_dup(comm, &s->comm) != MPI_SUCCESS)
        return pz_err_set(&s->err, PZARR_EMPI, "MPI_Comm_dup failed");
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s->comm, &s->rank);
    MPI_Comm_size(s->comm, &s->size);
    if (flags & PZARR_CREATE)
        flags |= PZARR_RDWR;
    s->flags = flags;
    make_info(info, &s->info);
    const char *cio = getenv("PZARR_CHUNK_IO");
    bool mpiio = info != MPI_INFO_NULL || (cio && strcmp(cio, "mpiio") == 0);
    if (cio && strcmp(cio, "posix") == 0)
        mpiio = false;
    s->chunk_info = mpiio ? s->info : MPI_INFO_NULL;
    pz_err e;
    pz_err_clear(&e);
    if (!path || !path[0])
        pz_err_set(&e, PZARR_EINVAL, "store path is empty");
    else if (!(s->root = pz_strdup(path)))
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    else {
        size_t n = strlen(s->root);
        while (n > 1 && s->root[n - 1] == '/')
            s->root[--n] = '\0';
    }
    int fmt = 0;
    if (e.code == 0 && s->rank == 0) {
        open_root(s, &e);
        fmt = s->root_format;
    }
    /* Rank 0's outcome and root format reach everyone. */
    if (pz_store_end(s, PZ_ROOT_IO, &e) == 0) {
        MPI_Bcast(&fmt, 1, MPI_INT, 0, s->comm);
        s->root_format = fmt;
    }
    return e.code;
}

int pzarr_open(MPI_Comm comm, const char *path, int flags, pzarr_store **out)
{
    return pzarr_open_info(comm, path, flags, MPI_INFO_NULL, out);
}

int pzarr_close(pzarr_store *s)
{
    if (!s)
        return 0;
    pz_err e;
    pz_err_clear(&e);
    if (s->open_arrays > 0)
        pz_err_set(&e, PZARR_EINVAL, "%d arrays are still open", s->open_arrays);
    int rc = e.code;
    if (s->comm != MPI_COMM_NULL) {
        rc = pz_store_end(s, PZ_ANY_RANK, &e);
        MPI_Comm_free(&s->comm);
    }
    if (s->info != MPI_INFO_NULL)
        MPI_Info_free(&s->info);
    pz_free(s->root);
    pz_free(s);
    return rc;
}

int pzarr_get_stats(const pzarr_store *s, pzarr_stats *out)
{
    if (!s || !out)
        return PZARR_EINVAL;
    *out = s->stats;
    return 0;
}

void pzarr_reset_stats(pzarr_store *s)
{
    if (s)
        memset(&s->stats, 0, sizeof s->stats);
}
