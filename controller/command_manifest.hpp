#pragma once
// The commands that stand for a one-job manifest (`ferry separate`,
// `ferry generate`) write it to a temporary file and run it like
// `ferry run`, so they share every guarantee of a run (state store,
// teardown, progress, resumable downloads).

#include <cstdio>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "common/error.hpp"
#include "controller/exit_codes.hpp"
#include "controller/run.hpp"

namespace ferry::controller {

/// Writes `yaml` to a temporary manifest, runs it with `options` (its
/// manifest path is replaced) and removes the file. `command` names the
/// command in messages ("ferry generate").
ExitCode run_command_manifest(std::string_view command, const std::string& yaml, RunOptions options, std::FILE* out,
                              std::FILE* err);

/// Opens the manifest of a one-job command in `yaml` (an open YAML map):
/// its name, provider, one GPU on cloud providers and the output folder made
/// absolute against `cwd`. The caller adds `jobs:` and closes the map.
void begin_command_manifest(YAML::Emitter& yaml, std::string_view name, const std::string& provider,
                            const std::filesystem::path& output, const std::filesystem::path& cwd);

/// An error of a manifest the command generated, without the location in
/// that file (which the user never saw): "jobs[0].generate.duration: ...".
std::string without_manifest_location(const Error& error, const std::filesystem::path& manifest);

/// A local path made absolute against `cwd`; http(s) URLs unchanged.
std::string absolute_input(const std::string& file, const std::filesystem::path& cwd);

}  // namespace ferry::controller
