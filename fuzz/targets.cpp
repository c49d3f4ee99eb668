// The harnesses, compiled once for all the fuzz_<name> executables.
#include "targets.hpp"

namespace baler::fuzz {

int fuzz_named(const char* name, const std::uint8_t* data, std::size_t size) {
  static const harness h = find(name);
  return fuzz_one(h, data, size);
}

}  // namespace baler::fuzz
