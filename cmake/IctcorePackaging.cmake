# Installs the library, headers, server and a CMake package so find_package(ictcore) works.
include(CMakePackageConfigHelpers)

install(TARGETS ictcore EXPORT ictcoreTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/ictcore DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/generated/ictcore/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ictcore)

set(ICTCORE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ictcore)
install(EXPORT ictcoreTargets NAMESPACE ictcore:: DESTINATION ${ICTCORE_CMAKE_DIR})
configure_package_config_file(cmake/ictcoreConfig.cmake.in ${PROJECT_BINARY_DIR}/ictcoreConfig.cmake
                              INSTALL_DESTINATION ${ICTCORE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ictcoreConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ictcoreConfig.cmake ${PROJECT_BINARY_DIR}/ictcoreConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/IctcoreDependencies.cmake
        DESTINATION ${ICTCORE_CMAKE_DIR})
