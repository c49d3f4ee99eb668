#pragma once
// Data-parallel training across processes, with no communication library in baler: the caller
// gives an element-wise sum over all ranks (MPI_Allreduce with MPI_SUM, NCCL, or threads in a
// test; see include/baler/mpi/ for the MPI one). Every rank holds the same training rows and
// draws the same shuffled global batches (same seed); rank k computes the gradient of its
// slice of each global batch, weighted by its share of the rows, and the sum over the ranks is
// then the gradient of the whole global batch. So N ranks train the model one process trains,
// up to the order of floating-point summation (partials are summed in double).
//
// Limits: layers that use batch statistics (BatchNorm1d) or random masks (Dropout) see only the
// rank's slice; the default Baler autoencoder has neither.
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "baler/core/matrix_view.hpp"

namespace baler {

struct data_parallel {
  std::size_t rank = 0, ranks = 1;
  // In place, on every rank: values[i] = sum over ranks of values[i].
  std::function<void(double* values, std::size_t n)> sum;

  bool enabled() const { return ranks > 1; }
  // This rank's rows [first, last) of a global batch of n rows.
  std::pair<std::size_t, std::size_t> share(std::size_t n) const { return {n * rank / ranks, n * (rank + 1) / ranks}; }
};

// Replaces this rank's gradients (of the mean loss over its `mine` rows; ignored when mine is
// 0) by the gradient of the mean over the global batch of n rows, and returns the global
// batch's loss from this rank's `value`.
template <class B, class T>
double average_gradients(B& be, matrix_view<T> grads, std::size_t count, const data_parallel& p,
                         std::size_t mine, std::size_t n, double value) {
  std::vector<T> g(count, T(0));
  if (mine > 0) be.download(const_view<T>(grads), g.data());
  const double weight = double(mine) / double(n);
  std::vector<double> sum(count + 1);
  for (std::size_t i = 0; i < count; ++i) sum[i] = weight * double(g[i]);
  sum[count] = mine > 0 ? weight * value : 0.0;
  p.sum(sum.data(), sum.size());
  for (std::size_t i = 0; i < count; ++i) g[i] = static_cast<T>(sum[i]);
  be.upload(g.data(), grads);
  return sum[count];
}

}  // namespace baler
