#pragma once
// The chunked .baler file, format version 2: data cut into chunks along the leading axis (rows
// of a table, frames of a field), each chunk an ordinary single-blob container (container.hpp:
// version 6, or 5, 4, 3 or 1 from older writers) that decodes on its own, one shared part (the model, when
// the chunks share one) stored once, and an index at the end so a reader fetches any row range
// without touching the other chunks.
//
// Byte layout (all integers little-endian):
//
//   offset   size   field
//   0        8      magic, as in container.hpp
//   8        4      u32 format version (2)
//   12       4      u32 flags, 0
//   16       8      u64 S, size of the shared part
//   24       S      shared part: a single-blob container; its JSON header says what the chunks hold
//                   (kind "baler.chunked", input shape, dtype, names, chunk rows, mode, bound),
//                   its optional MODL section the model file the chunks were compressed with
//   24+S     ...    chunk payloads, back to back in row order, each a single-blob container
//   I        36*N   index, one entry per chunk: u64 offset, u64 size, u64 first row, u64 rows,
//                   u32 CRC-32 of the payload
//   I+36N    8      u64 I, offset of the index
//   +8       8      u64 N, number of chunks
//   +16      4      u32 CRC-32 of the index and the two fields above
//   +20      4      "BLRI", the end tag
//
// The index is checked by its CRC and for consistency (chunks contiguous, rows contiguous from
// 0); a chunk's payload by its own CRC when it is read, so a damaged chunk is named by number
// and every other chunk still decodes.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/format/byte_io.hpp"
#include "baler/format/checksum.hpp"
#include "baler/format/container.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/random_access_file.hpp"

namespace baler::format {

struct chunk_entry {
  std::uint64_t offset = 0, size = 0, first_row = 0, rows = 0;
  std::uint32_t crc = 0;
};

namespace detail {
constexpr std::size_t chunk_entry_size = 36;
constexpr std::size_t chunked_footer_size = 24;
constexpr char end_tag[4] = {'B', 'L', 'R', 'I'};
constexpr std::size_t chunked_preamble_size = 24;
}  // namespace detail

// The format version of a file from its first 12 bytes (0 when it is not a .baler file), so a
// caller can pick the single-blob or the chunked reader.
inline std::uint32_t version_of(byte_view first_bytes) {
  if (first_bytes.size < 12) return 0;
  for (std::size_t i = 0; i < sizeof magic; ++i)
    if (first_bytes.data[i] != std::byte(magic[i])) return 0;
  return static_cast<std::uint32_t>(load_le(first_bytes.data + 8, 4));
}
inline std::uint32_t version_of(const std::filesystem::path& path) {
  const random_access_file f(path);
  return f.size() < 12 ? 0 : version_of(byte_view(f.read(0, 12)));
}

// The bytes before the first chunk: magic, version, flags, the shared part's size, the shared part.
inline std::vector<std::byte> chunked_head(const container& shared) {
  const std::vector<std::byte> s = serialize(shared);
  byte_writer w;
  w.write_bytes(byte_view(reinterpret_cast<const std::byte*>(magic), sizeof magic));
  w.write_u32(chunked_format_version);
  w.write_u32(0);
  w.write_u64(s.size());
  w.write_bytes(s);
  return w.bytes();
}

// The bytes after the last chunk, which ends at index_offset: the index, its offset, the chunk
// count, their CRC and the end tag.
inline std::vector<std::byte> chunked_tail(const std::vector<chunk_entry>& index, std::uint64_t index_offset) {
  byte_writer w;
  for (const chunk_entry& e : index) {
    w.write_u64(e.offset), w.write_u64(e.size), w.write_u64(e.first_row), w.write_u64(e.rows);
    w.write_u32(e.crc);
  }
  w.write_u64(index_offset);
  w.write_u64(index.size());
  w.write_u32(crc32_of(w.bytes()));
  w.write_bytes(byte_view(reinterpret_cast<const std::byte*>(detail::end_tag), 4));
  return w.bytes();
}

// Writes chunks in row order, then the index; the file appears atomically at finish().
class chunked_writer {
public:
  chunked_writer(const std::filesystem::path& path, bool overwrite, const container& shared)
      : out_(path, overwrite) {
    out_.write(chunked_head(shared));
  }

  void add(byte_view chunk, std::uint64_t rows) {
    require(rows > 0, "chunked_writer::add", "a chunk holds no rows");
    index_.push_back({out_.size(), chunk.size, next_row_, rows, crc32_of(chunk)});
    out_.write(chunk);
    next_row_ += rows;
  }
  std::uint64_t rows() const { return next_row_; }

  void finish() {
    out_.write(chunked_tail(index_, out_.size()));
    out_.commit();
  }

private:
  atomic_file_writer out_;
  std::vector<chunk_entry> index_;
  std::uint64_t next_row_ = 0;
};

// Opens a chunked file: reads and checks the preamble, the shared part and the index; chunks
// are read (by position, thread-safe) only when asked for.
class chunked_reader {
public:
  explicit chunked_reader(const std::filesystem::path& path) : file_(path) {
    const char* where = "chunked_reader";
    const std::string name = "'" + path.string() + "'";
    require(file_.size() >= detail::chunked_preamble_size + detail::chunked_footer_size, where,
            name + " is too short to be a chunked .baler file");
    const std::vector<std::byte> pre = file_.read(0, detail::chunked_preamble_size);
    require(version_of(pre) == chunked_format_version, where, name + " is not a chunked .baler file (format version 2)");
    byte_reader p(byte_view(pre).subview(12));
    require(p.read_u32("flags") == 0, where, name + " has unknown flags");
    const std::uint64_t shared_size = p.read_u64("shared size");
    require(shared_size <= file_.size() - detail::chunked_preamble_size - detail::chunked_footer_size, where,
            name + " is truncated: its shared part runs past the end");
    shared_ = parse(file_.read(detail::chunked_preamble_size, shared_size));

    const std::vector<std::byte> foot = file_.read(file_.size() - detail::chunked_footer_size, detail::chunked_footer_size);
    byte_reader f(foot);
    const std::uint64_t index_offset = f.read_u64("index offset"), count = f.read_u64("chunk count");
    const std::uint32_t crc = f.read_u32("index CRC-32");
    const byte_view tag = f.read_bytes(4, "end tag");
    require(std::equal(tag.data, tag.data + 4, reinterpret_cast<const std::byte*>(detail::end_tag)), where,
            name + " has no index at its end (truncated or still being written?)");
    const std::uint64_t data_begin = detail::chunked_preamble_size + shared_size;
    const std::uint64_t index_end = file_.size() - detail::chunked_footer_size;
    require(index_offset >= data_begin && index_offset <= index_end &&
                (index_end - index_offset) == count * detail::chunk_entry_size,
            where, name + ": the index's offset and chunk count disagree with the file size");
    std::vector<std::byte> index = file_.read(index_offset, index_end - index_offset);
    require(checksum_matches(crc, crc32_hasher().update(index).update(byte_view(foot.data(), 16)).value()), where,
            name + ": index checksum mismatch: the index is corrupt");
    byte_reader r(index);
    std::uint64_t at = data_begin, row = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
      chunk_entry e;
      e.offset = r.read_u64(), e.size = r.read_u64(), e.first_row = r.read_u64(), e.rows = r.read_u64();
      e.crc = r.read_u32();
      require(e.offset == at && e.first_row == row && e.rows > 0 && e.size <= index_offset - at, where,
              name + ": index entry " + std::to_string(i) + " is inconsistent");
      at += e.size, row += e.rows;
      index_.push_back(e);
    }
    require(at == index_offset, where, name + ": the chunks do not end where the index starts");
    rows_ = row;
  }

  const container& shared() const { return shared_; }
  const std::vector<chunk_entry>& index() const { return index_; }
  std::uint64_t rows() const { return rows_; }
  std::uint64_t file_size() const { return file_.size(); }

  // The bytes of chunk i, checked against its CRC: a damaged chunk is an error naming it.
  std::vector<std::byte> chunk(std::size_t i) const {
    require(i < index_.size(), "chunked_reader::chunk",
            "chunk " + std::to_string(i) + " does not exist (" + std::to_string(index_.size()) + " chunks)");
    const chunk_entry& e = index_[i];
    std::vector<std::byte> bytes = file_.read(e.offset, e.size);
    require(checksum_matches(e.crc, crc32_of(bytes)), "chunked_reader::chunk",
            "chunk " + std::to_string(i) + " (rows " + std::to_string(e.first_row) + " to " +
                std::to_string(e.first_row + e.rows - 1) + ") is damaged: checksum mismatch");
    return bytes;
  }

  // The chunks that hold any of rows [first, last).
  std::pair<std::size_t, std::size_t> chunks_for(std::uint64_t first, std::uint64_t last) const {
    require(first < last && last <= rows_, "chunked_reader::chunks_for",
            "rows " + std::to_string(first) + ":" + std::to_string(last) + " are not a range within the " +
                std::to_string(rows_) + " rows");
    const auto starts_after = [](std::uint64_t row, const chunk_entry& e) { return row < e.first_row; };
    const auto a = std::upper_bound(index_.begin(), index_.end(), first, starts_after) - 1;
    const auto b = std::upper_bound(a, index_.end(), last - 1, starts_after);
    return {std::size_t(a - index_.begin()), std::size_t(b - index_.begin())};
  }

private:
  random_access_file file_;
  container shared_;
  std::vector<chunk_entry> index_;
  std::uint64_t rows_ = 0;
};

}  // namespace baler::format
