#!/usr/bin/python3
"""Writes the seed corpus of the fuzz targets into corpus/<target>/.

    /usr/bin/python3 make_corpus.py

Small, made here: metadata documents of every kind pzarr reads (and a few
broken ones), chunks encoded by numcodecs (Debian's python3-numcodecs) for
each pipeline of fuzz_codec.c, shard indexes, names and chunk coordinates.
The files are kept in the repository; rerunning gives the same corpus.
"""
import json
import os
import shutil
import struct

import numcodecs
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def v3(shape, chunks, dtype, fill, codecs, **extra):
    doc = {"zarr_format": 3, "node_type": "array", "shape": shape, "data_type": dtype,
           "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
           "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
           "fill_value": fill, "codecs": codecs}
    doc.update(extra)
    return json.dumps(doc).encode()


BYTES = {"name": "bytes", "configuration": {"endian": "little"}}


def meta():
    docs = {
        "v3_plain": v3([10, 20], [5, 5], "float64", 0.0, [BYTES]),
        "v3_zstd_crc": v3([7], [3], "int16", -1, [BYTES, {"name": "zstd", "configuration": {"level": 1, "checksum": False}}, {"name": "crc32c"}]),
        "v3_blosc_transpose": v3([4, 5, 6], [2, 5, 3], "uint32", 7, [{"name": "transpose", "configuration": {"order": [2, 0, 1]}}, BYTES, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 4, "blocksize": 0}}]),
        "v3_gzip_names": v3([3, 4], [3, 4], "complex64", [1.0, "NaN"], [BYTES, {"name": "gzip", "configuration": {"level": 5}}], dimension_names=["y", None], attributes={"units": "K"}),
        "v3_f16_hex": v3([8], [8], "float16", "0x7e01", [BYTES]),
        "v3_bool": v3([2, 2], [1, 2], "bool", True, [{"name": "bytes"}]),
        "v3_big_int": v3([1], [1], "uint64", 18446744073709551615, [BYTES]),
        "v3_scalar": v3([], [], "float32", "-Infinity", [BYTES]),
        "v3_shard": v3([16, 16], [8, 8], "int32", 0, [{"name": "sharding_indexed", "configuration": {"chunk_shape": [4, 4], "codecs": [BYTES, {"name": "zstd", "configuration": {"level": 0, "checksum": False}}], "index_codecs": [BYTES, {"name": "crc32c"}], "index_location": "start"}}]),
        "v3_v2keys": v3([6], [2], "int8", 0, [{"name": "bytes"}], chunk_key_encoding={"name": "v2", "configuration": {"separator": "."}}),
        "v3_extension": v3([2], [2], "int8", 0, [{"name": "bytes"}], my_ext={"must_understand": False}),
        "v3_group": json.dumps({"zarr_format": 3, "node_type": "group", "attributes": {}}).encode(),
    }
    for name, d in docs.items():
        put("meta", name, b"\x03" + d)
        put("meta", name + "_any", b"\x00" + d)
    v2 = {
        "v2_blosc": {"zarr_format": 2, "shape": [100, 20], "chunks": [10, 20], "dtype": "<f8", "compressor": {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": -1, "blocksize": 0}, "fill_value": "NaN", "order": "C", "filters": None},
        "v2_zlib_F": {"zarr_format": 2, "shape": [5, 6, 7], "chunks": [2, 3, 4], "dtype": ">i4", "compressor": {"id": "zlib", "level": 1}, "fill_value": -3, "order": "F", "filters": [], "dimension_separator": "/"},
        "v2_null_fill": {"zarr_format": 2, "shape": [3], "chunks": [2], "dtype": "|u1", "compressor": None, "fill_value": None, "order": "C", "filters": None},
        "v2_complex": {"zarr_format": 2, "shape": [4], "chunks": [4], "dtype": "<c16", "compressor": {"id": "gzip", "level": 9}, "fill_value": [0, "Infinity"], "order": "C", "filters": None},
        "v2_filters": {"zarr_format": 2, "shape": [4], "chunks": [4], "dtype": "<i8", "compressor": None, "fill_value": 0, "order": "C", "filters": [{"id": "delta", "dtype": "<i8"}]},
    }
    for name, d in v2.items():
        put("meta", name, b"\x02" + json.dumps(d).encode() + b"\x00" + b'{"a": [1, 2.5]}')
    for name, d in {"bad_json": b'{"zarr_format": 3, "shape": [1,', "bad_dims": v3([-1], [0], "int8", 0, [BYTES]),
                    "bad_codec": v3([2], [2], "int8", 0, [{"name": "lz5"}]), "huge": v3([9007199254740993], [1], "int8", 0, [BYTES])}.items():
        put("meta", name, b"\x03" + d)


def codec():
    a = (np.arange(16, dtype="<i4") * 37 - 100).reshape(4, 4)
    head = bytes([0, 3, 2, 3, 3])  # pipeline, int32, 2-D, 4 x 4 (dims are % 16 + 1)
    raw = a.tobytes()

    def seed(k, payload, name):
        put("codec", name, bytes([k]) + head[1:] + payload)

    seed(0, raw, "bytes_le")
    seed(1, a.astype(">i4").tobytes(), "bytes_be")
    seed(2, np.asfortranarray(a).tobytes(order="F"), "transpose_f")
    seed(3, numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1).encode(a), "blosc_lz4")
    seed(4, numcodecs.Zstd(level=1).encode(raw), "zstd")
    seed(5, numcodecs.GZip(level=1).encode(raw), "gzip")
    seed(6, raw + struct.pack("<I", crc32c(raw)), "crc32c")
    z = numcodecs.Zstd(level=1).encode(raw)
    seed(7, z + struct.pack("<I", crc32c(z)), "zstd_crc32c")
    seed(8, numcodecs.Blosc(cname="zstd", clevel=3, shuffle=2).encode(a), "blosc_zstd_bit")
    seed(9, numcodecs.Zlib(level=1).encode(raw), "zlib")
    seed(4, numcodecs.Zstd(level=1).encode(raw)[:-3], "zstd_truncated")
    b = bytearray(numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1).encode(a))
    b[12] ^= 0xFF
    seed(3, bytes(b), "blosc_corrupt")
    seed(5, numcodecs.GZip(level=1).encode(raw * 64)[:200], "gzip_bomb_cut")


def shard_index():
    for n, flags, entries, name in [
        (4, 1, [(0, 10), (10, 5), (2**64 - 1, 2**64 - 1), (15, 1)], "crc_end"),
        (4, 0, [(0, 10), (5, 10), (20, 1), (30, 2)], "overlap"),
        (2, 2, [(32, 8), (40, 8)], "start"),
        (3, 5, [(2**64 - 1, 2**64 - 1)] * 3, "empty_crc_big"),
    ]:
        big = flags & 4
        fmt = ">QQ" if big else "<QQ"
        raw = b"".join(struct.pack(fmt, o, l) for o, l in entries)
        if flags & 1:
            raw += struct.pack("<I", crc32c(raw))
        put("shard_index", name, bytes([n - 1, flags, 0, 64]) + raw)


def names():
    for i, n in enumerate([b"a/b/c", b"../x", b"a//b", b"/abs", b"x/", b"\xc3\xa9t\xc3\xa9/\x01",
                           b"__reserved", b"a\\b", b".", b"temperature",
                           bytes([3, 0x80]) + struct.pack(">QQQ", 1, 2**63, 7),
                           bytes([32, 63]) + b"\xff" * 256]):
        put("names", "n%02d" % i, n)


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    meta()
    codec()
    shard_index()
    names()
    for t in sorted(os.listdir(OUT)):
        print(t, len(os.listdir(os.path.join(OUT, t))), "seeds")
