/*
 * Fuzz target: the v2 and v3 metadata parsers. Input: one byte choosing the
 * format (2, 3, or either from the document), then the document; for v2 a
 * NUL byte may separate .zarray from .zattrs. Whatever parses must emit a
 * document that parses again to the same array.
 */
#include "format/format.h"

#include <stdlib.h>
#include <string.h>

static void roundtrip(const pz_meta *m)
{
    char *doc = pz_meta_emit(m);
    if (!doc)
        return;
    pz_meta again;
    pz_err e;
    memset(&again, 0, sizeof again);
    if (pz_meta_parse_format(m->zarr_format, doc, strlen(doc), NULL, 0, &again, &e) != 0)
        abort(); /* what pzarr writes, pzarr must read */
    if (again.ndim != m->ndim || again.dtype != m->dtype ||
        memcmp(again.shape, m->shape, sizeof m->shape) != 0 ||
        memcmp(again.chunks, m->chunks, sizeof m->chunks) != 0 ||
        memcmp(again.fill, m->fill, sizeof m->fill) != 0)
        abort();
    pz_meta_free(&again);
    pz_free(doc);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    int fmt = data[0] % 3 == 0 ? 0 : data[0] % 3 + 1; /* 0: either */
    const char *doc = (const char *)data + 1;
    size_t len = size - 1, alen = 0;
    const char *attrs = NULL;
    const char *nul = memchr(doc, '\0', len);
    if (fmt == 2 && nul) {
        attrs = nul + 1;
        alen = len - (size_t)(attrs - doc);
        len = (size_t)(nul - doc);
    }
    pz_meta m;
    pz_err e;
    memset(&m, 0, sizeof m);
    int rc = fmt ? pz_meta_parse_format(fmt, doc, len, attrs, alen, &m, &e)
                 : pz_meta_parse(doc, len, NULL, 0, &m, &e);
    if (rc == 0)
        roundtrip(&m);
    pz_meta_free(&m);
    return 0;
}
