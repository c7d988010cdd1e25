#!/usr/bin/python3
"""interop.fixtures: `pzarr get` on the zarrita.js fixture stores (written by
zarr-python 2.18 and >= 3.1; read in place from <source>/../shared/fixtures,
nothing is copied) returns the documented values (see the fixtures'
README.md); variable-length strings (VLEN) read as what an implementation we
did not write decodes (zarr-python 2 for v2; numcodecs' own codecs on the v3
chunk files); arrays using features pzarr does not support (the json2 object
codec) give a non-zero exit whose message says "unsupported", and never a
crash.

Arrays listed as MAY_BE_UNSUPPORTED pass either way: with the documented
values or with a clean "unsupported" error.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from interop_common import Pzarr, Report, compare  # noqa: E402

I14 = np.array([1, 2, 3, 4])
A27 = np.arange(27).reshape(3, 3, 3)
F4 = np.array([-1000.5, 0, 1000.5, 0])
F8 = np.array([1.5, 2.5, 3.5, 4.5])
U1 = np.array([255, 0, 255, 0])
B1 = np.array([True, False, True, False])
SQ2 = np.array([[1, 2], [3, 4]])
SQ3 = np.arange(1, 10).reshape(3, 3)

UNSUPPORTED = "unsupported"
ZARR_PYTHON = "zarr-python"  # values: what zarr-python reads from the fixture
MAYBE = "maybe"  # marker: values or "unsupported"
VLEN = "vlen"  # strings: `pzarr get` JSON Lines equal an independent decode

# name -> (numpy dtype, values) | UNSUPPORTED | (MAYBE, dtype, values)
V2 = {
    "1d.chunked.i2": ("<i2", I14),
    "1d.chunked.ragged.i2": ("<i2", np.arange(1, 6)),
    "1d.contiguous.S7": ZARR_PYTHON,  # fixed-length strings
    "1d.contiguous.U13.be": ZARR_PYTHON,  # fixed-length strings
    "1d.contiguous.U13.le": ZARR_PYTHON,  # fixed-length strings
    "1d.contiguous.U7": ZARR_PYTHON,  # fixed-length strings
    "1d.contiguous.b1": ("|b1", B1),
    "1d.contiguous.bitround.f4": ZARR_PYTHON,  # numcodecs filters
    "1d.contiguous.blosc.i2": ("<i2", I14),
    "1d.contiguous.delta.i2": ZARR_PYTHON,  # numcodecs filters
    "1d.contiguous.delta.shuffle.i2": ZARR_PYTHON,  # numcodecs filters
    "1d.contiguous.f4.be": (">f4", F4),
    "1d.contiguous.f4.le": ("<f4", F4),
    "1d.contiguous.f8": ("<f8", F8),
    "1d.contiguous.fixedscaleoffset.f4": ZARR_PYTHON,  # numcodecs filters
    "1d.contiguous.i4": ("<i4", I14),
    "1d.contiguous.json2.O": UNSUPPORTED,
    "1d.contiguous.lz4.i2": ("<i2", I14),  # numcodecs lz4 (not blosc)
    "1d.contiguous.raw.i2": ("<i2", I14),
    "1d.contiguous.shuffle.i2": ZARR_PYTHON,  # numcodecs filters
    "1d.contiguous.u1": ("|u1", U1),
    "1d.contiguous.zlib.i2": ("<i2", I14),
    "1d.contiguous.zstd.i2": ("<i2", I14),
    "2d.chunked.U7": ZARR_PYTHON,  # fixed-length strings
    "2d.chunked.i2": ("<i2", SQ2),
    "2d.chunked.ragged.i2": ("<i2", SQ3),
    "2d.contiguous.i2": ("<i2", SQ2),
    "3d.chunked.O": VLEN,
    "3d.chunked.i2": ("<i2", A27),
    "3d.chunked.mixed.i2.C": ("<i2", A27),
    "3d.chunked.mixed.i2.F": ("<i2", A27),
    "3d.contiguous.i2": ("<i2", A27),
}

SHARD = lambda dt, v: (MAYBE, dt, v)  # noqa: E731  sharding_indexed: "for now" unsupported

V3 = {
    "1d.chunked.compressed.sharded.i2": SHARD("<i2", I14),
    "1d.chunked.filled.compressed.sharded.i2": SHARD("<i2", np.array([1, 2, 0, 0])),
    "1d.chunked.i2": ("<i2", I14),
    "1d.chunked.ragged.i2": ("<i2", np.arange(1, 6)),
    "1d.chunked.string.vlen": VLEN,
    "1d.contiguous.b1": ("|b1", B1),
    "1d.contiguous.blosc.i2": ("<i2", I14),
    "1d.contiguous.compressed.sharded.b1": SHARD("|b1", B1),
    "1d.contiguous.compressed.sharded.f4": SHARD("<f4", F4),
    "1d.contiguous.compressed.sharded.f8": SHARD("<f8", F8),
    "1d.contiguous.compressed.sharded.i2": SHARD("<i2", I14),
    "1d.contiguous.compressed.sharded.i4": SHARD("<i4", I14),
    "1d.contiguous.compressed.sharded.u1": SHARD("|u1", U1),
    "1d.contiguous.delta.i4": ("<i4", I14),  # numcodecs.delta
    "1d.contiguous.f2.le": ("<f2", F4),
    "1d.contiguous.f4.be": ("<f4", F4),
    "1d.contiguous.f4.le": ("<f4", F4),
    "1d.contiguous.f8": ("<f8", F8),
    "1d.contiguous.gzip.i2": ("<i2", I14),
    "1d.contiguous.i4": ("<i4", I14),
    "1d.contiguous.raw.i2": ("<i2", I14),
    "1d.contiguous.string.compressed": VLEN,
    "1d.contiguous.string.vlen": VLEN,
    "1d.contiguous.u1": ("|u1", U1),
    "1d.string.empty": VLEN,
    "1d.string.unicode": VLEN,
    "2d.chunked.compressed.sharded.filled.i2": SHARD("<i2", np.arange(16).reshape(4, 4)),
    "2d.chunked.compressed.sharded.i2": SHARD("<i2", np.arange(1, 17).reshape(4, 4)),
    "2d.chunked.i2": ("<i2", SQ2),
    "2d.chunked.ragged.compressed.sharded.i2": SHARD("<i2", SQ3),
    "2d.chunked.ragged.i2": ("<i2", SQ3),
    "2d.chunked.string.vlen": VLEN,
    "2d.contiguous.compressed.sharded.i2": SHARD("<i2", SQ2),
    "2d.contiguous.i2": ("<i2", SQ2),
    "3d.chunked.compressed.sharded.i2": SHARD("<i2", np.arange(64).reshape(4, 4, 4)),
    "3d.chunked.i2": ("<i2", A27),
    "3d.chunked.mixed.compressed.sharded.i2": SHARD("<i2", A27),
    "3d.chunked.mixed.i2.C": ("<i2", A27),
    "3d.chunked.mixed.i2.F": ("<i2", A27),
    "3d.contiguous.compressed.sharded.i2": SHARD("<i2", A27),
    "3d.contiguous.delta.i4.mixed": ("<i4", A27),  # transpose, numcodecs.delta
    "3d.contiguous.i2": ("<i2", A27),
    "consolidated/1d.chunked.i2": ("<i2", I14),
    "consolidated/2d.contiguous.i2": ("<i2", SQ2),
    "consolidated/nested/1d.i2": ("<i2", np.array([10, 20, 30, 40])),
}


def expected_array(dt, values):
    return np.asarray(values).astype(dt)


def sub_regions(shape):
    """A few boxes: the last element and an interior box crossing chunks."""
    out = [tuple(slice(n - 1, n) for n in shape)]
    if all(n >= 2 for n in shape):
        out.append(tuple(slice(1, n) for n in shape))
    return out


def independent_vlen(path):
    """The array's elements as numpy objects, decoded by zarr-python 2 (v2) or
    by numcodecs' codecs applied to the v3 chunk files (zarr-python 2 reads
    no v3)."""
    if os.path.exists(os.path.join(path, ".zarray")):
        import zarr
        return zarr.open_array(path, mode="r")[...]
    import numcodecs
    with open(os.path.join(path, "zarr.json")) as f:
        doc = json.load(f)
    shape = doc["shape"]
    chunks = doc["chunk_grid"]["configuration"]["chunk_shape"]
    sep = doc["chunk_key_encoding"].get("configuration", {}).get("separator", "/")
    codecs = doc["codecs"]
    assert codecs[0]["name"] == "vlen-utf8", codecs
    after = []
    for c in codecs[1:]:
        cfg = dict(c.get("configuration", {}), id=c["name"])
        if c["name"] == "zstd" and not cfg.pop("checksum", False):
            pass  # numcodecs 0.11's Zstd takes no "checksum" (and writes none)
        after.append(numcodecs.get_codec(cfg))
    out = np.full(shape, doc["fill_value"], dtype=object)
    grid = [(n + c - 1) // c for n, c in zip(shape, chunks)]
    for idx in np.ndindex(*grid):
        key = os.path.join(path, "c", *[str(i) for i in idx]) if sep == "/" else \
            os.path.join(path, "c" + "".join("." + str(i) for i in idx))
        if not os.path.exists(key):
            continue
        with open(key, "rb") as f:
            buf = f.read()
        for c in reversed(after):
            buf = c.decode(buf)
        vals = numcodecs.VLenUTF8().decode(buf).reshape(chunks)
        sel = tuple(slice(i * c, min((i + 1) * c, n)) for i, c, n in zip(idx, chunks, shape))
        out[sel] = vals[tuple(slice(0, s.stop - s.start) for s in sel)]
    return out


def check_vlen(rep, pz, label, path):
    exp = independent_vlen(path)
    for sel in [tuple(slice(0, n) for n in exp.shape)] + sub_regions(exp.shape):
        reg = ",".join(f"{s.start}:{s.stop}" for s in sel)
        r = pz.get(path, reg)
        lab = f"{label} region={reg}"
        if r.crashed or r.rc != 0:
            rep.fail(lab, r.why())
            continue
        got = [json.loads(line) for line in r.out.decode("utf-8").splitlines()]
        want = [str(v) for v in exp[sel].ravel()]
        rep.check(lab, None if got == want else f"got {got[:8]}, want {want[:8]}")


def check_array(rep, pz, label, path, spec):
    if spec == VLEN:
        return check_vlen(rep, pz, label, path)
    if spec == ZARR_PYTHON:
        import zarr
        z = zarr.open_array(path, mode="r")
        spec = (z.dtype.str, z[...])
    maybe = isinstance(spec, tuple) and spec[0] == MAYBE
    if maybe:
        spec = spec[1:]
    if spec == UNSUPPORTED or maybe:
        r = pz.get(path)
        if r.crashed:
            rep.fail(label, "crashed: " + r.why())
            return
        if r.rc != 0:
            if "unsupported" in r.err.lower():
                rep.ok(f"{label} -> unsupported: {r.err.strip().splitlines()[-1][:200]}")
            else:
                rep.fail(label, "non-zero exit without 'unsupported' in the message: " + r.why())
            return
        if not maybe:
            rep.fail(label, f"expected an 'unsupported' error, but `{r.cmd()}` succeeded "
                            f"with {len(r.out)} bytes")
            return
    dt, values = spec
    exp = expected_array(dt, values)
    r = pz.get(path)
    if r.crashed or r.rc != 0:
        rep.fail(label, r.why())
        return
    msg = compare(exp, r.out)
    rep.check(label, None if msg is None else msg + f" | cmd: {r.cmd()}")
    for sel in sub_regions(exp.shape):
        reg = ",".join(f"{s.start}:{s.stop}" for s in sel)
        r = pz.get(path, reg)
        lab = f"{label} region={reg}"
        if r.crashed or r.rc != 0:
            rep.fail(lab, r.why())
            continue
        msg = compare(exp[sel], r.out)
        rep.check(lab, None if msg is None else msg + f" | cmd: {r.cmd()}")


def check_store(rep, pz, root, table, meta_name):
    present = set()
    for dirpath, dirnames, filenames in os.walk(root):
        if meta_name in filenames and dirpath != root:
            rel = os.path.relpath(dirpath, root)
            with open(os.path.join(dirpath, meta_name)) as f:
                doc = json.load(f)
            if meta_name == ".zarray" or doc.get("node_type") == "array":
                present.add(rel)
    for name in sorted(present - set(table)):
        rep.fail(name, f"fixture array {name} has no expectation in fixtures.py")
    for name in sorted(set(table) - present):
        rep.fail(name, f"fixture array {name} not found under {root}")
    for name in sorted(present & set(table)):
        check_array(rep, pz, f"{os.path.basename(os.path.dirname(root))}/{name}",
                    os.path.join(root, name), table[name])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pzarr", required=True)
    p.add_argument("--fixtures", required=True, help="the shared/fixtures directory")
    args = p.parse_args()
    pz = Pzarr(args.pzarr)
    rep = Report("pzarr reads the zarrita.js fixtures")
    base = os.path.join(args.fixtures, "zarrita-js")
    if not os.path.isdir(base):
        print(f"fixtures not found at {base}: skipping")
        print("interop: 0 passed, 0 failed, 1 skipped")
        sys.exit(77)  # SKIP_RETURN_CODE of the ctest
    before = snapshot(base)
    check_store(rep, pz, os.path.join(base, "v2", "data.zarr"), V2, ".zarray")
    check_store(rep, pz, os.path.join(base, "v3", "data.zarr"), V3, "zarr.json")
    # `pzarr info` on every array and `pzarr ls` on both stores: no crash;
    # success for every supported array.
    for ver, table in (("v2", V2), ("v3", V3)):
        root = os.path.join(base, ver, "data.zarr")
        for name, spec in sorted(table.items()):
            r = pz.run(["info", os.path.join(root, name)])
            lab = f"info {ver}/{name}"
            if r.crashed:
                rep.fail(lab, "crashed: " + r.why())
            elif r.rc != 0 and spec != UNSUPPORTED and not (isinstance(spec, tuple) and spec[0] == MAYBE):
                rep.fail(lab, r.why())
            else:
                rep.ok(lab)
        # ls may exit non-zero because some nodes are unsupported; it must not
        # crash and must list every array by name.
        r = pz.run(["ls", root])
        listing = r.out.decode("utf-8", "replace")
        missing = [n for n in table if os.path.basename(n) not in listing]
        rep.check(f"ls {ver} (exit {r.rc})", "crashed: " + r.why() if r.crashed else
                  (f"arrays missing from the listing: {missing[:5]}" if missing else None))
    # Groups are not arrays: a clean error, no crash.
    for g in ("v2/data.zarr/my group with spaces", "v3/data.zarr/my group with spaces", "v3/data.zarr"):
        r = pz.get(os.path.join(base, g))
        if r.crashed:
            rep.fail(f"group {g}", "crashed: " + r.why())
        elif r.rc == 0:
            rep.fail(f"group {g}", f"`{r.cmd()}` succeeded on a group")
        else:
            rep.ok(f"group {g} -> {r.err.strip().splitlines()[-1][:160] if r.err.strip() else 'exit ' + str(r.rc)}")
    after = snapshot(base)
    changed = sorted(set(before.items()) ^ set(after.items()))
    rep.check("fixtures unchanged (read in place only)",
              f"files changed or added: {[p for p, _ in changed][:5]}" if changed else None)
    rep.finish()


def snapshot(base):
    out = {}
    for d, dirs, files in os.walk(base):
        for f in files + dirs:
            st = os.lstat(os.path.join(d, f))
            out[os.path.join(d, f)] = (st.st_size, st.st_mtime_ns)
    return out


if __name__ == "__main__":
    main()
