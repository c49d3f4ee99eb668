// Chunked files: round trips with chunk sizes that do not divide the data, random access equal
// to a full decode, a damaged chunk named while the others decode, output independent of the
// thread count, global range bounds, streamed .npy slices.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>

#include "baler/codec/chunked.hpp"
#include "test_io_support.hpp"

using namespace baler;
using io_test::scratch_dir;

namespace {

dataset lhcb() { return load_dataset(std::string(BALER_TEST_DIR) + "/../examples/data/lhcb_b2kkk.npz"); }
dataset cfd() { return load_dataset(std::string(BALER_TEST_DIR) + "/../examples/data/CFD_animation.npz"); }

codec::chunked_options chunks_of(std::size_t rows, unsigned threads = 2) {
  codec::chunked_options c;
  c.chunk_rows = rows;
  c.threads = threads;
  return c;
}

codec::codec_options with_bound(const std::string& bound) {
  codec::codec_options o;
  o.error_bound = codec::parse_bound_config(bound);
  return o;
}

// Largest |b - a| of column c (all values for c = npos) and that column's range in a.
std::pair<double, double> max_error(const dataset& a, const dataset& b, std::size_t c) {
  const std::vector<double> x = a.data.to_doubles(), y = b.data.to_doubles();
  const std::size_t cols = c == std::string::npos ? 1 : a.data.shape[1];
  double err = 0, lo = INFINITY, hi = -INFINITY;
  for (std::size_t i = (c == std::string::npos ? 0 : c); i < x.size(); i += cols) {
    err = std::max(err, std::abs(y[i] - x[i]));
    lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  }
  return {err, hi - lo};
}

std::vector<std::byte> bytes_of(const std::filesystem::path& p) { return read_file(p); }

}  // namespace

TEST_CASE("chunked table: range bound over the whole column, random access equals the full decode") {
  scratch_dir dir;
  const dataset d = lhcb();  // 4322 rows: chunks of 1000 leave 322
  const auto res = codec::compress_chunked(codec::source_of(d), dir / "t.baler", false, with_bound("range:1e-3"),
                                           chunks_of(1000));
  CHECK(res.chunks == 5);
  const codec::chunked_decoder dec(dir / "t.baler");
  CHECK(dec.reader().index().back().rows == 322);
  const dataset full = dec.rows(0, 4322);
  CHECK(full.names == d.names);
  CHECK(full.data.shape == d.data.shape);
  for (std::size_t c = 0; c < d.names.size(); ++c) {
    const auto [err, range] = max_error(d, full, c);
    CHECK_MESSAGE(err <= 1e-3 * range, d.names[c]);
  }
  const dataset part = dec.rows(1500, 3101);
  CHECK(part.data == codec::row_slice(full.data, 1500, 1601));
  CHECK(dec.rows(999, 1000).data == codec::row_slice(full.data, 999, 1));
  CHECK_THROWS_WITH_AS(dec.rows(10, 4323), doctest::Contains("are not a range within the 4322 rows"), error);

  dec.write_npy(dir / "part.npy", false, 1500, 3101, 2);
  CHECK(npy::read_file(dir / "part.npy") == part.data);
  const nlohmann::json& eb = dec.reader().shared().header.at("error_bound");
  CHECK(eb.at("default") == "range:0.001");
  CHECK(eb.at("applied").at(d.names[0]).get<std::string>().rfind("abs:", 0) == 0);
}

TEST_CASE("chunked unnamed tables, 2-D and 1-D: every column within its own range, a short last chunk too") {
  scratch_dir dir;
  dataset d = lhcb();
  d.names.clear();  // 4322 x 26 without names: a table (codec::is_field), its chunks of 322 rows too
  REQUIRE_FALSE(codec::is_field(d));
  REQUIRE(codec::is_field(codec::row_slice(d.data, 0, 322).shape, false));  // by its shape alone a field
  codec::compress_chunked(codec::source_of(d), dir / "t.baler", false, with_bound("range:1e-3"), chunks_of(1000));
  const dataset full = codec::chunked_decoder(dir / "t.baler").rows(0, 4322);
  for (std::size_t c = 0; c < 26; ++c) {
    const auto [err, range] = max_error(d, full, c);
    CHECK_MESSAGE(err <= 1e-3 * range, "column ", c);
  }

  const std::vector<double> x = d.data.to_doubles();
  std::vector<double> column(4322);
  for (std::size_t r = 0; r < 4322; ++r) column[r] = x[r * 26 + 5];
  const dataset one{ndarray::from_doubles(column, {4322}, dtype::f64), {}};
  codec::compress_chunked(codec::source_of(one), dir / "c.baler", false, with_bound("range:1e-3"), chunks_of(1000));
  const dataset back = codec::chunked_decoder(dir / "c.baler").rows(0, 4322);
  const auto [err, range] = max_error(one, back, std::string::npos);
  CHECK(range > 0);
  CHECK(err <= 1e-3 * range);
}

TEST_CASE("a short table without names is a table by its values, an image a field, a chunk what its whole is") {
  // 300 x 26 would be an image by its shape alone; its neighbouring columns (momenta, angles,
  // probabilities) do not vary together, so each column keeps its own range.
  const dataset all = lhcb();
  dataset d{codec::row_slice(all.data, 0, 300), {}};
  REQUIRE(codec::is_field(d.data.shape, false));
  CHECK_FALSE(codec::is_field(d));
  const dataset back = codec::decompress_file(byte_view(codec::compress_error_bounded(d, codec::parse_bound_config("range:1e-3"))));
  for (std::size_t c = 0; c < 26; ++c) {
    const auto [err, range] = max_error(d, back, c);
    CHECK_MESSAGE(err <= 1e-3 * range, "column ", c);
  }
  scratch_dir dir;
  const codec::row_source table = codec::source_of(d);
  CHECK_FALSE(table.field);
  CHECK(table.names.size() == 26);  // made up, so that every chunk is a table
  codec::compress_chunked(table, dir / "t.baler", false, with_bound("range:1e-3"), chunks_of(64));
  const dataset chunked = codec::chunked_decoder(dir / "t.baler").rows(0, 300);
  for (std::size_t c = 0; c < 26; ++c) CHECK_MESSAGE(max_error(d, chunked, c).first <= 1e-3 * max_error(d, d, c).second, "column ", c);

  // A frame of the CFD animation is an image; so is noise smoothed along both axes, however far
  // apart its columns' ranges are, and white noise of one spread (one range bounds it as well
  // as its own). White noise of spreads far apart is a table.
  const dataset frames = cfd();
  dataset image{codec::row_slice(frames.data, 30, 1), {}};
  image.data.shape = {frames.data.shape[1], frames.data.shape[2]};
  CHECK(codec::is_field(image));
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  std::vector<double> noise(64 * 64), smooth(64 * 64, 0.0), apart(64 * 64);
  for (double& v : noise) v = normal(rng);
  for (std::size_t r = 0; r < 64; ++r)
    for (std::size_t c = 0; c < 64; ++c) {
      apart[r * 64 + c] = noise[r * 64 + c] * double((1 + c) * (1 + c));
      for (std::size_t i = r; i < std::min<std::size_t>(r + 12, 64); ++i)
        for (std::size_t j = c; j < std::min<std::size_t>(c + 12, 64); ++j)
          smooth[r * 64 + c] += noise[i * 64 + j] * double(1 + c);
    }
  CHECK(codec::is_field(dataset{ndarray::from_doubles(smooth, {64, 64}, dtype::f64), {}}));
  CHECK(codec::is_field(dataset{ndarray::from_doubles(noise, {64, 64}, dtype::f32), {}}));
  CHECK_FALSE(codec::is_field(dataset{ndarray::from_doubles(apart, {64, 64}, dtype::f32), {}}));

  // A measured column beside 0/1 flags (set in 5-50 % of rows, so most have no median spread)
  // is a table, each flag kept within its own bound; sparse spots on zeros are an image.
  std::uniform_real_distribution<double> unit;
  std::vector<double> flagged(200 * 20), spots(64 * 64, 0.0);
  for (std::size_t r = 0; r < 200; ++r) {
    flagged[r * 20] = std::exp(6 + normal(rng));
    for (std::size_t c = 1; c < 20; ++c) flagged[r * 20 + c] = unit(rng) < 0.05 + 0.45 * double(c) / 19 ? 1 : 0;
  }
  for (int spot = 0; spot < 8; ++spot) {
    const double y0 = 64 * unit(rng), x0 = 64 * unit(rng), width = 2 + 3 * unit(rng), height = 5 + 495 * unit(rng);
    for (std::size_t i = 0; i < spots.size(); ++i) {
      const double dy = double(i / 64) - y0, dx = double(i % 64) - x0;
      spots[i] += height * std::exp(-(dy * dy + dx * dx) / (2 * width * width));
    }
  }
  for (double& v : spots) v = v > 1 ? v : 0;
  const dataset flags{ndarray::from_doubles(flagged, {200, 20}, dtype::f64), {}};
  CHECK_FALSE(codec::is_field(flags));
  const dataset flags_back =
      codec::decompress_file(byte_view(codec::compress_error_bounded(flags, codec::parse_bound_config("range:1e-3"))));
  for (std::size_t c = 0; c < 20; ++c) {
    const auto [err, range] = max_error(flags, flags_back, c);
    CHECK_MESSAGE(err <= 1e-3 * range, "column ", c);
  }
  CHECK(codec::is_field(dataset{ndarray::from_doubles(spots, {64, 64}, dtype::f64), {}}));

  // A chunk of two rows of the image can look like anything; it is a field as the whole is.
  const codec::row_source field = codec::source_of(image);
  CHECK(field.field);
  CHECK(field.names.empty());
  CHECK(codec::is_field(field.slice(10, 2)));
}

TEST_CASE("chunked int64 past 2^53: exact chunk by chunk under an abs bound, a range bound over chunks refused") {
  scratch_dir dir;
  ndarray t = ndarray::zeros(dtype::i64, {2500});
  std::int64_t* v = t.data_as<std::int64_t>();
  for (std::int64_t i = 0; i < 2500; ++i) v[i] = 1600000000000000001 + i * 977 + (i * 7919) % 50;
  const dataset d{t, {}};
  codec::compress_chunked(codec::source_of(d), dir / "t.baler", false, with_bound("abs:10"), chunks_of(1000));
  const dataset back = codec::chunked_decoder(dir / "t.baler").rows(0, 2500);
  CHECK(back.data == d.data);  // a table's integer column: exact, each chunk less its own minimum
  CHECK_THROWS_WITH_AS(codec::compress_chunked(codec::source_of(d), dir / "r.baler", false, with_bound("range:1e-3"),
                                               chunks_of(1000)),
                       doctest::Contains("a range or PSNR bound over chunks"), error);
  CHECK_FALSE(std::filesystem::exists(dir / "r.baler"));
}

TEST_CASE("chunked field: frames in chunks of 7, random frame ranges, same bytes for 1 and 2 threads") {
  scratch_dir dir;
  const dataset d = cfd();  // 60 frames of 50 x 50
  const auto o = with_bound("range:1e-3");
  codec::compress_chunked(codec::source_of(d), dir / "one.baler", false, o, chunks_of(7, 1));
  codec::compress_chunked(codec::source_of(d), dir / "two.baler", false, o, chunks_of(7, 2));
  CHECK(bytes_of(dir / "one.baler") == bytes_of(dir / "two.baler"));
  const codec::chunked_decoder dec(dir / "two.baler");
  CHECK(dec.reader().index().size() == 9);
  const dataset full = dec.rows(0, 60);
  const auto [err, range] = max_error(d, full, std::string::npos);
  CHECK(err <= 1e-3 * range);
  CHECK(dec.rows(13, 30).data == codec::row_slice(full.data, 13, 17));
  CHECK(full.member.empty());
  // An .npz member of another name than "data" comes back under it.
  dataset named = d;
  named.member = "vorticity";
  codec::compress_chunked(codec::source_of(named), dir / "named.baler", false, o, chunks_of(7, 2));
  CHECK(codec::chunked_decoder(dir / "named.baler").rows(0, 60).member == "vorticity");
}

TEST_CASE("chunked PSNR target: met over the whole field, on its range, not conservatively per chunk") {
  scratch_dir dir;
  const dataset d = cfd();
  codec::compress_chunked(codec::source_of(d), dir / "p.baler", false, with_bound("psnr:45"), chunks_of(7));
  const dataset back = codec::chunked_decoder(dir / "p.baler").rows(0, 60);
  const std::vector<double> x = d.data.to_doubles(), y = back.data.to_doubles();
  double sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sum += (y[i] - x[i]) * (y[i] - x[i]);
  const double psnr = 20 * std::log10(max_error(d, back, std::string::npos).second / std::sqrt(sum / double(x.size())));
  CHECK(psnr >= 45);
  CHECK(psnr <= 46);  // each chunk on its own, smaller, range would give ~2 dB more
}

TEST_CASE("chunked plain mode: one shared model, chunks need it, 1 and 2 threads agree") {
  scratch_dir dir;
  const dataset d = lhcb();
  codec::codec_options o;
  o.epochs = 3;
  codec::chunked_options c = chunks_of(900, 1);
  c.sample_bytes = 2000 * d.data.nbytes() / 4322;  // a sample of 2 of the 5 chunks
  std::string said;
  c.log = [&](const std::string& s) { said += s; };
  const auto one = codec::compress_chunked(codec::source_of(d), dir / "one.baler", false, o, c);
  CHECK(one.sample_rows == 1800);
  CHECK(said.find("training on a sample of 1800 of 4322 rows") != std::string::npos);
  c.threads = 2;
  codec::compress_chunked(codec::source_of(d), dir / "two.baler", false, o, c);
  CHECK(bytes_of(dir / "one.baler") == bytes_of(dir / "two.baler"));
  const codec::chunked_decoder dec(dir / "one.baler");
  CHECK(dec.reader().shared().find("MODL") != nullptr);
  const dataset full = dec.rows(0, 4322);
  CHECK(full.data.shape == d.data.shape);
  CHECK(dec.rows(850, 1850).data == codec::row_slice(full.data, 850, 1000));
  // The model is stored once: every chunk is far smaller than the model section.
  for (const auto& e : dec.reader().index()) CHECK(e.size < one.model.size());
}

TEST_CASE("a damaged chunk is named and the others still decode") {
  scratch_dir dir;
  const dataset d = lhcb();
  codec::compress_chunked(codec::source_of(d), dir / "t.baler", false, with_bound("abs:0.01"), chunks_of(1000));
  const codec::chunked_decoder good(dir / "t.baler");
  const auto e = good.reader().index()[2];
  {
    std::fstream f(dir / "t.baler", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(e.offset + e.size / 2));
    f.put('\x55' ^ char(bytes_of(dir / "t.baler")[e.offset + e.size / 2]));
  }
  const codec::chunked_decoder dec(dir / "t.baler");
  CHECK(dec.damaged_chunks() == std::vector<std::size_t>{2});
  CHECK_THROWS_WITH_AS(dec.rows(0, 4322), doctest::Contains("chunk 2 (rows 2000 to 2999) is damaged"), error);
  CHECK(dec.rows(0, 2000).data == good.rows(0, 2000).data);
  CHECK(dec.rows(3000, 4322).data == good.rows(3000, 4322).data);
}

TEST_CASE("a truncated chunked file is refused by name; a version-1 reader names the chunked reader") {
  scratch_dir dir;
  codec::compress_chunked(codec::source_of(lhcb()), dir / "t.baler", false, with_bound("abs:0.01"), chunks_of(2000));
  std::vector<std::byte> b = bytes_of(dir / "t.baler");
  CHECK(format::version_of(byte_view(b)) == 2);
  CHECK_THROWS_WITH_AS(format::parse(b), doctest::Contains("read it with format::chunked_reader"), error);
  b.resize(b.size() - 10);
  write_file_atomically(dir / "cut.baler", b, false);
  CHECK_THROWS_WITH_AS(codec::chunked_decoder(dir / "cut.baler"), doctest::Contains("has no index at its end"), error);
}

TEST_CASE("a chunk whose columns are not the header's is refused") {
  // Chunks spliced in from another file, with the right row counts: laid out by the header's
  // shape, they would not fill it (the fuzz_chunked harness's invariant).
  scratch_dir dir;
  const auto table = [](std::size_t cols) {
    dataset d{ndarray::zeros(dtype::f64, {20, cols}), {}};
    for (std::size_t c = 0; c < cols; ++c) d.names.push_back("c" + std::to_string(c));
    return d;
  };
  const dataset wide = table(3), narrow = table(2);
  const codec::codec_options o = with_bound("abs:0.01");
  const codec::chunk_plan p = codec::plan_chunks(codec::source_of(wide), o, chunks_of(10));
  format::chunked_writer w(dir / "t.baler", false, p.shared);
  for (std::size_t first : {0, 10})
    w.add(codec::compress_error_bounded(codec::source_of(narrow).slice(first, 10), o.error_bound, o), 10);
  w.finish();
  const codec::chunked_decoder dec(dir / "t.baler");
  CHECK_THROWS_WITH_AS(dec.rows(0, 20, 1), doctest::Contains("chunk 0 does not have the file's shape"), error);
}

TEST_CASE("npy slices: streamed reads and writes equal the whole array, big-endian too") {
  scratch_dir dir;
  const ndarray whole = npy::read_file(io_test::fixture("big_endian_f8.npy"));
  const npy::slice_reader r(io_test::fixture("big_endian_f8.npy"));
  CHECK(r.shape() == whole.shape);
  const std::size_t n = whole.shape[0];
  npy::slice_writer w(dir / "copy.npy", whole.type, whole.shape, false);
  for (std::size_t first = 0; first < n; first += 2) w.append(r.rows(first, std::min<std::size_t>(2, n - first)));
  CHECK(!std::filesystem::exists(dir / "copy.npy"));  // appears only at commit
  w.commit();
  CHECK(npy::read_file(dir / "copy.npy") == whole);
  CHECK_THROWS_WITH_AS(npy::slice_reader(io_test::fixture("fortran_i16_3d.npy")),
                       doctest::Contains("Fortran order"), error);
}
