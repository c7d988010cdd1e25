/* Chunk iteration over a box, and linear (C order) indices of grid
 * coordinates. */
#include "grid.h"

#include <string.h>

/* The part of the box inside the current chunk, along dimension d. */
static void iter_place(pz_chunk_iter *it, int d)
{
    uint64_t c0 = it->cc[d] * it->chunks[d];
    uint64_t lo = it->start[d] > c0 ? it->start[d] : c0;
    uint64_t hi = it->start[d] + it->count[d];
    uint64_t cend = c0 > UINT64_MAX - it->chunks[d] ? UINT64_MAX : c0 + it->chunks[d];
    if (cend < hi)
        hi = cend;
    it->cstart[d] = lo - c0;
    it->bstart[d] = lo - it->start[d];
    it->n[d] = hi - lo;
}

bool pz_chunk_iter_init(pz_chunk_iter *it, int ndim, const uint64_t *chunks,
                        const uint64_t *start, const uint64_t *count)
{
    memset(it, 0, sizeof *it);
    it->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        it->chunks[d] = chunks[d];
        it->start[d] = start[d];
        it->count[d] = count[d];
        if (count[d] == 0) {
            it->done = true;
            return false;
        }
        it->first[d] = start[d] / chunks[d];
        it->last[d] = (start[d] + count[d] - 1) / chunks[d];
        it->cc[d] = it->first[d];
    }
    for (int d = 0; d < ndim; d++)
        iter_place(it, d);
    return true;
}

bool pz_chunk_iter_next(pz_chunk_iter *it)
{
    if (it->done)
        return false;
    for (int d = it->ndim - 1; d >= 0; d--) {
        if (it->cc[d] < it->last[d]) {
            it->cc[d]++;
            iter_place(it, d);
            return true;
        }
        it->cc[d] = it->first[d];
        iter_place(it, d);
    }
    it->done = true;
    return false;
}

uint64_t pz_chunk_iter_total(const pz_chunk_iter *it)
{
    uint64_t n = 1;
    for (int d = 0; d < it->ndim; d++) {
        if (it->count[d] == 0)
            return 0;
        n *= it->last[d] - it->first[d] + 1;
    }
    return n;
}

uint64_t pz_linear(int ndim, const uint64_t *dims, const uint64_t *coords)
{
    uint64_t idx = 0;
    for (int d = 0; d < ndim; d++)
        idx = idx * dims[d] + coords[d];
    return idx;
}

void pz_unlinear(int ndim, const uint64_t *dims, uint64_t idx,
                 uint64_t *coords)
{
    for (int d = ndim - 1; d >= 0; d--) {
        coords[d] = idx % dims[d];
        idx /= dims[d];
    }
}
