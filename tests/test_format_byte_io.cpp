// Little-endian fields, bounds-checked reads, and the CRC-32 that guards them in files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "baler/format/byte_io.hpp"
#include "baler/format/checksum.hpp"

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(std::byte(x));
  return out;
}

}  // namespace

TEST_CASE("crc32 matches the standard check values") {
  CHECK(baler::crc32_of(std::string("123456789")) == 0xCBF43926u);
  CHECK(baler::crc32_of(std::string()) == 0u);
  CHECK(baler::crc32_of(std::string("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
  CHECK(baler::crc32_of(bytes_of({0})) == 0xD202EF8Du);
}

TEST_CASE("crc32 is incremental") {
  const std::string text = "123456789";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    baler::crc32_hasher h;
    h.update(std::string(text.substr(0, cut))).update(std::string(text.substr(cut)));
    CHECK(h.value() == 0xCBF43926u);
  }
}

TEST_CASE("byte_writer writes little-endian fields that byte_reader reads back") {
  baler::byte_writer w;
  w.write_u8(0xAB);
  w.write_u16(0x1234);
  w.write_u32(0xDEADBEEFu);
  w.write_u64(0x0102030405060708ull);
  w.write_f32(-1.5f);
  w.write_f64(3.25);
  w.write_string("baler");
  w.write_string("");
  w.write_bytes(bytes_of({9, 8}));
  const std::vector<std::byte> b = w.take();
  CHECK(w.size() == 0);
  REQUIRE(b.size() == 1 + 2 + 4 + 8 + 4 + 8 + 8 + 5 + 8 + 2);
  // Byte order is fixed: least significant byte first.
  CHECK(std::vector<std::byte>(b.begin(), b.begin() + 7) == bytes_of({0xAB, 0x34, 0x12, 0xEF, 0xBE, 0xAD, 0xDE}));
  CHECK(std::vector<std::byte>(b.begin() + 15, b.begin() + 19) == bytes_of({0x00, 0x00, 0xC0, 0xBF}));

  baler::byte_reader r(b);
  CHECK(r.read_u8() == 0xAB);
  CHECK(r.read_u16() == 0x1234);
  CHECK(r.read_u32() == 0xDEADBEEFu);
  CHECK(r.read_u64() == 0x0102030405060708ull);
  CHECK(r.read_f32() == -1.5f);
  CHECK(r.read_f64() == 3.25);
  CHECK(r.read_string() == "baler");
  CHECK(r.read_string().empty());
  const std::size_t before = r.offset();
  const baler::byte_view tail = r.read_bytes(2);
  CHECK(tail.size == 2);
  CHECK(tail.data[1] == std::byte(8));
  CHECK(r.since(before).size == 2);
  CHECK(r.at_end());
  CHECK(r.remaining() == 0);
}

TEST_CASE("byte_reader: a short read names the field and the offset") {
  const std::vector<std::byte> b(124);
  baler::byte_reader r(b);
  r.skip(120);
  CHECK_THROWS_WITH_AS(r.read_u64("section raw size"),
                       "byte_reader::read(): truncated: wanted 8 bytes for section raw size at offset 120 of 124",
                       baler::error);
  CHECK(r.offset() == 120);  // a failed read consumes nothing
  CHECK_THROWS_WITH_AS(r.read_u64(), "byte_reader::read(): truncated: wanted 8 bytes for u64 at offset 120 of 124",
                       baler::error);
  CHECK(r.read_u32() == 0);
  CHECK_THROWS_AS(r.read_u8(), baler::error);
  CHECK_THROWS_AS(r.skip(1), baler::error);
  CHECK_NOTHROW(r.read_bytes(0));
}

TEST_CASE("byte_reader: huge lengths fail cleanly instead of overflowing") {
  baler::byte_writer w;
  w.write_u64(~std::uint64_t(0));  // a corrupt string length
  w.write_string("abc");
  const std::vector<std::byte> b = w.take();
  baler::byte_reader r(b);
  CHECK_THROWS_WITH_AS(r.read_string("name"),
                       "byte_reader::read(): truncated: wanted 18446744073709551615 bytes for name at offset 8 of 19",
                       baler::error);
  baler::byte_reader r2(b);
  r2.skip(8);
  CHECK(r2.read_string() == "abc");
  CHECK_THROWS_AS(r2.skip(~std::uint64_t(0)), baler::error);
}

TEST_CASE("byte_reader: every truncation of a record throws") {
  baler::byte_writer w;
  w.write_u32(7);
  w.write_string("field");
  w.write_f64(1.0);
  const std::vector<std::byte> full = w.take();
  for (std::size_t n = 0; n < full.size(); ++n) {
    baler::byte_reader r(baler::byte_view(full.data(), n));
    CHECK_THROWS_AS((r.read_u32(), r.read_string(), r.read_f64()), baler::error);
  }
}

TEST_CASE("varints: LEB128 bytes, every width, and malformed or cut encodings refused") {
  baler::byte_writer w;
  w.write_varint(0);
  w.write_varint(127);
  w.write_varint(128);
  w.write_varint(300);
  const std::vector<std::byte> small = w.take();
  const std::vector<std::byte> expected = {std::byte(0x00), std::byte(0x7F), std::byte(0x80), std::byte(0x01),
                                           std::byte(0xAC), std::byte(0x02)};
  CHECK(small == expected);

  for (int bits = 0; bits <= 64; ++bits) {
    const std::uint64_t v = bits == 0 ? 0 : ~std::uint64_t(0) >> (64 - bits);
    w.write_varint(v);
    const std::vector<std::byte> one = w.take();
    CHECK(one.size() == std::size_t(std::max(1, (bits + 6) / 7)));
    baler::byte_reader r{baler::byte_view(one)};
    CHECK(r.read_varint() == v);
    CHECK(r.at_end());
    for (std::size_t n = 0; n < one.size(); ++n) {
      baler::byte_reader cut(baler::byte_view(one.data(), n));
      CHECK_THROWS_AS(cut.read_varint(), baler::error);
    }
  }
  // Eleven bytes, or a tenth byte with more than bit 63: not a 64-bit varint.
  std::vector<std::byte> endless(10, std::byte(0x80));
  endless.push_back(std::byte(0));
  CHECK_THROWS_WITH_AS(baler::byte_reader(baler::byte_view(endless)).read_varint("count"),
                       "byte_reader::read(): malformed varint for count before offset 10 (more than 64 bits)", baler::error);
  std::vector<std::byte> wide(9, std::byte(0xFF));
  wide.push_back(std::byte(0x02));
  CHECK_THROWS_AS(baler::byte_reader(baler::byte_view(wide)).read_varint(), baler::error);
}
