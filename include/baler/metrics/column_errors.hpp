#pragma once
// Per-column errors of a lossy reconstruction: the numbers physicists judge a compressor by.
// A table gets one row per column; a field (an array of more than 2 dimensions, e.g. frames of
// a CFD simulation) gets one row over all its values, since one "column" per grid point would
// be thousands of rows nobody reads, and the field-level figure of merit is the PSNR.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "baler/codec/table.hpp"
#include "baler/core/error.hpp"
#include "baler/io/csv.hpp"
#include "baler/io/dataset.hpp"
#include "baler/metrics/quantile.hpp"

namespace baler::metrics {

// Definitions, with x the original and x̂ the reconstructed value of one entry, n = count:
//   min, max, range = max - min             of the original column
//   mean_residual   = mean(x̂ - x)           (a bias of the compressor)
//   rms_residual    = sqrt(mean((x̂ - x)^2))
//   rms_over_range  = rms_residual / range  (0 when both are 0, +inf for a constant column
//                                             reconstructed with errors)
//   max_abs_error   = max |x̂ - x|
//   rel_qNN         = NN % quantile (metrics::quantile) of |x̂ - x| / |x| over the entries
//                     with x != 0; NaN when every x is 0
//   zero_count      = entries with x == 0, left out of the relative quantiles because their
//                     relative error is undefined
//   non_finite      = entries with x NaN or +-Inf, restored as themselves (the codec stores them
//                     exactly), left out of every other statistic; count includes them
//   psnr_db         = 20 log10(range / rms_residual) in dB; +inf for an exact reconstruction.
//                     Reported for every row; it is the headline number for fields.
struct column_error {
  std::string name;
  std::size_t count = 0;
  double min = 0, max = 0, range = 0;
  double mean_residual = 0, rms_residual = 0, rms_over_range = 0, max_abs_error = 0;
  double rel_q50 = 0, rel_q90 = 0, rel_q99 = 0;
  std::size_t zero_count = 0;
  double psnr_db = 0;
  std::size_t non_finite = 0;
};

// The row for one sequence of values, read with a stride so that a column of a row-major table
// needs no copy: entry i is original[i * stride]. A NaN or Inf restored as itself is counted
// apart; any other non-finite value is an error: it would turn every statistic into NaN
// without saying where the problem is. `shift`: what both are held less of (64-bit integers past
// 2^53, wide_integers.hpp), added to the minimum, the maximum and the magnitudes.
inline column_error summarize(std::string name, const double* original, const double* reconstructed,
                              std::size_t count, std::size_t stride = 1, double shift = 0) {
  constexpr const char* where = "metrics::summarize";
  require(count > 0, where, "column '" + name + "' has no entries");
  column_error e;
  e.name = std::move(name);
  e.count = count;
  e.min = std::numeric_limits<double>::infinity();
  e.max = -std::numeric_limits<double>::infinity();
  double sum = 0, sum_sq = 0;
  std::vector<double> relative;
  relative.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double x = original[i * stride], y = reconstructed[i * stride];
    if (!std::isfinite(x) && (x == y || (std::isnan(x) && std::isnan(y)))) {
      ++e.non_finite;
      continue;
    }
    require(std::isfinite(x) && std::isfinite(y), where,
            "column '" + e.name + "' entry " + std::to_string(i) + " is not finite (original " +
                std::to_string(x) + ", reconstructed " + std::to_string(y) + ")");
    const double r = y - x;
    e.min = std::min(e.min, x);
    e.max = std::max(e.max, x);
    sum += r;
    sum_sq += r * r;
    e.max_abs_error = std::max(e.max_abs_error, std::abs(r));
    if (x + shift == 0)
      ++e.zero_count;
    else
      relative.push_back(std::abs(r) / std::abs(x + shift));
  }
  const double n = static_cast<double>(count - e.non_finite);
  if (e.non_finite == count) e.min = e.max = 0;
  e.range = e.max - e.min;
  e.min += shift, e.max += shift;
  e.mean_residual = n > 0 ? sum / n : 0.0;
  e.rms_residual = n > 0 ? std::sqrt(sum_sq / n) : 0.0;
  const double inf = std::numeric_limits<double>::infinity();
  e.rms_over_range = e.rms_residual == 0 ? 0.0 : e.range == 0 ? inf : e.rms_residual / e.range;
  e.psnr_db = e.rms_residual == 0 ? inf : 20.0 * std::log10(e.range / e.rms_residual);
  e.rel_q50 = quantile(relative, 0.50);
  e.rel_q90 = quantile(relative, 0.90);
  e.rel_q99 = quantile(relative, 0.99);
  return e;
}

inline column_error summarize(std::string name, const std::vector<double>& original,
                              const std::vector<double>& reconstructed) {
  require(original.size() == reconstructed.size(), "metrics::summarize",
          "column '" + name + "': " + std::to_string(original.size()) + " original values against " +
              std::to_string(reconstructed.size()) + " reconstructed");
  return summarize(std::move(name), original.data(), reconstructed.data(), original.size());
}

// The values of an original and its reconstruction as doubles that compare one by one: int64
// and uint64 values past 2^53 less the original's offsets (codec::align_offsets), exactly.
struct comparable_values {
  std::vector<double> x, y;
  std::vector<double> shift;  // per column (one for a field): the offset as a double, else 0
  bool field = false;         // the original's layout (codec::is_field), decided once
};
inline comparable_values comparable(const dataset& original, const dataset& reconstructed, const char* where) {
  if (original.data.ndim() == 0 || reconstructed.data.ndim() == 0)
    return {original.data.to_doubles(), reconstructed.data.to_doubles(), {0.0}, false};
  codec::table a = codec::as_table(original, where), b = codec::as_table(reconstructed, where);
  codec::align_offsets(b, a);
  std::vector<double> shift(a.field ? 1 : a.cols);
  for (std::size_t c = 0; c < shift.size(); ++c)
    if (!a.offsets.empty() && wide_integer(a.type_of(c))) shift[c] = rebased(0, a.type_of(c), a.offset_of(c), nullptr);
  return {std::move(a.values), std::move(b.values), std::move(shift), a.field};
}

// A 2-d table is (rows, columns); a 1-d array is one column; 0-d one value. Fields
// (codec::is_field) get one row named "field" over all values.

inline std::vector<column_error> compare(const dataset& original, const dataset& reconstructed) {
  constexpr const char* where = "metrics::compare";
  const ndarray& a = original.data;
  const ndarray& b = reconstructed.data;
  require(a.shape == b.shape, where,
          "original has shape " + shape_string(a.shape) + ", reconstructed " + shape_string(b.shape));
  require(a.type == b.type, where,
          "original has dtype " + dtype_name(a.type) + ", reconstructed " + dtype_name(b.type));
  require(a.size() > 0, where, "the arrays are empty (shape " + shape_string(a.shape) + ")");
  // Names travel with the columns: if both sides carry them, a reordered column would be
  // compared against the wrong one, so they must agree.
  require(original.names.empty() || reconstructed.names.empty() || original.names == reconstructed.names,
          where, "the column names of the original and the reconstruction differ");
  const comparable_values v = comparable(original, reconstructed, where);
  const std::vector<double>&x = v.x, &y = v.y;
  if (v.field) return {summarize("field", x.data(), y.data(), x.size(), 1, v.shift[0])};

  const std::size_t columns = a.ndim() == 2 ? a.shape[1] : 1;
  const std::size_t rows = x.size() / columns;
  const std::vector<std::string>& names = !original.names.empty() ? original.names : reconstructed.names;
  std::vector<column_error> out;
  out.reserve(columns);
  for (std::size_t c = 0; c < columns; ++c) {
    std::string name = names.empty() ? "col" + std::to_string(c) : names[c];
    out.push_back(summarize(std::move(name), x.data() + c, y.data() + c, rows, columns, v.shift[c]));
  }
  return out;
}

namespace detail {

inline std::string number(double v, int digits) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

}  // namespace detail

// An aligned table for a terminal: ratios (rms/range and the relative quantiles) in percent,
// everything else in the data's units, four significant digits.
inline std::string format_table(const std::vector<column_error>& errors) {
  const std::vector<std::string> header = {"column",       "count",       "min",         "max",
                                           "mean resid",   "rms resid",   "rms/range %", "max |err|",
                                           "rel q50 %",    "rel q90 %",   "rel q99 %",   "zeros",
                                           "PSNR dB",      "NaN/Inf"};
  std::vector<std::vector<std::string>> cells = {header};
  for (const column_error& e : errors) {
    const auto num = [](double v) { return detail::number(v, 4); };
    cells.push_back({e.name, std::to_string(e.count), num(e.min), num(e.max), num(e.mean_residual),
                     num(e.rms_residual), num(100 * e.rms_over_range), num(e.max_abs_error),
                     num(100 * e.rel_q50), num(100 * e.rel_q90), num(100 * e.rel_q99),
                     std::to_string(e.zero_count), detail::number(e.psnr_db, 4), std::to_string(e.non_finite)});
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& row : cells)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      // Names left-aligned, numbers right-aligned so that their magnitudes line up.
      const std::string pad(width[i] - row[i].size(), ' ');
      out += i == 0 ? row[i] + pad : "  " + pad + row[i];
    }
    out += '\n';
  }
  return out;
}

// Machine-readable: full precision (17 significant digits round-trip a double), ratios as
// fractions, NaN as "nan" and infinities as "inf"/"-inf" (what numpy and pandas read).
inline std::string to_csv(const std::vector<column_error>& errors) {
  std::string out =
      "name,count,min,max,range,mean_residual,rms_residual,rms_over_range,max_abs_error,"
      "rel_q50,rel_q90,rel_q99,zero_count,psnr_db,non_finite\n";
  const auto num = [](double v) { return std::isnan(v) ? std::string("nan") : detail::number(v, 17); };
  for (const column_error& e : errors) {
    out += csv::detail::quote_if_needed(e.name) + ',' + std::to_string(e.count);
    for (double v : {e.min, e.max, e.range, e.mean_residual, e.rms_residual, e.rms_over_range,
                     e.max_abs_error, e.rel_q50, e.rel_q90, e.rel_q99})
      out += ',' + num(v);
    out += ',' + std::to_string(e.zero_count) + ',' + num(e.psnr_db) + ',' + std::to_string(e.non_finite) + '\n';
  }
  return out;
}

}  // namespace baler::metrics
