/* The chunk layout of `order: F` (v2) and transpose (v3) arrays through the
 * public API: the bytes stored for a chunk follow the axis permutation, and
 * reads undo it. One process (MPI singleton). */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pzarr.h"

#include "unit_util.h"

static const char *fresh_dir(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/unit-layout-%s", PZARR_TEST_TMP, name);
    mkdir(PZARR_TEST_TMP, 0777);
    rmtree(buf);
    return buf;
}

enum { D0 = 5, D1 = 6, D2 = 7, C0 = 3, C1 = 4, C2 = 5 };

static int32_t elem_value(uint64_t i, uint64_t j, uint64_t k)
{
    return (int32_t)(i * 10000 + j * 100 + k + 1);
}

static int32_t le_i32(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    int32_t v;
    memcpy(&v, &u, 4);
    return v;
}

/* Offset (in elements) of chunk-local (i, j, k) under an axis permutation:
 * the stored chunk is the C-order array of axes order[0], order[1], order[2]. */
static uint64_t permuted_offset(const int order[3], const uint64_t loc[3])
{
    const uint64_t cs[3] = {C0, C1, C2};
    uint64_t off = 0;
    for (int a = 0; a < 3; a++)
        off = off * cs[order[a]] + loc[order[a]];
    return off;
}

/* Checks the raw bytes of chunk cc (stored without compression). */
static void check_raw_chunk(const char *dir, const char *key, const uint64_t cc[3],
                            const int order[3])
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, key);
    size_t n = 0;
    unsigned char *raw = slurp(path, &n);
    if (!raw)
        print_error("chunk %s is missing\n", path);
    assert_non_null(raw);
    assert_int_equal(n, (size_t)C0 * C1 * C2 * 4);
    const uint64_t cs[3] = {C0, C1, C2}, sh[3] = {D0, D1, D2};
    uint64_t loc[3];
    for (loc[0] = 0; loc[0] < C0; loc[0]++)
        for (loc[1] = 0; loc[1] < C1; loc[1]++)
            for (loc[2] = 0; loc[2] < C2; loc[2]++) {
                uint64_t g[3];
                bool inside = true;
                for (int d = 0; d < 3; d++) {
                    g[d] = cc[d] * cs[d] + loc[d];
                    inside &= g[d] < sh[d];
                }
                if (!inside)
                    continue;
                int32_t v = le_i32(raw + permuted_offset(order, loc) * 4);
                if (v != elem_value(g[0], g[1], g[2]))
                    print_error("%s: (%llu,%llu,%llu) holds %d\n", key,
                                (unsigned long long)g[0], (unsigned long long)g[1],
                                (unsigned long long)g[2], (int)v);
                assert_int_equal(v, elem_value(g[0], g[1], g[2]));
            }
    free(raw);
}

static void check_values(pzarr_array *a, const uint64_t *start, const uint64_t *count)
{
    uint64_t n = count[0] * count[1] * count[2];
    int32_t *buf = malloc(n * sizeof *buf + 4);
    assert_non_null(buf);
    CHECK_OK(pzarr_array_read(a, start, count, buf), pzarr_array_errmsg(a));
    for (uint64_t i = 0; i < count[0]; i++)
        for (uint64_t j = 0; j < count[1]; j++)
            for (uint64_t k = 0; k < count[2]; k++)
                assert_int_equal(buf[(i * count[1] + j) * count[2] + k],
                                 elem_value(start[0] + i, start[1] + j, start[2] + k));
    free(buf);
}

/* Writes the whole array in two overlapping-free halves, reads back, checks
 * the on-disk layout of a full and a ragged chunk, reopens and reads again. */
static void order_roundtrip(const char *tag, const char *meta, const char *keys[2],
                            const int order[3])
{
    const char *dir = fresh_dir(tag);
    pzarr_store *s = NULL;
    CHECK_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "f", meta, &a), pzarr_errmsg(s));
    int32_t *all = malloc(D0 * D1 * D2 * sizeof *all);
    assert_non_null(all);
    for (uint64_t i = 0; i < D0; i++)
        for (uint64_t j = 0; j < D1; j++)
            for (uint64_t k = 0; k < D2; k++)
                all[(i * D1 + j) * D2 + k] = elem_value(i, j, k);
    /* Rows [0,2) then [2,5): the second write starts mid-chunk. */
    uint64_t s0[3] = {0, 0, 0}, n0[3] = {2, D1, D2};
    uint64_t s1[3] = {2, 0, 0}, n1[3] = {3, D1, D2};
    CHECK_OK(pzarr_array_write(a, s0, n0, all), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_write(a, s1, n1, all + 2 * D1 * D2), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    uint64_t full[3] = {D0, D1, D2}, sub_s[3] = {1, 2, 3}, sub_n[3] = {4, 3, 4};
    check_values(a, s0, full);
    check_values(a, sub_s, sub_n);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));

    char adir[4200];
    snprintf(adir, sizeof adir, "%s/f", dir);
    const uint64_t cc0[3] = {0, 0, 0}, cc1[3] = {1, 1, 1};
    check_raw_chunk(adir, keys[0], cc0, order);
    check_raw_chunk(adir, keys[1], cc1, order);

    CHECK_OK(pzarr_array_open(s, "f", &a), pzarr_errmsg(s));
    check_values(a, s0, full);
    uint64_t one_s[3] = {4, 5, 6}, one_n[3] = {1, 1, 1};
    check_values(a, one_s, one_n);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
    free(all);
}

static void test_order_f_v2(void **state)
{
    (void)state;
    const char *meta = "{\"zarr_format\":2,\"shape\":[5,6,7],\"chunks\":[3,4,5],"
                       "\"dtype\":\"<i4\",\"compressor\":null,\"fill_value\":0,"
                       "\"order\":\"F\",\"filters\":null}";
    const char *keys[2] = {"0.0.0", "1.1.1"};
    const int order[3] = {2, 1, 0}; /* F: the first axis varies fastest */
    order_roundtrip("v2F", meta, keys, order);
}

static void test_transpose_v3(void **state)
{
    (void)state;
    const char *meta =
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[5,6,7],"
        "\"data_type\":\"int32\",\"chunk_grid\":{\"name\":\"regular\","
        "\"configuration\":{\"chunk_shape\":[3,4,5]}},\"chunk_key_encoding\":"
        "{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
        "\"fill_value\":0,\"codecs\":[{\"name\":\"transpose\",\"configuration\":"
        "{\"order\":[2,1,0]}},{\"name\":\"bytes\",\"configuration\":"
        "{\"endian\":\"little\"}}]}";
    const char *keys[2] = {"c/0/0/0", "c/1/1/1"};
    const int order[3] = {2, 1, 0};
    order_roundtrip("v3T", meta, keys, order);
}

/* A permutation that is not a reversal: stored axes (j, k, i). */
static void test_transpose_v3_cyclic(void **state)
{
    (void)state;
    const char *meta =
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[5,6,7],"
        "\"data_type\":\"int32\",\"chunk_grid\":{\"name\":\"regular\","
        "\"configuration\":{\"chunk_shape\":[3,4,5]}},\"chunk_key_encoding\":"
        "{\"name\":\"default\",\"configuration\":{\"separator\":\".\"}},"
        "\"fill_value\":0,\"codecs\":[{\"name\":\"transpose\",\"configuration\":"
        "{\"order\":[1,2,0]}},{\"name\":\"bytes\",\"configuration\":"
        "{\"endian\":\"little\"}}]}";
    const char *keys[2] = {"c.0.0.0", "c.1.1.1"};
    const int order[3] = {1, 2, 0};
    order_roundtrip("v3T120", meta, keys, order);
}

int main(int argc, char **argv)
{
    /* MPICH's MPI_Init leaks hwloc plugin memory (1016 bytes, unrelated to
     * pzarr); keep LeakSanitizer for everything else. */
    LSAN_OFF();
    MPI_Init(&argc, &argv);
    LSAN_ON();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_f_v2),
        cmocka_unit_test(test_transpose_v3),
        cmocka_unit_test(test_transpose_v3_cyclic),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
