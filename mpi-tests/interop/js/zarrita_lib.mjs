// Helpers shared by the zarrita.js interop drivers. These files are copied
// into <build>/node next to node_modules (npm_setup.cmake), so the bare
// imports below resolve to the pinned zarrita there.
import fs from "node:fs";
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

export { zarr, FileSystemStore };

// Typed array constructor for a Zarr v3 data type name, or null when this
// Node has none (float16 needs Float16Array, absent in Node 20; complex has
// no zarrita support at all).
export function ctorOf(dtype) {
  const m = {
    bool: zarr.BoolArray,
    int8: Int8Array, int16: Int16Array, int32: Int32Array,
    int64: globalThis.BigInt64Array,
    uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array,
    uint64: globalThis.BigUint64Array,
    float16: globalThis.Float16Array,
    float32: Float32Array, float64: Float64Array,
  };
  return m[dtype] ?? null;
}

// Reads a raw file of little-endian C-order elements into a fresh typed array.
export function readRaw(file, dtype) {
  const Ctor = ctorOf(dtype);
  const bytes = fs.readFileSync(file);
  const buf = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(buf).set(bytes);
  return new Ctor(buf);
}

export function elem(data, i) {
  return typeof data.get === "function" && !ArrayBuffer.isView(data) ? data.get(i) : data[i];
}

export function same(a, b) {
  if (typeof a === "number" && typeof b === "number") {
    return Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  }
  return a === b;
}

export function show(v) {
  if (typeof v === "bigint") return `${v}n`;
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

function cStrides(shape) {
  const s = new Array(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = step;
    step *= shape[d];
  }
  return s;
}

// Compares zarrita's strided result `got` ({data, shape, stride}) with the
// box `region` ([[start, stop], ...]) of the dense C-order `want` of
// shape `shape`. Returns null or a message naming the first differing index.
export function compareRegion(got, want, shape, region) {
  const rshape = region.map(([a, b]) => b - a);
  if (got.shape.length !== rshape.length || got.shape.some((n, d) => n !== rshape[d])) {
    return `result shape [${got.shape}] != expected [${rshape}]`;
  }
  const ws = cStrides(shape);
  const n = rshape.reduce((a, b) => a * b, 1);
  const idx = new Array(rshape.length).fill(0);
  let bad = 0;
  let first = null;
  for (let k = 0; k < n; k++) {
    let wo = 0;
    let go = 0;
    for (let d = 0; d < rshape.length; d++) {
      wo += (region[d][0] + idx[d]) * ws[d];
      go += idx[d] * got.stride[d];
    }
    const w = elem(want, wo);
    const g = elem(got.data, go);
    if (!same(w, g)) {
      bad++;
      if (first === null) {
        first = `first at index [${idx.map((v, d) => v + region[d][0])}]: expected ${show(w)}, got ${show(g)}`;
      }
    }
    for (let d = rshape.length - 1; d >= 0; d--) {
      if (++idx[d] < rshape[d]) break;
      idx[d] = 0;
    }
  }
  return bad ? `${bad} of ${n} elements differ; ${first}` : null;
}

export function regionSelection(region) {
  return region.map(([a, b]) => zarr.slice(a, b));
}

// One JSON object per line on stdout; the Python driver counts them.
export function emit(label, status, msg = "") {
  process.stdout.write(JSON.stringify({ label, status, msg }) + "\n");
}

export function errText(e) {
  let s = String(e?.stack ?? e);
  if (e?.cause) s += ` (cause: ${e.cause?.stack ?? e.cause})`;
  return s.split("\n").slice(0, 4).join(" | ");
}
