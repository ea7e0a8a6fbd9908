# Finds the Debian-packaged dependencies (see README "Dependencies" for why each is used).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(SQLiteCpp REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(JWT REQUIRED IMPORTED_TARGET libjwt)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
pkg_check_modules(SAMPLERATE REQUIRED IMPORTED_TARGET samplerate)
pkg_check_modules(TIFF REQUIRED IMPORTED_TARGET libtiff-4>=4.5)  # 4.5: per-handle error handlers
pkg_check_modules(PNG REQUIRED IMPORTED_TARGET libpng)
find_package(JPEG REQUIRED)
find_package(CURL REQUIRED)
pkg_check_modules(SPANDSP REQUIRED IMPORTED_TARGET spandsp)  # fax T.30 / T.38 (0.0.6)
# libre (SIP, SDP, RTP): its headers need the platform macros its own build defines, and are
# included as system headers (they warn under -Wvolatile). Never link librem beside spandsp:
# both export goertzel_* with different layouts.
pkg_check_modules(LIBRE REQUIRED libre)
# ictcore_libre_link only links; ictcore_libre also compiles against the headers. The library
# compiles its few SIP sources against them (ictcore_use_libre_headers), not every source.
set(ICTCORE_LIBRE_DEFINITIONS HAVE_INTTYPES_H HAVE_STDBOOL_H HAVE_INET6)
if(NOT TARGET ictcore_libre)
  add_library(ictcore_libre_link INTERFACE IMPORTED)
  target_link_libraries(ictcore_libre_link INTERFACE ${LIBRE_LINK_LIBRARIES} Threads::Threads)
  add_library(ictcore_libre INTERFACE IMPORTED)
  target_include_directories(ictcore_libre SYSTEM INTERFACE ${LIBRE_INCLUDE_DIRS})
  target_compile_definitions(ictcore_libre INTERFACE ${ICTCORE_LIBRE_DEFINITIONS})
  target_link_libraries(ictcore_libre INTERFACE ictcore_libre_link)
endif()
function(ictcore_use_libre_headers)
  foreach(dir ${LIBRE_INCLUDE_DIRS})
    list(APPEND options -isystem ${dir})
  endforeach()
  set_source_files_properties(${ARGN} PROPERTIES COMPILE_DEFINITIONS "${ICTCORE_LIBRE_DEFINITIONS}"
                                                 COMPILE_OPTIONS "${options}")
endfunction()

# libcsv ships neither a pkg-config file nor a CMake config.
find_path(LIBCSV_INCLUDE_DIR csv.h REQUIRED)
find_library(LIBCSV_LIBRARY csv REQUIRED)
if(NOT TARGET ictcore_libcsv)
  add_library(ictcore_libcsv INTERFACE IMPORTED)
  target_include_directories(ictcore_libcsv INTERFACE ${LIBCSV_INCLUDE_DIR})
  target_link_libraries(ictcore_libcsv INTERFACE ${LIBCSV_LIBRARY})
endif()

# mimetic (MIME parsing of received e-mail) ships neither a pkg-config file nor a CMake config.
find_path(MIMETIC_INCLUDE_DIR mimetic/mimetic.h REQUIRED)
find_library(MIMETIC_LIBRARY mimetic REQUIRED)
if(NOT TARGET ictcore_mimetic)
  add_library(ictcore_mimetic INTERFACE IMPORTED)
  target_include_directories(ictcore_mimetic INTERFACE ${MIMETIC_INCLUDE_DIR})
  target_link_libraries(ictcore_mimetic INTERFACE ${MIMETIC_LIBRARY})
endif()
