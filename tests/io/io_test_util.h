// SPDX-License-Identifier: MIT
// Helpers for the io tests: a scratch directory, InputError assertions, bit-exact comparisons.
#pragma once

#include <relustab/core/error.h>
#include <relustab/core/rng.h>
#include <relustab/core/types.h>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>

#include <unistd.h>

namespace relustab::testing {

/// A fresh directory under the system temporary directory, removed with its contents on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string test = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "io";
    path_ = std::filesystem::temp_directory_path() /
            ("relustab_" + test + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  // Remove first: truncating an existing file makes ext4 flush it to disk (auto_da_alloc), which costs
  // milliseconds per call in the loops that write many broken files.
  std::filesystem::remove(path);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

/// Runs `action`, expects it to throw InputError, and expects every string of `fragments` in the message.
inline void check_input_error(const std::function<void()>& action, std::initializer_list<std::string> fragments) {
  try {
    action();
  } catch (const InputError& e) {
    const std::string message = e.what();
    for (const std::string& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message \"" << message << "\" does not contain \"" << fragment << "\"";
    }
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got another exception: " << e.what();
    return;
  }
  ADD_FAILURE() << "expected InputError, nothing was thrown";
}

#define RELUSTAB_EXPECT_INPUT_ERROR(statement, ...)                                              \
  do {                                                                                           \
    SCOPED_TRACE(#statement);                                                                    \
    ::relustab::testing::check_input_error([&] { (void)(statement); }, {__VA_ARGS__});           \
  } while (0)

inline bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

inline ::testing::AssertionResult same_bits(const Eigen::Ref<const Vec>& a, const Eigen::Ref<const Vec>& b) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
  }
  for (Index i = 0; i < a.size(); ++i) {
    if (!same_bits(a[i], b[i])) {
      return ::testing::AssertionFailure() << "entry " << i << " differs: " << a[i] << " vs " << b[i];
    }
  }
  return ::testing::AssertionSuccess();
}

/// Finite doubles that stress exact printing: random bit patterns over the whole exponent range, plus the
/// classic hard cases (subnormals, extremes, signed zero, decimals without an exact binary form).
inline Vec stress_values(Index count, std::uint64_t seed) {
  static constexpr double kSpecial[] = {0.0, -0.0, 0.1, -0.2, 1.0 / 3.0, 5e-324, -4.9406564584124654e-324,
                                        2.2250738585072009e-308, 2.2250738585072014e-308,
                                        1.7976931348623157e308, -1.7976931348623157e308, 9007199254740993.0,
                                        123456789.123456789, 1e21, 1e-7, 0.30000000000000004};
  Rng rng(seed);
  Vec values(count);
  for (Index i = 0; i < count; ++i) {
    const auto special = static_cast<Index>(std::size(kSpecial));
    if (i < special) {
      values[i] = kSpecial[i];
      continue;
    }
    double x;
    do {
      x = std::bit_cast<double>(rng.next_u64());
    } while (!std::isfinite(x));
    // Alternate raw bit patterns with ordinary-sized numbers.
    values[i] = (i % 2 == 0) ? x : rng.normal() * std::pow(10.0, rng.uniform(-5.0, 5.0));
  }
  return values;
}

#ifdef RELUSTAB_IO_TEST_DATA_DIR
/// The path of a committed fixture in tests/io/data (made by tests/io/data/make_fixture.py).
inline std::string fixture(const std::string& name) { return std::string(RELUSTAB_IO_TEST_DATA_DIR) + "/" + name; }
#endif

}  // namespace relustab::testing
