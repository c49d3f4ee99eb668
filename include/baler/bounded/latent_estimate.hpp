#pragma once
// Should the error-bounded mode train an autoencoder at all? Training costs seconds to minutes;
// its latent and decoder cost bytes in every file. This answers from cheap numbers, before any
// training:
//
//   cost  = latent bytes (rows x latent x 2, as f16: a quantised latent, the default, often
//           takes half that, which errs towards not training) + decoder bytes (its parameters x 2)
//   gain  = what the best linear latent of that width (PCA on a sample of rows, in the
//           normalised units the model sees) removes from the values' spread, in bits:
//           rows x columns x 1/2 log2(spread before / spread after), where a spread below the
//           quantisation step counts as the step (nothing left to gain)
//   train only when gain > cost. A nonlinear autoencoder may do better than PCA, but a latent
//   that PCA says cannot pay for its own bytes rarely does; the user can force it either way.
#include <algorithm>
#include <cmath>
#include <vector>

#include "baler/bounded/psnr_target.hpp"
#include "baler/codec/error_bound.hpp"
#include "baler/codec/schema.hpp"

namespace baler::bounded {

// Eigenvalues of the symmetric n x n matrix a (row-major), by cyclic Jacobi rotations.
inline std::vector<double> symmetric_eigenvalues(std::vector<double> a, std::size_t n) {
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) off += a[p * n + q] * a[p * n + q];
    if (off < 1e-22) break;
    for (std::size_t p = 0; p < n; ++p)
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (std::abs(apq) < 1e-300) continue;
        const double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const double t = (theta >= 0 ? 1 : -1) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // columns p, q
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // rows p, q
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
  }
  std::vector<double> e(n);
  for (std::size_t i = 0; i < n; ++i) e[i] = std::max(0.0, a[i * n + i]);
  std::sort(e.rbegin(), e.rend());
  return e;
}

struct latent_estimate {
  double gain_bytes = 0, cost_bytes = 0;
  bool pays() const { return gain_bytes > cost_bytes; }
};

// `latent`: the latent width; `decoder_parameters`: the decoder's parameter count.
inline latent_estimate estimate_latent(const codec::table& t, const codec::model_schema& s,
                                       const codec::bound_config& b, std::size_t latent,
                                       std::size_t decoder_parameters) {
  latent_estimate e;
  const std::size_t m = s.modelled.size();
  e.cost_bytes = 2.0 * double(t.rows * latent + decoder_parameters);
  if (m == 0 || latent >= m || m > 256) return e;  // wider than a covariance worth forming
  const std::size_t rows = std::min<std::size_t>(t.rows, 4096);
  std::vector<double> x(rows * m), step(m);
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t col = s.modelled[k];
    const codec::column_stats st = codec::analyse(t.values.data(), t.rows, t.cols, col, 0);
    const double span = st.max > st.min ? st.max - st.min : 1.0;
    codec::bound_spec spec = b.of(t.names[col]);
    if (spec.kind == codec::bound_kind::psnr) spec = {codec::bound_kind::range, typical_range_bound(spec.value)};
    const codec::value_code code = codec::code_for(spec, st.min, st.max, s.integer[col]);
    // rel bounds: the step at a typical magnitude.
    const double abs_step = code.kind == codec::bound_kind::rel ? 2 * code.bound * std::abs(st.mean) : code.step;
    step[k] = std::max(abs_step / span, 1e-12);
    for (std::size_t r = 0; r < rows; ++r)
      x[r * m + k] = (t.values[(r * t.rows / rows) * t.cols + col] - st.min) / span;
  }
  std::vector<double> mean(m, 0), cov(m * m, 0);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < m; ++k) mean[k] += x[r * m + k] / double(rows);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t p = 0; p < m; ++p)
      for (std::size_t q = 0; q < m; ++q)
        cov[p * m + q] += (x[r * m + p] - mean[p]) * (x[r * m + q] - mean[q]) / double(rows);
  const std::vector<double> eig = symmetric_eigenvalues(cov, m);
  double before = 0, after = 0, step2 = 0;
  for (std::size_t i = 0; i < m; ++i) (i < latent ? before : after) += eig[i], step2 += step[i] * step[i] / double(m);
  before += after;
  const double floor2 = step2 * double(m);  // the quantisation's own spread, summed like the variances
  e.gain_bytes = double(t.rows) * double(m) * 0.5 *
                 std::log2(std::max(before, floor2) / std::max(after, floor2)) / 8;
  return e;
}

}  // namespace baler::bounded
