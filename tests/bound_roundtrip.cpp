// A small program built twice with different optimisation and floating-point flags (see
// tests/CMakeLists.txt): one build compresses, the other decompresses and checks the bound on
// every value, so a prediction that one build rounds differently from the other is caught.
//   bound_roundtrip compress IN OUT.baler BOUND
//   bound_roundtrip check IN FILE.baler BOUND     exit status 1 when a value breaks its bound
#include <cstdio>
#include <string>

#include "baler/codec/error_bounded.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/metrics/bound_check.hpp"

int main(int argc, char** argv) {
  using namespace baler;
  if (argc != 5) return std::fprintf(stderr, "usage: bound_roundtrip compress|check IN FILE BOUND\n"), 2;
  const std::string mode = argv[1];
  try {
    const dataset in = load_dataset(argv[2]);
    const codec::bound_config bound = codec::parse_bound_config(argv[4]);
    if (mode == "compress") {
      write_file_atomically(argv[3], codec::compress_error_bounded(in, bound), true);
      return 0;
    }
    const auto results = metrics::check_bounds(in, codec::decompress_file(read_file(argv[3])), bound);
    std::printf("%s", metrics::format_bounds(results).c_str());
    for (const auto& r : results)
      if (!r.holds()) return 1;
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bound_roundtrip: %s\n", e.what());
    return 1;
  }
}
