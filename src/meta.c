/*
 * Array metadata: zarr.json (v3) and .zarray (v2) <-> pz_meta, fill values,
 * group documents and chunk keys.
 *
 * cJSON keeps every number as a double, so sizes and integer fill values are
 * read exactly only up to 2^53; larger ones are refused (PZARR_EUNSUPPORTED)
 * rather than silently rounded. Integral doubles such as 4.0 or 1e3 are taken
 * as integers, since the parsed value cannot tell them apart.
 *
 * Numbers are emitted as raw JSON text: integers exactly, floats the way
 * Python's repr writes them (0.0, 1.5, 1e+16), as zarr-python does.
 */
#include "pz_internal.h"

#include <float.h>
#include <inttypes.h>
#include <errno.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_INT_MAX 9007199254740992.0 /* 2^53 */
#define CHUNK_BYTES_MAX 2147483647u     /* 2 GiB - 1 */

/* ------------------------------------------------------------ JSON input */

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses a whole document; `what` names it in messages ("" or " in .zattrs"). */
static int json_parse(const char *doc, size_t len, const char *what,
                      cJSON **out, pz_err *e)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(doc, len, &end, false);
    if (!root) {
        size_t off = end && end >= doc ? (size_t)(end - doc) : 0;
        return pz_err_set(e, PZARR_EMETA, "malformed JSON%s near offset %zu",
                          what, off);
    }
    size_t pos = (size_t)(end - doc);
    while (pos < len && is_json_space(doc[pos]))
        pos++;
    if (pos < len && doc[pos] != '\0') {
        cJSON_Delete(root);
        return pz_err_set(e, PZARR_EMETA,
                          "malformed JSON%s near offset %zu: text after the "
                          "document",
                          what, pos);
    }
    *out = root;
    return 0;
}

enum { U64_OK, U64_BAD, U64_BIG };

/* A JSON number that is an exact non-negative integer of at most 2^53. */
static int json_u64(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return U64_BAD;
    double d = v->valuedouble;
    if (!(d >= 0))
        return U64_BAD;
    if (d > JSON_INT_MAX)
        return U64_BIG;
    uint64_t u = (uint64_t)d;
    if ((double)u != d)
        return U64_BAD;
    *out = u;
    return U64_OK;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int need(const cJSON *obj, const char *key, const cJSON **out,
                pz_err *e)
{
    *out = member(obj, key);
    if (!*out)
        return pz_err_set(e, PZARR_EMETA, "missing \"%s\"", key);
    return 0;
}

/* Reads "shape" / "chunks" / "chunk_shape"; chunk sizes must be >= 1. */
static int parse_dims(const cJSON *arr, const char *field, bool chunk,
                      uint64_t *out, int *ndim, pz_err *e)
{
    if (!cJSON_IsArray(arr))
        return pz_err_set(e, PZARR_EMETA,
                          "\"%s\" must be an array of non-negative integers",
                          field);
    int n = cJSON_GetArraySize(arr);
    if (n > PZ_MAX_NDIM)
        return pz_err_set(e, PZARR_EMETA,
                          "\"%s\" has %d entries: ndim %d exceeds %d", field, n,
                          n, PZ_MAX_NDIM);
    int i = 0;
    for (const cJSON *v = arr->child; v; v = v->next, i++) {
        int rc = json_u64(v, &out[i]);
        if (rc == U64_BIG)
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "\"%s\"[%d] exceeds 2^53, the largest size "
                              "pzarr reads exactly",
                              field, i);
        if (rc != U64_OK)
            return pz_err_set(e, PZARR_EMETA,
                              "\"%s\" must be an array of non-negative "
                              "integers (entry %d is not)",
                              field, i);
        if (chunk && out[i] == 0)
            return pz_err_set(e, PZARR_EMETA,
                              "\"%s\"[%d] is 0: chunk sizes must be at least 1",
                              field, i);
    }
    *ndim = n;
    return 0;
}

static bool key_known(const char *key, const char *const *known, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(key, known[i]) == 0)
            return true;
    return false;
}

/* An extension member the reader may skip: {"must_understand": false, ...}. */
static bool ignorable_extension(const cJSON *v)
{
    return cJSON_IsObject(v) && cJSON_IsFalse(member(v, "must_understand"));
}

/*
 * Refuses duplicated known keys (cJSON would silently take the first) and,
 * when strict (v3), unknown keys that are not skippable extensions.
 */
static int check_keys(const cJSON *root, const char *const *known, size_t n,
                      bool strict, pz_err *e)
{
    for (const cJSON *c = root->child; c; c = c->next) {
        if (!key_known(c->string, known, n)) {
            if (strict && !ignorable_extension(c))
                return pz_err_set(
                    e, PZARR_EUNSUPPORTED,
                    "unknown metadata field \"%.64s\" (an extension must "
                    "carry \"must_understand\": false to be ignored)",
                    c->string);
            continue;
        }
        for (const cJSON *d = c->next; d; d = d->next)
            if (strcmp(c->string, d->string) == 0)
                return pz_err_set(e, PZARR_EMETA, "duplicate key \"%s\"",
                                  c->string);
    }
    return 0;
}

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

static bool dtype_is_int(pzarr_dtype t)
{
    return t >= PZARR_INT8 && t <= PZARR_UINT64;
}

static bool dtype_is_signed(pzarr_dtype t)
{
    return t >= PZARR_INT8 && t <= PZARR_INT64;
}

static void int_range(pzarr_dtype t, int64_t *lo, int64_t *hi)
{
    size_t bits = 8 * pzarr_dtype_size(t);
    if (dtype_is_signed(t)) {
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

int pz_fill_parse(const cJSON *v, pzarr_dtype t, int zarr_format,
                  unsigned char out[16], bool *is_null, pz_err *e)
{
    memset(out, 0, 16);
    *is_null = false;
    size_t size = pzarr_dtype_size(t);
    if (size == 0)
        return pz_err_set(e, PZARR_EINVAL, "fill value of an unknown type");
    cJSON num; /* exact integer text kept for int64/uint64 only */
    if (cJSON_IsRaw(v) && t != PZARR_INT64 && t != PZARR_UINT64) {
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
    if (t == PZARR_BOOL)
        return parse_bool_fill(v, zarr_format, out, e);
    if (dtype_is_int(t))
        return parse_int_fill(v, t, out, e);
    if (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128)
        return parse_complex_fill(v, size, zarr_format, out, e);
    return parse_float_fill(v, size, zarr_format, out, e);
}

/* ------------------------------------------------------------ fill: emit */

typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, char c)
{
    if (t->n + 1 < t->cap)
        t->p[t->n++] = c;
    t->p[t->n] = '\0';
}

/* |v| to `prec` significant digits, correctly rounded (printf). */
static void sci_digits(double a, int prec, char *dig, int *exp10)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, a);
    int n = 0;
    const char *s = tmp;
    for (; *s && *s != 'e' && *s != 'E'; s++)
        if (*s >= '0' && *s <= '9' && n < prec)
            dig[n++] = *s;
    *exp10 = *s ? (int)strtol(s + 1, NULL, 10) : 0;
}

/* The double nearest to 0.dig * 10^(exp10 + 1); no decimal point, so no
 * locale dependence. */
static double digits_value(const char *dig, int n, int exp10)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*se%d", n, dig, exp10 - n + 1);
    return strtod(tmp, NULL);
}

/* Moves the n-digit decimal one unit in its last place up or down. */
static void step_digits(char *dig, int n, int *exp10, int dir)
{
    int i = n - 1;
    if (dir > 0) {
        for (; i >= 0 && dig[i] == '9'; i--)
            dig[i] = '0';
        if (i < 0) {
            dig[0] = '1';
            (*exp10)++;
        } else {
            dig[i]++;
        }
        return;
    }
    for (; i >= 0 && dig[i] == '0'; i--)
        dig[i] = '9';
    if (i >= 0)
        dig[i]--;
    if (dig[0] == '0') {
        memmove(dig, dig + 1, (size_t)(n - 1));
        dig[n - 1] = '9';
        (*exp10)--;
    }
}

/*
 * The shortest digits that read back as |v|, nearest to it, as Python's
 * repr picks them. When printf's nearest p-digit decimal misses (a tie
 * rounded to even, or the wider gap above a power of two), its neighbour
 * on the other side of v may still read back.
 */
static int shortest_digits(double v, char *digits, int *exp10)
{
    double a = fabs(v);
    int prec = 1;
    for (; prec < 17; prec++) {
        sci_digits(a, prec, digits, exp10);
        double d = digits_value(digits, prec, *exp10);
        if (d == a)
            break;
        char alt[24];
        int alt_exp = *exp10;
        memcpy(alt, digits, (size_t)prec);
        step_digits(alt, prec, &alt_exp, d < a ? 1 : -1);
        if (digits_value(alt, prec, alt_exp) == a) {
            memcpy(digits, alt, (size_t)prec);
            *exp10 = alt_exp;
            break;
        }
    }
    if (prec == 17)
        sci_digits(a, 17, digits, exp10);
    int nd = prec;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    return nd;
}

/* Python's repr of a finite double: 0.0, 1.5, 0.0001, 1e-05, 1e+16. */
static void float_repr(double v, char *out, size_t cap)
{
    char digits[32];
    int exp10;
    int nd = shortest_digits(v, digits, &exp10);
    text t = {out, 0, cap};
    out[0] = '\0';
    if (signbit(v))
        put(&t, '-');
    if (exp10 >= 16 || exp10 < -4) {
        put(&t, digits[0]);
        if (nd > 1)
            put(&t, '.');
        for (int i = 1; i < nd; i++)
            put(&t, digits[i]);
        char ex[16];
        snprintf(ex, sizeof ex, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        for (const char *s = ex; *s; s++)
            put(&t, *s);
        return;
    }
    if (exp10 < 0) {
        put(&t, '0');
        put(&t, '.');
        for (int i = 0; i < -exp10 - 1; i++)
            put(&t, '0');
        for (int i = 0; i < nd; i++)
            put(&t, digits[i]);
        return;
    }
    for (int i = 0; i <= exp10; i++)
        put(&t, i < nd ? digits[i] : '0');
    put(&t, '.');
    if (nd <= exp10 + 1)
        put(&t, '0');
    for (int i = exp10 + 1; i < nd; i++)
        put(&t, digits[i]);
}

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
    float_repr(d, buf, sizeof buf);
    return cJSON_CreateRaw(buf);
}

static cJSON *emit_int(const unsigned char *p, pzarr_dtype t)
{
    size_t size = pzarr_dtype_size(t);
    uint64_t u = load_bits(p, size);
    char buf[32];
    if (dtype_is_signed(t) && size < 8 && (u >> (8 * size - 1)))
        u |= ~UINT64_C(0) << (8 * size); /* sign-extend */
    if (dtype_is_signed(t))
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
    size_t size = pzarr_dtype_size(t);
    if (size == 0)
        return NULL;
    if (is_null && zarr_format == 2)
        return cJSON_CreateNull();
    if (t == PZARR_BOOL)
        return cJSON_CreateBool(fill[0] != 0);
    if (dtype_is_int(t))
        return emit_int(fill, t);
    if (t == PZARR_COMPLEX64 || t == PZARR_COMPLEX128)
        return emit_complex(fill, size, zarr_format);
    return emit_float(fill, size, zarr_format);
}

/* ------------------------------------------------------------ shared checks */

/* prod(chunks) * itemsize must fit the 2 GiB a codec can handle. */
static int check_chunk_bytes(const pz_meta *m, const char *field, pz_err *e)
{
    uint64_t n = m->itemsize;
    for (int d = 0; d < m->ndim; d++) {
        if (!pz_mul_u64(n, m->chunks[d], &n))
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "\"%s\": chunk of more than 2^64 bytes "
                              "exceeds the 2 GiB limit",
                              field);
    }
    if (n > CHUNK_BYTES_MAX)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "\"%s\": chunk of %" PRIu64
                          " bytes exceeds the 2 GiB limit",
                          field, n);
    return 0;
}

/* The number of chunks in the grid must fit in uint64. */
static int check_grid(const pz_meta *m, pz_err *e)
{
    uint64_t total = 1;
    for (int d = 0; d < m->ndim; d++)
        if (!pz_mul_u64(total, pz_meta_grid_dim(m, d), &total))
            return pz_err_set(e, PZARR_EUNSUPPORTED,
                              "\"shape\" and the chunk shape give more than "
                              "2^64-1 chunks");
    return 0;
}

/* Moves the "attributes" object out of the document (or makes {}). */
static int take_attributes(cJSON *root, pz_meta *m, pz_err *e)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "attributes");
    if (a && !cJSON_IsObject(a))
        return pz_err_set(e, PZARR_EMETA,
                          "\"attributes\" must be a JSON object");
    m->attributes = a ? cJSON_DetachItemViaPointer(root, a) : cJSON_CreateObject();
    if (!m->attributes)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory for attributes");
    return 0;
}

/* ------------------------------------------------------------ v3 parse */

static const char *const v3_keys[] = {
    "zarr_format", "node_type",   "shape",           "data_type",
    "chunk_grid",  "chunk_key_encoding", "fill_value", "codecs",
    "attributes",  "dimension_names",    "storage_transformers"};

static int v3_node_type(const cJSON *root, pz_err *e)
{
    const cJSON *nt;
    PZ_TRY(need(root, "node_type", &nt, e));
    if (!cJSON_IsString(nt))
        return pz_err_set(e, PZARR_EMETA, "\"node_type\" must be a string");
    if (strcmp(nt->valuestring, "group") == 0)
        return pz_err_set(e, PZARR_ENOTARRAY,
                          "the document describes a group (\"node_type\": "
                          "\"group\"), not an array");
    if (strcmp(nt->valuestring, "array") != 0)
        return pz_err_set(e, PZARR_EMETA,
                          "\"node_type\" must be \"array\" or \"group\", not "
                          "\"%.64s\"",
                          nt->valuestring);
    return 0;
}

static int v3_data_type(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (cJSON_IsObject(v)) {
        const cJSON *n = member(v, "name");
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"data_type\" \"%.64s\": data types "
                          "in object form are not supported",
                          cJSON_IsString(n) ? n->valuestring : "?");
    }
    if (!cJSON_IsString(v))
        return pz_err_set(e, PZARR_EMETA, "\"data_type\" must be a string");
    if (pz_dtype_from_v3(v->valuestring, &m->dtype) != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"data_type\" \"%.64s\"",
                          v->valuestring);
    m->itemsize = pzarr_dtype_size(m->dtype);
    return 0;
}

/* The "name" of a {"name": ..., "configuration": {...}} member. */
static int named_config(const cJSON *v, const char *field, const char **name,
                        const cJSON **cfg, pz_err *e)
{
    if (!cJSON_IsObject(v))
        return pz_err_set(e, PZARR_EMETA, "\"%s\" must be an object", field);
    const cJSON *n = member(v, "name");
    if (!cJSON_IsString(n))
        return pz_err_set(e, PZARR_EMETA, "\"%s\" needs a string \"name\"",
                          field);
    *name = n->valuestring;
    *cfg = member(v, "configuration");
    if (*cfg && !cJSON_IsObject(*cfg))
        return pz_err_set(e, PZARR_EMETA,
                          "\"configuration\" of \"%s\" must be an object",
                          field);
    return 0;
}

static int v3_chunk_grid(const cJSON *v, pz_meta *m, pz_err *e)
{
    const char *name = NULL;
    const cJSON *cfg = NULL;
    PZ_TRY(named_config(v, "chunk_grid", &name, &cfg, e));
    if (strcmp(name, "regular") != 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"chunk_grid\" \"%.64s\" (only "
                          "\"regular\")",
                          name);
    const cJSON *cs = cfg ? member(cfg, "chunk_shape") : NULL;
    if (!cs)
        return pz_err_set(e, PZARR_EMETA,
                          "missing \"chunk_shape\" in \"chunk_grid\"");
    int n;
    PZ_TRY(parse_dims(cs, "chunk_shape", true, m->chunks, &n, e));
    if (n != m->ndim)
        return pz_err_set(e, PZARR_EMETA,
                          "\"chunk_shape\" has %d entries but \"shape\" has %d",
                          n, m->ndim);
    return 0;
}

static int parse_separator(const cJSON *v, const char *field, char *sep,
                           pz_err *e)
{
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || (strcmp(v->valuestring, "/") != 0 &&
                               strcmp(v->valuestring, ".") != 0))
        return pz_err_set(e, PZARR_EMETA, "%s must be \"/\" or \".\"", field);
    *sep = v->valuestring[0];
    return 0;
}

static int v3_key_encoding(const cJSON *v, pz_meta *m, pz_err *e)
{
    const char *name = NULL;
    const cJSON *cfg = NULL;
    PZ_TRY(named_config(v, "chunk_key_encoding", &name, &cfg, e));
    if (strcmp(name, "default") == 0) {
        m->key_v2_style = false;
        m->key_sep = '/';
    } else if (strcmp(name, "v2") == 0) {
        m->key_v2_style = true;
        m->key_sep = '.';
    } else {
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"chunk_key_encoding\" \"%.64s\"", name);
    }
    return parse_separator(cfg ? member(cfg, "separator") : NULL,
                           "\"separator\" of \"chunk_key_encoding\"",
                           &m->key_sep, e);
}

static int v3_storage_transformers(const cJSON *v, pz_err *e)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsArray(v))
        return pz_err_set(e, PZARR_EMETA,
                          "\"storage_transformers\" must be an array");
    if (!v->child)
        return 0;
    const cJSON *n = member(v->child, "name");
    return pz_err_set(e, PZARR_EUNSUPPORTED,
                      "\"storage_transformers\" are not supported (found "
                      "\"%.64s\")",
                      cJSON_IsString(n) ? n->valuestring : "?");
}

static int v3_dimension_names(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsArray(v))
        return pz_err_set(e, PZARR_EMETA,
                          "\"dimension_names\" must be an array of strings "
                          "or nulls");
    int n = cJSON_GetArraySize(v);
    if (n != m->ndim)
        return pz_err_set(e, PZARR_EMETA,
                          "\"dimension_names\" has %d entries but \"shape\" "
                          "has %d",
                          n, m->ndim);
    m->dimension_names = pz_calloc((size_t)n, sizeof(char *));
    if (!m->dimension_names)
        return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        if (cJSON_IsNull(c))
            continue;
        if (!cJSON_IsString(c))
            return pz_err_set(e, PZARR_EMETA,
                              "\"dimension_names\"[%d] must be a string or "
                              "null",
                              i);
        m->dimension_names[i] = pz_strdup(c->valuestring);
        if (!m->dimension_names[i])
            return pz_err_set(e, PZARR_ENOMEM, "out of memory");
    }
    return 0;
}

static bool is_sharding(const cJSON *c)
{
    const cJSON *n = cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, "name") : c;
    return cJSON_IsString(n) && strcmp(n->valuestring, "sharding_indexed") == 0;
}

/* The unit a codec chain handles (the chunk, or the inner chunk of a
 * shard) must fit the 2 GiB limit; a shard may be larger. */
static int check_unit_bytes(pz_meta *m, pz_err *e)
{
    if (!m->shard.on)
        return check_chunk_bytes(m, "chunk_shape", e);
    pz_meta inner = *m;
    for (int d = 0; d < m->ndim; d++)
        inner.chunks[d] = m->shard.inner[d];
    PZ_TRY(check_chunk_bytes(&inner, "sharding_indexed\" \"chunk_shape", e));
    uint64_t elems, bytes;
    if (!pz_prod(m->ndim, m->chunks, &elems) || !pz_mul_u64(elems, m->itemsize, &bytes))
        return pz_err_set(e, PZARR_EUNSUPPORTED, "\"chunk_shape\": shard size overflows");
    return 0;
}

static int v3_codecs(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (!cJSON_IsArray(v))
        return pz_err_set(e, PZARR_EMETA, "\"codecs\" must be an array");
    const cJSON *c;
    int n = cJSON_GetArraySize(v), nshard = 0;
    cJSON_ArrayForEach(c, v) nshard += is_sharding(c);
    if (nshard == 1 && n == 1)
        return pz_shard_parse(cJSON_GetArrayItem(v, 0), m, e);
    if (nshard > 0)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "codec \"sharding_indexed\" combined with other codecs in the "
                          "outer chain is not supported");
    return pz_pipeline_parse_v3(v, m->ndim, m->dtype, &m->pipeline, e);
}

static int parse_v3(cJSON *root, pz_meta *m, pz_err *e)
{
    const cJSON *shape, *dtype, *grid, *keys, *fill, *codecs;
    PZ_TRY(v3_node_type(root, e));
    PZ_TRY(check_keys(root, v3_keys, sizeof v3_keys / sizeof v3_keys[0], true,
                      e));
    PZ_TRY(need(root, "shape", &shape, e));
    PZ_TRY(parse_dims(shape, "shape", false, m->shape, &m->ndim, e));
    PZ_TRY(need(root, "data_type", &dtype, e));
    PZ_TRY(v3_data_type(dtype, m, e));
    PZ_TRY(need(root, "chunk_grid", &grid, e));
    PZ_TRY(v3_chunk_grid(grid, m, e));
    PZ_TRY(check_grid(m, e));
    PZ_TRY(need(root, "chunk_key_encoding", &keys, e));
    PZ_TRY(v3_key_encoding(keys, m, e));
    PZ_TRY(v3_storage_transformers(member(root, "storage_transformers"), e));
    PZ_TRY(need(root, "codecs", &codecs, e));
    PZ_TRY(v3_codecs(codecs, m, e));
    PZ_TRY(check_unit_bytes(m, e));
    PZ_TRY(need(root, "fill_value", &fill, e));
    PZ_TRY(pz_fill_parse(fill, m->dtype, 3, m->fill, &m->fill_null, e));
    PZ_TRY(v3_dimension_names(member(root, "dimension_names"), m, e));
    return take_attributes(root, m, e);
}

/* ------------------------------------------------------------ v2 parse */

static const char *const v2_keys[] = {
    "zarr_format", "shape",   "chunks",  "dtype",
    "compressor",  "fill_value", "order", "filters",
    "dimension_separator", "attributes"};

static int v2_dtype(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (cJSON_IsArray(v))
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "structured \"dtype\" (a list of fields) is not "
                          "supported");
    if (!cJSON_IsString(v))
        return pz_err_set(e, PZARR_EMETA, "\"dtype\" must be a string");
    int rc = pz_dtype_from_v2(v->valuestring, &m->dtype, &m->v2_big_endian);
    if (rc == PZARR_EUNSUPPORTED)
        return pz_err_set(e, rc, "unsupported \"dtype\" \"%.64s\"",
                          v->valuestring);
    if (rc != 0)
        return pz_err_set(e, PZARR_EMETA,
                          "\"dtype\" \"%.64s\" is not a valid dtype string",
                          v->valuestring);
    m->itemsize = pzarr_dtype_size(m->dtype);
    return 0;
}

static int v2_chunks(const cJSON *root, pz_meta *m, pz_err *e)
{
    const cJSON *v;
    int n;
    PZ_TRY(need(root, "chunks", &v, e));
    PZ_TRY(parse_dims(v, "chunks", true, m->chunks, &n, e));
    if (n != m->ndim)
        return pz_err_set(e, PZARR_EMETA,
                          "\"chunks\" has %d entries but \"shape\" has %d", n,
                          m->ndim);
    return 0;
}

static int v2_order(const cJSON *v, pz_meta *m, pz_err *e)
{
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || (strcmp(v->valuestring, "C") != 0 &&
                               strcmp(v->valuestring, "F") != 0))
        return pz_err_set(e, PZARR_EMETA, "\"order\" must be \"C\" or \"F\"");
    m->v2_order_f = v->valuestring[0] == 'F';
    return 0;
}

static int v2_attributes(cJSON *root, const char *attrs_doc, size_t attrs_len,
                         pz_meta *m, pz_err *e)
{
    if (!attrs_doc)
        return take_attributes(root, m, e);
    cJSON *a = NULL;
    PZ_TRY(json_parse(attrs_doc, attrs_len, " in .zattrs", &a, e));
    if (!cJSON_IsObject(a)) {
        cJSON_Delete(a);
        return pz_err_set(e, PZARR_EMETA, ".zattrs must hold a JSON object");
    }
    m->attributes = a;
    return 0;
}

static int parse_v2(cJSON *root, const char *attrs_doc, size_t attrs_len,
                    pz_meta *m, pz_err *e)
{
    const cJSON *shape, *dtype, *sep;
    PZ_TRY(check_keys(root, v2_keys, sizeof v2_keys / sizeof v2_keys[0], false,
                      e));
    PZ_TRY(need(root, "shape", &shape, e));
    PZ_TRY(parse_dims(shape, "shape", false, m->shape, &m->ndim, e));
    PZ_TRY(v2_chunks(root, m, e));
    PZ_TRY(need(root, "dtype", &dtype, e));
    PZ_TRY(v2_dtype(dtype, m, e));
    PZ_TRY(check_chunk_bytes(m, "chunks", e));
    PZ_TRY(check_grid(m, e));
    PZ_TRY(v2_order(member(root, "order"), m, e));
    m->key_v2_style = true;
    m->key_sep = '.';
    sep = member(root, "dimension_separator");
    if (sep && !cJSON_IsNull(sep))
        PZ_TRY(parse_separator(sep, "\"dimension_separator\"", &m->key_sep, e));
    PZ_TRY(pz_fill_parse(member(root, "fill_value"), m->dtype, 2, m->fill,
                         &m->fill_null, e));
    PZ_TRY(pz_pipeline_from_v2(member(root, "compressor"),
                               member(root, "filters"), m->v2_order_f,
                               m->v2_big_endian, m->ndim, m->dtype,
                               &m->pipeline, e));
    return v2_attributes(root, attrs_doc, attrs_len, m, e);
}

/* ------------------------------------------------------------ entry points */

static int zarr_format_of(const cJSON *root, int *fmt, pz_err *e)
{
    const cJSON *v;
    uint64_t u;
    PZ_TRY(need(root, "zarr_format", &v, e));
    if (json_u64(v, &u) != U64_OK)
        return pz_err_set(e, PZARR_EMETA, "\"zarr_format\" must be 2 or 3");
    if (u != 2 && u != 3)
        return pz_err_set(e, PZARR_EUNSUPPORTED,
                          "unsupported \"zarr_format\" %" PRIu64, u);
    *fmt = (int)u;
    return 0;
}

static int parse_root(int want, cJSON *root, const char *attrs_doc,
                      size_t attrs_len, pz_meta *m, pz_err *e)
{
    int fmt = 0;
    if (!cJSON_IsObject(root))
        return pz_err_set(e, PZARR_EMETA,
                          "the metadata document must be a JSON object");
    PZ_TRY(zarr_format_of(root, &fmt, e));
    if (want && fmt != want)
        return pz_err_set(e, PZARR_EMETA,
                          "\"zarr_format\" is %d in a Zarr v%d document "
                          "(%s)",
                          fmt, want, want == 3 ? "zarr.json" : ".zarray");
    m->zarr_format = fmt;
    if (fmt == 3)
        return parse_v3(root, m, e);
    return parse_v2(root, attrs_doc, attrs_len, m, e);
}

/*
 * The text of the number that is the value of the top-level member `key`
 * (cJSON keeps numbers only as doubles, which lose int64 digits).
 */
static bool raw_top_number(const char *doc, size_t len, const char *key, char *out,
                           size_t cap)
{
    size_t klen = strlen(key);
    int depth = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = doc[i];
        if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            depth--;
        } else if (ch == '"') {
            size_t j = i + 1;
            while (j < len && doc[j] != '"')
                j += doc[j] == '\\' ? 2 : 1;
            if (j >= len)
                return false;
            bool hit = depth == 1 && j - i - 1 == klen && memcmp(doc + i + 1, key, klen) == 0;
            i = j;
            size_t k = j + 1;
            while (hit && k < len && is_json_space(doc[k]))
                k++;
            if (!hit || k >= len || doc[k] != ':')
                continue;
            k++;
            while (k < len && is_json_space(doc[k]))
                k++;
            size_t s0 = k;
            while (k < len && (isdigit((unsigned char)doc[k]) || strchr("+-.eE", doc[k])))
                k++;
            if (k == s0 || k - s0 >= cap)
                return false;
            memcpy(out, doc + s0, k - s0);
            out[k - s0] = '\0';
            return true;
        }
    }
    return false;
}

/* A 64-bit integer fill value past 2^53 is kept as its exact text. */
static void keep_exact_fill(cJSON *root, const char *doc, size_t len)
{
    cJSON *f = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "fill_value")
                                    : NULL;
    char text[64];
    if (!cJSON_IsNumber(f) || fabs(f->valuedouble) <= JSON_INT_MAX ||
        !raw_top_number(doc, len, "fill_value", text, sizeof text) ||
        text[strspn(text, "-0123456789")] != '\0')
        return;
    cJSON *raw = cJSON_CreateRaw(text);
    if (raw)
        cJSON_ReplaceItemInObjectCaseSensitive(root, "fill_value", raw);
}

static int parse_any(int want, const char *doc, size_t len,
                     const char *attrs_doc, size_t attrs_len, pz_meta *m,
                     pz_err *e)
{
    cJSON *root = NULL;
    if (!m)
        return pz_err_set(e, PZARR_EINVAL, "no metadata to fill");
    memset(m, 0, sizeof *m);
    if (!doc)
        return pz_err_set(e, PZARR_EINVAL, "no metadata document");
    PZ_TRY(json_parse(doc, len, "", &root, e));
    keep_exact_fill(root, doc, len);
    int rc = parse_root(want, root, attrs_doc, attrs_len, m, e);
    cJSON_Delete(root);
    if (rc != 0)
        pz_meta_free(m);
    return rc;
}

int pz_meta_parse(const char *doc, size_t len, const char *attrs_doc,
                  size_t attrs_len, pz_meta *m, pz_err *e)
{
    return parse_any(0, doc, len, attrs_doc, attrs_len, m, e);
}

int pz_meta_parse_format(int zarr_format, const char *doc, size_t len,
                         const char *attrs_doc, size_t attrs_len, pz_meta *m,
                         pz_err *e)
{
    if (zarr_format != 2 && zarr_format != 3)
        return pz_err_set(e, PZARR_EINVAL, "zarr_format %d is not 2 or 3",
                          zarr_format);
    return parse_any(zarr_format, doc, len, attrs_doc, attrs_len, m, e);
}

/* ------------------------------------------------------------ emit */

/* Adds v to o under k; false (and v released) on failure or when v is NULL. */
static bool add(cJSON *o, const char *k, cJSON *v)
{
    if (!v)
        return false;
    if (!cJSON_AddItemToObject(o, k, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

static bool push(cJSON *a, cJSON *v)
{
    if (!v)
        return false;
    if (!cJSON_AddItemToArray(a, v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

static cJSON *json_u64_raw(uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return cJSON_CreateRaw(buf);
}

static cJSON *dims_json(int ndim, const uint64_t *dims)
{
    cJSON *a = cJSON_CreateArray();
    for (int d = 0; a && d < ndim; d++) {
        if (!push(a, json_u64_raw(dims[d]))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* {"name": name, "configuration": {key: value}} */
static cJSON *named_json(const char *name, const char *key, cJSON *value)
{
    cJSON *cfg = cJSON_CreateObject();
    if (!cfg) {
        cJSON_Delete(value);
        return NULL;
    }
    if (!add(cfg, key, value)) {
        cJSON_Delete(cfg);
        return NULL;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o || !add(o, "name", cJSON_CreateString(name))) {
        cJSON_Delete(cfg);
        cJSON_Delete(o);
        return NULL;
    }
    if (!add(o, "configuration", cfg)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static char sep_of(const pz_meta *m)
{
    if (m->key_sep == '/' || m->key_sep == '.')
        return m->key_sep;
    return m->key_v2_style ? '.' : '/';
}

static cJSON *key_encoding_json(const pz_meta *m)
{
    char sep[2] = {sep_of(m), '\0'};
    return named_json(m->key_v2_style ? "v2" : "default", "separator",
                      cJSON_CreateString(sep));
}

static cJSON *dimension_names_json(const pz_meta *m)
{
    cJSON *a = cJSON_CreateArray();
    for (int d = 0; a && d < m->ndim; d++) {
        const char *n = m->dimension_names[d];
        if (!push(a, n ? cJSON_CreateString(n) : cJSON_CreateNull())) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *attributes_json(const cJSON *attributes)
{
    return attributes ? cJSON_Duplicate(attributes, true) : cJSON_CreateObject();
}

static cJSON *wrap_array(cJSON *item)
{
    cJSON *a = item ? cJSON_CreateArray() : NULL;
    if (!a) {
        cJSON_Delete(item);
        return NULL;
    }
    cJSON_AddItemToArray(a, item);
    return a;
}

static cJSON *emit_v3(const pz_meta *m)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add(o, "zarr_format", cJSON_CreateNumber(3)) &&
              add(o, "node_type", cJSON_CreateString("array")) &&
              add(o, "shape", dims_json(m->ndim, m->shape)) &&
              add(o, "data_type", cJSON_CreateString(pzarr_dtype_name(m->dtype))) &&
              add(o, "chunk_grid", named_json("regular", "chunk_shape",
                                              dims_json(m->ndim, m->chunks))) &&
              add(o, "chunk_key_encoding", key_encoding_json(m)) &&
              add(o, "fill_value",
                  pz_fill_emit(m->dtype, 3, m->fill, m->fill_null)) &&
              add(o, "codecs", m->shard.on ? wrap_array(pz_shard_emit(m))
                                           : pz_pipeline_emit_v3(&m->pipeline)) &&
              add(o, "attributes", attributes_json(m->attributes)) &&
              (!m->dimension_names ||
               add(o, "dimension_names", dimension_names_json(m))) &&
              add(o, "storage_transformers", cJSON_CreateArray());
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Keys sorted, as zarr-python 2 writes them. */
static cJSON *emit_v2(const pz_meta *m)
{
    char dtype[8], sep[2] = {sep_of(m), '\0'};
    pz_dtype_to_v2(m->dtype, m->v2_big_endian, dtype);
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add(o, "chunks", dims_json(m->ndim, m->chunks)) &&
              add(o, "compressor", pz_pipeline_emit_v2_compressor(&m->pipeline)) &&
              add(o, "dimension_separator", cJSON_CreateString(sep)) &&
              add(o, "dtype", cJSON_CreateString(dtype)) &&
              add(o, "fill_value",
                  pz_fill_emit(m->dtype, 2, m->fill, m->fill_null)) &&
              add(o, "filters", cJSON_CreateNull()) &&
              add(o, "order", cJSON_CreateString(m->v2_order_f ? "F" : "C")) &&
              add(o, "shape", dims_json(m->ndim, m->shape)) &&
              add(o, "zarr_format", cJSON_CreateNumber(2));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Integers up to 2^53 as integers, other numbers as Python's repr. */
static void number_text(double v, char *out, size_t cap)
{
    if (!isfinite(v))
        snprintf(out, cap, "null");
    else if (fabs(v) <= JSON_INT_MAX && v == (double)(int64_t)v &&
             !(v == 0 && signbit(v)))
        snprintf(out, cap, "%" PRId64, (int64_t)v);
    else
        float_repr(v, out, cap);
}

/*
 * cJSON prints a double with a tolerant round-trip check and can drop its
 * last digits (2^53 comes out as 9007199254740990, 0.30000000000000004 as
 * 0.3). Every number of the tree becomes raw text that reads back exactly.
 */
static bool exact_number(cJSON *c)
{
    char buf[48];
    number_text(c->valuedouble, buf, sizeof buf);
    cJSON *r = cJSON_CreateRaw(buf);
    if (!r)
        return false;
    c->valuestring = r->valuestring; /* same allocator */
    r->valuestring = NULL;
    cJSON_Delete(r);
    c->type = (c->type & ~0xFF) | cJSON_Raw;
    return true;
}

static bool exact_numbers(cJSON *node)
{
    if (cJSON_IsNumber(node))
        return exact_number(node);
    for (cJSON *c = node->child; c; c = c->next)
        if (!exact_numbers(c))
            return false;
    return true;
}

/* Prints and releases o; the text is pz_malloc'd. */
static char *print_json_fmt(cJSON *o, bool formatted)
{
    if (!o)
        return NULL;
    if (!exact_numbers(o)) {
        cJSON_Delete(o);
        return NULL;
    }
    char *s = formatted ? cJSON_Print(o) : cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!s)
        return NULL;
    char *r = pz_strdup(s);
    cJSON_free(s);
    return r;
}

static char *print_json(cJSON *o)
{
    return print_json_fmt(o, true);
}

char *pz_json_print(const cJSON *v, bool formatted)
{
    return v ? print_json_fmt(cJSON_Duplicate(v, true), formatted) : NULL;
}

char *pz_meta_emit(const pz_meta *m)
{
    if (!m || pzarr_dtype_size(m->dtype) == 0)
        return NULL;
    return print_json(m->zarr_format == 2 ? emit_v2(m) : emit_v3(m));
}

char *pz_meta_emit_attrs(const pz_meta *m)
{
    return m ? print_json(attributes_json(m->attributes)) : NULL;
}

char *pz_group_emit(int zarr_format, const cJSON *attributes)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && add(o, "zarr_format", cJSON_CreateNumber(zarr_format));
    if (ok && zarr_format == 3)
        ok = add(o, "node_type", cJSON_CreateString("group")) &&
             add(o, "attributes", attributes_json(attributes));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return print_json(o);
}

/* ------------------------------------------------------------ lifetime */

void pz_meta_free(pz_meta *m)
{
    if (!m)
        return;
    if (m->dimension_names) {
        for (int d = 0; d < m->ndim; d++)
            pz_free(m->dimension_names[d]);
        pz_free(m->dimension_names);
        m->dimension_names = NULL;
    }
    cJSON_Delete(m->attributes);
    m->attributes = NULL;
}

int pz_meta_copy(const pz_meta *src, pz_meta *dst)
{
    *dst = *src;
    dst->dimension_names = NULL;
    dst->attributes = NULL;
    if (src->attributes &&
        !(dst->attributes = cJSON_Duplicate(src->attributes, true)))
        goto nomem;
    if (src->dimension_names) {
        dst->dimension_names = pz_calloc((size_t)src->ndim, sizeof(char *));
        if (!dst->dimension_names)
            goto nomem;
        for (int d = 0; d < src->ndim; d++) {
            const char *n = src->dimension_names[d];
            if (n && !(dst->dimension_names[d] = pz_strdup(n)))
                goto nomem;
        }
    }
    return 0;
nomem:
    pz_meta_free(dst);
    return PZARR_ENOMEM;
}

/* ------------------------------------------------------------ grid */

uint64_t pz_meta_chunk_elems(const pz_meta *m)
{
    uint64_t n = 1;
    for (int d = 0; d < m->ndim; d++)
        if (!pz_mul_u64(n, m->chunks[d], &n))
            return UINT64_MAX;
    return n;
}

uint64_t pz_meta_grid_dim(const pz_meta *m, int d)
{
    if (m->shape[d] == 0 || m->chunks[d] == 0)
        return 0;
    return (m->shape[d] - 1) / m->chunks[d] + 1;
}

uint64_t pz_meta_nchunks(const pz_meta *m)
{
    uint64_t n = 1;
    for (int d = 0; d < m->ndim; d++)
        if (!pz_mul_u64(n, pz_meta_grid_dim(m, d), &n))
            return UINT64_MAX;
    return n;
}

int pz_meta_chunk_key(const pz_meta *m, const uint64_t *cc, char *out,
                      size_t cap)
{
    if (!m || !out || cap == 0 || (m->ndim > 0 && !cc))
        return PZARR_EINVAL;
    bool prefix = m->zarr_format == 3 && !m->key_v2_style;
    char sep[2] = {sep_of(m), '\0'};
    size_t pos = 0;
    int n = snprintf(out, cap, "%s", prefix ? "c" : m->ndim == 0 ? "0" : "");
    for (int d = 0; n >= 0 && (size_t)n < cap - pos && d < m->ndim; d++) {
        pos += (size_t)n;
        n = snprintf(out + pos, cap - pos, "%s%" PRIu64,
                     d == 0 && !prefix ? "" : sep, cc[d]);
    }
    if (n < 0 || (size_t)n >= cap - pos) {
        out[0] = '\0';
        return PZARR_EINVAL;
    }
    return 0;
}
