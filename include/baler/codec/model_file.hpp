#pragma once
// A trained model and what it needs beside its weights: which columns it models and how they
// are normalised. It is written whole to a model file (.balermodel: all parameters, to train
// on or to compress many files with), or as its decoder half inside a compressed file.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/codec/schema.hpp"
#include "baler/codec/options.hpp"
#include "baler/codec/quantised.hpp"
#include "baler/codec/table.hpp"
#include "baler/codec/tiling.hpp"
#include "baler/format/checksum.hpp"
#include "baler/format/container.hpp"
#include "baler/format/latent_dtype.hpp"
#include "baler/models/baler_ae.hpp"
#include "baler/models/conv_ae.hpp"
#include "baler/nn/parameters.hpp"
#include "baler/nn/weights_file.hpp"
#include "baler/optim/adam.hpp"
#include "baler/train/trainer.hpp"

namespace baler::codec {

// The network's inputs for a table: its modelled columns, normalised, (rows x modelled) in T.
template <class T>
std::vector<T> network_inputs(const table& t, const model_schema& s) {
  const std::size_t m = s.modelled.size();
  std::vector<T> x(t.rows * m);
  for (std::size_t r = 0; r < t.rows; ++r)
    for (std::size_t k = 0; k < m; ++k)
      x[r * m + k] = T(s.normalisers[k].forward(t.values[r * t.cols + s.modelled[k]]));
  return x;
}

// A modelled value the normalisation cannot map (<= 0 in a log column fitted on positive
// data) would make a NaN latent and a whole row of garbage: refuse it, naming it.
template <class T>
void require_finite_inputs(const std::vector<T>& x, const table& t, const model_schema& s) {
  const std::size_t m = s.modelled.size();
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]))
      throw error("Codec::compress(): column '" + t.names[s.modelled[i % m]] + "' at row " +
                  std::to_string(i / m) + " holds " +
                  std::to_string(t.values[(i / m) * t.cols + s.modelled[i % m]]) +
                  ", which the model's normalisation cannot map (a log column needs values > 0)");
}

// Weights and biases of the decoder half of an autoencoder of shape a, dense or convolutional.
inline double decoder_params(const models::ae_shape& a) {
  return a.convolutional() ? models::conv_ae_decoder_params(a) : models::ae_decoder_params(a);
}

// The model's shape when the options leave it open: Baler's latent of half the modelled columns
// (at most 64: a wide field gains nothing from a latent wider than its row count allows) and
// Baler's widths 200-100-50, scaled down together until the stored decoder takes at most a
// quarter of the input's bytes. A decoder as large as the data compresses nothing: Baler's CFD
// example shipped a ~600 MB decoder for 1.2 MB of data.
inline models::ae_shape default_shape(std::size_t m, std::size_t input_bytes, const codec_options& o) {
  models::ae_shape a{m, o.latent ? o.latent : std::min<std::size_t>((m + 1) / 2, 64), o.hidden, o.slope};
  if (o.hidden[0] != 0) return a;
  // Quantised weights are sized as f16: how few bytes they take depends on the trained model.
  const std::size_t weight_bytes = o.weights_type == latent_dtype::q ? 2 : bytes_per_value(o.weights_type);
  const double budget = 0.25 * double(input_bytes) / double(weight_bytes);
  for (double scale = 1.0;; scale *= 0.9) {
    a.hidden = {std::max<std::size_t>(8, std::size_t(200 * scale)),
                std::max<std::size_t>(4, std::size_t(100 * scale)),
                std::max<std::size_t>(2, std::size_t(50 * scale))};
    if (decoder_params(a) <= budget || a.hidden[0] == 8) return a;
  }
}

// The conv architecture's shape for tiles `tile` (conv_ae.hpp) when the options leave it open:
// a latent of 8 per frame and 8 channels in every convolution, a decoder of a few thousand
// parameters for 50 x 50 frames. `hidden` sets the channels, `latent` the latent.
inline models::ae_shape conv_shape(std::size_t m, const std::vector<std::size_t>& tile,
                                   const codec_options& o) {
  require(m <= model_schema::max_field, "Codec::train",
          "a conv frame or block holds at most 2^24 values: choose a smaller --tile");
  models::ae_shape a{m, o.latent ? o.latent : 8, o.hidden, o.slope, conv_frame(tile)};
  if (o.hidden[0] == 0) a.hidden = {8, 8, 8};
  models::require_conv_shape(a);
  return a;
}

template <class B, class Model>
struct trained_model {
  using T = typename Model::value_type;
  using traits = models::model_traits<Model>;
  static constexpr const char* scalar_name = baler::scalar_name<T>();

  B* be;  // where the parameters live
  models::ae_shape arch;
  std::vector<std::size_t> tile;  // the patch or conv architecture's tile (tiling.hpp); empty: dense
  model_schema schema;
  std::unique_ptr<Model> model;  // the dense and patch architectures' network
  std::unique_ptr<models::ConvAE<B, T>> conv;  // the conv architecture's (arch.convolutional())
  std::unique_ptr<parameters<B, T>> params;   // both null when no column is modelled
  train_history history;

  // A new, untrained model for `s`; input_bytes (the training data as stored) sizes it. A conv
  // model (a field schema, plan_field) takes its frame from `tile_of_data`.
  trained_model(B& be, model_schema s, const codec_options& o, std::size_t input_bytes,
                std::vector<std::size_t> tile_of_data = {})
      : be(&be), tile(std::move(tile_of_data)), schema(std::move(s)) {
    arch = schema.field ? conv_shape(schema.modelled.size(), tile, o)
                        : default_shape(schema.modelled.size(), input_bytes, o);
    build(be, o.seed);
  }
  // A model of a stored architecture (weights loaded by the caller). The architecture comes
  // from a file: it must fit the schema and stay within sizes a real model has.
  trained_model(B& be, model_schema s, models::ae_shape a)
      : be(&be), arch(a), schema(std::move(s)) {
    require(a.features == schema.modelled.size() && a.latent > 0 &&
                a.hidden[0] > 0 && a.hidden[1] > 0 && a.hidden[2] > 0 &&
                decoder_params(a) < 1e10,
            "load_model", "the stored architecture does not fit its column description");
    build(be, 0);
  }

  bool has_network() const { return model || conv; }
  // f(network): the dense or the convolutional Autoencoder, whichever this model has.
  template <class F>
  decltype(auto) visit(F&& f) const {
    require(has_network(), "trained_model", "no network: no column is modelled");
    return conv ? f(*conv) : f(*model);
  }

  void fit(B& be, const std::vector<T>& x, std::size_t rows, const codec_options& o) {
    Adam<B, T> opt(adam_options{o.learning_rate, 0.9, 0.999, 1e-8, o.weight_decay,
                                o.weight_decay > 0});
    train_options to;
    to.epochs = o.epochs;
    to.batch_size = o.batch_size ? o.batch_size : std::clamp<std::size_t>(rows / 16, 8, 512);
    to.validation_fraction = rows >= 20 ? o.validation_fraction : 0.0;
    to.seed = o.seed;
    to.latent_l1 = o.latent_l1;
    to.schedule = lr_schedule::parse(o.schedule);
    to.schedule.total_epochs = o.epochs;
    to.early_stopping_patience = o.early_stopping_patience;
    to.on_epoch = o.on_epoch;
    to.parallel = o.parallel;
    history = visit([&](auto& net) {
      return baler::fit(be, net, *params, opt, x.data(), rows, arch.features, to);
    });
  }

  // Identifies the weights, so that a file compressed with a separate model finds its own.
  std::uint32_t id() const {
    if (!params) return 0;
    const auto v = host(params->values());
    return crc32_of(byte_view(reinterpret_cast<const std::byte*>(v.data()), v.size() * sizeof(T)));
  }

  // The "model" block of a compressed file's header.
  // A patch or conv model adds its tile; files without one (all older files) are dense.
  nlohmann::json describe(latent_dtype weights, bool embedded) const {
    nlohmann::json j = {{"name", name_of(arch)}, {"scalar", scalar_name},
                        {"arch", models::to_json(arch)}, {"schema", schema.to_json()},
                        {"embedded", embedded}, {"weights_dtype", baler::name(weights)},
                        {"id", id()}};
    if (!tile.empty()) j["tile"] = tile;
    return j;
  }
  // The tile describe() wrote into a model block `j` (none: dense).
  static std::vector<std::size_t> tile_of(const nlohmann::json& j) {
    return j.contains("tile") ? format::header_sizes(j["tile"], "a model's tile") : std::vector<std::size_t>{};
  }

  // The decoder's parameters then its state: what DECW stores.
  std::vector<float> decoder_values() const {
    const auto p = host(params->values()), st = host(params->state());
    const auto [param_offset, state_offset] = decoder_offsets();
    std::vector<float> w(p.begin() + param_offset, p.end());
    w.insert(w.end(), st.begin() + state_offset, st.end());
    return w;
  }
  // Replaces the decoder's parameters and state by w (decoder_values' layout).
  void set_decoder_values(const std::vector<float>& w) {
    const auto [param_offset, state_offset] = decoder_offsets();
    std::vector<T> p = host(params->values()), st = host(params->state());
    const std::size_t np = p.size() - param_offset;
    require(w.size() == np + st.size() - state_offset, "trained_model", "decoder values of the wrong count");
    std::copy(w.begin(), w.begin() + std::ptrdiff_t(np), p.begin() + std::ptrdiff_t(param_offset));
    std::copy(w.begin() + std::ptrdiff_t(np), w.end(), st.begin() + std::ptrdiff_t(state_offset));
    be->upload(p.data(), params->values());
    be->upload(st.data(), params->state());
  }

  // The DECW section: the decoder's values as `weights` values; quantised (q) within `bound`
  // times their range, as one column (quantised.hpp).
  std::vector<std::byte> decoder_weights(latent_dtype weights, double bound = 0) const {
    const std::vector<float> w = decoder_values();
    if (weights == latent_dtype::q) return encode_quantised(w, w.size(), 1, bound);
    return encode_latent(w.data(), w.size(), weights, half_values::decoder_weights);
  }

  // Rebuilds a model whose decoder comes from a compressed file (the encoder stays untrained).
  static trained_model from_description(B& be, const nlohmann::json& j, byte_view decw) {
    check_type(j, "Codec::decompress");
    const auto dt = parse_latent_dtype(j.at("weights_dtype").get<std::string>());
    const models::ae_shape a = models::ae_shape_from_json(j.at("arch"));
    // Checked before the model is built, so that a crafted architecture allocates nothing. A
    // quantised weight codes to a few bits; 64 in a byte is far beyond any trained decoder.
    const double values_per_byte = dt == latent_dtype::q ? 64.0 : 1.0 / double(bytes_per_value(dt));
    require(decoder_params(a) <= values_per_byte * double(decw.size), "Codec::decompress",
            "the decoder weights section is smaller than the stored architecture needs");
    trained_model t(be, model_schema::from_json(j.at("schema")), a);
    t.tile = tile_of(j);
    const auto [param_offset, state_offset] = t.decoder_offsets();
    const std::size_t n = t.params->size() - param_offset + t.params->state_size() - state_offset;
    t.set_decoder_values(dt == latent_dtype::q ? decode_quantised(decw, n, 1) : decode_latent(decw, n, dt));
    return t;
  }

  // A model file: the whole model (both halves, full precision) and its training summary.
  std::vector<std::byte> serialize() const {
    format::container c;
    c.header["kind"] = "baler.model";
    c.header["model"] = describe(latent_dtype::f32, true);
    c.header["model"].erase("weights_dtype");  // PARM holds the parameters in their own type
    c.header["model"].erase("embedded");
    nlohmann::json epochs = nlohmann::json::array();
    for (const auto& e : history.epochs)
      epochs.push_back({e.train_loss, e.validation_loss, e.learning_rate});
    c.header["training"] = {{"best_epoch", history.best_epoch},
                            {"stopped_early", history.stopped_early},
                            {"epochs", epochs}};  // [train loss, validation loss, lr] per epoch
    if (params) c.sections = weight_sections(*be, *params);
    return format::serialize(c);
  }

  static trained_model parse(B& be, byte_view bytes) {
    const format::container c = format::parse(bytes);
    require(c.header.value("kind", "") == "baler.model", "load_model",
            "not a baler model file (kind '" + c.header.value("kind", "") + "')");
    try {
      const nlohmann::json& j = c.header.at("model");
      check_type(j, "load_model");
      trained_model t(be, model_schema::from_json(j.at("schema")),
                      models::ae_shape_from_json(j.at("arch")));
      t.tile = tile_of(j);
      if (t.params) load_weight_sections(be, c, *t.params, "load_model");
      for (const auto& e : c.header.at("training").at("epochs"))
        t.history.epochs.push_back({t.history.epochs.size(), e.at(0).get<double>(),
                                    e.at(1).get<double>(), e.at(2).get<double>(), 0.0});
      t.history.best_epoch = format::header_size(c.header.at("training").at("best_epoch"), "the best epoch");
      return t;
    } catch (const nlohmann::json::exception& e) {
      throw error(std::string("load_model(): the model file's header is malformed: ") + e.what());
    }
  }

private:
  void build(B& be, std::uint64_t seed) {
    if (schema.modelled.empty()) return;
    require(arch.convolutional() == schema.field, "trained_model",
            "a conv model goes with a field schema (plan_field), a dense one with columns");
    if (arch.convolutional())
      conv = std::make_unique<models::ConvAE<B, T>>(models::make_conv_ae<B, T>(arch));
    else
      model = std::make_unique<Model>(traits::make(arch));
    visit([&](auto& net) { params = std::make_unique<parameters<B, T>>(be, net, seed); });
  }
  std::pair<std::size_t, std::size_t> decoder_offsets() const {
    return visit([](auto& net) {
      return std::pair<std::size_t, std::size_t>(net.decoder_param_offset(), net.decoder_state_offset());
    });
  }
  // The codec's Model for the dense architectures, ConvAE for the conv one.
  static std::string name_of(const models::ae_shape& a) {
    return a.convolutional() ? models::conv_ae_name : traits::name;
  }
  static void check_type(const nlohmann::json& j, const char* where) {
    const std::string expected = name_of(models::ae_shape_from_json(j.at("arch")));
    require(j.at("name").get<std::string>() == expected &&
                j.at("scalar").get<std::string>() == scalar_name,
            where, "the file's model is " + j.at("name").get<std::string>() + " in " +
                       j.at("scalar").get<std::string>() + "; this codec decodes " + expected +
                       " in " + scalar_name);
  }
  std::vector<T> host(const_view<T> view) const {
    std::vector<T> out(view.size());
    be->download(view, out.data());
    return out;
  }
};

}  // namespace baler::codec
