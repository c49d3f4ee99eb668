#pragma once
// Context-modelled entropy coding of integer residuals: an adaptive binary range coder (the
// LZMA design: 32-bit range, 12-bit probabilities, here the mean of a fast and a slow
// estimate) over a binarisation of each residual whose probabilities are conditioned on
// what the decoder already has: a context the caller computes from residuals decoded near
// this one (their magnitudes) and the kind of position (interpolation level, column).
//
//   residual s, context c (< contexts):
//     zero?   one bit, P[c]
//     sign    one bit, P[c]
//     n = bit length of |s| - 1, in unary: bit j says "n > j", P[c >> phase_bits][min(j, 19)],
//             or with signed lengths P[c >> phase_bits][sign][min(j, 19)]
//     the bits of |s| below its leading one: the top two with P[n][position], the rest at 1/2
//   rel bounds add a sign class (+, -, zero) per value before its residual, P[previous class].
//
// phase_bits > 0: the low bits of c are the prediction's *phase* (where the unrounded
// prediction lay in its rounding interval, see field_walks.hpp), which tells the zero flag
// and the sign much and the length little; the length models ignore it.
//
// signed_lengths: the length models also know the sign. A table column coded around its median
// is skewed (momenta, energies, chi2: a long tail on one side), so its residuals above and
// below have lengths of their own; a spatial prediction's residuals are symmetric and share.
//
// Integer arithmetic only, so every machine codes and decodes the same bits. Against the
// order-0 rANS coder (symbol_coder.hpp) it gains where residual sizes vary across the data:
// turbulence, the levels of an interpolation, the rows of a sorted table.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/bytes.hpp"

namespace baler::bounded {

namespace rc {

constexpr int prob_bits = 12;
constexpr std::uint32_t prob_one = 1u << prob_bits, top = 1u << 24;

// Two estimates of the probability of a 0 (in 1/65536): one that follows the data quickly,
// one that averages over a long window; the coder uses their mean. Both start as running
// averages (a step of 1/2, 1/3, ... of the way to each bit, roughly) so that a context seen a
// few dozen times is already learnt.
struct bit_model {
  std::uint16_t fast = 1u << 15, slow = 1u << 15;
  std::uint8_t seen = 0;
  std::uint32_t p() const { return std::max<std::uint32_t>(1, (std::uint32_t(fast) + slow) >> 5); }  // 12 bits
  // Branch-free (the bit is a coin toss to the branch predictor); the same arithmetic as
  // "b ? p -= p >> shift : p += (65535 - p) >> shift".
  void update(unsigned b) {
    const unsigned shifts = shift_table[seen];
    seen = std::uint8_t(seen + (seen < 255));
    fast = step(fast, b, int(shifts & 15)), slow = step(slow, b, int(shifts >> 4));
  }

private:
  // The step sizes after `seen` updates: with warm = the bit length of seen + 2 (2, 2, 3, 3,
  // 3, 3, 4, ...), min(warm, 4) for the fast estimate (low 4 bits) and min(warm, 9) for the
  // slow one (high 4 bits). A table: this runs for every bit coded.
  static constexpr std::array<std::uint8_t, 256> shift_table = [] {
    std::array<std::uint8_t, 256> t{};
    for (unsigned n = 0; n < 256; ++n) {
      unsigned warm = 0;
      while ((n + 2) >> warm) ++warm;
      t[n] = std::uint8_t(std::min(warm, 4u) | std::min(warm, 9u) << 4);
    }
    return t;
  }();

  static std::uint16_t step(std::uint32_t p, unsigned b, int shift) {
    const std::uint32_t towards_one = p - (p >> shift), towards_zero = p + ((65535 - p) >> shift);
    return std::uint16_t(b ? towards_one : towards_zero);
  }
};

// A probability for data whose statistics do not drift (the rows of a table in no order): the
// mean of the bits seen, P(0) = (zeros + 1/2) / (seen + 1) (the Krichevsky-Trofimov estimate),
// for the first `window` bits, then a moving average that weighs each new bit 1/(window + 2). Where the adaptive bit_model
// keeps chasing the last dozen bits, this one settles: a histogram of a hundred thousand rows
// learns its shape to within a fraction of a percent instead of a few.
struct counted_bit {
  static constexpr unsigned window = 1024;
  std::uint16_t p0 = 1u << 15;  // in 1/65536
  std::uint16_t seen = 0;
  std::uint32_t p() const { return std::clamp<std::uint32_t>(p0 >> 4, 1, prob_one - 1); }  // 12 bits
  void update(unsigned b) {
    const std::int32_t target = b ? 0 : 65535;
    p0 = std::uint16_t(std::int32_t(p0) + (target - std::int32_t(p0)) * std::int32_t(step[seen]) / 65536);
    seen = std::uint16_t(seen + (seen < window));
  }

private:
  // step[n] = 65536 / (n + 2): the weight of the (n + 1)-th bit in the mean.
  static constexpr std::array<std::uint16_t, window + 1> step = [] {
    std::array<std::uint16_t, window + 1> t{};
    for (unsigned n = 0; n <= window; ++n) t[n] = std::uint16_t(65536 / (n + 2));
    return t;
  }();
};

class encoder {
public:
  template <class Model>
  [[gnu::always_inline]] void bit(Model& m, unsigned b) {
    const std::uint32_t bound = (range_ >> prob_bits) * m.p();
    low_ += b ? bound : 0;  // selects, as in the decoder
    range_ = b ? range_ - bound : bound;
    m.update(b);
    normalise();
  }
  void direct(std::uint64_t v, int bits) {  // equiprobable bits, high first
    for (int i = bits - 1; i >= 0; --i) {
      range_ >>= 1;
      low_ += range_ & (0u - unsigned((v >> i) & 1));
      normalise();
    }
  }
  // The decoder reads zeros past the end, so the final value is chosen inside [low, low +
  // range) with its low 24 bits zero (range >= 2^24 holds one) and those zero bytes are left
  // out: three bytes less per block.
  std::vector<std::byte> finish() {
    low_ = (low_ + 0xFFFFFFu) & ~std::uint64_t(0xFFFFFFu);
    for (int i = 0; i < 5; ++i) shift_low();
    out_.resize(out_.size() - 3);
    return std::move(out_);
  }
  // finish(), appended to `out` as every block stores its coder: varint length, then the bytes.
  void finish_into(std::vector<std::byte>& out) {
    const std::vector<std::byte> coded = finish();
    append_varint(out, coded.size());
    out.insert(out.end(), coded.begin(), coded.end());
  }

private:
  void normalise() {
    while (range_ < top) {
      range_ <<= 8;
      shift_low();
    }
  }
  void shift_low() {  // LZMA's carry handling: bytes wait in cache_ until no carry can reach them
    if (std::uint32_t(low_) < 0xFF000000u || (low_ >> 32) != 0) {
      const auto carry = std::uint8_t(low_ >> 32);
      std::uint8_t c = cache_;
      do {
        out_.push_back(std::byte(std::uint8_t(c + carry)));
        c = 0xFF;
      } while (--pending_ != 0);
      cache_ = std::uint8_t(low_ >> 24);
    }
    ++pending_;
    low_ = (low_ & 0x00FFFFFFu) << 8;
  }
  std::uint64_t low_ = 0;
  std::uint32_t range_ = 0xFFFFFFFFu;
  std::uint8_t cache_ = 0;
  std::uint64_t pending_ = 1;
  std::vector<std::byte> out_;
};

class decoder {
public:
  explicit decoder(byte_view in) : in_(in) {
    // The encoder's first byte is the empty cache (always 0); the next four prime the code.
    for (int i = 0; i < 5; ++i) code_ = (code_ << 8) | next();
  }
  template <class Model>
  unsigned bit(Model& m) {
    const std::uint32_t bound = (range_ >> prob_bits) * m.p();
    const unsigned b = code_ >= bound;
    const std::uint32_t taken = b ? bound : 0;  // selects, not branches: the bit is unpredictable
    code_ -= taken;
    range_ = b ? range_ - bound : bound;
    m.update(b);
    normalise();
    return b;
  }
  std::uint64_t direct(int bits) {
    std::uint64_t v = 0;
    for (int i = 0; i < bits; ++i) {
      range_ >>= 1;
      const unsigned b = code_ >= range_;
      code_ -= range_ & (0u - b);  // no branch: the bits are coin tosses
      v = (v << 1) | b;
      normalise();
    }
    return v;
  }
  // Past the end the coder reads zeros; a stream that needed them was cut short.
  bool overran() const { return pos_ > in_.size + 4; }

private:
  std::uint32_t next() { return pos_ < in_.size ? std::uint8_t(in_.data[pos_++]) : (++pos_, 0u); }
  void normalise() {
    while (range_ < top) {
      range_ <<= 8;
      code_ = (code_ << 8) | next();
    }
  }
  byte_view in_;
  std::size_t pos_ = 0;
  std::uint32_t code_ = 0, range_ = 0xFFFFFFFFu;
};

}  // namespace rc

// Contexts from neighbouring magnitudes: their sum on a half-octave scale (its bit length and
// the bit below the leading one), 0..23.
constexpr unsigned magnitude_buckets = 24;
// Without branches (0 and 1 are common and unpredictable): for sum < 2, n = 0 and the "bit
// below" is the sum itself.
inline unsigned magnitude_bucket(std::uint64_t sum_of_magnitudes) {
  const unsigned n = unsigned(63 - __builtin_clzll(sum_of_magnitudes | 1));
  const unsigned b = 2 * n + unsigned((sum_of_magnitudes >> (n - (n > 0))) & 1);
  return b < magnitude_buckets ? b : magnitude_buckets - 1;
}

// The adaptive probabilities of one block; encoder and decoder start from the same state.
class residual_model {
public:
  explicit residual_model(unsigned contexts, unsigned phase_bits = 0, bool signed_lengths = false)
      : zero_(contexts),
        sign_(contexts),
        length_((((contexts - 1) >> phase_bits) + 1) << unsigned(signed_lengths)),
        phase_bits_(phase_bits),
        sign_bit_(signed_lengths) {}
  unsigned contexts() const { return unsigned(zero_.size()); }

  void encode(rc::encoder& e, std::int64_t s, unsigned c) {
    e.bit(zero_[c], s != 0);
    if (s == 0) return;
    e.bit(sign_[c], s < 0);
    const std::uint64_t m = s < 0 ? std::uint64_t(0) - std::uint64_t(s) : std::uint64_t(s);
    const int n = 63 - __builtin_clzll(m);  // bits below the leading one
    auto& length = lengths(c, s < 0);
    for (int j = 0; j < n; ++j) e.bit(length[std::min(j, max_length - 1)], 1);
    if (n < 63) e.bit(length[std::min(n, max_length - 1)], 0);
    for (int b = n - 1, k = 0; b >= 0; --b, ++k) {
      if (k < 2) e.bit(mantissa_[std::min(n, 63)][k], (m >> b) & 1);
      else return e.direct(m & ((std::uint64_t(1) << (b + 1)) - 1), b + 1);
    }
  }
  std::int64_t decode(rc::decoder& d, unsigned c) {
    if (!d.bit(zero_[c])) return 0;
    const bool negative = d.bit(sign_[c]);
    auto& length = lengths(c, negative);
    int n = 0;
    while (n < 63 && d.bit(length[std::min(n, max_length - 1)])) ++n;
    std::uint64_t m = 1;
    for (int b = n - 1, k = 0; b >= 0; --b, ++k) {
      if (k < 2) {
        m = (m << 1) | d.bit(mantissa_[n][k]);
      } else {
        m = (m << (b + 1)) | d.direct(b + 1);
        break;
      }
    }
    return negative ? std::int64_t(std::uint64_t(0) - m) : std::int64_t(m);
  }

  // rel bounds: 0 = positive, 1 = negative, 2 = zero (stored exactly), given the previous.
  void encode_sign(rc::encoder& e, unsigned cls) {
    e.bit(sign_class_[previous_][0], cls != 0);
    if (cls != 0) e.bit(sign_class_[previous_][1], cls == 2);
    previous_ = cls;
  }
  unsigned decode_sign(rc::decoder& d) {
    unsigned cls = 0;
    if (d.bit(sign_class_[previous_][0])) cls = d.bit(sign_class_[previous_][1]) ? 2 : 1;
    return previous_ = cls;
  }

private:
  static constexpr int max_length = 20;
  std::array<rc::bit_model, max_length>& lengths(unsigned c, bool negative) {
    return length_[((c >> phase_bits_) << sign_bit_) | (unsigned(negative) & sign_bit_)];
  }
  std::vector<rc::bit_model> zero_, sign_;
  std::vector<std::array<rc::bit_model, max_length>> length_;
  std::array<std::array<rc::bit_model, 2>, 64> mantissa_{};
  std::array<std::array<rc::bit_model, 2>, 3> sign_class_{};
  unsigned phase_bits_ = 0;
  unsigned sign_bit_ = 0;  // 1: signed lengths
  unsigned previous_ = 0;
};

}  // namespace baler::bounded
