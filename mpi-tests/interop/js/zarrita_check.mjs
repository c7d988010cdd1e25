// zarrita.js reads arrays (written by pzarr) and compares them with the
// expected values.
//
//   node zarrita_check.mjs MANIFEST.json
//
// MANIFEST: [{label, path, dtype, shape, expect: RAW_FILE (little-endian,
// C order), regions: [[[start, stop], ...], ...]}]. Prints one JSON line
// per check: {"label", "status": "pass"|"fail"|"skip", "msg"}.
import fs from "node:fs";
import { compareRegion, ctorOf, emit, errText, FileSystemStore, readRaw, regionSelection, zarr } from "./zarrita_lib.mjs";

const zarritaVersion = JSON.parse(
  fs.readFileSync(new URL("./node_modules/zarrita/package.json", import.meta.url), "utf8")).version;
const manifest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

for (const t of manifest) {
  if (!ctorOf(t.dtype)) {
    emit(t.label, "skip", `zarrita ${zarritaVersion} on Node ${process.version} has no typed array for ${t.dtype}`);
    continue;
  }
  let arr;
  try {
    arr = await zarr.open.v3(new FileSystemStore(t.path), { kind: "array" });
  } catch (e) {
    emit(t.label, "fail", `zarrita could not open ${t.path}: ${errText(e)}`);
    continue;
  }
  if (arr.dtype !== t.dtype) {
    emit(t.label, "fail", `zarrita sees dtype ${arr.dtype}, expected ${t.dtype}`);
    continue;
  }
  const want = readRaw(t.expect, t.dtype);
  for (const region of t.regions) {
    const lab = `${t.label} region=${region.length ? region.map(([a, b]) => `${a}:${b}`).join(",") : "all"}`;
    try {
      let got = await zarr.get(arr, region.length ? regionSelection(region) : null);
      if (got === null || typeof got !== "object" || !("data" in got)) {
        got = { data: [got], shape: [], stride: [] }; // 0-d: zarrita returns the scalar
      }
      const msg = compareRegion(got, want, t.shape, region);
      emit(lab, msg ? "fail" : "pass", msg ?? "");
    } catch (e) {
      emit(lab, "fail", `zarrita.get threw: ${errText(e)}`);
    }
  }
}
