#!/usr/bin/python3
"""interop.pzarr_reads_zarr_python: zarr-python 2.13 writes Zarr v2 arrays,
`pzarr get` must return exactly numpy's C-order native-endian bytes, for the
whole array and for sub-regions.

Covers every compressor (blosc lz4/lz4hc/zstd/blosclz/zlib with shuffle
0/1/2, zstd, gzip, zlib, none), both orders, both dimension separators,
dtypes i1 u1 i2 <i4 >i4 i8 u8 <f8 >f8 f4 c8 c16 b1 f2 (and big-endian
variants), fill values including NaN, +-Infinity and null, ragged edge
chunks, 0-d arrays and chunks never written (read as the fill value).
Unsupported features (numcodecs lz4, filters) must fail with "unsupported".
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import zarr  # noqa: E402
from numcodecs import GZip, LZ4, Blosc, Delta, Zlib, Zstd  # noqa: E402

from interop_common import GEOMETRIES as COMMON_GEOMETRIES  # noqa: E402
from interop_common import (Pzarr, Report, all_chunk_coords, blosc_compressed_chunks,  # noqa: E402
                            chunk_files, chunk_sel, compare,
                            fresh_dir, full_sel, make_data, native, parse_args,
                            random_box, region_arg, same_values, seed_of)

COMPRESSORS = (
    [(f"blosc-{cn}-s{sh}", Blosc(cname=cn, clevel=5, shuffle=sh))
     for cn in ("lz4", "zstd", "blosclz") for sh in (0, 1, 2)]
    + [("blosc-lz4hc-s1", Blosc(cname="lz4hc", clevel=5, shuffle=1)),
       ("blosc-zlib-s2", Blosc(cname="zlib", clevel=5, shuffle=2)),
       ("blosc-lz4-bs256", Blosc(cname="lz4", clevel=9, shuffle=1, blocksize=256)),
       ("zstd", Zstd(level=3)),
       ("gzip", GZip(level=6)),
       ("zlib", Zlib(level=4)),
       ("none", None)]
)

DTYPES = ["|i1", "|u1", "<i2", "<i4", ">i4", "<f8", ">f8", "<f4", "<c8", "<c16",
          "|b1", "<f2", ">i2", "<u2", ">u4", "<i8", ">u8", ">f4", ">c16", ">f2"]

# The common geometries plus a chunk spanning a whole axis and a column.
GEOMETRIES = COMMON_GEOMETRIES + [((12, 8), (4, 8)), ((40, 1), (7, 1))]


def default_fill(dt, i):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return bool(i % 2)
    if dt.kind in "iu":
        return [0, 7, 42][i % 3] if dt.kind == "u" else [0, -3, 42][i % 3]
    if dt.kind == "f":
        return [0.0, float("nan"), -1.5][i % 3]
    if dt.kind == "c":
        return [0j, 1.5 - 2j][i % 2]
    raise ValueError(dt)


def build_cases():
    cases = []
    i = 0
    # Every compressor x order x separator, dtype and geometry rotating.
    for cname, comp in COMPRESSORS:
        for order in ("C", "F"):
            for sep in (".", "/"):
                dt = DTYPES[i % len(DTYPES)]
                shape, chunks = GEOMETRIES[i % len(GEOMETRIES)]
                cases.append(dict(name=f"{cname}.{order}.{'slash' if sep == '/' else 'dot'}.{dt.strip('|<>')}{'be' if dt[0] == '>' else ''}",
                                  dtype=dt, shape=shape, chunks=chunks, comp=comp,
                                  order=order, sep=sep, fill=default_fill(dt, i),
                                  skip_every=3))
                i += 1
    # Every dtype x order with a rotating compressor.
    for j, dt in enumerate(DTYPES):
        for order in ("C", "F"):
            cname, comp = COMPRESSORS[(j * 2 + (order == "F")) % len(COMPRESSORS)]
            shape, chunks = GEOMETRIES[(j + (order == "F")) % len(GEOMETRIES)]
            sep = "/" if j % 2 else "."
            cases.append(dict(name=f"dtype.{dt.replace('<', 'le.').replace('>', 'be.').replace('|', '')}.{order}.{cname}",
                              dtype=dt, shape=shape, chunks=chunks, comp=comp, order=order,
                              sep=sep, fill=default_fill(dt, j + 1), skip_every=4))
    # Fill values.
    blz = Blosc(cname="lz4", clevel=5, shuffle=1)
    g2 = ((23, 17), (5, 4))
    for dt in ("<f8", ">f8", "<f4", ">f4", "<f2"):
        cases.append(dict(name=f"fill.nan.{dt}", dtype=dt, shape=g2[0], chunks=g2[1],
                          comp=blz, order="C", sep=".", fill=float("nan"), skip_every=2))
    cases.append(dict(name="fill.inf.<f8", dtype="<f8", shape=g2[0], chunks=g2[1], comp=Zstd(3),
                      order="F", sep="/", fill=float("inf"), skip_every=2))
    cases.append(dict(name="fill.-inf.>f4", dtype=">f4", shape=g2[0], chunks=g2[1], comp=None,
                      order="C", sep="/", fill=float("-inf"), skip_every=2))
    cases.append(dict(name="fill.true.b1", dtype="|b1", shape=g2[0], chunks=g2[1], comp=GZip(1),
                      order="F", sep=".", fill=True, skip_every=2))
    cases.append(dict(name="fill.complex.<c16", dtype="<c16", shape=g2[0], chunks=g2[1], comp=blz,
                      order="C", sep=".", fill=complex(1.5, -2.25), skip_every=2))
    cases.append(dict(name="fill.complex-nan.<c8", dtype="<c8", shape=g2[0], chunks=g2[1], comp=None,
                      order="C", sep=".", fill=complex(float("nan"), 0.5), skip_every=2))
    cases.append(dict(name="fill.u8max.>u8", dtype=">u8", shape=g2[0], chunks=g2[1], comp=Zlib(1),
                      order="C", sep="/", fill=2**64 - 1, skip_every=2))
    cases.append(dict(name="fill.i8min.<i8", dtype="<i8", shape=g2[0], chunks=g2[1], comp=None,
                      order="F", sep=".", fill=-2**63, skip_every=2))
    # null fill: every chunk written (zarr-python leaves missing chunks of a
    # null-fill array uninitialised) ...
    cases.append(dict(name="fill.null.<f8.full", dtype="<f8", shape=g2[0], chunks=g2[1], comp=blz,
                      order="C", sep=".", fill=None, skip_every=0))
    # ... and one with missing chunks, which pzarr reads as zeros.
    cases.append(dict(name="fill.null.<i4.missing", dtype="<i4", shape=g2[0], chunks=g2[1], comp=blz,
                      order="C", sep=".", fill=None, skip_every=2, null_zero=True))
    # Nothing written at all.
    cases.append(dict(name="empty.nan.<f4", dtype="<f4", shape=(9, 9), chunks=(4, 4), comp=blz,
                      order="C", sep=".", fill=float("nan"), skip_every=1))
    # Chunks that zarr-python left out because they were all fill.
    cases.append(dict(name="write-empty-false.<i2", dtype="<i2", shape=(20, 20), chunks=(5, 5),
                      comp=Zstd(1), order="C", sep="/", fill=5, skip_every=0, empty_chunks=True))
    # 0-d arrays.
    cases.append(dict(name="zero-d.<f8", dtype="<f8", shape=(), chunks=(), comp=None,
                      order="C", sep=".", fill=0.0, skip_every=0))
    cases.append(dict(name="zero-d.missing.>i4", dtype=">i4", shape=(), chunks=(), comp=blz,
                      order="C", sep=".", fill=-9, skip_every=1))
    # A single chunk bigger than the array in every dimension.
    cases.append(dict(name="chunk-larger-than-array.<u2", dtype="<u2", shape=(3, 5), chunks=(10, 10),
                      comp=GZip(9), order="F", sep=".", fill=1, skip_every=0))
    return cases


def write_case(root, c, rng):
    path = os.path.join(root, c["name"])
    z = zarr.open_array(path, mode="w", shape=c["shape"], chunks=c["chunks"] or True,
                        dtype=c["dtype"], compressor=c["comp"], fill_value=c["fill"],
                        order=c["order"], dimension_separator=c["sep"],
                        write_empty_chunks=not c.get("empty_chunks", False))
    data = make_data(c["dtype"], c["shape"], rng)
    if c.get("null_zero") or c["fill"] is None:
        fillv = np.zeros((), dtype=c["dtype"])
    else:
        fillv = np.asarray(c["fill"], dtype=c["dtype"])
    expected = np.empty(c["shape"], dtype=c["dtype"])
    expected[...] = fillv
    coords = all_chunk_coords(c["shape"], c["chunks"])
    missing = []
    for k, cc in enumerate(coords):
        sel = chunk_sel(c["shape"], c["chunks"], cc)
        every = c["skip_every"]
        if every and k % every == (every - 1 if every > 1 else 0):
            missing.append(cc)
            continue
        if c.get("empty_chunks") and k % 2 == 0:
            # all fill: zarr-python (write_empty_chunks=False) stores nothing
            z[sel] = np.full(tuple(x.stop - x.start for x in sel), fillv, dtype=c["dtype"])
            continue
        z[sel] = data[sel]
        expected[sel] = data[sel]
    return path, z, expected, missing


BLOSC_SEEN = {}  # compressor name -> [compressed chunks, chunks]


def check_case(rep, pz, root, c, mpiexec=""):
    rng = np.random.default_rng(seed_of(c["name"]))
    label = c["name"]
    try:
        path, z, expected, missing = write_case(root, c, rng)
    except Exception as e:  # a harness problem, not pzarr's
        rep.fail(label, f"zarr-python could not write the case: {e!r}")
        return
    # Harness sanity: zarr-python reads back what we expect (except where the
    # value is undefined for zarr-python: null fill in missing chunks).
    if not c.get("null_zero"):
        msg = same_values(expected, z[...])
        if msg:
            rep.fail(label + " [harness: zarr-python read-back]", msg)
            return
    if c.get("empty_chunks"):
        stored = [f for f in os.listdir(path) if not f.startswith(".")]
        if len(stored) >= len(all_chunk_coords(c["shape"], c["chunks"])):
            rep.fail(label + " [harness]", "zarr-python stored the all-fill chunks")
            return
    meta = open(os.path.join(path, ".zarray")).read().replace("\n", "").replace("    ", "")
    if c["name"].startswith("blosc"):
        key = c["name"].split(".")[0]
        n, t = blosc_compressed_chunks(chunk_files(path))
        seen = BLOSC_SEEN.setdefault(key, [0, 0])
        seen[0] += n
        seen[1] += t
    regions = [full_sel(c["shape"])]
    if c["shape"]:
        regions += [random_box(rng, c["shape"]) for _ in range(2)]
        if missing:
            regions.append(chunk_sel(c["shape"], c["chunks"], missing[0]))
        regions.append(tuple(slice(n - 1, n) for n in c["shape"]))
    for sel in regions:
        reg = region_arg(sel) if sel != full_sel(c["shape"]) else None
        r = pz.get(path, reg)
        lab = f"{label} region={reg or 'all'}"
        if r.crashed or r.rc != 0:
            rep.fail(lab, r.why() + f" | .zarray={meta}")
            continue
        msg = compare(expected[sel], r.out)
        if msg:
            rep.fail(lab, msg + f" | cmd: {r.cmd()} | .zarray={meta}")
        else:
            rep.ok(lab)
    # Several ranks, each writing its slab of the output file.
    if mpiexec and c["shape"]:
        for n, sel in ((2, full_sel(c["shape"])), (3, regions[1])):
            out = path + f".np{n}.bin"
            r = pz.mpi(mpiexec, n, ["get", path, "--region", region_arg(sel), "-o", out, "-q"])
            lab = f"{label} mpiexec -n {n} get region={region_arg(sel)}"
            if r.crashed or r.rc != 0:
                rep.fail(lab, r.why() + f" | .zarray={meta}")
                continue
            msg = compare(expected[sel], open(out, "rb").read())
            rep.check(lab, None if msg is None else msg + f" | cmd: {r.cmd()} | .zarray={meta}")


def check_unsupported(rep, pz, root):
    """Arrays pzarr cannot read: a clean non-zero exit saying "unsupported"."""
    cases = [
        ("unsupported.lz4", dict(compressor=LZ4(), filters=None)),
        ("unsupported.delta-filter", dict(compressor=Zlib(1), filters=[Delta(dtype="<i4")])),
    ]
    for name, kw in cases:
        path = os.path.join(root, name)
        z = zarr.open_array(path, mode="w", shape=(10,), chunks=(4,), dtype="<i4", fill_value=0, **kw)
        z[...] = np.arange(10, dtype="<i4")
        r = pz.get(path)
        if r.crashed:
            rep.fail(name, "crashed: " + r.why())
        elif r.rc == 0:
            msg = compare(np.arange(10, dtype="<i4"), r.out)
            if msg:
                rep.fail(name, "exit 0 with wrong data: " + msg)
            else:
                rep.ok(name + " (supported, values correct)")
        elif "unsupported" not in r.err.lower():
            rep.fail(name, "error does not say 'unsupported': " + r.why())
        else:
            rep.ok(name + " -> " + r.err.strip().splitlines()[-1][:160])


def main():
    args = parse_args()
    pz = Pzarr(args.pzarr)
    root = fresh_dir(os.path.join(args.work, "pzarr_reads_zarr_python"))
    rep = Report("pzarr reads zarr-python 2.13 (v2)")
    print(f"zarr {zarr.__version__}, numpy {np.__version__}")
    for c in build_cases():
        if args.filter and args.filter not in c["name"]:
            continue
        # the multi-rank reads on every 5th array (they cost about a second each)
        check_case(rep, pz, root, c, args.mpiexec if seed_of(c["name"]) % 5 == 0 else "")
    if not args.filter or "unsupported" in args.filter:
        check_unsupported(rep, pz, root)
    # Harness coverage: every blosc configuration produced really compressed
    # chunks (blosc stores small or incompressible buffers raw).
    for key, (n, t) in sorted(BLOSC_SEEN.items()):
        rep.check(f"coverage {key}: {n} of {t} chunks compressed",
                  None if n else "no chunk of this blosc configuration was compressed")
    rep.finish()


if __name__ == "__main__":
    main()
