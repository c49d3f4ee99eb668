#pragma once
// A table column predicted by a formula over columns decoded before it, found by search at
// compress time: the relations physics tables are built from,
//   hypot(a, b)             transverse momentum from px, py
//   atan2(b, a)             azimuth from px, py
//   norm(a, b, c)           momentum (and, nearly, energy) from px, py, pz
//   asinh(c / hypot(a, b))  pseudorapidity from px, py, pz
//   w1 a + w2 b + ...       sums and differences: fractions that add up to one (a jet's energy
//                           fractions, a classifier's probabilities), totals of parts, a column
//                           in other units; up to 16 inputs, weights by least squares
// each scaled by a least-squares fit, y ~ alpha f + beta, so units and signs need not match.
// Rows where y is NaN or Inf (a missing object) are left out of every fit, and a formula must
// have its inputs wherever y is there (elsewhere it predicts NaN, which the coder reads as
// code 0).
// Every formula over every pair or triple of decoded columns (in a wide table, of the 32 or 16
// that follow y most closely) is scored on a few rows (the spread of y left after the fit), the
// most promising on more; the best is refitted on many rows and kept when it explains most of
// y. A relation that holds exactly in the data leaves residuals of about
// the quantisation step of its inputs: one or two bits a value at 1e-3 of range.
//
// The decoder evaluates the same formula on the same reconstructed inputs. Every multiply-add
// is an explicit fma, so no compiler flag can fuse or split one differently; atan2 and asinh
// come from the C library, so the block's values are still checked by CRC (compressor.hpp).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/core/error.hpp"
#include "baler/core/gauss_jordan.hpp"
#include "baler/format/container.hpp"

namespace baler::bounded {

struct formula {
  enum class fn { hypot, atan2, norm, eta, linear };
  fn f = fn::hypot;
  std::vector<std::size_t> in{0, 0, 0};  // input columns: 2 or 3, linear 1 to max_linear_inputs
  std::vector<double> w;                 // linear: a weight per input
  double alpha = 1, beta = 0;

  static constexpr std::size_t max_linear_inputs = 16;
  static std::size_t arity(fn f) { return f == fn::hypot || f == fn::atan2 ? 2 : 3; }
  static const char* name(fn f) {
    switch (f) {
      case fn::hypot: return "hypot";
      case fn::atan2: return "atan2";
      case fn::norm: return "norm";
      case fn::eta: return "eta";
      case fn::linear: return "linear";
    }
    return "?";
  }

  double feature(const double* row) const {
    if (f == fn::linear) {  // in the stored order, one fma at a time: the same sum everywhere
      double sum = 0;
      for (std::size_t i = 0; i < in.size(); ++i) sum = std::fma(w[i], row[in[i]], sum);
      return sum;
    }
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
      case fn::linear: break;
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
    nlohmann::json j = {{"kind", "formula"}, {"f", name(f)}, {"alpha", alpha}, {"beta", beta}};
    if (f == fn::linear) j["inputs"] = in, j["weights"] = w;
    else j["inputs"] = std::vector<std::size_t>(in.begin(), in.begin() + std::ptrdiff_t(arity(f)));
    return j;
  }
  static formula from_json(const nlohmann::json& j, std::size_t cols) {
    formula x;
    const std::string n = j.at("f").get<std::string>();
    bool known = false;
    for (fn f : {fn::hypot, fn::atan2, fn::norm, fn::eta, fn::linear})
      if (n == name(f)) x.f = f, known = true;
    require(known, "formula", "unknown formula '" + n + "'");
    x.in = format::header_sizes(j.at("inputs"), "a formula's inputs");
    if (x.f == fn::linear) {
      x.w = j.at("weights").get<std::vector<double>>();
      require(!x.in.empty() && x.in.size() <= max_linear_inputs && x.w.size() == x.in.size(), "formula",
              "a linear formula needs 1 to " + std::to_string(max_linear_inputs) + " inputs, a weight each");
    } else {
      require(x.in.size() == arity(x.f), "formula", "wrong number of inputs for '" + n + "'");
    }
    for (std::size_t c : x.in) require(c < cols, "formula", "input column out of range");
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
    auto fit = [&](formula& x, std::size_t samples) { return x.fit_scale(rec, rows, cols, y, samples); };
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
    // One ranking for both: the triples' columns are the first of the pairs'.
    const std::size_t d = decoded.size();
    const std::vector<std::size_t> order =
        d > max_triple_inputs ? by_closeness(rec, rows, cols, decoded, y) : std::vector<std::size_t>{};
    const std::vector<std::size_t> paired = indices(closest(order, d, max_search_inputs));
    const std::vector<bool> tripled = closest(order, d, max_triple_inputs);
    for (std::size_t i : paired)
      for (std::size_t j : paired) {
        if (i == j) continue;
        const std::size_t a = decoded[i], b = decoded[j];
        consider(fn::atan2, a, b, 0);
        if (i < j) consider(fn::hypot, a, b, 0);
        if (i > j || !tripled[i] || !tripled[j]) continue;
        for (std::size_t k : paired) {
          if (k == i || k == j || !tripled[k]) continue;
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

  // The least-squares linear combination of the `decoded` columns for y (of at most
  // max_linear_inputs, those most correlated with y among the related ones), if it leaves less
  // than `unexplained` of y's variance.
  static std::optional<formula> search_linear(const std::vector<double>& rec, std::size_t rows, std::size_t cols,
                                              const std::vector<std::size_t>& decoded, const std::vector<double>& y,
                                              double unexplained = 0.01) {
    if (decoded.empty() || rows < 16) return std::nullopt;
    const std::size_t m = std::min<std::size_t>(rows, 1u << 14), d = decoded.size();
    auto at = [&](std::size_t s, std::size_t i) { return rec[(s * rows / m) * cols + decoded[i]]; };  // sample s
    auto target = [&](std::size_t s) { return y[s * rows / m]; };
    // The samples whose target is there (and so every input picked below).
    std::vector<char> whole(m);
    std::size_t used = 0;
    for (std::size_t s = 0; s < m; ++s) used += whole[s] = std::isfinite(target(s));
    if (used < min_fit_rows) return std::nullopt;
    // |correlation with y|, index into decoded; of the columns there wherever y is, among those
    // a search tries. One pass over the samples, every column's sums beside one another: the
    // rows of a wide table are read once each, not once a column.
    const std::vector<std::size_t> tried = indices(related(rec, rows, cols, decoded, y, max_search_inputs));
    std::vector<correlation> sums(d);
    std::vector<char> covers(d, 1);
    for (std::size_t s = 0; s < m; ++s) {
      if (!whole[s]) continue;
      const double t = target(s);
      for (std::size_t i : tried)
        if (const double u = at(s, i); std::isfinite(u)) sums[i].add(u, t);
        else covers[i] = 0;
    }
    std::vector<std::pair<double, std::size_t>> score;
    for (std::size_t i : tried)
      if (const double r = covers[i] ? sums[i].abs_r() : 0.0; r > 0) score.emplace_back(r, i);
    std::sort(score.begin(), score.end(), [](const auto& p, const auto& q) { return p.first > q.first; });
    const std::size_t k = std::min(score.size(), max_linear_inputs);
    if (k == 0) return std::nullopt;
    std::vector<std::size_t> pick(k);
    for (std::size_t i = 0; i < k; ++i) pick[i] = score[i].second;
    std::vector<double> mean(d, 0.0);
    double mean_y = 0;
    for (std::size_t s = 0; s < m; ++s) {
      if (!whole[s]) continue;
      for (std::size_t i : pick) mean[i] += at(s, i) / double(used);
      mean_y += target(s) / double(used);
    }
    // Normal equations [A | b] of the centred inputs, with a ridge of 1e-12 of the largest
    // variance against inputs that repeat one another.
    std::vector<double> A(k * (k + 1), 0.0);
    for (std::size_t s = 0; s < m; ++s)
      for (std::size_t i = 0; whole[s] && i < k; ++i) {
        const double a = at(s, pick[i]) - mean[pick[i]];
        A[i * (k + 1) + k] += a * (target(s) - mean_y);
        for (std::size_t j = 0; j <= i; ++j) A[i * (k + 1) + j] += a * (at(s, pick[j]) - mean[pick[j]]);
      }
    double ridge = 0;
    for (std::size_t i = 0; i < k; ++i) {
      for (std::size_t j = 0; j < i; ++j) A[j * (k + 1) + i] = A[i * (k + 1) + j];
      ridge = std::max(ridge, A[i * (k + 1) + i] * 1e-12);
    }
    for (std::size_t i = 0; i < k; ++i) A[i * (k + 1) + i] += ridge;
    if (!gauss_jordan(A.data(), k)) return std::nullopt;
    std::vector<double> w(k);
    for (std::size_t i = 0; i < k; ++i) w[i] = A[i * (k + 1) + k] / A[i * (k + 1) + i];
    formula x;
    x.f = fn::linear;
    x.in.clear();
    for (std::size_t i : pick) x.in.push_back(decoded[i]);
    x.w = w;
    if (!std::all_of(w.begin(), w.end(), [](double v) { return std::isfinite(v); })) return std::nullopt;
    return x.fit_scale(rec, rows, cols, y, 1u << 16) < unexplained ? std::optional<formula>(x) : std::nullopt;
  }

  // Pairs of columns are tried among at most this many, triples among fewer (their counts grow
  // as the square and the cube: every pair of a table of 200 columns, for each of its columns,
  // took minutes); a linear formula picks its inputs and a relation network reads its inputs
  // among at most this many.
  static constexpr std::size_t max_search_inputs = 32, max_triple_inputs = 16;

  // Which of the `decoded` columns a search tries: all of them, or the `most` that follow y
  // most closely (by_closeness).
  static std::vector<bool> related(const std::vector<double>& rec, std::size_t rows, std::size_t cols,
                                   const std::vector<std::size_t>& decoded, const std::vector<double>& y,
                                   std::size_t most) {
    const std::size_t d = decoded.size();
    return closest(d > most ? by_closeness(rec, rows, cols, decoded, y) : std::vector<std::size_t>{}, d, most);
  }

private:
  // The positions in `decoded` of its columns, those that follow y most closely first
  // (|correlation| on 256 rows of values or magnitudes: of x and y, |x| and |y|, x and |y| (px
  // and the azimuth), |x| and y (px and the transverse momentum)).
  static std::vector<std::size_t> by_closeness(const std::vector<double>& rec, std::size_t rows, std::size_t cols,
                                               const std::vector<std::size_t>& decoded, const std::vector<double>& y) {
    const std::size_t d = decoded.size(), m = std::min<std::size_t>(rows, 256);
    std::vector<std::pair<double, std::size_t>> score;
    for (std::size_t i = 0; i < d; ++i) {
      auto x = [&](std::size_t s) { return rec[(s * rows / m) * cols + decoded[i]]; };
      auto t = [&](std::size_t s) { return y[s * rows / m]; };
      auto abs_x = [&](std::size_t s) { return std::abs(x(s)); };
      auto abs_t = [&](std::size_t s) { return std::abs(t(s)); };
      score.emplace_back(std::max({abs_correlation(x, t, m), abs_correlation(abs_x, abs_t, m),
                                   abs_correlation(x, abs_t, m), abs_correlation(abs_x, t, m)}),
                         i);
    }
    std::sort(score.begin(), score.end(), [](const auto& p, const auto& q) { return p.first > q.first; });
    std::vector<std::size_t> order;
    for (const auto& [r, i] : score) order.push_back(i);
    return order;
  }

  // Of d columns, the first `most` of `order` (by_closeness), or all d where d <= most.
  static std::vector<bool> closest(const std::vector<std::size_t>& order, std::size_t d, std::size_t most) {
    std::vector<bool> chosen(d, d <= most);
    for (std::size_t r = 0; d > most && r < most; ++r) chosen[order[r]] = true;
    return chosen;
  }

  // The positions of `chosen` that are true, in order.
  static std::vector<std::size_t> indices(const std::vector<bool>& chosen) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < chosen.size(); ++i)
      if (chosen[i]) out.push_back(i);
    return out;
  }

  // A fit needs this many rows with every value there.
  static constexpr std::size_t min_fit_rows = 8;

  // Sums of pairs (u, v), added in order, and |correlation| of those added; 0 where either is
  // constant.
  struct correlation {
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    std::size_t used = 0;
    void add(double u, double v) { sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v, ++used; }
    double abs_r() const {
      const double n = double(used), va = saa - sa * sa / n, vb = sbb - sb * sb / n, c = sab - sa * sb / n;
      const double r = va > 0 && vb > 0 ? std::abs(c) / std::sqrt(va * vb) : 0.0;
      return std::isfinite(r) ? r : 0.0;
    }
  };

  // |correlation| of a(s) and b(s) over the samples s < m where both are finite.
  template <class A, class B>
  static double abs_correlation(A&& a, B&& b, std::size_t m) {
    correlation sums;
    for (std::size_t s = 0; s < m; ++s)
      if (const double u = a(s), v = b(s); std::isfinite(u) && std::isfinite(v)) sums.add(u, v);
    return sums.abs_r();
  }

  // alpha and beta by least squares on up to `samples` evenly spaced rows; returns the fraction
  // of y's variance left unexplained.
  double fit_scale(const std::vector<double>& rec, std::size_t rows, std::size_t cols, const std::vector<double>& y,
                   std::size_t samples) {
    const std::size_t m = std::min(rows, samples);
    double sf = 0, sy = 0, sff = 0, sfy = 0, syy = 0;
    std::size_t used = 0;
    for (std::size_t s = 0; s < m; ++s) {
      const std::size_t r = s * rows / m;
      const double f = feature(rec.data() + r * cols), t = y[r];
      if (!std::isfinite(t)) continue;  // missing in y: nothing to predict
      if (!std::isfinite(f)) {          // missing in an input where y is there: no prediction
        alpha = 0, beta = 0;
        return 1.0;
      }
      sf += f, sy += t, sff += f * f, sfy += f * t, syy += t * t, ++used;
    }
    if (used < min_fit_rows) {
      alpha = 0, beta = 0;
      return 1.0;
    }
    const double n = double(used), vf = sff - sf * sf / n, cov = sfy - sf * sy / n, vy = syy - sy * sy / n;
    alpha = vf > 0 ? cov / vf : 0.0;
    beta = (sy - alpha * sf) / n;
    const double left = vy - alpha * cov;  // residual sum of squares
    return std::isfinite(left) && vy > 0 ? std::max(0.0, left) / vy : 1.0;  // fraction unexplained
  }
};

}  // namespace baler::bounded
