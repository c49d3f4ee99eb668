// Error-bounded mode through the codec: bound specs, the order-0 symbol coder of older files,
// and whole files through compress/decompress on synthetic and real data (the blocks and
// predictors themselves: test_bounded.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "test_data.hpp"
#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"
#include "baler/codec/error_bounded.hpp"
#include "baler/metrics/bound_check.hpp"
#include "baler/metrics/column_errors.hpp"
#include "test_bounded_support.hpp"
#include "test_io_support.hpp"

using namespace baler;
using namespace baler::codec;
using CpuCodec = codec::Codec<cpu, models::AE<cpu, float>>;

using namespace baler::testing;

namespace {

dataset shared(const std::string& rel) { return load_dataset(test_data::path(rel)); }

// Max of |y - x| / bound over the bounded columns of a table (<= 1 when the bound holds) and
// a check that every other non-constant column is exact.
double worst_ratio(const dataset& a, const dataset& b, const std::string& spec, const std::vector<bool>& exact) {
  const auto x = a.data.to_doubles(), y = b.data.to_doubles();
  const std::size_t rows = a.data.shape[0], cols = x.size() / rows;
  const bound_spec bs = parse_bound(spec);
  double worst = 0;
  for (std::size_t c = 0; c < cols; ++c) {
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t r = 0; r < rows; ++r) lo = std::min(lo, x[r * cols + c]), hi = std::max(hi, x[r * cols + c]);
    for (std::size_t r = 0; r < rows; ++r) {
      const double xv = x[r * cols + c], err = std::abs(y[r * cols + c] - xv);
      if (exact[c]) {
        if (err != 0) FAIL_CHECK("integer column " << c << " row " << r << ": " << xv << " -> " << y[r * cols + c]);
        continue;
      }
      const double limit = bs.kind == bound_kind::abs ? bs.value
                           : bs.kind == bound_kind::range ? bs.value * (hi - lo) : bs.value * std::abs(xv);
      worst = std::max(worst, limit > 0 ? err / limit : (err > 0 ? INFINITY : 0.0));
    }
  }
  return worst;
}

codec_options quick(const std::string& bound) {
  codec_options o;
  o.epochs = 5;
  o.hidden = {16, 8, 8};
  o.seed = 3;
  o.error_bound = parse_bound_config(bound);  // "range:1e-3" or "range:1e-3,pt=rel:1e-3"
  return o;
}

// d compressed and decompressed by a fresh codec under `bound`, and the file's header.
struct bounded_trip {
  std::vector<std::byte> file;
  nlohmann::json header;
  dataset back;
};
bounded_trip trip(const dataset& d, const std::string& bound) {
  cpu be(1);
  CpuCodec c(be, quick(bound));
  c.train(d);
  bounded_trip t{c.compress(d), {}, {}};
  t.header = format::inspect(t.file).header;
  t.back = c.decompress(t.file);
  return t;
}

std::vector<bool> integral_columns(const dataset& d) {
  const auto x = d.data.to_doubles();
  const std::size_t rows = d.data.shape[0], cols = x.size() / rows;
  std::vector<bool> out(cols, true);
  for (std::size_t i = 0; i < x.size(); ++i) out[i % cols] = out[i % cols] && x[i] == std::nearbyint(x[i]);
  return out;
}

}  // namespace

TEST_CASE("bound specs: the four kinds, per-column map from JSON, bad input refused") {
  CHECK(parse_bound("abs:1e-3").kind == bound_kind::abs);
  CHECK(parse_bound("range:0.01").value == 0.01);
  CHECK(parse_bound("rel:1e-3").kind == bound_kind::rel);
  CHECK(parse_bound("psnr:50").kind == bound_kind::psnr);
  CHECK(to_string(parse_bound("psnr:42.5")) == "psnr:42.5");
  for (const char* bad : {"", "1e-3", "abs:", "abs:-1", "abs:0", "abs:nan", "abs:1e-3x", "pct:1", "rel:2", "psnr:0",
                          "psnr:-3", "psnr:301", "psnr:inf"})
    CHECK_THROWS_AS(parse_bound(bad), error);
  codec_options o;
  apply_json(o, nlohmann::json::parse(R"({"error_bound": "range:1e-3", "error_bounds": {"pt": "rel:1e-4"}})"));
  CHECK(o.error_bound.enabled());
  CHECK(o.error_bound.of("pt").kind == bound_kind::rel);
  CHECK(o.error_bound.of("eta").value == 1e-3);
  CHECK_THROWS_AS(apply_json(o, nlohmann::json::parse(R"({"error_bounds": ["abs:1"]})")), error);
}

TEST_CASE("symbol coder: small, large and extreme symbols round trip") {
  rng gen(5);
  std::vector<std::int64_t> s = {0, 1, -1, 255, 256, -256, std::numeric_limits<std::int64_t>::max(),
                                 std::numeric_limits<std::int64_t>::min(), std::int64_t(1) << 52};
  for (int i = 0; i < 20000; ++i) s.push_back(std::int64_t(std::round(gen.normal() * (i % 7 == 0 ? 1e6 : 3))));
  for (std::size_t n : {std::size_t(0), std::size_t(1), s.size()}) {
    const std::vector<std::int64_t> in(s.begin(), s.begin() + n);
    std::vector<std::byte> bytes;
    encode_symbols(in, bytes);
    rans::reader r{byte_view(bytes)};
    CHECK(decode_symbols(r, n) == in);
    CHECK(r.pos == bytes.size());
  }
}

TEST_CASE("synthetic table: every bound kind, per-column bounds, integer and constant columns exact") {
  cpu be(2);
  rng gen(11);
  std::vector<double> v;
  for (std::size_t r = 0; r < 2000; ++r) {
    const double a = gen.normal();
    const double row[] = {a, 3 * a + 0.01 * gen.normal(), std::exp(a), std::round(1e6 * gen.uniform()),
                          gen.uniform() < 0.5 ? -1.0 : 1.0, 7.0, r % 10 == 0 ? 0.0 : gen.normal() * 1e-5};
    v.insert(v.end(), std::begin(row), std::end(row));
  }
  for (dtype type : {dtype::f64, dtype::f32, dtype::f16}) {  // (float16 clamps "event" to 65504)
    dataset d;
    d.data = ndarray::from_doubles(v, {2000, 7}, type);
    d.names = {"a", "b", "ea", "event", "charge", "seven", "tiny"};
    const std::vector<bool> exact = integral_columns(d);
    for (const char* spec : {"abs:1e-2", "range:1e-4", "rel:1e-3"}) {
      INFO(spec << " " << dtype_name(type));
      CpuCodec c(be, quick(spec));
      c.train(d);
      const auto file = c.compress(d);
      const dataset back = c.decompress(file);
      CHECK(back.data.type == d.data.type);
      CHECK(back.names == d.names);
      CHECK(worst_ratio(d, back, spec, exact) <= 1.0);
      CHECK(format::inspect(file).header["columns"][0]["treatment"] == "bounded");
    }
    // A per-column bound overrides the default.
    auto o = quick("range:1e-2");
    o.error_bound.named["a"] = parse_bound("abs:1e-6");
    CpuCodec c(be, o);
    c.train(d);
    const dataset back = c.decompress(c.compress(d));
    const auto x = d.data.to_doubles(), y = back.data.to_doubles();
    for (std::size_t r = 0; r < 2000; ++r) CHECK(std::abs(y[r * 7] - x[r * 7]) <= 1e-6);
  }
}

TEST_CASE("values past 2^53 are bounded as the floats they are, and 64-bit integers no double holds refused") {
  // Every double from 2^53 on is a whole number: columns of masses in grams (1e30) or of values
  // about 1e300 are not integers to keep exact, but floats to code within the bound.
  rng gen(4);
  std::vector<double> v;
  for (std::size_t r = 0; r < 3000; ++r) {
    const double row[] = {1e30 * gen.normal(), 1e300 + 1e290 * gen.normal(), gen.normal()};
    v.insert(v.end(), std::begin(row), std::end(row));
  }
  dataset d{ndarray::from_doubles(v, {3000, 3}, dtype::f64), {"grams", "huge", "x"}};
  const bounded_trip t = trip(d, "range:1e-3");
  CHECK(worst_ratio(d, t.back, "range:1e-3", {false, false, false}) <= 1.0);
  for (std::size_t c = 0; c < 2; ++c) {
    CAPTURE(c);
    CHECK(t.header["columns"][c]["code"]["bound"].get<double>() > 0);  // not value_code::exact()
  }
  CHECK(t.file.size() < d.data.nbytes() / 3);  // kept exact, they took 8 bytes a value
  // Values of both signs near the largest double: their range, hi - lo, is past it, and a
  // bound of 1e308 would step by 2e308: both bounded, and the file still reads.
  std::vector<double> edge(2000);
  for (double& x : edge) x = 1.7e308 * (2 * gen.uniform() - 1);
  const dataset e{ndarray::from_doubles(edge, {2000, 1}, dtype::f64), {"edge"}};
  const auto [lo, hi] = std::minmax_element(edge.begin(), edge.end());
  for (const auto& [spec, allowed] : {std::pair{"range:1e-3", 1e-3 * *hi - 1e-3 * *lo}, {"abs:1e308", 1e308}}) {
    CAPTURE(spec);
    const bounded_trip et = trip(e, spec);
    const std::vector<double> back = et.back.data.to_doubles();
    double worst = 0;
    for (std::size_t i = 0; i < edge.size(); ++i) worst = std::max(worst, std::abs(back[i] - edge[i]));
    CHECK(worst <= allowed);
    CHECK(et.file.size() < e.data.nbytes() / 2);
  }
  // A PSNR target there would square errors past the largest double: refused.
  CHECK_ERROR_CONTAINS(trip(e, "psnr:40"), "a PSNR target on values spanning");
}

// The largest |y - x| over a table's column c (or a field's values, cols = 1), in int64.
template <class I>
I worst_integer_error(const dataset& a, const dataset& b, std::size_t cols, std::size_t c) {
  const I* x = a.data.data_as<I>();
  const I* y = b.data.data_as<I>();
  I worst = 0;
  for (std::size_t i = c; i < a.data.size(); i += cols) worst = std::max<I>(worst, x[i] > y[i] ? x[i] - y[i] : y[i] - x[i]);
  return worst;
}

TEST_CASE("64-bit integers past 2^53 are held less an offset: table columns exact, fields within the bound") {
  // Nanosecond times (1.6e18): no double holds most of them, and rounded they would be up to
  // 128 off before any coding. Held less each column's minimum, they are exact; a table's
  // integer columns are kept exact under any bound, as every integer column is.
  rng gen(6);
  const std::size_t rows = 3000;
  ndarray table = ndarray::zeros(dtype::i64, {rows, 2});
  std::int64_t* v = table.data_as<std::int64_t>();
  for (std::size_t r = 0; r < rows; ++r) {
    v[2 * r] = 1600000000000000001 + std::int64_t(r) * 977 + std::int64_t(gen.uniform() * 50);
    v[2 * r + 1] = std::int64_t(gen.uniform() * 1000) - 500;
  }
  const dataset d{table, {"t_ns", "count"}};
  std::int64_t lo[2] = {v[0], v[1]};
  for (std::size_t i = 0; i < 2 * rows; ++i) lo[i % 2] = std::min(lo[i % 2], v[i]);
  for (const std::string spec : {"abs:10", "range:1e-3", "rel:1e-3"}) {
    CAPTURE(spec);
    const bounded_trip t = trip(d, spec);
    CHECK(t.back.data == d.data);
    CHECK(t.header["input"][offsets_key] == nlohmann::json::array({lo[0], lo[1]}));
    CHECK(format::inspect(t.file).format_version >= 5);  // readers before the offsets refuse it
    CHECK(t.file.size() < d.data.nbytes() / 3);
    for (const auto& res : metrics::check_bounds(d, t.back, parse_bound_config(spec))) CHECK(res.holds());
  }
  // The check sees one unit past the bound (rounded doubles would hide 128).
  dataset off = d;
  off.data.data_as<std::int64_t>()[2] += 11;
  CHECK(metrics::check_bounds(d, off, parse_bound_config("abs:10"))[0].violations == 1);
  const metrics::column_error e = metrics::compare(d, off)[0];
  CHECK(e.max_abs_error == 11);
  CHECK(e.min == double(lo[0]));  // the column's own values, not less the offset
  CHECK(e.rel_q99 < 1e-15);

  // A field (one offset) is coded within its bound; a uint64 column near its largest value.
  ndarray field = ndarray::zeros(dtype::i64, {16, 32, 32});
  for (std::size_t i = 0; i < field.size(); ++i)
    field.data_as<std::int64_t>()[i] = -4000000000000000003 + std::int64_t(1e6 * std::sin(0.01 * double(i % 1024))) +
                                       std::int64_t(i / 1024) * 500;
  const dataset f{field, {}};
  for (const std::string spec : {"abs:3", "range:1e-4"}) {
    CAPTURE(spec);
    const bounded_trip ft = trip(f, spec);
    REQUIRE(ft.back.data.type == dtype::i64);
    CHECK(ft.header["input"][offsets_key].size() == 1);
    const std::int64_t worst = worst_integer_error<std::int64_t>(f, ft.back, 1, 0);
    CHECK(worst > 0);  // coded, not kept
    for (const auto& res : metrics::check_bounds(f, ft.back, parse_bound_config(spec))) CHECK(res.holds());
    CHECK(ft.file.size() < f.data.nbytes() / 4);
  }
  ndarray ids = ndarray::zeros(dtype::u64, {rows, 1});
  for (std::size_t r = 0; r < rows; ++r) ids.data_as<std::uint64_t>()[r] = std::numeric_limits<std::uint64_t>::max() - r * 7;
  CHECK(trip(dataset{ids, {"id"}}, "abs:2").back.data == ids);

  // Records (int64 times beside float32 values), as numpy's structured arrays hold them.
  ndarray when = ndarray::zeros(dtype::i64, {rows}), what = ndarray::zeros(dtype::f32, {rows});
  for (std::size_t r = 0; r < rows; ++r) when.data_as<std::int64_t>()[r] = v[2 * r], what.data_as<float>()[r] = float(gen.normal());
  const dataset records = baler::detail::table_of_columns({"t_ns", "x"}, {when, what}, table_layout::records, "test");
  const dataset records_back = decompress_file(compress_error_bounded(records, parse_bound_config("abs:1e-3")));
  CHECK(records_back.column_offsets.size() == 2);
  CHECK(columns_of(records_back)[0] == when);
  for (const auto& res : metrics::check_bounds(records, records_back, parse_bound_config("abs:1e-3"))) CHECK(res.holds());

  // Refused: a relative bound on a field (of each value's size, which the difference lost), and
  // a column spanning 2^53 or more.
  CHECK_ERROR_CONTAINS(trip(f, "rel:1e-3"), "a relative bound would be of that difference");
  v[1] = std::numeric_limits<std::int64_t>::max();
  CHECK_ERROR_CONTAINS(trip(dataset{table, {"t_ns", "count"}}, "abs:10"), "holds int64 values from");
}

TEST_CASE("a file written without residuals still decompresses, with or without a bound set") {
  cpu be(2);
  const dataset d = shared("hep/lhcb_b2kkk.npz");
  auto o = quick("range:1e-3");
  o.error_bound = {};
  CpuCodec plain(be, o);
  plain.train(d);
  const auto file = plain.compress(d);
  CHECK(format::inspect(file).header.contains("error_bound") == false);
  CpuCodec bounded(be, quick("range:1e-3"));
  const dataset back = bounded.decompress(file);
  CHECK(back.data.shape == d.data.shape);
}

TEST_CASE("real tables: CMS Z->mumu and LHCb within range and rel bounds, integers exact") {
  cpu be(2);
  for (const char* name : {"hep/cms_zmumu_2011a.npz", "hep/lhcb_b2kkk.npz"})
    for (const char* spec : {"range:1e-3", "rel:1e-3"}) {
      if (!test_data::available(name)) break;
      INFO(std::string(name) << " " << spec);
      const dataset d = shared(name);
      CpuCodec c(be, quick(spec));
      c.train(d);
      const auto file = c.compress(d);
      const dataset back = c.decompress(file);
      CHECK(worst_ratio(d, back, spec, integral_columns(d)) <= 1.0);
      MESSAGE(std::string(name) << " " << std::string(spec) << ": whole-file ratio " << double(d.data.nbytes()) / double(file.size()));
    }
}

TEST_CASE("real field: CFD animation within range:1e-3 by a grid predictor, float32 field too") {
  cpu be(2);
  const dataset d = shared("cfd/CFD_animation.npz");
  CpuCodec c(be, quick("range:1e-3"));
  c.train(d);
  const auto file = c.compress(d);
  const auto h = format::inspect(file).header;
  CHECK(h["error_bound"]["layout"] == "field");
  MESSAGE("CFD predictor " << h["error_bound"]["predictor"]["kind"] << ", whole-file ratio "
                           << double(d.data.nbytes()) / double(file.size()));
  const dataset back = c.decompress(file);
  const auto x = d.data.to_doubles(), y = back.data.to_doubles();
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  check_within(x, y, parse_bound("range:1e-3"), *lo, *hi, false);

  if (!test_data::available("fields/sperr_vorticity_512x512.npz")) return;
  dataset f = shared("fields/sperr_vorticity_512x512.npz");
  CpuCodec c32(be, quick("rel:1e-3"));
  c32.train(f);
  const dataset back32 = c32.decompress(c32.compress(f));
  CHECK(back32.data.type == dtype::f32);
  check_within(f.data.to_doubles(), back32.data.to_doubles(), parse_bound("rel:1e-3"), 0, 0, true);
}

TEST_CASE("a float field of whole numbers is coded exactly under a bound below 1/2, within a looser one") {
  std::mt19937 rng(5);
  std::vector<double> counts(64 * 64);  // counts on a smooth background, stored as f64
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double mean = 20 + 15 * std::sin(double(i % 64) / 9) * std::cos(double(i / 64) / 7);
    counts[i] = double(std::poisson_distribution<int>(mean)(rng));
  }
  const dataset d{ndarray::from_doubles(counts, {64, 64}, dtype::f64), {}};
  REQUIRE(is_field(d));
  std::size_t exact_size = 0;
  for (const std::string bound : {"abs:0.4", "range:1e-4", "abs:3"}) {
    CAPTURE(bound);
    const bounded_trip t = trip(d, bound);
    const auto& code = t.header["error_bound"]["code"];
    const std::vector<double> back = t.back.data.to_doubles();
    if (bound == "abs:3") {
      CHECK(code["bound"] == 3);
      CHECK(t.file.size() < exact_size);
      check_within(counts, back, parse_bound(bound), 0, 0, false);
    } else {
      CHECK(code["bound"] == 0);  // value_code::exact(): steps of 1
      CHECK(back == counts);
      exact_size = std::max(exact_size, t.file.size());
    }
  }
}

TEST_CASE("an integer field takes odd integer steps under a bound of 1 or more, and stays exact below") {
  std::mt19937 rng(8);
  std::normal_distribution<double> noise(0, 30);
  std::vector<double> image(96 * 96);  // a uint16 detector image: a smooth signal and noise
  for (std::size_t i = 0; i < image.size(); ++i)
    image[i] = std::round(30000 + 20000 * std::sin(double(i % 96) / 15) * std::cos(double(i / 96) / 21) + noise(rng));
  const dataset d{ndarray::from_doubles(image, {96, 96}, dtype::u16), {}};
  std::size_t exact_size = 0;
  for (const std::string bound : {"abs:0.9", "abs:7.5", "range:1e-3"}) {
    CAPTURE(bound);
    const bounded_trip t = trip(d, bound);
    const auto& code = t.header["error_bound"]["code"];
    REQUIRE(t.back.data.type == dtype::u16);
    const std::vector<double> y = t.back.data.to_doubles();
    if (bound == "abs:0.9") {
      CHECK(code["bound"] == 0);
      CHECK(y == image);
      exact_size = t.file.size();
      continue;
    }
    const double whole = code["bound"].get<double>();
    CHECK(code["step"] == 2 * whole + 1);
    const auto [lo, hi] = std::minmax_element(image.begin(), image.end());
    const double limit = bound == "abs:7.5" ? 7.5 : 1e-3 * (*hi - *lo);
    CHECK(whole <= limit);
    CHECK(whole > limit - 1);
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::abs(y[i] - image[i]));
    CHECK(worst <= whole);
    CHECK(worst >= whole - 1);  // the steps are used, not wasted
    CHECK(t.file.size() < exact_size / 2);
  }
}

TEST_CASE("one float column (1-D, N x 1, named): a smooth signal coded as a 1-D field, values in no order as a column") {
  std::mt19937 rng(2);
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> wave(50000), noise(50000);
  for (std::size_t i = 0; i < wave.size(); ++i) {
    wave[i] = std::sin(double(i) / 300) + 0.3 * std::sin(double(i) / 23) + 1e-3 * normal(rng);
    noise[i] = normal(rng);
  }
  using shape = std::vector<std::size_t>;
  for (const auto& [values, layout] : {std::pair{wave, "field"}, std::pair{noise, "table"}})
    for (const auto& [dims, names] : {std::pair{shape{values.size()}, std::vector<std::string>{}},
                                      std::pair{shape{values.size(), 1}, std::vector<std::string>{}},
                                      std::pair{shape{values.size(), 1}, std::vector<std::string>{"v"}}}) {
      CAPTURE(layout);
      CAPTURE(dims.size());
      CAPTURE(names.size());
      dataset d{ndarray::from_doubles(values, dims, dtype::f32), names};
      if (!names.empty()) d.member = "signal";  // an .npz member of another name than "data"
      const bounded_trip t = trip(d, "range:1e-3");
      CHECK(t.header["error_bound"]["layout"] == layout);
      CHECK(t.back.data.shape == d.data.shape);
      CHECK(t.back.names == d.names);
      CHECK(t.back.member == d.member);
      CHECK(t.back.data.type == dtype::f32);
      const std::vector<double> x = d.data.to_doubles();
      const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
      check_within(x, t.back.data.to_doubles(), parse_bound("range:1e-3"), *lo, *hi, false);
    }
}

TEST_CASE("short decimals: few digits, rounded down when asked, the same double read back from JSON") {
  CHECK(baler::short_decimal(0.0006497562862932682, 6) == 0.000649756);
  CHECK(baler::short_decimal(0.0006497569, 6) == 0.000649757);
  CHECK(baler::short_decimal(0.0006497569, 6, baler::rounding::down) == 0.000649756);
  CHECK(baler::short_decimal(-2.5, 1, baler::rounding::down) == -3.0);
  CHECK(baler::short_decimal(1.0, 6, baler::rounding::down) == 1.0);
  CHECK(baler::short_decimal(0.0, 3) == 0.0);
  CHECK(baler::short_decimal(9.9999996e-4, 6, baler::rounding::down) == 9.9999e-4);  // below 1e-3, a digit fewer
  CHECK(baler::short_decimal(-1.234564e-3, 6, baler::rounding::down) == -1.23457e-3);
  std::mt19937_64 rng(7);
  int short_texts = 0;
  for (int i = 0; i < 10000; ++i) {
    const double x = std::ldexp(double(rng() >> 11) / 9007199254740992.0 + 0.5, int(rng() % 200) - 100);
    const double d = baler::short_decimal(x, 6, baler::rounding::down);
    REQUIRE(d <= x);
    REQUIRE(d >= x * (1 - 1e-5));
    const std::string text = nlohmann::json(d).dump();
    std::string digits = text.substr(0, text.find('e'));
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    digits = digits.substr(digits.find_first_not_of('0'));
    short_texts += digits.find_last_not_of('0') < 6;  // six significant digits at most
    REQUIRE(nlohmann::json::parse(text).get<double>() == d);
  }
  CHECK(short_texts > 9900);  // the JSON writer (Grisu2) is shortest almost, not quite, always
}

TEST_CASE("a range bound's code: bound and step short, the bound never loosened") {
  const auto code = baler::codec::value_code::make(baler::codec::parse_bound("range:1e-3"), -1.234567891, 5.678901234);
  CHECK(code.bound <= 1e-3 * (5.678901234 + 1.234567891));
  CHECK(code.bound > 0.99999 * 1e-3 * (5.678901234 + 1.234567891));
  CHECK(code.step < 2 * code.bound);
  // The header leaves out the step its bound gives; a reader derives the same double.
  CHECK(code.to_json().dump() == R"({"bound":0.00691346,"kind":"abs"})");
  CHECK(code.step == 0.0138134);
  CHECK(baler::codec::value_code::from_json(code.to_json()).step == code.step);
  // An integer column's odd step is no bound's: it is written. An exact code's is 1.
  const auto integral = baler::codec::value_code::integral(7.5);
  CHECK(integral.to_json().dump() == R"({"bound":7.0,"kind":"abs","step":15.0})");
  CHECK(baler::codec::value_code::from_json(integral.to_json()).step == 15.0);
  CHECK(baler::codec::value_code::exact().to_json().dump() == R"({"bound":0.0,"kind":"abs"})");
  CHECK(baler::codec::value_code::from_json(baler::codec::value_code::exact().to_json()).step == 1.0);
  // Files before format version 6 wrote every step; it is read as written.
  CHECK(baler::codec::value_code::from_json({{"bound", 0.5}, {"kind", "abs"}, {"step", 0.25}}).step == 0.25);
  CHECK_THROWS_WITH_AS(baler::codec::value_code::from_json({{"bound", -0.5}, {"kind", "abs"}}),
                       doctest::Contains("the bound must not be negative"), baler::error);
  CHECK_THROWS_WITH_AS(baler::codec::value_code::from_json({{"bound", 1e308}, {"kind", "abs"}}),
                       doctest::Contains("the step must be positive"), baler::error);
}

namespace {

// PSNR of y against x over the finite values of x, on the range of those values.
double psnr_of(const std::vector<double>& x, const std::vector<double>& y) {
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i])) continue;
    lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
    sum += (y[i] - x[i]) * (y[i] - x[i]), ++n;
  }
  return 20 * std::log10((hi - lo) / std::sqrt(sum / double(n)));
}

}  // namespace

TEST_CASE("a PSNR target is met, and closely, on a real field, a float32 field, an integer image and NaNs") {
  const dataset cfd = shared("cfd/CFD_animation.npz");
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 1);
  std::vector<double> image(80 * 80), gappy(40 * 40 * 4);
  for (std::size_t i = 0; i < image.size(); ++i)
    image[i] = std::round(2000 + 1500 * std::sin(double(i % 80) / 11) * std::cos(double(i / 80) / 13) + 20 * noise(rng));
  for (std::size_t i = 0; i < gappy.size(); ++i) gappy[i] = std::sin(double(i % 40) / 5) + 0.01 * noise(rng);
  gappy[17] = NAN, gappy[900] = INFINITY;
  std::vector<std::pair<std::string, dataset>> cases = {
      {"cfd f64", cfd},
      {"cfd f32", {ndarray::from_doubles(cfd.data.to_doubles(), cfd.data.shape, dtype::f32), {}}},
      {"cfd f16", {ndarray::from_doubles(cfd.data.to_doubles(), cfd.data.shape, dtype::f16), {}}},
      {"u16 image", {ndarray::from_doubles(image, {80, 80}, dtype::u16), {}}},
      {"non-finite", {ndarray::from_doubles(gappy, {4, 40, 40}, dtype::f64), {}}}};
  for (const auto& [name, d] : cases) {
    std::size_t previous = 0;
    // Integer steps (2 w + 1) come in jumps of up to ~1.5 dB here.
    const double slack = d.data.type == dtype::u16 ? 1.5 : 0.5;
    for (const double target : {30.0, 45.0, 60.0}) {
      const std::string bound = "psnr:" + std::to_string(target);
      CAPTURE(name);
      CAPTURE(bound);
      const bounded_trip t = trip(d, bound);
      const std::vector<double> x = d.data.to_doubles(), y = t.back.data.to_doubles();
      const double got = psnr_of(x, y);
      CHECK(got >= target);
      CHECK(got <= target + slack);  // the widest bound that meets it, not a safe guess (+4.8 dB)
      CHECK(t.file.size() > previous);  // a higher target, a larger file
      previous = t.file.size();
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!std::isfinite(x[i])) CHECK((std::isnan(x[i]) ? std::isnan(y[i]) : y[i] == x[i]));
      // The stored code is an abs bound that holds on every value (requantised too), or twice
      // it when refined; a wavelet's is the lattice it transforms, and bounds no value.
      const bool refined = t.header["error_bound"].contains("refine");
      const bool requantised = t.header["error_bound"]["predictor"].contains("coarse");
      const bool wavelet = t.header["error_bound"]["predictor"].value("kind", "") == "wavelet";
      const double bound_abs = t.header["error_bound"]["code"]["bound"].get<double>() * (refined ? 2 : 1);
      MESSAGE(name << " " << bound << ": " << t.file.size() << " bytes, " << got << " dB"
                   << std::string(refined ? ", refined" : requantised ? ", requantised" : wavelet ? ", wavelet" : ""));
      // The wavelet is worth its bytes on a smooth field to 45 dB and more (at 60 dB on CFD the
      // causal walk with weights per region, refined, codes 6 % smaller).
      if (name.rfind("cfd", 0) == 0 && target < 60) CHECK(wavelet);
      for (std::size_t i = 0; i < x.size() && !wavelet; ++i)
        if (std::isfinite(x[i])) CHECK(std::abs(y[i] - x[i]) <= bound_abs);
      // evaluate --error-bound psnr:X agrees, and catches a target the file does not meet.
      for (const auto& r : metrics::check_bounds(d, t.back, parse_bound_config(bound))) CHECK(r.holds());
      for (const auto& r : metrics::check_bounds(d, t.back, parse_bound_config("psnr:" + std::to_string(got + 1))))
        CHECK_FALSE(r.holds());
    }
  }
}

TEST_CASE("PSNR targets on a table: per column, beside other bounds, integer and constant columns exact") {
  const std::size_t rows = 3000;
  std::mt19937 rng(9);
  std::normal_distribution<double> g(0, 1);
  std::vector<double> v(rows * 4);
  for (std::size_t r = 0; r < rows; ++r) {
    v[r * 4 + 0] = 40 + 10 * std::abs(g(rng));  // pt
    v[r * 4 + 1] = g(rng);                      // eta
    v[r * 4 + 2] = double(r % 3);               // an integer flag
    v[r * 4 + 3] = 5.0;                         // constant
  }
  const dataset d{ndarray::from_doubles(v, {rows, 4}, dtype::f64), {"pt", "eta", "flag", "c"}};
  const std::string spec = "psnr:40,eta=psnr:55,flag=psnr:20,c=range:1e-3";
  const bounded_trip t = trip(d, spec);
  const std::vector<double> y = t.back.data.to_doubles();
  auto column = [&](const std::vector<double>& a, std::size_t c) {
    std::vector<double> out(rows);
    for (std::size_t r = 0; r < rows; ++r) out[r] = a[r * 4 + c];
    return out;
  };
  const double pt = psnr_of(column(v, 0), column(y, 0)), eta = psnr_of(column(v, 1), column(y, 1));
  CHECK(pt >= 40);
  CHECK(pt <= 40.5);
  CHECK(eta >= 55);
  CHECK(eta <= 55.5);
  CHECK(column(y, 2) == column(v, 2));
  CHECK(column(y, 3) == column(v, 3));
  for (const auto& r : metrics::check_bounds(d, t.back, parse_bound_config(spec))) CHECK(r.holds());
}
