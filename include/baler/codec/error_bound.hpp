#pragma once
// Error bounds and the integer codes that guarantee them.
//
// A bound is written "abs:X" (|x^ - x| <= X), "range:X" (|x^ - x| <= X * (max - min) of the
// column, or of the whole field) or "rel:X" (|x^ - x| <= X * |x|, so zeros come back as 0).
// "psnr:X" is a quality target instead: the column (or field) comes back with a PSNR,
// 20 log10(range / rms error), of at least X dB; the compressor resolves it, on the values, to
// the widest abs bound that meets it (bounded/psnr_target.hpp), and the file stores that bound.
//
// Every bounded value is stored as an integer code k. The reconstruction from k uses only
// correctly rounded IEEE operations (one multiply; or a divide, an add and an exact ldexp), so
// compress and decompress compute the same x^ bit for bit; the encoder then checks the bound on
// x^ as decompress will output it (after the cast to float32 for a float32 input or table
// column) and stores the values that fail it exactly (see bounded/block.hpp). Predictors work
// on codes only.
//
//   abs / range: k = round(x / step), x^ = k * step, step = 2 * bound (just below)
//   rel:         |x| = m * 2^e with m in [1, 2), k = e * M + round((m - 1) * M), M = ceil(1/(2X)),
//                x^ = sign * ldexp(1 + (k mod M) / M, floor(k / M)): uniform steps in a
//                piecewise-linear log2|x|, so the relative error is at most 1 / (2M) <= X;
//                the sign (and zero) travels in a separate stream.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "baler/core/decimal.hpp"
#include "baler/core/error.hpp"
#include "baler/format/container.hpp"
#include "baler/io/ndarray.hpp"

namespace baler::codec {

enum class bound_kind { abs, range, rel, psnr };  // numbered as the HDF5 filter's parameter

struct bound_spec {
  bound_kind kind = bound_kind::range;
  double value = 0;  // 0: no bound set (the plain lossy codec)
  double range = 0;  // psnr: the range the PSNR is taken on (a chunk's is the whole data's); 0: the block's own

  bool set() const { return value > 0; }
};

// fraction x (hi - lo): what range:fraction allows on values spanning [lo, hi], finite where
// hi - lo is not (values of both signs near the largest double).
inline double fraction_of_range(double fraction, double lo, double hi) {
  const double span = hi - lo;
  return std::isfinite(span) ? fraction * span : fraction * hi - fraction * lo;
}

inline std::string to_string(const bound_spec& b) {
  const char* k = b.kind == bound_kind::abs     ? "abs"
                  : b.kind == bound_kind::range ? "range"
                  : b.kind == bound_kind::rel   ? "rel"
                                                : "psnr";
  // The shortest decimal that reads back as the same double: 44.41, not 44.409999999999997.
  const auto shortest = [](double v) {
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  };
  std::string s = std::string(k) + ":" + shortest(b.value);
  if (b.kind == bound_kind::psnr && b.range > 0)  // for reading only: parse_bound takes no range
    s += " over a range of " + shortest(b.range);
  return s;
}

inline bound_spec parse_bound(const std::string& s) {
  const char* where = "parse_bound";
  const auto colon = s.find(':');
  require(colon != std::string::npos, where,
          "'" + s + "' is not a bound; expected abs:X, range:X, rel:X or psnr:X (e.g. range:1e-3, psnr:50)");
  const std::string k = s.substr(0, colon), v = s.substr(colon + 1);
  bound_spec b;
  if (k == "abs") b.kind = bound_kind::abs;
  else if (k == "range") b.kind = bound_kind::range;
  else if (k == "rel") b.kind = bound_kind::rel;
  else if (k == "psnr") b.kind = bound_kind::psnr;
  else throw error(std::string(where) + "(): unknown bound kind '" + k + "' (abs, range, rel or psnr)");
  std::size_t used = 0;
  try {
    b.value = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require(used == v.size() && used > 0 && std::isfinite(b.value) && b.value > 0, where,
          "the bound in '" + s + "' must be a positive finite number");
  require(b.kind != bound_kind::rel || b.value < 1, where, "a relative bound must be below 1");
  // Beyond ~320 dB the allowed error is below a double's resolution of the range.
  require(b.kind != bound_kind::psnr || b.value <= 300, where, "a PSNR target must be at most 300 dB");
  return b;
}

// The rms error a PSNR target of `db` allows on values spanning `range`: 20 log10(range / rms)
// >= db. Also the widest max error that surely meets it (no error above it, so no rms either).
inline double psnr_allowed_rms(double db, double range) { return range * std::pow(10.0, -db / 20); }

// How hard the error-bounded mode searches for the smallest file: `thorough` tries every
// predictor; `fast` leaves out those that cost the most time for the least gain: on a field the
// second quantisation, the weights fitted on the whole field (and per region), the learned
// interpolation and the wavelet; on a table's columns the relation networks and the mixed
// histograms (bounded::encode_field, encode_column). Files 0-25 % larger on the shared data,
// compression 1.6-3.6x faster (README). The decoder reads either file the same way.
enum class search_effort { thorough, fast };
inline search_effort parse_effort(const std::string& s) {
  if (s == "thorough") return search_effort::thorough;
  if (s == "fast") return search_effort::fast;
  throw error("parse_effort(): '" + s + "' is not thorough or fast");
}

// The bound of every column: a default plus named exceptions.
struct bound_config {
  bound_spec all;                           // unset: no error-bounded mode
  std::map<std::string, bound_spec> named;  // per column name
  std::optional<double> fill;               // a field's fill value, found over all its chunks

  bool enabled() const { return all.set() || !named.empty(); }
  bound_spec of(const std::string& column) const {
    const auto it = named.find(column);
    return it != named.end() ? it->second : all;
  }
};

// A default bound and per-column ones, as items ("range:1e-3", "pt=rel:1e-3") or as one
// comma-separated string ("range:1e-3,pt=rel:1e-3").
inline bound_config parse_bound_config(const std::vector<std::string>& items) {
  bound_config c;
  for (const std::string& b : items) {
    const auto eq = b.find('=');
    if (eq == std::string::npos) c.all = parse_bound(b);
    else c.named[b.substr(0, eq)] = parse_bound(b.substr(eq + 1));
  }
  return c;
}
inline bound_config parse_bound_config(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    items.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parse_bound_config(items);
}

// Codes of one block (a column, or a whole field) under one bound. Values whose code would not
// fit (|x / step| near 2^52) or that are not finite get no code: they become exceptions.
struct value_code {
  bound_kind kind = bound_kind::abs;
  double bound = 0;  // absolute bound (abs, range) or relative factor (rel); 0: exact
  double step = 1;   // abs / range: the quantum; 0 bound means step 1 for integral data
  std::int64_t per_octave = 1;  // rel: M

  static constexpr double max_code = 4503599627370496.0;  // 2^52: k and k * step stay exact
  static constexpr double largest_bound = 0x1p1022;       // 2 x it is the largest power of 2 a double holds

  // `lo`, `hi`: the finite range of the block (for range bounds).
  static value_code make(const bound_spec& b, double lo, double hi) {
    require(b.kind != bound_kind::psnr, "value_code", "a PSNR target is resolved on the values (psnr_target.hpp)");
    value_code c;
    c.kind = b.kind == bound_kind::rel ? bound_kind::rel : bound_kind::abs;
    if (c.kind == bound_kind::rel) {
      c.bound = b.value;
      c.per_octave = std::int64_t(std::ceil(0.5 / b.value));
      return c;
    }
    // Both rounded down to six digits: the header writes them short, the bound only tightens,
    // and to at most largest_bound, whose step is a finite double (JSON has no infinity).
    const double wanted = b.kind == bound_kind::abs ? b.value : fraction_of_range(b.value, lo, hi);
    c.bound = short_decimal(std::min(wanted, largest_bound), 6, rounding::down);
    c.step = step_for(c.bound);
    return c;
  }
  // The step of an abs bound: just below 2 * bound, so that x exactly half-way between two
  // steps still passes after the rounding of k * step; an exact (zero) bound codes integral
  // values with step 1. A header leaves out a step this gives (a reader derives it: one
  // multiplication and short_decimal's correctly rounded conversions, the same double anywhere).
  static double step_for(double bound) {
    return bound > 0 ? short_decimal(2 * bound * (1 - 1.0 / 1024), 6, rounding::down) : 1.0;
  }
  static value_code exact() { return {}; }
  // Integers under an abs bound: steps of 2 floor(bound) + 1, odd, so that every k * step is an
  // integer within floor(bound) of the value it codes; exact below a bound of 1. (Steps of
  // 2 x bound would reconstruct between integers, and rounding to one could leave the bound.)
  static value_code integral(double abs_bound) {
    const double whole = std::min(std::floor(abs_bound), 2251799813685248.0);  // 2^51: step exact
    if (!(whole >= 1)) return exact();
    value_code c;
    c.bound = whole;
    c.step = 2 * whole + 1;
    return c;
  }

  // An abs code as a double: not codable (NaN for NaN and Inf) where x gets none. Loops over
  // a whole field call these two without encode's checks (block.hpp's quantise).
  double abs_code(double x) const { return std::nearbyint(x / step); }
  static bool codable(double abs_code) { return std::abs(abs_code) < max_code; }

  // False when x gets no code (an exception).
  bool encode(double x, std::int64_t& k) const {
    if (!std::isfinite(x)) return false;
    if (kind == bound_kind::abs) {
      const double q = abs_code(x);
      if (!codable(q)) return false;
      k = std::int64_t(q);
      return true;
    }
    if (x == 0) return false;  // zero travels in the sign stream; its code is the prediction
    int e = 0;
    const double m = 2 * std::frexp(std::abs(x), &e);  // [1, 2)
    k = std::int64_t(e - 1) * per_octave + std::int64_t(std::nearbyint((m - 1) * double(per_octave)));
    return true;
  }

  // `sign` is used by rel codes only: -1, 0 or +1.
  double decode(std::int64_t k, int sign) const {
    if (kind == bound_kind::abs) return double(k) * step;
    if (sign == 0) return 0.0;
    std::int64_t e = k / per_octave, q = k % per_octave;
    if (q < 0) q += per_octave, e -= 1;
    if (e > 2000 || e < -2000) return sign * std::numeric_limits<double>::infinity();
    return sign * std::ldexp(1 + double(q) / double(per_octave), int(e));
  }

  // x^ as decompress returns it in the dtype `out` (of the input, or of a table's column).
  static double stored_as(double xhat, dtype out) {
    if (out == dtype::f32) return double(float(xhat));
    if (out == dtype::f16) return double(float16::from(xhat));
    if (is_integral(out)) return std::round(xhat);  // as ndarray::from_doubles stores it (clamping only helps)
    return xhat;
  }

  // The bound check on the value decompress returns (`out` is the input dtype).
  bool within(double x, double xhat, dtype out) const {
    const double err = std::abs(stored_as(xhat, out) - x);
    return kind == bound_kind::rel ? err <= bound * std::abs(x) : err <= bound;
  }

  nlohmann::json to_json() const {
    if (kind == bound_kind::rel) return {{"kind", "rel"}, {"bound", bound}, {"per_octave", per_octave}};
    nlohmann::json j = {{"kind", "abs"}, {"bound", bound}};
    if (step != step_for(bound)) j["step"] = step;  // an integer column's odd step
    return j;
  }
  static value_code from_json(const nlohmann::json& j) {
    value_code c;
    c.bound = j.at("bound").get<double>();
    require(c.bound >= 0, "value_code", "the bound must not be negative");
    if (j.at("kind").get<std::string>() == "rel") {
      c.kind = bound_kind::rel;
      c.per_octave = format::header_int<std::int64_t>(j.at("per_octave"), "per_octave");
      require(c.per_octave > 0, "value_code", "per_octave must be positive");
    } else {
      c.step = j.contains("step") ? j["step"].get<double>() : step_for(c.bound);
      require(c.step > 0 && std::isfinite(c.step), "value_code", "the step must be positive");
    }
    return c;
  }
};

// The bound of a column (or field) whose finite values span [lo, hi], resolved to a code.
// Integer columns stay exact.
inline value_code code_for(const bound_spec& b, double lo, double hi, bool integer) {
  if (integer || !b.set()) return value_code::exact();
  return value_code::make(b, lo, hi);
}

}  // namespace baler::codec
