/*
 * Bad input through the public API: malformed and hostile metadata (given
 * to pzarr_array_create and written to disk by hand), corrupt and truncated
 * chunks, out-of-bounds regions, path traversal in node names, read-only
 * stores and unsupported features of real zarr-python / zarrita data.
 * Each case checks the exact code, that the per-handle message names the
 * culprit, and (under ASan/UBSan in CI) that nothing crashes.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pzarr.h"
#include "format/format.h"

#include "unit_util.h"

/* ------------------------------------------------------------ helpers */

/* PZARR_TEST_TMP/unit-bad-<tag>, fresh and existing. */
static const char *fresh_dir(const char *tag, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/unit-bad-%s", PZARR_TEST_TMP, tag);
    mkdir(PZARR_TEST_TMP, 0777);
    rmtree(buf);
    assert_int_equal(mkdir(buf, 0777), 0);
    return buf;
}

static void join(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s/%s", a, b);
    assert_true(n > 0 && (size_t)n < cap);
}

static void put_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        print_error("cannot write %s\n", path);
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A sorted, newline-joined listing of a directory tree (names and sizes),
 * to show that nothing changed. */
static void listing_rec(const char *dir, const char *rel, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char *names[512];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 512) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (int i = 0; i < n; i++) {
        char p[4096], r[4096];
        if (snprintf(p, sizeof p, "%s/%s", dir, names[i]) >= (int)sizeof p)
            continue;
        snprintf(r, sizeof r, "%s%s", rel, names[i]);
        struct stat st;
        lstat(p, &st);
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s %lld\n", r,
                 S_ISDIR(st.st_mode) ? -1LL : (long long)st.st_size);
        if (S_ISDIR(st.st_mode)) {
            char sub[4200];
            snprintf(sub, sizeof sub, "%s/", r);
            listing_rec(p, sub, out, cap);
        }
        free(names[i]);
    }
}

static char *listing(const char *dir)
{
    size_t cap = 1 << 16;
    char *out = calloc(cap, 1);
    assert_non_null(out);
    listing_rec(dir, "", out, cap);
    return out;
}

static pzarr_store *open_store(const char *path, int flags)
{
    pzarr_store *s = NULL;
    int rc = pzarr_open(MPI_COMM_WORLD, path, flags, &s);
    CHECK_OK(rc, pzarr_errmsg(s));
    return s;
}

/* A v3 array document with the given pieces spliced in. */
static char *v3_doc(const char *shape, const char *chunks, const char *dtype,
                    const char *fill, const char *codecs, const char *extra)
{
    size_t cap = 1 << 16;
    char *d = malloc(cap);
    assert_non_null(d);
    int n = snprintf(d, cap,
                     "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":%s,"
                     "\"data_type\":%s,\"chunk_grid\":{\"name\":\"regular\","
                     "\"configuration\":{\"chunk_shape\":%s}},"
                     "\"chunk_key_encoding\":{\"name\":\"default\"},"
                     "\"fill_value\":%s,\"codecs\":%s%s}",
                     shape, dtype, chunks, fill, codecs, extra);
    assert_true(n > 0 && (size_t)n < cap);
    return d;
}

#define BYTES_LE "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]"

/* ------------------------------------------------------------ metadata */

typedef struct meta_case {
    const char *what;
    char *doc;          /* malloc'd */
    int fmt;            /* 3: zarr.json, 2: .zarray (for the on-disk part) */
    int code;           /* from pzarr_array_create */
    const char *needle; /* in the message of both create and open */
    int open_code;      /* from pzarr_array_open of the same document on disk
                           (0: same as code) */
    const char *open_needle; /* NULL: same as needle */
} meta_case;

static char *dupstr(const char *s)
{
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

/* "[1,1,...]" with n entries. */
static char *ones(int n)
{
    char *s = malloc((size_t)n * 2 + 3);
    assert_non_null(s);
    size_t k = 0;
    s[k++] = '[';
    for (int i = 0; i < n; i++) {
        if (i)
            s[k++] = ',';
        s[k++] = '1';
    }
    s[k++] = ']';
    s[k] = 0;
    return s;
}

/* JSON nested `depth` arrays deep. */
static char *deep_attrs(int depth)
{
    size_t cap = (size_t)depth * 2 + 512;
    char *s = malloc(cap), *t = malloc((size_t)depth * 2 + 1);
    assert_true(s && t);
    for (int i = 0; i < depth; i++) {
        t[i] = '[';
        t[depth + i] = ']';
    }
    t[2 * depth] = 0;
    snprintf(s, cap, ",\"attributes\":{\"x\":%s}", t);
    free(t);
    return s;
}

static size_t build_meta_cases(meta_case *c)
{
    size_t n = 0;
#define V3(w, sh, ch, dt, fi, co, ex, cd, nd)                                         \
    c[n++] = (meta_case){w, v3_doc(sh, ch, dt, fi, co, ex), 3, cd, nd, 0, NULL}
#define RAW(w, f, d, cd, nd, ocd) c[n++] = (meta_case){w, dupstr(d), f, cd, nd, ocd, NULL}
    RAW("invalid JSON", 3, "{\"zarr_format\":3,\"node_type\":\"array\",", PZARR_EMETA,
        "malformed JSON", 0);
    RAW("trailing garbage", 3, "{\"zarr_format\":3,\"node_type\":\"array\"} xx", PZARR_EMETA,
        "malformed JSON", 0);
    RAW("empty document", 3, "", PZARR_EMETA, "malformed JSON", 0);
    RAW("not an object", 3, "[1,2,3]", PZARR_EMETA, "JSON object", 0);
    c[n - 1].open_needle = "node_type"; /* the probe looks for it first */
    RAW("zarr_format a string", 3,
        "{\"zarr_format\":\"3\",\"node_type\":\"array\",\"shape\":[1]}", PZARR_EMETA,
        "zarr_format", 0);
    RAW("zarr_format 4", 3, "{\"zarr_format\":4,\"node_type\":\"array\"}",
        PZARR_EUNSUPPORTED, "zarr_format", 0);
    RAW("node_type missing", 3, "{\"zarr_format\":3,\"shape\":[1]}", PZARR_EMETA,
        "node_type", 0);
    V3("shape a string", "\"10\"", "[5]", "\"int32\"", "0", BYTES_LE, "", PZARR_EMETA,
       "\"shape\"");
    V3("negative shape", "[-1,10]", "[5,5]", "\"int32\"", "0", BYTES_LE, "", PZARR_EMETA,
       "\"shape\"");
    V3("fractional shape", "[2.5,10]", "[5,5]", "\"int32\"", "0", BYTES_LE, "", PZARR_EMETA,
       "\"shape\"");
    V3("shape 1e300", "[1e300]", "[5]", "\"int32\"", "0", BYTES_LE, "", PZARR_EUNSUPPORTED,
       "\"shape\"");
    V3("shape 2^53+2", "[9007199254740994]", "[5]", "\"int32\"", "0", BYTES_LE, "",
       PZARR_EUNSUPPORTED, "\"shape\"");
    V3("grid of 2^106 chunks", "[9007199254740992,9007199254740992]", "[1,1]", "\"uint8\"",
       "0", BYTES_LE, "", PZARR_EUNSUPPORTED, "\"shape\"");
    V3("chunk shape 0", "[10,10]", "[5,0]", "\"int32\"", "0", BYTES_LE, "", PZARR_EMETA,
       "chunk_shape");
    V3("chunk shape negative", "[10,10]", "[5,-5]", "\"int32\"", "0", BYTES_LE, "",
       PZARR_EMETA, "chunk_shape");
    V3("chunk shape rank mismatch", "[10,10]", "[5]", "\"int32\"", "0", BYTES_LE, "",
       PZARR_EMETA, "chunk_shape");
    {
        char *o33 = ones(33), *o1000 = ones(1000);
        V3("ndim 33", o33, o33, "\"int32\"", "0", BYTES_LE, "", PZARR_EMETA, "ndim 33");
        V3("ndim 1000", o1000, o1000, "\"int32\"", "0", BYTES_LE, "", PZARR_EMETA,
           "ndim 1000");
        free(o33);
        free(o1000);
    }
    V3("chunk of 16 GiB", "[65536,65536]", "[65536,65536]", "\"int32\"", "0", BYTES_LE, "",
       PZARR_EUNSUPPORTED, "2 GiB");
    V3("chunk of exactly 2 GiB", "[65536,65536]", "[32768,16384]", "\"int32\"", "0",
       BYTES_LE, "", PZARR_EUNSUPPORTED, "2 GiB");
    V3("chunk bytes over 2^64", "[1,1]", "[9007199254740992,9007199254740992]",
       "\"float64\"", "0", BYTES_LE, "", PZARR_EUNSUPPORTED, "chunk_shape");
    V3("unknown codec", "[10]", "[5]", "\"int32\"", "0",
       "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
       "{\"name\":\"lzma9\",\"configuration\":{}}]",
       "", PZARR_EUNSUPPORTED, "lzma9");
    V3("numcodecs codec unknown here", "[10]", "[5]", "\"int32\"", "0",
       "[{\"name\":\"numcodecs.pcodec\",\"configuration\":{\"level\":8}},"
       "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
       "", PZARR_EUNSUPPORTED, "numcodecs.pcodec");
    V3("numcodecs delta with big-endian bytes", "[10]", "[5]", "\"int32\"", "0",
       "[{\"name\":\"numcodecs.delta\",\"configuration\":{\"dtype\":\"int32\"}},"
       "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]",
       "", PZARR_EUNSUPPORTED, "big-endian");
    V3("no array->bytes codec", "[10]", "[5]", "\"int32\"", "0", "[]", "", PZARR_EMETA,
       "array->bytes");
    V3("codecs an object", "[10]", "[5]", "\"int32\"", "0", "{}", "", PZARR_EMETA,
       "codecs");
    V3("unknown data type", "[10]", "[5]", "\"int128\"", "0", BYTES_LE, "",
       PZARR_EUNSUPPORTED, "int128");
    V3("data type a number", "[10]", "[5]", "7", "0", BYTES_LE, "", PZARR_EMETA,
       "data_type");
    V3("fill value of the wrong type", "[10]", "[5]", "\"int32\"", "\"abc\"", BYTES_LE, "",
       PZARR_EMETA, "fill_value");
    V3("fill value out of range", "[10]", "[5]", "\"int8\"", "300", BYTES_LE, "",
       PZARR_EMETA, "fill_value");
    V3("must_understand extension", "[10]", "[5]", "\"int32\"", "0", BYTES_LE,
       ",\"my_extension\":{\"must_understand\":true}", PZARR_EUNSUPPORTED, "my_extension");
    V3("unknown member", "[10]", "[5]", "\"int32\"", "0", BYTES_LE, ",\"surprise\":1",
       PZARR_EUNSUPPORTED, "surprise");
    V3("storage transformer", "[10]", "[5]", "\"int32\"", "0", BYTES_LE,
       ",\"storage_transformers\":[{\"name\":\"fancy_st\"}]", PZARR_EUNSUPPORTED, "fancy_st");
    V3("duplicate key", "[10]", "[5]", "\"int32\"", "0", BYTES_LE, ",\"shape\":[11]",
       PZARR_EMETA, "duplicate");
    V3("attributes an array", "[10]", "[5]", "\"int32\"", "0", BYTES_LE,
       ",\"attributes\":[1]", PZARR_EMETA, "attributes");
    V3("dimension_names of numbers", "[10]", "[5]", "\"int32\"", "0", BYTES_LE,
       ",\"dimension_names\":[1]", PZARR_EMETA, "dimension_names");
    V3("dimension_names too short", "[10,3]", "[5,3]", "\"int32\"", "0", BYTES_LE,
       ",\"dimension_names\":[\"x\"]", PZARR_EMETA, "dimension_names");
    {
        char *deep = deep_attrs(5000);
        V3("attributes nested 5000 deep", "[10]", "[5]", "\"int32\"", "0", BYTES_LE, deep,
           PZARR_EMETA, "malformed JSON");
        free(deep);
    }
    V3("chunk grid not regular", "[10]", "[5]", "\"int32\"", "0", BYTES_LE, "",
       PZARR_EMETA, "");
    /* the last case's chunk_grid is fixed up below */
    free(c[n - 1].doc);
    c[n - 1].doc = dupstr("{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[10],"
                          "\"data_type\":\"int32\",\"chunk_grid\":{\"name\":\"rectilinear\","
                          "\"configuration\":{\"chunk_shapes\":[[5,5]]}},"
                          "\"chunk_key_encoding\":{\"name\":\"default\"},"
                          "\"fill_value\":0,\"codecs\":" BYTES_LE "}");
    c[n - 1].code = PZARR_EUNSUPPORTED;
    c[n - 1].needle = "rectilinear";
    RAW("group document", 3, "{\"zarr_format\":3,\"node_type\":\"group\"}", PZARR_ENOTARRAY,
        "group", 0);
    /* Zarr v2 */
    RAW("v2 invalid JSON", 2, "{\"zarr_format\":2,\"shape\":[", PZARR_EMETA,
        "malformed JSON", 0);
    RAW("v2 filters", 2,
        "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[5],\"dtype\":\"<i4\","
        "\"compressor\":null,\"fill_value\":0,\"order\":\"C\","
        "\"filters\":[{\"id\":\"zfpy\",\"mode\":4}]}",
        PZARR_EUNSUPPORTED, "zfpy", 0);
    RAW("v2 unknown compressor", 2,
        "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[5],\"dtype\":\"<i4\","
        "\"compressor\":{\"id\":\"snappy\"},\"fill_value\":0,\"order\":\"C\",\"filters\":null}",
        PZARR_EUNSUPPORTED, "snappy", 0);
    RAW("v2 object dtype without an object codec", 2,
        "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[5],\"dtype\":\"|O\","
        "\"compressor\":null,\"fill_value\":0,\"order\":\"C\",\"filters\":null}",
        PZARR_EMETA, "|O", 0);
    RAW("v2 object dtype of pickles", 2,
        "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[5],\"dtype\":\"|O\","
        "\"compressor\":null,\"fill_value\":0,\"order\":\"C\","
        "\"filters\":[{\"id\":\"pickle\"}]}",
        PZARR_EUNSUPPORTED, "pickle", 0);
    RAW("v2 string codec on numbers", 2,
        "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[5],\"dtype\":\"<i4\","
        "\"compressor\":null,\"fill_value\":0,\"order\":\"C\","
        "\"filters\":[{\"id\":\"vlen-utf8\"}]}",
        PZARR_EMETA, "vlen-utf8", 0);
    RAW("v3 string without vlen-utf8", 3,
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"string\","
        "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
        "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":\"\","
        "\"codecs\":[{\"name\":\"bytes\"}]}",
        PZARR_EUNSUPPORTED, "vlen-utf8", 0);
    RAW("v3 string with a numeric fill", 3,
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4],\"data_type\":\"string\","
        "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
        "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
        "\"codecs\":[{\"name\":\"vlen-utf8\"}]}",
        PZARR_EMETA, "fill_value", 0);
    RAW("v2 void dtype", 2,
        "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[5],\"dtype\":\"|V8\","
        "\"compressor\":null,\"fill_value\":0,\"order\":\"C\",\"filters\":null}",
        PZARR_EUNSUPPORTED, "|V8", 0);
    RAW("v2 chunks 0", 2,
        "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[0],\"dtype\":\"<i4\","
        "\"compressor\":null,\"fill_value\":0,\"order\":\"C\",\"filters\":null}",
        PZARR_EMETA, "chunks", 0);
    RAW("v2 negative shape", 2,
        "{\"zarr_format\":2,\"shape\":[-3],\"chunks\":[5],\"dtype\":\"<i4\","
        "\"compressor\":null,\"fill_value\":0,\"order\":\"C\",\"filters\":null}",
        PZARR_EMETA, "shape", 0);
    RAW("v2 order K", 2,
        "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[5],\"dtype\":\"<i4\","
        "\"compressor\":null,\"fill_value\":0,\"order\":\"K\",\"filters\":null}",
        PZARR_EMETA, "order", 0);
    RAW("v2 chunk over 2 GiB", 2,
        "{\"zarr_format\":2,\"shape\":[100000,100000],\"chunks\":[100000,100000],"
        "\"dtype\":\"<f8\",\"compressor\":null,\"fill_value\":0,\"order\":\"C\","
        "\"filters\":null}",
        PZARR_EUNSUPPORTED, "2 GiB", 0);
#undef V3
#undef RAW
    return n;
}

static void write_doc_by_hand(const char *root, const char *name, const meta_case *mc)
{
    char dir[4200], path[4300];
    join(dir, sizeof dir, root, name);
    assert_int_equal(mkdir(dir, 0777), 0);
    join(path, sizeof path, dir, mc->fmt == 3 ? "zarr.json" : ".zarray");
    put_file(path, mc->doc, strlen(mc->doc));
}

static void test_bad_metadata(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("meta", root, sizeof root);
    char store_path[4200];
    join(store_path, sizeof store_path, root, "store");
    pzarr_store *s = open_store(store_path, PZARR_CREATE);
    meta_case cases[128];
    size_t n = build_meta_cases(cases);
    assert_true(n <= sizeof cases / sizeof cases[0]);
    for (size_t i = 0; i < n; i++) {
        const meta_case *mc = &cases[i];
        print_message("case %zu: %s\n", i, mc->what);
        char name[32];
        /* Through pzarr_array_create: nothing is created. */
        snprintf(name, sizeof name, "c%zu", i);
        static char sentinel;
        pzarr_array *a = (pzarr_array *)(void *)&sentinel; /* must be reset to NULL */
        int rc = pzarr_array_create(s, name, mc->doc, &a);
        CHECK_FAIL(rc, mc->code, pzarr_errmsg(s), mc->needle);
        assert_null(a);
        pzarr_node_kind kind = PZARR_NODE_GROUP;
        CHECK_OK(pzarr_node_kind_of(s, name, &kind), pzarr_errmsg(s));
        assert_int_equal(kind, PZARR_NODE_NONE);
        /* Written by hand, then opened. */
        snprintf(name, sizeof name, "o%zu", i);
        write_doc_by_hand(store_path, name, mc);
        a = (pzarr_array *)(void *)&sentinel;
        rc = pzarr_array_open(s, name, &a);
        CHECK_FAIL(rc, mc->open_code ? mc->open_code : mc->code, pzarr_errmsg(s),
                   mc->open_needle ? mc->open_needle : mc->needle);
        assert_null(a);
        /* The message of an open names the node. */
        assert_non_null(strstr(pzarr_errmsg(s), name));
        free(mc->doc);
    }
    CHECK_OK(pzarr_close(s), "close");
}

/* An extension that may be skipped is accepted, and the store still works
 * after all the failures above. */
static void test_ignorable_extension(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("ext", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    char *doc = v3_doc("[4]", "[2]", "\"int32\"", "7", BYTES_LE,
                       ",\"my_ext\":{\"must_understand\":false,\"x\":1}");
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "x", doc, &a), pzarr_errmsg(s));
    int32_t buf[4] = {0};
    uint64_t st[1] = {0}, ct[1] = {4};
    CHECK_OK(pzarr_array_read(a, st, ct, buf), pzarr_array_errmsg(a));
    for (int i = 0; i < 4; i++)
        assert_int_equal(buf[i], 7);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
    free(doc);
}

static void test_not_array_and_missing(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("kinds", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    CHECK_OK(pzarr_group_create(s, "grp/inner", 3, NULL), pzarr_errmsg(s));
    CHECK_OK(pzarr_group_create(s, "grp2", 2, NULL), pzarr_errmsg(s));
    pzarr_array *a = NULL;
    CHECK_FAIL(pzarr_array_open(s, "grp/inner", &a), PZARR_ENOTARRAY, pzarr_errmsg(s),
               "grp/inner");
    assert_null(a);
    CHECK_FAIL(pzarr_array_open(s, "grp2", &a), PZARR_ENOTARRAY, pzarr_errmsg(s), "grp2");
    CHECK_FAIL(pzarr_array_open(s, "", &a), PZARR_ENOTARRAY, pzarr_errmsg(s), "group");
    CHECK_FAIL(pzarr_array_open(s, "nope/deeper", &a), PZARR_ENOENT, pzarr_errmsg(s),
               "nope/deeper");
    assert_null(a);
    /* A directory without metadata is not an array either. */
    char p[4200];
    join(p, sizeof p, root, "plain");
    assert_int_equal(mkdir(p, 0777), 0);
    CHECK_FAIL(pzarr_array_open(s, "plain", &a), PZARR_ENOENT, pzarr_errmsg(s), "plain");
    /* Creating over an existing group fails and leaves it alone. */
    char *doc = v3_doc("[4]", "[2]", "\"int32\"", "0", BYTES_LE, "");
    CHECK_FAIL(pzarr_array_create(s, "grp", doc, &a), PZARR_EEXIST, pzarr_errmsg(s), "grp");
    pzarr_node_kind k;
    CHECK_OK(pzarr_node_kind_of(s, "grp", &k), pzarr_errmsg(s));
    assert_int_equal(k, PZARR_NODE_GROUP);
    free(doc);
    CHECK_OK(pzarr_close(s), "close");
    /* Stores that are missing or not directories. */
    pzarr_store *t = NULL;
    char missing[4200];
    join(missing, sizeof missing, root, "no-such-store");
    int rc = pzarr_open(MPI_COMM_WORLD, missing, PZARR_RDONLY, &t);
    assert_non_null(t); /* a failed open still gives a handle that says why */
    CHECK_FAIL(rc, PZARR_ENOENT, pzarr_errmsg(t), "no-such-store");
    pzarr_close(t);
    join(p, sizeof p, root, "file-not-dir");
    put_file(p, "x", 1);
    rc = pzarr_open(MPI_COMM_WORLD, p, PZARR_RDONLY, &t);
    assert_non_null(t);
    CHECK_FAIL(rc, PZARR_EIO, pzarr_errmsg(t), "file-not-dir");
    pzarr_close(t);
}

/* ------------------------------------------------------------ corrupt chunks */

typedef struct codec_case {
    const char *tag;
    const char *meta;
    const char *key; /* the chunk at grid (0, 1) */
} codec_case;

#define V3_8x8(codecs)                                                                  \
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[8,8],\"data_type\":\"int32\","  \
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[4,4]}},"   \
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,\"codecs\":[{"       \
    "\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}" codecs "]}"
#define V2_8x8(comp)                                                                    \
    "{\"zarr_format\":2,\"shape\":[8,8],\"chunks\":[4,4],\"dtype\":\"<i4\","            \
    "\"compressor\":" comp ",\"fill_value\":0,\"order\":\"C\",\"filters\":null}"

static const codec_case codec_cases[] = {
    {"zstd", V3_8x8(",{\"name\":\"zstd\",\"configuration\":{\"level\":3,\"checksum\":false}}"),
     "c/0/1"},
    {"gzip", V3_8x8(",{\"name\":\"gzip\",\"configuration\":{\"level\":5}}"), "c/0/1"},
    {"blosc",
     V3_8x8(",{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
            "\"shuffle\":\"shuffle\",\"typesize\":4,\"blocksize\":0}}"),
     "c/0/1"},
    {"crc32c", V3_8x8(",{\"name\":\"crc32c\"}"), "c/0/1"},
    {"none", V3_8x8(""), "c/0/1"},
    {"v2zlib", V2_8x8("{\"id\":\"zlib\",\"level\":1}"), "0.1"},
    {"v2blosc",
     V2_8x8("{\"id\":\"blosc\",\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":1,"
            "\"blocksize\":0}"),
     "0.1"},
    {"v2none", V2_8x8("null"), "0.1"},
};

static int32_t cval(uint64_t i, uint64_t j) { return (int32_t)(i * 8 + j + 1); }

static void check_region(pzarr_array *a, uint64_t i0, uint64_t j0, uint64_t ni, uint64_t nj)
{
    int32_t buf[64];
    uint64_t st[2] = {i0, j0}, ct[2] = {ni, nj};
    CHECK_OK(pzarr_array_read(a, st, ct, buf), pzarr_array_errmsg(a));
    for (uint64_t i = 0; i < ni; i++)
        for (uint64_t j = 0; j < nj; j++)
            assert_int_equal(buf[i * nj + j], cval(i0 + i, j0 + j));
}

/* The chunk (0,1) encoded as if it were an 8x8 chunk: valid codec data of
 * the wrong decoded size. */
static void oversized_chunk(const char *meta, pz_buf *out)
{
    pz_meta m;
    pz_err e;
    pz_err_clear(&e);
    CHECK_OK(pz_meta_parse(meta, strlen(meta), NULL, 0, &m, &e), e.msg);
    int32_t big[64];
    for (int i = 0; i < 64; i++)
        big[i] = i;
    const uint64_t shape[2] = {8, 8};
    CHECK_OK(pz_chunk_encode(&m.pipeline, 2, shape, m.dtype, big, out, &e), e.msg);
    pz_meta_free(&m);
}

static void corrupt_one(const codec_case *cc)
{
    char root[4096];
    fresh_dir(cc->tag, root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "arr", cc->meta, &a), pzarr_errmsg(s));
    int32_t all[64];
    for (uint64_t i = 0; i < 8; i++)
        for (uint64_t j = 0; j < 8; j++)
            all[i * 8 + j] = cval(i, j);
    uint64_t z[2] = {0, 0}, full[2] = {8, 8};
    CHECK_OK(pzarr_array_write(a, z, full, all), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));

    char path[4300], adir[4200];
    join(adir, sizeof adir, root, "arr");
    join(path, sizeof path, adir, cc->key);
    size_t orig_n = 0;
    unsigned char *orig = slurp(path, &orig_n);
    assert_non_null(orig);
    assert_true(orig_n > 0);

    static const unsigned char garbage[37] = {
        0xA5, 0xA5, 0xA5, 0xA5, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0xff,
        0x7f, 0x80, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x99, 0x98, 0x97, 0x96,
        0x95, 0x94, 0x93, 0x92, 0x91, 0x90, 0x8f, 0x8e, 0x8d, 0x8c, 0x8b, 0x8a};
    pz_buf big = {0};
    oversized_chunk(cc->meta, &big);
    unsigned char *flip = malloc(orig_n);
    assert_non_null(flip);
    memcpy(flip, orig, orig_n);
    flip[orig_n / 3] ^= 0x10;
    unsigned char *longer = malloc(orig_n + 1);
    assert_non_null(longer);
    memcpy(longer, orig, orig_n);
    longer[orig_n] = 0;
    bool crc = strcmp(cc->tag, "crc32c") == 0;
    bool none = strstr(cc->tag, "none") != NULL;
    const struct {
        const char *what;
        const void *p;
        size_t n;
        bool applies;
    } bad[] = {
        {"garbage", garbage, sizeof garbage, true},
        {"truncated to half", orig, orig_n / 2, true},
        {"truncated by one byte", orig, orig_n - 1, true},
        {"empty", orig, 0, true},
        {"one flipped byte", flip, orig_n, crc},
        {"one byte appended", longer, orig_n + 1, crc || none},
        {"valid codec data of the wrong size", big.data, big.size, true},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (!bad[k].applies)
            continue;
        print_message("%s: %s\n", cc->tag, bad[k].what);
        put_file(path, bad[k].p, bad[k].n);
        int32_t buf[64];
        int rc = pzarr_array_read(a, z, full, buf);
        CHECK_FAIL(rc, PZARR_ECORRUPT, pzarr_array_errmsg(a), cc->key);
        /* Only the bad chunk is needed: same outcome. */
        uint64_t st[2] = {1, 5}, ct[2] = {2, 2};
        rc = pzarr_array_read(a, st, ct, buf);
        CHECK_FAIL(rc, PZARR_ECORRUPT, pzarr_array_errmsg(a), cc->key);
        /* The other chunks still read. */
        check_region(a, 0, 0, 4, 4);
        check_region(a, 4, 0, 4, 8);
        /* A fresh handle sees the same. */
        pzarr_array *b = NULL;
        CHECK_OK(pzarr_array_open(s, "arr", &b), pzarr_errmsg(s));
        CHECK_FAIL(pzarr_array_read(b, z, full, buf), PZARR_ECORRUPT, pzarr_array_errmsg(b),
                   cc->key);
        check_region(b, 4, 4, 4, 4);
        CHECK_OK(pzarr_array_close(b), pzarr_errmsg(s));
    }
    /* Restored, everything reads again. */
    put_file(path, orig, orig_n);
    check_region(a, 0, 0, 8, 8);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
    pz_buf_free(&big);
    free(orig);
    free(flip);
    free(longer);
}

static void test_corrupt_chunks(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof codec_cases / sizeof codec_cases[0]; i++)
        corrupt_one(&codec_cases[i]);
}

/* A chunk path that is a directory: an error, not a crash or fill values. */
static void test_chunk_is_directory(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("chunkdir", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "arr", codec_cases[4].meta, &a), pzarr_errmsg(s));
    char p[4300];
    join(p, sizeof p, root, "arr/c");
    assert_int_equal(mkdir(p, 0777), 0);
    join(p, sizeof p, root, "arr/c/0");
    assert_int_equal(mkdir(p, 0777), 0);
    join(p, sizeof p, root, "arr/c/0/1");
    assert_int_equal(mkdir(p, 0777), 0);
    int32_t buf[64];
    uint64_t z[2] = {0, 0}, full[2] = {8, 8};
    int rc = pzarr_array_read(a, z, full, buf);
    if (rc >= 0 || getenv("PZARR_TEST_VERBOSE"))
        print_message("reading a directory as a chunk: %d \"%s\"\n", rc,
                      pzarr_array_errmsg(a));
    assert_true(rc < 0);
    assert_non_null(strstr(pzarr_array_errmsg(a), "c/0/1"));
    uint64_t st[2] = {0, 0}, ct[2] = {4, 4};
    CHECK_OK(pzarr_array_read(a, st, ct, buf), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
}

/* ------------------------------------------------------------ bounds */

static void test_bounds(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("bounds", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    pzarr_array *a = NULL;
    char *doc = v3_doc("[10,20]", "[4,6]", "\"int16\"", "0", BYTES_LE, "");
    CHECK_OK(pzarr_array_create(s, "b", doc, &a), pzarr_errmsg(s));
    int16_t buf[400];
    memset(buf, 0x5a, sizeof buf);
    const uint64_t M = UINT64_MAX;
    const struct {
        uint64_t start[2], count[2];
        const char *needle;
    } cases[] = {
        {{8, 0}, {3, 5}, "[8:11,0:5]"},
        {{0, 15}, {10, 6}, "[0:10,15:21]"},
        {{10, 0}, {1, 1}, "[10:11,0:1]"},
        {{11, 0}, {0, 0}, "[11:11,0:0]"}, /* empty but starting past the end */
        {{M, 0}, {1, 1}, "outside"},
        {{0, M}, {1, 1}, "outside"},
        {{0, 0}, {M, 1}, "outside"},
        {{5, 5}, {M - 2, 1}, "outside"}, /* start + count wraps to 2 */
        {{M, M}, {M, M}, "outside"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = pzarr_array_read(a, cases[i].start, cases[i].count, buf);
        CHECK_FAIL(rc, PZARR_EBOUNDS, pzarr_array_errmsg(a), cases[i].needle);
        assert_non_null(strstr(pzarr_array_errmsg(a), "read"));
        assert_non_null(strstr(pzarr_array_errmsg(a), "[10,20]")); /* the shape */
        rc = pzarr_array_write(a, cases[i].start, cases[i].count, buf);
        CHECK_FAIL(rc, PZARR_EBOUNDS, pzarr_array_errmsg(a), cases[i].needle);
        assert_non_null(strstr(pzarr_array_errmsg(a), "write"));
        assert_non_null(strstr(pzarr_array_errmsg(a), "\"b\""));
    }
    /* The failed reads left the buffer alone... */
    for (size_t i = 0; i < 400; i++)
        assert_int_equal((uint16_t)buf[i], 0x5a5a);
    /* ...and the failed writes stored nothing. */
    CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    uint64_t z[2] = {0, 0}, full[2] = {10, 20};
    CHECK_OK(pzarr_array_read(a, z, full, buf), pzarr_array_errmsg(a));
    for (size_t i = 0; i < 200; i++)
        assert_int_equal(buf[i], 0);
    /* NULL start or count on a 2-d array. */
    CHECK_FAIL(pzarr_array_read(a, NULL, full, buf), PZARR_EINVAL, pzarr_array_errmsg(a),
               "start");
    CHECK_FAIL(pzarr_array_write(a, z, NULL, buf), PZARR_EINVAL, pzarr_array_errmsg(a),
               "count");
    /* Empty boxes inside the shape are fine and touch nothing. */
    uint64_t e0[2] = {10, 3}, n0[2] = {0, 4};
    memset(buf, 0x5a, sizeof buf);
    CHECK_OK(pzarr_array_read(a, e0, n0, buf), pzarr_array_errmsg(a));
    assert_int_equal((uint16_t)buf[0], 0x5a5a);
    CHECK_OK(pzarr_array_write(a, e0, n0, NULL), pzarr_array_errmsg(a));
    /* The message is cleared by a success. */
    assert_string_equal(pzarr_array_errmsg(a), "");
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    free(doc);
    CHECK_OK(pzarr_close(s), "close");
}

/* Hostile but valid metadata: a 2^53-long array with tiny chunks. Reads and
 * writes far out work, and nothing is allocated for the whole. */
static void test_huge_sparse(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("huge", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    pzarr_array *a = NULL;
    char *doc = v3_doc("[9007199254740992,1048576]", "[1024,1024]", "\"uint8\"", "9",
                       BYTES_LE, "");
    CHECK_OK(pzarr_array_create(s, "h", doc, &a), pzarr_errmsg(s));
    pzarr_array_info info;
    CHECK_OK(pzarr_array_get_info(a, &info), "info");
    assert_int_equal(info.nchunks, (9007199254740992ull / 1024) * 1024);
    uint64_t st[2] = {9007199254740990ull, 1048574}, ct[2] = {2, 2};
    uint8_t v[4] = {1, 2, 3, 4}, r[4] = {0};
    CHECK_OK(pzarr_array_read(a, st, ct, r), pzarr_array_errmsg(a));
    for (int i = 0; i < 4; i++)
        assert_int_equal(r[i], 9);
    CHECK_OK(pzarr_array_write(a, st, ct, v), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_read(a, st, ct, r), pzarr_array_errmsg(a));
    assert_memory_equal(r, v, 4);
    /* The whole array is inside the shape, but its 2^73 elements overflow
     * a size: the write is refused before anything is copied. */
    uint64_t z[2] = {0, 0}, all[2] = {9007199254740992ull, 1048576};
    CHECK_FAIL(pzarr_array_write(a, z, all, v), PZARR_EBOUNDS, pzarr_array_errmsg(a),
               "overflow");
    /* Large but representable, and no whole chunk (those would be staged
     * to storage, not held): over the write limit, refused whole. */
    uint64_t one[2] = {0, 1}, wide[2] = {1u << 22, 1023};
    CHECK_FAIL(pzarr_array_write(a, one, wide, v), PZARR_EBUFFULL, pzarr_array_errmsg(a),
               "limit");
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    free(doc);
    CHECK_OK(pzarr_close(s), "close");
}

/*
 * Runs the named child case in a fresh process (this program again, with
 * "--child NAME ARG": its own MPI_Init) and returns whether it exited with
 * 0, so that a library crash or a sanitizer abort fails one test only, not
 * the whole suite. (A plain fork is not enough: MPI in a forked child can
 * hang.)
 */
static bool child_ok(const char *name, const char *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(60); /* survives exec: a hang is a failure */
        char *const args[] = {(char *)"test_badinput", (char *)"--child", (char *)name,
                              (char *)arg, NULL};
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        print_error("child %s %s %d\n", name,
                    WIFEXITED(status) ? "exited with" : "killed by signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A 0-d array: start and count may be NULL; write, reopen, read back. */
static int zero_d_child(const char *root)
{
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    char *doc = v3_doc("[]", "[]", "\"float64\"", "2.5", BYTES_LE, "");
    double d = 0;
    if (pzarr_open(MPI_COMM_SELF, root, PZARR_CREATE, &s) ||
        pzarr_array_create(s, "scalar", doc, &a))
        return 10;
    if (pzarr_array_read(a, NULL, NULL, &d) || d != 2.5)
        return 11;
    d = -1.25;
    if (pzarr_array_write(a, NULL, NULL, &d) || pzarr_array_close(a))
        return 12;
    d = 0;
    if (pzarr_array_open(s, "scalar", &a) || pzarr_array_read(a, NULL, NULL, &d) ||
        d != -1.25)
        return 13;
    if (pzarr_array_close(a) || pzarr_close(s))
        return 14;
    free(doc);
    return 0;
}

static void test_zero_d(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("zerod", root, sizeof root);
    assert_true(child_ok("zero_d", root));
    /* The chunk key of a 0-d v3 array is "c". */
    char p[4200];
    join(p, sizeof p, root, "scalar/c");
    size_t n = 0;
    unsigned char *raw = slurp(p, &n);
    assert_non_null(raw);
    assert_int_equal(n, 8);
    double d;
    memcpy(&d, raw, 8);
    assert_true(d == -1.25);
    free(raw);
}

/*
 * The read of a box whose element count overflows uint64 must be refused
 * (no caller can hold such a buffer). Run in a child process so that a
 * library which walks the box anyway (scribbling far past the buffer)
 * fails this test only, not the whole suite.
 */
static int overflow_read_child(const char *root)
{
    pzarr_store *s = NULL;
    if (pzarr_open(MPI_COMM_SELF, root, PZARR_RDWR, &s) != 0)
        return 10;
    pzarr_array *a = NULL;
    if (pzarr_array_open(s, "h", &a) != 0)
        return 11;
    uint64_t z[2] = {0, 0}, all[2] = {9007199254740992ull, 1048576};
    uint8_t buf[64];
    memset(buf, 0x77, sizeof buf);
    int rc = pzarr_array_read(a, z, all, buf);
    if (rc != PZARR_EBOUNDS) {
        fprintf(stderr, "child: read returned %d \"%s\"\n", rc, pzarr_array_errmsg(a));
        return 12;
    }
    for (size_t i = 0; i < sizeof buf; i++)
        if (buf[i] != 0x77)
            return 13;
    if (pzarr_array_close(a) != 0 || pzarr_close(s) != 0)
        return 14;
    return 0;
}

static void test_read_size_overflow(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("readovf", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    pzarr_array *a = NULL;
    char *doc = v3_doc("[9007199254740992,1048576]", "[1024,1024]", "\"uint8\"", "9",
                       BYTES_LE, "");
    CHECK_OK(pzarr_array_create(s, "h", doc, &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
    free(doc);
    assert_true(child_ok("overflow_read", root));
}

/* ------------------------------------------------------------ path traversal */

static const char *const evil_names[] = {
    "..", "../x", "a/../../b", "/abs", "a//b", "a/./b", ".", "a/..", "./a",
    "a\\b", "..\\x", "a/b\\..\\..\\c", "../../../../../../tmp/pzarr-evil",
};

static void test_path_traversal(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("paths", root, sizeof root);
    char store_path[4200];
    join(store_path, sizeof store_path, root, "store");
    pzarr_store *s = open_store(store_path, PZARR_CREATE);
    CHECK_OK(pzarr_group_create(s, "a", 3, NULL), pzarr_errmsg(s));
    char *before = listing(root);
    bool abs_existed = access("/abs", F_OK) == 0;
    bool evil_existed = access("/tmp/pzarr-evil", F_OK) == 0;
    char *doc = v3_doc("[4]", "[2]", "\"int32\"", "0", BYTES_LE, "");
    for (size_t i = 0; i < sizeof evil_names / sizeof evil_names[0]; i++) {
        const char *nm = evil_names[i];
        print_message("name \"%s\"\n", nm);
        pzarr_array *a = NULL;
        CHECK_FAIL(pzarr_array_create(s, nm, doc, &a), PZARR_EPATH, pzarr_errmsg(s), nm);
        assert_null(a);
        CHECK_FAIL(pzarr_array_open(s, nm, &a), PZARR_EPATH, pzarr_errmsg(s), nm);
        assert_null(a);
        CHECK_FAIL(pzarr_group_create(s, nm, 3, NULL), PZARR_EPATH, pzarr_errmsg(s), nm);
        CHECK_FAIL(pzarr_group_create(s, nm, 2, "{\"k\":1}"), PZARR_EPATH, pzarr_errmsg(s),
                   nm);
        CHECK_FAIL(pzarr_attrs_set(s, nm, "{\"k\":1}"), PZARR_EPATH, pzarr_errmsg(s), nm);
        char *json = (char *)"sentinel";
        CHECK_FAIL(pzarr_attrs_get(s, nm, &json), PZARR_EPATH, pzarr_errmsg(s), nm);
        assert_null(json);
        pzarr_node_kind k = PZARR_NODE_ARRAY;
        CHECK_FAIL(pzarr_node_kind_of(s, nm, &k), PZARR_EPATH, pzarr_errmsg(s), nm);
        assert_int_equal(k, PZARR_NODE_NONE);
        char **names = NULL;
        size_t count = 99;
        CHECK_FAIL(pzarr_group_list(s, nm, &names, &count), PZARR_EPATH, pzarr_errmsg(s),
                   nm);
        assert_null(names);
        assert_int_equal(count, 0);
    }
    char *after = listing(root);
    if (strcmp(before, after) != 0)
        print_error("before:\n%s\nafter:\n%s\n", before, after);
    assert_string_equal(before, after);
    assert_int_equal(access("/abs", F_OK) == 0, abs_existed);
    assert_int_equal(access("/tmp/pzarr-evil", F_OK) == 0, evil_existed);
    free(before);
    free(after);

    /* "" is the root: allowed. */
    pzarr_node_kind k;
    CHECK_OK(pzarr_node_kind_of(s, "", &k), pzarr_errmsg(s));
    assert_int_equal(k, PZARR_NODE_GROUP);
    CHECK_OK(pzarr_group_create(s, "", 3, NULL), pzarr_errmsg(s));
    CHECK_OK(pzarr_attrs_set(s, "", "{\"root\":true}"), pzarr_errmsg(s));
    char *json = NULL;
    CHECK_OK(pzarr_attrs_get(s, "", &json), pzarr_errmsg(s));
    assert_non_null(strstr(json, "\"root\":true"));
    pzarr_free(json);
    char **names = NULL;
    size_t count = 0;
    CHECK_OK(pzarr_group_list(s, "", &names, &count), pzarr_errmsg(s));
    assert_int_equal(count, 1);
    assert_string_equal(names[0], "a");
    pzarr_free_list(names, count);
    CHECK_OK(pzarr_close(s), "close");

    /* An array may live at the root of an empty store. */
    char solo[4200];
    join(solo, sizeof solo, root, "solo");
    assert_int_equal(mkdir(solo, 0777), 0);
    s = open_store(solo, PZARR_RDWR);
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "", doc, &a), pzarr_errmsg(s));
    int32_t v[4] = {1, 2, 3, 4}, r[4] = {0};
    uint64_t st[1] = {0}, ct[1] = {4};
    CHECK_OK(pzarr_array_write(a, st, ct, v), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_open(s, "", &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_read(a, st, ct, r), pzarr_array_errmsg(a));
    assert_memory_equal(r, v, sizeof v);
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    char zj[4300];
    join(zj, sizeof zj, solo, "zarr.json");
    assert_int_equal(access(zj, F_OK), 0);
    CHECK_OK(pzarr_close(s), "close");
    free(doc);
}

/* ------------------------------------------------------------ read-only */

static void test_read_only(void **state)
{
    (void)state;
    char root[4096];
    fresh_dir("rdonly", root, sizeof root);
    pzarr_store *s = open_store(root, PZARR_CREATE);
    char *doc = v3_doc("[6]", "[4]", "\"int32\"", "0", BYTES_LE, "");
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_create(s, "g/arr", doc, &a), pzarr_errmsg(s));
    int32_t v[6] = {1, 2, 3, 4, 5, 6}, r[6] = {0};
    uint64_t st[1] = {0}, ct[1] = {6};
    CHECK_OK(pzarr_array_write(a, st, ct, v), pzarr_array_errmsg(a));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");

    char *before = listing(root);
    s = open_store(root, PZARR_RDONLY);
    CHECK_OK(pzarr_array_open(s, "g/arr", &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_read(a, st, ct, r), pzarr_array_errmsg(a));
    assert_memory_equal(r, v, sizeof v);
    int32_t w[2] = {9, 9};
    uint64_t ws[1] = {2}, wc[1] = {2};
    CHECK_FAIL(pzarr_array_write(a, ws, wc, w), PZARR_ERDONLY, pzarr_array_errmsg(a),
               "read-only");
    assert_non_null(strstr(pzarr_array_errmsg(a), root));
    /* Nothing was logged: the read still shows storage. */
    CHECK_OK(pzarr_array_read(a, st, ct, r), pzarr_array_errmsg(a));
    assert_memory_equal(r, v, sizeof v);
    CHECK_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    uint64_t ns[1] = {3};
    CHECK_FAIL(pzarr_array_resize(a, ns), PZARR_ERDONLY, pzarr_array_errmsg(a), "read-only");
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_FAIL(pzarr_array_create(s, "new", doc, &a), PZARR_ERDONLY, pzarr_errmsg(s),
               "read-only");
    assert_null(a);
    CHECK_FAIL(pzarr_group_create(s, "newg", 3, NULL), PZARR_ERDONLY, pzarr_errmsg(s),
               "read-only");
    CHECK_FAIL(pzarr_attrs_set(s, "g/arr", "{\"a\":1}"), PZARR_ERDONLY, pzarr_errmsg(s),
               "read-only");
    CHECK_FAIL(pzarr_attrs_set(s, "", "{\"a\":1}"), PZARR_ERDONLY, pzarr_errmsg(s),
               "read-only");
    CHECK_OK(pzarr_close(s), "close");
    char *after = listing(root);
    assert_string_equal(before, after);
    free(before);
    free(after);
    free(doc);
}

/* ------------------------------------------------------------ real data */

static void test_fixture_unsupported(void **state)
{
    (void)state;
    char store_path[4096];
    snprintf(store_path, sizeof store_path, "%s/zarrita-js/v2/data.zarr", PZARR_FIXTURES);
    if (access(store_path, F_OK) != 0) {
        print_message("fixtures absent at %s: skipped\n", store_path);
        skip();
    }
    pzarr_store *s = open_store(store_path, PZARR_RDONLY);
    const struct {
        const char *name;
        const char *needle1, *needle2; /* either names the feature */
    } cases[] = {
        {"1d.contiguous.json2.O", "json2", "|O"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pzarr_array *a = NULL;
        int rc = pzarr_array_open(s, cases[i].name, &a);
        const char *msg = pzarr_errmsg(s);
        if (rc != PZARR_EUNSUPPORTED ||
            (!strstr(msg, cases[i].needle1) && !strstr(msg, cases[i].needle2)))
            print_error("%s: %d \"%s\"\n", cases[i].name, rc, msg);
        assert_int_equal(rc, PZARR_EUNSUPPORTED);
        assert_true(strstr(msg, cases[i].needle1) || strstr(msg, cases[i].needle2));
        assert_non_null(strstr(msg, cases[i].name));
        assert_null(a);
    }
    /* A supported neighbour opens: the failures were specific. */
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_open(s, "1d.contiguous.i4", &a), pzarr_errmsg(s));
    CHECK_OK(pzarr_array_close(a), pzarr_errmsg(s));
    CHECK_OK(pzarr_close(s), "close");
}

static const struct {
    const char *name;
    int (*fn)(const char *);
} CHILDREN[] = {{"zero_d", zero_d_child}, {"overflow_read", overflow_read_child}};

/* The child side of child_ok. */
static int child_main(const char *name, const char *arg)
{
    for (size_t i = 0; i < sizeof CHILDREN / sizeof CHILDREN[0]; i++) {
        if (strcmp(name, CHILDREN[i].name) != 0)
            continue;
        int rc = CHILDREN[i].fn(arg);
        fflush(NULL);
        if (rc)
            _exit(rc); /* no MPI_Finalize or leak report on a half-done case */
        MPI_Finalize();
        return 0;
    }
    fprintf(stderr, "unknown child case %s\n", name);
    _exit(126);
}

/* Broken consolidated metadata: a store whose .zmetadata (v2) is not JSON,
 * or whose root zarr.json (v3) has a non-object "consolidated_metadata",
 * fails to open with a message naming the file, on every rank, and its
 * files stay as they were; an entry that is not there falls back to the
 * node's own files. */
static void test_bad_consolidated(void **state)
{
    (void)state;
    char root[4096], p[4400];
    fresh_dir("consol", root, sizeof root);
    join(p, sizeof p, root, ".zgroup");
    put_file(p, "{\"zarr_format\": 2}", 18);
    join(p, sizeof p, root, ".zmetadata");
    put_file(p, "{\"metadata\": {", 14);
    pzarr_store *s = NULL;
    int rc = pzarr_open(MPI_COMM_WORLD, root, PZARR_RDWR, &s);
    if (rc != PZARR_EMETA || !strstr(pzarr_errmsg(s), ".zmetadata"))
        print_error("rc %d: %s\n", rc, pzarr_errmsg(s));
    assert_int_equal(rc, PZARR_EMETA);
    assert_non_null(strstr(pzarr_errmsg(s), ".zmetadata"));
    pzarr_close(s);
    size_t n = 0;
    unsigned char *t = slurp(p, &n);
    assert_int_equal(n, 14);
    free(t);

    /* A consolidated document that lacks an array written by another tool:
     * the array's own files are read. */
    fresh_dir("consol2", root, sizeof root);
    s = open_store(root, PZARR_CREATE | PZARR_FORMAT_V2);
    CHECK_OK(pzarr_close(s), "close");
    join(p, sizeof p, root, "late");
    assert_int_equal(mkdir(p, 0777), 0);
    join(p, sizeof p, root, "late/.zarray");
    const char *za = "{\"zarr_format\":2,\"shape\":[4],\"chunks\":[4],\"dtype\":\"<i2\","
                     "\"compressor\":null,\"fill_value\":7,\"order\":\"C\",\"filters\":null}";
    put_file(p, za, strlen(za));
    s = open_store(root, PZARR_RDONLY);
    pzarr_array *a = NULL;
    CHECK_OK(pzarr_array_open(s, "late", &a), pzarr_errmsg(s));
    int16_t v[4];
    CHECK_OK(pzarr_array_read(a, (uint64_t[]){0}, (uint64_t[]){4}, v), pzarr_array_errmsg(a));
    assert_int_equal(v[3], 7);
    CHECK_OK(pzarr_array_close(a), "close");
    CHECK_OK(pzarr_close(s), "close");
}

int main(int argc, char **argv)
{
    /* MPICH's MPI_Init leaks hwloc plugin memory (1016 bytes, unrelated to
     * pzarr); keep LeakSanitizer for everything else. */
    LSAN_OFF();
    MPI_Init(&argc, &argv);
    LSAN_ON();
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argv[3]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_metadata),
        cmocka_unit_test(test_ignorable_extension),
        cmocka_unit_test(test_not_array_and_missing),
        cmocka_unit_test(test_corrupt_chunks),
        cmocka_unit_test(test_chunk_is_directory),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_zero_d),
        cmocka_unit_test(test_huge_sparse),
        cmocka_unit_test(test_read_size_overflow),
        cmocka_unit_test(test_path_traversal),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_fixture_unsupported),
        cmocka_unit_test(test_bad_consolidated),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
