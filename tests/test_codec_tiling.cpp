// The patch architecture's tiling: round trip with the exact shape, edge padding, tile order.
#include <doctest/doctest.h>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"
#include "baler/codec/tiling.hpp"
#include "baler/metrics/bound_check.hpp"

using baler::codec::tiling;

TEST_CASE("tiling: tiles in order, edges repeated into the padding, exact round trip") {
  const tiling t({3, 5}, {2, 2});  // 2 x 3 tiles of 2 x 2
  CHECK(t.tiles() == 6);
  CHECK(t.tile_size() == 4);
  std::vector<double> field(15);
  for (std::size_t i = 0; i < 15; ++i) field[i] = double(i);
  const auto rows = t.to_rows(field);
  CHECK(std::vector<double>(rows.begin(), rows.begin() + 4) == std::vector<double>{0, 1, 5, 6});
  CHECK(std::vector<double>(rows.begin() + 8, rows.begin() + 12) ==
        std::vector<double>{4, 4, 9, 9});  // right edge repeated
  CHECK(std::vector<double>(rows.begin() + 20, rows.end()) ==
        std::vector<double>{14, 14, 14, 14});  // corner tile: one value
  CHECK(t.to_field(rows) == field);
}

TEST_CASE("tiling: 3-D grid with 2-D tiles (1 x h x w), and bad shapes") {
  const tiling t({4, 7, 6}, {1, 4, 4});
  CHECK(t.tiles() == 4 * 2 * 2);
  std::vector<double> field(4 * 7 * 6);
  for (std::size_t i = 0; i < field.size(); ++i) field[i] = 0.5 * double(i);
  CHECK(t.to_field(t.to_rows(field)) == field);
  CHECK_THROWS_AS(tiling({4, 4}, {2}), baler::error);
  CHECK_THROWS_AS(t.to_rows(std::vector<double>(5)), baler::error);
}

TEST_CASE("choose_tile: the default rule and explicit tiles") {
  using baler::codec::choose_tile;
  using V = std::vector<std::size_t>;
  CHECK(choose_tile({60, 50, 50}, true, "auto", {}) == V{1, 8, 8});  // wide frames: patch
  CHECK(choose_tile({512, 512}, true, "auto", {}) == V{8, 8});
  CHECK(choose_tile({1000, 24}, false, "auto", {}).empty());   // a table: dense
  CHECK(choose_tile({60, 10, 10}, true, "auto", {}).empty());  // short rows: dense
  CHECK(choose_tile({60, 50, 50}, true, "dense", {}).empty());
  CHECK(choose_tile({60, 4, 50}, true, "patch", {}) == V{1, 4, 8});  // clipped to the grid
  CHECK(choose_tile({60, 50, 50}, true, "patch", {2, 10, 10}) == V{2, 10, 10});
  CHECK(choose_tile({60, 50, 50}, true, "conv", {}) == V{1, 50, 50});  // test_codec_conv.cpp
  CHECK_THROWS_AS(choose_tile({60, 50, 50}, true, "patch", {10, 10}), baler::error);
  CHECK_THROWS_AS(choose_tile({60, 50, 50}, true, "patch", {1, 60, 10}), baler::error);
  CHECK_THROWS_AS(choose_tile({60, 50, 50}, true, "convolutional", {}), baler::error);
}

TEST_CASE("Codec, patch architecture: exact shape back, tile in the header, model file reloads") {
  using namespace baler;
  using namespace baler::codec;
  using C = Codec<cpu, models::AE<cpu, float>>;
  // A smooth 7 x 13 x 11 field (tiles of 1 x 4 x 4 leave padding on both grid axes).
  std::vector<double> v(7 * 13 * 11);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = std::sin(0.3 * double(i % 11)) * std::cos(0.2 * double(i / 11 % 13)) +
           0.1 * double(i / 143);
  dataset d{ndarray::from_doubles(v, {7, 13, 11}, dtype::f32), {}};
  codec_options o;
  o.architecture = "patch";
  o.tile = {1, 4, 4};
  o.latent = 4;
  o.hidden = {16, 8, 8};
  o.epochs = 30;
  o.training_tiles = 50;  // fewer than the 7 * 4 * 3 = 84 tiles: trains on a sample
  cpu be(1);
  C codec(be, o);
  codec.train(d);
  CHECK(codec.model().tile == std::vector<std::size_t>{1, 4, 4});
  CHECK(codec.model().schema.names.size() == 16);
  const auto file = codec.compress(d);
  const format::container c = format::parse(byte_view(file));
  CHECK(c.header.at("tiling").at("tile") == nlohmann::json::array({1, 4, 4}));
  CHECK(c.header.at("input").at("shape") == nlohmann::json::array({7, 13, 11}));
  CHECK(c.header.at("latent").at("rows") == 84);

  const codec_options defaults;
  C reader(be, defaults);
  const dataset back = reader.decompress(byte_view(file));
  REQUIRE(back.data.shape == d.data.shape);
  CHECK(back.data.type == dtype::f32);
  const auto y = back.data.to_doubles();
  double worst = 0;
  for (std::size_t i = 0; i < v.size(); ++i) worst = std::max(worst, std::abs(y[i] - v[i]));
  CHECK(worst < 1.0);  // a short training: close, not exact; the shape and order are the point

  C again(be, defaults);
  again.load_model(byte_view(codec.save_model()));
  CHECK(again.model().tile == std::vector<std::size_t>{1, 4, 4});
  CHECK(again.compress(d) == file);

  // The error-bounded mode keeps the bound with a patch model too (test_codec_conv.cpp).
  o.error_bound = parse_bound_config(std::string("range:1e-3"));
  C bounded(be, o);
  bounded.train(d);
  const dataset within = bounded.decompress(bounded.compress(d));
  for (const auto& r : metrics::check_bounds(d, within, o.error_bound)) CHECK(r.holds());
}
