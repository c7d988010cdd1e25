/*
 * Writing shards in parallel, inside pzarr_array_flush.
 *
 * The owners of inner chunks have encoded them. Each shard has a leader (the
 * owner of its first inner chunk). Writers put (count, address) of their
 * entry lists into the leaders' slots; a leader fetches the entries of its
 * shards, lays each new shard out (every writer's inner chunks contiguous,
 * in rank order, then the untouched inner chunks of the old shard, copied
 * as they are), writes the copies and the index into a temporary file beside
 * the shard (its staged name in the flush's commit), and puts each writer's
 * offsets back. After a barrier every writer writes its encoded inner chunks
 * from where they lie, in one gathered write per shard (no packing copy).
 * The commit (commit.c) then publishes every staged shard with the rest of
 * the flush, or none: a job killed at any moment leaves the array old or
 * new.
 */
#include "engine.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SE 4 /* entry words: shard, inner, nbytes, reply offset */

typedef struct in_ent {
    uint64_t shard, inner, nbytes;
    int src;
    uint64_t raddr; /* address of the reply word at the source */
    uint64_t offset;
} in_ent;

typedef struct lead_shard {
    uint64_t shard;
    char *path, *tmp;
} lead_shard;

typedef struct sw_ctx {
    pzarr_array *a;
    pz_commit *commit;
    int size;
    uint64_t *out; /* my entries, grouped by leader */
    size_t nout;
    size_t *order; /* so->u index of each out entry */
    uint64_t *cnt, *off;
    in_ent *in;
    size_t nin;
    lead_shard *lead;
    size_t nlead;
    bool attached;
} sw_ctx;

static void unit_shard(const pzarr_array *a, uint64_t unit, uint64_t *shard, uint64_t *inner,
                       int *leader)
{
    uint64_t ucc[PZ_MAX_NDIM], scc[PZ_MAX_NDIM], icc[PZ_MAX_NDIM], first[PZ_MAX_NDIM];
    pz_unlinear(a->m.ndim, a->grid, unit, ucc);
    for (int d = 0; d < a->m.ndim; d++) {
        scc[d] = ucc[d] / a->per[d];
        icc[d] = ucc[d] % a->per[d];
        first[d] = scc[d] * a->per[d];
    }
    *shard = pz_linear(a->m.ndim, a->sgrid, scc);
    *inner = pz_linear(a->m.ndim, a->per, icc);
    *leader = pz_owner_of(&a->om, first);
}

/* A shard's key, path and staged name in this flush. */
static int shard_paths(sw_ctx *c, uint64_t shard, char *key, size_t cap, char **path,
                       char **tmp, pz_err *e)
{
    uint64_t scc[PZ_MAX_NDIM];
    pz_unlinear(c->a->m.ndim, c->a->sgrid, shard, scc);
    PZ_TRY(pz_array_chunk_path(c->a, scc, key, cap, path, e));
    *tmp = pz_commit_name(*path, c->commit->id, false);
    return *tmp ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
}

/* Whether an untouched inner chunk of the old shard stays: a pending resize
 * drops those outside the new shape (cut ones are merged by their owners). */
static bool inner_stays(const sw_ctx *c, uint64_t shard, uint64_t inner)
{
    const pzarr_array *a = c->a;
    uint64_t scc[PZ_MAX_NDIM], icc[PZ_MAX_NDIM];
    pz_unlinear(a->m.ndim, a->sgrid, shard, scc);
    pz_unlinear(a->m.ndim, a->per, inner, icc);
    for (int d = 0; a->resized && d < a->m.ndim; d++)
        if ((scc[d] * a->per[d] + icc[d]) * a->unit[d] >= a->m.shape[d])
            return false;
    return true;
}

static const pz_shard_out *sort_so;
static const pzarr_array *sort_a;

static int cmp_out(const void *x, const void *y)
{
    uint64_t sx, ix, sy, iy;
    int lx, ly;
    unit_shard(sort_a, sort_so->u[*(const size_t *)x].unit, &sx, &ix, &lx);
    unit_shard(sort_a, sort_so->u[*(const size_t *)y].unit, &sy, &iy, &ly);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return ix < iy ? -1 : ix > iy;
}

/* My entries for each leader, attached to the data window. */
static int build_out(sw_ctx *c, const pz_shard_out *so, pz_err *e)
{
    pzarr_array *a = c->a;
    c->cnt = pz_calloc((size_t)c->size, sizeof *c->cnt);
    c->off = pz_calloc((size_t)c->size, sizeof *c->off);
    c->order = pz_malloc((so->n ? so->n : 1) * sizeof *c->order);
    c->out = pz_malloc((so->n ? so->n : 1) * SE * sizeof *c->out);
    if (!c->cnt || !c->off || !c->order || !c->out)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory writing shards");
    for (size_t i = 0; i < so->n; i++)
        c->order[i] = i;
    sort_so = so;
    sort_a = a;
    qsort(c->order, so->n, sizeof *c->order, cmp_out);
    for (size_t i = 0; i < so->n; i++) {
        const pz_unit_out *u = &so->u[c->order[i]];
        uint64_t *w = c->out + SE * i;
        int leader;
        unit_shard(a, u->unit, &w[0], &w[1], &leader);
        w[2] = u->nbytes;
        w[3] = PZ_SHARD_EMPTY;
        c->cnt[leader]++;
    }
    c->nout = so->n;
    for (int o = 1; o < c->size; o++)
        c->off[o] = c->off[o - 1] + c->cnt[o - 1];
    if (pz_xchg_attach(&a->x, c->out, (so->n ? so->n : 1) * SE * sizeof *c->out) != 0)
        return pz_err_set(e, PZARR_EMPI, "MPI_Win_attach failed writing shards");
    c->attached = true;
    return 0;
}


static int cmp_in(const void *x, const void *y)
{
    const in_ent *p = x, *q = y;
    if (p->shard != q->shard)
        return p->shard < q->shard ? -1 : 1;
    if (p->src != q->src)
        return p->src < q->src ? -1 : 1;
    return p->inner < q->inner ? -1 : p->inner > q->inner;
}

/* Leader: every entry for the shards I lead. */
static int gather(sw_ctx *c, pz_err *e)
{
    pzarr_array *a = c->a;
    uint64_t n = pz_xchg_total(&a->x);
    if (n == 0)
        return 0;
    uint64_t *raw = pz_malloc(n * SE * sizeof *raw);
    c->in = pz_malloc(n * sizeof *c->in);
    if (!raw || !c->in) {
        pz_free(raw);
        return pz_err_set(e, PZARR_ENOMEM, "out of memory writing shards");
    }
    uint64_t at = 0;
    for (int s = 0; s < c->size; s++) {
        uint64_t k = pz_xchg_count(&a->x, s);
        if (k && pz_xchg_get(&a->x, raw + SE * at, SE * k * sizeof *raw, s,
                             pz_xchg_addr(&a->x, s)) != 0) {
            pz_free(raw);
            return pz_err_set(e, PZARR_EMPI, "MPI_Get of shard entries from rank %d failed", s);
        }
        at += k;
    }
    pz_xchg_flush(&a->x);
    at = 0;
    uint64_t nshards = pz_meta_nchunks(&a->m), ninner = a->m.shard.ninner;
    int rc = 0;
    for (int s = 0; s < c->size; s++)
        for (uint64_t i = 0; i < pz_xchg_count(&a->x, s); i++, at++) {
            const uint64_t *w = raw + SE * at;
            if (w[0] >= nshards || w[1] >= ninner)
                rc = pz_err_set(e, PZARR_EMPI, "shard writer received a malformed entry");
            c->in[at] = (in_ent){w[0], w[1], w[2], s,
                                 pz_xchg_addr(&a->x, s) + (SE * i + 3) * sizeof(uint64_t), 0};
        }
    c->nin = (size_t)n;
    pz_free(raw);
    qsort(c->in, c->nin, sizeof *c->in, cmp_in);
    return rc;
}

static int copy_range(pz_file *from, uint64_t off, pz_file *to, uint64_t dst, uint64_t len,
                      pz_err *e)
{
    unsigned char *buf = len <= SIZE_MAX ? pz_malloc(len ? (size_t)len : 1) : NULL;
    if (!buf)
        return pz_err_set(e, PZARR_ENOMEM, "cannot copy an inner chunk of %llu bytes",
                          (unsigned long long)len);
    size_t got = 0;
    int rc = from->be->read_at(from, off, buf, (size_t)len, &got, e);
    if (rc == 0 && got != len)
        rc = pz_err_set(e, PZARR_ECORRUPT, "%s: short read copying an inner chunk", from->path);
    if (rc == 0)
        rc = to->be->write_at(to, dst, buf, (size_t)len, e);
    pz_free(buf);
    return rc;
}

/*
 * Leader: the new layout of one shard (entries in[i0..i1)), its temporary
 * file holding the copied inner chunks and the index.
 */
static int lay_out(sw_ctx *c, size_t i0, size_t i1, lead_shard *ls, pz_err *e)
{
    pzarr_array *a = c->a;
    const pz_shard_spec *sh = &a->m.shard;
    uint64_t ninner = sh->ninner, ib = pz_shard_index_bytes(sh);
    char key[PZ_KEY_MAX];
    PZ_TRY(shard_paths(c, ls->shard, key, sizeof key, &ls->path, &ls->tmp, e));
    uint64_t *old = pz_malloc((size_t)(2 * ninner) * sizeof *old);
    uint64_t *idx = pz_malloc((size_t)(2 * ninner) * sizeof *idx);
    bool *touched = pz_calloc((size_t)ninner, sizeof *touched);
    unsigned char *raw = pz_malloc((size_t)ib);
    if (!old || !idx || !touched || !raw) {
        pz_free(old);
        pz_free(idx);
        pz_free(touched);
        pz_free(raw);
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for a shard index");
    }
    for (uint64_t i = 0; i < 2 * ninner; i++)
        old[i] = idx[i] = PZ_SHARD_EMPTY;
    pz_file oldf = {PZ_FILE_CLOSED}, f = {PZ_FILE_CLOSED};
    uint64_t oldsize = 0;
    int rc = pz_shard_open_index(a, ls->path, key, &oldf, old, &oldsize, e);
    /* A fixed layout puts every inner chunk in its slot (some were written
     * there at write time); otherwise writers follow one another. */
    bool fixed = pz_shard_fixed(a);
    uint64_t cur = sh->index_at_start ? ib : 0;
    for (size_t i = i0; rc == 0 && i < i1; i++) {
        in_ent *t = &c->in[i];
        touched[t->inner] = true;
        t->offset = PZ_SHARD_EMPTY;
        if (t->nbytes == PZ_SHARD_EMPTY)
            continue;
        if (fixed && t->nbytes != a->chunk_bytes)
            rc = pz_err_set(e, PZARR_EMPI, "shard %s: an inner chunk of %llu bytes in a "
                            "fixed layout", key, (unsigned long long)t->nbytes);
        t->offset = fixed ? pz_shard_slot(a, t->inner) : cur;
        idx[2 * t->inner] = t->offset;
        idx[2 * t->inner + 1] = t->nbytes;
        cur += t->nbytes;
    }
    for (uint64_t k = 0; k < ninner; k++)
        touched[k] |= !inner_stays(c, ls->shard, k);
    bool any = false;
    for (uint64_t k = 0; k < ninner; k++)
        any |= idx[2 * k] != PZ_SHARD_EMPTY || (!touched[k] && old[2 * k] != PZ_SHARD_EMPTY);
    if (rc == 0 && !any) {
        unlink(ls->tmp); /* what writers staged there is all gone */
        rc = pz_commit_stage_remove(a, c->commit, ls->path, e);
    }
    if (rc == 0 && any)
        rc = pz_array_chunk_parent(a, ls->tmp, e);
    if (rc == 0 && any) {
        rc = pz_backend_for(a->s->chunk_info)
                 ->open(&f, ls->tmp, PZ_FILE_WRITE | PZ_FILE_CREATE, a->s->chunk_info, e);
        if (rc == 0 && pz_commit_add(c->commit, ls->path, false, e) != 0) {
            f.be->close(&f, NULL);
            unlink(ls->tmp);
            rc = e->code;
        }
    }
    for (uint64_t k = 0; rc == 0 && any && k < ninner; k++) {
        if (touched[k] || old[2 * k] == PZ_SHARD_EMPTY)
            continue;
        if (fixed && old[2 * k + 1] != a->chunk_bytes) {
            rc = pz_err_set(e, PZARR_ECORRUPT, "shard %s: inner chunk %llu holds %llu bytes, "
                            "not %zu", key, (unsigned long long)k,
                            (unsigned long long)old[2 * k + 1], a->chunk_bytes);
            break;
        }
        uint64_t at = fixed ? pz_shard_slot(a, k) : cur;
        rc = copy_range(&oldf, old[2 * k], &f, at, old[2 * k + 1], e);
        idx[2 * k] = at;
        idx[2 * k + 1] = old[2 * k + 1];
        cur += old[2 * k + 1];
    }
    if (fixed)
        cur = pz_shard_slot(a, ninner);
    if (rc == 0 && any) {
        pz_shard_index_encode(sh, idx, raw);
        rc = f.be->write_at(&f, sh->index_at_start ? 0 : cur, raw, (size_t)ib, e);
    }
    if (rc == 0 && any && (a->s->flags & PZARR_DURABLE))
        rc = f.be->sync(&f, e);
    PZ_STATS(a)->shard_writes += rc == 0 && any;
    if (pz_file_is_open(&f) && f.be->close(&f, rc ? NULL : e) != 0 && rc == 0)
        rc = e->code;
    if (pz_file_is_open(&oldf))
        oldf.be->close(&oldf, NULL);
    pz_free(old);
    pz_free(idx);
    pz_free(touched);
    pz_free(raw);
    return rc;
}

/* Leader: lay out every shard I lead and tell the writers their offsets. */
static int lead(sw_ctx *c, pz_err *e)
{
    size_t nshards = 0;
    for (size_t i = 0; i < c->nin; i++)
        nshards += i == 0 || c->in[i].shard != c->in[i - 1].shard;
    c->lead = pz_calloc(nshards ? nshards : 1, sizeof *c->lead);
    if (!c->lead)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory writing shards");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->nin;) {
        size_t j = i + 1;
        while (j < c->nin && c->in[j].shard == c->in[i].shard)
            j++;
        lead_shard *ls = &c->lead[c->nlead++];
        ls->shard = c->in[i].shard;
        rc = lay_out(c, i, j, ls, e);
        i = j;
    }
    for (size_t i = 0; rc == 0 && i < c->nin; i++)
        if (pz_xchg_put_u64(&c->a->x, &c->in[i].offset, c->in[i].src, c->in[i].raddr) != 0)
            rc = pz_err_set(e, PZARR_EMPI, "MPI_Put of a shard offset to rank %d failed",
                            c->in[i].src);
    return rc;
}

/* Writer: one shard's inner chunks of mine, in one gathered write. */
static int write_spans(sw_ctx *c, uint64_t shard, uint64_t base, const pz_span *spans,
                       size_t n, pz_err *e)
{
    pzarr_array *a = c->a;
    char key[PZ_KEY_MAX], *path = NULL, *tmp = NULL;
    pz_file f;
    int rc = shard_paths(c, shard, key, sizeof key, &path, &tmp, e);
    if (rc == 0)
        rc = pz_backend_for(a->s->chunk_info)->open(&f, tmp, PZ_FILE_WRITE, a->s->chunk_info, e);
    if (rc == 0) {
        rc = f.be->write_gather(&f, base, spans, n, e);
        if (rc == 0 && (a->s->flags & PZARR_DURABLE))
            rc = f.be->sync(&f, e);
        int crc = f.be->close(&f, rc ? NULL : e);
        rc = rc ? rc : crc;
    }
    pz_free(path);
    pz_free(tmp);
    return rc;
}

/* Writer: my inner chunks of each shard, straight from the encoded units,
 * in one gathered write per shard. */
static int write_mine(sw_ctx *c, const pz_shard_out *so, pz_err *e)
{
    pz_xchg_sync(&c->a->x);
    pz_span *spans = pz_malloc((c->nout ? c->nout : 1) * sizeof *spans);
    if (!spans)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory writing shards");
    int rc = 0;
    bool fixed = pz_shard_fixed(c->a);
    for (size_t i = 0; rc == 0 && i < c->nout;) {
        size_t j = i, n = 0;
        uint64_t base = PZ_SHARD_EMPTY, expect = 0;
        for (; rc == 0 && j < c->nout && c->out[SE * j] == c->out[SE * i]; j++) {
            const pz_unit_out *u = &so->u[c->order[j]];
            uint64_t off = c->out[SE * j + 3];
            if (u->nbytes == PZ_SHARD_EMPTY || u->in_place)
                continue;
            if (n > 0 && off != expect && fixed) {
                /* slots with gaps between them: one write per run */
                rc = write_spans(c, c->out[SE * i], base, spans, n, e);
                n = 0;
            } else if (n > 0 && off != expect) {
                rc = pz_err_set(e, PZARR_EMPI, "shard layout reply is not contiguous");
                break;
            }
            if (n == 0)
                base = expect = off;
            expect += u->nbytes;
            spans[n++] = (pz_span){so->data.data + u->off, (size_t)u->nbytes};
        }
        if (rc == 0 && n > 0)
            rc = write_spans(c, c->out[SE * i], base, spans, n, e);
        while (j < c->nout && c->out[SE * j] == c->out[SE * i])
            j++;
        i = j;
    }
    pz_free(spans);
    return rc;
}

static void sw_free(sw_ctx *c)
{
    if (c->attached)
        pz_xchg_detach(&c->a->x, c->out);
    for (size_t i = 0; i < c->nlead; i++) {
        pz_free(c->lead[i].path);
        pz_free(c->lead[i].tmp);
    }
    pz_free(c->lead);
    pz_free(c->out);
    pz_free(c->order);
    pz_free(c->cnt);
    pz_free(c->off);
    pz_free(c->in);
}

void pz_shard_flush(pzarr_array *a, pz_commit *commit, pz_shard_out *so, pz_err *e)
{
    sw_ctx c = {.a = a, .commit = commit, .size = a->s->size};
    if (e->code == 0)
        build_out(&c, so, e);
    pz_xchg_publish(&a->x, c.cnt, c.off, c.out, SE * sizeof(uint64_t), e->code == 0);
    if (e->code == 0 && gather(&c, e) == 0)
        lead(&c, e);
    pz_xchg_flush(&a->x);
    pz_barrier(a->s->comm);
    if (e->code == 0)
        write_mine(&c, so, e);
    sw_free(&c);
}
