// SPDX-License-Identifier: MIT
// relustab: the command line. Parses, calls the library, prints; maps errors to exit codes
// (0 success, 2 bad input, 1 internal error).
#include "commands/commands.h"
#include "commands/common.h"

#include <relustab/core/error.h>

#include <cstdio>
#include <new>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{
      "relustab: minima stability of shallow ReLU networks (train, measure, check the bounds)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "relustab 0.1.0");
  std::vector<relustab::cli::Command> commands;
  commands.push_back(relustab::cli::add_train(app));
  commands.push_back(relustab::cli::add_analyze(app));
  commands.push_back(relustab::cli::add_weight(app));
  commands.push_back(relustab::cli::add_data(app));
  commands.push_back(relustab::cli::add_images(app));
  commands.push_back(relustab::cli::add_demo(app));
  commands.push_back(relustab::cli::add_sweep(app, &argc, &argv));
  commands.push_back(relustab::cli::add_status(app));
  commands.push_back(relustab::cli::add_export(app));
  commands.push_back(relustab::cli::add_merge(app));
  commands.push_back(relustab::cli::add_curves(app));
  commands.push_back(relustab::cli::add_reproduce(app, &argc, &argv));
  commands.push_back(relustab::cli::add_plot(app));
  commands.push_back(relustab::cli::add_params(app));
  std::string known;
  bool is_known = false;
  for (const auto* sub : app.get_subcommands({})) {
    known += (known.empty() ? "" : ", ") + sub->get_name();
    is_known = is_known || (argc > 1 && sub->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !is_known) {
    std::fprintf(stderr, "relustab: error: unknown command '%s'; expected one of: %s\n", argv[1],
                 known.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // An option the subcommand does not have is named with a suggestion (CLI11 would report a
    // missing required option first, or only "not expected"). Otherwise CLI11 prints the message
    // (and for bad options the usage); any parse failure is bad input.
    const std::string unknown = relustab::cli::unknown_option_message(app, argc, argv);
    if (!unknown.empty()) {
      std::fprintf(stderr, "relustab: error: %s\n", unknown.c_str());
      return 2;
    }
    app.exit(e);
    return 2;
  }
  try {
    for (const auto& sub : app.get_subcommands()) {
      const auto all = app.get_subcommands({});
      for (size_t i = 0; i < all.size(); ++i) {
        if (all[i] == sub) commands[i]();
      }
    }
  } catch (const relustab::InputError& e) {
    std::cout.flush();
    std::fprintf(stderr, "relustab: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    // Sizes above the stated limits are refused before allocating (core/limits.h); below them the
    // input can still ask for more memory than this machine has, which is the input's size, not a bug.
    std::cout.flush();
    std::fprintf(stderr, "relustab: error: out of memory: the input asks for more memory than this "
                         "machine can give (smaller data, width or sweep)\n");
    return 2;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::fprintf(stderr, "relustab: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
