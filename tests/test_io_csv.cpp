// CSV tables: what spreadsheets, pandas and numpy.savetxt produce, errors that point at the
// offending cell, and exact round trips through our writer.
#include <cmath>
#include <limits>

#include "test_io_support.hpp"

using namespace baler;

namespace {

std::pair<ndarray, std::vector<std::string>> parse(const std::string& text) {
  csv::table t = csv::read(text);
  REQUIRE(t.labels.empty());
  return {std::move(t.data), std::move(t.names)};
}

}  // namespace

TEST_CASE("read: header, numbers, blank lines, CRLF") {
  const auto [data, names] = parse("a,b,c\n1,2,3\n\n4.5, -6e-3 ,+7\r\n  \n8,9,10");
  CHECK(names == std::vector<std::string>{"a", "b", "c"});
  CHECK(data.type == dtype::f64);
  CHECK(data.shape == std::vector<std::size_t>{3, 3});
  CHECK(data.to_doubles() == std::vector<double>{1, 2, 3, 4.5, -6e-3, 7, 8, 9, 10});
}

TEST_CASE("read: quoted names and cells, byte order mark, savetxt comment header") {
  auto [data, names] =
      parse("\xEF\xBB\xBF\"p_T, GeV\",\"say \"\"hi\"\"\",\" x \",\"two\nlines\"\n\"1\",2,3,4\n");
  CHECK(names == std::vector<std::string>{"p_T, GeV", "say \"hi\"", " x ", "two\nlines"});
  CHECK(data.to_doubles() == std::vector<double>{1, 2, 3, 4});

  std::tie(data, names) = parse("# pt,eta\n1.000000000000000000e+00,2.000000000000000000e+00\n");
  CHECK(names == std::vector<std::string>{"pt", "eta"});
  CHECK(data.to_doubles() == std::vector<double>{1, 2});
}

TEST_CASE("read: cells separated by semicolons (with decimal commas) or tabs, as the header line shows") {
  auto [data, names] = parse("\n  \na;\"b,c\";d\n1,5;2;-3,25e2\n4;5.5;\"6,0\"\n");
  CHECK(names == std::vector<std::string>{"a", "b,c", "d"});
  CHECK(data.to_doubles() == std::vector<double>{1.5, 2, -325, 4, 5.5, 6});
  CHECK_ERROR_CONTAINS(parse("a;b\n1;2\n3;1,5,2\n4;5\n"), "'1,5,2' is not a number");
  std::tie(data, names) = parse("x\ty\n1.5\t2\n\t4\n");
  CHECK(names == std::vector<std::string>{"x", "y"});
  const std::vector<double> v = data.to_doubles();
  CHECK((v[0] == 1.5 && v[1] == 2 && std::isnan(v[2]) && v[3] == 4));
  // A comma anywhere in the header line makes it comma-separated; a decimal comma is then a
  // separator, as RFC 4180 has it.
  const csv::table commas = csv::read(std::string("a;b,c\n1;2,3\n"));
  CHECK(commas.names == std::vector<std::string>{"a;b", "c"});
  CHECK(commas.labels.at(0) == std::vector<std::string>{"1;2"});
}

TEST_CASE("read: special values, empty cells and a header-only file") {
  auto [data, names] = parse("x\nnan\ninf\n-inf\n1e-320\n");
  const std::vector<double> v = data.to_doubles();
  REQUIRE(v.size() == 4);
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == std::numeric_limits<double>::infinity());
  CHECK(v[2] == -std::numeric_limits<double>::infinity());
  CHECK(v[3] == 1e-320);

  // Empty cells are missing values, as pandas writes NaN: read as NaN.
  std::tie(data, names) = parse("a,b,c\n1,,3\n, 2 ,\n");
  const std::vector<double> m = data.to_doubles();
  REQUIRE(m.size() == 6);
  CHECK(m[0] == 1);
  CHECK(std::isnan(m[1]));
  CHECK(m[2] == 3);
  CHECK(std::isnan(m[3]));
  CHECK(m[4] == 2);
  CHECK(std::isnan(m[5]));

  // Booleans as pandas (True), numpy (true) or a spreadsheet (TRUE) writes them: 1 and 0.
  std::tie(data, names) = parse("a,b,c\nTrue,false,TRUE\nFalse,\"true\",FALSE\n");
  CHECK(data.to_doubles() == std::vector<double>{1, 0, 1, 0, 1, 0});
  CHECK_ERROR_CONTAINS(parse("a\n1\n2\nTru\n"), "'Tru' is not a number");
  CHECK_ERROR_CONTAINS(parse("a\n0\n1\nyes\n"), "'yes' is not a number");

  std::tie(data, names) = parse("a,b\n");
  CHECK(data.shape == std::vector<std::size_t>{0, 2});
  CHECK(names.size() == 2);
}

TEST_CASE("read: errors name the line and column") {
  CHECK_ERROR_CONTAINS(parse("a,b\n1,2\n3,x7\n4,5\n"),
                       "csv::read(): line 3, column 2 ('b'): 'x7' is not a number, in a column of 2 numbers and 1 "
                       "cells of text (write a missing value as an empty cell, read as NaN)");
  CHECK_ERROR_CONTAINS(parse("a,b\n1,2\n\n3\n"), "line 4 has 1 cells, the header has 2 columns");
  CHECK_ERROR_CONTAINS(parse("a,b\n1,2,3\n"), "line 2 has 3 cells");
  CHECK_ERROR_CONTAINS(parse("a,b\n1 2,3\n4,5\n6,7\n"), "'1 2' is not a number");
  CHECK_ERROR_CONTAINS(parse("a,b\n1e999,3\n1,5\n2,6\n"), "'1e999' is not a number");
  CHECK_ERROR_CONTAINS(parse("\"a,b\n1,2\n"), "line 1: quoted field is never closed");
  CHECK_ERROR_CONTAINS(parse("a,b\n\"1\"2,3\n"), "line 2: text after the closing quote");
  CHECK_ERROR_CONTAINS(parse(""), "no header line");
  CHECK_ERROR_CONTAINS(parse("\n  \n"), "no header line");
  CHECK_ERROR_CONTAINS(csv::read_file(io_test::fixture("missing.csv")), "no such file");
}

TEST_CASE("read: a column of text is labels, each cell kept as written; written back as them") {
  // Labels sorted byte-wise; quoted cells kept exactly (the comma, the spaces); an empty cell of
  // a text column is the label "", and a number in it the label of its text ("1.50", not 1.5).
  const std::string text = "pt,type,pid\n1.5,GT,11\n2,\"G, T\",mu\n3,TT,1.50\n4,GT, \n5,\" TT\",mu\n6,,e\n";
  const csv::table t = csv::read(text);
  CHECK(t.names == std::vector<std::string>{"pt", "type", "pid"});
  REQUIRE(t.labels.size() == 3);
  CHECK(t.labels[0].empty());
  CHECK(t.labels[1] == std::vector<std::string>{"", " TT", "G, T", "GT", "TT"});
  CHECK(t.labels[2] == std::vector<std::string>{"", "1.50", "11", "e", "mu"});
  CHECK(t.data.to_doubles() == std::vector<double>{1.5, 3, 2, 2, 2, 4, 3, 4, 1, 4, 3, 0, 5, 1, 4, 6, 0, 3});
  const std::string written = csv::write(t.data, t.names, t.labels);
  CHECK(written == "pt,type,pid\n1.5,GT,11\n2,\"G, T\",mu\n3,TT,1.50\n4,GT,\"\"\n5,\" TT\",mu\n6,\"\",e\n");
  const csv::table back = csv::read(written);
  CHECK(back.labels == t.labels);
  CHECK(back.data.to_doubles() == t.data.to_doubles());

  // A value that indexes no label (a crafted file's) is refused, never read past the labels.
  const ndarray bad = ndarray::from_doubles({0, 2, 0, 0.5}, {2, 2}, dtype::f64);
  CHECK_ERROR_CONTAINS(csv::write(bad, {"x", "t"}, {{}, {"a", "b"}}), "row 0 of column 2 holds 2.000000, not the index of one of its 2 labels");
  CHECK_ERROR_CONTAINS(csv::write(bad, {"x", "t"}, {{}, {"a", "b", "c"}}), "row 1 of column 2 holds 0.500000");
  CHECK_ERROR_CONTAINS(csv::write(bad, {"x", "t"}, {{"a"}}), "1 columns of labels for 2 columns");
}

TEST_CASE("read: a column of timestamps in one ISO 8601 layout is times, written back as the same text") {
  // Seconds since 1970 (a 'T', a 'Z'), minutes (a space), days; a date before 1970.
  const std::string text =
      "t,x,m,d\n2024-02-29T23:59:58Z,1,2024-01-01 00:00,1969-12-31\n2024-03-01T00:00:01Z,2,2024-01-01 00:01,1970-01-02\n";
  const csv::table t = csv::read(text);
  REQUIRE(t.times.size() == 4);
  CHECK(t.times == std::vector<std::string>{"YYYY-MM-DDTHH:MM:SSZ", "", "YYYY-MM-DD HH:MM", "YYYY-MM-DD"});
  CHECK(t.labels.empty());  // no column of other text
  CHECK(t.data.to_doubles() ==
        std::vector<double>{1709251198, 1, 28401120, -1, 1709251201, 2, 28401121, 1});
  // Cells that are not all times of one valid layout stay text: two layouts, no 29 February
  // in 2023, 24:00, a leap second, an offset from UTC, an empty cell.
  for (const std::string cells : {"2024-01-01,0\n2024-01-01 00:00,0", "2023-02-29,0\n2023-03-01,0",
                                  "2024-01-01 24:00,0\n2024-01-01 23:00,0", "2016-12-31T23:59:60,0\n2017-01-01T00:00:00,0",
                                  "2024-01-01T12:00+01:00,0\n2024-01-01T13:00+01:00,0", "2024-01-01,0\n,0"}) {
    INFO(cells);
    const csv::table other = csv::read("when,x\n" + cells + "\n");
    CHECK(other.times.empty());
    CHECK(other.labels.size() == 2);
  }
}

TEST_CASE("times: every layout's values come back as the cells they were read from") {
  // A fraction of 1 to 9 digits, with and without seconds, 'T', ' ' and 'Z'; the years 0000 to 9999.
  std::uint64_t state = 1;
  auto next = [&state] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL, state >> 11; };
  std::size_t layouts = 0;
  for (char separator : {'\0', 'T', ' '})
    for (bool seconds : {false, true})
      for (unsigned fraction = 0; fraction <= 9; ++fraction)
        for (bool zulu : {false, true}) {
          const time_layout l{separator, seconds, fraction, zulu};
          if (!l.valid()) continue;
          ++layouts;
          REQUIRE(time_layout::of_pattern(l.pattern()) == l);
          const std::int64_t first = detail::days_from_civil(fraction > 5 ? 1900 : 0, 1, 1),
                             days = detail::days_from_civil(fraction > 5 ? 2100 : 10000, 1, 1) - first;
          const std::int64_t per_day = !separator ? 1 : seconds ? 86400 * detail::power_of_ten(fraction) : 1440;
          for (int i = 0; i < 1000; ++i) {
            const std::int64_t v = (first + std::int64_t(next() % days)) * per_day + std::int64_t(next() % per_day);
            const std::string cell = format_time(v, l);
            INFO(cell);
            REQUIRE(layout_of_time(cell) == l);
            REQUIRE(parse_time(cell, l) == v);
          }
        }
  CHECK(layouts == 1 + 2 * (1 + 10) * 2);
  CHECK_FALSE(time_layout::of_pattern("YYYY-MM-DD hh:mm"));
  // A crafted file's value that is no time of the years 0000 to 9999 is refused.
  const time_layout seconds{'T', true, 0, false};
  CHECK(time_cell(0, seconds, "w", 0, 0) == "1970-01-01T00:00:00");
  CHECK_ERROR_CONTAINS(time_cell(0.5, seconds, "w", 2, 1), "w(): row 2 of column 2 holds 0.500000, not a time");
  CHECK_ERROR_CONTAINS(time_cell(1e15, seconds, "w", 0, 0), "not a time of the years 0000 to 9999 in YYYY-MM-DDTHH:MM:SS");
  CHECK_ERROR_CONTAINS(time_cell(-1e300, seconds, "w", 0, 0), "not a time");
}

TEST_CASE("write then read: every dtype exactly") {
  for (dtype t : all_dtypes) {
    CAPTURE(dtype_name(t));
    const ndarray a = io_test::pattern_array(t, {4, 3});
    const auto [data, names, labels, times] = csv::read(csv::write(a, {"a", "b", "c"}));
    CHECK(names == std::vector<std::string>{"a", "b", "c"});
    CHECK(data.to_doubles() == a.to_doubles());
  }
}

TEST_CASE("write: shortest exact numbers, quoting, default names, 1-d arrays") {
  const ndarray f = ndarray::from_doubles({0.1, -2.5e-300, 1.0 / 3}, {1, 3}, dtype::f64);
  CHECK(csv::write(f, {"x", "a,b", "say \"hi\""}) ==
        "x,\"a,b\",\"say \"\"hi\"\"\"\n0.1,-2.5e-300,0.3333333333333333\n");
  // float32 values print as float32, so casting the read value back gives the same float.
  const ndarray g = ndarray::from_doubles({0.1}, {1}, dtype::f32);
  CHECK(csv::write(g, {}) == "col0\n0.1\n");
  CHECK(csv::write(io_test::pattern_array(dtype::bool_, {2, 2}), {}) == "col0,col1\n1,0\n0,1\n");
  const ndarray big = ndarray::from_doubles({-9.2e18}, {1}, dtype::i64);
  CHECK(csv::write(big, {"n"}) == "n\n-9200000000000000000\n");
  const std::vector<double> special = {std::nan(""), -std::numeric_limits<double>::infinity()};
  const auto [back, names, labels, times] =
      csv::read(csv::write(ndarray::from_doubles(special, {2}, dtype::f64), {" padded "}));
  CHECK(names == std::vector<std::string>{" padded "});
  CHECK(csv::read(csv::write(ndarray::zeros(dtype::u8, {1}), {""})).names ==
        std::vector<std::string>{""});
  CHECK(csv::read(csv::write(ndarray::zeros(dtype::u8, {1, 2}), {"#a", "b"})).names ==
        std::vector<std::string>{"#a", "b"});
  CHECK(std::isnan(back.to_doubles()[0]));
  CHECK(back.to_doubles()[1] == special[1]);
}

TEST_CASE("write: rejects what a table cannot hold") {
  CHECK_ERROR_CONTAINS(csv::write(ndarray::zeros(dtype::f64, {2, 2, 2}), {}),
                       "needs a 1-d or 2-d array, got shape (2, 2, 2)");
  CHECK_ERROR_CONTAINS(csv::write(ndarray::zeros(dtype::f64, {}), {}), "got shape ()");
  CHECK_ERROR_CONTAINS(csv::write(ndarray::zeros(dtype::f64, {2, 2}), {"a"}),
                       "1 names for 2 columns");
}

TEST_CASE("files: write_file then read_file") {
  io_test::scratch_dir dir;
  const ndarray a = io_test::pattern_array(dtype::f64, {5, 2});
  csv::write_file(dir / "t.csv", a, {"u", "v"}, false);
  const auto [data, names, labels, times] = csv::read_file(dir / "t.csv");
  CHECK(data == a);
  CHECK(names == std::vector<std::string>{"u", "v"});
  CHECK_ERROR_CONTAINS(csv::write_file(dir / "t.csv", a, {"u", "v"}, false),
                       "refusing to overwrite");
}
