/*
 * `pzarr get` and `pzarr put` of variable-length arrays: JSON Lines, one
 * element per line in C order of the region. A string element is a JSON
 * string (UTF-8 kept, control characters escaped); a bytes element is a
 * JSON string of the characters U+0000..U+00FF, one per byte, written as
 * \u00XX above 0x7E (Python: json.loads(line).encode("latin-1") gives the
 * bytes back).
 *
 * Rank 0 reads or writes the text and the elements, in blocks along axis 0
 * of at most CLI_VLEN_BLOCK elements; the other ranks take part in the
 * collective calls only (string arrays are names and labels, not bulk data).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLI_VLEN_BLOCK ((uint64_t)1 << 20)

/* Rows of axis 0 per block, and the block's box. */
static uint64_t rows_per_block(int nd, const uint64_t *count)
{
    uint64_t row = 1;
    for (int d = 1; d < nd; d++)
        row *= count[d] ? count[d] : 1;
    uint64_t r = CLI_VLEN_BLOCK / (row ? row : 1);
    return r ? r : 1;
}

/* Appends c to the growing line. */
typedef struct line_buf {
    char *p;
    size_t n, cap;
} line_buf;

static int put_c(line_buf *l, const char *s, size_t n)
{
    if (l->n + n + 2 > l->cap) {
        size_t nc = l->cap ? l->cap : 256;
        while (l->n + n + 2 > nc)
            nc *= 2;
        char *np = realloc(l->p, nc);
        if (!np)
            return -1;
        l->p = np;
        l->cap = nc;
    }
    memcpy(l->p + l->n, s, n);
    l->n += n;
    return 0;
}

/* One element as a JSON string and a newline. Strings keep their UTF-8;
 * bytes above 0x7E are written \u00XX, so the line is ASCII. */
static int element_line(pzarr_dtype t, const unsigned char *p, size_t n, line_buf *l)
{
    l->n = 0;
    int rc = put_c(l, "\"", 1);
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char b = p[i];
        char esc[8];
        if (b == '"' || b == '\\') {
            esc[0] = '\\';
            esc[1] = (char)b;
            rc = put_c(l, esc, 2);
        } else if (b == '\n') {
            rc = put_c(l, "\\n", 2);
        } else if (b == '\t') {
            rc = put_c(l, "\\t", 2);
        } else if (b < 0x20 || (t == PZARR_VLEN_BYTES && b > 0x7E) || b == 0x7F) {
            snprintf(esc, sizeof esc, "\\u%04x", b);
            rc = put_c(l, esc, 6);
        } else {
            rc = put_c(l, (const char *)&b, 1);
        }
    }
    return rc ? rc : put_c(l, "\"\n", 2);
}

int cli_vlen_get(cli *c, const char *path, pzarr_array *a, const pzarr_array_info *in,
                 const uint64_t *start, const uint64_t *count, const char *out_name)
{
    int rc = CLI_OK, fd = -1, nd = in->ndim;
    bool created = false;
    if (c->rank == 0) {
        if (!out_name || strcmp(out_name, "-") == 0) {
            fd = STDOUT_FILENO;
        } else if ((fd = open(out_name, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
            rc = cli_fail(c, "cannot write %s: %s", out_name, strerror(errno));
        } else {
            created = true;
        }
    }
    uint64_t rows = nd ? count[0] : 1, per = rows_per_block(nd, count);
    uint64_t empty = 0;
    line_buf line = {0};
    for (int d = 0; d < nd; d++)
        empty |= count[d] == 0;
    for (uint64_t r0 = 0; c->rank == 0 && !rc && !empty && r0 < rows; r0 += per) {
        uint64_t bs[PZARR_MAX_NDIM], bn[PZARR_MAX_NDIM];
        for (int d = 0; d < nd; d++) {
            bs[d] = start[d];
            bn[d] = count[d];
        }
        if (nd) {
            bs[0] = start[0] + r0;
            bn[0] = rows - r0 < per ? rows - r0 : per;
        }
        uint64_t n = 1, *off = NULL;
        for (int d = 0; d < nd; d++)
            n *= bn[d];
        void *data = NULL;
        int e = pzarr_array_read_vlen(a, bs, bn, &off, &data);
        if (e) {
            rc = cli_lib_fail(c, e, pzarr_array_errmsg(a), "reading %s", path);
            break;
        }
        for (uint64_t i = 0; i < n && !rc; i++) {
            if (element_line(in->dtype, (const unsigned char *)data + off[i],
                             (size_t)(off[i + 1] - off[i]), &line) != 0) {
                rc = cli_fail(c, "out of memory");
                break;
            }
            if (cli_write_full(fd, line.p, line.n) != 0)
                rc = cli_fail(c, "writing %s: %s", out_name ? out_name : "-", strerror(errno));
        }
        pzarr_free(off);
        pzarr_free(data);
    }
    free(line.p);
    if (fd > STDOUT_FILENO && close(fd) != 0 && !rc)
        rc = cli_fail(c, "closing %s: %s", out_name, strerror(errno));
    if (rc && created)
        unlink(out_name);
    return cli_agree(c, rc);
}

/* ------------------------------------------------------------ put */

/* The whole input in memory (string arrays are small). */
static int slurp(cli *c, const char *name, char **text, size_t *len)
{
    int fd = strcmp(name, "-") == 0 ? STDIN_FILENO : open(name, O_RDONLY);
    if (fd < 0)
        return cli_fail(c, "cannot read input %s: %s", name, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    int rc = b ? CLI_OK : cli_fail(c, "out of memory");
    for (;;) {
        if (rc)
            break;
        if (n == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) {
                rc = cli_fail(c, "out of memory reading %s", name);
                break;
            }
            b = nb;
            cap *= 2;
        }
        ssize_t got = read(fd, b + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = cli_fail(c, "reading %s: %s", name, strerror(errno));
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (fd != STDIN_FILENO)
        close(fd);
    if (rc) {
        free(b);
        return rc;
    }
    b[n] = '\0';
    *text = b;
    *len = n;
    return CLI_OK;
}

static int hex4(const char *p, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* Code point cp as UTF-8 (strings) or as one byte (bytes: cp < 256). */
static int emit_cp(pzarr_dtype t, uint32_t cp, unsigned char *out, size_t *o)
{
    if (t == PZARR_VLEN_BYTES) {
        if (cp > 0xFF)
            return -1;
        out[(*o)++] = (unsigned char)cp;
    } else if (cp < 0x80) {
        out[(*o)++] = (unsigned char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (unsigned char)(0xC0 | cp >> 6);
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (unsigned char)(0xE0 | cp >> 12);
        out[(*o)++] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (unsigned char)(0xF0 | cp >> 18);
        out[(*o)++] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        out[(*o)++] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return 0;
}

/* The next UTF-8 character of a string line as a code point. */
static int utf8_cp(const unsigned char *s, size_t *i, uint32_t *cp)
{
    unsigned char c = s[*i];
    int k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
    if (k < 0)
        return -1;
    *cp = k == 0 ? c : c & (0x3F >> k);
    for (int j = 1; j <= k; j++) {
        if ((s[*i + (size_t)j] & 0xC0) != 0x80)
            return -1;
        *cp = *cp << 6 | (s[*i + (size_t)j] & 0x3F);
    }
    *i += (size_t)k + 1;
    return 0;
}

/* Line `no`, one JSON string, appended as one element to data. */
static int parse_line(cli *c, pzarr_dtype t, const char *line, uint64_t no, const char *name,
                      unsigned char **data, size_t *size, size_t *cap)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t n = strlen(line), i = 0;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\t'))
        n--;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (n - i < 2 || s[i] != '"' || s[n - 1] != '"')
        return cli_fail(c, "%s line %llu: not a JSON string (one element per line)", name,
                        (unsigned long long)no);
    size_t need = *size + 4 * (n - i);
    if (need > *cap) {
        size_t nc = *cap ? *cap : 4096;
        while (nc < need)
            nc *= 2;
        unsigned char *nd = realloc(*data, nc);
        if (!nd)
            return cli_fail(c, "out of memory");
        *data = nd;
        *cap = nc;
    }
    i++;
    n--;
    while (i < n) {
        uint32_t cp;
        if (s[i] == '\\') {
            char e = i + 1 < n ? (char)s[i + 1] : '\0';
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e && simple) {
                static const char real[] = "\"\\/\b\f\n\r\t";
                cp = (unsigned char)real[simple - "\"\\/bfnrt"];
                i += 2;
            } else if (e == 'u' && i + 6 <= n && hex4(line + i + 2, &cp) == 0) {
                i += 6;
                uint32_t lo;
                if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= n && s[i] == '\\' &&
                    s[i + 1] == 'u' && hex4(line + i + 2, &lo) == 0 && lo >= 0xDC00 &&
                    lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                } else if (cp >= 0xD800 && cp < 0xE000) {
                    return cli_fail(c, "%s line %llu: a lone surrogate \\u%04x", name,
                                    (unsigned long long)no, (unsigned)cp);
                }
            } else {
                return cli_fail(c, "%s line %llu: a bad escape in a JSON string", name,
                                (unsigned long long)no);
            }
        } else if (s[i] == '"' || s[i] < 0x20) {
            return cli_fail(c, "%s line %llu: not one JSON string (unescaped '\"' or control "
                               "character)",
                            name, (unsigned long long)no);
        } else if (utf8_cp(s, &i, &cp) != 0) {
            return cli_fail(c, "%s line %llu: not UTF-8", name, (unsigned long long)no);
        }
        if (emit_cp(t, cp, *data, size) != 0)
            return cli_fail(c, "%s line %llu: a bytes element holds characters U+0000..U+00FF "
                               "only",
                            name, (unsigned long long)no);
    }
    return CLI_OK;
}

int cli_vlen_put(cli *c, const char *path, pzarr_array *a, const pzarr_array_info *in,
                 const uint64_t *start, const uint64_t *count, const char *in_name)
{
    int rc = CLI_OK, nd = in->ndim;
    uint64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= count[d];
    char *text = NULL;
    size_t len = 0, size = 0, cap = 0;
    unsigned char *data = NULL;
    uint64_t *off = NULL, got = 0;
    if (c->rank == 0)
        rc = slurp(c, in_name, &text, &len);
    if (!rc && c->rank == 0 && !(off = malloc((size_t)(n + 1) * sizeof *off)))
        rc = cli_fail(c, "out of memory");
    for (char *p = text; !rc && c->rank == 0 && p && p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        if (nl)
            *nl = '\0';
        if (*p) { /* blank lines (a last newline) are no elements */
            if (got == n) {
                rc = cli_fail(c, "%s: more than the region's %llu elements", in_name,
                              (unsigned long long)n);
                break;
            }
            off[got] = size;
            rc = parse_line(c, in->dtype, p, got + 1, in_name, &data, &size, &cap);
            got++;
        }
        p = nl ? nl + 1 : NULL;
    }
    if (!rc && c->rank == 0 && got != n)
        rc = cli_fail(c, "%s: %llu elements for a region of %llu", in_name,
                      (unsigned long long)got, (unsigned long long)n);
    if (!rc && c->rank == 0 && n) {
        off[n] = size;
        int e = pzarr_array_write_vlen(a, start, count, off, data ? (void *)data : (void *)"");
        if (e)
            rc = cli_lib_fail(c, e, pzarr_array_errmsg(a), "writing %s", path);
    }
    free(text);
    free(data);
    free(off);
    return cli_agree(c, rc);
}
