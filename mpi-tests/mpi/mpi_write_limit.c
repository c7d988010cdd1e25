/*
 * The per-rank bound on unflushed write bytes (pzarr_array_set_write_limit).
 *
 * Measured behaviour (documented here and asserted below):
 *  - the bound counts the data bytes of the writes a rank holds since its
 *    last flush (elements x itemsize), per rank, not summed over ranks;
 *  - a write is refused with PZARR_EBUFFULL when its bytes plus those already
 *    held exceed the bound; a write of exactly the bound is accepted;
 *  - a refused write stores nothing: a flush after it leaves the array as it
 *    was and writes no chunk;
 *  - the refusal names the array and the limit; after a flush the rank holds
 *    nothing again and the same write is accepted;
 *  - setting the limit to 0 restores the default (2 GiB).
 * The chunks here are larger than any write, so every write waits in the
 * buffer (a whole chunk that a rank owns would be staged at once and hold
 * no memory; mpi_staged_writes tests that).
 */
#include "pz_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024u * 1024u)
#define LEN 600000u  /* float64 elements */
#define SPAN 140000u /* each rank's region */

static double val(uint64_t i, int gen) { return (double)i + gen * 0.125 + 1.0; }

static double *make(uint64_t base, uint64_t n, int gen)
{
    double *b = malloc(n * sizeof *b);
    for (uint64_t k = 0; k < n; k++)
        b[k] = val(base + k, gen);
    return b;
}

/* Whether [0, LEN) holds gen's values on [lo, hi) of every rank's region
 * (relative to its base) and the fill value elsewhere. */
static int check(pzarr_array *a, uint64_t lo, uint64_t hi, int gen)
{
    double *got = malloc(LEN * sizeof *got);
    uint64_t z = 0, n = LEN;
    int ok = pzarr_array_read(a, &z, &n, got) == 0;
    for (uint64_t i = 0; i < LEN && ok; i++) {
        uint64_t r = i / SPAN, off = i % SPAN;
        int in = r < (uint64_t)T_size && off >= lo && off < hi;
        ok = got[i] == (in ? val(i, gen) : 0.0);
        if (!ok)
            fprintf(stderr, "rank %d: element %llu = %g\n", T_rank, (unsigned long long)i,
                    got[i]);
    }
    free(got);
    return ok;
}

static uint64_t total_chunk_writes(pzarr_store *s)
{
    pzarr_stats st;
    pzarr_get_stats(s, &st);
    return t_sum_u64(st.chunk_writes + st.chunk_deletes);
}

static void test_write_limit(void **st)
{
    (void)st;
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, t_dir("limit"), PZARR_CREATE, &s), pzarr_errmsg(s));
    uint64_t shape = LEN, chunk = 200000;
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "lim", t_meta3("float64", 1, &shape, &chunk, "0.0", NULL), &a),
         pzarr_errmsg(s));
    T_OK(pzarr_array_set_write_limit(a, MIB), pzarr_array_errmsg(a));
    uint64_t base = (uint64_t)T_rank * SPAN, full = MIB / 8;

    /* One element over the bound: refused, nothing stored. */
    uint64_t n = full + 1;
    double *big = make(base, n, 1);
    int rc = pzarr_array_write(a, &base, &n, big);
    const char *msg = pzarr_array_errmsg(a);
    T_ASSERT_ALL(rc == PZARR_EBUFFULL && strstr(msg, "\"lim\"") && strstr(msg, "1048576"));
    pzarr_reset_stats(s);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(total_chunk_writes(s) == 0 && check(a, 0, 0, 1));

    /* Exactly the bound: accepted. One more element: refused (held bytes
     * count), and it is not stored by the next flush. */
    T_OK(pzarr_array_write(a, &base, &full, big), pzarr_array_errmsg(a));
    uint64_t after = base + full, one = 1;
    double x = -9.0;
    rc = pzarr_array_write(a, &after, &one, &x);
    T_ASSERT_ALL(rc == PZARR_EBUFFULL);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(check(a, 0, full, 1));

    /* After the flush the rank holds nothing: a smaller write works. */
    uint64_t small = 1000;
    double *sm = make(base, small, 2);
    T_OK(pzarr_array_write(a, &base, &small, sm), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    double *mixed = malloc(LEN * sizeof *mixed);
    uint64_t z = 0, len = LEN;
    T_OK(pzarr_array_read(a, &z, &len, mixed), pzarr_array_errmsg(a));
    int ok = 1;
    for (uint64_t i = 0; i < full + 1; i++)
        ok &= mixed[base + i] == (i < small ? val(base + i, 2) : i < full ? val(base + i, 1) : 0.0);
    T_ASSERT_ALL(ok);

    /* 0 restores the default bound: the refused write now goes through. */
    T_OK(pzarr_array_set_write_limit(a, 0), pzarr_array_errmsg(a));
    T_OK(pzarr_array_write(a, &base, &n, big), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(check(a, 0, full + 1, 1));
    free(big);
    free(sm);
    free(mixed);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_limit),
    };
    return T_RUN(tests);
}
