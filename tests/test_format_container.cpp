// The .baler container: round trips, the documented byte layout, and detection of every
// corruption: flipped bytes, truncation, mangled magic, newer versions, crafted tables.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "baler/format/container.hpp"

namespace fmt = baler::format;

namespace {

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> v(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) v[i] = std::byte(static_cast<unsigned char>(s[i]));
  return v;
}

std::vector<std::byte> compressible(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(i % 7);
  return v;
}

std::vector<std::byte> noise(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> v(n);
  for (auto& b : v) b = std::byte(rng());
  return v;
}

fmt::container sample() {
  fmt::container c;
  c.header = {{"codec", "baler"}, {"shape", {1000, 4}}, {"note", "µ-sized ✓"}};
  c.sections = {{"LATN", compressible(4000)}, {"DECW", noise(300, 1)}, {"EMPT", {}}, {"NORM", bytes_of("scale")}};
  return c;
}

std::string parse_error(const std::vector<std::byte>& file) {
  try {
    fmt::parse(file);
  } catch (const baler::error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// An independent writer of the documented layout, to pin serialize() down byte for byte and to
// craft files that serialize() refuses to produce.
struct table_entry {
  std::string kind;
  std::uint32_t flags;
  std::vector<std::byte> stored;
  std::uint64_t raw_size;
};

// `header_flags` and `stored_header`: a header stored otherwise than as plain JSON. Versions 3
// and up are written with varints, zstd frames without their magic, raw sizes of compressed sections
// only and one CRC at the end; every other version as version 1: fixed widths, whole frames and
// CRCs of the header, the table and each payload.
std::vector<std::byte> assemble(std::uint32_t version, const std::string& json, const std::vector<table_entry>& table,
                                std::uint32_t header_flags = 0, std::vector<std::byte> stored_header = {}) {
  if (header_flags == 0) stored_header = bytes_of(json);
  const bool compact = version >= 3;
  baler::byte_writer w;
  const auto field = [&](std::uint64_t v, int fixed_bytes) {
    if (compact) w.write_varint(v);
    else if (fixed_bytes == 4) w.write_u32(std::uint32_t(v));
    else w.write_u64(v);
  };
  const auto crc_from = [&](std::size_t begin) { w.write_u32(baler::crc32_of(baler::byte_view(w.bytes()).subview(begin))); };
  const auto frame = [&](const std::vector<std::byte>& stored, bool zstd) {
    return compact && zstd ? baler::byte_view(stored).subview(4) : baler::byte_view(stored);
  };
  w.write_bytes(bytes_of(std::string("\x89" "BLR\r\n\x1A\n", 8)));
  w.write_u32(version);
  field(header_flags, 4);
  const baler::byte_view header = frame(stored_header, header_flags & 1);
  field(json.size(), 8);
  field(header.size, 8);
  w.write_bytes(header);
  if (!compact) crc_from(8);
  const std::size_t table_begin = w.size();
  field(table.size(), 4);
  for (const table_entry& e : table) {
    w.write_bytes(bytes_of(e.kind));
    field(e.flags, 4);
    field(frame(e.stored, e.flags & 1).size, 8);
    if (!compact || (e.flags & 1)) field(e.raw_size, 8);
    if (!compact) w.write_u32(baler::crc32_of(e.stored));
  }
  if (!compact) crc_from(table_begin);
  for (const table_entry& e : table) w.write_bytes(frame(e.stored, e.flags & 1));
  if (compact) crc_from(8);
  return w.take();
}

// A version-3 file after its bytes were edited: its CRC made right again, to reach the checks
// behind it.
std::vector<std::byte> reseal(std::vector<std::byte> file) {
  const std::uint32_t crc = baler::crc32_of(baler::byte_view(file.data() + 8, file.size() - 12));
  for (int i = 0; i < 4; ++i) file[file.size() - 4 + std::size_t(i)] = std::byte(std::uint8_t(crc >> (8 * i)));
  return file;
}

table_entry plain(const std::string& kind, const std::string& payload) {
  return {kind, 0, bytes_of(payload), payload.size()};
}

}  // namespace

TEST_CASE("container: round trip, compressed and not") {
  const fmt::container c = sample();
  for (const fmt::compression_policy policy :
       {fmt::compression_policy::none(), fmt::compression_policy::zstd(), fmt::compression_policy::zstd(19)}) {
    const std::vector<std::byte> file = fmt::serialize(c, policy);
    const fmt::container back = fmt::parse(file);
    CHECK(back.header == c.header);
    REQUIRE(back.sections.size() == c.sections.size());
    for (std::size_t i = 0; i < c.sections.size(); ++i) {
      CHECK(back.sections[i].kind == c.sections[i].kind);
      CHECK(back.sections[i].payload == c.sections[i].payload);
    }

    const fmt::container_info info = fmt::inspect(file);
    CHECK(info.format_version == fmt::format_version);
    CHECK(info.file_size == file.size());
    CHECK(info.header_size == c.header.dump().size());
    CHECK(info.header == c.header);
    REQUIRE(info.sections.size() == 4);
    const auto varint_size = [](std::uint64_t v) {
      std::size_t n = 1;
      for (; v >= 0x80; v >>= 7) ++n;
      return n;
    };
    std::uint64_t stored = 0, table = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK(info.sections[i].kind == c.sections[i].kind);
      CHECK(info.sections[i].raw_size == c.sections[i].payload.size());
      stored += info.sections[i].stored_size;
      table += 4 + 1 + varint_size(info.sections[i].stored_size) +
               (info.sections[i].compressed ? varint_size(info.sections[i].raw_size) : 0);
    }
    // Framing: magic, version, header flags (one byte), both header lengths, count, the entries
    // (kind, flags, stored size and a compressed section's raw size), the file's CRC.
    CHECK(file.size() == 8 + 4 + 1 + varint_size(info.header_size) + varint_size(info.header_stored_size) +
                             info.header_stored_size + 1 + table + stored + 4);
    // Compression is used only where it pays: the repetitive section, not the noise or the tiny.
    CHECK(info.sections[0].compressed == policy.enabled);
    CHECK(!info.sections[1].compressed);
    CHECK(!info.sections[2].compressed);
    CHECK(!info.sections[3].compressed);
    if (policy.enabled) CHECK(info.sections[0].stored_size < 200);
    else CHECK(info.sections[0].stored_size == 4000);
  }
}

TEST_CASE("container: serialize writes exactly the documented layout") {
  fmt::container c;
  c.header = {{"a", 1}};
  c.sections = {{"ABCD", bytes_of("hello")}, {"WXYZ", compressible(1000)}};
  const auto packed = baler::zstd_compress(c.sections[1].payload);
  CHECK(fmt::serialize(c) == assemble(fmt::format_version, R"({"a":1})", {plain("ABCD", "hello"), {"WXYZ", 1, packed, 1000}}));
  CHECK(fmt::serialize(fmt::container{}) == assemble(fmt::format_version, "{}", {}));
  CHECK(fmt::serialize(fmt::container{}).size() == 8 + 4 + 3 + 2 + 1 + 4);
  CHECK(fmt::parse(assemble(3, "{}", {})).sections.empty());
  CHECK(fmt::parse(assemble(4, "{}", {})).sections.empty());
}

TEST_CASE("container: files of format version 1 (fixed-width fields) still read") {
  const auto packed = baler::zstd_compress(compressible(1000));
  const std::vector<table_entry> table = {plain("ABCD", "hello"), {"WXYZ", 1, packed, 1000}};
  const std::vector<std::byte> v1 = assemble(1, R"({"a":1})", table), v3 = assemble(3, R"({"a":1})", table);
  // What version 1 spends more: fixed widths of the header fields and its CRC, of the count, the
  // table's CRC, per entry fixed widths and a CRC, the raw size of the uncompressed "hello" and
  // the zstd magic of the other; version 3's CRC of the file.
  CHECK(v1.size() == v3.size() + (3 + 7 + 7 + 4) + 3 + 4 + (3 + 7 + 8 + 4) + (3 + 7 + 6 + 4 + 4) - 4);
  const fmt::container a = fmt::parse(v1), b = fmt::parse(v3);
  CHECK(a.header == b.header);
  REQUIRE(a.sections.size() == 2);
  CHECK(a.sections[1].payload == compressible(1000));
  CHECK(a.sections[0].payload == b.sections[0].payload);
  CHECK(fmt::inspect(v1).format_version == 1);
  CHECK(fmt::inspect(v3).format_version == 3);
}

TEST_CASE("container: get and find") {
  const fmt::container c = fmt::parse(fmt::serialize(sample()));
  CHECK(c.get("NORM").payload == bytes_of("scale"));
  CHECK(c.find("NORM") == &c.get("NORM"));
  CHECK(c.find("NOPE") == nullptr);
  CHECK_THROWS_WITH_AS(c.get("NOPE"), "container::get(): the file has no 'NOPE' section", baler::error);
}

TEST_CASE("container: sections of kinds the reader does not know are kept and do not interfere") {
  // A newer writer adds a section; an older codec looks up what it knows and ignores the rest.
  const std::vector<std::byte> file =
      assemble(1, "{}", {plain("LATN", "latent"), plain("ZZ01", "from the future"), plain("NORM", "n")});
  const fmt::container c = fmt::parse(file);
  CHECK(c.get("LATN").payload == bytes_of("latent"));
  CHECK(c.get("NORM").payload == bytes_of("n"));
  CHECK(c.sections.size() == 3);
}

TEST_CASE("container: every flipped byte is detected") {
  fmt::container c;
  c.header = {{"k", "v"}};
  c.sections = {{"LATN", compressible(500)}, {"DECW", bytes_of("weights!")}};
  const std::vector<std::byte> file = fmt::serialize(c);
  REQUIRE(fmt::inspect(file).sections[0].compressed);
  int undetected = 0;
  for (std::size_t i = 0; i < file.size(); ++i)
    for (int mask : {0x01, 0x80, 0xFF}) {
      auto bad = file;
      bad[i] ^= std::byte(mask);
      if (parse_error(bad).empty()) {
        ++undetected;
        FAIL_CHECK("flip of byte " << i << " with mask " << mask << " was not detected");
      }
    }
  CHECK(undetected == 0);
}

TEST_CASE("container: every truncation and any trailing byte is detected") {
  const std::vector<std::byte> file = fmt::serialize(sample());
  for (std::size_t n = 0; n < file.size(); ++n) {
    const std::vector<std::byte> cut(file.begin(), file.begin() + long(n));
    CHECK_THROWS_AS(fmt::parse(cut), baler::error);
    CHECK_THROWS_AS(fmt::inspect(cut), baler::error);
  }
  auto longer = file;
  longer.push_back(std::byte(0));
  CHECK(parse_error(longer) == "container::parse(): checksum mismatch: the file is corrupt or truncated");
  auto longer_sealed = file;
  longer_sealed.insert(longer_sealed.end() - 4, std::byte(0));
  CHECK(parse_error(reseal(longer_sealed)) == "container::parse(): 1 unexpected bytes after the last section");
  auto longer_v1 = assemble(1, "{}", {});
  longer_v1.push_back(std::byte(0));
  CHECK(parse_error(longer_v1) == "container::parse(): 1 unexpected bytes after the last section");
  CHECK(contains(parse_error({}), "truncated: wanted 8 bytes for magic at offset 0 of 0"));
}

TEST_CASE("container: wrong magic, and magic mangled in transfer") {
  const std::vector<std::byte> file = fmt::serialize(sample());
  CHECK(parse_error(bytes_of("PK\x03\x04 this is a zip file")) == "container::parse(): not a .baler file (wrong magic)");
  std::vector<std::byte> crlf_to_lf = file;
  crlf_to_lf.erase(crlf_to_lf.begin() + 4);  // "\r\n" -> "\n"
  CHECK(contains(parse_error(crlf_to_lf), "line endings were converted"));
  std::vector<std::byte> lf_to_crlf = file;
  lf_to_crlf.insert(lf_to_crlf.begin() + 7, std::byte('\r'));  // lone "\n" -> "\r\n"
  CHECK(contains(parse_error(lf_to_crlf), "line endings were converted"));
  std::vector<std::byte> seven_bit = file;
  seven_bit[0] = std::byte(0x09);
  CHECK(contains(parse_error(seven_bit), "high bit was stripped"));
}

TEST_CASE("container: a newer format version is refused, naming both versions") {
  const std::string m = parse_error(assemble(7, "{}", {}));
  CHECK(m == "container::parse(): the file has format version 7, newer than this build of baler reads "
             "(format version 6); update baler to read it");
  CHECK(parse_error(assemble(2, "{}", {})) ==
        "container::parse(): this is a chunked file (format version 2): read it with format::chunked_reader");
  CHECK(contains(fmt::inspect(assemble(1, "{}", {})).header.dump(), "{}"));
  CHECK_THROWS_WITH_AS(fmt::inspect(assemble(8, "{}", {})),
                       "container::inspect(): the file has format version 8, newer than this build of baler reads "
                       "(format version 6); update baler to read it",
                       baler::error);
  CHECK(parse_error(assemble(0, "{}", {})) == "container::parse(): invalid format version 0");
}

TEST_CASE("container: crafted files with valid checksums but invalid contents") {
  CHECK(contains(parse_error(assemble(1, "[1, 2]", {})), "the header is not a JSON object"));
  CHECK(contains(parse_error(assemble(1, "{\"a\":", {})), "the header is not a JSON object"));
  CHECK(contains(parse_error(assemble(1, "{}", {{"LATN", 2, bytes_of("x"), 1}})), "section 'LATN' has unknown flags 2"));
  CHECK(contains(parse_error(assemble(1, "{}", {{"LATN", 0, bytes_of("x"), 2}})), "different stored and raw sizes"));
  CHECK(contains(parse_error(assemble(1, "{}", {plain("LA\x01N", "x")})), "invalid section kind tag"));
  CHECK(contains(parse_error(assemble(1, "{}", {plain("LATN", "x"), plain("LATN", "y")})), "duplicate section 'LATN'"));
  CHECK(contains(parse_error(assemble(1, "{}", {{"LATN", 1, bytes_of("not zstd"), 8}})), "not a zstd frame"));
  // A compressed section claiming an absurd size is refused before any allocation.
  const auto packed = baler::zstd_compress(compressible(1000));
  CHECK(contains(parse_error(assemble(1, "{}", {{"LATN", 1, packed, std::uint64_t(1) << 50}})), "exceeds the limit"));
  const auto file = assemble(1, "{}", {{"LATN", 1, packed, 1000}});
  CHECK_NOTHROW(fmt::parse(file));
  CHECK_THROWS_WITH_AS(fmt::parse(file, 999), "zstd_decompress(): expected size of 1000 bytes exceeds the limit of 999 bytes",
                       baler::error);
  // A section count far beyond the file is caught by the bounds check, not by allocating.
  auto many = assemble(1, "{}", {});
  many[8 + 4 + 4 + 8 + 8 + 2 + 4 + 3] = std::byte(0x7F);  // high byte of the count
  CHECK(contains(parse_error(many), "truncated: wanted 59659780096 bytes for section table at offset 42 of 46"));
  // Version 3: a varint count beyond the bytes left, and a varint longer than 64 bits.
  auto compact = assemble(3, "{}", {});
  compact.insert(compact.begin() + 8 + 4 + 3 + 2, std::byte(0xFF));  // the count, 0, becomes 0x3FFF
  compact[8 + 4 + 3 + 2 + 1] = std::byte(0x7F);
  CHECK(contains(parse_error(reseal(compact)), "a table of 16383 sections does not fit in the 0 bytes left"));
  std::vector<std::byte> endless = assemble(3, "{}", {});
  endless.insert(endless.begin() + 12, 11, std::byte(0x80));
  CHECK(contains(parse_error(reseal(endless)), "malformed varint for header flags"));
  CHECK(contains(parse_error(endless), "checksum mismatch"));
}

TEST_CASE("container: random damage and random input only ever raise baler::error") {
  const std::vector<std::byte> file = fmt::serialize(sample());
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    auto bad = file;
    const int hits = 1 + int(rng() % 4);
    for (int h = 0; h < hits; ++h) bad[rng() % bad.size()] ^= std::byte(1 + rng() % 255);
    if (bad == file) continue;  // two hits on one byte can cancel
    CHECK_THROWS_AS(fmt::parse(bad), baler::error);
  }
  for (int i = 0; i < 1000; ++i) {
    auto junk = noise(rng() % 200, unsigned(i));
    if (i % 2) junk.insert(junk.begin(), file.begin(), file.begin() + 12);  // valid magic and version
    CHECK_THROWS_AS(fmt::parse(junk), baler::error);
  }
}

TEST_CASE("container: serialize refuses what it could not read back") {
  fmt::container c;
  c.sections = {{"LAT", {}}};
  CHECK_THROWS_WITH_AS(fmt::serialize(c),
                       "container::serialize(): section kind 'LAT' is not 4 printable ASCII characters", baler::error);
  c.sections = {{"LAT\n", {}}};
  CHECK_THROWS_AS(fmt::serialize(c), baler::error);
  c.sections = {{"LATN", {}}, {"LATN", {}}};
  CHECK_THROWS_WITH_AS(fmt::serialize(c), "container::serialize(): duplicate section 'LATN'", baler::error);
  c.sections.clear();
  c.header = nlohmann::json::array();
  CHECK_THROWS_WITH_AS(fmt::serialize(c), "container::serialize(): the header must be a JSON object", baler::error);
  c.header = {{"name", std::string("\xFF\xFE")}};
  CHECK_THROWS_AS(fmt::serialize(c), baler::error);
  c.header = nlohmann::json::object();
  CHECK_THROWS_WITH_AS(fmt::serialize(c, fmt::compression_policy::zstd(99)),
                       doctest::Contains("container::serialize(): zstd level 99 is outside ["), baler::error);
  CHECK_NOTHROW(fmt::serialize(c, fmt::compression_policy{false, 99}));  // level unused when off
}

TEST_CASE("a large header is stored zstd-compressed, and reads back the same") {
  fmt::container c;
  for (int i = 0; i < 2000; ++i) c.header["columns"].push_back({{"name", "f" + std::to_string(i)}, {"min", 0.5 * i}});
  const auto file = fmt::serialize(c);
  const auto info = fmt::inspect(file);
  CHECK(info.header_stored_size < info.header_size / 4);
  CHECK(fmt::parse(file).header == c.header);
  CHECK(fmt::inspect(fmt::serialize(c, fmt::compression_policy::none())).header_stored_size == c.header.dump().size());
}

TEST_CASE("a small header is compressed against the header dictionary; headers stored otherwise still read") {
  const std::string json =
      R"({"columns":[],"error_bound":{"bound":"range:0.01","code":{"bound":0.000649756,"kind":"abs","step":0.00129824},)"
      R"("exceptions":0,"layout":"field","predictor":{"coder":"context","exceptions":0,"kind":"lorenzo","neighbourhood":"wide","offset":0}},)"
      R"("input":{"dtype":"float64","names":[],"nbytes":20000,"shape":[1,50,50]},"kind":"baler.compressed","library_version":"0.1.0"})";
  fmt::container c;
  c.header = nlohmann::json::parse(json);
  const auto file = fmt::serialize(c);
  const auto info = fmt::inspect(file);
  const auto plain_zstd = baler::zstd_compress(baler::byte_view(json), 19);
  CHECK(info.header_stored_size < plain_zstd.size() / 2);  // the dictionary halves it at least
  CHECK(fmt::parse(file).header == c.header);
  const auto against = [&](std::uint32_t flags) {
    return baler::zstd_compress(baler::byte_view(json), 19, fmt::detail::dictionary(flags));
  };
  CHECK(file == assemble(fmt::format_version, json, {}, 5, against(4)));
  // The second dictionary knows the keys of today's predictors (this header's "neighbourhood").
  CHECK(against(4).size() + 5 < against(2).size());

  // Headers against the first dictionary (flags 3) or none (flag 1) read as before.
  CHECK(fmt::parse(assemble(1, json, {}, 3, against(2))).header == c.header);
  CHECK(fmt::parse(assemble(3, json, {}, 3, against(2))).header == c.header);
  CHECK(fmt::parse(assemble(1, json, {}, 1, plain_zstd)).header == c.header);
  // Read with the wrong dictionary setting, a header does not decode (zstd checks the frame).
  CHECK(!parse_error(assemble(1, json, {}, 1, against(2))).empty());
  CHECK(!parse_error(assemble(3, json, {}, 3, against(4))).empty());
  CHECK(contains(parse_error(assemble(1, json, {}, 2, bytes_of(json))), "a header dictionary flag without compression"));
  CHECK(contains(parse_error(assemble(3, json, {}, 4, bytes_of(json))), "a header dictionary flag without compression"));
  CHECK(contains(parse_error(assemble(3, json, {}, 7, against(4))), "the header names two dictionaries"));
  CHECK(contains(parse_error(assemble(1, json, {}, 8, bytes_of(json))), "the header has unknown flags 8"));
}

TEST_CASE("header integers are whole numbers in range, never cast from a float") {
  using nlohmann::json;
  CHECK(fmt::header_size(json(7), "n") == 7);
  CHECK(fmt::header_sizes(json::parse("[3, 0, 18446744073709551615]"), "shape") ==
        std::vector<std::size_t>{3, 0, 18446744073709551615u});
  CHECK_THROWS_WITH_AS(fmt::header_size(json(6e63), "the input shape"),
                       "format::header_int(): the input shape must be a whole number from 0 to 18446744073709551615, not 6e+63",
                       baler::error);
  CHECK_THROWS_AS(fmt::header_size(json(-1), "n"), baler::error);
  CHECK_THROWS_AS(fmt::header_size(json(2.0), "n"), baler::error);
  CHECK_THROWS_AS(fmt::header_size(json("7"), "n"), baler::error);
  CHECK(fmt::header_int<std::int64_t>(json(-3), "v") == -3);
  CHECK(fmt::header_int<std::uint32_t>(json(4294967295u), "id") == 4294967295u);
  CHECK_THROWS_AS(fmt::header_int<std::uint32_t>(json(4294967296u), "id"), baler::error);
  CHECK_THROWS_AS(fmt::header_int<std::int64_t>(json(18446744073709551615u), "v"), baler::error);
  CHECK_THROWS_AS(fmt::header_int<std::int64_t>(json(-1e300), "v"), baler::error);
  CHECK_THROWS_WITH_AS(fmt::header_sizes(json(7), "shape"), "format::header_ints(): shape must be an array", baler::error);
  // Fixed-size arrays (a predictor's weights): the count and every element checked.
  CHECK(fmt::header_int_array<std::int32_t, 3>(json::parse("[-2147483648, 0, 65536]"), "w") ==
        std::array<std::int32_t, 3>{-2147483648, 0, 65536});
  CHECK_THROWS_WITH_AS((fmt::header_int_array<std::int32_t, 3>(json::parse("[1, 2]"), "w")),
                       "format::header_ints(): w must be an array of 3", baler::error);
  CHECK_THROWS_AS((fmt::header_int_array<std::int32_t, 3>(json::parse("[1, 1.8e53, 2]"), "w")), baler::error);
  CHECK_THROWS_AS((fmt::header_int_array<std::int32_t, 3>(json::parse("[1, 2147483648, 2]"), "w")), baler::error);
}
