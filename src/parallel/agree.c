/* Agreement on outcomes, broadcasts of rank 0's documents, the process grid. */
#include "parallel.h"

#include <stdio.h>
#include <string.h>

/* The lowest failing rank's outcome reaches every rank; *any tells whether
 * some rank passed flag. One MPI_Allreduce of two ints when none failed. */
static int agree(MPI_Comm comm, pz_err *e, bool root_plain, bool flag, bool *any)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (any)
        *any = flag;
    if (size == 1)
        return e->code;
    int mine[2] = {e->code ? rank : size, flag ? -1 : 0}, got[2] = {size, 0};
    if (MPI_Allreduce(mine, got, 2, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        return pz_err_set(e, PZARR_EMPI, "MPI_Allreduce failed while agreeing on an outcome");
    if (any)
        *any = got[1] < 0;
    int first = got[0];
    if (first == size)
        return 0;
    struct {
        int code;
        char msg[PZ_ERRMSG_MAX];
    } out;
    if (rank == first) {
        out.code = e->code;
        if (strncmp(e->msg, "rank ", 5) == 0 || (root_plain && rank == 0))
            snprintf(out.msg, sizeof out.msg, "%s", e->msg);
        else
            snprintf(out.msg, sizeof out.msg, "rank %d: %.1000s", rank, e->msg);
    }
    MPI_Bcast(&out, (int)sizeof out, MPI_BYTE, first, comm);
    e->code = out.code;
    memcpy(e->msg, out.msg, sizeof e->msg);
    return e->code;
}

int pz_bcast_bufs(MPI_Comm comm, int nbufs, pz_buf *bufs, pz_err *e)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (size == 1)
        return e->code;
    /* Header: outcome code, message length, then each buffer's size. */
    uint64_t hdr[2 + 8];
    if (nbufs > 8)
        return pz_err_set(e, PZARR_EINVAL, "too many buffers to broadcast");
    if (rank == 0) {
        hdr[0] = (uint64_t)(int64_t)e->code;
        hdr[1] = e->code ? strlen(e->msg) : 0;
        for (int i = 0; i < nbufs; i++)
            hdr[2 + i] = e->code ? 0 : bufs[i].size;
    }
    MPI_Bcast(hdr, 2 + nbufs, MPI_UINT64_T, 0, comm);
    int code = (int)(int64_t)hdr[0];
    if (code) {
        MPI_Bcast(e->msg, (int)sizeof e->msg, MPI_CHAR, 0, comm);
        e->code = code;
        return code;
    }
    /* Receivers allocate; an allocation failure is agreed on afterwards. */
    pz_err local;
    pz_err_clear(&local);
    for (int i = 0; i < nbufs; i++) {
        if (rank != 0)
            bufs[i].size = 0;
        {
            if (pz_buf_reserve(&bufs[i], hdr[2 + i] + 1) != 0)
                pz_err_set(&local, PZARR_ENOMEM, "out of memory receiving metadata");
        }
    }
    if (pz_agree(comm, &local) != 0) {
        *e = local;
        return e->code;
    }
    for (int i = 0; i < nbufs; i++) {
        uint64_t n = hdr[2 + i];
        for (uint64_t off = 0; off < n;) {
            int part = n - off > (1u << 30) ? (1 << 30) : (int)(n - off);
            MPI_Bcast(bufs[i].data + off, part, MPI_BYTE, 0, comm);
            off += (uint64_t)part;
        }
        bufs[i].size = (size_t)n;
        bufs[i].data[n] = '\0';
    }
    return 0;
}

int pz_agree(MPI_Comm comm, pz_err *e)
{
    return agree(comm, e, false, false, NULL);
}

int pz_agree_flag(MPI_Comm comm, pz_err *e, bool flag, bool *any)
{
    return agree(comm, e, false, flag, any);
}

/* One MPI_Allreduce when all went well; rank 0's own failure, being the
 * lowest, wins as it is in PZ_ROOT_IO. */
int pz_collective_end(MPI_Comm comm, pz_outcome from, pz_err *e)
{
    return agree(comm, e, from == PZ_ROOT_IO, false, NULL);
}

void pz_process_grid(int nranks, int ndim, int *dims)
{
    for (int d = 0; d < ndim; d++)
        dims[d] = 0;
    if (ndim > 0 && MPI_Dims_create(nranks, ndim, dims) != MPI_SUCCESS)
        for (int d = 0; d < ndim; d++)
            dims[d] = d == 0 ? nranks : 1;
}

int pz_max_int(MPI_Comm comm, int v)
{
    int out = v;
    MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, comm);
    return out;
}

bool pz_any(MPI_Comm comm, bool v)
{
    return pz_max_int(comm, v ? 1 : 0) != 0;
}

void pz_barrier(MPI_Comm comm) { MPI_Barrier(comm); }
