#pragma once
// What the compressor reads and writes: one array plus, for tables, its column names, in any
// of the formats users bring (.npz in Baler's convention, a bare .npy, or .csv). The format is
// chosen by the file extension, in both directions, and every save is atomic.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/csv.hpp"
#include "baler/io/labels.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/io/npy.hpp"
#include "baler/io/npz.hpp"
#include "baler/io/records.hpp"
#include "baler/io/times.hpp"
#include "baler/io/wide_integers.hpp"
#ifdef BALER_HAS_HDF5
#include "baler/io/hdf5.hpp"
#endif

namespace baler {

// How a table was laid out in the file it came from, so that it is written back the same way.
enum class table_layout {
  array,    // one array: .npz member "data" beside "names", .npy, .csv, HDF5
  members,  // an .npz of one 1-D array per column: np.savez(f, pt=pt, eta=eta)
  records,  // a 1-D structured array, a field per column: np.save(f, records), or .npz "data"
};
inline const char* layout_name(table_layout l) {
  return l == table_layout::members ? "members" : l == table_layout::records ? "records" : "array";
}
inline table_layout parse_layout(const std::string& name) {
  for (table_layout l : {table_layout::array, table_layout::members, table_layout::records})
    if (name == layout_name(l)) return l;
  throw error("parse_layout(): unknown table layout '" + name + "' (a newer baler wrote it?)");
}
// Keys of a compressed file's header "input": the table's layout where it is not one array; its
// columns' dtypes and its bytes as stored where they were of different dtypes (dataset::column_types).
inline constexpr const char* layout_key = "layout";
inline constexpr const char* column_types_key = "column_dtypes";
inline constexpr const char* stored_nbytes_key = "stored_nbytes";
inline constexpr const char* member_key = "npz_member";  // dataset::member, where there is one
// The offsets int64 and uint64 values are held relative to (wide_integers.hpp): one per column
// of a table, one for a field, each as a value of its column's dtype; absent where none is.
inline constexpr const char* offsets_key = "integer_offsets";
// dataset::labels, where there are any: one array of strings per column, empty for a column of
// numbers. A reader from before it writes the labels' indices.
inline constexpr const char* labels_key = "labels";
// dataset::times, where there are any: a time layout (time_layout::pattern) per column, empty
// for the others. A reader from before it writes the times' values (units since 1970).
inline constexpr const char* times_key = "times";

struct dataset {
  ndarray data;
  std::vector<std::string> names;  // one per column of a 2-d table, or none
  table_layout layout = table_layout::array;
  // Each column's dtype where a table's columns had different ones: the table holds them as
  // float64 (exact for each of them: every value is one of its column's dtype) and is written
  // back in them. Empty: every column is data.type.
  std::vector<dtype> column_types{};
  // The .npz member the array came from where it was the only one and not "data"
  // (np.savez(f, u=u), np.savez(f, a): "arr_0"): written back under its name. Empty: "data".
  std::string member{};
  // Where a table of columns of different dtypes has int64 or uint64 values no float64 equals,
  // each column's offset (wide_integers.hpp; 0 for the others): the float64 table holds the
  // values less their offsets. Empty: it holds the values.
  std::vector<std::uint64_t> column_offsets{};
  // Whether it is a field where that is decided already (a chunk is what the whole array is);
  // none: codec::is_field decides.
  std::optional<bool> field{};
  // Per column of text (a CSV column of text, an .npz member of unicode), its labels (labels.hpp):
  // the column's values index them, and are written back as them (save_dataset). Empty: every
  // column is numbers.
  std::vector<std::vector<std::string>> labels{};
  // Per column of times (a CSV column of ISO 8601 timestamps), its layout (times.hpp,
  // time_layout::pattern): its values count the layout's finest unit since 1970 and are written
  // back as the same text (with_times_as_text). Empty: no column is.
  std::vector<std::string> times{};
};

// The names of d's columns of text, labels or times, as "'type', 'trigger'", for messages.
inline std::string labelled_columns(const dataset& d) {
  std::string s;
  for (std::size_t c = 0; c < std::max(d.labels.size(), d.times.size()); ++c)
    if ((c < d.labels.size() && !d.labels[c].empty()) || (c < d.times.size() && !d.times[c].empty()))
      s += (s.empty() ? "'" : ", '") + (c < d.names.size() ? d.names[c] : "col" + std::to_string(c)) + "'";
  return s;
}

// d with its columns of times as the text they were read from, labels of that text (labels.hpp),
// as every writer holds text.
inline dataset with_times_as_text(dataset d) {
  constexpr const char* where = "with_times_as_text";
  if (d.times.empty()) return d;
  require(d.data.ndim() == 2 && d.times.size() == d.data.shape[1] && d.data.type == dtype::f64, where,
          std::to_string(d.times.size()) + " columns of times for a " + dtype_name(d.data.type) + " array of shape " +
              shape_string(d.data.shape) + " (times are columns of a float64 table)");
  const std::size_t rows = d.data.shape[0], cols = d.data.shape[1];
  double* v = d.data.data_as<double>();
  d.labels.resize(cols);
  for (std::size_t c = 0; c < cols; ++c) {
    if (d.times[c].empty()) continue;
    const std::optional<time_layout> layout = time_layout::of_pattern(d.times[c]);
    require(layout.has_value(), where, "column " + std::to_string(c + 1) + "'s times have the unknown layout '" + d.times[c] + "'");
    std::vector<std::string> cells(rows);
    for (std::size_t r = 0; r < rows; ++r) cells[r] = time_cell(v[r * cols + c], *layout, where, r, c);
    labelled_column l = label_cells(cells);
    for (std::size_t r = 0; r < rows; ++r) v[r * cols + c] = l.codes[r];
    d.labels[c] = std::move(l.labels);
    if (!d.column_types.empty()) d.column_types[c] = dtype::i32;
  }
  d.times.clear();
  return d;
}

// The bytes of a row of columns of these dtypes.
inline std::uint64_t row_bytes_of(const std::vector<dtype>& column_types) {
  std::uint64_t n = 0;
  for (dtype t : column_types) n += dtype_size(t);
  return n;
}
// The bytes of d's values in the file they came from: what ratios count.
inline std::uint64_t stored_nbytes(const dataset& d) {
  return d.column_types.empty() ? d.data.nbytes() : row_bytes_of(d.column_types) * d.data.shape.at(0);
}

// The dtypes values come back in, as the command line reports them: "float32", or for
// columns of different dtypes, of text or of times (dataset::labels, times) "columns of float32
// text int32 bool time".
inline std::string dtypes_string(dtype type, const std::vector<dtype>& column_types,
                                 const std::vector<std::vector<std::string>>& labels = {},
                                 const std::vector<std::string>& times = {}) {
  if (column_types.empty() && labels.empty() && times.empty()) return dtype_name(type);
  std::string s = "columns of";
  for (std::size_t c = 0; c < std::max({column_types.size(), labels.size(), times.size()}); ++c)
    s += " " + (c < labels.size() && !labels[c].empty() ? std::string("text")
                : c < times.size() && !times[c].empty() ? std::string("time")
                                                        : dtype_name(column_types.empty() ? type : column_types[c]));
  return s;
}

// The columns of a 2-d table, each in its own dtype.
inline std::vector<ndarray> columns_of(const dataset& d) {
  return split_columns(d.data, d.column_types, d.column_offsets);
}

enum class file_format { npy, npz, csv, hdf5 };

inline std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// A dataset inside an HDF5 file, written FILE.h5:/group/dataset (or FILE.hdf5:...).
struct hdf5_location {
  std::filesystem::path file;
  std::string object;
};
inline std::optional<hdf5_location> hdf5_location_of(const std::filesystem::path& path) {
  const std::string s = path.string(), l = ascii_lower(s);
  for (const std::string ext : {".h5:", ".hdf5:"})
    if (const auto at = l.rfind(ext); at != std::string::npos)
      return hdf5_location{s.substr(0, at + ext.size() - 1), s.substr(at + ext.size())};
  return std::nullopt;
}

// The file a path names: FILE.h5 for FILE.h5:/dataset, the path itself otherwise.
inline std::filesystem::path file_of(const std::filesystem::path& path) {
  const auto h = hdf5_location_of(path);
  return h ? h->file : path;
}

// The format of a path by its extension, case-insensitively.
inline file_format format_of(const std::filesystem::path& path) {
  if (const auto h = hdf5_location_of(path)) {
    require(!h->object.empty() && h->object != "/", "format_of",
            "'" + path.string() + "' names no dataset; write FILE.h5:/group/dataset");
    return file_format::hdf5;
  }
  const std::string ext = ascii_lower(path.extension().string());
  if (ext == ".npz") return file_format::npz;
  if (ext == ".npy") return file_format::npy;
  if (ext == ".csv") return file_format::csv;
  require(ext != ".h5" && ext != ".hdf5", "format_of",
          "'" + path.string() + "' names no dataset in the HDF5 file; write " + path.string() +
              ":/group/dataset");
  throw error("format_of(): cannot tell the format of '" + path.string() +
              "' from its extension; expected .npz, .npy, .csv or FILE.h5:/dataset");
}

// HDF5 support is compiled in only where HDF5 was found (BALER_HAS_HDF5).
inline void require_hdf5([[maybe_unused]] const std::filesystem::path& path) {
#ifndef BALER_HAS_HDF5
  throw error("baler was built without HDF5 support, so it cannot read or write " + path.string());
#endif
}

// Names, when present, label the columns of a 2-d table; anything else is a corrupt input that
// would mislabel columns later.
inline void check_names(const dataset& d, const char* where) {
  if (d.names.empty()) return;
  require(d.data.ndim() == 2 && d.names.size() == d.data.shape[1], where,
          std::to_string(d.names.size()) + " column names for data of shape " +
              shape_string(d.data.shape) + " (names need a 2-d table with one name per column)");
}

namespace detail {
// A table of named 1-D columns of one length. Columns of one dtype keep it; mixed ones become
// float64, which holds every value of the others but some 64-bit integers past 2^53 (held
// relative to an offset, column_offsets), and keep their dtypes in column_types.
inline dataset table_of_columns(std::vector<std::string> names, const std::vector<ndarray>& columns,
                                table_layout layout, const char* where) {
  require(!columns.empty(), where, "a table without columns");
  const std::size_t cols = columns.size();
  for (std::size_t c = 0; c < cols; ++c)
    if (columns[c].ndim() != 1)
      throw error(std::string(where) + "(): column '" + names[c] + "' is not one value per row (shape " +
                  shape_string(columns[c].shape) + ")");
  const std::size_t rows = columns[0].shape[0];
  bool one_type = true;
  for (std::size_t c = 0; c < cols; ++c) {
    if (columns[c].shape[0] != rows)
      throw error(std::string(where) + "(): column '" + names[c] + "' has " + std::to_string(columns[c].shape[0]) +
                  " values and '" + names[0] + "' " + std::to_string(rows) + ": a table's columns need one length");
    one_type = one_type && columns[c].type == columns[0].type;
  }
  dataset d;
  d.names = std::move(names);
  d.layout = layout;
  if (one_type) {  // interleaved byte for byte: exact for every type
    const std::size_t size = dtype_size(columns[0].type);
    d.data = ndarray::zeros(columns[0].type, {rows, cols});
    for (std::size_t c = 0; c < cols; ++c)
      for (std::size_t r = 0; r < rows; ++r)
        std::memcpy(d.data.bytes.data() + (r * cols + c) * size, columns[c].bytes.data() + r * size, size);
    return d;
  }
  std::vector<double> values(rows * cols);
  for (std::size_t c = 0; c < cols; ++c) {
    d.column_types.push_back(columns[c].type);
    const offset_doubles v = to_offset_doubles(columns[c], 1, where, "column '" + d.names[c] + "'");
    for (std::size_t r = 0; r < rows; ++r) values[r * cols + c] = v.values[r];
    if (!v.offsets.empty()) {
      d.column_offsets.resize(cols);
      d.column_offsets[c] = v.offsets[0];
    }
  }
  d.data = ndarray::from_doubles(values, {rows, cols}, dtype::f64);
  return d;
}

// A table from an archive of 1-D arrays of one length, a column each, in the order they were
// written; none when the archive is not one. A unicode array is a column of text: labels, its
// values their indices (int32, which is what "as stored" counts of it).
inline std::optional<dataset> table_of_members(const npz::archive& a) {
  std::vector<std::pair<const npz::entry*, bool>> members;  // and whether it holds text
  for (const auto& [name, e] : a) {
    try {
      if (e.header().shape.size() != 1) return std::nullopt;
      members.emplace_back(&e, e.is_text());
    } catch (const error&) {  // a member numpy wrote but baler cannot read: the caller says what it found
      return std::nullopt;
    }
  }
  if (members.size() < 2) return std::nullopt;
  std::sort(members.begin(), members.end(), [](const auto& x, const auto& y) { return x.first->position < y.first->position; });
  std::vector<std::string> names;
  std::vector<ndarray> columns;
  std::vector<std::vector<std::string>> labels;
  for (std::size_t c = 0; c < members.size(); ++c) {
    const npz::entry& e = *members[c].first;
    names.push_back(e.name);
    if (!members[c].second) {
      columns.push_back(e.array());
      continue;
    }
    labelled_column l = label_cells(e.strings());
    columns.push_back(ndarray::from_doubles(l.codes, {l.codes.size()}, dtype::i32));
    labels.resize(members.size());
    labels[c] = std::move(l.labels);
  }
  dataset d = table_of_columns(std::move(names), columns, table_layout::members, "dataset_from_npz");
  d.labels = std::move(labels);
  return d;
}

// A table from the bytes of a 1-D structured .npy, a column per field, text fields among them.
inline dataset table_of_records(byte_view npy_bytes) {
  npy::record_columns r = npy::read_records(npy_bytes);
  dataset d = table_of_columns(std::move(r.names), r.columns, table_layout::records, "npy::read_records");
  d.labels = std::move(r.labels);
  return d;
}
}  // namespace detail

// Baler's reading of an .npz: the array is member "data" (or the only member), names are
// member "names" when present, or its fields when it is a structured array; or a table of one
// 1-D member per column (detail::table_of_members).
inline dataset dataset_from_npz(const npz::archive& a) {
  constexpr const char* where = "dataset_from_npz";
  auto data = a.find("data");
  if (data == a.end() && a.size() == 1) data = a.begin();
  if (data == a.end()) {
    if (std::optional<dataset> t = detail::table_of_members(a)) return *std::move(t);
    std::string keys;
    for (const auto& [name, e] : a) keys += (keys.empty() ? "'" : ", '") + name + "'";
    throw error(std::string(where) + "(): no member 'data' among " +
                (keys.empty() ? std::string("none (the archive is empty)") : keys) +
                ", and not one 1-D array per column");
  }
  const std::string member = data->first == "data" ? "" : data->first;
  if (with_context("npz member '" + data->first + "'", [&] { return npy::has_fields(data->second.bytes); })) {
    dataset d = with_context("npz member '" + data->first + "'", [&] { return detail::table_of_records(data->second.bytes); });
    d.member = member;
    return d;
  }
  dataset d;
  d.data = data->second.array();
  d.member = member;
  if (const auto names = a.find("names"); names != a.end() && names != data)
    d.names = names->second.strings();
  check_names(d, where);
  return d;
}

inline dataset load_dataset(const std::filesystem::path& path) {
  switch (format_of(path)) {
    case file_format::npz: {
      const npz::archive a = npz::read_file(path);
      return with_context("file " + path.string(), [&] { return dataset_from_npz(a); });
    }
    case file_format::npy:
      return read_file_with(path, [](byte_view b) {
        return npy::has_fields(b) ? detail::table_of_records(b) : dataset{npy::read(b), {}};
      });
    case file_format::csv: {
      csv::table t = csv::read_file(path);
      dataset d{std::move(t.data), std::move(t.names)};
      d.labels = std::move(t.labels);
      d.times = std::move(t.times);
      return d;
    }
    case file_format::hdf5: {
      require_hdf5(path);
#ifdef BALER_HAS_HDF5
      const auto h = *hdf5_location_of(path);
      hdf5::table_data t = hdf5::read(h.file, h.object);
      if (!t.columns.empty())
        return with_context("file " + path.string(), [&] {
          dataset d = detail::table_of_columns(std::move(t.names), t.columns, table_layout::records, "hdf5::read");
          d.labels = std::move(t.labels);
          return d;
        });
      dataset d{std::move(t.data), std::move(t.names)};
      check_names(d, ("file " + path.string()).c_str());
      return d;
#endif
    }
  }
  throw error("load_dataset(): unreachable format");
}

// Writes the dataset in the format its extension names, a table in its layout where the format
// has it, with its columns in their dtypes: one .npz member per column, or a structured array
// (.npy, .npz member "data", an HDF5 compound; HDF5 takes a compound for any table of columns
// of different dtypes). A plain .npy holds no names: they are left out, since the user chose a
// format that cannot hold them. Text (dataset::labels, and times written as their text) is a
// unicode member of an .npz, a cell of a .csv, a unicode field of a structured array or a
// string member of a compound: a table with text goes to .npy and HDF5 as records, to an .npz
// as members unless it was read as records. `method` applies to .npz only; stored is
// np.savez's default and the fast choice for float data, which deflate barely shrinks.
inline void save_dataset(const std::filesystem::path& path, const dataset& d, bool overwrite,
                         npz::compression method = npz::compression::stored) {
  check_names(d, "save_dataset");
  if (!d.times.empty()) return save_dataset(path, with_times_as_text(d), overwrite, method);
  const file_format format = format_of(path);
  const bool text = !d.labels.empty();
  const bool records = d.layout == table_layout::records || (text && format != file_format::npz);
  const bool members = d.layout == table_layout::members || (text && !records);
  const std::string member = d.member.empty() ? "data" : d.member;
  switch (format) {
    case file_format::npz:
      write_file_atomically(path,
                            members ? npz::write_columns(columns_of(d), d.names, method, d.labels)
                            : records ? npz::write({{member, npy::write_records(columns_of(d), d.names, d.labels)}}, method)
                                      : npz::write(d.data, d.names, method, member),
                            overwrite);
      return;
    case file_format::npy:
      write_file_atomically(path, records ? npy::write_records(columns_of(d), d.names, d.labels) : npy::write(d.data),
                            overwrite);
      return;
    case file_format::csv:
      write_file_atomically(path, csv::write(d.data, d.names, d.labels), overwrite);
      return;
    case file_format::hdf5: {
      require_hdf5(path);
#ifdef BALER_HAS_HDF5
      const auto h = *hdf5_location_of(path);
      if (records || !d.column_types.empty())
        hdf5::write_records(h.file, h.object, columns_of(d), d.names, overwrite, d.labels);
      else hdf5::write(h.file, h.object, d.data, d.names, overwrite);
#endif
      return;
    }
  }
}

}  // namespace baler
