/*
 * grid: shape and selection math. Boxes, chunk iteration, linear indices and
 * the owner map of a chunk grid. Pure and serial: no MPI, no I/O.
 */
#ifndef PZ_GRID_H
#define PZ_GRID_H

#include "base/base.h"

/* ---------------------------------------------------------------- boxes (box.c) */

/* Product of n[0..ndim), false on overflow. ndim 0 gives 1. */
bool pz_prod(int ndim, const uint64_t *n, uint64_t *out);
/* Whether the box (start, count) lies inside shape; false on overflow. */
bool pz_box_inside(int ndim, const uint64_t *shape, const uint64_t *start,
                   const uint64_t *count);
/*
 * Copies the box of size `count` from src (dense array of shape src_shape,
 * C order) at src_start to dst (shape dst_shape) at dst_start. Contiguous
 * innermost dimensions are merged into single memcpy calls.
 */
void pz_copy_box(int ndim, size_t itemsize, const uint64_t *count,
                 const void *src, const uint64_t *src_shape,
                 const uint64_t *src_start, void *dst,
                 const uint64_t *dst_shape, const uint64_t *dst_start);
/* The runs of pz_copy_box without copying: fn gets each run's byte offset
 * in src and in dst and its length, in order. */
typedef void pz_run_fn(void *ctx, uint64_t src_off, uint64_t dst_off, size_t len);
void pz_box_runs(int ndim, size_t itemsize, const uint64_t *count, const uint64_t *src_shape,
                 const uint64_t *src_start, const uint64_t *dst_shape,
                 const uint64_t *dst_start, pz_run_fn *fn, void *ctx);
/* Fills the box with a repeated element. */
void pz_fill_box(int ndim, size_t itemsize, const uint64_t *count, void *dst,
                 const uint64_t *dst_shape, const uint64_t *dst_start,
                 const void *elem);
/* Whether every element of buf[n] equals elem (bytewise). */
bool pz_all_equal(const void *buf, uint64_t n, size_t itemsize,
                  const void *elem);

/* ---------------------------------------------------------------- chunk iteration (iter.c) */

/*
 * Iterates the chunks that intersect the box (start, count) of an array
 * chunked by `chunks`. For each: the chunk's grid coordinates, the part of
 * the box inside it (in chunk-local coordinates: cstart, and in box
 * coordinates: bstart) and the size of that part (n).
 */
typedef struct pz_chunk_iter {
    int ndim;
    uint64_t chunks[PZ_MAX_NDIM];
    uint64_t start[PZ_MAX_NDIM], count[PZ_MAX_NDIM];
    uint64_t first[PZ_MAX_NDIM], last[PZ_MAX_NDIM]; /* chunk coord range */
    uint64_t cc[PZ_MAX_NDIM];                       /* current chunk */
    uint64_t cstart[PZ_MAX_NDIM], bstart[PZ_MAX_NDIM], n[PZ_MAX_NDIM];
    bool done;
} pz_chunk_iter;

/* Returns false (and it->done) when the box is empty. */
bool pz_chunk_iter_init(pz_chunk_iter *it, int ndim, const uint64_t *chunks,
                        const uint64_t *start, const uint64_t *count);
bool pz_chunk_iter_next(pz_chunk_iter *it);
/* Number of chunks the box touches (0 for an empty box). */
uint64_t pz_chunk_iter_total(const pz_chunk_iter *it);

/* Linear (C order) index of grid coordinates and back. */
uint64_t pz_linear(int ndim, const uint64_t *dims, const uint64_t *coords);
void pz_unlinear(int ndim, const uint64_t *dims, uint64_t idx,
                 uint64_t *coords);

/* ---------------------------------------------------------------- owner map (owner.c) */

/* Which rank owns each chunk of a grid: computed, never communicated. */
typedef struct pz_owner_map {
    pzarr_owner_policy policy;
    int nranks;
    int ndim;
    int pdims[PZ_MAX_NDIM];     /* process grid (block policy) */
    uint64_t grid[PZ_MAX_NDIM]; /* chunks per dimension */
} pz_owner_map;

/* dims: the process grid of the block policy (product nranks); NULL gives
 * near-equal factors, largest first (the engine passes MPI_Dims_create's). */
int pz_owner_init(pz_owner_map *om, pzarr_owner_policy policy, int nranks,
                  int ndim, const uint64_t *grid, const int *dims, pz_err *e);
int pz_owner_of(const pz_owner_map *om, const uint64_t *cc);
/*
 * The process grid (product nranks) that fits a chunk grid best: the fewest
 * chunks on the busiest rank, then the most cubic blocks; dimensions of one
 * chunk are not split. A decomposition aligned with the chunks (slab, 2-D,
 * 3-D) is found, so that its writers own what they write. `preferred` (or
 * NULL) wins a tie.
 */
void pz_owner_fit_dims(int nranks, int ndim, const uint64_t *grid, const int *preferred,
                       int *dims);

#endif /* PZ_GRID_H */
