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

# Debian's libzip config also demands the zipcmp/zipmerge/ziptool programs; find the library alone.
if(NOT TARGET baler_libzip)
  find_path(BALER_LIBZIP_INCLUDE_DIR zip.h ${_baler_required})
  find_library(BALER_LIBZIP_LIBRARY zip ${_baler_required})
  if(NOT BALER_LIBZIP_INCLUDE_DIR OR NOT BALER_LIBZIP_LIBRARY)
    set(baler_NOT_FOUND_MESSAGE "baler could not be found because libzip (zip.h, libzip) could not be found.")
    set(baler_FOUND FALSE)
    return()
  endif()
  add_library(baler_libzip INTERFACE IMPORTED)
  set_target_properties(baler_libzip PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${BALER_LIBZIP_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${BALER_LIBZIP_LIBRARY}")
endif()

unset(_baler_required)
