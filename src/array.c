/*
 * Arrays: creation and opening (metadata through rank 0), the write log,
 * local reads, and the collective flush that routes every piece of every
 * write to the owner of its chunk through MPI one-sided windows.
 */
#include "pz_core.h"
#include "pz_array.h"

#include <limits.h>
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

int pz_array_derive(pzarr_array *a, pz_err *e)
{
    const pz_meta *m = &a->m;
    a->chunk_elems = 1;
    for (int d = 0; d < m->ndim; d++) {
        a->unit[d] = m->shard.on ? m->shard.inner[d] : m->chunks[d];
        a->per[d] = m->chunks[d] / a->unit[d];
        a->sgrid[d] = pz_meta_grid_dim(m, d);
        a->grid[d] = m->shape[d] / a->unit[d] + (m->shape[d] % a->unit[d] != 0);
        a->chunk_elems *= a->unit[d];
    }
    a->chunk_bytes = (size_t)(a->chunk_elems * m->itemsize);
    if (!pz_prod(m->ndim, a->grid, &a->nunits))
        return pz_err_set(e, PZARR_EUNSUPPORTED, "too many chunks");
    return pz_owner_init(&a->om, a->policy, a->s->size, m->ndim, a->grid,
                         a->pdims_set ? a->pdims : NULL, e);
}

static int windows_create(pzarr_array *a)
{
    int n = a->s->size;
    a->slots = pz_calloc((size_t)n * 2, sizeof(uint64_t));
    if (!a->slots)
        return PZARR_ENOMEM;
    if (MPI_Win_create(a->slots, (MPI_Aint)((size_t)n * 2 * sizeof(uint64_t)),
                       (int)sizeof(uint64_t), MPI_INFO_NULL, a->s->comm,
                       &a->win_slots) != MPI_SUCCESS)
        return PZARR_EMPI;
    if (MPI_Win_create_dynamic(MPI_INFO_NULL, a->s->comm, &a->win_data) != MPI_SUCCESS)
        return PZARR_EMPI;
    a->windows = true;
    return 0;
}

static void windows_free(pzarr_array *a)
{
    if (a->windows) {
        MPI_Win_free(&a->win_slots);
        MPI_Win_free(&a->win_data);
        a->windows = false;
    }
    pz_free(a->slots);
    a->slots = NULL;
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
    pz_log_free(a);
    pz_free(a->log.pieces);
    pz_free(a->log.coords);
    pz_free(a->log.segs);
    windows_free(a);
    pz_meta_free(&a->m);
    pz_free(a->name);
    pz_free(a->dir);
    pz_free(a->mkdir_cache);
    pz_free(a);
}

/*
 * Shared ending of create and open: every rank has parsed the same metadata;
 * derive the grid, make the windows, and agree. On failure the handle is
 * freed and the message lands in the store.
 */
static int array_finish_open(pzarr_store *s, pzarr_array *a, pz_err *e,
                             pzarr_array **out)
{
    if (e->code == 0)
        pz_array_derive(a, e);
    /* Window creation is collective: every rank takes part, even a failed
     * one, so that nobody hangs. */
    int wrc = windows_create(a);
    if (wrc && e->code == 0)
        pz_err_set(e, wrc, "cannot create the MPI windows of \"%s\"", a->name);
    int rc = pz_agree(s->comm, e);
    if (rc) {
        array_free(a);
        return pz_store_fail(s, e);
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
        rc = pz_make_parents(s, a->name, a->m.zarr_format, e);
    if (rc == 0)
        rc = pz_io_mkdirs(a->dir, e);
    if (rc == 0)
        rc = pz_array_write_meta(a, e);
    return rc;
}

int pz_array_write_meta(pzarr_array *a, pz_err *e)
{
    pzarr_store *s = a->s;
    int rc = 0;
    if (a->m.zarr_format == 2 && a->m.attributes &&
        cJSON_GetArraySize(a->m.attributes) > 0) {
        char *t = pz_meta_emit_attrs(&a->m);
        char *p = pz_path_join(a->dir, ".zattrs");
        rc = (!t || !p) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                        : pz_meta_write(s, p, t, e);
        pz_free(t);
        pz_free(p);
    }
    if (rc)
        return rc;
    char *t = pz_meta_emit(&a->m);
    char *p = pz_path_join(a->dir, a->m.zarr_format == 3 ? "zarr.json" : ".zarray");
    rc = (!t || !p) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                    : pz_meta_write(s, p, t, e);
    pz_free(t);
    pz_free(p);
    return rc;
}

int pzarr_array_create(pzarr_store *s, const char *name, const char *metadata_json,
                       pzarr_array **out)
{
    char canon[4096];
    pz_err e;
    pz_err_clear(&e);
    *out = NULL;
    if (pz_name_check(name, canon, sizeof canon, &e) != 0)
        return pz_store_fail(s, &e);
    pzarr_array *a = array_alloc(s, canon);
    if (!a)
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    else if (!(s->flags & PZARR_RDWR))
        pz_err_set(&e, PZARR_ERDONLY, "store %s is read-only", s->root);
    else if (!metadata_json)
        pz_err_set(&e, PZARR_EINVAL, "metadata document is NULL");
    else
        pz_meta_parse(metadata_json, strlen(metadata_json), NULL, 0, &a->m, &e);
    if (!a) {
        pz_agree(s->comm, &e);
        return pz_store_fail(s, &e);
    }
    if (e.code == 0 && s->rank == 0)
        create_root0(s, a, &e);
    /* Rank 0's outcome reaches everyone (others have parsed the same doc). */
    int msg = e.code;
    MPI_Bcast(&msg, 1, MPI_INT, 0, s->comm);
    if (msg != 0 && s->rank != 0 && e.code == 0)
        pz_err_set(&e, msg, "rank 0 could not create \"%s\"", canon);
    if (msg != 0) {
        MPI_Bcast(e.msg, (int)sizeof e.msg, MPI_CHAR, 0, s->comm);
        e.code = msg;
    }
    return array_finish_open(s, a, &e, out);
}

int pzarr_array_open(pzarr_store *s, const char *name, pzarr_array **out)
{
    char canon[4096];
    pz_err e;
    pz_err_clear(&e);
    *out = NULL;
    if (pz_name_check(name, canon, sizeof canon, &e) != 0)
        return pz_store_fail(s, &e);
    pz_node_docs nd = {0};
    int rc = pz_node_fetch(s, canon, &nd);
    if (rc)
        e = s->err;
    else if (nd.kind == PZARR_NODE_NONE)
        pz_err_set(&e, PZARR_ENOENT, "no array at \"%s\" in %s", canon, s->root);
    else if (nd.kind == PZARR_NODE_GROUP)
        pz_err_set(&e, PZARR_ENOTARRAY, "\"%s\" is a group, not an array", canon);
    pzarr_array *a = array_alloc(s, canon);
    if (!a && e.code == 0)
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
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
    if (!a) {
        pz_agree(s->comm, &e);
        return pz_store_fail(s, &e);
    }
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

int pzarr_array_set_owner(pzarr_array *a, pzarr_owner_policy policy, const int *dims)
{
    int rc = pzarr_array_flush(a);
    if (rc)
        return rc;
    pz_err e;
    pz_err_clear(&e);
    pz_owner_map om;
    if (pz_owner_init(&om, policy, a->s->size, a->m.ndim, a->grid, dims, &e) == 0) {
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

/* ------------------------------------------------------------ helpers */

int pz_array_check_box(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                       const char *what, pz_err *e)
{
    int nd = a->m.ndim;
    if (nd > 0 && (!start || !count))
        return pz_err_set(e, PZARR_EINVAL, "%s: start and count are required", what);
    uint64_t elems, bytes;
    if (pz_box_inside(nd, a->m.shape, start, count)) {
        if (pz_prod(nd, count, &elems) && pz_mul_u64(elems, a->m.itemsize, &bytes) &&
            bytes <= SIZE_MAX)
            return 0;
        return pz_err_set(e, PZARR_EBOUNDS,
                          "%s: the size of the region of \"%s\" overflows (more bytes than memory can address)",
                          what, a->name);
    }
    char box[512] = "", shape[512] = "";
    size_t bo = 0, so = 0;
    for (int d = 0; d < nd && bo < 400 && so < 400; d++) {
        bo += (size_t)snprintf(box + bo, sizeof box - bo, "%s%llu:%llu", d ? "," : "",
                               (unsigned long long)start[d],
                               (unsigned long long)(start[d] + count[d]));
        so += (size_t)snprintf(shape + so, sizeof shape - so, "%s%llu", d ? "," : "",
                               (unsigned long long)a->m.shape[d]);
    }
    return pz_err_set(e, PZARR_EBOUNDS, "%s: region [%s] lies outside shape [%s] of \"%s\"",
                      what, box, shape, a->name);
}

int pz_array_chunk_path(pzarr_array *a, const uint64_t *cc, char *key,
                        size_t keycap, char **path, pz_err *e)
{
    if (pz_meta_chunk_key(&a->m, cc, key, keycap) != 0)
        return pz_err_set(e, PZARR_EINVAL, "chunk key too long");
    *path = pz_path_join(a->dir, key);
    return *path ? 0 : pz_err_set(e, PZARR_ENOMEM, "out of memory");
}

/* Extent of chunk cc that lies inside the array. */
void pz_array_chunk_extent(const pzarr_array *a, const uint64_t *cc, uint64_t *ext)
{
    for (int d = 0; d < a->m.ndim; d++) {
        uint64_t c0 = cc[d] * a->unit[d];
        uint64_t rest = a->m.shape[d] - c0;
        ext[d] = rest < a->unit[d] ? rest : a->unit[d];
    }
}

/* Decodes chunk bytes into out (chunk_bytes), naming the key on failure. */
int pz_array_decode(pzarr_array *a, const char *key, const pz_buf *enc, void *out,
                    pz_err *e)
{
    pz_err inner;
    pz_err_clear(&inner);
    int rc = pz_chunk_decode(&a->m.pipeline, a->m.ndim, a->unit, a->m.dtype,
                             enc->data, enc->size, out, &inner);
    if (rc)
        return pz_err_set(e, rc, "\"%s\" chunk %s: %.900s", a->name, key, inner.msg);
    return 0;
}

void pz_array_unit_name(const pzarr_array *a, const uint64_t *ucc, char *out, size_t cap)
{
    uint64_t scc[PZ_MAX_NDIM];
    for (int d = 0; d < a->m.ndim; d++)
        scc[d] = ucc[d] / a->per[d];
    if (pz_meta_chunk_key(&a->m, scc, out, cap) != 0)
        snprintf(out, cap, "?");
    if (!a->m.shard.on)
        return;
    size_t o = strlen(out);
    o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, " inner chunk (");
    for (int d = 0; d < a->m.ndim && o < cap; d++)
        o += (size_t)snprintf(out + o, cap - o, "%s%llu", d ? "," : "",
                              (unsigned long long)(ucc[d] % a->per[d]));
    if (o < cap)
        snprintf(out + o, cap - o, ")");
}

/* ------------------------------------------------------------ reads */

typedef struct read_job {
    uint64_t cstart[PZ_MAX_NDIM], bstart[PZ_MAX_NDIM], n[PZ_MAX_NDIM];
} read_job;

bool pz_array_identity(const pzarr_array *a)
{
    const pz_pipeline *p = &a->m.pipeline;
    return p->n == 1 && p->c[0].id == PZ_CODEC_BYTES &&
           (!p->c[0].u.bytes.big_endian || a->m.itemsize == 1);
}

static int read_jobs(pzarr_array *a, int nj, const uint64_t *units, const read_job *jobs,
                     const uint64_t *count, void *buf, unsigned char *scratch, pz_err *e)
{
    /* The file buffers stay with the handle: reused, they cost no page
     * faults on the next read. */
    pz_buf *bufs = a->rbufs;
    bool present[PZ_READ_BATCH];
    int rc = pz_array_fetch_units(a, (size_t)nj, units, bufs, present, e);
    size_t is = a->m.itemsize;
    for (int i = 0; rc == 0 && i < nj; i++) {
        const read_job *j = &jobs[i];
        if (!present[i]) {
            pz_fill_box(a->m.ndim, is, j->n, buf, count, j->bstart, a->m.fill);
            continue;
        }
        char name[300];
        uint64_t ucc[PZ_MAX_NDIM];
        pz_unlinear(a->m.ndim, a->grid, units[i], ucc);
        pz_array_unit_name(a, ucc, name, sizeof name);
        const unsigned char *src = scratch;
        if (pz_array_identity(a) && bufs[i].size == a->chunk_bytes)
            src = bufs[i].data; /* stored as it is in memory: no decode copy */
        else
            rc = pz_array_decode(a, name, &bufs[i], scratch, e);
        if (rc == 0)
            pz_copy_box(a->m.ndim, is, j->n, src, a->unit, j->cstart, buf, count, j->bstart);
    }
    return rc;
}

/* Reads storage only (no pending writes) into buf; the chunks (or inner
 * chunks) of each batch are fetched together. */
int pz_array_read_storage(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                          void *buf, pz_err *e)
{
    pz_chunk_iter it;
    if (!pz_chunk_iter_init(&it, a->m.ndim, a->unit, start, count))
        return 0;
    read_job *jobs = pz_calloc(PZ_READ_BATCH, sizeof *jobs);
    uint64_t units[PZ_READ_BATCH];
    unsigned char *scratch = pz_malloc(a->chunk_bytes);
    int rc = (!jobs || !scratch) ? pz_err_set(e, PZARR_ENOMEM, "out of memory") : 0;
    /* Batches of at most 8 MiB of chunks: fewer buffers in flight, reused
     * from one batch to the next, cost fewer page faults. */
    size_t per = (size_t)8 << 20;
    int batch = a->chunk_bytes >= per ? 1 : (int)(per / a->chunk_bytes);
    if (batch > PZ_READ_BATCH)
        batch = PZ_READ_BATCH;
    int nj = 0;
    bool more = rc == 0;
    while (more && rc == 0) {
        read_job *j = &jobs[nj];
        memcpy(j->cstart, it.cstart, sizeof j->cstart);
        memcpy(j->bstart, it.bstart, sizeof j->bstart);
        memcpy(j->n, it.n, sizeof j->n);
        units[nj++] = pz_linear(a->m.ndim, a->grid, it.cc);
        more = pz_chunk_iter_next(&it);
        if (nj == batch || !more) {
            rc = read_jobs(a, nj, units, jobs, count, buf, scratch, e);
            nj = 0;
        }
    }
    pz_free(jobs);
    pz_free(scratch);
    return rc;
}

int pzarr_array_read(pzarr_array *a, const uint64_t *start, const uint64_t *count,
                     void *buf)
{
    if (!a)
        return PZARR_EINVAL;
    pz_err e;
    pz_err_clear(&e);
    if (pz_array_check_box(a, start, count, "read", &e) == 0 &&
        pz_array_read_storage(a, start, count, buf, &e) == 0)
        pz_log_overlay(a, start, count, buf);
    return array_fail(a, &e);
}
