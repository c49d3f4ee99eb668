#pragma once
// What the HDF5 filter (H5Zbaler.cpp) does to one chunk, given its parameters (cd_values, see
// H5Zbaler.h), without HDF5: the filter callback only moves buffers in and out. Kept apart so
// that fuzz/ and the tests reach the decoder of stored chunks without linking HDF5.
#include <cstring>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "baler/codec/error_bounded.hpp"

namespace baler::h5z {

constexpr std::size_t user_params = 4;                 // H5Z_BALER_USER_NPARAMS
constexpr std::size_t fixed_params = user_params + 2;  // the user's, dtype, rank
constexpr unsigned table_layout = 0;                   // H5Z_BALER_TABLE
constexpr unsigned fast_effort = 2;                    // H5Z_BALER_FAST, added to the layout

// The bound of parameters [0..3], with the command line's checks (by going through its parser).
inline codec::bound_config bound_of(const unsigned* cd) {
  require(cd[0] <= 3, "H5Zbaler", "bound kind " + std::to_string(cd[0]) + " (0 abs, 1 range, 2 rel, 3 psnr)");
  require(cd[3] <= 3, "H5Zbaler", "layout " + std::to_string(cd[3]) + " (0 table, 1 field; plus 2 for fast effort)");
  const std::uint32_t words[2] = {cd[1], cd[2]};
  codec::bound_spec b;
  b.kind = static_cast<codec::bound_kind>(cd[0]);
  std::memcpy(&b.value, words, sizeof b.value);
  return codec::parse_bound_config(codec::to_string(b));
}

// The dataset's chunk (element type and shape, no bytes) from the parameters set_local
// appended, and its size in bytes.
inline ndarray chunk_array(std::size_t n_cd, const unsigned* cd) {
  require(n_cd >= fixed_params && cd[5] >= 1 && n_cd == fixed_params + cd[5], "H5Zbaler",
          "corrupt filter parameters (" + std::to_string(n_cd) + " values)");
  require(cd[4] < std::size(all_dtypes), "H5Zbaler", "corrupt dtype parameter");
  return ndarray{static_cast<dtype>(cd[4]), {cd + fixed_params, cd + n_cd}, {}};
}
inline std::size_t chunk_bytes(const ndarray& chunk) {
  const std::size_t n = chunk.size();
  require(n <= std::numeric_limits<std::size_t>::max() / dtype_size(chunk.type), "H5Zbaler",
          "corrupt chunk dimensions: " + shape_string(chunk.shape) + " is too large to address");
  return n * dtype_size(chunk.type);
}

// A chunk of raw elements as a self-contained .baler file (the filter's write direction).
inline std::vector<std::byte> encode_chunk(std::size_t n_cd, const unsigned* cd, byte_view raw) {
  ndarray chunk = chunk_array(n_cd, cd);
  const std::size_t expected = chunk_bytes(chunk);
  require(raw.size == expected, "H5Zbaler",
          "chunk of " + std::to_string(raw.size) + " bytes, expected " + std::to_string(expected));
  chunk.bytes.assign(raw.data, raw.data + raw.size);
  dataset d{std::move(chunk), {}};
  if ((cd[3] & ~fast_effort) == table_layout && d.data.ndim() <= 2) {
    if (d.data.ndim() == 1) d.data.shape.push_back(1);
    for (std::size_t c = 0; c < d.data.shape[1]; ++c) d.names.push_back("c" + std::to_string(c));
  } else if (d.data.ndim() == 2) {
    d.data.shape.insert(d.data.shape.begin(), 1);  // one frame: a field, tall or not (codec::is_field)
  }
  // NaN and Inf (fill values, masked cells) are stored exactly rather than failing a write
  // deep inside HDF5, where the user could not have asked otherwise.
  codec::codec_options o;
  o.allow_non_finite = true;
  if (cd[3] & fast_effort) o.effort = codec::search_effort::fast;
  return codec::compress_error_bounded(std::move(d), bound_of(cd), o);
}

// A stored chunk decoded (the filter's read direction, H5Z_FLAG_REVERSE): its elements, which
// must be the dataset's type and chunk shape, since HDF5 copies out exactly that many bytes.
inline std::vector<std::byte> decode_chunk(std::size_t n_cd, const unsigned* cd, byte_view stored) {
  const ndarray chunk = chunk_array(n_cd, cd);
  const std::size_t expected = chunk_bytes(chunk);
  dataset d = codec::decompress_file(stored);
  require(d.data.type == chunk.type && d.data.nbytes() == expected, "H5Zbaler",
          "the chunk decodes to " + shape_string(d.data.shape) + " " + dtype_name(d.data.type) +
              ", the dataset's chunks are " + shape_string(chunk.shape) + " " + dtype_name(chunk.type));
  return std::move(d.data.bytes);
}

}  // namespace baler::h5z
