/*
 * Nodes as rank 0 sees them: what lives at a path (zarr.json, .zarray,
 * .zgroup, .zattrs), documents broadcast to every rank, and documents
 * written atomically. Only rank 0 touches metadata files.
 */
#include "engine.h"

#include <stdio.h>
#include <string.h>

/* Name check and collective prologue shared by the node calls. */
int pz_node_check_name(pzarr_store *s, const char *name, char *canon)
{
    canon[0] = '\0';
    if (s->open_failed) {
        char why[PZ_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", s->err.msg);
        return pz_err_set(&s->err, PZARR_EINVAL, "the store was not opened: %.900s",
                          strncmp(why, "the store was not opened: ", 26) == 0 ? why + 26 : why);
    }
    pz_err_clear(&s->err);
    return pz_name_check(name, canon, PZ_NAME_MAX, &s->err);
}

int pz_node_parse_attrs(pzarr_store *s, const char *json, cJSON **out)
{
    *out = NULL;
    if (!json)
        return 0;
    *out = cJSON_Parse(json);
    if (!*out || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return pz_err_set(&s->err, PZARR_EINVAL, "attributes must be a JSON object");
    }
    return 0;
}

char *pz_node_dir(const pzarr_store *s, const char *name)
{
    return pz_path_join(s->root, name);
}

void pz_node_docs_free(pz_node_docs *nd)
{
    pz_buf_free(&nd->doc);
    pz_buf_free(&nd->attrs);
    pz_buf_free(&nd->commit);
    nd->kind = PZARR_NODE_NONE;
    nd->format = 0;
}

/* Reads dir/file into b; *found tells whether it was there. */
static int probe_file(pzarr_store *s, const char *dir, const char *file,
                      pz_buf *b, bool *found, pz_err *e)
{
    char *p = pz_path_join(dir, file);
    if (!p)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    s->stats.meta_reads++;
    pz_err local;
    pz_err_clear(&local);
    int rc = pz_io_read_file(p, b, &local);
    pz_free(p);
    *found = rc == 0;
    if (rc == PZARR_ENOENT)
        return 0;
    if (rc)
        *e = local;
    return rc;
}

static int v3_node_kind(const pz_buf *doc, const char *dir, pzarr_node_kind *kind,
                        pz_err *e)
{
    cJSON *j = cJSON_ParseWithLength((const char *)doc->data, doc->size);
    if (!j)
        return pz_err_set(e, PZARR_EMETA, "%s/zarr.json: malformed JSON", dir);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "node_type");
    int rc = 0;
    if (cJSON_IsString(t) && strcmp(t->valuestring, "array") == 0)
        *kind = PZARR_NODE_ARRAY;
    else if (cJSON_IsString(t) && strcmp(t->valuestring, "group") == 0)
        *kind = PZARR_NODE_GROUP;
    else
        rc = pz_err_set(e, PZARR_EMETA,
                        "%s/zarr.json: \"node_type\" must be \"array\" or \"group\"", dir);
    cJSON_Delete(j);
    return rc;
}

/* The node at dir as the consolidated document (format's) describes it;
 * false when the store has none or it leaves the node out. */
static bool from_cons(pzarr_store *s, const char *dir, int format, pz_node_docs *nd)
{
    bool is_array = false;
    if (!s->cons || !pz_cons_lookup(s, dir, format, &nd->doc, &nd->attrs, &is_array))
        return false;
    nd->format = format;
    nd->kind = is_array ? PZARR_NODE_ARRAY : PZARR_NODE_GROUP;
    nd->consolidated = true;
    return true;
}

static int probe_docs(pzarr_store *s, const char *dir, pz_node_docs *nd)
{
    pz_err *e = &s->err;
    bool found = false;
    nd->kind = PZARR_NODE_NONE;
    nd->format = 0;
    nd->consolidated = false;
    if (from_cons(s, dir, s->root_format, nd))
        return 0;
    /* Opening a v2 store: its .zmetadata, when there, also answers for the
     * root, and is the one document read (looked for before zarr.json when
     * the store is opened with PZARR_FORMAT_V2). */
    bool v2_first = (s->flags & PZARR_FORMAT_V2) != 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == v2_first) {
            PZ_TRY(probe_file(s, dir, "zarr.json", &nd->doc, &found, e));
            if (found) {
                nd->format = 3;
                return v3_node_kind(&nd->doc, dir, &nd->kind, e);
            }
        } else if (!s->cons_loaded && strcmp(dir, s->root) == 0) {
            PZ_TRY(pz_cons_load(s, 2, NULL, e));
            if (from_cons(s, dir, 2, nd))
                return 0;
        }
    }
    PZ_TRY(probe_file(s, dir, ".zarray", &nd->doc, &found, e));
    if (!found) {
        PZ_TRY(probe_file(s, dir, ".zgroup", &nd->doc, &found, e));
        if (!found)
            return 0;
        nd->kind = PZARR_NODE_GROUP;
    } else {
        nd->kind = PZARR_NODE_ARRAY;
    }
    nd->format = 2;
    return probe_file(s, dir, ".zattrs", &nd->attrs, &found, e);
}

/* An array's documents, and its commit record when a committed flush was
 * not published (a killed job): a writable store finishes it first. */
int pz_node_probe(pzarr_store *s, const char *dir, pz_node_docs *nd)
{
    PZ_TRY(probe_docs(s, dir, nd));
    if (nd->kind != PZARR_NODE_ARRAY || (nd->consolidated && !pz_cons_may_pend(s, dir)))
        return 0;
    bool found = false;
    PZ_TRY(probe_file(s, dir, PZ_COMMIT_RECORD, &nd->commit, &found, &s->err));
    if (!found || !(s->flags & PZARR_RDWR))
        return 0;
    nd->commit.size = 0;
    PZ_TRY(pz_recover_array(s, dir, NULL, &s->err));
    return probe_docs(s, dir, nd);
}

int pz_node_fetch(pzarr_store *s, const char *name, pz_node_docs *nd, pz_err *e)
{
    pz_buf hdr = {0};
    if (s->rank == 0 && e->code == 0) {
        char *dir = pz_node_dir(s, name);
        if (!dir)
            pz_err_set(e, PZARR_ENOMEM, "out of memory");
        else if (pz_node_probe(s, dir, nd) != 0)
            *e = s->err;
        pz_free(dir);
        unsigned char kf[2] = {(unsigned char)nd->kind, (unsigned char)nd->format};
        if (e->code == 0 && pz_buf_append(&hdr, kf, 2) != 0)
            pz_err_set(e, PZARR_ENOMEM, "out of memory");
    }
    pz_buf bufs[4] = {hdr, nd->doc, nd->attrs, nd->commit};
    bool ok = e->code == 0;
    int rc = pz_bcast_bufs(s->comm, 4, bufs, e);
    nd->doc = bufs[1];
    nd->attrs = bufs[2];
    nd->commit = bufs[3];
    if (rc == 0 && ok) {
        nd->kind = (pzarr_node_kind)bufs[0].data[0];
        nd->format = bufs[0].data[1];
    }
    pz_buf_free(&bufs[0]);
    return e->code;
}

/* Whether path is the root group's zarr.json. */
static bool is_root_v3(const pzarr_store *s, const char *path)
{
    size_t n = strlen(s->root);
    return strncmp(path, s->root, n) == 0 && strcmp(path + n, "/zarr.json") == 0;
}

int pz_node_write_doc(pzarr_store *s, const char *path, const char *text, pz_err *e)
{
    /* With consolidated metadata, the root group's zarr.json keeps its
     * "consolidated_metadata" member, and every other document is entered
     * into it once written. */
    char *root_doc = NULL;
    if (s->consolidate && is_root_v3(s, path) && !(root_doc = pz_cons_root_doc(s, text, e)))
        return e->code;
    const char *t = root_doc ? root_doc : text;
    s->stats.meta_writes++;
    int rc = pz_io_write_atomic(path, t, strlen(t), "meta", MPI_INFO_NULL,
                                (s->flags & PZARR_DURABLE) != 0, e);
    pz_free(root_doc);
    if (rc == 0 && s->consolidate)
        rc = pz_cons_note(s, path, text, e);
    return rc;
}

/* Rank 0: writes a group's documents into dir (which must exist). */
int pz_node_write_group(pzarr_store *s, const char *dir, int fmt, const cJSON *attrs,
                        pz_err *e)
{
    char *doc = pz_group_emit(fmt, attrs);
    char *p = pz_path_join(dir, fmt == 3 ? "zarr.json" : ".zgroup");
    int rc = (!doc || !p) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                          : pz_node_write_doc(s, p, doc, e);
    pz_free(doc);
    pz_free(p);
    if (rc == 0 && fmt == 2 && attrs && cJSON_GetArraySize(attrs) > 0) {
        char *text = pz_json_print(attrs, true);
        char *ap = pz_path_join(dir, ".zattrs");
        rc = (!text || !ap) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                            : pz_node_write_doc(s, ap, text, e);
        pz_free(text);
        pz_free(ap);
    }
    return rc;
}

/* Rank 0: makes sure a group exists at dir (creating it in format fmt). */
static int ensure_group(pzarr_store *s, const char *name, int fmt, pz_err *e)
{
    char *dir = pz_node_dir(s, name);
    if (!dir)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_node_docs nd = {0};
    int rc = pz_node_probe(s, dir, &nd);
    if (rc)
        *e = s->err;
    else if (nd.kind == PZARR_NODE_ARRAY)
        rc = pz_err_set(e, PZARR_ENOTGROUP, "\"%s\" is an array, not a group",
                        name[0] ? name : "/");
    else if (nd.kind == PZARR_NODE_NONE) {
        rc = pz_io_mkdirs(dir, e);
        if (rc == 0)
            rc = pz_node_write_group(s, dir, fmt, NULL, e);
    }
    pz_node_docs_free(&nd);
    pz_free(dir);
    return rc;
}

int pz_node_make_parents(pzarr_store *s, const char *name, int fmt, pz_err *e)
{
    if (name[0] == '\0')
        return 0;
    char prefix[PZ_NAME_MAX];
    PZ_TRY(ensure_group(s, "", fmt, e));
    for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
        size_t n = (size_t)(p - name);
        memcpy(prefix, name, n);
        prefix[n] = '\0';
        PZ_TRY(ensure_group(s, prefix, fmt, e));
    }
    return 0;
}

int pz_node_write_array(pzarr_store *s, const char *dir, const pz_meta *m, pz_err *e)
{
    int rc = 0;
    if (m->zarr_format == 2 && m->attributes && cJSON_GetArraySize(m->attributes) > 0) {
        char *t = pz_meta_emit_attrs(m);
        char *p = pz_path_join(dir, ".zattrs");
        rc = (!t || !p) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                        : pz_node_write_doc(s, p, t, e);
        pz_free(t);
        pz_free(p);
    }
    if (rc)
        return rc;
    char *t = pz_meta_emit(m);
    char *p = pz_path_join(dir, m->zarr_format == 3 ? "zarr.json" : ".zarray");
    rc = (!t || !p) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                    : pz_node_write_doc(s, p, t, e);
    pz_free(t);
    pz_free(p);
    return rc;
}
