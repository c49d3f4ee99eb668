// Latent storage types: names, sizes, little-endian bytes, and refusal to overflow silently.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "baler/format/latent_dtype.hpp"

using baler::latent_dtype;

namespace {

std::vector<std::uint8_t> as_u8(const std::vector<std::byte>& b) {
  std::vector<std::uint8_t> out;
  for (std::byte x : b) out.push_back(std::to_integer<std::uint8_t>(x));
  return out;
}

std::string message_of(const std::vector<float>& x, latent_dtype t) {
  try {
    baler::encode_latent(x.data(), x.size(), t);
  } catch (const baler::error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("latent_dtype: names, parsing, sizes") {
  for (latent_dtype t : {latent_dtype::f32, latent_dtype::f16, latent_dtype::bf16, latent_dtype::q})
    CHECK(baler::parse_latent_dtype(baler::name(t)) == t);
  CHECK(std::string(baler::name(latent_dtype::bf16)) == "bf16");
  CHECK(baler::bytes_per_value(latent_dtype::f32) == 4);
  CHECK(baler::bytes_per_value(latent_dtype::f16) == 2);
  CHECK(baler::bytes_per_value(latent_dtype::bf16) == 2);
  // Quantised values are coded to a length of their own.
  CHECK_THROWS_WITH_AS(baler::bytes_per_value(latent_dtype::q), doctest::Contains("no fixed width"), baler::error);
  CHECK_THROWS_WITH_AS(baler::parse_latent_dtype("float16"),
                       "latent_dtype::parse(): unknown latent dtype 'float16'; expected f32, f16, bf16 or q",
                       baler::error);
  CHECK_THROWS_AS(baler::parse_latent_dtype(""), baler::error);
  CHECK_THROWS_AS(baler::parse_latent_dtype("F16"), baler::error);
}

TEST_CASE("encode_latent writes little-endian bytes") {
  const std::vector<float> x{1.0f, -2.0f};
  CHECK(as_u8(baler::encode_latent(x.data(), 2, latent_dtype::f16)) == std::vector<std::uint8_t>{0x00, 0x3C, 0x00, 0xC0});
  CHECK(as_u8(baler::encode_latent(x.data(), 2, latent_dtype::bf16)) == std::vector<std::uint8_t>{0x80, 0x3F, 0x00, 0xC0});
  CHECK(as_u8(baler::encode_latent(x.data(), 2, latent_dtype::f32)) ==
        std::vector<std::uint8_t>{0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0});
  CHECK(baler::encode_latent(x.data(), 0, latent_dtype::f16).empty());
  CHECK(baler::decode_latent(baler::byte_view(), 0, latent_dtype::f32).empty());
}

TEST_CASE("latent round trips over several chunks") {
  std::vector<float> x(5000);  // more than two internal chunks, not a multiple of one
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(float(i)) * 1000.0f;
  x[17] = std::numeric_limits<float>::quiet_NaN();
  x[18] = -std::numeric_limits<float>::infinity();
  for (latent_dtype t : {latent_dtype::f32, latent_dtype::f16, latent_dtype::bf16}) {
    CAPTURE(baler::name(t));
    const auto bytes = baler::encode_latent(x.data(), x.size(), t);
    CHECK(bytes.size() == x.size() * baler::bytes_per_value(t));
    const std::vector<float> y = baler::decode_latent(bytes, x.size(), t);
    REQUIRE(y.size() == x.size());
    CHECK(std::isnan(y[17]));
    CHECK(y[18] == x[18]);
    // Relative error within half a unit in the last place of the format.
    const float ulp = t == latent_dtype::f32 ? 0.0f : t == latent_dtype::f16 ? std::ldexp(1.0f, -11) : std::ldexp(1.0f, -8);
    for (std::size_t i = 0; i < x.size(); ++i)
      if (std::isfinite(x[i])) REQUIRE(std::fabs(y[i] - x[i]) <= std::fabs(x[i]) * ulp);
  }
}

TEST_CASE("encode_latent refuses values that would overflow to infinity") {
  const std::string m = message_of({1.0f, 70000.0f}, latent_dtype::f16);
  CHECK(m.find("70000 at index 1 of the latent space overflows f16") != std::string::npos);
  CHECK(m.find("store the latent space as bf16 or f32 (--latent-dtype)") != std::string::npos);
  CHECK(m.find("65504") != std::string::npos);
  CHECK(message_of({65519.0f, -65504.0f}, latent_dtype::f16).empty());  // round to finite
  CHECK(!message_of({-65520.0f}, latent_dtype::f16).empty());
  CHECK(message_of({70000.0f}, latent_dtype::bf16).empty());
  CHECK(!message_of({std::numeric_limits<float>::max()}, latent_dtype::bf16).empty());
  CHECK(message_of({std::numeric_limits<float>::max()}, latent_dtype::f32).empty());
}

TEST_CASE("an overflowing decoder weight is named as one, with the option that fixes it") {
  const std::vector<float> w{1.0f, -1e6f};
  std::string m;
  try {
    baler::encode_latent(w.data(), w.size(), latent_dtype::f16, baler::half_values::decoder_weights);
  } catch (const baler::error& e) {
    m = e.what();
  }
  CHECK(m.find("at index 1 of the decoder weights overflows f16") != std::string::npos);
  CHECK(m.find("store the decoder weights as bf16 or f32 (--weights-dtype)") != std::string::npos);
  CHECK(m.find("latent space") == std::string::npos);
  CHECK(m.find("--latent-dtype") == std::string::npos);
}

TEST_CASE("decode_latent checks the byte count") {
  const std::vector<std::byte> three(3);
  CHECK_THROWS_WITH_AS(baler::decode_latent(three, 2, latent_dtype::f16),
                       "decode_latent(): 3 bytes do not hold 2 f16 values", baler::error);
  CHECK_THROWS_AS(baler::decode_latent(three, 1, latent_dtype::f16), baler::error);
  CHECK_THROWS_AS(baler::decode_latent(three, std::size_t(1) << 63, latent_dtype::f32), baler::error);
}
