// The patch architecture's tiling: round trip with the exact shape, edge padding, tile order.
#include <doctest/doctest.h>

#include "baler/codec/tiling.hpp"

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
