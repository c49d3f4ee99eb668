#pragma once
// A table column's codes coded as values, not as residuals of a prediction: u = code - min, its
// top `depth` bits through a binary tree of adaptive probabilities (an adaptive histogram of the
// column at a resolution of 2^(width - depth) codes), the bits below at 1/2. A column whose rows
// are in no order and which no other column explains is its distribution and nothing more; the
// tree learns that distribution whatever its shape (skewed, two-peaked, flat), where the residual
// coder around the median assumes one peak.
//
//   description  {"kind": "histogram", "coder": "tree", "min": M, "width": W, "depth": D}:
//                W the bit length of (largest code - M), 0 < D <= min(W, max_tree_depth), or
//                W = D = 0 when every code is M.
//   bytes        exceptions (block.hpp; values without a code, stored exactly and not coded
//                here), varint R, R bytes of range coder.
//
// abs and range bounds only: a rel bound's codes need their signs, which the residual coder
// carries.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/bounded/block.hpp"
#include "baler/format/container.hpp"

namespace baler::bounded {

constexpr const char* tree_coder = "tree";
constexpr unsigned max_tree_depth = 12;

// The smallest code and the bit length of the span of the codes that exist.
struct code_span {
  std::int64_t min = 0;
  unsigned width = 0;
};
inline code_span span_of(const std::vector<std::int64_t>& k, const std::vector<bool>& has) {
  std::int64_t lo = 0, hi = 0;
  bool any = false;
  for (std::size_t i = 0; i < k.size(); ++i)
    if (has[i]) lo = any ? std::min(lo, k[i]) : k[i], hi = any ? std::max(hi, k[i]) : k[i], any = true;
  const std::uint64_t span = std::uint64_t(hi) - std::uint64_t(lo);
  return {lo, span ? unsigned(64 - __builtin_clzll(span)) : 0u};
}

// The tree's walk over the top bits of u, shared by encoder and decoder: bit(model, b) codes
// or decodes one bit and returns it.
template <class Bit>
std::uint64_t tree_bits(std::vector<rc::bit_model>& tree, unsigned depth, std::uint64_t u, unsigned width, Bit&& bit) {
  std::size_t node = 1;
  std::uint64_t top = 0;
  for (unsigned j = 0; j < depth; ++j) {
    const unsigned b = bit(tree[node], unsigned((u >> (width - 1 - j)) & 1));
    node = node * 2 + b;
    top = top << 1 | b;
  }
  return top;
}

// Codes column x (codes k, has: whether a value has one) with a tree of `depth` levels (capped
// at the span's width); fills desc.
inline block_result encode_histogram(const double* x, const std::vector<std::int64_t>& k, const std::vector<bool>& has,
                                     unsigned depth, nlohmann::json& desc) {
  const std::size_t n = k.size();
  const code_span s = span_of(k, has);
  depth = std::min({depth, s.width, max_tree_depth});
  block_result r;
  exception_list exceptions;
  std::vector<rc::bit_model> tree(std::size_t(1) << depth);
  rc::encoder coder;
  const unsigned low = s.width - depth;
  for (std::size_t i = 0; i < n; ++i) {
    if (!has[i]) {
      exceptions.emplace_back(i, x[i]);
      continue;
    }
    const std::uint64_t u = std::uint64_t(k[i]) - std::uint64_t(s.min);
    tree_bits(tree, depth, u, s.width, [&](rc::bit_model& m, unsigned b) { return coder.bit(m, b), b; });
    if (low) coder.direct(u, int(low));  // direct() takes the low `low` bits of u
  }
  r.exceptions = exceptions.size();
  write_exceptions(exceptions, r.bytes);
  const std::vector<std::byte> coded = coder.finish();
  append_varint(r.bytes, coded.size());
  r.bytes.insert(r.bytes.end(), coded.begin(), coded.end());
  desc = {{"kind", "histogram"}, {"coder", tree_coder}, {"min", s.min}, {"width", s.width}, {"depth", depth}};
  return r;
}

inline std::vector<double> decode_histogram(codec::rans::reader& in, std::size_t n, const value_code& code,
                                            const nlohmann::json& desc) {
  const char* where = "bounded::decode_histogram";
  const std::int64_t lo = format::header_int<std::int64_t>(desc.at("min"), "a histogram block's minimum");
  const std::size_t width = format::header_size(desc.at("width"), "a histogram block's width");
  const std::size_t depth = format::header_size(desc.at("depth"), "a histogram block's depth");
  require(width <= 64 && depth <= width && depth <= max_tree_depth && (depth > 0 || width == 0), where,
          "a histogram block with width " + std::to_string(width) + " and depth " + std::to_string(depth));
  const exception_list exceptions = read_exceptions(in, n);
  rc::decoder coder(in.bytes(in.varint()));
  std::vector<rc::bit_model> tree(std::size_t(1) << depth);
  const unsigned low = unsigned(width - depth);
  std::vector<double> x(n);
  std::size_t next = 0;  // the next exception
  for (std::size_t i = 0; i < n; ++i) {
    if (next < exceptions.size() && exceptions[next].first == i) {
      x[i] = exceptions[next].second;
      while (next < exceptions.size() && exceptions[next].first == i) ++next;  // a crafted repeat
      continue;
    }
    std::uint64_t u = tree_bits(tree, unsigned(depth), 0, unsigned(width),
                                [&](rc::bit_model& m, unsigned) { return coder.bit(m); });
    if (low) u = u << low | coder.direct(int(low));  // low < 64: depth > 0 whenever width > 0
    x[i] = code.decode(wrapping_add(lo, std::int64_t(u)), 1);
  }
  require(!coder.overran(), where, "the histogram block is truncated");
  return x;
}

}  // namespace baler::bounded
