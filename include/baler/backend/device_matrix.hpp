#pragma once
// An owning (rows x cols) row-major matrix in GPU memory: the CUDA backend's storage type.
// Move-only; freed in the destructor. It offers the members layers use on the CPU backend's
// xtensor matrices: shape(i), size(), data(), value_type.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <limits>
#include <utility>

#include "baler/backend/cuda_check.hpp"
#include "baler/core/matrix_view.hpp"

namespace baler {

template <class T>
class device_matrix {
public:
  using value_type = T;

  device_matrix() = default;
  device_matrix(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols) {
    require(cols == 0 || rows <= std::numeric_limits<std::size_t>::max() / sizeof(T) / cols,
            "device_matrix", "a " + shape_string(rows, cols) + " matrix does not fit in memory");
    if (rows * cols == 0) return;
    void* memory = nullptr;
    BALER_CUDA_CHECK(cudaMalloc(&memory, rows * cols * sizeof(T)));
    data_ = static_cast<T*>(memory);
  }
  device_matrix(device_matrix&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        rows_(std::exchange(o.rows_, 0)),
        cols_(std::exchange(o.cols_, 0)) {}
  device_matrix& operator=(device_matrix&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      rows_ = std::exchange(o.rows_, 0);
      cols_ = std::exchange(o.cols_, 0);
    }
    return *this;
  }
  device_matrix(const device_matrix&) = delete;
  device_matrix& operator=(const device_matrix&) = delete;
  ~device_matrix() { release(); }

  std::size_t shape(std::size_t axis) const { return axis == 0 ? rows_ : cols_; }
  std::size_t size() const { return rows_ * cols_; }
  T* data() { return data_; }
  const T* data() const { return data_; }

private:
  // cudaFree waits for the device to finish with the memory; its status is dropped because a
  // destructor must not throw (a failed free leaves only a leak).
  void release() noexcept {
    if (data_) cudaFree(data_);
    data_ = nullptr;
  }

  T* data_ = nullptr;
  std::size_t rows_ = 0, cols_ = 0;
};

}  // namespace baler
