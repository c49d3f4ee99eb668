#pragma once
// What the kernels share: grid-stride element loops and deterministic reductions in double.
// Everything here is in an unnamed namespace, so each .cu file gets its own copy.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "baler/backend/cuda_check.hpp"
#include "baler/backend/cuda_kernels.hpp"

namespace baler::cuda_kernels {
namespace {

constexpr unsigned block_threads = 256;
constexpr std::size_t max_blocks = 8192;  // grid-stride loops cover the rest
constexpr std::size_t max_int32_index = 0x7FFFFFFF;

unsigned blocks_for(std::size_t n, std::size_t cap = max_blocks) {
  return static_cast<unsigned>(
      std::clamp<std::size_t>((n + block_threads - 1) / block_threads, 1, cap));
}

template <class Index, class F>
__global__ void for_each_kernel(F f, Index n) {
  const Index stride = Index(blockDim.x) * gridDim.x;
  for (Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

// f(i) for every i in [0, n). The index is 32-bit when n allows it: kernels divide it by a
// column count, and 64-bit division is several times slower on a GPU.
template <class F>
void for_each(cudaStream_t s, std::size_t n, F f) {
  if (n == 0) return;
  if (n <= max_int32_index)
    for_each_kernel<<<blocks_for(n), block_threads, 0, s>>>(f, static_cast<std::uint32_t>(n));
  else
    for_each_kernel<<<blocks_for(n), block_threads, 0, s>>>(f, n);
  BALER_CUDA_CHECK_LAUNCH();
}

__device__ double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xFFFFFFFFu, v, offset);
  return v;
}

// The sum of v over a block of block_threads threads, valid in thread 0. Once per kernel.
__device__ double block_sum(double v) {
  __shared__ double warp_sums[block_threads / 32];
  v = warp_sum(v);
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  v = threadIdx.x < block_threads / 32 ? warp_sums[threadIdx.x] : 0.0;
  return warp == 0 ? warp_sum(v) : 0.0;
}

template <class Index, class Term>
__global__ void partial_sums_kernel(Term term, Index n, double* partials) {
  const Index stride = Index(blockDim.x) * gridDim.x;
  double v = 0;
  for (Index i = Index(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) v += term(i);
  v = block_sum(v);
  if (threadIdx.x == 0) partials[blockIdx.x] = v;
}

__global__ void finish_sum_kernel(const double* partials, unsigned count, double scale,
                                  double* result) {
  double v = 0;
  for (unsigned i = threadIdx.x; i < count; i += blockDim.x) v += partials[i];
  v = block_sum(v);
  if (threadIdx.x == 0) *result = v * scale;
}

// *result = scale * (term(0) + ... + term(n-1)), summed in double. The partition into blocks
// depends on n only, so the result is the same on every run. workspace: sum_workspace doubles.
template <class Term>
void sum_terms(cudaStream_t s, std::size_t n, Term term, double scale, double* workspace,
               double* result) {
  const unsigned blocks = blocks_for(n, reduce_blocks);
  if (n <= max_int32_index)
    partial_sums_kernel<<<blocks, block_threads, 0, s>>>(term, static_cast<std::uint32_t>(n),
                                                         workspace);
  else
    partial_sums_kernel<<<blocks, block_threads, 0, s>>>(term, n, workspace);
  BALER_CUDA_CHECK_LAUNCH();
  finish_sum_kernel<<<1, block_threads, 0, s>>>(workspace, blocks, scale, result);
  BALER_CUDA_CHECK_LAUNCH();
}

// K sums per cell, for reductions over the rows of a matrix.
template <int K>
struct sums {
  double v[K];
};

constexpr unsigned tile_cols = 32, tile_rows = column_tile_rows;

// partials[(chunk * K + k) * cols + c] = sum over the rows r of `chunk` of term(r, c).v[k].
// Block (32 x 8): threads along x read 32 neighbouring columns of a row (coalesced), threads
// along y take every 8th row of the chunk; the 8 partial sums are added in shared memory.
template <int K, class Term>
__global__ void column_partials_kernel(Term term, std::size_t rows, std::size_t cols,
                                       std::size_t rows_per_chunk, double* partials) {
  const std::size_t c = std::size_t(blockIdx.x) * tile_cols + threadIdx.x;
  const std::size_t first = std::size_t(blockIdx.y) * rows_per_chunk;
  const std::size_t last = first + rows_per_chunk < rows ? first + rows_per_chunk : rows;
  double acc[K] = {};
  if (c < cols)
    for (std::size_t r = first + threadIdx.y; r < last; r += tile_rows) {
      const sums<K> t = term(r, c);
      for (int k = 0; k < K; ++k) acc[k] += t.v[k];
    }
  __shared__ double tile[K][tile_rows][tile_cols + 1];
  for (int k = 0; k < K; ++k) tile[k][threadIdx.y][threadIdx.x] = acc[k];
  __syncthreads();
  if (threadIdx.y == 0 && c < cols)
    for (int k = 0; k < K; ++k) {
      double total = 0;
      for (unsigned y = 0; y < tile_rows; ++y) total += tile[k][y][threadIdx.x];
      partials[(std::size_t(blockIdx.y) * K + k) * cols + c] = total;
    }
}

template <int K, class Done>
__global__ void column_finish_kernel(Done done, const double* partials, std::size_t cols,
                                     unsigned chunks) {
  const std::size_t stride = std::size_t(blockDim.x) * gridDim.x;
  for (std::size_t c = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; c < cols; c += stride) {
    sums<K> total = {};
    for (unsigned chunk = 0; chunk < chunks; ++chunk)
      for (int k = 0; k < K; ++k) total.v[k] += partials[(std::size_t(chunk) * K + k) * cols + c];
    done(c, total);
  }
}

// done(c, sums) with sums.v[k] = sum over all rows r of term(r, c).v[k], for every column c.
// Deterministic: the rows are cut into column_chunk_count(rows) chunks or fewer, and the chunk
// sums are added in order. workspace: K * column_chunk_count(rows) * cols doubles (K <= 2).
template <int K, class Term, class Done>
void column_reduce(cudaStream_t s, std::size_t rows, std::size_t cols, Term term, Done done,
                   double* workspace) {
  static_assert(K >= 1 && K <= 2, "column_workspace() provides for two sums per column");
  if (cols == 0) return;
  const std::size_t wanted = column_chunk_count(rows);
  const std::size_t rows_per_chunk = std::max<std::size_t>((rows + wanted - 1) / wanted, 1);
  const auto chunks =
      static_cast<unsigned>(std::max<std::size_t>((rows + rows_per_chunk - 1) / rows_per_chunk, 1));
  const dim3 grid(static_cast<unsigned>((cols + tile_cols - 1) / tile_cols), chunks);
  column_partials_kernel<K><<<grid, dim3(tile_cols, tile_rows), 0, s>>>(term, rows, cols,
                                                                        rows_per_chunk, workspace);
  BALER_CUDA_CHECK_LAUNCH();
  column_finish_kernel<K><<<blocks_for(cols), block_threads, 0, s>>>(done, workspace, cols, chunks);
  BALER_CUDA_CHECK_LAUNCH();
}

}  // namespace
}  // namespace baler::cuda_kernels
