// Codec round trips on real and synthetic data, file options, and bad input.
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "test_data.hpp"
#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"

using namespace baler;
using Codec = codec::Codec<cpu, models::AE<cpu, float>>;

namespace {

dataset shared(const std::string& rel) { return load_dataset(test_data::path(rel)); }

// A table of `rows` x 6 made from 2 hidden factors (so a 2-d latent can hold it), plus an
// integer count column with many values, a +-1 charge and a constant.
dataset synthetic(std::size_t rows, std::uint64_t seed = 1) {
  rng gen(seed);
  std::vector<double> v;
  for (std::size_t r = 0; r < rows; ++r) {
    const double a = gen.normal(), b = gen.uniform(-1, 1);
    const double row[] = {a,         2 * b + 0.5 * a,    std::exp(0.3 * a), a * b,
                          std::round(500 + 300 * b), gen.uniform() < 0.5 ? -1.0 : 1.0, 7.0};
    v.insert(v.end(), std::begin(row), std::end(row));
  }
  dataset d;
  d.data = ndarray::from_doubles(v, {rows, 7}, dtype::f64);
  d.names = {"a", "b", "ea", "ab", "count", "charge", "seven"};
  return d;
}

codec::codec_options quick(std::size_t epochs = 60) {
  codec::codec_options o;
  o.epochs = epochs;
  o.hidden = {32, 16, 8};
  o.seed = 3;
  return o;
}

// RMS of the residual of column c over the column's standard deviation: 1 means no better than
// predicting the mean, which any broken encoder, decoder or normalisation falls back to.
double relative_rms(const dataset& x, const dataset& y, std::size_t c) {
  const auto a = x.data.to_doubles(), b = y.data.to_doubles();
  const std::size_t rows = x.data.shape[0], cols = a.size() / rows;
  double mean = 0, var = 0, se = 0;
  for (std::size_t r = 0; r < rows; ++r) mean += a[r * cols + c] / double(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    var += std::pow(a[r * cols + c] - mean, 2);
    se += std::pow(b[r * cols + c] - a[r * cols + c], 2);
  }
  return std::sqrt(se / var);
}

}  // namespace

TEST_CASE("synthetic table: shape, names, dtype, exact and constant columns, rounding") {
  cpu be(2);
  auto o = quick(150);
  o.latent = 2;
  Codec c(be, o);
  const dataset d = synthetic(3000);
  c.train(d);
  const auto file = c.compress(d);
  const dataset back = c.decompress(file);
  CHECK(back.data.shape == d.data.shape);
  CHECK(back.data.type == d.data.type);
  CHECK(back.names == d.names);
  const auto a = d.data.to_doubles(), b = back.data.to_doubles();
  for (std::size_t r = 0; r < 3000; ++r) {
    CHECK(b[r * 7 + 5] == a[r * 7 + 5]);  // charge: few values, stored exactly
    CHECK(b[r * 7 + 6] == 7.0);           // constant
    CHECK(b[r * 7 + 4] == std::round(b[r * 7 + 4]));  // count: modelled, rounded back
    CHECK(b[r * 7 + 4] >= 200);
    CHECK(b[r * 7 + 4] <= 800);
  }
  for (std::size_t col : {0, 1, 2, 4}) {
    INFO("column " << col);
    CHECK(relative_rms(d, back, col) < 0.2);
  }
  const auto header = format::inspect(file).header;
  CHECK(header["columns"][5]["treatment"] == "lossless");
  CHECK(header["columns"][6]["treatment"] == "constant");
  CHECK(header["columns"][4]["treatment"] == "model");
}

TEST_CASE("LHCb table: whole-file ratio, exact flags, errors far below a mean predictor") {
  cpu be(2);
  auto o = quick(100);
  o.hidden = {200, 100, 50};  // Baler's widths
  Codec c(be, o);
  const dataset d = shared("hep/lhcb_b2kkk.npz");
  c.train(d);
  const auto file = c.compress(d);
  const dataset back = c.decompress(file);
  const double ratio = double(d.data.nbytes()) / double(file.size());
  MESSAGE("LHCb whole-file ratio " << ratio);
  CHECK(ratio > 2.0);
  // Over the modelled columns, in min-max units (what the model is trained on): the squared
  // error summed over columns against the variance summed over columns. Predicting each
  // column's mean scores 1; a broken encoder, decoder or normalisation lands near or above it.
  const auto header = format::inspect(file).header;
  const auto a = d.data.to_doubles(), b = back.data.to_doubles();
  double error = 0, variance = 0;
  for (std::size_t col = 0; col < 26; ++col) {
    INFO(d.names[col]);
    if (header["columns"][col]["treatment"] == "lossless") {
      CHECK(relative_rms(d, back, col) == 0.0);  // charges and muon flags are exact
      continue;
    }
    const double range = header["columns"][col]["max"].get<double>() - header["columns"][col]["min"].get<double>();
    const double rel = relative_rms(d, back, col);
    double mean = 0, var = 0;
    for (std::size_t r = 0; r < 4322; ++r) mean += a[r * 26 + col] / 4322.0;
    for (std::size_t r = 0; r < 4322; ++r) var += std::pow((a[r * 26 + col] - mean) / range, 2) / 4322.0;
    variance += var;
    error += rel * rel * var;
  }
  MESSAGE("unexplained fraction of the normalised variance: " << error / variance);
  CHECK(error / variance < 0.2);
}

TEST_CASE("CFD field: 60 x 50 x 50 comes back with its shape, and close") {
  cpu be(2);
  auto o = quick(1000);
  o.latent = 8;
  o.hidden = {64, 32, 16};
  Codec c(be, o);
  const dataset d = shared("cfd/CFD_animation.npz");
  c.train(d);
  const dataset back = c.decompress(c.compress(d));
  CHECK(back.data.shape == std::vector<std::size_t>{60, 50, 50});
  CHECK(back.data.type == dtype::f64);
  const auto a = d.data.to_doubles(), b = back.data.to_doubles();
  double lo = *std::min_element(a.begin(), a.end()), hi = *std::max_element(a.begin(), a.end());
  double se = 0;
  for (std::size_t i = 0; i < a.size(); ++i) se += (a[i] - b[i]) * (a[i] - b[i]);
  const double rms_over_range = std::sqrt(se / double(a.size())) / (hi - lo);
  MESSAGE("CFD RMS / range " << rms_over_range);
  // Predicting every pixel by its mean over the 60 frames gives 0.078 of the range.
  CHECK(rms_over_range < 0.03);
}

TEST_CASE("latent and weight precisions: f32 twice f16 and bf16 in size, all decode") {
  cpu be(1);
  const dataset d = synthetic(1000);
  std::size_t sizes[3];
  int i = 0;
  for (auto t : {latent_dtype::f32, latent_dtype::f16, latent_dtype::bf16}) {
    auto o = quick(20);
    o.latent = 3;
    o.latent_type = t;
    o.weights_type = t;
    o.zstd = false;
    Codec c(be, o);
    c.train(d);
    const auto file = c.compress(d);
    const auto info = format::inspect(file);
    sizes[i++] = info.sections[0].raw_size + info.sections[1].raw_size;  // LATN + DECW
    CHECK(c.decompress(file).data.shape == d.data.shape);
    CHECK(format::inspect(file).header["latent"]["dtype"] == baler::name(t));
  }
  CHECK(sizes[0] == 2 * sizes[1]);
  CHECK(sizes[1] == sizes[2]);
}

TEST_CASE("quantised latent and weights (q): within 1 % of f32's squared error each, in fewer bytes than f16") {
  cpu be(1);
  // The float columns of the synthetic table (integers are rounded on the way back, which the
  // allowance does not cover).
  const dataset full = synthetic(2000);
  const auto v = full.data.to_doubles();
  std::vector<double> floats;
  for (std::size_t r = 0; r < 2000; ++r) floats.insert(floats.end(), v.begin() + r * 7, v.begin() + r * 7 + 4);
  const dataset d{ndarray::from_doubles(floats, {2000, 4}, dtype::f64), {"a", "b", "ea", "ab"}};
  // Squared error in min-max units over all columns: what the model is trained on and what each
  // quantisation may raise by quantisation_mse_allowance (all 2000 rows are its sample).
  auto error_of = [&](const dataset& back) {
    const auto a = d.data.to_doubles(), b = back.data.to_doubles();
    double se = 0;
    for (std::size_t c = 0; c < 4; ++c) {
      double lo = INFINITY, hi = -INFINITY;
      for (std::size_t r = 0; r < 2000; ++r) lo = std::min(lo, a[r * 4 + c]), hi = std::max(hi, a[r * 4 + c]);
      for (std::size_t r = 0; r < 2000; ++r) se += std::pow((a[r * 4 + c] - b[r * 4 + c]) / (hi - lo), 2);
    }
    return se;
  };
  using pair = std::pair<latent_dtype, latent_dtype>;  // latent, weights
  const latent_dtype f32 = latent_dtype::f32, f16 = latent_dtype::f16, q = latent_dtype::q;
  std::map<pair, double> squared;
  std::map<pair, std::size_t> latent_bytes, weight_bytes;
  for (const pair types : {pair{f32, f32}, pair{f16, f16}, pair{q, f32}, pair{f32, q}, pair{q, q}}) {
    auto o = quick(40);
    o.latent = 2;
    o.latent_type = types.first;
    o.weights_type = types.second;
    o.zstd = false;
    Codec c(be, o);  // the same seed: the same model for every storage
    c.train(d);
    const auto file = c.compress(d);
    const auto info = format::inspect(file);
    CHECK(info.header["latent"]["dtype"] == baler::name(types.first));
    CHECK(info.header["model"]["weights_dtype"] == baler::name(types.second));
    latent_bytes[types] = info.sections[0].raw_size;  // LATN
    weight_bytes[types] = info.sections[1].raw_size;  // DECW
    const dataset back = Codec(be, codec::codec_options{}).decompress(file);
    REQUIRE(back.data.shape == d.data.shape);
    squared[types] = error_of(back);
  }
  const double reference = squared[{f32, f32}], allowed = 1 + codec::quantisation_mse_allowance;
  MESSAGE("latent bytes f16 " << latent_bytes[{f16, f16}] << ", q " << latent_bytes[{q, f32}] << "; weight bytes f16 "
                              << weight_bytes[{f16, f16}] << ", q " << weight_bytes[{f32, q}] << "; squared error f32 "
                              << reference << ", q latent " << squared[{q, f32}] << ", q weights "
                              << squared[{f32, q}] << ", both " << squared[{q, q}]);
  CHECK(latent_bytes[{q, f32}] < latent_bytes[{f16, f16}] / 2);
  CHECK(weight_bytes[{f32, q}] < weight_bytes[{f16, f16}]);
  for (const pair one : {pair{q, f32}, pair{f32, q}}) {
    CHECK(squared[one] <= allowed * reference);
    CHECK(squared[one] > reference);  // quantised, not kept
  }
  // Each allowance is taken with the other values unquantised; together they stay near both.
  CHECK(squared[{q, q}] <= 1.03 * reference);

  // A section that does not hold what the header says is refused.
  auto o = quick(5);
  o.latent = 2;
  o.latent_type = q;
  o.weights_type = q;
  Codec c(be, o);
  c.train(d);
  const format::container good = format::parse(byte_view(c.compress(d)));
  for (const std::string kind : {"LATN", "DECW"}) {
    INFO(kind);
    format::container f = good;
    for (auto& s : f.sections)
      if (s.kind == kind) s.payload.resize(s.payload.size() / 2);
    CHECK_THROWS_AS(c.decompress(format::serialize(f)), error);
  }
  format::container f = good;
  f.header["latent"]["rows"] = 1999;
  CHECK_THROWS_AS(c.decompress(format::serialize(f)), error);
}

TEST_CASE("a separate model file: smaller compressed file, decodes only with its model") {
  cpu be(1);
  const dataset d = synthetic(800);
  auto o = quick(20);
  Codec trainer(be, o);
  trainer.train(d);
  const auto model = trainer.save_model();
  o.embed_decoder = false;
  Codec c(be, o);
  c.load_model(model);
  const auto file = c.compress(d);
  CHECK(format::inspect(file).header["model"]["embedded"] == false);

  Codec stranger(be, o);
  CHECK_THROWS_WITH_AS(stranger.decompress(file), doctest::Contains("separate model file"), error);
  Codec other(be, quick(21));
  other.train(d);
  Codec wrong(be, o);
  wrong.load_model(other.save_model());
  CHECK_THROWS_WITH_AS(wrong.decompress(file), doctest::Contains("separate model file"), error);
  const dataset back = c.decompress(file);
  CHECK(back.data.shape == d.data.shape);

  // The model file round-trips: the reloaded codec compresses to the same bytes.
  Codec reloaded(be, o);
  reloaded.load_model(model);
  CHECK(reloaded.compress(d) == file);
  CHECK_THROWS_WITH_AS(c.decompress(model), doctest::Contains("model file, not compressed"), error);
}

TEST_CASE("bad input: NaN, empty arrays, schema mismatch, corrupt files, unknown options") {
  cpu be(1);
  dataset d = synthetic(200);
  auto* v = d.data.data_as<double>();
  v[17 * 7 + 2] = std::nan("");
  Codec c(be, quick(5));
  CHECK_THROWS_WITH_AS(c.train(d), doctest::Contains("column 'ea' holds NaN at row 17"), error);

  auto o = quick(5);
  o.allow_non_finite = true;
  Codec tolerant(be, o);
  tolerant.train(d);
  const dataset back = tolerant.decompress(tolerant.compress(d));
  CHECK(std::isnan(back.data.to_doubles()[17 * 7 + 2]));  // stored exactly, NaN included
  CHECK(back.data.to_doubles()[18 * 7 + 2] == d.data.to_doubles()[18 * 7 + 2]);

  dataset empty;
  empty.data = ndarray::zeros(dtype::f64, {0, 3});
  CHECK_THROWS_WITH_AS(c.train(empty), doctest::Contains("empty"), error);
  CHECK_THROWS_WITH_AS(c.compress(synthetic(10)), doctest::Contains("no model"), error);

  Codec good(be, quick(5));
  good.train(synthetic(200));
  dataset renamed = synthetic(50);
  renamed.names[1] = "B";
  CHECK_THROWS_WITH_AS(good.compress(renamed), doctest::Contains("column 1 is 'B' here but 'b'"),
                       error);
  dataset narrow;
  narrow.data = ndarray::zeros(dtype::f64, {5, 3});
  CHECK_THROWS_WITH_AS(good.compress(narrow), doctest::Contains("3 columns, the model was trained on 7"),
                       error);

  auto file = good.compress(synthetic(50));
  auto flipped = file;
  flipped[flipped.size() / 2] ^= std::byte{0x10};
  CHECK_THROWS_AS(good.decompress(flipped), error);
  const std::vector<std::byte> truncated(file.begin(), file.begin() + long(file.size() - 3));
  CHECK_THROWS_AS(good.decompress(truncated), error);

  codec::codec_options bad;
  CHECK_THROWS_WITH_AS(codec::apply_json(bad, nlohmann::json{{"latnet", 3}}),
                       doctest::Contains("unknown option 'latnet'"), error);
  CHECK_THROWS_WITH_AS(codec::apply_json(bad, nlohmann::json{{"latent", "three"}}),
                       doctest::Contains("bad value"), error);
  // A fuzz finding: a float beyond size_t was cast (undefined); negatives wrapped.
  CHECK_THROWS_WITH_AS(codec::apply_json(bad, nlohmann::json::parse(R"({"latent": 477777777777777777777777777})")),
                       doctest::Contains("latent must be a non-negative whole number"), error);
  CHECK_THROWS_WITH_AS(codec::apply_json(bad, nlohmann::json{{"epochs", -3}}),
                       doctest::Contains("epochs must be a non-negative whole number, not -3"), error);
  CHECK_THROWS_WITH_AS(codec::apply_json(bad, nlohmann::json::parse(R"({"hidden": [8, 2.5, 4]})")),
                       doctest::Contains("hidden must be"), error);
  codec::apply_json(bad, nlohmann::json{{"latent", 3}, {"latent_dtype", "bf16"}, {"epochs", 9}});
  CHECK(bad.latent == 3);
  CHECK(bad.latent_type == latent_dtype::bf16);
  bad.epochs = 0;
  CHECK_THROWS_WITH_AS(Codec(be, bad), doctest::Contains("epochs must be positive"), error);
}

TEST_CASE("default model shape: Baler's widths, narrowed so the decoder stays small") {
  codec::codec_options o;  // hidden 0,0,0 and latent 0: automatic
  const auto lhcb = codec::default_shape(20, 898976, o);
  CHECK(lhcb.hidden == std::array<std::size_t, 3>{200, 100, 50});
  CHECK(lhcb.latent == 10);
  const auto cfd = codec::default_shape(2370, 1200000, o);  // 60 frames of 50 x 50
  CHECK(cfd.latent == 64);
  const double decoder = double((cfd.latent + 1) * cfd.hidden[2] + (cfd.hidden[2] + 1) * cfd.hidden[1] +
                                (cfd.hidden[1] + 1) * cfd.hidden[0] + (cfd.hidden[0] + 1) * 2370);
  CHECK(2 * decoder <= 0.25 * 1200000);  // f16 weights within a quarter of the input
  CHECK(cfd.hidden[0] >= 32);
  o.hidden = {7, 6, 5};
  o.latent = 3;
  CHECK(codec::default_shape(2370, 1200000, o).hidden == std::array<std::size_t, 3>{7, 6, 5});
  o.hidden = {7, 0, 5};
  CHECK_THROWS_WITH_AS(codec::validate(o), doctest::Contains("all be positive"), error);
}

TEST_CASE("exact columns: integral values beyond int64 keep their float64 bits") {
  CHECK(codec::exact_encoding(true, -128, 127) == "i8");
  CHECK(codec::exact_encoding(true, -0x1p63, 0x1p63 - 1024) == "i64");
  CHECK(codec::exact_encoding(true, 0, 0x1p63) == "f64");  // 2^63 does not fit in int64
  cpu be(1);
  dataset d = synthetic(200);
  auto* v = d.data.data_as<double>();
  for (std::size_t r = 0; r < 200; ++r) v[r * 7 + 5] = (r % 3 == 0 ? 1e19 : r % 3 == 1 ? 2e19 : -3e19);
  Codec c(be, quick(2));
  c.train(d);
  const dataset back = c.decompress(c.compress(d));
  for (std::size_t r = 0; r < 200; ++r) CHECK(back.data.to_doubles()[r * 7 + 5] == v[r * 7 + 5]);
}

TEST_CASE("crafted headers with valid checksums are refused before any memory is touched") {
  cpu be(1);
  Codec c(be, quick(2));
  const dataset d = synthetic(100);
  c.train(d);
  const auto file = c.compress(d);
  auto tampered = [&](auto edit) {
    format::container k = format::parse(file);
    edit(k.header);
    return format::serialize(k);
  };
  // A shape whose element count overflows, or disagrees with the stored size.
  CHECK_THROWS_AS(c.decompress(tampered([](auto& h) { h["input"]["shape"] = {std::size_t(1) << 63, 2}; })), error);
  CHECK_THROWS_WITH_AS(c.decompress(tampered([](auto& h) { h["input"]["shape"] = {50, 7}; })),
                       doctest::Contains("shape, dtype and size disagree"), error);
  CHECK_THROWS_AS(c.decompress(tampered([](auto& h) { h["input"]["shape"] = nlohmann::json::array(); })), error);
  // An architecture wider than the modelled columns, or than its weights section.
  CHECK_THROWS_AS(c.decompress(tampered([](auto& h) { h["model"]["arch"]["features"] = 500; })), error);
  CHECK_THROWS_WITH_AS(c.decompress(tampered([](auto& h) { h["model"]["arch"]["hidden"] = {30000, 30000, 1}; })),
                       doctest::Contains("smaller than the stored architecture needs"), error);
  // A modelled column index past the data, or out of order.
  CHECK_THROWS_AS(c.decompress(tampered([](auto& h) { h["model"]["schema"]["modelled"][0] = 99; })), error);
  CHECK_THROWS_AS(c.decompress(tampered([](auto& h) {
                    auto& m = h["model"]["schema"]["modelled"];
                    std::swap(m[0], m[1]);
                  })),
                  error);
}

TEST_CASE("a reused model refuses values outside its log domain, naming column and row") {
  cpu be(1);
  auto o = quick(2);
  o.log_columns = "ea";  // exp(0.3 a) > 0 in training
  Codec c(be, o);
  c.train(synthetic(200));
  dataset d = synthetic(50, 2);
  d.data.data_as<double>()[9 * 7 + 2] = -1.0;
  CHECK_THROWS_WITH_AS(c.compress(d), doctest::Contains("column 'ea' at row 9"), error);
}
