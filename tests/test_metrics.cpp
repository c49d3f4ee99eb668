// Per-column error metrics: hand-computed values on small arrays, the treatment of zeros in the
// relative errors, fields (N-d arrays) as one row with a PSNR, and the error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "baler/metrics/column_errors.hpp"

using namespace baler;
using metrics::column_error;

namespace {

dataset make(std::vector<double> values, std::vector<std::size_t> shape, std::vector<std::string> names = {},
             dtype t = dtype::f64) {
  return {ndarray::from_doubles(values, std::move(shape), t), std::move(names)};
}

std::string message_of(const dataset& a, const dataset& b) {
  try {
    metrics::compare(a, b);
  } catch (const error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  return cells;
}

}  // namespace

TEST_CASE("quantile: linear interpolation between order statistics") {
  std::vector<double> v = {3, 1, 2};
  CHECK(metrics::quantile(v, 0.5) == 2);
  v = {4, 1, 3, 2};
  CHECK(metrics::quantile(v, 0.5) == 2.5);
  CHECK(metrics::quantile(v, 0.0) == 1);
  CHECK(metrics::quantile(v, 1.0) == 4);
  CHECK(metrics::quantile(v, 0.9) == doctest::Approx(3.7));  // h = 2.7: 3 + 0.7 * (4 - 3)
  std::vector<double> empty;
  CHECK(std::isnan(metrics::quantile(empty, 0.5)));
  CHECK_THROWS_AS(metrics::quantile(v, 1.5), error);
}

TEST_CASE("compare: hand-computed values for a small table, zeros left out of relative errors") {
  // Column a: x = 1, 2, 0, 4 and x̂ = 1.5, 2, 0.5, 3, so residuals 0.5, 0, 0.5, -1.
  // Column b: all zero, reconstructed exactly.
  const dataset x = make({1, 0, 2, 0, 0, 0, 4, 0}, {4, 2}, {"a", "b"});
  const dataset y = make({1.5, 0, 2, 0, 0.5, 0, 3, 0}, {4, 2}, {"a", "b"});
  const std::vector<column_error> e = metrics::compare(x, y);
  REQUIRE(e.size() == 2);

  const column_error& a = e[0];
  CHECK(a.name == "a");
  CHECK(a.count == 4);
  CHECK(a.min == 0);
  CHECK(a.max == 4);
  CHECK(a.range == 4);
  CHECK(a.mean_residual == 0);
  CHECK(a.rms_residual == doctest::Approx(std::sqrt(1.5 / 4)));
  CHECK(a.rms_over_range == doctest::Approx(std::sqrt(1.5 / 4) / 4));
  CHECK(a.max_abs_error == 1);
  // The zero entry (x = 0, x̂ = 0.5) is excluded; the rest give |r|/|x| = 0.5, 0, 0.25.
  CHECK(a.zero_count == 1);
  CHECK(a.rel_q50 == doctest::Approx(0.25));
  CHECK(a.rel_q90 == doctest::Approx(0.45));   // h = 1.8
  CHECK(a.rel_q99 == doctest::Approx(0.495));  // h = 1.98
  CHECK(a.psnr_db == doctest::Approx(20 * std::log10(4 / std::sqrt(1.5 / 4))));

  const column_error& b = e[1];
  CHECK(b.range == 0);
  CHECK(b.rms_residual == 0);
  CHECK(b.rms_over_range == 0);
  CHECK(b.zero_count == 4);
  CHECK(std::isnan(b.rel_q50));
  CHECK(std::isnan(b.rel_q99));
  CHECK(b.psnr_db == std::numeric_limits<double>::infinity());
}

TEST_CASE("compare: a constant column reconstructed with errors has infinite rms/range") {
  const std::vector<column_error> e = metrics::compare(make({2, 2}, {2, 1}), make({2, 3}, {2, 1}));
  CHECK(e[0].rms_over_range == std::numeric_limits<double>::infinity());
  CHECK(e[0].psnr_db == -std::numeric_limits<double>::infinity());
}

TEST_CASE("compare: a 2-d array without names is a field unless tall and narrow, 1-d arrays, integer dtypes") {
  // codec::is_field: the codec bounds an unnamed 2-d array as one field, and so reports it.
  std::vector<column_error> e = metrics::compare(make({1, 2, 3, 4, 5, 6}, {2, 3}), make({1, 2, 3, 4, 5, 6}, {2, 3}));
  REQUIRE(e.size() == 1);
  CHECK(e[0].name == "field");
  CHECK(e[0].min == 1);
  CHECK(e[0].max == 6);

  // ... unless it is 16 or more times taller than wide, as a table of samples is: a row per column.
  std::vector<double> tall(64);
  for (std::size_t i = 0; i < tall.size(); ++i) tall[i] = i % 2 ? 1000.0 * double(i) : 0.001 * double(i);
  e = metrics::compare(make(tall, {32, 2}), make(tall, {32, 2}));
  REQUIRE(e.size() == 2);
  CHECK(e[0].name == "col0");
  CHECK(e[1].name == "col1");
  CHECK(e[0].max < 1);

  e = metrics::compare(make({1, 2, 3}, {3}, {}, dtype::i32), make({1, 2, 4}, {3}, {}, dtype::i32));
  REQUIRE(e.size() == 1);
  CHECK(e[0].name == "col0");
  CHECK(e[0].count == 3);
  CHECK(e[0].max_abs_error == 1);
  CHECK(e[0].rel_q50 == 0);
}

TEST_CASE("compare: N-d arrays are one field row with PSNR over all values") {
  // 2 frames of 2 x 2; one value off by 0.5 in the second frame.
  const dataset x = make({0, 1, 2, 3, 4, 5, 6, 8}, {2, 2, 2});
  const dataset y = make({0, 1, 2, 3, 4, 5, 6, 7.5}, {2, 2, 2});
  const std::vector<column_error> e = metrics::compare(x, y);
  REQUIRE(e.size() == 1);
  CHECK(e[0].name == "field");
  CHECK(e[0].count == 8);
  CHECK(e[0].range == 8);
  CHECK(e[0].zero_count == 1);
  CHECK(e[0].max_abs_error == 0.5);
  const double rmse = std::sqrt(0.25 / 8);
  CHECK(e[0].rms_residual == doctest::Approx(rmse));
  CHECK(e[0].psnr_db == doctest::Approx(20 * std::log10(8 / rmse)));
}

TEST_CASE("compare: mismatches, empty arrays and non-finite values are errors that say so") {
  CHECK(message_of(make(std::vector<double>(4322 * 26), {4322, 26}), make(std::vector<double>(4322 * 25), {4322, 25})) ==
        "metrics::compare(): original has shape (4322, 26), reconstructed (4322, 25)");
  CHECK(message_of(make({1, 2}, {2}), make({1, 2}, {2}, {}, dtype::f32)) ==
        "metrics::compare(): original has dtype float64, reconstructed float32");
  CHECK(message_of(make({}, {0, 3}), make({}, {0, 3})) ==
        "metrics::compare(): the arrays are empty (shape (0, 3))");
  CHECK(message_of(make({1, 2}, {1, 2}, {"a", "b"}), make({1, 2}, {1, 2}, {"b", "a"})) ==
        "metrics::compare(): the column names of the original and the reconstruction differ");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(message_of(make({1, 2, 3, 4}, {2, 2}, {"a", "b"}), make({1, 2, 3, nan}, {2, 2}, {"a", "b"})).find(
            "column 'b' entry 1 is not finite") != std::string::npos);
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(message_of(make({1, 2, 3, nan}, {2, 2}, {"a", "b"}), make({1, 2, 3, inf}, {2, 2}, {"a", "b"})).find(
            "column 'b' entry 1 is not finite") != std::string::npos);
}

TEST_CASE("compare: NaN and Inf restored as themselves are counted apart, the statistics over the rest") {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const auto e = metrics::compare(make({nan, 1, 2, -inf, 4, nan}, {3, 2}, {"a", "b"}),
                                  make({nan, 1.5, 2.5, -inf, 4, nan}, {3, 2}, {"a", "b"}));
  REQUIRE(e.size() == 2);
  CHECK(e[0].count == 3);
  CHECK(e[0].non_finite == 1);
  CHECK(e[0].min == 2);
  CHECK(e[0].max == 4);
  CHECK(e[0].max_abs_error == doctest::Approx(0.5));
  CHECK(e[0].mean_residual == doctest::Approx(0.25));
  CHECK(e[1].non_finite == 2);
  CHECK(e[1].min == 1);
  CHECK(e[1].max_abs_error == doctest::Approx(0.5));
  CHECK(e[1].rms_residual == doctest::Approx(0.5));
  const auto all = metrics::compare(make({nan, inf}, {2}), make({nan, inf}, {2}));
  CHECK(all[0].non_finite == 2);
  CHECK(all[0].range == 0);
  CHECK(all[0].rms_residual == 0);
  CHECK(metrics::to_csv(e).find(",2\n") != std::string::npos);
}

TEST_CASE("format_table: one aligned line per column plus a header") {
  const std::vector<column_error> e =
      metrics::compare(make({1, 10, 2, 20}, {2, 2}, {"pt", "a_long_name"}), make({1.1, 10, 2, 21}, {2, 2}, {"pt", "a_long_name"}));
  const std::string t = metrics::format_table(e);
  std::vector<std::string> lines;
  std::stringstream in(t);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("column", 0) == 0);
  CHECK(lines[1].rfind("pt ", 0) == 0);
  CHECK(lines[2].rfind("a_long_name", 0) == 0);
  CHECK(lines[0].size() == lines[1].size());
  CHECK(lines[1].size() == lines[2].size());
  CHECK(t.find("PSNR dB") != std::string::npos);
}

TEST_CASE("to_csv: header, full precision, quoted names, nan and inf") {
  const std::vector<column_error> e = metrics::compare(make({0.1, 0, 0.2, 0}, {2, 2}, {"p,t", "zero"}),
                                                       make({0.1 + 1e-12, 0, 0.2, 0}, {2, 2}, {"p,t", "zero"}));
  const std::string text = metrics::to_csv(e);
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] ==
        "name,count,min,max,range,mean_residual,rms_residual,rms_over_range,max_abs_error,"
        "rel_q50,rel_q90,rel_q99,zero_count,psnr_db,non_finite");
  CHECK(lines[1].rfind("\"p,t\",2,", 0) == 0);
  // Every number reads back to the exact double (skip the quoted name, which holds a comma).
  const std::vector<std::string> cells = split(lines[1].substr(lines[1].find("\",") + 2));
  REQUIRE(cells.size() == 14);
  CHECK(std::strtod(cells[1].c_str(), nullptr) == e[0].min);
  CHECK(std::strtod(cells[5].c_str(), nullptr) == e[0].rms_residual);
  CHECK(std::strtod(cells[7].c_str(), nullptr) == e[0].max_abs_error);
  CHECK(std::strtod(cells[12].c_str(), nullptr) == e[0].psnr_db);
  CHECK(cells[13] == "0");
  const std::vector<std::string> zero = split(lines[2]);
  CHECK(zero[9] == "nan");
  CHECK(zero[13] == "inf");
}
