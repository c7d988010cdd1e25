/*
 * Chunk ownership: every chunk has one owner, which alone reads, merges and
 * writes it. Checked through the per-rank stats (reset before each flush):
 * summed over ranks, each touched chunk is written exactly once per flush,
 * each rank's chunk_writes is the number of touched chunks it owns, and a
 * chunk covered whole by a write is not read. The owner map agrees on every
 * rank, and every policy gives the same data.
 */
#include "pz_test_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { R = 20, C = 18, CR = 4, CC = 5, GR = 5, GC = 4, NCH = GR * GC };

static int32_t pat(int tag, int r, uint64_t i, uint64_t j)
{
    return (int32_t)(tag * 1000000 + (r + 1) * 10000 + (int)(i * C + j) + 1);
}

/* Owners of every chunk, as this rank computes them; 0 on success. */
static int owners(pzarr_array *a, int *own)
{
    for (uint64_t ci = 0; ci < GR; ci++)
        for (uint64_t cj = 0; cj < GC; cj++) {
            uint64_t cc[2] = {ci, cj};
            int rc = pzarr_array_chunk_owner(a, cc, &own[ci * GC + cj]);
            if (rc)
                return rc;
        }
    return 0;
}

/* Every rank computes the same owners (rank 0's are broadcast). */
static int owners_agree(const int *own, int n)
{
    int root[NCH];
    memcpy(root, own, sizeof root);
    MPI_Bcast(root, n, MPI_INT, 0, MPI_COMM_WORLD);
    return memcmp(root, own, (size_t)n * sizeof *own) == 0;
}

typedef struct policy_case {
    const char *name;
    pzarr_owner_policy policy;
    int dims_kind; /* 0: NULL, 1: {n, 1}, 2: {1, n} */
} policy_case;

static void test_whole_array_each_chunk_once(void **st)
{
    (void)st;
    const char *dir = t_dir("whole");
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    uint64_t shape[2] = {R, C}, chunks[2] = {CR, CC}, z[2] = {0, 0};
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "w", t_meta3("int32", 2, shape, chunks, "0", NULL), &a),
         pzarr_errmsg(s));
    const policy_case cases[] = {
        {"block (default)", PZARR_OWNER_BLOCK, 0},
        {"round robin", PZARR_OWNER_ROUND_ROBIN, 0},
        {"block n x 1", PZARR_OWNER_BLOCK, 1},
        {"block 1 x n", PZARR_OWNER_BLOCK, 2},
    };
    int32_t *buf = malloc(R * C * sizeof *buf), *got = malloc(R * C * sizeof *got);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const policy_case *pc = &cases[k];
        int dims[2] = {pc->dims_kind == 2 ? 1 : T_size, pc->dims_kind == 2 ? T_size : 1};
        T_OK(pzarr_array_set_owner(a, pc->policy, pc->dims_kind ? dims : NULL),
             pzarr_array_errmsg(a));
        int own[NCH];
        T_OK(owners(a, own), pc->name);
        int ok = owners_agree(own, NCH);
        uint64_t mine = 0;
        for (int c = 0; c < NCH; c++) {
            ok &= own[c] >= 0 && own[c] < T_size;
            mine += own[c] == T_rank;
            if (pc->policy == PZARR_OWNER_ROUND_ROBIN)
                ok &= own[c] == c % T_size;
            /* n x 1: the owner depends on the chunk row only, and grows. */
            if (pc->dims_kind == 1 && c % GC)
                ok &= own[c] == own[c - 1];
            if (pc->dims_kind == 1 && c >= GC)
                ok &= own[c] >= own[c - GC];
            if (pc->dims_kind == 2 && c >= GC)
                ok &= own[c] == own[c - GC];
        }
        /* Every rank writes the whole array; the highest rank wins. */
        for (uint64_t i = 0; i < R; i++)
            for (uint64_t j = 0; j < C; j++)
                buf[i * C + j] = pat((int)k, T_rank, i, j);
        pzarr_reset_stats(s);
        T_OK(pzarr_array_write(a, z, shape, buf), pzarr_array_errmsg(a));
        T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        pzarr_stats sts;
        T_OK(pzarr_get_stats(s, &sts), NULL);
        uint64_t total = t_sum_u64(sts.chunk_writes + sts.chunk_deletes);
        uint64_t reads = t_sum_u64(sts.chunk_reads);
        if (!ok || total != NCH || reads != 0 || sts.chunk_writes != mine)
            fprintf(stderr, "rank %d %s: owners ok %d, total writes %llu, reads %llu, "
                            "mine %llu of %llu owned\n",
                    T_rank, pc->name, ok, (unsigned long long)total,
                    (unsigned long long)reads, (unsigned long long)sts.chunk_writes,
                    (unsigned long long)mine);
        ok &= total == NCH && reads == 0 && sts.chunk_writes == mine && sts.chunk_deletes == 0;
        T_OK(pzarr_array_read(a, z, shape, got), pzarr_array_errmsg(a));
        for (uint64_t i = 0; i < R; i++)
            for (uint64_t j = 0; j < C; j++)
                ok &= got[i * C + j] == pat((int)k, T_size - 1, i, j);
        T_ASSERT_ALL(ok);
    }
    /* A bad process grid is refused on every rank with the same message. */
    int bad[2] = {T_size + 1, 1};
    int rc = pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, bad);
    T_ASSERT_ALL(rc == PZARR_EINVAL && strstr(pzarr_array_errmsg(a), "process grid"));
    T_ASSERT_ALL(t_same_str(pzarr_array_errmsg(a)));
    uint64_t out[2] = {GR, 0};
    int who = -1;
    T_ASSERT_ALL(pzarr_array_chunk_owner(a, out, &who) == PZARR_EBOUNDS);
    free(buf);
    free(got);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

/* ------------------------------------------------------------ Cartesian */

enum { XR = 18, XC = 24, XCR = 3, XCC = 4, XGR = 6, XGC = 6 };

static int32_t xpat(int tag, uint64_t i, uint64_t j)
{
    return (int32_t)(tag * 100000 + (int)(i * XC + j) + 1);
}

typedef struct block {
    uint64_t lo[2], hi[2]; /* chunk ranges */
    uint64_t n;            /* chunks owned */
} block;

/* The chunks rank r owns, which must form a box. */
static int owned_block(pzarr_array *a, int r, block *b)
{
    b->lo[0] = b->lo[1] = UINT64_MAX;
    b->hi[0] = b->hi[1] = 0;
    b->n = 0;
    for (uint64_t ci = 0; ci < XGR; ci++)
        for (uint64_t cj = 0; cj < XGC; cj++) {
            uint64_t cc[2] = {ci, cj};
            int o = -1;
            if (pzarr_array_chunk_owner(a, cc, &o) || o != r)
                continue;
            b->n++;
            for (int d = 0; d < 2; d++) {
                if (cc[d] < b->lo[d])
                    b->lo[d] = cc[d];
                if (cc[d] + 1 > b->hi[d])
                    b->hi[d] = cc[d] + 1;
            }
        }
    return b->n == (b->hi[0] - b->lo[0]) * (b->hi[1] - b->lo[1]);
}

static int write_block(pzarr_array *a, const block *b, int tag)
{
    uint64_t st[2] = {b->lo[0] * XCR, b->lo[1] * XCC};
    uint64_t cnt[2] = {(b->hi[0] - b->lo[0]) * XCR, (b->hi[1] - b->lo[1]) * XCC};
    int32_t *buf = malloc(cnt[0] * cnt[1] * sizeof *buf + 1);
    for (uint64_t i = 0; i < cnt[0]; i++)
        for (uint64_t j = 0; j < cnt[1]; j++)
            buf[i * cnt[1] + j] = xpat(tag, st[0] + i, st[1] + j);
    int rc = pzarr_array_write(a, st, cnt, buf);
    free(buf);
    return rc;
}

static int check_all(pzarr_array *a, int tag)
{
    int32_t *got = malloc(XR * XC * sizeof *got);
    uint64_t z[2] = {0, 0}, n[2] = {XR, XC};
    int ok = pzarr_array_read(a, z, n, got) == 0;
    for (uint64_t i = 0; i < XR && ok; i++)
        for (uint64_t j = 0; j < XC && ok; j++)
            ok = got[i * XC + j] == xpat(tag, i, j);
    free(got);
    return ok;
}

static void test_cartesian_blocks(void **st)
{
    (void)st;
    const char *dir = t_dir("cart");
    int dims[2] = {0, 0}, periods[2] = {0, 0}, coords[2];
    MPI_Dims_create(T_size, 2, dims);
    MPI_Comm cart;
    MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart);
    MPI_Cart_coords(cart, T_rank, 2, coords);
    pzarr_store *s = NULL;
    T_OK(pzarr_open(cart, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    uint64_t shape[2] = {XR, XC}, chunks[2] = {XCR, XCC};
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "cart", t_meta3("int32", 2, shape, chunks, "0", NULL), &a),
         pzarr_errmsg(s));
    T_OK(pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, dims), pzarr_array_errmsg(a));

    block mine;
    int ok = owned_block(a, T_rank, &mine) && mine.n > 0;
    /* The blocks follow the Cartesian coordinates: gather everybody's. */
    long info[6] = {coords[0], coords[1], (long)mine.lo[0], (long)mine.lo[1],
                    (long)mine.hi[0], (long)mine.hi[1]};
    long *all = malloc((size_t)T_size * sizeof info);
    MPI_Allgather(info, 6, MPI_LONG, all, 6, MPI_LONG, MPI_COMM_WORLD);
    for (int p = 0; p < T_size; p++)
        for (int q = 0; q < T_size; q++)
            for (int d = 0; d < 2; d++) {
                const long *x = all + 6 * p, *y = all + 6 * q;
                if (x[1 - d] == y[1 - d] && x[d] + 1 == y[d])
                    ok &= x[4 + d] == y[2 + d]; /* neighbours touch */
                if (x[1 - d] == y[1 - d] && x[d] == 0)
                    ok &= x[2 + d] == 0;
            }
    free(all);
    ok &= t_sum_u64(mine.n) == XGR * XGC;

    /* Each rank writes exactly its block: it writes its own chunks only. */
    pzarr_reset_stats(s);
    T_OK(write_block(a, &mine, 1), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    pzarr_stats sts;
    T_OK(pzarr_get_stats(s, &sts), NULL);
    ok &= sts.chunk_writes == mine.n && sts.chunk_reads == 0 &&
          sts.bytes_written == mine.n * XCR * XCC * sizeof(int32_t);
    ok &= check_all(a, 1);
    T_ASSERT_ALL(ok);

    /* Second query: every rank writes its neighbour's block. The data moves,
     * and the chunks are still written by their owners only. */
    block next;
    ok = owned_block(a, (T_rank + 1) % T_size, &next);
    pzarr_reset_stats(s);
    T_OK(write_block(a, &next, 2), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_OK(pzarr_get_stats(s, &sts), NULL);
    ok &= sts.chunk_writes == mine.n && sts.chunk_reads == 0;
    ok &= check_all(a, 2);
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    MPI_Comm_free(&cart);
}

/* The owner map of every chunk, as this rank sees it. */
static int *owner_table(pzarr_array *a, uint64_t g0, uint64_t g1)
{
    int *t = malloc(g0 * g1 * sizeof *t);
    assert_non_null(t);
    for (uint64_t i = 0; i < g0; i++)
        for (uint64_t j = 0; j < g1; j++)
            T_OK(pzarr_array_chunk_owner(a, (uint64_t[]){i, j}, &t[i * g1 + j]), "owner");
    return t;
}

/* set_owner is collective: when the last rank alone passes a process grid
 * that does not match the communicator, every rank returns the same error
 * naming that rank, and no rank's owner map changes. */
static void test_set_owner_bad_dims_on_one_rank(void **st)
{
    (void)st;
    const char *dir = t_dir("baddims");
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    uint64_t shape[2] = {XR, XC}, chunks[2] = {XCR, XCC};
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "a", t_meta3("int32", 2, shape, chunks, "0", NULL), &a),
         pzarr_errmsg(s));
    int *before = owner_table(a, XGR, XGC);
    int good[2] = {T_size, 1}, bad[2] = {T_size + 1, 1};
    bool culprit = T_rank == T_size - 1;
    int rc = pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, culprit ? bad : good);
    char want[128];
    snprintf(want, sizeof want, "process grid has %d ranks, the communicator %d", T_size + 1,
             T_size);
    const char *msg = pzarr_array_errmsg(a);
    int ok = rc == PZARR_EINVAL && strstr(msg, want) != NULL && t_same_str(msg);
    if (T_size > 1) {
        char who[32];
        snprintf(who, sizeof who, "rank %d: ", T_size - 1);
        ok &= strncmp(msg, who, strlen(who)) == 0;
    }
    int *after = owner_table(a, XGR, XGC);
    ok &= memcmp(before, after, XGR * XGC * sizeof *before) == 0;
    T_ASSERT_ALL(ok);
    /* The same call with good dims everywhere then succeeds everywhere. */
    T_OK(pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, good), pzarr_array_errmsg(a));
    free(before);
    free(after);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_array_each_chunk_once),
        cmocka_unit_test(test_cartesian_blocks),
        cmocka_unit_test(test_set_owner_bad_dims_on_one_rank),
    };
    return T_RUN(tests);
}
