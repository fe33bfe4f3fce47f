// Peer baseline, copied unchanged (below this header) from naive_fused_gd.cpp, the script that produced
// the published peer figures. bench/compare.sh runs it beside relustab; keep it identical to the source.
// The naive O(nk) fused loop for full-batch GD on a univariate two-layer ReLU
// network, no library: what one core reaches with the straightforward algorithm.
// Usage: naive_fused_gd [n k steps]   (default W1: n=30, k=100)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>
template <class T> double run(int n, int k, long steps) {
  std::mt19937_64 rng(0); std::uniform_real_distribution<double> U(-1, 1); std::normal_distribution<double> N(0, .3);
  std::vector<T> x(n), y(n), w(k), b(k), v(k), gw(k), gb(k), gv(k), r(n);
  for (int j = 0; j < n; ++j) { x[j] = -1 + 2.0 * j / (n - 1); y[j] = std::sin(3 * x[j]) + N(rng); }
  for (int i = 0; i < k; ++i) { w[i] = U(rng); b[i] = U(rng); v[i] = U(rng) / std::sqrt(k); }
  T c = 0, eta = 0.05;
  auto t0 = std::chrono::steady_clock::now();
  for (long s = 0; s < steps; ++s) {
    T gc = 0;
    for (int i = 0; i < k; ++i) gw[i] = gb[i] = gv[i] = 0;
    for (int j = 0; j < n; ++j) {
      T f = c; const T xj = x[j];
      for (int i = 0; i < k; ++i) { T z = w[i] * xj + b[i]; f += v[i] * (z > 0 ? z : 0); }
      r[j] = (f - y[j]) / n; gc += r[j];
    }
    for (int j = 0; j < n; ++j) {
      const T xj = x[j], rj = r[j];
      for (int i = 0; i < k; ++i) { T z = w[i] * xj + b[i]; T m = z > 0 ? 1 : 0; gv[i] += rj * z * m; T d = rj * v[i] * m; gb[i] += d; gw[i] += d * xj; }
    }
    for (int i = 0; i < k; ++i) { w[i] -= eta * gw[i]; b[i] -= eta * gb[i]; v[i] -= eta * gv[i]; }
    c -= eta * gc;
  }
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return steps / el;
}
int main(int argc, char** argv) {
  if (argc == 4) { int n = atoi(argv[1]), k = atoi(argv[2]); long s = atol(argv[3]);
    std::printf("fused-loop float64 n=%d k=%d: %.0f net-steps/s\n", n, k, run<double>(n, k, s));
    std::printf("fused-loop float32 n=%d k=%d: %.0f net-steps/s\n", n, k, run<float>(n, k, s)); return 0; }
  std::printf("fused-loop float64: %.0f net-steps/s\n", run<double>(30, 100, 200000));
  std::printf("fused-loop float32: %.0f net-steps/s\n", run<float>(30, 100, 200000));
}
