/*
 * Fuzz target: chunk decoding through every codec. Input: a pipeline number,
 * a data type, a rank (0-3) and as many dimensions (1-16 each), then the
 * encoded bytes. A chunk that decodes must encode and decode to itself.
 */
#include "format/format.h"

#include <stdlib.h>
#include <string.h>

static const char *const PIPELINES[] = {
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"big\"}}]",
    "[{\"name\":\"transpose\",\"configuration\":{\"order\":\"F\"}},"
    "{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"blosc\","
    "\"configuration\":{\"cname\":\"lz4\",\"clevel\":5,\"shuffle\":\"shuffle\"}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","
    "\"configuration\":{\"level\":1,\"checksum\":false}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"gzip\","
    "\"configuration\":{\"level\":1}}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"crc32c\"}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"zstd\","
    "\"configuration\":{\"level\":1,\"checksum\":true}},{\"name\":\"crc32c\"}]",
    "[{\"name\":\"bytes\",\"configuration\":{\"endian\":\"little\"}},{\"name\":\"blosc\","
    "\"configuration\":{\"cname\":\"zstd\",\"clevel\":3,\"shuffle\":\"bitshuffle\"}}]",
};
#define NPIPES (sizeof PIPELINES / sizeof PIPELINES[0])

/* Pipeline NPIPES: the v2 zlib compressor. */
static int pipeline(unsigned k, int ndim, pzarr_dtype t, pz_pipeline *p)
{
    pz_err e;
    if (k == NPIPES) {
        cJSON *z = cJSON_Parse("{\"id\":\"zlib\",\"level\":1}");
        int rc = pz_pipeline_from_v2(z, NULL, false, false, ndim, t, p, &e);
        cJSON_Delete(z);
        return rc;
    }
    cJSON *j = cJSON_Parse(PIPELINES[k]);
    int rc = pz_pipeline_parse_v3(j, ndim, t, p, &e);
    cJSON_Delete(j);
    return rc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 3)
        return 0;
    unsigned k = data[0] % (NPIPES + 1);
    pzarr_dtype t = (pzarr_dtype)(data[1] % 14);
    int ndim = data[2] % 4;
    if (size < 3 + (size_t)ndim)
        return 0;
    uint64_t shape[PZ_MAX_NDIM], n = 1;
    for (int d = 0; d < ndim; d++) {
        shape[d] = data[3 + d] % 16 + 1;
        n *= shape[d];
    }
    const unsigned char *in = data + 3 + ndim;
    size_t inlen = size - 3 - (size_t)ndim;
    pz_pipeline p;
    if (pipeline(k, ndim, t, &p) != 0)
        return 0;
    size_t bytes = (size_t)n * pzarr_dtype_size(t);
    unsigned char *chunk = malloc(bytes), *again = malloc(bytes);
    pz_err e;
    if (pz_chunk_decode(&p, ndim, shape, t, in, inlen, chunk, &e) == 0) {
        pz_buf enc = {0};
        if (pz_chunk_encode(&p, ndim, shape, t, chunk, &enc, &e) != 0 ||
            pz_chunk_decode(&p, ndim, shape, t, enc.data, enc.size, again, &e) != 0 ||
            memcmp(chunk, again, bytes) != 0)
            abort();
        pz_buf_free(&enc);
    }
    free(chunk);
    free(again);
    return 0;
}
