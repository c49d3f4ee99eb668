#pragma once
// Helpers shared by the test_io_* suites: fixture paths, scratch folders, the value pattern of
// tests/data/make_fixtures.py, and checks on error messages.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "baler/io/io.hpp"

namespace io_test {

namespace fs = std::filesystem;

inline fs::path fixture(const std::string& name) {
  return fs::path(BALER_TEST_DIR) / "data" / name;
}

// A fresh folder under the system temp folder, removed with everything in it at scope exit.
class scratch_dir {
 public:
  scratch_dir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("baler_io_test_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename().string());
    return out;
  }

 private:
  fs::path path_;
};

// make_fixtures.py's value(): k - 5 (+ 0.25 for floats) for signed types, k for unsigned
// ones, k % 3 == 0 for bool, with k the C-order index.
inline double pattern(baler::dtype t, std::size_t k) {
  const double kd = static_cast<double>(k);
  if (t == baler::dtype::bool_) return k % 3 == 0 ? 1.0 : 0.0;
  if (!baler::is_signed(t)) return kd;
  return kd - 5 + (baler::is_float(t) ? 0.25 : 0.0);
}

inline std::vector<double> pattern_values(baler::dtype t, std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t k = 0; k < n; ++k) v[k] = pattern(t, k);
  return v;
}

inline baler::ndarray pattern_array(baler::dtype t, std::vector<std::size_t> shape) {
  const std::size_t n = baler::shape_elements(shape, "pattern_array");
  return baler::ndarray::from_doubles(pattern_values(t, n), std::move(shape), t);
}

// The message of the baler::error f throws, or a marker saying what happened instead.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const baler::error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not a baler::error: ") + e.what() + ">";
  }
  return "<no error>";
}

// The interpreter with numpy the fixtures come from; absent on some machines.
inline bool numpy_available() {
  return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

// `bytes` with `flips` bytes overwritten at random positions by random values.
inline std::vector<std::byte> damaged(std::vector<std::byte> bytes, std::mt19937& rng, int flips) {
  for (; flips > 0; --flips) bytes[rng() % bytes.size()] = static_cast<std::byte>(rng() & 0xFF);
  return bytes;
}

inline std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

}  // namespace io_test

// Checks that expr throws a baler::error whose message contains text.
#define CHECK_ERROR_CONTAINS(expr, text)                                          \
  do {                                                                            \
    const std::string io_test_message = io_test::error_of([&] { (void)(expr); }); \
    INFO("message: " << io_test_message);                                         \
    CHECK(io_test_message.find(text) != std::string::npos);                       \
  } while (0)
