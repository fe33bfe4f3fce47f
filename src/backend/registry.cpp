// SPDX-License-Identifier: MIT
// The back-end registry: one explicit line per back end compiled in (no self-registering statics).
#include <relustab/backend/backend.h>
#include <relustab/core/device.h>
#include <relustab/core/error.h>

#include "cpu/cpu_backend.h"
#include "univariate/univariate_backend.h"

namespace relustab {

std::vector<std::string> backend_names() { return {"cpu", "univariate", "cpu-gelu"}; }

std::string resolve_backend_name(std::string_view requested, Index input_dim,
                                 Activation activation) {
  if (requested == "auto" && activation == Activation::Gelu) return "cpu-gelu";
  if (requested == "auto") return input_dim == 1 ? "univariate" : "cpu";
  return std::string(requested);
}

std::unique_ptr<Backend> make_backend(std::string_view name, const RunContext& context) {
  require(context.threads >= 1, "threads: expected an integer >= 1, got " +
                                    std::to_string(context.threads));
  // Every back end compiled in today computes on the CPU; a device back end adds its own line.
  const bool on_cpu = name == "cpu" || name == "univariate" || name == "cpu-gelu";
  require(!on_cpu || context.device == Device::Cpu,
          "backend: '" + std::string(name) + "' computes on cpu, but the run asks for device " +
              device_name(context.device));
  // "cpu" and "cpu-gelu" are the one CPU back end instantiated for each activation.
  if (name == "cpu") return std::make_unique<cpu::CpuBackend<ReluActivation>>(context);
  if (name == "univariate") return std::make_unique<univariate::UnivariateBackend>(context);
  if (name == "cpu-gelu") return std::make_unique<cpu::CpuBackend<GeluActivation>>(context);
  std::string known;
  for (const auto& n : backend_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("backend: unknown back end '" + std::string(name) + "'; compiled in: " + known);
}

}  // namespace relustab
