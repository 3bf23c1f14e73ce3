#include "controller/cli.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "controller/down.hpp"
#include "controller/exit_codes.hpp"
#include "controller/run.hpp"
#include "controller/status.hpp"
#include "providers/local/local_provider.hpp"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry::controller {
namespace {

constexpr const char* kOnlyLocal =
    "this version of ferry has only the 'local' provider (the agent runs on this machine); "
    "vast, runpod and fly come later";

ExitCode show_offers(const std::string& provider, bool as_json) {
  if (provider != "local") {
    std::fprintf(stderr, "error: no provider '%s': %s\n", provider.c_str(), kOnlyLocal);
    return ExitCode::usage;
  }
  providers::LocalProvider local;
  auto offers = local.search({});
  if (!offers) {
    std::fprintf(stderr, "error: %s\n", offers.error().describe().c_str());
    return ExitCode::no_capacity;
  }
  if (as_json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& offer : *offers)
      list.push_back({{"provider", offer.provider}, {"id", offer.id}, {"price_per_hour", offer.price_per_hour},
                      {"region", offer.region}});
    std::printf("%s\n", list.dump(2).c_str());
  } else {
    std::printf("%-10s %-10s %-8s %s\n", "PROVIDER", "OFFER", "$/H", "WHERE");
    for (const auto& offer : *offers)
      std::printf("%-10s %-10s %-8.2f %s\n", offer.provider.c_str(), offer.id.c_str(), offer.price_per_hour,
                  offer.region.c_str());
  }
  return ExitCode::ok;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"ferry: ferries audio work to a GPU (or to this machine) and brings the results home"};
  app.footer(exit_code_table());
  app.set_version_flag("--version", std::string("ferry ") + FERRY_VERSION);
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log more detail on stderr");

  RunOptions run_options;
  std::string manifest;
  auto* run = app.add_subcommand("run", "Run the jobs of a manifest and download their results");
  run->add_option("MANIFEST", manifest, "The YAML manifest")->required();
  run->add_flag("--dry-run", run_options.dry_run, "Print the plan and stop; start nothing");
  run->add_flag("--keep", run_options.keep, "Leave the agent running at the end and print its endpoint");
  run->add_flag("-y,--yes", run_options.yes, "Answer yes to confirmations");
  run->add_flag("--json", run_options.json, "Print the plan (--dry-run) or the run's summary as JSON on stdout");

  bool status_json = false;
  auto* status = app.add_subcommand("status", "List runs: state, jobs done, start time and duration");
  status->add_flag("--json", status_json, "Print runs with their jobs and instances as JSON");

  std::string offers_provider = "local";
  bool offers_json = false;
  auto* offers = app.add_subcommand("offers", "List machines a provider offers");
  offers->add_option("--provider", offers_provider, "Provider name")->default_str("local");
  offers->add_flag("--json", offers_json, "Print as JSON");

  std::string down_run;
  bool down_all = false;
  auto* down = app.add_subcommand("down", "Stop the instances of a run that are still up (e.g. after --keep)");
  down->add_option("RUN", down_run, "Run id (see `ferry status`)");
  down->add_flag("--all", down_all, "Every run");

  auto* gc = app.add_subcommand("gc", "Find and stop instances that no run owns");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& done) {
    app.exit(done);
    return to_int(ExitCode::ok);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return to_int(ExitCode::usage);
  }
  init_logging("ferry", verbose ? "debug" : "info");

  if (run->parsed()) {
    run_options.manifest = manifest;
    return to_int(run_manifest(run_options));
  }
  if (status->parsed()) return to_int(show_status(status_json));
  if (offers->parsed()) return to_int(show_offers(offers_provider, offers_json));
  if (down->parsed()) {
    if (down_run.empty() == !down_all) {
      std::fprintf(stderr, "error: give a run id or --all (not both); `ferry status` lists the runs\n");
      return to_int(ExitCode::usage);
    }
    return to_int(take_down(down_run));
  }
  if (gc->parsed()) {
    std::fprintf(stderr,
                 "Nothing to collect: %s. Local agents stop with ferry or on their idle timeout; "
                 "`ferry down --all` stops the ones kept with --keep.\n",
                 kOnlyLocal);
    return to_int(ExitCode::ok);
  }
  return to_int(ExitCode::usage);
}

}  // namespace ferry::controller
