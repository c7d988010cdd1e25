#define _POSIX_C_SOURCE 200809L
/* The file system without a backend: directories, existence, removal,
 * temporary names, small whole files (metadata), MPI error texts. */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

bool pz_io_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool pz_io_in_memory(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
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

int pz_io_rename(const char *from, const char *to, pz_err *e)
{
    if (rename(from, to) != 0)
        return pz_err_set(e, PZARR_EIO, "cannot rename %s to %s: %s", from, to,
                          strerror(errno));
    return 0;
}

int pz_io_sync_dir(const char *dir, pz_err *e)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return pz_err_set(e, PZARR_EIO, "cannot open directory %s: %s", dir, strerror(errno));
    int rc = fsync(fd) != 0 ? pz_err_set(e, PZARR_EIO, "cannot sync directory %s: %s", dir,
                                         strerror(errno))
                            : 0;
    close(fd);
    return rc;
}

int pz_io_sync_file(const char *path, pz_err *e)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return pz_err_set(e, PZARR_EIO, "cannot open %s to sync it: %s", path, strerror(errno));
    int rc = fdatasync(fd) != 0
                 ? pz_err_set(e, PZARR_EIO, "cannot sync %s: %s", path, strerror(errno))
                 : 0;
    if (close(fd) != 0 && rc == 0)
        rc = pz_err_set(e, PZARR_EIO, "cannot sync %s: %s", path, strerror(errno));
    return rc;
}

char *pz_io_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return pz_strdup(".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = pz_malloc(n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = '\0';
    }
    return d;
}
