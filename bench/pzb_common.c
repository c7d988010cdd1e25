/* pzarr helpers and the checkpoint geometry of pzarr-bench. */
#define _POSIX_C_SOURCE 200809L
#include "pzb.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void pzb_check_store(const bench_ctx *c, int rc, const pzarr_store *s, const char *what)
{
    if (rc != 0)
        bench_die(c, "%s: %s: %s", what, pzarr_strerror(rc), s ? pzarr_errmsg(s) : "");
}

void pzb_check_array(const bench_ctx *c, int rc, const pzarr_array *a, const char *what)
{
    if (rc != 0)
        bench_die(c, "%s: %s: %s", what, pzarr_strerror(rc), a ? pzarr_array_errmsg(a) : "");
}

/* The blocks every method reads into and writes from: 64-byte aligned, as
 * a simulation's arrays usually are. With malloc's 16 the raw baseline's
 * own speed depended on luck: the kernel copies 3x slower into a block 16
 * bytes into a page (bench/floors/scatter_floor.c). */
double *pzb_alloc(const bench_ctx *c, uint64_t elems)
{
    size_t n = (size_t)(elems ? elems : 1) * sizeof(double);
    /* page-aligned, as the POSIX baseline's: the kernel copies into and out
     * of misaligned memory measurably slower here */
    double *p = aligned_alloc(4096, (n + 4095) / 4096 * 4096);
    if (!p)
        bench_die(c, "out of memory allocating %" PRIu64 " doubles", elems);
    return p;
}

/* ------------------------------------------------------------ metadata */

static void v3_codecs(const bench_codec *k, char *out, size_t cap)
{
    static const char *const shuf[] = {"noshuffle", "shuffle", "bitshuffle"};
    const char *bytes = "{\"name\": \"bytes\", \"configuration\": {\"endian\": \"little\"}}";
    if (k->kind == CODEC_ZSTD)
        snprintf(out, cap,
                 "[%s, {\"name\": \"zstd\", \"configuration\": {\"level\": %d, "
                 "\"checksum\": false}}]",
                 bytes, k->level);
    else if (k->kind == CODEC_GZIP)
        snprintf(out, cap, "[%s, {\"name\": \"gzip\", \"configuration\": {\"level\": %d}}]",
                 bytes, k->level);
    else if (k->kind == CODEC_BLOSC)
        snprintf(out, cap,
                 "[%s, {\"name\": \"blosc\", \"configuration\": {\"cname\": \"%s\", "
                 "\"clevel\": %d, \"shuffle\": \"%s\", \"typesize\": 8, \"blocksize\": 0}}]",
                 bytes, k->cname, k->level, shuf[k->shuffle]);
    else
        snprintf(out, cap, "[%s]", bytes);
}

static void v2_compressor(const bench_codec *k, char *out, size_t cap)
{
    if (k->kind == CODEC_ZSTD)
        snprintf(out, cap, "{\"id\": \"zstd\", \"level\": %d}", k->level);
    else if (k->kind == CODEC_GZIP)
        snprintf(out, cap, "{\"id\": \"gzip\", \"level\": %d}", k->level);
    else if (k->kind == CODEC_BLOSC)
        snprintf(out, cap,
                 "{\"id\": \"blosc\", \"cname\": \"%s\", \"clevel\": %d, \"shuffle\": %d, "
                 "\"blocksize\": 0}",
                 k->cname, k->level, k->shuffle);
    else
        snprintf(out, cap, "null");
}

/* The --shard shape when it fits this array (same rank, a multiple of the
 * chunks); patterns of another rank run unsharded. */
static bool shard_dims(const bench_ctx *c, int ndim, const uint64_t *chunks, uint64_t *shard)
{
    if (!c->o.shard)
        return false;
    const char *p = c->o.shard;
    int n = 0;
    while (*p && n < PZARR_MAX_NDIM) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p)
            return false;
        shard[n++] = v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return false;
    }
    if (n != ndim)
        return false;
    for (int d = 0; d < ndim; d++)
        if (shard[d] == 0 || shard[d] % chunks[d] != 0)
            return false;
    return true;
}

void pzb_meta(const bench_ctx *c, int ndim, const uint64_t *shape, const uint64_t *chunks,
              char *out, size_t cap)
{
    char sh[128], ch[128], codecs[1024];
    bench_fmt_dims(sh, sizeof sh, ndim, shape, ',');
    bench_fmt_dims(ch, sizeof ch, ndim, chunks, ',');
    int n;
    if (c->o.format == 2) {
        v2_compressor(&c->o.codec, codecs, sizeof codecs);
        n = snprintf(out, cap,
                     "{\"zarr_format\": 2, \"shape\": [%s], \"chunks\": [%s], \"dtype\": "
                     "\"<f8\", \"compressor\": %s, \"fill_value\": 0.0, \"order\": \"C\", "
                     "\"filters\": null}",
                     sh, ch, codecs);
    } else {
        v3_codecs(&c->o.codec, codecs, sizeof codecs);
        uint64_t shard[PZARR_MAX_NDIM];
        if (shard_dims(c, ndim, chunks, shard)) {
            /* --shard: the chunks become the inner chunks of shards. */
            char inner[512];
            if (strlen(codecs) >= sizeof inner)
                bench_die(c, "codec chain too long");
            memcpy(inner, codecs, strlen(codecs) + 1);
            snprintf(codecs, sizeof codecs,
                     "[{\"name\": \"sharding_indexed\", \"configuration\": {\"chunk_shape\": "
                     "[%s], \"codecs\": %s, \"index_codecs\": [{\"name\": \"bytes\", "
                     "\"configuration\": {\"endian\": \"little\"}}, {\"name\": \"crc32c\"}], "
                     "\"index_location\": \"end\"}}]",
                     ch, inner);
            bench_fmt_dims(ch, sizeof ch, ndim, shard, ',');
        }
        n = snprintf(out, cap,
                     "{\"zarr_format\": 3, \"node_type\": \"array\", \"shape\": [%s], "
                     "\"data_type\": \"float64\", \"chunk_grid\": {\"name\": \"regular\", "
                     "\"configuration\": {\"chunk_shape\": [%s]}}, \"chunk_key_encoding\": "
                     "{\"name\": \"default\", \"configuration\": {\"separator\": \"/\"}}, "
                     "\"fill_value\": 0.0, \"codecs\": %s}",
                     sh, ch, codecs);
    }
    if (n < 0 || (size_t)n >= cap)
        bench_die(c, "metadata document too long");
}

/* ------------------------------------------------------------ pzarr calls */

int pzb_create_flags(const bench_ctx *c)
{
    return PZARR_CREATE | (c->o.format == 2 ? PZARR_FORMAT_V2 : 0) |
           (c->o.durable ? PZARR_DURABLE : 0) | (c->o.plain ? PZARR_NO_CONSOLIDATE : 0);
}

void pzb_write(const bench_ctx *c, const char *path, const char *meta, const int *owner_dims,
               const bench_box *b, const double *buf, pzb_times *t, pzarr_stats *st)
{
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    pzb_check_store(c, pzarr_open(c->comm, path, pzb_create_flags(c), &s),
                    s, path);
    pzb_check_store(c, pzarr_array_create(s, "a", meta, &a), s, "pzarr_array_create");
    if (owner_dims)
        pzb_check_array(c, pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, owner_dims), a,
                        "pzarr_array_set_owner");
    double t1 = MPI_Wtime();
    if (bench_box_elems(b))
        pzb_check_array(c, pzarr_array_write(a, b->start, b->count, buf), a,
                        "pzarr_array_write");
    double t2 = MPI_Wtime();
    pzb_check_array(c, pzarr_array_flush(a), a, "pzarr_array_flush");
    double t3 = MPI_Wtime();
    pzb_check_store(c, pzarr_get_stats(s, st), s, "pzarr_get_stats");
    pzb_check_array(c, pzarr_array_close(a), NULL, "pzarr_array_close");
    pzb_check_store(c, pzarr_close(s), NULL, "pzarr_close");
    double t4 = MPI_Wtime();
    *t = (pzb_times){t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0};
}

void pzb_open(const bench_ctx *c, const char *path, pzarr_store **s, pzarr_array **a)
{
    *s = NULL;
    *a = NULL;
    pzb_check_store(c, pzarr_open(c->comm, path, PZARR_RDONLY, s), *s, path);
    pzb_check_store(c, pzarr_array_open(*s, "a", a), *s, "pzarr_array_open");
}

void pzb_close(const bench_ctx *c, pzarr_store *s, pzarr_array *a)
{
    pzb_check_array(c, pzarr_array_close(a), NULL, "pzarr_array_close");
    pzb_check_store(c, pzarr_close(s), NULL, "pzarr_close");
}

void pzb_read(const bench_ctx *c, pzarr_array *a, const bench_box *b, double *buf,
              int collective)
{
    if (collective)
        pzb_check_array(c, pzarr_array_read_all(a, b->start, b->count, buf), a,
                        "pzarr_array_read_all");
    else if (bench_box_elems(b))
        pzb_check_array(c, pzarr_array_read(a, b->start, b->count, buf), a,
                        "pzarr_array_read");
}

void pzb_idle_barrier(const bench_ctx *c)
{
    MPI_Request r;
    int done = 0;
    MPI_Ibarrier(c->comm, &r);
    struct timespec ts = {0, 1000000};
    for (;;) {
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        if (done)
            break;
        nanosleep(&ts, NULL);
    }
}

void pzb_verify(bench_ctx *c, const char *key, long local_bad)
{
    long bad = 0;
    MPI_Allreduce(&local_bad, &bad, 1, MPI_LONG, MPI_SUM, c->comm);
    if (bad)
        bench_metric_str(c, key, "FAILED (%ld elements differ)", bad);
    else
        bench_metric_str(c, key, "ok");
    c->failures += bad;
}
