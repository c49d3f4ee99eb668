#pragma once
// A file read by position (pread), so several threads can read different slices of one large
// input at once and nothing but the slices asked for is ever in memory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/io/atomic_file.hpp"

namespace baler {

class random_access_file {
public:
  explicit random_access_file(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
      throw error("random_access_file(): cannot open '" + path.string() + "': " +
                  (errno == ENOENT ? std::string("no such file") : detail::errno_message(errno)));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw error("random_access_file(): '" + path.string() + "' is not a regular file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  random_access_file(const random_access_file&) = delete;
  random_access_file& operator=(const random_access_file&) = delete;
  ~random_access_file() { ::close(fd_); }

  std::uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

  // Exactly `n` bytes at `offset` into `out`; reading past the end is an error naming the file.
  void read(std::uint64_t offset, std::byte* out, std::size_t n) const {
    require(offset <= size_ && n <= size_ - offset, "random_access_file::read",
            "'" + path_.string() + "' is truncated: " + std::to_string(n) + " bytes at offset " +
                std::to_string(offset) + " lie past its end (" + std::to_string(size_) + " bytes)");
    for (std::size_t done = 0; done < n;) {
      const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      require(got > 0, "random_access_file::read",
              "cannot read '" + path_.string() + "': " + (got == 0 ? "unexpected end" : detail::errno_message(errno)));
      done += static_cast<std::size_t>(got);
    }
  }
  std::vector<std::byte> read(std::uint64_t offset, std::size_t n) const {
    std::vector<std::byte> out(n);
    read(offset, out.data(), n);
    return out;
  }

private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace baler
