/*
 * A flush is all or nothing, whenever the job dies. Driven by kill_test.sh:
 *
 *   mpi_kill MODE init DIR             creates the array at generation 1
 *   mpi_kill MODE writer DIR BASE [N]  generations BASE+1, BASE+2, ... (N of
 *                                      them, or until killed); prints
 *                                      "ready" once open, "flushed G" after
 *                                      each flush
 *   mpi_kill MODE check DIR            one rank, read-only: prints "gen=G
 *                                      len=T tmp=N record=R" when every
 *                                      element holds one generation's value
 *   mpi_kill MODE clean DIR            pzarr_clean of the store
 *
 * MODE: plain (no codec) or zstd: 24x20 int64 in 6x5 chunks, rewritten
 * whole by every generation, each rank a slab of rows that cuts chunks;
 * shard: the same in 8x10 shards of 4x5 inner chunks; append: a time
 * series of 6x5 slabs, each generation resizing by one step and writing
 * the new step (rank r the rows of its share).
 * async: as zstd, each generation checkpointed with pzarr_array_iflush, a
 * few milliseconds of computing, then pzarr_wait (the kill lands while the
 * background workers write, or between).
 * The value of an element is G * 1000000 + its index: 0 (the fill value)
 * anywhere means a write was lost.
 */
#include "pzarr.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { R = 24, C = 20, AR = 6, AC = 5 };

static int rank, size;

static const char *meta_of(const char *mode)
{
    static char doc[2048];
    const char *grid = "{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[6,5]}}";
    const char *codecs = "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]";
    const char *shape = "[24,20]";
    if (!strcmp(mode, "zstd") || !strcmp(mode, "async"))
        codecs = "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                 "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}]";
    if (!strcmp(mode, "shard")) {
        grid = "{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,10]}}";
        codecs = "[{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,5],"
                 "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                 "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}],"
                 "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
                 "\"little\"}},{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]";
    }
    if (!strcmp(mode, "append")) {
        grid = "{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[1,3,5]}}";
        shape = "[1,6,5]";
    }
    snprintf(doc, sizeof doc,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":%s,\"data_type\":\"int64\","
             "\"chunk_grid\":%s,\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
             "\"codecs\":%s}",
             shape, grid, codecs);
    return doc;
}

static int fail(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "mpi_kill: rank %d: %s: rc %d (%s): %s\n", rank, what, rc,
            pzarr_strerror(rc), msg ? msg : "");
    return 1;
}

/* One generation: the whole array, or (append) one more step. */
static bool async_mode;

static int write_generation(pzarr_array *a, bool append, int64_t g)
{
    pzarr_array_info info;
    pzarr_array_get_info(a, &info);
    uint64_t rows = append ? AR : R, cols = append ? AC : C;
    uint64_t lo = rows * (uint64_t)rank / (uint64_t)size;
    uint64_t hi = rows * (uint64_t)(rank + 1) / (uint64_t)size;
    int64_t *buf = malloc((hi - lo + 1) * cols * sizeof *buf);
    for (uint64_t i = lo; i < hi; i++)
        for (uint64_t j = 0; j < cols; j++)
            buf[(i - lo) * cols + j] = g * 1000000 + (int64_t)(i * cols + j);
    int rc;
    if (append) {
        uint64_t t = info.shape[0], ns[3] = {t + 1, AR, AC};
        rc = pzarr_array_resize(a, ns);
        uint64_t st[3] = {t, lo, 0}, n[3] = {1, hi - lo, AC};
        if (rc == 0)
            rc = pzarr_array_write(a, st, n, buf);
    } else {
        uint64_t st[2] = {lo, 0}, n[2] = {hi - lo, C};
        rc = pzarr_array_write(a, st, n, buf);
    }
    free(buf);
    if (rc)
        return fail("write", rc, pzarr_array_errmsg(a));
    if (async_mode) {
        pzarr_request r;
        rc = pzarr_array_iflush(a, &r);
        volatile double x = 0; /* the simulation's next step */
        for (long i = 0; rc == 0 && i < 2000000; i++)
            x += 1e-9 * (double)i;
        if (rc == 0)
            rc = pzarr_wait(&r);
        return rc ? fail("iflush/wait", rc, pzarr_array_errmsg(a)) : 0;
    }
    rc = pzarr_array_flush(a);
    return rc ? fail("flush", rc, pzarr_array_errmsg(a)) : 0;
}

static int open_array(const char *dir, int flags, pzarr_store **s, pzarr_array **a, MPI_Comm comm)
{
    int rc = pzarr_open(comm, dir, flags, s);
    if (rc)
        return fail("open", rc, *s ? pzarr_errmsg(*s) : NULL);
    rc = pzarr_array_open(*s, "a", a);
    return rc ? fail("array open", rc, pzarr_errmsg(*s)) : 0;
}

static int cmd_init(const char *mode, const char *dir)
{
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    int rc = pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s);
    if (rc == 0)
        rc = pzarr_array_create(s, "a", meta_of(mode), &a);
    if (rc)
        return fail("create", rc, s ? pzarr_errmsg(s) : NULL);
    if (!strcmp(mode, "append")) {
        /* Generation 1 is step 0. */
        int64_t g = 1;
        uint64_t lo = AR * (uint64_t)rank / (uint64_t)size, hi = AR * (uint64_t)(rank + 1) / (uint64_t)size;
        int64_t buf[AR * AC];
        for (uint64_t i = lo; i < hi; i++)
            for (uint64_t j = 0; j < AC; j++)
                buf[(i - lo) * AC + j] = g * 1000000 + (int64_t)(i * AC + j);
        uint64_t st[3] = {0, lo, 0}, n[3] = {1, hi - lo, AC};
        rc = pzarr_array_write(a, st, n, buf);
        if (rc == 0)
            rc = pzarr_array_flush(a);
    } else {
        rc = write_generation(a, false, 1);
    }
    if (rc == 0)
        rc = pzarr_close(s);
    return rc ? fail("init", rc, pzarr_errmsg(s)) : 0;
}

static int cmd_writer(const char *mode, const char *dir, int64_t base, long n)
{
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    if (open_array(dir, PZARR_RDWR, &s, &a, MPI_COMM_WORLD))
        return 1;
    if (rank == 0) {
        printf("ready\n");
        fflush(stdout);
    }
    for (long k = 1; n < 0 || k <= n; k++) {
        if (write_generation(a, !strcmp(mode, "append"), base + k))
            return 1;
        if (rank == 0) {
            printf("flushed %lld\n", (long long)(base + k));
            fflush(stdout);
        }
    }
    int rc = pzarr_close(s);
    return rc ? fail("close", rc, NULL) : 0;
}

/* Temporary files and commit records under dir. */
static void count_leftovers(const char *dir, int *tmp, int *record)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[4300];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            count_leftovers(p, tmp, record);
        else if (strstr(de->d_name, ".pzarr-tmp"))
            (*tmp)++;
        else if (!strcmp(de->d_name, ".pzarr-commit"))
            (*record)++;
    }
    if (d)
        closedir(d);
}

/* Every element of the slab holds generation g's value; g from element 0. */
static int check_slab(const int64_t *v, uint64_t n, int64_t *g, const char *where)
{
    *g = v[0] / 1000000;
    for (uint64_t i = 0; i < n; i++)
        if (v[i] != *g * 1000000 + (int64_t)i) {
            fprintf(stderr, "mpi_kill: %s: element %llu holds %lld; generation %lld (from "
                    "element 0) means %lld: a mix of flushes, or a lost write\n",
                    where, (unsigned long long)i, (long long)v[i], (long long)*g,
                    (long long)(*g * 1000000 + (int64_t)i));
            return 1;
        }
    return *g > 0 ? 0 : 1;
}

static int cmd_check(const char *mode, const char *dir)
{
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    if (open_array(dir, PZARR_RDONLY, &s, &a, MPI_COMM_SELF))
        return 1;
    pzarr_array_info info;
    pzarr_array_get_info(a, &info);
    bool append = !strcmp(mode, "append");
    uint64_t steps = append ? info.shape[0] : 1, per = append ? AR * AC : R * C;
    int64_t *buf = malloc(steps * per * sizeof *buf), g = 0, prev = 0;
    uint64_t st[3] = {0, 0, 0};
    int rc = pzarr_array_read(a, st, info.shape, buf);
    if (rc)
        return fail("read", rc, pzarr_array_errmsg(a));
    int bad = 0;
    for (uint64_t t = 0; t < steps && !bad; t++) {
        char where[64];
        snprintf(where, sizeof where, append ? "step %llu" : "array",
                 (unsigned long long)t);
        bad = check_slab(buf + t * per, per, &g, where);
        if (!bad && append && t > 0 && g <= prev) {
            fprintf(stderr, "mpi_kill: step %llu has generation %lld after %lld\n",
                    (unsigned long long)t, (long long)g, (long long)prev);
            bad = 1;
        }
        prev = g;
    }
    free(buf);
    int tmp = 0, record = 0;
    char adir[4200];
    snprintf(adir, sizeof adir, "%s/a", dir);
    count_leftovers(adir, &tmp, &record);
    if (!bad)
        printf("gen=%lld len=%llu tmp=%d record=%d\n", (long long)g,
               (unsigned long long)steps, tmp, record);
    pzarr_close(s);
    return bad;
}

static int cmd_clean(const char *dir)
{
    pzarr_store *s = NULL;
    uint64_t fin = 0, rem = 0;
    int rc = pzarr_open(MPI_COMM_WORLD, dir, PZARR_RDWR, &s);
    if (rc == 0)
        rc = pzarr_clean(s, "", &fin, &rem);
    if (rc)
        return fail("clean", rc, s ? pzarr_errmsg(s) : NULL);
    if (rank == 0)
        printf("finished=%llu removed=%llu\n", (unsigned long long)fin, (unsigned long long)rem);
    return pzarr_close(s) ? 1 : 0;
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int rc = 2;
    const char *mode = argc > 1 ? argv[1] : "", *cmd = argc > 2 ? argv[2] : "";
    bool mode_ok = !strcmp(mode, "plain") || !strcmp(mode, "zstd") || !strcmp(mode, "shard") ||
                   !strcmp(mode, "append") || !strcmp(mode, "async");
    async_mode = !strcmp(mode, "async");
    if (mode_ok && !strcmp(cmd, "init") && argc == 4)
        rc = cmd_init(mode, argv[3]);
    else if (mode_ok && !strcmp(cmd, "writer") && argc >= 5)
        rc = cmd_writer(mode, argv[3], atoll(argv[4]), argc > 5 ? atol(argv[5]) : -1);
    else if (mode_ok && !strcmp(cmd, "check") && argc == 4)
        rc = rank == 0 ? cmd_check(mode, argv[3]) : 0;
    else if (mode_ok && !strcmp(cmd, "clean") && argc == 4)
        rc = cmd_clean(argv[3]);
    else
        fprintf(stderr, "usage: mpi_kill plain|zstd|shard|append|async init DIR | writer DIR BASE "
                        "[N] | check DIR | clean DIR\n");
    MPI_Finalize();
    return rc;
}
