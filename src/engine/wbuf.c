/* The write buffer: pzarr_array_write cuts each write at unit boundaries,
 * stages the whole units this rank owns (stage.c) and copies the other
 * pieces into segments that the flush exposes to the units' owners. */
#include "engine.h"

#include <string.h>

static int grow(void **p, size_t *cap, size_t need, size_t elem);

static unsigned char *piece_data(const pz_piece *p)
{
    return (unsigned char *)(uintptr_t)p->addr;
}

void pz_wbuf_clear(pzarr_array *a)
{
    pz_wbuf *l = &a->wb;
    /* The first segment stays (attached, emptied) for the next writes: its
     * pages are already mapped. */
    for (size_t i = 1; i < l->nsegs; i++) {
        pz_xchg_detach(&a->x, l->segs[i].data);
        pz_free(l->segs[i].data);
    }
    if (l->nsegs > 0)
        l->segs[0].size = 0;
    l->nsegs = l->nsegs > 0 ? 1 : 0;
    l->npieces = 0;
    l->ncoords = 0;
    l->bytes = 0;
}

void pz_wbuf_release(pzarr_array *a, pz_wbuf *l)
{
    /* The largest segment goes back to the array when its buffer has none
     * (the next checkpoint's writes then land in pages already mapped:
     * fresh pages cost as much as the copy); the others are freed. */
    pz_wbuf *w = &a->wb;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < l->nsegs; i++)
        if (best == SIZE_MAX || l->segs[i].cap > l->segs[best].cap)
            best = i;
    if (w->nsegs == 0 && best != SIZE_MAX &&
        grow((void **)&w->segs, &w->cap_segs, 1, sizeof *w->segs) == 0) {
        w->segs[0] = l->segs[best];
        w->segs[0].size = 0;
        w->nsegs = 1;
        l->segs[best].data = NULL;
    }
    for (size_t i = 0; i < l->nsegs; i++) {
        if (!l->segs[i].data)
            continue;
        pz_xchg_detach(&a->x, l->segs[i].data);
        pz_free(l->segs[i].data);
    }
    pz_free(l->pieces);
    pz_free(l->coords);
    pz_free(l->segs);
    memset(l, 0, sizeof *l);
}

/* Releases everything (at close). */
void pz_wbuf_free(pzarr_array *a)
{
    pz_wbuf *l = &a->wb;
    pz_wbuf_clear(a);
    if (l->nsegs > 0) {
        pz_xchg_detach(&a->x, l->segs[0].data);
        pz_free(l->segs[0].data);
        l->nsegs = 0;
    }
    pz_free(l->pieces);
    pz_free(l->coords);
    pz_free(l->segs);
    memset(l, 0, sizeof *l);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    void *q = pz_realloc(*p, ncap * elem);
    if (!q)
        return PZARR_ENOMEM;
    *p = q;
    *cap = ncap;
    return 0;
}

/* Room for `need` contiguous bytes in the last segment, or a new one. */
static int wbuf_room(pzarr_array *a, uint64_t need, pz_seg **out)
{
    pz_wbuf *l = &a->wb;
    if (l->nsegs && l->segs[l->nsegs - 1].cap - l->segs[l->nsegs - 1].size >= need) {
        *out = &l->segs[l->nsegs - 1];
        return 0;
    }
    PZ_TRY(grow((void **)&l->segs, &l->cap_segs, l->nsegs + 1, sizeof *l->segs));
    size_t cap = need > PZ_SEG_BYTES ? (size_t)need : PZ_SEG_BYTES;
    unsigned char *d = pz_malloc(cap);
    if (!d)
        return PZARR_ENOMEM;
    if (pz_xchg_attach(&a->x, d, cap) != 0) {
        pz_free(d);
        return PZARR_EMPI;
    }
    pz_seg *s = &l->segs[l->nsegs++];
    s->data = d;
    s->size = 0;
    s->cap = cap;
    *out = s;
    return 0;
}

/* Space for the pieces of one write, reserved before anything is copied so
 * that a write either lands whole in the buffer or not at all. */
static int wbuf_reserve(pzarr_array *a, uint64_t npieces, uint64_t bytes, pz_seg **seg,
                       pz_err *e)
{
    pz_wbuf *l = &a->wb;
    int nd = a->m.ndim;
    if (bytes > a->write_limit || l->bytes > a->write_limit - bytes)
        return pz_err_set(e, PZARR_EBUFFULL,
                          "write of %llu bytes to \"%s\" would hold %llu unflushed bytes "
                          "on this rank, over the limit of %llu: call pzarr_array_flush "
                          "first or raise the limit",
                          (unsigned long long)bytes, a->name,
                          (unsigned long long)(l->bytes + bytes),
                          (unsigned long long)a->write_limit);
    if (grow((void **)&l->pieces, &l->cap_pieces, l->npieces + npieces, sizeof *l->pieces) ||
        grow((void **)&l->coords, &l->cap_coords, l->ncoords + npieces * 2 * (uint64_t)nd,
             sizeof *l->coords) ||
        wbuf_room(a, bytes, seg))
        return pz_err_set(e, PZARR_ENOMEM, "out of memory holding a write of %llu bytes",
                          (unsigned long long)bytes);
    return 0;
}

int pzarr_array_write(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                      const void *buf)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    int nd = a->m.ndim;
    uint64_t elems, bytes;
    if (!(a->s->flags & PZARR_RDWR)) {
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", a->s->root);
    } else if (pz_dtype_is_vlen(a->m.dtype)) {
        pz_err_set(&e, PZARR_EINVAL,
                   "\"%s\" holds variable-length elements: use pzarr_array_write_vlen", a->name);
    } else if (pz_array_check_box(a, start, count, "write", &e) == 0) {
        if (!pz_prod(nd, count, &elems) || !pz_mul_u64(elems, a->m.itemsize, &bytes))
            pz_err_set(&e, PZARR_EBOUNDS, "write region size overflows");
        else if (elems && !buf)
            pz_err_set(&e, PZARR_EINVAL, "write buffer is NULL");
    }
    if (e.code)
        goto out;
    pz_chunk_iter it;
    if (!pz_chunk_iter_init(&it, nd, a->unit, start, count))
        goto out;
    /* Pieces that are whole units of this rank are staged at once; room in
     * the buffer for the others is reserved first, so that a write lands
     * whole in the buffer or not at all. With a request in the background,
     * or under PZARR_ASYNC (when a worker has a core of its own: see
     * pz_async_copies), whole units are copied into the buffer too (the
     * next iflush encodes and writes them in the background) when it has
     * room for the whole write; with a request pending nothing is staged
     * (the workers own the files), so a full buffer fails the write. */
    bool stage = !a->req;
    if (stage && (a->s->flags & PZARR_ASYNC) && pz_async_copies(a->s) && bytes <= a->write_limit &&
        a->wb.bytes + bytes <= a->write_limit)
        stage = false;
    uint64_t nbuf = 0, bbytes = 0;
    bool all_owned = nd > 0;
    do {
        bool fits = pz_stage_fits(a, &it);
        all_owned = all_owned && fits;
        if (!stage || !fits) {
            uint64_t n;
            pz_prod(nd, it.n, &n);
            nbuf++;
            bbytes += n * a->m.itemsize;
        }
    } while (pz_chunk_iter_next(&it));
    /* Not staging a write of whole units all this rank's: one copy of the
     * caller's buffer, the pieces pointing into it (no gather into unit
     * layout on the caller's time: the workers do that). */
    bool block = !stage && all_owned && nbuf > 0;
    pz_seg *seg = NULL;
    if (nbuf > 0 && wbuf_reserve(a, nbuf, bbytes, &seg, &e))
        goto out;
    if (block && grow((void **)&a->wb.coords, &a->wb.cap_coords,
                      a->wb.ncoords + nbuf * 4 * (uint64_t)nd, sizeof *a->wb.coords)) {
        pz_err_set(&e, PZARR_ENOMEM, "out of memory holding a write");
        goto out;
    }
    pz_chunk_iter_init(&it, nd, a->unit, start, count);
    pz_wbuf *l = &a->wb;
    uint64_t zero[PZ_MAX_NDIM] = {0};
    unsigned char *blk = NULL;
    if (block) {
        blk = seg->data + seg->size;
        memcpy(blk, buf, (size_t)bytes);
        seg->size += (size_t)bytes;
        l->bytes += bytes;
    }
    do {
        if (stage && pz_stage_fits(a, &it)) {
            if (pz_stage_unit(a, &it, l->seq, buf, count, &e))
                break;
            continue;
        }
        pz_piece *p = &l->pieces[l->npieces++];
        uint64_t n;
        pz_prod(nd, it.n, &n);
        unsigned char *dst = seg->data + seg->size;
        p->chunk = pz_linear(nd, a->grid, it.cc);
        p->seq = l->seq;
        p->nbytes = n * a->m.itemsize;
        p->addr = (uint64_t)(uintptr_t)dst;
        p->box = l->ncoords;
        p->src = a->s->rank;
        p->owner = pz_owner_of(&a->om, it.cc);
        p->blk = UINT64_MAX;
        if (nd > 0) {
            memcpy(l->coords + l->ncoords, it.cstart, (size_t)nd * sizeof(uint64_t));
            memcpy(l->coords + l->ncoords + nd, it.n, (size_t)nd * sizeof(uint64_t));
        }
        l->ncoords += 2 * (size_t)nd;
        if (block) {
            p->addr = (uint64_t)(uintptr_t)blk;
            p->blk = l->ncoords;
            memcpy(l->coords + l->ncoords, count, (size_t)nd * sizeof(uint64_t));
            memcpy(l->coords + l->ncoords + nd, it.bstart, (size_t)nd * sizeof(uint64_t));
            l->ncoords += 2 * (size_t)nd;
            continue;
        }
        pz_copy_box(nd, a->m.itemsize, it.n, buf, count, it.bstart, dst, it.n, zero);
        seg->size += p->nbytes;
        l->bytes += p->nbytes;
    } while (pz_chunk_iter_next(&it));
    l->seq++;
out:
    a->err = e;
    return e.code;
}

void pz_wbuf_overlay(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                    void *buf)
{
    const pz_wbuf *l = &a->wb;
    int nd = a->m.ndim;
    for (size_t i = 0; i < l->npieces; i++) {
        const pz_piece *p = &l->pieces[i];
        const pz_stage_ent *st = pz_stage_find(a, p->chunk);
        if (st && st->seq > p->seq)
            continue; /* replaced by a later write of the whole unit */
        const uint64_t *cstart = l->coords + p->box, *n = cstart + nd;
        uint64_t cc[PZ_MAX_NDIM], lo[PZ_MAX_NDIM], cnt[PZ_MAX_NDIM];
        uint64_t src0[PZ_MAX_NDIM], dst0[PZ_MAX_NDIM];
        pz_unlinear(nd, a->grid, p->chunk, cc);
        bool hit = true;
        for (int d = 0; d < nd && hit; d++) {
            uint64_t g0 = cc[d] * a->unit[d] + cstart[d], g1 = g0 + n[d];
            uint64_t b1 = start[d] + count[d];
            lo[d] = g0 > start[d] ? g0 : start[d];
            uint64_t hi = g1 < b1 ? g1 : b1;
            hit = lo[d] < hi;
            cnt[d] = hit ? hi - lo[d] : 0;
            src0[d] = lo[d] - g0;
            dst0[d] = lo[d] - start[d];
        }
        if (hit && p->blk != UINT64_MAX) { /* inside the copy of a whole write */
            const uint64_t *bc = l->coords + p->blk, *bo = bc + nd;
            for (int d = 0; d < nd; d++)
                src0[d] += bo[d];
            pz_copy_box(nd, a->m.itemsize, cnt, piece_data(p), bc, src0, buf, count, dst0);
        } else if (hit) {
            pz_copy_box(nd, a->m.itemsize, cnt, piece_data(p), n, src0, buf, count, dst0);
        }
    }
}
