/*
 * pzarr-slab-read: the C side of bench/python/py_read.py. Every rank reads
 * its slab along axis 0 of an existing array with pzarr_array_read_all into
 * page-aligned memory, REPS times, each after an empty read_all (a barrier
 * inside pzarr), and sums it (the reduction Python does with numpy).
 *
 *   mpiexec -n 2 pzarr-slab-read STORE ARRAY REPS [--json]
 *
 * Prints one JSON document (rank 0) in report.py's form: per case the
 * samples (the slowest rank's seconds of each rep), best, median, GB/s.
 */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#include <pzarr.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "--json") == 0)) {
        if (rank == 0)
            fprintf(stderr, "usage: pzarr-slab-read STORE ARRAY REPS\n");
        MPI_Finalize();
        return 2;
    }
    int reps = atoi(argv[3]);
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    if (pzarr_open(MPI_COMM_WORLD, argv[1], PZARR_RDONLY, &s) ||
        pzarr_array_open(s, argv[2], &a)) {
        fprintf(stderr, "pzarr-slab-read: %s\n", pzarr_errmsg(s));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    pzarr_array_info in;
    pzarr_array_get_info(a, &in);
    uint64_t st[PZARR_MAX_NDIM] = {0}, ct[PZARR_MAX_NDIM], zero[PZARR_MAX_NDIM] = {0};
    uint64_t n = 1;
    for (int d = 0; d < in.ndim; d++)
        ct[d] = in.shape[d];
    st[0] = in.shape[0] * (uint64_t)rank / (uint64_t)size;
    ct[0] = in.shape[0] * (uint64_t)(rank + 1) / (uint64_t)size - st[0];
    for (int d = 0; d < in.ndim; d++)
        n *= ct[d];
    size_t bytes = (size_t)n * in.itemsize;
    double *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, bytes ? bytes : 4096) != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    memset(buf, 0, bytes); /* pre-touched, as numpy's np.empty is after the first rep */
    /* per rep: the read_all alone, and read_all + the sum */
    double *t = calloc((size_t)reps, sizeof *t), *tr = calloc((size_t)reps, sizeof *tr);
    double total = 0;
    for (int r = 0; r < reps; r++) {
        pzarr_array_read_all(a, zero, zero, NULL); /* everyone arrives */
        double t0 = MPI_Wtime();
        if (pzarr_array_read_all(a, st, ct, buf) != 0) {
            fprintf(stderr, "pzarr-slab-read: %s\n", pzarr_array_errmsg(a));
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        double t1 = MPI_Wtime();
        double sum = 0;
        for (uint64_t i = 0; in.dtype == PZARR_FLOAT64 && i < n; i++)
            sum += buf[i];
        double mine[2] = {t1 - t0, MPI_Wtime() - t0}, most[2];
        MPI_Allreduce(&sum, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        MPI_Reduce(mine, most, 2, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        tr[r] = most[0];
        t[r] = most[1];
    }
    uint64_t all = 1;
    for (int d = 0; d < in.ndim; d++)
        all *= in.shape[d];
    if (rank == 0) { /* report.py's document: rows of samples, best, median, GB/s */
        double gb = (double)(all * in.itemsize) / 1e9;
        printf("{\"tool\": \"pzarr-slab-read\", \"pattern\": \"python-read\", \"ranks\": %d, "
               "\"title\": \"C API: read_all of each rank's slab\", \"metrics\": "
               "{\"bytes\": %llu, \"sum\": %.17g}, \"rows\": [",
               size, (unsigned long long)(all * in.itemsize), total);
        const char *names[2] = {"C read_all", "C read_all + sum"};
        double *sets[2] = {tr, t};
        for (int k = 0; k < 2; k++) {
            double *v = sets[k], best = v[0];
            double *sorted = malloc((size_t)reps * sizeof *sorted);
            memcpy(sorted, v, (size_t)reps * sizeof *v);
            for (int i = 1; i < reps; i++) /* insertion sort: a handful of samples */
                for (int j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) {
                    double x = sorted[j];
                    sorted[j] = sorted[j - 1];
                    sorted[j - 1] = x;
                }
            best = sorted[0];
            printf("%s{\"name\": \"%s\", \"best_s\": %.6f, \"median_s\": %.6f, "
                   "\"gbps\": %.4f, \"samples\": [",
                   k ? ", " : "", names[k], best, sorted[reps / 2], gb / best);
            for (int r = 0; r < reps; r++)
                printf("%s%.6f", r ? ", " : "", v[r]);
            printf("]}");
            free(sorted);
        }
        printf("]}\n");
    }
    free(t);
    free(tr);
    free(buf);
    pzarr_array_close(a);
    pzarr_close(s);
    MPI_Finalize();
    return 0;
}
