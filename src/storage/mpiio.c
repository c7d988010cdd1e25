/* The MPI-IO backend: every file on MPI_COMM_SELF with the caller's hints
 * (striping and the like reach the file system layer); batched reads are
 * non-blocking. */
#include "storage.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#define PART_MAX (INT_MAX / 2) /* bytes per MPI call: counts are int */

static int m_open(pz_file *f, const char *path, int mode, MPI_Info info, pz_err *e)
{
    int amode = (mode & PZ_FILE_WRITE) ? MPI_MODE_WRONLY : MPI_MODE_RDONLY;
    amode |= mode & PZ_FILE_CREATE ? MPI_MODE_CREATE : 0;
    f->be = &pz_mpiio_backend;
    f->path = path;
    f->fd = -1;
    int rc = MPI_File_open(MPI_COMM_SELF, path, amode, info, &f->fh);
    if (rc != MPI_SUCCESS) {
        f->fh = MPI_FILE_NULL;
        int cls = 0;
        char why[MPI_MAX_ERROR_STRING];
        MPI_Error_class(rc, &cls);
        pz_mpi_errstr(rc, why, sizeof why);
        bool missing = cls == MPI_ERR_NO_SUCH_FILE ||
                       (!(mode & PZ_FILE_CREATE) && !pz_io_exists(path));
        return pz_err_set(e, missing ? PZARR_ENOENT : PZARR_EIO, "cannot %s %s: %s",
                          mode & PZ_FILE_CREATE ? "create" : "open", path, why);
    }
    MPI_File_set_errhandler(f->fh, MPI_ERRORS_RETURN);
    if ((mode & PZ_FILE_TRUNC) && MPI_File_set_size(f->fh, 0) != MPI_SUCCESS) {
        MPI_File_close(&f->fh);
        return pz_err_set(e, PZARR_EIO, "cannot truncate %s", path);
    }
    return 0;
}

static int m_size(pz_file *f, uint64_t *size, pz_err *e)
{
    MPI_Offset s = 0;
    if (MPI_File_get_size(f->fh, &s) != MPI_SUCCESS || s < 0)
        return pz_err_set(e, PZARR_EIO, "cannot get the size of %s", f->path);
    *size = (uint64_t)s;
    return 0;
}

static int m_read_at(pz_file *f, uint64_t off, void *buf, size_t n, size_t *got, pz_err *e)
{
    *got = 0;
    while (*got < n) {
        int part = n - *got > (size_t)PART_MAX ? PART_MAX : (int)(n - *got), cnt = 0;
        MPI_Status st;
        if (MPI_File_read_at(f->fh, (MPI_Offset)(off + *got), (char *)buf + *got, part,
                             MPI_BYTE, &st) != MPI_SUCCESS)
            return pz_err_set(e, PZARR_EIO, "cannot read %s", f->path);
        MPI_Get_count(&st, MPI_BYTE, &cnt);
        *got += (size_t)(cnt > 0 ? cnt : 0);
        if (cnt < part)
            break;
    }
    return 0;
}

static int m_write_at(pz_file *f, uint64_t off, const void *buf, size_t n, pz_err *e)
{
    for (size_t done = 0; done < n;) {
        int part = n - done > (size_t)PART_MAX ? PART_MAX : (int)(n - done);
        MPI_Status st;
        int rc = MPI_File_write_at(f->fh, (MPI_Offset)(off + done), (const char *)buf + done,
                                   part, MPI_BYTE, &st);
        if (rc != MPI_SUCCESS) {
            char why[MPI_MAX_ERROR_STRING];
            pz_mpi_errstr(rc, why, sizeof why);
            return pz_err_set(e, PZARR_EIO, "cannot write %s: %s", f->path, why);
        }
        done += (size_t)part;
    }
    return 0;
}

static int m_read_runs(pz_file *f, const pz_run *runs, size_t n, pz_err *e)
{
    for (size_t i = 0; i < n; i++) {
        size_t got = 0;
        PZ_TRY(f->be->read_at(f, runs[i].off, runs[i].dst, runs[i].len, &got, e));
        if (got != runs[i].len)
            return pz_err_set(e, PZARR_ECORRUPT, "%s: short read at byte %llu", f->path,
                              (unsigned long long)runs[i].off);
    }
    return 0;
}

static int m_write_gather(pz_file *f, uint64_t off, const pz_span *spans, size_t n, pz_err *e)
{
    for (size_t i = 0; i < n; i++) {
        int rc = m_write_at(f, off, spans[i].src, spans[i].len, e);
        if (rc)
            return rc;
        off += spans[i].len;
    }
    return 0;
}

static int m_sync(pz_file *f, pz_err *e)
{
    if (MPI_File_sync(f->fh) != MPI_SUCCESS)
        return pz_err_set(e, PZARR_EIO, "cannot sync %s", f->path);
    return 0;
}

static int m_close(pz_file *f, pz_err *e)
{
    if (f->fh == MPI_FILE_NULL)
        return 0;
    int rc = MPI_File_close(&f->fh);
    f->fh = MPI_FILE_NULL;
    if (rc != MPI_SUCCESS) {
        char why[MPI_MAX_ERROR_STRING];
        pz_mpi_errstr(rc, why, sizeof why);
        return pz_err_set(e, PZARR_EIO, "cannot write %s: %s", f->path, why);
    }
    return 0;
}

/* One batch: open all, post all reads, wait for all, close all. */
static int read_batch(int n, const char *const *paths, MPI_Info info,
                           pz_buf *bufs, bool *present, pzarr_stats *st,
                           pz_err *e)
{
    MPI_File fh[PZ_BATCH_MAX];
    MPI_Request req[PZ_BATCH_MAX];
    char why[MPI_MAX_ERROR_STRING];
    int rc = 0;
    for (int i = 0; i < n; i++) {
        fh[i] = MPI_FILE_NULL;
        req[i] = MPI_REQUEST_NULL;
        present[i] = false;
        bufs[i].size = 0;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        st->chunk_reads++;
        int mrc = MPI_File_open(MPI_COMM_SELF, paths[i], MPI_MODE_RDONLY, info, &fh[i]);
        if (mrc != MPI_SUCCESS) {
            int cls;
            MPI_Error_class(mrc, &cls);
            fh[i] = MPI_FILE_NULL;
            if (cls == MPI_ERR_NO_SUCH_FILE || !pz_io_exists(paths[i]))
                continue;
            pz_mpi_errstr(mrc, why, sizeof why);
            rc = pz_err_set(e, PZARR_EIO, "cannot open %s: %s", paths[i], why);
            break;
        }
        MPI_File_set_errhandler(fh[i], MPI_ERRORS_RETURN);
        MPI_Offset size = 0;
        MPI_File_get_size(fh[i], &size);
        if ((size < 0 || size > INT_MAX) && pz_io_is_dir(paths[i])) {
            rc = pz_err_set(e, PZARR_EIO, "%s is a directory, not a chunk file", paths[i]);
            break;
        }
        if (size < 0 || size > INT_MAX) {
            rc = pz_err_set(e, PZARR_ECORRUPT, "%s: chunk file of %lld bytes exceeds 2 GiB",
                            paths[i], (long long)size);
            break;
        }
        if (pz_buf_reserve(&bufs[i], (size_t)size + 1) != 0) {
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory reading %s", paths[i]);
            break;
        }
        present[i] = true;
        bufs[i].size = (size_t)size;
        st->bytes_read += (uint64_t)size;
        if (size > 0 &&
            MPI_File_iread_at(fh[i], 0, bufs[i].data, (int)size, MPI_BYTE, &req[i]) !=
                MPI_SUCCESS)
            rc = pz_err_set(e, PZARR_EIO, "cannot read %s", paths[i]);
    }
    MPI_Status sts[PZ_BATCH_MAX];
    if (MPI_Waitall(n, req, sts) != MPI_SUCCESS && rc == 0)
        rc = pz_err_set(e, PZARR_EIO, "chunk read failed");
    for (int i = 0; i < n; i++) {
        if (fh[i] == MPI_FILE_NULL)
            continue;
        if (rc == 0 && present[i] && bufs[i].size > 0) {
            int got = 0;
            MPI_Get_count(&sts[i], MPI_BYTE, &got);
            if ((size_t)got != bufs[i].size)
                rc = pz_err_set(e, PZARR_EIO, "%s: short read (%d of %zu bytes)",
                                paths[i], got, bufs[i].size);
        }
        MPI_File_close(&fh[i]);
    }
    return rc;
}

const pz_backend pz_mpiio_backend = {
    .name = "mpiio",
    .open = m_open,
    .size = m_size,
    .read_at = m_read_at,
    .write_at = m_write_at,
    .write_gather = m_write_gather,
    .read_runs = m_read_runs,
    .sync = m_sync,
    .close = m_close,
    .read_batch = read_batch,
};
