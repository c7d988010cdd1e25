/*
 * Variable-length arrays across ranks: strings and bytes written by every
 * rank in strips that share chunks and overlap, merged by the chunks'
 * owners in the flush (the highest rank wins an element, as for fixed-size
 * types), read back by every rank; a rank's own unflushed writes in its
 * reads; the errors: wrong call for the type, bad UTF-8, a corrupt chunk.
 */
#include "pz_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define R 9
#define C 7

static const char *doc_v3_string(void)
{
    return "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[9,7],"
           "\"data_type\":\"string\",\"chunk_grid\":{\"name\":\"regular\","
           "\"configuration\":{\"chunk_shape\":[4,3]}},\"chunk_key_encoding\":"
           "{\"name\":\"default\"},\"fill_value\":\"-\",\"codecs\":[{\"name\":"
           "\"vlen-utf8\"},{\"name\":\"zstd\",\"configuration\":{\"level\":1}}]}";
}

/* The element rank r writes at (i, j): lengths 0 and up, multi-byte text. */
static void element(int r, int i, int j, char *out, size_t cap)
{
    if ((i + j + r) % 5 == 0)
        out[0] = '\0';
    else
        snprintf(out, cap, "r%d:%d,%d%s", r, i, j, (i * j) % 3 == 1 ? "\xc3\xa9\xe2\x82\xac" : "");
}

/* Rank r's strip: rows [2r, 2r + 4), so neighbours overlap by two rows. */
static void strip(int r, uint64_t *start, uint64_t *count)
{
    start[0] = (uint64_t)(2 * r) % R;
    count[0] = start[0] + 4 <= R ? 4 : R - start[0];
    start[1] = 1;
    count[1] = C - 2;
}

static void write_strip(pzarr_array *a, int r)
{
    uint64_t st[2], ct[2];
    strip(r, st, ct);
    size_t n = (size_t)(ct[0] * ct[1]);
    uint64_t *off = malloc((n + 1) * sizeof *off);
    char *data = malloc(n * 32 + 1), el[32];
    uint64_t at = 0;
    size_t k = 0;
    for (uint64_t i = 0; i < ct[0]; i++)
        for (uint64_t j = 0; j < ct[1]; j++) {
            element(r, (int)(st[0] + i), (int)(st[1] + j), el, sizeof el);
            off[k++] = at;
            memcpy(data + at, el, strlen(el));
            at += strlen(el);
        }
    off[n] = at;
    T_OK(pzarr_array_write_vlen(a, st, ct, off, data), pzarr_array_errmsg(a));
    free(off);
    free(data);
}

/* What (i, j) holds after every rank wrote its strip. */
static void expected(int i, int j, char *out, size_t cap)
{
    snprintf(out, cap, "-");
    for (int r = 0; r < T_size; r++) {
        uint64_t st[2], ct[2];
        strip(r, st, ct);
        if ((uint64_t)i >= st[0] && (uint64_t)i < st[0] + ct[0] && (uint64_t)j >= st[1] &&
            (uint64_t)j < st[1] + ct[1])
            element(r, i, j, out, cap);
    }
}

static int compare_all(pzarr_array *a, int override_i, int override_j, const char *override)
{
    uint64_t st[2] = {0, 0}, ct[2] = {R, C}, *off = NULL;
    void *data = NULL;
    int rc = pzarr_array_read_vlen(a, st, ct, &off, &data); /* local: no T_OK */
    if (rc) {
        print_error("rank %d: read_vlen: %s\n", T_rank, pzarr_array_errmsg(a));
        return 1;
    }
    int bad = off[0] != 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            char want[32];
            expected(i, j, want, sizeof want);
            if (i == override_i && j == override_j)
                snprintf(want, sizeof want, "%s", override);
            size_t k = (size_t)(i * C + j), len = (size_t)(off[k + 1] - off[k]);
            if (len != strlen(want) || memcmp((char *)data + off[k], want, len) != 0) {
                if (bad++ < 5)
                    print_error("rank %d: (%d,%d) is '%.*s', want '%s'\n", T_rank, i, j,
                                (int)len, (char *)data + off[k], want);
            }
        }
    pzarr_free(off);
    pzarr_free(data);
    return bad;
}

static void test_strings_shared_chunks(void **state)
{
    (void)state;
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, t_dir("vlen_strings"), PZARR_CREATE, &s), pzarr_errmsg(s));
    pzarr_array *a = NULL;
    T_OK(pzarr_array_create(s, "names", doc_v3_string(), &a), pzarr_errmsg(s));
    write_strip(a, T_rank);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    T_ASSERT_ALL(compare_all(a, -1, -1, NULL) == 0);
    /* one rank's unflushed write is in its own reads, and in everyone's
     * after the flush */
    const char *last = "\xf0\x9f\x9a\x80 last";
    if (T_rank == T_size - 1) {
        uint64_t st[2] = {8, 6}, ct[2] = {1, 1}, off[2] = {0, strlen(last)};
        assert_int_equal(pzarr_array_write_vlen(a, st, ct, off, last), 0); /* local */
        assert_int_equal(compare_all(a, 8, 6, last), 0);
    }
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_array_open(s, "names", &a), pzarr_errmsg(s));
    T_ASSERT_ALL(compare_all(a, 8, 6, last) == 0);
    /* a box across chunks, read on its own */
    uint64_t st[2] = {3, 2}, ct[2] = {3, 4}, *off = NULL;
    void *data = NULL;
    T_OK(pzarr_array_read_vlen(a, st, ct, &off, &data), pzarr_array_errmsg(a)); /* all ranks */
    int bad = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) {
            char want[32];
            expected(3 + i, 2 + j, want, sizeof want);
            size_t k = (size_t)(i * 4 + j);
            bad += off[k + 1] - off[k] != strlen(want) ||
                   memcmp((char *)data + off[k], want, strlen(want)) != 0;
        }
    pzarr_free(off);
    pzarr_free(data);
    T_ASSERT_ALL(bad == 0);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), "close");
}

/* v2 object array of bytes (NUL bytes inside), elements interleaved by rank
 * one write each: every chunk gets pieces from every rank. */
static void test_bytes_interleaved(void **state)
{
    (void)state;
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, t_dir("vlen_bytes"), PZARR_CREATE | PZARR_FORMAT_V2, &s),
         pzarr_errmsg(s));
    pzarr_array *a = NULL;
    const char *doc = "{\"zarr_format\":2,\"shape\":[50],\"chunks\":[8],\"dtype\":\"|O\","
                      "\"compressor\":{\"id\":\"blosc\",\"cname\":\"lz4\",\"clevel\":5,"
                      "\"shuffle\":1,\"blocksize\":0},\"fill_value\":null,\"order\":\"C\","
                      "\"filters\":[{\"id\":\"vlen-bytes\"}]}";
    T_OK(pzarr_array_create(s, "blobs", doc, &a), pzarr_errmsg(s));
    for (uint64_t i = (uint64_t)T_rank; i < 50; i += (uint64_t)T_size) {
        unsigned char b[40];
        size_t n = (size_t)(i % 37);
        for (size_t k = 0; k < n; k++)
            b[k] = (unsigned char)((i * 31 + k * 7) & 0xFF);
        uint64_t st = i, ct = 1, off[2] = {0, n};
        assert_int_equal(pzarr_array_write_vlen(a, &st, &ct, off, b), 0); /* local */
    }
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_array_open(s, "blobs", &a), pzarr_errmsg(s));
    uint64_t st = 0, ct = 50, *off = NULL;
    void *data = NULL;
    T_OK(pzarr_array_read_vlen(a, &st, &ct, &off, &data), pzarr_array_errmsg(a));
    int bad = 0;
    for (uint64_t i = 0; i < 50; i++) {
        size_t n = (size_t)(i % 37);
        bad += off[i + 1] - off[i] != n;
        for (size_t k = 0; !bad && k < n; k++)
            bad += ((unsigned char *)data)[off[i] + k] != (unsigned char)((i * 31 + k * 7) & 0xFF);
    }
    pzarr_free(off);
    pzarr_free(data);
    T_ASSERT_ALL(bad == 0);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), "close");
}

static void test_errors(void **state)
{
    (void)state;
    pzarr_store *s = NULL;
    const char *dir = t_dir("vlen_errors");
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    pzarr_array *a = NULL, *n = NULL;
    T_OK(pzarr_array_create(s, "names", doc_v3_string(), &a), pzarr_errmsg(s));
    uint64_t shape[1] = {4}, chunks[1] = {2};
    T_OK(pzarr_array_create(s, "nums", t_meta3("int32", 1, shape, chunks, "0", ""), &n),
         pzarr_errmsg(s));
    uint64_t st[2] = {0, 0}, ct[2] = {1, 2}, off[3] = {0, 1, 3};
    int32_t v[2] = {1, 2};
    /* the wrong call for the type says which one to use */
    assert_int_equal(pzarr_array_write(a, st, ct, v), PZARR_EINVAL);
    assert_non_null(strstr(pzarr_array_errmsg(a), "pzarr_array_write_vlen"));
    assert_int_equal(pzarr_array_write_vlen(n, st, ct, off, "abc"), PZARR_EINVAL);
    assert_non_null(strstr(pzarr_array_errmsg(n), "pzarr_array_write"));
    int32_t back[2];
    assert_int_equal(pzarr_array_read(a, st, ct, back), PZARR_EINVAL);
    /* not UTF-8: refused, naming the element; nothing is kept */
    assert_int_equal(pzarr_array_write_vlen(a, st, ct, off, "a\xff\xfe"), PZARR_EINVAL);
    assert_non_null(strstr(pzarr_array_errmsg(a), "element 1"));
    /* offsets going backwards */
    uint64_t back_off[3] = {0, 2, 1};
    assert_int_equal(pzarr_array_write_vlen(a, st, ct, back_off, "abc"), PZARR_EINVAL);
    /* a box outside the array */
    uint64_t far[2] = {9, 0};
    assert_int_equal(pzarr_array_write_vlen(a, far, ct, off, "abc"), PZARR_EBOUNDS);
    /* a good write; then rank 0 damages its chunk on disk */
    T_OK(pzarr_array_write_vlen(a, st, ct, off, "abc"), pzarr_array_errmsg(a));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    if (T_rank == 0) {
        char path[4200];
        snprintf(path, sizeof path, "%s/names/c/0/0", dir);
        size_t size = 0;
        unsigned char *raw = t_slurp(path, &size);
        assert_non_null(raw);
        assert_int_equal(t_spit(path, raw, size / 2), 0); /* truncated */
        free(raw);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    uint64_t *o = NULL;
    void *d = NULL;
    int rc = pzarr_array_read_vlen(a, st, ct, &o, &d);
    T_ASSERT_ALL(rc == PZARR_ECORRUPT && strstr(pzarr_array_errmsg(a), "c/0/0") != NULL);
    assert_null(o);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_array_close(n), pzarr_errmsg(s));
    T_OK(pzarr_close(s), "close");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_shared_chunks),
        cmocka_unit_test(test_bytes_interleaved),
        cmocka_unit_test(test_errors),
    };
    return T_RUN(tests);
}
