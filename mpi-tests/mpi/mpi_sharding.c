/*
 * Zarr v3 sharding (sharding_indexed) through the parallel engine.
 *
 * Shards written by several ranks at once, ranks with nothing to write,
 * shards misaligned with the decomposition, partial rewrites that must copy
 * untouched inner chunks byte for byte, every index layout and several inner
 * codec chains (checked against an independent decoder of the shard format
 * written here from the spec), fill handling, corrupt indexes, statistics
 * and byte-range reads.
 *
 * With the argument "write" or "read" the program is instead one half of a
 * fixture chain: written at 3 ranks, read back at 1, 2 and 4 ranks.
 */
#include "pz_test_util.h"

#include <blosc.h>
#include <dirent.h>
#include <libdeflate.h>
#include <zstd.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EMPTY UINT64_MAX

/* Set while a test checks that a checker does fail: no diagnostics. */
static int quiet;

/* ================================================================ */
/* The shard format, decoded independently of the library            */

static uint32_t crc32c(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint64_t get64(const unsigned char *p, int big)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[big ? 7 - i : i] << (8 * i);
    return v;
}

static void put64(unsigned char *p, uint64_t v, int big)
{
    for (int i = 0; i < 8; i++)
        p[big ? 7 - i : i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32le(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* How a shard index is laid out. */
typedef struct layout {
    uint64_t n; /* inner chunks per shard */
    int at_start, crc, big;
} layout;

static size_t index_bytes(const layout *l) { return (size_t)(l->n * 16 + (l->crc ? 4 : 0)); }

static size_t index_pos(const layout *l, size_t size)
{
    return l->at_start ? 0 : size - index_bytes(l);
}

/* Parses and checks a shard file's index into e[2n] per the spec. NULL on
 * success, else what is wrong. */
static const char *parse_shard(const layout *l, const unsigned char *f, size_t size,
                               uint64_t *e)
{
    size_t ib = index_bytes(l);
    if (size < ib)
        return "file shorter than its index";
    const unsigned char *ix = f + index_pos(l, size);
    if (l->crc && crc32c(ix, (size_t)(16 * l->n)) != get32le(ix + 16 * l->n))
        return "index crc32c mismatch";
    uint64_t lo = l->at_start ? ib : 0, hi = l->at_start ? size : size - ib;
    for (uint64_t i = 0; i < l->n; i++) {
        uint64_t off = e[2 * i] = get64(ix + 16 * i, l->big);
        uint64_t len = e[2 * i + 1] = get64(ix + 16 * i + 8, l->big);
        if (off == EMPTY && len == EMPTY)
            continue;
        if (off == EMPTY || len == EMPTY)
            return "half-empty index entry";
        if (off < lo || off > hi || len > hi - off)
            return "index entry outside the data";
        for (uint64_t k = 0; k < i; k++)
            if (e[2 * k] != EMPTY && off < e[2 * k] + e[2 * k + 1] && e[2 * k] < off + len)
                return "overlapping index entries";
    }
    return NULL;
}

/* Writes entries e into the index of f (and its crc32c). */
static void put_index(const layout *l, unsigned char *f, size_t size, const uint64_t *e)
{
    unsigned char *ix = f + index_pos(l, size);
    for (uint64_t i = 0; i < 2 * l->n; i++)
        put64(ix + 8 * i, e[i], l->big);
    if (l->crc) {
        uint32_t c = crc32c(ix, (size_t)(16 * l->n));
        for (int k = 0; k < 4; k++)
            ix[16 * l->n + (uint64_t)k] = (unsigned char)(c >> (8 * k));
    }
}

/* Builds a shard file from inner chunks (data[k] NULL: empty). */
static unsigned char *build_shard(const layout *l, unsigned char *const *data,
                                  const size_t *len, size_t *size)
{
    size_t ib = index_bytes(l), total = ib;
    for (uint64_t k = 0; k < l->n; k++)
        total += data[k] ? len[k] : 0;
    unsigned char *f = malloc(total);
    uint64_t *e = malloc(2 * l->n * sizeof *e);
    size_t at = l->at_start ? ib : 0;
    for (uint64_t k = 0; k < l->n; k++) {
        e[2 * k] = e[2 * k + 1] = EMPTY;
        if (!data[k])
            continue;
        memcpy(f + at, data[k], len[k]);
        e[2 * k] = at;
        e[2 * k + 1] = len[k];
        at += len[k];
    }
    put_index(l, f, total, e);
    free(e);
    *size = total;
    return f;
}

/* Inner codec chains of the tests, as JSON and as known to decode_inner. */
enum kind { K_RAW, K_ZSTD, K_GZIP, K_BLOSC, K_TBIG, K_TBIG_BLOSC };

#define BYTES_LE "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}"
#define BLOSC4                                                                         \
    "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"           \
    "\"shuffle\":\"shuffle\",\"typesize\":4,\"blocksize\":0}}"
#define TBIG                                                                           \
    "{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},{\"name\":\"bytes\"," \
    "\"configuration\":{\"endian\":\"big\"}}"

static const char *const CODECS[] = {
    [K_RAW] = "[" BYTES_LE "]",
    [K_ZSTD] = "[" BYTES_LE ",{\"name\":\"zstd\",\"configuration\":{\"level\":1,"
               "\"checksum\":false}}]",
    [K_GZIP] = "[" BYTES_LE ",{\"name\":\"gzip\",\"configuration\":{\"level\":5}}]",
    [K_BLOSC] = "[" BYTES_LE "," BLOSC4 "]",
    [K_TBIG] = "[" TBIG "]",
    [K_TBIG_BLOSC] = "[" TBIG "," BLOSC4 "]",
};
static const char *const KIND_NAME[] = {"bytes", "bytes+zstd", "bytes+gzip", "bytes+blosc",
                                        "transpose+bytes(big)",
                                        "transpose+bytes(big)+blosc"};

/* Decodes one 2-D int32 inner chunk of shape in[2] into out (C order).
 * 0 on success. */
static int decode_inner(int kind, const unsigned char *p, size_t len, const uint64_t *in,
                        int32_t *out)
{
    size_t ne = (size_t)(in[0] * in[1]), nb = ne * 4;
    unsigned char *raw = malloc(nb);
    int ok = 0;
    if (kind == K_RAW || kind == K_TBIG) {
        ok = len == nb;
        if (ok)
            memcpy(raw, p, nb);
    } else if (kind == K_ZSTD) {
        ok = ZSTD_decompress(raw, nb, p, len) == nb;
    } else if (kind == K_GZIP) {
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        size_t got = 0;
        ok = libdeflate_gzip_decompress(d, p, len, raw, nb, &got) == LIBDEFLATE_SUCCESS &&
             got == nb;
        libdeflate_free_decompressor(d);
    } else {
        ok = blosc_decompress_ctx(p, raw, nb, 1) == (int)nb;
    }
    for (size_t i = 0; ok && i < in[0]; i++)
        for (size_t j = 0; j < in[1]; j++) {
            const unsigned char *q;
            if (kind == K_TBIG || kind == K_TBIG_BLOSC) {
                q = raw + (j * in[0] + i) * 4;
                out[i * in[1] + j] = (int32_t)((uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
                                               (uint32_t)q[2] << 8 | (uint32_t)q[3]);
            } else {
                q = raw + (i * in[1] + j) * 4;
                out[i * in[1] + j] = (int32_t)get32le(q);
            }
        }
    free(raw);
    return ok ? 0 : -1;
}

/* ================================================================ */
/* Array documents and files                                          */

typedef struct spec {
    const char *dtype;
    int ndim;
    uint64_t shape[3], shard[3], inner[3];
    const char *fill;   /* JSON */
    const char *codecs; /* inner codecs, a JSON array */
    int at_start, crc, big;
} spec;

static size_t dims_json(char *out, size_t cap, int nd, const uint64_t *v)
{
    size_t o = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < nd; d++)
        o += (size_t)snprintf(out + o, cap - o, "%s%llu", d ? "," : "", (unsigned long long)v[d]);
    snprintf(out + o, cap - o, "]");
    return o + 1;
}

static const char *meta(const spec *s)
{
    static char buf[8192];
    char sh[256], ch[256], in[256];
    dims_json(sh, sizeof sh, s->ndim, s->shape);
    dims_json(ch, sizeof ch, s->ndim, s->shard);
    dims_json(in, sizeof in, s->ndim, s->inner);
    snprintf(buf, sizeof buf,
             "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":%s,\"data_type\":\"%s\","
             "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":%s}},"
             "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":"
             "{\"separator\":\"/\"}},\"fill_value\":%s,\"codecs\":[{\"name\":"
             "\"sharding_indexed\",\"configuration\":{\"chunk_shape\":%s,\"codecs\":%s,"
             "\"index_codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"%s\"}}%s],"
             "\"index_location\":\"%s\"}}]}",
             sh, s->dtype, ch, s->fill, in, s->codecs, s->big ? "big" : "little",
             s->crc ? ",{\"name\":\"crc32c\"}" : "", s->at_start ? "start" : "end");
    return buf;
}

static layout layout_of(const spec *s)
{
    layout l = {1, s->at_start, s->crc, s->big};
    for (int d = 0; d < s->ndim; d++)
        l.n *= s->shard[d] / s->inner[d];
    return l;
}

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* Path of a 2-D shard file. Static buffer. */
static const char *shard_path(const char *dir, const char *arr, uint64_t si, uint64_t sj)
{
    static char buf[4400];
    snprintf(buf, sizeof buf, "%s/%s/c/%llu/%llu", dir, arr, (unsigned long long)si,
             (unsigned long long)sj);
    return buf;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* Files under `dir` whose name ends in `suffix` (recursive). */
static int count_suffix(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    size_t sl = strlen(suffix);
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (stat(p, &sb) != 0)
            continue;
        size_t nl = strlen(de->d_name);
        if (S_ISDIR(sb.st_mode))
            n += count_suffix(p, suffix);
        else if (nl >= sl && strcmp(de->d_name + nl - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

/* ================================================================ */
/* 2-D int32 data                                                     */

static int32_t val(uint64_t i, uint64_t j, int salt)
{
    return (int32_t)((int64_t)salt * 1000000 + (int64_t)(i * 1000 + j) + 1);
}

/* Rows [lo, hi) of rank r out of n for a dimension of size len. */
static void slab(uint64_t len, int r, int n, uint64_t *lo, uint64_t *hi)
{
    *lo = len * (uint64_t)r / (uint64_t)n;
    *hi = len * (uint64_t)(r + 1) / (uint64_t)n;
}

/* Writes the box [r0, r0+nr) x [c0, c0+nc) of src (a full R x C array). */
static int put_box(pzarr_array *a, uint64_t C, const int32_t *src, uint64_t r0, uint64_t c0,
                   uint64_t nr, uint64_t nc)
{
    int32_t *b = malloc((nr * nc != 0 ? nr * nc : 1) * sizeof *b);
    for (uint64_t i = 0; i < nr; i++)
        for (uint64_t j = 0; j < nc; j++)
            b[i * nc + j] = src[(r0 + i) * C + c0 + j];
    uint64_t st[2] = {r0, c0}, cnt[2] = {nr, nc};
    int rc = pzarr_array_write(a, st, cnt, b);
    free(b);
    return rc;
}

/* A full array of one value. */
static int32_t *filled(uint64_t R, uint64_t C, int32_t v)
{
    int32_t *x = malloc(R * C * sizeof *x);
    for (uint64_t k = 0; k < R * C; k++)
        x[k] = v;
    return x;
}

static int32_t *pattern(uint64_t R, uint64_t C, int salt)
{
    int32_t *x = malloc(R * C * sizeof *x);
    for (uint64_t i = 0; i < R; i++)
        for (uint64_t j = 0; j < C; j++)
            x[i * C + j] = val(i, j, salt);
    return x;
}

static int same_box(const int32_t *got, const int32_t *want, uint64_t C, uint64_t r0,
                    uint64_t c0, uint64_t nr, uint64_t nc, const char *what)
{
    for (uint64_t i = 0; i < nr; i++)
        for (uint64_t j = 0; j < nc; j++)
            if (got[i * nc + j] != want[(r0 + i) * C + c0 + j]) {
                fprintf(stderr, "rank %d: %s: [%llu,%llu] = %d, expected %d\n", T_rank, what,
                        (unsigned long long)(r0 + i), (unsigned long long)(c0 + j),
                        got[i * nc + j], want[(r0 + i) * C + c0 + j]);
                return 0;
            }
    return 1;
}

/* Every rank reads the whole array locally, then its row slab collectively
 * (pzarr_array_read_all) and a column slab collectively; all must match.
 * (Collectives are slow with more ranks than cores: the loops over many
 * arrays use check_reads_quick, without the column slab.) */
static int check_reads_n(pzarr_array *a, const int32_t *want, uint64_t R, uint64_t C,
                         int cols)
{
    int32_t *buf = malloc(R * C * sizeof *buf);
    uint64_t z[2] = {0, 0}, full[2] = {R, C};
    int ok = pzarr_array_read(a, z, full, buf) == 0 && same_box(buf, want, C, 0, 0, R, C, "read");
    uint64_t lo, hi;
    slab(R, T_rank, T_size, &lo, &hi);
    uint64_t st[2] = {lo, 0}, cnt[2] = {hi - lo, C};
    int rc = pzarr_array_read_all(a, st, cnt, buf);
    ok &= rc == 0 && same_box(buf, want, C, lo, 0, hi - lo, C, "read_all rows");
    if (cols) {
        slab(C, T_size - 1 - T_rank, T_size, &lo, &hi);
        uint64_t st2[2] = {0, lo}, cnt2[2] = {R, hi - lo};
        rc = pzarr_array_read_all(a, st2, cnt2, buf);
        ok &= rc == 0 && same_box(buf, want, C, 0, lo, R, hi - lo, "read_all cols");
    }
    if (!ok)
        fprintf(stderr, "rank %d: check_reads: %s\n", T_rank, pzarr_array_errmsg(a));
    free(buf);
    return ok;
}

static int check_reads(pzarr_array *a, const int32_t *want, uint64_t R, uint64_t C)
{
    return check_reads_n(a, want, R, C, 1);
}

static int check_reads_quick(pzarr_array *a, const int32_t *want, uint64_t R, uint64_t C)
{
    return check_reads_n(a, want, R, C, 0);
}

/*
 * Checks every shard file of a 2-D int32 array against `want` with the
 * independent decoder: the index (layout, crc32c, bounds, overlaps), every
 * stored inner chunk decoded and compared inside the array, empty entries
 * exactly where an inner chunk holds only the fill value, no file where a
 * shard holds only fill values, no bytes beyond the inner chunks and the
 * index. Local. NULL or a message.
 */
static const char *verify_shards(const char *dir, const char *arr, const spec *s, int kind,
                                 const int32_t *want, int32_t fill)
{
    static char msg[5200];
    layout l = layout_of(s);
    const uint64_t *in = s->inner;
    uint64_t per[2] = {s->shard[0] / in[0], s->shard[1] / in[1]};
    uint64_t R = s->shape[0], C = s->shape[1];
    uint64_t *e = malloc(2 * l.n * sizeof *e);
    int32_t *dec = malloc(in[0] * in[1] * sizeof *dec);
    msg[0] = '\0';
    for (uint64_t si = 0; si < ceil_div(R, s->shard[0]) && !msg[0]; si++)
        for (uint64_t sj = 0; sj < ceil_div(C, s->shard[1]) && !msg[0]; sj++) {
            const char *p = shard_path(dir, arr, si, sj);
            size_t size;
            unsigned char *f = t_slurp(p, &size);
            int any = 0;
            for (uint64_t k = 0; k < l.n && !msg[0]; k++) {
                uint64_t i0 = si * s->shard[0] + k / per[1] * in[0];
                uint64_t j0 = sj * s->shard[1] + k % per[1] * in[1];
                int nonfill = 0;
                for (uint64_t i = i0; i < i0 + in[0] && i < R; i++)
                    for (uint64_t j = j0; j < j0 + in[1] && j < C; j++)
                        nonfill |= want[i * C + j] != fill;
                any |= nonfill;
                if (!f)
                    continue;
                if (k == 0) {
                    const char *why = parse_shard(&l, f, size, e);
                    if (why) {
                        snprintf(msg, sizeof msg, "%s: %s", p, why);
                        break;
                    }
                    uint64_t sum = index_bytes(&l);
                    for (uint64_t q = 0; q < l.n; q++)
                        sum += e[2 * q] == EMPTY ? 0 : e[2 * q + 1];
                    /* Uncompressed inner chunks have one size: pzarr gives each its
                     * slot (inner chunk q at q x size after a leading index), so that
                     * writers need no layout; empty slots are gaps (allowed). Every
                     * other pipeline: no byte beyond the inner chunks and the index. */
                    uint64_t cb = in[0] * in[1] * sizeof(int32_t);
                    uint64_t base = l.at_start ? index_bytes(&l) : 0;
                    if (kind == K_RAW) {
                        for (uint64_t q = 0; q < l.n && !msg[0]; q++)
                            if (e[2 * q] != EMPTY && e[2 * q] != base + q * cb)
                                snprintf(msg, sizeof msg, "%s: inner chunk %llu at %llu, not "
                                         "in its slot", p, (unsigned long long)q,
                                         (unsigned long long)e[2 * q]);
                        if (!msg[0] && size > index_bytes(&l) + l.n * cb)
                            snprintf(msg, sizeof msg, "%s: %zu bytes, more than the index "
                                     "and every slot", p, size);
                    } else if (sum != size)
                        snprintf(msg, sizeof msg, "%s: %zu bytes, index and inner chunks "
                                 "hold %llu", p, size, (unsigned long long)sum);
                }
                if (msg[0])
                    break;
                if ((e[2 * k] != EMPTY) != nonfill) {
                    snprintf(msg, sizeof msg, "%s: inner chunk %llu is %s but %s", p,
                             (unsigned long long)k, e[2 * k] == EMPTY ? "empty" : "stored",
                             nonfill ? "holds data" : "all fill");
                    break;
                }
                if (e[2 * k] == EMPTY)
                    continue;
                if (decode_inner(kind, f + e[2 * k], (size_t)e[2 * k + 1], in, dec) != 0) {
                    snprintf(msg, sizeof msg, "%s: inner chunk %llu (%llu bytes) does not "
                             "decode as %s", p, (unsigned long long)k,
                             (unsigned long long)e[2 * k + 1], KIND_NAME[kind]);
                    break;
                }
                for (uint64_t i = i0; i < i0 + in[0] && i < R && !msg[0]; i++)
                    for (uint64_t j = j0; j < j0 + in[1] && j < C; j++)
                        if (dec[(i - i0) * in[1] + (j - j0)] != want[i * C + j]) {
                            snprintf(msg, sizeof msg, "%s: inner chunk %llu: element "
                                     "[%llu,%llu] decodes to %d, expected %d", p,
                                     (unsigned long long)k, (unsigned long long)i,
                                     (unsigned long long)j, dec[(i - i0) * in[1] + (j - j0)],
                                     want[i * C + j]);
                            break;
                        }
            }
            if (!msg[0] && (f != NULL) != any)
                snprintf(msg, sizeof msg, "%s: %s but the shard %s", p,
                         f ? "exists" : "is absent", any ? "holds data" : "is all fill");
            free(f);
        }
    free(e);
    free(dec);
    if (msg[0] && !quiet)
        fprintf(stderr, "rank %d: %s\n", T_rank, msg);
    return msg[0] ? msg : NULL;
}

static pzarr_store *open_store(const char *dir)
{
    pzarr_store *s;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    return s;
}

/* ================================================================ */
/* Tests                                                              */

static void test_crc32c_vector(void **st)
{
    (void)st;
    T_ASSERT_ALL(crc32c((const unsigned char *)"123456789", 9) == 0xe3069283u);
}

/* One shard, every rank writes a slab that cuts through it (and through
 * inner chunks); everybody reads back everything. */
static void test_one_shard_all_ranks(void **st)
{
    (void)st;
    const char *dir = t_dir("allranks");
    pzarr_store *s = open_store(dir);
    spec sp = {"int32", 2, {25, 20}, {25, 20}, {5, 4}, "0", CODECS[K_ZSTD], 0, 1, 0};
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "arr", meta(&sp), &a), pzarr_errmsg(s));
    const uint64_t R = 25, C = 20;
    int32_t *want = pattern(R, C, 1);
    uint64_t lo, hi;
    slab(R, T_rank, T_size, &lo, &hi);
    T_OK(put_box(a, C, want, lo, 0, hi - lo, C), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(check_reads(a, want, R, C));
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_ZSTD, want, 0) == NULL);
    /* The checker itself notices one wrong element. */
    want[13 * C + 7]++;
    quiet = 1;
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_ZSTD, want, 0) != NULL);
    quiet = 0;
    want[13 * C + 7]--;
    T_ASSERT_ALL(exists(shard_path(dir, "arr", 0, 0)));
    T_ASSERT_ALL(count_suffix(dir, ".pzarr-tmp-shard") == 0);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    /* Reopened: the same. */
    T_OK(pzarr_array_open(s, "arr", &a), pzarr_errmsg(s));
    T_ASSERT_ALL(check_reads(a, want, R, C));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    free(want);
}

/* Two inner chunks in the only shard, 1-4 writers: at 3 and 4 ranks some
 * ranks own no inner chunk and lead no shard, yet write data. */
static void test_more_ranks_than_inner(void **st)
{
    (void)st;
    const char *dir = t_dir("fewinner");
    pzarr_store *s = open_store(dir);
    spec sp = {"int32", 2, {4, 6}, {4, 6}, {4, 3}, "0", CODECS[K_GZIP], 0, 1, 0};
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "arr", meta(&sp), &a), pzarr_errmsg(s));
    int32_t *want = pattern(4, 6, 2);
    uint64_t lo, hi;
    slab(6, T_rank, T_size, &lo, &hi);
    T_OK(put_box(a, 6, want, 0, lo, 4, hi - lo), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(check_reads(a, want, 4, 6));
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_GZIP, want, 0) == NULL);
    /* Round robin: the two inner chunks' owners are ranks 0 and 1. */
    T_OK(pzarr_array_set_owner(a, PZARR_OWNER_ROUND_ROBIN, NULL), pzarr_array_errmsg(a));
    /* Rank r rewrites column r (r < 6). */
    for (uint64_t i = 0; i < 4; i++)
        want[i * 6 + (uint64_t)T_rank % 6] = -100 - T_rank;
    T_OK(put_box(a, 6, want, 0, (uint64_t)T_rank % 6, 4, 1), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    for (int r = 0; r < T_size && r < 6; r++)
        for (uint64_t i = 0; i < 4; i++)
            want[i * 6 + (uint64_t)r % 6] = -100 - r;
    T_ASSERT_ALL(check_reads(a, want, 4, 6));
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_GZIP, want, 0) == NULL);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    free(want);
}

/* Only some ranks write, into some shards; flushes where nobody writes. */
static void test_ranks_with_nothing(void **st)
{
    (void)st;
    const char *dir = t_dir("nothing");
    pzarr_store *s = open_store(dir);
    spec sp = {"int32", 2, {16, 16}, {8, 8}, {4, 4}, "-1", CODECS[K_ZSTD], 0, 1, 0};
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "arr", meta(&sp), &a), pzarr_errmsg(s));
    int32_t *want = filled(16, 16, -1), *src = pattern(16, 16, 3);
    /* Nobody writes. */
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    char adir[4400];
    snprintf(adir, sizeof adir, "%s/arr", dir);
    T_ASSERT_ALL(count_suffix(adir, "") == 1); /* zarr.json only */
    /* The last rank writes into shard (1,0) only. */
    if (T_rank == T_size - 1)
        T_OK(put_box(a, 16, src, 9, 2, 6, 6), pzarr_array_errmsg(a));
    else
        T_OK(0, NULL);
    for (uint64_t i = 9; i < 15; i++)
        for (uint64_t j = 2; j < 8; j++)
            want[i * 16 + j] = src[i * 16 + j];
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(check_reads(a, want, 16, 16));
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_ZSTD, want, -1) == NULL);
    T_ASSERT_ALL(exists(shard_path(dir, "arr", 1, 0)) && !exists(shard_path(dir, "arr", 0, 0)) &&
                 !exists(shard_path(dir, "arr", 0, 1)) && !exists(shard_path(dir, "arr", 1, 1)));
    /* Rank 0 writes one element of shard (0,1), the rest nothing. */
    if (T_rank == 0)
        T_OK(put_box(a, 16, src, 3, 13, 1, 1), pzarr_array_errmsg(a));
    else
        T_OK(0, NULL);
    want[3 * 16 + 13] = src[3 * 16 + 13];
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(check_reads(a, want, 16, 16));
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_ZSTD, want, -1) == NULL);
    T_ASSERT_ALL(count_suffix(dir, ".pzarr-tmp-shard") == 0);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    free(want);
    free(src);
}

/* Value rank r writes at (i, j) in the halo test. */
static int32_t halo_val(uint64_t i, uint64_t j, int r) { return val(i, j, 10 + r); }

/*
 * Shards (10x12) and inner chunks (5x4) misaligned with the decomposition:
 * rows, columns, and a 2-D process grid whose blocks, widened by a halo of
 * one element, overlap (the higher rank wins); block and round-robin
 * ownership.
 */
static void test_misaligned(void **st)
{
    (void)st;
    const char *dir = t_dir("misaligned");
    pzarr_store *s = open_store(dir);
    const uint64_t R = 37, C = 23;
    spec sp = {"int32", 2, {R, C}, {10, 12}, {5, 4}, "0", CODECS[K_ZSTD], 0, 1, 0};
    for (int variant = 0; variant < 4; variant++) {
        char name[32];
        snprintf(name, sizeof name, "v%d", variant);
        pzarr_array *a;
        T_OK(pzarr_array_create(s, name, meta(&sp), &a), pzarr_errmsg(s));
        if (variant == 3)
            T_OK(pzarr_array_set_owner(a, PZARR_OWNER_ROUND_ROBIN, NULL),
                 pzarr_array_errmsg(a));
        int32_t *want = pattern(R, C, variant);
        uint64_t lo, hi;
        int rc = 0;
        if (variant == 0) {
            slab(R, T_rank, T_size, &lo, &hi);
            rc = put_box(a, C, want, lo, 0, hi - lo, C);
        } else if (variant == 1) {
            slab(C, T_rank, T_size, &lo, &hi);
            rc = put_box(a, C, want, 0, lo, R, hi - lo);
        } else {
            int dims[2] = {0, 0};
            MPI_Dims_create(T_size, 2, dims);
            uint64_t(*b)[4] = malloc((size_t)T_size * sizeof *b); /* r0, r1, c0, c1 */
            for (int r = 0; r < T_size; r++) {
                uint64_t l0, h0, l1, h1;
                slab(R, r / dims[1], dims[0], &l0, &h0);
                slab(C, r % dims[1], dims[1], &l1, &h1);
                b[r][0] = l0 ? l0 - 1 : 0;
                b[r][1] = h0 < R ? h0 + 1 : R;
                b[r][2] = l1 ? l1 - 1 : 0;
                b[r][3] = h1 < C ? h1 + 1 : C;
            }
            int32_t *mine = malloc(R * C * sizeof *mine);
            for (uint64_t i = 0; i < R; i++)
                for (uint64_t j = 0; j < C; j++)
                    mine[i * C + j] = halo_val(i, j, T_rank);
            const uint64_t *m = b[T_rank];
            rc = put_box(a, C, mine, m[0], m[2], m[1] - m[0], m[3] - m[2]);
            free(mine);
            for (uint64_t i = 0; i < R; i++)
                for (uint64_t j = 0; j < C; j++)
                    for (int r = T_size - 1; r >= 0; r--)
                        if (i >= b[r][0] && i < b[r][1] && j >= b[r][2] && j < b[r][3]) {
                            want[i * C + j] = halo_val(i, j, r);
                            break;
                        }
            free(b);
        }
        T_OK(rc, pzarr_array_errmsg(a));
        T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        T_ASSERT_ALL(check_reads(a, want, R, C));
        T_ASSERT_ALL(verify_shards(dir, name, &sp, K_ZSTD, want, 0) == NULL);
        T_OK(pzarr_array_close(a), pzarr_errmsg(s));
        free(want);
    }
    T_ASSERT_ALL(count_suffix(dir, ".pzarr-tmp-shard") == 0);
    T_OK(pzarr_close(s), NULL);
}

/* A 3-D array, shards misaligned with slabs along the last dimension. */
static void test_misaligned_3d(void **st)
{
    (void)st;
    const char *dir = t_dir("mis3d");
    pzarr_store *s = open_store(dir);
    spec sp = {"int32", 3, {9, 10, 11}, {4, 6, 6}, {2, 3, 3}, "5", CODECS[K_BLOSC], 1, 1, 0};
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "arr", meta(&sp), &a), pzarr_errmsg(s));
    const uint64_t N = 9 * 10 * 11;
    int32_t *want = malloc(N * sizeof *want), *buf = malloc(N * sizeof *buf);
    for (uint64_t k = 0; k < N; k++)
        want[k] = (int32_t)(k * 7 + 11);
    uint64_t lo, hi;
    slab(11, T_rank, T_size, &lo, &hi);
    for (uint64_t i = 0; i < 9; i++)
        for (uint64_t j = 0; j < 10; j++)
            for (uint64_t k = lo; k < hi; k++)
                buf[(i * 10 + j) * (hi - lo) + k - lo] = want[(i * 10 + j) * 11 + k];
    uint64_t st3[3] = {0, 0, lo}, cnt3[3] = {9, 10, hi - lo};
    T_OK(pzarr_array_write(a, st3, cnt3, buf), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    uint64_t z[3] = {0, 0, 0}, full[3] = {9, 10, 11};
    memset(buf, 0, N * sizeof *buf);
    int ok = pzarr_array_read(a, z, full, buf) == 0 && memcmp(buf, want, N * sizeof *buf) == 0;
    T_ASSERT_ALL(ok);
    memset(buf, 0, N * sizeof *buf);
    T_OK(pzarr_array_read_all(a, z, full, buf), pzarr_array_errmsg(a));
    T_ASSERT_ALL(memcmp(buf, want, N * sizeof *buf) == 0);
    /* 3 x 2 x 2 shards, each with 2 x 2 x 2 inner chunks, index at start. */
    layout l = layout_of(&sp);
    uint64_t e[16];
    int files = 0;
    ok = 1;
    for (int si = 0; si < 3; si++)
        for (int sj = 0; sj < 2; sj++)
            for (int sk = 0; sk < 2; sk++) {
                char p[4400];
                snprintf(p, sizeof p, "%s/arr/c/%d/%d/%d", dir, si, sj, sk);
                size_t size;
                unsigned char *f = t_slurp(p, &size);
                files += f != NULL;
                ok &= f && parse_shard(&l, f, size, e) == NULL;
                free(f);
            }
    T_ASSERT_ALL(ok && files == 12);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    free(want);
    free(buf);
}

/* ZSTD frame of the same data with a content checksum: decodes the same,
 * differs from what pzarr writes (level 1, no checksum). */
static unsigned char *zstd_alt(const unsigned char *enc, size_t len, size_t raw, size_t *out)
{
    unsigned char *plain = malloc(raw);
    if (ZSTD_decompress(plain, raw, enc, len) != raw) {
        free(plain);
        return NULL;
    }
    size_t cap = ZSTD_compressBound(raw);
    unsigned char *z = malloc(cap);
    ZSTD_CCtx *cx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel, 19);
    ZSTD_CCtx_setParameter(cx, ZSTD_c_checksumFlag, 1);
    *out = ZSTD_compress2(cx, z, cap, plain, raw);
    ZSTD_freeCCtx(cx);
    free(plain);
    if (ZSTD_isError(*out)) {
        free(z);
        return NULL;
    }
    return z;
}

/*
 * Rank 0 replaces inner chunk `alt` of the shard by another valid encoding
 * of the same values. Returns the new file (NULL on failure) and its index.
 */
static unsigned char *swap_encoding(const char *p, const layout *l, uint64_t alt, size_t raw,
                                    size_t *size, uint64_t *e)
{
    size_t n0;
    unsigned char *f0 = t_slurp(p, &n0);
    if (!f0 || parse_shard(l, f0, n0, e) != NULL || e[2 * alt] == EMPTY) {
        free(f0);
        return NULL;
    }
    unsigned char **data = calloc(l->n, sizeof *data);
    size_t *len = calloc(l->n, sizeof *len);
    for (uint64_t k = 0; k < l->n; k++)
        if (e[2 * k] != EMPTY) {
            data[k] = f0 + e[2 * k];
            len[k] = (size_t)e[2 * k + 1];
        }
    unsigned char *z = zstd_alt(data[alt], len[alt], raw, &len[alt]);
    data[alt] = z;
    unsigned char *f1 = z ? build_shard(l, data, len, size) : NULL;
    if (f1 && (t_spit(p, f1, *size) != 0 || parse_shard(l, f1, *size, e) != NULL)) {
        free(f1);
        f1 = NULL;
    }
    free(z);
    free(data);
    free(len);
    free(f0);
    return f1;
}

/* Whether every inner chunk of f2 other than those in `changed` has the
 * same encoded bytes as in f1. */
static int untouched_same(const layout *l, const unsigned char *f1, const uint64_t *e1,
                          const unsigned char *f2, const uint64_t *e2, const int *changed)
{
    for (uint64_t k = 0; k < l->n; k++) {
        if (changed[k])
            continue;
        if (e1[2 * k + 1] != e2[2 * k + 1] ||
            memcmp(f1 + e1[2 * k], f2 + e2[2 * k], (size_t)e1[2 * k + 1]) != 0) {
            if (!quiet)
                fprintf(stderr, "inner chunk %llu: %llu bytes at %llu before, %llu bytes at %llu "
                        "after, contents %s\n", (unsigned long long)k,
                        (unsigned long long)e1[2 * k + 1], (unsigned long long)e1[2 * k],
                        (unsigned long long)e2[2 * k + 1], (unsigned long long)e2[2 * k],
                        e1[2 * k + 1] == e2[2 * k + 1] ? "differ" : "-");
            return 0;
        }
    }
    return 1;
}

/*
 * Partial rewrite of a shard: the untouched inner chunks are copied, byte
 * for byte, into the new shard file, not decoded and re-encoded. To tell a
 * copy from a re-encoding, one untouched inner chunk is first replaced (by
 * rank 0, behind pzarr's back) with a different valid zstd frame of the same
 * values; the rewrite must keep that frame.
 */
static void test_partial_rewrite(void **st)
{
    (void)st;
    const char *dir = t_dir("partial");
    pzarr_store *s = open_store(dir);
    const uint64_t R = 16, C = 16;
    for (int at_start = 0; at_start < 2; at_start++) {
        spec sp = {"int32", 2, {R, C}, {16, 16}, {4, 4}, "0", CODECS[K_ZSTD], at_start, 1, 0};
        const char *arr = at_start ? "start" : "end";
        layout l = layout_of(&sp);
        pzarr_array *a;
        T_OK(pzarr_array_create(s, arr, meta(&sp), &a), pzarr_errmsg(s));
        int32_t *want = pattern(R, C, 4);
        uint64_t lo, hi;
        slab(R, T_rank, T_size, &lo, &hi);
        T_OK(put_box(a, C, want, lo, 0, hi - lo, C), pzarr_array_errmsg(a));
        T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        char p[4400];
        snprintf(p, sizeof p, "%s", shard_path(dir, arr, 0, 0));
        uint64_t e1[32], e2[32];
        size_t n1 = 0, n2 = 0;
        unsigned char *f1 = NULL, *f2 = NULL;
        if (T_rank == 0)
            f1 = swap_encoding(p, &l, 15, 4 * 4 * 4, &n1, e1);
        T_ASSERT_ALL(T_rank != 0 || f1 != NULL);
        T_ASSERT_ALL(check_reads(a, want, R, C));

        /* The last rank rewrites a 2x2 box inside inner chunk (1,2) = 6. */
        int32_t *mine = filled(R, C, -5);
        if (T_rank == T_size - 1)
            T_OK(put_box(a, C, mine, 5, 9, 2, 2), pzarr_array_errmsg(a));
        else
            T_OK(0, NULL);
        for (uint64_t i = 5; i < 7; i++)
            for (uint64_t j = 9; j < 11; j++)
                want[i * C + j] = -5;
        T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        T_ASSERT_ALL(check_reads(a, want, R, C));
        int ok = 1;
        if (T_rank == 0) {
            f2 = t_slurp(p, &n2);
            const char *why = f2 ? parse_shard(&l, f2, n2, e2) : "shard missing";
            if (why)
                fprintf(stderr, "after the partial rewrite: %s\n", why);
            int changed[16] = {0};
            changed[6] = 1;
            ok = why == NULL && untouched_same(&l, f1, e1, f2, e2, changed);
            /* ... and the comparison does see the rewritten inner chunk. */
            int none[16] = {0};
            quiet = 1;
            ok &= why == NULL && !untouched_same(&l, f1, e1, f2, e2, none);
            quiet = 0;
            ok &= verify_shards(dir, arr, &sp, K_ZSTD, want, 0) == NULL;
        }
        /* BUG if this fails: untouched inner chunks were re-encoded. */
        T_ASSERT_ALL(ok);

        /* Two ranks (or rank 0 twice) rewrite inner chunks 0 and 9. */
        free(f1);
        f1 = f2;
        memcpy(e1, e2, sizeof e1);
        n1 = n2;
        f2 = NULL;
        if (T_rank == 0)
            T_OK(put_box(a, C, mine, 0, 0, 1, 1), pzarr_array_errmsg(a));
        else
            T_OK(0, NULL);
        if (T_rank == T_size - 1)
            T_OK(put_box(a, C, mine, 9, 6, 1, 2), pzarr_array_errmsg(a));
        else
            T_OK(0, NULL);
        want[0] = want[9 * C + 6] = want[9 * C + 7] = -5;
        T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        T_ASSERT_ALL(check_reads(a, want, R, C));
        if (T_rank == 0) {
            f2 = t_slurp(p, &n2);
            int changed[16] = {0};
            changed[0] = changed[9] = 1;
            ok = f2 && parse_shard(&l, f2, n2, e2) == NULL &&
                 untouched_same(&l, f1, e1, f2, e2, changed);
            ok &= verify_shards(dir, arr, &sp, K_ZSTD, want, 0) == NULL;
        }
        T_ASSERT_ALL(ok);
        T_ASSERT_ALL(count_suffix(dir, ".pzarr-tmp-shard") == 0);
        free(f1);
        free(f2);
        free(mine);
        free(want);
        T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    }
    T_OK(pzarr_close(s), NULL);
}

/*
 * Every index layout (start/end, with/without crc32c; little/big endian)
 * three times, every inner codec chain twice (12 arrays rather than all 24:
 * with more ranks than cores each array costs seconds); files checked with
 * the independent decoder. Shape 33x23 with 20x12 shards and 5x4 inner
 * chunks: edge shards hold inner chunks wholly outside the array (rows
 * 35-39), which must stay empty.
 */
static void test_layouts_and_codecs(void **st)
{
    (void)st;
    const char *dir = t_dir("codecs");
    pzarr_store *s = open_store(dir);
    const uint64_t R = 33, C = 23;
    int n = 0;
    for (int kind = K_RAW; kind <= K_TBIG_BLOSC; kind++)
        for (int at_start = 0; at_start < 2; at_start++) {
                int crc = (kind & 1) ^ at_start, big = kind >= K_BLOSC;
                spec sp = {"int32", 2, {R, C}, {20, 12}, {5, 4}, "-7", CODECS[kind],
                           at_start, crc, big};
                char name[64];
                snprintf(name, sizeof name, "k%d", n++);
                pzarr_array *a;
                T_OK(pzarr_array_create(s, name, meta(&sp), &a), pzarr_errmsg(s));
                int32_t *want = pattern(R, C, kind);
                /* Row 0 stays fill: inner chunks (0, *) of shard row 0 hold
                 * data in rows 1-4 only; rows 25-29 all fill: empty entries. */
                for (uint64_t i = 0; i < R; i++)
                    for (uint64_t j = 0; j < C; j++)
                        if (i == 0 || (i >= 25 && i < 30))
                            want[i * C + j] = -7;
                uint64_t lo, hi;
                slab(R, T_rank, T_size, &lo, &hi);
                T_OK(put_box(a, C, want, lo, 0, hi - lo, C), pzarr_array_errmsg(a));
                T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
                T_ASSERT_ALL(check_reads_quick(a, want, R, C));
                const char *why = verify_shards(dir, name, &sp, kind, want, -7);
                if (why)
                    fprintf(stderr, "%s, index at %s, crc32c %d, %s endian: %s\n",
                            KIND_NAME[kind], at_start ? "start" : "end", crc,
                            big ? "big" : "little", why);
                T_ASSERT_ALL(why == NULL);
                /* The stored document keeps the sharding configuration. */
                char *doc = NULL;
                T_OK(pzarr_array_metadata(a, &doc), pzarr_array_errmsg(a));
                T_ASSERT_ALL(doc && strstr(doc, "sharding_indexed") &&
                             strstr(doc, at_start ? "\"start\"" : "\"end\"") &&
                             (strstr(doc, "crc32c") != NULL) == crc);
                pzarr_free(doc);
                T_OK(pzarr_array_close(a), pzarr_errmsg(s));
                free(want);
            }
    T_OK(pzarr_close(s), NULL);
}

/* A shard of fill values is not stored, and is removed when overwritten
 * with fill; inner chunks of fill get empty index entries. */
static void test_fill(void **st)
{
    (void)st;
    const char *dir = t_dir("fill");
    pzarr_store *s = open_store(dir);
    spec sp = {"int32", 2, {8, 8}, {4, 8}, {4, 4}, "7", CODECS[K_ZSTD], 0, 1, 0};
    layout l = layout_of(&sp);
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "arr", meta(&sp), &a), pzarr_errmsg(s));
    int32_t *want = filled(8, 8, 7), *src = pattern(8, 8, 5), *sev = filled(8, 8, 7);
    char p0[4400], p1[4400];
    snprintf(p0, sizeof p0, "%s", shard_path(dir, "arr", 0, 0));
    snprintf(p1, sizeof p1, "%s", shard_path(dir, "arr", 1, 0));
    /* 1. Rank 0 writes into inner chunk 0 of shard 0 only. */
    if (T_rank == 0)
        T_OK(put_box(a, 8, src, 0, 0, 2, 2), pzarr_array_errmsg(a));
    else
        T_OK(0, NULL);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            want[i * 8 + j] = src[i * 8 + j];
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(exists(p0) && !exists(p1));
    size_t size;
    uint64_t e[4];
    unsigned char *f = t_slurp(p0, &size);
    T_ASSERT_ALL(f && parse_shard(&l, f, size, e) == NULL && e[0] != EMPTY &&
                 e[2] == EMPTY && e[3] == EMPTY);
    free(f);
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_ZSTD, want, 7) == NULL);
    /* 2. The last rank writes fill over all of shard 1: still no file. */
    if (T_rank == T_size - 1)
        T_OK(put_box(a, 8, sev, 4, 0, 4, 8), pzarr_array_errmsg(a));
    else
        T_OK(0, NULL);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(exists(p0) && !exists(p1));
    T_ASSERT_ALL(check_reads(a, want, 8, 8));
    /* 3. Everybody writes data everywhere. */
    uint64_t lo, hi;
    slab(8, T_rank, T_size, &lo, &hi);
    T_OK(put_box(a, 8, src, lo, 0, hi - lo, 8), pzarr_array_errmsg(a));
    memcpy(want, src, 64 * sizeof *want);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(exists(p0) && exists(p1));
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_ZSTD, want, 7) == NULL);
    /* 4. Fill over inner chunk 1 of shard 0 (rank 0) and over all of shard 1
     *    (split between ranks): shard 0 keeps an empty entry, shard 1 goes. */
    if (T_rank == 0)
        T_OK(put_box(a, 8, sev, 0, 4, 4, 4), pzarr_array_errmsg(a));
    else
        T_OK(0, NULL);
    slab(4, T_rank, T_size, &lo, &hi);
    T_OK(put_box(a, 8, sev, 4 + lo, 0, hi - lo, 8), pzarr_array_errmsg(a));
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++)
            if (i >= 4 || j >= 4)
                want[i * 8 + j] = 7;
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(exists(p0) && !exists(p1));
    f = t_slurp(p0, &size);
    T_ASSERT_ALL(f && parse_shard(&l, f, size, e) == NULL && e[0] != EMPTY &&
                 e[2] == EMPTY && e[3] == EMPTY);
    free(f);
    T_ASSERT_ALL(check_reads(a, want, 8, 8));
    T_ASSERT_ALL(verify_shards(dir, "arr", &sp, K_ZSTD, want, 7) == NULL);
    /* 5. Fill over what is left: no shard file at all. */
    if (T_rank == T_size - 1)
        T_OK(put_box(a, 8, sev, 0, 0, 4, 4), pzarr_array_errmsg(a));
    else
        T_OK(0, NULL);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(!exists(p0) && !exists(p1));
    T_ASSERT_ALL(check_reads(a, sev, 8, 8));
    char adir[4400];
    snprintf(adir, sizeof adir, "%s/arr", dir);
    T_ASSERT_ALL(count_suffix(adir, "") == 1); /* zarr.json */
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));

    /* A NaN fill: a shard of NaNs (any payload) is not stored. */
    spec sn = {"float64", 2, {4, 4}, {4, 4}, {2, 2}, "\"NaN\"", "[" BYTES_LE "]", 0, 0, 0};
    T_OK(pzarr_array_create(s, "nan", meta(&sn), &a), pzarr_errmsg(s));
    double d[16];
    for (int k = 0; k < 16; k++)
        d[k] = k == 5 ? -NAN : NAN;
    uint64_t z[2] = {0, 0}, c4[2] = {4, 4};
    T_OK(T_rank == 0 ? pzarr_array_write(a, z, c4, d) : 0, pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    char pn[4400];
    snprintf(pn, sizeof pn, "%s/nan/c/0/0", dir);
    T_ASSERT_ALL(!exists(pn));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    free(want);
    free(src);
    free(sev);
}

/* ---------------------------------------------------------- corruption */

enum corruption { BAD_CRC, PAST_END, OVERLAP, SHORT_FILE, SHORT_DATA, BAD_INNER };
static const char *const CORRUPTION[] = {"bad crc32c", "entry past the end",
                                         "overlapping entries", "file shorter than the index",
                                         "data truncated", "inner chunk not zstd"};

/* Rank 0: writes a corrupted copy of the shard file `orig`. */
static int corrupt(const char *p, const layout *l, const unsigned char *orig, size_t size,
                   int how)
{
    unsigned char *f = malloc(size);
    memcpy(f, orig, size);
    uint64_t *e = malloc(2 * l->n * sizeof *e);
    int rc = parse_shard(l, f, size, e) == NULL ? 0 : -1;
    size_t ix = index_pos(l, size), out = size;
    if (how == BAD_CRC) {
        f[ix + 16 + 1] ^= 0x40; /* entry 1's offset */
    } else if (how == PAST_END) {
        e[2 * 2] = (uint64_t)size + 64;
        put_index(l, f, size, e);
    } else if (how == OVERLAP) {
        /* The entry right after entry 0 in the file starts inside entry 0. */
        uint64_t k = 0, best = EMPTY;
        for (uint64_t q = 1; q < l->n; q++)
            if (e[2 * q] > e[0] && (best == EMPTY || e[2 * q] < best)) {
                best = e[2 * q];
                k = q;
            }
        rc |= k == 0 || e[1] < 2 ? -1 : 0;
        e[2 * k] = e[0] + 1;
        put_index(l, f, size, e);
    } else if (how == SHORT_FILE) {
        out = index_bytes(l) - 1;
        if (!l->at_start)
            memmove(f, f + ix, out); /* what is left is most of the index */
    } else if (how == SHORT_DATA) {
        out = size - 3;
    } else {
        memset(f + e[2 * 2], 0, 4); /* the zstd magic number of inner chunk 2 */
    }
    if (rc == 0)
        rc = t_spit(p, f, out);
    free(f);
    free(e);
    return rc;
}

static int has_key(const char *msg, const char *key)
{
    return msg && strstr(msg, key) != NULL;
}

/*
 * A corrupt shard index (or an inner chunk that is not what its codec
 * says) gives PZARR_ECORRUPT naming the shard key: the
 * same code and message on every rank for pzarr_array_read_all (whether
 * every rank or one rank asks for the shard), and on the reading rank for
 * pzarr_array_read. The intact shard still reads. A partial write into the
 * corrupt shard fails the flush everywhere and leaves the file alone.
 */
static void test_corrupt_index(void **st)
{
    (void)st;
    const char *dir = t_dir("corrupt");
    pzarr_store *s = open_store(dir);
    const uint64_t R = 16, C = 8;
    for (int cfg = 0; cfg < 2; cfg++) {
        /* cfg 0: index at the end with crc32c; cfg 1: at the start, no crc32c. */
        spec sp = {"int32", 2, {R, C}, {8, 8}, {4, 4}, "0", CODECS[K_ZSTD], cfg, !cfg, 0};
        layout l = layout_of(&sp);
        const char *arr = cfg ? "start" : "end";
        pzarr_array *a;
        T_OK(pzarr_array_create(s, arr, meta(&sp), &a), pzarr_errmsg(s));
        int32_t *want = pattern(R, C, 6), *buf = malloc(R * C * sizeof *buf);
        uint64_t lo, hi;
        slab(R, T_rank, T_size, &lo, &hi);
        T_OK(put_box(a, C, want, lo, 0, hi - lo, C), pzarr_array_errmsg(a));
        T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        char p[4400];
        snprintf(p, sizeof p, "%s", shard_path(dir, arr, 1, 0));
        size_t size;
        unsigned char *orig = t_slurp(p, &size);
        T_ASSERT_ALL(orig != NULL);
        static const int cases[2][5] = {{BAD_CRC, PAST_END, OVERLAP, SHORT_FILE, BAD_INNER},
                                        {PAST_END, OVERLAP, SHORT_FILE, SHORT_DATA, -1}};
        for (int ci = 0; ci < 5 && cases[cfg][ci] >= 0; ci++) {
            int how = cases[cfg][ci];
            int rc = T_rank == 0 ? corrupt(p, &l, orig, size, how) : 0;
            T_ASSERT_ALL(rc == 0);
            uint64_t z[2] = {0, 0}, full[2] = {R, C}, none[2] = {0, 0};
            /* Everybody asks for everything. */
            rc = pzarr_array_read_all(a, z, full, buf);
            const char *m = pzarr_array_errmsg(a);
            if (rc != PZARR_ECORRUPT || !has_key(m, "c/1/0"))
                fprintf(stderr, "rank %d: %s, %s: read_all rc %d: %s\n", T_rank, arr,
                        CORRUPTION[how], rc, m);
            T_ASSERT_ALL(rc == PZARR_ECORRUPT && has_key(m, "c/1/0"));
            T_ASSERT_ALL(t_same_str(m));
            /* Only the last rank asks for the corrupt shard. */
            uint64_t st1[2] = {8, 0}, c1[2] = {8, 8};
            int last = T_rank == T_size - 1;
            rc = pzarr_array_read_all(a, last ? st1 : z, last ? c1 : none, buf);
            m = pzarr_array_errmsg(a);
            T_ASSERT_ALL(rc == PZARR_ECORRUPT && has_key(m, "c/1/0"));
            T_ASSERT_ALL(t_same_str(m));
            /* The intact shard reads. */
            uint64_t c0[2] = {8, 8};
            T_OK(pzarr_array_read(a, z, c0, buf), pzarr_array_errmsg(a));
            T_ASSERT_ALL(same_box(buf, want, C, 0, 0, 8, 8, "intact shard"));
            /* A local read by the last rank only. */
            int ok = 1;
            if (last) {
                uint64_t st2[2] = {13, 1}, c2[2] = {1, 1}; /* inner chunk 2 */
                rc = pzarr_array_read(a, st2, c2, buf);
                ok = rc == PZARR_ECORRUPT && has_key(pzarr_array_errmsg(a), "c/1/0");
                if (!ok)
                    fprintf(stderr, "%s, %s: local read rc %d: %s\n", arr, CORRUPTION[how],
                            rc, pzarr_array_errmsg(a));
            }
            T_ASSERT_ALL(ok);
            /* A partial write into the corrupt shard cannot be merged. */
            if (how == BAD_CRC || how == OVERLAP) {
                size_t before_n, after_n;
                unsigned char *before = t_slurp(p, &before_n);
                int32_t v = 99;
                uint64_t st3[2] = {9, 1}, c3[2] = {1, 1};
                T_OK(last ? pzarr_array_write(a, st3, c3, &v) : 0, pzarr_array_errmsg(a));
                rc = pzarr_array_flush(a);
                m = pzarr_array_errmsg(a);
                T_ASSERT_ALL(rc == PZARR_ECORRUPT && has_key(m, "c/1/0"));
                T_ASSERT_ALL(t_same_str(m));
                unsigned char *after = t_slurp(p, &after_n);
                T_ASSERT_ALL(after && before_n == after_n &&
                             memcmp(before, after, after_n) == 0);
                T_ASSERT_ALL(count_suffix(dir, ".pzarr-tmp-shard") == 0);
                free(before);
                free(after);
            }
        }
        T_OK(pzarr_array_close(a), pzarr_errmsg(s));
        free(orig);
        free(want);
        free(buf);
    }
    T_OK(pzarr_close(s), NULL);
}

/* shard_writes and chunk_writes summed over ranks count shards and inner
 * chunks written by each flush. */
static void test_stats(void **st)
{
    (void)st;
    const char *dir = t_dir("stats");
    pzarr_store *s = open_store(dir);
    spec sp = {"int32", 2, {12, 12}, {6, 6}, {3, 3}, "0", CODECS[K_ZSTD], 0, 1, 0};
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "arr", meta(&sp), &a), pzarr_errmsg(s));
    int32_t *src = pattern(12, 12, 7), *zero = filled(12, 12, 0);
    pzarr_stats ps;
    uint64_t lo, hi;
    int last = T_rank == T_size - 1;
    struct {
        uint64_t shards, inner, deletes;
    } want[6] = {{4, 16, 0}, {1, 1, 0}, {2, 2, 0}, {0, 0, 0}, {0, 0, 1}, {3, 12, 0}};
    for (int step = 0; step < 6; step++) {
        pzarr_reset_stats(s);
        int rc = 0;
        if (step == 0) { /* everything */
            slab(12, T_rank, T_size, &lo, &hi);
            rc = put_box(a, 12, src, lo, 0, hi - lo, 12);
        } else if (step == 1) { /* one element of shard (1,1) */
            rc = last ? put_box(a, 12, zero, 7, 7, 1, 1) : 0;
            src[7 * 12 + 7] = 0;
        } else if (step == 2) { /* a box over shards (0,0) and (1,0), twice */
            rc = T_rank == 0 || last ? put_box(a, 12, zero, 5, 0, 2, 2) : 0;
        } else if (step == 4) { /* fill over all of shard (0,1) */
            slab(6, T_rank, T_size, &lo, &hi);
            rc = put_box(a, 12, zero, lo, 6, hi - lo, 6);
        } else if (step == 5) { /* data into shards (0,1), (1,0), (1,1) */
            slab(6, T_rank, T_size, &lo, &hi);
            rc = put_box(a, 12, src, 6 + lo, 0, hi - lo, 12);
            rc |= put_box(a, 12, src, lo, 6, hi - lo, 6);
        }
        T_OK(rc, pzarr_array_errmsg(a));
        T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        T_OK(pzarr_get_stats(s, &ps), pzarr_errmsg(s));
        uint64_t sw = t_sum_u64(ps.shard_writes), cw = t_sum_u64(ps.chunk_writes);
        uint64_t cd = t_sum_u64(ps.chunk_deletes);
        if (sw != want[step].shards || cw != want[step].inner || cd != want[step].deletes)
            if (T_rank == 0)
                fprintf(stderr, "step %d: shard_writes %llu (want %llu), chunk_writes %llu "
                        "(want %llu), chunk_deletes %llu (want %llu)\n", step,
                        (unsigned long long)sw, (unsigned long long)want[step].shards,
                        (unsigned long long)cw, (unsigned long long)want[step].inner,
                        (unsigned long long)cd, (unsigned long long)want[step].deletes);
        T_ASSERT_ALL(sw == want[step].shards && cw == want[step].inner &&
                     cd == want[step].deletes);
    }
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    free(src);
    free(zero);
}

/* Reading part of a big shard reads its index and the inner chunks needed,
 * not the whole file. */
static void test_partial_read_bytes(void **st)
{
    (void)st;
    const char *dir = t_dir("bytes");
    pzarr_store *s = open_store(dir);
    const uint64_t N = 256;
    spec sp = {"int32", 2, {N, N}, {N, N}, {16, 16}, "0", CODECS[K_RAW], 0, 1, 0};
    const uint64_t ib = 256 * 16 + 4, inner = 16 * 16 * 4;
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "arr", meta(&sp), &a), pzarr_errmsg(s));
    int32_t *src = pattern(N, N, 8);
    uint64_t lo, hi;
    slab(N, T_rank, T_size, &lo, &hi);
    T_OK(put_box(a, N, src, lo, 0, hi - lo, N), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    struct stat sb;
    T_ASSERT_ALL(stat(shard_path(dir, "arr", 0, 0), &sb) == 0 &&
                 (uint64_t)sb.st_size == ib + 256 * inner);
    struct {
        uint64_t r0, c0, nr, nc, ninner;
    } boxes[] = {{100, 200, 1, 1, 1}, {0, 0, 1, 1, 1}, {255, 255, 1, 1, 1},
                 {15, 40, 2, 3, 2}, {15, 31, 2, 2, 4}};
    int32_t buf[16];
    for (size_t b = 0; b < sizeof boxes / sizeof *boxes; b++) {
        pzarr_reset_stats(s);
        uint64_t st2[2] = {boxes[b].r0, boxes[b].c0}, c2[2] = {boxes[b].nr, boxes[b].nc};
        T_OK(pzarr_array_read(a, st2, c2, buf), pzarr_array_errmsg(a));
        pzarr_stats ps;
        pzarr_get_stats(s, &ps);
        uint64_t expect = ib + boxes[b].ninner * inner;
        int ok = ps.bytes_read >= expect && ps.bytes_read <= expect + 512 &&
                 same_box(buf, src, N, st2[0], st2[1], c2[0], c2[1], "partial read");
        if (!ok)
            fprintf(stderr, "rank %d: box %zu: bytes_read %llu, expected about %llu "
                    "(index %llu + %llu inner chunks of %llu), file %llu\n", T_rank, b,
                    (unsigned long long)ps.bytes_read, (unsigned long long)expect,
                    (unsigned long long)ib, (unsigned long long)boxes[b].ninner,
                    (unsigned long long)inner, (unsigned long long)sb.st_size);
        T_ASSERT_ALL(ok);
    }
    /* Collective: every rank asks for one element; the owners read. */
    pzarr_reset_stats(s);
    uint64_t st3[2] = {(uint64_t)T_rank * 40, 7}, one[2] = {1, 1};
    T_OK(pzarr_array_read_all(a, st3, one, buf), pzarr_array_errmsg(a));
    pzarr_stats ps;
    pzarr_get_stats(s, &ps);
    uint64_t total = t_sum_u64(ps.bytes_read);
    T_ASSERT_ALL(buf[0] == src[st3[0] * N + 7] && total >= ib + inner &&
                 total <= (uint64_t)T_size * (ib + inner + 512));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    free(src);
}

/* ================================================================ */
/* Fixture chain: written at 3 ranks, read at 1, 2 and 4             */

static const char *rb_root(void)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/shard-readback", PZARR_TEST_TMP);
    return buf;
}

static int64_t rb_a(uint64_t i, uint64_t j) { return (int64_t)(i * 100000 + j * 7) - 50; }
static double rb_b(uint64_t i, uint64_t j, uint64_t k)
{
    return (double)i * 1000.0 + (double)j + (double)k * 0.125;
}

static const spec RB_A = {"int64", 2, {41, 29}, {10, 14}, {5, 7}, "0",
                          "[" BYTES_LE ",{\"name\":\"zstd\",\"configuration\":{\"level\":3,"
                          "\"checksum\":false}}]",
                          0, 1, 0};
static const spec RB_B = {"float64", 3, {13, 11, 9}, {6, 6, 9}, {3, 2, 3}, "-1.5",
                          "[{\"name\":\"transpose\",\"configuration\":{\"order\":[2,1,0]}},"
                          "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
                          "{\"name\":\"gzip\",\"configuration\":{\"level\":1}}]",
                          1, 0, 0};

static void rb_write(void **st)
{
    (void)st;
    if (T_rank == 0)
        t_rmtree(rb_root());
    MPI_Barrier(MPI_COMM_WORLD);
    pzarr_store *s;
    pzarr_array *a;
    T_OK(pzarr_open(MPI_COMM_WORLD, rb_root(), PZARR_CREATE, &s), pzarr_errmsg(s));
    T_OK(pzarr_array_create(s, "a", meta(&RB_A), &a), pzarr_errmsg(s));
    /* Rank 0 covers all with junk; bands of 5 columns (band b by rank
     * b mod n) overwrite it. */
    int64_t *buf = malloc(41 * 29 * sizeof *buf);
    uint64_t z[3] = {0, 0, 0}, all[2] = {41, 29};
    int rc = 0;
    if (T_rank == 0) {
        for (int k = 0; k < 41 * 29; k++)
            buf[k] = -1;
        rc = pzarr_array_write(a, z, all, buf);
    }
    for (uint64_t b = 0; b * 5 < 29 && rc == 0; b++) {
        if ((int)(b % (uint64_t)T_size) != T_rank)
            continue;
        uint64_t j0 = b * 5, w = 29 - j0 < 5 ? 29 - j0 : 5;
        for (uint64_t i = 0; i < 41; i++)
            for (uint64_t j = 0; j < w; j++)
                buf[i * w + j] = rb_a(i, j0 + j);
        uint64_t s2[2] = {0, j0}, c2[2] = {41, w};
        rc = pzarr_array_write(a, s2, c2, buf);
    }
    free(buf);
    T_OK(rc, pzarr_array_errmsg(a));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    /* B: slabs along dimension 1; row 12 of dimension 0 never written, so
     * shards c/2/... are absent. */
    T_OK(pzarr_array_create(s, "b", meta(&RB_B), &a), pzarr_errmsg(s));
    uint64_t lo, hi;
    slab(11, T_rank, T_size, &lo, &hi);
    double *d = malloc(12 * 11 * 9 * sizeof *d);
    for (uint64_t i = 0; i < 12; i++)
        for (uint64_t j = lo; j < hi; j++)
            for (uint64_t k = 0; k < 9; k++)
                d[(i * (hi - lo) + j - lo) * 9 + k] = rb_b(i, j, k);
    uint64_t s3[3] = {0, lo, 0}, c3[3] = {12, hi - lo, 9};
    T_OK(pzarr_array_write(a, s3, c3, d), pzarr_array_errmsg(a));
    free(d);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

static void rb_read(void **st)
{
    (void)st;
    pzarr_store *s;
    pzarr_array *a;
    T_OK(pzarr_open(MPI_COMM_WORLD, rb_root(), PZARR_RDONLY, &s), pzarr_errmsg(s));
    T_OK(pzarr_array_open(s, "a", &a), pzarr_errmsg(s));
    pzarr_array_info info;
    T_OK(pzarr_array_get_info(a, &info), NULL);
    T_ASSERT_ALL(info.ndim == 2 && info.shape[0] == 41 && info.chunks[0] == 10 &&
                 info.chunks[1] == 14 && info.dtype == PZARR_INT64);
    int64_t *buf = malloc(41 * 29 * sizeof *buf);
    uint64_t z[3] = {0, 0, 0}, all[2] = {41, 29};
    int ok = pzarr_array_read(a, z, all, buf) == 0;
    for (uint64_t i = 0; i < 41 && ok; i++)
        for (uint64_t j = 0; j < 29 && ok; j++)
            ok = buf[i * 29 + j] == rb_a(i, j);
    T_ASSERT_ALL(ok);
    uint64_t lo, hi;
    slab(41, T_rank, T_size, &lo, &hi);
    uint64_t s2[2] = {lo, 0}, c2[2] = {hi - lo, 29};
    T_OK(pzarr_array_read_all(a, s2, c2, buf), pzarr_array_errmsg(a));
    for (uint64_t i = lo; i < hi && ok; i++)
        for (uint64_t j = 0; j < 29 && ok; j++)
            ok = buf[(i - lo) * 29 + j] == rb_a(i, j);
    T_ASSERT_ALL(ok);
    free(buf);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));

    T_OK(pzarr_array_open(s, "b", &a), pzarr_errmsg(s));
    double *d = malloc(13 * 11 * 9 * sizeof *d);
    uint64_t all3[3] = {13, 11, 9};
    ok = pzarr_array_read(a, z, all3, d) == 0;
    for (uint64_t i = 0; i < 13 && ok; i++)
        for (uint64_t j = 0; j < 11 && ok; j++)
            for (uint64_t k = 0; k < 9 && ok; k++)
                ok = d[(i * 11 + j) * 9 + k] == (i < 12 ? rb_b(i, j, k) : -1.5);
    T_ASSERT_ALL(ok);
    slab(9, T_rank, T_size, &lo, &hi);
    uint64_t s3[3] = {0, 0, lo}, c3[3] = {13, 11, hi - lo};
    T_OK(pzarr_array_read_all(a, s3, c3, d), pzarr_array_errmsg(a));
    for (uint64_t i = 0; i < 13 && ok; i++)
        for (uint64_t j = 0; j < 11 && ok; j++)
            for (uint64_t k = lo; k < hi && ok; k++)
                ok = d[(i * 11 + j) * (hi - lo) + k - lo] == (i < 12 ? rb_b(i, j, k) : -1.5);
    T_ASSERT_ALL(ok);
    free(d);
    char p[4400];
    snprintf(p, sizeof p, "%s/b/c/2/0/0", rb_root());
    int absent = !exists(p);
    snprintf(p, sizeof p, "%s/b/c/1/1/0", rb_root());
    T_ASSERT_ALL(absent && exists(p));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[argc - 1] : "";
    if (strcmp(mode, "write") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(rb_write)};
        return T_RUN(tests);
    }
    if (strcmp(mode, "read") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(rb_read)};
        return T_RUN(tests);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vector),
        cmocka_unit_test(test_one_shard_all_ranks),
        cmocka_unit_test(test_more_ranks_than_inner),
        cmocka_unit_test(test_ranks_with_nothing),
        cmocka_unit_test(test_misaligned),
        cmocka_unit_test(test_misaligned_3d),
        cmocka_unit_test(test_partial_rewrite),
        cmocka_unit_test(test_layouts_and_codecs),
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_corrupt_index),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_partial_read_bytes),
    };
    return T_RUN(tests);
}
