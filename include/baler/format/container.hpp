#pragma once
// The container layer of a .baler file: a JSON header and named binary sections, each
// checksummed and optionally zstd-compressed. What the sections mean is the codec's business;
// this layer only guarantees that what was written is what is read, or an error.
//
// Byte layout, format version 1 (all integers little-endian):
//
//   offset   size   field
//   0        8      magic 89 42 4C 52 0D 0A 1A 0A ("\x89BLR\r\n\x1A\n", PNG's scheme): the high
//                   byte catches 7-bit transfers, CR LF and the lone LF catch line-ending
//                   conversion either way, 1A stops a DOS `type`.
//   8        4      u32 format version. Versions the layout below, not the library.
//   12       4      u32 header flags: bit 0 = the JSON is zstd-compressed; bit 1 = against
//                   header_dictionary_v1 (header_dictionary.hpp), with bit 0 only; other bits 0
//   16       8      u64 J, length of the JSON text
//   24       8      u64 H, length of the header as stored (J when not compressed)
//   32       H      JSON header (UTF-8, one object), zstd-compressed when that is smaller: a
//                   field of thousands of columns has kilobytes of per-column numbers
//   32+H     4      u32 CRC-32 of bytes [8, 32+H): version, flags, lengths and header
//   36+H     4      u32 N, number of sections
//   40+H     28*N   section table, one entry per section:
//                     4  kind tag, 4 printable ASCII characters ("LATN", "DECW", ...)
//                     4  u32 flags: bit 0 = zstd-compressed; other bits must be 0
//                     8  u64 stored size (bytes in the file)
//                     8  u64 raw size (bytes after decompression; equals stored if not compressed)
//                     4  u32 CRC-32 of the stored bytes
//   40+H+28N 4      u32 CRC-32 of the table, from N through the last entry
//   ...             the stored payloads, back to back in table order; the file ends there.
//
// Every byte is covered: the magic and version are compared, the rest by the CRCs, and lengths
// are checked against the bytes that remain before anything is allocated or read. A reader
// keeps every section, known kind or not; the codec looks up what it needs and ignores the rest,
// which is how newer files with extra sections stay readable. A newer format version is refused.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/core/error.hpp"
#include "baler/format/byte_io.hpp"
#include "baler/format/checksum.hpp"
#include "baler/format/header_dictionary.hpp"
#include "baler/format/zstd.hpp"
#include "baler/io/bytes.hpp"

namespace baler::format {

constexpr char magic[8] = {'\x89', 'B', 'L', 'R', '\r', '\n', '\x1A', '\n'};
// The single-blob layout below is format version 1; a chunked file (chunked.hpp) is version 2
// and holds version-1 containers as its shared part and its chunks.
constexpr std::uint32_t format_version = 1;
constexpr std::uint32_t chunked_format_version = 2;
constexpr std::uint32_t flag_zstd = 1;
constexpr std::uint32_t flag_header_dictionary = 2;  // header flags only

struct section {
  std::string kind;  // exactly 4 printable ASCII characters, unique within a container
  std::vector<std::byte> payload;
};

// An integer from a file's JSON header (a size, a count, an id, an offset). nlohmann casts a
// float to an integer plainly, undefined beyond the integer's range ({"shape": [6e63]}), and
// wraps an integer of the wrong sign or width: anything but a whole number in T's range is a
// corrupt file.
template <class T>
T header_int(const nlohmann::json& v, const std::string& what) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  using limits = std::numeric_limits<T>;
  bool fits = false;
  if (v.is_number_unsigned()) {
    fits = v.get<std::uint64_t>() <= std::uint64_t(limits::max());
  } else if (v.is_number_integer()) {
    const std::int64_t x = v.get<std::int64_t>();
    fits = x >= 0 ? std::uint64_t(x) <= std::uint64_t(limits::max()) : std::is_signed_v<T> && x >= std::int64_t(limits::min());
  }
  require(fits, "format::header_int",
          what + " must be a whole number from " + std::to_string(limits::min()) + " to " +
              std::to_string(limits::max()) + ", not " +
              v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return v.get<T>();
}
inline std::size_t header_size(const nlohmann::json& v, const std::string& what) {
  return header_int<std::size_t>(v, what);
}
inline std::vector<std::size_t> header_sizes(const nlohmann::json& v, const std::string& what) {
  require(v.is_array(), "format::header_sizes", what + " must be an array");
  std::vector<std::size_t> out;
  for (const nlohmann::json& x : v) out.push_back(header_size(x, what));
  return out;
}

struct container {
  nlohmann::json header = nlohmann::json::object();
  std::vector<section> sections;

  const section* find(const std::string& kind) const {
    for (const section& s : sections)
      if (s.kind == kind) return &s;
    return nullptr;
  }

  const section& get(const std::string& kind) const {
    const section* s = find(kind);
    require(s != nullptr, "container::get", "the file has no '" + kind + "' section");
    return *s;
  }
};

// Each section is compressed with zstd at `level` and stored compressed only if that is smaller.
struct compression_policy {
  bool enabled = true;
  int level = zstd_default_level;

  static compression_policy none() { return {false, zstd_default_level}; }
  static compression_policy zstd(int level = zstd_default_level) { return {true, level}; }
};

struct section_info {
  std::string kind;
  std::uint64_t raw_size = 0;
  std::uint64_t stored_size = 0;
  bool compressed = false;
};

struct container_info {
  std::uint32_t format_version = 0;
  std::uint64_t file_size = 0;
  std::uint64_t header_size = 0;         // bytes of JSON
  std::uint64_t header_stored_size = 0;  // bytes the header takes in the file
  nlohmann::json header;
  std::vector<section_info> sections;
};

namespace detail {

constexpr std::size_t table_entry_size = 28;

inline bool valid_kind(const std::string& kind) {
  if (kind.size() != 4) return false;
  for (char c : kind)
    if (c < 0x20 || c > 0x7E) return false;
  return true;
}

// Names the usual ways a binary file gets mangled, so the user learns why it does not open.
inline void check_magic(byte_reader& r, const char* where) {
  const byte_view m = r.read_bytes(sizeof magic, "magic");
  const auto at = [&](std::size_t i) { return static_cast<char>(m.data[i]); };
  bool same = true;
  for (std::size_t i = 0; i < sizeof magic; ++i) same = same && at(i) == magic[i];
  if (same) return;
  const bool prefix = at(1) == 'B' && at(2) == 'L' && at(3) == 'R';
  require(!(prefix && at(0) == '\x89'), where,
          "damaged .baler magic: line endings were converted (file transferred in text mode?)");
  require(!(prefix && at(0) == '\x09'), where, "damaged .baler magic: the high bit was stripped (7-bit transfer?)");
  throw error(std::string(where) + "(): not a .baler file (wrong magic)");
}

inline byte_view dictionary() {
  return byte_view(reinterpret_cast<const std::byte*>(header_dictionary_v1.data()), header_dictionary_v1.size());
}

struct entry {
  section_info info;
  std::uint32_t crc = 0;
  byte_view stored;
};

struct layout {
  container_info info;
  std::vector<entry> entries;
};

// Reads and checks everything but the payload checksums and contents.
inline layout read_layout(byte_view in, const char* where) {
  layout out;
  out.info.file_size = in.size;
  byte_reader r(in);
  check_magic(r, where);

  const std::size_t header_begin = r.offset();  // the header CRC starts at the version
  const std::uint32_t version = r.read_u32("format version");
  require(version != 0, where, "invalid format version 0");
  require(version != chunked_format_version, where,
          "this is a chunked file (format version 2): read it with format::chunked_reader");
  require(version <= format_version, where,
          "the file has format version " + std::to_string(version) +
              ", newer than this build of baler reads (format version " +
              std::to_string(chunked_format_version) + "); update baler to read it");
  out.info.format_version = version;
  const std::uint32_t header_flags = r.read_u32("header flags");
  const std::uint64_t json_size = r.read_u64("header length");
  const byte_view stored_header = r.read_bytes(r.read_u64("stored header length"), "JSON header");
  const std::uint32_t header_crc = crc32_of(r.since(header_begin));
  require(checksum_matches(r.read_u32("header CRC-32"), header_crc), where, "header checksum mismatch: the file is corrupt");
  require((header_flags & ~(flag_zstd | flag_header_dictionary)) == 0, where,
          "the header has unknown flags " + std::to_string(header_flags) + " (written by a newer baler?)");
  const bool compressed_header = (header_flags & flag_zstd) != 0;
  const bool with_dictionary = (header_flags & flag_header_dictionary) != 0;
  require(compressed_header || !with_dictionary, where, "a header dictionary flag without compression");
  require(compressed_header || json_size == stored_header.size, where,
          "uncompressed header with different stored and raw sizes");
  std::vector<std::byte> inflated;
  if (compressed_header)
    inflated = zstd_decompress(stored_header, json_size, zstd_default_max_size,
                               with_dictionary ? dictionary() : byte_view());
  const byte_view json_text = compressed_header ? byte_view(inflated) : stored_header;
  out.info.header_size = json_text.size;
  out.info.header_stored_size = stored_header.size;
  const char* text = reinterpret_cast<const char*>(json_text.data);
  out.info.header = nlohmann::json::parse(text, text + json_text.size, nullptr, /*allow_exceptions=*/false);
  require(!out.info.header.is_discarded() && out.info.header.is_object(), where,
          "the header is not a JSON object");

  const std::size_t table_begin = r.offset();
  const std::uint32_t count = r.read_u32("section count");
  byte_reader table(r.read_bytes(std::uint64_t(count) * table_entry_size, "section table"));
  const std::uint32_t table_crc = crc32_of(r.since(table_begin));
  require(checksum_matches(r.read_u32("section table CRC-32"), table_crc), where,
          "section table checksum mismatch: the file is corrupt");

  std::set<std::string> kinds;
  out.entries.resize(count);
  for (entry& e : out.entries) {
    const byte_view tag = table.read_bytes(4, "section kind");
    e.info.kind.assign(reinterpret_cast<const char*>(tag.data), tag.size);
    const std::uint32_t flags = table.read_u32("section flags");
    e.info.stored_size = table.read_u64("section stored size");
    e.info.raw_size = table.read_u64("section raw size");
    e.crc = table.read_u32("section CRC-32");
    require(valid_kind(e.info.kind), where, "invalid section kind tag");
    require(kinds.insert(e.info.kind).second, where, "duplicate section '" + e.info.kind + "'");
    require((flags & ~flag_zstd) == 0, where,
            "section '" + e.info.kind + "' has unknown flags " + std::to_string(flags));
    e.info.compressed = (flags & flag_zstd) != 0;
    require(e.info.compressed || e.info.raw_size == e.info.stored_size, where,
            "uncompressed section '" + e.info.kind + "' has different stored and raw sizes");
  }
  for (entry& e : out.entries) {
    e.stored = r.read_bytes(e.info.stored_size, "section payload");
    out.info.sections.push_back(e.info);
  }
  require(r.at_end(), where, std::to_string(r.remaining()) + " unexpected bytes after the last section");
  return out;
}

}  // namespace detail

inline std::vector<std::byte> serialize(const container& c, compression_policy policy = {}) {
  const char* where = "container::serialize";
  require(c.header.is_object(), where, "the header must be a JSON object");
  // Checked here, not first when a section is compressed, so a bad setting fails on any input.
  if (policy.enabled) require_zstd_level(policy.level, where);
  std::string json_text;
  try {
    json_text = c.header.dump();
  } catch (const nlohmann::json::exception& e) {  // strings that are not valid UTF-8
    throw error(std::string(where) + "(): the header cannot be written as JSON: " + e.what());
  }

  std::set<std::string> kinds;
  std::vector<std::vector<std::byte>> compressed(c.sections.size());
  std::vector<byte_view> stored(c.sections.size());
  for (std::size_t i = 0; i < c.sections.size(); ++i) {
    const section& s = c.sections[i];
    require(detail::valid_kind(s.kind), where,
            "section kind '" + s.kind + "' is not 4 printable ASCII characters");
    require(kinds.insert(s.kind).second, where, "duplicate section '" + s.kind + "'");
    stored[i] = byte_view(s.payload);
    if (!policy.enabled || s.payload.empty()) continue;
    compressed[i] = zstd_compress(s.payload, policy.level);
    if (compressed[i].size() < s.payload.size()) stored[i] = byte_view(compressed[i]);
    else compressed[i] = {};
  }

  std::vector<std::byte> packed_header;
  if (policy.enabled) packed_header = zstd_compress(byte_view(json_text), 19, detail::dictionary());
  const bool pack = !packed_header.empty() && packed_header.size() < json_text.size();
  const byte_view header = pack ? byte_view(packed_header) : byte_view(json_text);

  std::size_t total = sizeof magic + 32 + header.size + 8 + detail::table_entry_size * c.sections.size();
  for (const byte_view& s : stored) total += s.size;
  byte_writer w;
  w.reserve(total);
  w.write_bytes(byte_view(reinterpret_cast<const std::byte*>(magic), sizeof magic));
  w.write_u32(format_version);
  w.write_u32(pack ? flag_zstd | flag_header_dictionary : 0);
  w.write_u64(json_text.size());
  w.write_u64(header.size);
  w.write_bytes(header);
  w.write_u32(crc32_of(byte_view(w.bytes()).subview(sizeof magic)));

  const std::size_t table_begin = w.size();
  w.write_u32(static_cast<std::uint32_t>(c.sections.size()));
  for (std::size_t i = 0; i < c.sections.size(); ++i) {
    w.write_bytes(byte_view(c.sections[i].kind));
    w.write_u32(compressed[i].empty() ? 0 : flag_zstd);
    w.write_u64(stored[i].size);
    w.write_u64(c.sections[i].payload.size());
    w.write_u32(crc32_of(stored[i]));
  }
  w.write_u32(crc32_of(byte_view(w.bytes()).subview(table_begin)));
  for (const byte_view& s : stored) w.write_bytes(s);
  return w.take();
}

// Structure, sizes and header of a file, without reading the payloads: what `baler info` shows.
inline container_info inspect(byte_view bytes) { return detail::read_layout(bytes, "container::inspect").info; }

// Verifies every checksum and decompresses every section. `max_section_size` bounds the
// decompressed size of one section, so a lying size field cannot exhaust memory.
inline container parse(byte_view bytes, std::uint64_t max_section_size = zstd_default_max_size) {
  const char* where = "container::parse";
  detail::layout l = detail::read_layout(bytes, where);
  container c;
  c.header = std::move(l.info.header);
  c.sections.reserve(l.entries.size());
  for (const detail::entry& e : l.entries) {
    require(checksum_matches(e.crc, crc32_of(e.stored)), where, "section '" + e.info.kind + "' checksum mismatch: the file is corrupt");
    section s{e.info.kind, {}};
    if (e.info.compressed) s.payload = zstd_decompress(e.stored, e.info.raw_size, max_section_size);
    else s.payload.assign(e.stored.data, e.stored.data + e.stored.size);
    c.sections.push_back(std::move(s));
  }
  return c;
}

}  // namespace baler::format
