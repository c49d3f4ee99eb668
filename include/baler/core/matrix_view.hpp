#pragma once
// A non-owning view of a dense row-major matrix living in a backend's memory (host memory for
// the CPU backend, device memory for CUDA). Layers and backends exchange these, so layer code
// never knows where the numbers are.
#include <cstddef>
#include <string>
#include <type_traits>

#include "baler/core/error.hpp"

namespace baler {

template <class T>
struct matrix_view {
  T* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  std::size_t size() const { return rows * cols; }
  bool empty() const { return data == nullptr || size() == 0; }
  T* row(std::size_t r) const { return data + r * cols; }

  // A view of mutable data converts to a view of const data, never the reverse.
  operator matrix_view<const T>() const { return {data, rows, cols}; }

  // Rows [first, first + count): a contiguous block, since storage is row-major.
  matrix_view rows_slice(std::size_t first, std::size_t count) const {
    require(first + count <= rows, "matrix_view::rows_slice", "rows out of range");
    return {data + first * cols, count, cols};
  }
};

template <class T>
using const_view = matrix_view<const T>;

// A parameter of type in_view<T> does not take part in deducing T, so a matrix_view<T>
// argument converts to it implicitly (C++17 has no std::type_identity).
template <class T>
struct nondeduced {
  using type = T;
};
template <class T>
using in_view = typename nondeduced<const_view<T>>::type;

inline std::string shape_string(std::size_t rows, std::size_t cols) {
  return "(" + std::to_string(rows) + " x " + std::to_string(cols) + ")";
}

// Throws "where(): what has shape (r x c), expected (R x C)" on mismatch.
template <class T>
void require_shape(const matrix_view<T>& m, std::size_t rows, std::size_t cols, const char* where,
                   const char* what) {
  if (m.rows != rows || m.cols != cols)
    throw error(std::string(where) + "(): " + what + " has shape " + shape_string(m.rows, m.cols) +
                ", expected " + shape_string(rows, cols));
}

}  // namespace baler
