#pragma once
// numpy's .npz archives: a zip file of .npy members, stored (np.savez) or deflated
// (np.savez_compressed), with zip64 extensions (numpy always writes them). The zip layer
// (zip.hpp) checks CRCs, so a corrupted member is an error rather than wrong numbers.
// Baler's convention: member "data" holds the array, "names" the column names of a table; an
// archive of 1-D arrays of one length (np.savez(f, pt=pt, eta=eta)) is also read as a table.
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/bytes.hpp"
#include "baler/io/labels.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/io/npy.hpp"
#include "baler/io/zip.hpp"

namespace baler::npz {

enum class compression { stored, deflated };

// One member: its .npy bytes, decoded on request, so that an archive with an unrelated member
// (a README, an object array) still yields the members that can be read.
struct entry {
  std::string name;              // without the ".npy" suffix
  std::vector<std::byte> bytes;  // the member's .npy file
  std::size_t position = 0;      // among the archive's members, as written (np.savez keeps the call's order)

  // Errors name the member: "npy::read(): truncated: ... [npz member 'data']".
  npy::header header() const {
    return with_context(context(), [&] { return npy::parse_header(bytes, "npz::entry"); });
  }
  bool is_text() const {
    return with_context(context(), [&] {
      return npy::parse_descr(npy::parse_header(bytes, "npz::entry").descr, "npz::entry").is_text;
    });
  }
  ndarray array() const {
    return with_context(context(), [&] { return npy::read(bytes); });
  }
  std::vector<std::string> strings() const {
    return with_context(context(), [&] { return npy::read_strings(bytes); });
  }

 private:
  std::string context() const { return "npz member '" + name + "'"; }
};

using archive = std::map<std::string, entry>;

namespace detail {

inline bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace detail

// The members of an .npz held in memory, by name without ".npy". Folders are skipped.
inline archive read(byte_view in) {
  constexpr const char* where = "npz::read";
  const zip::reader z(in, where, ".npz (zip)");
  archive out;
  for (const zip::entry& e : z.entries()) {
    if (e.is_folder()) continue;
    std::string name = e.name;
    if (detail::has_suffix(name, ".npy")) name.resize(name.size() - 4);
    if (out.count(name) != 0)
      throw error(std::string(where) + "(): member '" + name + "' occurs twice");
    out[name] = entry{name, z.read(e), out.size()};
  }
  return out;
}

inline archive read_file(const std::filesystem::path& path) {
  return read_file_with(path, [](byte_view b) { return read(b); });
}

// An .npz archive of the given .npy members, in order; names get the ".npy" suffix np.load
// strips. Entries are dated 1980-01-01 like numpy's, so equal inputs give equal files.
inline std::vector<std::byte> write(
    const std::vector<std::pair<std::string, std::vector<std::byte>>>& members,
    compression method) {
  constexpr const char* where = "npz::write";
  std::vector<std::pair<std::string, byte_view>> files;
  files.reserve(members.size());
  for (const auto& [name, bytes] : members) {
    if (name.empty() || name.find('/') != std::string::npos)
      throw error(std::string(where) + "(): invalid member name '" + name + "'");
    files.emplace_back(name + ".npy", bytes);
  }
  return zip::write(
      files,
      method == compression::deflated ? zip::compression::deflated : zip::compression::stored,
      where);
}

// Baler's layout: "data" (or `member`), plus "names" when there are any.
inline std::vector<std::byte> write(const ndarray& data, const std::vector<std::string>& names,
                                    compression method, const std::string& member = "data") {
  std::vector<std::pair<std::string, std::vector<std::byte>>> members;
  members.emplace_back(member, npy::write(data));
  if (!names.empty()) members.emplace_back("names", npy::write_strings(names));
  return write(members, method);
}

// A table's columns (1-D arrays of one length, split_columns) as one member each, named by
// `names`, in their order: the layout np.savez(f, pt=pt, eta=eta) writes. A column with labels
// (labels.hpp) is written as the text its values index, a unicode array.
inline std::vector<std::byte> write_columns(const std::vector<ndarray>& columns, const std::vector<std::string>& names,
                                            compression method, const std::vector<std::vector<std::string>>& labels = {}) {
  constexpr const char* where = "npz::write_columns";
  require(names.size() == columns.size(), where, "one member per column needs a name for each column");
  for (const ndarray& c : columns)
    require(c.ndim() == 1 && c.shape[0] == columns.at(0).shape[0], where, "the columns must be 1-D arrays of one length");
  npy::require_distinct(names, where);
  std::vector<std::pair<std::string, std::vector<std::byte>>> members;
  require(labels.empty() || labels.size() == columns.size(), where, "labels for some columns but not one entry per column");
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (labels.empty() || labels[c].empty()) {
      members.emplace_back(names[c], npy::write(columns[c]));
      continue;
    }
    // a labelled column as the text its values index: '<U..'
    members.emplace_back(names[c], npy::write_strings(cells_of(labels[c], columns[c].to_doubles(), where, c)));
  }
  return write(members, method);
}

}  // namespace baler::npz
