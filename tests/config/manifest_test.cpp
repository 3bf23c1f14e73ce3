#include "config/manifest.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace ferry::config {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

const fs::path kFile = "/projects/audio/stems.yaml";

Result<Manifest> parse(std::string_view yaml) { return parse_manifest(yaml, kFile); }

// A rejected manifest: the code, the message's leading "file:line:column: "
// (and field path), `field`, and the hint that tells the user what to do.
void expect_rejected(std::string_view yaml, std::string_view location, std::string_view field, std::string_view hint,
                     ErrorCode code = ErrorCode::invalid_argument) {
  SCOPED_TRACE(std::string(yaml));
  auto result = parse(yaml);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, code);
  EXPECT_EQ(result.error().field, field);
  std::string prefix = kFile.string() + ":" + std::string(location) + ": ";
  if (!field.empty()) prefix += std::string(field) + ": ";
  EXPECT_EQ(result.error().message.rfind(prefix, 0), 0u) << result.error().message;
  EXPECT_NE(result.error().message.find(std::string(hint)), std::string::npos) << result.error().message;
}

constexpr std::string_view kJobs = "jobs:\n  - convert: {inputs: [a.wav]}\n";

std::string with_jobs(std::string_view settings) { return std::string(settings) + std::string(kJobs); }

TEST(ParseManifest, ReadsEveryTopLevelSetting) {
  auto manifest = parse(R"(name: stems
provider: vast
instances: 3
resources:
  gpu: {memory: 24GB..80GB, count: 1..2, name: [RTX_4090, A100]}
  disk: 40GB
  max_price: $0.50
  spot: true
image: ghcr.io/example/ferry-agent:cuda
idle_timeout: 10m
max_duration: 2h
budget: 3.00
output: ./out/here
jobs:
  - convert: {inputs: [talk.mp4], format: flac}
)");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->file, kFile);
  EXPECT_EQ(manifest->base_dir, fs::path("/projects/audio"));
  EXPECT_EQ(manifest->name, "stems");
  EXPECT_EQ(manifest->provider, "vast");
  EXPECT_EQ(manifest->instances, 3);
  ASSERT_TRUE(manifest->resources.gpu);
  EXPECT_EQ(manifest->resources.gpu->memory_bytes.min, 24'000'000'000ull);
  EXPECT_EQ(manifest->resources.gpu->memory_bytes.max, 80'000'000'000ull);
  EXPECT_EQ(manifest->resources.gpu->count.min, 1.0);
  EXPECT_EQ(manifest->resources.gpu->count.max, 2.0);
  EXPECT_EQ(manifest->resources.gpu->names, (std::vector<std::string>{"RTX_4090", "A100"}));
  EXPECT_EQ(manifest->resources.disk_bytes, 40'000'000'000ull);
  EXPECT_EQ(manifest->resources.max_price_per_hour, 0.5);
  EXPECT_TRUE(manifest->resources.spot);
  EXPECT_EQ(manifest->image, "ghcr.io/example/ferry-agent:cuda");
  EXPECT_EQ(manifest->idle_timeout, milliseconds(600'000));
  EXPECT_EQ(manifest->max_duration, milliseconds(7'200'000));
  EXPECT_EQ(manifest->budget, 3.0);
  EXPECT_EQ(manifest->output, fs::path("/projects/audio/out/here"));
  ASSERT_EQ(manifest->jobs.size(), 1u);
  EXPECT_EQ(std::get<ConvertParams>(manifest->jobs[0].params).format, AudioFormat::flac);
}

TEST(ParseManifest, FillsDefaultsForEverythingButJobs) {
  auto manifest = parse(kJobs);
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->name, "stems");  // the file's stem
  EXPECT_EQ(manifest->provider, "local");
  EXPECT_EQ(manifest->instances, 1);
  EXPECT_FALSE(manifest->resources.gpu);
  EXPECT_FALSE(manifest->resources.disk_bytes);
  EXPECT_FALSE(manifest->resources.max_price_per_hour);
  EXPECT_FALSE(manifest->resources.spot);
  EXPECT_EQ(manifest->image, "");
  EXPECT_FALSE(manifest->idle_timeout);
  EXPECT_FALSE(manifest->max_duration);
  EXPECT_FALSE(manifest->budget);
  EXPECT_EQ(manifest->output, fs::path("/projects/audio/results"));
}

TEST(ParseManifest, DerivesASafeDefaultNameFromTheFileName) {
  auto manifest = parse_manifest(kJobs, "/tmp/my stems (v2).yaml");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->name, "my-stems--v2-");
}

TEST(ParseManifest, ResolvesARelativeManifestAgainstTheCurrentFolder) {
  auto manifest = parse_manifest(kJobs, "sub/stems.yaml");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->file, fs::current_path() / "sub/stems.yaml");
  EXPECT_EQ(manifest->base_dir, fs::current_path() / "sub");
  EXPECT_EQ(manifest->output, fs::current_path() / "sub/results");
}

TEST(ParseManifest, KeepsAnAbsoluteOutputFolderAndNormalisesARelativeOne) {
  auto absolute = parse(with_jobs("output: /data/out\n"));
  ASSERT_TRUE(absolute) << absolute.error().message;
  EXPECT_EQ(absolute->output, fs::path("/data/out"));
  auto relative = parse(with_jobs("output: ../shared/./out\n"));
  ASSERT_TRUE(relative) << relative.error().message;
  EXPECT_EQ(relative->output, fs::path("/projects/shared/out"));
}

TEST(ParseManifest, ReadsAConvertJobWithEverySetting) {
  auto manifest = parse(R"(jobs:
  - convert: {inputs: [talk.mp4, "songs/*.wav", https://example.com/a.mp3], format: mp3, mono: true,
              sample_rate: 44100, bitrate: 192k, segment: 5m}
  - convert:
      inputs:
        - b.flac
      cut_points: [300, 10m, 1h0.5s]
      bitrate: 128
      format: mp3
)");
  ASSERT_TRUE(manifest) << manifest.error().message;
  ASSERT_EQ(manifest->jobs.size(), 2u);

  const auto& first = manifest->jobs[0];
  EXPECT_EQ(first.where.to_string(), kFile.string() + ":2:5");
  ASSERT_EQ(first.inputs.size(), 3u);
  EXPECT_EQ(first.inputs[0].kind, InputSource::Kind::path);
  EXPECT_EQ(first.inputs[0].text, "talk.mp4");
  EXPECT_EQ(first.inputs[0].where.to_string(), kFile.string() + ":2:24");
  EXPECT_EQ(first.inputs[1].kind, InputSource::Kind::path);
  EXPECT_EQ(first.inputs[1].text, "songs/*.wav");
  EXPECT_EQ(first.inputs[2].kind, InputSource::Kind::url);
  EXPECT_EQ(first.inputs[2].text, "https://example.com/a.mp3");
  EXPECT_EQ(first.inputs[2].where.line, 2);
  EXPECT_EQ(first.inputs[2].where.column, 49);
  const auto& params = std::get<ConvertParams>(first.params);
  EXPECT_EQ(params.format, AudioFormat::mp3);
  EXPECT_TRUE(params.mono);
  EXPECT_EQ(params.sample_rate, 44100);
  EXPECT_EQ(params.bitrate_kbps, 192);
  EXPECT_EQ(params.segment_s, 300.0);
  EXPECT_TRUE(params.cut_points_s.empty());

  const auto& second = manifest->jobs[1];
  EXPECT_EQ(second.where.to_string(), kFile.string() + ":4:5");
  ASSERT_EQ(second.inputs.size(), 1u);
  EXPECT_EQ(second.inputs[0].text, "b.flac");
  EXPECT_EQ(second.inputs[0].where.to_string(), kFile.string() + ":6:11");
  const auto& cuts = std::get<ConvertParams>(second.params);
  EXPECT_EQ(cuts.cut_points_s, (std::vector<double>{300, 600, 3600.5}));
  EXPECT_EQ(cuts.bitrate_kbps, 128);
  EXPECT_EQ(cuts.segment_s, std::nullopt);
  EXPECT_FALSE(cuts.mono);
  EXPECT_EQ(cuts.sample_rate, std::nullopt);
}

TEST(ParseManifest, UsesConvertDefaults) {
  auto manifest = parse(kJobs);
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(std::get<ConvertParams>(manifest->jobs[0].params), ConvertParams{});
}

TEST(ParseManifest, ReadsASingleGpuNameAndAnOpenMemoryRange) {
  auto manifest = parse(with_jobs("provider: runpod\nresources:\n  gpu: {memory: 16GB.., name: A100}\n"));
  ASSERT_TRUE(manifest) << manifest.error().message;
  ASSERT_TRUE(manifest->resources.gpu);
  EXPECT_EQ(manifest->resources.gpu->memory_bytes.min, 16'000'000'000ull);
  EXPECT_EQ(manifest->resources.gpu->memory_bytes.max, std::nullopt);
  EXPECT_EQ(manifest->resources.gpu->count.min, 1.0);  // default: one GPU
  EXPECT_EQ(manifest->resources.gpu->count.max, 1.0);
  EXPECT_EQ(manifest->resources.gpu->names, (std::vector<std::string>{"A100"}));
}

TEST(ParseManifest, ReadsAnEmptyGpuMapAsAnyGpu) {
  auto manifest = parse(with_jobs("resources:\n  gpu:\n"));
  ASSERT_TRUE(manifest) << manifest.error().message;
  ASSERT_TRUE(manifest->resources.gpu);
  EXPECT_EQ(manifest->resources.gpu->memory_bytes.min, std::nullopt);
  EXPECT_TRUE(manifest->resources.gpu->names.empty());
}

TEST(ParseManifest, AllowsCpuWorkOnFly) {
  auto manifest = parse(with_jobs("provider: fly\nresources: {disk: 10GB}\n"));
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->provider, "fly");
  EXPECT_FALSE(manifest->resources.gpu);
}

TEST(ParseManifest, RejectsATypoInAKeyWithASuggestion) {
  expect_rejected(with_jobs("resourses: {disk: 40GB}\n"), "1:1", "resourses",
                  "unknown key 'resourses' (did you mean 'resources'?)");
  expect_rejected(with_jobs("resources:\n  gpu: {memroy: 16GB..}\n"), "2:9", "resources.gpu.memroy",
                  "did you mean 'memory'?");
  expect_rejected("jobs:\n  - convert: {inputs: [a.wav], bitrat: 192}\n", "2:32", "jobs[0].convert.bitrat",
                  "did you mean 'bitrate'?");
  expect_rejected(with_jobs("colour: red\n"), "1:1", "colour", "expected one of: name, provider, instances");
}

TEST(ParseManifest, SaysWhereAMisplacedResourceKeyBelongs) {
  expect_rejected(with_jobs("max_price: 0.5\n"), "1:1", "max_price",
                  "'max_price' belongs under resources:, like `resources: {max_price: ...}`");
}

TEST(ParseManifest, RejectsDuplicateKeys) {
  expect_rejected(with_jobs("name: a\nname: b\n"), "2:1", "name",
                  "duplicate key 'name' (first given at /projects/audio/stems.yaml:1:1)");
  expect_rejected("jobs:\n  - convert: {inputs: [a.wav], mono: true, mono: false}\n", "2:44", "jobs[0].convert.mono",
                  "duplicate key 'mono' (first given at /projects/audio/stems.yaml:2:32)");
}

TEST(ParseManifest, RejectsBadSizesAndRangesShowingWhatWasFound) {
  auto yaml = with_jobs("provider: vast\nresources:\n  gpu:\n    memory: 16 gigs\n");
  expect_rejected(yaml, "4:13", "resources.gpu.memory", "");
  EXPECT_EQ(parse(yaml).error().message,
            "/projects/audio/stems.yaml:4:13: resources.gpu.memory: expected a size range like 16GB.. or 24GB..80GB, "
            "got \"16 gigs\"");
  expect_rejected(with_jobs("resources:\n  gpu: {memory: 80GB..24GB}\n"), "2:17", "resources.gpu.memory",
                  "minimum above its maximum");
  expect_rejected(with_jobs("resources:\n  gpu: {memory: [16GB]}\n"), "2:17", "resources.gpu.memory",
                  "expected a size range like 16GB.. or 24GB..80GB, got a list");
  expect_rejected(with_jobs("resources: {disk: lots}\n"), "1:19", "resources.disk", "expected a size like 40GB");
  expect_rejected(with_jobs("resources: {disk: 0}\n"), "1:19", "resources.disk", "above 0");
}

TEST(ParseManifest, RejectsGpuCountsThatAreNotWholeAndPositive) {
  for (std::string_view count : {"0", "0.5", "1..2.5", "2..1", "lots"})
    expect_rejected(with_jobs("resources:\n  gpu: {count: \"" + std::string(count) + "\"}\n"), "2:16",
                    "resources.gpu.count", "expected a whole number of GPUs from 1, like 1 or 1..4");
}

TEST(ParseManifest, RejectsBadGpuNames) {
  expect_rejected(with_jobs("resources:\n  gpu: {name: [A100, {x: 1}]}\n"), "2:22", "resources.gpu.name[1]",
                  "expected a GPU name like RTX_4090, or a list of them, got a map");
  expect_rejected(with_jobs("resources:\n  gpu: {name: \"\"}\n"), "2:15", "resources.gpu.name", "got \"\"");
}

TEST(ParseManifest, RejectsGpusOnFly) {
  expect_rejected(with_jobs("provider: fly\nresources:\n  gpu: {memory: 16GB..}\n"), "3:8", "resources.gpu",
                  "Fly retired its GPU machines on 2026-08-01 and serves CPU work only");
}

TEST(ParseManifest, RejectsUnknownProvidersWithASuggestion) {
  expect_rejected(with_jobs("provider: vastai\n"), "1:11", "provider",
                  "unknown provider 'vastai' (did you mean 'vast'?)");
  expect_rejected(with_jobs("provider: aws\n"), "1:11", "provider", "expected one of: vast, runpod, fly, local");
}

TEST(ParseManifest, RejectsInstanceCountsOutsideOneTo256) {
  expect_rejected(with_jobs("instances: 0\n"), "1:12", "instances",
                  "expected a number of instances from 1 to 256, got \"0\"");
  expect_rejected(with_jobs("instances: 257\n"), "1:12", "instances", "from 1 to 256");
  expect_rejected(with_jobs("instances: two\n"), "1:12", "instances", "expected an integer, got \"two\"");
  expect_rejected(with_jobs("instances: 99999999999999999999\n"), "1:12", "instances", "out of range");
  expect_rejected(with_jobs("instances: 1.5\n"), "1:12", "instances", "expected an integer");
}

TEST(ParseManifest, RejectsNamesThatAreNotSafeAsLabels) {
  expect_rejected(with_jobs("name: my stems\n"), "1:7", "name", "letters, digits, '.', '_' or '-'");
  expect_rejected(with_jobs("name: [a]\n"), "1:7", "name", "got a list");
}

TEST(ParseManifest, RejectsZeroOrNegativeLimits) {
  expect_rejected(with_jobs("budget: 0\n"), "1:9", "budget", "expected more than $0; leave budget out for no limit");
  expect_rejected(with_jobs("budget: -3\n"), "1:9", "budget", "cannot be negative");
  expect_rejected(with_jobs("budget: lots\n"), "1:9", "budget", "expected an amount of dollars like 3.00");
  expect_rejected(with_jobs("resources: {max_price: 0.00}\n"), "1:24", "resources.max_price", "more than $0");
  expect_rejected(with_jobs("idle_timeout: 0\n"), "1:15", "idle_timeout", "longer than 0");
  expect_rejected(with_jobs("max_duration: 0s\n"), "1:15", "max_duration", "longer than 0");
  expect_rejected(with_jobs("max_duration: -1h\n"), "1:15", "max_duration", "cannot be negative");
  expect_rejected(with_jobs("idle_timeout: soon\n"), "1:15", "idle_timeout", "expected a duration like 90s");
}

TEST(ParseManifest, RejectsWrongTypes) {
  expect_rejected(with_jobs("resources: [gpu]\n"), "1:12", "resources",
                  "expected a map with keys gpu, disk, max_price, spot, got a list");
  expect_rejected(with_jobs("resources: {spot: yes}\n"), "1:19", "resources.spot",
                  "expected true or false, got \"yes\"");
  expect_rejected(with_jobs("image: {a: 1}\n"), "1:8", "image", "expected an image reference");
  expect_rejected(with_jobs("output:\n"), "1:1", "output", "expected a folder like ./results, got nothing");
}

TEST(ParseManifest, RejectsMissingEmptyOrMalformedJobs) {
  expect_rejected("name: x\n", "1:1", "jobs", "missing; add a list of jobs");
  expect_rejected("jobs: []\n", "1:7", "jobs", "expected a list of jobs");
  expect_rejected("jobs: {convert: {inputs: [a]}}\n", "1:7", "jobs", "got a map");
  expect_rejected("jobs:\n  - {}\n", "2:5", "jobs[0]",
                  "expected a job like `convert: {inputs: [talk.mp4]}`, got an empty map");
  expect_rejected("jobs:\n  - convert\n", "2:5", "jobs[0]", "expected a job like `convert: {inputs: [talk.mp4]}`");
  expect_rejected("jobs:\n  - convert:\n    inputs: [a.wav]\n", "2:5", "jobs[0]",
                  "got 2 keys (convert, inputs); indent a job's settings under its kind");
}

TEST(ParseManifest, RejectsUnknownJobKindsWithASuggestion) {
  expect_rejected("jobs:\n  - convrt: {inputs: [a.wav]}\n", "2:5", "jobs[0].convrt",
                  "unknown job kind 'convrt' (did you mean 'convert'?)");
}

TEST(ParseManifest, ReadsALoopEntryWithOneInput) {
  auto manifest = parse("jobs:\n  - loop: {input: results/track.mp3, duration: 2h, format: wav, crossfade: 5s, "
                        "fade: 10s, fade_in: 1s, sample_rate: 48000}\n");
  ASSERT_TRUE(manifest) << manifest.error().message;
  ASSERT_EQ(manifest->jobs.size(), 1u);
  const auto& job = manifest->jobs[0];
  ASSERT_EQ(job.inputs.size(), 1u);
  EXPECT_EQ(job.inputs[0].text, "results/track.mp3");
  EXPECT_EQ(job.inputs[0].kind, InputSource::Kind::path);
  const auto& params = std::get<LoopParams>(job.params);
  EXPECT_EQ(params.duration_s, 7200);
  EXPECT_EQ(params.format, AudioFormat::wav);
  EXPECT_EQ(params.crossfade_s, 5);
  EXPECT_EQ(params.fade_in_s, 1) << "fade_in overrides fade";
  EXPECT_EQ(params.fade_out_s, 10) << "fade sets the fade-out";
  EXPECT_EQ(params.sample_rate, 48000);
}

TEST(ParseManifest, LoopDefaultsToFlacAndTakesAUrl) {
  auto manifest = parse("jobs:\n  - loop: {input: \"https://example.com/a.mp3\", duration: 90m}\n");
  ASSERT_TRUE(manifest) << manifest.error().message;
  const auto& params = std::get<LoopParams>(manifest->jobs[0].params);
  EXPECT_EQ(params.format, AudioFormat::flac);
  EXPECT_EQ(params.duration_s, 5400);
  EXPECT_EQ(params.fade_out_s, std::nullopt);
  EXPECT_EQ(manifest->jobs[0].inputs[0].kind, InputSource::Kind::url);
}

TEST(ParseManifest, RejectsBadLoopDurationsWithClearErrors) {
  expect_rejected("jobs:\n  - loop: {input: a.wav, duration: 0}\n", "2:36", "jobs[0].loop.duration",
                  "expected a loop length above 0, like 2h or 30m, got 0s");
  expect_rejected("jobs:\n  - loop: {input: a.wav, duration: -1h}\n", "2:36", "jobs[0].loop.duration", "negative");
  expect_rejected("jobs:\n  - loop: {input: a.wav, duration: 11h}\n", "2:36", "jobs[0].loop.duration",
                  "11h is over the 10-hour limit");
  expect_rejected("jobs:\n  - loop: {input: a.wav, duration: forever}\n", "2:36", "jobs[0].loop.duration",
                  "got \"forever\"");
  expect_rejected("jobs:\n  - loop: {input: a.wav}\n", "2:11", "jobs[0].loop.duration",
                  "missing; give the length of the loop, like `duration: 2h`");
}

TEST(ParseManifest, RejectsBadLoopInputsAndFades) {
  expect_rejected("jobs:\n  - loop: {duration: 1h}\n", "2:11", "jobs[0].loop.input", "missing; name the track to loop");
  expect_rejected("jobs:\n  - loop: {input: [a.wav, b.wav], duration: 1h}\n", "2:19", "jobs[0].loop.input",
                  "a loop takes one input");
  expect_rejected("jobs:\n  - loop: {input: a.wav, duration: 1m, fade: 2m}\n", "2:46", "jobs[0].loop.fade",
                  "a fade of 2m does not fit in a loop of 1m");
  expect_rejected("jobs:\n  - loop: {input: a.wav, duration: 1m, crossfade: 1m}\n", "2:51", "jobs[0].loop.crossfade",
                  "expected a crossfade from 10ms to 30s");
  expect_rejected("jobs:\n  - loop: {input: a.wav, duration: 1m, bitrate: 128}\n", "2:49", "jobs[0].loop.bitrate",
                  "bitrate applies only to mp3 output");
  expect_rejected("jobs:\n  - loop: {inputs: [a.wav], duration: 1m}\n", "2:12", "jobs[0].loop.inputs",
                  "did you mean 'input'?");
}

TEST(ParseManifest, RejectsBadConvertInputs) {
  expect_rejected("jobs:\n  - convert: {format: mp3}\n", "2:14", "jobs[0].convert.inputs",
                  "missing; list the files to convert");
  expect_rejected("jobs:\n  - convert: {inputs: []}\n", "2:23", "jobs[0].convert.inputs",
                  "expected a list of files, globs or URLs like [talk.mp4, \"songs/*.wav\"], got an empty list");
  expect_rejected("jobs:\n  - convert: {inputs: a.wav}\n", "2:23", "jobs[0].convert.inputs", "got \"a.wav\"");
  expect_rejected("jobs:\n  - convert: {inputs: [a.wav, ftp://h/b.wav]}\n", "2:31", "jobs[0].convert.inputs[1]",
                  "expected an http:// or https:// URL (other schemes cannot be fetched), got \"ftp://h/b.wav\"");
  expect_rejected("jobs:\n  - convert: {inputs: [\"\"]}\n", "2:24", "jobs[0].convert.inputs[0]",
                  "expected a file, glob or URL");
}

TEST(ParseManifest, RejectsBadConvertSettingsAtTheirLocation) {
  expect_rejected("jobs:\n  - convert: {inputs: [a], format: ogg}\n", "2:36", "jobs[0].convert.format",
                  "unknown format 'ogg' (expected one of: wav, wav-f32, flac, mp3)");
  expect_rejected("jobs:\n  - convert: {inputs: [a], bitrate: 192}\n", "2:37", "jobs[0].convert.bitrate",
                  "bitrate applies only to mp3 output, but format is wav; remove it or set format to mp3");
  expect_rejected("jobs:\n  - convert: {inputs: [a], format: mp3, bitrate: fast}\n", "2:50", "jobs[0].convert.bitrate",
                  "expected a bitrate in kbps like 192 or 192k, got \"fast\"");
  expect_rejected("jobs:\n  - convert: {inputs: [a], format: mp3, bitrate: 500k}\n", "2:50", "jobs[0].convert.bitrate",
                  "from 32 to 320 kbps");
  expect_rejected("jobs:\n  - convert: {inputs: [a], sample_rate: 7000}\n", "2:41", "jobs[0].convert.sample_rate",
                  "expected a sample rate in Hz from 8000 to 192000");
  expect_rejected("jobs:\n  - convert: {inputs: [a], mono: 1}\n", "2:34", "jobs[0].convert.mono",
                  "expected true or false");
  expect_rejected("jobs:\n  - convert: {inputs: [a], segment: 0.05}\n", "2:37", "jobs[0].convert.segment",
                  "at least 0.1 s");
  expect_rejected("jobs:\n  - convert: {inputs: [a], segment: often}\n", "2:37", "jobs[0].convert.segment",
                  "expected a duration like 90s");
}

TEST(ParseManifest, RejectsCutPointsOutOfOrderAtTheElement) {
  expect_rejected("jobs:\n  - convert: {inputs: [a], cut_points: [10m, 300]}\n", "2:46",
                  "jobs[0].convert.cut_points[1]", "strictly ascending, but 300 follows 600");
  expect_rejected("jobs:\n  - convert: {inputs: [a], cut_points: [0]}\n", "2:41", "jobs[0].convert.cut_points[0]",
                  "after 0 s");
  expect_rejected("jobs:\n  - convert: {inputs: [a], cut_points: [1, x]}\n", "2:44", "jobs[0].convert.cut_points[1]",
                  "expected a duration like 90s");
  expect_rejected("jobs:\n  - convert: {inputs: [a], cut_points: 300}\n", "2:40", "jobs[0].convert.cut_points",
                  "expected a list of times like [300, 10m]");
}

TEST(ParseManifest, RejectsSegmentTogetherWithCutPoints) {
  expect_rejected("jobs:\n  - convert: {inputs: [a], segment: 5m, cut_points: [300]}\n", "2:53",
                  "jobs[0].convert.cut_points", "segment and cut_points cannot be combined");
}

TEST(ParseManifest, ReportsYamlSyntaxErrorsWithTheirLocation) {
  expect_rejected("jobs: [\n", "2:1", "", "YAML syntax error");
  expect_rejected("name: a: b\njobs: []\n", "1:8", "", "YAML syntax error: illegal map value");
  expect_rejected("name: *anchor\n", "1:7", "", "YAML syntax error");
  expect_rejected("jobs:\n\t- convert: {inputs: [a]}\n", "2:2", "", "indent with spaces: YAML does not allow tabs");
}

TEST(ParseManifest, RejectsNestingDeepEnoughToExhaustTheParser) {
  expect_rejected("jobs: " + std::string(5000, '['), "1:1", "", "nested too deeply");
}

TEST(ParseManifest, RejectsAnEmptyManifest) {
  expect_rejected("", "1:1", "", "the manifest is empty; it needs at least a list of jobs");
  expect_rejected("# only a comment\n\n", "1:1", "", "the manifest is empty");
}

TEST(ParseManifest, RejectsAManifestThatIsNotAMap) {
  expect_rejected("- convert: {inputs: [a]}\n", "1:1", "", "expected a map with keys name, provider");
  expect_rejected("just text\n", "1:1", "", "got \"just text\"");
}

TEST(ParseManifest, RejectsASecondDocument) {
  expect_rejected(std::string(kJobs) + "---\nname: b\n", "4:1", "", "found a second one");
}

TEST(ParseManifest, RejectsManifestsOverOneMebibyte) {
  std::string huge = std::string(kJobs) + "# " + std::string(1 << 20, 'x') + "\n";
  expect_rejected(huge, "1:1", "", "over the 1 MiB limit", ErrorCode::resource_exhausted);
}

class LoadManifest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ferry-config-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  fs::path dir_;
};

TEST_F(LoadManifest, ReadsAFileAndResolvesPathsAgainstItsFolder) {
  auto path = write("job.yaml", std::string(kJobs) + "output: out\n");
  auto manifest = load_manifest(path);
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->file, path);
  EXPECT_EQ(manifest->base_dir, dir_);
  EXPECT_EQ(manifest->name, "job");
  EXPECT_EQ(manifest->output, dir_ / "out");
}

TEST_F(LoadManifest, ReportsErrorsWithThePathAsGiven) {
  auto path = write("bad.yaml", "jobs: []\n");
  auto manifest = load_manifest(path);
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().message.rfind(path.string() + ":1:7: jobs: ", 0), 0u) << manifest.error().message;
}

TEST_F(LoadManifest, RejectsAMissingFile) {
  auto manifest = load_manifest(dir_ / "nope.yaml");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code, ErrorCode::not_found);
  EXPECT_NE(manifest.error().message.find("nope.yaml: no such manifest; check the path"), std::string::npos);
}

TEST_F(LoadManifest, RejectsAFolder) {
  auto manifest = load_manifest(dir_);
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(manifest.error().message.find("not a file"), std::string::npos);
}

TEST_F(LoadManifest, RejectsAFileOverOneMebibyteWithoutParsingIt) {
  auto path = write("big.yaml", std::string((1 << 20) + 1, '['));
  auto manifest = load_manifest(path);
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code, ErrorCode::resource_exhausted);
  EXPECT_NE(manifest.error().message.find("over the 1 MiB limit"), std::string::npos) << manifest.error().message;
}

TEST(LoadManifestExample, ParsesTheShippedDemoManifest) {
  auto manifest = load_manifest(fs::path(FERRY_SOURCE_DIR) / "examples/demo.yaml");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->name, "demo");
  EXPECT_EQ(manifest->provider, "local");
  EXPECT_EQ(manifest->output, fs::path(FERRY_SOURCE_DIR) / "examples/results");
  ASSERT_EQ(manifest->jobs.size(), 2u);
  EXPECT_EQ(manifest->jobs[0].inputs.size(), 2u);
  EXPECT_EQ(std::get<ConvertParams>(manifest->jobs[0].params).bitrate_kbps, 192);
  EXPECT_EQ(std::get<ConvertParams>(manifest->jobs[1].params).segment_s, 2.0);
}

}  // namespace
}  // namespace ferry::config
