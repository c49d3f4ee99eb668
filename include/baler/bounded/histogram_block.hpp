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
//                Coder "mixed_tree": "partners" (0 to max_mix_partners columns decoded before,
//                each {"column", "edges"}, 2 to max_partner_buckets buckets) and "rate"
//                (min_mix_rate to max_mix_rate): every level of the tree mixes (mixing.hpp) the
//                column's own model at the node with, per partner, the node's model in the
//                row's bucket and in its quarter of the buckets. Where two partners each decide
//                part of a column, both count; a histogram per bucket sees one.
//   bytes        exceptions (block.hpp; values without a code, stored exactly and not coded
//                here), varint R, R bytes of range coder.
//
// Under a rel bound the codes are those of with_signs (block.hpp), sign and magnitude in one
// integer: the coder is named with signed_prefix ("signed_counted_tree", "signed_mixed_tree")
// and the description adds "base" (mark_signed).
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/bounded/block.hpp"
#include "baler/bounded/mixing.hpp"
#include "baler/bounded/sequence_walk.hpp"
#include "baler/format/container.hpp"

namespace baler::bounded {

constexpr const char* tree_coder = "tree", *counted_tree_coder = "counted_tree";
constexpr unsigned max_tree_depth = 12, max_partner_buckets = 64;

// Blocks that code a rel bound's codes as values (with_signs) prefix their coder's name with
// this, so that a reader from before them refuses them, and store with_signs's "base".
constexpr const char* signed_prefix = "signed_";
inline void mark_signed(nlohmann::json& desc, std::int64_t base) {
  desc["coder"] = signed_prefix + desc.at("coder").get<std::string>();
  desc["base"] = base;
}
// The base a block of codes as values stores: under a rel bound its own (required), else 0
// (and a base there is refused).
inline std::int64_t signed_base(const nlohmann::json& desc, const value_code& code, const char* where) {
  const bool rel = code.kind == codec::bound_kind::rel;
  require(rel == desc.contains("base"), where,
          rel ? "a block under a rel bound without its base" : "a block with a base outside a rel bound");
  return rel ? format::header_int<std::int64_t>(desc["base"], "a block's base") : 0;
}

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

namespace detail {
// The frame every histogram coder shares: exceptions first, then per row with a code, u = k -
// min through `top(i, u, bit)` (which codes the top `depth` bits of u with bit(model, b)) and
// the bits below at 1/2.
template <class Top>
block_result encode_values(const double* x, const std::vector<std::int64_t>& k, const std::vector<bool>& has,
                           const code_span& s, unsigned depth, Top&& top) {
  block_result r;
  exception_list exceptions;
  rc::encoder coder;
  const unsigned low = s.width - depth;
  for (std::size_t i = 0; i < k.size(); ++i) {
    if (!has[i]) {
      exceptions.emplace_back(i, x[i]);
      continue;
    }
    const std::uint64_t u = std::uint64_t(k[i]) - std::uint64_t(s.min);
    top(i, u, [&](auto& m, unsigned b) { return coder.bit(m, b), b; });
    if (low) coder.direct(u, int(low));  // direct() takes the low `low` bits of u
  }
  r.exceptions = exceptions.size();
  write_exceptions(exceptions, r.bytes);
  coder.finish_into(r.bytes);
  return r;
}

// The decoder of encode_values: `top(i, bit)` returns the top bits of row i, bit(model) decoding one.
// `base`: with_signs's, under a rel bound.
template <class Top>
std::vector<double> decode_values(codec::rans::reader& in, std::size_t n, const value_code& code, std::int64_t lo,
                                  std::int64_t base, unsigned width, unsigned depth, Top&& top) {
  const exception_list exceptions = read_exceptions(in, n);
  rc::decoder coder(in.bytes(in.varint()));
  const unsigned low = width - depth;
  std::vector<double> x(n);
  std::size_t next = 0;  // the next exception
  for (std::size_t i = 0; i < n; ++i) {
    if (next < exceptions.size() && exceptions[next].first == i) {
      x[i] = exceptions[next].second;
      while (next < exceptions.size() && exceptions[next].first == i) ++next;  // a crafted repeat
      continue;
    }
    std::uint64_t u = top(i, [&](auto& m) { return coder.bit(m); });
    if (low) u = u << low | coder.direct(int(low));  // low < 64: depth > 0 whenever width > 0
    x[i] = value_of_signed(code, wrapping_add(lo, std::int64_t(u)), base);
  }
  require(!coder.overran(), "bounded::decode_histogram", "the histogram block is truncated");
  return x;
}

// The span and depth a histogram block's description gives, checked, and under a rel bound
// with_signs's base (which only such blocks have).
struct tree_shape {
  std::int64_t min;
  unsigned width, depth;
  std::int64_t base;
};
inline tree_shape tree_shape_of(const nlohmann::json& desc, const value_code& code) {
  const std::int64_t base = signed_base(desc, code, "bounded::decode_histogram");
  const std::int64_t lo = format::header_int<std::int64_t>(desc.at("min"), "a histogram block's minimum");
  const std::size_t width = format::header_size(desc.at("width"), "a histogram block's width");
  const std::size_t depth = format::header_size(desc.at("depth"), "a histogram block's depth");
  require(width <= 64 && depth <= width && depth <= max_tree_depth && (depth > 0 || width == 0),
          "bounded::decode_histogram",
          "a histogram block with width " + std::to_string(width) + " and depth " + std::to_string(depth));
  return {lo, unsigned(width), unsigned(depth), base};
}
}  // namespace detail

// Codes column x (codes k, has: whether a value has one) with a tree of `depth` levels (capped
// at the span's width); fills desc but for "partner", which the caller adds when it passes
// `partner` (a bucket per row, each < `buckets`) and `levels` > 0 (capped at the depth).
// `span`: the codes' span when k is the first rows of a column (default: k's own), so that
// the first rows code as they would in the whole column, under its description.
inline block_result encode_histogram(const double* x, const std::vector<std::int64_t>& k, const std::vector<bool>& has,
                                     unsigned depth, nlohmann::json& desc,
                                     const std::vector<std::uint8_t>* partner = nullptr, unsigned levels = 0,
                                     unsigned buckets = sequence_walk::partner_buckets,
                                     std::optional<code_span> span = std::nullopt) {
  const code_span s = span ? *span : span_of(k, has);
  depth = std::min({depth, s.width, max_tree_depth});
  levels = std::min(levels, depth);
  if (!levels) partner = nullptr;
  histogram_tree<rc::counted_bit> tree(depth, levels, partner ? buckets : 0);
  block_result r = detail::encode_values(x, k, has, s, depth, [&](std::size_t i, std::uint64_t u, auto&& bit) {
    tree.walk(partner ? (*partner)[i] : 0, u, s.width, bit);
  });
  desc = {{"kind", "histogram"}, {"coder", counted_tree_coder}, {"min", s.min}, {"width", s.width}, {"depth", depth}};
  if (partner) desc["partner_levels"] = levels;
  return r;
}

namespace detail {
template <class Model>
std::vector<double> decode_histogram(codec::rans::reader& in, std::size_t n, const value_code& code,
                                     const nlohmann::json& desc, const std::vector<std::uint8_t>* partner,
                                     unsigned buckets) {
  const tree_shape t = tree_shape_of(desc, code);
  const bool partnered = desc.contains("partner_levels");
  const std::size_t levels = partnered ? format::header_size(desc.at("partner_levels"), "a histogram's partner levels") : 0;
  require(!partnered || (partner && partner->size() == n && levels > 0 && levels <= t.depth && buckets > 0 &&
                          std::all_of(partner->begin(), partner->end(), [&](std::uint8_t b) { return b < buckets; })),
          "bounded::decode_histogram",
          "a partnered histogram block with " + std::to_string(levels) + " levels and depth " +
              std::to_string(t.depth) + ", or buckets past " + std::to_string(buckets));
  histogram_tree<Model> tree(t.depth, unsigned(levels), partnered ? buckets : 0);
  return decode_values(in, n, code, t.min, t.base, t.width, t.depth, [&](std::size_t i, auto&& bit) {
    return tree.walk(partnered ? (*partner)[i] : 0, 0, t.width, [&](auto& m, unsigned) { return bit(m); });
  });
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

// A partner column of a mixed histogram: a bucket per row, each < count.
struct mix_partner {
  const std::vector<std::uint8_t>* buckets;
  unsigned count;
};

// The probabilities of a mixed histogram block: every bit of the tree mixes (mixing.hpp) the
// column's own model at that node with, per partner, the node's model in the row's bucket and
// in its quarter of the buckets (coarser, so learnt sooner). One weight set per level.
//   models: 2^depth shared, then per partner (count + ceil(count / 4)) * 2^depth.
class mixed_tree {
public:
  mixed_tree(unsigned depth, const std::vector<mix_partner>& partners, unsigned rate)
      : depth_(depth), partners_(partners), mix_(1 + 2 * unsigned(partners.size()), std::max(depth, 1u), rate) {
    std::size_t size = std::size_t(1) << depth;
    for (const mix_partner& p : partners) {
      fine_.push_back(size), size += std::size_t(p.count) << depth;
      coarse_.push_back(size), size += std::size_t((p.count + 3) / 4) << depth;
    }
    models_.resize(size);
  }

  template <class Bit>
  std::uint64_t walk(std::size_t row, std::uint64_t u, unsigned width, Bit&& bit) {
    std::array<std::size_t, mixing::mixer::max_inputs> base{};  // of each input's models for this row
    unsigned inputs = 1;
    for (std::size_t j = 0; j < partners_.size(); ++j) {
      const unsigned b = (*partners_[j].buckets)[row];
      base[inputs++] = fine_[j] + (std::size_t(b) << depth_);
      base[inputs++] = coarse_[j] + (std::size_t(b / 4) << depth_);
    }
    std::size_t node = 1;
    for (unsigned level = 0; level < depth_; ++level) {
      mixed_bit m{*this, base.data(), inputs, node, level};
      node = node * 2 + bit(m, unsigned((u >> (width - 1 - level)) & 1));
    }
    return node - (std::size_t(1) << depth_);
  }

private:
  // What rc::encoder and rc::decoder take as a model: the mixed probability of one node's bit.
  struct mixed_bit {
    mixed_tree& t;
    const std::size_t* base;
    unsigned inputs;
    std::size_t node;
    unsigned level;
    std::uint32_t p() const {
      std::array<std::uint32_t, mixing::mixer::max_inputs> ps{};
      for (unsigned i = 0; i < inputs; ++i) ps[i] = t.models_[base[i] + node].p();
      return t.mix_.mix(ps.data(), level);
    }
    void update(unsigned b) {
      for (unsigned i = 0; i < inputs; ++i) t.models_[base[i] + node].update(b);
      t.mix_.update(b);
    }
  };

  unsigned depth_;
  std::vector<mix_partner> partners_;
  std::vector<std::size_t> fine_, coarse_;  // where each partner's models start
  std::vector<rc::counted_bit> models_;
  mixing::mixer mix_;
};

constexpr const char* mixed_tree_coder = "mixed_tree";
constexpr unsigned max_mix_partners = 3, min_mix_rate = 8, max_mix_rate = 16;
// The rates an encoder tries: faster for a few thousand rows, slower for a hundred thousand.
constexpr std::array<unsigned, 2> mixed_rates = {10, 12};

// Codes column x as encode_histogram does, each bit mixed from the column's own tree and the
// trees per bucket of `partners` (1 to max_mix_partners); `rate`: the mixer's learning rate
// (weights step by 2^-rate of stretch x error). Fills desc but for "partners", which the caller
// adds (one {"column", "edges"} per partner, in order). `span` as for encode_histogram.
inline block_result encode_mixed_histogram(const double* x, const std::vector<std::int64_t>& k,
                                           const std::vector<bool>& has, unsigned depth,
                                           const std::vector<mix_partner>& partners, unsigned rate,
                                           nlohmann::json& desc, std::optional<code_span> span = std::nullopt) {
  const code_span s = span ? *span : span_of(k, has);
  depth = std::min({depth, s.width, max_tree_depth});
  mixed_tree tree(depth, partners, rate);
  block_result r = detail::encode_values(x, k, has, s, depth, [&](std::size_t i, std::uint64_t u, auto&& bit) {
    tree.walk(i, u, s.width, bit);
  });
  desc = {{"kind", "histogram"}, {"coder", mixed_tree_coder}, {"min", s.min},
          {"width", s.width},    {"depth", depth},            {"rate", rate}};
  return r;
}

// `partners`: the buckets of the columns desc["partners"] names, in order.
inline std::vector<double> decode_mixed_histogram(codec::rans::reader& in, std::size_t n, const value_code& code,
                                                  const nlohmann::json& desc,
                                                  const std::vector<mix_partner>& partners) {
  const detail::tree_shape t = detail::tree_shape_of(desc, code);
  const std::size_t rate = format::header_size(desc.at("rate"), "a mixed histogram's rate");
  bool fit = partners.size() <= max_mix_partners && rate >= min_mix_rate && rate <= max_mix_rate;
  for (const mix_partner& p : partners)
    fit = fit && p.buckets->size() == n && p.count >= 2 && p.count <= max_partner_buckets &&
          std::all_of(p.buckets->begin(), p.buckets->end(), [&](std::uint8_t b) { return b < p.count; });
  require(fit, "bounded::decode_histogram",
          "a mixed histogram block with " + std::to_string(partners.size()) + " partners and rate " +
              std::to_string(rate) + ", or buckets past their count");
  mixed_tree tree(t.depth, partners, unsigned(rate));
  return detail::decode_values(in, n, code, t.min, t.base, t.width, t.depth, [&](std::size_t i, auto&& bit) {
    return tree.walk(i, 0, t.width, [&](auto& m, unsigned) { return bit(m); });
  });
}

}  // namespace baler::bounded
