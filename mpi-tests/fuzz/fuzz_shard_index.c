/*
 * Fuzz target: the shard index decoder. Input: inner chunks per shard
 * (1-64), flags (crc32c, index at start, big endian), the file size's low
 * bytes, then the raw index. Entries that pass must lie inside the data
 * part of the file and not overlap; re-encoding them gives the same bytes.
 */
#include "format/format.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 4)
        return 0;
    pz_shard_spec sh;
    memset(&sh, 0, sizeof sh);
    sh.on = true;
    sh.ninner = data[0] % 64 + 1;
    sh.index_crc = data[1] & 1;
    sh.index_at_start = data[1] & 2;
    sh.index_big = data[1] & 4;
    uint64_t ib = pz_shard_index_bytes(&sh);
    uint64_t file_size = ib + (uint64_t)data[2] * 256 + data[3];
    if (size - 4 < ib)
        return 0;
    const unsigned char *raw = data + 4;
    uint64_t *entries = malloc((size_t)(2 * sh.ninner) * sizeof *entries);
    pz_err e;
    if (pz_shard_index_decode(&sh, raw, file_size, "fuzz", entries, &e) == 0) {
        uint64_t lo = sh.index_at_start ? ib : 0, hi = sh.index_at_start ? file_size : file_size - ib;
        for (uint64_t i = 0; i < sh.ninner; i++) {
            uint64_t off = entries[2 * i], len = entries[2 * i + 1];
            if (off == PZ_SHARD_EMPTY && len == PZ_SHARD_EMPTY)
                continue;
            if (off < lo || off > hi || len > hi - off)
                abort();
        }
        unsigned char *out = malloc((size_t)ib);
        pz_shard_index_encode(&sh, entries, out);
        if (memcmp(out, raw, (size_t)ib) != 0)
            abort();
        free(out);
    }
    free(entries);
    return 0;
}
