#pragma once
// CRC-32 (the zlib / PNG / gzip polynomial, "123456789" -> 0xCBF43926) over byte spans, for the
// integrity fields of the .baler container. zlib's implementation is table-driven and fast;
// its length parameter is a 32-bit uInt, so longer spans are fed in pieces.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "baler/io/bytes.hpp"

namespace baler {

// The most bytes one zlib call takes (its lengths are 32-bit uInt): longer spans go in pieces.
constexpr std::size_t zlib_piece = std::size_t(1) << 30;

// Incremental CRC-32: update() with consecutive pieces gives the CRC of their concatenation.
class crc32_hasher {
public:
  crc32_hasher& update(byte_view bytes) {
    const std::byte* p = bytes.data;
    std::size_t left = bytes.size;
    while (left > 0) {
      const std::size_t n = std::min(left, zlib_piece);
      value_ = ::crc32(value_, reinterpret_cast<const Bytef*>(p), static_cast<uInt>(n));
      p += n;
      left -= n;
    }
    return *this;
  }

  std::uint32_t value() const { return static_cast<std::uint32_t>(value_); }

private:
  uLong value_ = 0;  // zlib's initial value: crc32(0, Z_NULL, 0) == 0
};

inline std::uint32_t crc32_of(byte_view bytes) { return crc32_hasher().update(bytes).value(); }

// Whether a stored CRC matches the computed one. Fuzzing builds (the libFuzzer convention
// FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) accept any, so that mutated files get past the
// checksums into the parsers behind them, as libpng and zstd do.
inline bool checksum_matches(std::uint32_t stored, std::uint32_t computed) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  (void)stored;
  (void)computed;
  return true;
#else
  return stored == computed;
#endif
}

}  // namespace baler
