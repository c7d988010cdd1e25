#!/usr/bin/python3
"""interop.zarrita_reads_pzarr: pzarr writes Zarr v3 arrays (`pzarr create
--format 3` + `pzarr put`, and hand-written zarr.json documents for codec
chains the CLI cannot spell, e.g. crc32c), then zarrita.js (pinned, from the
build tree) reads them and compares every element with the expected values.

Codecs: bytes little/big, transpose (order F), blosc (lz4/zstd/blosclz/lz4hc,
noshuffle/shuffle/bitshuffle), gzip, zstd, crc32c (zarrita strips crc32c
without checking it, so this driver verifies every checksum itself).
Dtypes: bool, int8..int64, uint8..uint64, float32, float64; float16 and
complex are reported as skipped when zarrita cannot represent them.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from interop_common import (Pzarr, Report, all_chunk_coords, chunk_key, chunk_sel,  # noqa: E402
                            crc32c, fresh_dir, full_sel, native, pzarr_create,
                            pzarr_put_pattern, random_box, run_node, seed_of, v3_name)

CODECS = (["none", "gzip:6", "zstd:3"]
          + [f"blosc:{cn}:5:{sh}" for cn in ("lz4", "zstd", "blosclz")
             for sh in ("noshuffle", "shuffle", "bitshuffle")]
          + ["blosc:lz4hc:9:shuffle", "none+crc32c", "gzip:6+crc32c", "zstd:3+crc32c",
             "blosc:lz4:5:bitshuffle+crc32c"])

DTYPES = ["<f8", "<i4", "<u2", "<f4", "|i1", "|b1", "<i8", "<u8", "|u1", "<i2", "<u4"]
GEOMETRIES = [((23, 17), (5, 4)), ((101,), (10,)), ((7, 9, 5), (3, 4, 2)),
              ((12, 8), (4, 8)), ((3, 4, 5, 6), (2, 3, 2, 4))]


def fill_for(dt, i):
    k = np.dtype(dt).kind
    if k == "b":
        return bool(i % 2)
    if k in "iu":
        return [0, 7, 42][i % 3]
    if k == "f":
        return [float("nan"), 0.0, -2.5, float("-inf")][i % 4]
    return 0j


def cli_cases():
    cases = []
    i = 0
    for codec in CODECS:
        for order in ("C", "F"):
            for endian in ("little", "big"):
                dt = DTYPES[i % len(DTYPES)]
                shape, chunks = GEOMETRIES[i % len(GEOMETRIES)]
                sep = "/" if i % 3 else "."
                cases.append(dict(name=f"{codec.replace(':', '-')}.{order}.{endian}.{dt.strip('<|')}",
                                  format=3, dtype=dt, shape=shape, chunks=chunks, codec=codec,
                                  order=order, sep=sep, endian=endian, fill=fill_for(dt, i),
                                  crc=codec.count("+crc32c")))
                i += 1
    # Every dtype once more, including those zarrita cannot hold.
    for j, dt in enumerate(DTYPES + ["<f2", "<c8", "<c16"]):
        shape, chunks = GEOMETRIES[(j + 2) % len(GEOMETRIES)]
        cases.append(dict(name=f"dtype.{dt.strip('<|')}", format=3, dtype=dt, shape=shape,
                          chunks=chunks, codec=CODECS[j % len(CODECS)], order="C" if j % 2 else "F",
                          sep="/", endian="big" if j % 2 else "little", fill=fill_for(dt, j)))
    cases.append(dict(name="zero-d.f8", format=3, dtype="<f8", shape=(), chunks=(), codec="zstd:3",
                      order="C", sep="/", endian="little", fill=1.5))
    return cases


def bytes_codec(dt, endian):
    if np.dtype(dt).itemsize == 1:
        return {"name": "bytes"}
    return {"name": "bytes", "configuration": {"endian": endian}}


def handmade_cases():
    """Arrays whose zarr.json is written here (codec chains the CLI cannot
    express); pzarr then fills them with `pzarr put`."""
    blosc = {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 5, "shuffle": "shuffle",
                                                "typesize": 4, "blocksize": 0}}
    out = []
    specs = [
        ("crc32c.bytes", "<i4", [bytes_codec("<i4", "little"), {"name": "crc32c"}], "default", "/"),
        ("crc32c.gzip", "<f8", [bytes_codec("<f8", "little"), {"name": "gzip", "configuration": {"level": 5}},
                                {"name": "crc32c"}], "default", "."),
        ("crc32c.transpose.big.blosc", "<u4",
         [{"name": "transpose", "configuration": {"order": [1, 0]}}, bytes_codec("<u4", "big"), blosc,
          {"name": "crc32c"}], "default", "/"),
        ("crc32c.zstd.crc32c-twice", "<i2", [bytes_codec("<i2", "little"),
                                             {"name": "zstd", "configuration": {"level": 3, "checksum": False}},
                                             {"name": "crc32c"}, {"name": "crc32c"}], "default", "/"),
        ("transpose.partial.big", "<i8", [{"name": "transpose", "configuration": {"order": [0, 1]}},
                                          bytes_codec("<i8", "big")], "default", "/"),
        ("v2-key-encoding.dot", "<f4", [bytes_codec("<f4", "little"), blosc], "v2", "."),
        ("v2-key-encoding.slash", "|u1", [bytes_codec("|u1", "little"), {"name": "gzip", "configuration": {"level": 1}}],
         "v2", "/"),
    ]
    for name, dt, codecs, kenc, sep in specs:
        doc = {
            "zarr_format": 3, "node_type": "array", "shape": [23, 17], "data_type": v3_name(dt),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 4]}},
            "chunk_key_encoding": {"name": kenc, "configuration": {"separator": sep}},
            "fill_value": 3 if np.dtype(dt).kind in "iu" else "NaN",
            "codecs": codecs, "attributes": {"written_by": "pzarr interop test"},
            "dimension_names": ["y", "x"],
        }
        out.append(dict(name=name, format=3, dtype=dt, shape=(23, 17), chunks=(5, 4), doc=doc,
                        fill=3 if np.dtype(dt).kind in "iu" else float("nan"), sep=sep, kenc=kenc,
                        crc=sum(1 for c in codecs if c["name"] == "crc32c")))
    return out


def key_of(c, cc):
    if c.get("kenc") == "v2":
        return chunk_key(2, c["sep"], cc)
    return chunk_key(3, c["sep"], cc)


def verify_crc(c, path):
    """Every stored chunk ends with crc32c(rest) (little-endian), once per
    crc32c codec (innermost last)."""
    n = 0
    for cc in all_chunk_coords(c["shape"], c["chunks"]):
        p = os.path.join(path, key_of(c, cc))
        if not os.path.isfile(p):
            continue
        b = open(p, "rb").read()
        for layer in range(c["crc"]):
            if len(b) < 4:
                return f"chunk {key_of(c, cc)} shorter than its checksum"
            body, tail = b[:-4], b[-4:]
            want = crc32c(body)
            got = int.from_bytes(tail, "little")
            if want != got:
                return (f"chunk {key_of(c, cc)} layer {layer}: stored crc32c {got:08x}, "
                        f"crc32c of the preceding {len(body)} bytes is {want:08x}")
            b = body
        n += 1
    return None if n else "no chunk file found to verify"


def main():
    def extra(p):
        p.add_argument("--node", required=True)
        p.add_argument("--node-prefix", required=True)
    args = parse_args(extra)
    pz = Pzarr(args.pzarr)
    root = fresh_dir(os.path.join(args.work, "zarrita_reads_pzarr"))
    rep = Report("zarrita.js reads pzarr (v3)")
    manifest = []
    for c in cli_cases() + handmade_cases():
        label = c["name"]
        if args.filter and args.filter not in label:
            continue
        path = os.path.join(root, label)
        rng = np.random.default_rng(seed_of(label))
        if "doc" in c:
            os.makedirs(path)
            with open(os.path.join(path, "zarr.json"), "w") as f:
                json.dump(c["doc"], f, indent=2)
        else:
            r = pzarr_create(pz, path, c)
            if r.rc != 0 or r.crashed:
                rep.fail(label + " create", r.why())
                continue
        fails = []
        expected, info = pzarr_put_pattern(pz, path, c, rng,
                                           lambda lab, res: fails.append(f"{lab}: {res.why()}"))
        meta = open(os.path.join(path, "zarr.json")).read().replace("\n", "").replace("  ", "")
        if expected is None:
            rep.fail(label + " put", fails[0] + f" | zarr.json={meta}")
            continue
        if c.get("crc"):
            rep.check(label + " crc32c", verify_crc(c, path))
        for cc in info["never_written"]:
            if os.path.exists(os.path.join(path, key_of(c, cc))):
                rep.fail(label + " never-written", f"chunk {key_of(c, cc)} exists though nothing was written there")
                break
        exp_file = os.path.join(root, label + ".expected.bin")
        with open(exp_file, "wb") as f:
            f.write(np.ascontiguousarray(native(expected).astype(native(expected).dtype.newbyteorder("<"))).tobytes())
        regions = [[[0, n] for n in c["shape"]]]
        if c["shape"]:
            regions += [[[s.start, s.stop] for s in random_box(rng, c["shape"])] for _ in range(2)]
            if info["never_written"]:
                regions.append([[s.start, s.stop] for s in chunk_sel(c["shape"], c["chunks"], info["never_written"][0])])
        manifest.append(dict(label=label, path=path, dtype=v3_name(c["dtype"]), shape=list(c["shape"]),
                             expect=exp_file, regions=regions, meta=meta))
    mpath = os.path.join(root, "manifest.json")
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1)
    results = run_node(args.node, args.node_prefix, "zarrita_check.mjs", mpath, rep)
    for t in manifest:
        mine = {k: v for k, v in results.items() if k == t["label"] or k.startswith(t["label"] + " region=")}
        if not mine:
            rep.fail(t["label"], "no result from zarrita_check.mjs")
        for k, o in sorted(mine.items()):
            if o["status"] == "pass":
                rep.ok(k)
            elif o["status"] == "skip":
                rep.skip(k, o["msg"])
            else:
                rep.fail(k, o["msg"] + f" | zarr.json={t['meta']}")
    rep.finish()


if __name__ == "__main__":
    main()
