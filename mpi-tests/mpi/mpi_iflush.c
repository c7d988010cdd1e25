/*
 * Checkpoints in the background (pzarr_array_iflush / pzarr_wait / pzarr_test):
 *
 * - the same files, bit for bit, as a blocking flush at the moment of the
 *   iflush: pieces that cross ranks, whole chunks staged at write time, and
 *   writes made while the request is in flight (the next checkpoint's);
 * - the rules: a flush, a second iflush or a close completes a pending
 *   request; a handle waited twice, or after its array was closed, is an
 *   error, never a crash; pzarr_test polls; the counters;
 * - PZARR_ASYNC: whole chunks are copied at write time and nothing is
 *   staged until the iflush, or staged in the write (hint pzarr_async_stage);
 *   the same files either way;
 * - below MPI_THREAD_FUNNELED (PZARR_TEST_THREAD_LEVEL=single), iflush
 *   flushes at once and the request is complete.
 */
#define _DEFAULT_SOURCE
#include "pz_test_util.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { R = 30, C = 20 };

static const char *DOC = "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[30,20],"
                         "\"data_type\":\"int32\",\"chunk_grid\":{\"name\":\"regular\","
                         "\"configuration\":{\"chunk_shape\":[7,6]}},\"chunk_key_encoding\":"
                         "{\"name\":\"default\"},\"fill_value\":0,\"codecs\":[{\"name\":\"bytes\","
                         "\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","
                         "\"configuration\":{\"level\":1,\"checksum\":false}}]}";

static bool single(void)
{
    const char *l = getenv("PZARR_TEST_THREAD_LEVEL");
    return l && !strcmp(l, "single");
}

/* Generation g's writes of this rank: a strip of rows that cuts chunks and
 * crosses ownership, and one whole chunk it owns (staged at write time
 * unless PZARR_ASYNC or a request is pending). */
static void write_gen(pzarr_array *a, int g)
{
    int32_t v[R * C];
    uint64_t lo = (uint64_t)(T_rank * 7 + 3 * g) % (R - 9), st[2] = {lo, 0}, ct[2] = {9, C};
    for (int i = 0; i < 9 * C; i++)
        v[i] = g * 100000 + T_rank * 1000 + i;
    assert_int_equal(pzarr_array_write(a, st, ct, v), 0);
    /* a whole chunk this rank owns: the first, counting from the end */
    for (int cr = 4; cr >= 0; cr--)
        for (int cc = 3; cc >= 0; cc--) {
            uint64_t cco[2] = {(uint64_t)cr, (uint64_t)cc};
            int owner = -1;
            pzarr_array_chunk_owner(a, cco, &owner);
            if (owner != T_rank)
                continue;
            uint64_t s2[2] = {(uint64_t)cr * 7, (uint64_t)cc * 6}, c2[2] = {7, 6};
            if (s2[0] + 7 > R || s2[1] + 6 > C)
                continue;
            for (int i = 0; i < 42; i++)
                v[i] = -(g * 1000 + T_rank * 100 + i);
            assert_int_equal(pzarr_array_write(a, s2, c2, v), 0);
            return;
        }
}

/* Whether every chunk file of two arrays is the same, bytes and names. */
static int same_files(const char *x, const char *y)
{
    int bad = 0;
    for (int cr = 0; cr < 5; cr++)
        for (int cc = 0; cc < 4; cc++) {
            char p[4300], q[4300];
            snprintf(p, sizeof p, "%s/c/%d/%d", x, cr, cc);
            snprintf(q, sizeof q, "%s/c/%d/%d", y, cr, cc);
            size_t np = 0, nq = 0;
            unsigned char *bp = t_slurp(p, &np), *bq = t_slurp(q, &nq);
            if ((bp == NULL) != (bq == NULL) || np != nq || (bp && memcmp(bp, bq, np))) {
                print_error("chunk %d/%d differs: %s %zu bytes, %s %zu bytes\n", cr, cc,
                            bp ? "present" : "absent", np, bq ? "present" : "absent", nq);
                bad++;
            }
            free(bp);
            free(bq);
        }
    return bad;
}

static int count_tmp(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        char p[4300];
        if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (strstr(de->d_name, ".pzarr-tmp"))
            n++;
        else if (de->d_type == DT_DIR)
            n += count_tmp(p);
    }
    if (d)
        closedir(d);
    return n;
}

/* What a reader of another job sees: a store opened on its own. */
static void read_alone(const char *dir, int32_t *out)
{
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    uint64_t z[2] = {0, 0}, n[2] = {R, C};
    assert_int_equal(pzarr_open(MPI_COMM_SELF, dir, PZARR_RDONLY, &s), 0);
    assert_int_equal(pzarr_array_open(s, "a", &a), 0);
    assert_int_equal(pzarr_array_read(a, z, n, out), 0);
    assert_int_equal(pzarr_close(s), 0);
}

static void test_same_as_blocking(void **state)
{
    (void)state;
    char bdir[4200], adir[4200];
    snprintf(bdir, sizeof bdir, "%s", t_dir("iflush_blk"));
    snprintf(adir, sizeof adir, "%s", t_dir("iflush_asy"));
    pzarr_store *bs = NULL, *as = NULL;
    pzarr_array *b = NULL, *a = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, bdir, PZARR_CREATE, &bs), pzarr_errmsg(bs));
    /* PZARR_ASYNC: the whole chunk of write_gen is copied at write time */
    T_OK(pzarr_open(MPI_COMM_WORLD, adir, PZARR_CREATE | PZARR_ASYNC, &as), pzarr_errmsg(as));
    T_OK(pzarr_array_create(bs, "a", DOC, &b), pzarr_errmsg(bs));
    T_OK(pzarr_array_create(as, "a", DOC, &a), pzarr_errmsg(as));
    char bpath[4300], apath[4300];
    snprintf(bpath, sizeof bpath, "%s/a", bdir);
    snprintf(apath, sizeof apath, "%s/a", adir);
    static int32_t before[R * C], during[R * C];
    for (int g = 1; g <= 3; g++) {
        if (T_rank == 0)
            read_alone(adir, before);
        write_gen(b, g);
        write_gen(a, g);
        T_OK(pzarr_array_flush(b), pzarr_array_errmsg(b));
        pzarr_request r = NULL;
        T_OK(pzarr_array_iflush(a, &r), pzarr_array_errmsg(a));
        assert_non_null(r);
        /* a reader elsewhere sees the previous checkpoint, whole (below
         * FUNNELED the iflush has published already) */
        if (T_rank == 0 && !single()) {
            read_alone(adir, during);
            assert_memory_equal(before, during, sizeof before);
        }
        /* the next checkpoint's writes, while this one is in flight */
        write_gen(a, 10 + g);
        T_OK(pzarr_wait(&r), pzarr_array_errmsg(a));
        assert_null(r);
        T_ASSERT_ALL(T_rank != 0 || same_files(bpath, apath) == 0);
        /* the blocking twin catches up */
        write_gen(b, 10 + g);
        T_OK(pzarr_array_flush(b), pzarr_array_errmsg(b));
        T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
        T_ASSERT_ALL(T_rank != 0 || same_files(bpath, apath) == 0);
    }
    pzarr_stats st;
    pzarr_get_stats(as, &st);
    T_ASSERT_ALL(st.iflushes == (single() ? 0u : 3u) && st.inflight_bytes == 0);
    if (!single())
        T_ASSERT_ALL(T_size == 1 || st.inflight_peak > 0);
    T_OK(pzarr_array_close(a), pzarr_errmsg(as));
    T_OK(pzarr_array_close(b), pzarr_errmsg(bs));
    T_OK(pzarr_close(as), "close");
    T_OK(pzarr_close(bs), "close");
}

static void test_rules(void **state)
{
    (void)state;
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, t_dir("iflush_rules"), PZARR_CREATE, &s), pzarr_errmsg(s));
    T_OK(pzarr_array_create(s, "a", DOC, &a), pzarr_errmsg(s));
    pzarr_request r1 = NULL, r2 = NULL;
    /* a flush completes the pending request; its wait reports it */
    write_gen(a, 1);
    T_OK(pzarr_array_iflush(a, &r1), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    int done = 0;
    assert_int_equal(pzarr_test(&r1, &done), 0);
    assert_int_equal(done, 1);
    T_OK(pzarr_wait(&r1), "wait after a flush");
    assert_null(r1);
    assert_int_equal(pzarr_wait(&r1), PZARR_EINVAL); /* waited twice */
    assert_int_equal(pzarr_test(&r1, &done), PZARR_EINVAL);
    /* a second iflush completes the first */
    write_gen(a, 2);
    T_OK(pzarr_array_iflush(a, &r1), pzarr_array_errmsg(a));
    write_gen(a, 3);
    T_OK(pzarr_array_iflush(a, &r2), pzarr_array_errmsg(a));
    T_OK(pzarr_wait(&r1), "first of two");
    /* pzarr_test polls until this rank's workers are done */
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(pzarr_test(&r2, &done), 0);
        if (done)
            break;
        usleep(1000);
    }
    assert_int_equal(done, 1);
    T_OK(pzarr_wait(&r2), "second of two");
    /* what generation 3 wrote is there, read by every rank */
    int32_t got[R * C];
    uint64_t z[2] = {0, 0}, n[2] = {R, C};
    T_OK(pzarr_array_read_all(a, z, n, got), pzarr_array_errmsg(a));
    bool three = false;
    for (int i = 0; i < R * C; i++)
        three = three || (got[i] / 100000 == 3);
    T_ASSERT_ALL(three);
    /* close completes a pending request; the handle then reports EINVAL */
    write_gen(a, 4);
    T_OK(pzarr_array_iflush(a, &r1), pzarr_array_errmsg(a));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    assert_int_equal(pzarr_wait(&r1), PZARR_EINVAL);
    assert_null(r1);
    /* generation 4 was published by the close */
    T_OK(pzarr_array_open(s, "a", &a), pzarr_errmsg(s));
    T_OK(pzarr_array_read_all(a, z, n, got), pzarr_array_errmsg(a));
    bool four = false;
    for (int i = 0; i < R * C; i++)
        four = four || (got[i] / 100000 == 4);
    T_ASSERT_ALL(four);
    /* bad handles */
    assert_int_equal(pzarr_array_iflush(a, NULL), PZARR_EINVAL);
    assert_int_equal(pzarr_wait(NULL), PZARR_EINVAL);
    int junk;
    pzarr_request fake = (pzarr_request)(void *)&junk;
    assert_int_equal(pzarr_wait(&fake), PZARR_EINVAL);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), "close");
}

/* PZARR_ASYNC, staged as the hint pzarr_async_stage says: "background",
 * whole chunks owned are copied at write time and nothing is staged (no
 * temporary file) before the iflush; "inline", they are staged inside the
 * write, as without the flag. The checkpoint is right either way. */
static void async_store(const char *dir, const char *stage)
{
    pzarr_store *s = NULL;
    pzarr_array *a = NULL;
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "pzarr_async_stage", stage);
    T_OK(pzarr_open_info(MPI_COMM_WORLD, dir, PZARR_CREATE | PZARR_ASYNC, info, &s),
         pzarr_errmsg(s));
    MPI_Info_free(&info);
    bool background = strcmp(stage, "background") == 0;
    T_OK(pzarr_array_create(s, "a", DOC, &a), pzarr_errmsg(s));
    int32_t v[R * C];
    for (int i = 0; i < R * C; i++)
        v[i] = i + 1;
    if (T_rank == 0) { /* everything, whole chunks of every owner among them */
        uint64_t z[2] = {0, 0}, n[2] = {R, C};
        assert_int_equal(pzarr_array_write(a, z, n, v), 0);
    }
    char adir[4300];
    snprintf(adir, sizeof adir, "%s/a", dir);
    /* rank 0 owns whole chunks of what it wrote: staged or not yet */
    if (background)
        T_ASSERT_ALL(count_tmp(adir) == 0);
    else
        T_ASSERT_ALL(T_rank != 0 || count_tmp(adir) > 0);
    pzarr_request r;
    T_OK(pzarr_array_iflush(a, &r), pzarr_array_errmsg(a));
    T_OK(pzarr_wait(&r), pzarr_array_errmsg(a));
    int32_t got[R * C];
    uint64_t z[2] = {0, 0}, n[2] = {R, C};
    T_OK(pzarr_array_read_all(a, z, n, got), pzarr_array_errmsg(a));
    T_ASSERT_ALL(memcmp(got, v, sizeof v) == 0);
    T_ASSERT_ALL(count_tmp(adir) == 0);
    /* Each rank writes the rows of chunks it owns, whole, in one call: one
     * copy of the caller's buffer, the pieces inside it; its own reads see
     * them before the flush; then in the background. */
    int pd[2] = {T_size, 1};
    T_OK(pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, pd), pzarr_array_errmsg(a));
    bool ok = true;
    for (int cr = 0; cr < 5; cr++) {
        uint64_t cc[2] = {(uint64_t)cr, 0};
        int owner = -1;
        pzarr_array_chunk_owner(a, cc, &owner);
        if (owner != T_rank)
            continue;
        uint64_t st[2] = {(uint64_t)cr * 7, 0}, ct[2] = {cr == 4 ? 2 : 7, C};
        int32_t w[7 * C], back[7 * C];
        for (int i = 0; i < (int)(ct[0] * C); i++)
            w[i] = -(cr * 1000 + i);
        assert_int_equal(pzarr_array_write(a, st, ct, w), 0);
        assert_int_equal(pzarr_array_read(a, st, ct, back), 0);
        ok = ok && memcmp(w, back, (size_t)(ct[0] * C) * sizeof *w) == 0;
        for (int i = 0; i < (int)(ct[0] * C); i++)
            v[(int)st[0] * C + i] = w[i];
    }
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_iflush(a, &r), pzarr_array_errmsg(a));
    T_OK(pzarr_wait(&r), pzarr_array_errmsg(a));
    /* every rank's rows: compare what each rank knows (its own rows) */
    T_OK(pzarr_array_read_all(a, z, n, got), pzarr_array_errmsg(a));
    ok = true;
    for (int cr = 0; cr < 5; cr++) {
        uint64_t cc[2] = {(uint64_t)cr, 0};
        int owner = -1;
        pzarr_array_chunk_owner(a, cc, &owner);
        if (owner == T_rank)
            ok = ok && memcmp(got + cr * 7 * C, v + cr * 7 * C,
                              (size_t)((cr == 4 ? 2 : 7) * C) * sizeof *got) == 0;
    }
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), "close");
}

/* This process's open files. */
static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n;
}

/* Both ways of staging give the same files, and leave no file open (the
 * files a commit replaces, held open by the workers when they have a core
 * of their own, are closed by the close at the latest); a bad value of the
 * hint is refused at open, naming it. */
static void test_async_store(void **state)
{
    (void)state;
    int fds = count_fds();
    char x[4300], y[4300]; /* t_dir's answer lasts until its next call */
    snprintf(x, sizeof x, "%s", t_dir("iflush_async_bg"));
    async_store(x, "background");
    snprintf(y, sizeof y, "%s", t_dir("iflush_async_in"));
    async_store(y, "inline");
    strcat(x, "/a");
    strcat(y, "/a");
    T_ASSERT_ALL(T_rank != 0 || same_files(x, y) == 0);
    T_ASSERT_ALL(count_fds() == fds);
    pzarr_store *s = NULL;
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "pzarr_async_stage", "sideways");
    int rc = pzarr_open_info(MPI_COMM_WORLD, t_dir("iflush_async_bad"),
                             PZARR_CREATE | PZARR_ASYNC, info, &s);
    MPI_Info_free(&info);
    assert_int_equal(rc, PZARR_EINVAL);
    assert_non_null(strstr(pzarr_errmsg(s), "pzarr_async_stage"));
    pzarr_close(s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_blocking),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_async_store),
    };
    return T_RUN(tests);
}
