/*
 * The cases of zarr-python issue 857 (concurrent writes into shared chunks
 * lose data) against the one-sided flush.
 *
 * (a) Every rank writes the same 9-chunk region with its own value, after a
 *     random delay, 50 rounds, one flush per round. The documented rule is
 *     that overlapping writes are applied in (rank, call order) order, so the
 *     region must hold the value of the highest rank that wrote, whole. Some
 *     rounds only a subset of ranks (agreed through a shared seed) writes,
 *     and one round in ten nobody does (the region keeps its content).
 * (b) Ranks write adjacent, non-overlapping strips that share chunks, at
 *     offsets not aligned with the chunks, interleaved across ranks; every
 *     strip must be intact and the untouched elements keep their content.
 *
 * The diagonal test of the issue (10 ranks) lives in mpi_diagonal_writes.c.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "pz_test_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 50

/* A small deterministic generator shared by all ranks (same seed, same
 * sequence), independent of the C library's rand. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static pzarr_array *create_2d(pzarr_store **s, const char *tag, uint64_t R, uint64_t C,
                              uint64_t cr, uint64_t cc)
{
    const char *dir = t_dir(tag);
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, s), pzarr_errmsg(*s));
    uint64_t shape[2] = {R, C}, chunks[2] = {cr, cc};
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(*s, "a", t_meta3("int32", 2, shape, chunks, "0",
                                             ",{\"name\":\"crc32c\"}"),
                            &a),
         pzarr_errmsg(*s));
    return a;
}

/* Which ranks write in round k: a bit mask agreed through the seed. */
static unsigned writers_of(int k, int n)
{
    unsigned all = (1u << n) - 1;
    if (k % 10 == 5)
        return 0; /* nobody writes: the region keeps the last value */
    if (k < 10)
        return all;
    uint32_t seed = 0x857u + (uint32_t)k * 7919u;
    lcg(&seed);
    return 1u + lcg(&seed) % all; /* a non-empty subset */
}

static void fill_i32(int32_t *b, size_t n, int32_t v)
{
    for (size_t i = 0; i < n; i++)
        b[i] = v;
}

static void test_same_region_rounds(void **st)
{
    (void)st;
    enum { R = 12, C = 12, I0 = 2, J0 = 2, NI = 9, NJ = 9 };
    pzarr_store *s = NULL;
    pzarr_array *a = create_2d(&s, "same", R, C, 4, 4);
    int32_t region[NI * NJ], full[R * C];
    int32_t expect = 0; /* the region's content: fill first */
    int bad_round = -1;
    for (int k = 0; k < ROUNDS; k++) {
        unsigned mask = writers_of(k, T_size);
        int32_t mine = (k + 1) * 100 + T_rank + 1;
        int rc = 0;
        if (mask & (1u << T_rank)) {
            /* A random delay below 2 ms, seeded per rank and round. */
            uint32_t seed = (uint32_t)(k * 1000 + T_rank + 1);
            lcg(&seed);
            struct timespec d = {0, (long)(lcg(&seed) % 2000) * 1000};
            nanosleep(&d, NULL);
            uint64_t st0[2] = {I0, J0}, cnt[2] = {NI, NJ};
            if (k % 2 == 1) {
                /* A first, overwritten write: the rank's own later call wins. */
                fill_i32(region, NI * NJ, -(T_rank + 1));
                rc = pzarr_array_write(a, st0, cnt, region);
            }
            fill_i32(region, NI * NJ, mine);
            if (rc == 0 && k % 4 == 2) {
                /* The same region in two calls, split across a chunk row. */
                uint64_t top[2] = {NI - 4, NJ}, s2[2] = {I0 + NI - 4, J0}, bot[2] = {4, NJ};
                rc = pzarr_array_write(a, st0, top, region);
                if (rc == 0)
                    rc = pzarr_array_write(a, s2, bot, region);
            } else if (rc == 0) {
                rc = pzarr_array_write(a, st0, cnt, region);
            }
        }
        if (rc == 0)
            rc = pzarr_array_flush(a);
        for (int r = T_size - 1; r >= 0; r--)
            if (mask & (1u << r)) {
                expect = (k + 1) * 100 + r + 1;
                break;
            }
        uint64_t z[2] = {0, 0}, n[2] = {R, C};
        memset(full, 0x55, sizeof full);
        if (rc == 0)
            rc = pzarr_array_read(a, z, n, full);
        int ok = rc == 0;
        for (int i = 0; i < R && ok; i++)
            for (int j = 0; j < C && ok; j++) {
                bool in = i >= I0 && i < I0 + NI && j >= J0 && j < J0 + NJ;
                ok = full[i * C + j] == (in ? expect : 0);
                if (!ok)
                    fprintf(stderr,
                            "rank %d round %d (writers 0x%x): [%d,%d] = %d, expected %d\n",
                            T_rank, k, mask, i, j, full[i * C + j], in ? expect : 0);
            }
        if (!ok && bad_round < 0) {
            bad_round = k;
            if (rc)
                fprintf(stderr, "rank %d round %d: rc %d: %s\n", T_rank, k, rc,
                        pzarr_array_errmsg(a));
        }
    }
    T_ASSERT_ALL(bad_round < 0);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

/* ------------------------------------------------------------ strips */

typedef struct strip {
    int rank;
    uint64_t i0, j0, ni, nj;
} strip;

static int32_t bg(uint64_t i, uint64_t j) { return -(int32_t)(i * 100 + j + 1); }
static int32_t pat(int r, uint64_t i, uint64_t j)
{
    return (int32_t)((r + 1) * 100000 + (int)(i * 100 + j));
}

/* Phase 1: row strips of rows 1..11 cut at columns that move with the row. */
static size_t row_strips(strip *out, int n)
{
    size_t ns = 0, id = 0;
    for (uint64_t i = 1; i <= 11; i++) {
        uint64_t cuts[] = {1, 2 + i % 3, 7, 8 + i % 2, 12, 15};
        for (size_t c = 0; c + 1 < sizeof cuts / sizeof *cuts; c++, id++) {
            if (id % 7 == 3)
                continue; /* a hole: stays as it was */
            out[ns++] = (strip){(int)(id % (size_t)n), i, cuts[c], 1, cuts[c + 1] - cuts[c]};
        }
    }
    return ns;
}

/* Phase 2: column strips of widths 1, 3, 1, 3, 3, 1, 5 over ragged rows. */
static size_t col_strips(strip *out, int n)
{
    uint64_t cuts[] = {0, 1, 4, 5, 8, 11, 12, 17};
    size_t ns = 0;
    for (size_t c = 0; c + 1 < sizeof cuts / sizeof *cuts; c++) {
        if (c % 5 == 4)
            continue;
        uint64_t r0 = 2 + c % 2, r1 = 11 - c % 3;
        out[ns++] = (strip){n - 1 - (int)(c % (size_t)n), r0, cuts[c], r1 - r0,
                            cuts[c + 1] - cuts[c]};
    }
    return ns;
}

/* This rank writes its strips, in a rank-dependent shuffled order. */
static int write_strips(pzarr_array *a, const strip *v, size_t ns)
{
    size_t order[128], m = 0;
    for (size_t k = 0; k < ns; k++)
        if (v[k].rank == T_rank)
            order[m++] = k;
    uint32_t seed = 17u + (uint32_t)T_rank;
    for (size_t k = m; k > 1; k--) {
        size_t x = lcg(&seed) % k, t = order[k - 1];
        order[k - 1] = order[x];
        order[x] = t;
    }
    for (size_t k = 0; k < m; k++) {
        const strip *p = &v[order[k]];
        int32_t buf[17 * 13];
        for (uint64_t i = 0; i < p->ni; i++)
            for (uint64_t j = 0; j < p->nj; j++)
                buf[i * p->nj + j] = pat(T_rank, p->i0 + i, p->j0 + j);
        uint64_t st[2] = {p->i0, p->j0}, cnt[2] = {p->ni, p->nj};
        int rc = pzarr_array_write(a, st, cnt, buf);
        if (rc)
            return rc;
    }
    return 0;
}

static void apply_strips(int32_t *exp, uint64_t C, const strip *v, size_t ns)
{
    for (size_t k = 0; k < ns; k++)
        for (uint64_t i = 0; i < v[k].ni; i++)
            for (uint64_t j = 0; j < v[k].nj; j++)
                exp[(v[k].i0 + i) * C + v[k].j0 + j] = pat(v[k].rank, v[k].i0 + i, v[k].j0 + j);
}

static int compare(pzarr_array *a, const int32_t *exp, uint64_t R, uint64_t C,
                   const char *what)
{
    int32_t *got = malloc(R * C * sizeof *got);
    uint64_t z[2] = {0, 0}, n[2] = {R, C};
    int rc = pzarr_array_read(a, z, n, got);
    int ok = rc == 0;
    for (uint64_t i = 0; i < R * C && ok; i++)
        if (got[i] != exp[i]) {
            fprintf(stderr, "rank %d %s: [%llu,%llu] = %d, expected %d\n", T_rank, what,
                    (unsigned long long)(i / C), (unsigned long long)(i % C), got[i], exp[i]);
            ok = 0;
        }
    free(got);
    return ok;
}

static void test_adjacent_strips(void **st)
{
    (void)st;
    enum { R = 13, C = 17 };
    pzarr_store *s = NULL;
    pzarr_array *a = create_2d(&s, "strips", R, C, 4, 5);
    int32_t exp[R * C];
    for (uint64_t i = 0; i < R; i++)
        for (uint64_t j = 0; j < C; j++)
            exp[i * C + j] = bg(i, j);
    uint64_t z[2] = {0, 0}, n[2] = {R, C};
    T_OK(T_rank == 0 ? pzarr_array_write(a, z, n, exp) : 0, pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));

    strip v[128];
    size_t ns = row_strips(v, T_size);
    T_OK(write_strips(a, v, ns), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    apply_strips(exp, C, v, ns);
    int ok = compare(a, exp, R, C, "row strips");

    ns = col_strips(v, T_size);
    int rc = write_strips(a, v, ns);
    if (rc == 0)
        rc = pzarr_array_flush(a);
    apply_strips(exp, C, v, ns);
    ok = ok && rc == 0 && compare(a, exp, R, C, "column strips");
    /* The holes really are holes: some background survives in both areas. */
    ok = ok && exp[1 * C + 10] == bg(1, 10) && exp[12 * C + 3] == bg(12, 3);
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    /* Reopen: what the flush stored is what a fresh handle sees. */
    T_OK(pzarr_array_open(s, "a", &a), pzarr_errmsg(s));
    T_ASSERT_ALL(compare(a, exp, R, C, "reopened"));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_region_rounds),
        cmocka_unit_test(test_adjacent_strips),
    };
    return T_RUN(tests);
}
