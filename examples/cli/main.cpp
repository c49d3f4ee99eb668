// The `baler` command line; everything lives in include/baler/cli so the tests can run it.
#include "baler/cli/app.hpp"

int main(int argc, char** argv) { return baler::cli::run(argc, argv); }
