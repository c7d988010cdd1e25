/* Groups: creation (with missing parents), what kind a node is, and the
 * children of a group. Rank 0 reads and writes; every rank learns. */
#include "engine.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int group_create_root0(pzarr_store *s, const char *name, int fmt,
                              const cJSON *attrs, pz_err *e)
{
    PZ_TRY(pz_node_make_parents(s, name, fmt, e));
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
        rc = pz_node_write_group(s, dir, fmt, attrs, e);
    pz_node_docs_free(&nd);
    pz_free(dir);
    return rc;
}

int pzarr_group_create(pzarr_store *s, const char *name, int zarr_format,
                       const char *attributes_json)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    char canon[PZ_NAME_MAX];
    cJSON *attrs = NULL;
    pz_err e;
    pz_err_clear(&e);
    int fmt = zarr_format ? zarr_format : (s->root_format ? s->root_format : 3);
    if (pz_node_check_name(s, name, canon) == 0 &&
        pz_node_parse_attrs(s, attributes_json, &attrs) == 0) {
        if (!(s->flags & PZARR_RDWR))
            pz_err_set(&s->err, PZARR_ERDONLY, "store %s is read-only", s->root);
        else if (fmt != 2 && fmt != 3)
            pz_err_set(&s->err, PZARR_EINVAL, "zarr_format must be 2 or 3, not %d", fmt);
    }
    e = s->err;
    if (e.code == 0 && s->rank == 0)
        group_create_root0(s, canon, fmt, attrs, &e);
    cJSON_Delete(attrs);
    int rc = pz_store_end(s, PZ_ROOT_IO, &e);
    if (rc == 0 && (canon[0] == '\0' || s->root_format == 0))
        s->root_format = fmt;
    return rc;
}

int pzarr_node_kind_of(pzarr_store *s, const char *name, pzarr_node_kind *kind)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    char canon[PZ_NAME_MAX];
    pzarr_node_kind ignored;
    pz_node_check_name(s, name, canon);
    pz_err e = s->err;
    if (!kind) {
        kind = &ignored;
        if (e.code == 0)
            pz_err_set(&e, PZARR_EINVAL, "pzarr_node_kind_of: kind is NULL");
    }
    *kind = PZARR_NODE_NONE;
    pz_node_docs nd = {0};
    if (pz_node_fetch(s, canon, &nd, &e) == 0)
        *kind = nd.kind;
    pz_node_docs_free(&nd);
    return pz_store_end(s, PZ_ROOT_IO, &e);
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
        /* A child whose documents cannot be read is listed too: opening it
         * then says what is wrong with it. */
        if (pz_io_is_dir(sub) && (pz_node_probe(s, sub, &nd) != 0 || nd.kind != PZARR_NODE_NONE)) {
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

int pzarr_group_list(pzarr_store *s, const char *name, char ***names, size_t *count)
{
    if (!s || !pz_live_has(s))
        return PZARR_EINVAL;
    char canon[PZ_NAME_MAX];
    *names = NULL;
    *count = 0;
    pz_err e;
    pz_node_check_name(s, name, canon);
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
        pz_err_set(&e, PZARR_ENOMEM, "out of memory");
    pz_buf_free(&list);
    rc = pz_store_end(s, PZ_ROOT_IO, &e);
    if (rc) {
        pzarr_free_list(*names, *count);
        *names = NULL;
        *count = 0;
    }
    return rc;
}

