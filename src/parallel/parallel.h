/*
 * parallel: what ranks do together. Agreement on the outcome of a collective
 * call, broadcasts of rank 0's documents, the process grid, and the
 * one-sided exchange (a slot window and a dynamic data window) through which
 * flush, read_all and shard writing move directories and data.
 */
#ifndef PZ_PARALLEL_H
#define PZ_PARALLEL_H

#include "base/base.h"

#include <mpi.h>

/* ---------------------------------------------------------------- agreement (agree.c) */

/*
 * Collective agreement on an outcome: every rank passes its own error state;
 * all ranks return the code and message of the lowest failing rank (the
 * message prefixed by "rank R: " when there are several ranks). 0 if none
 * failed.
 */
int pz_agree(MPI_Comm comm, pz_err *e);
/* Rank 0's buffers and outcome reach every rank. Root passes its bufs,
 * others receive into theirs (reset first). */
int pz_bcast_bufs(MPI_Comm comm, int nbufs, pz_buf *bufs, pz_err *e);

/* The cores this rank has to itself (cores.c): the node's online cores
 * shared among its ranks, at most those the rank is bound to. Collective
 * (one split of comm by node). */
int pz_cores_per_rank(MPI_Comm comm);

/* pz_agree that also tells whether any rank passed flag (one allreduce). */
int pz_agree_flag(MPI_Comm comm, pz_err *e, bool flag, bool *any);

/* Where the outcome of a collective call comes from. */
typedef enum pz_outcome {
    PZ_ANY_RANK, /* every rank worked: the lowest failing rank's outcome wins */
    PZ_ROOT_IO   /* rank 0 did the I/O: its outcome first, as it is, then any
                    other rank's failure */
} pz_outcome;

/*
 * The one exit door of every collective public call: afterwards every rank
 * holds the same code and message in e, which is returned.
 */
int pz_collective_end(MPI_Comm comm, pz_outcome from, pz_err *e);

/* The largest of every rank's v. */
int pz_max_int(MPI_Comm comm, int v);
/* Whether any rank passes true. */
bool pz_any(MPI_Comm comm, bool v);
void pz_barrier(MPI_Comm comm);

/* The process grid of nranks in ndim dimensions MPI_Dims_create chooses. */
void pz_process_grid(int nranks, int ndim, int *dims);

/* ---------------------------------------------------------------- one-sided exchange (exchange.c) */

/*
 * Two windows over the handle's communicator: `slots` holds, per source
 * rank, a (count, address) pair that the source published for this rank;
 * `data` is dynamic, with the memory each rank exposes attached to it.
 * All traffic happens inside collective calls (weak progress here: a rank
 * busy outside MPI does not serve passive-target operations).
 */
typedef struct pz_xchg {
    MPI_Comm comm;
    int rank, size;
    bool created;
    bool local; /* one process: no windows; gets and puts are memcpy */
    uint64_t *slots; /* 2 per rank: count, address */
    MPI_Win win_slots;
    MPI_Win win_data;
} pz_xchg;

/* Collective. */
int pz_xchg_create(pz_xchg *x, MPI_Comm comm);
void pz_xchg_free(pz_xchg *x);
int pz_xchg_attach(pz_xchg *x, void *p, size_t n);
void pz_xchg_detach(pz_xchg *x, void *p);
/*
 * Collective, on the slot window: every rank puts (cnt[o], address of
 * base + off[o] * entry_bytes) into rank o's slot for it, for each o with
 * cnt[o] > 0 (nothing when !ok). Afterwards pz_xchg_count(x, src) and
 * pz_xchg_addr(x, src) tell what each source published for this rank.
 */
void pz_xchg_publish(pz_xchg *x, const uint64_t *cnt, const uint64_t *off, const void *base,
                     size_t entry_bytes, bool ok);
static inline uint64_t pz_xchg_count(const pz_xchg *x, int src) { return x->slots[2 * src]; }
static inline uint64_t pz_xchg_addr(const pz_xchg *x, int src) { return x->slots[2 * src + 1]; }
/* Sum of the counts published for this rank. */
uint64_t pz_xchg_total(const pz_xchg *x);
/* MPI_Get of n bytes at addr on rank src, in parts of at most 1 GiB. */
int pz_xchg_get(pz_xchg *x, void *dst, uint64_t n, int src, uint64_t addr);
/* MPI_Put of one uint64 to addr on rank dst. */
int pz_xchg_put_u64(pz_xchg *x, const uint64_t *v, int dst, uint64_t addr);
/* The address another rank uses to reach p in the data window. */
uint64_t pz_xchg_address(const void *p);
/* Passive-target epoch on the data window, around the fetches. */
void pz_xchg_lock_all(pz_xchg *x);
void pz_xchg_unlock_all(pz_xchg *x);
/* Completes this rank's outstanding operations (all targets, or one). */
void pz_xchg_flush(pz_xchg *x);
void pz_xchg_flush_one(pz_xchg *x, int target);
/* Makes data others put into this rank's memory visible to its loads. */
void pz_xchg_sync(pz_xchg *x);

#endif /* PZ_PARALLEL_H */
