// Batch normalisation over the rows of x (rows x cols), as cpu.hpp computes it: statistics in
// double (mean first, then the centred sum of squares), per-element formulas from loss_terms.hpp.
#include <cmath>

#include "baler/nn/loss_terms.hpp"
#include "kernel_support.cuh"

namespace baler::cuda_kernels {

// The workspace holds the column reductions' partial sums first and then two per-column
// doubles of results that the following kernels read (column_workspace).
inline double* column_results(double* workspace, std::size_t rows, std::size_t cols) {
  return workspace + 2 * column_chunk_count(rows) * cols;
}

template <class T>
void batchnorm_forward_train(cudaStream_t s, const T* x, T* y, std::size_t rows,
                             std::size_t cols, const T* gamma, const T* beta, T* mean, T* invstd,
                             T* running_mean, T* running_var, double momentum, double eps,
                             double* workspace) {
  double* batch_mean = column_results(workspace, rows, cols);
  const double n = double(rows);
  column_reduce<1>(
      s, rows, cols,
      [=] __device__(std::size_t r, std::size_t c) { return sums<1>{{double(x[r * cols + c])}}; },
      [=] __device__(std::size_t c, sums<1> total) { batch_mean[c] = total.v[0] / n; },
      workspace);
  column_reduce<1>(
      s, rows, cols,
      [=] __device__(std::size_t r, std::size_t c) {
        const double d = double(x[r * cols + c]) - batch_mean[c];
        return sums<1>{{d * d}};
      },
      [=] __device__(std::size_t c, sums<1> total) {
        const double var = total.v[0] / n;
        const double unbiased = n > 1 ? total.v[0] / (n - 1) : var;
        mean[c] = T(batch_mean[c]);
        invstd[c] = T(1.0 / sqrt(var + eps));
        running_mean[c] = T((1 - momentum) * double(running_mean[c]) + momentum * batch_mean[c]);
        running_var[c] = T((1 - momentum) * double(running_var[c]) + momentum * unbiased);
      },
      workspace);
  for_each(s, rows * cols, [=] __device__(auto i) {
    const auto c = i % static_cast<decltype(i)>(cols);
    y[i] = terms::batchnorm_apply(x[i], mean[c], invstd[c], gamma[c], beta[c]);
  });
}

template <class T>
void batchnorm_forward_eval(cudaStream_t s, const T* x, T* y, std::size_t rows, std::size_t cols,
                            const T* gamma, const T* beta, const T* running_mean,
                            const T* running_var, double eps) {
  for_each(s, rows * cols, [=] __device__(auto i) {
    const auto c = i % static_cast<decltype(i)>(cols);
    const T invstd = T(1.0 / sqrt(double(running_var[c]) + eps));
    y[i] = terms::batchnorm_apply(x[i], running_mean[c], invstd, gamma[c], beta[c]);
  });
}

template <class T>
void batchnorm_backward(cudaStream_t s, const T* x, const T* dy, T* dx, std::size_t rows,
                        std::size_t cols, const T* gamma, const T* mean, const T* invstd,
                        T* dgamma, T* dbeta, double* workspace) {
  double* sum_dy = column_results(workspace, rows, cols);
  double* sum_dy_xhat = sum_dy + cols;
  column_reduce<2>(
      s, rows, cols,
      [=] __device__(std::size_t r, std::size_t c) {
        const std::size_t i = r * cols + c;
        const double xhat = (double(x[i]) - double(mean[c])) * double(invstd[c]);
        return sums<2>{{double(dy[i]), double(dy[i]) * xhat}};
      },
      [=] __device__(std::size_t c, sums<2> total) {
        sum_dy[c] = total.v[0];
        sum_dy_xhat[c] = total.v[1];
        dbeta[c] = T(total.v[0]);
        dgamma[c] = T(total.v[1]);
      },
      workspace);
  if (!dx) return;
  const double n = double(rows);
  for_each(s, rows * cols, [=] __device__(auto i) {
    const auto c = i % static_cast<decltype(i)>(cols);
    const double xhat = (double(x[i]) - double(mean[c])) * double(invstd[c]);
    dx[i] = T(terms::batchnorm_input_grad(double(dy[i]), xhat, double(gamma[c]),
                                          double(invstd[c]), n, sum_dy[c], sum_dy_xhat[c]));
  });
}

#define BALER_BATCHNORM_KERNELS(T)                                                             \
  template void batchnorm_forward_train<T>(cudaStream_t, const T*, T*, std::size_t,            \
                                           std::size_t, const T*, const T*, T*, T*, T*, T*,    \
                                           double, double, double*);                           \
  template void batchnorm_forward_eval<T>(cudaStream_t, const T*, T*, std::size_t,             \
                                          std::size_t, const T*, const T*, const T*, const T*, \
                                          double);                                             \
  template void batchnorm_backward<T>(cudaStream_t, const T*, const T*, T*, std::size_t,       \
                                      std::size_t, const T*, const T*, const T*, T*, T*,       \
                                      double*);
BALER_BATCHNORM_KERNELS(float)
BALER_BATCHNORM_KERNELS(double)

}  // namespace baler::cuda_kernels
