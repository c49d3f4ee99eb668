#pragma once
// Checks a reconstruction against error bounds, column by column: the worst error as a
// fraction of what the bound allows (<= 1: the bound holds). abs:E allows E, range:E allows E
// times the column's range, rel:E allows E * |x| (so a zero must come back as exactly zero).
// A PSNR target psnr:X is checked on the rms error over the finite values, which may be
// range x 10^(-X/20); its one violation is the column's missing the target. A NaN or Inf must
// come back as itself under every bound (the codec stores such values exactly).
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "baler/bounded/sentinel.hpp"
#include "baler/codec/error_bound.hpp"
#include "baler/codec/table.hpp"

namespace baler::metrics {

struct bound_result {
  std::string name, bound;  // column, and its bound as "range:0.001"
  double worst = 0;         // max over the column of |x̂ - x| / allowed (psnr: rms error / allowed)
  std::size_t violations = 0;
  bool holds() const { return violations == 0; }
};

// For fields (codec::is_field: one bound over the whole array, as the codec applies it) one
// row named "field", with the range of the whole array but its fill value, which must come
// back as itself (bounded/sentinel.hpp), as the codec takes them.
inline std::vector<bound_result> check_bounds(const dataset& original, const dataset& reconstructed,
                                              const codec::bound_config& bounds) {
  const char* where = "metrics::check_bounds";
  const codec::table a = codec::as_table(original, where);
  codec::table b = codec::as_table(reconstructed, where);
  require(a.values.size() == b.values.size(), where, "the two arrays have different sizes");
  codec::align_offsets(b, a);
  const bool field = a.field;
  const std::size_t groups = field ? 1 : a.cols;
  std::vector<bound_result> out;
  for (std::size_t g = 0; g < groups; ++g) {
    bound_result r;
    r.name = field ? "field" : a.names[g];
    const codec::bound_spec spec = bounds.of(r.name);
    require(spec.set(), where, "no bound given for column '" + r.name + "'");
    r.bound = codec::to_string(spec);
    auto at = [&](std::size_t i) { return field ? i : i * a.cols + g; };
    // A non-finite value's violation: anything but itself (NaN as any NaN).
    auto changed = [](double x, double y) { return !(x == y || (std::isnan(x) && std::isnan(y))); };
    const std::size_t n = field ? a.values.size() : a.rows;
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < n; ++i) {  // the finite range, as the codec takes it
      if (!std::isfinite(a.values[at(i)])) continue;
      lo = std::min(lo, a.values[at(i)]);
      hi = std::max(hi, a.values[at(i)]);
    }
    std::optional<double> fill;
    if (field) {
      const bounded::field_extent extent = bounded::field_extent_of(bounded::extremes_of(a.values.data(), n), spec.kind);
      fill = extent.fill, lo = extent.lo, hi = extent.hi;
    }
    if (spec.kind == codec::bound_kind::psnr) {
      double sum = 0;
      std::size_t count = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double x = a.values[at(i)], err = b.values[at(i)] - x;
        if (std::isfinite(x)) sum += err * err, ++count;
        else r.violations += changed(x, b.values[at(i)]);
      }
      const double rms = count ? std::sqrt(sum / double(count)) : 0.0, allowed = codec::psnr_allowed_rms(spec.value, hi - lo);
      r.worst = rms == 0 ? 0.0 : (allowed > 0 ? rms / allowed : INFINITY);
      r.violations += !(r.worst <= 1.0);  // NaN too: a PSNR no double can compute (a NaN, or inf / inf)
      out.push_back(r);
      continue;
    }
    const codec::value_code code = codec::value_code::make(spec, lo, hi);  // the codec's reading
    for (std::size_t i = 0; i < n; ++i) {
      const double x = a.values[at(i)], err = std::abs(b.values[at(i)] - x);
      if (!std::isfinite(x) || (fill && x == *fill)) {
        r.violations += changed(x, b.values[at(i)]);
        continue;
      }
      const double allowed = code.kind == codec::bound_kind::rel ? code.bound * std::abs(a.absolute(at(i))) : code.bound;
      const double ratio = err == 0 ? 0.0 : (allowed > 0 ? err / allowed : INFINITY);
      r.worst = std::max(r.worst, ratio);
      r.violations += ratio > 1.0 || std::isnan(err);
    }
    out.push_back(r);
  }
  return out;
}

inline std::string format_bounds(const std::vector<bound_result>& results) {
  std::string out;
  char buf[200];
  std::snprintf(buf, sizeof buf, "%-20s %-24s %16s %12s\n", "column", "bound", "err / allowed", "violations");
  out += buf;
  for (const auto& r : results) {
    std::snprintf(buf, sizeof buf, "%-20s %-24s %16.6g %12zu%s\n", r.name.c_str(), r.bound.c_str(), r.worst,
                  r.violations, r.holds() ? "" : "  VIOLATED");
    out += buf;
  }
  return out;
}

}  // namespace baler::metrics
