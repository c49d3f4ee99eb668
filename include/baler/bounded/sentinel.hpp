#pragma once
// What marks missing values: a sentinel, a table column's -999 for a jet that is not there, or a
// field's fill value, 1e20 over land. One rule for both (sentinel_at), streamed where the data
// comes in chunks (count_extremes), what a field's bound is taken over (field_extent_of), and
// how a table's sentinel coded as a code comes back as itself (restore_sentinel).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "baler/codec/columns.hpp"
#include "baler/codec/error_bound.hpp"

namespace baler::bounded {

// How many of `rows` a sentinel marks at least.
inline std::size_t sentinel_rows(std::size_t rows) { return std::max<std::size_t>(16, rows / 100); }

// What decides a sentinel: the finite range [lo, hi] of n values, how many are lo and hi, and
// the values nearest them.
struct extremes {
  double lo = INFINITY, hi = -INFINITY, above_lo = INFINITY, below_hi = -INFINITY;
  std::size_t at_lo = 0, at_hi = 0, n = 0;
};

// The value that marks missing values (-999 for a jet that is not there, say): the smallest
// or largest, held by at least 1 % of them (and 16), and apart from all the others by at least
// `apart_by` times their range. A table column's rows with it are left out of every fit, as NaN
// are, so that formulas and relation networks still predict the other rows, and coded as
// exceptions (stored exactly) where that codes smaller; a field's points with it are
// exceptions (bounded::write()).
inline std::optional<double> sentinel_at(const extremes& e, double apart_by) {
  if (!(e.lo < e.hi)) return std::nullopt;
  const std::size_t enough = sentinel_rows(e.n);
  auto apart = [&](double gap, double others) { return others > 0 && gap >= apart_by * others; };
  const bool low = e.at_lo >= enough && apart(e.above_lo - e.lo, e.hi - e.above_lo);
  const bool high = e.at_hi >= enough && apart(e.hi - e.below_hi, e.below_hi - e.lo);
  if (low && (!high || e.at_lo >= e.at_hi)) return e.lo;
  if (high) return e.hi;
  return std::nullopt;
}

// The counts of e.lo and e.hi among v[0, n) and the values nearest them, added to e's. No
// finite value lies outside [lo, hi]; NaN and Inf change nothing. Without branches, on locals:
// a pass over a field of hundreds of MB.
inline void count_extremes(extremes& e, const double* v, std::size_t n) {
  const double lo = e.lo, hi = e.hi;
  double above = e.above_lo, below = e.below_hi;
  std::size_t at_lo = 0, at_hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = v[i];
    at_lo += x == lo, at_hi += x == hi;
    above = x > lo && x < above ? x : above;
    below = x < hi && x > below ? x : below;
  }
  e.n += n, e.at_lo += at_lo, e.at_hi += at_hi, e.above_lo = above, e.below_hi = below;
}
inline extremes extremes_of(const double* x, std::size_t n) {
  extremes e;
  std::tie(e.lo, e.hi) = codec::finite_range(x, n);
  count_extremes(e, x, n);
  return e;
}
inline std::optional<double> sentinel_of(const std::vector<double>& x, double apart_by = 0.1) {
  return sentinel_at(extremes_of(x.data(), x.size()), apart_by);
}

// The range of the values but the sentinel s, one of e's ends.
inline std::pair<double, double> range_without(const extremes& e, double s) {
  return s == e.lo ? std::pair{e.above_lo, e.hi} : std::pair{e.lo, e.below_hi};
}

// How far from a field's other values its fill value is, at least, in their range: a
// background of zeros beside values in [1000, 3000] is data.
constexpr double field_fill_apart = 1.0;

// What a field's bound of `kind` is taken over, as the codec and `evaluate` take it: its fill
// value, if it has one (`found`: the one the chunks of a file found together), stored exactly,
// and the finite range [lo, hi], of the other values under a range bound (a tighter bound than
// the whole range's, so still the one asked for). A PSNR target is a mean: it takes the data as
// it is.
struct field_extent {
  std::optional<double> fill;
  double lo = 0, hi = 0;
};
inline field_extent field_extent_of(const extremes& e, codec::bound_kind kind, std::optional<double> found = {}) {
  field_extent f{kind == codec::bound_kind::psnr ? std::nullopt : found ? found : sentinel_at(e, field_fill_apart),
                 e.lo, e.hi};
  if (f.fill && kind == codec::bound_kind::range) std::tie(f.lo, f.hi) = range_without(e, *f.fill);
  return f;
}

// A table column's sentinel rows coded as codes come back as their code's value, within the
// bound but not the sentinel itself: a mask x == -999 would miss them. The column records what
// marks those rows once decoded, and the decoder puts the sentinel back there
// (restore_sentinel): exact at no cost in codes, and a reader that predates it still returns
// values within the bound. The mark is the value they come back as, where no other row does;
// or, where the sentinel hides in the column's range (-999 amid a jet's pz, whose code other
// values share), a column decoded before it whose sentinel marks the same rows (its px).
struct sentinel_restore {
  double value;  // the sentinel, -999
  double mark;   // what its rows hold once decoded, -999.0004: in this column, or in `column`
  std::optional<std::size_t> column;
};

// The restoring of sentinel s in values, the reconstruction of x (x^ as decompress computes
// it), by the value its rows come back as, where that can be done and changes something.
inline std::optional<sentinel_restore> restorable(const double* x, const std::vector<double>& values, double s) {
  std::optional<double> as;
  for (std::size_t r = 0; r < values.size(); ++r)
    if (x[r] == s) {
      if (as && values[r] != *as) return std::nullopt;
      as = values[r];
    }
  if (!as || *as == s || std::isnan(*as)) return std::nullopt;
  for (std::size_t r = 0; r < values.size(); ++r)
    if (values[r] == *as && x[r] != s) return std::nullopt;
  return sentinel_restore{s, *as, std::nullopt};
}

// Sets the n values v[0], v[stride], ... to s.value where marks[0], marks[marks_stride], ...
// (the column's own values, or those of s.column) hold s.mark.
inline void restore_sentinel(double* v, std::size_t stride, const double* marks, std::size_t marks_stride,
                             std::size_t n, const sentinel_restore& s) {
  for (std::size_t r = 0; r < n; ++r)
    if (marks[r * marks_stride] == s.mark) v[r * stride] = s.value;
}

}  // namespace baler::bounded
