/*
 * One bad rank: a failure that only one rank sees must reach every rank of a
 * collective call, with the same code and the same message, without a hang.
 *
 * (i)   A corrupt chunk on disk, then a partial write into it: its owner
 *       must decode it during the flush and fails; every rank gets
 *       PZARR_ECORRUPT and the same message naming the chunk key and (with
 *       more than one rank) the failing rank; the corrupt file is left as it
 *       was; later collective calls work, and a write covering the whole
 *       chunk (which needs no decode) repairs it.
 * (ii)  pzarr_array_open of malformed metadata: PZARR_EMETA everywhere with
 *       identical messages naming the document.
 * (iii) A local read of the corrupt chunk fails on the reading rank only;
 *       a collective call afterwards still works.
 */
#include "pz_test_util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char GARBAGE[] = "this is not a chunk: 41 bytes of garbage!";

typedef struct fixture {
    char dir[4096];
    char chunk_path[4200]; /* the chunk c/1/0 */
    pzarr_store *s;
    pzarr_array *a;
    int owner; /* owner of chunk (1, 0) */
} fixture;

/* An 8x8 int32 array in 4x4 chunks with a crc32c codec, fully written and
 * flushed, then rank 0 overwrites chunk c/1/0 with garbage. */
static void setup(fixture *f, const char *tag)
{
    snprintf(f->dir, sizeof f->dir, "%s", t_dir(tag));
    T_OK(pzarr_open(MPI_COMM_WORLD, f->dir, PZARR_CREATE, &f->s), pzarr_errmsg(f->s));
    uint64_t shape[2] = {8, 8}, chunks[2] = {4, 4}, z[2] = {0, 0};
    T_OK(pzarr_array_create(f->s, "a",
                            t_meta3("int32", 2, shape, chunks, "0", ",{\"name\":\"crc32c\"}"),
                            &f->a),
         pzarr_errmsg(f->s));
    int32_t v[64];
    for (int i = 0; i < 64; i++)
        v[i] = i + 1;
    T_OK(T_rank == 0 ? pzarr_array_write(f->a, z, shape, v) : 0, pzarr_array_errmsg(f->a));
    T_OK(pzarr_array_flush(f->a), pzarr_array_errmsg(f->a));
    snprintf(f->chunk_path, sizeof f->chunk_path, "%s/a/c/1/0", f->dir);
    int rc = 0;
    if (T_rank == 0)
        rc = t_spit(f->chunk_path, GARBAGE, sizeof GARBAGE - 1);
    MPI_Barrier(MPI_COMM_WORLD);
    T_OK(rc, "cannot write the garbage chunk");
    uint64_t cc[2] = {1, 0};
    T_OK(pzarr_array_chunk_owner(f->a, cc, &f->owner), NULL);
}

static void teardown(fixture *f)
{
    T_OK(pzarr_array_close(f->a), pzarr_errmsg(f->s));
    T_OK(pzarr_close(f->s), NULL);
}

static int file_is_garbage(const char *path)
{
    size_t n;
    unsigned char *b = t_slurp(path, &n);
    int ok = b && n == sizeof GARBAGE - 1 && memcmp(b, GARBAGE, n) == 0;
    free(b);
    return ok;
}

/* The message names the chunk key and, with several ranks, the owner. */
static int names_chunk_and_rank(const char *msg, int owner)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "rank %d:", owner);
    bool ok = strstr(msg, "c/1/0") != NULL;
    if (T_size > 1)
        ok = ok && strncmp(msg, prefix, strlen(prefix)) == 0;
    if (!ok)
        fprintf(stderr, "rank %d: message \"%s\" should name c/1/0 and %s\n", T_rank, msg,
                prefix);
    return ok;
}

static void test_corrupt_chunk_in_flush(void **st)
{
    (void)st;
    fixture f = {.s = NULL};
    setup(&f, "flush");
    /* The last rank (not always the owner) writes one element of the chunk,
     * and rank 0 one element of an intact chunk. */
    int32_t x = 999;
    uint64_t p1[2] = {5, 1}, p0[2] = {0, 6}, one[2] = {1, 1};
    int rc = 0;
    if (T_rank == T_size - 1)
        rc = pzarr_array_write(f.a, p1, one, &x);
    if (rc == 0 && T_rank == 0)
        rc = pzarr_array_write(f.a, p0, one, &x);
    T_OK(rc, pzarr_array_errmsg(f.a));
    rc = pzarr_array_flush(f.a);
    const char *msg = pzarr_array_errmsg(f.a);
    T_ASSERT_ALL(rc == PZARR_ECORRUPT);
    T_ASSERT_ALL(t_same_str(msg));
    T_ASSERT_ALL(names_chunk_and_rank(msg, f.owner));
    T_ASSERT_ALL(strstr(msg, "crc32c") != NULL);
    /* Not overwritten, not removed. */
    T_ASSERT_ALL(T_rank != 0 || file_is_garbage(f.chunk_path));

    /* The handle still works: an empty flush, then a write elsewhere. */
    T_OK(pzarr_array_flush(f.a), pzarr_array_errmsg(f.a));
    int32_t y = -3, back = 0;
    uint64_t p2[2] = {1, 1};
    T_OK(T_rank == T_size - 1 ? pzarr_array_write(f.a, p2, one, &y) : 0,
         pzarr_array_errmsg(f.a));
    T_OK(pzarr_array_flush(f.a), pzarr_array_errmsg(f.a));
    T_OK(pzarr_array_read(f.a, p2, one, &back), pzarr_array_errmsg(f.a));
    T_ASSERT_ALL(back == -3);

    /* A write covering the whole chunk needs no decode: it repairs it. */
    int32_t whole[16];
    for (int i = 0; i < 16; i++)
        whole[i] = 500 + i;
    uint64_t c0[2] = {4, 0}, c4[2] = {4, 4};
    T_OK(T_rank == 0 ? pzarr_array_write(f.a, c0, c4, whole) : 0, pzarr_array_errmsg(f.a));
    T_OK(pzarr_array_flush(f.a), pzarr_array_errmsg(f.a));
    int32_t got[16] = {0};
    T_OK(pzarr_array_read(f.a, c0, c4, got), pzarr_array_errmsg(f.a));
    T_ASSERT_ALL(memcmp(got, whole, sizeof whole) == 0);
    teardown(&f);
}

static void test_malformed_metadata(void **st)
{
    (void)st;
    const char *dir = t_dir("meta");
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    struct {
        const char *node, *file, *text;
    } bad[] = {
        {"trunc", "zarr.json", "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[4"},
        {"noshape", "zarr.json",
         "{\"zarr_format\":3,\"node_type\":\"array\",\"data_type\":\"int32\","
         "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[2]}},"
         "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,"
         "\"codecs\":[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]}"},
        {"v2trunc", ".zarray", "{\"zarr_format\":2,\"shape\":[4],\"chunks\":"},
    };
    int rc = 0;
    char p[4300];
    for (size_t k = 0; k < sizeof bad / sizeof *bad && T_rank == 0; k++) {
        snprintf(p, sizeof p, "%s/%s", dir, bad[k].node);
        mkdir(p, 0777);
        snprintf(p, sizeof p, "%s/%s/%s", dir, bad[k].node, bad[k].file);
        rc |= t_spit(p, bad[k].text, strlen(bad[k].text));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    T_OK(rc, "cannot write the malformed documents");
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        pzarr_array *a = (pzarr_array *)&rc; /* must be reset to NULL */
        rc = pzarr_array_open(s, bad[k].node, &a);
        const char *msg = pzarr_errmsg(s);
        if (rc != PZARR_EMETA || !strstr(msg, bad[k].file))
            fprintf(stderr, "rank %d %s: rc %d, \"%s\"\n", T_rank, bad[k].node, rc, msg);
        T_ASSERT_ALL(rc == PZARR_EMETA && a == NULL);
        T_ASSERT_ALL(strstr(msg, bad[k].file) != NULL && strstr(msg, bad[k].node) != NULL);
        T_ASSERT_ALL(t_same_str(msg));
    }
    /* The store is still usable collectively. */
    pzarr_node_kind kind;
    T_OK(pzarr_node_kind_of(s, "", &kind), pzarr_errmsg(s));
    T_ASSERT_ALL(kind == PZARR_NODE_GROUP);
    T_OK(pzarr_close(s), NULL);
}

static void test_local_read_of_corrupt_chunk(void **st)
{
    (void)st;
    fixture f = {.s = NULL};
    setup(&f, "read");
    /* The last rank reads across the corrupt chunk; the others an intact one. */
    bool bad = T_rank == T_size - 1;
    uint64_t s_bad[2] = {3, 0}, s_good[2] = {0, 0}, cnt[2] = {2, 3};
    int32_t buf[6];
    int rc = pzarr_array_read(f.a, bad ? s_bad : s_good, cnt, buf);
    const char *msg = pzarr_array_errmsg(f.a);
    int ok = bad ? rc == PZARR_ECORRUPT && strstr(msg, "c/1/0") && strstr(msg, "crc32c")
                 : rc == 0 && buf[0] == 1 && buf[5] == 11;
    if (!ok)
        fprintf(stderr, "rank %d: rc %d \"%s\"\n", T_rank, rc, msg);
    T_ASSERT_ALL(ok);
    /* A collective call after a local failure: no hang, success everywhere. */
    int32_t x = 77, back = 0;
    uint64_t p[2] = {2, 2}, one[2] = {1, 1};
    T_OK(pzarr_array_write(f.a, p, one, &x), pzarr_array_errmsg(f.a));
    T_OK(pzarr_array_flush(f.a), pzarr_array_errmsg(f.a));
    T_OK(pzarr_array_read(f.a, p, one, &back), pzarr_array_errmsg(f.a));
    T_ASSERT_ALL(back == 77 && (T_rank != 0 || file_is_garbage(f.chunk_path)));
    teardown(&f);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corrupt_chunk_in_flush),
        cmocka_unit_test(test_malformed_metadata),
        cmocka_unit_test(test_local_read_of_corrupt_chunk),
    };
    return T_RUN(tests);
}
