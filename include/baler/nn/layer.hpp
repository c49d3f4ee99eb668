#pragma once
// What every layer provides (checked by Sequential at compile time through use):
//
//   using backend = B; using value_type = T;
//   std::size_t out_features(std::size_t in) const;  // throws if `in` does not fit the layer
//   std::size_t param_count() const;                 // trainable values in the flat buffer
//   std::size_t state_count() const;                 // saved, non-trained values (BN statistics)
//   void bind(T* params, T* grads, T* state);        // the layer's slices of the flat buffers
//   void init(rng&, T* params, T* state) const;      // initial values, written to HOST memory
//   void forward(B&, const_view<T> x, matrix_view<T> y, mode);            // x: (batch x in)
//   void backward(B&, const_view<T> x, const_view<T> y, matrix_view<T> dy, // dy is clobbered
//                 matrix_view<T> dx);                // dx empty: no input gradient wanted
//   std::string describe() const;
//
// Parameter gradients are overwritten, not accumulated: one backward per optimizer step.
#include <cstddef>

namespace baler {

enum class mode { train, eval };

// Grows a backend matrix to at least `rows` x `cols` and returns a view of exactly that size.
// Buffers only grow, so the short last batch of an epoch does not reallocate.
template <class B, class M>
auto rows_view(B& be, M& buffer, std::size_t rows, std::size_t cols) {
  using T = typename M::value_type;
  if (buffer.shape(0) < rows || buffer.shape(1) != cols) buffer = be.template make<T>(rows, cols);
  return B::view(buffer).rows_slice(0, rows);
}

}  // namespace baler
