#pragma once
// Which columns of a table are learned (or, in the error-bounded mode, bounded), which are
// rounded integers, and how each learned column is normalised; decided once from the data and
// the options, stored in model files and in the headers of compressed files.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/codec/columns.hpp"
#include "baler/codec/exact_columns.hpp"
#include "baler/codec/options.hpp"
#include "baler/codec/table.hpp"
#include "baler/format/container.hpp"

namespace baler::codec {

struct model_schema {
  std::vector<std::string> names;      // every column of the training data
  std::vector<std::size_t> modelled;   // the model's columns, as indices into names
  std::vector<normaliser> normalisers;  // one per modelled column
  std::vector<bool> integer;           // per column: rounded on the way back
  // Per column (or empty): the error-bounded mode bounds it though the model does not learn it,
  // for it holds NaN or Inf (those values are stored exactly). Decided for the data at hand by
  // plan_training, not stored.
  std::vector<bool> non_finite;
  // The convolutional architecture's tiles (plan_field): every column modelled with one
  // normaliser, stored once (a frame has thousands of columns).
  bool field = false;
  // Values in such a frame or block at most (4096 x 4096): a file's number allocates no more.
  static constexpr std::size_t max_field = std::size_t(1) << 24;

  bool is_modelled(std::size_t c) const {
    return std::find(modelled.begin(), modelled.end(), c) != modelled.end();
  }
  nlohmann::json to_json() const {
    if (field) return {{"field", names.size()}, {"normaliser", normalisers.at(0).to_json()}};
    nlohmann::json norms = nlohmann::json::array();
    for (const auto& n : normalisers) norms.push_back(n.to_json());
    return {{"names", names}, {"modelled", modelled}, {"normalisers", norms}, {"integer", integer}};
  }
  static model_schema from_json(const nlohmann::json& j) {
    if (j.contains("field")) {
      const std::size_t n = format::header_size(j.at("field"), "a conv model's frame size");
      require(n > 0 && n <= max_field, "model_schema",
              "a conv model's frame must hold 1 to 2^24 values, the file says " + std::to_string(n));
      return field_schema(n, normaliser::from_json(j.at("normaliser")));
    }
    model_schema s;
    s.names = j.at("names").get<std::vector<std::string>>();
    s.modelled = format::header_sizes(j.at("modelled"), "the modelled columns");
    for (const auto& n : j.at("normalisers")) s.normalisers.push_back(normaliser::from_json(n));
    s.integer = j.at("integer").get<std::vector<bool>>();
    require(s.normalisers.size() == s.modelled.size() && s.integer.size() == s.names.size(),
            "model_schema", "inconsistent column description");
    for (std::size_t k = 0; k < s.modelled.size(); ++k)
      require(s.modelled[k] < s.names.size() && (k == 0 || s.modelled[k] > s.modelled[k - 1]),
              "model_schema", "modelled column indices must be increasing and in range");
    return s;
  }
  // Columns tile0 .. tile(n-1) (tile_table's names), all modelled with `norm`.
  static model_schema field_schema(std::size_t n, const normaliser& norm) {
    model_schema s;
    s.field = true;
    for (std::size_t c = 0; c < n; ++c) s.names.push_back("tile" + std::to_string(c));
    s.modelled.resize(n);
    for (std::size_t c = 0; c < n; ++c) s.modelled[c] = c;
    s.normalisers.assign(n, norm);
    s.integer.assign(n, false);
    return s;
  }
};

inline std::string first_non_finite(const table& t, std::size_t col, const char* where) {
  for (std::size_t r = 0; r < t.rows; ++r) {
    const double v = t.values[r * t.cols + col];
    if (!std::isfinite(v))
      return std::string(where) + "(): column '" + t.names[col] + "' holds " +
             (std::isnan(v) ? "NaN" : "Inf") + " at row " + std::to_string(r) +
             "; clean the data, allow_non_finite (--allow-non-finite) to store such columns "
             "exactly, or give an error bound (such values are then stored exactly, the others within it)";
  }
  return {};
}

// Decides which columns the model learns, and fits their normalisation (see columns.hpp).
inline model_schema plan_training(const table& t, const codec_options& o) {
  const char* where = "Codec::train";
  auto index_of = [&](const std::string& name) {
    const auto it = std::find(t.names.begin(), t.names.end(), name);
    require(it != t.names.end(), where, "no column named '" + name + "'");
    return std::size_t(it - t.names.begin());
  };
  std::vector<bool> lossless(t.cols, false), integer(t.cols, false), log(t.cols, false);
  for (const auto& n : o.lossless_columns) lossless[index_of(n)] = true;
  for (std::size_t c = 0; c < t.labelled.size(); ++c) lossless[c] = lossless[c] || t.labelled[c];  // labels' indices
  for (const auto& n : o.integer_columns) integer[index_of(n)] = true;
  const bool auto_log = o.log_columns == "auto";
  if (!auto_log && o.log_columns != "none") {
    std::size_t start = 0;
    while (start <= o.log_columns.size()) {
      const std::size_t end = std::min(o.log_columns.find(',', start), o.log_columns.size());
      if (end > start) log[index_of(o.log_columns.substr(start, end - start))] = true;
      start = end + 1;
    }
  }

  model_schema s;
  s.names = t.names;
  s.integer.assign(t.cols, false);
  s.non_finite.assign(t.cols, false);
  for (std::size_t c = 0; c < t.cols; ++c) {
    const column_stats st = analyse(t.values.data(), t.rows, t.cols, c, o.lossless_max_distinct);
    if (!st.finite && !lossless[c]) {
      if (o.error_bound.enabled()) {
        s.non_finite[c] = true;  // bounded, not learnt
        continue;
      }
      require(o.allow_non_finite, where, first_non_finite(t, c, where).substr(std::strlen(where) + 4));
      continue;  // stored exactly
    }
    if (lossless[c] || st.min == st.max) continue;
    if (st.integral && st.distinct <= o.lossless_max_distinct) continue;  // few values: exact
    require(!log[c] || st.min > 0, where,
            "column '" + t.names[c] + "' has values <= 0 and cannot be log-transformed");
    s.modelled.push_back(c);
    // Integers are rounded (and under a bound kept exact); whole numbers past 2^53 are floats
    // like any other (is_whole), bounded as such.
    s.integer[c] = (st.integral && is_whole(st.min) && is_whole(st.max)) || integer[c];
    s.normalisers.push_back(normaliser::fit(st, o.normalisation, log[c] || (auto_log && st.log_helps)));
  }
  return s;
}

// The convolutional architecture's schema for tiles `t` (tile_table): a convolution treats every
// position alike, so every column is modelled, with one normaliser fitted on all values.
inline model_schema plan_field(const table& t, const codec_options& o) {
  const column_stats st = analyse(t.values.data(), t.rows * t.cols, 1, 0, 0);  // all as one
  require(st.finite, "Codec::train",
          "the conv architecture needs finite values: the field holds NaN or Inf");
  return model_schema::field_schema(t.cols, normaliser::fit(st, o.normalisation, false));
}

// A schema that learns no column: every column's name, nothing modelled, nothing rounded.
inline model_schema unplanned(const table& t) {
  model_schema s;
  s.names = t.names;
  s.integer.assign(t.cols, false);
  return s;
}

// The header entry of column `col`: a constant or lossless column is stored here (its exact
// bytes appended to `exact`); a modelled one gets treatment "model" and is left to the caller.
inline nlohmann::json column_entry(const table& t, std::size_t col, const model_schema& s,
                                   std::vector<std::byte>& exact) {
  const column_stats st = analyse(t.values.data(), t.rows, t.cols, col, 0);
  nlohmann::json j = {{"min", st.min}, {"max", st.max}};  // its name is the input's (column_names)
  if (s.is_modelled(col)) {
    if (!st.finite) throw error(first_non_finite(t, col, "Codec::compress"));
    j["treatment"] = "model";
  } else if (st.finite && st.min == st.max) {
    j["treatment"] = "constant";
    j["value"] = st.min;
  } else {
    const std::string enc = exact_encoding(st.finite && st.integral, st.min, st.max);
    append_exact(exact, t.values, t.rows, t.cols, col, enc);
    j["treatment"] = "lossless";
    j["encoding"] = enc;
  }
  return j;
}

}  // namespace baler::codec
