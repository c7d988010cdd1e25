"""pzarr: parallel Zarr v2/v3 arrays for MPI programs.

    from mpi4py import MPI          # optional: without it, MPI_COMM_WORLD
    import pzarr

    with pzarr.open("run.zarr", "w", comm=MPI.COMM_WORLD) as st:
        a = st.create_array("temp", shape=(64, 256, 256), dtype="f8",
                            chunks=(1, 256, 256), dims=("t", "y", "x"))
        a[rank * 16:(rank + 1) * 16] = block     # local write
        a.flush()                                # collective
        total = a.read_all((slice(None), 0, 0))  # collective read

Calls marked collective must be made by every rank of the store's
communicator, in the same order (a rank with nothing to read passes an empty
box). Failures raise a pzarr.Error subclass on every rank of a collective
call. The GIL is released while pzarr does I/O or waits for other ranks.
"""
import atexit
import json
import sys

import numpy as np

from . import _build

__all__ = ["open", "Store", "Array", "Error", "errors", "library_version"]


# ---------------------------------------------------------------- the MPI library

def _check_mpi4py():
    """Two MPI libraries cannot share one process: refuse before loading ours."""
    m = sys.modules.get("mpi4py.MPI")
    if m is None:
        return
    theirs = m.Get_library_version()
    ours = _build.MPI_VENDOR
    if ours.lower() not in theirs.lower():
        raise ImportError(
            f"pzarr was built with {ours}, but mpi4py in this process uses "
            f"{theirs.splitlines()[0].strip()}: one process cannot hold both. Build pzarr "
            f"against mpi4py's MPI (Debian's python3-mpi4py is Open MPI: "
            f"cmake -DMPI_C_COMPILER=/usr/bin/mpicc.openmpi), or run without mpi4py.")


_check_mpi4py()
from . import _pzarr  # noqa: E402

# ---------------------------------------------------------------- errors


class Error(Exception):
    """A pzarr failure: .code (negative), .name ("PZARR_EBOUNDS"), .message."""

    def __init__(self, code, name, message):
        super().__init__(f"{name}: {message}" if message else name)
        self.code = code
        self.name = name
        self.message = message


def _sub(name, doc):
    return type(name, (Error,), {"__doc__": doc})


InvalidArgument = _sub("InvalidArgument", "PZARR_EINVAL")
OutOfMemory = _sub("OutOfMemory", "PZARR_ENOMEM")
IOFailure = _sub("IOFailure", "PZARR_EIO")
NotFound = _sub("NotFound", "PZARR_ENOENT")
AlreadyExists = _sub("AlreadyExists", "PZARR_EEXIST")
MetadataError = _sub("MetadataError", "PZARR_EMETA")
Unsupported = _sub("Unsupported", "PZARR_EUNSUPPORTED")
CorruptChunk = _sub("CorruptChunk", "PZARR_ECORRUPT")
BadPath = _sub("BadPath", "PZARR_EPATH")
OutOfBounds = _sub("OutOfBounds", "PZARR_EBOUNDS")
MPIError = _sub("MPIError", "PZARR_EMPI")
BufferFull = _sub("BufferFull", "PZARR_EBUFFULL")
ReadOnly = _sub("ReadOnly", "PZARR_ERDONLY")
CodecError = _sub("CodecError", "PZARR_ECODEC")
NotAnArray = _sub("NotAnArray", "PZARR_ENOTARRAY")
NotAGroup = _sub("NotAGroup", "PZARR_ENOTGROUP")

errors = {-1: InvalidArgument, -2: OutOfMemory, -3: IOFailure, -4: NotFound, -5: AlreadyExists,
          -6: MetadataError, -7: Unsupported, -8: CorruptChunk, -9: BadPath, -10: OutOfBounds,
          -11: MPIError, -12: BufferFull, -13: ReadOnly, -14: CodecError, -15: NotAnArray,
          -16: NotAGroup}
for _c in errors.values():
    __all__.append(_c.__name__)


def _call(fn, *args):
    try:
        return fn(*args)
    except _pzarr.Error as e:
        code, name, msg = e.args
        raise errors.get(code, Error)(code, name, msg) from None


def library_version():
    """The MPI library pzarr runs on (MPI_Get_library_version)."""
    return _pzarr.library_version()


# ---------------------------------------------------------------- data types

_FIXED = {"|b1": _pzarr.BOOL, "|i1": _pzarr.INT8, "<i2": _pzarr.INT16, "<i4": _pzarr.INT32,
          "<i8": _pzarr.INT64, "|u1": _pzarr.UINT8, "<u2": _pzarr.UINT16, "<u4": _pzarr.UINT32,
          "<u8": _pzarr.UINT64, "<f2": _pzarr.FLOAT16, "<f4": _pzarr.FLOAT32,
          "<f8": _pzarr.FLOAT64, "<c8": _pzarr.COMPLEX64, "<c16": _pzarr.COMPLEX128}
_FIXED_BACK = {v: k for k, v in _FIXED.items()}
_TIME_UNITS = ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", ""]


def _code_of(dtype):
    """numpy dtype (or str / bytes / "string") -> pzarr_dtype."""
    if dtype in (str, "str", "string"):
        return _pzarr.VLEN_STRING
    if dtype in (bytes, "bytes"):
        return _pzarr.VLEN_BYTES
    dt = np.dtype(dtype)
    if dt.kind == "O":
        return _pzarr.VLEN_STRING
    dt = dt.newbyteorder("<") if dt.byteorder == ">" else dt
    if dt.kind in "Mm":
        unit, scale = np.datetime_data(dt)
        base = 0x40000000 if dt.kind == "M" else 0x41000000
        return base | (_TIME_UNITS.index(unit) << 20) | scale
    if dt.kind == "S":
        return 0x100000 + dt.itemsize
    if dt.kind == "U":
        return 0x200000 + dt.itemsize // 4
    if dt.str in _FIXED:
        return _FIXED[dt.str]
    raise InvalidArgument(-1, "PZARR_EINVAL", f"data type {dt} has no pzarr form")


def _numpy_of(code):
    """pzarr_dtype -> numpy dtype (object for variable-length elements)."""
    if code in (_pzarr.VLEN_STRING, _pzarr.VLEN_BYTES):
        return np.dtype(object)
    if code in _FIXED_BACK:
        return np.dtype(_FIXED_BACK[code])
    if code & 0x40000000:
        unit, scale = _TIME_UNITS[(code >> 20) & 0xF], code & 0xFFFFF
        kind = "m" if code & 0x01000000 else "M"
        return np.dtype(f"<{kind}8[{scale if scale > 1 else ''}{unit}]" if unit else f"<{kind}8")
    if code & 0x100000 and not code & 0x200000:
        return np.dtype(f"S{code - 0x100000}")
    if code & 0x200000:
        return np.dtype(f"<U{code - 0x200000}")
    raise Unsupported(-7, "PZARR_EUNSUPPORTED", f"data type {code:#x}")


# ---------------------------------------------------------------- stores

_MODES = {"r": _pzarr.RDONLY, "r+": _pzarr.RDWR, "a": _pzarr.CREATE,
          "w": _pzarr.CREATE | _pzarr.EXCL}
_open_stores = []  # closed at exit, in the order opened (the same on every rank)


def _comm_handle(comm):
    if comm is None:
        return -1  # MPI_COMM_WORLD
    if comm == "self":
        return -2
    f = comm.py2f()
    return f


def open(path, mode="r", comm=None, durable=False, hints=None, format=3,
         consolidate=True, background=False):
    """Opens (collectively) the store at path. mode: "r" read-only, "r+" read
    and write, "a" create if absent, "w" create a new store (one that exists
    is refused with AlreadyExists: pzarr never deletes a store; remove it
    first, or use "a"). comm: an mpi4py communicator,
    None for MPI_COMM_WORLD (MPI is initialized if needed), or "self".
    durable: flushes survive a power loss. hints: MPI-IO hints (dict; also
    pzarr's "pzarr_io_threads" and "pzarr_throttle"). background: the store
    is opened with PZARR_ASYNC (whole chunks copied at write time, for
    Array.iflush to encode and write in the background).
    format: 2 or 3, for a store created here."""
    if mode not in _MODES:
        raise ValueError(f"mode {mode!r}: one of r, r+, a, w")
    flags = _MODES[mode]
    if durable:
        flags |= _pzarr.DURABLE
    if background:  # PZARR_ASYNC: writes are copies, iflush does the rest
        flags |= _pzarr.ASYNC
    if format == 2 and flags & _pzarr.CREATE:
        flags |= _pzarr.FORMAT_V2
    if not consolidate:
        flags |= _pzarr.NO_CONSOLIDATE
    h = _call(_pzarr.open, str(path), _comm_handle(comm), flags, hints)
    return Store(h, str(path), _comm_handle(comm), flags)


class Store:
    """An open store: a root group and the nodes under it."""

    def __init__(self, handle, path, comm, flags):
        self._h = handle
        self.path = path
        self._comm = comm
        self.rank, self.size = _pzarr.comm_info(comm)
        self.writable = bool(flags & (_pzarr.RDWR | _pzarr.CREATE))
        self._arrays = []
        _open_stores.append(self)

    def _handle(self):
        if self._h is None:
            raise InvalidArgument(-1, "PZARR_EINVAL", f"store {self.path} is closed")
        return self._h

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Flushes and closes every array still open, then the store. Collective."""
        if self._h is None:
            return
        err = None
        for a in list(self._arrays):
            try:
                a.close()
            except Error as e:
                err = err or e
        h, self._h = self._h, None
        if self in _open_stores:
            _open_stores.remove(self)
        _call(_pzarr.close, h)
        if err:
            raise err

    def __repr__(self):
        return f"<pzarr.Store {self.path!r} rank {self.rank}/{self.size}>"

    # nodes
    def create_array(self, name, shape, dtype, chunks=None, shards=None, codec="zstd:3",
                     fill=None, dims=None, attrs=None, format=None, order="C"):
        """Creates an array (collective). dtype: a numpy dtype, str or bytes
        (variable length). chunks: the chunk shape (None: one chunk); shards
        (v3): the shard shape, chunks inside. codec: "zstd:3", "blosc:lz4:5:shuffle",
        "zfp:accuracy:1e-3", "none", ... fill: the fill value (None: pzarr's
        default; with dims, NaN for floats). dims: dimension names (xarray's)."""
        if order not in ("C",):
            raise ValueError("order: pzarr writes C order from Python")
        shape = tuple(int(n) for n in shape)
        code = _code_of(dtype)
        fmt = format or self.format
        fillv = None if fill is None else (fill if isinstance(fill, str) else _fill_text(fill))
        h = _call(_pzarr.array_create, self._handle(), name, code, shape,
                  tuple(chunks or ()), tuple(shards or ()), codec, fillv,
                  tuple(dims or ()), json.dumps(attrs) if attrs is not None else None, fmt)
        return self._adopt(Array(self, h, name))

    @property
    def format(self):
        """The root group's Zarr format: what new nodes get by default."""
        return _pzarr.store_format(self._handle())

    def __getitem__(self, name):
        """Opens an array (collective)."""
        return self._adopt(Array(self, _call(_pzarr.array_open, self._handle(), name), name))

    def open_array(self, name):
        return self[name]

    def _adopt(self, a):
        self._arrays.append(a)
        return a

    def kind(self, name):
        """"array", "group" or None (collective)."""
        k = _call(_pzarr.node_kind, self._handle(), name)
        return {0: None, 1: "group", 2: "array"}[k]

    def list(self, name=""):
        """Names of the children of group `name` (collective)."""
        return _call(_pzarr.group_list, self._handle(), name)

    def groups(self, name=""):
        """Names of the child groups of `name` (collective)."""
        return [n for n in self.list(name) if self.kind(_join(name, n)) == "group"]

    def arrays(self, name=""):
        """Names of the child arrays of `name` (collective)."""
        return [n for n in self.list(name) if self.kind(_join(name, n)) == "array"]

    def create_group(self, name, attrs=None, format=None):
        fmt = format or self.format
        _call(_pzarr.group_create, self._handle(), name, fmt,
              json.dumps(attrs) if attrs is not None else None)

    @property
    def attrs(self):
        """The root group's attributes: a mapping whose updates are collective."""
        return Attributes(self, "")

    def attrs_of(self, name):
        return Attributes(self, name)

    def stats(self):
        """This rank's I/O counters (local)."""
        return _pzarr.stats(self._handle())


def _join(a, b):
    return f"{a}/{b}" if a else b


def _fill_text(v):
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (complex, np.complexfloating)):
        return f"{v.real!r},{v.imag!r}"
    if isinstance(v, float) and v != v:
        return "nan"
    return str(v)


class Attributes:
    """Attributes of a node. Reading is collective (rank 0 reads, all get it);
    every update (item set, update(), del) is a collective pzarr_attrs_update."""

    def __init__(self, store, name):
        self._s = store
        self._name = name

    def asdict(self):
        return json.loads(_call(_pzarr.attrs_get, self._s._handle(), self._name))

    def __getitem__(self, k):
        return self.asdict()[k]

    def __contains__(self, k):
        return k in self.asdict()

    def __iter__(self):
        return iter(self.asdict())

    def __len__(self):
        return len(self.asdict())

    def keys(self):
        return self.asdict().keys()

    def items(self):
        return self.asdict().items()

    def get(self, k, default=None):
        return self.asdict().get(k, default)

    def __setitem__(self, k, v):
        self.update({k: v})

    def update(self, d=None, **kw):
        d = dict(d or {}, **kw)
        _call(_pzarr.attrs_update, self._s._handle(), self._name, json.dumps(d), False)

    def __delitem__(self, k):
        d = self.asdict()
        del d[k]
        _call(_pzarr.attrs_update, self._s._handle(), self._name, json.dumps(d), True)

    def __repr__(self):
        return repr(self.asdict())


# ---------------------------------------------------------------- arrays


class Array:
    """An open array. Reads and writes of boxes: a[...] = x and a[...] are
    local (never wait for another rank); read_all, flush, resize and close are
    collective."""

    def __init__(self, store, handle, name):
        self._s = store
        self._h = handle
        self.name = name
        self._info()

    def _info(self):
        info = _call(_pzarr.array_info, self._handle())
        self.zarr_format = info["zarr_format"]
        self.shape = info["shape"]
        self.ndim = info["ndim"]
        self._code = info["dtype"]
        self.dtype = _numpy_of(self._code)
        self.vlen = self._code in (_pzarr.VLEN_STRING, _pzarr.VLEN_BYTES)
        self.chunks = info["inner_chunks"]
        self.shards = info["chunks"] if info["sharded"] else None
        self.dims = info["dims"]
        self._meta = json.loads(info["metadata"]) if info["metadata"] else {}

    def _handle(self):
        if self._h is None:
            raise InvalidArgument(-1, "PZARR_EINVAL", f"array {self.name} is closed")
        return self._h

    def __repr__(self):
        return f"<pzarr.Array {self.name!r} {self.shape} {self.dtype}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def fill_value(self):
        """The fill value as stored in the metadata (JSON form)."""
        return self._meta.get("fill_value")

    @property
    def metadata(self):
        return dict(self._meta)

    @property
    def attrs(self):
        return self._s.attrs_of(self.name)

    # boxes
    def _box(self, key):
        """(start, count, squeeze axes) of a basic index: ints, slices of
        step 1, Ellipsis."""
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            i = [k is Ellipsis for k in key].index(True)
            fill = (slice(None),) * (self.ndim - len(key) + 1)
            key = key[:i] + fill + key[i + 1:]
        if len(key) > self.ndim:
            raise IndexError(f"{len(key)} indices for an array of {self.ndim} dimensions")
        key = key + (slice(None),) * (self.ndim - len(key))
        start, count, squeeze = [], [], []
        for d, (k, n) in enumerate(zip(key, self.shape)):
            if isinstance(k, slice):
                lo, hi, step = k.indices(n)
                if step != 1:
                    raise IndexError(f"dimension {d}: slices with a step ({k.step}) are not "
                                     f"supported: read the box, then slice the numpy array")
                start.append(lo)
                count.append(max(0, hi - lo))
            elif isinstance(k, (int, np.integer)):
                i = int(k) + (n if k < 0 else 0)
                if not 0 <= i < n:
                    raise IndexError(f"index {int(k)} is out of bounds for dimension {d} "
                                     f"of size {n}")
                start.append(i)
                count.append(1)
                squeeze.append(d)
            else:
                raise IndexError(f"dimension {d}: index {k!r} is neither an int nor a slice "
                                 f"(fancy indexing is not supported)")
        return start, count, tuple(squeeze)

    def __getitem__(self, key):
        start, count, squeeze = self._box(key)
        out = self._read_box(start, count)
        return out.reshape([c for d, c in enumerate(count) if d not in squeeze]) \
            if squeeze else out

    def _read_box(self, start, count, out=None):
        if self.vlen:
            offs, data = _call(_pzarr.read_vlen, self._handle(), start, count)
            return self._objects(offs, data, count)
        if out is None:
            out = np.empty(count, dtype=self.dtype)
        _call(_pzarr.read, self._handle(), start, count, out)
        return out

    def _objects(self, offs, data, count):
        o = np.frombuffer(offs, dtype="<u8")
        n = len(o) - 1
        res = np.empty(n, dtype=object)
        s = self._code == _pzarr.VLEN_STRING
        for i in range(n):
            b = data[o[i]:o[i + 1]]
            res[i] = b.decode("utf-8") if s else b
        return res.reshape(count)

    def read(self, key=(), out=None):
        """Reads a box into `out` (a C-contiguous numpy array of the box's
        shape and dtype; a new one when None) and returns it. Local."""
        start, count, squeeze = self._box(key)
        if out is not None and self.vlen:
            raise InvalidArgument(-1, "PZARR_EINVAL", "out= is for fixed-size types")
        if out is not None:
            _check_out(out, count, self.dtype)
            return self._read_box(start, count, out)
        r = self._read_box(start, count)
        return r.reshape([c for d, c in enumerate(count) if d not in squeeze]) if squeeze else r

    def read_all(self, key=(), out=None):
        """Collective read: every rank passes its own box (it may be empty,
        e.g. slice(0, 0)); each chunk needed by any rank is read and decoded
        once, by its owner. Returns the box (in `out` when given)."""
        start, count, squeeze = self._box(key)
        if self.vlen:  # variable length: each rank reads its own
            return self._read_box(start, count)
        if out is None:
            out = np.empty(count, dtype=self.dtype)
        else:
            _check_out(out, count, self.dtype)
        empty = any(c == 0 for c in count)
        _call(_pzarr.read_all, self._handle(), start, count, None if empty else out)
        if squeeze and out.ndim == len(count):
            return out.reshape([c for d, c in enumerate(count) if d not in squeeze])
        return out

    def __setitem__(self, key, value):
        start, count, squeeze = self._box(key)
        if self.vlen:
            return self._write_vlen(start, count, value)
        shape = tuple(count)
        v = np.asarray(value, dtype=self.dtype)
        if v.shape != shape:
            v = np.broadcast_to(v, shape)
        v = np.ascontiguousarray(v)
        if any(c == 0 for c in count):
            return
        _call(_pzarr.write, self._handle(), start, count, v)

    def write(self, key, value):
        self[key] = value

    def _write_vlen(self, start, count, value):
        v = np.asarray(value, dtype=object)
        v = np.broadcast_to(v, tuple(count)) if v.shape != tuple(count) else v
        s = self._code == _pzarr.VLEN_STRING
        parts = [(x.encode("utf-8") if s else bytes(x)) for x in v.ravel()]
        offs = np.zeros(len(parts) + 1, dtype="<u8")
        np.cumsum([len(p) for p in parts], out=offs[1:])
        if len(parts):
            _call(_pzarr.write_vlen, self._handle(), start, count, offs.tobytes(),
                  b"".join(parts))

    def flush(self):
        """Makes every write before it, on any rank, visible (collective,
        all or nothing)."""
        _call(_pzarr.flush, self._handle())

    def iflush(self):
        """Starts a checkpoint in the background (collective): returns once
        the pieces that cross ranks have moved; this rank's chunks are
        encoded and written by background threads. -> Request; its wait()
        (collective) publishes it, all or nothing."""
        return Request(_call(_pzarr.iflush, self._handle()), self)

    def resize(self, shape):
        """A new shape (collective): pending writes flushed first."""
        _call(_pzarr.resize, self._handle(), tuple(int(n) for n in shape))
        self._info()

    def close(self):
        """Flushes and releases the array (collective)."""
        if self._h is None:
            return
        h, self._h = self._h, None
        if self in self._s._arrays:
            self._s._arrays.remove(self)
        _call(_pzarr.array_close, h, self._s._handle())

    def stats(self):
        """The store's I/O counters on this rank (local)."""
        return self._s.stats()


class Request:
    """A checkpoint in the background (Array.iflush)."""

    def __init__(self, handle, array):
        self._h = handle
        self._a = array
        self.done = False

    def wait(self):
        """Waits for every rank's background work and publishes the
        checkpoint (collective); raises the failure of any rank on all."""
        if self.done:
            raise InvalidArgument(-1, "PZARR_EINVAL", "the request was already waited")
        a = self._a._h
        self.done = True
        _call(_pzarr.wait, self._h, a if a is not None else None)

    def test(self):
        """Whether this rank's background work is done (local; wait() still
        publishes)."""
        if self.done:
            return True
        return _call(_pzarr.test, self._h)


def _check_out(out, count, dtype):
    if not isinstance(out, np.ndarray) or not out.flags.c_contiguous or \
            tuple(out.shape) != tuple(count) or out.dtype != dtype:
        raise InvalidArgument(-1, "PZARR_EINVAL",
                              f"out must be a C-contiguous {dtype} array of shape {tuple(count)}")


@atexit.register
def _at_exit():
    # Stores left open are closed in the order they were opened (the same on
    # every rank of a program that opened them in the same order); then MPI is
    # finalized if pzarr initialized it.
    for s in list(_open_stores):
        try:
            s.close()
        except Error:
            pass
    _pzarr.finalize()
