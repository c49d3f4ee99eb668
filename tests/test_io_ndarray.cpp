// ndarray and dtype: names, sizes, descrs, checked typed access, and the double conversions
// that decide how a lossy reconstruction lands back in an integer column.
#include <cmath>
#include <cstdint>
#include <limits>

#include "test_io_support.hpp"

using namespace baler;

TEST_CASE("dtype helpers agree with numpy's names and descrs") {
  CHECK(dtype_name(dtype::bool_) == "bool");
  CHECK(dtype_name(dtype::u16) == "uint16");
  CHECK(dtype_name(dtype::f64) == "float64");
  CHECK(npy_descr(dtype::f64) == "<f8");
  CHECK(npy_descr(dtype::f32) == "<f4");
  CHECK(npy_descr(dtype::bool_) == "|b1");
  CHECK(npy_descr(dtype::i8) == "|i1");
  CHECK(npy_descr(dtype::u8) == "|u1");
  CHECK(npy_descr(dtype::i64) == "<i8");
  CHECK(npy_descr(dtype::u32) == "<u4");
  CHECK(dtype_name(dtype::f16) == "float16");
  CHECK(npy_descr(dtype::f16) == "<f2");
  CHECK(is_signed(dtype::f16));
  const std::size_t sizes[] = {1, 1, 2, 4, 8, 1, 2, 4, 8, 4, 8, 2};
  for (dtype t : all_dtypes) {
    CAPTURE(dtype_name(t));
    CHECK(dtype_size(t) == sizes[static_cast<int>(t)]);
    CHECK(is_float(t) != is_integral(t));
    CHECK(parse_dtype(dtype_name(t)) == t);
  }
  CHECK(is_float(dtype::f32));
  CHECK(is_integral(dtype::bool_));
  CHECK(is_signed(dtype::i16));
  CHECK_FALSE(is_signed(dtype::u64));
  CHECK(parse_dtype("f32") == dtype::f32);
  CHECK_ERROR_CONTAINS(parse_dtype("complex64"), "unknown dtype 'complex64'");
}

TEST_CASE("shape helpers") {
  CHECK(shape_string({}) == "()");
  CHECK(shape_string({5}) == "(5,)");
  CHECK(shape_string({2, 3}) == "(2, 3)");
  CHECK(shape_elements({}, "t") == 1);
  CHECK(shape_elements({4, 0, 7}, "t") == 0);
  const std::size_t huge = std::numeric_limits<std::size_t>::max() / 2;
  CHECK_ERROR_CONTAINS(shape_elements({huge, huge}, "t"), "too large");
  CHECK_ERROR_CONTAINS(ndarray::zeros(dtype::f64, {huge}), "too large");
}

TEST_CASE("zeros, size and checked typed access") {
  ndarray a = ndarray::zeros(dtype::i32, {2, 3});
  CHECK(a.size() == 6);
  CHECK(a.ndim() == 2);
  CHECK(a.nbytes() == 24);
  a.data_as<std::int32_t>()[4] = -7;
  CHECK(a.to_doubles()[4] == -7.0);
  CHECK_ERROR_CONTAINS(a.data_as<float>(), "requested float32 from an array of int32");
  CHECK_ERROR_CONTAINS(a.data_as<std::uint32_t>(), "requested uint32");
  const ndarray& c = a;
  CHECK(c.data_as<std::int32_t>()[4] == -7);
  CHECK(ndarray::zeros(dtype::f64, {}).size() == 1);

  ndarray broken = a;
  broken.bytes.pop_back();
  CHECK_ERROR_CONTAINS(broken.to_doubles(), "holds 23 bytes");
}

TEST_CASE("to_doubles and from_doubles round-trip every dtype exactly") {
  for (dtype t : all_dtypes) {
    CAPTURE(dtype_name(t));
    const std::vector<double> values = io_test::pattern_values(t, 12);
    const ndarray a = ndarray::from_doubles(values, {3, 4}, t);
    CHECK(a.type == t);
    CHECK(a.shape == std::vector<std::size_t>{3, 4});
    CHECK(a.nbytes() == 12 * dtype_size(t));
    CHECK(a.to_doubles() == values);
  }
}

TEST_CASE("to_exact_doubles refuses a 64-bit integer no double equals, and takes every other") {
  ndarray i = ndarray::zeros(dtype::i64, {4});
  std::int64_t* v = i.data_as<std::int64_t>();
  v[0] = std::numeric_limits<std::int64_t>::lowest(), v[1] = std::int64_t(1) << 60, v[2] = -(std::int64_t(1) << 53);
  v[3] = 7;
  CHECK(i.to_exact_doubles("here") == i.to_doubles());  // -2^63, 2^60: past 2^53, yet exact
  v[3] = (std::int64_t(1) << 53) + 1;
  CHECK_ERROR_CONTAINS(i.to_exact_doubles("here", "column 't'"),
                       "here(): column 't' holds the int64 value 9007199254740993, which no float64 equals");
  v[3] = std::numeric_limits<std::int64_t>::max();  // rounds to 2^63, which int64 lacks
  CHECK_ERROR_CONTAINS(i.to_exact_doubles("here"), "the array holds the int64 value 9223372036854775807");
  ndarray u = ndarray::zeros(dtype::u64, {2});
  u.data_as<std::uint64_t>()[1] = std::uint64_t(1) << 63;
  CHECK(u.to_exact_doubles("here")[1] == 0x1p63);
  u.data_as<std::uint64_t>()[1] = std::numeric_limits<std::uint64_t>::max();
  CHECK_ERROR_CONTAINS(u.to_exact_doubles("here"), "uint64 value 18446744073709551615");
  const ndarray f = ndarray::from_doubles({0.5, 1e300}, {2}, dtype::f64);
  CHECK(f.to_exact_doubles("here") == f.to_doubles());
}

TEST_CASE("from_doubles rounds to nearest and clamps integer types") {
  const auto one = [](double v, dtype t) {
    return ndarray::from_doubles({v}, {1}, t).to_doubles()[0];
  };
  CHECK(one(2.6, dtype::i32) == 3);
  CHECK(one(-2.6, dtype::i32) == -3);
  CHECK(one(2.4, dtype::u8) == 2);
  CHECK(one(2.5, dtype::i16) == 3);  // halves away from zero
  CHECK(one(-2.5, dtype::i16) == -3);
  CHECK(one(254.7, dtype::u8) == 255);
  CHECK(one(300, dtype::u8) == 255);
  CHECK(one(-0.7, dtype::u8) == 0);
  CHECK(one(-1e9, dtype::u32) == 0);
  CHECK(one(200, dtype::i8) == 127);
  CHECK(one(-200, dtype::i8) == -128);
  CHECK(one(1e30, dtype::i64) == static_cast<double>(std::numeric_limits<std::int64_t>::max()));
  CHECK(one(-1e30, dtype::i64) == static_cast<double>(std::numeric_limits<std::int64_t>::min()));
  CHECK(one(std::numeric_limits<double>::infinity(), dtype::u64) ==
        static_cast<double>(std::numeric_limits<std::uint64_t>::max()));
  CHECK(one(0.6, dtype::bool_) == 1);
  CHECK(one(0.4, dtype::bool_) == 0);
  CHECK(one(7, dtype::bool_) == 1);
  CHECK(one(-3, dtype::bool_) == 0);

  // The extremes themselves, not just something near them.
  const ndarray big = ndarray::from_doubles({1e300}, {1}, dtype::i64);
  CHECK(big.data_as<std::int64_t>()[0] == std::numeric_limits<std::int64_t>::max());
  const ndarray u = ndarray::from_doubles({1e300}, {1}, dtype::u64);
  CHECK(u.data_as<std::uint64_t>()[0] == std::numeric_limits<std::uint64_t>::max());

  // Floats keep what they can represent, special values included.
  CHECK(std::isnan(one(std::nan(""), dtype::f32)));
  CHECK(one(0.1, dtype::f32) == static_cast<double>(0.1f));

  // float16: to nearest (ties to even), subnormals kept, finite values past the largest half
  // clamped to it, infinities and NaN kept.
  CHECK(one(0.1, dtype::f16) == 0.0999755859375);  // 1638 / 2^14
  CHECK(one(1 + 1.0 / 2048, dtype::f16) == 1.0);   // a tie: to the even mantissa
  CHECK(one(1 + 3.0 / 2048, dtype::f16) == 1 + 2.0 / 1024);
  CHECK(one(std::ldexp(1.0, -24), dtype::f16) == std::ldexp(1.0, -24));  // smallest subnormal
  CHECK(one(65504, dtype::f16) == 65504);
  CHECK(one(70000, dtype::f16) == 65504);
  CHECK(one(-1e300, dtype::f16) == -65504);
  CHECK(one(std::numeric_limits<double>::infinity(), dtype::f16) == std::numeric_limits<double>::infinity());
  CHECK(std::isnan(one(std::nan(""), dtype::f16)));
  CHECK(ndarray::from_doubles({-2.0}, {1}, dtype::f16).data_as<float16>()[0].bits == 0xC000);
}

TEST_CASE("from_doubles rejects NaN for integers and a wrong value count") {
  CHECK_ERROR_CONTAINS(ndarray::from_doubles({1, std::nan("")}, {2}, dtype::i32),
                       "NaN at index 1 cannot be stored as int32");
  CHECK_ERROR_CONTAINS(ndarray::from_doubles({1, 2, 3}, {2, 2}, dtype::f64),
                       "3 values do not fill shape (2, 2)");
}

TEST_CASE("equality compares type, shape and bytes") {
  const ndarray a = io_test::pattern_array(dtype::f32, {2, 2});
  ndarray b = a;
  CHECK(a == b);
  b.shape = {4};
  CHECK(a != b);
  b = a;
  b.type = dtype::i32;
  CHECK(a != b);
}
