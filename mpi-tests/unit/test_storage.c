/* The storage backends' gathered write: spans of memory land back to back
 * in the file, from the given offset, without disturbing the bytes before
 * it; through POSIX (pwritev, more spans than one call takes) and MPI-IO.
 * One process (MPI singleton). */
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
#include <unistd.h>

#include "storage/storage.h"

#include "unit_util.h"

enum { NSPANS = 150, HEAD = 37 };

static void check_gather(const pz_backend *be, const char *name)
{
    char path[4096];
    mkdir(PZARR_TEST_TMP, 0777);
    snprintf(path, sizeof path, "%s/unit-storage-%s", PZARR_TEST_TMP, name);
    unlink(path);

    /* Spans of 0 to 1000 bytes taken from scattered places of one block. */
    size_t total = 0, lens[NSPANS];
    for (int i = 0; i < NSPANS; i++) {
        lens[i] = (size_t)((i * 7919) % 1001);
        total += lens[i];
    }
    unsigned char *src = malloc(2 * total + 1), *want = malloc(HEAD + total);
    unsigned char *got = malloc(HEAD + total + 16);
    assert_non_null(src);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < 2 * total + 1; i++)
        src[i] = (unsigned char)(i * 131 + 7);
    memset(want, 0xAB, HEAD);
    pz_span spans[NSPANS];
    size_t at = 0, pos = HEAD;
    for (int i = NSPANS - 1; i >= 0; i--) { /* out of order in memory */
        spans[i] = (pz_span){src + at, lens[i]};
        at += lens[i] + (size_t)(i % 3);
    }
    for (int i = 0; i < NSPANS; i++) {
        memcpy(want + pos, spans[i].src, lens[i]);
        pos += lens[i];
    }

    pz_err e;
    pz_err_clear(&e);
    pz_file f;
    assert_int_equal(be->open(&f, path, PZ_FILE_WRITE | PZ_FILE_CREATE, MPI_INFO_NULL, &e), 0);
    assert_int_equal(be->write_at(&f, 0, want, HEAD, &e), 0);
    assert_int_equal(be->write_gather(&f, HEAD, spans, NSPANS, &e), 0);
    assert_int_equal(be->close(&f, &e), 0);

    assert_int_equal(pz_posix_backend.open(&f, path, PZ_FILE_READ, MPI_INFO_NULL, &e), 0);
    size_t n = 0;
    assert_int_equal(pz_posix_backend.read_at(&f, 0, got, HEAD + total + 16, &n, &e), 0);
    assert_int_equal(pz_posix_backend.close(&f, &e), 0);
    assert_int_equal(n, HEAD + total);
    assert_memory_equal(got, want, HEAD + total);

    /* read_runs: the spans read back into scattered places, runs that
     * follow each other in the file (the gathered reads) and runs that do
     * not (every third one skipped); a run past the end is corrupt. */
    unsigned char *back = calloc(2 * total + 1, 1);
    assert_non_null(back);
    pz_run runs[NSPANS];
    size_t nr = 0;
    uint64_t off = HEAD;
    for (int i = 0; i < NSPANS; i++) {
        size_t d = (size_t)((const unsigned char *)spans[i].src - src);
        if (i % 3 != 2)
            runs[nr++] = (pz_run){off, back + d, lens[i]};
        off += lens[i];
    }
    assert_int_equal(be->open(&f, path, PZ_FILE_READ, MPI_INFO_NULL, &e), 0);
    assert_int_equal(be->read_runs(&f, runs, nr, &e), 0);
    for (size_t r = 0; r < nr; r++)
        assert_memory_equal(runs[r].dst, src + ((unsigned char *)runs[r].dst - back),
                            runs[r].len);
    pz_run past = {HEAD + total - 4, back, 8};
    assert_int_equal(be->read_runs(&f, &past, 1, &e), PZARR_ECORRUPT);
    assert_non_null(strstr(e.msg, "short read"));
    assert_int_equal(be->close(&f, NULL), 0);
    free(back);
    unlink(path);
    free(src);
    free(want);
    free(got);
}

static void test_gather_posix(void **state)
{
    (void)state;
    check_gather(&pz_posix_backend, "posix");
}

static void test_gather_mpiio(void **state)
{
    (void)state;
    check_gather(&pz_mpiio_backend, "mpiio");
}

int main(int argc, char **argv)
{
    LSAN_OFF();
    MPI_Init(&argc, &argv);
    LSAN_ON();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_posix),
        cmocka_unit_test(test_gather_mpiio),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
