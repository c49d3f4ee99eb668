#pragma once
// Little-endian binary fields for the .baler container: byte_writer appends them to a growing
// buffer, byte_reader reads them back from a span with every read bounds-checked, so corrupt or
// truncated input ends in a baler::error naming the field and the offset, never in a read past
// the end. Byte order is fixed (little-endian) whatever the host's, by building values from
// shifted bytes.
//
// Strings are a u64 byte count followed by the bytes (no terminator, no encoding check: the
// caller decides what the bytes mean). Varints are LEB128 (append_varint, io/bytes.hpp): at most
// 10 bytes for 64 bits.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/bytes.hpp"

namespace baler {

class byte_writer {
public:
  void reserve(std::size_t n) { out_.reserve(n); }

  void write_u8(std::uint8_t v) { append_le(out_, v, 1); }
  void write_u16(std::uint16_t v) { append_le(out_, v, 2); }
  void write_u32(std::uint32_t v) { append_le(out_, v, 4); }
  void write_u64(std::uint64_t v) { append_le(out_, v, 8); }

  void write_varint(std::uint64_t v) { append_varint(out_, v); }

  void write_f32(float v) {
    std::uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    write_u32(u);
  }

  void write_f64(double v) {
    std::uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    write_u64(u);
  }

  void write_bytes(byte_view bytes) {
    if (bytes.size > 0) out_.insert(out_.end(), bytes.data, bytes.data + bytes.size);
  }

  void write_string(std::string_view s) {
    write_u64(s.size());
    write_bytes(byte_view(reinterpret_cast<const std::byte*>(s.data()), s.size()));
  }

  std::size_t size() const { return out_.size(); }
  const std::vector<std::byte>& bytes() const { return out_; }
  // Moves the buffer out; the writer is empty afterwards.
  std::vector<std::byte> take() { return std::exchange(out_, {}); }

private:
  std::vector<std::byte> out_;
};

class byte_reader {
public:
  explicit byte_reader(byte_view in) : in_(in) {}

  // `what` names the field in the error message of a short read ("format version", ...).
  std::uint8_t read_u8(const char* what = "u8") { return static_cast<std::uint8_t>(read_le(1, what)); }
  std::uint16_t read_u16(const char* what = "u16") { return static_cast<std::uint16_t>(read_le(2, what)); }
  std::uint32_t read_u32(const char* what = "u32") { return static_cast<std::uint32_t>(read_le(4, what)); }
  std::uint64_t read_u64(const char* what = "u64") { return read_le(8, what); }

  // A varint of at most 64 bits; longer or wider encodings are corrupt.
  std::uint64_t read_varint(const char* what = "varint") {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const std::uint64_t b = read_le(1, what);
      const std::uint64_t bits = b & 0x7F;
      if (shift == 63 && bits > 1) break;  // the tenth byte holds bit 63 only
      v |= bits << shift;
      if (!(b & 0x80)) return v;
    }
    throw error("byte_reader::read(): malformed varint for " + std::string(what) + " before offset " +
                std::to_string(pos_) + " (more than 64 bits)");
  }

  float read_f32(const char* what = "f32") {
    const std::uint32_t u = read_u32(what);
    float v;
    std::memcpy(&v, &u, sizeof v);
    return v;
  }

  double read_f64(const char* what = "f64") {
    const std::uint64_t u = read_u64(what);
    double v;
    std::memcpy(&v, &u, sizeof v);
    return v;
  }

  // The next n bytes, without copying; valid as long as the input is.
  byte_view read_bytes(std::uint64_t n, const char* what = "bytes") {
    require_available(n, what);
    const byte_view v(in_.data + pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return v;
  }

  std::string read_string(const char* what = "string") {
    const std::uint64_t n = read_u64(what);
    const byte_view v = read_bytes(n, what);
    return std::string(reinterpret_cast<const char*>(v.data), v.size);
  }

  void skip(std::uint64_t n, const char* what = "bytes") { read_bytes(n, what); }

  std::size_t offset() const { return pos_; }
  std::size_t size() const { return in_.size; }
  std::size_t remaining() const { return in_.size - pos_; }
  bool at_end() const { return pos_ == in_.size; }
  // The bytes from `begin` up to the current offset, e.g. to checksum a region just read.
  byte_view since(std::size_t begin) const {
    require(begin <= pos_, "byte_reader::since", "offset " + std::to_string(begin) + " is past the read position");
    return byte_view(in_.data + begin, pos_ - begin);
  }

private:
  // Compares against remaining() rather than computing pos_ + n, which could overflow for a
  // corrupt 64-bit length.
  void require_available(std::uint64_t n, const char* what) const {
    if (n > remaining())
      throw error("byte_reader::read(): truncated: wanted " + std::to_string(n) + " bytes for " + what +
                  " at offset " + std::to_string(pos_) + " of " + std::to_string(in_.size));
  }

  std::uint64_t read_le(std::size_t n, const char* what) {
    require_available(n, what);
    const std::uint64_t v = load_le(in_.data + pos_, n);
    pos_ += n;
    return v;
  }

  byte_view in_;
  std::size_t pos_ = 0;
};

}  // namespace baler
