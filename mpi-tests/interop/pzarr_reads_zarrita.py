#!/usr/bin/python3
"""interop.pzarr_reads_zarrita: zarrita.js (pinned, from the build tree)
writes Zarr v3 arrays with zarr.create + zarr.set; `pzarr get` must return
exactly the expected C-order native-endian bytes, whole and for sub-regions.

zarrita 0.7.x can encode: bytes (little/big), transpose, blosc and zstd (both
through numcodecs.js WASM). gzip, zlib and crc32c have no encoder there, so
they are covered in the other direction only.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from interop_common import (GEOMETRIES, Pzarr, Report, all_chunk_coords, blosc_compressed_chunks,  # noqa: E402
                            chunk_files, chunk_grid, chunk_sel,
                            compare, fresh_dir, full_sel, make_data, native, parse_args,
                            random_box, region_arg, run_node, seed_of, v3_name)


def bytes_codec(dt, endian):
    if np.dtype(dt).itemsize == 1:
        return {"name": "bytes"}
    return {"name": "bytes", "configuration": {"endian": endian}}


def blosc(cname, shuffle, dt):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": 5, "shuffle": shuffle,
                                               "typesize": np.dtype(dt).itemsize, "blocksize": 0}}


def zstd(level):
    return {"name": "zstd", "configuration": {"level": level, "checksum": False}}


def transpose(ndim, kind):
    order = list(range(ndim))[::-1] if kind == "F" else list(range(1, ndim)) + [0]
    return {"name": "transpose", "configuration": {"order": order}}


CHAINS = {
    "bytes-le": lambda dt, nd: [bytes_codec(dt, "little")],
    "bytes-be": lambda dt, nd: [bytes_codec(dt, "big")],
    "transposeF-le": lambda dt, nd: [transpose(nd, "F"), bytes_codec(dt, "little")],
    "transposeRot-be": lambda dt, nd: [transpose(nd, "rot"), bytes_codec(dt, "big")],
    "blosc-lz4-shuffle": lambda dt, nd: [bytes_codec(dt, "little"), blosc("lz4", "shuffle", dt)],
    "blosc-zstd-bitshuffle-be": lambda dt, nd: [bytes_codec(dt, "big"), blosc("zstd", "bitshuffle", dt)],
    "blosc-blosclz-noshuffle": lambda dt, nd: [bytes_codec(dt, "little"), blosc("blosclz", "noshuffle", dt)],
    "zstd3": lambda dt, nd: [bytes_codec(dt, "little"), zstd(3)],
    "transposeF-be-zstd": lambda dt, nd: [transpose(nd, "F"), bytes_codec(dt, "big"), zstd(5)],
    "transposeF-blosc-lz4": lambda dt, nd: [transpose(nd, "F"), bytes_codec(dt, "little"),
                                            blosc("lz4", "shuffle", dt)],
}

DTYPES = ["<f8", "<i4", "<u2", "<f4", "|i1", "|b1", "<i8", "<u8", "|u1", "<i2", "<u4"]

def fill_for(dt, i):
    k = np.dtype(dt).kind
    if k == "b":
        return bool(i % 2)
    if k in "iu":
        return [0, 7, 42][i % 3]
    return [float("nan"), 0.0, -2.5, float("-inf")][i % 4]


def json_scalar(v):
    if isinstance(v, float) and v != v:
        return "NaN"
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def build_cases():
    cases = []
    i = 0
    for chain in CHAINS:
        for sep in ("/", "."):
            for k in range(2):
                dt = DTYPES[i % len(DTYPES)]
                shape, chunks = GEOMETRIES[i % len(GEOMETRIES)]
                if chain.startswith("transpose") and len(shape) == 1:
                    shape, chunks = GEOMETRIES[0]
                cases.append(dict(name=f"{chain}.{'slash' if sep == '/' else 'dot'}.{dt.strip('<|')}.{k}",
                                  dtype=dt, shape=shape, chunks=chunks, chain=chain, sep=sep,
                                  fill=fill_for(dt, i)))
                i += 1
    for j, dt in enumerate(DTYPES):
        chain = list(CHAINS)[(j * 3) % len(CHAINS)]
        cases.append(dict(name=f"dtype.{dt.strip('<|')}.{chain}", dtype=dt, shape=(23, 17), chunks=(5, 4),
                          chain=chain, sep="/", fill=fill_for(dt, j + 1)))
    return cases


def plan_writes(c, rng, root):
    """Returns (writes for the manifest, expected array). The last chunk row
    stays unwritten; the other rows get a slab, an unaligned box and a scalar
    box."""
    dt = np.dtype(c["dtype"]).newbyteorder("=")
    shape, chunks = c["shape"], c["chunks"]
    expected = np.empty(shape, dt)
    expected[...] = np.asarray(c["fill"], dt)
    grid = chunk_grid(shape, chunks)
    split = chunks[0] * (grid[0] - 1) if grid[0] >= 2 else shape[0]
    writes = []
    n = 0

    def data_write(sel):
        nonlocal n
        blk = make_data(dt, tuple(s.stop - s.start for s in sel), rng)
        f = os.path.join(root, f"{c['name']}.w{n}.bin")
        n += 1
        with open(f, "wb") as fh:
            fh.write(native(blk).astype(blk.dtype.newbyteorder("<")).tobytes())
        writes.append({"region": [[s.start, s.stop] for s in sel], "file": f,
                       "shape": [s.stop - s.start for s in sel]})
        expected[sel] = blk

    data_write((slice(0, split),) + full_sel(shape[1:]))
    data_write(random_box(rng, (split,) + tuple(shape[1:])))
    sel = random_box(rng, (split,) + tuple(shape[1:]))
    v = make_data(dt, (), rng)[()]
    if dt.kind == "f" and v != v:
        v = dt.type(1.25)
    sv = bool(v) if dt.kind == "b" else (int(v) if dt.kind in "iu" else float(v))
    if dt.kind in "iu" and dt.itemsize == 8:
        sv = str(sv)  # BigInt on the JS side
    writes.append({"region": [[s.start, s.stop] for s in sel], "scalar": json_scalar(sv)})
    expected[sel] = v
    never = [cc for cc in all_chunk_coords(shape, chunks) if grid[0] >= 2 and cc[0] == grid[0] - 1]
    return writes, expected, never


def main():
    def extra(p):
        p.add_argument("--node", required=True)
        p.add_argument("--node-prefix", required=True)
    args = parse_args(extra)
    pz = Pzarr(args.pzarr)
    root = fresh_dir(os.path.join(args.work, "pzarr_reads_zarrita"))
    rep = Report("pzarr reads zarrita.js (v3)")
    manifest, cases = [], []
    for c in build_cases():
        if args.filter and args.filter not in c["name"]:
            continue
        rng = np.random.default_rng(seed_of(c["name"]))
        writes, expected, never = plan_writes(c, rng, root)
        exp_file = os.path.join(root, c["name"] + ".expected.bin")
        with open(exp_file, "wb") as fh:
            fh.write(native(expected).astype(expected.dtype.newbyteorder("<")).tobytes())
        fill = json_scalar(c["fill"]) if not isinstance(c["fill"], (bool, np.bool_)) else bool(c["fill"])
        path = os.path.join(root, c["name"])
        manifest.append(dict(label=c["name"], path=path, dtype=v3_name(c["dtype"]), shape=list(c["shape"]),
                             chunks=list(c["chunks"]), codecs=CHAINS[c["chain"]](c["dtype"], len(c["shape"])),
                             fill=fill, sep=c["sep"], writes=writes, expect=exp_file))
        cases.append((c, path, expected, never, rng))
    mpath = os.path.join(root, "write-manifest.json")
    with open(mpath, "w") as fh:
        json.dump(manifest, fh, indent=1)
    results = run_node(args.node, args.node_prefix, "zarrita_write.mjs", mpath, rep)
    blosc_seen = {}
    for c, path, expected, never, rng in cases:
        label = c["name"]
        o = results.get(label)
        if o is None:
            rep.fail(label, "zarrita_write.mjs reported nothing for this array")
            continue
        if o["status"] != "pass":
            rep.fail(label + " [zarrita write]", o["msg"])
            continue
        meta = open(os.path.join(path, "zarr.json")).read().replace("\n", "").replace("  ", "")
        if "blosc" in c["chain"]:
            n, t = blosc_compressed_chunks(chunk_files(path))
            seen = blosc_seen.setdefault(c["chain"], [0, 0])
            seen[0] += n
            seen[1] += t
        regions = [full_sel(c["shape"])] + [random_box(rng, c["shape"]) for _ in range(2)]
        if never:
            regions.append(chunk_sel(c["shape"], c["chunks"], never[0]))
        for sel in regions:
            reg = region_arg(sel) if sel != full_sel(c["shape"]) else None
            r = pz.get(path, reg)
            lab = f"{label} region={reg or 'all'}"
            if r.crashed or r.rc != 0:
                rep.fail(lab, r.why() + f" | zarr.json={meta}")
                continue
            msg = compare(expected[sel], r.out)
            rep.check(lab, None if msg is None else msg + f" | cmd: {r.cmd()} | zarr.json={meta}")
    for key, (n, t) in sorted(blosc_seen.items()):
        rep.check(f"coverage {key}: {n} of {t} chunks compressed",
                  None if n else "no chunk of this blosc configuration was compressed")
    rep.finish()


if __name__ == "__main__":
    main()
