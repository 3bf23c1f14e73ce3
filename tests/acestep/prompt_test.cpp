// Prompt assembly: byte-exact against upstream's templates (the fixture's
// prompts were written by upstream's own format strings), the N/A and
// instrumental rules, every refused request, and the tokenized prompts with
// upstream's truncation.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "agent/models/acestep/prompt_builder.hpp"
#include "tests/acestep/text_fixtures.hpp"

namespace ferry::acestep {
namespace {

using nlohmann::json;

json fixture_tokens() { return testing::fixture_prompts(); }

PromptRequest pop_rock() {
  PromptRequest request;
  request.caption = "Upbeat pop rock with driving guitars";
  request.lyrics = "[Verse 1]\nHello";
  request.language = "en";
  request.duration_s = 30;
  request.bpm = 120;
  request.key = "C major";
  request.time_signature = 4;
  return request;
}

PromptTexts build(const PromptRequest& request) {
  auto texts = build_prompts(request);
  if (!texts) throw std::runtime_error(texts.error().describe());
  return *texts;
}

Error refusal(const PromptRequest& request) {
  auto texts = build_prompts(request);
  return texts.has_value() ? Error{ErrorCode::internal, "accepted", ""} : texts.error();
}

TEST(PromptBuilder, CaptionMatchesUpstreamsTemplateByteForByte) {
  const std::string expected =
      "# Instruction\nFill the audio semantic mask based on the given conditions:\n\n"
      "# Caption\nUpbeat pop rock with driving guitars\n\n"
      "# Metas\n- bpm: 120\n- timesignature: 4\n- keyscale: C major\n- duration: 30 seconds\n<|endoftext|>\n";
  EXPECT_EQ(build(pop_rock()).caption, expected);
  EXPECT_EQ(build(pop_rock()).caption, fixture_tokens().at("caption").at("text").get<std::string>());
}

TEST(PromptBuilder, LyricsMatchUpstreamsTemplateByteForByte) {
  PromptRequest request = pop_rock();
  request.language = "fr";
  request.lyrics =
      "[Verse 1]\nDans le monde des tutos virtuels, c'est l'unit\u00e9\n[Chorus]\n"
      "\u590f\u306e\u98a8\u304c\u982c\u3092\u306a\u3067\u308b \U0001F3B8 123";
  EXPECT_EQ(build(request).lyrics, fixture_tokens().at("lyrics").at("text").get<std::string>());
  EXPECT_EQ(build(pop_rock()).lyrics, "# Languages\nen\n\n# Lyric\n[Verse 1]\nHello<|endoftext|>");
}

TEST(PromptBuilder, InstrumentalBecomesTheInstrumentalLyric) {
  PromptRequest request = pop_rock();
  request.lyrics.clear();
  request.instrumental = true;
  EXPECT_EQ(build(request).lyrics, fixture_tokens().at("instrumental").at("text").get<std::string>());
}

TEST(PromptBuilder, NoLyricsMakesAnInstrumental) {
  PromptRequest request = pop_rock();
  for (const std::string lyrics : {"", "  \n\t"}) {
    request.lyrics = lyrics;
    EXPECT_EQ(build(request).lyrics, "# Languages\nen\n\n# Lyric\n[Instrumental]<|endoftext|>") << lyrics;
  }
}

TEST(PromptBuilder, UnsetMetadataIsWrittenAsNotAvailable) {
  PromptRequest request = pop_rock();
  request.bpm.reset();
  request.key.clear();
  request.time_signature.reset();
  request.duration_s = 185;
  EXPECT_NE(build(request).caption.find(
                "# Metas\n- bpm: N/A\n- timesignature: N/A\n- keyscale: N/A\n- duration: 185 seconds\n<|endoftext|>\n"),
            std::string::npos)
      << build(request).caption;
}

TEST(PromptBuilder, DurationIsWholeSecondsCutTowardZero) {
  PromptRequest request = pop_rock();
  for (const auto& [seconds, line] : std::vector<std::pair<double, std::string>>{
           {10.0, "- duration: 10 seconds\n"}, {30.9, "- duration: 30 seconds\n"}, {599.999, "- duration: 599 seconds\n"},
           {600.0, "- duration: 600 seconds\n"}}) {
    request.duration_s = seconds;
    EXPECT_NE(build(request).caption.find(line), std::string::npos) << seconds;
  }
}

TEST(PromptBuilder, KeysWithUnicodeAccidentalsAreKeptAsWritten) {
  PromptRequest request = pop_rock();
  request.key = "B\u266d minor";
  EXPECT_NE(build(request).caption.find("- keyscale: B\u266d minor\n"), std::string::npos);
  request.key = "F# major";
  EXPECT_NE(build(request).caption.find("- keyscale: F# major\n"), std::string::npos);
}

TEST(PromptBuilder, EachTaskHasItsInstruction) {
  PromptRequest request = pop_rock();
  request.task = GenerationTask::cover;
  EXPECT_EQ(build(request).caption.rfind("# Instruction\nGenerate audio semantic tokens based on the given conditions:\n\n", 0), 0u);
  request.task = GenerationTask::repaint;
  EXPECT_EQ(build(request).caption.rfind("# Instruction\nRepaint the mask area based on the given conditions:\n\n", 0), 0u);
}

TEST(PromptBuilder, CaptionAndLyricsAreKeptExactlyAsGiven) {
  PromptRequest request = pop_rock();
  request.caption = "  spaced\tcaption\n";
  request.lyrics = "\n[Verse]\r\nline  ";
  const PromptTexts texts = build(request);
  EXPECT_NE(texts.caption.find("# Caption\n  spaced\tcaption\n\n\n# Metas"), std::string::npos);
  EXPECT_EQ(texts.lyrics, "# Languages\nen\n\n# Lyric\n\n[Verse]\r\nline  <|endoftext|>");
}

TEST(PromptBuilder, RefusesAnEmptyCaption) {
  for (const std::string caption : {"", "   ", "\n\t"}) {
    PromptRequest request = pop_rock();
    request.caption = caption;
    const Error error = refusal(request);
    EXPECT_EQ(error.code, ErrorCode::invalid_argument);
    EXPECT_EQ(error.field, "caption");
    EXPECT_NE(error.message.find("empty"), std::string::npos) << error.message;
  }
}

TEST(PromptBuilder, RefusesTextOverTheLengthLimits) {
  PromptRequest request = pop_rock();
  request.lyrics = std::string(4096, 'a');
  EXPECT_TRUE(build_prompts(request).has_value());
  request.lyrics = std::string(4097, 'a');
  Error error = refusal(request);
  EXPECT_EQ(error.field, "lyrics");
  EXPECT_NE(error.message.find("4097"), std::string::npos) << error.message;
  // Characters, not bytes: 4096 Hangul syllables are 12 288 bytes and fine.
  request.lyrics.clear();
  for (int i = 0; i < 4096; ++i) request.lyrics += "\ud55c";
  EXPECT_TRUE(build_prompts(request).has_value());

  request = pop_rock();
  request.caption = std::string(1025, 'c');
  error = refusal(request);
  EXPECT_EQ(error.field, "caption");
  EXPECT_NE(error.message.find("1024"), std::string::npos) << error.message;
}

TEST(PromptBuilder, RefusesLyricsTogetherWithInstrumental) {
  PromptRequest request = pop_rock();
  request.instrumental = true;
  const Error error = refusal(request);
  EXPECT_EQ(error.field, "lyrics");
  EXPECT_NE(error.message.find("instrumental"), std::string::npos) << error.message;
}

TEST(PromptBuilder, RefusesUnknownLanguages) {
  for (const std::string language : {"english", "EN", "", "xx", "en "}) {
    PromptRequest request = pop_rock();
    request.language = language;
    const Error error = refusal(request);
    EXPECT_EQ(error.code, ErrorCode::invalid_argument) << language;
    EXPECT_EQ(error.field, "language");
    EXPECT_NE(error.message.find("unknown"), std::string::npos) << error.message;
  }
  for (const std::string language : {"en", "zh", "yue", "unknown", "ja", "ko"}) {
    PromptRequest request = pop_rock();
    request.language = language;
    EXPECT_TRUE(build_prompts(request).has_value()) << language;
  }
}

TEST(PromptBuilder, RefusesDurationsOutsideTenSecondsToTenMinutes) {
  for (const double seconds : {0.0, 9.99, 600.01, -30.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    PromptRequest request = pop_rock();
    request.duration_s = seconds;
    const Error error = refusal(request);
    EXPECT_EQ(error.field, "duration") << seconds;
    EXPECT_NE(error.message.find("10 minutes"), std::string::npos) << error.message;
  }
}

TEST(PromptBuilder, RefusesUnknownBpmKeyAndTimeSignature) {
  PromptRequest request = pop_rock();
  request.bpm = 29;
  EXPECT_EQ(refusal(request).field, "bpm");
  request.bpm = 301;
  EXPECT_EQ(refusal(request).field, "bpm");
  request = pop_rock();
  request.key = "H major";
  EXPECT_EQ(refusal(request).field, "key");
  request.key = "c major";
  EXPECT_EQ(refusal(request).field, "key");
  request = pop_rock();
  request.time_signature = 5;
  const Error error = refusal(request);
  EXPECT_EQ(error.field, "time_signature");
  EXPECT_NE(error.message.find("2, 3, 4 or 6"), std::string::npos) << error.message;
}

TEST(PromptBuilder, RefusesBrokenTextAndTheEndOfTextToken) {
  PromptRequest request = pop_rock();
  request.lyrics = "caf\xc3";
  Error error = refusal(request);
  EXPECT_EQ(error.field, "lyrics");
  EXPECT_NE(error.message.find("UTF-8"), std::string::npos) << error.message;
  request = pop_rock();
  request.caption = "rock<|endoftext|>";
  error = refusal(request);
  EXPECT_EQ(error.field, "caption");
  EXPECT_NE(error.message.find("<|endoftext|>"), std::string::npos) << error.message;
}

const QwenTokenizer& fixture_tokenizer() { return testing::checkpoint_tokenizer(); }

TEST(PromptTokens, AreTheFixtureIdsForTheFixturePrompts) {
  PromptRequest request = pop_rock();
  request.language = "en";
  request.lyrics.clear();
  request.instrumental = true;
  auto tokens = tokenize_prompts(fixture_tokenizer(), build(request));
  ASSERT_TRUE(tokens.has_value()) << tokens.error().describe();
  const json fixture = fixture_tokens();
  EXPECT_EQ(tokens->caption, fixture.at("caption").at("ids").get<std::vector<std::int32_t>>());
  EXPECT_EQ(tokens->lyrics, fixture.at("instrumental").at("ids").get<std::vector<std::int32_t>>());
}

TEST(PromptTokens, AreCutAtUpstreamsLimits) {
  PromptRequest request = pop_rock();
  request.lyrics.clear();
  // Digits are one token each: 4000 of them pass the character limit but
  // not the 2048-token one.
  for (int i = 0; i < 4000; ++i) request.lyrics += static_cast<char>('0' + i % 10);
  const PromptTexts texts = build(request);
  auto tokens = tokenize_prompts(fixture_tokenizer(), texts);
  ASSERT_TRUE(tokens.has_value());
  EXPECT_EQ(tokens->lyrics.size(), kLyricsMaxTokens);
  auto whole = fixture_tokenizer().encode(texts.lyrics);
  ASSERT_TRUE(whole.has_value());
  EXPECT_GT(whole->size(), kLyricsMaxTokens);
  EXPECT_TRUE(std::equal(tokens->lyrics.begin(), tokens->lyrics.end(), whole->begin()));

  request = pop_rock();
  request.caption.clear();
  for (int i = 0; i < 1000; ++i) request.caption += static_cast<char>('0' + i % 10);
  tokens = tokenize_prompts(fixture_tokenizer(), build(request));
  ASSERT_TRUE(tokens.has_value());
  EXPECT_EQ(tokens->caption.size(), kCaptionMaxTokens);
}

}  // namespace
}  // namespace ferry::acestep
