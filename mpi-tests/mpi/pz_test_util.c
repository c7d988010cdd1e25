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
    /* FUNNELED, what pzarr's background workers need; PZARR_TEST_THREAD_LEVEL
     * =single runs a test below it */
    const char *lvl = getenv("PZARR_TEST_THREAD_LEVEL");
    if (lvl && !strcmp(lvl, "single")) {
        MPI_Init(&argc, &argv);
    } else {
        int provided;
        MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &T_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &T_size);
    int failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    int any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any ? 1 : 0;
}

/* ---- Helpers of the parallel-engine tests (mpi_overlapping_writes, mpi_owner, ...) ---- */

static size_t t_dims_json(char *out, size_t cap, int ndim, const uint64_t *v)
{
    size_t o = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < ndim && o < cap; d++)
        o += (size_t)snprintf(out + o, cap - o, "%s%llu", d ? "," : "",
                              (unsigned long long)v[d]);
    if (o < cap)
        o += (size_t)snprintf(out + o, cap - o, "]");
    return o;
}

const char *t_meta3(const char *dtype, int ndim, const uint64_t *shape,
                    const uint64_t *chunks, const char *fill, const char *extra_codecs)
{
    static char buf[8192];
    char sh[1024], ch[1024];
    t_dims_json(sh, sizeof sh, ndim, shape);
    t_dims_json(ch, sizeof ch, ndim, chunks);
    snprintf(buf, sizeof buf,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":%s,"
             "\"data_type\":\"%s\",\"chunk_grid\":{\"name\":\"regular\","
             "\"configuration\":{\"chunk_shape\":%s}},\"chunk_key_encoding\":"
             "{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
             "\"fill_value\":%s,\"codecs\":[{\"name\":\"bytes\",\"configuration\":"
             "{\"endian\":\"little\"}}%s]}",
             sh, dtype, ch, fill, extra_codecs ? extra_codecs : "");
    return buf;
}

uint64_t t_sum_u64(uint64_t v)
{
    uint64_t sum = 0;
    MPI_Allreduce(&v, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    return sum;
}

int t_same_str(const char *s)
{
    char mine[4096], root[4096];
    snprintf(mine, sizeof mine, "%s", s ? s : "");
    memcpy(root, mine, sizeof root);
    MPI_Bcast(root, (int)sizeof root, MPI_CHAR, 0, MPI_COMM_WORLD);
    return t_all(strcmp(mine, root) == 0);
}

unsigned char *t_slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    *size = 0;
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    unsigned char *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(b, cap *= 2);
            if (!nb)
                free(b);
            b = nb;
        }
    }
    fclose(f);
    *size = n;
    return b;
}

int t_spit(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t put = size ? fwrite(data, 1, size, f) : 0;
    return (fclose(f) == 0 && put == size) ? 0 : -1;
}
