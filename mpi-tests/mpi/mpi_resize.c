/*
 * pzarr_array_resize (collective, flushes first).
 *  - Append along a time axis: 3 steps, one at a time, each step written
 *    by all ranks after its resize (pending writes are flushed by the next
 *    resize).
 *  - Shrink: chunks wholly outside the new shape are removed from disk;
 *    chunks cut by the new edge stay, and growing again shows the fill value
 *    there, not the old data.
 *  - Reopen: the stored metadata has the new shape, the data is intact.
 *  - v2 as well; read-only stores refuse to resize.
 */
#include "pz_test_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { NY = 6, NX = 5 };

static int32_t v(uint64_t t, uint64_t i, uint64_t j)
{
    return (int32_t)(t * 100 + i * 10 + j + 1);
}

/* This rank's rows of step t. */
static int write_step(pzarr_array *a, uint64_t t)
{
    uint64_t lo = NY * (uint64_t)T_rank / (uint64_t)T_size;
    uint64_t hi = NY * (uint64_t)(T_rank + 1) / (uint64_t)T_size;
    int32_t buf[NY * NX];
    for (uint64_t i = lo; i < hi; i++)
        for (uint64_t j = 0; j < NX; j++)
            buf[(i - lo) * NX + j] = v(t, i, j);
    uint64_t st[3] = {t, lo, 0}, cnt[3] = {1, hi - lo, NX};
    return pzarr_array_write(a, st, cnt, buf);
}

/* Shape is {nt, ny, NX}; steps < nt hold v on rows < ny_data, fill (0)
 * elsewhere; rows >= ny_data (up to ny) and steps >= nt_data are fill. */
static int check(pzarr_array *a, uint64_t nt, uint64_t ny, uint64_t nt_data, uint64_t ny_data)
{
    pzarr_array_info info;
    int ok = pzarr_array_get_info(a, &info) == 0 && info.ndim == 3 && info.shape[0] == nt &&
             info.shape[1] == ny && info.shape[2] == NX;
    if (!ok)
        fprintf(stderr, "rank %d: shape %llu,%llu,%llu, expected %llu,%llu,%d\n", T_rank,
                (unsigned long long)info.shape[0], (unsigned long long)info.shape[1],
                (unsigned long long)info.shape[2], (unsigned long long)nt,
                (unsigned long long)ny, NX);
    int32_t *buf = malloc(nt * ny * NX * sizeof *buf + 4);
    uint64_t z[3] = {0, 0, 0}, n[3] = {nt, ny, NX};
    ok = ok && pzarr_array_read(a, z, n, buf) == 0;
    for (uint64_t t = 0; t < nt && ok; t++)
        for (uint64_t i = 0; i < ny && ok; i++)
            for (uint64_t j = 0; j < NX && ok; j++) {
                int32_t want = (t < nt_data && i < ny_data) ? v(t, i, j) : 0;
                ok = buf[(t * ny + i) * NX + j] == want;
                if (!ok)
                    fprintf(stderr, "rank %d: [%llu,%llu,%llu] = %d, expected %d\n", T_rank,
                            (unsigned long long)t, (unsigned long long)i,
                            (unsigned long long)j, buf[(t * ny + i) * NX + j], want);
            }
    free(buf);
    return ok;
}

static bool exists(const char *dir, const char *key)
{
    char p[4300];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, key);
    return stat(p, &sb) == 0;
}

static void test_append_shrink_reopen(void **st)
{
    (void)st;
    char dir[4096], adir[4200];
    snprintf(dir, sizeof dir, "%s", t_dir("ts"));
    snprintf(adir, sizeof adir, "%s/ts", dir);
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    uint64_t shape[3] = {2, NY, NX}, chunks[3] = {1, 3, NX};
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "ts", t_meta3("int32", 3, shape, chunks, "0",
                                             ",{\"name\":\"zstd\",\"configuration\":"
                                             "{\"level\":1,\"checksum\":false}}"),
                            &a),
         pzarr_errmsg(s));
    T_OK(write_step(a, 0), pzarr_array_errmsg(a));
    T_OK(write_step(a, 1), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));

    /* Append 3 steps; the writes of a step are flushed by the next resize. */
    for (uint64_t t = 2; t < 5; t++) {
        uint64_t ns[3] = {t + 1, NY, NX};
        T_OK(pzarr_array_resize(a, ns), pzarr_array_errmsg(a));
        T_OK(write_step(a, t), pzarr_array_errmsg(a));
    }
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(check(a, 5, NY, 5, NY));
    T_ASSERT_ALL(exists(adir, "c/4/1/0") && exists(adir, "c/2/0/0"));

    /* Shrink to 2 steps and 4 rows: steps 2..4 go, row chunk 1 is cut. */
    pzarr_reset_stats(s);
    uint64_t small[3] = {2, 4, NX};
    T_OK(pzarr_array_resize(a, small), pzarr_array_errmsg(a));
    /* The new shape holds at once here; storage follows at the next flush. */
    T_ASSERT_ALL(check(a, 2, 4, 2, 4) && exists(adir, "c/4/1/0"));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    pzarr_stats sts;
    pzarr_get_stats(s, &sts);
    T_ASSERT_ALL(t_sum_u64(sts.chunk_deletes) == 6);
    bool files = exists(adir, "c/0/0/0") && exists(adir, "c/0/1/0") && exists(adir, "c/1/1/0");
    for (int t = 2; t < 5; t++)
        for (int y = 0; y < 2; y++) {
            char key[32];
            snprintf(key, sizeof key, "c/%d/%d/0", t, y);
            files = files && !exists(adir, key);
        }
    T_ASSERT_ALL(files);
    T_ASSERT_ALL(check(a, 2, 4, 2, 4));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);

    /* Reopen through fresh metadata. */
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_RDWR, &s), pzarr_errmsg(s));
    T_OK(pzarr_array_open(s, "ts", &a), pzarr_errmsg(s));
    T_ASSERT_ALL(check(a, 2, 4, 2, 4));
    /* Grow again: the cut rows and the removed steps read as fill. */
    uint64_t big[3] = {3, NY, NX};
    T_OK(pzarr_array_resize(a, big), pzarr_array_errmsg(a));
    T_ASSERT_ALL(check(a, 3, NY, 2, 4));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);

    /* A read-only store refuses, on every rank alike. */
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_RDONLY, &s), pzarr_errmsg(s));
    T_OK(pzarr_array_open(s, "ts", &a), pzarr_errmsg(s));
    int rc = pzarr_array_resize(a, shape);
    T_ASSERT_ALL(rc == PZARR_ERDONLY && t_same_str(pzarr_array_errmsg(a)));
    T_ASSERT_ALL(check(a, 3, NY, 2, 4));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

static void test_v2_grow_shrink(void **st)
{
    (void)st;
    char dir[4096], adir[4200];
    snprintf(dir, sizeof dir, "%s", t_dir("v2"));
    snprintf(adir, sizeof adir, "%s/x", dir);
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE | PZARR_FORMAT_V2, &s), pzarr_errmsg(s));
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "x",
                            "{\"zarr_format\":2,\"shape\":[10],\"chunks\":[4],\"dtype\":\"<i2\","
                            "\"compressor\":{\"id\":\"zlib\",\"level\":1},\"fill_value\":-1,"
                            "\"order\":\"C\",\"filters\":null}",
                            &a),
         pzarr_errmsg(s));
    int16_t vals[16];
    for (int i = 0; i < 16; i++)
        vals[i] = (int16_t)(i * 3);
    /* Grow to 13 with writes pending from the last rank; they survive. */
    uint64_t z = 0, ten = 10, thirteen = 13, three = 3, five = 5;
    T_OK(T_rank == T_size - 1 ? pzarr_array_write(a, &z, &ten, vals) : 0,
         pzarr_array_errmsg(a));
    T_OK(pzarr_array_resize(a, &thirteen), pzarr_array_errmsg(a));
    T_OK(T_rank == 0 ? pzarr_array_write(a, &ten, &three, vals + 10) : 0,
         pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    int16_t got[13];
    T_OK(pzarr_array_read(a, &z, &thirteen, got), pzarr_array_errmsg(a));
    T_ASSERT_ALL(memcmp(got, vals, sizeof got) == 0 && exists(adir, "3"));
    /* Shrink to 5: chunks 2 and 3 go, chunk 1 is cut (at the next flush). */
    T_OK(pzarr_array_resize(a, &five), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(exists(adir, "0") && exists(adir, "1") && !exists(adir, "2") &&
                 !exists(adir, "3"));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_array_open(s, "x", &a), pzarr_errmsg(s));
    pzarr_array_info info;
    T_OK(pzarr_array_get_info(a, &info), NULL);
    memset(got, 0, sizeof got);
    T_OK(pzarr_array_read(a, &z, &five, got), pzarr_array_errmsg(a));
    T_ASSERT_ALL(info.shape[0] == 5 && memcmp(got, vals, 5 * sizeof *got) == 0);
    /* Out of the new bounds is out of bounds. */
    T_ASSERT_ALL(pzarr_array_read(a, &z, &ten, got) == PZARR_EBOUNDS);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

/* A sharded array shrunk then grown: inner chunks cut by the smaller shape
 * keep only their part inside it, shards wholly outside go, and growing
 * again shows fill there, not the old values. */
static void test_shard_shrink_grow(void **st)
{
    (void)st;
    char dir[4096], adir[4200];
    snprintf(dir, sizeof dir, "%s", t_dir("shardsg"));
    snprintf(adir, sizeof adir, "%s/s", dir);
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    const char *meta =
        "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[16,16],\"data_type\":\"int32\","
        "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,8]}},"
        "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,\"codecs\":["
        "{\"name\":\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[4,4],\"codecs\":"
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}],\"index_codecs\":"
        "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
        "\"index_location\":\"end\"}}]}";
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "s", meta, &a), pzarr_errmsg(s));
    int32_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = i + 1;
    uint64_t z[2] = {0, 0}, full[2] = {16, 16}, small[2] = {6, 6};
    T_OK(T_rank == 0 ? pzarr_array_write(a, z, full, all) : 0, pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_OK(pzarr_array_resize(a, small), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(exists(adir, "c/0/0") && !exists(adir, "c/0/1") && !exists(adir, "c/1/0") &&
                 !exists(adir, "c/1/1"));
    T_OK(pzarr_array_resize(a, full), pzarr_array_errmsg(a));
    int32_t got[256];
    /* Before the flush (the shape pending) and after it, and reopened. */
    for (int round = 0; round < 3; round++) {
        if (round == 1)
            T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        if (round == 2) {
            T_OK(pzarr_array_close(a), pzarr_errmsg(s));
            T_OK(pzarr_array_open(s, "s", &a), pzarr_errmsg(s));
        }
        T_OK(pzarr_array_read(a, z, full, got), pzarr_array_errmsg(a));
        bool ok = true;
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++)
                ok &= got[i * 16 + j] == (i < 6 && j < 6 ? i * 16 + j + 1 : 0);
        T_ASSERT_ALL(ok);
    }
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shard_shrink_grow),
        cmocka_unit_test(test_append_shrink_reopen),
        cmocka_unit_test(test_v2_grow_shrink),
    };
    return T_RUN(tests);
}
