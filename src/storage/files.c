#define _POSIX_C_SOURCE 200809L
/* Whole files through a backend: atomic replacement (written beside, then
 * renamed) and batched reads. */
#include "storage.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

const pz_backend *pz_backend_for(MPI_Info info)
{
    return info == MPI_INFO_NULL ? &pz_posix_backend : &pz_mpiio_backend;
}

int pz_io_write_file(const char *path, const void *data, size_t n, MPI_Info info,
                     bool durable, pz_err *e)
{
    const pz_backend *be = pz_backend_for(info);
    pz_file f;
    PZ_TRY(be->open(&f, path, PZ_FILE_WRITE | PZ_FILE_CREATE | PZ_FILE_TRUNC, info, e));
    int rc = be->write_at(&f, 0, data, n, e);
    if (rc == 0 && durable)
        rc = be->sync(&f, e);
    int crc = be->close(&f, rc ? NULL : e);
    if (rc == 0)
        rc = crc;
    if (rc)
        unlink(path);
    return rc;
}

int pz_io_write_atomic(const char *path, const void *data, size_t n,
                       const char *tag, MPI_Info info, bool durable, pz_err *e)
{
    size_t len = strlen(path) + strlen(tag) + 32;
    char *tmp = pz_malloc(len);
    if (!tmp)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    snprintf(tmp, len, "%s" PZ_TEMP_MARK "-%s-%ld", path, tag, (long)getpid());
    unlink(tmp);
    int rc = pz_io_write_file(tmp, data, n, info, durable, e);
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = pz_err_set(e, PZARR_EIO, "cannot rename %s to %s: %s", tmp, path,
                        strerror(errno));
        unlink(tmp);
    }
    pz_free(tmp);
    if (rc == 0 && durable) {
        char *dir = pz_io_dirname(path);
        rc = dir ? pz_io_sync_dir(dir, e) : pz_err_set(e, PZARR_ENOMEM, "out of memory");
        pz_free(dir);
    }
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
