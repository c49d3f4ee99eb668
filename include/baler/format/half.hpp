#pragma once
// IEEE 754 binary16 ("f16", 1+5+10 bits) and bfloat16 ("bf16", 1+8+7 bits) conversions, written
// out by hand so that every compiler and CPU rounds identically: no F16C intrinsics, no _Float16.
//
// float -> 16 bits rounds to nearest, ties to even, subnormal results included; values that
// round past the largest finite value become +-inf; NaN stays NaN (quiet, sign and the top
// payload bits kept); +-0 keeps its sign. 16 bits -> float is exact for every bit pattern.
//
// The scalar functions are branch-free (each special case is computed and then selected), so the
// array loops below vectorize with plain SSE2 at g++ -O2. The subnormal paths use one float
// addition (encode) or subtraction (decode, exact) done by the hardware: this relies on the
// default round-to-nearest mode, as all float code does, and holds with flush-to-zero or
// denormals-are-zero too (the results are normal floats, and float subnormal inputs round to
// zero either way).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "baler/core/host_device.hpp"

namespace baler {

namespace detail {

// The scalar conversions below are BALER_HOST_DEVICE: the CUDA latent kernels call the very
// same code, so both backends produce identical bits.
BALER_HOST_DEVICE inline std::uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

BALER_HOST_DEVICE inline float bits_float(std::uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// g++ -O2 uses the "very cheap" vectorizer cost model, which only vectorizes a loop whose trip
// count is known to be a multiple of the vector width. The bulk therefore runs in fixed blocks
// and a scalar loop takes the remainder. In and Out are distinct types, so the compiler may
// assume the arrays do not alias and needs no runtime overlap check.
template <class In, class Out, class Convert>
inline void convert_array(const In* in, std::size_t n, Out* out, Convert convert) {
  constexpr std::size_t block = 32;
  std::size_t i = 0;
  for (; i + block <= n; i += block)
    for (std::size_t j = 0; j < block; ++j) out[i + j] = convert(in[i + j]);
  for (; i < n; ++i) out[i] = convert(in[i]);
}

// cond ? a : b as bit masks. Plain ?: lets g++ sink the float arithmetic of the unselected
// operand into a branch, which it then may not if-convert (float operations can trap under
// -ftrapping-math), and the loop stays scalar.
BALER_HOST_DEVICE inline std::uint32_t select(bool cond, std::uint32_t a, std::uint32_t b) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(cond);
  return (a & mask) | (b & ~mask);
}

}  // namespace detail

// The two 16-bit float formats, as the backends' latent conversions name them.
enum class half_format { f16, bf16 };

// Largest finite values: what a latent space must stay below to survive a 16-bit encoding.
constexpr float f16_max = 65504.0f;
constexpr float bf16_max = 3.38953139e38f;

BALER_HOST_DEVICE inline std::uint16_t float_to_f16(float f) {
  using detail::bits_float;
  using detail::float_bits;
  const std::uint32_t u = float_bits(f);
  const std::uint32_t sign = (u >> 16) & 0x8000u;
  const std::uint32_t a = u & 0x7FFFFFFFu;  // |f|

  // Normal result (|f| >= 2^-14): rebias the exponent from 127 to 15 (adding -112 << 23 modulo
  // 2^32) and round away the 13 low mantissa bits: adding 0xFFF plus the lowest kept bit carries
  // exactly when the dropped part is above one half, or equal to it with an odd kept part. A
  // carry out of the mantissa increments the exponent, which is the right result, also from
  // 65504 up to infinity for 65520 <= |f| < 65536.
  const std::uint32_t normal = (a + 0xC8000FFFu + ((a >> 13) & 1u)) >> 13;

  // Subnormal result (|f| < 2^-14): adding 0.5f aligns the value so that the float's last
  // mantissa bit weighs 2^-24, the half subnormal step; the hardware addition does the
  // round-to-nearest-even, and the low bits of the sum are the half's bit pattern (0x400 when
  // it rounds up to the smallest normal, which is correct as well).
  const std::uint32_t subnormal = float_bits(bits_float(a) + 0.5f) - 0x3F000000u;

  // NaN: quiet bit set, top 10 payload bits kept, so half -> float -> half keeps quiet NaNs.
  const std::uint32_t nan = 0x7E00u | ((a >> 13) & 0x3FFu);

  using detail::select;
  std::uint32_t h = select(a < 0x38800000u, subnormal, normal);  // 0x38800000 = 2^-14
  h = select(a >= 0x47800000u, 0x7C00u, h);                       // 0x47800000 = 2^16, inf
  h = select(a > 0x7F800000u, nan, h);
  return static_cast<std::uint16_t>(h | sign);
}

BALER_HOST_DEVICE inline float f16_to_float(std::uint16_t h) {
  using detail::bits_float;
  using detail::float_bits;
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t em = static_cast<std::uint32_t>(h & 0x7FFFu) << 13;  // exponent, mantissa
  const std::uint32_t exponent = em & 0x0F800000u;

  const std::uint32_t normal = em + 0x38000000u;   // rebias 15 -> 127
  const std::uint32_t special = em + 0x70000000u;  // exponent 31 -> 255, payload kept
  // Subnormal m * 2^-24: as a normal float, 2^-14 * (1 + m/1024) - 2^-14, both exact.
  const std::uint32_t subnormal = float_bits(bits_float(em + 0x38800000u) - bits_float(0x38800000u));

  using detail::select;
  std::uint32_t r = select(exponent == 0, subnormal, normal);
  r = select(exponent == 0x0F800000u, special, r);
  return bits_float(r | sign);
}

// bfloat16 is the top half of a float, so rounding is integer arithmetic on the 16 dropped bits;
// subnormals and the overflow to infinity (|f| above bf16_max plus half a step) fall out of the
// carry. NaN must be caught first: rounding could carry a NaN's payload into infinity.
BALER_HOST_DEVICE inline std::uint16_t float_to_bf16(float f) {
  const std::uint32_t u = detail::float_bits(f);
  const std::uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  const std::uint32_t nan = (u >> 16) | 0x0040u;
  return static_cast<std::uint16_t>((u & 0x7FFFFFFFu) > 0x7F800000u ? nan : rounded);
}

BALER_HOST_DEVICE inline float bf16_to_float(std::uint16_t h) {
  return detail::bits_float(static_cast<std::uint32_t>(h) << 16);
}

inline void encode_f16(const float* in, std::size_t n, std::uint16_t* out) {
  detail::convert_array(in, n, out, [](float f) { return float_to_f16(f); });
}

inline void decode_f16(const std::uint16_t* in, std::size_t n, float* out) {
  detail::convert_array(in, n, out, [](std::uint16_t h) { return f16_to_float(h); });
}

inline void encode_bf16(const float* in, std::size_t n, std::uint16_t* out) {
  detail::convert_array(in, n, out, [](float f) { return float_to_bf16(f); });
}

inline void decode_bf16(const std::uint16_t* in, std::size_t n, float* out) {
  detail::convert_array(in, n, out, [](std::uint16_t h) { return bf16_to_float(h); });
}

}  // namespace baler
