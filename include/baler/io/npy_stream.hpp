#pragma once
// .npy files larger than memory, in slices along the leading axis (rows of a table, frames of
// a field): the header is parsed once, then each slice is read by position or appended in
// order, so memory holds one slice per worker whatever the file size. C order only: a Fortran
// order file's leading-axis slices are scattered through it (load it whole with npy::read_file).
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/io/atomic_file.hpp"
#include "baler/io/npy.hpp"
#include "baler/io/random_access_file.hpp"

namespace baler::npy {

// The header of a .npy file, read without its payload.
inline header file_header(const random_access_file& file, const std::filesystem::path& path, const char* where) {
  // The preamble: magic, version, length, then the dict; at most 12 + 2^32 bytes.
  std::vector<std::byte> head = file.read(0, std::min<std::uint64_t>(file.size(), 12));
  require(head.size() >= 10, where, "'" + path.string() + "' is not a .npy file (too short)");
  const std::size_t len_size = std::to_integer<int>(head[6]) == 1 ? 2 : 4;
  const std::uint64_t total = 8 + len_size + load_le(head.data() + 8, len_size);
  require(total <= file.size(), where, "'" + path.string() + "' is truncated inside its header");
  return with_context("file " + path.string(), [&] { return parse_header(file.read(0, total), where); });
}
// Whether slice_reader reads a .npy file: an array of numbers with a leading axis, in C order
// (or 1-D). A structured array (a table of fields) or a Fortran-order one is read whole.
inline bool file_slices(const std::filesystem::path& path) {
  const header h = file_header(random_access_file(path), path, "npy::file_slices");
  return h.fields.empty() && !h.shape.empty() && (!h.fortran_order || h.shape.size() == 1);
}

class slice_reader {
public:
  explicit slice_reader(const std::filesystem::path& path) : file_(path) {
    constexpr const char* where = "npy::slice_reader";
    h_ = file_header(file_, path, where);
    require(h_.fields.empty(), where,
            "'" + path.string() + "' is a structured array: a table, read whole (load_dataset), not in slices");
    e_ = parse_descr(h_.descr, where);
    require(!e_.is_text, where, "'" + path.string() + "' holds text ('" + h_.descr + "'), not numeric data");
    require(!h_.shape.empty(), where, "'" + path.string() + "' holds a 0-dimensional array: no rows to slice");
    require(!h_.fortran_order || h_.shape.size() == 1, where,
            "'" + path.string() + "' is in Fortran order, which cannot be read in row slices");
    row_bytes_ = e_.item_size;
    for (std::size_t k = 1; k < h_.shape.size(); ++k) row_bytes_ *= h_.shape[k];
    const std::uint64_t need = std::uint64_t(h_.shape[0]) * row_bytes_;
    require(file_.size() - h_.data_offset == need, where,
            "'" + path.string() + "': shape " + shape_string(h_.shape) + " of '" + h_.descr + "' needs " +
                std::to_string(need) + " payload bytes, the file has " +
                std::to_string(file_.size() - h_.data_offset));
  }

  const std::vector<std::size_t>& shape() const { return h_.shape; }
  dtype type() const { return e_.type; }
  std::size_t rows() const { return h_.shape[0]; }
  std::size_t row_bytes() const { return row_bytes_; }

  // Rows [first, first + count) as an array of shape (count, shape[1:]...). Thread-safe.
  ndarray rows(std::size_t first, std::size_t count) const {
    require(first <= rows() && count <= rows() - first, "npy::slice_reader::rows",
            "rows " + std::to_string(first) + "+" + std::to_string(count) + " lie outside the " +
                std::to_string(rows()) + " rows of '" + file_.path().string() + "'");
    std::vector<std::size_t> shape = h_.shape;
    shape[0] = count;
    ndarray a{e_.type, shape, file_.read(h_.data_offset + std::uint64_t(first) * row_bytes_, count * row_bytes_)};
    detail::to_native(a, e_);
    return a;
  }

private:
  random_access_file file_;
  header h_;
  element_type e_;
  std::size_t row_bytes_ = 0;
};

// Writes a .npy of a known shape slice by slice, in order; the file appears (atomically) only
// at commit(), which checks that every row was written.
class slice_writer {
public:
  slice_writer(const std::filesystem::path& path, dtype type, std::vector<std::size_t> shape, bool overwrite)
      : out_(path, overwrite), type_(type), shape_(std::move(shape)) {
    out_.write(format_header(npy_descr(type), shape_));
  }

  void append(const ndarray& slice) {
    const char* where = "npy::slice_writer::append";
    slice.check_consistent(where);
    require(slice.type == type_ && slice.shape.size() == shape_.size() &&
                std::equal(shape_.begin() + 1, shape_.end(), slice.shape.begin() + 1),
            where, "a slice of shape " + shape_string(slice.shape) + " and dtype " + dtype_name(slice.type) +
                       " does not fit an array of shape " + shape_string(shape_) + " and dtype " + dtype_name(type_));
    require(slice.shape[0] <= shape_[0] - written_, where, "more rows than the shape " + shape_string(shape_) + " holds");
    out_.write(slice.bytes);
    written_ += slice.shape[0];
  }

  void commit() {
    require(written_ == shape_[0], "npy::slice_writer::commit",
            std::to_string(written_) + " of " + std::to_string(shape_[0]) + " rows were written");
    out_.commit();
  }

private:
  atomic_file_writer out_;
  dtype type_;
  std::vector<std::size_t> shape_;
  std::size_t written_ = 0;
};

}  // namespace baler::npy
