/*
 * A flush that runs out of space fails on every rank with the same code and
 * message, and the array reads exactly as before (enospc_test.sh mounts a
 * small tmpfs for it).
 *
 *   mpi_enospc DIR [async]   (DIR on a file system of about 256 KiB)
 *
 * async: the store opened with PZARR_ASYNC and the second generation
 * checkpointed with pzarr_array_iflush: the disk fills in a background
 * worker, and pzarr_wait fails on every rank with the space error.
 *
 * Generation 1 (a constant, compressed to almost nothing) fits; generation 2
 * (random doubles, which zstd cannot shrink: 512 KiB) cannot.
 */
#define _DEFAULT_SOURCE
#include "pzarr.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 256, CH = 64 };

static int rank, size;

static int leftovers(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        char p[4300];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
            continue;
        if (strstr(de->d_name, ".pzarr-tmp") || !strcmp(de->d_name, ".pzarr-commit"))
            n++;
        else if (de->d_type == DT_DIR)
            n += leftovers(p);
    }
    if (d)
        closedir(d);
    return n;
}

static int write_rows(pzarr_array *a, bool random)
{
    uint64_t lo = N * (uint64_t)rank / (uint64_t)size, hi = N * (uint64_t)(rank + 1) / (uint64_t)size;
    double *v = malloc((hi - lo + 1) * N * sizeof *v);
    uint64_t x = 0x9e3779b97f4a7c15ull ^ (uint64_t)rank;
    for (uint64_t i = 0; i < (hi - lo) * N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v[i] = random ? (double)x : 1.5;
    }
    uint64_t st[2] = {lo, 0}, n[2] = {hi - lo, N};
    int rc = pzarr_array_write(a, st, n, v);
    free(v);
    return rc;
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    bool async = argc == 3 && !strcmp(argv[2], "async");
    if (argc != 2 && !async) {
        fprintf(stderr, "usage: mpi_enospc DIR [async]\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    char doc[1024];
    snprintf(doc, sizeof doc,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[%d,%d],\"data_type\":"
             "\"float64\",\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":"
             "[%d,%d]}},\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
             "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
             "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}]}",
             N, N, CH, CH);
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    int bad = 0;
    if (pzarr_open(MPI_COMM_WORLD, argv[1], PZARR_CREATE | (async ? PZARR_ASYNC : 0), &s) ||
        pzarr_array_create(s, "a", doc, &a) ||
        write_rows(a, false) || pzarr_array_flush(a)) {
        fprintf(stderr, "rank %d: generation 1 failed: %s %s\n", rank, pzarr_errmsg(s),
                a ? pzarr_array_errmsg(a) : "");
        bad = 1;
    }
    /* A rank whose whole chunks are staged at write time may already see
     * the full disk in the write; the flush (called anyway: it is
     * collective) fails on every rank with one message. */
    int wrc = bad ? 0 : write_rows(a, true);
    char wmsg[1200];
    snprintf(wmsg, sizeof wmsg, "%s", a ? pzarr_array_errmsg(a) : "");
    int rc = 0;
    if (!bad && async) { /* the full disk is met by the background worker */
        pzarr_request req;
        pzarr_stats st;
        rc = pzarr_array_iflush(a, &req);
        pzarr_get_stats(s, &st);
        if (rc || st.iflushes != 1) {
            fprintf(stderr, "rank %d: iflush %d, %llu in the background\n", rank, rc,
                    (unsigned long long)st.iflushes);
            bad = 1;
        }
        rc = pzarr_wait(&req);
        if (req != NULL) {
            fprintf(stderr, "rank %d: pzarr_wait left its handle set\n", rank);
            bad = 1;
        }
    } else if (!bad) {
        rc = pzarr_array_flush(a);
    }
    if (wrc && !strstr(wmsg, "space")) {
        fprintf(stderr, "rank %d: the write failed with \"%s\", not a space error\n", rank,
                wmsg);
        bad = 1;
    }
    const char *msg = a ? pzarr_array_errmsg(a) : "";
    /* The same failure on every rank. */
    int codes[2] = {rc, -rc}, agree[2];
    MPI_Allreduce(codes, agree, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    unsigned long h = 5381;
    for (const char *p = msg; *p; p++)
        h = h * 33 + (unsigned char)*p;
    unsigned long hs[2] = {h, ~h}, hh[2];
    MPI_Allreduce(hs, hh, 2, MPI_UNSIGNED_LONG, MPI_MIN, MPI_COMM_WORLD);
    if (!bad && (rc == 0 || agree[0] != -agree[1] || hh[0] != ~hh[1] || !strstr(msg, "space"))) {
        fprintf(stderr, "rank %d: flush returned %d (%s): \"%s\"; want the same space error "
                "on every rank\n", rank, rc, pzarr_strerror(rc), msg);
        bad = 1;
    }
    if (rank == 0 && !bad)
        printf("flush failed as expected on every rank: %s: %s\n", pzarr_errname(rc), msg);
    pzarr_array_close(a);
    /* The array reads exactly as generation 1, and nothing staged is left. */
    if (rank == 0 && !bad) {
        pzarr_store *r = NULL;
        pzarr_array *b = NULL;
        double *v = malloc((size_t)N * N * sizeof *v);
        uint64_t z[2] = {0, 0}, n[2] = {N, N};
        if (pzarr_open(MPI_COMM_SELF, argv[1], PZARR_RDONLY, &r) || pzarr_array_open(r, "a", &b) ||
            pzarr_array_read(b, z, n, v)) {
            fprintf(stderr, "read back failed: %s\n", pzarr_errmsg(r));
            bad = 1;
        }
        for (int i = 0; !bad && i < N * N; i++)
            if (v[i] != 1.5) {
                fprintf(stderr, "element %d is %g after the failed flush, not 1.5\n", i, v[i]);
                bad = 1;
            }
        char adir[4300];
        snprintf(adir, sizeof adir, "%s/a", argv[1]);
        int left = leftovers(adir);
        if (left) {
            fprintf(stderr, "%d staged files or records left after the failed flush\n", left);
            bad = 1;
        }
        free(v);
        pzarr_close(r);
        if (!bad)
            printf("enospc: the array reads exactly as before, nothing staged is left\n");
    }
    pzarr_close(s);
    int all = 0;
    MPI_Allreduce(&bad, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return all;
}
