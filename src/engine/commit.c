/*
 * The atomic commit of a flush. A flush either replaces everything it
 * touches or nothing, whatever fails and whenever the job is killed:
 *
 * 1. Every owner writes each new chunk file (a shard leader: each new
 *    shard) beside the old one under a staged name, <target>.pzarr-tmp-<id>,
 *    and an empty marker <target>.pzarr-tmp-<id>-del for each file the flush
 *    removes. With PZARR_DURABLE each staged file is synced (as written;
 *    in a PZARR_ASYNC store, all of them before step 2, by the background).
 * 2. The ranks agree that every staged write succeeded; if not, each rank
 *    removes what it staged and the array is untouched.
 * 3. Rank 0 writes the commit record <array>/.pzarr-commit (the flush id and
 *    the new metadata documents, if any) atomically. From here on the flush
 *    has happened: a reader that opens the array resolves chunks through the
 *    staged names, and the next open for writing (or pzarr_clean) finishes
 *    the publishing (recover.c).
 * 4. Every owner publishes: renames its staged files over the targets and
 *    removes the targets of its markers (durable: then syncs the directories);
 *    rank 0 writes the documents.
 * 5. The ranks agree; rank 0 removes the record.
 *
 * In a store with consolidated metadata rank 0 also lists the array in the
 * consolidated document before its first step 3 and takes it out when the
 * array is closed with every flush published (consolidate.c), so that
 * readers look for a record only where there may be one.
 */
#include "engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEL_SUFFIX "-del"

char *pz_commit_name(const char *target, const char *id, bool remove)
{
    size_t n = strlen(target) + strlen(PZ_TEMP_MARK) + strlen(id) + 8;
    char *p = pz_malloc(n);
    if (p)
        snprintf(p, n, "%s" PZ_TEMP_MARK "-%s%s", target, id, remove ? DEL_SUFFIX : "");
    return p;
}

void pz_commit_begin(pzarr_array *a, pz_commit *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%016" PRIx64 "-%" PRIu64, a->s->jobid, ++a->s->nflush);
}

int pz_commit_add(pz_commit *c, const char *target, bool remove, pz_err *e)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        pz_staged *v = pz_realloc(c->v, cap * sizeof *v);
        if (!v)
            return pz_err_set(e, PZARR_ENOMEM, "out of memory staging a flush");
        c->v = v;
        c->cap = cap;
    }
    char *t = pz_strdup(target);
    if (!t)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory staging a flush");
    c->v[c->n++] = (pz_staged){t, remove, false, false, false};
    return 0;
}

/* Writes the staged file of target (making its directory when missing). */
static int write_staged(pzarr_array *a, const char *tmp, const void *data, size_t n, pz_err *e)
{
    /* deferred: synced with the others before the commit */
    bool durable = (a->s->flags & PZARR_DURABLE) && !a->s->defer_sync;
    /* Directories are made only when the first write finds none. */
    int rc = pz_io_write_file(tmp, data, n, a->s->chunk_info, durable, e);
    if (rc == PZARR_ENOENT) {
        pz_err_clear(e);
        rc = pz_array_chunk_parent(a, tmp, e);
        if (rc == 0)
            rc = pz_io_write_file(tmp, data, n, a->s->chunk_info, durable, e);
    }
    return rc;
}

int pz_commit_add_undo(pz_commit *c, const char *target, pz_err *e)
{
    PZ_TRY(pz_commit_add(c, target, false, e));
    c->v[c->n - 1].undo = true;
    return 0;
}

int pz_commit_stage_file(pzarr_array *a, pz_commit *c, const char *target, const void *data,
                         size_t n, pz_err *e)
{
    char *tmp = pz_commit_name(target, c->id, false);
    if (!tmp)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int rc = write_staged(a, tmp, data, n, e);
    if (rc == 0 && pz_commit_add(c, target, false, e) != 0) {
        unlink(tmp);
        rc = e->code;
    }
    if (rc == 0)
        c->v[c->n - 1].unsynced = a->s->defer_sync;
    pz_free(tmp);
    return rc;
}

int pz_commit_restage_file(pzarr_array *a, pz_commit *c, size_t slot, const void *data,
                           size_t n, pz_err *e)
{
    char *tmp = pz_commit_name(c->v[slot].target, c->id, false);
    if (!tmp)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int rc = write_staged(a, tmp, data, n, e);
    if (rc == 0 && a->s->defer_sync)
        c->v[slot].unsynced = true;
    pz_free(tmp);
    return rc;
}

int pz_commit_sync_staged(pz_commit *c, pz_err *e)
{
    for (size_t i = 0; i < c->n; i++) {
        pz_staged *v = &c->v[i];
        if (v->dead || v->remove || !v->unsynced)
            continue;
        char *tmp = pz_commit_name(v->target, c->id, false);
        int rc = tmp ? pz_io_sync_file(tmp, e) : pz_err_set(e, PZARR_ENOMEM, "out of memory");
        pz_free(tmp);
        if (rc)
            return rc;
        v->unsynced = false;
    }
    return 0;
}

void pz_commit_drop(pz_commit *c, size_t slot)
{
    pz_staged *v = &c->v[slot];
    char *tmp = pz_commit_name(v->target, c->id, v->remove);
    if (tmp)
        unlink(tmp);
    pz_free(tmp);
    v->dead = true;
}

int pz_commit_stage_remove(pzarr_array *a, pz_commit *c, const char *target, pz_err *e)
{
    if (!pz_io_exists(target))
        return 0;
    char *mark = pz_commit_name(target, c->id, true);
    if (!mark)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int rc = pz_io_write_file(mark, "", 0, MPI_INFO_NULL, (a->s->flags & PZARR_DURABLE) != 0, e);
    if (rc == 0 && pz_commit_add(c, target, true, e) != 0) {
        unlink(mark);
        rc = e->code;
    }
    pz_free(mark);
    return rc;
}

int pz_commit_set_documents(pz_commit *c, const char *const *names, const char *const *texts,
                            int n, pz_err *e)
{
    for (int i = 0; i < n && i < PZ_COMMIT_DOCS; i++) {
        c->doc_name[i] = pz_strdup(names[i]);
        c->doc_text[i] = pz_strdup(texts[i]);
        c->ndocs = i + 1;
        if (!c->doc_name[i] || !c->doc_text[i])
            return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    }
    return 0;
}

/* Removes everything this rank staged. */
static void abort_staged(pz_commit *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].dead)
            continue;
        char *tmp = pz_commit_name(c->v[i].target, c->id, c->v[i].remove);
        if (tmp)
            unlink(tmp);
        pz_free(tmp);
    }
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Syncs each directory that received a rename or lost a file. */
static int sync_dirs(pz_commit *c, pz_err *e)
{
    char **dirs = pz_calloc(c->n ? c->n : 1, sizeof *dirs);
    if (!dirs)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int rc = 0;
    size_t nd = 0;
    for (size_t i = 0; rc == 0 && i < c->n; i++)
        if (!c->v[i].dead && !c->v[i].undo && !(dirs[nd++] = pz_io_dirname(c->v[i].target)))
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
    if (rc == 0 && nd > 1)
        qsort(dirs, nd, sizeof *dirs, cmp_str);
    for (size_t i = 0; rc == 0 && i < nd; i++)
        if (i == 0 || strcmp(dirs[i], dirs[i - 1]) != 0)
            rc = pz_io_sync_dir(dirs[i], e);
    for (size_t i = 0; i < nd; i++)
        pz_free(dirs[i]);
    pz_free(dirs);
    return rc;
}

/* Step 4 on this rank: the staged files replace their targets. */
static int publish(pzarr_array *a, pz_commit *c, pz_err *e)
{
    pz_test_crash_point(a->s, "publish");
    int rc = 0;
    size_t done = 0;
    for (size_t i = 0; rc == 0 && i < c->n; i++) {
        if (c->v[i].dead || c->v[i].undo)
            continue;
        char *tmp = pz_commit_name(c->v[i].target, c->id, c->v[i].remove);
        if (!tmp)
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
        else if (!c->v[i].remove)
            rc = pz_io_rename(tmp, c->v[i].target, e);
        else {
            bool removed = false;
            rc = pz_io_remove(c->v[i].target, &removed, e);
            if (rc == 0)
                rc = pz_io_remove(tmp, &(bool){false}, e);
            PZ_STATS(a)->chunk_deletes += removed;
        }
        pz_free(tmp);
        if (done++ == 0)
            pz_test_crash_point(a->s, "publishing");
    }
    if (rc == 0 && (a->s->flags & PZARR_DURABLE))
        rc = sync_dirs(c, e);
    return rc;
}

/* The record: {"pzarr_commit": 1, "flush": id, "documents": {name: text}}. */
static char *record_text(const pz_commit *c)
{
    cJSON *o = cJSON_CreateObject(), *docs = cJSON_CreateObject();
    bool ok = o && docs && cJSON_AddNumberToObject(o, "pzarr_commit", 1) &&
              cJSON_AddStringToObject(o, "flush", c->id);
    for (int i = 0; ok && i < c->ndocs; i++)
        ok = cJSON_AddStringToObject(docs, c->doc_name[i], c->doc_text[i]) != NULL;
    if (ok && cJSON_AddItemToObject(o, "documents", docs))
        docs = NULL;
    cJSON_Delete(docs);
    char *t = ok ? pz_json_print_take(o, false) : NULL;
    if (!ok)
        cJSON_Delete(o);
    return t;
}

static int write_record(pzarr_array *a, pz_commit *c, pz_err *e)
{
    char *text = record_text(c);
    char *path = pz_path_join(a->dir, PZ_COMMIT_RECORD);
    int rc = (!text || !path) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                              : pz_io_write_atomic(path, text, strlen(text), "commit",
                                                   MPI_INFO_NULL,
                                                   (a->s->flags & PZARR_DURABLE) != 0, e);
    PZ_STATS(a)->commits++;
    pz_free(text);
    pz_free(path);
    return rc;
}

/* Rank 0, while the others publish: the new documents. */
static int write_documents(pzarr_array *a, pz_commit *c, pz_err *e)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < c->ndocs; i++) {
        char *p = pz_path_join(a->dir, c->doc_name[i]);
        rc = p ? pz_node_write_doc(a->s, p, c->doc_text[i], e)
               : pz_err_set(e, PZARR_ENOMEM, "out of memory");
        pz_free(p);
    }
    return rc;
}

int pz_commit_finish(pzarr_array *a, pz_commit *c, pz_err *e)
{
    pzarr_store *s = a->s;
    bool any = false, mine = c->ndocs > 0;
    for (size_t i = 0; i < c->n && !mine; i++)
        mine = !c->v[i].dead && !c->v[i].undo;
    /* what the background has not synced yet (durable async stores) */
    if (e->code == 0)
        pz_commit_sync_staged(c, e);
    /* Step 2: all staged, or nothing happens. */
    if (pz_agree_flag(s->comm, e, mine, &any) != 0) {
        abort_staged(c);
        return e->code;
    }
    if (!any)
        return 0;
    /* A consolidated store lists the array before its first record. */
    if (s->rank == 0 && (a->listed || pz_cons_pend(s, a->dir, true, e) == 0)) {
        a->listed = true;
        pz_test_crash_point(s, "record");
        write_record(a, c, e);
    }
    if (pz_collective_end(s->comm, PZ_ROOT_IO, e) != 0) {
        abort_staged(c);
        return e->code;
    }
    pz_test_crash_point(s, "committed");
    pz_err pe;
    pz_err_clear(&pe);
    publish(a, c, &pe);
    if (s->rank == 0 && pe.code == 0)
        write_documents(a, c, &pe);
    if (pz_collective_end(s->comm, PZ_ANY_RANK, &pe) != 0) {
        /* Committed: readers see the new content through the record; the
         * next open for writing finishes the publishing. */
        snprintf(a->pending, sizeof a->pending, "%s", c->id);
        return pz_err_set(e, pe.code, "the flush is committed but publishing it failed (%.800s); "
                          "the next open for writing or pzarr_clean completes it", pe.msg);
    }
    if (s->rank == 0) {
        char *path = pz_path_join(a->dir, PZ_COMMIT_RECORD);
        if (path)
            unlink(path);
        pz_free(path);
    }
    return 0;
}

void pz_commit_free(pz_commit *c)
{
    for (size_t i = 0; i < c->n; i++)
        pz_free(c->v[i].target);
    pz_free(c->v);
    for (int i = 0; i < c->ndocs; i++) {
        pz_free(c->doc_name[i]);
        pz_free(c->doc_text[i]);
    }
    memset(c, 0, sizeof *c);
}

void pz_test_crash_point(const pzarr_store *s, const char *where)
{
    if (s->crash_at[0] && strcmp(s->crash_at, where) == 0 &&
        (s->crash_rank < 0 || s->crash_rank == s->rank)) {
        /* Test hook (PZARR_TEST_KILL_AT=where[:rank]): die here as a killed
         * job would, without any cleanup. */
        fflush(NULL);
        _exit(137);
    }
}
