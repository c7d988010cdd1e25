/* Boxes: products of shapes, bounds, and copying or filling a box of one
 * dense array into another. */
#include "grid.h"

#include <string.h>

bool pz_prod(int ndim, const uint64_t *n, uint64_t *out)
{
    uint64_t p = 1;
    for (int d = 0; d < ndim; d++)
        if (!pz_mul_u64(p, n[d], &p))
            return false;
    *out = p;
    return true;
}

bool pz_box_inside(int ndim, const uint64_t *shape, const uint64_t *start,
                   const uint64_t *count)
{
    for (int d = 0; d < ndim; d++) {
        uint64_t end;
        if (!pz_add_u64(start[d], count[d], &end) || end > shape[d])
            return false;
    }
    return true;
}

/*
 * Shared walker of pz_copy_box and pz_fill_box: the innermost dimensions
 * that are whole in both arrays are merged into one run of `run` bytes.
 */
typedef struct box_walk {
    int outer;              /* dimensions walked element by element */
    size_t run;             /* bytes per innermost run */
    uint64_t count[PZ_MAX_NDIM];
    uint64_t sstride[PZ_MAX_NDIM], dstride[PZ_MAX_NDIM]; /* in bytes */
} box_walk;

static void walk_init(box_walk *w, int ndim, size_t itemsize,
                      const uint64_t *count, const uint64_t *sshape,
                      const uint64_t *dshape)
{
    uint64_t ss = itemsize, ds = itemsize;
    for (int d = ndim - 1; d >= 0; d--) {
        w->sstride[d] = ss;
        w->dstride[d] = ds;
        w->count[d] = count[d];
        ss *= sshape ? sshape[d] : count[d];
        ds *= dshape[d];
    }
    /* Merge trailing dims that are whole on both sides. */
    int inner = ndim;
    uint64_t run = itemsize;
    while (inner > 0) {
        int d = inner - 1;
        run *= count[d];
        inner--;
        bool whole_src = !sshape || count[d] == sshape[d];
        if (count[d] != dshape[d] || !whole_src)
            break;
    }
    w->outer = inner;
    w->run = (size_t)run;
}

/* Moves the source and destination offsets to the next run; false after
 * the last. */
static bool walk_step(const box_walk *w, uint64_t *idx, uint64_t *s, uint64_t *t)
{
    for (int d = w->outer - 1; d >= 0; d--) {
        if (++idx[d] < w->count[d]) {
            *s += w->sstride[d];
            *t += w->dstride[d];
            return true;
        }
        *s -= w->sstride[d] * (w->count[d] - 1);
        *t -= w->dstride[d] * (w->count[d] - 1);
        idx[d] = 0;
    }
    return false;
}

static uint64_t offset_of(int ndim, const uint64_t *stride,
                          const uint64_t *start, size_t itemsize,
                          const uint64_t *shape)
{
    uint64_t off = 0, s = itemsize;
    for (int d = ndim - 1; d >= 0; d--) {
        off += start[d] * s;
        s *= shape[d];
    }
    (void)stride;
    return off;
}

void pz_copy_box(int ndim, size_t itemsize, const uint64_t *count,
                 const void *src, const uint64_t *src_shape,
                 const uint64_t *src_start, void *dst,
                 const uint64_t *dst_shape, const uint64_t *dst_start)
{
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0)
            return;
    box_walk w;
    walk_init(&w, ndim, itemsize, count, src_shape, dst_shape);
    uint64_t s = offset_of(ndim, w.sstride, src_start, itemsize, src_shape);
    uint64_t t = offset_of(ndim, w.dstride, dst_start, itemsize, dst_shape);
    uint64_t idx[PZ_MAX_NDIM] = {0};
    do
        memcpy((unsigned char *)dst + t, (const unsigned char *)src + s, w.run);
    while (walk_step(&w, idx, &s, &t));
}

static void fill_run(unsigned char *t, size_t run, const void *elem,
                     size_t itemsize)
{
    for (size_t i = 0; i < run; i += itemsize)
        memcpy(t + i, elem, itemsize);
}

void pz_fill_box(int ndim, size_t itemsize, const uint64_t *count, void *dst,
                 const uint64_t *dst_shape, const uint64_t *dst_start,
                 const void *elem)
{
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0)
            return;
    box_walk w;
    walk_init(&w, ndim, itemsize, count, count, dst_shape);
    uint64_t s = 0, t = offset_of(ndim, w.dstride, dst_start, itemsize, dst_shape);
    uint64_t idx[PZ_MAX_NDIM] = {0};
    do
        fill_run((unsigned char *)dst + t, w.run, elem, itemsize);
    while (walk_step(&w, idx, &s, &t));
}

bool pz_all_equal(const void *buf, uint64_t n, size_t itemsize,
                  const void *elem)
{
    const unsigned char *p = buf;
    if (n == 0)
        return true;
    if (memcmp(p, elem, itemsize) != 0)
        return false;
    /* Each step compares a doubling prefix already known to be uniform. */
    uint64_t total = n * itemsize, done = itemsize;
    while (done < total) {
        uint64_t step = done < total - done ? done : total - done;
        if (memcmp(p + done, p, (size_t)step) != 0)
            return false;
        done += step;
    }
    return true;
}

void pz_box_runs(int ndim, size_t itemsize, const uint64_t *count, const uint64_t *src_shape,
                 const uint64_t *src_start, const uint64_t *dst_shape,
                 const uint64_t *dst_start, pz_run_fn *fn, void *ctx)
{
    for (int d = 0; d < ndim; d++)
        if (count[d] == 0)
            return;
    box_walk w;
    walk_init(&w, ndim, itemsize, count, src_shape, dst_shape);
    uint64_t s = offset_of(ndim, w.sstride, src_start, itemsize, src_shape);
    uint64_t t = offset_of(ndim, w.dstride, dst_start, itemsize, dst_shape);
    uint64_t idx[PZ_MAX_NDIM] = {0};
    do
        fn(ctx, s, t, w.run);
    while (walk_step(&w, idx, &s, &t));
}
