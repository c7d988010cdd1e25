/*
 * `pzarr get` and `pzarr put`: raw C-order native-endian bytes of a region.
 * The region is cut into slabs along axis 0, one per rank, and each slab
 * into blocks of bounded size that are contiguous in the region's bytes.
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { TAG_HDR = 71, TAG_DATA = 72 };

static bool vlen_type(pzarr_dtype t)
{
    return t == PZARR_VLEN_STRING || t == PZARR_VLEN_BYTES;
}

/* Inputs from a pipe up to this size are spooled in memory, larger ones in
 * an unlinked temporary file. PZARR_CLI_SPOOL_MEM overrides it (tests). */
static uint64_t spool_mem_max(void)
{
    const char *env = getenv("PZARR_CLI_SPOOL_MEM");
    uint64_t v;
    if (env && cli_parse_u64(env, &v))
        return v;
    return (uint64_t)256 << 20;
}

typedef struct xfer {
    cli_array ca;
    const char *path;
    const char *region; /* as given, for messages */
    uint64_t start[PZARR_MAX_NDIM], count[PZARR_MAX_NDIM];
    uint64_t total; /* bytes of the whole region */
    cli_slab slab;  /* this rank's */
    cli_blocks blocks;
    unsigned char *buf; /* one block */
    int progress; /* -1 -q, 1 --progress, 0 the default */
} xfer;

/* ------------------------------------------------------------ common */

static void xfer_describe(const xfer *x, char *out, size_t cap)
{
    char shape[256];
    cli_format_dims(x->ca.info.ndim, x->ca.info.shape, "x", shape, sizeof shape);
    snprintf(out, cap, "region '%s' of the %s array of shape %s",
             x->region ? x->region : "(all)", cli_dtype_name(x->ca.info.dtype),
             shape);
}

static void xfer_blocks_of(const cli *c, const xfer *x, int rank,
                           cli_blocks *b)
{
    cli_slab s;
    cli_slab_of(rank, c->size, x->ca.info.ndim, x->ca.info.itemsize, x->start,
                x->count, &s);
    cli_blocks_init(b, &s, c->block_bytes);
}

static int xfer_alloc(cli *c, xfer *x)
{
    size_t cap = c->block_bytes < 16 ? 16 : (size_t)c->block_bytes;
    if (x->total < cap)
        cap = x->total ? (size_t)x->total : 1;
    x->buf = malloc(cap);
    return x->buf ? CLI_OK : cli_fail(c, "out of memory (%zu bytes)", cap);
}

/* -q wins over --progress. */
static int progress_mode(bool quiet, bool forced)
{
    return quiet ? -1 : forced ? 1 : 0;
}

/* Collective: opens the array and sizes the region. */
static int xfer_open(cli *c, const char *path, int flags, const char *region,
                     int progress, xfer *x)
{
    memset(x, 0, sizeof *x);
    x->path = path;
    x->region = region;
    x->progress = progress;
    int rc = cli_array_open(c, path, flags, &x->ca);
    if (rc)
        return rc;
    const pzarr_array_info *in = &x->ca.info;
    rc = cli_parse_region(c, region, in->ndim, in->shape, x->start, x->count);
    if (!rc && (!cli_prod(in->ndim, x->count, in->itemsize, &x->total) ||
                x->total > (uint64_t)INT64_MAX)) {
        char what[512];
        xfer_describe(x, what, sizeof what);
        rc = cli_fail(c, "%s: the %s exceeds 2^63 bytes", path, what);
    }
    if (!rc) {
        xfer_blocks_of(c, x, c->rank, &x->blocks);
        x->slab = x->blocks.slab;
        rc = cli_agree(c, xfer_alloc(c, x));
    }
    if (rc) {
        cli_array_close(c, path, &x->ca, rc);
        free(x->buf);
        x->buf = NULL;
    }
    return rc;
}

static int xfer_close(cli *c, xfer *x, int rc)
{
    rc = cli_array_close(c, x->path, &x->ca, rc);
    free(x->buf);
    x->buf = NULL;
    return rc;
}

static int xfer_read_block(cli *c, xfer *x, const cli_blocks *b, uint64_t i,
                           uint64_t *bytes)
{
    uint64_t start[PZARR_MAX_NDIM], count[PZARR_MAX_NDIM], off;
    cli_blocks_get(b, i, start, count, &off, bytes);
    int e = pzarr_array_read(x->ca.array, start, count, x->buf);
    if (e)
        return cli_lib_fail(c, e, pzarr_array_errmsg(x->ca.array),
                            "%s: reading", x->path);
    return CLI_OK;
}

/* ------------------------------------------------------------ get */

typedef struct get_out {
    const char *name; /* "-" for standard output */
    int fd;
    bool parallel; /* a regular file every rank writes with pwrite */
    bool created;  /* we made it: remove it on failure */
    bool explicit; /* -o was given */
} get_out;

/* Rank 0: opens the output and decides how it is written. */
static int get_open_output(cli *c, const xfer *x, get_out *o)
{
    if (strcmp(o->name, "-") == 0) {
        if (!o->explicit && isatty(STDOUT_FILENO) && !c->launched)
            return cli_usage(c, "refusing to write binary data to a terminal "
                             "(use -o FILE, or -o - to insist)");
        o->fd = STDOUT_FILENO;
        return CLI_OK;
    }
    o->fd = open(o->name, O_WRONLY | O_CREAT | O_EXCL, 0666);
    o->created = o->fd >= 0;
    if (o->fd < 0 && errno == EEXIST)
        o->fd = open(o->name, O_WRONLY | O_TRUNC);
    if (o->fd < 0)
        return cli_fail(c, "cannot write %s: %s", o->name, strerror(errno));
    struct stat st;
    if (fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        o->parallel = true;
        if (ftruncate(o->fd, (off_t)x->total) != 0)
            return cli_fail(c, "cannot size %s to %" PRIu64 " bytes: %s",
                            o->name, x->total, strerror(errno));
    }
    return CLI_OK;
}

static int get_parallel(cli *c, xfer *x, get_out *o, cli_progress *p)
{
    for (uint64_t i = 0; i < x->blocks.n; i++) {
        uint64_t start[PZARR_MAX_NDIM], count[PZARR_MAX_NDIM], off, n;
        cli_blocks_get(&x->blocks, i, start, count, &off, &n);
        int rc = xfer_read_block(c, x, &x->blocks, i, &n);
        if (rc)
            return rc;
        int w = cli_pwrite_full(o->fd, x->buf, (size_t)n, x->slab.offset + off);
        if (w)
            return cli_fail(c, "writing %s at offset %" PRIu64 ": %s", o->name,
                            x->slab.offset + off, strerror(w));
        cli_progress_add(p, n);
    }
    return CLI_OK;
}

/* Rank r > 0 of a streamed get: each block goes to rank 0, after a header
 * {failed, bytes}. A failure is announced and ends the stream. */
static int get_stream_send(cli *c, xfer *x)
{
    for (uint64_t i = 0; i < x->blocks.n; i++) {
        uint64_t n, hdr[2] = {0, 0};
        int rc = xfer_read_block(c, x, &x->blocks, i, &n);
        hdr[0] = rc != CLI_OK;
        hdr[1] = n;
        MPI_Send(hdr, 2, MPI_UINT64_T, 0, TAG_HDR, c->comm);
        if (rc)
            return rc;
        MPI_Send(x->buf, (int)n, MPI_BYTE, 0, TAG_DATA, c->comm);
    }
    return CLI_OK;
}

/* Rank 0 of a streamed get: writes every rank's blocks in order. After a
 * failure it keeps receiving (so no rank blocks) but writes nothing. */
static int get_stream_recv(cli *c, xfer *x, get_out *o, cli_progress *p)
{
    int rc = CLI_OK;
    bool drain = false;
    for (int r = 0; r < c->size; r++) {
        cli_blocks b;
        xfer_blocks_of(c, x, r, &b);
        for (uint64_t i = 0; i < b.n; i++) {
            uint64_t n, hdr[2];
            if (r == 0) {
                if (drain || (rc = xfer_read_block(c, x, &b, i, &n)) != 0) {
                    drain = true;
                    break;
                }
            } else {
                MPI_Recv(hdr, 2, MPI_UINT64_T, r, TAG_HDR, c->comm,
                         MPI_STATUS_IGNORE);
                if (hdr[0]) {
                    drain = true;
                    break;
                }
                n = hdr[1];
                MPI_Recv(x->buf, (int)n, MPI_BYTE, r, TAG_DATA, c->comm,
                         MPI_STATUS_IGNORE);
            }
            if (drain)
                continue;
            int w = cli_write_full(o->fd, x->buf, (size_t)n);
            if (w) {
                rc = cli_fail(c, "writing %s: %s",
                              strcmp(o->name, "-") == 0 ? "standard output"
                                                        : o->name,
                              strerror(w));
                drain = true;
            }
            cli_progress_add(p, n);
        }
    }
    return rc;
}

static int get_run(cli *c, xfer *x, get_out *o)
{
    int rc = c->rank == 0 ? get_open_output(c, x, o) : CLI_OK;
    rc = cli_agree(c, rc);
    int parallel = o->parallel;
    cli_bcast_int(c, &parallel);
    o->parallel = parallel;
    if (!rc && c->rank != 0 && o->parallel) {
        o->fd = open(o->name, O_WRONLY);
        if (o->fd < 0)
            rc = cli_fail(c, "cannot write %s: %s", o->name, strerror(errno));
    }
    rc = cli_agree(c, rc);
    cli_progress p;
    cli_progress_start(c, &p, "get", o->parallel ? x->slab.bytes : x->total,
                       x->progress);
    if (!rc) {
        if (o->parallel)
            rc = get_parallel(c, x, o, &p);
        else
            rc = c->rank == 0 ? get_stream_recv(c, x, o, &p)
                              : get_stream_send(c, x);
    }
    cli_progress_end(&p);
    if (o->fd >= 0 && o->fd != STDOUT_FILENO && close(o->fd) != 0 && !rc)
        rc = cli_fail(c, "closing %s: %s", o->name, strerror(errno));
    rc = cli_agree(c, rc);
    if (rc && c->rank == 0 && o->created)
        unlink(o->name);
    return rc;
}

int cli_cmd_get(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {
        {"region", 'r', true, NULL, false},
        {"output", 'o', true, NULL, false},
        {"quiet", 'q', false, NULL, false},
        {"progress", 0, false, NULL, false},
    };
    const char *path;
    int rc = cli_parse_args(c, argc, argv, opts, 4, &path);
    if (rc)
        return rc;
    xfer x;
    rc = xfer_open(c, path, PZARR_RDONLY, opts[0].value, progress_mode(opts[2].seen, opts[3].seen),
                   &x);
    if (rc)
        return rc;
    if (vlen_type(x.ca.info.dtype)) {
        rc = cli_vlen_get(c, path, x.ca.array, &x.ca.info, x.start, x.count, opts[1].value);
        return xfer_close(c, &x, rc);
    }
    get_out o = {opts[1].value ? opts[1].value : "-", -1, false, false,
                 opts[1].seen};
    rc = get_run(c, &x, &o);
    return xfer_close(c, &x, rc);
}

/* ------------------------------------------------------------ put */

typedef struct put_in {
    const char *name; /* "-" for standard input */
    bool parallel;    /* every rank preads its own blocks from `name` */
    int fd;           /* rank 0 (and all ranks when parallel); -1: memory */
    uint64_t base;    /* offset of the first byte in fd */
    unsigned char *mem;
} put_in;

static const char *put_in_label(const put_in *in)
{
    return strcmp(in->name, "-") == 0 ? "standard input" : in->name;
}

static int put_size_error(cli *c, const xfer *x, const put_in *in,
                          const char *has)
{
    char what[512];
    xfer_describe(x, what, sizeof what);
    return cli_fail(c, "%s holds %s bytes but the %s needs exactly %" PRIu64
                    " bytes; nothing was written", put_in_label(in), has, what,
                    x->total);
}

/* Copies a pipe into an unlinked temporary file; *got counts its bytes, at
 * most limit. */
static int put_spool_file(cli *c, int src, uint64_t limit, int *fd,
                          uint64_t *got)
{
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/pzarr-put-XXXXXX", dir && dir[0] ? dir : "/tmp");
    *fd = mkstemp(tmpl);
    if (*fd < 0)
        return cli_fail(c, "cannot create a temporary file in %s: %s",
                        dir && dir[0] ? dir : "/tmp", strerror(errno));
    unlink(tmpl);
    unsigned char piece[1 << 16];
    *got = 0;
    while (*got < limit) {
        size_t want = limit - *got < sizeof piece ? (size_t)(limit - *got)
                                                  : sizeof piece;
        size_t n;
        int e = cli_read_full(src, piece, want, &n);
        if (e)
            return cli_fail(c, "reading the input: %s", strerror(e));
        if (n == 0)
            break;
        e = cli_write_full(*fd, piece, n);
        if (e)
            return cli_fail(c, "writing the temporary copy of the input: %s",
                            strerror(e));
        *got += n;
    }
    return CLI_OK;
}

/* Rank 0: reads a non-seekable input whole (one byte more than needed, to
 * see that it is not longer), then checks its size. */
static int put_spool(cli *c, const xfer *x, int src, put_in *in)
{
    uint64_t got = 0, want = x->total + 1;
    int rc;
    in->fd = -1;
    if (x->total < spool_mem_max()) {
        size_t n;
        in->mem = malloc((size_t)want);
        if (!in->mem)
            return cli_fail(c, "out of memory (%" PRIu64 " bytes)", want);
        int e = cli_read_full(src, in->mem, (size_t)want, &n);
        if (e)
            return cli_fail(c, "reading %s: %s", put_in_label(in), strerror(e));
        got = n;
    } else if ((rc = put_spool_file(c, src, want, &in->fd, &got)) != 0) {
        return rc;
    }
    if (got != x->total) {
        char has[64];
        snprintf(has, sizeof has, got > x->total ? "more than %" PRIu64
                                                 : "%" PRIu64,
                 got > x->total ? x->total : got);
        return put_size_error(c, x, in, has);
    }
    return CLI_OK;
}

/* Rank 0: opens the input and checks that it holds exactly the region. */
static int put_open_input(cli *c, const xfer *x, put_in *in)
{
    bool is_stdin = strcmp(in->name, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(in->name, O_RDONLY);
    struct stat st;
    if (fd < 0)
        return cli_fail(c, "cannot read input %s: %s", in->name,
                        strerror(errno));
    in->fd = fd;
    if (fstat(fd, &st) != 0)
        return cli_fail(c, "%s: %s", put_in_label(in), strerror(errno));
    if (!S_ISREG(st.st_mode)) {
        if (isatty(fd))
            return cli_usage(c, "refusing to read binary data from a terminal "
                             "(use -i FILE or a pipe)");
        in->parallel = false;
        int rc = put_spool(c, x, fd, in);
        if (fd != STDIN_FILENO)
            close(fd);
        return rc;
    }
    off_t pos = is_stdin ? lseek(fd, 0, SEEK_CUR) : 0;
    if (pos < 0 || pos > st.st_size)
        pos = 0;
    in->base = (uint64_t)pos;
    uint64_t has = (uint64_t)(st.st_size - pos);
    in->parallel = !is_stdin || c->size == 1;
    if (has != x->total) {
        char text[32];
        snprintf(text, sizeof text, "%" PRIu64, has);
        return put_size_error(c, x, in, text);
    }
    return CLI_OK;
}

static int put_read_src(cli *c, const put_in *in, uint64_t off, void *buf,
                        uint64_t n)
{
    if (in->fd < 0) {
        memcpy(buf, in->mem + off, (size_t)n);
        return CLI_OK;
    }
    int e = cli_pread_full(in->fd, buf, (size_t)n, in->base + off);
    if (e)
        return cli_fail(c, "reading %s at offset %" PRIu64 ": %s",
                        put_in_label(in), off, strerror(e));
    return CLI_OK;
}

/* Rank 0 of a scattered put: sends rank r its block i. */
static int put_scatter_to(cli *c, xfer *x, const put_in *in, int r,
                          uint64_t i)
{
    cli_blocks b;
    uint64_t start[PZARR_MAX_NDIM], count[PZARR_MAX_NDIM], off, n;
    xfer_blocks_of(c, x, r, &b);
    if (i >= b.n)
        return CLI_OK;
    cli_blocks_get(&b, i, start, count, &off, &n);
    int rc = put_read_src(c, in, b.slab.offset + off, x->buf, n);
    uint64_t hdr[2] = {rc != CLI_OK, n};
    MPI_Send(hdr, 2, MPI_UINT64_T, r, TAG_HDR, c->comm);
    if (!rc)
        MPI_Send(x->buf, (int)n, MPI_BYTE, r, TAG_DATA, c->comm);
    return rc;
}

/* This rank's block i: fetched and written to the array. */
static int put_block(cli *c, xfer *x, const put_in *in, uint64_t i)
{
    uint64_t start[PZARR_MAX_NDIM], count[PZARR_MAX_NDIM], off, n;
    cli_blocks_get(&x->blocks, i, start, count, &off, &n);
    int rc = CLI_OK;
    if (in->parallel || c->rank == 0) {
        rc = put_read_src(c, in, x->slab.offset + off, x->buf, n);
    } else {
        uint64_t hdr[2];
        MPI_Recv(hdr, 2, MPI_UINT64_T, 0, TAG_HDR, c->comm, MPI_STATUS_IGNORE);
        if (hdr[0])
            return cli_fail(c, "rank 0 could not read the input");
        MPI_Recv(x->buf, (int)n, MPI_BYTE, 0, TAG_DATA, c->comm,
                 MPI_STATUS_IGNORE);
    }
    if (rc)
        return rc;
    int e = pzarr_array_write(x->ca.array, start, count, x->buf);
    if (e)
        return cli_lib_fail(c, e, pzarr_array_errmsg(x->ca.array),
                            "%s: writing", x->path);
    return CLI_OK;
}

/* Rounds of one block per rank, each ended by a collective flush, so that
 * no rank holds more than a block of unflushed data. */
static int put_rounds(cli *c, xfer *x, const put_in *in, cli_progress *p)
{
    uint64_t rounds = 0;
    for (int r = 0; r < c->size; r++) {
        cli_blocks b;
        xfer_blocks_of(c, x, r, &b);
        rounds = b.n > rounds ? b.n : rounds;
    }
    for (uint64_t i = 0; i < rounds; i++) {
        int rc = CLI_OK;
        for (int r = 1; !in->parallel && c->rank == 0 && r < c->size; r++) {
            int e = put_scatter_to(c, x, in, r, i);
            rc = rc ? rc : e;
        }
        if (i < x->blocks.n) {
            int e = put_block(c, x, in, i);
            rc = rc ? rc : e;
        }
        rc = cli_agree(c, rc);
        if (rc)
            return rc;
        int e = pzarr_array_flush(x->ca.array);
        if (e)
            return cli_lib_fail(c, e, pzarr_array_errmsg(x->ca.array),
                                "%s: writing", x->path);
        for (int r = 0; r < c->size; r++) {
            cli_blocks b;
            xfer_blocks_of(c, x, r, &b);
            if ((r == 0 || !in->parallel) && i < b.n) {
                uint64_t s[PZARR_MAX_NDIM], k[PZARR_MAX_NDIM], off, n;
                cli_blocks_get(&b, i, s, k, &off, &n);
                cli_progress_add(p, n);
            }
        }
    }
    return CLI_OK;
}

static int put_run(cli *c, xfer *x, put_in *in)
{
    int rc = c->rank == 0 ? put_open_input(c, x, in) : CLI_OK;
    rc = cli_agree(c, rc);
    int parallel = in->parallel;
    cli_bcast_int(c, &parallel);
    in->parallel = parallel;
    if (!rc && c->rank != 0 && in->parallel) {
        in->fd = open(in->name, O_RDONLY);
        if (in->fd < 0)
            rc = cli_fail(c, "cannot read input %s: %s", in->name,
                          strerror(errno));
    }
    rc = cli_agree(c, rc);
    if (!rc) {
        uint64_t limit = 4 * c->block_bytes + ((uint64_t)256 << 20);
        int e = pzarr_array_set_write_limit(x->ca.array, limit);
        if (e)
            rc = cli_lib_fail(c, e, pzarr_array_errmsg(x->ca.array), "%s",
                              x->path);
        rc = cli_agree(c, rc);
    }
    cli_progress p;
    cli_progress_start(c, &p, "put", in->parallel ? x->slab.bytes : x->total,
                       x->progress);
    if (!rc)
        rc = put_rounds(c, x, in, &p);
    cli_progress_end(&p);
    if (in->fd > STDIN_FILENO)
        close(in->fd);
    free(in->mem);
    return rc;
}

int cli_cmd_put(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {
        {"region", 'r', true, NULL, false},
        {"input", 'i', true, NULL, false},
        {"quiet", 'q', false, NULL, false},
        {"durable", 0, false, NULL, false},
        {"progress", 0, false, NULL, false},
    };
    const char *path;
    int rc = cli_parse_args(c, argc, argv, opts, 5, &path);
    if (rc)
        return rc;
    if (!opts[1].value)
        return cli_usage(c, "missing -i FILE (or -i - for standard input)");
    xfer x;
    rc = xfer_open(c, path, PZARR_RDWR | (opts[3].seen ? PZARR_DURABLE : 0), opts[0].value,
                   progress_mode(opts[2].seen, opts[4].seen), &x);
    if (rc)
        return rc;
    if (vlen_type(x.ca.info.dtype)) {
        rc = cli_vlen_put(c, path, x.ca.array, &x.ca.info, x.start, x.count, opts[1].value);
        return xfer_close(c, &x, rc);
    }
    put_in in = {opts[1].value, false, -1, 0, NULL};
    rc = put_run(c, &x, &in);
    return xfer_close(c, &x, rc);
}
