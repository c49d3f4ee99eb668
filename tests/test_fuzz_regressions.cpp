// Replays the inputs the fuzzers found (tests/data/fuzz_regressions/<harness>/) through the
// same harnesses, so each fixed finding stays fixed in every build, g++ included. Built with
// FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION as the fuzzers are, so CRCs do not stop them early.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "../fuzz/targets.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Runs `name` on bytes; a baler::error is the expected answer, anything else fails the test.
void replay(const std::string& name, const std::vector<std::uint8_t>& bytes, const std::string& label) {
  INFO("harness " << name << ", input " << label);
  CHECK_NOTHROW(baler::fuzz::fuzz_one(baler::fuzz::find(name), bytes.data(), bytes.size()));
}

}  // namespace

TEST_CASE("every harness answers empty and garbage input with at most a baler::error") {
  for (const auto& t : baler::fuzz::all) {
    replay(t.name, {}, "empty");
    replay(t.name, std::vector<std::uint8_t>(64, 0xFF), "64 x 0xFF");
  }
}

TEST_CASE("the saved fuzz findings are handled") {
  const fs::path root = fs::path(BALER_TEST_DIR) / "data" / "fuzz_regressions";
  std::size_t inputs = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    const std::string name = dir.path().filename().string();
    REQUIRE_NOTHROW(baler::fuzz::find(name));  // a folder per harness, by its name
    for (const auto& file : fs::directory_iterator(dir.path())) {
      replay(name, read_all(file.path()), file.path().filename().string());
      ++inputs;
    }
  }
  MESSAGE(inputs << " saved inputs replayed");
}

TEST_CASE("an unknown harness name is an error") {
  CHECK_THROWS_AS(baler::fuzz::find("nope"), baler::error);
}
