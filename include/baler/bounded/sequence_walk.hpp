#pragma once
// The walk of a table column (see block.hpp): rows in order, each code predicted by
//   constant   one code for the whole column (its median): plain quantisation;
//   previous   the code of the row before: rows ordered by time, run or event number, or a
//              grid, where neighbouring rows are alike;
//   linear     the line through the two rows before (2 k[i-1] - k[i-2]): a smooth column in
//              order (a time series, a profile along a grid), where the step from row to row
//              changes slowly;
//   values     a code per row computed before the walk from other columns or a model
//              (relation.hpp, the autoencoder's reconstruction).
// The context is the size of the residuals of the two rows before in four levels, so runs of
// quiet and busy rows are coded at their own cost, and optionally the quantile of a partner
// column in the row. Few contexts: a column of a few thousand rows cannot learn many, and rows
// in no order teach nothing through them. Lengths are modelled per sign (context_coder.hpp).
//
// fine_contexts: 24 levels without a partner and lengths shared by both signs, the coder
// "context": a field's latent walk (millions of values), and table columns written before
// "context_signed".
#include <algorithm>
#include <vector>

#include "baler/bounded/block.hpp"
#include "baler/core/decimal.hpp"

namespace baler::bounded {

struct sequence_walk {
  enum class by { constant, previous, values, linear };
  by kind = by::constant;
  std::int64_t value = 0;                            // constant
  const std::vector<std::int64_t>* codes = nullptr;  // values, one per row
  std::size_t rows = 0;
  // Optional: per row, the bucket (< partner_buckets) of a column decoded before this one; the
  // residual's size often depends on it (a momentum component on the particle's momentum).
  const std::vector<std::uint8_t>* partner = nullptr;
  bool fine_contexts = false;

  static constexpr unsigned partner_buckets = 8, row_levels = 4;

  unsigned contexts() const {
    return partner ? partner_buckets * row_levels : fine_contexts ? magnitude_buckets : row_levels;
  }
  unsigned phase_bits() const { return 0; }
  bool signed_lengths() const { return !fine_contexts; }

  template <class Visit>
  void operator()(walk_state& s, Visit&& visit) const {
    for (std::size_t i = 0; i < rows; ++i) {
      const std::int64_t p = kind == by::constant ? value
                             : kind == by::values ? (*codes)[i]
                             : kind == by::linear && i > 1 ? wrapping_sub(wrapping_mul(2, s.k[i - 1]), s.k[i - 2])
                             : i > 0 ? s.k[i - 1] : value;
      const std::uint64_t near = (i > 0 ? s.magnitude[i - 1] : 0) + (i > 1 ? s.magnitude[i - 2] : 0);
      const unsigned m = magnitude_bucket(near);
      const unsigned level = m == 0 ? 0 : m <= 3 ? 1 : m <= 7 ? 2 : 3;
      visit(i, p, partner ? (*partner)[i] * row_levels + level : fine_contexts ? m : level);
    }
  }
};

// Buckets of a column by its quantiles: `edges` (ascending, buckets - 1 of them) from the
// encoder's reconstruction, applied by encoder and decoder to the same reconstructed values.
// A residual walk's partner has partner_buckets; a histogram's may have more (histogram_block.hpp).
// The values read are v's order statistics at n * b / buckets, as a sort would leave them; they
// are selected (O(n log buckets)) instead: each selection splits the rest in two. v: finite.
inline std::vector<double> quantile_edges(std::vector<double> v, unsigned buckets = sequence_walk::partner_buckets) {
  std::vector<std::size_t> at;  // the ranks read, ascending, each once
  for (unsigned b = 1; b < buckets; ++b)
    if (const std::size_t r = v.size() * b / buckets; at.empty() || at.back() != r) at.push_back(r);
  // Places the ranks at[first, last) (all within [lo, hi)) where a sort would.
  const auto select = [&](auto&& self, std::size_t lo, std::size_t hi, std::size_t first, std::size_t last) -> void {
    if (first == last) return;
    const std::size_t mid = first + (last - first) / 2;
    std::nth_element(v.begin() + std::ptrdiff_t(lo), v.begin() + std::ptrdiff_t(at[mid]), v.begin() + std::ptrdiff_t(hi));
    self(self, lo, at[mid], first, mid);
    self(self, at[mid] + 1, hi, mid + 1, last);
  };
  select(select, 0, v.size(), 0, at.size());
  std::vector<double> edges;
  for (unsigned b = 1; b < buckets; ++b)  // three digits: short in the header
    edges.push_back(short_decimal(v[v.size() * b / buckets], 3));
  return edges;
}
inline std::vector<std::uint8_t> buckets_of(const std::vector<double>& v, const std::vector<double>& edges) {
  std::vector<std::uint8_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    out[i] = std::uint8_t(std::upper_bound(edges.begin(), edges.end(), v[i]) - edges.begin());
  return out;
}

// The median of the codes that exist (0 when none does).
inline std::int64_t median_code(const std::vector<std::int64_t>& k, const std::vector<bool>& has) {
  std::vector<std::int64_t> v;
  v.reserve(k.size());
  for (std::size_t i = 0; i < k.size(); ++i)
    if (has[i]) v.push_back(k[i]);
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace baler::bounded
