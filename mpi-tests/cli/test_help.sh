#!/bin/bash
# Help, version and command-line usage errors.
NAME=help
source "$(dirname "$0")/lib.sh"

ok pz --help && has '^usage: pzarr COMMAND' "--help" &&
    for c in info ls create get put; do has "^  pzarr $c PATH" "--help lists $c"; done
ok pz help && has '^usage: pzarr COMMAND' "help"
ok pz help create && has -- '--dtype TYPE' "help create" && has -- '--codec SPEC' "help create"
ok pz create --help && has '^usage: pzarr create PATH' "create --help"
ok pz get -h && has '^usage: pzarr get PATH' "get -h"
ok pz help put && has -- '-i FILE' "help put"
ok pz --version && has '^pzarr 0\.1\.0 \(library 0\.1\.0\)$' "--version"

bad 2 'missing COMMAND' pz
bad 2 "unknown command 'frob'" pz frob
bad 2 "help: unknown command 'frob'" pz help frob
bad 2 'missing PATH' pz info
bad 2 "unknown option '--bogus'" pz info --bogus x
bad 2 "unexpected argument 'two'" pz ls one two
bad 2 "option '-o' needs a value" pz get x -o
# usage errors name the command's usage line
CHECKS=$((CHECKS + 1))
grep -q '^usage: pzarr get PATH' "$T/err" || fail "usage line missing after a get usage error"

# Under mpiexec only rank 0 prints.
ok mpz 2 --version
CHECKS=$((CHECKS + 1))
[ "$(grep -c '^pzarr 0' "$T/out")" -eq 1 ] || fail "--version under 2 ranks printed $(grep -c '^pzarr 0' "$T/out") times"
bad 2 'missing PATH' mpz 2 info
CHECKS=$((CHECKS + 1))
[ "$(grep -c '^pzarr: error:' "$T/err")" -eq 1 ] || fail "error printed $(grep -c '^pzarr: error:' "$T/err") times under 2 ranks"

finish
