/*
 * Fuzz target: node names and chunk keys. The input as a node name: a name
 * that passes has no empty, "." or ".." segment, no backslash, no control
 * character and no leading "/". Its bytes as chunk coordinates: keys are
 * written in full or refused, never cut or overrun.
 */
#include "format/format.h"

#include <stdlib.h>
#include <string.h>

static void check_name(const char *name)
{
    char canon[PZ_NAME_MAX];
    pz_err e;
    if (pz_name_check(name, canon, sizeof canon, &e) != 0)
        return;
    if (canon[0] == '/' || strstr(canon, "//") || strchr(canon, '\\'))
        abort();
    const char *seg = canon;
    while (*seg) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)seg[i] < 0x20)
                abort();
        seg += n + (seg[n] == '/');
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *name = malloc(size + 1);
    memcpy(name, data, size);
    name[size] = '\0';
    check_name(name);
    free(name);
    if (size < 2)
        return 0;
    int ndim = data[0] % (PZ_MAX_NDIM + 1);
    uint64_t cc[PZ_MAX_NDIM] = {0};
    for (size_t i = 2; i < size; i++)
        cc[(i - 2) / 8 % PZ_MAX_NDIM] = cc[(i - 2) / 8 % PZ_MAX_NDIM] << 8 | data[i];
    size_t cap = data[1] % 64 + 1;
    char *key = malloc(cap);
    if (pz_chunk_key(data[0] & 0x80, (data[1] & 0x80) ? '.' : '/', ndim, cc, key, cap) == 0 &&
        strlen(key) >= cap)
        abort();
    free(key);
    return 0;
}
