/*
 * pzarr_array_read_all: a collective read where every rank passes its own
 * box (possibly empty). It returns the same bytes as pzarr_array_read, and
 * each chunk that any rank needs is read once, by its owner: after a stats
 * reset, chunk_reads summed over ranks equals the number of distinct chunks
 * in the union of the boxes, and each rank's count is the number of those it
 * owns, while pzarr_array_read of the same boxes reads every rank's chunks.
 */
#include "pz_test_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { R = 30, C = 26, CR = 4, CC = 6, GR = 8, GC = 5 };

/* Chunk row 0 is never written: those chunks are absent (fill -7). */
static int32_t expect(uint64_t i, uint64_t j) { return i < CR ? -7 : (int32_t)(i * 1000 + j); }

typedef enum { OVERLAP, DISJOINT, FULL, WITH_EMPTY } layout;

/* The box of rank r (every rank can compute everybody's). */
static void box_of(layout l, int r, int n, uint64_t *st, uint64_t *cnt)
{
    switch (l) {
    case OVERLAP:
        st[0] = (uint64_t)(r * 5 % 18);
        st[1] = (uint64_t)(r * 3 % 15);
        cnt[0] = 12;
        cnt[1] = 11;
        break;
    case DISJOINT:
        st[0] = R * (uint64_t)r / (uint64_t)n;
        cnt[0] = R * (uint64_t)(r + 1) / (uint64_t)n - st[0];
        st[1] = 1;
        cnt[1] = C - 2;
        break;
    case FULL:
        st[0] = st[1] = 0;
        cnt[0] = R;
        cnt[1] = C;
        break;
    case WITH_EMPTY:
        st[0] = 3 + (uint64_t)r;
        st[1] = 5;
        cnt[0] = r % 2 ? 0 : 9;
        cnt[1] = r % 2 ? 0 : 13;
        break;
    }
}

/* Marks the chunks of a box in need[GR * GC]; returns how many it has. */
static uint64_t mark(const uint64_t *st, const uint64_t *cnt, bool *need)
{
    if (cnt[0] == 0 || cnt[1] == 0)
        return 0;
    uint64_t n = 0;
    for (uint64_t ci = st[0] / CR; ci <= (st[0] + cnt[0] - 1) / CR; ci++)
        for (uint64_t cj = st[1] / CC; cj <= (st[1] + cnt[1] - 1) / CC; cj++, n++)
            need[ci * GC + cj] = true;
    return n;
}

static int content_ok(const int32_t *b, const uint64_t *st, const uint64_t *cnt)
{
    for (uint64_t i = 0; i < cnt[0]; i++)
        for (uint64_t j = 0; j < cnt[1]; j++)
            if (b[i * cnt[1] + j] != expect(st[0] + i, st[1] + j))
                return 0;
    return 1;
}

static void run_layout(pzarr_store *s, pzarr_array *a, layout l)
{
    uint64_t st[2], cnt[2];
    box_of(l, T_rank, T_size, st, cnt);
    bool need[GR * GC] = {false};
    uint64_t per_rank_sum = 0;
    for (int r = 0; r < T_size; r++) {
        uint64_t s2[2], c2[2];
        box_of(l, r, T_size, s2, c2);
        per_rank_sum += mark(s2, c2, need);
    }
    uint64_t distinct = 0, mine = 0;
    for (uint64_t k = 0; k < GR * GC; k++) {
        uint64_t cc[2] = {k / GC, k % GC};
        int o = -1;
        pzarr_array_chunk_owner(a, cc, &o);
        distinct += need[k];
        mine += need[k] && o == T_rank;
    }
    size_t n = (size_t)(cnt[0] * cnt[1]);
    int32_t *b1 = malloc(n * sizeof *b1 + 4), *b2 = malloc(n * sizeof *b2 + 4);
    memset(b1, 0x5a, n * sizeof *b1);
    memset(b2, 0xa5, n * sizeof *b2);

    pzarr_reset_stats(s);
    T_OK(pzarr_array_read_all(a, st, cnt, b1), pzarr_array_errmsg(a));
    pzarr_stats x;
    pzarr_get_stats(s, &x);
    uint64_t all_reads = t_sum_u64(x.chunk_reads);
    int ok = x.chunk_reads == mine && all_reads == distinct;

    pzarr_reset_stats(s);
    T_OK(pzarr_array_read(a, st, cnt, b2), pzarr_array_errmsg(a));
    pzarr_get_stats(s, &x);
    uint64_t local_reads = t_sum_u64(x.chunk_reads);
    ok &= local_reads == per_rank_sum;
    if (l == OVERLAP && T_size > 1)
        ok &= local_reads > all_reads;
    ok &= memcmp(b1, b2, n * sizeof *b1) == 0 && content_ok(b1, st, cnt);
    if (!ok)
        fprintf(stderr, "rank %d layout %d: read_all reads %llu (mine %llu, distinct %llu), "
                        "read reads %llu (expected %llu)\n",
                T_rank, (int)l, (unsigned long long)all_reads, (unsigned long long)mine,
                (unsigned long long)distinct, (unsigned long long)local_reads,
                (unsigned long long)per_rank_sum);
    T_ASSERT_ALL(ok);
    free(b1);
    free(b2);
}

static void test_read_all(void **st)
{
    (void)st;
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, t_dir("ra"), PZARR_CREATE, &s), pzarr_errmsg(s));
    uint64_t shape[2] = {R, C}, chunks[2] = {CR, CC};
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "ra", t_meta3("int32", 2, shape, chunks, "-7",
                                             ",{\"name\":\"crc32c\"}"),
                            &a),
         pzarr_errmsg(s));
    /* Rows CR..R in slabs over the ranks. */
    uint64_t lo = CR + (R - CR) * (uint64_t)T_rank / (uint64_t)T_size;
    uint64_t hi = CR + (R - CR) * (uint64_t)(T_rank + 1) / (uint64_t)T_size;
    int32_t *buf = malloc((hi - lo) * C * sizeof *buf + 4);
    for (uint64_t i = lo; i < hi; i++)
        for (uint64_t j = 0; j < C; j++)
            buf[(i - lo) * C + j] = expect(i, j);
    uint64_t wst[2] = {lo, 0}, wcnt[2] = {hi - lo, C};
    T_OK(pzarr_array_write(a, wst, wcnt, buf), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    free(buf);

    run_layout(s, a, OVERLAP);
    run_layout(s, a, DISJOINT);
    run_layout(s, a, FULL);
    run_layout(s, a, WITH_EMPTY);

    /* Round robin ownership: the same answers. */
    T_OK(pzarr_array_set_owner(a, PZARR_OWNER_ROUND_ROBIN, NULL), pzarr_array_errmsg(a));
    run_layout(s, a, OVERLAP);

    /* One rank's box is out of bounds: every rank gets the same error. */
    uint64_t bst[2] = {0, 0}, bcnt[2] = {2, 2};
    if (T_rank == T_size - 1)
        bst[1] = C - 1;
    int32_t tmp[4];
    int rc = pzarr_array_read_all(a, bst, bcnt, tmp);
    const char *msg = pzarr_array_errmsg(a);
    T_ASSERT_ALL(rc == PZARR_EBOUNDS && strstr(msg, "outside") && t_same_str(msg));
    char prefix[32];
    snprintf(prefix, sizeof prefix, "rank %d:", T_size - 1);
    T_ASSERT_ALL(T_size == 1 || strncmp(msg, prefix, strlen(prefix)) == 0);
    /* And the next collective call works. */
    run_layout(s, a, DISJOINT);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_all),
    };
    return T_RUN(tests);
}
