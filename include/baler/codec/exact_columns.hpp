#pragma once
// Columns stored exactly beside the latent. An integer column is packed in the narrowest signed
// integer type that holds its range (a charge of +-1 takes one byte a row before zstd); any
// other column keeps its float64 bits, NaN and Inf included.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/bytes.hpp"

namespace baler::codec {

// Narrowest of i8/i16/i32/i64 for integral finite values in [lo, hi], else "f64".
inline std::string exact_encoding(bool integral_and_finite, double lo, double hi) {
  if (!integral_and_finite) return "f64";
  if (lo >= -128 && hi <= 127) return "i8";
  if (lo >= -32768 && hi <= 32767) return "i16";
  if (lo >= -2147483648.0 && hi <= 2147483647.0) return "i32";
  if (lo >= -0x1p63 && hi < 0x1p63) return "i64";  // 2^63 itself does not fit
  return "f64";
}

inline std::size_t exact_width(const std::string& encoding) {
  if (encoding == "i8") return 1;
  if (encoding == "i16") return 2;
  if (encoding == "i32") return 4;
  if (encoding == "i64" || encoding == "f64") return 8;
  throw error("exact_width(): unknown exact-column encoding '" + encoding + "'");
}

namespace detail {
template <class I>
void append_as(std::vector<std::byte>& out, double v) {
  const I x = static_cast<I>(v);
  const auto* p = reinterpret_cast<const std::byte*>(&x);
  out.insert(out.end(), p, p + sizeof(I));
}
template <class I>
double read_as(const std::byte* p) {
  I x;
  std::memcpy(&x, p, sizeof(I));
  return static_cast<double>(x);
}
}  // namespace detail

// Appends column c of a row-major (rows x cols) table in `encoding` (little-endian hosts).
inline void append_exact(std::vector<std::byte>& out, const std::vector<double>& table,
                         std::size_t rows, std::size_t cols, std::size_t c,
                         const std::string& encoding) {
  for (std::size_t r = 0; r < rows; ++r) {
    const double v = table[r * cols + c];
    if (encoding == "i8") detail::append_as<std::int8_t>(out, v);
    else if (encoding == "i16") detail::append_as<std::int16_t>(out, v);
    else if (encoding == "i32") detail::append_as<std::int32_t>(out, v);
    else if (encoding == "i64") detail::append_as<std::int64_t>(out, v);
    else detail::append_as<double>(out, v);
  }
}

// Reads `rows` values in `encoding` from in[offset...] into column c; returns the new offset.
inline std::size_t read_exact(byte_view in, std::size_t offset, std::vector<double>& table,
                              std::size_t rows, std::size_t cols, std::size_t c,
                              const std::string& encoding) {
  const std::size_t width = exact_width(encoding);
  require(offset <= in.size && (in.size - offset) / width >= rows, "read_exact",
          "the exact-column section is shorter than its header says");
  const std::byte* p = in.data + offset;
  for (std::size_t r = 0; r < rows; ++r, p += width) {
    double v;
    if (encoding == "i8") v = detail::read_as<std::int8_t>(p);
    else if (encoding == "i16") v = detail::read_as<std::int16_t>(p);
    else if (encoding == "i32") v = detail::read_as<std::int32_t>(p);
    else if (encoding == "i64") v = detail::read_as<std::int64_t>(p);
    else v = detail::read_as<double>(p);
    table[r * cols + c] = v;
  }
  return offset + rows * width;
}

}  // namespace baler::codec
