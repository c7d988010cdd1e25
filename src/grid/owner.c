/* The owner map: every chunk has one owner rank, computed locally from the
 * policy, the rank count and the chunk grid. */
#include "grid.h"

#include <string.h>

/* Factors n into ndim near-equal factors, largest first. Close to
 * MPI_Dims_create but not always equal (72 ranks in 2-D: 12x6, not 9x8):
 * the engine passes the dims MPI chose. */
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

/* A candidate process grid, judged by the most chunks a rank owns, then by
 * the longest side of a rank's block (blocks as cubic as the grid allows). */
typedef struct fit {
    int best[PZ_MAX_NDIM], cur[PZ_MAX_NDIM];
    uint64_t load, side;
    bool found;
    long budget; /* candidates left to look at */
} fit;

static void judge(fit *f, int ndim, const uint64_t *grid)
{
    uint64_t load = 1, side = 0;
    for (int d = 0; d < ndim; d++) {
        uint64_t n = grid[d] / (uint64_t)f->cur[d] + (grid[d] % (uint64_t)f->cur[d] != 0);
        load = n && load > UINT64_MAX / n ? UINT64_MAX : load * n; /* n is 0 for an empty dimension */
        side = n > side ? n : side;
    }
    if (!f->found || load < f->load || (load == f->load && side < f->side)) {
        memcpy(f->best, f->cur, sizeof f->best);
        f->load = load;
        f->side = side;
        f->found = true;
    }
}

/* Every way to spread `rest` ranks over dimensions d.. (a dimension of one
 * chunk gets one rank; no dimension gets more ranks than chunks unless it
 * must). */
static void search(fit *f, int ndim, const uint64_t *grid, int d, int rest)
{
    if (f->budget-- <= 0)
        return;
    if (d == ndim - 1 || d == ndim) {
        if (d == ndim - 1)
            f->cur[d] = rest;
        if (d == ndim && rest != 1)
            return;
        judge(f, ndim, grid);
        return;
    }
    if (grid[d] <= 1) {
        f->cur[d] = 1;
        search(f, ndim, grid, d + 1, rest);
        return;
    }
    for (int p = 1; p <= rest; p++) {
        if (rest % p)
            continue;
        f->cur[d] = p;
        search(f, ndim, grid, d + 1, rest / p);
    }
}

void pz_owner_fit_dims(int nranks, int ndim, const uint64_t *grid, const int *preferred,
                       int *dims)
{
    fit f = {.budget = 200000};
    /* The preferred shape (MPI_Dims_create's) first: it wins a tie, matching
     * the Cartesian decompositions simulations use. */
    if (preferred)
        memcpy(f.cur, preferred, sizeof(int) * (size_t)ndim);
    else
        dims_balanced(nranks, ndim, f.cur);
    judge(&f, ndim, grid);
    if (ndim > 0)
        search(&f, ndim, grid, 0, nranks);
    memcpy(dims, f.best, sizeof(int) * (size_t)ndim);
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
