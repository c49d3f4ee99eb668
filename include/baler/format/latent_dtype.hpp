#pragma once
// The number formats a latent space can be stored in, and the conversion of float latents to and
// from their little-endian bytes. f16 keeps 11 significant bits over +-65504, bf16 keeps 8 over
// the whole float range, f32 is lossless.
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

enum class latent_dtype : std::uint8_t { f32, f16, bf16 };

// The spelling used on the command line and in file headers.
inline const char* name(latent_dtype t) {
  switch (t) {
    case latent_dtype::f32: return "f32";
    case latent_dtype::f16: return "f16";
    case latent_dtype::bf16: return "bf16";
  }
  throw error("latent_dtype::name(): invalid value " + std::to_string(static_cast<int>(t)));
}

inline latent_dtype parse_latent_dtype(std::string_view s) {
  for (latent_dtype t : {latent_dtype::f32, latent_dtype::f16, latent_dtype::bf16})
    if (s == name(t)) return t;
  throw error("latent_dtype::parse(): unknown latent dtype '" + std::string(s) + "'; expected f32, f16 or bf16");
}

inline std::size_t bytes_per_value(latent_dtype t) { return t == latent_dtype::f32 ? 4 : 2; }

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

// Throws when a finite value would become infinite (|x| beyond f16_max or bf16_max): the decoder
// would turn it into garbage, and a file must not lose data silently. Non-finite inputs are kept.
inline std::vector<std::byte> encode_latent(const float* x, std::size_t n, latent_dtype t) {
  const std::size_t width = bytes_per_value(t);
  std::vector<std::byte> out(n * width);
  if (t == latent_dtype::f32) {
    if (n > 0) std::memcpy(out.data(), x, out.size());
  } else {
    const bool f16 = t == latent_dtype::f16;
    const std::uint16_t exponent_mask = f16 ? 0x7C00 : 0x7F80;  // all ones: inf or NaN
    std::uint16_t buf[detail::latent_chunk];
    for (std::size_t i = 0; i < n; i += detail::latent_chunk) {
      const std::size_t m = std::min(detail::latent_chunk, n - i);
      if (f16) encode_f16(x + i, m, buf);
      else encode_bf16(x + i, m, buf);
      for (std::size_t j = 0; j < m; ++j)
        if ((buf[j] & exponent_mask) == exponent_mask && std::abs(x[i + j]) <= std::numeric_limits<float>::max())
          throw error(std::string("encode_latent(): value ") + detail::describe(x[i + j]) + " at index " +
                      std::to_string(i + j) + " overflows " + name(t) + " (largest finite " +
                      detail::describe(f16 ? f16_max : bf16_max) + "); store the latent space as " +
                      (f16 ? "bf16 or f32" : "f32"));
      std::memcpy(out.data() + i * width, buf, m * width);
    }
  }
  if (!detail::host_little_endian) swap_byte_order(out.data(), out.size(), width);
  return out;
}

inline std::vector<float> decode_latent(byte_view bytes, std::size_t n, latent_dtype t) {
  const std::size_t width = bytes_per_value(t);
  require(n <= bytes.size / width && bytes.size == n * width, "decode_latent",
          std::to_string(bytes.size) + " bytes do not hold " + std::to_string(n) + " " + name(t) + " values");
  std::vector<float> out(n);
  if (t == latent_dtype::f32) {
    if (n > 0) std::memcpy(out.data(), bytes.data, bytes.size);
    if (!detail::host_little_endian) swap_byte_order(reinterpret_cast<std::byte*>(out.data()), bytes.size, 4);
    return out;
  }
  std::uint16_t buf[detail::latent_chunk];
  for (std::size_t i = 0; i < n; i += detail::latent_chunk) {
    const std::size_t m = std::min(detail::latent_chunk, n - i);
    std::memcpy(buf, bytes.data + i * width, m * width);
    if (!detail::host_little_endian) swap_byte_order(reinterpret_cast<std::byte*>(buf), m * width, width);
    if (t == latent_dtype::f16) decode_f16(buf, m, out.data() + i);
    else decode_bf16(buf, m, out.data() + i);
  }
  return out;
}

}  // namespace baler
