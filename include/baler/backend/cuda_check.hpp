#pragma once
// Every CUDA runtime and cuBLAS call, and every kernel launch, goes through one of these checks:
// a failure becomes a baler::error naming the call, the file and the line.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

#include "baler/core/error.hpp"

namespace baler::cuda_detail {

inline std::string where(const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line);
}

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess)
    throw error(where(file, line) + ": " + call + " failed: " + cudaGetErrorName(status) + " (" +
                cudaGetErrorString(status) + ")");
}

inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw error(where(file, line) + ": " + call + " failed: " + cublasGetStatusName(status) + " (" +
                cublasGetStatusString(status) + ")");
}

}  // namespace baler::cuda_detail

#define BALER_CUDA_CHECK(call) ::baler::cuda_detail::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: catches bad launch configurations at once (execution errors surface
// at the next synchronising call, which is checked too).
#define BALER_CUDA_CHECK_LAUNCH() \
  ::baler::cuda_detail::check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
