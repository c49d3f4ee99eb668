// The HDF5 filter's chunk codec (hdf5/H5Zbaler_chunk.hpp) without HDF5: its parameters, as
// H5Z_baler_params and set_local leave them, and what each asks for.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../hdf5/H5Zbaler_chunk.hpp"
#include "baler/io/dataset.hpp"
#include "test_data.hpp"
#include "test_io_support.hpp"

using namespace baler;

namespace {

// cd_values for a chunk of `a`'s shape and dtype under `kind` (0 abs, 1 range) and `bound`,
// the fourth parameter `layout` (bit 0 field, bit 1 fast effort).
std::vector<unsigned> params_for(const ndarray& a, unsigned kind, double bound, unsigned layout) {
  unsigned words[2];
  std::memcpy(words, &bound, sizeof bound);
  std::vector<unsigned> cd{kind, words[0], words[1], layout, unsigned(a.type), unsigned(a.shape.size())};
  for (std::size_t n : a.shape) cd.push_back(unsigned(n));
  return cd;
}

}  // namespace

TEST_CASE("the filter's fourth parameter: the layout, plus 2 for fast effort; every chunk within its bound") {
  if (!test_data::available("cfd/CFD_animation.npz")) return;
  const ndarray frames = load_dataset(test_data::path("cfd/CFD_animation.npz")).data;  // 60 x 50 x 50
  const std::vector<double> x = frames.to_doubles();
  std::size_t bytes[2] = {0, 0};
  for (unsigned fast : {0u, 1u}) {
    CAPTURE(fast);
    const std::vector<unsigned> cd = params_for(frames, 1, 1e-3, 1 + 2 * fast);
    const std::vector<std::byte> stored = h5z::encode_chunk(cd.size(), cd.data(), byte_view(frames.bytes));
    bytes[fast] = stored.size();
    const std::vector<std::byte> raw = h5z::decode_chunk(cd.size(), cd.data(), byte_view(stored));
    REQUIRE(raw.size() == frames.bytes.size());
    const std::vector<double> y = ndarray{frames.type, frames.shape, raw}.to_doubles();
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(y[i] - x[i]));
    CHECK(worst <= 1e-3 * (*std::max_element(x.begin(), x.end()) - *std::min_element(x.begin(), x.end())));
  }
  // Fast leaves out predictors that win here: a larger chunk, so the flag reached the codec.
  CHECK(bytes[1] > bytes[0]);
  const std::vector<unsigned> bad = params_for(frames, 1, 1e-3, 4);
  CHECK_ERROR_CONTAINS(h5z::encode_chunk(bad.size(), bad.data(), byte_view(frames.bytes)),
                       "layout 4 (0 table, 1 field; plus 2 for fast effort)");
}
