/*
 * 02_checkpoint: a 3-D heat-diffusion stencil that appends a checkpoint to a
 * growing array every few steps, and restarts from the last complete one,
 * possibly on a different number of ranks.
 *
 *   mpiexec -n 3 build/bin/02_checkpoint /tmp/heat.zarr --steps 10 --every 5
 *   mpiexec -n 2 build/bin/02_checkpoint /tmp/heat.zarr --steps 20 --restart
 *   mpiexec -n 2 build/bin/02_checkpoint /tmp/heat.zarr --steps 20 --async
 *
 * --async: each checkpoint is started with pzarr_array_iflush and the
 * simulation computes on while background threads encode and write it; it
 * is waited for (pzarr_wait) at the next checkpoint, or at the end, and only
 * then listed in "steps". The store is opened with PZARR_ASYNC, so writing
 * the slice is a copy. The files are the same as without --async.
 *
 * The array "heat" is [t, z, y, x] float64, created with shape [0, n, n, n]
 * and chunks [1, cz, cy, cx] that match the process grid. Each checkpoint
 * grows it by one time slice (pzarr_array_resize), every rank writes its own
 * subdomain (pzarr_array_write) and pzarr_array_flush makes the slice
 * durable. Only then is its step appended to the attribute "steps": a
 * checkpoint is complete once listed there, so a crash in between leaves a
 * slice that the restart simply overwrites.
 *
 * The update of each point reads its six neighbours in a fixed order, so the
 * result does not depend on the decomposition: a run restarted on any number
 * of ranks ends with the same bits as an uninterrupted one. The checksum
 * printed at the end is computed by rank 0 from the stored final slice.
 */
#include <pzarr.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call, msg)                                                        \
    do {                                                                        \
        int rc_ = (call);                                                       \
        if (rc_ != 0) {                                                         \
            fprintf(stderr, "02_checkpoint: %s: %s\n", pzarr_strerror(rc_), msg); \
            MPI_Abort(MPI_COMM_WORLD, 1);                                       \
        }                                                                       \
    } while (0)

#define ALPHA 0.125 /* diffusion number: stable below 1/6 */
#define ARRAY "heat"

typedef struct options {
    const char *path;
    long n, steps, every;
    int restart, async;
} options;

/* One rank's block of the grid, with a ghost layer on every side. */
typedef struct heat {
    MPI_Comm cart;
    int rank, size, dims[3];
    long n;
    uint64_t lo[3], cnt[3];     /* owned box, global coordinates */
    size_t ext[3], stride[3];   /* extents and strides with ghosts */
    int nbr[3][2];              /* lower and upper neighbour per axis */
    MPI_Datatype face[3];       /* one ghost-layer plane per axis */
    double *u, *v;              /* current and next field */
    double *box;                /* owned box without ghosts, for I/O */
} heat;

static int parse_long(const char *s, long min, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){.path = NULL, .n = 32, .steps = 20, .every = 5, .restart = 0, .async = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int bad = 0;
        if (strcmp(a, "--restart") == 0)
            o->restart = 1;
        else if (strcmp(a, "--async") == 0)
            o->async = 1;
        else if (strcmp(a, "--n") == 0 && i + 1 < argc)
            bad = parse_long(argv[++i], 3, &o->n);
        else if (strcmp(a, "--steps") == 0 && i + 1 < argc)
            bad = parse_long(argv[++i], 0, &o->steps);
        else if (strcmp(a, "--every") == 0 && i + 1 < argc)
            bad = parse_long(argv[++i], 1, &o->every);
        else if (a[0] != '-' && !o->path)
            o->path = a;
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "02_checkpoint: bad argument \"%s\"\n", a);
            return -1;
        }
    }
    return o->path && o->n <= 100000 ? 0 : -1;
}

/*
 * Axis split of n points with chunk size `chunk` over p ranks: whole chunks
 * per rank when there are enough (the ownership pzarr's block policy gives),
 * else an even split of points.
 */
static void split(long n, uint64_t chunk, int p, int c, uint64_t *lo, uint64_t *cnt)
{
    uint64_t un = (uint64_t)n, g = (un + chunk - 1) / chunk;
    uint64_t a, b;
    if (g >= (uint64_t)p) {
        a = g * (uint64_t)c / (uint64_t)p * chunk;
        b = g * (uint64_t)(c + 1) / (uint64_t)p * chunk;
    } else {
        a = un * (uint64_t)c / (uint64_t)p;
        b = un * (uint64_t)(c + 1) / (uint64_t)p;
    }
    *lo = a;
    *cnt = (b < un ? b : un) - a;
}

/* Cartesian grid, own box, neighbours and halo types. `chunk` may be NULL:
 * then the chunks follow the process grid. */
static int heat_init(heat *h, long n, const uint64_t *chunk)
{
    memset(h, 0, sizeof *h);
    h->n = n;
    MPI_Comm_size(MPI_COMM_WORLD, &h->size);
    MPI_Dims_create(h->size, 3, h->dims);
    int periods[3] = {0, 0, 0}, coords[3];
    MPI_Cart_create(MPI_COMM_WORLD, 3, h->dims, periods, 0, &h->cart);
    MPI_Comm_rank(h->cart, &h->rank);
    MPI_Cart_coords(h->cart, h->rank, 3, coords);
    for (int d = 0; d < 3; d++) {
        if (n < h->dims[d])
            return -1; /* every rank needs at least one plane */
        uint64_t c = chunk ? chunk[d] : ((uint64_t)n + (uint64_t)h->dims[d] - 1) / (uint64_t)h->dims[d];
        split(n, c, h->dims[d], coords[d], &h->lo[d], &h->cnt[d]);
        h->ext[d] = (size_t)h->cnt[d] + 2;
        MPI_Cart_shift(h->cart, d, 1, &h->nbr[d][0], &h->nbr[d][1]);
    }
    h->stride[2] = 1;
    h->stride[1] = h->ext[2];
    h->stride[0] = h->ext[1] * h->ext[2];
    for (int d = 0; d < 3; d++) {
        int sizes[3], sub[3], starts[3];
        for (int k = 0; k < 3; k++) {
            sizes[k] = (int)h->ext[k];
            sub[k] = k == d ? 1 : (int)h->cnt[k];
            starts[k] = k == d ? 0 : 1;
        }
        MPI_Type_create_subarray(3, sizes, sub, starts, MPI_ORDER_C, MPI_DOUBLE, &h->face[d]);
        MPI_Type_commit(&h->face[d]);
    }
    size_t all = h->ext[0] * h->ext[1] * h->ext[2];
    h->u = calloc(all, sizeof *h->u);
    h->v = calloc(all, sizeof *h->v);
    h->box = malloc((size_t)(h->cnt[0] * h->cnt[1] * h->cnt[2]) * sizeof *h->box + 1);
    return h->u && h->v && h->box ? 0 : -1;
}

static void heat_free(heat *h)
{
    for (int d = 0; d < 3; d++)
        MPI_Type_free(&h->face[d]);
    MPI_Comm_free(&h->cart);
    free(h->u);
    free(h->v);
    free(h->box);
}

/* Local index of global point (z, y, x) inside the ghosted block. */
static size_t at(const heat *h, uint64_t z, uint64_t y, uint64_t x)
{
    return (size_t)(z - h->lo[0] + 1) * h->stride[0] + (size_t)(y - h->lo[1] + 1) * h->stride[1] +
           (size_t)(x - h->lo[2] + 1);
}

/* A hot plate at z = 0 (held fixed like every boundary point) and a hot
 * ball in the middle. */
static double initial(long n, uint64_t z, uint64_t y, uint64_t x)
{
    if (z == 0)
        return 1.0;
    long r = n / 4, dz = (long)z - n / 2, dy = (long)y - n / 2, dx = (long)x - n / 2;
    return dz * dz + dy * dy + dx * dx < r * r ? 2.0 : 0.0;
}

/* Copies the owned box between the ghosted field and h->box. */
static void box_copy(heat *h, int to_box)
{
    size_t k = 0;
    for (uint64_t z = h->lo[0]; z < h->lo[0] + h->cnt[0]; z++)
        for (uint64_t y = h->lo[1]; y < h->lo[1] + h->cnt[1]; y++) {
            double *row = h->u + at(h, z, y, h->lo[2]);
            size_t bytes = (size_t)h->cnt[2] * sizeof(double);
            if (to_box)
                memcpy(h->box + k, row, bytes);
            else {
                memcpy(row, h->box + k, bytes);
                memcpy(h->v + (row - h->u), row, bytes); /* fixed boundary */
            }
            k += (size_t)h->cnt[2];
        }
}

static void heat_set_initial(heat *h)
{
    size_t k = 0;
    for (uint64_t z = h->lo[0]; z < h->lo[0] + h->cnt[0]; z++)
        for (uint64_t y = h->lo[1]; y < h->lo[1] + h->cnt[1]; y++)
            for (uint64_t x = h->lo[2]; x < h->lo[2] + h->cnt[2]; x++)
                h->box[k++] = initial(h->n, z, y, x);
    box_copy(h, 0);
}

/* Fills the ghost planes from the neighbours, one axis at a time. */
static void halo_exchange(heat *h)
{
    for (int d = 0; d < 3; d++) {
        size_t s = h->stride[d], last = (size_t)h->cnt[d];
        MPI_Sendrecv(h->u + 1 * s, 1, h->face[d], h->nbr[d][0], 0,
                     h->u + (last + 1) * s, 1, h->face[d], h->nbr[d][1], 0,
                     h->cart, MPI_STATUS_IGNORE);
        MPI_Sendrecv(h->u + last * s, 1, h->face[d], h->nbr[d][1], 1,
                     h->u + 0 * s, 1, h->face[d], h->nbr[d][0], 1,
                     h->cart, MPI_STATUS_IGNORE);
    }
}

/* Interior range of axis d in global coordinates: boundary points stay. */
static void interior(const heat *h, int d, uint64_t *a, uint64_t *b)
{
    *a = h->lo[d] > 0 ? h->lo[d] : 1;
    uint64_t end = h->lo[d] + h->cnt[d], top = (uint64_t)h->n - 1;
    *b = end < top ? end : top;
}

/* One explicit step of du/dt = laplace(u), then u and v swap. */
static void heat_step(heat *h)
{
    halo_exchange(h);
    uint64_t a[3], b[3];
    for (int d = 0; d < 3; d++)
        interior(h, d, &a[d], &b[d]);
    size_t sz = h->stride[0], sy = h->stride[1];
    for (uint64_t z = a[0]; z < b[0]; z++)
        for (uint64_t y = a[1]; y < b[1]; y++) {
            size_t i0 = at(h, z, y, a[2]);
            const double *u = h->u;
            for (uint64_t x = a[2]; x < b[2]; x++) {
                size_t i = i0 + (size_t)(x - a[2]);
                double lap = u[i - sz] + u[i + sz] + u[i - sy] + u[i + sy] + u[i - 1] +
                             u[i + 1] - 6.0 * u[i];
                h->v[i] = u[i] + ALPHA * lap;
            }
        }
    double *t = h->u;
    h->u = h->v;
    h->v = t;
}

/* The completed checkpoints: their steps, as listed in the attributes. */
typedef struct steps {
    long *step;
    size_t count, cap;
} steps;

static void steps_push(steps *s, long step)
{
    if (s->count == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->step = realloc(s->step, s->cap * sizeof *s->step);
        if (!s->step)
            MPI_Abort(MPI_COMM_WORLD, 1);
    }
    s->step[s->count++] = step;
}

/* Reads "steps": [a, b, ...] from the attributes text; absent means none. */
static int steps_parse(const char *json, steps *s)
{
    const char *p = strstr(json, "\"steps\"");
    if (!p)
        return 0;
    p = strchr(p, '[');
    if (!p)
        return -1;
    for (p++;;) {
        while (*p == ' ' || *p == ',' || *p == '\n')
            p++;
        if (*p == ']')
            return 0;
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            return -1;
        steps_push(s, v);
        p = end;
    }
}

/* {"steps": [...]}: merged into the attributes (the others stay). */
static char *steps_json(const steps *s)
{
    size_t cap = 32 + 24 * s->count, off = 0;
    char *j = malloc(cap);
    if (!j)
        MPI_Abort(MPI_COMM_WORLD, 1);
    off += (size_t)snprintf(j + off, cap - off, "{\"steps\": [");
    for (size_t i = 0; i < s->count; i++)
        off += (size_t)snprintf(j + off, cap - off, "%s%ld", i ? ", " : "", s->step[i]);
    snprintf(j + off, cap - off, "]}");
    return j;
}

/* A checkpoint in the background (--async), and its step. */
static pzarr_request pending;
static long pending_step;

/* Lists a published slice in "steps": it is complete from then on. */
static void record(pzarr_store *st, const heat *h, steps *s, long step)
{
    uint64_t t = s->count;
    steps_push(s, step);
    char *j = steps_json(s);
    CHECK(pzarr_attrs_update(st, ARRAY, j), pzarr_errmsg(st));
    free(j);
    if (h->rank == 0)
        printf("checkpoint t=%" PRIu64 " at step %ld\n", t, step);
}

/* Waits for the checkpoint in the background, if any, and lists it. */
static void settle(pzarr_store *st, pzarr_array *a, const heat *h, steps *s)
{
    if (!pending)
        return;
    CHECK(pzarr_wait(&pending), pzarr_array_errmsg(a));
    record(st, h, s, pending_step);
}

/* Appends time slice s->count holding the current field. */
static void checkpoint(pzarr_store *st, pzarr_array *a, heat *h, steps *s, long step, int async)
{
    settle(st, a, h, s);
    uint64_t n = (uint64_t)h->n, t = s->count;
    uint64_t shape[4] = {t + 1, n, n, n};
    CHECK(pzarr_array_resize(a, shape), pzarr_array_errmsg(a));
    box_copy(h, 1);
    uint64_t start[4] = {t, h->lo[0], h->lo[1], h->lo[2]};
    uint64_t count[4] = {1, h->cnt[0], h->cnt[1], h->cnt[2]};
    CHECK(pzarr_array_write(a, start, count, h->box), pzarr_array_errmsg(a));
    if (async) { /* the resize and the slice go out together, in the background */
        CHECK(pzarr_array_iflush(a, &pending), pzarr_array_errmsg(a));
        pending_step = step;
        return;
    }
    CHECK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    record(st, h, s, step);
}

static pzarr_array *create_array(pzarr_store *st, long n, const int *dims)
{
    pzarr_spec spec = {.dtype = PZARR_FLOAT64, .ndim = 4, .codec = "zstd:1",
                       .attributes = "{\"steps\": []}", .dims = {"t", "z", "y", "x"}};
    spec.shape[0] = 0; /* grows by one slice per checkpoint */
    spec.chunks[0] = 1;
    for (int d = 0; d < 3; d++) {
        spec.shape[d + 1] = (uint64_t)n;
        spec.chunks[d + 1] = (uint64_t)((n + dims[d] - 1) / dims[d]); /* one per rank */
    }
    pzarr_array *a;
    CHECK(pzarr_array_create_spec(st, ARRAY, &spec, &a), pzarr_errmsg(st));
    return a;
}

/* Restart: the shape comes from the array, the field from the last slice
 * listed in "steps" (if none, from the initial condition). */
static pzarr_array *open_array(pzarr_store *st, heat *h, steps *s)
{
    pzarr_array *a;
    CHECK(pzarr_array_open(st, ARRAY, &a), pzarr_errmsg(st));
    pzarr_array_info info;
    CHECK(pzarr_array_get_info(a, &info), "info");
    if (info.ndim != 4 || info.dtype != PZARR_FLOAT64 || info.shape[1] != info.shape[2] ||
        info.shape[1] != info.shape[3] || info.shape[1] < 3 || info.shape[1] > 100000)
        CHECK(PZARR_EMETA, "\"" ARRAY "\" is not a [t, n, n, n] float64 array");
    char *attrs;
    CHECK(pzarr_attrs_get(st, ARRAY, &attrs), pzarr_errmsg(st));
    if (steps_parse(attrs, s) != 0 || s->count > info.shape[0])
        CHECK(PZARR_EMETA, "attribute \"steps\" does not match the array");
    pzarr_free(attrs);
    if (heat_init(h, (long)info.shape[1], info.chunks + 1) != 0)
        CHECK(PZARR_EINVAL, "grid too small for this many ranks, or out of memory");
    if (s->count == 0) {
        heat_set_initial(h);
        return a;
    }
    uint64_t start[4] = {s->count - 1, h->lo[0], h->lo[1], h->lo[2]};
    uint64_t count[4] = {1, h->cnt[0], h->cnt[1], h->cnt[2]};
    CHECK(pzarr_array_read_all(a, start, count, h->box), pzarr_array_errmsg(a));
    box_copy(h, 0);
    return a;
}

/* Rank 0 reads the stored slice t plane by plane, in global order. */
static void print_checksum(pzarr_array *a, const heat *h, uint64_t t, long step)
{
    if (h->rank != 0)
        return;
    uint64_t n = (uint64_t)h->n;
    double *plane = malloc((size_t)(n * n) * sizeof *plane);
    double sum = 0.0;
    uint64_t fnv = 14695981039346656037u;
    for (uint64_t z = 0; plane && z < n; z++) {
        uint64_t start[4] = {t, z, 0, 0}, count[4] = {1, 1, n, n};
        CHECK(pzarr_array_read(a, start, count, plane), pzarr_array_errmsg(a));
        const unsigned char *b = (const unsigned char *)plane;
        for (size_t i = 0; i < (size_t)(n * n); i++)
            sum += plane[i];
        for (size_t i = 0; i < (size_t)(n * n) * sizeof *plane; i++)
            fnv = (fnv ^ b[i]) * 1099511628211u;
    }
    if (!plane)
        MPI_Abort(MPI_COMM_WORLD, 1);
    printf("checksum: step %ld sum %.17g fnv1a %016" PRIx64 "\n", step, sum, fnv);
    free(plane);
}

int main(int argc, char **argv)
{
    /* FUNNELED: pzarr's background threads (--async) make no MPI calls */
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    int wrank;
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    options o;
    if (parse_options(argc, argv, &o) != 0) {
        if (wrank == 0)
            fprintf(stderr, "usage: 02_checkpoint PATH [--n SIZE] [--steps N] [--every K] "
                            "[--restart] [--async]\n");
        MPI_Finalize();
        return 2;
    }

    pzarr_store *st;
    CHECK(pzarr_open(MPI_COMM_WORLD, o.path,
                     (o.restart ? PZARR_RDWR : PZARR_CREATE) | (o.async ? PZARR_ASYNC : 0), &st),
          pzarr_errmsg(st));
    heat h;
    steps s = {0};
    pzarr_array *a;
    if (o.restart) {
        a = open_array(st, &h, &s);
    } else {
        if (heat_init(&h, o.n, NULL) != 0)
            CHECK(PZARR_EINVAL, "grid too small for this many ranks, or out of memory");
        a = create_array(st, o.n, h.dims);
        heat_set_initial(&h);
    }
    /* Chunk owners follow the process grid: each rank flushes its own. */
    int pdims[4] = {1, h.dims[0], h.dims[1], h.dims[2]};
    CHECK(pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, pdims), pzarr_array_errmsg(a));

    long first = s.count ? s.step[s.count - 1] : 0;
    if (first > o.steps)
        CHECK(PZARR_EINVAL, "the last checkpoint is past --steps");
    if (h.rank == 0)
        printf("02_checkpoint: %ld^3 grid on %d ranks (%d x %d x %d), %s step %ld, to step %ld\n",
               h.n, h.size, h.dims[0], h.dims[1], h.dims[2],
               s.count ? "restarted from" : "starting at", first, o.steps);
    if (s.count == 0)
        checkpoint(st, a, &h, &s, 0, o.async);
    for (long step = first + 1; step <= o.steps; step++) {
        heat_step(&h);
        if (step % o.every == 0 || step == o.steps)
            checkpoint(st, a, &h, &s, step, o.async);
    }
    settle(st, a, &h, &s);
    if (o.async && h.rank == 0) {
        pzarr_stats stats;
        pzarr_get_stats(st, &stats);
        printf("in the background: %llu checkpoints (largest in flight: %llu bytes a rank)\n",
               (unsigned long long)stats.iflushes, (unsigned long long)stats.inflight_peak);
    }
    print_checksum(a, &h, s.count - 1, s.step[s.count - 1]);

    free(s.step);
    heat_free(&h);
    CHECK(pzarr_array_close(a), pzarr_errmsg(st));
    CHECK(pzarr_close(st), "close");
    MPI_Finalize();
    return 0;
}
