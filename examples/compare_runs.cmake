# Runs two commands and fails unless both succeed and print the same lines
# matching MATCH (at least MIN_LINES of them).
#
#   cmake -DRUN_A="cmd|arg|..." -DRUN_B="cmd|arg|..." -DMATCH=regex
#         [-DMIN_LINES=n] -P compare_runs.cmake
#
# Arguments are separated by "|" because ctest splits ";" lists.
foreach(v RUN_A RUN_B MATCH)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "compare_runs: ${v} is not set")
  endif()
endforeach()
if(NOT DEFINED MIN_LINES)
  set(MIN_LINES 1)
endif()

function(run_matching which out_var)
  string(REPLACE "|" ";" cmd "${RUN_${which}}")
  execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "compare_runs: run ${which} failed (${rc}): ${cmd}\n${out}${err}")
  endif()
  string(REGEX MATCHALL "${MATCH}[^\n]*" lines "${out}")
  list(LENGTH lines n)
  if(n LESS MIN_LINES)
    message(FATAL_ERROR "compare_runs: run ${which} printed ${n} lines matching "
                        "\"${MATCH}\", expected ${MIN_LINES}: ${cmd}\n${out}${err}")
  endif()
  set(${out_var} "${lines}" PARENT_SCOPE)
endfunction()

run_matching(A lines_a)
run_matching(B lines_b)
string(REPLACE ";" "\n  " show_a "${lines_a}")
string(REPLACE ";" "\n  " show_b "${lines_b}")
if(NOT lines_a STREQUAL lines_b)
  message(FATAL_ERROR "compare_runs: DIFFERENT\nrun A:\n  ${show_a}\nrun B:\n  ${show_b}")
endif()
message("compare_runs: identical\n  ${show_a}")
