include(CMakePackageConfigHelpers)
set(BALER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/baler)
install(TARGETS baler EXPORT balerTargets)
if(BALER_ENABLE_CUDA)
  install(TARGETS baler_cuda EXPORT balerTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(DIRECTORY include/baler DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT balerTargets NAMESPACE baler:: DESTINATION ${BALER_CMAKE_DIR})
configure_package_config_file(cmake/balerConfig.cmake.in
  ${PROJECT_BINARY_DIR}/balerConfig.cmake INSTALL_DESTINATION ${BALER_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/balerConfigVersion.cmake
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/balerConfig.cmake ${PROJECT_BINARY_DIR}/balerConfigVersion.cmake
  cmake/balerDependencies.cmake DESTINATION ${BALER_CMAKE_DIR})
