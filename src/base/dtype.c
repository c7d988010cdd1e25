/* Data types: sizes, Zarr v3 names, numpy-style v2 dtype strings, byte order. */
#include "base.h"

#include <stdio.h>
#include <string.h>

typedef struct dtype_desc {
    pzarr_dtype t;
    const char *v3_name;
    char kind; /* numpy kind letter of the v2 dtype string */
    size_t size;
} dtype_desc;

static const dtype_desc dtypes[] = {
    {PZARR_BOOL, "bool", 'b', 1},          {PZARR_INT8, "int8", 'i', 1},
    {PZARR_INT16, "int16", 'i', 2},        {PZARR_INT32, "int32", 'i', 4},
    {PZARR_INT64, "int64", 'i', 8},        {PZARR_UINT8, "uint8", 'u', 1},
    {PZARR_UINT16, "uint16", 'u', 2},      {PZARR_UINT32, "uint32", 'u', 4},
    {PZARR_UINT64, "uint64", 'u', 8},      {PZARR_FLOAT16, "float16", 'f', 2},
    {PZARR_FLOAT32, "float32", 'f', 4},    {PZARR_FLOAT64, "float64", 'f', 8},
    {PZARR_COMPLEX64, "complex64", 'c', 8}, {PZARR_COMPLEX128, "complex128", 'c', 16},
};

#define NDTYPES (sizeof dtypes / sizeof dtypes[0])

static const dtype_desc *desc_of(pzarr_dtype t)
{
    for (size_t i = 0; i < NDTYPES; i++)
        if (dtypes[i].t == t)
            return &dtypes[i];
    return NULL;
}

char pz_dtype_string_kind(pzarr_dtype t)
{
    unsigned v = (unsigned)t, n = v & 0xfffff;
    if ((v & ~0xfffffu) == 0x100000u && n >= 1 && n <= PZARR_STRING_MAX)
        return 'S';
    if ((v & ~0xfffffu) == 0x200000u && n >= 1 && n <= PZARR_STRING_MAX / 4)
        return 'U';
    return 0;
}

size_t pz_dtype_string_length(pzarr_dtype t)
{
    return pz_dtype_string_kind(t) ? ((unsigned)t & 0xfffff) : 0;
}

size_t pzarr_dtype_size(pzarr_dtype t)
{
    char k = pz_dtype_string_kind(t);
    if (k)
        return pz_dtype_string_length(t) * (k == 'U' ? 4 : 1);
    const dtype_desc *d = desc_of(t);
    return d ? d->size : 0;
}

const char *pzarr_dtype_name(pzarr_dtype t)
{
    char k = pz_dtype_string_kind(t);
    if (k)
        return k == 'S' ? "bytes string" : "UTF-32 string";
    const dtype_desc *d = desc_of(t);
    return d ? d->v3_name : NULL;
}

int pz_dtype_from_v3(const char *name, pzarr_dtype *t)
{
    if (!name)
        return PZARR_EINVAL;
    for (size_t i = 0; i < NDTYPES; i++) {
        if (strcmp(dtypes[i].v3_name, name) == 0) {
            *t = dtypes[i].t;
            return 0;
        }
    }
    return PZARR_EUNSUPPORTED;
}

/* Reads the decimal item size after the kind letter; false unless the rest
 * of the string is 1-3 digits. */
static bool parse_v2_size(const char *s, size_t *size)
{
    size_t n = 0, v = 0;
    for (; s[n] >= '0' && s[n] <= '9'; n++)
        v = v * 10 + (size_t)(s[n] - '0');
    if (n == 0 || n > 3 || s[n] != '\0')
        return false;
    *size = v;
    return true;
}

/*
 * A numpy dtype string is a byte order ('<', '>', '|'), a kind letter and
 * an item size. Well-formed strings of kinds pzarr lacks ("|S7", "<U13",
 * "|O", "<M8[ns]") are PZARR_EUNSUPPORTED; anything else malformed is
 * PZARR_EMETA.
 */
int pz_dtype_from_v2(const char *s, pzarr_dtype *t, bool *big_endian)
{
    if (!s || (s[0] != '<' && s[0] != '>' && s[0] != '|'))
        return PZARR_EMETA;
    if (s[1] < 'A' || (s[1] > 'Z' && s[1] < 'a') || s[1] > 'z')
        return PZARR_EMETA;
    size_t size;
    if (s[1] == 'S' || s[1] == 'U') { /* fixed-length strings */
        size_t n = 0, v = 0;
        for (; s[2 + n] >= '0' && s[2 + n] <= '9' && n < 6; n++)
            v = v * 10 + (size_t)(s[2 + n] - '0');
        if (n == 0 || s[2 + n] != '\0' || v == 0)
            return PZARR_EMETA;
        if ((s[1] == 'S' && s[0] == '>') || v * (s[1] == 'U' ? 4 : 1) > PZARR_STRING_MAX)
            return PZARR_EUNSUPPORTED;
        *t = s[1] == 'S' ? PZARR_STRING_BYTES(v) : PZARR_STRING_UTF32(v);
        *big_endian = s[1] == 'U' && s[0] == '>';
        return 0;
    }
    if (!strchr("biufc", s[1]))
        return PZARR_EUNSUPPORTED;
    if (!parse_v2_size(s + 2, &size))
        return PZARR_EMETA;
    for (size_t i = 0; i < NDTYPES; i++) {
        if (dtypes[i].kind != s[1] || dtypes[i].size != size)
            continue;
        if (size > 1 && s[0] == '|')
            return PZARR_EMETA;
        *t = dtypes[i].t;
        *big_endian = size > 1 && s[0] == '>';
        return 0;
    }
    return PZARR_EUNSUPPORTED;
}

void pz_dtype_to_v2(pzarr_dtype t, bool big_endian, char out[8])
{
    char k = pz_dtype_string_kind(t);
    if (k) {
        snprintf(out, 8, "%c%c%u", k == 'S' ? '|' : big_endian ? '>' : '<', k,
                 (unsigned)pz_dtype_string_length(t));
        return;
    }
    const dtype_desc *d = desc_of(t);
    if (!d) {
        out[0] = '\0';
        return;
    }
    char order = d->size == 1 ? '|' : big_endian ? '>' : '<';
    snprintf(out, 8, "%c%c%u", order, d->kind, (unsigned)d->size);
}

bool pz_dtype_is_int(pzarr_dtype t)
{
    return t >= PZARR_INT8 && t <= PZARR_UINT64;
}

bool pz_dtype_is_signed(pzarr_dtype t)
{
    return t >= PZARR_INT8 && t <= PZARR_INT64;
}

bool pz_dtype_is_float(pzarr_dtype t)
{
    return t >= PZARR_FLOAT16 && t <= PZARR_COMPLEX128;
}

size_t pz_dtype_component(pzarr_dtype t)
{
    size_t size = pzarr_dtype_size(t);
    return (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128) ? size / 2 : size;
}

bool pz_float_is_nan(const unsigned char *p, size_t w)
{
    if (w == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return (v & 0x7c00) == 0x7c00 && (v & 0x03ff);
    }
    if (w == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return (v & 0x7f800000u) == 0x7f800000u && (v & 0x007fffffu);
    }
    uint64_t v;
    memcpy(&v, p, 8);
    return (v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull &&
           (v & 0x000fffffffffffffull);
}

bool pz_host_big_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 0;
}

static void swap_bytes(unsigned char *p, size_t w)
{
    for (size_t i = 0, j = w - 1; i < j; i++, j--) {
        unsigned char t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

void pz_byteswap(void *buf, uint64_t n, size_t itemsize, pzarr_dtype t)
{
    size_t w = itemsize;
    if (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128) {
        w = itemsize / 2;
        n *= 2;
    }
    char k = pz_dtype_string_kind(t);
    if (k == 'S')
        return; /* bytes have no order */
    if (k == 'U') { /* each UTF-32 code unit */
        n *= pz_dtype_string_length(t);
        w = 4;
    }
    if (w < 2)
        return;
    unsigned char *p = buf;
    for (uint64_t i = 0; i < n; i++)
        swap_bytes(p + i * w, w);
}
