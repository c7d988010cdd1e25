#define _DEFAULT_SOURCE /* preadv */
/* The POSIX backend: plain system calls, no MPI-IO open per file (which
 * costs ~30 us here against ~2 us). */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/uio.h>
#include <unistd.h>

static int p_open(pz_file *f, const char *path, int mode, MPI_Info info, pz_err *e)
{
    (void)info;
    int flags = (mode & PZ_FILE_WRITE) ? O_WRONLY : O_RDONLY;
    flags |= (mode & PZ_FILE_CREATE ? O_CREAT : 0) | (mode & PZ_FILE_TRUNC ? O_TRUNC : 0);
    f->be = &pz_posix_backend;
    f->path = path;
    f->fh = MPI_FILE_NULL;
    f->fd = open(path, flags, 0666);
    if (f->fd >= 0)
        return 0;
    int err = errno;
    return pz_err_set(e, err == ENOENT || err == ENOTDIR ? PZARR_ENOENT : PZARR_EIO,
                      "cannot %s %s: %s", mode & PZ_FILE_CREATE ? "create" : "open", path,
                      strerror(err));
}

static int p_size(pz_file *f, uint64_t *size, pz_err *e)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return pz_err_set(e, PZARR_EIO, "%s: %s", f->path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return pz_err_set(e, PZARR_EIO, "%s is a directory, not a file", f->path);
    *size = (uint64_t)st.st_size;
    return 0;
}

static int p_read_at(pz_file *f, uint64_t off, void *buf, size_t n, size_t *got, pz_err *e)
{
    *got = 0;
    while (*got < n) {
        ssize_t r = pread(f->fd, (char *)buf + *got, n - *got, (off_t)(off + *got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return pz_err_set(e, PZARR_EIO, "cannot read %s: %s", f->path, strerror(errno));
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return 0;
}

static int p_write_at(pz_file *f, uint64_t off, const void *buf, size_t n, pz_err *e)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(f->fd, (const char *)buf + done, n - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return pz_err_set(e, PZARR_EIO, "cannot write %s: %s", f->path,
                              w < 0 ? strerror(errno) : "no progress");
        done += (size_t)w;
    }
    return 0;
}

static int p_write_gather(pz_file *f, uint64_t off, const pz_span *spans, size_t n, pz_err *e)
{
    struct iovec iov[64];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        uint64_t want = 0;
        for (; i + k < n && k < 64 && want <= (uint64_t)SSIZE_MAX / 2; k++) {
            iov[k].iov_base = (void *)(uintptr_t)spans[i + k].src;
            iov[k].iov_len = spans[i + k].len;
            want += spans[i + k].len;
        }
        ssize_t w = pwritev(f->fd, iov, (int)k, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return pz_err_set(e, PZARR_EIO, "cannot write %s: %s", f->path, strerror(errno));
        if ((uint64_t)w < want) {
            /* A short write: the rest of these spans one by one. */
            uint64_t skip = (uint64_t)w;
            for (size_t j = 0; j < k; j++) {
                size_t len = spans[i + j].len;
                if (skip >= len) {
                    skip -= len;
                    continue;
                }
                int rc = p_write_at(f, off + (uint64_t)w,
                                    (const char *)spans[i + j].src + skip, len - skip, e);
                if (rc)
                    return rc;
                w += (ssize_t)(len - skip);
                skip = 0;
            }
        }
        off += want;
        i += k;
    }
    return 0;
}

static int p_read_runs(pz_file *f, const pz_run *runs, size_t n, pz_err *e)
{
    struct iovec iov[256];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        uint64_t off = runs[i].off, want = 0;
        while (i + k < n && k < 256 && runs[i + k].off == off + want &&
               want <= (uint64_t)SSIZE_MAX / 2) {
            iov[k].iov_base = runs[i + k].dst;
            iov[k].iov_len = runs[i + k].len;
            want += runs[i + k].len;
            k++;
        }
        ssize_t got = preadv(f->fd, iov, (int)k, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return pz_err_set(e, PZARR_EIO, "cannot read %s: %s", f->path, strerror(errno));
        if ((uint64_t)got < want) {
            /* Short: the rest run by run, so that only the end of the file
             * makes it short. */
            for (size_t j = 0; j < k; j++) {
                size_t r = 0;
                PZ_TRY(p_read_at(f, runs[i + j].off, runs[i + j].dst, runs[i + j].len, &r, e));
                if (r != runs[i + j].len)
                    return pz_err_set(e, PZARR_ECORRUPT, "%s: short read at byte %llu", f->path,
                                      (unsigned long long)runs[i + j].off);
            }
        }
        i += k;
    }
    return 0;
}

static int p_sync(pz_file *f, pz_err *e)
{
    if (fdatasync(f->fd) != 0)
        return pz_err_set(e, PZARR_EIO, "cannot sync %s: %s", f->path, strerror(errno));
    return 0;
}

static int p_close(pz_file *f, pz_err *e)
{
    if (f->fd < 0)
        return 0;
    int rc = close(f->fd);
    f->fd = -1;
    if (rc != 0)
        return pz_err_set(e, PZARR_EIO, "cannot write %s: %s", f->path, strerror(errno));
    return 0;
}

/* The same with POSIX calls: every file of the batch is opened and its
 * read-ahead requested (posix_fadvise WILLNEED) before any is read, so the
 * kernel fetches them together. */
/* Whether fd lives in memory (tmpfs, ramfs): no device behind it. */
static bool in_memory_fs(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC);
}

static int read_batch(int n, const char *const *paths, MPI_Info info, pz_buf *bufs,
                      bool *present, pzarr_stats *st, pz_err *e)
{
    int fd[PZ_BATCH_MAX];
    int rc = 0;
    (void)info;
    int advise = -1; /* unknown until the first file is open */
    for (int i = 0; i < n; i++) {
        present[i] = false;
        bufs[i].size = 0;
        st->chunk_reads++;
        fd[i] = open(paths[i], O_RDONLY);
        if (fd[i] < 0 && errno != ENOENT && errno != ENOTDIR && rc == 0)
            rc = pz_err_set(e, PZARR_EIO, "cannot open %s: %s", paths[i], strerror(errno));
        if (fd[i] >= 0 && advise < 0)
            advise = !in_memory_fs(fd[i]);
        /* Read-ahead of every file of the batch before any is read (a
         * memory file system has nothing to fetch: one system call less
         * per file). */
        if (fd[i] >= 0 && advise)
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

int pz_io_read_runs(const char *path, const pz_run *runs, size_t n, uint64_t file_size,
                    bool *present, pz_err *e)
{
    *present = false;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR
                   ? 0
                   : pz_err_set(e, PZARR_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != file_size) {
        close(fd);
        return PZARR_ECORRUPT; /* not the expected file: the caller's full path decides */
    }
    struct iovec iov[64];
    for (size_t i = 0; rc == 0 && i < n;) {
        /* Runs that follow each other in the file: one preadv. */
        size_t k = 0;
        uint64_t off = runs[i].off, want = 0;
        while (i + k < n && k < 64 && runs[i + k].off == off + want) {
            iov[k].iov_base = runs[i + k].dst;
            iov[k].iov_len = runs[i + k].len;
            want += runs[i + k].len;
            k++;
        }
        ssize_t got = preadv(fd, iov, (int)k, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t)want)
            rc = got < 0 ? pz_err_set(e, PZARR_EIO, "cannot read %s: %s", path, strerror(errno))
                         : PZARR_ECORRUPT;
        i += k;
    }
    close(fd);
    *present = rc == 0;
    return rc;
}

const pz_backend pz_posix_backend = {
    .name = "posix",
    .open = p_open,
    .size = p_size,
    .read_at = p_read_at,
    .write_at = p_write_at,
    .write_gather = p_write_gather,
    .read_runs = p_read_runs,
    .sync = p_sync,
    .close = p_close,
    .read_batch = read_batch,
};
