// The `baler` command line; everything lives in include/baler/cli so the tests can run it.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>

#include "baler/cli/app.hpp"

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which becomes a clear
  // error and no partial file, instead of SIGXFSZ killing the process with a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
#if !defined(BALER_HAS_CUDA)
  // --device cuda: hand over to baler-cuda beside this program, when it was built.
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--device=cuda") == 0 || (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc &&
                                                        std::strcmp(argv[i + 1], "cuda") == 0)) {
      std::error_code ec;
      const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
      const auto cuda = self.parent_path() / "baler-cuda";
      if (!ec && std::filesystem::exists(cuda)) {
        argv[0] = const_cast<char*>(cuda.c_str());
        execv(cuda.c_str(), argv);
      }
      break;  // no baler-cuda: run() says this build has no CUDA backend
    }
#endif
  return baler::cli::run(argc, argv);
}
