#pragma once
// The number formats a latent space can be stored in, and the conversion of float latents to and
// from their little-endian bytes. f16 keeps 11 significant bits over +-65504, bf16 keeps 8 over
// the whole float range, f32 is lossless. q is quantised per column and entropy coded
// (codec/quantised.hpp): no fixed width. The same names serve the decoder's weights.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/format/half.hpp"
#include "baler/io/bytes.hpp"

namespace baler {

enum class latent_dtype : std::uint8_t { f32, f16, bf16, q };

// The spelling used on the command line and in file headers.
inline const char* name(latent_dtype t) {
  switch (t) {
    case latent_dtype::f32: return "f32";
    case latent_dtype::f16: return "f16";
    case latent_dtype::bf16: return "bf16";
    case latent_dtype::q: return "q";
  }
  throw error("latent_dtype::name(): invalid value " + std::to_string(static_cast<int>(t)));
}

inline latent_dtype parse_latent_dtype(std::string_view s) {
  for (latent_dtype t : {latent_dtype::f32, latent_dtype::f16, latent_dtype::bf16, latent_dtype::q})
    if (s == name(t)) return t;
  throw error("latent_dtype::parse(): unknown latent dtype '" + std::string(s) + "'; expected f32, f16, bf16 or q");
}

inline std::size_t bytes_per_value(latent_dtype t) {
  require(t != latent_dtype::q, "bytes_per_value", "quantised values (q) have no fixed width");
  return t == latent_dtype::f32 ? 4 : 2;
}

namespace detail {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
constexpr bool host_little_endian = false;
#else
constexpr bool host_little_endian = true;
#endif

// Values in chunks through a small buffer: the array conversion stays vectorized, and the bytes
// are copied out with memcpy (writing uint16_t through the std::byte buffer would break aliasing).
constexpr std::size_t latent_chunk = 2048;

inline std::string describe(float v) {
  std::ostringstream s;
  s.precision(std::numeric_limits<float>::max_digits10);
  s << v;
  return s.str();
}

}  // namespace detail

// The 16-bit format of a 16-bit latent dtype, as the backends' conversions name it.
inline half_format half_format_of(latent_dtype t) {
  require(t != latent_dtype::f32, "half_format_of", "f32 is not a 16-bit format");
  return t == latent_dtype::f16 ? half_format::f16 : half_format::bf16;
}

// Whether a 16-bit code is Inf or NaN (exponent all ones).
inline bool non_finite_code(std::uint16_t bits, latent_dtype t) {
  const std::uint16_t exponent_mask = t == latent_dtype::f16 ? 0x7C00 : 0x7F80;
  return (bits & exponent_mask) == exponent_mask;
}

// What a block of 16-bit values holds, for the overflow error to name it and its option.
enum class half_values { latent, decoder_weights };

// Throws when a finite value became infinite (|x| beyond f16_max or bf16_max): the decoder
// would turn it into garbage, and a file must not lose data silently. Non-finite inputs are
// kept. x and bits: n values and their codes; first: the index of x[0] in the whole block.
inline void check_half_overflow(const float* x, const std::uint16_t* bits, std::size_t n,
                                std::size_t first, latent_dtype t, half_values what) {
  for (std::size_t i = 0; i < n; ++i)
    if (non_finite_code(bits[i], t) && std::abs(x[i]) <= std::numeric_limits<float>::max()) {
      const bool f16 = t == latent_dtype::f16;
      const bool latent = what == half_values::latent;
      throw error(std::string("encode_latent(): value ") + detail::describe(x[i]) + " at index " +
                  std::to_string(first + i) + (latent ? " of the latent space" : " of the decoder weights") +
                  " overflows " + name(t) + " (largest finite " + detail::describe(f16 ? f16_max : bf16_max) +
                  "); store the " + (latent ? "latent space" : "decoder weights") + " as " +
                  (f16 ? "bf16 or f32" : "f32") + (latent ? " (--latent-dtype)" : " (--weights-dtype)"));
    }
}

// 16-bit codes <-> their little-endian bytes in a latent section.
inline std::vector<std::byte> half_bytes(const std::uint16_t* bits, std::size_t n) {
  std::vector<std::byte> out(n * 2);
  if (n > 0) std::memcpy(out.data(), bits, out.size());
  if (!detail::host_little_endian) swap_byte_order(out.data(), out.size(), 2);
  return out;
}
// Codes [first, first + n) of a section holding 16-bit codes (its size checked by the caller).
inline void read_half_codes(byte_view bytes, std::size_t first, std::size_t n, std::uint16_t* bits) {
  if (n > 0) std::memcpy(bits, bytes.data + first * 2, n * 2);
  if (!detail::host_little_endian) swap_byte_order(reinterpret_cast<std::byte*>(bits), n * 2, 2);
}

// Throws as check_half_overflow does.
inline std::vector<std::byte> encode_latent(const float* x, std::size_t n, latent_dtype t,
                                            half_values what = half_values::latent) {
  if (t == latent_dtype::f32) {
    std::vector<std::byte> out(n * 4);
    if (n > 0) std::memcpy(out.data(), x, out.size());
    if (!detail::host_little_endian) swap_byte_order(out.data(), out.size(), 4);
    return out;
  }
  std::vector<std::uint16_t> bits(n);
  for (std::size_t i = 0; i < n; i += detail::latent_chunk) {
    const std::size_t m = std::min(detail::latent_chunk, n - i);
    if (t == latent_dtype::f16) encode_f16(x + i, m, bits.data() + i);
    else encode_bf16(x + i, m, bits.data() + i);
  }
  check_half_overflow(x, bits.data(), n, 0, t, what);
  return half_bytes(bits.data(), n);
}

// Throws unless `bytes` holds exactly n values of type t.
inline void require_latent_size(byte_view bytes, std::size_t n, latent_dtype t) {
  const std::size_t width = bytes_per_value(t);
  require(n <= bytes.size / width && bytes.size == n * width, "decode_latent",
          std::to_string(bytes.size) + " bytes do not hold " + std::to_string(n) + " " + name(t) + " values");
}

inline std::vector<float> decode_latent(byte_view bytes, std::size_t n, latent_dtype t) {
  require_latent_size(bytes, n, t);
  std::vector<float> out(n);
  if (t == latent_dtype::f32) {
    if (n > 0) std::memcpy(out.data(), bytes.data, bytes.size);
    if (!detail::host_little_endian) swap_byte_order(reinterpret_cast<std::byte*>(out.data()), bytes.size, 4);
    return out;
  }
  std::uint16_t buf[detail::latent_chunk];
  for (std::size_t i = 0; i < n; i += detail::latent_chunk) {
    const std::size_t m = std::min(detail::latent_chunk, n - i);
    read_half_codes(bytes, i, m, buf);
    if (t == latent_dtype::f16) decode_f16(buf, m, out.data() + i);
    else decode_bf16(buf, m, out.data() + i);
  }
  return out;
}

}  // namespace baler
