// SPDX-License-Identifier: MIT
// Reading a run's canonical JSON (as stored in the results database) back into a RunConfig.
#pragma once

#include <relustab/experiment/run_config.h>

#include <string>

namespace relustab::detail {

/// The RunConfig whose canonical_json() is `json`: every key is looked up in run_parameters() and set
/// through its setter (nested objects are read as dotted keys, so {"optim":{"eta":0.1}} and
/// {"optim.eta":0.1} are the same). Keys the JSON does not name keep their defaults. Throws
/// InputError naming the key for unknown keys and values of the wrong type.
RunConfig config_from_json(const std::string& json);

}  // namespace relustab::detail
