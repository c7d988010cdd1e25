/* Options, scratch directory, geometry, data, timing, memory and report. */
#define _XOPEN_SOURCE 700
#include "bench.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* ------------------------------------------------------------ options */

static const char *const data_names[] = {"smooth", "random", "zeros"};

const char *bench_data_name(int data)
{
    return data >= 0 && data < 3 ? data_names[data] : "?";
}

void bench_usage(const bench_ctx *c)
{
    if (c->rank != 0)
        return;
    fprintf(stderr,
            "usage: mpiexec -n N %s PATTERN [options]\n"
            "patterns: checkpoint restart postproc smallchunks open codec scale copy overlap\n"
            "  --shape X,Y,Z        global shape (default 128,128,128; smallchunks: 1-D)\n"
            "  --chunks X,Y,Z       chunk shape (default 32,32,32)\n"
            "  --shard X,Y,Z        shard shape: chunks become inner chunks of shards\n"
            "  --codec C            none | zstd:L | blosc:CNAME:CLEVEL:SHUFFLE | gzip:L\n"
            "  --data D             smooth | random | zeros (default smooth)\n"
            "  --reps N             timed samples (default 3; best and median reported)\n"
            "  --dir PATH           scratch directory (default /tmp/pzarr-bench-<pid>)\n"
            "  --aligned | --misaligned   checkpoint: chunks match subdomains or straddle them\n"
            "  --durable            checkpoint: open with PZARR_DURABLE (fsync before commit)\n"
            "  --no-consolidate     stores made without consolidated metadata\n"
            "  --decomp D           scale: slab, 2d or 3d decomposition (default 3d)\n"
            "  --format 2|3         Zarr format (default 3)\n"
            "  --axis A             restart/postproc: axis of the slabs (default last)\n"
            "  --slab T             postproc: slab thickness (default the chunk size)\n"
            "  --inner N            open: opens per timed sample (default 10)\n"
            "  --to-chunks X,Y,Z    copy: the target's chunks (default NX,16,16)\n"
            "  --to-codec C         copy: the target's codec, as pzarr spells it (default --codec)\n"
            "  --to-format 2|3      copy: the target's format (default the source's)\n"
            "  --memory MIB         copy: the budget per rank (default pzarr's)\n"
            "  --keep               copy: leave the source array (DIR/src.zarr/a)\n"
            "  --no-floor           copy: only the copy (no read_all + write floor)\n"
            "  --compute-ms MS      overlap: compute per checkpoint interval (default: twice\n"
            "                       the blocking checkpoint, measured first)\n"
            "  --intervals N        overlap: intervals timed per mode (default 12, a multiple of 3)\n"
            "  --json               JSON on rank 0 instead of the table\n",
            c->prog);
}

static int parse_u64_list(const char *s, uint64_t *v, int *n)
{
    int k = 0;
    const char *p = s;
    while (*p) {
        if (k == BENCH_NDIM_MAX)
            return -1;
        char *end;
        errno = 0;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p || errno || x == 0 || *p == '-')
            return -1;
        v[k++] = (uint64_t)x;
        if (*end == ',')
            end++;
        else if (*end)
            return -1;
        p = end;
    }
    *n = k;
    return k ? 0 : -1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno || x < lo || x > hi)
        return -1;
    *out = (int)x;
    return 0;
}

static int parse_blosc(const char *s, bench_codec *out)
{
    char cname[16], shuf[16];
    int lvl;
    if (sscanf(s, "blosc:%15[^:]:%d:%15s", cname, &lvl, shuf) != 3 || lvl < 0 || lvl > 9)
        return -1;
    static const char *const names[] = {"noshuffle", "shuffle", "bitshuffle"};
    out->shuffle = -1;
    for (int i = 0; i < 3; i++)
        if (!strcmp(shuf, names[i]))
            out->shuffle = i;
    if (out->shuffle < 0)
        return -1;
    out->kind = CODEC_BLOSC;
    out->level = lvl;
    snprintf(out->cname, sizeof out->cname, "%s", cname);
    return 0;
}

int bench_parse_codec(const char *s, bench_codec *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->text, sizeof out->text, "%s", s);
    if (!strcmp(s, "none"))
        return 0;
    if (!strncmp(s, "zstd:", 5)) {
        out->kind = CODEC_ZSTD;
        return parse_int(s + 5, -131072, 22, &out->level);
    }
    if (!strncmp(s, "gzip:", 5)) {
        out->kind = CODEC_GZIP;
        return parse_int(s + 5, 0, 9, &out->level);
    }
    if (!strncmp(s, "blosc:", 6))
        return parse_blosc(s, out);
    return -1;
}

static int parse_data(const char *s, int *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, data_names[i])) {
            *out = i;
            return 0;
        }
    return -1;
}

/* Options with a value; returns 0 if handled, -1 on a bad value, 1 if unknown. */
static int parse_valued(bench_opts *o, const char *key, const char *val)
{
    if (!strcmp(key, "shape"))
        return parse_u64_list(val, o->shape, &o->ndim);
    if (!strcmp(key, "chunks"))
        return parse_u64_list(val, o->chunks, &o->chunk_ndim);
    if (!strcmp(key, "shard")) {
        o->shard = val;
        return 0;
    }
    if (!strcmp(key, "decomp")) {
        o->decomp = val;
        return strcmp(val, "slab") && strcmp(val, "2d") && strcmp(val, "3d") ? -1 : 0;
    }
    if (!strcmp(key, "codec"))
        return bench_parse_codec(val, &o->codec);
    if (!strcmp(key, "data"))
        return parse_data(val, &o->data);
    if (!strcmp(key, "reps"))
        return parse_int(val, 1, 1000000, &o->reps);
    if (!strcmp(key, "dir")) {
        o->dir = val;
        return *val ? 0 : -1;
    }
    if (!strcmp(key, "format"))
        return parse_int(val, 2, 3, &o->format);
    if (!strcmp(key, "axis"))
        return parse_int(val, 0, BENCH_NDIM_MAX - 1, &o->axis);
    if (!strcmp(key, "inner"))
        return parse_int(val, 1, 1000000, &o->inner);
    if (!strcmp(key, "to-chunks"))
        return parse_u64_list(val, o->to_chunks, &o->to_chunk_ndim) ? -1 : 0;
    if (!strcmp(key, "to-codec")) {
        o->to_codec = val;
        return *val ? 0 : -1;
    }
    if (!strcmp(key, "to-format"))
        return parse_int(val, 2, 3, &o->to_format);
    if (!strcmp(key, "memory"))
        return parse_int(val, 1, 1 << 20, &o->memory_mib);
    if (!strcmp(key, "intervals"))
        return parse_int(val, 2, 100000, &o->intervals);
    if (!strcmp(key, "compute-ms")) {
        char *end;
        o->compute_ms = strtod(val, &end);
        return *end || !(o->compute_ms >= 0) || o->compute_ms > 1e7 ? -1 : 0;
    }
    if (!strcmp(key, "slab")) {
        int n;
        return parse_u64_list(val, &o->slab, &n) || n != 1 ? -1 : 0;
    }
    return 1;
}

static int parse_flag(bench_opts *o, const char *key)
{
    if (!strcmp(key, "json"))
        o->json = 1;
    else if (!strcmp(key, "aligned"))
        o->misaligned = 0;
    else if (!strcmp(key, "misaligned"))
        o->misaligned = 1;
    else if (!strcmp(key, "durable"))
        o->durable = 1;
    else if (!strcmp(key, "no-consolidate"))
        o->plain = 1;
    else if (!strcmp(key, "keep"))
        o->keep = 1;
    else if (!strcmp(key, "no-floor"))
        o->no_floor = 1;
    else
        return 1;
    return 0;
}

static int usage_error(const bench_ctx *c, const char *fmt, const char *arg)
{
    if (c->rank == 0) {
        fprintf(stderr, "%s: ", c->prog);
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\n");
        bench_usage(c);
    }
    return 2;
}

static int parse_option(bench_ctx *c, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    char key[64];
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (klen >= sizeof key)
        return usage_error(c, "unknown option %s", arg);
    memcpy(key, arg + 2, klen);
    key[klen] = 0;
    if (!eq && parse_flag(&c->o, key) == 0)
        return 0;
    const char *val = eq ? eq + 1 : NULL;
    if (!val) {
        if (*i + 1 >= argc)
            return usage_error(c, "option %s needs a value", arg);
        val = argv[++*i];
    }
    int r = parse_valued(&c->o, key, val);
    if (r > 0)
        return usage_error(c, "unknown option --%s", key);
    if (r < 0)
        return usage_error(c, "bad value for --%s", key);
    return 0;
}

int bench_parse(bench_ctx *c, int argc, char **argv)
{
    bench_opts *o = &c->o;
    o->reps = 3;
    o->format = 3;
    o->axis = -1;
    o->inner = 10;
    bench_parse_codec("none", &o->codec);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            bench_usage(c);
            return 2;
        }
        if (!strncmp(a, "--", 2)) {
            int r = parse_option(c, argc, argv, &i);
            if (r)
                return r;
        } else if (!o->pattern) {
            o->pattern = a;
        } else {
            return usage_error(c, "unexpected argument %s", a);
        }
    }
    if (!o->pattern)
        return usage_error(c, "missing PATTERN%s", "");
    if (o->ndim && o->chunk_ndim && o->ndim != o->chunk_ndim)
        return usage_error(c, "--shape and --chunks differ in rank%s", "");
    return 0;
}

/* ------------------------------------------------------------ scratch directory */

/* The file system type of `path`, as the report shows it. */
static const char *fs_name(const char *path)
{
    struct statfs sf;
    if (statfs(path, &sf) != 0)
        return "unknown";
    switch ((unsigned long)sf.f_type) {
    case 0xEF53UL:
        return "ext4";
    case 0x01021994UL:
        return "tmpfs";
    case 0x58465342UL:
        return "xfs";
    case 0x9123683EUL:
        return "btrfs";
    case 0x6969UL:
        return "nfs";
    case 0x0BD00BD0UL:
        return "lustre";
    default:
        return "other";
    }
}

int bench_dir_setup(bench_ctx *c)
{
    long pid = (long)getpid();
    MPI_Bcast(&pid, 1, MPI_LONG, 0, c->comm);
    if (c->o.dir)
        snprintf(c->dir, sizeof c->dir, "%s", c->o.dir);
    else
        snprintf(c->dir, sizeof c->dir, "/tmp/pzarr-bench-%ld", pid);
    int err = 0;
    if (c->rank == 0) {
        struct stat st;
        if (stat(c->dir, &st) != 0) {
            err = mkdir(c->dir, 0777) != 0 ? errno : 0;
            c->dir_created = !err;
        } else if (!S_ISDIR(st.st_mode)) {
            err = ENOTDIR;
        }
        if (err)
            fprintf(stderr, "%s: cannot use %s as scratch directory: %s\n", c->prog, c->dir,
                    strerror(err));
    }
    MPI_Bcast(&err, 1, MPI_INT, 0, c->comm);
    MPI_Bcast(&c->dir_created, 1, MPI_INT, 0, c->comm);
    if (!err)
        bench_metric_str(c, "scratch_fs", "%s", fs_name(c->dir));
    return err ? 1 : 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0)
        fprintf(stderr, "pzarr-bench: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void bench_remove(const bench_ctx *c, const char *path)
{
    MPI_Barrier(c->comm);
    if (c->rank == 0)
        rm_tree(path);
    MPI_Barrier(c->comm);
}

void bench_dir_cleanup(bench_ctx *c)
{
    MPI_Barrier(c->comm);
    if (c->rank == 0 && c->dir_created)
        rm_tree(c->dir);
    MPI_Barrier(c->comm);
}

void bench_path(const bench_ctx *c, char *out, const char *fmt, ...)
{
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int n = snprintf(out, BENCH_PATH_MAX, "%s/%s", c->dir, name);
    if (n < 0 || n >= BENCH_PATH_MAX)
        bench_die(c, "path too long: %s/%s", c->dir, name);
}

/* ------------------------------------------------------------ geometry */

uint64_t bench_box_elems(const bench_box *b)
{
    uint64_t n = 1;
    for (int i = 0; i < b->ndim; i++)
        n *= b->count[i];
    return n;
}

void bench_block(int ndim, const uint64_t *shape, const int *dims, const int *coords,
                 bench_box *out)
{
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        uint64_t lo = shape[i] * (uint64_t)coords[i] / (uint64_t)dims[i];
        uint64_t hi = shape[i] * (uint64_t)(coords[i] + 1) / (uint64_t)dims[i];
        out->start[i] = lo;
        out->count[i] = hi - lo;
    }
}

void bench_slab(int ndim, const uint64_t *shape, int axis, uint64_t t, uint64_t i,
                bench_box *out)
{
    out->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        out->start[d] = 0;
        out->count[d] = shape[d];
    }
    uint64_t lo = i * t < shape[axis] ? i * t : shape[axis];
    uint64_t hi = lo + t < shape[axis] ? lo + t : shape[axis];
    out->start[axis] = lo;
    out->count[axis] = hi - lo;
    if (hi == lo)
        for (int d = 0; d < ndim; d++)
            out->count[d] = 0;
}

/* ------------------------------------------------------------ geometry */

static void geom_defaults(const bench_ctx *c, bench_geom *g)
{
    const bench_opts *o = &c->o;
    g->ndim = o->ndim ? o->ndim : o->chunk_ndim ? o->chunk_ndim : 3;
    for (int i = 0; i < g->ndim; i++) {
        g->shape[i] = o->ndim ? o->shape[i] : 128;
        g->chunks[i] = o->chunk_ndim ? o->chunks[i] : o->misaligned ? 48 : 32;
    }
}

static int geom_aligned(const bench_geom *g)
{
    for (int i = 0; i < g->ndim; i++)
        for (int k = 1; k < g->dims[i]; k++) {
            uint64_t edge = g->shape[i] * (uint64_t)k / (uint64_t)g->dims[i];
            if (edge % g->chunks[i])
                return 0;
        }
    return 1;
}

void bench_geom_init(const bench_ctx *c, bench_geom *g)
{
    memset(g, 0, sizeof *g);
    geom_defaults(c, g);
    MPI_Dims_create(c->size, g->ndim, g->dims);
    int periods[BENCH_NDIM_MAX] = {0};
    MPI_Comm cart;
    MPI_Cart_create(c->comm, g->ndim, g->dims, periods, 0, &cart);
    MPI_Cart_coords(cart, c->rank, g->ndim, g->coords);
    MPI_Comm_free(&cart);
    bench_block(g->ndim, g->shape, g->dims, g->coords, &g->blk);
    g->aligned = geom_aligned(g);
    g->nchunks = 1;
    for (int i = 0; i < g->ndim; i++)
        g->nchunks *= (g->shape[i] + g->chunks[i] - 1) / g->chunks[i];
}

void bench_title(bench_ctx *c, const char *what, const bench_geom *g)
{
    char sh[128], ch[128], dm[64];
    uint64_t d[BENCH_NDIM_MAX];
    for (int i = 0; i < g->ndim; i++)
        d[i] = (uint64_t)g->dims[i];
    bench_fmt_dims(sh, sizeof sh, g->ndim, g->shape, 'x');
    bench_fmt_dims(ch, sizeof ch, g->ndim, g->chunks, 'x');
    bench_fmt_dims(dm, sizeof dm, g->ndim, d, 'x');
    double mib = 8.0;
    for (int i = 0; i < g->ndim; i++)
        mib *= (double)g->shape[i];
    char fmt[16] = "";
    if (c->o.format)
        snprintf(fmt, sizeof fmt, ", zarr v%d", c->o.format);
    snprintf(c->title, sizeof c->title,
             "%s %s: %d ranks, shape %s float64 (%.1f MiB), chunks %s (%" PRIu64
             " chunks), process grid %s (%s), codec %s, data %s%s, reps %d",
             c->prog, what, c->size, sh, mib / 1048576.0, ch, g->nchunks, dm,
             g->aligned ? "aligned" : "misaligned", c->o.codec.text,
             bench_data_name(c->o.data), fmt, c->o.reps);
    bench_metric_str(c, "shape", "%s", sh);
    bench_metric_str(c, "chunks", "%s", ch);
    bench_metric_str(c, "shard", "%s", c->o.shard ? c->o.shard : "-");
    bench_metric_str(c, "process_grid", "%s", dm);
    bench_metric_str(c, "aligned", "%s", g->aligned ? "yes" : "no");
    bench_metric_str(c, "layout", "%s", c->o.misaligned ? "misaligned" : "aligned");
    bench_metric_str(c, "durable", "%s", c->o.durable ? "yes" : "no");
    bench_metric_str(c, "consolidated", "%s", c->o.plain ? "no" : "yes");
    bench_metric_str(c, "codec", "%s", c->o.codec.text);
    bench_metric_str(c, "data", "%s", bench_data_name(c->o.data));
}

/* ------------------------------------------------------------ data */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Boxes are padded to 3-D with leading axes of extent 1. */
static void pad3(int ndim, const uint64_t *shape, const bench_box *b, uint64_t sh[3],
                 uint64_t st[3], uint64_t ct[3])
{
    int off = 3 - ndim;
    for (int i = 0; i < 3; i++) {
        sh[i] = i < off ? 1 : shape[i - off];
        st[i] = i < off ? 0 : b->start[i - off];
        ct[i] = i < off ? 1 : b->count[i - off];
    }
}

/* A smooth separable field: sin(x) cos(y) + sin(z)/2. */
static double smooth_axis(int axis, uint64_t i)
{
    static const double k[3] = {0.05, 0.07, 0.031};
    double x = k[axis] * (double)i;
    return axis == 0 ? sin(x + 0.3) : axis == 1 ? cos(x) : 0.5 * sin(x);
}

typedef struct gen {
    int data;
    uint64_t sh[3], st[3], ct[3];
    double *tab[3];
} gen;

static int gen_init(gen *g, int data, const uint64_t *shape, const bench_box *b)
{
    memset(g, 0, sizeof *g);
    g->data = data;
    pad3(b->ndim, shape, b, g->sh, g->st, g->ct);
    if (data != DATA_SMOOTH)
        return 0;
    for (int a = 0; a < 3; a++) {
        g->tab[a] = malloc((g->ct[a] ? g->ct[a] : 1) * sizeof(double));
        if (!g->tab[a])
            return -1;
        for (uint64_t i = 0; i < g->ct[a]; i++)
            g->tab[a][i] = smooth_axis(a, g->st[a] + i);
    }
    return 0;
}

static void gen_free(gen *g)
{
    for (int a = 0; a < 3; a++)
        free(g->tab[a]);
}

static void gen_row(const gen *g, uint64_t i, uint64_t j, double *out)
{
    uint64_t n = g->ct[2];
    if (g->data == DATA_ZEROS) {
        memset(out, 0, n * sizeof *out);
    } else if (g->data == DATA_RANDOM) {
        uint64_t lin = ((g->st[0] + i) * g->sh[1] + g->st[1] + j) * g->sh[2] + g->st[2];
        for (uint64_t k = 0; k < n; k++)
            out[k] = (double)(mix64(lin + k) >> 11) * 0x1.0p-53;
    } else {
        double xy = g->tab[0][i] * g->tab[1][j];
        for (uint64_t k = 0; k < n; k++)
            out[k] = xy + g->tab[2][k];
    }
}

void bench_fill(int data, const uint64_t *shape, const bench_box *b, double *buf)
{
    gen g;
    if (bench_box_elems(b) == 0)
        return;
    if (gen_init(&g, data, shape, b) != 0) {
        fprintf(stderr, "pzarr-bench: out of memory generating data\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (uint64_t i = 0; i < g.ct[0]; i++)
        for (uint64_t j = 0; j < g.ct[1]; j++)
            gen_row(&g, i, j, buf + (i * g.ct[1] + j) * g.ct[2]);
    gen_free(&g);
}

long bench_check(int data, const uint64_t *shape, const bench_box *b, const double *buf)
{
    gen g;
    if (bench_box_elems(b) == 0)
        return 0;
    double *row = malloc(b->count[b->ndim - 1] * sizeof *row);
    if (!row || gen_init(&g, data, shape, b) != 0) {
        fprintf(stderr, "pzarr-bench: out of memory checking data\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    long bad = 0;
    for (uint64_t i = 0; i < g.ct[0]; i++)
        for (uint64_t j = 0; j < g.ct[1]; j++) {
            gen_row(&g, i, j, row);
            const double *got = buf + (i * g.ct[1] + j) * g.ct[2];
            for (uint64_t k = 0; k < g.ct[2]; k++)
                bad += memcmp(&got[k], &row[k], sizeof *row) != 0;
        }
    gen_free(&g);
    free(row);
    return bad;
}

/* ------------------------------------------------------------ timing, memory */

double bench_max(MPI_Comm comm, double v)
{
    double r;
    MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_MAX, comm);
    return r;
}

double bench_min(MPI_Comm comm, double v)
{
    double r;
    MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_MIN, comm);
    return r;
}

double bench_sum(MPI_Comm comm, double v)
{
    double r;
    MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_SUM, comm);
    return r;
}

void bench_progress(const bench_ctx *c, const char *fmt, ...)
{
    if (!c->progress)
        return;
    char line[80];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r%-79s", line);
    fflush(stderr);
}

void bench_progress_done(const bench_ctx *c)
{
    if (c->progress) {
        fprintf(stderr, "\r%79s\r", "");
        fflush(stderr);
    }
}

int bench_peak_reset(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

double bench_rss_mib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    double v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtod(line + kl + 1, NULL) / 1024.0;
            break;
        }
    fclose(f);
    return v;
}

double bench_maxrss_mib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : -1;
}

/* ------------------------------------------------------------ report */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int bench_add_row(bench_ctx *c, const char *name, const double *t, int n, double bytes,
                  double items, int ref)
{
    if (c->nrows == BENCH_ROWS_MAX)
        bench_die(c, "too many report rows");
    double *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
    if (!s || n < 1)
        bench_die(c, "no timing samples for %s", name);
    memcpy(s, t, (size_t)n * sizeof *t);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    bench_row *r = &c->rows[c->nrows];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->best = s[0];
    r->median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    r->bytes = bytes;
    r->items = items;
    r->ref = ref;
    free(s);
    return c->nrows++;
}

static bench_metric *metric_new(bench_ctx *c, const char *key)
{
    if (c->nm == BENCH_METRICS_MAX)
        bench_die(c, "too many report metrics");
    bench_metric *m = &c->m[c->nm++];
    snprintf(m->key, sizeof m->key, "%s", key);
    return m;
}

void bench_metric_num(bench_ctx *c, const char *key, double v)
{
    bench_metric *m = metric_new(c, key);
    if (isfinite(v))
        snprintf(m->val, sizeof m->val, "%.6g", v);
    else
        snprintf(m->val, sizeof m->val, "null");
    m->numeric = 1;
}

void bench_metric_str(bench_ctx *c, const char *key, const char *fmt, ...)
{
    bench_metric *m = metric_new(c, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->val, sizeof m->val, fmt, ap);
    va_end(ap);
    m->numeric = 0;
}

/* Speed of row r relative to its reference row (> 1: faster). */
static double row_ratio(const bench_ctx *c, const bench_row *r)
{
    if (r->ref < 0 || r->best <= 0)
        return NAN;
    return c->rows[r->ref].best / r->best;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void json_num(double v)
{
    if (isfinite(v))
        printf("%.6g", v);
    else
        printf("null");
}

static void report_json_row(const bench_ctx *c, const bench_row *r)
{
    printf("{\"name\": ");
    json_str(r->name);
    printf(", \"best_s\": ");
    json_num(r->best);
    printf(", \"median_s\": ");
    json_num(r->median);
    printf(", \"bytes\": ");
    json_num(r->bytes);
    printf(", \"gbps\": ");
    json_num(r->bytes > 0 && r->best > 0 ? r->bytes / r->best / 1e9 : NAN);
    printf(", \"items\": ");
    json_num(r->items);
    printf(", \"items_per_s\": ");
    json_num(r->items > 0 && r->best > 0 ? r->items / r->best : NAN);
    printf(", \"ref\": ");
    if (r->ref >= 0)
        json_str(c->rows[r->ref].name);
    else
        printf("null");
    printf(", \"ratio\": ");
    json_num(row_ratio(c, r));
    printf("}");
}

static void report_json(const bench_ctx *c)
{
    printf("{\"tool\": ");
    json_str(c->prog);
    printf(", \"pattern\": ");
    json_str(c->o.pattern);
    printf(", \"ranks\": %d, \"title\": ", c->size);
    json_str(c->title);
    printf(", \"rows\": [");
    for (int i = 0; i < c->nrows; i++) {
        printf(i ? ",\n  " : "\n  ");
        report_json_row(c, &c->rows[i]);
    }
    printf("],\n \"metrics\": {");
    for (int i = 0; i < c->nm; i++) {
        printf(i ? ",\n  " : "\n  ");
        json_str(c->m[i].key);
        printf(": ");
        if (c->m[i].numeric)
            printf("%s", c->m[i].val);
        else
            json_str(c->m[i].val);
    }
    printf("}}\n");
}

static void report_table(const bench_ctx *c)
{
    printf("%s\n", c->title);
    printf("  %-46s %11s %11s %8s %10s  %s\n", "case", "best ms", "median ms", "GB/s",
           "items/s", "speed ratio");
    for (int i = 0; i < c->nrows; i++) {
        const bench_row *r = &c->rows[i];
        printf("  %-46s %11.3f %11.3f", r->name, r->best * 1e3, r->median * 1e3);
        if (r->bytes > 0 && r->best > 0)
            printf(" %8.3f", r->bytes / r->best / 1e9);
        else
            printf(" %8s", "-");
        if (r->items > 0 && r->best > 0)
            printf(" %10.0f", r->items / r->best);
        else
            printf(" %10s", "-");
        double q = row_ratio(c, r);
        if (isfinite(q))
            printf("  ratio %.2f vs %s", q, c->rows[r->ref].name);
        printf("\n");
    }
    for (int i = 0; i < c->nm; i++)
        printf("  %-46s %s\n", c->m[i].key, c->m[i].val);
}

void bench_report(const bench_ctx *c)
{
    if (c->rank != 0)
        return;
    if (c->o.json)
        report_json(c);
    else
        report_table(c);
    fflush(stdout);
}

void bench_die(const bench_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: rank %d: ", c->prog, c->rank);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    MPI_Abort(MPI_COMM_WORLD, 1);
    exit(1);
}

void bench_fmt_dims(char *out, size_t cap, int n, const uint64_t *v, char sep)
{
    char sepstr[2] = {sep, 0};
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf(out + used, cap - used, "%s%" PRIu64, i ? sepstr : "", v[i]);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
}
