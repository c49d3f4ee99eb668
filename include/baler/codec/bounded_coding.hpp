#pragma once
// Decoding of the error-bounded blocks of files written before the context coder
// (bounded/compressor.hpp writes today's): order-0 rANS residuals (symbol_coder.hpp) under
//   constant - the block's median code;
//   latent   - the autoencoder's reconstruction from the stored latent, rounded to a code;
//   lorenzo / lorenzo_frames - fields only: neighbours on the quantised grid;
//   relation - tables only: a small network over columns decoded before this one.
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/codec/bounded_block.hpp"
#include "baler/codec/columns.hpp"
#include "baler/codec/lorenzo.hpp"
#include "baler/codec/table.hpp"
#include "baler/format/container.hpp"

namespace baler::codec {

// The inverse: `values_for(desc, in)` reads the prefix of a value-based predictor and gives
// its predictions.
template <class ValuesFor>
std::vector<double> decode_coded_block(rans::reader& in, std::size_t n, const value_code& code,
                                       const std::vector<std::size_t>* field_shape,
                                       const nlohmann::json& desc, ValuesFor&& values_for) {
  const std::string kind = desc.at("kind").get<std::string>();
  if (kind == "constant")
    return decode_legacy_block(in, n, code, constant_predictor{format::header_int<std::int64_t>(desc.at("value"), "a constant block's value")});
  if (kind == "lorenzo" || kind == "lorenzo_frames") {
    require(field_shape != nullptr, "Codec::decompress", "a Lorenzo predictor on a table column");
    return decode_legacy_block(in, n, code, lorenzo_predictor::make(*field_shape, kind == "lorenzo"));
  }
  const std::vector<double> values = values_for(desc, in);
  require(values.size() == n, "Codec::decompress", "predictor '" + kind + "' gave the wrong count");
  return decode_legacy_block(in, n, code, value_predictor::of(values, code));
}

}  // namespace baler::codec
