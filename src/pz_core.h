/* Internal: storage I/O, collective helpers, ownership and the handles. */
#ifndef PZ_CORE_H
#define PZ_CORE_H

#include "pz_internal.h"

#include <mpi.h>

/* ---------------------------------------------------------------- io */

/* Whole small files (metadata), POSIX. Missing file: PZARR_ENOENT. */
int pz_io_read_file(const char *path, pz_buf *out, pz_err *e);
/* Writes beside the target, then renames over it: readers never see a torn
 * file. tag makes the temporary name unique per writer. A missing parent
 * directory is PZARR_ENOENT (the caller creates it and tries again). */
int pz_io_write_atomic(const char *path, const void *data, size_t n,
                       const char *tag, MPI_Info info, pz_err *e);
int pz_io_mkdirs(const char *path, pz_err *e);
/* Removes a file; an absent file is not an error. *removed tells. */
int pz_io_remove(const char *path, bool *removed, pz_err *e);
bool pz_io_is_dir(const char *path);
bool pz_io_exists(const char *path);
/* Whether a directory entry is one of our temporary files. */
bool pz_io_is_temp_name(const char *name);

/* Reads a batch of chunk files, all issued before any is waited on: with
 * an info, non-blocking MPI-IO (all opened, all reads posted, then waited
 * on); with MPI_INFO_NULL, POSIX open + posix_fadvise(WILLNEED) for all,
 * then pread. present[i] is false for a missing file. */
int pz_io_read_batch(int n, const char *const *paths, MPI_Info info,
                     pz_buf *bufs, bool *present, pzarr_stats *st, pz_err *e);

/* Joins two path parts with '/', into a pz_malloc'd string. */
char *pz_path_join(const char *a, const char *b);

/* ---------------------------------------------------------------- par */

/*
 * Collective agreement on an outcome: every rank passes its own error state;
 * all ranks return the code and message of the lowest failing rank (the
 * message prefixed by "rank R: " when there are several ranks). 0 if none
 * failed.
 */
int pz_agree(MPI_Comm comm, pz_err *e);
/* Rank 0's buffers and outcome reach every rank. Root passes its bufs,
 * others receive into theirs (reset first). */
int pz_bcast_bufs(MPI_Comm comm, int nbufs, pz_buf *bufs, pz_err *e);

typedef struct pz_owner_map {
    pzarr_owner_policy policy;
    int nranks;
    int ndim;
    int pdims[PZ_MAX_NDIM];    /* process grid (block policy) */
    uint64_t grid[PZ_MAX_NDIM]; /* chunks per dimension */
} pz_owner_map;

/* dims may be NULL (MPI_Dims_create-like choice). */
int pz_owner_init(pz_owner_map *om, pzarr_owner_policy policy, int nranks,
                  int ndim, const uint64_t *grid, const int *dims, pz_err *e);
int pz_owner_of(const pz_owner_map *om, const uint64_t *cc);

/* ---------------------------------------------------------------- handles */

struct pzarr_store {
    MPI_Comm comm;
    int rank, size;
    char *root;
    int flags;
    MPI_Info info; /* our dup of the caller's hints, plus our own */
    /* For chunk files: `info` when the caller gave hints (or
     * PZARR_CHUNK_IO=mpiio), so they reach MPI-IO; else MPI_INFO_NULL, and
     * small chunk files go through POSIX calls, much cheaper per file.
     * Shards always use MPI-IO with `info`. */
    MPI_Info chunk_info;
    int root_format; /* 2 or 3: format used for new groups; 0 when empty */
    pz_err err;
    pzarr_stats stats;
    int open_arrays;
};

/* A node's documents, as rank 0 found them. */
typedef struct pz_node_docs {
    pzarr_node_kind kind;
    int format;
    pz_buf doc;   /* zarr.json, .zarray or .zgroup */
    pz_buf attrs; /* .zattrs (v2) */
} pz_node_docs;

/* Rank 0 only: looks at what lives at dir (counts metadata reads). */
int pz_node_probe(pzarr_store *s, const char *dir, pz_node_docs *nd);
void pz_node_docs_free(pz_node_docs *nd);
/* Collective: rank 0 probes `name`, every rank receives the documents. */
int pz_node_fetch(pzarr_store *s, const char *name, pz_node_docs *nd);
/* Rank 0 only: creates missing parent groups of `name` in format fmt. */
int pz_make_parents(pzarr_store *s, const char *name, int fmt, pz_err *e);
/* Rank 0 only: writes a metadata document atomically (counts). */
int pz_meta_write(pzarr_store *s, const char *path, const char *text,
                  pz_err *e);
/* Prefixes `name` with the store root. */
char *pz_node_dir(const pzarr_store *s, const char *name);
/* Copies a collective outcome into the store's message and returns it. */
int pz_store_fail(pzarr_store *s, const pz_err *e);

#endif /* PZ_CORE_H */
