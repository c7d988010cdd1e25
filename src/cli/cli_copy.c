/*
 * pzarr copy SRC DST: an array, or a group with everything under it,
 * copied with other chunks, shards, codecs, format or data type.
 *
 * A new DST is built beside it, in DST.pzarr-partial, and renamed to DST
 * when every array is done: a copy killed part-way leaves no DST, and
 * `--resume` finishes the partial one (the arrays done are kept, an array
 * cut short goes on from its last committed slab). With --overwrite an
 * existing DST is replaced only then. A DST inside an existing store is
 * written in place; its arrays carry the marker of an unfinished copy
 * until they are done.
 */
#define _XOPEN_SOURCE 700

#include "cli.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CP_PARTIAL ".pzarr-partial"
#define CP_OLD ".pzarr-old"
#define CP_MAX_CHUNK_RULES 64
#define CP_PATH_MAX 4096

typedef struct cp_rule {
    const char *name; /* NULL: every array of the same rank */
    uint64_t v[PZARR_MAX_NDIM];
    int n;
} cp_rule;

typedef struct cp_args {
    const char *src, *dst;
    cp_rule chunks[CP_MAX_CHUNK_RULES];
    int nchunks;
    cp_rule shards[CP_MAX_CHUNK_RULES];
    int nshards;
    bool no_shards;
    const char *codec, *region, *dtype;
    int format;
    uint64_t memory;
    bool resume, overwrite, quiet, progress, reencode;
} cp_args;

typedef struct cp_run {
    cli *c;
    cp_args *a;
    pzarr_store *ss, *ds;
    int dst_format; /* of new groups */
    cli_progress bar;
    uint64_t base; /* bytes of the arrays finished */
    uint64_t arrays, groups, skipped;
    bool single; /* SRC is one array: every --chunks is its own */
    const char *ddir; /* the directory of DST's store (the partial copy's) */
} cp_run;

/* ------------------------------------------------------------ arguments */

/* "512M", "2G", "1GiB", "1048576". */
static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return false;
    uint64_t mul = 1;
    switch (*end) {
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    case 't': case 'T': mul = 1ull << 40; end++; break;
    default: break;
    }
    if (mul > 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
        end += strlen(end);
    if (*end || (v && mul > UINT64_MAX / v))
        return false;
    *out = v * mul;
    return true;
}

/* "N,N,.." or "NAME=N,N,..". */
static int parse_rule(cli *c, const char *opt, const char *s, cp_rule *r)
{
    const char *eq = strchr(s, '=');
    r->name = NULL;
    if (eq) {
        static char names[CP_MAX_CHUNK_RULES * 2][256];
        static int used;
        size_t n = (size_t)(eq - s);
        if (n == 0 || n >= sizeof names[0] || used >= (int)(sizeof names / sizeof names[0]))
            return cli_usage(c, "--%s '%s': a bad variable name", opt, s);
        memcpy(names[used], s, n);
        names[used][n] = '\0';
        r->name = names[used++];
        s = eq + 1;
    }
    if (!cli_parse_u64_list(s, r->v, &r->n) || r->n == 0)
        return cli_usage(c, "--%s '%s' is not a comma-separated list of sizes", opt, s);
    for (int d = 0; d < r->n; d++)
        if (r->v[d] == 0)
            return cli_usage(c, "--%s '%s': a size of 0", opt, s);
    return CLI_OK;
}

static int parse_copy_args(cli *c, int argc, char **argv, cp_args *a)
{
    memset(a, 0, sizeof *a);
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            if (!a->src)
                a->src = arg;
            else if (!a->dst)
                a->dst = arg;
            else
                return cli_usage(c, "unexpected argument '%s' (SRC is '%s', DST '%s')", arg,
                                 a->src, a->dst);
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        char name[32];
        const char *val = NULL;
        const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
        if (eq)
            val = eq + 1;
        bool flag = !strcmp(name, "--resume") || !strcmp(name, "--overwrite") ||
                    !strcmp(name, "--progress") || !strcmp(name, "-q") ||
                    !strcmp(name, "--quiet") || !strcmp(name, "--reencode");
        if (flag) {
            if (val)
                return cli_usage(c, "option '%s' takes no value", name);
            if (!strcmp(name, "--resume"))
                a->resume = true;
            else if (!strcmp(name, "--overwrite"))
                a->overwrite = true;
            else if (!strcmp(name, "--progress"))
                a->progress = true;
            else if (!strcmp(name, "--reencode"))
                a->reencode = true;
            else
                a->quiet = true;
            continue;
        }
        static const char *const valued[] = {"--chunks", "--shards", "--codec",  "--format",
                                             "--dtype",  "--region", "--memory"};
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known = known || !strcmp(name, valued[k]);
        if (!known)
            return cli_usage(c, "unknown option '%s'", arg);
        if (!val) {
            if (i + 1 >= argc)
                return cli_usage(c, "option '%s' needs a value", name);
            val = argv[++i];
        }
        int rc = CLI_OK;
        if (!strcmp(name, "--chunks")) {
            if (a->nchunks >= CP_MAX_CHUNK_RULES)
                return cli_usage(c, "too many --chunks");
            rc = parse_rule(c, "chunks", val, &a->chunks[a->nchunks++]);
        } else if (!strcmp(name, "--shards")) {
            if (!strcmp(val, "none")) {
                a->no_shards = true;
            } else {
                if (a->nshards >= CP_MAX_CHUNK_RULES)
                    return cli_usage(c, "too many --shards");
                rc = parse_rule(c, "shards", val, &a->shards[a->nshards++]);
            }
        } else if (!strcmp(name, "--codec")) {
            a->codec = val;
        } else if (!strcmp(name, "--dtype")) {
            a->dtype = val;
        } else if (!strcmp(name, "--region")) {
            a->region = val;
        } else if (!strcmp(name, "--format")) {
            if (strcmp(val, "2") && strcmp(val, "3"))
                return cli_usage(c, "--format must be 2 or 3, not '%s'", val);
            a->format = val[0] - '0';
        } else if (!strcmp(name, "--memory")) {
            if (!parse_size(val, &a->memory) || a->memory < (16u << 10))
                return cli_usage(c, "--memory '%s' is not a size of at least 16K (e.g. 512M, 2G)",
                                 val);
        }
        if (rc)
            return rc;
    }
    if (!a->src || !a->dst)
        return cli_usage(c, "copy needs SRC and DST");
    if (!a->src[0] || !a->dst[0])
        return cli_usage(c, "SRC or DST is empty");
    if (a->no_shards && a->nshards)
        return cli_usage(c, "--shards none and --shards N,.. together");
    return CLI_OK;
}

/* The rule of `rules` for an array: its own (by path inside the copy or by
 * last name), else the general one of the same rank. */
static const cp_rule *rule_for(const cp_rule *rules, int n, const char *rel, int ndim)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    for (int i = n - 1; i >= 0; i--)
        if (rules[i].name && (!strcmp(rules[i].name, rel) || !strcmp(rules[i].name, base)))
            return &rules[i];
    for (int i = n - 1; i >= 0; i--)
        if (!rules[i].name && rules[i].n == ndim)
            return &rules[i];
    return NULL;
}

/* ------------------------------------------------------------ files (rank 0) */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Whether dir holds a Zarr group or array document. */
static bool is_node(const char *dir)
{
    static const char *const docs[] = {"zarr.json", ".zgroup", ".zarray"};
    char p[CP_PATH_MAX + 64];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, docs[i]);
        if (exists(p))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ the copy */

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
    cp_run *r = ctx;
    (void)total;
    if (!r->bar.on)
        return;
    r->bar.done = 0;
    cli_progress_add(&r->bar, r->base + done);
}

static int copy_array(cp_run *r, const char *sname, const char *dname, const char *rel)
{
    cli *c = r->c;
    cp_args *a = r->a;
    pzarr_array *sa = NULL;
    int e = pzarr_array_open(r->ss, sname, &sa);
    if (e)
        return cli_lib_fail(c, e, pzarr_errmsg(r->ss), "%s: cannot open '%s'", a->src, sname);
    pzarr_array_info info;
    pzarr_array_get_info(sa, &info);
    pzarr_copy_options o;
    memset(&o, 0, sizeof o);
    int rc = CLI_OK;
    o.zarr_format = a->format;
    o.codec = a->codec;
    o.memory = a->memory;
    o.resume = a->resume;
    o.reencode = a->reencode;
    o.progress = on_progress;
    o.progress_ctx = r;
    const cp_rule *ch = rule_for(a->chunks, a->nchunks, rel, info.ndim);
    if (!ch && r->single && a->nchunks)
        rc = cli_usage(c, "--chunks '%s' has %d sizes, the array %d dimensions",
                       a->chunks[0].name ? a->chunks[0].name : "", a->chunks[0].n, info.ndim);
    if (ch) {
        if (ch->n != info.ndim)
            rc = cli_usage(c, "--chunks for '%s' has %d sizes, the array %d dimensions", rel,
                           ch->n, info.ndim);
        memcpy(o.chunks, ch->v, sizeof(uint64_t) * (size_t)ch->n);
    }
    const cp_rule *sh = rule_for(a->shards, a->nshards, rel, info.ndim);
    if (!sh && r->single && a->nshards && rc == CLI_OK)
        rc = cli_usage(c, "--shards has %d sizes, the array %d dimensions", a->shards[0].n,
                       info.ndim);
    if (a->no_shards) {
        o.sharding = -1;
    } else if (sh && rc == CLI_OK) {
        if (sh->n != info.ndim)
            rc = cli_usage(c, "--shards for '%s' has %d sizes, the array %d dimensions", rel,
                           sh->n, info.ndim);
        o.sharding = 1;
        memcpy(o.shard, sh->v, sizeof(uint64_t) * (size_t)sh->n);
        /* Shards whose inner chunks are the source's, unless given. */
        if (!ch)
            memcpy(o.chunks, info.inner_chunks, sizeof(uint64_t) * (size_t)info.ndim);
    }
    if (a->dtype && rc == CLI_OK) {
        o.convert = 1;
        if (!cli_dtype_parse(a->dtype, &o.dtype))
            rc = cli_usage(c, "--dtype '%s' is not a data type", a->dtype);
    }
    if (a->region && rc == CLI_OK) {
        o.region = 1;
        rc = cli_parse_region(c, a->region, info.ndim, info.shape, o.start, o.count);
    }
    rc = cli_agree(c, rc);
    if (rc == CLI_OK) {
        e = pzarr_array_copy(sa, r->ds, dname, &o);
        if (e)
            rc = cli_lib_fail(c, e, pzarr_errmsg(r->ds), "%s", a->src);
    }
    uint64_t bytes = info.itemsize;
    for (int d = 0; d < info.ndim; d++)
        bytes *= o.region ? o.count[d] : info.shape[d];
    r->base += bytes;
    r->arrays++;
    pzarr_array_close(sa);
    return rc;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", a, a[0] && b[0] ? "/" : "", b);
    return p;
}

/* Bytes of every array under a node (for the progress bar). */
static uint64_t tree_bytes(cp_run *r, const char *sname)
{
    pzarr_node_kind kind;
    if (pzarr_node_kind_of(r->ss, sname, &kind))
        return 0;
    if (kind == PZARR_NODE_ARRAY) {
        pzarr_array *sa;
        if (pzarr_array_open(r->ss, sname, &sa))
            return 0;
        pzarr_array_info info;
        pzarr_array_get_info(sa, &info);
        pzarr_array_close(sa);
        uint64_t b = info.itemsize;
        for (int d = 0; d < info.ndim; d++)
            b *= info.shape[d];
        return b;
    }
    char **names = NULL;
    size_t n = 0;
    uint64_t sum = 0;
    if (pzarr_group_list(r->ss, sname, &names, &n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char *child = join(sname, names[i]);
        if (child)
            sum += tree_bytes(r, child);
        free(child);
    }
    pzarr_free_list(names, n);
    return sum;
}

/* A group and everything under it (rel: its path inside the copy). */
static int copy_tree(cp_run *r, const char *sname, const char *dname, const char *rel)
{
    cli *c = r->c;
    pzarr_node_kind kind;
    int e = pzarr_node_kind_of(r->ss, sname, &kind);
    if (e)
        return cli_lib_fail(c, e, pzarr_errmsg(r->ss), "%s: '%s'", r->a->src, sname);
    if (kind == PZARR_NODE_ARRAY) {
        if (r->a->resume) { /* done already: present without a marker */
            pzarr_node_kind dk;
            e = pzarr_node_kind_of(r->ds, dname, &dk);
            if (e == 0 && dk == PZARR_NODE_ARRAY) {
                int done = 0;
                if (c->rank == 0) { /* rank 0 looks for the marker */
                    char p[CP_PATH_MAX * 2 + 64];
                    snprintf(p, sizeof p, "%s%s%s/%s", r->ddir, dname[0] ? "/" : "", dname,
                             PZARR_COPY_MARKER);
                    done = !exists(p);
                }
                cli_bcast_int(c, &done);
                if (done) {
                    r->skipped++;
                    r->base += tree_bytes(r, sname);
                    return CLI_OK;
                }
            }
        }
        return copy_array(r, sname, dname, rel);
    }
    if (kind != PZARR_NODE_GROUP)
        return cli_fail(c, "%s: '%s' is neither an array nor a group", r->a->src, sname);
    int rc = CLI_OK;
    if (dname[0]) { /* the root exists with the store */
        pzarr_node_kind dk;
        e = pzarr_node_kind_of(r->ds, dname, &dk);
        if (e == 0 && dk == PZARR_NODE_NONE)
            e = pzarr_group_create(r->ds, dname, r->dst_format, NULL);
        if (e)
            return cli_lib_fail(c, e, pzarr_errmsg(r->ds), "cannot create the group '%s'",
                                dname);
        r->groups++;
    }
    char *attrs = NULL;
    e = pzarr_attrs_get(r->ss, sname, &attrs);
    if (e == 0 && strcmp(attrs, "{}") != 0)
        e = pzarr_attrs_set(r->ds, dname, attrs);
    pzarr_free(attrs);
    if (e)
        return cli_lib_fail(c, e, pzarr_errmsg(r->ds), "the attributes of '%s'", sname);
    char **names = NULL;
    size_t n = 0;
    e = pzarr_group_list(r->ss, sname, &names, &n);
    if (e)
        return cli_lib_fail(c, e, pzarr_errmsg(r->ss), "%s: listing '%s'", r->a->src, sname);
    for (size_t i = 0; rc == CLI_OK && i < n; i++) {
        char *cs = join(sname, names[i]), *cd = join(dname, names[i]), *cr = join(rel, names[i]);
        rc = cli_agree(c, cs && cd && cr ? CLI_OK : cli_fail(c, "out of memory"));
        if (rc == CLI_OK)
            rc = copy_tree(r, cs, cd, cr);
        free(cs);
        free(cd);
        free(cr);
    }
    pzarr_free_list(names, n);
    return rc;
}

/* Rank 0: where the copy is built, after the checks on DST. */
static int prepare_dst(cli *c, cp_args *a, const char *partial)
{
    int rc = CLI_OK;
    if (c->rank == 0) {
        if (exists(a->dst) && !a->overwrite)
            rc = cli_fail(c, "%s exists: pass --overwrite to replace it", a->dst);
        else if (exists(partial) && !a->resume)
            rc = cli_fail(c,
                          "%s holds an unfinished copy to %s: pass --resume to finish it, or "
                          "remove it",
                          partial, a->dst);
        else if (a->resume && exists(partial) && !is_node(partial))
            rc = cli_fail(c, "%s is not a Zarr store: remove it", partial);
    }
    return cli_agree(c, rc);
}

/* Rank 0: the finished copy becomes DST (replacing an old one last). */
static int publish(cli *c, const char *dst, const char *partial)
{
    int rc = CLI_OK;
    if (c->rank == 0) {
        char old[CP_PATH_MAX + 32];
        snprintf(old, sizeof old, "%s%s", dst, CP_OLD);
        bool had = exists(dst);
        if (had && (rm_tree(old) != 0 || rename(dst, old) != 0))
            rc = cli_fail(c, "cannot move the old %s aside: %s", dst, strerror(errno));
        else if (rename(partial, dst) != 0) {
            rc = cli_fail(c, "cannot rename %s to %s: %s", partial, dst, strerror(errno));
            if (had)
                rename(old, dst);
        } else if (had && rm_tree(old) != 0) {
            rc = cli_fail(c, "the copy is in %s, but the old one stays in %s: %s", dst, old,
                          strerror(errno));
        }
    }
    return cli_agree(c, rc);
}

int cli_cmd_copy(cli *c, int argc, char **argv)
{
    cp_args a;
    int rc = parse_copy_args(c, argc, argv, &a);
    if (rc)
        return rc;
    rc = cli_require_dir(c, a.src);
    if (rc)
        return rc;
    char sroot[CP_PATH_MAX];
    const char *sname = cli_split_store(c, a.src, sroot, sizeof sroot);
    cp_run r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.a = &a;
    /* Arrays of codecs pzarr cannot decode still open: their chunk files
     * are moved as they are (or the copy says why not). */
    int e = pzarr_open(c->comm, sroot, PZARR_RDONLY | PZARR_OPAQUE_CODECS, &r.ss);
    if (e) {
        rc = cli_lib_fail(c, e, r.ss ? pzarr_errmsg(r.ss) : NULL, "cannot open %s", sroot);
        pzarr_close(r.ss);
        return rc;
    }
    pzarr_node_kind kind;
    e = pzarr_node_kind_of(r.ss, sname, &kind);
    if (e)
        rc = cli_lib_fail(c, e, pzarr_errmsg(r.ss), "%s", a.src);
    else if (kind == PZARR_NODE_NONE)
        rc = cli_fail(c, "%s is neither a Zarr array nor a group", a.src);
    if (rc == CLI_OK && a.region && kind != PZARR_NODE_ARRAY)
        rc = cli_usage(c, "--region applies to one array, not to the group %s", a.src);
    /* The format of new groups: --format, else the source's (its root's
     * documents tell). */
    int fmt = a.format;
    if (rc == CLI_OK && !fmt) {
        if (c->rank == 0) {
            char p[CP_PATH_MAX + 16];
            snprintf(p, sizeof p, "%s/zarr.json", a.src);
            fmt = exists(p) ? 3 : 2;
        }
        cli_bcast_int(c, &fmt);
    }
    r.dst_format = fmt;
    r.single = kind == PZARR_NODE_ARRAY;
    /* DST's store: DST inside an existing store is written in place (its
     * arrays carry the marker of an unfinished copy until done); otherwise
     * a new store, built in ROOT.pzarr-partial and renamed when complete. */
    char droot[CP_PATH_MAX];
    const char *dname = rc == CLI_OK ? cli_split_store(c, a.dst, droot, sizeof droot) : "";
    int in_place = 0;
    if (rc == CLI_OK) {
        if (c->rank == 0)
            in_place = dname[0] && is_node(droot);
        cli_bcast_int(c, &in_place);
        if (in_place && a.overwrite)
            rc = cli_usage(c, "--overwrite replaces a whole store, and %s lies inside the store %s",
                           a.dst, droot);
    }
    char partial[CP_PATH_MAX + 32];
    if (in_place)
        snprintf(partial, sizeof partial, "%s", droot);
    else
        snprintf(partial, sizeof partial, "%s%s", droot, CP_PARTIAL);
    r.ddir = partial;
    cp_args at_root = a; /* the checks on DST are the checks on its store */
    at_root.dst = droot;
    if (rc == CLI_OK && !in_place)
        rc = prepare_dst(c, &at_root, partial);
    int created = 0; /* this run makes the partial copy (not a resume) */
    if (rc == CLI_OK && !in_place) {
        if (c->rank == 0)
            created = !exists(partial);
        cli_bcast_int(c, &created);
    }
    if (rc == CLI_OK) {
        /* A new store of a group (or of an array deeper than its root) is a
         * group; one array at DST is the root of its own store. */
        int flags = PZARR_RDWR | PZARR_OPAQUE_CODECS |
                    (!in_place && (kind == PZARR_NODE_GROUP || dname[0]) ? PZARR_CREATE : 0) |
                    (fmt == 2 ? PZARR_FORMAT_V2 : 0);
        e = pzarr_open(c->comm, partial, flags, &r.ds);
        if (e)
            rc = cli_lib_fail(c, e, r.ds ? pzarr_errmsg(r.ds) : NULL, "cannot open %s",
                              partial);
    }
    if (rc == CLI_OK) {
        int mode = a.quiet ? -1 : a.progress ? 1 : 0;
        uint64_t total = tree_bytes(&r, sname);
        if (a.region) /* the bar counts the region's bytes */
            total = 0;
        cli_progress_start(c, &r.bar, "copy", total, a.region ? -1 : mode);
        const char *base = strrchr(sname, '/');
        base = base ? base + 1 : sname;
        /* DST is the copy of SRC itself, as with cp -r. */
        rc = copy_tree(&r, sname, dname, kind == PZARR_NODE_ARRAY ? base : "");
        cli_progress_end(&r.bar);
    }
    if (r.ds) {
        e = pzarr_close(r.ds);
        if (e && rc == CLI_OK)
            rc = cli_lib_fail(c, e, NULL, "closing %s", partial);
    }
    pzarr_close(r.ss);
    if (rc == CLI_OK && !in_place)
        rc = publish(c, droot, partial);
    else if (rc != CLI_OK && in_place && c->rank == 0) {
        size_t n = strlen(c->msg);
        snprintf(c->msg + n, sizeof c->msg - n,
                 "\nthe arrays copied so far stay in %s; one cut short carries the marker "
                 "of an unfinished copy: finish it with --resume",
                 droot);
    } else if (rc != CLI_OK && r.ds && c->rank == 0) {
        /* A copy begun here goes (the cause, a corrupt chunk or a full
         * disk, would stop it again); a resumed one stays for the next. */
        size_t n = strlen(c->msg);
        if (created && rm_tree(partial) == 0)
            snprintf(c->msg + n, sizeof c->msg - n,
                     "\n%s is untouched and nothing of the copy is left", a.dst);
        else
            snprintf(c->msg + n, sizeof c->msg - n,
                     "\n%s is untouched; the copy so far stays in %s: finish it with "
                     "--resume once the cause is fixed, or remove it",
                     a.dst, partial);
    }
    if (rc == CLI_OK && c->rank == 0 && !a.quiet)
        printf("copied %s to %s: %llu array%s, %llu group%s%s\n", a.src, a.dst,
               (unsigned long long)r.arrays, r.arrays == 1 ? "" : "s",
               (unsigned long long)r.groups, r.groups == 1 ? "" : "s",
               r.skipped ? " (the arrays done before kept)" : "");
    return rc;
}
