#pragma once
// A table column predicted by a formula over columns decoded before it, found by search at
// compress time: the relations physics tables are built from,
//   hypot(a, b)             transverse momentum from px, py
//   atan2(b, a)             azimuth from px, py
//   norm(a, b, c)           momentum (and, nearly, energy) from px, py, pz
//   asinh(c / hypot(a, b))  pseudorapidity from px, py, pz
// each scaled by a least-squares fit, y ~ alpha f + beta, so units and signs need not match.
// Every formula over every pair or triple of decoded columns is scored on a few rows (the
// spread of y left after the fit), the most promising on more; the best is refitted on many
// rows and kept when it explains most of y. A relation that holds exactly in the data leaves residuals of about
// the quantisation step of its inputs: one or two bits a value at 1e-3 of range.
//
// The decoder evaluates the same formula on the same reconstructed inputs. Every multiply-add
// is an explicit fma, so no compiler flag can fuse or split one differently; atan2 and asinh
// come from the C library, so the block's values are still checked by CRC (compressor.hpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/core/error.hpp"
#include "baler/format/container.hpp"

namespace baler::bounded {

struct formula {
  enum class fn { hypot, atan2, norm, eta };
  fn f = fn::hypot;
  std::array<std::size_t, 3> in{0, 0, 0};
  double alpha = 1, beta = 0;

  static std::size_t arity(fn f) { return f == fn::hypot || f == fn::atan2 ? 2 : 3; }
  static const char* name(fn f) {
    switch (f) {
      case fn::hypot: return "hypot";
      case fn::atan2: return "atan2";
      case fn::norm: return "norm";
      case fn::eta: return "eta";
    }
    return "?";
  }

  double feature(const double* row) const {
    const double a = row[in[0]], b = row[in[1]];
    switch (f) {
      case fn::hypot: return std::sqrt(std::fma(a, a, b * b));
      case fn::atan2: return std::atan2(b, a);
      case fn::norm: {
        const double c = row[in[2]];
        return std::sqrt(std::fma(a, a, std::fma(b, b, c * c)));
      }
      case fn::eta: {
        const double t = std::sqrt(std::fma(a, a, b * b));
        return t > 0 ? std::asinh(row[in[2]] / t) : 0.0;
      }
    }
    return 0;
  }
  // rec: row-major (rows x cols) reconstruction, the inputs complete.
  std::vector<double> predict(const std::vector<double>& rec, std::size_t rows, std::size_t cols) const {
    std::vector<double> y(rows);
    for (std::size_t r = 0; r < rows; ++r) y[r] = std::fma(alpha, feature(rec.data() + r * cols), beta);
    return y;
  }

  nlohmann::json to_json() const {
    std::vector<std::size_t> inputs(in.begin(), in.begin() + arity(f));
    return {{"kind", "formula"}, {"f", name(f)}, {"inputs", inputs}, {"alpha", alpha}, {"beta", beta}};
  }
  static formula from_json(const nlohmann::json& j, std::size_t cols) {
    formula x;
    const std::string n = j.at("f").get<std::string>();
    bool known = false;
    for (fn f : {fn::hypot, fn::atan2, fn::norm, fn::eta})
      if (n == name(f)) x.f = f, known = true;
    require(known, "formula", "unknown formula '" + n + "'");
    const auto inputs = format::header_sizes(j.at("inputs"), "a formula's inputs");
    require(inputs.size() == arity(x.f), "formula", "wrong number of inputs for '" + n + "'");
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      require(inputs[i] < cols, "formula", "input column out of range");
      x.in[i] = inputs[i];
    }
    x.alpha = j.at("alpha").get<double>();
    x.beta = j.at("beta").get<double>();
    return x;
  }

  // The best formula for target y over the `decoded` columns of rec, if one leaves less than
  // `unexplained` of y's variance.
  static std::optional<formula> search(const std::vector<double>& rec, std::size_t rows, std::size_t cols,
                                       const std::vector<std::size_t>& decoded, const std::vector<double>& y,
                                       double unexplained = 0.05) {
    if (decoded.size() < 2 || rows < 16) return std::nullopt;
    auto fit = [&](formula& x, std::size_t samples) {  // least squares on evenly spaced rows
      const std::size_t m = std::min(rows, samples);
      double sf = 0, sy = 0, sff = 0, sfy = 0, syy = 0;
      for (std::size_t s = 0; s < m; ++s) {
        const std::size_t r = s * rows / m;
        const double f = x.feature(rec.data() + r * cols), t = y[r];
        sf += f, sy += t, sff += f * f, sfy += f * t, syy += t * t;
      }
      const double n = double(m), vf = sff - sf * sf / n, cov = sfy - sf * sy / n, vy = syy - sy * sy / n;
      x.alpha = vf > 0 ? cov / vf : 0.0;
      x.beta = (sy - x.alpha * sf) / n;
      const double left = vy - x.alpha * cov;  // residual sum of squares
      return std::isfinite(left) && vy > 0 ? std::max(0.0, left) / vy : 1.0;  // fraction unexplained
    };
    // Every formula scored on 32 rows; the 8 best again on 256; the best of those refitted on
    // up to 65536 rows.
    std::vector<std::pair<double, formula>> shortlist;
    auto consider = [&](fn f, std::size_t a, std::size_t b, std::size_t c) {
      formula x;
      x.f = f, x.in = {a, b, c};
      const double s = fit(x, 32);
      if (shortlist.size() < 8 || s < shortlist.back().first) {
        if (shortlist.size() == 8) shortlist.pop_back();
        shortlist.emplace_back(s, x);
        std::sort(shortlist.begin(), shortlist.end(), [](const auto& p, const auto& q) { return p.first < q.first; });
      }
    };
    const std::size_t d = decoded.size();
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t j = 0; j < d; ++j) {
        if (i == j) continue;
        const std::size_t a = decoded[i], b = decoded[j];
        consider(fn::atan2, a, b, 0);
        if (i < j) consider(fn::hypot, a, b, 0);
        for (std::size_t k = 0; k < d; ++k) {
          if (k == i || k == j || i > j) continue;
          consider(fn::eta, a, b, decoded[k]);
          if (j < k) consider(fn::norm, a, b, decoded[k]);
        }
      }
    std::optional<formula> best;
    double best_score = unexplained;
    for (auto& [score, x] : shortlist) {
      const double s = fit(x, 256);
      if (s < best_score) best_score = s, best = x;
    }
    if (best) fit(*best, 1u << 16);
    return best;
  }
};

}  // namespace baler::bounded
