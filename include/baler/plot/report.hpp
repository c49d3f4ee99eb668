#pragma once
// The comparison report of a reconstruction against its original, written to one folder:
//   errors.csv          metrics::to_csv, one row per column (one "field" row for fields)
//   column_<name>.png   tables: distribution, response and residual of each column
//   hist_<name>.csv     tables: the histograms behind those plots
//   frame_<k>.png       fields: original, reconstruction and difference of frame k
//   frames.csv          fields: the error of every frame
//   summary.png         tables: rms/range per column; fields of several frames: PSNR and
//                       max |error| per frame
//   loss.png, loss.csv  when training losses are given
//   comparison.pdf      every plot, one page each, as Baler's comparison.pdf
// The CSV files are written first and do not need gnuplot: without it the report stops with an
// error naming them, so the numbers are there to plot with another tool.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/dataset.hpp"
#include "baler/metrics/column_errors.hpp"
#include "baler/plot/field_plots.hpp"
#include "baler/plot/figure.hpp"
#include "baler/plot/gnuplot.hpp"
#include "baler/plot/table_plots.hpp"

namespace baler::plot {

struct report_options {
  std::size_t bins = 100;              // histogram bins (integer-valued columns get one per value)
  std::vector<std::size_t> frames;     // fields: frames to draw; empty: first, middle and last
  bool field = false;                  // draw a 2-d array as one frame instead of as a table
  std::vector<double> train_loss;      // per epoch; loss.png and loss.csv when not empty
  std::vector<double> val_loss;        // empty or one per epoch
  std::vector<double> learning_rate;   // empty or one per epoch
};

namespace detail {

// Unique, safe file stems for the columns. Distinct names can sanitize to the same stem ("p/t"
// and "p t"), or differ only in case, which is the same file on macOS and Windows: later ones
// get their column index appended.
inline std::vector<std::string> column_stems(const std::vector<metrics::column_error>& errors) {
  std::vector<std::string> stems;
  std::set<std::string> taken;
  const auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
  };
  for (std::size_t i = 0; i < errors.size(); ++i) {
    std::string stem = safe_file_stem(errors[i].name);
    if (taken.count(lower(stem))) stem += "_" + std::to_string(i);
    taken.insert(lower(stem));
    stems.push_back(stem);
  }
  return stems;
}

// Column c of a row-major rows x columns table.
inline std::vector<double> column(const std::vector<double>& table, std::size_t columns, std::size_t c) {
  std::vector<double> out(table.size() / columns);
  for (std::size_t r = 0; r < out.size(); ++r) out[r] = table[r * columns + c];
  return out;
}

inline std::string loss_csv(const report_options& o) {
  const auto cell = [](const std::vector<double>& v, std::size_t i) {
    return i < v.size() ? metrics::detail::number(v[i], 17) : std::string();
  };
  std::string out = "epoch,train_loss,val_loss,learning_rate\n";
  for (std::size_t i = 0; i < o.train_loss.size(); ++i)
    out += std::to_string(i + 1) + "," + cell(o.train_loss, i) + "," + cell(o.val_loss, i) + "," +
           cell(o.learning_rate, i) + "\n";
  return out;
}

// A 2-d array as a single frame: shape (1, H, W), so that metrics::compare sees a field.
inline dataset as_one_frame(dataset d) {
  require(d.data.ndim() == 2, "plot::write_report",
          "the field option needs a 2-d array, got shape " + shape_string(d.data.shape));
  require(d.column_offsets.empty(), "plot::write_report",
          "the field option takes no table of 64-bit integers past 2^53 beside other dtypes");
  d.data.shape.insert(d.data.shape.begin(), 1);
  d.names.clear();
  d.column_types.clear();  // a field of one dtype: float64, which holds each column's values
  return d;
}

}  // namespace detail

// Writes the report into `dir` (created if missing, existing files replaced) and returns the
// paths of the files written. Throws baler::error for inputs metrics::compare rejects, for
// frames out of range, when gnuplot fails, and when gnuplot is missing (after the CSV files).
inline std::vector<std::filesystem::path> write_report(const std::filesystem::path& dir, const dataset& original,
                                                       const dataset& reconstructed, const report_options& options = {}) {
  constexpr const char* where = "plot::write_report";
  // The layout decided once, on the original, and the reconstruction read as it is: the field
  // option makes a 2-D table of both one frame.
  const bool original_field = codec::is_field(original), field = options.field || original_field;
  dataset x_set = options.field && !original_field ? detail::as_one_frame(original) : original;
  dataset y_set = options.field && !original_field ? detail::as_one_frame(reconstructed) : reconstructed;
  x_set.field = y_set.field = field;
  const std::vector<metrics::column_error> errors = metrics::compare(x_set, y_set);
  const metrics::comparable_values values = metrics::comparable(x_set, y_set, where);
  const std::vector<double>&x = values.x, &y = values.y;

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  require(std::filesystem::is_directory(dir), where, "cannot create the folder '" + dir.string() + "'");
  std::vector<std::filesystem::path> written;
  const auto write_text = [&](const std::string& name, const std::string& text) {
    write_file_atomically(dir / name, text, true);
    written.push_back(dir / name);
  };
  write_text("errors.csv", metrics::to_csv(errors));

  std::vector<figure> figures;
  if (field) {
    const frame_view view = frames_of(x_set.data.shape);
    const std::vector<std::size_t> frames = options.frames.empty() ? default_frames(view.count) : options.frames;
    for (std::size_t k : frames)
      require(k < view.count, where,
              "frame " + std::to_string(k) + " requested, the field has " + std::to_string(view.count));
    std::vector<metrics::column_error> per_frame;
    for (std::size_t k = 0; k < view.count; ++k) per_frame.push_back(frame_error(x, y, view, k));
    write_text("frames.csv", metrics::to_csv(per_frame));
    for (std::size_t k : frames) figures.push_back(frame_figure(x, y, view, k));
    // A single frame has no evolution to show: its numbers are in the frame's title.
    if (view.count > 1) figures.push_back(frames_summary_figure(per_frame));
  } else {
    const std::vector<std::string> stems = detail::column_stems(errors);
    for (std::size_t c = 0; c < errors.size(); ++c) {
      if (errors[c].non_finite == errors[c].count) continue;  // NaN or Inf only: nothing to draw
      const column_histograms h = histogram_column(detail::column(x, errors.size(), c),
                                                   detail::column(y, errors.size(), c), options.bins);
      write_text("hist_" + stems[c] + ".csv", histograms_csv(h));
      figures.push_back(column_figure("column_" + stems[c], errors[c], h));
    }
    figures.push_back(summary_figure(errors));
  }
  if (!options.train_loss.empty()) {
    figures.push_back(loss_figure(options.train_loss, options.val_loss, options.learning_rate));
    write_text("loss.csv", detail::loss_csv(options));
  }

  require(gnuplot_available(), where,
          "gnuplot was not found (" + gnuplot_search_description() + "); no plots were drawn, but the numbers "
          "behind them were written to '" + dir.string() + "' (errors.csv and the other CSV files) to plot elsewhere");
  render(figures, dir, dir / "comparison.pdf");
  for (const figure& f : figures) written.push_back(dir / (f.name + ".png"));
  written.push_back(dir / "comparison.pdf");
  return written;
}

}  // namespace baler::plot
