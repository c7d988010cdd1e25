/*
 * _pzarr: the CPython face of libpzarr, kept thin; the Pythonic layer is
 * pzarr/__init__.py. Handles are capsules; numpy arrays pass through the
 * buffer protocol (no copy, no numpy C API); every call into pzarr that may
 * do I/O or wait for other ranks runs with the GIL released. A failure
 * raises _pzarr.Error(code, name, message), which the Python layer turns
 * into the matching pzarr.Error subclass.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <mpi.h>
#include <stdint.h>
#include <string.h>

#include "pzarr.h"

static PyObject *Error; /* _pzarr.Error(code, name, message) */
static int we_initialized;

static PyObject *fail(int code, const char *msg)
{
    PyObject *args = Py_BuildValue("(iss)", code, pzarr_errname(code), msg ? msg : "");
    if (args) {
        PyErr_SetObject(Error, args);
        Py_DECREF(args);
    }
    return NULL;
}

static pzarr_store *store_of(PyObject *cap)
{
    return PyCapsule_GetPointer(cap, "pzarr.store");
}

static pzarr_array *array_of(PyObject *cap)
{
    return PyCapsule_GetPointer(cap, "pzarr.array");
}

/* ------------------------------------------------------------ MPI */

static int ensure_mpi(void)
{
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (fin) {
        fail(PZARR_EINVAL, "MPI is already finalized");
        return -1;
    }
    if (!init) {
        /* pzarr's own threads make no MPI calls: FUNNELED is what it needs */
        int provided = 0;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            fail(PZARR_EMPI, "MPI_Init_thread failed");
            return -1;
        }
        we_initialized = 1;
    }
    return 0;
}

static PyObject *py_finalize(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    int fin = 0;
    MPI_Finalized(&fin);
    if (we_initialized && !fin) {
        Py_BEGIN_ALLOW_THREADS
        MPI_Finalize();
        Py_END_ALLOW_THREADS
    }
    we_initialized = 0;
    Py_RETURN_NONE;
}

static PyObject *py_library_version(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    return PyUnicode_DecodeUTF8(v, n, "replace");
}

/* comm: -1 MPI_COMM_WORLD, -2 MPI_COMM_SELF, else a Fortran handle
 * (mpi4py's comm.py2f()) of the same MPI library. */
static int comm_from(long f, MPI_Comm *c)
{
    if (f == -1)
        *c = MPI_COMM_WORLD;
    else if (f == -2)
        *c = MPI_COMM_SELF;
    else
        *c = MPI_Comm_f2c((MPI_Fint)f);
    if (*c == MPI_COMM_NULL) {
        fail(PZARR_EINVAL, "the communicator is MPI_COMM_NULL");
        return -1;
    }
    return 0;
}

static PyObject *py_comm_info(PyObject *self, PyObject *args)
{
    (void)self;
    long f;
    if (!PyArg_ParseTuple(args, "l", &f) || ensure_mpi() != 0)
        return NULL;
    MPI_Comm c;
    if (comm_from(f, &c) != 0)
        return NULL;
    int rank = 0, size = 1;
    MPI_Comm_rank(c, &rank);
    MPI_Comm_size(c, &size);
    return Py_BuildValue("(ii)", rank, size);
}

/* ------------------------------------------------------------ stores */

static PyObject *py_open(PyObject *self, PyObject *args)
{
    (void)self;
    const char *path;
    int flags;
    long f;
    PyObject *hints;
    if (!PyArg_ParseTuple(args, "sliO", &path, &f, &flags, &hints) || ensure_mpi() != 0)
        return NULL;
    MPI_Comm comm;
    if (comm_from(f, &comm) != 0)
        return NULL;
    MPI_Info info = MPI_INFO_NULL;
    if (hints != Py_None) {
        if (!PyDict_Check(hints))
            return fail(PZARR_EINVAL, "hints must be a dict of str to str");
        MPI_Info_create(&info);
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(hints, &pos, &k, &v)) {
            const char *ks = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : NULL;
            const char *vs = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : NULL;
            if (!ks || !vs) {
                MPI_Info_free(&info);
                PyErr_Clear();
                return fail(PZARR_EINVAL, "hints must be a dict of str to str");
            }
            MPI_Info_set(info, ks, vs);
        }
    }
    pzarr_store *s = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_open_info(comm, path, flags, info, &s);
    Py_END_ALLOW_THREADS
    if (info != MPI_INFO_NULL)
        MPI_Info_free(&info);
    if (rc) {
        PyObject *r = fail(rc, s ? pzarr_errmsg(s) : pzarr_strerror(rc));
        if (s)
            pzarr_close(s); /* collective, as the failed open was */
        return r;
    }
    return PyCapsule_New(s, "pzarr.store", NULL);
}

static PyObject *py_close(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap))
        return NULL;
    pzarr_store *s = store_of(cap);
    if (!s)
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_close(s);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, pzarr_strerror(rc));
    Py_RETURN_NONE;
}

static PyObject *py_store_format(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap) || !store_of(cap))
        return NULL;
    return PyLong_FromLong(pzarr_store_format(store_of(cap)));
}

static PyObject *py_store_errmsg(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap) || !store_of(cap))
        return NULL;
    return PyUnicode_FromString(pzarr_errmsg(store_of(cap)));
}

/* Runs a store call's outcome: None, or the error with the store's message. */
static PyObject *store_done(pzarr_store *s, int rc)
{
    if (rc)
        return fail(rc, pzarr_errmsg(s));
    Py_RETURN_NONE;
}

static PyObject *py_node_kind(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    const char *name;
    if (!PyArg_ParseTuple(args, "Os", &cap, &name) || !store_of(cap))
        return NULL;
    pzarr_node_kind k = PZARR_NODE_NONE;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_node_kind_of(store_of(cap), name, &k);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, pzarr_errmsg(store_of(cap)));
    return PyLong_FromLong((long)k);
}

static PyObject *py_group_list(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    const char *name;
    if (!PyArg_ParseTuple(args, "Os", &cap, &name) || !store_of(cap))
        return NULL;
    char **names = NULL;
    size_t n = 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_group_list(store_of(cap), name, &names, &n);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, pzarr_errmsg(store_of(cap)));
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; l && i < n; i++)
        PyList_SET_ITEM(l, (Py_ssize_t)i, PyUnicode_FromString(names[i]));
    pzarr_free_list(names, n);
    return l;
}

static PyObject *py_group_create(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    const char *name, *attrs;
    int fmt;
    if (!PyArg_ParseTuple(args, "Osiz", &cap, &name, &fmt, &attrs) || !store_of(cap))
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_group_create(store_of(cap), name, fmt, attrs);
    Py_END_ALLOW_THREADS
    return store_done(store_of(cap), rc);
}

static PyObject *py_attrs_get(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    const char *name;
    if (!PyArg_ParseTuple(args, "Os", &cap, &name) || !store_of(cap))
        return NULL;
    char *json = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_attrs_get(store_of(cap), name, &json);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, pzarr_errmsg(store_of(cap)));
    PyObject *r = PyUnicode_FromString(json);
    pzarr_free(json);
    return r;
}

static PyObject *py_attrs_update(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    const char *name, *json;
    int replace;
    if (!PyArg_ParseTuple(args, "Ossp", &cap, &name, &json, &replace) || !store_of(cap))
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = replace ? pzarr_attrs_set(store_of(cap), name, json)
                 : pzarr_attrs_update(store_of(cap), name, json);
    Py_END_ALLOW_THREADS
    return store_done(store_of(cap), rc);
}

static PyObject *py_stats(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap) || !store_of(cap))
        return NULL;
    pzarr_stats st;
    pzarr_get_stats(store_of(cap), &st);
    return Py_BuildValue("{sKsKsKsKsKsKsKsKsKsKsKsKsK}", "iflushes",
                         (unsigned long long)st.iflushes, "inflight_bytes",
                         (unsigned long long)st.inflight_bytes, "inflight_peak",
                         (unsigned long long)st.inflight_peak, "meta_reads",
                         (unsigned long long)st.meta_reads,
                         "meta_writes", (unsigned long long)st.meta_writes, "chunk_reads",
                         (unsigned long long)st.chunk_reads, "chunk_writes",
                         (unsigned long long)st.chunk_writes, "chunk_deletes",
                         (unsigned long long)st.chunk_deletes, "bytes_read",
                         (unsigned long long)st.bytes_read, "bytes_written",
                         (unsigned long long)st.bytes_written, "shard_writes",
                         (unsigned long long)st.shard_writes, "commits",
                         (unsigned long long)st.commits, "chunk_rewrites",
                         (unsigned long long)st.chunk_rewrites);
}

/* ------------------------------------------------------------ arrays */

static int u64_list(PyObject *seq, int max, uint64_t *out, int *n, const char *what)
{
    PyObject *f = PySequence_Fast(seq, what);
    if (!f)
        return -1;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(f);
    if (len > max) {
        Py_DECREF(f);
        fail(PZARR_EINVAL, what);
        return -1;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned long long v = PyLong_AsUnsignedLongLong(PySequence_Fast_GET_ITEM(f, i));
        if (PyErr_Occurred()) {
            Py_DECREF(f);
            return -1;
        }
        out[i] = v;
    }
    *n = (int)len;
    Py_DECREF(f);
    return 0;
}

static PyObject *py_array_create(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *shape, *chunks, *shards, *dims;
    const char *name, *codec, *fill, *attrs;
    unsigned int dtype;
    int fmt;
    if (!PyArg_ParseTuple(args, "OsIOOOzzOzi", &cap, &name, &dtype, &shape, &chunks, &shards,
                          &codec, &fill, &dims, &attrs, &fmt) ||
        !store_of(cap))
        return NULL;
    pzarr_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.zarr_format = fmt;
    sp.dtype = (pzarr_dtype)dtype;
    int n = 0, nc = 0, ns = 0;
    if (u64_list(shape, PZARR_MAX_NDIM, sp.shape, &n, "shape") ||
        u64_list(chunks, PZARR_MAX_NDIM, sp.chunks, &nc, "chunks") ||
        u64_list(shards, PZARR_MAX_NDIM, sp.shard, &ns, "shards"))
        return NULL;
    if ((nc && nc != n) || (ns && ns != n))
        return fail(PZARR_EINVAL, "chunks and shards need as many entries as shape");
    sp.ndim = n;
    sp.codec = codec;
    sp.fill = fill;
    sp.attributes = attrs;
    PyObject *df = PySequence_Fast(dims, "dims");
    if (!df)
        return NULL;
    if (PySequence_Fast_GET_SIZE(df) && PySequence_Fast_GET_SIZE(df) != n) {
        Py_DECREF(df);
        return fail(PZARR_EINVAL, "dims needs one name per dimension");
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(df); i++) {
        PyObject *d = PySequence_Fast_GET_ITEM(df, i);
        sp.dims[i] = d == Py_None ? NULL : PyUnicode_AsUTF8(d);
        if (d != Py_None && !sp.dims[i]) {
            Py_DECREF(df);
            return NULL;
        }
    }
    pzarr_array *a = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_array_create_spec(store_of(cap), name, &sp, &a);
    Py_END_ALLOW_THREADS
    Py_DECREF(df);
    if (rc)
        return fail(rc, pzarr_errmsg(store_of(cap)));
    return PyCapsule_New(a, "pzarr.array", NULL);
}

static PyObject *py_array_open(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    const char *name;
    if (!PyArg_ParseTuple(args, "Os", &cap, &name) || !store_of(cap))
        return NULL;
    pzarr_array *a = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_array_open(store_of(cap), name, &a);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, pzarr_errmsg(store_of(cap)));
    return PyCapsule_New(a, "pzarr.array", NULL);
}

static PyObject *dims_tuple(int n, const uint64_t *v)
{
    PyObject *t = PyTuple_New(n);
    for (int i = 0; t && i < n; i++)
        PyTuple_SET_ITEM(t, i, PyLong_FromUnsignedLongLong(v[i]));
    return t;
}

static PyObject *py_array_info(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap) || !array_of(cap))
        return NULL;
    pzarr_array *a = array_of(cap);
    pzarr_array_info in;
    int rc = pzarr_array_get_info(a, &in);
    if (rc)
        return fail(rc, pzarr_array_errmsg(a));
    char **names = NULL;
    size_t nn = 0;
    PyObject *dims = NULL;
    if (pzarr_array_dimension_names(a, &names, &nn) == 0 && names) {
        dims = PyTuple_New((Py_ssize_t)nn);
        for (size_t i = 0; dims && i < nn; i++)
            PyTuple_SET_ITEM(dims, (Py_ssize_t)i, PyUnicode_FromString(names[i]));
        pzarr_free_list(names, nn);
    } else {
        dims = Py_None;
        Py_INCREF(dims);
    }
    char *meta = NULL;
    PyObject *doc = NULL;
    if (pzarr_array_metadata(a, &meta) == 0) {
        doc = PyUnicode_FromString(meta);
        pzarr_free(meta);
    } else {
        doc = Py_None;
        Py_INCREF(doc);
    }
    return Py_BuildValue("{sisisIsNsNsisNsNsN}", "zarr_format", in.zarr_format, "ndim", in.ndim,
                         "dtype", (unsigned)in.dtype, "shape", dims_tuple(in.ndim, in.shape),
                         "chunks", dims_tuple(in.ndim, in.chunks), "sharded", in.sharded,
                         "inner_chunks", dims_tuple(in.ndim, in.inner_chunks), "dims", dims,
                         "metadata", doc);
}

static int box_of(PyObject *start, PyObject *count, uint64_t *st, uint64_t *ct, int *nd)
{
    int n1 = 0, n2 = 0;
    if (u64_list(start, PZARR_MAX_NDIM, st, &n1, "start") ||
        u64_list(count, PZARR_MAX_NDIM, ct, &n2, "count"))
        return -1;
    if (n1 != n2) {
        fail(PZARR_EINVAL, "start and count differ in length");
        return -1;
    }
    *nd = n1;
    return 0;
}

enum { OP_READ, OP_READ_ALL, OP_WRITE };

/* read / read_all / write of a box through a contiguous buffer. */
static PyObject *io(PyObject *args, int op)
{
    PyObject *cap, *start, *count, *obj;
    if (!PyArg_ParseTuple(args, "OOOO", &cap, &start, &count, &obj) || !array_of(cap))
        return NULL;
    pzarr_array *a = array_of(cap);
    uint64_t st[PZARR_MAX_NDIM], ct[PZARR_MAX_NDIM];
    int nd;
    if (box_of(start, count, st, ct, &nd) != 0)
        return NULL;
    Py_buffer view;
    int flags = PyBUF_C_CONTIGUOUS | (op == OP_WRITE ? 0 : PyBUF_WRITABLE);
    if (obj == Py_None) { /* an empty box (read_all of a rank that wants nothing) */
        memset(&view, 0, sizeof view);
    } else if (PyObject_GetBuffer(obj, &view, flags) != 0) {
        return NULL;
    }
    pzarr_array_info in;
    pzarr_array_get_info(a, &in);
    uint64_t n = 1;
    for (int d = 0; d < nd; d++)
        n *= ct[d];
    if (nd == in.ndim && (uint64_t)view.len != n * in.itemsize && (n || view.len)) {
        if (obj != Py_None)
            PyBuffer_Release(&view);
        return fail(PZARR_EINVAL, "the buffer's size does not match the box");
    }
    int rc;
    void *buf = view.buf;
    Py_BEGIN_ALLOW_THREADS
    rc = op == OP_READ       ? pzarr_array_read(a, st, ct, buf)
         : op == OP_READ_ALL ? pzarr_array_read_all(a, st, ct, buf)
                             : pzarr_array_write(a, st, ct, buf);
    Py_END_ALLOW_THREADS
    if (obj != Py_None)
        PyBuffer_Release(&view);
    if (rc)
        return fail(rc, pzarr_array_errmsg(a));
    Py_RETURN_NONE;
}

static PyObject *py_read(PyObject *self, PyObject *args)
{
    (void)self;
    return io(args, OP_READ);
}

static PyObject *py_read_all(PyObject *self, PyObject *args)
{
    (void)self;
    return io(args, OP_READ_ALL);
}

static PyObject *py_write(PyObject *self, PyObject *args)
{
    (void)self;
    return io(args, OP_WRITE);
}

/* Variable length: (offsets as bytes of uint64, data as bytes). */
static PyObject *py_read_vlen(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *start, *count;
    if (!PyArg_ParseTuple(args, "OOO", &cap, &start, &count) || !array_of(cap))
        return NULL;
    pzarr_array *a = array_of(cap);
    uint64_t st[PZARR_MAX_NDIM], ct[PZARR_MAX_NDIM], n = 1;
    int nd;
    if (box_of(start, count, st, ct, &nd) != 0)
        return NULL;
    for (int d = 0; d < nd; d++)
        n *= ct[d];
    uint64_t *off = NULL;
    void *data = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_array_read_vlen(a, st, ct, &off, &data);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, pzarr_array_errmsg(a));
    PyObject *r = Py_BuildValue("(y#y#)", (const char *)off, (Py_ssize_t)((n + 1) * 8),
                                (const char *)data, (Py_ssize_t)off[n]);
    pzarr_free(off);
    pzarr_free(data);
    return r;
}

static PyObject *py_write_vlen(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *start, *count;
    Py_buffer off, data;
    if (!PyArg_ParseTuple(args, "OOOy*y*", &cap, &start, &count, &off, &data))
        return NULL;
    PyObject *r = NULL;
    pzarr_array *a = array_of(cap);
    uint64_t st[PZARR_MAX_NDIM], ct[PZARR_MAX_NDIM];
    int nd, rc;
    if (a && box_of(start, count, st, ct, &nd) == 0) {
        const uint64_t *o = off.buf;
        const void *d = data.buf;
        Py_BEGIN_ALLOW_THREADS
        rc = pzarr_array_write_vlen(a, st, ct, o, d);
        Py_END_ALLOW_THREADS
        if (rc)
            fail(rc, pzarr_array_errmsg(a));
        else
            r = Py_None, Py_INCREF(r);
    }
    PyBuffer_Release(&off);
    PyBuffer_Release(&data);
    return r;
}

/* flush / close / resize: collective, the array's message on failure */
static PyObject *py_flush(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap) || !array_of(cap))
        return NULL;
    pzarr_array *a = array_of(cap);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_array_flush(a);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, pzarr_array_errmsg(a));
    Py_RETURN_NONE;
}

static PyObject *py_array_close(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *scap;
    if (!PyArg_ParseTuple(args, "OO", &cap, &scap) || !array_of(cap) || !store_of(scap))
        return NULL;
    int rc;
    pzarr_array *a = array_of(cap);
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_array_close(a);
    Py_END_ALLOW_THREADS
    if (rc) /* the handle is gone; the store keeps the message */
        return fail(rc, pzarr_errmsg(store_of(scap)));
    Py_RETURN_NONE;
}

static PyObject *py_resize(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *shape;
    if (!PyArg_ParseTuple(args, "OO", &cap, &shape) || !array_of(cap))
        return NULL;
    uint64_t sh[PZARR_MAX_NDIM];
    int n;
    if (u64_list(shape, PZARR_MAX_NDIM, sh, &n, "shape") != 0)
        return NULL;
    pzarr_array *a = array_of(cap);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_array_resize(a, sh);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, pzarr_array_errmsg(a));
    Py_RETURN_NONE;
}

/* Requests: a capsule holding a pzarr_request (NULL once waited). */
static void req_free(PyObject *cap)
{
    PyMem_Free(PyCapsule_GetPointer(cap, "pzarr.request"));
}

static PyObject *py_iflush(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap) || !array_of(cap))
        return NULL;
    pzarr_array *a = array_of(cap);
    pzarr_request *h = PyMem_Malloc(sizeof *h);
    if (!h)
        return PyErr_NoMemory();
    *h = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_array_iflush(a, h);
    Py_END_ALLOW_THREADS
    if (rc) {
        PyMem_Free(h);
        return fail(rc, pzarr_array_errmsg(a));
    }
    PyObject *r = PyCapsule_New(h, "pzarr.request", req_free);
    if (!r)
        PyMem_Free(h);
    return r;
}

static PyObject *py_wait(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap, *acap;
    if (!PyArg_ParseTuple(args, "OO", &cap, &acap))
        return NULL;
    pzarr_request *h = PyCapsule_GetPointer(cap, "pzarr.request");
    if (!h)
        return NULL;
    pzarr_array *a = acap == Py_None ? NULL : array_of(acap);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pzarr_wait(h);
    Py_END_ALLOW_THREADS
    if (rc)
        return fail(rc, a ? pzarr_array_errmsg(a) : "the request was already completed, or "
                                                      "its array closed");
    Py_RETURN_NONE;
}

static PyObject *py_test(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap))
        return NULL;
    pzarr_request *h = PyCapsule_GetPointer(cap, "pzarr.request");
    if (!h)
        return NULL;
    int done = 0, rc = pzarr_test(h, &done);
    if (rc)
        return fail(rc, "the request was already completed");
    return PyBool_FromLong(done);
}

static PyObject *py_dtype_size(PyObject *self, PyObject *args)
{
    (void)self;
    unsigned int t;
    if (!PyArg_ParseTuple(args, "I", &t))
        return NULL;
    return PyLong_FromSize_t(pzarr_dtype_size((pzarr_dtype)t));
}

static PyMethodDef methods[] = {
    {"finalize", py_finalize, METH_NOARGS, "MPI_Finalize, if this module called MPI_Init."},
    {"library_version", py_library_version, METH_NOARGS, "MPI_Get_library_version."},
    {"comm_info", py_comm_info, METH_VARARGS, "(rank, size) of a communicator handle."},
    {"open", py_open, METH_VARARGS, "open(path, comm, flags, hints) -> store."},
    {"close", py_close, METH_VARARGS, "close(store)."},
    {"errmsg", py_store_errmsg, METH_VARARGS, "the store's last message."},
    {"store_format", py_store_format, METH_VARARGS, "the root group's format."},
    {"node_kind", py_node_kind, METH_VARARGS, "node_kind(store, name) -> 0/1/2."},
    {"group_list", py_group_list, METH_VARARGS, "group_list(store, name) -> names."},
    {"group_create", py_group_create, METH_VARARGS, "group_create(store, name, fmt, attrs)."},
    {"attrs_get", py_attrs_get, METH_VARARGS, "attrs_get(store, name) -> JSON."},
    {"attrs_update", py_attrs_update, METH_VARARGS, "attrs_update(store, name, JSON, replace)."},
    {"stats", py_stats, METH_VARARGS, "stats(store) -> dict."},
    {"array_create", py_array_create, METH_VARARGS, "array_create(store, name, ...) -> array."},
    {"array_open", py_array_open, METH_VARARGS, "array_open(store, name) -> array."},
    {"array_info", py_array_info, METH_VARARGS, "array_info(array) -> dict."},
    {"read", py_read, METH_VARARGS, "read(array, start, count, out)."},
    {"read_all", py_read_all, METH_VARARGS, "read_all(array, start, count, out)."},
    {"write", py_write, METH_VARARGS, "write(array, start, count, data)."},
    {"read_vlen", py_read_vlen, METH_VARARGS, "read_vlen(array, start, count) -> (offs, data)."},
    {"write_vlen", py_write_vlen, METH_VARARGS, "write_vlen(array, start, count, offs, data)."},
    {"flush", py_flush, METH_VARARGS, "flush(array)."},
    {"array_close", py_array_close, METH_VARARGS, "array_close(array, store)."},
    {"resize", py_resize, METH_VARARGS, "resize(array, shape)."},
    {"dtype_size", py_dtype_size, METH_VARARGS, "pzarr_dtype_size."},
    {"iflush", py_iflush, METH_VARARGS, "iflush(array) -> request."},
    {"wait", py_wait, METH_VARARGS, "wait(request, array)."},
    {"test", py_test, METH_VARARGS, "test(request) -> bool."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pzarr", "libpzarr, thinly (see the pzarr package).", -1, methods,
    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__pzarr(void)
{
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Error = PyErr_NewException("_pzarr.Error", NULL, NULL);
    if (!Error || PyModule_AddObject(m, "Error", Error) != 0) {
        Py_XDECREF(Error);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(Error);
    static const struct {
        const char *name;
        long v;
    } k[] = {
        {"RDONLY", PZARR_RDONLY}, {"RDWR", PZARR_RDWR}, {"CREATE", PZARR_CREATE},
        {"FORMAT_V2", PZARR_FORMAT_V2}, {"DURABLE", PZARR_DURABLE},
        {"NO_CONSOLIDATE", PZARR_NO_CONSOLIDATE}, {"EXCL", PZARR_EXCL},
        {"ASYNC", PZARR_ASYNC},
        {"BOOL", PZARR_BOOL}, {"INT8", PZARR_INT8}, {"INT16", PZARR_INT16},
        {"INT32", PZARR_INT32}, {"INT64", PZARR_INT64}, {"UINT8", PZARR_UINT8},
        {"UINT16", PZARR_UINT16}, {"UINT32", PZARR_UINT32}, {"UINT64", PZARR_UINT64},
        {"FLOAT16", PZARR_FLOAT16}, {"FLOAT32", PZARR_FLOAT32}, {"FLOAT64", PZARR_FLOAT64},
        {"COMPLEX64", PZARR_COMPLEX64}, {"COMPLEX128", PZARR_COMPLEX128},
        {"VLEN_STRING", (long)PZARR_VLEN_STRING}, {"VLEN_BYTES", (long)PZARR_VLEN_BYTES},
        {"STRING_MAX", PZARR_STRING_MAX},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (PyModule_AddIntConstant(m, k[i].name, k[i].v) != 0) {
            Py_DECREF(m);
            return NULL;
        }
    return m;
}
