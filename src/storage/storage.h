/*
 * storage: files. Two backends behind one small table, POSIX (cheap per
 * file, for chunk files without hints) and MPI-IO on MPI_COMM_SELF (so that
 * the caller's hints reach the file system); batched reads of many files;
 * replacing a file atomically (written beside it, then renamed). No file
 * locks anywhere.
 */
#ifndef PZ_STORAGE_H
#define PZ_STORAGE_H

#include "base/base.h"

#include <mpi.h>

#define PZ_TEMP_MARK ".pzarr-tmp" /* in every temporary file name */
#define PZ_BATCH_MAX 256          /* files open at once in one read batch */

enum { PZ_FILE_READ = 1, PZ_FILE_WRITE = 2, PZ_FILE_CREATE = 4, PZ_FILE_TRUNC = 8 };

typedef struct pz_backend pz_backend;

/* A piece of memory to write. */
typedef struct pz_span {
    const void *src;
    size_t len;
} pz_span;

/* A piece of a file to read straight into memory. */
typedef struct pz_run {
    uint64_t off; /* in the file */
    void *dst;
    size_t len;
} pz_run;

typedef struct pz_file {
    const pz_backend *be;
    const char *path; /* for messages; not owned */
    int fd;
    MPI_File fh;
} pz_file;

/* A closed (or never opened) file: {PZ_FILE_CLOSED}. */
#define PZ_FILE_CLOSED .fd = -1, .fh = MPI_FILE_NULL
static inline bool pz_file_is_open(const pz_file *f)
{
    return f->fd >= 0 || f->fh != MPI_FILE_NULL;
}

struct pz_backend {
    const char *name;
    /* A missing file (or parent directory) is PZARR_ENOENT. */
    int (*open)(pz_file *f, const char *path, int mode, MPI_Info info, pz_err *e);
    int (*size)(pz_file *f, uint64_t *size, pz_err *e);
    /* Reads up to n bytes; *got is short only at the end of the file. */
    int (*read_at)(pz_file *f, uint64_t off, void *buf, size_t n, size_t *got, pz_err *e);
    int (*write_at)(pz_file *f, uint64_t off, const void *buf, size_t n, pz_err *e);
    /* Writes the spans back to back from off, without packing them first
     * (POSIX: pwritev; MPI-IO: one write per span, since ROMIO would pack a
     * noncontiguous memory type into its own buffer anyway). */
    int (*write_gather)(pz_file *f, uint64_t off, const pz_span *spans, size_t n, pz_err *e);
    /* Reads every run whole (runs that follow each other in the file in
     * one gathered read where the backend can); a short read is
     * PZARR_ECORRUPT naming the file. */
    int (*read_runs)(pz_file *f, const pz_run *runs, size_t n, pz_err *e);
    /* Makes the file's data durable (fdatasync, MPI_File_sync). */
    int (*sync)(pz_file *f, pz_err *e);
    int (*close)(pz_file *f, pz_err *e);
    /* Reads whole files, every one of a batch issued before any is waited
     * on; present[i] is false for a missing file. At most PZ_BATCH_MAX. */
    int (*read_batch)(int n, const char *const *paths, MPI_Info info, pz_buf *bufs,
                      bool *present, pzarr_stats *st, pz_err *e);
};

extern const pz_backend pz_posix_backend; /* posix.c */

/* POSIX: reads the runs of a file of exactly file_size bytes, following
 * runs in one preadv. A missing file: 0 and *present false. A file of
 * another size or shorter reads: PZARR_ECORRUPT without a message (the
 * caller reads it the ordinary way to say what is wrong). */
int pz_io_read_runs(const char *path, const pz_run *runs, size_t n, uint64_t file_size,
                    bool *present, pz_err *e);
extern const pz_backend pz_mpiio_backend; /* mpiio.c */

/* MPI-IO when there are hints to pass (info), POSIX otherwise. */
const pz_backend *pz_backend_for(MPI_Info info);

/* ---------------------------------------------------------------- whole files (files.c) */

/* Writes a whole file (created or truncated), synced to the device when
 * durable. A missing parent directory is PZARR_ENOENT. On failure nothing
 * is left at path. */
int pz_io_write_file(const char *path, const void *data, size_t n, MPI_Info info,
                     bool durable, pz_err *e);
/* Writes beside the target, then renames over it: readers never see a torn
 * file. tag makes the temporary name unique per writer. Durable: the data
 * is synced before the rename and the directory after it. A missing parent
 * directory is PZARR_ENOENT (the caller creates it and tries again). */
int pz_io_write_atomic(const char *path, const void *data, size_t n,
                       const char *tag, MPI_Info info, bool durable, pz_err *e);
/* Reads many whole files in batches through the backend for info. */
int pz_io_read_batch(int n, const char *const *paths, MPI_Info info,
                     pz_buf *bufs, bool *present, pzarr_stats *st, pz_err *e);

/* ---------------------------------------------------------------- the file system (fs.c) */

/* Whole small files (metadata), POSIX. Missing file: PZARR_ENOENT. */
int pz_io_read_file(const char *path, pz_buf *out, pz_err *e);
int pz_io_mkdirs(const char *path, pz_err *e);
/* Removes a file; an absent file is not an error. *removed tells. */
int pz_io_remove(const char *path, bool *removed, pz_err *e);
int pz_io_rename(const char *from, const char *to, pz_err *e);
/* fdatasync of a file written before (closed since). */
int pz_io_sync_file(const char *path, pz_err *e);
/* fsync of a directory: renames and removals in it survive a power loss. */
int pz_io_sync_dir(const char *dir, pz_err *e);
/* The directory part of a path (a pz_malloc'd string; "." when none). */
char *pz_io_dirname(const char *path);
bool pz_io_is_dir(const char *path);
bool pz_io_exists(const char *path);
/* Whether path lies on a memory file system (tmpfs, ramfs). */
bool pz_io_in_memory(const char *path);
/* Whether a directory entry is one of our temporary files. */
bool pz_io_is_temp_name(const char *name);
/* A readable MPI error text, for messages. */
void pz_mpi_errstr(int mpirc, char *buf, int cap);

#endif /* PZ_STORAGE_H */
