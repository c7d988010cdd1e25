/*
 * h5bench: the checkpoint pattern of pzarr-bench with parallel HDF5, side by
 * side: one chunked float64 dataset, each rank its Cartesian block, collective
 * transfers (HDF5 refuses independent writes to filtered datasets), deflate
 * (--codec gzip:L, H5Pset_deflate) or no filter (--codec none). Debian's HDF5
 * filter plugins (blosc, zstd) are built for serial HDF5 and are not used.
 *
 *   mpiexec -n N h5bench checkpoint [--shape X,Y,Z] [--chunks X,Y,Z]
 *                 [--codec none|gzip:L] [--data D] [--reps N] [--dir P] [--json]
 *
 * Rows: raw MPI-IO write_all, HDF5 write, raw MPI-IO read_all, HDF5 read.
 */
#include "bench.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void h5_check(const bench_ctx *c, long long rc, const char *what)
{
    if (rc < 0) {
        H5Eprint2(H5E_DEFAULT, stderr);
        bench_die(c, "HDF5: %s failed", what);
    }
}

static hid_t file_access(const bench_ctx *c)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    h5_check(c, fapl, "H5Pcreate(FILE_ACCESS)");
    h5_check(c, H5Pset_fapl_mpio(fapl, c->comm, MPI_INFO_NULL), "H5Pset_fapl_mpio");
    return fapl;
}

static hid_t dataset_create_plist(const bench_ctx *c, const bench_geom *g)
{
    hsize_t cd[BENCH_NDIM_MAX];
    for (int i = 0; i < g->ndim; i++)
        cd[i] = g->chunks[i];
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    h5_check(c, dcpl, "H5Pcreate(DATASET_CREATE)");
    h5_check(c, H5Pset_chunk(dcpl, g->ndim, cd), "H5Pset_chunk");
    /* Like Zarr: no fill values written at creation. */
    h5_check(c, H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER), "H5Pset_fill_time");
    if (c->o.codec.kind == CODEC_GZIP)
        h5_check(c, H5Pset_deflate(dcpl, (unsigned)c->o.codec.level), "H5Pset_deflate");
    return dcpl;
}

/* Selects this rank's box in the file space; returns the memory space. */
static hid_t select_box(const bench_ctx *c, hid_t fspace, const bench_box *b)
{
    hsize_t st[BENCH_NDIM_MAX], ct[BENCH_NDIM_MAX];
    for (int i = 0; i < b->ndim; i++) {
        st[i] = b->start[i];
        ct[i] = b->count[i];
    }
    if (bench_box_elems(b) == 0) {
        h5_check(c, H5Sselect_none(fspace), "H5Sselect_none");
        hsize_t one = 1;
        hid_t m = H5Screate_simple(1, &one, NULL);
        h5_check(c, H5Sselect_none(m), "H5Sselect_none");
        return m;
    }
    h5_check(c, H5Sselect_hyperslab(fspace, H5S_SELECT_SET, st, NULL, ct, NULL),
             "H5Sselect_hyperslab");
    hid_t m = H5Screate_simple(b->ndim, ct, NULL);
    h5_check(c, m, "H5Screate_simple");
    return m;
}

static hid_t collective(const bench_ctx *c)
{
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    h5_check(c, dxpl, "H5Pcreate(DATASET_XFER)");
    h5_check(c, H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE), "H5Pset_dxpl_mpio");
    return dxpl;
}

/* Create, write this rank's block, close; seconds on this rank. */
static double h5_write(const bench_ctx *c, const bench_geom *g, const char *path,
                       const double *buf, double *stored)
{
    hsize_t dims[BENCH_NDIM_MAX];
    for (int i = 0; i < g->ndim; i++)
        dims[i] = g->shape[i];
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    hid_t fapl = file_access(c);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    h5_check(c, f, "H5Fcreate");
    hid_t space = H5Screate_simple(g->ndim, dims, NULL);
    hid_t dcpl = dataset_create_plist(c, g);
    hid_t d = H5Dcreate2(f, "a", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    h5_check(c, d, "H5Dcreate2");
    hid_t mspace = select_box(c, space, &g->blk);
    hid_t dxpl = collective(c);
    h5_check(c, H5Dwrite(d, H5T_NATIVE_DOUBLE, mspace, space, dxpl, buf), "H5Dwrite");
    *stored = (double)H5Dget_storage_size(d);
    H5Pclose(dxpl);
    H5Sclose(mspace);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    h5_check(c, H5Fclose(f), "H5Fclose");
    H5Pclose(fapl);
    return MPI_Wtime() - t0;
}

static double h5_read(const bench_ctx *c, const bench_geom *g, const char *path, double *buf)
{
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    hid_t fapl = file_access(c);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    h5_check(c, f, "H5Fopen");
    hid_t d = H5Dopen2(f, "a", H5P_DEFAULT);
    h5_check(c, d, "H5Dopen2");
    hid_t space = H5Dget_space(d);
    hid_t mspace = select_box(c, space, &g->blk);
    hid_t dxpl = collective(c);
    h5_check(c, H5Dread(d, H5T_NATIVE_DOUBLE, mspace, space, dxpl, buf), "H5Dread");
    H5Pclose(dxpl);
    H5Sclose(mspace);
    H5Sclose(space);
    H5Dclose(d);
    h5_check(c, H5Fclose(f), "H5Fclose");
    H5Pclose(fapl);
    return MPI_Wtime() - t0;
}

typedef struct samples {
    double *raw_w, *h5_w, *raw_r, *h5_r;
    double stored;
} samples;

static void one_rep(bench_ctx *c, const bench_geom *g, double *buf, double *rbuf, int rep,
                    samples *s)
{
    char h5[BENCH_PATH_MAX], raw[BENCH_PATH_MAX];
    bench_path(c, h5, "h5-%d.h5", rep);
    bench_path(c, raw, "h5-%d.raw", rep);
    bench_progress(c, "h5bench: sample %d/%d", rep + 1, c->o.reps);
    s->h5_w[rep] = bench_max(c->comm, h5_write(c, g, h5, buf, &s->stored));
    s->raw_w[rep] = bench_max(c->comm, bench_raw_once(c, raw, 1, g->ndim, g->shape, &g->blk,
                                                      buf));
    s->h5_r[rep] = bench_max(c->comm, h5_read(c, g, h5, rbuf));
    if (rep == 0) {
        long bad = bench_check(c->o.data, g->shape, &g->blk, rbuf), all = 0;
        MPI_Allreduce(&bad, &all, 1, MPI_LONG, MPI_SUM, c->comm);
        if (all)
            bench_metric_str(c, "verify", "FAILED (%ld elements differ)", all);
        else
            bench_metric_str(c, "verify", "ok");
        c->failures += all;
    }
    s->raw_r[rep] = bench_max(c->comm, bench_raw_once(c, raw, 0, g->ndim, g->shape, &g->blk,
                                                      rbuf));
    bench_remove(c, h5);
    bench_remove(c, raw);
}

static void run(bench_ctx *c)
{
    bench_geom g;
    bench_geom_init(c, &g);
    bench_title(c, "checkpoint", &g);
    uint64_t n = bench_box_elems(&g.blk);
    double *buf = malloc((n ? n : 1) * sizeof *buf), *rbuf = malloc((n ? n : 1) * sizeof *buf);
    int reps = c->o.reps;
    double *t = calloc((size_t)reps * 4, sizeof *t);
    if (!buf || !rbuf || !t)
        bench_die(c, "out of memory");
    bench_fill(c->o.data, g.shape, &g.blk, buf);
    samples s = {t, t + reps, t + 2 * reps, t + 3 * reps, 0};
    for (int rep = 0; rep < reps; rep++)
        one_rep(c, &g, buf, rbuf, rep, &s);
    bench_progress_done(c);
    double bytes = 8;
    for (int i = 0; i < g.ndim; i++)
        bytes *= (double)g.shape[i];
    int rw = bench_add_row(c, "raw MPI-IO write_all", s.raw_w, reps, bytes, 0, -1);
    bench_add_row(c, "hdf5 write (collective)", s.h5_w, reps, bytes, (double)g.nchunks, rw);
    int rr = bench_add_row(c, "raw MPI-IO read_all (same decomp)", s.raw_r, reps, bytes, 0, -1);
    bench_add_row(c, "hdf5 read (same decomp)", s.h5_r, reps, bytes, (double)g.nchunks, rr);
    bench_metric_num(c, "logical_bytes", bytes);
    bench_metric_num(c, "stored_bytes", s.stored);
    bench_metric_num(c, "compression_ratio", s.stored > 0 ? bytes / s.stored : 0);
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    bench_metric_str(c, "hdf5_version", "%u.%u.%u", maj, min, rel);
    free(t);
    free(buf);
    free(rbuf);
}

static int check_args(bench_ctx *c, int argc, char **argv)
{
    int rc = bench_parse(c, argc, argv);
    if (rc)
        return rc;
    const char *why = NULL;
    if (strcmp(c->o.pattern, "checkpoint"))
        why = "only the checkpoint pattern is implemented";
    else if (c->o.codec.kind != CODEC_NONE && c->o.codec.kind != CODEC_GZIP)
        why = "codec must be none or gzip:L (parallel HDF5 here has deflate only)";
    else if (c->o.shard)
        why = "--shard does not apply";
    if (why && c->rank == 0)
        fprintf(stderr, "%s: %s\n", c->prog, why);
    return why ? 2 : 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    static bench_ctx c;
    c.comm = MPI_COMM_WORLD;
    c.prog = "h5bench";
    MPI_Comm_rank(c.comm, &c.rank);
    MPI_Comm_size(c.comm, &c.size);
    int rc = check_args(&c, argc, argv);
    c.o.format = 0;
    if (rc == 0) {
        c.progress = 0;
        rc = bench_dir_setup(&c);
    }
    if (rc == 0) {
        run(&c);
        bench_dir_cleanup(&c);
        bench_report(&c);
        rc = c.failures != 0;
    }
    MPI_Finalize();
    return rc;
}
