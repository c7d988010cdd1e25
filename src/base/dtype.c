/* Data types: sizes, Zarr v3 names, numpy-style v2 dtype strings, byte order. */
#include "base.h"

#include <math.h>
#include <stdlib.h>
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

char pz_dtype_time_kind(pzarr_dtype t)
{
    unsigned v = (unsigned)t;
    if ((v & ~0x01FFFFFFu) != 0x40000000u)
        return 0;
    unsigned unit = (v >> 20) & 0xF, scale = v & 0xFFFFF;
    if (unit > PZARR_TIME_GENERIC || scale == 0)
        return 0;
    return (v & 0x01000000u) ? 'm' : 'M';
}

pzarr_time_unit pz_dtype_time_unit(pzarr_dtype t)
{
    return (pzarr_time_unit)(((unsigned)t >> 20) & 0xF);
}

unsigned pz_dtype_time_scale(pzarr_dtype t)
{
    return (unsigned)t & 0xFFFFF;
}

static const char *const time_units[] = {"Y",  "M",  "W",  "D",  "h",  "m", "s",
                                         "ms", "us", "ns", "ps", "fs", "as", ""};

const char *pz_time_unit_name(pzarr_time_unit u)
{
    return (unsigned)u <= PZARR_TIME_GENERIC ? time_units[u] : "?";
}

int pz_time_unit_from(const char *s, size_t n)
{
    for (int u = 0; u < PZARR_TIME_GENERIC; u++)
        if (strlen(time_units[u]) == n && memcmp(time_units[u], s, n) == 0)
            return u;
    if (n == 3 && memcmp(s, "\xce\xbcs", 3) == 0) /* "μs", as NumPy also takes it */
        return PZARR_TIME_us;
    return -1;
}

size_t pzarr_dtype_size(pzarr_dtype t)
{
    if (pz_dtype_time_kind(t))
        return 8;
    char k = pz_dtype_string_kind(t);
    if (k)
        return pz_dtype_string_length(t) * (k == 'U' ? 4 : 1);
    const dtype_desc *d = desc_of(t);
    return d ? d->size : 0;
}

bool pz_dtype_is_vlen(pzarr_dtype t)
{
    return t == PZARR_VLEN_STRING || t == PZARR_VLEN_BYTES;
}

size_t pz_dtype_slot(pzarr_dtype t)
{
    return pz_dtype_is_vlen(t) ? PZ_VLEN_SLOT : pzarr_dtype_size(t);
}

const char *pzarr_dtype_name(pzarr_dtype t)
{
    if (t == PZARR_VLEN_STRING)
        return "string";
    if (t == PZARR_VLEN_BYTES)
        return "variable_length_bytes";
    char tk = pz_dtype_time_kind(t);
    if (tk)
        return tk == 'M' ? "numpy.datetime64" : "numpy.timedelta64";
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
    if (strcmp(name, "string") == 0) {
        *t = PZARR_VLEN_STRING;
        return 0;
    }
    /* zarr-python 3 writes "variable_length_bytes"; zarr-extensions names
     * the same type "bytes" */
    if (strcmp(name, "variable_length_bytes") == 0 || strcmp(name, "bytes") == 0) {
        *t = PZARR_VLEN_BYTES;
        return 0;
    }
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
    if (strcmp(s, "|O") == 0) { /* object: the filter says which (meta.c) */
        *t = PZARR_VLEN_BYTES;
        *big_endian = false;
        return 0;
    }
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
    if (s[1] == 'M' || s[1] == 'm') { /* "<M8[10s]", "<m8[ns]", "<M8" */
        if (s[0] == '|' || s[2] != '8')
            return PZARR_EMETA;
        const char *q = s + 3;
        unsigned long scale = 1;
        int unit = PZARR_TIME_GENERIC;
        if (*q == '[') {
            q++;
            if (*q >= '0' && *q <= '9') {
                char *end;
                scale = strtoul(q, &end, 10);
                q = end;
            }
            const char *close = strchr(q, ']');
            if (!close || close[1] != '\0')
                return PZARR_EMETA;
            unit = pz_time_unit_from(q, (size_t)(close - q));
            if (unit < 0)
                return PZARR_EMETA;
        } else if (*q != '\0') {
            return PZARR_EMETA;
        }
        if (scale == 0 || scale > PZARR_TIME_SCALE_MAX)
            return PZARR_EUNSUPPORTED;
        *t = s[1] == 'M' ? PZARR_DATETIME64(unit, scale) : PZARR_TIMEDELTA64(unit, scale);
        *big_endian = s[0] == '>';
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

void pz_dtype_to_v2(pzarr_dtype t, bool big_endian, char out[32])
{
    char tk = pz_dtype_time_kind(t);
    if (tk) {
        pzarr_time_unit u = pz_dtype_time_unit(t);
        unsigned sc = pz_dtype_time_scale(t);
        if (u == PZARR_TIME_GENERIC)
            snprintf(out, 32, "%c%c8", big_endian ? '>' : '<', tk);
        else if (sc == 1)
            snprintf(out, 32, "%c%c8[%s]", big_endian ? '>' : '<', tk, pz_time_unit_name(u));
        else
            snprintf(out, 32, "%c%c8[%u%s]", big_endian ? '>' : '<', tk, sc,
                     pz_time_unit_name(u));
        return;
    }
    if (pz_dtype_is_vlen(t)) {
        snprintf(out, 32, "|O");
        return;
    }
    char k = pz_dtype_string_kind(t);
    if (k) {
        snprintf(out, 32, "%c%c%u", k == 'S' ? '|' : big_endian ? '>' : '<', k,
                 (unsigned)pz_dtype_string_length(t));
        return;
    }
    const dtype_desc *d = desc_of(t);
    if (!d) {
        out[0] = '\0';
        return;
    }
    char order = d->size == 1 ? '|' : big_endian ? '>' : '<';
    snprintf(out, 32, "%c%c%u", order, d->kind, (unsigned)d->size);
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

/* ------------------------------------------------------------ conversion */

/* IEEE half <-> float, exact both ways for every half (rounding to nearest
 * even on the way in). */
static double half_to_double(uint16_t h)
{
    int exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp((double)man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexp((double)(man | 0x400), exp - 25);
    return (h & 0x8000) ? -v : v;
}

static uint16_t double_to_half(double v)
{
    uint16_t sign = signbit(v) ? 0x8000 : 0;
    if (isnan(v))
        return 0x7e00;
    v = fabs(v);
    if (v >= 65520.0) /* rounds past the largest half */
        return sign | 0x7c00;
    if (v < ldexp(1.0, -25)) /* below half the smallest subnormal (ties to 0) */
        return sign;
    int e;
    double f = frexp(v, &e); /* v = f * 2^e, f in [0.5, 1) */
    int exp = e + 14;        /* biased exponent of the normal form */
    double scaled;
    if (exp <= 0) /* subnormal: units of 2^-24 */
        scaled = ldexp(v, 24);
    else
        scaled = ldexp(f, 11); /* 1.xxx * 2^10: the 11 significant bits */
    double r = nearbyint(scaled);   /* the FPU's mode: to nearest even */
    uint32_t m = (uint32_t)r;
    if (exp <= 0)
        return (uint16_t)(sign | m); /* m == 0x400 becomes the smallest normal */
    if (m == 0x800) {                /* rounded up to the next power of two */
        m = 0x400;
        exp++;
    }
    if (exp >= 31)
        return sign | 0x7c00;
    return (uint16_t)(sign | (uint32_t)exp << 10 | (m & 0x3ff));
}

typedef struct cvalue {
    double re, im; /* floats and complex */
    int64_t i;     /* signed integers */
    uint64_t u;    /* unsigned integers and bool */
    int kind;      /* 'f', 'i', 'u' */
} cvalue;

static cvalue load_value(pzarr_dtype t, const unsigned char *p)
{
    cvalue v = {0};
    switch (t) {
    case PZARR_BOOL: v.kind = 'u'; v.u = p[0] != 0; break;
    case PZARR_INT8: { int8_t x; memcpy(&x, p, 1); v.kind = 'i'; v.i = x; break; }
    case PZARR_INT16: { int16_t x; memcpy(&x, p, 2); v.kind = 'i'; v.i = x; break; }
    case PZARR_INT32: { int32_t x; memcpy(&x, p, 4); v.kind = 'i'; v.i = x; break; }
    case PZARR_INT64: { int64_t x; memcpy(&x, p, 8); v.kind = 'i'; v.i = x; break; }
    case PZARR_UINT8: v.kind = 'u'; v.u = p[0]; break;
    case PZARR_UINT16: { uint16_t x; memcpy(&x, p, 2); v.kind = 'u'; v.u = x; break; }
    case PZARR_UINT32: { uint32_t x; memcpy(&x, p, 4); v.kind = 'u'; v.u = x; break; }
    case PZARR_UINT64: { uint64_t x; memcpy(&x, p, 8); v.kind = 'u'; v.u = x; break; }
    case PZARR_FLOAT16: { uint16_t x; memcpy(&x, p, 2); v.kind = 'f'; v.re = half_to_double(x); break; }
    case PZARR_FLOAT32: { float x; memcpy(&x, p, 4); v.kind = 'f'; v.re = x; break; }
    case PZARR_FLOAT64: { double x; memcpy(&x, p, 8); v.kind = 'f'; v.re = x; break; }
    case PZARR_COMPLEX64: { float x[2]; memcpy(x, p, 8); v.kind = 'f'; v.re = x[0]; v.im = x[1]; break; }
    case PZARR_COMPLEX128: { double x[2]; memcpy(x, p, 16); v.kind = 'f'; v.re = x[0]; v.im = x[1]; break; }
    default: break;
    }
    return v;
}

/* An integer of [lo, hi] from any value: floats truncated toward zero and
 * clamped, NaN 0. */
static int64_t as_signed(cvalue v, int64_t lo, int64_t hi)
{
    if (v.kind == 'f') {
        if (isnan(v.re))
            return 0;
        double t = trunc(v.re);
        return t <= (double)lo ? lo : t >= (double)hi ? hi : (int64_t)t;
    }
    if (v.kind == 'u')
        return v.u > (uint64_t)hi ? hi : (int64_t)v.u;
    return v.i < lo ? lo : v.i > hi ? hi : v.i;
}

static uint64_t as_unsigned(cvalue v, uint64_t hi)
{
    if (v.kind == 'f') {
        if (isnan(v.re) || v.re <= 0)
            return 0;
        double t = trunc(v.re);
        return t >= (double)hi ? hi : (uint64_t)t;
    }
    if (v.kind == 'i')
        return v.i < 0 ? 0 : (uint64_t)v.i > hi ? hi : (uint64_t)v.i;
    return v.u > hi ? hi : v.u;
}

static double as_double(cvalue v)
{
    return v.kind == 'f' ? v.re : v.kind == 'i' ? (double)v.i : (double)v.u;
}

static void store_value(pzarr_dtype t, cvalue v, unsigned char *p)
{
    switch (t) {
    case PZARR_BOOL: p[0] = v.kind == 'f' ? (v.re != 0 || v.im != 0) : v.kind == 'i' ? v.i != 0 : v.u != 0; break;
    case PZARR_INT8: { int8_t x = (int8_t)as_signed(v, INT8_MIN, INT8_MAX); memcpy(p, &x, 1); break; }
    case PZARR_INT16: { int16_t x = (int16_t)as_signed(v, INT16_MIN, INT16_MAX); memcpy(p, &x, 2); break; }
    case PZARR_INT32: { int32_t x = (int32_t)as_signed(v, INT32_MIN, INT32_MAX); memcpy(p, &x, 4); break; }
    case PZARR_INT64: { int64_t x = as_signed(v, INT64_MIN, INT64_MAX); memcpy(p, &x, 8); break; }
    case PZARR_UINT8: p[0] = (uint8_t)as_unsigned(v, UINT8_MAX); break;
    case PZARR_UINT16: { uint16_t x = (uint16_t)as_unsigned(v, UINT16_MAX); memcpy(p, &x, 2); break; }
    case PZARR_UINT32: { uint32_t x = (uint32_t)as_unsigned(v, UINT32_MAX); memcpy(p, &x, 4); break; }
    case PZARR_UINT64: { uint64_t x = as_unsigned(v, UINT64_MAX); memcpy(p, &x, 8); break; }
    case PZARR_FLOAT16: { uint16_t x = double_to_half(as_double(v)); memcpy(p, &x, 2); break; }
    case PZARR_FLOAT32: { float x = (float)as_double(v); memcpy(p, &x, 4); break; }
    case PZARR_FLOAT64: { double x = as_double(v); memcpy(p, &x, 8); break; }
    case PZARR_COMPLEX64: { float x[2] = {(float)as_double(v), (float)v.im}; memcpy(p, x, 8); break; }
    case PZARR_COMPLEX128: { double x[2] = {as_double(v), v.im}; memcpy(p, x, 16); break; }
    default: break;
    }
}

bool pz_dtype_convertible(pzarr_dtype from, pzarr_dtype to)
{
    if (from == to)
        return pz_dtype_slot(from) != 0;
    bool fc = from == PZARR_COMPLEX64 || from == PZARR_COMPLEX128;
    bool tc = to == PZARR_COMPLEX64 || to == PZARR_COMPLEX128;
    return desc_of(from) && desc_of(to) && (!fc || tc);
}

void pz_dtype_convert(pzarr_dtype from, const void *in, pzarr_dtype to, void *out, uint64_t n)
{
    size_t fs = pzarr_dtype_size(from), ts = pzarr_dtype_size(to);
    const unsigned char *p = in;
    unsigned char *q = out;
    if (from == to) {
        memmove(out, in, (size_t)n * fs);
        return;
    }
    if (from == PZARR_FLOAT64 && to == PZARR_FLOAT32) { /* the common case */
        for (uint64_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, p + i * 8, 8);
            float f = (float)d;
            memcpy(q + i * 4, &f, 4);
        }
        return;
    }
    for (uint64_t i = 0; i < n; i++)
        store_value(to, load_value(from, p + i * fs), q + i * ts);
}
