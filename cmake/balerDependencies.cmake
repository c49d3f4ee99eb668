# Dependencies of the header-only target; shared by the build tree and the installed package
# config (balerConfig.cmake includes this file), so consumers resolve them the same way.
include(CMakeFindDependencyMacro)
include(GNUInstallDirs)
find_dependency(xtl)
find_dependency(xtensor)
find_dependency(xtensor-blas)
find_dependency(OpenBLAS CONFIG)
find_dependency(zstd)
find_dependency(ZLIB)
find_dependency(nlohmann_json)
find_dependency(Threads)

# OpenBLAS ships variables, not a target: wrap them once.
if(NOT TARGET baler_openblas)
  add_library(baler_openblas INTERFACE IMPORTED)
  set_target_properties(baler_openblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
endif()

# Debian's libzip config also demands the zipcmp/zipmerge/ziptool programs; find the library alone.
if(NOT TARGET baler_libzip)
  find_path(BALER_LIBZIP_INCLUDE_DIR zip.h REQUIRED)
  find_library(BALER_LIBZIP_LIBRARY zip REQUIRED)
  add_library(baler_libzip INTERFACE IMPORTED)
  set_target_properties(baler_libzip PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${BALER_LIBZIP_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${BALER_LIBZIP_LIBRARY}")
endif()
