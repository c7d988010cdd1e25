/* pzarr-bench internals: pzarr helpers, the codec baseline and the patterns. */
#ifndef PZB_H
#define PZB_H

#include "bench.h"

#include <pzarr.h>

/* ---- pzarr helpers (pzb_common.c); failures abort with pzarr's message */
void pzb_check_store(const bench_ctx *c, int rc, const pzarr_store *s, const char *what);
void pzb_check_array(const bench_ctx *c, int rc, const pzarr_array *a, const char *what);
/* pzarr_open flags that create a store whose root group has the format of
 * the options (and so the same format as its arrays). */
int pzb_create_flags(const bench_ctx *c);
/* The metadata document of a float64 array with the codec of the options. */
void pzb_meta(const bench_ctx *c, int ndim, const uint64_t *shape, const uint64_t *chunks,
              char *out, size_t cap);

typedef struct pzb_times {
    double create, write, flush, close, total; /* seconds on this rank */
} pzb_times;

/* Creates the store `path` with the array "a", sets block ownership over
 * `owner_dims` (NULL: the default), writes this rank's box and closes.
 * Collective. `st` receives this rank's counters. */
void pzb_write(const bench_ctx *c, const char *path, const char *meta, const int *owner_dims,
               const bench_box *b, const double *buf, pzb_times *t, pzarr_stats *st);
void pzb_open(const bench_ctx *c, const char *path, pzarr_store **s, pzarr_array **a);
void pzb_close(const bench_ctx *c, pzarr_store *s, pzarr_array *a);
/* pzarr_array_read (local) or pzarr_array_read_all (collective). */
void pzb_read(const bench_ctx *c, pzarr_array *a, const bench_box *b, double *buf,
              int collective);
/* Waits for every rank without spinning a core (the codec baseline runs on
 * one rank while the others wait). */
void pzb_idle_barrier(const bench_ctx *c);
double *pzb_alloc(const bench_ctx *c, uint64_t elems);
/* Records a verification outcome as metric `key`. */
void pzb_verify(bench_ctx *c, const char *key, long local_bad);

/* ---- codec baseline (pzb_codec.c) */
typedef struct pzb_codec_result {
    double seconds;   /* best total compression time on one core */
    double bytes_in;  /* decoded chunk bytes compressed */
    double bytes_out; /* encoded bytes */
    double chunks;
    double dec_seconds; /* best total decompression time on one core */
} pzb_codec_result;

/* Rank 0 compresses the array's chunks (up to 128 MiB of them) with the
 * codec alone, one core, `reps` times, and decompresses them again; every
 * rank gets the result.
 * Collective. */
void pzb_codec_baseline(const bench_ctx *c, const bench_geom *g, pzb_codec_result *out);

/* ---- patterns: return 0, or 1 if a verification failed */
int pzb_checkpoint(bench_ctx *c);
int pzb_restart(bench_ctx *c);
int pzb_postproc(bench_ctx *c);
int pzb_codec(bench_ctx *c);
int pzb_smallchunks(bench_ctx *c);
int pzb_open_pattern(bench_ctx *c);
int pzb_scale(bench_ctx *c);
int pzb_copy(bench_ctx *c);
int pzb_overlap(bench_ctx *c);

/* ---- MPI traffic of this rank, counted while pzb_counting (pzb_mpicount.c) */
typedef struct pzb_mpicount {
    uint64_t rma_ops, rma_bytes;   /* MPI_Put / MPI_Get aimed at another rank */
    uint64_t p2p_msgs, p2p_bytes;  /* MPI_Send / MPI_Isend */
    uint64_t collectives;          /* Allreduce, Bcast, Barrier, Win_fence, ... */
} pzb_mpicount;
extern pzb_mpicount pzb_count;
extern int pzb_counting;

#endif
