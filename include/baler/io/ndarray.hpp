#pragma once
// A typed n-dimensional array as it sits in a file: element type, shape and raw bytes in C
// order. The I/O layer keeps the stored type (an int32 column stays int32) so that a compressor
// can decide what is exact and what is lossy; conversion to double happens only on request.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "baler/core/error.hpp"
#include "baler/format/half.hpp"

namespace baler {

// The bytes of every ndarray are little-endian; the readers swap big-endian files to it and the
// writers declare '<'. A big-endian host would need a swap in both places, which nobody runs.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "baler::io assumes a little-endian host");

// Appended types go at the end: the HDF5 filter stores a dtype's number in files.
enum class dtype { bool_, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, f16 };

// What the readers accept, for error messages.
inline constexpr const char* supported_dtypes = "bool, int8..int64, uint8..uint64, float16, float32 or float64";

// numpy's float16 (IEEE 754 binary16) as stored. Read exactly; written by rounding to nearest
// (through float, as half.hpp does for latents), a finite value beyond the largest half
// clamped to +-65504 rather than turned into infinity (a reconstruction of 65504 plus its
// error must not become inf).
struct float16 {
  std::uint16_t bits = 0;
  static float16 from(double v) {
    if (std::isfinite(v)) v = std::clamp(v, -double(f16_max), double(f16_max));
    return {float_to_f16(static_cast<float>(v))};
  }
  explicit operator float() const { return f16_to_float(bits); }
  explicit operator double() const { return f16_to_float(bits); }
};
static_assert(sizeof(float16) == 2, "float16 is stored as its 16 bits");

// Calls f(T{}) with the C++ element type of t, so per-type loops are written once.
template <class F>
decltype(auto) visit_dtype(dtype t, F&& f) {
  // clang-format off
  switch (t) {
    case dtype::bool_: return f(bool{});
    case dtype::i8: return f(std::int8_t{});
    case dtype::i16: return f(std::int16_t{});
    case dtype::i32: return f(std::int32_t{});
    case dtype::i64: return f(std::int64_t{});
    case dtype::u8: return f(std::uint8_t{});
    case dtype::u16: return f(std::uint16_t{});
    case dtype::u32: return f(std::uint32_t{});
    case dtype::u64: return f(std::uint64_t{});
    case dtype::f32: return f(float{});
    case dtype::f64: return f(double{});
    case dtype::f16: return f(float16{});
  }
  // clang-format on
  throw error("visit_dtype(): invalid dtype value " + std::to_string(static_cast<int>(t)));
}

// dtype_of<T>: the dtype whose elements are T; only the twelve types above have one.
// clang-format off
template <class T> struct dtype_of;
template <> struct dtype_of<bool> { static constexpr dtype value = dtype::bool_; };
template <> struct dtype_of<std::int8_t> { static constexpr dtype value = dtype::i8; };
template <> struct dtype_of<std::int16_t> { static constexpr dtype value = dtype::i16; };
template <> struct dtype_of<std::int32_t> { static constexpr dtype value = dtype::i32; };
template <> struct dtype_of<std::int64_t> { static constexpr dtype value = dtype::i64; };
template <> struct dtype_of<std::uint8_t> { static constexpr dtype value = dtype::u8; };
template <> struct dtype_of<std::uint16_t> { static constexpr dtype value = dtype::u16; };
template <> struct dtype_of<std::uint32_t> { static constexpr dtype value = dtype::u32; };
template <> struct dtype_of<std::uint64_t> { static constexpr dtype value = dtype::u64; };
template <> struct dtype_of<float> { static constexpr dtype value = dtype::f32; };
template <> struct dtype_of<double> { static constexpr dtype value = dtype::f64; };
template <> struct dtype_of<float16> { static constexpr dtype value = dtype::f16; };
// clang-format on

inline constexpr dtype all_dtypes[] = {dtype::bool_, dtype::i8,  dtype::i16, dtype::i32,
                                       dtype::i64,   dtype::u8,  dtype::u16, dtype::u32,
                                       dtype::u64,   dtype::f32, dtype::f64, dtype::f16};

inline std::size_t dtype_size(dtype t) {
  return visit_dtype(t, [](auto v) { return sizeof(v); });
}
inline bool is_float(dtype t) {
  return t == dtype::f16 || t == dtype::f32 || t == dtype::f64;
}
// bool counts as integral: it holds exact small integers (0/1), like numpy's kind 'b'.
inline bool is_integral(dtype t) {
  return !is_float(t);
}
inline bool is_signed(dtype t) {
  return is_float(t) || visit_dtype(t, [](auto v) { return std::is_signed_v<decltype(v)>; });
}

// numpy's names: "bool", "int8", ..., "float64", "float16".
inline std::string dtype_name(dtype t) {
  static const char* const names[] = {"bool",   "int8",   "int16",  "int32",   "int64",   "uint8",
                                      "uint16", "uint32", "uint64", "float32", "float64", "float16"};
  const auto i = static_cast<std::size_t>(t);
  require(i < std::size(names), "dtype_name", "invalid dtype value " + std::to_string(i));
  return names[i];
}

// Accepts numpy's names ("float32") and the short ones of the enum ("f32", "bool_").
inline dtype parse_dtype(const std::string& name) {
  static const char* const short_names[] = {"bool_", "i8",  "i16", "i32", "i64", "u8",
                                            "u16",   "u32", "u64", "f32", "f64", "f16"};
  for (dtype t : all_dtypes)
    if (name == dtype_name(t) || name == short_names[static_cast<std::size_t>(t)]) return t;
  throw error("parse_dtype(): unknown dtype '" + name + "' (expected " + supported_dtypes + ")");
}

// The numpy descr a writer declares: '<' for multi-byte types, '|' (no byte order) for 1 byte.
inline std::string npy_descr(dtype t) {
  const std::size_t n = dtype_size(t);
  const char kind = t == dtype::bool_ ? 'b' : is_float(t) ? 'f' : is_signed(t) ? 'i' : 'u';
  return std::string(1, n == 1 ? '|' : '<') + kind + std::to_string(n);
}

// Number of elements of a shape; the empty shape is a 0-d scalar with one element. Throws
// rather than wrapping when a (corrupt) shape would not fit in memory.
inline std::size_t shape_elements(const std::vector<std::size_t>& shape, const char* where) {
  std::size_t n = 1;
  for (std::size_t d : shape) {
    require(d == 0 || n <= std::numeric_limits<std::size_t>::max() / d, where,
            "shape is too large to address");
    n *= d;
  }
  return n;
}

inline std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

struct ndarray {
  dtype type = dtype::f64;
  std::vector<std::size_t> shape;
  std::vector<std::byte> bytes;  // C order, little-endian

  // A zero-filled array of the given type and shape.
  static ndarray zeros(dtype t, std::vector<std::size_t> shape) {
    const std::size_t n = shape_elements(shape, "ndarray::zeros");
    require(n <= std::numeric_limits<std::size_t>::max() / dtype_size(t), "ndarray::zeros",
            "shape " + shape_string(shape) + " is too large to address");
    return ndarray{t, std::move(shape), std::vector<std::byte>(n * dtype_size(t))};
  }

  std::size_t size() const { return shape_elements(shape, "ndarray::size"); }
  std::size_t ndim() const { return shape.size(); }
  std::size_t nbytes() const { return bytes.size(); }

  // Typed access, checked: data_as<float>() on a float64 array throws instead of reinterpreting.
  template <class T>
  T* data_as() {
    check_type<T>();
    return reinterpret_cast<T*>(bytes.data());
  }
  template <class T>
  const T* data_as() const {
    check_type<T>();
    return reinterpret_cast<const T*>(bytes.data());
  }

  // Every element as a double; exact for all types but 64-bit integers beyond 2^53
  // (wide_integers.hpp holds those exactly).
  std::vector<double> to_doubles() const {
    check_consistent("ndarray::to_doubles");
    return visit_dtype(type, [&](auto tag) {
      using T = decltype(tag);
      const auto* src = reinterpret_cast<const T*>(bytes.data());
      return std::vector<double>(src, src + size());  // converted in one pass, not zeroed first
    });
  }

  // The inverse of to_doubles. For integer types each value is rounded to nearest (halves away
  // from zero) and clamped to the type's range: a reconstruction of 254.7 stored as uint8 must
  // become 255, not 254 by truncation nor 0 by wrap-around. NaN has no integer value: error.
  static ndarray from_doubles(const std::vector<double>& values, std::vector<std::size_t> shape,
                              dtype t) {
    require(values.size() == shape_elements(shape, "ndarray::from_doubles"),
            "ndarray::from_doubles",
            std::to_string(values.size()) + " values do not fill shape " + shape_string(shape));
    ndarray out = zeros(t, std::move(shape));
    visit_dtype(t, [&](auto tag) {
      using T = decltype(tag);
      T* dst = reinterpret_cast<T*>(out.bytes.data());
      for (std::size_t i = 0; i < values.size(); ++i) dst[i] = convert<T>(values[i], i);
    });
    return out;
  }

  // Bytes must match type x shape; every reader guarantees it, hand-built arrays may not.
  void check_consistent(const char* where) const {
    const std::size_t n = shape_elements(shape, where);
    require(n <= std::numeric_limits<std::size_t>::max() / dtype_size(type) &&
                bytes.size() == n * dtype_size(type),
            where,
            "array of shape " + shape_string(shape) + " and dtype " + dtype_name(type) + " holds " +
                std::to_string(bytes.size()) + " bytes");
  }

  friend bool operator==(const ndarray& a, const ndarray& b) {
    return a.type == b.type && a.shape == b.shape && a.bytes == b.bytes;
  }
  friend bool operator!=(const ndarray& a, const ndarray& b) { return !(a == b); }

 private:
  template <class T>
  void check_type() const {
    require(
        dtype_of<T>::value == type, "ndarray::data_as",
        "requested " + dtype_name(dtype_of<T>::value) + " from an array of " + dtype_name(type));
  }

  template <class T>
  static T convert(double v, std::size_t index) {
    if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(v);
    } else if constexpr (std::is_same_v<T, float16>) {
      return float16::from(v);
    } else {
      if (std::isnan(v))  // the message built only then: this runs for every value
        throw error("ndarray::from_doubles(): NaN at index " + std::to_string(index) + " cannot be stored as " +
                    dtype_name(dtype_of<T>::value));
      const double r = std::round(v);
      // The limits as doubles: max() of 64-bit types rounds up to 2^63 / 2^64, so ">=" is
      // exactly the out-of-range test and every smaller r converts without overflow.
      if (r <= static_cast<double>(std::numeric_limits<T>::lowest()))
        return std::numeric_limits<T>::lowest();
      if (r >= static_cast<double>(std::numeric_limits<T>::max()))
        return std::numeric_limits<T>::max();
      return static_cast<T>(r);
    }
  }
};

}  // namespace baler
