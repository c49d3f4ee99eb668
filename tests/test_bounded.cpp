// The error-bounded component (include/baler/bounded/): the context coder, every walk and
// predictor with every kind of bound on hard values (residuals requantised too), what each
// context or predictor is for (the phase, lengths per sign, two frames deep, content that moves, the line through
// two rows), the histogram
// coder (alone, per partner bucket and mixed from several, counting a stationary column), exact integer columns, the
// formula search, the choice of predictors on real data, files of earlier coders, and refusals
// (a field with per-column bounds, predictions that came out differently on the decoding
// machine, crafted descriptions).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <random>
#include <set>
#include <limits>
#include <string>
#include <tuple>

#include "baler/backend/cpu.hpp"
#include "baler/bounded/compressor.hpp"
#include "baler/codec/codec.hpp"
#include "baler/codec/error_bounded.hpp"
#include "baler/metrics/bound_check.hpp"
#include "test_bounded_support.hpp"

using namespace baler;
using namespace baler::bounded;
using namespace baler::testing;

namespace {

dataset shared(const std::string& rel) { return load_dataset(std::string(BALER_SHARED_DATA) + "/" + rel); }

// codec::compress_error_bounded, keeping the codec's report of every block in `rep`.
std::vector<std::byte> compress_reporting(const dataset& d, const bound_config& bc, report& rep,
                                          codec::codec_options o = {}) {
  o.error_bound = bc;
  cpu be(1);
  codec::Codec<cpu, models::AE<cpu, float>> coder(be, o);
  coder.train(d);
  std::vector<std::byte> file = coder.compress(d);
  rep = coder.bounded_report();
  return file;
}

// Encodes x with the walk, decodes it again, checks the decoder saw what the encoder promised
// and the bound on every value; returns the block's size.
// `coarse` > 1: residuals requantised (block.hpp), under the same bound on a finer step.
template <class Walk>
std::size_t round_trip(const std::vector<double>& x, const codec::value_code& bound_code, bool f32, const Walk& walk,
                       const bound_spec& b, double lo, double hi, std::int64_t coarse = 1) {
  const dtype out = f32 ? dtype::f32 : dtype::f64;
  const codec::value_code code = coarse > 1 ? requantised_code(bound_code, coarse) : bound_code;
  quantised q = quantise(x.data(), x.size(), code, out, coarse);
  const std::vector<std::int64_t> codes = q.k;
  // Lent to the walk: given back as they were, or (requantised here) spent.
  const codes_after after = coarse > 1 ? codes_after::spent : codes_after::kept;
  const block_result r = encode_block(x.data(), q, code, walk, after);
  CHECK(q.k == (after == codes_after::kept ? codes : std::vector<std::int64_t>{}));
  codec::rans::reader in{byte_view(r.bytes)};
  const std::vector<double> y = decode_block(in, x.size(), code, walk, coarse);
  CHECK(in.pos == r.bytes.size());
  if (coarse == 1) CHECK(y == reconstruct(x.data(), q, code));
  check_within(x, y, b, lo, hi, f32);
  return r.bytes.size();
}

std::vector<double> smooth_field(std::size_t nt, std::size_t ny, std::size_t nx) {
  std::vector<double> v;
  for (std::size_t t = 0; t < nt; ++t)
    for (std::size_t y = 0; y < ny; ++y)
      for (std::size_t x = 0; x < nx; ++x)
        v.push_back(std::sin(0.11 * double(x) + 0.05 * double(t)) * std::cos(0.07 * double(y)) + 0.3 * double(y) / double(ny));
  return v;
}

}  // namespace

TEST_CASE("context coder: residuals of every size round trip under every context") {
  rng gen(3);
  std::vector<std::int64_t> s = {0, 1, -1, 2, -2, 3, 255, 256, -257, std::numeric_limits<std::int64_t>::max(),
                                 std::numeric_limits<std::int64_t>::min(), std::int64_t(1) << 52, -(std::int64_t(1) << 62)};
  for (int i = 0; i < 50000; ++i) s.push_back(std::int64_t(std::round(gen.normal() * (i % 9 == 0 ? 1e7 : 2))));
  for (bool signed_lengths : {false, true}) {  // lengths shared by both signs, or per sign
    INFO("signed lengths: " << signed_lengths);
    residual_model enc_model(24, 0, signed_lengths), dec_model(24, 0, signed_lengths);
    rc::encoder e;
    for (std::size_t i = 0; i < s.size(); ++i) {
      enc_model.encode_sign(e, unsigned(i % 3));
      enc_model.encode(e, s[i], unsigned(i % 24));
    }
    const std::vector<std::byte> bytes = e.finish();
    rc::decoder d{byte_view(bytes)};
    for (std::size_t i = 0; i < s.size(); ++i) {
      REQUIRE(dec_model.decode_sign(d) == i % 3);
      REQUIRE(dec_model.decode(d, unsigned(i % 24)) == s[i]);
    }
    CHECK_FALSE(d.overran());
    // Mostly small residuals code well below the 8 bytes they occupy.
    CHECK(bytes.size() < s.size() * 2);
    // A stream cut short is noticed.
    rc::decoder cut{byte_view(bytes.data(), bytes.size() / 2)};
    residual_model m(24, 0, signed_lengths);
    for (std::size_t i = 0; i < s.size(); ++i) m.decode_sign(cut), m.decode(cut, unsigned(i % 24));
    CHECK(cut.overran());
  }
}

TEST_CASE("every walk: abs, range and rel hold on hard values in float32 and float64") {
  const grid3 g{30, 10, 10};
  for (bool f32 : {false, true})
    for (const char* spec : {"abs:1e-3", "abs:1e-300", "range:1e-3", "range:1e-6", "rel:1e-3", "rel:1e-6"}) {
      INFO(spec << (f32 ? " f32" : " f64"));
      const std::vector<double> x = hard_values(7, 3000, f32);
      const bound_spec b = codec::parse_bound(spec);
      const codec::column_stats st = codec::analyse(x.data(), x.size(), 1, 0, 0);
      const codec::value_code code = codec::code_for(b, st.min, st.max, false);
      const quantised q = quantise(x.data(), x.size(), code, f32 ? dtype::f32 : dtype::f64);
      std::vector<std::int64_t> shifted(q.k);
      for (auto& k : shifted) k += 3;
      // Raster walks in both neighbourhoods, on 3 axes and on 2 (where the 2-D taps differ).
      for (neighbourhood h : {neighbourhood::narrow, neighbourhood::wide})
        for (grid3 raster : {g, grid3{1, 60, 50}}) {
          round_trip(x, code, f32, lorenzo_walk{raster, false, h}, b, st.min, st.max);
          round_trip(x, code, f32, lorenzo_walk{raster, true, h}, b, st.min, st.max);
          causal_walk causal = causal_walk::fit(raster, q.k);
          causal.hood = h;
          causal_deep_walk deep = causal_deep_walk::fit(raster, q.k);
          deep.hood = h;
          for (bool phased : {false, true}) {  // contexts with and without the rounding's phase
            causal.phased = deep.phased = phased;
            round_trip(x, code, f32, causal, b, st.min, st.max);
            round_trip(x, code, f32, deep, b, st.min, st.max);
          }
        }
      for (bool phased : {false, true}) {
        for (interpolation m : {interpolation::linear, interpolation::cubic})
          round_trip(x, code, f32, interpolation_walk{g, m, {}, phased}, b, st.min, st.max);
        interpolation_walk learned = interpolation_walk::fit(g, q.k);
        learned.phased = phased;
        round_trip(x, code, f32, learned, b, st.min, st.max);
      }
      for (bool fine : {false, true})  // coders "context_signed" and "context"
        round_trip(x, code, f32, sequence_walk{sequence_walk::by::constant, 5, nullptr, x.size(), nullptr, fine}, b,
                   st.min, st.max);
      round_trip(x, code, f32, sequence_walk{sequence_walk::by::previous, 0, nullptr, x.size()}, b, st.min, st.max);
      round_trip(x, code, f32, sequence_walk{sequence_walk::by::values, 0, &shifted, x.size()}, b, st.min, st.max);
      const std::vector<std::uint8_t> partner = buckets_of(x, quantile_edges(x));
      round_trip(x, code, f32, sequence_walk{sequence_walk::by::previous, 0, nullptr, x.size(), &partner}, b, st.min, st.max);
    }
}

TEST_CASE("requantised residuals: every field walk holds abs and range bounds, the factor is needed to decode") {
  const grid3 g{30, 10, 10};
  CHECK(rounded_quotient(7, 2) == 4);  // halves up
  CHECK(rounded_quotient(-7, 2) == -3);
  CHECK(rounded_quotient(-9, 2) == -4);
  CHECK(rounded_quotient(-100, 64) == -2);
  CHECK(rounded_quotient(31, 64) == 0);
  CHECK(rounded_quotient(32, 64) == 1);
  for (bool f32 : {false, true})
    for (const char* spec : {"abs:1e-3", "abs:1e-300", "range:1e-2", "range:1e-6"})
      for (std::int64_t coarse : {std::int64_t(2), std::int64_t(3), requantise_factor}) {
        INFO(spec << (f32 ? " f32" : " f64") << " x" << coarse);
        // Hard values, and a smooth field where most residuals requantise to 0.
        std::vector<double> smooth = smooth_field(30, 10, 10);
        if (f32)
          for (double& v : smooth) v = double(float(v));
        for (const std::vector<double>& x : {hard_values(7, 3000, f32), smooth}) {
          const bound_spec b = codec::parse_bound(spec);
          const codec::column_stats st = codec::analyse(x.data(), x.size(), 1, 0, 0);
          const codec::value_code code = codec::code_for(b, st.min, st.max, false);
          const quantised q = quantise(x.data(), x.size(), requantised_code(code, coarse), dtype::f64, coarse);
          round_trip(x, code, f32, lorenzo_walk{g, false}, b, st.min, st.max, coarse);
          for (bool graded : {false, true}) {  // the factor as it is, or halved per level above the finest
            round_trip(x, code, f32, interpolation_walk{g, interpolation::cubic, {}, true, graded}, b, st.min, st.max,
                       coarse);
            interpolation_walk learned = interpolation_walk::fit(g, q.k);
            learned.graded = graded;
            round_trip(x, code, f32, learned, b, st.min, st.max, coarse);
          }
          round_trip(x, code, f32, causal_deep_walk::fit(g, q.k), b, st.min, st.max, coarse);
        }
      }
  // The error follows the prediction: on a smooth field at a loose bound its rms is well below
  // that of plain codes (uniform over a step, bound / sqrt(3)). Read without the factor, the
  // values are others, or the stream does not fit.
  const grid3 big{8, 64, 64};
  const std::vector<double> x = smooth_field(big[0], big[1], big[2]);
  const interpolation_walk walk{big, interpolation::cubic, {}, true};
  const codec::value_code plain = codec::code_for(codec::parse_bound("abs:0.01"), -2, 2, false);
  auto rms_of = [&](const std::vector<double>& y) {
    double squares = 0;
    for (std::size_t i = 0; i < x.size(); ++i) squares += (y[i] - x[i]) * (y[i] - x[i]);
    return std::sqrt(squares / double(x.size()));
  };
  const codec::value_code code = requantised_code(plain, 64);
  quantised q = quantise(x.data(), x.size(), code, dtype::f64, 64);
  const block_result r = encode_block(x.data(), q, code, walk);
  codec::rans::reader in{byte_view(r.bytes)}, again{byte_view(r.bytes)};
  const std::vector<double> y = decode_block(in, x.size(), code, walk, 64);
  const double uniform = rms_of(reconstruct(x.data(), quantise(x.data(), x.size(), plain, dtype::f64), plain));
  CHECK(uniform > 0.95 * 0.01 / std::sqrt(3.0));
  CHECK(rms_of(y) < 0.85 * uniform);
  auto differs = [&](codec::rans::reader& other, const interpolation_walk& w, std::int64_t coarse,
                     const std::vector<double>& from) {
    try {
      return decode_block(other, x.size(), code, w, coarse) != from;
    } catch (const error&) {
      return true;
    }
  };
  CHECK(differs(again, walk, 1, y));
  // Graded, the coarse levels on finer steps: the finer levels are predicted better, and the
  // error falls further. Its stream read without the grading gives other values.
  interpolation_walk graded = walk;
  graded.graded = true;
  CHECK(graded.coarse_shift(0) == graded.levels());
  CHECK(graded.coarse_shift(1) == 0);
  CHECK(graded.coarse_shift(3) == 2);
  CHECK(graded_coarse(64, 2) == 16);
  CHECK(graded_coarse(64, 9) == 1);
  CHECK(graded_coarse(64, 100) == 1);
  quantised qg = quantise(x.data(), x.size(), code, dtype::f64, 64);
  const block_result rg = encode_block(x.data(), qg, code, graded, codes_after::spent);
  codec::rans::reader gin{byte_view(rg.bytes)}, ungraded{byte_view(rg.bytes)};
  const std::vector<double> yg = decode_block(gin, x.size(), code, graded, 64);
  check_within(x, yg, codec::parse_bound("abs:0.01"), -2, 2, false);
  CHECK(rms_of(yg) < 0.9 * rms_of(y));
  CHECK(differs(ungraded, walk, 64, yg));
}

TEST_CASE("the fast paths give what the plain arithmetic gives: shifts, abs codes into floats, 32-bit taps") {
  // A power-of-two factor divides by a shift: the same rounded quotient as the division.
  rng gen(11);
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t k = std::int64_t(1) << int(gen.uniform(0, 20)), d = std::int64_t(gen.normal() * 1e6);
    const std::int64_t a = 2 * d + k, b = 2 * k, floor_ab = a >= 0 ? a / b : -((-a + b - 1) / b);
    REQUIRE(rounded_quotient(d, k) == floor_ab);
  }
  // Abs codes into float32 or float64 (quantise's own loop): each value's code and whether it
  // has one as value_code says, on values that break quantisers, NaN and Inf among them.
  std::vector<double> x = hard_values(5, 4000, false);
  for (double v : {std::nan(""), double(INFINITY), -double(INFINITY), 4.5e15, -4.5e15, 1e300}) x.push_back(v);
  for (const char* spec : {"abs:1e-3", "abs:1", "abs:1e-300"})
    for (dtype out : {dtype::f64, dtype::f32}) {
      INFO(spec);
      const codec::value_code code = codec::code_for(codec::parse_bound(spec), -10, 10, false);
      const quantised q = quantise(x.data(), x.size(), code, out);
      std::size_t without = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        std::int64_t k = 0;
        const bool has = code.encode(x[i], k) && code.within(x[i], code.decode(k, 1), out);
        REQUIRE(q.has[i] == has);
        REQUIRE(q.k[i] == (has ? k : 0));
        without += !has;
      }
      CHECK(without >= 3);  // NaN and the infinities at least
    }
  // A causal walk's northern taps summed with 32-bit products while every code before the row
  // fits, with 64-bit ones after: each prediction as one point's own sum gives it, across codes
  // that pass 2^31 halfway down the field.
  const grid3 g{1, 40, 37};
  std::vector<std::int64_t> codes(g[1] * g[2]);
  for (std::size_t i = 0; i < codes.size(); ++i)
    codes[i] = std::int64_t(gen.normal() * 1e3) + (i > codes.size() / 2 ? (std::int64_t(1) << 33) : 0);
  causal_deep_walk walk{g};
  for (auto& w : walk.w) w = std::int32_t(gen.uniform(-70000, 70000));
  walk_state s{std::vector<std::int64_t>(codes)};
  std::size_t compared = 0;
  walk(s, [&](std::size_t i, std::int64_t p, unsigned) {
    causal_deep_walk::tap_offsets back;
    if (!walk.taps_at(0, i / g[2], i % g[2], back)) return;
    unsigned quarter;
    REQUIRE(p == fixed_point_dot(walk.w, codes.data() + i, back, quarter));
    ++compared;
  });
  CHECK(compared > codes.size() / 2);
}

TEST_CASE("interpolation visits every point once, on any grid, and beats Lorenzo on a smooth field") {
  for (grid3 g : {grid3{1, 1, 1}, grid3{1, 1, 7}, grid3{1, 13, 5}, grid3{9, 1, 4}, grid3{5, 17, 33}})
    for (bool phased : {false, true}) {
      interpolation_walk w{g, interpolation::cubic, {}, phased};
      walk_state s(g[0] * g[1] * g[2]);
      std::vector<int> seen(s.k.size(), 0);
      w(s, [&](std::size_t i, std::int64_t, unsigned c) {
        REQUIRE(i < seen.size());
        CHECK(c < w.contexts());
        ++seen[i];
      });
      for (int n : seen) CHECK(n == 1);
    }
  const grid3 g{8, 64, 64};
  const std::vector<double> x = smooth_field(8, 64, 64);
  const bound_spec b = codec::parse_bound("abs:1e-5");
  const codec::value_code code = codec::code_for(b, -2, 2, false);
  const quantised q = quantise(x.data(), x.size(), code, dtype::f64);
  const std::size_t lorenzo = round_trip(x, code, false, lorenzo_walk{g, false}, b, 0, 0);
  const std::size_t cubic = round_trip(x, code, false, interpolation_walk{g, interpolation::cubic, {}}, b, 0, 0);
  const std::size_t learned = round_trip(x, code, false, interpolation_walk::fit(g, q.k), b, 0, 0);
  const std::size_t causal = round_trip(x, code, false, causal_walk::fit(g, q.k), b, 0, 0);
  MESSAGE("smooth field: lorenzo " << lorenzo << ", cubic " << cubic << ", learned " << learned << ", causal "
                                   << causal << " bytes");
  CHECK(cubic < lorenzo);
  CHECK(learned < lorenzo);
  CHECK(causal < lorenzo);
  // The estimate that chooses predictors ranks them as the coder does here.
  CHECK(estimate_bytes(interpolation_walk{g, interpolation::cubic, {}}, q) < estimate_bytes(lorenzo_walk{g, false}, q));
}

TEST_CASE("a causal predictor two frames deep follows an oscillation that one frame back cannot") {
  // Every point oscillates with its own amplitude and phase, so its neighbours in the frame say
  // little; each frame is 2 cos(0.3) times the one before minus the one before that.
  const grid3 g{24, 40, 40};
  rng gen(11);
  std::vector<double> amplitude(g[1] * g[2]), phase(g[1] * g[2]), x;
  for (std::size_t p = 0; p < amplitude.size(); ++p)
    amplitude[p] = gen.uniform(0.5, 1), phase[p] = gen.uniform(0, 6.28);
  for (std::size_t t = 0; t < g[0]; ++t)
    for (std::size_t p = 0; p < amplitude.size(); ++p) x.push_back(amplitude[p] * std::sin(0.3 * double(t) + phase[p]));
  const bound_spec b = codec::parse_bound("abs:1e-3");
  const codec::value_code code = codec::code_for(b, -1, 1, false);
  const quantised q = quantise(x.data(), x.size(), code, dtype::f64);
  const std::size_t one = round_trip(x, code, false, causal_walk::fit(g, q.k), b, 0, 0);
  const std::size_t two = round_trip(x, code, false, causal_deep_walk::fit(g, q.k), b, 0, 0);
  MESSAGE("causal " << one << " bytes, causal_deep " << two);
  CHECK(two < 0.75 * one);
}

// A view panning across a scene of short waves: frame t shows the scene from row t * pan[0] and
// column t * pan[1] on (so its content moves by minus that a frame), with noise of `noise`.
std::vector<double> panning_frames(const grid3& g, std::array<int, 2> pan, double noise, std::uint64_t seed) {
  rng gen(seed);
  std::array<double, 12> a{}, b{}, c{};
  for (std::size_t j = 0; j < 12; ++j) a[j] = gen.uniform(0.2, 1.0), b[j] = gen.uniform(0.2, 1.0), c[j] = gen.uniform(0, 6.28);
  std::vector<double> x;
  for (std::size_t t = 0; t < g[0]; ++t)
    for (std::size_t y = 0; y < g[1]; ++y)
      for (std::size_t col = 0; col < g[2]; ++col) {
        const double sy = double(y) + double(t) * pan[0], sx = double(col) + double(t) * pan[1];
        double v = gen.uniform(-noise, noise);
        for (std::size_t j = 0; j < 12; ++j) v += std::sin(a[j] * sy + b[j] * sx + c[j]) / double(j + 1);
        x.push_back(v);
      }
  return x;
}

// The predictor compress chooses for frames x of grid g as float32 under `bound`, every value
// checked within it after a round trip.
nlohmann::json chosen_predictor(const std::vector<double>& x, const grid3& g, const char* bound) {
  dataset d;
  d.data = ndarray::from_doubles(x, {g[0], g[1], g[2]}, dtype::f32);
  const auto file = codec::compress_error_bounded(d, codec::parse_bound_config(bound));
  const dataset back = codec::decompress_file(file);
  for (const auto& r : metrics::check_bounds(d, back, codec::parse_bound_config(bound))) CHECK(r.holds());
  return format::inspect(file).header["error_bound"]["predictor"];
}

TEST_CASE("a moving causal predictor follows frames whose content moves across the grid") {
  const grid3 g{12, 64, 96};
  const bound_spec b = codec::parse_bound("abs:1e-3");
  const codec::value_code code = codec::code_for(b, -4, 4, false);
  const std::vector<double> x = panning_frames(g, {1, 3}, 1e-4, 21);
  const quantised q = quantise(x.data(), x.size(), code, dtype::f64);
  // Found by block matching: the content moves up a row and left three columns a frame.
  CHECK(estimate_motion(g, q.k) == std::array<std::int32_t, 2>{-1, -3});
  const std::vector<double> still = panning_frames(g, {0, 0}, 1e-4, 21);
  CHECK(estimate_motion(g, quantise(still.data(), still.size(), code, dtype::f64).k) == std::array<std::int32_t, 2>{});
  CHECK(estimate_motion({2, 64, 96}, q.k) == std::array<std::int32_t, 2>{});  // two frames: no moving walk

  // Its frame taps where the content was: the waves, too short for the frame's own
  // neighbours, come from the frame before (up to the decoded frame's own error, within the
  // bound: residuals of a step or so remain).
  const std::size_t in_place = round_trip(x, code, false, causal_deep_walk::fit(g, q.k), b, 0, 0);
  const std::size_t followed = round_trip(x, code, false, causal_deep_walk::fit(g, q.k, 1u << 14, {-1, -3}), b, 0, 0);
  MESSAGE("causal_deep " << in_place << " bytes, moving " << followed);
  CHECK(followed < 0.8 * in_place);
  // Moves that leave most points' frame taps off the grid, on grids just big enough and not:
  // those points fall back to Lorenzo, on both sides alike.
  for (const grid3& small : {grid3{4, 9, 11}, grid3{5, 7, 7}, grid3{3, 3, 3}})
    for (const std::array<std::int32_t, 2>& m :
         {std::array<std::int32_t, 2>{2, -3}, std::array<std::int32_t, 2>{-6, 6}, std::array<std::int32_t, 2>{0, 1}}) {
      const std::vector<double> xs = panning_frames(small, {m[0], m[1]}, 1e-3, 5);
      const quantised qs = quantise(xs.data(), xs.size(), code, dtype::f64);
      round_trip(xs, code, false, causal_deep_walk::fit(small, qs.k, 1u << 14, m), b, 0, 0);
    }
}

TEST_CASE("compress chooses the moving predictor for panning frames, within the bound") {
  const grid3 g{16, 48, 64};
  const std::vector<double> x = panning_frames(g, {1, 2}, 1e-2, 8);
  for (const char* bound : {"range:1e-3", "range:1e-4"}) {
    const nlohmann::json predictor = chosen_predictor(x, g, bound);
    INFO(predictor.dump());
    CHECK(predictor["kind"] == "causal_motion");
    CHECK(predictor["motion"] == nlohmann::json::array({-1, -2}));
  }
}

// Frames whose halves differ: columns west of the middle move one column east a frame, those
// east of it one column west, each half panning its own waves.
std::vector<double> two_halves(const grid3& g, std::uint64_t seed) {
  const std::vector<double> west = panning_frames(g, {0, -1}, 1e-3, seed), east = panning_frames(g, {0, 1}, 1e-3, seed + 1);
  std::vector<double> x(west.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = i % g[2] < g[2] / 2 ? west[i] : east[i];
  return x;
}

TEST_CASE("weights per region follow frames whose regions differ, and a box takes its regions from the grid") {
  const grid3 g{10, 48, 96};
  const bound_spec b = codec::parse_bound("abs:1e-3");
  const codec::value_code code = codec::code_for(b, -4, 4, false);
  const std::vector<double> x = two_halves(g, 31);
  const quantised q = quantise(x.data(), x.size(), code, dtype::f64);
  const causal_deep_walk one = causal_deep_walk::fit(g, q.k), halves = causal_deep_walk::fit(g, q.k, 1u << 12, {}, {1, 2}),
                         quarters = causal_deep_walk::fit(g, q.k, 1u << 12, {}, {2, 2});
  REQUIRE(halves.regional.size() == 2);
  REQUIRE(quarters.regional.size() == 4);
  CHECK(halves.regional[0] != halves.regional[1]);  // each half its own weights
  const std::size_t whole = round_trip(x, code, false, one, b, 0, 0), cut = round_trip(x, code, false, halves, b, 0, 0),
                    fourths = round_trip(x, code, false, quarters, b, 0, 0);
  MESSAGE("causal_deep " << whole << " bytes, in 1x2 regions " << cut << ", in 2x2 " << fourths);
  CHECK(cut < 0.85 * whole);
  CHECK(fourths < 0.9 * whole);
  // Requantised, and on grids with fewer rows or columns than regions, or too few points to fit
  // (those regions keep Lorenzo's weights): every value within the bound.
  round_trip(x, code, false, quarters, b, 0, 0, 8);
  for (const grid3& small : {grid3{3, 3, 3}, grid3{1, 9, 11}, grid3{4, 2, 40}, grid3{5, 17, 5}}) {
    const std::vector<double> xs = panning_frames(small, {0, 1}, 1e-3, 7);
    const quantised qs = quantise(xs.data(), xs.size(), code, dtype::f64);
    for (const std::array<std::size_t, 2>& parts : {std::array<std::size_t, 2>{2, 2}, std::array<std::size_t, 2>{8, 8}})
      round_trip(xs, code, false, causal_deep_walk::fit(small, qs.k, 1u << 12, {}, parts), b, 0, 0);
  }
  // A box walked inside the grid (as candidates are estimated) gives each point its region in
  // the grid.
  causal_deep_walk box = quarters;
  box.dims = {4, 20, 30};
  box.origin = {14, 33};
  box.extent = {g[1], g[2]};
  for (std::size_t y = 0; y < box.dims[1]; ++y)
    for (std::size_t col = 0; col < box.dims[2]; ++col) CHECK(box.region_of(y, col) == quarters.region_of(y + 14, col + 33));
  CHECK(box.region_start(1, 1) == 15);  // the grid's column 48, the box's 15
  CHECK(box.region_start(0, 1) == 10);  // row 24, the box's 10
}

TEST_CASE("compress chooses weights per region for frames whose halves move apart, within the bound") {
  const grid3 g{12, 64, 128};
  const std::vector<double> x = two_halves(g, 3);
  for (const char* bound : {"range:1e-3", "range:1e-4"}) {
    const nlohmann::json predictor = chosen_predictor(x, g, bound);
    INFO(predictor.dump());
    CHECK(predictor["kind"] == "causal_regional");
  }
}

TEST_CASE("the rounding's phase as context pays at a loose bound, where residuals are mostly 0 and +-1") {
  // A smooth field with noise of a fifth of a quantisation step.
  const grid3 g{4, 96, 96};
  std::vector<double> x = smooth_field(4, 96, 96);
  rng gen(5);
  const bound_spec b = codec::parse_bound("abs:5e-3");
  for (double& v : x) v += 2e-3 * gen.normal();
  const codec::value_code code = codec::code_for(b, -2, 2, false);
  const quantised q = quantise(x.data(), x.size(), code, dtype::f64);
  causal_walk causal = causal_walk::fit(g, q.k);
  interpolation_walk learned = interpolation_walk::fit(g, q.k);
  std::size_t bytes[2][2];
  for (bool phased : {false, true}) {
    causal.phased = learned.phased = phased;
    bytes[0][phased] = round_trip(x, code, false, causal, b, 0, 0);
    bytes[1][phased] = round_trip(x, code, false, learned, b, 0, 0);
  }
  MESSAGE("causal " << bytes[0][0] << " -> " << bytes[0][1] << " bytes, interpolation " << bytes[1][0] << " -> "
                    << bytes[1][1]);
  CHECK(bytes[0][1] < 0.95 * bytes[0][0]);
  CHECK(bytes[1][1] < 0.95 * bytes[1][0]);
}

TEST_CASE("lengths per sign pay on a skewed column, and few row contexts on rows in no order") {
  // An energy-like column: exponential, coded around its median, so long residuals are positive.
  rng gen(9);
  std::vector<double> x(5000);
  for (double& v : x) v = -std::log(1 - gen.uniform());
  const bound_spec b = codec::parse_bound("range:1e-4");
  const codec::column_stats st = codec::analyse(x.data(), x.size(), 1, 0, 0);
  const codec::value_code code = codec::code_for(b, st.min, st.max, false);
  const quantised q = quantise(x.data(), x.size(), code, dtype::f64);
  const std::int64_t median = median_code(q.k, q.has);
  std::size_t bytes[2];
  for (bool fine : {false, true}) {
    const sequence_walk walk{sequence_walk::by::constant, median, nullptr, x.size(), nullptr, fine};
    bytes[fine] = round_trip(x, code, false, walk, b, st.min, st.max);
  }
  MESSAGE("context " << bytes[1] << " bytes, context_signed " << bytes[0]);
  CHECK(bytes[0] < 0.97 * bytes[1]);
}

TEST_CASE("the line through the two rows before: a smooth column in order codes smaller than from the row before") {
  // An oscillation sampled finely (a time series): from row to row it moves by up to ~70
  // steps of the code, but its step changes by about two.
  const std::size_t n = 20000;
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::sin(0.03 * double(i)) + 0.2 * std::sin(0.007 * double(i));
  const bound_spec b = codec::parse_bound("range:1e-4");
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  const codec::value_code code = codec::code_for(b, *lo, *hi, false);
  const std::size_t previous = round_trip(x, code, false, sequence_walk{sequence_walk::by::previous, 0, nullptr, n}, b, *lo, *hi);
  const std::size_t linear = round_trip(x, code, false, sequence_walk{sequence_walk::by::linear, 0, nullptr, n}, b, *lo, *hi);
  MESSAGE("from the row before " << previous << " bytes, the line through two " << linear);
  CHECK(double(linear) < 0.5 * double(previous));

  // Values without a code after two far-apart codes: the line runs past the int64 range over the
  // exceptions (wrapping, as the decoder does), and the codes after them still round trip.
  std::vector<double> hard(3000, 0.5);
  hard[100] = -4e15, hard[101] = 4e15;
  for (std::size_t i = 102; i < 2500; ++i) hard[i] = 1e300;
  const bound_spec a = codec::parse_bound("abs:1");
  round_trip(hard, codec::code_for(a, -1e300, 1e300, false), false,
             sequence_walk{sequence_walk::by::linear, 0, nullptr, hard.size()}, a, 0, 0);

  // Through the file: the ordered column takes the line, a column in no order beside it does not.
  rng gen(24);
  std::vector<double> rows(2 * n);
  for (std::size_t i = 0; i < n; ++i) rows[2 * i] = x[i], rows[2 * i + 1] = gen.normal();
  dataset d;
  d.data = ndarray::from_doubles(rows, {n, 2}, dtype::f64);
  d.names = {"t", "noise"};
  const bound_config bc = codec::parse_bound_config("range:1e-4");
  const auto file = codec::compress_error_bounded(d, bc);
  const format::container c = format::parse(file);
  CHECK(c.header["columns"][0]["predictor"]["kind"] == "linear");
  CHECK(c.header["columns"][1]["predictor"]["kind"] != "linear");
  for (const auto& r : metrics::check_bounds(d, codec::decompress_file(file), bc)) CHECK(r.holds());
}

TEST_CASE("the histogram coder: every depth round trips, a two-peaked column codes smaller, bad descriptions are refused") {
  for (bool f32 : {false, true})
    for (const char* spec : {"abs:1e-3", "abs:1e-300", "range:1e-3", "range:1e-6"})
      for (unsigned depth : {1u, 6u, 12u}) {
        INFO(spec << (f32 ? " f32" : " f64") << " depth " << depth);
        const std::vector<double> x = hard_values(7, 3000, f32);
        const bound_spec b = codec::parse_bound(spec);
        const codec::column_stats st = codec::analyse(x.data(), x.size(), 1, 0, 0);
        const codec::value_code code = codec::code_for(b, st.min, st.max, false);
        const quantised q = quantise(x.data(), x.size(), code, f32 ? dtype::f32 : dtype::f64);
        nlohmann::json desc;
        const block_result r = encode_histogram(x.data(), q.k, q.has, depth, desc);
        CHECK(r.exceptions == std::size_t(std::count(q.has.begin(), q.has.end(), false)));
        codec::rans::reader in{byte_view(r.bytes)};
        const std::vector<double> y = decode_histogram(in, x.size(), code, desc);
        CHECK(in.pos == r.bytes.size());
        CHECK(y == reconstruct(x.data(), q, code));
        check_within(x, y, b, st.min, st.max, f32);
      }
  // A particle-identification probability: most near 0 or near 1, few between.
  rng gen(4);
  std::vector<double> p(6000);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double tail = std::min(0.5, -0.01 * std::log(1 - gen.uniform()));
    p[i] = i % 2 ? tail : 1 - tail;
  }
  const bound_spec b = codec::parse_bound("range:1e-4");
  const codec::value_code code = codec::code_for(b, 0, 1, false);
  const quantised q = quantise(p.data(), p.size(), code, dtype::f64);
  const sequence_walk around_median{sequence_walk::by::constant, median_code(q.k, q.has), nullptr, p.size()};
  const std::size_t residuals = round_trip(p, code, false, around_median, b, 0, 1);
  nlohmann::json desc;
  const std::size_t values = encode_histogram(p.data(), q.k, q.has, 8, desc).bytes.size();
  MESSAGE("around the median " << residuals << " bytes, histogram " << values);
  CHECK(values < 0.9 * residuals);
  // A constant column has no width and codes in no bits.
  const std::vector<double> flat(100, 0.25);
  const quantised qf = quantise(flat.data(), flat.size(), code, dtype::f64);
  const block_result r = encode_histogram(flat.data(), qf.k, qf.has, 8, desc);
  CHECK(desc["depth"] == 0);
  codec::rans::reader in{byte_view(r.bytes)};
  CHECK(decode_histogram(in, flat.size(), code, desc) == reconstruct(flat.data(), qf, code));
  // Descriptions no encoder writes, and a stream cut short.
  const block_result full = encode_histogram(p.data(), q.k, q.has, 8, desc);
  for (const auto& [key, value] : {std::pair{"depth", 13}, std::pair{"depth", 0}, std::pair{"width", 65}}) {
    nlohmann::json bad = desc;
    bad[key] = value;
    codec::rans::reader r2{byte_view(full.bytes)};
    CHECK_THROWS_WITH_AS(decode_histogram(r2, p.size(), code, bad), doctest::Contains("a histogram block with"), error);
  }
  std::vector<std::byte> cut(full.bytes.begin(), full.bytes.end() - std::ptrdiff_t(full.bytes.size() / 2));
  codec::rans::reader r3{byte_view(cut)};
  CHECK_THROWS_AS(decode_histogram(r3, p.size(), code, desc), error);
}

TEST_CASE("quantile edges by selection are those of the sorted column, ties and short columns too") {
  rng gen(17);
  for (std::size_t n : {1, 3, 7, 64, 1000, 4099})
    for (unsigned buckets : {2u, 8u, 32u, 64u})
      for (bool ties : {false, true}) {
        INFO(n << " values, " << buckets << " buckets, ties " << ties);
        std::vector<double> v(n);
        for (double& x : v) x = ties ? std::floor(gen.uniform(0, 5)) : gen.normal() * 1e3;
        std::vector<double> sorted = v, want;
        std::sort(sorted.begin(), sorted.end());
        for (unsigned b = 1; b < buckets; ++b) want.push_back(short_decimal(sorted[n * b / buckets], 3));
        CHECK(quantile_edges(v, buckets) == want);
      }
}

TEST_CASE("a histogram per partner bucket: a column that follows another codes in a fraction, and round trips") {
  // y is two-peaked, its peak chosen by the partner x's half: alone a coin toss a row, given x's
  // bucket almost nothing.
  rng gen(11);
  const std::size_t n = 20000;
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = gen.uniform();
    y[i] = (x[i] < 0.5 ? 0.2 : 0.8) + 0.01 * gen.normal();
  }
  const std::vector<std::uint8_t> partner = buckets_of(x, quantile_edges(x));
  const bound_spec b = codec::parse_bound("range:1e-3");
  const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
  const codec::value_code code = codec::code_for(b, *lo, *hi, false);
  const quantised q = quantise(y.data(), n, code, dtype::f64);
  nlohmann::json alone_desc, desc;
  const std::size_t alone = encode_histogram(y.data(), q.k, q.has, 10, alone_desc).bytes.size();
  CHECK_FALSE(alone_desc.contains("partner_levels"));
  for (unsigned levels : {1u, 2u, 12u}) {  // 12: the whole tree (the codes' 9 bits)
    INFO("levels " << levels);
    const block_result r = encode_histogram(y.data(), q.k, q.has, 12, desc, &partner, levels);
    CHECK(desc["partner_levels"] == std::min(levels, 9u));
    MESSAGE("alone " << alone << " bytes, per partner bucket " << r.bytes.size());
    CHECK(double(r.bytes.size()) < double(alone) - 0.9 * double(n) / 8);  // the peak's bit a row, saved
    codec::rans::reader in{byte_view(r.bytes)};
    const std::vector<double> back = decode_histogram(in, n, code, desc, &partner);
    CHECK(back == reconstruct(y.data(), q, code));
    check_within(y, back, b, *lo, *hi, false);
  }
  // A partnered description without the partner's buckets, or with more levels than the tree.
  const block_result r = encode_histogram(y.data(), q.k, q.has, 10, desc, &partner, 4);
  codec::rans::reader r1{byte_view(r.bytes)};
  CHECK_THROWS_WITH_AS(decode_histogram(r1, n, code, desc), doctest::Contains("a partnered histogram block"), error);
  nlohmann::json deep = desc;
  deep["partner_levels"] = 11;
  codec::rans::reader r2{byte_view(r.bytes)};
  CHECK_THROWS_WITH_AS(decode_histogram(r2, n, code, deep, &partner), doctest::Contains("a partnered histogram block"),
                       error);
  // A bucket past the count the decoder is told.
  codec::rans::reader r3{byte_view(r.bytes)};
  CHECK_THROWS_WITH_AS(decode_histogram(r3, n, code, desc, &partner, 4), doctest::Contains("buckets past 4"), error);
}

TEST_CASE("a histogram per partner bucket: finer buckets for a column that follows its partner closely") {
  // z = x + 0.3 or x - 0.3, plus noise: no function of x predicts it (a relation would leave a
  // two-peaked residual); each of 64 buckets of x narrows z's two peaks eight times more than 8 do.
  rng gen(14);
  const std::size_t n = 50000;
  std::vector<double> x(n), z(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = gen.uniform(), z[i] = x[i] + (gen.uniform() < 0.5 ? 0.3 : -0.3) + 0.002 * gen.normal();
  const bound_spec b = codec::parse_bound("range:1e-3");
  const auto [lo, hi] = std::minmax_element(z.begin(), z.end());
  const codec::value_code code = codec::code_for(b, *lo, *hi, false);
  const quantised q = quantise(z.data(), n, code, dtype::f64);
  std::size_t coarse = 0;
  for (unsigned count : {8u, 64u}) {
    INFO(count << " buckets");
    const std::vector<double> edges = quantile_edges(x, count);
    REQUIRE(edges.size() + 1 == count);
    const std::vector<std::uint8_t> partner = buckets_of(x, edges);
    nlohmann::json desc;
    const block_result r = encode_histogram(z.data(), q.k, q.has, 10, desc, &partner, 8, count);
    codec::rans::reader in{byte_view(r.bytes)};
    const std::vector<double> back = decode_histogram(in, n, code, desc, &partner, count);
    CHECK(back == reconstruct(z.data(), q, code));
    check_within(z, back, b, *lo, *hi, false);
    if (count == 8) coarse = r.bytes.size();
    MESSAGE(count << " buckets: " << r.bytes.size() << " bytes");
    // Of the log2(8) bits a row finer buckets could save, at least two (8 of the tree's 10
    // levels learn per bucket, and 64 buckets learn slower).
    if (count == 64) CHECK(double(r.bytes.size()) < double(coarse) - 2.0 * double(n) / 8);
  }
  // Through the file: the column partners x in more than 8 buckets, and the bound holds; a
  // header naming more buckets than a histogram may have is refused.
  std::vector<double> rows(n * 2);
  for (std::size_t i = 0; i < n; ++i) rows[2 * i] = x[i], rows[2 * i + 1] = z[i];
  dataset d;
  d.data = ndarray::from_doubles(rows, {n, 2}, dtype::f64);
  d.names = {"x", "z"};
  const bound_config bc = codec::parse_bound_config("range:1e-3");
  const auto file = codec::compress_error_bounded(d, bc);
  format::container c = format::parse(file);
  // One of the two partners the other, through a histogram per bucket or a mixed one.
  auto partner_in = [](nlohmann::json& desc) -> nlohmann::json* {
    if (desc.contains("partner")) return &desc["partner"];
    return desc.contains("partners") && !desc["partners"].empty() ? &desc["partners"][0] : nullptr;
  };
  nlohmann::json* partner = partner_in(c.header["columns"][0]["predictor"]);
  if (!partner) partner = partner_in(c.header["columns"][1]["predictor"]);
  INFO(c.header["columns"].dump());
  REQUIRE(partner);
  CHECK((*partner)["edges"].size() + 1 > sequence_walk::partner_buckets);
  for (const auto& r : metrics::check_bounds(d, codec::decompress_file(file), bc)) CHECK(r.holds());
  std::vector<double> edges(max_partner_buckets);
  for (std::size_t e = 0; e < edges.size(); ++e) edges[e] = double(e) / double(edges.size());
  (*partner)["edges"] = edges;
  CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(c, format::compression_policy::none())),
                       doctest::Contains("a bad partner column"), error);
}

TEST_CASE("logistic mixing in integers: squash and stretch invert each other, the mixer trusts the input that knows") {
  CHECK(mixing::squash(0) == 2048);
  CHECK(mixing::squash(-5000) == 1);
  CHECK(mixing::squash(5000) == 4095);
  for (std::int32_t x = -2047; x < 2047; ++x) REQUIRE(mixing::squash(x) <= mixing::squash(x + 1));
  for (std::uint32_t p = 1; p < 4096; ++p) {  // stretch(p): the smallest x that squashes to p or more
    const std::int32_t x = mixing::stretch(p);
    REQUIRE(mixing::squash(x) >= std::int32_t(p));
    if (x > -2047) REQUIRE(mixing::squash(x - 1) < std::int32_t(p));
  }
  CHECK(mixing::stretch(2048) == 0);
  // The weights' step: the division's quotient (truncated toward zero) for every product of a
  // stretch and an error, at every rate, so files written with a division decode the same.
  for (unsigned rate = min_mix_rate; rate <= max_mix_rate; ++rate)
    for (std::int32_t v = -2047 * 4096; v <= 2047 * 4096; v += 997)
      for (std::int32_t d : {v, v + 1, v - 1, -v})
        REQUIRE(mixing::truncated_shift(d, rate) == d / (std::int32_t(1) << rate));
  // Bits with P(0) = 0.9; the first input says 1/2 (its prior, and the one each weight set
  // starts with), the second 0.9: the mix moves to the second.
  rng gen(21);
  mixing::mixer m(2, 1, 10);
  const std::uint32_t says[2] = {2048, 3686};
  std::uint32_t p = 0;
  for (int i = 0; i < 20000; ++i) {
    p = m.mix(says, 0);
    m.update(gen.uniform() < 0.9 ? 0 : 1);
  }
  MESSAGE("mixed P(0) after 20000 bits: " << p << " / 4096");
  CHECK(std::abs(double(p) - 3686) < 120);
}

TEST_CASE("a mixed histogram: a column two partners decide together codes in less than with either, round trips") {
  // y has four peaks: x1's half picks one bit of the peak, x2's half the other. A histogram per
  // bucket of one partner still pays a bit a row; mixed with both, almost nothing.
  rng gen(22);
  const std::size_t n = 20000;
  std::vector<double> x1(n), x2(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x1[i] = gen.uniform(), x2[i] = gen.uniform();
    y[i] = 0.2 * (x1[i] < 0.5) + 0.4 * (x2[i] < 0.5) + 0.005 * gen.normal();
  }
  const std::vector<std::uint8_t> b1 = buckets_of(x1, quantile_edges(x1)), b2 = buckets_of(x2, quantile_edges(x2));
  const bound_spec b = codec::parse_bound("range:1e-3");
  const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
  const codec::value_code code = codec::code_for(b, *lo, *hi, false);
  const quantised q = quantise(y.data(), n, code, dtype::f64);
  nlohmann::json desc;
  std::size_t single = SIZE_MAX;
  for (const auto* partner : {&b1, &b2})
    for (unsigned levels : {2u, 4u, 10u})
      single = std::min(single, encode_histogram(y.data(), q.k, q.has, 10, desc, partner, levels).bytes.size());
  const std::vector<mix_partner> both = {{&b1, 8}, {&b2, 8}};
  for (unsigned rate : mixed_rates) {
    INFO("rate " << rate);
    const block_result r = encode_mixed_histogram(y.data(), q.k, q.has, 10, both, rate, desc);
    CHECK(desc["coder"] == "mixed_tree");
    MESSAGE("one partner " << single << " bytes, mixed with both " << r.bytes.size());
    CHECK(double(r.bytes.size()) < double(single) - 0.8 * double(n) / 8);  // the other partner's bit a row
    codec::rans::reader in{byte_view(r.bytes)};
    const std::vector<double> back = decode_mixed_histogram(in, n, code, desc, both);
    CHECK(back == reconstruct(y.data(), q, code));
    check_within(y, back, b, *lo, *hi, false);
  }
  // Refused: a rate out of range, more partners than a block may mix, a bucket past its count,
  // a truncated block.
  const block_result r = encode_mixed_histogram(y.data(), q.k, q.has, 10, both, mixed_rates[0], desc);
  auto refuses = [&](const nlohmann::json& d, const std::vector<mix_partner>& ps, std::size_t bytes) {
    const std::vector<std::byte> cut(r.bytes.begin(), r.bytes.begin() + std::ptrdiff_t(bytes));
    codec::rans::reader in{byte_view(cut)};
    CHECK_THROWS_AS(decode_mixed_histogram(in, n, code, d, ps), error);
  };
  for (int rate : {int(min_mix_rate) - 1, int(max_mix_rate) + 1}) {
    nlohmann::json bad = desc;
    bad["rate"] = rate;
    refuses(bad, both, r.bytes.size());
  }
  refuses(desc, {{&b1, 8}, {&b2, 8}, {&b1, 8}, {&b2, 8}}, r.bytes.size());
  refuses(desc, {{&b1, 8}, {&b2, 4}}, r.bytes.size());
  refuses(desc, both, r.bytes.size() / 2);

  // Through the file: y mixes x1 and x2, the bound holds; a header with four partners is refused.
  std::vector<double> rows(n * 3);
  for (std::size_t i = 0; i < n; ++i) rows[3 * i] = x1[i], rows[3 * i + 1] = x2[i], rows[3 * i + 2] = y[i];
  dataset d;
  d.data = ndarray::from_doubles(rows, {n, 3}, dtype::f64);
  d.names = {"x1", "x2", "y"};
  const bound_config bc = codec::parse_bound_config("range:1e-3");
  const auto file = codec::compress_error_bounded(d, bc);
  for (const auto& c : metrics::check_bounds(d, codec::decompress_file(file), bc)) CHECK(c.holds());
  format::container c = format::parse(file);
  nlohmann::json& y_desc = c.header["columns"][2]["predictor"];
  INFO(y_desc.dump());
  REQUIRE(y_desc["coder"] == "mixed_tree");
  REQUIRE(y_desc["partners"].size() == 2);
  for (int i = 0; i < 2; ++i) y_desc["partners"].push_back(y_desc["partners"][0]);
  CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(c, format::compression_policy::none())),
                       doctest::Contains("partners"), error);
}

TEST_CASE("under a rel bound, codes as values carry their signs: histograms and the fallback round trip and pay") {
  // Every value kind (zeros of both signs, denormals, extremes, both signs side by side), alone
  // and mixed with a partner, at every depth.
  for (bool f32 : {false, true})
    for (unsigned depth : {1u, 6u, 12u}) {
      INFO((f32 ? "f32" : "f64") << " depth " << depth);
      const std::vector<double> x = hard_values(8, 3000, f32);
      const bound_spec b = codec::parse_bound("rel:1e-3");
      const codec::value_code code = codec::code_for(b, 0, 0, false);
      const quantised q = quantise(x.data(), x.size(), code, f32 ? dtype::f32 : dtype::f64);
      const signed_codes v = with_signs(x.data(), q);
      const std::vector<std::uint8_t> partner = buckets_of(x, quantile_edges(x));
      const std::vector<mix_partner> mixed = {{&partner, 8}};
      for (bool mix : {false, true}) {
        nlohmann::json desc;
        const block_result r = mix ? encode_mixed_histogram(x.data(), v.q.k, v.q.has, depth, mixed, 10, desc)
                                   : encode_histogram(x.data(), v.q.k, v.q.has, depth, desc);
        mark_signed(desc, v.base);
        CHECK(r.exceptions == std::size_t(std::count(v.q.has.begin(), v.q.has.end(), false)));
        codec::rans::reader in{byte_view(r.bytes)};
        const std::vector<double> y =
            mix ? decode_mixed_histogram(in, x.size(), code, desc, mixed) : decode_histogram(in, x.size(), code, desc);
        CHECK(in.pos == r.bytes.size());
        CHECK(y == reconstruct(x.data(), q, code));
        check_within(x, y, b, 0, 0, f32);
        // Without its base, or with a base under another bound, a block is refused.
        nlohmann::json bad = desc;
        bad.erase("base");
        codec::rans::reader r1{byte_view(r.bytes)};
        CHECK_THROWS_WITH_AS(decode_histogram(r1, x.size(), code, bad), doctest::Contains("without its base"), error);
        codec::rans::reader r2{byte_view(r.bytes)};
        CHECK_THROWS_WITH_AS(decode_histogram(r2, x.size(), codec::value_code::exact(), desc),
                             doctest::Contains("with a base"), error);
      }
    }

  // Through the file: a particle-identification probability (most near 0, spread over many
  // octaves, or near 1, within one), whose codes as values pay against the residual coder
  // around the median, which the rel bound had alone before; and a signed column with zeros.
  rng gen(31);
  const std::size_t n = 30000;
  std::vector<double> rows(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    const double tail = std::min(0.5, -0.01 * std::log(1 - gen.uniform()));
    rows[2 * i] = i % 2 ? tail : 1 - tail;                                       // pid
    rows[2 * i + 1] = (gen.uniform() < 0.5 ? -1.8 : 1.8) + 0.2 * gen.normal();  // eta
  }
  rows[2 * 7 + 1] = 0;  // a zero comes back as 0
  dataset d;
  d.data = ndarray::from_doubles(rows, {n, 2}, dtype::f64);
  d.names = {"pid", "eta"};
  const bound_config bc = codec::parse_bound_config("rel:1e-3");
  report rep;
  const auto file = compress_reporting(d, bc, rep);
  const dataset back = codec::decompress_file(file);
  for (const auto& c : metrics::check_bounds(d, back, bc)) CHECK(c.holds());
  CHECK(back.data.to_doubles()[2 * 7 + 1] == 0.0);
  const format::container c = format::parse(file);
  const nlohmann::json& pid = c.header["columns"][0]["predictor"];
  INFO(pid.dump());
  CHECK(pid["coder"].get<std::string>().rfind(signed_prefix, 0) == 0);
  const block_report& r = rep.at(0);
  REQUIRE(r.block == "pid");
  const auto median = std::find_if(r.estimates.begin(), r.estimates.end(), [](const auto& e) { return e.first == "constant"; });
  REQUIRE(median != r.estimates.end());
  MESSAGE("pid: " << r.bytes << " bytes, around the median " << median->second);
  CHECK(double(r.bytes) < 0.95 * median->second);  // 7 % here

  // The fallback too: a column that repeats itself takes zstd over its signed codes (two
  // columns, so that the table is not also tried as a 1-D field).
  std::vector<double> period(2000), repeats;
  for (double& x : period) x = gen.normal();
  period[3] = 0;
  for (int i = 0; i < 20; ++i)
    for (double x : period) repeats.push_back(x), repeats.push_back(gen.normal());
  dataset rep_data;
  rep_data.data = ndarray::from_doubles(repeats, {repeats.size() / 2, 2}, dtype::f64);
  rep_data.names = {"repeats", "noise"};
  report rep_report;
  const auto fallback = compress_reporting(rep_data, bc, rep_report);
  CHECK(format::inspect(fallback).header["columns"][0]["predictor"]["coder"] == "signed_zstd");
  REQUIRE(rep_report.at(0).block == "repeats");
  CHECK(rep_report[0].bytes < repeats.size() / 2);  // under a byte a value
  for (const auto& c2 : metrics::check_bounds(rep_data, codec::decompress_file(fallback), bc)) CHECK(c2.holds());
}

TEST_CASE("NaN and Inf in table columns under a bound: NaN and Inf back, the rest within it, no flag needed") {
  // px and py finite and pt = hypot(px, py); m with a few NaN (missing), e with half its
  // values NaN and an Inf of each sign.
  rng gen(41);
  const std::size_t n = 20000, cols = 5;
  std::vector<double> rows(n * cols);
  for (std::size_t i = 0; i < n; ++i) {
    double* row = rows.data() + i * cols;
    row[0] = 30 * gen.normal(), row[1] = 30 * gen.normal(), row[2] = std::hypot(row[0], row[1]);
    row[3] = i % 101 == 5 ? std::nan("") : 10 + gen.uniform();
    row[4] = gen.uniform() < 0.5 ? std::nan("") : gen.normal();
  }
  rows[cols * 10 + 4] = INFINITY, rows[cols * 11 + 4] = -INFINITY;
  dataset d;
  d.data = ndarray::from_doubles(rows, {n, cols}, dtype::f64);
  d.names = {"px", "py", "pt", "m", "e"};
  for (const std::string spec : {"range:1e-3", "rel:1e-3"}) {
    INFO(spec);
    const bound_config bc = codec::parse_bound_config(spec);
    const auto file = codec::compress_error_bounded(d, bc);
    const dataset back = codec::decompress_file(file);
    for (const auto& c : metrics::check_bounds(d, back, bc)) CHECK(c.holds());  // NaN as NaN, Inf as Inf
    const std::vector<double> y = back.data.to_doubles();
    CHECK(std::isnan(y[cols * 5 + 3]));
    CHECK(y[cols * 10 + 4] == INFINITY);
    CHECK(y[cols * 11 + 4] == -INFINITY);
    const format::container c = format::parse(file);
    const nlohmann::json& columns = c.header["columns"];
    INFO(columns.dump());
    for (std::size_t col = 0; col < cols; ++col) CHECK(columns[col]["treatment"] == "bounded");
    std::size_t nan_alike = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) nan_alike += std::isnan(rows[i]) == std::isnan(y[i]);
    CHECK(nan_alike == rows.size());
    // m's NaN are coded as values (a substitute below the others: no exceptions); e, with Inf
    // too, keeps its NaN and Inf as exceptions and is nobody's partner.
    CHECK(columns[3]["nan_below"].get<double>() < 0);
    CHECK(columns[3]["predictor"]["exceptions"] == 0);
    CHECK(!columns[4].contains("nan_below"));
    CHECK(columns[4]["predictor"]["exceptions"].get<std::size_t>() > n / 3);
    CHECK(columns[2]["predictor"]["kind"] == "formula");  // pt still follows from px and py
    for (std::size_t col = 0; col < cols; ++col) CHECK(columns[col]["predictor"].dump().find("\"column\":4") == std::string::npos);
    // The exceptions cost little: the file is far below the two columns with NaN stored exactly.
    MESSAGE(spec << ": " << file.size() << " bytes for " << n * cols * 8);
    CHECK(file.size() < n * 2 * 8 / 2);
  }
  // A check that finds a NaN changed, or a value where a NaN was, reports it.
  dataset changed = d;
  changed.data.data_as<double>()[cols * 5 + 3] = 10.5;
  changed.data.data_as<double>()[cols * 10 + 4] = std::nan("");
  const std::vector<metrics::bound_result> r = metrics::check_bounds(d, changed, codec::parse_bound_config("range:1e-3"));
  CHECK(r[3].violations == 1);
  CHECK(r[4].violations == 1);
  // The plain mode (a model learns the columns) still asks what to do with them.
  cpu be(1);
  codec::Codec<cpu, models::AE<cpu, float>> model(be, codec::codec_options{});
  CHECK_THROWS_WITH_AS(model.train(d), doctest::Contains("or give an error bound"), error);
}

TEST_CASE("a missing object (NaN rows): formulas and relation networks fit and predict its other rows") {
  // Two jets; the second missing (NaN in all its columns) in 30 % of the rows. pt2 = hypot(px2,
  // py2), s2 a sum of the jet's columns (a linear formula), r2 = px2 py2 / 100 (no formula: a
  // relation network).
  rng gen(43);
  const std::size_t n = 20000, cols = 8;
  std::vector<double> rows(n * cols);
  for (std::size_t i = 0; i < n; ++i) {
    double* row = rows.data() + i * cols;
    row[0] = 30 * gen.normal(), row[1] = 30 * gen.normal(), row[2] = std::hypot(row[0], row[1]);
    const bool missing = gen.uniform() < 0.3;
    const double px = 30 * gen.normal(), py = 30 * gen.normal(), nan = std::nan("");
    row[3] = missing ? nan : px, row[4] = missing ? nan : py;
    row[5] = missing ? nan : std::hypot(px, py);
    row[6] = missing ? nan : px - 2 * py + 0.5 * row[0];
    row[7] = missing ? nan : px * py / 100;
  }
  auto column = [&](std::size_t c) {
    std::vector<double> y(n);
    for (std::size_t r = 0; r < n; ++r) y[r] = rows[r * cols + c];
    return y;
  };
  // The searches and the fit leave the NaN rows out, instead of fitting NaN.
  const auto pt2 = formula::search(rows, n, cols, {0, 1, 2, 3, 4}, column(5));
  REQUIRE(pt2);
  CHECK(pt2->f == formula::fn::hypot);
  CHECK(pt2->alpha == doctest::Approx(1.0).epsilon(1e-9));
  const auto s2 = formula::search_linear(rows, n, cols, {0, 1, 2, 3, 4}, column(6));
  REQUIRE(s2);
  const std::vector<double> p = pt2->predict(rows, n, cols);
  std::size_t nan_where_missing = 0;  // NaN in, NaN out; numbers elsewhere
  for (std::size_t r = 0; r < n; ++r) nan_where_missing += std::isnan(p[r]) == std::isnan(rows[r * cols + 3]);
  CHECK(nan_where_missing == n);
  const std::vector<double> lo{-120, -120, -150}, hi{120, 120, 150};
  const codec::relation_net net = codec::relation_net::fit(rows, n, cols, {3, 4}, column(7), lo, hi);
  const std::vector<double> r2 = net.predict(rows, n, cols);
  double err = 0, var = 0;
  std::size_t present = 0;
  for (std::size_t r = 0; r < n; ++r)
    if (const double y = rows[r * cols + 7]; std::isfinite(y)) err += (r2[r] - y) * (r2[r] - y), var += y * y, ++present;
  CHECK(present > n / 2);
  CHECK(err < 0.1 * var);  // the network learnt the product (a network fitted to NaN predicts NaN)
  // End to end: the jet's derived columns get their predictors, every value within the bound.
  dataset d;
  d.data = ndarray::from_doubles(rows, {n, cols}, dtype::f64);
  d.names = {"px1", "py1", "pt1", "px2", "py2", "pt2", "s2", "r2"};
  const bound_config bc = codec::parse_bound_config("range:1e-3");
  const auto file = codec::compress_error_bounded(d, bc);
  for (const auto& c : metrics::check_bounds(d, codec::decompress_file(file), bc)) CHECK(c.holds());
  const nlohmann::json columns = format::parse(file).header["columns"];
  INFO(columns.dump());
  CHECK(columns[5]["predictor"]["kind"] == "formula");
  CHECK(columns[6]["predictor"]["kind"] == "formula");
  // r2 from px2 and py2: a relation network, or their buckets as partners of its histogram.
  const std::string r2_predictor = columns[7]["predictor"].dump();
  CHECK((columns[7]["predictor"]["kind"] == "relation" ||
         (r2_predictor.find("\"column\":3") != std::string::npos && r2_predictor.find("\"column\":4") != std::string::npos)));

  // The same jet missing as -999 (a sentinel): at this bound its rows are exceptions, stored
  // exactly, and the formulas hold again; the NaN file costs about as much (its NaN coded as
  // a sentinel of their own). Under an abs bound: -999 would widen a range bound.
  std::vector<double> marked = rows;
  for (double& v : marked)
    if (std::isnan(v)) v = -999;
  dataset m = d;
  m.data = ndarray::from_doubles(marked, {n, cols}, dtype::f64);
  const bound_config abs = codec::parse_bound_config("abs:0.05");
  const auto nan_file = codec::compress_error_bounded(d, abs), marked_file = codec::compress_error_bounded(m, abs);
  const dataset back = codec::decompress_file(marked_file);
  for (const auto& c : metrics::check_bounds(m, back, abs)) CHECK(c.holds());
  const std::vector<double> y = back.data.to_doubles();
  std::size_t restored = 0;
  for (std::size_t i = 0; i < marked.size(); ++i) restored += marked[i] != -999 || y[i] == -999;
  CHECK(restored == marked.size());
  const nlohmann::json marked_columns = format::parse(marked_file).header["columns"];
  CHECK(marked_columns[5]["predictor"]["kind"] == "formula");
  CHECK(marked_columns[6]["predictor"]["kind"] == "formula");
  MESSAGE("missing as NaN " << nan_file.size() << " bytes, as -999 " << marked_file.size());
  CHECK(double(nan_file.size()) < 1.15 * double(marked_file.size()));
  // Under a range bound -999 widens, its rows cost little as codes: whichever way they are
  // coded, every value is within the bound.
  report rep;
  const auto loose = compress_reporting(m, bc, rep);
  for (const auto& c : metrics::check_bounds(m, codec::decompress_file(loose), bc)) CHECK(c.holds());
  // The report says which columns' range -999 widens more than twice (r2 = px2 py2 / 100, of
  // a span near 200: a note; px1 has no sentinel: none), and what the bound then allows.
  std::size_t noted = 0;
  for (const block_report& r : rep) {
    INFO(r.block << ": " << r.note);
    if (r.block == "r2") CHECK(r.note.find("widens its range") != std::string::npos);
    if (r.block == "px1") CHECK(r.note.empty());
    noted += !r.note.empty();
  }
  CHECK(noted >= 1);
  CHECK(format_report(rep).find("    note: its missing-row marker -999") != std::string::npos);
}

TEST_CASE("a table's sentinel coded as codes comes back as itself, marked by its value or by a column before it") {
  // A jet missing in 30 % of the rows as -999: its px (range ~[-150, 150], -999 far outside),
  // its pz (~[-4000, 4000]: -999 inside the range, its code shared with pz values near it), and
  // a column of the same spread, -999 on other rows (no column marks them).
  rng gen(47);
  const std::size_t n = 20000, cols = 4;
  std::vector<double> rows(n * cols);
  for (std::size_t i = 0; i < n; ++i) {
    double* row = rows.data() + i * cols;
    const bool missing = gen.uniform() < 0.3;
    row[0] = 30 * gen.normal();
    row[1] = missing ? -999 : 30 * gen.normal();
    row[2] = missing ? -999 : 800 * gen.normal();
    row[3] = gen.uniform() < 0.3 ? -999 : 800 * gen.normal();
  }
  dataset d;
  d.data = ndarray::from_doubles(rows, {n, cols}, dtype::f64);
  d.names = {"px1", "px2", "pz2", "other"};
  for (const char* spec : {"range:1e-3", "range:1e-2", "abs:2"}) {
    INFO(spec);
    const bound_config bc = codec::parse_bound_config(spec);
    const auto file = codec::compress_error_bounded(d, bc);
    const dataset back = codec::decompress_file(file);
    for (const auto& c : metrics::check_bounds(d, back, bc)) CHECK(c.holds());
    const std::vector<double> y = back.data.to_doubles();
    const nlohmann::json columns = format::parse(file).header["columns"];
    INFO(columns.dump());
    // px2 and pz2: every -999 back as itself, and no other value.
    std::size_t right = 0;
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t c : {1, 2}) right += (rows[r * cols + c] == -999) == (y[r * cols + c] == -999);
    CHECK(right == 2 * n);
    // Marked by the value px2's -999 come back as (its code's), and pz2's by px2's rows: their
    // -999 are codes, not exceptions (at no cost in the file's size).
    CHECK(columns[1]["sentinel"]["value"] == -999.0);
    CHECK(columns[1]["sentinel"]["mark"] != -999.0);
    CHECK_FALSE(columns[1]["sentinel"].contains("column"));
    CHECK(columns[2]["sentinel"]["column"] == 1);
    CHECK(columns[2]["sentinel"]["mark"] == -999.0);
    CHECK(columns[2]["predictor"].value("exceptions", std::size_t(0)) < n / 100);
    // `other`'s -999 share their code with other values and no column marks its rows: within
    // the bound, as any value, and nothing recorded.
    CHECK_FALSE(columns[3].contains("sentinel"));
  }
  // A sentinel whose mark is not a number, or whose column is not decoded before it, is refused.
  const format::container c = format::parse(codec::compress_error_bounded(d, codec::parse_bound_config("range:1e-3")));
  for (const nlohmann::json& bad : {nlohmann::json{{"value", -999}}, nlohmann::json{{"value", -999}, {"mark", "x"}},
                                    nlohmann::json{{"value", -999}, {"mark", -999}, {"column", 2}},
                                    nlohmann::json{{"value", -999}, {"mark", -999}, {"column", 3}},
                                    nlohmann::json{{"value", -999}, {"mark", -999}, {"column", 9}}}) {
    format::container crafted = c;
    crafted.header["columns"][2]["sentinel"] = bad;
    INFO(bad.dump());
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(crafted)), doctest::Contains("sentinel"), error);
  }
}

TEST_CASE("a sentinel is a repeated extreme value far from the others, not a cluster at the edge") {
  rng gen(44);
  std::vector<double> x(10000);
  for (double& v : x) v = gen.uniform(20, 500);
  CHECK_FALSE(bounded::sentinel_of(x));
  for (std::size_t i = 0; i < x.size(); i += 7) x[i] = -999;
  CHECK(bounded::sentinel_of(x) == -999.0);
  for (std::size_t i = 0; i < x.size(); i += 7) x[i] = 1e6;  // above the others
  CHECK(bounded::sentinel_of(x) == 1e6);
  for (std::size_t i = 0; i < x.size(); i += 7) x[i] = 520;  // near them: a real value
  CHECK_FALSE(bounded::sentinel_of(x));
  for (std::size_t i = 0; i < x.size(); i += 7) x[i] = 100;
  for (std::size_t i = 0; i < x.size(); i += 200) x[i] = -999;  // 0.5 % of the rows: too few
  CHECK_FALSE(bounded::sentinel_of(x));
}

TEST_CASE("a field's fill value: stored exactly, left out of a range bound; a background of zeros is data") {
  // A smooth 96 x 128 field of values in about [-0.01, 0.01], a disc of it (and a band at the
  // edge) missing: 1e20 as climate models write, -9999 as instruments do.
  const std::size_t rows = 96, cols = 128;
  std::vector<double> x(rows * cols);
  std::vector<bool> missing(x.size());
  rng gen(45);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) {
      x[i * cols + j] = 0.01 * std::sin(double(i) / 9) * std::cos(double(j) / 7) + 1e-4 * gen.normal();
      const double di = double(i) - 40, dj = double(j) - 60;
      missing[i * cols + j] = di * di + dj * dj < 20.0 * 20.0 || j >= 120;
    }
  double lo = INFINITY, hi = -INFINITY;
  for (double v : x) lo = std::min(lo, v), hi = std::max(hi, v);
  const std::size_t holes = std::size_t(std::count(missing.begin(), missing.end(), true));
  for (const auto& [fill, spec, type] : {std::tuple{1e20, "range:1e-3", dtype::f32}, std::tuple{-9999.0, "range:1e-3", dtype::f64},
                                         std::tuple{-9999.0, "abs:1e-5", dtype::f64}}) {
    INFO(fill << " " << spec);
    std::vector<double> y = x;
    for (std::size_t i = 0; i < y.size(); ++i)
      if (missing[i]) y[i] = fill;
    dataset d;
    d.data = ndarray::from_doubles(y, {rows, cols}, type);
    const bound_config bc = codec::parse_bound_config(spec);
    const auto file = codec::compress_error_bounded(d, bc);
    dataset restored = codec::decompress_file(file);
    const std::vector<double> in = d.data.to_doubles(), back = restored.data.to_doubles();
    // The bound is of the other values' range (the whole range's would be 1e17 or 10: nothing).
    const double bound = std::string(spec) == "abs:1e-5" ? 1e-5 : 1e-3 * (hi - lo);
    std::size_t exact = 0, within = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (missing[i]) exact += back[i] == in[i];
      else within += std::abs(back[i] - in[i]) <= bound * (1 + 1e-9);
    }
    CHECK(exact == holes);
    CHECK(within == in.size() - holes);
    CHECK(format::parse(file).header["error_bound"]["exceptions"] == holes);
    // evaluate checks the same: the other values' range, the fill value back as itself.
    CHECK(metrics::check_bounds(d, restored, bc)[0].holds());
    std::vector<double> moved = back;
    moved[std::size_t(std::find(missing.begin(), missing.end(), true) - missing.begin())] = 0;
    moved[0] += 2 * bound;
    restored.data = ndarray::from_doubles(moved, {rows, cols}, type);
    CHECK(metrics::check_bounds(d, restored, bc)[0].violations == 2);
  }
  // Zeros beside values in [1000, 3000] (air around a scanned body) are data: coded like any
  // value, under the whole range's bound.
  std::vector<double> body(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) body[i] = missing[i] ? 0 : 2000 + 1e5 * x[i];
  dataset d;
  d.data = ndarray::from_doubles(body, {rows, cols}, dtype::f32);
  const auto file = codec::compress_error_bounded(d, codec::parse_bound_config("range:1e-3"));
  CHECK(format::parse(file).header["error_bound"]["exceptions"] == 0);
}

TEST_CASE("a column's NaN coded as values: smaller than exceptions, their bits kept, a bad marker refused") {
  // A jet missing (NaN) in 30 % of the rows, f32 as stored; the same with NaN of two bit
  // patterns (a payload in some), which stay exceptions, exact to the bit.
  rng gen(47);
  const std::size_t n = 30000, cols = 4;
  std::vector<double> rows(n * cols);
  const double quiet = std::numeric_limits<double>::quiet_NaN(), negative = -quiet, payload = double(std::nanf("7"));
  for (std::size_t i = 0; i < n; ++i) {
    double* row = rows.data() + i * cols;
    const bool missing = gen.uniform() < 0.3;
    row[0] = 30 * gen.normal(), row[1] = missing ? quiet : 30 * gen.normal();
    row[2] = missing ? negative : 5 + gen.uniform(), row[3] = missing ? quiet : 100 * gen.uniform();
  }
  auto same_bits = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  auto compress = [&](const std::vector<double>& v, const std::string& spec) {
    dataset d;
    d.data = ndarray::from_doubles(v, {n, cols}, dtype::f32);
    d.names = {"a", "b", "c", "d"};
    const bound_config bc = codec::parse_bound_config(spec);
    std::vector<std::byte> file = codec::compress_error_bounded(d, bc);
    const dataset back = codec::decompress_file(file);
    for (const auto& c : metrics::check_bounds(d, back, bc)) CHECK(c.holds());
    const std::vector<double> y = back.data.to_doubles(), x = d.data.to_doubles();
    std::size_t kept = 0;
    for (std::size_t i = 0; i < v.size(); ++i) kept += !std::isnan(x[i]) || same_bits(x[i], y[i]);
    CHECK(kept == v.size());
    return file;
  };
  for (const std::string spec : {"range:1e-3", "abs:1e-2", "rel:1e-3"}) {
    INFO(spec);
    const std::vector<std::byte> file = compress(rows, spec);
    const format::container c = format::parse(file);
    CHECK(format::inspect(file).format_version >= 4);  // readers before the markers refuse it
    const nlohmann::json& columns = c.header["columns"];
    INFO(columns.dump());
    for (std::size_t col = 1; col < cols; ++col) CHECK(columns[col]["predictor"]["exceptions"] == 0);
    CHECK(columns[2].contains("nan_bits"));  // -NaN, as x86 arithmetic makes it
    CHECK(!columns[1].contains("nan_bits"));
    // Some NaN with a payload: column 3's NaN kept exactly, as exceptions.
    std::vector<double> mixed = rows;
    for (std::size_t i = 0; i < n; i += 2) mixed[i * cols + 3] = std::isnan(mixed[i * cols + 3]) ? payload : mixed[i * cols + 3];
    const std::vector<std::byte> exact = compress(mixed, spec);
    const nlohmann::json exact_columns = format::parse(exact).header["columns"];
    CHECK(!exact_columns[3].contains("nan_below"));
    CHECK(exact_columns[3]["predictor"]["exceptions"].get<std::size_t>() > n / 5);
    // Exceptions cost their index and their 8 bytes (zstd takes most of those away); the rows of
    // a marker cost a code that the column before predicts. At least half a byte a row saved.
    MESSAGE(spec << ": NaN as values " << file.size() << " bytes, as exceptions in one column " << exact.size());
    CHECK(exact.size() > file.size() + n * 3 / 10 / 2);
  }
  // A marker that is not a finite negative number, or bits that are not a NaN's, are refused.
  format::container c = format::parse(compress(rows, "range:1e-3"));
  for (const nlohmann::json& bad : {nlohmann::json("x"), nlohmann::json(1.0)}) {
    format::container crafted = c;
    crafted.header["columns"][1]["nan_below"] = bad;
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(crafted)), doctest::Contains("NaN marker"), error);
  }
  c.header["columns"][2]["nan_bits"] = 1;
  CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(c)), doctest::Contains("NaN bits"), error);
}

TEST_CASE("a column longer than the sample: candidates compared on its first rows, the winner coded whole") {
  // The rows past the sample reach four times further than those in it: what the sample's
  // candidates describe must still fit the whole column.
  rng gen(23);
  const std::size_t n = table_sample_rows + 30000;
  std::vector<double> rows(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    const double reach = i < table_sample_rows ? 1 : 4;
    rows[2 * i] = reach * gen.uniform();
    rows[2 * i + 1] = rows[2 * i] + 0.1 * gen.normal();
  }
  dataset d;
  d.data = ndarray::from_doubles(rows, {n, 2}, dtype::f64);
  d.names = {"a", "b"};
  const bound_config bc = codec::parse_bound_config("range:1e-3");
  const auto file = codec::compress_error_bounded(d, bc);
  for (const auto& c : metrics::check_bounds(d, codec::decompress_file(file), bc)) CHECK(c.holds());
  MESSAGE(n << " rows in " << file.size() << " bytes");
  CHECK(file.size() < n * 2 * 8 / 4);
}

TEST_CASE("counted probabilities learn a stationary histogram to within a percent of its entropy") {
  // 200000 draws of a geometric distribution over 256 values: the rows of a table in no order.
  rng gen(12);
  const std::size_t n = 200000;
  std::vector<double> x(n);
  std::vector<double> count(256, 0);
  for (double& v : x) {
    v = std::min(255.0, std::floor(-20 * std::log(1 - gen.uniform())));
    ++count[std::size_t(v)];
  }
  double entropy_bits = 0;
  for (double c : count)
    if (c > 0) entropy_bits -= c * std::log2(c / double(n));
  const codec::value_code code = codec::value_code::exact();
  const quantised q = quantise(x.data(), n, code, dtype::f64);
  nlohmann::json desc;
  const block_result r = encode_histogram(x.data(), q.k, q.has, 8, desc);
  CHECK(desc["coder"] == "counted_tree");
  MESSAGE("empirical entropy " << entropy_bits / 8 << " bytes, coded " << r.bytes.size());
  CHECK(double(r.bytes.size()) < 1.01 * entropy_bits / 8);
  codec::rans::reader in{byte_view(r.bytes)};
  CHECK(decode_histogram(in, n, code, desc) == x);
}

TEST_CASE("integer columns with few values are coded exactly, and one that another decides costs nothing") {
  // A kaon's charge, its partner's (the opposite), a rare flag and a momentum.
  rng gen(13);
  const std::size_t n = 5000;
  std::vector<double> with(n * 4), without(n * 3);
  for (std::size_t i = 0; i < n; ++i) {
    const double q1 = gen.uniform() < 0.5 ? -1 : 1, flag = gen.uniform() < 0.03 ? 1 : 0, p = 1e3 * gen.uniform();
    const double row[4] = {p, q1, flag, -q1};
    std::copy(row, row + 4, with.begin() + std::ptrdiff_t(i * 4));
    std::copy(row, row + 3, without.begin() + std::ptrdiff_t(i * 3));
  }
  auto table = [](const std::vector<double>& v, std::size_t cols) {
    dataset d;
    d.data = ndarray::from_doubles(v, {v.size() / cols, cols}, dtype::f64);
    d.names = {"p", "q1", "flag", "q2"};
    d.names.resize(cols);
    return d;
  };
  const bound_config b = codec::parse_bound_config("range:1e-3");
  const dataset d = table(with, 4);
  const auto file = codec::compress_error_bounded(d, b);
  const auto small = codec::compress_error_bounded(table(without, 3), b);
  MESSAGE("with the second charge " << file.size() << " bytes, without " << small.size());
  CHECK(file.size() < small.size() + 60);  // its description, and a few bytes
  const auto h = format::inspect(file).header;
  for (std::size_t col : {1, 2, 3}) CHECK(h["columns"][col]["treatment"] == "bounded");
  const dataset back = codec::decompress_file(file);
  const std::vector<double> y = back.data.to_doubles();
  for (std::size_t i = 0; i < n * 4; ++i)
    if (i % 4) REQUIRE(y[i] == with[i]);  // exact
  for (const auto& r : metrics::check_bounds(d, back, b)) CHECK(r.holds());
}

TEST_CASE("a relation network predicts columns no formula explains, within the bound on every value") {
  // y = a b and z = e^a sin 2b: smooth, but in no formula's family. Their blocks beside a and b
  // must cost well under the same columns coded alone.
  rng gen(3);
  const std::size_t n = 5000;
  std::vector<double> inputs, outputs, all;
  for (std::size_t i = 0; i < n; ++i) {
    const double a = gen.uniform(-1, 1), b = gen.uniform(-1, 1), y = a * b, z = std::exp(a) * std::sin(2 * b);
    inputs.insert(inputs.end(), {a, b}), outputs.insert(outputs.end(), {y, z}), all.insert(all.end(), {a, b, y, z});
  }
  auto table_of = [n](const std::vector<double>& v, std::vector<std::string> names) {
    dataset d;
    d.data = ndarray::from_doubles(v, {n, names.size()}, dtype::f64);
    d.names = std::move(names);
    return d;
  };
  const dataset ab = table_of(inputs, {"a", "b"}), yz = table_of(outputs, {"y", "z"}),
                abyz = table_of(all, {"a", "b", "y", "z"});
  for (const std::string spec : {"range:1e-2", "range:1e-3"}) {
    INFO(spec);
    const bound_config bc = codec::parse_bound_config(spec);
    const auto file = codec::compress_error_bounded(abyz, bc);
    for (const auto& c : metrics::check_bounds(abyz, codec::decompress_file(file), bc)) CHECK(c.holds());
    const nlohmann::json columns = format::parse(file).header["columns"];
    CHECK(columns[2]["predictor"]["kind"] == "relation");
    CHECK(columns[3]["predictor"]["kind"] == "relation");
    const double with_inputs = double(file.size() - codec::compress_error_bounded(ab, bc).size());
    const double alone = double(codec::compress_error_bounded(yz, bc).size());
    MESSAGE(spec << ": y and z cost " << with_inputs << " bytes beside a and b, " << alone << " alone");
    CHECK(with_inputs < 0.8 * alone);
  }
}

TEST_CASE("a relation network's predictions, rows side by side, are bit for bit its one-row reference") {
  rng gen(5);
  const std::size_t rows = 37, cols = 9;  // a last group of 5 rows
  std::vector<double> rec(rows * cols);
  for (double& v : rec) v = gen.uniform(-3, 3);
  std::vector<double> target(rows);
  for (std::size_t r = 0; r < rows; ++r) target[r] = std::sin(rec[r * cols + 1]) * rec[r * cols + 6];
  const std::vector<double> lo{-3, -3, -3, -3, -1}, hi{3, 3, 3, 3, 1};
  const codec::relation_net net = codec::relation_net::fit(rec, rows, cols, {1, 2, 6, 8}, target, lo, hi, 3);
  for (const bool fused : {true, false}) {
    const std::vector<double> all = net.predict(rec, rows, cols, fused);
    std::vector<double> u(net.d());
    for (std::size_t r = 0; r < rows; ++r) {
      const double one = net.predict_row(rec.data() + r * cols, u, fused);
      CHECK(std::memcmp(&all[r], &one, sizeof(double)) == 0);
    }
  }
}

TEST_CASE("formula search finds exact relations and ignores unrelated columns") {
  rng gen(9);
  const std::size_t rows = 3000, cols = 6;
  std::vector<double> t(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const double px = gen.normal() * 20, py = gen.normal() * 20, pz = gen.normal() * 50;
    const double row[cols] = {px, py, pz, std::sqrt(px * px + py * py), std::atan2(py, px), gen.normal()};
    std::copy(row, row + cols, t.begin() + r * cols);
  }
  auto column = [&](std::size_t c) {
    std::vector<double> y(rows);
    for (std::size_t r = 0; r < rows; ++r) y[r] = t[r * cols + c];
    return y;
  };
  const std::vector<std::size_t> inputs{0, 1, 2};
  const auto pt = formula::search(t, rows, cols, inputs, column(3));
  REQUIRE(pt);
  CHECK(pt->f == formula::fn::hypot);
  CHECK(pt->alpha == doctest::Approx(1.0).epsilon(1e-9));
  const auto phi = formula::search(t, rows, cols, inputs, column(4));
  REQUIRE(phi);
  CHECK(phi->f == formula::fn::atan2);
  CHECK_FALSE(formula::search(t, rows, cols, inputs, column(5)));
  // It survives the trip through the header.
  const formula back = formula::from_json(pt->to_json(), cols);
  CHECK(back.predict(t, rows, cols) == pt->predict(t, rows, cols));
  CHECK_THROWS_AS(formula::from_json(pt->to_json(), 1), error);  // input 1 out of range
}

TEST_CASE("formula search among many columns: triples from the ones related to the target") {
  rng gen(12);
  const std::size_t rows = 2000, cols = 46;  // px, py, pz, 42 unrelated, eta
  std::vector<double> t(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    double* row = t.data() + r * cols;
    for (std::size_t c = 0; c < cols - 1; ++c) row[c] = gen.normal() * (c == 2 ? 50 : 20);
    row[cols - 1] = std::asinh(row[2] / std::hypot(row[0], row[1]));
  }
  std::vector<std::size_t> inputs(cols - 1);
  for (std::size_t c = 0; c < inputs.size(); ++c) inputs[c] = (c * 7) % inputs.size();  // px, py, pz scattered
  std::vector<double> eta(rows);
  for (std::size_t r = 0; r < rows; ++r) eta[r] = t[r * cols + cols - 1];
  const auto f = formula::search(t, rows, cols, inputs, eta);
  REQUIRE(f);
  CHECK(f->f == formula::fn::eta);
  CHECK(f->in[2] == 2);
}

TEST_CASE("formula search among many columns: pairs from the ones related to the target") {
  // px and py among 198 unrelated columns: the azimuth follows px only in its magnitude (|phi|
  // is small where px > 0), the transverse momentum follows |px|; both are found.
  rng gen(21);
  const std::size_t rows = 2000, cols = 202;  // 200 inputs, pt, phi
  std::vector<double> t(rows * cols);
  const std::size_t px = 137, py = 59;
  for (std::size_t r = 0; r < rows; ++r) {
    double* row = t.data() + r * cols;
    for (std::size_t c = 0; c < cols - 2; ++c) row[c] = gen.normal() * 20;
    row[cols - 2] = std::hypot(row[px], row[py]);
    row[cols - 1] = std::atan2(row[py], row[px]);
  }
  std::vector<std::size_t> inputs(cols - 2);
  for (std::size_t c = 0; c < inputs.size(); ++c) inputs[c] = c;
  auto column = [&](std::size_t c) {
    std::vector<double> y(rows);
    for (std::size_t r = 0; r < rows; ++r) y[r] = t[r * cols + c];
    return y;
  };
  const std::vector<double> pt = column(cols - 2), phi = column(cols - 1);
  const std::vector<bool> tried = formula::related(t, rows, cols, inputs, phi, formula::max_search_inputs);
  CHECK(std::size_t(std::count(tried.begin(), tried.end(), true)) == formula::max_search_inputs);
  CHECK(tried[px]);
  CHECK(tried[py]);
  const auto a = formula::search(t, rows, cols, inputs, phi);
  REQUIRE(a);
  CHECK(a->f == formula::fn::atan2);
  CHECK(a->in[0] == px);
  CHECK(a->in[1] == py);
  const auto h = formula::search(t, rows, cols, inputs, pt);
  REQUIRE(h);
  CHECK(h->f == formula::fn::hypot);
  CHECK(std::set<std::size_t>{h->in[0], h->in[1]} == std::set<std::size_t>{px, py});
}

TEST_CASE("linear formula: fractions that sum to one; not unrelated columns") {
  rng gen(4);
  const std::size_t rows = 5000, cols = 6;
  std::vector<double> t(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const double a = std::exp(gen.normal()), b = std::exp(gen.normal()), c = std::exp(gen.normal());
    const double sum = a + b + c;
    const double row[cols] = {a / sum, b / sum, c / sum, 1000 * a, gen.normal(), gen.normal()};
    std::copy(row, row + cols, t.begin() + r * cols);
  }
  auto column = [&](std::size_t c) {
    std::vector<double> y(rows);
    for (std::size_t r = 0; r < rows; ++r) y[r] = t[r * cols + c];
    return y;
  };
  const auto third = formula::search_linear(t, rows, cols, {0, 1, 4}, column(2));  // 1 - first - second
  REQUIRE(third);
  CHECK(third->f == formula::fn::linear);
  const std::vector<double> y = column(2), p = third->predict(t, rows, cols);
  double worst = 0;
  for (std::size_t r = 0; r < rows; ++r) worst = std::max(worst, std::abs(p[r] - y[r]));
  CHECK(worst < 1e-9);
  CHECK_FALSE(formula::search_linear(t, rows, cols, {4, 5}, column(3)));  // a is not among the inputs
  CHECK_FALSE(formula::search_linear(t, rows, cols, {0, 1, 2}, column(4)));
  // It survives the trip through the header, and a crafted one is refused.
  const formula back = formula::from_json(third->to_json(), cols);
  CHECK(back.predict(t, rows, cols) == p);
  nlohmann::json bad = third->to_json();
  bad["weights"].push_back(1.0);
  CHECK_THROWS_WITH_AS(formula::from_json(bad, cols), doctest::Contains("a weight each"), error);
}

TEST_CASE("real data: predictors are chosen per block, derived columns cost little, bounds hold") {
  const dataset cms = shared("hep/cms_zmumu_2011a.npz");
  cpu be(1);
  codec::codec_options o;
  o.error_bound = codec::parse_bound_config("range:1e-3");
  codec::Codec<cpu, models::AE<cpu, float>> c(be, o);
  c.train(cms);
  CHECK(c.latent_note().find("no autoencoder trained") == 0);  // the estimate says it cannot pay
  const auto file = c.compress(cms);
  std::size_t formulas = 0;
  for (const auto& b : c.bounded_report())
    if (b.chosen == "formula") {
      ++formulas;
      CHECK(double(b.bytes) * 8 / double(cms.data.shape[0]) < 3.0);  // bits a value
    }
  CHECK(formulas >= 6);  // pt, eta, phi, E of the muons
  const dataset back = c.decompress(file);
  for (const auto& r : metrics::check_bounds(cms, back, o.error_bound)) CHECK(r.holds());

  const dataset field = shared("fields/sperr_vorticity_512x512.npz");
  const auto ffile = codec::compress_error_bounded(field, codec::parse_bound_config("range:1e-3"));
  const auto h = format::inspect(ffile).header;
  const std::string kind = h["error_bound"]["predictor"]["kind"];
  CHECK((kind == "causal_deep" || kind == "causal_regional"));  // learned weights, one set or one a region
  // with phases, and residuals requantised or not
  const std::string coder = h["error_bound"]["predictor"]["coder"];
  CHECK((coder == "context_phased" || coder == "coarse_context_phased"));
  const dataset fback = codec::decompress_file(ffile);
  const auto x = field.data.to_doubles(), y = fback.data.to_doubles();
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  check_within(x, y, codec::parse_bound("range:1e-3"), *lo, *hi, true);
}

TEST_CASE("table columns coded at once: the same file and report for any number of workers") {
  // LHCb: floats, formulas, relation networks and exact integer columns; NaN in one column and
  // an Inf in another, so columns that neither partner nor feed a formula are in the order too.
  dataset lhcb = shared("hep/lhcb_b2kkk.npz");
  std::vector<double> v = lhcb.data.to_doubles();
  const std::size_t cols = lhcb.data.shape[1];
  for (std::size_t r = 0; r < 40; ++r) v[(r * 97) * cols + 3] = std::nan("");
  v[11 * cols + 7] = -INFINITY;
  lhcb.data = ndarray::from_doubles(v, lhcb.data.shape, dtype::f64);
  auto compress = [&](unsigned threads, bounded::report& r) {
    codec::codec_options o;
    o.allow_non_finite = true;
    o.threads = threads;
    return compress_reporting(lhcb, codec::parse_bound_config("range:1e-3"), r, o);
  };
  bounded::report one, two, all;
  const std::vector<std::byte> sequential = compress(1, one);
  CHECK(compress(2, two) == sequential);
  CHECK(compress(0, all) == sequential);
  REQUIRE(one.size() == two.size());
  for (std::size_t i = 0; i < one.size(); ++i) CHECK((one[i].block == two[i].block && one[i].bytes == two[i].bytes));
  const dataset back = codec::decompress_file(sequential);
  for (const auto& r : metrics::check_bounds(lhcb, back, codec::parse_bound_config("range:1e-3"))) CHECK(r.holds());
  // Workers: as many as asked, no more than the columns' scratch allows on a long table.
  auto shape = [](std::size_t cols, std::size_t rows) {
    table t;
    t.cols = cols, t.rows = rows;
    return t;
  };
  CHECK(bounded::column_workers(shape(4, 100), 3) == 3);
  CHECK(bounded::column_workers(shape(4, std::size_t(1) << 24), 8) == 1);
  CHECK(bounded::column_workers(shape(64, std::size_t(1) << 24), 16) == 8);
}

TEST_CASE("a block never costs more than its codes through zstd: repeated data takes the fallback") {
  rng gen(4);
  std::vector<double> period(2000);
  for (double& x : period) x = gen.normal();
  // 40,000 rows, and 400,000 (800 KB of 2-byte codes: past fallback_sample_bytes, a sample decides).
  for (int repeats : {20, 200}) {
    std::vector<double> v;
    for (int rep = 0; rep < repeats; ++rep) v.insert(v.end(), period.begin(), period.end());
    dataset d;
    d.data = ndarray::from_doubles(v, {v.size(), 1}, dtype::f64);
    d.names = {"repeats"};
    const auto file = codec::compress_error_bounded(d, codec::parse_bound_config("range:1e-4"));
    CHECK(format::inspect(file).header["columns"][0]["predictor"]["coder"] == "zstd");
    CHECK(file.size() < v.size() * 20 / repeats);  // under a byte a value: the repeats cost almost nothing
    for (const auto& r : metrics::check_bounds(d, codec::decompress_file(file), codec::parse_bound_config("range:1e-4")))
      CHECK(r.holds());
  }
}

TEST_CASE("past 256 KB of codes, a sample decides whether zstd -19 runs on the whole") {
  // 262,144 codes of 4 bytes: random ones, which no zstd level compresses, and a period of
  // 1,024 of them repeated, which -19 takes to almost nothing.
  rng gen(5);
  const std::size_t n = std::size_t(1) << 18;
  quantised noise, periodic;
  noise.k.resize(n), noise.has.assign(n, true), periodic.has.assign(n, true);
  for (std::int64_t& k : noise.k) k = std::int64_t(gen.next() >> 32);
  for (std::size_t i = 0; i < n; ++i) periodic.k.push_back(noise.k[i % 1024]);
  const code_planes noisy(nullptr, noise, false), repeating(nullptr, periodic, false);
  REQUIRE(noisy.width() == 4);
  REQUIRE(noisy.size() > fallback_sample_bytes);
  // The noise's -19 size is about its own size: a `beat` 10 % below that refuses it, 10 % above lets it run.
  CHECK_FALSE(fallback_may_win(noisy, noisy.size() * 9 / 10));
  CHECK(fallback_may_win(noisy, noisy.size() * 11 / 10));
  // The repeats: -19 wins against a beat of a hundredth of their size.
  CHECK(fallback_may_win(repeating, repeating.size() / 100));
  CHECK_FALSE(fallback_may_win(repeating, 10));
  // The planes made a piece at a time are those made at once: byte b of row i at b n + i.
  std::vector<std::byte> planes(repeating.size());
  for (std::size_t from = 0; from < planes.size(); from += 100000)
    repeating.copy(from, std::min<std::size_t>(100000, planes.size() - from), planes.data() + from);
  const std::int64_t lo = repeating.lo();
  for (std::size_t i : {std::size_t(0), std::size_t(1), n / 3, n - 1})
    for (std::size_t b = 0; b < 4; ++b)
      CHECK(std::uint8_t(planes[b * n + i]) == std::uint8_t(std::uint64_t(periodic.k[i] - lo) >> (8 * b)));
}

// Fixtures: files written by earlier builds, each decoded here within the bound it was written
// with. format_v1/: the fixed-width container. turbulence64_causal.baler: the context coder
// before predictions had a phase (a causal predictor, coder "context"), written by baler 0.1.0
// at range:1e-2. cms_context.baler: table columns of coder "context", before "context_signed"
// (constant, previous and formula predictors, with and without a partner), at range:1e-3.
// format_v3/: the varint container with its one CRC and the second header dictionary, and
// today's predictors (lorenzo, causal_deep, histogram, formula, constant and previous), each
// written by `baler compress ORIGINAL --error-bound BOUND`; peaks2000.npz is 2000 rows of a
// two-peaked, an exponential and a uniform column (numpy, seed 7).
namespace {
struct fixture_case {
  const char* file;
  const char* original;  // under tests/data/
  const char* bound;
};
void check_fixtures(const std::string& version_dir, std::initializer_list<fixture_case> cases) {
  const std::string data = std::string(BALER_TEST_DIR) + "/data/";
  for (const fixture_case& f : cases) {
    INFO(version_dir << f.file);
    const dataset original = load_dataset(data + f.original);
    const dataset back = codec::decompress_file(read_file(data + version_dir + f.file));
    CHECK(back.data.shape == original.data.shape);
    for (const auto& r : metrics::check_bounds(original, back, codec::parse_bound_config(f.bound))) CHECK(r.holds());
  }
}
}  // namespace

TEST_CASE("files of format version 1 with the order-0 coder, or earlier context coders, still decompress") {
  check_fixtures("format_v1/", {{"cms_range.baler", "format_v1/cms500.npz", "range:1e-3"},
                                {"cms_rel.baler", "format_v1/cms500.npz", "rel:1e-3,Run=abs:1"},
                                {"cfd_range.baler", "format_v1/cfd6.npz", "range:1e-3"},
                                {"cms_context.baler", "format_v1/cms500.npz", "range:1e-3"},
                                {"turbulence64_causal.baler", "format_v1/turbulence64.npz", "range:1e-2"}});
  const dataset cms = load_dataset(std::string(BALER_TEST_DIR) + "/data/format_v1/cms500.npz");
  const dataset plain = codec::decompress_file(read_file(std::string(BALER_TEST_DIR) + "/data/format_v1/cms_plain.baler"));
  CHECK(plain.data.shape == cms.data.shape);
}

TEST_CASE("files of format version 3 still decompress") {
  check_fixtures("format_v3/", {{"cms_range.baler", "format_v1/cms500.npz", "range:1e-3"},
                                {"cms_rel.baler", "format_v1/cms500.npz", "rel:1e-3"},
                                {"cfd_range.baler", "format_v1/cfd6.npz", "range:1e-2"},
                                {"turbulence64_range.baler", "format_v1/turbulence64.npz", "range:1e-2"},
                                {"peaks_range.baler", "format_v3/peaks2000.npz", "range:1e-3"}});
  const std::string file = std::string(BALER_TEST_DIR) + "/data/format_v3/turbulence64_range.baler";
  CHECK(format::inspect(read_file(file)).format_version == 3);
}

// format_v4/: before the offsets of 64-bit integers (format version 5), written by the build of
// a499b4e; jets600_nan.npz is 600 rows of pt, eta, m and a second pt missing (NaN) in 30 %
// (numpy, seed 5), its NaN coded through the column's marker ("nan_below").
TEST_CASE("files of format version 4 still decompress") {
  check_fixtures("format_v4/", {{"cms_range.baler", "format_v1/cms500.npz", "range:1e-3"},
                                {"jets_nan_range.baler", "format_v4/jets600_nan.npz", "range:1e-3"}});
  const std::string file = std::string(BALER_TEST_DIR) + "/data/format_v4/jets_nan_range.baler";
  CHECK(format::inspect(read_file(file)).format_version == 4);
  CHECK(format::inspect(read_file(file)).header.dump().find("nan_below") != std::string::npos);
}

// format_v5/: before headers left out what a reader derives (format version 6: a column's
// name, an abs code's step), written by the build of 36d6b14; times300.npz is 300 rows of int64
// nanosecond times past 2^53 and counts (numpy, seed 11), held less their offsets.
TEST_CASE("files of format version 5 still decompress") {
  check_fixtures("format_v5/", {{"times_abs.baler", "format_v5/times300.npz", "abs:10"},
                                {"turbulence64_range.baler", "format_v1/turbulence64.npz", "range:1e-2"}});
  const std::string data = std::string(BALER_TEST_DIR) + "/data/format_v5/";
  const format::container_info info = format::inspect(read_file(data + "times_abs.baler"));
  CHECK(info.format_version == 5);
  CHECK(info.header.at("columns").at(0).at("name") == "t_ns");
  CHECK(info.header.at("columns").at(0).at("code").contains("step"));
  // Its int64 times come back bit for bit, as the bound of an integer column asks.
  CHECK(codec::decompress_file(read_file(data + "times_abs.baler")).data == load_dataset(data + "times300.npz").data);
}

TEST_CASE("refusals: per-column bounds on a field, predictions that differ where the file is decoded") {
  dataset field;
  field.data = ndarray::from_doubles(smooth_field(4, 16, 16), {4, 16, 16}, dtype::f64);
  CHECK_THROWS_WITH_AS(codec::compress_error_bounded(field, codec::parse_bound_config("range:1e-3,f7=abs:1")),
                       doctest::Contains("per-column bounds"), error);

  // A formula-predicted column whose stored check no longer matches is refused, not returned.
  const dataset cms = load_dataset(std::string(BALER_TEST_DIR) + "/data/format_v1/cms500.npz");
  const auto file = codec::compress_error_bounded(cms, codec::parse_bound_config("range:1e-3"));
  format::container c = format::parse(file);
  bool tampered = false;
  for (auto& col : c.header["columns"])
    if (col.contains("predictor") && col["predictor"].contains("check") && !tampered)
      col["predictor"]["check"] = col["predictor"]["check"].get<std::uint32_t>() ^ 1u, tampered = true;
  REQUIRE(tampered);
  CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(c, format::compression_policy::none())),
                       doctest::Contains("refusing to return values"), error);

  // Phases only where a predictor has them; a coder this reader does not know is named.
  for (const auto& [kind, coder, message] : {std::tuple{"lorenzo", "context_phased", "with a 'lorenzo' predictor"},
                                             std::tuple{"lorenzo", "context_signed", "on a field"},
                                             std::tuple{"causal_deep", "context_phased", "weights must be an array of 17"},
                                             std::tuple{"causal", "context_phased_v2", "unknown residual coder"}}) {
    format::container f = format::parse(codec::compress_error_bounded(field, codec::parse_bound_config("range:1e-2")));
    nlohmann::json& predictor = f.header["error_bound"]["predictor"];
    predictor["kind"] = kind;
    predictor["coder"] = coder;
    predictor["weights"] = std::vector<int>(11, 0);
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains(message), error);
  }
  // A weight past 32 bits (a fuzzer's 1.8e53) is refused, not cast (undefined behaviour).
  for (const nlohmann::json& bad : {nlohmann::json(1.8e53), nlohmann::json(std::int64_t(1) << 31), nlohmann::json(0.5)}) {
    format::container f = format::parse(codec::compress_error_bounded(field, codec::parse_bound_config("range:1e-2")));
    nlohmann::json& predictor = f.header["error_bound"]["predictor"];
    predictor["kind"] = "causal_deep";
    predictor["coder"] = "context_phased";
    predictor["weights"] = std::vector<int>(17, 0);
    predictor["weights"][5] = bad;
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains("a causal predictor's weights must be a whole number"), error);
  }

  // A moving predictor on fewer than 3 frames, or moving past its grid, is refused.
  dataset two_frames;
  two_frames.data = ndarray::from_doubles(smooth_field(2, 16, 16), {2, 16, 16}, dtype::f64);
  for (const auto& [frames, motion] : {std::pair{&field, nlohmann::json::array({16, 0})},
                                       std::pair{&field, nlohmann::json::array({0, -16})},
                                       std::pair{&two_frames, nlohmann::json::array({0, 1})}}) {
    format::container f = format::parse(codec::compress_error_bounded(*frames, codec::parse_bound_config("range:1e-2")));
    nlohmann::json& predictor = f.header["error_bound"]["predictor"];
    predictor["kind"] = "causal_motion";
    predictor["coder"] = "context_phased";
    predictor["weights"] = std::vector<int>(17, 0);
    predictor["motion"] = motion;
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains("a moving causal predictor on fewer than 3 frames"), error);
  }

  // Regions: 1 to 64 along each axis and no more than its rows or columns, one weight set each.
  for (const auto& [regions, sets, message] :
       {std::tuple{nlohmann::json::array({0, 2}), 0, "regions must be 1 to 64"},
        std::tuple{nlohmann::json::array({2, 65}), 130, "regions must be 1 to 64"},
        std::tuple{nlohmann::json::array({17, 1}), 17, "no more than its rows"},
        std::tuple{nlohmann::json::array({2, 2}), 3, "one weight set per region"},
        std::tuple{nlohmann::json::array({2, 2, 2}), 8, "must be an array of 2"}}) {
    format::container f = format::parse(codec::compress_error_bounded(field, codec::parse_bound_config("range:1e-2")));
    nlohmann::json& predictor = f.header["error_bound"]["predictor"];
    predictor["kind"] = "causal_regional";
    predictor["coder"] = "context_phased";
    predictor["regions"] = regions;
    predictor["weights"] = std::vector<std::vector<int>>(std::size_t(sets), std::vector<int>(17, 0));
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains(message), error);
  }

  // Requantised residuals: on a field walk only, by a factor of 2 to 2^20.
  const dataset turbulence = shared("fields/sperr_vorticity_512x512.npz");
  const format::container coarse =
      format::parse(codec::compress_error_bounded(turbulence, codec::parse_bound_config("range:1e-2")));
  REQUIRE(coarse.header["error_bound"]["predictor"].contains("coarse"));
  for (const auto& [key, value, message] :
       {std::tuple{"coarse", nlohmann::json(1), "a bad requantised block"},
        std::tuple{"coarse", nlohmann::json(std::int64_t(1) << 40), "a bad requantised block"},
        std::tuple{"coarse", nlohmann::json("64"), "requantising factor"},
        std::tuple{"coder", nlohmann::json("coarse_context_v9"), "unknown residual coder"},
        std::tuple{"coder", nlohmann::json("graded_coarse_context_v9"), "unknown residual coder"},
        std::tuple{"coder", nlohmann::json("graded_context_phased"), "graded residuals that are not requantised"}}) {
    format::container f = coarse;
    f.header["error_bound"]["predictor"][key] = value;
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains(message), error);
  }
  // Graded requantising is an interpolation's only.
  format::container lorenzo = coarse;
  lorenzo.header["error_bound"]["predictor"] = {{"kind", "lorenzo"}, {"coarse", 64}, {"coder", "graded_coarse_context"}, {"offset", 0}};
  CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(lorenzo, format::compression_policy::none())),
                       doctest::Contains("graded requantising with a 'lorenzo' predictor"), error);

  // A PSNR target's refinement: one integer weight per neighbour, only on values with codes.
  const format::container refined = format::parse(codec::compress_error_bounded(
      load_dataset(std::string(BALER_TEST_DIR) + "/../examples/data/CFD_animation.npz"), codec::parse_bound_config("psnr:70")));
  REQUIRE(refined.header["error_bound"].contains("refine"));
  nlohmann::json huge = std::vector<int>(26, 0);
  huge[3] = std::uint64_t(1) << 63;
  for (const auto& [weights, message] : {std::pair{nlohmann::json(std::vector<int>(8, 0)), "one weight per neighbour (26)"},
                                         std::pair{huge, "at most 2^20"}}) {
    format::container f = refined;
    f.header["error_bound"]["refine"] = weights;
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains(message), error);
  }
}

TEST_CASE("the latent predictor: never, always, and files that use it decode within the bound") {
  const dataset lhcb = load_dataset(std::string(BALER_SHARED_DATA) + "/hep/lhcb_b2kkk.npz");
  cpu be(1);
  for (auto [use, type] : {std::pair{codec::latent_use::never, latent_dtype::f16},
                           std::pair{codec::latent_use::always, latent_dtype::f16},
                           std::pair{codec::latent_use::always, latent_dtype::q}}) {
    INFO(baler::name(type));
    codec::codec_options o;
    o.error_bound = codec::parse_bound_config("range:1e-2");
    o.latent_predictor = use;
    o.latent_type = o.weights_type = type;
    o.epochs = 20;
    codec::Codec<cpu, models::AE<cpu, float>> c(be, o);
    const auto& h = c.train(lhcb);
    CHECK(h.epochs.empty() == (use == codec::latent_use::never));
    const dataset back = c.decompress(c.compress(lhcb));
    for (const auto& r : metrics::check_bounds(lhcb, back, o.error_bound)) CHECK(r.holds());
  }
}

TEST_CASE("fast effort: fields without fits over the whole, tables without networks or mixing; within the bound") {
  // Of every candidate a thorough search tries, fast tries only those that need no fit over the
  // whole field: the report lists what was tried.
  for (const char* file : {"cfd/CFD_animation.npz", "fields/sperr_vorticity_512x512.npz"}) {
    const dataset d = shared(file);
    for (const char* bound : {"range:1e-2", "range:1e-4", "rel:1e-3", "psnr:70"}) {
      INFO((std::string(file) + " " + bound));
      const bound_config bc = codec::parse_bound_config(bound);
      codec::codec_options o;
      report thorough_report, fast_report;
      const std::size_t thorough = compress_reporting(d, bc, thorough_report, o).size();
      o.effort = codec::search_effort::fast;
      const std::vector<std::byte> fast = compress_reporting(d, bc, fast_report, o);
      REQUIRE(fast_report.size() == 1);
      for (const auto& [label, bytes] : fast_report[0].estimates) {
        INFO(label);
        for (const char* thorough_only : {"requantised", "fitted on the field", "learned", "regional", "wavelet"})
          CHECK(label.find(thorough_only) == std::string::npos);
      }
      CHECK(fast_report[0].estimates.size() < thorough_report[0].estimates.size());
      const dataset back = codec::decompress_file(byte_view(fast));
      for (const auto& r : metrics::check_bounds(d, back, bc)) CHECK(r.holds());
      MESSAGE((std::string(file) + " " + bound + ": thorough " + std::to_string(thorough) + " bytes, fast " +
              std::to_string(fast.size())));
      CHECK(double(fast.size()) < 1.35 * double(thorough));
    }
  }
  // A table: no relation network or mixed histogram, every column within its bound.
  const dataset cms = shared("hep/cms_zmumu_2011a.npz");
  const bound_config bc = codec::parse_bound_config("range:1e-3");
  codec::codec_options o;
  report thorough_report, fast_report;
  const std::size_t thorough = compress_reporting(cms, bc, thorough_report, o).size();
  o.effort = codec::search_effort::fast;
  const std::vector<std::byte> fast = compress_reporting(cms, bc, fast_report, o);
  REQUIRE(fast_report.size() == thorough_report.size());
  bool thorough_mixes = false;  // so that the labels looked for below are the ones a report gives
  for (const block_report& b : thorough_report)
    for (const auto& [label, bytes] : b.estimates) thorough_mixes = thorough_mixes || label.find("mixed") != std::string::npos;
  CHECK(thorough_mixes);
  for (std::size_t c = 0; c < fast_report.size(); ++c)
    for (const auto& [label, bytes] : fast_report[c].estimates) {
      INFO((fast_report[c].block + ": " + label));
      CHECK(label.find("mixed") == std::string::npos);
      CHECK(label.find("relation") == std::string::npos);
    }
  for (const auto& r : metrics::check_bounds(cms, codec::decompress_file(byte_view(fast)), bc)) CHECK(r.holds());
  MESSAGE(("CMS range:1e-3: thorough " + std::to_string(thorough) + " bytes, fast " + std::to_string(fast.size())));
  CHECK(double(fast.size()) < 1.1 * double(thorough));
}

TEST_CASE("wavelet: the integer CDF 9/7 transform comes back to within its rounding, on every grid shape") {
  std::mt19937 rng(5);
  std::uniform_int_distribution<std::int64_t> noise(-50, 50);
  for (const grid3& g : {grid3{1, 1, 8}, grid3{1, 1, 9}, grid3{1, 13, 8}, grid3{7, 9, 11}, grid3{60, 50, 50},
                         grid3{3, 1, 40}, grid3{1, 1, 7}}) {
    INFO(g[0] << " x " << g[1] << " x " << g[2]);
    const std::vector<wavelet::level> ls = wavelet::levels_of(g);
    const std::size_t n = g[0] * g[1] * g[2];
    CHECK(ls.empty() == (std::max({g[0], g[1], g[2]}) < wavelet::min_length));
    std::vector<std::int64_t> x(n);
    for (std::size_t i = 0; i < n; ++i)  // a smooth field of ~2^20 codes, and noise
      x[i] = std::llround(1e6 * std::sin(double(i % g[2]) / 5 + double(i / g[2] % g[1]) / 7 + double(i / g[2] / g[1]) / 3)) +
             noise(rng);
    std::vector<std::int64_t> w = x;
    wavelet::forward(w, g, ls);
    if (!ls.empty()) CHECK(w != x);
    // The plain reference: a line at a time (forward takes the slow axes' lines a row at a time).
    std::vector<std::int64_t> reference = x, s, d;
    const std::array<std::size_t, 3> stride = {g[1] * g[2], g[2], 1};
    for (const wavelet::level& l : ls)
      for (std::size_t a = 0; a < 3; ++a)
        if (l.split[a])
          for (std::size_t i = 0; i < n; ++i) {
            const std::array<std::size_t, 3> at = {i / stride[0], i / stride[1] % g[1], i % g[2]};
            if (at[a] == 0 && at[0] < l.region[0] && at[1] < l.region[1] && at[2] < l.region[2])
              wavelet::forward_lines(reference.data() + i, stride[a], l.region[a], 1, s, d);
          }
    CHECK(reference == w);
    // A smooth field: most of its energy in the coarsest band, the finest band's cells small.
    const std::vector<std::int64_t> y = wavelet::lattice_of(w, 1, g, ls);
    std::int64_t worst = 0;
    for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(y[i] - x[i]));
    CHECK(worst <= 16);  // each level's rounding, grown by the levels above it: a few codes in 2^20
    // The parent of every detail cell lies in the level above and keeps its orientation.
    for (std::size_t l = 0; l + 1 < ls.size(); ++l)
      for (std::size_t i = 0; i < ls[l].region[0]; ++i)
        for (std::size_t j = 0; j < ls[l].region[1]; ++j)
          for (std::size_t k = 0; k < ls[l].region[2]; ++k)
            if (const auto p = wavelet::parent_of(g, ls, l, {i, j, k})) {
              const std::size_t pi = *p / (g[1] * g[2]), pj = *p / g[2] % g[1], pk = *p % g[2];
              CHECK((pi < ls[l + 1].region[0] && pj < ls[l + 1].region[1] && pk < ls[l + 1].region[2]));
            }
  }
}

TEST_CASE("wavelet: a PSNR target on real fields, the smallest file where the transform pays, refusals") {
  for (const auto& [name, target, wins] : {std::tuple{"cfd/CFD_animation.npz", 30.0, true},
                                           std::tuple{"cfd/CFD_animation.npz", 45.0, true},
                                           std::tuple{"fields/sperr_vorticity_512x512.npz", 40.0, true},
                                           std::tuple{"fields/sperr_vorticity_512x512.npz", 70.0, false}}) {
    INFO(name << " at psnr:" << target);
    const dataset d = shared(name);
    const auto bound = codec::parse_bound_config("psnr:" + std::to_string(target));
    const std::vector<std::byte> file = codec::compress_error_bounded(d, bound);
    const format::container c = format::parse(file);
    const nlohmann::json& predictor = c.header["error_bound"]["predictor"];
    CHECK((predictor.value("kind", "") == "wavelet") == wins);
    const dataset back = codec::decompress_file(file);
    for (const auto& r : metrics::check_bounds(d, back, bound)) CHECK(r.holds());
    // Integers only: the same values from the same file, and within 0.3 dB of the target.
    CHECK(codec::decompress_file(file).data.to_doubles() == back.data.to_doubles());
    for (const auto& r : metrics::check_bounds(d, back, codec::parse_bound_config("psnr:" + std::to_string(target + 0.3))))
      CHECK_FALSE(r.holds());
    if (!wins) continue;
    for (const auto& [key, value, message] :
         {std::tuple{"levels", nlohmann::json(0), "a wavelet block with 0 levels"},
          std::tuple{"levels", nlohmann::json(99), "a wavelet block with 99 levels"},
          std::tuple{"step", nlohmann::json(0), "step 0"},
          std::tuple{"step", nlohmann::json(std::int64_t(1) << 40), "a wavelet block with"},
          std::tuple{"base", nlohmann::json("0"), "a wavelet block's base"}}) {
      format::container f = c;
      f.header["error_bound"]["predictor"][key] = value;
      CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                           doctest::Contains(message), error);
    }
    // Levels the grid does not have (a 2-D field has one more than CFD's 60 frames allow).
    format::container f = c;
    f.header["error_bound"]["predictor"]["levels"] = predictor["levels"].get<int>() + 1;
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains("on this grid"), error);
    // Cut short, or refined: refused.
    f = c;
    for (auto& section : f.sections)
      if (section.kind == "RESQ") section.payload.resize(section.payload.size() / 2);
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains("truncated"), error);
    f = c;
    f.header["error_bound"]["refine"] = std::vector<int>(26, 0);
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains("a wavelet block past RESQ, or refined"), error);
  }
}

TEST_CASE("wavelet corrected: a fixed bound on a smooth field, every value within it, refusals") {
  // Smooth waves and noise of 0.4 % of their range: where the wavelet leads at a loose bound.
  dataset d;
  {
    std::vector<double> x = smooth_field(32, 64, 64);
    rng gen(12);
    for (double& v : x) v += 0.01 * gen.normal();
    d.data = ndarray::from_doubles(x, {32, 64, 64}, dtype::f64);
  }
  for (const auto& [type, bound] : {std::pair{dtype::f64, "range:1e-2"}, std::pair{dtype::f32, "range:1e-2"}}) {
    INFO(std::string(bound) << (type == dtype::f64 ? " as float64" : " as float32"));
    const dataset in{ndarray::from_doubles(d.data.to_doubles(), d.data.shape, type), {}};
    const auto config = codec::parse_bound_config(bound);
    const std::vector<std::byte> file = codec::compress_error_bounded(in, config);
    const format::container c = format::parse(file);
    const nlohmann::json& predictor = c.header["error_bound"]["predictor"];
    CHECK(predictor.value("coder", "") == wavelet::corrected_coder_name);
    // The header's code is the bound's, checked on every value as decompress returns it.
    const double allowed = c.header["error_bound"]["code"]["bound"].get<double>();
    const dataset back = codec::decompress_file(file);
    const std::vector<double> x = in.data.to_doubles(), y = back.data.to_doubles();
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(y[i] - x[i]));
    CHECK(worst <= allowed);
    CHECK(worst > 0.9 * allowed);  // the corrections leave up to the bound, not far below it
    for (const auto& r : metrics::check_bounds(in, back, config)) CHECK(r.holds());
    // Smaller than the best pointwise predictor: what it is there for.
    CHECK(file.size() < 8000);  // the best pointwise predictor's block alone: 9,081 bytes (float64); this file 6,938
    for (const auto& [key, value, message] :
         {std::tuple{"correction", nlohmann::json(0), "correction width"},
          std::tuple{"correction", nlohmann::json("15"), "a wavelet block's correction"},
          std::tuple{"lattice", nlohmann::json{{"kind", "rel"}, {"bound", 0.1}, {"per_octave", 5}}, "correction width"},
          std::tuple{"levels", nlohmann::json(0), "a wavelet block with 0 levels"}}) {
      format::container f = c;
      f.header["error_bound"]["predictor"][key] = value;
      CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                           doctest::Contains(message), error);
    }
    format::container f = c;
    for (auto& section : f.sections)
      if (section.kind == "RESQ") section.payload.resize(section.payload.size() - 40);
    CHECK_THROWS_WITH_AS(codec::decompress_file(format::serialize(f, format::compression_policy::none())),
                         doctest::Contains("truncated"), error);
  }
}
