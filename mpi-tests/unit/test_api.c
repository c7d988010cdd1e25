/*
 * The public API on one process: versions and error strings, groups and
 * attributes (and where they land on disk), array metadata and info, every
 * data type in v3 and v2 with both byte orders (checked down to the stored
 * bytes), special fill values read back as exact bit patterns, and
 * dimension names.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "pzarr.h"

#include "unit_util.h"

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static const char *fresh_dir(const char *tag, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/unit-api-%s", PZARR_TEST_TMP, tag);
    mkdir(PZARR_TEST_TMP, 0777);
    rmtree(buf);
    return buf;
}

static void join(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    assert_true(n > 0 && (size_t)n < cap);
}

static bool exists(const char *root, const char *rel)
{
    char p[4400];
    join(p, sizeof p, root, rel);
    return access(p, F_OK) == 0;
}

static void save_text(const char *root, const char *rel, const char *text)
{
    char p[4400];
    join(p, sizeof p, root, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Parses root/rel as JSON; fails the test if absent or malformed. */
static cJSON *load_json(const char *root, const char *rel)
{
    char p[4400];
    join(p, sizeof p, root, rel);
    size_t n = 0;
    unsigned char *t = slurp(p, &n);
    if (!t)
        print_error("missing %s\n", p);
    assert_non_null(t);
    cJSON *j = cJSON_ParseWithLength((const char *)t, n);
    if (!j)
        print_error("malformed JSON in %s: %s\n", p, t);
    assert_non_null(j);
    free(t);
    return j;
}

/* Whether JSON texts a and b hold the same value (numbers compared exactly). */
static bool json_same(const char *a, const char *b)
{
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    bool same = x && y && cJSON_Compare(x, y, true);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return same;
}

static bool json_same_obj(const cJSON *x, const char *b)
{
    cJSON *y = cJSON_Parse(b);
    bool same = x && y && cJSON_Compare(x, y, true);
    cJSON_Delete(y);
    return same;
}

static pzarr_store *open_store(const char *path, int flags)
{
    pzarr_store *s = NULL;
    int rc = pzarr_open(MPI_COMM_WORLD, path, flags, &s);
    CHECK_OK(rc, pzarr_errmsg(s));
    return s;
}

static void expect_kind(pzarr_store *s, const char *name, pzarr_node_kind want)
{
    pzarr_node_kind k = (pzarr_node_kind)77;
    CHECK_OK(pzarr_node_kind_of(s, name, &k), pzarr_errmsg(s));
    if (k != want)
        print_error("\"%s\": kind %d, want %d\n", name, (int)k, (int)want);
    assert_int_equal(k, want);
}

#define V3_I32_4 \
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"int32\"," \
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"   \
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"                  \
    "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}"
#define V2_I32_4                                                                     \
    "{\"zarr_format\":2,\"shape\":[4],\"chunks\":[2],\"dtype\":\"<i4\","             \
    "\"compressor\":null,\"fill_value\":0,\"order\":\"C\",\"filters\":null}"

/* ------------------------------------------------------------ versions, errors */

static void test_version_strerror(void **state)
{
    (void)state;
    assert_int_equal(pzarr_version_number(), PZARR_VERSION_NUMBER);
    assert_int_equal(PZARR_VERSION_NUMBER, PZARR_VERSION_MAJOR * 10000 +
                                               PZARR_VERSION_MINOR * 100 +
                                               PZARR_VERSION_PATCH);
    static const struct {
        int code;
        const char *text;
    } codes[] = {
#define X(name, value, text) {value, text},
        PZARR_ERRNO_MAP(X)
#undef X
    };
    size_t n = sizeof codes / sizeof codes[0];
    assert_int_equal(n, 17);
    for (size_t i = 0; i < n; i++) {
        const char *t = pzarr_strerror(codes[i].code);
        assert_non_null(t);
        assert_true(strlen(t) > 0);
        assert_string_equal(t, codes[i].text);
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(codes[i].code, codes[j].code);
            assert_true(strcmp(t, pzarr_strerror(codes[j].code)) != 0);
        }
    }
    /* Unknown codes still get a string. */
    assert_non_null(pzarr_strerror(-999));
    assert_non_null(pzarr_strerror(42));
    assert_true(strlen(pzarr_strerror(-999)) > 0);
}

static void test_dtype_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < UNIT_NDTYPES; i++) {
        const unit_dtype *dt = UNIT_DTYPES;
        assert_int_equal((int)dt[i].t, (int)i); /* v3 spec order */
        assert_int_equal(pzarr_dtype_size(dt[i].t), dt[i].size);
        assert_string_equal(pzarr_dtype_name(dt[i].t), dt[i].name);
    }
    assert_int_equal(pzarr_dtype_size((pzarr_dtype)99), 0);
    assert_null(pzarr_dtype_name((pzarr_dtype)99));
    assert_null(pzarr_dtype_name((pzarr_dtype)-1));
}

/* NULL handles are no-ops or EINVAL, never crashes. */
static void test_null_handles(void **state)
{
    (void)state;
    assert_int_equal(pzarr_close(NULL), 0);
    assert_int_equal(pzarr_array_close(NULL), 0);
    pzarr_free(NULL);
    pzarr_free_list(NULL, 0);
    assert_non_null(pzarr_errmsg(NULL));
    assert_non_null(pzarr_array_errmsg(NULL));
    pzarr_array_info info;
    assert_int_equal(pzarr_array_get_info(NULL, &info), PZARR_EINVAL);
    char *json = NULL;
    assert_int_equal(pzarr_array_metadata(NULL, &json), PZARR_EINVAL);
    assert_int_equal(pzarr_open(MPI_COMM_WORLD, "/tmp", PZARR_RDONLY, NULL), PZARR_EINVAL);
    pzarr_store *s = NULL;
    int rc = pzarr_open(MPI_COMM_WORLD, "", PZARR_RDONLY, &s);
    CHECK_FAIL(rc, PZARR_EINVAL, pzarr_errmsg(s), "empty");
    pzarr_close(s);
}

/* ------------------------------------------------------------ groups */

static void test_groups_v3(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("groups3", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    assert_true(exists(root, "zarr.json"));
    expect_kind(s, "", PZARR_NODE_GROUP);
    /* Nested parents are created automatically, in the format asked. */
    CHECK_OK(pzarr_group_create(s, "a/b/c", 3, "{\"x\":1}"), pzarr_errmsg(s));
    const char *levels[] = {"zarr.json", "a/zarr.json", "a/b/zarr.json", "a/b/c/zarr.json"};
    for (size_t i = 0; i < 4; i++) {
        cJSON *j = load_json(root, levels[i]);
        assert_int_equal(cJSON_GetObjectItem(j, "zarr_format")->valueint, 3);
        assert_string_equal(cJSON_GetObjectItem(j, "node_type")->valuestring, "group");
        cJSON_Delete(j);
    }
    cJSON *leaf = load_json(root, "a/b/c/zarr.json");
    assert_true(json_same_obj(cJSON_GetObjectItem(leaf, "attributes"), "{\"x\":1}"));
    cJSON_Delete(leaf);
    assert_false(exists(root, "a/.zgroup"));
    expect_kind(s, "a", PZARR_NODE_GROUP);
    expect_kind(s, "a/b", PZARR_NODE_GROUP);
    expect_kind(s, "a/b/c", PZARR_NODE_GROUP);
    expect_kind(s, "a/b/c/", PZARR_NODE_GROUP); /* a trailing '/' is accepted */
    expect_kind(s, "a/b/d", PZARR_NODE_NONE);
    expect_kind(s, "nothing/here", PZARR_NODE_NONE);
    /* zarr_format 0 takes the root's format. */
    CHECK_OK(pzarr_group_create(s, "dflt", 0, NULL), pzarr_errmsg(s));
    assert_true(exists(root, "dflt/zarr.json"));
    /* A v2 group inside a v3 store. */
    CHECK_OK(pzarr_group_create(s, "legacy/sub", 2, NULL), pzarr_errmsg(s));
    assert_true(exists(root, "legacy/.zgroup"));
    assert_true(exists(root, "legacy/sub/.zgroup"));
    assert_false(exists(root, "legacy/zarr.json"));
    expect_kind(s, "legacy/sub", PZARR_NODE_GROUP);
    /* Arrays under new parents. */
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "p/q/arr", V3_I32_4, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    expect_kind(s, "p", PZARR_NODE_GROUP);
    expect_kind(s, "p/q", PZARR_NODE_GROUP);
    expect_kind(s, "p/q/arr", PZARR_NODE_ARRAY);
    /* Errors. */
    CHECK_FAIL(pzarr_group_create(s, "p/q/arr", 3, NULL), PZARR_EEXIST, pzarr_errmsg(s),
               "p/q/arr");
    CHECK_FAIL(pzarr_group_create(s, "p/q/arr/below", 3, NULL), PZARR_ENOTGROUP,
               pzarr_errmsg(s), "p/q/arr");
    CHECK_FAIL(pzarr_group_create(s, "g5", 5, NULL), PZARR_EINVAL, pzarr_errmsg(s), "5");
    CHECK_FAIL(pzarr_group_create(s, "g6", 3, "[1,2]"), PZARR_EINVAL, pzarr_errmsg(s),
               "object");
    CHECK_FAIL(pzarr_group_create(s, "g7", 3, "{bad json"), PZARR_EINVAL, pzarr_errmsg(s),
               "object");
    CHECK_FAIL(pzarr_group_create(s, "legacy", 3, NULL), PZARR_EEXIST, pzarr_errmsg(s),
               "legacy");
    expect_kind(s, "g5", PZARR_NODE_NONE);
    expect_kind(s, "g6", PZARR_NODE_NONE);
    CHECK_OK(pzarr_close(s), "close");
}

static void test_groups_v2(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("groups2", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE | PZARR_FORMAT_V2);
    assert_true(exists(root, ".zgroup"));
    assert_false(exists(root, "zarr.json"));
    CHECK_OK(pzarr_group_create(s, "x/y", 2, "{\"units\":\"m\",\"n\":[1,2]}"),
             pzarr_errmsg(s));
    CHECK_OK(pzarr_group_create(s, "z", 0, NULL), pzarr_errmsg(s));
    const char *groups[] = {".zgroup", "x/.zgroup", "x/y/.zgroup", "z/.zgroup"};
    for (size_t i = 0; i < 4; i++) {
        cJSON *j = load_json(root, groups[i]);
        assert_int_equal(cJSON_GetObjectItem(j, "zarr_format")->valueint, 2);
        assert_null(cJSON_GetObjectItem(j, "attributes"));
        cJSON_Delete(j);
    }
    cJSON *at = load_json(root, "x/y/.zattrs");
    assert_true(json_same_obj(at, "{\"units\":\"m\",\"n\":[1,2]}"));
    cJSON_Delete(at);
    assert_false(exists(root, "z/.zattrs"));
    assert_false(exists(root, "x/y/zarr.json"));
    expect_kind(s, "x/y", PZARR_NODE_GROUP);
    /* A v2 array under new v2 parents. */
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "m/n/arr", V2_I32_4, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    assert_true(exists(root, "m/.zgroup"));
    assert_true(exists(root, "m/n/.zgroup"));
    assert_true(exists(root, "m/n/arr/.zarray"));
    expect_kind(s, "m/n/arr", PZARR_NODE_ARRAY);
    CHECK_OK(pzarr_close(s), "close");
}

static void test_group_list(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("list", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    char **names = NULL;
    size_t count = 99;
    CHECK_OK(pzarr_group_list(s, "", &names, &count), pzarr_errmsg(s));
    assert_int_equal(count, 0);
    pzarr_free_list(names, count);
    const char *groups[] = {"zeta", "alpha/inner", "Mid", "legacy"};
    for (size_t i = 0; i < 4; i++)
        CHECK_OK(pzarr_group_create(s, groups[i], i == 3 ? 2 : 3, NULL), pzarr_errmsg(s));
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "beta", V3_I32_4, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_create(s, "alpha/arr2", V2_I32_4, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    /* Not nodes: a plain directory, a file. */
    char p[4400];
    join(p, sizeof p, root, "junk");
    assert_int_equal(mkdir(p, 0777), 0);
    join(p, sizeof p, root, "afile");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);

    CHECK_OK(pzarr_group_list(s, "", &names, &count), pzarr_errmsg(s));
    const char *want[] = {"Mid", "alpha", "beta", "legacy", "zeta"};
    if (count != 5)
        for (size_t i = 0; i < count; i++)
            print_error("child %zu: %s\n", i, names[i]);
    assert_int_equal(count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(names[i], want[i]);
    pzarr_free_list(names, count);

    CHECK_OK(pzarr_group_list(s, "alpha", &names, &count), pzarr_errmsg(s));
    assert_int_equal(count, 2);
    assert_string_equal(names[0], "arr2");
    assert_string_equal(names[1], "inner");
    pzarr_free_list(names, count);

    CHECK_FAIL(pzarr_group_list(s, "beta", &names, &count), PZARR_ENOTGROUP,
               pzarr_errmsg(s), "beta");
    assert_null(names);
    CHECK_FAIL(pzarr_group_list(s, "missing", &names, &count), PZARR_ENOENT,
               pzarr_errmsg(s), "missing");
    assert_null(names);
    assert_int_equal(count, 0);
    CHECK_OK(pzarr_close(s), "close");
}

/* ------------------------------------------------------------ attributes */

static void check_attrs(pzarr_store *s, const char *name, const char *want)
{
    char *json = NULL;
    CHECK_OK(pzarr_attrs_get(s, name, &json), pzarr_errmsg(s));
    if (!json_same(json, want))
        print_error("\"%s\": attributes %s, want %s\n", name, json, want);
    assert_true(json_same(json, want));
    pzarr_free(json);
}

static const char *const ATTRS =
    "{\"title\":\"t\\u00fcst \\\"q\\\" \\\\\",\"n\":-3,\"f\":1.5,\"ok\":true,"
    "\"none\":null,\"list\":[1,\"two\",[3]],\"nested\":{\"a\":{\"b\":{}}}}";

static void test_attrs_v3(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("attrs3", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    CHECK_OK(pzarr_group_create(s, "g", 3, NULL), pzarr_errmsg(s));
    check_attrs(s, "g", "{}");
    CHECK_OK(pzarr_attrs_set(s, "g", ATTRS), pzarr_errmsg(s));
    check_attrs(s, "g", ATTRS);
    /* Stored inside zarr.json, which stays a group document. */
    cJSON *j = load_json(root, "g/zarr.json");
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "attributes"), ATTRS));
    assert_string_equal(cJSON_GetObjectItem(j, "node_type")->valuestring, "group");
    cJSON_Delete(j);
    assert_false(exists(root, "g/.zattrs"));
    /* Replaced, not merged. */
    CHECK_OK(pzarr_attrs_set(s, "g", "{\"only\":1}"), pzarr_errmsg(s));
    check_attrs(s, "g", "{\"only\":1}");
    /* Root and arrays. */
    CHECK_OK(pzarr_attrs_set(s, "", "{\"root\":\"yes\"}"), pzarr_errmsg(s));
    check_attrs(s, "", "{\"root\":\"yes\"}");
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "arr", V3_I32_4, &a), pzarr_errmsg(s));
    int32_t v[4] = {1, 2, 3, 4}, r[4];
    uint64_t st[1] = {0}, ct[1] = {4};
    CHECK_OK(pzarr_array_write(a, st, ct, v), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_attrs_set(s, "arr", ATTRS), pzarr_errmsg(s));
    check_attrs(s, "arr", ATTRS);
    j = load_json(root, "arr/zarr.json");
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "attributes"), ATTRS));
    cJSON_Delete(j);
    /* The array still opens, with its data and the new attributes. */
    CHECK_OK(pzarr_array_open(s, "arr", &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_read(a, st, ct, r), pzarr_array_errmsg(a));
    assert_memory_equal(r, v, sizeof v);
    char *meta = NULL;
    CHECK_OK(pzarr_array_metadata(a, &meta), pzarr_array_errmsg(a));
    cJSON *m = cJSON_Parse(meta);
    assert_non_null(m);
    assert_true(json_same_obj(cJSON_GetObjectItem(m, "attributes"), ATTRS));
    cJSON_Delete(m);
    pzarr_free(meta);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    /* Errors. */
    CHECK_FAIL(pzarr_attrs_set(s, "g", "[1]"), PZARR_EINVAL, pzarr_errmsg(s), "object");
    CHECK_FAIL(pzarr_attrs_set(s, "g", "{\"a\":"), PZARR_EINVAL, pzarr_errmsg(s), "object");
    check_attrs(s, "g", "{\"only\":1}");
    CHECK_FAIL(pzarr_attrs_set(s, "nowhere", "{}"), PZARR_ENOENT, pzarr_errmsg(s),
               "nowhere");
    char *json = (char *)"x";
    CHECK_FAIL(pzarr_attrs_get(s, "nowhere", &json), PZARR_ENOENT, pzarr_errmsg(s),
               "nowhere");
    assert_null(json);
    assert_false(exists(root, "nowhere"));
    CHECK_OK(pzarr_close(s), "close");
}

static void test_attrs_v2(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("attrs2", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE | PZARR_FORMAT_V2);
    CHECK_OK(pzarr_group_create(s, "g", 2, NULL), pzarr_errmsg(s));
    check_attrs(s, "g", "{}");
    CHECK_OK(pzarr_attrs_set(s, "g", ATTRS), pzarr_errmsg(s));
    check_attrs(s, "g", ATTRS);
    cJSON *j = load_json(root, "g/.zattrs");
    assert_true(json_same_obj(j, ATTRS));
    cJSON_Delete(j);
    j = load_json(root, "g/.zgroup");
    assert_null(cJSON_GetObjectItem(j, "attributes"));
    cJSON_Delete(j);
    /* Array attributes go to .zattrs; .zarray keeps none. */
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "arr", V2_I32_4, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_attrs_set(s, "arr", ATTRS), pzarr_errmsg(s));
    check_attrs(s, "arr", ATTRS);
    j = load_json(root, "arr/.zattrs");
    assert_true(json_same_obj(j, ATTRS));
    cJSON_Delete(j);
    j = load_json(root, "arr/.zarray");
    assert_null(cJSON_GetObjectItem(j, "attributes"));
    cJSON_Delete(j);
    CHECK_OK(pzarr_array_open(s, "arr", &a), pzarr_errmsg(s));
    char *meta = NULL;
    CHECK_OK(pzarr_array_metadata(a, &meta), pzarr_array_errmsg(a));
    cJSON *m = cJSON_Parse(meta);
    assert_non_null(m);
    assert_true(json_same_obj(cJSON_GetObjectItem(m, "attributes"), ATTRS));
    assert_int_equal(cJSON_GetObjectItem(m, "zarr_format")->valueint, 2);
    cJSON_Delete(m);
    pzarr_free(meta);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
}

/* "attributes" given in the v2 .zarray document at creation land in .zattrs. */
static void test_v2_create_attributes(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("v2attrs", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE | PZARR_FORMAT_V2);
    const char *doc = "{\"zarr_format\":2,\"shape\":[4],\"chunks\":[2],\"dtype\":\"<i4\","
                      "\"compressor\":null,\"fill_value\":0,\"order\":\"C\","
                      "\"filters\":null,\"attributes\":{\"units\":\"m\",\"scale\":[1,2]}}";
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "arr", doc, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    cJSON *j = load_json(root, "arr/.zattrs");
    assert_true(json_same_obj(j, "{\"units\":\"m\",\"scale\":[1,2]}"));
    cJSON_Delete(j);
    j = load_json(root, "arr/.zarray");
    assert_null(cJSON_GetObjectItem(j, "attributes"));
    assert_int_equal(cJSON_GetObjectItem(j, "zarr_format")->valueint, 2);
    assert_string_equal(cJSON_GetObjectItem(j, "dtype")->valuestring, "<i4");
    cJSON_Delete(j);
    check_attrs(s, "arr", "{\"units\":\"m\",\"scale\":[1,2]}");
    /* Without attributes no .zattrs is needed. */
    CHECK_OK(pzarr_array_create(s, "plain", V2_I32_4, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    check_attrs(s, "plain", "{}");
    CHECK_OK(pzarr_close(s), "close");
}

/* Attribute numbers survive exactly, as zarr-python writes them. */
static void test_attrs_number_precision(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("attrsnum", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    const char *attrs = "{\"third\":0.30000000000000004,\"big\":9007199254740992,"
                        "\"tiny\":5e-324,\"pi\":3.141592653589793,\"m\":-123456789012345}";
    CHECK_OK(pzarr_group_create(s, "g", 3, attrs), pzarr_errmsg(s));
    char *json = NULL;
    CHECK_OK(pzarr_attrs_get(s, "g", &json), pzarr_errmsg(s));
    bool same_create = json_same(json, attrs);
    if (!same_create)
        print_error("after group_create: %s\n", json);
    pzarr_free(json);
    CHECK_OK(pzarr_attrs_set(s, "g", attrs), pzarr_errmsg(s));
    CHECK_OK(pzarr_attrs_get(s, "g", &json), pzarr_errmsg(s));
    bool same_set = json_same(json, attrs);
    if (!same_set)
        print_error("after attrs_set: %s\n", json);
    pzarr_free(json);
    cJSON *j = load_json(root, "g/zarr.json");
    bool same_disk = json_same_obj(cJSON_GetObjectItem(j, "attributes"), attrs);
    if (!same_disk) {
        char *t = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "attributes"));
        print_error("on disk: %s\n", t);
        free(t);
    }
    cJSON_Delete(j);
    CHECK_OK(pzarr_close(s), "close");
    /* cJSON_Print may round to 15 digits when the result reads back "close
     * enough" (see pz_json_print in src/base/json.c): guard the attribute
     * paths against it. */
    assert_true(same_create);
    assert_true(same_set);
    assert_true(same_disk);
}

/* ------------------------------------------------------------ metadata, info */

static void test_metadata_info_dimnames(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("meta", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    const char *doc =
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[10,7,3],"
        "\"data_type\":\"uint16\",\"chunk_grid\":{\"name\":\"regular\","
        "\"configuration\":{\"chunk_shape\":[4,7,2]}},\"chunk_key_encoding\":"
        "{\"name\":\"default\",\"configuration\":{\"separator\":\".\"}},"
        "\"fill_value\":65535,\"codecs\":[{\"name\":\"bytes\",\"configuration\":"
        "{\"endian\":\"big\"}},{\"name\":\"zstd\",\"configuration\":{\"level\":1,"
        "\"checksum\":true}}],\"dimension_names\":[\"time\",null,\"band\"],"
        "\"attributes\":{\"k\":\"v\"}}";
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "arr", doc, &a), pzarr_errmsg(s));
    pzarr_array_info info;
    memset(&info, 0xff, sizeof info);
    CHECK_OK(pzarr_array_get_info(a, &info), pzarr_array_errmsg(a));
    assert_int_equal(info.zarr_format, 3);
    assert_int_equal(info.ndim, 3);
    assert_int_equal(info.dtype, PZARR_UINT16);
    assert_int_equal(info.itemsize, 2);
    const uint64_t shape[3] = {10, 7, 3}, chunks[3] = {4, 7, 2};
    assert_memory_equal(info.shape, shape, sizeof shape);
    assert_memory_equal(info.chunks, chunks, sizeof chunks);
    assert_int_equal(info.shape[3], 0);
    assert_int_equal(info.nchunks, 3 * 1 * 2);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));

    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: the stored document; pass 1: pzarr_array_metadata. */
        cJSON *m;
        if (pass == 0) {
            m = load_json(root, "arr/zarr.json");
        } else {
            CHECK_OK(pzarr_array_open(s, "arr", &a), pzarr_errmsg(s));
            char *meta = NULL;
            CHECK_OK(pzarr_array_metadata(a, &meta), pzarr_array_errmsg(a));
            m = cJSON_Parse(meta);
            pzarr_free(meta);
            CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        }
        assert_non_null(m);
        assert_true(json_same_obj(cJSON_GetObjectItem(m, "dimension_names"),
                                  "[\"time\",null,\"band\"]"));
        assert_true(json_same_obj(cJSON_GetObjectItem(m, "shape"), "[10,7,3]"));
        assert_string_equal(cJSON_GetObjectItem(m, "data_type")->valuestring, "uint16");
        assert_string_equal(cJSON_GetObjectItem(m, "node_type")->valuestring, "array");
        assert_true(json_same_obj(cJSON_GetObjectItem(m, "fill_value"), "65535"));
        assert_true(json_same_obj(cJSON_GetObjectItem(m, "attributes"), "{\"k\":\"v\"}"));
        cJSON *grid = cJSON_GetObjectItem(m, "chunk_grid");
        assert_true(json_same_obj(
            cJSON_GetObjectItem(cJSON_GetObjectItem(grid, "configuration"), "chunk_shape"),
            "[4,7,2]"));
        cJSON *codecs = cJSON_GetObjectItem(m, "codecs");
        assert_int_equal(cJSON_GetArraySize(codecs), 2);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(codecs, 0), "name")
                                ->valuestring,
                            "bytes");
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(codecs, 1), "name")
                                ->valuestring,
                            "zstd");
        cJSON *cke = cJSON_GetObjectItem(m, "chunk_key_encoding");
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cke, "configuration"),
                                                "separator")
                                ->valuestring,
                            ".");
        cJSON_Delete(m);
    }
    /* Data through the "." separator: chunk key c.1.0.1 */
    CHECK_OK(pzarr_array_open(s, "arr", &a), pzarr_errmsg(s));
    uint16_t v = 0x1234, r = 0;
    uint64_t st[3] = {5, 3, 2}, ct[3] = {1, 1, 1};
    CHECK_OK(pzarr_array_write(a, st, ct, &v), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    assert_true(exists(root, "arr/c.1.0.1"));
    CHECK_OK(pzarr_array_read(a, st, ct, &r), pzarr_array_errmsg(a));
    assert_int_equal(r, 0x1234);
    uint64_t st2[3] = {4, 0, 0};
    CHECK_OK(pzarr_array_read(a, st2, ct, &r), pzarr_array_errmsg(a));
    assert_int_equal(r, 65535);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));

    /* v2 info. */
    const char *v2 = "{\"zarr_format\":2,\"shape\":[9,0],\"chunks\":[4,5],\"dtype\":\">c16\","
                     "\"compressor\":null,\"fill_value\":null,\"order\":\"F\","
                     "\"filters\":null,\"dimension_separator\":\"/\"}";
    CHECK_OK(pzarr_array_create(s, "v2arr", v2, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_get_info(a, &info), pzarr_array_errmsg(a));
    assert_int_equal(info.zarr_format, 2);
    assert_int_equal(info.ndim, 2);
    assert_int_equal(info.dtype, PZARR_COMPLEX128);
    assert_int_equal(info.itemsize, 16);
    assert_int_equal(info.shape[0], 9);
    assert_int_equal(info.shape[1], 0);
    assert_int_equal(info.chunks[1], 5);
    assert_int_equal(info.nchunks, 0); /* a zero-length dimension has no chunks */
    char *meta = NULL;
    CHECK_OK(pzarr_array_metadata(a, &meta), pzarr_array_errmsg(a));
    cJSON *m = cJSON_Parse(meta);
    assert_non_null(m);
    assert_string_equal(cJSON_GetObjectItem(m, "dtype")->valuestring, ">c16");
    assert_string_equal(cJSON_GetObjectItem(m, "order")->valuestring, "F");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "fill_value")));
    assert_string_equal(cJSON_GetObjectItem(m, "dimension_separator")->valuestring, "/");
    cJSON_Delete(m);
    pzarr_free(meta);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
}

/* ------------------------------------------------------------ data types */

enum { R = 5, C = 3, CR = 2, CC = 2 };

static bool host_big_endian(void)
{
    uint16_t probe = 1;
    unsigned char b;
    memcpy(&b, &probe, 1);
    return b == 0;
}

/* The stored bytes of one native element in the given byte order. */
static void to_order(const unsigned char *elem, size_t isz, pzarr_dtype t, bool big,
                     unsigned char *out)
{
    size_t w = (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128) ? isz / 2 : isz;
    bool swap = big != host_big_endian();
    for (size_t h = 0; h < isz; h += w)
        for (size_t b = 0; b < w; b++)
            out[h + b] = swap ? elem[h + w - 1 - b] : elem[h + b];
}

static void make_doc(const unit_dtype *dc, int fmt, bool big, char *doc, size_t cap)
{
    size_t isz = pzarr_dtype_size(dc->t);
    if (fmt == 3) {
        snprintf(doc, cap,
                 "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[%d,%d],"
                 "\"data_type\":\"%s\",\"chunk_grid\":{\"name\":\"regular\","
                 "\"configuration\":{\"chunk_shape\":[%d,%d]}},"
                 "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":%s,"
                 "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"%s\"}}]}",
                 R, C, dc->name, CR, CC,
                 dc->t == PZARR_BOOL ? "false" : (dc->kind == 'c' ? "[0,0]" : "0"),
                 big ? "big" : "little");
    } else {
        char dt[8];
        snprintf(dt, sizeof dt, "%c%c%zu", isz == 1 ? '|' : (big ? '>' : '<'), dc->kind, isz);
        snprintf(doc, cap,
                 "{\"zarr_format\":2,\"shape\":[%d,%d],\"chunks\":[%d,%d],\"dtype\":\"%s\","
                 "\"compressor\":null,\"fill_value\":%s,\"order\":\"C\",\"filters\":null}",
                 R, C, CR, CC, dt,
                 dc->t == PZARR_BOOL ? "false" : (dc->kind == 'c' ? "[0,0]" : "0"));
    }
}

static void check_stored_chunk(const char *adir, const char *key, const unsigned char *data,
                               size_t isz, const unit_dtype *dc, bool big, uint64_t r0,
                               uint64_t c0)
{
    char p[4400];
    join(p, sizeof p, adir, key);
    size_t n = 0;
    unsigned char *raw = slurp(p, &n);
    if (!raw)
        print_error("missing chunk %s\n", p);
    assert_non_null(raw);
    assert_int_equal(n, (size_t)CR * CC * isz);
    for (uint64_t i = 0; i < CR && r0 + i < R; i++)
        for (uint64_t j = 0; j < CC && c0 + j < C; j++) {
            unsigned char want[16];
            to_order(data + ((r0 + i) * C + c0 + j) * isz, isz, dc->t, big, want);
            if (memcmp(raw + (i * CC + j) * isz, want, isz) != 0)
                print_error("%s %s: element (%llu,%llu) stored wrongly\n", dc->name, key,
                            (unsigned long long)(r0 + i), (unsigned long long)(c0 + j));
            assert_memory_equal(raw + (i * CC + j) * isz, want, isz);
        }
    free(raw);
}

static void dtype_roundtrip(pzarr_store *s, const char *root, const unit_dtype *dc, int fmt,
                            bool big)
{
    size_t isz = pzarr_dtype_size(dc->t);
    char name[64], doc[1024];
    snprintf(name, sizeof name, "v%d_%s_%s", fmt, dc->name, big ? "be" : "le");
    make_doc(dc, fmt, big, doc, sizeof doc);
    unsigned char data[R * C * 16], back[R * C * 16];
    for (size_t i = 0; i < R * C * isz; i++)
        data[i] = (unsigned char)rng();
    /* No element equal to the fill (all-zero bytes): a chunk holding only
     * the fill value is legitimately not stored. */
    for (size_t e = 0; e < R * C; e++)
        data[e * isz] |= 0x01;
    if (dc->t == PZARR_BOOL)
        for (size_t i = 0; i < R * C; i++)
            data[i] = (unsigned char)(i % 3 != 1);
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, name, doc, &a), pzarr_errmsg(s));
    uint64_t z[2] = {0, 0}, full[2] = {R, C};
    CHECK_OK(pzarr_array_write(a, z, full, data), pzarr_array_errmsg(a));
    memset(back, 0, sizeof back);
    CHECK_OK(pzarr_array_read(a, z, full, back), pzarr_array_errmsg(a)); /* unflushed */
    assert_memory_equal(back, data, R * C * isz);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));

    char adir[4200];
    join(adir, sizeof adir, root, name);
    check_stored_chunk(adir, fmt == 3 ? "c/0/0" : "0.0", data, isz, dc, big, 0, 0);
    check_stored_chunk(adir, fmt == 3 ? "c/2/1" : "2.1", data, isz, dc, big, 4, 2);

    CHECK_OK(pzarr_array_open(s, name, &a), pzarr_errmsg(s));
    pzarr_array_info info;
    CHECK_OK(pzarr_array_get_info(a, &info), pzarr_array_errmsg(a));
    assert_int_equal(info.dtype, dc->t);
    assert_int_equal(info.itemsize, isz);
    memset(back, 0, sizeof back);
    CHECK_OK(pzarr_array_read(a, z, full, back), pzarr_array_errmsg(a));
    if (memcmp(back, data, R * C * isz) != 0)
        print_error("%s: read back differs\n", name);
    assert_memory_equal(back, data, R * C * isz);
    /* A box across chunk edges. */
    uint64_t st[2] = {1, 1}, ct[2] = {3, 2};
    CHECK_OK(pzarr_array_read(a, st, ct, back), pzarr_array_errmsg(a));
    for (uint64_t i = 0; i < 3; i++)
        for (uint64_t j = 0; j < 2; j++)
            assert_memory_equal(back + (i * 2 + j) * isz, data + ((1 + i) * C + 1 + j) * isz,
                                isz);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
}

static void test_dtypes_v3(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("dtypes3", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    for (size_t i = 0; i < UNIT_NDTYPES; i++) {
        dtype_roundtrip(s, root, &UNIT_DTYPES[i], 3, false);
        dtype_roundtrip(s, root, &UNIT_DTYPES[i], 3, true);
    }
    CHECK_OK(pzarr_close(s), "close");
}

static void test_dtypes_v2(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("dtypes2", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE | PZARR_FORMAT_V2);
    for (size_t i = 0; i < UNIT_NDTYPES; i++) {
        dtype_roundtrip(s, root, &UNIT_DTYPES[i], 2, false);
        if (pzarr_dtype_size(UNIT_DTYPES[i].t) > 1)
            dtype_roundtrip(s, root, &UNIT_DTYPES[i], 2, true);
    }
    CHECK_OK(pzarr_close(s), "close");
}

/* ------------------------------------------------------------ fill values */

typedef struct fill_case {
    int fmt;
    const char *dtype; /* v3 name or v2 dtype string */
    const char *fill;  /* JSON */
    size_t isz;
    uint64_t bits[2];  /* expected element bits (two halves for complex) */
    const char *emit;  /* the fill_value expected back in the metadata, or NULL */
} fill_case;

static const fill_case FILLS[] = {
    {3, "float32", "\"NaN\"", 4, {0x7fc00000u}, "\"NaN\""},
    {3, "float32", "\"Infinity\"", 4, {0x7f800000u}, "\"Infinity\""},
    {3, "float32", "\"-Infinity\"", 4, {0xff800000u}, "\"-Infinity\""},
    {3, "float32", "\"0x7fc00000\"", 4, {0x7fc00000u}, NULL},
    {3, "float32", "\"0x7fc00001\"", 4, {0x7fc00001u}, NULL},
    {3, "float32", "\"0xffffffff\"", 4, {0xffffffffu}, NULL},
    {3, "float32", "0.1", 4, {0x3dcccccdu}, NULL},
    {3, "float32", "-0.0", 4, {0x80000000u}, NULL},
    {3, "float64", "\"NaN\"", 8, {0x7ff8000000000000ull}, "\"NaN\""},
    {3, "float64", "\"Infinity\"", 8, {0x7ff0000000000000ull}, "\"Infinity\""},
    {3, "float64", "\"-Infinity\"", 8, {0xfff0000000000000ull}, "\"-Infinity\""},
    {3, "float64", "\"0x7ff0000000000001\"", 8, {0x7ff0000000000001ull}, NULL},
    {3, "float64", "0.30000000000000004", 8, {0x3fd3333333333334ull}, NULL},
    {3, "float16", "\"NaN\"", 2, {0x7e00}, "\"NaN\""},
    {3, "float16", "\"Infinity\"", 2, {0x7c00}, "\"Infinity\""},
    {3, "float16", "\"-Infinity\"", 2, {0xfc00}, "\"-Infinity\""},
    {3, "float16", "\"0x7c01\"", 2, {0x7c01}, NULL},
    {3, "float16", "1.0", 2, {0x3c00}, NULL},
    {3, "complex64", "[\"NaN\",\"-Infinity\"]", 8, {0x7fc00000u, 0xff800000u}, NULL},
    {3, "complex128", "[\"Infinity\",\"0x7ff8000000000001\"]", 16,
     {0x7ff0000000000000ull, 0x7ff8000000000001ull}, NULL},
    {2, "<f4", "\"NaN\"", 4, {0x7fc00000u}, "\"NaN\""},
    {2, ">f4", "\"Infinity\"", 4, {0x7f800000u}, "\"Infinity\""},
    {2, "<f8", "\"-Infinity\"", 8, {0xfff0000000000000ull}, "\"-Infinity\""},
    {2, ">f8", "\"NaN\"", 8, {0x7ff8000000000000ull}, "\"NaN\""},
    {2, "<f2", "\"Infinity\"", 2, {0x7c00}, "\"Infinity\""},
    {2, ">f2", "\"NaN\"", 2, {0x7e00}, "\"NaN\""},
};

static void put_bits(unsigned char *out, size_t w, uint64_t bits)
{
    if (w == 2) {
        uint16_t v = (uint16_t)bits;
        memcpy(out, &v, 2);
    } else if (w == 4) {
        uint32_t v = (uint32_t)bits;
        memcpy(out, &v, 4);
    } else {
        memcpy(out, &bits, 8);
    }
}

static void fill_elem(const fill_case *fc, unsigned char *out)
{
    bool cplx = fc->fmt == 3 && strncmp(fc->dtype, "complex", 7) == 0;
    size_t w = cplx ? fc->isz / 2 : fc->isz;
    put_bits(out, w, fc->bits[0]);
    if (cplx)
        put_bits(out + w, w, fc->bits[1]);
}

static void expect_all_fill(pzarr_array *a, const fill_case *fc, const unsigned char *elem,
                            uint64_t skip)
{
    unsigned char buf[6 * 16];
    uint64_t st[1] = {0}, ct[1] = {6};
    memset(buf, 0x11, sizeof buf);
    CHECK_OK(pzarr_array_read(a, st, ct, buf), pzarr_array_errmsg(a));
    for (uint64_t i = 0; i < 6; i++) {
        if (i == skip)
            continue;
        if (memcmp(buf + i * fc->isz, elem, fc->isz) != 0)
            print_error("%s fill %s: element %llu differs\n", fc->dtype, fc->fill,
                        (unsigned long long)i);
        assert_memory_equal(buf + i * fc->isz, elem, fc->isz);
    }
}

static void test_fill_values(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("fills", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    for (size_t k = 0; k < sizeof FILLS / sizeof FILLS[0]; k++) {
        const fill_case *fc = &FILLS[k];
        char doc[1024], name[32];
        snprintf(name, sizeof name, "f%zu", k);
        if (fc->fmt == 3)
            snprintf(doc, sizeof doc,
                     "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[6],"
                     "\"data_type\":\"%s\",\"chunk_grid\":{\"name\":\"regular\","
                     "\"configuration\":{\"chunk_shape\":[2]}},\"chunk_key_encoding\":"
                     "{\"name\":\"default\"},\"fill_value\":%s,\"codecs\":[{\"name\":"
                     "\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}",
                     fc->dtype, fc->fill);
        else
            snprintf(doc, sizeof doc,
                     "{\"zarr_format\":2,\"shape\":[6],\"chunks\":[2],\"dtype\":\"%s\","
                     "\"compressor\":null,\"fill_value\":%s,\"order\":\"C\",\"filters\":null}",
                     fc->dtype, fc->fill);
        unsigned char elem[16];
        fill_elem(fc, elem);
        pzarr_array *a = NULL;
        CHECK_OK(pzarr_array_create(s, name, doc, &a), pzarr_errmsg(s));
        /* No chunk exists: every element is the fill pattern. */
        expect_all_fill(a, fc, elem, UINT64_MAX);
        /* One element written: the rest of its chunk is still the fill. */
        unsigned char one[16];
        memset(one, 0x3c, sizeof one);
        uint64_t st[1] = {3}, ct[1] = {1};
        CHECK_OK(pzarr_array_write(a, st, ct, one), pzarr_array_errmsg(a));
        CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        expect_all_fill(a, fc, elem, 3);
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        /* Reopened from the stored document: the same bits. */
        CHECK_OK(pzarr_array_open(s, name, &a), pzarr_errmsg(s));
        expect_all_fill(a, fc, elem, 3);
        unsigned char got[16];
        CHECK_OK(pzarr_array_read(a, st, ct, got), pzarr_array_errmsg(a));
        assert_memory_equal(got, one, fc->isz);
        if (fc->emit) {
            char *meta = NULL;
            CHECK_OK(pzarr_array_metadata(a, &meta), pzarr_array_errmsg(a));
            cJSON *m = cJSON_Parse(meta);
            assert_non_null(m);
            if (!json_same_obj(cJSON_GetObjectItem(m, "fill_value"), fc->emit))
                print_error("%s: metadata %s\n", fc->dtype, meta);
            assert_true(json_same_obj(cJSON_GetObjectItem(m, "fill_value"), fc->emit));
            cJSON_Delete(m);
            pzarr_free(meta);
        }
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        /* Chunks 0 and 2 were never written. */
        char rel[64];
        snprintf(rel, sizeof rel, fc->fmt == 3 ? "%s/c/0" : "%s/0", name);
        assert_false(exists(root, rel));
        snprintf(rel, sizeof rel, fc->fmt == 3 ? "%s/c/1" : "%s/1", name);
        assert_true(exists(root, rel));
    }
    CHECK_OK(pzarr_close(s), "close");
}

/* A chunk written entirely with the (NaN) fill value is not stored. */
static void test_fill_chunk_not_stored(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("fillskip", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "x",
                                "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],"
                                "\"data_type\":\"float32\",\"chunk_grid\":{\"name\":"
                                "\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
                                "\"chunk_key_encoding\":{\"name\":\"default\"},"
                                "\"fill_value\":\"NaN\",\"codecs\":[{\"name\":\"bytes\","
                                "\"configuration\":{\"endian\":\"little\"}}]}",
                                &a),
             pzarr_errmsg(s));
    uint32_t v[4] = {0x7fc00000u, 0x7fc00000u, 0x3f800000u, 0x7fc00000u};
    uint64_t st[1] = {0}, ct[1] = {4};
    CHECK_OK(pzarr_array_write(a, st, ct, v), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    assert_false(exists(root, "x/c/0"));
    assert_true(exists(root, "x/c/1"));
    uint32_t r[4] = {0};
    CHECK_OK(pzarr_array_read(a, st, ct, r), pzarr_array_errmsg(a));
    assert_memory_equal(r, v, sizeof v);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
}

/* ------------------------------------------------------------ specs, dims, consolidated */

/* A spec's document: every field lands where Zarr puts it. */
static void test_spec_documents(void **state)
{
    (void)state;
    char msg[512], *doc = NULL;
    pzarr_spec v3 = {.dtype = PZARR_FLOAT32, .ndim = 2, .shape = {100, 60},
                     .chunks = {10, 20}, .shard = {50, 60}, .codec = "blosc:zstd:7:bitshuffle",
                     .fill = "nan", .dims = {"y", "x"}, .attributes = "{\"units\":\"K\"}"};
    CHECK_OK(pzarr_spec_document(&v3, &doc, msg, sizeof msg), msg);
    cJSON *j = cJSON_Parse(doc);
    assert_non_null(j);
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "shape"), "[100,60]"));
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "chunk_grid"),
                              "{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[50,60]}}"));
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "dimension_names"), "[\"y\",\"x\"]"));
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "fill_value"), "\"NaN\""));
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "attributes"), "{\"units\":\"K\"}"));
    const cJSON *sh = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "codecs"), 0);
    assert_string_equal(cJSON_GetObjectItem(sh, "name")->valuestring, "sharding_indexed");
    const cJSON *cfg = cJSON_GetObjectItem(sh, "configuration");
    assert_true(json_same_obj(cJSON_GetObjectItem(cfg, "chunk_shape"), "[10,20]"));
    const cJSON *inner = cJSON_GetArrayItem(cJSON_GetObjectItem(cfg, "codecs"), 1);
    assert_true(json_same_obj(inner, "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"zstd\","
                                     "\"clevel\":7,\"shuffle\":\"bitshuffle\",\"typesize\":4,"
                                     "\"blocksize\":0}}"));
    cJSON_Delete(j);
    pzarr_free(doc);

    pzarr_spec v2 = {.zarr_format = 2, .dtype = PZARR_INT16, .ndim = 3, .shape = {4, 5, 6},
                     .codec = "zlib:4", .dims = {"t", "y", "x"}, .order = 'F',
                     .big_endian = 1};
    CHECK_OK(pzarr_spec_document(&v2, &doc, msg, sizeof msg), msg);
    j = cJSON_Parse(doc);
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "chunks"), "[4,5,6]")); /* default */
    assert_string_equal(cJSON_GetObjectItem(j, "dtype")->valuestring, ">i2");
    assert_string_equal(cJSON_GetObjectItem(j, "order")->valuestring, "F");
    assert_string_equal(cJSON_GetObjectItem(j, "dimension_separator")->valuestring, ".");
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "compressor"), "{\"id\":\"zlib\",\"level\":4}"));
    assert_true(json_same_obj(cJSON_GetObjectItem(j, "attributes"),
                              "{\"_ARRAY_DIMENSIONS\":[\"t\",\"y\",\"x\"]}"));
    assert_null(cJSON_GetObjectItem(j, "dimension_names"));
    cJSON_Delete(j);
    pzarr_free(doc);

    /* Wrong specs: PZARR_EINVAL and a message naming the field. */
    static const struct {
        pzarr_spec sp;
        const char *needle;
    } bad[] = {
        {{.dtype = PZARR_INT8, .ndim = 1, .shape = {4}, .codec = "lz5"}, "unknown codec 'lz5'"},
        {{.zarr_format = 2, .dtype = PZARR_INT8, .ndim = 1, .shape = {4}, .codec = "zstd+crc32c"},
         "crc32c needs format 3"},
        {{.dtype = PZARR_UINT8, .ndim = 1, .shape = {4}, .fill = "256"},
         "fill value '256' is not a valid uint8"},
        {{.dtype = PZARR_INT8, .ndim = 1, .shape = {4}, .dims = {"a", "b"}},
         "dimension name 1 ('b') given, the array has 1"},
        {{.zarr_format = 2, .dtype = PZARR_INT8, .ndim = 2, .shape = {4, 4}, .dims = {"a"}},
         "dimension 1 has no name"},
        {{.zarr_format = 2, .dtype = PZARR_INT8, .ndim = 1, .shape = {4}, .chunks = {2},
          .shard = {4}}, "sharding needs format 3"},
        {{.dtype = PZARR_INT8, .ndim = 1, .shape = {9}, .chunks = {2}, .shard = {3}},
         "must be a positive multiple of the chunk size 2"},
        {{.dtype = PZARR_INT8, .ndim = 2, .shape = {4, 4}, .chunks = {2, 0}},
         "chunks: dimension 1 is 0"},
        {{.dtype = PZARR_INT8, .ndim = 1, .shape = {4}, .attributes = "[1]"},
         "are not a JSON object"},
        {{.dtype = PZARR_INT8, .ndim = 1, .shape = {4}, .order = 'X'}, "order 'X'"},
        {{.zarr_format = 4, .dtype = PZARR_INT8, .ndim = 1, .shape = {4}}, "format 4"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc = NULL;
        int rc = pzarr_spec_document(&bad[i].sp, &doc, msg, sizeof msg);
        if (rc != PZARR_EINVAL || !strstr(msg, bad[i].needle))
            print_error("case %zu: rc %d, message \"%s\", wanted \"%s\"\n", i, rc, msg,
                        bad[i].needle);
        assert_int_equal(rc, PZARR_EINVAL);
        assert_non_null(strstr(msg, bad[i].needle));
        assert_null(doc);
    }
}

static void expect_dims(pzarr_array *a, int n, const char *const *want)
{
    char **names = NULL;
    size_t count = 99;
    CHECK_OK(pzarr_array_dimension_names(a, &names, &count), pzarr_array_errmsg(a));
    assert_int_equal(count, (size_t)n);
    for (int d = 0; d < n; d++)
        assert_string_equal(names[d], want[d]);
    pzarr_free_list(names, count);
}

/* Arrays made from specs in both formats; their dimension names read back,
 * also after reopening; an array without names has none. */
static void test_create_spec_dims(void **state)
{
    (void)state;
    char root[4096];
    static const char *const tyx[] = {"time", "y", "x"};
    for (int fmt = 2; fmt <= 3; fmt++) {
        fresh_dir(fmt == 2 ? "spec2" : "spec3", root, sizeof root);
        pzarr_store *s = open_store(root, PZARR_CREATE | (fmt == 2 ? PZARR_FORMAT_V2 : 0));
        pzarr_spec sp = {.zarr_format = fmt, .dtype = PZARR_FLOAT64, .ndim = 3,
                         .shape = {6, 4, 5}, .chunks = {1, 4, 5}, .codec = "zstd:1",
                         .fill = "nan", .dims = {"time", "y", "x"}};
        pzarr_array *a = NULL;
        CHECK_OK(pzarr_array_create_spec(s, "grp/temp", &sp, &a), pzarr_errmsg(s));
        expect_dims(a, 3, tyx);
        double row[20];
        for (int i = 0; i < 20; i++)
            row[i] = i + 0.5;
        uint64_t st[3] = {2, 0, 0}, ct[3] = {1, 4, 5};
        CHECK_OK(pzarr_array_write(a, st, ct, row), pzarr_array_errmsg(a));
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        pzarr_spec plain = {.zarr_format = fmt, .dtype = PZARR_INT8, .ndim = 1, .shape = {3}};
        CHECK_OK(pzarr_array_create_spec(s, "plain", &plain, &a), pzarr_errmsg(s));
        expect_dims(a, 0, NULL);
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        /* A bad spec fails on every rank and creates nothing. */
        pzarr_spec bad = sp;
        bad.codec = "zstd:99";
        assert_int_equal(pzarr_array_create_spec(s, "bad", &bad, &a), PZARR_EINVAL);
        assert_non_null(strstr(pzarr_errmsg(s), "codec zstd: level '99'"));
        assert_false(exists(root, "bad"));
        CHECK_OK(pzarr_close(s), "close");

        s = open_store(root, PZARR_RDONLY);
        CHECK_OK(pzarr_array_open(s, "grp/temp", &a), pzarr_errmsg(s));
        expect_dims(a, 3, tyx);
        double got[20];
        CHECK_OK(pzarr_array_read(a, st, ct, got), pzarr_array_errmsg(a));
        assert_memory_equal(got, row, sizeof row);
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        CHECK_OK(pzarr_close(s), "close");
    }
}

/* Attribute updates merge: new keys added, given keys replaced, null removes. */
static void test_attrs_update(void **state)
{
    (void)state;
    char root[4096];
    for (int fmt = 2; fmt <= 3; fmt++) {
        fresh_dir(fmt == 2 ? "upd2" : "upd3", root, sizeof root);
        pzarr_store *s = open_store(root, PZARR_CREATE | (fmt == 2 ? PZARR_FORMAT_V2 : 0));
        pzarr_spec sp = {.zarr_format = fmt, .dtype = PZARR_INT32, .ndim = 1, .shape = {4},
                         .dims = {"n"}, .attributes = "{\"a\":1,\"b\":[2],\"keep\":\"k\"}"};
        pzarr_array *a = NULL;
        CHECK_OK(pzarr_array_create_spec(s, "v", &sp, &a), pzarr_errmsg(s));
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        CHECK_OK(pzarr_attrs_update(s, "v", "{\"b\":3,\"c\":{\"d\":4},\"a\":null}"),
                 pzarr_errmsg(s));
        const char *want = fmt == 2
            ? "{\"b\":3,\"c\":{\"d\":4},\"keep\":\"k\",\"_ARRAY_DIMENSIONS\":[\"n\"]}"
            : "{\"b\":3,\"c\":{\"d\":4},\"keep\":\"k\"}";
        check_attrs(s, "v", want);
        CHECK_OK(pzarr_attrs_update(s, "", "{\"title\":\"run 7\"}"), pzarr_errmsg(s));
        check_attrs(s, "", "{\"title\":\"run 7\"}");
        assert_int_equal(pzarr_attrs_update(s, "v", "[1]"), PZARR_EINVAL);
        assert_int_equal(pzarr_attrs_update(s, "none", "{}"), PZARR_ENOENT);
        /* The consolidated metadata follows (this store was made here). */
        cJSON *c = load_json(root, fmt == 2 ? ".zmetadata" : "zarr.json");
        const cJSON *m = fmt == 2 ? cJSON_GetObjectItem(c, "metadata")
                                  : cJSON_GetObjectItem(cJSON_GetObjectItem(c,
                                        "consolidated_metadata"), "metadata");
        const cJSON *va = fmt == 2 ? cJSON_GetObjectItem(m, "v/.zattrs")
                                   : cJSON_GetObjectItem(cJSON_GetObjectItem(m, "v"),
                                                         "attributes");
        assert_true(json_same_obj(va, want));
        if (fmt == 2)
            assert_true(json_same_obj(cJSON_GetObjectItem(m, ".zattrs"), "{\"title\":\"run 7\"}"));
        else
            assert_true(json_same_obj(cJSON_GetObjectItem(c, "attributes"),
                                      "{\"title\":\"run 7\"}"));
        cJSON_Delete(c);
        CHECK_OK(pzarr_close(s), "close");
    }
}

/* Consolidated metadata: made for new stores unless PZARR_NO_CONSOLIDATE,
 * kept current in a store that has it (groups, arrays, attributes, resize),
 * and opening N arrays then reads no per-array document. */
static void test_consolidated(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("noconsol", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE | PZARR_FORMAT_V2 | PZARR_NO_CONSOLIDATE);
    CHECK_OK(pzarr_group_create(s, "g", 0, NULL), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
    assert_false(exists(root, ".zmetadata"));

    for (int fmt = 2; fmt <= 3; fmt++) {
        fresh_dir(fmt == 2 ? "consol2" : "consol3", root, sizeof root);
        s = open_store(root, PZARR_CREATE | (fmt == 2 ? PZARR_FORMAT_V2 : 0));
        CHECK_OK(pzarr_group_create(s, "g", 0, "{\"x\":1}"), pzarr_errmsg(s));
        pzarr_spec sp = {.zarr_format = fmt, .dtype = PZARR_UINT16, .ndim = 1, .shape = {8},
                         .chunks = {4}, .dims = {"n"}};
        char name[16];
        for (int i = 0; i < 3; i++) {
            pzarr_array *a = NULL;
            snprintf(name, sizeof name, "g/v%d", i);
            CHECK_OK(pzarr_array_create_spec(s, name, &sp, &a), pzarr_errmsg(s));
            if (i == 0)
                CHECK_OK(pzarr_array_resize(a, (uint64_t[]){12}), pzarr_array_errmsg(a));
            CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        }
        CHECK_OK(pzarr_close(s), "close");
        cJSON *c = load_json(root, fmt == 2 ? ".zmetadata" : "zarr.json");
        const cJSON *m = fmt == 2 ? cJSON_GetObjectItem(c, "metadata")
                                  : cJSON_GetObjectItem(cJSON_GetObjectItem(c,
                                        "consolidated_metadata"), "metadata");
        assert_non_null(m);
        const cJSON *v0 = cJSON_GetObjectItem(m, fmt == 2 ? "g/v0/.zarray" : "g/v0");
        assert_true(json_same_obj(cJSON_GetObjectItem(v0, "shape"), "[12]"));
        assert_non_null(cJSON_GetObjectItem(m, fmt == 2 ? "g/v2/.zarray" : "g/v2"));
        assert_non_null(cJSON_GetObjectItem(m, fmt == 2 ? "g/.zgroup" : "g"));
        cJSON_Delete(c);

        /* Reopened: the three arrays open from the one document. */
        s = open_store(root, PZARR_RDONLY | (fmt == 2 ? PZARR_FORMAT_V2 : 0));
        pzarr_stats st0, st1;
        CHECK_OK(pzarr_get_stats(s, &st0), "stats");
        for (int i = 0; i < 3; i++) {
            pzarr_array *a = NULL;
            snprintf(name, sizeof name, "g/v%d", i);
            CHECK_OK(pzarr_array_open(s, name, &a), pzarr_errmsg(s));
            pzarr_array_info in;
            CHECK_OK(pzarr_array_get_info(a, &in), "info");
            assert_int_equal(in.shape[0], i == 0 ? 12 : 8);
            CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        }
        CHECK_OK(pzarr_get_stats(s, &st1), "stats");
        int rank;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        /* The store's open read the one document; the arrays' opens read
         * nothing, not even a look for a commit record, as none is listed. */
        uint64_t want = rank == 0 ? 1 : 0;
        if (st1.meta_reads != want)
            print_error("meta reads for the store and 3 arrays: %llu\n",
                        (unsigned long long)st1.meta_reads);
        assert_int_equal(st1.meta_reads, want);
        assert_int_equal(st1.meta_reads - st0.meta_reads, 0);
        CHECK_OK(pzarr_close(s), "close");

        /* A flush lists its array as one that may hold a commit record;
         * closing it with everything published takes it out again. */
        s = open_store(root, PZARR_RDWR);
        pzarr_array *a = NULL;
        CHECK_OK(pzarr_array_open(s, "g/v1", &a), pzarr_errmsg(s));
        uint16_t one = 5;
        CHECK_OK(pzarr_array_write(a, (uint64_t[]){3}, (uint64_t[]){1}, &one),
                 pzarr_array_errmsg(a));
        CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        c = load_json(root, fmt == 2 ? ".zmetadata" : "zarr.json");
        const cJSON *h = fmt == 2 ? c : cJSON_GetObjectItem(c, "consolidated_metadata");
        assert_true(json_same_obj(cJSON_GetObjectItem(h, "pzarr_pending"), "[\"g/v1\"]"));
        cJSON_Delete(c);
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        c = load_json(root, fmt == 2 ? ".zmetadata" : "zarr.json");
        h = fmt == 2 ? c : cJSON_GetObjectItem(c, "consolidated_metadata");
        assert_true(json_same_obj(cJSON_GetObjectItem(h, "pzarr_pending"), "[]"));
        CHECK_OK(pzarr_close(s), "close");

        /* A document without the list (as another tool writes it) and a
         * record left in g/v0 by a killed job: every array open looks for a
         * record; the next flush lists g/v0 beside its own array. */
        cJSON_DeleteItemFromObject(cJSON_IsObject(h) ? (cJSON *)h : c, "pzarr_pending");
        char *text = cJSON_Print(c);
        save_text(root, fmt == 2 ? ".zmetadata" : "zarr.json", text);
        free(text);
        cJSON_Delete(c);
        save_text(root, "g/v0/.pzarr-commit",
                  "{\"pzarr_commit\":1,\"flush\":\"0-1\",\"documents\":{}}");
        s = open_store(root, PZARR_RDONLY | (fmt == 2 ? PZARR_FORMAT_V2 : 0));
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "g/v%d", i);
            CHECK_OK(pzarr_array_open(s, name, &a), pzarr_errmsg(s));
            CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        }
        CHECK_OK(pzarr_get_stats(s, &st1), "stats");
        assert_int_equal(st1.meta_reads, rank == 0 ? want + 3 : 0);
        CHECK_OK(pzarr_close(s), "close");
        s = open_store(root, PZARR_RDWR);
        CHECK_OK(pzarr_array_open(s, "g/v2", &a), pzarr_errmsg(s));
        CHECK_OK(pzarr_array_write(a, (uint64_t[]){3}, (uint64_t[]){1}, &one),
                 pzarr_array_errmsg(a));
        CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        c = load_json(root, fmt == 2 ? ".zmetadata" : "zarr.json");
        h = fmt == 2 ? c : cJSON_GetObjectItem(c, "consolidated_metadata");
        assert_true(json_same_obj(cJSON_GetObjectItem(h, "pzarr_pending"),
                                  "[\"g/v0\",\"g/v2\"]"));
        cJSON_Delete(c);
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        /* Opening g/v0 for writing finishes its flush and unlists it. */
        CHECK_OK(pzarr_array_open(s, "g/v0", &a), pzarr_errmsg(s));
        CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
        assert_false(exists(root, "g/v0/.pzarr-commit"));
        c = load_json(root, fmt == 2 ? ".zmetadata" : "zarr.json");
        h = fmt == 2 ? c : cJSON_GetObjectItem(c, "consolidated_metadata");
        assert_true(json_same_obj(cJSON_GetObjectItem(h, "pzarr_pending"), "[]"));
        cJSON_Delete(c);
        CHECK_OK(pzarr_close(s), "close");
    }
}

/* Bindings record their own checks' failures on a handle: the message is
 * the handle's until its next call; bad handles and codes are refused. */
static void test_binding_errors(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("binding", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    pzarr_spec sp = {.dtype = PZARR_INT8, .ndim = 1, .shape = {4}};
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create_spec(s, "v", &sp, &a), pzarr_errmsg(s));
    assert_int_equal(pzarr_array_set_error(a, PZARR_EBOUNDS, "start(1) = 0"), PZARR_EBOUNDS);
    assert_string_equal(pzarr_array_errmsg(a), "start(1) = 0");
    assert_int_equal(pzarr_set_error(s, PZARR_EINVAL, "spec%ndim is not set"), PZARR_EINVAL);
    assert_string_equal(pzarr_errmsg(s), "spec%ndim is not set");
    assert_int_equal(pzarr_set_error(s, PZARR_EIO, NULL), PZARR_EIO);
    assert_string_equal(pzarr_errmsg(s), pzarr_strerror(PZARR_EIO));
    assert_int_equal(pzarr_array_set_error(a, 0, "not a failure"), PZARR_EINVAL);
    assert_int_equal(pzarr_set_error(NULL, PZARR_EIO, "x"), PZARR_EINVAL);
    /* The next call clears it. */
    int8_t v[4] = {1, 2, 3, 4};
    CHECK_OK(pzarr_array_write(a, (uint64_t[]){0}, (uint64_t[]){4}, v), pzarr_array_errmsg(a));
    assert_string_equal(pzarr_array_errmsg(a), "");
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    assert_int_equal(pzarr_array_set_error(a, PZARR_EIO, "closed"), PZARR_EINVAL);
    CHECK_OK(pzarr_close(s), "close");
}

int main(int argc, char **argv)
{
    /* MPICH's MPI_Init leaks hwloc plugin memory (1016 bytes, unrelated to
     * pzarr); keep LeakSanitizer for everything else. */
    LSAN_OFF();
    MPI_Init(&argc, &argv);
    LSAN_ON();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_strerror),
        cmocka_unit_test(test_dtype_table),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_groups_v3),
        cmocka_unit_test(test_groups_v2),
        cmocka_unit_test(test_group_list),
        cmocka_unit_test(test_attrs_v3),
        cmocka_unit_test(test_attrs_v2),
        cmocka_unit_test(test_v2_create_attributes),
        cmocka_unit_test(test_attrs_number_precision),
        cmocka_unit_test(test_metadata_info_dimnames),
        cmocka_unit_test(test_dtypes_v3),
        cmocka_unit_test(test_dtypes_v2),
        cmocka_unit_test(test_fill_values),
        cmocka_unit_test(test_fill_chunk_not_stored),
        cmocka_unit_test(test_spec_documents),
        cmocka_unit_test(test_create_spec_dims),
        cmocka_unit_test(test_attrs_update),
        cmocka_unit_test(test_consolidated),
        cmocka_unit_test(test_binding_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
