// SPDX-License-Identifier: MIT
#include <relustab/experiment/run_result.h>

namespace relustab {

std::string_view run_status_name(RunStatus status) {
  switch (status) {
    case RunStatus::Pending: return "pending";
    case RunStatus::Running: return "running";
    case RunStatus::Done: return "done";
    case RunStatus::Failed: return "failed";
  }
  return "unknown";
}

}  // namespace relustab
