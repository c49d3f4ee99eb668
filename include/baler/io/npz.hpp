#pragma once
// numpy's .npz archives: a zip file of .npy members, stored (np.savez) or deflated
// (np.savez_compressed), with zip64 extensions (numpy always writes them). Zip handling is
// libzip's: it checks CRCs, so a corrupted member is an error rather than wrong numbers.
// Baler's convention: member "data" holds the array, "names" the column names of a table.
#include <zip.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/bytes.hpp"
#include "baler/io/ndarray.hpp"
#include "baler/io/npy.hpp"

namespace baler::npz {

enum class compression { stored, deflated };

// One member: its .npy bytes, decoded on request, so that an archive with an unrelated member
// (a README, an object array) still yields the members that can be read.
struct entry {
  std::string name;              // without the ".npy" suffix
  std::vector<std::byte> bytes;  // the member's .npy file

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

inline std::string zip_message(zip_error_t* err) {
  return zip_error_strerror(err);
}

// A zip_error_t of our own, released on scope exit (zip_error_strerror allocates into it).
struct local_zip_error {
  zip_error_t value;
  local_zip_error() { zip_error_init(&value); }
  ~local_zip_error() { zip_error_fini(&value); }
  local_zip_error(const local_zip_error&) = delete;
  local_zip_error& operator=(const local_zip_error&) = delete;
  zip_error_t* get() { return &value; }
};

struct zip_discarder {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using zip_handle = std::unique_ptr<zip_t, zip_discarder>;

struct zip_file_closer {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

inline bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The uncompressed bytes of member i, read in chunks: the size in the zip directory comes from
// the file and a corrupt one must not trigger a huge allocation, so it is only trusted up to
// what deflate can expand the member's bytes in an archive of `archive_size` to (1032:1);
// reserving it saves copying and faulting in a growing buffer.
inline std::vector<std::byte> read_member(zip_t* z, zip_uint64_t i, const std::string& name,
                                          std::uint64_t archive_size) {
  constexpr const char* where = "npz::read";
  std::unique_ptr<zip_file_t, zip_file_closer> f(zip_fopen_index(z, i, 0));
  require(f != nullptr, where,
          "cannot open member '" + name + "': " + zip_message(zip_get_error(z)));
  std::vector<std::byte> out;
  zip_stat_t st;
  constexpr zip_uint64_t sizes = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE;
  if (zip_stat_index(z, i, 0, &st) == 0 && (st.valid & sizes) == sizes)
    out.reserve(std::min<std::uint64_t>(st.size, std::min<std::uint64_t>(st.comp_size, archive_size) * 1032 + 1));
  std::byte chunk[1 << 16];
  for (;;) {
    const zip_int64_t n = zip_fread(f.get(), chunk, sizeof chunk);
    require(n >= 0, where,
            "cannot read member '" + name + "': " + zip_message(zip_file_get_error(f.get())));
    if (n == 0) break;
    out.insert(out.end(), chunk, chunk + n);
  }
  return out;
}

}  // namespace detail

// The members of an .npz held in memory, by name without ".npy". Folders are skipped.
inline archive read(byte_view in) {
  constexpr const char* where = "npz::read";
  // libzip opens zero bytes as an empty archive; for a data file that is a failed write.
  require(in.size > 0, where, "not a valid .npz (zip) archive: the input is empty");
  detail::local_zip_error err;
  zip_source_t* src = zip_source_buffer_create(in.data, in.size, 0, err.get());
  require(src != nullptr, where, "cannot read the buffer: " + detail::zip_message(err.get()));
  detail::zip_handle z(zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, err.get()));
  if (!z) {
    zip_source_free(src);  // still ours: only a successful open takes it over
    throw error(std::string(where) +
                "(): not a valid .npz (zip) archive: " + detail::zip_message(err.get()));
  }
  archive out;
  const zip_int64_t count = zip_get_num_entries(z.get(), 0);
  for (zip_int64_t i = 0; i < count; ++i) {
    const char* raw_name = zip_get_name(z.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_GUESS);
    require(raw_name != nullptr, where,
            "cannot read member names: " + detail::zip_message(zip_get_error(z.get())));
    std::string name = raw_name;
    if (detail::has_suffix(name, "/")) continue;
    std::vector<std::byte> bytes = detail::read_member(z.get(), static_cast<zip_uint64_t>(i), name, in.size);
    if (detail::has_suffix(name, ".npy")) name.resize(name.size() - 4);
    require(out.count(name) == 0, where, "member '" + name + "' occurs twice");
    out[name] = entry{name, std::move(bytes)};
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
  detail::local_zip_error err;
  zip_source_t* out = zip_source_buffer_create(nullptr, 0, 0, err.get());
  require(out != nullptr, where, "cannot create a buffer: " + detail::zip_message(err.get()));
  // The archive takes over `out`; keep a reference of our own to read the result after close.
  zip_source_keep(out);
  std::unique_ptr<zip_source_t, decltype(&zip_source_free)> out_ref(out, &zip_source_free);
  detail::zip_handle z(zip_open_from_source(out, ZIP_TRUNCATE, err.get()));
  if (!z) {
    zip_source_free(out);  // the reference the failed open did not take over
    throw error(std::string(where) +
                "(): cannot create an archive: " + detail::zip_message(err.get()));
  }

  for (const auto& [name, bytes] : members) {
    require(!name.empty() && name.find('/') == std::string::npos, where,
            "invalid member name '" + name + "'");
    zip_source_t* member = zip_source_buffer(z.get(), bytes.data(), bytes.size(), 0);
    require(member != nullptr, where,
            "cannot add '" + name + "': " + detail::zip_message(zip_get_error(z.get())));
    const zip_int64_t index =
        zip_file_add(z.get(), (name + ".npy").c_str(), member, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(member);
      throw error(std::string(where) + "(): cannot add '" + name +
                  "': " + detail::zip_message(zip_get_error(z.get())));
    }
    const auto i = static_cast<zip_uint64_t>(index);
    require(
        zip_set_file_compression(
            z.get(), i, method == compression::deflated ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0) == 0 &&
            zip_file_set_mtime(z.get(), i, 315532800, 0) == 0,  // 1980-01-01 00:00 UTC
        where, "cannot set up '" + name + "': " + detail::zip_message(zip_get_error(z.get())));
  }
  // zip_close writes (compressing now) and frees the archive only when it succeeds.
  require(zip_close(z.get()) == 0, where,
          "cannot write the archive: " + detail::zip_message(zip_get_error(z.get())));
  static_cast<void>(z.release());

  // Read the finished archive out of the buffer source.
  require(zip_source_open(out) == 0, where,
          "cannot read the archive back: " + detail::zip_message(zip_source_error(out)));
  const zip_int64_t size = zip_source_seek(out, 0, SEEK_END) == 0 ? zip_source_tell(out) : -1;
  std::vector<std::byte> result(size > 0 ? static_cast<std::size_t>(size) : 0);
  const bool ok = size >= 0 && zip_source_seek(out, 0, SEEK_SET) == 0 &&
                  zip_source_read(out, result.data(), result.size()) == size;
  const std::string message = ok ? std::string() : detail::zip_message(zip_source_error(out));
  zip_source_close(out);
  require(ok, where, "cannot read the archive back: " + message);
  return result;
}

// Baler's layout: "data", plus "names" when there are any.
inline std::vector<std::byte> write(const ndarray& data, const std::vector<std::string>& names,
                                    compression method) {
  std::vector<std::pair<std::string, std::vector<std::byte>>> members;
  members.emplace_back("data", npy::write(data));
  if (!names.empty()) members.emplace_back("names", npy::write_strings(names));
  return write(members, method);
}

}  // namespace baler::npz
