#pragma once
// A quality target instead of a bound: "psnr:X" asks that a block (a table column, or the whole
// field) come back with 20 log10(range / rms error) >= X dB, the range and the rms taken over
// its finite values as decompress returns them (metrics/column_errors.hpp's PSNR). It is
// resolved here to the widest abs code that meets it on the block's own values; the file
// stores that code, so decoding is the error-bounded mode's and every value is also within
// the code's bound. A field of floats may instead meet it with the refinement of refine.hpp
// at a wider bound (the compressor codes both and keeps the smaller file); its values are then
// within one step, twice the stored bound. Or with requantised residuals, whose error depends
// on the prediction, so that their bound is searched by coding (compressor.hpp).
//
// Plain codes do not depend on the predictor (block.hpp), so the error of a bound is known
// before any coding: each try is one pass of quantise-and-measure (and, refined, a fit and a filter pass),
// and a handful of tries find the bound. Values stored exactly add no error.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "baler/bounded/block.hpp"
#include "baler/bounded/refine.hpp"
#include "baler/codec/error_bound.hpp"

namespace baler::bounded {

// The range bound whose uniform quantisation error, bound / sqrt(3) in rms, gives `db`: the
// search's first try, and what an estimate made before the values are coded assumes.
inline double typical_range_bound(double db) { return std::sqrt(3.0) * codec::psnr_allowed_rms(db, 1); }

namespace detail {

// The widest abs bound, to within 1 %, for which meets(bound) holds, starting from the
// typical bound of `db`; the allowed rms as a bound always meets it (psnr_allowed_rms), and
// only tries that meet it are kept.
template <class Meets>
double widest_bound(double db, double range, Meets&& meets) {
  double good = codec::psnr_allowed_rms(db, range), bad = std::numeric_limits<double>::infinity();
  double bound = typical_range_bound(db) * range;
  for (int tries = 0; tries < 12 && bad > good * 1.01; ++tries) {
    (meets(bound) ? good : bad) = bound;
    bound = std::isinf(bad) ? 2 * good : std::sqrt(good * bad);  // bisect (in log) once bracketed
  }
  // The error is not monotone in the bound (values that sit on a lattice of their own, as
  // rounded data do, swing it by ~0.5 dB): a few wider bounds may meet it too.
  const double found = good;
  for (int k = 1; k <= 6; ++k)
    if (meets(found * (1 + 0.02 * k))) good = found * (1 + 0.02 * k);
  return good;
}

// The mean squared error of y (as decompress stores it in `out`) over the finite values of x;
// 0 when there are none.
template <class ValueAt>
double mean_squared_error(const double* x, std::size_t n, std::size_t stride, dtype out, ValueAt&& y_at) {
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = x[i * stride];
    if (!std::isfinite(v)) continue;
    const double d = codec::value_code::stored_as(y_at(i), out) - v;
    sum += d * d, ++count;
  }
  return count ? sum / double(count) : 0.0;
}

}  // namespace detail

// The range a PSNR target is taken on: the spec's (a chunk's target, on the whole data's
// range), else the block's own, [lo, hi]. A target past max_psnr_range is refused: the squared
// errors it allows would pass the largest double.
constexpr double max_psnr_range = 1e150;
inline double psnr_range(const codec::bound_spec& spec, double lo, double hi) {
  const double range = spec.range > 0 ? spec.range : hi - lo;
  if (spec.kind == codec::bound_kind::psnr && !(range <= max_psnr_range)) {
    char text[200];
    std::snprintf(text, sizeof text,
                  "a PSNR target on values spanning %g: their squared errors pass the largest double; give an "
                  "abs, range or rel bound instead", range);
    throw error(std::string("bounded::psnr_range(): ") + text);
  }
  return range;
}

// A non-psnr `spec` goes to code_of(spec) unchanged. For psnr, the widest abs bound whose
// code_of({abs, E}) meets the target on x[0], x[stride], ... (n values, finite ones in
// [lo, hi]). `code_of` adds what the block's type asks (integer steps, exact whole numbers).
template <class CodeOf>
codec::value_code resolve_target(const codec::bound_spec& spec, const double* x, std::size_t n, std::size_t stride,
                                 double lo, double hi, dtype out, CodeOf&& code_of) {
  using codec::bound_kind;
  if (spec.kind != bound_kind::psnr) return code_of(spec);
  const double range = psnr_range(spec, lo, hi);
  if (!(range > 0)) return code_of(codec::bound_spec{bound_kind::abs, 0});  // constant: exact
  const double allowed_rms = codec::psnr_allowed_rms(spec.value, range);
  const double bound = detail::widest_bound(spec.value, range, [&](double e) {
    const codec::value_code code = code_of(codec::bound_spec{bound_kind::abs, e});
    return detail::mean_squared_error(x, n, stride, out, [&](std::size_t i) {
      const double v = x[i * stride];
      std::int64_t k = 0;
      // A value without a code, or whose code fails the bound, is stored exactly.
      if (!code.encode(v, k) || !code.within(v, code.decode(k, 1), out)) return v;
      return code.decode(k, 1);
    }) <= allowed_rms * allowed_rms;
  });
  return code_of(codec::bound_spec{bound_kind::abs, bound});
}

// A field's PSNR target met with the refinement of refine.hpp: the widest bound whose refined
// reconstruction meets it, and the filter fitted at that bound; an empty filter when none
// found meets it. The search runs on a middle box of at most 2^20 cells, then the whole field
// is checked and, where it falls short, the bound narrowed by the shortfall (a few tries).
struct refined_code {
  codec::value_code code;
  refinement filter;
};
template <class CodeOf>
refined_code resolve_refined(double db, double range, const double* x, const grid3& g, dtype out, CodeOf&& code_of) {
  const double allowed_rms = codec::psnr_allowed_rms(db, range);
  // The refined reconstruction of the n values v on grid dims at abs bound e, into y.
  auto refined = [&](const double* v, const grid3& dims, double e, std::vector<double>& y) {
    const std::size_t n = dims[0] * dims[1] * dims[2];
    refined_code r{code_of(codec::bound_spec{codec::bound_kind::abs, e}), {}};
    y.resize(n);
    if (!(r.code.bound > 0)) {  // exact: nothing to refine
      std::copy(v, v + n, y.begin());
      return r;
    }
    const std::vector<double> c = reconstruct(v, quantise(v, n, r.code, out), r.code);
    r.filter = fit_refinement(dims, v, c.data(), r.code.step);
    apply_refinement(r.filter, dims, c.data(), r.code.step, y.data());
    return r;
  };
  auto rms_of = [&](const double* v, const std::vector<double>& y) {
    return std::sqrt(detail::mean_squared_error(v, y.size(), 1, out, [&](std::size_t i) { return y[i]; }));
  };
  const grid3 box = middle_box_dims(g, std::size_t(1) << 20);
  std::vector<double> sample(box[0] * box[1] * box[2]), y;
  for_each_box_cell(g, box, [&](std::size_t i, std::size_t at) { sample[i] = x[at]; });
  double bound = detail::widest_bound(db, range, [&](double e) {
    refined(sample.data(), box, e, y);
    return rms_of(sample.data(), y) <= allowed_rms;
  });
  // The whole field, where the box may have been kinder: the bound narrowed along the rms's
  // slope against it (in log; 1 for plain codes, less with the refinement), a few tries.
  refined_code r = refined(x, g, bound, y);
  double rms = rms_of(x, y), slope = 1;
  for (int tries = 0; tries < 6 && rms > allowed_rms; ++tries) {
    const double before = bound, rms_before = rms;
    bound *= 0.995 * std::pow(allowed_rms / rms, 1 / slope);
    r = refined(x, g, bound, y);
    rms = rms_of(x, y);
    slope = std::clamp(std::log(rms_before / rms) / std::log(before / bound), 0.2, 1.0);
    if (!std::isfinite(slope)) slope = 1;
  }
  // Not met, or no wider than the bound that surely meets it unrefined: the plain code does as well.
  if (bound <= allowed_rms || rms > allowed_rms)
    return {code_of(codec::bound_spec{codec::bound_kind::abs, allowed_rms}), {}};
  return r;
}

}  // namespace baler::bounded
