/* Round trips through the parallel engine: every rank writes a slab, all
 * read everything back, in v2 and v3 with several codecs. */
#include "pz_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int32_t value(uint64_t i, uint64_t j) { return (int32_t)(i * 1000 + j + 1); }

/* Rows [lo, hi) of rank r out of n for a dimension of size len. */
static void slab(uint64_t len, int r, int n, uint64_t *lo, uint64_t *hi)
{
    *lo = len * (uint64_t)r / (uint64_t)n;
    *hi = len * (uint64_t)(r + 1) / (uint64_t)n;
}

static void roundtrip(const char *meta, const char *tag)
{
    const char *dir = t_dir(tag);
    pzarr_store *s;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "g/arr", meta, &a), pzarr_errmsg(s));
    const uint64_t R = 37, C = 23;
    uint64_t lo, hi;
    slab(R, T_rank, T_size, &lo, &hi);
    int32_t *mine = malloc((hi - lo) * C * sizeof *mine + 1);
    for (uint64_t i = lo; i < hi; i++)
        for (uint64_t j = 0; j < C; j++)
            mine[(i - lo) * C + j] = value(i, j);
    uint64_t start[2] = {lo, 0}, count[2] = {hi - lo, C};
    T_OK(pzarr_array_write(a, start, count, mine), pzarr_array_errmsg(a));
    memset(mine, 0, (hi - lo) * C * sizeof *mine);
    /* Own unflushed writes are visible to own reads. */
    T_OK(pzarr_array_read(a, start, count, mine), pzarr_array_errmsg(a));
    int ok = 1;
    for (uint64_t i = lo; i < hi; i++)
        for (uint64_t j = 0; j < C; j++)
            ok &= mine[(i - lo) * C + j] == value(i, j);
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    int32_t *all = malloc(R * C * sizeof *all);
    uint64_t z[2] = {0, 0}, full[2] = {R, C};
    T_OK(pzarr_array_read(a, z, full, all), pzarr_array_errmsg(a));
    for (uint64_t i = 0; i < R; i++)
        for (uint64_t j = 0; j < C; j++)
            ok &= all[i * C + j] == value(i, j);
    T_ASSERT_ALL(ok);
    /* A sub-box across chunk edges. */
    uint64_t s2[2] = {3, 4}, c2[2] = {30, 11};
    int32_t *sub = malloc(30 * 11 * sizeof *sub);
    T_OK(pzarr_array_read(a, s2, c2, sub), pzarr_array_errmsg(a));
    for (uint64_t i = 0; i < 30; i++)
        for (uint64_t j = 0; j < 11; j++)
            ok &= sub[i * 11 + j] == value(i + 3, j + 4);
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    /* Reopen and read again through fresh metadata. */
    T_OK(pzarr_array_open(s, "g/arr", &a), pzarr_errmsg(s));
    memset(all, 0, R * C * sizeof *all);
    T_OK(pzarr_array_read(a, z, full, all), pzarr_array_errmsg(a));
    for (uint64_t i = 0; i < R; i++)
        for (uint64_t j = 0; j < C; j++)
            ok &= all[i * C + j] == value(i, j);
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
    free(mine);
    free(all);
    free(sub);
}

static void test_v3_zstd(void **st)
{
    (void)st;
    roundtrip("{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[37,23],"
              "\"data_type\":\"int32\",\"chunk_grid\":{\"name\":\"regular\","
              "\"configuration\":{\"chunk_shape\":[8,5]}},\"chunk_key_encoding\":"
              "{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
              "\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\",\"configuration\":"
              "{\"endian\":\"little\"}},{\"name\":\"zstd\",\"configuration\":{\"level\":3,"
              "\"checksum\":false}}]}",
              "v3zstd");
}

static void test_v3_transpose_big_blosc_crc(void **st)
{
    (void)st;
    roundtrip("{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[37,23],"
              "\"data_type\":\"int32\",\"chunk_grid\":{\"name\":\"regular\","
              "\"configuration\":{\"chunk_shape\":[8,5]}},\"chunk_key_encoding\":"
              "{\"name\":\"v2\",\"configuration\":{\"separator\":\".\"}},"
              "\"fill_value\":-1,\"codecs\":[{\"name\":\"transpose\",\"configuration\":"
              "{\"order\":[1,0]}},{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}},"
              "{\"name\":\"blosc\",\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,"
              "\"shuffle\":\"shuffle\",\"typesize\":4,\"blocksize\":0}},{\"name\":\"crc32c\"}]}",
              "v3tbc");
}

static void test_v3_sharded(void **st)
{
    (void)st;
    roundtrip("{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[37,23],"
              "\"data_type\":\"int32\",\"chunk_grid\":{\"name\":\"regular\","
              "\"configuration\":{\"chunk_shape\":[16,16]}},\"chunk_key_encoding\":"
              "{\"name\":\"default\",\"configuration\":{\"separator\":\"/\"}},"
              "\"fill_value\":0,\"codecs\":[{\"name\":\"sharding_indexed\","
              "\"configuration\":{\"chunk_shape\":[4,8],\"codecs\":[{\"name\":\"bytes\","
              "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","
              "\"configuration\":{\"level\":1,\"checksum\":false}}],\"index_codecs\":"
              "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},"
              "{\"name\":\"crc32c\"}],\"index_location\":\"end\"}}]}",
              "v3shard");
}

static void test_v3_sharded_start_big(void **st)
{
    (void)st;
    roundtrip("{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[37,23],"
              "\"data_type\":\"int32\",\"chunk_grid\":{\"name\":\"regular\","
              "\"configuration\":{\"chunk_shape\":[12,10]}},\"chunk_key_encoding\":"
              "{\"name\":\"default\",\"configuration\":{\"separator\":\".\"}},"
              "\"fill_value\":0,\"codecs\":[{\"name\":\"sharding_indexed\","
              "\"configuration\":{\"chunk_shape\":[3,5],\"codecs\":[{\"name\":"
              "\"transpose\",\"configuration\":{\"order\":[1,0]}},{\"name\":\"bytes\","
              "\"configuration\":{\"endian\":\"big\"}},{\"name\":\"gzip\","
              "\"configuration\":{\"level\":1}}],\"index_codecs\":"
              "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}],"
              "\"index_location\":\"start\"}}]}",
              "v3shardstart");
}

static void test_v2_gzip_f(void **st)
{
    (void)st;
    roundtrip("{\"zarr_format\":2,\"shape\":[37,23],\"chunks\":[8,5],\"dtype\":\">i4\","
              "\"compressor\":{\"id\":\"gzip\",\"level\":1},\"fill_value\":0,"
              "\"order\":\"F\",\"filters\":null,\"dimension_separator\":\"/\"}",
              "v2gzip");
}

/* Chunks equal to the fill value are not stored, and are removed. */
static void test_fill_chunks(void **st)
{
    (void)st;
    const char *dir = t_dir("fill");
    pzarr_store *s;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    pzarr_array *a;
    T_OK(pzarr_array_create(s, "f",
                            "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[4],"
                            "\"dtype\":\"<f8\",\"compressor\":null,\"fill_value\":\"NaN\","
                            "\"order\":\"C\",\"filters\":null}",
                            &a),
         pzarr_errmsg(s));
    double v[10];
    for (int i = 0; i < 10; i++)
        v[i] = i;
    uint64_t z = 0, n = 10;
    int rc = T_rank == 0 ? pzarr_array_write(a, &z, &n, v) : 0;
    T_OK(rc, pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    char p[4200];
    snprintf(p, sizeof p, "%s/f/1", dir);
    struct stat sb;
    T_ASSERT_ALL(stat(p, &sb) == 0);
    /* Overwrite chunk 1 with NaN (the fill): the file goes away. */
    double nan[4] = {0.0 / 0.0, 0.0 / 0.0, 0.0 / 0.0, 0.0 / 0.0};
    uint64_t s1 = 4, n1 = 4;
    rc = T_rank == T_size - 1 ? pzarr_array_write(a, &s1, &n1, nan) : 0;
    T_OK(rc, pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(stat(p, &sb) != 0);
    double back[10];
    T_OK(pzarr_array_read(a, &z, &n, back), pzarr_array_errmsg(a));
    int ok = 1;
    for (int i = 0; i < 10; i++)
        ok &= (i >= 4 && i < 8) ? back[i] != back[i] : back[i] == i;
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), NULL);
    T_OK(pzarr_close(s), NULL);
}

static void test_bad_names(void **st)
{
    (void)st;
    const char *dir = t_dir("names");
    pzarr_store *s;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    const char *bad[] = {"../x", "/abs", "a//b", "a/./b", "a/..", "a\\b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        pzarr_array *a = NULL;
        int rc = pzarr_array_create(s, bad[i], "{}", &a);
        T_ASSERT_ALL(rc == PZARR_EPATH && a == NULL);
        T_ASSERT_ALL(strstr(pzarr_errmsg(s), "node name") != NULL);
    }
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_zstd),
        cmocka_unit_test(test_v3_transpose_big_blosc_crc),
        cmocka_unit_test(test_v2_gzip_f),
        cmocka_unit_test(test_v3_sharded),
        cmocka_unit_test(test_v3_sharded_start_big),
        cmocka_unit_test(test_fill_chunks),
        cmocka_unit_test(test_bad_names),
    };
    return T_RUN(tests);
}
