/* `pzarr create`: builds a Zarr v2 or v3 array document from the options
 * and creates the array at the root of the store at PATH. */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct create_args {
    const char *path;
    pzarr_spec sp;
    char dims_buf[1024];
} create_args;

/* ------------------------------------------------------------ arguments */

static int parse_shapes(cli *c, cli_opt *opts, int nopts, create_args *a)
{
    pzarr_spec *sp = &a->sp;
    const char *shape = cli_opt_get(opts, nopts, "shape")->value;
    const char *chunks = cli_opt_get(opts, nopts, "chunks")->value;
    const char *shard = cli_opt_get(opts, nopts, "shard")->value;
    if (!shape)
        return cli_usage(c, "missing --shape");
    if (!cli_parse_u64_list(shape, sp->shape, &sp->ndim))
        return cli_usage(c, "--shape '%s' is not a comma-separated list of at "
                         "most %d non-negative integers", shape, PZARR_MAX_NDIM);
    int n;
    if (chunks && !cli_parse_u64_list(chunks, sp->chunks, &n))
        return cli_usage(c, "--chunks '%s' is not a comma-separated list "
                         "of integers", chunks);
    if (chunks && n != sp->ndim)
        return cli_usage(c, "--chunks '%s' has %d dimensions, --shape '%s' "
                         "has %d", chunks, n, shape, sp->ndim);
    for (int d = 0; chunks && d < sp->ndim; d++)
        if (sp->chunks[d] == 0)
            return cli_usage(c, "--chunks: dimension %d is 0 (chunks must be "
                             "at least 1)", d);
    if (shard && (!cli_parse_u64_list(shard, sp->shard, &n) || n != sp->ndim))
        return cli_usage(c, "--shard '%s' must list %d integers, like --shape", shard,
                         sp->ndim);
    for (int d = 0; shard && d < sp->ndim; d++)
        if (sp->shard[d] == 0)
            return cli_usage(c, "--shard '%s': dimension %d is 0", shard, d);
    return CLI_OK;
}

/* --dims a,b,c into the spec's names (pointing into a->dims_buf). */
static int parse_dims(cli *c, const char *v, create_args *a)
{
    if (!v)
        return CLI_OK;
    if (strlen(v) >= sizeof a->dims_buf)
        return cli_usage(c, "--dims '%.40s...' is too long", v);
    snprintf(a->dims_buf, sizeof a->dims_buf, "%s", v);
    int n = 0;
    for (char *p = a->dims_buf; a->sp.ndim > 0;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p)
            return cli_usage(c, "--dims '%s': dimension %d has no name", v, n);
        if (n < PZARR_MAX_NDIM)
            a->sp.dims[n] = p;
        n++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (n != a->sp.ndim)
        return cli_usage(c, "--dims '%s' has %d names, the array has %d dimensions", v, n,
                         a->sp.ndim);
    return CLI_OK;
}

static int parse_choice(cli *c, const char *opt, const char *v,
                        const char *one, const char *two, bool *is_two)
{
    if (!v)
        return CLI_OK;
    if (strcmp(v, one) == 0 || strcmp(v, two) == 0) {
        *is_two = strcmp(v, two) == 0;
        return CLI_OK;
    }
    return cli_usage(c, "--%s '%s' is neither %s nor %s", opt, v, one, two);
}

static int parse_create(cli *c, cli_opt *o, int n, create_args *a)
{
    pzarr_spec *sp = &a->sp;
    const char *dtype = cli_opt_get(o, n, "dtype")->value;
    if (!dtype)
        return cli_usage(c, "missing --dtype");
    if (!cli_dtype_parse(dtype, &sp->dtype))
        return cli_usage(c, "--dtype '%s' is not a data type (bool, int8, "
                         "int16, int32, int64, uint8, uint16, uint32, uint64, "
                         "float16, float32, float64, complex64, complex128)",
                         dtype);
    bool v2 = false, order_f = false, dot = false, big = false;
    int rc = parse_choice(c, "format", cli_opt_get(o, n, "format")->value, "3", "2", &v2);
    sp->zarr_format = v2 ? 2 : 3;
    if (!rc)
        rc = parse_shapes(c, o, n, a);
    if (!rc)
        rc = parse_choice(c, "order", cli_opt_get(o, n, "order")->value, "C", "F", &order_f);
    const char *sep = cli_opt_get(o, n, "separator")->value;
    if (!rc)
        rc = parse_choice(c, "separator", sep, "/", ".", &dot);
    if (!rc)
        rc = parse_choice(c, "endian", cli_opt_get(o, n, "endian")->value, "little", "big",
                          &big);
    sp->order = order_f ? 'F' : 'C';
    sp->separator = sep ? (dot ? '.' : '/') : 0;
    sp->big_endian = big;
    sp->codec = cli_opt_get(o, n, "codec")->value;
    sp->fill = cli_opt_get(o, n, "fill")->value;
    sp->attributes = cli_opt_get(o, n, "attrs")->value;
    const char *dims = cli_opt_get(o, n, "dims")->value;
    if (!rc)
        rc = parse_dims(c, dims ? dims : cli_opt_get(o, n, "dimension-names")->value, a);
    return rc;
}

/* The metadata document text (pzarr_free) or a usage error naming what is
 * wrong (the library checks the spec). */
static int build_document(cli *c, const create_args *a, char **text)
{
    char msg[1024];
    int e = pzarr_spec_document(&a->sp, text, msg, sizeof msg);
    if (e == PZARR_EINVAL)
        return cli_usage(c, "%s", msg);
    if (e)
        return cli_lib_fail(c, e, msg, "building the metadata");
    return CLI_OK;
}

static int create_array(cli *c, const char *path, const pzarr_spec *sp)
{
    pzarr_store *s = NULL;
    pzarr_array *arr = NULL;
    int rc = CLI_OK;
    char root[4096];
    const char *name = cli_split_store(c, path, root, sizeof root);
    /* A store made here (PATH nested in a new directory) starts as a group
     * of the array's format, with consolidated metadata. */
    int flags = PZARR_RDWR | (name[0] ? PZARR_CREATE : 0) |
                (sp->zarr_format == 2 ? PZARR_FORMAT_V2 : 0);
    int e = pzarr_open(c->comm, root, flags, &s);
    if (e) {
        rc = cli_lib_fail(c, e, s ? pzarr_errmsg(s) : NULL, "cannot open %s",
                          root);
        goto done;
    }
    e = pzarr_array_create_spec(s, name, sp, &arr);
    if (e) {
        rc = cli_lib_fail(c, e, pzarr_errmsg(s), "%s: cannot create the array",
                          path);
        goto done;
    }
    e = pzarr_array_close(arr);
    if (e)
        rc = cli_lib_fail(c, e, NULL, "%s: closing the new array", path);
done:
    e = pzarr_close(s);
    if (e && !rc)
        rc = cli_lib_fail(c, e, NULL, "%s: closing the store", path);
    return rc;
}

int cli_cmd_create(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {
        {"dtype", 0, true, NULL, false},     {"shape", 0, true, NULL, false},
        {"chunks", 0, true, NULL, false},    {"codec", 0, true, NULL, false},
        {"fill", 0, true, NULL, false},      {"format", 0, true, NULL, false},
        {"order", 0, true, NULL, false},     {"separator", 0, true, NULL, false},
        {"endian", 0, true, NULL, false},    {"attrs", 0, true, NULL, false},
        {"dimension-names", 0, true, NULL, false}, {"dims", 0, true, NULL, false},
        {"print", 0, false, NULL, false},    {"shard", 0, true, NULL, false},
    };
    int n = (int)(sizeof opts / sizeof opts[0]);
    create_args a;
    memset(&a, 0, sizeof a);
    int rc = cli_parse_args(c, argc, argv, opts, n, &a.path);
    if (!rc)
        rc = parse_create(c, opts, n, &a);
    char *doc = NULL;
    if (!rc)
        rc = build_document(c, &a, &doc);
    if (rc)
        return rc;
    if (cli_opt_get(opts, n, "print")->seen && c->rank == 0)
        printf("%s\n", doc);
    pzarr_free(doc);
    rc = create_array(c, a.path, &a.sp);
    return rc;
}

/* ------------------------------------------------------------ resize */

int cli_cmd_resize(cli *c, int argc, char **argv)
{
    cli_opt opts[] = {{"shape", 0, true, NULL, false}};
    const char *path = NULL;
    int rc = cli_parse_args(c, argc, argv, opts, 1, &path);
    if (rc)
        return rc;
    const char *shape = cli_opt_get(opts, 1, "shape")->value;
    uint64_t ns[PZARR_MAX_NDIM];
    int nd = 0;
    if (!shape)
        return cli_usage(c, "missing --shape");
    if (!cli_parse_u64_list(shape, ns, &nd))
        return cli_usage(c, "--shape '%s' is not a comma-separated list of sizes", shape);
    cli_array ca;
    rc = cli_array_open(c, path, PZARR_RDWR, &ca);
    if (rc)
        return rc;
    if (nd != ca.info.ndim)
        rc = cli_usage(c, "--shape '%s' has %d dimensions, the array has %d", shape, nd,
                       ca.info.ndim);
    int e = rc ? 0 : pzarr_array_resize(ca.array, ns);
    if (e)
        rc = cli_lib_fail(c, e, pzarr_array_errmsg(ca.array), "%s: cannot resize", path);
    return cli_array_close(c, path, &ca, rc);
}
