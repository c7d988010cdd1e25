#!/usr/bin/python3
"""interop.times_checksums: NumPy's datetime64 / timedelta64 and numcodecs'
checksums, against zarr-python 2.13 / numcodecs 0.11; their Zarr v3 forms
against the zarr-extensions documents.

1. zarr-python writes <M8[ns], <M8[s], <m8[10s], <M8[D] arrays (NaT inside,
   several fills); `pzarr get` returns numpy's int64 view; `pzarr info` names
   the type.
2. pzarr (CLI --dtype datetime64[UNIT]) writes into zarr-python's empty
   twins at 2 ranks: chunk files byte for byte zarr-python's, values read
   back by zarr-python; the CLI's own v2 document is the one zarr-python
   makes (dtype, NaT fill as -2^63).
3. v3: `pzarr copy --format 3` of those arrays: data_type
   {"name": "numpy.datetime64", "configuration": {"unit", "scale_factor"}}
   and fill "NaT" as zarr-extensions gives them, chunks = the int64 bytes;
   and back to v2, which zarr-python reads as the original.
4. Checksums: zarr-python writes Adler32 and CRC32 as the compressor and as
   a filter before Zstd; pzarr reads; pzarr writes into the twins, chunk
   files byte for byte; a flipped byte fails naming the codec and chunk.
   numcodecs.adler32 / crc32 with "location": "end" and numcodecs.fletcher32
   (v3): round trips, and fletcher32's trailer equals a Fletcher-32
   computed here from its definition.
5. v3 numcodecs.zlib and zarr-extensions "bitround" read and written: a v2
   zlib array copied to v3 reads the same; bitround rounds as numcodecs'
   BitRound does.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import zarr  # noqa: E402
from numcodecs import CRC32, Adler32, BitRound, Zlib, Zstd  # noqa: E402

from interop_common import Pzarr, Report, fresh_dir, parse_args  # noqa: E402


def times():
    base = np.array(["2005-02-03T04:05:06.123456789", "NaT", "1970-01-01", "2021-06-01T12:00",
                     "1969-12-31T23:59:59", "2100-01-01", "NaT"], dtype="M8[ns]")
    return {
        "ns": (base, "datetime64[ns]", None),
        "s": (base.astype("M8[s]"), "datetime64[s]", np.datetime64("NaT")),
        "D": (base.astype("M8[D]"), "datetime64[D]", np.datetime64("2000-01-01")),
        "td10s": (np.array([1, -3, "NaT", 7, 0, 86400, 2], dtype="m8[10s]"), "timedelta64[10s]",
                  np.timedelta64(0, "10s")),
    }


def same_chunks(zp, tw, z):
    """Chunk files of zarr-python's array zp that pzarr's twin tw lacks or
    writes differently; one pzarr leaves out must be all fill for zarr-python."""
    bad = []
    for k in sorted(os.listdir(zp)):
        if k.startswith("."):
            continue
        mine = f"{tw}/{k}"
        if not os.path.exists(mine):
            c = np.frombuffer(z._decode_chunk(open(f"{zp}/{k}", "rb").read()), dtype=z.dtype)
            fill = np.array(z.fill_value, dtype=z.dtype)
            if not (c.view("i8") == fill.view("i8")).all():
                bad.append(k + " (absent)")
        elif open(f"{zp}/{k}", "rb").read() != open(mine, "rb").read():
            bad.append(k)
    return bad


def fletcher32(b):
    """HDF5's Fletcher-32 over big-endian 16-bit words (numcodecs' definition)."""
    s1 = s2 = 0
    words = [(b[i] << 8) | b[i + 1] for i in range(0, len(b) - 1, 2)]
    if len(b) % 2:
        words.append(b[-1] << 8)
    for w in words:
        s1 = (s1 + w) % 65535
        s2 = (s2 + s1) % 65535
    s1 = s1 or 0
    return (s2 << 16) | s1


def main():
    args = parse_args()
    rep = Report("interop.times_checksums")
    pz = Pzarr(args.pzarr)
    work = fresh_dir(args.work + "/times")

    # 1-3 datetime64 / timedelta64
    for name, (a, cli_type, fill) in times().items():
        zp = f"{work}/zp_{name}"
        z = zarr.open(zp, mode="w", shape=a.shape, chunks=(3,), dtype=a.dtype, fill_value=fill,
                      compressor=Zstd(level=1))
        z[:] = a
        r = pz.get(zp)
        rep.check(f"{name}: pzarr reads zarr-python's", None if r.rc == 0 and r.out ==
                  a.view("<i8").tobytes() else r.why() if r.rc else "values differ")
        r = pz.run(["info", zp])
        rep.check(f"{name}: info names {cli_type}", None if r.rc == 0 and cli_type in
                  r.out.decode() else r.why())
        # pzarr writes the twin
        tw = f"{work}/tw_{name}"
        zarr.open(tw, mode="w", shape=a.shape, chunks=(3,), dtype=a.dtype, fill_value=fill,
                  compressor=Zstd(level=1))
        src = f"{work}/{name}.bin"
        a.view("<i8").tofile(src)
        r = pz.mpi(args.mpiexec, 2, ["put", tw, "-i", src, "-q"])
        if r.rc:
            rep.fail(f"{name}: pzarr writes", r.why())
            continue
        diff = same_chunks(zp, tw, z)
        rep.check(f"{name}: chunk files byte for byte zarr-python's", None if not diff
                  else f"{diff} differ")
        back = zarr.open(tw, mode="r")[:]
        rep.check(f"{name}: zarr-python reads pzarr's", None if np.array_equal(
            back.view("i8"), a.view("i8")) else "values differ")
        # the CLI's document
        cw = f"{work}/cli_{name}"
        r = pz.run(["create", cw, "--format", "2", "--dtype", cli_type, "--shape", str(len(a)),
                    "--chunks", "3", "--codec", "zstd:1"])
        if r.rc:
            rep.fail(f"{name}: create --dtype {cli_type}", r.why())
            continue
        d = json.load(open(f"{cw}/.zarray"))
        zref = zarr.open(f"{work}/ref_{name}", mode="w", shape=a.shape, chunks=(3,),
                         dtype=a.dtype, fill_value=np.array("NaT", dtype=a.dtype),
                         compressor=Zstd(level=1))
        ref = json.load(open(f"{work}/ref_{name}/.zarray"))
        del zref
        rep.check(f"{name}: the CLI's v2 document is zarr-python's (NaT fill)",
                  None if (d["dtype"], d["fill_value"]) == (ref["dtype"], ref["fill_value"])
                  else f"{d['dtype']} {d['fill_value']} vs {ref['dtype']} {ref['fill_value']}")
        # v3 and back
        v3 = f"{work}/v3_{name}"
        r = pz.mpi(args.mpiexec, 2, ["copy", zp, v3, "--format", "3", "-q"])
        if r.rc:
            rep.fail(f"{name}: copy to v3", r.why())
            continue
        doc = json.load(open(f"{v3}/zarr.json"))
        kind = "datetime64" if a.dtype.kind == "M" else "timedelta64"
        unit, count = np.datetime_data(a.dtype)
        want_dt = {"name": f"numpy.{kind}", "configuration": {"unit": unit, "scale_factor": count}}
        want_fill = "NaT" if fill is None or np.isnat(fill) else int(np.array(fill).view("i8"))
        rep.check(f"{name}: v3 data_type and fill as zarr-extensions give them",
                  None if doc["data_type"] == want_dt and doc["fill_value"] == want_fill
                  else f"{doc['data_type']} {doc['fill_value']}")
        r = pz.get(v3)
        rep.check(f"{name}: v3 values", None if r.rc == 0 and r.out == a.view("<i8").tobytes()
                  else r.why())
        chunk = open(f"{v3}/c/0", "rb").read()
        rep.check(f"{name}: v3 chunk holds the int64 bytes (zstd)", None if
                  Zstd().decode(chunk) == a[:3].view("<i8").tobytes() else "chunk differs")
        v2 = f"{work}/back_{name}"
        r = pz.run(["copy", v3, v2, "--format", "2", "-q"])
        ok = r.rc == 0 and np.array_equal(zarr.open(v2, mode="r")[:].view("i8"), a.view("i8"))
        rep.check(f"{name}: v3 -> v2 read by zarr-python", None if ok else r.why() or "differs")

    # 4 checksums, v2
    x = (np.arange(70, dtype="<i4") * 37) % 101
    for name, comp, filters in [("adler32", Adler32(), None), ("crc32", CRC32(), None),
                                ("adler32_filter", Zstd(level=2), [Adler32()]),
                                ("crc32_filter", Zstd(level=2), [CRC32()])]:
        zp = f"{work}/ck_{name}"
        z = zarr.open(zp, mode="w", shape=x.shape, chunks=(16,), dtype=x.dtype,
                      compressor=comp, filters=filters)
        z[:] = x
        r = pz.get(zp)
        rep.check(f"{name}: pzarr reads", None if r.rc == 0 and r.out == x.tobytes() else
                  r.why())
        tw = f"{work}/ckt_{name}"
        zarr.open(tw, mode="w", shape=x.shape, chunks=(16,), dtype=x.dtype, compressor=comp,
                  filters=filters)
        r = pz.put(tw, x.tobytes())
        diff = same_chunks(zp, tw, z)
        rep.check(f"{name}: pzarr's chunk files byte for byte", None if r.rc == 0 and not diff
                  else r.why() if r.rc else f"{diff}")
        rep.check(f"{name}: pzarr keeps the document's form", None if json.load(
            open(f"{tw}/.zarray")) == json.load(open(f"{zp}/.zarray")) else "document changed")
        with open(f"{zp}/1", "r+b") as f:
            b = bytearray(f.read())
            b[len(b) // 2] ^= 0x10
            f.seek(0)
            f.write(b)
        r = pz.get(zp)
        rep.check(f"{name}: a flipped byte fails naming the chunk", None if r.rc == 1 and
                  "1" in r.err and not r.crashed else r.why())

    # 4 checksums, v3 (hand-written documents; pzarr writes and reads)
    for cname, conf in [("numcodecs.adler32", {"location": "end"}),
                        ("numcodecs.crc32", {"location": "end"}), ("numcodecs.crc32", {}),
                        ("numcodecs.fletcher32", {})]:
        d = f"{work}/v3ck_{cname}_{len(conf)}"
        os.makedirs(d)
        codec = {"name": cname, "configuration": conf} if conf else {"name": cname}
        json.dump({"zarr_format": 3, "node_type": "array", "shape": [70], "data_type": "int32",
                   "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [16]}},
                   "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                   "fill_value": 0, "codecs": [{"name": "bytes", "configuration":
                                                {"endian": "little"}}, codec],
                   "attributes": {}}, open(f"{d}/zarr.json", "w"))
        r = pz.put(d, x.tobytes())
        r = pz.get(d) if r.rc == 0 else r
        rep.check(f"v3 {cname} {conf}: round trip", None if r.rc == 0 and r.out == x.tobytes()
                  else r.why())
        raw = open(f"{d}/c/1", "rb").read()
        data = x[16:32].tobytes()
        if cname.endswith("fletcher32"):
            want = data + struct.pack("<I", fletcher32(data))
        else:
            import zlib
            s = (zlib.adler32 if "adler" in cname else zlib.crc32)(data) & 0xffffffff
            want = (data + struct.pack("<I", s)) if conf else (struct.pack("<I", s) + data)
        rep.check(f"v3 {cname} {conf}: the chunk is the data with its checksum where it says",
                  None if raw == want else f"{raw[:8].hex()}... vs {want[:8].hex()}...")

    # 5 numcodecs.zlib (v3) and bitround
    zp = f"{work}/zlib2"
    z = zarr.open(zp, mode="w", shape=(50,), chunks=(20,), dtype="<f8", compressor=Zlib(level=4))
    y = np.sin(np.arange(50) * 0.3) * 100
    z[:] = y
    r = pz.run(["copy", zp, f"{work}/zlib3", "--format", "3", "-q"])
    if r.rc == 0:
        doc = json.load(open(f"{work}/zlib3/zarr.json"))
        rep.check("v3 numcodecs.zlib: the document", None if doc["codecs"][1] == {
            "name": "numcodecs.zlib", "configuration": {"level": 4}} else json.dumps(doc["codecs"]))
        r = pz.get(f"{work}/zlib3")
        rep.check("v3 numcodecs.zlib: values", None if r.rc == 0 and r.out == y.tobytes()
                  else r.why())
    else:
        rep.fail("copy of a zlib array to v3", r.why())
    d = f"{work}/bitround3"
    os.makedirs(d)
    json.dump({"zarr_format": 3, "node_type": "array", "shape": [50], "data_type": "float64",
               "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [20]}},
               "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
               "fill_value": 0.0, "codecs": [{"name": "bitround", "configuration":
                                              {"keepbits": 7}},
                                             {"name": "bytes", "configuration":
                                              {"endian": "little"}}],
               "attributes": {}}, open(f"{d}/zarr.json", "w"))
    r = pz.put(d, y.tobytes())
    r = pz.get(d) if r.rc == 0 else r
    want = BitRound(keepbits=7).encode(y)
    rep.check("v3 bitround rounds as numcodecs' BitRound", None if r.rc == 0 and
              r.out == np.asarray(want).tobytes() else r.why() or "values differ")
    r = pz.run(["copy", d, f"{work}/bitround2", "--format", "2", "-q"])
    ok = r.rc == 0 and json.load(open(f"{work}/bitround2/.zarray"))["filters"] == [
        {"id": "bitround", "keepbits": 7}] and (
        zarr.open(f"{work}/bitround2", mode="r")[:].tobytes() == np.asarray(want).tobytes())
    rep.check("v3 bitround -> v2 numcodecs bitround filter, read by zarr-python",
              None if ok else r.why() or "differs")
    return rep.finish()


if __name__ == "__main__":
    sys.exit(main())
