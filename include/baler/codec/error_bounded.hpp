#pragma once
// One-call entry points for embedding baler (the HDF5 filter, the Python module, chunked
// writers): error-bounded compression of one array, and decompression of any self-contained
// .baler file. Every value comes back within `bound`; no model file is needed on either side.
//
//   std::vector<std::byte> f = codec::compress_error_bounded(d, codec::parse_bound_config("range:1e-3"));
//   dataset back = codec::decompress_file(f);
#include <vector>

#include "baler/backend/cpu.hpp"
#include "baler/codec/codec.hpp"

namespace baler::codec {

// Compresses `d` (a table with column names, or a field) so that every value is within its
// bound; `o` sets everything else (its error_bound is replaced by `bound`). Its values are
// released once read (pass it with std::move to hold them once).
inline std::vector<std::byte> compress_error_bounded(dataset d, const bound_config& bound, codec_options o = {}) {
  o.error_bound = bound;
  if (!d.field) d.field = is_field(d);  // read on the values once, for training and compressing
  cpu be(1);
  Codec<cpu, models::AE<cpu, float>> c(be, o);
  c.train(d);
  return c.compress(std::move(d));
}

// Restores the array of a .baler file that carries its own decoder (every file but those
// written with --separate-model).
inline dataset decompress_file(byte_view file) {
  cpu be(1);
  Codec<cpu, models::AE<cpu, float>> c(be, codec_options{});
  return c.decompress(file);
}

}  // namespace baler::codec
