/* Unit tests of the format layer (and data types): zarr.json / .zarray parsing,
 * emitting, fill values and chunk keys. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

#include "unit_util.h"

/* ------------------------------------------------------------ helpers */

static uint64_t chunk_elems(const pz_meta *m)
{
    uint64_t n = 1;
    for (int d = 0; d < m->ndim; d++)
        n *= m->chunks[d];
    return n;
}

static int parse_str(const char *doc, pz_meta *m, pz_err *e)
{
    pz_err_clear(e);
    return pz_meta_parse(doc, strlen(doc), NULL, 0, m, e);
}

static void expect_fail_fmt(int fmt, const char *doc, int code,
                            const char *needle)
{
    pz_meta m;
    pz_err e;
    pz_err_clear(&e);
    int rc = fmt ? pz_meta_parse_format(fmt, doc, strlen(doc), NULL, 0, &m, &e)
                 : pz_meta_parse(doc, strlen(doc), NULL, 0, &m, &e);
    if (rc != code || !strstr(e.msg, needle))
        print_error("doc %s\n  got %d \"%s\", want %d \"%s\"\n", doc, rc,
                    e.msg, code, needle);
    assert_int_equal(rc, code);
    assert_non_null(strstr(e.msg, needle));
    assert_null(m.attributes);
    assert_null(m.dimension_names);
}

static void expect_fail(const char *doc, int code, const char *needle)
{
    expect_fail_fmt(0, doc, code, needle);
}

static void expect_ok(const char *doc)
{
    pz_meta m;
    pz_err e;
    int rc = parse_str(doc, &m, &e);
    if (rc != 0)
        print_error("doc %s\n  failed: %s\n", doc, e.msg);
    assert_int_equal(rc, 0);
    pz_meta_free(&m);
}

static const char *const base_v3 =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[10,20],"
    "\"data_type\":\"int16\",\"chunk_grid\":{\"name\":\"regular\","
    "\"configuration\":{\"chunk_shape\":[3,7]}},\"chunk_key_encoding\":"
    "{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
    "\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\",\"configuration\":"
    "{\"endian\":\"little\"}}],\"attributes\":{}}";

static const char *const base_v2 =
    "{\"zarr_format\":2,\"shape\":[10,20],\"chunks\":[3,7],\"dtype\":\"<i2\","
    "\"compressor\":null,\"fill_value\":0,\"filters\":null,\"order\":\"C\"}";

/* The base document with `key` replaced by the JSON `value` (NULL removes
 * it). The result is freed with free(). */
static char *doc_with(const char *base, const char *key, const char *value)
{
    cJSON *root = cJSON_Parse(base);
    assert_non_null(root);
    cJSON_DeleteItemFromObjectCaseSensitive(root, key);
    if (value) {
        cJSON *v = cJSON_Parse(value);
        assert_non_null(v);
        cJSON_AddItemToObject(root, key, v);
    }
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    assert_non_null(s);
    return s;
}

/* ------------------------------------------------------------ dtype */

static void test_dtype_names(void **state)
{
    (void)state;
    const unit_dtype *cases = UNIT_DTYPES;
    for (size_t i = 0; i < UNIT_NDTYPES; i++) {
        pzarr_dtype t;
        assert_int_equal(pzarr_dtype_size(cases[i].t), cases[i].size);
        assert_string_equal(pzarr_dtype_name(cases[i].t), cases[i].name);
        assert_int_equal(pz_dtype_from_v3(cases[i].name, &t), 0);
        assert_int_equal(t, cases[i].t);
        for (int be = 0; be < 2; be++) {
            char s[32];
            bool big;
            pz_dtype_to_v2(cases[i].t, be, s);
            assert_int_equal(pz_dtype_from_v2(s, &t, &big), 0);
            assert_int_equal(t, cases[i].t);
            assert_int_equal(big, be && cases[i].size > 1);
        }
    }
    assert_int_equal(pzarr_dtype_size((pzarr_dtype)99), 0);
    assert_null(pzarr_dtype_name((pzarr_dtype)99));
    pzarr_dtype t;
    assert_int_equal(pz_dtype_from_v3("string", &t), 0);
    assert_int_equal(t, PZARR_VLEN_STRING);
    assert_int_equal(pz_dtype_from_v3("variable_length_bytes", &t), 0);
    assert_int_equal(t, PZARR_VLEN_BYTES);
    assert_int_equal(pz_dtype_from_v3("bytes", &t), 0); /* zarr-extensions' name */
    assert_int_equal(t, PZARR_VLEN_BYTES);
    assert_int_equal(pzarr_dtype_size(PZARR_VLEN_STRING), 0); /* no fixed size */
    assert_string_equal(pzarr_dtype_name(PZARR_VLEN_BYTES), "variable_length_bytes");
    assert_int_equal(pz_dtype_from_v3("String", &t), PZARR_EUNSUPPORTED);
    assert_int_equal(pz_dtype_from_v3("Float64", &t), PZARR_EUNSUPPORTED);
}

static void test_dtype_v2_strings(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int rc;
        pzarr_dtype t;
        bool big;
    } cases[] = {
        {"|b1", 0, PZARR_BOOL, false},   {"|i1", 0, PZARR_INT8, false},
        {"|u1", 0, PZARR_UINT8, false},  {"<u1", 0, PZARR_UINT8, false},
        {">i1", 0, PZARR_INT8, false},   {"<i2", 0, PZARR_INT16, false},
        {">i2", 0, PZARR_INT16, true},   {"<u8", 0, PZARR_UINT64, false},
        {">u4", 0, PZARR_UINT32, true},  {"<f2", 0, PZARR_FLOAT16, false},
        {"<f4", 0, PZARR_FLOAT32, false}, {">f8", 0, PZARR_FLOAT64, true},
        {"<c8", 0, PZARR_COMPLEX64, false}, {">c16", 0, PZARR_COMPLEX128, true},
        {"|S7", 0, PZARR_STRING_BYTES(7), false}, {"<U13", 0, PZARR_STRING_UTF32(13), false},
        {">U13", 0, PZARR_STRING_UTF32(13), true}, {"|S1024", 0, PZARR_STRING_BYTES(1024), false},
        {"|S1025", PZARR_EUNSUPPORTED, 0, 0}, {"<U257", PZARR_EUNSUPPORTED, 0, 0},
        {">S7", PZARR_EUNSUPPORTED, 0, 0}, {"|S0", PZARR_EMETA, 0, 0},
        {"|S", PZARR_EMETA, 0, 0},         {"<U7x", PZARR_EMETA, 0, 0},
        {"|O", 0, PZARR_VLEN_BYTES, false}, /* the first filter decides */
        {"<M8[ns]", 0, PZARR_DATETIME64(PZARR_TIME_ns, 1), false},
        {">m8[10s]", 0, PZARR_TIMEDELTA64(PZARR_TIME_s, 10), true},
        {"<M8", 0, PZARR_DATETIME64(PZARR_TIME_GENERIC, 1), false},
        {"<M8[us]", 0, PZARR_DATETIME64(PZARR_TIME_us, 1), false},
        {"<M8[Y]", 0, PZARR_DATETIME64(PZARR_TIME_Y, 1), false},
        {"<M8[ns", PZARR_EMETA, 0, 0},   {"<M8[xs]", PZARR_EMETA, 0, 0},
        {"|M8[s]", PZARR_EMETA, 0, 0},   {"<M4[s]", PZARR_EMETA, 0, 0},
        {"<M8[0s]", PZARR_EUNSUPPORTED, 0, 0}, {"<m8[2000000s]", PZARR_EUNSUPPORTED, 0, 0},
        {"|V8", PZARR_EUNSUPPORTED, 0, 0}, {"<f16", PZARR_EUNSUPPORTED, 0, 0},
        {"<i3", PZARR_EUNSUPPORTED, 0, 0}, {"|b2", PZARR_EUNSUPPORTED, 0, 0},
        {"|i2", PZARR_EMETA, 0, 0},      {"|f8", PZARR_EMETA, 0, 0},
        {"=f8", PZARR_EMETA, 0, 0},      {"f8", PZARR_EMETA, 0, 0},
        {"", PZARR_EMETA, 0, 0},         {"<", PZARR_EMETA, 0, 0},
        {"<i", PZARR_EMETA, 0, 0},       {"<i2x", PZARR_EMETA, 0, 0},
        {"<f0008", PZARR_EMETA, 0, 0},   {"<1", PZARR_EMETA, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pzarr_dtype t = PZARR_BOOL;
        bool big = false;
        int rc = pz_dtype_from_v2(cases[i].s, &t, &big);
        if (rc != cases[i].rc)
            print_error("dtype \"%s\": %d\n", cases[i].s, rc);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_int_equal(t, cases[i].t);
            assert_int_equal(big, cases[i].big);
        }
    }
    char s[32];
    pz_dtype_to_v2(PZARR_COMPLEX128, true, s);
    assert_string_equal(s, ">c16");
    pz_dtype_to_v2(PZARR_BOOL, true, s);
    assert_string_equal(s, "|b1");
    pz_dtype_to_v2(PZARR_FLOAT16, false, s);
    assert_string_equal(s, "<f2");
}

/* ------------------------------------------------------------ fixtures */

typedef struct fixture_case {
    const char *name;
    int rc;
    const char *needle;
    pzarr_dtype dtype;
    int ndim;
    uint64_t shape[3], chunks[3];
    int ncodecs;
} fixture_case;

static const fixture_case v3_fixtures[] = {
    {"1d.chunked.compressed.sharded.i2", 0, NULL, PZARR_INT16, 1, {4}, {2}, 2},
    {"1d.chunked.filled.compressed.sharded.i2", 0, NULL, PZARR_INT16, 1, {4}, {2}, 2},
    {"1d.chunked.i2", 0, NULL, PZARR_INT16, 1, {4}, {2}, 2},
    {"1d.chunked.ragged.i2", 0, NULL, PZARR_INT16, 1, {5}, {2}, 2},
    {"1d.chunked.string.vlen", 0, NULL, PZARR_VLEN_STRING, 1, {4}, {2}, 2},
    {"1d.contiguous.b1", 0, NULL, PZARR_BOOL, 1, {4}, {4}, 2},
    {"1d.contiguous.blosc.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 2},
    {"1d.contiguous.compressed.sharded.b1", 0, NULL, PZARR_BOOL, 1, {4}, {4}, 2},
    {"1d.contiguous.compressed.sharded.f4", 0, NULL, PZARR_FLOAT32, 1, {4}, {4}, 2},
    {"1d.contiguous.compressed.sharded.f8", 0, NULL, PZARR_FLOAT64, 1, {4}, {4}, 2},
    {"1d.contiguous.compressed.sharded.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 2},
    {"1d.contiguous.compressed.sharded.i4", 0, NULL, PZARR_INT32, 1, {4}, {4}, 2},
    {"1d.contiguous.compressed.sharded.u1", 0, NULL, PZARR_UINT8, 1, {4}, {4}, 2},
    {"1d.contiguous.delta.i4", 0, NULL, PZARR_INT32, 1, {4}, {4}, 2},
    {"1d.contiguous.f2.le", 0, NULL, PZARR_FLOAT16, 1, {4}, {4}, 2},
    {"1d.contiguous.f4.be", 0, NULL, PZARR_FLOAT32, 1, {4}, {4}, 2},
    {"1d.contiguous.f4.le", 0, NULL, PZARR_FLOAT32, 1, {4}, {4}, 2},
    {"1d.contiguous.f8", 0, NULL, PZARR_FLOAT64, 1, {4}, {4}, 2},
    {"1d.contiguous.gzip.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 2},
    {"1d.contiguous.i4", 0, NULL, PZARR_INT32, 1, {4}, {4}, 2},
    {"1d.contiguous.raw.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 1},
    {"1d.contiguous.string.compressed", 0, NULL, PZARR_VLEN_STRING, 1, {3}, {3}, 2},
    {"1d.contiguous.string.vlen", 0, NULL, PZARR_VLEN_STRING, 1, {4}, {4}, 2},
    {"1d.contiguous.u1", 0, NULL, PZARR_UINT8, 1, {4}, {4}, 2},
    {"1d.string.empty", 0, NULL, PZARR_VLEN_STRING, 1, {3}, {3}, 2},
    {"1d.string.unicode", 0, NULL, PZARR_VLEN_STRING, 1, {4}, {4}, 2},
    {"2d.chunked.compressed.sharded.filled.i2", 0, NULL, PZARR_INT16, 2, {4, 4}, {2, 2}, 2},
    {"2d.chunked.compressed.sharded.i2", 0, NULL, PZARR_INT16, 2, {4, 4}, {2, 2}, 2},
    {"2d.chunked.i2", 0, NULL, PZARR_INT16, 2, {2, 2}, {1, 1}, 2},
    {"2d.chunked.ragged.compressed.sharded.i2", 0, NULL, PZARR_INT16, 2, {3, 3}, {2, 2}, 2},
    {"2d.chunked.ragged.i2", 0, NULL, PZARR_INT16, 2, {3, 3}, {2, 2}, 2},
    {"2d.chunked.string.vlen", 0, NULL, PZARR_VLEN_STRING, 2, {2, 2}, {1, 2}, 2},
    {"2d.contiguous.compressed.sharded.i2", 0, NULL, PZARR_INT16, 2, {2, 2}, {2, 2}, 2},
    {"2d.contiguous.i2", 0, NULL, PZARR_INT16, 2, {2, 2}, {2, 2}, 2},
    {"3d.chunked.compressed.sharded.i2", 0, NULL, PZARR_INT16, 3, {4, 4, 4}, {2, 2, 2}, 2},
    {"3d.chunked.i2", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {1, 1, 1}, 2},
    {"3d.chunked.mixed.compressed.sharded.i2", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {3, 3, 3}, 2},
    {"3d.chunked.mixed.i2.C", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {3, 3, 1}, 2},
    {"3d.chunked.mixed.i2.F", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {3, 3, 1}, 3},
    {"3d.contiguous.compressed.sharded.i2", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {3, 3, 3}, 2},
    {"3d.contiguous.delta.i4.mixed", 0, NULL, PZARR_INT32, 3, {3, 3, 3}, {3, 3, 3}, 3},
    {"3d.contiguous.i2", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {3, 3, 3}, 2},
    {"consolidated", PZARR_ENOTARRAY, "group", 0, 0, {0}, {0}, 0},
    {"my group with spaces", PZARR_ENOTARRAY, "group", 0, 0, {0}, {0}, 0},
    {".", PZARR_ENOTARRAY, "group", 0, 0, {0}, {0}, 0}, /* the root zarr.json */
};

static const fixture_case v2_fixtures[] = {
    {"1d.chunked.i2", 0, NULL, PZARR_INT16, 1, {4}, {2}, 2},
    {"1d.chunked.ragged.i2", 0, NULL, PZARR_INT16, 1, {5}, {2}, 2},
    {"1d.contiguous.S7", 0, NULL, PZARR_STRING_BYTES(7), 1, {4}, {4}, 2},
    {"1d.contiguous.U13.be", 0, NULL, PZARR_STRING_UTF32(13), 1, {4}, {4}, 2},
    {"1d.contiguous.U13.le", 0, NULL, PZARR_STRING_UTF32(13), 1, {4}, {4}, 2},
    {"1d.contiguous.U7", 0, NULL, PZARR_STRING_UTF32(7), 1, {4}, {4}, 2},
    {"1d.contiguous.b1", 0, NULL, PZARR_BOOL, 1, {4}, {4}, 2},
    {"1d.contiguous.bitround.f4", 0, NULL, PZARR_FLOAT32, 1, {4}, {4}, 2},
    {"1d.contiguous.blosc.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 2},
    {"1d.contiguous.delta.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 3},
    {"1d.contiguous.delta.shuffle.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 4},
    {"1d.contiguous.f4.be", 0, NULL, PZARR_FLOAT32, 1, {4}, {4}, 2},
    {"1d.contiguous.f4.le", 0, NULL, PZARR_FLOAT32, 1, {4}, {4}, 2},
    {"1d.contiguous.f8", 0, NULL, PZARR_FLOAT64, 1, {4}, {4}, 2},
    {"1d.contiguous.fixedscaleoffset.f4", 0, NULL, PZARR_FLOAT32, 1, {4}, {4}, 2},
    {"1d.contiguous.i4", 0, NULL, PZARR_INT32, 1, {4}, {4}, 2},
    {"1d.contiguous.json2.O", PZARR_EUNSUPPORTED, "\"|O\"", 0, 0, {0}, {0}, 0},
    {"1d.contiguous.lz4.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 2},
    {"1d.contiguous.raw.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 1},
    {"1d.contiguous.shuffle.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 3},
    {"1d.contiguous.u1", 0, NULL, PZARR_UINT8, 1, {4}, {4}, 2},
    {"1d.contiguous.zlib.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 2},
    {"1d.contiguous.zstd.i2", 0, NULL, PZARR_INT16, 1, {4}, {4}, 2},
    {"2d.chunked.U7", 0, NULL, PZARR_STRING_UTF32(7), 2, {2, 2}, {1, 1}, 2},
    {"2d.chunked.i2", 0, NULL, PZARR_INT16, 2, {2, 2}, {1, 1}, 2},
    {"2d.chunked.ragged.i2", 0, NULL, PZARR_INT16, 2, {3, 3}, {2, 2}, 2},
    {"2d.contiguous.i2", 0, NULL, PZARR_INT16, 2, {2, 2}, {2, 2}, 2},
    {"3d.chunked.O", 0, NULL, PZARR_VLEN_STRING, 3, {2, 2, 2}, {1, 1, 2}, 2},
    {"3d.chunked.i2", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {1, 1, 1}, 2},
    {"3d.chunked.mixed.i2.C", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {3, 3, 1}, 2},
    {"3d.chunked.mixed.i2.F", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {3, 3, 1}, 3},
    {"3d.contiguous.i2", 0, NULL, PZARR_INT16, 3, {3, 3, 3}, {3, 3, 3}, 2},
};

static const char *fixture_root(int fmt)
{
    static char buf[2][1024];
    snprintf(buf[fmt - 2], sizeof buf[0], "%s/zarrita-js/v%d/data.zarr",
             PZARR_FIXTURES, fmt);
    return buf[fmt - 2];
}

static const pz_codec *find_codec(const pz_meta *m, pz_codec_id id)
{
    for (int i = 0; i < m->pipeline.n; i++)
        if (m->pipeline.c[i].id == id)
            return &m->pipeline.c[i];
    return NULL;
}

/* Details that the generic table does not capture. */
static void check_fixture_details(int fmt, const char *name, const pz_meta *m)
{
    if (pz_dtype_is_vlen(m->dtype)) { /* the vlen codec, first: no "bytes" */
        assert_int_equal(m->pipeline.c[0].id, PZ_CODEC_VLEN_UTF8);
        assert_null(find_codec(m, PZ_CODEC_BYTES));
        return;
    }
    const pz_codec *b = find_codec(m, PZ_CODEC_BYTES);
    assert_non_null(b);
    bool be = strstr(name, ".be") != NULL;
    assert_int_equal(b->u.bytes.big_endian, be);
    if (fmt == 2)
        assert_int_equal(m->v2_big_endian, be);
    assert_true(m->key_sep == (fmt == 3 ? '/' : '.'));
    assert_int_equal(m->key_v2_style, fmt == 2);
    assert_false(m->fill_null);
    assert_non_null(m->attributes);
    assert_null(m->dimension_names);
    for (int i = 0; i < 16; i++)
        assert_int_equal(m->fill[i], 0);
    if (strstr(name, "mixed.i2.F")) {
        const pz_codec *t = &m->pipeline.c[0];
        assert_int_equal(t->id, PZ_CODEC_TRANSPOSE);
        assert_int_equal(t->u.transpose.order[0], 2);
        assert_int_equal(t->u.transpose.order[1], 1);
        assert_int_equal(t->u.transpose.order[2], 0);
        if (fmt == 2)
            assert_true(m->v2_order_f);
    }
    if (strstr(name, "gzip")) {
        const pz_codec *g = find_codec(m, PZ_CODEC_GZIP);
        assert_non_null(g);
        assert_int_equal(g->u.gzip.level, 5);
    }
    if (strstr(name, "zlib")) {
        const pz_codec *z = find_codec(m, PZ_CODEC_ZLIB);
        assert_non_null(z);
        assert_int_equal(z->u.gzip.level, 1);
    }
    if (fmt == 2 && strstr(name, "blosc.i2")) {
        const pz_codec *c = find_codec(m, PZ_CODEC_BLOSC);
        assert_non_null(c);
        assert_string_equal(c->u.blosc.cname, "lz4");
        assert_int_equal(c->u.blosc.shuffle, 1);
    }
}

static void run_fixture(int fmt, const fixture_case *fc)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s/%s", fixture_root(fmt), fc->name,
             fmt == 3 ? "zarr.json" : ".zarray");
    size_t len = 0, alen = 0;
    char *doc = (char *)slurp(path, &len);
    if (!doc) {
        print_message("fixture %s absent, skipped\n", path);
        return;
    }
    snprintf(path, sizeof path, "%s/%s/.zattrs", fixture_root(fmt), fc->name);
    char *attrs = fmt == 2 ? (char *)slurp(path, &alen) : NULL;
    pz_meta m;
    pz_err e;
    pz_err_clear(&e);
    int rc = pz_meta_parse_format(fmt, doc, len, attrs, alen, &m, &e);
    if (rc != fc->rc || (fc->needle && !strstr(e.msg, fc->needle)))
        print_error("v%d fixture %s: got %d \"%s\"\n", fmt, fc->name, rc, e.msg);
    assert_int_equal(rc, fc->rc);
    if (rc != 0) {
        assert_non_null(strstr(e.msg, fc->needle));
    } else {
        assert_int_equal(m.zarr_format, fmt);
        assert_int_equal(m.dtype, fc->dtype);
        assert_int_equal(m.itemsize, pz_dtype_slot(fc->dtype));
        assert_int_equal(m.ndim, fc->ndim);
        for (int d = 0; d < fc->ndim; d++) {
            assert_int_equal(m.shape[d], fc->shape[d]);
            assert_int_equal(m.chunks[d], fc->chunks[d]);
        }
        assert_int_equal(m.pipeline.n, fc->ncodecs);
        check_fixture_details(fmt, fc->name, &m);
        /* The auto-detecting parser agrees. */
        pz_meta m2;
        assert_int_equal(pz_meta_parse(doc, len, attrs, alen, &m2, &e), 0);
        assert_int_equal(m2.zarr_format, fmt);
        assert_memory_equal(&m.pipeline, &m2.pipeline, sizeof m.pipeline);
        pz_meta_free(&m2);
        pz_meta_free(&m);
    }
    free(attrs);
    free(doc);
}

/* Every fixture directory must appear in the table. */
static void check_table_covers(int fmt, const fixture_case *t, size_t n)
{
    DIR *dir = opendir(fixture_root(fmt));
    if (!dir)
        return;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        char path[4400];
        size_t len = 0;
        int pn = snprintf(path, sizeof path, "%.2048s/%.256s/%s", fixture_root(fmt),
                         de->d_name, fmt == 3 ? "zarr.json" : ".zarray");
        assert_true(pn > 0 && (size_t)pn < sizeof path);
        char *doc = (char *)slurp(path, &len);
        if (!doc)
            continue;
        free(doc);
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found = found || strcmp(t[i].name, de->d_name) == 0;
        if (!found)
            print_error("fixture %s has no expectation\n", path);
        assert_true(found);
    }
    closedir(dir);
}

static void run_fixture_table(int fmt, const fixture_case *t, size_t n)
{
    DIR *d = opendir(fixture_root(fmt));
    if (!d) {
        print_message("no fixtures at %s\n", fixture_root(fmt));
        skip();
    }
    closedir(d);
    check_table_covers(fmt, t, n);
    for (size_t i = 0; i < n; i++)
        run_fixture(fmt, &t[i]);
}

static void test_fixtures_v3(void **state)
{
    (void)state;
    run_fixture_table(3, v3_fixtures, sizeof v3_fixtures / sizeof v3_fixtures[0]);
}

static void test_fixtures_v2(void **state)
{
    (void)state;
    run_fixture_table(2, v2_fixtures, sizeof v2_fixtures / sizeof v2_fixtures[0]);
}

/* A v2 group document is not an array. */
static void test_fixture_v2_group(void **state)
{
    (void)state;
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/my group with spaces/.zgroup",
             fixture_root(2));
    char *doc = (char *)slurp(path, &len);
    if (!doc)
        skip();
    pz_meta m;
    pz_err e;
    pz_err_clear(&e);
    assert_int_equal(pz_meta_parse(doc, len, NULL, 0, &m, &e), PZARR_EMETA);
    assert_non_null(strstr(e.msg, "\"shape\""));
    free(doc);
}

/* ------------------------------------------------------------ fill values */

typedef struct fill_case {
    pzarr_dtype t;
    int fmt;
    const char *json;
    int rc;
    uint64_t bits, bits_im; /* element bits (complex: real and imaginary) */
    const char *needle;
} fill_case;

static const fill_case fill_cases[] = {
    /* float32 */
    {PZARR_FLOAT32, 3, "\"NaN\"", 0, 0x7fc00000, 0, NULL},
    {PZARR_FLOAT32, 3, "\"Infinity\"", 0, 0x7f800000, 0, NULL},
    {PZARR_FLOAT32, 3, "\"-Infinity\"", 0, 0xff800000, 0, NULL},
    {PZARR_FLOAT32, 3, "\"0x7fc00001\"", 0, 0x7fc00001, 0, NULL},
    {PZARR_FLOAT32, 3, "\"0X3F800000\"", 0, 0x3f800000, 0, NULL},
    {PZARR_FLOAT32, 3, "1.5", 0, 0x3fc00000, 0, NULL},
    {PZARR_FLOAT32, 3, "0.1", 0, 0x3dcccccd, 0, NULL},
    {PZARR_FLOAT32, 3, "-0.0", 0, 0x80000000, 0, NULL},
    {PZARR_FLOAT32, 3, "3.4028235e38", 0, 0x7f7fffff, 0, NULL},
    {PZARR_FLOAT32, 3, "1e39", PZARR_EMETA, 0, 0, "fill_value"},
    {PZARR_FLOAT32, 3, "1e999", PZARR_EMETA, 0, 0, "fill_value"},
    {PZARR_FLOAT32, 3, "\"0x7fc0\"", PZARR_EMETA, 0, 0, "fill_value"},
    {PZARR_FLOAT32, 3, "\"0x7fc0000g\"", PZARR_EMETA, 0, 0, "fill_value"},
    {PZARR_FLOAT32, 3, "\"nan\"", PZARR_EMETA, 0, 0, "\"nan\""},
    {PZARR_FLOAT32, 3, "true", PZARR_EMETA, 0, 0, "fill_value"},
    {PZARR_FLOAT32, 3, "null", PZARR_EMETA, 0, 0, "fill_value"},
    {PZARR_FLOAT32, 2, "\"NaN\"", 0, 0x7fc00000, 0, NULL},
    {PZARR_FLOAT32, 2, "\"-Infinity\"", 0, 0xff800000, 0, NULL},
    {PZARR_FLOAT32, 2, "\"0x7fc00000\"", PZARR_EMETA, 0, 0, "fill_value"},
    /* float16: numbers become IEEE half bits, rounded to nearest even */
    {PZARR_FLOAT16, 3, "1.5", 0, 0x3e00, 0, NULL},
    {PZARR_FLOAT16, 3, "-2", 0, 0xc000, 0, NULL},
    {PZARR_FLOAT16, 3, "0", 0, 0x0000, 0, NULL},
    {PZARR_FLOAT16, 3, "-0.0", 0, 0x8000, 0, NULL},
    {PZARR_FLOAT16, 3, "0.3333333333333333", 0, 0x3555, 0, NULL},
    {PZARR_FLOAT16, 3, "65504", 0, 0x7bff, 0, NULL},
    {PZARR_FLOAT16, 3, "65519", 0, 0x7bff, 0, NULL},
    {PZARR_FLOAT16, 3, "65520", PZARR_EMETA, 0, 0, "float16"},
    {PZARR_FLOAT16, 3, "1.0009765625", 0, 0x3c01, 0, NULL},   /* 1 + 2^-10 */
    {PZARR_FLOAT16, 3, "1.00048828125", 0, 0x3c00, 0, NULL},  /* tie: to even */
    {PZARR_FLOAT16, 3, "1.00146484375", 0, 0x3c02, 0, NULL},  /* tie: to even */
    {PZARR_FLOAT16, 3, "6.103515625e-05", 0, 0x0400, 0, NULL}, /* 2^-14 */
    {PZARR_FLOAT16, 3, "6.097555160522461e-05", 0, 0x03ff, 0, NULL},
    {PZARR_FLOAT16, 3, "5.960464477539063e-08", 0, 0x0001, 0, NULL}, /* 2^-24 */
    {PZARR_FLOAT16, 3, "2.9802322387695312e-08", 0, 0x0000, 0, NULL}, /* tie */
    {PZARR_FLOAT16, 3, "3e-08", 0, 0x0001, 0, NULL},
    {PZARR_FLOAT16, 3, "1e-30", 0, 0x0000, 0, NULL},
    {PZARR_FLOAT16, 3, "\"NaN\"", 0, 0x7e00, 0, NULL},
    {PZARR_FLOAT16, 3, "\"Infinity\"", 0, 0x7c00, 0, NULL},
    {PZARR_FLOAT16, 3, "\"0x7e00\"", 0, 0x7e00, 0, NULL},
    {PZARR_FLOAT16, 3, "\"0x3c00\"", 0, 0x3c00, 0, NULL},
    {PZARR_FLOAT16, 3, "\"0x3c000000\"", PZARR_EMETA, 0, 0, "fill_value"},
    /* float64 */
    {PZARR_FLOAT64, 3, "\"NaN\"", 0, UINT64_C(0x7ff8000000000000), 0, NULL},
    {PZARR_FLOAT64, 3, "-0.0", 0, UINT64_C(0x8000000000000000), 0, NULL},
    {PZARR_FLOAT64, 3, "1", 0, UINT64_C(0x3ff0000000000000), 0, NULL},
    {PZARR_FLOAT64, 3, "\"0x3ff0000000000000\"", 0, UINT64_C(0x3ff0000000000000), 0, NULL},
    {PZARR_FLOAT64, 3, "\"-Infinity\"", 0, UINT64_C(0xfff0000000000000), 0, NULL},
    {PZARR_FLOAT64, 2, "null", 0, 0, 0, NULL},
    /* complex: [re, im] */
    {PZARR_COMPLEX64, 3, "[1.5, \"NaN\"]", 0, 0x3fc00000, 0x7fc00000, NULL},
    {PZARR_COMPLEX64, 3, "[\"0x3f800000\", -2]", 0, 0x3f800000, 0xc0000000, NULL},
    {PZARR_COMPLEX128, 3, "[\"Infinity\", -2.5]", 0,
     UINT64_C(0x7ff0000000000000), UINT64_C(0xc004000000000000), NULL},
    {PZARR_COMPLEX128, 2, "[0.0, 1.0]", 0, 0, UINT64_C(0x3ff0000000000000), NULL},
    {PZARR_COMPLEX64, 3, "[1]", PZARR_EMETA, 0, 0, "complex64"},
    {PZARR_COMPLEX64, 3, "[1, 2, 3]", PZARR_EMETA, 0, 0, "complex64"},
    {PZARR_COMPLEX128, 3, "0", PZARR_EMETA, 0, 0, "complex128"},
    {PZARR_COMPLEX64, 3, "[1, \"x\"]", PZARR_EMETA, 0, 0, "fill_value"},
    /* integers */
    {PZARR_INT8, 3, "127", 0, 0x7f, 0, NULL},
    {PZARR_INT8, 3, "-128", 0, 0x80, 0, NULL},
    {PZARR_INT8, 3, "128", PZARR_EMETA, 0, 0, "out of range for int8"},
    {PZARR_INT8, 3, "-129", PZARR_EMETA, 0, 0, "out of range for int8"},
    {PZARR_INT16, 3, "-2", 0, 0xfffe, 0, NULL},
    {PZARR_INT16, 3, "1.5", PZARR_EMETA, 0, 0, "integer"},
    {PZARR_INT16, 3, "\"1\"", PZARR_EMETA, 0, 0, "fill_value"},
    {PZARR_INT16, 3, "\"NaN\"", PZARR_EMETA, 0, 0, "fill_value"},
    {PZARR_INT32, 3, "-2147483648", 0, 0x80000000, 0, NULL},
    {PZARR_INT32, 3, "2147483648", PZARR_EMETA, 0, 0, "out of range"},
    {PZARR_UINT8, 3, "255", 0, 0xff, 0, NULL},
    {PZARR_UINT8, 3, "-1", PZARR_EMETA, 0, 0, "out of range for uint8"},
    {PZARR_UINT16, 3, "65535", 0, 0xffff, 0, NULL},
    {PZARR_UINT32, 3, "4294967295", 0, 0xffffffff, 0, NULL},
    {PZARR_UINT32, 3, "4294967296", PZARR_EMETA, 0, 0, "uint32"},
    {PZARR_INT64, 3, "-9007199254740992", 0, UINT64_C(0xffe0000000000000), 0, NULL},
    {PZARR_INT64, 3, "1e17", PZARR_EUNSUPPORTED, 0, 0, "2^53"},
    {PZARR_UINT64, 3, "9007199254740992", 0, UINT64_C(0x20000000000000), 0, NULL},
    {PZARR_UINT64, 3, "-1", PZARR_EMETA, 0, 0, "uint64"},
    {PZARR_INT32, 2, "null", 0, 0, 0, NULL},
    {PZARR_INT32, 3, "null", PZARR_EMETA, 0, 0, "fill_value"},
    /* bool */
    {PZARR_BOOL, 3, "true", 0, 1, 0, NULL},
    {PZARR_BOOL, 3, "false", 0, 0, 0, NULL},
    {PZARR_BOOL, 3, "1", PZARR_EMETA, 0, 0, "bool"},
    {PZARR_BOOL, 2, "1", 0, 1, 0, NULL},
    {PZARR_BOOL, 2, "0", 0, 0, 0, NULL},
    {PZARR_BOOL, 2, "true", 0, 1, 0, NULL},
    {PZARR_BOOL, 2, "2", PZARR_EMETA, 0, 0, "bool"},
    {PZARR_BOOL, 2, "null", 0, 0, 0, NULL},
};

static uint64_t load(const unsigned char *p, size_t size)
{
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    switch (size) {
    case 1:
        memcpy(&u8, p, 1);
        return u8;
    case 2:
        memcpy(&u16, p, 2);
        return u16;
    case 4:
        memcpy(&u32, p, 4);
        return u32;
    default:
        memcpy(&u64, p, 8);
        return u64;
    }
}

static void test_fill_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fill_cases / sizeof fill_cases[0]; i++) {
        const fill_case *c = &fill_cases[i];
        cJSON *v = cJSON_Parse(c->json);
        assert_non_null(v);
        unsigned char out[PZ_FILL_MAX];
        bool is_null = true;
        pz_err e;
        pz_err_clear(&e);
        int rc = pz_fill_parse(v, c->t, c->fmt, out, &is_null, &e);
        cJSON_Delete(v);
        if (rc != c->rc || (c->needle && !strstr(e.msg, c->needle)))
            print_error("fill %s as %s v%d: %d \"%s\"\n", c->json,
                        pzarr_dtype_name(c->t), c->fmt, rc, e.msg);
        assert_int_equal(rc, c->rc);
        if (rc != 0) {
            assert_non_null(strstr(e.msg, c->needle));
            continue;
        }
        size_t size = pzarr_dtype_size(c->t);
        bool cplx = c->t == PZARR_COMPLEX64 || c->t == PZARR_COMPLEX128;
        size_t part = cplx ? size / 2 : size;
        if (load(out, part) != c->bits)
            print_error("fill %s as %s: bits %llx\n", c->json,
                        pzarr_dtype_name(c->t),
                        (unsigned long long)load(out, part));
        assert_int_equal(load(out, part), c->bits);
        if (cplx)
            assert_int_equal(load(out + part, part), c->bits_im);
        for (size_t k = size; k < 16; k++)
            assert_int_equal(out[k], 0);
        assert_int_equal(is_null, strcmp(c->json, "null") == 0);
    }
}

/* Emitted text of a fill value, unformatted. */
static char *fill_text(pzarr_dtype t, int fmt, const unsigned char *fill,
                       bool is_null)
{
    cJSON *v = pz_fill_emit(t, fmt, fill, is_null);
    assert_non_null(v);
    char *s = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    assert_non_null(s);
    return s;
}

static void expect_fill_text(pzarr_dtype t, int fmt, const void *fill,
                             bool is_null, const char *want)
{
    unsigned char buf[16] = {0};
    memcpy(buf, fill, pzarr_dtype_size(t));
    char *s = fill_text(t, fmt, buf, is_null);
    if (strcmp(s, want) != 0)
        print_error("%s v%d: emitted %s, want %s\n", pzarr_dtype_name(t), fmt,
                    s, want);
    assert_string_equal(s, want);
    cJSON_free(s);
}

static void test_fill_emit(void **state)
{
    (void)state;
    /* Floats the way Python's repr (and so zarr-python) writes them. */
    static const struct {
        double v;
        const char *text;
    } f64[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.5, "1.5"},
        {0.1, "0.1"},
        {100.0, "100.0"},
        {-1234.5, "-1234.5"},
        {1e15, "1000000000000000.0"},
        {1e16, "1e+16"},
        {1e22, "1e+22"},
        {123456789012345678.0, "1.2345678901234568e+17"},
        {1e-5, "1e-05"},
        {0.0001, "0.0001"},
        {0.00012345, "0.00012345"},
        {2.5e-7, "2.5e-07"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {1.0 / 3.0, "0.3333333333333333"},
        {12345678.9, "12345678.9"},
    };
    for (size_t i = 0; i < sizeof f64 / sizeof f64[0]; i++)
        for (int fmt = 2; fmt <= 3; fmt++)
            expect_fill_text(PZARR_FLOAT64, fmt, &f64[i].v, false, f64[i].text);

    float f = 0.1f;
    expect_fill_text(PZARR_FLOAT32, 3, &f, false, "0.10000000149011612");
    f = 0.0f;
    expect_fill_text(PZARR_FLOAT32, 2, &f, false, "0.0");
    uint32_t u32 = 0x7fc00000;
    expect_fill_text(PZARR_FLOAT32, 3, &u32, false, "\"NaN\"");
    u32 = 0x7fc00001; /* a NaN payload survives in v3 only */
    expect_fill_text(PZARR_FLOAT32, 3, &u32, false, "\"0x7fc00001\"");
    expect_fill_text(PZARR_FLOAT32, 2, &u32, false, "\"NaN\"");
    u32 = 0xff800000;
    expect_fill_text(PZARR_FLOAT32, 3, &u32, false, "\"-Infinity\"");
    uint16_t h = 0x3e00;
    expect_fill_text(PZARR_FLOAT16, 3, &h, false, "1.5");
    h = 0x7bff;
    expect_fill_text(PZARR_FLOAT16, 3, &h, false, "65504.0");
    h = 0x0001;
    expect_fill_text(PZARR_FLOAT16, 3, &h, false, "5.960464477539063e-08");
    h = 0x3555;
    expect_fill_text(PZARR_FLOAT16, 3, &h, false, "0.333251953125");
    h = 0x7c00;
    expect_fill_text(PZARR_FLOAT16, 3, &h, false, "\"Infinity\"");
    h = 0x7e00;
    expect_fill_text(PZARR_FLOAT16, 3, &h, false, "\"NaN\"");
    h = 0xfe01;
    expect_fill_text(PZARR_FLOAT16, 3, &h, false, "\"0xfe01\"");

    int8_t i8 = -1;
    expect_fill_text(PZARR_INT8, 3, &i8, false, "-1");
    int16_t i16 = -32768;
    expect_fill_text(PZARR_INT16, 2, &i16, false, "-32768");
    uint64_t u64 = UINT64_MAX;
    expect_fill_text(PZARR_UINT64, 3, &u64, false, "18446744073709551615");
    int64_t i64 = INT64_MIN;
    expect_fill_text(PZARR_INT64, 3, &i64, false, "-9223372036854775808");
    uint8_t b = 1;
    expect_fill_text(PZARR_BOOL, 3, &b, false, "true");
    b = 0;
    expect_fill_text(PZARR_BOOL, 2, &b, false, "false");
    float c64[2] = {1.5f, NAN};
    memcpy(&c64[1], &(uint32_t){0x7fc00000}, 4);
    expect_fill_text(PZARR_COMPLEX64, 3, c64, false, "[1.5,\"NaN\"]");
    double c128[2] = {-0.5, INFINITY};
    expect_fill_text(PZARR_COMPLEX128, 2, c128, false, "[-0.5,\"Infinity\"]");
    double zero = 0;
    expect_fill_text(PZARR_FLOAT64, 2, &zero, true, "null");
    expect_fill_text(PZARR_INT32, 2, &zero, true, "null");
}

/* Emitting then parsing gives back the same bits. */
static void roundtrip_fill(pzarr_dtype t, int fmt, const unsigned char *fill)
{
    char *s = fill_text(t, fmt, fill, false);
    cJSON *v = cJSON_Parse(s);
    assert_non_null(v);
    unsigned char out[PZ_FILL_MAX];
    bool is_null;
    pz_err e;
    int rc = pz_fill_parse(v, t, fmt, out, &is_null, &e);
    if (rc != 0 || memcmp(out, fill, pzarr_dtype_size(t)) != 0)
        print_error("%s v%d: %s does not round-trip (%s)\n",
                    pzarr_dtype_name(t), fmt, s, e.msg);
    assert_int_equal(rc, 0);
    assert_memory_equal(out, fill, pzarr_dtype_size(t));
    cJSON_Delete(v);
    cJSON_free(s);
}

static void test_fill_roundtrip(void **state)
{
    (void)state;
    /* Every float16 bit pattern (v2 NaNs collapse to the canonical one). */
    for (uint32_t i = 0; i < 65536; i++) {
        unsigned char fill[16] = {0};
        uint16_t h = (uint16_t)i;
        bool nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        memcpy(fill, &h, 2);
        roundtrip_fill(PZARR_FLOAT16, 3, fill);
        if (!nan)
            roundtrip_fill(PZARR_FLOAT16, 2, fill);
    }
    /* float32 / float64 patterns from a fixed LCG. */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        unsigned char fill[16] = {0};
        uint32_t f = (uint32_t)(x >> 32);
        memcpy(fill, &f, 4);
        roundtrip_fill(PZARR_FLOAT32, 3, fill);
        memcpy(fill, &x, 8);
        roundtrip_fill(PZARR_FLOAT64, 3, fill);
        roundtrip_fill(PZARR_COMPLEX64, 3, fill);
        roundtrip_fill(PZARR_INT32, 3, fill);
        roundtrip_fill(PZARR_UINT16, 2, fill);
    }
}

/* ------------------------------------------------------------ bad documents */

typedef struct bad_case {
    const char *key;   /* member replaced in the base document */
    const char *value; /* NULL: removed */
    int rc;
    const char *needle;
} bad_case;

static const bad_case bad_v3[] = {
    {"zarr_format", NULL, PZARR_EMETA, "zarr_format"},
    {"zarr_format", "4", PZARR_EUNSUPPORTED, "zarr_format"},
    {"zarr_format", "\"3\"", PZARR_EMETA, "zarr_format"},
    {"node_type", NULL, PZARR_EMETA, "node_type"},
    {"node_type", "\"group\"", PZARR_ENOTARRAY, "group"},
    {"node_type", "\"banana\"", PZARR_EMETA, "node_type"},
    {"node_type", "3", PZARR_EMETA, "node_type"},
    {"shape", NULL, PZARR_EMETA, "\"shape\""},
    {"shape", "5", PZARR_EMETA, "\"shape\" must be an array of non-negative integers"},
    {"shape", "[10,-1]", PZARR_EMETA, "\"shape\" must be an array of non-negative integers"},
    {"shape", "[10,1.5]", PZARR_EMETA, "\"shape\""},
    {"shape", "[10,\"20\"]", PZARR_EMETA, "\"shape\""},
    {"shape", "[10,null]", PZARR_EMETA, "\"shape\""},
    {"shape", "[10,1e300]", PZARR_EUNSUPPORTED, "\"shape\"[1] exceeds 2^53"},
    {"shape", "[10]", PZARR_EMETA, "chunk_shape"},
    {"data_type", NULL, PZARR_EMETA, "data_type"},
    {"data_type", "\"string\"", PZARR_EUNSUPPORTED, "\"string\""},
    {"data_type", "\"float8\"", PZARR_EUNSUPPORTED, "\"float8\""},
    {"data_type", "{\"name\":\"numpy.datetime64\",\"configuration\":{}}",
     PZARR_EMETA, "unit"},
    {"data_type",
     "{\"name\":\"numpy.timedelta64\",\"configuration\":{\"unit\":\"s\",\"scale_factor\":0}}",
     PZARR_EMETA, "scale_factor"},
    {"data_type", "{\"name\":\"numpy.void\",\"configuration\":{}}", PZARR_EUNSUPPORTED,
     "numpy.void"},
    {"data_type", "5", PZARR_EMETA, "data_type"},
    {"chunk_grid", NULL, PZARR_EMETA, "chunk_grid"},
    {"chunk_grid", "[]", PZARR_EMETA, "chunk_grid"},
    {"chunk_grid", "{\"name\":\"rectilinear\",\"configuration\":{}}",
     PZARR_EUNSUPPORTED, "rectilinear"},
    {"chunk_grid", "{\"name\":\"regular\"}", PZARR_EMETA, "chunk_shape"},
    {"chunk_grid", "{\"name\":\"regular\",\"configuration\":[]}", PZARR_EMETA,
     "configuration"},
    {"chunk_grid", "{\"configuration\":{\"chunk_shape\":[1,1]}}", PZARR_EMETA,
     "chunk_grid"},
    {"chunk_key_encoding", NULL, PZARR_EMETA, "chunk_key_encoding"},
    {"chunk_key_encoding", "{\"name\":\"fancy\"}", PZARR_EUNSUPPORTED, "fancy"},
    {"chunk_key_encoding",
     "{\"name\":\"default\",\"configuration\":{\"separator\":\"-\"}}",
     PZARR_EMETA, "separator"},
    {"chunk_key_encoding",
     "{\"name\":\"v2\",\"configuration\":{\"separator\":1}}", PZARR_EMETA,
     "separator"},
    {"fill_value", NULL, PZARR_EMETA, "fill_value"},
    {"fill_value", "\"abc\"", PZARR_EMETA, "fill_value"},
    {"fill_value", "40000", PZARR_EMETA, "fill_value"},
    {"fill_value", "null", PZARR_EMETA, "fill_value"},
    {"codecs", NULL, PZARR_EMETA, "codecs"},
    {"codecs", "\"bytes\"", PZARR_EMETA, "codecs"},
    {"codecs", "[{\"name\":\"sharding_indexed\",\"configuration\":{}}]",
     PZARR_EMETA, "sharding_indexed"},
    {"dimension_names", "[\"x\"]", PZARR_EMETA, "dimension_names"},
    {"dimension_names", "[\"x\", 1]", PZARR_EMETA, "dimension_names"},
    {"dimension_names", "\"x\"", PZARR_EMETA, "dimension_names"},
    {"attributes", "[]", PZARR_EMETA, "attributes"},
    {"storage_transformers", "[{\"name\":\"chunk-manifest\"}]",
     PZARR_EUNSUPPORTED, "storage_transformers"},
    {"storage_transformers", "{}", PZARR_EMETA, "storage_transformers"},
    {"extra", "1", PZARR_EUNSUPPORTED, "\"extra\""},
    {"extra", "{\"must_understand\":true}", PZARR_EUNSUPPORTED, "\"extra\""},
    {"extra", "{}", PZARR_EUNSUPPORTED, "\"extra\""},
    {"extra", "{\"must_understand\":\"false\"}", PZARR_EUNSUPPORTED, "\"extra\""},
};

static const bad_case bad_v2[] = {
    {"shape", NULL, PZARR_EMETA, "\"shape\""},
    {"shape", "[10,-20]", PZARR_EMETA, "\"shape\""},
    {"chunks", NULL, PZARR_EMETA, "\"chunks\""},
    {"chunks", "[3,0]", PZARR_EMETA, "\"chunks\"[1] is 0"},
    {"chunks", "[3]", PZARR_EMETA, "\"chunks\""},
    {"chunks", "[3,7.5]", PZARR_EMETA, "\"chunks\""},
    {"chunks", "[65536,32768]", PZARR_EUNSUPPORTED,
     "\"chunks\": chunk of 4294967296 bytes exceeds the 2 GiB limit"},
    {"dtype", NULL, PZARR_EMETA, "\"dtype\""},
    {"dtype", "5", PZARR_EMETA, "\"dtype\""},
    {"dtype", "\"|O\"", PZARR_EMETA, "\"|O\""}, /* without an object codec */
    {"dtype", "\"|i2\"", PZARR_EMETA, "\"|i2\""},
    {"dtype", "[[\"a\",\"<i4\"]]", PZARR_EUNSUPPORTED, "\"dtype\""},
    {"order", "\"X\"", PZARR_EMETA, "\"order\""},
    {"order", "1", PZARR_EMETA, "\"order\""},
    {"dimension_separator", "\"-\"", PZARR_EMETA, "dimension_separator"},
    {"fill_value", "\"abc\"", PZARR_EMETA, "fill_value"},
    {"fill_value", "70000", PZARR_EMETA, "fill_value"},
    {"filters", "[{\"id\":\"zfpy\",\"mode\":4}]", PZARR_EUNSUPPORTED, "\"zfpy\""},
    {"compressor", "{\"id\":\"snappy\"}", PZARR_EUNSUPPORTED, "snappy"},
    {"attributes", "5", PZARR_EMETA, "attributes"},
    {"zarr_format", "2.5", PZARR_EMETA, "zarr_format"},
};

static void run_bad_table(const char *base, const bad_case *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *doc = doc_with(base, t[i].key, t[i].value);
        expect_fail(doc, t[i].rc, t[i].needle);
        free(doc);
    }
}

static void test_bad_v3(void **state)
{
    (void)state;
    expect_ok(base_v3);
    run_bad_table(base_v3, bad_v3, sizeof bad_v3 / sizeof bad_v3[0]);
}

static void test_bad_v2(void **state)
{
    (void)state;
    expect_ok(base_v2);
    run_bad_table(base_v2, bad_v2, sizeof bad_v2 / sizeof bad_v2[0]);
}

static void test_bad_json(void **state)
{
    (void)state;
    expect_fail("", PZARR_EMETA, "malformed JSON near offset 0");
    expect_fail("{\"zarr_format\": 3,", PZARR_EMETA, "malformed JSON near offset");
    expect_fail("{\"zarr_format\": 3 x}", PZARR_EMETA, "malformed JSON near offset 18");
    expect_fail("{\"zarr_format\":2} {}", PZARR_EMETA, "malformed JSON near offset 18");
    expect_fail("[]", PZARR_EMETA, "JSON object");
    expect_fail("{}", PZARR_EMETA, "zarr_format");
    /* Only len bytes are read: a cut document is malformed. */
    pz_meta m;
    pz_err e;
    assert_int_equal(pz_meta_parse(base_v3, 20, NULL, 0, &m, &e), PZARR_EMETA);
    assert_non_null(strstr(e.msg, "malformed JSON"));
    /* Trailing white space and a terminating NUL are fine. */
    char *doc = malloc(strlen(base_v3) + 8);
    sprintf(doc, "%s \n\t", base_v3);
    assert_int_equal(pz_meta_parse(doc, strlen(doc) + 1, NULL, 0, &m, &e), 0);
    pz_meta_free(&m);
    free(doc);
    /* Duplicate keys are refused rather than resolved silently. */
    expect_fail("{\"zarr_format\":2,\"shape\":[1],\"shape\":[2],\"chunks\":[1],"
                "\"dtype\":\"<i2\"}",
                PZARR_EMETA, "duplicate key \"shape\"");
    /* Wrong format for the file. */
    expect_fail_fmt(2, base_v3, PZARR_EMETA, "zarr_format");
    expect_fail_fmt(3, base_v2, PZARR_EMETA, "zarr_format");
    expect_fail("{\"zarr_format\":3,\"node_type\":\"group\",\"attributes\":{}}",
                PZARR_ENOTARRAY, "group");
    assert_int_equal(pz_meta_parse_format(4, base_v3, strlen(base_v3), NULL, 0,
                                          &m, &e),
                     PZARR_EINVAL);
    assert_int_equal(pz_meta_parse(NULL, 0, NULL, 0, &m, &e), PZARR_EINVAL);
}

/* A v3 document written out literally: cJSON's printer rounds numbers near
 * 2^53 (its round-trip check is tolerant), so no doc_with here. */
static char *sized_doc(const char *dtype, const char *shape, const char *chunks)
{
    static const char *const fmt =
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":%s,"
        "\"data_type\":\"%s\",\"chunk_grid\":{\"name\":\"regular\","
        "\"configuration\":{\"chunk_shape\":%s}},\"chunk_key_encoding\":"
        "{\"name\":\"default\"},\"fill_value\":0,\"codecs\":[{\"name\":"
        "\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}";
    size_t n = strlen(fmt) + strlen(dtype) + strlen(shape) + strlen(chunks);
    char *doc = malloc(n);
    assert_non_null(doc);
    snprintf(doc, n, fmt, shape, dtype, chunks);
    return doc;
}

static void expect_sized_fail(const char *dtype, const char *shape,
                              const char *chunks, int rc, const char *needle)
{
    char *doc = sized_doc(dtype, shape, chunks);
    expect_fail(doc, rc, needle);
    free(doc);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    /* ndim 33 fails, ndim 32 passes */
    char shape[256] = "[";
    for (int i = 0; i < 33; i++)
        strcat(shape, i ? ",1" : "1");
    strcat(shape, "]");
    expect_sized_fail("int16", shape, shape, PZARR_EMETA,
                      "\"shape\" has 33 entries: ndim 33 exceeds 32");
    shape[strlen(shape) - 3] = ']';
    shape[strlen(shape) - 2] = '\0';
    char *doc = sized_doc("int16", shape, shape);
    expect_ok(doc);
    free(doc);
    /* chunk size 0 */
    expect_sized_fail("int16", "[10,20]", "[3,0]", PZARR_EMETA,
                      "\"chunk_shape\"[1] is 0");
    expect_sized_fail("int16", "[10,20]", "[3,-1]", PZARR_EMETA,
                      "\"chunk_shape\" must be an array of non-negative integers");
    /* prod(chunk_shape) * itemsize overflows uint64 */
    expect_sized_fail("int16", "[1e15,1e15]", "[1e15,1e15]", PZARR_EUNSUPPORTED,
                      "\"chunk_shape\": chunk of more than 2^64 bytes exceeds "
                      "the 2 GiB limit");
    /* 2^31 bytes is one too many; 2^31-1 passes. */
    expect_sized_fail("int16", "[4294967296]", "[1073741824]", PZARR_EUNSUPPORTED,
                      "\"chunk_shape\": chunk of 2147483648 bytes exceeds the "
                      "2 GiB limit");
    expect_sized_fail("complex128", "[100,100]", "[16384,8192]",
                      PZARR_EUNSUPPORTED, "chunk of 2147483648 bytes");
    doc = sized_doc("uint8", "[4294967296]", "[2147483647]");
    expect_ok(doc);
    free(doc);
    /* More than 2^64-1 chunks in the grid is refused. */
    expect_sized_fail("int16", "[9007199254740992,9007199254740992]", "[1,1]",
                      PZARR_EUNSUPPORTED, "2^64-1 chunks");
    /* Sizes past 2^53 cannot be read exactly. */
    expect_sized_fail("int16", "[9007199254740994]", "[1]", PZARR_EUNSUPPORTED,
                      "\"shape\"[0] exceeds 2^53");
    expect_sized_fail("int16", "[1]", "[1e300]", PZARR_EUNSUPPORTED,
                      "\"chunk_shape\"[0] exceeds 2^53");
    expect_sized_fail("int16", "[1]", "[4.5]", PZARR_EMETA, "\"chunk_shape\"");
    /* Up to 2^53 per dimension is fine. */
    doc = sized_doc("int16", "[9007199254740992,1048576]", "[524288,1024]");
    pz_meta m;
    pz_err e;
    int rc = parse_str(doc, &m, &e);
    if (rc)
        print_error("%s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(m.shape[0], UINT64_C(9007199254740992));
    assert_int_equal(pz_meta_grid_dim(&m, 0), UINT64_C(1) << 34);
    assert_int_equal(pz_meta_nchunks(&m), UINT64_C(1) << 44);
    assert_int_equal(chunk_elems(&m), UINT64_C(1) << 29);
    /* and it is emitted exactly */
    char *t = pz_meta_emit(&m);
    assert_non_null(strstr(t, "9007199254740992"));
    pz_free(t);
    pz_meta_free(&m);
    free(doc);
    /* Integral numbers in exponent form are integers. */
    doc = sized_doc("int16", "[1e3]", "[1.0E2]");
    assert_int_equal(parse_str(doc, &m, &e), 0);
    assert_int_equal(m.shape[0], 1000);
    assert_int_equal(m.chunks[0], 100);
    pz_meta_free(&m);
    free(doc);
}

static void test_extensions(void **state)
{
    (void)state;
    char *doc = doc_with(base_v3, "consolidated_metadata",
                         "{\"kind\":\"inline\",\"must_understand\":false,"
                         "\"metadata\":{}}");
    expect_ok(doc);
    free(doc);
    doc = doc_with(base_v3, "dimension_names", "null");
    expect_ok(doc);
    free(doc);
    doc = doc_with(base_v3, "storage_transformers", "[]");
    expect_ok(doc);
    free(doc);
    /* v2 ignores unknown keys, as zarr-python 2 does. */
    doc = doc_with(base_v2, "something_else", "1");
    expect_ok(doc);
    free(doc);
    /* v2 defaults: no compressor/filters/order/fill_value/separator. */
    doc = strdup("{\"zarr_format\":2,\"shape\":[],\"chunks\":[],\"dtype\":\"<f8\"}");
    pz_meta m;
    pz_err e;
    assert_int_equal(parse_str(doc, &m, &e), 0);
    assert_true(m.fill_null);
    assert_int_equal(m.ndim, 0);
    assert_int_equal(m.key_sep, '.');
    assert_false(m.v2_order_f);
    assert_int_equal(pz_meta_nchunks(&m), 1);
    assert_int_equal(chunk_elems(&m), 1);
    pz_meta_free(&m);
    free(doc);
}

/* ------------------------------------------------------------ round trips */

static void assert_meta_equal(const pz_meta *a, const pz_meta *b)
{
    assert_int_equal(a->zarr_format, b->zarr_format);
    assert_int_equal(a->ndim, b->ndim);
    assert_memory_equal(a->shape, b->shape, sizeof a->shape);
    assert_memory_equal(a->chunks, b->chunks, sizeof a->chunks);
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(a->itemsize, b->itemsize);
    assert_memory_equal(a->fill, b->fill, sizeof a->fill);
    assert_int_equal(a->fill_null, b->fill_null);
    assert_int_equal(a->key_sep, b->key_sep);
    assert_int_equal(a->key_v2_style, b->key_v2_style);
    assert_memory_equal(&a->pipeline, &b->pipeline, sizeof a->pipeline);
    assert_int_equal(a->v2_order_f, b->v2_order_f);
    assert_int_equal(a->v2_big_endian, b->v2_big_endian);
    assert_int_equal(a->dimension_names == NULL, b->dimension_names == NULL);
    for (int d = 0; a->dimension_names && d < a->ndim; d++) {
        const char *x = a->dimension_names[d], *y = b->dimension_names[d];
        assert_int_equal(x == NULL, y == NULL);
        if (x)
            assert_string_equal(x, y);
    }
    assert_true(cJSON_Compare(a->attributes, b->attributes, true));
}

static void assert_key_order(const char *doc, const char *const *keys, size_t n)
{
    cJSON *root = cJSON_Parse(doc);
    assert_non_null(root);
    size_t i = 0;
    for (const cJSON *c = root->child; c; c = c->next, i++) {
        assert_true(i < n);
        assert_string_equal(c->string, keys[i]);
    }
    assert_int_equal(i, n);
    cJSON_Delete(root);
}

/* parse(doc) -> emit -> parse -> emit: same struct, same text. */
static void roundtrip_doc(const char *doc, const char *attrs, pz_meta *out)
{
    pz_meta m, m2;
    pz_err e;
    pz_err_clear(&e);
    int rc = pz_meta_parse(doc, strlen(doc), attrs, attrs ? strlen(attrs) : 0,
                           &m, &e);
    if (rc)
        print_error("%s: %s\n", doc, e.msg);
    assert_int_equal(rc, 0);
    char *t1 = pz_meta_emit(&m);
    assert_non_null(t1);
    char *a1 = pz_meta_emit_attrs(&m);
    assert_non_null(a1);
    rc = pz_meta_parse(t1, strlen(t1), m.zarr_format == 2 ? a1 : NULL,
                       strlen(a1), &m2, &e);
    if (rc)
        print_error("%s: %s\n", t1, e.msg);
    assert_int_equal(rc, 0);
    assert_meta_equal(&m, &m2);
    char *t2 = pz_meta_emit(&m2);
    assert_string_equal(t1, t2);
    pz_free(t1);
    pz_free(t2);
    pz_free(a1);
    pz_meta_free(&m2);
    *out = m;
}

static void test_roundtrip_v3(void **state)
{
    (void)state;
    const char *doc =
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[100,0,7],"
        "\"data_type\":\"float32\",\"chunk_grid\":{\"name\":\"regular\","
        "\"configuration\":{\"chunk_shape\":[10,5,7]}},"
        "\"chunk_key_encoding\":{\"name\":\"v2\",\"configuration\":"
        "{\"separator\":\"/\"}},\"fill_value\":\"NaN\",\"codecs\":["
        "{\"name\":\"transpose\",\"configuration\":{\"order\":[2,0,1]}},"
        "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
        "{\"name\":\"zstd\",\"configuration\":{\"level\":3,\"checksum\":true}},"
        "{\"name\":\"crc32c\"}],"
        "\"attributes\":{\"units\":\"m\",\"nested\":{\"a\":[1,2.5,null,true]}},"
        "\"dimension_names\":[\"x\",null,\"z\"],\"storage_transformers\":[],"
        "\"ext\":{\"must_understand\":false}}";
    pz_meta m;
    roundtrip_doc(doc, NULL, &m);
    assert_int_equal(m.dtype, PZARR_FLOAT32);
    assert_true(m.key_v2_style);
    assert_int_equal(m.key_sep, '/');
    assert_int_equal(load(m.fill, 4), 0x7fc00000);
    assert_string_equal(m.dimension_names[0], "x");
    assert_null(m.dimension_names[1]);
    assert_int_equal(m.pipeline.n, 4);
    assert_int_equal(pz_meta_grid_dim(&m, 0), 10);
    assert_int_equal(pz_meta_grid_dim(&m, 1), 0);
    assert_int_equal(pz_meta_nchunks(&m), 0);
    assert_int_equal(chunk_elems(&m), 350);

    char *t = pz_meta_emit(&m);
    static const char *const keys[] = {
        "zarr_format", "node_type", "shape", "data_type", "chunk_grid",
        "chunk_key_encoding", "fill_value", "codecs", "attributes",
        "dimension_names", "storage_transformers"};
    assert_key_order(t, keys, 11);
    assert_non_null(strstr(t, "\"fill_value\":\t\"NaN\""));
    assert_null(strstr(t, "\"ext\""));
    pz_free(t);

    /* A deep copy outlives the original. */
    pz_meta c;
    assert_int_equal(pz_meta_copy(&m, &c), 0);
    pz_meta_free(&m);
    assert_string_equal(c.dimension_names[2], "z");
    assert_string_equal(cJSON_GetObjectItem(c.attributes, "units")->valuestring, "m");
    pz_meta_free(&c);

    /* Without dimension names the key is left out; a 0-d array. */
    doc = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[],"
          "\"data_type\":\"complex128\",\"chunk_grid\":{\"name\":\"regular\","
          "\"configuration\":{\"chunk_shape\":[]}},\"chunk_key_encoding\":"
          "{\"name\":\"default\"},\"fill_value\":[1.5,\"-Infinity\"],"
          "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":"
          "\"little\"}}]}";
    roundtrip_doc(doc, NULL, &m);
    assert_int_equal(m.ndim, 0);
    assert_int_equal(m.key_sep, '/');
    assert_int_equal(pz_meta_nchunks(&m), 1);
    t = pz_meta_emit(&m);
    static const char *const keys0[] = {
        "zarr_format", "node_type", "shape", "data_type", "chunk_grid",
        "chunk_key_encoding", "fill_value", "codecs", "attributes",
        "storage_transformers"};
    assert_key_order(t, keys0, 10);
    assert_non_null(strstr(t, "[1.5, \"-Infinity\"]"));
    pz_free(t);
    pz_meta_free(&m);

    /* Every data type, with a non-zero fill. */
    static const char *const fills[] = {
        "true", "-5", "-300", "70000", "-9007199254740992", "200", "60000",
        "4000000000", "9007199254740992", "0.5", "0.25", "-1e+300",
        "[0.0, 2.0]", "[\"NaN\", 1e-300]"};
    for (int t2 = PZARR_BOOL; t2 <= PZARR_COMPLEX128; t2++) {
        char buf[1024], *d1, *d2;
        snprintf(buf, sizeof buf, "\"%s\"", pzarr_dtype_name((pzarr_dtype)t2));
        d1 = doc_with(base_v3, "data_type", buf);
        d2 = doc_with(d1, "fill_value", fills[t2]);
        d1 = (free(d1), doc_with(d2, "codecs", t2 == PZARR_BOOL || t2 == PZARR_INT8 ||
                                                   t2 == PZARR_UINT8
                                               ? "[{\"name\":\"bytes\"}]"
                                               : "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]"));
        roundtrip_doc(d1, NULL, &m);
        char *s = fill_text(m.dtype, 3, m.fill, false);
        cJSON *want = cJSON_Parse(fills[t2]), *got = cJSON_Parse(s);
        assert_true(cJSON_Compare(want, got, true));
        cJSON_Delete(want);
        cJSON_Delete(got);
        cJSON_free(s);
        pz_meta_free(&m);
        free(d1);
        free(d2);
    }
}

static void test_roundtrip_v2(void **state)
{
    (void)state;
    const char *doc =
        "{\"zarr_format\":2,\"shape\":[30,40,5],\"chunks\":[7,8,5],"
        "\"dtype\":\">f8\",\"compressor\":{\"id\":\"zlib\",\"level\":1},"
        "\"fill_value\":\"-Infinity\",\"filters\":null,\"order\":\"F\","
        "\"dimension_separator\":\"/\"}";
    const char *attrs = "{\"title\":\"t\",\"list\":[1,2,3]}";
    pz_meta m;
    roundtrip_doc(doc, attrs, &m);
    assert_int_equal(m.dtype, PZARR_FLOAT64);
    assert_true(m.v2_big_endian);
    assert_true(m.v2_order_f);
    assert_int_equal(m.key_sep, '/');
    assert_int_equal(load(m.fill, 8), UINT64_C(0xfff0000000000000));
    assert_int_equal(pz_meta_nchunks(&m), 5 * 5 * 1);
    assert_int_equal(m.pipeline.c[0].id, PZ_CODEC_TRANSPOSE);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m.attributes, "list")), 3);

    char *t = pz_meta_emit(&m);
    static const char *const keys[] = {
        "chunks", "compressor", "dimension_separator", "dtype", "fill_value",
        "filters", "order", "shape", "zarr_format"};
    assert_key_order(t, keys, 9);
    cJSON *root = cJSON_Parse(t);
    assert_string_equal(cJSON_GetObjectItem(root, "dtype")->valuestring, ">f8");
    assert_string_equal(cJSON_GetObjectItem(root, "order")->valuestring, "F");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(root, "filters")));
    assert_null(cJSON_GetObjectItem(root, "attributes"));
    cJSON_Delete(root);
    pz_free(t);
    char *a = pz_meta_emit_attrs(&m);
    cJSON *aj = cJSON_Parse(a), *want = cJSON_Parse(attrs);
    assert_true(cJSON_Compare(aj, want, true));
    cJSON_Delete(aj);
    cJSON_Delete(want);
    pz_free(a);
    pz_meta_free(&m);

    /* Attribute numbers are written so that they read back exactly. */
    attrs = "{\"a\":0.30000000000000004,\"b\":[9007199254740992,-1e+300,"
            "1.5,-7,{\"c\":5e-324,\"d\":-0.0}]}";
    roundtrip_doc(doc, attrs, &m);
    a = pz_meta_emit_attrs(&m);
    assert_non_null(strstr(a, "0.30000000000000004"));
    assert_non_null(strstr(a, "[9007199254740992, -1e+300, 1.5, -7, {"));
    assert_non_null(strstr(a, "5e-324"));
    assert_non_null(strstr(a, "-0.0"));
    pz_free(a);
    cJSON *g = cJSON_Parse(attrs);
    a = pz_group_emit(3, g);
    assert_non_null(strstr(a, "0.30000000000000004"));
    assert_non_null(strstr(a, "9007199254740992"));
    pz_free(a);
    cJSON_Delete(g);
    pz_meta_free(&m);

    /* Attributes riding in the .zarray (creation); null fill; 1-byte types. */
    doc = "{\"zarr_format\":2,\"shape\":[3],\"chunks\":[2],\"dtype\":\"|u1\","
          "\"compressor\":null,\"fill_value\":null,\"filters\":[],"
          "\"order\":\"C\",\"attributes\":{\"k\":1}}";
    roundtrip_doc(doc, NULL, &m);
    assert_true(m.fill_null);
    assert_int_equal(cJSON_GetObjectItem(m.attributes, "k")->valueint, 1);
    t = pz_meta_emit(&m);
    assert_non_null(strstr(t, "\"fill_value\":\tnull"));
    assert_non_null(strstr(t, "\"dtype\":\t\"|u1\""));
    assert_non_null(strstr(t, "\"dimension_separator\":\t\".\""));
    pz_free(t);
    pz_meta_free(&m);

    /* .zattrs wins over an embedded "attributes"; a bad .zattrs is named. */
    pz_err e;
    doc = "{\"zarr_format\":2,\"shape\":[3],\"chunks\":[2],\"dtype\":\"<i4\","
          "\"attributes\":{\"k\":1}}";
    assert_int_equal(pz_meta_parse(doc, strlen(doc), "{\"j\":2}", 7, &m, &e), 0);
    assert_null(cJSON_GetObjectItem(m.attributes, "k"));
    assert_non_null(cJSON_GetObjectItem(m.attributes, "j"));
    pz_meta_free(&m);
    assert_int_equal(pz_meta_parse(doc, strlen(doc), "{\"j\":", 5, &m, &e),
                     PZARR_EMETA);
    assert_non_null(strstr(e.msg, "malformed JSON in .zattrs"));
    assert_int_equal(pz_meta_parse(doc, strlen(doc), "[1]", 3, &m, &e),
                     PZARR_EMETA);
    assert_non_null(strstr(e.msg, ".zattrs"));
    assert_null(m.attributes);
}

/* ------------------------------------------------------------ chunk keys */

static void test_chunk_keys(void **state)
{
    (void)state;
    static const struct {
        int fmt;
        bool v2_style;
        char sep;
        int ndim;
        const char *key;
    } cases[] = {
        {3, false, '/', 2, "c/3/14"}, {3, false, '.', 2, "c.3.14"},
        {3, true, '.', 2, "3.14"},    {3, true, '/', 2, "3/14"},
        {2, true, '.', 2, "3.14"},    {2, true, '/', 2, "3/14"},
        {3, false, '/', 1, "c/3"},    {2, true, '.', 1, "3"},
        {3, false, '/', 0, "c"},      {3, false, '.', 0, "c"},
        {3, true, '.', 0, "0"},       {2, true, '.', 0, "0"},
        {2, true, '/', 0, "0"},
    };
    const uint64_t cc[] = {3, 14};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pz_meta m;
        memset(&m, 0, sizeof m);
        m.zarr_format = cases[i].fmt;
        m.key_v2_style = cases[i].v2_style;
        m.key_sep = cases[i].sep;
        m.ndim = cases[i].ndim;
        char out[64];
        assert_int_equal(pz_meta_chunk_key(&m, cc, out, sizeof out), 0);
        assert_string_equal(out, cases[i].key);
        size_t need = strlen(cases[i].key) + 1;
        assert_int_equal(pz_meta_chunk_key(&m, cc, out, need), 0);
        assert_string_equal(out, cases[i].key);
        assert_int_equal(pz_meta_chunk_key(&m, cc, out, need - 1), PZARR_EINVAL);
    }
    /* The widest key of a 32-d array. */
    pz_meta m;
    memset(&m, 0, sizeof m);
    m.zarr_format = 3;
    m.key_sep = '/';
    m.ndim = 32;
    uint64_t big[32];
    for (int d = 0; d < 32; d++)
        big[d] = UINT64_MAX;
    char out[1024];
    assert_int_equal(pz_meta_chunk_key(&m, big, out, sizeof out), 0);
    assert_int_equal(strlen(out), 1 + 32 * 21);
    assert_int_equal(strncmp(out, "c/18446744073709551615/", 23), 0);
    assert_int_equal(pz_meta_chunk_key(&m, big, out, 100), PZARR_EINVAL);
    assert_int_equal(pz_meta_chunk_key(&m, big, out, 0), PZARR_EINVAL);

    /* Keys of parsed documents. */
    pz_err e;
    assert_int_equal(parse_str(base_v3, &m, &e), 0);
    assert_int_equal(pz_meta_chunk_key(&m, cc, out, sizeof out), 0);
    assert_string_equal(out, "c/3/14");
    assert_int_equal(pz_meta_grid_dim(&m, 0), 4);
    assert_int_equal(pz_meta_grid_dim(&m, 1), 3);
    assert_int_equal(pz_meta_nchunks(&m), 12);
    assert_int_equal(chunk_elems(&m), 21);
    pz_meta_free(&m);
    assert_int_equal(parse_str(base_v2, &m, &e), 0);
    assert_int_equal(pz_meta_chunk_key(&m, cc, out, sizeof out), 0);
    assert_string_equal(out, "3.14");
    pz_meta_free(&m);
}

/* ------------------------------------------------------------ groups */

static void test_group_emit(void **state)
{
    (void)state;
    cJSON *attrs = cJSON_Parse("{\"a\":1,\"b\":[\"x\"]}");
    char *s = pz_group_emit(3, attrs);
    assert_non_null(s);
    static const char *const keys[] = {"zarr_format", "node_type", "attributes"};
    assert_key_order(s, keys, 3);
    cJSON *g = cJSON_Parse(s);
    assert_int_equal(cJSON_GetObjectItem(g, "zarr_format")->valueint, 3);
    assert_string_equal(cJSON_GetObjectItem(g, "node_type")->valuestring, "group");
    assert_true(cJSON_Compare(cJSON_GetObjectItem(g, "attributes"), attrs, true));
    cJSON_Delete(g);
    /* Parsing a group as an array says so. */
    pz_meta m;
    pz_err e;
    assert_int_equal(parse_str(s, &m, &e), PZARR_ENOTARRAY);
    pz_free(s);

    s = pz_group_emit(3, NULL);
    g = cJSON_Parse(s);
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(g, "attributes")));
    assert_null(cJSON_GetObjectItem(g, "attributes")->child);
    cJSON_Delete(g);
    pz_free(s);

    s = pz_group_emit(2, attrs);
    static const char *const keys2[] = {"zarr_format"};
    assert_key_order(s, keys2, 1);
    g = cJSON_Parse(s);
    assert_int_equal(cJSON_GetObjectItem(g, "zarr_format")->valueint, 2);
    cJSON_Delete(g);
    pz_free(s);
    cJSON_Delete(attrs);
}

static void test_json_print(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"9007199254740992", "9007199254740992"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"[1, -0.0, 1e300, 2.5e-7, \"x\", null]",
         "[1,-0.0,1e+300,2.5e-07,\"x\",null]"},
        {"{\"a\":{\"b\":[0.1,{\"c\":123456789012}]}}",
         "{\"a\":{\"b\":[0.1,{\"c\":123456789012}]}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *v = cJSON_Parse(cases[i].in);
        assert_non_null(v);
        char *t = pz_json_print(v, false);
        assert_string_equal(t, cases[i].out);
        pz_free(t);
        t = pz_json_print(v, true); /* formatted reads back the same */
        cJSON *back = cJSON_Parse(t);
        assert_true(cJSON_Compare(v, back, true));
        cJSON_Delete(back);
        pz_free(t);
        cJSON_Delete(v);
    }
    assert_null(pz_json_print(NULL, true));
}

/* ------------------------------------------------------------ OOM */

/* Every allocation failure is reported as ENOMEM (or NULL) and leaks
 * nothing (ASan checks the latter). */
static void test_oom(void **state)
{
    (void)state;
    const char *doc =
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4,4],"
        "\"data_type\":\"int8\",\"chunk_grid\":{\"name\":\"regular\","
        "\"configuration\":{\"chunk_shape\":[2,2]}},\"chunk_key_encoding\":"
        "{\"name\":\"default\"},\"fill_value\":1,\"codecs\":[{\"name\":"
        "\"bytes\"}],\"dimension_names\":[\"a\",\"b\"]}";
    pz_err e;
    int ok_after = -1;
    for (long n = 0; n < 64 && ok_after < 0; n++) {
        pz_meta m, c;
        pz_alloc_fail_after(n);
        int rc = pz_meta_parse(doc, strlen(doc), NULL, 0, &m, &e);
        if (rc != 0) {
            pz_alloc_fail_after(-1);
            assert_int_equal(rc, PZARR_ENOMEM);
            assert_null(m.dimension_names);
            continue;
        }
        rc = pz_meta_copy(&m, &c);
        char *t = pz_meta_emit(&m);
        pz_alloc_fail_after(-1);
        if (rc == 0)
            pz_meta_free(&c);
        else
            assert_int_equal(rc, PZARR_ENOMEM);
        if (t && rc == 0)
            ok_after = (int)n;
        pz_free(t);
        pz_meta_free(&m);
    }
    pz_alloc_fail_after(-1);
    assert_true(ok_after > 0);
}

/* The digits of chunk keys: many, the largest, and a buffer one byte short. */
static void test_chunk_key_digits(void **state)
{
    (void)state;
    char k[64];
    const uint64_t cc[3] = {0, 17, 1234567890123ULL};
    assert_int_equal(pz_chunk_key(true, '/', 3, cc, k, sizeof k), 0);
    assert_string_equal(k, "c/0/17/1234567890123");
    assert_int_equal(pz_chunk_key(false, '.', 3, cc, k, sizeof k), 0);
    assert_string_equal(k, "0.17.1234567890123");
    assert_int_equal(pz_chunk_key(false, '/', 2, cc + 1, k, sizeof k), 0);
    assert_string_equal(k, "17/1234567890123");
    assert_int_equal(pz_chunk_key(true, '/', 0, NULL, k, sizeof k), 0);
    assert_string_equal(k, "c");
    assert_int_equal(pz_chunk_key(false, '.', 0, NULL, k, sizeof k), 0);
    assert_string_equal(k, "0");
    const uint64_t big[2] = {UINT64_MAX, 9};
    assert_int_equal(pz_chunk_key(true, '.', 2, big, k, sizeof k), 0);
    assert_string_equal(k, "c.18446744073709551615.9");
    /* "c/0/17" needs 7 bytes with its terminator. */
    assert_int_equal(pz_chunk_key(true, '/', 2, cc, k, 7), 0);
    assert_string_equal(k, "c/0/17");
    assert_int_equal(pz_chunk_key(true, '/', 2, cc, k, 6), PZARR_EINVAL);
    assert_string_equal(k, "");
    assert_int_equal(pz_chunk_key(false, '.', 1, cc, k, 1), PZARR_EINVAL);
}

/* Metadata text is ASCII: other characters as \u escapes (zarr-python 2
 * reads documents as ASCII), surrogate pairs past U+FFFF, U+FFFD for
 * invalid UTF-8; the parsed value is unchanged. */
static void test_json_ascii(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "t\xc3\xa9st", "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac");
    cJSON_AddStringToObject(o, "bad", "x\xff" "y");
    char *s = pz_json_print(o, false);
    assert_non_null(s);
    for (const char *p = s; *p; p++)
        assert_true((unsigned char)*p < 0x80);
    assert_non_null(strstr(s, "\"t\\u00e9st\""));
    assert_non_null(strstr(s, "caf\\u00e9 \\ud83d\\ude00 \\u20ac"));
    assert_non_null(strstr(s, "x\\ufffdy"));
    cJSON *back = cJSON_Parse(s);
    const cJSON *v = cJSON_GetObjectItem(back, "t\xc3\xa9st");
    assert_non_null(v);
    assert_string_equal(v->valuestring, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac");
    cJSON_Delete(back);
    cJSON_Delete(o);
    pz_free(s);
}

/* v3 fixed_length_utf32: the object form in, the same form out; a wrong
 * length or another object-form type is refused naming it. */
static void test_v3_utf32(void **state)
{
    (void)state;
    const char *fmt =
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[5],\"data_type\":%s,"
        "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
        "\"chunk_key_encoding\":{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
        "\"fill_value\":\"%s\",\"codecs\":[{\"name\":\"bytes\",\"configuration\":"
        "{\"endian\":\"big\"}}]}";
    char doc[1024];
    snprintf(doc, sizeof doc, fmt,
             "{\"name\":\"fixed_length_utf32\",\"configuration\":{\"length_bytes\":12}}",
             "h\\u00e9");
    pz_meta m;
    pz_err e;
    int rc = parse_str(doc, &m, &e);
    if (rc)
        print_error("%s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_int_equal((unsigned)m.dtype, (unsigned)PZARR_STRING_UTF32(3));
    assert_int_equal(m.itemsize, 12);
    /* The fill: 'h', U+00E9, then a zero code unit (native order). */
    uint32_t cu[3];
    memcpy(cu, m.fill, sizeof cu);
    assert_true(cu[0] == 'h' && cu[1] == 0xE9 && cu[2] == 0);
    char *out = pz_meta_emit(&m);
    assert_non_null(out);
    cJSON *j = cJSON_Parse(out);
    cJSON *want = cJSON_Parse("{\"name\":\"fixed_length_utf32\","
                              "\"configuration\":{\"length_bytes\":12}}");
    assert_true(cJSON_Compare(cJSON_GetObjectItem(j, "data_type"), want, true));
    assert_string_equal(cJSON_GetObjectItem(j, "fill_value")->valuestring, "h\xc3\xa9");
    cJSON_Delete(want);
    cJSON_Delete(j);
    pz_free(out);
    pz_meta_free(&m);
    const char *bad[] = {"{\"name\":\"fixed_length_utf32\",\"configuration\":{\"length_bytes\":6}}",
                         "{\"name\":\"fixed_length_utf32\",\"configuration\":{\"length_bytes\":0}}",
                         "{\"name\":\"fixed_length_utf32\",\"configuration\":{\"length_bytes\":2048}}",
                         "{\"name\":\"fixed_length_utf32\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(doc, sizeof doc, fmt, bad[i], "");
        expect_fail(doc, PZARR_EMETA, "\"length_bytes\" must be a multiple of 4");
    }
    snprintf(doc, sizeof doc, fmt,
             "{\"name\":\"null_terminated_bytes\",\"configuration\":{\"length_bytes\":4}}", "");
    expect_fail(doc, PZARR_EUNSUPPORTED, "null_terminated_bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_key_digits),
        cmocka_unit_test(test_json_ascii),
        cmocka_unit_test(test_v3_utf32),
        cmocka_unit_test(test_dtype_names),
        cmocka_unit_test(test_dtype_v2_strings),
        cmocka_unit_test(test_fixtures_v3),
        cmocka_unit_test(test_fixtures_v2),
        cmocka_unit_test(test_fixture_v2_group),
        cmocka_unit_test(test_fill_parse),
        cmocka_unit_test(test_fill_emit),
        cmocka_unit_test(test_fill_roundtrip),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_v3),
        cmocka_unit_test(test_bad_v2),
        cmocka_unit_test(test_bad_sizes),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_roundtrip_v3),
        cmocka_unit_test(test_roundtrip_v2),
        cmocka_unit_test(test_chunk_keys),
        cmocka_unit_test(test_group_emit),
        cmocka_unit_test(test_json_print),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
