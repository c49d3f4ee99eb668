# Builds and runs a downstream project against baler, as a ctest test:
#   cmake -DMODE=find_package|add_subdirectory -DBALER_SOURCE_DIR=... -DWORK_DIR=...
#         -DCONSUMER_DIR=... [-DGENERATOR=...] [-DCXX_COMPILER=...] [-DBUILD_TYPE=...]
#         [-DPREFIX_PATH=a|b] -P run_consumer.cmake
# find_package: configures and builds baler's library alone (tests, benchmarks, tools, HDF5 plugin
# and Python module off: they have tests of their own), installs it into
# WORK_DIR/prefix, then builds the consumer with CMAKE_PREFIX_PATH pointing there.
# add_subdirectory: builds the consumer, which adds BALER_SOURCE_DIR itself.
# PREFIX_PATH is CMAKE_PREFIX_PATH with '|' for ';' (a ctest command line splits on ';').
cmake_minimum_required(VERSION 3.18)

foreach(var MODE BALER_SOURCE_DIR WORK_DIR CONSUMER_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()

function(run)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "+ ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${shown}")
  endif()
endfunction()

# Settings both configure steps share.
set(common)
if(GENERATOR)
  list(APPEND common -G "${GENERATOR}")
endif()
if(CXX_COMPILER)
  list(APPEND common "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(BUILD_TYPE)
  list(APPEND common "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
  set(config --config "${BUILD_TYPE}")
endif()
string(REPLACE "|" ";" prefix_path "${PREFIX_PATH}")

# Start from nothing, so files left by an earlier run cannot hide a broken install.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(consumer_build "${WORK_DIR}/build")

if(MODE STREQUAL "find_package")
  set(prefix "${WORK_DIR}/prefix")
  run(${CMAKE_COMMAND} -S "${BALER_SOURCE_DIR}" -B "${WORK_DIR}/baler-build" ${common}
      "-DCMAKE_PREFIX_PATH=${prefix_path}" -DBALER_BUILD_TESTS=OFF -DBALER_BUILD_BENCHMARKS=OFF
      -DBALER_BUILD_TOOLS=OFF -DBALER_HDF5_FILTER=OFF -DBALER_PYTHON=OFF -DBALER_INSTALL=ON)
  run(${CMAKE_COMMAND} --build "${WORK_DIR}/baler-build" ${config})  # baler::cuda, if enabled
  run(${CMAKE_COMMAND} --install "${WORK_DIR}/baler-build" --prefix "${prefix}" ${config})
  list(PREPEND prefix_path "${prefix}")
  run(${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${consumer_build}" ${common}
      "-DCMAKE_PREFIX_PATH=${prefix_path}" "-DBALER_EXPECTED_PREFIX=${prefix}"
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
elseif(MODE STREQUAL "add_subdirectory")
  run(${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${consumer_build}" ${common}
      "-DCMAKE_PREFIX_PATH=${prefix_path}" "-DBALER_SOURCE_DIR=${BALER_SOURCE_DIR}")
else()
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'")
endif()

run(${CMAKE_COMMAND} --build "${consumer_build}" ${config})

# The program's location depends on the generator (multi-config ones add a folder).
file(GLOB_RECURSE programs LIST_DIRECTORIES false "${consumer_build}/app" "${consumer_build}/app.exe")
list(FILTER programs EXCLUDE REGEX "/CMakeFiles/")
list(LENGTH programs count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "expected one built consumer program, found: ${programs}")
endif()
run(${programs})
