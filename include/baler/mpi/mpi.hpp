#pragma once
// baler over MPI, for programs that link MPI (baler-mpi, or a user's own MPI code); the rest of
// the library has no MPI dependency. Three pieces:
//   data_parallel_over(comm)  gradient sums for data-parallel training (MPI_Allreduce)
//   compress_sharded(...)     one file's chunks split across the ranks, one output file
//   decompress_sharded(...)   a chunked file's chunks decoded across the ranks into one .npy
//                             (structured for a table of records)
//   files_of_rank(...)        a list of files split across the ranks
#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "baler/codec/chunked.hpp"
#include "baler/io/part_buffer.hpp"

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

// A failure every rank of the communicator learnt of at the same step (each throws one), so
// each can clean up and leave normally instead of aborting the job; `own` on the ranks where
// it happened.
struct collective_error : error {
  collective_error(const std::string& message, bool own) : error(message), own(own) {}
  bool own;
};

namespace detail {

// Every rank learns whether any rank failed (a message, or none), so none waits in a later
// collective for one that gave up: then every rank throws a collective_error.
inline void agree(const std::string& failure, const char* where, MPI_Comm comm) {
  int bad = failure.empty() ? 0 : 1, any = 0;
  check(MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, comm), "MPI_Allreduce");
  if (any) throw collective_error(std::string(where) + "(): " + (bad ? failure : "another rank failed"), bad);
}

// Rank 0 creates `partial` at `size` bytes holding `head` at its start and `tail` at its end
// (refusing an existing `out` unless overwrite); every rank then runs write(fd) on it and
// flushes, and rank 0 renames it to `out` once all succeeded. Collective over `comm`.
template <class Write>
void assemble(const std::filesystem::path& out, bool overwrite, std::uint64_t size, const std::vector<std::byte>& head,
              const std::vector<std::byte>& tail, const char* where, MPI_Comm comm, Write&& write) {
  const std::filesystem::path partial = out.string() + ".mpi-partial";
  std::string failure;
  const auto agree_or_remove = [&] {
    try {
      agree(failure, where, comm);
    } catch (...) {
      if (rank_of(comm) == 0) ::unlink(partial.c_str());
      throw;
    }
  };
  if (rank_of(comm) == 0) {
    try {
      require(overwrite || !std::filesystem::exists(out), where, "refusing to overwrite existing '" + out.string() + "'");
      atomic_file_writer w(partial, true);
      w.write(head);
      w.commit();
      std::filesystem::resize_file(partial, size);
      if (!tail.empty()) {
        baler::detail::unique_fd fd(::open(partial.c_str(), O_WRONLY | O_CLOEXEC));
        require(fd.get() >= 0, where, "cannot open '" + partial.string() + "': " + baler::detail::errno_message(errno));
        write_at(fd.get(), tail.data(), tail.size(), size - tail.size(), partial);
        require(fd.close() == 0, where, "cannot write '" + partial.string() + "'");
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  agree_or_remove();
  try {
    baler::detail::unique_fd fd(::open(partial.c_str(), O_WRONLY | O_CLOEXEC));
    require(fd.get() >= 0, where, "cannot open '" + partial.string() + "': " + baler::detail::errno_message(errno));
    write(fd.get(), partial);
    require(::fsync(fd.get()) == 0 && fd.close() == 0, where, "cannot flush '" + partial.string() + "' to disk");
  } catch (const std::exception& e) {
    failure = e.what();
  }
  agree_or_remove();
  if (rank_of(comm) == 0 && ::rename(partial.c_str(), out.c_str()) != 0)
    failure = "cannot rename to '" + out.string() + "': " + baler::detail::errno_message(errno);
  agree_or_remove();  // (and no rank returns before the output is in place)
}

}  // namespace detail

// Compresses `s` (which every rank can read) into one chunked file `path`: rank r compresses
// a contiguous range of chunks on `c.threads` workers, held in memory (or past part_buffer's
// limit in a part file beside the output); once every part's size is known, each rank writes
// its part into the output at its offset (an exclusive scan of the part sizes) while rank 0
// writes the head and the index, so no rank moves another's bytes. The file is the one a
// single process writes (range bounds over all ranks' ranges; the model, in plain mode, trained
// data-parallel over the ranks). Collective over `comm`.
inline codec::chunked_result compress_sharded(const codec::row_source& s, const std::filesystem::path& path,
                                              bool overwrite, codec::codec_options o, const codec::chunked_options& c,
                                              MPI_Comm comm) {
  const char* where = "compress_sharded";
  const std::size_t rank = std::size_t(rank_of(comm)), ranks = std::size_t(size_of(comm));
  detail::agree(rank == 0 && !overwrite && std::filesystem::exists(path) ? "refusing to overwrite existing '" + path.string() + "'" : "",
                where, comm);  // before any work
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
  share.add_up = [comm](std::vector<double>& v) {
    check(MPI_Allreduce(MPI_IN_PLACE, v.data(), int(v.size()), MPI_DOUBLE, MPI_SUM, comm), "MPI_Allreduce");
  };
  if (!o.error_bound.enabled()) o.parallel = data_parallel_over(comm);
  const codec::chunk_plan p = codec::plan_chunks(s, o, c, {}, share);

  // This rank's chunks; each chunk's size and CRC as two u64s.
  part_buffer part(path.string() + ".part" + std::to_string(rank));
  std::vector<unsigned long long> sizes_crcs;
  std::string failure;
  try {
    codec::compress_chunks(p, s, share.first, share.last, c.threads, [&](std::size_t, std::vector<std::byte> b) {
      sizes_crcs.push_back(b.size());
      sizes_crcs.push_back(crc32_of(b));
      part.add(std::move(b));
    });
    part.finish();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  detail::agree(failure, where, comm);
  const unsigned long long part_bytes = part.size();
  // Rank 0 learns every chunk's size and CRC (in rank order, so in chunk order) for the index;
  // every rank its part's offset among the chunks and the total.
  const int mine = int(sizes_crcs.size());
  std::vector<int> counts(ranks), displs(ranks);
  check(MPI_Gather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm), "MPI_Gather");
  for (std::size_t r = 1; r < ranks; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  std::vector<unsigned long long> all(rank == 0 ? 2 * p.chunks : 0);
  check(MPI_Gatherv(sizes_crcs.data(), mine, MPI_UNSIGNED_LONG_LONG, all.data(), counts.data(), displs.data(),
                    MPI_UNSIGNED_LONG_LONG, 0, comm),
        "MPI_Gatherv");
  unsigned long long before = 0, total = 0;
  check(MPI_Exscan(&part_bytes, &before, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm), "MPI_Exscan");
  if (rank == 0) before = 0;  // MPI_Exscan leaves rank 0's result undefined
  check(MPI_Allreduce(&part_bytes, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, comm), "MPI_Allreduce");

  const std::vector<std::byte> head = format::chunked_head(p.shared);  // the same on every rank
  std::vector<std::byte> tail;
  if (rank == 0) {
    std::vector<format::chunk_entry> index;
    std::uint64_t at = head.size(), row = 0;
    for (std::size_t i = 0; i < p.chunks; ++i) {
      const std::uint64_t rows = codec::chunk_rows_of(p, s, i);
      index.push_back({at, all[2 * i], row, rows, std::uint32_t(all[2 * i + 1])});
      at += all[2 * i], row += rows;
    }
    tail = format::chunked_tail(index, at);
  }
  std::uint64_t tail_size = tail.size();
  check(MPI_Bcast(&tail_size, 1, MPI_UINT64_T, 0, comm), "MPI_Bcast");
  detail::assemble(path, overwrite, head.size() + total + tail_size, head, tail, where, comm,
                   [&](int fd, const std::filesystem::path& name) { part.write_into(fd, head.size() + before, name); });
  return {p.chunks, p.chunk_rows, p.sample_rows, p.model};
}

// Decodes the chunked file `in` into the .npy `out`: rank 0 creates the file at its full size
// under a temporary name, every rank writes the rows of its range of chunks at their offsets
// (pwrite, `threads` chunks at a time), and rank 0 renames it into place once all are done.
// Collective over `comm`.
inline void decompress_sharded(const std::filesystem::path& in, const std::filesystem::path& out, bool overwrite,
                               unsigned threads, MPI_Comm comm) {
  const std::size_t rank = std::size_t(rank_of(comm)), ranks = std::size_t(size_of(comm));
  const codec::chunked_decoder dec(in);
  // A table of records is written as one (a structured .npy, each field in its column's dtype).
  const bool records = dec.layout() == table_layout::records && dec.shape().size() == 2;
  std::vector<dtype> types = dec.column_types();
  if (types.empty()) types.assign(records ? dec.shape()[1] : 0, dec.type());
  std::vector<std::string> descrs;
  for (dtype t : types) descrs.push_back(npy_descr(t));
  const std::vector<std::byte> head = records ? npy::records_header(dec.names(), descrs, dec.shape()[0])
                                              : npy::format_header(npy_descr(dec.type()), dec.shape());
  std::uint64_t row_bytes = dtype_size(dec.type());
  for (std::size_t k = 1; k < dec.shape().size(); ++k) row_bytes *= dec.shape()[k];
  if (records) row_bytes = row_bytes_of(types);
  detail::assemble(out, overwrite, head.size() + dec.reader().rows() * row_bytes, head, {}, "decompress_sharded", comm,
                   [&](int fd, const std::filesystem::path& name) {
                     const std::size_t chunks = dec.reader().index().size();
                     std::vector<std::size_t> mine;
                     for (std::size_t i = chunks * rank / ranks; i < chunks * (rank + 1) / ranks; ++i) mine.push_back(i);
                     parallel::parallel_for(mine.size(), threads, [&](std::size_t k) {
                       const ndarray a = dec.chunk(mine[k], parallel::thread_count(threads) > 1);
                       const packed_records r = records ? pack_records(split_columns(a, types)) : packed_records{};
                       const std::vector<std::byte>& bytes = records ? r.bytes : a.bytes;
                       const std::uint64_t at = head.size() + dec.reader().index()[mine[k]].first_row * row_bytes;
                       write_at(fd, bytes.data(), bytes.size(), at, name);
                     });
                   });
}

}  // namespace baler::mpi
