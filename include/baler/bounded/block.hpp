#pragma once
// One error-bounded block: n values (a table column, or a whole field) coded under one
// value_code. A *walk* visits the values in its own order (raster, interpolation levels) and
// gives each a prediction computed from codes visited before and a coding context; the block
// coder turns the value into its code, checks the bound and codes code - prediction with the
// context coder (context_coder.hpp).
//
//   encode, per visited i: k[i] = code(x[i]); x^ = decode(k[i]) checked as decompress outputs
//           it; a value that fails (NaN/Inf, too large) is an exception: stored exactly and
//           k[i] = prediction. residual = k[i] - prediction, coded under the walk's context.
//   decode: the same walk; k[i] = prediction + residual, x^ = decode(k[i]), exceptions back.
//
// The reconstruction never depends on the prediction (x^ = decode(k), see reconstruct());
// predictions only make residuals small. Except when requantised (`coarse` K > 1, a field
// under an abs bound): k is then on a step K + 1 times finer than 2 x bound, the walk codes
// r = round((k - p) / K) and the value gets the code p + K r, within K / 2 fine steps of k
// and so within (K + 1) / 2 of x: the bound. The error then follows the prediction (where
// r = 0 it is x - p, mostly below the bound: on the turbulence field its rms is 0.84 of
// the plain codes' at the same bound) as in SZ, in integers on every machine. A *graded* walk
// sets walk_state::coarse_shift before a visit, and that value is requantised by K >> shift
// (at least 1) instead: a finer step, so a smaller error, for the values that later
// predictions lean on (an interpolation's coarse levels, field_walks.hpp).
// Bytes: varint E, E x (varint index delta, f64 value), varint R, R bytes of range coder.
// A walk is an object with
//   unsigned contexts() const;
//   unsigned phase_bits() const;                   // low bits of a context that are a phase
//   bool signed_lengths() const;                   // residual lengths modelled per sign
//   void operator()(walk_state&, Visit&&) const;   // calls visit(i, prediction, context)
// where context < contexts() and walk_state holds the codes and residual sizes so far.
#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>
#include <vector>

#include "baler/bounded/context_coder.hpp"
#include "baler/codec/error_bound.hpp"
#include "baler/codec/symbol_coder.hpp"

namespace baler::bounded {

using codec::value_code;

// What a walk may read: codes and |residual| of the positions visited so far. Contexts only
// see sums of magnitudes through magnitude_bucket, whose top bucket starts at 3072: capping
// each at 65535 changes no context and halves the memory.
struct walk_state {
  std::vector<std::int64_t> k;
  std::vector<std::uint16_t> magnitude;
  unsigned coarse_shift = 0;  // a graded walk's, for the value it visits next (see the top)
  explicit walk_state(std::size_t n) : k(n, 0), magnitude(n, 0) {}
  // A state whose codes start as `codes` (what the walk reads is only what it has set).
  explicit walk_state(std::vector<std::int64_t>&& codes) : k(std::move(codes)), magnitude(k.size(), 0) {}
  void set(std::size_t i, std::int64_t code, std::int64_t residual) {
    k[i] = code;
    const std::uint64_t m = residual < 0 ? std::uint64_t(0) - std::uint64_t(residual) : std::uint64_t(residual);
    magnitude[i] = std::uint16_t(std::min<std::uint64_t>(m, 65535));
  }
};

// Wrapping sum and product: a crafted file must not reach signed overflow.
inline std::int64_t wrapping_add(std::int64_t a, std::int64_t b) {
  return std::int64_t(std::uint64_t(a) + std::uint64_t(b));
}
inline std::int64_t wrapping_mul(std::int64_t a, std::int64_t b) {
  return std::int64_t(std::uint64_t(a) * std::uint64_t(b));
}
inline std::int64_t wrapping_sub(std::int64_t a, std::int64_t b) {
  return std::int64_t(std::uint64_t(a) - std::uint64_t(b));
}

// Floor of v / 2^bits for negative v too (an arithmetic shift).
inline std::int64_t floor_shift(std::int64_t v, int bits) {
  static_assert((-3 >> 1) == -2, "needs an arithmetic right shift");
  return v >> bits;
}

// round(d / k) for k > 0, halves up; |d| < 2^62. A power of two (as every requantising factor
// is) divides by a shift: a 64-bit division per value was a requantised walk's largest cost.
inline std::int64_t rounded_quotient(std::int64_t d, std::int64_t k) {
  const std::int64_t a = 2 * d + k, b = 2 * k;  // floor(a / b)
  if ((k & (k - 1)) == 0) return floor_shift(a, __builtin_ctzll(std::uint64_t(b)));
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

struct block_result {
  std::vector<std::byte> bytes;
  std::size_t exceptions = 0;  // values stored exactly
};

// Values stored exactly, (index, value) in increasing index: varint count, then per value the
// varint index delta and the f64 bits.
using exception_list = std::vector<std::pair<std::size_t, double>>;

inline void write_exceptions(const exception_list& exceptions, std::vector<std::byte>& out) {
  append_varint(out, exceptions.size());
  std::size_t last = 0;
  for (const auto& [i, v] : exceptions) {
    append_varint(out, i - last);
    last = i;
    const auto* b = reinterpret_cast<const std::byte*>(&v);
    out.insert(out.end(), b, b + 8);
  }
}

inline exception_list read_exceptions(codec::rans::reader& in, std::size_t n) {
  const char* where = "bounded::read_exceptions";
  const std::uint64_t count = in.varint();
  require(count <= n, where, "more exceptions than values in a residual block");
  exception_list exceptions(count);
  std::size_t at = 0;
  for (auto& e : exceptions) {
    at += in.varint();
    require(at < n, where, "exception index out of range in a residual block");
    std::memcpy(&e.second, in.bytes(8).data, 8);
    e.first = at;
  }
  return exceptions;
}

template <class Walk, class = void>
struct declares_coding : std::false_type {};
template <class Walk>
struct declares_coding<Walk, std::void_t<decltype(unsigned(std::declval<const Walk&>().contexts())),
                                         decltype(unsigned(std::declval<const Walk&>().phase_bits())),
                                         decltype(bool(std::declval<const Walk&>().signed_lengths()))>>
    : std::true_type {};

// The coder's model for the walk's contexts; encoder and decoder build it alike.
template <class Walk>
residual_model model_for(const Walk& walk) {
  static_assert(declares_coding<Walk>::value,
                "a walk declares contexts(), phase_bits() and signed_lengths() (see the top of block.hpp)");
  return residual_model(walk.contexts(), walk.phase_bits(), walk.signed_lengths());
}

// Codes of every value before any prediction (they do not depend on it); `has` is false where
// a value gets none within its bound (it will be stored exactly). Every candidate predictor of
// a block is estimated and coded from the same codes. `coarse` > 1: the walk requantises
// them (see the top), and checks each value again as decompress outputs it in `out`.
struct quantised {
  std::vector<std::int64_t> k;
  std::vector<bool> has;
  std::int64_t coarse = 1;
  dtype out = dtype::f64;
};

// The requantised code k of fine code `fine` predicted as p, and its residual r (see the top);
// false where they are too far apart for the arithmetic (a value then stored exactly).
inline bool requantise(std::int64_t fine, std::int64_t p, std::int64_t coarse, std::int64_t& k, std::int64_t& r) {
  const std::int64_t d = wrapping_sub(fine, p), limit = std::int64_t(1) << 61;
  if (d <= -limit || d >= limit) return false;
  r = rounded_quotient(d, coarse);
  k = wrapping_add(p, wrapping_mul(coarse, r));
  return true;
}

// The factor a value is requantised by: the block's `coarse`, divided by 2^shift where a graded
// walk asks (see the top), and at least 1 (its own code).
inline std::int64_t graded_coarse(std::int64_t coarse, unsigned shift) {
  return std::max<std::int64_t>(1, coarse >> std::min(shift, 62u));
}

// The code value i of q (its code `fine`) gets when predicted as p, and its residual: its own
// code (the residual wrapping, since p may be far off), or requantised (see the top) by
// graded_coarse(q.coarse, shift). False where it has none.
inline bool predicted_code(const quantised& q, unsigned shift, std::size_t i, std::int64_t fine, std::int64_t p,
                           std::int64_t& k, std::int64_t& r) {
  if (!q.has[i]) return false;
  if (q.coarse == 1) return k = fine, r = wrapping_sub(k, p), true;
  return requantise(fine, p, graded_coarse(q.coarse, shift), k, r);
}

// The factor a field's residuals are requantised by, when they are. The larger, the closer the
// error follows the prediction (and the finer the codes): on the turbulence field at 1e-2 of
// its range, 8 codes 9 % larger than 64, and 256 or 1024 within 0.6 % of it.
constexpr std::int64_t requantise_factor = 64;

// The code of a field under `code` whose residuals are requantised by `coarse`: the same bound
// on a step coarse + 1 times finer (rounded down, so the bound still holds).
inline value_code requantised_code(value_code code, std::int64_t coarse) {
  code.step = short_decimal(code.step / double(coarse + 1), 6, rounding::down);
  return code;
}

// `out`: the dtype decompress writes, whose rounding the bound check includes.
// Under an abs bound into floats (every field but a rel bound's or an integer one's), encode's
// steps without its checks and branches: quantising was 7 % of compressing the vorticity (a
// field's codes are made once per quantisation option), 3 % so.
inline quantised quantise(const double* x, std::size_t n, const value_code& code, dtype out, std::int64_t coarse = 1) {
  quantised q{{}, {}, coarse, out};
  if (code.kind == codec::bound_kind::abs && (out == dtype::f64 || out == dtype::f32)) {
    q.k.resize(n), q.has.assign(n, true);
    for (std::size_t i = 0; i < n; ++i) {
      const double r = code.abs_code(x[i]);
      const bool coded = value_code::codable(r);
      const double xhat = coded ? r * code.step : 0.0;  // code.decode(k): exact when codable
      const bool has = coded && code.within(x[i], xhat, out);
      q.k[i] = std::int64_t(has ? r : 0.0);
      if (!has) q.has[i] = false;
    }
    return q;
  }
  q.k.reserve(n), q.has.reserve(n);  // filled in one pass (a field's codes are hundreds of MB)
  for (std::size_t i = 0; i < n; ++i) {
    std::int64_t k = 0;
    const int sign = x[i] < 0 ? -1 : 1;
    const bool has = code.encode(x[i], k) && code.within(x[i], code.decode(k, sign), out);
    q.k.push_back(has ? k : 0), q.has.push_back(has);
  }
  return q;
}

// Where `exact`, the values of x (q's) equal to the sentinel become exceptions (stored exactly):
// the same rule for a coded block and for the reconstruction the next columns of a table read.
inline void except_sentinel_rows(quantised& q, const double* x, std::optional<double> sentinel, bool exact) {
  for (std::size_t r = 0; exact && sentinel && r < q.has.size(); ++r) q.has[r] = q.has[r] && x[r] != *sentinel;
}

// Gives each value without a code (an exception: NaN, a fill value) the code of the value
// before it, for the fits that read a field's codes alone: they then see the field go on
// where a 0 or a fill value's code would be a step.
inline void continue_codes(quantised& q) {
  for (std::size_t i = 1; i < q.k.size(); ++i)
    if (!q.has[i]) q.k[i] = q.k[i - 1];
}

// A rel bound's codes as values with their signs, for the coders that take a column's codes as
// values (histogram_block.hpp, the zstd fallback; under abs and range bounds they take the
// codes as they are). A rel code is of |x|, the sign apart: here 0 for a zero and
// +-(k - base + 1) for +-|x| of code k, base the smallest code of a value that is not zero (so
// a column of one sign stays on one side of 0, and magnitudes keep their order).
struct signed_codes {
  quantised q;
  std::int64_t base = 0;
};
inline std::int64_t signs_base(const double* x, const quantised& q) {
  std::int64_t base = 0;
  bool any = false;
  for (std::size_t i = 0; i < q.k.size(); ++i)
    if (q.has[i] && x[i] != 0) base = any ? std::min(base, q.k[i]) : q.k[i], any = true;
  return base;
}
// Row i's code with its sign, where it has one: x[i] != 0 and q.has[i], or x[i] == 0.
inline std::int64_t signed_code(const double* x, const quantised& q, std::int64_t base, std::size_t i) {
  return x[i] == 0 ? 0 : (x[i] < 0 ? -1 : 1) * (q.k[i] - base + 1);  // (rel codes have no zero: see encode())
}
inline signed_codes with_signs(const double* x, const quantised& q) {
  signed_codes s{q, signs_base(x, q)};
  for (std::size_t i = 0; i < q.k.size(); ++i)
    if (x[i] == 0 || q.has[i]) s.q.k[i] = signed_code(x, q, s.base, i), s.q.has[i] = true;
  return s;
}

// What code v of a coder that takes codes as values stands for (before the output cast): under
// a rel bound the inverse of with_signs (`base` its base), else code.decode(v).
inline double value_of_signed(const value_code& code, std::int64_t v, std::int64_t base) {
  if (code.kind != codec::bound_kind::rel) return code.decode(v, 1);
  if (v == 0) return 0.0;
  const std::int64_t magnitude = v < 0 ? wrapping_sub(0, v) : v;  // a crafted file's v too
  return code.decode(wrapping_add(magnitude, wrapping_sub(base, 1)), v < 0 ? -1 : 1);
}

// x^ as decompress computes it (before the output cast) from the values x and their codes q,
// whatever predicted them: decode(k) where a value has a code, the value itself where it is
// stored exactly, and under a rel bound zeros as zeros.
inline std::vector<double> reconstruct(const double* x, const quantised& q, const value_code& code) {
  require(q.coarse == 1, "bounded::reconstruct", "requantised codes depend on the prediction");
  const bool rel = code.kind == codec::bound_kind::rel;
  std::vector<double> v(q.k.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (rel && x[i] == 0) v[i] = 0.0;
    else if (q.has[i]) v[i] = code.decode(q.k[i], rel && x[i] < 0 ? -1 : 1);
    else v[i] = x[i];
  }
  return v;
}

// What encode_block leaves of q's codes: kept (q as it was), or spent (q.k emptied), for codes
// made for that one coding (a requantised option's, whose walk sets codes of its own).
enum class codes_after { kept, spent };

// Codes lent to a walk's state, which starts from q.k itself rather than a copy of it (128 MB
// of a 64 MB float32 field): each code is read before the walk sets it. Not requantised, the
// walk sets q's own code wherever a value has one; kept, those it sets otherwise (a value
// stored exactly, a zero under a rel bound: the prediction) are put back on return.
struct lent_codes {
  quantised& q;
  walk_state s;
  bool keep;
  std::vector<std::pair<std::size_t, std::int64_t>> replaced;  // (i, q's code)
  lent_codes(quantised& codes, codes_after after)
      : q(codes), s(std::move(codes.k)), keep(after == codes_after::kept) {}
  lent_codes(const lent_codes&) = delete;
  lent_codes& operator=(const lent_codes&) = delete;
  ~lent_codes() {
    for (auto at = replaced.rbegin(); at != replaced.rend(); ++at) s.k[at->first] = at->second;  // the first seen last
    q.k = keep ? std::move(s.k) : std::vector<std::int64_t>{};
  }
  void set(std::size_t i, std::int64_t own, std::int64_t code, std::int64_t residual) {
    if (keep && code != own) replaced.emplace_back(i, own);
    s.set(i, code, residual);
  }
};

// The values x with their codes q = quantise(x, ...), which it lends to the walk where it can
// give them back (not requantised) or where they are spent.
template <class Walk>
block_result encode_block(const double* x, quantised& q, const value_code& code, const Walk& walk,
                          codes_after after = codes_after::kept) {
  const std::size_t n = q.k.size();
  block_result r;
  const bool lend = q.coarse == 1 || after == codes_after::spent;
  std::optional<walk_state> own_state;
  std::optional<lent_codes> lent;
  if (lend) lent.emplace(q, after);
  else own_state.emplace(n);
  walk_state& s = lend ? lent->s : *own_state;
  const std::vector<std::int64_t>& fine = lend ? s.k : q.k;  // q's codes, not yet set where read
  residual_model model = model_for(walk);
  rc::encoder coder;
  const bool rel = code.kind == codec::bound_kind::rel;
  exception_list exceptions;
  walk(s, [&](std::size_t i, std::int64_t p, unsigned context) {
    const double v = x[i];
    const std::int64_t own = fine[i];
    auto set = [&](std::int64_t ki, std::int64_t residual) {
      lend ? lent->set(i, own, ki, residual) : s.set(i, ki, residual);
    };
    if (rel) {
      const unsigned cls = v == 0 ? 2 : v < 0 ? 1 : 0;
      model.encode_sign(coder, cls);
      if (cls == 2) return set(p, 0);
    }
    std::int64_t ki = p, residual = 0, k, r;
    // A requantised code is checked again: p + K r is within the bound of x only up to rounding.
    if (predicted_code(q, s.coarse_shift, i, own, p, k, r) &&
        (q.coarse == 1 || code.within(v, code.decode(k, 1), q.out)))
      ki = k, residual = r;
    else exceptions.emplace_back(i, v);
    model.encode(coder, residual, context);
    set(ki, residual);
  });
  std::sort(exceptions.begin(), exceptions.end());
  r.exceptions = exceptions.size();
  write_exceptions(exceptions, r.bytes);
  coder.finish_into(r.bytes);
  return r;
}

// Reads one block of n values from `in` (advancing it) and returns x^; `coarse` as encoded.
template <class Walk>
std::vector<double> decode_block(codec::rans::reader& in, std::size_t n, const value_code& code, const Walk& walk,
                                 std::int64_t coarse = 1) {
  const auto exceptions = read_exceptions(in, n);
  rc::decoder coder(in.bytes(in.varint()));
  residual_model model = model_for(walk);
  const bool rel = code.kind == codec::bound_kind::rel;
  walk_state s(n);
  std::vector<double> x(n);
  walk(s, [&](std::size_t i, std::int64_t p, unsigned context) {
    int sign = 1;
    if (rel) {
      const unsigned cls = model.decode_sign(coder);
      if (cls == 2) return s.set(i, p, 0), void(x[i] = 0.0);
      sign = cls == 1 ? -1 : 1;
    }
    const std::int64_t residual = model.decode(coder, context);
    const std::int64_t ki = wrapping_add(p, wrapping_mul(graded_coarse(coarse, s.coarse_shift), residual));
    s.set(i, ki, residual);
    x[i] = code.decode(ki, sign);
  });
  require(!coder.overran(), "bounded::decode_block", "the residual stream is truncated");
  for (const auto& e : exceptions) x[e.first] = e.second;
  return x;
}

}  // namespace baler::bounded
