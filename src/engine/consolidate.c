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
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

#define V2_NAME ".zmetadata"

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
    if (rc == 0 && c) { /* what was just written is the cache now */
        cJSON_Delete(s->cons);
        s->cons = c;
        c = NULL;
    }
    cJSON_Delete(c);
    pz_free(cpath);
    return rc;
}

int pz_cons_load(pzarr_store *s, int format, const pz_buf *root_doc, pz_err *e)
{
    cJSON_Delete(s->cons);
    s->cons = NULL;
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
    size_t n = strlen(s->root);
    if (!s->cons || strncmp(dir, s->root, n) != 0 || dir[n] != '/' || !dir[n + 1])
        return false; /* the root itself, or outside: from its files */
    const char *rel = dir + n + 1;
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
    snprintf(key, sizeof key, "%s/.zarray", rel);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(m, key);
    *is_array = d != NULL;
    if (!d) {
        snprintf(key, sizeof key, "%s/.zgroup", rel);
        d = cJSON_GetObjectItemCaseSensitive(m, key);
    }
    if (!cJSON_IsObject(d))
        return false;
    snprintf(key, sizeof key, "%s/.zattrs", rel);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, key);
    doc->size = 0;
    attrs->size = 0;
    return put_text(doc, d) && (!cJSON_IsObject(a) || put_text(attrs, a));
}
