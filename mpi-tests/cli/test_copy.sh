#!/bin/bash
# pzarr copy: rechunking, resharding, recompression, v2 <-> v3, data type
# conversion and regions at 1-3 ranks, checked against the source's bytes
# and numpy; datasets (groups, attributes, dimension names, coordinates,
# consolidated metadata) read back by zarr-python and xarray; refusals; a
# copy killed part-way: no DST, `info` says so, --resume finishes it without
# rewriting the slabs committed before the kill; SRC never written.
NAME=copy
source "$(dirname "$0")/lib.sh"

# checksum of every file under a tree (names and bytes): SRC must not change
tree_sum() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }

SHAPE=40,24,18
N=$((40 * 24 * 18))
np gen float64 $N base.in 3
ok pz create src/temp --dtype float64 --shape $SHAPE --chunks 8,8,6 --codec zstd:1 --dims t,y,x
ok pz put src/temp -i base.in
before=$(tree_sum src)

# One array, new chunks, at 1, 2 and 3 ranks: DST is the array itself.
for n in 1 2 3; do
    ok mpz $n copy src/temp a$n --chunks 40,3,4 --memory 96K -q
    ok pz get a$n -o a$n.out && same base.in a$n.out "np$n: rechunked array"
    jcheck a$n/zarr.json 'd["chunk_grid"]["configuration"]["chunk_shape"] == [40, 3, 4] and d["dimension_names"] == ["t", "y", "x"]' "np$n: chunks and names"
    expect_absent a$n/.pzarr-copy "np$n: marker gone"
    expect_absent a$n.pzarr-partial "np$n: partial renamed"
done
# chunks that share no boundary with the source's: cuts on target chunks
ok mpz 2 copy src/temp odd --chunks 7,5,5 --memory 64K -q
ok pz get odd -o odd.out && same base.in odd.out "chunks 7,5,5 with a small budget"

# v3 -> v2 with another codec, then back to v3 with shards, then unsharded
ok mpz 2 copy src/temp v2 --format 2 --codec blosc:lz4:5:shuffle --chunks 10,12,9 -q
jcheck v2/.zarray 'd["compressor"]["id"] == "blosc" and d["chunks"] == [10, 12, 9]' "v2 document"
jcheck v2/.zattrs 'd["_ARRAY_DIMENSIONS"] == ["t", "y", "x"]' "v2 dimension names"
ok np zarr2 v2 base.in
ok mpz 3 copy v2 sh --format 3 --shards 20,12,18 --chunks 10,6,9 -q
jcheck sh/zarr.json 'd["codecs"][0]["name"] == "sharding_indexed" and d["dimension_names"] == ["t", "y", "x"] and "_ARRAY_DIMENSIONS" not in d["attributes"]' "sharded v3 document"
ok pz get sh -o sh.out && same base.in sh.out "v2 -> sharded v3"
ok mpz 2 copy sh plain --shards none -q
jcheck plain/zarr.json 'd["codecs"][0]["name"] == "bytes" and d["chunk_grid"]["configuration"]["chunk_shape"] == [10, 6, 9]' "unsharded keeps the inner chunks"
ok pz get plain -o plain.out && same base.in plain.out "sharded -> plain"

# Nothing but the format changes: chunk files moved byte for byte (no
# decoding), also for a region of whole chunks; values the same.
ok mpz 2 copy src/temp raw2 --format 2 -q
same src/temp/c/1/2/0 raw2/1.2.0 "format-only copy moves chunk files as they are"
ok np zarr2 raw2 base.in
ok mpz 3 copy src/temp rawr --region 8:40,8:24,6:18 -q
same src/temp/c/2/1/1 rawr/c/1/0/0 "a region of whole chunks moves chunk files as they are"
np slice base.in float64 $SHAPE "8:40,8:24,6:18" rawr.want
ok pz get rawr -o rawr.out && same rawr.want rawr.out "region of whole chunks: values"

# Codecs pzarr cannot decode (pcodec here): the chunk files move as they
# are, the document keeps the codecs; a copy that would need decoding says
# why; reading the copy names the codec. v3 and v2.
mkdir -p pc3/c/0 pc3/c/1 pc2
"$PY" - <<'EOF'
import json
json.dump({"zarr_format": 3, "node_type": "array", "shape": [6, 4], "data_type": "float32",
           "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [3, 4]}},
           "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
           "fill_value": 0.0, "codecs": [{"name": "numcodecs.pcodec", "configuration": {"level": 8}}],
           "attributes": {"units": "m"}, "dimension_names": ["t", "x"]}, open("pc3/zarr.json", "w"))
open("pc3/c/0/0", "wb").write(b"opaque bytes of chunk 0")
open("pc3/c/1/0", "wb").write(b"chunk 1, never decoded")
json.dump({"zarr_format": 2, "shape": [6, 4], "chunks": [3, 4], "dtype": "<f4", "fill_value": 0.0,
           "order": "C", "compressor": {"id": "pcodec", "level": 8}, "filters": None},
          open("pc2/.zarray", "w"))
open("pc2/0.0", "wb").write(b"v2 opaque chunk")
EOF
ok mpz 2 copy pc3 pc3c -q
same pc3/c/0/0 pc3c/c/0/0 "pcodec: chunk 0 moved as it is"
same pc3/c/1/0 pc3c/c/1/0 "pcodec: chunk 1 moved as it is"
jcheck pc3c/zarr.json 'd["codecs"] == [{"name": "numcodecs.pcodec", "configuration": {"level": 8}}] and d["attributes"] == {"units": "m"} and d["dimension_names"] == ["t", "x"]' "pcodec: the document keeps the codecs"
ok pz copy pc2 pc2c -q
same pc2/0.0 pc2c/0.0 "v2 pcodec: the chunk moved as it is"
jcheck pc2c/.zarray 'd["compressor"] == {"id": "pcodec", "level": 8}' "v2 pcodec: the compressor kept"
bad 1 "numcodecs.pcodec.*as they are" pz copy pc3 pcx --chunks 2,4 -q
bad 1 "numcodecs.pcodec.*as they are" pz copy pc3 pcx --format 2 -q
bad 1 "numcodecs.pcodec" pz get pc3c -o /dev/null
expect_absent pcx "refused opaque copies made nothing"

# a region, converted to float32
ok mpz 2 copy src/temp reg --region 3:33,5:,:-4 --dtype float32 --chunks 6,6,6 -q
np slice base.in float64 $SHAPE "3:33,5:,:-4" reg.f64
"$PY" -c 'import numpy as np, sys; np.fromfile(sys.argv[1]).astype("f4").tofile(sys.argv[2])' reg.f64 reg.want
ok pz get reg -o reg.out && same reg.want reg.out "region as float32"
jcheck reg/zarr.json 'd["shape"] == [30, 19, 14] and d["data_type"] == "float32"' "region shape"

# A dataset: groups, attributes, coordinates, per-variable chunks, v2 -> v3 -> v2.
ok pz create ds/temp --format 2 --dtype float32 --shape 12,16,10 --chunks 3,16,10 --dims time,y,x --attrs '{"units": "K"}'
ok pz create ds/time --format 2 --dtype int64 --shape 12 --chunks 12 --dims time
ok pz create ds/sub/flag --format 2 --dtype uint8 --shape 16,10 --chunks 4,5 --dims y,x
np gen float32 $((12 * 16 * 10)) temp.in 5
"$PY" -c 'import numpy as np; np.arange(12, dtype="i8").tofile("time.in")'
np gen uint8 160 flag.in 6
ok pz put ds/temp -i temp.in
ok pz put ds/time -i time.in
ok pz put ds/sub/flag -i flag.in
"$PY" - ds <<'EOF' || fail "group attributes of the source"
import json, sys
p = sys.argv[1]
json.dump({"title": "run 7", "n": 3}, open(p + "/.zattrs", "w"))
# keep .zmetadata in step, as a writer would
z = json.load(open(p + "/.zmetadata"))
z["metadata"][".zattrs"] = {"title": "run 7", "n": 3}
json.dump(z, open(p + "/.zmetadata", "w"))
EOF
dsum=$(tree_sum ds)
ok mpz 2 copy ds ds3 --format 3 --chunks temp=12,4,5 --codec zstd:2 -q
jcheck ds3/zarr.json 'd["attributes"] == {"title": "run 7", "n": 3} and "consolidated_metadata" in d' "v3 root: attributes, consolidated"
jcheck ds3/temp/zarr.json 'd["chunk_grid"]["configuration"]["chunk_shape"] == [12, 4, 5] and d["dimension_names"] == ["time", "y", "x"] and d["attributes"] == {"units": "K"}' "temp: its own chunks"
jcheck ds3/time/zarr.json 'd["chunk_grid"]["configuration"]["chunk_shape"] == [12] and d["codecs"][1]["configuration"]["level"] == 2' "time: chunks kept, codec changed"
jcheck ds3/sub/zarr.json 'd["node_type"] == "group"' "sub-group"
ok pz get ds3/temp -o t3.out && same temp.in t3.out "dataset v3: temp"
ok pz get ds3/sub/flag -o f3.out && same flag.in f3.out "dataset v3: sub/flag"
ok mpz 3 copy ds3 ds2 --format 2 -q
"$PY" - ds ds2 <<'EOF' || fail "xarray opens the v2 round trip like the source"
import sys, warnings
import numpy as np, xarray as xr
warnings.simplefilter("error")
a = xr.open_zarr(sys.argv[1], consolidated=True)
b = xr.open_zarr(sys.argv[2], consolidated=True)
assert a.attrs == b.attrs == {"title": "run 7", "n": 3}, (a.attrs, b.attrs)
assert a.temp.dims == b.temp.dims == ("time", "y", "x")
assert b.temp.attrs == {"units": "K"}, b.temp.attrs
np.testing.assert_array_equal(a.temp.values, b.temp.values)
np.testing.assert_array_equal(a.time.values, b.time.values)
assert b.temp.encoding["chunks"] == (12, 4, 5), b.temp.encoding["chunks"]
import zarr
g = zarr.open_consolidated(sys.argv[2], mode="r")
assert (g["sub/flag"][:] == zarr.open(sys.argv[1] + "/sub/flag", mode="r")[:]).all()
EOF
CHECKS=$((CHECKS + 1))
[ "$(tree_sum ds)" = "$dsum" ] || fail "the dataset source changed"

# DST inside an existing store: written in place, the store's consolidated
# metadata lists it; DST deeper inside a new store: the store is made
# around it (a group), renamed into place when done.
ok mpz 2 copy src/temp ds3/rechunked --chunks 40,4,4 -q
jcheck ds3/zarr.json '"rechunked" in d["consolidated_metadata"]["metadata"] and d["consolidated_metadata"]["metadata"]["rechunked"]["chunk_grid"]["configuration"]["chunk_shape"] == [40, 4, 4]' "in place: consolidated metadata lists the copy"
ok pz get ds3/rechunked -o inplace.out && same base.in inplace.out "in place: values"
bad 1 "exists" pz copy src/temp ds3/rechunked -q
bad 2 "overwrite replaces a whole store" pz copy src/temp ds3/other --overwrite -q
ok mpz 2 copy src/temp nested/run/temp --chunks 20,24,18 -q
jcheck nested/zarr.json 'd["node_type"] == "group"' "nested: a new store around DST"
jcheck nested/run/zarr.json 'd["node_type"] == "group"' "nested: its group"
ok pz get nested/run/temp -o nested.out && same base.in nested.out "nested: values"
expect_absent nested.pzarr-partial "nested: partial renamed"

# Refusals, each leaving DST as it was.
asum=$(tree_sum a1)
bad 1 "a1 exists: pass --overwrite" pz copy src/temp a1 -q
bad 2 "--chunks .* has 2 sizes" pz copy src/temp x --chunks 4,4
bad 1 "unknown codec|not a codec|codec" pz copy src/temp x --codec nosuch:3 -q
bad 2 "--region applies to one array" pz copy ds x --region 0:1
bad 1 "neither a Zarr array nor a group|No such|no Zarr" pz copy nothere x -q
CHECKS=$((CHECKS + 1))
[ "$(tree_sum a1)" = "$asum" ] || fail "a refused copy changed DST"
expect_absent x "refused copies made nothing"
expect_absent x.pzarr-partial "refused copies left no partial copy"
# --overwrite replaces DST once the copy is done
ok pz copy src/temp a1 --overwrite --chunks 5,5,5 -q
jcheck a1/zarr.json 'd["chunk_grid"]["configuration"]["chunk_shape"] == [5, 5, 5]' "overwritten"
ok pz get a1 -o a1o.out && same base.in a1o.out "overwritten copy's values"
expect_absent a1.pzarr-old "old DST removed"

# A corrupt source chunk: the error names the array and the chunk; DST absent.
cp -r src srcbad
printf 'garbage' >srcbad/temp/c/1/0/0
bad 1 "temp.*c/1/0/0|c/1/0/0.*temp" mpz 2 copy srcbad/temp cbad --chunks 8,8,3 -q
expect_absent cbad "corrupt source: no DST"
expect_absent cbad.pzarr-partial "corrupt source: nothing left"
# a copy that changes nothing moves the files as they are, the corrupt one
# too; --reencode decodes every chunk, and finds it
ok mpz 2 copy srcbad/temp cmoved -q
same srcbad/temp/c/1/0/0 cmoved/c/1/0/0 "a copy that changes nothing moves even a corrupt chunk"
bad 1 "c/1/0/0" mpz 2 copy srcbad/temp cbad2 --reencode -q

# Killed after its second slab (of many): no DST, info says so, --resume
# finishes without rewriting the first slabs' chunk files.
export PZARR_TEST_KILL_AT=copy_slab_2
mpz 2 copy src/temp k --chunks 40,2,18 --memory 64K -q >/dev/null 2>&1
unset PZARR_TEST_KILL_AT
expect_absent k "killed copy: no DST"
CHECKS=$((CHECKS + 1))
[ -f k.pzarr-partial/.pzarr-copy ] || fail "killed copy: the marker is there"
bad 1 "unfinished copy to it is in k.pzarr-partial" pz info k
ok pz info k.pzarr-partial && has "copy: +unfinished: 2 of [0-9]+ slabs" "info reports the unfinished copy" || cat k.pzarr-partial/.pzarr-copy >&2
bad 1 "unfinished copy to k: pass --resume" pz copy src/temp k --chunks 40,2,18 --memory 64K -q
stamp=$(stat -c '%i %Y.%y' k.pzarr-partial/c/0/0/0)
sleep 1.1
ok mpz 3 copy src/temp k --chunks 40,2,18 --memory 64K --resume -q
CHECKS=$((CHECKS + 1))
[ "$(stat -c '%i %Y.%y' k/c/0/0/0)" = "$stamp" ] || fail "resume rewrote a committed slab's chunk"
ok pz get k -o k.out && same base.in k.out "resumed copy's values"
expect_absent k/.pzarr-copy "resumed copy: marker gone"
# killed before its first commit: resume starts over
export PZARR_TEST_KILL_AT=copy_write_1:1
mpz 2 copy src/temp k2 --chunks 10,10,10 -q >/dev/null 2>&1
unset PZARR_TEST_KILL_AT
expect_absent k2 "killed before a commit: no DST"
ok mpz 2 copy src/temp k2 --chunks 10,10,10 --resume -q
ok pz get k2 -o k2.out && same base.in k2.out "resumed from nothing"
ok pz clean k2
has "removed 0 temporary" "resume removed the killed run's temporary files"

CHECKS=$((CHECKS + 1))
[ "$(tree_sum src)" = "$before" ] || fail "the source changed"
finish
