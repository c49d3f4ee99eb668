#pragma once
// numpy's .npy format (versions 1.0, 2.0, 3.0): numeric arrays in any byte order and in C or
// Fortran order, converted on read to the library's one layout (C order, little-endian), and
// fixed-width unicode arrays, read as UTF-8 strings because they carry column names, not data.
// Writers produce what np.load reads: version 1.0 (2.0 for huge headers), C order, '<'.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/bytes.hpp"
#include "baler/io/labels.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/io/npy_header.hpp"
#include "baler/io/records.hpp"
#include "baler/io/unicode.hpp"

namespace baler::npy {

namespace detail {

// Fortran order (first axis fastest) to C order (last axis fastest), item by item.
inline std::vector<std::byte> fortran_to_c(const std::byte* src,
                                           const std::vector<std::size_t>& shape,
                                           std::size_t item_size, std::size_t count) {
  std::vector<std::byte> dst(count * item_size);
  if (count == 0) return dst;
  const std::size_t nd = shape.size();
  std::vector<std::size_t> stride(nd, 1), index(nd, 0);  // Fortran strides, in items
  for (std::size_t k = 1; k < nd; ++k) stride[k] = stride[k - 1] * shape[k - 1];
  std::size_t offset = 0;  // Fortran offset of the C-order position `index`
  for (std::size_t i = 0; i < count; ++i) {
    std::memcpy(dst.data() + i * item_size, src + offset * item_size, item_size);
    // Increment the C-order multi-index, last axis first, keeping `offset` in step.
    for (std::size_t k = nd; k-- > 0;) {
      if (++index[k] < shape[k]) {
        offset += stride[k];
        break;
      }
      offset -= (shape[k] - 1) * stride[k];
      index[k] = 0;
    }
  }
  return dst;
}

// The payload of a parsed file as C-order, little-endian items; checks its size exactly, since
// a short payload is a truncated file and a long one a corrupt header.
inline std::vector<std::byte> payload(byte_view in, const header& h, std::size_t item_size,
                                      const char* where) {
  const std::size_t count = shape_elements(h.shape, where);
  const std::size_t have = in.size - h.data_offset;
  // Compared by division: count * item_size of a corrupt shape may not fit in size_t.
  require(count <= have / item_size, where,
          "truncated: shape " + shape_string(h.shape) + " of '" + h.descr + "' needs " +
              std::to_string(count) + " items of " + std::to_string(item_size) +
              " bytes, the payload has " + std::to_string(have) + " bytes");
  const std::size_t need = count * item_size;
  require(have == need, where,
          "payload has " + std::to_string(have - need) + " bytes more than shape " +
              shape_string(h.shape) + " of '" + h.descr + "' needs");
  const std::byte* src = in.data + h.data_offset;
  // A 0-d or 1-d array is the same in both orders.
  return h.fortran_order && h.shape.size() > 1 ? fortran_to_c(src, h.shape, item_size, count)
                                               : std::vector<std::byte>(src, src + need);
}

// Items as stored to the library's layout: little-endian, and bools exactly 0 or 1 (numpy
// treats any nonzero byte as True; a C++ bool must hold exactly 0 or 1).
inline void to_native(ndarray& a, const element_type& e) {
  if (e.big_endian) swap_byte_order(a.bytes.data(), a.bytes.size(), e.item_size);
  if (e.type == dtype::bool_)
    for (std::byte& b : a.bytes) b = b != std::byte{0} ? std::byte{1} : std::byte{0};
}

}  // namespace detail

// A numeric array from the bytes of a .npy file.
inline ndarray read(byte_view in) {
  constexpr const char* where = "npy::read";
  const header h = parse_header(in, where);
  require(h.fields.empty(), where, "a structured array (record dtype) is a table: read it with npy::read_records");
  const element_type e = parse_descr(h.descr, where);
  require(
      !e.is_text, where,
      "dtype '" + h.descr + "' is a text array, not numeric data (use npy::read_strings)");
  ndarray a{e.type, h.shape, detail::payload(in, h, e.item_size, where)};
  detail::to_native(a, e);
  return a;
}

namespace detail {
// One fixed-width text item of type e as UTF-8, trailing NULs stripped (numpy pads shorter
// strings with them).
inline std::string text_of(const std::byte* item, const element_type& e, const char* where) {
  const std::size_t chars = e.item_size / e.char_size;
  const auto code = [&](std::size_t c) -> std::uint32_t {
    if (e.char_size == 1) return std::to_integer<std::uint32_t>(item[c]);
    const auto unit = static_cast<std::uint32_t>(load_le(item + 4 * c, 4));  // UTF-32
    return e.big_endian ? __builtin_bswap32(unit) : unit;
  };
  std::size_t used = chars;
  while (used > 0 && code(used - 1) == 0) --used;
  std::string out;
  for (std::size_t c = 0; c < used; ++c) append_utf8(out, code(c), where);
  return out;
}
}  // namespace detail

// The strings of a text array ('<U..', '>U..', '|S..') in C order, as UTF-8 (detail::text_of).
// An empty array of any dtype reads as no strings: np.savez(names=[]) stores an empty float64
// array, and such files exist.
inline std::vector<std::string> read_strings(byte_view in) {
  constexpr const char* where = "npy::read_strings";
  const header h = parse_header(in, where);
  if (shape_elements(h.shape, where) == 0) return {};
  const element_type e = parse_descr(h.descr, where);
  require(e.is_text, where, "dtype '" + h.descr + "' is not a text array ('<U..' or '|S..')");
  const std::vector<std::byte> raw = detail::payload(in, h, e.item_size, where);
  std::vector<std::string> out(raw.size() / e.item_size);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = detail::text_of(raw.data() + i * e.item_size, e, where);
  return out;
}

// A 1-D structured array (np.save(f, records)) as a table: its fields' names and one 1-D array
// per field, each of its own dtype. Padding fields (no name, "|V..") are skipped. A text field
// ('U' or 'S') is a column of text: its labels (labels.hpp), its values their indices (int32).
struct record_columns {
  std::vector<std::string> names;
  std::vector<ndarray> columns;
  std::vector<std::vector<std::string>> labels;  // per column, empty for numbers; none without text
};
inline bool has_fields(byte_view in) { return !parse_header(in, "npy::has_fields").fields.empty(); }
inline record_columns read_records(byte_view in) {
  constexpr const char* where = "npy::read_records";
  const header h = parse_header(in, where);
  require(!h.fields.empty(), where, "not a structured array (its dtype has no fields)");
  require(h.shape.size() == 1, where,
          "a structured array of shape " + shape_string(h.shape) + ": only 1-D ones are tables");
  std::vector<element_type> types;
  std::vector<std::size_t> offsets;
  record_columns out;
  std::size_t record = 0;  // bytes
  for (const auto& field : h.fields) {
    const std::string &name = field.first, &descr = field.second;  // named: a lambda below reads descr
    if (name.empty() && descr.size() > 2 && descr[1] == 'V') {  // alignment padding
      const bool digits = descr.size() <= 9 && descr.find_first_not_of("0123456789", 2) == std::string::npos;
      require(digits, where, "malformed padding field '" + descr + "'");
      record += std::stoul(descr.substr(2));
      continue;
    }
    const element_type e = with_context("field '" + name + "'", [&] { return parse_descr(descr, where); });
    require(!name.empty(), where, "a structured field without a name");
    out.names.push_back(name), types.push_back(e), offsets.push_back(record);
    record += e.item_size;
  }
  require(!types.empty(), where, "a structured array of padding only");
  const std::vector<std::byte> raw = detail::payload(in, h, record, where);
  const std::size_t rows = h.shape[0];
  for (std::size_t f = 0; f < types.size(); ++f) {
    if (types[f].is_text) {
      std::vector<std::string> cells(rows);
      for (std::size_t r = 0; r < rows; ++r) cells[r] = detail::text_of(raw.data() + r * record + offsets[f], types[f], where);
      labelled_column l = label_cells(cells);
      out.columns.push_back(ndarray::from_doubles(l.codes, {rows}, dtype::i32));
      out.labels.resize(types.size());
      out.labels[f] = std::move(l.labels);
      continue;
    }
    const std::size_t size = types[f].item_size;
    ndarray column{types[f].type, {rows}, std::vector<std::byte>(rows * size)};
    for (std::size_t r = 0; r < rows; ++r)
      std::memcpy(column.bytes.data() + r * size, raw.data() + r * record + offsets[f], size);
    detail::to_native(column, types[f]);
    out.columns.push_back(std::move(column));
  }
  return out;
}

inline ndarray read_file(const std::filesystem::path& path) {
  return read_file_with(path, [](byte_view b) { return read(b); });
}
inline std::vector<std::string> read_strings_file(const std::filesystem::path& path) {
  return read_file_with(path, [](byte_view b) { return read_strings(b); });
}

// The .npy bytes of an array.
inline std::vector<std::byte> write(const ndarray& a) {
  a.check_consistent("npy::write");
  std::vector<std::byte> out = format_header(npy_descr(a.type), a.shape);
  out.insert(out.end(), a.bytes.begin(), a.bytes.end());
  return out;
}

// Column names that can each name a member or field of their own: no two alike.
inline void require_distinct(const std::vector<std::string>& names, const char* where) {
  for (std::size_t c = 0; c < names.size(); ++c)
    for (std::size_t k = 0; k < c; ++k)
      if (names[k] == names[c]) throw error(std::string(where) + "(): two columns are named '" + names[c] + "'");
}

// The .npy header of `rows` records of fields named `names` of numpy dtypes `descrs` ('<f4',
// '<U3'), packed (pack_fields' layout).
inline std::vector<std::byte> records_header(const std::vector<std::string>& names,
                                             const std::vector<std::string>& descrs, std::size_t rows) {
  constexpr const char* where = "npy::records_header";
  require(names.size() == descrs.size() && !names.empty(), where, "a structured array needs columns and a name for each");
  require_distinct(names, where);
  std::string descr = "[";
  for (std::size_t c = 0; c < names.size(); ++c) {
    const std::string& name = names[c];
    if (name.empty() || name.find_first_of("'\\\n") != std::string::npos)
      throw error(std::string(where) + "(): column name '" + name +
                  "' cannot name a field (empty, or with a quote, backslash or newline)");
    descr += (c ? ", ('" : "('") + name + "', '" + descrs[c] + "')";
  }
  return format_header_literal(descr + "]", {rows});
}

// Strings as numpy's fixed-width unicode items, as np.array(strings) makes them: `width` code
// points each (the longest string's, at least 1), UTF-32LE, NUL-padded.
struct unicode_items {
  std::size_t width = 1;
  std::vector<std::byte> bytes;
  std::string descr() const { return "<U" + std::to_string(width); }
};
inline unicode_items unicode_items_of(const std::vector<std::string>& strings, const char* where) {
  std::vector<std::vector<std::uint32_t>> code_points;
  unicode_items u;
  for (const std::string& s : strings) {
    code_points.push_back(utf8_code_points(s, where));
    u.width = std::max(u.width, code_points.back().size());
  }
  for (const auto& cps : code_points)
    for (std::size_t c = 0; c < u.width; ++c) append_le(u.bytes, c < cps.size() ? cps[c] : 0, 4);
  return u;
}

// A table's columns (1-D arrays of one length, split_columns) as packed records and each
// field's numpy dtype: a column with labels (labels[c] not empty) as the text its values index
// (unicode_items), the others in their dtypes.
struct described_records {
  std::vector<std::string> descrs;
  packed_records records;
};
inline described_records describe_records(const std::vector<ndarray>& columns,
                                          const std::vector<std::vector<std::string>>& labels = {}) {
  constexpr const char* where = "npy::describe_records";
  check_record_columns(columns, where);
  require(labels.empty() || labels.size() == columns.size(), where, "labels for some columns but not one entry per column");
  std::vector<unicode_items> text(columns.size());
  std::vector<record_field> fields;
  described_records d;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (labels.empty() || labels[c].empty()) {
      fields.push_back({dtype_size(columns[c].type), columns[c].bytes.data()});
      d.descrs.push_back(npy_descr(columns[c].type));
      continue;
    }
    text[c] = unicode_items_of(cells_of(labels[c], columns[c].to_doubles(), where, c), where);
    fields.push_back({4 * text[c].width, text[c].bytes.data()});
    d.descrs.push_back(text[c].descr());
  }
  d.records = pack_fields(fields, columns[0].shape[0]);
  return d;
}

// The .npy bytes of a table as a 1-D structured array, a field per column (1-D arrays of one
// length, split_columns) named by `names`, each of its column's dtype or, for a column with
// labels, of unicode text (describe_records), without padding.
inline std::vector<std::byte> write_records(const std::vector<ndarray>& columns, const std::vector<std::string>& names,
                                            const std::vector<std::vector<std::string>>& labels = {}) {
  const described_records d = describe_records(columns, labels);
  std::vector<std::byte> out = records_header(names, d.descrs, d.records.bytes.size() / d.records.size);
  out.insert(out.end(), d.records.bytes.begin(), d.records.bytes.end());
  return out;
}

// The .npy bytes of a 1-d unicode array '<U{longest}', as np.array(strings) would make it.
inline std::vector<std::byte> write_strings(const std::vector<std::string>& strings) {
  unicode_items u = unicode_items_of(strings, "npy::write_strings");
  std::vector<std::byte> out = format_header(u.descr(), {strings.size()});
  out.insert(out.end(), u.bytes.begin(), u.bytes.end());
  return out;
}

inline void write_file(const std::filesystem::path& path, const ndarray& a, bool overwrite) {
  write_file_atomically(path, write(a), overwrite);
}

}  // namespace baler::npy
