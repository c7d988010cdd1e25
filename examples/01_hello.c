/*
 * 01_hello: create an array, write it from every rank, read it back, and
 * attach attributes.
 *
 *   mpiexec -n 2 build/bin/01_hello /tmp/hello.zarr
 */
#include <pzarr.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call, msg)                                                   \
    do {                                                                   \
        int rc_ = (call);                                                  \
        if (rc_ != 0) {                                                    \
            fprintf(stderr, "01_hello: %s: %s\n", pzarr_strerror(rc_), msg); \
            MPI_Abort(MPI_COMM_WORLD, 1);                                  \
        }                                                                  \
    } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *path = argc > 1 ? argv[1] : "hello.zarr";

    pzarr_store *store;
    CHECK(pzarr_open(MPI_COMM_WORLD, path, PZARR_CREATE, &store), pzarr_errmsg(store));
    /* The array described field by field: no JSON to write. */
    pzarr_spec spec = {.dtype = PZARR_FLOAT64, .ndim = 2, .shape = {64, 48},
                       .chunks = {16, 16}, .codec = "zstd:3", .fill = "nan",
                       .dims = {"y", "x"}};
    pzarr_array *a;
    CHECK(pzarr_array_create_spec(store, "temperature", &spec, &a), pzarr_errmsg(store));

    /* Each rank writes a slab of rows; the slabs need not follow chunks. */
    uint64_t rows = 64, cols = 48;
    uint64_t lo = rows * (uint64_t)rank / (uint64_t)size;
    uint64_t hi = rows * (uint64_t)(rank + 1) / (uint64_t)size;
    double *slab = malloc((hi - lo) * cols * sizeof *slab + 1);
    for (uint64_t i = lo; i < hi; i++)
        for (uint64_t j = 0; j < cols; j++)
            slab[(i - lo) * cols + j] = sin(0.1 * (double)i) * cos(0.1 * (double)j);
    uint64_t start[2] = {lo, 0}, count[2] = {hi - lo, cols};
    CHECK(pzarr_array_write(a, start, count, slab), pzarr_array_errmsg(a));
    CHECK(pzarr_array_flush(a), pzarr_array_errmsg(a)); /* now on storage */
    CHECK(pzarr_attrs_set(store, "temperature", "{\"units\": \"K\", \"step\": 0}"),
          pzarr_errmsg(store));

    /* Any rank can read any region once flushed. */
    double *all = malloc(rows * cols * sizeof *all);
    uint64_t zero[2] = {0, 0}, full[2] = {rows, cols};
    CHECK(pzarr_array_read(a, zero, full, all), pzarr_array_errmsg(a));
    double sum = 0;
    long bad = 0;
    for (uint64_t i = 0; i < rows; i++)
        for (uint64_t j = 0; j < cols; j++) {
            double want = sin(0.1 * (double)i) * cos(0.1 * (double)j);
            sum += all[i * cols + j];
            bad += all[i * cols + j] != want;
        }
    char *attrs;
    CHECK(pzarr_attrs_get(store, "temperature", &attrs), pzarr_errmsg(store));
    long badall = 0;
    MPI_Allreduce(&bad, &badall, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("01_hello: %d ranks wrote %s/temperature [64 x 48 float64]; "
               "read back: %s (sum %.6f); attributes %s\n",
               size, path, badall ? "MISMATCH" : "identical", sum, attrs);
    pzarr_free(attrs);
    free(slab);
    free(all);
    CHECK(pzarr_array_close(a), pzarr_errmsg(store));
    CHECK(pzarr_close(store), "close");
    MPI_Finalize();
    return badall ? 1 : 0;
}
