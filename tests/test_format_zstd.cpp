// zstd round trips and the checks that keep corrupt or lying input from doing harm.
#include <doctest/doctest.h>

#include <zstd.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "baler/format/zstd.hpp"

namespace {

std::vector<std::byte> sample(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(rng() % 16);  // compressible, not trivially
  return v;
}

// A frame that does not record its content size (as streaming writers produce): the reader
// must then find a size mismatch while decompressing.
std::vector<std::byte> frame_without_size(const std::vector<std::byte>& in) {
  std::vector<std::byte> out(ZSTD_compressBound(in.size()));
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(ctx, ZSTD_c_contentSizeFlag, 0);
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  ZSTD_outBuffer dst{out.data(), out.size(), 0};
  const std::size_t left = ZSTD_compressStream2(ctx, &dst, &src, ZSTD_e_end);
  ZSTD_freeCCtx(ctx);
  REQUIRE(left == 0);
  out.resize(dst.pos);
  REQUIRE(ZSTD_getFrameContentSize(out.data(), out.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
  return out;
}

std::string message(const std::vector<std::byte>& in, std::uint64_t expected) {
  try {
    baler::zstd_decompress(in, expected);
  } catch (const baler::error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("zstd round trips") {
  for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(1000), std::size_t(3) << 20}) {
    const auto data = sample(n, unsigned(n));
    for (int level : {1, 3, 19}) {
      if (n > 1000 && level == 19) continue;  // slow and adds nothing
      const auto packed = baler::zstd_compress(data, level);
      CHECK(baler::zstd_decompress(packed, n) == data);
    }
  }
  // Highly compressible data: the output buffer must grow many times past its first size.
  const std::vector<std::byte> zeros(std::size_t(20) << 20);
  const auto packed = baler::zstd_compress(zeros);
  CHECK(packed.size() < 2000);
  CHECK(baler::zstd_decompress(packed, zeros.size()) == zeros);
  CHECK(baler::zstd_decompress(frame_without_size(zeros), zeros.size()) == zeros);
}

TEST_CASE("zstd: concatenated frames decompress as one") {
  const auto a = sample(5000, 1), b = sample(7000, 2);
  auto packed = baler::zstd_compress(a);
  const auto second = baler::zstd_compress(b);
  packed.insert(packed.end(), second.begin(), second.end());
  std::vector<std::byte> both = a;
  both.insert(both.end(), b.begin(), b.end());
  // The first frame's header states 5000 bytes, so the caller's total is refused early...
  CHECK(contains(message(packed, both.size()), "the zstd frame holds 5000 bytes, expected 12000 bytes"));
  // ...while frames without recorded sizes are checked by the total they produce.
  auto unsized = frame_without_size(a);
  const auto unsized_b = frame_without_size(b);
  unsized.insert(unsized.end(), unsized_b.begin(), unsized_b.end());
  CHECK(baler::zstd_decompress(unsized, both.size()) == both);
}

TEST_CASE("zstd: wrong expected size") {
  const auto data = sample(100000, 5);
  const auto packed = baler::zstd_compress(data);
  CHECK(message(packed, 99999) == "zstd_decompress(): the zstd frame holds 100000 bytes, expected 99999 bytes");
  CHECK(contains(message(packed, 100001), "frame holds 100000 bytes, expected 100001 bytes"));
  CHECK(contains(message(packed, 0), "expected 0 bytes"));

  const auto unsized = frame_without_size(data);
  CHECK(message(unsized, 99999) == "zstd_decompress(): corrupt: the data decompresses to more than 99999 bytes");
  CHECK(message(unsized, 100001) == "zstd_decompress(): the data decompresses to 100000 bytes, expected 100001 bytes");
  CHECK(contains(message(unsized, 0), "more than 0 bytes"));
}

TEST_CASE("zstd: garbage, truncated and corrupted input") {
  const auto data = sample(100000, 6);
  const auto packed = baler::zstd_compress(data);
  CHECK(message({}, 0) == "zstd_decompress(): no input: an empty buffer is not a zstd frame");
  CHECK(contains(message(sample(100, 9), 100), "not a zstd frame"));
  for (std::size_t n : {std::size_t(1), std::size_t(4), std::size_t(10), packed.size() / 2, packed.size() - 1}) {
    CAPTURE(n);
    CHECK_THROWS_AS(baler::zstd_decompress(std::vector<std::byte>(packed.begin(), packed.begin() + long(n)), data.size()),
                    baler::error);
  }
  // Flipped bytes inside the compressed blocks: zstd detects most as corrupt data; the rest
  // decode to the wrong bytes, which is what the container's CRC-32 catches.
  int detected = 0;
  for (std::size_t i = 20; i < packed.size(); i += 97) {
    auto bad = packed;
    bad[i] ^= std::byte(0x5A);
    try {
      detected += baler::zstd_decompress(bad, data.size()) != data;
    } catch (const baler::error& e) {
      CHECK(contains(e.what(), "zstd_decompress(): "));
      ++detected;
    }
  }
  CHECK(detected > 0);
  // An error from the library carries its name for the problem.
  auto bad_magic = packed;
  bad_magic[0] ^= std::byte(1);
  CHECK(contains(message(bad_magic, data.size()), "not a zstd frame"));
}

TEST_CASE("zstd: absurd sizes are refused before allocating") {
  const auto packed = baler::zstd_compress(sample(1000, 7));
  CHECK(contains(message(packed, std::uint64_t(1) << 40), "exceeds the limit of 17179869184 bytes"));
  CHECK(contains(message(packed, std::uint64_t(1) << 33), "compressed bytes cannot hold 8589934592 bytes"));
  CHECK_THROWS_WITH_AS(baler::zstd_decompress(packed, 1000, 999),
                       "zstd_decompress(): expected size of 1000 bytes exceeds the limit of 999 bytes", baler::error);
  CHECK_THROWS_AS(baler::zstd_compress(packed, 1000), baler::error);
}
