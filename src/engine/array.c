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

static uint64_t default_write_limit(void)
{
    const char *v = getenv("PZARR_WRITE_LIMIT");
    if (!v || !*v)
        return PZ_DEFAULT_WRITE_LIMIT;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*end == 'K' || *end == 'k')
        n <<= 10;
    else if (*end == 'M' || *end == 'm')
        n <<= 20;
    else if (*end == 'G' || *end == 'g')
        n <<= 30;
    return n ? n : PZ_DEFAULT_WRITE_LIMIT;
}

const char *pzarr_array_errmsg(const pzarr_array *a)
{
    return a ? a->err.msg : "no array handle";
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
    a->write_limit = default_write_limit();
    a->policy = PZARR_OWNER_BLOCK;
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
    pz_xchg_free(&a->x);
    pz_meta_free(&a->m);
    pz_free(a->name);
    pz_free(a->dir);
    pz_free(a->mkdir_cache);
    pz_free(a);
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
    int wrc = pz_xchg_create(&a->x, s->comm);
    if (wrc && e->code == 0)
        pz_err_set(e, wrc, "cannot create the MPI windows of \"%s\"", a->name);
    if (pz_store_end(s, PZ_ANY_RANK, e) != 0) {
        array_free(a);
        return e->code;
    }
    s->open_arrays++;
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
        rc = pz_err_set(e, PZARR_EEXIST, "a %s already exists at \"%s\"",
                        nd.kind == PZARR_NODE_ARRAY ? "array" : "group", a->name);
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
static pzarr_array *array_begin(pzarr_store *s, const char *name, char *canon, pz_err *e)
{
    pz_err_clear(e);
    if (pz_name_check(name, canon, PZ_NAME_MAX, e) != 0)
        canon[0] = '\0';
    pzarr_array *a = array_alloc(s, canon);
    if (!a && e->code == 0)
        pz_err_set(e, PZARR_ENOMEM, "out of memory");
    return a;
}

int pzarr_array_create(pzarr_store *s, const char *name, const char *metadata_json,
                       pzarr_array **out)
{
    char canon[PZ_NAME_MAX];
    pz_err e;
    *out = NULL;
    pzarr_array *a = array_begin(s, name, canon, &e);
    if (!a)
        return pz_store_end(s, PZ_ANY_RANK, &e);
    if (e.code == 0 && !(s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", s->root);
    else if (e.code == 0 && !metadata_json)
        pz_err_set(&e, PZARR_EINVAL, "metadata document is NULL");
    else if (e.code == 0)
        pz_meta_parse(metadata_json, strlen(metadata_json), NULL, 0, &a->m, &e);
    if (e.code == 0 && s->rank == 0)
        create_root0(s, a, &e);
    return array_finish_open(s, a, &e, out);
}

int pzarr_array_open(pzarr_store *s, const char *name, pzarr_array **out)
{
    char canon[PZ_NAME_MAX];
    pz_err e;
    *out = NULL;
    pzarr_array *a = array_begin(s, name, canon, &e);
    pz_node_docs nd = {0};
    if (pz_node_fetch(s, canon, &nd, &e) == 0 && nd.kind == PZARR_NODE_NONE)
        pz_err_set(&e, PZARR_ENOENT, "no array at \"%s\" in %s", canon, s->root);
    else if (e.code == 0 && nd.kind == PZARR_NODE_GROUP)
        pz_err_set(&e, PZARR_ENOTARRAY, "\"%s\" is a group, not an array", canon);
    if (e.code == 0 &&
        pz_meta_parse_format(nd.format, (const char *)nd.doc.data, nd.doc.size,
                             nd.attrs.size ? (const char *)nd.attrs.data : NULL,
                             nd.attrs.size, &a->m, &e) != 0) {
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

int pzarr_array_close(pzarr_array *a)
{
    if (!a)
        return 0;
    int rc = pzarr_array_flush(a);
    pzarr_store *s = a->s;
    if (rc)
        pz_store_fail(s, &a->err);
    s->open_arrays--;
    array_free(a);
    return rc;
}

int pzarr_array_get_info(const pzarr_array *a, pzarr_array_info *info)
{
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

int pzarr_array_metadata(const pzarr_array *a, char **json)
{
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
    if (!a)
        return PZARR_EINVAL;
    a->write_limit = bytes ? bytes : default_write_limit();
    return 0;
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
    if (policy == PZARR_OWNER_BLOCK && !dims)
        pz_process_grid(a->s->size, a->m.ndim, pdims);
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
    if (!a || !rank || (a->m.ndim && !cc))
        return PZARR_EINVAL;
    for (int d = 0; d < a->m.ndim; d++)
        if (cc[d] >= a->grid[d])
            return PZARR_EBOUNDS;
    *rank = pz_owner_of(&a->om, cc);
    return 0;
}

