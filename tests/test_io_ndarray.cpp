// ndarray and dtype: names, sizes, descrs, checked typed access, and the double conversions
// that decide how a lossy reconstruction lands back in an integer column.
#include <cmath>
#include <cstdint>
#include <limits>

#include "test_io_support.hpp"
#include "baler/io/wide_integers.hpp"

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

TEST_CASE("64-bit integers no double equals are held less an offset per group, exactly, and written back") {
  ndarray i = ndarray::zeros(dtype::i64, {4});
  std::int64_t* v = i.data_as<std::int64_t>();
  v[0] = std::numeric_limits<std::int64_t>::lowest(), v[1] = std::int64_t(1) << 60, v[2] = -(std::int64_t(1) << 53);
  v[3] = 7;
  offset_doubles o = to_offset_doubles(i, 1, "here");  // -2^63, 2^60: past 2^53, yet exact
  CHECK(o.offsets.empty());
  CHECK(o.values == i.to_doubles());
  // Two columns (rows x 2): nanosecond times past 2^53 beside small counts. Each column is held
  // less its minimum, and comes back bit for bit.
  ndarray t = ndarray::zeros(dtype::i64, {3, 2});
  std::int64_t* tv = t.data_as<std::int64_t>();
  const std::int64_t base = 1600000000000000001;  // no double equals it
  for (std::int64_t r = 0; r < 3; ++r) tv[2 * r] = base + 977 * (2 - r), tv[2 * r + 1] = -5 + r;
  o = to_offset_doubles(t, 2, "here");
  CHECK(o.offsets == std::vector<std::uint64_t>{std::uint64_t(base), std::uint64_t(std::int64_t(-5))});
  CHECK(o.values == std::vector<double>{1954, 0, 977, 1, 0, 2});
  CHECK(from_offset_doubles(o.values, {3, 2}, dtype::i64, o.offsets) == t);
  // One group spanning 2^53 or more: refused, naming its smallest and largest value.
  v[3] = (std::int64_t(1) << 53) + 1;
  CHECK_ERROR_CONTAINS(to_offset_doubles(i, 1, "here", "column 't'"),
                       "here(): column 't' holds int64 values from -9223372036854775808 to 1152921504606846976, "
                       "which float64 cannot hold exactly");
  ndarray u = ndarray::zeros(dtype::u64, {2});
  u.data_as<std::uint64_t>()[1] = std::uint64_t(1) << 63;
  CHECK(to_offset_doubles(u, 1, "here").values[1] == 0x1p63);
  u.data_as<std::uint64_t>()[0] = std::numeric_limits<std::uint64_t>::max() - 1000;
  u.data_as<std::uint64_t>()[1] = std::numeric_limits<std::uint64_t>::max();
  o = to_offset_doubles(u, 1, "here");
  CHECK(o.values == std::vector<double>{0, 1000});
  CHECK(from_offset_doubles(o.values, {2}, dtype::u64, o.offsets) == u);
  const ndarray f = ndarray::from_doubles({0.5, 1e300}, {2}, dtype::f64);
  CHECK(to_offset_doubles(f, 1, "here").values == f.to_doubles());
}

TEST_CASE("from_offset_doubles rounds, adds the offset in integer arithmetic and clamps to the dtype") {
  const std::uint64_t near_max = std::numeric_limits<std::int64_t>::max() - 1;
  const ndarray s = from_offset_doubles({0.5, -0.5, 2.4, -1e30}, {4}, dtype::i64, {near_max});
  CHECK(s.data_as<std::int64_t>()[0] == std::numeric_limits<std::int64_t>::max());  // halves away from zero
  CHECK(s.data_as<std::int64_t>()[1] == std::numeric_limits<std::int64_t>::max() - 2);
  CHECK(s.data_as<std::int64_t>()[2] == std::numeric_limits<std::int64_t>::max());  // clamped, not wrapped
  CHECK(s.data_as<std::int64_t>()[3] == std::numeric_limits<std::int64_t>::max() - 1 - (std::int64_t(1) << 62));
  const ndarray u = from_offset_doubles({-10, 3, 1e30}, {3}, dtype::u64, {3});
  CHECK(u.data_as<std::uint64_t>()[0] == 0);
  CHECK(u.data_as<std::uint64_t>()[1] == 6);
  CHECK(u.data_as<std::uint64_t>()[2] == 3 + (std::uint64_t(1) << 62));
  CHECK_ERROR_CONTAINS(from_offset_doubles({NAN}, {1}, dtype::i64, {3}), "NaN at index 0 cannot be stored as int64");
  CHECK_ERROR_CONTAINS(from_offset_doubles({1}, {1}, dtype::f32, {3}), "offsets for float32 values");
  // Another offset's frame: 1000 above 2^60 + 7, from 2^60 + 7 to 2^60 (7 more), or to none.
  const std::uint64_t a = (std::uint64_t(1) << 60) + 7, b = std::uint64_t(1) << 60;
  CHECK(rebased(1000, dtype::i64, &a, &b) == 1007);
  CHECK(rebased(1000, dtype::u64, &a, nullptr) == 0x1p60 + 1024);  // the value itself, rounded
  CHECK(rebased(-3, dtype::i64, nullptr, nullptr) == -3);
  CHECK(rebased(0x1p63, dtype::u64, nullptr, &b) == 0x1p63 - 0x1p60);
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
