/*
 * Metadata is read once: only rank 0 touches metadata documents; every
 * other rank learns them by broadcast. After the fixture is made, the stats
 * are reset; opening the store and the array, reading attributes, listing a
 * group and asking a node's kind must leave meta_reads and meta_writes at
 * zero on ranks 1..n-1, while rank 0 reports reads (and no writes). Chunk
 * traffic (a write, a flush, a read) touches no metadata either, but for the
 * first flush of the array in a job: rank 0 lists the array in the
 * consolidated metadata as one that may hold a commit record.
 */
#include "pz_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *V2_META =
    "{\"zarr_format\":2,\"shape\":[10,6],\"chunks\":[4,4],\"dtype\":\"<i4\","
    "\"compressor\":null,\"fill_value\":0,\"order\":\"C\",\"filters\":null,"
    "\"attributes\":{\"units\":\"m\"}}";

/* Makes the fixture: groups g and g/sub, an array g/arr with attributes and
 * one flushed write. */
static void make_fixture(const char *dir, int fmt)
{
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE | (fmt == 2 ? PZARR_FORMAT_V2 : 0), &s),
         pzarr_errmsg(s));
    T_OK(pzarr_group_create(s, "g/sub", 0, "{\"k\":1}"), pzarr_errmsg(s));
    uint64_t shape[2] = {10, 6}, chunks[2] = {4, 4};
    char meta[8192];
    if (fmt == 2)
        snprintf(meta, sizeof meta, "%s", V2_META);
    else {
        snprintf(meta, sizeof meta, "%s", t_meta3("int32", 2, shape, chunks, "0", NULL));
        /* Attributes ride in the v3 document. */
        char *end = strrchr(meta, '}');
        snprintf(end, sizeof meta - (size_t)(end - meta), ",\"attributes\":{\"units\":\"m\"}}");
    }
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "g/arr", meta, &a), pzarr_errmsg(s));
    int32_t v[60];
    for (int i = 0; i < 60; i++)
        v[i] = i + 1;
    uint64_t z[2] = {0, 0};
    T_OK(T_rank == 0 ? pzarr_array_write(a, z, shape, v) : 0, pzarr_array_errmsg(a));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

/* The metadata calls of the issue, on an open store. */
static void meta_calls(pzarr_store *s, pzarr_array **a)
{
    T_OK(pzarr_array_open(s, "g/arr", a), pzarr_errmsg(s));
    char *json = NULL;
    T_OK(pzarr_attrs_get(s, "g/arr", &json), pzarr_errmsg(s));
    T_ASSERT_ALL(json && strstr(json, "\"units\"") && strstr(json, "\"m\""));
    pzarr_free(json);
    char **names = NULL;
    size_t count = 0;
    T_OK(pzarr_group_list(s, "g", &names, &count), pzarr_errmsg(s));
    T_ASSERT_ALL(count == 2 && strcmp(names[0], "arr") == 0 && strcmp(names[1], "sub") == 0);
    pzarr_free_list(names, count);
    pzarr_node_kind kind = PZARR_NODE_NONE;
    T_OK(pzarr_node_kind_of(s, "g/sub", &kind), pzarr_errmsg(s));
    T_ASSERT_ALL(kind == PZARR_NODE_GROUP);
    T_OK(pzarr_node_kind_of(s, "nothing/here", &kind), pzarr_errmsg(s));
    T_ASSERT_ALL(kind == PZARR_NODE_NONE);
}

/* Rank 0 read metadata, nobody wrote any, the other ranks read none. */
static int stats_ok(pzarr_store *s, const char *when)
{
    pzarr_stats st;
    int ok = pzarr_get_stats(s, &st) == 0 && st.meta_writes == 0 &&
             (T_rank == 0 ? st.meta_reads > 0 : st.meta_reads == 0);
    if (!ok)
        fprintf(stderr, "rank %d %s: meta_reads %llu meta_writes %llu\n", T_rank, when,
                (unsigned long long)st.meta_reads, (unsigned long long)st.meta_writes);
    return ok;
}

static void run(int fmt, const char *tag)
{
    const char *dir = t_dir(tag);
    make_fixture(dir, fmt);

    /* A fresh store handle: its counters start at zero; reset anyway. */
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_RDWR, &s), pzarr_errmsg(s));
    pzarr_stats st;
    T_OK(pzarr_get_stats(s, &st), NULL);
    int ok = T_rank == 0 || (st.meta_reads == 0 && st.meta_writes == 0);
    pzarr_reset_stats(s);
    pzarr_array *a = NULL;
    meta_calls(s, &a);
    ok &= stats_ok(s, "after the metadata calls");

    /* The first flush of the array in this job: in the store's consolidated
     * metadata rank 0 lists it among the arrays that may hold a commit
     * record (one read, one write of that document); nobody else. */
    pzarr_reset_stats(s);
    int32_t v[6] = {7, 7, 7, 7, 7, 7}, back[60];
    uint64_t st1[2] = {(uint64_t)T_rank % 10, 0}, c1[2] = {1, 6}, z[2] = {0, 0},
             full[2] = {10, 6};
    T_OK(pzarr_array_write(a, st1, c1, v), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_OK(pzarr_get_stats(s, &st), NULL);
    int first = T_rank == 0 ? st.meta_reads == 1 && st.meta_writes == 1
                            : st.meta_reads == 0 && st.meta_writes == 0;
    if (!first)
        fprintf(stderr, "rank %d, %s, first flush: meta_reads %llu meta_writes %llu\n", T_rank,
                tag, (unsigned long long)st.meta_reads, (unsigned long long)st.meta_writes);
    ok &= first;
    /* From then on chunk traffic touches no metadata on any rank. */
    pzarr_reset_stats(s);
    v[0] = 8;
    T_OK(pzarr_array_write(a, st1, c1, v), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_OK(pzarr_array_read(a, z, full, back), pzarr_array_errmsg(a));
    for (int i = 0; i < 60; i++)
        ok &= back[i] == ((i / 6 < T_size) ? (i % 6 ? 7 : 8) : i + 1);
    T_OK(pzarr_get_stats(s, &st), NULL);
    if (st.meta_reads || st.meta_writes || !st.chunk_reads)
        fprintf(stderr, "rank %d, %s, second flush and read: meta_reads %llu meta_writes %llu "
                "chunk_reads %llu\n", T_rank, tag, (unsigned long long)st.meta_reads,
                (unsigned long long)st.meta_writes, (unsigned long long)st.chunk_reads);
    ok &= st.meta_reads == 0 && st.meta_writes == 0 && st.chunk_reads > 0;
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);

    /* A read-only store: the same calls, including the open itself. */
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_RDONLY, &s), pzarr_errmsg(s));
    ok = stats_ok(s, "after a read-only open");
    meta_calls(s, &a);
    ok &= stats_ok(s, "after read-only metadata calls");
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

static void test_v3_meta_read_once(void **st)
{
    (void)st;
    run(3, "v3");
}

static void test_v2_meta_read_once(void **st)
{
    (void)st;
    run(2, "v2");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v3_meta_read_once),
        cmocka_unit_test(test_v2_meta_read_once),
    };
    return T_RUN(tests);
}
