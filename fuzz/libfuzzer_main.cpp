// libFuzzer entry point for the harness of targets.hpp named at build time (BALER_FUZZ_TARGET);
// the harnesses themselves are compiled once, in targets.cpp.
#include <cstddef>
#include <cstdint>

namespace baler::fuzz {
int fuzz_named(const char* name, const std::uint8_t* data, std::size_t size);
}

#define BALER_STRINGIFY(x) #x
#define BALER_NAME(x) BALER_STRINGIFY(x)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return baler::fuzz::fuzz_named(BALER_NAME(BALER_FUZZ_TARGET), data, size);
}
