#!/usr/bin/python3
"""interop.zarrita_reads_pzarr_sharded: pzarr writes sharded Zarr v3 arrays
(sharding_indexed, index at the end, with and without crc32c on the index)
with `mpiexec -n 2 pzarr put` (so shards are cut by the two ranks' slabs,
rewritten in part, emptied to the fill value), then zarrita.js (pinned, from
the build tree) reads them and every element is compared.

Inner codec chains: bytes+gzip, bytes+zstd, transpose+bytes(big)+blosc, and
bytes(big) alone. zarrita 0.7.5 reads the index from the end of the shard
only (it ignores index_location) and does not check the index crc32c, so
this driver parses every shard index itself: the crc32c, every entry inside
the file, no overlaps, empty entries (2^64-1, 2^64-1) for inner chunks of
fill values, no file for shards of fill values.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from interop_common import (PzResult, Report, all_chunk_coords, chunk_sel, crc32c,  # noqa: E402
                            fresh_dir, make_data, native, parse_args, random_box,
                            region_arg, run_node, seed_of, v3_name)

EMPTY = 2**64 - 1


def bytes_codec(endian):
    return {"name": "bytes", "configuration": {"endian": endian}}


GZIP = {"name": "gzip", "configuration": {"level": 5}}
ZSTD = {"name": "zstd", "configuration": {"level": 3, "checksum": False}}


def blosc(typesize):
    return {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                               "typesize": typesize, "blocksize": 0}}


def cases():
    out = []
    geos = {2: ((45, 37), (20, 12), (5, 4)), 3: ((13, 11, 9), (6, 6, 9), (3, 2, 3))}
    chains = [
        ("gzip", "<i4", 2, [bytes_codec("little"), GZIP]),
        ("zstd", "<f8", 2, [bytes_codec("little"), ZSTD]),
        ("transpose.big.blosc", "<u4", 2,
         [{"name": "transpose", "configuration": {"order": [1, 0]}}, bytes_codec("big"), blosc(4)]),
        ("transpose3d.big.blosc", "<i2", 3,
         [{"name": "transpose", "configuration": {"order": [2, 0, 1]}}, bytes_codec("big"), blosc(2)]),
        ("big", "<i8", 3, [bytes_codec("big")]),
    ]
    for name, dt, nd, codecs in chains:
        shape, shard, inner = geos[nd]
        for crc in (True, False):
            fill = 3 if np.dtype(dt).kind in "iu" else float("nan")
            index_codecs = [bytes_codec("little")] + ([{"name": "crc32c"}] if crc else [])
            doc = {
                "zarr_format": 3, "node_type": "array", "shape": list(shape),
                "data_type": v3_name(dt),
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shard)}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": 3 if np.dtype(dt).kind in "iu" else "NaN",
                "codecs": [{"name": "sharding_indexed", "configuration": {
                    "chunk_shape": list(inner), "codecs": codecs,
                    "index_codecs": index_codecs, "index_location": "end"}}],
                "attributes": {"written_by": "pzarr interop test (sharded)"},
            }
            out.append(dict(name=f"{name}.{'crc' if crc else 'nocrc'}", dtype=dt, shape=shape,
                            shard=shard, inner=inner, crc=crc, fill=fill, doc=doc))
    return out


class MpiPut:
    """`mpiexec -n N pzarr put PATH --region R -i FILE -q`."""

    def __init__(self, pzarr, mpiexec, nprocs, tmpdir):
        self.pzarr = os.path.abspath(pzarr)
        self.mpiexec = mpiexec
        self.nprocs = nprocs
        self.tmpdir = tmpdir

    def put(self, path, data, sel):
        with tempfile.NamedTemporaryFile(dir=self.tmpdir, suffix=".raw", delete=False) as f:
            f.write(data)
            name = f.name
        argv = [self.mpiexec, "-n", str(self.nprocs), self.pzarr, "put", path]
        region = region_arg(sel)
        if region is not None:
            argv += ["--region", region]
        argv += ["-i", name, "-q"]
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, timeout=180)
            r = PzResult(argv, p.returncode, p.stdout, p.stderr)
        except subprocess.TimeoutExpired as e:
            r = PzResult(argv, None, e.stdout or b"", "TIMEOUT after 180s")
        os.unlink(name)
        return r


def write_case(mp, path, c, rng, fails):
    """Writes the pattern; returns the expected array (native order) or None.
    1. all but the last shard row: data (two ranks, slabs cut through shards);
    2. a random box: data (partial rewrite of shards);
    3. shard (0, ...): fill values (the shard file goes away);
    4. the first inner chunk of shard (1, 0, ...): fill values (an empty entry)."""
    dt = np.dtype(c["dtype"]).newbyteorder("=")
    shape, shard, inner = c["shape"], c["shard"], c["inner"]
    expected = np.full(shape, c["fill"], dt)

    def put(sel, block):
        r = mp.put(path, native(block).tobytes(), sel)
        if r.rc != 0 or r.crashed:
            fails.append(f"put region={region_arg(sel)}: {r.why()}")
            return False
        expected[sel] = block
        return True

    rows = shard[0] * (-(-shape[0] // shard[0]) - 1)
    slab = (slice(0, rows),) + tuple(slice(0, n) for n in shape[1:])
    if not put(slab, make_data(dt, tuple(s.stop - s.start for s in slab), rng)):
        return None
    box = random_box(rng, (rows,) + tuple(shape[1:]))
    if not put(box, make_data(dt, tuple(s.stop - s.start for s in box), rng)):
        return None
    for cc, size in (((0,) * len(shape), shard), ((1,) + (0,) * (len(shape) - 1), inner)):
        sel = tuple(slice(i * s, min((i + 1) * s, n)) for i, s, n in zip(cc, size, shape))
        if cc[0] == 1:  # the first inner chunk of shard (1, 0, ...)
            sel = (slice(shard[0], shard[0] + inner[0]),) + sel[1:]
        blk = np.full(tuple(s.stop - s.start for s in sel), c["fill"], dt)
        if not put(sel, blk):
            return None
    return expected


def check_index(c, path, expected):
    """Parses every shard's index (end of file) as the spec says. None or a
    message."""
    ninner = int(np.prod([s // i for s, i in zip(c["shard"], c["inner"])]))
    per = [s // i for s, i in zip(c["shard"], c["inner"])]
    ib = 16 * ninner + (4 if c["crc"] else 0)
    fill = np.full((), c["fill"], expected.dtype)
    nfiles = 0
    for sc in all_chunk_coords(c["shape"], c["shard"]):
        key = "/".join(["c"] + [str(i) for i in sc])
        p = os.path.join(path, key)
        region = expected[chunk_sel(c["shape"], c["shard"], sc)]
        allfill = bool(np.all((region == fill) | (np.isnan(region) & np.isnan(fill))
                              if expected.dtype.kind == "f" else region == fill))
        if not os.path.exists(p):
            if not allfill:
                return f"shard {key} is missing though it holds data"
            continue
        if allfill:
            return f"shard {key} exists though it holds only fill values"
        nfiles += 1
        b = open(p, "rb").read()
        if len(b) < ib:
            return f"shard {key}: {len(b)} bytes, shorter than its {ib}-byte index"
        ix = b[len(b) - ib:]
        if c["crc"]:
            want, got = crc32c(ix[:-4]), int.from_bytes(ix[-4:], "little")
            if want != got:
                return f"shard {key}: index crc32c {got:08x}, computed {want:08x}"
        ent = np.frombuffer(ix[:16 * ninner], "<u8").reshape(ninner, 2)
        spans = []
        for k, (off, n) in enumerate(ent.tolist()):
            if off == EMPTY and n == EMPTY:
                continue
            if off == EMPTY or n == EMPTY or off + n > len(b) - ib:
                return f"shard {key}: entry {k} (offset {off}, {n} bytes) outside the data"
            spans.append((off, n, k))
        spans.sort()
        for (o1, n1, k1), (o2, _, k2) in zip(spans, spans[1:]):
            if o1 + n1 > o2:
                return f"shard {key}: entries {k1} and {k2} overlap"
        # The inner chunk of fill values written last has an empty entry.
        if sc == (1,) + (0,) * (len(sc) - 1) and tuple(ent[0]) != (EMPTY, EMPTY):
            return f"shard {key}: inner chunk 0 holds only fill values but has entry {tuple(ent[0])}"
        # Every other inner chunk with data has an entry.
        for k in range(ninner):
            ic = np.unravel_index(k, per)
            sel = tuple(slice(s * sh + i * n, min(s * sh + (i + 1) * n, N))
                        for s, sh, i, n, N in zip(sc, c["shard"], ic, c["inner"], c["shape"]))
            part = expected[sel]
            if part.size == 0:
                has = False
            elif expected.dtype.kind == "f":
                has = not bool(np.all((part == fill) | (np.isnan(part) & np.isnan(fill))))
            else:
                has = not bool(np.all(part == fill))
            if has != (tuple(ent[k]) != (EMPTY, EMPTY)):
                return (f"shard {key}: inner chunk {tuple(int(i) for i in ic)} "
                        f"{'holds data' if has else 'is all fill'} but its entry is {tuple(ent[k])}")
    return None if nfiles else "no shard file found"


def main():
    def extra(p):
        p.add_argument("--node", required=True)
        p.add_argument("--node-prefix", required=True)
        p.add_argument("--nprocs", type=int, default=2)
        try:  # interop_common may define it already
            p.add_argument("--mpiexec", default="")
        except argparse.ArgumentError:
            pass
    args = parse_args(extra)
    root = fresh_dir(os.path.join(args.work, "zarrita_reads_pzarr_sharded"))
    mp = MpiPut(args.pzarr, args.mpiexec or "mpiexec", args.nprocs, root)
    rep = Report("zarrita.js reads pzarr (v3, sharded)")
    manifest = []
    for c in cases():
        label = "sharded." + c["name"]
        if args.filter and args.filter not in label:
            continue
        path = os.path.join(root, label)
        os.makedirs(path)
        with open(os.path.join(path, "zarr.json"), "w") as f:
            json.dump(c["doc"], f, indent=2)
        rng = np.random.default_rng(seed_of(label))
        fails = []
        expected = write_case(mp, path, c, rng, fails)
        meta = json.dumps(c["doc"]["codecs"])
        if expected is None:
            rep.fail(label + " put", fails[0] + f" | codecs={meta}")
            continue
        rep.check(label + " shard index", check_index(c, path, expected))
        exp_file = os.path.join(root, label + ".expected.bin")
        with open(exp_file, "wb") as f:
            f.write(np.ascontiguousarray(expected.astype(expected.dtype.newbyteorder("<"))).tobytes())
        shape = c["shape"]
        last = tuple(-(-n // s) - 1 for n, s in zip(shape, c["shard"]))
        regions = [[[0, n] for n in shape],
                   [[s.start, s.stop] for s in chunk_sel(shape, c["shard"], last)],  # never written
                   [[s.start, s.stop] for s in chunk_sel(shape, c["shard"], (0,) * len(shape))]]
        regions += [[[s.start, s.stop] for s in random_box(rng, shape)] for _ in range(3)]
        regions.append([[i, i + 1] for i in (c["shard"][0] + 1,) + (1,) * (len(shape) - 1)])
        manifest.append(dict(label=label, path=path, dtype=v3_name(c["dtype"]), shape=list(shape),
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
                rep.fail(k, o["msg"] + f" | codecs={t['meta']}")
    rep.finish()


if __name__ == "__main__":
    main()
