// .npy: files written by real numpy (tests/data/make_fixtures.py) in every dtype, byte order,
// memory order and format version; our writer's output; and broken input of every kind.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>

#include "test_io_support.hpp"

using namespace baler;
using io_test::fixture;

namespace {

std::vector<std::byte> read_fixture(const std::string& name) {
  return read_file(fixture(name));
}

// A .npy built by hand: our own header text, then `payload_bytes` bytes of payload.
std::vector<std::byte> handmade(const std::string& dict, std::size_t payload_bytes, int major = 1) {
  std::string s = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  const std::size_t n = dict.size();
  s += static_cast<char>(n & 0xFF);
  s += static_cast<char>((n >> 8) & 0xFF);
  if (major > 1) s += std::string(2, '\0');
  s += dict + std::string(payload_bytes, '\0');
  return io_test::bytes_of(s);
}

}  // namespace

TEST_CASE("numpy fixtures: every dtype in both byte orders") {
  const npz::archive little = npz::read_file(fixture("dtypes_little.npz"));
  const npz::archive big = npz::read_file(fixture("dtypes_big.npz"));
  CHECK(little.size() == 12);
  CHECK(big.size() == 9);  // the multi-byte types
  const char* short_names[] = {"bool", "i8",  "i16", "i32", "i64", "u8",
                               "u16",  "u32", "u64", "f32", "f64", "f16"};
  for (dtype t : all_dtypes) {
    const std::string name = short_names[static_cast<int>(t)];
    CAPTURE(name);
    REQUIRE(little.count(name) == 1);
    const ndarray a = little.at(name).array();
    CHECK(a.type == t);
    CHECK(a.shape == std::vector<std::size_t>{2, 3});
    CHECK(a.to_doubles() == io_test::pattern_values(t, 6));
    if (dtype_size(t) > 1) {
      REQUIRE(big.count(name) == 1);
      CHECK(big.at(name).header().descr[0] == '>');
      CHECK(big.at(name).array() == a);  // swapped to the same native bytes
    }
  }
}

TEST_CASE("numpy fixtures: Fortran order, big-endian and versions 2.0 and 3.0") {
  const ndarray c = npy::read_file(fixture("c_f8.npy"));
  CHECK(c == io_test::pattern_array(dtype::f64, {3, 4}));
  CHECK(npy::read_file(fixture("fortran_f8.npy")) == c);
  CHECK(npy::read_file(fixture("big_endian_f8.npy")) == c);
  CHECK(npy::read_file(fixture("fortran_i16_3d.npy")) ==
        io_test::pattern_array(dtype::i16, {2, 3, 4}));
  CHECK(npy::read_file(fixture("big_endian_fortran_i32.npy")) ==
        io_test::pattern_array(dtype::i32, {3, 4}));

  const std::vector<std::byte> v2 = read_fixture("v2_f4.npy");
  CHECK(npy::parse_header(v2, "t").major == 2);
  CHECK(npy::read(v2) == io_test::pattern_array(dtype::f32, {2, 2}));
  const std::vector<std::byte> v3 = read_fixture("v3_i64.npy");
  CHECK(npy::parse_header(v3, "t").major == 3);
  CHECK(npy::read(v3) == io_test::pattern_array(dtype::i64, {2, 2}));

  const npy::header h = npy::parse_header(read_fixture("fortran_f8.npy"), "t");
  CHECK(h.fortran_order);
  CHECK(h.descr == "<f8");
  CHECK(h.shape == std::vector<std::size_t>{3, 4});
}

TEST_CASE("numpy fixtures: bool, 0-d, empty and extreme values") {
  const ndarray b = npy::read_file(fixture("bool.npy"));
  CHECK(b == io_test::pattern_array(dtype::bool_, {7}));

  const ndarray s = npy::read_file(fixture("scalar_f8.npy"));
  CHECK(s.shape.empty());
  CHECK(s.to_doubles() == std::vector<double>{2.5});

  const ndarray e = npy::read_file(fixture("empty_f8.npy"));
  CHECK(e.shape == std::vector<std::size_t>{0, 3});
  CHECK(e.bytes.empty());

  const ndarray i = npy::read_file(fixture("extremes_i64.npy"));
  REQUIRE(i.type == dtype::i64);
  const std::int64_t* iv = i.data_as<std::int64_t>();
  CHECK(iv[0] == std::numeric_limits<std::int64_t>::min());
  CHECK(iv[1] == -1);
  CHECK(iv[3] == std::numeric_limits<std::int64_t>::max());
  const ndarray u = npy::read_file(fixture("extremes_u64.npy"));
  CHECK(u.data_as<std::uint64_t>()[2] == std::numeric_limits<std::uint64_t>::max());

  const std::vector<double> f = npy::read_file(fixture("specials_f8.npy")).to_doubles();
  REQUIRE(f.size() == 6);
  CHECK(std::isnan(f[0]));
  CHECK(f[1] == std::numeric_limits<double>::infinity());
  CHECK(f[2] == -std::numeric_limits<double>::infinity());
  CHECK((f[3] == 0 && std::signbit(f[3])));
  CHECK(f[4] == std::numeric_limits<double>::denorm_min());
  CHECK(f[5] == std::numeric_limits<double>::max());
}

TEST_CASE("numpy fixtures: unicode names in both byte orders") {
  const std::vector<std::string> expected = {"px", "p\xCF\x87\xC2\xB2", "", "\xCE\x94\xCF\x86",
                                             "\xF0\x9D\x93\x94"};
  CHECK(npy::read_strings_file(fixture("names_little.npy")) == expected);
  CHECK(npy::read_strings_file(fixture("names_big.npy")) == expected);
  CHECK_ERROR_CONTAINS(npy::read_file(fixture("names_little.npy")), "is a text array");
  CHECK_ERROR_CONTAINS(npy::read_strings_file(fixture("c_f8.npy")), "'<f8' is not a text array");
}

TEST_CASE("numpy fixtures: unsupported dtypes are named") {
  CHECK_ERROR_CONTAINS(npy::read_file(fixture("complex128.npy")), "unsupported dtype complex128");
  CHECK_ERROR_CONTAINS(npy::read_file(fixture("float128.npy")), "unsupported dtype float128");
  CHECK_ERROR_CONTAINS(npy::read_file(fixture("datetime64.npy")),
                       "unsupported dtype datetime64 (pass its int64 view, a.view('i8'))");
  CHECK_ERROR_CONTAINS(npy::read_file(fixture("object.npy")), "unsupported dtype object");
  CHECK_ERROR_CONTAINS(npy::read_file(fixture("structured.npy")), "a structured array (record dtype) is a table");
  // The file name is part of the message.
  CHECK_ERROR_CONTAINS(npy::read_file(fixture("complex128.npy")), "complex128.npy]");
}

TEST_CASE("numpy fixtures: structured arrays as fields of their own types, padding skipped; written back") {
  const npy::record_columns mixed = read_file_with(fixture("records_mixed.npy"), npy::read_records);
  CHECK(mixed.names == std::vector<std::string>{"pt", "eta", "n", "ok"});
  REQUIRE(mixed.columns.size() == 4);
  CHECK(mixed.columns[0] == io_test::pattern_array(dtype::f32, {4}));
  CHECK(mixed.columns[1] == io_test::pattern_array(dtype::f64, {4}));
  CHECK(mixed.columns[2] == io_test::pattern_array(dtype::i32, {4}));
  CHECK(mixed.columns[3] == io_test::pattern_array(dtype::bool_, {4}));
  // Big-endian fields with alignment padding between them: [('a', '>i2'), ('', '|V6'), ('b', '>f8')].
  const npy::record_columns aligned = read_file_with(fixture("records_aligned_big.npy"), npy::read_records);
  CHECK(aligned.names == std::vector<std::string>{"a", "b"});
  CHECK(aligned.columns[0] == io_test::pattern_array(dtype::i16, {4}));
  CHECK(aligned.columns[1] == io_test::pattern_array(dtype::f64, {4}));
  CHECK_ERROR_CONTAINS(read_file_with(fixture("records_subarray.npy"), npy::read_records),
                       "structured field 'a' holds an array");
  // Text fields ('U', 'S'): labels, and their indices as int32 (test_io_dataset reads them as a table).
  const npy::record_columns text = read_file_with(fixture("records_text.npy"), npy::read_records);
  REQUIRE(text.labels.size() == 3);
  CHECK(text.labels[2] == std::vector<std::string>{"HLT1", "HLT2", "L1"});
  CHECK(text.columns[2].type == dtype::i32);
  CHECK_ERROR_CONTAINS(read_file_with(fixture("c_f8.npy"), npy::read_records), "not a structured array");

  // A table written as records: its rows are the records, byte for byte; names are checked.
  const ndarray table = io_test::pattern_array(dtype::f32, {3, 2});
  const std::vector<std::byte> bytes = npy::write_records(split_columns(table), {"px", "py"});
  CHECK(npy::has_fields(bytes));
  const npy::record_columns back = npy::read_records(bytes);
  CHECK(back.names == std::vector<std::string>{"px", "py"});
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t c = 0; c < 2; ++c)
      CHECK(back.columns[c].data_as<float>()[r] == table.data_as<float>()[r * 2 + c]);
  CHECK_ERROR_CONTAINS(npy::write_records(split_columns(table), {"px", "px"}), "two columns are named 'px'");
  CHECK_ERROR_CONTAINS(npy::write_records(split_columns(table), {"p'x", "py"}), "cannot name a field");
  CHECK_ERROR_CONTAINS(npy::write_records(split_columns(table), {"px"}), "a name for each");
  // Columns of different dtypes: a field each in its own, packed, read back as they were.
  const npy::record_columns again = npy::read_records(npy::write_records(mixed.columns, mixed.names));
  CHECK(again.names == mixed.names);
  CHECK(again.columns == mixed.columns);
  // A name outside ASCII takes version 3 (UTF-8), which numpy requires for it.
  const std::vector<std::byte> greek = npy::write_records(split_columns(table), {"\u0394\u03c6", "py"});
  CHECK(std::to_integer<int>(greek[6]) == 3);
  CHECK(npy::read_records(greek).names[0] == "\u0394\u03c6");
}

TEST_CASE("write then read: every dtype and shape") {
  const std::vector<std::vector<std::size_t>> shapes = {{}, {0}, {5}, {3, 4}, {2, 0, 3}, {2, 3, 2}};
  for (dtype t : all_dtypes) {
    for (const auto& shape : shapes) {
      CAPTURE(dtype_name(t));
      CAPTURE(shape_string(shape));
      const ndarray a = io_test::pattern_array(t, shape);
      const std::vector<std::byte> file = npy::write(a);
      const npy::header h = npy::parse_header(file, "t");
      CHECK(h.major == 1);
      CHECK(h.data_offset % 64 == 0);  // numpy's alignment
      CHECK(h.descr == npy_descr(t));
      CHECK(npy::read(file) == a);
    }
  }
}

TEST_CASE("write: a header too long for version 1.0 switches to 2.0") {
  const ndarray a = ndarray::zeros(dtype::u8, std::vector<std::size_t>(30000, 1));
  const std::vector<std::byte> file = npy::write(a);
  const npy::header h = npy::parse_header(file, "t");
  CHECK(h.major == 2);
  CHECK(h.data_offset % 64 == 0);
  CHECK(npy::read(file) == a);
}

TEST_CASE("write_strings then read_strings, including non-ASCII and empty strings") {
  const std::vector<std::string> names = {"B_FlightDistance", "", "\xCF\x87\xC2\xB2",
                                          "\xF0\x9D\x93\x94 x"};
  const std::vector<std::byte> file = npy::write_strings(names);
  CHECK(npy::parse_header(file, "t").descr == "<U16");
  CHECK(npy::read_strings(file) == names);
  CHECK(npy::read_strings(npy::write_strings({})).empty());
  CHECK(npy::parse_header(npy::write_strings({}), "t").descr == "<U1");
  CHECK_ERROR_CONTAINS(npy::write_strings({"ok", "bad \xFF byte"}), "invalid UTF-8 at byte 4");
  CHECK_ERROR_CONTAINS(npy::write_strings({"\xC0\x80"}), "invalid UTF-8");      // overlong NUL
  CHECK_ERROR_CONTAINS(npy::write_strings({"\xED\xA0\x80"}), "invalid UTF-8");  // surrogate
  CHECK_ERROR_CONTAINS(npy::write_strings({"\xE2\x82"}), "invalid UTF-8");      // cut short
}

TEST_CASE("an empty array of any dtype reads as no strings") {
  CHECK(npy::read_strings(npy::write(ndarray::zeros(dtype::f64, {0}))).empty());
}

TEST_CASE("truncated files fail cleanly at every cut point") {
  for (const std::string name :
       {"c_f8.npy", "v2_f4.npy", "v3_i64.npy", "names_little.npy", "bool.npy"}) {
    const std::vector<std::byte> full = read_fixture(name);
    const bool text = name.find("names") != std::string::npos;
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
      CAPTURE(name);
      CAPTURE(cut);
      const byte_view part(full.data(), cut);
      const std::string message = io_test::error_of([&] {
        if (text)
          npy::read_strings(part);
        else
          npy::read(part);
      });
      CHECK(message.rfind("npy::read", 0) == 0);
    }
  }
  const std::vector<std::byte> full = read_fixture("c_f8.npy");
  CHECK_ERROR_CONTAINS(
      npy::read(byte_view(full.data(), full.size() - 1)),
      "truncated: shape (3, 4) of '<f8' needs 12 items of 8 bytes, the payload has 95 bytes");
  CHECK_ERROR_CONTAINS(npy::read(byte_view(full.data(), 50)), "truncated: header needs");
  CHECK_ERROR_CONTAINS(npy::read(byte_view(full.data(), 9)),
                       "truncated: file ends inside the header length");
}

TEST_CASE("bad magic, unknown versions and malformed headers") {
  std::vector<std::byte> file = npy::write(io_test::pattern_array(dtype::f64, {2}));
  std::vector<std::byte> bad = file;
  bad[1] = std::byte{'X'};
  CHECK_ERROR_CONTAINS(npy::read(bad), "npy::read(): not a .npy file (bad magic");
  CHECK_ERROR_CONTAINS(npy::read(io_test::bytes_of("PK\x03\x04 a zip")), "bad magic");
  CHECK_ERROR_CONTAINS(npy::read(byte_view()), "bad magic");
  bad = file;
  bad[6] = std::byte{4};
  CHECK_ERROR_CONTAINS(npy::read(bad), "unsupported .npy format version 4.0");
  bad = file;
  bad[7] = std::byte{1};
  CHECK_ERROR_CONTAINS(npy::read(bad), "unsupported .npy format version 1.1");

  const auto header_error = [](const std::string& dict) {
    return io_test::error_of([&] { npy::read(handmade(dict, 8)); });
  };
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }") == "<no error>");
  CHECK(header_error("{\"descr\":\"<f8\",\"shape\":[1],\"fortran_order\":False}\n") ==
        "<no error>");
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1L,), }") == "<no error>");
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False}").find("needs the keys") !=
        std::string::npos);
  CHECK(header_error("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}")
            .find("'fortran_order' is not a bool") != std::string::npos);
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}")
            .find("malformed header") != std::string::npos);
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': ('a',)}")
            .find("non-integer") != std::string::npos);
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': 1}")
            .find("'shape' is not a tuple") != std::string::npos);
  CHECK(header_error("{'descr': 8, 'fortran_order': False, 'shape': (1,)}")
            .find("'descr' is not a string") != std::string::npos);
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1}")
            .find("unexpected key 'extra'") != std::string::npos);
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)")
            .find("malformed header: expected ','") != std::string::npos);
  CHECK(header_error("{'descr': '<f8, 'fortran_order': False}").find("malformed header") !=
        std::string::npos);
  CHECK(header_error("['descr']").find("expected '{'") != std::string::npos);
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x")
            .find("unexpected text after the dict") != std::string::npos);
  CHECK(header_error("{'descr': 'f8', 'fortran_order': False, 'shape': (1,)}")
            .find("has no byte order") != std::string::npos);
  CHECK(header_error("{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}")
            .find("unsupported dtype complex128") != std::string::npos);
  CHECK(header_error("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}")
            .find("unsupported dtype object") != std::string::npos);
  CHECK(header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,)}")
            .find("integer too large") != std::string::npos);
  CHECK(
      npy::read(handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", 8, 2)).size() ==
      1);
}

TEST_CASE("payload and shape must agree") {
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
  CHECK(npy::read(handmade(dict, 48)).size() == 6);
  CHECK_ERROR_CONTAINS(npy::read(handmade(dict, 40)),
                       "truncated: shape (2, 3) of '<f8' needs 6 items");
  CHECK_ERROR_CONTAINS(npy::read(handmade(dict, 0)), "truncated");
  CHECK_ERROR_CONTAINS(npy::read(handmade(dict, 56)), "payload has 8 bytes more than shape (2, 3)");
  // A shape whose byte count overflows is a clean error, not a huge allocation.
  CHECK_ERROR_CONTAINS(
      npy::read(handmade(
          "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", 8)),
      "npy::read(): shape is too large");
  CHECK_ERROR_CONTAINS(
      npy::read(
          handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}", 8)),
      "truncated");
}

TEST_CASE("a bool payload byte other than 0/1 reads as true") {
  std::vector<std::byte> file =
      handmade("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", 3);
  file[file.size() - 2] = std::byte{0x7F};
  const ndarray a = npy::read(file);
  CHECK(a.to_doubles() == std::vector<double>{0, 1, 0});
}

TEST_CASE("invalid code points in a unicode array are an error") {
  std::vector<std::byte> file =
      handmade("{'descr': '<U1', 'fortran_order': False, 'shape': (1,)}", 4);
  file[file.size() - 2] = std::byte{0x11};  // 0x110000: beyond Unicode
  CHECK_ERROR_CONTAINS(npy::read_strings(file), "invalid code point 1114112");
}

TEST_CASE("files: write_file then read_file, and missing files") {
  io_test::scratch_dir dir;
  const ndarray a = io_test::pattern_array(dtype::u16, {4, 2});
  npy::write_file(dir / "a.npy", a, false);
  CHECK(npy::read_file(dir / "a.npy") == a);
  CHECK_ERROR_CONTAINS(npy::write_file(dir / "a.npy", a, false), "refusing to overwrite");
  CHECK_ERROR_CONTAINS(npy::read_file(dir / "missing.npy"), "no such file");
}

TEST_CASE("random corruption gives a result or a baler::error, never a crash") {
  std::mt19937 rng(12345);
  for (const std::string name : {"c_f8.npy", "fortran_i16_3d.npy", "names_big.npy", "v3_i64.npy"}) {
    const std::vector<std::byte> good = read_fixture(name);
    for (int trial = 0; trial < 500; ++trial) {
      const std::vector<std::byte> bad = io_test::damaged(good, rng, 1 + trial % 4);
      CAPTURE(name);
      CAPTURE(trial);
      CHECK(io_test::error_of([&] { npy::read(bad); }).find("<not a baler::error") ==
            std::string::npos);
      CHECK(io_test::error_of([&] { npy::read_strings(bad); }).find("<not a baler::error") ==
            std::string::npos);
    }
  }
}

TEST_CASE("a header nesting sequences thousands deep is refused, not a stack overflow") {
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': " + std::string(65000, '(') + "}";
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<std::uint16_t>(dict.size());
  file += char(len & 0xff);
  file += char(len >> 8);
  file += dict;
  CHECK_THROWS_WITH_AS(npy::read(byte_view(file)), doctest::Contains("nests sequences too deeply"), error);
}
