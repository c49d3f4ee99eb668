#pragma once
// Values stored quantised and entropy coded (dtype "q"): a latent space, and an embedded
// decoder's weights. A decoder rarely needs the 11 significant bits of f16, in its input or in
// its weights: its output moves by less than its own error long before that. So each column of
// values goes on a grid of its own, steps of about 2 E x its range (value_code,
// error_bound.hpp), and the columns are coded as a table by the error-bounded compressor
// (bounded/compressor.hpp): a column's histogram, the row before (the tile to the west), a
// formula or a relation over the columns before it, whichever codes smallest. The table goes
// into a container of its own, which is the LATN or DECW section.
//
//   container header   "kind": "baler.quantised", "shape": [rows, cols], and the error-bounded
//                      table's "columns" (z0 .. z(cols - 1), each bounded by range:E, or
//                      constant) and "error_bound"
//   sections           the table's (RESQ)
//
// A latent is rows x latent columns; a decoder's weights (parameters, then state) one column.
// E is the encoder's choice: the codec takes the coarsest of 2^-4 ... 2^-12 that raises the
// reconstruction's mean squared error by at most 1 % (codec.hpp). The decoder needs only the
// container.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "baler/bounded/compressor.hpp"
#include "baler/codec/schema.hpp"
#include "baler/format/container.hpp"

namespace baler::codec {

// The bounds E tried, coarsest first: range:2^-e.
constexpr int coarsest_quantisation_exponent = 4, finest_quantisation_exponent = 12;
// How much quantising a latent, or a decoder's weights, may raise the reconstruction's mean
// squared error.
constexpr double quantisation_mse_allowance = 0.01;

namespace detail {

inline table quantised_table(std::size_t rows, std::size_t cols) {
  table t;
  t.rows = rows, t.cols = cols, t.shape = {rows, cols}, t.type = dtype::f32;
  for (std::size_t c = 0; c < cols; ++c) t.names.push_back("z" + std::to_string(c));
  return t;
}

}  // namespace detail

// The finite range of each column of v (rows x cols, row-major): what encode_quantised scales
// each column's bound by.
inline std::vector<std::pair<double, double>> value_ranges(const std::vector<float>& v, std::size_t rows,
                                                            std::size_t cols) {
  std::vector<std::pair<double, double>> ranges;
  std::vector<double> x(rows);
  for (std::size_t c = 0; c < cols; ++c) {
    for (std::size_t r = 0; r < rows; ++r) x[r] = v[r * cols + c];
    ranges.push_back(finite_range(x.data(), rows));
  }
  return ranges;
}

// Rows of v (rows x cols, row-major) as encode_quantised(all rows, ..., E) stores them, without
// coding: what the decoder will get. `ranges`: value_ranges of all the rows. For choosing E.
inline std::vector<float> quantised_values(const std::vector<float>& v, std::size_t rows, std::size_t cols,
                                           double bound, const std::vector<std::pair<double, double>>& ranges) {
  std::vector<float> out(v.size());
  std::vector<double> x(rows);
  for (std::size_t c = 0; c < cols; ++c) {
    for (std::size_t r = 0; r < rows; ++r) x[r] = v[r * cols + c];
    const auto [lo, hi] = ranges[c];
    const value_code code = code_for({bound_kind::range, bound}, lo, hi, false);
    const std::vector<double> y =
        lo < hi ? bounded::reconstruct(x.data(), bounded::quantise(x.data(), rows, code, dtype::f32), code) : x;
    for (std::size_t r = 0; r < rows; ++r) out[r * cols + c] = float(y[r]);
  }
  return out;
}

// The section holding v (rows x cols), each column within `bound` times its range. Every
// column that is not constant is "modelled", which the error-bounded compressor bounds.
inline std::vector<std::byte> encode_quantised(const std::vector<float>& v, std::size_t rows, std::size_t cols,
                                               double bound) {
  table t = detail::quantised_table(rows, cols);
  t.values.assign(v.begin(), v.end());
  model_schema s;
  s.names = t.names;
  s.integer.assign(cols, false);
  for (std::size_t c = 0; c < cols; ++c) {
    const column_stats st = analyse(t.values.data(), rows, cols, c, 0);
    require(st.finite, "encode_quantised",
            "column " + std::to_string(c) + " of a latent or of decoder weights holds NaN or Inf: the model "
            "diverged (try a lower --lr)");
    if (st.min < st.max) s.modelled.push_back(c), s.normalisers.emplace_back();
  }
  format::container c;
  c.header["kind"] = "baler.quantised";
  c.header["shape"] = {rows, cols};
  bound_config b;
  b.all = {bound_kind::range, bound};
  bounded::write(c, t, false, s, b, nullptr, nullptr);
  return format::serialize(c, format::compression_policy::none());
}

// The values (rows x cols) of a section written by encode_quantised.
inline std::vector<float> decode_quantised(byte_view bytes, std::size_t rows, std::size_t cols) {
  const char* where = "decode_quantised";
  const format::container c = format::parse(bytes);
  require(c.header.value("kind", "") == "baler.quantised", where, "the section does not hold quantised values");
  require(c.header.value("shape", nlohmann::json()) == nlohmann::json{rows, cols}, where,
          "the quantised values are not the " + std::to_string(rows) + " x " + std::to_string(cols) +
              " the model needs");
  const nlohmann::json& columns = c.header.at("columns");
  require(columns.is_array() && columns.size() == cols, where, "the quantised values' columns are missing");
  table t = detail::quantised_table(rows, cols);
  t.values.assign(rows * cols, 0.0);
  bounded::read(c, t);
  for (std::size_t col = 0; col < cols; ++col) {
    const nlohmann::json& j = columns[col];
    if (j.at("treatment") == "bounded") continue;
    require(j.at("treatment") == "constant", where, "quantised column " + std::to_string(col) + " is neither bounded nor constant");
    const double v = j.at("value").get<double>();
    for (std::size_t r = 0; r < rows; ++r) t.values[r * cols + col] = v;
  }
  return std::vector<float>(t.values.begin(), t.values.end());
}

}  // namespace baler::codec
