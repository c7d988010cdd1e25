/*
 * Shared pieces of pzarr-bench and h5bench: options, geometry, test data,
 * timing, memory probes, the raw MPI-IO baseline and the report (a table or
 * JSON on rank 0). Nothing here uses pzarr.
 */
#ifndef PZARR_BENCH_H
#define PZARR_BENCH_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_NDIM_MAX 3
#define BENCH_ROWS_MAX 32
#define BENCH_METRICS_MAX 64
#define BENCH_PATH_MAX 4096

enum bench_data { DATA_SMOOTH, DATA_RANDOM, DATA_ZEROS };
enum bench_codec_kind { CODEC_NONE, CODEC_ZSTD, CODEC_BLOSC, CODEC_GZIP };

typedef struct bench_codec {
    int kind;
    int level;      /* zstd/gzip level, blosc clevel */
    char cname[16]; /* blosc compressor */
    int shuffle;    /* blosc: 0 none, 1 byte, 2 bit */
    char text[64];  /* as given */
} bench_codec;

typedef struct bench_box {
    int ndim;
    uint64_t start[BENCH_NDIM_MAX];
    uint64_t count[BENCH_NDIM_MAX];
} bench_box;

typedef struct bench_opts {
    const char *pattern;
    int ndim; /* of --shape, 0 if not given */
    uint64_t shape[BENCH_NDIM_MAX];
    int chunk_ndim; /* of --chunks, 0 if not given */
    uint64_t chunks[BENCH_NDIM_MAX];
    const char *shard; /* --shard, NULL if not given */
    bench_codec codec;
    int data;
    int reps;
    const char *dir;
    int json;
    int misaligned;
    int durable; /* --durable: PZARR_DURABLE */
    int plain;   /* --no-consolidate: stores without consolidated metadata */
    const char *decomp; /* scale: slab, 2d or 3d */
    int format; /* 2 or 3 */
    int axis;   /* axis of the slabs of restart and postproc */
    uint64_t slab;
    int inner; /* repetitions inside one timed sample (open) */
    /* copy: the target */
    int to_chunk_ndim;
    uint64_t to_chunks[BENCH_NDIM_MAX];
    const char *to_codec; /* NULL: --codec */
    int to_format;        /* 0: the source's */
    int memory_mib;       /* the copy's budget per rank; 0: pzarr's default */
    int keep;             /* copy: leave the source (for zarr-python + dask) */
    int no_floor;         /* copy: skip the read_all + write floor */
    double compute_ms;    /* overlap: compute per interval; 0: twice the blocking checkpoint */
    int intervals;        /* overlap: checkpoint intervals timed per mode */
} bench_opts;

typedef struct bench_row {
    char name[96];
    double best, median; /* seconds */
    double bytes;        /* logical bytes per sample, 0: no GB/s column */
    double items;        /* items per sample (chunks), 0: none */
    int ref;             /* row this one is compared with, -1: none */
} bench_row;

typedef struct bench_metric {
    char key[48];
    char val[160];
    int numeric;
} bench_metric;

typedef struct bench_ctx {
    MPI_Comm comm;
    int rank, size;
    const char *prog;
    bench_opts o;
    char dir[BENCH_PATH_MAX];
    int dir_created;
    char title[1024];
    bench_row rows[BENCH_ROWS_MAX];
    int nrows;
    bench_metric m[BENCH_METRICS_MAX];
    int nm;
    int progress; /* rank 0 and stderr is a terminal */
    long failures;
} bench_ctx;

/* ---- options (bench_util.c) */
/* Parses argv after the program name. Returns 0, or 2 after printing a usage
 * error on rank 0. `extra` lists the options a tool does not accept. */
int bench_parse(bench_ctx *c, int argc, char **argv);
int bench_parse_codec(const char *s, bench_codec *out);
const char *bench_data_name(int data);
void bench_usage(const bench_ctx *c);

/* ---- scratch directory */
int bench_dir_setup(bench_ctx *c);
void bench_dir_cleanup(bench_ctx *c);
void bench_path(const bench_ctx *c, char *out, const char *fmt, ...);
void bench_remove(const bench_ctx *c, const char *path); /* rank 0, then barrier */

/* ---- geometry */
uint64_t bench_box_elems(const bench_box *b);
/* Cartesian block of `coords` in a `dims` process grid. */
void bench_block(int ndim, const uint64_t *shape, const int *dims, const int *coords,
                 bench_box *out);
/* Slab `i` of thickness `t` along `axis` (clipped; empty past the end). */
void bench_slab(int ndim, const uint64_t *shape, int axis, uint64_t t, uint64_t i,
                bench_box *out);

/* ---- checkpoint geometry */
typedef struct bench_geom {
    int ndim;
    uint64_t shape[BENCH_NDIM_MAX], chunks[BENCH_NDIM_MAX];
    int dims[BENCH_NDIM_MAX], coords[BENCH_NDIM_MAX];
    bench_box blk;
    int aligned; /* every subdomain boundary is a chunk boundary */
    uint64_t nchunks;
} bench_geom;

/* Default shape 128^3, chunks 32^3 (48^3 with --misaligned); a Cartesian
 * process grid from MPI_Dims_create + MPI_Cart_create. */
void bench_geom_init(const bench_ctx *c, bench_geom *g);
void bench_title(bench_ctx *c, const char *what, const bench_geom *g);

/* ---- test data: a pure function of the global index */
void bench_fill(int data, const uint64_t *shape, const bench_box *b, double *buf);
/* Number of elements of buf that differ from bench_fill. */
long bench_check(int data, const uint64_t *shape, const bench_box *b, const double *buf);

/* ---- timing and memory */
double bench_max(MPI_Comm comm, double v);
double bench_min(MPI_Comm comm, double v);
double bench_sum(MPI_Comm comm, double v);
void bench_progress(const bench_ctx *c, const char *fmt, ...);
void bench_progress_done(const bench_ctx *c);
int bench_peak_reset(void);          /* 0 if the high-water mark was reset */
double bench_rss_mib(const char *key); /* "VmRSS" or "VmHWM", MiB; <0 if unknown */
double bench_maxrss_mib(void);         /* getrusage ru_maxrss */

/* ---- report */
int bench_add_row(bench_ctx *c, const char *name, const double *t, int n, double bytes,
                  double items, int ref);
void bench_metric_num(bench_ctx *c, const char *key, double v);
void bench_metric_str(bench_ctx *c, const char *key, const char *fmt, ...);
void bench_report(const bench_ctx *c);
void bench_die(const bench_ctx *c, const char *fmt, ...);
void bench_fmt_dims(char *out, size_t cap, int n, const uint64_t *v, char sep);

/* ---- raw MPI-IO baseline (bench_raw.c): one file, C order float64 */
void bench_raw_open(const bench_ctx *c, const char *path, int write, MPI_File *fh);
/* Collective: each rank its box through a subarray file view. */
void bench_raw_xfer(const bench_ctx *c, MPI_File fh, int write, int ndim,
                    const uint64_t *shape, const bench_box *b, double *buf);
void bench_raw_close(const bench_ctx *c, MPI_File *fh);
/* Open, transfer, close; returns the elapsed seconds on this rank. */
double bench_raw_once(const bench_ctx *c, const char *path, int write, int ndim,
                      const uint64_t *shape, const bench_box *b, double *buf);

/* ---- POSIX baseline (bench_raw.c): the physical limit on one node. Each
 * rank pwrite()s (fdatasync'ed with --durable) or pread()s `bytes` of buf
 * (page-aligned memory) to or from its own file `path`; after a barrier,
 * open + transfer + close; returns the elapsed seconds on this rank. */
double bench_posix_once(const bench_ctx *c, const char *path, int write, void *buf,
                        size_t bytes);
/* Page-aligned memory (dies when there is none). */
void *bench_page_alloc(const bench_ctx *c, size_t bytes);

#endif
