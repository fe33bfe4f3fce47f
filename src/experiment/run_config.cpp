// SPDX-License-Identifier: MIT
#include <relustab/experiment/run_config.h>
