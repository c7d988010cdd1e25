/* The checkpoint, restart, postproc and codec patterns. */
#define _POSIX_C_SOURCE 200809L
#include "pzb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct mem_probe {
    double rss0; /* VmRSS before, MiB */
    int reset;   /* the high-water mark was reset before */
} mem_probe;

static void mem_begin(mem_probe *m)
{
    m->reset = bench_peak_reset() == 0;
    m->rss0 = bench_rss_mib(m->reset ? "VmRSS" : "VmHWM");
}

/* Growth of the peak resident set since mem_begin, MiB. */
static double mem_end(const mem_probe *m)
{
    return bench_rss_mib("VmHWM") - m->rss0;
}

static double global_bytes(const bench_geom *g)
{
    double b = sizeof(double);
    for (int i = 0; i < g->ndim; i++)
        b *= (double)g->shape[i];
    return b;
}

static double *series(const bench_ctx *c, int k)
{
    double *t = calloc((size_t)c->o.reps * (size_t)k, sizeof *t);
    if (!t)
        bench_die(c, "out of memory");
    return t;
}

static int pick_axis(const bench_ctx *c, const bench_geom *g)
{
    int axis = c->o.axis >= 0 ? c->o.axis : g->ndim - 1;
    if (axis >= g->ndim)
        bench_die(c, "--axis %d: the array has %d axes", axis, g->ndim);
    return axis;
}

/* ------------------------------------------------------------ writes */

typedef struct write_acc {
    double *pz, *raw, *posix;      /* per rep, max over ranks */
    pzb_times best;                /* phases of the fastest pzarr sample */
    double pz_mem, raw_mem, hwm;   /* max over reps and ranks, MiB */
    double stored, chunk_writes;   /* sum over ranks, last rep */
    int mem_reset;
} write_acc;

static void phases_max(const bench_ctx *c, pzb_times *t)
{
    double v[5] = {t->create, t->write, t->flush, t->close, t->total}, r[5];
    MPI_Allreduce(v, r, 5, MPI_DOUBLE, MPI_MAX, c->comm);
    *t = (pzb_times){r[0], r[1], r[2], r[3], r[4]};
}

static void write_pzarr_once(bench_ctx *c, const bench_geom *g, const char *meta,
                             const double *buf, int rep, write_acc *w)
{
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "ckpt-%d.zarr", rep);
    mem_probe m;
    mem_begin(&m);
    pzb_times t;
    pzarr_stats st;
    pzb_write(c, path, meta, g->dims, &g->blk, buf, &t, &st);
    double inc = bench_max(c->comm, mem_end(&m));
    w->pz_mem = inc > w->pz_mem ? inc : w->pz_mem;
    w->mem_reset = m.reset;
    phases_max(c, &t);
    w->pz[rep] = t.total;
    if (rep == 0 || t.total < w->best.total)
        w->best = t;
    w->stored = bench_sum(c->comm, (double)st.bytes_written);
    w->chunk_writes = bench_sum(c->comm, (double)st.chunk_writes);
}

static void write_raw_once(bench_ctx *c, const bench_geom *g, double *buf, int rep,
                           write_acc *w)
{
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "ckpt-%d.raw", rep);
    mem_probe m;
    mem_begin(&m);
    double t = bench_raw_once(c, path, 1, g->ndim, g->shape, &g->blk, buf);
    double inc = bench_max(c->comm, mem_end(&m));
    w->raw_mem = inc > w->raw_mem ? inc : w->raw_mem;
    w->raw[rep] = bench_max(c->comm, t);
}

/* The POSIX file of this rank for `what` (a per-rank name). */
static void posix_path(const bench_ctx *c, char *path, const char *what)
{
    bench_path(c, path, "%s.posix-%d", what, c->rank);
}

static void write_posix_once(bench_ctx *c, const bench_geom *g, const double *buf, int rep,
                             write_acc *w)
{
    size_t bytes = (size_t)bench_box_elems(&g->blk) * sizeof(double);
    void *mem = bench_page_alloc(c, bytes);
    memcpy(mem, buf, bytes);
    char path[BENCH_PATH_MAX];
    posix_path(c, path, "ckpt");
    w->posix[rep] = bench_max(c->comm, bench_posix_once(c, path, 1, mem, bytes));
    unlink(path);
    free(mem);
}

/* The row of the faster of the two baselines (raw MPI-IO, POSIX), by the
 * best sample: every pzarr figure is reported against it. */
static int faster_row(const bench_ctx *c, int raw, int posix)
{
    if (raw < 0)
        return posix;
    if (posix < 0)
        return raw;
    return c->rows[posix].best < c->rows[raw].best ? posix : raw;
}

/* Writes reps samples with pzarr and raw MPI-IO; keeps the last pair as
 * ckpt-<reps-1>.zarr and ckpt-<reps-1>.raw. */
static void write_samples(bench_ctx *c, const bench_geom *g, const char *meta, double *buf,
                          int with_raw, write_acc *w)
{
    for (int rep = 0; rep < c->o.reps; rep++) {
        bench_progress(c, "%s: sample %d/%d: pzarr write", c->o.pattern, rep + 1, c->o.reps);
        write_pzarr_once(c, g, meta, buf, rep, w);
        if (with_raw) {
            bench_progress(c, "%s: sample %d/%d: raw MPI-IO write", c->o.pattern, rep + 1,
                           c->o.reps);
            write_raw_once(c, g, buf, rep, w);
            bench_progress(c, "%s: sample %d/%d: POSIX write", c->o.pattern, rep + 1,
                           c->o.reps);
            write_posix_once(c, g, buf, rep, w);
        }
        if (rep + 1 < c->o.reps) {
            char p[BENCH_PATH_MAX];
            bench_path(c, p, "ckpt-%d.zarr", rep);
            bench_remove(c, p);
            bench_path(c, p, "ckpt-%d.raw", rep);
            bench_remove(c, p);
        }
    }
    w->hwm = bench_max(c->comm, bench_rss_mib("VmHWM"));
    bench_progress_done(c);
}

static void verify_written(bench_ctx *c, const bench_geom *g, const char *path)
{
    pzarr_store *s;
    pzarr_array *a;
    double *buf = pzb_alloc(c, bench_box_elems(&g->blk));
    pzb_open(c, path, &s, &a);
    pzb_read(c, a, &g->blk, buf, 0);
    pzb_close(c, s, a);
    pzb_verify(c, "verify", bench_check(c->o.data, g->shape, &g->blk, buf));
    free(buf);
}

static void memory_metrics(bench_ctx *c, const bench_geom *g, const write_acc *w)
{
    double block = bench_max(c->comm, (double)bench_box_elems(&g->blk) * 8.0 / 1048576.0);
    bench_metric_num(c, "block_mib_max", block);
    bench_metric_num(c, "peak_rss_mib_max", w->hwm);
    bench_metric_num(c, "ru_maxrss_mib_max", bench_max(c->comm, bench_maxrss_mib()));
    bench_metric_num(c, "pzarr_write_mem_increase_mib_max", w->pz_mem);
    bench_metric_num(c, "pzarr_write_mem_increase_per_block",
                     block > 0 ? w->pz_mem / block : NAN);
    if (w->raw)
        bench_metric_num(c, "raw_write_mem_increase_mib_max", w->raw_mem);
    bench_metric_str(c, "mem_increase_method", "%s",
                     w->mem_reset ? "VmHWM after - VmRSS before (peak reset via clear_refs)"
                                  : "VmHWM after - VmHWM before (lower bound)");
}

static void phase_metrics(bench_ctx *c, const write_acc *w)
{
    bench_metric_num(c, "pzarr_phase_create_s", w->best.create);
    bench_metric_num(c, "pzarr_phase_write_s", w->best.write);
    bench_metric_num(c, "pzarr_phase_flush_s", w->best.flush);
    bench_metric_num(c, "pzarr_phase_close_s", w->best.close);
}

static void storage_metrics(bench_ctx *c, const bench_geom *g, const write_acc *w)
{
    double logical = global_bytes(g);
    bench_metric_num(c, "logical_bytes", logical);
    bench_metric_num(c, "stored_bytes", w->stored);
    bench_metric_num(c, "chunks_written", w->chunk_writes);
    bench_metric_num(c, "compression_ratio", w->stored > 0 ? logical / w->stored : NAN);
}

/* Rows and metrics that compare a compressed write with the codec alone. */
static void codec_metrics(bench_ctx *c, const bench_geom *g, const pzb_codec_result *cr,
                          int pz_row, int raw_row, double stored)
{
    if (c->o.codec.kind == CODEC_NONE || cr->seconds <= 0)
        return;
    double speed = cr->bytes_in / cr->seconds; /* bytes/s, one core */
    double t_ideal = global_bytes(g) / (speed * c->size);
    int r = bench_add_row(c, "codec alone x ranks", &t_ideal, 1, global_bytes(g), 0, -1);
    if (raw_row >= 0 && stored > 0) {
        /* The ideal: each rank encodes its chunks on its core, then the
         * encoded bytes move at the raw speed of this run. */
        double t_io = c->rows[raw_row].best * stored / global_bytes(g);
        double t = t_ideal + t_io;
        int ir = bench_add_row(c, "ideal (codec x ranks + encoded bytes at raw speed)", &t, 1,
                               global_bytes(g), 0, -1);
        bench_metric_num(c, "pzarr_vs_ideal", c->rows[ir].best / c->rows[pz_row].best);
    }
    double pz_speed = global_bytes(g) / c->rows[pz_row].best;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int usable = ncpu > 0 && ncpu < c->size ? (int)ncpu : c->size;
    bench_metric_num(c, "codec_1core_gbps", speed / 1e9);
    bench_metric_num(c, "codec_1core_ratio", cr->bytes_out > 0 ? cr->bytes_in / cr->bytes_out
                                                                : NAN);
    bench_metric_num(c, "codec_chunks_sampled", cr->chunks);
    bench_metric_num(c, "ranks_x_codec_gbps", speed * c->size / 1e9);
    bench_metric_num(c, "pzarr_vs_ranks_x_codec", c->rows[r].best / c->rows[pz_row].best);
    bench_metric_num(c, "pzarr_write_gbps", pz_speed / 1e9);
    bench_metric_num(c, "cores_x_codec_gbps", speed * usable / 1e9);
    bench_metric_num(c, "pzarr_vs_cores_x_codec", pz_speed / (speed * usable));
}

/* ------------------------------------------------------------ checkpoint */

static void write_pattern(bench_ctx *c, const char *what, int with_raw)
{
    bench_geom g;
    bench_geom_init(c, &g);
    bench_title(c, what, &g);
    double *buf = pzb_alloc(c, bench_box_elems(&g.blk));
    bench_fill(c->o.data, g.shape, &g.blk, buf);
    char meta[2048];
    pzb_meta(c, g.ndim, g.shape, g.chunks, meta, sizeof meta);
    pzb_codec_result cr;
    bench_progress(c, "%s: codec baseline (one core)", what);
    pzb_codec_baseline(c, &g, &cr);
    write_acc w = {.pz = series(c, 1), .raw = with_raw ? series(c, 1) : NULL,
                   .posix = with_raw ? series(c, 1) : NULL};
    write_samples(c, &g, meta, buf, with_raw, &w);
    int raw = -1, px = -1;
    if (with_raw) {
        raw = bench_add_row(c, "raw MPI-IO write_all", w.raw, c->o.reps, global_bytes(&g), 0,
                            -1);
        px = bench_add_row(c, "POSIX pwrite (each rank its own file)", w.posix, c->o.reps,
                           global_bytes(&g), 0, -1);
    }
    int ref = faster_row(c, raw, px);
    int pz = bench_add_row(c, "pzarr write+flush", w.pz, c->o.reps, global_bytes(&g),
                           (double)g.nchunks, ref);
    /* the encoded bytes of the ideal move at MPI-IO's speed, as before */
    codec_metrics(c, &g, &cr, pz, raw, w.stored);
    storage_metrics(c, &g, &w);
    phase_metrics(c, &w);
    memory_metrics(c, &g, &w);
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "ckpt-%d.zarr", c->o.reps - 1);
    verify_written(c, &g, path);
    bench_remove(c, path);
    bench_path(c, path, "ckpt-%d.raw", c->o.reps - 1);
    bench_remove(c, path);
    free(w.pz);
    free(w.raw);
    free(w.posix);
    free(buf);
}

int pzb_checkpoint(bench_ctx *c)
{
    write_pattern(c, "checkpoint", 1);
    return c->failures != 0;
}

int pzb_codec(bench_ctx *c)
{
    if (c->o.codec.kind == CODEC_NONE)
        bench_parse_codec("zstd:1", &c->o.codec);
    write_pattern(c, "codec", 0);
    return c->failures != 0;
}

/* ------------------------------------------------------------ reads */

/* Writes the checkpoint once (untimed) as base.zarr and base.raw; the
 * stored bytes of base.zarr. */
static double write_base(bench_ctx *c, const bench_geom *g)
{
    bench_progress(c, "%s: writing the checkpoint", c->o.pattern);
    double *buf = pzb_alloc(c, bench_box_elems(&g->blk));
    bench_fill(c->o.data, g->shape, &g->blk, buf);
    char meta[2048], path[BENCH_PATH_MAX];
    pzb_meta(c, g->ndim, g->shape, g->chunks, meta, sizeof meta);
    bench_path(c, path, "base.zarr");
    pzb_times t;
    pzarr_stats st;
    pzb_write(c, path, meta, g->dims, &g->blk, buf, &t, &st);
    bench_path(c, path, "base.raw");
    bench_raw_once(c, path, 1, g->ndim, g->shape, &g->blk, buf);
    free(buf);
    return bench_sum(c->comm, (double)st.bytes_written);
}

static void remove_base(bench_ctx *c)
{
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "base.zarr");
    bench_remove(c, path);
    bench_path(c, path, "base.raw");
    bench_remove(c, path);
}

enum read_kind { READ_PZ, READ_PZ_ALL, READ_RAW, READ_POSIX };

/* One timed sample: open, read box b, close. Max over ranks. */
static double read_box_once(bench_ctx *c, const bench_geom *g, int kind, const bench_box *b,
                            double *buf, const char *vkey)
{
    char path[BENCH_PATH_MAX];
    double t;
    if (kind == READ_RAW) {
        bench_path(c, path, "base.raw");
        t = bench_raw_once(c, path, 0, g->ndim, g->shape, b, buf);
    } else if (kind == READ_POSIX) {
        posix_path(c, path, "read");
        t = bench_posix_once(c, path, 0, buf, (size_t)bench_box_elems(b) * sizeof(double));
    } else {
        bench_path(c, path, "base.zarr");
        pzarr_store *s;
        pzarr_array *a;
        MPI_Barrier(c->comm);
        double t0 = MPI_Wtime();
        pzb_open(c, path, &s, &a);
        pzb_read(c, a, b, buf, kind == READ_PZ_ALL);
        pzb_close(c, s, a);
        t = MPI_Wtime() - t0;
    }
    if (vkey)
        pzb_verify(c, vkey, bench_check(c->o.data, g->shape, b, buf));
    return bench_max(c->comm, t);
}

static const char *const read_names[4] = {"pzarr read", "pzarr read_all", "raw MPI-IO read_all",
                                          "POSIX pread"};

/* Rows raw, pzarr read, pzarr read_all for the box b, `label` appended;
 * with a codec, the ideal: each rank decodes on its core, and the encoded
 * bytes move at the raw read speed of this run. */
static void read_rows(bench_ctx *c, const bench_geom *g, const bench_box *b, const char *label,
                      const pzb_codec_result *cr, double stored)
{
    double *buf = pzb_alloc(c, bench_box_elems(b));
    double *t = series(c, 4);
    /* the POSIX baseline's file: this rank's bytes of b, in its own file */
    char ppath[BENCH_PATH_MAX];
    posix_path(c, ppath, "read");
    bench_fill(c->o.data, g->shape, b, buf);
    bench_posix_once(c, ppath, 1, buf, (size_t)bench_box_elems(b) * sizeof(double));
    for (int rep = 0; rep < c->o.reps; rep++)
        for (int k = 0; k < 4; k++) {
            bench_progress(c, "%s: sample %d/%d: %s (%s)", c->o.pattern, rep + 1, c->o.reps,
                           read_names[k], label);
            char vkey[96];
            snprintf(vkey, sizeof vkey, "verify %s (%s)", read_names[k], label);
            t[k * c->o.reps + rep] = read_box_once(c, g, k, b, buf, rep ? NULL : vkey);
        }
    bench_progress_done(c);
    unlink(ppath);
    char name[96];
    snprintf(name, sizeof name, "raw MPI-IO read_all (%s)", label);
    int raw = bench_add_row(c, name, t + 2 * c->o.reps, c->o.reps, global_bytes(g), 0, -1);
    snprintf(name, sizeof name, "POSIX pread (%s)", label);
    int px = bench_add_row(c, name, t + 3 * c->o.reps, c->o.reps, global_bytes(g), 0, -1);
    int ref = faster_row(c, raw, px);
    int pz[2];
    for (int k = 0; k < 2; k++) {
        snprintf(name, sizeof name, "%s (%s)", read_names[k], label);
        pz[k] = bench_add_row(c, name, t + k * c->o.reps, c->o.reps, global_bytes(g),
                              (double)g->nchunks, ref);
    }
    if (c->o.codec.kind != CODEC_NONE && cr->dec_seconds > 0 && stored > 0) {
        double speed = cr->bytes_in / cr->dec_seconds;
        double ti = global_bytes(g) / (speed * c->size) +
                    c->rows[raw].best * stored / global_bytes(g);
        snprintf(name, sizeof name, "ideal (decode x ranks + encoded bytes at raw, %s)", label);
        int ir = bench_add_row(c, name, &ti, 1, global_bytes(g), 0, -1);
        for (int k = 0; k < 2; k++) {
            char key[96];
            snprintf(key, sizeof key, "%s_vs_ideal (%s)", k ? "read_all" : "read", label);
            bench_metric_num(c, key, c->rows[ir].best / c->rows[pz[k]].best);
        }
    }
    free(t);
    free(buf);
}

int pzb_restart(bench_ctx *c)
{
    bench_geom g;
    bench_geom_init(c, &g);
    bench_title(c, "restart", &g);
    pzb_codec_result cr;
    pzb_codec_baseline(c, &g, &cr);
    double stored = write_base(c, &g);
    read_rows(c, &g, &g.blk, "same decomp", &cr, stored);
    int axis = pick_axis(c, &g);
    uint64_t t = (g.shape[axis] + (uint64_t)c->size - 1) / (uint64_t)c->size;
    bench_box slab;
    bench_slab(g.ndim, g.shape, axis, t, (uint64_t)c->rank, &slab);
    char label[32];
    snprintf(label, sizeof label, "slabs axis %d", axis);
    read_rows(c, &g, &slab, label, &cr, stored);
    remove_base(c);
    return c->failures != 0;
}

/* ------------------------------------------------------------ postproc */

typedef struct slabs {
    int axis;
    uint64_t thick, count, rounds, max_elems;
} slabs;

static void slabs_init(const bench_ctx *c, const bench_geom *g, slabs *s)
{
    s->axis = pick_axis(c, g);
    s->thick = c->o.slab ? c->o.slab : g->chunks[s->axis];
    s->count = (g->shape[s->axis] + s->thick - 1) / s->thick;
    s->rounds = (s->count + (uint64_t)c->size - 1) / (uint64_t)c->size;
    s->max_elems = global_bytes(g) / 8 / g->shape[s->axis] * s->thick;
}

/* All rounds of slab reads of one kind; round r gives rank k slab r*size+k. */
static double postproc_once(bench_ctx *c, const bench_geom *g, const slabs *s, int kind,
                            double *buf, int verify)
{
    char path[BENCH_PATH_MAX];
    bench_path(c, path, kind == READ_RAW ? "base.raw" : "base.zarr");
    pzarr_store *st = NULL;
    pzarr_array *a = NULL;
    MPI_File fh;
    long bad = 0;
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime(), tv = 0;
    if (kind == READ_RAW)
        bench_raw_open(c, path, 0, &fh);
    else
        pzb_open(c, path, &st, &a);
    for (uint64_t r = 0; r < s->rounds; r++) {
        bench_box b;
        bench_slab(g->ndim, g->shape, s->axis, s->thick, r * (uint64_t)c->size + (uint64_t)c->rank,
                   &b);
        if (kind == READ_RAW)
            bench_raw_xfer(c, fh, 0, g->ndim, g->shape, &b, buf);
        else
            pzb_read(c, a, &b, buf, kind == READ_PZ_ALL);
        if (verify) {
            double tv0 = MPI_Wtime();
            bad += bench_check(c->o.data, g->shape, &b, buf);
            tv += MPI_Wtime() - tv0;
        }
    }
    if (kind == READ_RAW)
        bench_raw_close(c, &fh);
    else
        pzb_close(c, st, a);
    double t = MPI_Wtime() - t0 - tv;
    if (verify) {
        char key[64];
        snprintf(key, sizeof key, "verify %s", read_names[kind]);
        pzb_verify(c, key, bad);
    }
    return bench_max(c->comm, t);
}

int pzb_postproc(bench_ctx *c)
{
    bench_geom g;
    bench_geom_init(c, &g);
    bench_title(c, "postproc", &g);
    slabs s;
    slabs_init(c, &g, &s);
    write_base(c, &g);
    double *buf = pzb_alloc(c, s.max_elems);
    double *t = series(c, 3);
    for (int rep = 0; rep < c->o.reps; rep++)
        for (int k = 0; k < 3; k++) {
            bench_progress(c, "postproc: sample %d/%d: %s", rep + 1, c->o.reps, read_names[k]);
            t[k * c->o.reps + rep] = postproc_once(c, &g, &s, k, buf, rep == 0);
        }
    bench_progress_done(c);
    int ref = bench_add_row(c, "raw MPI-IO read_all (slabs)", t + 2 * c->o.reps, c->o.reps,
                            global_bytes(&g), 0, -1);
    bench_add_row(c, "pzarr read (slabs)", t, c->o.reps, global_bytes(&g), 0, ref);
    bench_add_row(c, "pzarr read_all (slabs)", t + c->o.reps, c->o.reps, global_bytes(&g), 0,
                  ref);
    bench_metric_num(c, "slab_axis", s.axis);
    bench_metric_num(c, "slab_thickness", (double)s.thick);
    bench_metric_num(c, "slabs", (double)s.count);
    bench_metric_num(c, "rounds", (double)s.rounds);
    remove_base(c);
    free(t);
    free(buf);
    return c->failures != 0;
}
