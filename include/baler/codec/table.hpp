#pragma once
// A dataset seen as a table: the leading axis is the sample axis (rows), everything after it
// is flattened into columns. A CFD animation of 60 x 50 x 50 is 60 rows of 2,500 columns, as
// Baler's dense CFD model sees it. Column names come from the dataset or are made up.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/io/dataset.hpp"
#include "baler/io/wide_integers.hpp"

namespace baler::codec {

struct table {
  std::size_t rows = 0, cols = 0;
  std::vector<double> values;  // row-major (rows x cols)
  std::vector<std::string> names;
  std::vector<std::size_t> shape;  // of the original array
  dtype type = dtype::f64;         // of the original array
  bool field = false;  // one grid under one bound (is_field), decided once by as_table
  std::vector<dtype> column_types;  // of each column, where they differ (dataset::column_types)
  // Where int64 or uint64 values have no float64 equal: the offsets `values` are relative to
  // (wide_integers.hpp), one per column of a table, one for a field. Empty: none.
  std::vector<std::uint64_t> offsets;
  // Per column, whether its values index text labels or are times (dataset::labels, times),
  // which must come back exactly; empty: none does.
  std::vector<bool> labelled;

  // The dtype column c is returned in, which its bound is checked on.
  dtype type_of(std::size_t c) const { return column_types.empty() ? type : column_types[c]; }
  // The offset of value i (row-major), or none.
  const std::uint64_t* offset_of(std::size_t i) const {
    return offsets.empty() ? nullptr : &offsets[offsets.size() == 1 ? 0 : i % cols];
  }
  // Value i as the data's own (rounded to a double where it is held less an offset).
  double absolute(std::size_t i) const {
    const dtype t = type_of(i % cols);
    return offsets.empty() || !wide_integer(t) ? values[i] : rebased(values[i], t, offset_of(i), nullptr);
  }
};

// Rows [first, first + count) of an array; the slice is contiguous in C order.
inline ndarray row_slice(const ndarray& a, std::size_t first, std::size_t count) {
  std::vector<std::size_t> shape = a.shape;
  const std::size_t row_bytes = a.nbytes() / std::max<std::size_t>(a.shape.at(0), 1);
  shape[0] = count;
  const auto begin = a.bytes.begin() + std::ptrdiff_t(first * row_bytes);
  return {a.type, shape, std::vector<std::byte>(begin, begin + std::ptrdiff_t(count * row_bytes))};
}

// What is a field and what is a table, for the codec, the error bounds, metrics and plots:
// arrays of 3 or more axes are fields, coded (and bounded) as one array, and so is a 2-D array
// without column names (an image) unless it is at least `table_aspect` times taller than wide,
// as a table of events or samples is (200,000 x 9), or its values show it is a table
// (looks_like_a_table: 300 events of 26 quantities). Everything else is a table of columns with
// their own ranges. Taking a field for a table only tightens its bounds; taking a table for a
// field would bound its small columns by the range of its largest.
constexpr std::size_t table_aspect = 16;
// By the shape alone: whether the array may be a field.
inline bool is_field(const std::vector<std::size_t>& shape, bool has_names) {
  return shape.size() >= 3 || (shape.size() == 2 && !has_names && shape[0] / table_aspect < shape[1]);
}

// What looks_like_a_table reads of a rows x cols array: up to layout_rows rows spread evenly,
// and their first layout_columns columns (a few milliseconds, however large the array).
constexpr std::size_t layout_rows = 256, layout_columns = 256;
// Where one range would bound a table's narrow columns by its wide ones: columns whose spreads
// (median absolute deviations) are this far apart.
constexpr double table_spreads_apart = 10;
// Neighbouring columns, each less its median and over its spread, that differ by more than this
// (the median over rows and neighbours) do not vary together: independent columns differ by
// 1.41 whatever their distributions, normal ones of correlation rho by 1.41 sqrt(1 - rho).
constexpr double table_neighbour_difference = 1;

// Whether a 2-D array its shape may take for an image is a table: its columns' spreads are more
// than table_spreads_apart apart (momenta beside angles, a measured column beside 0/1 flags)
// and its neighbouring columns do not vary together (table_neighbour_difference, over the rows
// where one of the two is off its centre: two flags both unset say nothing). Images pass
// (0.02-0.3 between neighbours, a 1e20 fill and sparse spots on zeros too; a slice of a
// lognormal field 0.72, a 0/1 mask of small spots 0.1-0.9), short HEP tables and flag tables
// do not (1.1-1.5 and 2.4-4.3, their spreads 100 to 1e7 apart). An image of a few levels,
// mostly at one (the vorticity in 8 levels), reads as a table: its bounds are only tighter.
// Medians, so that a fill value does not decide; non-finite values skipped. Rows come from
// rows_of(first, count), an ndarray.
template <class RowsOf>
bool looks_like_a_table(std::size_t rows, std::size_t cols, RowsOf&& rows_of) {
  const std::size_t taken = std::min(rows, layout_rows), seen = std::min(cols, layout_columns);
  if (taken < 2 || seen < 2) return false;
  auto median = [](std::vector<double>& v) {
    std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  std::vector<double> x;  // taken x seen
  x.reserve(taken * seen);
  for (std::size_t i = 0; i < taken; ++i) {
    const std::vector<double> row = rows_of(i * (rows - 1) / (taken - 1), std::size_t(1)).to_doubles();
    x.insert(x.end(), row.begin(), row.begin() + std::ptrdiff_t(seen));
  }
  std::vector<double> centre(seen, 0.0), spread(seen, 0.0), v;
  double widest = 0, narrowest = INFINITY;  // of the spreads that are not 0
  for (std::size_t c = 0; c < seen; ++c) {
    v.clear();
    for (std::size_t i = 0; i < taken; ++i)
      if (std::isfinite(x[i * seen + c])) v.push_back(x[i * seen + c]);
    if (v.empty()) continue;
    centre[c] = median(v);
    for (double& d : v) d = std::abs(d - centre[c]);
    spread[c] = median(v);
    // A column at one value in most rows (flags, small counts) has no median spread: its mean
    // departure from that value instead.
    if (spread[c] == 0) spread[c] = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    if (spread[c] > 0) widest = std::max(widest, spread[c]), narrowest = std::min(narrowest, spread[c]);
  }
  if (!(widest > table_spreads_apart * narrowest)) return false;
  v.clear();  // |z[i][c + 1] - z[i][c]|, z = (x - centre) / spread, where either is off its centre
  for (std::size_t i = 0; i < taken; ++i)
    for (std::size_t c = 0; c + 1 < seen; ++c) {
      const double a = x[i * seen + c], b = x[i * seen + c + 1];
      if (spread[c] > 0 && spread[c + 1] > 0 && std::isfinite(a) && std::isfinite(b) &&
          (a != centre[c] || b != centre[c + 1]))
        v.push_back(std::abs((b - centre[c + 1]) / spread[c + 1] - (a - centre[c]) / spread[c]));
    }
  return !v.empty() && median(v) > table_neighbour_difference;
}

// By the shape and, for a 2-D array the shape may take for a field, the values.
template <class RowsOf>
bool is_field(const std::vector<std::size_t>& shape, bool has_names, RowsOf&& rows_of) {
  return is_field(shape, has_names) && (shape.size() != 2 || !looks_like_a_table(shape[0], shape[1], rows_of));
}
inline bool is_field(const dataset& d) {
  if (d.field) return *d.field;
  return is_field(d.data.shape, !d.names.empty(),
                  [&d](std::size_t first, std::size_t count) { return row_slice(d.data, first, count); });
}

// The names of the `cols` columns of an array of `shape`: `names` when there is one for each,
// else made up (col0, col1, ...; f0, f1, ... for the flattened cells of a 3+-D array).
inline std::vector<std::string> column_names(const std::vector<std::size_t>& shape, std::size_t cols,
                                             const std::vector<std::string>& names) {
  if (names.size() == cols) return names;
  const char* prefix = shape.size() > 2 ? "f" : "col";
  std::vector<std::string> made;
  for (std::size_t c = 0; c < cols; ++c) made.push_back(prefix + std::to_string(c));
  return made;
}

// The names of a compressed file's `cols` columns, from its header's input (shape and names).
// Files before format version 6 repeat them in each entry of "columns", which still counts.
inline std::vector<std::string> column_names(const nlohmann::json& header, std::size_t cols) {
  const nlohmann::json& in = header.at("input");
  std::vector<std::string> names =
      column_names(in.at("shape").get<std::vector<std::size_t>>(), cols, in.at("names").get<std::vector<std::string>>());
  const nlohmann::json& columns = header.at("columns");
  for (std::size_t c = 0; c < cols && c < columns.size(); ++c)
    if (columns[c].contains("name")) names[c] = columns[c]["name"].get<std::string>();
  return names;
}

// t's values (and their offsets) read from d, as t.field groups them.
inline void read_values(table& t, const dataset& d, const char* where) {
  offset_doubles v = to_offset_doubles(d.data, t.field ? 1 : t.cols, where);
  t.values = std::move(v.values);
  t.offsets = d.column_offsets.empty() ? std::move(v.offsets) : d.column_offsets;
}

// d as a table, its layout decided here (is_field: on its values where d.field is unset).
// `with_values`: false leaves t.values empty (what only needs the shape, the names and the
// layout; read_values adds them).
inline table as_table(const dataset& d, const char* where, bool with_values = true) {
  require(!d.data.shape.empty(), where, "a 0-dimensional array is not a table or a field");
  table t;
  t.shape = d.data.shape;
  t.type = d.data.type;
  t.rows = d.data.shape[0];
  t.cols = 1;
  for (std::size_t i = 1; i < d.data.shape.size(); ++i) t.cols *= d.data.shape[i];
  require(t.rows > 0 && t.cols > 0, where,
          "the array is empty (shape " + shape_string(d.data.shape) + ")");
  t.field = is_field(d);
  if (t.field && (!d.labels.empty() || !d.times.empty()))
    throw error(std::string(where) + "(): a field holds numbers only, and the column(s) " + labelled_columns(d) +
                " hold text: compress it as a table (--layout table)");
  if (!d.labels.empty() || !d.times.empty()) {
    require(d.labels.empty() || d.labels.size() == t.cols, where,
            std::to_string(d.labels.size()) + " columns of labels for " + std::to_string(t.cols) + " columns");
    require(d.times.empty() || d.times.size() == t.cols, where,
            std::to_string(d.times.size()) + " columns of times for " + std::to_string(t.cols) + " columns");
    for (std::size_t c = 0; c < t.cols; ++c)
      t.labelled.push_back((!d.labels.empty() && !d.labels[c].empty()) || (!d.times.empty() && !d.times[c].empty()));
  }
  if (with_values) read_values(t, d, where);
  t.names = column_names(d.data.shape, t.cols, d.names);
  require(d.column_types.empty() ||
              (d.data.ndim() == 2 && d.data.type == dtype::f64 && d.column_types.size() == t.cols),
          where, std::to_string(d.column_types.size()) + " column dtypes for " + dtype_name(d.data.type) + " data of shape " +
                     shape_string(d.data.shape) + " (columns of their own dtypes are held as float64)");
  t.column_types = d.column_types;
  return t;
}

// b's values relative to a's offsets, as a's are, so that the two compare value by value (the
// bounds, metrics and plots of a reconstruction against its original). Their shapes and dtypes
// must agree.
inline void align_offsets(table& b, const table& a) {
  if (a.offsets.empty() && b.offsets.empty()) return;
  require(a.values.size() == b.values.size() && a.cols == b.cols && a.type == b.type && a.column_types == b.column_types,
          "align_offsets", "the two arrays differ in shape or dtype");
  for (std::size_t i = 0; i < b.values.size(); ++i)
    if (const dtype t = b.type_of(i % b.cols); wide_integer(t)) b.values[i] = rebased(b.values[i], t, b.offset_of(i), a.offset_of(i));
  b.offsets = a.offsets;
}

}  // namespace baler::codec
