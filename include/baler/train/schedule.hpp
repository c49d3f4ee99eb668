#pragma once
// Learning-rate schedules, applied once per epoch, and early stopping. Plain value types so a
// config file or the command line can choose them at run time.
#include <cmath>
#include <limits>
#include <string>

#include "baler/core/error.hpp"

namespace baler {

struct lr_schedule {
  enum class kind { constant, plateau, step, cosine };
  kind type = kind::constant;
  // plateau (Baler's defaults): lr *= factor after `patience` epochs without an improvement
  // larger than `threshold` (relative), never below min_lr.
  double factor = 0.5;
  std::size_t patience = 20;
  double threshold = 1e-4;
  double min_lr = 1e-6;
  // step: lr *= factor every `step_epochs`. cosine: from the initial lr to min_lr over
  // `total_epochs`.
  std::size_t step_epochs = 30;
  std::size_t total_epochs = 100;

  static lr_schedule parse(const std::string& name) {
    if (name == "constant") return {kind::constant};
    if (name == "plateau") return {kind::plateau};
    if (name == "step") return {kind::step};
    if (name == "cosine") return {kind::cosine};
    throw error("lr_schedule::parse(): unknown schedule '" + name +
                "' (expected constant, plateau, step or cosine)");
  }
};

// Holds a schedule's running state (best loss, bad epochs) for one training run.
class lr_scheduler {
public:
  lr_scheduler(lr_schedule s, double initial_lr) : s_(s), initial_(initial_lr) {
    require(s.factor > 0 && s.factor < 1, "lr_scheduler", "factor must be in (0, 1)");
    require(s.type != lr_schedule::kind::step || s.step_epochs > 0, "lr_scheduler",
            "step_epochs must be positive for the step schedule");
    require(s.type != lr_schedule::kind::cosine || s.total_epochs > 0, "lr_scheduler",
            "total_epochs must be positive for the cosine schedule");
  }

  // Called after epoch `epoch` (0-based) with the monitored loss; returns the next lr.
  double next(std::size_t epoch, double loss, double lr) {
    switch (s_.type) {
      case lr_schedule::kind::constant:
        return lr;
      case lr_schedule::kind::plateau:
        if (loss < best_ * (1.0 - s_.threshold)) {
          best_ = loss;
          bad_epochs_ = 0;
        } else if (++bad_epochs_ > s_.patience) {
          bad_epochs_ = 0;
          return std::max(lr * s_.factor, s_.min_lr);
        }
        return lr;
      case lr_schedule::kind::step:
        return (epoch + 1) % s_.step_epochs == 0 ? std::max(lr * s_.factor, s_.min_lr) : lr;
      case lr_schedule::kind::cosine: {
        const double t = std::min(1.0, double(epoch + 1) / double(s_.total_epochs));
        return s_.min_lr + 0.5 * (initial_ - s_.min_lr) * (1.0 + std::cos(M_PI * t));
      }
    }
    return lr;
  }

private:
  lr_schedule s_;
  double initial_;
  double best_ = std::numeric_limits<double>::infinity();
  std::size_t bad_epochs_ = 0;
};

// Stops when the monitored loss has not improved by more than min_delta for `patience`
// epochs. patience 0 disables it.
class early_stopping {
public:
  explicit early_stopping(std::size_t patience = 0, double min_delta = 0.0)
      : patience_(patience), min_delta_(min_delta) {}

  // Returns true when training should stop; improved() tells whether this epoch was the best.
  bool update(double loss) {
    improved_ = loss < best_ - min_delta_;
    if (improved_) {
      best_ = loss;
      waited_ = 0;
    } else {
      ++waited_;
    }
    return patience_ > 0 && waited_ >= patience_;
  }
  bool improved() const { return improved_; }
  double best() const { return best_; }

private:
  std::size_t patience_;
  double min_delta_;
  double best_ = std::numeric_limits<double>::infinity();
  std::size_t waited_ = 0;
  bool improved_ = false;
};

}  // namespace baler
