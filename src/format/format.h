/*
 * format: Zarr documents <-> structs. zarr.json (v3), .zarray, .zattrs and
 * .zgroup (v2) to pz_meta and back, fill values, the chunk grid and chunk
 * keys of an array. Pure: no MPI, no files.
 */
#ifndef PZ_FORMAT_H
#define PZ_FORMAT_H

#include "codec/codec.h"

/* The attribute that holds dimension names in Zarr v2 (xarray's convention). */
#define PZ_V2_DIMS_ATTR "_ARRAY_DIMENSIONS"

#define PZ_FILL_MAX PZARR_STRING_MAX /* the largest element */

typedef struct pz_meta {
    int zarr_format; /* 2 or 3 */
    int ndim;
    uint64_t shape[PZ_MAX_NDIM];
    uint64_t chunks[PZ_MAX_NDIM]; /* regular chunk grid */
    pzarr_dtype dtype;
    size_t itemsize;
    /* Fill value as the element's native bytes. v2 "fill_value": null sets
     * fill_null and the bytes to zero. */
    unsigned char fill[PZ_FILL_MAX]; /* one element, native order */
    bool fill_null;
    /* Chunk keys: v3 "default" gives prefix "c" and key_sep; v3 "v2" and
     * Zarr v2 give no prefix. */
    char key_sep; /* '/' or '.' */
    bool key_v2_style;
    pz_pipeline pipeline; /* for sharded arrays: the inner chunks' codecs */
    pz_shard_spec shard;
    /* v2 only, kept to emit the document again */
    bool v2_order_f;
    bool v2_big_endian;
    /* v3 dimension_names, or v2's "_ARRAY_DIMENSIONS" attribute (which
     * stays in attributes): NULL or ndim entries, each NULL or a string */
    char **dimension_names;
    /* The attributes object (never NULL after a successful parse). */
    cJSON *attributes;
    /* Codecs pzarr does not know, kept as they are (opened with
     * PZARR_OPAQUE_CODECS): v3 the "codecs" array, v2 an object with
     * "compressor" and "filters"; the pipeline is then empty and says why
     * in its `unsupported`. NULL otherwise. */
    char *opaque_codecs;
    bool opaque_ok; /* parse: take unknown codecs so */
} pz_meta;

/* ---------------------------------------------------------------- array documents (meta.c) */

/*
 * Parses an array document. For v3, `doc` is zarr.json. For v2, `doc` is
 * .zarray and `attrs_doc` the optional .zattrs text (may be NULL); an
 * "attributes" member inside .zarray is also accepted (creation). Every
 * field is validated; sizes are overflow-checked; the error names the field.
 */
int pz_meta_parse(const char *doc, size_t len, const char *attrs_doc,
                  size_t attrs_len, pz_meta *m, pz_err *e);
/* Like pz_meta_parse but the format is given (2: .zarray, 3: zarr.json);
 * used when the format is known from the file name. */
int pz_meta_parse_format(int zarr_format, const char *doc, size_t len,
                         const char *attrs_doc, size_t attrs_len, pz_meta *m,
                         pz_err *e);
/* pz_meta_parse_format (format 0: either), keeping codecs pzarr does not
 * know in m->opaque_codecs when opaque_ok instead of failing. */
int pz_meta_parse_opts(int zarr_format, const char *doc, size_t len, const char *attrs_doc,
                       size_t attrs_len, bool opaque_ok, pz_meta *m, pz_err *e);
/* Emits the array document: zarr.json for v3 (attributes included), .zarray
 * for v2 (without attributes; those go to .zattrs via pz_meta_emit_attrs).
 * Returns a pz_malloc'd string or NULL. */
char *pz_meta_emit(const pz_meta *m);
/* A v3 "data_type": its name, or for UTF-32 strings the object
 * {"name": "fixed_length_utf32", "configuration": {"length_bytes": N}}. */
cJSON *pz_meta_v3_data_type(pzarr_dtype t);
char *pz_meta_emit_attrs(const pz_meta *m);
void pz_meta_free(pz_meta *m);
int pz_meta_copy(const pz_meta *src, pz_meta *dst);

/* Group documents (zarr.json or .zgroup). */
char *pz_group_emit(int zarr_format, const cJSON *attributes);

/* spec.c: the array document a spec describes (pz_malloc'd text);
 * PZARR_EINVAL with a message naming the field that is wrong. */
int pz_spec_document(const pzarr_spec *spec, char **json, pz_err *e);

/* Chunks along dimension d and in all (UINT64_MAX on overflow). */
uint64_t pz_meta_grid_dim(const pz_meta *m, int d);
uint64_t pz_meta_nchunks(const pz_meta *m);
/* Writes the chunk key ("c/0/1", "0.1", "c" for 0-d, ...) of chunk grid
 * coordinates cc. */
int pz_meta_chunk_key(const pz_meta *m, const uint64_t *cc, char *out, size_t cap);

/* ---------------------------------------------------------------- fill values (fill.c) */

/* Parses JSON into the element's native bytes / emits the JSON value. */
int pz_fill_parse(const cJSON *v, pzarr_dtype t, int zarr_format,
                  unsigned char out[PZ_FILL_MAX], bool *is_null, pz_err *e);
cJSON *pz_fill_emit(pzarr_dtype t, int zarr_format, const unsigned char *fill,
                    bool is_null);
/* A variable-length array's fill value: its bytes (and length) inside the
 * fill[] that pz_fill_parse filled; set from bytes (PZARR_EUNSUPPORTED when
 * longer than a fill holds). */
const unsigned char *pz_fill_vlen(const unsigned char *fill, size_t *len);
int pz_fill_set_vlen(unsigned char *fill, const void *bytes, size_t len);

#endif /* PZ_FORMAT_H */
