#pragma once
// The CPU backend policy: xtensor containers for storage, OpenBLAS (cblas) for GEMM, and plain
// loops over contiguous rows for everything else (g++ vectorises them at -O2/-O3).
//
// A backend is a type with one instance per thread of work (it would own streams and handles
// on a GPU). Layers, losses and optimizers call only the member functions below; a second
// backend (CUDA) provides the same members with the same meaning.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <xtensor/xtensor.hpp>

#include "baler/backend/blas_int.hpp"
#include "baler/core/conv_geometry.hpp"
#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/format/half.hpp"
#include "baler/nn/activations.hpp"
#include "baler/nn/loss_terms.hpp"
#include "baler/optim/update_rules.hpp"

// OpenBLAS's threaded build, where present: stops its worker threads (it starts them again at
// the next threaded BLAS call, as it does after a fork).
extern "C" int blas_thread_shutdown_() __attribute__((weak));

namespace baler {

// OpenBLAS starts its worker threads when it loads, and each spins on sched_yield for about
// 0.1 s waiting for work: for a run that uses no BLAS (decompressing a bounded file) that was
// 40 % of the CPU time, and on a busy machine it takes a core from the work. A program calls
// this at its start; the threads come back at the first BLAS call that wants them.
inline void park_blas_threads() {
  if (blas_thread_shutdown_) blas_thread_shutdown_();
}

class cpu {
public:
  static constexpr const char* name = "cpu";
  template <class T>
  using matrix = xt::xtensor<T, 2>;

  // threads > 0 fixes OpenBLAS's thread count (needed for bitwise reproducibility across runs);
  // 0 keeps what OPENBLAS_NUM_THREADS or the library default says.
  explicit cpu(int threads = 0) {
    if (threads > 0) openblas_set_num_threads(threads);
  }
  int threads() const { return openblas_get_num_threads(); }

  // ---- storage and transfers -------------------------------------------------------------
  template <class T>
  matrix<T> make(std::size_t rows, std::size_t cols) const {
    return matrix<T>::from_shape({rows, cols});
  }
  template <class T>
  static matrix_view<T> view(matrix<T>& m) {
    return {m.data(), m.shape(0), m.shape(1)};
  }
  template <class T>
  static const_view<T> view(const matrix<T>& m) {
    return {m.data(), m.shape(0), m.shape(1)};
  }
  template <class T>
  void upload(const T* host, matrix_view<T> dst) const {
    std::copy(host, host + dst.size(), dst.data);
  }
  template <class T>
  void download(const_view<T> src, T* host) const {
    std::copy(src.data, src.data + src.size(), host);
  }
  template <class T>
  void copy(const_view<T> src, matrix_view<T> dst) const {
    require(src.size() == dst.size(), "cpu::copy", "sizes differ");
    std::copy(src.data, src.data + src.size(), dst.data);
  }
  template <class T>
  void fill(matrix_view<T> m, T value) const {
    std::fill(m.data, m.data + m.size(), value);
  }
  // A host table (rows x cols) made readable by gather_rows for the length of a training run:
  // the CPU reads the caller's memory itself (a GPU backend copies it to the device once).
  template <class T>
  const_view<T> resident_table(const T* host, std::size_t rows, std::size_t cols) const {
    return {host, rows, cols};
  }
  // dst row i = table row index[i] (index in host memory): builds a shuffled mini-batch.
  template <class T>
  void gather_rows(const_view<T> table, const std::size_t* index, matrix_view<T> dst) const {
    require(table.cols == dst.cols, "cpu::gather_rows", "table and batch widths differ");
    for (std::size_t i = 0; i < dst.rows; ++i)
      std::memcpy(dst.row(i), table.row(index[i]), dst.cols * sizeof(T));
  }

  // ---- GEMM: c = alpha * op(a) * op(b) + beta * c, all row-major and contiguous -----------
  template <class T>
  void gemm(bool trans_a, bool trans_b, T alpha, const_view<T> a, const_view<T> b, T beta,
            matrix_view<T> c) const {
    const std::size_t m = trans_a ? a.cols : a.rows, k = trans_a ? a.rows : a.cols;
    const std::size_t kb = trans_b ? b.cols : b.rows, n = trans_b ? b.rows : b.cols;
    require(k == kb && c.rows == m && c.cols == n, "cpu::gemm",
            "op(a) " + shape_string(m, k) + " times op(b) " + shape_string(kb, n) + " into c " +
                shape_string(c.rows, c.cols));
    if (m == 0 || n == 0) return;
    const auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
    const int M = blas_int(m, "cpu::gemm"), N = blas_int(n, "cpu::gemm"), K = blas_int(k, "cpu::gemm");
    const int lda = blas_int(a.cols, "cpu::gemm"), ldb = blas_int(b.cols, "cpu::gemm");
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a.data, lda, b.data, ldb, beta, c.data, N);
    else
      cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a.data, lda, b.data, ldb, beta, c.data, N);
  }

  // ---- convolution windows of one sample (formulas: core/conv_geometry.hpp) --------------
  // x: (1 x C*D*H*W), col: (C*K x P). Convolution is im2col then GEMM; col2im is its adjoint.
  // Both run along rows of W (for_each_col_run) instead of working out each entry's index
  // with the geometry's formulas, as the CUDA kernels do: ~10x faster, and the same values
  // (col2im adds each input's taps in the formula's order; test_nn_conv holds them equal).
  template <class T>
  void im2col(const_view<T> x, const conv_geometry& g, matrix_view<T> col) const {
    require(x.size() == g.in_size(), "cpu::im2col", "input size differs from " + g.describe());
    require_shape(col, g.col_rows(), g.out_positions(), "cpu::im2col", "col");
    const std::size_t Wo = g.out(2), sw = g.stride[2];
    for_each_col_run(g, [&](std::size_t run, const T* in, std::size_t lo, std::size_t hi) {
      T* out = col.data + run;
      std::fill(out, out + lo, T(0));
      for (std::size_t ox = lo; ox < hi; ++ox) out[ox] = in[(ox - lo) * sw];
      std::fill(out + hi, out + Wo, T(0));
    }, x.data);
  }
  template <class T>
  void col2im(const_view<T> col, const conv_geometry& g, matrix_view<T> x) const {
    require(x.size() == g.in_size(), "cpu::col2im", "output size differs from " + g.describe());
    require_shape(col, g.col_rows(), g.out_positions(), "cpu::col2im", "col");
    const std::size_t sw = g.stride[2];
    std::fill(x.data, x.data + x.size(), T(0));
    for_each_col_run(g, [&](std::size_t run, T* out, std::size_t lo, std::size_t hi) {
      const T* in = col.data + run;
      for (std::size_t ox = lo; ox < hi; ++ox) out[(ox - lo) * sw] += in[ox];
    }, x.data);
  }
  // Max pooling of one sample: x (1 x C*D*H*W) -> y (1 x C*P); dx: the gradient for dy.
  template <class T>
  void max_pool(const_view<T> x, const conv_geometry& g, matrix_view<T> y) const {
    require(x.size() == g.in_size() && y.size() == g.channels * g.out_positions(),
            "cpu::max_pool", "sizes differ from " + g.describe());
    for (std::size_t i = 0; i < y.size(); ++i) y.data[i] = x.data[g.window_argmax(x.data, i)];
  }
  template <class T>
  void max_pool_backward(const_view<T> x, const_view<T> dy, const conv_geometry& g,
                         matrix_view<T> dx) const {
    require(x.size() == g.in_size() && dx.size() == x.size() &&
                dy.size() == g.channels * g.out_positions(),
            "cpu::max_pool_backward", "sizes differ from " + g.describe());
    for (std::size_t j = 0; j < dx.size(); ++j) dx.data[j] = g.max_pool_gradient(x.data, dy.data, j);
  }

  // ---- activations ------------------------------------------------------------------------
  // y = f(y + bias) in place, bias broadcast over rows (bias may be null). y: (batch x out).
  // The loops below copy the activation into a local first: through a reference, the compiler
  // must assume the stores may change it, reloads it every element and cannot vectorise.
  template <class Act, class T>
  void bias_activation_forward(const Act& act, const T* bias, matrix_view<T> y) const {
    const Act f = act;
    for (std::size_t r = 0; r < y.rows; ++r) {
      T* __restrict row = y.row(r);
      if (bias)
        for (std::size_t c = 0; c < y.cols; ++c) row[c] = f.f(row[c] + bias[c]);
      else
        for (std::size_t c = 0; c < y.cols; ++c) row[c] = f.f(row[c]);
    }
  }
  template <class Act, class T>
  void activation_forward(const Act& act, const_view<T> x, matrix_view<T> y) const {
    require(x.size() == y.size(), "cpu::activation_forward", "sizes differ");
    const Act f = act;
    const T* __restrict in = x.data;
    T* __restrict out = y.data;
    for (std::size_t i = 0; i < x.size(); ++i) out[i] = f.f(in[i]);
  }
  // dy *= f'(y) in place, with the derivative read from the output y.
  template <class Act, class T>
  void activation_backward(const Act& act, const_view<T> y, matrix_view<T> dy) const {
    require(y.size() == dy.size(), "cpu::activation_backward", "sizes differ");
    const Act f = act;
    const T* __restrict out = y.data;
    T* __restrict grad = dy.data;
    for (std::size_t i = 0; i < y.size(); ++i) grad[i] *= f.df(out[i]);
  }
  // out[c] = sum over rows of m(r, c): the bias gradient.
  template <class T>
  void column_sums(const_view<T> m, T* out) const {
    std::fill(out, out + m.cols, T(0));
    for (std::size_t r = 0; r < m.rows; ++r) {
      const T* __restrict row = m.row(r);
      for (std::size_t c = 0; c < m.cols; ++c) out[c] += row[c];
    }
  }

  // ---- losses: value and gradient in one pass, sums accumulated in double ----------------
  // grad = d(loss)/d(pred). mean: divide by the element count (PyTorch's reduction='mean').
  template <class T>
  double mse(const_view<T> pred, const_view<T> target, matrix_view<T> grad, bool mean) const {
    const double scale = mean ? 1.0 / static_cast<double>(pred.size()) : 1.0;
    const T g = static_cast<T>(2.0 * scale);
    double sum = 0;
    for (std::size_t i = 0; i < pred.size(); ++i)
      sum += terms::squared_error(pred.data[i], target.data[i], g, grad.data[i]);
    return sum * scale;
  }
  template <class T>
  double mae(const_view<T> pred, const_view<T> target, matrix_view<T> grad, bool mean) const {
    const double scale = mean ? 1.0 / static_cast<double>(pred.size()) : 1.0;
    const T g = static_cast<T>(scale);
    double sum = 0;
    for (std::size_t i = 0; i < pred.size(); ++i)
      sum += terms::absolute_error(pred.data[i], target.data[i], g, grad.data[i]);
    return sum * scale;
  }
  // weight * mean|z|, and grad += weight * sign(z) / size: Baler's activation-sparsity term.
  template <class T>
  double l1_penalty(const_view<T> z, double weight, matrix_view<T> grad) const {
    const double scale = weight / static_cast<double>(z.size());
    const T g = static_cast<T>(scale);
    double sum = 0;
    for (std::size_t i = 0; i < z.size(); ++i)
      sum += terms::absolute_value_add_grad(z.data[i], g, grad.data[i]);
    return sum * scale;
  }
  template <class T>
  bool all_finite(const_view<T> m) const {
    bool ok = true;
    for (std::size_t i = 0; i < m.size(); ++i) ok &= std::isfinite(m.data[i]);
    return ok;
  }

  // ---- optimizer updates over the flat parameter buffer (formulas: update_rules.hpp) -----
  template <class T>
  void sgd_step(T* p, const T* g, T* v, std::size_t n, double lr, double momentum, double l2,
                bool first) const {
    const auto c = sgd_coefficients<T>::make(lr, momentum, l2, first);
    for (std::size_t i = 0; i < n; ++i) sgd_update(p[i], g[i], v[i], c);
  }
  // l2: coupled decay (Adam); decoupled: AdamW's decay. step counts from 1.
  template <class T>
  void adam_step(T* p, const T* g, T* m, T* v, std::size_t n, double lr, double beta1,
                 double beta2, double eps, double l2, double decoupled, long step) const {
    const auto c = adam_coefficients<T>::make(lr, beta1, beta2, eps, l2, decoupled, step);
    for (std::size_t i = 0; i < n; ++i) adam_update(p[i], g[i], m[i], v[i], c);
  }

  // ---- dropout: mask holds 0 or 1/(1-p) so that backward is one multiply ------------------
  template <class T>
  void dropout_forward(const_view<T> x, matrix_view<T> y, matrix_view<T> mask, double p,
                       rng& gen) const {
    const T keep_scale = T(1.0 / (1.0 - p));
    for (std::size_t i = 0; i < x.size(); ++i) {
      mask.data[i] = gen.uniform() < p ? T(0) : keep_scale;
      y.data[i] = x.data[i] * mask.data[i];
    }
  }
  template <class T>
  void multiply(const_view<T> a, matrix_view<T> b) const {  // b *= a, element-wise
    require(a.size() == b.size(), "cpu::multiply", "sizes differ");
    for (std::size_t i = 0; i < a.size(); ++i) b.data[i] *= a.data[i];
  }

  // ---- batch normalisation over the rows of x (batch x features) -------------------------
  // Training: normalise with the batch statistics, keep mean and 1/std for backward, and
  // update the running estimates (unbiased variance, as PyTorch).
  template <class T>
  void batchnorm_forward_train(const_view<T> x, matrix_view<T> y, const T* gamma, const T* beta,
                               T* mean, T* invstd, T* running_mean, T* running_var,
                               double momentum, double eps) const {
    const std::size_t n = x.rows, f = x.cols;
    std::vector<double> s(f, 0.0), ss(f, 0.0);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < f; ++c) s[c] += x.row(r)[c];
    for (std::size_t c = 0; c < f; ++c) s[c] /= double(n);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < f; ++c) {
        const double d = x.row(r)[c] - s[c];
        ss[c] += d * d;
      }
    for (std::size_t c = 0; c < f; ++c) {
      const double var = ss[c] / double(n);
      mean[c] = T(s[c]);
      invstd[c] = T(1.0 / std::sqrt(var + eps));
      const double unbiased = n > 1 ? ss[c] / double(n - 1) : var;
      running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * s[c]);
      running_var[c] = T((1 - momentum) * running_var[c] + momentum * unbiased);
    }
    batchnorm_apply(x, y, gamma, beta, mean, invstd);
  }
  template <class T>
  void batchnorm_forward_eval(const_view<T> x, matrix_view<T> y, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, double eps) const {
    std::vector<T> invstd(x.cols);
    for (std::size_t c = 0; c < x.cols; ++c) invstd[c] = T(1.0 / std::sqrt(running_var[c] + eps));
    batchnorm_apply(x, y, gamma, beta, running_mean, invstd.data());
  }
  // dx = invstd/n * (n*dxh - sum(dxh) - xh*sum(dxh*xh)), dxh = dy*gamma; dgamma = sum(dy*xh);
  // dbeta = sum(dy). dx may be empty when the input needs no gradient.
  template <class T>
  void batchnorm_backward(const_view<T> x, const_view<T> dy, matrix_view<T> dx, const T* gamma,
                          const T* mean, const T* invstd, T* dgamma, T* dbeta) const {
    const std::size_t n = x.rows, f = x.cols;
    std::vector<double> sum_dy(f, 0.0), sum_dy_xh(f, 0.0);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < f; ++c) {
        const double xh = (double(x.row(r)[c]) - mean[c]) * invstd[c];
        sum_dy[c] += dy.row(r)[c];
        sum_dy_xh[c] += dy.row(r)[c] * xh;
      }
    for (std::size_t c = 0; c < f; ++c) {
      dgamma[c] = T(sum_dy_xh[c]);
      dbeta[c] = T(sum_dy[c]);
    }
    if (dx.empty()) return;
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c = 0; c < f; ++c) {
        const double xh = (double(x.row(r)[c]) - mean[c]) * invstd[c];
        dx.row(r)[c] = T(terms::batchnorm_input_grad(dy.row(r)[c], xh, gamma[c], invstd[c],
                                                     double(n), sum_dy[c], sum_dy_xh[c]));
      }
  }

  // ---- latent quantisation: values <-> f16/bf16 bits (format/half.hpp), via float ----------
  template <class T>
  void quantize_latent(const_view<T> z, half_format f, matrix_view<std::uint16_t> bits) const {
    require(z.size() == bits.size(), "cpu::quantize_latent", "sizes differ");
    for (std::size_t i = 0; i < z.size(); ++i) {
      const auto v = static_cast<float>(z.data[i]);
      bits.data[i] = f == half_format::bf16 ? float_to_bf16(v) : float_to_f16(v);
    }
  }
  template <class T>
  void dequantize_latent(const_view<std::uint16_t> bits, half_format f, matrix_view<T> z) const {
    require(z.size() == bits.size(), "cpu::dequantize_latent", "sizes differ");
    for (std::size_t i = 0; i < z.size(); ++i)
      z.data[i] = T(f == half_format::bf16 ? bf16_to_float(bits.data[i]) : f16_to_float(bits.data[i]));
  }

private:
  // Calls f(run, at, lo, hi) for each run of out(2) col entries that share a channel, a tap and
  // an output (z, y), in col's order: run = the run's offset in col; entry ox in [lo, hi) reads
  // the input at[(ox - lo) * stride[2]] (at points into x), the others read padding (lo = hi
  // where the whole input row is padding).
  template <class P, class F>
  static void for_each_col_run(const conv_geometry& g, F&& f, P* x) {
    using ll = long long;
    const auto inside = [](ll v, std::size_t n) { return v >= 0 && v < static_cast<ll>(n); };
    const ll W = static_cast<ll>(g.in[2]), Wo = static_cast<ll>(g.out(2));
    const ll sw = static_cast<ll>(g.stride[2]), pw = static_cast<ll>(g.pad[2]);
    std::size_t run = 0;
    for (std::size_t c = 0; c < g.channels; ++c)
      for (std::size_t kz = 0; kz < g.kernel[0]; ++kz)
        for (std::size_t ky = 0; ky < g.kernel[1]; ++ky)
          for (std::size_t kx = 0; kx < g.kernel[2]; ++kx) {
            // The outputs [lo, hi) whose input x = ox * sw + kx - pw lies inside [0, W).
            const ll first = static_cast<ll>(kx) - pw;
            const ll lo = std::min(Wo, first >= 0 ? 0 : (-first + sw - 1) / sw);
            const ll hi = std::max(lo, first >= W ? 0 : std::min(Wo, (W - 1 - first) / sw + 1));
            const std::size_t start = std::size_t(std::max<ll>(0, first + lo * sw));
            for (std::size_t oz = 0; oz < g.out(0); ++oz)
              for (std::size_t oy = 0; oy < g.out(1); ++oy, run += g.out(2)) {
                const ll z = static_cast<ll>(oz * g.stride[0] + kz) - static_cast<ll>(g.pad[0]);
                const ll y = static_cast<ll>(oy * g.stride[1] + ky) - static_cast<ll>(g.pad[1]);
                if (lo == hi || !inside(z, g.in[0]) || !inside(y, g.in[1])) {
                  f(run, x, std::size_t(0), std::size_t(0));
                  continue;
                }
                const std::size_t row = (c * g.in[0] + std::size_t(z)) * g.in[1] + std::size_t(y);
                f(run, x + row * g.in[2] + start, std::size_t(lo), std::size_t(hi));
              }
          }
  }

  template <class T>
  static void batchnorm_apply(const_view<T> x, matrix_view<T> y, const T* gamma, const T* beta,
                              const T* mean, const T* invstd) {
    for (std::size_t r = 0; r < x.rows; ++r)
      for (std::size_t c = 0; c < x.cols; ++c)
        y.row(r)[c] = terms::batchnorm_apply(x.row(r)[c], mean[c], invstd[c], gamma[c], beta[c]);
  }
};

}  // namespace baler
