#pragma once
// Where the tests find the real data sets: BALER_SHARED_DATA (../shared/data) when it holds
// them, else the copies in examples/data (the LHCb table and the CFD animation). A test whose
// data set is in neither place skips that part with a message instead of failing.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

namespace test_data {

// The file for REL (e.g. "hep/lhcb_b2kkk.npz"), or "" where there is none.
inline std::string path(const std::string& rel) {
  namespace fs = std::filesystem;
  const fs::path shared = fs::path(BALER_SHARED_DATA) / rel;
  if (fs::exists(shared)) return shared.string();
  const fs::path copy = fs::path(BALER_TEST_DIR) / ".." / "examples" / "data" / fs::path(rel).filename();
  if (fs::exists(copy)) return copy.string();
  return "";
}

// Whether REL can be read; says so in the test's output when not.
inline bool available(const std::string& rel) {
  if (!path(rel).empty()) return true;
  MESSAGE("skipped: " << rel << " is in neither " << BALER_SHARED_DATA << " nor examples/data");
  return false;
}

}  // namespace test_data
