#pragma once
// Comma-separated tables with one header line of column names, the format HEP and CFD users
// export from ROOT, pandas or spreadsheets. Reading follows RFC 4180 (quoted fields with ""
// escapes, CRLF or LF) and tolerates what those tools add: a UTF-8 byte order mark, blank
// lines, numpy.savetxt's "# " before the header, and cells separated by semicolons (numbers then
// with a decimal comma or point, as spreadsheets in such locales write) or by tabs where the
// header line has no comma but those. A cell is a number, a boolean (True/False,
// as pandas and numpy write them, any case: read as 1 and 0) or empty: a missing value, read as
// NaN (as pandas writes NaN, and numpy.genfromtxt reads it). A column of text (particle types,
// trigger names: at least as many cells of text as numbers) is read as labels: each cell the
// index of its text among the column's sorted distinct cells, every cell kept as written; or,
// where every cell is a timestamp of one ISO 8601 layout (times.hpp), as times: whole numbers of
// its finest unit since 1970, written back as the same text. A text cell in a column of numbers
// is reported with its line and column, never read as 0.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/bytes.hpp"
#include "baler/io/labels.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/io/times.hpp"

namespace baler::csv {

namespace detail {

inline std::string trim(const std::string& s) {
  const std::size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The separator of a text's cells: ',' as RFC 4180 has it, else ';' or a tab where the first
// line that is not blank holds one of those outside quotes and no comma.
inline char separator_of(byte_view text) {
  const char* s = reinterpret_cast<const char*>(text.data);
  std::size_t commas = 0, semicolons = 0, tabs = 0;
  bool quoted = false, seen = false;  // seen: the line has more than spaces and tabs
  for (std::size_t i = 0; i < text.size; ++i) {
    const char c = s[i];
    if (c == '"') quoted = !quoted;
    if (quoted || c == '"') {
      seen = true;
      continue;
    }
    if (c == '\n' || c == '\r') {
      if (seen) break;
      commas = semicolons = tabs = 0;
      continue;
    }
    commas += c == ',';
    semicolons += c == ';';
    tabs += c == '\t';
    seen = seen || (c != ' ' && c != '\t');
  }
  return commas ? ',' : semicolons ? ';' : tabs ? '\t' : ',';
}

// Splits text into records of fields separated by `separator`, keeping the line number where
// each record starts. Unquoted fields are trimmed of spaces; quoted ones are kept exactly.
class record_reader {
 public:
  record_reader(byte_view text, char separator)
      : s_(reinterpret_cast<const char*>(text.data)), n_(text.size), separator_(separator) {
    if (n_ >= 3 && s_[0] == '\xEF' && s_[1] == '\xBB' && s_[2] == '\xBF') pos_ = 3;
  }

  // numpy.savetxt(header=...) writes the header as a comment, "# a,b,c": skips that '#'.
  void skip_comment_marker() {
    for (;
         pos_ < n_ && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r' || s_[pos_] == '\n');
         ++pos_)
      if (s_[pos_] == '\n') ++line_;
    if (pos_ < n_ && s_[pos_] == '#') ++pos_;
  }

  // The next non-blank record; false at the end of the text.
  bool next(std::vector<std::string>& fields, std::size_t& line) {
    for (;;) {
      if (pos_ >= n_) return false;
      line = line_;
      fields.clear();
      std::string field;
      bool quoted = false, quoted_any = false;
      const auto finish = [&] {
        fields.push_back(quoted ? field : trim(field));
        field.clear();
        quoted = false;
      };
      while (pos_ < n_ && s_[pos_] != '\n' && s_[pos_] != '\r') {
        const char c = s_[pos_++];
        if (c == separator_) {
          finish();
        } else if (quoted) {
          require(c == ' ' || c == '\t', "csv::read",
                  "line " + std::to_string(line_) + ": text after the closing quote of a field");
        } else if (c == '"' && trim(field).empty()) {
          field.clear();
          read_quoted(field);
          quoted = quoted_any = true;
        } else {
          field += c;
        }
      }
      finish();
      end_of_line();
      if (quoted_any || fields.size() > 1 || !fields[0].empty()) return true;
    }
  }

 private:
  // After an opening quote: up to the closing one, "" meaning ", newlines kept.
  void read_quoted(std::string& field) {
    const std::size_t start_line = line_;
    for (;;) {
      require(pos_ < n_, "csv::read",
              "line " + std::to_string(start_line) + ": quoted field is never closed");
      const char c = s_[pos_++];
      if (c == '"' && pos_ < n_ && s_[pos_] == '"') {
        field += '"';
        ++pos_;
      } else if (c == '"') {
        return;
      } else {
        if (c == '\n') ++line_;
        field += c;
      }
    }
  }
  void end_of_line() {
    if (pos_ < n_ && s_[pos_] == '\r') ++pos_;
    if (pos_ < n_ && s_[pos_] == '\n') ++pos_;
    ++line_;
  }

  const char* s_;
  std::size_t n_;
  char separator_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

// "true" or "false" in any case (pandas writes True, numpy true): 1 or 0; else -1.
inline int boolean_of(const std::string& t) {
  const auto is = [&t](std::string_view word) {  // word in lower case
    if (t.size() != word.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i)
      if (char(t[i] | 0x20) != word[i]) return false;  // | 0x20: an upper-case letter's lower case
    return true;
  };
  return is("true") ? 1 : is("false") ? 0 : -1;
}

// A whole-cell number: "+1.5", "nan", "inf", "-1e-300" accepted, with `decimal_comma` "1,5" too,
// and booleans (each tried only where the cell is not a number before); quoted cells may have
// spaces.
inline bool parse_number(const std::string& cell, double& value, bool decimal_comma = false) {
  const std::string t = trim(cell);
  if (t.empty()) {  // missing
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* first = t.data() + (t[0] == '+' ? 1 : 0);
  const char* last = t.data() + t.size();
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec == std::errc() && end == last && first != last) return true;
  if (decimal_comma && t.find(',') != std::string::npos) {
    std::string point = t;
    std::replace(point.begin(), point.end(), ',', '.');
    return parse_number(point, value);
  }
  const int b = boolean_of(t);
  if (b >= 0) value = b;
  return b >= 0;
}

inline std::string quote_if_needed(const std::string& s) {
  if (s.find_first_of(",\"\r\n#") == std::string::npos && trim(s) == s && !s.empty()) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace detail

// A table read from CSV: float64 values (rows x columns), the column names, and per column the
// labels of a column of text (its values index them), empty for a column of numbers or times,
// and the layout of a column of times (time_layout::pattern), empty for the others; `labels`
// and `times` are themselves empty where no column is of text or of times.
struct table {
  ndarray data;
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> labels;
  std::vector<std::string> times;
};

namespace detail {
// The columns `text_columns` of `text` (its records after the header) as times or labels, into
// t, their values written into values (rows x cols): a second pass, made only for a table with
// text.
inline void read_text_columns(byte_view text, char separator, const std::vector<std::size_t>& text_columns,
                              std::vector<double>& values, table& t) {
  record_reader reader(text, separator);
  std::vector<std::string> fields;
  std::size_t line = 0;
  reader.skip_comment_marker();
  reader.next(fields, line);  // the header
  const std::size_t cols = fields.size();
  std::vector<std::vector<std::string>> cells(text_columns.size());
  while (reader.next(fields, line))
    for (std::size_t k = 0; k < text_columns.size(); ++k) cells[k].push_back(std::move(fields[text_columns[k]]));
  for (std::size_t k = 0; k < text_columns.size(); ++k) {
    const std::size_t c = text_columns[k];
    if (std::optional<times_column> times = read_times(cells[k])) {
      for (std::size_t r = 0; r < times->values.size(); ++r) values[r * cols + c] = times->values[r];
      t.times.resize(cols);
      t.times[c] = times->layout.pattern();
      continue;
    }
    labelled_column l = label_cells(cells[k]);
    for (std::size_t r = 0; r < l.codes.size(); ++r) values[r * cols + c] = l.codes[r];
    t.labels.resize(cols);
    t.labels[c] = std::move(l.labels);
  }
}
}  // namespace detail

inline table read(byte_view text) {
  constexpr const char* where = "csv::read";
  const char separator = detail::separator_of(text);
  detail::record_reader reader(text, separator);
  table t;
  std::vector<std::string> fields;
  std::size_t line = 0;
  reader.skip_comment_marker();
  require(reader.next(t.names, line), where, "no header line: the text is empty");
  const std::size_t cols = t.names.size();

  std::vector<double> values;
  std::size_t rows = 0;
  // Per column: cells of numbers and of text, and where its first text cell was.
  std::vector<std::size_t> numbers(cols, 0), texts(cols, 0), text_line(cols, 0);
  std::vector<std::string> first_text(cols);
  while (reader.next(fields, line)) {
    if (fields.size() != cols)  // its message made only when it fails: this runs for every line
      throw error(std::string(where) + "(): line " + std::to_string(line) + " has " + std::to_string(fields.size()) +
                  " cells, the header has " + std::to_string(cols) + " columns");
    for (std::size_t c = 0; c < cols; ++c) {
      double v = 0;
      if (detail::parse_number(fields[c], v, separator == ';')) {
        numbers[c] += !fields[c].empty();
      } else if (texts[c]++ == 0) {
        text_line[c] = line;
        first_text[c] = fields[c];
      }
      values.push_back(v);
    }
    ++rows;
  }
  std::vector<std::size_t> text_columns;
  for (std::size_t c = 0; c < cols; ++c) {
    if (texts[c] == 0) continue;
    if (texts[c] < numbers[c])
      throw error(std::string(where) + "(): line " + std::to_string(text_line[c]) + ", column " + std::to_string(c + 1) +
                  " ('" + t.names[c] + "'): '" + first_text[c] + "' is not a number, in a column of " +
                  std::to_string(numbers[c]) + " numbers and " + std::to_string(texts[c]) +
                  " cells of text (write a missing value as an empty cell, read as NaN)");
    text_columns.push_back(c);
  }
  if (!text_columns.empty()) detail::read_text_columns(text, separator, text_columns, values, t);
  t.data = ndarray::from_doubles(values, {rows, cols}, dtype::f64);
  return t;
}

inline table read_file(const std::filesystem::path& path) {
  return read_file_with(path, [](byte_view b) { return read(b); });
}

// CSV text of a 1-d (one column) or 2-d array. Values are written exactly: integers as
// integers, floats in the shortest form that reads back to the same value of their type; a
// column with labels (table::labels) as the label each value indexes. Without names the columns
// are called col0, col1, ...
inline std::string write(const ndarray& data, const std::vector<std::string>& names,
                         const std::vector<std::vector<std::string>>& labels = {}) {
  constexpr const char* where = "csv::write";
  data.check_consistent(where);
  require(data.ndim() == 1 || data.ndim() == 2, where,
          "a CSV table needs a 1-d or 2-d array, got shape " + shape_string(data.shape));
  const std::size_t rows = data.shape[0];
  const std::size_t cols = data.ndim() == 2 ? data.shape[1] : 1;
  require(names.empty() || names.size() == cols, where,
          std::to_string(names.size()) + " names for " + std::to_string(cols) + " columns");
  require(labels.empty() || labels.size() == cols, where,
          std::to_string(labels.size()) + " columns of labels for " + std::to_string(cols) + " columns");

  std::string out;
  for (std::size_t c = 0; c < cols; ++c)
    out += (c ? "," : "") +
           detail::quote_if_needed(names.empty() ? "col" + std::to_string(c) : names[c]);
  out += '\n';
  visit_dtype(data.type, [&](auto tag) {
    using T = decltype(tag);
    // to_chars has no bool nor float16 (whose shortest float form reads back the same half)
    using printed = std::conditional_t<std::is_same_v<T, bool>, int, std::conditional_t<std::is_same_v<T, float16>, float, T>>;
    const T* v = data.data_as<T>();
    char buf[64];
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) {
        if (c) out += ',';
        if (!labels.empty() && !labels[c].empty()) {
          out += detail::quote_if_needed(label_at(labels[c], double(v[r * cols + c]), where, r, c));
          continue;
        }
        const auto res =
            std::to_chars(buf, buf + sizeof buf, static_cast<printed>(v[r * cols + c]));
        out.append(buf, res.ptr);
      }
      out += '\n';
    }
  });
  return out;
}

inline void write_file(const std::filesystem::path& path, const ndarray& data,
                       const std::vector<std::string>& names, bool overwrite) {
  write_file_atomically(path, write(data, names), overwrite);
}

}  // namespace baler::csv
