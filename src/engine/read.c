/* Local reads: storage (units fetched in batches, decoded straight from
 * the file buffer when stored as in memory) plus this rank's own unflushed
 * writes. */
#include "engine.h"

#include <string.h>

typedef struct read_job {
    uint64_t cstart[PZ_MAX_NDIM], bstart[PZ_MAX_NDIM], n[PZ_MAX_NDIM];
} read_job;

static int read_jobs(pzarr_array *a, int nj, const uint64_t *units, const read_job *jobs,
                     const uint64_t *count, void *buf, unsigned char *scratch, pz_err *e)
{
    /* The file buffers stay with the handle: reused, they cost no page
     * faults on the next read. */
    pz_buf *bufs = a->rbufs;
    bool present[PZ_READ_BATCH];
    int rc = pz_array_fetch_units(a, (size_t)nj, units, bufs, present, true, e);
    size_t is = a->m.itemsize;
    for (int i = 0; rc == 0 && i < nj; i++) {
        const read_job *j = &jobs[i];
        if (!present[i]) {
            pz_fill_box(a->m.ndim, is, j->n, buf, count, j->bstart, a->m.fill);
            continue;
        }
        char name[300];
        uint64_t ucc[PZ_MAX_NDIM];
        pz_unlinear(a->m.ndim, a->grid, units[i], ucc);
        pz_array_unit_name(a, ucc, name, sizeof name);
        const unsigned char *src = scratch;
        if (pz_array_identity(a) && bufs[i].size == a->chunk_bytes)
            src = bufs[i].data; /* stored as it is in memory: no decode copy */
        else
            rc = pz_array_decode(a, name, &bufs[i], scratch, e);
        if (rc == 0)
            pz_copy_box(a->m.ndim, is, j->n, src, a->unit, j->cstart, buf, count, j->bstart);
    }
    return rc;
}

typedef struct runs {
    pz_run *v;
    size_t n, cap;
    unsigned char *dst;
    bool nomem;
} runs;

static void add_run(void *ctx, uint64_t src_off, uint64_t dst_off, size_t len)
{
    runs *r = ctx;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        pz_run *v = pz_realloc(r->v, cap * sizeof *v);
        if (!v) {
            r->nomem = true;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = (pz_run){src_off, r->dst + dst_off, len};
}

/* Whether chunk files hold the chunk's bytes as they lie in memory, read by
 * POSIX calls: then a read goes straight into the caller's buffer. */
static bool direct_ok(const pzarr_array *a)
{
    return pz_array_identity(a) && !a->m.shard.on && a->s->chunk_info == MPI_INFO_NULL &&
           !a->pending[0] && a->st.n == 0;
}

/* One unit read straight into buf: its runs in the file land where they
 * belong in the box, with no file buffer and no copy. A file that is not
 * what the array says is read the ordinary way, which tells what is wrong. */
static int read_direct(pzarr_array *a, const pz_chunk_iter *it, const uint64_t *count,
                       void *buf, runs *rs, unsigned char *scratch, pz_err *e)
{
    char key[PZ_KEY_MAX], *path = NULL;
    PZ_TRY(pz_array_chunk_path(a, it->cc, key, sizeof key, &path, e));
    rs->n = 0;
    rs->dst = buf;
    pz_box_runs(a->m.ndim, a->m.itemsize, it->n, a->unit, it->cstart, count, it->bstart,
                add_run, rs);
    bool present = false;
    int rc = rs->nomem ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                       : pz_io_read_runs(path, rs->v, rs->n, a->chunk_bytes, &present, e);
    pz_free(path);
    PZ_STATS(a)->chunk_reads++;
    if (rc == PZARR_ECORRUPT && !e->code) {
        read_job j;
        memcpy(j.cstart, it->cstart, sizeof j.cstart);
        memcpy(j.bstart, it->bstart, sizeof j.bstart);
        memcpy(j.n, it->n, sizeof j.n);
        uint64_t u = pz_linear(a->m.ndim, a->grid, it->cc);
        return read_jobs(a, 1, &u, &j, count, buf, scratch, e);
    }
    if (rc == 0 && !present)
        pz_fill_box(a->m.ndim, a->m.itemsize, it->n, buf, count, it->bstart, a->m.fill);
    else if (rc == 0) {
        uint64_t n;
        pz_prod(a->m.ndim, it->n, &n);
        PZ_STATS(a)->bytes_read += n * a->m.itemsize;
    }
    return rc;
}

static int read_storage_direct(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                               void *buf, pz_unit_filter *keep, void *ctx, pz_err *e)
{
    pz_chunk_iter it;
    if (!pz_chunk_iter_init(&it, a->m.ndim, a->unit, start, count))
        return 0;
    runs rs = {0};
    unsigned char *scratch = pz_malloc(a->chunk_bytes);
    int rc = scratch ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    do {
        if (rc == 0 && (!keep || keep(ctx, a, it.cc)))
            rc = read_direct(a, &it, count, buf, &rs, scratch, e);
    } while (rc == 0 && pz_chunk_iter_next(&it));
    pz_free(rs.v);
    pz_free(scratch);
    return rc;
}

/* Reads storage only (no pending writes) into buf; the chunks (or inner
 * chunks) of each batch are fetched together. */
static void count_run(void *ctx, uint64_t src_off, uint64_t dst_off, size_t len)
{
    (void)src_off;
    (void)dst_off;
    (void)len;
    ++*(uint64_t *)ctx;
}

/* Reading straight into the caller's buffer pays when a unit lands in a few
 * long runs; for many short ones (a 32^3 chunk in a wider block: 1024 runs
 * of 256 bytes) one pread into a reused buffer and a copy is faster here
 * (measured: 0.3 against 0.5-0.6 of raw MPI-IO at 1 rank). */
static bool few_runs(const pzarr_array *a, const uint64_t *start, const uint64_t *count)
{
    pz_chunk_iter it;
    if (!pz_chunk_iter_init(&it, a->m.ndim, a->unit, start, count))
        return false;
    uint64_t n = 0;
    pz_box_runs(a->m.ndim, a->m.itemsize, it.n, a->unit, it.cstart, count, it.bstart,
                count_run, &n);
    return n <= 4;
}

int pz_array_read_storage(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                          void *buf, pz_unit_filter *keep, void *ctx, pz_err *e)
{
    if (direct_ok(a) && few_runs(a, start, count))
        return read_storage_direct(a, start, count, buf, keep, ctx, e);
    pz_chunk_iter it;
    if (!pz_chunk_iter_init(&it, a->m.ndim, a->unit, start, count))
        return 0;
    read_job *jobs = pz_calloc(PZ_READ_BATCH, sizeof *jobs);
    uint64_t units[PZ_READ_BATCH];
    unsigned char *scratch = pz_malloc(a->chunk_bytes);
    int rc = (!jobs || !scratch) ? pz_err_set(e, PZARR_ENOMEM, "out of memory") : 0;
    /* Batches of at most 8 MiB of chunks: fewer buffers in flight, reused
     * from one batch to the next, cost fewer page faults. */
    if (a->memfs < 0)
        a->memfs = pz_io_in_memory(a->dir);
    size_t per = a->memfs ? PZ_READ_BATCH_BYTES_MEM : PZ_READ_BATCH_BYTES;
    int batch = a->chunk_bytes >= per ? 1 : (int)(per / a->chunk_bytes);
    if (batch > PZ_READ_BATCH)
        batch = PZ_READ_BATCH;
    int nj = 0;
    bool more = rc == 0;
    while (more && rc == 0) {
        if (keep && !keep(ctx, a, it.cc)) {
            more = pz_chunk_iter_next(&it);
            if (!more && nj > 0)
                rc = read_jobs(a, nj, units, jobs, count, buf, scratch, e);
            continue;
        }
        read_job *j = &jobs[nj];
        memcpy(j->cstart, it.cstart, sizeof j->cstart);
        memcpy(j->bstart, it.bstart, sizeof j->bstart);
        memcpy(j->n, it.n, sizeof j->n);
        units[nj++] = pz_linear(a->m.ndim, a->grid, it.cc);
        more = pz_chunk_iter_next(&it);
        if (nj == batch || !more) {
            rc = read_jobs(a, nj, units, jobs, count, buf, scratch, e);
            nj = 0;
        }
    }
    pz_free(jobs);
    pz_free(scratch);
    return rc;
}

int pzarr_array_read(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                     void *buf)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    if (pz_dtype_is_vlen(a->m.dtype))
        pz_err_set(&e, PZARR_EINVAL,
                   "\"%s\" holds variable-length elements: use pzarr_array_read_vlen", a->name);
    else if (pz_array_check_box(a, start, count, "read", &e) == 0 &&
        pz_array_read_storage(a, start, count, buf, NULL, NULL, &e) == 0) {
        pz_resize_mask(a, start, count, buf);
        pz_wbuf_overlay(a, start, count, buf);
    }
    a->err = e;
    return e.code;
}
