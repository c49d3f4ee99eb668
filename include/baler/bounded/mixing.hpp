#pragma once
// Logistic mixing of bit probabilities, in integers: several models each say how likely the
// next bit is 0; a mixer adds their log-odds with weights it learns online (one gradient step
// on the coding cost per bit) and the coder uses the result. Where one model knows the
// column alone and others know it per bucket of a partner column, the mixer leans on the
// shared model while the buckets' models are still learning and on them once they know more:
// the conditional histogram without the cost of learning every bucket from scratch.
//
//   probabilities  12 bits, P(0) in (0, 4096), as rc::encoder takes them;
//   stretch(p)     ln(p / (4096 - p)) in 1/256 units, in [-2047, 2047];
//   squash(x)      its inverse, 4096 / (1 + e^(-x/256)), by linear interpolation between 33
//                  points; stretch is tabulated as squash's inverse.
//   weights        1/65536 units; the step of weight i after a bit is st_i * error / 2^rate.
//
// Integer arithmetic only, signed quotients truncated toward zero as C++ defines them (never
// an arithmetic shift of a negative value): every machine mixes the same probabilities, so
// encoder and decoder agree bit for bit.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace baler::bounded::mixing {

// squash at x = -2048, -1920, ..., 2048: round(4096 / (1 + e^(-x/256))).
constexpr std::array<std::int32_t, 33> squash_points = {1,    2,    4,    6,    10,   17,   27,   45,   74,
                                                        120,  194,  311,  488,  747,  1102, 1546, 2048, 2550,
                                                        2994, 3349, 3608, 3785, 3902, 3976, 4022, 4051, 4069,
                                                        4079, 4086, 4090, 4092, 4094, 4095};

constexpr std::int32_t squash(std::int32_t x) {
  if (x >= 2047) return 4095;
  if (x <= -2047) return 1;
  const std::int32_t u = x + 2048, i = u / 128, w = u % 128;  // u in (0, 4096): no negative division
  return (squash_points[std::size_t(i)] * (128 - w) + squash_points[std::size_t(i) + 1] * w + 64) / 128;
}

// stretch[p] for p in [0, 4096): the smallest x whose squash reaches p.
inline const std::array<std::int16_t, 4096>& stretch_table() {
  static const std::array<std::int16_t, 4096> table = [] {
    std::array<std::int16_t, 4096> t{};
    std::int32_t next = 0;
    for (std::int32_t x = -2047; x <= 2047; ++x)
      for (const std::int32_t v = squash(x); next <= v; ++next) t[std::size_t(next)] = std::int16_t(x);
    for (; next < 4096; ++next) t[std::size_t(next)] = 2047;
    return t;
  }();
  return table;
}
inline std::int32_t stretch(std::uint32_t p) { return stretch_table()[p]; }

// v / 2^r truncated toward zero, as the division does, without a division: |v| >> r, signed back.
constexpr std::int32_t truncated_shift(std::int32_t v, unsigned r) { return v >= 0 ? v >> r : -((-v) >> r); }

// Mixes up to max_inputs probabilities with one of `sets` weight vectors (the caller picks the
// set per bit: a tree's level, say). Each set starts by trusting its first input alone.
class mixer {
public:
  static constexpr unsigned max_inputs = 8;
  static constexpr std::int32_t max_weight = 1 << 22;  // 64: far past any useful trust, and no overflow

  mixer(unsigned inputs, unsigned sets, unsigned rate)
      : inputs_(std::min(inputs, max_inputs)), rate_(rate), weights_(std::size_t(sets) * max_inputs, 0) {
    for (unsigned s = 0; s < sets; ++s) weights_[std::size_t(s) * max_inputs] = 1 << 16;
  }

  // P(0) in 12 bits from the inputs' P(0)s, clamped to [1, 4095]; remembers what update needs.
  std::uint32_t mix(const std::uint32_t* p, unsigned set) {
    w_ = weights_.data() + std::size_t(set) * max_inputs;
    std::int64_t dot = 0;
    for (unsigned i = 0; i < inputs_; ++i) dot += std::int64_t(w_[i]) * (st_[i] = stretch(p[i]));
    const std::int64_t x = std::clamp<std::int64_t>(dot / 65536, -2047, 2047);
    return p_ = std::uint32_t(std::clamp(squash(std::int32_t(x)), 1, 4095));
  }
  void update(unsigned bit) {
    const std::int32_t error = (bit ? 0 : 4096) - std::int32_t(p_);
    for (unsigned i = 0; i < inputs_; ++i)
      w_[i] = std::clamp(w_[i] + truncated_shift(st_[i] * error, rate_), -max_weight, max_weight);
  }

private:
  unsigned inputs_, rate_;
  std::vector<std::int32_t> weights_;
  std::int32_t* w_ = nullptr;
  std::array<std::int32_t, max_inputs> st_{};
  std::uint32_t p_ = 2048;
};

}  // namespace baler::bounded::mixing
