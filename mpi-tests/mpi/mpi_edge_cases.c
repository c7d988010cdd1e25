/*
 * Edge cases of the parallel write path. Each case lists every rank's
 * writes (all ranks know the whole list); each rank issues its own, in list
 * order, then one flush; every rank reads the whole array back and compares
 * with the expected array, computed by applying the writes in (rank, call
 * order) order over the fill value.
 */
#include "pz_test_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAXW 256

typedef struct wr {
    int rank;
    int tag;
    uint64_t start[3], count[3];
} wr;

typedef struct edge_case {
    const char *name;
    int ndim;
    uint64_t shape[3], chunks[3];
    int32_t fill;
    wr w[MAXW];
    int nw;
} edge_case;

static int32_t val(int tag, uint64_t lin) { return (int32_t)(tag * 100000 + (int)lin + 1); }

static uint64_t nelems(int nd, const uint64_t *v)
{
    uint64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= v[d];
    return n;
}

/* Calls f(lin_in_box, lin_in_array) for every element of a box. */
static void each(int nd, const uint64_t *shape, const uint64_t *start, const uint64_t *count,
                 void (*f)(uint64_t, uint64_t, void *), void *ctx)
{
    uint64_t n = nelems(nd, count);
    for (uint64_t k = 0; k < n; k++) {
        uint64_t rest = k, lin = 0, mul = 1;
        for (int d = nd - 1; d >= 0; d--) {
            uint64_t x = rest % count[d];
            rest /= count[d];
            lin += (start[d] + x) * mul;
            mul *= shape[d];
        }
        f(k, lin, ctx);
    }
}

typedef struct fill_ctx {
    int32_t *buf;
    int tag;
} fill_ctx;

static void put_box(uint64_t k, uint64_t lin, void *c)
{
    fill_ctx *x = c;
    x->buf[k] = val(x->tag, lin);
}

static void put_array(uint64_t k, uint64_t lin, void *c)
{
    (void)k;
    fill_ctx *x = c;
    x->buf[lin] = val(x->tag, lin);
}

static void add(edge_case *c, int rank, int tag, const uint64_t *start, const uint64_t *count)
{
    wr *w = &c->w[c->nw++];
    w->rank = rank;
    w->tag = tag;
    for (int d = 0; d < c->ndim; d++) {
        w->start[d] = start[d];
        w->count[d] = count[d];
    }
}

/* Runs one case; returns 1 if every rank read back the expected array. */
static int run(pzarr_store *s, const edge_case *c, uint64_t *writes_total)
{
    pzarr_array *a = NULL;
    char fill[32];
    snprintf(fill, sizeof fill, "%d", (int)c->fill);
    int rc = pzarr_array_create(s, c->name,
                                t_meta3("int32", c->ndim, c->shape, c->chunks, fill,
                                        ",{\"name\":\"crc32c\"}"),
                                &a);
    T_OK(rc, pzarr_errmsg(s));
    for (int k = 0; k < c->nw && rc == 0; k++) {
        const wr *w = &c->w[k];
        if (w->rank != T_rank)
            continue;
        uint64_t n = nelems(c->ndim, w->count);
        int32_t *buf = n ? malloc(n * sizeof *buf) : NULL;
        fill_ctx x = {buf, w->tag};
        each(c->ndim, c->shape, w->start, w->count, put_box, &x);
        rc = pzarr_array_write(a, c->ndim ? w->start : NULL, c->ndim ? w->count : NULL, buf);
        free(buf);
    }
    if (rc)
        fprintf(stderr, "rank %d %s: write: %s\n", T_rank, c->name, pzarr_array_errmsg(a));
    pzarr_reset_stats(s);
    int frc = pzarr_array_flush(a);
    if (frc)
        fprintf(stderr, "rank %d %s: flush: %s\n", T_rank, c->name, pzarr_array_errmsg(a));
    pzarr_stats st;
    pzarr_get_stats(s, &st);
    *writes_total = t_sum_u64(st.chunk_writes);

    uint64_t total = nelems(c->ndim, c->shape);
    int32_t *exp = malloc(total * sizeof *exp), *got = malloc(total * sizeof *got);
    for (uint64_t i = 0; i < total; i++)
        exp[i] = c->fill;
    for (int r = 0; r < T_size; r++)
        for (int k = 0; k < c->nw; k++)
            if (c->w[k].rank == r) {
                fill_ctx x = {exp, c->w[k].tag};
                each(c->ndim, c->shape, c->w[k].start, c->w[k].count, put_array, &x);
            }
    uint64_t z[3] = {0, 0, 0};
    int ok = rc == 0 && frc == 0 &&
             pzarr_array_read(a, c->ndim ? z : NULL, c->ndim ? c->shape : NULL, got) == 0;
    for (uint64_t i = 0; i < total && ok; i++)
        if (got[i] != exp[i]) {
            fprintf(stderr, "rank %d %s: element %llu = %d, expected %d\n", T_rank, c->name,
                    (unsigned long long)i, got[i], exp[i]);
            ok = 0;
        }
    free(exp);
    free(got);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    return ok;
}

static char store_dir[4096];

static pzarr_store *open_store(const char *tag)
{
    pzarr_store *s = NULL;
    snprintf(store_dir, sizeof store_dir, "%s", t_dir(tag));
    T_OK(pzarr_open(MPI_COMM_WORLD, store_dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    return s;
}

static edge_case *new_case(const char *name, int nd, const uint64_t *shape,
                           const uint64_t *chunks, int32_t fill)
{
    edge_case *c = calloc(1, sizeof *c);
    c->name = name;
    c->ndim = nd;
    c->fill = fill;
    for (int d = 0; d < nd; d++) {
        c->shape[d] = shape[d];
        c->chunks[d] = chunks[d];
    }
    return c;
}

/* Rank r mod 3 == 0 writes data, == 1 writes empty boxes, == 2 never calls
 * write; the data ranks share the rows. */
static void test_ranks_without_data(void **st)
{
    (void)st;
    pzarr_store *s = open_store("nodata");
    uint64_t shape[2] = {11, 9}, chunks[2] = {4, 4};
    edge_case *c = new_case("nodata", 2, shape, chunks, -5);
    int ndata = (T_size + 2) / 3;
    for (int r = 0; r < T_size; r++) {
        if (r % 3 == 0) {
            int k = r / 3;
            uint64_t lo = 11 * (uint64_t)k / (uint64_t)ndata, hi = 11 * (uint64_t)(k + 1) / (uint64_t)ndata;
            add(c, r, r + 1, (uint64_t[]){lo, 0}, (uint64_t[]){hi - lo, 9});
            add(c, r, r + 1, (uint64_t[]){3, 3}, (uint64_t[]){0, 0});
        } else if (r % 3 == 1) {
            add(c, r, r + 1, (uint64_t[]){0, 0}, (uint64_t[]){0, 0});
            add(c, r, r + 1, (uint64_t[]){11, 9}, (uint64_t[]){0, 0}); /* at the far corner */
            add(c, r, r + 1, (uint64_t[]){5, 2}, (uint64_t[]){3, 0});
        }
    }
    uint64_t nw;
    int ok = run(s, c, &nw);
    T_ASSERT_ALL(ok && nw == 9);
    free(c);
    T_OK(pzarr_close(s), NULL);
}

/* Nobody writes anything (some ranks write empty boxes): the flush stores
 * nothing and the array reads as the fill value. */
static void test_all_ranks_empty(void **st)
{
    (void)st;
    pzarr_store *s = open_store("empty");
    uint64_t shape[2] = {6, 7}, chunks[2] = {4, 4};
    edge_case *c = new_case("empty", 2, shape, chunks, 42);
    for (int r = 0; r < T_size; r += 2)
        add(c, r, 1, (uint64_t[]){2, 2}, (uint64_t[]){0, 3});
    uint64_t nw;
    int ok = run(s, c, &nw);
    /* Not even the chunk directory was made. */
    char p[4200];
    snprintf(p, sizeof p, "%s/empty/c", store_dir);
    struct stat sb;
    T_ASSERT_ALL(ok && nw == 0 && stat(p, &sb) != 0);
    free(c);
    T_OK(pzarr_close(s), NULL);
}

/* 4 ranks, 2 chunks: the ranks beyond the chunk count own nothing. */
static void test_more_ranks_than_chunks(void **st)
{
    (void)st;
    pzarr_store *s = open_store("few");
    uint64_t shape[1] = {8}, chunks[1] = {4};
    edge_case *c = new_case("few", 1, shape, chunks, 0);
    /* Every rank writes a span across both chunks, then single elements. */
    for (int r = 0; r < T_size; r++)
        add(c, r, 50 + r, (uint64_t[]){2}, (uint64_t[]){4});
    for (uint64_t i = 0; i < 8; i++)
        add(c, (int)(i % (uint64_t)T_size), (int)(i % (uint64_t)T_size) + 1, &i,
            (uint64_t[]){1});
    uint64_t nw;
    int ok = run(s, c, &nw);
    T_ASSERT_ALL(ok && nw == 2);
    free(c);
    T_OK(pzarr_close(s), NULL);
}

/* Slabs of 5 rows over chunks of 4 rows, round robin over the ranks. */
static void test_misaligned_slabs(void **st)
{
    (void)st;
    pzarr_store *s = open_store("slabs");
    uint64_t shape[2] = {23, 7}, chunks[2] = {4, 3};
    edge_case *c = new_case("slabs", 2, shape, chunks, 0);
    for (uint64_t k = 0; k * 5 < 23; k++) {
        uint64_t n = 23 - k * 5 < 5 ? 23 - k * 5 : 5;
        int r = (int)(k % (uint64_t)T_size);
        add(c, r, r + 1, (uint64_t[]){k * 5, 0}, (uint64_t[]){n, 7});
    }
    uint64_t nw;
    int ok = run(s, c, &nw);
    T_ASSERT_ALL(ok && nw == 6 * 3);
    free(c);
    T_OK(pzarr_close(s), NULL);
}

/* A 0-d array: written by the last rank only, then by every rank. A rank
 * that does not own the only chunk sends a piece with no coordinates. */
static void test_zero_dim(void **st)
{
    (void)st;
    pzarr_store *s = open_store("scalar");
    edge_case *c = new_case("scalar", 0, NULL, NULL, -1);
    add(c, T_size - 1, 7, NULL, NULL);
    uint64_t nw;
    int ok = run(s, c, &nw);
    T_ASSERT_ALL(ok && nw == 1);
    c->name = "scalar2";
    c->nw = 0;
    for (int r = 0; r < T_size; r++)
        add(c, r, 10 + r, NULL, NULL);
    ok = run(s, c, &nw);
    T_ASSERT_ALL(ok && nw == 1);
    free(c);
    T_OK(pzarr_close(s), NULL);
}

/* 1-d: overlapping segments of 9 every 7 elements, ragged last chunk. */
static void test_one_dim_overlaps(void **st)
{
    (void)st;
    pzarr_store *s = open_store("oned");
    uint64_t shape[1] = {101}, chunks[1] = {10};
    edge_case *c = new_case("oned", 1, shape, chunks, 3);
    for (uint64_t k = 0; k * 7 < 101; k++) {
        uint64_t n = 101 - k * 7 < 9 ? 101 - k * 7 : 9;
        int r = (int)((k * 5 + 1) % (uint64_t)T_size);
        add(c, r, (int)k + 1, (uint64_t[]){k * 7}, &n);
    }
    uint64_t nw;
    int ok = run(s, c, &nw);
    T_ASSERT_ALL(ok && nw == 11);
    free(c);
    T_OK(pzarr_close(s), NULL);
}

/* 3-d with ragged edges on every axis: rank 0 writes everything first, then
 * every rank a slab along axis 1 over rows 1..5 of axis 0. */
static void test_three_dim_ragged(void **st)
{
    (void)st;
    pzarr_store *s = open_store("threed");
    uint64_t shape[3] = {7, 9, 5}, chunks[3] = {3, 4, 2};
    edge_case *c = new_case("threed", 3, shape, chunks, 0);
    add(c, 0, 90, (uint64_t[]){0, 0, 0}, shape);
    for (int r = 0; r < T_size; r++) {
        uint64_t lo = 9 * (uint64_t)r / (uint64_t)T_size, hi = 9 * (uint64_t)(r + 1) / (uint64_t)T_size;
        add(c, r, r + 1, (uint64_t[]){1, lo, 0}, (uint64_t[]){5, hi - lo, 5});
    }
    uint64_t nw;
    int ok = run(s, c, &nw);
    T_ASSERT_ALL(ok && nw == 3 * 3 * 3);
    free(c);
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranks_without_data),
        cmocka_unit_test(test_all_ranks_empty),
        cmocka_unit_test(test_more_ranks_than_chunks),
        cmocka_unit_test(test_misaligned_slabs),
        cmocka_unit_test(test_zero_dim),
        cmocka_unit_test(test_one_dim_overlaps),
        cmocka_unit_test(test_three_dim_ragged),
    };
    return T_RUN(tests);
}
