# Installs the pinned zarrita.js into the build tree and copies the .mjs
# drivers next to it, so that `import "zarrita"` resolves from there.
#
#   cmake -DNPM=/usr/bin/npm -DNODE=/usr/bin/node -DSRC=<source>/mpi-tests/interop/js
#         -DPREFIX=<build>/node -P npm_setup.cmake
#
# `npm ci` runs only when the lock file changed since the last successful
# install (the stamp holds the lock file's SHA-256). Any npm failure is fatal:
# the zarrita tests must then fail, not be skipped.
cmake_minimum_required(VERSION 3.18)

foreach(v NPM NODE SRC PREFIX)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "npm_setup.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${NPM}")
  message(FATAL_ERROR "npm_setup.cmake: npm not found (NPM='${NPM}'); "
                      "the zarrita interop tests need node and npm")
endif()

file(MAKE_DIRECTORY "${PREFIX}")
file(SHA256 "${SRC}/package-lock.json" lock_hash)
file(SHA256 "${SRC}/package.json" pkg_hash)
set(want "${lock_hash} ${pkg_hash}")
set(stamp "${PREFIX}/node_modules/.pzarr-interop-stamp")
set(have "")
if(EXISTS "${stamp}")
  file(READ "${stamp}" have)
  string(STRIP "${have}" have)
endif()

if(NOT have STREQUAL want OR NOT EXISTS "${PREFIX}/node_modules/zarrita/package.json")
  configure_file("${SRC}/package.json" "${PREFIX}/package.json" COPYONLY)
  configure_file("${SRC}/package-lock.json" "${PREFIX}/package-lock.json" COPYONLY)
  message(STATUS "npm ci --prefix ${PREFIX}")
  execute_process(
    COMMAND "${NPM}" ci --prefix "${PREFIX}" --no-audit --no-fund
    RESULT_VARIABLE rc
    OUTPUT_VARIABLE out
    ERROR_VARIABLE err
    TIMEOUT 280)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "npm ci failed (${rc}):\n${out}\n${err}")
  endif()
  file(WRITE "${stamp}" "${want}\n")
else()
  message(STATUS "zarrita already installed in ${PREFIX} (stamp matches)")
endif()

# The drivers are copied on every run so that an edit is always picked up.
file(GLOB drivers "${SRC}/*.mjs")
foreach(f ${drivers})
  get_filename_component(n "${f}" NAME)
  configure_file("${f}" "${PREFIX}/${n}" COPYONLY)
endforeach()

execute_process(
  COMMAND "${NODE}" -e "import('zarrita').then(z => { if (typeof z.create !== 'function') process.exit(3); console.log('zarrita import ok'); })"
  WORKING_DIRECTORY "${PREFIX}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "zarrita cannot be imported from ${PREFIX} (${rc}):\n${out}\n${err}")
endif()
message(STATUS "${out}")
