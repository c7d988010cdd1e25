#!/usr/bin/python3
"""interop.zarr_python_reads_pzarr: `pzarr create --format 2` + `pzarr put`,
then zarr-python 2.13 opens the array and must read identical values, see
the requested dtype (with byte order), order, compressor, fill value and
dimension separator, and read chunks pzarr never wrote (or left out because
they were all fill) as the fill value.

Covers every CLI codec (none, gzip, zstd, blosc lz4/zstd/blosclz/lz4hc/zlib
with noshuffle/shuffle/bitshuffle, zlib if the CLI has it), both orders, both
separators, both endians, every dtype and NaN / +-Infinity fills.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import zarr  # noqa: E402

from interop_common import (GEOMETRIES, Pzarr, Report, chunk_key, chunk_sel, fresh_dir, full_sel,  # noqa: E402
                            make_data, native, parse_args, region_arg, pzarr_create, pzarr_put_pattern, random_box,
                            same_values, seed_of)

CODECS = (["none", "gzip:6", "gzip:1", "zstd:3", "zstd:-1"]
          + [f"blosc:{cn}:5:{sh}" for cn in ("lz4", "zstd", "blosclz")
             for sh in ("noshuffle", "shuffle", "bitshuffle")]
          + ["blosc:lz4hc:9:shuffle", "blosc:zlib:1:bitshuffle", "zlib:5"])

DTYPES = ["<f8", "<i4", "<u2", "<f4", "|i1", "<c16", "|b1", "<i8", "<f2", "<u8",
          "|u1", "<i2", "<c8", "<u4"]


def fill_for(dt, i):
    k = np.dtype(dt).kind
    if k == "b":
        return bool(i % 2)
    if k in "iu":
        return [0, 7, 42][i % 3]
    if k == "f":
        return [float("nan"), 0.0, -2.5, float("inf")][i % 4]
    return [complex(1.5, -2.0), 0j, complex(float("nan"), 0.0)][i % 3]


def build_cases():
    cases = []
    i = 0
    for codec in CODECS:
        for order in ("C", "F"):
            for sep in (".", "/"):
                dt = DTYPES[i % len(DTYPES)]
                shape, chunks = GEOMETRIES[i % len(GEOMETRIES)]
                endian = "big" if i % 2 else "little"
                cases.append(dict(name=f"{codec.replace(':', '-')}.{order}.{'slash' if sep == '/' else 'dot'}.{dt.strip('<|')}.{endian}",
                                  format=2, dtype=dt, shape=shape, chunks=chunks, codec=codec,
                                  order=order, sep=sep, endian=endian, fill=fill_for(dt, i)))
                i += 1
    for j, dt in enumerate(DTYPES):
        for endian in ("little", "big"):
            codec = CODECS[(2 * j + (endian == "big")) % len(CODECS)]
            shape, chunks = GEOMETRIES[(j + 1) % len(GEOMETRIES)]
            order = "F" if j % 2 else "C"
            cases.append(dict(name=f"dtype.{dt.strip('<|')}.{endian}.{order}.{codec.replace(':', '-')}",
                              format=2, dtype=dt, shape=shape, chunks=chunks, codec=codec,
                              order=order, sep="/" if j % 3 else ".", endian=endian,
                              fill=fill_for(dt, j + 1)))
    for dt in ("<f8", "<f4", "<f2"):
        for endian in ("little", "big"):
            cases.append(dict(name=f"fill.nan.{dt.strip('<')}.{endian}", format=2, dtype=dt,
                              shape=(23, 17), chunks=(5, 4), codec="blosc:lz4:5:shuffle",
                              order="C", sep=".", endian=endian, fill=float("nan")))
    cases.append(dict(name="fill.-inf.f8.F", format=2, dtype="<f8", shape=(23, 17), chunks=(5, 4),
                      codec="zstd:3", order="F", sep="/", endian="big", fill=float("-inf")))
    cases.append(dict(name="fill.u8max", format=2, dtype="<u8", shape=(23, 17), chunks=(5, 4),
                      codec="none", order="C", sep=".", endian="big", fill=2**64 - 1))
    cases.append(dict(name="fill.i8min", format=2, dtype="<i8", shape=(23, 17), chunks=(5, 4),
                      codec="gzip:6", order="C", sep=".", endian="little", fill=-2**63))
    cases.append(dict(name="fill.neg-zero.f4", format=2, dtype="<f4", shape=(23, 17), chunks=(5, 4),
                      codec="zlib:1", order="C", sep=".", endian="big", fill=-0.0))
    cases.append(dict(name="fill.null.f8", format=2, dtype="<f8", shape=(23, 17), chunks=(5, 4),
                      codec="blosc:zstd:3:shuffle", order="C", sep=".", endian="little", fill=None))
    cases.append(dict(name="fill.complex.c16.big", format=2, dtype="<c16", shape=(23, 17), chunks=(5, 4),
                      codec="gzip:6", order="F", sep="/", endian="big", fill=complex(-1.25, 3.5)))
    cases.append(dict(name="zero-d.i4.big", format=2, dtype="<i4", shape=(), chunks=(), codec="zstd:3",
                      order="C", sep=".", endian="big", fill=-9))
    cases.append(dict(name="fill.true.bool", format=2, dtype="|b1", shape=(23, 17), chunks=(5, 4),
                      codec="none", order="F", sep="/", endian="little", fill=True))
    return cases


def expect_dtype(c):
    dt = np.dtype(c["dtype"])
    if dt.itemsize > 1 or dt.kind == "c":
        dt = dt.newbyteorder(">" if c["endian"] == "big" else "<")
    return dt


def expect_compressor(codec):
    """The numcodecs config zarr-python must see, as a subset dict."""
    parts = codec.split(":")
    if parts[0] == "none":
        return None
    if parts[0] in ("gzip", "zlib", "zstd"):
        return {"id": parts[0], "level": int(parts[1])}
    shuffle = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}[parts[3]]
    return {"id": "blosc", "cname": parts[1], "clevel": int(parts[2]), "shuffle": shuffle}


def same_fill(a, b, dt):
    if a is None or b is None:
        return a is None and b is None
    if np.dtype(dt).kind == "f":
        a, b = float(a), float(b)
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if np.dtype(dt).kind == "c":
        a, b = complex(a), complex(b)
        return same_fill(a.real, b.real, "f8") and same_fill(a.imag, b.imag, "f8")
    return a == b


def check_metadata(z, path, c):
    errs = []
    want = expect_dtype(c)
    if z.dtype.str != want.str:
        errs.append(f"dtype {z.dtype.str}, expected {want.str}")
    if z.order != c["order"]:
        errs.append(f"order {z.order}, expected {c['order']}")
    if tuple(z.shape) != tuple(c["shape"]) or tuple(z.chunks) != tuple(c["chunks"]):
        errs.append(f"shape/chunks {z.shape}/{z.chunks}, expected {c['shape']}/{c['chunks']}")
    sep = z._dimension_separator or "."
    if sep != c["sep"]:
        errs.append(f"dimension_separator {sep!r}, expected {c['sep']!r}")
    wantc = expect_compressor(c["codec"])
    gotc = z.compressor.get_config() if z.compressor is not None else None
    if wantc is None or gotc is None:
        if wantc != gotc:
            errs.append(f"compressor {gotc}, expected {wantc}")
    else:
        for k, v in wantc.items():
            if gotc.get(k) != v:
                errs.append(f"compressor {gotc}, expected {wantc}")
                break
    want_fill = c["fill"]
    if not same_fill(z.fill_value, want_fill, c["dtype"]):
        errs.append(f"fill_value {z.fill_value!r}, expected {want_fill!r}")
    if z.filters:
        errs.append(f"filters {z.filters}, expected none")
    return "; ".join(errs) or None


def check_case(rep, pz, root, c, mpiexec=""):
    label = c["name"]
    path = os.path.join(root, label)
    rng = np.random.default_rng(seed_of(label))
    r = pzarr_create(pz, path, c)
    if r.rc != 0 or r.crashed:
        rep.fail(label + " create", r.why())
        return
    fails = []
    expected, info = pzarr_put_pattern(pz, path, c, rng, lambda lab, res: fails.append(f"{lab}: {res.why()}"))
    if expected is None:
        rep.fail(label + " put", fails[0])
        return
    if mpiexec and c["shape"]:
        # Several ranks put an unaligned box read from one file, each its slab.
        box = random_box(rng, c["shape"])
        blk = make_data(np.dtype(c["dtype"]).newbyteorder("="), tuple(s.stop - s.start for s in box), rng)
        src = path + ".box.bin"
        with open(src, "wb") as f:
            f.write(native(blk).tobytes())
        r = pz.mpi(mpiexec, 3, ["put", path, "--region", region_arg(box), "-i", src, "-q"])
        if r.rc != 0 or r.crashed:
            rep.fail(label + " mpiexec -n 3 put", r.why())
            return
        expected[box] = blk

        def touched(cc):
            return all(s.start < (i + 1) * k and s.stop > i * k for s, i, k in zip(box, cc, c["chunks"]))
        if info["all_fill"] is not None and touched(info["all_fill"]):
            info["all_fill"] = None
        info["never_written"] = [cc for cc in info["never_written"] if not touched(cc)]
        rep.ok(label + f" mpiexec -n 3 put region={region_arg(box)}")
    meta = open(os.path.join(path, ".zarray")).read().replace("\n", "").replace("  ", "")
    try:
        z = zarr.open_array(path, mode="r")
    except Exception as e:
        rep.fail(label + " open", f"zarr-python cannot open it: {e!r} | .zarray={meta}")
        return
    rep.check(label + " metadata", None if (m := check_metadata(z, path, c)) is None else m + f" | .zarray={meta}")
    # With a null fill, zarr-python leaves never-written chunks uninitialised:
    # only the elements of stored chunks are defined there.
    defined = np.ones(c["shape"], bool)
    if c["fill"] is None:
        for cc in info["never_written"]:
            defined[chunk_sel(c["shape"], c["chunks"], cc)] = False
    sels = [full_sel(c["shape"])] + [random_box(rng, c["shape"]) for _ in range(2)]
    for sel in sels:
        lab = f"{label} zarr[{','.join(f'{s.start}:{s.stop}' for s in sel)}]"
        try:
            got = z[sel]
        except Exception as e:
            rep.fail(lab, f"zarr-python read failed: {e!r} | .zarray={meta}")
            continue
        if c["fill"] is None:
            got = np.where(defined[sel], native(got), expected[sel])
        msg = same_values(expected[sel], got)
        rep.check(lab, None if msg is None else msg + f" | .zarray={meta}")
    # Chunk files: never-written chunks absent; the all-fill chunk absent or fill.
    for cc in info["never_written"]:
        key = chunk_key(2, c["sep"], cc)
        if os.path.exists(os.path.join(path, key)):
            rep.fail(label + " never-written", f"chunk {key} exists though nothing was written there")
            break
    if info["all_fill"] is not None:
        key = chunk_key(2, c["sep"], info["all_fill"])
        if c["fill"] is None:
            # No fill value: an absent chunk would be undefined for zarr-python.
            rep.check(label + f" null-fill zero chunk {key} stored",
                      None if os.path.exists(os.path.join(path, key)) else
                      f"pzarr left chunk {key} absent although the array has no fill value")
        elif os.path.exists(os.path.join(path, key)):
            rep.note(f"{label}: pzarr stored the all-fill chunk {key} (zarr-python reads it correctly anyway)")
        else:
            rep.ok(label + f" all-fill chunk {key} left absent, zarr-python reads fill")
    # The key of a written chunk must be where zarr-python looks for it.
    some = next((cc for cc in np.ndindex(*[-(-n // k) for n, k in zip(c["shape"], c["chunks"])])
                 if any(cc) and cc not in info["never_written"]), None)
    if some is not None:
        key = chunk_key(2, c["sep"], some)
        rep.check(label + f" key {key}", None if os.path.isfile(os.path.join(path, key))
                  else f"chunk file {key} not found; files: {sorted(os.listdir(path))[:8]}")


def main():
    args = parse_args()
    pz = Pzarr(args.pzarr)
    root = fresh_dir(os.path.join(args.work, "zarr_python_reads_pzarr"))
    rep = Report("zarr-python 2.13 reads pzarr (v2)")
    print(f"zarr {zarr.__version__}, numpy {np.__version__}")
    for c in build_cases():
        if args.filter and args.filter not in c["name"]:
            continue
        check_case(rep, pz, root, c, args.mpiexec if seed_of(c["name"]) % 4 == 0 else "")
    rep.finish()


if __name__ == "__main__":
    main()
