/*
 * The overlap pattern: a simulation that computes on its block (a 7-point
 * heat stencil, memory-bound, a fixed number of sweeps per interval) and
 * checkpoints once per interval, three ways in the same run:
 *
 *   none      compute only;
 *   blocking  compute, then pzarr_array_write + pzarr_array_flush;
 *   async     pzarr_array_write + pzarr_array_iflush, compute, and the wait
 *             before the next checkpoint (the store opened with PZARR_ASYNC);
 *
 * in runs of three intervals, the runs of the three interleaved.
 *
 * Reported: time per interval of each (the slowest rank), and
 * hidden fraction = (T_blocking - T_async) / (T_blocking - T_none); the
 * blocking part of an async checkpoint (write + iflush) against a memcpy of
 * the block into warm memory and against the blocking checkpoint; POSIX
 * pwrite of each rank's block into its own file (page-aligned memory)
 * beside the blocking checkpoint.
 *
 *   pzarr-bench overlap [--shape 128,128,128] [--chunks ...] [--codec zstd:1]
 *                       [--compute-ms MS] [--intervals N] [--durable] [--dir D]
 *
 * Without --compute-ms the compute per interval is calibrated to twice the
 * blocking checkpoint's time, measured first.
 */
#define _POSIX_C_SOURCE 200809L
#include "pzb.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct field {
    uint64_t n[3]; /* the block */
    double *u, *v; /* two copies, swapped each sweep */
} field;

static void field_init(const bench_ctx *c, const bench_geom *g, field *f)
{
    for (int d = 0; d < 3; d++)
        f->n[d] = d < g->ndim ? g->blk.count[d] : 1;
    uint64_t e = f->n[0] * f->n[1] * f->n[2];
    f->u = pzb_alloc(c, e);
    f->v = pzb_alloc(c, e);
    bench_fill(c->o.data, g->shape, &g->blk, f->u);
    memcpy(f->v, f->u, (size_t)e * sizeof *f->u);
}

/* One sweep of the stencil over the interior (boundaries held). */
static void sweep(field *f)
{
    uint64_t nx = f->n[2], ny = f->n[1], nz = f->n[0], sy = nx, sz = nx * ny;
    const double *u = f->u;
    double *v = f->v;
    for (uint64_t k = 1; k + 1 < nz; k++)
        for (uint64_t j = 1; j + 1 < ny; j++) {
            const double *p = u + k * sz + j * sy;
            double *q = v + k * sz + j * sy;
            for (uint64_t i = 1; i + 1 < nx; i++)
                q[i] = p[i] + 0.125 * (p[i - 1] + p[i + 1] + p[i - sy] + p[i + sy] + p[i - sz] +
                                       p[i + sz] - 6 * p[i]);
        }
    double *t = f->u;
    f->u = f->v;
    f->v = t;
}

static void compute(field *f, int sweeps)
{
    for (int s = 0; s < sweeps; s++)
        sweep(f);
}

/* One checkpoint store: the array "a" over the whole grid. */
static void open_store(bench_ctx *c, const bench_geom *g, const char *path, int async,
                       pzarr_store **s, pzarr_array **a)
{
    char meta[4096];
    pzb_meta(c, g->ndim, g->shape, g->chunks, meta, sizeof meta);
    bench_remove(c, path);
    int flags = pzb_create_flags(c) | (async ? PZARR_ASYNC : 0);
    pzb_check_store(c, pzarr_open(c->comm, path, flags, s), *s, path);
    pzb_check_store(c, pzarr_array_create(*s, "a", meta, a), *s, "pzarr_array_create");
    pzb_check_array(c, pzarr_array_set_owner(*a, PZARR_OWNER_BLOCK, g->dims), *a,
                    "pzarr_array_set_owner");
}

static void write_block(bench_ctx *c, const bench_geom *g, pzarr_array *a, const field *f)
{
    if (bench_box_elems(&g->blk))
        pzb_check_array(c, pzarr_array_write(a, g->blk.start, g->blk.count, f->u), a,
                        "pzarr_array_write");
}

/* COPY: compute, then a memcpy of the block into warm memory (the baseline
 * of an async checkpoint's blocking part, at the same place in the run). */
enum { NONE, BLOCKING, ASYNC, COPY, NMODES };

typedef struct ckpt {
    pzarr_store *s;
    pzarr_array *a;
    double *dst; /* COPY: pre-touched */
    char path[BENCH_PATH_MAX];
} ckpt;

static void ckpt_open(bench_ctx *c, const bench_geom *g, int mode, ckpt *k)
{
    bench_path(c, k->path, "overlap-%d.zarr", mode);
    open_store(c, g, k->path, mode == ASYNC, &k->s, &k->a);
}

static void ckpt_close(bench_ctx *c, ckpt *k)
{
    pzb_check_array(c, pzarr_array_close(k->a), NULL, "pzarr_array_close");
    pzb_check_store(c, pzarr_close(k->s), NULL, "pzarr_close");
    bench_remove(c, k->path);
}

/* A run of B intervals of `mode` on this rank, as a simulation runs them
 * (no barrier between): blocking, compute then write + flush; async, write
 * + iflush, compute, wait (the wait at the next checkpoint: the write that
 * follows it comes right after the compute, as the blocking one). Returns
 * the run's time; for ASYNC each checkpoint's blocking part (write +
 * iflush) and the iflush alone go to tp[j], ti[j], and pzarr_wait to tw[j];
 * for COPY the memcpy to tp[j]; the compute of each interval to tc[j]. */
static double run(bench_ctx *c, const bench_geom *g, int mode, ckpt *k, int sweeps, field *f,
                  int B, double *tp, double *ti, double *tw, double *tc)
{
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    for (int j = 0; j < B; j++) {
        pzarr_request r = NULL;
        if (mode == ASYNC) {
            double p0 = MPI_Wtime();
            write_block(c, g, k->a, f);
            double p1 = MPI_Wtime();
            pzb_check_array(c, pzarr_array_iflush(k->a, &r), k->a, "pzarr_array_iflush");
            double p2 = MPI_Wtime();
            tp[j] = p2 - p0;
            ti[j] = p2 - p1;
        }
        double c0 = MPI_Wtime();
        compute(f, sweeps);
        tc[j] = MPI_Wtime() - c0;
        if (mode == BLOCKING) {
            write_block(c, g, k->a, f);
            pzb_check_array(c, pzarr_array_flush(k->a), k->a, "pzarr_array_flush");
        } else if (mode == COPY) {
            double p0 = MPI_Wtime();
            memcpy(k->dst, f->u, bench_box_elems(&g->blk) * sizeof(double));
            tp[j] = MPI_Wtime() - p0;
        }
        if (r) {
            double w0 = MPI_Wtime();
            pzb_check_array(c, pzarr_wait(&r), k->a, "pzarr_wait");
            tw[j] = MPI_Wtime() - w0;
        }
    }
    return MPI_Wtime() - t0;
}

enum { B = 3 }; /* intervals per run */

/* `n` intervals of each mode in runs of B, the runs interleaved (the order
 * rotating), so that a drift of this shared machine's speed falls on all
 * alike: per-interval times (a run's, slowest rank, over B) into t[mode];
 * each async checkpoint's blocking part and iflush (slowest rank) into tp,
 * ti, and into to the iflush of the last rank to enter it (the others'
 * include their wait for it: the skew of their compute and writes, which a
 * blocking flush absorbs as well), the call's own cost; the memcpy of COPY
 * runs into mc; the waits into tw, each mode's computes (slowest rank) into
 * tc[mode]. n is a multiple of B. */
static void run_modes(bench_ctx *c, const bench_geom *g, int sweeps, int n, field *f,
                      double *t[3], double *tp, double *ti, double *to, double *mc, double *tw,
                      double *tc[3])
{
    ckpt k[NMODES] = {0};
    ckpt_open(c, g, BLOCKING, &k[BLOCKING]);
    ckpt_open(c, g, ASYNC, &k[ASYNC]);
    uint64_t bytes = bench_box_elems(&g->blk) * sizeof(double);
    k[COPY].dst = bench_page_alloc(c, bytes);
    memset(k[COPY].dst, 1, bytes); /* warm */
    /* one round untimed: the first checkpoints create the chunk files */
    for (int i = -1; i < n / B; i++)
        for (int j = 0; j < NMODES; j++) {
            int mode = (i + 1 + j) % NMODES;
            double p[B] = {0}, q[B] = {0}, w[B] = {0}, cc[B] = {0};
            double dt =
                bench_max(c->comm, run(c, g, mode, &k[mode], sweeps, f, B, p, q, w, cc));
            if (i < 0)
                continue;
            for (int b = 0; b < B; b++) {
                if (mode < COPY) {
                    t[mode][i * B + b] = dt / B;
                    tc[mode][i * B + b] = bench_max(c->comm, cc[b]);
                }
                if (mode == ASYNC) {
                    tw[i * B + b] = bench_max(c->comm, w[b]);
                    tp[i * B + b] = bench_max(c->comm, p[b]);
                    ti[i * B + b] = bench_max(c->comm, q[b]);
                    to[i * B + b] = bench_min(c->comm, q[b]);
                } else if (mode == COPY) {
                    mc[i * B + b] = bench_max(c->comm, p[b]);
                }
            }
        }
    free(k[COPY].dst);
    pzarr_stats st;
    pzarr_get_stats(k[ASYNC].s, &st);
    bench_metric_num(c, "async_iflushes", bench_sum(c->comm, (double)st.iflushes));
    bench_metric_num(c, "async_inflight_peak_mib",
                     bench_max(c->comm, (double)st.inflight_peak / 1048576.0));
    ckpt_close(c, &k[BLOCKING]);
    ckpt_close(c, &k[ASYNC]);
}

/* The peak resident set's growth with async checkpoints in flight, alone
 * (no other store open): a run of B intervals. */
static void async_memory(bench_ctx *c, const bench_geom *g, int sweeps, field *f)
{
    int reset = bench_peak_reset() == 0;
    double rss0 = bench_rss_mib("VmRSS");
    ckpt k;
    ckpt_open(c, g, ASYNC, &k);
    double p[B], q[B], w[B], cc[B];
    run(c, g, ASYNC, &k, sweeps, f, B, p, q, w, cc);
    double grow = (bench_rss_mib("VmHWM") - rss0) * 1048576.0;
    ckpt_close(c, &k);
    if (!reset)
        return; /* no high-water mark to reset: nothing to say */
    double blk = (double)bench_box_elems(&g->blk) * sizeof(double);
    bench_metric_num(c, "async_mem_growth_mib", bench_max(c->comm, grow / 1048576.0));
    bench_metric_num(c, "async_mem_growth_per_block",
                     bench_max(c->comm, blk > 0 ? grow / blk : 0));
}

/* The blocking checkpoint alone (write + flush), n samples. */
static void checkpoint_alone(bench_ctx *c, const bench_geom *g, field *f, int n, double *t)
{
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "overlap-alone.zarr");
    pzarr_store *s;
    pzarr_array *a;
    open_store(c, g, path, 0, &s, &a);
    for (int k = -1; k < n; k++) {
        MPI_Barrier(c->comm);
        double t0 = MPI_Wtime();
        write_block(c, g, a, f);
        pzb_check_array(c, pzarr_array_flush(a), a, "pzarr_array_flush");
        double dt = bench_max(c->comm, MPI_Wtime() - t0);
        if (k >= 0)
            t[k] = dt;
    }
    pzb_check_array(c, pzarr_array_close(a), NULL, "pzarr_array_close");
    pzb_check_store(c, pzarr_close(s), NULL, "pzarr_close");
    bench_remove(c, path);
}

/* Each rank's POSIX pwrite of its block into its own file from page-aligned
 * memory (fdatasync'ed with --durable), n samples. */
static void baselines(bench_ctx *c, const field *f, uint64_t bytes, int n, double *pw)
{
    double *dst = bench_page_alloc(c, bytes);
    memcpy(dst, f->u, bytes);
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "overlap-posix-%d.bin", c->rank);
    for (int k = 0; k < n; k++)
        pw[k] = bench_max(c->comm, bench_posix_once(c, path, 1, dst, bytes));
    unlink(path);
    free(dst);
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double median(const double *v, int n)
{
    double *s = malloc((size_t)n * sizeof *s);
    memcpy(s, v, (size_t)n * sizeof *v);
    qsort(s, (size_t)n, sizeof *s, cmp_d);
    double m = s[n / 2];
    free(s);
    return m;
}

int pzb_overlap(bench_ctx *c)
{
    bench_geom g;
    bench_geom_init(c, &g);
    if (g.ndim != 3)
        bench_die(c, "overlap: a 3-D --shape");
    bench_title(c, "overlap: compute + checkpoint every interval (none, blocking, iflush)", &g);
    int n = c->o.intervals ? c->o.intervals : 12;
    n = (n + B - 1) / B * B;
    field f;
    field_init(c, &g, &f);
    uint64_t bytes = bench_box_elems(&g.blk) * sizeof(double);
    double gbytes = bench_sum(c->comm, (double)bytes);
    double *tc = malloc((size_t)n * sizeof *tc), *tn = malloc((size_t)n * sizeof *tn);
    double *tb = malloc((size_t)n * sizeof *tb), *ta = malloc((size_t)n * sizeof *ta);
    double *tp = malloc((size_t)n * sizeof *tp), *mc = malloc((size_t)n * sizeof *mc);
    double *pw = malloc((size_t)n * sizeof *pw);
    if (!tc || !tn || !tb || !ta || !tp || !mc || !pw)
        bench_die(c, "out of memory");
    /* calibration: the blocking checkpoint, and the sweeps for the compute */
    checkpoint_alone(c, &g, &f, n, tc);
    double ck = median(tc, n);
    double want = c->o.compute_ms > 0 ? c->o.compute_ms / 1e3 : 2 * ck;
    int sweeps = 3;
    for (int round = 0; round < 3; round++) { /* estimate, then correct on the real count */
        MPI_Barrier(c->comm);
        double s0 = MPI_Wtime();
        compute(&f, sweeps);
        double per = bench_max(c->comm, (MPI_Wtime() - s0) / sweeps);
        int next = per > 0 ? (int)(want / per + 0.5) : 1;
        sweeps = next < 1 ? 1 : next;
    }
    bench_metric_num(c, "sweeps_per_interval", sweeps);
    bench_metric_num(c, "compute_ms_target", want * 1e3);
    bench_metric_num(c, "checkpoint_mib", gbytes / 1048576.0);
    bench_metric_str(c, "durable", "%s", c->o.durable ? "yes" : "no");
    double *ti = malloc((size_t)n * sizeof *ti), *to = malloc((size_t)n * sizeof *to);
    double *tw = malloc((size_t)n * sizeof *tw), *tcm = malloc(3 * (size_t)n * sizeof *tcm);
    if (!ti || !to || !tw || !tcm)
        bench_die(c, "out of memory");
    run_modes(c, &g, sweeps, n, &f, (double *[3]){tn, tb, ta}, tp, ti, to, mc, tw,
              (double *[3]){tcm, tcm + n, tcm + 2 * n});
    async_memory(c, &g, sweeps, &f);
    baselines(c, &f, bytes, n, pw);
    int rn = bench_add_row(c, "interval: compute only", tn, n, 0, 0, -1);
    int rb = bench_add_row(c, "interval: compute + blocking checkpoint", tb, n, 0, 0, rn);
    bench_add_row(c, "interval: iflush, compute, wait at the next", ta, n, 0, 0, rb);
    int rc = bench_add_row(c, "blocking checkpoint alone (write + flush)", tc, n, gbytes, 0, -1);
    int rm = bench_add_row(c, "memcpy of the block (warm), after the compute", mc, n, gbytes, 0, -1);
    bench_add_row(c, "write + iflush (blocking part)", tp, n, gbytes, 0, rm);
    bench_add_row(c, "pzarr_array_iflush alone (slowest rank)", ti, n, 0, 0, rc);
    bench_add_row(c, "pzarr_array_iflush alone (last rank in)", to, n, 0, 0, rc);
    bench_add_row(c, "POSIX pwrite of each block to its own file", pw, n, gbytes, 0, rc);
    double mn = median(tn, n), mb = median(tb, n), ma = median(ta, n);
    bench_metric_num(c, "hidden_fraction", mb > mn ? (mb - ma) / (mb - mn) : 0);
    bench_metric_num(c, "async_over_blocking", mb > 0 ? ma / mb : 0);
    bench_metric_num(c, "iflush_part_over_memcpy", median(mc, n) > 0 ? median(tp, n) / median(mc, n) : 0);
    bench_metric_num(c, "iflush_part_over_blocking", ck > 0 ? median(tp, n) / ck : 0);
    bench_metric_num(c, "iflush_over_blocking", ck > 0 ? median(ti, n) / ck : 0);
    bench_metric_num(c, "iflush_own_over_blocking", ck > 0 ? median(to, n) / ck : 0);
    /* Where an async interval's time goes, beyond the compute alone. */
    bench_metric_num(c, "compute_ms_none", median(tcm, n) * 1e3);
    bench_metric_num(c, "compute_ms_blocking", median(tcm + n, n) * 1e3);
    bench_metric_num(c, "compute_ms_async", median(tcm + 2 * n, n) * 1e3);
    bench_metric_num(c, "part_ms_async", median(tp, n) * 1e3);
    bench_metric_num(c, "wait_ms_async", median(tw, n) * 1e3);
    free(f.u);
    free(f.v);
    free(tc);
    free(tn);
    free(tb);
    free(ta);
    free(tp);
    free(mc);
    free(pw);
    free(ti);
    free(to);
    free(tw);
    free(tcm);
    return 0;
}
