/*
 * Variable-length arrays (strings, bytes).
 *
 * Their elements have no fixed size, so they cannot ride the one-sided
 * exchange of the fixed-size path, which places element bytes at computed
 * addresses. Instead:
 *   - a write is copied into a piece (box + elements in vlen layout without
 *     the count) kept on the writing rank;
 *   - the flush sends every piece to the owners of the chunks it touches in
 *     one MPI_Alltoallv inside the collective call; each owner merges the
 *     pieces, in (rank, write) order, over the stored chunk (or the fill) and
 *     stages it in the flush's commit, like any other chunk;
 *   - a read decodes the chunks it touches and lays out the box's elements,
 *     this rank's unflushed pieces over them.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

/* An element: its bytes somewhere (a decoded chunk, a piece, the fill). */
typedef struct vel {
    const unsigned char *p;
    uint32_t n;
} vel;

static uint32_t u32_at(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int not_vlen(pzarr_array *a, pz_err *e, const char *what)
{
    return pz_err_set(e, PZARR_EINVAL,
                      "\"%s\" holds %s elements of a fixed size: use pzarr_array_%s", a->name,
                      pzarr_dtype_name(a->m.dtype) ? pzarr_dtype_name(a->m.dtype) : "?", what);
}

/* Element k of a piece (indexed once). */
static void piece_index(const pz_vpiece *p, vel *out)
{
    size_t at = 0;
    for (uint64_t k = 0; k < p->n; k++) {
        uint32_t l = u32_at(p->data + at);
        out[k] = (vel){p->data + at + 4, l};
        at += 4 + (size_t)l;
    }
}

/* Walks the elements of the intersection of box (bs, bn) with the region
 * (rs, rn), both in array coordinates: calls f with the linear index inside
 * the box and inside the region. */
typedef void (*walk_fn)(void *ctx, uint64_t in_box, uint64_t in_region);

static bool intersect(int nd, const uint64_t *bs, const uint64_t *bn, const uint64_t *rs,
                      const uint64_t *rn, uint64_t *lo, uint64_t *n)
{
    for (int d = 0; d < nd; d++) {
        uint64_t a = bs[d] > rs[d] ? bs[d] : rs[d];
        uint64_t b0 = bs[d] + bn[d], b1 = rs[d] + rn[d];
        uint64_t b = b0 < b1 ? b0 : b1;
        if (b <= a)
            return false;
        lo[d] = a;
        n[d] = b - a;
    }
    return true;
}

static void walk(int nd, const uint64_t *bs, const uint64_t *bn, const uint64_t *rs,
                 const uint64_t *rn, walk_fn f, void *ctx)
{
    uint64_t lo[PZ_MAX_NDIM], n[PZ_MAX_NDIM], i[PZ_MAX_NDIM] = {0};
    if (!intersect(nd, bs, bn, rs, rn, lo, n))
        return;
    uint64_t total = 1;
    for (int d = 0; d < nd; d++)
        total *= n[d];
    for (uint64_t k = 0; k < total; k++) {
        uint64_t ib = 0, ir = 0;
        for (int d = 0; d < nd; d++) {
            ib = ib * bn[d] + (lo[d] + i[d] - bs[d]);
            ir = ir * rn[d] + (lo[d] + i[d] - rs[d]);
        }
        f(ctx, ib, ir);
        for (int d = nd - 1; d >= 0; d--) {
            if (++i[d] < n[d])
                break;
            i[d] = 0;
        }
    }
}

/* ------------------------------------------------------------ writes */

void pz_vlen_clear(pzarr_array *a)
{
    for (size_t i = 0; i < a->vw.n; i++)
        pz_free(a->vw.v[i].data);
    pz_free(a->vw.v);
    memset(&a->vw, 0, sizeof a->vw);
}

static int check_elements(pzarr_array *a, uint64_t n, const uint64_t *off, const void *data,
                          uint64_t *bytes, pz_err *e)
{
    if (n && (!off || (!data && off[n] != off[0])))
        return pz_err_set(e, PZARR_EINVAL, "write to \"%s\": offsets or data is NULL", a->name);
    for (uint64_t i = 0; i < n; i++) {
        if (off[i + 1] < off[i])
            return pz_err_set(e, PZARR_EINVAL,
                              "write to \"%s\": offsets[%llu] is below offsets[%llu]", a->name,
                              (unsigned long long)i + 1, (unsigned long long)i);
        uint64_t l = off[i + 1] - off[i];
        if (l > UINT32_MAX)
            return pz_err_set(e, PZARR_EINVAL,
                              "write to \"%s\": element %llu has %llu bytes (at most 4 GiB - 1)",
                              a->name, (unsigned long long)i, (unsigned long long)l);
        if (a->m.dtype == PZARR_VLEN_STRING &&
            !pz_utf8_valid((const unsigned char *)data + off[i], (size_t)l))
            return pz_err_set(e, PZARR_EINVAL, "write to \"%s\": element %llu is not UTF-8",
                              a->name, (unsigned long long)i);
    }
    *bytes = n ? off[n] - off[0] + 4 * n : 0;
    return 0;
}

int pzarr_array_write_vlen(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                           const uint64_t *offsets, const void *data)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    int nd = a->m.ndim;
    uint64_t n = 0, bytes = 0;
    if (!pz_dtype_is_vlen(a->m.dtype))
        not_vlen(a, &e, "write");
    else if (!(a->s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", a->s->root);
    else if (a->m.shard.on)
        pz_err_set(&e, PZARR_EUNSUPPORTED,
                   "\"%s\": writing a sharded variable-length array is not supported "
                   "(copy it without --shards)",
                   a->name);
    else if (pz_array_check_box(a, start, count, "write", &e) == 0 && !pz_prod(nd, count, &n))
        pz_err_set(&e, PZARR_EBOUNDS, "write region size overflows");
    if (e.code == 0 && n)
        check_elements(a, n, offsets, data, &bytes, &e);
    uint64_t limit = a->write_limit;
    if (e.code == 0 && n && a->vw.bytes + bytes > limit)
        pz_err_set(&e, PZARR_EBUFFULL,
                   "write of %llu bytes to \"%s\" exceeds the write limit of %llu bytes "
                   "(flush first)",
                   (unsigned long long)bytes, a->name, (unsigned long long)limit);
    if (e.code || n == 0) {
        a->err = e;
        return e.code;
    }
    if (a->vw.n == a->vw.cap) {
        size_t cap = a->vw.cap ? 2 * a->vw.cap : 16;
        pz_vpiece *v = pz_realloc(a->vw.v, cap * sizeof *v);
        if (!v) {
            pz_err_set(&e, PZARR_ENOMEM, "out of memory holding a write");
            a->err = e;
            return e.code;
        }
        a->vw.v = v;
        a->vw.cap = cap;
    }
    pz_vpiece *p = &a->vw.v[a->vw.n];
    memset(p, 0, sizeof *p);
    if (!(p->data = pz_malloc((size_t)bytes))) {
        pz_err_set(&e, PZARR_ENOMEM, "out of memory holding a write of %llu bytes",
                   (unsigned long long)bytes);
        a->err = e;
        return e.code;
    }
    size_t at = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t l = (uint32_t)(offsets[i + 1] - offsets[i]);
        pz_vlen_put_u32(p->data + at, l);
        if (l)
            memcpy(p->data + at + 4, (const unsigned char *)data + offsets[i], l);
        at += 4 + (size_t)l;
    }
    for (int d = 0; d < nd; d++) {
        p->start[d] = start[d];
        p->count[d] = count[d];
    }
    p->n = n;
    p->size = (size_t)bytes;
    p->seq = a->vw.seq++;
    a->vw.n++;
    a->vw.bytes += bytes;
    a->err = e;
    return 0;
}

/* ------------------------------------------------------------ reads */

typedef struct vread {
    vel *out;        /* the box's elements */
    const vel *from; /* the region's elements */
} vread;

static void take(void *ctx, uint64_t in_box, uint64_t in_region)
{
    vread *r = ctx;
    r->out[in_box] = r->from[in_region];
}

/* One decoded unit: els gets its chunk_elems elements (pointing into dec). */
static int unit_elements(pzarr_array *a, uint64_t unit, const pz_buf *raw, bool present,
                         pz_buf *dec, uint64_t *pos, uint32_t *len, vel *els, pz_err *e)
{
    size_t fl;
    const unsigned char *fp = pz_fill_vlen(a->m.fill, &fl);
    if (a->m.fill_null)
        fl = 0;
    if (!present) {
        for (uint64_t k = 0; k < a->chunk_elems; k++)
            els[k] = (vel){fp, (uint32_t)fl};
        return 0;
    }
    pz_err inner;
    pz_err_clear(&inner);
    int rc = pz_vlen_decode(&a->m.pipeline, a->m.dtype, a->chunk_elems, raw->data, raw->size,
                            dec, &inner);
    if (rc == 0)
        rc = pz_vlen_index(a->m.dtype, dec->data, dec->size, a->chunk_elems, pos, len, &inner);
    if (rc) {
        char name[300];
        uint64_t ucc[PZ_MAX_NDIM];
        pz_unlinear(a->m.ndim, a->grid, unit, ucc);
        pz_array_unit_name(a, ucc, name, sizeof name);
        return pz_err_set(e, rc, "\"%s\" chunk %s: %.900s", a->name, name, inner.msg);
    }
    for (uint64_t k = 0; k < a->chunk_elems; k++)
        els[k] = (vel){dec->data + pos[k], len[k]};
    return 0;
}

static void unit_box(const pzarr_array *a, uint64_t unit, uint64_t *us)
{
    pz_unlinear(a->m.ndim, a->grid, unit, us);
    for (int d = 0; d < a->m.ndim; d++)
        us[d] *= a->unit[d];
}

/* The pieces' elements over the box's (seq order: the order of the writes). */
static int overlay_pieces(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                          vel *out, pz_err *e)
{
    vel *els = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < a->vw.n; i++) {
        const pz_vpiece *p = &a->vw.v[i];
        if (p->n > cap) {
            pz_free(els);
            if (!(els = pz_malloc((size_t)p->n * sizeof *els)))
                return pz_err_set(e, PZARR_ENOMEM, "out of memory reading \"%s\"", a->name);
            cap = (size_t)p->n;
        }
        piece_index(p, els);
        vread r = {out, els};
        walk(a->m.ndim, start, count, p->start, p->count, take, &r);
    }
    pz_free(els);
    return 0;
}

/* The box's elements laid out as offsets + bytes, newly allocated. */
static int gather_out(pzarr_array *a, uint64_t n, const vel *els, uint64_t **offsets,
                      void **data, pz_err *e)
{
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; i++)
        total += els[i].n;
    uint64_t *off = pz_malloc((size_t)(n + 1) * sizeof *off);
    unsigned char *d = pz_malloc(total ? (size_t)total : 1);
    if (!off || !d) {
        pz_free(off);
        pz_free(d);
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for %llu bytes read from \"%s\"",
                          (unsigned long long)total, a->name);
    }
    uint64_t at = 0;
    for (uint64_t i = 0; i < n; i++) {
        off[i] = at;
        if (els[i].n)
            memcpy(d + at, els[i].p, els[i].n);
        at += els[i].n;
    }
    off[n] = at;
    *offsets = off;
    *data = d;
    return 0;
}

int pzarr_array_read_vlen(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                          uint64_t **offsets, void **data)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    int nd = a->m.ndim;
    uint64_t n = 0;
    if (!offsets || !data)
        pz_err_set(&e, PZARR_EINVAL, "read of \"%s\": offsets or data is NULL", a->name);
    else if (!pz_dtype_is_vlen(a->m.dtype))
        not_vlen(a, &e, "read");
    else if (pz_array_check_box(a, start, count, "read", &e) == 0 && !pz_prod(nd, count, &n))
        pz_err_set(&e, PZARR_EBOUNDS, "read region size overflows");
    if (e.code) {
        a->err = e;
        return e.code;
    }
    *offsets = NULL;
    *data = NULL;
    /* Decoded units are kept until the box is laid out: its elements point
     * into them. */
    vel *out = pz_calloc(n ? (size_t)n : 1, sizeof *out);
    uint64_t *pos = pz_malloc((size_t)a->chunk_elems * sizeof *pos);
    uint32_t *len = pz_malloc((size_t)a->chunk_elems * sizeof *len);
    vel *els = pz_malloc((size_t)a->chunk_elems * sizeof *els);
    pz_buf *decs = NULL;
    size_t ndecs = 0;
    if (!out || !pos || !len || !els)
        pz_err_set(&e, PZARR_ENOMEM, "out of memory reading \"%s\"", a->name);
    pz_chunk_iter it;
    bool any = e.code == 0 && n && pz_chunk_iter_init(&it, nd, a->unit, start, count);
    uint64_t total = any ? pz_chunk_iter_total(&it) : 0;
    if (any && !(decs = pz_calloc((size_t)total, sizeof *decs)))
        pz_err_set(&e, PZARR_ENOMEM, "out of memory reading \"%s\"", a->name);
    while (any && e.code == 0) {
        uint64_t units[PZ_READ_BATCH];
        bool present[PZ_READ_BATCH];
        size_t nj = 0;
        do
            units[nj++] = pz_linear(nd, a->grid, it.cc);
        while (nj < PZ_READ_BATCH && (any = pz_chunk_iter_next(&it)));
        if (nj == PZ_READ_BATCH)
            any = pz_chunk_iter_next(&it);
        if (pz_array_fetch_units(a, nj, units, a->rbufs, present, true, &e) != 0)
            break;
        for (size_t j = 0; j < nj && e.code == 0; j++) {
            pz_buf *dec = &decs[ndecs++];
            if (unit_elements(a, units[j], &a->rbufs[j], present[j], dec, pos, len, els, &e))
                break;
            uint64_t us[PZ_MAX_NDIM];
            unit_box(a, units[j], us);
            vread r = {out, els};
            walk(nd, start, count, us, a->unit, take, &r);
        }
    }
    if (e.code == 0)
        overlay_pieces(a, start, count, out, &e);
    if (e.code == 0)
        gather_out(a, n, out, offsets, data, &e);
    for (size_t i = 0; i < ndecs; i++)
        pz_buf_free(&decs[i]);
    pz_free(decs);
    pz_free(out);
    pz_free(pos);
    pz_free(len);
    pz_free(els);
    a->err = e;
    return e.code;
}

/* ------------------------------------------------------------ flush */

/* A piece received by an owner: its box, writer and elements. */
typedef struct vin {
    uint64_t start[PZ_MAX_NDIM], count[PZ_MAX_NDIM];
    uint64_t seq, n;
    int src;
    const unsigned char *data;
    size_t size;
} vin;

static int cmp_vin(const void *x, const void *y)
{
    const vin *a = x, *b = y;
    if (a->src != b->src)
        return a->src < b->src ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

#define HDR_WORDS(nd) (3 + 2 * (size_t)(nd)) /* seq, n, size, start, count */

/* Bytes of a piece on the wire: header words, then its elements padded to 8. */
static size_t wire_size(int nd, const pz_vpiece *p)
{
    return HDR_WORDS(nd) * 8 + ((p->size + 7) & ~(size_t)7);
}

/* The ranks owning a chunk of the piece's box (flags, one per rank). */
static void piece_owners(const pzarr_array *a, const pz_vpiece *p, unsigned char *to)
{
    pz_chunk_iter it;
    if (!pz_chunk_iter_init(&it, a->m.ndim, a->unit, p->start, p->count))
        return;
    do
        to[pz_owner_of(&a->om, it.cc)] = 1;
    while (pz_chunk_iter_next(&it));
}

static int pack(pzarr_array *a, int size, int **scount, int **sdispl, unsigned char **sbuf,
                pz_err *e)
{
    int nd = a->m.ndim;
    uint64_t *bytes = pz_calloc((size_t)size, sizeof *bytes);
    unsigned char *to = pz_calloc((size_t)a->vw.n * (size_t)size + 1, 1);
    *scount = pz_calloc((size_t)size, sizeof **scount);
    *sdispl = pz_calloc((size_t)size, sizeof **sdispl);
    int rc = 0;
    if (!bytes || !to || !*scount || !*sdispl)
        rc = pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
    for (size_t i = 0; rc == 0 && i < a->vw.n; i++) {
        piece_owners(a, &a->vw.v[i], to + i * (size_t)size);
        for (int r = 0; r < size; r++)
            if (to[i * (size_t)size + (size_t)r])
                bytes[r] += wire_size(nd, &a->vw.v[i]);
    }
    uint64_t at = 0;
    for (int r = 0; rc == 0 && r < size; r++) {
        if (bytes[r] > INT32_MAX || at + bytes[r] > INT32_MAX)
            rc = pz_err_set(e, PZARR_EUNSUPPORTED,
                            "\"%s\": more than 2 GiB of variable-length writes in one flush",
                            a->name);
        (*sdispl)[r] = (int)at;
        (*scount)[r] = (int)bytes[r];
        at += bytes[r];
    }
    if (rc == 0 && !(*sbuf = pz_malloc(at ? (size_t)at : 1)))
        rc = pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
    for (int r = 0; rc == 0 && r < size; r++) {
        unsigned char *w = *sbuf + (*sdispl)[r];
        for (size_t i = 0; i < a->vw.n; i++) {
            const pz_vpiece *p = &a->vw.v[i];
            if (!to[i * (size_t)size + (size_t)r])
                continue;
            uint64_t h[3 + 2 * PZ_MAX_NDIM] = {p->seq, p->n, p->size};
            memcpy(h + 3, p->start, (size_t)nd * 8);
            memcpy(h + 3 + nd, p->count, (size_t)nd * 8);
            memcpy(w, h, HDR_WORDS(nd) * 8);
            memcpy(w + HDR_WORDS(nd) * 8, p->data, p->size);
            w += wire_size(nd, p);
        }
    }
    if (rc) { /* nothing sent: the commit's agreement fails the flush everywhere */
        for (int r = 0; *scount && r < size; r++)
            (*scount)[r] = 0;
    }
    pz_free(bytes);
    pz_free(to);
    return rc;
}

static int unpack(int nd, int size, const int *rcount, const int *rdispl,
                  const unsigned char *rbuf, vin **ins, size_t *nins, pz_err *e)
{
    size_t cap = 0, n = 0;
    vin *v = NULL;
    for (int r = 0; r < size; r++) {
        const unsigned char *w = rbuf + rdispl[r], *end = w + rcount[r];
        while (w < end) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                vin *nv = pz_realloc(v, cap * sizeof *nv);
                if (!nv) {
                    pz_free(v);
                    return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
                }
                v = nv;
            }
            uint64_t h[3 + 2 * PZ_MAX_NDIM];
            memcpy(h, w, HDR_WORDS(nd) * 8);
            vin *p = &v[n++];
            p->seq = h[0];
            p->n = h[1];
            p->size = (size_t)h[2];
            memcpy(p->start, h + 3, (size_t)nd * 8);
            memcpy(p->count, h + 3 + nd, (size_t)nd * 8);
            p->src = r;
            p->data = w + HDR_WORDS(nd) * 8;
            w += HDR_WORDS(nd) * 8 + ((p->size + 7) & ~(size_t)7);
        }
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_vin);
    *ins = v;
    *nins = n;
    return 0;
}

/* The chunks of this rank that the pieces touch, sorted, unique. */
static int owned_units(pzarr_array *a, const vin *ins, size_t nins, uint64_t **units,
                       size_t *nunits, pz_err *e)
{
    size_t cap = 0, n = 0;
    uint64_t *u = NULL;
    for (size_t i = 0; i < nins; i++) {
        pz_chunk_iter it;
        if (!pz_chunk_iter_init(&it, a->m.ndim, a->unit, ins[i].start, ins[i].count))
            continue;
        do {
            if (pz_owner_of(&a->om, it.cc) != a->s->rank)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                uint64_t *nu = pz_realloc(u, cap * sizeof *nu);
                if (!nu) {
                    pz_free(u);
                    return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
                }
                u = nu;
            }
            u[n++] = pz_linear(a->m.ndim, a->grid, it.cc);
        } while (pz_chunk_iter_next(&it));
    }
    if (n > 1)
        qsort(u, n, sizeof *u, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || u[k - 1] != u[i])
            u[k++] = u[i];
    *units = u;
    *nunits = k;
    return 0;
}

/* Whether one piece covers the whole unit at us. */
static bool covers(const pzarr_array *a, const vin *p, const uint64_t *us)
{
    for (int d = 0; d < a->m.ndim; d++)
        if (p->start[d] > us[d] || p->start[d] + p->count[d] < us[d] + a->unit[d])
            return false;
    return true;
}

/* Merges the pieces into one owned unit and stages it in the commit. */
static int merge_unit(pzarr_array *a, pz_commit *c, uint64_t unit, const vin *ins, size_t nins,
                      vel *els, uint64_t *pos, uint32_t *len, pz_buf *bufs, pz_err *e)
{
    int nd = a->m.ndim;
    uint64_t us[PZ_MAX_NDIM];
    unit_box(a, unit, us);
    bool whole = false;
    for (size_t i = 0; i < nins && !whole; i++)
        whole = covers(a, &ins[i], us);
    bool present = false;
    pz_buf *raw = &bufs[0], *dec = &bufs[1], *lay = &bufs[2], *enc = &bufs[3];
    if (!whole)
        PZ_TRY(pz_array_fetch_units(a, 1, &unit, raw, &present, true, e));
    PZ_TRY(unit_elements(a, unit, raw, present && !whole, dec, pos, len, els, e));
    vel *pe = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < nins; i++) {
        const vin *p = &ins[i];
        uint64_t lo[PZ_MAX_NDIM], cn[PZ_MAX_NDIM];
        if (!intersect(nd, us, a->unit, p->start, p->count, lo, cn))
            continue;
        if (p->n > cap) {
            pz_free(pe);
            if (!(pe = pz_malloc((size_t)p->n * sizeof *pe)))
                return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
            cap = (size_t)p->n;
        }
        pz_vpiece pv = {.data = (unsigned char *)p->data, .n = p->n};
        piece_index(&pv, pe);
        vread r = {els, pe};
        walk(nd, us, a->unit, p->start, p->count, take, &r);
    }
    /* all fill: the chunk file goes (or is never made) */
    size_t fl;
    const unsigned char *fp = pz_fill_vlen(a->m.fill, &fl);
    bool fill = !a->m.fill_null;
    size_t total = 4;
    for (uint64_t k = 0; k < a->chunk_elems; k++) {
        fill = fill && els[k].n == fl && (fl == 0 || memcmp(els[k].p, fp, fl) == 0);
        total += 4 + (size_t)els[k].n;
    }
    int rc = 0;
    char key[PZ_KEY_MAX], *path = NULL;
    uint64_t cc[PZ_MAX_NDIM];
    pz_unlinear(nd, a->grid, unit, cc);
    PZ_TRY(pz_array_chunk_path(a, cc, key, sizeof key, &path, e));
    if (fill) {
        rc = pz_commit_stage_remove(a, c, path, e);
    } else {
        lay->size = 0;
        if (pz_buf_reserve(lay, total) == 0) {
            unsigned char *w = lay->data;
            pz_vlen_put_u32(w, (uint32_t)a->chunk_elems);
            w += 4;
            for (uint64_t k = 0; k < a->chunk_elems; k++) {
                pz_vlen_put_u32(w, els[k].n);
                if (els[k].n)
                    memcpy(w + 4, els[k].p, els[k].n);
                w += 4 + els[k].n;
            }
            lay->size = total;
            pz_err inner;
            pz_err_clear(&inner);
            rc = pz_vlen_encode(&a->m.pipeline, lay->data, lay->size, enc, &inner);
            if (rc)
                pz_err_set(e, rc, "\"%s\" chunk %s: %.900s", a->name, key, inner.msg);
            else
                rc = pz_commit_stage_file(a, c, path, enc->data, enc->size, e);
            if (rc == 0) {
                PZ_STATS(a)->chunk_writes++;
                PZ_STATS(a)->bytes_written += enc->size;
            }
        } else {
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory for chunk %s of \"%s\"", key,
                            a->name);
        }
    }
    pz_free(path);
    pz_free(pe);
    return rc;
}

int pz_vlen_flush(pzarr_array *a, pz_commit *c, pz_err *e)
{
    if (!pz_dtype_is_vlen(a->m.dtype))
        return 0;
    int size = a->s->size, nd = a->m.ndim;
    int *scount = NULL, *sdispl = NULL, *rcount = pz_calloc((size_t)size, sizeof *rcount);
    int *rdispl = pz_calloc((size_t)size, sizeof *rdispl);
    unsigned char *sbuf = NULL, *rbuf = NULL;
    pz_err le;
    pz_err_clear(&le);
    if (e->code == 0)
        pack(a, size, &scount, &sdispl, &sbuf, &le);
    if (!scount)
        scount = pz_calloc((size_t)size, sizeof *scount);
    if (!sdispl)
        sdispl = pz_calloc((size_t)size, sizeof *sdispl);
    if (!scount || !sdispl || !rcount || !rdispl) {
        /* cannot even say "nothing": the job is out of memory */
        pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
        MPI_Abort(a->s->comm, 1);
    }
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, a->s->comm);
    uint64_t at = 0;
    for (int r = 0; r < size; r++) {
        rdispl[r] = (int)at;
        at += (uint64_t)rcount[r];
    }
    if (at > INT32_MAX) {
        pz_err_set(&le, PZARR_EUNSUPPORTED,
                   "\"%s\": more than 2 GiB of variable-length writes reach one rank", a->name);
        for (int r = 0; r < size; r++)
            rcount[r] = rdispl[r] = 0;
        at = 0;
    }
    rbuf = pz_malloc(at ? (size_t)at : 8);
    if (!rbuf)
        MPI_Abort(a->s->comm, 1);
    /* Every rank learns whether all can go on (a sender past 2 GiB, a
     * receiver past 2 GiB): if not, nobody sends, and the flush fails. */
    int mine = le.code == 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, a->s->comm);
    bool all_ok = all != 0;
    if (!all_ok)
        for (int r = 0; r < size; r++)
            scount[r] = rcount[r] = rdispl[r] = 0;
    MPI_Alltoallv(sbuf ? sbuf : rbuf, scount, sdispl, MPI_BYTE, rbuf, rcount, rdispl, MPI_BYTE,
                  a->s->comm);
    vin *ins = NULL;
    size_t nins = 0;
    uint64_t *units = NULL;
    size_t nunits = 0;
    if (le.code == 0 && all_ok && e->code == 0 &&
        unpack(nd, size, rcount, rdispl, rbuf, &ins, &nins, &le) == 0 &&
        owned_units(a, ins, nins, &units, &nunits, &le) == 0 && nunits) {
        vel *els = pz_malloc((size_t)a->chunk_elems * sizeof *els);
        uint64_t *pos = pz_malloc((size_t)a->chunk_elems * sizeof *pos);
        uint32_t *len = pz_malloc((size_t)a->chunk_elems * sizeof *len);
        pz_buf bufs[4] = {{0}};
        if (!els || !pos || !len)
            pz_err_set(&le, PZARR_ENOMEM, "out of memory in flush");
        for (size_t i = 0; le.code == 0 && i < nunits; i++)
            merge_unit(a, c, units[i], ins, nins, els, pos, len, bufs, &le);
        for (int k = 0; k < 4; k++)
            pz_buf_free(&bufs[k]);
        pz_free(els);
        pz_free(pos);
        pz_free(len);
    }
    if (le.code && e->code == 0)
        *e = le;
    if (!all_ok && e->code == 0)
        pz_err_set(e, PZARR_EUNSUPPORTED,
                   "\"%s\": more than 2 GiB of variable-length writes reach one rank", a->name);
    pz_free(ins);
    pz_free(units);
    pz_free(scount);
    pz_free(sdispl);
    pz_free(rcount);
    pz_free(rdispl);
    pz_free(sbuf);
    pz_free(rbuf);
    pz_vlen_clear(a);
    return e->code;
}
