/*
 * Collective reads and resizing.
 *
 * pzarr_array_read_all: every rank lists the chunks its box needs and puts
 * (count, address) of its request list into each owner's slot; owners fetch
 * the requests, read and decode each distinct chunk once, and put the address
 * of the decoded chunk back into each requester's list; requesters then fetch
 * the chunks they need with MPI_Get. All inside the collective call.
 */
#include "pz_array.h"

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
        tmp[2 * k] = (uint64_t)o;
        tmp[2 * k + 1] = pz_linear(c->nd, a->grid, it.cc);
        c->cnt[o]++;
        k++;
    } while (pz_chunk_iter_next(&it));
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
    if (MPI_Win_attach(a->win_data, c->req, (MPI_Aint)(total * 2 * sizeof *c->req)) !=
        MPI_SUCCESS) {
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
    for (int s = 0; s < c->size; s++)
        c->nin += a->slots[2 * s];
    if (c->nin == 0)
        return 0;
    c->in = pz_malloc(c->nin * 2 * sizeof *c->in);
    c->uniq = pz_malloc(c->nin * sizeof *c->uniq);
    if (!c->in || !c->uniq)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in read_all");
    uint64_t at = 0;
    for (int s = 0; s < c->size; s++) {
        uint64_t n = a->slots[2 * s];
        if (n && MPI_Get(c->in + 2 * at, (int)(2 * n), MPI_UINT64_T, s,
                         (MPI_Aint)a->slots[2 * s + 1], (int)(2 * n), MPI_UINT64_T,
                         a->win_data) != MPI_SUCCESS)
            return pz_err_set(e, PZARR_EMPI, "MPI_Get of requests from rank %d failed", s);
        at += n;
    }
    MPI_Win_flush_all(a->win_data);
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
    pz_buf *bufs = pz_calloc(256, sizeof *bufs);
    int rc = (!c->arena || !c->present || !bufs)
                 ? pz_err_set(e, PZARR_ENOMEM, "out of memory in read_all")
                 : 0;
    for (size_t i = 0; rc == 0 && i < c->nuniq; i += 256) {
        size_t n = c->nuniq - i < 256 ? c->nuniq - i : 256;
        rc = pz_array_fetch_units(a, n, c->uniq + i, bufs, c->present + i, e);
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
    if (rc == 0 && MPI_Win_attach(a->win_data, c->arena, (MPI_Aint)bytes) != MPI_SUCCESS)
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
        uint64_t n = a->slots[2 * s];
        for (uint64_t i = 0; i < n; i++, at++) {
            uint64_t *q = &c->in[2 * at];
            uint64_t v = RA_FAILED;
            if (ok && c->arena) {
                uint64_t *hit = bsearch(&q[0], c->uniq, c->nuniq, sizeof *c->uniq, cmp_u64);
                size_t k = (size_t)(hit - c->uniq);
                MPI_Aint addr;
                MPI_Get_address(c->arena + k * a->chunk_bytes, &addr);
                v = c->present[k] ? (uint64_t)addr : RA_ABSENT;
            }
            q[1] = v;
            MPI_Put(&q[1], 1, MPI_UINT64_T, s,
                    (MPI_Aint)(a->slots[2 * s + 1] + (2 * i + 1) * sizeof(uint64_t)), 1,
                    MPI_UINT64_T, a->win_data);
        }
    }
    MPI_Win_flush_all(a->win_data);
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
    MPI_Win_sync(a->win_data);
    while (rc == 0) {
        int o = pz_owner_of(&a->om, it.cc);
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
                if (MPI_Get(scratch, (int)a->chunk_bytes, MPI_BYTE, o, (MPI_Aint)addr,
                            (int)a->chunk_bytes, MPI_BYTE, a->win_data) != MPI_SUCCESS)
                    rc = pz_err_set(e, PZARR_EMPI, "MPI_Get of a chunk from rank %d failed", o);
                MPI_Win_flush(o, a->win_data);
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

static void ra_free(ra_ctx *c)
{
    pzarr_array *a = c->a;
    if (c->req)
        MPI_Win_detach(a->win_data, c->req);
    if (c->arena)
        MPI_Win_detach(a->win_data, c->arena);
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
    if (!a)
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    ra_ctx c = {.a = a, .rank = a->s->rank, .size = a->s->size, .nd = a->m.ndim};
    bool box_ok = pz_array_check_box(a, start, count, "read_all", &e) == 0;
    if (box_ok)
        build_requests(&c, start, count, &e);
    pz_array_publish(a, c.cnt, c.off, c.req, 2 * sizeof(uint64_t), e.code == 0 && c.req);
    MPI_Win_lock_all(0, a->win_data);
    pz_err owner_err;
    pz_err_clear(&owner_err);
    gather_requests(&c, &owner_err);
    /* Everybody has its requests before anybody reads or decodes. */
    MPI_Barrier(a->s->comm);
    if (owner_err.code == 0)
        load_chunks(&c, &owner_err);
    reply(&c, owner_err.code == 0);
    MPI_Barrier(a->s->comm);
    if (e.code == 0 && box_ok)
        assemble(&c, start, count, buf, &e);
    MPI_Win_unlock_all(a->win_data);
    if (e.code == 0 && owner_err.code)
        e = owner_err;
    /* Also the barrier after which no rank reads another's memory. */
    pz_agree(a->s->comm, &e);
    ra_free(&c);
    if (e.code == 0 && box_ok)
        pz_log_overlay(a, start, count, buf);
    a->err = e;
    return e.code;
}

/* ------------------------------------------------------------ resize */

/* Owner: the chunk at cc keeps its in-bounds part; the rest becomes fill, so
 * that growing again later never brings back old values. */
static int trim_chunk(pzarr_array *a, const uint64_t *cc, unsigned char *chunk, pz_buf *enc,
                      pz_err *e)
{
    char key[256], *path = NULL;
    PZ_TRY(pz_array_chunk_path(a, cc, key, sizeof key, &path, e));
    pz_buf raw = {0};
    bool present = false;
    const char *p = path;
    int rc = pz_io_read_batch(1, &p, a->s->chunk_info, &raw, &present, &a->s->stats, e);
    if (rc == 0 && present)
        rc = pz_array_decode(a, key, &raw, chunk, e);
    if (rc == 0 && present) {
        uint64_t ext[PZ_MAX_NDIM], zero[PZ_MAX_NDIM] = {0};
        pz_array_chunk_extent(a, cc, ext);
        /* Keep the in-bounds box, fill everything else. */
        unsigned char *keep = pz_malloc(a->chunk_bytes);
        if (!keep)
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
        else {
            pz_copy_box(a->m.ndim, a->m.itemsize, ext, chunk, a->unit, zero, keep, ext,
                        zero);
            pz_fill_box(a->m.ndim, a->m.itemsize, a->unit, chunk, a->unit, zero,
                        a->m.fill);
            pz_copy_box(a->m.ndim, a->m.itemsize, ext, keep, ext, zero, chunk, a->unit,
                        zero);
            pz_free(keep);
            rc = pz_array_store_chunk(a, cc, chunk, enc, e);
        }
    }
    pz_buf_free(&raw);
    pz_free(path);
    return rc;
}

/* Owner work of a resize, under the old owner map and the new shape. */
static int resize_chunks(pzarr_array *a, const uint64_t *old_shape, const uint64_t *old_grid,
                         pz_err *e)
{
    int nd = a->m.ndim;
    uint64_t total;
    if (!pz_prod(nd, old_grid, &total))
        return pz_err_set(e, PZARR_EINVAL, "chunk grid too large");
    unsigned char *chunk = pz_malloc(a->chunk_bytes);
    pz_buf enc = {0};
    int rc = chunk ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_owner_map old_om = a->om;
    for (uint64_t i = 0; rc == 0 && i < total; i++) {
        uint64_t cc[PZ_MAX_NDIM], first[PZ_MAX_NDIM];
        pz_unlinear(nd, old_grid, i, cc);
        for (int d = 0; d < nd; d++)
            first[d] = cc[d] * a->per[d];
        if (pz_owner_of(&old_om, first) != a->s->rank)
            continue;
        bool outside = false, trimmed = false;
        for (int d = 0; d < nd; d++) {
            uint64_t c0 = cc[d] * a->m.chunks[d];
            outside |= c0 >= a->m.shape[d];
            trimmed |= a->m.shape[d] < old_shape[d] && c0 + a->m.chunks[d] > a->m.shape[d];
        }
        if (outside) {
            char key[256], *path = NULL;
            bool removed;
            rc = pz_array_chunk_path(a, cc, key, sizeof key, &path, e);
            if (rc == 0)
                rc = pz_io_remove(path, &removed, e);
            a->s->stats.chunk_deletes += rc == 0 && removed;
            pz_free(path);
        } else if (trimmed && !a->m.shard.on) {
            rc = trim_chunk(a, cc, chunk, &enc, e);
        }
    }
    pz_free(chunk);
    pz_buf_free(&enc);
    return rc;
}

/* Rank 0: attributes may have changed on disk since the array was opened
 * (pzarr_attrs_set); the new document keeps the stored ones. */
static int refresh_attrs(pzarr_array *a, pz_err *e)
{
    pz_node_docs nd = {0};
    pz_meta cur;
    memset(&cur, 0, sizeof cur);
    int rc = pz_node_probe(a->s, a->dir, &nd);
    if (rc)
        *e = a->s->err;
    else if (nd.kind != PZARR_NODE_ARRAY)
        rc = pz_err_set(e, PZARR_ENOENT, "array \"%s\" vanished during resize", a->name);
    else
        rc = pz_meta_parse_format(nd.format, (const char *)nd.doc.data, nd.doc.size,
                                  nd.attrs.size ? (const char *)nd.attrs.data : NULL,
                                  nd.attrs.size, &cur, e);
    if (rc == 0) {
        cJSON_Delete(a->m.attributes);
        a->m.attributes = cur.attributes;
        cur.attributes = NULL;
    }
    pz_meta_free(&cur);
    pz_node_docs_free(&nd);
    return rc;
}

int pzarr_array_resize(pzarr_array *a, const uint64_t *new_shape)
{
    if (!a)
        return PZARR_EINVAL;
    int rc = pzarr_array_flush(a);
    if (rc)
        return rc;
    pz_err e;
    pz_err_clear(&e);
    int nd = a->m.ndim;
    uint64_t old_shape[PZ_MAX_NDIM], old_grid[PZ_MAX_NDIM];
    memcpy(old_shape, a->m.shape, sizeof old_shape);
    memcpy(old_grid, a->sgrid, sizeof old_grid);
    if (!(a->s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", a->s->root);
    else if (nd > 0 && !new_shape)
        pz_err_set(&e, PZARR_EINVAL, "resize: new shape is NULL");
    pz_meta nm;
    memset(&nm, 0, sizeof nm);
    if (e.code == 0 && pz_meta_copy(&a->m, &nm) != 0)
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    if (e.code == 0) {
        for (int d = 0; d < nd; d++)
            nm.shape[d] = new_shape[d];
        /* Validate the new shape the way a stored document would be. */
        char *doc = pz_meta_emit(&nm);
        pz_meta check;
        memset(&check, 0, sizeof check);
        if (!doc)
            pz_err_set(&e, PZARR_ENOMEM, "out of memory");
        else if (pz_meta_parse_format(nm.zarr_format, doc, strlen(doc), NULL, 0, &check, &e))
            e.code = e.code ? e.code : PZARR_EINVAL;
        pz_meta_free(&check);
        pz_free(doc);
    }
    if (e.code == 0) {
        memcpy(a->m.shape, nm.shape, sizeof nm.shape);
        resize_chunks(a, old_shape, old_grid, &e);
    }
    pz_meta_free(&nm);
    /* Data first; the document that describes it last, by rank 0. */
    pz_agree(a->s->comm, &e);
    if (e.code == 0 && a->s->rank == 0 && refresh_attrs(a, &e) == 0)
        pz_array_write_meta(a, &e);
    pz_bcast_bufs(a->s->comm, 0, NULL, &e);
    if (e.code)
        memcpy(a->m.shape, old_shape, sizeof old_shape);
    pz_err de;
    pz_err_clear(&de);
    pz_array_derive(a, &de);
    if (e.code == 0 && de.code)
        e = de;
    a->err = e;
    return e.code;
}
