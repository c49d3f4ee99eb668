// f16 and bf16 conversions, checked exhaustively where the domain is 16 bits and against an
// independent reference (exact double arithmetic, explicit round-half-to-even) elsewhere.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ios>
#include <limits>
#include <random>
#include <vector>

#include "baler/format/half.hpp"

namespace {

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A 16-bit binary format: 1 sign bit, exponent bits, `mantissa` explicit mantissa bits.
struct format16 {
  int mantissa;
  int emin;  // exponent of the smallest normal
  int emax;  // exponent of the largest finite
};
constexpr format16 f16{10, -14, 15};
constexpr format16 bf16{7, -126, 127};

std::uint16_t inf16(format16 fmt) { return std::uint16_t(std::uint32_t(fmt.emax - fmt.emin + 2) << fmt.mantissa); }

std::uint16_t reference_encode(float f, format16 fmt) {
  const std::uint32_t sign = std::signbit(f) ? 0x8000u : 0u;
  const std::uint32_t inf = inf16(fmt);
  const double a = std::fabs(double(f));
  if (std::isinf(a)) return std::uint16_t(sign | inf);
  if (a == 0) return std::uint16_t(sign);
  int e = 0;
  std::frexp(a, &e);
  int exponent = std::max(e - 1, fmt.emin);  // subnormals share the smallest normal's step
  double q = std::ldexp(a, fmt.mantissa - exponent);  // exact: a has 24 significant bits
  double kept = std::floor(q);
  const double rest = q - kept;
  if (rest > 0.5 || (rest == 0.5 && std::fmod(kept, 2.0) == 1.0)) kept += 1;
  const double one = std::ldexp(1.0, fmt.mantissa);
  if (kept == 2 * one) {
    kept = one;
    ++exponent;
  }
  if (exponent > fmt.emax) return std::uint16_t(sign | inf);
  if (kept < one) return std::uint16_t(sign | std::uint32_t(kept));  // subnormal
  return std::uint16_t(sign | std::uint32_t(exponent - fmt.emin + 1) << fmt.mantissa |
                       std::uint32_t(kept - one));
}

// The value of a finite 16-bit pattern, computed in double.
double reference_decode(std::uint16_t h, format16 fmt) {
  const int field = (h & 0x7FFF) >> fmt.mantissa;
  const double m = h & ((1 << fmt.mantissa) - 1);
  const double mag = field == 0 ? std::ldexp(m, fmt.emin - fmt.mantissa)
                                : std::ldexp(std::ldexp(1.0, fmt.mantissa) + m, field - 1 + fmt.emin - fmt.mantissa);
  return (h & 0x8000) ? -mag : mag;
}

bool is_nan16(std::uint16_t h, format16 fmt) { return (h & 0x7FFF) > inf16(fmt); }

std::uint16_t quiet_bit(format16 fmt) { return std::uint16_t(1u << (fmt.mantissa - 1)); }

// One float against the reference; NaN must give a quiet NaN of the same sign.
template <class Encode>
bool encodes_like_reference(float f, format16 fmt, Encode encode) {
  const std::uint16_t got = encode(f);
  if (std::isnan(f)) return is_nan16(got, fmt) && (got & quiet_bit(fmt)) && bool(got & 0x8000) == std::signbit(f);
  if (got == reference_encode(f, fmt)) return true;
  FAIL_CHECK("float bits 0x" << std::hex << bits(f) << " (" << f << ") -> 0x" << got << ", reference 0x"
                             << reference_encode(f, fmt));
  return false;
}

template <class Encode, class Decode>
void check_exhaustive_round_trip(format16 fmt, Encode encode, Decode decode) {
  int failures = 0;
  for (std::uint32_t i = 0; i < 65536 && failures < 10; ++i) {
    const auto h = std::uint16_t(i);
    const float f = decode(h);
    if (is_nan16(h, fmt)) {
      // Decoding is exact (payload and sign kept); encoding sets the quiet bit.
      const std::uint32_t want = (std::uint32_t(h & 0x8000) << 16) | 0x7F800000u |
                                 (std::uint32_t(h & ((1u << fmt.mantissa) - 1)) << (23 - fmt.mantissa));
      if (bits(f) != want || encode(f) != (h | quiet_bit(fmt))) ++failures;
      continue;
    }
    const double inf = std::numeric_limits<double>::infinity();
    const double want = (h & 0x7FFF) == inf16(fmt) ? (h & 0x8000 ? -inf : inf) : reference_decode(h, fmt);
    const bool exact = double(f) == want && std::signbit(f) == bool(h & 0x8000);
    if (!exact || encode(f) != h) {
      ++failures;
      FAIL_CHECK("pattern 0x" << std::hex << h << " -> " << f << " -> 0x" << encode(f));
    }
  }
  CHECK(failures == 0);
}

// Random floats: all bit patterns (every exponent, NaNs, subnormals), then values spread over
// the 16-bit format's range, then exact ties between neighbours and the floats either side.
template <class Encode, class Decode>
void check_random(format16 fmt, Encode encode, Decode decode) {
  std::mt19937 rng(12345);
  int failures = 0;
  const auto check = [&](float f) { failures += !encodes_like_reference(f, fmt, encode); };
  for (int i = 0; i < 1000000 && failures < 10; ++i) check(from_bits(std::uint32_t(rng())));

  std::uniform_real_distribution<float> significand(1.0f, 2.0f);
  std::uniform_int_distribution<int> exponent(fmt.emin - fmt.mantissa - 3, fmt.emax + 2);
  for (int i = 0; i < 1000000 && failures < 10; ++i) {
    const float f = std::ldexp(significand(rng), exponent(rng));
    check(rng() & 1 ? -f : f);
  }

  std::uniform_int_distribution<int> pattern(0, inf16(fmt) - 2);  // h and h + 1 both finite
  for (int i = 0; i < 200000 && failures < 10; ++i) {
    const auto h = std::uint16_t(pattern(rng));
    // The midpoint has one more significant bit than the format: exact in float.
    const float tie = float((double(decode(h)) + double(decode(std::uint16_t(h + 1)))) / 2);
    for (float f : {tie, std::nextafter(tie, 0.0f), std::nextafter(tie, 1e38f)}) {
      check(f);
      check(-f);
    }
  }
  CHECK(failures == 0);
}

template <class In, class Out, class Array, class Scalar>
void check_array_matches_scalar(const std::vector<In>& input, Array array, Scalar scalar) {
  for (std::size_t n : {0, 1, 7, 31, 32, 33, 63, 64, 65, 100, 1000}) {
    std::vector<Out> out(n + 1, Out(0x55));
    array(input.data(), n, out.data());
    for (std::size_t i = 0; i < n; ++i) {
      const Out want = scalar(input[i]);
      REQUIRE(std::memcmp(&out[i], &want, sizeof want) == 0);
    }
    CHECK(out[n] == Out(0x55));  // nothing written past the end
  }
}

std::vector<float> mixed_floats() {
  std::mt19937 rng(7);
  std::vector<float> v;
  for (int i = 0; i < 1000; ++i) v.push_back(i % 5 == 0 ? from_bits(std::uint32_t(rng())) : float(rng()) / 4e4f - 5e4f);
  v[3] = std::numeric_limits<float>::quiet_NaN();
  v[40] = -std::numeric_limits<float>::infinity();
  v[41] = 1e-7f;
  return v;
}

}  // namespace

TEST_CASE("f16: every bit pattern decodes exactly and encodes back") {
  check_exhaustive_round_trip(f16, baler::float_to_f16, baler::f16_to_float);
}

TEST_CASE("bf16: every bit pattern decodes exactly and encodes back") {
  check_exhaustive_round_trip(bf16, baler::float_to_bf16, baler::bf16_to_float);
}

TEST_CASE("f16: edge cases") {
  using baler::float_to_f16;
  const float inf = std::numeric_limits<float>::infinity();
  const float tiny = std::ldexp(1.0f, -24);  // smallest f16 subnormal
  struct edge {
    float f;
    std::uint16_t want;
  };
  for (const edge& e : {
           edge{65504.0f, 0x7BFF},                               // largest finite
           edge{std::nextafter(65520.0f, 0.0f), 0x7BFF},         // just below the tie
           edge{65520.0f, 0x7C00},                               // tie with "65536": to inf
           edge{-65520.0f, 0xFC00},
           edge{std::numeric_limits<float>::max(), 0x7C00},
           edge{tiny, 0x0001},
           edge{tiny / 2, 0x0000},                               // tie between 0 and 1: even
           edge{-tiny / 2, 0x8000},
           edge{std::nextafter(tiny / 2, 1.0f), 0x0001},
           edge{tiny * 1.5f, 0x0002},                            // tie between 1 and 2: even
           edge{tiny * 2.5f, 0x0002},                            // tie between 2 and 3: even
           edge{std::ldexp(1.0f, -14), 0x0400},                  // smallest normal
           edge{std::ldexp(1.0f, -14) - tiny / 2, 0x0400},       // tie 0x3FF / 0x400: even
           edge{std::ldexp(1.0f, -14) - tiny, 0x03FF},           // largest subnormal
           edge{1.0f + std::ldexp(1.0f, -11), 0x3C00},           // tie: even
           edge{std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f), 0x3C01},
           edge{1.0f + 3 * std::ldexp(1.0f, -11), 0x3C02},       // tie: even, upwards
           edge{std::numeric_limits<float>::denorm_min(), 0x0000},
           edge{0.0f, 0x0000},
           edge{-0.0f, 0x8000},
           edge{inf, 0x7C00},
           edge{-inf, 0xFC00},
           edge{1.0f, 0x3C00},
           edge{-2.0f, 0xC000},
       }) {
    CAPTURE(e.f);
    CHECK(float_to_f16(e.f) == e.want);
    CHECK(reference_encode(e.f, f16) == e.want);  // the reference agrees with the hand-made table
  }
  // NaN: quiet, sign kept, also for a signalling NaN whose payload sits in dropped bits only.
  CHECK(float_to_f16(std::numeric_limits<float>::quiet_NaN()) == 0x7E00);
  CHECK(float_to_f16(from_bits(0x7F800001u)) == 0x7E00);
  CHECK(float_to_f16(from_bits(0xFFC00000u)) == 0xFE00);
  CHECK(float_to_f16(from_bits(0x7FA00000u)) == 0x7F00);  // top payload bits kept
}

TEST_CASE("bf16: edge cases") {
  using baler::float_to_bf16;
  const float inf = std::numeric_limits<float>::infinity();
  struct edge {
    std::uint32_t f;
    std::uint16_t want;
  };
  for (const edge& e : {
           edge{0x3F808000u, 0x3F80},  // 1 + 2^-8: tie between 1 and 1 + 2^-7, even
           edge{0x3F808001u, 0x3F81},  // just above the tie
           edge{0x3F807FFFu, 0x3F80},  // just below
           edge{0x3F818000u, 0x3F82},  // tie, rounds up to even
           edge{0x7F7F7FFFu, 0x7F7F},  // just below the overflow tie: largest finite
           edge{0x7F7F8000u, 0x7F80},  // tie with "2^128": to inf
           edge{0x7F7FFFFFu, 0x7F80},  // FLT_MAX
           edge{0xFF7FFFFFu, 0xFF80},
           edge{0x00008000u, 0x0000},  // subnormal tie: even
           edge{0x00018000u, 0x0002},
           edge{0x007FFFFFu, 0x0080},  // largest float subnormal rounds to the smallest normal
           edge{0x00000001u, 0x0000},
           edge{0x80000000u, 0x8000},
           edge{bits(inf), 0x7F80},
           edge{bits(-inf), 0xFF80},
       }) {
    CAPTURE(e.f);
    CHECK(float_to_bf16(from_bits(e.f)) == e.want);
    CHECK(reference_encode(from_bits(e.f), bf16) == e.want);
  }
  CHECK(baler::bf16_max == baler::bf16_to_float(0x7F7F));
  CHECK(baler::f16_max == baler::f16_to_float(0x7BFF));
  // NaN must not round into inf, whatever its payload.
  CHECK(float_to_bf16(from_bits(0x7F800001u)) == 0x7FC0);
  CHECK(float_to_bf16(from_bits(0x7FFFFFFFu)) == 0x7FFF);
  CHECK(float_to_bf16(from_bits(0xFF800001u)) == 0xFFC0);
}

TEST_CASE("f16: random floats against the reference") {
  check_random(f16, baler::float_to_f16, baler::f16_to_float);
}

TEST_CASE("bf16: random floats against the reference") {
  check_random(bf16, baler::float_to_bf16, baler::bf16_to_float);
}

TEST_CASE("array conversions equal the scalar ones, tails included") {
  const std::vector<float> floats = mixed_floats();
  std::vector<std::uint16_t> patterns(1000);
  std::mt19937 rng(3);
  for (auto& p : patterns) p = std::uint16_t(rng());
  check_array_matches_scalar<float, std::uint16_t>(floats, baler::encode_f16, baler::float_to_f16);
  check_array_matches_scalar<float, std::uint16_t>(floats, baler::encode_bf16, baler::float_to_bf16);
  check_array_matches_scalar<std::uint16_t, float>(patterns, baler::decode_f16, baler::f16_to_float);
  check_array_matches_scalar<std::uint16_t, float>(patterns, baler::decode_bf16, baler::bf16_to_float);
}
