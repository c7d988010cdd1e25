/*
 * Finishing or undoing flushes that a killed or failed job left behind
 * (commit.c describes the commit). Rank 0 only.
 *
 * An array directory holding a commit record had its flush committed: every
 * staged file of that flush replaces its target, every marker removes its
 * target, the record's documents are written, then the record goes (roll
 * forward). Staged files of any other flush were never committed: they are
 * ignored by readers and removed by pzarr_clean (roll back).
 */
#define _XOPEN_SOURCE 700

#include "engine.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct walk {
    pzarr_store *s;
    const char *id;   /* roll forward this flush; NULL: remove every temporary */
    uint64_t done;    /* files renamed, removed */
    pz_err *e;
} walk;

/* name = <target>.pzarr-tmp-<id>[-del]: which target, and whether a marker. */
static bool staged_of(const char *name, const char *id, size_t *target_len, bool *remove)
{
    const char *m = strstr(name, PZ_TEMP_MARK "-");
    if (!m)
        return false;
    const char *rest = m + strlen(PZ_TEMP_MARK) + 1;
    size_t n = strlen(id);
    if (strncmp(rest, id, n) != 0)
        return false;
    if (strcmp(rest + n, "") != 0 && strcmp(rest + n, "-del") != 0)
        return false;
    *target_len = (size_t)(m - name);
    *remove = rest[n] == '-';
    return *target_len > 0;
}

/* Whether name is staged for the next flush of an array this job holds
 * open (stage.c): not a leftover. */
static bool staged_now(const pzarr_store *s, const char *name)
{
    size_t tl;
    bool remove;
    for (int i = 0; i < s->narrays; i++)
        if (s->arrays[i]->st.c.id[0] && staged_of(name, s->arrays[i]->st.c.id, &tl, &remove))
            return true;
    return false;
}

static int finish_one(walk *w, const char *dir, const char *name)
{
    size_t tl;
    bool remove;
    if (!staged_of(name, w->id, &tl, &remove))
        return 0;
    char *from = pz_path_join(dir, name);
    char *to = from ? pz_strdup(from) : NULL;
    if (!from || !to) {
        pz_free(from);
        pz_free(to);
        return pz_err_set(w->e, PZARR_ENOMEM, "out of memory");
    }
    to[strlen(dir) + 1 + tl] = '\0';
    bool gone = false;
    int rc = remove ? pz_io_remove(to, &gone, w->e) : pz_io_rename(from, to, w->e);
    if (rc == 0 && remove)
        rc = pz_io_remove(from, &gone, w->e);
    w->done += rc == 0;
    pz_free(from);
    pz_free(to);
    return rc;
}

static int visit(walk *w, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (!d)
        return pz_err_set(w->e, PZARR_EIO, "cannot list %s", dir);
    int rc = 0;
    bool touched = false;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        char *p = pz_path_join(dir, n);
        if (!p) {
            rc = pz_err_set(w->e, PZARR_ENOMEM, "out of memory");
            break;
        }
        struct stat st;
        bool isdir = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
        if (isdir && depth < 64) {
            rc = visit(w, p, depth + 1);
        } else if (!isdir && pz_io_is_temp_name(n)) {
            if (w->id) {
                rc = finish_one(w, dir, n);
                touched = true;
            } else if (staged_now(w->s, n)) {
                /* written since the last flush of an array open here */
            } else if (unlink(p) == 0) {
                w->done++;
            } else {
                rc = pz_err_set(w->e, PZARR_EIO, "cannot remove %s", p);
            }
        }
        pz_free(p);
    }
    closedir(d);
    if (rc == 0 && touched && (w->s->flags & PZARR_DURABLE))
        rc = pz_io_sync_dir(dir, w->e);
    return rc;
}

/* The record's flush id and documents. */
static int read_record(const char *dir, const char *text, size_t len, cJSON **out,
                       const char **id, pz_err *e)
{
    cJSON *j = cJSON_ParseWithLength(text, len);
    const cJSON *f = j ? cJSON_GetObjectItemCaseSensitive(j, "flush") : NULL;
    const cJSON *docs = j ? cJSON_GetObjectItemCaseSensitive(j, "documents") : NULL;
    if (!cJSON_IsString(f) || !f->valuestring[0] || strchr(f->valuestring, '/') ||
        (docs && !cJSON_IsObject(docs))) {
        cJSON_Delete(j);
        return pz_err_set(e, PZARR_EMETA, "%s/" PZ_COMMIT_RECORD ": malformed commit record",
                          dir);
    }
    for (const cJSON *d = docs ? docs->child : NULL; d; d = d->next)
        if (!cJSON_IsString(d) || (strcmp(d->string, "zarr.json") && strcmp(d->string, ".zarray") &&
                                   strcmp(d->string, ".zattrs"))) {
            cJSON_Delete(j);
            return pz_err_set(e, PZARR_EMETA,
                              "%s/" PZ_COMMIT_RECORD ": unexpected document \"%.64s\"", dir,
                              d->string);
        }
    *out = j;
    *id = f->valuestring;
    return 0;
}

int pz_commit_parse(const char *dir, const pz_buf *record, char *id, size_t idcap,
                    cJSON **docs, pz_err *e)
{
    cJSON *j = NULL;
    const char *fid;
    PZ_TRY(read_record(dir, (const char *)record->data, record->size, &j, &fid, e));
    snprintf(id, idcap, "%s", fid);
    *docs = cJSON_DetachItemFromObjectCaseSensitive(j, "documents");
    cJSON_Delete(j);
    return 0;
}

int pz_recover_array(pzarr_store *s, const char *dir, uint64_t *finished, pz_err *e)
{
    char *rp = pz_path_join(dir, PZ_COMMIT_RECORD);
    if (!rp)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_buf b = {0};
    pz_err local;
    pz_err_clear(&local);
    s->stats.meta_reads++;
    int rc = pz_io_read_file(rp, &b, &local);
    if (rc == PZARR_ENOENT) {
        pz_free(rp);
        return 0;
    }
    cJSON *j = NULL;
    const char *id = NULL;
    if (rc)
        *e = local;
    else
        rc = read_record(dir, (const char *)b.data, b.size, &j, &id, e);
    walk w = {s, id, 0, e};
    if (rc == 0)
        rc = visit(&w, dir, 0);
    const cJSON *docs = j ? cJSON_GetObjectItemCaseSensitive(j, "documents") : NULL;
    for (const cJSON *d = docs ? docs->child : NULL; rc == 0 && d; d = d->next) {
        char *p = pz_path_join(dir, d->string);
        rc = p ? pz_io_write_atomic(p, d->valuestring, strlen(d->valuestring), "meta",
                                    MPI_INFO_NULL, (s->flags & PZARR_DURABLE) != 0, e)
               : pz_err_set(e, PZARR_ENOMEM, "out of memory");
        s->stats.meta_writes++;
        if (rc == 0 && s->consolidate)
            rc = pz_cons_note(s, p, d->valuestring, e);
        pz_free(p);
    }
    if (rc == 0 && unlink(rp) != 0)
        rc = pz_err_set(e, PZARR_EIO, "cannot remove %s", rp);
    if (rc == 0)
        rc = pz_cons_pend(s, dir, false, e);
    if (rc == 0 && finished)
        (*finished)++;
    cJSON_Delete(j);
    pz_buf_free(&b);
    pz_free(rp);
    return rc;
}

int pz_remove_temps(pzarr_store *s, const char *dir, uint64_t *removed, pz_err *e)
{
    walk w = {s, NULL, 0, e};
    int rc = visit(&w, dir, 0);
    *removed += w.done;
    return rc;
}

/* Every array directory under dir with a record is finished first. */
int pz_recover_tree(pzarr_store *s, const char *dir, int depth, uint64_t *finished,
                    pz_err *e)
{
    PZ_TRY(pz_recover_array(s, dir, finished, e));
    DIR *d = opendir(dir);
    if (!d)
        return pz_err_set(e, PZARR_EIO, "cannot list %s", dir);
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && depth < 64 && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = pz_path_join(dir, de->d_name);
        struct stat st;
        if (!p)
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
        else if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rc = pz_recover_tree(s, p, depth + 1, finished, e);
        pz_free(p);
    }
    closedir(d);
    return rc;
}
