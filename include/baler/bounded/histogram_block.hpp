#pragma once
// A table column's codes coded as values, not as residuals of a prediction: u = code - min, its
// top `depth` bits through a binary tree of adaptive probabilities (an adaptive histogram of the
// column at a resolution of 2^(width - depth) codes), the bits below at 1/2. A column whose rows
// are in no order and which no other column explains is its distribution and nothing more; the
// tree learns that distribution whatever its shape (skewed, two-peaked, flat), where the residual
// coder around the median assumes one peak.
//
//   description  {"kind": "histogram", "coder": "counted_tree", "min": M, "width": W, "depth": D}:
//                W the bit length of (largest code - M), 0 < D <= min(W, max_tree_depth), or
//                W = D = 0 when every code is M. Optionally "partner" (a column decoded before
//                and the edges of its B quantile buckets, as in sequence_walk.hpp, 2 <= B <=
//                max_partner_buckets) and "partner_levels": 0 < L <= D: the top L levels of the
//                tree are learnt per bucket of the partner, the rest shared. A jet's mass goes
//                with its momentum, a second charge with the first: the histogram of the one
//                differs with the bucket of the other, in its coarse shape more than in its
//                fine detail.
//                Coder "tree" (files written before): no partner, and adaptive probabilities
//                (rc::bit_model) where "counted_tree" counts (rc::counted_bit): a table's rows
//                in no order are stationary, and counting learns their histogram closer.
//   bytes        exceptions (block.hpp; values without a code, stored exactly and not coded
//                here), varint R, R bytes of range coder.
//
// abs and range bounds only: a rel bound's codes need their signs, which the residual coder
// carries.
#include <algorithm>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/bounded/block.hpp"
#include "baler/bounded/sequence_walk.hpp"
#include "baler/format/container.hpp"

namespace baler::bounded {

constexpr const char* tree_coder = "tree", *counted_tree_coder = "counted_tree";
constexpr unsigned max_tree_depth = 12, max_partner_buckets = 64;

// The probabilities of a histogram block: the tree's nodes (1 to 2^depth - 1), and with a
// partner of `buckets` buckets (0: none), the top `levels` of the tree once more per bucket:
// 2^depth + buckets * 2^levels models (node 0 of each unused). Model: rc::bit_model or
// rc::counted_bit.
template <class Model>
class histogram_tree {
public:
  histogram_tree(unsigned depth, unsigned levels, unsigned buckets)
      : depth_(depth), levels_(buckets ? levels : 0),
        models_((std::size_t(1) << depth) + (std::size_t(buckets) << levels_)) {}

  // The walk over the top bits of u (of `width` bits), shared by encoder and decoder:
  // bit(model, b) codes or decodes one bit and returns it. Returns the top bits.
  template <class Bit>
  std::uint64_t walk(unsigned bucket, std::uint64_t u, unsigned width, Bit&& bit) {
    Model* shared = models_.data();
    Model* top = levels_ ? shared + (std::size_t(1) << depth_) + (std::size_t(bucket) << levels_) : shared;
    std::size_t node = 1;
    for (unsigned j = 0; j < depth_; ++j) {
      const unsigned b = bit(j < levels_ ? top[node] : shared[node], unsigned((u >> (width - 1 - j)) & 1));
      node = node * 2 + b;
    }
    return node - (std::size_t(1) << depth_);
  }

private:
  unsigned depth_, levels_;
  std::vector<Model> models_;
};

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

// Codes column x (codes k, has: whether a value has one) with a tree of `depth` levels (capped
// at the span's width); fills desc but for "partner", which the caller adds when it passes
// `partner` (a bucket per row, each < `buckets`) and `levels` > 0 (capped at the depth).
inline block_result encode_histogram(const double* x, const std::vector<std::int64_t>& k, const std::vector<bool>& has,
                                     unsigned depth, nlohmann::json& desc,
                                     const std::vector<std::uint8_t>* partner = nullptr, unsigned levels = 0,
                                     unsigned buckets = sequence_walk::partner_buckets) {
  const std::size_t n = k.size();
  const code_span s = span_of(k, has);
  depth = std::min({depth, s.width, max_tree_depth});
  levels = std::min(levels, depth);
  if (!levels) partner = nullptr;
  block_result r;
  exception_list exceptions;
  histogram_tree<rc::counted_bit> tree(depth, levels, partner ? buckets : 0);
  rc::encoder coder;
  const unsigned low = s.width - depth;
  for (std::size_t i = 0; i < n; ++i) {
    if (!has[i]) {
      exceptions.emplace_back(i, x[i]);
      continue;
    }
    const std::uint64_t u = std::uint64_t(k[i]) - std::uint64_t(s.min);
    tree.walk(partner ? (*partner)[i] : 0, u, s.width, [&](auto& m, unsigned b) { return coder.bit(m, b), b; });
    if (low) coder.direct(u, int(low));  // direct() takes the low `low` bits of u
  }
  r.exceptions = exceptions.size();
  write_exceptions(exceptions, r.bytes);
  const std::vector<std::byte> coded = coder.finish();
  append_varint(r.bytes, coded.size());
  r.bytes.insert(r.bytes.end(), coded.begin(), coded.end());
  desc = {{"kind", "histogram"}, {"coder", counted_tree_coder}, {"min", s.min}, {"width", s.width}, {"depth", depth}};
  if (partner) desc["partner_levels"] = levels;
  return r;
}

namespace detail {
template <class Model>
std::vector<double> decode_histogram(codec::rans::reader& in, std::size_t n, const value_code& code,
                                     const nlohmann::json& desc, const std::vector<std::uint8_t>* partner,
                                     unsigned buckets) {
  const char* where = "bounded::decode_histogram";
  const std::int64_t lo = format::header_int<std::int64_t>(desc.at("min"), "a histogram block's minimum");
  const std::size_t width = format::header_size(desc.at("width"), "a histogram block's width");
  const std::size_t depth = format::header_size(desc.at("depth"), "a histogram block's depth");
  require(width <= 64 && depth <= width && depth <= max_tree_depth && (depth > 0 || width == 0), where,
          "a histogram block with width " + std::to_string(width) + " and depth " + std::to_string(depth));
  const bool partnered = desc.contains("partner_levels");
  const std::size_t levels = partnered ? format::header_size(desc.at("partner_levels"), "a histogram's partner levels") : 0;
  require(!partnered || (partner && partner->size() == n && levels > 0 && levels <= depth && buckets > 0 &&
                          std::all_of(partner->begin(), partner->end(), [&](std::uint8_t b) { return b < buckets; })),
          where, "a partnered histogram block with " + std::to_string(levels) + " levels and depth " +
                     std::to_string(depth) + ", or buckets past " + std::to_string(buckets));
  const exception_list exceptions = read_exceptions(in, n);
  rc::decoder coder(in.bytes(in.varint()));
  histogram_tree<Model> tree(unsigned(depth), unsigned(levels), partnered ? buckets : 0);
  const unsigned low = unsigned(width - depth);
  std::vector<double> x(n);
  std::size_t next = 0;  // the next exception
  for (std::size_t i = 0; i < n; ++i) {
    if (next < exceptions.size() && exceptions[next].first == i) {
      x[i] = exceptions[next].second;
      while (next < exceptions.size() && exceptions[next].first == i) ++next;  // a crafted repeat
      continue;
    }
    std::uint64_t u = tree.walk(partnered ? (*partner)[i] : 0, 0, unsigned(width),
                                [&](auto& m, unsigned) { return coder.bit(m); });
    if (low) u = u << low | coder.direct(int(low));  // low < 64: depth > 0 whenever width > 0
    x[i] = code.decode(wrapping_add(lo, std::int64_t(u)), 1);
  }
  require(!coder.overran(), where, "the histogram block is truncated");
  return x;
}
}  // namespace detail

// `partner`: the buckets (each < `buckets`) of the column desc["partner"] names, when it names one.
inline std::vector<double> decode_histogram(codec::rans::reader& in, std::size_t n, const value_code& code,
                                            const nlohmann::json& desc,
                                            const std::vector<std::uint8_t>* partner = nullptr,
                                            unsigned buckets = sequence_walk::partner_buckets) {
  return desc.at("coder") == tree_coder ? detail::decode_histogram<rc::bit_model>(in, n, code, desc, nullptr, 0)
                                        : detail::decode_histogram<rc::counted_bit>(in, n, code, desc, partner, buckets);
}

}  // namespace baler::bounded
