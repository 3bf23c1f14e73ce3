#include "controller/cli.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "common/log.hpp"
#include "controller/down.hpp"
#include "controller/exit_codes.hpp"
#include "controller/gc.hpp"
#include "controller/offers.hpp"
#include "controller/run.hpp"
#include "controller/generate_command.hpp"
#include "controller/separate_command.hpp"
#include "controller/status.hpp"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.0.0"
#endif

namespace ferry::controller {

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

  SeparateCommandOptions separate_options;
  std::string separate_stems;
  std::string separate_output;
  auto* separate = app.add_subcommand("separate", "Split songs into stems (a one-job `ferry run`)");
  separate->add_option("FILE", separate_options.files, "Songs to separate (files or http(s) URLs)")->required();
  separate->add_option("--model", separate_options.model, "htdemucs (default), htdemucs_ft, htdemucs_6s, hdemucs_mmi");
  separate->add_option("--stems", separate_stems, "Comma-separated stems, e.g. vocals,instrumental (default: all)");
  separate->add_option("--format", separate_options.format, "wav (default), wav-f32, flac or mp3");
  separate->add_option("--provider", separate_options.provider, "vast, runpod, fly or local")->default_str("local");
  separate->add_option("-o,--output", separate_output, "Folder for the stems")->default_str("separated");
  separate->add_flag("--keep", separate_options.keep, "Leave the agent running at the end");
  separate->add_flag("-y,--yes", separate_options.yes, "Answer yes to confirmations");
  separate->add_flag("--json", separate_options.json, "Print the run's summary as JSON on stdout");

  GenerateCommandOptions generate_options;
  std::string generate_output;
  auto* generate = app.add_subcommand("generate", "Make a song from a description with ACE-Step 1.5 turbo (a one-job "
                                                  "`ferry run`)");
  generate->add_option("--caption", generate_options.caption, "What the music sounds like")->required();
  generate->add_option("--duration", generate_options.duration, "Length of the song, 10s to 10m (e.g. 3m)")
      ->required();
  generate->add_option("--lyrics", generate_options.lyrics_file, "A text file of lyrics with [Verse 1]-style tags");
  generate->add_flag("--instrumental", generate_options.instrumental, "No vocals");
  generate->add_option("--seed", generate_options.seed, "Noise seed, for a result you can make again");
  generate->add_option("--bpm", generate_options.bpm, "Tempo, 30 to 300");
  generate->add_option("--key", generate_options.key, "Key, e.g. \"F# minor\"");
  generate->add_option("--time-signature", generate_options.time_signature, "Beats per bar: 2, 3, 4 or 6");
  generate->add_option("--language", generate_options.language, "Language of the lyrics, e.g. en, es, ja");
  generate->add_option("--batch", generate_options.batch, "Songs to make, 1 to 8 (seeds seed, seed+1, ...)");
  generate->add_option("--format", generate_options.format, "wav (default), wav-f32, flac or mp3");
  generate->add_option("--name", generate_options.name, "File name of the song (default: from the caption)");
  generate->add_option("--provider", generate_options.provider, "vast, runpod, fly or local")->default_str("local");
  generate->add_option("-o,--output", generate_output, "Folder for the songs")->default_str("generated");
  generate->add_flag("--keep", generate_options.keep, "Leave the agent running at the end");
  generate->add_flag("-y,--yes", generate_options.yes, "Answer yes to confirmations");
  generate->add_flag("--json", generate_options.json, "Print the run's summary as JSON on stdout");

  bool status_json = false;
  auto* status = app.add_subcommand("status", "List runs: state, jobs done, start time and duration");
  status->add_flag("--json", status_json, "Print runs with their jobs and instances as JSON");

  OffersQuery offers_query;
  auto* offers = app.add_subcommand("offers", "List machines a provider offers, ranked as `ferry run` ranks them");
  offers->add_option("--provider", offers_query.provider, "vast, runpod, fly or local")->default_str("local");
  offers->add_option("--gpu", offers_query.gpu_names, "GPU model wanted (repeatable), e.g. RTX_4090");
  offers->add_option("--gpu-memory", offers_query.min_gpu_memory, "Least memory per GPU, e.g. 16GB");
  offers->add_flag("--cpu", offers_query.cpu_only, "Machines without a GPU");
  offers->add_option("--max-price", offers_query.max_price, "Most dollars per hour")->check(CLI::PositiveNumber);
  offers->add_flag("--spot", offers_query.spot, "Interruptible machines (bid prices)");
  offers->add_option("--limit", offers_query.limit, "Rows shown in the table")->capture_default_str();
  offers->add_flag("--json", offers_query.json, "Print every offer as JSON");

  std::string down_run;
  bool down_all = false;
  auto* down = app.add_subcommand("down", "Stop the instances of a run that are still up (e.g. after --keep)");
  down->add_option("RUN", down_run, "Run id (see `ferry status`)");
  down->add_flag("--all", down_all, "Every run");

  GcOptions gc_options;
  auto* gc = app.add_subcommand(
      "gc", "Find instances labelled ferry: at every provider whose credential is set that no running ferry owns, "
            "and destroy them");
  gc->add_flag("-y,--yes", gc_options.yes, "Destroy without asking");
  gc->add_option("--provider", gc_options.providers, "Only this provider (repeatable)");

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
  if (separate->parsed()) {
    for (std::size_t start = 0; start <= separate_stems.size();) {
      auto comma = separate_stems.find(',', start);
      if (comma == std::string::npos) comma = separate_stems.size();
      if (comma > start) separate_options.stems.push_back(separate_stems.substr(start, comma - start));
      start = comma + 1;
    }
    if (!separate_output.empty()) separate_options.output = separate_output;
    return to_int(run_separate_files(separate_options));
  }
  if (generate->parsed()) {
    if (!generate_output.empty()) generate_options.output = generate_output;
    return to_int(run_generate_command(generate_options));
  }
  if (status->parsed()) return to_int(show_status(status_json));
  if (offers->parsed()) return to_int(show_offers(offers_query));
  if (down->parsed()) {
    if (down_run.empty() == !down_all) {
      std::fprintf(stderr, "error: give a run id or --all (not both); `ferry status` lists the runs\n");
      return to_int(ExitCode::usage);
    }
    return to_int(take_down(down_run));
  }
  if (gc->parsed()) return to_int(collect_garbage(gc_options));
  return to_int(ExitCode::usage);
}

}  // namespace ferry::controller
