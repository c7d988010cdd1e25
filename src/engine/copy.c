/*
 * pzarr_array_copy: an array copied to another store (or name) with other
 * chunks, shards, codecs, format or data type, or a region of it.
 *
 * The copy runs in slabs. Along every dimension the slab boundaries are
 * "clean cuts": boundaries of both the target's storage chunks (shards) and
 * the source's units, so that each source unit is read and decoded once and
 * each target chunk written whole once. A slab is a box of such tiles: one
 * tile along the leading dimensions of the plan, m along one, and the whole
 * extent of the dimensions after it. The split axis s (the dimension with
 * the most target units) always comes last in that order and spans whole
 * slabs; both arrays are owned in blocks along s for the copy's duration,
 * so rank r's part of a slab is the slab cut to its block, and reads and
 * writes stay mostly on the rank (the source's owner reads a unit, the
 * target's owner encodes a chunk, and only the units a block boundary cuts
 * cross ranks, inside read_all). Each slab is committed by a flush; rank 0
 * then records the slabs done in the marker PZARR_COPY_MARKER in the
 * target's directory, which is removed after the last one.
 */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CP_MARKER_MAX ((size_t)1 << 20)
/* Chunk files of one slab of a raw copy (all ranks together). */
#define PZ_COPY_RAW_SLAB 4096
/* The data a rank aims to hold for one slab (see make_plan). */
#define PZ_COPY_SLAB ((double)(16 << 20))

/* Cuts along one dimension of the copy: 0, first, first + period, ..., n. */
typedef struct cp_axis {
    uint64_t n;      /* extent of the copy */
    uint64_t first;  /* first cut (>= n: the whole extent is one tile) */
    uint64_t period; /* distance between later cuts */
    uint64_t ntiles;
    uint64_t maxlen; /* longest tile */
} cp_axis;

typedef struct cp_plan {
    int nd;
    cp_axis ax[PZ_MAX_NDIM];
    int order[PZ_MAX_NDIM]; /* dimensions, the split axis last */
    int s;                  /* the split axis */
    int k;                  /* position in order of the slab's partial axis */
    uint64_t m;             /* tiles of order[k] per slab */
    uint64_t nslabs;
    bool straddle; /* cuts on target chunks only: source units on a cut are
                      read by both slabs */
    bool raw;      /* chunk files moved as they are, PZ_COPY_RAW_SLAB a slab */
} cp_plan;

typedef struct cp_ctx {
    pzarr_array *src;
    pzarr_store *ds;
    pzarr_array *dst;
    char canon[PZ_NAME_MAX];
    char *dir;
    char *marker;
    char *doc; /* the target's document */
    pz_meta t; /* the target's metadata */
    uint64_t start[PZ_MAX_NDIM], count[PZ_MAX_NDIM]; /* the source's box */
    bool convert;
    uint64_t memory;
    cp_plan p;
    uint64_t done; /* slabs committed */
    pz_owner_map src_om;
    pzarr_owner_policy src_policy;
    uint64_t lo, hi; /* this rank's target units along s */
} cp_ctx;

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* ------------------------------------------------------------ the target */

static bool any_nonzero(int nd, const uint64_t *v)
{
    for (int d = 0; d < nd; d++)
        if (v[d])
            return true;
    return false;
}

/* The array->bytes codec's byte order and whether a v2 document can say the
 * pipeline: an optional transpose reversing the axes (order "F"), numcodecs
 * filters, bytes, and at most one compressor. */
static int v2_expressible(const pz_pipeline *pl, int nd, bool *order_f, bool *big, pz_err *e)
{
    int compressors = 0;
    *order_f = false;
    *big = false;
    for (int i = 0; i < pl->n; i++) {
        const pz_codec *c = &pl->c[i];
        switch (c->id) {
        case PZ_CODEC_TRANSPOSE:
            for (int d = 0; d < nd; d++)
                if (c->u.transpose.order[d] != nd - 1 - d)
                    return pz_err_set(e, PZARR_EUNSUPPORTED,
                                      "a transpose other than the reversal of the axes "
                                      "(Zarr v2's order F) has no Zarr v2 form");
            *order_f = nd > 1;
            break;
        case PZ_CODEC_BYTES:
            *big = c->u.bytes.big_endian;
            break;
        case PZ_CODEC_CRC32C:
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "the crc32c codec has no Zarr v2 form (give a codec)");
        default:
            compressors += !c->v2_filter;
        }
    }
    if (compressors > 1)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "%d compressors in a row have no Zarr v2 form (give a codec)",
                          compressors);
    return 0;
}

/* Codecs under the other format: v3's "zfp" (no header) and v2's numcodecs
 * "zfpy" (zfp's header first) compress alike, and so do v3's "bitround" and
 * v2's filter of floats; the copy re-encodes. */
static int retarget_codecs(pz_pipeline *pl, int format, pz_err *e)
{
    for (int i = 0; i < pl->n; i++) {
        pz_codec *c = &pl->c[i];
        if (format == 2 && c->id == PZ_CODEC_ZFP) {
            int m = c->u.zfp.mode; /* 0 reversible, 1 rate, 2 precision, 3 accuracy */
            if (m > 3)
                return pz_err_set(e, PZARR_EUNSUPPORTED,
                                  "zfp's expert mode has no Zarr v2 (numcodecs zfpy) form");
            c->id = PZ_CODEC_ZFPY;
            c->u.zfp.header = true;
            c->u.zfp.v2_mode = m == 1 ? 2 : m == 2 ? 3 : 4;
            if (m != 1)
                c->u.zfp.rate = -1;
            if (m != 2)
                c->u.zfp.precision = -1;
            if (m != 3)
                c->u.zfp.tolerance = -1;
        } else if (format == 3 && c->id == PZ_CODEC_ZFPY) {
            c->id = PZ_CODEC_ZFP;
            c->u.zfp.header = false;
        } else if (format == 2 && c->id == PZ_CODEC_BITROUND3) {
            if (c->u.filt.dtype.kind != 'f')
                return pz_err_set(e, PZARR_EUNSUPPORTED,
                                  "bitround of integers has no Zarr v2 (numcodecs) form");
            c->id = PZ_CODEC_BITROUND; /* numcodecs' filter: the same rounding */
            c->v2_filter = true;
        }
    }
    return 0;
}

/* Kept codecs under a new data type: blosc's typesize follows it; filters,
 * which name the old type, are refused. */
static int retype_pipeline(pz_pipeline *pl, size_t itemsize, pz_err *e)
{
    for (int i = 0; i < pl->n; i++) {
        pz_codec *c = &pl->c[i];
        if (c->id == PZ_CODEC_BLOSC)
            c->u.blosc.typesize = (int)itemsize;
        else if (c->id >= PZ_CODEC_DELTA && c->id <= PZ_CODEC_SHUFFLE)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "the source's filters are made for its data type: give a codec "
                              "with a new data type");
    }
    return 0;
}

/* The fill value of the target: the source's, converted; a v2 null fill
 * becomes NaN (floats) or 0 in v3. */
static void target_fill(const pz_meta *sm, pz_meta *t)
{
    if (pz_dtype_is_vlen(sm->dtype)) { /* the same bytes; a v2 null or number is "" in v3 */
        size_t n;
        const unsigned char *b = pz_fill_vlen(sm->fill, &n);
        memcpy(t->fill, sm->fill, sizeof t->fill);
        t->fill_null = sm->fill_null && t->zarr_format == 2;
        if (t->zarr_format == 3 && (sm->fill_null || sm->fill[8]))
            pz_fill_set_vlen(t->fill, b, 0);
        return;
    }
    unsigned char fill[PZ_FILL_MAX] = {0};
    bool null = sm->fill_null;
    if (null && t->zarr_format == 3) {
        null = false;
        if (pz_dtype_time_kind(sm->dtype)) {
            int64_t nat = INT64_MIN;
            memcpy(fill, &nat, 8);
        } else if (pz_dtype_is_float(sm->dtype)) {
            double nan = NAN;
            pz_dtype_convert(PZARR_FLOAT64, &nan, sm->dtype, fill, 1);
        }
    } else {
        memcpy(fill, sm->fill, sm->itemsize);
    }
    memset(t->fill, 0, sizeof t->fill);
    if (pz_dtype_string_kind(t->dtype))
        memcpy(t->fill, fill, t->itemsize);
    else
        pz_dtype_convert(sm->dtype, fill, t->dtype, t->fill, 1);
    t->fill_null = null;
    /* v3 -> v2 of a dataset variable (named dimensions) of integers whose
     * fill is 0, v3's stand-in for v2's null: null again, as xarray writes
     * it (its readers take the fill for missing data, and 0 is real). */
    bool named = sm->dimension_names != NULL, zero = true;
    for (size_t i = 0; i < t->itemsize; i++)
        zero = zero && t->fill[i] == 0;
    if (t->zarr_format == 2 && sm->zarr_format == 3 && named && zero &&
        (pz_dtype_is_int(t->dtype) || t->dtype == PZARR_BOOL))
        t->fill_null = true;
}

/* Attributes and dimension names in the target's format. */
static int target_names(const pz_meta *sm, pz_meta *t, pz_err *e)
{
    cJSON_Delete(t->attributes);
    t->attributes = sm->attributes ? cJSON_Duplicate(sm->attributes, true) : cJSON_CreateObject();
    if (!t->attributes)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(t->attributes, PZ_V2_DIMS_ATTR);
    if (!sm->dimension_names)
        return 0;
    bool all = true;
    for (int d = 0; d < sm->ndim; d++)
        all = all && sm->dimension_names[d] && sm->dimension_names[d][0];
    if (t->zarr_format == 2) {
        if (!all)
            return 0; /* v2 names all dimensions or none */
        cJSON *names = cJSON_CreateArray();
        for (int d = 0; names && d < sm->ndim; d++)
            cJSON_AddItemToArray(names, cJSON_CreateString(sm->dimension_names[d]));
        if (!names)
            return pz_err_set(e, PZARR_ENOMEM, "out of memory");
        cJSON_AddItemToObject(t->attributes, PZ_V2_DIMS_ATTR, names);
    }
    t->dimension_names = pz_calloc((size_t)sm->ndim, sizeof(char *));
    if (!t->dimension_names)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    for (int d = 0; d < sm->ndim; d++)
        if (sm->dimension_names[d] &&
            !(t->dimension_names[d] = pz_strdup(sm->dimension_names[d])))
            return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    return 0;
}

/* The target's metadata and document. Local; the same on every rank. */
static int make_target(cp_ctx *c, const pzarr_copy_options *o, pz_err *e)
{
    const pzarr_array *a = c->src;
    const pz_meta *sm = &a->m;
    int nd = sm->ndim;
    pzarr_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.zarr_format = o->zarr_format ? o->zarr_format : sm->zarr_format;
    if (sp.zarr_format != 2 && sp.zarr_format != 3)
        return pz_err_set(e, PZARR_EINVAL, "format %d is neither 2 nor 3", o->zarr_format);
    sp.dtype = o->convert ? o->dtype : sm->dtype;
    if (!pz_dtype_convertible(sm->dtype, sp.dtype))
        return pz_err_set(e, PZARR_EUNSUPPORTED, "%s values do not convert to %s",
                          pzarr_dtype_name(sm->dtype),
                          pzarr_dtype_name(sp.dtype) ? pzarr_dtype_name(sp.dtype) : "that type");
    c->convert = sp.dtype != sm->dtype;
    sp.ndim = nd;
    for (int d = 0; d < nd; d++) {
        sp.shape[d] = c->count[d];
        sp.chunks[d] = any_nonzero(nd, o->chunks) ? o->chunks[d] : a->unit[d];
    }
    if (o->sharding > 0) {
        if (!any_nonzero(nd, o->shard))
            return pz_err_set(e, PZARR_EINVAL, "sharding asked for without a shard shape");
        memcpy(sp.shard, o->shard, sizeof(uint64_t) * (size_t)nd);
    } else if (o->sharding == 0 && sm->shard.on && sp.zarr_format == 3 &&
               !pz_dtype_is_vlen(sm->dtype)) { /* vlen arrays are written unsharded */
        bool whole = true;
        for (int d = 0; d < nd; d++)
            whole = whole && sm->chunks[d] % sp.chunks[d] == 0;
        if (whole)
            memcpy(sp.shard, sm->chunks, sizeof(uint64_t) * (size_t)nd);
    }
    if (sm->opaque_codecs) { /* chunk files move as they are, or nothing */
        bool same = !o->codec && !c->convert && sp.zarr_format == sm->zarr_format &&
                    !o->reencode && o->sharding >= 0;
        for (int d = 0; same && d < nd; d++)
            same = sp.chunks[d] == sm->chunks[d] && !sp.shard[d] &&
                   c->start[d] % sm->chunks[d] == 0 &&
                   (c->start[d] + c->count[d] == sm->shape[d] ||
                    (c->start[d] + c->count[d]) % sm->chunks[d] == 0);
        if (!same)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "%s: the chunks of '%s' can only be copied as they are (the "
                              "same format, chunks and codecs, a region of whole chunks)",
                              sm->pipeline.unsupported, a->name);
    }
    sp.codec = o->codec ? o->codec : "none";
    if (sp.zarr_format == sm->zarr_format)
        sp.separator = sm->key_sep;
    char *doc = NULL;
    PZ_TRY(pz_spec_document(&sp, &doc, e));
    int rc = pz_meta_parse(doc, strlen(doc), NULL, 0, &c->t, e);
    pz_free(doc);
    if (rc)
        return rc;
    pz_meta *t = &c->t;
    if (sp.zarr_format == sm->zarr_format)
        t->key_v2_style = sm->key_v2_style;
    if (sm->opaque_codecs) {
        t->pipeline = sm->pipeline;
        t->shard = sm->shard;
        if (!(t->opaque_codecs = pz_strdup(sm->opaque_codecs)))
            return pz_err_set(e, PZARR_ENOMEM, "out of memory");
        t->v2_order_f = sm->v2_order_f;
        t->v2_big_endian = sm->v2_big_endian;
    } else if (!o->codec) {
        t->pipeline = sm->pipeline;
        if (c->convert)
            PZ_TRY(retype_pipeline(&t->pipeline, t->itemsize, e));
        if (t->zarr_format != sm->zarr_format)
            PZ_TRY(retarget_codecs(&t->pipeline, t->zarr_format, e));
        if (t->zarr_format == 2)
            PZ_TRY(v2_expressible(&t->pipeline, nd, &t->v2_order_f, &t->v2_big_endian, e));
        if (t->shard.on && sm->shard.on) { /* the index as the source has it */
            t->shard.index_big = sm->shard.index_big;
            t->shard.index_has_endian = sm->shard.index_has_endian;
            t->shard.index_crc = sm->shard.index_crc;
            t->shard.index_at_start = sm->shard.index_at_start;
        }
    }
    target_fill(sm, t);
    PZ_TRY(target_names(sm, t, e));
    c->doc = pz_meta_emit(t);
    if (!c->doc)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "the source's codecs have no Zarr v%d form: give a codec",
                          t->zarr_format);
    if (t->zarr_format == 2) {
        /* The attributes ride along in the .zarray: spliced in as text (a
         * parse and print would lose a 64-bit fill's digits). */
        char *attrs = pz_meta_emit_attrs(t);
        size_t n = attrs ? strlen(attrs) + strlen(c->doc) + 32 : 0;
        char *doc = attrs ? pz_malloc(n) : NULL;
        if (!doc || c->doc[0] != '{') {
            pz_free(attrs);
            pz_free(doc);
            return pz_err_set(e, PZARR_ENOMEM, "out of memory");
        }
        snprintf(doc, n, "{\"attributes\": %s,%s", attrs, c->doc + 1);
        pz_free(attrs);
        pz_free(c->doc);
        c->doc = doc;
    }
    return 0;
}

/* ------------------------------------------------------------ the plan */

/* Cuts along dimension d: target chunk boundaries that are also source unit
 * boundaries (straddle: target chunk boundaries alone). */
static void plan_axis(cp_axis *x, uint64_t n, uint64_t cd, uint64_t cs, uint64_t off,
                      bool straddle)
{
    x->n = n;
    x->first = n;
    x->period = n ? n : 1;
    if (straddle) {
        x->first = cd;
        x->period = cd;
    } else {
        /* The first multiple of cd that is a source boundary, then every
         * lcm(cd, cs) further. */
        uint64_t g = gcd_u64(cd, cs), steps = cs / g;
        for (uint64_t i = 1, x0 = cd; i <= steps && x0 < n; i++, x0 += cd)
            if ((x0 + off) % cs == 0) {
                x->first = x0;
                uint64_t l;
                x->period = pz_mul_u64(cd / g, cs, &l) ? l : n;
                break;
            }
    }
    if (x->first >= n) {
        x->ntiles = 1;
        x->maxlen = n;
        return;
    }
    x->ntiles = 1 + (n - x->first + x->period - 1) / x->period;
    x->maxlen = x->first > x->period ? x->first : x->period;
    if (x->maxlen > n)
        x->maxlen = n;
}

/* Start and length of tile i along an axis. */
static void tile_range(const cp_axis *x, uint64_t i, uint64_t *lo, uint64_t *len)
{
    uint64_t a = i == 0 ? 0 : x->first + (i - 1) * x->period;
    uint64_t b = i + 1 >= x->ntiles ? x->n : x->first + i * x->period;
    *lo = a;
    *len = b - a;
}

/* Bytes a rank holds for a slab of m tiles at position k: its share of the
 * slab's elements times the bytes an element costs. */
static double slab_cost(const cp_plan *p, int k, uint64_t m, double per_elem, double share_s)
{
    double elems = 1;
    for (int j = 0; j < p->nd; j++) {
        int d = p->order[j];
        const cp_axis *x = &p->ax[d];
        double mm = (double)m * (double)x->maxlen; /* no 64-bit overflow */
        double len = j < k    ? (double)x->maxlen
                     : j == k ? (mm < (double)x->n ? mm : (double)x->n)
                              : (double)x->n;
        if (d == p->s && len > share_s)
            len = share_s;
        elems *= len;
    }
    return elems * per_elem;
}

static int make_plan(cp_ctx *c, bool straddle, pz_err *e)
{
    pzarr_array *src = c->src, *dst = c->dst;
    cp_plan *p = &c->p;
    int nd = c->t.ndim;
    memset(p, 0, sizeof *p);
    p->nd = nd;
    p->straddle = straddle;
    for (int d = 0; d < nd; d++)
        plan_axis(&p->ax[d], c->count[d], c->t.chunks[d], src->unit[d], c->start[d], straddle);
    if (nd == 0) {
        p->nslabs = 1;
        return 0;
    }
    /* The split axis: the most target units (the first of equals). */
    p->s = 0;
    for (int d = 1; d < nd; d++)
        if (dst->grid[d] > dst->grid[p->s])
            p->s = d;
    for (int d = 0, j = 0; d < nd; d++)
        if (d != p->s)
            p->order[j++] = d;
    p->order[nd - 1] = p->s;
    /* Per element: the slab buffer, a converted copy, a copy in the write
     * buffer when the target's chunks are not staged at write time
     * (compressed shards). */
    double per_elem = (double)src->m.itemsize;
    if (c->convert)
        per_elem += (double)c->t.itemsize;
    if (c->t.shard.on && !pz_shard_fixed(dst))
        per_elem += (double)c->t.itemsize;
    /* Room for a few chunks beside the slabs (decode and encode buffers). */
    double fixed = 4.0 * (double)(src->chunk_bytes > dst->chunk_bytes ? src->chunk_bytes
                                                                     : dst->chunk_bytes);
    double budget = (double)c->memory - fixed;
    /* The largest share of any rank: blocks differ by a unit at most. */
    uint64_t g = dst->grid[p->s], P = (uint64_t)src->s->size;
    uint64_t most = g >= P ? (g + P - 1) / P : 1;
    double share_s = (double)(most * dst->unit[p->s]);
    if (share_s > (double)p->ax[p->s].n)
        share_s = (double)p->ax[p->s].n;
    /* Slabs of about PZ_COPY_SLAB bytes a rank: a buffer that stays warm
     * (reused pages, cached) beats one large cold one; larger only when a
     * tile is larger, smaller when the budget says so. */
    double target = budget < (double)PZ_COPY_SLAB ? budget : (double)PZ_COPY_SLAB;
    /* A slab cut along s belongs to one rank's block: the others would
     * wait. So first every position but s's (last), about the target, then
     * within the budget, one tile; s's own position last, about the target,
     * then one tile within the budget. */
    for (int pass = 0; pass < 4; pass++) {
        double cap = pass == 0 || pass == 2 ? target : budget;
        for (int j = 0; j < nd; j++) {
            /* over the target, the deepest position first: its one tile is
             * the smallest slab */
            int k = pass == 1 ? nd - 1 - j : j;
            if ((pass < 2 && k == nd - 1 && nd > 1) || (pass >= 2 && k != nd - 1))
                continue;
            if (slab_cost(p, k, 1, per_elem, share_s) > cap)
                continue;
            if (pass == 1 || pass == 3) { /* over the target: the smallest slab there is */
                p->k = k;
                p->m = 1;
                p->nslabs = p->ax[p->order[k]].ntiles;
                for (int j = 0; j < k; j++)
                    p->nslabs *= p->ax[p->order[j]].ntiles;
                return 0;
            }
            /* The first position where one tile fits: as many as fit. */
            uint64_t nt = p->ax[p->order[k]].ntiles, lo = 1, hi = nt;
            while (lo < hi) {
                uint64_t mid = lo + (hi - lo + 1) / 2;
                if (slab_cost(p, k, mid, per_elem, share_s) <= cap)
                    lo = mid;
                else
                    hi = mid - 1;
            }
            p->k = k;
            p->m = lo;
            p->nslabs = (nt + lo - 1) / lo;
            for (int j = 0; j < k; j++)
                p->nslabs *= p->ax[p->order[j]].ntiles;
            return 0;
        }
    }
    if (!straddle)
        return make_plan(c, true, e);
    return pz_err_set(e, PZARR_EINVAL,
                      "a memory budget of %llu bytes holds no slab of one target chunk per "
                      "dimension: give more memory",
                      (unsigned long long)c->memory);
}

/* The box of slab i (in the copy's coordinates). */
static void slab_box(const cp_plan *p, uint64_t i, uint64_t *start, uint64_t *count)
{
    int k = p->k;
    uint64_t per = p->m, nk = p->ax[p->order[k]].ntiles;
    uint64_t blocks = (nk + per - 1) / per;
    uint64_t bk = i % blocks;
    i /= blocks;
    for (int j = k - 1; j >= 0; j--) {
        int d = p->order[j];
        uint64_t t = i % p->ax[d].ntiles;
        i /= p->ax[d].ntiles;
        tile_range(&p->ax[d], t, &start[d], &count[d]);
    }
    {
        int d = p->order[k];
        uint64_t a, la, b, lb;
        uint64_t t1 = (bk + 1) * per > nk ? nk : (bk + 1) * per;
        tile_range(&p->ax[d], bk * per, &a, &la);
        tile_range(&p->ax[d], t1 - 1, &b, &lb);
        start[d] = a;
        count[d] = b + lb - a;
    }
    for (int j = k + 1; j < p->nd; j++) {
        int d = p->order[j];
        start[d] = 0;
        count[d] = p->ax[d].n;
    }
}

/* ------------------------------------------------------------ ownership */

/* Both arrays owned in blocks along s. The source's map is restored at the
 * end. */
static int own_blocks(cp_ctx *c, pz_err *e)
{
    int nd = c->t.ndim, P = c->src->s->size;
    int dims[PZ_MAX_NDIM];
    for (int d = 0; d < nd; d++)
        dims[d] = d == c->p.s ? P : 1;
    pz_owner_map om;
    PZ_TRY(pz_owner_init(&om, PZARR_OWNER_BLOCK, P, nd, c->dst->grid, dims, e));
    c->dst->om = om;
    c->dst->policy = PZARR_OWNER_BLOCK;
    PZ_TRY(pz_owner_init(&om, PZARR_OWNER_BLOCK, P, nd, c->src->grid, dims, e));
    c->src->om = om;
    /* My target units along s. */
    uint64_t cc[PZ_MAX_NDIM] = {0}, g = c->dst->grid[c->p.s];
    c->lo = g;
    c->hi = 0;
    for (uint64_t u = 0; u < g; u++) {
        cc[c->p.s] = u;
        if (pz_owner_of(&c->dst->om, cc) == c->src->s->rank) {
            if (u < c->lo)
                c->lo = u;
            c->hi = u + 1;
        }
    }
    if (c->hi == 0)
        c->lo = 0;
    return 0;
}

/* ------------------------------------------------------------ the marker */

static char *marker_text(const cp_ctx *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *plan = cJSON_CreateObject();
    if (!o || !plan) {
        cJSON_Delete(o);
        cJSON_Delete(plan);
        return NULL;
    }
    cJSON_AddItemToObject(o, "pzarr_copy", plan);
    cJSON_AddStringToObject(plan, "source", c->src->name);
    cJSON_AddStringToObject(plan, "target", c->doc);
    cJSON *reg = cJSON_CreateArray();
    for (int d = 0; reg && d < c->t.ndim; d++) {
        char v[48];
        snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)c->start[d],
                 (unsigned long long)(c->start[d] + c->count[d]));
        cJSON_AddItemToArray(reg, cJSON_CreateString(v));
    }
    cJSON_AddItemToObject(plan, "region", reg);
    cJSON_AddNumberToObject(plan, "split_axis", c->p.s);
    cJSON_AddNumberToObject(plan, "slab_axis", c->p.k);
    cJSON_AddNumberToObject(plan, "tiles_per_slab", (double)c->p.m);
    cJSON_AddBoolToObject(plan, "straddle", c->p.straddle);
    cJSON_AddBoolToObject(plan, "raw", c->p.raw);
    cJSON_AddNumberToObject(plan, "slabs", (double)c->p.nslabs);
    cJSON_AddNumberToObject(plan, "done", (double)c->done);
    return pz_json_print_take(o, true);
}

/* Rank 0: the marker written atomically (every rank agrees later). */
static int marker_write(cp_ctx *c, pz_err *e)
{
    if (c->src->s->rank != 0)
        return 0;
    char *text = marker_text(c);
    if (!text)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int rc = pz_io_write_atomic(c->marker, text, strlen(text), "copy", MPI_INFO_NULL,
                                (c->ds->flags & PZARR_DURABLE) != 0, e);
    pz_free(text);
    return rc;
}

/* Resuming: the marker must describe this very copy; its plan and count of
 * slabs done are taken over (the plan does not depend on the rank count). */
static int marker_adopt(cp_ctx *c, const pz_buf *b, pz_err *e)
{
    cJSON *o = cJSON_ParseWithLength((const char *)b->data, b->size);
    const cJSON *plan = cJSON_GetObjectItemCaseSensitive(o, "pzarr_copy");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(plan, "target");
    const cJSON *reg = cJSON_GetObjectItemCaseSensitive(plan, "region");
    int rc = 0;
    if (!cJSON_IsString(target) || !cJSON_IsArray(reg)) {
        rc = pz_err_set(e, PZARR_EMETA, "%s: not a copy marker", c->marker);
        goto out;
    }
    if (strcmp(target->valuestring, c->doc) != 0) {
        rc = pz_err_set(e, PZARR_EINVAL,
                        "the unfinished copy at '%s' was started with other options (its "
                        "target document differs): run it again with the same ones, or remove "
                        "the array",
                        c->canon);
        goto out;
    }
    int d = 0;
    for (const cJSON *r = reg->child; r; r = r->next, d++) {
        char v[48];
        if (d >= c->t.ndim)
            break;
        snprintf(v, sizeof v, "%llu:%llu", (unsigned long long)c->start[d],
                 (unsigned long long)(c->start[d] + c->count[d]));
        if (!cJSON_IsString(r) || strcmp(r->valuestring, v) != 0)
            d = PZ_MAX_NDIM + 1;
    }
    if (d != c->t.ndim) {
        rc = pz_err_set(e, PZARR_EINVAL,
                        "the unfinished copy at '%s' was started on another region", c->canon);
        goto out;
    }
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(plan, "raw");
    if (cJSON_IsTrue(raw) != c->p.raw) {
        rc = pz_err_set(e, PZARR_EINVAL,
                        "the unfinished copy at '%s' was started another way (moving chunk "
                        "files or re-encoding them): remove it",
                        c->canon);
        goto out;
    }
    if (c->p.raw) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(plan, "slabs");
        const cJSON *done = cJSON_GetObjectItemCaseSensitive(plan, "done");
        if (!cJSON_IsNumber(n) || (double)c->p.nslabs != n->valuedouble ||
            !cJSON_IsNumber(done) || done->valuedouble < 0 ||
            done->valuedouble > n->valuedouble) {
            rc = pz_err_set(e, PZARR_EMETA, "%s: a malformed plan", c->marker);
            goto out;
        }
        c->done = (uint64_t)done->valuedouble;
        goto out;
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(plan, "split_axis");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(plan, "slab_axis");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(plan, "tiles_per_slab");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(plan, "straddle");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(plan, "slabs");
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(plan, "done");
    if (!cJSON_IsNumber(s) || !cJSON_IsNumber(k) || !cJSON_IsNumber(m) || !cJSON_IsBool(st) ||
        !cJSON_IsNumber(n) || !cJSON_IsNumber(done) || s->valuedouble != c->p.s ||
        k->valuedouble < 0 || k->valuedouble >= c->t.ndim || m->valuedouble < 1 ||
        done->valuedouble < 0 || done->valuedouble > n->valuedouble) {
        rc = pz_err_set(e, PZARR_EMETA, "%s: a malformed plan", c->marker);
        goto out;
    }
    bool straddle = cJSON_IsTrue(st);
    if (straddle != c->p.straddle)
        for (int j = 0; j < c->t.ndim; j++)
            plan_axis(&c->p.ax[j], c->count[j], c->t.chunks[j], c->src->unit[j], c->start[j],
                      straddle);
    c->p.straddle = straddle;
    c->p.k = (int)k->valuedouble;
    c->p.m = (uint64_t)m->valuedouble;
    uint64_t nk = c->p.ax[c->p.order[c->p.k]].ntiles, ns = (nk + c->p.m - 1) / c->p.m;
    for (int j = 0; j < c->p.k; j++)
        ns *= c->p.ax[c->p.order[j]].ntiles;
    if ((double)ns != n->valuedouble) {
        rc = pz_err_set(e, PZARR_EMETA, "%s: its plan has %g slabs, it should have %llu",
                        c->marker, n->valuedouble, (unsigned long long)ns);
        goto out;
    }
    c->p.nslabs = ns;
    c->done = (uint64_t)done->valuedouble;
out:
    cJSON_Delete(o);
    return rc;
}

/* ------------------------------------------------------------ the copy */

/* Collective: the target array, new or (resume) the unfinished one, whose
 * marker text goes to mk. */
static int open_target(cp_ctx *c, bool resume, pz_buf *mk, pz_err *e)
{
    pzarr_store *ds = c->ds;
    pzarr_node_kind kind = PZARR_NODE_NONE;
    int rc = pzarr_node_kind_of(ds, c->canon, &kind);
    if (rc)
        return pz_err_set(e, rc, "%s", ds->err.msg);
    /* Rank 0 reads the marker; every rank learns what it holds. */
    pz_err me;
    pz_err_clear(&me);
    if (ds->rank == 0 && pz_io_exists(c->marker)) {
        if (pz_io_read_file(c->marker, mk, &me) == 0 && mk->size > CP_MARKER_MAX)
            pz_err_set(&me, PZARR_EMETA, "%s: too large for a copy marker", c->marker);
    }
    if (pz_bcast_bufs(ds->comm, 1, mk, &me))
        return *e = me, e->code;
    bool has_marker = mk->size > 0;
    if (kind != PZARR_NODE_NONE && !(resume && has_marker && kind == PZARR_NODE_ARRAY)) {
        if (has_marker)
            return pz_err_set(e, PZARR_EEXIST,
                              "'%s' holds an unfinished copy: resume it, or remove it first",
                              c->canon);
        return pz_err_set(e, PZARR_EEXIST, "'%s' exists in %s", c->canon, ds->root);
    }
    if (kind == PZARR_NODE_ARRAY) { /* resuming */
        /* The killed run's staged files of the slab it did not commit. */
        rc = pzarr_clean(ds, c->canon, NULL, NULL);
        if (rc == 0)
            rc = pzarr_array_open(ds, c->canon, &c->dst);
        if (rc)
            return pz_err_set(e, rc, "%s", ds->err.msg);
        return 0;
    }
    mk->size = 0;
    /* A new array: the marker goes first (without a plan yet), so that a
     * copy killed at any point after the array's document appears is seen
     * as unfinished. */
    pz_err we;
    pz_err_clear(&we);
    if (ds->rank == 0 && pz_io_mkdirs(c->dir, &we) == 0)
        marker_write(c, &we);
    if (pz_collective_end(ds->comm, PZ_ROOT_IO, &we))
        return *e = we, e->code;
    rc = pzarr_array_create(ds, c->canon, c->doc, &c->dst);
    if (rc)
        return pz_err_set(e, rc, "%s", ds->err.msg);
    return 0;
}

/* The end of slab i on every rank: this rank's outcome le so far; the
 * marker's count of slabs done goes into the slab's own commit as a
 * document (a kill leaves both or neither); the flush commits. A rank that
 * failed still joins the flush, which then fails everywhere with the first
 * failure. */
static int commit_slab(cp_ctx *c, uint64_t i, pz_err *le, pz_err *e)
{
    if (le->code == 0 && c->ds->rank == 0) {
        c->done = i + 1;
        char *text = marker_text(c);
        const char *name = PZARR_COPY_MARKER;
        if (!text)
            pz_err_set(le, PZARR_ENOMEM, "out of memory");
        else
            pz_commit_set_documents(&c->dst->st.c, &name, (const char *const *)&text, 1, le);
        pz_free(text);
    }
    if (le->code && c->dst->st.fail.code == 0)
        c->dst->st.fail = *le;
    char point[48];
    snprintf(point, sizeof point, "copy_write_%llu", (unsigned long long)i + 1);
    pz_test_crash_point(c->ds, point);
    int rc = pzarr_array_flush(c->dst);
    if (rc)
        return pz_err_set(e, rc, "writing '%s': %s", c->canon, c->dst->err.msg);
    c->done = i + 1;
    snprintf(point, sizeof point, "copy_slab_%llu", (unsigned long long)i + 1);
    pz_test_crash_point(c->ds, point);
    return 0;
}

/* A slab of a variable-length array: this rank reads its part of the source
 * itself (it is its own block of the target's chunks) and writes it. */
static int vlen_slab(cp_ctx *c, uint64_t i, const uint64_t *st, const uint64_t *ct,
                     const uint64_t *ss, uint64_t n, pz_err *e)
{
    pz_err le;
    pz_err_clear(&le);
    if (n) {
        uint64_t *off = NULL;
        void *data = NULL;
        if (pzarr_array_read_vlen(c->src, ss, ct, &off, &data) != 0)
            pz_err_set(&le, c->src->err.code, "reading '%s': %s", c->src->name,
                       c->src->err.msg);
        else if (pzarr_array_write_vlen(c->dst, st, ct, off, data) != 0)
            le = c->dst->err;
        pzarr_free(off);
        pzarr_free(data);
    }
    return commit_slab(c, i, &le, e);
}

/* One slab: this rank's part read from the source (collectively), converted,
 * written to the target; then committed. */
static int copy_slab(cp_ctx *c, uint64_t i, void **buf, size_t *cap, void **cbuf,
                     size_t *ccap, pz_err *e)
{
    int nd = c->t.ndim;
    uint64_t st[PZ_MAX_NDIM], ct[PZ_MAX_NDIM], ss[PZ_MAX_NDIM];
    slab_box(&c->p, i, st, ct);
    if (nd > 0) { /* my block along s */
        int s = c->p.s;
        uint64_t u = c->dst->unit[s];
        uint64_t a = c->lo * u, b = c->hi * u > c->count[s] ? c->count[s] : c->hi * u;
        uint64_t lo = st[s] > a ? st[s] : a, hi = st[s] + ct[s] < b ? st[s] + ct[s] : b;
        st[s] = lo;
        ct[s] = hi > lo ? hi - lo : 0;
    }
    uint64_t n = 1;
    for (int d = 0; d < nd; d++) {
        n *= ct[d];
        ss[d] = c->start[d] + st[d];
    }
    if (n == 0)
        for (int d = 0; d < nd; d++)
            ct[d] = 0;
    pz_err le;
    pz_err_clear(&le);
    if (pz_dtype_is_vlen(c->src->m.dtype)) /* local reads: no piece crosses a rank */
        return vlen_slab(c, i, st, ct, ss, n, e);
    size_t need = (size_t)n * c->src->m.itemsize;
    if (need > *cap) {
        pz_free(*buf);
        *cap = 0;
        if (!(*buf = pz_malloc(need)))
            pz_err_set(&le, PZARR_ENOMEM, "out of memory for a slab of %zu bytes", need);
        else
            *cap = need;
    }
    if (pz_agree(c->ds->comm, &le))
        return *e = le, e->code;
    int rc = pzarr_array_read_all(c->src, ss, ct, *buf);
    if (rc)
        return pz_err_set(e, rc, "reading '%s': %s", c->src->name, c->src->err.msg);
    const void *out = *buf;
    if (c->convert && n) {
        size_t cneed = (size_t)n * c->t.itemsize;
        if (cneed > *ccap) {
            pz_free(*cbuf);
            *ccap = 0;
            if (!(*cbuf = pz_malloc(cneed)))
                pz_err_set(&le, PZARR_ENOMEM, "out of memory for a slab of %zu bytes", cneed);
            else
                *ccap = cneed;
        }
        if (le.code == 0) {
            pz_dtype_convert(c->src->m.dtype, *buf, c->t.dtype, *cbuf, n);
            out = *cbuf;
        }
    }
    if (le.code == 0 && n && pzarr_array_write(c->dst, st, ct, out) != 0)
        le = c->dst->err;
    return commit_slab(c, i, &le, e);
}

/* ------------------------------------------------------------ raw copies */

static char *codecs_text(const pz_meta *m)
{
    if (m->opaque_codecs)
        return pz_strdup(m->opaque_codecs);
    return pz_json_print_take(pz_codecs_emit_v3(&m->pipeline, &m->shard, m->ndim), false);
}

/* Whether the target's chunk files are the source's, byte for byte: the
 * same grid, codecs, data type and fill, and a region on chunk boundaries
 * (or the array's end). Then the copy moves files and decodes nothing. */
static bool raw_eligible(const cp_ctx *c)
{
    const pz_meta *sm = &c->src->m, *t = &c->t;
    if (c->convert || sm->dtype != t->dtype || c->src->pending[0])
        return false;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t k = sm->chunks[d], end = c->start[d] + c->count[d];
        if (k != t->chunks[d] || c->start[d] % k ||
            (end != sm->shape[d] && end % k))
            return false;
    }
    if (sm->shard.on != t->shard.on)
        return false;
    if (!sm->fill_null && (t->fill_null || memcmp(sm->fill, t->fill, sm->itemsize)))
        return false;
    char *a = codecs_text(sm), *b = codecs_text(t);
    bool same = a && b && strcmp(a, b) == 0;
    pz_free(a);
    pz_free(b);
    return same;
}

static void raw_plan(cp_ctx *c)
{
    uint64_t total = 1;
    for (int d = 0; d < c->t.ndim; d++)
        total *= c->count[d] ? (c->count[d] - 1) / c->t.chunks[d] + 1 : 0;
    memset(&c->p, 0, sizeof c->p);
    c->p.nd = c->t.ndim;
    c->p.raw = true;
    c->p.m = total; /* chunk files in all */
    c->p.nslabs = total ? (total - 1) / PZ_COPY_RAW_SLAB + 1 : 1;
}

/* One slab of a raw copy: every rank moves its share of the slab's chunk
 * files (read whole, staged under the target's names), then the commit. */
static int raw_slab(cp_ctx *c, uint64_t i, pz_err *e)
{
    int nd = c->t.ndim, P = c->ds->size, rank = c->ds->rank;
    uint64_t grid[PZ_MAX_NDIM], first = i * PZ_COPY_RAW_SLAB;
    uint64_t last = first + PZ_COPY_RAW_SLAB < c->p.m ? first + PZ_COPY_RAW_SLAB : c->p.m;
    for (int d = 0; d < nd; d++)
        grid[d] = c->count[d] ? (c->count[d] - 1) / c->t.chunks[d] + 1 : 0;
    pz_err le;
    pz_err_clear(&le);
    pz_buf b = {0};
    for (uint64_t u = first + (uint64_t)rank; le.code == 0 && u < last; u += (uint64_t)P) {
        uint64_t rc_[PZ_MAX_NDIM], cc[PZ_MAX_NDIM];
        pz_unlinear(nd, grid, u, rc_);
        for (int d = 0; d < nd; d++)
            cc[d] = rc_[d] + c->start[d] / c->t.chunks[d];
        char skey[256], dkey[256];
        char *sp = NULL, *dp = NULL;
        if (pz_meta_chunk_key(&c->src->m, cc, skey, sizeof skey) != 0 ||
            pz_meta_chunk_key(&c->dst->m, rc_, dkey, sizeof dkey) != 0) {
            pz_err_set(&le, PZARR_EINVAL, "chunk key too long");
            break;
        }
        sp = pz_path_join(c->src->dir, skey);
        dp = pz_path_join(c->dst->dir, dkey);
        pz_err re;
        pz_err_clear(&re);
        if (!sp || !dp)
            pz_err_set(&le, PZARR_ENOMEM, "out of memory");
        else if (pz_io_read_file(sp, &b, &re) != 0) {
            if (re.code != PZARR_ENOENT) /* absent: the fill, nothing to move */
                pz_err_set(&le, re.code, "reading chunk %s of '%s': %.600s", skey,
                           c->src->name, re.msg);
        } else {
            c->src->s->stats.chunk_reads++;
            c->src->s->stats.bytes_read += b.size;
            if (pz_commit_stage_file(c->dst, &c->dst->st.c, dp, b.data, b.size, &re) != 0)
                pz_err_set(&le, re.code, "writing chunk %s: %.600s", dkey, re.msg);
            else {
                c->ds->stats.chunk_writes++;
                c->ds->stats.bytes_written += b.size;
            }
        }
        pz_free(sp);
        pz_free(dp);
    }
    pz_buf_free(&b);
    return commit_slab(c, i, &le, e);
}

static int run_copy(cp_ctx *c, const pzarr_copy_options *o, pz_err *e)
{
    void *buf = NULL, *cbuf = NULL;
    size_t cap = 0, ccap = 0;
    uint64_t total = c->t.itemsize, per_slab;
    for (int d = 0; d < c->t.ndim; d++)
        total *= c->count[d];
    per_slab = c->p.nslabs ? total / c->p.nslabs : total;
    uint64_t limit = c->memory;
    pzarr_array_set_write_limit(c->dst, limit);
    int rc = 0;
    for (uint64_t i = c->done; rc == 0 && i < c->p.nslabs; i++) {
        rc = c->p.raw ? raw_slab(c, i, e) : copy_slab(c, i, &buf, &cap, &cbuf, &ccap, e);
        if (rc == 0 && o && o->progress && c->ds->rank == 0)
            o->progress(o->progress_ctx, i + 1 == c->p.nslabs ? total : (i + 1) * per_slab,
                        total);
    }
    pz_free(buf);
    pz_free(cbuf);
    return rc;
}

static void ctx_free(cp_ctx *c)
{
    pz_free(c->dir);
    pz_free(c->marker);
    pz_free(c->doc);
    pz_meta_free(&c->t);
}

int pzarr_array_copy(pzarr_array *src, pzarr_store *dst, const char *name,
                     const pzarr_copy_options *opt)
{
    if (!src || !pz_live_has(src) || !dst || !pz_live_has(dst))
        return PZARR_EINVAL;
    pzarr_copy_options none;
    memset(&none, 0, sizeof none);
    const pzarr_copy_options *o = opt ? opt : &none;
    pz_err e;
    pz_err_clear(&e);
    cp_ctx c;
    memset(&c, 0, sizeof c);
    c.src = src;
    c.ds = dst;
    c.memory = o->memory ? o->memory : PZARR_COPY_MEMORY;
    int cmp = MPI_UNEQUAL;
    MPI_Comm_compare(src->s->comm, dst->comm, &cmp);
    if (cmp != MPI_IDENT && cmp != MPI_CONGRUENT) {
        pz_err_set(&e, PZARR_EINVAL, "the stores of a copy must have the same ranks");
        src->err = e;
        return pz_store_fail(dst, &e);
    }
    int nd = src->m.ndim;
    if (name && pz_node_check_name(dst, name, c.canon) != 0)
        e = dst->err;
    else if (!name)
        pz_err_set(&e, PZARR_EINVAL, "no target name");
    else if (o->region && !pz_box_inside(nd, src->m.shape, o->start, o->count))
        pz_err_set(&e, PZARR_EBOUNDS, "the region is outside the shape of '%s'", src->name);
    if (e.code == 0) {
        for (int d = 0; d < nd; d++) {
            c.start[d] = o->region ? o->start[d] : 0;
            c.count[d] = o->region ? o->count[d] : src->m.shape[d];
        }
        c.dir = pz_node_dir(dst, c.canon);
        c.marker = c.dir ? pz_path_join(c.dir, PZARR_COPY_MARKER) : NULL;
        if (!c.marker)
            pz_err_set(&e, PZARR_ENOMEM, "out of memory");
        else
            make_target(&c, o, &e);
    }
    /* The source's pending writes first (nothing to do when read-only). */
    if (e.code == 0 && (src->s->flags & PZARR_RDWR) && pzarr_array_flush(src) != 0)
        e = src->err;
    pz_buf mk = {0};
    if (pz_agree(dst->comm, &e) == 0)
        open_target(&c, o->resume != 0, &mk, &e);
    if (e.code == 0) {
        c.src_om = src->om;
        c.src_policy = src->policy;
        /* A resumed copy takes the marker's plan over today's (a plan does
         * not depend on the rank count; the split axis never changes). */
        /* Files as they are when nothing changes but names (or a region of
         * whole chunks): any agreement needed is in the inputs, the same on
         * every rank. */
        bool raw = !o->reencode && raw_eligible(&c);
        if (raw)
            raw_plan(&c);
        if ((raw || (make_plan(&c, false, &e) == 0 && own_blocks(&c, &e) == 0)) && mk.size)
            marker_adopt(&c, &mk, &e);
        if (pz_agree(dst->comm, &e) == 0) {
            pz_err me;
            pz_err_clear(&me);
            marker_write(&c, &me);
            if (pz_collective_end(dst->comm, PZ_ROOT_IO, &me))
                e = me;
            else
                run_copy(&c, o, &e);
        }
        src->om = c.src_om;
        src->policy = c.src_policy;
    }
    pz_buf_free(&mk);
    /* Done: the marker goes, then the array is closed (flushing nothing). */
    if (e.code == 0 && dst->rank == 0) {
        bool removed;
        pz_io_remove(c.marker, &removed, &e);
    }
    if (e.code == 0)
        pz_collective_end(dst->comm, PZ_ROOT_IO, &e);
    if (c.dst) {
        pz_err ce = c.dst->err;
        int rc = pzarr_array_close(c.dst);
        if (rc && e.code == 0)
            pz_err_set(&e, rc, "closing '%s': %s", c.canon, ce.msg);
    }
    if (e.code) {
        char why[PZ_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", e.msg);
        pz_err_set(&e, e.code, "copy of %s%s%s to %s%s%s: %.900s", src->s->root,
                   src->name[0] ? "/" : "", src->name, dst->root, c.canon[0] ? "/" : "",
                   c.canon, why);
    }
    ctx_free(&c);
    src->err = e;
    if (e.code)
        return pz_store_fail(dst, &e);
    pz_err_clear(&dst->err);
    return 0;
}
