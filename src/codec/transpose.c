/* "transpose": the array->array codec that permutes the axes of a chunk. */
#include "codec_impl.h"

#include <string.h>

/* Fills the unused tail with -1 so that the rank can be recovered. */
static void order_tail(pz_codec *c, int ndim)
{
    for (int i = ndim; i < PZ_MAX_NDIM; i++)
        c->u.transpose.order[i] = -1;
}

void pz_transpose_reversed(pz_codec *c, int ndim)
{
    c->id = PZ_CODEC_TRANSPOSE;
    order_tail(c, ndim);
    for (int i = 0; i < ndim; i++)
        c->u.transpose.order[i] = ndim - 1 - i;
}

static int parse_order_array(const pz_cfg *c, const cJSON *v, int ndim, pz_codec *out)
{
    bool seen[PZ_MAX_NDIM] = {false};
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != ndim)
        return pz_err_set(c->e, PZARR_EMETA,
                          "codec \"transpose\": field \"order\" must be an array of %d "
                          "axis indices",
                          ndim);
    int i = 0;
    for (const cJSON *a = v->child; a; a = a->next, i++) {
        double d = cJSON_IsNumber(a) ? a->valuedouble : -1;
        int ax = (d >= 0 && d < ndim) ? (int)d : -1;
        if (ax < 0 || (double)ax != d || seen[ax])
            return pz_err_set(c->e, PZARR_EMETA,
                              "codec \"transpose\": field \"order\" is not a permutation "
                              "of 0..%d (entry %d)",
                              ndim - 1, i);
        seen[ax] = true;
        out->u.transpose.order[i] = ax;
    }
    return 0;
}

static int parse(const pz_cfg *c, int ndim, pzarr_dtype t, pz_codec *out)
{
    static const char *const fields[] = {"order"};
    (void)t;
    PZ_TRY(pz_cfg_fields(c, fields, 1));
    const cJSON *v = pz_cfg_get(c, "order");
    if (!v)
        return pz_err_set(c->e, PZARR_EMETA, "codec \"transpose\": field \"order\" is missing");
    order_tail(out, ndim);
    /* Early v3 drafts allowed "C" (identity) and "F" (reversed axes). */
    if (cJSON_IsString(v) && (!strcmp(v->valuestring, "C") || !strcmp(v->valuestring, "F"))) {
        bool rev = v->valuestring[0] == 'F';
        for (int i = 0; i < ndim; i++)
            out->u.transpose.order[i] = rev ? ndim - 1 - i : i;
        return 0;
    }
    return parse_order_array(c, v, ndim, out);
}

/* The rank of a transpose: its order is followed by -1 entries (see
 * order_tail), or, for a pipeline built elsewhere, by zeros. */
static int transpose_rank(const pz_codec *c)
{
    int n = 0, max = -1;
    while (n < PZ_MAX_NDIM && c->u.transpose.order[n] >= 0) {
        if (c->u.transpose.order[n] > max)
            max = c->u.transpose.order[n];
        n++;
    }
    return n < PZ_MAX_NDIM ? n : max + 1;
}

static bool emit_v3(const pz_codec *c, cJSON *obj)
{
    cJSON *conf = cJSON_AddObjectToObject(obj, "configuration");
    cJSON *a = conf ? cJSON_AddArrayToObject(conf, "order") : NULL;
    for (int i = 0; a && i < transpose_rank(c); i++) {
        cJSON *v = cJSON_CreateNumber(c->u.transpose.order[i]);
        if (!v || !cJSON_AddItemToArray(a, v))
            return false;
    }
    return a != NULL;
}

static void c_strides(int ndim, const uint64_t *shape, size_t isz, uint64_t *st)
{
    uint64_t s = isz;
    for (int d = ndim - 1; d >= 0; d--) {
        st[d] = s;
        s *= shape[d];
    }
}

#define COPY_ROW(W)                                     \
    for (uint64_t k = 0; k < n; k++)                    \
        memcpy(dst + k * dstep, src + k * sstep, W);    \
    return

/* Fixed widths let the compiler turn each memcpy into one move. */
static void copy_row(unsigned char *dst, uint64_t dstep, const unsigned char *src,
                     uint64_t sstep, uint64_t n, size_t isz)
{
    switch (isz) {
    case 1: COPY_ROW(1);
    case 2: COPY_ROW(2);
    case 4: COPY_ROW(4);
    case 8: COPY_ROW(8);
    case 16: COPY_ROW(16);
    default: COPY_ROW(isz);
    }
}

/*
 * Walks the encoded shape in C order; element j is read at sum j[i]*ss[i]
 * and written at sum j[i]*ds[i] (byte strides).
 */
static void permute_copy(int ndim, const uint64_t *eshape, size_t isz,
                         const unsigned char *src, const uint64_t *ss, unsigned char *dst,
                         const uint64_t *ds)
{
    uint64_t idx[PZ_MAX_NDIM] = {0}, so = 0, dof = 0;
    if (ndim == 0) {
        memcpy(dst, src, isz);
        return;
    }
    for (int d = 0; d < ndim; d++)
        if (eshape[d] == 0)
            return;
    int last = ndim - 1, d;
    do {
        copy_row(dst + dof, ds[last], src + so, ss[last], eshape[last], isz);
        for (d = last - 1; d >= 0; d--) {
            so += ss[d];
            dof += ds[d];
            if (++idx[d] < eshape[d])
                break;
            so -= ss[d] * eshape[d];
            dof -= ds[d] * eshape[d];
            idx[d] = 0;
        }
    } while (d >= 0);
}

static void shape_of(const pz_codec *c, int ndim, const uint64_t *in, uint64_t *out)
{
    for (int i = 0; i < ndim; i++)
        out[i] = in[c->u.transpose.order[i]];
}

/* The encoded array's axis i is the decoded array's axis order[i]. */
static void apply(const pz_codec *c, int ndim, const uint64_t *dshape, size_t isz,
                  const unsigned char *src, unsigned char *dst, bool encode)
{
    uint64_t dec_st[PZ_MAX_NDIM], est[PZ_MAX_NDIM], eshape[PZ_MAX_NDIM], perm[PZ_MAX_NDIM];
    const int *order = c->u.transpose.order;
    c_strides(ndim, dshape, isz, dec_st);
    shape_of(c, ndim, dshape, eshape);
    for (int i = 0; i < ndim; i++)
        perm[i] = dec_st[order[i]];
    c_strides(ndim, eshape, isz, est);
    if (encode)
        permute_copy(ndim, eshape, isz, src, perm, dst, est);
    else
        permute_copy(ndim, eshape, isz, src, est, dst, perm);
}

const pz_codec_ops pz_codec_transpose = {
    .id = PZ_CODEC_TRANSPOSE,
    .name = "transpose",
    .kind = PZ_KIND_A2A,
    .in_v3 = true,
    .parse = parse,
    .emit_v3 = emit_v3,
    .a2a_shape = shape_of,
    .a2a_apply = apply,
};
