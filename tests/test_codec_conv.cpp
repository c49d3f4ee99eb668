// The conv architecture (models/conv_ae.hpp): its frames and shapes, the codec's round trip on
// a synthetic field (close enough that a constant could not pass), the model file, the CLI.
#include <doctest/doctest.h>

#include <cmath>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"
#include "baler/metrics/bound_check.hpp"
#include "baler/metrics/column_errors.hpp"
#include "test_cli_support.hpp"

using namespace baler;
using namespace baler::codec;
using V = std::vector<std::size_t>;
using C = Codec<cpu, models::AE<cpu, float>>;

namespace {

// 48 frames of 13 x 11 (odd sizes: the strides do not divide them): travelling waves whose
// phase and amplitude move with the frame, a 2-parameter family a small latent can hold.
std::vector<double> waves(std::size_t frames, std::size_t h, std::size_t w) {
  std::vector<double> v(frames * h * w);
  for (std::size_t f = 0; f < frames; ++f)
    for (std::size_t y = 0; y < h; ++y)
      for (std::size_t x = 0; x < w; ++x)
        v[(f * h + y) * w + x] = (1.0 + 0.02 * double(f)) *
                                 std::sin(0.5 * double(x) + 0.13 * double(f)) *
                                 std::cos(0.3 * double(y));
  return v;
}

// SZ3's definition: value range over RMS error, in dB (metrics::summarize's psnr_db).
double psnr(const std::vector<double>& x, const std::vector<double>& y) {
  return metrics::summarize("field", x, y).psnr_db;
}

codec_options conv_options() {
  codec_options o;
  o.architecture = "conv";
  o.latent = 4;
  o.hidden = {4, 4, 4};
  o.epochs = 300;
  o.learning_rate = 3e-3;
  o.batch_size = 8;
  return o;
}

}  // namespace

TEST_CASE("conv tiles and frames: whole frames of 3-D and 4-D arrays, blocks of 2-D fields") {
  CHECK(choose_tile({60, 50, 50}, true, "conv", {}) == V{1, 50, 50});
  CHECK(choose_tile({512, 512}, true, "conv", {}) == V{32, 32});
  CHECK(choose_tile({20, 16}, true, "conv", {}) == V{20, 16});  // clipped to the grid
  CHECK(choose_tile({4, 10, 12, 14}, true, "conv", {}) == V{1, 10, 12, 14});
  CHECK(choose_tile({60, 50, 50}, true, "conv", {1, 10, 10}) == V{1, 10, 10});
  CHECK(choose_tile({60, 50, 50}, true, "auto", {}) == V{1, 8, 8});  // auto stays with patch
  CHECK_THROWS_AS(choose_tile({100}, true, "conv", {}), error);
  CHECK(conv_frame({1, 50, 50}) == models::grid3{1, 50, 50});
  CHECK(conv_frame({32, 32}) == models::grid3{1, 32, 32});
  CHECK(conv_frame({1, 10, 12, 14}) == models::grid3{10, 12, 14});
  CHECK(conv_frame({1, 1, 3, 4, 5}) == models::grid3{3, 4, 5});
  CHECK_THROWS_WITH_AS(conv_frame({2, 3, 4, 5}), doctest::Contains("2-D or 3-D frames"), error);
}

TEST_CASE("ConvAE: frame back in its shape for odd sizes, 2-D and 3-D; decoder size known ahead") {
  for (const models::grid3 frame : {models::grid3{1, 13, 11}, models::grid3{5, 6, 7}}) {
    const std::size_t n = frame[0] * frame[1] * frame[2];
    const models::ae_shape s{n, 3, {2, 3, 4}, 0.01, frame};
    auto ae = models::make_conv_ae<cpu, double>(s);
    CHECK(ae.in_features() == n);
    CHECK(ae.latent_features() == 3);
    CHECK(ae.out_features() == n);
    CHECK(double(ae.param_count() - ae.decoder_param_offset()) == models::conv_ae_decoder_params(s));
  }
  // 13 -> 7 -> 4 -> 2 rows, 11 -> 6 -> 3 -> 2 columns: the dense layer feeds 4 x 2 x 2 values.
  CHECK(models::conv_ae_grids({1, 13, 11})[3] == models::grid3{1, 2, 2});
  const models::ae_shape bad{10, 3, {2, 3, 4}, 0.01, {1, 3, 3}};  // a frame of 9 values, not 10
  CHECK_THROWS_AS((models::make_conv_ae<cpu, double>(bad)), error);
}

TEST_CASE("Codec, conv architecture: close round trip, compact header, model file, refusals") {
  const std::vector<double> v = waves(48, 13, 11);
  const dataset d{ndarray::from_doubles(v, {48, 13, 11}, dtype::f32), {}};
  cpu be(1);
  C codec(be, conv_options());
  codec.train(d);
  CHECK(codec.model().tile == V{1, 13, 11});
  CHECK(codec.model().arch.frame == models::grid3{1, 13, 11});
  CHECK(codec.model().conv != nullptr);
  const auto file = codec.compress(d);
  const format::container c = format::parse(byte_view(file));
  CHECK(c.header.at("model").at("name") == "ConvAE");
  CHECK(c.header.at("columns").size() == 1);  // one range for the field, not one per pixel
  CHECK(c.header.at("latent").at("rows") == 48);
  CHECK(c.header.at("latent").at("cols") == 4);

  const codec_options defaults;
  const dataset back = C(be, defaults).decompress(byte_view(file));
  REQUIRE(back.data.shape == d.data.shape);
  // Predicting every value by the field's mean stays below 15 dB; the trained model, far above.
  double mean = 0;
  for (double x : v) mean += x / double(v.size());
  CHECK(psnr(v, std::vector<double>(v.size(), mean)) < 15);
  const double p = psnr(v, back.data.to_doubles());
  MESSAGE("conv round trip PSNR " << p << " dB, " << file.size() << " bytes");
  CHECK(p > 25);

  C again(be, defaults);
  again.load_model(byte_view(codec.save_model()));
  CHECK(again.model().arch.frame == models::grid3{1, 13, 11});
  CHECK(again.model().schema.field);
  CHECK(again.compress(d) == file);
  // A file's frame size must not allocate without limit.
  CHECK_THROWS_WITH_AS(model_schema::from_json({{"field", std::size_t(1) << 30},
                                                {"normaliser", normaliser{}.to_json()}}),
                       doctest::Contains("2^24"), error);

  CHECK_THROWS_WITH_AS(C(be, conv_options()).train(dataset{ndarray::from_doubles(v, {v.size()}, dtype::f32), {}}),
                       doctest::Contains("2-D or 3-D field"), error);
}

// 200 frames of 13 x 11 mixing two fixed noise patterns by random weights: spatial and
// temporal predictors see noise, a model of whole frames sees two numbers per frame.
static std::vector<double> two_patterns() {
  rng gen(5);
  const std::size_t frames = 200;
  std::vector<double> p1(143), p2(143), v(frames * 143);
  for (std::size_t i = 0; i < 143; ++i) p1[i] = gen.uniform(-1, 1), p2[i] = gen.uniform(-1, 1);
  for (std::size_t f = 0; f < frames; ++f) {
    const double a = gen.uniform(-1, 1), b = gen.uniform(-1, 1);  // no pattern across frames
    for (std::size_t i = 0; i < 143; ++i) v[f * 143 + i] = a * p1[i] + b * p2[i];
  }
  return v;
}

TEST_CASE("error-bounded mode: a conv or patch model's reconstruction is one more predictor") {
  // (For the dense model of whole frames at least) the file with the latent is the smaller one.
  const std::vector<double> v = two_patterns();
  const std::size_t frames = 200;
  const dataset d{ndarray::from_doubles(v, {frames, 13, 11}, dtype::f32), {}};
  cpu be(1);
  for (const std::string architecture : {"conv", "patch"}) {
    INFO(architecture);
    codec_options o = conv_options();
    o.architecture = architecture;
    o.tile = {1, 13, 11};  // whole frames
    o.latent = 2;
    o.error_bound = parse_bound_config(std::string("range:1e-2"));
    o.latent_predictor = latent_use::always;
    C c(be, o);
    c.train(d);
    const auto file = c.compress(d);
    const auto header = format::parse(byte_view(file)).header;
    MESSAGE(architecture << ": " << file.size() << " bytes, latent kept: " << header.contains("model"));
    if (architecture == "patch") CHECK(header.contains("tiling"));  // the model's file won
    CHECK(header.contains("tiling") == header.contains("model"));
    const codec_options defaults;
    const dataset back = C(be, defaults).decompress(byte_view(file));
    for (const auto& r : metrics::check_bounds(d, back, o.error_bound)) CHECK(r.holds());
  }
  // Tables with named columns are bounded column by column: no tiles there.
  codec_options o = conv_options();
  o.error_bound = parse_bound_config(std::string("range:1e-3"));
  const dataset table{ndarray::from_doubles(std::vector<double>(v.begin(), v.begin() + 40), {20, 2},
                                            dtype::f64), {"a", "b"}};
  CHECK_THROWS_WITH_AS(C(be, o).train(table), doctest::Contains("for fields only"), error);
}

TEST_CASE("PSNR target: the model's reconstruction alone, where it meets the target and is smaller") {
  const dataset d{ndarray::from_doubles(two_patterns(), {200, 13, 11}, dtype::f32), {}};
  cpu be(1);
  codec_options o = conv_options();
  o.architecture = "patch";
  o.tile = {1, 13, 11};  // whole frames
  o.latent = 2;
  o.latent_predictor = latent_use::always;
  // The model alone reaches ~53 dB in ~7.6 KB; the error-bounded files at 50 dB are larger.
  o.error_bound = parse_bound_config(std::string("psnr:50"));
  C c(be, o);
  c.train(d);
  const std::vector<std::byte> file = c.compress(d);
  const nlohmann::json header = format::parse(byte_view(file)).header;
  CHECK(header.contains("model"));
  CHECK_FALSE(header.contains("error_bound"));  // no residuals: a plain file
  REQUIRE(c.bounded_report().size() == 1);
  CHECK(c.bounded_report()[0].chosen.find("the model alone") == 0);
  const codec_options defaults;
  const dataset back = C(be, defaults).decompress(byte_view(file));
  const double p = psnr(d.data.to_doubles(), back.data.to_doubles());
  MESSAGE("the model alone: " << p << " dB in " << file.size() << " bytes; with residuals "
                              << c.bounded_report()[0].estimates.back().second << " bytes");
  CHECK(p >= 50.01);
  for (const auto& r : metrics::check_bounds(d, back, o.error_bound)) CHECK(r.holds());

  // The same model under a target it misses: residuals bring the field to the target.
  codec_options tighter = o;
  tighter.error_bound = parse_bound_config("psnr:" + std::to_string(p + 3));
  C t(be, tighter);
  t.load_model(byte_view(c.save_model()));
  const std::vector<std::byte> bounded = t.compress(d);
  CHECK(format::parse(byte_view(bounded)).header.contains("error_bound"));
  for (const auto& r : metrics::check_bounds(d, C(be, defaults).decompress(byte_view(bounded)), tighter.error_bound))
    CHECK(r.holds());
}

TEST_CASE("Codec, conv architecture: 3-D frames of a 4-D array and 2-D blocks, exact shapes") {
  cpu be(1);
  codec_options o = conv_options();
  o.epochs = 3;
  const std::vector<double> v = waves(6, 5 * 6, 7);  // 6 frames of 5 x 6 x 7
  const dataset d4{ndarray::from_doubles(v, {6, 5, 6, 7}, dtype::f64), {}};
  C c4(be, o);
  c4.train(d4);
  CHECK(c4.model().arch.frame == models::grid3{5, 6, 7});
  CHECK(C(be, o).decompress(byte_view(c4.compress(d4))).data.shape == d4.data.shape);

  o.tile = {8, 8};  // a 2-D field in blocks; 20 x 19 leaves padding on both axes
  const dataset d2{ndarray::from_doubles(std::vector<double>(v.begin(), v.begin() + 380), {20, 19},
                                         dtype::f32), {}};
  C c2(be, o);
  c2.train(d2);
  CHECK(c2.model().arch.frame == models::grid3{1, 8, 8});
  CHECK(C(be, o).decompress(byte_view(c2.compress(d2))).data.shape == d2.data.shape);
}

TEST_CASE("CLI: compress --architecture conv, info, decompress") {
  using namespace cli_test;
  scratch s;
  const std::vector<double> v = waves(48, 13, 11);
  save_dataset("waves.npy", dataset{ndarray::from_doubles(v, {48, 13, 11}, dtype::f32), {}}, false);
  auto r = baler_cli({"compress", "waves.npy", "-o", "w.baler", "--architecture", "conv", "--latent",
                      "4", "--hidden", "4,4,4", "--epochs", "300", "--batch-size", "8", "-q"});
  REQUIRE(r.status == 0);
  r = baler_cli({"info", "w.baler"});
  CHECK(r.status == 0);
  INFO(r.out);
  CHECK(r.out.find("model: ConvAE (f32), frame 1x13x11, conv channels 4-4-4, latent 4") !=
        std::string::npos);
  r = baler_cli({"decompress", "w.baler", "-o", "back.npy"});
  REQUIRE(r.status == 0);
  const dataset back = load_dataset("back.npy");
  REQUIRE(back.data.shape == V{48, 13, 11});
  CHECK(psnr(v, back.data.to_doubles()) > 25);

  r = baler_cli({"compress", "waves.npy", "-o", "b.baler", "--architecture", "conv", "--latent",
                 "4", "--hidden", "4,4,4", "--epochs", "50", "--error-bound", "range:1e-3",
                 "--latent-predictor", "always", "-q"});
  REQUIRE(r.status == 0);
  r = baler_cli({"decompress", "b.baler", "-o", "bounded.npy"});
  REQUIRE(r.status == 0);
  const dataset original = load_dataset("waves.npy");
  for (const auto& b : metrics::check_bounds(original, load_dataset("bounded.npy"),
                                             parse_bound_config(std::string("range:1e-3"))))
    CHECK(b.holds());
}
