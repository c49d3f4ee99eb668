// The CUDA backend against the CPU backend, member by member: each op runs on both policies
// from the same random inputs and the results are compared by normalised error, with the
// tolerances of cuda_test_support.hpp. Ops whose results are exact (copies, gathers, the 16-bit
// latent codes) are compared exactly; dropout, whose masks differ by design, is checked for
// its properties instead.
#include <cstring>
#include <sstream>

#include "baler/format/half.hpp"
#include "baler/nn/layer.hpp"
#include "cuda_test_support.hpp"

using namespace baler;
using namespace cuda_test;

namespace {

// ---- GEMM ---------------------------------------------------------------------------------
template <class B, class T>
std::vector<T> run_gemm(B& be, bool trans_a, bool trans_b, T alpha, T beta, const std::vector<T>& a,
                        std::size_t a_rows, std::size_t a_cols, const std::vector<T>& b,
                        std::size_t b_rows, std::size_t b_cols, const std::vector<T>& c0,
                        std::size_t m, std::size_t n) {
  const auto ma = to_backend(be, a, a_rows, a_cols), mb = to_backend(be, b, b_rows, b_cols);
  auto mc = to_backend(be, c0, m, n);
  be.gemm(trans_a, trans_b, alpha, B::view(ma), B::view(mb), beta, B::view(mc));
  return host_copy(be, B::view(mc));
}

// ---- activations --------------------------------------------------------------------------
template <class B, class T, class Act>
std::vector<T> run_bias_activation(B& be, const Act& f, const std::vector<T>& y0,
                                   const std::vector<T>& bias, bool with_bias, std::size_t rows,
                                   std::size_t cols) {
  auto y = to_backend(be, y0, rows, cols);
  const auto b = to_backend(be, bias, 1, cols);
  be.bias_activation_forward(f, with_bias ? B::view(b).data : static_cast<const T*>(nullptr),
                             B::view(y));
  return host_copy(be, B::view(y));
}

// activation_forward of x, and activation_backward of dy at the outputs y.
template <class B, class T, class Act>
std::pair<std::vector<T>, std::vector<T>> run_activation(B& be, const Act& f,
                                                         const std::vector<T>& x,
                                                         const std::vector<T>& y,
                                                         const std::vector<T>& dy, std::size_t rows,
                                                         std::size_t cols) {
  const auto mx = to_backend(be, x, rows, cols), my = to_backend(be, y, rows, cols);
  auto out = be.template make<T>(rows, cols);
  auto grad = to_backend(be, dy, rows, cols);
  be.activation_forward(f, B::view(mx), B::view(out));
  be.activation_backward(f, B::view(my), B::view(grad));
  return {host_copy(be, B::view(out)), host_copy(be, B::view(grad))};
}

// ---- reductions and losses ----------------------------------------------------------------
template <class B, class T>
std::vector<T> run_column_sums(B& be, const std::vector<T>& m, std::size_t rows, std::size_t cols) {
  const auto mm = to_backend(be, m, rows, cols);
  auto out = be.template make<T>(1, cols);
  be.column_sums(B::view(mm), B::view(out).data);
  return host_copy(be, B::view(out));
}

template <class T>
struct loss_result {
  double value = 0;
  std::vector<T> grad;
};

enum class loss_kind { mse, mae };

template <class B, class T>
loss_result<T> run_loss(B& be, loss_kind kind, bool mean, const std::vector<T>& pred,
                        const std::vector<T>& target, std::size_t rows, std::size_t cols) {
  const auto p = to_backend(be, pred, rows, cols), t = to_backend(be, target, rows, cols);
  auto g = be.template make<T>(rows, cols);
  loss_result<T> r;
  r.value = kind == loss_kind::mse ? be.mse(B::view(p), B::view(t), B::view(g), mean)
                                   : be.mae(B::view(p), B::view(t), B::view(g), mean);
  r.grad = host_copy(be, B::view(g));
  return r;
}

template <class B, class T>
loss_result<T> run_l1(B& be, const std::vector<T>& z, const std::vector<T>& grad0, double weight,
                      std::size_t rows, std::size_t cols) {
  const auto mz = to_backend(be, z, rows, cols);
  auto g = to_backend(be, grad0, rows, cols);
  loss_result<T> r;
  r.value = be.l1_penalty(B::view(mz), weight, B::view(g));
  r.grad = host_copy(be, B::view(g));
  return r;
}

template <class B, class T>
bool run_all_finite(B& be, const std::vector<T>& v) {
  const auto m = to_backend(be, v, 1, v.size());
  return be.all_finite(B::view(m));
}

// ---- optimizers ---------------------------------------------------------------------------
template <class T>
struct optimizer_state {
  std::vector<T> p, m, v;
};

// SGD steps with grads[s] as the gradient of step s; the velocity starts as NaN, which the
// first step must not read.
template <class B, class T>
std::vector<optimizer_state<T>> run_sgd(B& be, const std::vector<T>& p0,
                                        const std::vector<std::vector<T>>& grads, double lr,
                                        double momentum, double l2) {
  const std::size_t n = p0.size();
  auto p = to_backend(be, p0, 1, n);
  auto v = to_backend(be, std::vector<T>(n, std::numeric_limits<T>::quiet_NaN()), 1, n);
  std::vector<optimizer_state<T>> states;
  for (std::size_t s = 0; s < grads.size(); ++s) {
    const auto g = to_backend(be, grads[s], 1, n);
    be.sgd_step(B::view(p).data, B::view(g).data, B::view(v).data, n, lr, momentum, l2, s == 0);
    states.push_back({host_copy(be, B::view(p)), {}, host_copy(be, B::view(v))});
  }
  return states;
}

template <class B, class T>
std::vector<optimizer_state<T>> run_adam(B& be, const std::vector<T>& p0,
                                         const std::vector<std::vector<T>>& grads, double lr,
                                         double l2, double decoupled) {
  const std::size_t n = p0.size();
  auto p = to_backend(be, p0, 1, n);
  auto m = be.template make<T>(1, n), v = be.template make<T>(1, n);
  be.fill(B::view(m), T(0));
  be.fill(B::view(v), T(0));
  std::vector<optimizer_state<T>> states;
  for (std::size_t s = 0; s < grads.size(); ++s) {
    const auto g = to_backend(be, grads[s], 1, n);
    be.adam_step(B::view(p).data, B::view(g).data, B::view(m).data, B::view(v).data, n, lr, 0.9,
                 0.999, 1e-8, l2, decoupled, long(s + 1));
    states.push_back(
        {host_copy(be, B::view(p)), host_copy(be, B::view(m)), host_copy(be, B::view(v))});
  }
  return states;
}

// ---- batch normalisation ------------------------------------------------------------------
template <class T>
struct batchnorm_result {
  std::vector<T> y, mean, invstd, running_mean, running_var;  // forward_train
  std::vector<T> dx, dgamma, dbeta;                           // backward
  std::vector<T> dgamma_alone, dbeta_alone;                   // backward with dx empty
  std::vector<T> y_eval;                                      // forward_eval, updated stats
};

struct batchnorm_inputs {
  std::size_t rows, cols;
  double momentum, eps;
};

template <class B, class T>
batchnorm_result<T> run_batchnorm(B& be, const batchnorm_inputs& in, const std::vector<T>& x,
                                  const std::vector<T>& dy, const std::vector<T>& gamma,
                                  const std::vector<T>& beta, const std::vector<T>& rm0,
                                  const std::vector<T>& rv0) {
  const std::size_t rows = in.rows, cols = in.cols;
  const auto mx = to_backend(be, x, rows, cols), mdy = to_backend(be, dy, rows, cols);
  const auto g = to_backend(be, gamma, 1, cols), b = to_backend(be, beta, 1, cols);
  auto y = be.template make<T>(rows, cols), ye = be.template make<T>(rows, cols);
  auto mean = be.template make<T>(1, cols), invstd = be.template make<T>(1, cols);
  auto rm = to_backend(be, rm0, 1, cols), rv = to_backend(be, rv0, 1, cols);
  auto dx = be.template make<T>(rows, cols);
  auto dgamma = be.template make<T>(1, cols), dbeta = be.template make<T>(1, cols);
  auto dgamma2 = be.template make<T>(1, cols), dbeta2 = be.template make<T>(1, cols);

  be.batchnorm_forward_train(B::view(mx), B::view(y), B::view(g).data, B::view(b).data,
                             B::view(mean).data, B::view(invstd).data, B::view(rm).data,
                             B::view(rv).data, in.momentum, in.eps);
  be.batchnorm_backward(B::view(mx), B::view(mdy), B::view(dx), B::view(g).data, B::view(mean).data,
                        B::view(invstd).data, B::view(dgamma).data, B::view(dbeta).data);
  be.batchnorm_backward(B::view(mx), B::view(mdy), matrix_view<T>{}, B::view(g).data,
                        B::view(mean).data, B::view(invstd).data, B::view(dgamma2).data,
                        B::view(dbeta2).data);
  be.batchnorm_forward_eval(B::view(mx), B::view(ye), B::view(g).data, B::view(b).data,
                            B::view(rm).data, B::view(rv).data, in.eps);
  batchnorm_result<T> r;
  r.y = host_copy(be, B::view(y));
  r.mean = host_copy(be, B::view(mean));
  r.invstd = host_copy(be, B::view(invstd));
  r.running_mean = host_copy(be, B::view(rm));
  r.running_var = host_copy(be, B::view(rv));
  r.dx = host_copy(be, B::view(dx));
  r.dgamma = host_copy(be, B::view(dgamma));
  r.dbeta = host_copy(be, B::view(dbeta));
  r.dgamma_alone = host_copy(be, B::view(dgamma2));
  r.dbeta_alone = host_copy(be, B::view(dbeta2));
  r.y_eval = host_copy(be, B::view(ye));
  return r;
}

// ---- data movement ------------------------------------------------------------------------
// Gathers each index list from one resident table into one growing batch buffer, as fit does.
template <class B, class T>
std::vector<std::vector<T>> run_gather(B& be, const std::vector<T>& table, std::size_t rows,
                                       std::size_t cols,
                                       const std::vector<std::vector<std::size_t>>& batches) {
  const auto resident = be.resident_table(table.data(), rows, cols);
  typename B::template matrix<T> buffer;
  std::vector<std::vector<T>> out;
  for (const auto& index : batches) {
    auto dst = rows_view(be, buffer, index.size(), cols);
    be.gather_rows(resident, index.data(), dst);
    out.push_back(host_copy(be, dst));
  }
  return out;
}

template <class T>
struct copy_fill_multiply {
  std::vector<T> copied, filled, multiplied;
};

template <class B, class T>
copy_fill_multiply<T> run_copy_fill_multiply(B& be, const std::vector<T>& a,
                                             const std::vector<T>& b, T value) {
  const std::size_t n = a.size();
  const auto ma = to_backend(be, a, 1, n);
  auto mb = to_backend(be, b, 1, n);
  auto mc = be.template make<T>(1, n);
  copy_fill_multiply<T> r;
  be.copy(B::view(ma), B::view(mc));
  r.copied = host_copy(be, B::view(mc));
  be.fill(B::view(mc), value);
  r.filled = host_copy(be, B::view(mc));
  be.multiply(B::view(ma), B::view(mb));
  r.multiplied = host_copy(be, B::view(mb));
  return r;
}

// ---- latent codes -------------------------------------------------------------------------
template <class B, class T>
std::vector<std::uint16_t> run_quantize(B& be, const std::vector<T>& z, half_format f) {
  const auto mz = to_backend(be, z, 1, z.size());
  auto bits = be.template make<std::uint16_t>(1, z.size());
  be.quantize_latent(B::view(mz), f, B::view(bits));
  return host_copy(be, B::view(bits));
}

template <class B, class T>
std::vector<T> run_dequantize(B& be, const std::vector<std::uint16_t>& codes, half_format f) {
  const auto mb = to_backend(be, codes, 1, codes.size());
  auto z = be.template make<T>(1, codes.size());
  be.dequantize_latent(B::view(mb), f, B::view(z));
  return host_copy(be, B::view(z));
}

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
std::uint64_t bits_of(double d) {
  std::uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

std::string hex(std::uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

// Floats that reach every branch of both encoders: for each f16 rounding position (every
// 19-bit prefix, i.e. sign, exponent and the 10 kept mantissa bits, with the 13 dropped bits
// 0, just below half, exactly half and just above half) and each bf16 one (every 16-bit prefix
// with 0, 0x7FFF, 0x8000, 0x8001 and 0xFFFF dropped), plus random bit patterns. Zeros, float
// and f16 subnormals, ties to even in both directions, values that round up to the next
// exponent or to infinity, infinities and NaNs with payloads of both signs are all included.
std::vector<float> encoder_inputs() {
  std::vector<float> v;
  v.reserve((1u << 19) * 4 + (1u << 16) * 5 + (1u << 20));
  for (std::uint32_t prefix = 0; prefix < (1u << 19); ++prefix)
    for (std::uint32_t dropped : {0x0000u, 0x0FFFu, 0x1000u, 0x1001u})
      v.push_back(float_of((prefix << 13) | dropped));
  for (std::uint32_t prefix = 0; prefix < (1u << 16); ++prefix)
    for (std::uint32_t dropped : {0x0000u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu})
      v.push_back(float_of((prefix << 16) | dropped));
  rng gen(2024);
  for (std::size_t i = 0; i < (1u << 20); ++i)
    v.push_back(float_of(std::uint32_t(gen.next() >> 32)));
  return v;
}

bool is_nan_code(std::uint16_t code, half_format f) {
  return f == half_format::f16 ? (code & 0x7C00) == 0x7C00 && (code & 0x03FF) != 0
                               : (code & 0x7F80) == 0x7F80 && (code & 0x007F) != 0;
}

std::vector<std::uint16_t> reference_codes(const std::vector<float>& x, half_format f) {
  std::vector<std::uint16_t> codes(x.size());
  if (f == half_format::f16)
    encode_f16(x.data(), x.size(), codes.data());
  else
    encode_bf16(x.data(), x.size(), codes.data());
  return codes;
}

std::string format_name(half_format f) {
  return f == half_format::f16 ? "f16" : "bf16";
}

}  // namespace

// =============================================================================================

TEST_CASE_TEMPLATE("gemm: all four transposes, non-square shapes, alpha and beta", T, float,
                   double) {
  cpu host(1);
  cuda gpu;
  struct shape {
    std::size_t m, k, n;
  };
  struct scaling {
    double alpha, beta;
  };
  std::uint64_t seed = 1;
  for (const shape s :
       {shape{7, 3, 5}, shape{130, 200, 33}, shape{1, 24, 200}, shape{64, 1, 9}, shape{300, 50, 1}})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (const scaling sc : {scaling{1.0, 0.0}, scaling{0.5, 0.7}, scaling{-2.0, 1.0}}) {
          const double alpha = sc.alpha, beta = sc.beta;
          INFO("m " << s.m << ", k " << s.k << ", n " << s.n << ", trans_a " << ta << ", trans_b "
                    << tb << ", alpha " << alpha << ", beta " << beta);
          const std::size_t ar = ta ? s.k : s.m, ac = ta ? s.m : s.k;
          const std::size_t br = tb ? s.n : s.k, bc = tb ? s.k : s.n;
          const auto a = normal_values<T>(ar * ac, ++seed), b = normal_values<T>(br * bc, ++seed);
          // beta = 0 must not read c (layers pass uninitialised outputs): NaN there must vanish.
          const auto c0 = beta == 0.0
                              ? std::vector<T>(s.m * s.n, std::numeric_limits<T>::quiet_NaN())
                              : normal_values<T>(s.m * s.n, ++seed);
          const auto want =
              run_gemm(host, ta, tb, T(alpha), T(beta), a, ar, ac, b, br, bc, c0, s.m, s.n);
          const auto got =
              run_gemm(gpu, ta, tb, T(alpha), T(beta), a, ar, ac, b, br, bc, c0, s.m, s.n);
          CUDA_CHECK_CLOSE(got, want, sum_tolerance<T>(s.k + 1));
        }
}

TEST_CASE_TEMPLATE("gemm with an empty inner dimension: c = beta * c for beta 0 or 1", T, float,
                   double) {
  cuda gpu;
  const auto c0 = normal_values<T>(4 * 3, 5);
  const std::vector<T> none;
  auto empty = [&](T beta, bool ta, bool tb) {
    return run_gemm(gpu, ta, tb, T(1), beta, none, ta ? 0 : 4, ta ? 4 : 0, none, tb ? 3 : 0,
                    tb ? 0 : 3, c0, 4, 3);
  };
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CHECK(empty(T(0), ta, tb) == std::vector<T>(12, T(0)));
      CHECK(empty(T(1), ta, tb) == c0);
    }
  CHECK_THROWS_AS(empty(T(0.5), false, false), error);
}

TEST_CASE_TEMPLATE("bias_activation_forward: every activation, with and without bias", T, float,
                   double) {
  cpu host(1);
  cuda gpu;
  struct shape {
    std::size_t rows, cols;
  };
  for (const shape s : {shape{77, 45}, shape{1, 1}, shape{2500, 1000}}) {
    auto y0 = normal_values<T>(s.rows * s.cols, 11, 3.0);
    for (std::size_t i = 0; i < y0.size(); i += 17) y0[i] = T(0);  // relu's kink, exactly
    const auto bias = normal_values<T>(s.cols, 12);
    for_each_activation([&](auto f) {
      for (bool with_bias : {true, false}) {
        INFO(label(f) << ", " << s.rows << " x " << s.cols << ", with bias: " << with_bias);
        const auto want = run_bias_activation(host, f, y0, bias, with_bias, s.rows, s.cols);
        const auto got = run_bias_activation(gpu, f, y0, bias, with_bias, s.rows, s.cols);
        CUDA_CHECK_CLOSE(got, want, tolerance<T>::elementwise);
      }
    });
  }
}

TEST_CASE_TEMPLATE("activation_forward and activation_backward: every activation", T, float,
                   double) {
  cpu host(1);
  cuda gpu;
  const std::size_t rows = 300, cols = 70;
  auto x = normal_values<T>(rows * cols, 21, 3.0);
  for (std::size_t i = 0; i < x.size(); i += 13) x[i] = T(0);
  const auto dy = normal_values<T>(rows * cols, 22);
  for_each_activation([&](auto f) {
    INFO(label(f));
    std::vector<T> y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = f.f(x[i]);  // backward reads outputs
    const auto want = run_activation(host, f, x, y, dy, rows, cols);
    const auto got = run_activation(gpu, f, x, y, dy, rows, cols);
    CUDA_CHECK_CLOSE(got.first, want.first, tolerance<T>::elementwise);
    CUDA_CHECK_CLOSE(got.second, want.second, tolerance<T>::elementwise);
  });
}

TEST_CASE_TEMPLATE("column_sums: tall, flat and single-row matrices of several widths", T, float,
                   double) {
  cpu host(1);
  cuda gpu;  // one context throughout: its reduction workspace grows and is reused
  std::uint64_t seed = 30;
  for (std::size_t rows :
       {std::size_t(5000), std::size_t(1), std::size_t(3), std::size_t(37), std::size_t(1031)})
    for (std::size_t cols : {1, 24, 200, 33}) {
      INFO(rows << " x " << cols);
      const auto m = normal_values<T>(rows * cols, ++seed, 1.0, 0.5);
      const auto want = run_column_sums(host, m, rows, cols);
      const auto got = run_column_sums(gpu, m, rows, cols);
      CUDA_CHECK_CLOSE(got, want, sum_tolerance<T>(rows));
    }
}

TEST_CASE_TEMPLATE("mse and mae: value and gradient, mean and sum", T, float, double) {
  cpu host(1);
  cuda gpu;
  struct shape {
    std::size_t rows, cols;
  };
  for (const shape s : {shape{300, 24}, shape{1, 1}, shape{1000, 1000}}) {
    const std::size_t n = s.rows * s.cols;
    const auto pred = normal_values<T>(n, 41), target = normal_values<T>(n, 42);
    for (loss_kind kind : {loss_kind::mse, loss_kind::mae})
      for (bool mean : {true, false}) {
        INFO(std::string(kind == loss_kind::mse ? "mse" : "mae")
             << ", mean: " << mean << ", " << s.rows << " x " << s.cols);
        const auto want = run_loss(host, kind, mean, pred, target, s.rows, s.cols);
        const auto got = run_loss(gpu, kind, mean, pred, target, s.rows, s.cols);
        // Both sum the same double terms, in different orders.
        CHECK(relative_error(got.value, want.value) <= 1e-12);
        CUDA_CHECK_CLOSE(got.grad, want.grad, tolerance<T>::elementwise);
      }
  }
}

TEST_CASE_TEMPLATE("l1_penalty: weight * mean |z|, its gradient ADDED to the given one", T, float,
                   double) {
  cpu host(1);
  cuda gpu;
  const std::size_t rows = 513, cols = 15;
  auto z = normal_values<T>(rows * cols, 51);
  for (std::size_t i = 0; i < z.size(); i += 13) z[i] = T(0);  // sign(0) = 0
  const auto grad0 = normal_values<T>(rows * cols, 52, 0.01);
  const double weight = 0.3;
  const auto want = run_l1(host, z, grad0, weight, rows, cols);
  const auto got = run_l1(gpu, z, grad0, weight, rows, cols);
  CHECK(relative_error(got.value, want.value) <= 1e-12);
  CUDA_CHECK_CLOSE(got.grad, want.grad, tolerance<T>::elementwise);
  // The formula itself, so that a CUDA result that overwrote the gradient would fail here too.
  const T g = T(weight / double(z.size()));
  std::vector<T> added(z.size());
  double sum = 0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    added[i] = grad0[i] + (z[i] > T(0) ? g : (z[i] < T(0) ? -g : T(0)));
    sum += std::abs(double(z[i]));
  }
  CUDA_CHECK_CLOSE(got.grad, added, tolerance<T>::elementwise);
  CHECK(relative_error(got.value, weight * sum / double(z.size())) <= 1e-12);
}

TEST_CASE_TEMPLATE("all_finite: NaN and Inf anywhere are found, extremes are finite", T, float,
                   double) {
  cpu host(1);
  cuda gpu;
  for (std::size_t n : {std::size_t(1), std::size_t(1000), std::size_t(300001)}) {
    INFO("n = " << n);
    auto v = normal_values<T>(n, 61);
    v[n / 2] = std::numeric_limits<T>::max();
    v[0] = std::numeric_limits<T>::denorm_min();
    CHECK(run_all_finite(host, v));
    CHECK(run_all_finite(gpu, v));
    for (std::size_t at : {std::size_t(0), n / 3, n - 1})
      for (T bad : {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                    -std::numeric_limits<T>::infinity()}) {
        INFO("value " << bad << " at " << at);
        auto w = v;
        w[at] = bad;
        CHECK_FALSE(run_all_finite(host, w));
        CHECK_FALSE(run_all_finite(gpu, w));
      }
  }
}

TEST_CASE_TEMPLATE("sgd_step: first and later steps, with and without momentum and L2", T, float,
                   double) {
  cpu host(1);
  cuda gpu;
  const std::size_t n = 10007;
  const auto p0 = normal_values<T>(n, 71, 0.5);
  std::vector<std::vector<T>> grads;
  for (std::uint64_t s = 0; s < 4; ++s) grads.push_back(normal_values<T>(n, 72 + s));
  struct setting {
    double lr, momentum, l2;
  };
  for (const setting o :
       {setting{0.1, 0.9, 0.01}, setting{0.05, 0.0, 0.0}, setting{0.1, 0.5, 0.0}}) {
    INFO("lr " << o.lr << ", momentum " << o.momentum << ", l2 " << o.l2);
    const auto want = run_sgd(host, p0, grads, o.lr, o.momentum, o.l2);
    const auto got = run_sgd(gpu, p0, grads, o.lr, o.momentum, o.l2);
    for (std::size_t s = 0; s < grads.size(); ++s) {
      INFO("after step " << s + 1);
      CUDA_CHECK_CLOSE(got[s].p, want[s].p, tolerance<T>::elementwise);
      CUDA_CHECK_CLOSE(got[s].v, want[s].v, tolerance<T>::elementwise);
    }
  }
}

TEST_CASE_TEMPLATE("adam_step: Adam (coupled L2) and AdamW (decoupled decay), several steps", T,
                   float, double) {
  cpu host(1);
  cuda gpu;
  const std::size_t n = 10007;
  const auto p0 = normal_values<T>(n, 81, 0.5);
  std::vector<std::vector<T>> grads;
  for (std::uint64_t s = 0; s < 5; ++s) {
    auto g = normal_values<T>(n, 82 + s, 0.1);
    for (std::size_t i = s; i < n; i += 97) g[i] = T(0);  // zero gradients, zero moments
    grads.push_back(g);
  }
  struct setting {
    const char* name;
    double lr, l2, decoupled;
  };
  // lr 0.1: each update is large enough against |p| for the comparison to see it.
  for (const setting o : {setting{"Adam", 0.1, 0.01, 0.0}, setting{"AdamW", 0.1, 0.0, 0.1},
                          setting{"plain", 0.01, 0.0, 0.0}}) {
    INFO(std::string(o.name) << ", lr " << o.lr);
    const auto want = run_adam(host, p0, grads, o.lr, o.l2, o.decoupled);
    const auto got = run_adam(gpu, p0, grads, o.lr, o.l2, o.decoupled);
    for (std::size_t s = 0; s < grads.size(); ++s) {
      INFO("after step " << s + 1);
      CUDA_CHECK_CLOSE(got[s].p, want[s].p, tolerance<T>::elementwise);
      CUDA_CHECK_CLOSE(got[s].m, want[s].m, tolerance<T>::elementwise);
      CUDA_CHECK_CLOSE(got[s].v, want[s].v, tolerance<T>::elementwise);
    }
  }
}

TEST_CASE_TEMPLATE("batchnorm: forward in training and evaluation, running statistics, backward", T,
                   float, double) {
  cpu host(1);
  cuda gpu;
  std::uint64_t seed = 90;
  for (std::size_t rows :
       {std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(37), std::size_t(5000)})
    for (std::size_t cols : {24, 200}) {
      INFO(rows << " x " << cols);
      const batchnorm_inputs in{rows, cols, 0.1, 1e-5};
      const auto x = normal_values<T>(rows * cols, ++seed, 2.0, 1.5);
      const auto dy = normal_values<T>(rows * cols, ++seed);
      const auto gamma = uniform_values<T>(cols, ++seed, 0.5, 1.5);
      const auto beta = normal_values<T>(cols, ++seed, 0.3);
      const auto rm0 = normal_values<T>(cols, ++seed, 0.1);
      const auto rv0 = uniform_values<T>(cols, ++seed, 0.5, 2.0);
      const auto want = run_batchnorm(host, in, x, dy, gamma, beta, rm0, rv0);
      const auto got = run_batchnorm(gpu, in, x, dy, gamma, beta, rm0, rv0);
      const double tol = sum_tolerance<T>(rows);
      CUDA_CHECK_CLOSE(got.y, want.y, tol);
      CUDA_CHECK_CLOSE(got.mean, want.mean, tol);
      CUDA_CHECK_CLOSE(got.invstd, want.invstd, tol);
      CUDA_CHECK_CLOSE(got.running_mean, want.running_mean, tol);
      CUDA_CHECK_CLOSE(got.running_var, want.running_var, tol);
      CUDA_CHECK_CLOSE(got.dgamma, want.dgamma, tol);
      CUDA_CHECK_CLOSE(got.dbeta, want.dbeta, tol);
      CUDA_CHECK_CLOSE(got.y_eval, want.y_eval, tol);
      // Without dx the parameter gradients are the same numbers.
      CHECK(got.dgamma_alone == got.dgamma);
      CHECK(got.dbeta_alone == got.dbeta);
      // dx removes from gamma * invstd * dy its mean and its projection on xhat; with few rows
      // almost nothing is left (1 row: exactly 0), so dx is judged on the scale of those terms.
      double scale = 0, diff = 0;
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
          const std::size_t i = r * cols + c;
          scale =
              std::max(scale, std::abs(double(gamma[c]) * double(want.invstd[c]) * double(dy[i])));
          diff = std::max(diff, std::abs(double(got.dx[i]) - double(want.dx[i])));
          if (!std::isfinite(double(got.dx[i]))) diff = std::numeric_limits<double>::infinity();
        }
      CHECK(diff / scale <= tol);
    }
}

TEST_CASE_TEMPLATE("gather_rows from resident_table: growing and shrinking batches, repeats", T,
                   float, double) {
  cpu host(1);
  cuda gpu;
  const std::size_t rows = 1000, cols = 24;
  const auto table = normal_values<T>(rows * cols, 101);
  rng gen(102);
  std::vector<std::size_t> random_rows(64);
  for (auto& i : random_rows) i = std::size_t(gen.below(rows));
  random_rows[0] = 0;
  random_rows[1] = rows - 1;
  random_rows[2] = random_rows[3] = 500;
  const std::vector<std::vector<std::size_t>> batches = {
      {3, 1, 4, 1, 5}, random_rows, {999, 0, 7, 7, 7, 2, 998}, rng(103).permutation(rows), {42}};
  const auto want = run_gather(host, table, rows, cols, batches);
  const auto got = run_gather(gpu, table, rows, cols, batches);
  REQUIRE(got.size() == batches.size());
  for (std::size_t b = 0; b < batches.size(); ++b) {
    INFO("batch " << b << " of " << batches[b].size() << " rows");
    std::vector<T> expected;
    for (std::size_t i : batches[b])
      expected.insert(expected.end(), table.begin() + i * cols, table.begin() + (i + 1) * cols);
    CHECK(want[b] == expected);
    CHECK(got[b] == expected);
  }
}

TEST_CASE_TEMPLATE("copy, fill and multiply: exact, over more elements than one grid covers", T,
                   float, double) {
  cpu host(1);
  cuda gpu;
  for (std::size_t n : {std::size_t(15), std::size_t(3000017)}) {
    INFO("n = " << n);
    const auto a = normal_values<T>(n, 111), b = normal_values<T>(n, 112);
    const T value = T(-2.5);
    const auto want = run_copy_fill_multiply(host, a, b, value);
    const auto got = run_copy_fill_multiply(gpu, a, b, value);
    std::vector<T> product(n);
    for (std::size_t i = 0; i < n; ++i) product[i] = a[i] * b[i];
    CHECK(want.copied == a);
    CHECK(got.copied == a);
    CHECK(got.filled == std::vector<T>(n, value));
    CHECK(want.multiplied == product);
    CHECK(got.multiplied == product);
  }
  auto small = gpu.make<T>(2, 3), other = gpu.make<T>(3, 3);
  CHECK_THROWS_AS(gpu.copy(cuda::view(std::as_const(small)), cuda::view(other)), error);
  CHECK_THROWS_AS(gpu.multiply(cuda::view(std::as_const(small)), cuda::view(other)), error);
}

template <class B, class T>
std::pair<std::vector<T>, std::vector<T>> run_windows(B& be, const conv_geometry& g,
                                                      const std::vector<T>& x,
                                                      const std::vector<T>& col) {
  const auto mx = to_backend(be, x, 1, g.in_size());
  const auto mc = to_backend(be, col, g.col_rows(), g.out_positions());
  auto gathered = be.template make<T>(g.col_rows(), g.out_positions());
  auto scattered = be.template make<T>(1, g.in_size());
  be.im2col(cv(B::view(mx)), g, B::view(gathered));
  be.col2im(cv(B::view(mc)), g, B::view(scattered));
  return {host_copy(be, B::view(gathered)), host_copy(be, B::view(scattered))};
}

TEST_CASE_TEMPLATE("im2col exact and col2im: 2-D and 3-D windows with stride and padding", T,
                   float, double) {
  cpu host(1);
  cuda gpu;
  for (const auto& g : {conv_geometry::grid_2d(3, 17, 23, 3, 2, 1),
                        conv_geometry::grid_2d(2, 8, 8, 2, 2),
                        conv_geometry::grid_3d(2, 6, 7, 9, 3, 2, 1)}) {
    INFO(g.describe());
    const auto x = normal_values<T>(g.in_size(), 121);
    const auto col = normal_values<T>(g.col_rows() * g.out_positions(), 122);
    const auto want = run_windows(host, g, x, col);
    const auto got = run_windows(gpu, g, x, col);
    CHECK(got.first == want.first);  // a gather: no arithmetic
    CUDA_CHECK_CLOSE(got.second, want.second, sum_tolerance<T>(g.taps()));
  }
  auto x = gpu.make<T>(1, 10), col = gpu.make<T>(9, 4);
  CHECK_THROWS_AS(gpu.im2col(cv(cuda::view(x)), conv_geometry::grid_2d(1, 4, 4, 3), cuda::view(col)),
                  error);
}

TEST_CASE_TEMPLATE("upload and download: bit-exact round trip, views into the middle of a matrix",
                   T, float, double) {
  cuda gpu;
  using limits = std::numeric_limits<T>;
  std::vector<T> v = normal_values<T>(1000, 121);
  const T specials[] = {limits::quiet_NaN(),
                        -limits::quiet_NaN(),
                        limits::signaling_NaN(),
                        limits::infinity(),
                        -limits::infinity(),
                        T(0),
                        -T(0),
                        limits::denorm_min(),
                        -limits::denorm_min(),
                        limits::min(),
                        limits::max(),
                        limits::lowest()};
  std::copy(std::begin(specials), std::end(specials), v.begin() + 100);
  const auto m = to_backend(gpu, v, 250, 4);
  const auto back = host_copy(gpu, cuda::view(m));
  REQUIRE(back.size() == v.size());
  CHECK(std::memcmp(back.data(), v.data(), v.size() * sizeof(T)) == 0);

  // Rows 2..4 of a 10 x 4 matrix: the views' pointer arithmetic on device memory.
  auto big = gpu.make<T>(10, 4);
  gpu.fill(cuda::view(big), T(7));
  const std::vector<T> part(v.begin(), v.begin() + 12);
  gpu.upload(part.data(), cuda::view(big).rows_slice(2, 3));
  const auto whole = host_copy(gpu, cuda::view(big));
  for (std::size_t i = 0; i < 40; ++i) {
    INFO("element " << i);
    if (i >= 8 && i < 20)
      CHECK(whole[i] == part[i - 8]);
    else
      CHECK(whole[i] == T(7));
  }
  CHECK(host_copy(gpu, cuda::view(big).rows_slice(2, 3)) == part);

  // 16-bit codes travel the same way.
  std::vector<std::uint16_t> codes(999);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = std::uint16_t(i * 65.6);
  const auto mc = to_backend(gpu, codes, 1, codes.size());
  CHECK(host_copy(gpu, cuda::view(mc)) == codes);
}

TEST_CASE(
    "transfers: only uploads, downloads, the resident table, batch indices and scalar "
    "results cross between host and device") {
  cuda gpu;
  const transfer_counts start = gpu.transfers();
  CHECK(start.uploads == 0);
  CHECK(start.downloads == 0);
  CHECK(start.bytes_up == 0);
  CHECK(start.bytes_down == 0);

  const std::size_t rows = 100, cols = 7;
  const auto x = normal_values<float>(rows * cols, 131);
  auto m = to_backend(gpu, x, rows, cols);
  CHECK(gpu.transfers().uploads == 1);
  CHECK(gpu.transfers().bytes_up == rows * cols * sizeof(float));
  CHECK(host_copy(gpu, cuda::view(m)) == x);
  CHECK(gpu.transfers().downloads == 1);
  CHECK(gpu.transfers().bytes_down == rows * cols * sizeof(float));

  // Work that stays on the device.
  auto w = gpu.make<float>(cols, cols), y = gpu.make<float>(rows, cols),
       s = gpu.make<float>(1, cols);
  gpu.fill(cuda::view(w), 0.5f);
  gpu.fill(cuda::view(s), 0.1f);
  gpu.gemm(false, false, 1.0f, cuda::view(std::as_const(m)), cuda::view(std::as_const(w)), 0.0f,
           cuda::view(y));
  gpu.bias_activation_forward(act::tanh{}, cuda::view(std::as_const(s)).data, cuda::view(y));
  gpu.activation_backward(act::tanh{}, cuda::view(std::as_const(y)), cuda::view(m));
  gpu.column_sums(cuda::view(std::as_const(y)), cuda::view(s).data);
  gpu.copy(cuda::view(std::as_const(y)), cuda::view(m));
  gpu.multiply(cuda::view(std::as_const(y)), cuda::view(m));
  gpu.synchronize();
  CHECK(gpu.transfers().uploads == 1);
  CHECK(gpu.transfers().downloads == 1);

  // Each loss value and each all_finite answer: one 8-byte download.
  auto g = gpu.make<float>(rows, cols);
  gpu.mse(cuda::view(std::as_const(y)), cuda::view(std::as_const(m)), cuda::view(g), true);
  gpu.mae(cuda::view(std::as_const(y)), cuda::view(std::as_const(m)), cuda::view(g), false);
  gpu.l1_penalty(cuda::view(std::as_const(y)), 0.1, cuda::view(g));
  CHECK(gpu.all_finite(cuda::view(std::as_const(g))));
  CHECK(gpu.transfers().downloads == 5);
  CHECK(gpu.transfers().bytes_down == rows * cols * sizeof(float) + 4 * sizeof(double));
  CHECK(gpu.transfers().uploads == 1);

  // The training table once, then one upload of row indices per batch.
  const auto table = gpu.resident_table(x.data(), rows, cols);
  CHECK(gpu.transfers().uploads == 2);
  CHECK(gpu.transfers().bytes_up == 2 * rows * cols * sizeof(float));
  const std::vector<std::size_t> index = {5, 3, 99, 0, 12, 12, 1, 2, 3, 4, 5, 6, 7};
  auto batch = gpu.make<float>(index.size(), cols);
  gpu.gather_rows(table, index.data(), cuda::view(batch));
  CHECK(gpu.transfers().uploads == 3);
  CHECK(gpu.transfers().bytes_up ==
        2 * rows * cols * sizeof(float) + index.size() * sizeof(std::size_t));
  CHECK(gpu.transfers().downloads == 5);
}

TEST_CASE_TEMPLATE("quantize_latent: the bits of half.hpp's encode_f16 and encode_bf16", T, float,
                   double) {
  cpu host(1);
  cuda gpu;
  const std::vector<float> floats = encoder_inputs();
  // For double inputs: each of the floats (NaNs left out, see below) and a nearby double that is
  // not a float, so the double -> float rounding before the 16-bit one is exercised too.
  std::vector<T> z;
  std::vector<float> as_float;  // what the reference encodes: z rounded to float
  if constexpr (std::is_same_v<T, float>) {
    z = floats;
    as_float = floats;
  } else {
    rng gen(141);
    for (float f : floats) {
      if (std::isnan(f)) continue;
      z.push_back(double(f));
      if (std::isfinite(f)) z.push_back(double(f) * (1.0 + 0x1p-30 * gen.uniform(-1, 1)));
    }
    for (std::size_t i = 0; i < (1u << 20); ++i)  // anywhere in and beyond float's range
      z.push_back(gen.uniform(-1, 1) * std::ldexp(1.0, int(gen.below(320)) - 170));
    z.push_back(1e300);
    z.push_back(-1e300);
    z.push_back(1e-300);
    z.push_back(-1e-300);
    for (double d : z) as_float.push_back(float(d));
  }
  for (half_format f : {half_format::f16, half_format::bf16}) {
    INFO(format_name(f));
    const auto want = reference_codes(as_float, f);
    const auto on_cpu = run_quantize(host, z, f);
    const auto got = run_quantize(gpu, z, f);
    REQUIRE(got.size() == want.size());
    std::size_t mismatches = 0, first = got.size();
    for (std::size_t i = 0; i < got.size(); ++i)
      if (got[i] != want[i] && mismatches++ == 0) first = i;
    if (mismatches > 0) {
      INFO("first mismatch: input " << hex(bits_of(z[first])) << " (" << double(z[first])
                                    << "), half.hpp " << hex(want[first]) << ", cuda "
                                    << hex(got[first]));
      CHECK(mismatches == 0);
    }
    CHECK(on_cpu == want);
  }
  if constexpr (std::is_same_v<T, double>) {
    // A double NaN becomes a float NaN whose payload the hardware may canonicalise on either
    // side: only its NaN-ness is part of the contract.
    const std::vector<double> nans = {std::numeric_limits<double>::quiet_NaN(),
                                      -std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::signaling_NaN()};
    for (half_format f : {half_format::f16, half_format::bf16})
      for (std::uint16_t code : run_quantize(gpu, nans, f)) {
        INFO(format_name(f) << " code " << hex(code));
        CHECK(is_nan_code(code, f));
      }
  }
}

TEST_CASE_TEMPLATE("dequantize_latent: all 65536 codes of f16 and bf16, as half.hpp decodes them",
                   T, float, double) {
  cpu host(1);
  cuda gpu;
  std::vector<std::uint16_t> codes(65536);
  for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = std::uint16_t(i);
  for (half_format f : {half_format::f16, half_format::bf16}) {
    INFO(format_name(f));
    std::vector<float> want(codes.size());
    if (f == half_format::f16)
      decode_f16(codes.data(), codes.size(), want.data());
    else
      decode_bf16(codes.data(), codes.size(), want.data());
    const auto got = run_dequantize<cuda, T>(gpu, codes, f);
    const auto on_cpu = run_dequantize<cpu, T>(host, codes, f);
    REQUIRE(got.size() == want.size());
    std::size_t mismatches = 0, first = 0;
    for (std::size_t i = 0; i < codes.size(); ++i) {
      bool same;
      if constexpr (std::is_same_v<T, float>)
        same = bits_of(got[i]) == bits_of(want[i]) && bits_of(on_cpu[i]) == bits_of(want[i]);
      else  // widened to double: NaN-ness kept, every other value exactly, the sign of 0 too
        same = std::isnan(want[i]) ? std::isnan(got[i]) && std::isnan(on_cpu[i])
                                   : bits_of(got[i]) == bits_of(double(want[i])) &&
                                         bits_of(on_cpu[i]) == bits_of(double(want[i]));
      if (!same && mismatches++ == 0) first = i;
    }
    if (mismatches > 0) {
      INFO("first mismatch: code " << hex(codes[first]) << ", half.hpp " << want[first] << ", cuda "
                                   << double(got[first]) << ", cpu " << double(on_cpu[first]));
      CHECK(mismatches == 0);
    }
  }
}

TEST_CASE_TEMPLATE(
    "dropout_forward: masks of 0 and 1/(1-p), rate p, y = x * mask, fixed by the "
    "seed",
    T, float, double) {
  cuda gpu;
  // More values than one launch of the grid-stride kernels covers (8192 blocks x 256 threads).
  const std::size_t n = (std::size_t(1) << 21) + 4099;
  const auto x = normal_values<T>(n, 151);
  const auto mx = to_backend(gpu, x, 1, n);
  auto y = gpu.make<T>(1, n), mask = gpu.make<T>(1, n);
  auto draw = [&](double p, rng& gen) {
    gpu.dropout_forward(cuda::view(mx), cuda::view(y), cuda::view(mask), p, gen);
    return std::pair{host_copy(gpu, cuda::view(y)), host_copy(gpu, cuda::view(mask))};
  };
  for (double p : {0.1, 0.3, 0.5, 0.9}) {
    INFO("p = " << p);
    rng gen(42);
    const auto drawn = draw(p, gen);
    const std::vector<T>& ys = drawn.first;
    const std::vector<T>& masks = drawn.second;
    const T keep = T(1.0 / (1.0 - p));
    std::size_t dropped = 0, dropped_first_half = 0, both_dropped = 0, bad_mask = 0, bad_y = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const bool zero = masks[i] == T(0);
      dropped += zero;
      if (i < n / 2) dropped_first_half += zero;
      if (i > 0) both_dropped += zero && masks[i - 1] == T(0);
      bad_mask += !zero && masks[i] != keep;
      bad_y += ys[i] != x[i] * masks[i];
    }
    CHECK(bad_mask == 0);
    CHECK(bad_y == 0);
    // The dropped fraction within 6 standard deviations of p, in the whole and in each half,
    // and neighbours independent (both dropped with probability p^2).
    auto near = [&](double count, double trials, double prob) {
      return std::abs(count / trials - prob) <= 6 * std::sqrt(prob * (1 - prob) / trials);
    };
    CHECK(near(double(dropped), double(n), p));
    CHECK(near(double(dropped_first_half), double(n / 2), p));
    CHECK(near(double(dropped - dropped_first_half), double(n - n / 2), p));
    CHECK(near(double(both_dropped), double(n - 1), p * p));

    // The same seed gives the same mask; the generator moves on, so the next call differs, and
    // so does another seed.
    rng again(42);
    CHECK(draw(p, again).second == masks);
    const auto next = draw(p, again).second;
    rng other(43);
    const auto other_mask = draw(p, other).second;
    std::size_t differ_next = 0, differ_other = 0;
    for (std::size_t i = 0; i < n; ++i) {
      differ_next += next[i] != masks[i];
      differ_other += other_mask[i] != masks[i];
    }
    // Two independent masks differ in a fraction 2p(1-p) of the places (0.18 at p = 0.1).
    CHECK(near(double(differ_next), double(n), 2 * p * (1 - p)));
    CHECK(near(double(differ_other), double(n), 2 * p * (1 - p)));
  }
  // p = 0 keeps everything: mask 1, y = x.
  rng gen(7);
  const auto kept = draw(0.0, gen);
  CHECK(kept.second == std::vector<T>(n, T(1)));
  CHECK(kept.first == x);
}
