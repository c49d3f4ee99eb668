#pragma once
// A column of text (particle types, trigger names) as a table holds it: the column's distinct
// cells sorted byte-wise, its labels, and per cell the index of its label, a whole number the
// codecs keep exactly. Written back, each value is the label it indexes.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "baler/core/error.hpp"

namespace baler {

struct labelled_column {
  std::vector<std::string> labels;  // sorted, distinct
  std::vector<double> codes;        // per cell, the index of its label
};

inline labelled_column label_cells(const std::vector<std::string>& cells) {
  labelled_column l{cells, {}};
  std::sort(l.labels.begin(), l.labels.end());
  l.labels.erase(std::unique(l.labels.begin(), l.labels.end()), l.labels.end());
  l.codes.reserve(cells.size());
  for (const std::string& s : cells)
    l.codes.push_back(double(std::lower_bound(l.labels.begin(), l.labels.end(), s) - l.labels.begin()));
  return l;
}

// The label v indexes, v being row `row` of column `column` (from 0, for the message): an error
// where it indexes none, as a crafted file's value may.
inline const std::string& label_at(const std::vector<std::string>& labels, double v, const char* where, std::size_t row,
                                   std::size_t column) {
  if (!(v >= 0 && v < double(labels.size()) && v == std::floor(v)))
    throw error(std::string(where) + "(): row " + std::to_string(row) + " of column " + std::to_string(column + 1) +
                " holds " + std::to_string(v) + ", not the index of one of its " + std::to_string(labels.size()) +
                " labels");
  return labels[std::size_t(v)];
}

// The text of each row of column `column` (from 0, for messages), whose values index `labels`.
inline std::vector<std::string> cells_of(const std::vector<std::string>& labels, const std::vector<double>& values,
                                         const char* where, std::size_t column) {
  std::vector<std::string> cells;
  cells.reserve(values.size());
  for (std::size_t r = 0; r < values.size(); ++r) cells.push_back(label_at(labels, values[r], where, r, column));
  return cells;
}

}  // namespace baler
