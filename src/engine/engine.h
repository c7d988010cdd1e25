/*
 * engine: the library's handles and every public call behind them. Stores,
 * nodes (groups, attributes, documents through rank 0), the array handle,
 * the write buffer, local and collective reads, the flush, shard writing and
 * resizing. Files of the engine call each other in one direction only (see
 * src/README.md); this header lists their functions file by file.
 */
#ifndef PZ_ENGINE_H
#define PZ_ENGINE_H

#include "format/format.h"
#include "parallel/parallel.h"
#include "storage/storage.h"

enum { PZ_STAGE_AUTO, PZ_STAGE_BACKGROUND, PZ_STAGE_INLINE }; /* hint pzarr_async_stage */
#define PZ_SEG_BYTES ((size_t)64 << 20)       /* write buffer segment size */
#define PZ_FLUSH_BUDGET ((uint64_t)256 << 20) /* remote bytes fetched per round */
#define PZ_FLUSH_BATCH 256                    /* chunks merged per round at most */
#define PZ_MAX_IO_THREADS 64                  /* hint pzarr_io_threads at most */
#define PZ_READ_BATCH 256                     /* chunk files per batch of a read */
/* Decoded bytes per batch of a read. Files in memory (tmpfs) have nothing
 * to read ahead, so a batch only has to stay in the cache between the read
 * and the copy out (1 MiB of L2 here: 0.58-0.61 of raw MPI-IO against
 * 0.42-0.46 with 8 MiB batches, 128^3 in 32^3 chunks); elsewhere a batch is
 * the read-ahead in flight. */
#define PZ_READ_BATCH_BYTES ((size_t)8 << 20)
#define PZ_READ_BATCH_BYTES_MEM ((size_t)512 << 10)

struct pzarr_store {
    MPI_Comm comm;
    int rank, size;
    char *root;
    int flags;
    MPI_Info info; /* our dup of the caller's hints, plus our own */
    /* For chunk files: `info` when the caller gave hints (or
     * PZARR_CHUNK_IO=mpiio), so they reach MPI-IO; else MPI_INFO_NULL, and
     * small chunk files go through POSIX calls, much cheaper per file.
     * Shards follow chunk_info too, written and read (without hints, an MPI
     * library's own MPI-IO may lock files: Open MPI's OMPIO does). */
    MPI_Info chunk_info;
    int root_format; /* 2 or 3: format used for new groups; 0 when empty */
    /* Rank 0: the root group has consolidated metadata, kept current on
     * every document written (consolidate.c). */
    bool consolidate;
    /* Rank 0: the consolidated document as last read or written (v2: the
     * .zmetadata object; v3: the root zarr.json), from which nodes are
     * probed without reading their files. NULL when none. */
    cJSON *cons;
    bool cons_loaded; /* rank 0: pz_cons_load has run */
    pz_err err;
    pzarr_stats stats;
    pzarr_array **arrays; /* open arrays, in the order they were opened */
    int narrays, cap_arrays;
    bool open_failed; /* every later call reports the failed open */
    uint64_t jobid;  /* rank 0's random number, the same on every rank */
    int io_threads;    /* background workers of an iflush (hint pzarr_io_threads) */
    uint64_t throttle; /* their bytes per second per rank; 0: no limit */
    int thread_level;  /* MPI_Query_thread at open */
    /* Where a PZARR_ASYNC store encodes and writes whole owned units (hint
     * pzarr_async_stage): in the background (copied at write) when a worker
     * has a core of its own, else inside pzarr_array_write as without the
     * flag (a copy more would only cost the rank's own core). */
    int async_stage;   /* PZ_STAGE_AUTO, PZ_STAGE_BACKGROUND, PZ_STAGE_INLINE */
    int spare_core;    /* -1 unknown; else 1 if a worker has a core of its own */
    bool defer_sync;   /* durable + async: staged files synced before the
                          commit (by the workers), not as written */
    uint64_t nflush; /* flushes so far (with jobid: the flush id) */
    char crash_at[32]; /* test hook PZARR_TEST_KILL_AT */
    int crash_rank;
};

/* A node's documents, as rank 0 found them. */
typedef struct pz_node_docs {
    pzarr_node_kind kind;
    int format;
    pz_buf doc;    /* zarr.json, .zarray or .zgroup */
    pz_buf attrs;  /* .zattrs (v2) */
    pz_buf commit; /* an array's commit record, when a committed flush is
                      not yet published (read-only stores only) */
    bool consolidated; /* doc and attrs came from the consolidated document */
} pz_node_docs;

/*
 * One piece of one write: the part of a pzarr_array_write call that falls in
 * one unit. Its box (unit-local start, then size; 2*ndim values) lives in
 * the buffer's coordinate pool, its dense C-order data in a segment.
 */
typedef struct pz_piece {
    uint64_t chunk;  /* linear unit index */
    uint64_t seq;    /* write call number on the writing rank */
    uint64_t nbytes; /* data bytes */
    uint64_t addr;   /* address of the data (exposed in the data window) */
    uint64_t box;    /* index of the box in the coordinate pool */
    int32_t src;     /* writing rank */
    int32_t owner;
    /* UINT64_MAX: the data is the piece's box, compact. Else the piece lies
     * inside the copy of a whole write (PZARR_ASYNC, whole owned units:
     * one memcpy at write time), addr its start: the coordinate pool at blk
     * holds that write's count, then the piece's origin in it. */
    uint64_t blk;
} pz_piece;

typedef struct pz_seg {
    unsigned char *data;
    size_t size, cap;
} pz_seg;

/* The write buffer: this rank's unflushed writes, cut at unit boundaries. */
typedef struct pz_wbuf {
    pz_piece *pieces;
    size_t npieces, cap_pieces;
    uint64_t *coords;
    size_t ncoords, cap_coords;
    pz_seg *segs;
    size_t nsegs, cap_segs;
    uint64_t bytes; /* data bytes held */
    uint64_t seq;   /* next write number */
} pz_wbuf;

/* Unflushed writes of a variable-length array (vlen.c): each a box and its
 * elements in vlen layout (u32le length + bytes each, no count). */
typedef struct pz_vpiece {
    uint64_t start[PZ_MAX_NDIM], count[PZ_MAX_NDIM];
    uint64_t seq, n;
    unsigned char *data;
    size_t size;
} pz_vpiece;

typedef struct pz_vwbuf {
    pz_vpiece *v;
    size_t n, cap;
    uint64_t bytes, seq;
} pz_vwbuf;

#define PZ_COMMIT_RECORD ".pzarr-commit"
#define PZ_COMMIT_DOCS 2

typedef struct pz_staged {
    char *target;
    bool remove; /* a marker: the flush removes target */
    bool dead;   /* replaced by a later entry: neither published nor undone */
    bool undo;   /* written into, published by another rank: only undone */
    bool unsynced; /* written, not yet synced (defer_sync) */
} pz_staged;

/* What this rank staged for one flush (commit.c). */
typedef struct pz_commit {
    char id[48];
    pz_staged *v;
    size_t n, cap;
    /* Rank 0: documents the commit writes (resize), relative to the array. */
    char *doc_name[PZ_COMMIT_DOCS], *doc_text[PZ_COMMIT_DOCS];
    int ndocs;
} pz_commit;

/* Entries of pz_stage with this bit in `unit` mark a shard this rank wrote
 * into (no unit). */
#define PZ_STAGE_SHARD (UINT64_C(1) << 63)

/* A unit staged at write time (stage.c). */
typedef struct pz_stage_ent {
    uint64_t unit;
    uint64_t seq;  /* the write call that staged it */
    uint64_t nbytes; /* bytes of its staged file */
    size_t slot;   /* its entry in the commit; SIZE_MAX: nothing to publish */
    bool marker;   /* all fill: staged as a removal (or nothing) */
} pz_stage_ent;

/* Whole units this rank owns and wrote whole: encoded and written at
 * write time under the next flush's staged names, published by it. */
typedef struct pz_stage {
    pz_commit c; /* the next flush: its id, and every file staged so far */
    pz_stage_ent *v;
    size_t n, cap;
    size_t *slots; /* open addressing on unit: index into v plus one */
    size_t nslots;
    unsigned char *chunk; /* a unit gathered from the caller (reused) */
    pz_buf enc;           /* its encoded bytes (reused) */
    pz_err fail;          /* a failed staging: the next flush fails with it */
    /* Sharded arrays: the staged shard written last, kept open. */
    pz_file sf;
    char *sf_path;
    uint64_t sf_shard;
} pz_stage;

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
    pz_wbuf wb;
    pz_vwbuf vw; /* variable-length arrays: their unflushed writes */
    /* pzarr_array_iflush (flush.c): the request in the background, and the
     * last one made (its handle learns when the array is closed) */
    struct pzarr_request_s *req, *last_req;
    struct pz_pool *pool; /* its background threads, kept between requests */
    pz_stage st;
    uint64_t write_limit;
    pz_xchg x;
    /* A committed flush not yet published (commit.c): reads resolve each
     * file through its staged name first. "" when none. */
    char pending[48];
    /* Rank 0: the consolidated document lists this array as one that may
     * hold a commit record (consolidate.c). */
    bool listed;
    /* A resize waiting for the next commit (resize.c): the shape stored,
     * and the smallest shape since (old values beyond it are gone). */
    bool resized;
    uint64_t cshape[PZ_MAX_NDIM], kshape[PZ_MAX_NDIM];
    char *mkdir_cache; /* last chunk directory known to exist */
    pz_buf rbufs[PZ_READ_BATCH]; /* file buffers of local reads, reused */
    signed char memfs;           /* chunks on a memory file system: -1 unknown */
};

/* Counters: the store's, or those of the background worker running this
 * thread (iflush.c), added to the store's by pzarr_wait. */
extern _Thread_local pzarr_stats *pz_tls_stats;
#define PZ_STATS(a) (pz_tls_stats ? pz_tls_stats : &(a)->s->stats)

/* Completes a pending request and detaches the last one from the array,
 * before it is closed (collective). */
void pz_request_close(pzarr_array *a);
/* Frees a write buffer taken from an array (an iflush's). */
void pz_wbuf_release(pzarr_array *a, pz_wbuf *wb);

/* ---------------------------------------------------------------- vlen.c */

/* The flush's part for a variable-length array (collective, whatever e
 * holds): pieces to their owners, merged, staged in c; the pieces dropped. */
int pz_vlen_flush(pzarr_array *a, pz_commit *c, pz_err *e);
void pz_vlen_clear(pzarr_array *a);

/* ---------------------------------------------------------------- handle.c */

/* The process's live handles (stores and arrays). */
int pz_live_add(const void *h);
bool pz_live_has(const void *h);
void pz_live_remove(const void *h);
/* Copies a local outcome into the store's message and returns it. */
int pz_store_fail(pzarr_store *s, const pz_err *e);
/* Ends a collective call on the store: every rank returns the same code and
 * message. */
int pz_store_end(pzarr_store *s, pz_outcome from, pz_err *e);

/* ---------------------------------------------------------------- consolidate.c */

/* The root group's new zarr.json text with the consolidated metadata it
 * has on disk (or an empty one); pz_malloc'd, NULL on failure. */
char *pz_cons_root_doc(pzarr_store *s, const char *text, pz_err *e);
/* Enters a document just written at path into the consolidated metadata
 * (other files are ignored). Rank 0. */
int pz_cons_note(pzarr_store *s, const char *path, const char *text, pz_err *e);
/* Reads the consolidated document of the root group into s->cons (NULL
 * when it has none; root_doc: the root's zarr.json for v3, already read).
 * Rank 0. */
int pz_cons_load(pzarr_store *s, int format, const pz_buf *root_doc, pz_err *e);
/* The documents of the node at dir from s->cons: false when it holds none
 * (the node's files are then read). */
bool pz_cons_lookup(pzarr_store *s, const char *dir, int format, pz_buf *doc,
                    pz_buf *attrs, bool *is_array);
/* Whether the array at dir may hold a commit record: false only when the
 * consolidated document's list of such arrays is there and leaves it out. */
bool pz_cons_may_pend(const pzarr_store *s, const char *dir);
/* Enters the array at dir into that list (add, before its commit record is
 * written) or takes it out (after the record is gone). Rank 0; nothing
 * without consolidated metadata. */
int pz_cons_pend(pzarr_store *s, const char *dir, bool add, pz_err *e);

/* ---------------------------------------------------------------- node.c */

/* Checks a node name into its canonical form (message in the store). */
int pz_node_check_name(pzarr_store *s, const char *name, char *canon);
/* Parses an attributes JSON object text (NULL: *out NULL). */
int pz_node_parse_attrs(pzarr_store *s, const char *json, cJSON **out);
/* Prefixes `name` with the store root. */
char *pz_node_dir(const pzarr_store *s, const char *name);
/* Rank 0 only: looks at what lives at dir (counts metadata reads). */
int pz_node_probe(pzarr_store *s, const char *dir, pz_node_docs *nd);
void pz_node_docs_free(pz_node_docs *nd);
/* Collective: rank 0 probes `name` (unless e already holds a failure),
 * every rank receives the documents or rank 0's failure. */
int pz_node_fetch(pzarr_store *s, const char *name, pz_node_docs *nd, pz_err *e);
/* Rank 0 only: creates missing parent groups of `name` in format fmt. */
int pz_node_make_parents(pzarr_store *s, const char *name, int fmt, pz_err *e);
/* Rank 0 only: writes a metadata document atomically (counts). */
int pz_node_write_doc(pzarr_store *s, const char *path, const char *text, pz_err *e);
/* Rank 0 only: a group's documents in dir. */
int pz_node_write_group(pzarr_store *s, const char *dir, int fmt, const cJSON *attrs,
                        pz_err *e);
/* Rank 0 only: an array's documents in dir, .zattrs first, main doc last. */
int pz_node_write_array(pzarr_store *s, const char *dir, const pz_meta *m, pz_err *e);

/* ---------------------------------------------------------------- unit.c */

/* The unit geometry and owner map of a (re)shaped array. */
int pz_array_derive(pzarr_array *a, pz_err *e);
int pz_array_check_box(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                       const char *what, pz_err *e);
/* Key and path of the storage chunk (or shard) at grid coordinates cc. */
int pz_array_chunk_path(pzarr_array *a, const uint64_t *cc, char *key, size_t keycap,
                        char **path, pz_err *e);
/* Extent of unit cc that lies inside the array. */
void pz_array_chunk_extent(const pzarr_array *a, const uint64_t *cc, uint64_t *ext);
/* Decodes unit bytes into out (chunk_bytes), naming the unit on failure. */
int pz_array_decode(pzarr_array *a, const char *key, const pz_buf *enc, void *out,
                    pz_err *e);
/* A unit's name for messages: its chunk key, or for a sharded array the
 * shard key and the inner chunk's coordinates. */
void pz_array_unit_name(const pzarr_array *a, const uint64_t *ucc, char *out, size_t cap);
bool pz_array_identity(const pzarr_array *a);
/* Whether a unit equals the fill value everywhere (any NaN matches a NaN
 * fill; a null fill never matches). */
bool pz_array_unit_is_fill(const pzarr_array *a, const unsigned char *chunk);
/* Sharded arrays. Whether shards of the array have a fixed layout: every inner chunk
 * encodes to chunk_bytes, so inner chunk k sits at a known offset (its
 * slot) and writers need no layout from the leader. */
bool pz_shard_fixed(const pzarr_array *a);
/* The offset of inner chunk `inner`'s slot in a fixed-layout shard. */
uint64_t pz_shard_slot(const pzarr_array *a, uint64_t inner);
/* The shard (linear) and inner index of a unit. */
void pz_shard_place(const pzarr_array *a, uint64_t unit, uint64_t *shard, uint64_t *inner);
/* Makes sure the directory holding a chunk file exists (cached). */
int pz_array_chunk_parent(pzarr_array *a, const char *path, pz_err *e);

/* ---------------------------------------------------------------- commit.c */

/* <target>.pzarr-tmp-<id>, or with "-del" the marker of a removal. */
char *pz_commit_name(const char *target, const char *id, bool remove);
void pz_commit_begin(pzarr_array *a, pz_commit *c);
/* Writes data under target's staged name (making the parent if missing). */
int pz_commit_stage_file(pzarr_array *a, pz_commit *c, const char *target, const void *data,
                         size_t n, pz_err *e);
/* Rewrites the staged file of entry slot. */
int pz_commit_restage_file(pzarr_array *a, pz_commit *c, size_t slot, const void *data,
                           size_t n, pz_err *e);
/* Entry slot is replaced: its staged file goes, it is neither published
 * nor undone. */
void pz_commit_drop(pz_commit *c, size_t slot);
/* Stages the removal of target, when it exists. */
int pz_commit_stage_remove(pzarr_array *a, pz_commit *c, const char *target, pz_err *e);
/* Records a staged file written by other means (a shard leader's). */
int pz_commit_add(pz_commit *c, const char *target, bool remove, pz_err *e);
/* Records a staged file this rank wrote into and another rank publishes:
 * removed if the flush fails, else left to the publisher. */
int pz_commit_add_undo(pz_commit *c, const char *target, pz_err *e);
int pz_commit_set_documents(pz_commit *c, const char *const *names, const char *const *texts,
                            int n, pz_err *e);
/* Collective: agree, record, publish, agree (see commit.c). */
int pz_commit_finish(pzarr_array *a, pz_commit *c, pz_err *e);
/* Syncs this rank's staged files written without (defer_sync). No MPI. */
int pz_commit_sync_staged(pz_commit *c, pz_err *e);
/* Whether a worker of this rank has a core of its own (collective the first
 * time: see pz_cores_per_rank). */
static inline bool pz_store_spare_core(pzarr_store *s)
{
    if (s->spare_core < 0)
        s->spare_core = pz_cores_per_rank(s->comm) >= 2;
    return s->spare_core > 0;
}
/* Whether whole owned units written to this PZARR_ASYNC store go to the
 * background (copied) rather than being staged in the write. Local. */
static inline bool pz_async_copies(const pzarr_store *s)
{
    return s->async_stage == PZ_STAGE_BACKGROUND ||
           (s->async_stage == PZ_STAGE_AUTO && s->spare_core > 0);
}
void pz_commit_free(pz_commit *c);
/* Test hook: PZARR_TEST_KILL_AT=where[:rank] ends the process at `where`. */
void pz_test_crash_point(const pzarr_store *s, const char *where);

/* ---------------------------------------------------------------- stage.c */

/* At open and after each flush (collective): the next flush's id, nothing
 * staged. */
void pz_stage_begin(pzarr_array *a);
/* Removes every staged file, then begins anew. */
void pz_stage_abort(pzarr_array *a);
/* At the flush: closes the staged shard kept open (a failure is kept for
 * the flush, like a failed staging). */
int pz_stage_close(pzarr_array *a, pz_err *e);
/* A staged inner chunk's bytes, from its slot in the staged shard of
 * flush `id`. */
int pz_stage_read_inner(pzarr_array *a, const char *id, const pz_stage_ent *s, pz_buf *out,
                        pz_err *e);
void pz_stage_free(pzarr_array *a);
/* Whether the piece at it is staged: a whole unit (its part inside the
 * array) that this rank owns, of an unsharded array. */
bool pz_stage_fits(const pzarr_array *a, const pz_chunk_iter *it);
/* Encodes and stages the piece at it, taken from the caller's box (count);
 * a failure is also kept for the next flush. */
int pz_stage_unit(pzarr_array *a, const pz_chunk_iter *it, uint64_t seq, const void *buf,
                  const uint64_t *count, pz_err *e);
/* The unit's staging on this rank, or NULL. */
const pz_stage_ent *pz_stage_find(const pzarr_array *a, uint64_t unit);
/* Reads on this rank: *path becomes the unit's staged file, or NULL when
 * staged as fill; unchanged when the unit is not staged. */
int pz_stage_resolve(const pzarr_array *a, uint64_t unit, char **path, pz_err *e);
/* The flush (holding the commit c): a staged unit's decoded content. */
int pz_stage_load(pzarr_array *a, const pz_commit *c, const pz_stage_ent *s,
                  unsigned char *chunk, pz_err *e);
/* The flush merges the unit again: its staged file goes (a rewrite). */
void pz_stage_drop(pzarr_array *a, pz_commit *c, const pz_stage_ent *s);
/* The flush publishes the unit as staged: counted as written. */
void pz_stage_count(pzarr_array *a, const pz_stage_ent *s);

/* ---------------------------------------------------------------- reshape.c */

/* Whether the pending resize cuts unit ucc (then its old values beyond the
 * kept shape become fill). */
bool pz_resize_cuts(const pzarr_array *a, const uint64_t *ucc);
void pz_resize_trim_unit(const pzarr_array *a, const uint64_t *ucc, unsigned char *chunk);
/* Reads: the part of the box beyond the kept shape reads as fill. */
void pz_resize_mask(const pzarr_array *a, const uint64_t *start, const uint64_t *count,
                    void *buf);
/* The cut units this rank owns (linear indices of the current grid). */
int pz_resize_cut_units(pzarr_array *a, uint64_t **units, size_t *n, pz_err *e);
/* In a flush: stages removals and (rank 0) the new document. */
int pz_resize_stage(pzarr_array *a, pz_commit *c, pz_err *e);
/* After a commit: the shape in memory is the stored one. */
void pz_resize_committed(pzarr_array *a);

/* ---------------------------------------------------------------- recover.c */

/* Rank 0: finishes the committed flush recorded in dir, if any. */
int pz_recover_array(pzarr_store *s, const char *dir, uint64_t *finished, pz_err *e);
/* Rank 0: the same for every array directory under dir. */
int pz_recover_tree(pzarr_store *s, const char *dir, int depth, uint64_t *finished, pz_err *e);
/* Rank 0: removes every temporary file under dir (none may be committed). */
int pz_remove_temps(pzarr_store *s, const char *dir, uint64_t *removed, pz_err *e);
/* A record's flush id and documents (a new cJSON object, or NULL). */
int pz_commit_parse(const char *dir, const pz_buf *record, char *id, size_t idcap,
                    cJSON **docs, pz_err *e);

/* ---------------------------------------------------------------- fetch.c */

/* The encoded bytes of n units (linear indices), read in batches from chunk
 * files or from shards: present[i] is false for an absent unit. own: as
 * this rank sees them, with the units it staged (else storage alone). */
int pz_array_fetch_units(pzarr_array *a, size_t n, const uint64_t *units, pz_buf *bufs,
                         bool *present, bool own, pz_err *e);
/* Opens a shard (MPI-IO with hints, else POSIX) and reads its index; f
 * stays closed (pz_file_is_open) when the shard is absent. */
int pz_shard_open_index(pzarr_array *a, const char *path, const char *key, pz_file *f,
                        uint64_t *entries, uint64_t *file_size, pz_err *e);

/* ---------------------------------------------------------------- wbuf.c */

void pz_wbuf_clear(pzarr_array *a);
void pz_wbuf_free(pzarr_array *a);
/* Applies this rank's pending pieces that intersect the box onto buf. */
void pz_wbuf_overlay(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                     void *buf);

/* ---------------------------------------------------------------- read.c */

/* Which units of a box a read takes (NULL: all). */
typedef bool pz_unit_filter(void *ctx, const pzarr_array *a, const uint64_t *ucc);
/* Reads storage only (no pending writes) into buf: the units of the box
 * that keep accepts. */
int pz_array_read_storage(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                          void *buf, pz_unit_filter *keep, void *ctx, pz_err *e);

/* ---------------------------------------------------------------- shard_write.c */

/* Inner chunks a rank encoded in a flush, for the shard writers. */
typedef struct pz_unit_out {
    uint64_t unit;   /* linear unit index */
    uint64_t nbytes; /* PZ_SHARD_EMPTY: the inner chunk is all fill (empty) */
    uint64_t off;    /* in data */
    bool in_place;   /* staged at write time: already in its slot */
} pz_unit_out;

typedef struct pz_shard_out {
    pz_unit_out *u;
    size_t n, cap;
    pz_buf data;
} pz_shard_out;

/* Collective (inside the flush's passive-target epoch): stages every shard
 * touched by the inner chunks the ranks encoded, in the flush's commit. */
void pz_shard_flush(pzarr_array *a, pz_commit *c, pz_shard_out *so, pz_err *e);

/* ---------------------------------------------------------------- the public calls

 * store.c (open, close), group.c, attrs.c, clean.c, array.c (create, open,
 * close, settings), read.c, read_all.c, flush.c, resize.c: each defines
 * public calls of pzarr.h only. */

#endif /* PZ_ENGINE_H */
