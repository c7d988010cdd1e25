/*
 * pzarr_array_read_all, the collective read. A rank reads the units of its
 * box that it owns itself, straight into its buffer (the local read path:
 * no exchange, no copy through the window). For the others, it puts
 * (count, address) of its request list into each owner's slot; owners fetch
 * the requests, read and decode each distinct unit once, and put the
 * address of the decoded unit back into each requester's list; requesters
 * then fetch the units they need with MPI_Get. All inside the collective
 * call. A read with the decomposition of the write (each rank its own
 * units) moves nothing between ranks.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#define RA_ABSENT 0u  /* reply: chunk not stored, use the fill value */
#define RA_FAILED 1u  /* reply: the owner could not read it (it reports why) */

typedef struct ra_ctx {
    pzarr_array *a;
    int rank, size, nd;
    uint64_t *req;       /* my requests: per owner, pairs {chunk, reply} */
    uint64_t *cnt, *off; /* per owner */
    uint64_t *in;        /* requests fetched from every source: pairs */
    uint64_t nin;
    uint64_t *uniq;      /* distinct chunks I own that were asked for */
    size_t nuniq;
    unsigned char *arena; /* their decoded bytes */
    bool *present;
} ra_ctx;

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* My request lists, grouped by owner, attached to the data window. */
static int build_requests(ra_ctx *c, const uint64_t *start, const uint64_t *count,
                          pz_err *e)
{
    pzarr_array *a = c->a;
    c->cnt = pz_calloc((size_t)c->size, sizeof *c->cnt);
    c->off = pz_calloc((size_t)c->size, sizeof *c->off);
    if (!c->cnt || !c->off)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in read_all");
    pz_chunk_iter it;
    if (!pz_chunk_iter_init(&it, c->nd, a->unit, start, count))
        return 0;
    uint64_t total = pz_chunk_iter_total(&it);
    uint64_t *tmp = pz_malloc(total * 2 * sizeof *tmp);
    c->req = pz_malloc(total * 2 * sizeof *c->req);
    if (!tmp || !c->req) {
        pz_free(tmp);
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for %llu chunk requests",
                          (unsigned long long)total);
    }
    uint64_t k = 0;
    do {
        int o = pz_owner_of(&a->om, it.cc);
        if (o == c->rank)
            continue; /* read here, by the local path */
        tmp[2 * k] = (uint64_t)o;
        tmp[2 * k + 1] = pz_linear(c->nd, a->grid, it.cc);
        c->cnt[o]++;
        k++;
    } while (pz_chunk_iter_next(&it));
    total = k;
    for (int o = 1; o < c->size; o++)
        c->off[o] = c->off[o - 1] + c->cnt[o - 1];
    uint64_t *fill = pz_calloc((size_t)c->size, sizeof *fill);
    if (!fill) {
        pz_free(tmp);
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in read_all");
    }
    for (uint64_t i = 0; i < total; i++) {
        int o = (int)tmp[2 * i];
        uint64_t at = c->off[o] + fill[o]++;
        c->req[2 * at] = tmp[2 * i + 1];
        c->req[2 * at + 1] = RA_FAILED;
    }
    pz_free(fill);
    pz_free(tmp);
    if (total == 0) { /* every unit is this rank's own */
        pz_free(c->req);
        c->req = NULL;
        return 0;
    }
    if (pz_xchg_attach(&a->x, c->req, total * 2 * sizeof *c->req) != 0) {
        pz_free(c->req);
        c->req = NULL;
        return pz_err_set(e, PZARR_EMPI, "MPI_Win_attach failed in read_all");
    }
    return 0;
}


/* Owner: fetch every request for my chunks and list the distinct ones. */
static int gather_requests(ra_ctx *c, pz_err *e)
{
    pzarr_array *a = c->a;
    c->nin = pz_xchg_total(&a->x);
    if (c->nin == 0)
        return 0;
    c->in = pz_malloc(c->nin * 2 * sizeof *c->in);
    c->uniq = pz_malloc(c->nin * sizeof *c->uniq);
    if (!c->in || !c->uniq)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in read_all");
    uint64_t at = 0;
    for (int s = 0; s < c->size; s++) {
        uint64_t n = pz_xchg_count(&a->x, s);
        if (n && pz_xchg_get(&a->x, c->in + 2 * at, 2 * n * sizeof *c->in, s,
                             pz_xchg_addr(&a->x, s)) != 0)
            return pz_err_set(e, PZARR_EMPI, "MPI_Get of requests from rank %d failed", s);
        at += n;
    }
    pz_xchg_flush(&a->x);
    uint64_t nch = a->nunits;
    for (uint64_t i = 0; i < c->nin; i++) {
        if (c->in[2 * i] >= nch)
            return pz_err_set(e, PZARR_EMPI, "read_all received a malformed request");
        c->uniq[i] = c->in[2 * i];
    }
    qsort(c->uniq, c->nin, sizeof *c->uniq, cmp_u64);
    for (uint64_t i = 0; i < c->nin; i++)
        if (i == 0 || c->uniq[i] != c->uniq[c->nuniq - 1])
            c->uniq[c->nuniq++] = c->uniq[i];
    return 0;
}

/* Owner: read and decode each distinct chunk once, in batches. */
static int load_chunks(ra_ctx *c, pz_err *e)
{
    pzarr_array *a = c->a;
    if (c->nuniq == 0)
        return 0;
    uint64_t bytes;
    if (!pz_mul_u64(c->nuniq, a->chunk_bytes, &bytes) || bytes > SIZE_MAX)
        return pz_err_set(e, PZARR_ENOMEM, "read_all: too many chunks requested");
    c->arena = pz_malloc((size_t)bytes);
    c->present = pz_calloc(c->nuniq, sizeof *c->present);
    pz_buf *bufs = pz_calloc(PZ_READ_BATCH, sizeof *bufs);
    int rc = (!c->arena || !c->present || !bufs)
                 ? pz_err_set(e, PZARR_ENOMEM, "out of memory in read_all")
                 : 0;
    for (size_t i = 0; rc == 0 && i < c->nuniq; i += PZ_READ_BATCH) {
        size_t n = c->nuniq - i < PZ_READ_BATCH ? c->nuniq - i : PZ_READ_BATCH;
        rc = pz_array_fetch_units(a, n, c->uniq + i, bufs, c->present + i, false, e);
        for (size_t k = 0; rc == 0 && k < n; k++) {
            if (!c->present[i + k])
                continue;
            char name[300];
            uint64_t cc[PZ_MAX_NDIM];
            pz_unlinear(c->nd, a->grid, c->uniq[i + k], cc);
            pz_array_unit_name(a, cc, name, sizeof name);
            rc = pz_array_decode(a, name, &bufs[k], c->arena + (i + k) * a->chunk_bytes, e);
        }
        for (size_t k = 0; k < n; k++)
            pz_buf_free(&bufs[k]);
    }
    pz_free(bufs);
    if (rc == 0 && pz_xchg_attach(&a->x, c->arena, (size_t)bytes) != 0)
        rc = pz_err_set(e, PZARR_EMPI, "MPI_Win_attach failed in read_all");
    if (rc) {
        pz_free(c->arena);
        c->arena = NULL;
    }
    return rc;
}

/* Owner: tell every requester where each chunk lies (or that it is absent). */
static void reply(ra_ctx *c, bool ok)
{
    pzarr_array *a = c->a;
    uint64_t at = 0;
    for (int s = 0; c->in && s < c->size; s++) {
        uint64_t n = pz_xchg_count(&a->x, s);
        for (uint64_t i = 0; i < n; i++, at++) {
            uint64_t *q = &c->in[2 * at];
            uint64_t v = RA_FAILED;
            if (ok && c->arena) {
                uint64_t *hit = bsearch(&q[0], c->uniq, c->nuniq, sizeof *c->uniq, cmp_u64);
                size_t k = (size_t)(hit - c->uniq);
                v = c->present[k] ? pz_xchg_address(c->arena + k * a->chunk_bytes) : RA_ABSENT;
            }
            q[1] = v;
            pz_xchg_put_u64(&a->x, &q[1], s,
                            pz_xchg_addr(&a->x, s) + (2 * i + 1) * sizeof(uint64_t));
        }
    }
    pz_xchg_flush(&a->x);
}

/* One of my own units: read by the local path, unless others asked for it
 * too; then it was loaded once into the arena, and is copied from there. */
static void own_unit(const ra_ctx *c, const pz_chunk_iter *it, const uint64_t *count, void *buf)
{
    pzarr_array *a = c->a;
    uint64_t u = pz_linear(c->nd, a->grid, it->cc);
    const uint64_t *hit = c->nuniq ? bsearch(&u, c->uniq, c->nuniq, sizeof *c->uniq, cmp_u64)
                                   : NULL;
    if (!hit || pz_stage_find(a, u))
        return;
    size_t k = (size_t)(hit - c->uniq);
    if (!c->arena || !c->present[k])
        pz_fill_box(c->nd, a->m.itemsize, it->n, buf, count, it->bstart, a->m.fill);
    else
        pz_copy_box(c->nd, a->m.itemsize, it->n, c->arena + k * a->chunk_bytes, a->unit,
                    it->cstart, buf, count, it->bstart);
}

/* Requester: fetch each needed chunk and copy my part of it. */
static int assemble(ra_ctx *c, const uint64_t *start, const uint64_t *count, void *buf,
                    pz_err *e)
{
    pzarr_array *a = c->a;
    pz_chunk_iter it;
    if (!pz_chunk_iter_init(&it, c->nd, a->unit, start, count))
        return 0;
    unsigned char *scratch = pz_malloc(a->chunk_bytes);
    uint64_t *seen = pz_calloc((size_t)c->size, sizeof *seen);
    int rc = (!scratch || !seen) ? pz_err_set(e, PZARR_ENOMEM, "out of memory") : 0;
    pz_xchg_sync(&a->x);
    while (rc == 0) {
        int o = pz_owner_of(&a->om, it.cc);
        if (o == c->rank) {
            own_unit(c, &it, count, buf);
            if (!pz_chunk_iter_next(&it))
                break;
            continue;
        }
        uint64_t chunk = pz_linear(c->nd, a->grid, it.cc);
        /* Requests to o were built in iteration order: find this one. */
        uint64_t *r = c->req + 2 * (c->off[o] + seen[o]++);
        uint64_t addr = r[0] == chunk ? r[1] : RA_FAILED;
        if (addr == RA_ABSENT || addr == RA_FAILED) {
            pz_fill_box(c->nd, a->m.itemsize, it.n, buf, count, it.bstart, a->m.fill);
        } else {
            const unsigned char *src = scratch;
            if (o == c->rank) {
                src = (const unsigned char *)(uintptr_t)addr;
            } else {
                if (pz_xchg_get(&a->x, scratch, a->chunk_bytes, o, addr) != 0)
                    rc = pz_err_set(e, PZARR_EMPI, "MPI_Get of a chunk from rank %d failed", o);
                pz_xchg_flush_one(&a->x, o);
            }
            pz_copy_box(c->nd, a->m.itemsize, it.n, src, a->unit, it.cstart, buf, count,
                        it.bstart);
        }
        if (!pz_chunk_iter_next(&it))
            break;
    }
    pz_free(scratch);
    pz_free(seen);
    return rc;
}

/* A unit this rank owns and no other rank asked for, or one it staged
 * (which others read as stored, and this rank as staged). */
static bool mine_alone(void *ctx, const pzarr_array *a, const uint64_t *ucc)
{
    const ra_ctx *c = ctx;
    if (pz_owner_of(&a->om, ucc) != c->rank)
        return false;
    uint64_t u = pz_linear(c->nd, a->grid, ucc);
    return !c->nuniq || !bsearch(&u, c->uniq, c->nuniq, sizeof *c->uniq, cmp_u64) ||
           pz_stage_find(a, u);
}

static void ra_free(ra_ctx *c)
{
    pzarr_array *a = c->a;
    pz_xchg_detach(&a->x, c->req);
    pz_xchg_detach(&a->x, c->arena);
    pz_free(c->req);
    pz_free(c->arena);
    pz_free(c->cnt);
    pz_free(c->off);
    pz_free(c->in);
    pz_free(c->uniq);
    pz_free(c->present);
}

int pzarr_array_read_all(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                         void *buf)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    ra_ctx c = {.a = a, .rank = a->s->rank, .size = a->s->size, .nd = a->m.ndim};
    if (pz_dtype_is_vlen(a->m.dtype)) { /* the same on every rank: no collective */
        pz_err_set(&e, PZARR_EINVAL,
                   "\"%s\" holds variable-length elements: use pzarr_array_read_vlen", a->name);
        a->err = e;
        return e.code;
    }
    bool box_ok = pz_array_check_box(a, start, count, "read_all", &e) == 0;
    if (box_ok)
        build_requests(&c, start, count, &e);
    pz_xchg_publish(&a->x, c.cnt, c.off, c.req, 2 * sizeof(uint64_t), e.code == 0 && c.req);
    pz_xchg_lock_all(&a->x);
    pz_err owner_err;
    pz_err_clear(&owner_err);
    gather_requests(&c, &owner_err);
    /* Everybody has its requests before anybody reads or decodes. */
    pz_barrier(a->s->comm);
    if (owner_err.code == 0)
        load_chunks(&c, &owner_err);
    /* My own units that nobody else asked for: read straight into buf. */
    if (e.code == 0 && box_ok)
        pz_array_read_storage(a, start, count, buf, mine_alone, &c, &e);
    reply(&c, owner_err.code == 0);
    pz_barrier(a->s->comm);
    if (e.code == 0 && box_ok)
        assemble(&c, start, count, buf, &e);
    pz_xchg_unlock_all(&a->x);
    if (e.code == 0 && owner_err.code)
        e = owner_err;
    /* Also the barrier after which no rank reads another's memory. */
    pz_collective_end(a->s->comm, PZ_ANY_RANK, &e);
    ra_free(&c);
    if (e.code == 0 && box_ok) {
        pz_resize_mask(a, start, count, buf);
        pz_wbuf_overlay(a, start, count, buf);
    }
    a->err = e;
    return e.code;
}
