/* Internal: the array handle, its write log and the flush. */
#ifndef PZ_ARRAY_H
#define PZ_ARRAY_H

#include "pz_core.h"

#define PZ_SEG_BYTES ((size_t)64 << 20) /* write log segment size */
#define PZ_FLUSH_BUDGET ((uint64_t)256 << 20) /* remote bytes fetched per round */
#define PZ_FLUSH_BATCH 256 /* chunks merged per round at most */
#define PZ_READ_BATCH 256  /* chunk files per batch of a local read */

/*
 * One piece of one write: the part of a pzarr_array_write call that falls in
 * one chunk. Its box (chunk-local start, then size; 2*ndim values) lives in
 * the log's coordinate pool, its dense C-order data in a log segment.
 */
typedef struct pz_piece {
    uint64_t chunk;  /* linear chunk index */
    uint64_t seq;    /* write call number on the writing rank */
    uint64_t nbytes; /* data bytes */
    uint64_t addr;   /* MPI_Aint address of the data (dynamic window) */
    uint64_t box;    /* index of the box in the coordinate pool */
    int32_t src;     /* writing rank */
    int32_t owner;
} pz_piece;

typedef struct pz_seg {
    unsigned char *data;
    size_t size, cap;
} pz_seg;

typedef struct pz_log {
    pz_piece *pieces;
    size_t npieces, cap_pieces;
    uint64_t *coords;
    size_t ncoords, cap_coords;
    pz_seg *segs;
    size_t nsegs, cap_segs;
    uint64_t bytes; /* data bytes held */
    uint64_t seq;   /* next write number */
} pz_log;

struct pzarr_array {
    pzarr_store *s;
    char *name;
    char *dir;
    pz_meta m;
    pz_err err;
    /* The unit of ownership, merging and encoding: the chunk, or for a
     * sharded array the inner chunk. chunk_elems/bytes describe a unit. */
    uint64_t unit[PZ_MAX_NDIM];
    uint64_t chunk_elems;
    size_t chunk_bytes;
    uint64_t grid[PZ_MAX_NDIM];  /* units per dimension */
    uint64_t nunits;
    uint64_t per[PZ_MAX_NDIM];   /* units per shard (1 when not sharded) */
    uint64_t sgrid[PZ_MAX_NDIM]; /* shards (storage chunks) per dimension */
    pz_owner_map om;
    pzarr_owner_policy policy;
    bool pdims_set;
    int pdims[PZ_MAX_NDIM];
    pz_log log;
    uint64_t write_limit;
    /* windows: slots (2 uint64 per rank: count and address of the
     * directory a source has for this owner), data (dynamic: log segments
     * and directories attached) */
    bool windows;
    uint64_t *slots;
    MPI_Win win_slots;
    MPI_Win win_data;
    char *mkdir_cache; /* last chunk directory known to exist */
    pz_buf rbufs[PZ_READ_BATCH]; /* file buffers of local reads, reused */
};

/* array.c */
int pz_array_derive(pzarr_array *a, pz_err *e);
int pz_array_write_meta(pzarr_array *a, pz_err *e);
int pz_array_check_box(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                       const char *what, pz_err *e);
int pz_array_chunk_path(pzarr_array *a, const uint64_t *cc, char *key, size_t keycap,
                        char **path, pz_err *e);
void pz_array_chunk_extent(const pzarr_array *a, const uint64_t *cc, uint64_t *ext);
int pz_array_decode(pzarr_array *a, const char *key, const pz_buf *enc, void *out,
                    pz_err *e);
/* A unit's name for messages: its chunk key, or for a sharded array the
 * shard key and the inner chunk's coordinates. */
void pz_array_unit_name(const pzarr_array *a, const uint64_t *ucc, char *out, size_t cap);

/* shard.c / array.c: the encoded bytes of n units (linear indices), read in
 * batches: present[i] is false for an absent unit. */
int pz_array_fetch_units(pzarr_array *a, size_t n, const uint64_t *units, pz_buf *bufs,
                         bool *present, pz_err *e);
int pz_array_read_storage(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                          void *buf, pz_err *e);

/* log.c */
void pz_log_clear(pzarr_array *a);
void pz_log_free(pzarr_array *a);
/* Applies this rank's pending pieces that intersect the box onto buf. */
void pz_log_overlay(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                    void *buf);

/*
 * Collective, on the slot window: every rank puts (cnt[o], address of
 * base + off[o] * entry_bytes) into rank o's slot for it, for each o with
 * cnt[o] > 0 (nothing when !ok). Afterwards a->slots[2 * src] and
 * [2 * src + 1] hold what each source published for this rank.
 */
void pz_array_publish(pzarr_array *a, const uint64_t *cnt, const uint64_t *off,
                      const void *base, size_t entry_bytes, bool ok);
int pz_array_chunk_parent(pzarr_array *a, const char *path, pz_err *e);
/* Whether the stored bytes of a chunk are its native in-memory bytes
 * (little-endian "bytes" alone: no transpose, compression or checksum). */
bool pz_array_identity(const pzarr_array *a);
bool pz_array_unit_is_fill(const pzarr_array *a, const unsigned char *chunk);
/* flush.c: writes a merged chunk (or removes it when all fill). */
int pz_array_store_chunk(pzarr_array *a, const uint64_t *cc, const void *chunk,
                         pz_buf *enc, pz_err *e);

/* Inner chunks a rank encoded in a flush, for the shard writers. */
typedef struct pz_unit_out {
    uint64_t unit;   /* linear unit index */
    uint64_t nbytes; /* UINT64_MAX: the inner chunk is all fill (empty) */
    uint64_t off;    /* in data */
} pz_unit_out;

typedef struct pz_shard_out {
    pz_unit_out *u;
    size_t n, cap;
    pz_buf data;
} pz_shard_out;

/* Collective (inside an MPI_Win_lock_all epoch of win_data): writes every
 * shard touched by the inner chunks the ranks encoded. */
void pz_shard_flush(pzarr_array *a, pz_shard_out *so, pz_err *e);

/* shard.c */
int pz_shard_index_decode(const pz_meta *m, const unsigned char *raw, uint64_t file_size,
                          const char *key, uint64_t *entries, pz_err *e);
void pz_shard_index_encode(const pz_meta *m, const uint64_t *entries, unsigned char *out);
int pz_shard_open_index(pzarr_array *a, const char *path, const char *key, MPI_File *fh,
                        uint64_t *entries, uint64_t *file_size, pz_err *e);

#endif /* PZ_ARRAY_H */
