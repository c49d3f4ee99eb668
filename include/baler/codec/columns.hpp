#pragma once
// Per-column analysis and normalisation of a table (rows x columns of doubles).
//
// Each column gets one treatment in a compressed file:
//   model    - learned by the autoencoder, normalised first (min-max as Baler, or
//              standardisation, optionally after a log for positive heavy-tailed columns);
//              integer columns among them are rounded and clamped on the way back;
//   constant - one value, stored once;
//   lossless - stored exactly beside the latent: integer columns with few distinct values
//              (charges, flags, counts) where a few bytes buy exactness, columns the user
//              names, and columns holding NaN/Inf when the user allows them;
//   bounded  - error-bounded mode: in place of `model`, quantised within the column's bound,
//              the residual to a prediction (the model's, or another) in the RESQ section.
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/core/error.hpp"

namespace baler::codec {

enum class scaling { minmax, standard };
enum class treatment { model, constant, lossless, bounded };

inline std::string to_string(scaling s) { return s == scaling::minmax ? "minmax" : "standard"; }
inline scaling parse_scaling(const std::string& s) {
  if (s == "minmax") return scaling::minmax;
  if (s == "standard") return scaling::standard;
  throw error("parse_scaling(): unknown normalisation '" + s + "' (expected minmax or standard)");
}
inline std::string to_string(treatment t) {
  switch (t) {
    case treatment::model: return "model";
    case treatment::constant: return "constant";
    case treatment::lossless: return "lossless";
    case treatment::bounded: return "bounded";
  }
  return "?";
}
inline treatment parse_treatment(const std::string& s) {
  if (s == "model") return treatment::model;
  if (s == "constant") return treatment::constant;
  if (s == "lossless") return treatment::lossless;
  if (s == "bounded") return treatment::bounded;
  throw error("parse_treatment(): unknown column treatment '" + s + "'");
}

// What a column holds, measured on the data.
struct column_stats {
  double min = 0, max = 0, mean = 0, stddev = 0;
  bool finite = true;    // no NaN or Inf
  bool integral = true;  // every finite value is a whole number (every one from 2^53 on is)
  std::size_t distinct = 0;  // counted up to a cap (see analyse)
  bool log_helps = false;    // positive and much less skewed after a log
};

inline double skewness(const std::vector<double>& v) {
  double mean = 0, m2 = 0, m3 = 0;
  for (double x : v) mean += x / double(v.size());
  for (double x : v) {
    const double d = x - mean;
    m2 += d * d / double(v.size());
    m3 += d * d * d / double(v.size());
  }
  return m2 > 0 ? m3 / std::pow(m2, 1.5) : 0.0;
}

// The smallest and largest finite values of v[0..n), {0, 0} when there are none: one pass,
// for a whole field whose other statistics are not needed.
inline std::pair<double, double> finite_range(const double* v, std::size_t n) {
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(v[i])) lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
  return lo <= hi ? std::pair{lo, hi} : std::pair{0.0, 0.0};
}

// Whether x is a whole number below 2^53: past it every double is whole, so that being whole
// says nothing of the data there (masses in grams, 1e33, are not counts).
inline bool is_whole(double x) { return std::fabs(x) < 0x1p53 && x == std::nearbyint(x); }

// Whether every finite value of v[0..n) is whole (is_whole): a field of counts or labels.
inline bool integral_values(const double* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (std::isfinite(v[i]) && !is_whole(v[i])) return false;
  return true;
}

// Column c of a row-major table. distinct_cap bounds the work of counting distinct values.
inline column_stats analyse(const double* table, std::size_t rows, std::size_t cols,
                            std::size_t c, std::size_t distinct_cap) {
  column_stats s;
  s.min = INFINITY;
  s.max = -INFINITY;
  std::unordered_set<double> seen;
  std::size_t count = 0;
  double sum = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const double x = table[r * cols + c];
    if (!std::isfinite(x)) {
      s.finite = false;
      continue;
    }
    ++count;
    sum += x;
    s.min = std::min(s.min, x);
    s.max = std::max(s.max, x);
    s.integral &= x == std::nearbyint(x);
    if (seen.size() <= distinct_cap) seen.insert(x);
  }
  s.distinct = seen.size();
  if (count == 0) {
    s.min = s.max = 0;
    return s;
  }
  s.mean = sum / double(count);
  double sq = 0;
  for (std::size_t r = 0; r < rows; ++r)
    if (const double x = table[r * cols + c]; std::isfinite(x)) sq += (x - s.mean) * (x - s.mean);
  s.stddev = std::sqrt(sq / double(count));
  if (s.min > 0 && s.max / s.min > 100) {
    std::vector<double> values, logs;
    for (std::size_t r = 0; r < rows; ++r)
      if (const double x = table[r * cols + c]; std::isfinite(x)) values.push_back(x), logs.push_back(std::log(x));
    s.log_helps = std::abs(skewness(logs)) < 0.5 * std::abs(skewness(values));
  }
  return s;
}

// The map between a modelled column's physical values and the network's inputs:
// n = (g(x) - offset) / scale with g = log or identity. inverse() undoes it.
struct normaliser {
  bool log = false;
  double offset = 0, scale = 1;

  static normaliser fit(const column_stats& s, scaling how, bool log) {
    normaliser n;
    n.log = log;
    const double lo = log ? std::log(s.min) : s.min, hi = log ? std::log(s.max) : s.max;
    if (how == scaling::minmax) {
      n.offset = lo;
      n.scale = hi > lo ? hi - lo : 1.0;
    } else {
      // Standardise in the transformed space; for log columns estimate it from the range,
      // which is what bounds the network's inputs.
      n.offset = log ? 0.5 * (lo + hi) : s.mean;
      n.scale = log ? std::max(0.5 * (hi - lo), 1e-300) : (s.stddev > 0 ? s.stddev : 1.0);
    }
    return n;
  }
  double forward(double x) const { return ((log ? std::log(x) : x) - offset) / scale; }
  double inverse(double n) const {
    const double g = n * scale + offset;
    return log ? std::exp(g) : g;
  }
  nlohmann::json to_json() const { return {{"log", log}, {"offset", offset}, {"scale", scale}}; }
  static normaliser from_json(const nlohmann::json& j) {
    return {j.at("log").get<bool>(), j.at("offset").get<double>(), j.at("scale").get<double>()};
  }
};

}  // namespace baler::codec
