#pragma once
// The patch architecture's view of a field: the grid cut into equal tiles, one tile per row, so
// that one small model serves every tile and its decoder does not grow with the grid. A tile
// has the field's rank (a 2-D tile of a time series of frames is 1 x h x w).
//
// Tiles that do not divide the grid: the grid is padded at its far end of each axis up to a
// multiple of the tile, the padding repeating the nearest edge value (a smooth continuation
// costs the model less than a jump to zero); decoding drops the padding, so the field comes
// back with its exact shape.
//
//   rows: (tiles x tile_size), tiles in row-major order of the tile grid, each tile's values
//   row-major inside it.
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "baler/codec/table.hpp"
#include "baler/core/error.hpp"

namespace baler::codec {

class tiling {
 public:
  tiling(std::vector<std::size_t> grid, std::vector<std::size_t> tile)
      : grid_(std::move(grid)), tile_(std::move(tile)) {
    require(!grid_.empty() && grid_.size() == tile_.size(), "tiling",
            "the tile needs the field's rank (" + std::to_string(grid_.size()) + "), got " +
                std::to_string(tile_.size()));
    for (std::size_t a = 0; a < grid_.size(); ++a) {
      require(grid_[a] > 0 && tile_[a] > 0, "tiling", "sizes must be positive");
      counts_.push_back((grid_[a] + tile_[a] - 1) / tile_[a]);
    }
  }

  std::size_t tiles() const { return product(counts_); }
  std::size_t tile_size() const { return product(tile_); }
  const std::vector<std::size_t>& tile() const { return tile_; }

  // field (product(grid) values, row-major) -> rows (tiles x tile_size), edges repeated.
  std::vector<double> to_rows(const std::vector<double>& field) const {
    require(field.size() == product(grid_), "tiling::to_rows", "the field has the wrong size");
    std::vector<double> rows(tiles() * tile_size());
    for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = field[source(i)];
    return rows;
  }
  // rows -> field, the padding dropped.
  std::vector<double> to_field(const std::vector<double>& rows) const {
    require(rows.size() == tiles() * tile_size(), "tiling::to_field",
            "the rows have the wrong size");
    std::vector<double> field(product(grid_));
    for (std::size_t i = 0; i < rows.size(); ++i)
      if (inside(i)) field[source(i)] = rows[i];
    return field;
  }

 private:
  static std::size_t product(const std::vector<std::size_t>& v) {
    std::size_t n = 1;
    for (std::size_t x : v) n *= x;
    return n;
  }
  // The grid coordinate (unclamped) along each axis of row entry i.
  std::vector<std::size_t> coordinate(std::size_t i) const {
    std::size_t t = i / tile_size(), k = i % tile_size();
    std::vector<std::size_t> at(grid_.size());
    for (std::size_t a = grid_.size(); a-- > 0;) {
      at[a] = (t % counts_[a]) * tile_[a] + k % tile_[a];
      t /= counts_[a];
      k /= tile_[a];
    }
    return at;
  }
  bool inside(std::size_t i) const {
    const auto at = coordinate(i);
    for (std::size_t a = 0; a < grid_.size(); ++a)
      if (at[a] >= grid_[a]) return false;
    return true;
  }
  std::size_t source(std::size_t i) const {  // the field index, clamped to the grid's edge
    const auto at = coordinate(i);
    std::size_t index = 0;
    for (std::size_t a = 0; a < grid_.size(); ++a)
      index = index * grid_[a] + std::min(at[a], grid_[a] - 1);
    return index;
  }

  std::vector<std::size_t> grid_, tile_, counts_;
};

// The tiles of table `t` (its original shape is the grid) as the rows of a table, columns
// named tile0, tile1, ... by position in the tile: what a patch model trains on and encodes.
inline table tile_table(const table& t, const std::vector<std::size_t>& tile) {
  const tiling tiles(t.shape, tile);
  table r;
  r.rows = tiles.tiles();
  r.cols = tiles.tile_size();
  r.values = tiles.to_rows(t.values);
  r.shape = {r.rows, r.cols};
  r.type = t.type;
  for (std::size_t c = 0; c < r.cols; ++c) r.names.push_back("tile" + std::to_string(c));
  return r;
}

// The tile a model uses for data of `shape`, or none (the dense architecture: whole rows).
//   architecture "dense": none. "patch": `tile`, or by default 8 along every axis but the
//   leading one of a 3+-D array (frames are tiled one at a time), clipped to the grid.
//   "conv": `tile`, or by default the frame of a 3-D or 4-D array (frames x H x W, frames x
//   D x H x W; a single 3-D volume is given as 1 x D x H x W, or cut into blocks with `tile`),
//   and 32 x 32 blocks of a 2-D field (one frame would be one training sample). The tile is the
//   conv model's frame, so at most its last three axes may exceed 1 (conv_frame).
//   "auto": patch for a field (`field`: a 3+-D array, or 2-D without column names) whose rows
//   hold at least patch_min_row values: there a dense decoder's output layer alone outgrows
//   what a shared tile model costs; dense otherwise (tables, short rows). It never picks conv:
//   on the measured fields (bench/README.md) the patch models were as good for less training.
inline constexpr std::size_t patch_min_row = 256;
inline constexpr std::size_t conv_block = 32;

inline std::vector<std::size_t> choose_tile(const std::vector<std::size_t>& shape, bool field,
                                            const std::string& architecture,
                                            const std::vector<std::size_t>& tile) {
  require(architecture == "auto" || architecture == "dense" || architecture == "patch" ||
              architecture == "conv",
          "choose_tile", "unknown architecture '" + architecture + "' (auto, dense, patch or conv)");
  std::size_t row = 1;
  for (std::size_t a = 1; a < shape.size(); ++a) row *= shape[a];
  const bool conv = architecture == "conv";
  const bool patch = conv || architecture == "patch" ||
                     (architecture == "auto" && field && row >= patch_min_row);
  if (!patch) return {};
  require(shape.size() >= 2, "choose_tile",
          "the " + std::string(conv ? "conv" : "patch") + " architecture needs a 2-D or 3-D field");
  if (!tile.empty()) {
    require(tile.size() == shape.size(), "choose_tile",
            "the tile needs one size per axis of the data (" + std::to_string(shape.size()) + ")");
    for (std::size_t a = 0; a < tile.size(); ++a)
      require(tile[a] > 0 && tile[a] <= shape[a], "choose_tile",
              "tile size " + std::to_string(tile[a]) + " does not fit axis " + std::to_string(a) +
                  " of length " + std::to_string(shape[a]));
    return tile;
  }
  std::vector<std::size_t> t(shape.size(), conv ? conv_block : 8);
  if (conv && shape.size() >= 3) t = shape;  // whole frames
  if (shape.size() >= 3) t[0] = 1;
  for (std::size_t a = 0; a < t.size(); ++a) t[a] = std::min(t[a], shape[a]);
  return t;
}

// The conv model's frame (D, H, W) for `tile`: its last three axes, the others of length 1.
inline std::array<std::size_t, 3> conv_frame(const std::vector<std::size_t>& tile) {
  std::array<std::size_t, 3> frame{1, 1, 1};
  for (std::size_t a = 0; a < tile.size(); ++a) {
    if (a + 3 >= tile.size()) {
      frame[a + 3 - tile.size()] = tile[a];
      continue;
    }
    require(tile[a] == 1, "conv_frame",
            "the conv architecture takes 2-D or 3-D frames: only the last three axes of the tile "
            "may exceed 1");
  }
  return frame;
}

}  // namespace baler::codec
