/*
 * Memory test of the write path at 2 ranks: rank 0 writes 256 MiB in one
 * call, 40 of the 64 chunks it touches owned by rank 1, under the default
 * write limit (2 GiB); rank 1 writes a small piece into a chunk of rank 0.
 * The flush moves the data (in rounds of bounded size); a sample of elements
 * and the chunk boundaries between the owners are checked on both ranks,
 * and each chunk is written once, by its owner. Measured: about 16 s on a
 * loaded 2-core machine; peak RSS about 530 MiB on rank 0 (its buffer plus
 * the write log's copy of it).
 */
#include "pz_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M (1024u * 1024u)
#define LEN (80ull * M)   /* uint32 elements: 320 MiB */
#define CHUNK (1ull * M)  /* 4 MiB chunks, 80 of them */
#define LO (16ull * M)    /* rank 0 writes [LO, LEN): 256 MiB */
#define SMALL 1000ull     /* rank 1 writes [0, SMALL) */

static uint32_t val(uint64_t i) { return (uint32_t)(i * 2654435761u) | 1u; }

static void test_256mib_to_other_owner(void **st)
{
    (void)st;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", t_dir("big"));
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    uint64_t shape = LEN, chunk = CHUNK;
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "big", t_meta3("uint32", 1, &shape, &chunk, "0", NULL), &a),
         pzarr_errmsg(s));
    uint64_t start = T_rank == 0 ? LO : 0, n = T_rank == 0 ? LEN - LO : SMALL;
    if (T_size > 2 && T_rank > 1)
        n = 0;
    uint32_t *buf = malloc(n * sizeof *buf + 4);
    T_ASSERT_ALL(buf != NULL);
    for (uint64_t k = 0; k < n; k++)
        buf[k] = val(start + k);
    T_OK(pzarr_array_write(a, &start, &n, buf), pzarr_array_errmsg(a));
    free(buf);
    pzarr_reset_stats(s);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    pzarr_stats sts;
    T_OK(pzarr_get_stats(s, &sts), NULL);
    uint64_t owned = 0;
    for (uint64_t c = 0; c < LEN / CHUNK; c++) {
        int o = -1;
        pzarr_array_chunk_owner(a, &c, &o);
        owned += o == T_rank && (c == 0 || c >= LO / CHUNK);
    }
    int ok = sts.chunk_writes == owned;
    ok &= t_sum_u64(sts.chunk_writes) == 1 + (LEN - LO) / CHUNK;

    /* Samples: random boxes of 16, the owner boundary, both ends. */
    uint64_t at[24] = {0, SMALL - 8, LO - 8, LEN / 2 - 8, LEN - 16, 40 * CHUNK - 3};
    uint32_t seed = 12345u + (uint32_t)T_rank;
    for (int k = 6; k < 24; k++) {
        seed = seed * 1664525u + 1013904223u;
        at[k] = (uint64_t)seed * (LEN - 16) / 4294967296ull;
    }
    for (int k = 0; k < 24 && ok; k++) {
        uint32_t got[16];
        uint64_t cnt = 16;
        ok = pzarr_array_read(a, &at[k], &cnt, got) == 0;
        for (uint64_t e = 0; e < 16 && ok; e++) {
            uint64_t i = at[k] + e;
            ok = got[e] == ((i < SMALL || i >= LO) ? val(i) : 0u);
            if (!ok)
                fprintf(stderr, "rank %d: element %llu = %u\n", T_rank, (unsigned long long)i,
                        got[e]);
        }
    }
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    MPI_Barrier(MPI_COMM_WORLD);
    if (T_rank == 0)
        t_rmtree(dir); /* 260 MiB of chunks */
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_256mib_to_other_owner),
    };
    return T_RUN(tests);
}
