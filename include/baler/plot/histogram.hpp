#pragma once
// Fixed-binning histograms with under/overflow, the binning choices behind the comparison plots
// and the summary numbers printed next to them. Computed here rather than by gnuplot so that
// the same numbers go into the CSV files written when gnuplot is missing.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/metrics/column_errors.hpp"
#include "baler/metrics/quantile.hpp"

namespace baler::plot {

struct histogram {
  double lo = 0, hi = 1;       // range of the bins; values outside are counted apart
  std::vector<double> counts;  // equal-width bins over [lo, hi], hi included in the last
  std::size_t underflow = 0, overflow = 0;
  bool log_x = false;          // equal width in log10(x) instead (lo > 0)

  double edge(std::size_t i) const {
    const double i_d = static_cast<double>(i), n = static_cast<double>(counts.size());
    // (hi - lo) * i / n, not * (i / n): exact edges for integer bins (-1.5 + 3 * 2 / 3 = 0.5).
    return log_x ? lo * std::pow(hi / lo, i_d / n) : lo + (hi - lo) * i_d / n;
  }
  // Geometric centre for log bins: the middle of the bin as drawn on a log axis.
  double center(std::size_t i) const {
    return log_x ? std::sqrt(edge(i) * edge(i + 1)) : 0.5 * (edge(i) + edge(i + 1));
  }
};

inline histogram fill_histogram(const std::vector<double>& values, double lo, double hi, std::size_t bins,
                                bool log_x = false) {
  require(bins > 0 && lo < hi && (!log_x || lo > 0), "plot::fill_histogram",
          "need bins > 0 and lo < hi (and lo > 0 for log bins), got " + std::to_string(bins) + " bins over [" +
              std::to_string(lo) + ", " + std::to_string(hi) + "]");
  histogram h{lo, hi, std::vector<double>(bins, 0.0), 0, 0, log_x};
  const double n = static_cast<double>(bins);
  const double scale = log_x ? n / std::log(hi / lo) : n / (hi - lo);
  for (double v : values) {
    if (v < lo) {
      ++h.underflow;
    } else if (v > hi) {
      ++h.overflow;
    } else {
      const double t = (log_x ? std::log(v / lo) : v - lo) * scale;
      ++h.counts[std::min(static_cast<std::size_t>(t), bins - 1)];
    }
  }
  return h;
}

// The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k that is >= v (v > 0): axis ranges people
// can read, in steps fine enough not to waste half the plot.
inline double nice_ceil(double v) {
  const double decade = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
    if (m * decade >= v * (1 - 1e-12)) return m * decade;
  return 10 * decade;
}

// Symmetric range [-r, r] for residual-like quantities, r the `q` quantile of |v| rounded up by
// nice_ceil: the bulk is visible and the few outliers that would squash it go to the
// under/overflow counts. An all-zero sample gets r = 1.
inline double symmetric_half_range(const std::vector<double>& values, double q) {
  std::vector<double> a(values.size());
  std::transform(values.begin(), values.end(), a.begin(), [](double v) { return std::abs(v); });
  const double r = metrics::quantile(a, q);
  return r > 0 && std::isfinite(r) ? nice_ceil(r) : 1.0;
}

struct binning {
  double lo, hi;
  std::size_t bins;
  bool log_x;
};

// Bins for a column's distribution. Integer-valued columns with few distinct values (charges,
// flags, counts) get one bin per integer so that no bin straddles two values. Others span the
// 0.1 %-99.9 % quantiles of the original, since a single extreme value would otherwise put
// everything in one bin; min-max when that range is empty. Positive columns spanning more than
// three decades (χ², impact parameters) get log bins: on a linear axis their bulk is one bin.
inline binning distribution_binning(const std::vector<double>& original, std::size_t bins) {
  require(!original.empty(), "plot::distribution_binning", "no values");
  const auto [min_it, max_it] = std::minmax_element(original.begin(), original.end());
  const double min = *min_it, max = *max_it;
  const bool integral = std::all_of(original.begin(), original.end(), [](double v) { return v == std::round(v); });
  if (integral && max - min < 200) return {min - 0.5, max + 0.5, static_cast<std::size_t>(max - min) + 1, false};
  std::vector<double> sorted = original;
  double lo = metrics::quantile(sorted, 0.001), hi = metrics::quantile(sorted, 0.999);
  if (!(lo < hi)) lo = min, hi = max;
  if (!(lo < hi)) lo -= 0.5, hi += 0.5;
  return {lo, hi, bins, lo > 0 && hi > 1000 * lo};
}

// What the legends print: the mean and RMS (sqrt of the mean square, as rms_residual in
// metrics::column_error, so the residual panel and errors.csv agree) and the median and central
// 68 % interval, the quantiles physicists quote for a resolution. Over all values, including
// those outside the drawn range.
struct sample_stats {
  std::size_t count = 0;
  double mean = 0, rms = 0, q16 = 0, q50 = 0, q84 = 0;
};

inline sample_stats describe(std::vector<double> values) {
  sample_stats s;
  s.count = values.size();
  if (values.empty()) {
    s.mean = s.rms = s.q16 = s.q50 = s.q84 = std::nan("");
    return s;
  }
  double sum = 0, sum_sq = 0;
  for (double v : values) sum += v, sum_sq += v * v;
  s.mean = sum / static_cast<double>(s.count);
  s.rms = std::sqrt(sum_sq / static_cast<double>(s.count));
  s.q16 = metrics::quantile(values, 0.16);
  s.q50 = metrics::quantile(values, 0.50);
  s.q84 = metrics::quantile(values, 0.84);
  return s;
}

// Rows "kind,bin_low,bin_high,count" of a histogram, with its underflow and overflow as bins
// reaching to -inf and inf, so a plot made elsewhere can show them too.
inline std::string histogram_csv_rows(const std::string& kind, const histogram& h) {
  const auto num = [](double v) { return metrics::detail::number(v, 17); };
  std::string out = kind + ",-inf," + num(h.lo) + "," + std::to_string(h.underflow) + "\n";
  for (std::size_t i = 0; i < h.counts.size(); ++i)
    out += kind + "," + num(h.edge(i)) + "," + num(i + 1 == h.counts.size() ? h.hi : h.edge(i + 1)) + "," +
           num(h.counts[i]) + "\n";
  return out + kind + "," + num(h.hi) + ",inf," + std::to_string(h.overflow) + "\n";
}

}  // namespace baler::plot
