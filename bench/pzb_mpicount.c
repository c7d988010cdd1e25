/*
 * Counting this rank's MPI traffic from inside the benchmark: PMPI wrappers
 * that the executable exports (it is linked with ENABLE_EXPORTS), so that
 * libpzarr's calls land here first. Only while pzb_counting is set; the
 * library itself knows nothing of it.
 */
#include "pzb.h"

pzb_mpicount pzb_count;
int pzb_counting;

static uint64_t type_bytes(int count, MPI_Datatype t)
{
    int size = 0;
    PMPI_Type_size(t, &size);
    return (uint64_t)count * (uint64_t)size;
}

/* One-sided operations aimed at another rank of the window. */
static void rma(MPI_Win win, int target, int count, MPI_Datatype t)
{
    if (!pzb_counting)
        return;
    MPI_Group g;
    int me = -1;
    PMPI_Win_get_group(win, &g);
    PMPI_Group_rank(g, &me);
    PMPI_Group_free(&g);
    if (target == me)
        return;
    pzb_count.rma_ops++;
    pzb_count.rma_bytes += type_bytes(count, t);
}

int MPI_Put(const void *o, int oc, MPI_Datatype ot, int target, MPI_Aint td, int tc,
            MPI_Datatype tt, MPI_Win win)
{
    rma(win, target, oc, ot);
    return PMPI_Put(o, oc, ot, target, td, tc, tt, win);
}

int MPI_Get(void *o, int oc, MPI_Datatype ot, int target, MPI_Aint td, int tc,
            MPI_Datatype tt, MPI_Win win)
{
    rma(win, target, oc, ot);
    return PMPI_Get(o, oc, ot, target, td, tc, tt, win);
}

int MPI_Send(const void *b, int n, MPI_Datatype t, int dest, int tag, MPI_Comm comm)
{
    if (pzb_counting) {
        pzb_count.p2p_msgs++;
        pzb_count.p2p_bytes += type_bytes(n, t);
    }
    return PMPI_Send(b, n, t, dest, tag, comm);
}

int MPI_Isend(const void *b, int n, MPI_Datatype t, int dest, int tag, MPI_Comm comm,
              MPI_Request *r)
{
    if (pzb_counting) {
        pzb_count.p2p_msgs++;
        pzb_count.p2p_bytes += type_bytes(n, t);
    }
    return PMPI_Isend(b, n, t, dest, tag, comm, r);
}

#define COLL pzb_count.collectives += pzb_counting != 0

int MPI_Allreduce(const void *s, void *r, int n, MPI_Datatype t, MPI_Op op, MPI_Comm comm)
{
    COLL;
    return PMPI_Allreduce(s, r, n, t, op, comm);
}

int MPI_Bcast(void *b, int n, MPI_Datatype t, int root, MPI_Comm comm)
{
    COLL;
    return PMPI_Bcast(b, n, t, root, comm);
}

int MPI_Barrier(MPI_Comm comm)
{
    COLL;
    return PMPI_Barrier(comm);
}

int MPI_Win_fence(int assert, MPI_Win win)
{
    COLL;
    return PMPI_Win_fence(assert, win);
}

int MPI_Allgather(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt,
                  MPI_Comm comm)
{
    COLL;
    return PMPI_Allgather(s, sc, st, r, rc, rt, comm);
}

int MPI_Alltoall(const void *s, int sc, MPI_Datatype st, void *r, int rc, MPI_Datatype rt,
                 MPI_Comm comm)
{
    COLL;
    return PMPI_Alltoall(s, sc, st, r, rc, rt, comm);
}

int MPI_Alltoallv(const void *s, const int *sc, const int *sd, MPI_Datatype st, void *r,
                  const int *rc, const int *rd, MPI_Datatype rt, MPI_Comm comm)
{
    COLL;
    return PMPI_Alltoallv(s, sc, sd, st, r, rc, rd, rt, comm);
}
