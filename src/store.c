/* Stores, groups and attributes. Only rank 0 touches metadata documents;
 * it broadcasts what it read and every rank parses the same bytes. */
#include "pz_core.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PZ_NAME_MAX 4096

int pz_store_fail(pzarr_store *s, const pz_err *e)
{
    s->err = *e;
    return e->code;
}

const char *pzarr_errmsg(const pzarr_store *s)
{
    return s ? s->err.msg : "no store handle";
}

MPI_Comm pzarr_comm(const pzarr_store *s) { return s->comm; }

char *pz_node_dir(const pzarr_store *s, const char *name)
{
    return pz_path_join(s->root, name);
}

void pz_node_docs_free(pz_node_docs *nd)
{
    pz_buf_free(&nd->doc);
    pz_buf_free(&nd->attrs);
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

int pz_node_probe(pzarr_store *s, const char *dir, pz_node_docs *nd)
{
    pz_err *e = &s->err;
    bool found = false;
    nd->kind = PZARR_NODE_NONE;
    nd->format = 0;
    PZ_TRY(probe_file(s, dir, "zarr.json", &nd->doc, &found, e));
    if (found) {
        nd->format = 3;
        return v3_node_kind(&nd->doc, dir, &nd->kind, e);
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

int pz_node_fetch(pzarr_store *s, const char *name, pz_node_docs *nd)
{
    pz_buf hdr = {0};
    pz_err_clear(&s->err);
    if (s->rank == 0) {
        char *dir = pz_node_dir(s, name);
        if (!dir)
            pz_err_set(&s->err, PZARR_ENOMEM, "out of memory");
        else
            pz_node_probe(s, dir, nd);
        pz_free(dir);
        unsigned char kf[2] = {(unsigned char)nd->kind, (unsigned char)nd->format};
        if (s->err.code == 0 && pz_buf_append(&hdr, kf, 2) != 0)
            pz_err_set(&s->err, PZARR_ENOMEM, "out of memory");
    }
    pz_buf bufs[3] = {hdr, nd->doc, nd->attrs};
    int rc = pz_bcast_bufs(s->comm, 3, bufs, &s->err);
    nd->doc = bufs[1];
    nd->attrs = bufs[2];
    if (rc == 0) {
        nd->kind = (pzarr_node_kind)bufs[0].data[0];
        nd->format = bufs[0].data[1];
    }
    pz_buf_free(&bufs[0]);
    return rc;
}

int pz_meta_write(pzarr_store *s, const char *path, const char *text, pz_err *e)
{
    s->stats.meta_writes++;
    return pz_io_write_atomic(path, text, strlen(text), "meta", MPI_INFO_NULL, e);
}

/* Rank 0: writes a group's documents into dir (which must exist). */
static int write_group_docs(pzarr_store *s, const char *dir, int fmt,
                            const cJSON *attrs, pz_err *e)
{
    char *doc = pz_group_emit(fmt, attrs);
    char *p = pz_path_join(dir, fmt == 3 ? "zarr.json" : ".zgroup");
    int rc = (!doc || !p) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                          : pz_meta_write(s, p, doc, e);
    pz_free(doc);
    pz_free(p);
    if (rc == 0 && fmt == 2 && attrs && cJSON_GetArraySize(attrs) > 0) {
        char *text = pz_json_print(attrs, true);
        char *ap = pz_path_join(dir, ".zattrs");
        rc = (!text || !ap) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                            : pz_meta_write(s, ap, text, e);
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
            rc = write_group_docs(s, dir, fmt, NULL, e);
    }
    pz_node_docs_free(&nd);
    pz_free(dir);
    return rc;
}

int pz_make_parents(pzarr_store *s, const char *name, int fmt, pz_err *e)
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

static int make_info(MPI_Info user, MPI_Info *out)
{
    if (user == MPI_INFO_NULL)
        MPI_Info_create(out);
    else
        MPI_Info_dup(user, out);
    /* Chunk writes are contiguous; data sieving would read-modify-write
     * under an fcntl lock. pzarr takes no file locks. */
    MPI_Info_set(*out, "romio_ds_write", "disable");
    return 0;
}

/* Rank 0 part of pzarr_open. */
static int open_root(pzarr_store *s, pz_err *e)
{
    bool create = (s->flags & PZARR_CREATE) != 0;
    int fmt = (s->flags & PZARR_FORMAT_V2) ? 2 : 3;
    if (!pz_io_exists(s->root)) {
        s->stats.meta_reads++;
        if (!(s->flags & (PZARR_CREATE | PZARR_RDWR)))
            return pz_err_set(e, PZARR_ENOENT, "store %s does not exist", s->root);
        if (!create)
            return 0;
        PZ_TRY(pz_io_mkdirs(s->root, e));
    } else if (!pz_io_is_dir(s->root)) {
        return pz_err_set(e, PZARR_EIO, "store %s is not a directory", s->root);
    }
    pz_node_docs nd = {0};
    int rc = pz_node_probe(s, s->root, &nd);
    if (rc)
        *e = s->err;
    s->root_format = nd.format;
    if (rc == 0 && nd.kind == PZARR_NODE_NONE && create) {
        rc = write_group_docs(s, s->root, fmt, NULL, e);
        s->root_format = fmt;
    }
    pz_node_docs_free(&nd);
    return rc;
}

int pzarr_open_info(MPI_Comm comm, const char *path, int flags, MPI_Info info,
                    pzarr_store **out)
{
    if (!out)
        return PZARR_EINVAL;
    *out = NULL;
    pzarr_store *s = pz_calloc(1, sizeof *s);
    if (!s)
        return PZARR_ENOMEM;
    *out = s;
    s->comm = MPI_COMM_NULL;
    s->info = MPI_INFO_NULL;
    if (MPI_Comm_dup(comm, &s->comm) != MPI_SUCCESS)
        return pz_err_set(&s->err, PZARR_EMPI, "MPI_Comm_dup failed");
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s->comm, &s->rank);
    MPI_Comm_size(s->comm, &s->size);
    if (flags & PZARR_CREATE)
        flags |= PZARR_RDWR;
    s->flags = flags;
    make_info(info, &s->info);
    const char *cio = getenv("PZARR_CHUNK_IO");
    bool mpiio = info != MPI_INFO_NULL || (cio && strcmp(cio, "mpiio") == 0);
    if (cio && strcmp(cio, "posix") == 0)
        mpiio = false;
    s->chunk_info = mpiio ? s->info : MPI_INFO_NULL;
    pz_err e;
    pz_err_clear(&e);
    if (!path || !path[0])
        pz_err_set(&e, PZARR_EINVAL, "store path is empty");
    else if (!(s->root = pz_strdup(path)))
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    else {
        size_t n = strlen(s->root);
        while (n > 1 && s->root[n - 1] == '/')
            s->root[--n] = '\0';
    }
    int fmt = 0;
    if (e.code == 0 && s->rank == 0) {
        open_root(s, &e);
        fmt = s->root_format;
    }
    /* Rank 0's outcome and root format reach everyone. */
    int msg[2] = {e.code, fmt};
    MPI_Bcast(msg, 2, MPI_INT, 0, s->comm);
    if (msg[0] && s->rank != 0)
        e.code = msg[0];
    MPI_Bcast(e.msg, (int)sizeof e.msg, MPI_CHAR, 0, s->comm);
    s->root_format = msg[1];
    return pz_store_fail(s, &e);
}

int pzarr_open(MPI_Comm comm, const char *path, int flags, pzarr_store **out)
{
    return pzarr_open_info(comm, path, flags, MPI_INFO_NULL, out);
}

int pzarr_close(pzarr_store *s)
{
    if (!s)
        return 0;
    int rc = 0;
    if (s->open_arrays > 0)
        rc = pz_err_set(&s->err, PZARR_EINVAL, "%d arrays are still open",
                        s->open_arrays);
    if (s->comm != MPI_COMM_NULL)
        MPI_Comm_free(&s->comm);
    if (s->info != MPI_INFO_NULL)
        MPI_Info_free(&s->info);
    pz_free(s->root);
    pz_free(s);
    return rc;
}

/* Name check and collective prologue shared by the node calls. */
static int check_name(pzarr_store *s, const char *name, char *canon)
{
    pz_err_clear(&s->err);
    return pz_name_check(name, canon, PZ_NAME_MAX, &s->err);
}

static int parse_attrs(pzarr_store *s, const char *json, cJSON **out)
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

/* Rank 0's outcome, or a failure only some other rank saw (a bad argument on
 * one rank), reaches every rank. */
static int finish(pzarr_store *s, pz_err *e)
{
    if (pz_bcast_bufs(s->comm, 0, NULL, e) == 0)
        pz_agree(s->comm, e);
    return pz_store_fail(s, e);
}

static int group_create_root0(pzarr_store *s, const char *name, int fmt,
                              const cJSON *attrs, pz_err *e)
{
    PZ_TRY(pz_make_parents(s, name, fmt, e));
    char *dir = pz_node_dir(s, name);
    if (!dir)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_node_docs nd = {0};
    int rc = pz_node_probe(s, dir, &nd);
    if (rc)
        *e = s->err;
    else if (nd.kind == PZARR_NODE_ARRAY)
        rc = pz_err_set(e, PZARR_EEXIST, "an array exists at \"%s\"", name);
    else if (nd.kind == PZARR_NODE_GROUP && nd.format != fmt)
        rc = pz_err_set(e, PZARR_EEXIST, "a Zarr v%d group exists at \"%s\"",
                        nd.format, name);
    else if ((rc = pz_io_mkdirs(dir, e)) == 0 &&
             (nd.kind == PZARR_NODE_NONE || attrs))
        rc = write_group_docs(s, dir, fmt, attrs, e);
    pz_node_docs_free(&nd);
    pz_free(dir);
    return rc;
}

int pzarr_group_create(pzarr_store *s, const char *name, int zarr_format,
                       const char *attributes_json)
{
    char canon[PZ_NAME_MAX];
    cJSON *attrs = NULL;
    pz_err e;
    pz_err_clear(&e);
    int fmt = zarr_format ? zarr_format : (s->root_format ? s->root_format : 3);
    if (check_name(s, name, canon) == 0 && parse_attrs(s, attributes_json, &attrs) == 0) {
        if (!(s->flags & PZARR_RDWR))
            pz_err_set(&s->err, PZARR_ERDONLY, "store %s is read-only", s->root);
        else if (fmt != 2 && fmt != 3)
            pz_err_set(&s->err, PZARR_EINVAL, "zarr_format must be 2 or 3, not %d", fmt);
    }
    e = s->err;
    if (e.code == 0 && s->rank == 0)
        group_create_root0(s, canon, fmt, attrs, &e);
    cJSON_Delete(attrs);
    int rc = finish(s, &e);
    if (rc == 0 && (canon[0] == '\0' || s->root_format == 0))
        s->root_format = fmt;
    return rc;
}

int pzarr_node_kind_of(pzarr_store *s, const char *name, pzarr_node_kind *kind)
{
    char canon[PZ_NAME_MAX];
    *kind = PZARR_NODE_NONE;
    if (check_name(s, name, canon))
        return s->err.code;
    pz_node_docs nd = {0};
    int rc = pz_node_fetch(s, canon, &nd);
    if (rc == 0)
        *kind = nd.kind;
    pz_node_docs_free(&nd);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rank 0: children of dir as NUL-separated sorted names in out. */
static int list_children(pzarr_store *s, const char *dir, pz_buf *out, pz_err *e)
{
    s->stats.meta_reads++;
    DIR *d = opendir(dir);
    if (!d)
        return pz_err_set(e, PZARR_EIO, "cannot list %s", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || pz_io_is_temp_name(de->d_name))
            continue;
        char *sub = pz_path_join(dir, de->d_name);
        pz_node_docs nd = {0};
        if (!sub) {
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
            break;
        }
        if (pz_io_is_dir(sub) && pz_node_probe(s, sub, &nd) == 0 &&
            nd.kind != PZARR_NODE_NONE) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                char **nn = pz_realloc(names, cap * sizeof *nn);
                if (!nn)
                    rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
                else
                    names = nn;
            }
            if (rc == 0 && !(names[n++] = pz_strdup(de->d_name)))
                rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
        }
        pz_err_clear(&s->err);
        pz_node_docs_free(&nd);
        pz_free(sub);
    }
    closedir(d);
    if (rc == 0 && n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && names[i] && pz_buf_append(out, names[i], strlen(names[i]) + 1))
            rc = pz_err_set(e, PZARR_ENOMEM, "out of memory");
        pz_free(names[i]);
    }
    pz_free(names);
    return rc;
}

static int split_names(const pz_buf *b, char ***names, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < b->size; i++)
        n += b->data[i] == '\0';
    char **v = pz_calloc(n ? n : 1, sizeof *v);
    if (!v)
        return PZARR_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < b->size; i += strlen((char *)b->data + i) + 1) {
        if (!(v[k++] = pz_strdup((char *)b->data + i))) {
            pzarr_free_list(v, k);
            return PZARR_ENOMEM;
        }
    }
    *names = v;
    *count = n;
    return 0;
}

void pzarr_free_list(char **names, size_t count)
{
    if (!names)
        return;
    for (size_t i = 0; i < count; i++)
        pz_free(names[i]);
    pz_free(names);
}

int pzarr_group_list(pzarr_store *s, const char *name, char ***names, size_t *count)
{
    char canon[PZ_NAME_MAX];
    *names = NULL;
    *count = 0;
    pz_err e;
    check_name(s, name, canon);
    e = s->err;
    pz_buf list = {0};
    if (e.code == 0 && s->rank == 0) {
        char *dir = pz_node_dir(s, canon);
        pz_node_docs nd = {0};
        if (!dir)
            pz_err_set(&e, PZARR_ENOMEM, "out of memory");
        else if (pz_node_probe(s, dir, &nd) != 0)
            e = s->err;
        else if (nd.kind == PZARR_NODE_ARRAY)
            pz_err_set(&e, PZARR_ENOTGROUP, "\"%s\" is an array, not a group", canon);
        else if (nd.kind == PZARR_NODE_NONE && !(canon[0] == '\0' && pz_io_is_dir(dir)))
            pz_err_set(&e, PZARR_ENOENT, "no group at \"%s\"", canon);
        else
            list_children(s, dir, &list, &e);
        pz_node_docs_free(&nd);
        pz_free(dir);
    }
    int rc = pz_bcast_bufs(s->comm, 1, &list, &e);
    if (rc == 0 && split_names(&list, names, count) != 0)
        rc = pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    pz_buf_free(&list);
    return pz_store_fail(s, &e);
}

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
    char canon[PZ_NAME_MAX];
    *json = NULL;
    if (check_name(s, name, canon))
        return s->err.code;
    pz_node_docs nd = {0};
    int rc = pz_node_fetch(s, canon, &nd);
    if (rc == 0 && nd.kind == PZARR_NODE_NONE)
        rc = pz_err_set(&s->err, PZARR_ENOENT, "no node at \"%s\"", canon);
    if (rc == 0) {
        cJSON *a = attrs_of(&nd);
        if (!a || !cJSON_IsObject(a))
            rc = pz_err_set(&s->err, PZARR_EMETA, "attributes of \"%s\" are not a JSON object",
                            canon);
        else {
            *json = pz_json_print(a, false);
            if (!*json)
                rc = pz_err_set(&s->err, PZARR_ENOMEM, "out of memory");
        }
        cJSON_Delete(a);
    }
    pz_node_docs_free(&nd);
    return rc;
}

/* Rank 0: rewrites a node's attributes. */
static int attrs_set_root0(pzarr_store *s, const char *name, cJSON *attrs, pz_err *e)
{
    char *dir = pz_node_dir(s, name);
    if (!dir)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    pz_node_docs nd = {0};
    int rc = pz_node_probe(s, dir, &nd);
    char *text = NULL, *path = NULL;
    if (rc)
        *e = s->err;
    else if (nd.kind == PZARR_NODE_NONE)
        rc = pz_err_set(e, PZARR_ENOENT, "no node at \"%s\"", name);
    else if (nd.format == 3 && nd.kind == PZARR_NODE_GROUP) {
        text = pz_group_emit(3, attrs);
        path = pz_path_join(dir, "zarr.json");
    } else if (nd.format == 3) {
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
    } else {
        text = pz_json_print(attrs, true);
        path = pz_path_join(dir, ".zattrs");
    }
    if (rc == 0)
        rc = (!text || !path) ? pz_err_set(e, PZARR_ENOMEM, "out of memory")
                              : pz_meta_write(s, path, text, e);
    pz_free(text);
    pz_free(path);
    pz_node_docs_free(&nd);
    pz_free(dir);
    return rc;
}

int pzarr_attrs_set(pzarr_store *s, const char *name, const char *json)
{
    char canon[PZ_NAME_MAX];
    cJSON *attrs = NULL;
    if (check_name(s, name, canon) == 0 && parse_attrs(s, json ? json : "", &attrs) == 0 &&
        !(s->flags & PZARR_RDWR))
        pz_err_set(&s->err, PZARR_ERDONLY, "store %s is read-only", s->root);
    pz_err e = s->err;
    if (e.code == 0 && s->rank == 0)
        attrs_set_root0(s, canon, attrs, &e);
    cJSON_Delete(attrs);
    return finish(s, &e);
}

int pzarr_get_stats(const pzarr_store *s, pzarr_stats *out)
{
    if (!s || !out)
        return PZARR_EINVAL;
    *out = s->stats;
    return 0;
}

void pzarr_reset_stats(pzarr_store *s)
{
    if (s)
        memset(&s->stats, 0, sizeof s->stats);
}
