#pragma once
// Training progress on stderr: a line per epoch (losses, learning rate, elapsed time); on a
// terminal, a bar that redraws in place instead, with the line printed every 10 % and at the
// end so the history stays readable. Silent when quiet.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "baler/train/trainer.hpp"

namespace baler::cli {

class progress {
public:
  progress(std::size_t epochs, bool quiet)
      : epochs_(epochs), quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1),
        start_(std::chrono::steady_clock::now()) {}

  void operator()(const epoch_report& r) {
    if (quiet_) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    char line[200];
    std::snprintf(line, sizeof line, "epoch %5zu/%zu  loss %.4e  val %.4e  lr %.2e  %7.1f s",
                  r.epoch + 1, epochs_, r.train_loss, r.validation_loss, r.learning_rate, elapsed);
    if (!tty_) {
      std::fprintf(stderr, "%s\n", line);
      return;
    }
    const std::size_t width = 30, done = (r.epoch + 1) * width / epochs_;
    const bool milestone = (r.epoch + 1) % std::max<std::size_t>(1, epochs_ / 10) == 0;
    std::fprintf(stderr, "\r[%s%s] %s", std::string(done, '#').c_str(),
                 std::string(width - done, '.').c_str(), line);
    if (milestone || r.epoch + 1 == epochs_) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

  // Called when training ends before `epochs` (early stopping): finish the bar's line.
  void finish() const {
    if (!quiet_ && tty_) std::fprintf(stderr, "\n");
  }

private:
  std::size_t epochs_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace baler::cli
