#pragma once
// Datasets inside HDF5 files, named FILE.h5:/group/dataset (see hdf5_location in dataset.hpp).
// Only built where HDF5 is found (BALER_HAS_HDF5): the header-only library has no mandatory
// HDF5 dependency. Column names of a 2-d table travel as the dataset's string attribute
// "names", as baler writes it and as h5py writes a list of str; a 1-D compound dataset (h5py's
// numpy structured array) is a table of its members.
//
// Writing is atomic: a new file is written under a temporary name and renamed; an existing
// file is copied to a temporary name, the dataset added (or replaced, with overwrite) in the
// copy, and the copy renamed over the original, so its other datasets are kept and an
// interrupted run leaves the original untouched. (HDF5 does not reclaim the space of a
// replaced dataset; h5repack does.)
#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/labels.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/io/records.hpp"

namespace baler::hdf5 {

namespace detail {

// `where` names the call and the dataset: "hdf5::read(): f.h5:/x".
inline void check(bool cond, const std::string& where, const std::string& what) {
  if (!cond) throw error(where + ": " + what);
}

// One HDF5 identifier, closed by its own close function.
class id {
 public:
  id(hid_t h, herr_t (*close)(hid_t)) : h_(h), close_(close) {}
  id(const id&) = delete;
  id& operator=(const id&) = delete;
  ~id() {
    if (h_ >= 0) close_(h_);
  }
  operator hid_t() const { return h_; }  // NOLINT: passed straight to the C API
  bool valid() const { return h_ >= 0; }

 private:
  hid_t h_;
  herr_t (*close_)(hid_t);
};

// HDF5 prints its error stack on every failed call; baler's own message says it better.
class quiet {
 public:
  quiet() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~quiet() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// IEEE 754 binary16 as HDF5 describes a float (h5py's numpy float16): sign bit 15, exponent
// bits 10-14 biased by 15, mantissa bits 0-9. HDF5 1.10 predefines no such type.
inline bool is_ieee_half(hid_t type) {
  std::size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
  return H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == 2 &&
         H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 && spos == 15 && epos == 10 && esize == 5 &&
         mpos == 0 && msize == 10 && H5Tget_ebias(type) == 15;
}
inline hid_t half_type() {
  static const hid_t t = [] {
    const hid_t h = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(h, 15, 10, 5, 0, 10);
    H5Tset_size(h, 2);
    H5Tset_ebias(h, 15);
    return h;
  }();
  return t;
}

// numpy's bool as h5py writes it: an enum of FALSE = 0 and TRUE = 1 over int8.
inline hid_t bool_type() {
  static const hid_t t = [] {
    const hid_t e = H5Tenum_create(H5T_NATIVE_INT8);
    for (const signed char v : {0, 1})
      if (e < 0 || H5Tenum_insert(e, v ? "TRUE" : "FALSE", &v) < 0) throw error("hdf5: cannot make the bool type");
    return e;
  }();
  return t;
}

// How a value of dtype t is written (in memory and in the file), bool as h5py writes it.
inline hid_t memory_type(dtype t) {
  switch (t) {
    case dtype::bool_: return bool_type();
    case dtype::i8: return H5T_NATIVE_INT8;
    case dtype::i16: return H5T_NATIVE_INT16;
    case dtype::i32: return H5T_NATIVE_INT32;
    case dtype::i64: return H5T_NATIVE_INT64;
    case dtype::u8: return H5T_NATIVE_UINT8;
    case dtype::u16: return H5T_NATIVE_UINT16;
    case dtype::u32: return H5T_NATIVE_UINT32;
    case dtype::u64: return H5T_NATIVE_UINT64;
    case dtype::f32: return H5T_NATIVE_FLOAT;
    case dtype::f64: return H5T_NATIVE_DOUBLE;
    case dtype::f16: return half_type();
  }
  throw error("hdf5::memory_type(): invalid dtype");
}

// The dtype a stored type reads as (HDF5 converts byte order); h5py stores bool as an enum.
inline dtype dtype_of(hid_t type, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_ENUM && size == 1) return dtype::bool_;
  if (cls == H5T_FLOAT && (size == 4 || size == 8)) return size == 4 ? dtype::f32 : dtype::f64;
  if (is_ieee_half(type)) return dtype::f16;
  if (cls == H5T_INTEGER) {
    const bool s = H5Tget_sign(type) == H5T_SGN_2;
    switch (size) {
      case 1: return s ? dtype::i8 : dtype::u8;
      case 2: return s ? dtype::i16 : dtype::u16;
      case 4: return s ? dtype::i32 : dtype::u32;
      case 8: return s ? dtype::i64 : dtype::u64;
    }
  }
  throw error(where + ": only integer, bool and 16/32/64-bit IEEE float datasets can be read");
}

// The "names" attribute as strings, variable- or fixed-length; none when it is absent.
inline std::vector<std::string> read_names(hid_t dset, const std::string& where) {
  if (H5Aexists(dset, "names") <= 0) return {};
  id attr(H5Aopen(dset, "names", H5P_DEFAULT), H5Aclose);
  id type(H5Aget_type(attr), H5Tclose);
  id space(H5Aget_space(attr), H5Sclose);
  check(attr.valid() && H5Tget_class(type) == H5T_STRING, where,
          "attribute 'names' must hold strings");
  const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
  std::vector<std::string> names;
  if (H5Tis_variable_str(type) > 0) {
    std::vector<char*> raw(n);
    id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    check(H5Aread(attr, mem, raw.data()) >= 0, where, "cannot read attribute 'names'");
    for (char* s : raw) names.emplace_back(s ? s : "");
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, raw.data());
  } else {
    const std::size_t len = H5Tget_size(type);
    std::vector<char> raw(n * len);
    check(H5Aread(attr, type, raw.data()) >= 0, where, "cannot read attribute 'names'");
    for (std::size_t i = 0; i < n; ++i) {
      const char* s = raw.data() + i * len;
      names.emplace_back(s, std::find(s, s + len, '\0'));
    }
  }
  return names;
}

inline void write_names(hid_t dset, const std::vector<std::string>& names, const std::string& where) {
  std::vector<const char*> raw;
  for (const auto& s : names) raw.push_back(s.c_str());
  const hsize_t n = raw.size();
  id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  id attr(H5Acreate2(dset, "names", type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  check(attr.valid() && H5Awrite(attr, type, raw.data()) >= 0, where,
          "cannot write attribute 'names'");
}

}  // namespace detail

// A dataset as read: one array (with the "names" attribute's column names), or, for a 1-D
// compound dataset (a table of records, as h5py writes a numpy structured array), one 1-D array
// per member in `columns`, named by the members, `data` empty.
struct table_data {
  ndarray data;
  std::vector<std::string> names;
  std::vector<ndarray> columns;
  std::vector<std::vector<std::string>> labels;  // per column, a string member's (labels.hpp); none without text
};

namespace detail {
// How a value of dtype t is read; bool as uint8 (0/1), which h5py's bool enum converts to.
inline hid_t read_type_of(dtype t) { return t == dtype::bool_ ? H5T_NATIVE_UINT8 : memory_type(t); }

// The strings of compound member `name` (of string type `member`), one per record: fixed-length
// ones (h5py's 'S8') up to their first NUL, less trailing spaces where space-padded;
// variable-length ones (h5py's str) as stored.
inline std::vector<std::string> member_strings(hid_t d, hid_t member, const std::string& name, std::size_t rows,
                                               const std::string& at) {
  const htri_t variable = H5Tis_variable_str(member);
  check(variable >= 0, at, "cannot read its string type");
  const std::size_t size = variable ? sizeof(char*) : H5Tget_size(member);
  id one(H5Tcreate(H5T_COMPOUND, size), H5Tclose);
  check(H5Tinsert(one, name.c_str(), 0, member) >= 0, at, "cannot read it");
  std::vector<std::string> out(rows);
  if (variable) {
    std::vector<char*> cells(rows, nullptr);
    check(H5Dread(d, one, H5S_ALL, H5S_ALL, H5P_DEFAULT, cells.data()) >= 0, at, "cannot read it");
    for (std::size_t r = 0; r < rows; ++r)
      if (cells[r]) out[r] = cells[r];
    id space(H5Dget_space(d), H5Sclose);
    H5Dvlen_reclaim(one, space, H5P_DEFAULT, cells.data());
    return out;
  }
  std::vector<char> bytes(rows * size);
  check(H5Dread(d, one, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) >= 0, at, "cannot read it");
  const bool space_padded = H5Tget_strpad(member) == H5T_STR_SPACEPAD;
  for (std::size_t r = 0; r < rows; ++r) {
    const char* cell = bytes.data() + r * size;
    std::size_t n = std::size_t(std::find(cell, cell + size, '\0') - cell);
    while (space_padded && n > 0 && cell[n - 1] == ' ') --n;
    out[r].assign(cell, n);
  }
  return out;
}

inline table_data read_compound(hid_t d, hid_t type, const std::vector<hsize_t>& dims, const std::string& where) {
  check(dims.size() == 1, where, "a compound dataset is a table when it is 1-D (N records)");
  const int members = H5Tget_nmembers(type);
  check(members > 0, where, "a compound type without members");
  table_data t;
  for (unsigned i = 0; i < unsigned(members); ++i) {
    char* name = H5Tget_member_name(type, i);
    check(name != nullptr, where, "a compound member without a name");
    t.names.emplace_back(name);
    H5free_memory(name);
    id member(H5Tget_member_type(type, i), H5Tclose);
    const std::string at = where + ", member '" + t.names.back() + "'";
    check(H5Tget_class(member) != H5T_ARRAY, at, "holds an array: one value per record is a column");
    if (H5Tget_class(member) == H5T_STRING) {  // a column of text
      labelled_column l = label_cells(member_strings(d, member, t.names.back(), std::size_t(dims[0]), at));
      t.columns.push_back(ndarray::from_doubles(l.codes, {std::size_t(dims[0])}, dtype::i32));
      t.labels.resize(std::size_t(members));
      t.labels[i] = std::move(l.labels);
      continue;
    }
    ndarray column = ndarray::zeros(dtype_of(member, at), {std::size_t(dims[0])});
    // A compound of this one member, read by name: HDF5 picks it out of each record.
    id one(H5Tcreate(H5T_COMPOUND, dtype_size(column.type)), H5Tclose);
    check(H5Tinsert(one, t.names.back().c_str(), 0, read_type_of(column.type)) >= 0, at, "cannot read it");
    check(H5Dread(d, one, H5S_ALL, H5S_ALL, H5P_DEFAULT, column.bytes.data()) >= 0, at,
          "cannot read it (a filter whose plugin is missing from HDF5_PLUGIN_PATH?)");
    t.columns.push_back(std::move(column));
  }
  return t;
}
}  // namespace detail

inline table_data read(const std::filesystem::path& file, const std::string& object) {
  const std::string where = "hdf5::read(): " + file.string() + ":" + object;
  detail::quiet q;
  detail::check(H5Fis_hdf5(file.c_str()) > 0, where, "not an HDF5 file (or missing)");
  detail::id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  detail::check(f.valid(), where, "cannot open the file");
  detail::id d(H5Dopen2(f, object.c_str(), H5P_DEFAULT), H5Dclose);
  detail::check(d.valid(), where, "no such dataset in the file");
  detail::id type(H5Dget_type(d), H5Tclose);
  detail::id space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  detail::check(rank >= 0, where, "the dataset has no simple shape");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (H5Tget_class(type) == H5T_COMPOUND) return detail::read_compound(d, type, dims, where);
  table_data t;
  t.data = ndarray::zeros(detail::dtype_of(type, where), {dims.begin(), dims.end()});
  const hid_t mem = detail::read_type_of(t.data.type);
  detail::check(H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.bytes.data()) >= 0, where,
          "cannot read the dataset (a filter whose plugin is missing from HDF5_PLUGIN_PATH?)");
  t.names = detail::read_names(d, where);
  return t;
}

namespace detail {
// Makes `object` in `file` atomically (see the top of this file): `create(f, links)` creates and
// writes the dataset in the open temporary copy f, with the link property list that creates
// intermediate groups.
template <class Create>
void write_atomically(const std::filesystem::path& file, const std::string& object, bool overwrite,
                      const std::string& where, Create&& create) {
  namespace fs = std::filesystem;
  quiet q;
  const bool existing = fs::exists(file);
  check(!existing || H5Fis_hdf5(file.c_str()) > 0, where, "the file exists and is not HDF5");
  const fs::path temp = baler::detail::temp_name_for(file);
  try {
    if (existing) fs::copy_file(file, temp);
    {
      id f(existing ? H5Fopen(temp.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                    : H5Fcreate(temp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT),
           H5Fclose);
      check(f.valid(), where, "cannot create " + temp.string());
      if (existing && H5Oexists_by_name(f, object.c_str(), H5P_DEFAULT) > 0) {
        check(overwrite, where, "the dataset exists; use --force to replace it");
        check(H5Ldelete(f, object.c_str(), H5P_DEFAULT) >= 0, where, "cannot replace the dataset");
      }
      id links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
      H5Pset_create_intermediate_group(links, 1);
      create(hid_t(f), hid_t(links));
      check(H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0, where, "cannot flush the file");
    }
    fs::rename(temp, file);
  } catch (...) {
    std::error_code ec;
    fs::remove(temp, ec);
    throw;
  }
}

// Creates `object` of `type` and `dims` in f, writes `bytes` (laid out as `type` in memory) and,
// when given, `names` as its attribute.
inline void create_and_write(hid_t f, hid_t links, const std::string& object, hid_t type, const std::vector<hsize_t>& dims,
                             const std::byte* bytes, const std::vector<std::string>& names, const std::string& where) {
  id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  id d(H5Dcreate2(f, object.c_str(), type, space, links, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  check(d.valid(), where, "cannot create the dataset");
  check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes) >= 0, where, "cannot write the dataset");
  if (!names.empty()) write_names(d, names, where);
}
}  // namespace detail

// Writes `a`, with `names` (when given) as its attribute.
inline void write(const std::filesystem::path& file, const std::string& object, const ndarray& a,
                  const std::vector<std::string>& names, bool overwrite) {
  const std::string where = "hdf5::write(): " + file.string() + ":" + object;
  a.check_consistent("hdf5::write");
  detail::write_atomically(file, object, overwrite, where, [&](hid_t f, hid_t links) {
    detail::create_and_write(f, links, object, detail::memory_type(a.type), {a.shape.begin(), a.shape.end()},
                             a.bytes.data(), names, where);
  });
}

// Writes a table's columns (1-D arrays of one length, split_columns) as a 1-D compound dataset,
// a member per column named by `names`, each of its column's dtype; a column with labels
// (labels[c] not empty) as the text its values index: a fixed-length UTF-8 string, as long as
// its longest (h5py's 'S' of that width; NUL-padded). Its records are the rows.
inline void write_records(const std::filesystem::path& file, const std::string& object,
                          const std::vector<ndarray>& columns, const std::vector<std::string>& names, bool overwrite,
                          const std::vector<std::vector<std::string>>& labels = {}) {
  const std::string where = "hdf5::write_records(): " + file.string() + ":" + object;
  detail::check(names.size() == columns.size() && !names.empty(), where,
                "a compound dataset needs columns and a name for each");
  check_record_columns(columns, "hdf5::write_records");
  detail::check(labels.empty() || labels.size() == columns.size(), where,
                "labels for some columns but not one entry per column");
  const std::size_t rows = columns[0].shape[0];
  std::vector<std::vector<std::byte>> text(columns.size());  // a labelled column's cells, `width` bytes each
  std::vector<record_field> fields;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (labels.empty() || labels[c].empty()) {
      fields.push_back({dtype_size(columns[c].type), columns[c].bytes.data()});
      continue;
    }
    const std::vector<std::string> cells = cells_of(labels[c], columns[c].to_doubles(), "hdf5::write_records", c);
    std::size_t width = 1;  // HDF5 has no string of 0 bytes
    for (const std::string& s : labels[c]) width = std::max(width, s.size());
    text[c].resize(rows * width);
    for (std::size_t r = 0; r < rows; ++r) std::memcpy(text[c].data() + r * width, cells[r].data(), cells[r].size());
    fields.push_back({width, text[c].data()});
  }
  const packed_records records = pack_fields(fields, rows);
  detail::write_atomically(file, object, overwrite, where, [&](hid_t f, hid_t links) {
    detail::id compound(H5Tcreate(H5T_COMPOUND, records.size), H5Tclose);
    for (std::size_t c = 0; c < names.size(); ++c) {
      detail::id string_type(text[c].empty() ? H5I_INVALID_HID : H5Tcopy(H5T_C_S1), H5Tclose);
      if (!text[c].empty())
        detail::check(H5Tset_size(string_type, fields[c].size) >= 0 && H5Tset_strpad(string_type, H5T_STR_NULLPAD) >= 0 &&
                          H5Tset_cset(string_type, H5T_CSET_UTF8) >= 0,
                      where, "cannot make the string type of member '" + names[c] + "'");
      const hid_t member = text[c].empty() ? detail::memory_type(columns[c].type) : hid_t(string_type);
      if (H5Tinsert(compound, names[c].c_str(), records.offsets[c], member) < 0)
        throw error(where + ": cannot make member '" + names[c] + "' (two columns of one name?)");
    }
    detail::create_and_write(f, links, object, compound, {hsize_t(rows)}, records.bytes.data(), {}, where);
  });
}

}  // namespace baler::hdf5
