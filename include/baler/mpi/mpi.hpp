#pragma once
// baler over MPI, for programs that link MPI (baler-mpi, or a user's own MPI code); the rest of
// the library has no MPI dependency. Three pieces:
//   data_parallel_over(comm)  gradient sums for data-parallel training (MPI_Allreduce)
//   compress_sharded(...)     one file's chunks split across the ranks, one output file
//   decompress_sharded(...)   a chunked file's chunks decoded across the ranks into one .npy
//   files_of_rank(...)        a list of files split across the ranks
#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/codec/chunked.hpp"

namespace baler::mpi {

inline void check(int rc, const char* call) {
  if (rc != MPI_SUCCESS) throw error(std::string("baler::mpi: ") + call + " failed with code " + std::to_string(rc));
}

inline int rank_of(MPI_Comm comm) {
  int r = 0;
  check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank");
  return r;
}
inline int size_of(MPI_Comm comm) {
  int n = 1;
  check(MPI_Comm_size(comm, &n), "MPI_Comm_size");
  return n;
}

// Every rank of `comm` trains its slice of each global batch; the gradients are summed with
// MPI_Allreduce after every backward pass (one allreduce of parameters + 1 doubles per step).
inline data_parallel data_parallel_over(MPI_Comm comm) {
  return {std::size_t(rank_of(comm)), std::size_t(size_of(comm)), [comm](double* v, std::size_t n) {
            check(MPI_Allreduce(MPI_IN_PLACE, v, int(n), MPI_DOUBLE, MPI_SUM, comm), "MPI_Allreduce");
          }};
}

// The files of `all` (sorted, so every rank agrees) that this rank compresses: every size-th.
inline std::vector<std::filesystem::path> files_of_rank(std::vector<std::filesystem::path> all, MPI_Comm comm) {
  std::sort(all.begin(), all.end());
  std::vector<std::filesystem::path> mine;
  for (std::size_t i = std::size_t(rank_of(comm)); i < all.size(); i += std::size_t(size_of(comm)))
    mine.push_back(all[i]);
  return mine;
}

// Compresses `s` (which every rank can read) into one chunked file `path`: rank r compresses
// a contiguous range of chunks on `c.threads` workers into a part file beside the output; rank
// 0 then appends the parts, chunk by chunk, behind the shared part and writes the index. The
// file is the one a single process writes (range bounds over all ranks' ranges; the model, in
// plain mode, trained data-parallel over the ranks). Collective over `comm`.
inline codec::chunked_result compress_sharded(const codec::row_source& s, const std::filesystem::path& path,
                                              bool overwrite, codec::codec_options o, const codec::chunked_options& c,
                                              MPI_Comm comm) {
  const std::size_t rank = std::size_t(rank_of(comm)), ranks = std::size_t(size_of(comm));
  // The shares need the chunk count, which the plan fixes; plan_chunks calls combine_ranges
  // on every rank (collective) before anything else is collective.
  const std::size_t chunks = codec::detail::chunk_count(s.row_count(), codec::detail::rows_per_chunk(s, c));
  codec::chunk_share share;
  share.first = chunks * rank / ranks;
  share.last = chunks * (rank + 1) / ranks;
  share.combine_ranges = [comm](codec::detail::column_ranges& r) {
    std::vector<double> lo(r.size()), hi(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) lo[i] = r[i].first, hi[i] = -r[i].second;
    // One MIN reduction for both: max(hi) = -min(-hi).
    lo.insert(lo.end(), hi.begin(), hi.end());
    check(MPI_Allreduce(MPI_IN_PLACE, lo.data(), int(lo.size()), MPI_DOUBLE, MPI_MIN, comm), "MPI_Allreduce");
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = {lo[i], -lo[r.size() + i]};
  };
  if (!o.error_bound.enabled()) o.parallel = data_parallel_over(comm);
  const codec::chunk_plan p = codec::plan_chunks(s, o, c, {}, share);

  // This rank's chunks into its part file, and their sizes.
  const std::filesystem::path part = path.string() + ".part" + std::to_string(rank);
  std::vector<unsigned long long> sizes;
  {
    atomic_file_writer w(part, true);
    codec::compress_chunks(p, s, share.first, share.last, c.threads, [&](std::size_t, std::vector<std::byte> b) {
      w.write(b);
      sizes.push_back(b.size());
    });
    w.commit();
  }
  // Rank 0 learns every rank's sizes (in rank order, so in chunk order) and assembles.
  const int mine = int(sizes.size());
  std::vector<int> counts(ranks), displs(ranks);
  check(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm), "MPI_Gather");
  for (std::size_t r = 1; r < ranks; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  std::vector<unsigned long long> all(rank == 0 ? p.chunks : 0);
  check(MPI_Gatherv(sizes.data(), mine, MPI_UNSIGNED_LONG_LONG, all.data(), counts.data(), displs.data(),
                    MPI_UNSIGNED_LONG_LONG, 0, comm),
        "MPI_Gatherv");
  int failed = 0;
  std::string message;
  if (rank == 0) {
    try {
      format::chunked_writer out(path, overwrite, p.shared);
      std::size_t chunk = 0;
      for (std::size_t r = 0; r < ranks; ++r) {
        const std::filesystem::path part_r = path.string() + ".part" + std::to_string(r);
        const random_access_file in(part_r);
        std::uint64_t at = 0;
        for (int k = 0; k < counts[r]; ++k, ++chunk) {
          out.add(in.read(at, all[chunk]), codec::chunk_rows_of(p, s, chunk));
          at += all[chunk];
        }
      }
      out.finish();
    } catch (const std::exception& e) {
      failed = 1;
      message = e.what();
    }
  }
  check(MPI_Bcast(&failed, 1, MPI_INT, 0, comm), "MPI_Bcast");  // every rank's parts are read now
  std::error_code ec;
  std::filesystem::remove(part, ec);
  require(!failed, "compress_sharded", rank == 0 ? message : "rank 0 could not assemble the file");
  return {p.chunks, p.chunk_rows, p.sample_rows, p.model};
}

// Decodes the chunked file `in` into the .npy `out`: rank 0 creates the file at its full size
// under a temporary name, every rank writes the rows of its range of chunks at their offsets
// (pwrite, `threads` chunks at a time), and rank 0 renames it into place once all are done.
// Collective over `comm`.
inline void decompress_sharded(const std::filesystem::path& in, const std::filesystem::path& out, bool overwrite,
                               unsigned threads, MPI_Comm comm) {
  const char* where = "decompress_sharded";
  const std::size_t rank = std::size_t(rank_of(comm)), ranks = std::size_t(size_of(comm));
  const codec::chunked_decoder dec(in);
  const std::vector<std::byte> head = npy::format_header(npy_descr(dec.type()), dec.shape());
  std::uint64_t row_bytes = dtype_size(dec.type());
  for (std::size_t k = 1; k < dec.shape().size(); ++k) row_bytes *= dec.shape()[k];
  const std::filesystem::path temp = out.string() + ".mpi-partial";
  // Every failure is agreed on before the next step, so no rank waits for one that gave up.
  auto agree = [&](std::string failure) {
    int bad = failure.empty() ? 0 : 1, any = 0;
    check(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce");
    if (any) {
      if (rank == 0) ::unlink(temp.c_str());
      throw error(std::string(where) + "(): " + (bad ? failure : "another rank failed"));
    }
  };
  std::string failure;
  if (rank == 0) {
    try {
      require(overwrite || !std::filesystem::exists(out), where, "refusing to overwrite existing '" + out.string() + "'");
      atomic_file_writer w(temp, true);
      w.write(head);
      w.commit();
      std::filesystem::resize_file(temp, head.size() + dec.reader().rows() * row_bytes);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  agree(failure);
  try {
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CLOEXEC);
    require(fd >= 0, where, "cannot open '" + temp.string() + "': " + baler::detail::errno_message(errno));
    const std::size_t chunks = dec.reader().index().size();
    std::vector<std::size_t> mine;
    for (std::size_t i = chunks * rank / ranks; i < chunks * (rank + 1) / ranks; ++i) mine.push_back(i);
    try {
      parallel::parallel_for(mine.size(), threads, [&](std::size_t k) {
        const ndarray a = dec.chunk(mine[k], parallel::thread_count(threads) > 1);
        const std::uint64_t at = head.size() + dec.reader().index()[mine[k]].first_row * row_bytes;
        for (std::size_t done = 0; done < a.bytes.size();) {
          const ssize_t n = ::pwrite(fd, a.bytes.data() + done, a.bytes.size() - done, off_t(at + done));
          if (n < 0 && errno == EINTR) continue;
          require(n > 0, where, "cannot write '" + temp.string() + "': " + baler::detail::errno_message(errno));
          done += std::size_t(n);
        }
      });
    } catch (...) {
      ::close(fd);
      throw;
    }
    require(::fsync(fd) == 0 && ::close(fd) == 0, where, "cannot flush '" + temp.string() + "' to disk");
  } catch (const std::exception& e) {
    failure = e.what();
  }
  agree(failure);
  if (rank == 0) require(::rename(temp.c_str(), out.c_str()) == 0, where, "cannot rename to '" + out.string() + "'");
  check(MPI_Barrier(comm), "MPI_Barrier");
}

}  // namespace baler::mpi
