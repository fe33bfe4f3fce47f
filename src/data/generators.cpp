// SPDX-License-Identifier: MIT
// Seeded synthetic inputs, clean targets and noisy labels (all randomness from relustab::Rng).
#include <relustab/data/generators.h>

#include <relustab/core/error.h>
#include <relustab/core/limits.h>

#include <algorithm>
#include <utility>
#include <cmath>
#include <string>

namespace relustab {
namespace {

// Laplace(0, b) has variance 2 b^2, so b = 1/sqrt(2) gives unit variance.
constexpr double kUnitVarianceLaplaceScale = 0.70710678118654752440;
constexpr std::uint64_t kDemoSeed = 20210601;
constexpr Index kDemoSize = 20;
constexpr double kDemoNoiseSigma = 0.3;

bool is_univariate(Target::Kind kind) {
  return kind != Target::Kind::Zero && kind != Target::Kind::LinearTeacher &&
         kind != Target::Kind::Pyramid && kind != Target::Kind::Bump;
}

const char* kind_name(Target::Kind kind) {
  switch (kind) {
    case Target::Kind::Sin3: return "sin3";
    case Target::Kind::Cubic: return "cubic";
    case Target::Kind::Abs: return "abs";
    case Target::Kind::Tent: return "tent";
    case Target::Kind::Sawtooth: return "sawtooth";
    case Target::Kind::Zero: return "zero";
    case Target::Kind::LinearTeacher: return "linear";
    case Target::Kind::Table: return "table";
    case Target::Kind::Pyramid: return "pyramid";
    case Target::Kind::Bump: return "bump";
  }
  return "unknown";
}

/// Checks that the target can be evaluated on inputs of dimension d.
void check_target(const Target& target, Index d) {
  const std::string name = std::string("target '") + kind_name(target.kind) + "'";
  if (is_univariate(target.kind)) {
    require(d == 1, name + ": expected inputs of dimension 1, got " + std::to_string(d));
  }
  if (target.kind == Target::Kind::LinearTeacher) {
    require(target.beta.size() == d, name + ": expected beta of length " + std::to_string(d) +
                                         " (the input dimension), got " + std::to_string(target.beta.size()));
  }
  if (target.kind == Target::Kind::Table) {
    require(!target.table_x.empty() && target.table_x.size() == target.table_y.size(),
            name + ": expected table_x and table_y of the same non-zero length, got " +
                std::to_string(target.table_x.size()) + " and " + std::to_string(target.table_y.size()));
    for (std::size_t i = 0; i < target.table_x.size(); ++i) {
      require(std::isfinite(target.table_x[i]) && std::isfinite(target.table_y[i]),
              name + ": table entry " + std::to_string(i) + " is not finite");
      require(i == 0 || target.table_x[i - 1] < target.table_x[i],
              name + ": table_x must be strictly increasing (entry " + std::to_string(i) + ")");
    }
  }
}

/// f0(x) for x of length d, after check_target.
double value_at(const Target& target, const double* x, Index d) {
  switch (target.kind) {
    case Target::Kind::Sin3: return std::sin(3.0 * x[0]);
    case Target::Kind::Cubic: return x[0] * x[0] * x[0] - x[0];
    case Target::Kind::Abs: return std::abs(x[0]);
    case Target::Kind::Tent: return std::max(0.0, 1.0 - 2.0 * std::abs(x[0]));
    case Target::Kind::Sawtooth: return 1.0 - std::abs(2.0 * std::abs(x[0]) - 1.0);
    case Target::Kind::Zero: return 0.0;
    case Target::Kind::LinearTeacher: return Eigen::Map<const Vec>(x, d).dot(target.beta);
    case Target::Kind::Pyramid: return std::max(0.0, 1.0 - Eigen::Map<const Vec>(x, d).lpNorm<1>());
    case Target::Kind::Bump: return std::exp(-Eigen::Map<const Vec>(x, d).squaredNorm());
    case Target::Kind::Table: {
      const std::vector<double>& tx = target.table_x;
      const std::vector<double>& ty = target.table_y;
      if (x[0] <= tx.front()) return ty.front();
      if (x[0] >= tx.back()) return ty.back();
      // tx[right - 1] <= x < tx[right]
      const auto right = static_cast<std::size_t>(std::upper_bound(tx.begin(), tx.end(), x[0]) - tx.begin());
      const double t = (x[0] - tx[right - 1]) / (tx[right] - tx[right - 1]);
      return ty[right - 1] + t * (ty[right] - ty[right - 1]);
    }
  }
  return 0.0;
}

}  // namespace

InputLaw parse_input_law(std::string_view name) {
  if (name == "uniform") return InputLaw::Uniform;
  if (name == "gaussian") return InputLaw::Gaussian;
  if (name == "laplace") return InputLaw::Laplace;
  if (name == "grid") return InputLaw::Grid;
  throw InputError("input law '" + std::string(name) + "': expected uniform, gaussian, laplace or grid");
}

std::string_view input_law_name(InputLaw law) {
  switch (law) {
    case InputLaw::Uniform: return "uniform";
    case InputLaw::Gaussian: return "gaussian";
    case InputLaw::Laplace: return "laplace";
    case InputLaw::Grid: return "grid";
  }
  return "unknown";
}

RowMatrix sample_inputs(InputLaw law, Index n, Index d, Rng& rng, double lo, double hi) {
  require(n >= 1, "inputs: expected n >= 1 samples, got " + std::to_string(n));
  require(d >= 1, "inputs: expected dimension d >= 1, got " + std::to_string(d));
  limits::require_data_size(n, d, "inputs");
  if (law == InputLaw::Uniform || law == InputLaw::Grid) {
    require(std::isfinite(lo) && std::isfinite(hi) && lo < hi,
            "inputs: expected a finite interval with lo < hi, got [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  }
  RowMatrix X(n, d);
  switch (law) {
    case InputLaw::Uniform:
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < d; ++j) X(i, j) = rng.uniform(lo, hi);
      break;
    case InputLaw::Gaussian:
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < d; ++j) X(i, j) = rng.normal();
      break;
    case InputLaw::Laplace:
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < d; ++j) X(i, j) = rng.laplace(kUnitVarianceLaplaceScale);
      break;
    case InputLaw::Grid:
      require(d == 1, "inputs: the grid law needs dimension d = 1, got " + std::to_string(d));
      require(n >= 2, "inputs: the grid law needs n >= 2 points (both endpoints), got " + std::to_string(n));
      // std::lerp is exact at t = 0 and t = 1 and monotone in t, so the endpoints are lo and hi exactly.
      for (Index i = 0; i < n; ++i) {
        X(i, 0) = std::lerp(lo, hi, static_cast<double>(i) / static_cast<double>(n - 1));
      }
      break;
  }
  return X;
}

double Target::operator()(const Eigen::Ref<const Vec>& x) const {
  check_target(*this, x.size());
  return value_at(*this, x.data(), x.size());  // Ref<const Vec> has unit inner stride
}

Vec Target::evaluate(const RowMatrix& X) const {
  check_target(*this, X.cols());
  Vec values(X.rows());
  for (Index i = 0; i < X.rows(); ++i) values[i] = value_at(*this, X.row(i).data(), X.cols());
  return values;
}

namespace {

constexpr std::pair<Target::Kind, std::string_view> kTargetNames[] = {
    {Target::Kind::Sin3, "sin3"},         {Target::Kind::Cubic, "cubic"},
    {Target::Kind::Abs, "abs"},           {Target::Kind::Tent, "tent"},
    {Target::Kind::Sawtooth, "sawtooth"}, {Target::Kind::Zero, "zero"},
    {Target::Kind::LinearTeacher, "linear"}, {Target::Kind::Pyramid, "pyramid"},
    {Target::Kind::Bump, "bump"},         {Target::Kind::Table, "table"},
};

}  // namespace

Target::Kind parse_target_kind(std::string_view name) {
  if (name == "table") {
    throw InputError("target 'table': needs a table of points; build Target{Kind::Table} in code");
  }
  for (const auto& [kind, kind_name] : kTargetNames) {
    if (kind_name == name) return kind;
  }
  throw InputError("target '" + std::string(name) +
                   "': expected sin3, cubic, abs, tent, sawtooth, zero, linear, pyramid or bump");
}

std::string_view target_kind_name(Target::Kind kind) {
  for (const auto& [known, name] : kTargetNames) {
    if (known == kind) return name;
  }
  return "unknown";
}

Target make_target(Target::Kind kind, Index d, Rng& rng) {
  require(d >= 1, "target: expected dimension d >= 1, got " + std::to_string(d));
  require(kind != Target::Kind::Table,
          "target 'table': needs a table of points; build Target{Kind::Table} in code");
  Target target;
  target.kind = kind;
  if (kind == Target::Kind::LinearTeacher) {
    if (d == 1) {
      target.beta = Vec::Ones(1);
    } else {
      // A normalised Gaussian vector is uniform on the unit sphere.
      target.beta.resize(d);
      do {
        for (Index j = 0; j < d; ++j) target.beta[j] = rng.normal();
      } while (target.beta.norm() == 0.0);
      target.beta /= target.beta.norm();
    }
  }
  check_target(target, d);
  return target;
}

Target parse_target(std::string_view name, Index d, Rng& rng) {
  const Target::Kind kind = parse_target_kind(name);
  return make_target(kind, d, rng);
}

Dataset make_dataset(const RowMatrix& X, const Target& target, double noise_sigma, Rng& rng) {
  require(X.rows() >= 1, "data: expected n >= 1 samples, got " + std::to_string(X.rows()));
  require(std::isfinite(noise_sigma) && noise_sigma >= 0.0,
          "noise sigma: expected a finite number >= 0, got " + std::to_string(noise_sigma));
  require(X.allFinite(), "data: inputs must be finite (found NaN or infinity)");
  Dataset data;
  data.X = X;
  data.y_clean = target.evaluate(X);
  data.y.resize(X.rows());
  for (Index i = 0; i < X.rows(); ++i) data.y[i] = data.y_clean[i] + noise_sigma * rng.normal();
  return data;
}

Dataset builtin_demo_dataset() {
  Rng rng(kDemoSeed);
  const double spacing = 2.0 / static_cast<double>(kDemoSize);
  RowMatrix X(kDemoSize, 1);
  for (Index i = 0; i < kDemoSize; ++i) {
    const double center = -1.0 + (static_cast<double>(i) + 0.5) * spacing;
    X(i, 0) = center + spacing * (rng.uniform() - 0.5) / 2.0;  // jitter in [-spacing/4, spacing/4)
  }
  Target sin3;
  sin3.kind = Target::Kind::Sin3;
  return make_dataset(X, sin3, kDemoNoiseSigma, rng);
}

}  // namespace relustab
