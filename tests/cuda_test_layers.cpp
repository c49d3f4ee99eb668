// Whole layers and models on the CUDA backend against the CPU backend: forward outputs, input
// gradients, parameter gradients and batch-norm statistics from the same seed (parameters<B, T>
// initialises on the host, so both start from identical weights) and the same inputs.
//
// A network's results pass through a chain of GEMMs, so the tolerances are chain_tolerance:
// one sum_tolerance per layer the result passes through, for the widest sum in the network.
// Parameter gradients are compared layer by layer, each on the scale of its own largest value.
#include "baler/nn/nn.hpp"
#include "cuda_test_support.hpp"

using namespace baler;
using namespace cuda_test;

namespace {

template <class T>
struct pass_result {
  std::vector<T> y, dx, grads, state, y_eval;
};

// Forward (in mode m) and backward of a layer through its layer interface on backend B,
// then a forward in evaluation mode with the state the first one left.
template <class B, class T, class Layer>
pass_result<T> layer_pass(B& be, Layer& layer, const std::vector<T>& x, const std::vector<T>& dy,
                          std::size_t rows, std::size_t in, mode m, std::uint64_t seed) {
  parameters<B, T> p(be, layer, seed);
  const std::size_t out = layer.out_features(in);
  const auto mx = to_backend(be, x, rows, in);
  auto y = be.template make<T>(rows, out), ye = be.template make<T>(rows, out);
  auto g = to_backend(be, dy, rows, out);
  auto dx = be.template make<T>(rows, in);
  layer.forward(be, B::view(mx), B::view(y), m);
  layer.backward(be, B::view(mx), cv(B::view(y)), B::view(g), B::view(dx));
  pass_result<T> r;
  r.y = host_copy(be, B::view(y));
  r.dx = host_copy(be, B::view(dx));
  r.grads = host_copy(be, p.gradients());
  r.state = host_copy(be, p.state());
  layer.forward(be, B::view(mx), B::view(ye), mode::eval);
  r.y_eval = host_copy(be, B::view(ye));
  return r;
}

// make(on<B>{}) builds the layer for backend B; both copies see the same inputs and seed.
template <class T, class Make>
void compare_layer(Make make, std::size_t rows, std::size_t in, double tol, std::uint64_t seed,
                   mode m = mode::train) {
  cpu host(1);
  cuda gpu;
  auto on_cpu = make(on<cpu>{});
  auto on_gpu = make(on<cuda>{});
  const std::size_t out = on_cpu.out_features(in);
  const auto x = normal_values<T>(rows * in, seed + 1, 1.5, 0.2);
  const auto dy = normal_values<T>(rows * out, seed + 2);
  const auto want = layer_pass(host, on_cpu, x, dy, rows, in, m, seed);
  const auto got = layer_pass(gpu, on_gpu, x, dy, rows, in, m, seed);
  CUDA_CHECK_CLOSE(got.y, want.y, tol);
  CUDA_CHECK_CLOSE(got.dx, want.dx, tol);
  CUDA_CHECK_CLOSE(got.grads, want.grads, tol);
  CUDA_CHECK_CLOSE(got.state, want.state, tol);
  CUDA_CHECK_CLOSE(got.y_eval, want.y_eval, tol);
}

// ---- models: Sequential and Autoencoder through their model interface ----------------------
template <class T>
struct model_result {
  std::vector<T> y, latent, dx, grads, state;
  double loss = 0;
};

// One training step's forward and backward, as fit computes it: mse against the input and,
// for an autoencoder, the latent L1 penalty added between the decoder's and the encoder's
// backward. `state0`, when given, replaces the initial batch-norm statistics.
template <class B, class T, class Model>
model_result<T> model_pass(B& be, Model& model, const std::vector<T>& x, std::size_t rows, mode m,
                           bool backward, double latent_l1, std::uint64_t seed,
                           const std::vector<T>* state0 = nullptr) {
  parameters<B, T> p(be, model, seed);
  if (state0) {
    REQUIRE(state0->size() == p.state_size());
    be.upload(state0->data(), p.state());
  }
  const std::size_t in = model.in_features(), out = model.out_features();
  const auto mx = to_backend(be, x, rows, in);
  const auto y = model.forward(be, B::view(mx), m);
  model_result<T> r;
  r.y = host_copy(be, y);
  auto g = be.template make<T>(rows, out);
  r.loss = mse_loss{}.value_and_grad(be, y, B::view(mx), B::view(g));
  if constexpr (baler::detail::has_latent<Model>::value) r.latent = host_copy(be, model.latent());
  if (backward) {
    auto dx = be.template make<T>(rows, in);
    if constexpr (baler::detail::has_latent<Model>::value) {
      model.backward_decoder(be, B::view(g));
      r.loss += l1_activation_penalty{latent_l1}.value_and_add_grad(be, model.latent(),
                                                                    model.latent_grad(be));
      model.backward_encoder(be, B::view(dx));
    } else {
      model.backward(be, B::view(g), B::view(dx));
    }
    r.dx = host_copy(be, B::view(dx));
    r.grads = host_copy(be, p.gradients());
  }
  r.state = host_copy(be, p.state());
  return r;
}

// Parameter counts of the top-level layers of a Sequential, in buffer order.
template <class Seq>
std::vector<std::size_t> layer_param_counts(const Seq& s) {
  std::vector<std::size_t> counts;
  baler::detail::for_each_index(std::make_index_sequence<Seq::depth>{}, [&](auto i) {
    counts.push_back(s.template layer<decltype(i)::value>().param_count());
  });
  return counts;
}

// Each layer's slice of the flat gradient buffer, compared on its own scale: a layer whose
// gradients are small beside another's is still checked at full sensitivity.
template <class T>
void check_by_layer(const std::vector<T>& got, const std::vector<T>& want,
                    const std::vector<std::size_t>& counts, double tol) {
  std::size_t first = 0;
  for (std::size_t l = 0; l < counts.size(); ++l) {
    if (counts[l] == 0) continue;
    INFO("layer " << l << ": values " << first << " to " << first + counts[l]);
    CUDA_CHECK_CLOSE(slice(got, first, counts[l]), slice(want, first, counts[l]), tol);
    first += counts[l];
  }
  CHECK(first == want.size());
}

template <class Model>
std::vector<std::size_t> autoencoder_param_counts(const Model& model) {
  auto counts = layer_param_counts(model.encoder());
  const auto decoder = layer_param_counts(model.decoder());
  counts.insert(counts.end(), decoder.begin(), decoder.end());
  return counts;
}

// Forward (and backward) of an autoencoder built by make(on<B>{}) on both backends.
template <class T, class Make>
void compare_autoencoder(Make make, std::size_t rows, mode m, bool backward, double latent_l1,
                         double tol, std::uint64_t seed, const std::vector<T>* state0 = nullptr) {
  cpu host(1);
  cuda gpu;
  auto on_cpu = make(on<cpu>{});
  auto on_gpu = make(on<cuda>{});
  const auto x = uniform_values<T>(rows * on_cpu.in_features(), seed + 1, 0.0, 1.0);
  const auto want = model_pass(host, on_cpu, x, rows, m, backward, latent_l1, seed, state0);
  const auto got = model_pass(gpu, on_gpu, x, rows, m, backward, latent_l1, seed, state0);
  CUDA_CHECK_CLOSE(got.y, want.y, tol);
  CUDA_CHECK_CLOSE(got.latent, want.latent, tol);
  CHECK(relative_error(got.loss, want.loss) <= tol);
  CUDA_CHECK_CLOSE(got.state, want.state, tol);
  if (backward) {
    CUDA_CHECK_CLOSE(got.dx, want.dx, tol);
    check_by_layer(got.grads, want.grads, autoencoder_param_counts(on_cpu), tol);
  }
}

}  // namespace

// =============================================================================================

TEST_CASE_TEMPLATE("Dense: forward and backward with every fused activation", T, float, double) {
  const std::size_t rows = 50, in = 37, out = 23;
  const double tol = chain_tolerance<T>(2, std::max({rows, in, out}));
  std::uint64_t seed = 200;
  for_each_activation([&](auto f) {
    using Act = decltype(f);
    INFO("Dense with " << label(f));
    compare_layer<T>(
        [&](auto tag) { return Dense<typename decltype(tag)::backend, T, Act>(in, out, f); }, rows,
        in, tol, seed += 10);
  });
}

TEST_CASE_TEMPLATE("Activation layers: forward, backward, gradient copied to dx", T, float,
                   double) {
  const std::size_t rows = 40, in = 31;
  const double tol = tolerance<T>::elementwise;
  for_each_activation([&](auto f) {
    using Act = decltype(f);
    INFO("Activation " << label(f));
    compare_layer<T>(
        [&](auto tag) { return Activation<typename decltype(tag)::backend, T, Act>(f); }, rows, in,
        tol, 300);
  });
}

TEST_CASE_TEMPLATE("BatchNorm1d: training forward and backward, running statistics, evaluation", T,
                   float, double) {
  // Not 2 rows: there dx is what is left of dy after removing its mean and its projection on
  // xhat, which is almost nothing (the op test judges that case on the scale of the terms).
  for (std::size_t rows : {std::size_t(3), std::size_t(16), std::size_t(700)}) {
    INFO(rows << " rows");
    compare_layer<T>(
        [](auto tag) { return BatchNorm1d<typename decltype(tag)::backend, T>(45, 0.1, 1e-5); },
        rows, 45, chain_tolerance<T>(2, rows), 400);
  }
}

TEST_CASE_TEMPLATE("Conv, ConvTranspose, AvgPool and MaxPool, 2-D and 3-D, stride and padding", T,
                   float, double) {
  const auto g2 = conv_geometry::grid_2d(3, 12, 10, 3, 2, 1);
  const auto g3 = conv_geometry::grid_3d(2, 5, 6, 7, 3, 2, 1);
  const auto up2 = conv_geometry::transposed(conv_geometry::grid_2d(4, 6, 5, 3, 2, 1), 1);
  const auto up3 = conv_geometry::transposed(conv_geometry::grid_3d(2, 3, 3, 4, 2, 2));
  const std::size_t rows = 5;
  const double tol = chain_tolerance<T>(2, 4 * 27);
  compare_layer<T>([&](auto tag) { return Conv2d<typename decltype(tag)::backend, T>(g2, 4); },
                   rows, g2.in_size(), tol, 600);
  compare_layer<T>([&](auto tag) { return Conv3d<typename decltype(tag)::backend, T>(g3, 3); },
                   rows, g3.in_size(), tol, 610);
  compare_layer<T>(
      [&](auto tag) { return ConvTranspose2d<typename decltype(tag)::backend, T>(5, up2); }, rows,
      5 * up2.out_positions(), tol, 620);
  compare_layer<T>(
      [&](auto tag) { return ConvTranspose3d<typename decltype(tag)::backend, T>(3, up3); }, rows,
      3 * up3.out_positions(), tol, 630);
  compare_layer<T>([&](auto tag) { return AvgPool<typename decltype(tag)::backend, T>(g3); }, rows,
                   g3.in_size(), tol, 640);
  compare_layer<T>([&](auto tag) { return MaxPool<typename decltype(tag)::backend, T>(g3); }, rows,
                   g3.in_size(), tol, 650);
}

TEST_CASE_TEMPLATE("Sequential: a small 2-D conv autoencoder", T, float, double) {
  auto make = [](auto tag) {
    using B = typename decltype(tag)::backend;
    const auto down = conv_geometry::grid_2d(1, 16, 16, 3, 2, 1);  // -> 4 x 8 x 8
    const auto pool = conv_geometry::grid_2d(4, 8, 8, 2, 2);       // -> 4 x 4 x 4
    const auto up = conv_geometry::transposed(conv_geometry::grid_2d(1, 8, 8, 3, 2, 1), 1);
    return Sequential<Conv2d<B, T>, LeakyReLU<B, T>, AvgPool<B, T>, Dense<B, T>,
                      Dense<B, T, act::leaky_relu>, ConvTranspose2d<B, T>>(
        256, Conv2d<B, T>(down, 4), LeakyReLU<B, T>(), AvgPool<B, T>(pool), Dense<B, T>(64, 8),
        Dense<B, T, act::leaky_relu>(8, 256), ConvTranspose2d<B, T>(4, up));
  };
  compare_layer<T>(make, 6, 256, chain_tolerance<T>(2 * 6, 256), 650);
}

TEST_CASE_TEMPLATE("Sequential: mixed layers, nested batch norm, dropout with p = 0", T, float,
                   double) {
  // Dropout(0) in training is the identity on both backends, so the whole stack compares.
  auto make = [](auto tag) {
    using B = typename decltype(tag)::backend;
    return Sequential<Dense<B, T, act::leaky_relu>, BatchNorm1d<B, T>, Tanh<B, T>,
                      Dense<B, T, act::sigmoid>, Dropout<B, T>, Dense<B, T, act::relu>,
                      LeakyReLU<B, T>, Dense<B, T, act::tanh>, Sigmoid<B, T>>(
        19, Dense<B, T, act::leaky_relu>(19, 40, act::leaky_relu(0.05)), BatchNorm1d<B, T>(40),
        Tanh<B, T>(), Dense<B, T, act::sigmoid>(40, 30), Dropout<B, T>(0.0),
        Dense<B, T, act::relu>(30, 20), LeakyReLU<B, T>(act::leaky_relu(0.2)),
        Dense<B, T, act::tanh>(20, 10), Sigmoid<B, T>());
  };
  const std::size_t rows = 24;
  compare_layer<T>(make, rows, 19, chain_tolerance<T>(2 * 9, 40), 500);
}

TEST_CASE_TEMPLATE("Baler's AE: forward, latent, loss with the L1 penalty, all gradients", T, float,
                   double) {
  // Baler's HEP model as the trainer runs it: 24 -> 200 -> 100 -> 50 -> 15 and back. A small
  // batch keeps float's chance of a pre-activation so close to 0 that the two backends see
  // different signs of it (and a different LeakyReLU slope) negligible.
  const models::ae_shape shape;  // the defaults
  const double tol = chain_tolerance<T>(2 * 8, 200);
  auto make = [&](auto tag) { return models::make_ae<typename decltype(tag)::backend, T>(shape); };
  compare_autoencoder<T>(make, 16, mode::train, true, 0.05, tol, 600);
  // Forward alone over a large batch: continuous in every value, so any batch size compares.
  compare_autoencoder<T>(make, 2048, mode::eval, false, 0.0, chain_tolerance<T>(8, 200), 610);
}

TEST_CASE_TEMPLATE(
    "AE_Dropout_BN: training with p = 0 (batch norm's batch statistics), "
    "evaluation with p = 0.2 and stored statistics",
    T, float, double) {
  const models::ae_shape shape;
  const double tol = chain_tolerance<T>(2 * 16, 200);
  // Training mode with dropout 0: batch norm normalises with the batch, updates the running
  // statistics and backpropagates through them.
  compare_autoencoder<T>(
      [&](auto tag) {
        return models::make_ae_dropout_bn<typename decltype(tag)::backend, T>(shape, 0.0);
      },
      16, mode::train, true, 0.0, tol, 700);
  // Evaluation with dropout 0.2 (the identity then) and non-trivial running statistics.
  const std::size_t features = 2 * (shape.hidden[0] + shape.hidden[1] + shape.hidden[2]);
  auto state = normal_values<T>(features, 711, 0.1);  // means, then variances:
  const auto variances = uniform_values<T>(features / 2, 712, 0.5, 2.0);
  std::size_t offset = 0;
  for (std::size_t width : shape.hidden) {  // each block's (mean, var) pair of slices
    std::copy(variances.begin() + offset, variances.begin() + offset + width,
              state.begin() + 2 * offset + width);
    offset += width;
  }
  compare_autoencoder<T>(
      [&](auto tag) {
        return models::make_ae_dropout_bn<typename decltype(tag)::backend, T>(shape, 0.2);
      },
      512, mode::eval, false, 0.0, chain_tolerance<T>(16, 200), 720, &state);
}

TEST_CASE_TEMPLATE(
    "Dropout layer on CUDA: identity in evaluation and at p = 0, backward "
    "multiplies by the forward's mask",
    T, float, double) {
  cuda gpu;
  const std::size_t rows = 300, cols = 41;
  const auto x = normal_values<T>(rows * cols, 801), dy = normal_values<T>(rows * cols, 802);
  const auto mx = to_backend(gpu, x, rows, cols);
  auto y = gpu.make<T>(rows, cols), dx = gpu.make<T>(rows, cols);

  Dropout<cuda, T> dropout(0.3);
  parameters<cuda, T> p(gpu, dropout, 5);  // seeds the layer's generator
  dropout.forward(gpu, cuda::view(mx), cuda::view(y), mode::eval);
  CHECK(host_copy(gpu, cuda::view(y)) == x);

  Dropout<cuda, T> none(0.0);
  parameters<cuda, T> q(gpu, none, 5);
  none.forward(gpu, cuda::view(mx), cuda::view(y), mode::train);
  CHECK(host_copy(gpu, cuda::view(y)) == x);
  auto g = to_backend(gpu, dy, rows, cols);
  none.backward(gpu, cuda::view(mx), cv(cuda::view(y)), cuda::view(g), cuda::view(dx));
  CHECK(host_copy(gpu, cuda::view(dx)) == dy);

  // Training: each value dropped (0) or scaled by 1/(1-p); dx = dy * mask at the same places.
  dropout.forward(gpu, cuda::view(mx), cuda::view(y), mode::train);
  const auto ys = host_copy(gpu, cuda::view(y));
  auto g2 = to_backend(gpu, dy, rows, cols);
  dropout.backward(gpu, cuda::view(mx), cv(cuda::view(y)), cuda::view(g2), cuda::view(dx));
  const auto dxs = host_copy(gpu, cuda::view(dx));
  const T keep = T(1.0 / (1.0 - 0.3));
  std::size_t dropped = 0, wrong = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const bool zero = ys[i] == T(0);  // x has no zeros
    dropped += zero;
    wrong += zero ? dxs[i] != T(0) : (ys[i] != x[i] * keep || dxs[i] != dy[i] * keep);
  }
  CHECK(wrong == 0);
  CHECK(dropped > 0.25 * double(x.size()));
  CHECK(dropped < 0.35 * double(x.size()));

  // The next training forward draws a new mask.
  dropout.forward(gpu, cuda::view(mx), cuda::view(y), mode::train);
  CHECK(host_copy(gpu, cuda::view(y)) != ys);
}
