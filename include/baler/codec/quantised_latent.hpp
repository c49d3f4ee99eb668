#pragma once
// A latent space stored quantised and entropy coded (latent dtype "q"). A decoder rarely needs
// the 11 significant bits of f16: its output moves by less than its own error long before
// that. So each latent column goes on a grid of its own, steps of about 2 E x its range
// (value_code, error_bound.hpp), and the columns are coded as a table by the error-bounded
// compressor (bounded/compressor.hpp): a column's histogram, the row before (the tile to the
// west), a formula or a relation over the columns before it, whichever codes smallest. The
// table goes into a container of its own (header: each column's code and predictor), which is
// the LATN section.
//
//   the LATN section   a container (format/container.hpp) of the latent table: rows x cols,
//                      columns z0 .. z(cols - 1), each bounded by range:E (abs E x its range),
//                      or a constant column
//
// E is the encoder's choice; the codec takes the coarsest of 2^-4 ... 2^-12 that raises the
// reconstruction's mean squared error by at most 1 % (codec.hpp). The decoder needs only the
// container.
#include <cmath>
#include <string>
#include <vector>

#include "baler/bounded/compressor.hpp"
#include "baler/codec/schema.hpp"
#include "baler/format/container.hpp"

namespace baler::codec {

// The bounds E tried for a latent, coarsest first: range:2^-e.
constexpr int coarsest_latent_exponent = 4, finest_latent_exponent = 12;
// How much a quantised latent may raise the reconstruction's mean squared error.
constexpr double latent_mse_allowance = 0.01;

namespace detail {

// The latent (rows x cols, row-major) as a table of columns z0, z1, ...; every column that is
// not constant is "modelled", which the error-bounded compressor bounds.
inline table latent_table(const std::vector<float>& z, std::size_t rows, std::size_t cols, model_schema& s) {
  table t;
  t.rows = rows, t.cols = cols, t.shape = {rows, cols}, t.type = dtype::f32;
  t.values.assign(z.begin(), z.end());
  for (std::size_t c = 0; c < cols; ++c) t.names.push_back("z" + std::to_string(c));
  s.names = t.names;
  s.integer.assign(cols, false);
  for (std::size_t c = 0; c < cols; ++c) {
    const column_stats st = analyse(t.values.data(), rows, cols, c, 0);
    require(st.finite, "encode_quantised_latent",
            "latent column " + std::to_string(c) + " holds NaN or Inf: the model diverged (try a lower --lr)");
    if (st.min < st.max) s.modelled.push_back(c), s.normalisers.emplace_back();
  }
  return t;
}

}  // namespace detail

// z quantised as encode_quantised_latent(z, rows, cols, E) stores it, without coding: what the
// decoder will get. For choosing E.
inline std::vector<float> quantised_latent(const std::vector<float>& z, std::size_t rows, std::size_t cols,
                                           double bound) {
  std::vector<float> out(z.size());
  std::vector<double> x(rows);
  for (std::size_t c = 0; c < cols; ++c) {
    for (std::size_t r = 0; r < rows; ++r) x[r] = z[r * cols + c];
    const auto [lo, hi] = finite_range(x.data(), rows);
    const value_code code = code_for({bound_kind::range, bound}, lo, hi, false);
    const std::vector<double> v =
        lo < hi ? bounded::reconstruct(x.data(), bounded::quantise(x.data(), rows, code, dtype::f32), code) : x;
    for (std::size_t r = 0; r < rows; ++r) out[r * cols + c] = float(v[r]);
  }
  return out;
}

// The LATN section of latent z (rows x cols), each column within `bound` times its range.
inline std::vector<std::byte> encode_quantised_latent(const std::vector<float>& z, std::size_t rows,
                                                      std::size_t cols, double bound) {
  model_schema s;
  const table t = detail::latent_table(z, rows, cols, s);
  format::container c;
  c.header["kind"] = "baler.latent";
  bound_config b;
  b.all = {bound_kind::range, bound};
  bounded::write(c, t, false, s, b, nullptr, nullptr);
  return format::serialize(c, format::compression_policy::none());
}

// The latent (rows x cols) from its LATN section.
inline std::vector<float> decode_quantised_latent(byte_view bytes, std::size_t rows, std::size_t cols) {
  const char* where = "decode_quantised_latent";
  const format::container c = format::parse(bytes);
  require(c.header.value("kind", "") == "baler.latent", where, "the LATN section is not a quantised latent");
  const nlohmann::json& columns = c.header.at("columns");
  require(columns.is_array() && columns.size() == cols, where,
          "the quantised latent does not have the " + std::to_string(cols) + " columns of the model's latent");
  table t;
  t.rows = rows, t.cols = cols, t.shape = {rows, cols}, t.type = dtype::f32;
  t.values.assign(rows * cols, 0.0);
  for (std::size_t c = 0; c < cols; ++c) t.names.push_back("z" + std::to_string(c));
  bounded::read(c, t);
  for (std::size_t col = 0; col < cols; ++col) {
    const nlohmann::json& j = columns[col];
    if (j.at("treatment") == "bounded") continue;
    require(j.at("treatment") == "constant", where, "latent column " + std::to_string(col) + " is neither bounded nor constant");
    const double v = j.at("value").get<double>();
    for (std::size_t r = 0; r < rows; ++r) t.values[r * cols + col] = v;
  }
  return std::vector<float>(t.values.begin(), t.values.end());
}

}  // namespace baler::codec
