/*
 * Unit tests of the codec module: pipeline parsing and emitting (v3 codecs,
 * v2 compressors), chunk encode/decode round trips, known vectors from
 * zarr-python/numcodecs, and corrupt or hostile chunk bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "format/format.h"

#include "unit_util.h"

/*
 * Known vectors, generated with /usr/bin/python3 (numcodecs 0.11.0,
 * zarr 2.13.6) from
 *   a = ((np.arange(256) % 7) * 300 - 1000).astype('<i2').reshape(16, 16)
 * by Zstd(level=1), GZip(level=1), Zlib(level=1),
 * Blosc('lz4', 5, SHUFFLE), Blosc('zstd', 3, BITSHUFFLE),
 * Blosc('zlib', 9, NOSHUFFLE) .encode(a); and kv_v2_f_be_zstd is the chunk
 * file 0.0 written by zarr.open(shape=(3, 4), chunks=(3, 4), dtype='>i4',
 * order='F', compressor=Zstd(level=2)) for
 *   (np.arange(12) * 1000 + 0x01020304).reshape(3, 4).
 */
static const unsigned char kv_zstd[31] = {
    0x28, 0xb5, 0x2f, 0xfd, 0x60, 0x00, 0x01, 0xad, 0x00, 0x00, 0x70, 0x18,
    0xfc, 0x44, 0xfd, 0x70, 0xfe, 0x9c, 0xff, 0xc8, 0x00, 0xf4, 0x01, 0x20,
    0x03, 0x01, 0x00, 0xef, 0xa1, 0x4e, 0x25,
};
static const unsigned char kv_gzip[41] = {
    0x1f, 0x8b, 0x08, 0x00, 0xb9, 0x63, 0x01, 0x6b, 0x04, 0xff, 0x93, 0xf8,
    0xe3, 0xf2, 0xb7, 0xe0, 0xdf, 0x9c, 0xff, 0x27, 0x18, 0xbe, 0x30, 0x2a,
    0x30, 0x4b, 0x8c, 0xf2, 0x46, 0x58, 0x48, 0x00, 0x00, 0x44, 0x7f, 0xb5,
    0x6f, 0x00, 0x02, 0x00, 0x00,
};
static const unsigned char kv_zlib[29] = {
    0x78, 0x01, 0x93, 0xf8, 0xe3, 0xf2, 0xb7, 0xe0, 0xdf, 0x9c, 0xff, 0x27,
    0x18, 0xbe, 0x30, 0x2a, 0x30, 0x4b, 0x8c, 0xf2, 0x46, 0x58, 0x48, 0x00,
    0x00, 0x8b, 0xec, 0x0a, 0x26,
};
static const unsigned char kv_blosc_lz4_shuffle[62] = {
    0x02, 0x01, 0x21, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
    0x3e, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00,
    0x7f, 0x18, 0x44, 0x70, 0x9c, 0xc8, 0xf4, 0x20, 0x07, 0x00, 0xe1, 0x50,
    0x20, 0x18, 0x44, 0x70, 0x9c, 0x11, 0x00, 0x00, 0x00, 0x7f, 0xfc, 0xfd,
    0xfe, 0xff, 0x00, 0x01, 0x03, 0x07, 0x00, 0xe1, 0x50, 0x03, 0xfc, 0xfd,
    0xfe, 0xff,
};
static const unsigned char kv_blosc_zstd_bitshuffle[112] = {
    0x02, 0x01, 0x94, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
    0x70, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00,
    0x28, 0xb5, 0x2f, 0xfd, 0x60, 0x00, 0x01, 0x75, 0x02, 0x00, 0xc4, 0x02,
    0x00, 0x2a, 0x95, 0x4a, 0xa5, 0x52, 0xa9, 0x54, 0x99, 0x4c, 0x26, 0x93,
    0xc9, 0x64, 0x32, 0xad, 0x56, 0xab, 0xd5, 0x6a, 0xb5, 0x5a, 0x36, 0x9b,
    0xcd, 0x66, 0xb3, 0xd9, 0x6c, 0x38, 0x1c, 0x0e, 0x87, 0xc3, 0xe1, 0x70,
    0xc9, 0x8f, 0xc7, 0xe3, 0xf1, 0x78, 0x3c, 0x1e, 0x0d, 0x80, 0xe0, 0x28,
    0xce, 0x1d, 0x9d, 0xa1, 0x28, 0xa8, 0x16, 0x42, 0xd3, 0x41, 0xf0, 0x0f,
    0x0c, 0xb0, 0x08, 0x16, 0xb8, 0x78, 0x15, 0x02, 0x16, 0x60, 0xa9, 0xb2,
    0x18, 0x91, 0x9c, 0x08,
};
static const unsigned char kv_blosc_zlib_noshuffle[80] = {
    0x02, 0x01, 0x60, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
    0x50, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00,
    0x78, 0xda, 0x93, 0xf8, 0xe3, 0xf2, 0xb7, 0xe0, 0xdf, 0x9c, 0xff, 0x27,
    0x18, 0xbe, 0x30, 0x2a, 0x30, 0x4b, 0x8c, 0x38, 0x1e, 0x00, 0x09, 0xaa,
    0x84, 0xb2, 0x1a, 0x00, 0x00, 0x00, 0x78, 0xda, 0x2b, 0xf8, 0x37, 0xe7,
    0xff, 0x09, 0x86, 0x2f, 0x8c, 0x0a, 0xcc, 0x12, 0x7f, 0x5c, 0xfe, 0x16,
    0x8c, 0x38, 0x1e, 0x00, 0xc9, 0x77, 0x85, 0x66,
};
static const unsigned char kv_v2_f_be_zstd[57] = {
    0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x30, 0x81, 0x01, 0x00, 0x01, 0x02, 0x03,
    0x04, 0x01, 0x02, 0x12, 0xa4, 0x01, 0x02, 0x22, 0x44, 0x01, 0x02, 0x06,
    0xec, 0x01, 0x02, 0x16, 0x8c, 0x01, 0x02, 0x26, 0x2c, 0x01, 0x02, 0x0a,
    0xd4, 0x01, 0x02, 0x1a, 0x74, 0x01, 0x02, 0x2a, 0x14, 0x01, 0x02, 0x0e,
    0xbc, 0x01, 0x02, 0x1e, 0x5c, 0x01, 0x02, 0x2d, 0xfc,
};

/* ------------------------------------------------------------ helpers */

static int parse_v3(const char *json, int ndim, pzarr_dtype t, pz_pipeline *p, pz_err *e)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    int rc = pz_pipeline_parse_v3(j, ndim, t, p, e);
    cJSON_Delete(j);
    return rc;
}

static void must_parse_v3(const char *json, int ndim, pzarr_dtype t, pz_pipeline *p)
{
    pz_err e = {0};
    int rc = parse_v3(json, ndim, t, p, &e);
    if (rc != 0)
        print_error("parse of %s failed: %s\n", json, e.msg);
    assert_int_equal(rc, 0);
}

static int from_v2(const char *comp, const char *filters, bool order_f, bool be, int ndim,
                   pzarr_dtype t, pz_pipeline *p, pz_err *e)
{
    cJSON *c = comp ? cJSON_Parse(comp) : NULL;
    cJSON *f = filters ? cJSON_Parse(filters) : NULL;
    assert_true(!comp || c);
    assert_true(!filters || f);
    int rc = pz_pipeline_from_v2(c, f, order_f, be, ndim, t, p, e);
    cJSON_Delete(c);
    cJSON_Delete(f);
    return rc;
}

/* A short text of a parsed pipeline, to compare parses in one line:
 * "transpose(2,0,1) bytes(big) blosc(lz4:5:bitshuffle) crc32c". */
static void describe_codec(const pz_codec *c, char *s, size_t cap)
{
    static const char *const shuffles[] = {"noshuffle", "shuffle", "bitshuffle"};
    size_t len = 0;
    switch (c->id) {
    case PZ_CODEC_BYTES:
        if (c->u.bytes.has_endian)
            snprintf(s, cap, "bytes(%s)", c->u.bytes.big_endian ? "big" : "little");
        else
            snprintf(s, cap, "bytes");
        return;
    case PZ_CODEC_TRANSPOSE:
        len = (size_t)snprintf(s, cap, "transpose(");
        for (int i = 0; i < PZ_MAX_NDIM && c->u.transpose.order[i] >= 0 && len < cap; i++)
            len += (size_t)snprintf(s + len, cap - len, "%s%d", i ? "," : "",
                                    c->u.transpose.order[i]);
        if (len < cap)
            snprintf(s + len, cap - len, ")");
        return;
    case PZ_CODEC_BLOSC:
        snprintf(s, cap, "blosc(%s:%d:%s)", c->u.blosc.cname, c->u.blosc.clevel,
                 shuffles[c->u.blosc.shuffle]);
        return;
    case PZ_CODEC_ZSTD:
        snprintf(s, cap, "zstd(%d%s)", c->u.zstd.level, c->u.zstd.checksum ? ",checksum" : "");
        return;
    case PZ_CODEC_GZIP:
    case PZ_CODEC_ZLIB:
        snprintf(s, cap, "%s(%d)", c->id == PZ_CODEC_GZIP ? "gzip" : "zlib", c->u.gzip.level);
        return;
    default:
        snprintf(s, cap, c->id == PZ_CODEC_CRC32C ? "crc32c" : "?");
    }
}

static void describe(const pz_pipeline *p, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < p->n && len + 1 < cap; i++) {
        char one[256];
        describe_codec(&p->c[i], one, sizeof one);
        int w = snprintf(out + len, cap - len, "%s%s", i ? " " : "", one);
        len += w > 0 ? (size_t)w : 0;
    }
}

static void assert_msg_has(const pz_err *e, const char *needle)
{
    if (!strstr(e->msg, needle))
        print_error("message \"%s\" lacks \"%s\"\n", e->msg, needle);
    assert_non_null(strstr(e->msg, needle));
}

static char *emit_v3_str(const pz_pipeline *p)
{
    cJSON *j = pz_pipeline_emit_v3(p);
    assert_non_null(j);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    assert_non_null(s);
    return s;
}

static char *emit_v2_str(const pz_pipeline *p)
{
    cJSON *j = pz_pipeline_emit_v2_compressor(p);
    assert_non_null(j);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    assert_non_null(s);
    return s;
}

/* Deterministic, mildly compressible bytes. */
static void fill_bytes(unsigned char *b, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (i % 3 == 0) ? (unsigned char)(x & 0x0f) : (unsigned char)x;
    }
}

static size_t shape_elems(int ndim, const uint64_t *shape)
{
    size_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= (size_t)shape[d];
    return n;
}

/* Encodes then decodes random data and checks it comes back unchanged. */
static void roundtrip(const pz_pipeline *p, int ndim, const uint64_t *shape, pzarr_dtype t,
                      uint32_t seed)
{
    size_t nbytes = shape_elems(ndim, shape) * pzarr_dtype_size(t);
    unsigned char *src = malloc(nbytes ? nbytes : 1), *dst = malloc(nbytes ? nbytes : 1);
    assert_non_null(src);
    assert_non_null(dst);
    fill_bytes(src, nbytes, seed);
    memset(dst, 0xEE, nbytes);
    pz_buf enc = {0};
    pz_err e = {0};
    int rc = pz_chunk_encode(p, ndim, shape, t, src, &enc, &e);
    if (rc)
        print_error("encode: %s\n", e.msg);
    assert_int_equal(rc, 0);
    rc = pz_chunk_decode(p, ndim, shape, t, enc.data, enc.size, dst, &e);
    if (rc)
        print_error("decode: %s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_memory_equal(src, dst, nbytes);
    pz_buf_free(&enc);
    free(src);
    free(dst);
}


static void encode_ok(const pz_pipeline *p, int ndim, const uint64_t *shape, pzarr_dtype t,
                      const void *src, pz_buf *out)
{
    pz_err e = {0};
    int rc = pz_chunk_encode(p, ndim, shape, t, src, out, &e);
    if (rc)
        print_error("encode: %s\n", e.msg);
    assert_int_equal(rc, 0);
}

static void decode_ok(const pz_pipeline *p, int ndim, const uint64_t *shape, pzarr_dtype t,
                      const void *in, size_t n, void *out)
{
    pz_err e = {0};
    int rc = pz_chunk_decode(p, ndim, shape, t, in, n, out, &e);
    if (rc)
        print_error("decode: %s\n", e.msg);
    assert_int_equal(rc, 0);
}

/* ------------------------------------------------------------ crc32c */

static void test_crc32c_vectors(void **state)
{
    (void)state;
    unsigned char zeros[32] = {0}, ones[32];
    memset(ones, 0xFF, sizeof ones);
    assert_int_equal(pz_crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(pz_crc32c("", 0), 0u);
    /* RFC 3720 B.4 test vectors. */
    assert_int_equal(pz_crc32c(zeros, 32), 0x8A9136AAu);
    assert_int_equal(pz_crc32c(ones, 32), 0x62A8AB43u);
}

static void test_crc32c_codec_layout(void **state)
{
    (void)state;
    pz_pipeline p;
    must_parse_v3("[{\"name\":\"bytes\"},{\"name\":\"crc32c\"}]", 1, PZARR_UINT8, &p);
    uint64_t shape[1] = {9};
    pz_buf enc = {0};
    encode_ok(&p, 1, shape, PZARR_UINT8, "123456789", &enc);
    assert_int_equal(enc.size, 13);
    const unsigned char expect[13] = {'1', '2', '3', '4', '5', '6', '7', '8', '9',
                                      0x83, 0x92, 0x06, 0xE3};
    assert_memory_equal(enc.data, expect, 13);
    pz_buf_free(&enc);
}

/* ------------------------------------------------------------ parsing */

static void test_parse_v3_full(void **state)
{
    (void)state;
    pz_pipeline p;
    char d[256];
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":[2,0,1]}},"
                  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
                  "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
                  "\"shuffle\":\"bitshuffle\",\"typesize\":4,\"blocksize\":0}},"
                  "{\"name\":\"crc32c\"}]",
                  3, PZARR_INT32, &p);
    assert_int_equal(p.n, 4);
    assert_int_equal(p.c[0].id, PZ_CODEC_TRANSPOSE);
    assert_int_equal(p.c[0].u.transpose.order[0], 2);
    assert_int_equal(p.c[0].u.transpose.order[1], 0);
    assert_int_equal(p.c[0].u.transpose.order[2], 1);
    assert_int_equal(p.c[1].id, PZ_CODEC_BYTES);
    assert_true(p.c[1].u.bytes.big_endian);
    assert_true(p.c[1].u.bytes.has_endian);
    assert_int_equal(p.c[2].id, PZ_CODEC_BLOSC);
    assert_string_equal(p.c[2].u.blosc.cname, "lz4");
    assert_int_equal(p.c[2].u.blosc.clevel, 5);
    assert_int_equal(p.c[2].u.blosc.shuffle, 2);
    assert_int_equal(p.c[2].u.blosc.typesize, 4);
    assert_int_equal(p.c[2].u.blosc.blocksize, 0);
    assert_int_equal(p.c[3].id, PZ_CODEC_CRC32C);
    describe(&p, d, sizeof d);
    assert_string_equal(d, "transpose(2,0,1) bytes(big) blosc(lz4:5:bitshuffle) crc32c");
}

static void test_parse_v3_defaults(void **state)
{
    (void)state;
    pz_pipeline p;
    char d[256];
    /* Bare names; no endian for a 1-byte type. */
    must_parse_v3("[\"bytes\",\"gzip\",\"zstd\",\"crc32c\"]", 2, PZARR_UINT8, &p);
    assert_int_equal(p.n, 4);
    assert_false(p.c[0].u.bytes.has_endian);
    assert_int_equal(p.c[1].id, PZ_CODEC_GZIP);
    assert_int_equal(p.c[1].u.gzip.level, 5);
    assert_int_equal(p.c[2].u.zstd.level, 0);
    assert_false(p.c[2].u.zstd.checksum);
    describe(&p, d, sizeof d);
    assert_string_equal(d, "bytes gzip(5) zstd(0) crc32c");
    /* blosc defaults follow zarr-python: zstd, level 5, shuffle by item size. */
    must_parse_v3("[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                  "{\"name\":\"blosc\"}]",
                  1, PZARR_INT16, &p);
    assert_string_equal(p.c[1].u.blosc.cname, "zstd");
    assert_int_equal(p.c[1].u.blosc.clevel, 5);
    assert_int_equal(p.c[1].u.blosc.shuffle, 1);
    assert_int_equal(p.c[1].u.blosc.typesize, 2);
    must_parse_v3("[\"bytes\",{\"name\":\"blosc\",\"configuration\":{}}]", 1, PZARR_BOOL, &p);
    assert_int_equal(p.c[1].u.blosc.shuffle, 2);
    assert_int_equal(p.c[1].u.blosc.typesize, 1);
    /* must_understand: false is accepted on a known codec. */
    must_parse_v3("[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"},"
                  "\"must_understand\":false}]",
                  1, PZARR_FLOAT64, &p);
    assert_int_equal(p.n, 1);
    /* Legacy "F" order is the reversal of the axes. */
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":\"F\"}},\"bytes\"]", 3,
                  PZARR_UINT8, &p);
    describe(&p, d, sizeof d);
    assert_string_equal(d, "transpose(2,1,0) bytes");
    /* A 1-byte type may still name its endian. */
    must_parse_v3("[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]", 1,
                  PZARR_INT8, &p);
    assert_true(p.c[0].u.bytes.has_endian);
}

typedef struct bad_case {
    const char *json;
    int ndim;
    pzarr_dtype t;
    int code;
    const char *needle;
} bad_case;

static void test_parse_v3_errors(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"[\"bytes\",{\"name\":\"foo\"}]", 1, PZARR_UINT8, PZARR_EUNSUPPORTED,
         "unsupported codec \"foo\""},
        {"[{\"name\":\"foo\",\"must_understand\":false},\"bytes\"]", 1, PZARR_UINT8,
         PZARR_EUNSUPPORTED, "\"foo\""},
        {"[{\"name\":\"sharding_indexed\",\"configuration\":{}}]", 1, PZARR_UINT8,
         PZARR_EUNSUPPORTED, "\"sharding_indexed\""},
        {"[\"bytes\",\"zlib\"]", 1, PZARR_UINT8, PZARR_EUNSUPPORTED, "\"zlib\""},
        {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"middle\"}}]", 1, PZARR_INT32,
         PZARR_EMETA, "\"endian\""},
        {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":1}}]", 1, PZARR_INT32,
         PZARR_EMETA, "\"endian\""},
        {"[{\"name\":\"bytes\"}]", 1, PZARR_INT32, PZARR_EMETA, "\"endian\" is required"},
        {"[\"bytes\",\"bytes\"]", 1, PZARR_UINT8, PZARR_EMETA, "more than one array->bytes"},
        {"[\"bytes\",{\"name\":\"transpose\",\"configuration\":{\"order\":[0]}}]", 1,
         PZARR_UINT8, PZARR_EMETA, "\"transpose\""},
        {"[\"zstd\",\"bytes\"]", 1, PZARR_UINT8, PZARR_EMETA, "\"zstd\""},
        {"[\"crc32c\"]", 1, PZARR_UINT8, PZARR_EMETA, "\"crc32c\""},
        {"[]", 1, PZARR_UINT8, PZARR_EMETA, "no array->bytes codec"},
        {"[{\"name\":\"transpose\",\"configuration\":{\"order\":[0,0]}},\"bytes\"]", 2,
         PZARR_UINT8, PZARR_EMETA, "\"order\" is not a permutation"},
        {"[{\"name\":\"transpose\",\"configuration\":{\"order\":[0,2]}},\"bytes\"]", 2,
         PZARR_UINT8, PZARR_EMETA, "\"order\""},
        {"[{\"name\":\"transpose\",\"configuration\":{\"order\":[0.5,1]}},\"bytes\"]", 2,
         PZARR_UINT8, PZARR_EMETA, "\"order\""},
        {"[{\"name\":\"transpose\",\"configuration\":{\"order\":[0]}},\"bytes\"]", 2,
         PZARR_UINT8, PZARR_EMETA, "\"order\""},
        {"[{\"name\":\"transpose\"},\"bytes\"]", 2, PZARR_UINT8, PZARR_EMETA,
         "\"order\" is missing"},
        {"[\"bytes\",{\"name\":\"gzip\",\"configuration\":{\"level\":10}}]", 1, PZARR_UINT8,
         PZARR_EMETA, "codec \"gzip\": field \"level\""},
        {"[\"bytes\",{\"name\":\"gzip\",\"configuration\":{\"level\":\"5\"}}]", 1, PZARR_UINT8,
         PZARR_EMETA, "\"level\""},
        {"[\"bytes\",{\"name\":\"gzip\",\"configuration\":{\"level\":1,\"foo\":2}}]", 1,
         PZARR_UINT8, PZARR_EMETA, "unknown field \"foo\""},
        {"[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"checksum\":1}}]", 1, PZARR_UINT8,
         PZARR_EMETA, "\"checksum\""},
        {"[\"bytes\",{\"name\":\"zstd\",\"configuration\":{\"level\":1000}}]", 1, PZARR_UINT8,
         PZARR_EMETA, "\"level\""},
        {"[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"shuffle\":1}}]", 1, PZARR_UINT8,
         PZARR_EMETA, "codec \"blosc\": field \"shuffle\""},
        {"[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lzma\"}}]", 1,
         PZARR_UINT8, PZARR_EMETA, "\"cname\""},
        {"[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"clevel\":-1}}]", 1, PZARR_UINT8,
         PZARR_EMETA, "\"clevel\""},
        {"[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"typesize\":0}}]", 1, PZARR_UINT8,
         PZARR_EMETA, "\"typesize\""},
        {"[\"bytes\",{\"name\":\"blosc\",\"configuration\":{\"blocksize\":-4}}]", 1,
         PZARR_UINT8, PZARR_EMETA, "\"blocksize\""},
        {"[\"bytes\",{\"name\":\"crc32c\",\"configuration\":{\"x\":1}}]", 1, PZARR_UINT8,
         PZARR_EMETA, "\"x\""},
        {"[\"bytes\",{\"name\":\"gzip\",\"configuration\":[1]}]", 1, PZARR_UINT8, PZARR_EMETA,
         "\"configuration\" must be an object"},
        {"[\"bytes\",{\"name\":\"gzip\",\"must_understand\":\"no\"}]", 1, PZARR_UINT8,
         PZARR_EMETA, "must_understand"},
        {"[\"bytes\",{\"configuration\":{}}]", 1, PZARR_UINT8, PZARR_EMETA, "\"name\""},
        {"[\"bytes\",7]", 1, PZARR_UINT8, PZARR_EMETA, "codecs"},
        {"{\"name\":\"bytes\"}", 1, PZARR_UINT8, PZARR_EMETA, "must be an array"},
        {"[\"bytes\",\"crc32c\",\"crc32c\",\"crc32c\",\"crc32c\",\"crc32c\",\"crc32c\","
         "\"crc32c\",\"crc32c\",\"crc32c\",\"crc32c\",\"crc32c\",\"crc32c\",\"crc32c\","
         "\"crc32c\",\"crc32c\",\"crc32c\"]",
         1, PZARR_UINT8, PZARR_EUNSUPPORTED, "at most 16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pz_pipeline p;
        pz_err e = {0};
        int rc = parse_v3(cases[i].json, cases[i].ndim, cases[i].t, &p, &e);
        if (rc != cases[i].code || !strstr(e.msg, cases[i].needle))
            print_error("case %zu %s: rc %d msg \"%s\"\n", i, cases[i].json, rc, e.msg);
        assert_int_equal(rc, cases[i].code);
        assert_int_equal(e.code, cases[i].code);
        assert_msg_has(&e, cases[i].needle);
    }
}

static void test_emit_v3_exact(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int ndim;
        pzarr_dtype t;
    } cases[] = {
        {"[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},"
         "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
         "{\"name\":\"blosc\",\"configuration\":{\"typesize\":8,\"cname\":\"lz4\",\"clevel\":5,"
         "\"shuffle\":\"shuffle\",\"blocksize\":0}},"
         "{\"name\":\"zstd\",\"configuration\":{\"level\":3,\"checksum\":false}},"
         "{\"name\":\"gzip\",\"configuration\":{\"level\":6}},{\"name\":\"crc32c\"}]",
         2, PZARR_FLOAT64},
        {"[{\"name\":\"bytes\"}]", 3, PZARR_UINT8},
        {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
         "{\"name\":\"zstd\",\"configuration\":{\"level\":-5,\"checksum\":true}}]",
         1, PZARR_COMPLEX64},
        {"[{\"name\":\"transpose\",\"configuration\":{\"order\":[2,1,0]}},"
         "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
         3, PZARR_INT16},
        {"[{\"name\":\"transpose\",\"configuration\":{\"order\":[0]}},"
         "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
         1, PZARR_INT16},
        {"[{\"name\":\"transpose\",\"configuration\":{\"order\":[]}},"
         "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
         0, PZARR_INT16},
        {"[{\"name\":\"bytes\"},{\"name\":\"blosc\",\"configuration\":{\"typesize\":1,"
         "\"cname\":\"zstd\",\"clevel\":9,\"shuffle\":\"noshuffle\",\"blocksize\":65536}}]",
         1, PZARR_BOOL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pz_pipeline p, q;
        must_parse_v3(cases[i].json, cases[i].ndim, cases[i].t, &p);
        char *s = emit_v3_str(&p);
        assert_string_equal(s, cases[i].json);
        must_parse_v3(s, cases[i].ndim, cases[i].t, &q);
        char d1[256], d2[256];
        describe(&p, d1, sizeof d1);
        describe(&q, d2, sizeof d2);
        assert_string_equal(d1, d2);
        free(s);
    }
}

static void test_emit_v3_bare_input(void **state)
{
    (void)state;
    pz_pipeline p;
    must_parse_v3("[\"bytes\",\"crc32c\"]", 1, PZARR_INT8, &p);
    char *s = emit_v3_str(&p);
    assert_string_equal(s, "[{\"name\":\"bytes\"},{\"name\":\"crc32c\"}]");
    free(s);
}

/* ------------------------------------------------------------ v2 */

static void test_v2_pipelines(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        pzarr_dtype t;
        const char *emitted;
        const char *described;
    } cases[] = {
        {"{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":1,\"blocksize\":0}",
         PZARR_FLOAT64, "{\"blocksize\":0,\"clevel\":5,\"cname\":\"lz4\",\"id\":\"blosc\","
                        "\"shuffle\":1}",
         "bytes(little) blosc(lz4:5:shuffle)"},
        {"{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":-1,\"blocksize\":0}",
         PZARR_UINT8, "{\"blocksize\":0,\"clevel\":3,\"cname\":\"zstd\",\"id\":\"blosc\","
                      "\"shuffle\":2}",
         "bytes blosc(zstd:3:bitshuffle)"},
        {"{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":-1,\"blocksize\":0}",
         PZARR_INT16, "{\"blocksize\":0,\"clevel\":3,\"cname\":\"zstd\",\"id\":\"blosc\","
                      "\"shuffle\":1}",
         "bytes(little) blosc(zstd:3:shuffle)"},
        {"{\"id\":\"zstd\",\"level\":3}", PZARR_INT32, "{\"id\":\"zstd\",\"level\":3}",
         "bytes(little) zstd(3)"},
        {"{\"id\":\"zstd\",\"level\":3,\"checksum\":true}", PZARR_INT32,
         "{\"checksum\":true,\"id\":\"zstd\",\"level\":3}", "bytes(little) zstd(3,checksum)"},
        {"{\"id\":\"gzip\",\"level\":6}", PZARR_INT32, "{\"id\":\"gzip\",\"level\":6}",
         "bytes(little) gzip(6)"},
        {"{\"id\":\"zlib\",\"level\":1}", PZARR_INT32, "{\"id\":\"zlib\",\"level\":1}",
         "bytes(little) zlib(1)"},
        {"{\"id\":\"zlib\"}", PZARR_INT32, "{\"id\":\"zlib\",\"level\":1}",
         "bytes(little) zlib(1)"},
        {"null", PZARR_INT32, "null", "bytes(little)"},
        {NULL, PZARR_INT32, "null", "bytes(little)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pz_pipeline p;
        pz_err e = {0};
        char d[256];
        int rc = from_v2(cases[i].in, "null", false, false, 1, cases[i].t, &p, &e);
        if (rc)
            print_error("case %zu: %s\n", i, e.msg);
        assert_int_equal(rc, 0);
        char *s = emit_v2_str(&p);
        assert_string_equal(s, cases[i].emitted);
        free(s);
        describe(&p, d, sizeof d);
        assert_string_equal(d, cases[i].described);
    }
}

static void test_v2_order_and_endian(void **state)
{
    (void)state;
    pz_pipeline p;
    pz_err e = {0};
    char d[256];
    assert_int_equal(from_v2("{\"id\":\"zlib\",\"level\":1}", "[]", true, true, 3,
                             PZARR_FLOAT32, &p, &e),
                     0);
    describe(&p, d, sizeof d);
    assert_string_equal(d, "transpose(2,1,0) bytes(big) zlib(1)");
    /* The big-endian flag means nothing for 1-byte types; F is identity in 1-D. */
    assert_int_equal(from_v2(NULL, NULL, true, true, 1, PZARR_UINT8, &p, &e), 0);
    describe(&p, d, sizeof d);
    assert_string_equal(d, "bytes");
    assert_false(p.c[0].u.bytes.big_endian);
    /* A pipeline with crc32c has no v2 compressor form. */
    must_parse_v3("[\"bytes\",\"crc32c\"]", 1, PZARR_UINT8, &p);
    assert_null(pz_pipeline_emit_v2_compressor(&p));
}

static void test_v2_errors(void **state)
{
    (void)state;
    static const struct {
        const char *comp, *filters;
        int code;
        const char *needle;
    } cases[] = {
        {"{\"id\":\"lzma\",\"filters\":[{\"id\":3}]}", NULL, PZARR_EUNSUPPORTED,
         "custom \"filters\""},
        {"{\"id\":\"snappy\"}", NULL, PZARR_EUNSUPPORTED, "unsupported compressor \"snappy\""},
        {NULL, "[{\"id\":\"zfpy\",\"mode\":4}]", PZARR_EUNSUPPORTED,
         "unsupported filter \"zfpy\""},
        {NULL, "[{\"id\":\"delta\",\"dtype\":\"<i4\",\"astype\":\"<i2\"}]",
         PZARR_EUNSUPPORTED, "\"astype\" other than"},
        {NULL, "[{\"id\":\"delta\",\"dtype\":\"<c16\"}]", PZARR_EUNSUPPORTED, "<c16"},
        {NULL, "[{\"id\":\"delta\"}]", PZARR_EMETA, "\"dtype\" is missing"},
        {NULL, "[{\"id\":\"bitround\",\"keepbits\":3}]", PZARR_EUNSUPPORTED,
         "float32 or float64"},
        {NULL, "[{\"id\":\"fixedscaleoffset\",\"scale\":0,\"offset\":1,\"dtype\":\"<f8\"}]",
         PZARR_EMETA, "scale must be finite"},
        {NULL, "[{\"id\":\"quantize\",\"digits\":2,\"dtype\":\"<i4\"}]", PZARR_EMETA,
         "must be floats"},
        {NULL, "[{\"id\":\"shuffle\",\"elementsize\":0}]", PZARR_EMETA, "\"elementsize\""},
        {"{\"id\":\"lz4\",\"acceleration\":0}", NULL, PZARR_EMETA, "\"acceleration\""},
        {NULL, "[{\"dtype\":\"<i4\"}]", PZARR_EMETA, "filters"},
        {NULL, "{\"id\":\"delta\"}", PZARR_EMETA, "filters"},
        {"{\"cname\":\"lz4\"}", NULL, PZARR_EMETA, "\"id\""},
        {"[1]", NULL, PZARR_EMETA, "compressor"},
        {"{\"id\":\"blosc\",\"clevel\":10}", NULL, PZARR_EMETA,
         "compressor \"blosc\": field \"clevel\""},
        {"{\"id\":\"blosc\",\"shuffle\":3}", NULL, PZARR_EMETA, "\"shuffle\""},
        {"{\"id\":\"blosc\",\"shuffle\":\"shuffle\"}", NULL, PZARR_EMETA, "\"shuffle\""},
        {"{\"id\":\"blosc\",\"cname\":\"brotli\"}", NULL, PZARR_EMETA, "\"cname\""},
        {"{\"id\":\"blosc\",\"typesize\":4}", NULL, PZARR_EMETA, "unknown field \"typesize\""},
        {"{\"id\":\"gzip\",\"level\":-1}", NULL, PZARR_EMETA, "compressor \"gzip\""},
        {"{\"id\":\"zlib\",\"level\":1.5}", NULL, PZARR_EMETA, "\"level\""},
        {"{\"id\":\"zstd\",\"checksum\":\"yes\"}", NULL, PZARR_EMETA, "\"checksum\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pz_pipeline p;
        pz_err e = {0};
        int rc = from_v2(cases[i].comp, cases[i].filters, false, false, 2, PZARR_INT32, &p, &e);
        if (rc != cases[i].code)
            print_error("case %zu: rc %d msg %s\n", i, rc, e.msg);
        assert_int_equal(rc, cases[i].code);
        assert_msg_has(&e, cases[i].needle);
    }
}

/* ------------------------------------------------------------ round trips */

static const char *const rt_pipelines[] = {
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]",
    "[{\"name\":\"transpose\",\"configuration\":{\"order\":[2,0,1]}},"
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
    "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
    "\"shuffle\":\"shuffle\",\"blocksize\":0}},\"crc32c\"]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":3,\"checksum\":true}},\"crc32c\"]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"gzip\",\"configuration\":{\"level\":6}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
    "{\"name\":\"gzip\",\"configuration\":{\"level\":0}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"zstd\",\"clevel\":3,"
    "\"shuffle\":\"noshuffle\"}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"blosclz\",\"clevel\":9,"
    "\"shuffle\":\"shuffle\",\"blocksize\":256}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
    "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4hc\",\"clevel\":1,"
    "\"shuffle\":\"bitshuffle\"}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"zlib\",\"clevel\":0,"
    "\"shuffle\":\"shuffle\",\"typesize\":3}}]",
    /* crc32c before a compressor: the compressor's size is size + 4. */
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"crc32c\","
    "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}]",
    /* A compressor after a compressor: the outer one's size is unknown. */
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}},"
    "{\"name\":\"gzip\",\"configuration\":{\"level\":1}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
    "{\"name\":\"gzip\",\"configuration\":{\"level\":9}},"
    "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
    "\"shuffle\":\"noshuffle\"}},\"crc32c\"]",
    "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,2,0]}},"
    "{\"name\":\"transpose\",\"configuration\":{\"order\":[2,1,0]}},"
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
    "{\"name\":\"zstd\",\"configuration\":{\"level\":-1,\"checksum\":false}}]",
    "[{\"name\":\"transpose\",\"configuration\":{\"order\":[0,1,2]}},"
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
};

static void test_roundtrip_all_dtypes(void **state)
{
    (void)state;
    const uint64_t shape[3] = {3, 5, 7};
    for (size_t k = 0; k < sizeof rt_pipelines / sizeof rt_pipelines[0]; k++) {
        for (size_t i = 0; i < UNIT_NDTYPES; i++) {
            pz_pipeline p;
            must_parse_v3(rt_pipelines[k], 3, UNIT_DTYPES[i].t, &p);
            roundtrip(&p, 3, shape, UNIT_DTYPES[i].t, (uint32_t)(k * 31 + i));
        }
    }
}

static void test_roundtrip_v2(void **state)
{
    (void)state;
    static const char *const comps[] = {
        NULL,
        "{\"id\":\"zlib\",\"level\":1}",
        "{\"id\":\"zlib\",\"level\":9}",
        "{\"id\":\"gzip\",\"level\":5}",
        "{\"id\":\"zstd\",\"level\":22}",
        "{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":-1,\"blocksize\":0}",
        "{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":5,\"shuffle\":0,\"blocksize\":0}",
        "{\"id\":\"blosc\",\"cname\":\"lz4hc\",\"clevel\":5,\"shuffle\":2,\"blocksize\":0}",
        "{\"id\":\"lz4\",\"acceleration\":1}",
        "{\"id\":\"lz4\",\"acceleration\":9}",
        "{\"id\":\"bz2\",\"level\":1}",
        "{\"id\":\"lzma\",\"format\":1,\"check\":-1,\"preset\":null,\"filters\":null}",
        "{\"id\":\"lzma\",\"format\":2,\"preset\":1}",
    };
    const uint64_t shape[2] = {17, 9};
    for (size_t k = 0; k < sizeof comps / sizeof comps[0]; k++)
        for (size_t i = 0; i < UNIT_NDTYPES; i++)
            for (int f = 0; f < 4; f++) {
                pz_pipeline p;
                pz_err e = {0};
                assert_int_equal(from_v2(comps[k], NULL, f & 1, f & 2, 2, UNIT_DTYPES[i].t, &p,
                                         &e),
                                 0);
                roundtrip(&p, 2, shape, UNIT_DTYPES[i].t, (uint32_t)(k * 7 + i * 3 + (size_t)f));
            }
}

/* Lossless filters (shuffle for any type; delta on the array's own type,
 * integers wrapping) before a compressor, round trip exactly. */
static void test_roundtrip_v2_filters(void **state)
{
    (void)state;
    const uint64_t shape[2] = {13, 11};
    static const struct {
        pzarr_dtype t;
        const char *np;
    } delta_types[] = {{PZARR_INT8, "|i1"}, {PZARR_UINT16, "<u2"}, {PZARR_INT32, "<i4"},
                       {PZARR_INT64, "<i8"}, {PZARR_UINT64, "<u8"}};
    char filters[256];
    for (size_t i = 0; i < sizeof delta_types / sizeof delta_types[0]; i++)
        for (int f = 0; f < 4; f++) {
            snprintf(filters, sizeof filters,
                     "[{\"id\":\"delta\",\"dtype\":\"%s\"},{\"id\":\"shuffle\"}]",
                     delta_types[i].np);
            pz_pipeline p;
            pz_err e = {0};
            int rc = from_v2(f & 1 ? "{\"id\":\"lz4\"}" : NULL, filters, f & 2, false, 2,
                             delta_types[i].t, &p, &e);
            if (rc)
                print_error("%s: %s\n", filters, e.msg);
            assert_int_equal(rc, 0);
            roundtrip(&p, 2, shape, delta_types[i].t, (uint32_t)(i * 5 + (size_t)f));
        }
    for (size_t i = 0; i < UNIT_NDTYPES; i++) {
        pz_pipeline p;
        pz_err e = {0};
        assert_int_equal(from_v2("{\"id\":\"bz2\",\"level\":2}",
                                 "[{\"id\":\"shuffle\"}]", false, true, 2, UNIT_DTYPES[i].t, &p,
                                 &e),
                         0);
        roundtrip(&p, 2, shape, UNIT_DTYPES[i].t, (uint32_t)i);
    }
}

/* v3 numcodecs.*: the array->array ones run after a little-endian "bytes"
 * and are written back before it; the chain round trips. */
static void test_v3_numcodecs(void **state)
{
    (void)state;
    const char *doc =
        "[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},"
        "{\"name\":\"numcodecs.delta\",\"configuration\":{\"dtype\":\"int32\"}},"
        "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
        "{\"name\":\"numcodecs.shuffle\",\"configuration\":{\"elementsize\":4}},"
        "{\"name\":\"numcodecs.lz4\",\"configuration\":{\"acceleration\":2}}]";
    pz_pipeline p;
    must_parse_v3(doc, 2, PZARR_INT32, &p);
    assert_int_equal(p.n, 5);
    assert_int_equal(p.c[1].id, PZ_CODEC_BYTES);
    assert_int_equal(p.c[2].id, PZ_CODEC_DELTA);
    assert_true(p.c[2].v3_before_bytes);
    /* Written back in v3 order, numcodecs' configuration as numcodecs
     * states it (a type as "<i4", with its "astype"). */
    cJSON *out = pz_pipeline_emit_v3(&p);
    static const char *const names[] = {"transpose", "numcodecs.delta", "bytes",
                                        "numcodecs.shuffle", "numcodecs.lz4"};
    assert_int_equal(cJSON_GetArraySize(out), 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetArrayItem(out, i), "name")->valuestring, names[i]);
    const cJSON *dc = cJSON_GetObjectItem(cJSON_GetArrayItem(out, 1), "configuration");
    assert_string_equal(cJSON_GetObjectItem(dc, "dtype")->valuestring, "<i4");
    assert_null(cJSON_GetObjectItem(dc, "id"));
    pz_pipeline again;
    char *text = cJSON_PrintUnformatted(out);
    must_parse_v3(text, 2, PZARR_INT32, &again);
    assert_int_equal(again.n, 5);
    assert_int_equal(again.c[2].id, PZ_CODEC_DELTA);
    free(text);
    cJSON_Delete(out);
    const uint64_t shape[2] = {9, 14};
    roundtrip(&p, 2, shape, PZARR_INT32, 77);
    /* A numcodecs array->array codec before a transpose cannot move. */
    pz_err e = {0};
    assert_int_equal(parse_v3("[{\"name\":\"numcodecs.delta\",\"configuration\":"
                              "{\"dtype\":\"int32\"}},{\"name\":\"transpose\","
                              "\"configuration\":{\"order\":[1,0]}},{\"name\":\"bytes\","
                              "\"configuration\":{\"endian\":\"little\"}}]",
                              2, PZARR_INT32, &p, &e),
                     PZARR_EUNSUPPORTED);
    assert_msg_has(&e, "before another array->array codec");
}

static void test_roundtrip_shapes(void **state)
{
    (void)state;
    pz_pipeline p;
    /* 0-d: one element; 1-d; 5-d with ragged sizes; a large chunk. */
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":[]}},"
                  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},\"zstd\"]",
                  0, PZARR_COMPLEX128, &p);
    roundtrip(&p, 0, NULL, PZARR_COMPLEX128, 1);
    const uint64_t s1[1] = {1};
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":[0]}},"
                  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},\"gzip\"]",
                  1, PZARR_INT64, &p);
    roundtrip(&p, 1, s1, PZARR_INT64, 2);
    const uint64_t s5[5] = {2, 3, 1, 4, 5};
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":[4,2,0,3,1]}},"
                  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},\"blosc\","
                  "\"crc32c\"]",
                  5, PZARR_FLOAT32, &p);
    roundtrip(&p, 5, s5, PZARR_FLOAT32, 3);
    const uint64_t big[2] = {1000, 1111};
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},"
                  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                  "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\"}},\"crc32c\"]",
                  2, PZARR_FLOAT64, &p);
    roundtrip(&p, 2, big, PZARR_FLOAT64, 4);
}

/* ------------------------------------------------------------ known layouts */

static void test_transpose_2d_known(void **state)
{
    (void)state;
    pz_pipeline p;
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},"
                  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
                  2, PZARR_INT32, &p);
    const uint64_t shape[2] = {2, 3};
    const int32_t src[6] = {0, 1, 2, 3, 4, 5};
    const unsigned char expect[24] = {0, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0,
                                      4, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0};
    pz_buf enc = {0};
    encode_ok(&p, 2, shape, PZARR_INT32, src, &enc);
    assert_int_equal(enc.size, 24);
    assert_memory_equal(enc.data, expect, 24);
    int32_t back[6];
    decode_ok(&p, 2, shape, PZARR_INT32, enc.data, enc.size, back);
    assert_memory_equal(back, src, sizeof src);
    pz_buf_free(&enc);
}

static uint16_t val3(uint64_t a, uint64_t b, uint64_t c)
{
    return (uint16_t)(100 * a + 10 * b + c);
}

/* Encoded axis i is decoded axis order[i]: enc[j] = dec[x], x[order[i]] = j[i]. */
static void check_transpose_3d(const int order[3])
{
    char json[256];
    snprintf(json, sizeof json,
             "[{\"name\":\"transpose\",\"configuration\":{\"order\":[%d,%d,%d]}},"
             "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
             order[0], order[1], order[2]);
    pz_pipeline p;
    must_parse_v3(json, 3, PZARR_UINT16, &p);
    const uint64_t shape[3] = {2, 3, 4};
    uint16_t src[24], back[24];
    for (uint64_t a = 0; a < 2; a++)
        for (uint64_t b = 0; b < 3; b++)
            for (uint64_t c = 0; c < 4; c++)
                src[(a * 3 + b) * 4 + c] = val3(a, b, c);
    pz_buf enc = {0};
    encode_ok(&p, 3, shape, PZARR_UINT16, src, &enc);
    assert_int_equal(enc.size, 48);
    uint64_t es[3] = {shape[order[0]], shape[order[1]], shape[order[2]]};
    for (uint64_t j0 = 0; j0 < es[0]; j0++)
        for (uint64_t j1 = 0; j1 < es[1]; j1++)
            for (uint64_t j2 = 0; j2 < es[2]; j2++) {
                uint64_t x[3];
                x[order[0]] = j0;
                x[order[1]] = j1;
                x[order[2]] = j2;
                size_t at = (size_t)(((j0 * es[1]) + j1) * es[2] + j2) * 2;
                uint16_t got = (uint16_t)(enc.data[at] | enc.data[at + 1] << 8);
                assert_int_equal(got, val3(x[0], x[1], x[2]));
            }
    decode_ok(&p, 3, shape, PZARR_UINT16, enc.data, enc.size, back);
    assert_memory_equal(back, src, sizeof src);
    pz_buf_free(&enc);
}

static void test_transpose_3d_known(void **state)
{
    (void)state;
    static const int orders[][3] = {{2, 0, 1}, {1, 2, 0}, {2, 1, 0}, {0, 2, 1}, {1, 0, 2}};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
        check_transpose_3d(orders[i]);
    /* [2,0,1] of shape (2,3,4) has shape (4,2,3): enc[1][0][2] = dec[0][2][1]. */
    pz_pipeline p;
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":[2,0,1]}},"
                  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]",
                  3, PZARR_UINT16, &p);
    const uint64_t shape[3] = {2, 3, 4};
    uint16_t src[24];
    for (int i = 0; i < 24; i++)
        src[i] = val3((uint64_t)i / 12, (uint64_t)i / 4 % 3, (uint64_t)i % 4);
    pz_buf enc = {0};
    encode_ok(&p, 3, shape, PZARR_UINT16, src, &enc);
    size_t at = ((1 * 2 + 0) * 3 + 2) * 2;
    assert_int_equal(enc.data[at], 0);    /* big-endian 21 = 0x0015 */
    assert_int_equal(enc.data[at + 1], 21);
    pz_buf_free(&enc);
}

static void encode_one(const char *endian, pzarr_dtype t, const void *elem, size_t isz,
                       const unsigned char *expect)
{
    char json[128];
    snprintf(json, sizeof json, "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"%s\"}}]",
             endian);
    pz_pipeline p;
    must_parse_v3(json, 1, t, &p);
    const uint64_t shape[1] = {1};
    pz_buf enc = {0};
    encode_ok(&p, 1, shape, t, elem, &enc);
    assert_int_equal(enc.size, isz);
    assert_memory_equal(enc.data, expect, isz);
    unsigned char back[16];
    decode_ok(&p, 1, shape, t, enc.data, enc.size, back);
    assert_memory_equal(back, elem, isz);
    pz_buf_free(&enc);
}

static void test_bytes_endian_known(void **state)
{
    (void)state;
    const int32_t i32 = 0x01020304;
    const unsigned char be4[4] = {1, 2, 3, 4}, le4[4] = {4, 3, 2, 1};
    encode_one("big", PZARR_INT32, &i32, 4, be4);
    encode_one("little", PZARR_INT32, &i32, 4, le4);
    const uint16_t f16 = 0xABCD;
    const unsigned char be2[2] = {0xAB, 0xCD};
    encode_one("big", PZARR_FLOAT16, &f16, 2, be2);
    const uint64_t c128[2] = {0x0102030405060708ull, 0x1112131415161718ull};
    const unsigned char be16[16] = {1,    2,    3,    4,    5,    6,    7,    8,
                                    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
    encode_one("big", PZARR_COMPLEX128, c128, 16, be16);
    const uint32_t c64[2] = {0x01020304u, 0x11121314u};
    const unsigned char be8[8] = {1, 2, 3, 4, 0x11, 0x12, 0x13, 0x14};
    encode_one("big", PZARR_COMPLEX64, c64, 8, be8);
    const uint64_t u64 = 0x0102030405060708ull;
    const unsigned char be8b[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    encode_one("big", PZARR_UINT64, &u64, 8, be8b);
    const unsigned char u8 = 0xA5;
    encode_one("big", PZARR_UINT8, &u8, 1, &u8);
    encode_one("big", PZARR_BOOL, &u8, 1, &u8);
}

/* ------------------------------------------------------------ numcodecs vectors */

static void decode_numcodecs(const char *comp, const unsigned char *in, size_t n)
{
    pz_pipeline p;
    pz_err e = {0};
    assert_int_equal(from_v2(comp, NULL, false, false, 2, PZARR_INT16, &p, &e), 0);
    const uint64_t shape[2] = {16, 16};
    int16_t out[256];
    decode_ok(&p, 2, shape, PZARR_INT16, in, n, out);
    for (int i = 0; i < 256; i++)
        assert_int_equal(out[i], (i % 7) * 300 - 1000);
}

static void test_numcodecs_vectors(void **state)
{
    (void)state;
    decode_numcodecs("{\"id\":\"zstd\",\"level\":1}", kv_zstd, sizeof kv_zstd);
    decode_numcodecs("{\"id\":\"gzip\",\"level\":1}", kv_gzip, sizeof kv_gzip);
    decode_numcodecs("{\"id\":\"zlib\",\"level\":1}", kv_zlib, sizeof kv_zlib);
    decode_numcodecs("{\"id\":\"blosc\",\"cname\":\"lz4\"}", kv_blosc_lz4_shuffle,
                     sizeof kv_blosc_lz4_shuffle);
    decode_numcodecs("{\"id\":\"blosc\",\"cname\":\"zstd\",\"shuffle\":2}",
                     kv_blosc_zstd_bitshuffle, sizeof kv_blosc_zstd_bitshuffle);
    decode_numcodecs("{\"id\":\"blosc\",\"cname\":\"zlib\",\"shuffle\":0}",
                     kv_blosc_zlib_noshuffle, sizeof kv_blosc_zlib_noshuffle);
}

static void test_zarr_python_v2_chunk(void **state)
{
    (void)state;
    pz_pipeline p;
    pz_err e = {0};
    const uint64_t shape[2] = {3, 4};
    int32_t out[12], src[12];
    for (int i = 0; i < 12; i++)
        src[i] = i * 1000 + 0x01020304;
    /* Decode zarr-python's F-order big-endian zstd chunk. */
    assert_int_equal(from_v2("{\"id\":\"zstd\",\"level\":2}", "null", true, true, 2,
                             PZARR_INT32, &p, &e),
                     0);
    decode_ok(&p, 2, shape, PZARR_INT32, kv_v2_f_be_zstd, sizeof kv_v2_f_be_zstd, out);
    assert_memory_equal(out, src, sizeof src);
    /* Our transpose + big-endian encoding equals zarr-python's raw payload. */
    pz_pipeline raw;
    assert_int_equal(from_v2("{\"id\":\"zstd\"}", NULL, false, false, 1, PZARR_UINT8, &raw,
                             &e),
                     0);
    const uint64_t n48[1] = {48};
    unsigned char payload[48];
    decode_ok(&raw, 1, n48, PZARR_UINT8, kv_v2_f_be_zstd, sizeof kv_v2_f_be_zstd, payload);
    assert_int_equal(from_v2(NULL, NULL, true, true, 2, PZARR_INT32, &p, &e), 0);
    pz_buf enc = {0};
    encode_ok(&p, 2, shape, PZARR_INT32, src, &enc);
    assert_int_equal(enc.size, 48);
    assert_memory_equal(enc.data, payload, 48);
    pz_buf_free(&enc);
}

/* ------------------------------------------------------------ corrupt input */

static int decode_rc(const pz_pipeline *p, int ndim, const uint64_t *shape, pzarr_dtype t,
                     const void *in, size_t n, pz_err *e)
{
    size_t nbytes = shape_elems(ndim, shape) * pzarr_dtype_size(t);
    /* Exactly sized, so that ASan sees any overrun. */
    unsigned char *out = malloc(nbytes ? nbytes : 1);
    assert_non_null(out);
    pz_err_clear(e);
    int rc = pz_chunk_decode(p, ndim, shape, t, in, n, out, e);
    free(out);
    return rc;
}

static void expect_corrupt(const pz_pipeline *p, const uint64_t *shape, const void *in,
                           size_t n, const char *needle)
{
    pz_err e = {0};
    int rc = decode_rc(p, 1, shape, PZARR_INT32, in, n, &e);
    if (rc != PZARR_ECORRUPT)
        print_error("expected ECORRUPT with \"%s\", got %d \"%s\"\n", needle, rc, e.msg);
    assert_int_equal(rc, PZARR_ECORRUPT);
    assert_int_equal(e.code, PZARR_ECORRUPT);
    assert_msg_has(&e, needle);
}

static const struct {
    const char *json;
    const char *outer; /* the codec named when the whole chunk is bad */
} corrupt_pipelines[] = {
    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"zstd\"]", "zstd"},
    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"gzip\"]", "gzip"},
    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"blosc\"]", "blosc"},
    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"crc32c\"]", "crc32c"},
    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"zstd\",\"crc32c\"]",
     "crc32c"},
    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"blosc\",\"gzip\"]",
     "gzip"},
    {"[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]", "bytes"},
};

static void test_corrupt_generic(void **state)
{
    (void)state;
    const uint64_t shape[1] = {1024};
    int32_t src[1024];
    for (int i = 0; i < 1024; i++)
        src[i] = i / 10;
    for (size_t k = 0; k < sizeof corrupt_pipelines / sizeof corrupt_pipelines[0]; k++) {
        pz_pipeline p;
        must_parse_v3(corrupt_pipelines[k].json, 1, PZARR_INT32, &p);
        const char *outer = corrupt_pipelines[k].outer;
        pz_buf enc = {0};
        encode_ok(&p, 1, shape, PZARR_INT32, src, &enc);
        unsigned char *bad = malloc(enc.size);
        assert_non_null(bad);
        expect_corrupt(&p, shape, "", 0, outer);
        expect_corrupt(&p, shape, enc.data, enc.size - 1, outer);
        expect_corrupt(&p, shape, enc.data, enc.size / 2, outer);
        expect_corrupt(&p, shape, enc.data, 3, outer);
        /* Garbage of the right size is valid raw bytes, invalid otherwise. */
        for (int fill = 0; fill < 256 && strcmp(outer, "bytes") != 0; fill += 0xAB) {
            memset(bad, fill, enc.size);
            expect_corrupt(&p, shape, bad, enc.size, outer);
        }
        free(bad);
        pz_buf_free(&enc);
    }
}

static void test_corrupt_crc_flip(void **state)
{
    (void)state;
    pz_pipeline p;
    must_parse_v3("[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
                  "\"zstd\",\"crc32c\"]",
                  1, PZARR_INT32, &p);
    const uint64_t shape[1] = {100};
    int32_t src[100];
    for (int i = 0; i < 100; i++)
        src[i] = i * i;
    pz_buf enc = {0};
    encode_ok(&p, 1, shape, PZARR_INT32, src, &enc);
    for (size_t i = 0; i < enc.size; i++) {
        enc.data[i] ^= 0x10;
        expect_corrupt(&p, shape, enc.data, enc.size, "crc32c: stored 0x");
        enc.data[i] ^= 0x10;
    }
    pz_buf_free(&enc);
}

static void test_corrupt_gzip_flip(void **state)
{
    (void)state;
    pz_pipeline p;
    must_parse_v3("[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"gzip\"]",
                  1, PZARR_INT32, &p);
    const uint64_t shape[1] = {100};
    int32_t src[100];
    for (int i = 0; i < 100; i++)
        src[i] = i * 7;
    pz_buf enc = {0};
    encode_ok(&p, 1, shape, PZARR_INT32, src, &enc);
    /* Bytes past the 10-byte header: the stream or its CRC-32/size trailer. */
    for (size_t i = 10; i < enc.size; i++) {
        enc.data[i] ^= 0x01;
        expect_corrupt(&p, shape, enc.data, enc.size, "gzip");
        enc.data[i] ^= 0x01;
    }
    pz_buf_free(&enc);
}

/* Encodes `n` int32 with pipeline json, then decodes with shape m. */
static void size_mismatch(const char *json, uint64_t n, uint64_t m, const char *msg)
{
    pz_pipeline p;
    must_parse_v3(json, 1, PZARR_INT32, &p);
    int32_t *src = calloc((size_t)n, 4);
    assert_non_null(src);
    const uint64_t sn[1] = {n}, sm[1] = {m};
    pz_buf enc = {0};
    encode_ok(&p, 1, sn, PZARR_INT32, src, &enc);
    expect_corrupt(&p, sm, enc.data, enc.size, msg);
    pz_buf_free(&enc);
    free(src);
}

static void test_corrupt_size_mismatch(void **state)
{
    (void)state;
#define LE "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}"
    size_mismatch("[" LE ",\"zstd\"]", 1024, 2000, "zstd: frame says 4096 bytes, expected 8000");
    size_mismatch("[" LE ",\"zstd\"]", 1024, 512, "zstd: frame says 4096 bytes, expected 2048");
    size_mismatch("[" LE ",\"blosc\"]", 1024, 2000,
                  "blosc: header says 4096 bytes, expected 8000");
    size_mismatch("[" LE ",\"gzip\"]", 1024, 2000, "gzip: decodes to 4096 bytes, expected 8000");
    size_mismatch("[" LE ",\"gzip\"]", 1024, 512,
                  "gzip: decodes to more than the expected 2048 bytes");
    size_mismatch("[" LE "]", 1024, 512, "bytes: chunk holds 4096 bytes, expected 2048");
    size_mismatch("[" LE ",\"crc32c\"]", 1024, 512, "bytes: chunk holds 4096 bytes");
    size_mismatch("[" LE ",\"crc32c\",\"zstd\"]", 1024, 2000,
                  "zstd: frame says 4100 bytes, expected 8004");
#undef LE
}

static void test_corrupt_specific(void **state)
{
    (void)state;
    pz_pipeline p;
    const uint64_t shape[1] = {64};
    int32_t src[64] = {0};
    pz_buf enc = {0};
    must_parse_v3("[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"blosc\"]",
                  1, PZARR_INT32, &p);
    unsigned char hdr[64];
    memset(hdr, 0x5A, sizeof hdr);
    hdr[0] = 0xFF; /* unknown format version */
    expect_corrupt(&p, shape, hdr, sizeof hdr, "blosc: invalid header");
    expect_corrupt(&p, shape, hdr, 10, "blosc: 10 bytes, shorter than the 16-byte header");
    encode_ok(&p, 1, shape, PZARR_INT32, src, &enc);
    expect_corrupt(&p, shape, enc.data, enc.size - 1, "blosc: header says");
    pz_buf_free(&enc);

    /* Trailing garbage after a zlib stream. */
    pz_err e = {0};
    assert_int_equal(from_v2("{\"id\":\"zlib\"}", NULL, false, false, 1, PZARR_INT32, &p, &e),
                     0);
    encode_ok(&p, 1, shape, PZARR_INT32, src, &enc);
    assert_int_equal(pz_buf_append(&enc, "xyz", 3), 0);
    expect_corrupt(&p, shape, enc.data, enc.size, "zlib: 3 trailing bytes");
    pz_buf_free(&enc);

    /* Not a zstd frame. */
    must_parse_v3("[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"zstd\"]",
                  1, PZARR_INT32, &p);
    expect_corrupt(&p, shape, "hello world, not zstd", 21, "zstd: not a zstd frame");
}

/* Two concatenated gzip members or zstd frames decode as one stream. */
static void test_multi_member(void **state)
{
    (void)state;
    static const char *const pipes[] = {
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"gzip\"]",
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"zstd\"]",
    };
    for (int k = 0; k < 2; k++) {
        pz_pipeline p;
        must_parse_v3(pipes[k], 1, PZARR_INT32, &p);
        int32_t src[200], out[200];
        for (int i = 0; i < 200; i++)
            src[i] = i * 3 + 1;
        const uint64_t half[1] = {100}, all[1] = {200};
        pz_buf a = {0}, b = {0};
        encode_ok(&p, 1, half, PZARR_INT32, src, &a);
        encode_ok(&p, 1, half, PZARR_INT32, src + 100, &b);
        assert_int_equal(pz_buf_append(&a, b.data, b.size), 0);
        decode_ok(&p, 1, all, PZARR_INT32, a.data, a.size, out);
        assert_memory_equal(out, src, sizeof src);
        pz_buf_free(&a);
        pz_buf_free(&b);
    }
}

/* zstd frames without a content size are decoded by streaming. */
static size_t zstd_no_size(const void *src, size_t n, void *dst, size_t cap)
{
    ZSTD_CCtx *z = ZSTD_createCCtx();
    assert_non_null(z);
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 0)));
    size_t r = ZSTD_compress2(z, dst, cap, src, n);
    ZSTD_freeCCtx(z);
    assert_false(ZSTD_isError(r));
    assert_int_equal(ZSTD_getFrameContentSize(dst, r), ZSTD_CONTENTSIZE_UNKNOWN);
    return r;
}

static void test_zstd_unknown_size(void **state)
{
    (void)state;
    pz_pipeline p;
    must_parse_v3("[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"zstd\"]",
                  1, PZARR_INT32, &p);
    int32_t src[1000], out[1000];
    for (int i = 0; i < 1000; i++)
        src[i] = i % 17;
    size_t cap = ZSTD_compressBound(sizeof src);
    unsigned char *z = malloc(cap);
    assert_non_null(z);
    size_t n = zstd_no_size(src, sizeof src, z, cap);
    const uint64_t s1000[1] = {1000}, s999[1] = {999}, s1001[1] = {1001};
    decode_ok(&p, 1, s1000, PZARR_INT32, z, n, out);
    assert_memory_equal(out, src, sizeof src);
    expect_corrupt(&p, s999, z, n, "zstd: decodes to more than the expected 3996 bytes");
    expect_corrupt(&p, s1001, z, n, "zstd: decodes to 4000 bytes, expected 4004");
    expect_corrupt(&p, s1000, z, n - 1, "zstd");
    free(z);
}

/* An intermediate stage whose size is unknown is capped (decompression bomb). */
static void test_decompression_bomb(void **state)
{
    (void)state;
    const size_t big = 8u << 20;
    unsigned char *zeros = calloc(big, 1);
    assert_non_null(zeros);
    const uint64_t sbig[1] = {big}, small[1] = {1000};
    pz_pipeline enc_p, dec_p;
    pz_buf enc = {0};
    pz_err e = {0};
    unsigned char out[1000];

    /* gzip over zstd: the gzip stage is decoded first, size unknown. */
    must_parse_v3("[\"bytes\",\"gzip\"]", 1, PZARR_UINT8, &enc_p);
    encode_ok(&enc_p, 1, sbig, PZARR_UINT8, zeros, &enc);
    must_parse_v3("[\"bytes\",\"zstd\",\"gzip\"]", 1, PZARR_UINT8, &dec_p);
    assert_int_equal(pz_chunk_decode(&dec_p, 1, small, PZARR_UINT8, enc.data, enc.size, out, &e),
                     PZARR_ECORRUPT);
    assert_msg_has(&e, "gzip: decodes to more than the limit of");
    pz_buf_free(&enc);

    /* Two gzip members, each under the cap, together over it. */
    const uint64_t s700k[1] = {700000};
    pz_buf m2 = {0};
    encode_ok(&enc_p, 1, s700k, PZARR_UINT8, zeros, &enc);
    assert_int_equal(pz_buf_append(&m2, enc.data, enc.size), 0);
    assert_int_equal(pz_buf_append(&m2, enc.data, enc.size), 0);
    assert_int_equal(pz_chunk_decode(&dec_p, 1, small, PZARR_UINT8, m2.data, m2.size, out, &e),
                     PZARR_ECORRUPT);
    assert_msg_has(&e, "gzip: decodes to more than the limit of 1050576 bytes");
    pz_buf_free(&m2);
    pz_buf_free(&enc);

    /* zstd over gzip, with and without a content size in the frame. */
    must_parse_v3("[\"bytes\",\"zstd\"]", 1, PZARR_UINT8, &enc_p);
    encode_ok(&enc_p, 1, sbig, PZARR_UINT8, zeros, &enc);
    must_parse_v3("[\"bytes\",\"gzip\",\"zstd\"]", 1, PZARR_UINT8, &dec_p);
    assert_int_equal(pz_chunk_decode(&dec_p, 1, small, PZARR_UINT8, enc.data, enc.size, out, &e),
                     PZARR_ECORRUPT);
    assert_msg_has(&e, "zstd: frame says 8388608 bytes, more than the limit");
    size_t cap = ZSTD_compressBound(big);
    assert_int_equal(pz_buf_reserve(&enc, cap), 0);
    enc.size = zstd_no_size(zeros, big, enc.data, cap);
    assert_int_equal(pz_chunk_decode(&dec_p, 1, small, PZARR_UINT8, enc.data, enc.size, out, &e),
                     PZARR_ECORRUPT);
    assert_msg_has(&e, "zstd: decodes to more than the limit of");
    pz_buf_free(&enc);
    free(zeros);
}

/* Random mutations of valid chunks never crash and fail only with ECORRUPT. */
static void test_mutation_fuzz(void **state)
{
    (void)state;
    static const char *const pipes[] = {
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"zstd\"]",
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"gzip\"]",
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"blosc\"]",
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
        "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"shuffle\":\"bitshuffle\"}}]",
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},\"zstd\",\"gzip\"]",
    };
    const uint64_t shape[1] = {700};
    int32_t src[700];
    for (int i = 0; i < 700; i++)
        src[i] = (i * 37) % 101;
    uint32_t x = 2463534242u;
    for (size_t k = 0; k < sizeof pipes / sizeof pipes[0]; k++) {
        pz_pipeline p;
        must_parse_v3(pipes[k], 1, PZARR_INT32, &p);
        pz_buf enc = {0};
        encode_ok(&p, 1, shape, PZARR_INT32, src, &enc);
        unsigned char *m = malloc(enc.size);
        assert_non_null(m);
        for (int iter = 0; iter < 1500; iter++) {
            memcpy(m, enc.data, enc.size);
            int flips = 1 + iter % 4;
            for (int f = 0; f < flips; f++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                m[x % enc.size] ^= (unsigned char)(1u << (x >> 29));
            }
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            size_t len = iter % 5 == 0 ? x % (enc.size + 1) : enc.size;
            pz_err e = {0};
            int rc = decode_rc(&p, 1, shape, PZARR_INT32, m, len, &e);
            if (rc != 0 && rc != PZARR_ECORRUPT)
                print_error("pipeline %zu iter %d: rc %d %s\n", k, iter, rc, e.msg);
            assert_true(rc == 0 || rc == PZARR_ECORRUPT);
            assert_true(rc == 0 || e.msg[0] != '\0');
        }
        free(m);
        pz_buf_free(&enc);
    }
}

/* ------------------------------------------------------------ zfp */

/* zfp (v3, no header) and zfpy (v2, full header): round trips within each
 * mode's promise, the v2 document numcodecs writes (compression_kwargs read
 * past, not written), refusals, and mutated or truncated streams that must
 * fail cleanly (never read outside their buffer: the ASan build runs this). */
static void test_zfp(void **state)
{
    (void)state;
    static const char *const v3[] = {
        "[{\"name\":\"zfp\",\"configuration\":{\"mode\":\"reversible\"}}]",
        "[{\"name\":\"zfp\",\"configuration\":{\"mode\":\"fixed_accuracy\",\"tolerance\":0.01}}]",
        "[{\"name\":\"zfp\",\"configuration\":{\"mode\":\"fixed_rate\",\"rate\":12}}]",
        "[{\"name\":\"zfp\",\"configuration\":{\"mode\":\"fixed_precision\",\"precision\":24}},"
        "\"crc32c\"]",
        "[{\"name\":\"zfp\",\"configuration\":{\"mode\":\"expert\",\"minbits\":0,"
        "\"maxbits\":4000,\"maxprec\":40,\"minexp\":-20}}]",
    };
    const uint64_t shape[3] = {6, 9, 10};
    double src[540], back[540];
    for (int i = 0; i < 540; i++)
        src[i] = 100.0 * __builtin_sin(0.1 * i) + i * 0.25;
    uint32_t x = 88172645u;
    for (size_t k = 0; k < sizeof v3 / sizeof v3[0]; k++) {
        pz_pipeline p;
        must_parse_v3(v3[k], 3, PZARR_FLOAT64, &p);
        pz_buf enc = {0};
        encode_ok(&p, 3, shape, PZARR_FLOAT64, src, &enc);
        pz_err e = {0};
        assert_int_equal(pz_chunk_decode(&p, 3, shape, PZARR_FLOAT64, enc.data, enc.size, back,
                                         &e),
                         0);
        double worst = 0;
        for (int i = 0; i < 540; i++) {
            double d = back[i] > src[i] ? back[i] - src[i] : src[i] - back[i];
            worst = d > worst ? d : worst;
        }
        if (k == 0)
            assert_memory_equal(back, src, sizeof src); /* reversible */
        if (k == 1)
            assert_true(worst <= 0.01);
        unsigned char *m = malloc(enc.size + 1);
        for (int iter = 0; iter < 400; iter++) {
            memcpy(m, enc.data, enc.size);
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            m[x % enc.size] ^= (unsigned char)(1u << (x >> 29));
            size_t len = iter % 3 == 0 ? x % (enc.size + 1) : enc.size;
            int rc = decode_rc(&p, 3, shape, PZARR_FLOAT64, m, len, &e);
            assert_true(rc == 0 || rc == PZARR_ECORRUPT);
        }
        free(m);
        pz_buf_free(&enc);
    }
    /* zfpy as numcodecs 0.11 writes it, and as pzarr writes it again */
    pz_pipeline p;
    pz_err e = {0};
    assert_int_equal(from_v2("{\"compression_kwargs\":{\"rate\":8},\"id\":\"zfpy\",\"mode\":2,"
                             "\"precision\":-1,\"rate\":8,\"tolerance\":-1}",
                             NULL, false, false, 3, PZARR_FLOAT32, &p, &e),
                     0);
    assert_int_equal(p.n, 1);
    cJSON *c = pz_pipeline_emit_v2_compressor(&p);
    char *txt = cJSON_PrintUnformatted(c);
    assert_string_equal(txt, "{\"id\":\"zfpy\",\"mode\":2,\"precision\":-1,\"rate\":8,"
                             "\"tolerance\":-1}");
    free(txt);
    cJSON_Delete(c);
    float f[540], fb[540];
    for (int i = 0; i < 540; i++)
        f[i] = (float)src[i];
    pz_buf enc = {0};
    encode_ok(&p, 3, shape, PZARR_FLOAT32, f, &enc);
    assert_int_equal(pz_chunk_decode(&p, 3, shape, PZARR_FLOAT32, enc.data, enc.size, fb, &e), 0);
    /* the header says another shape than the chunk's */
    const uint64_t other[3] = {9, 6, 10};
    assert_int_equal(decode_rc(&p, 3, other, PZARR_FLOAT32, enc.data, enc.size, &e),
                     PZARR_ECORRUPT);
    assert_non_null(strstr(e.msg, "header"));
    for (size_t len = 0; len < enc.size; len += 7)
        assert_int_equal(decode_rc(&p, 3, shape, PZARR_FLOAT32, enc.data, len, &e),
                         PZARR_ECORRUPT);
    pz_buf_free(&enc);
    /* refusals: a type zfp lacks, zfpy with order F, more than 4 dimensions */
    assert_int_equal(parse_v3(v3[0], 1, PZARR_INT16, &p, &e), PZARR_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "int16"));
    assert_int_equal(from_v2("{\"id\":\"zfpy\",\"mode\":4,\"tolerance\":0.1}", NULL, true,
                             false, 2, PZARR_FLOAT64, &p, &e),
                     PZARR_EUNSUPPORTED);
    must_parse_v3(v3[0], 5, PZARR_FLOAT32, &p);
    const uint64_t five[5] = {2, 3, 2, 2, 2};
    float five_v[48] = {0};
    assert_int_equal(pz_chunk_encode(&p, 5, five, PZARR_FLOAT32, five_v, &enc, &e),
                     PZARR_EUNSUPPORTED);
    assert_non_null(strstr(e.msg, "4 at most"));
    pz_buf_free(&enc);
}

/* ------------------------------------------------------------ allocation failures */

static void test_alloc_failures(void **state)
{
    (void)state;
    pz_pipeline p;
    must_parse_v3("[{\"name\":\"transpose\",\"configuration\":{\"order\":[1,0]}},"
                  "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
                  "\"zstd\",\"gzip\",\"crc32c\"]",
                  2, PZARR_INT64, &p);
    const uint64_t shape[2] = {30, 40};
    int64_t src[1200], out[1200];
    for (int i = 0; i < 1200; i++)
        src[i] = i * 1234567;
    pz_buf enc = {0};
    int rc = -1;
    long k;
    for (k = 0; k < 100 && rc != 0; k++) {
        pz_err e = {0};
        pz_alloc_fail_after(k);
        rc = pz_chunk_encode(&p, 2, shape, PZARR_INT64, src, &enc, &e);
        pz_alloc_fail_after(-1);
        assert_true(rc == 0 || (rc == PZARR_ENOMEM && strstr(e.msg, "out of memory")));
    }
    assert_int_equal(rc, 0);
    assert_true(k > 1); /* at least one failure was injected */
    rc = -1;
    for (k = 0; k < 100 && rc != 0; k++) {
        pz_err e = {0};
        pz_alloc_fail_after(k);
        rc = pz_chunk_decode(&p, 2, shape, PZARR_INT64, enc.data, enc.size, out, &e);
        pz_alloc_fail_after(-1);
        assert_true(rc == 0 || (rc == PZARR_ENOMEM && strstr(e.msg, "out of memory")));
    }
    assert_int_equal(rc, 0);
    assert_true(k > 1);
    assert_memory_equal(out, src, sizeof src);
    pz_buf_free(&enc);
}

/* The vlen layout: every way a chunk can lie about its elements is
 * PZARR_ECORRUPT naming what is wrong; a good one indexes exactly. */
static void test_vlen_layout(void **state)
{
    (void)state;
    /* 3 elements: "ab", "", "\xc3\xa9" */
    const unsigned char good[] = {3, 0, 0, 0, 2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0,
                                  2, 0, 0, 0, 0xc3, 0xa9};
    uint64_t pos[3];
    uint32_t len[3];
    pz_err e;
    pz_err_clear(&e);
    assert_int_equal(pz_vlen_index(PZARR_VLEN_STRING, good, sizeof good, 3, pos, len, &e), 0);
    assert_int_equal(pos[0], 8);
    assert_int_equal(len[0], 2);
    assert_int_equal(len[1], 0);
    assert_int_equal(pos[2], 18);
    assert_int_equal(len[2], 2);
    static const struct {
        size_t n;      /* bytes of good to take */
        uint64_t nelem;
        int patch;     /* index to set to 0xff, or -1 */
        const char *needle;
    } bad[] = {
        {3, 3, -1, "no element count"},
        {sizeof good, 4, -1, "holds 3 elements, expected 4"},
        {sizeof good - 1, 3, -1, "runs past"},
        {12, 3, -1, "truncated at element 1"},
        {sizeof good, 3, 4, "runs past"},      /* a length of 255 */
        {sizeof good, 3, 19, "not UTF-8"},     /* a broken continuation byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char b[sizeof good];
        memcpy(b, good, sizeof good);
        if (bad[i].patch >= 0)
            b[bad[i].patch] = 0xff;
        pz_err_clear(&e);
        int rc = pz_vlen_index(PZARR_VLEN_STRING, b, bad[i].n, bad[i].nelem, NULL, NULL, &e);
        if (rc != PZARR_ECORRUPT || !strstr(e.msg, bad[i].needle))
            print_error("case %zu: %d \"%s\"\n", i, rc, e.msg);
        assert_int_equal(rc, PZARR_ECORRUPT);
        assert_non_null(strstr(e.msg, bad[i].needle));
    }
    /* bytes are not checked for UTF-8; trailing bytes are */
    unsigned char b[sizeof good + 1];
    memcpy(b, good, sizeof good);
    b[19] = 0xff;
    assert_int_equal(pz_vlen_index(PZARR_VLEN_BYTES, b, sizeof good, 3, NULL, NULL, &e), 0);
    assert_int_equal(pz_vlen_index(PZARR_VLEN_BYTES, b, sizeof b, 3, NULL, NULL, &e),
                     PZARR_ECORRUPT);
    /* overlong and surrogate encodings are not UTF-8 */
    assert_false(pz_utf8_valid((const unsigned char *)"\xc0\xaf", 2));
    assert_false(pz_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3));
    assert_true(pz_utf8_valid((const unsigned char *)"\xf0\x9f\x9a\x80", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test(test_crc32c_codec_layout),
        cmocka_unit_test(test_parse_v3_full),
        cmocka_unit_test(test_parse_v3_defaults),
        cmocka_unit_test(test_parse_v3_errors),
        cmocka_unit_test(test_emit_v3_exact),
        cmocka_unit_test(test_emit_v3_bare_input),
        cmocka_unit_test(test_v2_pipelines),
        cmocka_unit_test(test_roundtrip_v2_filters),
        cmocka_unit_test(test_v3_numcodecs),
        cmocka_unit_test(test_v2_order_and_endian),
        cmocka_unit_test(test_v2_errors),
        cmocka_unit_test(test_roundtrip_all_dtypes),
        cmocka_unit_test(test_roundtrip_v2),
        cmocka_unit_test(test_roundtrip_shapes),
        cmocka_unit_test(test_transpose_2d_known),
        cmocka_unit_test(test_transpose_3d_known),
        cmocka_unit_test(test_bytes_endian_known),
        cmocka_unit_test(test_numcodecs_vectors),
        cmocka_unit_test(test_zarr_python_v2_chunk),
        cmocka_unit_test(test_corrupt_generic),
        cmocka_unit_test(test_corrupt_crc_flip),
        cmocka_unit_test(test_corrupt_gzip_flip),
        cmocka_unit_test(test_corrupt_size_mismatch),
        cmocka_unit_test(test_corrupt_specific),
        cmocka_unit_test(test_multi_member),
        cmocka_unit_test(test_zstd_unknown_size),
        cmocka_unit_test(test_decompression_bomb),
        cmocka_unit_test(test_mutation_fuzz),
        cmocka_unit_test(test_zfp),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_vlen_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
