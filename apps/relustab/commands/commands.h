// SPDX-License-Identifier: MIT
// The subcommands of the relustab command line. Each registers its options on a CLI11 app and returns
// the function that runs it; they only parse, call the library and print.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace relustab::cli {

using Command = std::function<void()>;

Command add_train(CLI::App& app);
Command add_analyze(CLI::App& app);
Command add_weight(CLI::App& app);
Command add_data(CLI::App& app);
/// Binary tasks from image data sets (IDX, Fashion-MNIST, scikit-learn's digits).
Command add_images(CLI::App& app);
Command add_demo(CLI::App& app);
/// `argc`/`argv` reach MPI_Init when the sweep runs under an MPI launcher with several ranks.
Command add_sweep(CLI::App& app, int* argc, char*** argv);
Command add_status(CLI::App& app);
Command add_export(CLI::App& app);
Command add_merge(CLI::App& app);
Command add_curves(CLI::App& app);
/// `argc`/`argv` as for add_sweep: the target's sweep runs across MPI ranks under a launcher.
Command add_reproduce(CLI::App& app, int* argc, char*** argv);
Command add_plot(CLI::App& app);
Command add_params(CLI::App& app);

}  // namespace relustab::cli
