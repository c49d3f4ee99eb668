// The `baler` command line; everything lives in include/baler/cli so the tests can run it.
#include <csignal>

#include "baler/cli/app.hpp"

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG, which becomes a clear
  // error and no partial file, instead of SIGXFSZ killing the process with a core dump.
  std::signal(SIGXFSZ, SIG_IGN);
  return baler::cli::run(argc, argv);
}
