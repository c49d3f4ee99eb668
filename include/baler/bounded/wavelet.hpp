#pragma once
// A field under a PSNR target, coded in the wavelet domain: the values on a fine lattice of
// integer codes (a value_code whose error is a small part of the target's), the CDF 9/7
// wavelet of those codes over every axis of 8 or more cells, for up to max_levels levels,
// its coefficients quantised with one step and context-coded. A target in mean squared error
// is where a transform wins over pointwise prediction: the coefficients carry the field's
// energy in few places, and a step on them spreads the error where it costs least. Under a
// bound fixed beforehand the same transform with corrections (encode_bounded, at the end)
// keeps every value within it.
//
// Every operation is on integers (lifting steps with constants in 1/65536, rounded as
// fixed_round says, and clamped to +-2^coefficient_bits so that no crafted file can overflow
// them): the decoder's values are the encoder's on any machine, and the PSNR the encoder
// measures is the one decompress gives.
//
//   description  {"kind": "wavelet", "coder": "cdf97", "levels": L, "step": Q, "base": B}: L in
//                [1, max_levels] the levels the encoder ran (fewer where no axis has 8 cells
//                left), Q in [1, max_step] the coefficients' step, in lattice codes, B the
//                smallest lattice code (the transform sees codes - B).
//   bytes        varint R, R bytes of range coder: the quantised coefficients, coarsest band
//                first, then each level's detail cells from the coarsest, each in row-major
//                order over its level's region (the low cells of that region skipped), through
//                residual_model with the context of the magnitudes of the three neighbours
//                before it (one back along each axis), its parent's and the level
//                (for_each_in_order).
//   values       B + the inverse transform of q x Q, as lattice codes, through the field's code.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/bounded/block.hpp"
#include "baler/bounded/context_coder.hpp"
#include "baler/bounded/field_walks.hpp"
#include "baler/bounded/psnr_target.hpp"
#include "baler/format/container.hpp"

namespace baler::bounded::wavelet {

constexpr const char* coder_name = "cdf97";
constexpr unsigned max_levels = 6, min_length = 8, level_classes = 4;
// |coefficients| stay below 2^44: lattice codes below 2^34, grown at most 2^9 by 18 low passes.
constexpr int coefficient_bits = 44;
constexpr std::int64_t max_lattice_span = std::int64_t(1) << 34;
constexpr std::int64_t max_step = std::int64_t(1) << 32;
// The lattice's step against the target's allowed rms error: its own rms error (step /
// sqrt(12)) adds 1e-4 of the allowed squared error.
constexpr double lattice_fraction = 0.035;

// round(v / 65536), halves up, for negative v too.
inline std::int64_t fixed_round(std::int64_t v) { return floor_shift(v + 32768, 16); }
inline std::int64_t clamp_coefficient(std::int64_t v) {
  constexpr std::int64_t limit = std::int64_t(1) << coefficient_bits;
  return std::clamp(v, -limit, limit);
}
// round(c x v / 65536) for |c| < 2^17 and |v| <= 2^45: no overflow.
inline std::int64_t times(std::int64_t c, std::int64_t v) { return clamp_coefficient(fixed_round(c * v)); }

// The lifting constants of CDF 9/7 (alpha, beta, gamma, delta), in 1/65536: each step is
// undone exactly, whatever its rounding.
constexpr std::array<std::int64_t, 4> lifts = {-103949, -3472, 57862, 29066};
// Its scaling, K and 1/K, in 2^-32: their product is 1 to within 2^-31, so that a field of
// 2^34 codes comes back to within a few codes (in 1/65536 they would be 5e-6 apart).
constexpr std::int64_t scale_low = 5283557549, scale_high = 3491349134;
__extension__ using wide = __int128;
inline std::int64_t scaled(std::int64_t c, std::int64_t v) {  // round(c x v / 2^32), |v| <= 2^44
  static_assert((wide(-3) >> 1) == -2, "needs an arithmetic right shift");
  return clamp_coefficient(std::int64_t((wide(c) * v + (wide(1) << 31)) >> 32));
}

// One level along `count` lines of n >= 2 values side by side, element i of line c at
// x[i * stride + c]: the low half into each line's first ceil(n / 2) places, the high half
// after them. Symmetric extension at both ends. Lines along a slow axis are taken a row of
// the grid at a time, so that every cache line read is used (a line at a time, one value of
// each 64 bytes). s, d: scratch, [ceil(n / 2) x count] and [n / 2 x count].
inline void forward_lines(std::int64_t* x, std::size_t stride, std::size_t n, std::size_t count,
                          std::vector<std::int64_t>& s, std::vector<std::int64_t>& d) {
  const std::size_t ns = (n + 1) / 2, nd = n / 2;
  s.resize(ns * count), d.resize(nd * count);
  for (std::size_t i = 0; i < ns; ++i) std::copy_n(x + 2 * i * stride, count, s.data() + i * count);
  for (std::size_t i = 0; i < nd; ++i) std::copy_n(x + (2 * i + 1) * stride, count, d.data() + i * count);
  for (int step = 0; step < 4; step += 2) {
    for (std::size_t i = 0; i < nd; ++i) {
      const std::int64_t *s0 = s.data() + i * count, *s1 = s.data() + std::min(i + 1, ns - 1) * count;
      std::int64_t* di = d.data() + i * count;
      for (std::size_t c = 0; c < count; ++c) di[c] = clamp_coefficient(di[c] + times(lifts[step], s0[c] + s1[c]));
    }
    for (std::size_t i = 0; i < ns; ++i) {
      const std::int64_t *d0 = d.data() + (i ? i - 1 : 0) * count, *d1 = d.data() + std::min(i, nd - 1) * count;
      std::int64_t* si = s.data() + i * count;
      for (std::size_t c = 0; c < count; ++c) si[c] = clamp_coefficient(si[c] + times(lifts[step + 1], d0[c] + d1[c]));
    }
  }
  for (std::size_t i = 0; i < ns; ++i)
    for (std::size_t c = 0; c < count; ++c) x[i * stride + c] = scaled(scale_low, s[i * count + c]);
  for (std::size_t i = 0; i < nd; ++i)
    for (std::size_t c = 0; c < count; ++c) x[(ns + i) * stride + c] = scaled(scale_high, d[i * count + c]);
}
inline void inverse_lines(std::int64_t* x, std::size_t stride, std::size_t n, std::size_t count,
                          std::vector<std::int64_t>& s, std::vector<std::int64_t>& d) {
  const std::size_t ns = (n + 1) / 2, nd = n / 2;
  s.resize(ns * count), d.resize(nd * count);
  for (std::size_t i = 0; i < ns; ++i)
    for (std::size_t c = 0; c < count; ++c) s[i * count + c] = scaled(scale_high, x[i * stride + c]);
  for (std::size_t i = 0; i < nd; ++i)
    for (std::size_t c = 0; c < count; ++c) d[i * count + c] = scaled(scale_low, x[(ns + i) * stride + c]);
  for (int step = 2; step >= 0; step -= 2) {
    for (std::size_t i = 0; i < ns; ++i) {
      const std::int64_t *d0 = d.data() + (i ? i - 1 : 0) * count, *d1 = d.data() + std::min(i, nd - 1) * count;
      std::int64_t* si = s.data() + i * count;
      for (std::size_t c = 0; c < count; ++c) si[c] = clamp_coefficient(si[c] - times(lifts[step + 1], d0[c] + d1[c]));
    }
    for (std::size_t i = 0; i < nd; ++i) {
      const std::int64_t *s0 = s.data() + i * count, *s1 = s.data() + std::min(i + 1, ns - 1) * count;
      std::int64_t* di = d.data() + i * count;
      for (std::size_t c = 0; c < count; ++c) di[c] = clamp_coefficient(di[c] - times(lifts[step], s0[c] + s1[c]));
    }
  }
  for (std::size_t i = 0; i < ns; ++i) std::copy_n(s.data() + i * count, count, x + 2 * i * stride);
  for (std::size_t i = 0; i < nd; ++i) std::copy_n(d.data() + i * count, count, x + (2 * i + 1) * stride);
}

// The region of grid g each level transforms (level 0 the whole grid) and which of its axes
// it splits (those of min_length cells or more).
struct level {
  grid3 region;
  std::array<bool, 3> split;
  grid3 low() const {
    grid3 r = region;
    for (int a = 0; a < 3; ++a)
      if (split[a]) r[a] = (r[a] + 1) / 2;
    return r;
  }
};
inline std::vector<level> levels_of(const grid3& g, unsigned most = max_levels) {
  std::vector<level> out;
  grid3 r = g;
  while (out.size() < most) {
    level l{r, {r[0] >= min_length, r[1] >= min_length, r[2] >= min_length}};
    if (!l.split[0] && !l.split[1] && !l.split[2]) break;
    out.push_back(l);
    r = l.low();
  }
  return out;
}

// f(offset, count) for every batch of lines along axis a of region r, in grid g, as
// forward_lines takes them: along the last axis a line at a time, along the others a row of
// the last axis at a time.
template <class F>
void for_each_lines(const grid3& g, const grid3& r, int a, F&& f) {
  const std::array<std::size_t, 3> stride = {g[1] * g[2], g[2], 1};
  if (a == 2) {
    for (std::size_t i = 0; i < r[0]; ++i)
      for (std::size_t j = 0; j < r[1]; ++j) f(i * stride[0] + j * stride[1], std::size_t(1));
  } else {
    const std::size_t b = a == 0 ? 1 : 0;  // the other slow axis
    for (std::size_t i = 0; i < r[b]; ++i) f(i * stride[b], r[2]);
  }
}

inline void forward(std::vector<std::int64_t>& x, const grid3& g, const std::vector<level>& ls) {
  const std::array<std::size_t, 3> stride = {g[1] * g[2], g[2], 1};
  std::vector<std::int64_t> s, d;
  for (const level& l : ls)
    for (int a = 0; a < 3; ++a)
      if (l.split[std::size_t(a)])
        for_each_lines(g, l.region, a, [&](std::size_t at, std::size_t count) {
          forward_lines(x.data() + at, stride[std::size_t(a)], l.region[std::size_t(a)], count, s, d);
        });
}
inline void inverse(std::vector<std::int64_t>& x, const grid3& g, const std::vector<level>& ls) {
  const std::array<std::size_t, 3> stride = {g[1] * g[2], g[2], 1};
  std::vector<std::int64_t> s, d;
  for (auto l = ls.rbegin(); l != ls.rend(); ++l)
    for (int a = 2; a >= 0; --a)
      if (l->split[std::size_t(a)])
        for_each_lines(g, l->region, a, [&](std::size_t at, std::size_t count) {
          inverse_lines(x.data() + at, stride[std::size_t(a)], l->region[std::size_t(a)], count, s, d);
        });
}

// The cell of level l + 1 over cell p of level l's detail (same orientation, half the
// position), or none where l is the coarsest level or the two split different axes.
inline std::optional<std::size_t> parent_of(const grid3& g, const std::vector<level>& ls, std::size_t l, const grid3& p) {
  if (l + 1 >= ls.size() || ls[l].split != ls[l + 1].split) return std::nullopt;
  const grid3 low = ls[l].low(), parent_low = ls[l + 1].low(), parent_region = ls[l + 1].region;
  grid3 at = p;
  for (std::size_t a = 0; a < 3; ++a) {
    if (!ls[l].split[a]) continue;
    const bool high = p[a] >= low[a];
    at[a] = std::min((high ? parent_low[a] : 0) + (p[a] - (high ? low[a] : 0)) / 2, parent_region[a] - 1);
  }
  return (at[0] * g[1] + at[1]) * g[2] + at[2];
}

// f(index, context) for every cell in coding order (see the top): the coarsest band, then
// each level's detail cells from the coarsest level. The context, from the quantised
// coefficients q already coded: the magnitudes one back along each axis (zero at the grid's
// edge), whether the parent is 0, 1 or more, and the level class.
template <class F>
void for_each_in_order(const std::vector<std::int64_t>& q, const grid3& g, const std::vector<level>& ls, F&& f) {
  auto mag = [](std::int64_t v) { return v < 0 ? std::uint64_t(0) - std::uint64_t(v) : std::uint64_t(v); };
  auto region = [&](const grid3& r, const grid3& skip, std::size_t l, unsigned cls) {
    for (std::size_t i = 0; i < r[0]; ++i)
      for (std::size_t j = 0; j < r[1]; ++j)
        for (std::size_t k = 0; k < r[2]; ++k) {
          if (i < skip[0] && j < skip[1] && k < skip[2]) continue;
          const std::size_t at = (i * g[1] + j) * g[2] + k;
          std::uint64_t sum = 0;
          if (k) sum += 2 * mag(q[at - 1]);
          if (j) sum += 2 * mag(q[at - g[2]]);
          if (i) sum += mag(q[at - g[1] * g[2]]);
          unsigned up = 0;
          if (cls < level_classes - 1)
            if (const std::optional<std::size_t> p = parent_of(g, ls, l, {i, j, k})) up = unsigned(std::min<std::uint64_t>(mag(q[*p]), 2));
          f(at, (cls * 3 + up) * magnitude_buckets + magnitude_bucket(sum));
        }
  };
  region(ls.empty() ? g : ls.back().low(), {0, 0, 0}, ls.size(), level_classes - 1);
  for (std::size_t l = ls.size(); l-- > 0;)
    region(ls[l].region, ls[l].low(), l, unsigned(std::min<std::size_t>(l, level_classes - 2)));
}
constexpr unsigned contexts = level_classes * 3 * magnitude_buckets;

// |w| quantised with step Q and a dead zone: rounded up from 5/8 of a step, not 1/2 (the
// many small coefficients go to 0; 3-9 % smaller files at the same PSNR).
inline std::int64_t quantised_magnitude(std::int64_t w, std::int64_t step) {
  return ((w < 0 ? -w : w) + 3 * step / 8) / step;
}
// Coefficients w quantised with step Q, and back (q x Q). Both work in the vector they are
// given: a caller that moves it in allocates nothing (a field's vectors are 8 bytes a value).
inline std::vector<std::int64_t> quantise_coefficients(std::vector<std::int64_t> w, std::int64_t step) {
  for (std::int64_t& v : w) v = v < 0 ? -quantised_magnitude(v, step) : quantised_magnitude(v, step);
  return w;
}
inline std::vector<std::int64_t> lattice_of(std::vector<std::int64_t> q, std::int64_t step, const grid3& g,
                                            const std::vector<level>& ls) {
  for (std::int64_t& v : q) v = clamp_coefficient(v * step);  // |q| checked <= 2^44 / step
  inverse(q, g, ls);
  return q;
}

inline std::vector<std::byte> encode_coefficients(const std::vector<std::int64_t>& q, const grid3& g,
                                                  const std::vector<level>& ls) {
  rc::encoder coder;
  residual_model model(contexts);
  for_each_in_order(q, g, ls, [&](std::size_t at, unsigned context) { model.encode(coder, q[at], context); });
  std::vector<std::byte> out;
  coder.finish_into(out);
  return out;
}

// Lattice codes of n values (value_at(i)) less the smallest, `base`; none where a value has no
// code or the codes span max_lattice_span or more.
struct lattice_codes {
  std::vector<std::int64_t> codes;
  std::int64_t base = 0;
};
template <class ValueAt>
std::optional<lattice_codes> lattice_codes_of(const value_code& lattice, std::size_t n, ValueAt&& value_at) {
  lattice_codes r{std::vector<std::int64_t>(n), 0};
  for (std::size_t i = 0; i < n; ++i)
    if (!lattice.encode(value_at(i), r.codes[i])) return std::nullopt;
  const auto [lo, hi] = std::minmax_element(r.codes.begin(), r.codes.end());
  r.base = n ? *lo : 0;
  if (n && (wrapping_sub(*hi, r.base) < 0 || wrapping_sub(*hi, r.base) >= max_lattice_span)) return std::nullopt;
  for (std::int64_t& v : r.codes) v -= r.base;
  return r;
}

// What the encoder found: the header's code (a PSNR target's lattice, or the bound's), the
// description and the block's bytes.
struct coded_field {
  value_code code;
  nlohmann::json desc;
  std::vector<std::byte> bytes;
};

// The field x on grid g coded to meet `db` on `range` (metrics' PSNR, as psnr_target.hpp),
// with the widest coefficient step that meets it (to within 2 %); none when a value has no
// lattice code (NaN, Inf), the lattice would span max_lattice_span codes or more, or no axis
// has 8 cells. `code_of` as for resolve_target.
template <class CodeOf>
std::optional<coded_field> encode_target(const double* x, const grid3& g, double db, double range, dtype out,
                                         CodeOf&& code_of) {
  const std::size_t n = g[0] * g[1] * g[2];
  const std::vector<level> ls = levels_of(g);
  const double allowed_rms = codec::psnr_allowed_rms(db, range);
  if (ls.empty() || !(allowed_rms > 0)) return std::nullopt;
  const value_code code = code_of(codec::bound_spec{codec::bound_kind::abs, lattice_fraction * allowed_rms});
  if (code.kind != codec::bound_kind::abs || !(code.step > 0)) return std::nullopt;
  // The lattice only carries the values into the transform: the error that counts is measured
  // on the decoded values as stored (a float16's rounding included), not per value here.
  std::optional<lattice_codes> l = lattice_codes_of(code, n, [&](std::size_t i) { return x[i]; });
  if (!l) return std::nullopt;
  std::vector<std::int64_t>& w = l->codes;
  const std::int64_t base = l->base;
  forward(w, g, ls);
  const double allowed = allowed_rms * allowed_rms;
  auto decoded_mse = [&](std::int64_t step) {
    const std::vector<std::int64_t> y = lattice_of(quantise_coefficients(w, step), step, g, ls);
    return detail::mean_squared_error(x, n, 1, out, [&](std::size_t i) { return code.decode(wrapping_add(y[i], base), 1); });
  };
  // The squared error a step leaves on (a sample of at most 2^20 of) the coefficients, in the
  // values' units: about the values' own, the transform being near orthonormal. The search
  // runs on it, and the decoded values' error (an inverse transform) checks each step found
  // and corrects the ratio between the two.
  const std::size_t stride = std::max<std::size_t>(1, n >> 20);
  auto coefficient_mse = [&](std::int64_t step) {
    double sum = 0;
    for (std::size_t i = 0; i < n; i += stride) {
      const double d = double((w[i] < 0 ? -w[i] : w[i]) - quantised_magnitude(w[i], step) * step);
      sum += d * d;
    }
    return sum / double((n + stride - 1) / stride) * code.step * code.step;
  };
  auto widest = [&](double limit) -> std::int64_t {  // to within 0.5 %; 0: none
    if (coefficient_mse(1) > limit) return 0;
    if (coefficient_mse(max_step) <= limit) return max_step;
    std::int64_t lo = 1, hi = max_step;
    while (hi - lo > 1 && double(hi) > 1.005 * double(lo)) {
      const std::int64_t mid = std::clamp<std::int64_t>(std::llround(std::sqrt(double(lo) * double(hi))), lo + 1, hi - 1);
      (coefficient_mse(mid) <= limit ? lo : hi) = mid;
    }
    return lo;
  };
  std::int64_t good = 0, step = 0;
  double ratio = 1;
  for (int round = 0; round < 4; ++round) {
    if (!(step = widest(allowed / ratio))) break;
    const double mse = decoded_mse(step);
    if (mse <= allowed) good = std::max(good, step);
    if (mse <= allowed && mse >= 0.96 * allowed) break;  // the step to within ~2 %
    ratio = mse / std::max(coefficient_mse(step), std::numeric_limits<double>::min());
  }
  for (int tries = 0; tries < 8 && !good && step > 1; ++tries)  // narrowed until one meets
    if (decoded_mse(step = std::max<std::int64_t>(1, step * 7 / 8)) <= allowed) good = step;
  if (!good) return std::nullopt;
  const std::vector<std::int64_t> q = quantise_coefficients(w, good);
  coded_field r{code,
                {{"kind", "wavelet"}, {"coder", coder_name}, {"levels", ls.size()}, {"step", good}, {"base", base},
                 {"exceptions", 0}},
                {}};
  r.bytes = encode_coefficients(q, g, ls);
  return r;
}

// Reads a coder's stream (varint length, bytes) of values within +-largest, in the order and
// contexts that walk(f) calls f(at, context) with, handing each to got(at, v); `what` is the
// error where one falls outside or the stream ends first.
template <class Walk, class Got>
void decode_within(codec::rans::reader& in, unsigned contexts, std::int64_t largest, Walk&& walk, Got&& got,
                   const char* where, const char* what) {
  rc::decoder coder(in.bytes(in.varint()));
  residual_model model(contexts);
  bool fits = true;
  walk([&](std::size_t at, unsigned context) {
    const std::int64_t v = model.decode(coder, context);
    fits = fits && v >= -largest && v <= largest;
    if (fits) got(at, v);
  });
  require(fits && !coder.overran(), where, what);
}

// The lattice codes of a wavelet block of grid g (less its base), from its coefficients.
inline std::vector<std::int64_t> decode_lattice(codec::rans::reader& in, const grid3& g, const nlohmann::json& desc) {
  const char* where = "bounded::wavelet::decode";
  const std::size_t levels = format::header_size(desc.at("levels"), "a wavelet block's levels");
  const std::int64_t step = format::header_int<std::int64_t>(desc.at("step"), "a wavelet block's step");
  const std::vector<level> ls = levels_of(g, unsigned(std::min<std::size_t>(levels, max_levels)));
  require(levels >= 1 && ls.size() == levels && step >= 1 && step <= max_step, where,
          "a wavelet block with " + std::to_string(levels) + " levels and step " + std::to_string(step) +
              " on this grid");
  std::vector<std::int64_t> q(g[0] * g[1] * g[2], 0);
  decode_within(
      in, contexts, (std::int64_t(1) << coefficient_bits) / step,
      [&](auto&& f) { for_each_in_order(q, g, ls, f); }, [&](std::size_t at, std::int64_t v) { q[at] = v; }, where,
      "a wavelet block is truncated or holds a coefficient out of range");
  return lattice_of(std::move(q), step, g, ls);
}

// The values of a wavelet block of grid g under the lattice's code.
inline std::vector<double> decode(codec::rans::reader& in, const grid3& g, const value_code& code,
                                  const nlohmann::json& desc) {
  require(code.kind == codec::bound_kind::abs && code.step > 0, "bounded::wavelet::decode",
          "a wavelet block under a code that is not a lattice");
  const std::int64_t base = format::header_int<std::int64_t>(desc.at("base"), "a wavelet block's base");
  const std::vector<std::int64_t> y = decode_lattice(in, g, desc);
  std::vector<double> v(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) v[i] = code.decode(wrapping_add(y[i], base), 1);
  return v;
}

// A field under a pointwise bound, as SPERR does it: the wavelet of the values on a lattice
// `correction_width` times finer than the bound's code, its step chosen by size, then every
// value the transform leaves more than the bound away moved back by whole corrections of
// `correction_width` lattice codes (at most half of one left: the bound, less the lattice's
// own rounding). At loose bounds the coefficients are few and the corrections mostly 0.
//
//   description  as encode_target's, "coder": "cdf97_corrected", "correction": W (odd, in
//                lattice codes) and "lattice": the lattice's code ("code" in the header stays
//                the bound's).
//   bytes        the exceptions (block.hpp: values whose lattice code, corrected, still misses
//                the bound once stored in their dtype; stored exactly), the coefficients as
//                above, varint R', R' bytes of range coder: the corrections in row-major order,
//                each through residual_model with the context of the corrections one back
//                along each axis (0, 1 or more each).
constexpr const char* corrected_coder_name = "cdf97_corrected";
constexpr std::int64_t correction_width = 15;
constexpr unsigned correction_contexts = 27;

// What a correction tells those after it: its magnitude, 0, 1 or more.
inline std::uint8_t correction_magnitude(std::int64_t v) { return std::uint8_t(std::min<std::int64_t>(v < 0 ? -v : v, 2)); }

// f(index, context) for every cell of g in row-major order, the context from the corrections
// k already coded one back along each axis (through correction_magnitude: the decoder keeps
// those alone, a byte a value).
template <class Correction, class F>
void for_each_correction(const std::vector<Correction>& k, const grid3& g, F&& f) {
  const auto bucket = [](Correction v) { return unsigned(correction_magnitude(v)); };
  const std::size_t plane = g[1] * g[2];
  for (std::size_t i = 0, at = 0; i < g[0]; ++i)
    for (std::size_t j = 0; j < g[1]; ++j)
      for (std::size_t l = 0; l < g[2]; ++l, ++at)
        f(at, (l ? bucket(k[at - 1]) : 0) + 3 * (j ? bucket(k[at - g[2]]) : 0) + 9 * (i ? bucket(k[at - plane]) : 0));
}

inline std::vector<std::byte> encode_corrections(const std::vector<std::int64_t>& k, const grid3& g) {
  rc::encoder coder;
  residual_model model(correction_contexts);
  for_each_correction(k, g, [&](std::size_t at, unsigned context) { model.encode(coder, k[at], context); });
  std::vector<std::byte> out;
  coder.finish_into(out);
  return out;
}

// Lattice codes y, the transform's, turned in place into the corrections that bring them
// within half a width of w: round((w - y) / W) (W odd: no halves to round). corrected(i, c):
// value i's lattice code once corrected, before its place is overwritten.
template <class Corrected>
void correct(const std::vector<std::int64_t>& w, std::vector<std::int64_t>& y, Corrected&& corrected) {
  for (std::size_t i = 0; i < w.size(); ++i) {
    const std::int64_t k = rounded_quotient(w[i] - y[i], correction_width);
    corrected(i, y[i] + k * correction_width);
    y[i] = k;
  }
}

// The field x on grid g within `code`'s (abs) bound, stored as `out`; none where a value has
// no lattice code, the lattice would span max_lattice_span codes or more, no axis has 8
// cells, or the coefficients and corrections of the box of at most 2^16 cells from the middle
// that the predictors are estimated on, scaled to the field, would cost more than `beat`
// bytes (deciding costs a fraction of coding). The step is the one that codes the box
// smallest among 1, 1.4 and 2 correction widths.
template <class CodeOf>
std::optional<coded_field> encode_bounded(const double* x, const grid3& g, const value_code& code, dtype out,
                                          double beat, CodeOf&& code_of) {
  const std::size_t n = g[0] * g[1] * g[2];
  const std::vector<level> ls = levels_of(g);
  if (ls.empty() || code.kind != codec::bound_kind::abs || !(code.bound > 0)) return std::nullopt;
  const value_code lattice =
      code_of(codec::bound_spec{codec::bound_kind::abs, code.bound / double(correction_width)});
  if (lattice.kind != codec::bound_kind::abs || !(lattice.bound > 0)) return std::nullopt;
  // The box first, on its own lattice codes: a field it turns away costs no more.
  const grid3 bg = middle_box_dims(g, std::size_t(1) << 16);
  const std::vector<level> bls = levels_of(bg);
  if (bls.empty()) return std::nullopt;
  std::vector<std::size_t> cells(bg[0] * bg[1] * bg[2]);
  for_each_box_cell(g, bg, [&](std::size_t i, std::size_t at) { cells[i] = at; });
  const std::optional<lattice_codes> sampled =
      lattice_codes_of(lattice, cells.size(), [&](std::size_t i) { return x[cells[i]]; });
  if (!sampled) return std::nullopt;
  const std::vector<std::int64_t>& box = sampled->codes;
  std::vector<std::int64_t> transformed = box;
  forward(transformed, bg, bls);
  std::int64_t step = 0;
  std::size_t best = std::numeric_limits<std::size_t>::max();
  for (const double widths : {1.0, 1.4, 2.0}) {
    const std::int64_t s = std::llround(widths * double(correction_width));
    const std::vector<std::int64_t> q = quantise_coefficients(transformed, s);
    std::vector<std::int64_t> k = lattice_of(q, s, bg, bls);
    correct(box, k, [](std::size_t, std::int64_t) {});
    if (const std::size_t b = encode_coefficients(q, bg, bls).size() + encode_corrections(k, bg).size(); b < best)
      best = b, step = s;
  }
  if (double(best) * double(n) / double(box.size()) > beat) return std::nullopt;
  const std::optional<lattice_codes> l = lattice_codes_of(lattice, n, [&](std::size_t i) { return x[i]; });
  if (!l) return std::nullopt;
  const std::vector<std::int64_t>& w = l->codes;
  const std::int64_t base = l->base;
  std::vector<std::int64_t> q = w;
  forward(q, g, ls);
  q = quantise_coefficients(std::move(q), step);
  const std::vector<std::byte> coefficients = encode_coefficients(q, g, ls);
  std::vector<std::int64_t> k = lattice_of(std::move(q), step, g, ls);
  exception_list exceptions;
  correct(w, k, [&](std::size_t i, std::int64_t corrected) {
    if (!code.within(x[i], lattice.decode(wrapping_add(corrected, base), 1), out)) exceptions.emplace_back(i, x[i]);
  });
  coded_field r{code,
                {{"kind", "wavelet"},
                 {"coder", corrected_coder_name},
                 {"levels", ls.size()},
                 {"step", step},
                 {"base", base},
                 {"correction", correction_width},
                 {"lattice", lattice.to_json()},
                 {"exceptions", exceptions.size()}},
                {}};
  write_exceptions(exceptions, r.bytes);
  const std::vector<std::byte> corrections = encode_corrections(k, g);
  r.bytes.insert(r.bytes.end(), coefficients.begin(), coefficients.end());
  r.bytes.insert(r.bytes.end(), corrections.begin(), corrections.end());
  return r;
}

// The values of a corrected wavelet block of grid g (encode_bounded).
inline std::vector<double> decode_corrected(codec::rans::reader& in, const grid3& g, const nlohmann::json& desc) {
  const char* where = "bounded::wavelet::decode_corrected";
  const value_code lattice = value_code::from_json(desc.at("lattice"));
  const std::int64_t width = format::header_int<std::int64_t>(desc.at("correction"), "a wavelet block's correction");
  const std::int64_t base = format::header_int<std::int64_t>(desc.at("base"), "a wavelet block's base");
  require(lattice.kind == codec::bound_kind::abs && width >= 1 && width <= max_step, where,
          "a corrected wavelet block whose lattice or correction width is not one it writes");
  const std::size_t n = g[0] * g[1] * g[2];
  const exception_list exceptions = read_exceptions(in, n);
  std::vector<std::int64_t> y = decode_lattice(in, g, desc);
  std::vector<std::uint8_t> magnitudes(n, 0);  // of the corrections, up to 2: their context
  decode_within(
      in, correction_contexts, (std::int64_t(1) << coefficient_bits) / width,
      [&](auto&& f) { for_each_correction(magnitudes, g, f); },
      [&](std::size_t at, std::int64_t v) {
        magnitudes[at] = correction_magnitude(v);
        y[at] = wrapping_add(y[at], v * width);
      },
      where, "a corrected wavelet block is truncated or holds a correction out of range");
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = lattice.decode(wrapping_add(y[i], base), 1);
  for (const auto& e : exceptions) v[e.first] = e.second;
  return v;
}

}  // namespace baler::bounded::wavelet
