#pragma once
// Saving and loading a model's flat buffers: parameters (PARM) and state (STAT, e.g. batch-norm
// statistics) as raw little-endian values of the model's scalar type, in the checksummed .baler
// container, with a JSON description the caller chooses (the architecture, typically). The
// container's format version versions this layout; "scalar" and the sizes are checked on load,
// so weights never land in a model of another shape or type.
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/format/container.hpp"
#include "baler/nn/parameters.hpp"

namespace baler {

template <class T>
constexpr const char* scalar_name() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "weights are float or double");
  return std::is_same_v<T, float> ? "f32" : "f64";
}

// The two sections that hold a model's buffers: PARM (parameters) and STAT (state).
template <class B, class T>
std::vector<format::section> weight_sections(B& be, const parameters<B, T>& p) {
  auto raw = [&](const_view<T> v) {
    std::vector<T> host(v.size());
    be.download(v, host.data());
    std::vector<std::byte> bytes(v.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), host.data(), bytes.size());  // empty: null pointers
    return bytes;
  };
  return {{"PARM", raw(p.values())}, {"STAT", raw(p.state())}};
}

// Loads PARM and STAT of `c` into `p`, whose model must have the saved shape.
template <class B, class T>
void load_weight_sections(B& be, const format::container& c, parameters<B, T>& p, const char* where) {
  auto load = [&](const std::string& kind, matrix_view<T> dst) {
    const auto& payload = c.get(kind).payload;
    require(payload.size() == dst.size() * sizeof(T), where,
            "section " + kind + " has " + std::to_string(payload.size()) + " bytes, the model needs " +
                std::to_string(dst.size() * sizeof(T)));
    std::vector<T> host(dst.size());
    if (!host.empty()) std::memcpy(host.data(), payload.data(), payload.size());  // empty: null pointers
    be.upload(host.data(), dst);
  };
  load("PARM", p.values());
  load("STAT", p.state());
}

template <class B, class T>
std::vector<std::byte> save_weights(B& be, const parameters<B, T>& p, nlohmann::json description = {}) {
  format::container c;
  c.header = {{"kind", "baler.weights"}, {"scalar", scalar_name<T>()}, {"parameters", p.size()},
              {"state", p.state_size()}, {"description", std::move(description)}};
  c.sections = weight_sections(be, p);
  return format::serialize(c);
}

// Loads into `p`, whose model must have the saved shape; returns the saved description.
template <class B, class T>
nlohmann::json load_weights(B& be, byte_view bytes, parameters<B, T>& p) {
  const char* where = "load_weights";
  const format::container c = format::parse(bytes);
  const nlohmann::json& h = c.header;
  require(h.value("kind", "") == "baler.weights", where, "not a weights file");
  require(h.value("scalar", "") == scalar_name<T>(), where,
          "the weights are " + h.value("scalar", std::string("?")) + ", the model is " + scalar_name<T>());
  const std::size_t params = format::header_size(h.value("parameters", nlohmann::json(0)), "the parameter count");
  require(params == p.size() && format::header_size(h.value("state", nlohmann::json(0)), "the state size") == p.state_size(),
          where, "the file holds " + std::to_string(params) + " parameters, the model has " + std::to_string(p.size()));
  load_weight_sections(be, c, p, where);
  return h.value("description", nlohmann::json{});
}

}  // namespace baler
