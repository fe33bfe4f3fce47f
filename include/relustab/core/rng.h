// SPDX-License-Identifier: MIT
// A seeded random number generator whose streams are identical on every platform and compiler.
//
// std::normal_distribution and friends are implementation-defined, so a seed would not reproduce a run
// across standard libraries. We implement xoshiro256** (seeded through splitmix64) and the few
// distributions we need ourselves.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>

namespace relustab {

// __extension__ keeps -Wpedantic quiet about the GCC/Clang 128-bit integer used by below().
__extension__ using Uint128 = unsigned __int128;

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t s = seed;
    for (auto& word : state_) word = splitmix64(s);
  }

  /// Next raw 64-bit value (xoshiro256**).
  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform on [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  /// Uniform on [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform on (0, 1]; safe for logarithms.
  double uniform_open0() { return (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53; }

  /// Standard normal by the Box-Muller transform (one value per call; no cached state, so a stream is
  /// a pure function of the seed and the number of calls).
  double normal() {
    const double u1 = uniform_open0();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }

  /// Laplace(0, b) by inversion.
  double laplace(double b) {
    const double u = uniform() - 0.5;
    return (u < 0 ? b : -b) * std::log(1.0 - 2.0 * std::abs(u));
  }

  /// Uniform integer in [0, n) (Lemire's nearly-divisionless method; unbiased).
  std::uint64_t below(std::uint64_t n) {
    Uint128 m = static_cast<Uint128>(next_u64()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<Uint128>(next_u64()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// A generator for an independent sub-stream, e.g. per run or per purpose (data, init, batches).
  Rng split(std::uint64_t stream) const {
    std::uint64_t mix = state_[0] ^ (stream * 0x9E3779B97F4A7C15ULL) ^ rotl(state_[2], 13);
    return Rng(splitmix64(mix));
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_[4];
};

}  // namespace relustab
