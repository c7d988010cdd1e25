#!/bin/bash
# create: the metadata documents it writes, for v3 and v2.
NAME=create
source "$(dirname "$0")/lib.sh"

# v3 defaults
ok pz create d3 --dtype float64 --shape 100,200 --chunks 10,20
jcheck d3/zarr.json 'd["zarr_format"]==3 and d["node_type"]=="array" and d["shape"]==[100,200] and d["data_type"]=="float64"' "v3 basics"
jcheck d3/zarr.json 'd["chunk_grid"]=={"name":"regular","configuration":{"chunk_shape":[10,20]}}' "v3 grid"
jcheck d3/zarr.json 'd["chunk_key_encoding"]=={"name":"default","configuration":{"separator":"/"}}' "v3 keys"
jcheck d3/zarr.json 'd["fill_value"]==0 and d["codecs"]==[{"name":"bytes","configuration":{"endian":"little"}},{"name":"zstd","configuration":{"level":3,"checksum":False}}]' "v3 default codecs"
jcheck d3/zarr.json 'd["attributes"]=={}' "v3 attributes"

# v3 F order, big endian, blosc
ok pz create f3 --dtype int16 --shape 4,5,6 --chunks 2,2,2 --order F --endian big --codec blosc:lz4:5:shuffle
jcheck f3/zarr.json 'd["codecs"]==[{"name":"transpose","configuration":{"order":[2,1,0]}},{"name":"bytes","configuration":{"endian":"big"}},{"name":"blosc","configuration":{"cname":"lz4","clevel":5,"shuffle":"shuffle","typesize":2,"blocksize":0}}]' "v3 F/big/blosc"
ok pz create b3 --dtype float32 --shape 8 --chunks 3 --codec blosc:zstd:9:bitshuffle
jcheck b3/zarr.json 'd["codecs"][1]["configuration"]=={"cname":"zstd","clevel":9,"shuffle":"bitshuffle","typesize":4,"blocksize":0}' "v3 blosc bitshuffle"
ok pz create g3 --dtype uint8 --shape 8,8 --chunks 4,4 --codec gzip:6+crc32c --separator .
jcheck g3/zarr.json 'd["codecs"][1:]==[{"name":"gzip","configuration":{"level":6}},{"name":"crc32c"}] and d["chunk_key_encoding"]["configuration"]["separator"]=="."' "v3 gzip+crc32c, dot"
ok pz create n3 --dtype complex128 --shape 3 --chunks 3 --codec none
jcheck n3/zarr.json 'd["codecs"]==[{"name":"bytes","configuration":{"endian":"little"}}] and d["fill_value"]==[0,0]' "v3 none, complex fill"
ok pz create default-chunks --dtype int8 --shape 7,0
jcheck default-chunks/zarr.json 'd["chunk_grid"]["configuration"]["chunk_shape"]==[7,1]' "default chunks"
ok pz create scalar --dtype float64 --shape ""
jcheck scalar/zarr.json 'd["shape"]==[] and d["chunk_grid"]["configuration"]["chunk_shape"]==[]' "0-d"

# fill values
ok pz create fnan --dtype float32 --shape 4 --fill nan
jcheck fnan/zarr.json 'd["fill_value"]=="NaN"' "fill nan"
ok pz create finf --dtype float64 --shape 4 --fill inf --format 2
jcheck finf/.zarray 'd["fill_value"]=="Infinity"' "fill inf v2"
ok pz create fninf --dtype float16 --shape 4 --fill -inf
jcheck fninf/zarr.json 'd["fill_value"]=="-Infinity"' "fill -inf"
# integers are written exactly, not through a double
ok pz create fbig --dtype int64 --shape 4 --fill -9007199254740991
CHECKS=$((CHECKS + 1))
grep -q '"fill_value":[[:space:]]*-9007199254740991' fbig/zarr.json || fail "int64 fill not exact"
ok pz create fu32 --dtype uint32 --shape 4 --fill 4294967295
jcheck fu32/zarr.json 'd["fill_value"]==4294967295' "uint32 fill"
ok pz create fc --dtype complex64 --shape 4 --fill 1.5,-2
jcheck fc/zarr.json 'd["fill_value"]==[1.5,-2]' "complex fill"
ok pz create fb --dtype bool --shape 4 --fill true
jcheck fb/zarr.json 'd["fill_value"] is True' "bool fill"
ok pz create fnull --dtype int32 --shape 4 --format 2 --fill null
jcheck fnull/.zarray 'd["fill_value"] is None' "v2 null fill"
ok pz create fneg --dtype int8 --shape 4 --fill -128
jcheck fneg/zarr.json 'd["fill_value"]==-128' "int8 fill"

# attributes and dimension names
ok pz create at3 --dtype int32 --shape 2,3 --attrs '{"units":"m","n":[1,2]}' --dimension-names y,x
jcheck at3/zarr.json 'd["attributes"]=={"units":"m","n":[1,2]} and d["dimension_names"]==["y","x"]' "v3 attrs, names"
ok pz create at2 --dtype int32 --shape 2,3 --format 2 --attrs '{"units":"m"}'
jcheck at2/.zattrs 'd=={"units":"m"}' "v2 attrs"
ok pz create dn2 --dtype int32 --shape 2,3 --format 2 --attrs '{"units":"m"}' --dims y,x
jcheck dn2/.zattrs 'd=={"units":"m","_ARRAY_DIMENSIONS":["y","x"]}' "v2 dims as _ARRAY_DIMENSIONS"
CHECKS=$((CHECKS + 1))
pz info dn2 | grep -q '^dimensions: *y, x$' || fail "info shows v2 dimension names"
ok pz create dn3 --dtype int8 --shape 4 --dims t
jcheck dn3/zarr.json 'd["dimension_names"]==["t"]' "v3 --dims"

# PATH inside new directories: a store (a group with consolidated metadata)
# and the array in it, like mkdir -p; more arrays join it
ok pz create ds2.zarr/temp --format 2 --dtype float32 --shape 4,3 --chunks 2,3 --dims y,x
jcheck ds2.zarr/.zgroup 'd=={"zarr_format":2}' "v2 store root group"
jcheck ds2.zarr/.zmetadata 'd["zarr_consolidated_format"]==1 and d["metadata"][".zgroup"]=={"zarr_format":2} and d["metadata"]["temp/.zarray"]["shape"]==[4,3] and d["metadata"]["temp/.zattrs"]=={"_ARRAY_DIMENSIONS":["y","x"]}' "v2 consolidated"
ok pz create ds2.zarr/sub/x --format 2 --dtype float64 --shape 3 --dims x
jcheck ds2.zarr/sub/.zgroup 'd=={"zarr_format":2}' "v2 group made on the way"
jcheck ds2.zarr/.zmetadata 'd["metadata"]["sub/.zgroup"]=={"zarr_format":2} and d["metadata"]["sub/x/.zarray"]["shape"]==[3]' "v2 consolidated nested"
ok pz resize ds2.zarr/temp --shape 6,3
jcheck ds2.zarr/temp/.zarray 'd["shape"]==[6,3]' "resize"
jcheck ds2.zarr/.zmetadata 'd["metadata"]["temp/.zarray"]["shape"]==[6,3]' "resize reaches the consolidated metadata"
ok pz create ds3.zarr/g/temp --dtype int16 --shape 5 --dims t
jcheck ds3.zarr/zarr.json 'd["node_type"]=="group" and d["consolidated_metadata"]["kind"]=="inline" and d["consolidated_metadata"]["metadata"]["g"]["node_type"]=="group" and d["consolidated_metadata"]["metadata"]["g/temp"]["dimension_names"]==["t"]' "v3 inline consolidated"
ok pz resize ds3.zarr/g/temp --shape 9
jcheck ds3.zarr/zarr.json 'd["consolidated_metadata"]["metadata"]["g/temp"]["shape"]==[9]' "v3 resize consolidated"

# v2
ok pz create d2 --dtype float64 --shape 100,200 --chunks 10,20 --format 2
jcheck d2/.zarray 'd["zarr_format"]==2 and d["shape"]==[100,200] and d["chunks"]==[10,20] and d["dtype"]=="<f8" and d["order"]=="C" and d["filters"] is None and d["fill_value"]==0' "v2 basics"
jcheck d2/.zarray 'd["compressor"]=={"id":"zstd","level":3} and d.get("dimension_separator",".")=="."' "v2 default codec, separator"
ok pz create b2 --dtype int16 --shape 10 --chunks 4 --format 2 --endian big --order F --codec blosc:lz4:5:shuffle --separator /
jcheck b2/.zarray 'd["dtype"]==">i2" and d["order"]=="F" and d["dimension_separator"]=="/" and d["compressor"]=={"id":"blosc","cname":"lz4","clevel":5,"shuffle":1,"blocksize":0}' "v2 blosc/big/F"
ok pz create u2 --dtype uint8 --shape 10 --format 2 --endian big --codec gzip:6
jcheck u2/.zarray 'd["dtype"]=="|u1" and d["compressor"]=={"id":"gzip","level":6}' "v2 uint8 gzip"
ok pz create z2 --dtype complex128 --shape 10 --format 2 --codec zlib:4
jcheck z2/.zarray 'd["dtype"]=="<c16" and d["compressor"]=={"id":"zlib","level":4}' "v2 zlib"
ok pz create n2 --dtype bool --shape 10 --format 2 --codec none
jcheck n2/.zarray 'd["dtype"]=="|b1" and d["compressor"] is None and d["fill_value"] is False' "v2 none, bool"

# A variable with dimension names gets the fill xarray writes (a real 0 must
# not read as missing): NaN for floats, null for v2 integers; --fill wins;
# without names the default stays 0.
ok pz create ds/f --format 2 --dtype float64 --shape 4 --dims t
jcheck ds/f/.zarray 'd["fill_value"] == "NaN"' "v2 float with dims: NaN"
ok pz create ds/i --format 2 --dtype int32 --shape 4 --dims t
jcheck ds/i/.zarray 'd["fill_value"] is None' "v2 int with dims: null"
ok pz create ds/b --format 2 --dtype bool --shape 4 --dims t
jcheck ds/b/.zarray 'd["fill_value"] is None' "v2 bool with dims: null"
ok pz create ds/g --format 2 --dtype int32 --shape 4 --dims t --fill 7
jcheck ds/g/.zarray 'd["fill_value"] == 7' "--fill wins over the dataset default"
ok pz create nod/n --format 2 --dtype int32 --shape 4
jcheck nod/n/.zarray 'd["fill_value"] == 0' "no dims: 0"
ok pz create v3d/f --dtype float32 --shape 4 --dims t
jcheck v3d/f/zarr.json 'd["fill_value"] == "NaN"' "v3 float with dims: NaN"
ok pz create v3d/i --dtype int16 --shape 4 --dims t
jcheck v3d/i/zarr.json 'd["fill_value"] == 0' "v3 int with dims: 0 (v3 has no null fill)"
"$PY" -c 'import numpy as np; np.array([0, 1, 0, 2], "<f8").tofile("f.in"); np.array([0, 5, 0, -1], "<i4").tofile("i.in")'
ok pz put ds/f -i f.in
ok pz put ds/i -i i.in
CHECKS=$((CHECKS + 1))
if "$PY" -c 'import zarr' 2>/dev/null; then
    "$PY" - <<'PY' || fail "xarray reads the zeros of a CLI dataset as zeros"
import xarray as xr, numpy as np
ds = xr.open_zarr("ds", consolidated=True)
assert ds.f.values.tolist() == [0.0, 1.0, 0.0, 2.0], ds.f.values
assert ds.i.dtype == np.int32 and ds.i.values.tolist() == [0, 5, 0, -1], (ds.i.dtype, ds.i.values)
PY
fi

# --print shows the document that was written
ok pz create printed --dtype uint16 --shape 5 --print && has '"data_type":[[:space:]]*"uint16"' "--print"

# under mpiexec: one document, the same
ok mpz 2 create par3 --dtype float32 --shape 9,9 --chunks 4,4
jcheck par3/zarr.json 'd["shape"]==[9,9] and d["data_type"]=="float32"' "create under 2 ranks"

finish
