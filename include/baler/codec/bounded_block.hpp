#pragma once
// Decoding of one error-bounded block as files before the context coder wrote it: n values
// (a table column, or a whole field in scan order) under one value_code, with a predictor over
// the codes decoded so far (today's blocks: bounded/block.hpp).
//
//   the scan: k[i] = p + symbol[i], x^ = decode(k[i]), exceptions put back.
//
// The reconstruction never depends on the predictor (x^ = decode(k)); the predictor only makes
// the symbols small. Bytes of a block: varint E, E x (varint index delta, f64 value),
// symbols (encode_symbols), and for rel codes the signs (0: +, 1: -, 2: zero) likewise.
#include <cstring>
#include <vector>

#include "baler/codec/error_bound.hpp"
#include "baler/codec/symbol_coder.hpp"

namespace baler::codec {


// Reads one block of n values from `in` (advancing it) and returns x^.
template <class Predict>
std::vector<double> decode_legacy_block(rans::reader& in, std::size_t n, const value_code& code,
                                 Predict&& predict) {
  const char* where = "decode_block";
  const std::uint64_t count = in.varint();
  require(count <= n, where, "more exceptions than values in a residual block");
  std::vector<std::pair<std::size_t, double>> exc(count);
  std::size_t at = 0;
  for (auto& e : exc) {
    at += in.varint();
    require(at < n, where, "exception index out of range in a residual block");
    std::memcpy(&e.second, in.bytes(8).data, 8);
    e.first = at;
  }
  const std::vector<std::int64_t> symbols = decode_symbols(in, n);
  const bool rel = code.kind == bound_kind::rel;
  const std::vector<std::int64_t> signs = rel ? decode_symbols(in, n) : std::vector<std::int64_t>{};
  std::vector<std::int64_t> k(n);
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    k[i] = predict(i, k) + symbols[i];
    const int sign = !rel ? 1 : signs[i] == 0 ? 1 : signs[i] == 1 ? -1 : 0;
    x[i] = code.decode(k[i], sign);
  }
  for (const auto& e : exc) x[e.first] = e.second;
  return x;
}

// Prediction by a constant: the median code of the block, stored in the header.
struct constant_predictor {
  std::int64_t value = 0;
  std::int64_t operator()(std::size_t, const std::vector<std::int64_t>&) const { return value; }
};

// Prediction by precomputed values (from other columns or a decoder), turned into codes.
struct value_predictor {
  std::vector<std::int64_t> codes;
  std::int64_t operator()(std::size_t i, const std::vector<std::int64_t>&) const { return codes[i]; }

  static value_predictor of(const std::vector<double>& prediction, const value_code& code) {
    value_predictor p;
    p.codes.resize(prediction.size(), 0);
    for (std::size_t i = 0; i < prediction.size(); ++i) {
      std::int64_t c;
      if (prediction[i] != 0 && code.encode(prediction[i], c)) p.codes[i] = c;
    }
    return p;
  }
};

}  // namespace baler::codec
