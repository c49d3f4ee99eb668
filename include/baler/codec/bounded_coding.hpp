#pragma once
// Which predictor codes each error-bounded block, chosen by the bytes it actually produces.
//
// Predictors (bounded_block.hpp, lorenzo.hpp, relation_predictor.hpp):
//   constant - the block's median code: plain quantisation + entropy coding;
//   latent   - the autoencoder's reconstruction from the stored latent, rounded to a code;
//   lorenzo / lorenzo_frames - fields only: neighbours on the quantised grid;
//   relation - tables only: a small network over columns decoded before this one.
// Every candidate is tried; what costs nothing to try (constant, Lorenzo) always is.
// A block is a table column (its own bound) or, for fields, the whole array (one bound over
// its whole range, as SZ and ZFP bound fields). Each candidate is encoded and the smallest
// kept; its description goes to the header, its bytes to the RESQ section.
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/codec/bounded_block.hpp"
#include "baler/codec/columns.hpp"
#include "baler/codec/lorenzo.hpp"
#include "baler/codec/table.hpp"

namespace baler::codec {

// Fields are arrays of 3 or more axes, and 2-D arrays without column names (an image);
// everything else is a table of columns with their own ranges.
inline bool is_field(const std::vector<std::size_t>& shape, bool has_names) {
  return shape.size() >= 3 || (shape.size() == 2 && !has_names);
}

// Predictions made from values (the latent's decoder, a relation network); `prefix` holds
// what the decoder needs to remake them and is stored in front of the block.
struct value_prediction {
  nlohmann::json desc;
  std::vector<double> values;
  std::vector<std::byte> prefix;
};

struct coded_block {
  nlohmann::json predictor;  // {"kind": ..., parameters}
  block_result result;
};

// Encodes x with every candidate predictor and keeps the smallest.
// `extra`: predictions from values, their prefix counted in the size.
inline coded_block code_block(const double* x, std::size_t n, const value_code& code, dtype out,
                              const std::vector<std::size_t>* field_shape,
                              const std::vector<value_prediction>& extra) {
  std::optional<coded_block> best;
  auto consider = [&](nlohmann::json desc, block_result r) {
    if (!best || r.bytes.size() < best->result.bytes.size()) best = coded_block{std::move(desc), std::move(r)};
  };
  const constant_predictor c = constant_predictor::fit(x, n, code);
  consider({{"kind", "constant"}, {"value", c.value}}, encode_block(x, n, code, out, c));
  if (field_shape) {
    for (bool frames : {true, false}) {
      if (!frames && field_shape->size() < 3) continue;
      const lorenzo_predictor l = lorenzo_predictor::make(*field_shape, frames);
      consider({{"kind", l.name()}}, encode_block(x, n, code, out, l));
    }
  }
  for (const value_prediction& p : extra) {
    block_result r = encode_block(x, n, code, out, value_predictor::of(p.values, code));
    r.bytes.insert(r.bytes.begin(), p.prefix.begin(), p.prefix.end());
    consider(p.desc, std::move(r));
  }
  return std::move(*best);
}

// The inverse: `values_for(desc, in)` reads the prefix of a value-based predictor and gives
// its predictions.
template <class ValuesFor>
std::vector<double> decode_coded_block(rans::reader& in, std::size_t n, const value_code& code,
                                       const std::vector<std::size_t>* field_shape,
                                       const nlohmann::json& desc, ValuesFor&& values_for) {
  const std::string kind = desc.at("kind").get<std::string>();
  if (kind == "constant")
    return decode_block(in, n, code, constant_predictor{desc.at("value").get<std::int64_t>()});
  if (kind == "lorenzo" || kind == "lorenzo_frames") {
    require(field_shape != nullptr, "Codec::decompress", "a Lorenzo predictor on a table column");
    return decode_block(in, n, code, lorenzo_predictor::make(*field_shape, kind == "lorenzo"));
  }
  const std::vector<double> values = values_for(desc, in);
  require(values.size() == n, "Codec::decompress", "predictor '" + kind + "' gave the wrong count");
  return decode_block(in, n, code, value_predictor::of(values, code));
}

// The bound of a column (or field) resolved to a code. Integer columns stay exact.
inline value_code code_for(const bound_spec& b, const column_stats& st, bool integer) {
  if (integer || !b.set()) return value_code::exact();
  return value_code::make(b, st.min, st.max);
}

}  // namespace baler::codec
