#pragma once
// Helpers for the suites that drive the command line through cli::run: running it with captured
// output, a scratch folder to run in, the real data sets, and file checks.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "baler/cli/app.hpp"
#include "test_data.hpp"

namespace cli_test {

namespace fs = std::filesystem;

struct result {
  int status;
  std::string out, err;
};

// `baler ARGS...` in this process; the output and error streams come back as strings.
inline result baler_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "baler");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int status = baler::cli::run(int(argv.size()), argv.data(), out, err);
  return {status, out.str(), err.str()};
}

// A fresh folder per test, removed afterwards; tests run inside it.
struct scratch {
  fs::path dir, previous = fs::current_path();
  scratch() {
    dir = fs::temp_directory_path() / ("baler_cli_" + std::to_string(::getpid()) + "_" +
                                       std::to_string(counter()++));
    fs::create_directories(dir);
    fs::current_path(dir);
  }
  ~scratch() {
    fs::current_path(previous);
    fs::remove_all(dir);
  }
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  static int& counter() {
    static int n = 0;
    return n;
  }
};

inline const std::string lhcb = test_data::path("hep/lhcb_b2kkk.npz");
inline const std::string cfd = test_data::path("cfd/CFD_animation.npz");

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline constexpr const char* png_magic = "\x89PNG\r\n\x1a\n";
inline constexpr const char* pdf_magic = "%PDF-";

// A file that starts with the format's signature and has more in it than an empty image.
inline bool is_image(const fs::path& p, const std::string& magic) {
  return fs::is_regular_file(p) && slurp(p).rfind(magic, 0) == 0 && fs::file_size(p) > 1000;
}

}  // namespace cli_test
