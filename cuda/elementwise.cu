// Element-wise kernels: fused bias + activation, activations and their derivatives, fill,
// multiply, the mini-batch gather and dropout.
#include "baler/core/rng.hpp"
#include "baler/nn/activations.hpp"
#include "kernel_support.cuh"

namespace baler::cuda_kernels {

template <class Act, class T>
void bias_activation_forward(cudaStream_t s, Act act, const T* bias, T* y, std::size_t rows,
                             std::size_t cols) {
  if (bias)
    for_each(s, rows * cols, [=] __device__(auto i) {
      y[i] = act.f(y[i] + bias[i % static_cast<decltype(i)>(cols)]);
    });
  else
    for_each(s, rows * cols, [=] __device__(auto i) { y[i] = act.f(y[i]); });
}

template <class Act, class T>
void activation_forward(cudaStream_t s, Act act, const T* x, T* y, std::size_t n) {
  for_each(s, n, [=] __device__(auto i) { y[i] = act.f(x[i]); });
}

template <class Act, class T>
void activation_backward(cudaStream_t s, Act act, const T* y, T* dy, std::size_t n) {
  for_each(s, n, [=] __device__(auto i) { dy[i] *= act.df(y[i]); });
}

template <class T>
void fill(cudaStream_t s, T* x, std::size_t n, T value) {
  for_each(s, n, [=] __device__(auto i) { x[i] = value; });
}

template <class T>
void multiply(cudaStream_t s, const T* a, T* b, std::size_t n) {
  for_each(s, n, [=] __device__(auto i) { b[i] *= a[i]; });
}

template <class T>
void gather_rows(cudaStream_t s, const T* table, const std::size_t* index, T* dst,
                 std::size_t rows, std::size_t cols) {
  for_each(s, rows * cols, [=] __device__(auto i) {
    const auto width = static_cast<decltype(i)>(cols);
    dst[i] = table[index[i / width] * cols + i % width];
  });
}

// Element i draws u = mix64(seed + golden * (i + 1)) / 2^64, the same value on every run and
// for every launch configuration; it is dropped when u < p.
template <class T>
void dropout_forward(cudaStream_t s, const T* x, T* y, T* mask, std::size_t n, double p,
                     std::uint64_t seed) {
  const T keep_scale = T(1.0 / (1.0 - p));
  for_each(s, n, [=] __device__(auto i) {
    const std::uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL * (std::uint64_t(i) + 1));
    const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
    const T m = u < p ? T(0) : keep_scale;
    mask[i] = m;
    y[i] = x[i] * m;
  });
}

#define BALER_ACTIVATION_KERNELS(Act, T)                                                       \
  template void bias_activation_forward<Act, T>(cudaStream_t, Act, const T*, T*, std::size_t,  \
                                                std::size_t);                                  \
  template void activation_forward<Act, T>(cudaStream_t, Act, const T*, T*, std::size_t);      \
  template void activation_backward<Act, T>(cudaStream_t, Act, const T*, T*, std::size_t);
#define BALER_ELEMENTWISE_KERNELS(T)                                                           \
  BALER_ACTIVATION_KERNELS(act::identity, T)                                                   \
  BALER_ACTIVATION_KERNELS(act::relu, T)                                                       \
  BALER_ACTIVATION_KERNELS(act::leaky_relu, T)                                                 \
  BALER_ACTIVATION_KERNELS(act::tanh, T)                                                       \
  BALER_ACTIVATION_KERNELS(act::sigmoid, T)                                                    \
  template void fill<T>(cudaStream_t, T*, std::size_t, T);                                     \
  template void multiply<T>(cudaStream_t, const T*, T*, std::size_t);                         \
  template void gather_rows<T>(cudaStream_t, const T*, const std::size_t*, T*, std::size_t,    \
                               std::size_t);                                                   \
  template void dropout_forward<T>(cudaStream_t, const T*, T*, T*, std::size_t, double,        \
                                   std::uint64_t);
BALER_ELEMENTWISE_KERNELS(float)
BALER_ELEMENTWISE_KERNELS(double)
template void fill<std::size_t>(cudaStream_t, std::size_t*, std::size_t, std::size_t);
template void fill<std::uint16_t>(cudaStream_t, std::uint16_t*, std::size_t, std::uint16_t);

}  // namespace baler::cuda_kernels
