/*
 * pzarr-zfp-bench: zfp inside pzarr (the chunk codec chain, v3 "zfp" and
 * v2 "zfpy") against libzfp called alone on the same chunks, one core.
 *
 *   pzarr-zfp-bench [--chunk 64,64,64] [--chunks 32] [--reps 5] [--json]
 *
 * The chunks are a smooth float64 field with a little noise. For each mode
 * (fixed accuracy 1e-3, fixed rate 16, fixed precision 20, reversible) it
 * times encoding and decoding every chunk, best of the repetitions, and
 * checks that pzarr's bytes equal libzfp's. No MPI: the codec layer is pure.
 */
#define _POSIX_C_SOURCE 200809L
#include "codec/codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zfp.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct mode {
    const char *name, *v3_config;
    int zmode; /* 0 accuracy, 1 rate, 2 precision, 3 reversible */
    double value;
} mode;

#define NMODES 4
static const mode modes[NMODES] = {
    {"fixed_accuracy 1e-3", "{\"mode\": \"fixed_accuracy\", \"tolerance\": 0.001}", 0, 1e-3},
    {"fixed_rate 16", "{\"mode\": \"fixed_rate\", \"rate\": 16}", 1, 16},
    {"fixed_precision 20", "{\"mode\": \"fixed_precision\", \"precision\": 20}", 2, 20},
    {"reversible", "{\"mode\": \"reversible\"}", 3, 0},
};

/* libzfp alone: compress one chunk into out (cap bytes); returns the size. */
static size_t zfp_alone(const mode *m, double *chunk, const uint64_t *cs, unsigned char *out,
                        size_t cap, int decode, size_t n_in)
{
    zfp_field *f = zfp_field_3d(chunk, zfp_type_double, cs[2], cs[1], cs[0]);
    zfp_stream *zs = zfp_stream_open(NULL);
    if (m->zmode == 0)
        zfp_stream_set_accuracy(zs, m->value);
    else if (m->zmode == 1)
        zfp_stream_set_rate(zs, m->value, zfp_type_double, 3, zfp_false);
    else if (m->zmode == 2)
        zfp_stream_set_precision(zs, (uint)m->value);
    else
        zfp_stream_set_reversible(zs);
    bitstream *bs = stream_open(out, decode ? n_in : cap);
    zfp_stream_set_bit_stream(zs, bs);
    zfp_stream_rewind(zs);
    size_t r = decode ? zfp_decompress(zs, f) : zfp_compress(zs, f);
    stream_close(bs);
    zfp_stream_close(zs);
    zfp_field_free(f);
    return r;
}

int main(int argc, char **argv)
{
    uint64_t cs[3] = {64, 64, 64};
    int nchunks = 32, reps = 5, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--chunk") && i + 1 < argc)
            sscanf(argv[++i], "%lu,%lu,%lu", &cs[0], &cs[1], &cs[2]);
        else if (!strcmp(argv[i], "--chunks") && i + 1 < argc)
            nchunks = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "usage: %s [--chunk X,Y,Z] [--chunks N] [--reps N] [--json]\n",
                    argv[0]);
            return 2;
        }
    }
    size_t elems = (size_t)(cs[0] * cs[1] * cs[2]), nbytes = elems * 8;
    double *data = malloc(nbytes * (size_t)nchunks), *back = malloc(nbytes);
    size_t cap = nbytes * 2 + 4096;
    unsigned char *enc = malloc(cap * (size_t)nchunks);
    size_t *lens = calloc((size_t)nchunks, sizeof *lens);
    if (!data || !back || !enc || !lens)
        return 1;
    unsigned s = 12345;
    for (int k = 0; k < nchunks; k++)
        for (size_t i = 0; i < elems; i++) {
            size_t x = i % cs[2], y = i / cs[2] % cs[1], z = i / cs[2] / cs[1] + (size_t)k * cs[0];
            s = s * 1103515245u + 12345u;
            data[(size_t)k * elems + i] = 280 + 300 * sin(0.05 * (double)x) * cos(0.07 * (double)y) +
                                          20 * sin(0.03 * (double)z) + 0.01 * ((s >> 8) / 16777216.0 - 0.5);
        }
    if (json)
        printf("{\"tool\": \"pzarr-zfp-bench\", \"pattern\": \"zfp\", \"ranks\": 1, "
               "\"title\": \"zfp inside pzarr vs libzfp alone: %d chunks of %lux%lux%lu float64, "
               "one core\", \"rows\": [",
               nchunks, cs[0], cs[1], cs[2]);
    else
        printf("pzarr-zfp-bench: %d chunks of %lux%lux%lu float64 (%.1f MiB), one core, best of "
               "%d\n  %-22s %12s %12s %12s %12s %8s %8s  %s\n",
               nchunks, cs[0], cs[1], cs[2], (double)nbytes * nchunks / 1048576.0, reps, "mode",
               "zfp enc ms", "pzarr enc ms", "zfp dec ms", "pzarr dec ms", "enc x", "dec x",
               "bytes");
    int bad_total = 0;
    double res[NMODES][4];
    for (size_t mi = 0; mi < NMODES; mi++) {
        const mode *m = &modes[mi];
        char doc[512];
        snprintf(doc, sizeof doc, "[{\"name\": \"zfp\", \"configuration\": %s}]", m->v3_config);
        cJSON *codecs = cJSON_Parse(doc);
        pz_pipeline pl;
        pz_shard_spec sh;
        pz_err e;
        pz_err_clear(&e);
        if (pz_codecs_parse_v3(codecs, 3, PZARR_FLOAT64, cs, &pl, &sh, &e) != 0) {
            fprintf(stderr, "%s: %s\n", m->name, e.msg);
            return 1;
        }
        cJSON_Delete(codecs);
        double best[4] = {1e300, 1e300, 1e300, 1e300};
        pz_buf out = {0};
        int bad = 0;
        for (int r = 0; r < reps; r++) {
            double t0 = now();
            for (int k = 0; k < nchunks; k++)
                lens[k] = zfp_alone(m, data + (size_t)k * elems, cs, enc + (size_t)k * cap, cap,
                                    0, 0);
            double t1 = now();
            for (int k = 0; k < nchunks; k++) {
                pz_chunk_encode(&pl, 3, cs, PZARR_FLOAT64, data + (size_t)k * elems, &out, &e);
                if (r == 0 && (out.size != lens[k] ||
                               memcmp(out.data, enc + (size_t)k * cap, out.size) != 0))
                    bad++;
            }
            double t2 = now();
            for (int k = 0; k < nchunks; k++)
                zfp_alone(m, back, cs, enc + (size_t)k * cap, cap, 1, lens[k]);
            double t3 = now();
            for (int k = 0; k < nchunks; k++)
                if (pz_chunk_decode(&pl, 3, cs, PZARR_FLOAT64, enc + (size_t)k * cap, lens[k],
                                    back, &e) != 0)
                    bad++;
            double t4 = now();
            double t[4] = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
            for (int i = 0; i < 4; i++)
                best[i] = t[i] < best[i] ? t[i] : best[i];
        }
        size_t total = 0;
        for (int k = 0; k < nchunks; k++)
            total += lens[k];
        pz_buf_free(&out);
        bad_total += bad;
        double ex = best[0] / best[1], dx = best[2] / best[3];
        for (int i = 0; i < 4; i++)
            res[mi][i] = best[i];
        if (!json)
            printf("  %-22s %12.2f %12.2f %12.2f %12.2f %8.2f %8.2f  %zu%s\n", m->name,
                   best[0] * 1e3, best[1] * 1e3, best[2] * 1e3, best[3] * 1e3, ex, dx, total,
                   bad ? " (BYTES DIFFER)" : "");
    }
    if (json) {
        static const char *const what[4] = {"libzfp encode", "pzarr encode", "libzfp decode",
                                            "pzarr decode"};
        double gb = (double)nbytes * nchunks / 1e9;
        int first = 1;
        for (size_t mi = 0; mi < NMODES; mi++)
            for (int i = 0; i < 4; i++) {
                printf("%s{\"name\": \"%s: %s\", \"best_s\": %.6f, \"median_s\": %.6f, "
                       "\"gbps\": %.4f}",
                       first ? "" : ", ", modes[mi].name, what[i], res[mi][i], res[mi][i],
                       gb / res[mi][i]);
                first = 0;
            }
        printf("], \"metrics\": {\"same_bytes\": \"%s\"", bad_total ? "no" : "yes");
        for (size_t mi = 0; mi < NMODES; mi++)
            printf(", \"%s encode pzarr/libzfp\": %.3f, \"%s decode pzarr/libzfp\": %.3f",
                   modes[mi].name, res[mi][0] / res[mi][1], modes[mi].name,
                   res[mi][2] / res[mi][3]);
        printf("}}\n");
    }
    free(data);
    free(back);
    free(enc);
    free(lens);
    return bad_total ? 1 : 0;
}
