/*
 * Fill values: the JSON forms of Zarr v2 and v3 (numbers, "NaN",
 * "Infinity", "-Infinity", "0x" bit patterns, [re, im], null) <-> the
 * element's native bytes. float16 conversions round to nearest even.
 */
#include "format.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_INT_MAX 9007199254740992.0 /* 2^53 */

/* ------------------------------------------------------------ float16 */

/* sig >> shift, rounded to nearest, ties to even; 1 <= shift <= 63. */
static uint64_t shift_round_even(uint64_t sig, int shift)
{
    uint64_t q = sig >> shift;
    uint64_t r = sig & ((UINT64_C(1) << shift) - 1);
    uint64_t half = UINT64_C(1) << (shift - 1);
    if (r > half || (r == half && (q & 1)))
        q++;
    return q;
}

/* IEEE binary16 bits of d, rounded to nearest even (no double rounding). */
static uint16_t half_from_double(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    uint16_t sign = (uint16_t)((b >> 48) & 0x8000);
    int exp = (int)((b >> 52) & 0x7ff);
    uint64_t mant = b & ((UINT64_C(1) << 52) - 1);
    if (exp == 0x7ff)
        return (uint16_t)(sign | (mant ? 0x7e00 : 0x7c00));
    if (exp == 0)
        return sign; /* zero or a double subnormal: far below 2^-25 */
    int e2 = exp - 1023;
    if (e2 > 15)
        return (uint16_t)(sign | 0x7c00);
    uint64_t sig = mant | (UINT64_C(1) << 52);
    if (e2 >= -14) {
        /* A carry out of the mantissa correctly bumps the exponent. */
        uint64_t q = shift_round_even(sig, 42);
        return (uint16_t)(sign | (((uint64_t)(e2 + 15) << 10) + q - 1024));
    }
    int shift = 28 - e2; /* subnormal: units of 2^-24 */
    if (shift > 63)
        return sign;
    return (uint16_t)(sign | shift_round_even(sig, shift));
}

static double half_to_double(uint16_t h)
{
    int exp = (h >> 10) & 0x1f;
    unsigned m = h & 0x3ffu;
    double v;
    if (exp == 0)
        v = ldexp((double)m, -24);
    else if (exp == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexp((double)(m + 1024), exp - 25);
    return (h & 0x8000) ? -v : v;
}

/* ------------------------------------------------------------ fill: parse */

static void store_bits(unsigned char *out, size_t size, uint64_t bits)
{
    if (size == 2) {
        uint16_t v = (uint16_t)bits;
        memcpy(out, &v, 2);
    } else if (size == 4) {
        uint32_t v = (uint32_t)bits;
        memcpy(out, &v, 4);
    } else if (size == 8) {
        memcpy(out, &bits, 8);
    } else {
        out[0] = (unsigned char)bits;
    }
}

static uint64_t load_bits(const unsigned char *p, size_t size)
{
    if (size == 2) {
        uint16_t v;
        memcpy(&v, p, 2);
        return v;
    }
    if (size == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    if (size == 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    return p[0];
}

static uint64_t canonical_nan(size_t size)
{
    return size == 2 ? 0x7e00 : size == 4 ? 0x7fc00000 : UINT64_C(0x7ff8000000000000);
}

static const char *float_name(size_t size)
{
    return size == 2 ? "float16" : size == 4 ? "float32" : "float64";
}

/* "0x" and exactly 2*size hex digits: the big-endian bit pattern. */
static bool parse_hex_bits(const char *s, size_t size, uint64_t *bits)
{
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || strlen(s + 2) != 2 * size)
        return false;
    uint64_t v = 0;
    for (const char *p = s + 2; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return false;
        v = (v << 4) | (uint64_t)d;
    }
    *bits = v;
    return true;
}

/* Stores a finite or infinite double as a float of `size` bytes. */
static int store_float(double d, size_t size, unsigned char *out, pz_err *e)
{
    if (size == 8) {
        memcpy(out, &d, 8);
        return 0;
    }
    if (size == 4) {
        /* Values up to half an ulp past FLT_MAX round to FLT_MAX. */
        const double lim = (double)FLT_MAX + ldexp(1.0, 103);
        if (isfinite(d) && fabs(d) >= lim)
            return pz_err_set(e, PZARR_EMETA,
                              "\"fill_value\" %g is out of range for float32",
                              d);
        float f = fabs(d) > FLT_MAX && isfinite(d)
                      ? (d > 0 ? FLT_MAX : -FLT_MAX)
                      : (float)d;
        memcpy(out, &f, 4);
        return 0;
    }
    uint16_t h = half_from_double(d);
    if (isfinite(d) && (h & 0x7fff) == 0x7c00)
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" %g is out of range for float16", d);
    memcpy(out, &h, 2);
    return 0;
}

static int parse_float_string(const char *s, size_t size, int zarr_format,
                              unsigned char *out, pz_err *e)
{
    uint64_t bits;
    if (strcmp(s, "NaN") == 0) {
        store_bits(out, size, canonical_nan(size));
        return 0;
    }
    if (strcmp(s, "Infinity") == 0)
        return store_float(INFINITY, size, out, e);
    if (strcmp(s, "-Infinity") == 0)
        return store_float(-INFINITY, size, out, e);
    if (zarr_format == 3 && parse_hex_bits(s, size, &bits)) {
        store_bits(out, size, bits);
        return 0;
    }
    return pz_err_set(e, PZARR_EMETA,
                      "\"fill_value\" \"%.64s\" is not valid for %s: expected "
                      "a number, \"NaN\", \"Infinity\", \"-Infinity\"%s",
                      s, float_name(size),
                      zarr_format == 3 ? " or a hex string of the bits" : "");
}

static int parse_float_fill(const cJSON *v, size_t size, int zarr_format,
                            unsigned char *out, pz_err *e)
{
    if (cJSON_IsString(v))
        return parse_float_string(v->valuestring, size, zarr_format, out, e);
    if (!cJSON_IsNumber(v))
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" must be a number, \"NaN\", "
                          "\"Infinity\" or \"-Infinity\" for %s",
                          float_name(size));
    if (!isfinite(v->valuedouble))
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" is out of range for %s",
                          float_name(size));
    return store_float(v->valuedouble, size, out, e);
}

static void int_range(pzarr_dtype t, int64_t *lo, int64_t *hi)
{
    size_t bits = 8 * pzarr_dtype_size(t);
    if (pz_dtype_is_signed(t)) {
        *hi = bits == 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << (bits - 1)) - 1);
        *lo = -*hi - 1;
    } else {
        *lo = 0;
        *hi = bits == 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << bits) - 1);
    }
}

/* An integer fill given as exact text (past 2^53, int64 and uint64). */
static int parse_exact_int_fill(const char *text, pzarr_dtype t, unsigned char *out,
                                pz_err *e)
{
    const char *name = pzarr_dtype_name(t);
    char *end = NULL;
    errno = 0;
    uint64_t bits;
    if (t == PZARR_UINT64 && text[0] != '-') {
        bits = strtoull(text, &end, 10);
    } else if (t == PZARR_INT64) {
        bits = (uint64_t)strtoll(text, &end, 10);
    } else {
        return pz_err_set(e, PZARR_EMETA, "\"fill_value\" %.40s is out of range for %s",
                          text, name);
    }
    if (errno == ERANGE)
        return pz_err_set(e, PZARR_EMETA, "\"fill_value\" %.40s is out of range for %s",
                          text, name);
    if (!end || *end != '\0')
        return pz_err_set(e, PZARR_EMETA, "\"fill_value\" %.40s must be an integer for %s",
                          text, name);
    store_bits(out, 8, bits);
    return 0;
}

static int parse_int_fill(const cJSON *v, pzarr_dtype t, unsigned char *out,
                          pz_err *e)
{
    const char *name = pzarr_dtype_name(t);
    if (cJSON_IsRaw(v))
        return parse_exact_int_fill(v->valuestring, t, out, e);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" must be an integer for %s", name);
    double d = v->valuedouble;
    int64_t lo, hi;
    int_range(t, &lo, &hi);
    if (fabs(d) > JSON_INT_MAX) {
        if (pzarr_dtype_size(t) == 8)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "\"fill_value\" %g of %s is beyond 2^53, the "
                              "largest integer pzarr reads exactly",
                              d, name);
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" %g is out of range for %s", d, name);
    }
    int64_t i = (int64_t)d;
    if ((double)i != d)
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" %g must be an integer for %s", d,
                          name);
    if (i < lo || i > hi)
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" %" PRId64 " is out of range for %s",
                          i, name);
    store_bits(out, pzarr_dtype_size(t), (uint64_t)i);
    return 0;
}

static int parse_bool_fill(const cJSON *v, int zarr_format, unsigned char *out,
                           pz_err *e)
{
    if (cJSON_IsBool(v)) {
        out[0] = cJSON_IsTrue(v) ? 1 : 0;
        return 0;
    }
    if (zarr_format == 2 && cJSON_IsNumber(v) &&
        (v->valuedouble == 0 || v->valuedouble == 1)) {
        out[0] = v->valuedouble == 1 ? 1 : 0;
        return 0;
    }
    return pz_err_set(e, PZARR_EMETA,
                      "\"fill_value\" must be true or false for bool");
}

static int parse_complex_fill(const cJSON *v, size_t size, int zarr_format,
                              unsigned char *out, pz_err *e)
{
    size_t half = size / 2;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" must be a two-element array "
                          "[real, imag] for complex%zu",
                          8 * size);
    PZ_TRY(parse_float_fill(v->child, half, zarr_format, out, e));
    return parse_float_fill(v->child->next, half, zarr_format, out + half, e);
}

/* ------------------------------------------------------------ fill: strings */

/* zarr-python 2 writes the fill of a "|S" array in base64, of a "<U" array
 * as the text itself; 0 (its default) means the empty string. */
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

static bool b64_decode(const char *s, unsigned char *out, size_t cap, size_t *n)
{
    size_t len = strlen(s), o = 0;
    if (len % 4)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + k] == '=' && i + 4 == len && k >= 2 ? (pad++, 0) : b64_value(s[i + k]);
            if (v[k] < 0 || (pad && s[i + k] != '='))
                return false;
        }
        uint32_t w = (uint32_t)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        for (int k = 0; k < 3 - pad; k++) {
            if (o == cap)
                return false;
            out[o++] = (unsigned char)(w >> (16 - 8 * k));
        }
    }
    *n = o;
    return true;
}

/* UTF-8 to code units (host order); false for malformed text or too long. */
static bool utf8_decode(const char *s, unsigned char *out, size_t cap_units)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t u = 0;
    while (*p) {
        uint32_t c;
        int more;
        if (*p < 0x80)
            c = *p, more = 0;
        else if ((*p & 0xe0) == 0xc0)
            c = *p & 0x1f, more = 1;
        else if ((*p & 0xf0) == 0xe0)
            c = *p & 0x0f, more = 2;
        else if ((*p & 0xf8) == 0xf0)
            c = *p & 0x07, more = 3;
        else
            return false;
        p++;
        for (int k = 0; k < more; k++, p++) {
            if ((*p & 0xc0) != 0x80)
                return false;
            c = c << 6 | (*p & 0x3f);
        }
        if (u == cap_units || c > 0x10ffff)
            return false;
        memcpy(out + 4 * u++, &c, 4);
    }
    return true;
}

static int parse_string_fill(const cJSON *v, pzarr_dtype t, unsigned char *out, pz_err *e)
{
    char k = pz_dtype_string_kind(t);
    size_t n = pz_dtype_string_length(t), got = 0;
    if (cJSON_IsNumber(v) && v->valuedouble == 0)
        return 0;
    if (!cJSON_IsString(v))
        return pz_err_set(e, PZARR_EMETA, "\"fill_value\" of a %s array must be a string",
                          pzarr_dtype_name(t));
    if (k == 'S' && !b64_decode(v->valuestring, out, n, &got))
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" \"%.40s\" is not base64 of at most %zu bytes",
                          v->valuestring, n);
    if (k == 'U' && !utf8_decode(v->valuestring, out, n))
        return pz_err_set(e, PZARR_EMETA,
                          "\"fill_value\" \"%.40s\" is not UTF-8 of at most %zu characters",
                          v->valuestring, n);
    return 0;
}

static cJSON *emit_string(const unsigned char *fill, pzarr_dtype t)
{
    size_t n = pz_dtype_string_length(t);
    char text[4 * PZARR_STRING_MAX + 8];
    size_t o = 0;
    if (pz_dtype_string_kind(t) == 'S') {
        while (n > 0 && fill[n - 1] == 0)
            n--;
        for (size_t i = 0; i < n; i += 3) {
            uint32_t w = (uint32_t)fill[i] << 16 | (i + 1 < n ? (uint32_t)fill[i + 1] << 8 : 0) |
                         (i + 2 < n ? fill[i + 2] : 0);
            text[o++] = B64[w >> 18 & 63];
            text[o++] = B64[w >> 12 & 63];
            text[o++] = i + 1 < n ? B64[w >> 6 & 63] : '=';
            text[o++] = i + 2 < n ? B64[w & 63] : '=';
        }
    } else {
        uint32_t c;
        while (n > 0 && (memcpy(&c, fill + 4 * (n - 1), 4), c == 0))
            n--;
        for (size_t i = 0; i < n; i++) {
            memcpy(&c, fill + 4 * i, 4);
            if (c < 0x80)
                text[o++] = (char)c;
            else if (c < 0x800)
                text[o++] = (char)(0xc0 | c >> 6), text[o++] = (char)(0x80 | (c & 63));
            else if (c < 0x10000)
                text[o++] = (char)(0xe0 | c >> 12), text[o++] = (char)(0x80 | (c >> 6 & 63)),
                text[o++] = (char)(0x80 | (c & 63));
            else
                text[o++] = (char)(0xf0 | c >> 18), text[o++] = (char)(0x80 | (c >> 12 & 63)),
                text[o++] = (char)(0x80 | (c >> 6 & 63)), text[o++] = (char)(0x80 | (c & 63));
        }
    }
    text[o] = '\0';
    return cJSON_CreateString(text);
}

/* ------------------------------------------------------------ fill: variable length */

/* A variable-length fill value inside fill[]: its length (uint64) at 0, at
 * 8 a kind (0 a string, 1 a number that zarr-python 2 wrote for an object
 * array, kept as the double at 16 to be written back), its bytes at 24. */
#define VFILL_BYTES 24

const unsigned char *pz_fill_vlen(const unsigned char *fill, size_t *len)
{
    uint64_t n;
    memcpy(&n, fill, 8);
    *len = (size_t)n;
    return fill + VFILL_BYTES;
}

int pz_fill_set_vlen(unsigned char *fill, const void *bytes, size_t len)
{
    if (len > PZ_FILL_MAX - VFILL_BYTES)
        return PZARR_EUNSUPPORTED;
    memset(fill, 0, PZ_FILL_MAX);
    uint64_t n = len;
    memcpy(fill, &n, 8);
    if (len)
        memcpy(fill + VFILL_BYTES, bytes, len);
    return 0;
}

static int parse_vlen_fill(const cJSON *v, pzarr_dtype t, int zarr_format, unsigned char *out,
                           pz_err *e)
{
    if (cJSON_IsNumber(v) && zarr_format == 2) {
        out[8] = 1;
        memcpy(out + 16, &v->valuedouble, 8);
        return 0;
    }
    if (!cJSON_IsString(v))
        return pz_err_set(e, PZARR_EMETA, "\"fill_value\" of a %s array must be a string",
                          pzarr_dtype_name(t));
    const char *s = v->valuestring;
    size_t n = strlen(s);
    if (t == PZARR_VLEN_BYTES && zarr_format == 3) { /* base64, as zarr-python 3 writes */
        unsigned char raw[PZ_FILL_MAX];
        if (!b64_decode(s, raw, sizeof raw - VFILL_BYTES, &n))
            return pz_err_set(e, PZARR_EMETA,
                              "\"fill_value\" of a variable_length_bytes array must be "
                              "base64 of at most %d bytes",
                              PZ_FILL_MAX - VFILL_BYTES);
        return pz_fill_set_vlen(out, raw, n);
    }
    if (pz_fill_set_vlen(out, s, n) != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED, "\"fill_value\": a string of %zu bytes "
                          "(pzarr takes up to %d)", n, PZ_FILL_MAX - VFILL_BYTES);
    return 0;
}

static cJSON *emit_vlen(const unsigned char *fill, pzarr_dtype t, int zarr_format)
{
    if (fill[8] == 1 && zarr_format == 2) {
        double d;
        memcpy(&d, fill + 16, 8);
        return cJSON_CreateNumber(d);
    }
    size_t n;
    const unsigned char *b = pz_fill_vlen(fill, &n);
    char text[2 * PZ_FILL_MAX];
    if (t == PZARR_VLEN_BYTES && zarr_format == 3) {
        size_t o = 0;
        for (size_t i = 0; i < n; i += 3) {
            uint32_t w = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) |
                         (i + 2 < n ? b[i + 2] : 0);
            text[o++] = B64[w >> 18 & 63];
            text[o++] = B64[w >> 12 & 63];
            text[o++] = i + 1 < n ? B64[w >> 6 & 63] : '=';
            text[o++] = i + 2 < n ? B64[w & 63] : '=';
        }
        text[o] = '\0';
        return cJSON_CreateString(text);
    }
    memcpy(text, b, n);
    text[n] = '\0';
    return cJSON_CreateString(text);
}

int pz_fill_parse(const cJSON *v, pzarr_dtype t, int zarr_format,
                  unsigned char out[PZ_FILL_MAX], bool *is_null, pz_err *e)
{
    memset(out, 0, PZ_FILL_MAX);
    *is_null = false;
    if (pz_dtype_is_vlen(t)) {
        if (!v || cJSON_IsNull(v)) {
            if (zarr_format == 3)
                return pz_err_set(e, PZARR_EMETA, "\"fill_value\" must not be null in Zarr v3");
            *is_null = true;
            return 0;
        }
        return parse_vlen_fill(v, t, zarr_format, out, e);
    }
    size_t size = pzarr_dtype_size(t);
    if (size == 0)
        return pz_err_set(e, PZARR_EINVAL, "fill value of an unknown type");
    cJSON num; /* exact integer text kept for int64/uint64 only */
    bool time = pz_dtype_time_kind(t) != 0;
    if (cJSON_IsRaw(v) && t != PZARR_INT64 && t != PZARR_UINT64 && !time) {
        memset(&num, 0, sizeof num);
        num.type = cJSON_Number;
        num.valuedouble = strtod(v->valuestring, NULL);
        v = &num;
    }
    if (!v || cJSON_IsNull(v)) {
        if (zarr_format == 3)
            return pz_err_set(e, PZARR_EMETA,
                              "\"fill_value\" must not be null in Zarr v3");
        *is_null = true;
        return 0;
    }
    if (pz_dtype_string_kind(t))
        return parse_string_fill(v, t, out, e);
    if (time) { /* an int64 count, or "NaT" */
        if (cJSON_IsString(v) && strcmp(v->valuestring, "NaT") == 0) {
            store_bits(out, 8, (uint64_t)INT64_MIN);
            return 0;
        }
        if (cJSON_IsRaw(v))
            return parse_exact_int_fill(v->valuestring, PZARR_INT64, out, e);
        return parse_int_fill(v, PZARR_INT64, out, e);
    }
    if (t == PZARR_BOOL)
        return parse_bool_fill(v, zarr_format, out, e);
    if (pz_dtype_is_int(t))
        return parse_int_fill(v, t, out, e);
    if (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128)
        return parse_complex_fill(v, size, zarr_format, out, e);
    return parse_float_fill(v, size, zarr_format, out, e);
}

/* ------------------------------------------------------------ fill: emit */

static cJSON *emit_float(const unsigned char *p, size_t size, int zarr_format)
{
    uint64_t bits = load_bits(p, size);
    double d;
    if (size == 2)
        d = half_to_double((uint16_t)bits);
    else if (size == 4) {
        float f;
        memcpy(&f, p, 4);
        d = f;
    } else
        memcpy(&d, p, 8);
    if (isnan(d)) {
        if (zarr_format == 3 && bits != canonical_nan(size)) {
            char hex[24];
            snprintf(hex, sizeof hex, "0x%0*" PRIx64, (int)(2 * size), bits);
            return cJSON_CreateString(hex);
        }
        return cJSON_CreateString("NaN");
    }
    if (isinf(d))
        return cJSON_CreateString(d > 0 ? "Infinity" : "-Infinity");
    char buf[48];
    pz_float_repr(d, buf, sizeof buf);
    return cJSON_CreateRaw(buf);
}

static cJSON *emit_int(const unsigned char *p, pzarr_dtype t)
{
    size_t size = pzarr_dtype_size(t);
    uint64_t u = load_bits(p, size);
    char buf[32];
    if (pz_dtype_is_signed(t) && size < 8 && (u >> (8 * size - 1)))
        u |= ~UINT64_C(0) << (8 * size); /* sign-extend */
    if (pz_dtype_is_signed(t))
        snprintf(buf, sizeof buf, "%" PRId64, (int64_t)u);
    else
        snprintf(buf, sizeof buf, "%" PRIu64, u);
    return cJSON_CreateRaw(buf);
}

static cJSON *emit_complex(const unsigned char *p, size_t size, int zarr_format)
{
    cJSON *a = cJSON_CreateArray();
    if (!a)
        return NULL;
    for (int i = 0; i < 2; i++) {
        cJSON *c = emit_float(p + i * (size / 2), size / 2, zarr_format);
        if (!c || !cJSON_AddItemToArray(a, c)) {
            cJSON_Delete(c);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

cJSON *pz_fill_emit(pzarr_dtype t, int zarr_format, const unsigned char *fill,
                    bool is_null)
{
    if (is_null && zarr_format == 2)
        return cJSON_CreateNull();
    if (pz_dtype_is_vlen(t))
        return emit_vlen(fill, t, zarr_format);
    size_t size = pzarr_dtype_size(t);
    if (size == 0)
        return NULL;
    if (pz_dtype_string_kind(t))
        return emit_string(fill, t);
    if (pz_dtype_time_kind(t)) { /* v3 writes NaT by name; v2 (zarr-python 2) as int64 */
        if (zarr_format == 3 && load_bits(fill, 8) == (uint64_t)INT64_MIN)
            return cJSON_CreateString("NaT");
        return emit_int(fill, PZARR_INT64);
    }
    if (t == PZARR_BOOL)
        return cJSON_CreateBool(fill[0] != 0);
    if (pz_dtype_is_int(t))
        return emit_int(fill, t);
    if (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128)
        return emit_complex(fill, size, zarr_format);
    return emit_float(fill, size, zarr_format);
}
