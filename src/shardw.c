/*
 * Writing shards in parallel, inside pzarr_array_flush.
 *
 * The owners of inner chunks have encoded them. Each shard has a leader (the
 * owner of its first inner chunk). Writers put (count, address) of their
 * entry lists into the leaders' slots; a leader fetches the entries of its
 * shards, lays each new shard out (every writer's inner chunks contiguous,
 * in rank order, then the untouched inner chunks of the old shard, copied
 * as they are), writes the copies and the index into a temporary file beside
 * the shard, and puts each writer's offsets back. After a barrier every
 * writer writes its bytes with one MPI-IO call per shard; after all ranks
 * agree that every write succeeded, leaders rename the temporary files over
 * the shards. A job killed at any moment leaves each shard old or new.
 */
#include "pz_array.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SE 4 /* entry words: shard, inner, nbytes, reply offset */
#define PZ_EMPTY UINT64_MAX
#define TMP_SUFFIX ".pzarr-tmp-shard"

typedef struct in_ent {
    uint64_t shard, inner, nbytes;
    int src;
    uint64_t raddr; /* address of the reply word at the source */
    uint64_t offset;
} in_ent;

typedef struct lead_shard {
    uint64_t shard;
    char *path, *tmp;
    bool remove; /* every inner chunk is empty: no shard file */
    bool touched_tmp;
} lead_shard;

typedef struct sw_ctx {
    pzarr_array *a;
    int rank, size, nd;
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

static int shard_paths(pzarr_array *a, uint64_t shard, char *key, size_t cap, char **path,
                       char **tmp, pz_err *e)
{
    uint64_t scc[PZ_MAX_NDIM];
    pz_unlinear(a->m.ndim, a->sgrid, shard, scc);
    PZ_TRY(pz_array_chunk_path(a, scc, key, cap, path, e));
    *tmp = pz_malloc(strlen(*path) + sizeof TMP_SUFFIX);
    if (!*tmp)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    sprintf(*tmp, "%s%s", *path, TMP_SUFFIX);
    return 0;
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
        w[3] = PZ_EMPTY;
        c->cnt[leader]++;
    }
    c->nout = so->n;
    for (int o = 1; o < c->size; o++)
        c->off[o] = c->off[o - 1] + c->cnt[o - 1];
    if (MPI_Win_attach(a->win_data, c->out, (MPI_Aint)((so->n ? so->n : 1) * SE * 8)) !=
        MPI_SUCCESS)
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
    uint64_t n = 0;
    for (int s = 0; s < c->size; s++)
        n += a->slots[2 * s];
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
        uint64_t k = a->slots[2 * s];
        if (k)
            MPI_Get(raw + SE * at, (int)(SE * k), MPI_UINT64_T, s,
                    (MPI_Aint)a->slots[2 * s + 1], (int)(SE * k), MPI_UINT64_T, a->win_data);
        at += k;
    }
    MPI_Win_flush_all(a->win_data);
    at = 0;
    uint64_t nshards = pz_meta_nchunks(&a->m), ninner = pz_shard_inner_count(&a->m);
    int rc = 0;
    for (int s = 0; s < c->size; s++)
        for (uint64_t i = 0; i < a->slots[2 * s]; i++, at++) {
            const uint64_t *w = raw + SE * at;
            if (w[0] >= nshards || w[1] >= ninner)
                rc = pz_err_set(e, PZARR_EMPI, "shard writer received a malformed entry");
            c->in[at] = (in_ent){w[0], w[1], w[2], s,
                                 a->slots[2 * s + 1] + (SE * i + 3) * sizeof(uint64_t), 0};
        }
    c->nin = (size_t)n;
    pz_free(raw);
    qsort(c->in, c->nin, sizeof *c->in, cmp_in);
    return rc;
}

static int copy_range(MPI_File from, uint64_t off, MPI_File to, uint64_t dst, uint64_t len,
                      pz_err *e)
{
    unsigned char *buf = pz_malloc(len ? (size_t)len : 1);
    if (!buf || len > INT_MAX) {
        pz_free(buf);
        return pz_err_set(e, PZARR_ENOMEM, "cannot copy an inner chunk of %llu bytes",
                          (unsigned long long)len);
    }
    MPI_Status st;
    int rc = 0;
    if (MPI_File_read_at(from, (MPI_Offset)off, buf, (int)len, MPI_BYTE, &st) != MPI_SUCCESS ||
        MPI_File_write_at(to, (MPI_Offset)dst, buf, (int)len, MPI_BYTE, &st) != MPI_SUCCESS)
        rc = pz_err_set(e, PZARR_EIO, "cannot copy an inner chunk into a new shard");
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
    const pz_meta *m = &a->m;
    uint64_t ninner = pz_shard_inner_count(m), ib = pz_shard_index_bytes(m);
    char key[256];
    PZ_TRY(shard_paths(a, ls->shard, key, sizeof key, &ls->path, &ls->tmp, e));
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
        old[i] = idx[i] = PZ_EMPTY;
    MPI_File oldfh = MPI_FILE_NULL, fh = MPI_FILE_NULL;
    uint64_t oldsize = 0;
    int rc = pz_shard_open_index(a, ls->path, key, &oldfh, old, &oldsize, e);
    uint64_t cur = m->shard.index_at_start ? ib : 0;
    for (size_t i = i0; rc == 0 && i < i1; i++) {
        in_ent *t = &c->in[i];
        touched[t->inner] = true;
        t->offset = PZ_EMPTY;
        if (t->nbytes == PZ_EMPTY)
            continue;
        t->offset = cur;
        idx[2 * t->inner] = cur;
        idx[2 * t->inner + 1] = t->nbytes;
        cur += t->nbytes;
    }
    bool any = false;
    for (uint64_t k = 0; k < ninner; k++)
        any |= idx[2 * k] != PZ_EMPTY || (!touched[k] && old[2 * k] != PZ_EMPTY);
    ls->remove = rc == 0 && !any;
    unlink(ls->tmp); /* a leftover from a killed run */
    if (rc == 0 && any)
        rc = pz_array_chunk_parent(a, ls->tmp, e);
    if (rc == 0 && any) {
        ls->touched_tmp = true;
        if (MPI_File_open(MPI_COMM_SELF, ls->tmp, MPI_MODE_WRONLY | MPI_MODE_CREATE,
                          a->s->info, &fh) != MPI_SUCCESS) {
            fh = MPI_FILE_NULL;
            rc = pz_err_set(e, PZARR_EIO, "cannot create %s", ls->tmp);
        }
    }
    for (uint64_t k = 0; rc == 0 && any && k < ninner; k++) {
        if (touched[k] || old[2 * k] == PZ_EMPTY)
            continue;
        rc = copy_range(oldfh, old[2 * k], fh, cur, old[2 * k + 1], e);
        idx[2 * k] = cur;
        idx[2 * k + 1] = old[2 * k + 1];
        cur += old[2 * k + 1];
    }
    if (rc == 0 && any) {
        MPI_Status st;
        pz_shard_index_encode(m, idx, raw);
        MPI_Offset at = m->shard.index_at_start ? 0 : (MPI_Offset)cur;
        if (ib > INT_MAX ||
            MPI_File_write_at(fh, at, raw, (int)ib, MPI_BYTE, &st) != MPI_SUCCESS)
            rc = pz_err_set(e, PZARR_EIO, "cannot write the index of shard %s", key);
    }
    if (fh != MPI_FILE_NULL)
        MPI_File_close(&fh);
    if (oldfh != MPI_FILE_NULL)
        MPI_File_close(&oldfh);
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
        MPI_Put(&c->in[i].offset, 1, MPI_UINT64_T, c->in[i].src, (MPI_Aint)c->in[i].raddr, 1,
                MPI_UINT64_T, c->a->win_data);
    return rc;
}

/* Writer: my inner chunks of each shard, packed, in one write per shard. */
static int write_mine(sw_ctx *c, const pz_shard_out *so, pz_err *e)
{
    pzarr_array *a = c->a;
    MPI_Win_sync(a->win_data);
    pz_buf pack = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->nout;) {
        size_t j = i;
        uint64_t base = PZ_EMPTY, expect = 0;
        pack.size = 0;
        for (; j < c->nout && c->out[SE * j] == c->out[SE * i]; j++) {
            const pz_unit_out *u = &so->u[c->order[j]];
            uint64_t off = c->out[SE * j + 3];
            if (u->nbytes == PZ_EMPTY)
                continue;
            if (base == PZ_EMPTY)
                base = expect = off;
            if (off != expect) {
                rc = pz_err_set(e, PZARR_EMPI, "shard layout reply is not contiguous");
                break;
            }
            expect += u->nbytes;
            if (pz_buf_append(&pack, so->data.data + u->off, (size_t)u->nbytes))
                rc = pz_err_set(e, PZARR_ENOMEM, "out of memory packing a shard");
        }
        if (rc == 0 && pack.size > 0) {
            char key[256], *path = NULL, *tmp = NULL;
            MPI_File fh;
            MPI_Status st;
            rc = shard_paths(a, c->out[SE * i], key, sizeof key, &path, &tmp, e);
            if (rc == 0 && pack.size > INT_MAX)
                rc = pz_err_set(e, PZARR_EUNSUPPORTED, "shard %s: more than 2 GiB from one "
                                "rank in one flush", key);
            if (rc == 0 && MPI_File_open(MPI_COMM_SELF, tmp, MPI_MODE_WRONLY, a->s->info,
                                         &fh) != MPI_SUCCESS)
                rc = pz_err_set(e, PZARR_EIO, "cannot open %s", tmp);
            else if (rc == 0) {
                if (MPI_File_write_at(fh, (MPI_Offset)base, pack.data, (int)pack.size,
                                      MPI_BYTE, &st) != MPI_SUCCESS)
                    rc = pz_err_set(e, PZARR_EIO, "cannot write into %s", tmp);
                MPI_File_close(&fh);
            }
            pz_free(path);
            pz_free(tmp);
        }
        i = j;
    }
    pz_buf_free(&pack);
    return rc;
}

/* Leader, after everybody agreed: the new shards replace the old ones. */
static int publish_shards(sw_ctx *c, bool ok, pz_err *e)
{
    int rc = 0;
    for (size_t i = 0; i < c->nlead; i++) {
        lead_shard *ls = &c->lead[i];
        if (!ls->path)
            continue;
        bool removed;
        if (!ok) {
            unlink(ls->tmp);
        } else if (ls->remove) {
            if (rc == 0)
                rc = pz_io_remove(ls->path, &removed, e);
            c->a->s->stats.chunk_deletes += removed;
        } else if (rename(ls->tmp, ls->path) != 0 && rc == 0) {
            rc = pz_err_set(e, PZARR_EIO, "cannot rename %s over %s", ls->tmp, ls->path);
        } else {
            c->a->s->stats.shard_writes++;
        }
    }
    return rc;
}

static void sw_free(sw_ctx *c)
{
    if (c->attached)
        MPI_Win_detach(c->a->win_data, c->out);
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

void pz_shard_flush(pzarr_array *a, pz_shard_out *so, pz_err *e)
{
    sw_ctx c = {.a = a, .rank = a->s->rank, .size = a->s->size, .nd = a->m.ndim};
    if (e->code == 0)
        build_out(&c, so, e);
    pz_array_publish(a, c.cnt, c.off, c.out, SE * sizeof(uint64_t), e->code == 0);
    if (e->code == 0 && gather(&c, e) == 0)
        lead(&c, e);
    MPI_Win_flush_all(a->win_data);
    MPI_Barrier(a->s->comm);
    if (e->code == 0)
        write_mine(&c, so, e);
    /* Rename only when every rank wrote everything: otherwise keep the old. */
    int bad = e->code != 0, anybad = 0;
    MPI_Allreduce(&bad, &anybad, 1, MPI_INT, MPI_MAX, a->s->comm);
    pz_err pe;
    pz_err_clear(&pe);
    publish_shards(&c, !anybad, &pe);
    if (e->code == 0 && pe.code)
        *e = pe;
    sw_free(&c);
}
