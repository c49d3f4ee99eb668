// Datasets: every real data file of the project loads with the shape, dtype and names its
// README lists; saving and loading through every format; dispatch and consistency errors.
#include <map>

#include "test_io_support.hpp"

using namespace baler;
namespace fs = std::filesystem;

namespace {

struct expected_file {
  std::vector<std::size_t> shape;
  dtype type;
  std::size_t names;  // 0: no names
  std::vector<std::string> first_names;
};

// From BALER_SHARED_DATA/README.md; names as stored in the files.
const std::map<std::string, expected_file>& shared_files() {
  static const std::map<std::string, expected_file> files = {
      {"hep/lhcb_b2kkk.npz",
       {{4322, 26}, dtype::f64, 26, {"B_FlightDistance", "B_VertexChi2", "H1_PX"}}},
      {"hep/lhcb_b2kkk_baler_ratio2.npz",
       {{4322, 26}, dtype::f64, 26, {"B_FlightDistance", "B_VertexChi2"}}},
      {"hep/atlas_jets4d_train.npz", {{111778, 4}, dtype::f64, 4, {"m", "pt", "phi", "eta"}}},
      {"hep/atlas_jets4d_test.npz", {{27945, 4}, dtype::f64, 4, {"m", "pt", "phi", "eta"}}},
      {"hep/cms_zmumu_2011a.npz", {{10851, 19}, dtype::f64, 19, {"Run", "Event", "E1", "px1"}}},
      {"cfd/CFD_animation.npz", {{60, 50, 50}, dtype::f64, 0, {}}},
      {"cfd/CFD_still.npz", {{1, 50, 50}, dtype::f64, 0, {}}},
      {"fields/sperr_vorticity_512x512.npz", {{512, 512}, dtype::f32, 0, {}}},
  };
  return files;
}

}  // namespace

TEST_CASE("every shared data file loads as its README describes") {
  const fs::path root = BALER_SHARED_DATA;
  if (!fs::is_directory(root)) {
    MESSAGE("skipped: no shared data folder at " << root.string());
    return;
  }
  std::size_t seen = 0;
  for (const auto& item : fs::recursive_directory_iterator(root)) {
    if (item.path().extension() != ".npz") continue;
    const std::string rel = fs::relative(item.path(), root).generic_string();
    CAPTURE(rel);
    const auto known = shared_files().find(rel);
    CHECK_MESSAGE(known != shared_files().end(), "not in this test's copy of the README table");
    const dataset d = load_dataset(item.path());
    CHECK(d.data.size() > 0);
    if (known == shared_files().end()) continue;
    ++seen;
    const expected_file& e = known->second;
    CHECK(d.data.shape == e.shape);
    CHECK(d.data.type == e.type);
    CHECK(d.names.size() == e.names);
    for (std::size_t i = 0; i < e.first_names.size() && i < d.names.size(); ++i)
      CHECK(d.names[i] == e.first_names[i]);
  }
  CHECK(seen == shared_files().size());
}

TEST_CASE("a real table survives saving as .npz and .csv") {
  const fs::path lhcb = fs::path(BALER_SHARED_DATA) / "hep/lhcb_b2kkk.npz";
  if (!fs::exists(lhcb)) {
    MESSAGE("skipped: " << lhcb.string() << " is missing");
    return;
  }
  // Re-saving in every format and loading back keeps values and names exactly.
  const dataset d = load_dataset(lhcb);
  io_test::scratch_dir dir;
  for (const char* name : {"t.npz", "t.csv"}) {
    CAPTURE(name);
    save_dataset(dir / name, d, false, npz::compression::deflated);
    const dataset back = load_dataset(dir / name);
    CHECK(back.data == d.data);
    CHECK(back.names == d.names);
  }
}

TEST_CASE("save and load through every format") {
  io_test::scratch_dir dir;
  const dataset table{io_test::pattern_array(dtype::f64, {6, 3}), {"a", "b c", "\xCE\x94\xCF\x86"}};
  for (const char* name : {"t.npz", "T.NPZ", "t.csv"}) {
    CAPTURE(name);
    save_dataset(dir / name, table, false);
    const dataset back = load_dataset(dir / name);
    CHECK(back.data == table.data);
    CHECK(back.names == table.names);
  }
  // A .npy holds the array only.
  save_dataset(dir / "t.npy", table, false);
  const dataset npy_back = load_dataset(dir / "t.npy");
  CHECK(npy_back.data == table.data);
  CHECK(npy_back.names.empty());

  // Other dtypes and shapes, without names.
  const dataset cube{io_test::pattern_array(dtype::u16, {2, 3, 4}), {}};
  save_dataset(dir / "cube.npz", cube, false, npz::compression::deflated);
  CHECK(load_dataset(dir / "cube.npz").data == cube.data);
  CHECK_ERROR_CONTAINS(save_dataset(dir / "cube.csv", cube, false), "needs a 1-d or 2-d array");
  CHECK_FALSE(fs::exists(dir / "cube.csv"));

  CHECK_ERROR_CONTAINS(save_dataset(dir / "t.npz", table, false), "refusing to overwrite");
  save_dataset(dir / "t.npz", cube, true);
  CHECK(load_dataset(dir / "t.npz").data == cube.data);
}

TEST_CASE("npz member choice: data, the only member, one 1-D member per column, or an error listing the members") {
  CHECK(load_dataset(io_test::fixture("single_member.npz")).data ==
        io_test::pattern_array(dtype::i32, {5}));
  const dataset empty_names = load_dataset(io_test::fixture("empty_names.npz"));
  CHECK(empty_names.names.empty());
  CHECK(empty_names.data.shape == std::vector<std::size_t>{2, 2, 2});

  npz::archive two = npz::read_file(io_test::fixture("dtypes_big.npz"));
  CHECK_ERROR_CONTAINS(dataset_from_npz(two), "no member 'data' among 'f16', 'f32', 'f64'");
  CHECK_ERROR_CONTAINS(dataset_from_npz({}), "none (the archive is empty)");
  io_test::scratch_dir dir;
  auto archive = [&](const std::string& name, std::vector<std::pair<std::string, ndarray>> members) {
    std::vector<std::pair<std::string, std::vector<std::byte>>> files;
    for (const auto& [member, array] : members) files.push_back({member, npy::write(array)});
    write_file_atomically(dir / name, npz::write(files, npz::compression::stored), false);
    return dir / name;
  };
  // One 1-D member per column (np.savez(f, pt=..., eta=...)): a table in the members' order,
  // not their names' (zeta before alpha), exact in their one dtype.
  const ndarray a = io_test::pattern_array(dtype::i64, {5}), b = io_test::pattern_array(dtype::i64, {5});
  const dataset t = load_dataset(archive("t.npz", {{"zeta", a}, {"alpha", b}}));
  CHECK(t.names == std::vector<std::string>{"zeta", "alpha"});
  REQUIRE(t.data.shape == std::vector<std::size_t>{5, 2});
  CHECK(t.data.type == dtype::i64);
  for (std::size_t r = 0; r < 5; ++r) {
    CHECK(t.data.data_as<std::int64_t>()[2 * r] == a.data_as<std::int64_t>()[r]);
    CHECK(t.data.data_as<std::int64_t>()[2 * r + 1] == b.data_as<std::int64_t>()[r]);
  }
  // Written back as it was read: the same members, in order, byte for byte.
  CHECK(t.layout == table_layout::members);
  save_dataset(dir / "back.npz", t, false);
  const npz::archive back = npz::read_file(dir / "back.npz");
  REQUIRE(back.size() == 2);
  CHECK(back.at("zeta").array() == a);
  CHECK(back.at("alpha").array() == b);
  CHECK(back.at("zeta").position == 0);
  dataset named_twice = t;
  named_twice.names = {"x", "x"};
  CHECK_ERROR_CONTAINS(save_dataset(dir / "twice.npz", named_twice, false), "two columns are named 'x'");
  CHECK_FALSE(fs::exists(dir / "twice.npz"));
  CHECK(load_dataset(io_test::fixture("single_member.npz")).layout == table_layout::array);
  // The only member under another name than "data" (np.savez(f, values=v)) is written back
  // under its name; "data" is not recorded.
  const dataset values = load_dataset(io_test::fixture("single_member.npz"));
  CHECK(values.member == "values");
  save_dataset(dir / "values_back.npz", values, false);
  const npz::archive values_back = npz::read_file(dir / "values_back.npz");
  REQUIRE(values_back.size() == 1);
  CHECK(values_back.at("values").array() == values.data);
  CHECK(load_dataset(io_test::fixture("empty_names.npz")).member.empty());
  // Mixed dtypes: float64, which holds them all, and written back in theirs.
  const ndarray f = io_test::pattern_array(dtype::f32, {5}), n = io_test::pattern_array(dtype::i16, {5});
  const dataset mixed = load_dataset(archive("m.npz", {{"n", n}, {"x", f}}));
  CHECK(mixed.data.type == dtype::f64);
  CHECK(mixed.column_types == std::vector<dtype>{dtype::i16, dtype::f32});
  CHECK(stored_nbytes(mixed) == 5 * (2 + 4));
  const std::vector<double> fx = f.to_doubles(), mx = mixed.data.to_doubles();
  for (std::size_t r = 0; r < 5; ++r) CHECK(mx[2 * r + 1] == fx[r]);
  save_dataset(dir / "mixed_back.npz", mixed, false);
  const npz::archive mixed_back = npz::read_file(dir / "mixed_back.npz");
  CHECK(mixed_back.at("n").array() == n);
  CHECK(mixed_back.at("x").array() == f);
  // 64-bit integers no float64 equals beside another dtype: held less the column's minimum
  // (column_offsets), and written back bit for bit.
  ndarray big = ndarray::zeros(dtype::i64, {2});
  big.data_as<std::int64_t>()[0] = (std::int64_t(1) << 53) + 7;
  big.data_as<std::int64_t>()[1] = (std::int64_t(1) << 53) + 1;
  const dataset wide = load_dataset(archive("w.npz", {{"id", big}, {"x", ndarray::zeros(dtype::f32, {2})}}));
  CHECK(wide.column_offsets == std::vector<std::uint64_t>{(std::uint64_t(1) << 53) + 1, 0});
  CHECK(wide.data.to_doubles() == std::vector<double>{6, 0, 0, 0});
  save_dataset(dir / "wide_back.npz", wide, false);
  CHECK(npz::read_file(dir / "wide_back.npz").at("id").array() == big);
  // Refused: lengths that differ; a 64-bit column spanning 2^53 or more beside another dtype.
  CHECK_ERROR_CONTAINS(load_dataset(archive("l.npz", {{"a", ndarray::zeros(dtype::f32, {4})},
                                                      {"b", ndarray::zeros(dtype::f32, {5})}})),
                       "column 'b' has 5 values and 'a' 4");
  big.data_as<std::int64_t>()[0] = 0;
  CHECK_ERROR_CONTAINS(load_dataset(archive("b.npz", {{"id", big}, {"x", ndarray::zeros(dtype::f32, {2})}})),
                       "column 'id' holds int64 values from 0 to 9007199254740993, which float64 cannot hold exactly");
  // Not a table: a 2-D member beside a 1-D one.
  CHECK_ERROR_CONTAINS(load_dataset(archive("x.npz", {{"a", ndarray::zeros(dtype::f32, {2, 2})},
                                                      {"b", ndarray::zeros(dtype::f32, {2})}})),
                       "no member 'data' among 'a', 'b', and not one 1-D array per column [file ");
}

TEST_CASE("columns of text: a unicode .npz member or a CSV column, labels written back to every format") {
  io_test::scratch_dir dir;
  // np.savez(f, pt=pt, type=np.array(["mu", "e", "mu", "τ"])): labels sorted byte-wise, the
  // values their indices, held as int32 beside the float32 column.
  const ndarray pt = io_test::pattern_array(dtype::f32, {4});
  write_file_atomically(dir / "t.npz",
                        npz::write({{"pt", npy::write(pt)}, {"type", npy::write_strings({"mu", "e", "mu", "\u03c4"})}},
                                   npz::compression::stored),
                        false);
  const dataset t = load_dataset(dir / "t.npz");
  CHECK(t.names == std::vector<std::string>{"pt", "type"});
  CHECK(t.layout == table_layout::members);
  CHECK(t.column_types == std::vector<dtype>{dtype::f32, dtype::i32});
  REQUIRE(t.labels.size() == 2);
  CHECK(t.labels[0].empty());
  CHECK(t.labels[1] == std::vector<std::string>{"e", "mu", "\u03c4"});
  const std::vector<double> v = t.data.to_doubles();
  CHECK(std::vector<double>{v[1], v[3], v[5], v[7]} == std::vector<double>{1, 0, 1, 2});
  CHECK(labelled_columns(t) == "'type'");

  // Back to .npz (the same members, text as a unicode array) and to .csv (the text as cells).
  save_dataset(dir / "back.npz", t, false);
  const npz::archive back = npz::read_file(dir / "back.npz");
  CHECK(back.at("pt").array() == pt);
  CHECK(back.at("type").strings() == std::vector<std::string>{"mu", "e", "mu", "\u03c4"});
  save_dataset(dir / "back.csv", t, false);
  const dataset from_csv = load_dataset(dir / "back.csv");
  CHECK(from_csv.labels == t.labels);
  // A CSV's table (one array) with text goes to .npz as one member per column.
  save_dataset(dir / "again.npz", from_csv, false);
  CHECK(npz::read_file(dir / "again.npz").at("type").strings() == std::vector<std::string>{"mu", "e", "mu", "\u03c4"});
  // A .npy holds the table as a structured array, the text a unicode field as wide as its
  // longest cell: read back, the same labels and values.
  save_dataset(dir / "t.npy", t, false);
  const std::vector<std::byte> npy_bytes = read_file(dir / "t.npy");
  CHECK(std::string(reinterpret_cast<const char*>(npy_bytes.data()), 128).find("[('pt', '<f4'), ('type', '<U2')]") !=
        std::string::npos);
  const dataset from_npy = load_dataset(dir / "t.npy");
  CHECK(from_npy.layout == table_layout::records);
  CHECK(from_npy.labels == t.labels);
  CHECK(from_npy.data == t.data);
  // A value that indexes no label (a crafted file's) is refused, not read past the labels, and
  // nothing is written.
  dataset crafted = from_csv;
  crafted.data.data_as<double>()[3] = 3;
  CHECK_ERROR_CONTAINS(save_dataset(dir / "c.npz", crafted, false),
                       "npz::write_columns(): row 1 of column 2 holds 3.000000, not the index of one of its 3 labels");
  CHECK_ERROR_CONTAINS(save_dataset(dir / "c.npy", crafted, false),
                       "npy::describe_records(): row 1 of column 2 holds 3.000000, not the index of one of its 3 labels");
  CHECK_FALSE(fs::exists(dir / "c.npy"));
  CHECK_FALSE(fs::exists(dir / "c.npz"));
}

TEST_CASE("a CSV's column of times is written back as its text to every format") {
  io_test::scratch_dir dir;
  write_file_atomically(dir / "t.csv", std::string("when,x\n2024-01-01T00:00Z,1\n1999-12-31T23:59Z,2\n"), false);
  const dataset t = load_dataset(dir / "t.csv");
  CHECK(t.times == std::vector<std::string>{"YYYY-MM-DDTHH:MMZ", ""});
  CHECK(dtypes_string(t.data.type, t.column_types, t.labels, t.times) == "columns of time float64");
  CHECK(labelled_columns(t) == "'when'");
  save_dataset(dir / "back.csv", t, false);
  CHECK(load_dataset(dir / "back.csv").data == t.data);
  CHECK(load_dataset(dir / "back.csv").times == t.times);
  save_dataset(dir / "back.npz", t, false);
  CHECK(npz::read_file(dir / "back.npz").at("when").strings() ==
        std::vector<std::string>{"2024-01-01T00:00Z", "1999-12-31T23:59Z"});
  save_dataset(dir / "back.npy", t, false);
  CHECK(load_dataset(dir / "back.npy").labels[0] == std::vector<std::string>{"1999-12-31T23:59Z", "2024-01-01T00:00Z"});
  // A value that is no time (a crafted file's) is refused, and nothing is written.
  dataset crafted = t;
  crafted.data.data_as<double>()[0] = 0.5;
  CHECK_ERROR_CONTAINS(save_dataset(dir / "c.csv", crafted, false), "row 0 of column 1 holds 0.500000, not a time");
  CHECK_FALSE(fs::exists(dir / "c.csv"));
}

TEST_CASE("a structured array is a table of its fields, written back as one") {
  io_test::scratch_dir dir;
  // Mixed field types: float64, which holds them all; names from the fields.
  const dataset mixed = load_dataset(io_test::fixture("records_mixed.npy"));
  CHECK(mixed.layout == table_layout::records);
  CHECK(mixed.names == std::vector<std::string>{"pt", "eta", "n", "ok"});
  REQUIRE(mixed.data.shape == std::vector<std::size_t>{4, 4});
  CHECK(mixed.data.type == dtype::f64);
  CHECK(mixed.column_types == std::vector<dtype>{dtype::f32, dtype::f64, dtype::i32, dtype::bool_});
  const std::vector<double> v = mixed.data.to_doubles(), n = io_test::pattern_array(dtype::i32, {4}).to_doubles();
  for (std::size_t r = 0; r < 4; ++r) CHECK(v[4 * r + 2] == n[r]);
  // One field type (as .npz member "data") stays that type.
  const dataset one = load_dataset(io_test::fixture("records_table.npz"));
  CHECK(one.layout == table_layout::records);
  CHECK(one.names == std::vector<std::string>{"x", "y"});
  CHECK(one.data.type == dtype::f64);
  // Written back as records, in .npy and in .npz, each field in its dtype, and read back the same.
  for (const std::string name : {"back.npy", "back.npz"}) {
    save_dataset(dir / name, mixed, false);
    const dataset back = load_dataset(dir / name);
    CHECK(back.layout == table_layout::records);
    CHECK(back.names == mixed.names);
    CHECK(back.data == mixed.data);
    CHECK(back.column_types == mixed.column_types);
  }
  CHECK(read_file_with(dir / "back.npy", npy::read_records).columns ==
        read_file_with(io_test::fixture("records_mixed.npy"), npy::read_records).columns);
  CHECK(npy::has_fields(read_file(dir / "back.npy")));
  CHECK(npz::read_file(dir / "back.npz").count("names") == 0);
  // Refused with the field named: arrays in a field.
  CHECK_ERROR_CONTAINS(load_dataset(io_test::fixture("records_subarray.npy")), "holds an array");
}

TEST_CASE("text fields of a structured array (unicode, bytes) are columns of text, written back as records and to .csv") {
  io_test::scratch_dir dir;
  // Rows ("mu", 1.5, b"HLT1"), ("e", -2, b"L1"), ("mu", 0.25, b"HLT1"), ("", 4, b"HLT2")
  // (tests/data/make_fixtures.py): fields '<U3', '<f8', '|S4'.
  const dataset t = load_dataset(io_test::fixture("records_text.npy"));
  CHECK(t.names == std::vector<std::string>{"name", "x", "trig"});
  CHECK(t.column_types == std::vector<dtype>{dtype::i32, dtype::f64, dtype::i32});
  REQUIRE(t.labels.size() == 3);
  CHECK(t.labels[0] == std::vector<std::string>{"", "e", "mu"});
  CHECK(t.labels[1].empty());
  CHECK(t.labels[2] == std::vector<std::string>{"HLT1", "HLT2", "L1"});
  CHECK(t.data.to_doubles() == std::vector<double>{2, 1.5, 0, 1, -2, 2, 2, 0.25, 0, 0, 4, 1});
  // Back to records (.npy, .npz member "data": the text fields unicode) and to .csv.
  for (const std::string name : {"back.npy", "back.npz", "back.csv"}) {
    INFO(name);
    save_dataset(dir / name, t, false);
    const dataset back = load_dataset(dir / name);
    CHECK(back.names == t.names);
    CHECK(back.labels == t.labels);
    CHECK(back.data.to_doubles() == t.data.to_doubles());
    if (name != "back.csv") CHECK(back.layout == table_layout::records);
  }
  const npz::archive back_npz = npz::read_file(dir / "back.npz");
  CHECK((back_npz.size() == 1 && back_npz.count("data") == 1));
  // A bytes array read as strings: Latin-1, so that any byte reads.
  const std::vector<std::byte> bytes_array = [] {
    std::vector<std::byte> b = npy::format_header_literal("'|S3'", {2});
    for (int c : {0x61, 0xe9, 0, 0x62, 0x63, 0x64}) b.push_back(std::byte(c));  // a, e-acute, NUL, b, c, d
    return b;
  }();
  CHECK(npy::read_strings(bytes_array) == std::vector<std::string>{"a\u00e9", "bcd"});
}

TEST_CASE("names must label the columns of a 2-d table") {
  io_test::scratch_dir dir;
  const dataset wrong{io_test::pattern_array(dtype::f64, {2, 3}), {"a", "b"}};
  CHECK_ERROR_CONTAINS(save_dataset(dir / "w.npz", wrong, false),
                       "2 column names for data of shape (2, 3)");
  const dataset cube{io_test::pattern_array(dtype::f64, {2, 2, 2}), {"a", "b"}};
  CHECK_ERROR_CONTAINS(save_dataset(dir / "c.npz", cube, false), "names need a 2-d table");
  // The same check on load, for files written elsewhere.
  write_file_atomically(dir / "w.npz",
                        npz::write(wrong.data, wrong.names, npz::compression::stored), false);
  CHECK_ERROR_CONTAINS(load_dataset(dir / "w.npz"), "2 column names for data of shape (2, 3)");
  CHECK(dir.files() == std::vector<std::string>{"w.npz"});
}

TEST_CASE("format by extension") {
  CHECK(format_of("a/b.NpZ") == file_format::npz);
  CHECK(format_of("b.npy") == file_format::npy);
  CHECK(format_of("b.csv") == file_format::csv);
  CHECK(format_of("b.h5:/g/x") == file_format::hdf5);
  CHECK_ERROR_CONTAINS(format_of("data.txt"), "cannot tell the format of 'data.txt'");
  CHECK_ERROR_CONTAINS(format_of("data.h5"), "write data.h5:/group/dataset");
  CHECK_ERROR_CONTAINS(load_dataset("noext"), "expected .npz, .npy, .csv or FILE.h5:/dataset");
  CHECK_ERROR_CONTAINS(load_dataset(io_test::fixture("missing.npz")), "no such file");
  CHECK_ERROR_CONTAINS(load_dataset(io_test::fixture("complex128.npy")),
                       "unsupported dtype complex128");
}
