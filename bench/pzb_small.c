/* The smallchunks and open patterns. */
#define _DEFAULT_SOURCE /* DT_DIR */
#include "pzb.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ smallchunks */

typedef struct small_case {
    uint64_t n, chunk, nchunks;
    char label[24];
} small_case;

static bench_ctx *self_ctx(const bench_ctx *c)
{
    bench_ctx *s = malloc(sizeof *s);
    if (!s)
        bench_die(c, "out of memory");
    *s = *c;
    s->comm = MPI_COMM_SELF;
    return s;
}

static void small_write(bench_ctx *c, const small_case *k, double *samples)
{
    char meta[2048], path[BENCH_PATH_MAX];
    pzb_meta(c, 1, &k->n, &k->chunk, meta, sizeof meta);
    bench_box b = {.ndim = 1};
    b.start[0] = k->n * (uint64_t)c->rank / (uint64_t)c->size;
    b.count[0] = k->n * (uint64_t)(c->rank + 1) / (uint64_t)c->size - b.start[0];
    double *buf = pzb_alloc(c, b.count[0]);
    bench_fill(c->o.data, &k->n, &b, buf);
    bench_path(c, path, "small.zarr");
    pzb_times t;
    pzarr_stats st;
    pzb_write(c, path, meta, NULL, &b, buf, &t, &st);
    samples[0] = bench_max(c->comm, t.total);
    bench_path(c, path, "small.raw");
    samples[1] = bench_max(c->comm, bench_raw_once(c, path, 1, 1, &k->n, &b, buf));
    free(buf);
}

enum small_kind { SM_PZ_ONE, SM_PZ_EACH, SM_PZ_ALL, SM_RAW_ONE, SM_RAW_EACH, SM_KINDS };

static const char *const small_names[SM_KINDS] = {
    "pzarr open+read, 1 rank",     "pzarr open+read, every rank", "pzarr read_all, every rank",
    "raw MPI-IO read, 1 rank",     "raw MPI-IO read, every rank"};

/* Open, read the whole array, close; on `cx`'s communicator. */
static double small_read(bench_ctx *cx, const small_case *k, int kind, double *buf)
{
    char path[BENCH_PATH_MAX];
    bench_box whole = {.ndim = 1, .start = {0}, .count = {k->n}};
    if (kind == SM_RAW_ONE || kind == SM_RAW_EACH) {
        bench_path(cx, path, "small.raw");
        return bench_raw_once(cx, path, 0, 1, &k->n, &whole, buf);
    }
    bench_path(cx, path, "small.zarr");
    pzarr_store *s;
    pzarr_array *a;
    MPI_Barrier(cx->comm);
    double t0 = MPI_Wtime();
    pzb_open(cx, path, &s, &a);
    pzb_read(cx, a, &whole, buf, kind == SM_PZ_ALL);
    pzb_close(cx, s, a);
    return MPI_Wtime() - t0;
}

static double small_sample(bench_ctx *c, bench_ctx *self, const small_case *k, int kind,
                           double *buf, int verify)
{
    double t = 0;
    int one = kind == SM_PZ_ONE || kind == SM_RAW_ONE;
    if (one) {
        pzb_idle_barrier(c);
        if (c->rank == 0)
            t = small_read(self, k, kind, buf);
        pzb_idle_barrier(c);
        MPI_Bcast(&t, 1, MPI_DOUBLE, 0, c->comm);
    } else {
        t = bench_max(c->comm, small_read(c, k, kind, buf));
    }
    if (verify) {
        bench_box whole = {.ndim = 1, .start = {0}, .count = {k->n}};
        long bad = !one || c->rank == 0 ? bench_check(c->o.data, &k->n, &whole, buf) : 0;
        char key[96];
        snprintf(key, sizeof key, "verify %s: %s", k->label, small_names[kind]);
        pzb_verify(c, key, bad);
    }
    return t;
}

/* The chunk files of the array (every file but the metadata), listed once. */
static void list_files(const char *dir, char ***v, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, "zarr.json"))
            continue;
        char p[BENCH_PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (de->d_type == DT_DIR) {
            list_files(p, v, n, cap);
            continue;
        }
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 1024;
            *v = realloc(*v, *cap * sizeof **v);
        }
        (*v)[(*n)++] = strdup(p);
    }
    if (d)
        closedir(d);
}

/* The floor of a small-file read here: a plain loop of open + pread + close
 * over the same chunk files, rank 0 alone. One pass (seconds), timed in the
 * same loop as pzarr's samples so that both meet the same machine. */
typedef struct small_files {
    char **v;
    size_t n, cap, bufsz;
    char *buf;
} small_files;

static double small_floor_pass(bench_ctx *c, const small_files *f)
{
    double t0 = MPI_Wtime();
    for (size_t i = 0; i < f->n; i++) {
        int fd = open(f->v[i], O_RDONLY);
        if (fd >= 0) {
            if (pread(fd, f->buf, f->bufsz, 0) < 0)
                bench_die(c, "pread failed");
            close(fd);
        }
    }
    return MPI_Wtime() - t0;
}

static void small_run(bench_ctx *c, const small_case *k)
{
    double w[2];
    bench_progress(c, "smallchunks %s: writing", k->label);
    small_write(c, k, w);
    char name[96];
    double bytes = (double)k->n * 8;
    snprintf(name, sizeof name, "%s: raw MPI-IO write", k->label);
    int wref = bench_add_row(c, name, &w[1], 1, bytes, 0, -1);
    snprintf(name, sizeof name, "%s: pzarr write+flush", k->label);
    bench_add_row(c, name, &w[0], 1, bytes, (double)k->nchunks, wref);

    bench_ctx *self = self_ctx(c);
    double *buf = pzb_alloc(c, k->n);
    double *t = calloc((size_t)c->o.reps * SM_KINDS, sizeof *t);
    if (!t)
        bench_die(c, "out of memory");
    small_files files = {.bufsz = (size_t)k->chunk * 8 + 4096};
    if (c->rank == 0) {
        char dir[BENCH_PATH_MAX];
        bench_path(c, dir, "small.zarr/a");
        list_files(dir, &files.v, &files.n, &files.cap);
        files.buf = malloc(files.bufsz);
        if (!files.buf)
            bench_die(c, "out of memory");
    }
    double floor_s = 0;
    for (int rep = 0; rep < c->o.reps; rep++) {
        for (int kind = 0; kind < SM_KINDS; kind++) {
            bench_progress(c, "smallchunks %s: sample %d/%d: %s", k->label, rep + 1, c->o.reps,
                           small_names[kind]);
            t[kind * c->o.reps + rep] = small_sample(c, self, k, kind, buf, rep == 0);
        }
        if (c->rank == 0) {
            double f = small_floor_pass(c, &files);
            floor_s = rep == 0 || f < floor_s ? f : floor_s;
        }
    }
    bench_progress_done(c);
    MPI_Bcast(&floor_s, 1, MPI_DOUBLE, 0, c->comm);
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    free(files.v);
    free(files.buf);
    snprintf(name, sizeof name, "%s: floor: open+pread+close loop, 1 rank", k->label);
    bench_add_row(c, name, &floor_s, 1, bytes, (double)k->nchunks, -1);
    double best_one = t[SM_PZ_ONE * c->o.reps];
    for (int rep = 1; rep < c->o.reps; rep++)
        if (t[SM_PZ_ONE * c->o.reps + rep] < best_one)
            best_one = t[SM_PZ_ONE * c->o.reps + rep];
    snprintf(name, sizeof name, "%s pzarr 1 rank / floor", k->label);
    bench_metric_num(c, name, floor_s > 0 ? best_one / floor_s : 0);
    int ref[SM_KINDS] = {SM_RAW_ONE, SM_RAW_EACH, SM_RAW_EACH, -1, -1};
    int row[SM_KINDS];
    for (int kind = SM_RAW_ONE; kind < SM_KINDS; kind++) {
        snprintf(name, sizeof name, "%s: %s", k->label, small_names[kind]);
        row[kind] = bench_add_row(c, name, t + kind * c->o.reps, c->o.reps, bytes, 0, -1);
    }
    for (int kind = 0; kind < SM_RAW_ONE; kind++) {
        snprintf(name, sizeof name, "%s: %s", k->label, small_names[kind]);
        bench_add_row(c, name, t + kind * c->o.reps, c->o.reps, bytes, (double)k->nchunks,
                      row[ref[kind]]);
    }
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "small.zarr");
    bench_remove(c, path);
    bench_path(c, path, "small.raw");
    bench_remove(c, path);
    free(t);
    free(buf);
    free(self);
}

static int small_cases(const bench_ctx *c, small_case *k)
{
    const bench_opts *o = &c->o;
    int n = 0;
    if (o->ndim == 1 && o->chunk_ndim == 1) {
        k[n++] = (small_case){.n = o->shape[0], .chunk = o->chunks[0]};
    } else if (o->ndim || o->chunk_ndim) {
        bench_die(c, "smallchunks: give both --shape N and --chunks C (1-D), or neither");
    } else {
        k[n++] = (small_case){.n = 6443, .chunk = 5};
        k[n++] = (small_case){.n = 1000000, .chunk = 100};
    }
    for (int i = 0; i < n; i++) {
        k[i].nchunks = (k[i].n + k[i].chunk - 1) / k[i].chunk;
        snprintf(k[i].label, sizeof k[i].label, "%llu/%llu", (unsigned long long)k[i].n,
                 (unsigned long long)k[i].chunk);
    }
    return n;
}

int pzb_smallchunks(bench_ctx *c)
{
    small_case k[2];
    int n = small_cases(c, k);
    snprintf(c->title, sizeof c->title,
             "pzarr-bench smallchunks: %d ranks, 1-D float64, shape/chunk %s%s%s, codec %s, "
             "data %s, zarr v%d, reps %d (items/s = chunks per second per reader)",
             c->size, k[0].label, n > 1 ? " and " : "", n > 1 ? k[1].label : "",
             c->o.codec.text, bench_data_name(c->o.data), c->o.format, c->o.reps);
    bench_metric_str(c, "codec", "%s", c->o.codec.text);
    for (int i = 0; i < n; i++) {
        char key[64];
        snprintf(key, sizeof key, "chunks %s", k[i].label);
        bench_metric_num(c, key, (double)k[i].nchunks);
        small_run(c, &k[i]);
    }
    return c->failures != 0;
}

/* ------------------------------------------------------------ open */

static void open_create(bench_ctx *c, const bench_geom *g)
{
    char meta[2048], path[BENCH_PATH_MAX];
    pzb_meta(c, g->ndim, g->shape, g->chunks, meta, sizeof meta);
    bench_path(c, path, "open.zarr");
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    pzb_check_store(c, pzarr_open(c->comm, path, pzb_create_flags(c), &s), s, path);
    pzb_check_store(c, pzarr_array_create(s, "a", meta, &a), s, "pzarr_array_create");
    pzb_close(c, s, a);
    MPI_File fh;
    bench_path(c, path, "open.raw");
    bench_raw_open(c, path, 1, &fh);
    bench_raw_close(c, &fh);
}

/* `inner` opens of the store and the array; seconds per open, max over ranks. */
static double open_pz(bench_ctx *c, pzarr_stats *st)
{
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "open.zarr");
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    for (int i = 0; i < c->o.inner; i++) {
        pzarr_store *s;
        pzarr_array *a;
        pzb_open(c, path, &s, &a);
        pzb_check_store(c, pzarr_get_stats(s, st), s, "pzarr_get_stats");
        pzb_close(c, s, a);
    }
    return bench_max(c->comm, (MPI_Wtime() - t0) / c->o.inner);
}

static double open_raw(bench_ctx *c)
{
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "open.raw");
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    for (int i = 0; i < c->o.inner; i++) {
        MPI_File fh;
        bench_raw_open(c, path, 0, &fh);
        bench_raw_close(c, &fh);
    }
    return bench_max(c->comm, (MPI_Wtime() - t0) / c->o.inner);
}

static void open_metrics(bench_ctx *c, const pzarr_stats *st)
{
    double mine = (double)st->meta_reads, others = c->rank ? mine : 0;
    double r0 = mine;
    MPI_Bcast(&r0, 1, MPI_DOUBLE, 0, c->comm);
    bench_metric_num(c, "meta_reads_rank0", r0);
    bench_metric_num(c, "meta_reads_other_ranks_max", bench_max(c->comm, others));
    bench_metric_num(c, "meta_reads_total", bench_sum(c->comm, mine));
    bench_metric_num(c, "chunk_reads_total", bench_sum(c->comm, (double)st->chunk_reads));
    bench_metric_num(c, "opens_per_sample", c->o.inner);
}

/* A dataset of DS_VARS arrays, with consolidated metadata (pzarr's default
 * for a store it creates) or without: rank 0's metadata reads and the time
 * to open the store and every array. */
enum { DS_VARS = 16 };

static void dataset_create(bench_ctx *c, const bench_geom *g, bool consolidated)
{
    char meta[2048], path[BENCH_PATH_MAX], name[32];
    pzb_meta(c, g->ndim, g->shape, g->chunks, meta, sizeof meta);
    bench_path(c, path, consolidated ? "ds-consolidated.zarr" : "ds-plain.zarr");
    pzarr_store *s = NULL;
    pzb_check_store(c, pzarr_open(c->comm, path, pzb_create_flags(c) |
                                  (consolidated ? 0 : PZARR_NO_CONSOLIDATE), &s), s, path);
    for (int i = 0; i < DS_VARS; i++) {
        pzarr_array *a = NULL;
        snprintf(name, sizeof name, "var%02d", i);
        pzb_check_store(c, pzarr_array_create(s, name, meta, &a), s, "pzarr_array_create");
        pzb_check_store(c, pzarr_array_close(a), s, "pzarr_array_close");
    }
    pzb_check_store(c, pzarr_close(s), NULL, "pzarr_close");
}

/* Seconds for one open of the store and its DS_VARS arrays (max over
 * ranks); *reads gets rank 0's metadata reads. */
static double dataset_open(bench_ctx *c, bool consolidated, double *reads)
{
    char path[BENCH_PATH_MAX], name[32];
    bench_path(c, path, consolidated ? "ds-consolidated.zarr" : "ds-plain.zarr");
    MPI_Barrier(c->comm);
    double t0 = MPI_Wtime();
    pzarr_store *s = NULL;
    pzarr_array *a[DS_VARS];
    pzb_check_store(c, pzarr_open(c->comm, path,
                                  PZARR_RDONLY | (c->o.format == 2 ? PZARR_FORMAT_V2 : 0), &s),
                    s, path);
    for (int i = 0; i < DS_VARS; i++) {
        snprintf(name, sizeof name, "var%02d", i);
        pzb_check_store(c, pzarr_array_open(s, name, &a[i]), s, "pzarr_array_open");
    }
    pzarr_stats st;
    pzb_check_store(c, pzarr_get_stats(s, &st), s, "pzarr_get_stats");
    for (int i = 0; i < DS_VARS; i++)
        pzb_check_store(c, pzarr_array_close(a[i]), s, "pzarr_array_close");
    pzb_check_store(c, pzarr_close(s), NULL, "pzarr_close");
    double t = bench_max(c->comm, MPI_Wtime() - t0);
    *reads = (double)st.meta_reads;
    MPI_Bcast(reads, 1, MPI_DOUBLE, 0, c->comm);
    return t;
}

static void dataset_rows(bench_ctx *c, const bench_geom *g)
{
    double t[2][64], reads[2] = {0, 0};
    int reps = c->o.reps < 64 ? c->o.reps : 64;
    for (int k = 0; k < 2; k++) {
        dataset_create(c, g, k == 0);
        for (int rep = 0; rep < reps; rep++)
            t[k][rep] = dataset_open(c, k == 0, &reads[k]);
    }
    int ref = bench_add_row(c, "dataset of 16 arrays, no consolidated metadata: open all", t[1],
                            reps, 0, 0, -1);
    bench_add_row(c, "dataset of 16 arrays, consolidated metadata: open all", t[0], reps, 0, 0,
                  ref);
    /* Reads on rank 0: with consolidated metadata the one document (the
     * root's zarr.json), and no look for a commit record, since the document
     * lists the arrays that may hold one; without it each array's
     * zarr.json and a look for its record. */
    bench_metric_num(c, "dataset16_meta_reads_rank0_consolidated", reads[0]);
    bench_metric_num(c, "dataset16_meta_reads_rank0_plain", reads[1]);
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "ds-consolidated.zarr");
    bench_remove(c, path);
    bench_path(c, path, "ds-plain.zarr");
    bench_remove(c, path);
}

int pzb_open_pattern(bench_ctx *c)
{
    bench_geom g;
    bench_geom_init(c, &g);
    bench_title(c, "open", &g);
    open_create(c, &g);
    double *t = calloc((size_t)c->o.reps * 2, sizeof *t);
    if (!t)
        bench_die(c, "out of memory");
    pzarr_stats st;
    for (int rep = 0; rep < c->o.reps; rep++) {
        bench_progress(c, "open: sample %d/%d", rep + 1, c->o.reps);
        t[rep] = open_pz(c, &st);
        t[c->o.reps + rep] = open_raw(c);
    }
    bench_progress_done(c);
    int ref = bench_add_row(c, "raw MPI_File_open+close (per open)", t + c->o.reps, c->o.reps,
                            0, 0, -1);
    bench_add_row(c, "pzarr open store+array+close (per open)", t, c->o.reps, 0, 0, ref);
    open_metrics(c, &st);
    dataset_rows(c, &g);
    char path[BENCH_PATH_MAX];
    bench_path(c, path, "open.zarr");
    bench_remove(c, path);
    bench_path(c, path, "open.raw");
    bench_remove(c, path);
    free(t);
    return 0;
}
