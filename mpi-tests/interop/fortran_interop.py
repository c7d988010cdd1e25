#!/usr/bin/python3
"""interop.fortran: the Fortran module against tools we did not write.

The Fortran program f_interop (mpi-tests/fortran) declares each array as
u(7, 5, 3) with element (i, j, k) a function of v = i + 10 j + 100 k. In
Zarr that is the shape [3, 5, 7] with the element at the C index
[k-1, j-1, i-1]; this driver computes the same values that way:

1. Fortran writes a v2 store on 3 ranks; zarr-python 2.13 reads every array
   (shape, dtype, values, dimension names for xarray).
2. Fortran writes a v3 store on 3 ranks; zarrita.js reads every array.
3. zarr-python writes a v2 store; Fortran reads it on 2 ranks.
4. zarrita.js writes v3 arrays; Fortran reads them on 2 ranks.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from interop_common import Report, fresh_dir, native, parse_args, run_node  # noqa: E402

NX, NY, NZ = 7, 5, 3
DTYPES = ["int8", "int16", "uint16", "int32", "int64", "float32", "float64",
          "complex64", "complex128", "bool"]


def expected(name):
    """The array as Fortran defines it, in C order (shape [NZ, NY, NX])."""
    k, j, i = np.meshgrid(np.arange(1, NZ + 1), np.arange(1, NY + 1), np.arange(1, NX + 1),
                          indexing="ij")
    v = i + 10 * j + 100 * k
    return {
        "int8": lambda: (v % 127).astype("i1"),
        "int16": lambda: (-v).astype("<i2"),
        "uint16": lambda: v.astype("<u2"),
        "int32": lambda: v.astype("<i4"),
        "int64": lambda: v.astype("<i8") * 10000000000,
        "float32": lambda: v.astype("<f4") / np.float32(8),
        "float64": lambda: 1.0 / v.astype("<f8"),
        "complex64": lambda: (v + -1j * k).astype("<c8"),
        "complex128": lambda: (1.0 / v + 1j * j).astype("<c16"),
        "bool": lambda: v % 3 == 0,
    }[name]()


def run(argv, rep, label, nread=None, timeout=300):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        rep.fail(label, f"`{' '.join(argv)}` timed out")
        return False
    out = p.stdout.decode("utf-8", "replace")
    good = p.returncode == 0 and " 0 wrong" in out
    if good and nread is not None and f": {nread} arrays read" not in out:
        return rep.fail(label, f"expected {nread} arrays read: {out[-1500:]}")
    return rep.check(label, None if good
                     else f"`{' '.join(argv)}` exited {p.returncode}: {out[-1500:]}")


def main():
    def extra(p):
        p.add_argument("--fortran", required=True, help="the f_interop program")
        p.add_argument("--node", required=True)
        p.add_argument("--node-prefix", required=True)
    args = parse_args(extra)
    import zarr
    root = fresh_dir(os.path.join(args.work, "fortran"))
    rep = Report("Fortran module against zarr-python 2.13 and zarrita.js")
    mpi = [args.mpiexec, "-n"]

    # 1. Fortran writes v2; zarr-python reads.
    f2 = os.path.join(root, "fortran-v2.zarr")
    if run(mpi + ["3", args.fortran, "write", f2, "2"], rep, "Fortran writes v2 on 3 ranks"):
        g = zarr.open_consolidated(f2, mode="r")
        for name in DTYPES:
            want = expected(name)
            a = g[name]
            got = a[...]
            msg = None
            if a.shape != (NZ, NY, NX):
                msg = f"shape {a.shape}, expected {(NZ, NY, NX)} (Fortran (7, 5, 3) reversed)"
            elif got.dtype != want.dtype:
                msg = f"dtype {got.dtype}, expected {want.dtype}"
            elif not np.array_equal(got, want):
                bad = np.argwhere(got != want)[0]
                msg = f"at C index {tuple(bad)}: {got[tuple(bad)]} != {want[tuple(bad)]}"
            elif a.attrs.get("_ARRAY_DIMENSIONS") != ["z", "y", "x"]:
                msg = f"_ARRAY_DIMENSIONS {a.attrs.get('_ARRAY_DIMENSIONS')}, expected z, y, x"
            rep.check(f"zarr-python reads Fortran's v2 {name}", msg)

    # 2. Fortran writes v3; zarrita reads.
    f3 = os.path.join(root, "fortran-v3.zarr")
    if run(mpi + ["3", args.fortran, "write", f3, "3"], rep, "Fortran writes v3 on 3 ranks"):
        manifest = []
        for name in DTYPES:
            exp = os.path.join(root, f"{name}.expected.bin")
            with open(exp, "wb") as fh:
                fh.write(native(expected(name)).tobytes())
            manifest.append(dict(label=f"zarrita reads Fortran's v3 {name}",
                                 path=os.path.join(f3, name), dtype=name,
                                 shape=[NZ, NY, NX], expect=exp,
                                 regions=[[[0, NZ], [0, NY], [0, NX]], [[1, 3], [0, 5], [4, 7]]]))
        mpath = os.path.join(root, "check-manifest.json")
        with open(mpath, "w") as fh:
            json.dump(manifest, fh)
        book(rep, run_node(args.node, args.node_prefix, "zarrita_check.mjs", mpath, rep))

    # 3. zarr-python writes v2; Fortran reads.
    p2 = os.path.join(root, "python-v2.zarr")
    g = zarr.open_group(p2, mode="w")
    for name in DTYPES:
        want = expected(name)
        a = g.create_dataset(name, shape=want.shape, chunks=(2, 3, 4), dtype=want.dtype)
        a[...] = want
    zarr.consolidate_metadata(p2)
    run(mpi + ["2", args.fortran, "check", p2], rep, "Fortran reads zarr-python's v2 on 2 ranks",
        nread=len(DTYPES))

    # 4. zarrita writes v3; Fortran reads.
    z3 = fresh_dir(os.path.join(root, "zarrita-v3.zarr"))
    manifest = []
    for name in DTYPES:
        exp = os.path.join(root, f"{name}.expected.bin")
        write = os.path.join(root, f"{name}.write.bin")
        with open(write, "wb") as fh:
            fh.write(native(expected(name)).tobytes())
        item = 1 if name in ("int8", "bool") else np.dtype(expected(name).dtype).itemsize
        codecs = [{"name": "bytes"} if item == 1 else
                  {"name": "bytes", "configuration": {"endian": "little"}}]
        manifest.append(dict(label=f"zarrita writes v3 {name}", path=os.path.join(z3, name),
                             dtype=name, shape=[NZ, NY, NX], chunks=[2, 3, 4], codecs=codecs,
                             fill=False if name == "bool" else 0, sep="/",
                             writes=[{"region": None, "file": write, "shape": [NZ, NY, NX]}],
                             expect=exp))
    mpath = os.path.join(root, "write-manifest.json")
    with open(mpath, "w") as fh:
        json.dump(manifest, fh)
    # zarrita has no complex types: Fortran reads the arrays it wrote.
    written = book(rep, run_node(args.node, args.node_prefix, "zarrita_write.mjs", mpath, rep))
    run(mpi + ["2", args.fortran, "check", z3], rep,
        f"Fortran reads zarrita's v3 ({written} arrays) on 2 ranks", nread=written)
    rep.finish()


def book(rep, results):
    """Books zarrita's JSON lines; returns how many passed."""
    passed = 0
    for label, o in sorted(results.items()):
        if o["status"] == "skip":
            rep.skip(label, o["msg"])
        else:
            rep.check(label, None if o["status"] == "pass" else o["msg"])
            passed += o["status"] == "pass"
    return passed


if __name__ == "__main__":
    main()
