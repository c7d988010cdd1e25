/*
 * The copy pattern: pzarr_array_copy rechunking (and recompressing) an
 * array, beside pzarr's own floor in the same run: read_all of the whole
 * array (each rank its share along the copy's split axis) and a write of
 * the same bytes into an array of the target's chunks (each rank owning
 * what it writes). Peak memory per rank of the copy against its budget.
 *
 *   pzarr-bench copy [--shape 512,256,256] [--chunks 32,32,32] [--codec zstd:1]
 *                    [--to-chunks 512,16,16] [--to-codec zstd:1] [--to-format 2|3]
 *                    [--memory MIB]
 */
#define _POSIX_C_SOURCE 200809L
#include "pzb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double global_bytes(const bench_geom *g)
{
    double b = sizeof(double);
    for (int i = 0; i < g->ndim; i++)
        b *= (double)g->shape[i];
    return b;
}

/* The source: every rank writes its Cartesian block. */
static void write_source(bench_ctx *c, const bench_geom *g, const char *path)
{
    char meta[4096];
    pzb_meta(c, g->ndim, g->shape, g->chunks, meta, sizeof meta);
    double *buf = pzb_alloc(c, bench_box_elems(&g->blk));
    bench_fill(c->o.data, g->shape, &g->blk, buf);
    pzb_times t;
    pzarr_stats st;
    pzb_write(c, path, meta, g->dims, &g->blk, buf, &t, &st);
    free(buf);
}

/* The target's codec as pzarr_spec spells it. */
static const char *to_codec(const bench_ctx *c)
{
    return c->o.to_codec ? c->o.to_codec : c->o.codec.text;
}

/* This rank's share along axis `s` of a grid of `g` chunks of `u`. */
static void share(const bench_ctx *c, uint64_t n, uint64_t u, uint64_t *lo, uint64_t *hi)
{
    uint64_t g = (n + u - 1) / u, P = (uint64_t)c->size, r = (uint64_t)c->rank;
    uint64_t a = g >= P ? r * g / P : (r < g ? r : g);
    uint64_t b = g >= P ? (r + 1) * g / P : (r < g ? r + 1 : g);
    *lo = a * u;
    *hi = b * u < n ? b * u : n;
    if (*lo > n)
        *lo = n;
}

/* The floor: read_all of this rank's share, then its write into an array of
 * the target's chunks that it owns. Returns {read, write} seconds, max over
 * ranks; *hwm the peak MiB of this rank. */
static void floor_once(bench_ctx *c, const bench_geom *g, const uint64_t *to_chunks, int s,
                       double *tr, double *tw, int verify)
{
    char src[BENCH_PATH_MAX], dst[BENCH_PATH_MAX];
    bench_path(c, src, "src.zarr");
    bench_path(c, dst, "floor.zarr");
    bench_remove(c, dst);
    bench_box b = {.ndim = g->ndim};
    for (int d = 0; d < g->ndim; d++) {
        b.start[d] = 0;
        b.count[d] = g->shape[d];
    }
    uint64_t lo, hi;
    share(c, g->shape[s], to_chunks[s], &lo, &hi);
    b.start[s] = lo;
    b.count[s] = hi - lo;
    double *buf = pzb_alloc(c, bench_box_elems(&b));
    pzarr_store *ss;
    pzarr_array *sa;
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    pzb_open(c, src, &ss, &sa);
    int dims[BENCH_NDIM_MAX];
    for (int d = 0; d < g->ndim; d++)
        dims[d] = d == s ? c->size : 1;
    pzb_check_array(c, pzarr_array_set_owner(sa, PZARR_OWNER_BLOCK, dims), sa, "set_owner");
    pzb_read(c, sa, &b, buf, 1);
    pzb_close(c, ss, sa);
    double t1 = bench_max(c->comm, MPI_Wtime() - t0);
    if (verify)
        pzb_verify(c, "floor_read_ok", bench_check(c->o.data, g->shape, &b, buf));
    /* The write, into chunks this rank owns (block ownership along s). */
    pzarr_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.zarr_format = c->o.to_format ? c->o.to_format : c->o.format;
    sp.dtype = PZARR_FLOAT64;
    sp.ndim = g->ndim;
    for (int d = 0; d < g->ndim; d++) {
        sp.shape[d] = g->shape[d];
        sp.chunks[d] = to_chunks[d];
    }
    sp.codec = to_codec(c);
    char *meta = NULL;
    char msg[512];
    if (pzarr_spec_document(&sp, &meta, msg, sizeof msg))
        bench_die(c, "the target's document: %s", msg);
    pzb_times t;
    pzarr_stats st;
    int fmt = c->o.format;
    c->o.format = sp.zarr_format; /* the store's root in the target's format */
    pzb_write(c, dst, meta, dims, &b, buf, &t, &st);
    c->o.format = fmt;
    pzarr_free(meta);
    *tr = t1;
    *tw = bench_max(c->comm, t.total);
    free(buf);
}

/* One copy; returns the seconds (max over ranks) and *hwm this rank's peak
 * MiB above its resident size before the copy. */
static double copy_once(bench_ctx *c, const bench_geom *g, const uint64_t *to_chunks,
                        double *grow, int verify)
{
    char src[BENCH_PATH_MAX], dst[BENCH_PATH_MAX];
    bench_path(c, src, "src.zarr");
    bench_path(c, dst, "copy.zarr");
    bench_remove(c, dst);
    pzarr_copy_options o;
    memset(&o, 0, sizeof o);
    for (int d = 0; d < g->ndim; d++)
        o.chunks[d] = to_chunks[d];
    o.codec = to_codec(c);
    o.zarr_format = c->o.to_format;
    o.memory = c->o.memory_mib ? (uint64_t)c->o.memory_mib << 20 : 0;
    int reset = bench_peak_reset();
    double base = bench_rss_mib("VmRSS");
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    pzarr_store *ss, *ds = NULL;
    pzarr_array *sa;
    pzb_open(c, src, &ss, &sa);
    int flags = PZARR_RDWR | PZARR_CREATE | (c->o.to_format == 2 ? PZARR_FORMAT_V2 : 0);
    pzb_check_store(c, pzarr_open(c->comm, dst, flags, &ds), ds, dst);
    pzb_check_store(c, pzarr_array_copy(sa, ds, "a", &o), ds, "pzarr_array_copy");
    pzb_check_store(c, pzarr_close(ds), NULL, "pzarr_close");
    pzb_close(c, ss, sa);
    double t = bench_max(c->comm, MPI_Wtime() - t0);
    double hwm = bench_rss_mib("VmHWM");
    *grow = reset == 0 && hwm >= 0 && base >= 0 ? bench_max(c->comm, hwm - base) : -1;
    if (verify) { /* every rank reads its block of the copy back */
        pzarr_store *s;
        pzarr_array *a;
        pzb_open(c, dst, &s, &a);
        double *buf = pzb_alloc(c, bench_box_elems(&g->blk));
        pzb_read(c, a, &g->blk, buf, 1);
        long bad = bench_check(c->o.data, g->shape, &g->blk, buf);
        if (c->o.to_codec && strncmp(c->o.to_codec, "zfp", 3) == 0)
            bad = 0; /* lossy: checked by the interop tests */
        pzb_verify(c, "copy_ok", bad);
        free(buf);
        pzb_close(c, s, a);
    }
    return t;
}

int pzb_copy(bench_ctx *c)
{
    bench_geom g;
    if (!c->o.ndim) { /* 256 MiB by default */
        c->o.ndim = 3;
        c->o.shape[0] = 512;
        c->o.shape[1] = 256;
        c->o.shape[2] = 256;
    }
    bench_geom_init(c, &g);
    uint64_t to[BENCH_NDIM_MAX];
    for (int d = 0; d < g.ndim; d++)
        to[d] = c->o.to_chunk_ndim ? c->o.to_chunks[d] : d == 0 ? g.shape[0] : 16;
    if (c->o.to_chunk_ndim && c->o.to_chunk_ndim != g.ndim)
        bench_die(c, "--to-chunks has %d sizes, --shape %d", c->o.to_chunk_ndim, g.ndim);
    char tc[64];
    bench_fmt_dims(tc, sizeof tc, g.ndim, to, 'x');
    char what[256];
    snprintf(what, sizeof what, "copy to %s chunks, %s%s", tc, to_codec(c),
             c->o.to_format ? (c->o.to_format == 2 ? ", v2" : ", v3") : "");
    bench_title(c, what, &g);
    char src[BENCH_PATH_MAX];
    bench_path(c, src, "src.zarr");
    bench_progress(c, "copy: writing the source");
    write_source(c, &g, src);
    /* The copy's split axis: the most target chunks (pzarr_array_copy's). */
    int s = 0;
    for (int d = 1; d < g.ndim; d++)
        if ((g.shape[d] + to[d] - 1) / to[d] > (g.shape[s] + to[s] - 1) / to[s])
            s = d;
    /* The codecs alone: decoding every source chunk and encoding every
     * target chunk on one core, spread over the ranks (zstd, blosc, gzip;
     * a target codec the baseline lacks leaves it out). */
    double codec_floor = -1;
    bench_codec tk;
    if (!c->o.no_floor && c->o.codec.kind != CODEC_NONE &&
        bench_parse_codec(to_codec(c), &tk) == 0) {
        bench_progress(c, "copy: the codecs alone");
        pzb_codec_result rs, rt;
        pzb_codec_baseline(c, &g, &rs);
        bench_geom gt = g;
        for (int d = 0; d < g.ndim; d++)
            gt.chunks[d] = to[d];
        gt.nchunks = 1;
        for (int d = 0; d < g.ndim; d++)
            gt.nchunks *= (g.shape[d] + to[d] - 1) / to[d];
        bench_codec keep = c->o.codec;
        c->o.codec = tk;
        pzb_codec_baseline(c, &gt, &rt);
        c->o.codec = keep;
        if (rs.chunks > 0 && rt.chunks > 0)
            codec_floor = (rs.dec_seconds * (double)g.nchunks / rs.chunks +
                           rt.seconds * (double)gt.nchunks / rt.chunks) /
                          c->size;
    }
    int reps = c->o.reps;
    double *t = calloc((size_t)reps * 4, sizeof *t);
    double grow = 0, g1;
    for (int rep = 0; rep < reps; rep++) {
        bench_progress(c, "copy: sample %d/%d", rep + 1, reps);
        if (!c->o.no_floor)
            floor_once(c, &g, to, s, &t[rep], &t[reps + rep], rep == 0);
        t[2 * reps + rep] = t[rep] + t[reps + rep];
        t[3 * reps + rep] = copy_once(c, &g, to, &g1, rep == 0);
        if (g1 > grow)
            grow = g1;
    }
    bench_progress_done(c);
    double bytes = global_bytes(&g);
    int ref = -1;
    if (!c->o.no_floor) {
        bench_add_row(c, "floor: pzarr read_all", t, reps, bytes, 0, -1);
        bench_add_row(c, "floor: pzarr write", t + reps, reps, bytes, 0, -1);
        ref = bench_add_row(c, "floor: read_all + write", t + 2 * reps, reps, bytes, 0, -1);
    }
    bench_add_row(c, "pzarr_array_copy", t + 3 * reps, reps, bytes, 0, ref);
    if (codec_floor > 0)
        bench_add_row(c, "codecs alone (decode + encode) / ranks", &codec_floor, 1, bytes, 0, -1);
    uint64_t budget = c->o.memory_mib ? (uint64_t)c->o.memory_mib << 20 : PZARR_COPY_MEMORY;
    bench_metric_num(c, "copy_budget_mib", (double)(budget >> 20));
    bench_metric_num(c, "copy_peak_growth_mib", grow);
    bench_metric_num(c, "split_axis", s);
    bench_metric_str(c, "to_codec", "%s", to_codec(c));
    bench_metric_str(c, "to_chunks", "%s", tc);
    free(t);
    char p[BENCH_PATH_MAX];
    if (c->o.keep)
        bench_metric_str(c, "source", "%s/a", src);
    else
        bench_remove(c, src);
    bench_path(c, p, "floor.zarr");
    bench_remove(c, p);
    bench_path(c, p, "copy.zarr");
    bench_remove(c, p);
    return c->failures != 0;
}
