/*
 * 05_dataset: a small simulation output that xarray, netCDF and GDAL open
 * as it is: a Zarr v2 store with consolidated metadata, coordinates time,
 * y and x, and variables temp(time, y, x), pres(time) and mask(y, x), all
 * described with pzarr_spec (no JSON by hand). Each rank writes its rows of
 * every time step; rank 0 writes the coordinates.
 *
 *   mpiexec -n 2 build/bin/05_dataset /tmp/run.zarr
 *   python3 -c "import xarray as xr; print(xr.open_zarr('/tmp/run.zarr'))"
 */
#include <pzarr.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call, msg)                                                          \
    do {                                                                          \
        int rc_ = (call);                                                         \
        if (rc_ != 0) {                                                           \
            fprintf(stderr, "05_dataset: %s: %s\n", pzarr_strerror(rc_), msg);    \
            MPI_Abort(MPI_COMM_WORLD, 1);                                         \
        }                                                                         \
    } while (0)

enum { NT = 4, NY = 6, NX = 8 };

/* The values every reader must see (the test compares them). */
static double temp_at(int t, int y, int x) { return 280.0 + t + 0.5 * y - 0.25 * x; }

static pzarr_array *make(pzarr_store *s, const char *name, pzarr_spec sp)
{
    pzarr_array *a;
    sp.zarr_format = 2;
    CHECK(pzarr_array_create_spec(s, name, &sp, &a), pzarr_errmsg(s));
    return a;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *path = argc > 1 ? argv[1] : "run.zarr";

    pzarr_store *s;
    CHECK(pzarr_open(MPI_COMM_WORLD, path, PZARR_CREATE | PZARR_FORMAT_V2, &s), pzarr_errmsg(s));
    CHECK(pzarr_attrs_update(s, "", "{\"title\": \"05_dataset\", \"Conventions\": \"CF-1.8\"}"),
          pzarr_errmsg(s));
    /* Float fill NaN: xarray hides values equal to the fill value. */
    pzarr_array *time = make(s, "time", (pzarr_spec){.dtype = PZARR_FLOAT64, .ndim = 1,
                                                     .shape = {NT}, .fill = "nan",
                                                     .dims = {"time"},
                                                     .attributes = "{\"units\": \"hours\"}"});
    pzarr_array *yc = make(s, "y", (pzarr_spec){.dtype = PZARR_FLOAT64, .ndim = 1, .shape = {NY},
                                                .fill = "nan", .dims = {"y"}});
    pzarr_array *xc = make(s, "x", (pzarr_spec){.dtype = PZARR_FLOAT64, .ndim = 1, .shape = {NX},
                                                .fill = "nan", .dims = {"x"}});
    pzarr_array *temp = make(s, "temp", (pzarr_spec){
        .dtype = PZARR_FLOAT32, .ndim = 3, .shape = {NT, NY, NX}, .chunks = {1, NY, NX},
        .codec = "blosc:lz4:5:shuffle", .fill = "nan", .dims = {"time", "y", "x"},
        .attributes = "{\"units\": \"K\", \"long_name\": \"air temperature\"}"});
    pzarr_array *pres = make(s, "pres", (pzarr_spec){.dtype = PZARR_FLOAT64, .ndim = 1,
                                                     .shape = {NT}, .codec = "zstd:3",
                                                     .fill = "nan", .dims = {"time"},
                                                     .attributes = "{\"units\": \"hPa\"}"});
    pzarr_array *mask = make(s, "mask", (pzarr_spec){.dtype = PZARR_UINT8, .ndim = 2,
                                                     .shape = {NY, NX}, .codec = "gzip:5",
                                                     .fill = "255", .dims = {"y", "x"}});

    /* Rows [lo, hi) of every field are this rank's. */
    int lo = NY * rank / size, hi = NY * (rank + 1) / size, ny = hi - lo;
    float *tb = malloc(sizeof *tb * (size_t)(NT * (ny ? ny : 1) * NX));
    unsigned char mb[NY * NX];
    for (int t = 0; t < NT; t++)
        for (int y = lo; y < hi; y++)
            for (int x = 0; x < NX; x++)
                tb[(t * ny + (y - lo)) * NX + x] = (float)temp_at(t, y, x);
    for (int y = lo; y < hi; y++)
        for (int x = 0; x < NX; x++)
            mb[(y - lo) * NX + x] = (unsigned char)((x + y) % 2);
    CHECK(pzarr_array_write(temp, (uint64_t[]){0, (uint64_t)lo, 0},
                            (uint64_t[]){NT, (uint64_t)ny, NX}, tb),
          pzarr_array_errmsg(temp));
    CHECK(pzarr_array_write(mask, (uint64_t[]){(uint64_t)lo, 0}, (uint64_t[]){(uint64_t)ny, NX},
                            mb),
          pzarr_array_errmsg(mask));
    if (rank == 0) {
        double tv[NT], pv[NT], yv[NY], xv[NX];
        for (int i = 0; i < NT; i++)
            tv[i] = 6.0 * i, pv[i] = 1000.0 - i;
        for (int i = 0; i < NY; i++)
            yv[i] = 10.0 * i;
        for (int i = 0; i < NX; i++)
            xv[i] = 5.0 * i;
        CHECK(pzarr_array_write(time, (uint64_t[]){0}, (uint64_t[]){NT}, tv), "time");
        CHECK(pzarr_array_write(pres, (uint64_t[]){0}, (uint64_t[]){NT}, pv), "pres");
        CHECK(pzarr_array_write(yc, (uint64_t[]){0}, (uint64_t[]){NY}, yv), "y");
        CHECK(pzarr_array_write(xc, (uint64_t[]){0}, (uint64_t[]){NX}, xv), "x");
    }
    free(tb);
    pzarr_array *all[] = {time, yc, xc, temp, pres, mask};
    for (int i = 0; i < 6; i++) /* close flushes: every array all or nothing */
        CHECK(pzarr_array_close(all[i]), pzarr_errmsg(s));
    CHECK(pzarr_close(s), "close");
    if (rank == 0)
        printf("05_dataset: %d ranks wrote %s: temp(time, y, x), pres(time), mask(y, x) "
               "on coordinates time, y, x; consolidated metadata for xarray\n",
               size, path);
    MPI_Finalize();
    return 0;
}
