// .npz: numpy's stored, deflated and zip64 archives and zipfile's streamed one; our writer,
// checked by numpy itself when it is installed; corrupted, crafted and truncated archives.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "test_io_support.hpp"

using namespace baler;
using io_test::fixture;

namespace {

const std::vector<std::string> table_names = {"pt", "eta", "phi"};

void check_table(const npz::archive& a) {
  REQUIRE(a.size() == 2);
  REQUIRE(a.count("data") == 1);
  REQUIRE(a.count("names") == 1);
  CHECK(a.at("data").array() == io_test::pattern_array(dtype::f64, {4, 3}));
  CHECK(a.at("names").strings() == table_names);
  CHECK(a.at("names").is_text());
  CHECK_FALSE(a.at("data").is_text());
}

// Offset of the first occurrence of `text` in bytes at or after `from`.
std::size_t find(const std::vector<std::byte>& bytes, const std::string& text,
                 std::size_t from = 0) {
  for (std::size_t i = from; i + text.size() <= bytes.size(); ++i)
    if (std::memcmp(bytes.data() + i, text.data(), text.size()) == 0) return i;
  return std::string::npos;
}

// Overwrites the little-endian field of n bytes at offset `at`.
void put_le(std::vector<std::byte>& bytes, std::size_t at, std::uint64_t v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) bytes[at + i] = static_cast<std::byte>((v >> (8 * i)) & 0xFF);
}

}  // namespace

TEST_CASE("numpy fixtures: stored, deflated and zip64 archives") {
  check_table(npz::read_file(fixture("table_stored.npz")));
  check_table(npz::read_file(fixture("table_deflated.npz")));
  check_table(npz::read_file(fixture("table_zip64.npz")));
}

TEST_CASE("zipfile's streamed archive: data descriptors, a folder, a comment") {
  check_table(npz::read_file(fixture("table_streamed.npz")));  // the folder "extra/" is skipped
}

TEST_CASE("numpy fixtures: other member names and empty float names") {
  const npz::archive single = npz::read_file(fixture("single_member.npz"));
  REQUIRE(single.count("values") == 1);
  CHECK(single.at("values").array() == io_test::pattern_array(dtype::i32, {5}));
  CHECK(single.at("values").name == "values");

  const npz::archive empty = npz::read_file(fixture("empty_names.npz"));
  CHECK(empty.at("names").header().descr == "<f8");
  CHECK(empty.at("names").strings().empty());
}

TEST_CASE("write then read, stored and deflated") {
  for (npz::compression method : {npz::compression::stored, npz::compression::deflated}) {
    for (dtype t : all_dtypes) {
      CAPTURE(dtype_name(t));
      const ndarray data = io_test::pattern_array(t, {50, 3});
      const std::vector<std::byte> file = npz::write(data, table_names, method);
      const npz::archive a = npz::read(file);
      CHECK(a.at("data").array() == data);
      CHECK(a.at("names").strings() == table_names);
    }
  }
  // Without names there is no names member, as in numpy's files of plain arrays.
  const npz::archive plain = npz::read(
      npz::write(io_test::pattern_array(dtype::f32, {2, 2}), {}, npz::compression::stored));
  CHECK(plain.size() == 1);
  CHECK(plain.count("data") == 1);
}

TEST_CASE("write: deflated is smaller on compressible data, and output is reproducible") {
  const ndarray zeros = ndarray::zeros(dtype::f64, {1000, 4});
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  const auto stored = npz::write(zeros, names, npz::compression::stored);
  const auto deflated = npz::write(zeros, names, npz::compression::deflated);
  CHECK(deflated.size() < stored.size() / 10);
  CHECK(npz::write(zeros, names, npz::compression::deflated) == deflated);
}

TEST_CASE("write: generic members and invalid names") {
  const auto file = npz::write({{"x", npy::write(io_test::pattern_array(dtype::u8, {3}))},
                                {"labels", npy::write_strings({"a", "b"})}},
                               npz::compression::deflated);
  const npz::archive a = npz::read(file);
  CHECK(a.at("x").array() == io_test::pattern_array(dtype::u8, {3}));
  CHECK(a.at("labels").strings() == std::vector<std::string>{"a", "b"});
  CHECK_ERROR_CONTAINS(npz::write({{"", {}}}, npz::compression::stored), "invalid member name ''");
  CHECK_ERROR_CONTAINS(npz::write({{"a/b", {}}}, npz::compression::stored),
                       "invalid member name 'a/b'");
}

TEST_CASE("numpy reads what we write") {
  if (!io_test::numpy_available()) {
    MESSAGE("skipped: /usr/bin/python3 with numpy is not available");
    return;
  }
  io_test::scratch_dir dir;
  std::vector<std::pair<std::string, std::vector<std::byte>>> all;
  for (dtype t : all_dtypes) {
    const ndarray a = io_test::pattern_array(t, {3, 4});
    npy::write_file(dir / (dtype_name(t) + ".npy"), a, false);
    all.emplace_back(dtype_name(t), npy::write(a));
  }
  write_file_atomically(dir / "all_stored.npz", npz::write(all, npz::compression::stored), false);
  write_file_atomically(dir / "all_deflated.npz", npz::write(all, npz::compression::deflated),
                        false);
  write_file_atomically(dir / "table.npz",
                        npz::write(io_test::pattern_array(dtype::f64, {4, 3}),
                                   {"pt", "\xCE\x94\xCF\x86", ""}, npz::compression::deflated),
                        false);
  // The same pattern as make_fixtures.py's value(), checked dtype by dtype.
  const std::string script = R"PY(
import sys, numpy as np
d = sys.argv[1]
def value(dtype, shape):
    k = np.arange(int(np.prod(shape))).reshape(shape)
    dtype = np.dtype(dtype)
    if dtype.kind == "b": return k % 3 == 0
    if dtype.kind == "u": return k.astype(dtype)
    if dtype.kind == "f": return (k - 5 + 0.25).astype(dtype)
    return (k - 5).astype(dtype)
names = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64"]
archives = [np.load(d + "/all_stored.npz"), np.load(d + "/all_deflated.npz")]
for n in names:
    expected = value(n, (3, 4))
    for a in [np.load(d + "/" + n + ".npy")] + [z[n] for z in archives]:
        assert a.dtype == expected.dtype and a.shape == expected.shape, (n, a.dtype, a.shape)
        assert (a == expected).all(), n
t = np.load(d + "/table.npz")
assert sorted(t.files) == ["data", "names"]
assert (t["data"] == value("f8", (4, 3))).all()
assert list(t["names"]) == ["pt", "\u0394\u03c6", ""], list(t["names"])
print("numpy read all files")
)PY";
  std::ofstream(dir / "check.py") << script;
  const std::string command =
      "/usr/bin/python3 '" + (dir / "check.py").string() + "' '" + dir.path().string() + "'";
  CHECK(std::system(command.c_str()) == 0);
}

TEST_CASE("corrupted archives are errors, never wrong data") {
  const std::vector<std::byte> good = read_file(fixture("table_stored.npz"));
  // A flipped payload byte of a stored member: only the CRC can tell.
  std::vector<std::byte> bad = good;
  const std::size_t payload = find(bad, "\x93NUMPY") + 128 + 8;
  bad[payload] ^= std::byte{0x40};
  const npz::archive never = [&] {
    npz::archive a;
    CHECK_ERROR_CONTAINS(a = npz::read(bad), "npz::read(): cannot read member 'data.npy'");
    return a;
  }();
  CHECK(never.empty());

  // A deflated member with garbage in its compressed stream.
  bad = read_file(fixture("table_deflated.npz"));
  for (std::size_t i = 40; i < 80; ++i) bad[i] = std::byte{0x55};
  CHECK_ERROR_CONTAINS(npz::read(bad), "npz::read(): ");

  // Broken central directory.
  bad = good;
  bad[find(bad, "PK\x01\x02") + 10] = std::byte{0x63};  // compression method 99
  CHECK_ERROR_CONTAINS(npz::read(bad), "npz::read(): ");

  CHECK_ERROR_CONTAINS(npz::read(io_test::bytes_of("not a zip file at all, just text")),
                       "npz::read(): not a valid .npz (zip) archive");
  CHECK_ERROR_CONTAINS(npz::read(byte_view()), "not a valid .npz (zip) archive");
  CHECK_ERROR_CONTAINS(npz::read_file(fixture("c_f8.npy")), "not a valid .npz");
  CHECK_ERROR_CONTAINS(npz::read_file(fixture("missing.npz")), "read_file(): cannot open");
}

TEST_CASE("crafted members: each check names the member and what is wrong") {
  // Our layout: local header (30 bytes, "data.npy", zip64 extra of 20) and data; central
  // header (46 bytes: flags @8, method @10, CRC @16, then "data.npy" and the zip64 extra:
  // id, length, size @58, compressed size @66, local offset @74); ...; zip64 EOCD, locator, EOCD.
  const ndarray data = io_test::pattern_array(dtype::f64, {50, 3});
  const std::vector<std::byte> deflated = npz::write(data, table_names, npz::compression::deflated);
  const std::vector<std::byte> stored = npz::write(data, table_names, npz::compression::stored);
  const std::uint64_t size = npy::write(data).size();
  const auto patched = [](std::vector<std::byte> bytes, std::size_t field, std::uint64_t v,
                          std::size_t n) {
    put_le(bytes, find(bytes, "PK\x01\x02") + field, v, n);
    return bytes;
  };
  const std::string member = "npz::read(): cannot read member 'data.npy': ";
  CHECK(npz::read(deflated).at("data").array() == data);

  std::vector<std::byte> bad = deflated;
  bad[find(bad, "PK\x01\x02") + 16] ^= std::byte{0x01};
  CHECK_ERROR_CONTAINS(npz::read(bad), member + "CRC-32 mismatch");
  CHECK_ERROR_CONTAINS(npz::read(patched(deflated, 10, 12, 2)),
                       member + "unsupported compression method 12");
  CHECK_ERROR_CONTAINS(npz::read(patched(deflated, 8, 0x0801, 2)), member + "it is encrypted");
  CHECK_ERROR_CONTAINS(
      npz::read(patched(deflated, 58, size - 1, 8)),
      member + "it inflates to more than the declared " + std::to_string(size - 1));
  CHECK_ERROR_CONTAINS(
      npz::read(patched(deflated, 58, size + 1, 8)),
      member + "it inflates to " + std::to_string(size) + " bytes, not the declared");
  // A size no deflate stream of these bytes reaches is refused before any allocation.
  CHECK_ERROR_CONTAINS(npz::read(patched(deflated, 58, std::uint64_t(1) << 60, 8)),
                       "deflated bytes can hold");
  CHECK_ERROR_CONTAINS(npz::read(patched(deflated, 66, 10, 8)),
                       member + "its deflate stream is truncated");
  CHECK_ERROR_CONTAINS(npz::read(patched(deflated, 66, deflated.size(), 8)), "lie outside the");
  CHECK_ERROR_CONTAINS(npz::read(patched(deflated, 74, 3, 8)),
                       member + "no local header at offset 3");
  CHECK_ERROR_CONTAINS(
      npz::read(patched(deflated, 54, 0x9999, 2)),
      member + "a 32-bit size or offset is 0xFFFFFFFF but it has no zip64 extra field");
  CHECK_ERROR_CONTAINS(npz::read(patched(deflated, 56, 8, 2)),
                       member + "its zip64 extra field is too short");
  CHECK_ERROR_CONTAINS(npz::read(patched(stored, 58, size - 1, 8)),
                       member + "stored, yet its size");
  bad = deflated;
  bad[30 + 8 + 20] = std::byte{0x07};  // the first block: final, type 3 (reserved)
  CHECK_ERROR_CONTAINS(npz::read(bad),
                       member + "its deflate stream is corrupt (invalid block type)");

  // Archive-level records.
  const std::string archive = "npz::read(): not a valid .npz (zip) archive: ";
  bad = deflated;
  put_le(bad, find(bad, "PK\x06\x07"), 0, 4);
  CHECK_ERROR_CONTAINS(
      npz::read(bad),
      archive + "a 32-bit directory field is 0xFFFF... but there is no zip64 locator");
  bad = deflated;
  put_le(bad, find(bad, "PK\x06\x07") + 8, 5, 8);
  CHECK_ERROR_CONTAINS(npz::read(bad), archive + "the zip64 locator points to no zip64 end");
  bad = deflated;
  put_le(bad, find(bad, "PK\x06\x06") + 48, 5, 8);  // the directory's offset
  CHECK_ERROR_CONTAINS(npz::read(bad),
                       archive + "central directory header 0 at offset 5 is missing");
  bad = deflated;
  put_le(bad, find(bad, "PK\x06\x06") + 40, 1 << 20, 8);  // the directory's size
  CHECK_ERROR_CONTAINS(npz::read(bad), "lies outside the " + std::to_string(bad.size()) + " bytes");
  bad = deflated;
  put_le(bad, find(bad, "PK\x06\x06") + 32, 3, 8);  // three entries, two headers
  CHECK_ERROR_CONTAINS(npz::read(bad), archive + "central directory header 2 at offset");

  // Two central headers naming the same member (the local header keeps its own name).
  bad = npz::write({{"a", npy::write(data)}, {"b", npy::write(data)}}, npz::compression::stored);
  bad[find(bad, "PK\x01\x02", find(bad, "PK\x01\x02") + 4) + 46] = std::byte{'a'};
  CHECK_ERROR_CONTAINS(npz::read(bad), "npz::read(): member 'a' occurs twice");
}

TEST_CASE("our writer's layout: zip64 records, UTF-8 names, DOS date 1980-01-01") {
  const std::vector<std::byte> file = npz::write(
      {{"x", npy::write(io_test::pattern_array(dtype::u8, {3}))}}, npz::compression::stored);
  REQUIRE(find(file, "PK\x03\x04") == 0);
  CHECK(load_le(file.data() + 6, 2) == 0x0800);       // flags: UTF-8 name
  CHECK(load_le(file.data() + 10, 2) == 0);           // time 00:00
  CHECK(load_le(file.data() + 12, 2) == 0x0021);      // date 1980-01-01
  CHECK(load_le(file.data() + 18, 4) == 0xFFFFFFFF);  // sizes in the zip64 extra
  CHECK(find(file, "PK\x06\x06") != std::string::npos);
  CHECK(find(file, "PK\x06\x07") != std::string::npos);
  CHECK(find(file, "PK\x05\x06") == file.size() - 22);
  // Empty members and empty archives.
  const npz::archive empty = npz::read(npz::write({{"e", {}}}, npz::compression::deflated));
  CHECK(empty.at("e").bytes.empty());
  CHECK(npz::read(npz::write({}, npz::compression::stored)).empty());
}

TEST_CASE("truncated archives fail cleanly at every cut point") {
  const ndarray data = io_test::pattern_array(dtype::i16, {20, 3});
  std::vector<std::pair<std::string, std::vector<std::byte>>> archives = {
      {"ours, stored", npz::write(data, table_names, npz::compression::stored)},
      {"ours, deflated", npz::write(data, table_names, npz::compression::deflated)}};
  for (const std::string name :
       {"table_stored.npz", "table_deflated.npz", "table_zip64.npz", "table_streamed.npz"})
    archives.emplace_back(name, read_file(fixture(name)));
  for (const auto& archive : archives) {
    const std::string& name = archive.first;
    const std::vector<std::byte>& full = archive.second;
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
      CAPTURE(name);
      CAPTURE(cut);
      CHECK(io_test::error_of([&] {
              npz::read(byte_view(full.data(), cut));
            }).rfind("npz::read(): ", 0) == 0);
    }
  }
}

TEST_CASE("a member that is not a readable .npy is an error naming it") {
  std::vector<std::byte> junk = io_test::bytes_of("just text");
  const npz::archive a =
      npz::read(npz::write({{"readme", junk}, {"data", npy::write(ndarray::zeros(dtype::i8, {2}))}},
                           npz::compression::stored));
  CHECK(a.at("data").array().size() == 2);  // the good member still reads
  CHECK_ERROR_CONTAINS(
      a.at("readme").array(),
      "npy::read(): not a .npy file (bad magic; expected \\x93NUMPY) [npz member 'readme']");
  CHECK_ERROR_CONTAINS(a.at("readme").is_text(), "[npz member 'readme']");
}

TEST_CASE("random corruption gives a result or a baler::error, never a crash") {
  std::mt19937 rng(54321);
  for (const std::string name :
       {"table_stored.npz", "table_deflated.npz", "table_zip64.npz", "table_streamed.npz"}) {
    const std::vector<std::byte> good = read_file(fixture(name));
    for (int trial = 0; trial < 500; ++trial) {
      const std::vector<std::byte> bad = io_test::damaged(good, rng, 1 + trial % 4);
      CAPTURE(name);
      CAPTURE(trial);
      const std::string message = io_test::error_of([&] {
        for (const auto& [member, e] : npz::read(bad)) {
          if (e.is_text())
            e.strings();
          else
            e.array();
        }
      });
      CHECK(message.find("<not a baler::error") == std::string::npos);
    }
  }
}
