#pragma once
// The CUDA backend policy: device_matrix storage, cuBLAS for GEMM and the project's own kernels
// (cuda/*.cu, declared in cuda_kernels.hpp) for everything else. Its members have the names and
// meaning of the CPU backend's (cpu.hpp), so layers, losses, optimizers, the trainer and the
// codec compile unchanged with either.
//
// One `cuda` object is one context: it owns a stream and a cuBLAS handle (no globals), and all
// its work runs in order on that stream. The constructor makes options.device the calling
// thread's current device; with several GPUs, use a context only from threads whose current
// device is its own (cudaSetDevice). Host <-> device copies happen only in upload, download,
// resident_table, gather_rows (the batch's row indices) and the scalar results of losses and
// all_finite; transfers() counts them. Calls that return a value to the host (download, losses,
// all_finite) wait for the stream; everything else only enqueues.
//
// Link baler::cuda (built when BALER_ENABLE_CUDA is on; it defines BALER_HAS_CUDA).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "baler/backend/blas_int.hpp"
#include "baler/backend/cuda_check.hpp"
#include "baler/backend/cuda_kernels.hpp"
#include "baler/backend/device_matrix.hpp"
#include "baler/core/conv_geometry.hpp"
#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/format/half.hpp"

namespace baler {

// Whether this process can use a GPU, and if not, why (no driver, no device, ...).
struct cuda_availability {
  bool available = false;
  int devices = 0;
  std::string reason;  // empty when available
};

inline cuda_availability cuda_status() {
  cuda_availability a;
  const cudaError_t status = cudaGetDeviceCount(&a.devices);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear it: the failure is reported, not left for the next call
    a.devices = 0;
    a.reason = std::string("no usable CUDA driver or device (") + cudaGetErrorName(status) +
               ": " + cudaGetErrorString(status) + ")";
  } else if (a.devices == 0) {
    a.reason = "no CUDA device found";
  }
  a.available = a.reason.empty();
  return a;
}

struct cuda_options {
  int device = 0;
  // Let cuBLAS run float GEMMs on TF32 tensor cores (10-bit mantissa inputs, float sums).
  // Off by default: training and the conformance tests use full float precision.
  bool tf32 = false;
};

struct transfer_counts {
  std::size_t uploads = 0, downloads = 0;        // host -> device, device -> host copies
  std::size_t bytes_up = 0, bytes_down = 0;
};

class cuda {
public:
  static constexpr const char* name = "cuda";
  template <class T>
  using matrix = device_matrix<T>;

  explicit cuda(cuda_options o = {}) : options_(o) {
    const cuda_availability a = cuda_status();
    require(a.available, "cuda", a.reason);
    require(o.device >= 0 && o.device < a.devices, "cuda",
            "device " + std::to_string(o.device) + " requested, " + std::to_string(a.devices) +
                " present");
    BALER_CUDA_CHECK(cudaSetDevice(o.device));
    BALER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    try {
      BALER_CUDA_CHECK(cublasCreate(&blas_));
      BALER_CUDA_CHECK(cublasSetStream(blas_, stream_));
      BALER_CUDA_CHECK(cublasSetMathMode(
          blas_, o.tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    } catch (...) {
      if (blas_) cublasDestroy(blas_);
      cudaStreamDestroy(stream_);
      throw;
    }
  }
  cuda(const cuda&) = delete;  // layers and buffers refer to their context
  cuda& operator=(const cuda&) = delete;
  ~cuda() {
    cudaStreamSynchronize(stream_);
    cublasDestroy(blas_);
    cudaStreamDestroy(stream_);
  }

  cudaStream_t stream() const { return stream_; }
  const cuda_options& options() const { return options_; }
  const transfer_counts& transfers() const { return counts_; }
  std::string device_name() const {
    cudaDeviceProp p{};
    BALER_CUDA_CHECK(cudaGetDeviceProperties(&p, options_.device));
    return p.name;
  }
  // Waits until all enqueued work is done (benchmarks; results are waited for anyway).
  void synchronize() const { BALER_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  // ---- storage and transfers -------------------------------------------------------------
  template <class T>
  matrix<T> make(std::size_t rows, std::size_t cols) const {
    return matrix<T>(rows, cols);
  }
  template <class T>
  static matrix_view<T> view(matrix<T>& m) {
    return {m.data(), m.shape(0), m.shape(1)};
  }
  template <class T>
  static const_view<T> view(const matrix<T>& m) {
    return {m.data(), m.shape(0), m.shape(1)};
  }
  // From pageable host memory (a std::vector, say): the call returns once `host` has been
  // read, so it may change at once. Pinned memory would still be read after the return.
  template <class T>
  void upload(const T* host, matrix_view<T> dst) {
    copy_to_device(host, dst.data, dst.size() * sizeof(T));
  }
  template <class T>
  void download(const_view<T> src, T* host) {
    copy_to_host(src.data, host, src.size() * sizeof(T));
  }
  template <class T>
  void copy(const_view<T> src, matrix_view<T> dst) {
    require(src.size() == dst.size(), "cuda::copy", "sizes differ");
    if (src.size() > 0)
      BALER_CUDA_CHECK(cudaMemcpyAsync(dst.data, src.data, src.size() * sizeof(T),
                                       cudaMemcpyDeviceToDevice, stream_));
  }
  template <class T>
  void fill(matrix_view<T> m, T value) {
    cuda_kernels::fill(stream_, m.data, m.size(), value);
  }
  // The training table, copied to the device once per training run.
  template <class T>
  matrix<T> resident_table(const T* host, std::size_t rows, std::size_t cols) {
    matrix<T> table(rows, cols);
    upload(host, view(table));
    return table;
  }
  template <class T>
  void gather_rows(const matrix<T>& table, const std::size_t* index, matrix_view<T> dst) {
    require(table.shape(1) == dst.cols, "cuda::gather_rows", "table and batch widths differ");
    if (index_.size() < dst.rows) index_ = matrix<std::size_t>(1, dst.rows);
    copy_to_device(index, index_.data(), dst.rows * sizeof(std::size_t));
    cuda_kernels::gather_rows(stream_, table.data(), index_.data(), dst.data, dst.rows, dst.cols);
  }

  // ---- GEMM: c = alpha * op(a) * op(b) + beta * c, all row-major and contiguous -----------
  // cuBLAS is column-major, and a row-major matrix read as column-major is its transpose. So
  // the row-major product C = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T:
  // the operands swap places, each keeps its own transpose flag, and every leading dimension
  // is the row length of the row-major matrix.
  template <class T>
  void gemm(bool trans_a, bool trans_b, T alpha, const_view<T> a, const_view<T> b, T beta,
            matrix_view<T> c) {
    const std::size_t m = trans_a ? a.cols : a.rows, k = trans_a ? a.rows : a.cols;
    const std::size_t kb = trans_b ? b.cols : b.rows, n = trans_b ? b.rows : b.cols;
    require(k == kb && c.rows == m && c.cols == n, "cuda::gemm",
            "op(a) " + shape_string(m, k) + " times op(b) " + shape_string(kb, n) + " into c " +
                shape_string(c.rows, c.cols));
    if (m == 0 || n == 0) return;
    const auto ta = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, tb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int M = blas_int(m, "cuda::gemm"), N = blas_int(n, "cuda::gemm"), K = blas_int(k, "cuda::gemm");
    const int lda = blas_int(a.cols, "cuda::gemm"), ldb = blas_int(b.cols, "cuda::gemm");
    if (k == 0) {  // an empty sum, which cuBLAS's leading-dimension rules do not allow
      require(beta == T(0) || beta == T(1), "cuda::gemm", "k = 0 needs beta 0 or 1");
      if (beta == T(0)) fill(c, T(0));
      return;
    }
    if constexpr (std::is_same_v<T, float>)
      BALER_CUDA_CHECK(cublasSgemm(blas_, tb, ta, N, M, K, &alpha, b.data, ldb, a.data, lda,
                                   &beta, c.data, N));
    else
      BALER_CUDA_CHECK(cublasDgemm(blas_, tb, ta, N, M, K, &alpha, b.data, ldb, a.data, lda,
                                   &beta, c.data, N));
  }

  // ---- activations ------------------------------------------------------------------------
  template <class Act, class T>
  void bias_activation_forward(const Act& act, const T* bias, matrix_view<T> y) {
    cuda_kernels::bias_activation_forward(stream_, act, bias, y.data, y.rows, y.cols);
  }
  template <class Act, class T>
  void activation_forward(const Act& act, const_view<T> x, matrix_view<T> y) {
    require(x.size() == y.size(), "cuda::activation_forward", "sizes differ");
    cuda_kernels::activation_forward(stream_, act, x.data, y.data, x.size());
  }
  template <class Act, class T>
  void activation_backward(const Act& act, const_view<T> y, matrix_view<T> dy) {
    require(y.size() == dy.size(), "cuda::activation_backward", "sizes differ");
    cuda_kernels::activation_backward(stream_, act, y.data, dy.data, y.size());
  }
  template <class T>
  void column_sums(const_view<T> m, T* out) {
    cuda_kernels::column_sums(stream_, m.data, m.rows, m.cols, out, column_workspace(m));
  }

  // ---- losses: value and gradient in one kernel, sums in double ----------------------------
  template <class T>
  double mse(const_view<T> pred, const_view<T> target, matrix_view<T> grad, bool mean) {
    cuda_kernels::mse(stream_, pred.data, target.data, grad.data, pred.size(),
                      loss_scale(pred.size(), mean), sum_workspace(), result_slot());
    return result();
  }
  template <class T>
  double mae(const_view<T> pred, const_view<T> target, matrix_view<T> grad, bool mean) {
    cuda_kernels::mae(stream_, pred.data, target.data, grad.data, pred.size(),
                      loss_scale(pred.size(), mean), sum_workspace(), result_slot());
    return result();
  }
  template <class T>
  double l1_penalty(const_view<T> z, double weight, matrix_view<T> grad) {
    cuda_kernels::l1_penalty(stream_, z.data, grad.data, z.size(),
                             weight / static_cast<double>(z.size()), sum_workspace(), result_slot());
    return result();
  }
  template <class T>
  bool all_finite(const_view<T> m) {
    cuda_kernels::count_non_finite(stream_, m.data, m.size(), sum_workspace(), result_slot());
    return result() == 0.0;
  }

  // ---- optimizer updates over the flat parameter buffer (formulas: update_rules.hpp) -----
  template <class T>
  void sgd_step(T* p, const T* g, T* v, std::size_t n, double lr, double momentum, double l2,
                bool first) {
    cuda_kernels::sgd_step(stream_, p, g, v, n, sgd_coefficients<T>::make(lr, momentum, l2, first));
  }
  template <class T>
  void adam_step(T* p, const T* g, T* m, T* v, std::size_t n, double lr, double beta1,
                 double beta2, double eps, double l2, double decoupled, long step) {
    cuda_kernels::adam_step(stream_, p, g, m, v, n,
                            adam_coefficients<T>::make(lr, beta1, beta2, eps, l2, decoupled, step));
  }

  // ---- dropout: the mask comes from a counter-based hash seeded by one draw of `gen`, so a
  // seed fixes the masks (they differ from the CPU backend's, which draws per value) ---------
  template <class T>
  void dropout_forward(const_view<T> x, matrix_view<T> y, matrix_view<T> mask, double p,
                       rng& gen) {
    cuda_kernels::dropout_forward(stream_, x.data, y.data, mask.data, x.size(), p, gen.next());
  }
  template <class T>
  void multiply(const_view<T> a, matrix_view<T> b) {
    require(a.size() == b.size(), "cuda::multiply", "sizes differ");
    cuda_kernels::multiply(stream_, a.data, b.data, a.size());
  }

  // ---- batch normalisation (same contract as cpu.hpp) --------------------------------------
  template <class T>
  void batchnorm_forward_train(const_view<T> x, matrix_view<T> y, const T* gamma, const T* beta,
                               T* mean, T* invstd, T* running_mean, T* running_var,
                               double momentum, double eps) {
    cuda_kernels::batchnorm_forward_train(stream_, x.data, y.data, x.rows, x.cols, gamma, beta,
                                          mean, invstd, running_mean, running_var, momentum, eps,
                                          column_workspace(x));
  }
  template <class T>
  void batchnorm_forward_eval(const_view<T> x, matrix_view<T> y, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, double eps) {
    cuda_kernels::batchnorm_forward_eval(stream_, x.data, y.data, x.rows, x.cols, gamma, beta,
                                         running_mean, running_var, eps);
  }
  template <class T>
  void batchnorm_backward(const_view<T> x, const_view<T> dy, matrix_view<T> dx, const T* gamma,
                          const T* mean, const T* invstd, T* dgamma, T* dbeta) {
    cuda_kernels::batchnorm_backward(stream_, x.data, dy.data, dx.empty() ? nullptr : dx.data,
                                     x.rows, x.cols, gamma, mean, invstd, dgamma, dbeta,
                                     column_workspace(x));
  }

  // ---- convolution windows of one sample (same contract as cpu.hpp) -----------------------
  template <class T>
  void im2col(const_view<T> x, const conv_geometry& g, matrix_view<T> col) {
    require(x.size() == g.in_size(), "cuda::im2col", "input size differs from " + g.describe());
    require_shape(col, g.col_rows(), g.out_positions(), "cuda::im2col", "col");
    cuda_kernels::im2col(stream_, x.data, g, col.data);
  }
  template <class T>
  void col2im(const_view<T> col, const conv_geometry& g, matrix_view<T> x) {
    require(x.size() == g.in_size(), "cuda::col2im", "output size differs from " + g.describe());
    require_shape(col, g.col_rows(), g.out_positions(), "cuda::col2im", "col");
    cuda_kernels::col2im(stream_, col.data, g, x.data);
  }
  template <class T>
  void max_pool(const_view<T> x, const conv_geometry& g, matrix_view<T> y) {
    require(x.size() == g.in_size() && y.size() == g.channels * g.out_positions(),
            "cuda::max_pool", "sizes differ from " + g.describe());
    cuda_kernels::max_pool(stream_, x.data, g, y.data);
  }
  template <class T>
  void max_pool_backward(const_view<T> x, const_view<T> dy, const conv_geometry& g,
                         matrix_view<T> dx) {
    require(x.size() == g.in_size() && dx.size() == x.size() &&
                dy.size() == g.channels * g.out_positions(),
            "cuda::max_pool_backward", "sizes differ from " + g.describe());
    cuda_kernels::max_pool_backward(stream_, x.data, dy.data, g, dx.data);
  }

  // ---- latent quantisation: values <-> f16/bf16 bits, identical to half.hpp's ------------
  template <class T>
  void quantize_latent(const_view<T> z, half_format f, matrix_view<std::uint16_t> bits) {
    require(z.size() == bits.size(), "cuda::quantize_latent", "sizes differ");
    cuda_kernels::encode_half(stream_, z.data, bits.data, z.size(), f == half_format::bf16);
  }
  template <class T>
  void dequantize_latent(const_view<std::uint16_t> bits, half_format f, matrix_view<T> z) {
    require(z.size() == bits.size(), "cuda::dequantize_latent", "sizes differ");
    cuda_kernels::decode_half(stream_, bits.data, z.data, z.size(), f == half_format::bf16);
  }

private:
  void copy_to_device(const void* host, void* device, std::size_t bytes) {
    if (bytes == 0) return;
    BALER_CUDA_CHECK(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_));
    ++counts_.uploads;
    counts_.bytes_up += bytes;
  }
  void copy_to_host(const void* device, void* host, std::size_t bytes) {
    if (bytes == 0) return;
    BALER_CUDA_CHECK(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_));
    BALER_CUDA_CHECK(cudaStreamSynchronize(stream_));
    ++counts_.downloads;
    counts_.bytes_down += bytes;
  }
  static double loss_scale(std::size_t n, bool mean) {
    return mean ? 1.0 / static_cast<double>(n) : 1.0;
  }
  // Reduction scratch of at least `need` doubles, grown to the largest need seen.
  double* workspace(std::size_t need) {
    if (workspace_.size() < need) workspace_ = matrix<double>(1, need);
    return workspace_.data();
  }
  double* sum_workspace() { return workspace(cuda_kernels::sum_workspace); }
  template <class T>
  double* column_workspace(const_view<T> m) {
    return workspace(cuda_kernels::column_workspace(m.rows, m.cols));
  }
  double* result_slot() {
    if (result_.size() == 0) result_ = matrix<double>(1, 1);
    return result_.data();
  }
  double result() {
    double value = 0;
    copy_to_host(result_.data(), &value, sizeof value);
    return value;
  }

  cuda_options options_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  transfer_counts counts_;
  matrix<double> workspace_, result_;
  matrix<std::size_t> index_;
};

}  // namespace baler
