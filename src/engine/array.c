/*
 * The array handle: creation and opening (documents through rank 0), close,
 * what the handle tells about the array, and its settings (write limit,
 * ownership).
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PZ_DEFAULT_WRITE_LIMIT (2ull << 30)    /* per rank, unflushed */

/* ------------------------------------------------------------ handles */

/* PZARR_WRITE_LIMIT: a positive byte count, optionally K, M or G. */
static int default_write_limit(uint64_t *out, pz_err *e)
{
    const char *v = getenv("PZARR_WRITE_LIMIT");
    *out = PZ_DEFAULT_WRITE_LIMIT;
    if (!v || !*v)
        return 0;
    uint64_t n = 0;
    const char *p = v;
    for (; *p >= '0' && *p <= '9'; p++)
        if (!pz_mul_u64(n, 10, &n) || !pz_add_u64(n, (uint64_t)(*p - '0'), &n))
            break;
    int shift = 0;
    if (p > v && (*p == 'K' || *p == 'k' || *p == 'M' || *p == 'm' || *p == 'G' || *p == 'g'))
        shift = (*p == 'K' || *p == 'k') ? 10 : (*p == 'M' || *p == 'm') ? 20 : 30;
    p += shift != 0;
    if (p == v || *p != '\0' || n == 0 || !pz_mul_u64(n, (uint64_t)1 << shift, &n))
        return pz_err_set(e, PZARR_EINVAL,
                          "environment variable PZARR_WRITE_LIMIT=\"%.64s\": expected a "
                          "positive byte count such as 536870912 or 512M",
                          v);
    *out = n;
    return 0;
}

const char *pzarr_array_errmsg(const pzarr_array *a)
{
    return a ? a->err.msg : "no array handle";
}

int pzarr_array_set_error(pzarr_array *a, int code, const char *msg)
{
    if (!a || !pz_live_has(a) || code >= 0)
        return PZARR_EINVAL;
    return pz_err_set(&a->err, code, "%s", msg ? msg : pzarr_strerror(code));
}

static int array_fail(pzarr_array *a, const pz_err *e)
{
    a->err = *e;
    return e->code;
}

static pzarr_array *array_alloc(pzarr_store *s, const char *name)
{
    pzarr_array *a = pz_calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->s = s;
    a->name = pz_strdup(name);
    a->dir = pz_node_dir(s, name);
    a->write_limit = PZ_DEFAULT_WRITE_LIMIT;
    a->policy = PZARR_OWNER_BLOCK;
    a->memfs = -1;
    if (!a->name || !a->dir) {
        pz_free(a->name);
        pz_free(a->dir);
        pz_free(a);
        return NULL;
    }
    return a;
}

static void array_free(pzarr_array *a)
{
    for (int i = 0; i < PZ_READ_BATCH; i++)
        pz_buf_free(&a->rbufs[i]);
    pz_wbuf_free(a);
    pz_vlen_clear(a);
    pz_stage_free(a);
    pz_xchg_free(&a->x);
    pz_meta_free(&a->m);
    pz_free(a->name);
    pz_free(a->dir);
    pz_free(a->mkdir_cache);
    pz_free(a);
}

static int register_array(pzarr_store *s, pzarr_array *a)
{
    if (s->narrays == s->cap_arrays) {
        int cap = s->cap_arrays ? 2 * s->cap_arrays : 8;
        pzarr_array **v = pz_realloc(s->arrays, (size_t)cap * sizeof *v);
        if (!v)
            return PZARR_ENOMEM;
        s->arrays = v;
        s->cap_arrays = cap;
    }
    PZ_TRY(pz_live_add(a));
    s->arrays[s->narrays++] = a;
    return 0;
}

static void unregister_array(pzarr_store *s, pzarr_array *a)
{
    for (int i = 0; i < s->narrays; i++)
        if (s->arrays[i] == a) {
            memmove(s->arrays + i, s->arrays + i + 1, (size_t)(s->narrays - i - 1) * sizeof *s->arrays);
            s->narrays--;
            pz_live_remove(a);
            return;
        }
}

/*
 * Shared ending of create and open: every rank has parsed the same metadata;
 * derive the grid, make the windows (collective: a failed rank takes part
 * too, so that nobody hangs), and agree. On failure the handle is freed and
 * the message lands in the store.
 */
static int array_finish_open(pzarr_store *s, pzarr_array *a, pz_err *e,
                             pzarr_array **out)
{
    if (e->code == 0)
        pz_array_derive(a, e);
    pz_resize_committed(a);
    int wrc = pz_xchg_create(&a->x, s->comm);
    if (wrc && e->code == 0)
        pz_err_set(e, wrc, "cannot create the MPI windows of \"%s\"", a->name);
    if (e->code == 0 && register_array(s, a) != 0)
        pz_err_set(e, PZARR_ENOMEM, "out of memory");
    if (pz_store_end(s, PZ_ANY_RANK, e) != 0) {
        unregister_array(s, a);
        array_free(a);
        return e->code;
    }
    pz_stage_begin(a);
    if (out)
        *out = a;
    return 0;
}

/* Rank 0: writes a new array's documents, parents first, main doc last. */
static int create_root0(pzarr_store *s, pzarr_array *a, pz_err *e)
{
    pz_node_docs nd = {0};
    int rc = pz_node_probe(s, a->dir, &nd);
    if (rc)
        *e = s->err;
    else if (nd.kind != PZARR_NODE_NONE)
        rc = pz_err_set(e, PZARR_EEXIST, "%s already exists at \"%s\"",
                        nd.kind == PZARR_NODE_ARRAY ? "an array" : "a group", a->name);
    pz_node_docs_free(&nd);
    if (rc == 0)
        rc = pz_node_make_parents(s, a->name, a->m.zarr_format, e);
    if (rc == 0)
        rc = pz_io_mkdirs(a->dir, e);
    if (rc == 0)
        rc = pz_node_write_array(s, a->dir, &a->m, e);
    return rc;
}

/* A handle for `name`, or none (message in e) when memory runs out. A bad
 * name still gets a handle, so that its rank joins the collective steps. */
static pzarr_array *array_begin(pzarr_store *s, const char *name, char *canon,
                                pzarr_array **out, pz_err *e)
{
    pz_err_clear(e);
    if (out)
        *out = NULL;
    if (!out)
        pz_err_set(e, PZARR_EINVAL, "the handle argument is NULL");
    else if (s->open_failed)
        pz_err_set(e, PZARR_EINVAL, "the store was not opened: %.900s", s->err.msg);
    else if (pz_name_check(name, canon, PZ_NAME_MAX, e) != 0)
        canon[0] = '\0';
    if (e->code)
        canon[0] = '\0';
    pzarr_array *a = array_alloc(s, canon);
    if (!a && e->code == 0)
        pz_err_set(e, PZARR_ENOMEM, "out of memory");
    if (a && e->code == 0)
        default_write_limit(&a->write_limit, e);
    return a;
}

int pzarr_array_create(pzarr_store *s, const char *name, const char *metadata_json,
                       pzarr_array **out)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    char canon[PZ_NAME_MAX];
    pz_err e;
    pzarr_array *a = array_begin(s, name, canon, out, &e);
    if (!a)
        return pz_store_end(s, PZ_ANY_RANK, &e);
    if (e.code == 0 && !(s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", s->root);
    else if (e.code == 0 && !metadata_json)
        pz_err_set(&e, PZARR_EINVAL, "metadata document is NULL");
    else if (e.code == 0)
        pz_meta_parse_opts(0, metadata_json, strlen(metadata_json), NULL, 0,
                           (s->flags & PZARR_OPAQUE_CODECS) != 0, &a->m, &e);
    if (e.code == 0 && s->rank == 0)
        create_root0(s, a, &e);
    return array_finish_open(s, a, &e, out);
}

int pzarr_array_create_spec(pzarr_store *s, const char *name, const pzarr_spec *spec,
                            pzarr_array **out)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    if (out)
        *out = NULL;
    pz_err e;
    pz_err_clear(&e);
    char *doc = NULL;
    /* Every rank builds the same document from the same spec, so a wrong
     * spec fails alike everywhere before anything is created. */
    if (pz_spec_document(spec, &doc, &e) != 0) {
        s->err = e;
        pz_free(doc);
        return pz_store_end(s, PZ_ANY_RANK, &e);
    }
    int rc = pzarr_array_create(s, name, doc, out);
    pz_free(doc);
    return rc;
}

/* A read-only store whose array holds a commit record: the flush it names
 * has happened. Its documents replace the stored ones, and reads resolve
 * files through the flush's staged names. */
static int use_commit_record(pzarr_array *a, pz_node_docs *nd, pz_err *e)
{
    cJSON *docs = NULL;
    PZ_TRY(pz_commit_parse(a->dir, &nd->commit, a->pending, sizeof a->pending, &docs, e));
    const char *main_name = nd->format == 3 ? "zarr.json" : ".zarray";
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(docs, main_name);
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(docs, ".zattrs");
    int rc = 0;
    if (cJSON_IsString(doc)) {
        nd->doc.size = 0;
        if (pz_buf_append(&nd->doc, doc->valuestring, strlen(doc->valuestring)) != 0)
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
    }
    if (rc == 0 && cJSON_IsString(attrs)) {
        nd->attrs.size = 0;
        if (pz_buf_append(&nd->attrs, attrs->valuestring, strlen(attrs->valuestring)) != 0)
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
    }
    cJSON_Delete(docs);
    return rc;
}

int pzarr_array_open(pzarr_store *s, const char *name, pzarr_array **out)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    char canon[PZ_NAME_MAX];
    pz_err e;
    pzarr_array *a = array_begin(s, name, canon, out, &e);
    pz_node_docs nd = {0};
    if (pz_node_fetch(s, canon, &nd, &e) == 0 && nd.kind == PZARR_NODE_NONE)
        pz_err_set(&e, PZARR_ENOENT, "no array at \"%s\" in %s", canon, s->root);
    else if (e.code == 0 && nd.kind == PZARR_NODE_GROUP)
        pz_err_set(&e, PZARR_ENOTARRAY, "\"%s\" is a group, not an array", canon);
    if (e.code == 0 && nd.commit.size > 0)
        use_commit_record(a, &nd, &e);
    if (e.code == 0 &&
        pz_meta_parse_opts(nd.format, (const char *)nd.doc.data, nd.doc.size,
                           nd.attrs.size ? (const char *)nd.attrs.data : NULL, nd.attrs.size,
                           (s->flags & PZARR_OPAQUE_CODECS) != 0, &a->m, &e) != 0) {
        char inner[PZ_ERRMSG_MAX];
        snprintf(inner, sizeof inner, "%s", e.msg);
        pz_err_set(&e, e.code, "%s/%s: %.900s", canon[0] ? canon : ".",
                   nd.format == 3 ? "zarr.json" : ".zarray", inner);
    }
    pz_node_docs_free(&nd);
    if (!a)
        return pz_store_end(s, PZ_ANY_RANK, &e);
    return array_finish_open(s, a, &e, out);
}

/* Rank 0, closing an array whose flushes were all published: it leaves the
 * consolidated list of arrays that may hold a commit record, unless another
 * open handle of the same array still flushes into it. A failure only
 * leaves the entry, which costs readers one look for a record. */
static void unlist(pzarr_store *s, const pzarr_array *a)
{
    for (int i = 0; i < s->narrays; i++)
        if (s->arrays[i]->listed && strcmp(s->arrays[i]->dir, a->dir) == 0)
            return;
    pz_err ignored;
    pz_err_clear(&ignored);
    pz_cons_pend(s, a->dir, false, &ignored);
}

int pzarr_array_close(pzarr_array *a)
{
    if (!a)
        return 0;
    if (!pz_live_has(a))
        return PZARR_EINVAL;
    pz_request_close(a);
    int rc = pzarr_array_flush(a);
    pzarr_store *s = a->s;
    if (rc)
        pz_store_fail(s, &a->err);
    unregister_array(s, a);
    if (a->listed && rc == 0 && !a->pending[0])
        unlist(s, a);
    array_free(a);
    return rc;
}

int pzarr_array_get_info(const pzarr_array *a, pzarr_array_info *info)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    if (!a || !info)
        return PZARR_EINVAL;
    memset(info, 0, sizeof *info);
    info->zarr_format = a->m.zarr_format;
    info->ndim = a->m.ndim;
    info->dtype = a->m.dtype;
    info->itemsize = a->m.itemsize;
    for (int d = 0; d < a->m.ndim; d++) {
        info->shape[d] = a->m.shape[d];
        info->chunks[d] = a->m.chunks[d];
        info->inner_chunks[d] = a->unit[d];
    }
    info->sharded = a->m.shard.on;
    info->nchunks = pz_meta_nchunks(&a->m);
    return 0;
}

int pzarr_array_dimension_names(const pzarr_array *a, char ***names, size_t *count)
{
    if (!a || !pz_live_has(a) || !names || !count)
        return PZARR_EINVAL;
    *names = NULL;
    *count = 0;
    if (!a->m.dimension_names)
        return 0;
    size_t n = (size_t)a->m.ndim;
    char **v = pz_calloc(n, sizeof *v);
    for (size_t d = 0; v && d < n; d++) {
        const char *x = a->m.dimension_names[d];
        if (!(v[d] = pz_strdup(x ? x : ""))) {
            pzarr_free_list(v, d);
            v = NULL;
        }
    }
    if (!v)
        return PZARR_ENOMEM;
    *names = v;
    *count = n;
    return 0;
}

int pzarr_array_metadata(const pzarr_array *a, char **json)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    if (!a || !json)
        return PZARR_EINVAL;
    *json = pz_meta_emit(&a->m);
    if (*json && a->m.zarr_format == 2) {
        cJSON *j = cJSON_Parse(*json);
        pz_free(*json);
        *json = NULL;
        if (j) {
            cJSON_AddItemToObject(j, "attributes",
                                  a->m.attributes ? cJSON_Duplicate(a->m.attributes, 1)
                                                  : cJSON_CreateObject());
            *json = pz_json_print(j, true);
            cJSON_Delete(j);
        }
    }
    return *json ? 0 : PZARR_ENOMEM;
}

int pzarr_array_set_write_limit(pzarr_array *a, uint64_t bytes)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    if (bytes)
        a->write_limit = bytes;
    else
        default_write_limit(&a->write_limit, &e);
    return array_fail(a, &e);
}

/* Every rank must end with the same owner map: a rank given bad dims fails
 * the call on every rank, and nobody's map changes. */
int pzarr_array_set_owner(pzarr_array *a, pzarr_owner_policy policy, const int *dims)
{
    if (!a)
        return PZARR_EINVAL;
    int rc = pzarr_array_flush(a);
    if (rc)
        return rc;
    pz_err e;
    pz_err_clear(&e);
    pz_owner_map om;
    int pdims[PZ_MAX_NDIM] = {0};
    if (policy == PZARR_OWNER_BLOCK && !dims) {
        int pref[PZ_MAX_NDIM] = {0};
        pz_process_grid(a->s->size, a->m.ndim, pref);
        pz_owner_fit_dims(a->s->size, a->m.ndim, a->grid, pref, pdims);
    }
    pz_owner_init(&om, policy, a->s->size, a->m.ndim, a->grid, dims ? dims : pdims, &e);
    if (pz_collective_end(a->s->comm, PZ_ANY_RANK, &e) == 0) {
        a->om = om;
        a->policy = policy;
        a->pdims_set = dims != NULL;
        for (int d = 0; dims && d < a->m.ndim; d++)
            a->pdims[d] = dims[d];
    }
    return array_fail(a, &e);
}

int pzarr_array_chunk_owner(const pzarr_array *a, const uint64_t *cc, int *rank)
{
    if (!a || !pz_live_has(a))
        return PZARR_EINVAL;
    if (!a || !rank || (a->m.ndim && !cc))
        return PZARR_EINVAL;
    for (int d = 0; d < a->m.ndim; d++)
        if (cc[d] >= a->grid[d])
            return PZARR_EBOUNDS;
    *rank = pz_owner_of(&a->om, cc);
    return 0;
}

