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

from interop_common import (GEOMETRIES, Pzarr, Report, all_chunk_coords, chunk_key, chunk_sel,  # noqa: E402
                            compare, crc32c, fresh_dir, native, parse_args, pzarr_create,
                            pzarr_put_pattern, random_box, run_node, seed_of, v3_name)

CODECS = (["none", "gzip:6", "zstd:3"]
          + [f"blosc:{cn}:5:{sh}" for cn in ("lz4", "zstd", "blosclz")
             for sh in ("noshuffle", "shuffle", "bitshuffle")]
          + ["blosc:lz4hc:9:shuffle", "none+crc32c", "gzip:6+crc32c", "zstd:3+crc32c",
             "blosc:lz4:5:bitshuffle+crc32c"])

DTYPES = ["<f8", "<i4", "<u2", "<f4", "|i1", "|b1", "<i8", "<u8", "|u1", "<i2", "<u4"]

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
    # Sharded (sharding_indexed with a crc32c index at the end): c["chunks"]
    # is the shard shape, c["inner"] the inner chunk shape.
    sharded = [
        ("none", "C", "little", "<i2", (60, 50), (16, 20), (8, 10)),
        ("gzip:6", "F", "big", "<f8", (60, 50), (16, 20), (4, 5)),
        ("zstd:3+crc32c", "C", "little", "<u4", (20, 30, 12), (8, 15, 12), (4, 5, 6)),
        ("blosc:lz4:5:shuffle", "C", "big", "<i8", (300,), (64,), (16,)),
        ("blosc:zstd:5:bitshuffle", "F", "little", "|b1", (23, 17), (10, 8), (5, 4)),
    ]
    for j, (codec, order, endian, dt, shape, shard, inner) in enumerate(sharded):
        cases.append(dict(name=f"sharded.{codec.replace(':', '-')}.{order}.{endian}.{dt.strip('<|')}",
                          format=3, dtype=dt, shape=shape, chunks=shard, inner=inner, codec=codec,
                          order=order, sep="/" if j % 2 else ".", endian=endian,
                          fill=fill_for(dt, j), shard_check=dict(
                              n=int(np.prod([a // b for a, b in zip(shard, inner)])),
                              loc="end", inner_crc=codec.count("+crc32c"))))
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
    inner_codecs = [{"name": "transpose", "configuration": {"order": [1, 0]}},
                    bytes_codec("<i4", "big"), {"name": "gzip", "configuration": {"level": 3}}]
    for loc in ("start", "end"):
        specs.append((f"sharded.handmade.index-{loc}", "<i4", [{
            "name": "sharding_indexed", "configuration": {
                "chunk_shape": [5, 2], "codecs": inner_codecs,
                "index_codecs": [bytes_codec("<i4", "little"), {"name": "crc32c"}],
                "index_location": loc}}], "default", "/"))
    for name, dt, codecs, kenc, sep in specs:
        doc = {
            "zarr_format": 3, "node_type": "array", "shape": [23, 17], "data_type": v3_name(dt),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 4]}},
            "chunk_key_encoding": {"name": kenc, "configuration": {"separator": sep}},
            "fill_value": 3 if np.dtype(dt).kind in "iu" else "NaN",
            "codecs": codecs, "attributes": {"written_by": "pzarr interop test"},
            "dimension_names": ["y", "x"],
        }
        if codecs[0]["name"] == "sharding_indexed":
            cfg = codecs[0]["configuration"]
            doc["chunk_grid"]["configuration"]["chunk_shape"] = [10, 8]
            out.append(dict(name=name, format=3, dtype=dt, shape=(23, 17), chunks=(10, 8), doc=doc,
                            fill=3, sep=sep, kenc=kenc, crc=0,
                            shard_check=dict(n=8, loc=cfg["index_location"], inner_crc=0)))
            continue
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


EMPTY = 2**64 - 1


def verify_shards(c, path):
    """Checks every stored shard independently of pzarr and zarrita: the
    index (n pairs of little-endian uint64 offset, nbytes, then crc32c) sits
    at the configured end, its checksum holds, every inner chunk lies inside
    the shard without overlapping the index or another chunk, empty inner
    chunks are marked 2^64-1 twice, and inner crc32c checksums hold."""
    sc = c["shard_check"]
    n = sc["n"]
    isz = 16 * n + 4
    seen = 0
    for cc in all_chunk_coords(c["shape"], c["chunks"]):
        key = key_of(c, cc)
        p = os.path.join(path, key)
        if not os.path.isfile(p):
            continue
        b = open(p, "rb").read()
        seen += 1
        if len(b) < isz:
            return f"shard {key}: {len(b)} bytes, shorter than its {isz}-byte index"
        idx = b[:isz] if sc["loc"] == "start" else b[-isz:]
        if crc32c(idx[:-4]) != int.from_bytes(idx[-4:], "little"):
            return f"shard {key}: index crc32c {idx[-4:].hex()} != crc32c of the index {crc32c(idx[:-4]):08x}"
        lo, hi = (isz, len(b)) if sc["loc"] == "start" else (0, len(b) - isz)
        spans = []
        nonempty = 0
        for k in range(n):
            off = int.from_bytes(idx[16 * k:16 * k + 8], "little")
            nb = int.from_bytes(idx[16 * k + 8:16 * k + 16], "little")
            if off == EMPTY or nb == EMPTY:
                if off != nb:
                    return f"shard {key} inner chunk {k}: half-empty index entry ({off}, {nb})"
                continue
            if off < lo or off + nb > hi:
                return f"shard {key} inner chunk {k}: bytes [{off}, {off + nb}) outside the data area [{lo}, {hi})"
            spans.append((off, off + nb, k))
            nonempty += 1
            if sc["inner_crc"]:
                body = b[off:off + nb - 4]
                if crc32c(body) != int.from_bytes(b[off + nb - 4:off + nb], "little"):
                    return f"shard {key} inner chunk {k}: crc32c mismatch"
        spans.sort()
        for (a0, a1, ka), (b0, b1, kb) in zip(spans, spans[1:]):
            if b0 < a1:
                return f"shard {key}: inner chunks {ka} and {kb} overlap"
        if not nonempty:
            return f"shard {key}: stored although every inner chunk is empty"
    return None if seen else "no shard file found to verify"


def decode_shards(c, path, expected):
    """Decodes the shards of a handmade sharded array (inner codecs
    transpose / bytes / gzip only) and compares them with `expected`."""
    import gzip
    cfg = c["doc"]["codecs"][0]["configuration"]
    inner = tuple(cfg["chunk_shape"])
    shard = tuple(c["chunks"])
    per = tuple(a // b for a, b in zip(shard, inner))
    n = int(np.prod(per))
    isz = 16 * n + 4
    dt = native(expected).dtype
    fillv = np.asarray(c["fill"], dt)
    for cc in all_chunk_coords(c["shape"], shard):
        p = os.path.join(path, key_of(c, cc))
        got = np.empty(shard, dt)
        got[...] = fillv
        if os.path.isfile(p):
            b = open(p, "rb").read()
            idx = b[:isz] if cfg["index_location"] == "start" else b[-isz:]
            for k, ic in enumerate(np.ndindex(*per)):
                off = int.from_bytes(idx[16 * k:16 * k + 8], "little")
                nb = int.from_bytes(idx[16 * k + 8:16 * k + 16], "little")
                if off == EMPTY:
                    continue
                raw = b[off:off + nb]
                order = None
                endian = "<"
                for codec in reversed(cfg["codecs"]):
                    if codec["name"] == "gzip":
                        raw = gzip.decompress(raw)
                    elif codec["name"] == "bytes":
                        endian = ">" if (codec.get("configuration") or {}).get("endian") == "big" else "<"
                    elif codec["name"] == "transpose":
                        order = codec["configuration"]["order"]
                    else:
                        return f"decode_shards cannot decode {codec['name']}"
                shp = [inner[i] for i in order] if order else list(inner)
                arr = np.frombuffer(raw, dt.newbyteorder(endian)).reshape(shp)
                if order:
                    arr = arr.transpose(np.argsort(order))
                got[tuple(slice(i * m, (i + 1) * m) for i, m in zip(ic, inner))] = arr
        sel = chunk_sel(c["shape"], shard, cc)
        msg = compare(expected[sel], np.ascontiguousarray(got[tuple(slice(0, s.stop - s.start) for s in sel)]).tobytes())
        if msg:
            return f"shard {key_of(c, cc)}: {msg}"
    return None


def main():
    def extra(p):
        p.add_argument("--node", required=True)
        p.add_argument("--node-prefix", required=True)
    args = parse_args(extra)
    pz = Pzarr(args.pzarr)
    root = fresh_dir(os.path.join(args.work, "zarrita_reads_pzarr"))
    rep = Report("zarrita.js reads pzarr (v3)")
    manifest = []
    one_byte = [0, []]  # 1-byte arrays created, those whose bytes codec names an endian
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
            if c.get("inner") and r.rc != 0 and not r.crashed and "--shard" in r.err:
                rep.skip(label, "this pzarr CLI has no --shard: " + r.why())
                continue
            if r.rc != 0 or r.crashed:
                rep.fail(label + " create", r.why())
                continue
        fails = []
        expected, info = pzarr_put_pattern(pz, path, c, rng, lambda lab, res: fails.append((lab, res)))
        meta = open(os.path.join(path, "zarr.json")).read().replace("\n", "").replace("  ", "")
        if expected is None:
            lab, res = fails[0]
            if (label.startswith("sharded.") and not res.crashed
                    and "unsupported" in res.err.lower() and "sharding" in res.err):
                rep.skip(label, "this pzarr does not write sharding_indexed yet: " + res.why())
            else:
                rep.fail(label + " put", f"{lab}: {res.why()} | zarr.json={meta}")
            continue
        if c.get("crc"):
            rep.check(label + " crc32c", verify_crc(c, path))
        if c.get("shard_check"):
            rep.check(label + " shard layout", verify_shards(c, path))
            if "doc" in c:
                rep.check(label + " values (decoded independently)", decode_shards(c, path, expected))
            if c["shard_check"]["loc"] == "start":
                # zarrita 0.7.5 always fetches the index as a suffix of the
                # shard (codecs/sharding.js), so it cannot read these.
                rep.skip(label + " [zarrita]", "zarrita 0.7.5 ignores index_location and reads "
                         "the shard index from the end")
                continue
        if "doc" not in c and np.dtype(c["dtype"]).itemsize == 1:
            # zarr-python 3 omits "endian" for 1-byte types; zarrita 0.7.5
            # byte-swaps bool data in groups of 4 when it sees "big" there.
            codecs = json.loads(open(os.path.join(path, "zarr.json")).read())["codecs"]
            if codecs and codecs[0]["name"] == "sharding_indexed":
                codecs = codecs[0]["configuration"]["codecs"]
            bc = [k for k in codecs if k["name"] == "bytes"]
            one_byte[0] += 1
            if not bc or "endian" in (bc[0].get("configuration") or {}):
                one_byte[1].append(f"{label}: {bc}")
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
    if one_byte[0]:
        bad = one_byte[1]
        rep.check(f"bytes codec of 1-byte types has no endian ({one_byte[0]} arrays)",
                  None if not bad else
                  f"{len(bad)} of {one_byte[0]} arrays of bool/int8/uint8 created by pzarr name an "
                  f"endian in their bytes codec (zarr-python 3 omits it; zarrita 0.7.5 byte-swaps "
                  f"bool data in groups of 4 when it says big), e.g. {bad[0]}")
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
