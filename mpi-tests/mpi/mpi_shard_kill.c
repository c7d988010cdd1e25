/*
 * Crash safety of sharded writes, driven by shard_kill.sh:
 *
 *   mpi_shard_kill init DIR               creates the array, generation 1
 *   mpi_shard_kill writer DIR BASE [N]    generations BASE+1, BASE+2, ...
 *                                          (N of them, or until killed:
 *                                          then it prints "ready" once the
 *                                          array is open and "flushed g"
 *                                          after each generation)
 *   mpi_shard_kill check DIR STATE BASE   one rank: every shard reads and is
 *                                          one generation, old or new
 *
 * A generation g writes the whole array (each rank a slab of rows that cuts
 * through shards) with the values g * 1000000 + linear index, then flushes.
 * The driver kills the writer job with SIGKILL at random moments; after
 * each kill every shard must hold exactly one generation: the one it held
 * before this writer run (STATE) or one this run wrote, generations of
 * different shards at most one apart once the run completed a flush.
 * check prints "gens=g0,g1,... tmp=N" (N: leftover .pzarr-tmp-shard files).
 * Exit status 0 on success.
 */
#include "pzarr.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { R = 24, C = 20, SR = 8, SC = 10, NSR = R / SR, NSC = C / SC, NSHARDS = NSR * NSC };

static const char *META =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[24,20],\"data_type\":\"int64\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,10]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
    "\"fill_value\":0,\"codecs\":[{\"name\":\"sharding_indexed\",\"configuration\":"
    "{\"chunk_shape\":[4,5],\"codecs\":[{\"name\":\"bytes\",\"configuration\":"
    "{\"endian\":\"little\"}},{\"name\":\"zstd\",\"configuration\":{\"level\":1,"
    "\"checksum\":false}}],\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":"
    "{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]}";

static int64_t value(int64_t g, uint64_t i, uint64_t j)
{
    return g * 1000000 + (int64_t)(i * C + j);
}

static int fail(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "mpi_shard_kill: %s: rc %d (%s): %s\n", what, rc, pzarr_strerror(rc),
            msg ? msg : "");
    return 1;
}

/* Writes generations base+1 .. base+n (n < 0: forever). */
static int write_generations(pzarr_array *a, int64_t base, long n)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    uint64_t lo = (uint64_t)R * (uint64_t)rank / (uint64_t)size;
    uint64_t hi = (uint64_t)R * (uint64_t)(rank + 1) / (uint64_t)size;
    int64_t *buf = malloc((size_t)R * C * sizeof *buf);
    int bad = 0;
    for (long k = 0; !bad && (n < 0 || k < n); k++) {
        int64_t g = base + 1 + k;
        for (uint64_t i = lo; i < hi; i++)
            for (uint64_t j = 0; j < C; j++)
                buf[(i - lo) * C + j] = value(g, i, j);
        uint64_t st[2] = {lo, 0}, cnt[2] = {hi - lo, C};
        int rc = pzarr_array_write(a, st, cnt, buf);
        if (rc)
            bad = fail("write", rc, pzarr_array_errmsg(a));
        /* Every rank joins the flush, whatever its write did. */
        rc = pzarr_array_flush(a);
        if (rc)
            bad = fail("flush", rc, pzarr_array_errmsg(a));
        else if (rank == 0 && n < 0)
            printf("flushed %lld\n", (long long)g), fflush(stdout);
    }
    free(buf);
    return bad;
}

static int run_init(const char *dir)
{
    pzarr_store *s;
    pzarr_array *a;
    int rc = pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s);
    if (rc)
        return fail("open", rc, pzarr_errmsg(s));
    rc = pzarr_array_create(s, "arr", META, &a);
    if (rc)
        return fail("create", rc, pzarr_errmsg(s));
    int bad = write_generations(a, 0, 1);
    rc = pzarr_array_close(a);
    pzarr_close(s);
    return bad || rc;
}

static int run_writer(const char *dir, int64_t base, long n)
{
    pzarr_store *s;
    pzarr_array *a;
    int rc = pzarr_open(MPI_COMM_WORLD, dir, PZARR_RDWR, &s);
    if (rc)
        return fail("open", rc, pzarr_errmsg(s));
    rc = pzarr_array_open(s, "arr", &a);
    if (rc)
        return fail("array open", rc, pzarr_errmsg(s));
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0 && n < 0) /* the driver's clock starts here */
        printf("ready\n"), fflush(stdout);
    int bad = write_generations(a, base, n);
    rc = pzarr_array_close(a);
    pzarr_close(s);
    return bad || rc;
}

static int count_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' &&
            (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
            continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat sb;
        size_t len = strlen(de->d_name), sl = strlen(".pzarr-tmp-shard");
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            n += count_tmp(p);
        else if (len > sl && strcmp(de->d_name + len - sl, ".pzarr-tmp-shard") == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* The generation every element of shard (si, sj) holds, or -1 (message). */
static int64_t shard_generation(pzarr_array *a, int si, int sj)
{
    int64_t buf[SR * SC];
    uint64_t st[2] = {(uint64_t)si * SR, (uint64_t)sj * SC}, cnt[2] = {SR, SC};
    int rc = pzarr_array_read(a, st, cnt, buf);
    if (rc) {
        fail("read of a shard", rc, pzarr_array_errmsg(a));
        return -1;
    }
    int64_t g = buf[0] / 1000000;
    for (uint64_t i = 0; i < SR; i++)
        for (uint64_t j = 0; j < SC; j++)
            if (buf[i * SC + j] != value(g, st[0] + i, st[1] + j)) {
                fprintf(stderr, "mpi_shard_kill: shard c/%d/%d mixes generations: element "
                        "[%llu,%llu] = %lld, its first element says generation %lld\n",
                        si, sj, (unsigned long long)(st[0] + i),
                        (unsigned long long)(st[1] + j), (long long)buf[i * SC + j],
                        (long long)g);
                return -1;
            }
    return g;
}

/* Old-or-new: each shard keeps its previous generation or holds one of this
 * run's (> base); once this run completed a flush (some generation > base+1)
 * every shard holds one of the last two. */
static int judge(const int64_t *prev, const int64_t *g, int64_t base)
{
    int64_t top = 0;
    for (int k = 0; k < NSHARDS; k++)
        top = g[k] > top ? g[k] : top;
    for (int k = 0; k < NSHARDS; k++) {
        int ok = g[k] == prev[k] || g[k] > base;
        ok &= g[k] >= prev[k];
        if (top > base + 1)
            ok &= g[k] >= top - 1;
        if (!ok) {
            fprintf(stderr, "mpi_shard_kill: shard %d holds generation %lld; before this "
                    "writer run it held %lld, this run wrote %lld..%lld\n",
                    k, (long long)g[k], (long long)prev[k], (long long)base + 1,
                    (long long)top);
            return 1;
        }
    }
    return 0;
}

static int run_check(const char *dir, const char *state, int64_t base)
{
    int64_t prev[NSHARDS], g[NSHARDS];
    FILE *f = fopen(state, "r");
    for (int k = 0; k < NSHARDS; k++) {
        long long v = 1;
        if (f && fscanf(f, "%lld", &v) != 1)
            v = 1;
        prev[k] = v;
    }
    if (f)
        fclose(f);
    pzarr_store *s;
    pzarr_array *a;
    int rc = pzarr_open(MPI_COMM_WORLD, dir, PZARR_RDONLY, &s);
    if (rc)
        return fail("open", rc, pzarr_errmsg(s));
    rc = pzarr_array_open(s, "arr", &a);
    if (rc)
        return fail("array open", rc, pzarr_errmsg(s));
    int bad = 0;
    for (int si = 0; si < NSR; si++)
        for (int sj = 0; sj < NSC; sj++)
            bad |= (g[si * NSC + sj] = shard_generation(a, si, sj)) < 0;
    pzarr_array_close(a);
    pzarr_close(s);
    if (bad || judge(prev, g, base))
        return 1;
    f = fopen(state, "w");
    for (int k = 0; f && k < NSHARDS; k++)
        fprintf(f, "%lld\n", (long long)g[k]);
    if (!f || fclose(f) != 0)
        return fail("cannot write the state file", 0, state);
    printf("gens=");
    for (int k = 0; k < NSHARDS; k++)
        printf("%s%lld", k ? "," : "", (long long)g[k]);
    printf(" tmp=%d\n", count_tmp(dir));
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rc = 2;
    if (argc == 3 && strcmp(argv[1], "init") == 0)
        rc = run_init(argv[2]);
    else if ((argc == 4 || argc == 5) && strcmp(argv[1], "writer") == 0)
        rc = run_writer(argv[2], atoll(argv[3]), argc == 5 ? atol(argv[4]) : -1);
    else if (argc == 5 && strcmp(argv[1], "check") == 0)
        rc = run_check(argv[2], argv[3], atoll(argv[4]));
    else
        fprintf(stderr, "usage: mpi_shard_kill init DIR | writer DIR BASE [N] | "
                        "check DIR STATE BASE\n");
    MPI_Finalize();
    return rc;
}
