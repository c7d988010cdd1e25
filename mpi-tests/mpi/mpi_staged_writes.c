/*
 * Staged writes: a whole chunk that the writing rank owns is written at
 * write time under the next flush's staged name, and the flush publishes it.
 * Asserted here:
 *  - before the flush the chunk file is unchanged and a staged file sits
 *    beside it; the writer reads its own write, other ranks read storage;
 *    after the flush every rank reads the new data, nothing staged is left,
 *    and each chunk counts one write (no rewrite);
 *  - staged bytes hold no memory: a write of whole owned chunks larger than
 *    the write limit is accepted; a partial one is still refused;
 *  - the consistency model holds over staged chunks: a higher rank's partial
 *    write wins where it lands, a later partial write of the same rank
 *    lands on its staged chunk, a staged chunk later written all fill is
 *    removed, and the other way round (each counted as a rewrite);
 *  - compressed and edge chunks (padded with the fill value) are staged too,
 *    and inner chunks of uncompressed shards (into their slots of the staged
 *    shard file);
 *  - read_all: the writer sees its staged chunks, the others storage.
 */
#define _DEFAULT_SOURCE
#include "pz_test_util.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define R 40 /* rows: 5 chunk rows of 8 */
#define C 12 /* columns: chunks of 8, the second an edge chunk of 4 columns */

static int count_temps(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (strstr(de->d_name, ".pzarr-tmp"))
            n++;
        else if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            n += count_temps(p);
    }
    if (d)
        closedir(d);
    return n;
}

static double val(int gen, uint64_t i, uint64_t j) { return gen * 1000.0 + (double)(i * C + j); }

static pzarr_array *owners_of; /* for my_rows and row_owner */

/* The owner of chunk row cr (owners go by chunk row, growing with it). */
static int row_owner(uint64_t cr)
{
    int o = -1;
    pzarr_array_chunk_owner(owners_of, (uint64_t[2]){cr, 0}, &o);
    return o;
}

/* The rows of rank r: the chunk rows it owns. */
static void rows_of(int r, uint64_t *lo, uint64_t *n)
{
    *lo = 0;
    *n = 0;
    for (uint64_t cr = 0; cr < R / 8; cr++)
        if (row_owner(cr) == r) {
            if (*n == 0)
                *lo = cr * 8;
            *n += 8;
        }
}

static void my_rows(uint64_t *lo, uint64_t *n) { rows_of(T_rank, lo, n); }

/* Shards of 8 x 16: two inner chunks of 8 x 8 each (the second an edge). */
static const char SHARDED[] =
    "{\"zarr_format\":3,\"node_type\":\"array\",\"shape\":[40,12],\"data_type\":\"float64\","
    "\"chunk_grid\":{\"name\":\"regular\",\"configuration\":{\"chunk_shape\":[8,16]}},"
    "\"chunk_key_encoding\":{\"name\":\"default\"},\"fill_value\":0,\"codecs\":[{\"name\":"
    "\"sharding_indexed\",\"configuration\":{\"chunk_shape\":[8,8],\"codecs\":[{\"name\":"
    "\"bytes\",\"configuration\":{\"endian\":\"little\"}}],\"index_codecs\":[{\"name\":"
    "\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}],"
    "\"index_location\":\"end\"}}]}";

static pzarr_array *make(pzarr_store *s, const char *name, const char *codecs)
{
    uint64_t shape[2] = {R, C}, chunks[2] = {8, 8};
    pzarr_array *a = NULL;
    const char *doc = codecs == SHARDED ? SHARDED
                                        : t_meta3("float64", 2, shape, chunks, "0", codecs);
    T_OK(pzarr_array_create(s, name, doc, &a), pzarr_errmsg(s));
    /* Chunk rows to ranks as my_rows splits them. */
    int dims[2] = {T_size, 1};
    T_OK(pzarr_array_set_owner(a, PZARR_OWNER_BLOCK, dims), pzarr_array_errmsg(a));
    owners_of = a;
    return a;
}

static int expect(pzarr_array *a, int (*gen_of)(uint64_t i, uint64_t j), bool all)
{
    double *got = malloc(R * C * sizeof *got);
    uint64_t z[2] = {0, 0}, n[2] = {R, C};
    int ok = (all ? pzarr_array_read_all(a, z, n, got) : pzarr_array_read(a, z, n, got)) == 0;
    for (uint64_t i = 0; ok && i < R; i++)
        for (uint64_t j = 0; ok && j < C; j++) {
            int g = gen_of(i, j);
            double want = g < 0 ? 0.0 : val(g, i, j);
            if (got[i * C + j] != want) {
                fprintf(stderr, "rank %d: (%llu,%llu) = %g, want %g\n", T_rank,
                        (unsigned long long)i, (unsigned long long)j, got[i * C + j], want);
                ok = 0;
            }
        }
    free(got);
    return ok;
}

static uint64_t lo_, n_; /* for the gen_of callbacks */
static int gen_mine2(uint64_t i, uint64_t j) { (void)j; return i >= lo_ && i < lo_ + n_ ? 2 : 1; }

/* Local: 0 or the write's error (printed). */
static int write_gen(pzarr_array *a, int gen, uint64_t lo, uint64_t n)
{
    double *b = malloc((n ? n : 1) * C * sizeof *b);
    for (uint64_t i = 0; i < n; i++)
        for (uint64_t j = 0; j < C; j++)
            b[i * C + j] = val(gen, lo + i, j);
    uint64_t st[2] = {lo, 0}, cnt[2] = {n, C};
    int rc = pzarr_array_write(a, st, cnt, b);
    if (rc)
        fprintf(stderr, "rank %d: write: %s\n", T_rank, pzarr_array_errmsg(a));
    free(b);
    return rc;
}

/* A local write, failures printed; for the sequences only some ranks run. */
static int wr(pzarr_array *a, const uint64_t *st, const uint64_t *cnt, const double *b)
{
    int rc = pzarr_array_write(a, st, cnt, b);
    if (rc)
        fprintf(stderr, "rank %d: write: %s\n", T_rank, pzarr_array_errmsg(a));
    return rc;
}

static void run_visibility(const char *codecs, const char *name)
{
    pzarr_store *s = NULL;
    const char *dir = t_dir(name);
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    pzarr_array *a = make(s, "a", codecs);
    /* Generation 1: rank 0 writes all of it (through the flush's exchange
     * for chunks it does not own). */
    T_ASSERT_ALL(T_rank != 0 || write_gen(a, 1, 0, R) == 0);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    uint64_t lo, n;
    my_rows(&lo, &n);
    lo_ = lo;
    n_ = n;
    pzarr_reset_stats(s);
    T_ASSERT_ALL(write_gen(a, 2, lo, n) == 0);
    char adir[4200];
    snprintf(adir, sizeof adir, "%s/a", dir);
    MPI_Barrier(MPI_COMM_WORLD);
    /* Staged, not published: one staged file per written chunk. */
    int temps = T_rank == 0 ? count_temps(adir) : 0;
    MPI_Bcast(&temps, 1, MPI_INT, 0, MPI_COMM_WORLD);
    uint64_t nchunks = (R / 8) * 2;
    /* one staged file per chunk, or per shard (two inner chunks each) */
    T_ASSERT_ALL(temps == (int)(codecs == SHARDED ? nchunks / 2 : nchunks));
    T_ASSERT_ALL(expect(a, gen_mine2, false));
    T_ASSERT_ALL(expect(a, gen_mine2, true));
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    pzarr_stats st;
    pzarr_get_stats(s, &st);
    uint64_t writes = t_sum_u64(st.chunk_writes), rewrites = t_sum_u64(st.chunk_rewrites);
    lo_ = 0;
    n_ = R;
    T_ASSERT_ALL(writes == nchunks && rewrites == 0 && count_temps(adir) == 0);
    T_ASSERT_ALL(expect(a, gen_mine2, false));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    /* zarr-python-visible result: reopened, the same. */
    T_OK(pzarr_array_open(s, "a", &a), pzarr_errmsg(s));
    T_ASSERT_ALL(expect(a, gen_mine2, true));
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

static void test_staged_visibility(void **st)
{
    (void)st;
    run_visibility(NULL, "vis");
}

static void test_staged_visibility_zstd(void **st)
{
    (void)st;
    run_visibility(",{\"name\":\"zstd\",\"configuration\":{\"level\":1,\"checksum\":false}}",
                   "viszstd");
}

static void test_staged_visibility_sharded(void **st)
{
    (void)st;
    run_visibility(SHARDED, "visshard");
}

static void test_staged_write_limit(void **st)
{
    (void)st;
    pzarr_store *s = NULL;
    T_OK(pzarr_open(MPI_COMM_WORLD, t_dir("limit"), PZARR_CREATE, &s), pzarr_errmsg(s));
    pzarr_array *a = make(s, "a", NULL);
    uint64_t lo, n;
    my_rows(&lo, &n);
    /* 8 x 12 doubles (a chunk row) = 768 bytes: a limit of 100 bytes. */
    T_OK(pzarr_array_set_write_limit(a, 100), pzarr_array_errmsg(a));
    /* whole chunks of mine: staged, accepted */
    T_ASSERT_ALL(write_gen(a, 3, lo, n) == 0);
    uint64_t pst[2] = {lo, 0}, pcnt[2] = {n ? 1 : 0, C};
    double row[C];
    for (int j = 0; j < C; j++)
        row[j] = 1.0;
    int rc = n ? pzarr_array_write(a, pst, pcnt, row) : 0; /* 96 bytes: held */
    int rc2 = n ? pzarr_array_write(a, pst, pcnt, row) : PZARR_EBUFFULL; /* 192: refused */
    T_ASSERT_ALL(rc == 0 && rc2 == PZARR_EBUFFULL);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    double got[C];
    T_OK(pzarr_array_read(a, pst, pcnt, got), pzarr_array_errmsg(a));
    int ok = 1;
    for (int j = 0; n && j < C; j++)
        ok &= got[j] == 1.0;
    T_ASSERT_ALL(ok);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

/* Rank r stages its chunk rows (generation 10 + r); then column chunk 0 of
 * its last chunk row all fill, then data again; then its edge chunks
 * (columns 8..11) all fill; then one element of its first chunk. Rank r+1
 * writes 8 columns of r's last row. */
static void run_merges(const char *codecs, const char *name)
{
    pzarr_store *s = NULL;
    const char *dir = t_dir(name);
    T_OK(pzarr_open(MPI_COMM_WORLD, dir, PZARR_CREATE, &s), pzarr_errmsg(s));
    pzarr_array *a = make(s, "a", codecs);
    uint64_t lo, n;
    my_rows(&lo, &n);
    /* A stored generation 1 everywhere, so that a removal shows. */
    T_ASSERT_ALL(T_rank != 0 || write_gen(a, 1, 0, R) == 0);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    pzarr_reset_stats(s);
    int gen = 10 + T_rank, wrc = 0;
    if (n) {
        wrc |= write_gen(a, gen, lo, n);
        /* my last chunk row, column chunk 0: fill, then data again */
        uint64_t fs[2] = {lo + n - 8, 0}, fc[2] = {8, 8};
        double *f = calloc(64, sizeof *f), *d = malloc(64 * sizeof *d);
        for (int i = 0; i < 64; i++)
            d[i] = val(gen, lo + n - 8 + (uint64_t)(i / 8), (uint64_t)(i % 8));
        wrc |= wr(a, fs, fc, f);
        wrc |= wr(a, fs, fc, d);
        /* the edge chunk (columns 8..11) of my rows: all fill now */
        double *z = calloc(n * 4, sizeof *z);
        uint64_t zs[2] = {lo, 8}, zc[2] = {n, 4};
        wrc |= wr(a, zs, zc, z);
        /* a later element of mine: lands on the staged chunk */
        uint64_t p[2] = {lo + 1, 1}, one[2] = {1, 1};
        double x = -7.0;
        wrc |= wr(a, p, one, &x);
        free(z);
        free(f);
        free(d);
    }
    /* A higher rank's write into a lower rank's staged chunk: rank r
     * writes columns 0..7 of row lo-1 (the last row of the rank below). */
    if (n && lo > 0) {
        double row[8];
        for (uint64_t j = 0; j < 8; j++)
            row[j] = val(50 + T_rank, lo - 1, j);
        uint64_t rs[2] = {lo - 1, 0}, rc[2] = {1, 8};
        wrc |= wr(a, rs, rc, row);
    }
    T_ASSERT_ALL(wrc == 0);
    T_OK(pzarr_array_flush(a), pzarr_array_errmsg(a));
    /* Expected, everywhere: */
    double *got = malloc(R * C * sizeof *got);
    uint64_t z0[2] = {0, 0}, all[2] = {R, C};
    T_OK(pzarr_array_read(a, z0, all, got), pzarr_array_errmsg(a));
    int ok = 1;
    for (uint64_t i = 0; i < R && ok; i++) {
        int r = row_owner(i / 8);
        uint64_t rlo, rn;
        rows_of(r, &rlo, &rn);
        /* the next rank's write lands on row i when i is r's last row */
        uint64_t nlo = 0, nn = 0;
        if (r + 1 < T_size)
            rows_of(r + 1, &nlo, &nn);
        bool next_here = nn > 0 && nlo == i + 1;
        for (uint64_t j = 0; j < C && ok; j++) {
            double want = j >= 8 ? 0.0 : val(10 + r, i, j);
            if (i == rlo + 1 && j == 1)
                want = -7.0;
            if (next_here && j < 8)
                want = val(50 + r + 1, i, j);
            if (got[i * C + j] != want) {
                fprintf(stderr, "rank %d: (%llu,%llu) = %g, want %g\n", T_rank,
                        (unsigned long long)i, (unsigned long long)j, got[i * C + j], want);
                ok = 0;
            }
        }
    }
    free(got);
    T_ASSERT_ALL(ok);
    /* Rewrites: on each data rank the chunk with the later element, the
     * edge chunks turned fill (restaged as markers), the chunk written fill
     * then data; on ranks below another, the chunk that rank wrote into. */
    pzarr_stats sts;
    pzarr_get_stats(s, &sts);
    T_ASSERT_ALL(sts.chunk_rewrites >= (n ? 3u : 0u));
    char adir[4200];
    snprintf(adir, sizeof adir, "%s/a", dir);
    T_ASSERT_ALL(T_rank != 0 || count_temps(adir) == 0);
    /* The all-fill edge chunks are gone from storage. */
    int gone = 1;
    if (T_rank == 0 && codecs != SHARDED)
        for (uint64_t cr = 0; cr < R / 8; cr++) {
            char p[4400];
            struct stat sb;
            snprintf(p, sizeof p, "%s/c/%llu/1", adir, (unsigned long long)cr);
            gone &= stat(p, &sb) != 0;
        }
    T_ASSERT_ALL(gone);
    T_OK(pzarr_array_close(a), pzarr_errmsg(s));
    T_OK(pzarr_close(s), NULL);
}

static void test_staged_merges(void **st)
{
    (void)st;
    run_merges(NULL, "merge");
}

static void test_staged_merges_sharded(void **st)
{
    (void)st;
    run_merges(SHARDED, "mergeshard");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staged_visibility),
        cmocka_unit_test(test_staged_visibility_zstd),
        cmocka_unit_test(test_staged_write_limit),
        cmocka_unit_test(test_staged_merges),
        cmocka_unit_test(test_staged_visibility_sharded),
        cmocka_unit_test(test_staged_merges_sharded),
    };
    return T_RUN(tests);
}
