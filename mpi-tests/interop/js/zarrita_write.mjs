// zarrita.js writes Zarr v3 arrays (zarr.create + zarr.set) for pzarr to read.
//
//   node zarrita_write.mjs MANIFEST.json
//
// MANIFEST: [{label, path, dtype, shape, chunks, codecs, fill, sep,
// writes: [{region: [[start, stop], ...] | null, file: RAW, shape: [...]} |
//          {region, scalar: value}],
// expect: RAW (the whole array as it must read afterwards)}].
// "fill" and scalars: numbers, booleans, or "NaN" / "Infinity" / "-Infinity".
// After writing, zarrita reads the array back and compares it with `expect`
// (a sanity check of the writer itself). Prints one JSON line per array:
// {"label", "status", "msg"}.
import fs from "node:fs";
import { compareRegion, ctorOf, emit, errText, FileSystemStore, readRaw, regionSelection, zarr } from "./zarrita_lib.mjs";

const manifest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

function scalar(v, dtype) {
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  if (dtype === "int64" || dtype === "uint64") return BigInt(v);
  return v;
}

for (const t of manifest) {
  if (!ctorOf(t.dtype)) {
    emit(t.label, "skip", `no typed array for ${t.dtype} on Node ${process.version}`);
    continue;
  }
  try {
    fs.rmSync(t.path, { recursive: true, force: true });
    fs.mkdirSync(t.path, { recursive: true });
    const store = new FileSystemStore(t.path);
    const opts = {
      shape: t.shape,
      chunkShape: t.chunks,
      dtype: t.dtype,
      codecs: t.codecs,
      chunkSeparator: t.sep,
    };
    // int64 fill values must stay JSON numbers (zarrita serialises with JSON.stringify).
    if (t.fill !== undefined) opts.fillValue = t.fill === "NaN" || t.fill === "Infinity" || t.fill === "-Infinity" ? scalar(t.fill, "float64") : t.fill;
    const arr = await zarr.create(store, opts);
    for (const w of t.writes) {
      const sel = w.region ? regionSelection(w.region) : null;
      if ("scalar" in w) {
        await zarr.set(arr, sel, scalar(w.scalar, t.dtype));
      } else {
        const data = readRaw(w.file, t.dtype);
        const shape = w.shape;
        const stride = new Array(shape.length);
        let step = 1;
        for (let d = shape.length - 1; d >= 0; d--) {
          stride[d] = step;
          step *= shape[d];
        }
        await zarr.set(arr, sel, { data, shape, stride });
      }
    }
    // Sanity: zarrita reads back what it wrote.
    const back = await zarr.open.v3(new FileSystemStore(t.path), { kind: "array" });
    const got = await zarr.get(back, null);
    const msg = compareRegion(got, readRaw(t.expect, t.dtype), t.shape, t.shape.map((n) => [0, n]));
    emit(t.label, msg ? "fail" : "pass", msg ? `zarrita read-back of its own write: ${msg}` : "");
  } catch (e) {
    emit(t.label, "fail", `zarrita could not write: ${errText(e)}`);
  }
}
