# Run with cmake -P (see CMakeLists.txt beside this file). Steps, each must succeed:
#   1. cmake --install ICTCORE_BUILD_DIR --prefix WORK_DIR/prefix
#   2. configure EXAMPLE_SOURCE_DIR in WORK_DIR/build with CMAKE_PREFIX_PATH=WORK_DIR/prefix
#   3. build it
#   4. run the example it built
# WORK_DIR is wiped first, so every run starts from nothing; it is left behind for inspection.
foreach(var ICTCORE_BUILD_DIR EXAMPLE_SOURCE_DIR WORK_DIR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "package_test.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE RelWithDebInfo)
endif()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(step name)
  list(JOIN ARGN " " command)
  message(STATUS "package test: ${name}: ${command}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package test: ${name} failed (${rc})")
  endif()
endfunction()

step(install ${CMAKE_COMMAND} --install ${ICTCORE_BUILD_DIR} --prefix ${prefix})
step(configure ${CMAKE_COMMAND} -S ${EXAMPLE_SOURCE_DIR} -B ${build}
     -DCMAKE_PREFIX_PATH=${prefix}
     -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
     -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
     "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
     "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}")
step(build ${CMAKE_COMMAND} --build ${build})
step(run ${build}/contacts_basic)
message(STATUS "package test: passed")
