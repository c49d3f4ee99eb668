#pragma once
// The fuzz harnesses: one function per place that reads outside bytes, each taking any bytes
// and returning 0. A malformed input must end in baler::error; anything else (another
// exception, a crash, a sanitizer report, a huge allocation, a hang) is a finding. Plain
// functions, so that tests/test_fuzz_regressions.cpp replays saved inputs without clang.
// To add a harness: write it here, list it in `all`, add its name to fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "baler/codec/error_bounded.hpp"
#include "baler/codec/options.hpp"
#include "baler/format/container.hpp"
#include "baler/io/csv.hpp"
#include "baler/io/dataset.hpp"

namespace baler::fuzz {

using harness = void (*)(byte_view);

inline void container(byte_view in) {
  format::inspect(in);
  format::parse(in);
}
inline void decompress(byte_view in) { codec::decompress_file(in); }
inline void model(byte_view in) {
  cpu be(1);
  codec::Codec<cpu, models::AE<cpu, float>> c(be, codec::codec_options{});
  c.load_model(in);
}
inline void npy(byte_view in) {
  // Both readers: numbers, and the text arrays that hold column names.
  try {
    baler::npy::read(in);
  } catch (const error&) {
  }
  baler::npy::read_strings(in);
}
// As load_dataset reads an .npz: the archive, then Baler's data and names members.
inline void npz(byte_view in) { dataset_from_npz(baler::npz::read(in)); }
inline void csv(byte_view in) { baler::csv::read(in); }
// As `baler --config` reads it: invalid JSON is the CLI's error, the rest the library's.
inline void config(byte_view in) {
  const auto j = nlohmann::json::parse(in.data, in.data + in.size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return;
  codec::codec_options o;
  codec::apply_json(o, j);
  codec::validate(o);
}
inline void error_bound(byte_view in) {
  codec::parse_bound_config(std::string(reinterpret_cast<const char*>(in.data), in.size));
}

struct target {
  const char* name;
  harness run;
};
inline const std::vector<target> all{{"container", container}, {"decompress", decompress},
                                     {"model", model},         {"npy", npy},
                                     {"npz", npz},             {"csv", csv},
                                     {"config", config},       {"error_bound", error_bound}};

inline harness find(const std::string& name) {
  for (const auto& t : all)
    if (name == t.name) return t.run;
  throw error("fuzz::find(): no harness named '" + name + "'");
}

// The harness body: a clear baler::error is the expected answer to bad bytes.
inline int fuzz_one(harness h, const std::uint8_t* data, std::size_t size) {
  try {
    h(byte_view(reinterpret_cast<const std::byte*>(data), size));
  } catch (const error&) {
  }
  return 0;
}

}  // namespace baler::fuzz
