/*
 * The overlap pattern: a simulation that computes on its block (a 7-point
 * heat stencil, memory-bound, a fixed number of sweeps per interval) and
 * checkpoints once per interval, three ways in the same run:
 *
 *   none      compute only;
 *   blocking  compute, then pzarr_array_write + pzarr_array_flush;
 *   async     pzarr_array_write + pzarr_array_iflush, compute, and the wait
 *             at the next checkpoint (the store opened with PZARR_ASYNC).
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

enum { NONE, BLOCKING, ASYNC };

/* `n` intervals of one mode; per-interval times (slowest rank) into t;
 * for ASYNC, the blocking part (write + iflush) of each into part. */
static void run_mode(bench_ctx *c, const bench_geom *g, int mode, int sweeps, int n, field *f,
                     double *t, double *part, double *ifl)
{
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "overlap-%d.zarr", mode);
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    if (mode != NONE)
        open_store(c, g, path, mode == ASYNC, &s, &a);
    pzarr_request r = NULL;
    /* one interval untimed: the first checkpoint creates the chunk files */
    for (int k = -1; k < n; k++) {
        MPI_Barrier(c->comm);
        double t0 = MPI_Wtime();
        double tp = 0, ti = 0;
        if (mode == ASYNC) {
            if (r)
                pzb_check_array(c, pzarr_wait(&r), a, "pzarr_wait");
            double p0 = MPI_Wtime();
            write_block(c, g, a, f);
            double p1 = MPI_Wtime();
            pzb_check_array(c, pzarr_array_iflush(a, &r), a, "pzarr_array_iflush");
            tp = MPI_Wtime() - p0;
            ti = MPI_Wtime() - p1;
        }
        compute(f, sweeps);
        if (mode == BLOCKING) {
            write_block(c, g, a, f);
            pzb_check_array(c, pzarr_array_flush(a), a, "pzarr_array_flush");
        }
        double dt = MPI_Wtime() - t0;
        if (k >= 0) {
            t[k] = bench_max(c->comm, dt);
            if (part)
                part[k] = bench_max(c->comm, tp);
            if (ifl)
                ifl[k] = bench_max(c->comm, ti);
        }
    }
    if (r)
        pzb_check_array(c, pzarr_wait(&r), a, "pzarr_wait");
    if (mode == ASYNC) {
        pzarr_stats st;
        pzarr_get_stats(s, &st);
        bench_metric_num(c, "async_iflushes", bench_sum(c->comm, (double)st.iflushes));
        bench_metric_num(c, "async_inflight_peak_mib",
                         bench_max(c->comm, (double)st.inflight_peak / 1048576.0));
    }
    if (mode != NONE) {
        pzb_check_array(c, pzarr_array_close(a), NULL, "pzarr_array_close");
        pzb_check_store(c, pzarr_close(s), NULL, "pzarr_close");
        bench_remove(c, path);
    }
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

/* A memcpy of the block into warm memory, and each rank's POSIX pwrite of
 * its block into its own file from page-aligned memory (fdatasync'ed with
 * --durable), n samples each. */
static void baselines(bench_ctx *c, const field *f, uint64_t bytes, int n, double *mc,
                      double *pw)
{
    double *dst = NULL;
    if (posix_memalign((void **)&dst, 4096, bytes ? bytes : 4096) != 0)
        bench_die(c, "out of memory");
    memset(dst, 1, bytes); /* warm */
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "overlap-posix-%d.bin", c->rank);
    for (int k = 0; k < n; k++) {
        MPI_Barrier(c->comm);
        double t0 = MPI_Wtime();
        memcpy(dst, f->u, bytes);
        mc[k] = bench_max(c->comm, MPI_Wtime() - t0);
    }
    memcpy(dst, f->u, bytes);
    for (int k = 0; k < n; k++) {
        MPI_Barrier(c->comm);
        double t0 = MPI_Wtime();
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        size_t done = 0;
        while (fd >= 0 && done < bytes) {
            ssize_t w = pwrite(fd, (const char *)dst + done, bytes - done, (off_t)done);
            if (w <= 0)
                break;
            done += (size_t)w;
        }
        if (fd >= 0 && c->o.durable)
            fdatasync(fd);
        if (fd < 0 || done != bytes || close(fd) != 0)
            bench_die(c, "POSIX baseline: cannot write %s", path);
        pw[k] = bench_max(c->comm, MPI_Wtime() - t0);
    }
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
    int n = c->o.intervals ? c->o.intervals : 6;
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
    double *ti = malloc((size_t)n * sizeof *ti);
    if (!ti)
        bench_die(c, "out of memory");
    run_mode(c, &g, NONE, sweeps, n, &f, tn, NULL, NULL);
    run_mode(c, &g, BLOCKING, sweeps, n, &f, tb, NULL, NULL);
    run_mode(c, &g, ASYNC, sweeps, n, &f, ta, tp, ti);
    baselines(c, &f, bytes, n, mc, pw);
    int rn = bench_add_row(c, "interval: compute only", tn, n, 0, 0, -1);
    int rb = bench_add_row(c, "interval: compute + blocking checkpoint", tb, n, 0, 0, rn);
    bench_add_row(c, "interval: iflush, compute, wait at the next", ta, n, 0, 0, rb);
    int rc = bench_add_row(c, "blocking checkpoint alone (write + flush)", tc, n, gbytes, 0, -1);
    int rm = bench_add_row(c, "memcpy of the block (warm)", mc, n, gbytes, 0, -1);
    bench_add_row(c, "write + iflush (blocking part)", tp, n, gbytes, 0, rm);
    bench_add_row(c, "pzarr_array_iflush alone", ti, n, 0, 0, rc);
    bench_add_row(c, "POSIX pwrite of each block to its own file", pw, n, gbytes, 0, rc);
    double mn = median(tn, n), mb = median(tb, n), ma = median(ta, n);
    bench_metric_num(c, "hidden_fraction", mb > mn ? (mb - ma) / (mb - mn) : 0);
    bench_metric_num(c, "async_over_blocking", mb > 0 ? ma / mb : 0);
    bench_metric_num(c, "iflush_part_over_memcpy", median(mc, n) > 0 ? median(tp, n) / median(mc, n) : 0);
    bench_metric_num(c, "iflush_part_over_blocking", ck > 0 ? median(tp, n) / ck : 0);
    bench_metric_num(c, "iflush_over_blocking", ck > 0 ? median(ti, n) / ck : 0);
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
    return 0;
}
