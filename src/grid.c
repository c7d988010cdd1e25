/* Shape and selection math: pure, serial, no I/O. */
#include "pz_internal.h"

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
    const unsigned char *s = (const unsigned char *)src +
        offset_of(ndim, w.sstride, src_start, itemsize, src_shape);
    unsigned char *t = (unsigned char *)dst +
        offset_of(ndim, w.dstride, dst_start, itemsize, dst_shape);
    uint64_t idx[PZ_MAX_NDIM] = {0};
    for (;;) {
        memcpy(t, s, w.run);
        int d = w.outer - 1;
        for (; d >= 0; d--) {
            if (++idx[d] < w.count[d]) {
                s += w.sstride[d];
                t += w.dstride[d];
                break;
            }
            s -= w.sstride[d] * (w.count[d] - 1);
            t -= w.dstride[d] * (w.count[d] - 1);
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
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
    unsigned char *t = (unsigned char *)dst +
        offset_of(ndim, w.dstride, dst_start, itemsize, dst_shape);
    uint64_t idx[PZ_MAX_NDIM] = {0};
    for (;;) {
        fill_run(t, w.run, elem, itemsize);
        int d = w.outer - 1;
        for (; d >= 0; d--) {
            if (++idx[d] < w.count[d]) {
                t += w.dstride[d];
                break;
            }
            t -= w.dstride[d] * (w.count[d] - 1);
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
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

bool pz_chunk_iter_init(pz_chunk_iter *it, int ndim, const uint64_t *chunks,
                        const uint64_t *start, const uint64_t *count)
{
    memset(it, 0, sizeof *it);
    it->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        it->chunks[d] = chunks[d];
        it->start[d] = start[d];
        it->count[d] = count[d];
        if (count[d] == 0) {
            it->done = true;
            return false;
        }
        it->first[d] = start[d] / chunks[d];
        it->last[d] = (start[d] + count[d] - 1) / chunks[d];
        it->cc[d] = it->first[d];
    }
    for (int d = 0; d < ndim; d++) {
        uint64_t c0 = it->cc[d] * chunks[d];
        uint64_t lo = start[d] > c0 ? start[d] : c0;
        uint64_t hi = start[d] + count[d];
        uint64_t cend = c0 > UINT64_MAX - chunks[d] ? UINT64_MAX : c0 + chunks[d];
        if (cend < hi)
            hi = cend;
        it->cstart[d] = lo - c0;
        it->bstart[d] = lo - start[d];
        it->n[d] = hi - lo;
    }
    return true;
}

static void iter_place(pz_chunk_iter *it, int d)
{
    uint64_t c0 = it->cc[d] * it->chunks[d];
    uint64_t lo = it->start[d] > c0 ? it->start[d] : c0;
    uint64_t hi = it->start[d] + it->count[d];
    uint64_t cend = c0 > UINT64_MAX - it->chunks[d] ? UINT64_MAX : c0 + it->chunks[d];
    if (cend < hi)
        hi = cend;
    it->cstart[d] = lo - c0;
    it->bstart[d] = lo - it->start[d];
    it->n[d] = hi - lo;
}

bool pz_chunk_iter_next(pz_chunk_iter *it)
{
    if (it->done)
        return false;
    for (int d = it->ndim - 1; d >= 0; d--) {
        if (it->cc[d] < it->last[d]) {
            it->cc[d]++;
            iter_place(it, d);
            return true;
        }
        it->cc[d] = it->first[d];
        iter_place(it, d);
    }
    it->done = true;
    return false;
}

uint64_t pz_chunk_iter_total(const pz_chunk_iter *it)
{
    uint64_t n = 1;
    for (int d = 0; d < it->ndim; d++) {
        if (it->count[d] == 0)
            return 0;
        n *= it->last[d] - it->first[d] + 1;
    }
    return n;
}

uint64_t pz_linear(int ndim, const uint64_t *dims, const uint64_t *coords)
{
    uint64_t idx = 0;
    for (int d = 0; d < ndim; d++)
        idx = idx * dims[d] + coords[d];
    return idx;
}

void pz_unlinear(int ndim, const uint64_t *dims, uint64_t idx,
                 uint64_t *coords)
{
    for (int d = ndim - 1; d >= 0; d--) {
        coords[d] = idx % dims[d];
        idx /= dims[d];
    }
}

static void swap_bytes(unsigned char *p, size_t w)
{
    for (size_t i = 0, j = w - 1; i < j; i++, j--) {
        unsigned char t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

void pz_byteswap(void *buf, uint64_t n, size_t itemsize, pzarr_dtype t)
{
    size_t w = itemsize;
    if (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128) {
        w = itemsize / 2;
        n *= 2;
    }
    if (w < 2)
        return;
    unsigned char *p = buf;
    for (uint64_t i = 0; i < n; i++)
        swap_bytes(p + i * w, w);
}

int pz_name_check(const char *name, char *out, size_t cap, pz_err *e)
{
    if (!name)
        return pz_err_set(e, PZARR_EPATH, "node name is NULL");
    size_t len = strlen(name);
    if (len >= cap)
        return pz_err_set(e, PZARR_EPATH, "node name is too long (%zu bytes)", len);
    if (name[0] == '/')
        return pz_err_set(e, PZARR_EPATH,
                          "node name \"%s\" is absolute; names are relative to the store",
                          name);
    if (len && name[len - 1] == '/')
        len--;
    const char *p = name, *end = name + len;
    while (p < end) {
        const char *q = memchr(p, '/', (size_t)(end - p));
        size_t seg = q ? (size_t)(q - p) : (size_t)(end - p);
        if (seg == 0)
            return pz_err_set(e, PZARR_EPATH, "node name \"%s\" has an empty segment", name);
        if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.'))
            return pz_err_set(e, PZARR_EPATH,
                              "node name \"%s\" has a \"%.*s\" segment that escapes the store",
                              name, (int)seg, p);
        for (size_t i = 0; i < seg; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == '\\' || c < 0x20)
                return pz_err_set(e, PZARR_EPATH,
                                  "node name \"%s\" contains a forbidden character", name);
        }
        if (seg >= 2 && p[0] == '_' && p[1] == '_')
            return pz_err_set(e, PZARR_EPATH,
                              "node name \"%s\": segments starting with \"__\" are reserved",
                              name);
        p += seg + (q ? 1 : 0);
    }
    if (len && name[len - 1] == '/')
        return pz_err_set(e, PZARR_EPATH, "node name \"%s\" has an empty segment", name);
    memcpy(out, name, len);
    out[len] = '\0';
    return 0;
}
