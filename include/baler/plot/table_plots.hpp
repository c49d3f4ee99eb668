#pragma once
// The plots physicists look at for a compressed table, one figure per column: the original and
// reconstructed distributions overlaid (does the shape survive?), the response (x̂ - x)/x (the
// relative resolution, as for a detector) and the residual x̂ - x (the absolute error); then a
// bar chart of rms/range over all columns, and the training loss curves.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/metrics/column_errors.hpp"
#include "baler/plot/figure.hpp"
#include "baler/plot/histogram.hpp"

namespace baler::plot {

struct column_histograms {
  histogram original, reconstructed;  // the same bins, from distribution_binning
  histogram response;                 // 100 (x̂ - x)/x in %, entries with x == 0 left out
  histogram residual;                 // x̂ - x
  sample_stats response_stats, residual_stats;  // over all entries, not only the drawn range
  std::size_t zero_count = 0;                   // entries without a response
};

// The response is clipped to ± the 90 % quantile of |response| (nice_ceil'ed, at most 1000 %:
// beyond that a value is lost anyway), since relative errors have long tails from values near
// zero that would squash the core; the residual to ± its 95 % quantile. What falls outside is
// counted in the under/overflow that the legends print.
// Entries whose original is NaN or Inf (restored as themselves, metrics::summarize) are left out.
inline column_histograms histogram_column(std::vector<double> original, std::vector<double> reconstructed,
                                          std::size_t bins = 100) {
  constexpr const char* where = "plot::histogram_column";
  require(original.size() == reconstructed.size(), where,
          std::to_string(original.size()) + " original against " + std::to_string(reconstructed.size()) +
              " reconstructed values (need equal counts)");
  std::size_t kept = 0;
  for (std::size_t i = 0; i < original.size(); ++i)
    if (std::isfinite(original[i])) original[kept] = original[i], reconstructed[kept++] = reconstructed[i];
  original.resize(kept), reconstructed.resize(kept);
  require(kept > 0, where, "no finite values to draw");
  column_histograms h;
  const binning b = distribution_binning(original, bins);
  h.original = fill_histogram(original, b.lo, b.hi, b.bins, b.log_x);
  h.reconstructed = fill_histogram(reconstructed, b.lo, b.hi, b.bins, b.log_x);

  std::vector<double> response, residual(original.size());
  response.reserve(original.size());
  for (std::size_t i = 0; i < original.size(); ++i) {
    residual[i] = reconstructed[i] - original[i];
    if (original[i] == 0)
      ++h.zero_count;
    else
      response.push_back(100.0 * residual[i] / original[i]);
  }
  const double r_resp = response.empty() ? 1.0 : std::min(symmetric_half_range(response, 0.90), 1000.0);
  h.response = fill_histogram(response, -r_resp, r_resp, bins);
  const double r_res = symmetric_half_range(residual, 0.95);
  h.residual = fill_histogram(residual, -r_res, r_res, bins);
  h.response_stats = describe(std::move(response));
  h.residual_stats = describe(std::move(residual));
  return h;
}

// All four histograms of a column in the long format of histogram_csv_rows.
inline std::string histograms_csv(const column_histograms& h) {
  return "histogram,bin_low,bin_high,count\n" + histogram_csv_rows("original", h.original) +
         histogram_csv_rows("reconstructed", h.reconstructed) + histogram_csv_rows("response_percent", h.response) +
         histogram_csv_rows("residual", h.residual);
}

namespace detail {

inline std::string num(double v) { return metrics::detail::number(v, 4); }

// A histogram as "center count" lines, for `with boxes`.
inline std::string histogram_block(const std::string& name, const histogram& h) {
  std::vector<double> centers(h.counts.size());
  for (std::size_t i = 0; i < centers.size(); ++i) centers[i] = h.center(i);
  return datablock(name, {centers, h.counts});
}

// A histogram as "left-edge count" lines closed by the upper edge, for `with steps`: exact on
// log axes too, where steps drawn around bin centres would sit off the bin edges. Log y has no
// 0; empty bins are drawn at 0.01, below the axis (which starts at 0.8), so that the line drops
// out of view as it would drop to 0 on a linear axis, rather than leaving gaps.
inline std::string step_block(const std::string& name, const histogram& h, bool log_y) {
  std::vector<double> edges, counts = h.counts;
  for (std::size_t i = 0; i <= counts.size(); ++i) edges.push_back(i == counts.size() ? h.hi : h.edge(i));
  if (log_y) std::replace(counts.begin(), counts.end(), 0.0, 0.01);
  counts.push_back(counts.back());
  return datablock(name, {edges, counts});
}

// Legend lines with no curve: gnuplot's keyentry.
inline std::string key_line(const std::string& text) { return ", keyentry title " + quote(text); }

inline std::string stats_lines(const sample_stats& s, const std::string& unit) {
  return key_line("mean " + num(s.mean) + unit + ", RMS " + num(s.rms) + unit) +
         key_line("median " + num(s.q50) + unit + ", 68 %: [" + num(s.q16) + ", " + num(s.q84) + "]" + unit);
}

inline std::string outside_line(const histogram& h, const std::string& unit) {
  return key_line("outside ±" + num(h.hi) + unit + ": " + std::to_string(h.underflow) + " below, " +
                  std::to_string(h.overflow) + " above");
}

// A non-empty bin under 3 % of the peak is hardly visible on a linear axis. Log y when such bins
// are over half the non-empty ones (long tails), or when there is any among few bins (a flag
// that is 1 in 2 % of the entries would otherwise look like never set).
inline bool wants_log_y(const histogram& h) {
  const double peak = *std::max_element(h.counts.begin(), h.counts.end());
  std::size_t filled = 0, faint = 0;
  for (double c : h.counts)
    if (c > 0) ++filled, faint += c < 0.03 * peak;
  return filled <= 10 ? faint > 0 : 2 * faint > filled;
}

// Settings every panel shares: a grid and a legend in the top left.
inline const char* panel_style =
    "set grid\nset key top left Left reverse box opaque samplen 2 spacing 1.1 font ',10'\n";

// The y range of the distribution panel, leaving the top quarter free for the legend. On a log
// axis that is a range up to 0.8 (peak / 0.8)^(4/3): the peak then sits at 3/4 of the height.
inline std::string distribution_y_range(const histogram& a, const histogram& b, bool log_y) {
  if (!log_y) return "set yrange [0:*]\nset offsets 0, 0, graph 0.3, 0\n";
  const double peak = std::max(*std::max_element(a.counts.begin(), a.counts.end()),
                               *std::max_element(b.counts.begin(), b.counts.end()));
  return "set logscale y\nset yrange [0.8:" + gp_number(0.8 * std::pow(peak / 0.8, 4.0 / 3.0)) + "]\n";
}

}  // namespace detail

// The three-panel figure of one column; `stem` names its file ("column_" + safe name).
inline figure column_figure(const std::string& stem, const metrics::column_error& e, const column_histograms& h) {
  using detail::num;
  figure f;
  f.name = stem;
  const bool log_y = detail::wants_log_y(h.original);
  f.data = detail::step_block("orig", h.original, log_y) + detail::step_block("reco", h.reconstructed, log_y) +
           detail::histogram_block("resp", h.response) + detail::histogram_block("resid", h.residual);
  const auto range = [](const histogram& x) { return "set xrange [" + gp_number(x.lo) + ":" + gp_number(x.hi) + "]\n"; };
  const auto under_over = [](const histogram& x) {
    return " (outside: " + std::to_string(x.underflow) + " below, " + std::to_string(x.overflow) + " above)";
  };
  f.commands =
      "set multiplot layout 1,3 title " +
      quote(e.name + "  —  " + std::to_string(e.count) + " entries, RMS residual / range " +
            num(100 * e.rms_over_range) + " %, max |error| " + num(e.max_abs_error) + ", PSNR " +
            num(e.psnr_db) + " dB") +
      " font ',13'\n" + detail::panel_style +
      // Distributions: outlines only, so both stay visible where they overlap.
      "set title 'distribution'\nset xlabel " + quote(e.name) + "\nset ylabel 'entries per bin'\n" +
      range(h.original) + (h.original.log_x ? "set logscale x\n" : "") +
      detail::distribution_y_range(h.original, h.reconstructed, log_y) +
      "plot $orig using 1:2 with steps lw 2 lc rgb '#1f4e9c' title " + quote("original" + under_over(h.original)) +
      ", $reco using 1:2 with steps lw 2 dt (8,4) lc rgb '#d62728' title " +
      quote("reconstructed" + under_over(h.reconstructed)) + "\n" +
      "unset logscale\nset yrange [0:*]\nset offsets 0, 0, graph 0.45, 0\nset style fill solid 0.35 border\n" +
      // Response in percent.
      "set title 'response'\nset xlabel '(reconstructed − original) / original  [%]'\n" + range(h.response) +
      "plot $resp using 1:2 with boxes lc rgb '#2ca02c' title " +
      quote(std::to_string(h.response_stats.count) + " entries" +
            (h.zero_count ? ", " + std::to_string(h.zero_count) + " with original = 0 left out" : "")) +
      detail::stats_lines(h.response_stats, " %") + detail::outside_line(h.response, " %") + "\n" +
      // Residual in the column's units.
      "set title 'residual'\nset xlabel 'reconstructed − original'\n" + range(h.residual) +
      "plot $resid using 1:2 with boxes lc rgb '#9467bd' title " +
      quote(std::to_string(h.residual_stats.count) + " entries") + detail::stats_lines(h.residual_stats, "") +
      detail::outside_line(h.residual, "") + "\n" + "unset multiplot\n";
  return f;
}

// One bar per column: the RMS residual as a percentage of the column's range, the number that
// makes columns of different units comparable. Log scale when the bars span over two decades.
inline figure summary_figure(const std::vector<metrics::column_error>& errors) {
  require(!errors.empty(), "plot::summary_figure", "no columns");
  figure f;
  f.name = "summary";
  f.width = std::max(1000, 60 * static_cast<int>(errors.size()));
  double lo = 0, hi = 0;
  f.data = "$summary << EOD\n";
  for (const metrics::column_error& e : errors) {
    const double v = 100 * e.rms_over_range;
    // Data strings are double-quoted; a double quote inside a name becomes a single one.
    std::string name = e.name;
    std::replace(name.begin(), name.end(), '"', '\'');
    f.data += "\"" + name + "\" " + gp_number(std::isfinite(v) ? v : std::nan("")) + "\n";
    if (v > 0 && std::isfinite(v)) lo = lo == 0 ? v : std::min(lo, v), hi = std::max(hi, v);
  }
  f.data += "EOD\n";
  const bool log_y = lo > 0 && hi > 100 * lo;
  f.commands = "set title 'RMS residual relative to each column''s range'\n"
               "set ylabel 'RMS residual / range  [%]'\nset xtics rotate by 45 right nomirror\n"
               "set grid ytics\nset style fill solid 0.6 border -1\nset boxwidth 0.8\nset bmargin 8\n"
               "set xrange [-0.6:" + std::to_string(errors.size()) + "-0.4]\n" +
               (log_y ? "set logscale y\nset yrange [" + gp_number(lo / 2) + ":" + gp_number(hi * 3) + "]\n"
                      : "set yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n") +
               "plot $summary using 0:2:xtic(1) with boxes lc rgb '#1f4e9c' notitle, "
               "'' using 0:2:(sprintf('%.3g', $2)) with labels offset 0,0.8 font ',9' notitle\n";
  return f;
}

// Training curves against the epoch: losses on a log axis (they fall over decades) when all are
// positive, the learning rate on the right-hand axis. `val` and `lr` may be empty.
inline figure loss_figure(const std::vector<double>& train, const std::vector<double>& val,
                          const std::vector<double>& lr) {
  constexpr const char* where = "plot::loss_figure";
  require(!train.empty(), where, "no training loss values");
  require(val.empty() || val.size() == train.size(), where,
          std::to_string(val.size()) + " validation against " + std::to_string(train.size()) + " training losses");
  require(lr.empty() || lr.size() == train.size(), where,
          std::to_string(lr.size()) + " learning rates against " + std::to_string(train.size()) + " epochs");
  const auto positive = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return x > 0; });
  };
  figure f;
  f.name = "loss";
  f.width = 1100;
  std::vector<double> epoch(train.size());
  for (std::size_t i = 0; i < epoch.size(); ++i) epoch[i] = static_cast<double>(i + 1);
  const std::vector<double> none(train.size(), std::nan(""));
  f.data = datablock("loss", {epoch, train, val.empty() ? none : val, lr.empty() ? none : lr});
  f.commands = "set title 'training'\nset xlabel 'epoch'\nset ylabel 'loss'\nset grid\n"
               "set key top right box opaque\nset ytics nomirror\n" +
               std::string(positive(train) && positive(val) ? "set logscale y\n" : "") +
               "plot $loss using 1:2 with linespoints pt 7 ps 0.5 lw 2 lc rgb '#1f4e9c' title 'training loss'" +
               (val.empty() ? "" : ", '' using 1:3 with linespoints pt 7 ps 0.5 lw 2 lc rgb '#d62728' title 'validation loss'") +
               (lr.empty() ? "" : ", '' using 1:4 axes x1y2 with steps dt 2 lw 1.5 lc rgb 'gray40' title 'learning rate'");
  if (!lr.empty()) {
    // A margin of a factor 3 (log) or 10 % (linear) around the rates, so that a constant rate
    // or the last step of a schedule is not drawn on the frame of the plot.
    const auto [lo, hi] = std::minmax_element(lr.begin(), lr.end());
    const double pad = 0.1 * (*hi - *lo) + 0.1 * std::abs(*hi) + 1e-300;
    f.commands = "set y2label 'learning rate'\nset y2tics\nset format y2 '%g'\n" +
                 (positive(lr) ? "set logscale y2\nset y2range [" + gp_number(*lo / 3) + ":" + gp_number(*hi * 3) + "]\n"
                               : "set y2range [" + gp_number(*lo - pad) + ":" + gp_number(*hi + pad) + "]\n") +
                 f.commands;
  }
  f.commands += "\n";
  return f;
}

// loss_figure straight to a file, a PNG or a PDF by its extension.
inline void plot_loss(const std::vector<double>& train, const std::vector<double>& val, const std::vector<double>& lr,
                      const std::filesystem::path& path) {
  render_file(loss_figure(train, val, lr), path);
}

}  // namespace baler::plot
