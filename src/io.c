#define _POSIX_C_SOURCE 200809L
/* File I/O: metadata documents (POSIX, rank 0 only) and chunk files: MPI-IO
 * on MPI_COMM_SELF when the caller gave hints (so they reach the file system
 * layer), POSIX otherwise. */
#include "pz_core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PZ_TEMP_MARK ".pzarr-tmp"
#define PZ_BATCH_MAX 256 /* files open at once in one read batch */

char *pz_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = pz_malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    size_t o = la;
    if (la && lb && a[la - 1] != '/')
        p[o++] = '/';
    memcpy(p + o, b, lb + 1);
    return p;
}

bool pz_io_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool pz_io_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool pz_io_is_temp_name(const char *name)
{
    return strstr(name, PZ_TEMP_MARK) != NULL;
}

int pz_io_read_file(const char *path, pz_buf *out, pz_err *e)
{
    out->size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return pz_err_set(e, PZARR_ENOENT, "%s: no such file", path);
        return pz_err_set(e, PZARR_EIO, "%s: %s", path, strerror(errno));
    }
    int rc = 0;
    for (;;) {
        if (pz_buf_reserve(out, out->size + 65536) != 0) {
            rc = pz_err_set(e, PZARR_ENOMEM, "%s: out of memory", path);
            break;
        }
        size_t got = fread(out->data + out->size, 1, out->cap - out->size, f);
        out->size += got;
        if (got == 0) {
            if (ferror(f))
                rc = pz_err_set(e, PZARR_EIO, "%s: read failed", path);
            break;
        }
    }
    fclose(f);
    return rc;
}

int pz_io_mkdirs(const char *path, pz_err *e)
{
    char *p = pz_strdup(path);
    if (!p)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int rc = 0;
    for (char *q = p + 1;; q++) {
        if (*q != '/' && *q != '\0')
            continue;
        char c = *q;
        *q = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            rc = pz_err_set(e, PZARR_EIO, "cannot create directory %s: %s", p,
                            strerror(errno));
            break;
        }
        if (!pz_io_is_dir(p)) {
            rc = pz_err_set(e, PZARR_EIO, "%s exists and is not a directory", p);
            break;
        }
        *q = c;
        if (c == '\0')
            break;
    }
    pz_free(p);
    return rc;
}

int pz_io_remove(const char *path, bool *removed, pz_err *e)
{
    *removed = false;
    if (unlink(path) == 0) {
        *removed = true;
        return 0;
    }
    if (errno == ENOENT)
        return 0;
    return pz_err_set(e, PZARR_EIO, "cannot remove %s: %s", path, strerror(errno));
}

static int mpi_errmsg(int mpirc, char *buf, int cap)
{
    int len = 0;
    buf[0] = '\0';
    if (MPI_Error_string(mpirc, buf, &len) != MPI_SUCCESS)
        snprintf(buf, (size_t)cap, "MPI error %d", mpirc);
    return 0;
}

static int write_file(const char *path, const void *data, size_t n,
                      MPI_Info info, pz_err *e)
{
    char why[MPI_MAX_ERROR_STRING];
    MPI_File fh;
    int rc = MPI_File_open(MPI_COMM_SELF, path,
                           MPI_MODE_WRONLY | MPI_MODE_CREATE, info, &fh);
    if (rc != MPI_SUCCESS) {
        int cls = 0;
        MPI_Error_class(rc, &cls);
        mpi_errmsg(rc, why, sizeof why);
        return pz_err_set(e, cls == MPI_ERR_NO_SUCH_FILE ? PZARR_ENOENT : PZARR_EIO,
                          "cannot create %s: %s", path, why);
    }
    MPI_File_set_errhandler(fh, MPI_ERRORS_RETURN);
    const char *p = data;
    size_t done = 0;
    rc = MPI_File_set_size(fh, 0);
    while (rc == MPI_SUCCESS && done < n) {
        int part = n - done > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)(n - done);
        MPI_Status st;
        rc = MPI_File_write_at(fh, (MPI_Offset)done, p + done, part, MPI_BYTE, &st);
        done += (size_t)part;
    }
    int crc = MPI_File_close(&fh);
    if (rc == MPI_SUCCESS)
        rc = crc;
    if (rc != MPI_SUCCESS) {
        mpi_errmsg(rc, why, sizeof why);
        unlink(path);
        return pz_err_set(e, PZARR_EIO, "cannot write %s: %s", path, why);
    }
    return 0;
}

/* Small files without hints: plain POSIX, no MPI-IO open per file. */
static int write_file_posix(const char *path, const void *data, size_t n, pz_err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        return pz_err_set(e, errno == ENOENT ? PZARR_ENOENT : PZARR_EIO,
                          "cannot create %s: %s", path, strerror(errno));
    const char *p = data;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = errno;
            close(fd);
            unlink(path);
            return pz_err_set(e, PZARR_EIO, "cannot write %s: %s", path, strerror(err));
        }
        done += (size_t)w;
    }
    if (close(fd) != 0) {
        unlink(path);
        return pz_err_set(e, PZARR_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

int pz_io_write_atomic(const char *path, const void *data, size_t n,
                       const char *tag, MPI_Info info, pz_err *e)
{
    size_t len = strlen(path) + strlen(tag) + 32;
    char *tmp = pz_malloc(len);
    if (!tmp)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    snprintf(tmp, len, "%s" PZ_TEMP_MARK "-%s-%ld", path, tag, (long)getpid());
    unlink(tmp);
    int rc = info == MPI_INFO_NULL ? write_file_posix(tmp, data, n, e)
                                   : write_file(tmp, data, n, info, e);
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = pz_err_set(e, PZARR_EIO, "cannot rename %s to %s: %s", tmp, path,
                        strerror(errno));
        unlink(tmp);
    }
    pz_free(tmp);
    return rc;
}

/* One batch: open all, post all reads, wait for all, close all. */
static int read_batch_part(int n, const char *const *paths, MPI_Info info,
                           pz_buf *bufs, bool *present, pzarr_stats *st,
                           pz_err *e)
{
    MPI_File fh[PZ_BATCH_MAX];
    MPI_Request req[PZ_BATCH_MAX];
    char why[MPI_MAX_ERROR_STRING];
    int rc = 0, opened = 0;
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
            mpi_errmsg(mrc, why, sizeof why);
            rc = pz_err_set(e, PZARR_EIO, "cannot open %s: %s", paths[i], why);
            break;
        }
        opened++;
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
    (void)opened;
    return rc;
}

/* The same with POSIX calls: every file of the batch is opened and its
 * read-ahead requested (posix_fadvise WILLNEED) before any is read, so the
 * kernel fetches them together. */
static int read_batch_posix(int n, const char *const *paths, pz_buf *bufs, bool *present,
                            pzarr_stats *st, pz_err *e)
{
    int fd[PZ_BATCH_MAX];
    int rc = 0;
    for (int i = 0; i < n; i++) {
        present[i] = false;
        bufs[i].size = 0;
        st->chunk_reads++;
        fd[i] = open(paths[i], O_RDONLY);
        if (fd[i] < 0 && errno != ENOENT && errno != ENOTDIR && rc == 0)
            rc = pz_err_set(e, PZARR_EIO, "cannot open %s: %s", paths[i], strerror(errno));
        if (fd[i] >= 0)
            posix_fadvise(fd[i], 0, 0, POSIX_FADV_WILLNEED);
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (fd[i] < 0)
            continue;
        /* Read until a short read: no fstat; a reused buffer usually holds
         * the whole file in one pread. */
        size_t got = 0;
        for (;;) {
            if (bufs[i].cap - got < 2 && pz_buf_reserve(&bufs[i], got + 65536) != 0) {
                rc = pz_err_set(e, PZARR_ENOMEM, "out of memory reading %s", paths[i]);
                break;
            }
            size_t want = bufs[i].cap - got - 1;
            ssize_t r = pread(fd[i], bufs[i].data + got, want, (off_t)got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = pz_err_set(e, PZARR_EIO, "%s: %s", paths[i],
                                errno == EISDIR ? "is a directory, not a chunk file"
                                                : strerror(errno));
                break;
            }
            got += (size_t)r;
            if ((size_t)r < want)
                break;
            if (got > INT_MAX) {
                rc = pz_err_set(e, PZARR_ECORRUPT, "%s: chunk file exceeds 2 GiB", paths[i]);
                break;
            }
        }
        if (rc)
            break;
        bufs[i].size = got;
        present[i] = true;
        st->bytes_read += got;
    }
    for (int i = 0; i < n; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    return rc;
}

int pz_io_read_batch(int n, const char *const *paths, MPI_Info info,
                     pz_buf *bufs, bool *present, pzarr_stats *st, pz_err *e)
{
    for (int i = 0; i < n; i += PZ_BATCH_MAX) {
        int k = n - i < PZ_BATCH_MAX ? n - i : PZ_BATCH_MAX;
        if (info == MPI_INFO_NULL)
            PZ_TRY(read_batch_posix(k, paths + i, bufs + i, present + i, st, e));
        else
            PZ_TRY(read_batch_part(k, paths + i, info, bufs + i, present + i, st, e));
    }
    return 0;
}
