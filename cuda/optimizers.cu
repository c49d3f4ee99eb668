// Optimizer updates: one thread per parameter of the flat buffer, applying the same formulas
// as the CPU backend (optim/update_rules.hpp).
#include "kernel_support.cuh"

namespace baler::cuda_kernels {

template <class T>
void sgd_step(cudaStream_t s, T* p, const T* g, T* v, std::size_t n, sgd_coefficients<T> c) {
  for_each(s, n, [=] __device__(auto i) { sgd_update(p[i], g[i], v[i], c); });
}

template <class T>
void adam_step(cudaStream_t s, T* p, const T* g, T* m, T* v, std::size_t n,
               adam_coefficients<T> c) {
  for_each(s, n, [=] __device__(auto i) { adam_update(p[i], g[i], m[i], v[i], c); });
}

#define BALER_OPTIMIZER_KERNELS(T)                                                             \
  template void sgd_step<T>(cudaStream_t, T*, const T*, T*, std::size_t, sgd_coefficients<T>); \
  template void adam_step<T>(cudaStream_t, T*, const T*, T*, T*, std::size_t,                 \
                             adam_coefficients<T>);
BALER_OPTIMIZER_KERNELS(float)
BALER_OPTIMIZER_KERNELS(double)

}  // namespace baler::cuda_kernels
