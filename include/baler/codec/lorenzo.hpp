#pragma once
// The Lorenzo predictor (Ibarria et al. 2003, as in SZ) over the integer codes of a field:
// a code is predicted from its already-decoded neighbours on the grid by inclusion-exclusion,
//   2-D: p = k[y-1,x] + k[y,x-1] - k[y-1,x-1]
//   3-D: p = k[t-1,y,x] + k[t,y-1,x] + k[t,y,x-1] - k[t-1,y-1,x] - k[t-1,y,x-1]
//            - k[t,y-1,x-1] + k[t-1,y-1,x-1]
// which is exact for fields linear in every axis. It runs on codes (integers), so encoder and
// decoder agree bit for bit. Neighbours outside the grid count as 0.
//
// The grid is the array's shape folded to at most 3 axes (leading axes merged). `axes` chooses
// which of them the predictor looks along: all of them, or only the last two (each frame of
// an animation on its own, when frames are far apart in time).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "baler/core/error.hpp"

namespace baler::codec {

struct lorenzo_predictor {
  std::array<std::size_t, 3> dims{1, 1, 1};  // folded shape, last axis fastest
  std::array<bool, 3> use{true, true, true};  // predict along this axis

  // `shape`: the array's shape; `frames`: false = predict along the last two axes only.
  static lorenzo_predictor make(const std::vector<std::size_t>& shape, bool frames) {
    lorenzo_predictor l;
    const std::size_t d = shape.size();
    require(d >= 1, "lorenzo_predictor", "a field needs at least one axis");
    l.dims[2] = shape[d - 1];
    if (d >= 2) l.dims[1] = shape[d - 2];
    for (std::size_t i = 0; i + 2 < d; ++i) l.dims[0] *= shape[i];
    l.use[0] = frames;
    return l;
  }

  std::int64_t operator()(std::size_t i, const std::vector<std::int64_t>& k) const {
    const std::size_t nx = dims[2], ny = dims[1];
    const std::size_t x = i % nx, y = (i / nx) % ny, t = i / (nx * ny);
    const bool bx = x > 0 && use[2], by = y > 0 && use[1], bt = t > 0 && use[0];
    const std::size_t sx = 1, sy = nx, st = nx * ny;
    std::int64_t p = 0;
    if (bx) p += k[i - sx];
    if (by) p += k[i - sy];
    if (bt) p += k[i - st];
    if (bx && by) p -= k[i - sx - sy];
    if (bx && bt) p -= k[i - sx - st];
    if (by && bt) p -= k[i - sy - st];
    if (bx && by && bt) p += k[i - sx - sy - st];
    return p;
  }

  std::string name() const { return use[0] ? "lorenzo" : "lorenzo_frames"; }
};

}  // namespace baler::codec
