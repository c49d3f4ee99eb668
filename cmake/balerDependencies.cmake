# Dependencies of the header-only target; shared by the build tree and the installed package
# config (balerConfig.cmake includes this file), so consumers resolve them the same way.
include(CMakeFindDependencyMacro)
include(GNUInstallDirs)

# Inside balerConfig.cmake, find_dependency follows the consumer's find_package(baler ...): a
# missing dependency marks baler not found and returns. In the build tree (baler at the top
# level or added with add_subdirectory) there is no enclosing find_package, so that return()
# would only leave this file and the configure would fail later with unrelated "target not
# found" errors; there, every dependency is required and a missing one is named at once.
if(CMAKE_FIND_PACKAGE_NAME STREQUAL "baler")
  set(_baler_required)
else()
  set(_baler_required REQUIRED)
endif()
find_dependency(xtl ${_baler_required})
find_dependency(xtensor ${_baler_required})
find_dependency(xtensor-blas ${_baler_required})
find_dependency(OpenBLAS CONFIG ${_baler_required})
find_dependency(zstd ${_baler_required})
find_dependency(ZLIB ${_baler_required})
find_dependency(nlohmann_json ${_baler_required})
find_dependency(Threads ${_baler_required})

# OpenBLAS ships variables, not a target: wrap them once.
if(NOT TARGET baler_openblas)
  add_library(baler_openblas INTERFACE IMPORTED)
  set_target_properties(baler_openblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
endif()

unset(_baler_required)
