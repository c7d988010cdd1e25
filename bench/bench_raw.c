/*
 * The raw MPI-IO baseline: one flat C-order float64 file; each rank moves its
 * box through a subarray file view with collective write_all/read_all.
 * And the POSIX baseline: each rank its bytes in a file of its own.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void mpi_check(const bench_ctx *c, int rc, const char *what, const char *path)
{
    if (rc == MPI_SUCCESS)
        return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    bench_die(c, "raw MPI-IO: %s %s: %s", what, path ? path : "", msg);
}

void bench_raw_open(const bench_ctx *c, const char *path, int write, MPI_File *fh)
{
    int mode = write ? MPI_MODE_CREATE | MPI_MODE_WRONLY : MPI_MODE_RDONLY;
    mpi_check(c, MPI_File_open(c->comm, path, mode, MPI_INFO_NULL, fh), "open", path);
    MPI_File_set_errhandler(*fh, MPI_ERRORS_RETURN);
}

void bench_raw_close(const bench_ctx *c, MPI_File *fh)
{
    mpi_check(c, MPI_File_close(fh), "close", NULL);
}

/* The file type of `b`; an empty box selects nothing. */
static MPI_Datatype box_type(const bench_ctx *c, int ndim, const uint64_t *shape,
                             const bench_box *b)
{
    MPI_Datatype t;
    if (bench_box_elems(b) == 0) {
        MPI_Type_contiguous(0, MPI_DOUBLE, &t);
    } else {
        int sz[BENCH_NDIM_MAX], sub[BENCH_NDIM_MAX], st[BENCH_NDIM_MAX];
        for (int i = 0; i < ndim; i++) {
            if (shape[i] > INT_MAX)
                bench_die(c, "raw MPI-IO: axis %d of extent %llu exceeds INT_MAX", i,
                          (unsigned long long)shape[i]);
            sz[i] = (int)shape[i];
            sub[i] = (int)b->count[i];
            st[i] = (int)b->start[i];
        }
        MPI_Type_create_subarray(ndim, sz, sub, st, MPI_ORDER_C, MPI_DOUBLE, &t);
    }
    MPI_Type_commit(&t);
    return t;
}

void bench_raw_xfer(const bench_ctx *c, MPI_File fh, int write, int ndim,
                    const uint64_t *shape, const bench_box *b, double *buf)
{
    uint64_t n = bench_box_elems(b);
    if (n > INT_MAX)
        bench_die(c, "raw MPI-IO: a box of %llu elements exceeds INT_MAX",
                  (unsigned long long)n);
    MPI_Datatype ft = box_type(c, ndim, shape, b);
    mpi_check(c, MPI_File_set_view(fh, 0, MPI_DOUBLE, ft, "native", MPI_INFO_NULL),
              "set_view", NULL);
    MPI_Status st;
    int rc = write ? MPI_File_write_all(fh, buf, (int)n, MPI_DOUBLE, &st)
                   : MPI_File_read_all(fh, buf, (int)n, MPI_DOUBLE, &st);
    mpi_check(c, rc, write ? "write_all" : "read_all", NULL);
    MPI_Type_free(&ft);
}

double bench_raw_once(const bench_ctx *c, const char *path, int write, int ndim,
                      const uint64_t *shape, const bench_box *b, double *buf)
{
    MPI_File fh;
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    bench_raw_open(c, path, write, &fh);
    bench_raw_xfer(c, fh, write, ndim, shape, b, buf);
    bench_raw_close(c, &fh);
    return MPI_Wtime() - t0;
}

void *bench_page_alloc(const bench_ctx *c, size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 4096, bytes ? bytes : 1) != 0)
        bench_die(c, "out of memory allocating %zu bytes", bytes);
    return p;
}

double bench_posix_once(const bench_ctx *c, const char *path, int write, void *buf,
                        size_t bytes)
{
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    int fd = write ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : open(path, O_RDONLY);
    if (fd < 0)
        bench_die(c, "POSIX baseline: cannot open %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < bytes) {
        ssize_t n = write ? pwrite(fd, (const char *)buf + done, bytes - done, (off_t)done)
                          : pread(fd, (char *)buf + done, bytes - done, (off_t)done);
        if (n <= 0)
            bench_die(c, "POSIX baseline: %s %s: %s", write ? "writing" : "reading", path,
                      n < 0 ? strerror(errno) : "short file");
        done += (size_t)n;
    }
    if (write && c->o.durable && fdatasync(fd) != 0)
        bench_die(c, "POSIX baseline: fdatasync %s: %s", path, strerror(errno));
    if (close(fd) != 0)
        bench_die(c, "POSIX baseline: closing %s: %s", path, strerror(errno));
    return MPI_Wtime() - t0;
}
