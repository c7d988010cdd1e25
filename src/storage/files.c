#define _POSIX_C_SOURCE 200809L
/* Whole files through either backend: metadata documents (POSIX), atomic
 * replacement, batched reads; directories and temporary names. */
#include "storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

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

void pz_mpi_errstr(int mpirc, char *buf, int cap)
{
    int len = 0;
    buf[0] = '\0';
    if (MPI_Error_string(mpirc, buf, &len) != MPI_SUCCESS)
        snprintf(buf, (size_t)cap, "MPI error %d", mpirc);
}

const pz_backend *pz_backend_for(MPI_Info info)
{
    return info == MPI_INFO_NULL ? &pz_posix_backend : &pz_mpiio_backend;
}

static int write_whole(const pz_backend *be, const char *path, const void *data, size_t n,
                       MPI_Info info, pz_err *e)
{
    pz_file f;
    PZ_TRY(be->open(&f, path, PZ_FILE_WRITE | PZ_FILE_CREATE | PZ_FILE_TRUNC, info, e));
    int rc = be->write_at(&f, 0, data, n, e);
    int crc = be->close(&f, rc ? NULL : e);
    if (rc == 0)
        rc = crc;
    if (rc)
        unlink(path);
    return rc;
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
    int rc = write_whole(pz_backend_for(info), tmp, data, n, info, e);
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = pz_err_set(e, PZARR_EIO, "cannot rename %s to %s: %s", tmp, path,
                        strerror(errno));
        unlink(tmp);
    }
    pz_free(tmp);
    return rc;
}

int pz_io_read_batch(int n, const char *const *paths, MPI_Info info,
                     pz_buf *bufs, bool *present, pzarr_stats *st, pz_err *e)
{
    const pz_backend *be = pz_backend_for(info);
    for (int i = 0; i < n; i += PZ_BATCH_MAX) {
        int k = n - i < PZ_BATCH_MAX ? n - i : PZ_BATCH_MAX;
        PZ_TRY(be->read_batch(k, paths + i, info, bufs + i, present + i, st, e));
    }
    return 0;
}
