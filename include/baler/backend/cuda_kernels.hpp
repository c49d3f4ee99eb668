#pragma once
// The launchers of the project's CUDA kernels (compiled in cuda/*.cu into baler::cuda). Each
// enqueues work on `stream` and returns at once; pointers are device memory unless a comment
// says otherwise; shapes are row-major (rows x cols). Templates are instantiated for float and
// double, and the activation templates for the five functors of activations.hpp.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "baler/core/conv_geometry.hpp"
#include "baler/optim/update_rules.hpp"

namespace baler::cuda_kernels {

// Reductions are deterministic: a number of blocks (or row chunks) fixed by the size each write
// a partial sum in double, and one final kernel adds the partials in a fixed order.
inline constexpr std::size_t reduce_blocks = 512;   // at most, for a sum over all elements
inline constexpr std::size_t column_chunks = 128;   // at most, for sums over rows
inline constexpr std::size_t column_tile_rows = 8;  // rows a column-reduction block reads at once

// The row chunks of a column reduction over `rows` rows: at least tile_rows rows each.
inline std::size_t column_chunk_count(std::size_t rows) {
  const std::size_t tiles = (rows + column_tile_rows - 1) / column_tile_rows;
  return std::clamp<std::size_t>(tiles, 1, column_chunks);
}
// Workspace doubles: a sum over all elements (losses, counts) needs sum_workspace; a reduction
// over the rows of (rows x cols) needs column_workspace (two sums per column and, after them, two
// per-column results that batch norm keeps).
inline constexpr std::size_t sum_workspace = reduce_blocks;
inline std::size_t column_workspace(std::size_t rows, std::size_t cols) {
  return 2 * column_chunk_count(rows) * cols + 2 * cols;
}

// ---- element-wise -------------------------------------------------------------------------
template <class Act, class T>  // y = f(y + bias), bias (cols) broadcast over rows; may be null
void bias_activation_forward(cudaStream_t, Act, const T* bias, T* y, std::size_t rows,
                             std::size_t cols);
template <class Act, class T>  // y = f(x), n values
void activation_forward(cudaStream_t, Act, const T* x, T* y, std::size_t n);
template <class Act, class T>  // dy *= f'(y), the derivative read from the output
void activation_backward(cudaStream_t, Act, const T* y, T* dy, std::size_t n);
template <class T>
void fill(cudaStream_t, T* x, std::size_t n, T value);
template <class T>  // b *= a
void multiply(cudaStream_t, const T* a, T* b, std::size_t n);
template <class T>  // dst row i = table row index[i]; index is device memory
void gather_rows(cudaStream_t, const T* table, const std::size_t* index, T* dst, std::size_t rows,
                 std::size_t cols);
template <class T>  // mask = 0 with probability p, else 1/(1-p), from a hash of (seed, i); y = x * mask
void dropout_forward(cudaStream_t, const T* x, T* y, T* mask, std::size_t n, double p,
                     std::uint64_t seed);

// ---- reductions (workspace: column_workspace(rows, cols) or sum_workspace doubles) --------
template <class T>  // out (cols) = sums over the rows of m
void column_sums(cudaStream_t, const T* m, std::size_t rows, std::size_t cols, T* out,
                 double* workspace);
// Losses write d(loss)/d(pred) into grad and scale * (sum of the terms) into *result (device).
template <class T>
void mse(cudaStream_t, const T* pred, const T* target, T* grad, std::size_t n, double scale,
         double* workspace, double* result);
template <class T>
void mae(cudaStream_t, const T* pred, const T* target, T* grad, std::size_t n, double scale,
         double* workspace, double* result);
template <class T>  // grad += scale * sign(z); *result = scale * sum |z|
void l1_penalty(cudaStream_t, const T* z, T* grad, std::size_t n, double scale, double* workspace,
                double* result);
template <class T>  // *result = the number of NaN and Inf values
void count_non_finite(cudaStream_t, const T* x, std::size_t n, double* workspace, double* result);

// ---- optimizers over the flat parameter buffer (formulas: optim/update_rules.hpp) ---------
template <class T>
void sgd_step(cudaStream_t, T* p, const T* g, T* v, std::size_t n, sgd_coefficients<T> c);
template <class T>
void adam_step(cudaStream_t, T* p, const T* g, T* m, T* v, std::size_t n, adam_coefficients<T> c);

// ---- batch normalisation over the rows of x (rows x cols) ----------------------------------
template <class T>
void batchnorm_forward_train(cudaStream_t, const T* x, T* y, std::size_t rows, std::size_t cols,
                             const T* gamma, const T* beta, T* mean, T* invstd, T* running_mean,
                             T* running_var, double momentum, double eps, double* workspace);
template <class T>
void batchnorm_forward_eval(cudaStream_t, const T* x, T* y, std::size_t rows, std::size_t cols,
                            const T* gamma, const T* beta, const T* running_mean,
                            const T* running_var, double eps);
template <class T>  // dx may be null
void batchnorm_backward(cudaStream_t, const T* x, const T* dy, T* dx, std::size_t rows,
                        std::size_t cols, const T* gamma, const T* mean, const T* invstd,
                        T* dgamma, T* dbeta, double* workspace);

// ---- convolution windows of one sample (formulas: core/conv_geometry.hpp) ----------------
template <class T>  // x (C*D*H*W) -> col (C*K x P)
void im2col(cudaStream_t, const T* x, conv_geometry g, T* col);
template <class T>  // col (C*K x P) -> x (C*D*H*W), the adjoint; overwrites x
void col2im(cudaStream_t, const T* col, conv_geometry g, T* x);
template <class T>  // x (C*D*H*W) -> y (C*P), each window's maximum
void max_pool(cudaStream_t, const T* x, conv_geometry g, T* y);
template <class T>  // dy (C*P) -> dx (C*D*H*W), overwritten
void max_pool_backward(cudaStream_t, const T* x, const T* dy, conv_geometry g, T* dx);

// ---- latent quantisation: float -> f16/bf16 bits (round to nearest even) and back ---------
template <class T>  // x is rounded to float first, as the CPU path does
void encode_half(cudaStream_t, const T* x, std::uint16_t* bits, std::size_t n, bool bf16);
template <class T>
void decode_half(cudaStream_t, const std::uint16_t* bits, T* x, std::size_t n, bool bf16);

}  // namespace baler::cuda_kernels
