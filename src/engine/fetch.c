/*
 * The encoded bytes of units as storage holds them: chunk files read in
 * batches, or inner chunks read out of shard files by byte range (the index
 * first, then only the inner chunks asked for). Shards go through MPI-IO
 * with the store's hints.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_index(pzarr_array *a, pz_file *f, const char *key, uint64_t *entries,
                      uint64_t *file_size, pz_err *e)
{
    const pz_shard_spec *sh = &a->m.shard;
    uint64_t size = 0, ib = pz_shard_index_bytes(sh);
    PZ_TRY(f->be->size(f, &size, e));
    *file_size = size;
    if (size < ib)
        return pz_err_set(e, PZARR_ECORRUPT,
                          "shard %s: %llu bytes cannot hold its %llu-byte index", key,
                          (unsigned long long)size, (unsigned long long)ib);
    unsigned char *raw = pz_malloc((size_t)ib);
    if (!raw)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for a shard index");
    size_t got = 0;
    int rc = f->be->read_at(f, sh->index_at_start ? 0 : size - ib, raw, (size_t)ib, &got, e);
    if (rc == 0 && got != ib)
        rc = pz_err_set(e, PZARR_ECORRUPT, "shard %s: short index read", key);
    PZ_STATS(a)->bytes_read += ib;
    if (rc == 0)
        rc = pz_shard_index_decode(sh, raw, size, key, entries, e);
    pz_free(raw);
    return rc;
}

/* A committed flush not yet published: a file it replaces is read from its
 * staged name, a file it removes is gone (*path becomes NULL). */
static int resolve_pending(const pzarr_array *a, char **path, pz_err *e)
{
    if (!a->pending[0])
        return 0;
    char *mark = pz_commit_name(*path, a->pending, true);
    char *staged = pz_commit_name(*path, a->pending, false);
    int rc = (!mark || !staged) ? pz_err_set(e, PZARR_ENOMEM, "out of memory") : 0;
    if (rc == 0 && pz_io_exists(mark)) {
        pz_free(*path);
        *path = NULL;
    } else if (rc == 0 && pz_io_exists(staged)) {
        pz_free(*path);
        *path = staged;
        staged = NULL;
    }
    pz_free(mark);
    pz_free(staged);
    return rc;
}

int pz_shard_open_index(pzarr_array *a, const char *path, const char *key, pz_file *f,
                        uint64_t *entries, uint64_t *file_size, pz_err *e)
{
    pz_err local;
    pz_err_clear(&local);
    PZ_STATS(a)->chunk_reads++;
    /* MPI-IO when the caller gave hints, POSIX calls otherwise (an
     * MPI_File_open per shard costs tens of microseconds). */
    int rc = pz_backend_for(a->s->chunk_info)->open(f, path, PZ_FILE_READ, a->s->chunk_info,
                                                     &local);
    if (rc == PZARR_ENOENT)
        return 0; /* absent: f stays closed */
    if (rc)
        return pz_err_set(e, PZARR_EIO, "cannot open shard %s", path);
    return read_index(a, f, key, entries, file_size, e);
}

typedef struct unit_ref {
    uint64_t shard, inner;
    size_t pos;
} unit_ref;

static int cmp_ref(const void *x, const void *y)
{
    const unit_ref *a = x, *b = y;
    if (a->shard != b->shard)
        return a->shard < b->shard ? -1 : 1;
    return a->inner < b->inner ? -1 : a->inner > b->inner;
}

/* Reads the inner chunks refs[0..n) of one shard. */
static int fetch_from_shard(pzarr_array *a, const unit_ref *refs, size_t n, uint64_t *entries,
                            pz_buf *bufs, bool *present, pz_err *e)
{
    uint64_t scc[PZ_MAX_NDIM];
    char key[PZ_KEY_MAX], *path = NULL;
    pz_unlinear(a->m.ndim, a->sgrid, refs[0].shard, scc);
    PZ_TRY(pz_array_chunk_path(a, scc, key, sizeof key, &path, e));
    pz_file f = {PZ_FILE_CLOSED};
    uint64_t size = 0;
    int rc = resolve_pending(a, &path, e);
    if (rc == 0 && path)
        rc = pz_shard_open_index(a, path, key, &f, entries, &size, e);
    pz_free(path);
    /* Every inner chunk asked for, in one gathered read where they follow
     * one another in the file. */
    pz_run *runs = pz_file_is_open(&f) ? pz_malloc(n * sizeof *runs) : NULL;
    if (rc == 0 && pz_file_is_open(&f) && !runs)
        rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
    size_t nr = 0;
    for (size_t i = 0; rc == 0 && runs && i < n; i++) {
        uint64_t off = entries[2 * refs[i].inner], len = entries[2 * refs[i].inner + 1];
        if (off == PZ_SHARD_EMPTY && len == PZ_SHARD_EMPTY)
            continue;
        pz_buf *b = &bufs[refs[i].pos];
        if (len > SIZE_MAX - 1 || pz_buf_reserve(b, (size_t)len + 1) != 0) {
            rc = pz_err_set(e, PZARR_ENOMEM, "shard %s: cannot hold an inner chunk of %llu "
                            "bytes", key, (unsigned long long)len);
            break;
        }
        runs[nr++] = (pz_run){off, b->data, (size_t)len};
        b->size = (size_t)len;
        present[refs[i].pos] = true;
        PZ_STATS(a)->bytes_read += len;
    }
    if (rc == 0 && nr > 0 && f.be->read_runs(&f, runs, nr, e) != 0) {
        char inner[PZ_ERRMSG_MAX];
        snprintf(inner, sizeof inner, "%s", e->msg);
        rc = pz_err_set(e, e->code, "shard %s: reading its inner chunks: %.800s", key, inner);
    }
    pz_free(runs);
    if (pz_file_is_open(&f))
        f.be->close(&f, NULL);
    return rc;
}

/* Plain chunk files, read in batches; the files a pending flush removed
 * are left out. own: this rank's view, which sees what it staged. */
static int fetch_chunks(pzarr_array *a, size_t n, const uint64_t *units, pz_buf *bufs,
                        bool *present, bool own, pz_err *e)
{
    char **paths = pz_calloc(n ? n : 1, sizeof *paths);
    size_t *pos = pz_calloc(n ? n : 1, sizeof *pos);
    pz_buf *tb = pz_calloc(n ? n : 1, sizeof *tb);
    int rc = (paths && pos && tb) ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint64_t cc[PZ_MAX_NDIM];
        char key[PZ_KEY_MAX];
        pz_unlinear(a->m.ndim, a->grid, units[i], cc);
        rc = pz_array_chunk_path(a, cc, key, sizeof key, &paths[k], e);
        if (rc == 0)
            rc = resolve_pending(a, &paths[k], e);
        if (rc == 0 && own && paths[k])
            rc = pz_stage_resolve(a, units[i], &paths[k], e);
        /* Room for the whole chunk and a byte to see the end in one pread;
         * an empty buffer would start at 64 KiB (too much for tiny chunks,
         * too little for big ones). The batch bounds the decoded bytes, so
         * this bounds the memory too. */
        if (rc == 0 && paths[k] && pz_buf_reserve(&bufs[i], a->chunk_bytes + 65) != 0)
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
        if (rc == 0 && paths[k]) {
            tb[k] = bufs[i];
            pos[k++] = i;
        }
    }
    if (rc == 0 && k == n) /* the usual case: every file read in place */
        rc = pz_io_read_batch((int)n, (const char *const *)paths, a->s->chunk_info, bufs,
                              present, PZ_STATS(a), e);
    else if (rc == 0) {
        bool *got = pz_calloc(k ? k : 1, sizeof *got);
        rc = got ? pz_io_read_batch((int)k, (const char *const *)paths, a->s->chunk_info, tb,
                                    got, PZ_STATS(a), e)
                 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
        for (size_t j = 0; got && j < k; j++) {
            bufs[pos[j]] = tb[j];
            present[pos[j]] = got[j];
        }
        pz_free(got);
    }
    for (size_t i = 0; paths && i < n; i++)
        pz_free(paths[i]);
    pz_free(paths);
    pz_free(pos);
    pz_free(tb);
    return rc;
}

int pz_array_fetch_units(pzarr_array *a, size_t n, const uint64_t *units, pz_buf *bufs,
                         bool *present, bool own, pz_err *e)
{
    for (size_t i = 0; i < n; i++) {
        present[i] = false;
        bufs[i].size = 0;
    }
    if (!a->m.shard.on)
        return fetch_chunks(a, n, units, bufs, present, own, e);
    unit_ref *refs = pz_malloc((n ? n : 1) * sizeof *refs);
    uint64_t *entries = pz_malloc((size_t)(2 * a->m.shard.ninner) * sizeof *entries);
    int rc = (!refs || !entries) ? pz_err_set(e, PZARR_ENOMEM, "out of memory") : 0;
    size_t nr = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const pz_stage_ent *st = own ? pz_stage_find(a, units[i]) : NULL;
        if (st) { /* staged here: its slot in the staged shard */
            if (!st->marker && (rc = pz_stage_read_inner(a, a->st.c.id, st, &bufs[i], e)) == 0)
                present[i] = true;
            continue;
        }
        pz_shard_place(a, units[i], &refs[nr].shard, &refs[nr].inner);
        refs[nr++].pos = i;
    }
    n = nr;
    if (rc == 0 && n > 1)
        qsort(refs, n, sizeof *refs, cmp_ref);
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t j = i + 1;
        while (j < n && refs[j].shard == refs[i].shard)
            j++;
        rc = fetch_from_shard(a, refs + i, j - i, entries, bufs, present, e);
        i = j;
    }
    pz_free(refs);
    pz_free(entries);
    return rc;
}
