/*
 * The codec baseline: the chunks of the checkpoint array compressed by the
 * codec library alone, on one core, with the settings pzarr uses (blosc with
 * one thread, typesize 8, automatic block size; zstd without checksum;
 * libdeflate gzip), so that `ranks x codec speed` bounds a compressed write.
 */
#include "pzb.h"

#include <blosc.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define BASELINE_BUDGET (128u << 20)

typedef struct enc {
    const bench_codec *k;
    ZSTD_CCtx *z;
    struct libdeflate_compressor *d;
    unsigned char *out;
    size_t cap;
} enc;

static int enc_init(enc *e, const bench_codec *k, size_t chunk_bytes)
{
    memset(e, 0, sizeof *e);
    e->k = k;
    e->cap = chunk_bytes + BLOSC_MAX_OVERHEAD;
    if (k->kind == CODEC_ZSTD) {
        e->z = ZSTD_createCCtx();
        if (!e->z)
            return -1;
        ZSTD_CCtx_setParameter(e->z, ZSTD_c_compressionLevel, k->level);
        ZSTD_CCtx_setParameter(e->z, ZSTD_c_checksumFlag, 0);
        e->cap = ZSTD_compressBound(chunk_bytes);
    } else if (k->kind == CODEC_GZIP) {
        e->d = libdeflate_alloc_compressor(k->level);
        if (!e->d)
            return -1;
        e->cap = libdeflate_gzip_compress_bound(e->d, chunk_bytes);
    }
    e->out = malloc(e->cap);
    return e->out ? 0 : -1;
}

static void enc_free(enc *e)
{
    ZSTD_freeCCtx(e->z);
    if (e->d)
        libdeflate_free_compressor(e->d);
    free(e->out);
}

/* Encoded size, or 0 on failure. */
static size_t enc_one(enc *e, const void *in, size_t n)
{
    if (e->k->kind == CODEC_ZSTD) {
        size_t r = ZSTD_compress2(e->z, e->out, e->cap, in, n);
        return ZSTD_isError(r) ? 0 : r;
    }
    if (e->k->kind == CODEC_GZIP)
        return libdeflate_gzip_compress(e->d, in, n, e->out, e->cap);
    int r = blosc_compress_ctx(e->k->level, e->k->shuffle, sizeof(double), n, in, e->out,
                               e->cap, e->k->cname, 0, 1);
    return r > 0 ? (size_t)r : 0;
}

/* Chunk `lin` of the grid, padded with the fill value 0 as pzarr stores it. */
static void make_chunk(const bench_ctx *c, const bench_geom *g, uint64_t lin, double *chunk,
                       double *tmp)
{
    bench_box b = {.ndim = g->ndim};
    uint64_t celems = 1;
    for (int i = g->ndim - 1; i >= 0; i--) {
        uint64_t n = (g->shape[i] + g->chunks[i] - 1) / g->chunks[i];
        b.start[i] = (lin % n) * g->chunks[i];
        lin /= n;
        uint64_t rest = g->shape[i] - b.start[i];
        b.count[i] = rest < g->chunks[i] ? rest : g->chunks[i];
        celems *= g->chunks[i];
    }
    if (bench_box_elems(&b) == celems) {
        bench_fill(c->o.data, g->shape, &b, chunk);
        return;
    }
    /* An edge chunk: generate the clipped box, then place its rows. */
    bench_fill(c->o.data, g->shape, &b, tmp);
    memset(chunk, 0, celems * sizeof *chunk);
    uint64_t rows = bench_box_elems(&b) / b.count[g->ndim - 1];
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t src = r, dst = 0, mul = 1;
        for (int i = g->ndim - 2; i >= 0; i--) {
            dst += (src % b.count[i]) * mul;
            src /= b.count[i];
            mul *= g->chunks[i];
        }
        memcpy(chunk + dst * g->chunks[g->ndim - 1], tmp + r * b.count[g->ndim - 1],
               b.count[g->ndim - 1] * sizeof *chunk);
    }
}

/* Decodes one chunk back into out (n bytes); 0 on success. */
static int dec_one(const bench_codec *k, ZSTD_DCtx *z, struct libdeflate_decompressor *d,
                   const void *in, size_t len, void *out, size_t n)
{
    if (k->kind == CODEC_ZSTD) {
        size_t r = ZSTD_decompressDCtx(z, out, n, in, len);
        return ZSTD_isError(r) || r != n ? -1 : 0;
    }
    if (k->kind == CODEC_GZIP) {
        size_t got = 0;
        return libdeflate_gzip_decompress(d, in, len, out, n, &got) == LIBDEFLATE_SUCCESS &&
                       got == n
                   ? 0
                   : -1;
    }
    return blosc_decompress_ctx(in, out, n, 1) == (int)n ? 0 : -1;
}

/* Decompression of the chunks compressed in `packed` (sizes in `lens`). */
static int decode_run(const bench_ctx *c, const unsigned char *packed, const size_t *lens,
                      size_t stride, uint64_t n, size_t cbytes, pzb_codec_result *out)
{
    ZSTD_DCtx *z = ZSTD_createDCtx();
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    unsigned char *dst = malloc(cbytes);
    int rc = z && d && dst ? 0 : -1;
    out->dec_seconds = 1e300;
    for (int rep = 0; rc == 0 && rep < c->o.reps; rep++) {
        double t0 = MPI_Wtime();
        for (uint64_t i = 0; rc == 0 && i < n; i++)
            rc = dec_one(&c->o.codec, z, d, packed + i * stride, lens[i], dst, cbytes);
        double t = MPI_Wtime() - t0;
        out->dec_seconds = t < out->dec_seconds ? t : out->dec_seconds;
    }
    ZSTD_freeDCtx(z);
    if (d)
        libdeflate_free_decompressor(d);
    free(dst);
    return rc;
}

static int baseline_run(const bench_ctx *c, const bench_geom *g, pzb_codec_result *out)
{
    uint64_t celems = 1;
    for (int i = 0; i < g->ndim; i++)
        celems *= g->chunks[i];
    size_t cbytes = (size_t)celems * sizeof(double);
    uint64_t n = BASELINE_BUDGET / cbytes;
    n = n < 1 ? 1 : n > g->nchunks ? g->nchunks : n;
    double *in = malloc((size_t)n * cbytes), *tmp = malloc(cbytes);
    enc e;
    int rc = in && tmp && enc_init(&e, &c->o.codec, cbytes) == 0 ? 0 : -1;
    for (uint64_t i = 0; rc == 0 && i < n; i++)
        make_chunk(c, g, i, in + i * celems, tmp);
    out->seconds = 1e300;
    for (int rep = 0; rc == 0 && rep < c->o.reps; rep++) {
        double bytes_out = 0, t0 = MPI_Wtime();
        for (uint64_t i = 0; rc == 0 && i < n; i++) {
            size_t r = enc_one(&e, in + i * celems, cbytes);
            rc = r ? 0 : -1;
            bytes_out += (double)r;
        }
        double t = MPI_Wtime() - t0;
        out->seconds = t < out->seconds ? t : out->seconds;
        out->bytes_out = bytes_out;
    }
    out->bytes_in = (double)n * (double)cbytes;
    out->chunks = (double)n;
    /* The same chunks compressed once more, kept, then decompressed. */
    unsigned char *packed = rc == 0 ? malloc((size_t)n * e.cap) : NULL;
    size_t *lens = rc == 0 ? malloc((size_t)n * sizeof *lens) : NULL;
    if (rc == 0 && (!packed || !lens))
        rc = -1;
    for (uint64_t i = 0; rc == 0 && i < n; i++) {
        lens[i] = enc_one(&e, in + i * celems, cbytes);
        rc = lens[i] ? 0 : -1;
        if (rc == 0)
            memcpy(packed + i * e.cap, e.out, lens[i]);
    }
    if (rc == 0)
        rc = decode_run(c, packed, lens, e.cap, n, cbytes, out);
    free(packed);
    free(lens);
    if (in && tmp)
        enc_free(&e);
    free(in);
    free(tmp);
    return rc;
}

void pzb_codec_baseline(const bench_ctx *c, const bench_geom *g, pzb_codec_result *out)
{
    memset(out, 0, sizeof *out);
    if (c->o.codec.kind == CODEC_NONE)
        return;
    int rc = 0;
    pzb_idle_barrier(c);
    if (c->rank == 0)
        rc = baseline_run(c, g, out);
    pzb_idle_barrier(c);
    MPI_Bcast(&rc, 1, MPI_INT, 0, c->comm);
    if (rc)
        bench_die(c, "codec baseline: %s failed", c->o.codec.text);
    MPI_Bcast(out, 5, MPI_DOUBLE, 0, c->comm);
}
