/* `pzarr info` and `pzarr ls`: describe an array or a hierarchy. Library
 * calls are made on every rank (they are collective); rank 0 prints. */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CLI_LS_MAX_DEPTH 64

/* ------------------------------------------------------------ text */

typedef struct text {
    char s[16384];
    size_t n;
} text;

static void text_add(text *t, const char *fmt, ...) CLI_PRINTF(2, 3);
static void text_add(text *t, const char *fmt, ...)
{
    if (t->n >= sizeof t->s - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->s + t->n, sizeof t->s - t->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        t->n = t->n + (size_t)k < sizeof t->s ? t->n + (size_t)k : sizeof t->s - 1;
}

static void text_json(text *t, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        text_add(t, "%s", v->valuestring);
        return;
    }
    char *j = cJSON_PrintUnformatted(v);
    text_add(t, "%s", j ? j : "?");
    cJSON_free(j);
}

static void text_dims(text *t, int ndim, const uint64_t *v)
{
    char buf[1024];
    cli_format_dims(ndim, v, ", ", buf, sizeof buf);
    text_add(t, "[%s]", ndim ? buf : "");
}

/* ------------------------------------------------------------ codecs */

static void describe_chain(text *t, const cJSON *codecs);

static bool is_codec_list(const cJSON *v)
{
    const cJSON *first = cJSON_IsArray(v) ? v->child : NULL;
    return first && cJSON_IsObject(first) &&
           cJSON_GetObjectItemCaseSensitive(first, "name");
}

/* "name(key=value, ...)" of a v3 codec object or a v2 numcodecs config. */
static void describe_codec(text *t, const cJSON *codec)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(codec, "name");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(codec, "configuration");
    bool v2 = !cJSON_IsString(name);
    if (v2) {
        name = cJSON_GetObjectItemCaseSensitive(codec, "id");
        cfg = codec;
    }
    text_add(t, "%s", cJSON_IsString(name) ? name->valuestring : "?");
    int k = 0;
    for (const cJSON *e = cfg ? cfg->child : NULL; e; e = e->next) {
        if (v2 && strcmp(e->string, "id") == 0)
            continue;
        text_add(t, "%s%s=", k++ ? ", " : "(", e->string);
        if (is_codec_list(e)) {
            text_add(t, "[");
            describe_chain(t, e);
            text_add(t, "]");
        } else {
            text_json(t, e);
        }
    }
    if (k)
        text_add(t, ")");
}

static void describe_chain(text *t, const cJSON *codecs)
{
    int k = 0;
    for (const cJSON *e = codecs ? codecs->child : NULL; e; e = e->next) {
        text_add(t, "%s", k++ ? " " : "");
        describe_codec(t, e);
    }
    if (!k)
        text_add(t, "none");
}

/* ------------------------------------------------------------ chunk keys */

typedef struct keyenc {
    int ndim;
    uint64_t grid[PZARR_MAX_NDIM]; /* stored objects per dimension */
    uint64_t shape[PZARR_MAX_NDIM]; /* of one stored object */
    char sep;
    bool prefix; /* v3 "default": keys start with "c" */
    bool sharded;
} keyenc;

static bool json_dims(const cJSON *arr, int ndim, uint64_t *out)
{
    int d = 0;
    for (const cJSON *e = cJSON_IsArray(arr) ? arr->child : NULL; e; e = e->next) {
        if (d >= ndim || !cJSON_IsNumber(e) || e->valuedouble < 1)
            return false;
        out[d++] = (uint64_t)e->valuedouble;
    }
    return d == ndim;
}

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The v3 sharding_indexed codec of the document, or NULL. */
static const cJSON *sharding_codec(const cJSON *doc)
{
    const cJSON *codecs = jget(doc, "codecs");
    for (const cJSON *c = cJSON_IsArray(codecs) ? codecs->child : NULL; c;
         c = c->next) {
        const cJSON *n = jget(c, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, "sharding_indexed") == 0)
            return c;
    }
    return NULL;
}

/* How stored objects are named, from the metadata document. */
static bool keyenc_from(const cJSON *doc, const pzarr_array_info *in,
                        keyenc *k)
{
    memset(k, 0, sizeof *k);
    k->ndim = in->ndim;
    if (in->zarr_format == 2) {
        const cJSON *sep = jget(doc, "dimension_separator");
        k->sep = cJSON_IsString(sep) && strcmp(sep->valuestring, "/") == 0 ? '/' : '.';
        if (!json_dims(jget(doc, "chunks"), in->ndim, k->shape))
            return false;
    } else {
        const cJSON *enc = jget(doc, "chunk_key_encoding");
        const cJSON *name = jget(enc, "name");
        const cJSON *sep = jget(jget(enc, "configuration"), "separator");
        k->prefix = !cJSON_IsString(name) || strcmp(name->valuestring, "v2") != 0;
        k->sep = k->prefix ? '/' : '.';
        if (cJSON_IsString(sep) && sep->valuestring[0])
            k->sep = sep->valuestring[0];
        const cJSON *grid = jget(jget(doc, "chunk_grid"), "configuration");
        if (!json_dims(jget(grid, "chunk_shape"), in->ndim, k->shape))
            return false;
        k->sharded = sharding_codec(doc) != NULL;
    }
    for (int d = 0; d < in->ndim; d++)
        k->grid[d] = in->shape[d] / k->shape[d] + (in->shape[d] % k->shape[d] != 0);
    return true;
}

/* Whether rel (a path relative to the array directory) is a chunk key. */
static bool key_match(const keyenc *k, const char *rel)
{
    const char *p = rel;
    if (k->prefix) {
        if (*p++ != 'c')
            return false;
        if (k->ndim == 0)
            return *p == '\0';
        if (*p++ != k->sep)
            return false;
    } else if (k->ndim == 0) {
        return strcmp(p, "0") == 0;
    }
    for (int d = 0; d < k->ndim; d++) {
        if (d > 0 && *p++ != k->sep)
            return false;
        const char *digits = p;
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9' && p - digits < 20)
            v = v * 10 + (uint64_t)(*p++ - '0');
        if (p == digits || (p - digits > 1 && *digits == '0') || v >= k->grid[d])
            return false;
    }
    return *p == '\0';
}

typedef struct store_count {
    uint64_t objects, bytes;
} store_count;

static void walk(const keyenc *k, const char *dir, const char *rel, int depth,
                 store_count *sc)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, "..") || strstr(nm, ".pzarr-tmp"))
            continue;
        char full[4096], sub[4096];
        struct stat st;
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, nm) >= sizeof full ||
            (size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "",
                             nm) >= sizeof sub ||
            stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < k->ndim + 1) {
            walk(k, full, sub, depth + 1, sc);
        } else if (S_ISREG(st.st_mode) && key_match(k, sub)) {
            sc->objects++;
            sc->bytes += (uint64_t)st.st_size;
        }
    }
    closedir(dh);
}

/* ------------------------------------------------------------ info */

#define FIELD "%-15s "

static void print_counts(const char *path, const cJSON *doc,
                         const pzarr_array_info *in)
{
    keyenc k;
    if (!keyenc_from(doc, in, &k)) {
        printf(FIELD "unknown (unexpected chunk grid)\n", "chunks stored:");
        return;
    }
    /* Sizes come from metadata: products are checked, and shown
     * approximately past 2^64. */
    uint64_t total = 1, logical = in->itemsize;
    long double approx = (long double)in->itemsize;
    bool big = false;
    for (int d = 0; d < in->ndim; d++) {
        big |= __builtin_mul_overflow(logical, in->shape[d], &logical);
        approx *= (long double)in->shape[d];
        if (__builtin_mul_overflow(total, k.grid[d], &total))
            total = UINT64_MAX;
    }
    store_count sc = {0, 0};
    walk(&k, path, "", 0, &sc);
    char b1[32], b2[32];
    cli_format_bytes(sc.bytes, b1, sizeof b1);
    cli_format_bytes(logical, b2, sizeof b2);
    printf(FIELD "%" PRIu64 " of %" PRIu64 "%s\n",
           k.sharded ? "shards stored:" : "chunks stored:", sc.objects, total,
           total == UINT64_MAX ? " (or more)" : "");
    printf(FIELD "%" PRIu64 " (%s)\n", "stored bytes:", sc.bytes, b1);
    if (big)
        printf(FIELD "%.4Lg (more than 2^64)\n", "logical bytes:", approx);
    else
        printf(FIELD "%" PRIu64 " (%s)\n", "logical bytes:", logical, b2);
    if (sc.bytes)
        printf(FIELD "%.4Lg\n", "ratio:", approx / (long double)sc.bytes);
    else
        printf(FIELD "-\n", "ratio:");
}

static void print_layout(const cJSON *doc, const pzarr_array_info *in)
{
    text t = {.n = 0};
    const cJSON *v2dt = jget(doc, "dtype");
    if (in->zarr_format == 2 && cJSON_IsString(v2dt))
        printf(FIELD "%s (%s)\n", "data type:", cli_dtype_name(in->dtype),
               v2dt->valuestring);
    else
        printf(FIELD "%s\n", "data type:", cli_dtype_name(in->dtype));
    text_dims(&t, in->ndim, in->shape);
    printf(FIELD "%s\n", "shape:", t.s);
    t.n = 0;
    keyenc k;
    const cJSON *shard = sharding_codec(doc);
    uint64_t inner[PZARR_MAX_NDIM];
    const cJSON *cfg = jget(shard, "configuration");
    bool sharded = shard && keyenc_from(doc, in, &k) &&
                   json_dims(jget(cfg, "chunk_shape"), in->ndim, inner);
    t.n = 0;
    text_dims(&t, in->ndim, sharded ? inner : in->chunks);
    printf(FIELD "%s\n", "chunks:", t.s);
    if (sharded) {
        t.n = 0;
        text_dims(&t, in->ndim, k.shape);
        printf(FIELD "%s\n", "shards:", t.s);
        t.n = 0;
        text_dims(&t, in->ndim, k.grid);
        uint64_t total = 1;
        for (int d = 0; d < in->ndim; d++)
            if (__builtin_mul_overflow(total, k.grid[d], &total))
                total = UINT64_MAX;
        printf(FIELD "%s = %" PRIu64 "%s shards\n", "shard grid:", t.s, total,
               total == UINT64_MAX ? " or more" : "");
        return;
    }
    uint64_t grid[PZARR_MAX_NDIM];
    for (int d = 0; d < in->ndim; d++)
        grid[d] = in->shape[d] / in->chunks[d] + (in->shape[d] % in->chunks[d] != 0);
    t.n = 0;
    text_dims(&t, in->ndim, grid);
    printf(FIELD "%s = %" PRIu64 " chunks\n", "chunk grid:", t.s, in->nchunks);
}

/* The codec chain; v2 filters and compressor read as one chain. */
static void print_codecs(const cJSON *doc, int zarr_format)
{
    text t = {.n = 0};
    if (zarr_format == 2) {
        const cJSON *filters = jget(doc, "filters");
        if (cJSON_IsArray(filters) && filters->child) {
            describe_chain(&t, filters);
            text_add(&t, " ");
        }
        const cJSON *comp = jget(doc, "compressor");
        if (cJSON_IsObject(comp))
            describe_codec(&t, comp);
        else
            text_add(&t, "none");
        const cJSON *order = jget(doc, "order");
        printf(FIELD "%s\n", "order:", cJSON_IsString(order) ? order->valuestring : "?");
    } else {
        describe_chain(&t, jget(doc, "codecs"));
    }
    printf(FIELD "%s\n", "codecs:", t.s);
}

/* An unfinished copy (pzarr copy, pzarr_array_copy) leaves its marker in
 * the array's directory until the last slab is committed. */
static void print_copy_marker(const char *path)
{
    char f[4096 + 32];
    snprintf(f, sizeof f, "%s/%s", path, PZARR_COPY_MARKER);
    FILE *fp = fopen(f, "rb");
    if (!fp)
        return;
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    cJSON *o = cJSON_Parse(buf);
    const cJSON *p = jget(o, "pzarr_copy");
    const cJSON *done = jget(p, "done"), *slabs = jget(p, "slabs"), *src = jget(p, "source");
    if (cJSON_IsNumber(done) && cJSON_IsNumber(slabs) && slabs->valuedouble > 0)
        printf(FIELD "unfinished: %.0f of %.0f slabs committed from '%s' (finish it with "
                     "pzarr copy --resume)\n",
               "copy:", done->valuedouble, slabs->valuedouble,
               cJSON_IsString(src) ? src->valuestring : "?");
    else
        printf(FIELD "unfinished: nothing committed yet (finish it with pzarr copy --resume)\n",
               "copy:");
    cJSON_Delete(o);
}

/* Temporary files of flushes (a killed job's, or one in flight in a
 * running job) under dir. */
static uint64_t count_staged(const char *dir, int depth)
{
    uint64_t n = 0;
    DIR *d = depth < 40 ? opendir(dir) : NULL;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
            continue;
        if (strstr(de->d_name, ".pzarr-tmp-")) {
            n++;
            continue;
        }
        char p[8192];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            n += count_staged(p, depth + 1);
    }
    if (d)
        closedir(d);
    return n;
}

/* A flush committed by a job that died before publishing it leaves its
 * commit record: readers see the new content through it, and pzarr clean
 * (or the next open for writing) finishes it. */
static void print_pending(const char *path)
{
    char f[4096 + 32];
    struct stat st;
    snprintf(f, sizeof f, "%s/.pzarr-commit", path);
    uint64_t tmp = count_staged(path, 0);
    if (stat(f, &st) == 0)
        printf(FIELD "a flush committed but not published (a job ended in it; %" PRIu64
                     " temporary files): readers see it; pzarr clean PATH, or the next open "
                     "for writing, finishes it\n",
               "pending commit:", tmp);
    else if (tmp)
        printf(FIELD "%" PRIu64 " temporary files of a flush not committed (in flight in a "
                     "running job, or left by a killed one: pzarr clean removes them)\n",
               "staged files:", tmp);
}

static void print_array(const char *path, const cJSON *doc,
                        const pzarr_array_info *in, const char *attrs, char **dims,
                        size_t ndims)
{
    text t = {.n = 0};
    printf(FIELD "%s\n", "path:", path);
    printf(FIELD "array\n", "node type:");
    printf(FIELD "%d\n", "zarr format:", in->zarr_format);
    print_layout(doc, in);
    print_codecs(doc, in->zarr_format);
    text_json(&t, jget(doc, "fill_value"));
    printf(FIELD "%s\n", "fill value:", t.s);
    if (ndims > 0) {
        t.n = 0;
        for (size_t d = 0; d < ndims; d++)
            text_add(&t, "%s%s", d ? ", " : "", dims[d][0] ? dims[d] : "-");
        printf(FIELD "%s\n", "dimensions:", t.s);
    }
    print_counts(path, doc, in);
    printf(FIELD "%s\n", "attributes:", attrs ? attrs : "{}");
    print_copy_marker(path);
    print_pending(path);
}

/* Every rank learns the metadata (local calls, then agreement). */
static int info_array(cli *c, const char *path, pzarr_store *s, bool json)
{
    pzarr_array *a = NULL;
    pzarr_array_info in;
    char *meta = NULL, *attrs = NULL, **dims = NULL;
    size_t ndims = 0;
    int e = pzarr_array_open(s, "", &a);
    if (e)
        return cli_lib_fail(c, e, pzarr_errmsg(s), "%s: cannot open the array",
                            path);
    int rc = CLI_OK;
    e = pzarr_array_get_info(a, &in);
    if (!e)
        e = pzarr_array_metadata(a, &meta);
    if (!e)
        e = pzarr_array_dimension_names(a, &dims, &ndims);
    if (e)
        rc = cli_lib_fail(c, e, pzarr_array_errmsg(a), "%s", path);
    rc = cli_agree(c, rc);
    if (!rc && (e = pzarr_attrs_get(s, "", &attrs)) != 0)
        rc = cli_lib_fail(c, e, pzarr_errmsg(s), "%s: attributes", path);
    cJSON *doc = !rc && c->rank == 0 ? cJSON_Parse(meta) : NULL;
    if (!rc && c->rank == 0) {
        if (doc && json)
            printf("%s\n", meta);
        else if (doc)
            print_array(path, doc, &in, attrs, dims, ndims);
        else
            rc = cli_fail(c, "%s: the metadata document is not JSON", path);
    }
    cJSON_Delete(doc);
    pzarr_free(meta);
    pzarr_free(attrs);
    pzarr_free_list(dims, ndims);
    e = pzarr_array_close(a);
    if (e && !rc)
        rc = cli_lib_fail(c, e, NULL, "%s: closing the array", path);
    return cli_agree(c, rc);
}

/* ------------------------------------------------------------ hierarchy */

static void join(char *out, size_t cap, const char *parent, const char *child)
{
    snprintf(out, cap, "%s%s%s", parent, parent[0] ? "/" : "", child);
}

/* An array's dimension names, codecs and attributes, one per line (as
 * ncdump -h shows a variable). Collective (the attributes). */
static void array_details(cli *c, pzarr_store *s, const char *name, pzarr_array *a,
                          const pzarr_array_info *in, text *t)
{
    char **dims = NULL, *meta = NULL, *attrs = NULL;
    size_t nd = 0;
    if (pzarr_array_dimension_names(a, &dims, &nd) == 0 && nd > 0) {
        text_add(t, "\n      dimensions: ");
        for (size_t d = 0; d < nd; d++)
            text_add(t, "%s%s", d ? ", " : "", dims[d][0] ? dims[d] : "-");
    }
    pzarr_free_list(dims, nd);
    cJSON *doc = pzarr_array_metadata(a, &meta) == 0 ? cJSON_Parse(meta) : NULL;
    if (doc) {
        text_add(t, "\n      codecs:     ");
        if (in->zarr_format == 2) {
            const cJSON *comp = jget(doc, "compressor");
            if (cJSON_IsObject(comp))
                describe_codec(t, comp);
            else
                text_add(t, "none");
        } else {
            describe_chain(t, jget(doc, "codecs"));
        }
        text_add(t, "\n      fill value: ");
        text_json(t, jget(doc, "fill_value"));
    }
    cJSON_Delete(doc);
    pzarr_free(meta);
    int e = pzarr_attrs_get(s, name, &attrs);
    (void)c;
    if (e == 0 && attrs && strcmp(attrs, "{}") != 0)
        text_add(t, "\n      attributes: %s", attrs);
    pzarr_free(attrs);
}

/* One line describing a node: "array float64 [10, 20] chunks [5, 5]";
 * full: then its details on the lines below. */
static void node_summary(cli *c, pzarr_store *s, const char *name,
                         pzarr_node_kind kind, text *t, int *errors, bool full)
{
    if (kind == PZARR_NODE_GROUP) {
        text_add(t, "group");
        return;
    }
    pzarr_array *a = NULL;
    pzarr_array_info in;
    int e = pzarr_array_open(s, name, &a);
    if (e) {
        cli_lib_fail(c, e, pzarr_errmsg(s), "cannot open");
        a = NULL;
    } else {
        e = pzarr_array_get_info(a, &in);
        int st = cli_agree(c, e ? cli_lib_fail(c, e, pzarr_array_errmsg(a), "info")
                                : CLI_OK);
        if (st)
            e = PZARR_EIO;
    }
    if (e == PZARR_EUNSUPPORTED) {
        text_add(t, "array (unsupported: %s)", c->msg);
    } else if (e) {
        text_add(t, "array (error: %s)", c->msg);
        ++*errors;
    } else {
        text_add(t, "array %s v%d ", cli_dtype_name(in.dtype), in.zarr_format);
        text_dims(t, in.ndim, in.shape);
        text_add(t, " chunks ");
        text_dims(t, in.ndim, in.chunks);
        if (full)
            array_details(c, s, name, a, &in, t);
    }
    pzarr_array_close(a);
}

typedef struct ls_state {
    cli *c;
    pzarr_store *s;
    int errors;
} ls_state;

static void ls_children(ls_state *st, const char *name, const char *indent,
                        int depth)
{
    char **kids = NULL;
    size_t n = 0;
    int e = pzarr_group_list(st->s, name, &kids, &n);
    if (e) {
        if (st->c->rank == 0)
            printf("%s└── (error listing: %s)\n", indent, pzarr_errmsg(st->s));
        st->errors++;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        const char *base = strrchr(kids[i], '/') ? strrchr(kids[i], '/') + 1 : kids[i];
        char child[2048], sub_indent[1024];
        join(child, sizeof child, name, base);
        pzarr_node_kind kind = PZARR_NODE_NONE;
        text t = {.n = 0};
        if (pzarr_node_kind_of(st->s, child, &kind) != 0 || kind == PZARR_NODE_NONE) {
            text_add(&t, "(unknown: %s)", pzarr_errmsg(st->s));
            st->errors++;
        } else {
            node_summary(st->c, st->s, child, kind, &t, &st->errors, false);
        }
        if (st->c->rank == 0 && kind == PZARR_NODE_GROUP)
            printf("%s%s %s/\n", indent, last ? "└──" : "├──", base);
        else if (st->c->rank == 0)
            printf("%s%s %s  %s\n", indent, last ? "└──" : "├──", base, t.s);
        snprintf(sub_indent, sizeof sub_indent, "%s%s", indent, last ? "    " : "│   ");
        if (kind == PZARR_NODE_GROUP && depth < CLI_LS_MAX_DEPTH)
            ls_children(st, child, sub_indent, depth + 1);
    }
    pzarr_free_list(kids, n);
}

static int open_root(cli *c, const char *path, pzarr_store **s,
                     pzarr_node_kind *kind)
{
    int rc = cli_require_dir(c, path);
    if (rc)
        return rc;
    int e = pzarr_open(c->comm, path, PZARR_RDONLY, s);
    if (e)
        return cli_lib_fail(c, e, *s ? pzarr_errmsg(*s) : NULL,
                            "cannot open %s", path);
    e = pzarr_node_kind_of(*s, "", kind);
    if (e)
        return cli_lib_fail(c, e, pzarr_errmsg(*s), "%s", path);
    if (*kind == PZARR_NODE_NONE)
        return cli_fail(c, "%s: no Zarr array or group here (no zarr.json, "
                        ".zarray or .zgroup)", path);
    return CLI_OK;
}

static int close_root(cli *c, const char *path, pzarr_store *s, int rc)
{
    int e = pzarr_close(s);
    if (e && !rc)
        rc = cli_lib_fail(c, e, NULL, "%s: closing the store", path);
    return rc;
}

/* rank 0 looks at the files: the format of the root group. */
static int group_format(const char *path)
{
    char f[4096];
    struct stat st;
    snprintf(f, sizeof f, "%s/zarr.json", path);
    if (stat(f, &st) == 0)
        return 3;
    snprintf(f, sizeof f, "%s/.zgroup", path);
    return stat(f, &st) == 0 ? 2 : 0;
}

static int info_group(cli *c, const char *path, pzarr_store *s)
{
    char *attrs = NULL;
    int e = pzarr_attrs_get(s, "", &attrs);
    if (e)
        return cli_lib_fail(c, e, pzarr_errmsg(s), "%s: attributes", path);
    if (c->rank == 0) {
        printf(FIELD "%s\n", "path:", path);
        printf(FIELD "group\n", "node type:");
        printf(FIELD "%d\n", "zarr format:", group_format(path));
        printf(FIELD "%s\n", "attributes:", attrs ? attrs : "{}");
        printf("children:\n");
    }
    pzarr_free(attrs);
    char **kids = NULL;
    size_t n = 0;
    e = pzarr_group_list(s, "", &kids, &n);
    if (e)
        return cli_lib_fail(c, e, pzarr_errmsg(s), "%s: listing", path);
    int errors = 0;
    for (size_t i = 0; i < n; i++) {
        pzarr_node_kind kind = PZARR_NODE_NONE;
        text t = {.n = 0};
        if (pzarr_node_kind_of(s, kids[i], &kind) == 0 && kind != PZARR_NODE_NONE)
            node_summary(c, s, kids[i], kind, &t, &errors, true);
        else {
            text_add(&t, "(error: %s)", pzarr_errmsg(s));
            errors++;
        }
        if (c->rank == 0 && kind == PZARR_NODE_GROUP)
            printf("  %s/\n", kids[i]);
        else if (c->rank == 0)
            printf("  %s  %s\n", kids[i], t.s);
    }
    if (c->rank == 0 && n == 0)
        printf("  (none)\n");
    pzarr_free_list(kids, n);
    if (errors)
        return cli_fail(c, "%s: %d child node%s could not be read", path, errors,
                        errors > 1 ? "s" : "");
    return CLI_OK;
}

int cli_cmd_info(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {{"json", 0, false, NULL, false}};
    const char *path;
    int rc = cli_parse_args(c, argc, argv, opts, 1, &path);
    if (rc)
        return rc;
    /* A copy to PATH that did not finish leaves PATH.pzarr-partial. */
    int partial = 0;
    if (c->rank == 0) {
        char f[4096 + 32];
        struct stat st;
        snprintf(f, sizeof f, "%s.pzarr-partial", path);
        partial = stat(path, &st) != 0 && stat(f, &st) == 0;
    }
    cli_bcast_int(c, &partial);
    if (partial)
        return cli_fail(c, "%s does not exist; an unfinished copy to it is in "
                           "%s.pzarr-partial (finish it with pzarr copy --resume)",
                        path, path);
    pzarr_store *s = NULL;
    pzarr_node_kind kind;
    rc = open_root(c, path, &s, &kind);
    if (!rc && kind == PZARR_NODE_ARRAY)
        rc = info_array(c, path, s, opts[0].seen);
    else if (!rc)
        rc = info_group(c, path, s);
    return close_root(c, path, s, rc);
}

int cli_cmd_ls(cli *c, int argc, char **argv)
{
    const char *path;
    int rc = cli_parse_args(c, argc, argv, NULL, 0, &path);
    if (rc)
        return rc;
    ls_state st = {c, NULL, 0};
    pzarr_node_kind kind;
    rc = open_root(c, path, &st.s, &kind);
    if (!rc) {
        text t = {.n = 0};
        node_summary(c, st.s, "", kind, &t, &st.errors, false);
        if (c->rank == 0)
            printf("%s  %s\n", path, t.s);
        if (kind == PZARR_NODE_GROUP)
            ls_children(&st, "", "", 0);
        if (st.errors)
            rc = cli_fail(c, "%s: %d node%s could not be read", path,
                          st.errors, st.errors > 1 ? "s" : "");
    }
    return close_root(c, path, st.s, rc);
}
