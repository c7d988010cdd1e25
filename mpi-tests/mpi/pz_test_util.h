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
#define T_OK(rc, msg) t_ok((rc), (msg), __FILE__, __LINE__)
void t_ok(int rc, const char *msg, const char *file, int line);
/* Runs the group with MPI initialised; the process's exit code. */
int t_main(int argc, char **argv, const struct CMUnitTest *tests, size_t n,
           const char *group);
#define T_RUN(tests) t_main(argc, argv, tests, sizeof(tests) / sizeof(tests[0]), __FILE__)

#endif
