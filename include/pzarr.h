/*
 * pzarr: MPI-parallel reader and writer of Zarr v2 and v3 arrays.
 *
 * Every call returns 0 on success or a negative PZARR_E* code. A detailed
 * message for the last failure is kept per handle (pzarr_errmsg,
 * pzarr_array_errmsg). There is no global error state.
 *
 * Each declaration says whether it is collective (every rank of the store's
 * communicator calls it, with the same arguments, and every rank returns the
 * same code and message) or local (any rank calls it on its own).
 * The library duplicates the caller's communicator, never touches
 * MPI_COMM_WORLD and never calls MPI_Init.
 *
 * Defining PZARR_WITHOUT_MPI before including this header leaves out
 * <mpi.h> and the three declarations that need it (pzarr_open,
 * pzarr_open_info, pzarr_comm); the library's own MPI-free layers build so.
 */
#ifndef PZARR_H
#define PZARR_H

#ifndef PZARR_WITHOUT_MPI
#include <mpi.h>
#endif
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PZARR_VERSION_MAJOR 0
#define PZARR_VERSION_MINOR 1
#define PZARR_VERSION_PATCH 0
#define PZARR_VERSION_NUMBER \
    (PZARR_VERSION_MAJOR * 10000 + PZARR_VERSION_MINOR * 100 + PZARR_VERSION_PATCH)

/* Runtime version of the library, to compare with PZARR_VERSION_NUMBER.
 * Local. */
unsigned pzarr_version_number(void);

/* Error codes: X(name, value, description). */
#define PZARR_ERRNO_MAP(X)                                                   \
    X(OK, 0, "success")                                                      \
    X(EINVAL, -1, "invalid argument")                                        \
    X(ENOMEM, -2, "out of memory")                                           \
    X(EIO, -3, "input/output error")                                         \
    X(ENOENT, -4, "no such node or file")                                    \
    X(EEXIST, -5, "node already exists")                                     \
    X(EMETA, -6, "malformed metadata")                                       \
    X(EUNSUPPORTED, -7, "unsupported feature")                               \
    X(ECORRUPT, -8, "corrupt or truncated chunk")                            \
    X(EPATH, -9, "invalid node name")                                        \
    X(EBOUNDS, -10, "selection out of bounds")                               \
    X(EMPI, -11, "MPI error")                                                \
    X(EBUFFULL, -12, "write buffer limit reached: flush first")              \
    X(ERDONLY, -13, "store opened read-only")                                \
    X(ECODEC, -14, "codec failure")                                          \
    X(ENOTARRAY, -15, "node is not an array")                                \
    X(ENOTGROUP, -16, "node is not a group")

enum pzarr_errno {
#define PZARR_X_ENUM(name, value, text) PZARR_##name = (value),
    PZARR_ERRNO_MAP(PZARR_X_ENUM)
#undef PZARR_X_ENUM
};

/* Static description of a code; never NULL. Local. */
const char *pzarr_strerror(int code);
/* The code's name ("PZARR_EINVAL"; "PZARR_UNKNOWN" for others). Local. */
const char *pzarr_errname(int code);

/* Data types, in the order of the Zarr v3 core spec. */
typedef enum pzarr_dtype {
    PZARR_BOOL,
    PZARR_INT8,
    PZARR_INT16,
    PZARR_INT32,
    PZARR_INT64,
    PZARR_UINT8,
    PZARR_UINT16,
    PZARR_UINT32,
    PZARR_UINT64,
    PZARR_FLOAT16, /* stored and returned as its raw 2-byte pattern */
    PZARR_FLOAT32,
    PZARR_FLOAT64,
    PZARR_COMPLEX64,
    PZARR_COMPLEX128
} pzarr_dtype;

/* Fixed-length strings of Zarr v2, read and written as their bytes: numpy's
 * "|S<n>" (n bytes, NUL-padded) and "<U<n>" (n UTF-32 code units, 4n
 * bytes, in the host's byte order in memory). n is 1..PZARR_STRING_MAX
 * bytes in all. */
#define PZARR_STRING_MAX 1024
#define PZARR_STRING_BYTES(n) ((pzarr_dtype)(0x100000 + (n)))
#define PZARR_STRING_UTF32(n) ((pzarr_dtype)(0x200000 + (n)))

/* NumPy's datetime64 and timedelta64: int64 counts of `scale` units since
 * the Unix epoch (or of duration), PZARR_NAT for "not a time". Zarr v2
 * "<M8[10s]", "<m8[ns]"; Zarr v3 {"name": "numpy.datetime64" or
 * "numpy.timedelta64", "configuration": {"unit", "scale_factor"}}. Values
 * are read and written as int64. scale is 1..PZARR_TIME_SCALE_MAX. */
typedef enum pzarr_time_unit {
    PZARR_TIME_Y, PZARR_TIME_M, PZARR_TIME_W, PZARR_TIME_D, PZARR_TIME_h, PZARR_TIME_m,
    PZARR_TIME_s, PZARR_TIME_ms, PZARR_TIME_us, PZARR_TIME_ns, PZARR_TIME_ps, PZARR_TIME_fs,
    PZARR_TIME_as,
    PZARR_TIME_GENERIC /* v2 "<M8" without a unit */
} pzarr_time_unit;
#define PZARR_TIME_SCALE_MAX 0xFFFFF
#define PZARR_DATETIME64(unit, scale) \
    ((pzarr_dtype)(0x40000000 | ((unsigned)(unit) << 20) | (unsigned)(scale)))
#define PZARR_TIMEDELTA64(unit, scale) \
    ((pzarr_dtype)(0x41000000 | ((unsigned)(unit) << 20) | (unsigned)(scale)))
#define PZARR_NAT INT64_MIN

/* Variable-length elements: UTF-8 strings (numpy object arrays of str,
 * zarr-python 3's "string"; codec vlen-utf8) and byte strings ("|O" with
 * vlen-bytes, v3 "variable_length_bytes"). They are read and written with
 * pzarr_array_read_vlen / pzarr_array_write_vlen as offsets + bytes (see
 * there), not with pzarr_array_read / write. */
#define PZARR_VLEN_STRING ((pzarr_dtype)0x300001)
#define PZARR_VLEN_BYTES ((pzarr_dtype)0x300002)

/* Size in bytes of one element, or 0 for an unknown type (and for the
 * variable-length types, which have no fixed size). Local. */
size_t pzarr_dtype_size(pzarr_dtype t);
/* The Zarr v3 name ("float64", ...); for the v2 strings "bytes string" and
 * "UTF-32 string"; "numpy.datetime64", "numpy.timedelta64"; "string" and
 * "variable_length_bytes"; NULL for an unknown type. Local. */
const char *pzarr_dtype_name(pzarr_dtype t);

#define PZARR_MAX_NDIM 32

typedef struct pzarr_store pzarr_store;
typedef struct pzarr_array pzarr_array;

/* ------------------------------------------------------------------ */
/* Stores                                                               */

#define PZARR_RDONLY 0x0
#define PZARR_RDWR 0x1
#define PZARR_CREATE 0x2    /* create the root group if absent (implies RDWR) */
#define PZARR_FORMAT_V2 0x4 /* with PZARR_CREATE: the root group is Zarr v2; opening:
                               the v2 documents are looked for first */
/* Flushes survive a power loss: every file a flush publishes is synced
 * before the flush commits, and its directory after (see README). Without
 * it a flushed write is visible to every reader and survives the process,
 * not a power loss. */
#define PZARR_DURABLE 0x8
/* With PZARR_CREATE: the new root group gets no consolidated metadata.
 * Without this flag a store pzarr creates gets it (v2 `.zmetadata`, v3
 * inline in the root zarr.json), and pzarr keeps it current in every store
 * that has it, on every document it writes (arrays, groups, attributes,
 * resizes), so that xarray's and zarr-python's consolidated opens see what
 * pzarr wrote. */
#define PZARR_NO_CONSOLIDATE 0x10
/* Arrays whose codecs pzarr does not know (pcodec, say) open all the same,
 * their documents kept as they are: reading or writing their chunks fails
 * naming the codec, and pzarr_array_copy moves their chunk files unchanged
 * (within the same format and chunk grid). Without it such an array is
 * refused at open. */
#define PZARR_OPAQUE_CODECS 0x20
/* With PZARR_CREATE: a store that already holds a root group is refused
 * (PZARR_EEXIST) instead of opened; pzarr never deletes one. */
#define PZARR_EXCL 0x40
/* Writes of whole chunks a rank owns are copied into the write buffer (as
 * long as it has room) instead of being encoded and written inside
 * pzarr_array_write, so that pzarr_array_iflush hands them to the
 * background: a write is then a copy, whatever the codec. That is done
 * when a worker has a core of its own (the node's online cores over its
 * ranks, capped by the process's affinity mask, is 2 or more); with none,
 * the copy would only cost the rank's own core, and whole chunks are
 * staged inside the write as without the flag. The hint
 * "pzarr_async_stage" (or the environment variable PZARR_ASYNC_STAGE):
 * "auto" (that rule, the default), "background" (always copy) or
 * "inline" (never). With PZARR_DURABLE the files are not synced as written
 * but all together by the background before the commit. */
#define PZARR_ASYNC 0x80

#ifndef PZARR_WITHOUT_MPI
/*
 * Opens the store at `path` (a directory). Collective.
 * On failure *out still receives a handle (unless memory ran out) whose
 * pzarr_errmsg says why; release it with pzarr_close.
 */
int pzarr_open(MPI_Comm comm, const char *path, int flags, pzarr_store **out);
/* Same, with MPI-IO hints passed to every file the store opens. Collective. */
int pzarr_open_info(MPI_Comm comm, const char *path, int flags, MPI_Info info,
                    pzarr_store **out);
/* The duplicated communicator of the store. Local. */
MPI_Comm pzarr_comm(const pzarr_store *store);
#endif
/* Releases the store. Arrays still open are closed first (flushed, in the
 * order they were opened); the first failure is returned, and every MPI
 * object the store made is released all the same. NULL, or a handle already
 * closed, is a no-op returning PZARR_EINVAL for the latter. Collective. */
int pzarr_close(pzarr_store *store);
/* Detailed message of the store's last failure ("" if none). Local. */
const char *pzarr_errmsg(const pzarr_store *store);
/* The Zarr format of the store's root group (2 or 3; 3 for an empty store):
 * the format new nodes get by default. Local. */
int pzarr_store_format(const pzarr_store *store);

/* ------------------------------------------------------------------ */
/* Nodes: groups and attributes                                         */

typedef enum pzarr_node_kind {
    PZARR_NODE_NONE = 0,
    PZARR_NODE_GROUP = 1,
    PZARR_NODE_ARRAY = 2
} pzarr_node_kind;

/*
 * `name` is a node's path inside the store: "" is the root, "a/b" a nested
 * node. Names with "..", ".", empty segments, a leading "/" or a backslash
 * are refused with PZARR_EPATH.
 */

/* Creates a group (and missing parents). attributes_json may be NULL.
 * zarr_format is 2 or 3, or 0 for the format of the store's root. Collective. */
int pzarr_group_create(pzarr_store *s, const char *name, int zarr_format,
                       const char *attributes_json);
/* What lives at `name`. Collective (rank 0 looks, every rank learns). */
int pzarr_node_kind_of(pzarr_store *s, const char *name, pzarr_node_kind *kind);
/* The children of a group, sorted by name. *names is an array of *count
 * strings; free it with pzarr_free_list. Collective. */
int pzarr_group_list(pzarr_store *s, const char *name, char ***names,
                     size_t *count);
/* Frees what pzarr_group_list returned; NULL is a no-op. Local. */
void pzarr_free_list(char **names, size_t count);
/* Attributes of a group or array as a JSON object text; free with
 * pzarr_free. Collective. */
int pzarr_attrs_get(pzarr_store *s, const char *name, char **json);
/* Replaces the attributes with a JSON object text. Collective. */
int pzarr_attrs_set(pzarr_store *s, const char *name, const char *json);
/* Merges a JSON object text into the attributes: its keys are added or
 * replaced, a key whose value is null is removed, the others stay.
 * Collective. */
int pzarr_attrs_update(pzarr_store *s, const char *name, const char *json);
/* Frees a string the library returned; NULL is a no-op. Local. */
void pzarr_free(void *p);

/* ------------------------------------------------------------------ */
/* Arrays                                                               */

/*
 * Creates an array from its metadata document: a Zarr v3 `zarr.json` array
 * document or a Zarr v2 `.zarray` document (an "attributes" member may ride
 * along). Missing parent groups are created. Collective.
 */
int pzarr_array_create(pzarr_store *s, const char *name,
                       const char *metadata_json, pzarr_array **out);
/*
 * An array described without JSON. Zeroed fields take the defaults, so
 *
 *     pzarr_spec sp = {.dtype = PZARR_FLOAT64, .ndim = 3,
 *                      .shape = {nt, ny, nx}, .chunks = {1, ny, nx},
 *                      .codec = "zstd:3", .dims = {"time", "y", "x"}};
 *
 * describes a Zarr v3 float64 array of zstd-compressed chunks whose
 * dimensions are named (v2: in the "_ARRAY_DIMENSIONS" attribute that
 * xarray, netCDF and GDAL read).
 */
typedef struct pzarr_spec {
    int zarr_format;                   /* 3 or 2; 0 is 3 */
    pzarr_dtype dtype;
    int ndim;
    uint64_t shape[PZARR_MAX_NDIM];
    uint64_t chunks[PZARR_MAX_NDIM];   /* all 0: one chunk, the whole array */
    uint64_t shard[PZARR_MAX_NDIM];    /* all 0: no sharding; else the shard
                                          shape (v3), a multiple of chunks,
                                          which are then the inner chunks */
    const char *codec;                 /* "zstd:3" (NULL), "zstd:LEVEL",
                                          "blosc:CNAME:CLEVEL:SHUFFLE" (e.g.
                                          "blosc:lz4:5:shuffle"), "gzip:6",
                                          "zlib:5", "lz4:ACCEL", "bz2:9",
                                          "lzma:PRESET" (v2), "none"; "+crc32c"
                                          appends a checksum (v3) */
    const char *fill;                  /* a number, "nan", "inf", "-inf",
                                          "true", "RE,IM", "null" (v2);
                                          NULL: "0" ("false" for bool), but
                                          with dims named NaN for floats and
                                          in v2 null for the rest (what
                                          xarray writes: its readers take the
                                          fill for missing data) */
    const char *dims[PZARR_MAX_NDIM];  /* dimension names; all NULL: none */
    char order;                        /* 'C' (0) or 'F': order in a chunk */
    char separator;                    /* chunk keys: 0 is '/' (v3), '.' (v2) */
    int big_endian;                    /* byte order on disk; 0: little */
    const char *attributes;            /* a JSON object text, or NULL */
} pzarr_spec;

/* The metadata document a spec describes (what pzarr_array_create takes);
 * free with pzarr_free. On failure a message naming the wrong field goes to
 * msg (cap bytes; NULL for none). Local; no store needed. */
int pzarr_spec_document(const pzarr_spec *spec, char **json, char *msg, size_t cap);
/* Creates the array a spec describes, as pzarr_array_create does with its
 * document. Collective. */
int pzarr_array_create_spec(pzarr_store *s, const char *name, const pzarr_spec *spec,
                            pzarr_array **out);
/* Opens an existing array. Collective. */
int pzarr_array_open(pzarr_store *s, const char *name, pzarr_array **out);

/*
 * Writes the dense C-order, native-endian box buf[count] at `start`.
 * Local: it never waits for another rank. The caller may reuse buf at once.
 * Whole chunks this rank owns are staged to storage now (under the next
 * flush's temporary names; a full disk fails the write, and then the next
 * flush); the rest is copied into the rank's write buffer. Other ranks and
 * readers see the data after the next flush.
 */
int pzarr_array_write(pzarr_array *a, const uint64_t *start,
                      const uint64_t *count, const void *buf);
/*
 * Reads the box at `start` of size `count` into buf. Local. It sees what
 * storage holds plus this rank's own unflushed writes; other ranks'
 * unflushed writes are not visible until the next flush.
 */
int pzarr_array_read(pzarr_array *a, const uint64_t *start,
                     const uint64_t *count, void *buf);
/*
 * Collective read: every rank passes its own box (count may be all zeros).
 * Each chunk that any rank needs is read and decoded once, by its owner.
 */
int pzarr_array_read_all(pzarr_array *a, const uint64_t *start,
                         const uint64_t *count, void *buf);
/*
 * Variable-length arrays (PZARR_VLEN_STRING, PZARR_VLEN_BYTES). The n =
 * prod(count) elements of a box, in C order, are given as `offsets` (n + 1
 * values, non-decreasing) into `data`: element i is the bytes data[offsets[i]]
 * .. data[offsets[i + 1]] (no terminating NUL; strings are UTF-8, checked).
 *
 * pzarr_array_write_vlen is local like pzarr_array_write: the elements are
 * copied (the caller's buffers are free at return) and applied by the next
 * flush, with the same order and all-or-nothing rules; pieces that cross
 * ownership travel to the chunks' owners inside the flush. Sharded
 * variable-length arrays are read, not written. Local.
 */
int pzarr_array_write_vlen(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                           const uint64_t *offsets, const void *data);
/*
 * Reads a box of a variable-length array, with this rank's unflushed
 * writes: *offsets gets n + 1 values (offsets[0] = 0) and *data the bytes of
 * all elements one after the other, each allocated by pzarr (release both
 * with pzarr_free; *data is never NULL on success, even when empty).
 * Elements of chunks never written are the fill value (a string fill_value;
 * empty for null or numeric fill values). Local.
 */
int pzarr_array_read_vlen(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                          uint64_t **offsets, void **data);
/*
 * Makes every write issued before it, on any rank, visible to every reader
 * (and survive a power loss with PZARR_DURABLE). Writes are applied in the
 * order (rank, call order on that rank): for overlapping writes the higher
 * rank's data wins, whole. All or nothing: when it fails on any rank, or the
 * job is killed at any moment, the array reads as before the flush or as
 * after it, never a mix. Collective.
 */
int pzarr_array_flush(pzarr_array *a);
/*
 * Checkpoints in the background. A request is an opaque handle, used like
 * an MPI_Request:
 *
 *     pzarr_request r;
 *     pzarr_array_iflush(a, &r);   // collective: returns once the pieces
 *     ...compute...                // that cross ranks have moved
 *     pzarr_wait(&r);              // collective: the checkpoint is published
 *
 * pzarr_array_iflush does the collective part of a flush (pieces that cross
 * ownership fetched by their owners through the one-sided exchange) and
 * returns; merging, encoding and writing the chunks (under the flush's
 * temporary names) go on in background threads of this rank, which make no
 * MPI calls (MPI_THREAD_FUNNELED is enough; below it, and for sharded or
 * variable-length arrays or MPI-IO hints, iflush flushes at once and
 * returns a completed request). A resize since the last flush goes with it. pzarr_wait waits for this rank's
 * workers, agrees with every rank on the outcome and publishes the commit,
 * all or nothing, as pzarr_array_flush at the moment of the iflush would
 * have: the same files, bit for bit. Until then readers, here and in other
 * jobs, see the previous checkpoint (this rank's reads too, plus what it
 * wrote after the iflush). Writes after the iflush belong to the next
 * checkpoint; a flush, resize, close or second iflush of the array first
 * completes the pending request first (pzarr_wait on its handle then
 * returns that outcome; after pzarr_array_close, whose return code carries
 * it, pzarr_wait returns PZARR_EINVAL). A handle waited twice (NULL) or not
 * from pzarr is PZARR_EINVAL. The write buffer of the checkpoint (bounded by
 * the write limit) and the pieces fetched from other ranks stay in memory
 * until the wait (pzarr_stats.inflight_bytes). Hints at open:
 * "pzarr_io_threads" (workers, default 1), "pzarr_throttle" (bytes per
 * second per rank the workers write; pzarr_wait lifts it),
 * "pzarr_async_stage" (PZARR_ASYNC). With PZARR_DURABLE the workers
 * fdatasync the checkpoint's files; the directories and the commit record
 * are synced at the wait.
 * pzarr_array_iflush sets *req; pzarr_wait releases it and sets it to NULL.
 */
typedef struct pzarr_request_s *pzarr_request;
int pzarr_array_iflush(pzarr_array *a, pzarr_request *req);
int pzarr_wait(pzarr_request *req);
/* Whether this rank's background work is done (*done 1 or 0); it never
 * publishes: pzarr_wait must still be called. Local. */
int pzarr_test(pzarr_request *req, int *done);
/*
 * Changes the shape. Pending writes are flushed first; then the new shape
 * holds at once for this job's writes and reads, and reaches storage with
 * the next flush (or close), in the same commit as the writes made in
 * between: a job killed before that leaves the previous shape and data.
 * Chunks wholly outside the new shape are removed, chunks it cuts keep
 * only their part inside (the rest becomes fill). Collective.
 */
int pzarr_array_resize(pzarr_array *a, const uint64_t *new_shape);
/* Flushes and releases the handle. NULL is a no-op; a handle already closed
 * returns PZARR_EINVAL and is not touched. Collective. */
int pzarr_array_close(pzarr_array *a);
/* Detailed message of the array's last failure ("" if none). Local. */
const char *pzarr_array_errmsg(const pzarr_array *a);
/* For language bindings that check arguments themselves (the Fortran
 * module): records a failure (code < 0, msg) as the array's last one, so
 * that pzarr_array_errmsg reports it. Returns code. Local. */
int pzarr_array_set_error(pzarr_array *a, int code, const char *msg);
/* The same for a store's last failure (pzarr_errmsg). Local. */
int pzarr_set_error(pzarr_store *s, int code, const char *msg);

typedef struct pzarr_array_info {
    int zarr_format;              /* 2 or 3 */
    int ndim;
    pzarr_dtype dtype;
    size_t itemsize;
    uint64_t shape[PZARR_MAX_NDIM];
    uint64_t chunks[PZARR_MAX_NDIM];     /* the chunk grid's chunks: the
                                            shards of a sharded array */
    uint64_t nchunks;                    /* chunks (files) in the grid */
    int sharded;                         /* 1 for sharding_indexed */
    uint64_t inner_chunks[PZARR_MAX_NDIM]; /* chunks inside a shard (equal to
                                              chunks when not sharded) */
} pzarr_array_info;

/* Local. */
int pzarr_array_get_info(const pzarr_array *a, pzarr_array_info *info);
/* The array's current metadata document, as stored; free with pzarr_free.
 * Local. */
int pzarr_array_metadata(const pzarr_array *a, char **json);
/* The names of the dimensions: v3 "dimension_names", or in v2 the
 * "_ARRAY_DIMENSIONS" attribute that xarray, netCDF and GDAL read. *names
 * gets ndim strings ("" for an unnamed dimension) and *count ndim, or NULL
 * and 0 when the array names none; free with pzarr_free_list. Local. */
int pzarr_array_dimension_names(const pzarr_array *a, char ***names, size_t *count);

/* ------------------------------------------------------------------ */
/* Ownership: every chunk has exactly one owner rank, which alone writes it */

typedef enum pzarr_owner_policy {
    PZARR_OWNER_BLOCK = 0,      /* contiguous blocks of the chunk grid over a
                                   process grid (default) */
    PZARR_OWNER_ROUND_ROBIN = 1 /* chunk linear index modulo the rank count */
} pzarr_owner_policy;

/*
 * Chooses the ownership policy. With PZARR_OWNER_BLOCK, `dims` gives the
 * process grid (ndim entries whose product is the rank count, e.g. the dims
 * of the caller's MPI_Cart_create); NULL lets pzarr pick it as
 * MPI_Dims_create would. Flushes pending writes first. Collective: a rank
 * passing bad dims fails the call on every rank, and no rank's map changes.
 */
int pzarr_array_set_owner(pzarr_array *a, pzarr_owner_policy policy,
                          const int *dims);
/* Owner rank of the chunk at grid coordinates `chunk_coords`. Local. */
int pzarr_array_chunk_owner(const pzarr_array *a,
                            const uint64_t *chunk_coords, int *rank);

/* ------------------------------------------------------------------ */
/* Copies: rechunk, recompress, convert                                 */

/*
 * What a copy changes; all zeros copies the array as it is (same format,
 * data type, chunks, sharding, codecs, fill value, attributes, dimension
 * names).
 */
typedef struct pzarr_copy_options {
    int zarr_format;                  /* 2 or 3; 0: the source's */
    int convert;                      /* nonzero: values become `dtype`
                                         (C conversion; floats to integers
                                         are truncated and clamped, NaN is 0) */
    pzarr_dtype dtype;
    uint64_t chunks[PZARR_MAX_NDIM];  /* all 0: the source's chunks (the
                                         inner chunks of a sharded source) */
    int sharding;                     /* 0: as the source (its shards when the
                                         target is v3 and they hold whole
                                         chunks); 1: shards of `shard` (v3);
                                         -1: none */
    uint64_t shard[PZARR_MAX_NDIM];
    const char *codec;                /* a codec string as in pzarr_spec; NULL:
                                         the source's codecs */
    int region;                       /* nonzero: only the box start/count of
                                         the source (the copy's shape is count) */
    uint64_t start[PZARR_MAX_NDIM], count[PZARR_MAX_NDIM];
    uint64_t memory;                  /* bytes a rank may hold for the copy's
                                         data; 0: PZARR_COPY_MEMORY */
    int resume;                       /* an unfinished copy at `name` goes on
                                         where it stopped (else: refused) */
    int reencode;                     /* decode and encode every chunk even
                                         when the target's chunk files would
                                         be the source's (by default those
                                         are moved as they are) */
    /* Called on rank 0 after each committed slab: bytes copied so far (of
     * the copy's shape) and in all. NULL for none. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} pzarr_copy_options;

#define PZARR_COPY_MEMORY ((uint64_t)512 << 20)
/* The marker of an unfinished copy, in the target array's directory. */
#define PZARR_COPY_MARKER ".pzarr-copy"

/*
 * Copies the array src (of any store) to a new array `name` of store dst,
 * changing what opt says (NULL: nothing). Both stores have the same ranks.
 * The copy proceeds in slabs cut on both chunk grids, so that every source
 * chunk is read and decoded once, by one rank, and every target chunk
 * encoded and written once, by its owner; a rank holds about opt->memory
 * bytes of data at most, whatever the array's size. Each slab is committed
 * as a flush; until the last one the array's directory holds the marker
 * PZARR_COPY_MARKER, and a copy killed part-way is finished by the same
 * call with opt->resume (committed slabs are not copied again). An array
 * already at `name` is refused otherwise. The source's pending writes are
 * flushed first; nothing else of it changes. An error names the array and
 * the chunk; the target keeps the slabs committed before it. When the
 * target has the source's chunk grid, codecs, data type and fill value (a
 * change of format, name or attributes; a region of whole chunks), chunk
 * files are moved as they are, byte for byte, without decoding. Collective.
 */
int pzarr_array_copy(pzarr_array *src, pzarr_store *dst, const char *name,
                     const pzarr_copy_options *opt);

/* ------------------------------------------------------------------ */
/* Per-rank I/O statistics                                              */

typedef struct pzarr_stats {
    uint64_t meta_reads;    /* metadata document reads, stats and listings */
    uint64_t meta_writes;   /* metadata document writes */
    uint64_t chunk_reads;   /* chunk files read (including absent ones) */
    uint64_t chunk_writes;  /* chunks (or inner chunks of shards) a flush wrote */
    uint64_t chunk_deletes; /* chunk files removed */
    uint64_t bytes_read;    /* chunk bytes read */
    uint64_t bytes_written; /* chunk bytes written */
    uint64_t shard_writes;  /* shard files written (published by the commit) */
    uint64_t commits;       /* commit records written (rank 0, one a flush) */
    /* Chunks written at write time (a whole chunk the rank owns is staged
     * at once) that were written again before their flush: by a later
     * write of this rank, or merged with another rank's write. */
    uint64_t chunk_rewrites;
    uint64_t iflushes;       /* pzarr_array_iflush calls run in the background */
    uint64_t inflight_bytes; /* bytes a pending request holds now (write buffer
                                and fetched pieces); the largest so far: */
    uint64_t inflight_peak;
} pzarr_stats;

/*
 * Finishes flushes that a killed job committed but did not publish, and
 * removes the temporary files of flushes it never committed, under `name`
 * ("" for the whole store). Only while no other job writes there. Counts
 * (either may be NULL): flushes finished, temporary files removed.
 * Collective.
 */
int pzarr_clean(pzarr_store *s, const char *name, uint64_t *finished, uint64_t *removed);

/* This rank's counters since open or the last reset. Local. */
int pzarr_get_stats(const pzarr_store *s, pzarr_stats *out);
/* Sets this rank's counters to zero. Local. */
void pzarr_reset_stats(pzarr_store *s);

/* Largest number of bytes a rank holds in unflushed writes; past it
 * pzarr_array_write fails with PZARR_EBUFFULL and stores nothing. Whole
 * chunks the rank owns are staged to storage at write time and hold no
 * memory, so they do not count. 0 restores the default (see README).
 * Local. */
int pzarr_array_set_write_limit(pzarr_array *a, uint64_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* PZARR_H */
