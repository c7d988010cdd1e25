/*
 * Consolidated metadata: every node's documents gathered in one document at
 * the store's root, so that a reader (xarray, zarr-python, GDAL) opens a
 * whole dataset with one read. Zarr v2 keeps it in `.zmetadata`
 * ({"metadata": {".zgroup": ..., "temp/.zarray": ...},
 * "zarr_consolidated_format": 1}); Zarr v3 inline in the root group's
 * zarr.json ("consolidated_metadata": {"kind": "inline", "must_understand":
 * false, "metadata": {"temp": <its zarr.json>, ...}}), as zarr-python 3
 * writes them.
 *
 * Rank 0 keeps it current: each document it writes is entered at once
 * (read, update, atomic replace), so the consolidated view never lags the
 * documents it copies.
 *
 * It also lists the arrays that may hold a commit record (commit.c), under
 * "pzarr_pending" (v2: beside "metadata"; v3: inside the
 * "consolidated_metadata" member, where zarr-python ignores unknown keys).
 * A flush enters its array before it writes the record and leaves after
 * the record is gone, so an array not listed has none and its open needs
 * no look for one: opening N arrays costs the one read of this document.
 * When the list is missing (the document was written by another tool) every
 * array is looked at, as without consolidated metadata.
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

#define V2_NAME ".zmetadata"
#define PENDING "pzarr_pending"

static const char *rel_of(const pzarr_store *s, const char *dir);

/* Reads and parses the JSON object at path into *out (NULL when the file
 * is absent). */
static int read_json(pzarr_store *s, const char *path, cJSON **out, pz_err *e)
{
    pz_buf b = {0};
    pz_err local;
    pz_err_clear(&local);
    s->stats.meta_reads++;
    *out = NULL;
    int rc = pz_io_read_file(path, &b, &local);
    if (rc == 0) {
        cJSON *j = cJSON_ParseWithLength((const char *)b.data, b.size);
        if (!j || !cJSON_IsObject(j)) {
            cJSON_Delete(j);
            rc = pz_err_set(e, PZARR_EMETA, "%s: malformed JSON", path);
        } else {
            *out = j;
        }
    } else if (rc == PZARR_ENOENT) {
        rc = 0;
    } else {
        *e = local;
    }
    pz_buf_free(&b);
    return rc;
}

static int write_json(pzarr_store *s, const char *path, const cJSON *j, pz_err *e)
{
    char *text = pz_json_print(j, true);
    s->stats.meta_writes++;
    int rc = text ? pz_io_write_atomic(path, text, strlen(text), "meta", MPI_INFO_NULL,
                                       (s->flags & PZARR_DURABLE) != 0, e)
                  : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_free(text);
    return rc;
}

/* The document *c becomes s->cons (rank 0's cache). */
static void adopt(pzarr_store *s, cJSON **c)
{
    cJSON_Delete(s->cons);
    s->cons = *c;
    *c = NULL;
}

/* The "metadata" object of a consolidated document, made if absent. */
static cJSON *metadata_of(cJSON *holder)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(holder, "metadata");
    if (cJSON_IsObject(m))
        return m;
    cJSON_DeleteItemFromObjectCaseSensitive(holder, "metadata");
    return cJSON_AddObjectToObject(holder, "metadata");
}

/* Sets key in obj to a copy of the parsed text. */
static int enter(cJSON *obj, const char *key, const char *text, const char *path, pz_err *e)
{
    cJSON *doc = cJSON_Parse(text);
    if (!doc)
        return pz_err_set(e, PZARR_EMETA, "%s: not JSON, not consolidated", path);
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, doc);
    else
        cJSON_AddItemToObject(obj, key, doc);
    return 0;
}

/* A fresh v3 "consolidated_metadata" member. */
static cJSON *v3_member(void)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "kind", "inline");
    cJSON_AddBoolToObject(c, "must_understand", false);
    cJSON_AddObjectToObject(c, "metadata");
    cJSON_AddArrayToObject(c, PENDING);
    return c;
}

char *pz_cons_root_doc(pzarr_store *s, const char *text, pz_err *e)
{
    char *path = pz_path_join(s->root, "zarr.json");
    cJSON *doc = cJSON_Parse(text);
    cJSON *old = NULL;
    char *out = NULL;
    if (!path || !doc) {
        pz_err_set(e, PZARR_ENOMEM, "out of memory");
    } else if (read_json(s, path, &old, e) == 0) {
        cJSON *keep = old ? cJSON_DetachItemFromObjectCaseSensitive(old, "consolidated_metadata")
                          : NULL;
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "consolidated_metadata");
        cJSON_AddItemToObject(doc, "consolidated_metadata",
                              cJSON_IsObject(keep) ? keep : (cJSON_Delete(keep), v3_member()));
        if (!(out = pz_json_print(doc, true)))
            pz_err_set(e, PZARR_ENOMEM, "out of memory");
    }
    cJSON_Delete(doc);
    cJSON_Delete(old);
    pz_free(path);
    return out;
}

int pz_cons_note(pzarr_store *s, const char *path, const char *text, pz_err *e)
{
    size_t n = strlen(s->root);
    if (strncmp(path, s->root, n) != 0 || path[n] != '/')
        return 0; /* not inside the store (cannot happen) */
    const char *rel = path + n + 1;
    const char *slash = strrchr(rel, '/');
    const char *file = slash ? slash + 1 : rel;
    bool v3 = strcmp(file, "zarr.json") == 0;
    if (!v3 && strcmp(file, ".zarray") && strcmp(file, ".zgroup") && strcmp(file, ".zattrs"))
        return 0;
    if (v3 && !slash)
        return 0; /* the root's own document: pz_cons_root_doc kept the member */
    char *cpath = pz_path_join(s->root, v3 ? "zarr.json" : V2_NAME);
    if (!cpath)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    cJSON *c = NULL;
    int rc = read_json(s, cpath, &c, e);
    /* v3 without a root document has nothing to consolidate into. */
    if (rc == 0 && (c || !v3)) {
        if (!c) {
            c = cJSON_CreateObject();
            cJSON_AddObjectToObject(c, "metadata");
            cJSON_AddNumberToObject(c, "zarr_consolidated_format", 1);
            cJSON_AddArrayToObject(c, PENDING);
        }
        cJSON *holder = c;
        if (v3) {
            holder = cJSON_GetObjectItemCaseSensitive(c, "consolidated_metadata");
            if (!cJSON_IsObject(holder)) {
                cJSON_DeleteItemFromObjectCaseSensitive(c, "consolidated_metadata");
                holder = v3_member();
                cJSON_AddItemToObject(c, "consolidated_metadata", holder);
            }
        }
        char key[PZ_NAME_MAX + 16];
        size_t klen = v3 ? (size_t)(slash - rel) : strlen(rel);
        if (klen >= sizeof key)
            rc = pz_err_set(e, PZARR_EPATH, "%s: name too long to consolidate", path);
        else {
            memcpy(key, rel, klen);
            key[klen] = '\0';
            cJSON *meta = metadata_of(holder);
            rc = meta ? enter(meta, key, text, path, e)
                      : pz_err_set(e, PZARR_ENOMEM, "out of memory");
        }
        if (rc == 0)
            rc = write_json(s, cpath, c, e);
    }
    if (rc == 0 && c) /* what was just written is the cache now */
        adopt(s, &c);
    cJSON_Delete(c);
    pz_free(cpath);
    return rc;
}

int pz_cons_load(pzarr_store *s, int format, const pz_buf *root_doc, pz_err *e)
{
    cJSON_Delete(s->cons);
    s->cons = NULL;
    s->cons_loaded = true;
    if (format == 3) {
        cJSON *j = cJSON_ParseWithLength((const char *)root_doc->data, root_doc->size);
        if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "consolidated_metadata")))
            s->cons = j;
        else
            cJSON_Delete(j);
        return 0;
    }
    char *p = pz_path_join(s->root, V2_NAME);
    if (!p)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int rc = read_json(s, p, &s->cons, e);
    pz_free(p);
    return rc;
}

static bool put_text(pz_buf *b, const cJSON *j)
{
    char *t = j ? pz_json_print(j, false) : NULL;
    bool ok = t && pz_buf_append(b, t, strlen(t)) == 0;
    pz_free(t);
    return ok;
}

bool pz_cons_lookup(pzarr_store *s, const char *dir, int format, pz_buf *doc,
                    pz_buf *attrs, bool *is_array)
{
    bool root = strcmp(dir, s->root) == 0;
    const char *rel = root ? "" : rel_of(s, dir);
    /* v3: the root's zarr.json holds the document; outside: no entry. */
    if (!s->cons || !rel || (root && format == 3))
        return false;
    if (format == 3) {
        const cJSON *cm = cJSON_GetObjectItemCaseSensitive(s->cons, "consolidated_metadata");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(cm, "metadata");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, rel);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "node_type");
        if (!cJSON_IsObject(d) || !cJSON_IsString(t))
            return false;
        *is_array = strcmp(t->valuestring, "array") == 0;
        doc->size = 0;
        return put_text(doc, d);
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(s->cons, "metadata");
    char key[PZ_NAME_MAX + 16];
    const char *sep = root ? "" : "/";
    snprintf(key, sizeof key, "%s%s.zarray", rel, sep);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, key);
    *is_array = d != NULL;
    if (!d) {
        snprintf(key, sizeof key, "%s%s.zgroup", rel, sep);
        d = cJSON_GetObjectItemCaseSensitive(m, key);
    }
    if (!cJSON_IsObject(d))
        return false;
    snprintf(key, sizeof key, "%s%s.zattrs", rel, sep);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, key);
    doc->size = 0;
    attrs->size = 0;
    return put_text(doc, d) && (!cJSON_IsObject(a) || put_text(attrs, a));
}

/* ------------------------------------------------ arrays that may hold a record */

/* The object holding "metadata" and the pending list. */
static cJSON *holder_of(const cJSON *c, bool v3)
{
    return v3 ? cJSON_GetObjectItemCaseSensitive(c, "consolidated_metadata") : (cJSON *)c;
}

/* dir relative to the root; NULL for the root itself or outside it. */
static const char *rel_of(const pzarr_store *s, const char *dir)
{
    size_t n = strlen(s->root);
    if (strncmp(dir, s->root, n) != 0 || dir[n] != '/' || !dir[n + 1])
        return NULL;
    return dir + n + 1;
}

static cJSON *pending_entry(const cJSON *list, const char *rel)
{
    for (cJSON *x = list ? list->child : NULL; x; x = x->next)
        if (cJSON_IsString(x) && strcmp(x->valuestring, rel) == 0)
            return x;
    return NULL;
}

/* The cached list (NULL when the document has none). */
static const cJSON *cached_list(const pzarr_store *s)
{
    const cJSON *h = s->cons ? holder_of(s->cons, s->root_format == 3) : NULL;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(h, PENDING);
    return cJSON_IsArray(list) ? list : NULL;
}

bool pz_cons_may_pend(const pzarr_store *s, const char *dir)
{
    const char *rel = rel_of(s, dir);
    const cJSON *list = cached_list(s);
    return !rel || !list || pending_entry(list, rel) != NULL;
}

/* A list for a document that had none: each array it names that holds a
 * commit record now. */
static cJSON *pending_scan(pzarr_store *s, const cJSON *holder, bool v3, pz_err *e)
{
    cJSON *list = cJSON_CreateArray();
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(holder, "metadata");
    for (const cJSON *d = m ? m->child : NULL; list && d; d = d->next) {
        char rel[PZ_NAME_MAX + 16];
        size_t n = strlen(d->string);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "node_type");
        if (v3 && cJSON_IsString(t) && strcmp(t->valuestring, "array") == 0)
            snprintf(rel, sizeof rel, "%s", d->string);
        else if (!v3 && n > 8 && n - 8 < sizeof rel && strcmp(d->string + n - 8, "/.zarray") == 0)
            snprintf(rel, sizeof rel, "%.*s", (int)(n - 8), d->string);
        else
            continue;
        char *dir = pz_path_join(s->root, rel);
        char *rp = dir ? pz_path_join(dir, PZ_COMMIT_RECORD) : NULL;
        s->stats.meta_reads++;
        bool ok = rp != NULL;
        if (ok && pz_io_exists(rp))
            ok = cJSON_AddItemToArray(list, cJSON_CreateString(rel));
        pz_free(rp);
        pz_free(dir);
        if (!ok) {
            cJSON_Delete(list);
            list = NULL;
        }
    }
    if (!list)
        pz_err_set(e, PZARR_ENOMEM, "out of memory listing commit records");
    return list;
}

int pz_cons_pend(pzarr_store *s, const char *dir, bool add, pz_err *e)
{
    const char *rel = rel_of(s, dir);
    if (!s->consolidate || !rel || (!add && !pending_entry(cached_list(s), rel)))
        return 0;
    bool v3 = s->root_format == 3;
    char *cpath = pz_path_join(s->root, v3 ? "zarr.json" : V2_NAME);
    cJSON *c = NULL;
    int rc = cpath ? read_json(s, cpath, &c, e) : pz_err_set(e, PZARR_ENOMEM, "out of memory");
    cJSON *h = c ? holder_of(c, v3) : NULL;
    if (rc == 0 && cJSON_IsObject(h)) {
        cJSON *list = cJSON_GetObjectItemCaseSensitive(h, PENDING);
        bool made = false;
        if (!cJSON_IsArray(list) && add) {
            cJSON_DeleteItemFromObjectCaseSensitive(h, PENDING);
            list = pending_scan(s, h, v3, e);
            made = list && cJSON_AddItemToObject(h, PENDING, list);
            if (!made) {
                cJSON_Delete(list);
                rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
            }
        }
        cJSON *x = cJSON_IsArray(list) ? pending_entry(list, rel) : NULL;
        bool change = rc == 0 && cJSON_IsArray(list) && (add ? !x : x != NULL);
        if (change && add && !cJSON_AddItemToArray(list, cJSON_CreateString(rel)))
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
        else if (change && !add)
            cJSON_Delete(cJSON_DetachItemViaPointer(list, x));
        if (rc == 0 && (change || made))
            rc = write_json(s, cpath, c, e);
        if (rc == 0) /* what was just read (and written) is the cache now */
            adopt(s, &c);
    }
    cJSON_Delete(c);
    pz_free(cpath);
    return rc;
}
