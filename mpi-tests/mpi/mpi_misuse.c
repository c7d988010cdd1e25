/*
 * Misuse never aborts the job. Each case runs in its own process (the
 * argument names it) and must end with a clean MPI_Finalize and exit status
 * 0: before pzarr closed forgotten arrays, MPI_Finalize aborted the job
 * (windows left open).
 *
 *   mpi_misuse forgotten-close   pzarr_close with arrays still open: they
 *                                are flushed and closed, the data is there
 *   mpi_misuse double-close      closing an array or a store twice
 *   mpi_misuse null-handles      every call with NULL handles or arguments
 *   mpi_misuse failed-open       calls on a store whose open failed
 */
#include "pz_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;

#define EXPECT(cond)                                                                    \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "rank %d: %s:%d: expected %s\\n", T_rank, __FILE__, __LINE__, \
                    #cond);                                                             \
            failures++;                                                                 \
        }                                                                               \
    } while (0)

static const uint64_t SHAPE[2] = {8, 6}, CHUNKS[2] = {4, 3};

static const char *fresh(const char *name)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s/misuse-%s-np%d", PZARR_TEST_TMP, name, T_size);
    if (T_rank == 0) {
        mkdir(PZARR_TEST_TMP, 0777);
        t_rmtree(dir);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return dir;
}

/* Writes row T_rank (mod 8) with 100 * row + column. */
static int write_my_row(pzarr_array *a)
{
    uint64_t row = (uint64_t)T_rank % SHAPE[0], st[2] = {row, 0}, n[2] = {1, SHAPE[1]};
    int32_t v[6];
    for (int j = 0; j < 6; j++)
        v[j] = (int32_t)(100 * row + (uint64_t)j);
    return pzarr_array_write(a, st, n, v);
}

static void forgotten_close(void)
{
    const char *dir = fresh("forgotten");
    pzarr_store *s = NULL;
    pzarr_array *a = NULL, *b = NULL;
    EXPECT(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s) == 0);
    EXPECT(pzarr_array_create(s, "a", t_meta3("int32", 2, SHAPE, CHUNKS, "-1", NULL), &a) == 0);
    EXPECT(pzarr_array_create(s, "b", t_meta3("int32", 2, SHAPE, CHUNKS, "-1", NULL), &b) == 0);
    EXPECT(write_my_row(a) == 0 && write_my_row(b) == 0);
    /* Neither array is closed: pzarr_close flushes and closes both. */
    EXPECT(pzarr_close(s) == 0);
    /* The writes reached storage. */
    EXPECT(pzarr_open(MPI_COMM_WORLD, dir, PZARR_RDONLY, &s) == 0);
    EXPECT(pzarr_array_open(s, "b", &b) == 0);
    int32_t got[48];
    uint64_t z[2] = {0, 0};
    EXPECT(pzarr_array_read(b, z, SHAPE, got) == 0);
    for (int r = 0; r < 8; r++)
        for (int j = 0; j < 6; j++)
            EXPECT(got[r * 6 + j] == (r < T_size ? 100 * r + j : -1));
    EXPECT(pzarr_close(s) == 0); /* b closed by the store again */
}

static void double_close(void)
{
    const char *dir = fresh("double");
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    EXPECT(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s) == 0);
    EXPECT(pzarr_array_create(s, "a", t_meta3("int32", 2, SHAPE, CHUNKS, "0", NULL), &a) == 0);
    EXPECT(pzarr_array_close(a) == 0);
    /* The handle is gone: refused without being touched, on every rank. */
    EXPECT(pzarr_array_close(a) == PZARR_EINVAL);
    EXPECT(pzarr_array_flush(a) == PZARR_EINVAL);
    EXPECT(pzarr_close(s) == 0);
    EXPECT(pzarr_close(s) == PZARR_EINVAL);
}

static void null_handles(void)
{
    uint64_t z[2] = {0, 0}, one[2] = {1, 1};
    int32_t v = 0;
    int rank = 0;
    char *text = NULL;
    char **names = NULL;
    size_t n = 0;
    pzarr_array_info info;
    pzarr_stats st;
    EXPECT(pzarr_close(NULL) == 0);
    EXPECT(pzarr_array_close(NULL) == 0);
    EXPECT(pzarr_array_flush(NULL) == PZARR_EINVAL);
    EXPECT(pzarr_array_write(NULL, z, one, &v) == PZARR_EINVAL);
    EXPECT(pzarr_array_read(NULL, z, one, &v) == PZARR_EINVAL);
    EXPECT(pzarr_array_read_all(NULL, z, one, &v) == PZARR_EINVAL);
    EXPECT(pzarr_array_resize(NULL, one) == PZARR_EINVAL);
    EXPECT(pzarr_array_set_owner(NULL, PZARR_OWNER_BLOCK, NULL) == PZARR_EINVAL);
    EXPECT(pzarr_array_set_write_limit(NULL, 1) == PZARR_EINVAL);
    EXPECT(pzarr_array_chunk_owner(NULL, z, &rank) == PZARR_EINVAL);
    EXPECT(pzarr_array_get_info(NULL, &info) == PZARR_EINVAL);
    EXPECT(pzarr_array_metadata(NULL, &text) == PZARR_EINVAL);
    EXPECT(pzarr_group_create(NULL, "g", 3, NULL) == PZARR_EINVAL);
    EXPECT(pzarr_group_list(NULL, "", &names, &n) == PZARR_EINVAL);
    EXPECT(pzarr_attrs_get(NULL, "", &text) == PZARR_EINVAL);
    EXPECT(pzarr_attrs_set(NULL, "", "{}") == PZARR_EINVAL);
    EXPECT(pzarr_node_kind_of(NULL, "", NULL) == PZARR_EINVAL);
    EXPECT(pzarr_array_create(NULL, "a", "{}", NULL) == PZARR_EINVAL);
    EXPECT(pzarr_array_open(NULL, "a", NULL) == PZARR_EINVAL);
    EXPECT(pzarr_get_stats(NULL, &st) == PZARR_EINVAL);
    EXPECT(pzarr_clean(NULL, "", NULL, NULL) == PZARR_EINVAL);
    EXPECT(pzarr_open(MPI_COMM_WORLD, "x", PZARR_RDONLY, NULL) == PZARR_EINVAL);
    EXPECT(strlen(pzarr_errmsg(NULL)) > 0 && strlen(pzarr_array_errmsg(NULL)) > 0);
    pzarr_reset_stats(NULL);
    pzarr_free(NULL);
    pzarr_free_list(NULL, 3);
    /* A valid store with NULL out-arguments. */
    const char *dir = fresh("null");
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    EXPECT(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s) == 0);
    EXPECT(pzarr_array_create(s, "a", NULL, &a) == PZARR_EINVAL && !a);
    EXPECT(pzarr_array_create(s, "a", t_meta3("int32", 2, SHAPE, CHUNKS, "0", NULL), NULL) ==
           PZARR_EINVAL);
    EXPECT(pzarr_node_kind_of(s, "", NULL) == PZARR_EINVAL);
    EXPECT(pzarr_close(s) == 0);
}

static void failed_open(void)
{
    const char *dir = fresh("failed");
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/does-not-exist", dir);
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    int rc = pzarr_open(MPI_COMM_WORLD, missing, PZARR_RDONLY, &s);
    EXPECT(rc == PZARR_ENOENT && s != NULL);
    /* Every later call reports the failed open instead of going on. */
    EXPECT(pzarr_array_open(s, "a", &a) == PZARR_EINVAL && !a);
    EXPECT(strstr(pzarr_errmsg(s), "not opened") != NULL);
    pzarr_node_kind kind;
    EXPECT(pzarr_node_kind_of(s, "", &kind) == PZARR_EINVAL);
    EXPECT(pzarr_group_create(s, "g", 3, NULL) == PZARR_EINVAL);
    EXPECT(pzarr_close(s) == 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &T_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &T_size);
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "forgotten-close"))
        forgotten_close();
    else if (!strcmp(what, "double-close"))
        double_close();
    else if (!strcmp(what, "null-handles"))
        null_handles();
    else if (!strcmp(what, "failed-open"))
        failed_open();
    else {
        fprintf(stderr, "usage: mpi_misuse forgotten-close|double-close|null-handles|failed-open\n");
        failures++;
    }
    int all = 0;
    MPI_Allreduce(&failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    if (T_rank == 0)
        printf("misuse %s: %s\n", what, all ? "FAILED" : "ok, MPI_Finalize clean");
    return all ? 1 : 0;
}
