#pragma once
// Plots of a field, an array of frames (samples) of H x W values, e.g. time steps of a CFD
// slice: the original, the reconstruction and their difference side by side. Orig and
// reconstruction share one colour scale so that equal colours mean equal values; the difference
// has a symmetric diverging scale so that white is exact and blue/red are under/overshoots.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/metrics/column_errors.hpp"
#include "baler/plot/figure.hpp"

namespace baler::plot {

// How frames sit in a C-order array. The image is always the last two axes, which are
// contiguous and are rows x columns as numpy shows them. A (samples, H, W) array has one frame
// per sample; (H, W) is one frame. For grids of more spatial dimensions, (samples, D, ..., H, W),
// each frame is the middle slice of every axis between the sample axis and the last two
// (index D / 2, ...): the centre plane of a 3-D volume, where flows usually have structure,
// rather than its boundary.
struct frame_view {
  std::size_t count = 1, height = 0, width = 0;
  std::size_t stride = 0;  // elements from one frame to the next
  std::size_t offset = 0;  // elements from a sample's start to its middle slice
  std::string slice;       // e.g. "slice [16] of axis 1", empty for plain frames

  const double* frame(const std::vector<double>& values, std::size_t k) const {
    return values.data() + k * stride + offset;
  }
};

inline frame_view frames_of(const std::vector<std::size_t>& shape) {
  require(shape.size() >= 2, "plot::frames_of",
          "a field needs at least 2 dimensions (H, W), got shape " + shape_string(shape));
  frame_view v;
  const std::size_t n = shape.size();
  v.height = shape[n - 2];
  v.width = shape[n - 1];
  require(v.height > 0 && v.width > 0, "plot::frames_of", "empty frames in shape " + shape_string(shape));
  if (n == 2) {
    v.stride = v.height * v.width;
    return v;
  }
  v.count = shape[0];
  std::size_t axis_stride = v.height * v.width;
  for (std::size_t axis = n - 3; axis >= 1; --axis) {
    const std::size_t middle = shape[axis] / 2;
    v.offset += middle * axis_stride;
    v.slice = "axis " + std::to_string(axis) + " = " + std::to_string(middle) + (v.slice.empty() ? "" : ", ") + v.slice;
    axis_stride *= shape[axis];
  }
  v.stride = axis_stride;
  if (!v.slice.empty()) v.slice = "middle slice " + v.slice;
  return v;
}

// First, middle and last frame: the start, the developed state and the end of a time series.
inline std::vector<std::size_t> default_frames(std::size_t count) {
  std::vector<std::size_t> k = {0, count / 2, count - 1};
  k.erase(std::unique(k.begin(), k.end()), k.end());
  return k;
}

// The error row of frame k, named "frame_<k>", by the same definitions as metrics::compare.
inline metrics::column_error frame_error(const std::vector<double>& original, const std::vector<double>& reconstructed,
                                         const frame_view& v, std::size_t k) {
  require(k < v.count, "plot::frame_error", "frame " + std::to_string(k) + " of " + std::to_string(v.count));
  return metrics::summarize("frame_" + std::to_string(k), v.frame(original, k), v.frame(reconstructed, k),
                            v.height * v.width);
}

namespace detail {

// Perceptually uniform (viridis) for values, blue-white-red for differences.
inline const char* viridis =
    "set palette defined (0 '#440154', 1 '#482878', 2 '#3e4989', 3 '#31688e', 4 '#26828e', 5 '#1f9e89', "
    "6 '#35b779', 7 '#6ece58', 8 '#b5de2b', 9 '#fde725')\n";
inline const char* diverging = "set palette defined (0 '#2166ac', 1 '#92c5de', 2 '#f7f7f7', 3 '#f4a582', 4 '#b2182b')\n";

}  // namespace detail

// The three-panel figure of frame k. Row 0 is drawn at the top, as numpy/matplotlib show arrays.
inline figure frame_figure(const std::vector<double>& original, const std::vector<double>& reconstructed,
                           const frame_view& v, std::size_t k) {
  const metrics::column_error e = frame_error(original, reconstructed, v, k);
  const std::size_t n = v.height * v.width;
  const double* x = v.frame(original, k);
  const double* y = v.frame(reconstructed, k);
  std::vector<double> diff(n);
  double lo = e.min, hi = e.max;
  for (std::size_t i = 0; i < n; ++i) {
    diff[i] = y[i] - x[i];
    if (!std::isfinite(y[i])) continue;  // a NaN or Inf restored as itself (metrics::summarize)
    lo = std::min(lo, y[i]);
    hi = std::max(hi, y[i]);
  }
  if (!(lo < hi)) lo -= 0.5, hi += 0.5;  // a constant frame still needs a colour scale
  const double d = e.max_abs_error > 0 ? e.max_abs_error : 1.0;

  figure f;
  f.name = "frame_" + std::to_string(k);
  f.data = matrix_block("orig", x, v.height, v.width) + matrix_block("reco", y, v.height, v.width) +
           matrix_block("diff", diff.data(), v.height, v.width);
  const auto num = [](double z) { return metrics::detail::number(z, 4); };
  const std::string image_axes =
      "set size ratio -1\nset xrange [-0.5:" + gp_number(v.width - 0.5) + "]\nset yrange [" +
      gp_number(v.height - 0.5) + ":-0.5]\nset xlabel 'column'\nset ylabel 'row'\nset tics out nomirror\n";
  f.commands = "set multiplot layout 1,3 title " +
               quote("frame " + std::to_string(k) + (v.count > 1 ? " (of 0–" + std::to_string(v.count - 1) + ")" : "") +
                     (v.slice.empty() ? "" : " (" + v.slice + ")") + "  —  PSNR " + num(e.psnr_db) + " dB, RMSE " +
                     num(e.rms_residual) + ", max |error| " + num(e.max_abs_error)) +
               // Explicit margins: the automatic ones leave no room right of the last colour
               // bar, and its tick labels were cut off at the image edge.
               " font ',13' margins 0.05, 0.93, 0.1, 0.86 spacing 0.1, 0\n" + image_axes + detail::viridis + "set cbrange [" + gp_number(lo) + ":" + gp_number(hi) +
               "]\n" + "set title 'original'\nplot $orig matrix with image notitle\n" +
               // The row axis is labelled once: the others would collide with the colour bars.
               "unset ylabel\nset title 'reconstructed'\nplot $reco matrix with image notitle\n" + detail::diverging +
               "set cbrange [" + gp_number(-d) + ":" + gp_number(d) + "]\n" +
               "set title 'difference (reconstructed − original)'\nplot $diff matrix with image notitle\n"
               "unset multiplot\n";
  return f;
}

// The summary of a time series of frames: PSNR per frame (left axis) and max |error| per frame
// (right axis, log), so a drift of the error over time, or one bad frame, shows at a glance.
inline figure frames_summary_figure(const std::vector<metrics::column_error>& frames) {
  require(!frames.empty(), "plot::frames_summary_figure", "no frames");
  std::vector<double> k(frames.size()), psnr(frames.size()), max_err(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    k[i] = static_cast<double>(i);
    psnr[i] = std::isfinite(frames[i].psnr_db) ? frames[i].psnr_db : std::nan("");
    max_err[i] = frames[i].max_abs_error > 0 ? frames[i].max_abs_error : std::nan("");
  }
  figure f;
  f.name = "summary";
  f.width = 1100;
  f.data = datablock("frames", {k, psnr, max_err});
  f.commands =
      "set title 'error per frame'\nset xlabel 'frame'\nset ylabel 'PSNR  [dB]'\nset y2label 'max |error|'\n"
      "set ytics nomirror\nset y2tics\nset format y2 '%g'\nset logscale y2\nset grid\nset key bottom right box opaque\n"
      "plot $frames using 1:2 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#1f4e9c' title 'PSNR', "
      "'' using 1:3 axes x1y2 with linespoints pt 5 ps 0.5 lw 1.5 dt 2 lc rgb '#d62728' title 'max |error|'\n";
  return f;
}

}  // namespace baler::plot
