"""Shared helpers of the pzarr interoperability drivers.

Runs under /usr/bin/python3 (Debian's python with zarr-python 2.13 and numpy).
Every check is counted; the driver ends with one summary line
"interop: N passed, M failed[, K skipped]" and exits non-zero when anything
failed or nothing passed.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys

import numpy as np

# ---------------------------------------------------------------- reporting


class Report:
    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []
        self.notes = []

    # PASS lines only with PZARR_INTEROP_VERBOSE=1 (ctest --output-on-failure
    # would otherwise print hundreds of them); FAIL, SKIP and NOTE always.
    verbose = os.environ.get("PZARR_INTEROP_VERBOSE", "") not in ("", "0")

    def ok(self, label):
        self.passed += 1
        if self.verbose:
            print(f"PASS {label}", flush=True)

    def fail(self, label, msg):
        self.failed += 1
        self.failures.append(f"{label}: {msg}")
        print(f"FAIL {label}: {msg}", flush=True)

    def skip(self, label, why):
        self.skipped += 1
        print(f"SKIP {label}: {why}", flush=True)

    def note(self, msg):
        self.notes.append(msg)
        print(f"NOTE {msg}", flush=True)

    def check(self, label, msg):
        """msg None is a pass, anything else a failure."""
        if msg is None:
            self.ok(label)
        else:
            self.fail(label, msg)
        return msg is None

    def finish(self):
        print(f"--- {self.title} ---")
        for n in self.notes:
            print(f"note: {n}")
        if self.failures:
            print(f"{len(self.failures)} failure(s) (full messages above):")
            for f in self.failures[:60]:
                print(f"  {f[:300]}")
            if len(self.failures) > 60:
                print(f"  ... and {len(self.failures) - 60} more")
        line = f"interop: {self.passed} passed, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} skipped"
        print(line, flush=True)
        if self.failed or self.passed == 0:
            sys.exit(1)
        sys.exit(0)


def parse_args(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--pzarr", required=True, help="the pzarr CLI binary")
    p.add_argument("--work", required=True, help="scratch directory (wiped)")
    p.add_argument("--filter", default="", help="only cases whose name contains this")
    p.add_argument("--mpiexec", default="", help="mpiexec, for the multi-rank checks")
    if extra:
        extra(p)
    return p.parse_args()


def fresh_dir(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    return path


def seed_of(name):
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


# ---------------------------------------------------------------- pzarr CLI

CRASH_MARKERS = ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                 "LeakSanitizer", "Segmentation fault", "core dumped")


class PzResult:
    def __init__(self, argv, rc, out, err):
        self.argv = argv
        self.rc = rc
        self.out = out
        self.err = err.decode("utf-8", "replace") if isinstance(err, bytes) else err

    @property
    def crashed(self):
        return self.rc is None or self.rc < 0 or self.rc >= 128 or any(
            m in self.err for m in CRASH_MARKERS)

    def cmd(self):
        return " ".join(_quote(a) for a in self.argv)

    def why(self):
        e = self.err.strip().replace("\n", " | ")
        if len(e) > 400:
            e = e[:400] + "..."
        return f"`{self.cmd()}` exited {self.rc}: {e}"


def _quote(a):
    a = str(a)
    if a and all(c.isalnum() or c in "/._-:,=+" for c in a):
        return a
    return "'" + a.replace("'", "'\\''") + "'"


class Pzarr:
    def __init__(self, binary):
        self.binary = os.path.abspath(binary)

    def run(self, args, stdin=None, timeout=120):
        argv = [self.binary] + [str(a) for a in args]
        try:
            p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=timeout)
            return PzResult(argv, p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired as e:
            return PzResult(argv, None, e.stdout or b"", f"TIMEOUT after {timeout}s")

    def mpi(self, mpiexec, nprocs, args, timeout=180):
        """Runs `mpiexec -n nprocs pzarr ARGS`."""
        argv = [mpiexec, "-n", str(nprocs), self.binary] + [str(a) for a in args]
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, stdin=subprocess.DEVNULL)
            return PzResult(argv, p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired as e:
            return PzResult(argv, None, e.stdout or b"", f"TIMEOUT after {timeout}s")

    def get(self, path, region=None):
        args = ["get", path]
        if region is not None:
            args += ["--region", region]
        args += ["-o", "-", "-q"]
        return self.run(args)

    def put(self, path, data_bytes, region=None):
        args = ["put", path]
        if region is not None:
            args += ["--region", region]
        args += ["-i", "-", "-q"]
        return self.run(args, stdin=data_bytes)


# ---------------------------------------------------------------- regions


def region_arg(sel):
    """A tuple of slices -> '0:10,5:20'; () -> None (whole 0-d array)."""
    if len(sel) == 0:
        return None
    return ",".join(f"{s.start}:{s.stop}" for s in sel)


def full_sel(shape):
    return tuple(slice(0, n) for n in shape)


def chunk_grid(shape, chunks):
    return tuple(-(-n // c) if n else 0 for n, c in zip(shape, chunks))


def chunk_sel(shape, chunks, cc):
    return tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(cc, chunks, shape))


def all_chunk_coords(shape, chunks):
    return list(np.ndindex(*chunk_grid(shape, chunks))) if shape else [()]


def random_box(rng, shape):
    sel = []
    for n in shape:
        a = int(rng.integers(0, n))
        b = int(rng.integers(a + 1, n + 1))
        sel.append(slice(a, b))
    return tuple(sel)


# ---------------------------------------------------------------- comparison


def native(arr):
    """C-order, native-endian copy of arr: what `pzarr get` must print."""
    arr = np.asarray(arr)
    return np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("="), copy=False))


def _fmt_elem(x, dt):
    raw = np.ascontiguousarray(np.asarray(x, dtype=dt)).tobytes()
    return f"{np.asarray(x, dtype=dt)!r} (bytes {raw.hex()})"


def compare(expected, actual_bytes):
    """None if actual_bytes is exactly native(expected).tobytes(), else a message
    naming the first differing element index and both values."""
    exp = native(expected)
    want = exp.tobytes()
    if actual_bytes == want:
        return None
    if len(actual_bytes) != len(want):
        return (f"got {len(actual_bytes)} bytes, expected {len(want)} "
                f"(shape {exp.shape}, dtype {exp.dtype.str}); first bytes got "
                f"{actual_bytes[:16].hex()} expected {want[:16].hex()}")
    isz = exp.dtype.itemsize
    a = np.frombuffer(want, np.uint8).reshape(-1, isz)
    b = np.frombuffer(actual_bytes, np.uint8).reshape(-1, isz)
    diff = np.any(a != b, axis=1)
    first = int(np.argmax(diff))
    ndiff = int(diff.sum())
    idx = np.unravel_index(first, exp.shape) if exp.shape else ()
    got = np.frombuffer(actual_bytes, exp.dtype).reshape(exp.shape)
    return (f"{ndiff} of {exp.size} elements differ; first at index "
            f"{tuple(int(i) for i in idx)}: expected {_fmt_elem(exp[idx], exp.dtype)}, "
            f"got {_fmt_elem(got[idx], exp.dtype)}")


def same_values(expected, actual):
    """Elementwise identity of two arrays of possibly different byte order.
    NaN equals NaN (bit patterns compared after conversion to native order)."""
    e = native(expected)
    a = native(np.asarray(actual))
    if e.shape != a.shape:
        return f"shape {a.shape}, expected {e.shape}"
    if e.dtype != a.dtype:
        return f"dtype {a.dtype.str}, expected {e.dtype.str}"
    return compare(e, a.tobytes())


# ---------------------------------------------------------------- dtypes

V3_NAME = {
    "b1": "bool", "i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
    "u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
    "f2": "float16", "f4": "float32", "f8": "float64",
    "c8": "complex64", "c16": "complex128",
}


def v3_name(dt):
    dt = np.dtype(dt)
    return V3_NAME[f"{dt.kind}{dt.itemsize}"]


def make_data(dt, shape, rng):
    """Deterministic data for dt, in dt's own byte order: mostly a small set of
    values in runs (so that every compressor really compresses instead of
    storing the chunk raw), sprinkled with values from the whole range of dt
    and, for floats, inf, -inf, -0.0 and NaN."""
    dt = np.dtype(dt)
    nat = dt.newbyteorder("=")
    n = int(np.prod(shape)) if shape else 1
    runs = np.repeat(rng.integers(0, 6, n // 4 + 1), 4)[:n]
    wild = rng.random(n) < 0.15
    if dt.kind == "b":
        v = (runs % 2).astype(bool)
        v[wild] = rng.integers(0, 2, int(wild.sum())).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(nat)
        v = (runs + (info.min if dt.kind == "i" and dt.itemsize == 1 else 0)).astype(nat)
        v[wild] = rng.integers(info.min, info.max, int(wild.sum()), endpoint=True, dtype=nat)
    elif dt.kind == "f":
        scale = 100.0 if dt.itemsize == 2 else 1e6
        v = (runs * 0.5 - 1).astype(nat)
        v[wild] = (rng.standard_normal(int(wild.sum())) * scale).astype(nat)
        specials = np.array([np.inf, -np.inf, -0.0, np.nan], dtype=nat)
        k = min(n, len(specials))
        pos = rng.choice(n, k, replace=False)
        v[pos] = specials[:k]
    elif dt.kind == "c":
        part = np.float32 if dt.itemsize == 8 else np.float64
        v = (runs * 0.5).astype(nat) + 1j * (runs * -0.25).astype(nat)
        m = int(wild.sum())
        v[wild] = (rng.standard_normal(m) * 1e3).astype(part) + 1j * (rng.standard_normal(m) * 1e3).astype(part)
        v = v.astype(nat)
    else:
        raise ValueError(dt)
    return v.reshape(shape).astype(dt)


# Shapes and chunk shapes the drivers rotate through: ragged edges
# everywhere, 1-d to 4-d, tiny chunks and chunks large enough for blosc to
# compress (it stores buffers under 128 bytes raw).
GEOMETRIES = [
    ((23, 17), (5, 4)),
    ((101,), (10,)),
    ((60, 50), (16, 16)),
    ((7, 9, 5), (3, 4, 2)),
    ((300,), (64,)),
    ((3, 4, 5, 6), (2, 3, 2, 4)),
    ((20, 30, 12), (8, 16, 12)),
]


def blosc_compressed_chunks(paths):
    """(chunks whose blosc header says 'compressed', chunks in all)."""
    comp = total = 0
    for p in paths:
        with open(p, "rb") as f:
            h = f.read(16)
        if len(h) == 16:
            total += 1
            if not h[2] & 0x02:  # BLOSC_MEMCPYED
                comp += 1
    return comp, total


def chunk_files(path, meta_names=(".zarray", ".zattrs", "zarr.json")):
    out = []
    for d, _, fs in os.walk(path):
        out += [os.path.join(d, f) for f in fs if f not in meta_names]
    return out


# ---------------------------------------------------------------- crc32c


def _crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


_CRC_T = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_T[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


# ---------------------------------------------------------------- pzarr writes


def _num_cli(v):
    if isinstance(v, float):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    return str(v)


def fill_cli(v):
    """Python fill value -> the --fill argument of `pzarr create`."""
    if v is None:
        return "null"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, complex):
        return f"{_num_cli(v.real)},{_num_cli(v.imag)}"
    return _num_cli(v)


def chunk_key(fmt, sep, cc):
    if fmt == 2:
        return sep.join(str(i) for i in cc) if cc else "0"
    return sep.join(["c"] + [str(i) for i in cc])


def pzarr_create(pz, path, c):
    """c: dict with format, dtype (numpy str), shape, chunks, codec (CLI spec),
    fill, order, sep, endian."""
    # With "inner", c["chunks"] is the shard shape (the outer chunk grid) and
    # c["inner"] the inner chunk shape (--shard / --chunks on the CLI).
    inner = c.get("inner")
    args = ["create", path, "--dtype", v3_name(c["dtype"]),
            "--shape", ",".join(str(n) for n in c["shape"]),
            "--chunks", ",".join(str(n) for n in (inner or c["chunks"])),
            "--codec", c["codec"], "--format", str(c["format"]),
            "--order", c["order"], "--separator", c["sep"], "--endian", c["endian"]]
    if inner:
        args += ["--shard", ",".join(str(n) for n in c["chunks"])]
    args += ["--fill", fill_cli(c["fill"])]
    return pz.run(args)


def pzarr_put_pattern(pz, path, c, rng, log):
    """Writes a pattern with `pzarr put` and returns (expected array in native
    order, info). The last chunk row along axis 0 is never written; chunk
    (0,...,0) ends up all fill (written with fill values last); the rest holds
    data, written partly through unaligned boxes. log(label, PzResult) is
    called for every failing command; returns None then."""
    dt = np.dtype(c["dtype"]).newbyteorder("=")
    shape, chunks = tuple(c["shape"]), tuple(c["chunks"])
    fillv = np.zeros((), dt) if c["fill"] is None else np.asarray(c["fill"], dt)
    expected = np.empty(shape, dt)
    expected[...] = fillv
    info = {"never_written": [], "all_fill": None}

    def put(sel, block):
        r = pz.put(path, native(block).tobytes(), region_arg(sel))
        if r.rc != 0 or r.crashed:
            log(f"put region={region_arg(sel)}", r)
            return False
        expected[sel] = block
        return True

    if not shape:
        if not put((), make_data(dt, (), rng)):
            return None, info
        return expected, info
    grid = chunk_grid(shape, chunks)
    split = chunks[0] * (grid[0] - 1) if grid[0] >= 2 else shape[0]
    slab = (slice(0, split),) + full_sel(shape[1:])
    if not put(slab, make_data(dt, tuple(s.stop - s.start for s in slab), rng)):
        return None, info
    box = random_box(rng, (split,) + shape[1:])
    if not put(box, make_data(dt, tuple(s.stop - s.start for s in box), rng)):
        return None, info
    if grid[0] >= 2:
        info["never_written"] = [cc for cc in all_chunk_coords(shape, chunks) if cc[0] == grid[0] - 1]
        z0 = chunk_sel(shape, chunks, (0,) * len(shape))
        blk = np.empty(tuple(s.stop - s.start for s in z0), dt)
        blk[...] = fillv
        if not put(z0, blk):
            return None, info
        info["all_fill"] = (0,) * len(shape)
    return expected, info


# ---------------------------------------------------------------- node


def run_node(node, prefix, script, manifest, rep, timeout=600):
    """Runs a zarrita driver (in the npm prefix) and books its JSON lines."""
    import json
    argv = [node, os.path.join(prefix, script), manifest]
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, cwd=prefix)
    except subprocess.TimeoutExpired:
        rep.fail(script, f"node timed out after {timeout}s")
        return {}
    results = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            print(f"[node] {line}")
            continue
        results[o["label"]] = o
    if p.returncode != 0:
        rep.fail(script, f"`{' '.join(argv)}` exited {p.returncode}: "
                 + p.stderr.decode("utf-8", "replace")[-2000:])
    elif p.stderr.strip():
        print(p.stderr.decode("utf-8", "replace")[-2000:])
    return results
