// SPDX-License-Identifier: MIT
#include <relustab/experiment/experiment.h>
