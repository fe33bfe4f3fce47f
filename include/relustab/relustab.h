// SPDX-License-Identifier: MIT
// Every public header of relustab, for consumers that want the whole library with one include
// (find_package(relustab) and relustab::relustab). The declarations of a header belong to one library:
// core (core, model, data, backend, curvature, analysis, train), io, experiment (run_config.h,
// experiment.h, run_result.h, sweep.h, mpi_sweep.h), config (toml_reader.h) or store (result_store.h);
// link the libraries whose functions you call. Including is free of side effects and of I/O.
#pragma once

#include <relustab/core/device.h>
#include <relustab/core/error.h>
#include <relustab/core/limits.h>
#include <relustab/core/loss.h>
#include <relustab/core/rng.h>
#include <relustab/core/run_context.h>
#include <relustab/core/thread_pool.h>
#include <relustab/core/types.h>
#include <relustab/model/activation.h>
#include <relustab/model/deep_relu.h>
#include <relustab/model/init.h>
#include <relustab/model/shallow_relu.h>
#include <relustab/data/dataset.h>
#include <relustab/data/generators.h>
#include <relustab/data/image_task.h>
#include <relustab/backend/backend.h>
#include <relustab/curvature/curvature.h>
#include <relustab/curvature/deep_curvature.h>
#include <relustab/curvature/eigen.h>
#include <relustab/analysis/alignment.h>
#include <relustab/analysis/bounds.h>
#include <relustab/analysis/flattest.h>
#include <relustab/analysis/function_space.h>
#include <relustab/analysis/kinks.h>
#include <relustab/analysis/knot_stats.h>
#include <relustab/analysis/report.h>
#include <relustab/train/batched.h>
#include <relustab/train/output_fit.h>
#include <relustab/train/train_deep.h>
#include <relustab/train/trainer.h>
#include <relustab/io/atomic_file.h>
#include <relustab/io/file_cache.h>
#include <relustab/io/formats.h>
#include <relustab/io/idx.h>
#include <relustab/experiment/experiment.h>
#include <relustab/experiment/mpi_sweep.h>
#include <relustab/experiment/result_directory.h>
#include <relustab/experiment/result_store.h>
#include <relustab/experiment/run_config.h>
#include <relustab/experiment/run_result.h>
#include <relustab/experiment/sweep.h>
#include <relustab/experiment/toml_reader.h>

// The run API: run(), analyze() and the one mapping to named metrics.
#include <relustab/api.h>
