#pragma once
// The error-bounded mode: every value of a table's bounded columns, or of a whole field, comes
// back within its bound. Not a template: it needs no backend and no model type; a model's
// reconstruction (the autoencoder's, from the stored latent) comes in as plain values, one more
// predictor to choose from.
//
//   write(c, t, ...)  fills a container: header "columns" and "error_bound", sections EXCT
//                     (exact columns) and RESQ (the coded blocks, one per bounded column, or
//                     one for the field).
//   read(c, t)        the inverse, into t (which holds the model's reconstruction on entry).
//
// Each block gets the predictor whose residuals code smallest: for fields estimated (an order-0
// entropy estimate within its coding contexts, without coding, on a box from the middle) among
// Lorenzo (over all axes, or within frames), a learned causal predictor (11 taps, or 17
// reaching two frames or three rows back: "causal_deep"; on a time series whose content moves,
// also that one reading the frames before where the content was: "causal_motion"; and that one
// with weights of its own in each of 2 x 2 or 4 x 4 regions of the frames: "causal_regional") and
// multilevel interpolation (linear, cubic, learned); for table columns coded (a column codes in milliseconds) among the column's
// median, the row before, the line through the two rows before, a formula or a relation network over the columns decoded before it
// (formula.hpp, relation_predictor.hpp) and the model's reconstruction, their contexts
// optionally with the quantile of a partner column decoded before it, or its codes as values
// through a histogram, optionally per quantile of a partner or mixed from the histograms per
// quantile of up to three (histogram_block.hpp, mixing.hpp). A field of
// floats is also offered with requantised residuals (block.hpp), each of its predictors again. Integer
// columns with few values (flags, charges), which a model leaves exact, are bounded columns
// here with an exact code: they partner and are partnered like the others. A table's missing
// values (NaN, or a sentinel such as -999) are coded as values (a column's NaN through a value
// below all others, detail::nan_marker_of) or as exceptions, stored exactly, whichever codes
// smaller; fits leave their rows out. A sentinel's rows coded as codes come back as the
// sentinel where something marks them once decoded (restore_sentinel, sentinel.hpp).
// Predictions computed in floating point (formula, relation, latent) could round
// differently on another machine: their blocks store the CRC-32 of their values, and a decoder that
// gets other values refuses the file instead of returning values outside the bound. Integer
// predictors need no such check.
//
// A block never costs more than its codes through zstd -19 (fallback_block), the strongest simple
// baseline's coding (past 256 KB of codes, unless a sample put -19 5 % behind: fallback_may_win).
//
// A block's "coder": "context" (Lorenzo), "context_phased" (interpolation and causal: contexts
// with the prediction's rounding phase, field_walks.hpp), "context_signed" (table columns:
// lengths per sign, few row contexts, sequence_walk.hpp), "counted_tree" or "mixed_tree" (a table
// column's codes as values, histogram_block.hpp; "tree" before them) or "zstd" (fallback_block);
// "signed_" before the last three when a rel bound's codes carry their signs (with "base",
// block.hpp's with_signs), "coarse_" before a field walk's coder when its residuals are
// requantised (with "coarse": K), and "graded_" before that when an interpolation grades
// them by level (field_walks.hpp). A reader
// that predates a coder refuses it as unknown instead of misreading it. Table columns of coder
// "context" come from files before "context_signed"; files written before the context coder
// (their predictor descriptions have no "coder") are read by the order-0 decoder of
// bounded_coding.hpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "baler/bounded/field_walks.hpp"
#include "baler/bounded/formula.hpp"
#include "baler/bounded/histogram_block.hpp"
#include "baler/bounded/latent_estimate.hpp"
#include "baler/bounded/psnr_target.hpp"
#include "baler/bounded/wavelet.hpp"
#include "baler/bounded/sentinel.hpp"
#include "baler/bounded/sequence_walk.hpp"
#include "baler/codec/bounded_coding.hpp"
#include "baler/codec/relation_predictor.hpp"
#include "baler/codec/schema.hpp"
#include "baler/format/checksum.hpp"
#include "baler/format/container.hpp"
#include "baler/format/zstd.hpp"
#include "baler/parallel/parallel_for.hpp"

namespace baler::bounded {

// The coder names of blocks whose contexts carry the prediction's phase, and of table columns
// (see the top).
constexpr const char* phased_coder = "context_phased";
constexpr const char* signed_coder = "context_signed";
// What the coder name of a requantised block starts with (then the walk's own coder): a reader
// that predates requantising refuses the coder as unknown.
constexpr const char* coarse_prefix = "coarse_";
// And what comes before that when an interpolation grades its requantising by level
// (field_walks.hpp): a reader that predates grading refuses the coder as unknown.
constexpr const char* graded_prefix = "graded_";

using codec::bound_config;
using codec::table;

// Why a block was coded as it was: every candidate's estimate, the choice, what it cost.
struct block_report {
  std::string block;                                   // column name, or "field"
  std::vector<std::pair<std::string, double>> estimates;  // predictor, estimated bytes
  std::string chosen;
  std::size_t bytes = 0, exceptions = 0;
  std::string note;  // what the user may want to know of the block's bound, or empty
};
using report = std::vector<block_report>;

inline std::string format_report(const report& r) {
  std::string out =
      "error-bounded blocks (predictor chosen by size, its description included; bytes of each "
      "candidate, estimated from a sample box for fields, coded for table columns):\n";
  for (const auto& b : r) {
    out += "  " + b.block + ": " + b.chosen + ", " + std::to_string(b.bytes) + " bytes";
    if (b.exceptions) out += ", " + std::to_string(b.exceptions) + " stored exactly";
    out += "  [";
    for (std::size_t i = 0; i < b.estimates.size(); ++i)
      out += (i ? ", " : "") + b.estimates[i].first + " " + std::to_string(std::llround(b.estimates[i].second));
    out += "]\n";
    if (!b.note.empty()) out += "    note: " + b.note + "\n";
  }
  return out;
}

// Estimated bytes of a walk's residuals: the entropy of their bit lengths and signs within
// each coding context, the bits below each leading one, and a price for every (context,
// length) pair used, the cost of learning it.
template <class Walk>
double estimate_bytes(const Walk& walk, const quantised& q) {
  const std::size_t n = q.k.size();
  walk_state s(n);
  constexpr std::size_t lengths = 130;
  std::vector<std::uint32_t> hist(std::size_t(walk.contexts()) * lengths, 0);
  std::uint64_t raw_bits = 0;
  walk(s, [&](std::size_t i, std::int64_t p, unsigned context) {
    std::int64_t k, r;
    if (!predicted_code(q, s.coarse_shift, i, q.k[i], p, k, r)) k = p, r = 0;
    s.set(i, k, r);
    const std::uint64_t m = r < 0 ? std::uint64_t(0) - std::uint64_t(r) : std::uint64_t(r);
    const int len = m ? 64 - __builtin_clzll(m) : 0;
    ++hist[context * lengths + std::size_t(len) * 2 + (r < 0)];
    raw_bits += len > 1 ? len - 1 : 0;
  });
  double bits = double(raw_bits);
  for (std::size_t c = 0; c < walk.contexts(); ++c) {
    double total = 0;
    for (std::size_t j = 0; j < lengths; ++j) total += hist[c * lengths + j];
    for (std::size_t j = 0; j < lengths; ++j)
      if (const double h = hist[c * lengths + j]) bits += 6 - h * std::log2(h / total);
  }
  return bits / 8;
}

// Codes predicted from values (a model's reconstruction, a relation network), one per value.
inline std::vector<std::int64_t> codes_of(const std::vector<double>& values, const value_code& code) {
  std::vector<std::int64_t> k(values.size(), 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::int64_t c;
    if (values[i] != 0 && code.encode(values[i], c)) k[i] = c;
  }
  return k;
}

inline std::uint32_t crc_of(const std::vector<double>& v) {
  return crc32_of(byte_view(reinterpret_cast<const std::byte*>(v.data()), v.size() * sizeof(double)));
}

// The codes the fallback stores (with their signs under a rel bound: with_signs, made row by row
// instead of copied), as u = code - lo in `width` bytes, byte-shuffled (byte 0 of every row,
// then byte 1, ...): byte j of the planes is byte j / n of row j % n. Made a piece at a time,
// never whole: the planes of a 64 MB float32 field's codes would be 32 MB more at the peak.
class code_planes {
public:
  code_planes(const double* x, const quantised& q, bool rel)
      : x_(x), q_(q), rel_(rel), base_(rel ? signs_base(x, q) : 0) {
    bool any = false;
    std::int64_t hi = 0;
    for (std::size_t i = 0; i < q.k.size(); ++i)
      if (has(i)) lo_ = any ? std::min(lo_, code(i)) : code(i), hi = any ? std::max(hi, code(i)) : code(i), any = true;
    const std::uint64_t span = std::uint64_t(hi) - std::uint64_t(lo_);
    width_ = span < (1u << 8) ? 1 : span < (1u << 16) ? 2 : span < (std::uint64_t(1) << 32) ? 4 : 8;
  }
  // What with_signs gives row i: whether it has a code (else it is stored exactly), and the code.
  bool has(std::size_t i) const { return (rel_ && x_[i] == 0) || q_.has[i]; }
  std::int64_t code(std::size_t i) const { return rel_ ? signed_code(x_, q_, base_, i) : q_.k[i]; }
  std::size_t rows() const { return q_.k.size(); }
  std::size_t width() const { return width_; }
  std::int64_t lo() const { return lo_; }
  std::int64_t base() const { return base_; }
  std::uint64_t size() const { return std::uint64_t(rows()) * width_; }
  // Bytes [from, from + count) of the planes of rows [first, first + n) (all rows by default).
  void copy(std::uint64_t from, std::size_t count, std::byte* dst, std::size_t first = 0, std::size_t n = 0) const {
    if (n == 0) n = rows();
    while (count > 0) {  // a run of one plane at a time
      const unsigned shift = unsigned(8 * (from / n));
      const std::size_t i = first + std::size_t(from % n), run = std::min<std::size_t>(count, n - std::size_t(from % n));
      const auto put = [&](auto u_of) {
        for (std::size_t j = 0; j < run; ++j) dst[j] = std::byte(std::uint8_t(u_of(i + j) >> shift));
      };
      const std::uint64_t lo = std::uint64_t(lo_);
      if (rel_) put([&](std::size_t r) { return has(r) ? std::uint64_t(code(r)) - lo : 0; });
      else put([&](std::size_t r) { return q_.has[r] ? std::uint64_t(q_.k[r]) - lo : 0; });
      dst += run, from += run, count -= run;
    }
  }

private:
  const double* x_;
  const quantised& q_;
  bool rel_;
  std::int64_t base_, lo_ = 0;
  std::size_t width_ = 1;
};

// zstd at `level` of the planes, made a piece at a time; appended to `out`, or only counted.
inline std::size_t zstd_of(const code_planes& planes, int level, std::vector<std::byte>* out = nullptr) {
  return zstd_compress_pieces(
      planes.size(), level, [&](std::uint64_t from, std::size_t count, std::byte* dst) { planes.copy(from, count, dst); },
      out);
}

// Whether zstd -19 may code these planes in fewer than `beat` bytes. zstd -19 runs at ~2 MB/s,
// slower than all the rest of a field's compression, and at a peak of ~50 MB more; a predictor
// that codes well leaves it no chance. zstd -1 on the whole says at once where it is far behind
// (-19 is rarely a fifth smaller); past fallback_sample_bytes, -19 against -1 on
// fallback_sample_pieces stretches of the rows gives their ratio, and -1's size on the whole
// times that ratio must come within fallback_sample_margin of `beat` (that estimate came within
// 0.6-2 % of -19 on the whole, on 1-4 MB of codes of 3-D fields).
constexpr std::size_t fallback_sample_bytes = std::size_t(1) << 18, fallback_sample_pieces = 8;
constexpr double fallback_sample_margin = 1.05;
inline bool fallback_may_win(const code_planes& planes, std::size_t beat) {
  const double fast = double(zstd_of(planes, 1));
  if (fast > 1.25 * double(beat)) return false;
  if (planes.size() <= fallback_sample_bytes) return true;
  const std::size_t n = planes.rows(), width = planes.width();
  const std::size_t piece = fallback_sample_bytes / width / fallback_sample_pieces, rows = piece * fallback_sample_pieces;
  std::vector<std::byte> sample(rows * width);  // the planes of the pieces' rows
  for (std::size_t p = 0; p < fallback_sample_pieces; ++p) {
    const std::size_t first = (n - piece) / (fallback_sample_pieces - 1) * p;  // first to last row
    for (std::size_t b = 0; b < width; ++b)
      planes.copy(std::uint64_t(b) * piece, piece, sample.data() + b * rows + p * piece, first, piece);
  }
  const double ratio = double(zstd_compress(byte_view(sample), 19).size()) /
                       double(std::max<std::size_t>(1, zstd_compress(byte_view(sample), 1).size()));
  return fast * ratio < fallback_sample_margin * double(beat);
}

// The general-purpose fallback for a block: the codes (with their signs under a rel bound,
// with_signs) minus their minimum in the narrowest unsigned width, byte-shuffled, zstd -19 (the
// strongest simple baseline's coding), so that no block ever costs more than that. Bytes: varint
// E, E x (varint index delta, f64 value), varint Z, Z bytes of zstd.
inline block_result fallback_block(const double* x, const quantised& codes, const value_code& code, std::size_t beat,
                                   nlohmann::json& desc) {
  block_result r;
  const std::size_t n = codes.k.size();
  if (n == 0) return r;
  const bool rel = code.kind == codec::bound_kind::rel;
  const code_planes planes(x, codes, rel);
  if (!fallback_may_win(planes, beat)) return {};
  std::vector<std::byte> packed;
  zstd_of(planes, 19, &packed);
  exception_list exceptions;
  for (std::size_t i = 0; i < n; ++i)
    if (!planes.has(i)) exceptions.emplace_back(i, x[i]);
  r.exceptions = exceptions.size();
  write_exceptions(exceptions, r.bytes);
  append_varint(r.bytes, packed.size());
  r.bytes.insert(r.bytes.end(), packed.begin(), packed.end());
  desc = {{"kind", "codes"}, {"coder", "zstd"}, {"min", planes.lo()}, {"width", planes.width()}};
  if (rel) mark_signed(desc, planes.base());
  return r;
}

inline std::vector<double> decode_fallback(codec::rans::reader& in, std::size_t n, const value_code& code,
                                           const nlohmann::json& desc) {
  const char* where = "bounded::read";
  const std::size_t width = format::header_size(desc.at("width"), "a block's width");
  const std::int64_t lo = format::header_int<std::int64_t>(desc.at("min"), "a block's minimum");
  const std::int64_t base = signed_base(desc, code, where);
  require(width == 1 || width == 2 || width == 4 || width == 8, where, "a bad code width");
  const exception_list exceptions = read_exceptions(in, n);
  require(n <= std::numeric_limits<std::size_t>::max() / width, where, "a block too large");
  const std::vector<std::byte> planes = zstd_decompress(in.bytes(in.varint()), n * width);
  require(planes.size() == n * width, where, "the codes of a block have the wrong size");
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t u = 0;
    for (std::size_t b = 0; b < width; ++b) u |= std::uint64_t(std::uint8_t(planes[b * n + i])) << (8 * b);
    x[i] = value_of_signed(code, wrapping_add(lo, std::int64_t(u)), base);
  }
  for (const auto& e : exceptions) x[e.first] = e.second;
  return x;
}

// A block's predictor as reports name it: "lorenzo", "interpolation/learned", "causal_deep
// requantised x64", "causal_motion moving -1 rows -3 columns", "causal_regional in 4x4 regions",
// "histogram mixed", "wavelet corrected".
inline std::string predictor_label(const nlohmann::json& desc) {
  return desc.at("kind").get<std::string>() + (desc.contains("method") ? "/" + desc["method"].get<std::string>() : "") +
         (desc.contains("motion")  // no comma: reports end a label at one
              ? " moving " + desc["motion"][0].dump() + " rows " + desc["motion"][1].dump() + " columns"
              : "") +
         (desc.contains("regions") ? " in " + desc["regions"][0].dump() + "x" + desc["regions"][1].dump() + " regions" : "") +
         (desc.contains("coarse") ? " requantised x" + desc["coarse"].dump() : "") +
         (desc.value("coder", "").rfind(graded_prefix, 0) == 0 ? " graded" : "") +
         (desc.value("coder", "").find(mixed_tree_coder) != std::string::npos ? " mixed" : "") +  // signed_ too
         (desc.value("coder", "") == wavelet::corrected_coder_name ? " corrected" : "");
}

namespace detail {

// One way to code a block: its description for the header, an estimate and the coding itself.
struct candidate {
  nlohmann::json desc;
  std::function<double()> estimate;
  std::function<block_result()> encode;
  std::vector<std::byte> prefix;  // what the decoder needs to remake the predictions
  bool checked = false;           // floating-point predictions: store a CRC of the values
  std::size_t option = 0;         // of a field: which of its quantisations it codes
  std::string note;               // what tells it from a candidate of the same description keys
  bool rough = false;             // its estimate sees part of what it was fitted for (code_best)
};

// What a block's description adds to the compressed header, which decides between predictors of
// a small field (a few dozen bytes of weights): its numbers, ~6 bits a character in zstd's
// literals; the keys are in the header's dictionary and cost next to nothing.
inline double description_bytes(const nlohmann::json& desc) {
  const std::string text = desc.dump();
  const auto numeric = [](char c) { return (c >= '0' && c <= '9') || c == '-' || c == '.'; };
  return 0.75 * double(std::count_if(text.begin(), text.end(), numeric));
}

// Estimates every candidate, codes the block with the smallest and appends it to `resq`;
// returns its description. `q` and `code` are those of the zstd fallback and of checked
// candidates; `option` receives the chosen candidate's (0 for the fallback). `recode_within`
// > 0: where the smallest estimate or the next is `rough` (a field's weights per region, of
// which the box holds only the middle ones) and the next is within that fraction of the
// smallest, it is coded too and the smaller kept.
inline nlohmann::json code_best(std::vector<candidate>& cs, const std::string& name, const double* x,
                                const quantised& q, const value_code& code, std::vector<std::byte>& resq, report* rep,
                                std::size_t* option = nullptr, double recode_within = 0) {
  block_report br;
  br.block = name;
  std::size_t best = 0;
  double best_bytes = INFINITY;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    const double e = cs[i].estimate() + double(cs[i].prefix.size()) + description_bytes(cs[i].desc);
    br.estimates.emplace_back(predictor_label(cs[i].desc) + cs[i].note, e);
    if (e < best_bytes) best_bytes = e, best = i;
  }
  std::vector<std::size_t> coded{best};
  if (recode_within > 0) {
    std::optional<std::size_t> next;
    for (std::size_t i = 0; i < cs.size(); ++i)
      if (i != best && (!next || br.estimates[i].second < br.estimates[*next].second)) next = i;
    if (next && (cs[best].rough || cs[*next].rough) && br.estimates[*next].second <= best_bytes * (1 + recode_within))
      coded.push_back(*next);
  }
  block_result r;
  double coded_bytes = INFINITY;
  for (std::size_t i : coded) {
    block_result ri = cs[i].encode();
    const double bytes = double(ri.bytes.size() + cs[i].prefix.size()) + description_bytes(cs[i].desc);
    if (bytes < coded_bytes) coded_bytes = bytes, best = i, r = std::move(ri);
  }
  candidate& c = cs[best];
  nlohmann::json j = c.desc;
  if (!j.contains("coder")) j["coder"] = "context";
  nlohmann::json plain;
  if (block_result f = fallback_block(x, q, code, c.prefix.size() + r.bytes.size(), plain);
      !f.bytes.empty() && f.bytes.size() < c.prefix.size() + r.bytes.size()) {
    plain["offset"] = resq.size();
    plain["exceptions"] = f.exceptions;
    resq.insert(resq.end(), f.bytes.begin(), f.bytes.end());
    br.chosen = "codes+zstd";
    if (option) *option = 0;
    br.bytes = f.bytes.size();
    br.exceptions = f.exceptions;
    if (rep) rep->push_back(std::move(br));
    return plain;
  }
  j["offset"] = resq.size();
  j["exceptions"] = r.exceptions;
  if (c.checked) j["check"] = crc_of(reconstruct(x, q, code));
  if (option) *option = c.option;
  resq.insert(resq.end(), c.prefix.begin(), c.prefix.end());
  resq.insert(resq.end(), r.bytes.begin(), r.bytes.end());
  br.chosen = br.estimates[best].first;
  br.bytes = c.prefix.size() + r.bytes.size();
  br.exceptions = r.exceptions;
  if (rep) rep->push_back(std::move(br));
  return j;
}

inline void verify(const nlohmann::json& desc, const std::vector<double>& x) {
  if (desc.contains("check") && format::header_int<std::uint32_t>(desc["check"], "a block's check") != crc_of(x))
    throw error("bounded::read(): the '" + desc.at("kind").get<std::string>() +
                "' predictor of this file gave other values here than where it was compressed (another "
                "CPU, compiler, maths library or device rounds differently); refusing to return values "
                "that may be outside the bound. Decompress it with the build that wrote it.");
}

}  // namespace detail

// A box of at most `points` from the middle of grid g, and the codes inside it: predictors are
// compared there, so that choosing costs a fraction of one coding pass.
struct sample_box {
  grid3 dims;
  quantised q;
};
inline sample_box middle_box(const grid3& g, const quantised& q, std::size_t points = 1u << 16) {
  sample_box s{middle_box_dims(g, points), {}};
  const std::size_t n = s.dims[0] * s.dims[1] * s.dims[2];
  s.q.k.resize(n), s.q.has.resize(n), s.q.coarse = q.coarse, s.q.out = q.out;
  for_each_box_cell(g, s.dims, [&](std::size_t i, std::size_t at) { s.q.k[i] = q.k[at], s.q.has[i] = q.has[at]; });
  return s;
}

// A field's candidate estimated next smallest is coded too where it is within 5 % of the
// smallest and one of them has weights per region (detail::code_best): the box's estimates
// put 2 x 2 regions before 3 x 3 on CFD_animation at 1e-3, where coding both says otherwise
// by 6 %.
constexpr double field_recode_within = 0.05;

// Regions of a regional causal walk: at least this many rows and columns each; its fit takes
// region_samples a pass over all regions, at least region_min_samples a region.
constexpr std::size_t region_min_size = 16, region_samples = std::size_t(1) << 14, region_min_samples = 512;

// One way to quantise a field: its code, the factor its residuals are requantised by
// (block.hpp; 1: not at all), and whether they are graded, which offers the interpolations
// alone, their requantising graded by level (field_walks.hpp). Only a PSNR target asks for
// that, searching it apart: at a bound fixed beforehand grading only costs bytes (8-50 % more
// than ungraded on CFD_animation and the vorticity at range:1e-2), under a target it lowers the
// error by more than it costs.
struct field_quantisation {
  value_code code;
  std::int64_t coarse = 1;
  bool graded = false;
};

// The field in t as one block, under whichever of `options` (and predictor) codes smallest;
// `latent`: the model's reconstruction, if any (offered under an option that is not
// requantised); `fill`: the value that marks missing points, if one does, stored exactly;
// `effort` fast: no learned interpolation, and causal weights fitted on the box alone (none on
// the field, so none per region), which take most of the time of choosing.
// Returns the block's description; `chosen` receives the option's code.
inline nlohmann::json encode_field(const table& t, const std::vector<field_quantisation>& options,
                                   const std::vector<double>* latent, std::vector<std::byte>& resq, report* rep,
                                   value_code& chosen, std::optional<double> fill = {},
                                   codec::search_effort effort = codec::search_effort::thorough) {
  const bool thorough = effort == codec::search_effort::thorough;
  const std::size_t n = t.values.size();
  const double* x = t.values.data();
  const grid3 g = fold_shape(t.shape);
  std::deque<quantised> qs(options.size());  // per option; deques keep the candidates' references valid
  auto quantisation = [&](std::size_t o) {
    quantised q = quantise(x, n, options[o].code, t.type, options[o].coarse);
    except_sentinel_rows(q, x, fill, true);
    continue_codes(q);
    return q;
  };
  // The codes of every option but the first (which the fallback codes too) are dropped once
  // its candidates are set up, and made again only if one of them is chosen; the first's are
  // made last: a 64 MB float32 field's codes of one option (128 MB) at a time, where the
  // first wins.
  auto option_codes = [&](std::size_t o) -> quantised& {
    if (qs[o].k.size() != n) qs[o] = quantisation(o);
    return qs[o];
  };
  std::deque<sample_box> boxes(options.size());
  std::vector<detail::candidate> cs;
  std::vector<std::int64_t> latent_codes;
  std::optional<std::array<std::int32_t, 2>> motion;  // rows, columns the frames move by
  for (std::size_t o = options.size(); o-- > 0;) {
    const value_code& code = options[o].code;
    const std::int64_t coarse = options[o].coarse;
    const bool graded = coarse > 1 && options[o].graded;
    quantised& q = qs[o] = quantisation(o);
    const sample_box& box = boxes[o] = middle_box(g, q);
    // Only the deep causal walk follows a move: not offered on two frames, nor graded (below).
    // The content moves as it does whatever the code: found once, on the first option's codes.
    if (!motion && !graded && box.dims[0] > 2) motion = estimate_motion(g, q.k);
    // `walk` codes the field; `sample` is the same predictor over the box.
    const double scale = double(n) / double(box.q.k.size());
    auto add = [&](nlohmann::json desc, auto walk, auto sample, std::string note = {}) {
      if (coarse > 1)
        desc["coarse"] = coarse,
        desc["coder"] = (graded ? graded_prefix : "") + std::string(coarse_prefix) + desc.value("coder", "context");
      cs.push_back({std::move(desc), [sample, &box, scale] { return estimate_bytes(sample, box.q) * scale; },
                    [walk, x, &option_codes, o, &code] {
                      const codes_after after = o > 0 ? codes_after::spent : codes_after::kept;
                      return encode_block(x, option_codes(o), code, walk, after);
                    },
                    {}, false, o, std::move(note)});
    };
    for (bool frames : {false, true})
      if (!graded && (!frames || g[0] > 1))
        add({{"kind", frames ? "lorenzo_frames" : "lorenzo"}, {"neighbourhood", "wide"}}, lorenzo_walk{g, frames},
            lorenzo_walk{box.dims, frames});
    for (interpolation m : {interpolation::linear, interpolation::cubic})
      add({{"kind", "interpolation"}, {"method", to_string(m)}, {"coder", phased_coder}},
          interpolation_walk{g, m, {}, true, graded}, interpolation_walk{box.dims, m, {}, true, graded});
    // The learned interpolation is fitted on the box alone: fitted on the field as well (two
    // walks over it), it estimated within 0.2 % of the box's on every shared and synthetic
    // field but one, where neither won.
    if (thorough) {
      interpolation_walk learned_box = interpolation_walk::fit(box.dims, box.q.k);
      learned_box.graded = graded;
      nlohmann::json weights = nlohmann::json::array();
      for (const auto& w : learned_box.learned) weights.push_back(w);
      interpolation_walk learned_field = learned_box;
      learned_field.dims = g;
      add({{"kind", "interpolation"}, {"method", "learned"}, {"weights", weights}, {"coder", phased_coder}},
          learned_field, learned_box, ", fitted on the box");
    }
    // Causal weights are fitted twice, on the box and on samples from the whole field (their
    // count, not the field's size, sets the cost), and neither always wins: on the turbulence
    // field the box's code 4 % smaller at 1e-4 of the range, the field's 15 % smaller
    // requantised at 1e-2, whose feedback through decoded codes amplifies a misfit.
    // The deep walk fitted on the field: its candidate, where there is one (not graded, nor on
    // two frames); the regional walks below are offered beside it.
    std::optional<std::size_t> deep_on_field;
    for (bool on_box : {true, false}) {
      const std::string note = on_box ? ", fitted on the box" : ", fitted on the field";
      const grid3& dims = on_box ? box.dims : g;
      const std::vector<std::int64_t>& k = on_box ? box.q.k : q.k;
      auto add_causal = [&](const char* kind, auto causal) {
        auto causal_field = causal, causal_box = causal;
        causal_field.dims = g, causal_box.dims = box.dims;
        nlohmann::json desc{{"kind", kind}, {"weights", causal.w}, {"neighbourhood", "wide"}, {"coder", phased_coder}};
        if (causal.moves()) desc["motion"] = causal.motion;
        add(std::move(desc), causal_field, causal_box, note);
      };
      if (graded || (!on_box && !thorough)) continue;  // graded: the interpolations alone
      // The deep walk holds the 11 taps and more (its fit may leave the rest at 0): fitting one
      // keeps compression fast. Two frames are too few for it. Where the frames move, also
      // the deep walk that follows them.
      if (box.dims[0] == 2) add_causal("causal", causal_walk::fit(dims, k));
      else {
        add_causal("causal_deep", causal_deep_walk::fit(dims, k));
        if (!on_box) deep_on_field = cs.size() - 1;
      }
      if (motion && *motion != std::array<std::int32_t, 2>{})
        add_causal("causal_motion", causal_deep_walk::fit(dims, k, 1u << 14, *motion));
    }
    // Weights per region of the frames, fitted on the field (the box holds only its middle
    // regions): 2 x 2, then 4 x 4 if 2 x 2 estimates smaller than the deep walk fitted on the
    // field and within field_recode_within of the best candidate yet, each region at least
    // region_min_size rows and columns (8 x 8 made the vorticity's file larger at 1e-4: its
    // weights cost more than they saved, and its fit more time than any other). The box's
    // walk places itself in the field, so that its points take their regions' weights. Not
    // with requantised residuals: on the shared fields they never won there (the regions' gain
    // is in the small residuals a finer step leaves).
    if (deep_on_field && coarse == 1 && g[1] >= 8) {
      auto estimated = [&](std::size_t i) {  // once: code_best is given the same number
        const double e = cs[i].estimate();
        cs[i].estimate = [e] { return e; };
        return e + detail::description_bytes(cs[i].desc);
      };
      double beat = estimated(*deep_on_field), best = INFINITY;
      for (std::size_t i = 0; i < cs.size(); ++i) best = std::min(best, estimated(i));
      std::array<std::size_t, 2> tried{1, 1};
      for (std::size_t p = 2; p <= causal_deep_walk::max_parts_written; p *= 2) {
        const std::array<std::size_t, 2> parts{std::clamp<std::size_t>(g[1] / region_min_size, 1, p),
                                               std::clamp<std::size_t>(g[2] / region_min_size, 1, p)};
        if (parts == tried) continue;
        tried = parts;
        const causal_deep_walk regional = causal_deep_walk::fit(
            g, q.k, std::max(region_min_samples, region_samples / (parts[0] * parts[1])), {}, parts);
        causal_deep_walk in_box = regional;
        in_box.dims = box.dims;
        in_box.origin = {(g[1] - box.dims[1]) / 2, (g[2] - box.dims[2]) / 2};  // as for_each_box_cell places it
        in_box.extent = {g[1], g[2]};
        add({{"kind", "causal_regional"}, {"regions", parts}, {"weights", regional.regional}, {"neighbourhood", "wide"},
             {"coder", phased_coder}},
            regional, in_box, ", fitted on the field");
        cs.back().rough = true;
        const double e = estimated(cs.size() - 1);
        if (e >= beat || e > best * (1 + field_recode_within)) break;
        beat = e, best = std::min(best, e);
      }
    }
    if (latent && o == 0 && coarse == 1) {  // estimated on the whole field: the box would need its own predictions
      latent_codes = codes_of(*latent, code);
      const sequence_walk walk{sequence_walk::by::values, 0, &latent_codes, n, nullptr, true};
      cs.push_back({{{"kind", "latent"}}, [walk, &q] { return estimate_bytes(walk, q); },
                    [walk, x, &q, &code] { return encode_block(x, q, code, walk); }, {}, true, o, {}});
    }
    if (o > 0) q = quantised{};
  }
  std::stable_sort(cs.begin(), cs.end(), [](const auto& a, const auto& b) { return a.option < b.option; });
  std::size_t option = 0;
  nlohmann::json j = detail::code_best(cs, "field", x, qs[0], options[0].code, resq, rep, &option, field_recode_within);
  chosen = options[option].code;
  return j;
}

inline void read(const format::container& c, table& t);

// A PSNR target met with requantised residuals (block.hpp), whose error follows the prediction
// and is mostly far below a plain code's at the same bound: the widest bound that meets it on a
// box from the middle, coded by the deep causal walk (`graded`: the graded cubic
// interpolation); then the whole field coded under it (any predictor; `graded`, the graded
// interpolations) and decoded as decompress does, the bound moved where the box was not the
// field. Returns the block's description, `rep` the field's report; resq stays empty when no
// try meets the target.
template <class CodeOf>
nlohmann::json encode_requantised_target(const table& t, const codec::bound_spec& spec, double lo, double hi,
                                         bool graded, CodeOf&& code_of, std::vector<std::byte>& resq,
                                         report* rep, value_code& chosen) {
  resq.clear();
  const double range = psnr_range(spec, lo, hi), allowed_rms = codec::psnr_allowed_rms(spec.value, range);
  auto code_at = [&](double e) {
    return requantised_code(code_of(codec::bound_spec{codec::bound_kind::abs, e}), requantise_factor);
  };
  auto rms_of = [&](const double* x, const std::vector<double>& y) {
    return std::sqrt(detail::mean_squared_error(x, y.size(), 1, t.type, [&](std::size_t i) { return y[i]; }));
  };
  const grid3 g = fold_shape(t.shape), box = middle_box_dims(g, std::size_t(1) << 16);
  std::vector<double> sample(box[0] * box[1] * box[2]);
  for_each_box_cell(g, box, [&](std::size_t i, std::size_t at) { sample[i] = t.values[at]; });
  double bound = detail::widest_bound(spec.value, range, [&](double e) {
    const value_code code = code_at(e);
    quantised q = quantise(sample.data(), sample.size(), code, t.type, requantise_factor);
    auto box_rms = [&](const auto& walk) {
      const block_result coded = encode_block(sample.data(), q, code, walk);
      codec::rans::reader in{byte_view(coded.bytes)};
      return rms_of(sample.data(), decode_block(in, sample.size(), code, walk, requantise_factor));
    };
    return (graded ? box_rms(interpolation_walk{box, interpolation::cubic, {}, true, true})
                   : box_rms(causal_deep_walk::fit(box, q.k))) <= allowed_rms;
  });
  // The whole field at `bound`, decoded as decompress does; its rms error.
  auto code_whole = [&](double e, std::vector<std::byte>& bytes, report& r, value_code& code, nlohmann::json& desc) {
    desc = encode_field(t, {{code_at(e), requantise_factor, graded}}, nullptr, bytes, &r, code);
    format::container c;
    c.header["error_bound"] = {{"layout", "field"}, {"code", code.to_json()}, {"predictor", desc}};
    c.sections.push_back({"RESQ", bytes});
    table decoded = t;
    read(c, decoded);
    return rms_of(t.values.data(), decoded.values);
  };
  // The box is not the field: secant steps on log rms against log bound, kept inside the
  // bracket of bounds known to meet and to miss the target (halved in log when they leave it),
  // keeping the widest that meets it.
  nlohmann::json best;
  double meets = 0, misses = INFINITY, last_bound = 0, last_rms = 0;
  for (int tries = 0; tries < 6; ++tries) {
    std::vector<std::byte> bytes;
    report r;
    value_code code;
    nlohmann::json desc;
    const double rms = code_whole(bound, bytes, r, code, desc);
    if (rms <= allowed_rms) {
      meets = bound, best = std::move(desc), resq = std::move(bytes), chosen = code;
      if (rep) *rep = std::move(r);
      if (rms > 0.99 * allowed_rms) break;  // within 0.1 dB
    } else {
      misses = bound;
    }
    double slope = 1;
    if (last_bound > 0 && last_bound != bound && rms > 0 && last_rms > 0)
      slope = std::clamp(std::log(rms / last_rms) / std::log(bound / last_bound), 0.1, 2.0);
    if (!std::isfinite(slope)) slope = 1;
    last_bound = bound, last_rms = rms;
    bound *= std::pow(0.997 * allowed_rms / std::max(rms, 1e-300 * allowed_rms), 1 / slope);
    if (misses < 1.005 * meets) break;  // bracketed closely
    if (!(bound < misses)) bound = meets > 0 ? std::sqrt(meets * misses) : 0.9 * misses;
    if (!(bound > meets)) bound = std::isfinite(misses) ? std::sqrt(meets * misses) : 1.1 * meets;
  }
  return best;
}

namespace detail {
// A decoded column as a partner: the quantile bucket of each row, and the description a block
// that uses it stores.
struct bucketed {
  std::vector<std::uint8_t> buckets;
  nlohmann::json desc;
  unsigned count = sequence_walk::partner_buckets;  // of buckets
};
inline bucketed bucketed_column(const table& rec, std::size_t c, unsigned count = sequence_walk::partner_buckets) {
  std::vector<double> v(rec.rows);
  for (std::size_t r = 0; r < rec.rows; ++r) v[r] = rec.values[r * rec.cols + c];
  const std::vector<double> edges = quantile_edges(v, count);
  return {buckets_of(v, edges), {{"column", c}, {"edges", edges}}, count};
}

// A column's NaN coded as a sentinel of their own (format version 4): `substitute`, a power of
// two below every other value of the column by three times their magnitude (and four bounds),
// stands in for them, so that their rows cost what a -999's do (a code that the columns before
// predict, in place of an exception of 8 bytes each) and the column partners the others. Every
// value decoded below `below` (half the substitute) is the NaN of `bits` again: the
// substitute's reconstruction is below it and every other value's above. None where the
// column holds no finite value, holds Inf or NaN of more than one bit pattern (those stay
// exceptions, exact), or under a rel bound of 1/2 or more.
struct nan_marker {
  double substitute = 0, below = 0;
  std::uint64_t bits = 0;
};
inline std::uint64_t bits_of(double v) {
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
inline std::uint64_t quiet_nan_bits() { return bits_of(std::numeric_limits<double>::quiet_NaN()); }
inline std::optional<nan_marker> nan_marker_of(const std::vector<double>& x, const value_code& code) {
  std::optional<std::uint64_t> bits;
  for (double v : x) {
    if (std::isinf(v) || (std::isnan(v) && bits && bits_of(v) != *bits)) return std::nullopt;
    if (std::isnan(v)) bits = bits_of(v);
  }
  const auto [lo, hi] = codec::finite_range(x.data(), x.size());
  if (!bits || !(lo <= hi) || (code.kind == codec::bound_kind::rel && code.bound >= 0.5)) return std::nullopt;
  const double bound = code.kind == codec::bound_kind::abs ? code.bound : 0;
  const double magnitude = std::max({std::abs(lo), std::abs(hi), 4 * bound, 1e-300});
  const double substitute = -std::ldexp(1.0, std::ilogb(magnitude) + 3);  // >= 4 x magnitude
  if (!std::isfinite(substitute)) return std::nullopt;
  return nan_marker{substitute, substitute / 2, *bits};
}
}  // namespace detail

// The rows of a table column its candidates are compared on (all of a shorter column).
constexpr std::size_t table_sample_rows = std::size_t(1) << 17;

// Column `col` of t under `code`. `real`: per column of t, whether it holds floats (formulas
// and relation networks read and predict only those, not integers; of a column with NaN or
// Inf, the rows where it has a number).
// `decoded`: the bounded columns coded before it, whose reconstructions `rec` holds (a formula
// or relation network reads the float ones; rec's other columns are never read), `known` the
// same values with every missing one NaN (what fits read), `partners` the same columns
// bucketed (partners for its contexts, made once for all the columns after them), and
// `ranges` each column's [min, max] in rec, of values not missing. `sentinel`: the value that
// marks the column's missing rows, if one does (sentinel_of, sentinel.hpp), and `exact_sentinel`
// whether those rows are exceptions. `effort` fast: no relation network, finer partner buckets
// or mixed histograms, which take most of a table's time (2.3-3.6x faster on the shared tables,
// files up to 5 % larger: README).
inline nlohmann::json encode_column(const table& t, std::size_t col, const value_code& code,
                                    const std::vector<bool>& real, const std::vector<double>* latent,
                                    const std::vector<std::size_t>& decoded,
                                    const std::vector<const detail::bucketed*>& partners, const table& rec,
                                    const std::vector<double>& known,
                                    const std::vector<std::pair<double, double>>& ranges,
                                    std::optional<double> sentinel, bool exact_sentinel, std::vector<std::byte>& resq,
                                    report* rep, codec::search_effort effort = codec::search_effort::thorough) {
  using detail::bucketed;
  const bool thorough = effort == codec::search_effort::thorough;
  const std::size_t n = t.rows;
  std::vector<std::size_t> floats;
  for (std::size_t c : decoded)
    if (real[c]) floats.push_back(c);
  std::vector<double> x(n);
  for (std::size_t r = 0; r < n; ++r) x[r] = t.values[r * t.cols + col];
  quantised q = quantise(x.data(), n, code, t.type_of(col));
  except_sentinel_rows(q, x.data(), sentinel, exact_sentinel);
  std::vector<double> y = x;  // the column as fits see it
  for (std::size_t r = 0; sentinel && r < n; ++r)
    if (x[r] == *sentinel) y[r] = NAN;
  // A column's candidates are coded, not estimated: a table column codes in milliseconds, and
  // the estimate misses what the coder learns of a skewed column (the bits below a length).
  // Of a long column, its first table_sample_rows rows are coded (the sizes scaled to the
  // column), and only the winner in full: choosing costs the same for ten million rows as for
  // a hundred thousand, and the rows keep their order.
  const std::size_t m = std::min(n, table_sample_rows);
  const double scale = double(n) / double(m);
  auto first_rows = [m](const quantised& all) {
    return quantised{{all.k.begin(), all.k.begin() + std::ptrdiff_t(m)},
                     {all.has.begin(), all.has.begin() + std::ptrdiff_t(m)}, all.coarse, all.out};
  };
  quantised prefix = m < n ? first_rows(q) : quantised{};
  quantised& qs = m < n ? prefix : q;
  std::vector<detail::candidate> cs;
  // Value predictions live in this list so the walks' pointers stay valid.
  std::deque<std::vector<std::int64_t>> predicted;
  auto add = [&](nlohmann::json desc, sequence_walk walk) {
    desc["coder"] = signed_coder;
    sequence_walk sample = walk;
    sample.rows = m;
    cs.push_back({std::move(desc),
                  [sample, &x, &qs, &code, scale] { return scale * double(encode_block(x.data(), qs, code, sample).bytes.size()); },
                  [walk, &x, &q, &code] { return encode_block(x.data(), q, code, walk); }, {}, false, 0, {}});
  };
  const std::int64_t median = median_code(q.k, q.has);
  std::deque<bucketed> finer;  // partners in more buckets, for histograms (pointers stay valid)
  // Ranked by how well their buckets condition this column's codes (estimated): the residual
  // walks take the first if it saves 2 %, the histograms try the first two, the mixed the first three.
  // In a wide table, of the partners that follow it most closely.
  std::vector<std::pair<double, const bucketed*>> ranked;
  const sequence_walk alone{sequence_walk::by::constant, median, nullptr, m};  // on the sample
  std::vector<std::size_t> partner_columns;
  for (const bucketed* p : partners) partner_columns.push_back(p->desc.at("column").get<std::size_t>());
  const std::vector<bool> rankable = formula::related(known, n, t.cols, partner_columns, y, formula::max_search_inputs);
  for (std::size_t i = 0; i < partners.size(); ++i) {
    if (!rankable[i]) continue;
    const bucketed* p = partners[i];
    sequence_walk w = alone;
    w.partner = &p->buckets;
    ranked.emplace_back(estimate_bytes(w, qs), p);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  const bucketed* partner =
      !ranked.empty() && ranked[0].first < 0.98 * estimate_bytes(alone, qs) ? ranked[0].second : nullptr;
  const std::vector<std::uint8_t>* side = partner ? &partner->buckets : nullptr;
  auto with_partner = [&](nlohmann::json desc) {
    if (partner) desc["partner"] = partner->desc;
    return desc;
  };
  add(with_partner({{"kind", "constant"}, {"value", median}}), {sequence_walk::by::constant, median, nullptr, n, side});
  add(with_partner({{"kind", "previous"}, {"value", median}}), {sequence_walk::by::previous, median, nullptr, n, side});
  add(with_partner({{"kind", "linear"}, {"value", median}}), {sequence_walk::by::linear, median, nullptr, n, side});
  // A prediction computed in floating point, so its block stores a CRC (see the top of the file).
  auto add_values = [&](const nlohmann::json& desc, const std::vector<double>& values) {
    predicted.push_back(codes_of(values, code));
    add(with_partner(desc), {sequence_walk::by::values, 0, &predicted.back(), n, side});
    cs.back().checked = true;
  };
  if (latent) {
    std::vector<double> p(n);
    for (std::size_t r = 0; r < n; ++r) p[r] = (*latent)[r * t.cols + col];
    add_values({{"kind", "latent"}}, p);
  }
  bool explained = false;  // by a formula: a relation network would not do better
  if (real[col])
    if (const std::optional<formula> f = formula::search(known, n, t.cols, floats, y)) {
      add_values(f->to_json(), f->predict(rec.values, n, t.cols));
      explained = true;
    }
  if (real[col])
    if (const std::optional<formula> f = formula::search_linear(known, n, t.cols, floats, y))
      add_values(f->to_json(), f->predict(rec.values, n, t.cols));
  if (real[col] && !explained && !floats.empty() && thorough) {
    // Over the columns that follow this one most closely: in a wide table a network over all
    // of them would train and store weights for columns that do not help.
    const std::vector<bool> related = formula::related(known, n, t.cols, floats, y, formula::max_search_inputs);
    std::vector<std::size_t> inputs;
    std::vector<double> lo, hi;
    for (std::size_t i = 0; i < floats.size(); ++i)
      if (related[i]) inputs.push_back(floats[i]), lo.push_back(ranges[floats[i]].first), hi.push_back(ranges[floats[i]].second);
    const auto [own_lo, own_hi] = codec::finite_range(y.data(), n);
    lo.push_back(own_lo), hi.push_back(own_hi);
    const codec::relation_net net = codec::relation_net::fit(known, n, t.cols, inputs, y, lo, hi);
    add_values({{"kind", "relation"}}, net.predict(rec.values, n, t.cols));
    cs.back().prefix = net.bytes();
  }
  // The column's codes as values through a histogram, as deep as the rows can teach (eight a
  // leaf).
  // Then, at the best depth alone, with the top levels learnt per bucket of each of the two
  // best-ranked partners: fewer levels where the rows are few (two rows a model). The first
  // also in finer buckets, for a column that follows its partner closely (a jet's momentum its
  // mass). Depths and levels past the codes' width would repeat a candidate.
  // Under a rel bound the codes carry their signs (with_signs).
  const bool rel = code.kind == codec::bound_kind::rel;
  const signed_codes all = rel ? with_signs(x.data(), q) : signed_codes{};
  const quantised& hq = rel ? all.q : q;
  const quantised hq_sample = rel && m < n ? first_rows(hq) : quantised{};
  const quantised& hqs = !rel ? qs : m < n ? hq_sample : hq;
  auto signs = [&](nlohmann::json& desc) {
    if (rel) mark_signed(desc, all.base);
  };
  const code_span span = span_of(hq.k, hq.has);  // of the whole column: the sample codes under its description
  auto add_histogram = [&](unsigned depth, const bucketed* p, unsigned levels) {
    const std::vector<std::uint8_t>* buckets = p ? &p->buckets : nullptr;
    const unsigned count = p ? p->count : 0;
    nlohmann::json desc;
    const double bytes =
        scale * double(encode_histogram(x.data(), hqs.k, hqs.has, depth, desc, buckets, levels, count, span).bytes.size());
    if (desc.contains("partner_levels")) desc["partner"] = p->desc;
    signs(desc);
    cs.push_back({desc, [bytes] { return bytes; },
                  [&x, &hq, depth, buckets, levels, count] {
                    nlohmann::json unused;
                    return encode_histogram(x.data(), hq.k, hq.has, depth, unused, buckets, levels, count);
                  },
                  {}, false, 0, {}});
    return bytes;
  };
  const unsigned deepest = std::min(span.width, max_tree_depth);
  unsigned depth = 0, tried = ~0u;
  double best = INFINITY;
  for (unsigned d : {6u, 8u, 10u})
    if ((std::size_t(8) << d) <= m && std::min(d, deepest) != tried) {
      tried = std::min(d, deepest);
      if (const double bytes = add_histogram(tried, nullptr, 0); bytes < best) best = bytes, depth = tried;
    }
  auto add_levels = [&](const bucketed* p) {  // returns the smallest
    double least = INFINITY;
    for (unsigned levels : {2u, 4u, 6u, 8u, 10u})
      if ((levels <= depth || levels - 2 < depth) && ((2 * p->count) << levels) <= m)
        least = std::min(least, add_histogram(depth, p, std::min(levels, depth)));
    return least;
  };
  double first = INFINITY;
  for (std::size_t i = 0; depth && i < std::min<std::size_t>(2, ranked.size()); ++i)
    if (const double least = add_levels(ranked[i].second); i == 0) first = least;
  // Finer buckets only where the first partner's eight pay 1 % or more.
  if (thorough && first < 0.99 * best) {
    const std::size_t c = ranked[0].second->desc.at("column").get<std::size_t>();
    for (unsigned count = 2 * sequence_walk::partner_buckets; count <= max_partner_buckets; count *= 2) {
      finer.push_back(detail::bucketed_column(rec, c, count));
      add_levels(&finer.back());
    }
  }
  // Mixed: every level of the tree from the column's own model and the models per bucket of
  // the best-ranked partners (up to three), their weights learnt as the rows go. Tried
  // greedily (each candidate codes the column once): the learning rate at the full depth,
  // then the partners in fewer buckets (a shorter header), then the depth found above.
  std::vector<const bucketed*> eight, fine;
  const std::size_t mixed_partners = thorough ? std::min<std::size_t>(max_mix_partners, ranked.size()) : 0;
  for (std::size_t i = 0; i < mixed_partners; ++i) {
    eight.push_back(ranked[i].second);
    finer.push_back(detail::bucketed_column(rec, ranked[i].second->desc.at("column").get<std::size_t>(),
                                            4 * sequence_walk::partner_buckets));
    fine.push_back(&finer.back());
  }
  auto add_mixed = [&](unsigned depth, const std::vector<const bucketed*>& ps, unsigned rate) {
    std::vector<mix_partner> mp;
    nlohmann::json names = nlohmann::json::array();
    for (const bucketed* p : ps) mp.push_back({&p->buckets, p->count}), names.push_back(p->desc);
    nlohmann::json desc;
    const double bytes =
        scale * double(encode_mixed_histogram(x.data(), hqs.k, hqs.has, depth, mp, rate, desc, span).bytes.size());
    desc["partners"] = names;
    signs(desc);
    cs.push_back({desc, [bytes] { return bytes; },
                  [&x, &hq, depth, mp, rate] {
                    nlohmann::json unused;
                    return encode_mixed_histogram(x.data(), hq.k, hq.has, depth, mp, rate, unused);
                  },
                  {}, false, 0, {}});
    return bytes + detail::description_bytes(desc);
  };
  if (deepest && thorough) {
    unsigned rate = mixed_rates[0];
    double least = add_mixed(deepest, fine, rate);
    for (std::size_t r = 1; r < mixed_rates.size(); ++r)
      if (const double bytes = add_mixed(deepest, fine, mixed_rates[r]); bytes < least) least = bytes, rate = mixed_rates[r];
    const bool few = !eight.empty() && add_mixed(deepest, eight, rate) < least;
    if (depth && depth < deepest) add_mixed(depth, few ? eight : fine, rate);
  }
  return detail::code_best(cs, t.names[col], x.data(), q, code, resq, rep);
}

// The order in which the bounded columns of a table are coded: columns that a formula over
// the others explains almost completely (derived quantities: pt, eta, E from momenta) go last,
// so that what they are derived from is decoded before them; the rest keep their order.
// `real` as for encode_column; `workers` search at once.
inline std::vector<std::size_t> coding_order(const table& t, const std::vector<bool>& bounded,
                                             const std::vector<bool>& real, unsigned workers) {
  std::vector<std::size_t> floats, order, derived;
  for (std::size_t col = 0; col < t.cols; ++col)
    if (bounded[col] && real[col]) floats.push_back(col);
  std::vector<char> is_derived(t.cols, 0);
  parallel::parallel_for(floats.size(), workers, [&](std::size_t i) {
    const std::size_t col = floats[i];
    std::vector<std::size_t> others;
    for (std::size_t c : floats)
      if (c != col) others.push_back(c);
    std::vector<double> y(t.rows);
    for (std::size_t r = 0; r < t.rows; ++r) y[r] = t.values[r * t.cols + col];
    is_derived[col] = formula::search(t.values, t.rows, t.cols, others, y, 1e-4).has_value();
  });
  for (std::size_t col = 0; col < t.cols; ++col)
    if (bounded[col]) (is_derived[col] ? derived : order).push_back(col);
  order.insert(order.end(), derived.begin(), derived.end());
  return order;
}

// How many table columns are worked on at once: up to `threads` (0: all cores), and no more
// than keep the workers' scratch (about 64 bytes a row each: the column, its codes, predictions and
// coded candidates) within the size of the table itself (8 bytes a value) or 256 MB, whichever
// is larger.
inline unsigned column_workers(const table& t, unsigned threads) {
  const std::size_t scratch = 64 * std::max<std::size_t>(t.rows, 1);
  return unsigned(std::clamp<std::size_t>(std::max(t.cols / 8, (std::size_t(256) << 20) / scratch), 1,
                                          parallel::thread_count(threads)));
}

// Writes the error-bounded parts of a compressed file into c: the header's "columns" (tables)
// and "error_bound", sections EXCT (exact columns) and RESQ. `s` says which columns are bounded
// (its modelled ones and those of NaN or Inf) and which are integers; `latent`: the model's reconstruction of t
// (row-major like t.values), or null; `threads`: a table's columns worked on at once (0: all
// cores, capped by column_workers), the file the same for any count; `effort`: how hard a field
// or a table's columns are searched (encode_field, encode_column).
inline void write(format::container& c, const table& t, bool field, const codec::model_schema& s,
                  const bound_config& b, const std::vector<double>* latent, report* rep, unsigned threads = 1,
                  codec::search_effort effort = codec::search_effort::thorough) {
  const char* where = "bounded::write";
  std::vector<std::byte> resq, exact;
  if (field) {
    require(b.named.empty(), where,
            "a field is bounded as one array; per-column bounds (NAME=BOUND) apply to tables with named columns");
    // A fill value (1e20 over land, -9999 where a sensor saw nothing) is stored exactly, so
    // that a mask still finds it, and would set a range bound by itself, leaving nothing of
    // the data (sentinel.hpp: field_extent_of). A chunk takes the one found over all the
    // chunks (b.fill), on however few of its points.
    const extremes ends = extremes_of(t.values.data(), t.values.size());
    const field_extent extent = field_extent_of(ends, b.all.kind, b.fill);
    const std::optional<double> fill = extent.fill;
    const double lo = extent.lo, hi = extent.hi;
    // An integer field (an image, ADC counts) takes integer steps under an abs or range bound
    // (value_code::integral), exact below 1; table columns of integers stay exact.
    const bool whole_numbers = codec::integral_values(t.values.data(), t.values.size());
    auto code_of = [&](const codec::bound_spec& spec) {
      value_code code = codec::code_for(spec, lo, hi, is_integral(t.type) && spec.kind == codec::bound_kind::rel);
      if (is_integral(t.type) && code.kind == codec::bound_kind::abs && code.bound > 0)
        code = value_code::integral(code.bound);
      // Whole numbers stored as floats (counts, labels, masks) under a bound below 1/2 are coded
      // exactly: steps of 1 lose nothing and cost fewer bits than steps of 2 x bound.
      if (code.kind == codec::bound_kind::abs && code.step < 1 && whole_numbers) code = value_code::exact();
      return code;
    };
    value_code code = resolve_target(b.all, t.values.data(), t.values.size(), 1, lo, hi, t.type, code_of);
    // Floats under an abs bound may requantise their residuals (block.hpp), chosen by size like
    // a predictor; a PSNR target finds its own, wider, bound for them below. Neither at fast
    // effort, nor the refinement or the wavelet: a PSNR target is then met by the plain bound.
    const bool psnr = b.all.kind == codec::bound_kind::psnr;
    const bool requantisable = code.kind == codec::bound_kind::abs && code.bound > 0 && !is_integral(t.type);
    std::vector<field_quantisation> options{{code, 1}};
    const bool thorough = effort == codec::search_effort::thorough;
    if (requantisable && !psnr && thorough)
      options.push_back({requantised_code(code, requantise_factor), requantise_factor});
    report field_report;
    nlohmann::json predictor = encode_field(t, options, latent, resq, &field_report, code, fill, effort);
    if (fill && b.all.kind == codec::bound_kind::range) {
      char text[320];
      std::snprintf(text, sizeof text,
                    "its fill value %g is stored exactly and left out of the range: +-%.3g on values spanning "
                    "%.3g (the whole range, the fill value's included, would allow +-%.3g)",
                    *fill, code.bound, hi - lo, codec::fraction_of_range(b.all.value, ends.lo, ends.hi));
      field_report.back().note = text;
    }
    // A PSNR target on floats: the refined reconstruction (refine.hpp) meets it at a wider bound;
    // kept when its file, filter included, is smaller.
    std::optional<refinement> refined;
    auto refinement_bytes = [&] { return refined ? detail::description_bytes(to_json(*refined)) : 0.0; };
    const grid3 grid = fold_shape(t.shape);
    const double target_range = psnr_range(b.all, lo, hi);
    if (psnr && requantisable && thorough) {
      const refined_code r = resolve_refined(b.all.value, target_range, t.values.data(), grid, t.type, code_of);
      if (!r.filter.weights.empty() && r.code.bound > code.bound) {
        std::vector<std::byte> wider;
        report wider_report;
        value_code wider_code;
        nlohmann::json p = encode_field(t, {{r.code, 1}}, latent, wider, &wider_report, wider_code);
        if (double(wider.size()) + detail::description_bytes(to_json(r.filter)) < double(resq.size())) {
          resq = std::move(wider), field_report = std::move(wider_report), predictor = std::move(p);
          code = r.code, refined = r.filter;
          field_report.back().chosen += " + refinement";
        }
      }
      // And requantised residuals, whose error follows the prediction, graded or not: kept
      // when smaller still.
      for (bool graded : {false, true}) {
        std::vector<std::byte> coarse;
        report coarse_report;
        value_code coarse_code;
        nlohmann::json p =
            encode_requantised_target(t, b.all, lo, hi, graded, code_of, coarse, &coarse_report, coarse_code);
        if (!coarse.empty() && double(coarse.size()) < double(resq.size()) + refinement_bytes()) {
          resq = std::move(coarse), field_report = std::move(coarse_report), predictor = std::move(p);
          code = coarse_code, refined.reset();
        }
      }
    }
    // And the field's wavelet (wavelet.hpp), where no fill value is stored exactly: for any
    // PSNR target, and for a bound fixed beforehand on floats with corrections that keep every
    // value within it (as SPERR codes such a bound); kept when smaller still, its description
    // counted as the others' are.
    std::optional<wavelet::coded_field> w;
    if (psnr && !fill && thorough) w = wavelet::encode_target(t.values.data(), grid, b.all.value, target_range, t.type, code_of);
    if (!psnr && !fill && requantisable && thorough) {
      // Tried only where the predictors' best estimate is under 1.5 bits a value (above, the
      // corrections cost more than the transform saves: both shared fields at 1e-3 and 1e-4)
      // and its own estimate on their box is within 10 % of it.
      double estimate = INFINITY;
      for (const auto& e : field_report.back().estimates) estimate = std::min(estimate, e.second);
      if (8 * estimate < 1.5 * double(t.values.size()))
        w = wavelet::encode_bounded(t.values.data(), grid, code, t.type, 1.1 * estimate, code_of);
    }
    if (w) {
      w->desc["offset"] = 0;
      const double bytes = double(w->bytes.size()) + detail::description_bytes(w->desc);
      block_report& r = field_report.back();
      r.estimates.emplace_back(predictor_label(w->desc), double(w->bytes.size()));
      if (bytes < double(resq.size()) + detail::description_bytes(predictor) + refinement_bytes()) {
        r.chosen = predictor_label(w->desc) + ", " + w->desc["levels"].dump() + " levels";
        r.bytes = w->bytes.size(), r.exceptions = w->desc["exceptions"].get<std::size_t>();
        resq = std::move(w->bytes), predictor = std::move(w->desc), code = w->code, refined.reset();
      }
    }
    if (rep) rep->insert(rep->end(), field_report.begin(), field_report.end());
    c.header["columns"] = nlohmann::json::array();
    c.header["error_bound"] = {{"layout", "field"}, {"bound", codec::to_string(b.all)}, {"code", code.to_json()},
                               {"exceptions", predictor["exceptions"]}, {"predictor", std::move(predictor)}};
    if (refined) c.header["error_bound"]["refine"] = to_json(*refined);
  } else {
    for (const auto& named : b.named)
      require(std::find(t.names.begin(), t.names.end(), named.first) != t.names.end(), where,
              "an error bound names the column '" + named.first + "', which the data does not have");
    // The modelled columns are bounded, and so are the integer columns the schema keeps
    // exactly (flags, charges, counts: few values): coded exactly beside the others, they
    // condition them and are conditioned (a second charge given the first), where EXCT's
    // zstd sees each alone. Columns with NaN or Inf are bounded too, their NaN coded through a
    // substitute (detail::nan_marker_of) where they can be, the rest exceptions (stored
    // exactly), as a sentinel's (-999) may be: formulas and relation networks predict and read
    // their other rows (a jet's pt from its px and py where it is there); a column with Inf or
    // NaN kept exact partners no other.
    std::vector<nlohmann::json> columns;
    std::vector<bool> bounded(t.cols), integer(t.cols), exact_integer(t.cols), non_finite(t.cols), real(t.cols);
    for (std::size_t col = 0; col < t.cols; ++col) {
      std::vector<std::byte> bytes;
      columns.push_back(codec::column_entry(t, col, s, bytes));
      const nlohmann::json& j = columns.back();
      exact_integer[col] = j["treatment"] == "lossless" && j["encoding"] != "f64";
      non_finite[col] = col < s.non_finite.size() && s.non_finite[col];
      bounded[col] = j["treatment"] == "model" || exact_integer[col] || non_finite[col];
      integer[col] = s.integer[col] || exact_integer[col];
      real[col] = !integer[col];
      if (!bounded[col]) exact.insert(exact.end(), bytes.begin(), bytes.end());
    }
    // A column comes back as its codes say, whichever predictor codes them: every column's
    // code and reconstruction (what the decoder holds once it is decoded) are known before any
    // is coded, so the columns are coded in parallel, each reading only those before it in
    // `order`, and their blocks joined in that order: the file does not depend on `threads`.
    const unsigned workers = column_workers(t, threads);
    // Every column's code, of its values as given, the same however its missing rows are coded.
    std::vector<value_code> codes(t.cols);
    parallel::parallel_for(t.cols, workers, [&](std::size_t col) {
      if (!bounded[col]) return;
      const codec::column_stats st = codec::analyse(t.values.data(), t.rows, t.cols, col, 0);
      // An exact integer column's code is exact whatever the bound; the model never saw it.
      auto code_of = [&](const codec::bound_spec& spec) { return codec::code_for(spec, st.min, st.max, integer[col]); };
      codes[col] = exact_integer[col] ? value_code::exact()
                                      : resolve_target(b.of(t.names[col]), t.values.data() + col, t.rows, t.cols,
                                                       st.min, st.max, t.type_of(col), code_of);
    });
    // Columns may mark missing rows with a sentinel (sentinel_of, sentinel.hpp), or hold NaN, coded
    // as a sentinel of their own (detail::nan_marker_of) in `marked`, a copy of t made only
    // then. Fits see a sentinel's values as NaN, in copies of `marked` and rec made only then.
    std::vector<std::optional<detail::nan_marker>> nan_marker(t.cols);
    parallel::parallel_for(t.cols, workers, [&](std::size_t col) {
      if (!bounded[col] || !non_finite[col]) return;
      std::vector<double> x(t.rows);
      for (std::size_t r = 0; r < t.rows; ++r) x[r] = t.values[r * t.cols + col];
      nan_marker[col] = detail::nan_marker_of(x, codes[col]);
    });
    const bool any_nan_marker = std::any_of(nan_marker.begin(), nan_marker.end(), [](const auto& m) { return m.has_value(); });
    table with_markers;
    if (any_nan_marker) {
      with_markers = t;
      for (std::size_t col = 0; col < t.cols; ++col)
        for (std::size_t r = 0; nan_marker[col] && r < t.rows; ++r)
          if (std::isnan(t.values[r * t.cols + col])) with_markers.values[r * t.cols + col] = nan_marker[col]->substitute;
    }
    const table& marked = any_nan_marker ? with_markers : t;
    // A column with NaN coded through a marker partners others like any column; one with Inf,
    // or NaN kept exact, partners none.
    std::vector<bool> partnerless(t.cols);
    for (std::size_t col = 0; col < t.cols; ++col) partnerless[col] = non_finite[col] && !nan_marker[col];
    std::vector<std::optional<double>> sentinel(t.cols);
    parallel::parallel_for(t.cols, workers, [&](std::size_t col) {
      if (!bounded[col] || !real[col]) return;
      if (nan_marker[col]) return void(sentinel[col] = nan_marker[col]->substitute);
      std::vector<double> x(t.rows);
      for (std::size_t r = 0; r < t.rows; ++r) x[r] = t.values[r * t.cols + col];
      sentinel[col] = sentinel_of(x);
    });
    // The table's markers mark missing rows in columns whose range hides them too (-999 amid a
    // jet's pz), where as many rows hold one exactly.
    std::vector<double> markers;
    for (std::size_t col = 0; col < t.cols; ++col)
      if (sentinel[col] && !nan_marker[col] && std::find(markers.begin(), markers.end(), *sentinel[col]) == markers.end())
        markers.push_back(*sentinel[col]);
    parallel::parallel_for(t.cols, workers, [&](std::size_t col) {
      if (!bounded[col] || !real[col] || sentinel[col]) return;
      for (double v : markers) {
        std::size_t count = 0;
        for (std::size_t r = 0; r < t.rows; ++r) count += t.values[r * t.cols + col] == v;
        if (count >= sentinel_rows(t.rows)) return void(sentinel[col] = v);
      }
    });
    const bool any_sentinel = std::any_of(sentinel.begin(), sentinel.end(), [](const auto& v) { return v.has_value(); });
    auto missing_as_nan = [&](std::vector<double> v) {
      for (std::size_t col = 0; col < t.cols; ++col)
        for (std::size_t r = 0; sentinel[col] && r < t.rows; ++r)
          if (marked.values[r * t.cols + col] == *sentinel[col]) v[r * t.cols + col] = NAN;
      return v;
    };
    const std::vector<std::size_t> order = [&] {
      if (!any_sentinel) return coding_order(t, bounded, real, workers);
      table known = marked;
      known.values = missing_as_nan(std::move(known.values));
      return coding_order(known, bounded, real, workers);
    }();
    // The columns coded with a sentinel's rows as exceptions (stored exactly: the fits' inputs
    // then exact too) or as codes like any value: as exceptions each column pays for where its
    // rows are, as codes a formula or network mispredicts them. Both are tried where such a
    // column is predicted from values, and the smaller kept.
    struct coded {
      std::vector<nlohmann::json> columns;
      std::vector<std::byte> resq;
      report rep;
    };
    auto code_columns = [&](bool exact_sentinels) {
      coded out{columns, {}, {}};
      std::vector<std::pair<double, double>> ranges(t.cols);  // of each reconstruction's values, not missing
      std::vector<std::optional<sentinel_restore>> restored(t.cols);
      table rec = marked;
      parallel::parallel_for(order.size(), workers, [&](std::size_t i) {
        const std::size_t col = order[i];
        std::vector<double> x(t.rows);
        for (std::size_t r = 0; r < t.rows; ++r) x[r] = marked.values[r * t.cols + col];
        quantised q = quantise(x.data(), t.rows, codes[col], t.type_of(col));
        except_sentinel_rows(q, x.data(), sentinel[col], exact_sentinels);
        std::vector<double> values = reconstruct(x.data(), q, codes[col]);
        if (sentinel[col] && !nan_marker[col] && (restored[col] = restorable(x.data(), values, *sentinel[col])))
          restore_sentinel(values.data(), 1, values.data(), 1, t.rows, *restored[col]);
        for (std::size_t r = 0; r < t.rows; ++r) rec.values[r * t.cols + col] = values[r];
        for (std::size_t r = 0; sentinel[col] && r < t.rows; ++r)
          if (x[r] == *sentinel[col]) values[r] = NAN;
        ranges[col] = codec::finite_range(values.data(), t.rows);
      });
      // A sentinel whose rows come back as values other rows come back as too (hidden in the
      // range): marked by a column before it in `order` with the same missing rows, if one has.
      auto at = [&](const table& u, std::size_t r, std::size_t c) { return u.values[r * t.cols + c]; };
      for (std::size_t i = 0; i < order.size(); ++i) {
        const std::size_t col = order[i];
        if (!sentinel[col] || nan_marker[col] || restored[col]) continue;
        const double s = *sentinel[col];
        auto missing = [&](std::size_t r) { return at(marked, r, col) == s; };
        std::size_t r = 0;
        while (r < t.rows && (!missing(r) || at(rec, r, col) == s)) ++r;
        if (r == t.rows) continue;  // its rows come back as themselves
        for (std::size_t k = 0; k < i && !restored[col]; ++k) {
          const std::size_t c = order[k];
          if (!sentinel[c] || nan_marker[c]) continue;
          for (r = 0; r < t.rows && missing(r) == (at(rec, r, c) == *sentinel[c]);) ++r;
          if (r < t.rows) continue;
          restored[col] = sentinel_restore{s, *sentinel[c], c};
          restore_sentinel(rec.values.data() + col, t.cols, rec.values.data() + c, t.cols, t.rows, *restored[col]);
        }
      }
      const std::vector<double> rec_known = any_sentinel ? missing_as_nan(rec.values) : std::vector<double>{};
      // The bounded columns of finite values in decode order, bucketed: a column's partners are
      // those before it.
      std::vector<std::size_t> finite;
      for (std::size_t col : order)
        if (!partnerless[col]) finite.push_back(col);
      std::vector<detail::bucketed> partners(finite.size());
      parallel::parallel_for(finite.size(), workers, [&](std::size_t i) { partners[i] = detail::bucketed_column(rec, finite[i]); });
      std::vector<std::vector<std::byte>> blocks(order.size());
      std::vector<report> reports(order.size());
      parallel::parallel_for(order.size(), workers, [&](std::size_t i) {
        const std::size_t col = order[i];
        const std::vector<std::size_t> prior(order.begin(), order.begin() + std::ptrdiff_t(i));
        const std::size_t before = std::size_t(std::count_if(prior.begin(), prior.end(), [&](std::size_t c) { return !partnerless[c]; }));
        std::vector<const detail::bucketed*> prior_partners;
        for (std::size_t k = 0; k < before; ++k) prior_partners.push_back(&partners[k]);
        nlohmann::json& j = out.columns[col];
        j = {{"treatment", "bounded"}, {"code", codes[col].to_json()}};  // the code restores it
        if (nan_marker[col]) {
          j["nan_below"] = nan_marker[col]->below;
          if (nan_marker[col]->bits != detail::quiet_nan_bits()) j["nan_bits"] = nan_marker[col]->bits;
        }
        if (const auto& s = restored[col]) {
          j["sentinel"] = {{"value", s->value}, {"mark", s->mark}};
          if (s->column) j["sentinel"]["column"] = *s->column;
        }
        j["predictor"] = encode_column(marked, col, codes[col], real, exact_integer[col] || non_finite[col] ? nullptr : latent,
                                       prior, prior_partners, rec, any_sentinel ? rec_known : rec.values, ranges,
                                       sentinel[col], exact_sentinels, blocks[i], rep ? &reports[i] : nullptr, effort);
      });
      for (std::size_t i = 0; i < order.size(); ++i) {
        nlohmann::json& predictor = out.columns[order[i]]["predictor"];
        predictor["offset"] = predictor["offset"].get<std::size_t>() + out.resq.size();
        out.resq.insert(out.resq.end(), blocks[i].begin(), blocks[i].end());
        out.rep.insert(out.rep.end(), reports[i].begin(), reports[i].end());
      }
      return out;
    };
    coded best = code_columns(false);
    // Exceptions can pay only where a value prediction (formula, network, latent) mispredicts
    // a sentinel's rows; a column coded through a histogram pays for them as little as codes.
    const bool predicted = std::any_of(order.begin(), order.end(), [&](std::size_t col) {
      const std::string kind = best.columns[col]["predictor"].value("kind", "");
      return sentinel[col] && (kind == "formula" || kind == "relation" || kind == "latent");
    });
    if (predicted) {
      coded exact_rows = code_columns(true);
      if (zstd_compress(exact_rows.resq).size() < zstd_compress(best.resq).size()) best = std::move(exact_rows);
    }
    // A sentinel far outside the other values widens a range bound with it: -999 beside a
    // b-tag in [0, 1] allows +-1 on the b-tag. It is the bound asked for; the report says so.
    for (block_report& r : best.rep) {
      const auto at = std::find(t.names.begin(), t.names.end(), r.block);
      const std::size_t col = std::size_t(at - t.names.begin());
      if (at == t.names.end() || !sentinel[col] || nan_marker[col] || b.of(r.block).kind != codec::bound_kind::range) continue;
      const double s = *sentinel[col];
      double lo = INFINITY, hi = -INFINITY;  // of the column's other values
      for (std::size_t row = 0; row < t.rows; ++row)
        if (const double v = t.values[row * t.cols + col]; v != s && std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      const double widening = (std::max(hi, s) - std::min(lo, s)) / (hi - lo);
      if (!(hi > lo) || !(widening > 2)) continue;
      char text[320];
      std::snprintf(text, sizeof text,
                    "its missing-row marker %g widens its range %.1fx, and the range bound with it: "
                    "+-%.3g on values spanning %.3g (%s=abs:B bounds them by their own scale)",
                    s, widening, codes[col].bound, hi - lo, r.block.c_str());
      r.note = text;
    }
    resq.insert(resq.end(), best.resq.begin(), best.resq.end());
    if (rep) rep->insert(rep->end(), best.rep.begin(), best.rep.end());
    columns = std::move(best.columns);
    c.header["columns"] = std::move(columns);
    c.header["error_bound"] = {{"layout", "table"}, {"order", order}};
  }
  if (!exact.empty()) c.sections.push_back({"EXCT", std::move(exact)});
  c.sections.push_back({"RESQ", std::move(resq)});
}

namespace detail {

inline interpolation_walk interpolation_from(const nlohmann::json& desc, const grid3& g, bool phased, bool graded) {
  const std::string method = desc.at("method").get<std::string>();
  interpolation_walk w{g, interpolation::linear, {}, phased, graded};
  if (method == "cubic") w.kind = interpolation::cubic;
  else if (method == "learned") {
    w.kind = interpolation::learned;
    const nlohmann::json& sets = desc.at("weights");
    require(sets.is_array() && sets.size() == interpolation_walk::level_classes * 3, "bounded::read",
            "an interpolation predictor has the wrong number of weight sets");
    for (const nlohmann::json& set : sets)
      w.learned.push_back(format::header_int_array<std::int32_t, interpolation_walk::taps>(
          set, "a learned interpolation's weights"));
  } else require(method == "linear", "bounded::read", "unknown interpolation '" + method + "'");
  return w;
}

// A causal walk's weights, exactly as many as it has taps.
template <class Causal>
typename Causal::weights weights_of(const nlohmann::json& desc) {
  using weights = typename Causal::weights;
  return format::header_int_array<typename weights::value_type, Causal::taps>(desc.at("weights"),
                                                                             "a causal predictor's weights");
}

// A regional causal walk: its regions (rows, columns; each from 1 to max_parts and at most the
// axis's length) and as many weight sets, row-major.
inline causal_deep_walk regional_of(const nlohmann::json& desc, const grid3& g, neighbourhood h, bool phased) {
  const auto parts = format::header_int_array<std::size_t, 2>(desc.at("regions"), "a regional predictor's regions");
  require(parts[0] >= 1 && parts[1] >= 1 && parts[0] <= std::min(g[1], causal_deep_walk::max_parts) &&
              parts[1] <= std::min(g[2], causal_deep_walk::max_parts),
          "bounded::read",
          "a regional causal predictor's regions must be 1 to " + std::to_string(causal_deep_walk::max_parts) +
              " along each axis and no more than its rows and columns");
  const nlohmann::json& sets = desc.at("weights");
  require(sets.is_array() && sets.size() == parts[0] * parts[1], "bounded::read",
          "a regional causal predictor needs one weight set per region");
  causal_deep_walk walk{g, {}, h, phased, {}, parts};
  for (const nlohmann::json& set : sets)
    walk.regional.push_back(format::header_int_array<std::int32_t, causal_deep_walk::taps>(set, "a causal predictor's weights"));
  return walk;
}

// A moving causal walk's motion: rows and columns, each less than its axis, on 3 or more frames.
inline std::array<std::int32_t, 2> motion_of(const nlohmann::json& desc, const grid3& g) {
  const auto m = format::header_int_array<std::int32_t, 2>(desc.at("motion"), "a causal predictor's motion");
  require(g[0] >= 3 && std::uint64_t(std::abs(std::int64_t(m[0]))) < g[1] && std::uint64_t(std::abs(std::int64_t(m[1]))) < g[2],
          "bounded::read", "a moving causal predictor on fewer than 3 frames, or moving past its grid");
  return m;
}

// A block written with the context coder. `values_for(desc, in)`: the predictions of a
// value-based predictor (reading what it stored in front of the block); `partner_of(desc)`:
// the buckets of the partner column a table column's contexts use.
// `coarse`: the factor a field walk's residuals were requantised by (block.hpp), `graded`
// whether an interpolation graded it by level.
template <class ValuesFor, class PartnerOf>
std::vector<double> decode_block_of(codec::rans::reader& in, std::size_t n, const value_code& code,
                                    const grid3* g, const nlohmann::json& desc, ValuesFor&& values_for,
                                    PartnerOf&& partner_of, std::int64_t coarse, bool graded) {
  const std::string kind = desc.at("kind").get<std::string>();
  require(!graded || kind == "interpolation", "bounded::read", "graded requantising with a '" + kind + "' predictor");
  const std::string hood = desc.value("neighbourhood", "narrow");
  require(hood == "narrow" || hood == "wide", "bounded::read", "unknown neighbourhood '" + hood + "'");
  const neighbourhood h = hood == "wide" ? neighbourhood::wide : neighbourhood::narrow;
  const bool phased = desc.at("coder") == phased_coder, table_coder = desc.at("coder") == signed_coder;
  require(!phased || (g && (kind == "interpolation" || kind == "causal" || kind == "causal_deep" || kind == "causal_motion" ||
                     kind == "causal_regional")),
          "bounded::read",
          "the coder '" + std::string(phased_coder) + "' with a '" + kind + "' predictor");
  require(!table_coder || !g, "bounded::read", "the coder '" + std::string(signed_coder) + "' on a field");
  if (g && (kind == "lorenzo" || kind == "lorenzo_frames"))
    return decode_block(in, n, code, lorenzo_walk{*g, kind == "lorenzo_frames", h}, coarse);
  if (g && kind == "interpolation")
    return decode_block(in, n, code, interpolation_from(desc, *g, phased, graded), coarse);
  if (g && kind == "causal")
    return decode_block(in, n, code, causal_walk{*g, weights_of<causal_walk>(desc), h, phased}, coarse);
  if (g && kind == "causal_deep")
    return decode_block(in, n, code, causal_deep_walk{*g, weights_of<causal_deep_walk>(desc), h, phased}, coarse);
  if (g && kind == "causal_regional") return decode_block(in, n, code, regional_of(desc, *g, h, phased), coarse);
  if (g && kind == "causal_motion")
    return decode_block(in, n, code, causal_deep_walk{*g, weights_of<causal_deep_walk>(desc), h, phased, motion_of(desc, *g)},
                        coarse);
  require(coarse == 1, "bounded::read", "requantised residuals with a '" + kind + "' predictor");
  std::vector<std::uint8_t> partner;
  if (desc.contains("partner")) partner = partner_of(desc["partner"]);
  const std::vector<std::uint8_t>* side = partner.empty() ? nullptr : &partner;
  if (kind == "constant" || kind == "previous" || kind == "linear")
    return decode_block(in, n, code,
                        sequence_walk{kind == "constant"   ? sequence_walk::by::constant
                                      : kind == "previous" ? sequence_walk::by::previous
                                                           : sequence_walk::by::linear,
                                      format::header_int<std::int64_t>(desc.at("value"), "a constant block's value"),
                                      nullptr, n, side, !table_coder});
  const std::vector<double> values = values_for(desc, in);
  require(values.size() == n, "bounded::read", "predictor '" + kind + "' gave the wrong count");
  const std::vector<std::int64_t> k = codes_of(values, code);
  return decode_block(in, n, code, sequence_walk{sequence_walk::by::values, 0, &k, n, side, !table_coder});
}

}  // namespace detail

// Restores the bounded columns (or the field) of t from c; t holds the model's reconstruction
// (or zeros) on entry, and every column before a bounded one is complete when it is decoded.
inline void read(const format::container& c, table& t) {
  const char* where = "bounded::read";
  const nlohmann::json& eb = c.header.at("error_bound");
  const byte_view resq(c.get("RESQ").payload);
  const bool has_model = c.header.contains("model");
  const std::vector<double> latent = has_model ? t.values : std::vector<double>{};
  auto column_of = [&](const std::vector<double>& v, std::size_t col) {
    std::vector<double> x(t.rows);
    for (std::size_t r = 0; r < t.rows; ++r) x[r] = v[r * t.cols + col];
    return x;
  };
  // col == t.cols: the whole field.
  auto values_for = [&](std::size_t col, const nlohmann::json& desc, codec::rans::reader& in) {
    const std::string kind = desc.at("kind").get<std::string>();
    if (kind == "relation" && col < t.cols)
      return codec::relation_net::read(in, t.cols).predict(t.values, t.rows, t.cols, desc.contains("coder"));
    if (kind == "formula" && col < t.cols) return formula::from_json(desc, t.cols).predict(t.values, t.rows, t.cols);
    require(kind == "latent" && has_model, where, "unknown predictor '" + kind + "'");
    return col == t.cols ? latent : column_of(latent, col);
  };
  auto decode = [&](std::size_t col, std::size_t n, const value_code& code, const grid3* g,
                    const nlohmann::json& desc, std::size_t legacy_offset) {
    auto values = [&](const nlohmann::json& d, codec::rans::reader& r) { return values_for(col, d, r); };
    if (!desc.contains("coder")) {  // written by the order-0 coder
      require(legacy_offset <= resq.size, where, "a residual block starts past the RESQ section");
      codec::rans::reader in{resq, legacy_offset};
      return codec::decode_coded_block(in, n, code, g ? &t.shape : nullptr, desc, values);
    }
    const std::size_t offset = format::header_size(desc.at("offset"), "a block's offset");
    require(offset <= resq.size, where, "a residual block starts past the RESQ section");
    codec::rans::reader in{resq, offset};
    // Codes as values under a rel bound: the coder's name after signed_prefix (the decoders
    // check that a rel bound's block has its base, and that no other has one).
    std::string coder = desc.at("coder").is_string() ? desc["coder"].get<std::string>() : "";
    if (coder.rfind(signed_prefix, 0) == 0) {
      coder.erase(0, std::strlen(signed_prefix));
      require(coder == "zstd" || coder == counted_tree_coder || coder == mixed_tree_coder, where,
              "unknown coder " + desc["coder"].dump());
    }
    if (coder == "zstd") return decode_fallback(in, n, code, desc);
    // The buckets of a partner column: partner_buckets of them for a residual walk, 2 to
    // max_partner_buckets for a histogram.
    auto partner_of = [&](const nlohmann::json& p, bool histogram = false) {
      const std::size_t c = format::header_size(p.at("column"), "a predictor's column");
      const auto edges = p.at("edges").get<std::vector<double>>();
      const std::size_t buckets = edges.size() + 1;
      require(c < t.cols && c != col &&
                  (histogram ? buckets >= 2 && buckets <= max_partner_buckets
                             : buckets == sequence_walk::partner_buckets) &&
                  std::is_sorted(edges.begin(), edges.end()),
              where, "a bad partner column in a residual block");
      return buckets_of(column_of(t.values, c), edges);
    };
    if (coder == tree_coder || coder == counted_tree_coder) {
      require(col < t.cols, where, "a histogram block on a field");
      if (!desc.contains("partner")) return decode_histogram(in, n, code, desc);
      const std::vector<std::uint8_t> partner = partner_of(desc["partner"], true);
      return decode_histogram(in, n, code, desc, &partner, unsigned(desc["partner"]["edges"].size() + 1));
    }
    if (coder == mixed_tree_coder) {
      const nlohmann::json& named = desc.at("partners");
      require(col < t.cols && named.is_array() && named.size() <= max_mix_partners, where,
              "a mixed histogram block on a field, or with other than 0 to " + std::to_string(max_mix_partners) +
                  " partners");
      std::vector<std::vector<std::uint8_t>> buckets;
      for (const nlohmann::json& p : named) buckets.push_back(partner_of(p, true));
      std::vector<mix_partner> partners;
      for (std::size_t j = 0; j < buckets.size(); ++j)
        partners.push_back({&buckets[j], unsigned(named[j].at("edges").size() + 1)});
      return decode_mixed_histogram(in, n, code, desc, partners);
    }
    // Requantised residuals: the walk's own coder after the prefix.
    nlohmann::json walk_desc = desc;
    std::int64_t coarse = 1;
    const bool graded = coder.rfind(graded_prefix, 0) == 0;
    if (graded) coder.erase(0, std::strlen(graded_prefix));
    require(!graded || coder.rfind(coarse_prefix, 0) == 0, where, "graded residuals that are not requantised");
    if (coder.rfind(coarse_prefix, 0) == 0) {
      coarse = format::header_int<std::int64_t>(desc.at("coarse"), "a block's requantising factor");
      require(g && code.kind == codec::bound_kind::abs && coarse >= 2 && coarse <= (std::int64_t(1) << 20), where,
              "a bad requantised block");
      coder.erase(0, std::strlen(coarse_prefix));
      walk_desc["coder"] = coder;
    }
    require(coder == "context" || coder == phased_coder || coder == signed_coder, where,
            "unknown residual coder " + desc.at("coder").dump());
    std::vector<double> x = detail::decode_block_of(in, n, code, g, walk_desc, values, partner_of, coarse, graded);
    detail::verify(desc, x);
    return x;
  };
  if (eb.at("layout") == "field") {
    const grid3 g = fold_shape(t.shape);
    const value_code code = value_code::from_json(eb.at("code"));
    const nlohmann::json& predictor = eb.at("predictor");
    if (const std::string coder = predictor.value("coder", "");
        coder == wavelet::coder_name || coder == wavelet::corrected_coder_name) {
      const std::size_t offset = format::header_size(predictor.at("offset"), "a block's offset");
      require(offset <= resq.size && !eb.contains("refine"), where, "a wavelet block past RESQ, or refined");
      codec::rans::reader in{resq, offset};
      t.values = coder == wavelet::coder_name ? wavelet::decode(in, g, code, predictor)
                                              : wavelet::decode_corrected(in, g, predictor);
      return;
    }
    t.values = decode(t.cols, t.rows * t.cols, code, &g, predictor, 0);
    if (eb.contains("refine")) {
      require(code.kind == codec::bound_kind::abs && code.bound > 0, where, "a refinement of values coded exactly");
      std::vector<double> y(t.values.size());
      apply_refinement(refinement_from_json(eb["refine"], g), g, t.values.data(), code.step, y.data());
      t.values = std::move(y);
    }
    return;
  }
  const nlohmann::json& columns = c.header.at("columns");
  std::vector<std::size_t> order;
  if (eb.contains("order")) {
    order = format::header_sizes(eb["order"], "the column order");
  } else {
    for (std::size_t col = 0; col < t.cols; ++col) order.push_back(col);
  }
  std::vector<bool> seen(t.cols, false);
  for (std::size_t col : order) {
    require(col < t.cols && !seen[col], where, "the coding order names a column twice or out of range");
    seen[col] = true;
    const nlohmann::json& j = columns[col];
    if (j.at("treatment") != "bounded") continue;
    std::vector<double> x = decode(col, t.rows, value_code::from_json(j.at("code")), nullptr, j.at("predictor"),
                                   format::header_size(j.value("offset", nlohmann::json(0)), "a column's offset"));
    if (j.contains("sentinel")) {  // before the columns after it read this one, as the encoder's did
      const nlohmann::json& s = j["sentinel"];
      require(s.is_object() && s.value("value", nlohmann::json()).is_number() &&
                  s.value("mark", nlohmann::json()).is_number(),
              where, "a column's sentinel must give its value and what marks its rows");
      const sentinel_restore restore{s["value"].get<double>(), s["mark"].get<double>(), std::nullopt};
      if (!s.contains("column")) restore_sentinel(x.data(), 1, x.data(), 1, t.rows, restore);
      else {
        const std::size_t c = format::header_size(s["column"], "a sentinel's column");
        require(c < t.cols && c != col && seen[c], where, "a sentinel marked by a column not decoded before it");
        restore_sentinel(x.data(), 1, t.values.data() + c, t.cols, t.rows, restore);
      }
    }
    for (std::size_t r = 0; r < t.rows; ++r) t.values[r * t.cols + col] = x[r];
  }
  // A column's NaN come back once every column is decoded: those after it read the values
  // that stood in for them, as the encoder's did (detail::nan_marker_of).
  for (std::size_t col = 0; col < t.cols; ++col) {
    const nlohmann::json& j = columns[col];
    if (j.at("treatment") != "bounded" || !j.contains("nan_below")) continue;
    const double below = j["nan_below"].is_number() ? j["nan_below"].get<double>() : NAN;
    require(std::isfinite(below) && below < 0, where, "a column's NaN marker must be a finite negative number");
    const nlohmann::json bits = j.value("nan_bits", nlohmann::json(detail::quiet_nan_bits()));
    double nan = 0;
    if (bits.is_number_unsigned()) std::memcpy(&nan, &bits.get_ref<const std::uint64_t&>(), sizeof nan);
    require(std::isnan(nan), where, "a column's NaN bits must be those of a NaN");
    for (std::size_t r = 0; r < t.rows; ++r)
      if (t.values[r * t.cols + col] < below) t.values[r * t.cols + col] = nan;
  }
}

}  // namespace baler::bounded
