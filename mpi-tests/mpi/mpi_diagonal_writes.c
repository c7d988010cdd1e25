/*
 * The diagonal test of zarr-python issue 857, registered at 10 ranks.
 *
 * A 30x30 array in 7x7 chunks (ragged last row and column of chunks). Every
 * write is a single element, so one diagonal crosses many chunks owned by
 * different ranks and every chunk receives pieces from many ranks, in an
 * order shuffled per rank.
 *
 * (1) Rank r writes the full diagonals j - i = d with (d + 29) % n == r,
 *     value round*100 + r: after each flush every diagonal is uniform and
 *     holds its writer's value.
 * (2) Every rank writes ALL diagonals with its value: each diagonal must be
 *     uniform and hold the highest rank's value (the documented order).
 * (3) Rank r writes a band of anti-diagonals i + j that overlaps its
 *     neighbours' bands: each anti-diagonal is uniform and holds the value of
 *     the highest rank whose band covers it.
 * Works at any rank count; it is registered at 10.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "pz_test_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 30
#define CH 7
#define NDIAG (2 * N - 1)
#define ROUNDS 3

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

typedef enum { DIAG_OWN, DIAG_ALL, ANTI_BANDS } variant;

/* Band of anti-diagonals [lo, hi) of rank r: its share widened by 3. */
static void band(int r, int n, int *lo, int *hi)
{
    *lo = r * NDIAG / n - 3;
    *hi = (r + 1) * NDIAG / n + 3;
    if (*lo < 0)
        *lo = 0;
    if (*hi > NDIAG)
        *hi = NDIAG;
}

/* Whether rank r writes element (i, j) in this variant. */
static bool writes(variant v, int r, int n, int i, int j)
{
    if (v == DIAG_OWN)
        return (j - i + N - 1) % n == r;
    if (v == DIAG_ALL)
        return true;
    int lo, hi;
    band(r, n, &lo, &hi);
    return i + j >= lo && i + j < hi;
}

/* The value the line through (i, j) must hold after the flush, or -1 if no
 * rank writes it (then it keeps the previous content). */
static int32_t expected(variant v, int round, int n, int i, int j)
{
    for (int r = n - 1; r >= 0; r--)
        if (writes(v, r, n, i, j))
            return round * 100 + r;
    return -1;
}

static int write_elements(pzarr_array *a, variant v, int round)
{
    int idx[N * N], m = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (writes(v, T_rank, T_size, i, j))
                idx[m++] = i * N + j;
    uint32_t seed = (uint32_t)(round * 977 + T_rank * 31 + (int)v + 1);
    for (int k = m; k > 1; k--) {
        int x = (int)(lcg(&seed) % (uint32_t)k), t = idx[k - 1];
        idx[k - 1] = idx[x];
        idx[x] = t;
    }
    struct timespec d = {0, (long)(lcg(&seed) % 2000) * 1000};
    nanosleep(&d, NULL);
    int32_t val = round * 100 + T_rank;
    for (int k = 0; k < m; k++) {
        uint64_t st[2] = {(uint64_t)(idx[k] / N), (uint64_t)(idx[k] % N)}, one[2] = {1, 1};
        int rc = pzarr_array_write(a, st, one, &val);
        if (rc)
            return rc;
    }
    return 0;
}

/* Every line (diagonal or anti-diagonal) is uniform and has its value. */
static int check(const int32_t *g, variant v, int round)
{
    bool anti = v == ANTI_BANDS;
    for (int line = 0; line < NDIAG; line++) {
        int first = -2;
        for (int i = 0; i < N; i++) {
            int j = anti ? line - i : i + line - (N - 1);
            if (j < 0 || j >= N)
                continue;
            int32_t want = expected(v, round, T_size, i, j);
            if (first == -2)
                first = g[i * N + j];
            if (g[i * N + j] != first || (want >= 0 && g[i * N + j] != want)) {
                fprintf(stderr, "rank %d variant %d round %d: %s %d not uniform at (%d,%d): "
                                "%d, first %d, expected %d\n",
                        T_rank, (int)v, round, anti ? "anti-diagonal" : "diagonal", line, i, j,
                        g[i * N + j], first, want);
                return 0;
            }
        }
    }
    return 1;
}

static void run(variant v, const char *tag)
{
    const char *dir = t_dir(tag);
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    uint64_t shape[2] = {N, N}, chunks[2] = {CH, CH};
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "d", t_meta3("int32", 2, shape, chunks, "-1",
                                            ",{\"name\":\"zstd\",\"configuration\":"
                                            "{\"level\":1,\"checksum\":true}}"),
                            &a),
         pzarr_errmsg(s));
    int32_t g[N * N];
    int ok = 1;
    for (int round = 1; round <= ROUNDS && ok; round++) {
        int rc = write_elements(a, v, round);
        if (rc == 0)
            rc = pzarr_array_flush(a);
        uint64_t z[2] = {0, 0}, n[2] = {N, N};
        if (rc == 0)
            rc = pzarr_array_read(a, z, n, g);
        if (rc)
            fprintf(stderr, "rank %d: rc %d: %s\n", T_rank, rc, pzarr_array_errmsg(a));
        ok = rc == 0 && check(g, v, round);
        ok = t_all(ok);
    }
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

static void test_own_diagonals(void **st)
{
    (void)st;
    run(DIAG_OWN, "own");
}

static void test_all_write_all_diagonals(void **st)
{
    (void)st;
    run(DIAG_ALL, "all");
}

static void test_overlapping_antidiagonal_bands(void **st)
{
    (void)st;
    run(ANTI_BANDS, "anti");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_diagonals),
        cmocka_unit_test(test_all_write_all_diagonals),
        cmocka_unit_test(test_overlapping_antidiagonal_bands),
    };
    return T_RUN(tests);
}
