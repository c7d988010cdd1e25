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

/* Appends the decimal digits of v at out[*pos], if they fit before cap. */
static bool put_u64(char *out, size_t cap, size_t *pos, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if ((size_t)n >= cap - *pos)
        return false;
    while (n)
        out[(*pos)++] = tmp[--n];
    return true;
}

/* Formatted by hand, not with snprintf: one key per chunk read or written,
 * and the small-file read is held against a bare open+pread+close loop. */
int pz_chunk_key(bool prefix, char sep, int ndim, const uint64_t *cc, char *out, size_t cap)
{
    if (!out || cap == 0 || ndim < 0 || ndim > PZ_MAX_NDIM || (ndim > 0 && !cc))
        return PZARR_EINVAL;
    size_t pos = 0;
    bool ok = true;
    if (prefix || ndim == 0) {
        ok = cap > 1;
        if (ok)
            out[pos++] = prefix ? 'c' : '0';
    }
    for (int d = 0; ok && d < ndim; d++) {
        if (d > 0 || prefix) {
            ok = cap - pos > 1;
            if (ok)
                out[pos++] = sep;
        }
        ok = ok && put_u64(out, cap, &pos, cc[d]);
    }
    if (!ok) {
        out[0] = '\0';
        return PZARR_EINVAL;
    }
    out[pos] = '\0';
    return 0;
}
