#pragma once
// The container layer of a .baler file: a JSON header and named binary sections, each
// checksummed and optionally zstd-compressed. What the sections mean is the codec's business;
// this layer only guarantees that what was written is what is read, or an error.
//
// Byte layout, format versions 3 to 6 (integers little-endian; "varint" is LEB128, byte_io.hpp):
//
//   size   field
//   8      magic 89 42 4C 52 0D 0A 1A 0A ("\x89BLR\r\n\x1A\n", PNG's scheme): the high
//          byte catches 7-bit transfers, CR LF and the lone LF catch line-ending
//          conversion either way, 1A stops a DOS `type`.
//   4      u32 format version. Versions the layout below, not the library; versions 4 to 6
//          have version 3's layout, their numbers telling readers before them that the header
//          may hold what they would misread (4: a table column's NaN coded as values,
//          "nan_below"; 5: 64-bit integers held less an offset, "integer_offsets"; 6: leaves
//          out what a reader derives, a column's name from the input's and an abs code's step
//          from its bound).
//   var    varint header flags: bit 0 = the JSON is zstd-compressed; bit 1 = against
//          header_dictionary_v1, bit 2 = against v2 (header_dictionary.hpp), with bit 0 only;
//          other bits 0
//   var    varint J, length of the JSON text
//   var    varint H, length of the header as stored (J when not compressed)
//   H      JSON header (UTF-8, one object), zstd-compressed when that is smaller: a field of
//          thousands of columns has kilobytes of per-column numbers
//   var    varint N, number of sections
//   ...    section table, one entry per section:
//            4    kind tag, 4 printable ASCII characters ("LATN", "DECW", ...)
//            var  varint flags: bit 0 = zstd-compressed; other bits must be 0
//            var  varint stored size (bytes in the file)
//            var  varint raw size (bytes after decompression), compressed sections only
//   ...    the stored payloads, back to back in table order
//   4      u32 CRC-32 of everything from the version to here; the file ends there.
// A zstd-compressed header or payload is a zstd frame without its 4-byte magic (FD2FB528), which
// the flag already says.
//
// Format version 1, still read, has the same fields at fixed widths (u32 flags, u64 J, u64 H,
// u32 N, and per entry u32 flags, u64 stored and u64 raw size), whole zstd frames and a CRC-32
// each for the version and header, the table from N, and every payload. That is 44 + 28 N bytes
// of framing where version 3 takes about 22 + 7 N: a tenth of a small field's file.
//
// Every byte is covered: the magic and version are compared, the rest by the CRCs, and lengths
// are checked against the bytes that remain before anything is allocated or read. A reader
// keeps every section, known kind or not; the codec looks up what it needs and ignores the rest,
// which is how newer files with extra sections stay readable. A newer format version is refused.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
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
// The single-blob layout above is format version 6 (written), 5, 4, 3 or 1 (read); a chunked file
// (chunked.hpp) is version 2 and holds single-blob containers as its shared part and its chunks.
constexpr std::uint32_t format_version = 6;
constexpr std::uint32_t compact_format_version = 3;  // the first with varints and one CRC
constexpr std::uint32_t chunked_format_version = 2;
constexpr std::uint32_t flag_zstd = 1;
constexpr std::uint32_t flag_header_dictionary = 2;     // header flags only: version 1 of the text
constexpr std::uint32_t flag_header_dictionary_v2 = 4;  // header flags only: version 2

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
// An array of header_ints; with N > 0, of exactly N.
template <class T>
std::vector<T> header_ints(const nlohmann::json& v, const std::string& what, std::size_t n = 0) {
  require(v.is_array() && (n == 0 || v.size() == n), "format::header_ints",
          what + " must be an array" + (n ? " of " + std::to_string(n) : std::string()));
  std::vector<T> out;
  for (const nlohmann::json& x : v) out.push_back(header_int<T>(x, what));
  return out;
}
template <class T, std::size_t N>
std::array<T, N> header_int_array(const nlohmann::json& v, const std::string& what) {
  const std::vector<T> xs = header_ints<T>(v, what, N);
  std::array<T, N> out{};
  std::copy(xs.begin(), xs.end(), out.begin());
  return out;
}
inline std::vector<std::size_t> header_sizes(const nlohmann::json& v, const std::string& what) {
  return header_ints<std::size_t>(v, what);
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

// The header dictionary a header's flags name (none when they name none).
inline byte_view dictionary(std::uint64_t header_flags) {
  const auto view = [](std::string_view s) { return byte_view(reinterpret_cast<const std::byte*>(s.data()), s.size()); };
  static const std::string v2 = std::string(header_dictionary_v1) + std::string(header_dictionary_v2_tail);
  if (header_flags & flag_header_dictionary) return view(header_dictionary_v1);
  if (header_flags & flag_header_dictionary_v2) return view(v2);
  return byte_view();
}

// An integer field of the container: a varint in version 3, `fixed_bytes` wide in version 1.
inline std::uint64_t read_field(byte_reader& r, bool varint, std::size_t fixed_bytes, const char* what) {
  return varint ? r.read_varint(what) : fixed_bytes == 4 ? r.read_u32(what) : r.read_u64(what);
}
// The least bytes a version-3 table entry takes: kind and two one-byte varints.
constexpr std::size_t compact_entry_min_size = 6;

// Version 3 stores zstd frames without their magic number: bare() drops it, inflate() puts it
// back (`bare`) before decompressing.
constexpr std::size_t zstd_magic_size = 4;
constexpr unsigned char zstd_magic[zstd_magic_size] = {0x28, 0xB5, 0x2F, 0xFD};
inline std::vector<std::byte> bare(std::vector<std::byte> frame) {
  frame.erase(frame.begin(), frame.begin() + zstd_magic_size);
  return frame;
}
inline std::vector<std::byte> inflate(byte_view stored, bool bare, std::uint64_t raw_size, std::uint64_t max_size,
                                      byte_view dictionary = {}) {
  if (!bare) return zstd_decompress(stored, raw_size, max_size, dictionary);
  std::vector<std::byte> frame(zstd_magic_size + stored.size);
  std::memcpy(frame.data(), zstd_magic, zstd_magic_size);
  if (stored.size) std::memcpy(frame.data() + zstd_magic_size, stored.data, stored.size);
  return zstd_decompress(frame, raw_size, max_size, dictionary);
}

struct entry {
  section_info info;
  std::optional<std::uint32_t> crc;  // version 1's per-section CRC; version 3 has one for the file
  byte_view stored;
};

struct layout {
  container_info info;
  std::vector<entry> entries;
};

// Reads and checks the layout: in version 3 every byte (one CRC), in version 1 everything but
// the payloads' checksums, which parse() checks.
inline layout read_layout(byte_view in, const char* where) {
  layout out;
  out.info.file_size = in.size;
  byte_reader r(in);
  check_magic(r, where);

  const std::size_t header_begin = r.offset();  // the CRCs start at the version
  const std::uint32_t version = r.read_u32("format version");
  require(version != 0, where, "invalid format version 0");
  require(version != chunked_format_version, where,
          "this is a chunked file (format version 2): read it with format::chunked_reader");
  require(version <= format_version, where,
          "the file has format version " + std::to_string(version) +
              ", newer than this build of baler reads (format version " + std::to_string(format_version) +
              "); update baler to read it");
  out.info.format_version = version;
  const bool varints = version >= compact_format_version;
  if (varints) {  // the CRC first: nothing below reads a damaged byte
    require(r.remaining() >= 4, where, "truncated: no room for the file's CRC-32");
    const byte_view body(in.data + header_begin, in.size - header_begin - 4);
    require(checksum_matches(std::uint32_t(load_le(in.data + in.size - 4, 4)), crc32_of(body)), where,
            "checksum mismatch: the file is corrupt or truncated");
    r = byte_reader(byte_view(in.data, in.size - 4));
    r.skip(header_begin + 4);
  }
  const std::uint64_t header_flags = read_field(r, varints, 4, "header flags");
  const std::uint64_t json_size = read_field(r, varints, 8, "header length");
  const byte_view stored_header = r.read_bytes(read_field(r, varints, 8, "stored header length"), "JSON header");
  if (!varints) {
    const std::uint32_t header_crc = crc32_of(r.since(header_begin));
    require(checksum_matches(r.read_u32("header CRC-32"), header_crc), where, "header checksum mismatch: the file is corrupt");
  }
  constexpr std::uint64_t known_header_flags = flag_zstd | flag_header_dictionary | flag_header_dictionary_v2;
  require((header_flags & ~known_header_flags) == 0, where,
          "the header has unknown flags " + std::to_string(header_flags) + " (written by a newer baler?)");
  const bool compressed_header = (header_flags & flag_zstd) != 0;
  const bool with_dictionary = (header_flags & (flag_header_dictionary | flag_header_dictionary_v2)) != 0;
  require(compressed_header || !with_dictionary, where, "a header dictionary flag without compression");
  require((header_flags & flag_header_dictionary) == 0 || (header_flags & flag_header_dictionary_v2) == 0, where,
          "the header names two dictionaries");
  require(compressed_header || json_size == stored_header.size, where,
          "uncompressed header with different stored and raw sizes");
  std::vector<std::byte> inflated;
  if (compressed_header)
    inflated = inflate(stored_header, varints, json_size, zstd_default_max_size, dictionary(header_flags));
  const byte_view json_text = compressed_header ? byte_view(inflated) : stored_header;
  out.info.header_size = json_text.size;
  out.info.header_stored_size = stored_header.size;
  const char* text = reinterpret_cast<const char*>(json_text.data);
  out.info.header = nlohmann::json::parse(text, text + json_text.size, nullptr, /*allow_exceptions=*/false);
  require(!out.info.header.is_discarded() && out.info.header.is_object(), where,
          "the header is not a JSON object");

  // Version 1's table is read whole and its CRC checked before its entries are; its size, as
  // version 3's count, is checked against the bytes left before anything is allocated.
  const std::size_t table_begin = r.offset();
  const std::uint64_t count = read_field(r, varints, 4, "section count");
  byte_reader fixed_table(varints ? byte_view() : r.read_bytes(count * table_entry_size, "section table"));
  if (!varints) {
    const std::uint32_t table_crc = crc32_of(r.since(table_begin));
    require(checksum_matches(r.read_u32("section table CRC-32"), table_crc), where,
            "section table checksum mismatch: the file is corrupt");
  }
  byte_reader& table = varints ? r : fixed_table;
  require(count <= table.remaining() / (varints ? compact_entry_min_size : table_entry_size), where,
          "a table of " + std::to_string(count) + " sections does not fit in the " + std::to_string(table.remaining()) +
              " bytes left: the file is corrupt");

  std::set<std::string> kinds;
  out.entries.resize(count);
  for (entry& e : out.entries) {
    const byte_view tag = table.read_bytes(4, "section kind");
    e.info.kind.assign(reinterpret_cast<const char*>(tag.data), tag.size);
    const std::uint64_t flags = read_field(table, varints, 4, "section flags");
    e.info.stored_size = read_field(table, varints, 8, "section stored size");
    e.info.raw_size = varints && !(flags & flag_zstd) ? e.info.stored_size : read_field(table, varints, 8, "section raw size");
    if (!varints) e.crc = table.read_u32("section CRC-32");
    require(valid_kind(e.info.kind), where, "invalid section kind tag");
    require(kinds.insert(e.info.kind).second, where, "duplicate section '" + e.info.kind + "'");
    require((flags & ~std::uint64_t(flag_zstd)) == 0, where,
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
    compressed[i] = detail::bare(zstd_compress(s.payload, policy.level));
    if (compressed[i].size() < s.payload.size()) stored[i] = byte_view(compressed[i]);
    else compressed[i] = {};
  }

  constexpr std::uint32_t packed_flags = flag_zstd | flag_header_dictionary_v2;
  std::vector<std::byte> packed_header;
  if (policy.enabled)
    packed_header = detail::bare(zstd_compress(byte_view(json_text), 19, detail::dictionary(packed_flags)));
  const bool pack = !packed_header.empty() && packed_header.size() < json_text.size();
  const byte_view header = pack ? byte_view(packed_header) : byte_view(json_text);

  std::size_t total = sizeof magic + 4 + 4 * 10 + header.size + 4 + 34 * c.sections.size();  // varints at most 10
  for (const byte_view& s : stored) total += s.size;
  byte_writer w;
  w.reserve(total);
  w.write_bytes(byte_view(reinterpret_cast<const std::byte*>(magic), sizeof magic));
  w.write_u32(format_version);
  w.write_varint(pack ? packed_flags : 0);
  w.write_varint(json_text.size());
  w.write_varint(header.size);
  w.write_bytes(header);
  w.write_varint(c.sections.size());
  for (std::size_t i = 0; i < c.sections.size(); ++i) {
    w.write_bytes(byte_view(c.sections[i].kind));
    w.write_varint(compressed[i].empty() ? 0 : flag_zstd);
    w.write_varint(stored[i].size);
    if (!compressed[i].empty()) w.write_varint(c.sections[i].payload.size());
  }
  for (const byte_view& s : stored) w.write_bytes(s);
  w.write_u32(crc32_of(byte_view(w.bytes()).subview(sizeof magic)));
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
    require(!e.crc || checksum_matches(*e.crc, crc32_of(e.stored)), where, "section '" + e.info.kind + "' checksum mismatch: the file is corrupt");
    section s{e.info.kind, {}};
    const bool bare = l.info.format_version >= compact_format_version;
    if (e.info.compressed) s.payload = detail::inflate(e.stored, bare, e.info.raw_size, max_section_size);
    else s.payload.assign(e.stored.data, e.stored.data + e.stored.size);
    c.sections.push_back(std::move(s));
  }
  return c;
}

}  // namespace baler::format
