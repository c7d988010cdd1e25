/*
 * 03_postprocess: reads the checkpoints written by 02_checkpoint in parallel
 * and prints the minimum, maximum and mean of every complete time step.
 *
 *   mpiexec -n 3 build/bin/03_postprocess /tmp/heat.zarr
 *
 * Each rank reads a slab of z-planes of each step with the collective
 * pzarr_array_read_all, which decodes every chunk once, on its owner rank,
 * whatever slabs the ranks ask for. Minimum and maximum are MPI reductions.
 * So that the mean does not depend on the rank count, each plane is summed
 * whole, on the rank that holds it; the per-plane sums meet in an MPI_SUM
 * (each entry has one contribution, the rest are zeros: exact) and rank 0
 * adds them in plane order.
 */
#include <pzarr.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call, msg)                                                         \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != 0) {                                                          \
            fprintf(stderr, "03_postprocess: %s: %s\n", pzarr_strerror(rc_), msg); \
            MPI_Abort(MPI_COMM_WORLD, 1);                                        \
        }                                                                        \
    } while (0)

/* Number of complete checkpoints: the length of the attribute "steps", whose
 * entries land in step[] (at most max). */
static size_t parse_steps(const char *json, long *step, size_t max)
{
    const char *p = strstr(json, "\"steps\"");
    p = p ? strchr(p, '[') : NULL;
    size_t count = 0;
    for (p = p ? p + 1 : NULL; p && count < max;) {
        while (*p == ' ' || *p == ',' || *p == '\n')
            p++;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        step[count++] = v;
        p = end;
    }
    return count;
}

typedef struct stats {
    double min, max, mean;
} stats;

/* Statistics of time slice t; the slab is planes [z0, z1) of every rank. */
static stats slice_stats(pzarr_array *a, const uint64_t *shape, uint64_t t,
                         uint64_t z0, uint64_t z1, double *slab, double *plane_sum)
{
    uint64_t ny = shape[2], nx = shape[3], nz = shape[1];
    uint64_t start[4] = {t, z0, 0, 0}, count[4] = {1, z1 - z0, ny, nx};
    CHECK(pzarr_array_read_all(a, start, count, slab), pzarr_array_errmsg(a));
    double lmin = INFINITY, lmax = -INFINITY;
    memset(plane_sum, 0, (size_t)nz * sizeof *plane_sum);
    for (uint64_t z = z0; z < z1; z++) {
        const double *p = slab + (size_t)((z - z0) * ny * nx);
        double s = 0.0;
        for (size_t i = 0; i < (size_t)(ny * nx); i++) {
            s += p[i];
            lmin = p[i] < lmin ? p[i] : lmin;
            lmax = p[i] > lmax ? p[i] : lmax;
        }
        plane_sum[z] = s;
    }
    stats r;
    MPI_Reduce(&lmin, &r.min, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
    MPI_Reduce(&lmax, &r.max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Reduce(rank ? plane_sum : MPI_IN_PLACE, rank ? NULL : plane_sum, (int)nz, MPI_DOUBLE,
               MPI_SUM, 0, MPI_COMM_WORLD);
    double total = 0.0;
    for (uint64_t z = 0; z < nz; z++)
        total += plane_sum[z];
    r.mean = total / (double)(nz * ny * nx);
    return r;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *path = argc > 1 ? argv[1] : "heat.zarr";

    pzarr_store *st;
    CHECK(pzarr_open(MPI_COMM_WORLD, path, PZARR_RDONLY, &st), pzarr_errmsg(st));
    pzarr_array *a;
    CHECK(pzarr_array_open(st, "heat", &a), pzarr_errmsg(st));
    pzarr_array_info info;
    CHECK(pzarr_array_get_info(a, &info), "info");
    if (info.ndim != 4 || info.dtype != PZARR_FLOAT64 || info.shape[1] > 100000 ||
        info.shape[2] * info.shape[3] > 100000000)
        CHECK(PZARR_EMETA, "\"heat\" is not a [t, z, y, x] float64 array of 02_checkpoint");
    char *attrs;
    CHECK(pzarr_attrs_get(st, "heat", &attrs), pzarr_errmsg(st));
    size_t max = (size_t)info.shape[0];
    long *step = malloc((max + 1) * sizeof *step);
    size_t nsteps = step ? parse_steps(attrs, step, max) : 0;
    pzarr_free(attrs);

    /* Slabs of whole planes; ranks beyond the plane count read nothing. */
    uint64_t nz = info.shape[1], plane = info.shape[2] * info.shape[3];
    uint64_t z0 = nz * (uint64_t)rank / (uint64_t)size;
    uint64_t z1 = nz * (uint64_t)(rank + 1) / (uint64_t)size;
    double *slab = malloc((size_t)((z1 - z0) * plane) * sizeof *slab + 1);
    double *plane_sum = malloc((size_t)nz * sizeof *plane_sum + 1);
    if (!step || !slab || !plane_sum)
        MPI_Abort(MPI_COMM_WORLD, 1);
    if (rank == 0)
        printf("03_postprocess: %s/heat [%llu x %llu x %llu x %llu] on %d ranks: "
               "%zu complete checkpoints\n",
               path, (unsigned long long)info.shape[0], (unsigned long long)info.shape[1],
               (unsigned long long)info.shape[2], (unsigned long long)info.shape[3], size, nsteps);
    for (size_t t = 0; t < nsteps; t++) {
        stats r = slice_stats(a, info.shape, t, z0, z1, slab, plane_sum);
        if (rank == 0)
            printf("t=%zu step %ld: min %.17g max %.17g mean %.17g\n", t, step[t], r.min,
                   r.max, r.mean);
    }
    free(step);
    free(slab);
    free(plane_sum);
    CHECK(pzarr_array_close(a), pzarr_errmsg(st));
    CHECK(pzarr_close(st), "close");
    MPI_Finalize();
    return 0;
}
