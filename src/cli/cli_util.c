/* Errors, option parsing, numbers, regions, slabs and blocks, progress and
 * file helpers of the pzarr tool. */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ errors */

static int cli_vset(cli *c, int status, const char *fmt, va_list ap)
{
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    return status;
}

int cli_fail(cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_vset(c, CLI_FAIL, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_usage(cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_vset(c, CLI_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_lib_fail(cli *c, int code, const char *detail, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!detail || !detail[0])
        detail = pzarr_strerror(code);
    return cli_fail(c, "%s: %s", what, detail);
}

int cli_agree(cli *c, int status)
{
    int mine = status != CLI_OK ? c->rank : c->size;
    int first = c->size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c->comm);
    if (first == c->size)
        return CLI_OK;
    int st = status;
    MPI_Bcast(&st, 1, MPI_INT, first, c->comm);
    MPI_Bcast(c->msg, (int)sizeof c->msg, MPI_CHAR, first, c->comm);
    c->msg[sizeof c->msg - 1] = '\0';
    return st;
}

void cli_bcast_int(cli *c, int *v)
{
    MPI_Bcast(v, 1, MPI_INT, 0, c->comm);
}

/* ------------------------------------------------------------ options */

cli_opt *cli_opt_get(cli_opt *opts, int nopts, const char *name)
{
    for (int i = 0; i < nopts; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

static cli_opt *cli_opt_find(cli_opt *opts, int nopts, const char *arg,
                             size_t len)
{
    for (int i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, arg, len) == 0)
            return &opts[i];
    return NULL;
}

static cli_opt *cli_opt_short(cli_opt *opts, int nopts, char ch)
{
    for (int i = 0; i < nopts; i++)
        if (opts[i].short_name && opts[i].short_name == ch)
            return &opts[i];
    return NULL;
}

/* Handles argv[*i], an option; advances *i past a separate value. */
static int cli_take_opt(cli *c, int argc, char **argv, int *i, cli_opt *opts,
                        int nopts)
{
    const char *arg = argv[*i];
    const char *inline_val = NULL;
    cli_opt *o;
    if (arg[1] == '-') {
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        o = cli_opt_find(opts, nopts, arg + 2, len);
        inline_val = eq ? eq + 1 : NULL;
    } else {
        o = arg[2] == '\0' ? cli_opt_short(opts, nopts, arg[1]) : NULL;
    }
    if (!o)
        return cli_usage(c, "unknown option '%s'", arg);
    o->seen = true;
    if (!o->has_arg) {
        if (inline_val)
            return cli_usage(c, "option '--%s' takes no value", o->name);
        return CLI_OK;
    }
    if (inline_val) {
        o->value = inline_val;
    } else if (*i + 1 < argc) {
        o->value = argv[++*i];
    } else {
        return cli_usage(c, "option '%s' needs a value", arg);
    }
    return CLI_OK;
}

int cli_parse_args(cli *c, int argc, char **argv, cli_opt *opts, int nopts,
                   const char **path)
{
    bool only_positional = false;
    *path = NULL;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_positional && strcmp(arg, "--") == 0) {
            only_positional = true;
        } else if (!only_positional && arg[0] == '-' && arg[1] != '\0') {
            int rc = cli_take_opt(c, argc, argv, &i, opts, nopts);
            if (rc)
                return rc;
        } else if (*path) {
            return cli_usage(c, "unexpected argument '%s' (PATH is '%s')",
                             arg, *path);
        } else {
            *path = arg;
        }
    }
    if (!*path)
        return cli_usage(c, "missing PATH");
    if (!(*path)[0])
        return cli_usage(c, "PATH is empty");
    return CLI_OK;
}

/* ------------------------------------------------------------ numbers */

bool cli_parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool cli_parse_i64(const char *s, int64_t *out)
{
    bool neg = s && (*s == '-');
    uint64_t m;
    if (!s || !cli_parse_u64(s + ((*s == '-' || *s == '+') ? 1 : 0), &m))
        return false;
    if (neg) {
        if (m > (uint64_t)INT64_MAX + 1)
            return false;
        *out = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)m;
    }
    return true;
}

bool cli_parse_u64_list(const char *s, uint64_t *v, int *n)
{
    *n = 0;
    if (!s[0])
        return true;
    char tmp[32];
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len == 0 || len >= sizeof tmp || *n >= PZARR_MAX_NDIM)
            return false;
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        if (!cli_parse_u64(tmp, &v[*n]))
            return false;
        ++*n;
        if (!comma)
            return true;
        s = comma + 1;
    }
}

void cli_format_dims(int ndim, const uint64_t *v, const char *sep, char *out,
                     size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    if (ndim == 0) {
        snprintf(out, cap, "scalar");
        return;
    }
    for (int d = 0; d < ndim && used < cap; d++) {
        int k = snprintf(out + used, cap - used, "%s%" PRIu64, d ? sep : "",
                         v[d]);
        if (k < 0)
            return;
        used += (size_t)k;
    }
}

void cli_format_bytes(uint64_t n, char *out, size_t cap)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%" PRIu64 " B", n);
    else
        snprintf(out, cap, "%.1f %s", v, units[u]);
}

bool cli_prod(int n, const uint64_t *v, uint64_t f, uint64_t *out)
{
    uint64_t p = f;
    for (int i = 0; i < n; i++) {
        if (v[i] != 0 && p > UINT64_MAX / v[i])
            return false;
        p *= v[i];
    }
    *out = p;
    return true;
}

/* ------------------------------------------------------------ regions */

/* An index of the region syntax: decimal, negative counts from the end. */
static bool cli_parse_index(const char *s, size_t len, uint64_t dim,
                            bool is_stop, uint64_t *out)
{
    char tmp[32];
    int64_t v;
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (!cli_parse_i64(tmp, &v))
        return false;
    if (v < 0) {
        uint64_t back = v == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-v;
        if (back > dim)
            return false;
        *out = dim - back;
    } else {
        *out = (uint64_t)v;
    }
    return is_stop ? *out <= dim : *out < dim;
}

static int cli_parse_dim(cli *c, const char *s, size_t len, int d,
                         uint64_t dim, uint64_t *start, uint64_t *count)
{
    const char *colon = memchr(s, ':', len);
    uint64_t a = 0, b = dim;
    if (!colon) {
        if (len == 0) {
            *start = 0;
            *count = dim;
            return CLI_OK;
        }
        if (!cli_parse_index(s, len, dim, false, &a))
            return cli_usage(c, "region: dimension %d: index '%.*s' is not "
                             "an integer in [0, %" PRIu64 ")", d, (int)len, s,
                             dim);
        *start = a;
        *count = 1;
        return CLI_OK;
    }
    size_t la = (size_t)(colon - s), lb = len - la - 1;
    if (memchr(colon + 1, ':', lb))
        return cli_usage(c, "region: dimension %d: '%.*s' has more than one "
                         "':' (steps are not supported)", d, (int)len, s);
    if (la && !cli_parse_index(s, la, dim, true, &a))
        return cli_usage(c, "region: dimension %d: start '%.*s' is not an "
                         "integer in [0, %" PRIu64 "]", d, (int)la, s, dim);
    if (lb && !cli_parse_index(colon + 1, lb, dim, true, &b))
        return cli_usage(c, "region: dimension %d: stop '%.*s' is not an "
                         "integer in [0, %" PRIu64 "]", d, (int)lb, colon + 1,
                         dim);
    if (a > b)
        return cli_usage(c, "region: dimension %d: start %" PRIu64
                         " is past stop %" PRIu64, d, a, b);
    *start = a;
    *count = b - a;
    return CLI_OK;
}

int cli_parse_region(cli *c, const char *s, int ndim, const uint64_t *shape,
                     uint64_t *start, uint64_t *count)
{
    if (!s) {
        for (int d = 0; d < ndim; d++) {
            start[d] = 0;
            count[d] = shape[d];
        }
        return CLI_OK;
    }
    if (ndim == 0) {
        if (s[0])
            return cli_usage(c, "region '%s': the array is 0-d and takes no "
                             "region", s);
        return CLI_OK;
    }
    int d = 0;
    for (const char *p = s;; d++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (d >= ndim)
            return cli_usage(c, "region '%s' has more dimensions than the "
                             "array's %d", s, ndim);
        int rc = cli_parse_dim(c, p, len, d, shape[d], &start[d], &count[d]);
        if (rc)
            return rc;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (d + 1 != ndim)
        return cli_usage(c, "region '%s' has %d dimension%s, the array has %d",
                         s, d + 1, d ? "s" : "", ndim);
    return CLI_OK;
}

/* ------------------------------------------------------------ slabs */

void cli_slab_of(int rank, int size, int ndim, size_t itemsize,
                 const uint64_t *start, const uint64_t *count, cli_slab *s)
{
    memset(s, 0, sizeof *s);
    s->ndim = ndim;
    s->itemsize = itemsize;
    for (int d = 0; d < ndim; d++) {
        s->start[d] = start[d];
        s->count[d] = count[d];
    }
    uint64_t row = itemsize;
    for (int d = 1; d < ndim; d++)
        row *= count[d]; /* the caller checked the region's size */
    if (ndim == 0) {
        s->bytes = rank == 0 ? itemsize : 0;
        return;
    }
    uint64_t n = count[0], q = n / (uint64_t)size, rem = n % (uint64_t)size;
    uint64_t r = (uint64_t)rank;
    uint64_t first = r * q + (r < rem ? r : rem);
    s->start[0] = start[0] + first;
    s->count[0] = q + (r < rem ? 1 : 0);
    s->offset = first * row;
    s->bytes = s->count[0] * row;
}

void cli_blocks_init(cli_blocks *b, const cli_slab *s, uint64_t limit)
{
    memset(b, 0, sizeof *b);
    b->slab = *s;
    int nd = s->ndim;
    if (s->bytes == 0) {
        b->n = 0;
        return;
    }
    if (nd == 0) {
        b->axis = -1;
        b->n = 1;
        return;
    }
    /* The outermost axis whose inner sub-box fits in the limit. */
    int k = nd - 1;
    uint64_t step = s->itemsize;
    while (k > 0 && step * s->count[k] <= limit) {
        step *= s->count[k];
        k--;
    }
    uint64_t batch = limit / step;
    if (batch == 0)
        batch = 1;
    if (batch > s->count[k])
        batch = s->count[k];
    b->axis = k;
    b->step = step;
    b->batch = batch;
    b->per_row = (s->count[k] + batch - 1) / batch;
    b->n = b->per_row;
    for (int d = 0; d < k; d++)
        b->n *= s->count[d];
}

void cli_blocks_get(const cli_blocks *b, uint64_t i, uint64_t *start,
                    uint64_t *count, uint64_t *offset, uint64_t *bytes)
{
    const cli_slab *s = &b->slab;
    int k = b->axis;
    if (k < 0) {
        *offset = 0;
        *bytes = s->itemsize;
        return;
    }
    uint64_t j = i % b->per_row, rest = i / b->per_row, lin = 0;
    for (int d = k - 1; d >= 0; d--) {
        uint64_t idx = rest % s->count[d];
        rest /= s->count[d];
        start[d] = s->start[d] + idx;
        count[d] = 1;
    }
    for (int d = 0; d < k; d++)
        lin = lin * s->count[d] + (start[d] - s->start[d]);
    uint64_t first = j * b->batch;
    uint64_t n = s->count[k] - first < b->batch ? s->count[k] - first : b->batch;
    start[k] = s->start[k] + first;
    count[k] = n;
    for (int d = k + 1; d < s->ndim; d++) {
        start[d] = s->start[d];
        count[d] = s->count[d];
    }
    *offset = (lin * s->count[k] + first) * b->step;
    *bytes = n * b->step;
}

/* ------------------------------------------------------------ progress */

#define CLI_PROGRESS_MIN (64u << 20)

void cli_progress_start(cli *c, cli_progress *p, const char *label,
                        uint64_t total, int mode)
{
    memset(p, 0, sizeof *p);
    /* Under mpiexec stderr is a pipe on every rank: the bar only when asked. */
    p->on = c->rank == 0 &&
            (mode > 0 || (mode == 0 && c->size == 1 && total >= CLI_PROGRESS_MIN &&
                          isatty(STDERR_FILENO)));
    snprintf(p->label, sizeof p->label, "%s%s", label,
             c->size > 1 ? " (rank 0's part)" : "");
    p->total = total;
    p->last_permille = -1;
}

static void cli_progress_draw(cli_progress *p)
{
    int permille = p->total ? (int)(p->done * 1000 / p->total) : 1000;
    char done[32], total[32], bar[41];
    int fill = permille * 40 / 1000;
    for (int i = 0; i < 40; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[40] = '\0';
    cli_format_bytes(p->done, done, sizeof done);
    cli_format_bytes(p->total, total, sizeof total);
    fprintf(stderr, "\rpzarr %s [%s] %3d.%d%% %s / %s ", p->label, bar,
            permille / 10, permille % 10, done, total);
    fflush(stderr);
    p->last_permille = permille;
    p->last_time = MPI_Wtime();
}

void cli_progress_add(cli_progress *p, uint64_t n)
{
    if (!p->on)
        return;
    p->done += n;
    if (p->done > p->total)
        p->done = p->total;
    int permille = p->total ? (int)(p->done * 1000 / p->total) : 1000;
    if (permille != p->last_permille && MPI_Wtime() - p->last_time > 0.1)
        cli_progress_draw(p);
}

void cli_progress_end(cli_progress *p)
{
    if (!p->on)
        return;
    cli_progress_draw(p);
    fputc('\n', stderr);
    p->on = false;
}

/* ------------------------------------------------------------ files */

int cli_pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        if (k == 0)
            return EIO; /* the file shrank under us */
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

int cli_pwrite_full(int fd, const void *buf, size_t n, uint64_t off)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

int cli_write_full(int fd, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int cli_read_full(int fd, void *buf, size_t n, size_t *got)
{
    unsigned char *p = buf;
    *got = 0;
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        if (k == 0)
            break;
        p += k;
        n -= (size_t)k;
        *got += (size_t)k;
    }
    return 0;
}

int cli_require_dir(cli *c, const char *path)
{
    int rc = CLI_OK;
    if (c->rank == 0) {
        struct stat st;
        if (stat(path, &st) != 0)
            rc = cli_fail(c, "%s: %s", path, strerror(errno));
        else if (!S_ISDIR(st.st_mode))
            rc = cli_fail(c, "%s: not a directory (PATH is the directory of "
                          "a Zarr array or group)", path);
    }
    return cli_agree(c, rc);
}

/* ------------------------------------------------------------ arrays */

/* ------------------------------------------------------------ where */

static bool is_group_dir(const char *dir)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/.zgroup", dir);
    if (stat(p, &st) == 0)
        return true;
    snprintf(p, sizeof p, "%s/zarr.json", dir);
    FILE *f = fopen(p, "r");
    if (!f)
        return false;
    char head[4096];
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = '\0';
    cJSON *j = cJSON_Parse(head);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "node_type");
    bool group = cJSON_IsString(t) && strcmp(t->valuestring, "group") == 0;
    cJSON_Delete(j);
    return group;
}

/* Length of the directory part of p[0..n) (0 when none). */
static size_t parent_len(const char *p, size_t n)
{
    while (n > 0 && p[n - 1] != '/')
        n--;
    while (n > 1 && p[n - 1] == '/')
        n--;
    return n;
}

/* Splits PATH into the store's root and the array's name inside it, like
 * mkdir -p: the nearest existing ancestor of PATH is found; if it is a
 * group, the store is the outermost group around it and every missing
 * directory below becomes a group; otherwise the first missing directory
 * (or PATH itself) is the new store's root. Rank 0 looks; the length of
 * the root part reaches every rank. */
static size_t store_root_len(cli *c, const char *path)
{
    long long len = 0;
    if (c->rank == 0) {
        char p[4096];
        snprintf(p, sizeof p, "%s", path);
        size_t n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
            p[--n] = '\0';
        size_t root = n; /* PATH itself, unless found otherwise */
        size_t e = parent_len(p, n);
        struct stat st;
        for (;;) {
            char save = p[e];
            p[e] = '\0';
            bool exists = e == 0 || stat(p, &st) == 0;
            bool group = e > 0 && exists && is_group_dir(p);
            if (group) {
                root = e;
                for (size_t up = parent_len(p, e); up > 0; up = parent_len(p, up)) {
                    p[up] = '\0';
                    if (!is_group_dir(p))
                        break;
                    root = up;
                }
            }
            p[e] = save;
            if (exists || group)
                break;
            root = e; /* missing: a new store would start here or higher */
            e = parent_len(p, e);
        }
        len = (long long)root;
    }
    MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, c->comm);
    return (size_t)len;
}

const char *cli_split_store(cli *c, const char *path, char *root, size_t cap)
{
    snprintf(root, cap, "%s", path);
    size_t rl = store_root_len(c, path);
    if (rl >= strlen(root))
        return "";
    root[rl] = '\0';
    const char *name = path + rl;
    while (*name == '/')
        name++;
    return name;
}

int cli_array_open(cli *c, const char *path, int flags, cli_array *ca)
{
    memset(ca, 0, sizeof *ca);
    ca->writable = (flags & PZARR_RDWR) != 0;
    int rc = cli_require_dir(c, path);
    if (rc)
        return rc;
    /* An array inside a group opens through its store: a change of its
     * metadata then reaches the store's consolidated metadata. */
    char root[4096];
    const char *name = cli_split_store(c, path, root, sizeof root);
    int e = pzarr_open(c->comm, root, flags, &ca->store);
    if (e) {
        rc = cli_lib_fail(c, e, ca->store ? pzarr_errmsg(ca->store) : NULL,
                          "cannot open %s", root);
        goto fail;
    }
    e = pzarr_array_open(ca->store, name, &ca->array);
    if (e) {
        rc = cli_lib_fail(c, e, pzarr_errmsg(ca->store),
                          "%s: cannot open the array", path);
        goto fail;
    }
    e = pzarr_array_get_info(ca->array, &ca->info);
    if (e) {
        rc = cli_lib_fail(c, e, pzarr_array_errmsg(ca->array), "%s", path);
        rc = cli_agree(c, rc); /* a local call */
        goto fail;
    }
    return cli_agree(c, CLI_OK);
fail:
    pzarr_array_close(ca->array);
    pzarr_close(ca->store);
    memset(ca, 0, sizeof *ca);
    return rc;
}

int cli_array_close(cli *c, const char *path, cli_array *ca, int status)
{
    /* Flush first: the handle, and so its message, is gone after close. */
    int e = ca->array && ca->writable ? pzarr_array_flush(ca->array) : 0;
    if (e && status == CLI_OK)
        status = cli_lib_fail(c, e, pzarr_array_errmsg(ca->array),
                              "%s: writing the array", path);
    e = pzarr_array_close(ca->array);
    if (e && status == CLI_OK)
        status = cli_lib_fail(c, e, NULL, "%s: closing the array", path);
    e = pzarr_close(ca->store);
    if (e && status == CLI_OK)
        status = cli_lib_fail(c, e, NULL, "%s: closing the store", path);
    memset(ca, 0, sizeof *ca);
    return status;
}

/* ------------------------------------------------------------ dtypes */

static const struct {
    const char *name;
    size_t size;
} cli_dtypes[] = {
    [PZARR_BOOL] = {"bool", 1},         [PZARR_INT8] = {"int8", 1},
    [PZARR_INT16] = {"int16", 2},       [PZARR_INT32] = {"int32", 4},
    [PZARR_INT64] = {"int64", 8},       [PZARR_UINT8] = {"uint8", 1},
    [PZARR_UINT16] = {"uint16", 2},     [PZARR_UINT32] = {"uint32", 4},
    [PZARR_UINT64] = {"uint64", 8},     [PZARR_FLOAT16] = {"float16", 2},
    [PZARR_FLOAT32] = {"float32", 4},   [PZARR_FLOAT64] = {"float64", 8},
    [PZARR_COMPLEX64] = {"complex64", 8},
    [PZARR_COMPLEX128] = {"complex128", 16},
};

static const char *const cli_time_units[] = {"Y",  "M",  "W",  "D",  "h",  "m", "s",
                                             "ms", "us", "ns", "ps", "fs", "as"};

/* "datetime64[UNIT]", "timedelta64[10ms]" (NumPy's spelling). */
static bool cli_time_parse(const char *name, pzarr_dtype *t)
{
    bool delta = strncmp(name, "timedelta64[", 12) == 0;
    if (!delta && strncmp(name, "datetime64[", 11) != 0)
        return false;
    const char *p = name + (delta ? 12 : 11);
    uint64_t scale = 1;
    size_t nd = strspn(p, "0123456789");
    if (nd) {
        char num[16];
        if (nd >= sizeof num)
            return false;
        memcpy(num, p, nd);
        num[nd] = '\0';
        if (!cli_parse_u64(num, &scale) || scale == 0 || scale > PZARR_TIME_SCALE_MAX)
            return false;
        p += nd;
    }
    size_t len = strlen(p);
    if (len < 2 || p[len - 1] != ']')
        return false;
    for (int u = 0; u < (int)(sizeof cli_time_units / sizeof cli_time_units[0]); u++)
        if (strlen(cli_time_units[u]) == len - 1 && strncmp(cli_time_units[u], p, len - 1) == 0) {
            *t = delta ? PZARR_TIMEDELTA64(u, scale) : PZARR_DATETIME64(u, scale);
            return true;
        }
    return false;
}

/* Fixed-length strings: "S<n>" (n bytes) and "U<n>" (n UTF-32 characters);
 * datetime64[UNIT] and timedelta64[UNIT]. */
bool cli_dtype_parse(const char *name, pzarr_dtype *t)
{
    if (cli_time_parse(name, t))
        return true;
    if (strcmp(name, "string") == 0 || strcmp(name, "str") == 0) {
        *t = PZARR_VLEN_STRING;
        return true;
    }
    if (strcmp(name, "bytes") == 0) {
        *t = PZARR_VLEN_BYTES;
        return true;
    }
    if ((name[0] == 'S' || name[0] == 'U') && name[1] >= '1' && name[1] <= '9') {
        uint64_t n;
        if (!cli_parse_u64(name + 1, &n) || n > PZARR_STRING_MAX)
            return false;
        *t = name[0] == 'S' ? PZARR_STRING_BYTES(n) : PZARR_STRING_UTF32(n);
        return pzarr_dtype_size(*t) != 0;
    }
    for (size_t i = 0; i < sizeof cli_dtypes / sizeof cli_dtypes[0]; i++) {
        if (strcmp(cli_dtypes[i].name, name) == 0) {
            *t = (pzarr_dtype)i;
            return true;
        }
    }
    return false;
}

const char *cli_dtype_name(pzarr_dtype t)
{
    static char text[32]; /* the CLI is one thread */
    if (t == PZARR_VLEN_STRING)
        return "string";
    if (t == PZARR_VLEN_BYTES)
        return "bytes";
    size_t size = pzarr_dtype_size(t);
    const char *tn = pzarr_dtype_name(t);
    if (tn && strncmp(tn, "numpy.", 6) == 0) { /* datetime64 / timedelta64 */
        unsigned unit = ((unsigned)t >> 20) & 0xF, scale = (unsigned)t & 0xFFFFF;
        if (unit >= sizeof cli_time_units / sizeof cli_time_units[0])
            snprintf(text, sizeof text, "%s", tn + 6); /* the generic unit */
        else if (scale == 1)
            snprintf(text, sizeof text, "%s[%s]", tn + 6, cli_time_units[unit]);
        else
            snprintf(text, sizeof text, "%s[%u%s]", tn + 6, scale, cli_time_units[unit]);
        return text;
    }
    if ((size_t)t >= sizeof cli_dtypes / sizeof cli_dtypes[0] && size) {
        const char *n = pzarr_dtype_name(t);
        bool bytes = n && n[0] == 'b';
        snprintf(text, sizeof text, "%c%zu", bytes ? 'S' : 'U', bytes ? size : size / 4);
        return text;
    }
    if ((size_t)t >= sizeof cli_dtypes / sizeof cli_dtypes[0])
        return "unknown";
    return cli_dtypes[t].name;
}

size_t cli_dtype_size(pzarr_dtype t)
{
    return pzarr_dtype_size(t);
}
