#!/bin/bash
# ls: the hierarchy as a tree, arrays with data type and shape; a v2
# hierarchy written by zarr-python; only rank 0 prints under mpiexec.
NAME=ls
source "$(dirname "$0")/lib.sh"

group3() { mkdir -p "$1" && echo '{"zarr_format":3,"node_type":"group","attributes":{}}' >"$1/zarr.json"; }
group3 h
group3 h/g1
group3 h/g1/g2
group3 h/empty
ok pz create h/g1/g2/deep --dtype float64 --shape 10,20 --chunks 5,5
ok pz create h/g1/mid --dtype int32 --shape 7 --chunks 3
ok pz create h/top --dtype uint8 --shape 2,3,4 --chunks 1,3,4
ok pz ls h
cp "$T/out" tree.txt
cat >tree.want <<'TREE'
h  group
├── empty/
├── g1/
│   ├── g2/
│   │   └── deep  array float64 v3 [10, 20] chunks [5, 5]
│   └── mid  array int32 v3 [7] chunks [3]
└── top  array uint8 v3 [2, 3, 4] chunks [1, 3, 4]
TREE
same tree.want tree.txt "ls tree" || diff tree.want tree.txt >&2

ok pz ls h/g1/g2/deep && has '^h/g1/g2/deep  array float64 v3 \[10, 20\] chunks \[5, 5\]$' "ls of an array"

ok mpz 2 ls h
same tree.want "$T/out" "ls under 2 ranks prints once"
ok mpz 3 ls h
same tree.want "$T/out" "ls under 3 ranks prints once"

# a v2 hierarchy written by zarr-python
if "$PY" -c 'import zarr' 2>/dev/null; then
    ok "$PY" -c '
import zarr
root = zarr.open_group("zp", mode="w")
a = root.create_group("a")
a.create_dataset("x", shape=(5, 6), chunks=(2, 3), dtype="<i2")
root.create_dataset("y", shape=(3,), chunks=(3,), dtype=">f8")
a.create_group("b")'
    ok pz ls zp
    cp "$T/out" zp.txt
    cat >zp.want <<'TREE'
zp  group
├── a/
│   ├── b/
│   └── x  array int16 v2 [5, 6] chunks [2, 3]
└── y  array float64 v2 [3] chunks [3]
TREE
    same zp.want zp.txt "ls of a zarr-python v2 hierarchy" || diff zp.want zp.txt >&2
fi

mkdir -p plain
bad 1 'no Zarr array or group' pz ls plain

# A child whose metadata is malformed is shown with its error, and the
# command fails (it used to be left out silently).
group3 broken
ok pz create broken/good --dtype int32 --shape 4 --chunks 2
ok pz create broken/bad --dtype int32 --shape 4 --chunks 2
echo '{"zarr_format": 3, "node_type": "array", "shape": [4' >broken/bad/zarr.json
ok pz create broken/bad2 --dtype int32 --shape 4 --chunks 2 --format 2
echo '{"zarr_format": 2, "shape": "four"}' >broken/bad2/.zarray
bad 1 'broken: 2 nodes could not be read' pz ls broken
has '^├── bad  \(unknown: .*zarr\.json: malformed JSON' "ls shows the malformed zarr.json"
has '^├── bad2  array \(error: .*shape' "ls shows the malformed .zarray"
has '^└── good  array int32 v3 \[4\] chunks \[2\]$' "ls still shows the good child"
bad 1 'broken: 2 child nodes could not be read' pz info broken
has '^  bad  \(error: .*malformed JSON' "info shows the broken child"
finish
