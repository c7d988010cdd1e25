"""numpy side of the pzarr CLI tests: makes inputs and expected bytes.

usage:
  cli_np.py gen DTYPE COUNT OUT [SEED]           random elements, native order
  cli_np.py slice IN DTYPE SHAPE REGION OUT      OUT := IN[REGION]
  cli_np.py patch IN DTYPE SHAPE REGION PATCH OUT  OUT := IN with IN[REGION]=PATCH
  cli_np.py full DTYPE SHAPE VALUE OUT           OUT := full(SHAPE, VALUE)
  cli_np.py zarr2 PATH IN                        zarr-python reads PATH == IN
                                                 (exit 3 when zarr is missing)
  cli_np.py pty OUT CMD...                       runs CMD with a terminal as its
                                                 stdin/stdout/stderr; what it
                                                 printed goes to OUT; CMD's exit
SHAPE is comma-separated ("" for 0-d); REGION uses the CLI's syntax.
"""
import sys

import numpy as np


def shape_of(s):
    return tuple(int(x) for x in s.split(",")) if s else ()


def region_of(s, shape):
    if not shape:
        return ()
    out = []
    for part, dim in zip(s.split(","), shape):
        if ":" not in part:
            if part == "":
                out.append(slice(0, dim))
            else:
                i = int(part)
                i = i + dim if i < 0 else i
                out.append(slice(i, i + 1))
        else:
            a, b = part.split(":")
            out.append(slice(int(a) if a else 0, int(b) if b else dim))
    return tuple(out)


def load(path, dtype, shape):
    return np.fromfile(path, dtype=np.dtype(dtype)).reshape(shape)


def gen(dtype, count, out, seed="1"):
    rng = np.random.default_rng(int(seed))
    dt = np.dtype(dtype)
    n = int(count)
    if dt.kind == "b":
        a = rng.integers(0, 2, n).astype(dt)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
    elif dt.kind == "c":
        a = (rng.standard_normal(n) * 1e3 + 1j * rng.standard_normal(n)).astype(dt)
    else:
        a = (rng.standard_normal(n) * 1e3).astype(dt)
    a.tofile(out)


def run_in_pty(out, argv):
    import os
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    text = b""
    while True:
        try:
            d = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not d:
            break
        text += d
    _, status = os.waitpid(pid, 0)
    with open(out, "wb") as f:
        f.write(text)
    return os.waitstatus_to_exitcode(status)


def main(argv):
    cmd = argv[1]
    if cmd == "pty":
        return run_in_pty(argv[2], argv[3:])
    if cmd == "gen":
        gen(*argv[2:])
    elif cmd == "slice":
        src, dtype, shape, region, out = argv[2:7]
        a = load(src, dtype, shape_of(shape))
        a[region_of(region, shape_of(shape))].tofile(out)
    elif cmd == "patch":
        src, dtype, shape, region, patch, out = argv[2:8]
        sh = shape_of(shape)
        a = load(src, dtype, sh)
        sel = region_of(region, sh)
        a[sel] = np.fromfile(patch, dtype=np.dtype(dtype)).reshape(a[sel].shape)
        a.tofile(out)
    elif cmd == "full":
        dtype, shape, value, out = argv[2:6]
        v = complex(value) if np.dtype(dtype).kind == "c" else (
            value == "true" if dtype == "bool" else float(value))
        np.full(shape_of(shape), v, dtype=np.dtype(dtype)).tofile(out)
    elif cmd == "zarr2":
        try:
            import zarr
        except ImportError:
            return 3
        path, src = argv[2:4]
        z = zarr.open_array(path, mode="r")
        want = np.fromfile(src, dtype=z.dtype.newbyteorder("=")).reshape(z.shape)
        got = z[...]
        if got.tobytes() != want.astype(got.dtype).tobytes():
            print("zarr-python reads different values from", path)
            return 1
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
