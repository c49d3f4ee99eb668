#pragma once
// UTF-8 <-> code points. numpy stores text arrays ('<U..') as fixed-width UTF-32, while the rest
// of the library passes names around as UTF-8 std::string; invalid input is an error, never
// silently replaced, because a column name that changes on a round trip breaks lookups.
#include <cstdint>
#include <string>
#include <vector>

#include "baler/core/error.hpp"

namespace baler {

inline bool is_unicode_scalar(std::uint32_t cp) {
  return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

inline void append_utf8(std::string& out, std::uint32_t cp, const char* where) {
  require(is_unicode_scalar(cp), where, "invalid code point " + std::to_string(cp) + " in text");
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes strict UTF-8: no overlong forms, surrogates or truncated sequences.
inline std::vector<std::uint32_t> utf8_code_points(const std::string& s, const char* where) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  for (std::size_t i = 0; i < s.size();) {
    const std::uint8_t b = byte(i);
    const std::size_t len = b < 0x80           ? 1
                            : (b >> 5) == 0x6  ? 2
                            : (b >> 4) == 0xE  ? 3
                            : (b >> 3) == 0x1E ? 4
                                               : 0;
    const auto invalid = [&] {
      return error(std::string(where) + "(): invalid UTF-8 at byte " + std::to_string(i) +
                   " of \"" + s + "\"");
    };
    if (len == 0 || i + len > s.size()) throw invalid();
    std::uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) throw invalid();
      cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    static const std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || !is_unicode_scalar(cp)) throw invalid();
    out.push_back(cp);
    i += len;
  }
  return out;
}

}  // namespace baler
