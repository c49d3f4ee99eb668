#pragma once
// A table as its columns, each 1-D array in its own dtype, and the same rows as packed records
// (a numpy structured array without padding, an HDF5 compound): what the writers of tables
// whose columns have different dtypes share.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/io/wide_integers.hpp"

namespace baler {

// The columns of a (rows x cols) table, column c in types[c] (all in the table's dtype when
// `types` is empty); values converted as ndarray::from_doubles does, exact where the table's
// values are values of the column's dtype (less offsets[c], where there are offsets).
inline std::vector<ndarray> split_columns(const ndarray& table, const std::vector<dtype>& types = {},
                                          const std::vector<std::uint64_t>& offsets = {}) {
  constexpr const char* where = "split_columns";
  table.check_consistent(where);
  require(table.ndim() == 2, where, "a table is a 2-d array, not one of shape " + shape_string(table.shape));
  const std::size_t rows = table.shape[0], cols = table.shape[1];
  require(types.empty() || types.size() == cols, where,
          std::to_string(types.size()) + " column dtypes for " + std::to_string(cols) + " columns");
  if (!offsets.empty() && !(offsets.size() == cols && table.type == dtype::f64 && !types.empty()))
    throw error(std::string(where) + "(): " + std::to_string(offsets.size()) + " offsets for " + std::to_string(cols) +
                " columns of their own dtypes");
  std::vector<ndarray> columns;
  if (types.empty() || std::all_of(types.begin(), types.end(), [&](dtype t) { return t == table.type; })) {
    const std::size_t size = dtype_size(table.type);
    for (std::size_t c = 0; c < cols; ++c) {
      ndarray& column = columns.emplace_back(ndarray::zeros(table.type, {rows}));
      for (std::size_t r = 0; r < rows; ++r)
        std::memcpy(column.bytes.data() + r * size, table.bytes.data() + (r * cols + c) * size, size);
    }
    return columns;
  }
  const std::vector<double> values = table.to_doubles();
  std::vector<double> v(rows);
  for (std::size_t c = 0; c < cols; ++c) {
    for (std::size_t r = 0; r < rows; ++r) v[r] = values[r * cols + c];
    const bool offset = !offsets.empty() && wide_integer(types[c]);
    columns.push_back(offset ? from_offset_doubles(v, {rows}, types[c], {offsets[c]})
                             : ndarray::from_doubles(v, {rows}, types[c]));
  }
  return columns;
}

// Rows as records: record r holds field f's item at byte r * size + offsets[f].
struct packed_records {
  std::vector<std::size_t> offsets;
  std::size_t size = 0;  // bytes per record
  std::vector<std::byte> bytes;
};

// One field of `rows` records: `size` bytes per row, the rows one after another from `items`.
struct record_field {
  std::size_t size;
  const std::byte* items;
};
inline packed_records pack_fields(const std::vector<record_field>& fields, std::size_t rows) {
  require(!fields.empty(), "pack_fields", "records need at least one field");
  packed_records p;
  for (const record_field& f : fields) p.offsets.push_back(p.size), p.size += f.size;
  p.bytes.resize(rows * p.size);
  for (std::size_t f = 0; f < fields.size(); ++f)
    for (std::size_t r = 0; r < rows; ++r)
      std::memcpy(p.bytes.data() + r * p.size + p.offsets[f], fields[f].items + r * fields[f].size, fields[f].size);
  return p;
}

// 1-D columns of one length, each a field in its dtype.
inline void check_record_columns(const std::vector<ndarray>& columns, const char* where) {
  require(!columns.empty(), where, "records need at least one column");
  for (const ndarray& c : columns) {
    c.check_consistent(where);
    require(c.ndim() == 1 && c.shape[0] == columns[0].shape[0], where, "the columns must be 1-D arrays of one length");
  }
}
inline packed_records pack_records(const std::vector<ndarray>& columns) {
  check_record_columns(columns, "pack_records");
  std::vector<record_field> fields;
  for (const ndarray& c : columns) fields.push_back({dtype_size(c.type), c.bytes.data()});
  return pack_fields(fields, columns[0].shape[0]);
}

}  // namespace baler
