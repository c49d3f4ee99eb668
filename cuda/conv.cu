// Convolution windows of one sample: im2col and its adjoint col2im, max pooling and its
// gradient, one thread per output value, with the index formulas of core/conv_geometry.hpp
// that the CPU backend also uses. col2im and the pooling gradient gather (no atomics), so they
// add in the CPU's order and are deterministic.
#include "baler/core/conv_geometry.hpp"
#include "kernel_support.cuh"

namespace baler::cuda_kernels {

template <class T>
void im2col(cudaStream_t s, const T* x, conv_geometry g, T* col) {
  for_each(s, g.col_rows() * g.out_positions(), [=] __device__(auto i) {
    const long long src = g.im2col_source(i);
    col[i] = src < 0 ? T(0) : x[src];
  });
}

template <class T>
void col2im(cudaStream_t s, const T* col, conv_geometry g, T* x) {
  for_each(s, g.in_size(), [=] __device__(auto j) { x[j] = g.col2im_value(col, j); });
}

template <class T>
void max_pool(cudaStream_t s, const T* x, conv_geometry g, T* y) {
  for_each(s, g.channels * g.out_positions(),
           [=] __device__(auto i) { y[i] = x[g.window_argmax(x, i)]; });
}

template <class T>
void max_pool_backward(cudaStream_t s, const T* x, const T* dy, conv_geometry g, T* dx) {
  for_each(s, g.in_size(), [=] __device__(auto j) { dx[j] = g.max_pool_gradient(x, dy, j); });
}

template void im2col<float>(cudaStream_t, const float*, conv_geometry, float*);
template void im2col<double>(cudaStream_t, const double*, conv_geometry, double*);
template void col2im<float>(cudaStream_t, const float*, conv_geometry, float*);
template void col2im<double>(cudaStream_t, const double*, conv_geometry, double*);
template void max_pool<float>(cudaStream_t, const float*, conv_geometry, float*);
template void max_pool<double>(cudaStream_t, const double*, conv_geometry, double*);
template void max_pool_backward<float>(cudaStream_t, const float*, const float*, conv_geometry,
                                       float*);
template void max_pool_backward<double>(cudaStream_t, const double*, const double*, conv_geometry,
                                        double*);

}  // namespace baler::cuda_kernels
