#pragma once
// Trains an autoencoder to reconstruct its input: mini-batches reshuffled every epoch, a held
// out validation split, a learning-rate schedule, early stopping that restores the best
// weights, and a per-epoch report. Throws on NaN/Inf input and on a diverging loss.
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "baler/core/matrix_view.hpp"
#include "baler/core/rng.hpp"
#include "baler/nn/layer.hpp"
#include "baler/nn/losses.hpp"
#include "baler/nn/parameters.hpp"
#include "baler/train/data_parallel.hpp"
#include "baler/train/schedule.hpp"

namespace baler {

struct epoch_report {
  std::size_t epoch = 0;  // 0-based
  double train_loss = 0, validation_loss = 0, learning_rate = 0, seconds = 0;
};

struct train_options {
  std::size_t epochs = 100;
  std::size_t batch_size = 512;
  double validation_fraction = 0.1;  // 0: no validation split; the training loss is monitored
  std::uint64_t seed = 0;
  double latent_l1 = 0.0;  // activation-sparsity weight on the latent (autoencoders only)
  lr_schedule schedule;
  std::size_t early_stopping_patience = 0;  // 0: off
  double early_stopping_min_delta = 0.0;
  std::function<void(const epoch_report&)> on_epoch;  // progress, may be empty
  data_parallel parallel;  // ranks > 1: this process trains its slice of each global batch
};

struct train_history {
  std::vector<epoch_report> epochs;
  std::size_t best_epoch = 0;
  bool stopped_early = false;
};

namespace detail {
template <class M, class = void>
struct has_latent : std::false_type {};
template <class M>
struct has_latent<M, std::void_t<decltype(std::declval<M&>().latent())>> : std::true_type {};
}  // namespace detail

// Throws naming the first NaN/Inf cell: "row r, column c".
template <class T>
void require_finite_table(const T* data, std::size_t rows, std::size_t cols, const char* where) {
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      if (!std::isfinite(data[r * cols + c]))
        throw error(std::string(where) + "(): input holds " +
                    (std::isnan(data[r * cols + c]) ? "NaN" : "Inf") + " at row " +
                    std::to_string(r) + ", column " + std::to_string(c));
}

// data: host table (rows x cols), row-major; the model reconstructs it.
template <class B, class Model, class Optimizer, class Loss = mse_loss>
train_history fit(B& be, Model& model, parameters<B, typename Model::value_type>& params,
                  Optimizer& opt, const typename Model::value_type* data, std::size_t rows,
                  std::size_t cols, const train_options& o, const Loss& loss = {}) {
  using T = typename Model::value_type;
  require(rows > 0 && cols > 0, "fit", "empty training data");
  require(cols == model.in_features(), "fit",
          "data has " + std::to_string(cols) + " columns, model expects " +
              std::to_string(model.in_features()));
  require(o.epochs > 0 && o.batch_size > 0, "fit", "epochs and batch_size must be positive");
  require(!o.parallel.enabled() || (o.parallel.sum && o.parallel.rank < o.parallel.ranks), "fit",
          "data-parallel training needs a sum across ranks and a rank below the rank count");
  require(o.validation_fraction >= 0 && o.validation_fraction < 1, "fit",
          "validation_fraction must be in [0, 1)");
  require(o.latent_l1 == 0 || detail::has_latent<Model>::value, "fit",
          "latent_l1 needs a model with a latent space");
  require_finite_table(data, rows, cols, "fit");

  // Split once: a seeded permutation, the last part held out for validation.
  rng gen(o.seed);
  std::vector<std::size_t> order = gen.permutation(rows);
  const auto n_val = static_cast<std::size_t>(o.validation_fraction * double(rows));
  require(rows - n_val > 0, "fit", "no training rows left after the validation split");
  std::vector<std::size_t> train_idx(order.begin(), order.end() - n_val);
  const std::vector<std::size_t> val_idx(order.end() - n_val, order.end());

  const auto table = be.resident_table(data, rows, cols);  // where gather_rows reads
  // The best epoch's parameters and state (batch-norm statistics), restored at the end; they
  // start as the initial ones, so a run that never improves (NaN validation) changes nothing.
  typename B::template matrix<T> batch_buf, grad_buf, best = be.template make<T>(1, params.size()),
                                 best_state = be.template make<T>(1, params.state_size());
  be.copy(const_view<T>(params.values()), B::view(best));
  be.copy(const_view<T>(params.state()), B::view(best_state));
  const l1_activation_penalty penalty{o.latent_l1};
  lr_scheduler scheduler(o.schedule, opt.learning_rate());
  early_stopping stopper(o.early_stopping_patience, o.early_stopping_min_delta);
  train_history history;

  // Mean loss over `idx` in evaluation mode (no parameter update).
  auto evaluate = [&](const std::vector<std::size_t>& idx) {
    double total = 0;
    for (std::size_t start = 0; start < idx.size(); start += o.batch_size) {
      const std::size_t n = std::min(o.batch_size, idx.size() - start);
      auto x = rows_view(be, batch_buf, n, cols);
      auto g = rows_view(be, grad_buf, n, cols);
      be.gather_rows(table, idx.data() + start, x);
      total += loss.value_and_grad(be, model.forward(be, x, mode::eval), const_view<T>(x), g) *
               double(n);
    }
    return total / double(idx.size());
  };

  for (std::size_t epoch = 0; epoch < o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = train_idx.size(); i > 1; --i)
      std::swap(train_idx[i - 1], train_idx[gen.below(i)]);
    double total = 0;
    for (std::size_t start = 0, b = 0; start < train_idx.size(); start += o.batch_size, ++b) {
      const std::size_t n = std::min(o.batch_size, train_idx.size() - start);
      if (n < 2 && train_idx.size() >= 2) continue;  // a lone last row would skew batch norm
      const auto [first, last] = o.parallel.share(n);  // all of it without data parallelism
      const std::size_t mine = last - first;
      double value = 0;
      if (mine > 0) {
        auto x = rows_view(be, batch_buf, mine, cols);
        auto g = rows_view(be, grad_buf, mine, cols);
        be.gather_rows(table, train_idx.data() + start + first, x);
        const auto y = model.forward(be, x, mode::train);
        value = loss.value_and_grad(be, y, const_view<T>(x), g);
        if constexpr (detail::has_latent<Model>::value) {
          model.backward_decoder(be, g);
          value += penalty.value_and_add_grad(be, model.latent(), model.latent_grad(be));
          model.backward_encoder(be, matrix_view<T>{});
        } else {
          model.backward(be, g, matrix_view<T>{});
        }
      }
      if (o.parallel.enabled())
        value = average_gradients(be, params.gradients(), params.size(), o.parallel, mine, n, value);
      if (!std::isfinite(value))
        throw error("fit(): training diverged: the loss is " + std::to_string(value) +
                    " at epoch " + std::to_string(epoch) + ", batch " + std::to_string(b) +
                    "; lower the learning rate or check the normalisation");
      opt.step(be, params.values(), params.gradients());
      total += value * double(n);
    }
    epoch_report r;
    r.epoch = epoch;
    r.train_loss = total / double(train_idx.size());
    r.validation_loss = val_idx.empty() ? r.train_loss : evaluate(val_idx);
    r.learning_rate = opt.learning_rate();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    history.epochs.push_back(r);
    if (o.on_epoch) o.on_epoch(r);

    const bool stop = stopper.update(r.validation_loss);
    if (stopper.improved()) {
      history.best_epoch = epoch;
      be.copy(const_view<T>(params.values()), B::view(best));
      be.copy(const_view<T>(params.state()), B::view(best_state));
    }
    opt.set_learning_rate(scheduler.next(epoch, r.validation_loss, opt.learning_rate()));
    if (stop) {
      history.stopped_early = true;
      break;
    }
  }
  be.copy(const_view<T>(B::view(best)), params.values());  // the best epoch's weights
  be.copy(const_view<T>(B::view(best_state)), params.state());
  return history;
}

}  // namespace baler
