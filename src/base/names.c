/* Node names (checked against escaping the store), paths and chunk keys. */
#include "base.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int pz_name_check(const char *name, char *out, size_t cap, pz_err *e)
{
    if (!name)
        return pz_err_set(e, PZARR_EPATH, "node name is NULL");
    size_t len = strlen(name);
    if (len >= cap)
        return pz_err_set(e, PZARR_EPATH, "node name is too long (%zu bytes)", len);
    if (name[0] == '/')
        return pz_err_set(e, PZARR_EPATH,
                          "node name \"%s\" is absolute; names are relative to the store",
                          name);
    if (len && name[len - 1] == '/')
        len--;
    const char *p = name, *end = name + len;
    while (p < end) {
        const char *q = memchr(p, '/', (size_t)(end - p));
        size_t seg = q ? (size_t)(q - p) : (size_t)(end - p);
        if (seg == 0)
            return pz_err_set(e, PZARR_EPATH, "node name \"%s\" has an empty segment", name);
        if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.'))
            return pz_err_set(e, PZARR_EPATH,
                              "node name \"%s\" has a \"%.*s\" segment that escapes the store",
                              name, (int)seg, p);
        for (size_t i = 0; i < seg; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == '\\' || c < 0x20)
                return pz_err_set(e, PZARR_EPATH,
                                  "node name \"%s\" contains a forbidden character", name);
        }
        if (seg >= 2 && p[0] == '_' && p[1] == '_')
            return pz_err_set(e, PZARR_EPATH,
                              "node name \"%s\": segments starting with \"__\" are reserved",
                              name);
        p += seg + (q ? 1 : 0);
    }
    if (len && name[len - 1] == '/')
        return pz_err_set(e, PZARR_EPATH, "node name \"%s\" has an empty segment", name);
    memcpy(out, name, len);
    out[len] = '\0';
    return 0;
}

char *pz_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = pz_malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    size_t o = la;
    if (la && lb && a[la - 1] != '/')
        p[o++] = '/';
    memcpy(p + o, b, lb + 1);
    return p;
}

int pz_chunk_key(bool prefix, char sep, int ndim, const uint64_t *cc, char *out, size_t cap)
{
    if (!out || cap == 0 || ndim < 0 || ndim > PZ_MAX_NDIM || (ndim > 0 && !cc))
        return PZARR_EINVAL;
    char sp[2] = {sep, '\0'};
    size_t pos = 0;
    int n = snprintf(out, cap, "%s", prefix ? "c" : ndim == 0 ? "0" : "");
    for (int d = 0; n >= 0 && (size_t)n < cap - pos && d < ndim; d++) {
        pos += (size_t)n;
        n = snprintf(out + pos, cap - pos, "%s%" PRIu64, d == 0 && !prefix ? "" : sp, cc[d]);
    }
    if (n < 0 || (size_t)n >= cap - pos) {
        out[0] = '\0';
        return PZARR_EINVAL;
    }
    return 0;
}
