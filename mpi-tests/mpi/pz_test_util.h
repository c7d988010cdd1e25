/* Helpers shared by the MPI tests. */
#ifndef PZ_TEST_UTIL_H
#define PZ_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <mpi.h>

#include "pzarr.h"

extern int T_rank, T_size;

/* A fresh directory for this test and rank count, made by rank 0 and seen
 * by all (collective). Returns a static buffer. */
const char *t_dir(const char *name);
/* Removes a tree (rank 0 only; the caller synchronises). */
void t_rmtree(const char *path);
/* True on every rank iff cond is true on every rank (collective). */
int t_all(int cond);
/* Asserts, on every rank, that every rank's condition holds. */
#define T_ASSERT_ALL(cond) assert_true(t_all((cond) ? 1 : 0))
/* Asserts rc == 0 on every rank, printing the message where it is not. */
#define T_OK(rc, msg)                            \
    do {                                         \
        int t_ok_rc_ = (rc);                     \
        t_ok(t_ok_rc_, (msg), __FILE__, __LINE__); \
    } while (0)
void t_ok(int rc, const char *msg, const char *file, int line);
/* Runs the group with MPI initialised; the process's exit code. */
int t_main(int argc, char **argv, const struct CMUnitTest *tests, size_t n,
           const char *group);
#define T_RUN(tests) t_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]), __FILE__)

/* ---- Helpers of the parallel-engine tests (mpi_overlapping_writes, mpi_owner, ...) ---- */
/* A Zarr v3 array document with the "default" chunk key encoding ("c/1/0"),
 * the "bytes" codec (little endian) followed by extra_codecs (a JSON text
 * that starts with a comma, e.g. ",{\"name\":\"crc32c\"}", or NULL).
 * fill is the fill value's JSON text. Returns a static buffer. Local. */
const char *t_meta3(const char *dtype, int ndim, const uint64_t *shape,
                    const uint64_t *chunks, const char *fill, const char *extra_codecs);
/* Sum over all ranks (collective). */
uint64_t t_sum_u64(uint64_t v);
/* True on every rank iff s is the same string on every rank (collective). */
int t_same_str(const char *s);
/* Reads a whole file into a malloc'd buffer (NULL if absent). Local. */
unsigned char *t_slurp(const char *path, size_t *size);
/* Writes a whole file (0 on success). Local. */
int t_spit(const char *path, const void *data, size_t size);

#endif
