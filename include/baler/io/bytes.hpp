#pragma once
// Raw byte buffers shared by the file formats: a non-owning view (C++17 has no std::span),
// little-endian integer fields of binary headers, and in-place byte-order swaps.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace baler {

struct byte_view {
  const std::byte* data = nullptr;
  std::size_t size = 0;

  byte_view() = default;
  byte_view(const std::byte* d, std::size_t n) : data(d), size(n) {}
  byte_view(const std::vector<std::byte>& v) : data(v.data()), size(v.size()) {}  // NOLINT
  byte_view(const std::string& s)  // NOLINT: text and binary buffers are both bytes here
      : data(reinterpret_cast<const std::byte*>(s.data())), size(s.size()) {}

  byte_view subview(std::size_t offset) const {
    return offset >= size ? byte_view(data + size, 0) : byte_view(data + offset, size - offset);
  }
};

// Unsigned little-endian field of n bytes (n <= 8) at p; the caller checked the bounds.
inline std::uint64_t load_le(const std::byte* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t(std::to_integer<std::uint8_t>(p[i])) << (8 * i);
  return v;
}

inline void append_le(std::vector<std::byte>& out, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFF));
}

// LEB128 varint: 7 bits per byte, low first, the high bit set on every byte but the last.
inline void append_varint(std::vector<std::byte>& out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(std::byte(std::uint8_t(v) | 0x80));
  out.push_back(std::byte(std::uint8_t(v)));
}

// Reverses the bytes of each item of item_size bytes: big-endian <-> little-endian.
inline void swap_byte_order(std::byte* data, std::size_t nbytes, std::size_t item_size) {
  if (item_size < 2) return;
  for (std::size_t i = 0; i + item_size <= nbytes; i += item_size)
    std::reverse(data + i, data + i + item_size);
}

}  // namespace baler
