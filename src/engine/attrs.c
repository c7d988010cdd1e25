/* Attributes of groups and arrays, as JSON object texts. */
#include "engine.h"

#include <string.h>

/* The attributes object of a node's documents (a new cJSON). */
static cJSON *attrs_of(const pz_node_docs *nd)
{
    if (nd->format == 3) {
        cJSON *j = cJSON_ParseWithLength((const char *)nd->doc.data, nd->doc.size);
        cJSON *a = j ? cJSON_DetachItemFromObjectCaseSensitive(j, "attributes") : NULL;
        cJSON_Delete(j);
        return a ? a : cJSON_CreateObject();
    }
    cJSON *a = nd->attrs.size
        ? cJSON_ParseWithLength((const char *)nd->attrs.data, nd->attrs.size)
        : cJSON_CreateObject();
    return a;
}

int pzarr_attrs_get(pzarr_store *s, const char *name, char **json)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    char canon[PZ_NAME_MAX];
    *json = NULL;
    pz_node_check_name(s, name, canon);
    pz_err e = s->err;
    pz_node_docs nd = {0};
    if (pz_node_fetch(s, canon, &nd, &e) == 0 && nd.kind == PZARR_NODE_NONE)
        pz_err_set(&e, PZARR_ENOENT, "no node at \"%s\"", canon);
    if (e.code == 0) {
        cJSON *a = attrs_of(&nd);
        if (!a || !cJSON_IsObject(a))
            pz_err_set(&e, PZARR_EMETA, "attributes of \"%s\" are not a JSON object", canon);
        else if (!(*json = pz_json_print(a, false)))
            pz_err_set(&e, PZARR_ENOMEM, "out of memory");
        cJSON_Delete(a);
    }
    pz_node_docs_free(&nd);
    int rc = pz_store_end(s, PZ_ROOT_IO, &e);
    if (rc) {
        pz_free(*json);
        *json = NULL;
    }
    return rc;
}

/* The node's attributes with `delta` merged in (a null value removes its
 * key); NULL with e set when they are not an object. */
static cJSON *merged_attrs(const pz_node_docs *nd, const char *name, const cJSON *delta,
                           pz_err *e)
{
    cJSON *a = attrs_of(nd);
    if (!cJSON_IsObject(a)) {
        cJSON_Delete(a);
        pz_err_set(e, PZARR_EMETA, "attributes of \"%s\" are not a JSON object", name);
        return NULL;
    }
    for (const cJSON *k = delta->child; k; k = k->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(a, k->string);
        cJSON *v = cJSON_IsNull(k) ? NULL : cJSON_Duplicate(k, true);
        if (v)
            cJSON_AddItemToObject(a, k->string, v);
    }
    return a;
}

/* Rank 0: rewrites a node's attributes with attrs, or (merge) with its
 * attributes and attrs merged, from one look at the node. */
static int attrs_set_root0(pzarr_store *s, const char *name, const cJSON *given, bool merge,
                           pz_err *e)
{
    char *dir = pz_node_dir(s, name);
    if (!dir)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_node_docs nd = {0};
    int rc = pz_node_probe(s, dir, &nd);
    char *text = NULL, *path = NULL;
    cJSON *merged = NULL;
    if (rc)
        *e = s->err;
    else if (nd.kind == PZARR_NODE_NONE)
        rc = pz_err_set(e, PZARR_ENOENT, "no node at \"%s\"", name);
    else if (merge && !(merged = merged_attrs(&nd, name, given, e)))
        rc = e->code;
    const cJSON *attrs = merge ? merged : given;
    if (rc == 0 && nd.format == 3 && nd.kind == PZARR_NODE_GROUP) {
        text = pz_group_emit(3, attrs);
        path = pz_path_join(dir, "zarr.json");
    } else if (rc == 0 && nd.format == 3) {
        /* Re-emit the array document through the metadata module so that
         * every field keeps its exact form. */
        pz_meta m;
        memset(&m, 0, sizeof m);
        rc = pz_meta_parse_format(3, (const char *)nd.doc.data, nd.doc.size, NULL, 0, &m, e);
        if (rc == 0) {
            cJSON_Delete(m.attributes);
            m.attributes = cJSON_Duplicate(attrs, 1);
            text = pz_meta_emit(&m);
            path = pz_path_join(dir, "zarr.json");
        }
        pz_meta_free(&m);
    } else if (rc == 0) {
        text = pz_json_print(attrs, true);
        path = pz_path_join(dir, ".zattrs");
    }
    if (rc == 0)
        rc = (!text || !path) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                              : pz_node_write_doc(s, path, text, e);
    cJSON_Delete(merged);
    pz_free(text);
    pz_free(path);
    pz_node_docs_free(&nd);
    pz_free(dir);
    return rc;
}

/* The store end of a set or an update: replace (merge false) or merge. */
static int attrs_write(pzarr_store *s, const char *name, const char *json, bool merge)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    char canon[PZ_NAME_MAX];
    cJSON *attrs = NULL;
    if (pz_node_check_name(s, name, canon) == 0 &&
        pz_node_parse_attrs(s, json ? json : "", &attrs) == 0 && !(s->flags & PZARR_RDWR))
        pz_err_set(&s->err, PZARR_ERDONLY, "store %s is read-only", s->root);
    pz_err e = s->err;
    if (e.code == 0 && s->rank == 0)
        attrs_set_root0(s, canon, attrs, merge, &e);
    cJSON_Delete(attrs);
    return pz_store_end(s, PZ_ROOT_IO, &e);
}

int pzarr_attrs_set(pzarr_store *s, const char *name, const char *json)
{
    return attrs_write(s, name, json, false);
}

int pzarr_attrs_update(pzarr_store *s, const char *name, const char *json)
{
    return attrs_write(s, name, json, true);
}

