#pragma once
// A dataset seen as a table: the leading axis is the sample axis (rows), everything after it
// is flattened into columns. A CFD animation of 60 x 50 x 50 is 60 rows of 2,500 columns, as
// Baler's dense CFD model sees it. Column names come from the dataset or are made up.
#include <string>
#include <vector>

#include "baler/io/dataset.hpp"

namespace baler::codec {

struct table {
  std::size_t rows = 0, cols = 0;
  std::vector<double> values;  // row-major (rows x cols)
  std::vector<std::string> names;
  std::vector<std::size_t> shape;  // of the original array
  dtype type = dtype::f64;         // of the original array
};

// What is a field and what is a table, for the codec, the error bounds, metrics and plots:
// arrays of 3 or more axes, and 2-D arrays without column names (an image), are fields, coded
// (and bounded) as one array; everything else is a table of columns with their own ranges.
inline bool is_field(const std::vector<std::size_t>& shape, bool has_names) {
  return shape.size() >= 3 || (shape.size() == 2 && !has_names);
}
inline bool is_field(const dataset& d) { return is_field(d.data.shape, !d.names.empty()); }

inline table as_table(const dataset& d, const char* where) {
  require(!d.data.shape.empty(), where, "a 0-dimensional array is not a table or a field");
  table t;
  t.shape = d.data.shape;
  t.type = d.data.type;
  t.rows = d.data.shape[0];
  t.cols = 1;
  for (std::size_t i = 1; i < d.data.shape.size(); ++i) t.cols *= d.data.shape[i];
  require(t.rows > 0 && t.cols > 0, where,
          "the array is empty (shape " + shape_string(d.data.shape) + ")");
  t.values = d.data.to_doubles();
  if (d.names.size() == t.cols) {
    t.names = d.names;
  } else {
    const char* prefix = d.data.shape.size() > 2 ? "f" : "col";
    for (std::size_t c = 0; c < t.cols; ++c) t.names.push_back(prefix + std::to_string(c));
  }
  return t;
}

}  // namespace baler::codec
