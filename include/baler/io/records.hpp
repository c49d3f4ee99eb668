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

// Rows of 1-D columns of one length as records: record r holds column c's value at byte
// r * size + offsets[c], in the column's dtype.
struct packed_records {
  std::vector<std::size_t> offsets;
  std::size_t size = 0;  // bytes per record
  std::vector<std::byte> bytes;
};
inline packed_records pack_records(const std::vector<ndarray>& columns) {
  constexpr const char* where = "pack_records";
  require(!columns.empty(), where, "records need at least one column");
  packed_records p;
  for (const ndarray& c : columns) {
    c.check_consistent(where);
    require(c.ndim() == 1 && c.shape[0] == columns[0].shape[0], where, "the columns must be 1-D arrays of one length");
    p.offsets.push_back(p.size);
    p.size += dtype_size(c.type);
  }
  const std::size_t rows = columns[0].shape[0];
  p.bytes.resize(rows * p.size);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const std::size_t size = dtype_size(columns[c].type);
    for (std::size_t r = 0; r < rows; ++r)
      std::memcpy(p.bytes.data() + r * p.size + p.offsets[c], columns[c].bytes.data() + r * size, size);
  }
  return p;
}

}  // namespace baler
