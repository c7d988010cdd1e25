/*
 * JSON output with exact numbers: integers up to 2^53 as integers, other
 * numbers as Python's repr writes them, so that every number reads back to
 * the same double and the text matches what zarr-python writes.
 */
#include "base.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_INT_MAX 9007199254740992.0 /* 2^53 */

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
void pz_float_repr(double v, char *out, size_t cap)
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

/* Integers up to 2^53 as integers, other numbers as Python's repr. */
static void number_text(double v, char *out, size_t cap)
{
    if (!isfinite(v))
        snprintf(out, cap, "null");
    else if (fabs(v) <= JSON_INT_MAX && v == (double)(int64_t)v &&
             !(v == 0 && signbit(v)))
        snprintf(out, cap, "%" PRId64, (int64_t)v);
    else
        pz_float_repr(v, out, cap);
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

/* The text with every non-ASCII character as a \\u escape (a surrogate
 * pair past U+FFFF), as Python's json writes by default: zarr-python 2
 * reads metadata as ASCII and fails on anything else. Invalid UTF-8
 * becomes U+FFFD. pz_malloc'd; NULL when memory runs out. */
static char *ascii_only(const char *s)
{
    size_t n = 0, extra = 0;
    for (; s[n]; n++)
        extra += (unsigned char)s[n] >= 0x80 ? 12 : 0;
    if (!extra)
        return pz_strdup(s);
    char *out = pz_malloc(n + extra + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            out[o++] = (char)*p++;
            continue;
        }
        uint32_t c = 0xfffd;
        int more = (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (more > 0) {
            uint32_t v = *p & (0x3f >> more);
            int k = 1;
            for (; k <= more && (p[k] & 0xc0) == 0x80; k++)
                v = v << 6 | (p[k] & 0x3f);
            if (k > more && v <= 0x10ffff)
                c = v;
            p += k;
        } else {
            p++;
        }
        if (c > 0xffff) {
            c -= 0x10000;
            o += (size_t)snprintf(out + o, 13, "\\u%04x\\u%04x", 0xd800 + (c >> 10),
                                  0xdc00 + (c & 0x3ff));
        } else {
            o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
        }
    }
    out[o] = '\0';
    return out;
}

/* Prints and releases o; the text is pz_malloc'd. */
char *pz_json_print_take(cJSON *o, bool formatted)
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
    char *r = ascii_only(s);
    cJSON_free(s);
    return r;
}

char *pz_json_print(const cJSON *v, bool formatted)
{
    return v ? pz_json_print_take(cJSON_Duplicate(v, true), formatted) : NULL;
}
