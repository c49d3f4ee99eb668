#pragma once
// Entropy coding of integer residual symbols (code minus prediction, any int64).
//
// A symbol s is zig-zagged to u >= 0 and split into a token and raw bits (as zstd and LZMA code
// their offsets): u < 256 is its own token; a larger u of bit length n gets token
// 256 + 8 (n - 9) + (the 3 bits below its leading one) and its n - 4 remaining low bits go
// raw. So residuals of any size are coded, with a 704-token alphabet whose large tokens are the
// rare "escapes". Tokens are coded with a static rANS coder (ryg_rans, byte-wise, 32-bit
// state): the token counts are stored, scaled to 2^15. zstd over the same tokens reached
// 5-25 % more bytes on the bundled data (bench/rate_distortion measures both).
//
// Layout of one coded stream (little-endian varints unless said otherwise):
//   varint T (distinct tokens), T x (varint token delta, varint scaled frequency),
//   varint R (rANS bytes), R bytes, varint B (raw-bit bytes), B bytes.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/bytes.hpp"

namespace baler::codec {

namespace rans {

constexpr std::uint32_t tokens = 704;
constexpr std::uint32_t scale_bits = 15, total = 1u << scale_bits;
constexpr std::uint32_t low = 1u << 23;  // renormalisation bound of the state

struct reader {
  byte_view in;
  std::size_t pos = 0;
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      require(pos < in.size, "symbol_coder", "the residual stream is truncated");
      const auto b = std::uint8_t(in.data[pos++]);
      v |= std::uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    throw error("symbol_coder(): malformed varint in the residual stream");
  }
  byte_view bytes(std::size_t n) {
    require(n <= in.size - pos, "symbol_coder", "the residual stream is truncated");
    const byte_view v(in.data + pos, n);
    pos += n;
    return v;
  }
};

inline std::uint64_t zigzag(std::int64_t s) { return (std::uint64_t(s) << 1) ^ std::uint64_t(s >> 63); }
inline std::int64_t unzigzag(std::uint64_t u) { return std::int64_t(u >> 1) ^ -std::int64_t(u & 1); }

inline int bit_length(std::uint64_t u) { return u ? 64 - __builtin_clzll(u) : 0; }

// u -> (token, number of raw bits); the raw bits are u's low `extra` bits.
inline std::uint32_t token_of(std::uint64_t u, int& extra) {
  if (u < 256) return extra = 0, std::uint32_t(u);
  const int n = bit_length(u);
  extra = n - 4;
  return 256 + 8 * std::uint32_t(n - 9) + std::uint32_t((u >> extra) & 7);
}
inline std::uint64_t base_of(std::uint32_t token, int& extra) {
  if (token < 256) return extra = 0, token;
  const int n = int((token - 256) / 8) + 9;
  extra = n - 4;
  return (std::uint64_t(8 | ((token - 256) % 8)) << extra);
}

// Counts scaled to `total`, every used token at least 1.
inline std::vector<std::uint32_t> scale(const std::vector<std::uint64_t>& counts, std::uint64_t n) {
  std::vector<std::uint32_t> f(tokens, 0);
  std::uint32_t sum = 0, top = 0;
  for (std::uint32_t t = 0; t < tokens; ++t) {
    if (!counts[t]) continue;
    f[t] = std::max<std::uint32_t>(1, std::uint32_t(double(counts[t]) * total / double(n)));
    sum += f[t];
    if (f[t] > f[top]) top = t;
  }
  // Give or take the rounding difference from the largest frequencies.
  while (sum != total) {
    if (sum < total) {
      f[top] += total - sum;
      sum = total;
    } else {
      const auto t = std::uint32_t(std::max_element(f.begin(), f.end()) - f.begin());
      const std::uint32_t take = std::min(sum - total, f[t] - 1);
      require(take > 0, "symbol_coder", "too many distinct tokens");
      f[t] -= take;
      sum -= take;
    }
  }
  return f;
}

}  // namespace rans

// Appends the coded symbols to `out`.
inline void encode_symbols(const std::vector<std::int64_t>& symbols, std::vector<std::byte>& out) {
  using namespace rans;
  std::vector<std::uint32_t> tok(symbols.size());
  std::vector<std::uint64_t> counts(tokens, 0);
  std::vector<std::byte> raw;
  std::uint64_t acc = 0;
  int filled = 0;
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    int extra = 0;
    const std::uint64_t u = zigzag(symbols[i]);
    tok[i] = token_of(u, extra);
    ++counts[tok[i]];
    for (int b = 0; b < extra; ++b) {  // raw bits, LSB first
      acc |= ((u >> b) & 1) << filled;
      if (++filled == 64) {
        for (int k = 0; k < 8; ++k) raw.push_back(std::byte(std::uint8_t(acc >> (8 * k))));
        acc = 0, filled = 0;
      }
    }
  }
  for (int k = 0; k * 8 < filled; ++k) raw.push_back(std::byte(std::uint8_t(acc >> (8 * k))));

  std::vector<std::uint32_t> freq(tokens, 0), cum(tokens + 1, 0);
  if (!symbols.empty()) freq = scale(counts, symbols.size());
  for (std::uint32_t t = 0; t < tokens; ++t) cum[t + 1] = cum[t] + freq[t];

  // rANS encodes backwards; the bytes are reversed at the end so the decoder reads forwards.
  std::vector<std::byte> coded;
  std::uint32_t x = low;
  for (std::size_t i = symbols.size(); i-- > 0;) {
    const std::uint32_t f = freq[tok[i]];
    const std::uint32_t x_max = ((low >> scale_bits) << 8) * f;
    while (x >= x_max) {
      coded.push_back(std::byte(std::uint8_t(x)));
      x >>= 8;
    }
    x = ((x / f) << scale_bits) + (x % f) + cum[tok[i]];
  }
  for (int k = 0; k < 4; ++k) coded.push_back(std::byte(std::uint8_t(x >> (8 * (3 - k)))));
  std::reverse(coded.begin(), coded.end());
  // now the 4 state bytes come first, little-endian

  std::uint32_t distinct = 0;
  for (std::uint32_t f : freq) distinct += f > 0;
  append_varint(out, distinct);
  std::uint32_t prev = 0;
  for (std::uint32_t t = 0; t < tokens; ++t)
    if (freq[t]) {
      append_varint(out, t - prev);
      append_varint(out, freq[t]);
      prev = t;
    }
  append_varint(out, coded.size());
  out.insert(out.end(), coded.begin(), coded.end());
  append_varint(out, raw.size());
  out.insert(out.end(), raw.begin(), raw.end());
}

// Reads `n` symbols coded by encode_symbols from r.
inline std::vector<std::int64_t> decode_symbols(rans::reader& r, std::size_t n) {
  using namespace rans;
  const char* where = "decode_symbols";
  std::vector<std::uint32_t> freq(tokens, 0), cum(tokens + 1, 0);
  const std::uint64_t distinct = r.varint();
  require(distinct <= tokens, where, "too many tokens in the residual stream");
  std::uint64_t t = 0;
  for (std::uint64_t i = 0; i < distinct; ++i) {
    t += r.varint();
    require(t < tokens, where, "token out of range in the residual stream");
    const std::uint64_t f = r.varint();
    require(f > 0 && f <= total && freq[t] == 0, where, "bad token frequency in the residual stream");
    freq[t] = std::uint32_t(f);
  }
  for (std::uint32_t k = 0; k < tokens; ++k) cum[k + 1] = cum[k] + freq[k];
  require(n == 0 || cum[tokens] == total, where, "token frequencies do not add up");
  std::vector<std::uint16_t> slot(total);
  for (std::uint32_t k = 0; k < tokens; ++k)
    for (std::uint32_t s = cum[k]; s < cum[k + 1] && s < total; ++s) slot[s] = std::uint16_t(k);

  const byte_view coded = r.bytes(r.varint());
  const byte_view raw = r.bytes(r.varint());
  require(coded.size >= 4, where, "the rANS stream is truncated");
  std::size_t pos = 4;
  std::uint32_t x = 0;
  for (int k = 0; k < 4; ++k) x |= std::uint32_t(std::uint8_t(coded.data[k])) << (8 * k);
  std::uint64_t bit = 0;
  std::vector<std::int64_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t s = x & (total - 1), token = slot[s];
    x = freq[token] * (x >> scale_bits) + s - cum[token];
    while (x < low) {
      require(pos < coded.size, where, "the rANS stream is truncated");
      x = (x << 8) | std::uint8_t(coded.data[pos++]);
    }
    int extra = 0;
    std::uint64_t u = base_of(token, extra);
    require(bit + std::uint64_t(extra) <= 8 * std::uint64_t(raw.size), where, "the raw bits are truncated");
    for (int b = 0; b < extra; ++b, ++bit)
      u |= std::uint64_t((std::uint8_t(raw.data[bit / 8]) >> (bit % 8)) & 1) << b;
    out[i] = unzigzag(u);
  }
  return out;
}

}  // namespace baler::codec
