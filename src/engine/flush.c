/*
 * The collective flush.
 *
 * 1. Each rank sorts its buffered pieces by owner and builds, for every other
 *    owner, a directory of its pieces (chunk, write number, size, address,
 *    box) in memory attached to the array's dynamic window.
 * 2. A fence epoch on the slot window: each source puts (count, address) of
 *    its directory into the owner's slot for that source.
 * 3. Owners fetch the directories with MPI_Get, sort every piece of every
 *    owned chunk by (writing rank, write number), and in rounds of bounded
 *    size fetch the remote data with MPI_Get, wait for everybody's fetches
 *    (a barrier, so that no rank computes while others still read from it:
 *    passive-target progress here needs the target inside MPI), then merge
 *    each chunk over its stored content (or the fill value) and write it.
 *
 * All one-sided traffic happens while every rank is inside this collective.
 */
#define _GNU_SOURCE /* gettid, setpriority of a thread */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An incoming piece, local or remote. */
typedef struct in_rec {
    uint64_t chunk, seq, nbytes, addr;
    int src;
    const uint64_t *box; /* cstart[nd], n[nd] */
    unsigned char *data; /* NULL until fetched */
    bool cut;            /* no data: a unit that a pending resize cuts */
    const pz_stage_ent *staged; /* no data: the unit as staged at write time */
    const uint64_t *blk; /* data inside a whole write's copy: its count, then
                            the piece's origin in it (pz_piece.blk); NULL: compact */
} in_rec;

typedef struct flush_ctx {
    pzarr_array *a;
    int rank, size, nd;
    size_t esize;      /* directory entry, in uint64 words */
    uint64_t *outdir;  /* my directories for other owners */
    uint64_t *cnt, *off; /* per owner: entries and first entry in outdir */
    uint64_t *indir;   /* directories fetched from sources */
    in_rec *recs;
    size_t nrecs;
    uint64_t *sboxes; /* boxes of the staged units */
    size_t *groups; /* start index of each chunk's run in recs, + end */
    size_t ngroups;
    size_t *batch_end; /* group index where each round ends */
    int nbatches;
    pz_buf enc;
    pz_shard_out so; /* sharded arrays: encoded inner chunks */
    pz_commit commit; /* the files this flush stages */
    /* The commit holding the units staged at write time (merge_batch loads
     * and drops them there): &commit, but a background worker stages into
     * its own and reads the request's. NULL: &commit. */
    pz_commit *base;
    unsigned char *scratch; /* a unit buffer; NULL: the handle's */
} flush_ctx;

/* Step 1: directories of my pieces for each other owner. */
static int build_outdirs(flush_ctx *c, pz_err *e)
{
    pzarr_array *a = c->a;
    const pz_wbuf *l = &a->wb;
    c->cnt = pz_calloc((size_t)c->size, sizeof *c->cnt);
    c->off = pz_calloc((size_t)c->size, sizeof *c->off);
    if (!c->cnt || !c->off)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
    size_t total = 0;
    for (size_t i = 0; i < l->npieces; i++)
        if (l->pieces[i].owner != c->rank) {
            c->cnt[l->pieces[i].owner]++;
            total++;
        }
    for (int o = 1; o < c->size; o++)
        c->off[o] = c->off[o - 1] + c->cnt[o - 1];
    if (total == 0)
        return 0;
    c->outdir = pz_malloc(total * c->esize * sizeof(uint64_t));
    uint64_t *fill = pz_calloc((size_t)c->size, sizeof *fill);
    if (!c->outdir || !fill) {
        pz_free(fill);
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
    }
    for (size_t i = 0; i < l->npieces; i++) {
        const pz_piece *p = &l->pieces[i];
        if (p->owner == c->rank)
            continue;
        uint64_t *w = c->outdir + (c->off[p->owner] + fill[p->owner]++) * c->esize;
        w[0] = p->chunk;
        w[1] = p->seq;
        w[2] = p->nbytes;
        w[3] = p->addr;
        w[4] = (uint64_t)c->rank;
        if (c->nd > 0)
            memcpy(w + 5, l->coords + p->box, 2 * (size_t)c->nd * sizeof(uint64_t));
    }
    pz_free(fill);
    if (pz_xchg_attach(&a->x, c->outdir, total * c->esize * sizeof(uint64_t)) != 0) {
        pz_free(c->outdir);
        c->outdir = NULL;
        return pz_err_set(e, PZARR_EMPI, "MPI_Win_attach failed in flush");
    }
    return 0;
}


static int cmp_rec(const void *x, const void *y)
{
    const in_rec *p = x, *q = y;
    if (p->chunk != q->chunk)
        return p->chunk < q->chunk ? -1 : 1;
    if (p->src != q->src)
        return p->src < q->src ? -1 : 1;
    return p->seq < q->seq ? -1 : (p->seq > q->seq);
}

/* Step 3a: fetch directories and list every piece of my chunks. */
static int gather_recs(flush_ctx *c, pz_err *e)
{
    pzarr_array *a = c->a;
    const pz_wbuf *l = &a->wb;
    uint64_t nremote = pz_xchg_total(&a->x);
    size_t nlocal = l->npieces;
    for (int o = 0; o < c->size; o++)
        if (o != c->rank)
            nlocal -= c->cnt[o];
    if (nremote) {
        c->indir = pz_malloc(nremote * c->esize * sizeof(uint64_t));
        if (!c->indir)
            return pz_err_set(e, PZARR_ENOMEM, "out of memory for %llu incoming pieces",
                              (unsigned long long)nremote);
    }
    uint64_t at = 0;
    for (int s = 0; s < c->size; s++) {
        uint64_t n = pz_xchg_count(&a->x, s);
        if (n && pz_xchg_get(&a->x, c->indir + at * c->esize, n * c->esize * sizeof(uint64_t),
                             s, pz_xchg_addr(&a->x, s)))
            return pz_err_set(e, PZARR_EMPI, "MPI_Get of a directory from rank %d failed", s);
        at += n;
    }
    pz_xchg_flush(&a->x);
    uint64_t *cut = NULL;
    size_t ncut = 0;
    PZ_TRY(pz_resize_cut_units(a, &cut, &ncut, e));
    size_t nstaged = 0;
    for (size_t i = 0; i < a->st.n; i++)
        nstaged += !(a->st.v[i].unit & PZ_STAGE_SHARD);
    size_t total = nlocal + nremote + ncut + nstaged;
    c->recs = pz_malloc(total * sizeof *c->recs);
    c->sboxes = pz_malloc((nstaged ? nstaged : 1) * 2 * PZ_MAX_NDIM * sizeof *c->sboxes);
    if ((!c->recs && total) || !c->sboxes) {
        pz_free(cut);
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
    }
    for (size_t i = 0; i < ncut; i++)
        c->recs[c->nrecs++] = (in_rec){.chunk = cut[i], .seq = UINT64_MAX, .src = c->rank,
                                       .cut = true};
    pz_free(cut);
    for (size_t i = 0, k = 0; i < a->st.n; i++) {
        /* A staged unit is one piece covering the unit's part in the array. */
        const pz_stage_ent *st = &a->st.v[i];
        if (st->unit & PZ_STAGE_SHARD)
            continue;
        uint64_t *box = c->sboxes + k++ * 2 * PZ_MAX_NDIM, cc[PZ_MAX_NDIM];
        pz_unlinear(c->nd, a->grid, st->unit, cc);
        memset(box, 0, (size_t)c->nd * sizeof *box);
        pz_array_chunk_extent(a, cc, box + c->nd);
        c->recs[c->nrecs++] = (in_rec){.chunk = st->unit, .seq = st->seq, .src = c->rank,
                                       .box = box, .staged = st};
    }
    for (size_t i = 0; i < l->npieces; i++) {
        const pz_piece *p = &l->pieces[i];
        if (p->owner != c->rank)
            continue;
        c->recs[c->nrecs++] = (in_rec){p->chunk, p->seq, p->nbytes, p->addr, c->rank,
                                       l->coords + p->box,
                                       (unsigned char *)(uintptr_t)p->addr, false, NULL,
                                       p->blk != UINT64_MAX ? l->coords + p->blk : NULL};
    }
    for (uint64_t i = 0; i < nremote; i++) {
        const uint64_t *w = c->indir + i * c->esize;
        if (w[0] >= a->nunits || (int)w[4] >= c->size)
            return pz_err_set(e, PZARR_EMPI, "flush received a malformed directory entry");
        c->recs[c->nrecs++] = (in_rec){w[0], w[1], w[2], w[3], (int)w[4], w + 5, NULL, false,
                                       NULL, NULL};
    }
    if (c->nrecs > 1)
        qsort(c->recs, c->nrecs, sizeof *c->recs, cmp_rec);
    /* A cut unit that was also written needs no entry of its own. */
    size_t k = 0;
    for (size_t i = 0; i < c->nrecs; i++) {
        const in_rec *r = &c->recs[i];
        bool alone = (i == 0 || c->recs[i - 1].chunk != r->chunk) &&
                     (i + 1 == c->nrecs || c->recs[i + 1].chunk != r->chunk);
        if (!r->cut || alone)
            c->recs[k++] = *r;
    }
    c->nrecs = k;
    return 0;
}

/* Step 3b: chunk runs and rounds of bounded remote bytes. */
static int plan_batches(flush_ctx *c, pz_err *e)
{
    c->groups = pz_malloc((c->nrecs + 1) * sizeof *c->groups);
    c->batch_end = pz_malloc((c->nrecs + 1) * sizeof *c->batch_end);
    if (!c->groups || !c->batch_end)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
    for (size_t i = 0; i < c->nrecs; i++)
        if (i == 0 || c->recs[i].chunk != c->recs[i - 1].chunk)
            c->groups[c->ngroups++] = i;
    c->groups[c->ngroups] = c->nrecs;
    uint64_t bytes = 0;
    size_t in_batch = 0;
    for (size_t g = 0; g < c->ngroups; g++) {
        uint64_t gb = 0;
        for (size_t i = c->groups[g]; i < c->groups[g + 1]; i++)
            if (c->recs[i].src != c->rank)
                gb += c->recs[i].nbytes;
        if (in_batch > 0 && (bytes + gb > PZ_FLUSH_BUDGET || in_batch == PZ_FLUSH_BATCH)) {
            c->batch_end[c->nbatches++] = g;
            bytes = 0;
            in_batch = 0;
        }
        bytes += gb;
        in_batch++;
    }
    if (in_batch)
        c->batch_end[c->nbatches++] = c->ngroups;
    return 0;
}

static int fetch_batch(flush_ctx *c, size_t g0, size_t g1, unsigned char **buf, pz_err *e)
{
    uint64_t total = 0;
    for (size_t i = c->groups[g0]; i < c->groups[g1]; i++)
        if (c->recs[i].src != c->rank)
            total += c->recs[i].nbytes;
    *buf = pz_malloc(total);
    if (!*buf)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory fetching %llu bytes",
                          (unsigned long long)total);
    uint64_t at = 0;
    for (size_t i = c->groups[g0]; i < c->groups[g1]; i++) {
        in_rec *r = &c->recs[i];
        if (r->src == c->rank)
            continue;
        r->data = *buf + at;
        if (pz_xchg_get(&c->a->x, r->data, r->nbytes, r->src, r->addr))
            return pz_err_set(e, PZARR_EMPI, "MPI_Get of data from rank %d failed", r->src);
        at += r->nbytes;
    }
    return 0;
}

/* Index of the last piece of the run that covers the whole chunk, or -1. */
static long last_full_cover(const flush_ctx *c, size_t i0, size_t i1, const uint64_t *ext)
{
    for (size_t i = i1; i > i0; i--) {
        const uint64_t *b = c->recs[i - 1].box;
        if (c->recs[i - 1].cut)
            continue;
        bool full = true;
        for (int d = 0; d < c->nd && full; d++)
            full = b[d] == 0 && b[c->nd + d] == ext[d];
        if (full)
            return (long)(i - 1);
    }
    return -1;
}

static void chunk_fill(pzarr_array *a, unsigned char *chunk)
{
    pz_fill_box(a->m.ndim, a->m.itemsize, a->unit, chunk, a->unit,
                (uint64_t[PZ_MAX_NDIM]){0}, a->m.fill);
}

/* Whether a piece covers its whole unit (not only the part inside the array). */
static bool whole_unit(const flush_ctx *c, const in_rec *r)
{
    for (int d = 0; d < c->nd; d++)
        if (r->box[d] != 0 || r->box[c->nd + d] != c->a->unit[d])
            return false;
    return true;
}

/* Stages a merged chunk in the flush's commit, or its removal when it is
 * all fill. */
static int store_chunk(pzarr_array *a, pz_commit *c, const uint64_t *cc, const void *chunk,
                       pz_buf *enc, pz_err *e)
{
    char key[PZ_KEY_MAX], *path = NULL;
    PZ_TRY(pz_array_chunk_path(a, cc, key, sizeof key, &path, e));
    pzarr_stats *st = PZ_STATS(a);
    int rc = 0;
    if (pz_array_unit_is_fill(a, chunk)) {
        rc = pz_commit_stage_remove(a, c, path, e);
    } else {
        pz_err inner;
        pz_err_clear(&inner);
        const void *bytes = chunk;
        size_t nbytes = a->chunk_bytes;
        if (!pz_array_identity(a)) {
            rc = pz_chunk_encode(&a->m.pipeline, a->m.ndim, a->unit, a->m.dtype, chunk,
                                 enc, &inner);
            bytes = enc->data;
            nbytes = enc->size;
        }
        if (rc)
            pz_err_set(e, rc, "\"%s\" chunk %s: %.900s", a->name, key, inner.msg);
        else
            rc = pz_commit_stage_file(a, c, path, bytes, nbytes, e);
        if (rc == 0) {
            st->chunk_writes++;
            st->bytes_written += nbytes;
        }
    }
    pz_free(path);
    return rc;
}

/* Room for one more inner chunk entry for the shard writers. */
static int so_room(pz_shard_out *so, pz_err *e)
{
    if (so->n < so->cap)
        return 0;
    size_t cap = so->cap ? so->cap * 2 : 64;
    pz_unit_out *u = pz_realloc(so->u, cap * sizeof *u);
    if (!u)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
    so->u = u;
    so->cap = cap;
    return 0;
}

/* A merged unit: a chunk file, or an encoded inner chunk kept for its shard. */
static int store_unit(flush_ctx *c, const uint64_t *ucc, uint64_t unit,
                      const unsigned char *chunk, pz_err *e)
{
    pzarr_array *a = c->a;
    if (!a->m.shard.on)
        return store_chunk(a, &c->commit, ucc, chunk, &c->enc, e);
    pz_shard_out *so = &c->so;
    PZ_TRY(so_room(so, e));
    pz_unit_out *u = &so->u[so->n];
    u->unit = unit;
    u->off = so->data.size;
    u->nbytes = PZ_SHARD_EMPTY;
    u->in_place = false;
    if (!pz_array_unit_is_fill(a, chunk)) {
        char name[300];
        pz_err inner;
        pz_err_clear(&inner);
        int rc = pz_chunk_encode(&a->m.pipeline, a->m.ndim, a->unit, a->m.dtype, chunk,
                                 &c->enc, &inner);
        if (rc) {
            pz_array_unit_name(a, ucc, name, sizeof name);
            return pz_err_set(e, rc, "\"%s\" chunk %s: %.700s", a->name, name, inner.msg);
        }
        if (pz_buf_append(&so->data, c->enc.data, c->enc.size))
            return pz_err_set(e, PZARR_ENOMEM, "out of memory in flush");
        u->nbytes = c->enc.size;
        PZ_STATS(a)->chunk_writes++;
        PZ_STATS(a)->bytes_written += c->enc.size;
    }
    so->n++;
    return 0;
}

/* A unit staged at write time into its slot of a fixed-layout shard: the
 * shard's leader learns of it with the others. */
static int shard_in_place(flush_ctx *c, const pz_stage_ent *st, pz_err *e)
{
    pz_shard_out *so = &c->so;
    PZ_TRY(so_room(so, e));
    so->u[so->n++] = (pz_unit_out){.unit = st->unit,
                                   .nbytes = st->marker ? PZ_SHARD_EMPTY : st->nbytes,
                                   .in_place = true};
    return 0;
}

/* Merges and stores the units of groups [g0, g1). */
static int merge_batch(flush_ctx *c, size_t g0, size_t g1, pz_err *e)
{
    pzarr_array *a = c->a;
    size_t n = g1 - g0;
    long *from = pz_calloc(n, sizeof *from);
    uint64_t *need = pz_calloc(n, sizeof *need);
    pz_buf *bufs = pz_calloc(n, sizeof *bufs);
    bool *present = pz_calloc(n, sizeof *present);
    /* The unit buffer of staged writes, kept with the handle: its pages are
     * already there (a worker has its own). */
    if (!c->scratch && !a->st.chunk)
        a->st.chunk = pz_malloc(a->chunk_bytes);
    unsigned char *chunk = c->scratch ? c->scratch : a->st.chunk;
    pz_commit *base = c->base ? c->base : &c->commit;
    int rc = (!from || !need || !bufs || !present || !chunk)
                 ? pz_err_set(e, PZARR_ENOMEM, "out of memory in flush")
                 : 0;
    size_t nneed = 0;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        uint64_t cc[PZ_MAX_NDIM], ext[PZ_MAX_NDIM];
        size_t i0 = c->groups[g0 + k], i1 = c->groups[g0 + k + 1];
        pz_unlinear(c->nd, a->grid, c->recs[i0].chunk, cc);
        pz_array_chunk_extent(a, cc, ext);
        from[k] = last_full_cover(c, i0, i1, ext);
        if (from[k] < 0)
            need[nneed++] = c->recs[i0].chunk;
    }
    /* One batched read of every unit that a partial write must merge into. */
    if (rc == 0 && nneed)
        rc = pz_array_fetch_units(a, nneed, need, bufs, present, false, e);
    size_t at = 0;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        size_t i0 = c->groups[g0 + k], i1 = c->groups[g0 + k + 1];
        uint64_t cc[PZ_MAX_NDIM], unit = c->recs[i0].chunk;
        pz_unlinear(c->nd, a->grid, unit, cc);
        long si = -1; /* the unit as staged at write time */
        for (size_t i = i0; i < i1 && si < 0; i++)
            if (c->recs[i].staged)
                si = (long)i;
        const pz_stage_ent *st = si >= 0 ? c->recs[si].staged : NULL;
        if (st && from[k] == si && (size_t)si == i1 - 1) {
            /* published as staged */
            pz_stage_count(a, st);
            if (a->m.shard.on)
                rc = shard_in_place(c, st, e);
            continue;
        }
        /* Written over (by a higher rank, or later here): merged again, on
         * the staged content when nothing later covers the whole unit. */
        bool staged_base = st && from[k] == si;
        if (staged_base)
            rc = pz_stage_load(a, base, st, chunk, e);
        if (st)
            pz_stage_drop(a, base, st);
        if (rc) {
            break;
        } else if (staged_base) {
            i0 = (size_t)si + 1;
        } else if (from[k] < 0) {
            if (present[at]) {
                char name[300];
                pz_array_unit_name(a, cc, name, sizeof name);
                rc = pz_array_decode(a, name, &bufs[at], chunk, e);
            } else {
                chunk_fill(a, chunk);
            }
            if (rc == 0 && pz_resize_cuts(a, cc))
                pz_resize_trim_unit(a, cc, chunk);
            at++;
        } else if ((size_t)from[k] == i1 - 1 && whole_unit(c, &c->recs[i1 - 1])) {
            /* The aligned case: one piece is the whole chunk, as it will be
             * stored; encode it where it lies (gathered first when it lies
             * inside the copy of a whole write). */
            const in_rec *w = &c->recs[i1 - 1];
            if (w->blk) {
                pz_copy_box(c->nd, a->m.itemsize, a->unit, w->data, w->blk, w->blk + c->nd,
                            chunk, a->unit, (uint64_t[PZ_MAX_NDIM]){0});
                rc = store_unit(c, cc, unit, chunk, e);
            } else {
                rc = store_unit(c, cc, unit, w->data, e);
            }
            continue;
        } else {
            chunk_fill(a, chunk);
            i0 = (size_t)from[k];
        }
        for (size_t i = i0; rc == 0 && i < i1; i++) {
            const in_rec *r = &c->recs[i];
            if (r->cut)
                continue;
            if (r->blk)
                pz_copy_box(c->nd, a->m.itemsize, r->box + c->nd, r->data, r->blk,
                            r->blk + c->nd, chunk, a->unit, r->box);
            else
                pz_copy_box(c->nd, a->m.itemsize, r->box + c->nd, r->data, r->box + c->nd,
                            (uint64_t[PZ_MAX_NDIM]){0}, chunk, a->unit, r->box);
        }
        if (rc == 0)
            rc = store_unit(c, cc, unit, chunk, e);
    }
    for (size_t k = 0; bufs && k < n; k++)
        pz_buf_free(&bufs[k]);
    pz_free(from);
    pz_free(need);
    pz_free(bufs);
    pz_free(present);
    return rc;
}

static void ctx_free(flush_ctx *c)
{
    if (c->outdir) {
        pz_xchg_detach(&c->a->x, c->outdir);
        pz_free(c->outdir);
    }
    pz_free(c->cnt);
    pz_free(c->off);
    pz_free(c->indir);
    pz_free(c->recs);
    pz_free(c->sboxes);
    pz_free(c->groups);
    pz_free(c->batch_end);
    pz_buf_free(&c->enc);
    pz_free(c->so.u);
    pz_buf_free(&c->so.data);
    pz_commit_free(&c->commit);
}

/* Every rank runs every collective step, whatever its own errors. */
static void flush_run(flush_ctx *cp, pz_err *e)
{
    pzarr_array *a = cp->a;
    flush_ctx c = *cp;
    c.esize = 5 + 2 * (size_t)c.nd;
    build_outdirs(&c, e);
    /* (count, address) of each directory reach its owner. */
    pz_xchg_publish(&a->x, c.cnt, c.off, c.outdir, c.esize * sizeof(uint64_t), e->code == 0);
    pz_xchg_lock_all(&a->x);
    if (e->code == 0 && gather_recs(&c, e) == 0)
        plan_batches(&c, e);
    int rounds = pz_max_int(a->s->comm, e->code ? 0 : c.nbatches);
    size_t g0 = 0;
    for (int r = 0; r < rounds; r++) {
        unsigned char *fetched = NULL;
        bool mine_now = e->code == 0 && r < c.nbatches;
        size_t g1 = mine_now ? c.batch_end[r] : g0;
        if (mine_now)
            fetch_batch(&c, g0, g1, &fetched, e);
        pz_xchg_flush(&a->x);
        if (c.size > 1)
            pz_barrier(a->s->comm);
        if (mine_now && e->code == 0)
            merge_batch(&c, g0, g1, e);
        pz_free(fetched);
        g0 = g1;
    }
    pz_vlen_flush(a, &c.commit, e);
    if (a->m.shard.on)
        pz_shard_flush(a, &c.commit, &c.so, e);
    pz_xchg_unlock_all(&a->x);
    if (e->code == 0)
        pz_resize_stage(a, &c.commit, e);
    *cp = c;
}

/* A flush committed earlier whose publishing failed: finish it first. */
static int finish_pending(pzarr_array *a, pz_err *e)
{
    if (!a->pending[0] || !(a->s->flags & PZARR_RDWR))
        return 0;
    if (a->s->rank == 0)
        pz_recover_array(a->s, a->dir, NULL, e);
    if (pz_collective_end(a->s->comm, PZ_ROOT_IO, e) == 0)
        a->pending[0] = '\0';
    return e->code;
}

static void req_finish(struct pzarr_request_s *r);

int pzarr_array_flush(pzarr_array *a)
{
    if (!a)
        return PZARR_EINVAL;
    if (!pz_live_has(a))
        return PZARR_EINVAL;
    if (a->req) /* a checkpoint in the background: completed first */
        req_finish(a->req);
    pz_err e;
    pz_err_clear(&e);
    if (finish_pending(a, &e) != 0) {
        pz_wbuf_clear(a);
        pz_vlen_clear(a);
        pz_stage_abort(a);
        a->err = e;
        return e.code;
    }
    if (a->wb.npieces > 0 && !(a->s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store is read-only");
    pz_err ce;
    pz_err_clear(&ce);
    pz_stage_close(a, &ce);
    if (a->st.fail.code && e.code == 0)
        pz_err_set(&e, a->st.fail.code, "a write before this flush failed: %.900s",
                   a->st.fail.msg);
    /* The commit was begun when the array was opened or last flushed, and
     * holds what the writes since have staged. */
    flush_ctx c = {.a = a, .rank = a->s->rank, .size = a->s->size, .nd = a->m.ndim};
    c.commit = a->st.c;
    memset(&a->st.c, 0, sizeof a->st.c);
    flush_run(&c, &e);
    /* The commit's first agreement is also the barrier after which no rank
     * reads another's write buffer or directories any more. */
    if (pz_commit_finish(a, &c.commit, &e) == 0)
        pz_resize_committed(a);
    ctx_free(&c);
    pz_wbuf_clear(a);
    pz_stage_begin(a);
    a->err = e;
    return e.code;
}

/* ------------------------------------------------------------ in the background */

_Thread_local pzarr_stats *pz_tls_stats;

typedef struct worker {
    struct pzarr_request_s *r;
    pid_t tid;
    bool background;   /* in a thread of its own (else run by the caller) */
    atomic_int alive;  /* its thread still runs: its tid is its own */
    flush_ctx c; /* a view of the request's: its own commit, buffers, groups */
    size_t g0, g1;
    pz_err e;
    pzarr_stats stats;
    bool started; /* handed to thread k of the array's pool (k: its index) */
} worker;

/* The array's background threads, made by its first iflush that needs them
 * and kept until it is closed, parked between requests: starting a thread
 * costs more than the rest of an iflush (0.13-0.16 ms measured here). */
typedef struct pz_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int n;                  /* threads made */
    bool quit;
    int *closing; /* for thread 0: files to close (held past their commit) */
    size_t nclosing;
    pthread_t th[PZ_MAX_IO_THREADS];
    worker *job[PZ_MAX_IO_THREADS]; /* each thread's job; NULL: parked */
    struct pool_arg {
        struct pz_pool *p;
        int k;
    } arg[PZ_MAX_IO_THREADS];
} pz_pool;

struct pzarr_request_s {
    pzarr_array *a; /* NULL once the array is closed */
    flush_ctx c;    /* the collective part's outcome; c.commit: the files */
    pz_err e;       /* of the collective part */
    pz_wbuf wb;     /* the checkpoint's write buffer */
    unsigned char *fetched; /* pieces from other ranks */
    uint64_t bytes;         /* held until the wait */
    worker *w;
    int nw;
    atomic_int running;
    atomic_int merging; /* workers still merging; the last one out syncs */
    int *held;          /* the files the commit replaces, open (hold_replaced) */
    size_t nheld;
    atomic_int full_speed;
    uint64_t throttle; /* bytes per second per worker; 0: none */
    bool done;         /* completed: rc is the outcome */
    int rc;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

enum { PZ_HELD_MAX = 256 }; /* files held open by a request at most */

static void hold_from(struct pzarr_request_s *r, const pz_commit *c, size_t cap)
{
    for (size_t i = 0; i < c->n && r->nheld < cap; i++) {
        const pz_staged *v = &c->v[i];
        if (v->dead || v->remove || v->undo)
            continue;
        int fd = open(v->target, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            r->held[r->nheld++] = fd;
    }
}

/* Opens the files the commit is to replace, so that its renames only unlink
 * them: their space is freed when a thread of the pool closes them after
 * the commit, off the caller's path (on tmpfs here freeing a 256 KiB file's
 * pages is three quarters of its 20 us rename). Called by the last worker
 * out, when workers have a core of their own; at most PZ_HELD_MAX files. */
static void hold_replaced(struct pzarr_request_s *r)
{
    size_t n = r->c.commit.n;
    for (int k = 0; k < r->nw; k++)
        n += r->w[k].c.commit.n;
    if (n > PZ_HELD_MAX)
        n = PZ_HELD_MAX;
    if (n == 0 || !(r->held = pz_malloc(n * sizeof *r->held)))
        return;
    hold_from(r, &r->c.commit, n);
    for (int k = 0; k < r->nw; k++)
        hold_from(r, &r->w[k].c.commit, n);
}

/* Merges, encodes and writes its chunks; no MPI. */
static void *work(void *p)
{
    worker *w = p;
    pz_tls_stats = &w->stats;
    /* Background: the simulation's threads come first (the lowest
     * priority; pzarr_wait raises it back when it may). */
    w->tid = gettid();
    /* With no core of its own a worker runs at the simulation's priority:
     * what it is left with (pieces to merge, files to sync) is short work
     * between waits on the device, best done at once. */
    if (w->background && w->c.a->s->spare_core > 0 && !getenv("PZARR_WORKER_NICE0"))
        setpriority(PRIO_PROCESS, (id_t)w->tid, 19);
    double t0 = now_s();
    for (size_t g = w->g0; g < w->g1 && w->e.code == 0; g++) {
        merge_batch(&w->c, g, g + 1, &w->e);
        pz_test_crash_point(w->c.a->s, "background");
        uint64_t rate = w->r->throttle;
        while (rate && !atomic_load(&w->r->full_speed)) {
            double late = t0 + (double)w->stats.bytes_written / (double)rate - now_s();
            if (late <= 0)
                break;
            struct timespec ts = {0, (long)(1e9 * (late < 0.01 ? late : 0.01))};
            nanosleep(&ts, NULL);
        }
    }
    /* The last worker out, when every worker succeeded: in a durable async
     * store it syncs every file of the checkpoint, the writes' and the
     * workers' (nobody writes them any more); with a core of its own it
     * holds the files the commit will replace open (hold_replaced). */
    struct pzarr_request_s *r = w->r;
    if (atomic_fetch_sub(&r->merging, 1) == 1) {
        bool ok = true;
        for (int k = 0; k < r->nw; k++)
            ok = ok && r->w[k].e.code == 0;
        if (ok && w->c.a->s->defer_sync) {
            pz_commit_sync_staged(&r->c.commit, &w->e);
            for (int k = 0; k < r->nw && w->e.code == 0; k++)
                pz_commit_sync_staged(&r->w[k].c.commit, &w->e);
        }
        if (ok && w->e.code == 0 && w->background && w->c.a->s->spare_core > 0)
            hold_replaced(r);
    }
    atomic_store(&w->alive, 0);
    atomic_fetch_sub(&r->running, 1);
    return NULL;
}

/* How long thread 0 leaves the files of a finished commit open: their
 * space is freed while the simulation computes, not while the write right
 * after the wait copies (freeing pages beside a copy slows the copy). */
#define PZ_CLOSE_DELAY_NS 50000000L

static void *pool_main(void *p)
{
    struct pool_arg *arg = p;
    pz_pool *pl = arg->p;
    bool closer = arg->k == 0;
    pthread_mutex_lock(&pl->mu);
    for (;;) {
        /* Thread 0 closes held files at its next job, at the quit, or after
         * PZ_CLOSE_DELAY_NS idle, whichever comes first. */
        bool late = false;
        while (!pl->job[arg->k] && !pl->quit && !late) {
            if (closer && pl->nclosing) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += PZ_CLOSE_DELAY_NS;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                late = pthread_cond_timedwait(&pl->go, &pl->mu, &ts) == ETIMEDOUT;
            } else {
                pthread_cond_wait(&pl->go, &pl->mu);
            }
        }
        if (closer && pl->nclosing) {
            int *fd = pl->closing;
            size_t n = pl->nclosing;
            pl->closing = NULL;
            pl->nclosing = 0;
            pthread_mutex_unlock(&pl->mu);
            for (size_t i = 0; i < n; i++)
                close(fd[i]);
            pz_free(fd);
            pthread_mutex_lock(&pl->mu);
            continue;
        }
        worker *w = pl->job[arg->k];
        if (!w)
            break; /* quit, nothing left to do */
        pthread_mutex_unlock(&pl->mu);
        work(w);
        pthread_mutex_lock(&pl->mu);
        pl->job[arg->k] = NULL;
        pthread_cond_broadcast(&pl->done);
    }
    pthread_mutex_unlock(&pl->mu);
    return NULL;
}

/* Hands w to thread k of the array's pool, making the pool and the thread
 * when missing. 0, or -1 when no thread could be had. */
static int pool_start(pzarr_array *a, int k, worker *w)
{
    pz_pool *pl = a->pool;
    if (!pl) {
        pl = pz_calloc(1, sizeof *pl);
        if (!pl)
            return -1;
        if (pthread_mutex_init(&pl->mu, NULL) != 0) {
            pz_free(pl);
            return -1;
        }
        if (pthread_cond_init(&pl->go, NULL) != 0) {
            pthread_mutex_destroy(&pl->mu);
            pz_free(pl);
            return -1;
        }
        if (pthread_cond_init(&pl->done, NULL) != 0) {
            pthread_cond_destroy(&pl->go);
            pthread_mutex_destroy(&pl->mu);
            pz_free(pl);
            return -1;
        }
        a->pool = pl;
    }
    pthread_mutex_lock(&pl->mu);
    int rc = 0;
    while (rc == 0 && pl->n <= k) { /* threads are made in order */
        pl->arg[pl->n] = (struct pool_arg){pl, pl->n};
        if (pthread_create(&pl->th[pl->n], NULL, pool_main, &pl->arg[pl->n]) != 0)
            rc = -1;
        else
            pl->n++;
    }
    if (rc == 0) {
        pl->job[k] = w;
        pthread_cond_broadcast(&pl->go);
    }
    pthread_mutex_unlock(&pl->mu);
    return rc;
}

/* The files a request held (hold_replaced), closed by thread 0 of the pool
 * (which a request with held files has; else here), at its next job or
 * PZ_CLOSE_DELAY_NS after the wait. */
static void pool_close(pzarr_array *a, int *fd, size_t n)
{
    pz_pool *pl = a->pool;
    if (!fd)
        return;
    if (pl && pl->n > 0) {
        bool taken = false;
        pthread_mutex_lock(&pl->mu);
        if (pl->nclosing == 0) {
            pl->closing = fd;
            pl->nclosing = n;
            taken = true;
        } else {
            int *all = pz_realloc(pl->closing, (pl->nclosing + n) * sizeof *all);
            if (all) {
                memcpy(all + pl->nclosing, fd, n * sizeof *fd);
                pl->closing = all;
                pl->nclosing += n;
                pz_free(fd);
                taken = true;
            }
        }
        pthread_cond_broadcast(&pl->go);
        pthread_mutex_unlock(&pl->mu);
        if (taken)
            return;
    }
    for (size_t i = 0; i < n; i++)
        close(fd[i]);
    pz_free(fd);
}

/* Waits until thread k of the pool is done with its job. */
static void pool_join(pzarr_array *a, int k)
{
    pz_pool *pl = a->pool;
    pthread_mutex_lock(&pl->mu);
    while (pl->job[k])
        pthread_cond_wait(&pl->done, &pl->mu);
    pthread_mutex_unlock(&pl->mu);
}

/* Ends the pool's threads (parked: no request is pending). */
static void pool_free(pzarr_array *a)
{
    pz_pool *pl = a->pool;
    if (!pl)
        return;
    pthread_mutex_lock(&pl->mu);
    pl->quit = true;
    pthread_cond_broadcast(&pl->go);
    pthread_mutex_unlock(&pl->mu);
    for (int k = 0; k < pl->n; k++)
        pthread_join(pl->th[k], NULL);
    pthread_cond_destroy(&pl->done);
    pthread_cond_destroy(&pl->go);
    pthread_mutex_destroy(&pl->mu);
    pz_free(pl);
    a->pool = NULL;
}

/* Whether this array's flush can run in the background (the same answer on
 * every rank). */
static bool background_ok(const pzarr_array *a)
{
    return a->s->thread_level >= MPI_THREAD_FUNNELED && !a->m.shard.on &&
           !pz_dtype_is_vlen(a->m.dtype) && a->s->chunk_info == MPI_INFO_NULL &&
           (a->s->flags & PZARR_RDWR) && !a->vw.n;
}

static void add_stats(pzarr_stats *to, const pzarr_stats *from)
{
    to->chunk_reads += from->chunk_reads;
    to->chunk_writes += from->chunk_writes;
    to->chunk_deletes += from->chunk_deletes;
    to->bytes_read += from->bytes_read;
    to->bytes_written += from->bytes_written;
    to->chunk_rewrites += from->chunk_rewrites;
}

/* The files a worker staged join the request's commit. */
static int take_commit(pz_commit *to, pz_commit *from, pz_err *e)
{
    for (size_t i = 0; i < from->n; i++) {
        if (to->n == to->cap) {
            size_t cap = to->cap ? 2 * to->cap : 64;
            pz_staged *v = pz_realloc(to->v, cap * sizeof *v);
            if (!v) {
                for (; i < from->n; i++) /* not published: undone below */
                    pz_commit_drop(from, i);
                return pz_err_set(e, PZARR_ENOMEM, "out of memory finishing a flush");
            }
            to->v = v;
            to->cap = cap;
        }
        to->v[to->n++] = from->v[i];
    }
    pz_free(from->v);
    memset(from, 0, sizeof *from);
    return 0;
}

/* Completes a request (collective): this rank's workers joined, every
 * rank's outcome agreed, the commit published; everything it held freed. */
static void req_finish(struct pzarr_request_s *r)
{
    pzarr_array *a = r->a;
    pz_err e = r->e;
    atomic_store(&r->full_speed, 1);
    for (int k = 0; k < r->nw; k++) /* back to full speed (fails unprivileged: fine) */
        if (r->w[k].background && r->w[k].tid > 0 && atomic_load(&r->w[k].alive))
            setpriority(PRIO_PROCESS, (id_t)r->w[k].tid, 0);
    for (int k = 0; k < r->nw; k++) {
        worker *w = &r->w[k];
        if (w->started)
            pool_join(a, k);
        add_stats(&a->s->stats, &w->stats);
        if (w->e.code && e.code == 0)
            e = w->e;
        take_commit(&r->c.commit, &w->c.commit, &e);
        pz_free(w->c.scratch);
        pz_buf_free(&w->c.enc);
    }
    pz_free(r->w);
    r->w = NULL;
    r->nw = 0;
    pz_test_crash_point(a->s, "waiting");
    if (pz_commit_finish(a, &r->c.commit, &e) == 0)
        pz_resize_committed(a);
    pool_close(a, r->held, r->nheld);
    r->held = NULL;
    r->nheld = 0;
    ctx_free(&r->c);
    pz_free(r->fetched);
    r->fetched = NULL;
    pz_wbuf_release(a, &r->wb);
    a->s->stats.inflight_bytes = 0;
    r->done = true;
    r->rc = e.code;
    a->req = NULL;
    a->err = e;
}

int pzarr_array_iflush(pzarr_array *a, pzarr_request *req)
{
    if (!a || !pz_live_has(a) || !req)
        return PZARR_EINVAL;
    *req = NULL;
    if (a->req)
        req_finish(a->req);
    pz_store_spare_core(a->s); /* collective the first time */
    struct pzarr_request_s *r = pz_calloc(1, sizeof *r);
    if (r && pz_live_add(r) != 0) {
        pz_free(r);
        r = NULL;
    }
    /* every rank in the background, or every rank at once */
    int ok = -pz_max_int(a->s->comm, -(r && background_ok(a)));
    if (!ok || !r) {
        int rc = pzarr_array_flush(a);
        if (!r)
            return rc ? rc : PZARR_ENOMEM;
        r->a = a;
        r->done = true;
        r->rc = rc;
        a->last_req = r;
        *req = r;
        return 0;
    }
    r->a = a;
    a->last_req = r;
    a->req = r;
    pz_err_clear(&r->e);
    pz_err *e = &r->e;
    finish_pending(a, e);
    pz_err ce;
    pz_err_clear(&ce);
    pz_stage_close(a, &ce);
    if (a->st.fail.code && e->code == 0)
        pz_err_set(e, a->st.fail.code, "a write before this flush failed: %.900s",
                   a->st.fail.msg);
    flush_ctx *c = &r->c;
    *c = (flush_ctx){.a = a, .rank = a->s->rank, .size = a->s->size, .nd = a->m.ndim};
    c->esize = 5 + 2 * (size_t)c->nd;
    /* The collective part: directories, then every piece of another rank
     * fetched by its owner, all inside this call. */
    build_outdirs(c, e);
    pz_xchg_publish(&a->x, c->cnt, c->off, c->outdir, c->esize * sizeof(uint64_t), e->code == 0);
    pz_xchg_lock_all(&a->x);
    if (e->code == 0 && gather_recs(c, e) == 0)
        plan_batches(c, e);
    if (e->code == 0 && c->ngroups)
        fetch_batch(c, 0, c->ngroups, &r->fetched, e);
    pz_xchg_flush(&a->x);
    if (c->size > 1)
        pz_barrier(a->s->comm); /* nobody reads another's buffer after this */
    pz_xchg_unlock_all(&a->x);
    if (c->outdir) {
        pz_xchg_detach(&a->x, c->outdir);
        pz_free(c->outdir);
        c->outdir = NULL;
    }
    /* The checkpoint's buffers go with the request; the next writes start
     * afresh, staging under the next flush's id. */
    r->wb = a->wb;
    memset(&a->wb, 0, sizeof a->wb);
    c->commit = a->st.c; /* the staging buffers stay, reused by the next writes */
    memset(&a->st.c, 0, sizeof a->st.c);
    pz_stage_begin(a);
    /* a resize since the last flush: its document (and the removal of chunks
     * it cut off) in this commit, staged here, before the workers start */
    if (e->code == 0)
        pz_resize_stage(a, &c->commit, e);
    for (size_t i = 0; e->code == 0 && i < c->nrecs; i++)
        if (c->recs[i].src != c->rank)
            r->bytes += c->recs[i].nbytes;
    r->bytes += r->wb.bytes;
    pzarr_stats *st = &a->s->stats;
    st->iflushes++;
    st->inflight_bytes = r->bytes;
    if (r->bytes > st->inflight_peak)
        st->inflight_peak = r->bytes;
    int nw = a->s->io_threads;
    bool to_sync = false; /* files the writes staged, to sync in the background */
    for (size_t i = 0; i < c->commit.n && !to_sync; i++)
        to_sync = c->commit.v[i].unsynced;
    if ((size_t)nw > c->ngroups)
        nw = c->ngroups ? (int)c->ngroups : to_sync;
    if (e->code || nw <= 0)
        nw = 0;
    r->w = nw ? pz_calloc((size_t)nw, sizeof *r->w) : NULL;
    if (nw && !r->w) {
        pz_err_set(e, PZARR_ENOMEM, "out of memory starting the background flush");
        nw = 0;
    }
    r->nw = nw;
    r->throttle = nw ? a->s->throttle / (uint64_t)nw : 0;
    atomic_store(&r->running, nw);
    atomic_store(&r->merging, nw);
    for (int k = 0; k < nw; k++) {
        worker *w = &r->w[k];
        w->r = r;
        w->c = *c;
        memset(&w->c.commit, 0, sizeof w->c.commit);
        memcpy(w->c.commit.id, c->commit.id, sizeof c->commit.id);
        memset(&w->c.enc, 0, sizeof w->c.enc);
        w->c.base = &c->commit;
        w->c.scratch = pz_malloc(a->chunk_bytes);
        w->g0 = c->ngroups * (size_t)k / (size_t)nw;
        w->g1 = c->ngroups * (size_t)(k + 1) / (size_t)nw;
        atomic_store(&w->alive, 1);
        w->background = true;
        if (!w->c.scratch) {
            pz_err_set(&w->e, PZARR_ENOMEM, "out of memory for a background worker");
            atomic_store(&w->alive, 0);
            atomic_fetch_sub(&r->merging, 1);
            atomic_fetch_sub(&r->running, 1);
        } else if (pool_start(a, k, w) == 0) {
            w->started = true;
        } else {
            w->background = false;
            work(w); /* no thread to be had: the work is done here */
        }
    }
    *req = r;
    return 0;
}

int pzarr_wait(pzarr_request *req)
{
    if (!req || !*req || !pz_live_has(*req))
        return PZARR_EINVAL;
    struct pzarr_request_s *r = *req;
    int rc = PZARR_EINVAL; /* its array was closed (close reported the outcome) */
    if (r->a) {
        if (!r->done)
            req_finish(r);
        rc = r->rc;
        if (r->a->last_req == r)
            r->a->last_req = NULL;
    }
    pz_live_remove(r);
    pz_free(r);
    *req = NULL;
    return rc;
}

int pzarr_test(pzarr_request *req, int *done)
{
    if (!req || !*req || !pz_live_has(*req) || !done)
        return PZARR_EINVAL;
    struct pzarr_request_s *r = *req;
    *done = r->done || !r->a || atomic_load(&r->running) == 0;
    return 0;
}

void pz_request_close(pzarr_array *a)
{
    if (a->req)
        req_finish(a->req);
    pool_free(a);
    if (a->last_req)
        a->last_req->a = NULL;
    a->last_req = NULL;
}
