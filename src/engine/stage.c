/*
 * Staged writes. A piece of pzarr_array_write that covers a whole unit this
 * rank owns does not wait in the write buffer: it is encoded and written at
 * once under the next flush's staged name, <key>.pzarr-tmp-<id> (commit.c),
 * straight from the caller's buffer when the unit lies there contiguously
 * and needs no encoding, else through one reused unit buffer. The flush then
 * publishes it with everything else it stages, or merges it again when
 * another rank (or a later write of this rank) also wrote into the unit, so
 * the consistency model holds as for buffered pieces. The flush id is fixed
 * when the array is opened and after each flush (both collective), so every
 * rank stages under the same id.
 */
#include "engine.h"

#include <string.h>
#include <unistd.h>

/* Closes the staged shard kept open (synced first when durable). */
static int close_shard(pzarr_array *a, pz_err *e)
{
    pz_stage *st = &a->st;
    if (!st->sf_path)
        return 0;
    int rc = 0;
    if (a->s->flags & PZARR_DURABLE)
        rc = st->sf.be->sync(&st->sf, e);
    int crc = st->sf.be->close(&st->sf, rc ? NULL : e);
    pz_free(st->sf_path);
    st->sf_path = NULL;
    return rc ? rc : crc;
}

int pz_stage_close(pzarr_array *a, pz_err *e)
{
    int rc = close_shard(a, e);
    if (rc && !a->st.fail.code)
        a->st.fail = *e;
    return rc;
}

void pz_stage_begin(pzarr_array *a)
{
    pz_stage *st = &a->st;
    close_shard(a, NULL);
    pz_commit_free(&st->c);
    pz_commit_begin(a, &st->c);
    st->n = 0;
    if (st->slots)
        memset(st->slots, 0, st->nslots * sizeof *st->slots);
    pz_err_clear(&st->fail);
}

void pz_stage_abort(pzarr_array *a)
{
    pz_commit *c = &a->st.c;
    close_shard(a, NULL);
    for (size_t i = 0; i < c->n; i++)
        if (!c->v[i].dead)
            pz_commit_drop(c, i);
    pz_stage_begin(a);
}

void pz_stage_free(pzarr_array *a)
{
    pz_stage *st = &a->st;
    close_shard(a, NULL);
    pz_commit_free(&st->c);
    pz_free(st->v);
    pz_free(st->slots);
    pz_free(st->chunk);
    pz_buf_free(&st->enc);
    memset(st, 0, sizeof *st);
}

static size_t slot_of(uint64_t unit, size_t nslots)
{
    return (size_t)((unit * 0x9E3779B97F4A7C15ull) >> 17) & (nslots - 1);
}

const pz_stage_ent *pz_stage_find(const pzarr_array *a, uint64_t unit)
{
    const pz_stage *st = &a->st;
    if (st->n == 0)
        return NULL;
    for (size_t h = slot_of(unit, st->nslots);; h = (h + 1) & (st->nslots - 1)) {
        size_t k = st->slots[h];
        if (k == 0)
            return NULL;
        if (st->v[k - 1].unit == unit)
            return &st->v[k - 1];
    }
}

/* The entry of unit, made when missing. */
static pz_stage_ent *ent_for(pz_stage *st, uint64_t unit, bool *fresh)
{
    if (2 * (st->n + 1) > st->nslots) {
        size_t ns = st->nslots ? 2 * st->nslots : 256;
        size_t *slots = pz_calloc(ns, sizeof *slots);
        pz_stage_ent *v = pz_realloc(st->v, ns / 2 * sizeof *v);
        if (!slots || !v) {
            pz_free(slots);
            if (v)
                st->v = v;
            return NULL;
        }
        st->v = v;
        st->cap = ns / 2;
        for (size_t i = 0; i < st->n; i++) {
            size_t h = slot_of(v[i].unit, ns);
            while (slots[h])
                h = (h + 1) & (ns - 1);
            slots[h] = i + 1;
        }
        pz_free(st->slots);
        st->slots = slots;
        st->nslots = ns;
    }
    size_t h = slot_of(unit, st->nslots);
    for (; st->slots[h]; h = (h + 1) & (st->nslots - 1))
        if (st->v[st->slots[h] - 1].unit == unit) {
            *fresh = false;
            return &st->v[st->slots[h] - 1];
        }
    st->slots[h] = ++st->n;
    *fresh = true;
    pz_stage_ent *s = &st->v[st->n - 1];
    *s = (pz_stage_ent){.unit = unit, .slot = SIZE_MAX};
    return s;
}

bool pz_stage_fits(const pzarr_array *a, const pz_chunk_iter *it)
{
    if ((a->m.shard.on && !pz_shard_fixed(a)) || a->st.fail.code ||
        pz_owner_of(&a->om, it->cc) != a->s->rank)
        return false;
    uint64_t ext[PZ_MAX_NDIM];
    pz_array_chunk_extent(a, it->cc, ext);
    for (int d = 0; d < a->m.ndim; d++)
        if (it->cstart[d] != 0 || it->n[d] != ext[d])
            return false;
    return true;
}

/* Where a box of the caller's buffer starts, when its elements follow one
 * another there (C order); NULL otherwise. */
static const unsigned char *contiguous_at(int nd, size_t is, const uint64_t *n,
                                          const void *buf, const uint64_t *count,
                                          const uint64_t *bstart)
{
    int j = -1; /* the outermost dimension that the box does not span */
    for (int d = nd - 1; d >= 0; d--)
        if (n[d] != count[d]) {
            j = d;
            break;
        }
    for (int d = 0; d < j; d++)
        if (n[d] != 1)
            return NULL;
    uint64_t off = 0;
    for (int d = 0; d < nd; d++)
        off = off * count[d] + bstart[d];
    return (const unsigned char *)buf + off * is;
}

/* Records a failure: the write reports it, the next flush fails with it. */
static int stage_failed(pzarr_array *a, pz_err *e)
{
    a->st.fail = *e;
    return e->code;
}

/* The staged file of shard `shard`, open for writing: the one kept open,
 * or opened (created, with its directory) and recorded for undoing. */
static int open_shard(pzarr_array *a, uint64_t shard, pz_err *e)
{
    pz_stage *st = &a->st;
    if (st->sf_path && st->sf_shard == shard)
        return 0;
    PZ_TRY(close_shard(a, e));
    uint64_t scc[PZ_MAX_NDIM];
    char key[PZ_KEY_MAX], *path = NULL;
    pz_unlinear(a->m.ndim, a->sgrid, shard, scc);
    PZ_TRY(pz_array_chunk_path(a, scc, key, sizeof key, &path, e));
    char *tmp = pz_commit_name(path, st->c.id, false);
    bool fresh = false;
    pz_stage_ent *mark = tmp ? ent_for(st, PZ_STAGE_SHARD | shard, &fresh) : NULL;
    int rc = mark ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory staging a write");
    if (rc == 0 && fresh)
        rc = pz_commit_add_undo(&st->c, path, e);
    const pz_backend *be = pz_backend_for(a->s->chunk_info);
    int mode = PZ_FILE_WRITE | PZ_FILE_CREATE;
    if (rc == 0 && (rc = be->open(&st->sf, tmp, mode, a->s->chunk_info, e)) == PZARR_ENOENT) {
        pz_err_clear(e);
        rc = pz_array_chunk_parent(a, tmp, e);
        if (rc == 0)
            rc = be->open(&st->sf, tmp, mode, a->s->chunk_info, e);
    }
    pz_free(path);
    if (rc) {
        pz_free(tmp);
        return rc;
    }
    st->sf_path = tmp;
    st->sf.path = tmp;
    st->sf_shard = shard;
    return 0;
}

/* A whole inner chunk of a fixed-layout shard: written into its slot of
 * the staged shard file (an all-fill one is left out of the index). */
static int stage_inner(pzarr_array *a, const pz_chunk_iter *it, uint64_t seq,
                       const unsigned char *data, bool fill, pz_err *e)
{
    pz_stage *st = &a->st;
    uint64_t unit = pz_linear(a->m.ndim, a->grid, it->cc), shard, inner;
    pz_shard_place(a, unit, &shard, &inner);
    /* The shard first: opening it may add its entry and move the others. */
    int rc = fill ? 0 : open_shard(a, shard, e);
    if (rc == 0 && !fill)
        rc = st->sf.be->write_at(&st->sf, pz_shard_slot(a, inner), data, a->chunk_bytes, e);
    if (rc)
        return stage_failed(a, e);
    bool fresh;
    pz_stage_ent *s = ent_for(st, unit, &fresh);
    if (!s) {
        pz_err_set(e, PZARR_ENOMEM, "out of memory staging a write");
        return stage_failed(a, e);
    }
    s->seq = seq;
    s->marker = fill;
    s->nbytes = fill ? 0 : a->chunk_bytes;
    s->slot = SIZE_MAX;
    if (!fresh)
        PZ_STATS(a)->chunk_rewrites++;
    return 0;
}

int pz_stage_unit(pzarr_array *a, const pz_chunk_iter *it, uint64_t seq, const void *buf,
                  const uint64_t *count, pz_err *e)
{
    pz_stage *st = &a->st;
    int nd = a->m.ndim;
    size_t is = a->m.itemsize;
    bool padded = false;
    for (int d = 0; d < nd; d++)
        padded |= it->n[d] != a->unit[d];
    const unsigned char *data = padded ? NULL : contiguous_at(nd, is, it->n, buf, count,
                                                              it->bstart);
    if (!data) {
        if (!st->chunk && !(st->chunk = pz_malloc(a->chunk_bytes))) {
            pz_err_set(e, PZARR_ENOMEM, "out of memory staging a write");
            return stage_failed(a, e);
        }
        if (padded)
            pz_fill_box(nd, is, a->unit, st->chunk, a->unit, (uint64_t[PZ_MAX_NDIM]){0},
                        a->m.fill);
        pz_copy_box(nd, is, it->n, buf, count, it->bstart, st->chunk, a->unit,
                    (uint64_t[PZ_MAX_NDIM]){0});
        data = st->chunk;
    }
    bool fill = pz_array_unit_is_fill(a, data);
    if (a->m.shard.on)
        return stage_inner(a, it, seq, data, fill, e);
    const void *bytes = data;
    size_t nbytes = a->chunk_bytes;
    if (!fill && !pz_array_identity(a)) {
        pz_err inner;
        pz_err_clear(&inner);
        char name[300];
        if (pz_chunk_encode(&a->m.pipeline, nd, a->unit, a->m.dtype, data, &st->enc,
                            &inner) != 0) {
            pz_array_unit_name(a, it->cc, name, sizeof name);
            pz_err_set(e, inner.code, "\"%s\" chunk %s: %.900s", a->name, name, inner.msg);
            return stage_failed(a, e);
        }
        bytes = st->enc.data;
        nbytes = st->enc.size;
    }
    bool fresh;
    pz_stage_ent *s = ent_for(st, pz_linear(nd, a->grid, it->cc), &fresh);
    if (!s) {
        pz_err_set(e, PZARR_ENOMEM, "out of memory staging a write");
        return stage_failed(a, e);
    }
    int rc = 0;
    if (!fresh && !s->marker && !fill) {
        rc = pz_commit_restage_file(a, &st->c, s->slot, bytes, nbytes, e);
    } else if (!fresh && s->marker && fill) {
        /* staged as fill already */
    } else {
        if (!fresh && s->slot != SIZE_MAX)
            pz_commit_drop(&st->c, s->slot);
        char key[PZ_KEY_MAX], *path = NULL;
        size_t n0 = st->c.n;
        rc = pz_array_chunk_path(a, it->cc, key, sizeof key, &path, e);
        if (rc == 0)
            rc = fill ? pz_commit_stage_remove(a, &st->c, path, e)
                      : pz_commit_stage_file(a, &st->c, path, bytes, nbytes, e);
        pz_free(path);
        s->slot = st->c.n > n0 ? n0 : SIZE_MAX;
        s->marker = fill;
    }
    s->seq = seq;
    s->nbytes = fill ? 0 : nbytes;
    if (rc)
        return stage_failed(a, e);
    if (!fresh)
        PZ_STATS(a)->chunk_rewrites++;
    return 0;
}

int pz_stage_resolve(const pzarr_array *a, uint64_t unit, char **path, pz_err *e)
{
    const pz_stage_ent *s = pz_stage_find(a, unit);
    if (!s)
        return 0;
    char *staged = s->marker ? NULL : pz_commit_name(*path, a->st.c.id, false);
    if (!s->marker && !staged)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_free(*path);
    *path = staged;
    return 0;
}

int pz_stage_read_inner(pzarr_array *a, const char *id, const pz_stage_ent *s, pz_buf *out,
                        pz_err *e)
{
    uint64_t shard, inner, scc[PZ_MAX_NDIM];
    char key[PZ_KEY_MAX], *path = NULL;
    pz_shard_place(a, s->unit, &shard, &inner);
    pz_unlinear(a->m.ndim, a->sgrid, shard, scc);
    PZ_TRY(pz_array_chunk_path(a, scc, key, sizeof key, &path, e));
    char *tmp = pz_commit_name(path, id, false);
    pz_free(path);
    if (!tmp || pz_buf_reserve(out, a->chunk_bytes) != 0) {
        pz_free(tmp);
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    }
    const pz_backend *be = pz_backend_for(a->s->chunk_info);
    pz_file f;
    size_t got = 0;
    int rc = be->open(&f, tmp, PZ_FILE_READ, a->s->chunk_info, e);
    if (rc == 0) {
        rc = be->read_at(&f, pz_shard_slot(a, inner), out->data, a->chunk_bytes, &got, e);
        be->close(&f, NULL);
    }
    if (rc == 0 && got != a->chunk_bytes)
        rc = pz_err_set(e, PZARR_ECORRUPT, "%s: short read of a staged inner chunk", tmp);
    out->size = got;
    pz_free(tmp);
    return rc;
}

int pz_stage_load(pzarr_array *a, const pz_commit *c, const pz_stage_ent *s,
                  unsigned char *chunk, pz_err *e)
{
    if (s->marker) {
        pz_fill_box(a->m.ndim, a->m.itemsize, a->unit, chunk, a->unit,
                    (uint64_t[PZ_MAX_NDIM]){0}, a->m.fill);
        return 0;
    }
    pz_buf b = {0};
    if (a->m.shard.on) {
        int rc = pz_stage_read_inner(a, c->id, s, &b, e);
        if (rc == 0)
            rc = pz_array_decode(a, "(staged inner chunk)", &b, chunk, e);
        pz_buf_free(&b);
        return rc;
    }
    char *tmp = pz_commit_name(c->v[s->slot].target, c->id, false);
    int rc = tmp ? pz_io_read_file(tmp, &b, e) : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    if (rc == 0)
        rc = pz_array_decode(a, tmp, &b, chunk, e);
    pz_buf_free(&b);
    pz_free(tmp);
    return rc;
}

void pz_stage_drop(pzarr_array *a, pz_commit *c, const pz_stage_ent *s)
{
    if (s->slot != SIZE_MAX)
        pz_commit_drop(c, s->slot);
    PZ_STATS(a)->chunk_rewrites++;
}

void pz_stage_count(pzarr_array *a, const pz_stage_ent *s)
{
    if (!s->marker) {
        PZ_STATS(a)->chunk_writes++;
        PZ_STATS(a)->bytes_written += s->nbytes;
    }
}
