#!/usr/bin/python3
"""Turns the JSON outputs of pzarr-bench, h5bench and zp_bench.py (one document
per file in a directory) into one Markdown report on stdout.

  /usr/bin/python3 bench/report.py RESULTS_DIR
"""
import glob
import json
import os
import platform
import re
import subprocess
import sys
import time

# ------------------------------------------------------------------ loading


def load(d):
    docs, failed = [], []
    for f in sorted(glob.glob(os.path.join(d, "*.json"))):
        try:
            with open(f) as fh:
                doc = json.load(fh)
        except (OSError, ValueError) as e:
            failed.append("%s: %s" % (os.path.basename(f), e))
            continue
        if "failed" in doc:
            failed.append("%s: %s" % (os.path.basename(f), doc["failed"]))
        else:
            doc["file"] = os.path.basename(f)
            docs.append(doc)
    return docs, failed


def pick(docs, tool, pattern=None, ranks=None, tmpfs=None, durable=False, **metrics):
    """Documents of a tool (and pattern, ranks, metric values); tmpfs=False keeps
    the runs in the default scratch directory, True those on /dev/shm;
    durable=True the runs with PZARR_DURABLE (None: either)."""
    out = []
    for d in docs:
        if tmpfs is not None and (d["metrics"].get("scratch_fs") == "tmpfs") != tmpfs:
            continue
        if durable is not None and (d["metrics"].get("durable") == "yes") != durable:
            continue
        if d["tool"] != tool or (pattern and d["pattern"] != pattern):
            continue
        if ranks is not None and d["ranks"] != ranks:
            continue
        if any(d["metrics"].get(k) != v for k, v in metrics.items()):
            continue
        out.append(d)
    return out


def row(doc, name):
    for r in doc["rows"]:
        if r["name"] == name:
            return r
    return None


def gbps(r):
    return r["gbps"] if r and r.get("gbps") else None


def faster(*vals):
    """The faster of the baselines (GB/s) that were measured."""
    v = [x for x in vals if x is not None]
    return max(v) if v else None


def base_write(d):
    """The faster of raw MPI-IO's write_all and each rank's POSIX pwrite."""
    return d and faster(gbps(row(d, "raw MPI-IO write_all")),
                        gbps(row(d, "POSIX pwrite (each rank its own file)")))


def base_read(d, label):
    """The faster of raw MPI-IO's read_all and each rank's POSIX pread."""
    return d and faster(gbps(row(d, "raw MPI-IO read_all (%s)" % label)),
                        gbps(row(d, "POSIX pread (%s)" % label)))


def fmt(v, spec="%.3f"):
    return "–" if v is None else spec % v


def ratio(a, b):
    return a / b if a is not None and b else None


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def ranks_of(docs):
    return sorted({d["ranks"] for d in docs})


# ------------------------------------------------------------------ machine


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
            mem = "%.1f GiB" % (kb / 1048576)
    except (OSError, AttributeError):
        pass
    try:
        mpich = subprocess.run(["mpichversion"], capture_output=True, text=True).stdout
        mpich = " ".join(l.split(":", 1)[1].strip() for l in mpich.splitlines()
                         if l.startswith(("MPICH Version", "MPICH Device")))
    except OSError:
        mpich = "unknown"
    return [("date", time.strftime("%Y-%m-%d %H:%M %Z")),
            ("host", "%s, %s" % (platform.node(), platform.platform())),
            ("nproc", str(os.cpu_count())), ("CPU", cpu), ("memory", mem),
            ("MPICH", mpich or "unknown")]


# ------------------------------------------------------------------ sections


def sec_checkpoint(docs):
    rows = []
    for d in pick(docs, "pzarr-bench", "checkpoint"):
        m = d["metrics"]
        pz, raw = row(d, "pzarr write+flush"), row(d, "raw MPI-IO write_all")
        if pz is None or raw is None:
            continue
        px = gbps(row(d, "POSIX pwrite (each rank its own file)"))
        rows.append((d["ranks"], m.get("scratch_fs", "?"), m["codec"], m["chunks"],
                     m.get("shard", "-"), m["aligned"], fmt(gbps(pz)),
                     fmt(gbps(raw)), fmt(px), fmt(ratio(gbps(pz), base_write(d)), "%.2f"),
                     fmt(m["stored_bytes"] / 1048576, "%.1f"),
                     fmt(m.get("compression_ratio"), "%.2f"),
                     "%s / %s (%s)" % (fmt(m["pzarr_write_mem_increase_mib_max"], "%.1f"),
                                       fmt(m["block_mib_max"], "%.1f"),
                                       fmt(m["pzarr_write_mem_increase_per_block"], "%.2f")),
                     fmt(m["peak_rss_mib_max"], "%.1f"), m["verify"]))
    rows.sort(key=lambda r: (r[0], r[1], r[5] != "yes", r[4], r[2]))
    return ("## Checkpoint write (pzarr write+flush vs the faster of raw MPI-IO write_all "
            "and POSIX pwrite)\n\n*POSIX*: each rank pwrite()s its block into a file of its "
            "own from page-aligned memory (fdatasync'ed when durable), the physical limit on "
            "one node; *pzarr/best* is against the faster of the two baselines.\n\n" + table(
        ["ranks", "fs", "codec", "chunks", "shard", "aligned", "pzarr GB/s", "raw GB/s",
         "POSIX GB/s", "pzarr/best",
         "stored MiB", "compression", "mem increase MiB / block MiB (×block)",
         "peak RSS MiB (max rank)", "verify"], rows))


def sec_durable(docs):
    """The cost of PZARR_DURABLE: the same checkpoint with and without it."""
    rows = []
    for d in pick(docs, "pzarr-bench", "checkpoint", durable=True):
        m = d["metrics"]
        base = [b for b in pick(docs, "pzarr-bench", "checkpoint", d["ranks"],
                                tmpfs=m.get("scratch_fs") == "tmpfs", codec=m["codec"],
                                layout=m["layout"], shard=m.get("shard", "-"))]
        plain = gbps(row(base[0], "pzarr write+flush")) if base else None
        dur = gbps(row(d, "pzarr write+flush"))
        rows.append((d["ranks"], m.get("scratch_fs", "?"), m["codec"], m.get("shard", "-"),
                     fmt(plain), fmt(dur), fmt(ratio(dur, plain), "%.2f"),
                     fmt(ratio(dur, base_write(d)), "%.2f")))
    if not rows:
        return ""
    rows.sort()
    return ("## Durability: the cost of PZARR_DURABLE (fsync of every file before the "
            "commit, of the directories after)\n\n" + table(
                ["ranks", "fs", "codec", "shard", "pzarr GB/s", "durable GB/s",
                 "durable/pzarr", "durable/best baseline"], rows))


def sec_scale(docs):
    """The scale pattern: what moves between ranks as the rank count grows."""
    rows = []
    for d in pick(docs, "pzarr-bench", "scale"):
        m = d["metrics"]
        rows.append((m.get("decomp", "?"), m.get("layout", "?"), d["ranks"],
                     fmt(m.get("flush_rma_ops_max"), "%.0f"),
                     fmt(m.get("flush_rma_bytes_max", 0) / 1024, "%.1f"),
                     fmt(m.get("flush_rma_bytes_sum", 0) / 1024, "%.1f"),
                     fmt(m.get("flush_collectives_max"), "%.0f"),
                     fmt(m.get("read_all_rma_ops_max"), "%.0f"),
                     fmt(m.get("read_all_rma_bytes_max", 0) / 1024, "%.1f"),
                     fmt(m.get("read_all_collectives_max"), "%.0f"),
                     fmt(m.get("meta_ops_other_ranks_max"), "%.0f"),
                     fmt(m.get("peak_rss_mib_max"), "%.1f"), m.get("verify", "?")))
    if not rows:
        return ""
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return ("## Scale: flush and read_all at 2 to 64 ranks (oversubscribed, 16^3 float64 "
            "per rank, default ownership)\n\nCounted by PMPI wrappers in the benchmark, "
            "per rank: one-sided operations and bytes aimed at other ranks (busiest rank; "
            "and in all), collective calls; metadata operations on ranks other than 0.\n\n"
            + table(["decomposition", "layout", "ranks", "flush one-sided ops (max)",
                     "flush KiB (max)", "flush KiB (all)", "flush collectives",
                     "read_all ops (max)", "read_all KiB (max)", "read_all collectives",
                     "metadata ops, ranks > 0", "peak RSS MiB", "verify"], rows))


def h5_for(docs, ranks, codec):
    h = pick(docs, "h5bench", "checkpoint", ranks, codec=codec)
    return gbps(row(h[0], "hdf5 write (collective)")) if h else None


def sec_codec(docs):
    rows = []
    for d in pick(docs, "pzarr-bench", "checkpoint", layout="aligned"):
        m = d["metrics"]
        if m.get("scratch_fs") == "tmpfs":
            continue
        pz = gbps(row(d, "pzarr write+flush"))
        h5 = h5_for(docs, d["ranks"], m["codec"])
        rows.append((d["ranks"], m["codec"], fmt(pz), fmt(m.get("codec_1core_gbps")),
                     fmt(m.get("ranks_x_codec_gbps")),
                     fmt(m.get("pzarr_vs_ranks_x_codec"), "%.2f"),
                     fmt(m.get("pzarr_vs_cores_x_codec"), "%.2f"), fmt(h5),
                     fmt(ratio(pz, h5), "%.2f")))
    rows.sort()
    return ("## Compressed writes: pzarr vs the codec alone and parallel HDF5\n\n"
            "`ranks × codec` is the single-core speed of the codec library on the same "
            "chunks times the rank count; `cores × codec` caps the rank count at nproc. "
            "HDF5: same chunking, collective H5Dwrite, deflate level 1 for gzip:1.\n\n" + table(
                ["ranks", "codec", "pzarr GB/s", "codec 1 core GB/s", "ranks × codec GB/s",
                 "pzarr / (ranks × codec)", "pzarr / (cores × codec)", "HDF5 GB/s",
                 "pzarr / HDF5"], rows))


def sec_restart(docs):
    rows = []
    for d in pick(docs, "pzarr-bench", "restart"):
        m = d["metrics"]
        for label in [r["name"][len("raw MPI-IO read_all ("):-1] for r in d["rows"]
                      if r["name"].startswith("raw")]:
            raw = gbps(row(d, "raw MPI-IO read_all (%s)" % label))
            px = gbps(row(d, "POSIX pread (%s)" % label))
            best = base_read(d, label)
            rd = gbps(row(d, "pzarr read (%s)" % label))
            ra = gbps(row(d, "pzarr read_all (%s)" % label))
            rows.append((d["ranks"], m.get("scratch_fs", "?"), m["codec"], m["chunks"], label,
                         fmt(rd), fmt(ra), fmt(raw), fmt(px),
                         fmt(ratio(rd, best), "%.2f"), fmt(ratio(ra, best), "%.2f")))
    rows.sort()
    return ("## Restart: read the checkpoint back (open+read+close)\n\n*POSIX*: each rank "
            "pread()s the same number of bytes from a file of its own into page-aligned "
            "memory; ratios are against the faster of raw MPI-IO and POSIX.\n\n" + table(
        ["ranks", "fs", "codec", "chunks", "decomposition", "pzarr read GB/s",
         "pzarr read_all GB/s", "raw read_all GB/s", "POSIX pread GB/s", "read/best",
         "read_all/best"], rows))


def sec_postproc(docs):
    rows = []
    for d in pick(docs, "pzarr-bench", "postproc"):
        m = d["metrics"]
        raw = gbps(row(d, "raw MPI-IO read_all (slabs)"))
        rd, ra = gbps(row(d, "pzarr read (slabs)")), gbps(row(d, "pzarr read_all (slabs)"))
        rows.append((d["ranks"], m["codec"], "%d × %d along axis %d" % (
            m["slabs"], m["slab_thickness"], m["slab_axis"]), fmt(rd), fmt(ra), fmt(raw),
            fmt(ratio(rd, raw), "%.2f"), fmt(ratio(ra, raw), "%.2f")))
    rows.sort()
    return ("## Post-processing: slabs along another axis\n\n" + table(
        ["ranks", "codec", "slabs", "pzarr read GB/s", "pzarr read_all GB/s",
         "raw read_all GB/s", "read/raw", "read_all/raw"], rows))


def ms(r):
    return fmt(r["best_s"] * 1e3 if r else None, "%.1f")


def sec_small(docs):
    rows = []
    for d in pick(docs, "pzarr-bench", "smallchunks"):
        n = d["ranks"]
        zp = pick(docs, "zarr-python", ranks=n)
        zp = zp[0] if zp else None
        for label in ("6443/5", "1000000/100"):
            one = row(d, "%s: pzarr open+read, 1 rank" % label)
            if not one:
                continue
            zone = row(zp, "%s: zarr-python open+read, 1 process" % label) if zp else None
            every = row(d, "%s: pzarr open+read, every rank" % label)
            allr = row(d, "%s: pzarr read_all, every rank" % label)
            zev = row(zp, "%s: zarr-python open+read, every process" % label) if zp else None
            pw = row(d, "%s: pzarr write+flush" % label)
            zw = row(zp, "%s: zarr-python write, 1 process" % label) if zp else None
            sp = ratio(zone["best_s"], one["best_s"]) if zone else None
            rows.append((n, label, d["metrics"]["codec"], ms(one),
                         fmt(one.get("items_per_s"), "%.0f"), ms(zone), fmt(sp, "%.2f"),
                         ms(every), ms(allr), ms(zev), ms(pw), ms(zw)))
    rows.sort()
    return ("## Small chunks (zarr issue 536): whole-array reads, best of the samples\n\n"
            "`1 rank`: rank 0 alone opens and reads (pzarr store on MPI_COMM_SELF); "
            "`every rank`: all N ranks read the whole array at once. zarr-python: "
            "`zarr.open(path)[:]` in 1 process / in N processes at once.\n\n" + table(
                ["ranks", "n/chunk", "codec", "pzarr 1 rank ms", "pzarr chunks/s",
                 "zarr-python 1 proc ms", "speed-up", "pzarr every rank ms",
                 "pzarr read_all ms", "zarr-python every proc ms", "pzarr write ms",
                 "zarr-python write ms"], rows))


def sec_open(docs):
    rows = []
    for d in pick(docs, "pzarr-bench", "open"):
        m = d["metrics"]
        pz = row(d, "pzarr open store+array+close (per open)")
        raw = row(d, "raw MPI_File_open+close (per open)")
        plain = row(d, "dataset of 16 arrays, no consolidated metadata: open all")
        cons = row(d, "dataset of 16 arrays, consolidated metadata: open all")
        rows.append((d["ranks"], fmt(pz["best_s"] * 1e3, "%.2f"),
                     fmt(raw["best_s"] * 1e3, "%.2f"), m["meta_reads_rank0"],
                     m["meta_reads_other_ranks_max"], m["chunk_reads_total"],
                     "%s · %s" % (m.get("dataset16_meta_reads_rank0_consolidated", "–"),
                                  m.get("dataset16_meta_reads_rank0_plain", "–")),
                     "%s · %s" % (fmt(cons["best_s"] * 1e3, "%.2f") if cons else "–",
                                  fmt(plain["best_s"] * 1e3, "%.2f") if plain else "–")))
    rows.sort()
    return ("## Open\n\n"
            "Dataset columns: a store of 16 arrays, opened with all its arrays, with "
            "consolidated metadata · without (rank 0's metadata reads in all, and the time).\n\n"
            + table(["ranks", "pzarr open store+array+close ms", "raw MPI_File_open+close ms",
                     "meta reads rank 0", "meta reads other ranks (max)", "chunk reads",
                     "dataset: meta reads rank 0", "dataset: open all ms"], rows))


def sec_zp(docs):
    rows = []
    for z in pick(docs, "zarr-python"):
        n = z["ranks"]
        codec = z["metrics"]["codec"]
        c = pick(docs, "pzarr-bench", "checkpoint", n, codec=codec, layout="aligned",
                 tmpfs=False)
        r = pick(docs, "pzarr-bench", "restart", n, codec=codec, tmpfs=False)
        pw = gbps(row(c[0], "pzarr write+flush")) if c else None
        pr = gbps(row(r[0], "pzarr read (same decomp)")) if r else None
        zw = gbps(row(z, "zarr-python write (%d procs)" % n))
        zr = gbps(row(z, "zarr-python read (%d procs)" % n))
        rows.append((n, codec, fmt(pw), fmt(zw), fmt(ratio(pw, zw), "%.2f"), fmt(pr),
                     fmt(zr), fmt(ratio(pr, zr), "%.2f")))
    rows.sort()
    return ("## pzarr vs zarr-python (multiprocessing), 128³ float64 checkpoint\n\n"
            "zarr-python writers take slabs of whole chunks along axis 0; pzarr uses the "
            "Cartesian blocks. Both include open; zarr-python's array is created before "
            "its timer starts.\n\n" + table(
                ["ranks/procs", "codec", "pzarr write GB/s", "zarr-python write GB/s",
                 "pzarr/zp", "pzarr read GB/s", "zarr-python read GB/s", "pzarr/zp"], rows))


# ------------------------------------------------------------------ copy (issue 18)


def sec_copy(docs):
    """pzarr copy beside its floor (pzarr read_all + write, same run) and dask +
    zarr-python on the same source; peak memory; zfp against libzfp."""
    out = ["## Copy: rechunk a checkpoint (issue 18)\n",
           "`pzarr-bench copy`: the source is a float64 array in 32³ chunks, zstd:1, Zarr v2 "
           "on tmpfs; the target 512x16x16-style chunks (NX,16,16). *floor* = pzarr's own "
           "read_all of every rank's share plus its write of the same bytes into an array "
           "of the target's chunks, timed in the same run; *codecs alone* = decoding every "
           "source chunk and encoding every target chunk on one core, divided by the "
           "ranks. dask + zarr-python: `da.from_zarr(src).rechunk(...).to_zarr(...)`, "
           "threaded scheduler with 2 workers, on the same source store.\n"]
    rows = []
    for d in sorted(pick(docs, "pzarr-bench", "copy", tmpfs=None, durable=None),
                    key=lambda d: d["file"]):
        if d["file"].startswith("copy-mem") or d["file"].startswith("copy-src"):
            continue
        cp, fl = row(d, "pzarr_array_copy"), row(d, "floor: read_all + write")
        cf = row(d, "codecs alone (decode + encode) / ranks")
        tag = "1g" if "-1g-" in d["file"] else "256m"
        codec = d["metrics"].get("to_codec", "?")
        dk = by_file(docs, "dask-%s-%s" % (codec.replace(":", "_"), tag))
        dr = row(dk, "dask + zarr-python rechunk") if dk else None
        rows.append((d["ranks"], d["metrics"].get("shape"), codec,
                     fmt(cp and cp["best_s"] * 1e3, "%.0f"), fmt(fl and fl["best_s"] * 1e3, "%.0f"),
                     fmt(ratio(cp and cp["best_s"], fl and fl["best_s"]), "%.2f"),
                     fmt(cf and cf["best_s"] * 1e3, "%.0f"),
                     fmt(dr and dr["best_s"] * 1e3, "%.0f"),
                     fmt(ratio(dr and dr["best_s"], cp and cp["best_s"]), "%.2f"),
                     fmt(d["metrics"].get("copy_peak_growth_mib"), "%.0f")))
    out.append(table(["ranks", "shape", "to codec", "copy ms", "floor ms", "copy/floor time",
                      "codecs alone ms", "dask ms", "dask/copy time", "peak growth MiB/rank"],
                     rows))
    mem = []
    for d in pick(docs, "pzarr-bench", "copy", tmpfs=None, durable=None):
        if d["file"].startswith("copy-mem"):
            mem.append((d["ranks"], d["metrics"].get("shape"),
                        d["metrics"].get("copy_budget_mib"),
                        fmt(d["metrics"].get("copy_peak_growth_mib"), "%.0f")))
    if mem:
        out.append("Peak memory per rank (VmHWM above the resident size before the copy) at "
                   "one budget, for a 256 MiB and a 4 GiB array:\n")
        out.append(table(["ranks", "shape", "budget MiB", "peak growth MiB"], sorted(mem)))
    z = by_file(docs, "zfp")
    if z:
        out.append("zfp inside pzarr's codec chain against libzfp alone (%s; same bytes: %s):\n"
                   % (z["title"], z["metrics"].get("same_bytes")))
        out.append(table(["case", "best ms", "GB/s"],
                         [(r["name"], fmt(r["best_s"] * 1e3), fmt(r.get("gbps")))
                          for r in z["rows"]]))
    return "\n".join(out)


def sec_python(docs):
    """Python read_all against the C API and dask; xarray open + load."""
    out = ["## Python post-processing (issue 19)\n",
           "The copy pattern's 256 MiB source (float64, 32³ chunks, zstd:1, Zarr v2, tmpfs): "
           "each rank reads its slab along axis 0 with `read_all`, from Python into a numpy "
           "array (`out=`, reused) and from C into page-aligned memory, then sums it; "
           "the slowest rank's time of each rep. dask + zarr-python: "
           "`da.from_zarr(a).sum().compute()`, 2 threads, same store. Two runs (1, 2).\n"]
    rows = []
    for i in (1, 2):
        for n in (1, 2):
            p, c = by_file(docs, "py-read-np%d-%d" % (n, i)), by_file(docs, "c-read-np%d-%d" % (n, i))
            if not p or not c:
                continue
            pr, cr = row(p, "Python read_all"), row(c, "C read_all")
            prr, crr = row(p, "Python read_all + sum"), row(c, "C read_all + sum")
            dk = by_file(docs, "dask-read-%d" % i)
            dr = row(dk, "dask read + sum") if dk else None
            rows.append((i, n, fmt(gbps(pr), "%.2f"), fmt(gbps(cr), "%.2f"),
                         fmt(ratio(gbps(pr), gbps(cr)), "%.2f"),
                         fmt(gbps(prr), "%.2f"), fmt(gbps(crr), "%.2f"),
                         fmt(ratio(gbps(prr), gbps(crr)), "%.2f"),
                         fmt(gbps(dr), "%.2f"), fmt(ratio(gbps(prr), gbps(dr)), "%.2f"),
                         "yes" if abs(p["metrics"].get("sum", 0) - c["metrics"].get("sum", 1)) <=
                         1e-9 * abs(c["metrics"].get("sum", 1)) else "no"))
    out.append(table(["run", "ranks", "Python GB/s", "C GB/s", "Python/C", "Python +sum GB/s",
                      "C +sum GB/s", "Python/C (+sum)", "dask GB/s (2 threads)",
                      "Python/dask", "same sum"], rows))
    cods = [(i, fmt(gbps(row(by_file(docs, "codec-read-%d" % i), "decode alone, one core")),
                    "%.2f")) for i in (1, 2) if by_file(docs, "codec-read-%d" % i)]
    if cods:
        out.append("The floor of any reader of this store: zstd decoding every chunk alone, "
                   "files already in memory, one core (numcodecs on the same libzstd), GB/s: " +
                   ", ".join("run %d: %s" % c for c in cods) + ".\n")
    xr_rows = []
    for i in (1, 2):
        x = by_file(docs, "xr-open-%d" % i)
        if not x:
            continue
        a, b = row(x, "engine=pzarr open + load"), row(x, "open_zarr + load")
        xr_rows.append((i, fmt(a["median_s"] * 1e3, "%.1f"), fmt(b["median_s"] * 1e3, "%.1f"),
                        fmt(ratio(a["median_s"], b["median_s"]), "%.3f"),
                        x["metrics"].get("chunk_files")))
    if xr_rows:
        out.append("xarray, one process: a consolidated v2 dataset of 16 float32 variables of "
                   "64³ in 16³ chunks (zstd:1) with coordinates, written by xarray; open + "
                   "`.load()`, medians; the two datasets checked identical:\n")
        out.append(table(["run", "engine=pzarr ms", "open_zarr ms", "pzarr/open_zarr time",
                          "chunk files"], xr_rows))
    return "\n".join(out)


def _ov(docs):
    out = []
    for d in sorted(pick(docs, "pzarr-bench", "overlap", tmpfs=None, durable=None),
                    key=lambda d: d["file"]):
        m = d["metrics"]
        med = {r["name"]: r["median_s"] for r in d["rows"]}
        out.append((d, m, med))
    return out


def sec_overlap(docs):
    rows = []
    for d, m, med in _ov(docs):
        run = d["file"].rsplit("-", 1)[-1].split(".")[0]
        rows.append((run, d["ranks"], m.get("scratch_fs"), m.get("codec"), m.get("durable"),
                     fmt(m.get("compute_ms_target"), "%.0f"),
                     fmt(med.get("interval: compute only", 0) * 1e3, "%.1f"),
                     fmt(med.get("interval: compute + blocking checkpoint", 0) * 1e3, "%.1f"),
                     fmt(med.get("interval: iflush, compute, wait at the next", 0) * 1e3, "%.1f"),
                     fmt(m.get("hidden_fraction"), "%.2f"), fmt(m.get("async_over_blocking"), "%.2f"),
                     fmt(m.get("iflush_part_over_memcpy"), "%.2f"),
                     fmt(m.get("iflush_part_over_blocking"), "%.3f"),
                     fmt(m.get("iflush_own_over_blocking"), "%.3f"),
                     fmt(m.get("iflush_over_blocking"), "%.3f"),
                     fmt(m.get("async_mem_growth_per_block"), "%.2f"),
                     fmt(ratio(med.get("blocking checkpoint alone (write + flush)"),
                               med.get("POSIX pwrite of each block to its own file")), "%.2f")))
    if not rows:
        return ""
    # Where the async interval's time beyond the compute goes (the profile
    # of what is not hidden): the blocking part, the wait, the compute slowed
    # by the workers beside it.
    prof = []
    for d, m, med in _ov(docs):
        tn = med.get("interval: compute only", 0) * 1e3
        prof.append((d["file"].rsplit("-", 1)[-1].split(".")[0], d["ranks"], m.get("scratch_fs"),
                     m.get("codec"), m.get("durable"),
                     fmt(med.get("interval: compute + blocking checkpoint", 0) * 1e3 - tn, "%.2f"),
                     fmt(med.get("interval: iflush, compute, wait at the next", 0) * 1e3 - tn,
                         "%.2f"),
                     fmt(m.get("part_ms_async"), "%.2f"), fmt(m.get("wait_ms_async"), "%.2f"),
                     fmt(m.get("compute_ms_async", 0) - m.get("compute_ms_none", 0), "%.2f")))
    return "\n".join([
        "## Overlap: checkpoints in the background (issue 20)\n",
        "`pzarr-bench overlap`: 128³ float64 (16 MiB), each rank its block; an interval is a "
        "fixed number of heat-stencil sweeps (calibrated to about twice the blocking "
        "checkpoint) and one checkpoint: none, blocking (compute, write + flush), or async "
        "(write + iflush, compute, pzarr_wait at the next checkpoint; store with PZARR_ASYNC). "
        "Runs of 3 intervals with no barrier between, the runs of each mode interleaved with "
        "the others' (and with a fourth, compute + a memcpy of the block into warm memory, "
        "the baseline of *part*); medians of 24 intervals on tmpfs and 12 on ext4, the "
        "slowest rank. *hidden* = (T_blocking − T_async) / (T_blocking − T_none); *part* = "
        "the write + iflush on the critical path; *iflush own* = the call on the last rank to enter it (its own cost), "
        "*iflush slowest* = on the slowest rank (with its wait for the others); *mem* = the "
        "peak RSS growth with async checkpoints in flight over the rank's checkpoint bytes; "
        "*POSIX* = each rank's pwrite of its block into its own file, page-aligned, same "
        "run.\n",
        table(["run", "ranks", "fs", "codec", "durable", "compute ms", "T none ms",
               "T blocking ms", "T async ms", "hidden", "async/blocking", "part/memcpy",
               "part/blocking ckpt", "iflush own/blocking ckpt", "iflush slowest/blocking ckpt",
               "mem", "blocking ckpt / POSIX pwrite"],
              rows),
        "\nWhere the time of a checkpoint goes, ms per interval beyond the compute alone "
        "(medians): *blocking* = T_blocking − T_none; *async* = T_async − T_none, made of "
        "*part* (write + iflush), *wait* (pzarr_wait: what the workers have left, then the "
        "commit) and *slowdown* (the compute's median with workers beside it minus without: "
        "the memory and cache they share).\n",
        table(["run", "ranks", "fs", "codec", "durable", "blocking", "async", "part", "wait",
               "slowdown"], prof)])


def overlap_targets(docs):
    ov = _ov(docs)
    if not ov:
        return ""
    out = ["### Overlap targets (issue 20)\n"]

    def sel(f):
        return [("%s np%d" % (d["file"].rsplit("-", 1)[-1].split(".")[0], d["ranks"]), m)
                for d, m, _ in ov if f(d, m)]

    def line(name, pairs, key, ok, crit):
        vals = [(k, m.get(key)) for k, m in pairs]
        out.append("- **%s** — %s (%s). %s" % (name, verdict([v for _, v in vals], ok), crit,
                                               ", ".join("%s: %s" % (k, fmt(v, "%.2f"))
                                                         for k, v in vals)))
    tm = lambda m: m.get("scratch_fs") == "tmpfs"  # noqa: E731
    line("tmpfs, 1 rank, zstd:1: hidden fraction",
         sel(lambda d, m: tm(m) and d["ranks"] == 1 and m.get("codec") == "zstd:1"),
         "hidden_fraction", lambda v: v >= 0.9, "target >= 0.9")
    line("tmpfs, 1 rank, no codec: write + iflush vs a warm memcpy",
         sel(lambda d, m: tm(m) and d["ranks"] == 1 and m.get("codec") == "none"),
         "iflush_part_over_memcpy", lambda v: v <= 1.2, "target <= 1.2")
    line("ext4 --durable, 2 ranks: hidden fraction",
         sel(lambda d, m: m.get("durable") == "yes" and d["ranks"] == 2),
         "hidden_fraction", lambda v: v >= 0.8, "target >= 0.8")
    line("tmpfs, 2 ranks on 2 cores: async time / blocking time",
         sel(lambda d, m: tm(m) and d["ranks"] == 2),
         "async_over_blocking", lambda v: v <= 1.05, "target <= 1.05")
    line("iflush of an aligned checkpoint vs the blocking checkpoint (the call's own cost: "
         "the last rank in)", sel(lambda d, m: tm(m)), "iflush_own_over_blocking",
         lambda v: v <= 0.05, "target <= 0.05")
    line("Peak memory growth with one request in flight, × the checkpoint's bytes on the "
         "rank", sel(lambda d, m: tm(m)), "async_mem_growth_per_block", lambda v: v <= 1.1,
         "target <= 1.1")
    rr = []
    for n, name in ((1, "dp1-restart-8m"), (2, "dp-restart-8m")):
        d = by_file(docs, name)
        for what in ("pzarr read", "pzarr read_all"):
            rr.append(("%s %d rank%s" % (what, n, "s" if n > 1 else ""), d and ratio(
                gbps(row(d, what + " (same decomp)")), gbps(row(d, "POSIX pread (same decomp)")))))
    out.append("- **Restart read of 8 MiB chunks contiguous in the destination (16x256x256 of "
               "512x256x256, tmpfs) vs each rank's POSIX pread of the same bytes** — %s "
               "(target >= 0.95). %s" % (verdict([v for _, v in rr], lambda v: v >= 0.95),
                                         ", ".join("%s: %s" % (k, fmt(v, "%.2f"))
                                                   for k, v in rr)))
    return "\n".join(out) + "\n"


def python_targets(docs):
    out = ["### Python targets (issue 19)\n"]
    pc, pd, xr = [], [], []
    for i in (1, 2):
        for n in (1, 2):
            p, c = by_file(docs, "py-read-np%d-%d" % (n, i)), by_file(docs, "c-read-np%d-%d" % (n, i))
            if p and c:
                pc.append(("run %d, %d ranks" % (i, n),
                           ratio(gbps(row(p, "Python read_all")), gbps(row(c, "C read_all")))))
        p2, dk = by_file(docs, "py-read-np2-%d" % i), by_file(docs, "dask-read-%d" % i)
        if p2 and dk:
            pd.append(("run %d" % i, ratio(gbps(row(p2, "Python read_all + sum")),
                                            gbps(row(dk, "dask read + sum")))))
        x = by_file(docs, "xr-open-%d" % i)
        if x:
            xr.append(("run %d" % i, ratio(row(x, "engine=pzarr open + load")["median_s"],
                                            row(x, "open_zarr + load")["median_s"])))

    def line(name, pairs, ok, crit):
        detail = ", ".join("%s: %s" % (k, fmt(v, "%.2f")) for k, v in pairs)
        out.append("- **%s** — %s (%s). %s" % (name, verdict([v for _, v in pairs], ok), crit,
                                               detail))
    line("Python read_all vs the C API", pc, lambda v: v >= 0.9, "target >= 0.9")
    line("Python at 2 ranks vs dask + zarr-python (2 threads)", pd, lambda v: v >= 3,
         "target >= 3")
    ceil = []
    for i in (1, 2):
        cd, dk = by_file(docs, "codec-read-%d" % i), by_file(docs, "dask-read-%d" % i)
        if cd and dk:
            ceil.append(("run %d" % i, ratio(2 * gbps(row(cd, "decode alone, one core")),
                                             gbps(row(dk, "dask read + sum")))))
    if ceil:
        out.append("  - the ceiling of that ratio on 2 cores: decoding alone (every chunk "
                   "in memory, no file, no copy, no sum) on both cores against dask: " +
                   ", ".join("%s: %s" % (k, fmt(v, "%.2f")) for k, v in ceil))
    line("engine=pzarr open + load vs open_zarr + load (time)", xr, lambda v: v <= 0.25,
         "target <= 0.25")
    return "\n".join(out) + "\n"


def copy_targets(docs):
    out = ["### Copy targets (issue 18)\n"]

    def line(name, pairs, ok, crit):
        vals = [v for _, v in pairs]
        detail = ", ".join("%s: %s" % (k, fmt(v, "%.2f")) for k, v in pairs)
        out.append("- **%s** — %s (%s). %s" % (name, verdict(vals, ok), crit, detail))

    pairs, fl = [], []
    for d in pick(docs, "pzarr-bench", "copy", tmpfs=None, durable=None):
        if d["file"].startswith(("copy-mem", "copy-src")):
            continue
        cp, f = row(d, "pzarr_array_copy"), row(d, "floor: read_all + write")
        tag = "1g" if "-1g-" in d["file"] else "256m"
        codec = d["metrics"].get("to_codec", "?")
        name = "%s %s %d ranks" % (tag, codec, d["ranks"])
        fl.append((name, ratio(cp and cp["best_s"], f and f["best_s"])))
        if d["ranks"] == 2:
            dk = by_file(docs, "dask-%s-%s" % (codec.replace(":", "_"), tag))
            dr = row(dk, "dask + zarr-python rechunk") if dk else None
            pairs.append((name, ratio(dr and dr["best_s"], cp and cp["best_s"])))
    line("Rechunk at 2 ranks ≥ 2.5 × dask + zarr-python", pairs, lambda v: v >= 2.5,
         "dask time / copy time")
    line("Rechunk ≤ 1.25 × (pzarr read_all + write of the same bytes)", fl,
         lambda v: v <= 1.25, "copy time / floor time")
    mem = []
    for d in pick(docs, "pzarr-bench", "copy", tmpfs=None, durable=None):
        if d["file"].startswith("copy-mem"):
            b, g = d["metrics"].get("copy_budget_mib"), d["metrics"].get("copy_peak_growth_mib")
            mem.append(("%s %d ranks" % (d["metrics"].get("shape"), d["ranks"]),
                        ratio(g, b)))
    line("Peak memory per rank ≤ budget + 10 %, the same for 256 MiB and 4 GiB", mem,
         lambda v: v <= 1.1, "peak growth / budget")
    z = by_file(docs, "zfp")
    zp = []
    if z:
        for k, v in sorted(z["metrics"].items()):
            if k.endswith("pzarr/libzfp"):
                zp.append((k.replace(" pzarr/libzfp", ""), v))
    line("zfp encode and decode inside pzarr ≥ 0.9 × libzfp alone, one core", zp,
         lambda v: v >= 0.9, "libzfp time / pzarr time")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ targets


def verdict(values, ok):
    vals = [v for v in values if v is not None]
    if not vals:
        return "NOT MEASURED"
    good = sum(1 for v in vals if ok(v))
    return "MET" if good == len(vals) else "NOT MET" if good == 0 else "PARTLY MET"


def by_file(docs, name):
    for d in docs:
        if d["file"] == name + ".json":
            return d
    return None


def wr(d):
    """pzarr write / the faster baseline write of a checkpoint run."""
    return d and ratio(gbps(row(d, "pzarr write+flush")), base_write(d))


def rd(d, what="pzarr read"):
    """pzarr read (or read_all) / the faster baseline, same decomposition."""
    return d and ratio(gbps(row(d, what + " (same decomp)")), base_read(d, "same decomp"))


def targets(docs):
    """The data-path targets (issue 10), each figure against its baseline of
    the same run. dp-* runs: 512x256x256 float64 (256 MiB), tmpfs, 2 ranks."""
    out = ["## Targets (reported, not asserted)\n",
           "`dp-*` runs: the 512x256x256 float64 array (256 MiB), 2 ranks, tmpfs, each "
           "rank its x-slab, median-free best of the samples; every ratio is against "
           "the baseline measured in the same run.\n"]

    def line(name, pairs, ok, crit):
        vals = [v for _, v in pairs]
        detail = ", ".join("%s: %s" % (k, fmt(v, "%.2f")) for k, v in pairs)
        out.append("- **%s** — %s (%s). %s" % (name, verdict(vals, ok), crit, detail))

    f = lambda n: by_file(docs, n)
    ck_ranks = ranks_of(pick(docs, "pzarr-bench", "checkpoint"))
    line("No codec, chunks ≥ 1 MiB: write ≥ 0.95 × raw, restart read ≥ 0.95 × raw",
         [("write 16x256x256", wr(f("dp-ckpt-8m"))), ("read", rd(f("dp-restart-8m")))],
         lambda v: v >= 0.95, "pzarr/raw")
    pairs = [("write 32^3", wr(f("dp-ckpt-256k")))]
    for n in ck_ranks:
        pairs.append(("default ckpt %d ranks" % n, wr(f("ckpt-none-tmpfs-np%d" % n))))
    line("No codec, 256 KiB chunks: write ≥ 0.85 × raw", pairs, lambda v: v >= 0.85,
         "pzarr/raw")
    pairs = [("read 32^3", rd(f("dp-restart-256k")))]
    for n in ck_ranks:
        pairs.append(("default restart %d ranks" % n, rd(f("restart-none-tmpfs-np%d" % n))))
    line("No codec, 256 KiB chunks: read ≥ 0.9 × raw", pairs, lambda v: v >= 0.9,
         "pzarr/raw")
    pairs = []
    for k in ("zstd", "blosc"):
        c, r = f("dp-ckpt-" + k), f("dp-restart-" + k)
        pairs.append(("%s write" % k, c and c["metrics"].get("pzarr_vs_ideal")))
        pairs.append(("%s read" % k, r and r["metrics"].get("read_vs_ideal (same decomp)")))
    line("zstd:1 and blosc:lz4:5:shuffle: write and read ≥ 0.9 × ideal", pairs,
         lambda v: v >= 0.9, "pzarr/ideal; ideal = codec on one core per rank + the "
         "encoded bytes at the raw speed of the same run")
    sw, sr = f("dp-ckpt-shard"), f("dp-restart-shard")
    line("Sharded (256 KiB inner chunks, 32 MiB shards), no codec: write ≥ 0.85 × raw",
         [("write", wr(sw))], lambda v: v >= 0.85, "pzarr/raw")
    line("Sharded, no codec: restart read ≥ 0.9 × raw", [("read", rd(sr))],
         lambda v: v >= 0.9, "pzarr/raw")
    uw, ur = f("dp-ckpt-256k"), f("dp-restart-256k")
    line("Sharded never slower than the same array unsharded",
         [("write", ratio(gbps(sw and row(sw, "pzarr write+flush")),
                          gbps(uw and row(uw, "pzarr write+flush")))),
          ("read", ratio(gbps(sr and row(sr, "pzarr read (same decomp)")),
                         gbps(ur and row(ur, "pzarr read (same decomp)"))))],
         lambda v: v >= 1.0, "sharded/unsharded speed")
    pairs = []
    for n in ("dp-restart-8m", "dp-restart-256k", "dp-restart-shard"):
        d = f(n)
        pairs.append((n[len("dp-restart-"):], d and ratio(
            gbps(row(d, "pzarr read_all (same decomp)")), gbps(row(d, "pzarr read (same decomp)")))))
    for n in ck_ranks:
        d = f("restart-none-tmpfs-np%d" % n)
        pairs.append(("default %d ranks" % n, d and ratio(
            gbps(row(d, "pzarr read_all (same decomp)")), gbps(row(d, "pzarr read (same decomp)")))))
    line("read_all with the write's decomposition ≥ 0.95 × pzarr_array_read", pairs,
         lambda v: v >= 0.95, "read_all/read")
    hh = []
    for codec in ("none", "gzip_1"):
        p5, h5 = f("dp-h5pz-" + codec), f("dp-h5-" + codec)
        if p5 and h5:
            hh.append(("tmpfs 256^3 32x64x64 %s" % codec,
                       ratio(gbps(row(p5, "pzarr write+flush")),
                             gbps(row(h5, "hdf5 write (collective)")))))
    line("Faster than parallel HDF5, same codec and chunking (tmpfs; the ext4 runs are in "
         "the compressed-writes table)", hh,
         lambda v: v > 1.0, "pzarr/HDF5 > 1")
    sm = [("run at %d ranks" % d["ranks"], d["metrics"].get("6443/5 pzarr 1 rank / floor"))
          for d in pick(docs, "pzarr-bench", "smallchunks")]
    line("1289-chunk read (open, metadata and all) ≤ 1.05 × the open+pread+close floor",
         sorted(sm), lambda v: v <= 1.05, "pzarr/floor")
    mem = lambda d: d and d["metrics"].get("pzarr_write_mem_increase_per_block")
    al = [("16x256x256", mem(f("dp-ckpt-8m"))), ("32^3", mem(f("dp-ckpt-256k")))]
    al += [("default %d ranks" % n, mem(f("ckpt-none-tmpfs-np%d" % n))) for n in ck_ranks]
    line("Peak memory growth writing an aligned block ≤ 0.25 block", al, lambda v: v <= 0.25,
         "blocks")
    line("Peak memory growth, misaligned ≤ 1.2 blocks",
         [("%d ranks" % n, mem(f("ckpt-misaligned-np%d" % n))) for n in ck_ranks],
         lambda v: v <= 1.2, "blocks")
    sh = [("dp 32 MiB shards", mem(sw))]
    sh += [("default %d ranks" % n, mem(f("ckpt-shard-tmpfs-np%d" % n))) for n in ck_ranks]
    line("Peak memory growth, sharded ≤ 1.25 blocks", sh, lambda v: v <= 1.25, "blocks")
    sc = pick(docs, "pzarr-bench", "scale")
    al = [("%s %d" % (d["metrics"].get("decomp"), d["ranks"]),
           (d["metrics"].get("flush_rma_bytes_max") or 0) +
           (d["metrics"].get("read_all_rma_bytes_max") or 0))
          for d in sc if d["metrics"].get("layout") == "aligned"]
    line("Scale: an aligned checkpoint moves 0 bytes between ranks (flush + read_all)",
         sorted(al), lambda v: v == 0, "bytes, busiest rank")
    meta = [("%s %s %d" % (d["metrics"].get("decomp"), d["metrics"].get("layout"), d["ranks"]),
             d["metrics"].get("meta_ops_other_ranks_max")) for d in sc]
    line("Scale: metadata operations on ranks > 0", sorted(meta), lambda v: v == 0, "ops")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ appendix


def appendix(docs):
    out = ["## Appendix: every run\n"]
    for d in sorted(docs, key=lambda d: (d["tool"], d["pattern"], d["ranks"], d["file"])):
        out.append("**%s** (`%s`)\n" % (d["title"], d["file"]))
        rows = []
        for r in d["rows"]:
            rows.append((r["name"], fmt(r["best_s"] * 1e3), fmt(r["median_s"] * 1e3),
                         fmt(r.get("gbps")), fmt(r.get("items_per_s"), "%.0f"),
                         fmt(r.get("ratio"), "%.2f") + (" vs " + r["ref"] if r.get("ref")
                                                         else "")))
        out.append(table(["case", "best ms", "median ms", "GB/s", "items/s", "ratio"], rows))
    return "\n".join(out)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report.py RESULTS_DIR")
    docs, failed = load(sys.argv[1])
    parts = ["# pzarr benchmark results\n",
             table(["", ""], machine()),
             "Load average while running: %s\n" % open(
                 os.path.join(sys.argv[1], "loadavg.txt")).read().strip()
             if os.path.exists(os.path.join(sys.argv[1], "loadavg.txt")) else "",
             "Times are the best of the samples (medians are in the appendix); every "
             "run checks the data it read back. All files live in the page cache "
             "(see the fs columns for the scratch file system): reads are warm.\n",
             targets(docs), copy_targets(docs), python_targets(docs), overlap_targets(docs), sec_checkpoint(docs), sec_durable(docs), sec_codec(docs), sec_restart(docs),
             sec_postproc(docs), sec_small(docs), sec_open(docs), sec_zp(docs), sec_scale(docs), sec_copy(docs),
             sec_python(docs), sec_overlap(docs)]
    if failed:
        parts.append("## Failed runs\n\n" + "\n".join("- " + f for f in failed) + "\n")
    parts.append(appendix(docs))
    print("\n".join(p for p in parts if p))


if __name__ == "__main__":
    main()
