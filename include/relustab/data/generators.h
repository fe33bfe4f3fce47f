// SPDX-License-Identifier: MIT
// Seeded synthetic data: inputs, targets, label noise.
#pragma once

#include <relustab/core/rng.h>
#include <relustab/data/dataset.h>

#include <string>
#include <string_view>
#include <vector>

namespace relustab {

enum class InputLaw {
  Uniform,   ///< U[lo, hi]^d
  Gaussian,  ///< N(0, I_d)
  Laplace,   ///< i.i.d. Laplace with unit variance per coordinate (scale b = 1/sqrt 2)
  Grid,      ///< d = 1: n >= 2 evenly spaced points on [lo, hi] (endpoints included exactly)
};
InputLaw parse_input_law(std::string_view name);  ///< "uniform", "gaussian", "laplace", "grid"
std::string_view input_law_name(InputLaw law);    ///< the name parse_input_law reads

/// n x d inputs. For Uniform and Grid the interval is [lo, hi] (finite, lo < hi). Draws fill the matrix
/// row by row, so a seed fixes every entry. Throws InputError if n < 1 or d < 1, and for Grid if d != 1 or
/// n < 2. Grid draws nothing from `rng`.
RowMatrix sample_inputs(InputLaw law, Index n, Index d, Rng& rng, double lo = -1.0, double hi = 1.0);

/// A clean target function f0.
struct Target {
  enum class Kind {
    Sin3,          ///< sin(3 x)                        (d = 1; benchmark workload W1)
    Cubic,         ///< x^3 - x                         (d = 1, smooth)
    Abs,           ///< |x|                             (d = 1, one kink)
    Tent,          ///< relu(1 - 2|x|) style hat: max(0, 1 - 2|x|)   (d = 1, piecewise linear)
    Sawtooth,      ///< piecewise-linear zig-zag with knots at -0.5, 0, 0.5: 1 - |2|x| - 1|  (d = 1;
                   ///< 0 at x = 0, +-1 and 1 at x = +-0.5, linear beyond +-0.5)
    Zero,          ///< 0 (pure noise)
    LinearTeacher, ///< <beta, x>, any d
    Table,         ///< d = 1: linear interpolation of (table_x, table_y), constant outside
    Pyramid,       ///< relu(1 - ||x||_1), any d: compactly supported, piecewise linear (Nacson et al. 2023)
    Bump,          ///< exp(-||x||^2), any d: smooth (Nacson et al. 2023)
  };
  Kind kind = Kind::Sin3;
  Vec beta;                       ///< LinearTeacher
  std::vector<double> table_x;    ///< Table, strictly increasing
  std::vector<double> table_y;

  /// f0(x). Throws InputError if x has the wrong length for the kind (1 for the d = 1 kinds, beta's
  /// length for LinearTeacher) or the table is malformed.
  double operator()(const Eigen::Ref<const Vec>& x) const;
  /// f0 at every row of X (n x d), with the same checks.
  Vec evaluate(const RowMatrix& X) const;
};
/// Parses "sin3", "cubic", "abs", "tent", "sawtooth", "zero", "linear" (beta = e_1 / unit random
/// direction drawn from `rng` when d > 1), "pyramid", "bump"; "table" needs a table and is built by
/// the caller.
Target parse_target(std::string_view name, Index d, Rng& rng);

/// The kind named `name` (as parse_target reads it; "table" is refused: it needs a table). Throws
/// InputError naming the choices.
Target::Kind parse_target_kind(std::string_view name);
/// The name parse_target_kind reads ("linear" for LinearTeacher, "table" for Table).
std::string_view target_kind_name(Target::Kind kind);
/// The target of `kind` in dimension d, drawing the linear teacher's direction from `rng` as
/// parse_target does (parse_target(name, d, rng) == make_target(parse_target_kind(name), d, rng)).
/// Throws InputError for Table (needs a table) or a kind not defined in dimension d.
Target make_target(Target::Kind kind, Index d, Rng& rng);

/// y = f0(x) + sigma * N(0, 1) per sample; y_clean = f0(x). Throws InputError if sigma < 0 or n < 1.
/// Exactly n normals are drawn from `rng` even when sigma = 0, so data sets that differ only in sigma
/// share one noise realisation.
Dataset make_dataset(const RowMatrix& X, const Target& target, double noise_sigma, Rng& rng);

/// The built-in default data set of the README's main job: n = 20 points, x evenly spread on [-1, 1]
/// with a seeded jitter, y = sin(3x) + N(0, 0.3^2). Fixed seed, so the same everywhere.
/// Exact recipe: Rng rng(20210601); spacing h = 2/n; x_i = -1 + (i + 1/2) h + h (rng.uniform() - 1/2) / 2
/// for i = 0..n-1 in order (jitter of at most h/4, so the x_i stay strictly increasing inside
/// (-1, 1)); then make_dataset(x, Sin3, 0.3, rng) with the same generator. y_clean = sin(3x).
Dataset builtin_demo_dataset();

}  // namespace relustab
