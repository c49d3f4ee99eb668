#pragma once
// Walks over the integer codes of a field (see block.hpp): the order in which values are coded,
// the prediction of each from codes already coded, and its coding context. All arithmetic is
// on integers, so every build and device predicts the same codes.
//
// The grid is the array's shape folded to 3 axes (leading axes merged), slowest first.
//
//   lorenzo        raster order; p by inclusion-exclusion over the previous neighbours on every
//                  axis (or, `frames`, the last two only): exact for fields linear in each axis.
//   interpolation  SZ3's multilevel order: the corner, then at strides 2^(L-1) ... 1 the points
//                  half-way between coded ones, axis by axis; p from the coded neighbours along
//                  the axis: linear (a + b) / 2, cubic (-a + 9b + 9c - d) / 16, or *learned*:
//                  seven taps (the four cubic ones, the point one step back on another axis and
//                  its two neighbours along this axis) with weights fitted by least squares at
//                  compress time, per level and axis, and stored as 16.16 fixed-point integers.
//   causal         raster order, a learned linear predictor over ten causal neighbours.
//                  Near the edges, where taps are missing, it falls back to linear or to the
//                  nearest coded neighbour.
// Contexts: the size of the residuals already coded next to the value (and, for
// interpolation, its level), so the coder adapts to quiet and busy regions. `phased`
// (interpolation, causal; the coder "context_phased" in a file): times 4, the quarter of the
// rounding interval [p - 1/2, p + 1/2) where the unrounded prediction lay (0: below p - 1/4
// ... 3: at or above p + 1/4). At loose bounds most residuals are 0 or +-1, and which of them
// is likely depends on which way the prediction was rounded.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "baler/bounded/block.hpp"
#include "baler/core/gauss_jordan.hpp"

namespace baler::bounded {

using grid3 = std::array<std::size_t, 3>;  // slowest .. fastest

inline grid3 fold_shape(const std::vector<std::size_t>& shape) {
  require(!shape.empty(), "fold_shape", "a field needs at least one axis");
  grid3 g{1, 1, 1};
  const std::size_t d = shape.size();
  g[2] = shape[d - 1];
  if (d >= 2) g[1] = shape[d - 2];
  for (std::size_t i = 0; i + 2 < d; ++i) g[0] *= shape[i];
  return g;
}

// The dims of a box of at most `points` cells from the middle of g: its longest axis halved
// until it fits.
inline grid3 middle_box_dims(const grid3& g, std::size_t points) {
  grid3 box = g;
  while (box[0] * box[1] * box[2] > points) {
    const std::size_t a = std::size_t(std::max_element(box.begin(), box.end()) - box.begin());
    box[a] = (box[a] + 1) / 2;
  }
  return box;
}

// f(i, at) for every cell of the middle box `box` of g: its i-th cell (row-major) is g's `at`.
template <class F>
void for_each_box_cell(const grid3& g, const grid3& box, F&& f) {
  std::size_t i = 0;
  for (std::size_t a = 0; a < box[0]; ++a)
    for (std::size_t b = 0; b < box[1]; ++b)
      for (std::size_t c = 0; c < box[2]; ++c, ++i)
        f(i, ((a + (g[0] - box[0]) / 2) * g[1] + b + (g[1] - box[1]) / 2) * g[2] + c + (g[2] - box[2]) / 2);
}

// What a raster walk (lorenzo, causal) reads around a point. Files written before `wide`
// existed name no neighbourhood and are read with `narrow`.
//   narrow  contexts sum the residual sizes west, north-west, north, north-east and (3 axes)
//           one frame back; a 2-D causal predictor has seven taps
//   wide    the same counted twice where nearest, plus two west and two north; a 2-D causal
//           predictor has eleven (the four frame taps become north-east-east, two north's
//           west and east neighbours, and three west): files ~1 % smaller on the CFD and
//           turbulence fields
enum class neighbourhood { narrow = 1, wide = 2 };

// The coding context of raster point (t, y, x), index i: the residual sizes m already coded
// around it; `across_t`: the frame before counts too. `inside`: the caller knows the point is
// at least two from the west and north edges and one from the east.
template <bool inside = false>
[[gnu::always_inline]] inline unsigned raster_context(const std::vector<std::uint16_t>& m, std::size_t i, std::size_t t,
                                                      std::size_t y, std::size_t x, const grid3& dims, bool across_t,
                                                      neighbourhood h) {
  const std::size_t nx = dims[2], sy = nx, st = nx * dims[1];
  const std::uint64_t near = h == neighbourhood::wide ? 2 : 1;
  std::uint64_t sum = 0;
  if (inside || x > 0) sum += near * m[i - 1] + (inside || y > 0 ? m[i - sy - 1] : 0);
  if (inside || y > 0) sum += near * m[i - sy] + (inside || x + 1 < nx ? m[i - sy + 1] : 0);
  if (across_t && t > 0) sum += near * m[i - st];
  if (h == neighbourhood::wide) sum += (inside || x > 1 ? m[i - 2] : 0) + (inside || y > 1 ? m[i - 2 * sy] : 0);
  return magnitude_bucket(sum);
}

struct lorenzo_walk {
  grid3 dims{1, 1, 1};
  bool frames = false;  // predict along the last two axes only
  neighbourhood hood = neighbourhood::wide;

  unsigned contexts() const { return magnitude_buckets; }
  unsigned phase_bits() const { return 0; }
  bool signed_lengths() const { return false; }

  // The prediction of point (t, y, x) at index i from the codes before it.
  std::int64_t predict(const std::vector<std::int64_t>& k, std::size_t i, std::size_t t, std::size_t y,
                       std::size_t x) const {
    const std::size_t sy = dims[2], st = dims[2] * dims[1];
    const bool bx = x > 0, by = y > 0, bt = t > 0 && !frames;
    std::int64_t p = 0;
    if (bx) p += k[i - 1];
    if (by) p += k[i - sy];
    if (bt) p += k[i - st];
    if (bx && by) p -= k[i - 1 - sy];
    if (bx && bt) p -= k[i - 1 - st];
    if (by && bt) p -= k[i - sy - st];
    if (bx && by && bt) p += k[i - 1 - sy - st];
    return p;
  }

  template <class Visit>
  void operator()(walk_state& s, Visit&& visit) const {
    std::size_t i = 0;
    for (std::size_t t = 0; t < dims[0]; ++t)
      for (std::size_t y = 0; y < dims[1]; ++y)
        for (std::size_t x = 0; x < dims[2]; ++x, ++i)
          visit(i, predict(s.k, i, t, y, x), raster_context(s.magnitude, i, t, y, x, dims, !frames, hood));
  }
  std::string name() const { return frames ? "lorenzo_frames" : "lorenzo"; }
};

// Round(sum w[j] v[j] / 2^16) for 16.16 weights, in 64-bit arithmetic modulo 2^64: exact for
// the codes of any real bound, and where a crafted file makes it overflow it still wraps the
// same way on every machine (a prediction only has to be the same on both sides). The sum
// starts at 1/2 and may be taken in any order (modulo 2^64 it is the same); fixed_point_round
// ends it, `quarter` receiving the phase of the rounding (see above).
constexpr std::uint64_t fixed_point_half = std::uint64_t(1) << 15;
inline std::int64_t fixed_point_round(std::uint64_t acc, unsigned& quarter) {
  quarter = unsigned(acc >> 14) & 3;  // the top two of the 16 bits rounded away, with 1/2 added
  return floor_shift(std::int64_t(acc), 16);
}
// The whole sum at one point, tap j the code at[-back[j]]. Scalar on purpose: vectorised, the
// taps are scattered loads inserted lane by lane and the 64-bit products emulated (AVX2 has
// none), twice the time of 17 plain multiplies; the empty asm, which holds `acc` in a register,
// keeps the compiler from vectorising the loop. (Copying the taps into an array first was
// slower still: reloaded in vectors right after scalar stores.)
// Summed from the last tap to the first: tap 0 is the point just before (a raster walk's
// west), still being decoded while the rest of the sum runs.
template <std::size_t n>
std::int64_t fixed_point_dot(const std::array<std::int32_t, n>& w, const std::int64_t* at,
                             const std::array<std::ptrdiff_t, n>& back, unsigned& quarter) {
  std::uint64_t acc = fixed_point_half;
  for (std::size_t j = n; j-- > 0;) {
    acc += std::uint64_t(std::int64_t(w[j])) * std::uint64_t(at[-back[j]]);
    asm("" : "+r"(acc));
  }
  return fixed_point_round(acc, quarter);
}
// row[x] += w * from[x] modulo 2^64, x in [lo, hi): one tap of a raster row's northern sum.
// `narrow`: every from[x] fits in 32 bits, so the product is the 32 x 32 -> 64-bit multiply
// that AVX2 has (vpmuldq), four lanes at once: the same sum. Otherwise 64-bit products, which
// AVX2 lacks, one at a time.
inline void add_tap(std::uint64_t* __restrict row, const std::int64_t* __restrict from, std::int32_t w, std::size_t lo,
                    std::size_t hi, bool narrow) {
  const std::int64_t wide_w = w;
  if (narrow)
    for (std::size_t x = lo; x < hi; ++x) row[x] += std::uint64_t(wide_w * std::int64_t(std::int32_t(from[x])));
  else
    for (std::size_t x = lo; x < hi; ++x) row[x] += std::uint64_t(wide_w) * std::uint64_t(from[x]);
}
// Whether every code in k[from, to) fits in 32 bits: 0 where so (an OR over the codes, vectorised).
inline std::uint64_t beyond_32_bits(const std::int64_t* k, std::size_t from, std::size_t to) {
  std::uint64_t beyond = 0;
  for (std::size_t j = from; j < to; ++j) beyond |= (std::uint64_t(k[j]) + (std::uint64_t(1) << 31)) >> 32;
  return beyond;
}

// A prediction that is an exact integer: the middle of its rounding interval.
constexpr unsigned exact_quarter = 2;
// The phase takes the low 2 bits of a phased walk's context.
constexpr unsigned quarter_bits = 2;
inline unsigned phased_context(unsigned context, unsigned quarter, bool phased) {
  return phased ? context << quarter_bits | quarter : context;
}

// Weighted least squares over samples of `taps` features, centred on feature 0 so that the
// weights sum to 1 (a constant field is predicted exactly), solved to 16.16 fixed point. The
// normal equations are accumulated as samples arrive: nothing per sample is kept beyond a batch
// of `batch`, so a fit touches no memory beyond this object (fresh pages cost more than the
// arithmetic).
template <std::size_t taps>
class fixed_point_fit {
public:
  using features = std::array<double, taps>;

  void add(const features& x, double target, double weight = 1.0) {
    double* t = pending_[pending_count_];  // the centred features, then the centred target
    for (std::size_t j = 0; j < f; ++j) t[j] = x[j + 1] - x[0];
    t[f] = target - x[0];
    pending_weight_[pending_count_] = weight;
    if (++pending_count_ == batch) flush();
    ++samples_;
  }

  // The weights; `fallback` when there are too few samples or the system is singular.
  std::array<std::int32_t, taps> solve(const features& fallback) {
    flush();
    features sol = fallback;
    if (samples_ >= 16 * taps) eliminate(sol);
    std::array<std::int32_t, taps> q{};
    for (std::size_t j = 0; j < taps; ++j) {
      const double v = std::ldexp(sol[j], 16);
      q[j] = std::int32_t(std::isfinite(v) ? std::max(-1e9, std::min(1e9, std::nearbyint(v))) : 0);
    }
    return q;
  }

private:
  static constexpr std::size_t f = taps - 1, batch = 8;

  // The pending samples added to the normal matrix in their order, each entry held in a
  // register across the batch: the same sums as one sample at a time, with a load and a store
  // of the matrix a batch instead of a sample. Whole rows, though only the upper triangle is
  // used: a fixed length vectorises, and that is twice as fast as the triangle's varying one.
  void flush() {
    for (std::size_t r = 0; r < f; ++r) {
      double wt[batch];
      for (std::size_t s = 0; s < batch; ++s) wt[s] = pending_weight_[s] * pending_[s][r];
      for (std::size_t q = 0; q <= f; ++q) {
        double sum = m_[r][q];
        for (std::size_t s = 0; s < batch; ++s) sum += wt[s] * pending_[s][q];
        m_[r][q] = sum;
      }
    }
    pending_count_ = 0;
    for (std::size_t s = 0; s < batch; ++s) pending_weight_[s] = 0;  // unused slots add nothing
  }

  // Gauss-Jordan with a small ridge; false (sol untouched) when singular.
  bool eliminate(features& sol) const {
    double m[f][f + 1];
    for (std::size_t r = 0; r < f; ++r)
      for (std::size_t q = 0; q <= f; ++q) m[r][q] = q < r ? m_[q][r] : m_[r][q];
    double trace = 0;
    for (std::size_t r = 0; r < f; ++r) trace += m[r][r];
    for (std::size_t r = 0; r < f; ++r) m[r][r] += 1e-6 * trace / f + 1e-9;
    if (!gauss_jordan(&m[0][0], f)) return false;
    double sum = 0;
    for (std::size_t r = 0; r < f; ++r) sol[r + 1] = m[r][f] / m[r][r], sum += sol[r + 1];
    sol[0] = 1 - sum;
    return true;
  }

  double m_[f][f + 1] = {};
  double pending_[batch][f + 1] = {}, pending_weight_[batch] = {};
  std::size_t pending_count_ = 0, samples_ = 0;
};

// Raster order like Lorenzo, with a learned linear predictor over the causal neighbourhood:
// west, north, north-west, north-east, two west, two north, north-west-west, and in the frame
// before the same point, its west, north and north-west (3 axes; in 2-D, see neighbourhood), so
// that 3-D Lorenzo is one of its weight sets. The weights are fitted at compress time by least squares
// reweighted towards least absolute error (what the coder pays for: bits grow with the log of a
// residual, not its square) and stored in 16.16 fixed point. Where a tap is off the grid, Lorenzo
// (within the frame for a moving walk, below).
//
// Taps = 17 ("causal_deep") reaches further back. On a time series (3 or more frames): the
// rest of the frame before, which is all decoded (east, south, south-west, south-east,
// north-east), and the point two frames before: a frame that moves or oscillates follows its
// last two (x_t = 2 cos(w) x_t-1 - x_t-2 for a wave), which no stencil over one frame back can
// say. On a 2-D field: north-north-west-west, north-north-east-east, three north, north-east-
// east-east, north-west-west-west and three north one west, a wider view of smooth structure.
//
// `motion` (a time series only; "causal_motion" in a file): the rows and columns the content
// moves by from one frame to the next, found at compress time (estimate_motion). The taps in
// the frame before are then read around the point less it, the one two frames back less twice
// it, so that structure carried across the grid (a flow with a mean velocity, a moving front)
// is predicted from where it was. At (0, 0) the walk is the plain one.
//
// `parts` (rows, columns; "causal_regional" in a file): the frames cut into parts[0] x parts[1]
// regions, each with weights of its own (`regional`, row-major; `w` then unused), fitted on its
// own points. A wake and the flow around it, or a front and the calm behind it, want different
// weights; taps still read across region edges. At 1 x 1 the walk is the plain one.
template <std::size_t Taps>
struct causal_walk_of {
  static_assert(Taps == 11 || Taps == 17, "a causal walk has 11 taps, or 17 that reach further back");
  static constexpr std::size_t taps = Taps;
  using weights = std::array<std::int32_t, taps>;
  grid3 dims{1, 1, 1};
  weights w{};
  neighbourhood hood = neighbourhood::wide;
  bool phased = false;
  std::array<std::int32_t, 2> motion{};  // rows, columns a frame's content moves by
  std::array<std::size_t, 2> parts{1, 1};
  std::vector<weights> regional;  // parts[0] * parts[1] weights, or none at 1 x 1
  static constexpr std::size_t max_parts_written = 4, max_parts = 64;  // along an axis; read
  // A box walked inside a larger grid (to estimate its coding): the box's first row and column
  // in that grid and the grid's rows and columns, so that a point's region is the grid's.
  // extent 0: the walk's own grid.
  std::array<std::size_t, 2> origin{0, 0}, extent{0, 0};

  // The first row (axis 0) or column (axis 1) of the walk's grid in region `part` of that
  // axis, clamped to [0, the axis's length].
  std::size_t region_start(std::size_t axis, std::size_t part) const {
    const std::size_t n = dims[axis + 1], whole = extent[axis] ? extent[axis] : n;
    const std::size_t first = (part * whole + parts[axis] - 1) / parts[axis];  // ceil
    return std::min(n, first > origin[axis] ? first - origin[axis] : 0);
  }
  // The region of row y (axis 0) or column x (axis 1) along its axis.
  std::size_t region_along(std::size_t axis, std::size_t v) const {
    const std::size_t whole = extent[axis] ? extent[axis] : dims[axis + 1];
    return std::min(parts[axis] - 1, (v + origin[axis]) * parts[axis] / whole);
  }
  std::size_t region_of(std::size_t y, std::size_t x) const {
    return region_along(0, y) * parts[1] + region_along(1, x);
  }

  bool moves() const { return dims[0] > 1 && (motion[0] != 0 || motion[1] != 0); }
  // Whether the frame taps of a point at v on an axis of n points, moving by m a frame, lie on
  // the grid: the frame before's point (and, 17 taps, its neighbour after) and two back's.
  bool frame_taps_on_axis(std::size_t v, std::size_t n, std::int32_t m) const {
    const std::ptrdiff_t back1 = std::ptrdiff_t(v) - m, back2 = std::ptrdiff_t(v) - 2 * std::ptrdiff_t(m);
    const std::ptrdiff_t after = taps == 17 ? 1 : 0, size = std::ptrdiff_t(n);
    return back1 >= 1 && back1 + after < size && (taps != 17 || (back2 >= 0 && back2 < size));
  }
  bool frame_taps_on_grid(std::size_t y, std::size_t x) const {
    return !moves() || (frame_taps_on_axis(y, dims[1], motion[0]) && frame_taps_on_axis(x, dims[2], motion[1]));
  }
  // Tap j of a time series is in a frame before (taps 6-8 and 10 on, as taps_at lays them out).
  bool frame_tap(std::size_t j) const { return dims[0] > 1 && j >= 6 && j != 9; }

  unsigned contexts() const { return magnitude_buckets << phase_bits(); }
  unsigned phase_bits() const { return phased ? quarter_bits : 0; }
  bool signed_lengths() const { return false; }

  // Where the taps of the point (t, y, x) lie: tap j is the code at i - back[j]. False when
  // one is off the grid.
  using tap_offsets = std::array<std::ptrdiff_t, taps>;
  bool taps_at(std::size_t t, std::size_t y, std::size_t x, tap_offsets& back) const {
    const std::size_t nx = dims[2];
    const std::ptrdiff_t sy = std::ptrdiff_t(nx), st = sy * std::ptrdiff_t(dims[1]);
    if (x < 2 || y < 2 || x + 1 >= nx || (dims[0] > 1 && t < 1) || !frame_taps_on_grid(y, x)) return false;
    if constexpr (taps == 17) {
      if (dims[0] > 1) {
        if (t < 2 || y + 1 >= dims[1]) return false;
        back[11] = st - 1, back[12] = st - sy, back[13] = st - sy + 1, back[14] = st - sy - 1;
        back[15] = st + sy - 1, back[16] = 2 * st;
      } else {
        if (x < 3 || y < 3 || x + 3 >= nx) return false;
        back[11] = 2 * sy + 2, back[12] = 2 * sy - 2, back[13] = 3 * sy, back[14] = sy - 3;
        back[15] = sy + 3, back[16] = 3 * sy + 1;
      }
    }
    back[0] = 1, back[1] = sy, back[2] = sy + 1, back[3] = sy - 1, back[4] = 2, back[5] = 2 * sy;
    if (dims[0] > 1) back[6] = st, back[7] = st + 1, back[8] = st + sy, back[10] = st + sy + 1;
    else if (hood == neighbourhood::narrow) back[6] = back[7] = back[8] = back[10] = back[0];
    else back[6] = x + 2 < nx ? sy - 2 : back[3], back[7] = 2 * sy + 1, back[8] = 2 * sy - 1, back[10] = x > 2 ? 3 : back[4];
    back[9] = sy + 2;
    if (moves()) {
      const std::ptrdiff_t moved = motion[0] * sy + motion[1];
      for (std::size_t j = 6; j < taps; ++j)
        if (frame_tap(j)) back[j] += j == 16 ? 2 * moved : moved;
    }
    return true;
  }

  // Points at least three from the west, east and north edges and two frames in (3 axes)
  // have every tap, at offsets that do not depend on the point.
  bool deep_inside(std::size_t t, std::size_t y, std::size_t x) const {
    return x >= 3 && x + 3 < dims[2] && y >= 3 && y + 1 < dims[1] && (dims[0] == 1 || t >= 2) && frame_taps_on_grid(y, x);
  }

  // Deep inside, the taps in rows already coded (all but the two or three to the west) are
  // summed for the whole row before it is coded, one pass a tap with its weight and offset
  // held (and vectorised), and only the western taps as each point is coded.
  template <class Visit>
  void operator()(walk_state& s, Visit&& visit) const {
    const lorenzo_walk fallback{dims, moves()};  // moving: within the frame (the one before has moved)
    const std::vector<weights> single{w};
    const std::vector<weights>& ws = regional.empty() ? single : regional;  // per region
    const std::size_t columns = regional.empty() ? 1 : parts[1];             // of regions
    const std::size_t nx = dims[2];
    const std::ptrdiff_t sy = std::ptrdiff_t(nx);
    tap_offsets inside{}, edge{};
    const std::size_t t0 = dims[0] > 1 ? 2 : 0;
    // Deep inside, x runs over [x_lo, x_hi) in every row (3 to nx - 3 unless the frame taps,
    // moved, leave the grid first); y0 is the first such row.
    std::size_t x_lo = 3, x_hi = nx > 6 ? nx - 3 : 3, y0 = 3;
    if (moves()) {
      while (x_lo < x_hi && !frame_taps_on_axis(x_lo, nx, motion[1])) ++x_lo;
      while (x_hi > x_lo && !frame_taps_on_axis(x_hi - 1, nx, motion[1])) --x_hi;
      while (y0 < dims[1] && !frame_taps_on_axis(y0, dims[1], motion[0])) ++y0;
    }
    const bool has_inside = x_lo < x_hi && y0 < dims[1] && deep_inside(t0, y0, x_lo);
    if (has_inside) taps_at(t0, y0, x_lo, inside);
    // A tap at least sy - 3 back, or in a frame before (moved or not), is in a coded row for
    // every x < x_hi; the others are at most three to the west, their weights summed per offset
    // (1, 2, 3; unused ones weigh 0), per region.
    std::array<std::size_t, taps> north{};
    std::size_t norths = 0;
    std::vector<std::array<std::uint64_t, 4>> west(ws.size());
    for (std::size_t j = 0; j < taps && has_inside; ++j) {
      if (inside[j] >= sy - 3 || frame_tap(j)) north[norths++] = j;
      else if (inside[j] >= 1 && inside[j] <= 3)
        for (std::size_t r = 0; r < ws.size(); ++r) west[r][std::size_t(inside[j])] += std::uint64_t(std::int64_t(ws[r][j]));
      else throw error("causal_walk: a tap " + std::to_string(inside[j]) + " back is neither west nor north");
    }
    // A deep row's [x_lo, x_hi) cut at the regions' columns: region column c is [cut[c], cut[c + 1]).
    std::vector<std::size_t> cut(columns + 1, x_lo);
    for (std::size_t c = 1; c < columns; ++c) cut[c] = std::clamp(region_start(1, c), x_lo, std::max(x_lo, x_hi));
    cut[columns] = std::max(x_lo, x_hi);
    std::vector<std::uint64_t> row_sum(has_inside ? nx : 0);
    std::size_t i = 0;
    // Codes before index `checked` are known to fit in 32 bits where `beyond` is 0 (add_tap).
    std::size_t checked = 0;
    std::uint64_t beyond = 0;
    auto at_edge = [&](std::size_t t, std::size_t y, std::size_t x) {
      unsigned quarter = exact_quarter;
      std::int64_t p;
      if (taps_at(t, y, x, edge)) p = fixed_point_dot(ws[regional.empty() ? 0 : region_of(y, x)], s.k.data() + i, edge, quarter);
      else p = fallback.predict(s.k, i, t, y, x);
      const unsigned context = raster_context(s.magnitude, i, t, y, x, dims, true, hood);
      visit(i, p, phased_context(context, quarter, phased));
      ++i;
    };
    for (std::size_t t = 0; t < dims[0]; ++t)
      for (std::size_t y = 0; y < dims[1]; ++y) {
        if (!has_inside || !deep_inside(t, y, x_lo)) {
          for (std::size_t x = 0; x < nx; ++x) at_edge(t, y, x);
          continue;
        }
        // row_sum[x] for x in [x_lo, x_hi): 1/2 plus the northern taps, region by region.
        const std::size_t first = regional.empty() ? 0 : region_along(0, y) * columns;  // the row's regions
        std::fill(row_sum.begin() + std::ptrdiff_t(x_lo), row_sum.begin() + std::ptrdiff_t(x_hi), fixed_point_half);
        beyond |= beyond_32_bits(s.k.data(), checked, i);  // the northern taps read only codes before i
        checked = i;
        for (std::size_t c = 0; c < columns; ++c)
          for (std::size_t m = 0; m < norths; ++m)
            add_tap(row_sum.data(), s.k.data() + i - inside[north[m]], ws[first + c][north[m]], cut[c], cut[c + 1],
                    beyond == 0);
        for (std::size_t x = 0; x < x_lo; ++x) at_edge(t, y, x);
        for (std::size_t c = 0; c < columns; ++c) {
          const std::array<std::uint64_t, 4>& wr = west[first + c];
          for (std::size_t x = cut[c]; x < cut[c + 1]; ++x, ++i) {
            const std::uint64_t acc = row_sum[x] + wr[1] * std::uint64_t(s.k[i - 1]) + wr[2] * std::uint64_t(s.k[i - 2]) +
                                      wr[3] * std::uint64_t(s.k[i - 3]);
            unsigned quarter;
            const std::int64_t p = fixed_point_round(acc, quarter);
            const unsigned context = raster_context<true>(s.magnitude, i, t, y, x, dims, true, hood);
            visit(i, p, phased_context(context, quarter, phased));
          }
        }
        for (std::size_t x = x_hi; x < nx; ++x) at_edge(t, y, x);
      }
  }

  // Fits the weights on the codes k of grid `dims` (at most `samples` interior points, a region
  // and a pass), its frame taps moved by `motion`, in `parts` regions.
  static causal_walk_of fit(const grid3& dims, const std::vector<std::int64_t>& k, std::size_t samples = 1u << 14,
                            std::array<std::int32_t, 2> motion = {}, std::array<std::size_t, 2> parts = {1, 1}) {
    causal_walk_of c{dims, {}, neighbourhood::wide, true, motion, parts};
    const std::size_t regions = parts[0] * parts[1], n = dims[0] * dims[1] * dims[2];
    const std::size_t every = std::max<std::size_t>(1, n / (samples * regions));
    std::vector<weights> fitted(regions);
    // Lorenzo's weights in these taps until the data says better.
    const std::array<double, taps> lorenzo = dims[0] > 1 ? std::array<double, taps>{1, 1, -1, 0, 0, 0, 1, -1, -1, 0, 1}
                                                         : std::array<double, taps>{1, 1, -1};
    // Each pass after the first weighs a sample by 1 / |its residual| under the weights before.
    for (int pass = 0; pass < 3; ++pass) {
      std::vector<std::array<double, taps>> w(regions);
      for (std::size_t r = 0; r < regions; ++r)
        for (std::size_t j = 0; j < taps; ++j) w[r][j] = std::ldexp(double(fitted[r][j]), -16);
      std::vector<fixed_point_fit<taps>> fits(regions);
      for (std::size_t i = 0; i < n; i += every) {
        const std::size_t x = i % dims[2], y = (i / dims[2]) % dims[1], t = i / (dims[1] * dims[2]);
        tap_offsets back;
        if (!c.taps_at(t, y, x, back)) continue;
        const std::size_t r = regions > 1 ? c.region_of(y, x) : 0;
        std::array<double, taps> f;
        for (std::size_t j = 0; j < taps; ++j) f[j] = double(k[i - back[j]]);
        const double target = double(k[i]);
        double weight = 1;
        if (pass > 0) {
          double p = 0;
          for (std::size_t j = 0; j < taps; ++j) p += w[r][j] * f[j];
          weight = 1 / std::max(std::abs(target - p), 0.5);
        }
        fits[r].add(f, target, weight);
      }
      for (std::size_t r = 0; r < regions; ++r) fitted[r] = fits[r].solve(lorenzo);
    }
    if (regions == 1) c.w = fitted[0];
    else c.regional = std::move(fitted);
    return c;
  }
};
using causal_walk = causal_walk_of<11>;
using causal_deep_walk = causal_walk_of<17>;

// How far (rows, columns) the content of a time series of codes k moves from one frame to the
// next: of the moves up to 8 points (and a quarter of each axis), the one with the least mean
// |k(t, y, x) - k(t - 1, y - rows, x - columns)| over up to `samples` points of frames 1 on (runs
// of up to 64 along a row, spread over the rows), a global block match. (0, 0) unless it is at
// least 10 % below the field standing still, and for fewer than 3 frames, which the moving walk
// does not serve.
inline std::array<std::int32_t, 2> estimate_motion(const grid3& g, const std::vector<std::int64_t>& k,
                                                   std::size_t samples = 1u << 14) {
  const std::size_t reach = std::min<std::size_t>({8, (g[1] - 1) / 4, (g[2] - 1) / 4});
  if (g[0] < 3 || reach == 0) return {};
  const std::size_t sy = g[2], st = g[1] * g[2];
  const std::size_t ys = g[1] - 2 * reach, xs = g[2] - 2 * reach, run = std::min<std::size_t>(64, xs);
  const std::size_t rows = (g[0] - 1) * ys, every = std::max<std::size_t>(1, rows * run / samples);
  std::vector<std::size_t> starts;  // of runs whose every move stays on the grid
  for (std::size_t r = 0; r < rows; r += every) {
    const std::size_t t = 1 + r / ys, y = reach + r % ys, x = reach + (r * 37) % (xs - run + 1);
    starts.push_back(t * st + y * sy + x);
  }
  // The cost of a move, or a partial sum of it once that reaches `beat` (the rest only adds):
  // the same choice, most moves given up on early.
  auto cost = [&](std::ptrdiff_t rows_moved, std::ptrdiff_t columns_moved, double beat = INFINITY) {
    const std::ptrdiff_t back = std::ptrdiff_t(st) + rows_moved * std::ptrdiff_t(sy) + columns_moved;
    double sum = 0;
    for (std::size_t i : starts) {
      if (sum >= beat) break;
      // |codes| < 2^53 (value_code::max_code): a run of 64 differences sums below 2^60.
      const std::int64_t* now = k.data() + i;
      const std::int64_t* before = now - back;
      std::int64_t part = 0;
      for (std::size_t x = 0; x < run; ++x) part += std::abs(now[x] - before[x]);
      sum += double(part);
    }
    return sum;
  };
  const double still = cost(0, 0);
  double best = still;
  std::array<std::int32_t, 2> move{};
  const std::ptrdiff_t r = std::ptrdiff_t(reach);
  for (std::ptrdiff_t rows_moved = -r; rows_moved <= r; ++rows_moved)
    for (std::ptrdiff_t columns_moved = -r; columns_moved <= r; ++columns_moved)
      if (const double c = cost(rows_moved, columns_moved, best); c < best)
        best = c, move = {std::int32_t(rows_moved), std::int32_t(columns_moved)};
  return best < 0.9 * still ? move : std::array<std::int32_t, 2>{};
}

enum class interpolation { linear, cubic, learned };

inline std::string to_string(interpolation k) {
  return k == interpolation::linear ? "linear" : k == interpolation::cubic ? "cubic" : "learned";
}

struct interpolation_walk {
  static constexpr std::size_t taps = 7, level_classes = 4;
  using weights = std::array<std::int32_t, taps>;

  grid3 dims{1, 1, 1};
  interpolation kind = interpolation::cubic;
  // learned: one weight set per (level class, axis), index level_class * 3 + axis.
  std::vector<weights> learned;
  bool phased = false;
  // Requantised residuals (block.hpp) on a factor halved per level above the finest: K at
  // stride 1, K / 2 at stride 2, ..., at least 1. The coarse levels, which every finer one is
  // interpolated from, then cost more bits and predict better: on CFD_animation at a PSNR
  // target of 30 dB the file is half the size of the ungraded one (1,732 bytes, 3,425).
  bool graded = false;

  unsigned coarse_shift(std::size_t level) const { return graded ? unsigned(level ? level - 1 : levels()) : 0; }

  unsigned contexts() const { return unsigned(level_classes) * magnitude_buckets << phase_bits(); }
  unsigned phase_bits() const { return phased ? quarter_bits : 0; }
  bool signed_lengths() const { return false; }

  std::size_t levels() const {
    std::size_t longest = std::max({dims[0], dims[1], dims[2]}), l = 0;
    while ((std::size_t(1) << l) < longest) ++l;
    return l;
  }
  static std::size_t level_class(std::size_t level) { return std::min<std::size_t>(level - 1, level_classes - 1); }

  // The taps of point i at coordinate c along axis a (stride h in coordinates, step_a in
  // elements), with the other axis b one step back at step_b elements (0: none). False when
  // any tap is outside the grid or not coded yet.
  struct stencil {
    std::size_t at[taps];
    bool complete = false;
  };

  // Visits every point in coding order: f(i, a, c, h, back) with back the element offset of
  // the coded point one step back along the chosen other axis (0 when there is none).
  template <class F>
  void for_each_point(F&& f) const {
    const std::array<std::size_t, 3> stride{dims[1] * dims[2], dims[2], 1};
    f(std::size_t(0), std::size_t(0), std::size_t(0), std::size_t(0), std::size_t(0), std::size_t(0));
    for (std::size_t l = levels(); l >= 1; --l) {
      const std::size_t h = std::size_t(1) << (l - 1);
      for (std::size_t a = 0; a < 3; ++a) {
        if (dims[a] <= h) continue;
        std::array<std::size_t, 3> start{0, 0, 0}, step{};
        for (std::size_t b = 0; b < 3; ++b) step[b] = b < a ? h : 2 * h;
        start[a] = h;
        step[a] = 2 * h;
        // The other axis: the fastest one (not a) that has points at this level.
        std::size_t other = 3;
        for (std::size_t b = 3; b-- > 0;)
          if (b != a && dims[b] > step[b]) {
            other = b;
            break;
          }
        for (std::size_t c0 = start[0]; c0 < dims[0]; c0 += step[0])
          for (std::size_t c1 = start[1]; c1 < dims[1]; c1 += step[1])
            for (std::size_t c2 = start[2]; c2 < dims[2]; c2 += step[2]) {
              const std::array<std::size_t, 3> c{c0, c1, c2};
              const std::size_t i = c0 * stride[0] + c1 * stride[1] + c2;
              const std::size_t back = other < 3 && c[other] >= step[other] ? step[other] * stride[other] : 0;
              f(i, l, a, c[a], h * stride[a], back);
            }
      }
    }
  }

  template <class Visit>
  void operator()(walk_state& s, Visit&& visit) const {
    const auto& k = s.k;
    const auto& m = s.magnitude;
    for_each_point([&](std::size_t i, std::size_t l, std::size_t a, std::size_t c, std::size_t step, std::size_t back) {
      s.coarse_shift = coarse_shift(l);
      if (l == 0) return visit(i, std::int64_t(0), phased_context(0, exact_quarter, phased));
      const std::size_t h = std::size_t(1) << (l - 1), n = dims[a];
      const bool right = c + h < n, left3 = c >= 3 * h, right3 = c + 3 * h < n;
      std::int64_t p;
      unsigned quarter = exact_quarter;
      std::uint64_t near = m[i - step] + (right ? m[i + step] : 0) + (back ? m[i - back] : 0);
      if (kind == interpolation::learned && right && back && left3 && right3) {
        const weights& w = learned[level_class(l) * 3 + a];
        const auto d = std::ptrdiff_t(step), b = std::ptrdiff_t(back);
        p = fixed_point_dot(w, k.data() + i, {d, 3 * d, -d, -3 * d, b, b + d, b - d}, quarter);
      } else if (kind != interpolation::linear && right && left3 && right3) {
        const std::int64_t u = -k[i - 3 * step] + 9 * k[i - step] + 9 * k[i + step] - k[i + 3 * step] + 8;
        p = floor_shift(u, 4);
        quarter = unsigned(u & 15) >> 2;  // sixteenths above p - 1/2, in quarters
      } else if (right) {
        const std::int64_t u = k[i - step] + k[i + step] + 1;
        p = floor_shift(u, 1);
        quarter = unsigned(u & 1) << 1;  // halves: p - 1/2 (0) or p (2)
      } else {
        p = k[i - step];
      }
      const unsigned context = unsigned(level_class(l)) * magnitude_buckets + magnitude_bucket(near);
      visit(i, p, phased_context(context, quarter, phased));
    });
  }

  // Fits the learned weights to the codes `k` of the field (least squares per level class and
  // axis over interior points, at most `samples` each) and returns the walk that uses them.
  static interpolation_walk fit(const grid3& dims, const std::vector<std::int64_t>& k, std::size_t samples = 20000);

  std::string name() const { return "interpolation_" + to_string(kind); }
};

inline interpolation_walk interpolation_walk::fit(const grid3& dims, const std::vector<std::int64_t>& k,
                                                  std::size_t samples) {
  interpolation_walk w{dims, interpolation::learned, {}, true};
  constexpr std::size_t slots = level_classes * 3;
  std::vector<fixed_point_fit<taps>> fits(slots);
  std::vector<std::size_t> total(slots, 0), seen(slots, 0);
  w.for_each_point([&](std::size_t, std::size_t l, std::size_t ax, std::size_t, std::size_t, std::size_t) {
    if (l > 0) ++total[level_class(l) * 3 + ax];
  });
  w.for_each_point([&](std::size_t i, std::size_t l, std::size_t ax, std::size_t c, std::size_t step, std::size_t back) {
    if (l == 0) return;
    const std::size_t h = std::size_t(1) << (l - 1), slot = level_class(l) * 3 + ax;
    if (!(c + 3 * h < dims[ax] && c >= 3 * h && back)) return;
    if (seen[slot]++ % std::max<std::size_t>(1, total[slot] / samples)) return;  // every total/samples-th
    fits[slot].add({double(k[i - step]), double(k[i - 3 * step]), double(k[i + step]), double(k[i + 3 * step]),
                    double(k[i - back]), double(k[i - back - step]), double(k[i - back + step])},
                   double(k[i]));
  });
  for (auto& fit : fits) w.learned.push_back(fit.solve({9.0 / 16, -1.0 / 16, 9.0 / 16, -1.0 / 16, 0, 0, 0}));
  return w;
}

}  // namespace baler::bounded
