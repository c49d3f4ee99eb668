#pragma once
// A column predicted from the columns decoded before it: a one-hidden-layer tanh network,
// trained at compress time on the reconstructed (quantised) inputs the decoder will also have.
// HEP tables hold exact relations (pt = sqrt(px^2 + py^2), E from p, phi = atan2(py, px), the
// pair mass from both muons); the network learns them approximately and only its error is
// coded, so the bound stays exact whatever the network's quality.
//
//   u_i = 2 (x^_i - lo_i) / (hi_i - lo_i) - 1          inputs: earlier bounded float columns
//   h   = tanh(W1 u + b1)                               W1: (hidden x inputs)
//   y   = lo + (w2 . h + b2) (hi - lo)                  the prediction, physical units
//
// Weights are rounded to float32 before the predictions are made, and stored so (the bytes in
// front of the column's residual block), so compress and decompress evaluate the same network
// in the same double arithmetic. Training: Adam on MSE over a subsample of the rows whose
// target is there; an input that is not (NaN or Inf) reads as the middle of its range.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "baler/codec/symbol_coder.hpp"
#include "baler/core/rng.hpp"

namespace baler::codec {

// tanh in float for training, without a library call: 1 - 2 / (1 + e^2x), e^2x as 2^k e^r with
// |r| <= ln2 / 2 and e^r by its Taylor series to r^6 (relative error below 2e-7, float's own).
// Beyond |x| = 9 tanh is 1 in float.
inline float training_tanh(float x) {
  const float z = 2 * std::min(std::max(x, -9.0f), 9.0f);
  const float kf = z * 1.44269504f;                                // z / ln2
  const std::int32_t k = std::int32_t(kf + (kf < 0 ? -0.5f : 0.5f));  // nearest integer, |k| <= 26
  const float r = z - float(k) * 0.693147182f;
  const float er = 1 + r * (1 + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  const std::int32_t bits = (k + 127) << 23;  // 2^k
  float two_k;
  std::memcpy(&two_k, &bits, 4);
  return 1 - 2 / (1 + er * two_k);
}

struct relation_net {
  std::vector<std::size_t> inputs;  // column indices
  static constexpr std::size_t trained_hidden = 16;  // what fit trains (a file may say otherwise)
  std::size_t hidden = trained_hidden;
  std::vector<double> lo, hi;       // per input, then the target last: normalisation
  std::vector<double> w;            // W1 (hidden x d), b1, w2, b2: float32 values

  std::size_t d() const { return inputs.size(); }
  std::size_t size() const { return hidden * (d() + 2) + 1; }

  // The reference for one row. `row`: a row of the row-major reconstruction of the table so
  // far; `u`: scratch of d(). `fused`: multiply-adds as explicit fmas (today's files) or as
  // separate operations.
  double predict_row(const double* row, std::vector<double>& u, bool fused) const {
    for (std::size_t i = 0; i < d(); ++i) u[i] = normal(row[inputs[i]], i);
    const double* b1 = w.data() + hidden * d();
    const double* w2 = b1 + hidden;
    double y = w2[hidden];
    if (!fused) {  // as files before the context coder computed it
      for (std::size_t j = 0; j < hidden; ++j) {
        double a = b1[j];
        for (std::size_t i = 0; i < d(); ++i) a += w[j * d() + i] * u[i];
        y += w2[j] * std::tanh(a);
      }
      return lo.back() + y * span(d());
    }
    // Explicit fmas: the same rounding whatever the compiler's contraction flags.
    for (std::size_t j = 0; j < hidden; ++j) {
      double a = b1[j];
      for (std::size_t i = 0; i < d(); ++i) a = std::fma(w[j * d() + i], u[i], a);
      y = std::fma(w2[j], std::tanh(a), y);
    }
    return std::fma(y, span(d()), lo.back());
  }
  // Every row of `rec` (rows x cols). Fused: `lanes` rows at a time, each through exactly
  // predict_row's operations in its order (so the same bits), the rows side by side so that
  // the fmas vectorise instead of waiting on one another.
  std::vector<double> predict(const std::vector<double>& rec, std::size_t rows, std::size_t cols,
                              bool fused = true) const {
    std::vector<double> out(rows);
    if (!fused) {
      std::vector<double> u(d());
      for (std::size_t r = 0; r < rows; ++r) out[r] = predict_row(rec.data() + r * cols, u, false);
      return out;
    }
    constexpr std::size_t lanes = 8;
    const double* b1 = w.data() + hidden * d();
    const double* w2 = b1 + hidden;
    std::vector<double> u(d() * lanes);  // u[i * lanes + lane]: input i of row r0 + lane
    for (std::size_t r0 = 0; r0 < rows; r0 += lanes) {
      const std::size_t n = std::min(lanes, rows - r0);
      for (std::size_t i = 0; i < d(); ++i)
        for (std::size_t l = 0; l < lanes; ++l)
          u[i * lanes + l] = l < n ? normal(rec[(r0 + l) * cols + inputs[i]], i) : 0.0;
      std::array<double, lanes> y, a;
      y.fill(w2[hidden]);
      for (std::size_t j = 0; j < hidden; ++j) {
        a.fill(b1[j]);
        for (std::size_t i = 0; i < d(); ++i) {
          const double wji = w[j * d() + i];
          for (std::size_t l = 0; l < lanes; ++l) a[l] = std::fma(wji, u[i * lanes + l], a[l]);
        }
        for (std::size_t l = 0; l < n; ++l) y[l] = std::fma(w2[j], std::tanh(a[l]), y[l]);
      }
      for (std::size_t l = 0; l < n; ++l) out[r0 + l] = std::fma(y[l], span(d()), lo.back());
    }
    return out;
  }

  // Trains on target column values `x` (physical units) from the inputs in `rec`. Training runs
  // in float with training_tanh (the decoder never repeats it: the weights are stored), the
  // hidden units innermost so that the loops vectorise; its weights end in float32 anyway.
  static relation_net fit(const std::vector<double>& rec, std::size_t rows, std::size_t cols,
                          std::vector<std::size_t> inputs, const std::vector<double>& x,
                          std::vector<double> lo, std::vector<double> hi, std::size_t epochs = 30) {
    relation_net n;
    n.inputs = std::move(inputs);
    n.lo = std::move(lo), n.hi = std::move(hi);
    const std::size_t d = n.d();
    constexpr std::size_t h = trained_hidden;  // a constant: the hidden loops vectorise
    // Parameters while training, hidden index fastest: W1 transposed (d x h), b1, w2 (h each), b2.
    const std::size_t size = n.size();
    std::vector<float> p(size);
    float* wt = p.data();
    float* b1 = wt + d * h;
    float* w2 = b1 + h;
    rng gen(17);
    for (std::size_t j = 0; j < h; ++j)
      for (std::size_t i = 0; i < d; ++i) wt[i * h + j] = float(gen.normal() * 1.5 / std::sqrt(double(d)));
    for (std::size_t j = 0; j < h; ++j) b1[j] = float(gen.normal() * 0.5), w2[j] = float(gen.normal() * 0.1);
    p.back() = 0.5f;

    // An even subsample of the rows whose target is there (not NaN or Inf).
    std::vector<std::size_t> whole;
    for (std::size_t r = 0; r < rows; ++r)
      if (std::isfinite(x[r])) whole.push_back(r);
    const std::size_t m = std::min<std::size_t>(whole.size(), 1024), batch = 32;
    std::vector<float> us(m * d), ys(m);
    for (std::size_t s = 0; s < m; ++s) {
      const std::size_t r = whole[s * whole.size() / m];
      for (std::size_t i = 0; i < d; ++i) us[s * d + i] = float(n.normal(rec[r * cols + n.inputs[i]], i));
      ys[s] = float((x[r] - n.lo.back()) / n.span(d));
    }
    std::vector<float> g(size), m1(size, 0), m2(size, 0);
    std::array<float, h> t, da;
    float* gwt = g.data();
    float* gb1 = gwt + d * h;
    float* gw2 = gb1 + h;
    std::size_t step = 0;
    for (std::size_t e = 0; e < epochs; ++e) {
      const float lr = float(3e-3 * (1 - 0.9 * double(e) / double(epochs)));
      for (std::size_t first = 0; first < m; first += batch) {
        std::fill(g.begin(), g.end(), 0.0f);
        const std::size_t last = std::min(m, first + batch);
        for (std::size_t s = first; s < last; ++s) {
          const float* u = &us[s * d];
          for (std::size_t j = 0; j < h; ++j) t[j] = b1[j];
          for (std::size_t i = 0; i < d; ++i) {
            const float ui = u[i];
            for (std::size_t j = 0; j < h; ++j) t[j] += wt[i * h + j] * ui;
          }
          for (std::size_t j = 0; j < h; ++j) t[j] = training_tanh(t[j]);
          float y = p.back();
          for (std::size_t j = 0; j < h; ++j) y += w2[j] * t[j];
          const float dy = 2 * (y - ys[s]) / float(last - first);
          g.back() += dy;
          for (std::size_t j = 0; j < h; ++j) {
            gw2[j] += dy * t[j];
            da[j] = dy * w2[j] * (1 - t[j] * t[j]);
            gb1[j] += da[j];
          }
          for (std::size_t i = 0; i < d; ++i) {
            const float ui = u[i];
            for (std::size_t j = 0; j < h; ++j) gwt[i * h + j] += da[j] * ui;
          }
        }
        ++step;
        const float c1 = float(1 - std::pow(0.9, double(step))), c2 = float(1 - std::pow(0.999, double(step)));
        for (std::size_t k = 0; k < size; ++k) {
          m1[k] = 0.9f * m1[k] + 0.1f * g[k];
          m2[k] = 0.999f * m2[k] + 0.001f * g[k] * g[k];
          p[k] -= lr * (m1[k] / c1) / (std::sqrt(m2[k] / c2) + 1e-8f);
        }
      }
    }
    n.w.assign(size, 0.0);  // back to W1 (h x d), b1, w2, b2
    for (std::size_t j = 0; j < h; ++j)
      for (std::size_t i = 0; i < d; ++i) n.w[j * d + i] = wt[i * h + j];
    for (std::size_t k = d * h; k < size; ++k) n.w[k] = p[k];
    return n;
  }

  // Weights and normalisation as bytes: varint d, varint hidden, d x varint input, f64 lo/hi
  // of inputs and target, f32 weights.
  std::vector<std::byte> bytes() const {
    std::vector<std::byte> out;
    append_varint(out, d());
    append_varint(out, hidden);
    for (std::size_t c : inputs) append_varint(out, c);
    auto put = [&](const void* p, std::size_t n) {
      out.insert(out.end(), static_cast<const std::byte*>(p), static_cast<const std::byte*>(p) + n);
    };
    for (std::size_t i = 0; i <= d(); ++i) put(&lo[i], 8), put(&hi[i], 8);
    for (double v : w) {
      const float f = float(v);
      put(&f, 4);
    }
    return out;
  }
  static relation_net read(rans::reader& in, std::size_t cols) {
    relation_net n;
    const std::size_t d = in.varint();
    n.hidden = in.varint();
    require(d > 0 && d < cols && n.hidden > 0 && n.hidden <= 1024, "relation_net", "bad network shape");
    for (std::size_t i = 0; i < d; ++i) {
      n.inputs.push_back(in.varint());
      require(n.inputs.back() < cols, "relation_net", "input column out of range");
    }
    n.lo.resize(d + 1), n.hi.resize(d + 1);
    for (std::size_t i = 0; i <= d; ++i) {
      std::memcpy(&n.lo[i], in.bytes(8).data, 8);
      std::memcpy(&n.hi[i], in.bytes(8).data, 8);
    }
    n.w.resize(n.size());
    for (double& v : n.w) {
      float f;
      std::memcpy(&f, in.bytes(4).data, 4);
      v = f;
    }
    return n;
  }

private:
  double span(std::size_t i) const { return hi[i] > lo[i] ? hi[i] - lo[i] : 1.0; }
  // An input in [-1, 1] over its range; a missing one (NaN or Inf) at 0, the middle, so that
  // the other inputs still predict (the column's target rows are all there).
  double normal(double v, std::size_t i) const { return std::isfinite(v) ? 2 * (v - lo[i]) / span(i) - 1 : 0.0; }
};

}  // namespace baler::codec
