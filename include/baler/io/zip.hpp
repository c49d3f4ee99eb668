#pragma once
// Zip archives (PKWARE's APPNOTE), as much as numpy's .npz needs: members stored (method 0) or
// deflated (method 8, raw deflate through zlib), zip64, no encryption, no split archives.
//
//   [local header, data]...  central directory (one header per member)  [zip64 EOCD, locator]  EOCD
//
// The reader takes every size and offset from the central directory (so data descriptors,
// flag bit 3, need no handling) and only the name and extra lengths from the local header. Its
// input is untrusted: every field is bounds-checked, an allocation is never larger than what
// the member's compressed bytes can inflate to, and CRCs are checked (checksum_matches).
// The writer always writes zip64 as numpy does: one layout for every size, and np.load,
// Python's zipfile and this reader take it.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/format/checksum.hpp"
#include "baler/io/bytes.hpp"

namespace baler::zip {

enum class compression : std::uint16_t { stored = 0, deflated = 8 };  // the method field

// A member as the central directory describes it.
struct entry {
  std::string name;
  std::uint16_t flags = 0;
  std::uint16_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;
  std::uint64_t local_offset = 0;  // of its local header

  bool is_folder() const { return !name.empty() && name.back() == '/'; }
};

namespace detail {

constexpr std::uint32_t local_signature = 0x04034b50;    // "PK\3\4"
constexpr std::uint32_t central_signature = 0x02014b50;  // "PK\1\2"
constexpr std::uint32_t eocd_signature = 0x06054b50;     // "PK\5\6"
constexpr std::uint32_t eocd64_signature = 0x06064b50;   // "PK\6\6"
constexpr std::uint32_t locator_signature = 0x07064b50;  // "PK\6\7"
constexpr std::size_t local_size = 30, central_size = 46, eocd_size = 22, eocd64_size = 56,
                      locator_size = 20;
constexpr std::uint16_t zip64_extra_id = 0x0001;
constexpr std::uint32_t max32 = 0xFFFFFFFF;  // a 32-bit field whose value is in the zip64 extra
constexpr std::uint16_t max16 = 0xFFFF;
constexpr std::uint16_t flag_encrypted = 1 << 0, flag_utf8 = 1 << 11;
constexpr std::uint16_t version = 45;  // 4.5: zip64; also "made by" MS-DOS, so no Unix modes
constexpr std::uint16_t dos_date = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, time 00:00
// Deflate emits at least 2 bits per 258-byte match: no stream expands more than 1032:1.
constexpr std::uint64_t max_inflate_ratio = 1032;
inline uInt take_piece(std::size_t& left) {
  const std::size_t n = std::min(left, zlib_piece);
  left -= n;
  return static_cast<uInt>(n);
}

// z_stream::next_in is const only under ZLIB_CONST; zlib never writes through it.
inline Bytef* zlib_input(const std::byte* p) {
  return const_cast<Bytef*>(reinterpret_cast<const Bytef*>(p));
}

// Frees a z_stream's state however its user leaves (End is inflateEnd or deflateEnd).
template <int (*End)(z_streamp)>
struct zstream {
  z_stream s{};
  zstream() = default;
  zstream(const zstream&) = delete;
  zstream& operator=(const zstream&) = delete;
  ~zstream() { End(&s); }
};

}  // namespace detail

// The members of a zip archive held in memory; read() copies one out. Errors read
// "<where>(): not a valid <kind> archive: ..." for the archive and "<where>(): cannot read
// member '<name>': ..." for one member, where and kind naming the caller's format
// ("npz::read", ".npz (zip)").
class reader {
 public:
  reader(byte_view in, const char* where, const char* kind = "zip")
      : in_(in), where_(where), kind_(kind) {
    if (in.size == 0) fail_archive("the input is empty");
    const std::size_t eocd = find_eocd();
    std::uint64_t count = load(eocd + 10, 2);
    std::uint64_t cd_size = load(eocd + 12, 4);
    std::uint64_t cd_offset = load(eocd + 16, 4);
    std::size_t cd_limit = eocd;  // the directory ends before the records that describe it
    if (count == detail::max16 || cd_size == detail::max32 || cd_offset == detail::max32) {
      // zip64 locator (just before the EOCD): signature, disk, u64 offset of the zip64 EOCD,
      // disks. zip64 EOCD: signature, u64 record size, versions (2 x 2), disks (2 x 4),
      // u64 entries on this disk, u64 entries, u64 directory size, u64 directory offset.
      if (eocd < detail::locator_size ||
          load(eocd - detail::locator_size, 4) != detail::locator_signature)
        fail_archive("a 32-bit directory field is 0xFFFF... but there is no zip64 locator");
      const std::uint64_t eocd64 = load(eocd - detail::locator_size + 8, 8);
      if (eocd64 > eocd - detail::locator_size ||
          eocd - detail::locator_size - eocd64 < detail::eocd64_size ||
          load(eocd64, 4) != detail::eocd64_signature)
        fail_archive("the zip64 locator points to no zip64 end of central directory record");
      count = load(eocd64 + 32, 8);
      cd_size = load(eocd64 + 40, 8);
      cd_offset = load(eocd64 + 48, 8);
      cd_limit = static_cast<std::size_t>(eocd64);
    }
    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
      fail_archive("the central directory (" + std::to_string(cd_size) + " bytes at offset " +
                   std::to_string(cd_offset) + ") lies outside the " + std::to_string(in.size) +
                   " bytes of the archive");
    // Each header takes at least central_size bytes: the count cannot make us reserve more.
    entries_.reserve(
        static_cast<std::size_t>(std::min<std::uint64_t>(count, cd_size / detail::central_size)));
    std::size_t pos = static_cast<std::size_t>(cd_offset);
    const std::size_t end = pos + static_cast<std::size_t>(cd_size);
    for (std::uint64_t i = 0; i < count; ++i) pos = parse_central(pos, end, i);
  }

  const std::vector<entry>& entries() const { return entries_; }

  // The member's uncompressed bytes, their size and CRC-32 checked.
  std::vector<std::byte> read(const entry& e) const {
    if (e.flags & detail::flag_encrypted) fail(e, "it is encrypted");
    if (e.method != std::uint16_t(compression::stored) &&
        e.method != std::uint16_t(compression::deflated))
      fail(e, "unsupported compression method " + std::to_string(e.method) +
                  " (only 0, stored, and 8, deflated)");
    // Local header: signature, version, flags, method, time, date, CRC, sizes (2 x 4), name
    // length @26, extra length @28; the lengths may differ from the central directory's.
    if (e.local_offset > in_.size || in_.size - e.local_offset < detail::local_size ||
        load(e.local_offset, 4) != detail::local_signature)
      fail(e, "no local header at offset " + std::to_string(e.local_offset));
    const std::uint64_t data = e.local_offset + detail::local_size + load(e.local_offset + 26, 2) +
                               load(e.local_offset + 28, 2);
    if (data > in_.size || e.compressed_size > in_.size - data)
      fail(e, "its " + std::to_string(e.compressed_size) + " bytes at offset " +
                  std::to_string(data) + " lie outside the " + std::to_string(in_.size) +
                  " bytes of the archive");
    const byte_view packed(in_.data + data, static_cast<std::size_t>(e.compressed_size));

    std::vector<std::byte> out;
    if (e.method == std::uint16_t(compression::stored)) {
      if (e.size != e.compressed_size)
        fail(e, "stored, yet its size " + std::to_string(e.size) +
                    " differs from its stored size " + std::to_string(e.compressed_size));
      out.assign(packed.data, packed.data + packed.size);
    } else {
      if (e.size > e.compressed_size * detail::max_inflate_ratio + 1)
        fail(e, "its declared size " + std::to_string(e.size) + " is more than " +
                    std::to_string(e.compressed_size) + " deflated bytes can hold");
      out.resize(static_cast<std::size_t>(e.size));
      inflate_into(e, packed, out);
    }
    const std::uint32_t crc = crc32_of(out);
    if (!checksum_matches(e.crc, crc))
      fail(e, "CRC-32 mismatch (" + hex(crc) + ", the directory says " + hex(e.crc) +
                  "): the archive is corrupt");
    return out;
  }

 private:
  std::uint64_t load(std::uint64_t offset, std::size_t n) const {
    if (offset > in_.size || in_.size - offset < n)
      fail_archive("truncated: a field at offset " + std::to_string(offset) + " is past the end");
    return load_le(in_.data + offset, n);
  }

  // The last EOCD signature whose comment fits, scanning back over the longest comment
  // (65535 bytes). EOCD: signature, disk, directory disk, entries on this disk @8, entries
  // @10, directory size @12, directory offset @16, comment length @20, comment.
  std::size_t find_eocd() const {
    if (in_.size >= detail::eocd_size) {
      const std::size_t last = in_.size - detail::eocd_size;
      const std::size_t first = last - std::min<std::size_t>(last, detail::max16);
      for (std::size_t pos = last + 1; pos-- > first;)
        if (load_le(in_.data + pos, 4) == detail::eocd_signature &&
            load_le(in_.data + pos + 20, 2) <= last - pos)
          return pos;
    }
    fail_archive("no end of central directory record");
  }

  // One central directory header at pos (limit: the directory's end); returns the next one's
  // offset. Layout: signature, versions (2 x 2), flags @8, method @10, time, date, CRC @16,
  // compressed size @20, size @24, name length @28, extra length @30, comment length @32,
  // disk, attributes (2 + 4), local header offset @42, then name, extra and comment.
  std::size_t parse_central(std::size_t pos, std::size_t limit, std::uint64_t index) {
    if (limit - pos < detail::central_size ||
        load_le(in_.data + pos, 4) != detail::central_signature)
      fail_archive("central directory header " + std::to_string(index) + " at offset " +
                   std::to_string(pos) + " is missing or truncated");
    const std::size_t name_len = load_le(in_.data + pos + 28, 2);
    const std::size_t extra_len = load_le(in_.data + pos + 30, 2);
    const std::size_t comment_len = load_le(in_.data + pos + 32, 2);
    const std::size_t next = pos + detail::central_size + name_len + extra_len + comment_len;
    if (next > limit)
      fail_archive("central directory header " + std::to_string(index) + " at offset " +
                   std::to_string(pos) + " runs past the directory's end");
    entry e;
    e.name.assign(reinterpret_cast<const char*>(in_.data + pos + detail::central_size), name_len);
    e.flags = static_cast<std::uint16_t>(load_le(in_.data + pos + 8, 2));
    e.method = static_cast<std::uint16_t>(load_le(in_.data + pos + 10, 2));
    e.crc = static_cast<std::uint32_t>(load_le(in_.data + pos + 16, 4));
    e.compressed_size = load_le(in_.data + pos + 20, 4);
    e.size = load_le(in_.data + pos + 24, 4);
    e.local_offset = load_le(in_.data + pos + 42, 4);
    read_zip64_extra(e, byte_view(in_.data + pos + detail::central_size + name_len, extra_len));
    entries_.push_back(std::move(e));
    return next;
  }

  // Extra fields: u16 id, u16 length, data. The zip64 one (id 1) holds a u64 for each 32-bit
  // field that is 0xFFFFFFFF, in the order size, compressed size, local header offset.
  void read_zip64_extra(entry& e, byte_view extra) const {
    std::uint64_t* const fields[] = {&e.size, &e.compressed_size, &e.local_offset};
    bool wanted = false;
    for (std::uint64_t* f : fields) wanted = wanted || *f == detail::max32;
    if (!wanted) return;
    for (std::size_t pos = 0; extra.size - pos >= 4;) {
      const std::size_t id = load_le(extra.data + pos, 2), len = load_le(extra.data + pos + 2, 2);
      pos += 4;
      if (len > extra.size - pos) break;
      if (id == detail::zip64_extra_id) {
        std::size_t at = pos;
        for (std::uint64_t* f : fields) {
          if (*f != detail::max32) continue;
          if (pos + len - at < 8) fail(e, "its zip64 extra field is too short");
          *f = load_le(extra.data + at, 8);
          at += 8;
        }
        return;
      }
      pos += len;
    }
    fail(e, "a 32-bit size or offset is 0xFFFFFFFF but it has no zip64 extra field");
  }

  // Raw inflate (no zlib header: windowBits -15) of packed into out, which has the declared size.
  void inflate_into(const entry& e, byte_view packed, std::vector<std::byte>& out) const {
    detail::zstream<inflateEnd> z;
    if (inflateInit2(&z.s, -15) != Z_OK) fail(e, "zlib cannot start inflating (out of memory)");
    Bytef spare;  // zlib wants an output pointer even for zero bytes
    z.s.next_in = detail::zlib_input(packed.data);
    z.s.next_out = out.empty() ? &spare : reinterpret_cast<Bytef*>(out.data());
    std::size_t in_left = packed.size, out_left = out.size();
    int rc = Z_OK;
    while (rc == Z_OK) {
      if (z.s.avail_in == 0) z.s.avail_in = detail::take_piece(in_left);
      if (z.s.avail_out == 0) z.s.avail_out = detail::take_piece(out_left);
      rc = ::inflate(&z.s, Z_NO_FLUSH);
    }
    const bool input_left = in_left > 0 || z.s.avail_in > 0;
    const bool output_full = out_left == 0 && z.s.avail_out == 0;
    if (rc == Z_STREAM_END && output_full) return;
    if (rc == Z_STREAM_END)
      fail(e, "it inflates to " + std::to_string(out.size() - out_left - z.s.avail_out) +
                  " bytes, not the declared " + std::to_string(out.size()));
    if (rc == Z_BUF_ERROR && output_full && input_left)
      fail(e, "it inflates to more than the declared " + std::to_string(out.size()) + " bytes");
    if (rc == Z_BUF_ERROR) fail(e, "its deflate stream is truncated");
    if (rc == Z_DATA_ERROR)
      fail(e, std::string("its deflate stream is corrupt (") +
                  (z.s.msg ? z.s.msg : "no reason given") + ")");
    fail(e, "zlib cannot inflate it (error " + std::to_string(rc) + ")");
  }

  static std::string hex(std::uint32_t v) {
    static const char digits[] = "0123456789abcdef";
    std::string s = "0x00000000";
    for (int i = 9; i >= 2; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 0xF];
    return s;
  }

  [[noreturn]] void fail_archive(const std::string& what) const {
    throw error(std::string(where_) + "(): not a valid " + kind_ + " archive: " + what);
  }
  [[noreturn]] void fail(const entry& e, const std::string& what) const {
    throw error(std::string(where_) + "(): cannot read member '" + e.name + "': " + what);
  }

  byte_view in_;
  const char* where_;
  const char* kind_;
  std::vector<entry> entries_;
};

namespace detail {

// What the central directory repeats of a member written before.
struct written {
  byte_view name;
  std::uint32_t crc;
  std::uint64_t compressed_size;
  std::uint64_t size;
  std::uint64_t local_offset;
};

// The fields local and central headers share, from "version needed" to the CRC.
inline void put_common(std::vector<std::byte>& out, compression m, std::uint32_t crc) {
  append_le(out, version, 2);
  append_le(out, flag_utf8, 2);
  append_le(out, static_cast<std::uint16_t>(m), 2);
  append_le(out, 0, 2);  // time 00:00
  append_le(out, dos_date, 2);
  append_le(out, crc, 4);
}

// Raw deflate (windowBits -15) of in, written straight after out's end.
inline void deflate_onto(std::vector<std::byte>& out, byte_view in, const std::string& name,
                         const char* where) {
  zstream<deflateEnd> z;
  if (deflateInit2(&z.s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw error(std::string(where) + "(): zlib cannot start deflating '" + name +
                "' (out of memory)");
  const std::size_t start = out.size();
  out.resize(start + compressBound(in.size));  // also bounds raw deflate's output
  z.s.next_in = zlib_input(in.data);
  z.s.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  std::size_t in_left = in.size, out_left = out.size() - start;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (z.s.avail_in == 0) z.s.avail_in = take_piece(in_left);
    if (z.s.avail_out == 0) z.s.avail_out = take_piece(out_left);
    rc = ::deflate(&z.s, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
  }
  if (rc != Z_STREAM_END)
    throw error(std::string(where) + "(): zlib cannot deflate '" + name + "' (error " +
                std::to_string(rc) + ")");
  out.resize(out.size() - out_left - z.s.avail_out);
}

}  // namespace detail

// An archive of the members (UTF-8 names, in order), each deflated at zlib's default level or
// stored, in one buffer reserved up front. Every record has its zip64 form and every 32-bit
// size and offset field is 0xFFFF..., whatever the sizes; entries are dated 1980-01-01 00:00,
// so equal inputs give equal files. `where` names the caller in errors.
inline std::vector<std::byte> write(const std::vector<std::pair<std::string, byte_view>>& members,
                                    compression m, const char* where) {
  using namespace detail;
  constexpr std::size_t local_extra = 4 + 16, central_extra = 4 + 24;
  std::size_t reserve = eocd64_size + locator_size + eocd_size;
  for (const auto& [name, bytes] : members) {
    if (name.size() > max16)
      throw error(std::string(where) + "(): a member name of " + std::to_string(name.size()) +
                  " bytes is longer than zip's 65535");
    reserve += local_size + local_extra + central_size + central_extra + 2 * name.size() +
               (m == compression::deflated ? compressBound(bytes.size) : bytes.size);
  }
  std::vector<std::byte> out;
  out.reserve(reserve);
  const auto put_bytes = [&out](byte_view b) {
    if (b.size > 0) out.insert(out.end(), b.data, b.data + b.size);
  };

  std::vector<written> done;
  done.reserve(members.size());
  for (const auto& [name, bytes] : members) {
    written w{byte_view(name), crc32_of(bytes), 0, bytes.size, out.size()};
    // Local header (layout in reader::read), both sizes 0xFFFFFFFF; zip64 extra: id 1,
    // length 16, u64 size, u64 compressed size (set once known).
    append_le(out, local_signature, 4);
    put_common(out, m, w.crc);
    append_le(out, max32, 4);
    append_le(out, max32, 4);
    append_le(out, name.size(), 2);
    append_le(out, local_extra, 2);
    put_bytes(w.name);
    append_le(out, zip64_extra_id, 2);
    append_le(out, local_extra - 4, 2);
    append_le(out, w.size, 8);
    const std::size_t compressed_size_at = out.size();
    append_le(out, 0, 8);
    const std::size_t data = out.size();
    if (m == compression::deflated)
      deflate_onto(out, bytes, name, where);
    else
      put_bytes(bytes);
    w.compressed_size = out.size() - data;
    for (std::size_t i = 0; i < 8; ++i)
      out[compressed_size_at + i] = static_cast<std::byte>((w.compressed_size >> (8 * i)) & 0xFF);
    done.push_back(w);
  }

  const std::uint64_t cd_offset = out.size();
  for (const written& w : done) {
    // Central header (layout in reader::parse_central); zip64 extra: id 1, length 24, u64
    // size, u64 compressed size, u64 local header offset.
    append_le(out, central_signature, 4);
    append_le(out, version, 2);  // made by
    put_common(out, m, w.crc);
    append_le(out, max32, 4);
    append_le(out, max32, 4);
    append_le(out, w.name.size, 2);
    append_le(out, central_extra, 2);
    append_le(out, 0, 2 + 2 + 2);  // comment length, disk, internal attributes
    append_le(out, 0, 4);          // external attributes: none, for any host
    append_le(out, max32, 4);
    put_bytes(w.name);
    append_le(out, zip64_extra_id, 2);
    append_le(out, central_extra - 4, 2);
    append_le(out, w.size, 8);
    append_le(out, w.compressed_size, 8);
    append_le(out, w.local_offset, 8);
  }

  // zip64 EOCD and locator (layouts in reader's constructor), then the EOCD (reader::find_eocd)
  // that sends readers to them.
  const std::uint64_t eocd64 = out.size();
  append_le(out, eocd64_signature, 4);
  append_le(out, eocd64_size - 12, 8);  // the record's size after this field
  append_le(out, version, 2);
  append_le(out, version, 2);
  append_le(out, 0, 4 + 4);
  append_le(out, done.size(), 8);
  append_le(out, done.size(), 8);
  append_le(out, eocd64 - cd_offset, 8);
  append_le(out, cd_offset, 8);
  append_le(out, locator_signature, 4);
  append_le(out, 0, 4);
  append_le(out, eocd64, 8);
  append_le(out, 1, 4);
  append_le(out, eocd_signature, 4);
  append_le(out, 0, 2 + 2);
  append_le(out, max16, 2);
  append_le(out, max16, 2);
  append_le(out, max32, 4);
  append_le(out, max32, 4);
  append_le(out, 0, 2);
  return out;
}

}  // namespace baler::zip
