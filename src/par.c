/* Collective agreement, broadcasts and chunk ownership. */
#include "pz_core.h"

#include <stdio.h>
#include <string.h>

int pz_agree(MPI_Comm comm, pz_err *e)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (size == 1)
        return e->code;
    int mine = e->code ? rank : size, first = size;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS)
        return pz_err_set(e, PZARR_EMPI, "MPI_Allreduce failed while agreeing on an outcome");
    if (first == size)
        return 0;
    struct {
        int code;
        char msg[PZ_ERRMSG_MAX];
    } out;
    if (rank == first) {
        out.code = e->code;
        if (strncmp(e->msg, "rank ", 5) == 0)
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

/* Factors n into ndim near-equal factors, largest first (as MPI_Dims_create
 * does), without calling MPI so that it works for any ndim. */
static void dims_balanced(int n, int ndim, int *dims)
{
    for (int d = 0; d < ndim; d++)
        dims[d] = 1;
    if (ndim == 0)
        return;
    int rest = n;
    /* Distribute prime factors, biggest first, to the smallest dim. */
    int primes[64], np = 0;
    for (int p = 2; (long)p * p <= rest; p++)
        while (rest % p == 0 && np < 64) {
            primes[np++] = p;
            rest /= p;
        }
    if (rest > 1 && np < 64)
        primes[np++] = rest;
    for (int i = np - 1; i >= 0; i--) {
        int best = 0;
        for (int d = 1; d < ndim; d++)
            if (dims[d] < dims[best])
                best = d;
        dims[best] *= primes[i];
    }
    /* Non-increasing order, as MPI_Dims_create returns. */
    for (int i = 0; i < ndim; i++)
        for (int j = i + 1; j < ndim; j++)
            if (dims[j] > dims[i]) {
                int t = dims[i];
                dims[i] = dims[j];
                dims[j] = t;
            }
}

int pz_owner_init(pz_owner_map *om, pzarr_owner_policy policy, int nranks,
                  int ndim, const uint64_t *grid, const int *dims, pz_err *e)
{
    memset(om, 0, sizeof *om);
    om->policy = policy;
    om->nranks = nranks;
    om->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        om->grid[d] = grid[d];
    if (policy == PZARR_OWNER_ROUND_ROBIN)
        return 0;
    if (policy != PZARR_OWNER_BLOCK)
        return pz_err_set(e, PZARR_EINVAL, "unknown ownership policy %d", (int)policy);
    if (!dims) {
        if (ndim > 0 && MPI_Dims_create(nranks, ndim, om->pdims) != MPI_SUCCESS)
            dims_balanced(nranks, ndim, om->pdims);
        return 0;
    }
    long prod = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 1)
            return pz_err_set(e, PZARR_EINVAL, "process grid dimension %d is %d", d, dims[d]);
        prod *= dims[d];
        om->pdims[d] = dims[d];
    }
    if (ndim > 0 && prod != nranks)
        return pz_err_set(e, PZARR_EINVAL,
                          "process grid has %ld ranks, the communicator %d", prod, nranks);
    return 0;
}

int pz_owner_of(const pz_owner_map *om, const uint64_t *cc)
{
    if (om->nranks <= 1 || om->ndim == 0)
        return 0;
    if (om->policy == PZARR_OWNER_ROUND_ROBIN)
        return (int)(pz_linear(om->ndim, om->grid, cc) % (uint64_t)om->nranks);
    /* Block b of p over g chunks holds chunks [b*g/p, (b+1)*g/p): invert. */
    int rank = 0;
    for (int d = 0; d < om->ndim; d++) {
        uint64_t p = (uint64_t)om->pdims[d], g = om->grid[d];
        uint64_t b = g >= p ? (uint64_t)(((unsigned __int128)(cc[d] + 1) * p - 1) / g) : cc[d];
        if (b >= p)
            b = p - 1;
        rank = rank * om->pdims[d] + (int)b;
    }
    return rank;
}
