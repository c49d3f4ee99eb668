#pragma once
// zstd compression of container sections, with the checks a file reader needs: the caller
// states the size the data must decompress to (from the file's own metadata), and a claimed
// size that is absurd, or that disagrees with the zstd frame, is refused before any allocation.
// Decompression streams into a buffer that grows with the output actually produced, so memory
// stays proportional to the real data even when a size field lies.
#include <zstd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/bytes.hpp"

namespace baler {

constexpr int zstd_default_level = 3;

// Largest decompressed size accepted by default: far above any single section of a real
// file, far below what would exhaust a workstation. Callers with bigger sections pass their own.
constexpr std::uint64_t zstd_default_max_size = std::uint64_t(16) << 30;  // 16 GiB

// The zstd format cannot expand data by more than this: its densest block is an RLE block, a
// 3-byte header and one byte for at most 128 KiB of output. A larger claim is corruption.
constexpr std::uint64_t zstd_max_expansion = 128 * 1024 / 4;

inline void require_zstd_level(int level, const char* where) {
  require(level >= ZSTD_minCLevel() && level <= ZSTD_maxCLevel(), where,
          "zstd level " + std::to_string(level) + " is outside [" + std::to_string(ZSTD_minCLevel()) + ", " +
              std::to_string(ZSTD_maxCLevel()) + "]");
}

// A zstd result checked: its error named.
inline std::size_t zstd_checked(std::size_t r, const char* where) {
  require(!ZSTD_isError(r), where, ZSTD_getErrorName(r));
  return r;
}

using zstd_cctx = std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)>;
inline zstd_cctx zstd_context(int level, const char* where) {
  require_zstd_level(level, where);
  zstd_cctx ctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  require(ctx != nullptr, where, "out of memory creating a zstd context");
  zstd_checked(ZSTD_CCtx_setParameter(ctx.get(), ZSTD_c_compressionLevel, level), where);
  return ctx;
}

// `prefix`: optional raw-content dictionary, bytes the data likely repeats (the same prefix must
// be given to zstd_decompress). It pays for short inputs, which have little to refer back to.
inline std::vector<std::byte> zstd_compress(byte_view in, int level = zstd_default_level, byte_view prefix = {}) {
  const char* where = "zstd_compress";
  const zstd_cctx ctx = zstd_context(level, where);
  auto check = [&](std::size_t r) { return zstd_checked(r, where); };
  std::vector<std::byte> out(ZSTD_compressBound(in.size));
  if (prefix.size) check(ZSTD_CCtx_refPrefix(ctx.get(), prefix.data, prefix.size));
  // One-shot compression records the content size in the frame header, which the reader checks.
  out.resize(check(ZSTD_compress2(ctx.get(), out.data(), out.size(), in.data, in.size)));
  return out;
}

// zstd of `total` bytes that fill(from, count, dst) writes a piece at a time (bytes [from, from +
// count) of the input into dst), so that the input is never held whole: a block's codes
// byte-shuffled, say, made from the codes as they go in. Appends the frame to `out`, or with
// no `out` only counts it; returns its size.
template <class Fill>
std::size_t zstd_compress_pieces(std::uint64_t total, int level, Fill&& fill, std::vector<std::byte>* out = nullptr) {
  const char* where = "zstd_compress_pieces";
  const zstd_cctx ctx = zstd_context(level, where);
  auto check = [&](std::size_t r) { return zstd_checked(r, where); };
  check(ZSTD_CCtx_setPledgedSrcSize(ctx.get(), total));  // the frame header records it, as one-shot does
  std::vector<std::byte> piece(std::size_t(std::min<std::uint64_t>(total, std::uint64_t(1) << 20)));
  std::vector<std::byte> scratch(ZSTD_CStreamOutSize());
  std::size_t size = 0;
  auto drain = [&](ZSTD_outBuffer& dst) {
    if (out) out->insert(out->end(), scratch.begin(), scratch.begin() + std::ptrdiff_t(dst.pos));
    size += dst.pos;
    dst.pos = 0;
  };
  std::uint64_t from = 0;
  do {
    const std::size_t count = std::size_t(std::min<std::uint64_t>(piece.size(), total - from));
    fill(from, count, piece.data());
    from += count;
    const ZSTD_EndDirective end = from == total ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer src{piece.data(), count, 0};
    for (;;) {
      ZSTD_outBuffer dst{scratch.data(), scratch.size(), 0};
      const std::size_t left = check(ZSTD_compressStream2(ctx.get(), &dst, &src, end));
      drain(dst);
      if (end == ZSTD_e_end ? left == 0 : src.pos == src.size) break;
    }
  } while (from < total);
  return size;
}

inline std::vector<std::byte> zstd_decompress(byte_view in, std::uint64_t expected_size,
                                              std::uint64_t max_size = zstd_default_max_size, byte_view prefix = {}) {
  const char* where = "zstd_decompress";
  const std::string expected = std::to_string(expected_size) + " bytes";
  require(expected_size <= max_size, where,
          "expected size of " + expected + " exceeds the limit of " + std::to_string(max_size) + " bytes");
  require(in.size > 0, where, "no input: an empty buffer is not a zstd frame");
  require(expected_size / zstd_max_expansion <= in.size, where,
          "corrupt: " + std::to_string(in.size) + " compressed bytes cannot hold " + expected);

  const unsigned long long frame_size = ZSTD_getFrameContentSize(in.data, in.size);
  require(frame_size != ZSTD_CONTENTSIZE_ERROR, where, "not a zstd frame (bad magic or header)");
  require(frame_size == ZSTD_CONTENTSIZE_UNKNOWN || frame_size == expected_size, where,
          "the zstd frame holds " + std::to_string(frame_size) + " bytes, expected " + expected);

  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  require(ctx != nullptr, where, "out of memory creating a zstd context");
  if (prefix.size) {
    const std::size_t r = ZSTD_DCtx_refPrefix(ctx.get(), prefix.data, prefix.size);
    require(!ZSTD_isError(r), where, ZSTD_getErrorName(r));
  }

  // Start with what typical ratios need and double on demand, never past expected_size.
  const std::uint64_t first = std::max<std::uint64_t>(std::uint64_t(1) << 20, std::uint64_t(in.size) * 16);
  std::vector<std::byte> out(static_cast<std::size_t>(std::min(expected_size, first)));
  std::size_t produced = 0;
  ZSTD_inBuffer src{in.data, in.size, 0};
  for (;;) {
    ZSTD_outBuffer dst{out.data(), out.size(), produced};
    const std::size_t r = ZSTD_decompressStream(ctx.get(), &dst, &src);
    require(!ZSTD_isError(r), where, std::string("corrupt data: ") + ZSTD_getErrorName(r));
    produced = dst.pos;
    if (r == 0 && src.pos == src.size) break;  // last frame complete, all input used
    if (produced < out.size()) {
      // Output room is left, so the decoder stopped for lack of input.
      require(src.pos < src.size, where, "truncated: the zstd frame ends early");
      continue;
    }
    require(out.size() < expected_size, where, "corrupt: the data decompresses to more than " + expected);
    out.resize(static_cast<std::size_t>(std::min<std::uint64_t>(expected_size, 2 * std::uint64_t(out.size()))));
  }
  require(produced == expected_size, where,
          "the data decompresses to " + std::to_string(produced) + " bytes, expected " + expected);
  return out;
}

}  // namespace baler
