/*
 * Written with 3 ranks, read back with 1, 2 and 4 ranks and by zarr-python.
 * A ctest fixture chain (see CMakeLists.txt):
 *   mpi_write_then_read_elsewhere write   (3 ranks) writes PZARR_TEST_TMP/readback/{v2,v3}
 *   mpi_write_then_read_elsewhere read    (1, 2, 4 ranks) compares both arrays with formulas
 *   mpi_write_then_read_elsewhere.py      (zarr-python 2.13) compares the v2 array
 * The formulas here and in mpi_write_then_read_elsewhere.py must stay the same.
 */
#include "pz_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { R = 41, C = 29 };

/* v2: float64, zlib, chunks 8x6, dimension separator ".". */
static double f2(uint64_t i, uint64_t j) { return (double)i * 0.5 + (double)j * 1000.0 + 0.25; }
/* v3: int64, zstd, chunks 10x7, default keys. */
static int64_t f3(uint64_t i, uint64_t j) { return (int64_t)(i * 100000 + j * 7) - 50; }

static const char *V2_META =
    "{\"zarr_format\":2,\"shape\":[41,29],\"chunks\":[8,6],\"dtype\":\"<f8\","
    "\"compressor\":{\"id\":\"zlib\",\"level\":1},\"fill_value\":0.0,\"order\":\"C\","
    "\"filters\":null,\"attributes\":{\"written_by\":\"mpi_write_then_read_elsewhere\",\"ranks\":3}}";

static const char *root(const char *sub)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/readback%s%s", PZARR_TEST_TMP, sub[0] ? "/" : "", sub);
    return buf;
}

/* Bands of 5 columns, band b written by rank b mod n, all rows; rank 0
 * first covers everything with junk that the bands overwrite. */
static void write_bands(pzarr_array *a, size_t esize, int v3)
{
    unsigned char *buf = malloc((size_t)R * C * esize);
    uint64_t z[2] = {0, 0}, all[2] = {R, C};
    int rc = 0;
    if (T_rank == 0) {
        for (size_t k = 0; k < (size_t)R * C; k++) {
            double dj = -1.0;
            int64_t ij = -1;
            memcpy(buf + k * esize, v3 ? (void *)&ij : (void *)&dj, esize);
        }
        rc = pzarr_array_write(a, z, all, buf);
    }
    for (uint64_t b = 0; b * 5 < C && rc == 0; b++) {
        if ((int)(b % (uint64_t)T_size) != T_rank)
            continue;
        uint64_t j0 = b * 5, w = C - j0 < 5 ? C - j0 : 5;
        for (uint64_t i = 0; i < R; i++)
            for (uint64_t j = 0; j < w; j++) {
                double dv = f2(i, j0 + j);
                int64_t iv = f3(i, j0 + j);
                memcpy(buf + (i * w + j) * esize, v3 ? (void *)&iv : (void *)&dv, esize);
            }
        uint64_t st[2] = {0, j0}, cnt[2] = {R, w};
        rc = pzarr_array_write(a, st, cnt, buf);
    }
    free(buf);
    T_OK(rc, pzarr_array_errmsg(a));
}

static void test_write(void **st)
{
    (void)st;
    if (T_rank == 0)
        t_rmtree(root(""));
    MPI_Barrier(MPI_COMM_WORLD);
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, root("v2"), PZARR_CREATE | PZARR_FORMAT_V2, &s),
         pzarr_errmsg(s));
    T_OK(pzarr_array_create(s, "arr", V2_META, &a), pzarr_errmsg(s));
    write_bands(a, 8, 0);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);

    uint64_t shape[2] = {R, C}, chunks[2] = {10, 7};
    T_OK(pzarr_open(MPI_COMM_WORLD, root("v3"), PZARR_CREATE, &s), pzarr_errmsg(s));
    T_OK(pzarr_array_create(s, "grp/arr",
                            t_meta3("int64", 2, shape, chunks, "0",
                                    ",{\"name\":\"zstd\",\"configuration\":{\"level\":3,"
                                    "\"checksum\":false}}"),
                            &a),
         pzarr_errmsg(s));
    write_bands(a, 8, 1);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

/* Every rank reads everything, and its own slab of rows separately. */
static int read_and_compare(pzarr_array *a, int v3)
{
    pzarr_array_info info;
    int ok = pzarr_array_get_info(a, &info) == 0 && info.zarr_format == (v3 ? 3 : 2) &&
             info.ndim == 2 && info.shape[0] == R && info.shape[1] == C &&
             info.chunks[0] == (v3 ? 10u : 8u) && info.chunks[1] == (v3 ? 7u : 6u) &&
             info.dtype == (v3 ? PZARR_INT64 : PZARR_FLOAT64);
    unsigned char *buf = malloc((size_t)R * C * 8);
    uint64_t lo = R * (uint64_t)T_rank / (uint64_t)T_size;
    uint64_t hi = R * (uint64_t)(T_rank + 1) / (uint64_t)T_size;
    uint64_t boxes[2][4] = {{0, 0, R, C}, {lo, 0, hi - lo, C}};
    for (int b = 0; b < 2 && ok; b++) {
        const uint64_t *x = boxes[b];
        ok = pzarr_array_read(a, x, x + 2, buf) == 0;
        for (uint64_t i = 0; i < x[2] && ok; i++)
            for (uint64_t j = 0; j < C && ok; j++) {
                double dv;
                int64_t iv;
                if (v3) {
                    memcpy(&iv, buf + (i * C + j) * 8, 8);
                    ok = iv == f3(x[0] + i, j);
                } else {
                    memcpy(&dv, buf + (i * C + j) * 8, 8);
                    ok = dv == f2(x[0] + i, j);
                }
                if (!ok)
                    fprintf(stderr, "rank %d v%d: [%llu,%llu] wrong\n", T_rank, v3 ? 3 : 2,
                            (unsigned long long)(x[0] + i), (unsigned long long)j);
            }
    }
    free(buf);
    return ok;
}

static void test_read(void **st)
{
    (void)st;
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, root("v2"), PZARR_RDONLY, &s), pzarr_errmsg(s));
    T_OK(pzarr_array_open(s, "arr", &a), pzarr_errmsg(s));
    int ok = read_and_compare(a, 0);
    char *attrs = NULL;
    T_OK(pzarr_attrs_get(s, "arr", &attrs), pzarr_errmsg(s));
    ok &= attrs && strstr(attrs, "\"mpi_write_then_read_elsewhere\"") != NULL;
    pzarr_free(attrs);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    T_OK(pzarr_open(MPI_COMM_WORLD, root("v3"), PZARR_RDONLY, &s), pzarr_errmsg(s));
    T_OK(pzarr_array_open(s, "grp/arr", &a), pzarr_errmsg(s));
    ok &= read_and_compare(a, 1);
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[argc - 1] : "";
    if (strcmp(mode, "write") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_write)};
        return T_RUN(tests);
    }
    if (strcmp(mode, "read") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_read)};
        return T_RUN(tests);
    }
    fprintf(stderr, "usage: mpi_write_then_read_elsewhere write|read\n");
    return 2;
}
