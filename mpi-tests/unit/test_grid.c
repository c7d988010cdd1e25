/* Unit tests of the grid layer (pure shape and selection math, the owner
 * map) and of node names, checked against naive reference implementations.
 * No MPI: the pure layers are linked alone. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

#include "unit_util.h"

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state;

static void rng_seed(uint64_t s) { rng_state = s ? s : 0x9e3779b97f4a7c15ull; }

static uint64_t rng(void)
{
    /* xorshift64*: deterministic across platforms. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Uniform in [lo, hi]. */
static uint64_t rng_in(uint64_t lo, uint64_t hi) { return lo + rng() % (hi - lo + 1); }

static void rng_bytes(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)rng();
}

static uint64_t prod_of(int nd, const uint64_t *v)
{
    uint64_t p = 1;
    for (int d = 0; d < nd; d++)
        p *= v[d];
    return p;
}

/* C-order offset of coordinates (start + idx) in an array of shape. */
static uint64_t offset_in(int nd, const uint64_t *shape, const uint64_t *start,
                          const uint64_t *idx)
{
    uint64_t off = 0;
    for (int d = 0; d < nd; d++)
        off = off * shape[d] + start[d] + idx[d];
    return off;
}

/* Advances idx over the box count in C order; false after the last. */
static bool next_index(int nd, const uint64_t *count, uint64_t *idx)
{
    for (int d = nd - 1; d >= 0; d--) {
        if (++idx[d] < count[d])
            return true;
        idx[d] = 0;
    }
    return false;
}

/* The reference: one element at a time. */
static void naive_copy(int nd, size_t isz, const uint64_t *count, const unsigned char *src,
                       const uint64_t *sshape, const uint64_t *sstart, unsigned char *dst,
                       const uint64_t *dshape, const uint64_t *dstart)
{
    if (prod_of(nd, count) == 0)
        return;
    uint64_t idx[PZ_MAX_NDIM] = {0};
    do {
        memcpy(dst + offset_in(nd, dshape, dstart, idx) * isz,
               src + offset_in(nd, sshape, sstart, idx) * isz, isz);
    } while (next_index(nd, count, idx));
}

static void naive_fill(int nd, size_t isz, const uint64_t *count, unsigned char *dst,
                       const uint64_t *dshape, const uint64_t *dstart, const void *elem)
{
    if (prod_of(nd, count) == 0)
        return;
    uint64_t idx[PZ_MAX_NDIM] = {0};
    do {
        memcpy(dst + offset_in(nd, dshape, dstart, idx) * isz, elem, isz);
    } while (next_index(nd, count, idx));
}

/* ------------------------------------------------------------ pz_prod, box_inside */

static void test_prod(void **state)
{
    (void)state;
    static const struct {
        int nd;
        uint64_t v[4];
        bool ok;
        uint64_t want;
    } cases[] = {
        {0, {0}, true, 1},
        {1, {0}, true, 0},
        {1, {UINT64_MAX}, true, UINT64_MAX},
        {2, {3, 5}, true, 15},
        {3, {2, 3, 0}, true, 0},
        {2, {1ull << 32, (1ull << 32) - 1}, true, (1ull << 32) * ((1ull << 32) - 1)},
        {2, {1ull << 32, 1ull << 32}, false, 0},
        {2, {UINT64_MAX, 2}, false, 0},
        {4, {1ull << 16, 1ull << 16, 1ull << 16, 1ull << 16}, false, 0},
        {4, {1ull << 16, 1ull << 16, 1ull << 16, (1ull << 16) - 1}, true,
         (1ull << 48) * ((1ull << 16) - 1)},
        {3, {0, UINT64_MAX, UINT64_MAX}, true, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t out = 12345;
        bool ok = pz_prod(cases[i].nd, cases[i].v, &out);
        if (ok != cases[i].ok)
            print_error("case %zu: ok %d\n", i, ok);
        assert_int_equal(ok, cases[i].ok);
        if (ok)
            assert_int_equal(out, cases[i].want);
    }
}

static void test_box_inside(void **state)
{
    (void)state;
    const uint64_t M = UINT64_MAX;
    static const struct {
        int nd;
        uint64_t shape[3], start[3], count[3];
        bool want;
    } cases[] = {
        {0, {0}, {0}, {0}, true},
        {1, {10}, {0}, {10}, true},
        {1, {10}, {0}, {11}, false},
        {1, {10}, {10}, {0}, true}, /* empty box at the end */
        {1, {10}, {11}, {0}, false},
        {1, {10}, {9}, {1}, true},
        {1, {10}, {9}, {2}, false},
        {2, {4, 5}, {3, 4}, {1, 1}, true},
        {2, {4, 5}, {3, 4}, {1, 2}, false},
        {1, {M}, {M}, {1}, false}, /* start + count wraps */
        {1, {M}, {1}, {M}, false},
        {1, {M}, {0}, {M}, true},
        {1, {10}, {M}, {2}, false}, /* wraps to 1 <= 10 */
        {3, {5, 5, 5}, {0, 0, 4}, {5, 5, M}, false},
        {1, {0}, {0}, {0}, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = pz_box_inside(cases[i].nd, cases[i].shape, cases[i].start, cases[i].count);
        if (got != cases[i].want)
            print_error("case %zu: got %d\n", i, got);
        assert_int_equal(got, cases[i].want);
    }
}

/* ------------------------------------------------------------ linear / unlinear */

static void test_linear_unlinear(void **state)
{
    (void)state;
    static const struct {
        int nd;
        uint64_t dims[5];
    } cases[] = {
        {1, {7}}, {2, {3, 4}}, {3, {1, 5, 2}}, {5, {2, 3, 1, 4, 3}}, {4, {1, 1, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int nd = cases[c].nd;
        const uint64_t *dims = cases[c].dims;
        uint64_t idx[PZ_MAX_NDIM] = {0};
        uint64_t expect = 0;
        do {
            /* C order: enumeration order is the linear index. */
            assert_int_equal(pz_linear(nd, dims, idx), expect);
            uint64_t back[PZ_MAX_NDIM];
            pz_unlinear(nd, dims, expect, back);
            assert_memory_equal(back, idx, (size_t)nd * sizeof(uint64_t));
            expect++;
        } while (next_index(nd, dims, idx));
        assert_int_equal(expect, prod_of(nd, dims));
    }
    /* 0-d: the one chunk has index 0. */
    assert_int_equal(pz_linear(0, NULL, NULL), 0);
    /* Large grids: 2^20 x 2^20 x 2^20. */
    uint64_t big[3] = {1u << 20, 1u << 20, 1u << 20};
    uint64_t cc[3] = {(1u << 20) - 1, 12345, 678};
    uint64_t li = pz_linear(3, big, cc);
    assert_int_equal(li, (((uint64_t)(1u << 20) - 1) << 40) + (12345ull << 20) + 678);
    uint64_t back[3];
    pz_unlinear(3, big, li, back);
    assert_memory_equal(back, cc, sizeof cc);
}

/* ------------------------------------------------------------ copy_box */

typedef struct box_case {
    int nd;
    size_t isz;
    uint64_t count[5];
    uint64_t sshape[5], sstart[5];
    uint64_t dshape[5], dstart[5];
} box_case;

static void run_copy_case(const box_case *c)
{
    uint64_t sn = prod_of(c->nd, c->sshape) * c->isz;
    uint64_t dn = prod_of(c->nd, c->dshape) * c->isz;
    unsigned char *src = malloc(sn + 1), *got = malloc(dn + 1), *want = malloc(dn + 1);
    assert_true(src && got && want);
    rng_bytes(src, sn);
    rng_bytes(got, dn);
    memcpy(want, got, dn);
    pz_copy_box(c->nd, c->isz, c->count, src, c->sshape, c->sstart, got, c->dshape,
                c->dstart);
    naive_copy(c->nd, c->isz, c->count, src, c->sshape, c->sstart, want, c->dshape,
               c->dstart);
    assert_memory_equal(got, want, dn);
    free(src);
    free(got);
    free(want);
}

static void test_copy_box_table(void **state)
{
    (void)state;
    rng_seed(1);
    static const box_case cases[] = {
        /* 0-d: one element */
        {0, 8, {0}, {0}, {0}, {0}, {0}},
        /* 1-d: whole, inner part, single element, empty */
        {1, 4, {10}, {10}, {0}, {10}, {0}},
        {1, 4, {3}, {10}, {6}, {5}, {1}},
        {1, 2, {1}, {10}, {9}, {1}, {0}},
        {1, 4, {0}, {10}, {3}, {10}, {3}},
        /* 2-d: equal to the array, ragged edge chunk into a full chunk */
        {2, 8, {4, 6}, {4, 6}, {0, 0}, {4, 6}, {0, 0}},
        {2, 4, {2, 3}, {7, 9}, {5, 6}, {4, 4}, {0, 0}},
        {2, 4, {3, 4}, {4, 4}, {0, 0}, {10, 10}, {7, 6}},
        /* rows that are whole in src but not in dst and the reverse */
        {2, 1, {3, 5}, {3, 5}, {0, 0}, {6, 7}, {2, 1}},
        {2, 1, {3, 5}, {6, 7}, {2, 1}, {3, 5}, {0, 0}},
        /* empty in the middle dim: nothing is touched */
        {3, 4, {2, 0, 2}, {3, 3, 3}, {0, 0, 0}, {3, 3, 3}, {1, 1, 1}},
        /* 5-d, odd itemsize, merged inner dims */
        {5, 3, {2, 3, 1, 4, 5}, {3, 3, 2, 4, 5}, {1, 0, 1, 0, 0}, {2, 4, 1, 4, 5},
         {0, 1, 0, 0, 0}},
        {5, 16, {1, 2, 2, 2, 2}, {2, 3, 3, 3, 3}, {1, 1, 1, 1, 1}, {1, 2, 2, 2, 2},
         {0, 0, 0, 0, 0}},
        /* single element of a 5-d array */
        {5, 8, {1, 1, 1, 1, 1}, {2, 3, 4, 5, 6}, {1, 2, 3, 4, 5}, {1, 1, 1, 1, 1},
         {0, 0, 0, 0, 0}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_copy_case(&cases[i]);
}

static void random_box(int nd, box_case *c)
{
    static const size_t sizes[] = {1, 2, 3, 4, 8, 16};
    c->nd = nd;
    c->isz = sizes[rng() % 6];
    for (int d = 0; d < nd; d++) {
        c->sshape[d] = rng_in(1, 7);
        c->dshape[d] = rng_in(1, 7);
        uint64_t lim = c->sshape[d] < c->dshape[d] ? c->sshape[d] : c->dshape[d];
        /* Mostly non-empty; sometimes whole along a dimension. */
        c->count[d] = rng() % 8 == 0 ? lim : rng_in(rng() % 20 == 0 ? 0 : 1, lim);
        c->sstart[d] = rng_in(0, c->sshape[d] - c->count[d]);
        c->dstart[d] = rng_in(0, c->dshape[d] - c->count[d]);
        if (rng() % 4 == 0) { /* same shapes: exercises the merged runs */
            c->dshape[d] = c->sshape[d];
            c->count[d] = c->sshape[d];
            c->sstart[d] = c->dstart[d] = 0;
        }
    }
}

static void test_copy_box_random(void **state)
{
    (void)state;
    rng_seed(20240611);
    for (int iter = 0; iter < 4000; iter++) {
        box_case c;
        memset(&c, 0, sizeof c);
        random_box((int)rng_in(1, 5), &c);
        run_copy_case(&c);
    }
}

/* The maximum rank: 32 dimensions, a few of them longer than 1. */
static void test_copy_box_32d(void **state)
{
    (void)state;
    rng_seed(32);
    enum { ND = PZ_MAX_NDIM };
    uint64_t sshape[ND], dshape[ND], sstart[ND], dstart[ND], count[ND];
    for (int d = 0; d < ND; d++) {
        sshape[d] = (d % 7 == 3) ? 3 : 1;
        dshape[d] = (d % 7 == 3) ? 2 : 1;
        count[d] = (d % 7 == 3) ? 2 : 1;
        sstart[d] = (d % 7 == 3) ? 1 : 0;
        dstart[d] = 0;
    }
    uint64_t sn = prod_of(ND, sshape) * 4, dn = prod_of(ND, dshape) * 4;
    unsigned char *src = malloc(sn), *got = malloc(dn), *want = malloc(dn);
    assert_true(src && got && want);
    rng_bytes(src, sn);
    memset(got, 0xAB, dn);
    memset(want, 0xAB, dn);
    pz_copy_box(ND, 4, count, src, sshape, sstart, got, dshape, dstart);
    naive_copy(ND, 4, count, src, sshape, sstart, want, dshape, dstart);
    assert_memory_equal(got, want, dn);
    free(src);
    free(got);
    free(want);
}

/* ------------------------------------------------------------ fill_box, all_equal */

static void test_fill_box_random(void **state)
{
    (void)state;
    rng_seed(777);
    for (int iter = 0; iter < 2000; iter++) {
        box_case c;
        memset(&c, 0, sizeof c);
        random_box((int)rng_in(0, 5), &c);
        uint64_t dn = prod_of(c.nd, c.dshape) * c.isz;
        unsigned char elem[16];
        rng_bytes(elem, sizeof elem);
        unsigned char *got = malloc(dn + 1), *want = malloc(dn + 1);
        assert_true(got && want);
        rng_bytes(got, dn);
        memcpy(want, got, dn);
        pz_fill_box(c.nd, c.isz, c.count, got, c.dshape, c.dstart, elem);
        naive_fill(c.nd, c.isz, c.count, want, c.dshape, c.dstart, elem);
        assert_memory_equal(got, want, dn);
        free(got);
        free(want);
    }
}

static void test_all_equal(void **state)
{
    (void)state;
    static const size_t sizes[] = {1, 2, 3, 4, 8, 16};
    static const uint64_t counts[] = {1, 2, 3, 5, 8, 13, 64, 100, 1000};
    unsigned char buf[16 * 1000];
    for (size_t s = 0; s < 6; s++) {
        size_t isz = sizes[s];
        unsigned char elem[16];
        for (size_t b = 0; b < isz; b++)
            elem[b] = (unsigned char)(0x5A + 7 * b);
        assert_true(pz_all_equal(buf, 0, isz, elem));
        for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
            uint64_t n = counts[k];
            for (uint64_t i = 0; i < n; i++)
                memcpy(buf + i * isz, elem, isz);
            assert_true(pz_all_equal(buf, n, isz, elem));
            /* One differing byte anywhere is seen. */
            for (uint64_t i = 0; i < n; i += (n > 20 ? n / 7 : 1)) {
                for (size_t b = 0; b < isz; b += (isz > 4 ? 3 : 1)) {
                    buf[i * isz + b] ^= 0x01;
                    if (pz_all_equal(buf, n, isz, elem))
                        print_error("isz %zu n %llu: byte %zu of element %llu missed\n",
                                    isz, (unsigned long long)n, b, (unsigned long long)i);
                    assert_false(pz_all_equal(buf, n, isz, elem));
                    buf[i * isz + b] ^= 0x01;
                }
            }
            /* And the last element's last byte. */
            buf[n * isz - 1] ^= 0x80;
            assert_false(pz_all_equal(buf, n, isz, elem));
            buf[n * isz - 1] ^= 0x80;
        }
    }
    /* NaN bytes compare bytewise: equal patterns are equal. */
    uint32_t nan = 0x7fc00000u, v[4] = {nan, nan, nan, nan};
    assert_true(pz_all_equal(v, 4, 4, &nan));
}

/* ------------------------------------------------------------ chunk iteration */

typedef struct exp_part {
    bool touched, seen;
    uint64_t cstart[PZ_MAX_NDIM], bstart[PZ_MAX_NDIM], n[PZ_MAX_NDIM];
} exp_part;

/*
 * Brute force: over a chunk range one wider than needed in every
 * dimension, the intersection of each chunk with the box.
 */
static void check_iter(int nd, const uint64_t *chunks, const uint64_t *start,
                       const uint64_t *count)
{
    uint64_t span[PZ_MAX_NDIM];
    bool empty = false;
    for (int d = 0; d < nd; d++) {
        span[d] = (start[d] + count[d]) / chunks[d] + 2;
        empty |= count[d] == 0;
    }
    uint64_t nspan = prod_of(nd, span);
    exp_part *ex = calloc(nspan, sizeof *ex);
    assert_non_null(ex);
    uint64_t ntouched = 0;
    uint64_t cc[PZ_MAX_NDIM] = {0};
    for (uint64_t li = 0; li < nspan; li++) {
        pz_unlinear(nd, span, li, cc);
        exp_part *p = &ex[li];
        p->touched = !empty;
        for (int d = 0; d < nd && p->touched; d++) {
            uint64_t c0 = cc[d] * chunks[d], c1 = c0 + chunks[d];
            uint64_t lo = start[d] > c0 ? start[d] : c0;
            uint64_t hi = start[d] + count[d] < c1 ? start[d] + count[d] : c1;
            p->touched = lo < hi;
            p->cstart[d] = lo - c0;
            p->bstart[d] = lo - start[d];
            p->n[d] = hi - lo;
        }
        ntouched += p->touched;
    }
    uint64_t bn = prod_of(nd, count);
    unsigned char *cover = calloc(bn ? bn : 1, 1);
    assert_non_null(cover);

    pz_chunk_iter it;
    bool more = pz_chunk_iter_init(&it, nd, chunks, start, count);
    assert_int_equal(more, !empty);
    assert_int_equal(pz_chunk_iter_total(&it), ntouched);
    uint64_t visits = 0;
    while (more) {
        visits++;
        for (int d = 0; d < nd; d++)
            assert_true(it.cc[d] < span[d]);
        exp_part *p = &ex[pz_linear(nd, span, it.cc)];
        assert_true(p->touched);
        assert_false(p->seen); /* every chunk exactly once */
        p->seen = true;
        assert_memory_equal(it.cstart, p->cstart, (size_t)nd * sizeof(uint64_t));
        assert_memory_equal(it.bstart, p->bstart, (size_t)nd * sizeof(uint64_t));
        assert_memory_equal(it.n, p->n, (size_t)nd * sizeof(uint64_t));
        /* Mark the part in box coordinates: parts must be disjoint. */
        uint64_t idx[PZ_MAX_NDIM] = {0};
        do {
            uint64_t off = offset_in(nd, count, it.bstart, idx);
            assert_int_equal(cover[off], 0);
            cover[off] = 1;
        } while (next_index(nd, it.n, idx));
        more = pz_chunk_iter_next(&it);
    }
    assert_int_equal(visits, ntouched);
    assert_true(it.done);
    assert_false(pz_chunk_iter_next(&it)); /* stays done */
    /* The union of the parts is the box. */
    for (uint64_t i = 0; i < bn; i++)
        assert_int_equal(cover[i], 1);
    free(cover);
    free(ex);
}

static void test_chunk_iter_table(void **state)
{
    (void)state;
    static const struct {
        int nd;
        uint64_t chunks[5], start[5], count[5];
    } cases[] = {
        {1, {4}, {0}, {10}},               /* ragged last chunk */
        {1, {4}, {3}, {2}},                /* straddles one edge */
        {1, {4}, {4}, {4}},                /* exactly one chunk */
        {1, {1}, {5}, {3}},                /* chunk size 1 */
        {1, {100}, {7}, {1}},              /* single element */
        {2, {3, 5}, {0, 0}, {7, 11}},      /* selection = array, ragged */
        {2, {3, 5}, {2, 4}, {2, 2}},       /* four chunk corners */
        {3, {2, 2, 2}, {1, 1, 1}, {3, 3, 3}},
        {5, {2, 3, 1, 4, 2}, {1, 0, 2, 3, 1}, {3, 4, 2, 2, 3}},
        {5, {1, 1, 1, 1, 1}, {0, 0, 0, 0, 0}, {2, 2, 2, 2, 2}},
        /* an empty count in any dimension gives no chunks */
        {1, {4}, {3}, {0}},
        {2, {3, 5}, {1, 1}, {0, 4}},
        {3, {2, 2, 2}, {0, 0, 0}, {3, 3, 0}},
        {5, {2, 2, 2, 2, 2}, {0, 0, 0, 0, 0}, {2, 2, 0, 2, 2}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_iter(cases[i].nd, cases[i].chunks, cases[i].start, cases[i].count);
}

static void test_chunk_iter_random(void **state)
{
    (void)state;
    rng_seed(4242);
    for (int iter = 0; iter < 3000; iter++) {
        int nd = (int)rng_in(1, 5);
        uint64_t chunks[5], start[5], count[5];
        for (int d = 0; d < nd; d++) {
            chunks[d] = rng_in(1, 6);
            start[d] = rng_in(0, 12);
            count[d] = rng_in(rng() % 25 == 0 ? 0 : 1, nd > 3 ? 5 : 11);
        }
        check_iter(nd, chunks, start, count);
    }
}

static void test_chunk_iter_0d(void **state)
{
    (void)state;
    pz_chunk_iter it;
    assert_true(pz_chunk_iter_init(&it, 0, NULL, NULL, NULL));
    assert_int_equal(pz_chunk_iter_total(&it), 1);
    assert_false(pz_chunk_iter_next(&it));
    assert_int_equal(pz_chunk_iter_total(&it), 1);
}

/* Large coordinates (shapes up to 2^53 are valid): no intermediate wraps. */
static void test_chunk_iter_large(void **state)
{
    (void)state;
    const uint64_t big = 1ull << 53;
    uint64_t chunks[2] = {1000, 7}, start[2] = {big - 2500, big - 10}, count[2] = {2500, 10};
    pz_chunk_iter it;
    assert_true(pz_chunk_iter_init(&it, 2, chunks, start, count));
    uint64_t got_elems = 0, visits = 0;
    do {
        uint64_t n = it.n[0] * it.n[1];
        got_elems += n;
        visits++;
        for (int d = 0; d < 2; d++) {
            assert_int_equal(it.cc[d] * chunks[d] + it.cstart[d], start[d] + it.bstart[d]);
            assert_true(it.cstart[d] + it.n[d] <= chunks[d]);
            assert_true(it.bstart[d] + it.n[d] <= count[d]);
        }
    } while (pz_chunk_iter_next(&it));
    assert_int_equal(got_elems, 25000);
    assert_int_equal(visits, pz_chunk_iter_total(&it));
    /* 2^53 - 2500 = 9007199254738492: chunks 9007199254738 .. 9007199254740;
     * 2^53 - 10 = 1 (mod 7): 6 elements in one chunk, 4 in the next. */
    assert_int_equal(visits, 3 * 2);
}

static void test_chunk_iter_uint64_edge(void **state)
{
    (void)state;
    pz_chunk_iter it;
    /* A box ending at UINT64_MAX: the last chunk starts within 7 of it, so
     * chunk start + chunk size wraps. */
    uint64_t c1[1] = {7}, s1[1] = {UINT64_MAX - 10}, n1[1] = {10};
    assert_true(pz_chunk_iter_init(&it, 1, c1, s1, n1));
    uint64_t sum = 0;
    bool in_box = true;
    do {
        in_box &= it.n[0] >= 1 && it.n[0] <= 7 && it.bstart[0] + it.n[0] <= n1[0];
        sum += it.n[0];
    } while (pz_chunk_iter_next(&it));
    assert_true(in_box);
    assert_int_equal(sum, 10);
}

/* ------------------------------------------------------------ byteswap */

static void test_byteswap(void **state)
{
    (void)state;
    static const struct {
        pzarr_dtype t;
        size_t isz;
        unsigned char in[32], want[32];
        uint64_t n;
    } cases[] = {
        {PZARR_BOOL, 1, {1, 0, 1}, {1, 0, 1}, 3},
        {PZARR_INT8, 1, {0x12, 0x34}, {0x12, 0x34}, 2},
        {PZARR_UINT8, 1, {0xff}, {0xff}, 1},
        {PZARR_INT16, 2, {0x01, 0x02, 0x03, 0x04}, {0x02, 0x01, 0x04, 0x03}, 2},
        {PZARR_FLOAT16, 2, {0x00, 0x3c}, {0x3c, 0x00}, 1},
        {PZARR_UINT32, 4, {1, 2, 3, 4, 5, 6, 7, 8}, {4, 3, 2, 1, 8, 7, 6, 5}, 2},
        {PZARR_FLOAT32, 4, {1, 2, 3, 4}, {4, 3, 2, 1}, 1},
        {PZARR_INT64, 8, {1, 2, 3, 4, 5, 6, 7, 8}, {8, 7, 6, 5, 4, 3, 2, 1}, 1},
        {PZARR_FLOAT64, 8, {1, 2, 3, 4, 5, 6, 7, 8}, {8, 7, 6, 5, 4, 3, 2, 1}, 1},
        /* complex: each half on its own */
        {PZARR_COMPLEX64, 8, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
         {4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9, 16, 15, 14, 13}, 2},
        {PZARR_COMPLEX128, 16,
         {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
          24, 25, 26, 27, 28, 29, 30, 31, 32},
         {8, 7, 6, 5, 4, 3, 2, 1, 16, 15, 14, 13, 12, 11, 10, 9, 24, 23, 22, 21, 20, 19, 18,
          17, 32, 31, 30, 29, 28, 27, 26, 25},
         2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char buf[33];
        size_t nb = (size_t)cases[i].n * cases[i].isz;
        memcpy(buf, cases[i].in, nb);
        buf[nb] = 0xEE; /* guard */
        pz_byteswap(buf, cases[i].n, cases[i].isz, cases[i].t);
        if (memcmp(buf, cases[i].want, nb) != 0)
            print_error("case %zu (%s)\n", i, pzarr_dtype_name(cases[i].t));
        assert_memory_equal(buf, cases[i].want, nb);
        assert_int_equal(buf[nb], 0xEE);
        /* Twice is the identity. */
        pz_byteswap(buf, cases[i].n, cases[i].isz, cases[i].t);
        assert_memory_equal(buf, cases[i].in, nb);
    }
    /* A known value: 1.0 as big-endian float64. */
    double one = 1.0;
    pz_byteswap(&one, 1, 8, PZARR_FLOAT64);
    static const unsigned char be_one[8] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0};
    unsigned char le[8];
    memcpy(le, &one, 8);
    uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    if (first == 1) /* little-endian host */
        assert_memory_equal(le, be_one, 8);
    pz_byteswap(NULL, 0, 8, PZARR_FLOAT64); /* n = 0 touches nothing */
}

/* ------------------------------------------------------------ names */

static void test_name_check(void **state)
{
    (void)state;
    static const struct {
        const char *in, *canon;
    } ok[] = {
        {"", ""},
        {"a", "a"},
        {"a/b", "a/b"},
        {"a/b/", "a/b"},
        {"x/", "x"},
        {"a.b", "a.b"},
        {"...", "..."},
        {".hidden", ".hidden"},
        {"a b/c-d_e", "a b/c-d_e"},
        {"_x", "_x"},
        {"\xc3\xbc" "ber", "\xc3\xbc" "ber"},
        {"deep/er/and/deeper/still", "deep/er/and/deeper/still"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[64];
        pz_err e;
        pz_err_clear(&e);
        int rc = pz_name_check(ok[i].in, out, sizeof out, &e);
        if (rc != 0)
            print_error("\"%s\" refused: %s\n", ok[i].in, e.msg);
        assert_int_equal(rc, 0);
        assert_string_equal(out, ok[i].canon);
    }
    static const struct {
        const char *in, *needle;
    } bad[] = {
        {"/", "/"},
        {"/abs", "/abs"},
        {"..", ".."},
        {".", "."},
        {"../x", "../x"},
        {"a/..", "a/.."},
        {"a/../../b", "a/../../b"},
        {"a/./b", "a/./b"},
        {"a//b", "a//b"},
        {"//", "//"},
        {"a\\b", "a\\b"},
        {"..\\x", "..\\x"},
        {"a/b\x01", "forbidden"},
        {"a\nb", "forbidden"},
        {"__pz", "__pz"},
        {"a/__b", "a/__b"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[64] = "untouched";
        pz_err e;
        pz_err_clear(&e);
        int rc = pz_name_check(bad[i].in, out, sizeof out, &e);
        if (rc != PZARR_EPATH || !strstr(e.msg, bad[i].needle))
            print_error("\"%s\": rc %d, canon \"%s\", msg \"%s\"\n", bad[i].in, rc, out,
                        e.msg);
        assert_int_equal(rc, PZARR_EPATH);
        assert_int_equal(e.code, PZARR_EPATH);
        assert_non_null(strstr(e.msg, bad[i].needle));
    }
    /* NULL and too long for the output buffer. */
    char out[8];
    pz_err e;
    pz_err_clear(&e);
    assert_int_equal(pz_name_check(NULL, out, sizeof out, &e), PZARR_EPATH);
    assert_int_equal(pz_name_check("abcdefgh", out, sizeof out, &e), PZARR_EPATH);
    assert_non_null(strstr(e.msg, "long"));
    assert_int_equal(pz_name_check("abcdefg", out, sizeof out, &e), 0);
    assert_string_equal(out, "abcdefg");
}

/* "a//" has an empty segment before its trailing '/'. */
static void test_name_check_double_trailing_slash(void **state)
{
    (void)state;
    char out[64] = "untouched";
    pz_err e;
    pz_err_clear(&e);
    int rc = pz_name_check("a//", out, sizeof out, &e);
    if (rc != PZARR_EPATH)
        print_error("\"a//\": rc %d, canon \"%s\"\n", rc, out);
    assert_int_equal(rc, PZARR_EPATH);
    assert_non_null(strstr(e.msg, "a//"));
}

/* ------------------------------------------------------------ owner map */

/* Every chunk has one owner in range; under the block policy the chunks a
 * rank owns form one box of the grid, and the boxes of a process grid tile
 * the chunk grid in the order of the ranks. */
static void check_block_map(int nranks, int nd, const uint64_t *grid, const int *dims)
{
    pz_owner_map om;
    pz_err e = {0};
    assert_int_equal(pz_owner_init(&om, PZARR_OWNER_BLOCK, nranks, nd, grid, dims, &e), 0);
    uint64_t total = 1;
    for (int d = 0; d < nd; d++)
        total *= grid[d];
    uint64_t *lo = malloc((size_t)nranks * PZ_MAX_NDIM * sizeof *lo);
    uint64_t *hi = calloc((size_t)nranks * PZ_MAX_NDIM, sizeof *hi);
    uint64_t *count = calloc((size_t)nranks, sizeof *count);
    assert_non_null(lo);
    assert_non_null(hi);
    assert_non_null(count);
    for (size_t k = 0; k < (size_t)nranks * PZ_MAX_NDIM; k++)
        lo[k] = UINT64_MAX;
    for (uint64_t i = 0; i < total; i++) {
        uint64_t cc[PZ_MAX_NDIM];
        pz_unlinear(nd, grid, i, cc);
        int r = pz_owner_of(&om, cc);
        assert_true(r >= 0 && r < nranks);
        count[r]++;
        for (int d = 0; d < nd; d++) {
            uint64_t *l = &lo[(size_t)r * PZ_MAX_NDIM + d], *h = &hi[(size_t)r * PZ_MAX_NDIM + d];
            *l = cc[d] < *l ? cc[d] : *l;
            *h = cc[d] + 1 > *h ? cc[d] + 1 : *h;
        }
    }
    for (int r = 0; r < nranks; r++) {
        if (!count[r])
            continue;
        uint64_t box = 1;
        for (int d = 0; d < nd; d++)
            box *= hi[(size_t)r * PZ_MAX_NDIM + d] - lo[(size_t)r * PZ_MAX_NDIM + d];
        assert_int_equal(box, count[r]); /* a box, no holes */
    }
    /* Blocks are balanced: along each dimension sizes differ by at most 1
     * when there are at least as many chunks as processes. */
    for (int d = 0; d < nd; d++) {
        if (grid[d] < (uint64_t)om.pdims[d])
            continue;
        uint64_t mn = UINT64_MAX, mx = 0;
        for (int r = 0; r < nranks; r++) {
            if (!count[r])
                continue;
            uint64_t w = hi[(size_t)r * PZ_MAX_NDIM + d] - lo[(size_t)r * PZ_MAX_NDIM + d];
            mn = w < mn ? w : mn;
            mx = w > mx ? w : mx;
        }
        assert_true(mx - mn <= 1);
    }
    free(lo);
    free(hi);
    free(count);
}

static void test_owner_block(void **state)
{
    (void)state;
    static const struct {
        int nranks, nd;
        uint64_t grid[3];
        int dims[3];
        bool given;
    } cases[] = {
        {1, 3, {4, 4, 4}, {1, 1, 1}, true},  {4, 2, {8, 8}, {2, 2}, true},
        {6, 2, {7, 5}, {3, 2}, true},        {6, 2, {7, 5}, {2, 3}, true},
        {4, 3, {2, 1, 1}, {4, 1, 1}, true},  {8, 3, {5, 6, 7}, {0}, false},
        {12, 2, {10, 3}, {0}, false},        {5, 1, {17}, {0}, false},
        {3, 3, {1, 1, 1}, {0}, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_block_map(cases[i].nranks, cases[i].nd, cases[i].grid,
                        cases[i].given ? cases[i].dims : NULL);
}

static void test_owner_known_values(void **state)
{
    (void)state;
    pz_owner_map om;
    pz_err e = {0};
    /* 2x2 process grid over 4x4 chunks: quadrants, row-major rank order. */
    const uint64_t grid[2] = {4, 4};
    assert_int_equal(pz_owner_init(&om, PZARR_OWNER_BLOCK, 4, 2, grid, (int[]){2, 2}, &e), 0);
    assert_int_equal(pz_owner_of(&om, (uint64_t[]){0, 0}), 0);
    assert_int_equal(pz_owner_of(&om, (uint64_t[]){1, 3}), 1);
    assert_int_equal(pz_owner_of(&om, (uint64_t[]){3, 0}), 2);
    assert_int_equal(pz_owner_of(&om, (uint64_t[]){2, 2}), 3);
    /* Round robin: linear index modulo the rank count. */
    assert_int_equal(pz_owner_init(&om, PZARR_OWNER_ROUND_ROBIN, 3, 2, grid, NULL, &e), 0);
    for (uint64_t i = 0; i < 16; i++) {
        uint64_t cc[2];
        pz_unlinear(2, grid, i, cc);
        assert_int_equal(pz_owner_of(&om, cc), (int)(i % 3));
    }
    /* NULL dims: factors whose product is the rank count, largest first. */
    const uint64_t g3[3] = {9, 9, 9};
    assert_int_equal(pz_owner_init(&om, PZARR_OWNER_BLOCK, 12, 3, g3, NULL, &e), 0);
    assert_int_equal(om.pdims[0] * om.pdims[1] * om.pdims[2], 12);
    assert_true(om.pdims[0] >= om.pdims[1] && om.pdims[1] >= om.pdims[2]);
    /* One rank, or a 0-d array: everything is rank 0's. */
    assert_int_equal(pz_owner_init(&om, PZARR_OWNER_BLOCK, 1, 0, NULL, NULL, &e), 0);
    assert_int_equal(pz_owner_of(&om, NULL), 0);
}

/* The default process grid fits the chunk grid: a decomposition aligned
 * with the chunks is found, flat dimensions are not split, and the busiest
 * rank holds no more chunks than it must. */
static void test_owner_fit_dims(void **state)
{
    (void)state;
    static const struct {
        int nranks, nd;
        uint64_t grid[3];
        int want[3];
    } cases[] = {
        {32, 3, {32, 1, 1}, {32, 1, 1}}, /* slab: MPI_Dims_create would say 4x4x2 */
        {8, 3, {4, 2, 1}, {4, 2, 1}},    /* 2-D aligned */
        {8, 3, {8, 4, 1}, {4, 2, 1}},    /* 2x2 chunks per rank, cubic blocks */
        {8, 3, {2, 2, 2}, {2, 2, 2}},    /* 3-D aligned: MPI_Dims_create's own */
        {6, 2, {1, 12}, {1, 6}},         /* a flat dimension is not split */
        {4, 1, {10}, {4}},
        {3, 3, {1, 1, 1}, {3, 1, 1}},    /* more ranks than chunks */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int dims[3] = {0, 0, 0};
        pz_owner_fit_dims(cases[i].nranks, cases[i].nd, cases[i].grid, NULL, dims);
        for (int d = 0; d < cases[i].nd; d++)
            if (dims[d] != cases[i].want[d]) {
                print_error("case %zu: dim %d is %d, want %d\n", i, d, dims[d], cases[i].want[d]);
                fail();
            }
        check_block_map(cases[i].nranks, cases[i].nd, cases[i].grid, dims);
    }
    /* A tie goes to the preferred shape. */
    const uint64_t cube[3] = {4, 4, 4};
    int dims[3], pref[3] = {2, 2, 1};
    pz_owner_fit_dims(4, 3, cube, pref, dims);
    assert_true(dims[0] == 2 && dims[1] == 2 && dims[2] == 1);
}

static void test_owner_bad_dims(void **state)
{
    (void)state;
    pz_owner_map om;
    pz_err e = {0};
    const uint64_t grid[2] = {4, 4};
    assert_int_equal(pz_owner_init(&om, PZARR_OWNER_BLOCK, 4, 2, grid, (int[]){3, 1}, &e),
                     PZARR_EINVAL);
    assert_non_null(strstr(e.msg, "process grid has 3 ranks, the communicator 4"));
    assert_int_equal(pz_owner_init(&om, PZARR_OWNER_BLOCK, 4, 2, grid, (int[]){4, 0}, &e),
                     PZARR_EINVAL);
    assert_non_null(strstr(e.msg, "dimension 1 is 0"));
    assert_int_equal(pz_owner_init(&om, (pzarr_owner_policy)7, 4, 2, grid, NULL, &e),
                     PZARR_EINVAL);
    assert_non_null(strstr(e.msg, "unknown ownership policy 7"));
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prod),
        cmocka_unit_test(test_box_inside),
        cmocka_unit_test(test_linear_unlinear),
        cmocka_unit_test(test_copy_box_table),
        cmocka_unit_test(test_copy_box_random),
        cmocka_unit_test(test_copy_box_32d),
        cmocka_unit_test(test_fill_box_random),
        cmocka_unit_test(test_all_equal),
        cmocka_unit_test(test_chunk_iter_table),
        cmocka_unit_test(test_chunk_iter_random),
        cmocka_unit_test(test_chunk_iter_0d),
        cmocka_unit_test(test_chunk_iter_large),
        cmocka_unit_test(test_chunk_iter_uint64_edge),
        cmocka_unit_test(test_byteswap),
        cmocka_unit_test(test_name_check),
        cmocka_unit_test(test_name_check_double_trailing_slash),
        cmocka_unit_test(test_owner_block),
        cmocka_unit_test(test_owner_known_values),
        cmocka_unit_test(test_owner_bad_dims),
        cmocka_unit_test(test_owner_fit_dims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
