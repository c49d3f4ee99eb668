#pragma once
// The fuzz harnesses: one function per place that reads outside bytes, each taking any bytes
// and returning 0. A malformed input must end in baler::error; anything else (another
// exception, a crash, a sanitizer report, a huge allocation, a hang) is a finding. Plain
// functions, so that tests/test_fuzz_regressions.cpp replays saved inputs without clang.
// To add a harness: write it here, list it in `all`, add its name to fuzz/CMakeLists.txt.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../hdf5/H5Zbaler_chunk.hpp"
#include "baler/cli/chunked_commands.hpp"
#include "baler/codec/error_bounded.hpp"
#include "baler/codec/options.hpp"
#include "baler/format/container.hpp"
#include "baler/io/csv.hpp"
#include "baler/io/dataset.hpp"

namespace baler::fuzz {

using harness = void (*)(byte_view);

inline void container(byte_view in) {
  format::inspect(in);
  format::parse(in);
}
inline void decompress(byte_view in) { codec::decompress_file(in); }
inline void model(byte_view in) {
  cpu be(1);
  codec::Codec<cpu, models::AE<cpu, float>> c(be, codec::codec_options{});
  c.load_model(in);
}
inline void npy(byte_view in) {
  // Both readers: numbers, and the text arrays that hold column names.
  try {
    baler::npy::read(in);
  } catch (const error&) {
  }
  baler::npy::read_strings(in);
}
// As load_dataset reads an .npz: the archive, then Baler's data and names members.
inline void npz(byte_view in) { dataset_from_npz(baler::npz::read(in)); }
inline void csv(byte_view in) { baler::csv::read(in); }
// As `baler --config` reads it: invalid JSON is the CLI's error, the rest the library's.
inline void config(byte_view in) {
  const auto j = nlohmann::json::parse(in.data, in.data + in.size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return;
  codec::codec_options o;
  codec::apply_json(o, j);
  codec::validate(o);
}
inline void error_bound(byte_view in) {
  codec::parse_bound_config(std::string(reinterpret_cast<const char*>(in.data), in.size));
}

// The chunked reader reads a file by position: each input goes into one in-memory file, reused
// from input to input, so fuzzing touches no disk.
class memory_file {
public:
  memory_file() : fd_(::memfd_create("baler-fuzz", MFD_CLOEXEC)) {
    require(fd_ >= 0, "fuzz::memory_file", "memfd_create failed");
  }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  ~memory_file() { ::close(fd_); }

  std::string hold(byte_view in) {
    require(::ftruncate(fd_, 0) == 0, "fuzz::memory_file", "ftruncate failed");
    for (std::size_t done = 0; done < in.size;) {
      const ssize_t n = ::pwrite(fd_, in.data + done, in.size - done, off_t(done));
      require(n > 0, "fuzz::memory_file", "pwrite failed");
      done += std::size_t(n);
    }
    return "/proc/self/fd/" + std::to_string(fd_);
  }

private:
  int fd_;
};

// As `baler info` and `baler decompress` read a chunked file: the shared part, the index, every
// chunk decoded (one thread), laid out by the header's shape.
inline void chunked(byte_view in) {
  static memory_file file;
  const std::string path = file.hold(in);
  try {
    cli::describe_chunked(path);
  } catch (const error&) {
  }
  const codec::chunked_decoder dec(path);
  const dataset d = dec.rows(0, dec.reader().rows(), 1);
  // What save_dataset relies on; a mismatch would be read or written out of bounds.
  if (d.data.nbytes() != d.data.size() * dtype_size(d.data.type))
    throw std::logic_error("fuzz::chunked: the decoded rows do not fill the header's shape");
}

// The HDF5 filter's read direction on one stored chunk. Input: a byte n, n little-endian u32
// parameters (cd_values, as set_local leaves them), then the stored chunk.
inline void hdf5_filter(byte_view in) {
  if (in.size == 0) return;
  const std::size_t n = std::to_integer<std::size_t>(in.data[0]);
  if (in.size < 1 + 4 * n) return;
  std::vector<unsigned> cd(n);
  for (std::size_t i = 0; i < n; ++i) cd[i] = static_cast<unsigned>(load_le(in.data + 1 + 4 * i, 4));
  h5z::decode_chunk(n, cd.data(), in.subview(1 + 4 * n));
}

struct target {
  const char* name;
  harness run;
};
inline const std::vector<target> all{{"container", container}, {"decompress", decompress},
                                     {"model", model},         {"npy", npy},
                                     {"npz", npz},             {"csv", csv},
                                     {"config", config},       {"error_bound", error_bound},
                                     {"chunked", chunked},     {"hdf5_filter", hdf5_filter}};

inline harness find(const std::string& name) {
  for (const auto& t : all)
    if (name == t.name) return t.run;
  throw error("fuzz::find(): no harness named '" + name + "'");
}

// The harness body: a clear baler::error is the expected answer to bad bytes.
inline int fuzz_one(harness h, const std::uint8_t* data, std::size_t size) {
  try {
    h(byte_view(reinterpret_cast<const std::byte*>(data), size));
  } catch (const error&) {
  }
  return 0;
}

}  // namespace baler::fuzz
