#pragma once
// 64-bit integers as doubles. A double holds every integer up to 2^53 and few past it: a column
// of nanosecond times (1.6e18) has almost no value a double equals. Its values less its
// smallest do, wherever the column spans less than 2^53, and a bound on them is the same bound.
// So such an array is held as doubles relative to an offset per group of values (a table's
// column, a field's whole array), and written back by adding the offset in integer arithmetic.
//
// An offset is the 64 bits of its dtype's value (two's complement for int64): x - offset and
// r + offset are then one modular sum for int64 and uint64 alike.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/ndarray.hpp"

namespace baler {

struct offset_doubles {
  std::vector<double> values;          // value i relative to offsets[i % offsets.size()]
  std::vector<std::uint64_t> offsets;  // one per group; empty: the values are the array's own
};

inline bool wide_integer(dtype t) { return t == dtype::i64 || t == dtype::u64; }

// 2^53: past it a double skips integers.
inline constexpr std::uint64_t exact_integer_span = std::uint64_t(1) << 53;

namespace detail {

template <class T>
offset_doubles relative_to_minimum(const T* x, std::vector<double> v, std::size_t groups, const char* where,
                                   const std::string& what) {
  // max() as a double is 2^63 or 2^64, which no T reaches: "<" is the test that v[i] converts
  // back without overflow.
  const double end = static_cast<double>(std::numeric_limits<T>::max());
  bool exact = true;
  for (std::size_t i = 0; i < v.size() && exact; ++i) exact = v[i] < end && static_cast<T>(v[i]) == x[i];
  if (exact) return {std::move(v), {}};
  std::vector<T> lo(groups, std::numeric_limits<T>::max());
  for (std::size_t i = 0; i < v.size(); ++i) lo[i % groups] = std::min(lo[i % groups], x[i]);
  offset_doubles out{std::move(v), std::vector<std::uint64_t>(lo.begin(), lo.end())};
  for (std::size_t i = 0; i < out.values.size(); ++i) {
    const std::uint64_t r = static_cast<std::uint64_t>(x[i]) - out.offsets[i % groups];  // x - min >= 0
    if (r >= exact_integer_span) {
      T hi = x[i];
      for (std::size_t k = i % groups; k < out.values.size(); k += groups) hi = std::max(hi, x[k]);
      throw error(std::string(where) + "(): " + what + " holds " + dtype_name(dtype_of<T>::value) + " values from " +
                  std::to_string(lo[i % groups]) + " to " + std::to_string(hi) +
                  ", which float64 cannot hold exactly: baler computes in float64, which is exact for 64-bit "
                  "integers up to 2^53 and, relative to their smallest, for integers spanning less; convert to "
                  "float64 to accept the rounding");
    }
    out.values[i] = static_cast<double>(r);
  }
  return out;
}

template <class T>
T add_offset(double v, std::uint64_t offset, std::size_t index) {
  if (std::isnan(v))
    throw error("from_offset_doubles(): NaN at index " + std::to_string(index) + " cannot be stored as " +
                dtype_name(dtype_of<T>::value));
  const auto r = static_cast<std::int64_t>(std::clamp(std::round(v), -0x1p62, 0x1p62));
  if constexpr (std::is_signed_v<T>) {
    std::int64_t out;
    if (__builtin_add_overflow(static_cast<std::int64_t>(offset), r, &out))
      return r > 0 ? std::numeric_limits<T>::max() : std::numeric_limits<T>::lowest();
    return out;
  } else {
    const auto step = static_cast<std::uint64_t>(r < 0 ? -r : r);
    if (r >= 0) return offset > std::numeric_limits<T>::max() - step ? std::numeric_limits<T>::max() : offset + step;
    return step > offset ? 0 : offset - step;
  }
}

}  // namespace detail

// `a` as doubles: its own where each is exact, else (int64 and uint64 only) relative to the
// minimum of each of `groups` groups, value i in group i % groups. Refused where a group spans
// 2^53 or more. `what` names the array in the error.
inline offset_doubles to_offset_doubles(const ndarray& a, std::size_t groups, const char* where,
                                        const std::string& what = "the array") {
  std::vector<double> v = a.to_doubles();
  if (a.type == dtype::i64) return detail::relative_to_minimum(a.data_as<std::int64_t>(), std::move(v), groups, where, what);
  if (a.type == dtype::u64) return detail::relative_to_minimum(a.data_as<std::uint64_t>(), std::move(v), groups, where, what);
  return {std::move(v), {}};
}

// The inverse: ndarray::from_doubles where there are no offsets; else each value rounded
// (halves away from zero), its offset added and clamped to t's range, in integer arithmetic.
inline ndarray from_offset_doubles(const std::vector<double>& values, std::vector<std::size_t> shape, dtype t,
                                   const std::vector<std::uint64_t>& offsets) {
  if (offsets.empty()) return ndarray::from_doubles(values, std::move(shape), t);
  if (!wide_integer(t)) throw error("from_offset_doubles(): offsets for " + dtype_name(t) + " values (int64 and uint64 only)");
  if (values.size() != shape_elements(shape, "from_offset_doubles"))
    throw error("from_offset_doubles(): " + std::to_string(values.size()) + " values do not fill shape " + shape_string(shape));
  ndarray out = ndarray::zeros(t, std::move(shape));
  auto fill = [&](auto* dst) {
    using T = std::remove_pointer_t<decltype(dst)>;
    for (std::size_t i = 0; i < values.size(); ++i) dst[i] = detail::add_offset<T>(values[i], offsets[i % offsets.size()], i);
  };
  if (t == dtype::i64) fill(out.data_as<std::int64_t>());
  else fill(out.data_as<std::uint64_t>());
  return out;
}

// A value of dtype t held relative to `from` (an offset, or none), relative to `to` instead
// (none: as the dtype's own value). For comparing two arrays that hold their values relative to
// different offsets; v is a whole number (a value of t, or of t less an offset).
inline double rebased(double v, dtype t, const std::uint64_t* from, const std::uint64_t* to) {
  if (!from && !to) return v;
  const std::uint64_t bits = (t == dtype::u64 && !from ? static_cast<std::uint64_t>(v)
                                                       : static_cast<std::uint64_t>(static_cast<std::int64_t>(v))) +
                             (from ? *from : 0);
  if (to) return static_cast<double>(static_cast<std::int64_t>(bits - *to));
  return t == dtype::u64 ? static_cast<double>(bits) : static_cast<double>(static_cast<std::int64_t>(bits));
}

}  // namespace baler
