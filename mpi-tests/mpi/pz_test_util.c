#include "pz_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int T_rank, T_size;

void t_rmtree(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

const char *t_dir(const char *name)
{
    static char buf[4096];
    const char *tn = getenv("PZARR_TEST_NAME");
    snprintf(buf, sizeof buf, "%s/%s-%s-np%d", PZARR_TEST_TMP, tn ? tn : "t", name, T_size);
    if (T_rank == 0) {
        t_rmtree(buf);
        mkdir(PZARR_TEST_TMP, 0777);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return buf;
}

int t_all(int cond)
{
    int all = 0;
    MPI_Allreduce(&cond, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    return all;
}

void t_ok(int rc, const char *msg, const char *file, int line)
{
    if (rc != 0)
        fprintf(stderr, "%s:%d: rank %d: rc %d (%s): %s\n", file, line, T_rank, rc,
                pzarr_strerror(rc), msg ? msg : "");
    assert_true(t_all(rc == 0));
}

int t_main(int argc, char **argv, const struct CMUnitTest *tests, size_t n,
           const char *group)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &T_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &T_size);
    int failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any ? 1 : 0;
}
