// Reductions: column sums (bias gradients), the losses (value and gradient in one kernel) and
// the count of non-finite values. Sums run in double, deterministically (kernel_support.cuh).
#include "baler/nn/loss_terms.hpp"
#include "kernel_support.cuh"

namespace baler::cuda_kernels {

template <class T>
void column_sums(cudaStream_t s, const T* m, std::size_t rows, std::size_t cols, T* out,
                 double* workspace) {
  column_reduce<1>(
      s, rows, cols,
      [=] __device__(std::size_t r, std::size_t c) { return sums<1>{{double(m[r * cols + c])}}; },
      [=] __device__(std::size_t c, sums<1> total) { out[c] = T(total.v[0]); }, workspace);
}

template <class T>
void mse(cudaStream_t s, const T* pred, const T* target, T* grad, std::size_t n, double scale,
         double* workspace, double* result) {
  const T two_scale = T(2.0 * scale);
  sum_terms(
      s, n,
      [=] __device__(auto i) { return terms::squared_error(pred[i], target[i], two_scale, grad[i]); },
      scale, workspace, result);
}

template <class T>
void mae(cudaStream_t s, const T* pred, const T* target, T* grad, std::size_t n, double scale,
         double* workspace, double* result) {
  const T g = T(scale);
  sum_terms(
      s, n, [=] __device__(auto i) { return terms::absolute_error(pred[i], target[i], g, grad[i]); },
      scale, workspace, result);
}

template <class T>
void l1_penalty(cudaStream_t s, const T* z, T* grad, std::size_t n, double scale,
                double* workspace, double* result) {
  const T g = T(scale);
  sum_terms(
      s, n, [=] __device__(auto i) { return terms::absolute_value_add_grad(z[i], g, grad[i]); },
      scale, workspace, result);
}

template <class T>
void count_non_finite(cudaStream_t s, const T* x, std::size_t n, double* workspace,
                      double* result) {
  sum_terms(
      s, n, [=] __device__(auto i) { return isfinite(x[i]) ? 0.0 : 1.0; }, 1.0, workspace,
      result);
}

#define BALER_REDUCTION_KERNELS(T)                                                               \
  template void column_sums<T>(cudaStream_t, const T*, std::size_t, std::size_t, T*, double*);  \
  template void mse<T>(cudaStream_t, const T*, const T*, T*, std::size_t, double, double*,      \
                       double*);                                                                \
  template void mae<T>(cudaStream_t, const T*, const T*, T*, std::size_t, double, double*,      \
                       double*);                                                                \
  template void l1_penalty<T>(cudaStream_t, const T*, T*, std::size_t, double, double*,         \
                              double*);                                                         \
  template void count_non_finite<T>(cudaStream_t, const T*, std::size_t, double*, double*);
BALER_REDUCTION_KERNELS(float)
BALER_REDUCTION_KERNELS(double)

}  // namespace baler::cuda_kernels
