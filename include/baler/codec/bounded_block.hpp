#pragma once
// One error-bounded block: n values (a table column, or a whole field in scan order) coded
// under one value_code, with a predictor over the codes decoded so far.
//
//   encode: for i in scan order: p = predict(i, k[0..i)); k[i] = code(x[i]); x^ = decode(k[i])
//           checked against the bound as decompress will output it; a value that fails (or
//           is NaN/Inf, or too large for a code) is an exception: stored exactly, k[i] = p.
//           symbol[i] = k[i] - p goes to the entropy coder (symbol_coder.hpp).
//   decode: the same scan, k[i] = p + symbol[i], x^ = decode(k[i]), exceptions put back.
//
// The reconstruction never depends on the predictor (x^ = decode(k)); the predictor only makes
// the symbols small. Bytes of a block: varint E, E x (varint index delta, f64 value),
// symbols (encode_symbols), and for rel codes the signs (0: +, 1: -, 2: zero) likewise.
#include <cstring>
#include <vector>

#include "baler/codec/error_bound.hpp"
#include "baler/codec/symbol_coder.hpp"

namespace baler::codec {

struct block_result {
  std::vector<std::byte> bytes;
  std::vector<double> recon;  // x^ as decompress computes it (before the output cast)
  std::size_t exceptions = 0;
};

// `predict(i, k)` returns the prediction of code i from codes k[0..i) (k has size n).
template <class Predict>
block_result encode_block(const double* x, std::size_t n, const value_code& code, dtype out,
                          Predict&& predict) {
  block_result r;
  r.recon.resize(n);
  std::vector<std::int64_t> k(n), symbols(n), signs;
  const bool rel = code.kind == bound_kind::rel;
  if (rel) signs.resize(n, 0);
  std::vector<std::byte> exc;
  std::size_t last = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t p = predict(i, k);
    const double v = x[i];
    if (rel && v == 0) {  // zero: exact by its sign symbol
      k[i] = p, symbols[i] = 0, signs[i] = 2, r.recon[i] = 0.0;
      continue;
    }
    const int sign = v < 0 ? -1 : 1;
    std::int64_t ki = 0;
    double xhat = 0;
    const bool ok = code.encode(v, ki) && code.within(v, xhat = code.decode(ki, sign), out);
    if (rel) signs[i] = sign < 0;
    if (ok) {
      k[i] = ki, symbols[i] = ki - p, r.recon[i] = xhat;
      continue;
    }
    k[i] = p, symbols[i] = 0, r.recon[i] = v;
    rans::put_varint(exc, i - last);
    last = i;
    const auto* b = reinterpret_cast<const std::byte*>(&v);
    exc.insert(exc.end(), b, b + 8);
    ++r.exceptions;
  }
  rans::put_varint(r.bytes, r.exceptions);
  r.bytes.insert(r.bytes.end(), exc.begin(), exc.end());
  encode_symbols(symbols, r.bytes);
  if (rel) encode_symbols(signs, r.bytes);
  return r;
}

// Reads one block of n values from `in` (advancing it) and returns x^.
template <class Predict>
std::vector<double> decode_block(rans::reader& in, std::size_t n, const value_code& code,
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

  static constant_predictor fit(const double* x, std::size_t n, const value_code& code) {
    std::vector<std::int64_t> k;
    k.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::int64_t c;
      if (x[i] != 0 && code.encode(x[i], c)) k.push_back(c);
    }
    if (k.empty()) return {};
    std::nth_element(k.begin(), k.begin() + k.size() / 2, k.end());
    return {k[k.size() / 2]};
  }
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
