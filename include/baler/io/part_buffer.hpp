#pragma once
// Bytes whose place in a file is known only later (a rank's compressed chunks, before every
// rank's size is known): held in memory up to a limit, then written once, straight into the
// file; past the limit spilled to a part file beside it and copied from there (written twice).
// POSIX.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"
#include "baler/io/random_access_file.hpp"

namespace baler {

// Writes n bytes at offset `at` of the open file `fd` (named `name` in errors).
inline void write_at(int fd, const std::byte* data, std::size_t n, std::uint64_t at, const std::filesystem::path& name) {
  for (std::size_t done = 0; done < n;) {
    const ssize_t k = ::pwrite(fd, data + done, n - done, off_t(at + done));
    if (k < 0 && errno == EINTR) continue;
    require(k > 0, "write_at", "cannot write '" + name.string() + "': " + baler::detail::errno_message(errno));
    done += std::size_t(k);
  }
}

// Chunks in the order they go into the file; `file`: where a part past `memory` bytes spills.
class part_buffer {
public:
  static constexpr std::uint64_t default_memory = std::uint64_t(512) << 20;
  explicit part_buffer(std::filesystem::path file, std::uint64_t memory = default_memory)
      : file_(std::move(file)), memory_(memory) {}
  part_buffer(const part_buffer&) = delete;
  part_buffer& operator=(const part_buffer&) = delete;
  ~part_buffer() {
    std::error_code ec;
    if (spilled_) std::filesystem::remove(file_, ec);
  }

  void add(std::vector<std::byte> chunk) {
    size_ += chunk.size();
    if (!writer_ && size_ <= memory_) {
      held_.push_back(std::move(chunk));
      return;
    }
    if (!writer_) {
      writer_.emplace(file_, true);
      for (const auto& h : held_) writer_->write(h);
      held_.clear();
    }
    writer_->write(chunk);
  }
  // After the last chunk: a spilled part's file in place.
  void finish() {
    if (!writer_) return;
    spilled_ = true;  // (from here on the destructor removes the file)
    writer_->commit();
  }
  std::uint64_t size() const { return size_; }
  bool spilled() const { return spilled_; }

  // The part at offset `at` of the open file `fd` (named `name` in errors).
  void write_into(int fd, std::uint64_t at, const std::filesystem::path& name) const {
    for (const auto& h : held_) {
      write_at(fd, h.data(), h.size(), at, name);
      at += h.size();
    }
    if (!spilled_) return;
    const random_access_file in(file_);
    constexpr std::uint64_t block = 8u << 20;
    for (std::uint64_t done = 0; done < size_; done += block) {
      const std::vector<std::byte> b = in.read(done, std::min<std::uint64_t>(block, size_ - done));
      write_at(fd, b.data(), b.size(), at + done, name);
    }
  }

private:
  std::filesystem::path file_;
  std::uint64_t memory_, size_ = 0;
  std::vector<std::vector<std::byte>> held_;
  std::optional<atomic_file_writer> writer_;
  bool spilled_ = false;
};

}  // namespace baler
