#!/usr/bin/python3
"""interop.vlen: variable-length strings and bytes against zarr-python 2.13 /
numcodecs 0.11, and their Zarr v3 forms against zarr-extensions.

1. zarr-python writes object arrays of str (vlen-utf8) and bytes (vlen-bytes)
   with blosc, zstd or nothing, fills "", "zz", null and 0, 1-D and 2-D, some
   chunks never written; `pzarr get` (JSON Lines) returns its values (a
   missing element of a null or numeric fill reads "").
2. pzarr writes (`pzarr create --dtype string|bytes --format 2`, `pzarr put`
   at 2 ranks): zarr-python reads the values; every chunk file equals
   numcodecs' VLenUTF8 / VLenBytes encoding of that chunk (no compressor).
3. `pzarr copy` at 2 and 3 ranks rechunks zarr-python's arrays (v2 -> v2 and
   v2 -> v3 -> v2): zarr-python reads the originals' values.
4. v3: data_type "string" / "variable_length_bytes", codecs vlen-utf8 /
   vlen-bytes as zarr-extensions gives them; the chunk files (codecs none)
   are numcodecs' encodings byte for byte (zarr-extensions defines the
   layout as numcodecs').
5. Bad input: a JSON Lines file with the wrong count or a non-string line
   fails naming the line; a chunk with a broken length fails naming the chunk.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import numcodecs  # noqa: E402
import zarr  # noqa: E402
from numcodecs import Blosc, VLenBytes, VLenUTF8, Zstd  # noqa: E402

from interop_common import Pzarr, Report, fresh_dir, parse_args  # noqa: E402


def text_values(shape, seed):
    rng = np.random.default_rng(seed)
    words = ["", "a", "héllo", "naïve text", "line\nbreak", 'quote " and \\', "\u4e16\u754c",
             "\U0001f680", "x" * 300, "tab\there", "\x01ctl"]
    return np.array([words[i] for i in rng.integers(0, len(words), size=int(np.prod(shape)))],
                    dtype=object).reshape(shape)


def byte_values(shape, seed):
    rng = np.random.default_rng(seed)
    out = np.empty(int(np.prod(shape)), dtype=object)
    for i in range(out.size):
        out[i] = bytes(rng.integers(0, 256, size=int(rng.integers(0, 40))).astype(np.uint8))
    return out.reshape(shape)


def as_lines(values, kind):
    """What `pzarr get` prints for these values (kind "s" or "b")."""
    out = []
    for v in values.ravel():
        if kind == "b":
            v = v.decode("latin-1") if isinstance(v, bytes) else ""
        elif not isinstance(v, str):
            v = ""  # None (fill null) or a number (fill 0)
        out.append(v)
    return out


def get_lines(pz, path, region=None):
    r = pz.get(path, region)
    if r.rc != 0:
        return None, r.why()
    return [json.loads(x) for x in r.out.decode("utf-8").splitlines()], None


def put_lines(work, name, values, kind):
    f = f"{work}/{name}.jsonl"
    with open(f, "w", encoding="utf-8") as fh:
        for v in values.ravel():
            fh.write(json.dumps(v.decode("latin-1") if kind == "b" else v) + "\n")
    return f


def equal_objects(a, b):
    return a.shape == b.shape and all(x == y for x, y in zip(a.ravel(), b.ravel()))


def chunk_encodings(path, codec):
    """Chunk key -> numcodecs' encoding of what zarr-python reads for it."""
    z = zarr.open_array(path, mode="r")
    full = z[...]
    out = {}
    grid = [(n + c - 1) // c for n, c in zip(z.shape, z.chunks)]
    for idx in np.ndindex(*grid):
        pad = b"" if isinstance(codec, VLenBytes) else ""  # a null fill pads with empties
        block = np.full(z.chunks, z.fill_value if z.fill_value is not None else pad, dtype=object)
        sel = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(idx, z.chunks, z.shape))
        block[tuple(slice(0, s.stop - s.start) for s in sel)] = full[sel]
        out[".".join(map(str, idx))] = codec.encode(block)
    return out


def main():
    args = parse_args()
    rep = Report("interop.vlen")
    pz = Pzarr(args.pzarr)
    work = fresh_dir(args.work + "/vlen")

    # 1. zarr-python writes, pzarr reads
    cases = {
        "s2d_blosc": ((7, 5), (3, 2), "s", dict(dtype=str, fill_value="",
                                                  compressor=Blosc("lz4", 5, 1))),
        "s1d_fillzz": ((11,), (4,), "s", dict(dtype=str, fill_value="zz",
                                               compressor=Zstd(level=1))),
        "s1d_null": ((9,), (4,), "s", dict(dtype=object, object_codec=VLenUTF8(),
                                            fill_value=None, compressor=None)),
        "b1d_zero": ((10,), (3,), "b", dict(dtype=object, object_codec=VLenBytes(),
                                             compressor=Zstd(level=3))),
        "b2d_null": ((5, 6), (2, 4), "b", dict(dtype=object, object_codec=VLenBytes(),
                                                fill_value=None, compressor=None)),
    }
    made = {}
    for name, (shape, chunks, kind, kw) in cases.items():
        zp = f"{work}/zp/{name}"
        z = zarr.open(zp, mode="w", shape=shape, chunks=chunks, **kw)
        vals = (text_values if kind == "s" else byte_values)(shape, len(name))
        written = tuple(slice(0, max(1, n - c)) for n, c in zip(shape, chunks))  # some chunks stay empty
        z[written] = vals[written]
        want = z[...]
        made[name] = (zp, want, kind)
        got, err = get_lines(pz, zp)
        rep.check(f"{name}: pzarr reads zarr-python's", err or (
            None if got == as_lines(want, kind) else f"got {got[:6]} want {as_lines(want, kind)[:6]}"))
        reg = tuple(slice(1, n) for n in shape)
        got, err = get_lines(pz, zp, ",".join(f"{s.start}:{s.stop}" for s in reg))
        rep.check(f"{name}: a region across chunks", err or (
            None if got == as_lines(want[reg], kind) else "values differ"))

    # 2. pzarr writes (2 ranks), zarr-python reads; chunks byte for byte numcodecs'
    for kind, codec, tname in (("s", VLenUTF8(), "string"), ("b", VLenBytes(), "bytes")):
        shape, chunks = (6, 7), (4, 3)
        vals = (text_values if kind == "s" else byte_values)(shape, 7)
        p = f"{work}/pz_{tname}"
        r = pz.run(["create", p, "--format", "2", "--dtype", tname, "--shape", "6,7",
                    "--chunks", "4,3", "--codec", "none"])
        if not rep.check(f"pzarr create --dtype {tname}", None if r.rc == 0 else r.why()):
            continue
        r = pz.mpi(args.mpiexec, 2, ["put", p, "-i", put_lines(work, tname, vals, kind), "-q"])
        if not rep.check(f"pzarr put {tname} at 2 ranks", None if r.rc == 0 else r.why()):
            continue
        z = zarr.open_array(p, mode="r")
        rep.check(f"{tname}: zarr-python reads pzarr's", None if equal_objects(z[...], vals)
                  else f"zarr-python reads {z[...].ravel()[:4]}")
        want = chunk_encodings(p, codec)
        bad = [k for k, enc in want.items()
               if not os.path.exists(f"{p}/{k}") or open(f"{p}/{k}", "rb").read() != enc]
        rep.check(f"{tname}: every chunk file is numcodecs' encoding", None if not bad
                  else f"chunks differ: {bad[:5]}")

    # 3. copy rechunks at 2 and 3 ranks, v2 -> v2 and v2 -> v3 -> v2
    for name, (zp, want, kind) in made.items():
        nd = want.ndim
        new = "2" if nd == 1 else "1,3"
        r = pz.mpi(args.mpiexec, 2, ["copy", zp, f"{work}/cp2/{name}", "--chunks", new, "-q"])
        # what zarr-python reads, None (fill null) and 0 (a numeric fill) as ""
        ok = r.rc == 0 and as_lines(zarr.open_array(f"{work}/cp2/{name}", mode="r")[...],
                                    kind) == as_lines(want, kind)
        rep.check(f"{name}: copy --chunks {new} at 2 ranks, read by zarr-python",
                  None if ok else r.why() or "values differ")
        r = pz.mpi(args.mpiexec, 3, ["copy", zp, f"{work}/cp3/{name}", "--format", "3",
                                     "--chunks", "3" if nd == 1 else "2,2", "--codec", "gzip:1",
                                     "-q"])
        got, err = get_lines(pz, f"{work}/cp3/{name}") if r.rc == 0 else (None, r.why())
        rep.check(f"{name}: copy to v3 at 3 ranks reads the same", err or (
            None if got == as_lines(want, kind) else "values differ"))
        if r.rc == 0:
            r = pz.mpi(args.mpiexec, 2, ["copy", f"{work}/cp3/{name}", f"{work}/back/{name}",
                                         "--format", "2", "-q"])
            ok = r.rc == 0 and as_lines(zarr.open_array(f"{work}/back/{name}", mode="r")[...],
                                        kind) == as_lines(want, kind)
            rep.check(f"{name}: and back to v2, read by zarr-python",
                      None if ok else r.why() or "values differ")

    # 4. v3 documents and chunk bytes
    for kind, codec, tname, dtype, cname in (
            ("s", VLenUTF8(), "string", "string", "vlen-utf8"),
            ("b", VLenBytes(), "bytes", "variable_length_bytes", "vlen-bytes")):
        p = f"{work}/v3_{tname}"
        vals = (text_values if kind == "s" else byte_values)((5,), 3)
        r = pz.run(["create", p, "--dtype", tname, "--shape", "5", "--chunks", "2",
                    "--codec", "none"])
        if r.rc == 0:
            r = pz.run(["put", p, "-i", put_lines(work, "v3" + tname, vals, kind), "-q"])
        if not rep.check(f"v3 {tname}: create and put", None if r.rc == 0 else r.why()):
            continue
        doc = json.load(open(f"{p}/zarr.json"))
        rep.check(f"v3 {tname}: data_type and codecs as zarr-extensions",
                  None if doc["data_type"] == dtype and doc["codecs"] == [
                      {"name": cname, "configuration": {}}] and doc["fill_value"] == "" else
                  f"{doc['data_type']} {doc['codecs']} {doc['fill_value']!r}")
        bad = []
        for i in range(3):
            block = np.array(list(vals[2 * i:2 * i + 2]) + [b"" if kind == "b" else ""] *
                             (2 - len(vals[2 * i:2 * i + 2])), dtype=object)
            f = f"{p}/c/{i}"
            if not os.path.exists(f) or open(f, "rb").read() != codec.encode(block):
                bad.append(i)
        rep.check(f"v3 {tname}: chunk files are the vlen layout byte for byte",
                  None if not bad else f"chunks {bad} differ")

    # 5. bad input
    p = f"{work}/pz_string"
    if os.path.isdir(p):
        f = f"{work}/short.jsonl"
        with open(f, "w") as fh:
            fh.write('"a"\n"b"\n')
        r = pz.run(["put", p, "-i", f, "-q"])
        rep.check("put with too few lines fails naming the count",
                  None if r.rc != 0 and "2 elements for a region of 42" in r.err else r.why())
        with open(f, "w") as fh:
            fh.write('"a"\n42\n')
        r = pz.run(["put", p, "-i", f, "--region", "0:1,0:2", "-q"])
        rep.check("put with a non-string line fails naming the line",
                  None if r.rc != 0 and "line 2" in r.err else r.why())
        raw = open(f"{p}/0.0", "rb").read()
        bad = raw[:4] + (0xFFFF).to_bytes(4, "little") + raw[8:]
        with open(f"{p}/0.0", "wb") as fh:
            fh.write(bad)
        r = pz.get(p)
        rep.check("a chunk with a broken length fails naming it",
                  None if r.rc != 0 and "0.0" in r.err and "vlen-utf8" in r.err else r.why())
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
